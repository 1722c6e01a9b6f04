//! The Notary harness (tests/image/notary.rs) against itself: a real notary-server + signer,
//! trust data published by the real `notary` CLI for an image pushed to the test registry, read
//! back over HTTPS with curl. These pin down what a Notary serves, for the verifier's tests.
//! Then the cross-check of `tests/trust/tuf.py` (the fake Notary for faults): the real `notary`
//! client accepts the repositories it writes, and refuses them when a role has expired.
//! Needs `apt-get install -y notary curl` and Python's `cryptography` (tests/run.sh installs
//! them).

use super::support::notary::{canonical_key_id, hex, said, Notary, NotaryClient};
use super::support::registry::{Config, Registry};
use super::support::tools::{self, ImageSpec};
use super::support::tuf::{self, TufServer};
use base64::Engine as _;
use serde_json::Value;
use std::path::Path;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

/// An image pushed as `app:1` to a fresh registry: (registry, GUN = `127.0.0.1:PORT/app`,
/// manifest bytes as the registry serves them).
fn pushed_image() -> (Registry, String, Vec<u8>) {
    let registry = Registry::start(Config::default());
    let dir = tempfile::tempdir().expect("tmp");
    let layout = dir.path().join("layout");
    tools::umoci_image(&layout, "1", &ImageSpec::default());
    registry.push(&layout, "1", "app:1", &[]);
    let manifest = registry.manifest("app:1");
    let gun = format!("{}/app", registry.host);
    (registry, gun, manifest)
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex(&sha2::Sha256::digest(bytes))
}

/// The target `tag` in a targets-role document, asserted to be the manifest by sha256/length.
fn assert_lists(targets: &Value, tag: &str, manifest: &[u8]) {
    let target = &targets["signed"]["targets"][tag];
    assert_eq!(
        target["hashes"]["sha256"],
        b64(&unhex(&sha256_hex(manifest))),
        "{targets}"
    );
    assert_eq!(target["length"], manifest.len(), "{targets}");
}

#[test]
fn notary_serves_trust_data_for_a_pushed_image_tag() {
    let (_registry, gun, manifest) = pushed_image();
    let notary = Notary::start();
    let client = notary.client();
    client.init_publish(&gun);
    // As `docker trust sign` records it (sha256 only), and as `notary add` hashes a file.
    let digest = sha256_hex(&manifest);
    client.add_hash(&gun, "1", manifest.len() as u64, &digest, &[]);
    client.add(&gun, "1-file", &manifest, &[]);
    client.publish(&gun);

    let get = |name: &str| notary.get_json(&gun, name);
    let (root, timestamp, snapshot, targets) = (
        get("root.json"),
        get("timestamp.json"),
        get("snapshot.json"),
        get("targets.json"),
    );
    for (document, kind) in [
        (&root, "Root"),
        (&timestamp, "Timestamp"),
        (&snapshot, "Snapshot"),
        (&targets, "Targets"),
    ] {
        assert_eq!(document["signed"]["_type"], kind, "{document}");
        for signature in document["signatures"].as_array().expect("signatures") {
            assert_eq!(signature["method"], "ecdsa", "{signature}");
            let sig = base64::engine::general_purpose::STANDARD
                .decode(signature["sig"].as_str().expect("sig"))
                .expect("base64");
            assert_eq!(sig.len(), 64, "raw r||s: {signature}");
        }
    }
    assert_lists(&targets, "1", &manifest);
    assert!(targets["signed"]["targets"]["1"]["hashes"]["sha512"].is_null());
    assert_lists(&targets, "1-file", &manifest);
    assert!(targets["signed"]["targets"]["1-file"]["hashes"]["sha512"].is_string());

    // Key types: the root is a certificate, every other role a plain ECDSA key.
    let keys = &root["signed"]["keys"];
    let key_of = |role: &str| {
        let id = root["signed"]["roles"][role]["keyids"][0]
            .as_str()
            .expect("key id");
        keys[id]["keytype"].as_str().expect("keytype").to_string()
    };
    assert_eq!(key_of("root"), "ecdsa-x509");
    for role in ["targets", "snapshot", "timestamp"] {
        assert_eq!(key_of(role), "ecdsa", "{role}");
    }
    // The client cached the root it published; the root id `notary key list` prints is the
    // canonical (public-key) id, not root.json's certificate id.
    assert_eq!(
        std::fs::read(client.cached_root_json(&gun)).expect("cached root"),
        notary.get(&gun, "root.json").expect("root")
    );
    let pem = client.root_cert_pem(&gun);
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    assert_ne!(client.root_key_id(&gun), client.root_x509_key_id(&gun));

    let lookup = client.lookup(&gun, "1");
    let stdout = String::from_utf8_lossy(&lookup.stdout);
    assert!(
        lookup.status.success() && stdout.contains(&format!("sha256:{digest} {}", manifest.len())),
        "{lookup:?}"
    );
}

