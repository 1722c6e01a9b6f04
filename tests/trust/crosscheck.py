#!/usr/bin/env python3
"""Cross-checks signer.py against a real Sigstore verifier: pip `sigstore` 4.x, offline, with the
throwaway trusted root. Exits non-zero when anything the real verifier should accept is
rejected, or a tampered case is accepted (or rejected for another reason than its own).

    python3 -m venv /tmp/sigstore-venv && /tmp/sigstore-venv/bin/pip install 'sigstore>=4,<5'
    /tmp/sigstore-venv/bin/python tests/trust/crosscheck.py [--keep DIR]

What is checked, and how:
* keyless bundles (cosign v3): `Verifier.verify_dsse` does everything: chain to the trusted CA
  at the log's integrated time, embedded SCT, key usage/EKU, identity + issuer policy, SET,
  inclusion proof + checkpoint, DSSE signature, dsse log body against the envelope. The subject
  digest is compared here (pip sigstore's own Statement model wants `subject[].name`, which
  `cosign sign` never writes). One attestation also goes through the `sigstore` CLI.
* keyless `.sig` (cosign v2): the layer's payload, signature and certificate annotations plus the
  Rekor entry become a hashedrekord bundle for `Verifier.verify_artifact` (the same checks, the
  body compared as a hashedrekord). The `dev.sigstore.cosign/bundle` annotation must carry the
  very SET/body/index the verified entry has; the chain annotation must be the trusted chain.
* keyed signatures: pip sigstore verifies only certificate bundles, so its log code
  (`TransparencyLogEntry._verify`: Merkle inclusion, checkpoint, SET) and its Rekor body models
  are used, and the signature is checked here with `cryptography`.
* every --tamper case must fail, with the failure that names its binding.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

try:
    import rekor_types
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
    from sigstore.errors import Error as SigstoreError
    from sigstore.models import Bundle, ClientTrustConfig, TransparencyLogEntry
    from sigstore.verify import Verifier, policy
    from sigstore._internal.trust import KeyringPurpose
    from sigstore_models.bundle.v1 import Bundle as BundleModel
    from sigstore_models.common.v1 import MessageSignature
    from rfc3161_client import decode_timestamp_response
except ImportError as missing:  # pragma: no cover - environment problem, not a check failure
    sys.exit(f"crosscheck needs pip `sigstore` 4.x ({missing}); see the module docstring")

SIGNER = Path(__file__).with_name("signer.py")
IDENTITY = "release@portcullis.test"
ISSUER = "https://issuer.portcullis.test"
REPOSITORY = "127.0.0.1:5000/demo"
SLSA_V1 = "https://slsa.dev/provenance/v1"
GITHUB_IDENTITY = "https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.2.0"
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
GITHUB_PREDICATE = SIGNER.parent / "fixtures" / "provenance" / "predicates" / "slsa-v1-github.json"

# The failure each tamper must produce (a substring of the verifier's message).
BUNDLE_REJECTIONS = {
    "wrong-key": "DSSE: invalid signature",
    "other-digest": "statement subject",
    "flip-signature": "DSSE: invalid signature",
    "modified-payload": "DSSE: invalid signature",
    "unknown-log-key": "SET: invalid inclusion promise",
    "body-for-other-signature": "log entry signatures do not match bundle",
    "transplanted-cert": "DSSE: invalid signature",
    "no-sct": "signed certificate timestamp extension",
    "unknown-ct-key": "SCT verify failed",
    "bad-inclusion-proof": "inclusion proof contains invalid root hash",
    "unknown-checkpoint-key": "checkpoint: invalid signature",
    "expired-cert": "failed to build timestamp certificate chain",
    "untrusted-ca": "failed to build timestamp certificate chain",
    "untrusted-tsa": "TSA timestamp does not verify",
}
LEGACY_REJECTIONS = {
    **BUNDLE_REJECTIONS,
    "wrong-key": "Signature is invalid for input",
    "other-digest": "docker-manifest-digest",
    "flip-signature": "Signature is invalid for input",
    "modified-payload": "Signature is invalid for input",
    "body-for-other-signature": "inconsistent with other materials",
    "transplanted-cert": "Signature is invalid for input",
}
KEYED_REJECTIONS = {
    "wrong-key": "signature does not verify",
    "flip-signature": "signature does not verify",
    "unknown-log-key": "SET: invalid inclusion promise",
    "body-for-other-signature": "log body",
    "bad-inclusion-proof": "inclusion proof contains invalid root hash",
    "unknown-checkpoint-key": "checkpoint: invalid signature",
}


class Rejected(Exception):
    """A check of this script's own (digest, annotations, body) refused the signature."""


