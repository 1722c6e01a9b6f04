#!/usr/bin/env python3
"""An independent test signer: writes what cosign writes, for images in a real registry.

It exists so portcullis' `trust-required` verifier can be tested against signatures made by code
that shares nothing with it. It speaks the formats, not cosign's code:

* `keygen`       a signing key pair (PKCS#8 private key, SubjectPublicKeyInfo public key).
* `pki`          a throwaway Sigstore instance: Fulcio-like CA chain, CT log key, Rekor key,
                 TSA chain, and `trusted_root.json` in the protobuf-specs JSON shape.
* `sign-legacy`  cosign v2's `.sig` tag: simple-signing payload, signature annotation,
                 certificate/chain annotations and the Rekor bundle (SET) annotation.
* `sign-bundle`  cosign v3's default: a Sigstore bundle v0.3 (DSSE + in-toto Statement) as an
                 OCI 1.1 artifact referring to the image, plus the referrers tag-schema index.

Outputs are OCI image layouts for `skopeo copy` (plus the referrers index, to PUT as is) and the
pieces as plain files. The `--tamper` flags each break one binding (see TAMPERS) to build
negative cases. Deps: `cryptography` only.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import json
import os
import secrets
import shutil
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

# --------------------------------------------------------------------------------------------
# Names the formats fix

SIMPLE_SIGNING_MEDIA_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json"
COSIGN_SIGNATURE_TYPE = "cosign container image signature"
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
CERTIFICATE_ANNOTATION = "dev.sigstore.cosign/certificate"
CHAIN_ANNOTATION = "dev.sigstore.cosign/chain"
BUNDLE_ANNOTATION = "dev.sigstore.cosign/bundle"
RFC3161_ANNOTATION = "dev.sigstore.cosign/rfc3161timestamp"

BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
TRUSTED_ROOT_MEDIA_TYPE = "application/vnd.dev.sigstore.trustedroot+json;version=0.1"
SIGNING_CONFIG_MEDIA_TYPE = "application/vnd.dev.sigstore.signingconfig.v0.2+json"
CLIENT_TRUST_CONFIG_MEDIA_TYPE = "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json"
IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_V1 = "https://in-toto.io/Statement/v1"
STATEMENT_V01 = "https://in-toto.io/Statement/v0.1"
COSIGN_SIGN_PREDICATE = "https://sigstore.dev/cosign/sign/v1"

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
EMPTY_JSON = b"{}"

OID_ISSUER_V1 = ObjectIdentifier("1.3.6.1.4.1.57264.1.1")  # raw string bytes (deprecated)
OID_ISSUER_V2 = ObjectIdentifier("1.3.6.1.4.1.57264.1.8")  # DER UTF8String
# Fulcio's source claims (DER UTF8String each), as GitHub Actions tokens fill them.
OID_SOURCE_REPOSITORY_URI = ObjectIdentifier("1.3.6.1.4.1.57264.1.12")
OID_SOURCE_REPOSITORY_DIGEST = ObjectIdentifier("1.3.6.1.4.1.57264.1.13")
OID_SOURCE_REPOSITORY_REF = ObjectIdentifier("1.3.6.1.4.1.57264.1.14")
OID_SCT_LIST = ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")  # RFC 6962 §3.3

CERT_LIFETIME = dt.timedelta(minutes=10)  # Fulcio's
SECONDS_TO_INTEGRATION = 2  # how long after issuance the log integrates the entry

TAMPERS = {
    "wrong-key": "the signature is made by a key other than the one the key/certificate names",
    "other-digest": "the signed payload names another image digest (signature itself valid)",
    "flip-signature": "one bit of the signature is flipped (the log entry records that signature)",
    "modified-payload": "the payload bytes change after signing and logging",
    "unknown-log-key": "the SET is signed by a key that is not in the trusted root",
    "body-for-other-signature": "the log body (and its SET/proof) is for another signature",
    "transplanted-cert": "the certificate is one issued for another signing (another key)",
    "no-sct": "the certificate carries no embedded SCT",
    "unknown-ct-key": "the embedded SCT is signed by a CT key not in the trusted root",
    "bad-inclusion-proof": "the inclusion proof does not hash up to the checkpoint's root",
    "unknown-checkpoint-key": "the checkpoint is signed by a key not in the trusted root",
    "expired-cert": "the certificate's validity ended before the log integrated the entry",
    "untrusted-ca": "the certificate chains to a CA that is not in the trusted root",
    "untrusted-tsa": "the RFC 3161 timestamp (--tsa) is signed by a TSA not in the trusted root",
}
CERTIFICATE_TAMPERS = {"transplanted-cert", "no-sct", "unknown-ct-key", "expired-cert",
                       "untrusted-ca"}
LOG_TAMPERS = {"unknown-log-key", "body-for-other-signature", "bad-inclusion-proof",
               "unknown-checkpoint-key"}


class UsageError(Exception):
    """A mistake in how the signer was called; main prints it and exits 2."""


# --------------------------------------------------------------------------------------------
# Encodings: Go's encoding/json, RFC 8785 canonical JSON, protojson, PEM, base64


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _go_string(text: str) -> str:
    # encoding/json escapes <, > and & (HTML safety), U+2028/9, and control characters as \u00XX.
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif code < 0x20 or ch in "<>&" or code in (0x2028, 0x2029):
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def go_json(value: Any) -> bytes:
    """Compact JSON as Go's json.Marshal writes it; dicts keep their order (struct order), so
    callers sort the ones that are Go maps."""

    def encode(v: Any) -> str:
        if v is None:
            return "null"
        if v is True:
            return "true"
        if v is False:
            return "false"
        if isinstance(v, int):
            return str(v)
        if isinstance(v, str):
            return _go_string(v)
        if isinstance(v, (list, tuple)):
            return "[" + ",".join(encode(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ",".join(_go_string(k) + ":" + encode(x) for k, x in v.items()) + "}"
        raise TypeError(f"cannot encode {type(v).__name__}")

    return encode(value).encode()


def canonical_json(value: Any) -> bytes:
    """RFC 8785 (JCS) for the values used here: strings, integers, lists, objects."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def proto_json(value: Any) -> bytes:
    """Compact JSON as protojson writes it (fields in declaration order, no HTML escaping)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def sorted_map(mapping: dict[str, Any]) -> dict[str, Any]:
    return {k: mapping[k] for k in sorted(mapping)}


def public_key_der(key: Any) -> bytes:
    return key.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def public_key_pem(key: Any) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def private_key_pem(key: Any) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def cert_der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def key_id(public_key: Any) -> bytes:
    """RFC 6962 log id / Sigstore key id: SHA-256 of the DER SubjectPublicKeyInfo."""
    return sha256(public_key_der(public_key))


def rfc3339(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def der(tag: int, content: bytes) -> bytes:
    """One DER TLV (definite length)."""
    length = len(content)
    if length < 0x80:
        return bytes([tag, length]) + content
    encoded = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(encoded)]) + encoded + content


def der_octet_string(content: bytes) -> bytes:
    return der(0x04, content)


def der_utf8_string(text: str) -> bytes:
    return der(0x0C, text.encode())


# --------------------------------------------------------------------------------------------
# Keys and signatures (the algorithm registry's defaults)

KEY_KINDS = ("ecdsa-p256", "ecdsa-p384", "ed25519", "rsa")


def generate_key(kind: str, rsa_bits: int = 2048) -> Any:
    if kind == "ecdsa-p256":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "ecdsa-p384":
        return ec.generate_private_key(ec.SECP384R1())
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits)
    raise UsageError(f"unknown key kind `{kind}`; choose one of {', '.join(KEY_KINDS)}")


def _ec_hash(curve: ec.EllipticCurve) -> hashes.HashAlgorithm:
    return {256: hashes.SHA256(), 384: hashes.SHA384(), 521: hashes.SHA512()}[curve.key_size]


def hash_algorithm(key: Any) -> hashes.HashAlgorithm:
    """The digest a key's signatures (and hashedrekord entries) use."""
    public = key.public_key() if hasattr(key, "public_key") else key
    if isinstance(public, ec.EllipticCurvePublicKey):
        return _ec_hash(public.curve)
    if isinstance(public, ed25519.Ed25519PublicKey):
        return hashes.SHA512()
    return hashes.SHA256()


