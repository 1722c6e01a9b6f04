#!/usr/bin/env bash
# Signs an image in a real registry in both cosign formats and reads the signatures back.
#
#   bash tests/trust/registry_demo.sh [WORKDIR]
#
# Starts Debian's docker-registry (distribution 2.8) on a free 127.0.0.1 port, as
# tests/image/registry.rs does; builds an image with umoci and pushes it with skopeo; signs it
# with signer.py (keyless, throwaway PKI); pushes the `.sig` manifest and the bundle referrer
# plus its referrers tag-schema index; reads all of it back and checks the bytes are unchanged.
# If pip `sigstore` is importable by $SIGSTORE_PYTHON, the bundle fetched back is verified too.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
work=${1:-$(mktemp -d /tmp/portcullis-trust-demo.XXXXXX)}
mkdir -p "$work"
cd "$work"
signer=(python3 "$here/signer.py")
skopeo=(skopeo --insecure-policy)

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
host=127.0.0.1:$port
cat > registry.yml <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/registry-data
  delete:
    enabled: true
http:
  addr: $host
  secret: portcullis-test-secret
EOF
docker-registry serve registry.yml > registry.log 2>&1 &
registry_pid=$!
trap 'kill "$registry_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -fs "http://$host/v2/" > /dev/null && break; sleep 0.1; done

step() { printf '\n$ %s\n' "$*" >&2; "$@"; }

echo "# an image, built daemonless and pushed"
echo hello > demo.conf
step umoci init --layout image
step umoci new --image image:latest
step umoci insert --rootless --image image:latest demo.conf /etc/demo.conf
step umoci config --image image:latest --os linux --architecture amd64 --config.entrypoint=/bin/app
step "${skopeo[@]}" copy --quiet --dest-tls-verify=false oci:image:latest "docker://$host/demo:latest"
skopeo inspect --raw --tls-verify=false "docker://$host/demo:latest" > image-manifest.json
digest=sha256:$(sha256sum image-manifest.json | cut -d' ' -f1)
echo "image digest: $digest"

echo
echo "# a throwaway Sigstore instance, and both signatures (keyless)"
step "${signer[@]}" pki --out pki > /dev/null
keyless=(--identity release@portcullis.test --issuer https://issuer.portcullis.test --pki pki)
step "${signer[@]}" sign-legacy --image-manifest image-manifest.json --repository "$host/demo" \
  "${keyless[@]}" --out legacy > legacy.summary.json
step "${signer[@]}" sign-bundle --image-manifest image-manifest.json --repository "$host/demo" \
  "${keyless[@]}" --out bundle > bundle.summary.json
artifact=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["artifactDigest"])' \
  bundle.summary.json)

echo
echo "# push: the .sig manifest; the bundle referrer by digest; its referrers tag-schema index"
sig_tag=${digest/:/-}.sig
index_tag=${digest/:/-}
step "${skopeo[@]}" copy --quiet --dest-tls-verify=false \
  "oci:legacy/layout:$sig_tag" "docker://$host/demo:$sig_tag"
step "${skopeo[@]}" copy --quiet --preserve-digests --dest-tls-verify=false \
  oci:bundle/layout:bundle "docker://$host/demo@$artifact"
step curl -fsS -o /dev/null -X PUT -H 'Content-Type: application/vnd.oci.image.index.v1+json' \
  --data-binary @bundle/referrers-index.json "http://$host/v2/demo/manifests/$index_tag"

echo
echo "# read back"
step curl -sS -o /dev/null -w 'referrers API: HTTP %{http_code}\n' "http://$host/v2/demo/referrers/$digest"
step curl -fsS "http://$host/v2/demo/tags/list"
echo
skopeo inspect --raw --tls-verify=false "docker://$host/demo:$sig_tag" > fetched-sig-manifest.json
skopeo inspect --raw --tls-verify=false "docker://$host/demo:$index_tag" > fetched-index.json
skopeo inspect --raw --tls-verify=false "docker://$host/demo@$artifact" > fetched-artifact.json
cmp fetched-sig-manifest.json legacy/manifest.json
cmp fetched-index.json bundle/referrers-index.json
cmp fetched-artifact.json bundle/manifest.json
echo "manifests read back byte-identical: .sig manifest, referrers index, bundle artifact"
python3 - "$host" <<'EOF'
import json, sys, urllib.request
host = sys.argv[1]
def get(path, accept="application/vnd.oci.image.manifest.v1+json"):
    request = urllib.request.Request(f"http://{host}/v2/demo/{path}", headers={"Accept": accept})
    return urllib.request.urlopen(request).read()
sig = json.load(open("fetched-sig-manifest.json"))
layer = sig["layers"][0]
print(".sig layer:", layer["mediaType"], "annotations:", sorted(layer["annotations"]))
payload = get(f"blobs/{layer['digest']}")
print(".sig payload:", payload.decode())
index = json.load(open("fetched-index.json"))
print("referrers index entries:", [(m["artifactType"], m["digest"]) for m in index["manifests"]])
artifact = json.loads(get(f"manifests/{index['manifests'][0]['digest']}"))
bundle = get(f"blobs/{artifact['layers'][0]['digest']}")
open("fetched-bundle.json", "wb").write(bundle)
print("bundle:", json.loads(bundle)["mediaType"], len(bundle), "bytes; same as signed:",
      bundle == open("bundle/bundle.json", "rb").read())
EOF

python=${SIGSTORE_PYTHON:-python3}
if "$python" -c 'import sigstore' 2> /dev/null; then
  echo
  echo "# the bundle fetched from the registry, verified offline by pip sigstore"
  "$python" - "$digest" <<'EOF'
import json, sys
from sigstore.models import Bundle, ClientTrustConfig
from sigstore.verify import Verifier, policy
trust = ClientTrustConfig.from_json(open("pki/client_trust_config.json").read())
bundle = Bundle.from_json(open("fetched-bundle.json", "rb").read())
_, payload = Verifier(trusted_root=trust.trusted_root).verify_dsse(
    bundle, policy.Identity(identity="release@portcullis.test", issuer="https://issuer.portcullis.test"))
subject = json.loads(payload)["subject"][0]["digest"]["sha256"]
assert f"sha256:{subject}" == sys.argv[1], subject
print("OK: verify_dsse accepted it; the statement names", sys.argv[1])
EOF
fi
echo
echo "work dir: $work"
