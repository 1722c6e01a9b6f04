//! `trust-required` against a real registry (Debian's `docker-registry`), images made with
//! umoci and pushed with skopeo, signed by `tests/trust/signer.py`: an independent signer on
//! Python's `cryptography` that shares no code with the verifier and writes what cosign writes
//! (cross-checked against pip `sigstore` by `tests/trust/crosscheck.py`). Needs `python3` with
//! `cryptography` (`python3 -m pip install cryptography`; tests/run.sh installs it).

use super::support::registry::{Config, Registry};
use super::support::tools::{self, ImageSpec};
use super::{check, findings_of};
use portcullis::image::digest::Digest;
use std::path::{Path, PathBuf};
use std::process::Command;

fn signer_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/trust/signer.py")
}

/// Runs the signer; its JSON summary on success.
fn sign(dir: &Path, args: &[&str]) -> serde_json::Value {
    let output = Command::new("python3")
        .arg(signer_script())
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("python3 is needed for the trust tests ({e})"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("No module named 'cryptography'"),
        "the test signer needs Python's `cryptography`: `python3 -m pip install cryptography` \
         (tests/run.sh installs it)"
    );
    assert!(output.status.success(), "signer {args:?} failed: {stderr}");
    serde_json::from_slice(&output.stdout).unwrap_or(serde_json::Value::Null)
}

/// A registry with `app:1` in it, its manifest saved for the signer, a key pair, and a
/// policy that requires signatures by that key.
struct Setup {
    registry: Registry,
    dir: tempfile::TempDir,
    digest: String,
}