def sign(key: Any, data: bytes) -> bytes:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(_ec_hash(key.curve)))
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    raise UsageError(f"unsupported key type {type(key).__name__}")


def key_details(public: Any) -> str:
    """protobuf-specs PublicKeyDetails for a public key."""
    if isinstance(public, ec.EllipticCurvePublicKey):
        return {256: "PKIX_ECDSA_P256_SHA_256", 384: "PKIX_ECDSA_P384_SHA_384",
                521: "PKIX_ECDSA_P521_SHA_512"}[public.curve.key_size]
    if isinstance(public, ed25519.Ed25519PublicKey):
        return "PKIX_ED25519"
    if isinstance(public, rsa.RSAPublicKey) and public.key_size in (2048, 3072, 4096):
        return f"PKIX_RSA_PKCS1V15_{public.key_size}_SHA256"
    raise UsageError("the trusted root has no key details for this key")


def load_private_key(path: Path) -> Any:
    try:
        return serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as error:
        raise UsageError(f"cannot load private key {path}: {error}") from error


def flip_bit(data: bytes, index: int = -1) -> bytes:
    mutable = bytearray(data)
    mutable[index] ^= 0x01
    return bytes(mutable)


# --------------------------------------------------------------------------------------------
# The throwaway Sigstore instance


@dataclass
class Instance:
    """A `pki` directory: the trusted material plus the private keys that sign with it."""

    path: Path
    root_cert: x509.Certificate
    intermediate_cert: x509.Certificate
    intermediate_key: Any
    ct_key: Any
    rekor_key: Any
    log_state: dict[str, Any] = field(default_factory=dict)
    tsa_cert: x509.Certificate | None = None
    tsa_key: Any | None = None

    @classmethod
    def load(cls, path: Path) -> Instance:
        if not (path / "trusted_root.json").is_file():
            raise UsageError(f"{path} is not a `pki` directory (no trusted_root.json)")

        def cert(name: str) -> x509.Certificate:
            return x509.load_pem_x509_certificate((path / name).read_bytes())

        has_tsa = (path / "tsa.key.pem").is_file()
        return cls(
            path=path,
            tsa_cert=cert("tsa.crt.pem") if has_tsa else None,
            tsa_key=load_private_key(path / "tsa.key.pem") if has_tsa else None,
            root_cert=cert("fulcio-root.crt.pem"),
            intermediate_cert=cert("fulcio-intermediate.crt.pem"),
            intermediate_key=load_private_key(path / "fulcio-intermediate.key.pem"),
            ct_key=load_private_key(path / "ctlog.key.pem"),
            rekor_key=load_private_key(path / "rekor.key.pem"),
            log_state=json.loads((path / "rekor-log.json").read_text()),
        )

    def save_log(self) -> None:
        (self.path / "rekor-log.json").write_text(json.dumps(self.log_state, indent=2) + "\n")

    @property
    def chain(self) -> list[x509.Certificate]:
        return [self.intermediate_cert, self.root_cert]


def _name(organization: str, common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _serial() -> int:
    # Positive and at most 20 octets, as RFC 5280 (and cryptography's path validation) require.
    return int.from_bytes(secrets.token_bytes(19), "big") | 1


def make_ca(subject: x509.Name, key: Any, issuer_cert: x509.Certificate | None, issuer_key: Any,
            start: dt.datetime, end: dt.datetime, path_length: int | None,
            extended_usages: list[ObjectIdentifier] | None = None) -> x509.Certificate:
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    issuer_ski = ski if issuer_cert is None else issuer_cert.extensions.get_extension_for_class(
        x509.SubjectKeyIdentifier).value
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject if issuer_cert is None else issuer_cert.subject)
        .public_key(key.public_key())
        .serial_number(_serial())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=True, crl_sign=True,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski),
                       critical=False)
    )
    if extended_usages:
        builder = builder.add_extension(x509.ExtendedKeyUsage(extended_usages), critical=False)
    return builder.sign(issuer_key, _signing_hash_for(issuer_key))


def _signing_hash_for(key: Any) -> hashes.HashAlgorithm | None:
    return None if isinstance(key, ed25519.Ed25519PrivateKey) else hash_algorithm(key)


def make_ca_chain(start: dt.datetime, end: dt.datetime, kind: str,
                  label: str) -> tuple[x509.Certificate, Any, x509.Certificate, Any]:
    root_key, intermediate_key = generate_key(kind), generate_key(kind)
    root = make_ca(_name(label, "sigstore"), root_key, None, root_key, start, end, 1)
    intermediate = make_ca(_name(label, "sigstore-intermediate"), intermediate_key, root,
                           root_key, start, end, 0, [ExtendedKeyUsageOID.CODE_SIGNING])
    return root, root_key, intermediate, intermediate_key


def make_tsa(start: dt.datetime, end: dt.datetime) -> tuple[x509.Certificate, Any,
                                                            x509.Certificate, Any]:
    root_key, leaf_key = generate_key("ecdsa-p384"), generate_key("ecdsa-p384")
    root = make_ca(_name("portcullis.test", "tsa-root"), root_key, None, root_key, start, end, 0)
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name("portcullis.test", "tsa"))
        .issuer_name(root.subject)
        .public_key(leaf_key.public_key())
        .serial_number(_serial())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False,
                                     False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
                       critical=False)
        .sign(root_key, hashes.SHA384())
    )
    return root, root_key, leaf, leaf_key


def _tlog_instance(base_url: str, public: Any, start: dt.datetime) -> dict[str, Any]:
    return {
        "baseUrl": base_url,
        "hashAlgorithm": "SHA2_256",
        "publicKey": {"rawBytes": b64(public_key_der(public)), "keyDetails": key_details(public),
                      "validFor": {"start": rfc3339(start)}},
        "logId": {"keyId": b64(key_id(public))},
    }


def _authority(organization: str, common_name: str, uri: str, chain: list[x509.Certificate],
               start: dt.datetime) -> dict[str, Any]:
    return {
        "subject": {"organization": organization, "commonName": common_name},
        "uri": uri,
        "certChain": {"certificates": [{"rawBytes": b64(cert_der(c))} for c in chain]},
        "validFor": {"start": rfc3339(start)},
    }


def trusted_root_json(instance_name: str, rekor_public: Any, ct_public: Any,
                      fulcio_chain: list[x509.Certificate],
                      tsa_chain: list[x509.Certificate] | None,
                      start: dt.datetime) -> dict[str, Any]:
    root = {
        "mediaType": TRUSTED_ROOT_MEDIA_TYPE,
        "tlogs": [_tlog_instance(f"https://rekor.{instance_name}", rekor_public, start)],
        "certificateAuthorities": [_authority(instance_name, "sigstore",
                                              f"https://fulcio.{instance_name}", fulcio_chain,
                                              start)],
        "ctlogs": [_tlog_instance(f"https://ctfe.{instance_name}/test", ct_public, start)],
        "timestampAuthorities": [],
    }
    if tsa_chain:
        root["timestampAuthorities"].append(_authority(
            instance_name, "tsa", f"https://tsa.{instance_name}/api/v1/timestamp", tsa_chain,
            start))
    return root


