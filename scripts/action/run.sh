#!/usr/bin/env bash
# The GitHub Action's step (action.yml): download the manifest-tool release binary for this
# runner, check it against the release's SHA256SUMS, log in to one registry through a temporary
# docker config, run the command with --json, and write `digest`, `size` and `json` to
# $GITHUB_OUTPUT. Everything it creates is under one temporary directory, removed on exit.
#
# Inputs (environment): INPUT_COMMAND (required), INPUT_ARGS, INPUT_VERSION, INPUT_REGISTRY,
# INPUT_USERNAME, INPUT_PASSWORD; ACTION_REPOSITORY/ACTION_REF (github.action_*), else
# GITHUB_ACTION_PATH's last two components; RUNNER_OS, RUNNER_ARCH, RUNNER_TEMP, GITHUB_OUTPUT.
# MANIFEST_TOOL_DOWNLOAD_URL replaces the release download URL (a mirror, or file:// in tests).
#
#   run.sh               do it
#   run.sh --print-url   print the URL the binary would be downloaded from, and exit
set -euo pipefail

fail() { echo "manifest-tool action: $*" >&2; exit 1; }

case "${RUNNER_OS:-$(uname -s)}" in
  Linux | linux) os=linux ;;
  macOS | Darwin | darwin) os=darwin ;;
  Windows | windows | MINGW* | MSYS* | CYGWIN*) os=windows ;;
  *) fail "unsupported runner OS \"${RUNNER_OS:-$(uname -s)}\"" ;;
esac
case "${RUNNER_ARCH:-$(uname -m)}" in
  X64 | x86_64 | amd64) arch=amd64 ;;
  ARM64 | aarch64 | arm64) arch=arm64 ;;
  *) fail "unsupported runner architecture \"${RUNNER_ARCH:-$(uname -m)}\"" ;;
esac
# The assets scripts/release.ts builds: manifest-tool-<os>-<arch>[.exe]; no Windows on arm64.
[ "$os/$arch" = windows/arm64 ] && fail "no release binary for windows/arm64"
asset="manifest-tool-$os-$arch"
[ "$os" = windows ] && asset="$asset.exe"

# The action's own repository and ref: from github.action_* when the runner fills them (it does
# not always in composite actions), else from the checkout path .../_actions/OWNER/REPO/REF, else
# (uses: ./ in this repository) the workflow's repository and the latest release.
action_path="${GITHUB_ACTION_PATH:-}"
repository="${ACTION_REPOSITORY:-}"
ref="${ACTION_REF:-}"
if [[ -z "$repository" && "$action_path" =~ /_actions/([^/]+)/([^/]+)/([^/]+)/?$ ]]; then
  repository="${BASH_REMATCH[1]}/${BASH_REMATCH[2]}"
  ref="${ref:-${BASH_REMATCH[3]}}"
fi
repository="${repository:-${GITHUB_REPOSITORY:-}}"

