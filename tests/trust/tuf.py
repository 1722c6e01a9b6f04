#!/usr/bin/env python3
"""An independent Notary v1 (Docker Content Trust) repository writer and server, for tests.

It writes the TUF metadata a Notary server serves for one GUN, in Notary's own shapes, so that
portcullis' Notary verifier can be tested against trust data made by code that shares nothing
with it, including faults a real Notary will not produce (an expired timestamp):

* `write`  root.json, targets.json, snapshot.json, timestamp.json (and delegations' metadata)
           signed with fresh or reused keys; `root.crt` is the root certificate to pin.
* `serve`  serves a written directory over HTTPS as notary-server does, at
           `/v2/<gun>/_trust/tuf/<role>.json` (also `<N>.<role>.json`, `<role>.<sha256>.json`),
           re-reading the files on every request so a test can swap them.

The formats, as notary-server 0.7 and the `notary` client write them (tests/image/notary.rs):

* root key: ECDSA P-256 with a self-signed x509 certificate (CN = the GUN, not a CA), keytype
  `ecdsa-x509`, `keyval.public` = base64 of the certificate PEM;
* targets, snapshot, timestamp keys: ECDSA P-256, keytype `ecdsa`, `keyval.public` = base64 of
  the SubjectPublicKeyInfo DER; delegation keys `ecdsa-x509` like the root;
* key id = hex SHA-256 of the canonical JSON of `{"keytype", "keyval": {"private": null,
  "public"}}`; Notary's "canonical" id of an x509 key (what `notary key list` prints) is the id
  of its public key as a plain `ecdsa` key — both are in the summary;
* a signature: `{"keyid", "method": "ecdsa", "sig": base64(r || s)}` over SHA-256 of the
  canonical JSON of `signed` (docker/go canonical/json: object keys sorted by bytes, no
  whitespace, strings escape only `\\` and `"`, integers only);
* file meta: `{"hashes": {"sha256": base64, "sha512": base64}, "length": N}`; targets from
  `--target` carry only sha256, as `docker trust sign` records an image;
* `expires` is RFC 3339 UTC; `--expire ROLE` puts it an hour in the past.

Deps: `cryptography` only (for `write`; `serve` needs only the standard library).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import http.server
import json
import re
import ssl
import sys
from pathlib import Path
from typing import Any

BASE_ROLES = ("root", "targets", "snapshot", "timestamp")
# Notary's default lifetimes (notary.NotaryRootExpiry, NotaryTargetsExpiry, …).
LIFETIMES = {
    "root": dt.timedelta(days=3650),
    "targets": dt.timedelta(days=3 * 365),
    "snapshot": dt.timedelta(days=3 * 365),
    "timestamp": dt.timedelta(days=14),
}
DELEGATION_LIFETIME = dt.timedelta(days=3 * 365)

# --------------------------------------------------------------------------------------------
# Canonical JSON (docker/go canonical/json, as Notary signs and verifies)


def canonical(value: Any) -> bytes:
    return _canonical(value).encode("utf-8")


def _canonical(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ",".join(_canonical(v) for v in value) + "]"
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: kv[0].encode("utf-8"))
        return "{" + ",".join(_canonical(k) + ":" + _canonical(v) for k, v in items) + "}"
    raise TypeError(f"not canonical JSON: {value!r}")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def rfc3339(when: dt.datetime) -> str:
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------------------------
# Keys


class Key:
    """An ECDSA P-256 signing key, as a TUF key: plain (`ecdsa`) or with a certificate."""

    def __init__(self, private: Any, cert_pem: bytes | None = None) -> None:
        from cryptography.hazmat.primitives import serialization

        self.private = private
        self.cert_pem = cert_pem
        spki = private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.plain = {"keytype": "ecdsa", "keyval": {"private": None, "public": b64(spki)}}
        if cert_pem is None:
            self.tuf = self.plain
        else:
            self.tuf = {"keytype": "ecdsa-x509", "keyval": {"private": None, "public": b64(cert_pem)}}

    @property
    def id(self) -> str:
        return hashlib.sha256(canonical(self.tuf)).hexdigest()

    @property
    def canonical_id(self) -> str:
        """Notary's canonical id (`utils.CanonicalKeyID`), what `notary key list` prints."""
        return hashlib.sha256(canonical(self.plain)).hexdigest()

    def sign(self, message: bytes) -> dict[str, str]:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        r, s = decode_dss_signature(self.private.sign(message, ec.ECDSA(hashes.SHA256())))
        return {"keyid": self.id, "method": "ecdsa", "sig": b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))}

    def private_pem(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return self.private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )


