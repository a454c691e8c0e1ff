// Command registry is CNCF Distribution's registry (github.com/distribution/distribution/v3, the
// reference OCI registry behind Docker Hub and many others) with only the filesystem storage driver
// linked in, so the build leaves out the cloud storage SDKs. It is the upstream command otherwise:
// `registry serve CONFIG`. hack/registry starts it on loopback for the release tests.
// Product code is Rust; this module only builds a test tool.
package main

import (
	"os"

	"github.com/distribution/distribution/v3/registry"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
)

func main() {
	if err := registry.RootCmd.Execute(); err != nil {
		os.Exit(1)
	}
}