#[test]
fn notary_serves_a_tag_signed_into_the_releases_delegation() {
    let (_registry, gun, manifest) = pushed_image();
    let notary = Notary::start();
    let client = notary.client();
    client.init_publish(&gun);
    let signer = client.add_delegation_signer(&gun, "targets/releases");
    let digest = sha256_hex(&manifest);
    client.add_hash(
        &gun,
        "1",
        manifest.len() as u64,
        &digest,
        &["targets/releases"],
    );
    client.publish(&gun);

    let releases = notary.get_json(&gun, "targets/releases.json");
    assert_lists(&releases, "1", &manifest);
    let targets = notary.get_json(&gun, "targets.json");
    assert!(
        targets["signed"]["targets"]["1"].is_null(),
        "only in the delegation: {targets}"
    );
    let delegations = &targets["signed"]["delegations"];
    let role = &delegations["roles"][0];
    assert_eq!(role["name"], "targets/releases", "{delegations}");
    assert_eq!(role["paths"], serde_json::json!([""]), "--all-paths");
    // The delegation key is the certificate; the delegation's metadata is signed under that id.
    let id = role["keyids"][0].as_str().expect("key id");
    let key = &delegations["keys"][id];
    assert_eq!(key["keytype"], "ecdsa-x509");
    let pem = base64::engine::general_purpose::STANDARD
        .decode(key["keyval"]["public"].as_str().expect("public"))
        .expect("base64");
    assert_eq!(String::from_utf8(pem).expect("PEM"), signer.cert_pem());
    assert_eq!(releases["signatures"][0]["keyid"], id);
}

#[test]
fn notary_serves_every_root_version_after_a_rotation() {
    let gun = "127.0.0.1:5000/rotated";
    let notary = Notary::start();
    let client = notary.client();
    client.init_publish(gun);
    client.add_hash(gun, "1", 7, &"ab".repeat(32), &[]);
    client.publish(gun);
    let old_root = std::fs::read(client.cached_root_json(gun)).expect("cached root");
    let old_cert = client.root_cert_pem(gun);
    // Another client that has trusted version 1 (a copy of the cached root, as TOFU leaves).
    let follower = notary.client();
    let cached = follower.cached_root_json(gun);
    std::fs::create_dir_all(cached.parent().expect("parent")).expect("mkdir");
    std::fs::write(&cached, &old_root).expect("seed root");

    client.rotate_root(gun);

    assert_eq!(notary.get(gun, "1.root.json"), Some(old_root));
    let current = notary.get(gun, "root.json").expect("root");
    assert_eq!(notary.get(gun, "2.root.json"), Some(current.clone()));
    assert_eq!(notary.get(gun, "3.root.json"), None);
    let root: Value = serde_json::from_slice(&current).expect("JSON");
    assert_eq!(root["signed"]["version"], 2);
    // Signed by the old and the new root key; both certificates stay in `keys`.
    assert_eq!(
        root["signatures"].as_array().map(Vec::len),
        Some(2),
        "{root}"
    );
    let certificates = root["signed"]["keys"]
        .as_object()
        .expect("keys")
        .values()
        .filter(|k| k["keytype"] == "ecdsa-x509")
        .count();
    assert_eq!(certificates, 2, "{root}");
    assert_eq!(
        std::fs::read(client.cached_root_json(gun)).ok(),
        Some(current)
    );
    assert_ne!(client.root_cert_pem(gun), old_cert);
    client.root_key_id(gun);

    // The follower walks 1 -> 2 and accepts the rotation.
    let lookup = follower.lookup(gun, "1");
    assert!(lookup.status.success(), "{lookup:?}\n{}", notary.log());
    assert_eq!(
        follower.root_cert_pem(gun),
        client.root_cert_pem(gun),
        "the follower's cache holds root version 2"
    );
}