def signing_config_json(instance_name: str, start: dt.datetime) -> dict[str, Any]:
    # Only so `sigstore --trust-config` accepts the file: nothing here is ever contacted.
    def service(url: str) -> dict[str, Any]:
        return {"url": url, "majorApiVersion": 1, "validFor": {"start": rfc3339(start)},
                "operator": instance_name}

    return {
        "mediaType": SIGNING_CONFIG_MEDIA_TYPE,
        "caUrls": [service(f"https://fulcio.{instance_name}")],
        "oidcUrls": [service(f"https://oauth2.{instance_name}/auth")],
        "rekorTlogUrls": [service(f"https://rekor.{instance_name}")],
        "tsaUrls": [],
        "rekorTlogConfig": {"selector": "ANY"},
        "tsaConfig": {"selector": "ANY"},
    }


def command_pki(args: argparse.Namespace) -> dict[str, Any]:
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    start = parse_time(args.start) if args.start else now_utc() - dt.timedelta(days=1)
    end = start + dt.timedelta(days=365 * args.years)
    root, root_key, intermediate, intermediate_key = make_ca_chain(start, end, args.ca_kind,
                                                                   args.name)
    # P-256 only: Rekor v1 and RFC 6962 verifiers hash SETs, checkpoints and SCTs with SHA-256
    # whatever the curve, while the trusted root's keyDetails would say SHA-384 for P-384.
    ct_key, rekor_key = generate_key("ecdsa-p256"), generate_key("ecdsa-p256")
    files: dict[str, bytes] = {
        "fulcio-root.crt.pem": cert_pem(root),
        "fulcio-root.key.pem": private_key_pem(root_key),
        "fulcio-intermediate.crt.pem": cert_pem(intermediate),
        "fulcio-intermediate.key.pem": private_key_pem(intermediate_key),
        "ctlog.key.pem": private_key_pem(ct_key),
        "ctlog.pub": public_key_pem(ct_key.public_key()),
        "rekor.key.pem": private_key_pem(rekor_key),
        "rekor.pub": public_key_pem(rekor_key.public_key()),
    }
    tsa_chain = None
    if args.tsa:
        tsa_root, tsa_root_key, tsa_leaf, tsa_key = make_tsa(start, end)
        tsa_chain = [tsa_leaf, tsa_root]
        files.update({"tsa-root.crt.pem": cert_pem(tsa_root),
                      "tsa-root.key.pem": private_key_pem(tsa_root_key),
                      "tsa.crt.pem": cert_pem(tsa_leaf), "tsa.key.pem": private_key_pem(tsa_key)})
    trusted_root = trusted_root_json(args.name, rekor_key.public_key(), ct_key.public_key(),
                                     [intermediate, root], tsa_chain, start)
    files["trusted_root.json"] = (json.dumps(trusted_root, indent=2) + "\n").encode()
    client_config = {"mediaType": CLIENT_TRUST_CONFIG_MEDIA_TYPE, "trustedRoot": trusted_root,
                     "signingConfig": signing_config_json(args.name, start)}
    files["client_trust_config.json"] = (json.dumps(client_config, indent=2) + "\n").encode()
    for name, content in files.items():
        (out / name).write_bytes(content)
    # The toy log starts with unrelated entries so inclusion proofs have some depth.
    # sigstore-go reads a checkpoint as Rekor v1's only if its origin ends in " - <tree id>".
    log_state = {
        "name": f"rekor.{args.name}",
        "origin": f"rekor.{args.name} - {secrets.randbelow(2**62)}",
        "logIndexOffset": args.log_index_offset,
        "leafHashes": [leaf_hash(secrets.token_bytes(64)).hex() for _ in range(args.seed_entries)],
    }
    (out / "rekor-log.json").write_text(json.dumps(log_state, indent=2) + "\n")
    return {"pki": str(out), "trustedRoot": str(out / "trusted_root.json"),
            "clientTrustConfig": str(out / "client_trust_config.json"),
            "rekorLogId": key_id(rekor_key.public_key()).hex(),
            "ctLogId": key_id(ct_key.public_key()).hex()}


# --------------------------------------------------------------------------------------------
# Fulcio-like leaf certificates with an embedded SCT (RFC 6962 §3.3)


def _sct_list_extension(scts: list[bytes]) -> x509.UnrecognizedExtension:
    entries = b"".join(struct.pack("!H", len(s)) + s for s in scts)
    listing = struct.pack("!H", len(entries)) + entries
    return x509.UnrecognizedExtension(OID_SCT_LIST, der_octet_string(listing))


def precert_signed_data(timestamp_ms: int, issuer_public: Any, tbs_precert: bytes) -> bytes:
    """The `digitally-signed` input of an SCT for a precert_entry (RFC 6962 §3.2)."""
    return (struct.pack("!BBQH", 0, 0, timestamp_ms, 1) + sha256(public_key_der(issuer_public))
            + len(tbs_precert).to_bytes(3, "big") + tbs_precert + struct.pack("!H", 0))


def encode_sct(log_key: Any, timestamp_ms: int, signature: bytes) -> bytes:
    hash_id, signature_id = 4, 3  # sha256, ecdsa (TLS HashAlgorithm / SignatureAlgorithm)
    if isinstance(log_key, rsa.RSAPrivateKey):
        signature_id = 1
    return (b"\x00" + key_id(log_key.public_key()) + struct.pack("!QH", timestamp_ms, 0)
            + bytes([hash_id, signature_id]) + struct.pack("!H", len(signature)) + signature)


@dataclass
class Identity:
    subject: str  # e-mail or URI SAN
    issuer: str  # OIDC issuer
    # Fulcio's source claims: (OID, value) in the order the leaf carries them.
    source: list[tuple[ObjectIdentifier, str]] = field(default_factory=list)


def issue_leaf(issuer_cert: x509.Certificate, issuer_key: Any, ct_key: Any | None,
               public: Any, identity: Identity, not_before: dt.datetime) -> x509.Certificate:
    """A Fulcio-shaped code-signing certificate; `ct_key=None` leaves out the SCT."""
    san: x509.GeneralName = (x509.UniformResourceIdentifier(identity.subject)
                             if "://" in identity.subject else x509.RFC822Name(identity.subject))
    issuer_ski = issuer_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value

    def builder() -> x509.CertificateBuilder:
        built = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([]))
            .issuer_name(issuer_cert.subject)
            .public_key(public)
            .serial_number(serial)
            .not_valid_before(not_before)
            .not_valid_after(not_before + CERT_LIFETIME)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False,
                                         False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]),
                           critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
                issuer_ski), critical=False)
            .add_extension(x509.SubjectAlternativeName([san]), critical=True)
            .add_extension(x509.UnrecognizedExtension(OID_ISSUER_V1, identity.issuer.encode()),
                           critical=False)
            .add_extension(x509.UnrecognizedExtension(OID_ISSUER_V2,
                                                      der_utf8_string(identity.issuer)),
                           critical=False)
        )
        for oid, value in identity.source:
            built = built.add_extension(x509.UnrecognizedExtension(oid, der_utf8_string(value)),
                                        critical=False)
        return built

    serial = _serial()
    digest = _signing_hash_for(issuer_key)
    if ct_key is None:
        return builder().sign(issuer_key, digest)
    # The precertificate's TBS is the final TBS without the SCT list (the poison extension sits
    # where the SCT list will), so a placeholder list yields exactly the bytes the CT log signs.
    placeholder = builder().add_extension(_sct_list_extension([]), critical=False)
    tbs_precert = placeholder.sign(issuer_key, digest).tbs_precertificate_bytes
    timestamp_ms = int(not_before.timestamp() * 1000) + 137
    signed = precert_signed_data(timestamp_ms, issuer_cert.public_key(), tbs_precert)
    sct = encode_sct(ct_key, timestamp_ms, sign(ct_key, signed))
    leaf = builder().add_extension(_sct_list_extension([sct]), critical=False).sign(issuer_key,
                                                                                   digest)
    assert leaf.tbs_precertificate_bytes == tbs_precert, "SCT would not verify"
    return leaf


