#!/usr/bin/env bash
# Build the e2e toolchain from Go modules through the Go module proxy, pinned by the go.mod/go.sum files beside this
# script: kube-apiserver, kube-controller-manager, kube-scheduler and kubectl (k8s.io/kubernetes), etcd
# (go.etcd.io/etcd/server/v3), kwok (sigs.k8s.io/kwok), the pulumi CLI (github.com/pulumi/pulumi/pkg/v3) and the
# Kubernetes provider plugin pulumi-resource-kubernetes (github.com/pulumi/pulumi-kubernetes/provider/v4, built in a
# copy of the module with the go.mod/go.sum of tools/e2e/pulumi-kubernetes/ after its own `go generate` step).
#
# Binaries are cached outside the repository, one bin directory per Go version; each component is rebuilt only when
# what decides it changes (its go.mod/go.sum, its pinned versions, its recipe below), so a second run takes seconds,
# a change of one pin rebuilds one component and a fresh machine builds everything. Each build's seconds are kept in
# its stamp with its CPU seconds (tools/e2e/build.sh --times prints them).
#
#   tools/e2e/build.sh [component...]     build what is missing (all components by default); prints the bin dir
#   tools/e2e/build.sh --print-bin        print the bin dir only (no build)
#   tools/e2e/build.sh --times            print each built component's wall, user and system seconds
#   tools/e2e/build.sh --built component...  exit 0 if every one named is built (cached), 1 otherwise; builds nothing
# Components: kubernetes etcd kwok pulumi provider.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
command -v go >/dev/null || { [[ -x /usr/local/go/bin/go ]] && export PATH="/usr/local/go/bin:$PATH"; }
command -v go >/dev/null || { echo "build.sh: the Go toolchain (go) is not on PATH nor in /usr/local/go" >&2; exit 2; }
# Builds share the machine: lowest priority (E2E_NICE overrides).
NICE="${E2E_NICE:-19}"

K8S_VERSION=v1.35.4
PULUMI_VERSION=v3.274.0
# pulumi-kubernetes tags its releases at the repository root, so its provider/v4 module exists on the proxy only as
# pseudo-versions; this commit (2026-01-15, between v4.24 and v4.26) is the one the proxy serves. Its zip's hash is
# pinned here (the go.sum of the copy cannot hold the module's own hash).
PROVIDER_MODULE=github.com/pulumi/pulumi-kubernetes/provider/v4
PROVIDER_VERSION=v4.0.0-20260115033456-f47bc2d6f199
PROVIDER_SUM="h1:j2bphCf7c2YhnBrhwht2f3TNRRgcMImltUlAgzxr9H4="

# Bump a component's recipe when its build steps below change what its binaries contain.
declare -A RECIPE=([kubernetes]=1 [etcd]=1 [kwok]=1 [pulumi]=1 [provider]=1)
declare -A DIR=([kubernetes]=kubernetes [etcd]=etcd [kwok]=kwok [pulumi]=pulumi [provider]=pulumi-kubernetes)
declare -A VERSIONS=([kubernetes]=$K8S_VERSION [etcd]="" [kwok]="" [pulumi]=$PULUMI_VERSION
  [provider]="$PROVIDER_VERSION $PROVIDER_SUM")

goversion="$(go env GOVERSION)"
root="${ML_SERVING_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ml-serving-e2e}/$goversion"
bin="$root/bin"

component_key() {  # what decides a component's binaries, hashed
  local c="$1"
  { echo "$goversion ${RECIPE[$c]} ${VERSIONS[$c]}"; cat "$here/${DIR[$c]}/go.mod" "$here/${DIR[$c]}/go.sum"; } \
    | sha256sum | cut -c1-16
}