impl Setup {
    fn new() -> Setup {
        let registry = Registry::start(Config::default());
        let dir = tempfile::tempdir().expect("tmp");
        let layout = dir.path().join("layout");
        tools::umoci_image(&layout, "1", &ImageSpec::default());
        registry.push(&layout, "1", "app:1", &[]);
        let manifest = registry.manifest("app:1");
        std::fs::write(dir.path().join("image-manifest.json"), &manifest).expect("write");
        let digest = Digest::sha256_of(&manifest).to_string();
        for name in ["key", "other"] {
            sign(
                dir.path(),
                &["keygen", "--kind", "ecdsa-p256", "--out", name],
            );
        }
        let setup = Setup {
            registry,
            dir,
            digest,
        };
        setup.policy("key/key.pub", "");
        setup
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `policy.yaml`: only trust-required, with `key` and extra `cosign` lines.
    fn policy(&self, key: &str, extra: &str) {
        let text = format!(
            "version: 1\nextends: none\nrules:\n  trust-required:\n    verify:\n      - images: [\"{}/**\"]\n        cosign:\n          keys: [{key}]\n{extra}",
            self.registry.host
        );
        std::fs::write(self.path().join("policy.yaml"), text).expect("policy");
    }

    fn sig_tag(&self) -> String {
        format!("{}.sig", self.digest.replace(':', "-"))
    }

    /// Runs the signer's `sign-<format>` (`legacy` or `bundle`) on `app:1` with `signer`
    /// (`--key …` or `--identity …`) and `extra` options; its output directory (one per
    /// signing, named by a counter) and its summary.
    fn run_signer(
        &self,
        format: &str,
        signer: &[&str],
        extra: &[&str],
    ) -> (String, serde_json::Value) {
        static SIGNINGS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = SIGNINGS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let out = format!("{format}-{n}");
        let command = format!("sign-{format}");
        let repository = format!("{}/app", self.registry.host);
        let mut args = vec![
            command.as_str(),
            "--image-manifest",
            "image-manifest.json",
            "--repository",
            &repository,
            "--out",
            &out,
        ];
        args.extend_from_slice(signer);
        args.extend_from_slice(extra);
        let summary = sign(self.path(), &args);
        (out, summary)
    }

    /// Pushes a `.sig` manifest the signer wrote into `out` to `repository`, replacing any
    /// before it.
    fn push_legacy(&self, out: &str, repository: &str) {
        let tag = self.sig_tag();
        self.registry.push(
            &self.path().join(out).join("layout"),
            &tag,
            &format!("{repository}:{tag}"),
            &[],
        );
    }

    /// Signs `app:1` in the `.sig` format with `key` (and `extra` signer options) and pushes
    /// the signature manifest.
    fn sign_legacy(&self, key: &str, extra: &[&str]) {
        let (out, _) = self.run_signer("legacy", &["--key", key, "--no-tlog"], extra);
        self.push_legacy(&out, "app");
    }

    /// Signs `app:1` as a Sigstore bundle (cosign v3) and pushes it as a referrer.
    fn sign_bundle(&self, key: &str, extra: &[&str]) {
        let (out, summary) = self.run_signer("bundle", &["--key", key, "--no-tlog"], extra);
        self.push_bundle(&out, &summary);
    }

    /// Pushes a signed bundle's referrer (by digest) and its referrers tag-schema index
    /// (distribution 2.8 has no referrers API).
    fn push_bundle(&self, out: &str, summary: &serde_json::Value) {
        let artifact = summary["artifactDigest"].as_str().expect("artifact digest");
        let layout = self.path().join(out).join("layout");
        self.registry.push(
            &layout,
            "bundle",
            &format!("app@{artifact}"),
            &["--preserve-digests"],
        );
        let index = self.path().join(out).join("referrers-index.json");
        tools::run(
            "curl",
            &[
                "-fsS",
                "-X",
                "PUT",
                "-H",
                &format!("Content-Type: {}", super::OCI_INDEX),
                "--data-binary",
                &format!("@{}", index.display()),
                &format!(
                    "{}/v2/app/manifests/{}",
                    self.registry.base_url(),
                    self.digest.replace(':', "-")
                ),
            ],
        );
    }

    fn check(&self) -> crate::util::Run {
        let target = format!("docker://{}/app:1", self.registry.host);
        check(
            self.path(),
            &[
                "--policy",
                "policy.yaml",
                "--insecure-registry",
                &self.registry.host,
                &target,
            ],
        )
    }
}

fn messages(run: &crate::util::Run) -> Vec<String> {
    findings_of(run, "PC4001")
        .into_iter()
        .map(|(m, _, _)| m)
        .collect()
}

#[test]
fn an_image_nobody_signed_fails() {
    let setup = Setup::new();
    let run = setup.check();
    assert_eq!(run.code, 1, "{run:?}");
    let found = messages(&run);
    assert!(found[0].contains("no signature of"), "{found:?}");
}

#[test]
fn legacy_signatures_by_the_key_pass_and_tampered_ones_fail() {
    let setup = Setup::new();
    setup.sign_legacy("key/key.pem", &[]);
    let run = setup.check();
    assert_eq!(run.code, 0, "{run:?}");

    // Signed, but not by a key the policy names.
    setup.policy("other/key.pub", "");
    let run = setup.check();
    assert_eq!(run.code, 1, "{run:?}");
    setup.policy("key/key.pub", "");

    for (tamper, cause) in [
        ("wrong-key", "does not verify"),
        ("other-digest", "sha256:"),
        ("flip-signature", "does not verify"),
        ("modified-payload", "does not verify"),
    ] {
        setup.sign_legacy("key/key.pem", &["--tamper", tamper]);
        let run = setup.check();
        assert_eq!(run.code, 1, "{tamper}: {run:?}");
        let found = messages(&run);
        assert!(
            found.iter().any(|m| m.contains(cause)),
            "{tamper}: {found:?}"
        );
    }
}

#[test]
fn bundle_signatures_by_the_key_pass_and_tampered_ones_fail() {
    let setup = Setup::new();
    setup.sign_bundle("key/key.pem", &[]);
    let run = setup.check();
    assert_eq!(run.code, 0, "{run:?}");
    for (tamper, cause) in [
        ("wrong-key", "does not verify"),
        ("other-digest", "sha256:"),
        ("flip-signature", "does not verify"),
    ] {
        let setup = Setup::new();
        setup.sign_bundle("key/key.pem", &["--tamper", tamper]);
        let run = setup.check();
        assert_eq!(run.code, 1, "{tamper}: {run:?}");
        let found = messages(&run);
        assert!(
            found.iter().any(|m| m.contains(cause)),
            "{tamper}: {found:?}"
        );
    }
}

#[test]
fn a_moved_tag_is_judged_by_the_digest_it_names_now() {
    // Signed, then the tag moves to another image: the signature is for the old digest.
    let setup = Setup::new();
    setup.sign_legacy("key/key.pem", &[]);
    let layout = setup.path().join("layout");
    tools::umoci_image(
        &layout,
        "2",
        &ImageSpec {
            user: Some("65532"),
            ..ImageSpec::default()
        },
    );
    setup.registry.push(&layout, "2", "app:1", &[]);
    let run = setup.check();
    assert_eq!(run.code, 1, "{run:?}");
    assert!(messages(&run)[0].contains("no signature of"), "{run:?}");
}

#[test]
fn images_no_entry_covers_and_bad_keys() {
    let setup = Setup::new();
    // The entry covers another registry: under `unmatched: deny` (the default), a finding.
    std::fs::write(
        setup.path().join("policy.yaml"),
        "version: 1\nextends: none\nrules:\n  trust-required:\n    verify:\n      - images: [\"ghcr.io/acme/**\"]\n        cosign:\n          keys: [key/key.pub]\n",
    )
    .expect("policy");
    let run = setup.check();
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        messages(&run)[0].contains("matches no `verify` entry"),
        "{run:?}"
    );
    // A key file that is no public key: a policy error at its line and column.
    std::fs::write(setup.path().join("not-a-key.pub"), "hello\n").expect("write");
    setup.policy("not-a-key.pub", "");
    let run = setup.check();
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("policy.yaml:8:"), "{run:?}");
    assert!(run.stderr.contains("not-a-key.pub"), "{run:?}");
}