# --------------------------------------------------------------------------------------------
# The toy transparency log (Rekor v1): RFC 6962 Merkle tree, SET, signed-note checkpoint


def leaf_hash(entry: bytes) -> bytes:
    return sha256(b"\x00" + entry)


def node_hash(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01" + left + right)


def _split(size: int) -> int:
    """The largest power of two smaller than `size` (RFC 6962 §2.1)."""
    k = 1
    while k * 2 < size:
        k *= 2
    return k


def merkle_root(leaves: list[bytes]) -> bytes:
    if not leaves:
        return sha256(b"")
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return node_hash(merkle_root(leaves[:k]), merkle_root(leaves[k:]))


def inclusion_path(index: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 6962 §2.1.1, bottom-up."""
    if len(leaves) <= 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return inclusion_path(index, leaves[:k]) + [merkle_root(leaves[k:])]
    return inclusion_path(index - k, leaves[k:]) + [merkle_root(leaves[:k])]


def signed_note(name: str, origin: str, size: int, root: bytes, key: Any, hint_key: Any) -> str:
    """A Rekor checkpoint: the note text, a blank line, `— name base64(keyhint || sig)`; the
    key hint is the first 4 bytes of the log id."""
    text = f"{origin}\n{size}\n{b64(root)}\n"
    hint = key_id(hint_key.public_key())[:4]
    return f"{text}\n\u2014 {name} {b64(hint + sign(key, text.encode()))}\n"


@dataclass
class LogEntry:
    body: bytes
    integrated_time: int
    log_index: int  # the global index: what the SET covers
    tree_index: int  # the index in this shard's tree: what the inclusion proof uses
    log_id: bytes
    signed_entry_timestamp: bytes
    tree_size: int
    root_hash: bytes
    hashes: list[bytes]
    checkpoint: str

    def set_payload(self) -> dict[str, Any]:
        return {"body": b64(self.body), "integratedTime": self.integrated_time,
                "logID": self.log_id.hex(), "logIndex": self.log_index}

    def rekor_bundle_annotation(self) -> bytes:
        """cosign's RekorBundle (`dev.sigstore.cosign/bundle`), Go field order."""
        return go_json({"SignedEntryTimestamp": b64(self.signed_entry_timestamp),
                        "Payload": self.set_payload()})

    def rekor_api_response(self) -> dict[str, Any]:
        """What Rekor's GET /api/v1/log/entries/{uuid} answers (offline pieces for `.sig`)."""
        uuid = leaf_hash(self.body).hex()
        return {uuid: {
            **self.set_payload(),
            "verification": {
                "inclusionProof": {"checkpoint": self.checkpoint,
                                   "hashes": [h.hex() for h in self.hashes],
                                   "logIndex": self.tree_index, "rootHash": self.root_hash.hex(),
                                   "treeSize": self.tree_size},
                "signedEntryTimestamp": b64(self.signed_entry_timestamp),
            },
        }}

    def bundle_entry(self, kind: str) -> dict[str, Any]:
        """protobuf-specs TransparencyLogEntry in protojson (int64 as strings)."""
        return {
            "logIndex": str(self.log_index),
            "logId": {"keyId": b64(self.log_id)},
            "kindVersion": {"kind": kind, "version": "0.0.1"},
            "integratedTime": str(self.integrated_time),
            "inclusionPromise": {"signedEntryTimestamp": b64(self.signed_entry_timestamp)},
            "inclusionProof": {"logIndex": str(self.tree_index), "rootHash": b64(self.root_hash),
                               "treeSize": str(self.tree_size),
                               "hashes": [b64(h) for h in self.hashes],
                               "checkpoint": {"envelope": self.checkpoint}},
            "canonicalizedBody": b64(self.body),
        }


def append_to_log(instance: Instance, body: bytes, integrated_time: int, tampers: set[str],
                  trailing_entries: int) -> LogEntry:
    state = instance.log_state
    leaves = [bytes.fromhex(h) for h in state["leafHashes"]]
    tree_index = len(leaves)
    leaves.append(leaf_hash(body))
    # Later entries make the proof path leave the tree's right border (inner + border hashes).
    leaves.extend(leaf_hash(secrets.token_bytes(64)) for _ in range(trailing_entries))
    state["leafHashes"] = [h.hex() for h in leaves]
    instance.save_log()

    rekor_key = instance.rekor_key
    log_id = key_id(rekor_key.public_key())
    log_index = state["logIndexOffset"] + tree_index
    set_key = generate_key("ecdsa-p256") if "unknown-log-key" in tampers else rekor_key
    set_payload = {"body": b64(body), "integratedTime": integrated_time, "logID": log_id.hex(),
                   "logIndex": log_index}
    root = merkle_root(leaves)
    path = inclusion_path(tree_index, leaves)
    if "bad-inclusion-proof" in tampers:
        path[0] = flip_bit(path[0])
    checkpoint_key = (generate_key("ecdsa-p256") if "unknown-checkpoint-key" in tampers
                      else rekor_key)
    return LogEntry(
        body=body, integrated_time=integrated_time, log_index=log_index, tree_index=tree_index,
        log_id=log_id, signed_entry_timestamp=sign(set_key, canonical_json(set_payload)),
        tree_size=len(leaves), root_hash=root, hashes=path,
        checkpoint=signed_note(state["name"], state["origin"], len(leaves), root,
                               checkpoint_key, rekor_key),
    )


def hashedrekord_body(payload_digest: bytes, digest_name: str, signature: bytes,
                      verifier_pem: bytes) -> bytes:
    """The canonicalized hashedrekord v0.0.1 body Rekor stores (JCS of the entry)."""
    return canonical_json({
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": digest_name, "value": payload_digest.hex()}},
            "signature": {"content": b64(signature),
                          "publicKey": {"content": b64(verifier_pem)}},
        },
    })


def dsse_body(envelope_json: bytes, payload: bytes, signature: bytes,
              verifier_pem: bytes) -> bytes:
    """The canonicalized dsse v0.0.1 body (hashes of the envelope as submitted, of the payload)."""
    return canonical_json({
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {
            "envelopeHash": {"algorithm": "sha256", "value": sha256(envelope_json).hex()},
            "payloadHash": {"algorithm": "sha256", "value": sha256(payload).hex()},
            "signatures": [{"signature": b64(signature), "verifier": b64(verifier_pem)}],
        },
    })


# --------------------------------------------------------------------------------------------
# RFC 3161 timestamps (the TSA): a minimal DER writer for TimeStampResp / CMS SignedData


def der_sequence(*items: bytes) -> bytes:
    return der(0x30, b"".join(items))


def der_set(*items: bytes) -> bytes:
    return der(0x31, b"".join(sorted(items)))  # DER orders SET OF by encoding


def der_integer(value: int) -> bytes:
    return der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True))


def der_oid(dotted: str) -> bytes:
    return der(0x06, _oid_content(dotted))


def _oid_content(dotted: str) -> bytes:
    first, second, *rest = (int(part) for part in dotted.split("."))
    out = bytearray()
    for arc in [first * 40 + second, *rest]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out.extend(reversed(chunk))
    return bytes(out)


def der_generalized_time(moment: dt.datetime) -> bytes:
    return der(0x18, moment.astimezone(dt.timezone.utc).strftime("%Y%m%d%H%M%SZ").encode())