case "${1:-}" in
  --print-bin) echo "$bin"; exit 0 ;;
  --built)
    shift
    for c in "$@"; do
      [[ -n "${DIR[$c]:-}" ]] || { echo "build.sh: unknown component '$c'; allowed: ${!DIR[*]}" >&2; exit 2; }
      [[ -e "$root/stamps/$c-$(component_key "$c")" ]] || exit 1
    done
    exit 0 ;;
  --times)
    for f in "$root"/stamps/*; do [[ -e "$f" ]] && echo "$(basename "$f"): $(cat "$f")"; done; exit 0 ;;
esac

mkdir -p "$bin" "$root/stamps"
components=("$@")
[[ ${#components[@]} -gt 0 ]] || components=(kubernetes etcd kwok pulumi provider)

log() { echo "build.sh: $*" >&2; }

build_tools() {  # build_tools <dir> <ldflags>: every `tool` of tools/e2e/<dir>/go.mod into a staging dir
  local dir="$1" ldflags="$2" stage="$root/stage-$1"
  rm -rf "$stage" && mkdir -p "$stage"
  (cd "$here/$dir" && nice -n "$NICE" go build -trimpath -ldflags "$ldflags" -o "$stage/" tool)
  mv "$stage"/* "$bin/" && rmdir "$stage"
}

build_provider() {
  local src="$root/src/pulumi-kubernetes-provider" json dir sum
  json="$(cd "$root" && go mod download -json "$PROVIDER_MODULE@$PROVIDER_VERSION")"
  dir="$(sed -n 's/^\t"Dir": "\(.*\)",$/\1/p' <<<"$json")"
  sum="$(sed -n 's/^\t"Sum": "\(.*\)",$/\1/p' <<<"$json")"
  [[ -n "$dir" ]] || { log "go mod download $PROVIDER_MODULE@$PROVIDER_VERSION gave no directory: $json"; return 1; }
  [[ "$sum" == "$PROVIDER_SUM" ]] || { log "$PROVIDER_MODULE@$PROVIDER_VERSION has hash $sum, pinned $PROVIDER_SUM"; return 1; }
  rm -rf "$src" && mkdir -p "$(dirname "$src")" && cp -r "$dir" "$src" && chmod -R u+w "$src"
  # Its go.mod replaces its Go SDK with ../sdk (not part of the module): ours requires the newest published SDK whose
  # own requirements keep pulumi's pkg/v3 and sdk/v3 at the one version the provider requires (go.mod says which).
  cp "$here/pulumi-kubernetes/go.mod" "$here/pulumi-kubernetes/go.sum" "$src/"
  (
    cd "$src/cmd/pulumi-resource-kubernetes"
    export GOFLAGS=-mod=readonly
    # The provider's own generate step (its Makefile's): stamps the version into the schema and writes the
    # schema-embed.json and terraform-mapping-embed.json that main.go embeds.
    VERSION="${PROVIDER_VERSION#v}" nice -n "$NICE" go generate ./...
    nice -n "$NICE" go build -trimpath \
      -ldflags "-s -w -X $PROVIDER_MODULE/pkg/version.Version=${PROVIDER_VERSION#v}" \
      -o "$root/stage-provider" .
  )
  mv "$root/stage-provider" "$bin/pulumi-resource-kubernetes"
  rm -rf "$src"
}

build_component() {
  case "$1" in
    kubernetes)
      local v="$K8S_VERSION"
      build_tools kubernetes "-s -w \
        -X k8s.io/component-base/version.gitVersion=$v -X k8s.io/component-base/version.gitMajor=1 \
        -X k8s.io/component-base/version.gitMinor=35 -X k8s.io/component-base/version.gitTreeState=clean \
        -X k8s.io/client-go/pkg/version.gitVersion=$v -X k8s.io/client-go/pkg/version.gitMajor=1 \
        -X k8s.io/client-go/pkg/version.gitMinor=35" ;;
    etcd)
      build_tools etcd "-s -w" && mv "$bin/server" "$bin/etcd" ;;
    kwok)
      build_tools kwok "-s -w"
      # Standalone kwok runs only the stages it is given: the defaults kwokctl gives it (node initialise,
      # heartbeat with lease, pod ready/complete/delete), taken from the module that was built.
      local kdir f
      kdir="$(cd "$here/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)"
      for f in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease pod/fast/pod-ready \
        pod/fast/pod-complete pod/fast/pod-delete; do
        cat "$kdir/kustomize/stage/$f.yaml"; echo "---"
      done > "$bin/kwok-stages.yaml" ;;
    pulumi)
      build_tools pulumi "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" ;;
    provider)
      build_provider ;;
  esac
}

# Stamps hold "<wall seconds> <user CPU seconds> <system CPU seconds>" of the build (downloads included): the CPU
# seconds say what a build costs on another machine, whatever else ran beside it.
TIMEFORMAT='%0R %0U %0S'
for c in "${components[@]}"; do
  [[ -n "${DIR[$c]:-}" ]] || { log "unknown component '$c'; allowed: ${!DIR[*]}"; exit 2; }
  stamp="$root/stamps/$c-$(component_key "$c")"
  [[ -e "$stamp" ]] && continue
  log "building $c into $bin"
  { time { build_component "$c" 2>&3; }; } 3>&2 2>"$root/time-$c"
  rm -f "$root/stamps/$c"-*
  mv "$root/time-$c" "$stamp"
  read -r wall user sys < "$stamp"
  log "built $c in ${wall}s (CPU: ${user}s user, ${sys}s system)"
done
echo "$bin"
