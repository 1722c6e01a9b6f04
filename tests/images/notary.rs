//! The Notary harness (tests/image/notary.rs) against itself: a real notary-server + signer,
//! trust data published by the real `notary` CLI for an image pushed to the test registry, read
//! back over HTTPS with curl. These pin down what a Notary serves, for the verifier's tests.
//! Needs `apt-get install -y notary curl` (tests/run.sh installs them).

use super::support::notary::{hex, Notary};
use super::support::registry::{Config, Registry};
use super::support::tools::{self, ImageSpec};
use base64::Engine as _;
use serde_json::Value;

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
    let manifest = tools::run(
        "skopeo",
        &[
            "--insecure-policy",
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{}/app:1", registry.host),
        ],
    )
    .stdout;
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
