// The one function argo-cd v3.2.12's application controller calls and its util/settings package
// lacks (controller/cache/info.go: `undefined: settings.ValidateExternalURL`), so the published
// version does not compile. It filters the URLs of `link.argocd.argoproj.io/*` annotations shown
// in the UI; as upstream's later versions do, only http and https URLs pass. hack/tools.sh copies
// this file into its copy of the module. Test tooling only.

package settings

import (
	"fmt"
	"net/url"
)

// ValidateExternalURL accepts absolute http and https URLs.
func ValidateExternalURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("external URL %q: want an absolute http or https URL", raw)
	}
	return nil
}
