//! Docker Content Trust through the gate: `trust-required` with a `notary` block, against a
//! real notary-server + notary-signer (tests/image/notary.rs) holding trust data that the real
//! `notary` CLI published for images in the test registry. The root is always pinned: the
//! policy names its certificate, key id or root.json, and anything else is refused.
//! Needs `apt-get install -y notary docker-registry skopeo umoci` (tests/run.sh installs them).

use super::support::notary::{Notary, NotaryClient};
use super::support::registry::{Config, Registry};
use super::support::tools::{self, ImageSpec};
use super::support::tuf::{self, TufServer};
use super::{check, findings_of};
use crate::util::Run;
use portcullis::image::digest::Digest;
use std::path::Path;

struct Setup {
    registry: Registry,
    notary: Notary,
    client: NotaryClient,
    dir: tempfile::TempDir,
    /// `127.0.0.1:PORT/app`.
    gun: String,
    /// The manifest of `app:1`, as the registry serves it.
    manifest: Vec<u8>,
}

impl Setup {
    /// `app:1` pushed, and its trust data initialised (root, targets, snapshot, timestamp)
    /// with `app:1` signed in `targets` as `docker trust sign` records it (sha256, length).
    fn new() -> Setup {
        let registry = Registry::start(Config::default());
        let dir = tempfile::tempdir().expect("tmp");
        let layout = dir.path().join("layout");
        tools::umoci_image(&layout, "1", &ImageSpec::default());
        registry.push(&layout, "1", "app:1", &[]);
        let manifest = registry.manifest("app:1");
        let notary = Notary::start();
        let client = notary.client();
        let gun = format!("{}/app", registry.host);
        client.init_publish(&gun);
        let setup = Setup {
            registry,
            notary,
            client,
            dir,
            gun,
            manifest,
        };
        setup.sign("1", &setup.manifest.clone(), &[]);
        std::fs::copy(setup.notary.ca(), setup.path().join("notary-ca.crt")).expect("ca");
        setup.pin_certificate("root.crt");
        setup
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Signs `tag` as the manifest `bytes` into `roles` (none: `targets`), and publishes.
    fn sign(&self, tag: &str, bytes: &[u8], roles: &[&str]) {
        self.sign_in(&self.gun, tag, bytes, roles);
    }

    /// [`Setup::sign`] in the trust data of `gun`.
    fn sign_in(&self, gun: &str, tag: &str, bytes: &[u8], roles: &[&str]) {
        let digest = Digest::sha256_of(bytes);
        self.client
            .add_hash(gun, tag, bytes.len() as u64, digest.hex(), roles);
        self.client.publish(gun);
    }

    /// Writes the current root certificate to `file`, and a policy pinning it.
    fn pin_certificate(&self, file: &str) {
        std::fs::write(self.path().join(file), self.client.root_cert_pem(&self.gun)).expect("pin");
        self.policy(&format!("root_keys: [{file}]"));
    }

    /// Writes `policy.yaml`: trust-required over the registry's images, Notary with `pin`
    /// (a `root_keys:` or `root_json:` line) and `extra` lines in the `notary` block.
    fn policy(&self, pin_and_extra: &str) {
        write_policy(
            self.path(),
            &self.registry.host,
            &self.notary.url(),
            pin_and_extra,
        );
    }

    fn check(&self, reference: &str) -> Run {
        check_image(self.path(), &self.registry, reference)
    }

    /// `check` of `app:1`, expected to pass.
    fn passes(&self) {
        let run = self.check("app:1");
        assert_eq!(run.code, 0, "{run:?}\n{}", self.notary.log());
        assert!(findings_of(&run, "PC4001").is_empty(), "{run:?}");
    }

    /// `check` of `reference`, expected to fail with one PC4001 finding; its message.
    fn refused(&self, reference: &str) -> String {
        refused(self.check(reference))
    }
}

/// Writes `dir/policy.yaml`: trust-required over the registry's images, Notary at `server`
/// with the CA `dir/notary-ca.crt`, `pin_and_extra` lines (`root_keys:` or `root_json:`,
/// `delegations:`) in the `notary` block.
fn write_policy(dir: &Path, registry: &str, server: &str, pin_and_extra: &str) {
    let lines: Vec<String> = pin_and_extra
        .lines()
        .map(|l| format!("          {l}"))
        .collect();
    let text = format!(
        "version: 1\nextends: none\nrules:\n  trust-required:\n    verify:\n      - images: [\"{registry}/**\"]\n        notary:\n          server: {server}\n          ca_file: notary-ca.crt\n{}\n",
        lines.join("\n")
    );
    std::fs::write(dir.join("policy.yaml"), text).expect("policy");
}

fn check_image(dir: &Path, registry: &Registry, reference: &str) -> Run {
    let target = format!("docker://{}/{reference}", registry.host);
    check(
        dir,
        &[
            "--policy",
            "policy.yaml",
            "--insecure-registry",
            &registry.host,
            &target,
        ],
    )
}

/// A run expected to fail with one PC4001 finding: its message.
fn refused(run: Run) -> String {
    {
        let found = findings_of(&run, "PC4001");
        assert_eq!(found.len(), 1, "{run:?}");
        let message = found[0].0.clone();
        assert!(
            message.contains("is not admitted by Docker Content Trust"),
            "{message}"
        );
        message
    }
}

#[test]
fn a_tag_signed_under_the_pinned_root_certificate_passes() {
    let setup = Setup::new();
    setup.passes();
    // The note says what admitted it.
    let run = setup.check("app:1");
    assert!(
        run.stdout.contains("Docker Content Trust admits `1`"),
        "{run:?}"
    );
}

#[test]
fn a_pinned_root_json_or_key_id_passes_as_the_certificate_does() {
    let setup = Setup::new();
    std::fs::copy(
        setup.client.cached_root_json(&setup.gun),
        setup.path().join("root.json"),
    )
    .expect("copy root.json");
    setup.policy("root_json: root.json");
    setup.passes();
    // Both ids name the key: `notary key list`'s canonical id and root.json's.
    for id in [
        setup.client.root_key_id(&setup.gun),
        setup.client.root_x509_key_id(&setup.gun),
    ] {
        setup.policy(&format!("root_keys: [\"{id}\"]"));
        setup.passes();
    }
}

#[test]
fn another_root_key_pinned_is_refused_as_a_man_in_the_middle() {
    let setup = Setup::new();
    // Someone else's root key (another client: a key of its own) for a repository of the same
    // name elsewhere: what a man in the middle would hand over.
    let attacker = setup.notary.client();
    let mirror = format!("{}/mirror", setup.registry.host);
    attacker.init_publish(&mirror);
    std::fs::write(
        setup.path().join("other.crt"),
        attacker.root_cert_pem(&mirror),
    )
    .expect("pin");
    setup.policy("root_keys: [other.crt]");
    let message = setup.refused("app:1");
    assert!(
        message.contains("no root of") && message.contains("pinned root key"),
        "{message}"
    );
}

#[test]
fn another_repositorys_root_pinned_is_refused() {
    // `other` on the same server, initialised by the same CLI (which reuses its root key for
    // every repository, in a certificate per repository), with `app:1`'s very manifest signed
    // under the same tag: pinning `other`'s certificate admits `other:1`, never `app:1`.
    let setup = Setup::new();
    let other = format!("{}/other", setup.registry.host);
    setup.client.init_publish(&other);
    setup
        .registry
        .push(&setup.path().join("layout"), "1", "other:1", &[]);
    let manifest = setup.registry.manifest("other:1");
    setup.sign_in(&other, "1", &manifest, &[]);
    std::fs::write(
        setup.path().join("other.crt"),
        setup.client.root_cert_pem(&other),
    )
    .expect("pin");
    setup.policy("root_keys: [other.crt]");
    let run = setup.check("other:1");
    assert_eq!(run.code, 0, "the control: {run:?}");
    let message = setup.refused("app:1");
    assert!(message.contains("pinned root key"), "{message}");
}

#[test]
fn a_target_signed_for_another_digest_is_refused() {
    let setup = Setup::new();
    // `app:2` is pushed, but its tag is signed as `app:1`'s manifest.
    let dir = tempfile::tempdir().expect("tmp");
    let layout = dir.path().join("layout");
    tools::umoci_image(
        &layout,
        "2",
        &ImageSpec {
            user: Some("nobody"),
            ..ImageSpec::default()
        },
    );
    setup.registry.push(&layout, "2", "app:2", &[]);
    setup.sign("2", &setup.manifest, &[]);
    let message = setup.refused("app:2");
    assert!(
        message.contains("signs `2` as sha256:") && message.contains("but the registry serves"),
        "{message}"
    );
}

#[test]
fn a_tag_absent_from_the_trust_data_is_refused() {
    let setup = Setup::new();
    setup
        .registry
        .push(&setup.path().join("layout"), "1", "app:unsigned", &[]);
    let message = setup.refused("app:unsigned");
    assert!(
        message.contains("does not sign tag `unsigned`"),
        "{message}"
    );
    // A repository the server has no trust data for at all.
    setup
        .registry
        .push(&setup.path().join("layout"), "1", "never:1", &[]);
    let message = setup.refused("never:1");
    assert!(message.contains("has no trust data"), "{message}");
}

#[test]
fn a_required_delegation_must_sign_the_tag() {
    let setup = Setup::new();
    setup
        .client
        .add_delegation_signer(&setup.gun, "targets/releases");
    // Signed in `targets` only: the required role does not sign it.
    setup.policy("root_keys: [root.crt]\ndelegations: [targets/releases]");
    let message = setup.refused("app:1");
    assert!(message.contains("`targets/releases`"), "{message}");
    // Signed by the delegation too: passes.
    setup.sign("1", &setup.manifest.clone(), &["targets/releases"]);
    setup.passes();
    // A role nobody delegated is refused.
    setup.policy("root_keys: [root.crt]\ndelegations: [targets/qa]");
    let message = setup.refused("app:1");
    assert!(
        message.contains("`targets/qa` is not delegated"),
        "{message}"
    );
}

#[test]
fn a_rotated_root_is_followed_from_the_old_pin() {
    let setup = Setup::new();
    // Pinned before the rotation: the old certificate, and the old root.json.
    std::fs::copy(
        setup.client.cached_root_json(&setup.gun),
        setup.path().join("root-v1.json"),
    )
    .expect("copy root.json");
    setup.client.rotate_root(&setup.gun);
    setup.passes(); // root.crt: the old certificate, reaching version 2 through the chain
    setup.policy("root_json: root-v1.json");
    setup.passes();
    // The new certificate pinned works as well.
    setup.pin_certificate("root-v2.crt");
    setup.passes();
    let run = setup.check("app:1");
    assert!(run.stdout.contains("root version 2"), "{run:?}");
}

#[test]
fn a_notary_server_that_is_down_is_exit_3() {
    let setup = Setup::new();
    let Setup {
        registry,
        notary,
        dir,
        ..
    } = setup;
    drop(notary);
    let run = check_image(dir.path(), &registry, "app:1");
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("Docker Content Trust"), "{run:?}");
}