impl Setup {
    /// Signs keyless (a certificate from the throwaway instance in `pki/`) in `format`.
    fn sign_keyless(&self, format: &str, identity: &str, extra: &[&str]) -> String {
        if !self.path().join("pki/trusted_root.json").exists() {
            sign(self.path(), &["pki", "--out", "pki"]);
        }
        let keyless = [
            "--identity",
            identity,
            "--issuer",
            "https://issuer.portcullis.test",
            "--pki",
            "pki",
        ];
        let (out, summary) = self.run_signer(format, &keyless, extra);
        if format == "legacy" {
            self.push_legacy(&out, "app");
        } else {
            self.push_bundle(&out, &summary);
        }
        out
    }

    fn keyless_policy(&self, subject_regex: &str) {
        let text = format!(
            "version: 1\nextends: none\nrules:\n  trust-required:\n    verify:\n      - images: [\"{}/**\"]\n        cosign:\n          keyless:\n            trusted_root: pki/trusted_root.json\n            issuer: https://issuer.portcullis.test\n            subject_regex: '{subject_regex}'\n",
            self.registry.host
        );
        std::fs::write(self.path().join("policy.yaml"), text).expect("policy");
    }
}

#[test]
fn keyless_signatures_of_the_identity_pass_in_both_formats() {
    for format in ["legacy", "bundle"] {
        let setup = Setup::new();
        setup.sign_keyless(format, "release@portcullis.test", &[]);
        setup.keyless_policy("^release@portcullis\\.test$");
        let run = setup.check();
        assert_eq!(run.code, 0, "{format}: {run:?}");
        // Another identity, the same certificate authority: refused.
        setup.keyless_policy("^deploy@portcullis\\.test$");
        let run = setup.check();
        assert_eq!(run.code, 1, "{format}: {run:?}");
    }
}

#[test]
fn keyless_tampering_fails_for_the_right_reason() {
    for (format, tamper) in [
        ("bundle", "no-sct"),
        ("bundle", "unknown-log-key"),
        ("bundle", "untrusted-ca"),
        ("legacy", "transplanted-cert"),
        ("legacy", "expired-cert"),
    ] {
        let setup = Setup::new();
        setup.sign_keyless(format, "release@portcullis.test", &["--tamper", tamper]);
        setup.keyless_policy("^release@portcullis\\.test$");
        let run = setup.check();
        assert_eq!(run.code, 1, "{format} {tamper}: {run:?}");
        assert!(!messages(&run).is_empty(), "{format} {tamper}: {run:?}");
    }
}