/// A client of `server` that already trusts the root in `repository` (as if it had pulled it
/// before), so nothing is trusted on first use.
fn seeded_client(server: &TufServer, repository: &Path, gun: &str) -> NotaryClient {
    let client = NotaryClient::new(&server.url(), server.ca());
    let cached = client.cached_root_json(gun);
    std::fs::create_dir_all(cached.parent().expect("parent")).expect("mkdir");
    std::fs::copy(repository.join("root.json"), &cached).expect("seed root");
    client
}

#[test]
fn the_notary_client_accepts_what_tuf_py_writes_and_pins_the_certificate_id() {
    let work = tempfile::tempdir().expect("tmp");
    let gun = "127.0.0.1:5000/app";
    let digest = sha256_hex(b"manifest");
    let good = work.path().join("good");
    let summary = tuf::write(&[
        "--gun",
        gun,
        "--out",
        &good.to_string_lossy(),
        "--target",
        &format!("1={digest}:345"),
        "--target",
        &format!("targets/releases:2={digest}:7"),
    ]);
    let server = TufServer::start(&good);

    let client = seeded_client(&server, &good, gun);
    for (tag, size, role) in [("1", 345, "targets"), ("2", 7, "targets/releases")] {
        let lookup = client.lookup(gun, tag);
        let stdout = String::from_utf8_lossy(&lookup.stdout);
        assert!(
            lookup.status.success() && stdout.contains(&format!("sha256:{digest} {size}")),
            "{role}: {lookup:?}\n{}",
            server.log()
        );
    }
    assert!(client.run(&["list", gun]).contains("targets/releases"));

    // Pinning (no cached root, no TOFU): `trust_pinning.certs` takes root.json's id of the
    // certificate, not the canonical id `notary key list` prints.
    let root = &summary["roles"]["root"];
    let pinned = |id: &Value| {
        let client = NotaryClient::new(&server.url(), server.ca());
        client.set_config(&serde_json::json!({
            "trust_pinning": {"certs": {gun: [id]}, "disable_tofu": true}
        }));
        client.lookup(gun, "1")
    };
    let by_certificate_id = pinned(&root["key_id"]);
    assert!(by_certificate_id.status.success(), "{by_certificate_id:?}");
    let by_canonical_id = pinned(&root["canonical_key_id"]);
    assert!(
        !by_canonical_id.status.success()
            && said(&by_canonical_id)
                .contains("unable to match any certificates to trust_pinning config"),
        "{by_canonical_id:?}"
    );
    assert_eq!(
        std::fs::read_to_string(good.join("root.crt")).expect("root.crt"),
        client.root_cert_pem(gun)
    );
    // This client holds no keys (`notary key list` is empty): compute the id openssl's way.
    assert_eq!(
        canonical_key_id(&client.root_cert_pem(gun), work.path()),
        root["canonical_key_id"]
    );
}

#[test]
fn the_notary_client_refuses_tuf_py_repositories_with_an_expired_role() {
    let work = tempfile::tempdir().expect("tmp");
    let gun = "127.0.0.1:5000/app";
    let digest = sha256_hex(b"manifest");
    let (good, live) = (work.path().join("good"), work.path().join("live"));
    let targets = [
        "--target".to_string(),
        format!("1={digest}:345"),
        "--target".to_string(),
        format!("targets/releases:2={digest}:7"),
    ];
    let write = |out: &Path, extra: &[&str]| {
        let out = out.to_string_lossy();
        let mut args = vec!["--gun", gun, "--out", &out];
        args.extend(targets.iter().map(String::as_str));
        args.extend_from_slice(extra);
        tuf::write(&args);
    };
    write(&good, &[]);
    let server = TufServer::start(&live);

    // (expired role, tag looked up, what the client says); every case signed by the same keys.
    let cases = [
        ("timestamp", "1", "timestamp expired"),
        ("snapshot", "1", "snapshot expired"),
        ("targets", "1", "targets expired"),
        ("root", "1", "root expired"),
        // An expired delegation is skipped: a tag only it signs has no trust data.
        ("targets/releases", "2", "No valid trust data for 2"),
    ];
    for (role, tag, message) in cases {
        write(
            &live,
            &["--keys", &good.to_string_lossy(), "--expire", role],
        );
        let lookup = seeded_client(&server, &good, gun).lookup(gun, tag);
        assert!(
            !lookup.status.success() && said(&lookup).contains(message),
            "expired {role}: {lookup:?}\n{}",
            server.log()
        );
    }
    // The targets role still vouches for its own tag when only the delegation expired.
    let lookup = seeded_client(&server, &good, gun).lookup(gun, "1");
    assert!(lookup.status.success(), "{lookup:?}");
}