def self_signed_certificate(private: Any, common_name: str, now: dt.datetime, lifetime: dt.timedelta) -> bytes:
    """A certificate like Notary's `utils.NewCertificate`: CN, code signing, not a CA."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + lifetime)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=True,
                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(private, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def load_or_make_key(keys_dir: Path | None, name: str, cert_cn: str | None, now: dt.datetime,
                     lifetime: dt.timedelta) -> Key:
    """`KEYS/keys/<name>.key` (and `.crt`) when reusing keys, else a new key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    safe = name.replace("/", "_")
    if keys_dir is not None and (keys_dir / "keys" / f"{safe}.key").exists():
        private = serialization.load_pem_private_key((keys_dir / "keys" / f"{safe}.key").read_bytes(), None)
        cert_path = keys_dir / "keys" / f"{safe}.crt"
        cert = cert_path.read_bytes() if cert_cn is not None and cert_path.exists() else None
        if cert_cn is not None and cert is None:
            cert = self_signed_certificate(private, cert_cn, now, lifetime)
        return Key(private, cert)
    private = ec.generate_private_key(ec.SECP256R1())
    cert = self_signed_certificate(private, cert_cn, now, lifetime) if cert_cn is not None else None
    return Key(private, cert)


# --------------------------------------------------------------------------------------------
# Metadata


def envelope(signed: dict[str, Any], keys: list[Key]) -> bytes:
    """`{"signed":…,"signatures":[…]}` as Notary stores it (signed part canonical)."""
    message = canonical(signed)
    signatures = [key.sign(message) for key in keys]
    return b'{"signed":' + message + b',"signatures":' + canonical(signatures) + b"}"


def file_meta(data: bytes) -> dict[str, Any]:
    return {
        "hashes": {
            "sha256": b64(hashlib.sha256(data).digest()),
            "sha512": b64(hashlib.sha512(data).digest()),
        },
        "length": len(data),
    }


def parse_target(text: str) -> tuple[str, str, str, int]:
    """`[ROLE:]TAG=SHA256HEX:SIZE` -> (role, tag, hex, size)."""
    match = re.fullmatch(r"(?:(targets/[^:=]+):)?([^:=]+)=([0-9a-fA-F]{64}):([0-9]+)", text)
    if not match:
        raise SystemExit(f"--target {text!r}: expected [ROLE:]TAG=SHA256HEX:SIZE")
    role, tag, digest, size = match.groups()
    return role or "targets", tag, digest.lower(), int(size)


