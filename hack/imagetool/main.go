// Command oci-image writes a single-layer OCI image layout from a layer tarball, with
// go-containerregistry doing the image format (layer digests, gzip, config, manifest, index).
// hack/image prepares the layer with GNU tar and packs the layout into an OCI archive; both steps
// are reproducible, so the same inputs give the same digest.
//
//	oci-image --layer layer.tar --out DIR --name REPO:TAG --created RFC3339 \
//	  --entrypoint /bin/x --cmd run --user 65532:65532 --label k=v ...
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	var labels, entrypoint, cmd, env list
	layerPath := flag.String("layer", "", "uncompressed layer tarball (required)")
	out := flag.String("out", "", "directory of the OCI image layout to write; must not exist (required)")
	name := flag.String("name", "", "image reference REPOSITORY:TAG, recorded in the index (required)")
	created := flag.String("created", "1970-01-01T00:00:00Z", "creation time (RFC 3339), fixed for reproducibility")
	user := flag.String("user", "", "user[:group] the image runs as")
	workdir := flag.String("workdir", "/", "working directory")
	historyBy := flag.String("created-by", "", "history entry of the layer")
	flag.Var(&entrypoint, "entrypoint", "entrypoint element (repeatable)")
	flag.Var(&cmd, "cmd", "default argument (repeatable)")
	flag.Var(&env, "env", "KEY=VALUE (repeatable)")
	flag.Var(&labels, "label", "KEY=VALUE image label (repeatable)")
	flag.Parse()
	if err := run(*layerPath, *out, *name, *created, *user, *workdir, *historyBy, entrypoint, cmd, env, labels); err != nil {
		fmt.Fprintf(os.Stderr, "oci-image: %v\n", err)
		os.Exit(1)
	}
}

func run(layerPath, out, name, created, user, workdir, historyBy string, entrypoint, cmd, env, labels []string) error {
	if layerPath == "" || out == "" || name == "" {
		return fmt.Errorf("--layer, --out and --name are required")
	}
	colon := strings.LastIndex(name, ":")
	if colon < 0 || strings.Contains(name[colon:], "/") {
		return fmt.Errorf("--name %q: want REPOSITORY:TAG", name)
	}
	when, err := time.Parse(time.RFC3339, created)
	if err != nil {
		return fmt.Errorf("--created: %w", err)
	}
	labelMap := map[string]string{}
	for _, kv := range labels {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return fmt.Errorf("--label %q: want KEY=VALUE", kv)
		}
		labelMap[k] = v
	}

	layer, err := tarball.LayerFromFile(layerPath, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return fmt.Errorf("reading layer: %w", err)
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:   layer,
		History: v1.History{Created: v1.Time{Time: when}, CreatedBy: historyBy},
	})
	if err != nil {
		return err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cfg = cfg.DeepCopy()
	cfg.Architecture = "amd64"
	cfg.OS = "linux"
	cfg.Created = v1.Time{Time: when}
	cfg.Config = v1.Config{
		User:       user,
		WorkingDir: workdir,
		Entrypoint: entrypoint,
		Cmd:        cmd,
		Env:        env,
		Labels:     labelMap,
	}
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		return err
	}

	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("%s exists", out)
	}
	path, err := layout.Write(out, empty.Index)
	if err != nil {
		return err
	}
	// The OCI name of the tag, and containerd's name of the whole reference, so that
	// `ctr images import` needs no --base-name.
	annotations := map[string]string{
		"org.opencontainers.image.ref.name": name[colon+1:],
		"io.containerd.image.name":          name,
	}
	if err := path.AppendImage(img, layout.WithAnnotations(annotations)); err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	// The config digest is the image ID (what `ctr images ls` and `crictl images` show).
	id, err := img.ConfigName()
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]string{"name": name, "digest": digest.String(), "id": id.String()})
}
