// Command argocd is the part of Argo CD the GitOps tests run: the application controller and the
// repo server (and git's ask-pass helper the repo server hands to git), chosen by the name it is
// started as, as Argo CD's own multi-call binary does. The API server, UI, Dex and the
// ApplicationSet controller are left out, which keeps the build to what the tests need.
// hack/tools.sh copies this file into a copy of the pinned argo-cd module and builds it there.
// Product code is Rust; this only builds a test tool.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	appcontroller "github.com/argoproj/argo-cd/v3/cmd/argocd-application-controller/commands"
	gitaskpass "github.com/argoproj/argo-cd/v3/cmd/argocd-git-ask-pass/commands"
	reposerver "github.com/argoproj/argo-cd/v3/cmd/argocd-repo-server/commands"
	"github.com/spf13/cobra"
)

func main() {
	var command *cobra.Command
	name := filepath.Base(os.Args[0])
	if val := os.Getenv("ARGOCD_BINARY_NAME"); val != "" {
		name = val
	}
	switch name {
	case "argocd-application-controller":
		command = appcontroller.NewCommand()
	case "argocd-repo-server":
		command = reposerver.NewCommand()
	case "argocd-git-ask-pass":
		command = gitaskpass.NewCommand()
	default:
		fmt.Fprintf(os.Stderr, "%s: start me as argocd-application-controller, argocd-repo-server or argocd-git-ask-pass (a link, or ARGOCD_BINARY_NAME)\n", name)
		os.Exit(2)
	}
	if err := command.Execute(); err != nil {
		os.Exit(1)
	}
}
