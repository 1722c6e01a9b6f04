#!/usr/bin/env bash
# Installs portcullis for the GitHub Action (action.yml), the fast way first:
#   1. a `portcullis` already on PATH (or installed by an earlier step) of the wanted version;
#   2. the release binary for this runner, verified against its published SHA-256;
#   3. `cargo install --locked`, from this action's own checkout when it is that version.
# A checksum mismatch stops here: it is never answered by building from source instead.
#
# Environment: PORTCULLIS_VERSION (default: the version in this checkout's Cargo.toml),
# RUNNER_OS, RUNNER_ARCH, RUNNER_TEMP, GITHUB_OUTPUT, GITHUB_PATH; PORTCULLIS_DOWNLOAD_BASE
# overrides the release address (a mirror; the tests use a file:// URL).
# Writes the outputs `path` (the binary) and `version`.
set -euo pipefail

action_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
base="${PORTCULLIS_DOWNLOAD_BASE:-https://github.com/portcullis-dev/portcullis/releases/download}"
repository="https://github.com/portcullis-dev/portcullis"

fail() {
    echo "::error title=portcullis install::$*"
    exit 1
}

output() {
    if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "$1=$2" >>"$GITHUB_OUTPUT"; fi
}

checkout_version() {
    sed -n 's/^version *= *"\([^"]*\)".*/\1/p' "$action_root/Cargo.toml" 2>/dev/null | head -n 1
}

version="${PORTCULLIS_VERSION:-}"
version="${version#v}"
if [ -z "$version" ]; then
    version="$(checkout_version)"
    [ -n "$version" ] || fail "no version given and none found in $action_root/Cargo.toml; set the action's \`version\` input"
fi
# The version becomes part of a URL and a path: accept only what a version looks like.
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]] ||
    fail "version \`$version\` is not a version like 1.2.3"

# Whether $1 is a portcullis binary that reports $version.
is_wanted() {
    [ -x "$1" ] && [ "$("$1" --version 2>/dev/null)" = "portcullis $version" ]
}

use() {
    echo "portcullis $version: $1"
    output path "$1"
    output version "$version"
    if [ -n "${GITHUB_PATH:-}" ]; then dirname "$1" >>"$GITHUB_PATH"; fi
    exit 0
}

existing="$(command -v portcullis || true)"
if [ -n "$existing" ] && is_wanted "$existing"; then
    use "$existing"
fi

root="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/portcullis-$version"
exe=portcullis
[ "${RUNNER_OS:-}" = Windows ] && exe=portcullis.exe
binary="$root/bin/$exe"
if is_wanted "$binary"; then
    use "$binary"
fi

case "${RUNNER_OS:-}/${RUNNER_ARCH:-}" in
    Linux/X64) target=x86_64-unknown-linux-musl ;;
    Linux/ARM64) target=aarch64-unknown-linux-musl ;;
    macOS/X64) target=x86_64-apple-darwin ;;
    macOS/ARM64) target=aarch64-apple-darwin ;;
    Windows/X64) target=x86_64-pc-windows-msvc ;;
    *) target= ;;
esac

sha256_of() {
    if command -v sha256sum >/dev/null; then
        sha256sum "$1" | cut -d ' ' -f 1
    else
        shasum -a 256 "$1" | cut -d ' ' -f 1
    fi
}

download() {
    local url="$base/v$version/portcullis-$target.tar.gz" work expected actual found
    work="$(mktemp -d)"
    if ! curl -fsSL --retry 3 --proto '=https,file' -o "$work/release.tar.gz" "$url" ||
        ! curl -fsSL --retry 3 --proto '=https,file' -o "$work/release.tar.gz.sha256" "$url.sha256"; then
        echo "no release binary at $url; building from source instead"
        rm -rf "$work"
        return 1
    fi
    expected="$(cut -d ' ' -f 1 <"$work/release.tar.gz.sha256" | tr -d '\r\n' | tr 'A-F' 'a-f')"
    actual="$(sha256_of "$work/release.tar.gz")"
    [[ "$expected" =~ ^[0-9a-f]{64}$ ]] || fail "$url.sha256 does not hold a SHA-256 checksum"
    [ "$expected" = "$actual" ] ||
        fail "checksum mismatch for $url: expected $expected, got $actual; refusing to install it"
    mkdir -p "$work/unpacked" "$root/bin"
    tar -xzf "$work/release.tar.gz" -C "$work/unpacked" || fail "cannot unpack $url"
    found="$(find "$work/unpacked" -type f -name "$exe" | head -n 1)"
    [ -n "$found" ] || fail "$url has no $exe inside"
    { mv "$found" "$binary" && chmod +x "$binary"; } || fail "cannot install $binary"
    rm -rf "$work"
    echo "installed the release binary for $target (sha256 $actual)"
}

if [ -z "$target" ] || ! download; then
    [ -n "$target" ] || echo "no release binary for ${RUNNER_OS:-?}/${RUNNER_ARCH:-?}; building from source"
    command -v cargo >/dev/null || fail "cannot build portcullis: cargo is not installed (add a Rust toolchain step before this action)"
    if [ "$(checkout_version)" = "$version" ]; then
        cargo install --locked --root "$root" --path "$action_root"
    else
        cargo install --locked --root "$root" --git "$repository" --tag "v$version" portcullis
    fi
fi
is_wanted "$binary" || fail "$binary does not report version $version"
use "$binary"
