#!/usr/bin/env bash
# Builds the pinned Go test tools into .tools/bin, once; rebuilds a tool only when its pins change.
#
#   hack/tools.sh kube-apiserver etcd helm kube-node oci-image registry
#   hack/tools.sh zig cargo-zigbuild cargo-cyclonedx rust-target:aarch64-unknown-linux-musl
#   hack/tools.sh argocd   (Argo CD's application controller and repo server, for the GitOps tests)
#   hack/tools.sh flux     (Flux's source-controller and kustomize-controller, for the GitOps tests)
#
# kube-apiserver, etcd and kube-node (kubelet, kube-scheduler, kube-controller-manager and
# kube-proxy in one multi-call binary) come from hack/tools (k8s.io/kubernetes v1.37.2 with every
# staging module pinned, go.etcd.io/etcd/server/v3), helm from hack/helm (helm.sh/helm/v3),
# oci-image from hack/imagetool (github.com/google/go-containerregistry), registry from
# hack/registryd (github.com/distribution/distribution/v3, filesystem storage only). Product code
# is Rust; Go only builds these.
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
    registry)
      dir="$root/hack/registryd"; pkg="."
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

# The release tools that are not Go: cargo subcommands from crates.io, Zig from PyPI (its official
# wheel of the Zig release, which cargo-zigbuild uses as the C cross compiler), Rust targets from
# rustup. Pinned here; installed once into .tools/.
zig_version=0.17.1
cargo_zigbuild_version=0.24.1
cargo_cyclonedx_version=0.5.9
argocd_version=v3.2.12
flux_version=v1.9.6

cargo_tool() { # NAME VERSION
  local name=$1 version=$2
  [ "$(cat "$bin/.$name.stamp" 2>/dev/null)" = "$version" ] && [ -x "$root/.tools/cargo/bin/$name" ] && return
  echo "tools: cargo install $name $version (once)" >&2
  cargo install --quiet --locked --version "$version" --root "$root/.tools/cargo" "$name"
  echo "$version" > "$bin/.$name.stamp"
}

other() {
  case "$1" in
    zig)
      if [ "$(cat "$bin/.zig.stamp" 2>/dev/null)" != "$zig_version" ] || [ ! -x "$bin/zig" ]; then
        echo "tools: pip install ziglang==$zig_version (once)" >&2
        rm -rf "$root/.tools/zig"
        python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps --target "$root/.tools/zig" "ziglang==$zig_version"
        ln -sfn ../zig/ziglang/zig "$bin/zig"
        echo "$zig_version" > "$bin/.zig.stamp"
      fi
      ;;
    cargo-zigbuild) cargo_tool cargo-zigbuild "$cargo_zigbuild_version" ;;
    cargo-cyclonedx) cargo_tool cargo-cyclonedx "$cargo_cyclonedx_version" ;;
    argocd)
      # A copy of the pinned argo-cd module with hack/argocd's two files added, built as its own
      # main module (so its go.mod's replace directives hold): the published v3.2.12 does not
      # compile its controller without the one missing function hack/argocd supplies.
      local want; want=$(stamp_of "$root/hack/argocd/main.go" "$root/hack/argocd/validate_external_url.go" <(echo "$argocd_version"))
      [ -x "$bin/argocd" ] && [ "$(cat "$bin/.argocd.stamp" 2>/dev/null)" = "$want" ] && return
      echo "tools: building argocd $argocd_version (application controller, repo server; once, several minutes)" >&2
      local src="$root/.tools/src/argo-cd-$argocd_version" probe; probe=$(mktemp -d)
      if [ ! -f "$src/go.mod" ]; then
        local dir; dir=$(cd "$probe" && go mod init probe >/dev/null 2>&1 &&
          go mod download -json "github.com/argoproj/argo-cd/v3@$argocd_version" |
          python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
        rm -rf "$src"; mkdir -p "$(dirname "$src")"; cp -r "$dir" "$src"; chmod -R u+w "$src"
      fi
      rm -rf "$probe"
      cp "$root/hack/argocd/validate_external_url.go" "$src/util/settings/zz_mco_validate_external_url.go"
      mkdir -p "$src/cmd/mco-argocd" && cp "$root/hack/argocd/main.go" "$src/cmd/mco-argocd/main.go"
      (cd "$src" && GOFLAGS=-mod=mod go build -trimpath \
        -ldflags "-s -w -X github.com/argoproj/argo-cd/v3/common.version=${argocd_version#v}" \
        -o "$bin/argocd" ./cmd/mco-argocd)
      for name in argocd-application-controller argocd-repo-server argocd-git-ask-pass; do ln -sfn argocd "$bin/$name"; done
      echo "$want" > "$bin/.argocd.stamp"
      ;;
    flux)
      # Flux's controllers as published, each a copy of its module built as the main module: their
      # go.mod replaces the api module with ./api, which is a module of its own and not in the
      # zip, so that replace is dropped (the published api version of the same release is used).
      # source-controller pins github.com/fluxcd/pkg/artifact v0.18.3, which the module proxy
      # here refuses: v0.18.0 (a patch-level downgrade) is used in its place.
      local name
      for name in source-controller kustomize-controller; do
        local want; want=$(stamp_of <(echo "$flux_version pkg/artifact=v0.18.0"))
        [ -x "$bin/$name" ] && [ "$(cat "$bin/.$name.stamp" 2>/dev/null)" = "$want" ] && continue
        echo "tools: building Flux $name $flux_version (once, several minutes)" >&2
        local src="$root/.tools/src/$name-$flux_version" probe; probe=$(mktemp -d)
        if [ ! -f "$src/go.mod" ]; then
          local dir; dir=$(cd "$probe" && go mod init probe >/dev/null 2>&1 &&
            go mod download -json "github.com/fluxcd/$name@$flux_version" |
            python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
          rm -rf "$src"; mkdir -p "$(dirname "$src")"; cp -r "$dir" "$src"; chmod -R u+w "$src"
          (cd "$src" && go mod edit -dropreplace "github.com/fluxcd/$name/api")
          if [ "$name" = source-controller ]; then
            (cd "$src" && go mod edit -replace github.com/fluxcd/pkg/artifact=github.com/fluxcd/pkg/artifact@v0.18.0)
          fi
        fi
        rm -rf "$probe"
        (cd "$src" && GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o "$bin/$name" .)
        echo "$want" > "$bin/.$name.stamp"
      done
      ;;
    rust-target:*)
      local target=${1#rust-target:}
      rustup target list --installed 2>/dev/null | grep -qx "$target" || rustup target add "$target" >&2
      ;;
    *) return 1 ;;
  esac
}

for tool in "$@"; do other "$tool" || build "$tool"; done