def command_write(args: argparse.Namespace) -> dict[str, Any]:
    now = dt.datetime.now(dt.timezone.utc)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "keys").mkdir(exist_ok=True)
    keys_dir = Path(args.keys) if args.keys else None
    gun = args.gun

    targets_by_role: dict[str, dict[str, Any]] = {"targets": {}}
    for role in args.delegation:
        targets_by_role.setdefault(role, {})
    for text in args.target:
        role, tag, digest, size = parse_target(text)
        targets_by_role.setdefault(role, {})[tag] = {
            "hashes": {"sha256": b64(bytes.fromhex(digest))},
            "length": size,
        }
    delegations = sorted(r for r in targets_by_role if r != "targets")
    for role in args.expire:
        if role not in BASE_ROLES and role not in delegations:
            raise SystemExit(f"--expire {role!r}: not one of {', '.join(BASE_ROLES + tuple(delegations))}")
    versions = {role: 1 for role in (*BASE_ROLES, *delegations)}
    for text in args.version:
        role, _, number = text.partition("=")
        if role not in versions or not number.isdigit():
            raise SystemExit(f"--version {text!r}: expected ROLE=N for one of {', '.join(versions)}")
        versions[role] = int(number)

    def expires(role: str) -> str:
        if role in args.expire:
            return rfc3339(now - dt.timedelta(hours=1))
        return rfc3339(now + LIFETIMES.get(role, DELEGATION_LIFETIME))

    keys = {
        "root": load_or_make_key(keys_dir, "root", gun, now, LIFETIMES["root"]),
        **{role: load_or_make_key(keys_dir, role, None, now, LIFETIMES[role]) for role in BASE_ROLES[1:]},
        **{role: load_or_make_key(keys_dir, role, role, now, DELEGATION_LIFETIME) for role in delegations},
    }

    root = {
        "_type": "Root",
        "consistent_snapshot": False,
        "expires": expires("root"),
        "keys": {keys[role].id: keys[role].tuf for role in BASE_ROLES},
        "roles": {role: {"keyids": [keys[role].id], "threshold": 1} for role in BASE_ROLES},
        "version": versions["root"],
    }
    root_bytes = envelope(root, [keys["root"]])

    written: dict[str, bytes] = {"root": root_bytes}
    for role in delegations:
        written[role] = envelope(
            {
                "_type": "Targets",
                "delegations": {"keys": {}, "roles": []},
                "expires": expires(role),
                "targets": targets_by_role[role],
                "version": versions[role],
            },
            [keys[role]],
        )
    written["targets"] = envelope(
        {
            "_type": "Targets",
            "delegations": {
                "keys": {keys[role].id: keys[role].tuf for role in delegations},
                "roles": [
                    {"keyids": [keys[role].id], "name": role, "paths": [""], "threshold": 1}
                    for role in delegations
                ],
            },
            "expires": expires("targets"),
            "targets": targets_by_role["targets"],
            "version": versions["targets"],
        },
        [keys["targets"]],
    )
    snapshot_meta = {role: file_meta(written[role]) for role in ("root", "targets", *delegations)}
    written["snapshot"] = envelope(
        {"_type": "Snapshot", "expires": expires("snapshot"), "meta": snapshot_meta,
         "version": versions["snapshot"]},
        [keys["snapshot"]],
    )
    written["timestamp"] = envelope(
        {"_type": "Timestamp", "expires": expires("timestamp"),
         "meta": {"snapshot": file_meta(written["snapshot"])}, "version": versions["timestamp"]},
        [keys["timestamp"]],
    )

    for role, data in written.items():
        path = out / f"{role}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (out / f"{versions['root']}.root.json").write_bytes(root_bytes)
    for role, key in keys.items():
        safe = role.replace("/", "_")
        (out / "keys" / f"{safe}.key").write_bytes(key.private_pem())
        if key.cert_pem is not None:
            (out / "keys" / f"{safe}.crt").write_bytes(key.cert_pem)
    assert keys["root"].cert_pem is not None
    (out / "root.crt").write_bytes(keys["root"].cert_pem)

    summary = {
        "gun": gun,
        "dir": str(out),
        "root_cert": str(out / "root.crt"),
        "roles": {
            role: {
                "key_id": key.id,
                "canonical_key_id": key.canonical_id,
                "keytype": key.tuf["keytype"],
                "version": versions[role],
                "expires": expires(role),
            }
            for role, key in keys.items()
        },
        "targets": {
            role: {tag: {"sha256": base64.b64decode(t["hashes"]["sha256"]).hex(), "length": t["length"]}
                   for tag, t in targets.items()}
            for role, targets in targets_by_role.items()
        },
    }
    (out / "repo.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


# --------------------------------------------------------------------------------------------
# Serving


class Handler(http.server.BaseHTTPRequestHandler):
    directory: Path
    gun: str | None
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        sys.stderr.write("tuf.py serve: " + (format % args) + "\n")

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        body = self.lookup(self.path.split("?", 1)[0])
        if body is None:
            self.reply(404, b'{"errors":[{"code":"METADATA_NOT_FOUND"}]}')
        else:
            self.reply(200, body)

    def reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def lookup(self, path: str) -> bytes | None:
        if path == "/v2/":
            return b"{}"
        # Read per request, like the files: the directory may be written after the server starts.
        gun = self.gun or json.loads((self.directory / "repo.json").read_text())["gun"]
        prefix = f"/v2/{gun}/_trust/tuf/"
        if not path.startswith(prefix):
            return None
        name = path[len(prefix):]
        role_pattern = r"root|targets(?:/[^/.]+)*|snapshot|timestamp"
        if match := re.fullmatch(rf"({role_pattern})\.json", name):
            return self.read(match[1])
        if match := re.fullmatch(rf"([1-9][0-9]*)\.({role_pattern})\.json", name):
            version, role = int(match[1]), match[2]
            exact = self.directory / f"{version}.{role}.json"
            if exact.is_file():
                return exact.read_bytes()
            current = self.read(role)
            if current is not None and json.loads(current)["signed"].get("version") == version:
                return current
            return None
        if match := re.fullmatch(rf"({role_pattern})\.([0-9a-f]{{64}}|[0-9a-f]{{128}})\.json", name):
            current = self.read(match[1])
            if current is not None and match[2] in (
                hashlib.sha256(current).hexdigest(), hashlib.sha512(current).hexdigest()
            ):
                return current
        return None

    def read(self, role: str) -> bytes | None:
        path = self.directory / f"{role}.json"
        return path.read_bytes() if path.is_file() else None


def command_serve(args: argparse.Namespace) -> None:
    directory = Path(args.dir).resolve()
    handler = type("BoundHandler", (Handler,), {"directory": directory, "gun": args.gun})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


# --------------------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="tuf.py", description=__doc__.split("\n\n")[0])
    commands = top.add_subparsers(dest="command", required=True)
    write = commands.add_parser("write", help="write a signed Notary TUF repository for one GUN")
    write.add_argument("--gun", required=True, help="e.g. 127.0.0.1:5000/app (the root cert's CN)")
    write.add_argument("--out", required=True, help="directory to write (created)")
    write.add_argument("--target", action="append", default=[], metavar="[ROLE:]TAG=SHA256HEX:SIZE",
                       help="a target; ROLE a delegation such as targets/releases (default targets)")
    write.add_argument("--delegation", action="append", default=[], metavar="ROLE",
                       help="a delegation (all paths) even without targets, e.g. targets/releases")
    write.add_argument("--expire", action="append", default=[], metavar="ROLE",
                       help="put ROLE's expires an hour in the past (root, targets, snapshot, timestamp, …)")
    write.add_argument("--version", action="append", default=[], metavar="ROLE=N",
                       help="ROLE's version (default 1)")
    write.add_argument("--keys", metavar="DIR", help="reuse the keys (and root certificate) of an earlier --out")
    serve = commands.add_parser("serve", help="serve a written directory over HTTPS on loopback")
    serve.add_argument("--dir", required=True)
    serve.add_argument("--cert", required=True, help="server certificate PEM (for 127.0.0.1)")
    serve.add_argument("--key", required=True, help="its private key PEM")
    serve.add_argument("--port", type=int, default=0, help="0 = any free port (printed first on stdout)")
    serve.add_argument("--gun", help="default: the gun in DIR/repo.json")
    return top


def main() -> int:
    args = parser().parse_args()
    if args.command == "write":
        print(json.dumps(command_write(args), indent=2))
    else:
        command_serve(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
