// Command oci-image writes an OCI image layout from one layer tarball per platform, and pushes such
// a layout to a registry, with go-containerregistry doing the image format (layer digests, gzip,
// config, manifest, index) and the registry protocol. hack/image prepares the layers with GNU tar
// and packs the layout into an OCI archive; both steps are reproducible, so the same inputs give the
// same digest.
//
//	oci-image --platform linux/amd64=layer.tar [--platform linux/arm64=layer.tar] --out DIR \
//	  --name REPO:TAG --created RFC3339 --entrypoint /bin/x --cmd run --user 65532:65532 --label k=v
//	oci-image push --layout DIR --ref HOST/REPO:TAG [--plain-http]
//
// With one platform the layout holds that image's manifest; with several, an image index (what
// `docker pull` and containerd resolve to the manifest of their own platform).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

// settings are what every platform's image shares.
type settings struct {
	created                  time.Time
	user, workdir, historyBy string
	entrypoint, cmd, env     []string
	labels                   map[string]string
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "push" {
		if err := push(os.Args[2:]); err != nil {
			fmt.Fprintf(os.Stderr, "oci-image push: %v\n", err)
			os.Exit(1)
		}
		return
	}
	var labels, entrypoint, cmd, env, platforms list
	flag.Var(&platforms, "platform", "OS/ARCH=LAYER: an uncompressed layer tarball for that platform (repeatable, at least one)")
	out := flag.String("out", "", "directory of the OCI image layout to write; must not exist (required)")
	ref := flag.String("name", "", "image reference REPOSITORY:TAG, recorded in the index (required)")
	created := flag.String("created", "1970-01-01T00:00:00Z", "creation time (RFC 3339), fixed for reproducibility")
	user := flag.String("user", "", "user[:group] the image runs as")
	workdir := flag.String("workdir", "/", "working directory")
	historyBy := flag.String("created-by", "", "history entry of the layer")
	flag.Var(&entrypoint, "entrypoint", "entrypoint element (repeatable)")
	flag.Var(&cmd, "cmd", "default argument (repeatable)")
	flag.Var(&env, "env", "KEY=VALUE (repeatable)")
	flag.Var(&labels, "label", "KEY=VALUE image label (repeatable)")
	flag.Parse()
	when, err := time.Parse(time.RFC3339, *created)
	if err != nil {
		fmt.Fprintf(os.Stderr, "oci-image: --created: %v\n", err)
		os.Exit(2)
	}
	s := settings{created: when, user: *user, workdir: *workdir, historyBy: *historyBy,
		entrypoint: entrypoint, cmd: cmd, env: env, labels: map[string]string{}}
	for _, kv := range labels {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			fmt.Fprintf(os.Stderr, "oci-image: --label %q: want KEY=VALUE\n", kv)
			os.Exit(2)
		}
		s.labels[k] = v
	}
	if err := build(platforms, *out, *ref, s); err != nil {
		fmt.Fprintf(os.Stderr, "oci-image: %v\n", err)
		os.Exit(1)
	}
}

// image builds one platform's single-layer image.
func image(platform v1.Platform, layerPath string, s settings) (v1.Image, error) {
	layer, err := tarball.LayerFromFile(layerPath, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("reading layer %s: %w", layerPath, err)
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:   layer,
		History: v1.History{Created: v1.Time{Time: s.created}, CreatedBy: s.historyBy},
	})
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.Architecture = platform.Architecture
	cfg.OS = platform.OS
	cfg.Created = v1.Time{Time: s.created}
	cfg.Config = v1.Config{
		User:       s.user,
		WorkingDir: s.workdir,
		Entrypoint: s.entrypoint,
		Cmd:        s.cmd,
		Env:        s.env,
		Labels:     s.labels,
	}
	return mutate.ConfigFile(img, cfg)
}

func build(platforms []string, out, ref string, s settings) error {
	if len(platforms) == 0 || out == "" || ref == "" {
		return fmt.Errorf("--platform, --out and --name are required")
	}
	colon := strings.LastIndex(ref, ":")
	if colon < 0 || strings.Contains(ref[colon:], "/") {
		return fmt.Errorf("--name %q: want REPOSITORY:TAG", ref)
	}
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("%s exists", out)
	}
	type built struct {
		Platform string `json:"platform"`
		Digest   string `json:"digest"`
		ID       string `json:"id"`
	}
	var images []built
	index := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	var single v1.Image
	for _, p := range platforms {
		spec, layerPath, ok := strings.Cut(p, "=")
		platform, err := v1.ParsePlatform(spec)
		if !ok || err != nil || platform.OS == "" || platform.Architecture == "" {
			return fmt.Errorf("--platform %q: want OS/ARCH=LAYER", p)
		}
		img, err := image(*platform, layerPath, s)
		if err != nil {
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
		images = append(images, built{Platform: platform.String(), Digest: digest.String(), ID: id.String()})
		index = mutate.AppendManifests(index, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: platform},
		})
		single = img
	}

	path, err := layout.Write(out, empty.Index)
	if err != nil {
		return err
	}
	// The OCI name of the tag, and containerd's name of the whole reference, so that
	// `ctr images import` needs no --base-name.
	annotations := layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": ref[colon+1:],
		"io.containerd.image.name":          ref,
	})
	result := map[string]any{"name": ref, "images": images}
	if len(platforms) == 1 {
		if err := path.AppendImage(single, annotations); err != nil {
			return err
		}
		result["digest"], result["id"] = images[0].Digest, images[0].ID
	} else {
		if err := path.AppendIndex(index, annotations); err != nil {
			return err
		}
		digest, err := index.Digest()
		if err != nil {
			return err
		}
		result["digest"] = digest.String()
	}
	return json.NewEncoder(os.Stdout).Encode(result)
}

// push sends the image or image index a layout names to a registry, blobs first.
func push(args []string) error {
	flags := flag.NewFlagSet("push", flag.ExitOnError)
	dir := flags.String("layout", "", "OCI image layout directory (required)")
	to := flags.String("ref", "", "where to push: HOST/REPOSITORY:TAG (required)")
	plainHTTP := flags.Bool("plain-http", false, "talk to the registry over plain HTTP (a loopback test registry)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *dir == "" || *to == "" {
		return fmt.Errorf("--layout and --ref are required")
	}
	var opts []name.Option
	if *plainHTTP {
		opts = append(opts, name.Insecure)
	}
	ref, err := name.ParseReference(*to, opts...)
	if err != nil {
		return fmt.Errorf("--ref %q: %w", *to, err)
	}
	path, err := layout.FromPath(*dir)
	if err != nil {
		return err
	}
	top, err := path.ImageIndex()
	if err != nil {
		return err
	}
	manifest, err := top.IndexManifest()
	if err != nil {
		return err
	}
	if len(manifest.Manifests) != 1 {
		return fmt.Errorf("%s names %d images; want one", *dir, len(manifest.Manifests))
	}
	desc := manifest.Manifests[0]
	if desc.MediaType.IsIndex() {
		idx, err := top.ImageIndex(desc.Digest)
		if err != nil {
			return err
		}
		if err := remote.WriteIndex(ref, idx); err != nil {
			return fmt.Errorf("pushing to %s: %w", ref, err)
		}
	} else {
		img, err := top.Image(desc.Digest)
		if err != nil {
			return err
		}
		if err := remote.Write(ref, img); err != nil {
			return fmt.Errorf("pushing to %s: %w", ref, err)
		}
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]string{"ref": ref.String(), "digest": desc.Digest.String()})
}