/// Trust data written by tests/trust/tuf.py for `app:1` of a fresh registry, served over
/// HTTPS by it: for what a real Notary will not serve (expired metadata).
fn fake_notary(extra: &[&str]) -> (Registry, TufServer, tempfile::TempDir) {
    let registry = Registry::start(Config::default());
    let dir = tempfile::tempdir().expect("tmp");
    let layout = dir.path().join("layout");
    tools::umoci_image(&layout, "1", &ImageSpec::default());
    registry.push(&layout, "1", "app:1", &[]);
    let manifest = registry.manifest("app:1");
    let target = format!(
        "1={}:{}",
        Digest::sha256_of(&manifest).hex(),
        manifest.len()
    );
    let repository = dir.path().join("repository");
    let gun = format!("{}/app", registry.host);
    let out = repository.display().to_string();
    let mut args = vec!["--gun", &gun, "--out", &out, "--target", &target];
    args.extend_from_slice(extra);
    tuf::write(&args);
    let server = TufServer::start(&repository);
    std::fs::copy(server.ca(), dir.path().join("notary-ca.crt")).expect("ca");
    std::fs::copy(repository.join("root.crt"), dir.path().join("root.crt")).expect("pin");
    write_policy(
        dir.path(),
        &registry.host,
        &server.url(),
        "root_keys: [root.crt]",
    );
    (registry, server, dir)
}

#[test]
fn expired_trust_data_is_refused() {
    // The control: the same repository, nothing expired, passes.
    let (registry, _server, dir) = fake_notary(&[]);
    let run = check_image(dir.path(), &registry, "app:1");
    assert_eq!(run.code, 0, "{run:?}");
    for role in ["timestamp", "snapshot", "targets", "root"] {
        let (registry, server, dir) = fake_notary(&["--expire", role]);
        let message = refused(check_image(dir.path(), &registry, "app:1"));
        assert!(
            message.contains(&format!("{role}.json expired at")),
            "{role}: {message}\n{}",
            server.log()
        );
    }
}
