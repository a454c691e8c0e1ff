#!/usr/bin/env bash
# Builds the pinned Go test tools into .tools/bin, once; rebuilds a tool only when its pins change.
#
#   hack/tools.sh kube-apiserver etcd helm kube-node oci-image
#
# kube-apiserver, etcd and kube-node (kubelet, kube-scheduler, kube-controller-manager and
# kube-proxy in one multi-call binary) come from hack/tools (k8s.io/kubernetes v1.37.2 with every
# staging module pinned, go.etcd.io/etcd/server/v3), helm from hack/helm (helm.sh/helm/v3),
# oci-image from hack/imagetool (github.com/google/go-containerregistry). Product code is Rust; Go
# only builds these.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin="$root/.tools/bin"
mkdir -p "$bin"
k8s_version=v1.37.2

stamp_of() { cat "$@" | sha256sum | cut -c1-16; }

build() {
  local tool=$1 dir pkg ldflags=""
  case "$tool" in
    kube-apiserver|etcd|kube-node)
      dir="$root/hack/tools"; pkg="./$tool"
      ldflags="-X k8s.io/component-base/version.gitVersion=$k8s_version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37"
      ;;
    helm)
      dir="$root/hack/helm"; pkg="helm.sh/helm/v3/cmd/helm"
      # As helm's Makefile does: version, and the Kubernetes minor of its client-go for the
      # default capabilities of `helm template` and `helm lint`.
      local kminor; kminor=$(cd "$dir" && go list -m -f '{{.Version}}' k8s.io/client-go | cut -d. -f2)
      ldflags="-X helm.sh/helm/v3/internal/version.version=$(cd "$dir" && go list -m -f '{{.Version}}' helm.sh/helm/v3)"
      for pkg_var in pkg/chartutil pkg/lint/rules; do
        ldflags="$ldflags -X helm.sh/helm/v3/$pkg_var.k8sVersionMajor=1 -X helm.sh/helm/v3/$pkg_var.k8sVersionMinor=$kminor"
      done
      ;;
    oci-image)
      dir="$root/hack/imagetool"; pkg="."
      ;;
    *) echo "hack/tools.sh: unknown tool $tool" >&2; exit 2 ;;
  esac
  # A tool is rebuilt when its module's pins or its own sources change, not when a sibling's do.
  local want; want=$(stamp_of "$dir/go.mod" "$dir/go.sum" $(ls "$dir/$pkg"/*.go 2>/dev/null))
  if [ -x "$bin/$tool" ] && [ "$(cat "$bin/.$tool.stamp" 2>/dev/null)" = "$want" ]; then
    return
  fi
  echo "tools: building $tool from pinned Go modules (once; this can take several minutes)" >&2
  (cd "$dir" && GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w $ldflags" -o "$bin/$tool" "$pkg")
  echo "$want" > "$bin/.$tool.stamp"
}

for tool in "$@"; do build "$tool"; done