/// With `--resolve`, the base image is judged too, at its `FROM` line: an unsigned base is
/// caught in the pull request that brings it in.
#[test]
fn a_resolved_base_image_must_be_signed_too() {
    let setup = Setup::new();
    let dockerfile = format!("FROM {}/app:1\nUSER 1000\n", setup.registry.host);
    std::fs::write(setup.path().join("Dockerfile"), dockerfile).expect("write");
    let resolve = |setup: &Setup| {
        check(
            setup.path(),
            &[
                "--policy",
                "policy.yaml",
                "--insecure-registry",
                &setup.registry.host,
                "--resolve",
                "Dockerfile",
            ],
        )
    };
    let run = resolve(&setup);
    assert_eq!(run.code, 1, "{run:?}");
    let found = findings_of(&run, "PC4001");
    assert_eq!(found.len(), 1, "{run:?}");
    assert_eq!(found[0].2, 1, "at the FROM line: {found:?}");
    setup.sign_legacy("key/key.pem", &[]);
    let run = resolve(&setup);
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn a_keyless_signature_from_another_issuer_fails() {
    let setup = Setup::new();
    setup.sign_keyless("bundle", "release@portcullis.test", &[]);
    let text = format!(
        "version: 1\nextends: none\nrules:\n  trust-required:\n    verify:\n      - images: [\"{}/**\"]\n        cosign:\n          keyless:\n            trusted_root: pki/trusted_root.json\n            issuer: https://token.actions.githubusercontent.com\n            subject_regex: '^release@portcullis\\.test$'\n",
        setup.registry.host
    );
    std::fs::write(setup.path().join("policy.yaml"), text).expect("policy");
    let run = setup.check();
    assert_eq!(run.code, 1, "{run:?}");
    let found = messages(&run);
    assert!(found[0].contains("issuer"), "{found:?}");
}

/// A GitHub-shaped SLSA v1 predicate (as `actions/attest-build-provenance` writes it).
fn github_provenance(repository: &str, git_ref: &str, builder: &str) -> String {
    format!(
        r#"{{"buildDefinition":{{"buildType":"https://actions.github.io/buildtypes/workflow/v1","externalParameters":{{"workflow":{{"ref":"{git_ref}","repository":"{repository}","path":".github/workflows/release.yml"}}}},"internalParameters":{{"github":{{"event_name":"push"}}}},"resolvedDependencies":[{{"uri":"git+{repository}@{git_ref}","digest":{{"gitCommit":"0123456789abcdef0123456789abcdef01234567"}}}}]}},"runDetails":{{"builder":{{"id":"{builder}"}},"metadata":{{"invocationId":"https://github.com/acme/app/actions/runs/1/attempts/1"}}}}}}"#
    )
}

const SLSA_V1: &str = "https://slsa.dev/provenance/v1";
const RUNNER: &str = "https://github.com/actions/runner/github-hosted";

impl Setup {
    /// A keyless signature and a keyless SLSA attestation with `predicate`, both referrers.
    fn sign_with_provenance(&self, predicate: &str, extra: &[&str]) {
        let signature = self.sign_keyless("bundle", "release@portcullis.test", &[]);
        let file = self.path().join(format!("predicate-{signature}.json"));
        std::fs::write(&file, predicate).expect("predicate");
        let file = file.display().to_string();
        let mut args = vec![
            "--append-from",
            &signature,
            "--predicate-type",
            SLSA_V1,
            "--predicate",
            &file,
        ];
        args.extend_from_slice(extra);
        self.sign_keyless("bundle", "release@portcullis.test", &args);
    }

    fn provenance_policy(&self, attestations: &str) {
        let text = format!(
            "version: 1\nextends: none\nrules:\n  trust-required:\n    verify:\n      - images: [\"{}/**\"]\n        cosign:\n          keyless:\n            trusted_root: pki/trusted_root.json\n            issuer: https://issuer.portcullis.test\n            subject_regex: '^release@portcullis\\.test$'\n        attestations:\n{attestations}",
            self.registry.host
        );
        std::fs::write(self.path().join("policy.yaml"), text).expect("policy");
    }
}

const ACME: &str = "          - predicate_type: https://slsa.dev/provenance/v1\n            builder_id_regex: '^https://github\\.com/actions/runner/github-hosted$'\n            source_repo_regex: '^https://github\\.com/acme/'\n            source_ref_regex: '^refs/tags/v'\n";

#[test]
fn provenance_from_our_ci_and_source_passes() {
    let setup = Setup::new();
    setup.sign_with_provenance(
        &github_provenance("https://github.com/acme/app", "refs/tags/v1.2.0", RUNNER),
        &[
            "--source-repository",
            "https://github.com/acme/app",
            "--source-ref",
            "refs/tags/v1.2.0",
        ],
    );
    setup.provenance_policy(ACME);
    let run = setup.check();
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn provenance_that_says_otherwise_fails_naming_what_it_said() {
    for (predicate, extra, said) in [
        (
            github_provenance(
                "https://github.com/acme/app",
                "refs/tags/v1",
                "https://evil.example/runner",
            ),
            vec![],
            "https://evil.example/runner",
        ),
        (
            github_provenance("https://github.com/evil/app", "refs/tags/v1", RUNNER),
            vec![],
            "https://github.com/evil/app",
        ),
        (
            github_provenance("https://github.com/acme/app", "refs/heads/main", RUNNER),
            vec![],
            "refs/heads/main",
        ),
        // The certificate says another repository than the predicate.
        (
            github_provenance("https://github.com/acme/app", "refs/tags/v1", RUNNER),
            vec![
                "--source-repository",
                "https://github.com/acme/other",
                "--source-ref",
                "refs/tags/v1",
            ],
            "contradicts",
        ),
    ] {
        let setup = Setup::new();
        let extra: Vec<&str> = extra.iter().map(|s| &**s).collect();
        setup.sign_with_provenance(&predicate, &extra);
        setup.provenance_policy(ACME);
        let run = setup.check();
        assert_eq!(run.code, 1, "{said}: {run:?}");
        let found = messages(&run);
        assert!(found.iter().any(|m| m.contains(said)), "{said}: {found:?}");
        // Never the attestation's body.
        assert!(
            !found.iter().any(|m| m.contains("invocationId")),
            "{found:?}"
        );
    }
}

#[test]
fn a_signature_without_provenance_or_a_tampered_attestation_fails() {
    // Signed, but no attestation.
    let setup = Setup::new();
    setup.sign_keyless("bundle", "release@portcullis.test", &[]);
    setup.provenance_policy(ACME);
    let run = setup.check();
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        messages(&run)[0].contains("no verified attestation"),
        "{run:?}"
    );
    // Another predicate type required.
    setup.provenance_policy("          - predicate_type: https://example.com/other/v1\n");
    let run = setup.check();
    assert_eq!(run.code, 1, "{run:?}");
    for tamper in ["other-digest", "modified-payload"] {
        let setup = Setup::new();
        setup.sign_with_provenance(
            &github_provenance("https://github.com/acme/app", "refs/tags/v1", RUNNER),
            &["--tamper", tamper],
        );
        setup.provenance_policy(ACME);
        let run = setup.check();
        assert_eq!(run.code, 1, "{tamper}: {run:?}");
        assert!(
            messages(&run)[0].contains("no verified attestation"),
            "{tamper}: {run:?}"
        );
    }
}

#[test]
fn provenance_signed_by_an_identity_the_policy_does_not_accept_fails() {
    let setup = Setup::new();
    let signature = setup.sign_keyless("bundle", "release@portcullis.test", &[]);
    let file = setup.path().join("predicate-mallory.json");
    std::fs::write(
        &file,
        github_provenance("https://github.com/acme/app", "refs/tags/v1", RUNNER),
    )
    .expect("predicate");
    let file = file.display().to_string();
    setup.sign_keyless(
        "bundle",
        "mallory@portcullis.test",
        &[
            "--append-from",
            &signature,
            "--predicate-type",
            SLSA_V1,
            "--predicate",
            &file,
        ],
    );
    setup.provenance_policy(ACME);
    let run = setup.check();
    assert_eq!(run.code, 1, "{run:?}");
    let found = messages(&run);
    assert!(found[0].contains("no verified attestation"), "{found:?}");
    assert!(found[0].contains("mallory"), "says whose it was: {found:?}");
}

/// `signatures_repository` (cosign's `COSIGN_REPOSITORY`): signatures kept in another
/// repository are found there, and only there.
#[test]
fn signatures_kept_in_another_repository() {
    let setup = Setup::new();
    // Sign, but push the signature to `sigs`, not beside `app`.
    let (out, _) = setup.run_signer("legacy", &["--key", "key/key.pem", "--no-tlog"], &[]);
    setup.push_legacy(&out, "sigs");
    let run = setup.check();
    assert_eq!(run.code, 1, "not beside the image: {run:?}");
    let elsewhere = format!(
        "          signatures_repository: {}/sigs\n",
        setup.registry.host
    );
    setup.policy("key/key.pub", &elsewhere);
    let run = setup.check();
    assert_eq!(run.code, 0, "{run:?}");
}