# The version: as given, else the release named by the action's ref when it is a full version
# tag (uses: owner/manifest-tool@v0.2.0), else the latest release (@main, @<sha>, @v1).
version="${INPUT_VERSION:-}"
if [ -z "$version" ]; then
  if [[ "$ref" =~ ^v[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$ ]]; then version="$ref"; else version=latest; fi
fi
[[ "$version" =~ ^(latest|v?[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?)$ ]] || fail "invalid version \"$version\": expected vX.Y.Z or latest"
[[ "$version" == latest || "$version" == v* ]] || version="v$version"

base="${MANIFEST_TOOL_DOWNLOAD_URL:-}"
if [ -z "$base" ]; then
  [ -n "$repository" ] || fail "cannot tell the action's repository: set the version input and MANIFEST_TOOL_DOWNLOAD_URL"
  if [ "$version" = latest ]; then
    base="https://github.com/$repository/releases/latest/download"
  else
    base="https://github.com/$repository/releases/download/$version"
  fi
fi
if [ "${1:-}" = --print-url ]; then
  echo "$base/$asset"
  exit 0
fi

[ -n "${INPUT_COMMAND:-}" ] || fail "the command input is empty (e.g. \"push from-spec push.yaml\")"
if [ -n "${INPUT_USERNAME:-}" ] || [ -n "${INPUT_PASSWORD:-}" ]; then
  [ -n "${INPUT_REGISTRY:-}" ] || fail "username and password need the registry input (e.g. ghcr.io)"
  [ -n "${INPUT_USERNAME:-}" ] && [ -n "${INPUT_PASSWORD:-}" ] || fail "give both username and password"
  # host[:port] or [ipv6]:port: nothing that could break out of the JSON written below.
  registry_re='^[][A-Za-z0-9.:_-]+$'
  [[ "$INPUT_REGISTRY" =~ $registry_re ]] || fail "invalid registry \"$INPUT_REGISTRY\": expected HOST[:PORT]"
fi

tmp="$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/manifest-tool.XXXXXX")"
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Download (https only, also across redirects; file:// for a local mirror) and verify.
fetch() {
  curl --fail --silent --show-error --location --retry 3 --proto '=https,file' \
    --proto-redir '=https' --output "$2" "$1" || fail "cannot download $1"
}
fetch "$base/SHA256SUMS" "$tmp/SHA256SUMS"
fetch "$base/$asset" "$tmp/$asset"
expected="$(awk -v a="$asset" '$2 == a || $2 == "*" a { print $1; exit }' "$tmp/SHA256SUMS")"
[ -n "$expected" ] || fail "SHA256SUMS of $version lists no $asset"
if command -v sha256sum >/dev/null 2>&1; then
  actual="$(sha256sum "$tmp/$asset" | awk '{ print $1 }')"
else
  actual="$(shasum -a 256 "$tmp/$asset" | awk '{ print $1 }')"
fi
[ "$actual" = "$expected" ] || fail "checksum mismatch for $asset: SHA256SUMS says $expected, the download is $actual"
chmod +x "$tmp/$asset"
echo "manifest-tool action: $asset $version, sha256 $actual" >&2

# Login: one registry, in a config file of our own that is read before the runner's docker
# config (REGISTRY_AUTH_FILE, docker's config.json format), so sources on other registries keep
# the runner's logins. The password goes through a pipe, never an argument of a process.
if [ -n "${INPUT_USERNAME:-}" ] || [ -n "${INPUT_PASSWORD:-}" ]; then
  key="$INPUT_REGISTRY"
  case "$key" in
    docker.io | index.docker.io | registry-1.docker.io) key="https://index.docker.io/v1/" ;;
  esac
  mkdir -m 700 "$tmp/docker"
  auth="$(printf '%s:%s' "$INPUT_USERNAME" "$INPUT_PASSWORD" | base64 | tr -d '\r\n')"
  (umask 077 && printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$key" "$auth" >"$tmp/docker/config.json")
  unset auth
  export REGISTRY_AUTH_FILE="$tmp/docker/config.json"
fi
unset INPUT_PASSWORD

# The command and args, split on white space (no globbing); args with one per line keep their
# spaces.
read -r -a command <<<"$INPUT_COMMAND"
args=()
if [[ "${INPUT_ARGS:-}" == *$'\n'* ]]; then
  while IFS= read -r line; do
    line="${line%$'\r'}"
    [ -n "$line" ] && args+=("$line")
  done <<<"$INPUT_ARGS"
elif [ -n "${INPUT_ARGS:-}" ]; then
  read -r -a args <<<"$INPUT_ARGS"
fi

code=0
"$tmp/$asset" "${command[@]}" ${args[@]+"${args[@]}"} --json >"$tmp/result.json" || code=$?
cat "$tmp/result.json"

out="${GITHUB_OUTPUT:-/dev/null}"
delimiter="manifest-tool-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
write_json() {
  {
    echo "json<<$delimiter"
    cat "$tmp/result.json"
    echo "$delimiter"
  } >>"$out"
}
# A run that failed in part (a batch with one spec failed, exit 1) still printed its records: a
# later step (if: always()) reads them from the json output. No digest then.
if [ "$code" -ne 0 ]; then
  [ -s "$tmp/result.json" ] && write_json
  exit "$code"
fi

# The record's top-level digest and size (push, manifest push); other commands have none.
if command -v jq >/dev/null 2>&1; then
  digest="$(jq -r 'if type == "object" then .digest // empty else empty end' "$tmp/result.json")"
  size="$(jq -r 'if type == "object" then .size // empty else empty end' "$tmp/result.json")"
else
  digest="$(sed -n 's/^  "digest": "\(.*\)",\{0,1\}$/\1/p' "$tmp/result.json" | head -n 1)"
  size="$(sed -n 's/^  "size": \([0-9]*\),\{0,1\}$/\1/p' "$tmp/result.json" | head -n 1)"
fi
[[ -z "$digest" || "$digest" =~ ^[a-z0-9]+:[a-f0-9]+$ ]] || fail "unexpected digest in the result"
[[ -z "$size" || "$size" =~ ^[0-9]+$ ]] || fail "unexpected size in the result"

{
  echo "digest=$digest"
  echo "size=$size"
} >>"$out"
write_json
