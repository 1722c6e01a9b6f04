#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing (Debian/Ubuntu), then runs
# formatting and lint checks and every test. Usage: tests/run.sh [extra cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."

export PORTCULLIS_TOOLS="${PORTCULLIS_TOOLS:-/opt/portcullis-tools}"
export PATH="$PORTCULLIS_TOOLS/bin:$PATH"

say() { printf '\n==> %s\n' "$*"; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        echo "need root to run: $*" >&2; return 1; fi
}

# Debian packages: command -> package.
declare -A APT=(
    [shellcheck]=shellcheck
    [docker-registry]=docker-registry
    [skopeo]=skopeo
    [umoci]=umoci
    [buildah]=buildah
    [curl]=curl
    [git]=git
    [htpasswd]=apache2-utils
    [openssl]=openssl
    [zstd]=zstd
    [notary-server]=notary
    [npm]=npm
)
missing=()
for cmd in "${!APT[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("${APT[$cmd]}")
done
if [ "${#missing[@]}" -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Python tools: check-jsonschema validates SARIF against the SARIF 2.1.0 schema and our CI
# integration files; pre-commit runs our hooks for real.
for pkg in check-jsonschema pre-commit; do
    command -v "$pkg" >/dev/null 2>&1 || { say "installing $pkg (pip)"; python3 -m pip install -q "$pkg"; }
done
# The independent test signer of the trust tests (tests/trust/signer.py).
python3 -c 'import cryptography' 2>/dev/null || { say "installing cryptography (pip)"; python3 -m pip install -q cryptography; }

# The SARIF multitool (validator, GitHub ingestion rules) and the SARIF schema it ships.
if [ ! -d "$PORTCULLIS_TOOLS/npm/node_modules/@microsoft/sarif-multitool-linux" ]; then
    say "installing @microsoft/sarif-multitool-linux (npm)"
    as_root mkdir -p "$PORTCULLIS_TOOLS/npm"
    as_root npm install --silent --no-audit --no-fund --prefix "$PORTCULLIS_TOOLS/npm" @microsoft/sarif-multitool-linux
fi

say "cargo fmt --check"
cargo fmt --check
say "cargo clippy --all-targets -- -D warnings"
cargo clippy --locked --all-targets -- -D warnings
say "cargo test"
cargo test --locked "$@"