class Run:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.failures = 0
        self.pki = work / "pki"
        self.image_manifest = work / "image-manifest.json"

    # -- plumbing -------------------------------------------------------------------------

    def signer(self, *args: str) -> dict[str, Any]:
        done = subprocess.run([sys.executable, str(SIGNER), *args], capture_output=True,
                              text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"signer.py {' '.join(args)} failed:\n{done.stderr}")
        return json.loads(done.stdout)

    def report(self, ok: bool, name: str, detail: str) -> None:
        print(f"{'PASS' if ok else 'FAIL'}  {name:48} {detail}")
        self.failures += 0 if ok else 1

    def expect_accept(self, name: str, check: Callable[[], str]) -> None:
        try:
            detail = check()
        except (SigstoreError, Rejected, InvalidSignature, ValueError) as error:
            self.report(False, name, f"rejected: {error}")
            return
        self.report(True, name, detail)

    def expect_reject(self, name: str, reason: str, check: Callable[[], Any]) -> None:
        try:
            check()
        except (SigstoreError, Rejected, InvalidSignature, ValueError) as error:
            message = str(error) if str(error) else type(error).__name__
            ok = reason in message
            self.report(ok, name, f"rejected: {message[:110]}" if ok
                        else f"rejected for another reason: {message} (wanted `{reason}`)")
            return
        self.report(False, name, "accepted, but it is tampered")

    # -- setting up -----------------------------------------------------------------------

    def prepare(self) -> None:
        # A sharded-log offset makes logIndex (SET) and the proof's tree index differ.
        self.signer("pki", "--out", str(self.pki), "--log-index-offset", "7000")
        self.trust = ClientTrustConfig.from_json((self.pki / "client_trust_config.json")
                                                 .read_text())
        self.verifier = Verifier(trusted_root=self.trust.trusted_root)
        self.rekor_keyring = self.trust.trusted_root.rekor_keyring(KeyringPurpose.VERIFY)
        # Any manifest will do as "the image": the signer only needs its digest and size.
        self.image_manifest.write_text(json.dumps({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2,
                       "digest": "sha256:" + hashlib.sha256(b"{}").hexdigest()},
            "layers": []}))
        self.image_digest = hashlib.sha256(self.image_manifest.read_bytes()).hexdigest()
        (self.work / "provenance.json").write_text(json.dumps({
            "buildDefinition": {"buildType": "https://portcullis.test/build/v1",
                                "externalParameters": {"ref": "refs/heads/main"}},
            "runDetails": {"builder": {"id": "https://portcullis.test/builder"}}}))
        self.keys = {}
        for kind in ("ecdsa-p256", "ecdsa-p384", "rsa", "ed25519"):
            self.signer("keygen", "--kind", kind, "--out", str(self.work / f"key-{kind}"))
            self.keys[kind] = self.work / f"key-{kind}"

    def sign(self, command: str, out: str, *extra: str) -> Path:
        self.signer(command, "--image-manifest", str(self.image_manifest), "--repository",
                    REPOSITORY, "--pki", str(self.pki), "--out", str(self.work / out), *extra)
        return self.work / out

    def keyless(self) -> tuple[str, ...]:
        return ("--identity", IDENTITY, "--issuer", ISSUER)

    # -- the bundle format ----------------------------------------------------------------

    def bundle_from_layout(self, out: Path) -> bytes:
        """The bundle as a registry client would find it: index → artifact → layer."""
        blobs = out / "layout" / "blobs" / "sha256"
        index = json.loads((out / "referrers-index.json").read_bytes())
        descriptor = index["manifests"][-1]
        if descriptor.get("artifactType") != Bundle.BundleType.BUNDLE_0_3.value:
            raise Rejected(f"referrers index entry is a {descriptor.get('artifactType')}")
        manifest = json.loads((blobs / descriptor["digest"].split(":")[1]).read_bytes())
        if manifest["subject"]["digest"] != f"sha256:{self.image_digest}":
            raise Rejected("the referrer's subject is not the image")
        return (blobs / manifest["layers"][0]["digest"].split(":")[1]).read_bytes()

    def statement_names_image(self, payload: bytes) -> dict[str, Any]:
        statement = json.loads(payload)
        digests = [s.get("digest", {}).get("sha256") for s in statement["subject"]]
        if self.image_digest not in digests:
            raise Rejected(f"statement subject {digests} does not name the image")
        return statement

    def verify_keyless_bundle(self, out: Path, identity: str = IDENTITY, issuer: str = ISSUER,
                              extra: tuple[Any, ...] = ()) -> str:
        bundle = Bundle.from_json(self.bundle_from_layout(out))
        identity_policy = policy.AllOf([policy.Identity(identity=identity, issuer=issuer),
                                        policy.OIDCIssuerV2(issuer), *extra])
        payload_type, payload = self.verifier.verify_dsse(bundle, identity_policy)
        if payload_type != "application/vnd.in-toto+json":
            raise Rejected(f"payload type {payload_type}")
        statement = self.statement_names_image(payload)
        entry = bundle.log_entry._inner
        return (f"verify_dsse ok; predicateType {statement['predicateType']}; logIndex "
                f"{entry.log_index}, proof index {entry.inclusion_proof.log_index}"
                + self.timestamps(bundle))

    def timestamps(self, bundle: Bundle) -> str:
        """pip sigstore drops a timestamp it cannot verify when the log gives a time anyway,
        so each bundled RFC 3161 timestamp is required to verify on its own."""
        material = bundle.verification_material.timestamp_verification_data
        if material is None:
            return ""
        bundled = len(material.rfc3161_timestamps)
        verified = self.verifier._verify_timestamp_authority(bundle)
        if len(verified) != bundled:
            raise Rejected(f"TSA timestamp does not verify ({len(verified)} of {bundled})")
        return f"; TSA time {verified[0].time:%H:%M:%S}"

    def verify_keyed_bundle(self, out: Path, key_dir: Path) -> str:
        raw = self.bundle_from_layout(out)
        model = BundleModel.from_json(raw)  # the protobuf-specs shape, strictly
        public = load_public(key_dir / "key.pub")
        hint = model.verification_material.public_key.hint
        if hint != base64.b64encode(sha256(der(public))).decode():
            raise Rejected(f"publicKey.hint {hint} is not the key's")
        envelope = model.dsse_envelope
        pae = b"DSSEv1 %d %s %d %s" % (len(envelope.payload_type), envelope.payload_type.encode(),
                                       len(envelope.payload), envelope.payload)
        check_signature(public, envelope.signatures[0].sig, pae)
        entry = TransparencyLogEntry(model.verification_material.tlog_entries[0])
        entry._verify(self.rekor_keyring)
        body = rekor_types.Dsse.model_validate_json(entry._inner.canonicalized_body)
        spec = body.spec.root
        if (spec.payload_hash.value != hashlib.sha256(envelope.payload).hexdigest()
                or spec.signatures[0].signature != base64.b64encode(envelope.signatures[0].sig)
                .decode()
                or base64.b64decode(spec.signatures[0].verifier) != (key_dir / "key.pub")
                .read_bytes()):
            raise Rejected("the dsse log body does not match the envelope and key")
        self.statement_names_image(envelope.payload)
        return "hint, DSSE signature, SET + proof + checkpoint (pip sigstore), dsse body"

    # -- the legacy format ----------------------------------------------------------------

    def legacy_layer(self, out: Path) -> tuple[bytes, dict[str, str]]:
        """The first signature layer of the `.sig` manifest, read from the layout."""
        layout = out / "layout"
        index = json.loads((layout / "index.json").read_text())
        reference = index["manifests"][0]
        tag = reference["annotations"]["org.opencontainers.image.ref.name"]
        if tag != f"sha256-{self.image_digest}.sig":
            raise Rejected(f"signature tag {tag}")
        blobs = layout / "blobs" / "sha256"
        manifest = json.loads((blobs / reference["digest"].split(":")[1]).read_bytes())
        layer = manifest["layers"][0]
        if layer["mediaType"] != "application/vnd.dev.cosign.simplesigning.v1+json":
            raise Rejected(f"layer media type {layer['mediaType']}")
        payload = (blobs / layer["digest"].split(":")[1]).read_bytes()
        return payload, layer["annotations"]

    def check_simple_signing(self, payload: bytes) -> None:
        critical = json.loads(payload)["critical"]
        if critical["type"] != "cosign container image signature":
            raise Rejected(f"critical.type {critical['type']}")
        if critical["image"]["docker-manifest-digest"] != f"sha256:{self.image_digest}":
            raise Rejected("critical.image.docker-manifest-digest is not the image")

    def legacy_log_entry(self, out: Path, annotations: dict[str, str]) -> TransparencyLogEntry:
        response = json.loads((out / "rekor-entry.json").read_text())
        entry = TransparencyLogEntry._from_v1_response(response)
        # The annotation is what a registry client gets; it must be the verified entry's SET.
        rekor_bundle = json.loads(annotations["dev.sigstore.cosign/bundle"])
        (logged,) = response.values()
        promised = {k: logged[k] for k in ("body", "integratedTime", "logIndex", "logID")}
        if (rekor_bundle["Payload"] != promised or rekor_bundle["SignedEntryTimestamp"]
                != logged["verification"]["signedEntryTimestamp"]):
            raise Rejected("the bundle annotation is not the logged entry")
        return entry

    def verify_keyless_legacy(self, out: Path) -> str:
        payload, annotations = self.legacy_layer(out)
        certificate = x509.load_pem_x509_certificate(
            annotations["dev.sigstore.cosign/certificate"].encode())
        signature = base64.b64decode(annotations["dev.cosignproject.cosign/signature"])
        entry = self.legacy_log_entry(out, annotations)
        timestamps = None
        if "dev.sigstore.cosign/rfc3161timestamp" in annotations:
            response = json.loads(annotations["dev.sigstore.cosign/rfc3161timestamp"])
            timestamps = [decode_timestamp_response(
                base64.b64decode(response["SignedRFC3161Timestamp"]))]
        bundle = Bundle._from_parts(certificate, MessageSignature(
            signature=base64.b64encode(signature)), entry, timestamps)
        identity_policy = policy.AllOf([policy.Identity(identity=IDENTITY, issuer=ISSUER),
                                        policy.OIDCIssuerV2(ISSUER)])
        self.verifier.verify_artifact(payload, bundle, identity_policy)
        self.check_simple_signing(payload)
        # Untrusted input for a verifier, but cosign v2 writes exactly the issuing chain there.
        chain = x509.load_pem_x509_certificates(annotations["dev.sigstore.cosign/chain"].encode())
        trusted = self.trust.trusted_root.get_fulcio_certs()
        if [c.fingerprint(hashes.SHA256()) for c in chain] != [
                c.fingerprint(hashes.SHA256()) for c in trusted]:
            raise Rejected("the chain annotation is not the trusted chain")
        return (f"verify_artifact ok; logIndex {entry._inner.log_index}, proof index "
                f"{entry._inner.inclusion_proof.log_index}" + self.timestamps(bundle))

    def verify_keyed_legacy(self, out: Path, key_dir: Path, tlog: bool = True) -> str:
        payload, annotations = self.legacy_layer(out)
        public = load_public(key_dir / "key.pub")
        signature = base64.b64decode(annotations["dev.cosignproject.cosign/signature"])
        check_signature(public, signature, payload)
        self.check_simple_signing(payload)
        if not tlog:
            if "dev.sigstore.cosign/bundle" in annotations:
                raise Rejected("--no-tlog signature carries a Rekor bundle")
            return "signature over the payload bytes; no Rekor bundle annotation"
        entry = self.legacy_log_entry(out, annotations)
        entry._verify(self.rekor_keyring)
        algorithm = hash_for(public)
        digest = hashes.Hash(algorithm)
        digest.update(payload)
        expected = rekor_types.Hashedrekord(spec=rekor_types.hashedrekord.HashedrekordV001Schema(
            signature=rekor_types.hashedrekord.Signature(
                content=base64.b64encode(signature).decode(),
                public_key=rekor_types.hashedrekord.PublicKey(
                    content=base64.b64encode((key_dir / "key.pub").read_bytes()).decode())),
            data=rekor_types.hashedrekord.Data(hash=rekor_types.hashedrekord.Hash(
                algorithm=algorithm.name, value=digest.finalize().hex()))))
        actual = rekor_types.Hashedrekord.model_validate_json(entry._inner.canonicalized_body)
        if expected != actual:
            raise Rejected("the hashedrekord log body does not match signature, key and payload")
        return "signature, SET + proof + checkpoint (pip sigstore), hashedrekord body"

    # -- the run --------------------------------------------------------------------------

    def cli_verify(self, out: Path, digest: str) -> subprocess.CompletedProcess[str]:
        sigstore = Path(sys.executable).with_name("sigstore")
        bundle = out / "bundle-from-registry.json"
        bundle.write_bytes(self.bundle_from_layout(out))
        return subprocess.run(
            [str(sigstore), "--trust-config", str(self.pki / "client_trust_config.json"),
             "verify", "identity", "--offline", "--bundle", str(bundle), "--cert-identity",
             IDENTITY, "--cert-oidc-issuer", ISSUER, f"sha256:{digest}"],
            capture_output=True, text=True, check=False)

    def run(self) -> None:
        self.prepare()
        key = str(self.keys["ecdsa-p256"] / "key.pem")

        print("== sign-bundle (cosign v3 default: Sigstore bundle v0.3 as an OCI referrer)")
        out = self.sign("sign-bundle", "bundle-keyless", *self.keyless())
        self.expect_accept("keyless signature (pip sigstore verify_dsse)",
                           lambda: self.verify_keyless_bundle(out))
        out = self.sign("sign-bundle", "bundle-keyless-tsa", *self.keyless(), "--tsa")
        self.expect_accept("keyless signature + RFC 3161 timestamp",
                           lambda: self.verify_keyless_bundle(out))
        self.expect_reject("keyless signature, other identity", "SANs do not match",
                           lambda: self.verify_keyless_bundle(out, "mallory@portcullis.test"))
        out = self.sign("sign-bundle", "bundle-attestation", *self.keyless(), "--predicate-type",
                        SLSA_V1, "--predicate", str(self.work / "provenance.json"))
        self.expect_accept("keyless SLSA v1 attestation (v0.1 Statement)",
                           lambda: self.verify_keyless_bundle(out))
        # Fulcio's source claims (1.12 URI, 1.14 ref, 1.13 digest) as pip sigstore reads them,
        # on the GitHub-shaped SLSA v1 predicate of the fixtures.
        github = ("--identity", GITHUB_IDENTITY, "--issuer", GITHUB_ISSUER,
                  "--source-repository", "https://github.com/acme/app",
                  "--source-ref", "refs/tags/v1.2.0", "--source-digest", "8e1f0c3b" * 5)
        out = self.sign("sign-bundle", "bundle-provenance", *github, "--predicate-type",
                        SLSA_V1, "--predicate", str(GITHUB_PREDICATE),
                        "--statement-type", "https://in-toto.io/Statement/v1")
        claims = (policy.OIDCSourceRepositoryURI("https://github.com/acme/app"),
                  policy.OIDCSourceRepositoryRef("refs/tags/v1.2.0"),
                  policy.OIDCSourceRepositoryDigest("8e1f0c3b" * 5))
        self.expect_accept("keyless SLSA v1 provenance + source claims",
                           lambda: self.verify_keyless_bundle(out, GITHUB_IDENTITY,
                                                              GITHUB_ISSUER, claims))
        self.expect_reject("keyless SLSA v1 provenance, other source repository",
                           "OIDCSourceRepositoryURI",
                           lambda: self.verify_keyless_bundle(
                               out, GITHUB_IDENTITY, GITHUB_ISSUER,
                               (policy.OIDCSourceRepositoryURI("https://github.com/evil/app"),)))
        out = self.sign("sign-bundle", "bundle-attestation-v1", *self.keyless(),
                        "--predicate-type", SLSA_V1, "--predicate",
                        str(self.work / "provenance.json"), "--statement-type",
                        "https://in-toto.io/Statement/v1")
        cli = self.cli_verify(out, self.image_digest)
        self.report(cli.returncode == 0, "`sigstore verify identity --offline` (CLI)",
                    "exit 0: " + cli.stderr.strip().splitlines()[-1] if cli.returncode == 0
                    else f"exit {cli.returncode}: {cli.stderr.strip()[-300:]}")
        cli = self.cli_verify(self.work / "bundle-keyless", self.image_digest)
        refused = cli.returncode != 0 and "subject.0.name" in cli.stderr
        verdict = ("refused: its Statement model requires subject[].name" if refused
                   else f"exit {cli.returncode}")
        print(f"NOTE  {'`sigstore` CLI on a `cosign sign` bundle':48} {verdict}")
        for kind, key_dir in self.keys.items():
            out = self.sign("sign-bundle", f"bundle-{kind}", "--key", str(key_dir / "key.pem"))
            self.expect_accept(f"keyed signature, {kind}",
                               lambda out=out, key_dir=key_dir: self.verify_keyed_bundle(out,
                                                                                         key_dir))
        for tamper, reason in BUNDLE_REJECTIONS.items():
            out = self.sign("sign-bundle", f"bundle-tamper-{tamper}", *self.keyless(),
                            "--tamper", tamper, *tsa_for(tamper))
            self.expect_reject(f"tampered: {tamper}", reason,
                               lambda out=out: self.verify_keyless_bundle(out))
        for tamper, reason in KEYED_REJECTIONS.items():
            out = self.sign("sign-bundle", f"bundle-keyed-tamper-{tamper}", "--key", key,
                            "--tamper", tamper)
            self.expect_reject(f"tampered (keyed): {tamper}", reason,
                               lambda out=out: self.verify_keyed_bundle(
                                   out, self.keys["ecdsa-p256"]))

        print("== sign-legacy (cosign v2: the sha256-<hex>.sig tag)")
        out = self.sign("sign-legacy", "legacy-keyless", *self.keyless())
        self.expect_accept("keyless signature (pip sigstore verify_artifact)",
                           lambda: self.verify_keyless_legacy(out))
        out = self.sign("sign-legacy", "legacy-keyless-tsa", *self.keyless(), "--tsa")
        self.expect_accept("keyless signature + rfc3161timestamp annotation",
                           lambda: self.verify_keyless_legacy(out))
        for kind, key_dir in self.keys.items():
            out = self.sign("sign-legacy", f"legacy-{kind}", "--key", str(key_dir / "key.pem"))
            self.expect_accept(f"keyed signature, {kind}",
                               lambda out=out, key_dir=key_dir: self.verify_keyed_legacy(out,
                                                                                         key_dir))
        out = self.sign("sign-legacy", "legacy-no-tlog", "--key", key, "--no-tlog")
        self.expect_accept("keyed signature, --no-tlog",
                           lambda: self.verify_keyed_legacy(out, self.keys["ecdsa-p256"], False))
        for tamper, reason in LEGACY_REJECTIONS.items():
            out = self.sign("sign-legacy", f"legacy-tamper-{tamper}", *self.keyless(),
                            "--tamper", tamper, *tsa_for(tamper))
            self.expect_reject(f"tampered: {tamper}", reason,
                               lambda out=out: self.verify_keyless_legacy(out))
        for tamper, reason in KEYED_REJECTIONS.items():
            out = self.sign("sign-legacy", f"legacy-keyed-tamper-{tamper}", "--key", key,
                            "--tamper", tamper)
            self.expect_reject(f"tampered (keyed): {tamper}", reason,
                               lambda out=out: self.verify_keyed_legacy(
                                   out, self.keys["ecdsa-p256"]))