OID_SHA256 = "2.16.840.1.101.3.4.2.1"
OID_ECDSA_SHA256 = "1.2.840.10045.4.3.2"
OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
OID_TST_INFO = "1.2.840.113549.1.9.16.1.4"
OID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
OID_SIGNING_CERTIFICATE_V2 = "1.2.840.113549.1.9.16.2.47"
TSA_POLICY = "1.3.6.1.4.1.57264.2"  # the policy Sigstore's timestamp authority uses


def timestamp_response(tsa_cert: x509.Certificate, tsa_key: Any, message: bytes,
                       gen_time: dt.datetime) -> bytes:
    """A granted TimeStampResp over sha256(message), signed by the TSA with its certificate
    embedded (cosign asks for certReq) and an ESS signingCertificateV2 attribute."""
    sha256_algorithm = der_sequence(der_oid(OID_SHA256))
    tst_info = der_sequence(
        der_integer(1),
        der_oid(TSA_POLICY),
        der_sequence(sha256_algorithm, der_octet_string(sha256(message))),
        der_integer(_serial()),
        der_generalized_time(gen_time),
        der_integer(secrets.randbits(63)),  # nonce
    )
    issuer_and_serial = der_sequence(tsa_cert.issuer.public_bytes(),
                                     der_integer(tsa_cert.serial_number))
    ess_cert_id = der_sequence(der_octet_string(sha256(cert_der(tsa_cert))), der_sequence(
        der_sequence(der(0xA4, tsa_cert.issuer.public_bytes())),
        der_integer(tsa_cert.serial_number)))
    attributes = [
        der_sequence(der_oid(OID_CONTENT_TYPE), der_set(der_oid(OID_TST_INFO))),
        der_sequence(der_oid(OID_MESSAGE_DIGEST), der_set(der_octet_string(sha256(tst_info)))),
        der_sequence(der_oid(OID_SIGNING_CERTIFICATE_V2),
                     der_set(der_sequence(der_sequence(ess_cert_id)))),
    ]
    # The signature covers the attributes as a DER SET; they are stored under [0] IMPLICIT.
    attributes_content = b"".join(sorted(attributes))
    signature = tsa_key.sign(der(0x31, attributes_content), ec.ECDSA(hashes.SHA256()))
    signer_info = der_sequence(
        der_integer(1), issuer_and_serial, sha256_algorithm, der(0xA0, attributes_content),
        der_sequence(der_oid(OID_ECDSA_SHA256)), der_octet_string(signature))
    signed_data = der_sequence(
        der_integer(3),
        der_set(sha256_algorithm),
        der_sequence(der_oid(OID_TST_INFO), der(0xA0, der_octet_string(tst_info))),
        der(0xA0, cert_der(tsa_cert)),
        der_set(signer_info),
    )
    token = der_sequence(der_oid(OID_SIGNED_DATA), der(0xA0, signed_data))
    return der_sequence(der_sequence(der_integer(0)), token)


def make_timestamp(instance: Instance | None, message: bytes, gen_time: dt.datetime,
                   tampers: set[str]) -> bytes:
    if instance is None or instance.tsa_cert is None:
        raise UsageError("--tsa needs a `pki` directory made with a TSA (the default)")
    tsa_cert, tsa_key = instance.tsa_cert, instance.tsa_key
    if "untrusted-tsa" in tampers:
        start = gen_time - dt.timedelta(days=1)
        _, _, tsa_cert, tsa_key = make_tsa(start, start + dt.timedelta(days=30))
    return timestamp_response(tsa_cert, tsa_key, message, gen_time)


# --------------------------------------------------------------------------------------------
# Who signs: a key, or a keyless identity with a fresh certificate


@dataclass
class Signer:
    key: Any  # the key that actually signs
    claimed_public: Any  # the key a verifier is told to use (the cert's key when keyless)
    certificate: x509.Certificate | None = None
    chain: list[x509.Certificate] = field(default_factory=list)

    @property
    def verifier_pem(self) -> bytes:
        """What Rekor records as the verifier: the certificate, else the public key."""
        if self.certificate is not None:
            return cert_pem(self.certificate)
        return public_key_pem(self.claimed_public)


def make_signer(args: argparse.Namespace, instance: Instance | None, signed_at: dt.datetime,
                tampers: set[str]) -> Signer:
    keyless = args.identity is not None
    if keyless == (args.key is not None):
        raise UsageError("give either --key FILE or --identity/--issuer (keyless), not both")
    if not keyless:
        if args.source_repository or args.source_ref or args.source_digest:
            raise UsageError("--source-repository/--source-ref/--source-digest need a keyless "
                             "signing (they are certificate extensions)")
        stray = tampers & CERTIFICATE_TAMPERS
        if stray:
            raise UsageError(f"--tamper {', '.join(sorted(stray))} needs a keyless signing")
        key = load_private_key(args.key)
        signing_key = generate_key("ecdsa-p256") if "wrong-key" in tampers else key
        return Signer(key=signing_key, claimed_public=key.public_key())
    if instance is None or args.issuer is None:
        raise UsageError("keyless signing needs --pki DIR and --issuer URL")
    source = [(oid, value) for oid, value in ((OID_SOURCE_REPOSITORY_URI, args.source_repository),
                                              (OID_SOURCE_REPOSITORY_DIGEST, args.source_digest),
                                              (OID_SOURCE_REPOSITORY_REF, args.source_ref))
              if value is not None]
    identity = Identity(args.identity, args.issuer, source)
    ephemeral = generate_key("ecdsa-p256")  # cosign's ephemeral keyless key
    issuer_cert, issuer_key = instance.intermediate_cert, instance.intermediate_key
    chain = instance.chain
    if "untrusted-ca" in tampers:
        start = signed_at - dt.timedelta(days=1)
        root, _, issuer_cert, issuer_key = make_ca_chain(start, start + dt.timedelta(days=365),
                                                         "ecdsa-p384", "untrusted.test")
        chain = [issuer_cert, root]
    ct_key: Any | None = instance.ct_key
    if "no-sct" in tampers:
        ct_key = None
    elif "unknown-ct-key" in tampers:
        ct_key = generate_key("ecdsa-p256")
    not_before = signed_at
    if "expired-cert" in tampers:
        not_before = signed_at - 2 * CERT_LIFETIME
    certificate = issue_leaf(issuer_cert, issuer_key, ct_key, ephemeral.public_key(), identity,
                             not_before)
    if "transplanted-cert" in tampers:
        other = generate_key("ecdsa-p256")
        certificate = issue_leaf(issuer_cert, issuer_key, ct_key, other.public_key(), identity,
                                 not_before)
    signing_key = generate_key("ecdsa-p256") if "wrong-key" in tampers else ephemeral
    return Signer(key=signing_key, claimed_public=certificate.public_key(),
                  certificate=certificate, chain=chain)


# --------------------------------------------------------------------------------------------
# OCI image layout output


