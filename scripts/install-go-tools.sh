#!/usr/bin/env bash
# Installs the Go-built registries and peer CLIs the interop tests use, at pinned versions, into
# .tools/go/bin (gitignored). Skips a tool whose binary already records the pinned module version
# (`go version -m`), so a second run costs seconds. Needs `go` and the Go module proxy; prints one
# line per tool and exits non-zero if any failed (the tests then skip that kind, saying why).
set -uo pipefail
cd "$(dirname "$0")/.."

command -v go >/dev/null 2>&1 || { echo "install-go-tools: no go on PATH, nothing installed"; exit 0; }

BIN="$PWD/.tools/go/bin"
mkdir -p "$BIN"
export GOBIN="$BIN" GOFLAGS=-mod=mod CGO_ENABLED=0
status=0

# installed NAME MODULE VERSION: the binary exists and was built from MODULE at VERSION.
installed() {
  [ -x "$BIN/$1" ] && go version -m "$BIN/$1" 2>/dev/null |
    awk -v m="$2" -v v="$3" '$1 == "mod" && $2 == m && $3 == v { found = 1 } END { exit !found }'
}

# tool NAME PACKAGE MODULE VERSION: go install PACKAGE@VERSION as .tools/go/bin/NAME.
tool() {
  local name=$1 pkg=$2 mod=$3 version=$4
  if installed "$name" "$mod" "$version"; then echo "install-go-tools: $name $version (cached)"; return; fi
  local tmp
  tmp=$(mktemp -d)
  if GOBIN="$tmp" go install "$pkg@$version" >"$tmp/log" 2>&1; then
    mv -f "$tmp/$(basename "$pkg")" "$BIN/$name"
    echo "install-go-tools: $name $version"
  else
    echo "install-go-tools: $name $version FAILED: $(tail -n 3 "$tmp/log" | tr '\n' ' ')" >&2
    rm -rf "$tmp"
    return 1
  fi
  rm -rf "$tmp"
}

# In parallel: most of the time is downloading modules. distribution 3 is renamed so that nothing
# mistakes it for Debian's `registry`/`docker-registry`.
pids=()
tool distribution-registry github.com/distribution/distribution/v3/cmd/registry \
  github.com/distribution/distribution/v3 v3.1.2 & pids+=($!)
tool crane github.com/google/go-containerregistry/cmd/crane github.com/google/go-containerregistry v0.22.1 & pids+=($!)
tool regctl github.com/regclient/regclient/cmd/regctl github.com/regclient/regclient v0.11.7 & pids+=($!)
tool oras oras.land/oras/cmd/oras oras.land/oras v1.3.6 & pids+=($!)
for pid in "${pids[@]}"; do wait "$pid" || status=1; done

# The referrers-enabled registry: our own few lines over go-containerregistry's pkg/registry.
src=scripts/harness/referrers-registry
out="$BIN/ggcr-referrers-registry"
if [ -x "$out" ] && [ -z "$(find "$src" -newer "$out" -type f | head -1)" ]; then
  echo "install-go-tools: ggcr-referrers-registry (cached)"
elif (cd "$src" && go build -o "$out.tmp" . >"$BIN/.referrers-build.log" 2>&1) && mv -f "$out.tmp" "$out"; then
  echo "install-go-tools: ggcr-referrers-registry"
else
  echo "install-go-tools: ggcr-referrers-registry FAILED: $(tail -n 3 "$BIN/.referrers-build.log" | tr '\n' ' ')" >&2
  status=1
fi
exit "$status"