def tsa_for(tamper: str) -> tuple[str, ...]:
    return ("--tsa",) if tamper == "untrusted-tsa" else ()


# -- small crypto helpers (cryptography only) ------------------------------------------------


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def der(public: Any) -> bytes:
    return public.public_bytes(serialization.Encoding.DER,
                               serialization.PublicFormat.SubjectPublicKeyInfo)


def load_public(path: Path) -> Any:
    return serialization.load_pem_public_key(path.read_bytes())


def hash_for(public: Any) -> hashes.HashAlgorithm:
    if isinstance(public, ec.EllipticCurvePublicKey):
        return {256: hashes.SHA256(), 384: hashes.SHA384(), 521: hashes.SHA512()}[
            public.curve.key_size]
    if isinstance(public, ed25519.Ed25519PublicKey):
        return hashes.SHA512()
    return hashes.SHA256()


def check_signature(public: Any, signature: bytes, data: bytes) -> None:
    try:
        if isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, data, ec.ECDSA(hash_for(public)))
        elif isinstance(public, ed25519.Ed25519PublicKey):
            public.verify(signature, data)
        elif isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        else:
            raise Rejected(f"unsupported key {type(public).__name__}")
    except InvalidSignature as error:
        raise Rejected("signature does not verify with the key") from error


def main() -> int:
    arguments = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    arguments.add_argument("--keep", type=Path, help="work here and keep the outputs")
    args = arguments.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        run = Run(args.keep)
        run.run()
    else:
        with tempfile.TemporaryDirectory(prefix="portcullis-trust-") as work:
            run = Run(Path(work))
            run.run()
    print(f"\n{run.failures} failed" if run.failures else "\nall cross-checks passed")
    return 1 if run.failures else 0


if __name__ == "__main__":
    sys.exit(main())