class Layout:
    """An OCI image layout directory (blobs + index.json) that skopeo can copy from."""

    def __init__(self, path: Path) -> None:
        self.path = path
        (path / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        (path / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
        self.refs: list[dict[str, Any]] = []

    def blob(self, content: bytes, media_type: str) -> dict[str, Any]:
        digest = hashlib.sha256(content).hexdigest()
        (self.path / "blobs" / "sha256" / digest).write_bytes(content)
        return {"mediaType": media_type, "size": len(content), "digest": f"sha256:{digest}"}

    def copy_blobs_from(self, other: Path) -> None:
        for blob in (other / "blobs" / "sha256").iterdir():
            shutil.copyfile(blob, self.path / "blobs" / "sha256" / blob.name)

    def ref(self, descriptor: dict[str, Any], name: str) -> None:
        self.refs.append({**descriptor,
                          "annotations": {"org.opencontainers.image.ref.name": name}})

    def finish(self) -> None:
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": self.refs}
        (self.path / "index.json").write_text(json.dumps(index, indent=2) + "\n")


def tag_for(digest: str) -> str:
    """The tag-schema form of a digest: `sha256:abc` → `sha256-abc`."""
    return digest.replace(":", "-", 1)


# --------------------------------------------------------------------------------------------
# What is signed: the image, its simple-signing payload, its in-toto Statement


@dataclass
class Image:
    digest: str
    size: int | None
    media_type: str


def image_from_args(args: argparse.Namespace) -> Image:
    if args.image_manifest is not None:
        raw = args.image_manifest.read_bytes()
        media_type = json.loads(raw).get("mediaType") or args.image_media_type
        return Image(f"sha256:{hashlib.sha256(raw).hexdigest()}", len(raw), media_type)
    if args.image_digest is None:
        raise UsageError("give --image-digest sha256:HEX or --image-manifest FILE")
    algorithm, _, hex_part = args.image_digest.partition(":")
    if algorithm != "sha256" or len(hex_part) != 64:
        raise UsageError(f"`{args.image_digest}` is not a sha256:<64 hex> digest")
    return Image(args.image_digest, args.image_size, args.image_media_type)


def docker_reference(repository: str) -> str:
    """go-containerregistry's Repository.Name(): the default registry and `library/` made
    explicit, as cosign writes `critical.identity.docker-reference`."""
    first, _, rest = repository.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return repository
    path = repository if rest else f"library/{repository}"
    return f"index.docker.io/{path}"


def parse_annotations(pairs: list[str]) -> dict[str, str]:
    annotations = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"annotation `{pair}` is not KEY=VALUE")
        annotations[key] = value
    return annotations


def random_digest() -> str:
    return f"sha256:{secrets.token_hex(32)}"


def simple_signing_payload(image_digest: str, reference: str,
                           annotations: dict[str, str]) -> bytes:
    return go_json({
        "critical": {
            "identity": {"docker-reference": reference},
            "image": {"docker-manifest-digest": image_digest},
            "type": COSIGN_SIGNATURE_TYPE,
        },
        "optional": sorted_map(annotations) if annotations else None,
    })


def in_toto_statement(statement_type: str, image_digest: str, subject_name: str | None,
                      annotations: dict[str, str] | None, predicate_type: str,
                      predicate: dict[str, Any]) -> bytes:
    """The Statement as cosign's protojson writes it (ResourceDescriptor field order; Struct
    keys sorted)."""
    subject: dict[str, Any] = {}
    if subject_name:
        subject["name"] = subject_name
    subject["digest"] = {"sha256": image_digest.partition(":")[2]}
    if annotations is not None:
        subject["annotations"] = sorted_map(annotations)
    fields = [("_type", _compact(statement_type)), ("subject", _compact([subject])),
              ("predicateType", _compact(predicate_type)),
              ("predicate", _sorted_compact(predicate))]
    return ("{" + ",".join(f"{_compact(name)}:{value}" for name, value in fields) + "}").encode()


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _sorted_compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


# --------------------------------------------------------------------------------------------
# sign-legacy: cosign v2's `sha256-<hex>.sig` manifest


def signing_time(args: argparse.Namespace) -> dt.datetime:
    moment = parse_time(args.time) if args.time else now_utc()
    return moment.replace(microsecond=0)


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def parse_time(text: str) -> dt.datetime:
    if text.isdigit():
        return dt.datetime.fromtimestamp(int(text), dt.timezone.utc)
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise UsageError(f"`{text}` is neither RFC 3339 nor a unix time") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def load_instance(args: argparse.Namespace, needs_pki: bool) -> Instance | None:
    if args.pki is None:
        if needs_pki or args.identity is not None:
            raise UsageError("this signing needs --pki DIR (CA, Rekor, TSA); or pass --no-tlog")
        return None
    return Instance.load(args.pki)


def check_tampers(tampers: set[str], args: argparse.Namespace) -> None:
    if not args.tlog and tampers & LOG_TAMPERS:
        raise UsageError(f"--tamper {', '.join(sorted(tampers & LOG_TAMPERS))} needs --tlog")
    if "untrusted-tsa" in tampers and not args.tsa:
        raise UsageError("--tamper untrusted-tsa needs --tsa")


def command_sign_legacy(args: argparse.Namespace) -> dict[str, Any]:
    tampers = set(args.tamper)
    check_tampers(tampers, args)
    image = image_from_args(args)
    instance = load_instance(args, args.tlog or args.tsa)
    signed_at = signing_time(args)
    signer = make_signer(args, instance, signed_at, tampers)
    reference = args.claimed_identity or docker_reference(args.repository)
    annotations = parse_annotations(args.annotation)

    claimed_digest = random_digest() if "other-digest" in tampers else image.digest
    payload = simple_signing_payload(claimed_digest, reference, annotations)
    signature = sign(signer.key, payload)
    if "flip-signature" in tampers:
        signature = flip_bit(signature)

    layer_annotations = {SIGNATURE_ANNOTATION: b64(signature)}
    if signer.certificate is not None:
        layer_annotations[CERTIFICATE_ANNOTATION] = cert_pem(signer.certificate).decode()
        chain = b"" if args.chain_style == "v3" else b"".join(cert_pem(c) for c in signer.chain)
        layer_annotations[CHAIN_ANNOTATION] = chain.decode()

    timestamp = None
    if args.tsa:
        timestamp = make_timestamp(instance, signature, signed_at + dt.timedelta(seconds=1),
                                   tampers)
        layer_annotations[RFC3161_ANNOTATION] = go_json(
            {"SignedRFC3161Timestamp": b64(timestamp)}).decode()

    entry = None
    if args.tlog:
        assert instance is not None
        algorithm = hash_algorithm(signer.key)
        logged_signature = signature
        if "body-for-other-signature" in tampers:
            logged_signature = sign(signer.key, payload)  # another valid signature, other bytes
        body = hashedrekord_body(_digest(algorithm, payload), algorithm.name, logged_signature,
                                 signer.verifier_pem)
        entry = append_to_log(instance, body, int(signed_at.timestamp()) + SECONDS_TO_INTEGRATION,
                              tampers, args.trailing_entries)
        layer_annotations[BUNDLE_ANNOTATION] = entry.rekor_bundle_annotation().decode()

    if "modified-payload" in tampers:
        payload = payload.replace(b'"optional":', b'"optional" :', 1)

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    signatures = _previous_signatures(args.append_from, image.digest)
    signatures.append({"payload": b64(payload), "annotations": sorted_map(layer_annotations)})
    layout = Layout(out / "layout")
    config_created = (rfc3339(signed_at) if args.record_creation_timestamp
                      else "0001-01-01T00:00:00Z")
    manifest = signature_manifest(layout, signatures, config_created)
    tag = f"{tag_for(image.digest)}.sig"
    layout.ref(layout.blob(manifest, OCI_MANIFEST), tag)
    layout.finish()

    files = {"payload.json": payload, "signature.b64": b64(signature).encode(),
             "manifest.json": manifest,
             "signatures.json": (json.dumps({"image": image.digest, "signatures": signatures},
                                            indent=2) + "\n").encode()}
    if signer.certificate is not None:
        files["cert.pem"] = cert_pem(signer.certificate)
        files["chain.pem"] = b"".join(cert_pem(c) for c in signer.chain)
    else:
        files["key.pub"] = public_key_pem(signer.claimed_public)
    if timestamp is not None:
        files["timestamp.tsr"] = timestamp
    if entry is not None:
        files["rekor-bundle.json"] = entry.rekor_bundle_annotation()
        files["rekor-entry.json"] = (json.dumps(entry.rekor_api_response(), indent=2)
                                     + "\n").encode()
    for name, content in files.items():
        (out / name).write_bytes(content)
    push = [f"skopeo copy --dest-tls-verify=false oci:{out / 'layout'}:{tag} "
            f"docker://{args.repository}:{tag}"]
    return {"format": "legacy", "image": image.digest, "tag": tag, "layout": str(out / "layout"),
            "manifestDigest": f"sha256:{hashlib.sha256(manifest).hexdigest()}",
            "tampers": sorted(tampers), "logIndex": entry.log_index if entry else None,
            "push": push}


def _digest(algorithm: hashes.HashAlgorithm, data: bytes) -> bytes:
    digest = hashes.Hash(algorithm)
    digest.update(data)
    return digest.finalize()


def _previous_signatures(previous: Path | None, image_digest: str) -> list[dict[str, Any]]:
    if previous is None:
        return []
    record = json.loads((previous / "signatures.json").read_text())
    if record["image"] != image_digest:
        raise UsageError(f"{previous} signed {record['image']}, not {image_digest}")
    return record["signatures"]


def signature_manifest(layout: Layout, signatures: list[dict[str, Any]], created: str) -> bytes:
    """What go-containerregistry's mutate.Append on cosign's empty OCI image writes: one layer
    per signature, a config whose rootfs lists each payload's digest."""
    layers = []
    for signature in signatures:
        descriptor = layout.blob(base64.b64decode(signature["payload"]),
                                 SIMPLE_SIGNING_MEDIA_TYPE)
        layers.append({**descriptor, "annotations": signature["annotations"]})
    config = go_json({
        "architecture": "",
        "created": created,
        "history": [{"created": "0001-01-01T00:00:00Z"} for _ in layers],
        "os": "",
        "rootfs": {"type": "layers", "diff_ids": [layer["digest"] for layer in layers]},
        "config": {},
    })
    return go_json({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                    "config": layout.blob(config, OCI_CONFIG), "layers": layers})


# --------------------------------------------------------------------------------------------
# sign-bundle: cosign v3's Sigstore bundle as an OCI 1.1 referrer


def command_sign_bundle(args: argparse.Namespace) -> dict[str, Any]:
    tampers = set(args.tamper)
    check_tampers(tampers, args)
    image = image_from_args(args)
    instance = load_instance(args, args.tlog or args.tsa)
    if image.size is None:
        raise UsageError("the referrer's subject needs the image's size: --image-size N "
                         "(or --image-manifest FILE)")
    signed_at = signing_time(args)
    signer = make_signer(args, instance, signed_at, tampers)

    claimed_digest = random_digest() if "other-digest" in tampers else image.digest
    statement = build_statement(args, claimed_digest)
    signature = sign(signer.key, pae(IN_TOTO_PAYLOAD_TYPE, statement))
    if "flip-signature" in tampers:
        signature = flip_bit(signature)

    entry = None
    if args.tlog:
        assert instance is not None
        logged_signature = signature
        if "body-for-other-signature" in tampers:
            logged_signature = sign(signer.key, pae(IN_TOTO_PAYLOAD_TYPE, statement))
        # Rekor hashes the envelope exactly as the client submitted it (Go's dsse.Envelope).
        submitted = go_json({"payloadType": IN_TOTO_PAYLOAD_TYPE, "payload": b64(statement),
                             "signatures": [{"keyid": "", "sig": b64(logged_signature)}]})
        body = dsse_body(submitted, statement, logged_signature, signer.verifier_pem)
        entry = append_to_log(instance, body, int(signed_at.timestamp()) + SECONDS_TO_INTEGRATION,
                              tampers, args.trailing_entries)

    if "modified-payload" in tampers:
        statement = statement.replace(b'"predicate":', b'"predicate" :', 1)

    timestamp = None
    if args.tsa:
        timestamp = make_timestamp(instance, signature, signed_at + dt.timedelta(seconds=1),
                                   tampers)
    bundle = sigstore_bundle(signer, statement, signature, entry, timestamp)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    layout = Layout(out / "layout")
    previous_entries = _previous_referrers(layout, args.append_from, image.digest)
    predicate_type = args.predicate_type
    artifact = referrer_manifest(layout, bundle, image, predicate_type, signed_at)
    artifact_descriptor = layout.blob(artifact, OCI_MANIFEST)
    index = referrers_index(previous_entries + [{**artifact_descriptor,
                                                 "artifactType": BUNDLE_MEDIA_TYPE}])
    tag = tag_for(image.digest)
    layout.ref(layout.blob(index, OCI_INDEX), tag)
    layout.ref(artifact_descriptor, "bundle")
    layout.finish()

    files = {"bundle.json": bundle, "statement.json": statement, "manifest.json": artifact,
             "referrers-index.json": index,
             "referrer.json": (json.dumps({"image": image.digest,
                                           "descriptor": artifact_descriptor}, indent=2)
                               + "\n").encode()}
    if signer.certificate is not None:
        files["cert.pem"] = cert_pem(signer.certificate)
    else:
        files["key.pub"] = public_key_pem(signer.claimed_public)
    for name, content in files.items():
        (out / name).write_bytes(content)
    host, _, path = args.repository.partition("/")
    push = [
        # skopeo keeps the artifact manifest's bytes when pushing it by digest, but cannot push
        # the index unchanged (it would re-serialize it and drop artifactType), so PUT that.
        f"skopeo copy --preserve-digests --dest-tls-verify=false oci:{out / 'layout'}:bundle "
        f"docker://{args.repository}@{artifact_descriptor['digest']}",
        f"curl -fsS -X PUT -H 'Content-Type: {OCI_INDEX}' "
        f"--data-binary @{out / 'referrers-index.json'} http://{host}/v2/{path}/manifests/{tag}",
    ]
    return {"format": "bundle", "image": image.digest, "tag": tag, "layout": str(out / "layout"),
            "artifactDigest": artifact_descriptor["digest"], "tampers": sorted(tampers),
            "logIndex": entry.log_index if entry else None, "push": push}


def build_statement(args: argparse.Namespace, image_digest: str) -> bytes:
    annotations = parse_annotations(args.annotation)
    if args.predicate is None:
        # `cosign sign`: Statement v1, no subject name, annotations always present, {} predicate.
        statement_type = args.statement_type or STATEMENT_V1
        return in_toto_statement(statement_type, image_digest, args.subject_name, annotations,
                                 args.predicate_type, {})
    # `cosign attest --predicate`: still a v0.1 Statement, the subject named after the repository.
    try:
        predicate = json.loads(args.predicate.read_text())
    except (OSError, ValueError) as error:
        raise UsageError(f"cannot read predicate {args.predicate}: {error}") from error
    if not isinstance(predicate, dict):
        raise UsageError("the predicate must be a JSON object")
    statement_type = args.statement_type or STATEMENT_V01
    name = args.subject_name if args.subject_name is not None else args.repository
    return in_toto_statement(statement_type, image_digest, name, annotations or None,
                             args.predicate_type, predicate)


def sigstore_bundle(signer: Signer, statement: bytes, signature: bytes,
                    entry: LogEntry | None, timestamp: bytes | None) -> bytes:
    material: dict[str, Any] = {}
    if signer.certificate is not None:
        material["certificate"] = {"rawBytes": b64(cert_der(signer.certificate))}
    else:
        material["publicKey"] = {"hint": b64(key_id(signer.claimed_public))}
    if entry is not None:
        material["tlogEntries"] = [entry.bundle_entry("dsse")]
    if timestamp is not None:
        material["timestampVerificationData"] = {
            "rfc3161Timestamps": [{"signedTimestamp": b64(timestamp)}]}
    return proto_json({
        "mediaType": BUNDLE_MEDIA_TYPE,
        "verificationMaterial": material,
        "dsseEnvelope": {"payload": b64(statement), "payloadType": IN_TOTO_PAYLOAD_TYPE,
                         "signatures": [{"sig": b64(signature)}]},
    })


def referrer_manifest(layout: Layout, bundle: bytes, image: Image, predicate_type: str,
                      created: dt.datetime) -> bytes:
    """cosign's WriteReferrer: empty config (whose descriptor carries the artifactType too),
    the bundle as the only layer, the image as subject, artifactType last."""
    layout.blob(EMPTY_JSON, OCI_EMPTY)
    config = {"mediaType": OCI_EMPTY, "size": len(EMPTY_JSON),
              "digest": f"sha256:{hashlib.sha256(EMPTY_JSON).hexdigest()}",
              "artifactType": BUNDLE_MEDIA_TYPE}
    return go_json({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config,
        "layers": [layout.blob(bundle, BUNDLE_MEDIA_TYPE)],
        "annotations": sorted_map({
            "dev.sigstore.bundle.content": "dsse-envelope",
            "dev.sigstore.bundle.predicateType": predicate_type,
            "org.opencontainers.image.created": rfc3339(created),
        }),
        "subject": {"mediaType": image.media_type, "size": image.size, "digest": image.digest},
        "artifactType": BUNDLE_MEDIA_TYPE,
    })


def referrers_index(entries: list[dict[str, Any]]) -> bytes:
    """The referrers tag-schema index as go-containerregistry maintains it: descriptors only
    (no annotations), sorted by digest."""
    unique = {e["digest"]: e for e in entries}
    manifests = [unique[d] for d in sorted(unique)]
    return go_json({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests})


def _previous_referrers(layout: Layout, previous: Path | None,
                        image_digest: str) -> list[dict[str, Any]]:
    if previous is None:
        return []
    record = json.loads((previous / "referrer.json").read_text())
    if record["image"] != image_digest:
        raise UsageError(f"{previous} refers to {record['image']}, not {image_digest}")
    layout.copy_blobs_from(previous / "layout")
    index = json.loads((previous / "referrers-index.json").read_text())
    return index["manifests"]


# --------------------------------------------------------------------------------------------
# keygen


def command_keygen(args: argparse.Namespace) -> dict[str, Any]:
    key = generate_key(args.kind, args.rsa_bits)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    (out / "key.pem").write_bytes(private_key_pem(key))
    os.chmod(out / "key.pem", 0o600)
    (out / "key.pub").write_bytes(public_key_pem(key.public_key()))
    return {"privateKey": str(out / "key.pem"), "publicKey": str(out / "key.pub"),
            "keyId": key_id(key.public_key()).hex(), "keyDetails": key_details(key.public_key())}


# --------------------------------------------------------------------------------------------
# CLI


def _add_signing_arguments(parser: argparse.ArgumentParser) -> None:
    image = parser.add_argument_group("the image")
    image.add_argument("--image-digest", help="manifest digest, sha256:<hex>")
    image.add_argument("--image-manifest", type=Path,
                       help="the raw manifest (skopeo inspect --raw): digest, size, media type")
    image.add_argument("--image-size", type=int, help="manifest size in bytes")
    image.add_argument("--image-media-type", default=OCI_MANIFEST)
    image.add_argument("--repository", required=True,
                       help="where the image lives, e.g. 127.0.0.1:5000/demo")
    who = parser.add_argument_group("who signs")
    who.add_argument("--key", type=Path, help="PKCS#8 private key (keygen's key.pem)")
    who.add_argument("--identity", help="keyless: SAN e-mail or URI of the signer")
    who.add_argument("--issuer", help="keyless: OIDC issuer URL")
    who.add_argument("--source-repository", metavar="URI",
                     help="keyless: Fulcio's source repository URI (1.3.6.1.4.1.57264.1.12)")
    who.add_argument("--source-ref", metavar="REF",
                     help="keyless: Fulcio's source repository ref (1.3.6.1.4.1.57264.1.14)")
    who.add_argument("--source-digest", metavar="SHA",
                     help="keyless: Fulcio's source repository digest (1.3.6.1.4.1.57264.1.13)")
    who.add_argument("--pki", type=Path, help="the `pki` directory (CA, CT and Rekor keys)")
    log = parser.add_argument_group("transparency log")
    log.add_argument("--tlog", action=argparse.BooleanOptionalAction, default=True,
                     help="log to the toy Rekor and attach its proofs (cosign's default)")
    log.add_argument("--trailing-entries", type=int, default=3,
                     help="unrelated entries logged after this one")
    log.add_argument("--tsa", action="store_true",
                     help="add an RFC 3161 timestamp of the signature from the pki's TSA")
    parser.add_argument("-a", "--annotation", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--time", help="signing time, RFC 3339 or unix seconds (default: now)")
    parser.add_argument("--tamper", action="append", default=[], choices=sorted(TAMPERS),
                        metavar="CASE", help="break one binding (repeatable); see `tampers`")
    parser.add_argument("--append-from", type=Path,
                        help="an earlier output dir for the same image: keep its signatures")
    parser.add_argument("--out", type=Path, required=True, help="output directory")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="signer.py", description=__doc__.split("\n\n")[0])
    commands = top.add_subparsers(dest="command", required=True)

    keygen = commands.add_parser("keygen", help="a signing key pair")
    keygen.add_argument("--kind", choices=KEY_KINDS, default="ecdsa-p256")
    keygen.add_argument("--rsa-bits", type=int, choices=(2048, 3072, 4096), default=2048)
    keygen.add_argument("--out", type=Path, required=True)

    pki = commands.add_parser("pki", help="a throwaway Sigstore instance and its trusted root")
    pki.add_argument("--out", type=Path, required=True)
    pki.add_argument("--name", default="portcullis.test", help="instance name (URLs, CA subject)")
    pki.add_argument("--ca-kind", choices=("ecdsa-p384", "ecdsa-p256"), default="ecdsa-p384")
    pki.add_argument("--tsa", action=argparse.BooleanOptionalAction, default=True,
                     help="include a timestamp authority chain in the trusted root")
    pki.add_argument("--start", help="validity start (default: a day ago)")
    pki.add_argument("--years", type=int, default=10)
    pki.add_argument("--seed-entries", type=int, default=5,
                     help="unrelated entries already in the log")
    pki.add_argument("--log-index-offset", type=int, default=0,
                     help="global logIndex minus tree index, as on a sharded Rekor")

    legacy = commands.add_parser("sign-legacy", help="cosign v2: the `sha256-<hex>.sig` tag")
    _add_signing_arguments(legacy)
    legacy.add_argument("--claimed-identity",
                        help="docker-reference to claim (cosign --sign-container-identity)")
    legacy.add_argument("--chain-style", choices=("v2", "v3"), default="v2",
                        help="v2: chain annotation = intermediate + root; v3: empty")
    legacy.add_argument("--record-creation-timestamp", action="store_true")

    bundle = commands.add_parser("sign-bundle", help="cosign v3: a Sigstore bundle referrer")
    _add_signing_arguments(bundle)
    bundle.add_argument("--predicate-type", default=COSIGN_SIGN_PREDICATE)
    bundle.add_argument("--predicate", type=Path, help="predicate JSON (an attestation)")
    bundle.add_argument("--statement-type", choices=(STATEMENT_V1, STATEMENT_V01), metavar="URI",
                        help="default: v1 for signatures, v0.1 for --predicate (as cosign)")
    bundle.add_argument("--subject-name", help="in-toto subject name (default: none for "
                                               "signatures, the repository for attestations)")

    commands.add_parser("tampers", help="list the --tamper cases")
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "tampers":
            for name, what in TAMPERS.items():
                print(f"{name:26} {what}")
            return 0
        command = {"keygen": command_keygen, "pki": command_pki,
                   "sign-legacy": command_sign_legacy, "sign-bundle": command_sign_bundle}
        summary = command[args.command](args)
    except UsageError as error:
        print(f"signer.py: {error}", file=sys.stderr)
        return 2
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
