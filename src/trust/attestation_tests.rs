//! `verify_attestation` against the provenance attestations the independent test signer wrote
//! (`tests/trust/fixtures/provenance`, their own instance and key): good ones verify with their
//! predicate and certificate claims, each tampered one fails at its binding, and what is not an
//! attestation is `None`.

use super::testdata::read;
use super::*;

/// The image every fixture signs (see make.sh).
const DIGEST: &str = "sha256:4f9e6e1f6a5c3b2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d";
/// `--time 2026-06-01T12:00:00Z`, integrated two seconds later.
const INTEGRATED_TIME: i64 = 1_780_315_202;
const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";
const WORKFLOW: &str = "https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.2.0";

fn root() -> TrustedRoot {
    parse_trusted_root(&read("provenance/trusted_root.json")).unwrap()
}

fn key() -> PublicKey {
    let pem = String::from_utf8(read("provenance/keys/ecdsa-p256.pub")).unwrap();
    parse_public_key_pem(&pem).unwrap()
}

fn attestation(name: &str) -> Found {
    Found::Bundle {
        bundle: read(&format!("provenance/bundle/{name}/bundle.json")),
    }
}

fn predicate(name: &str) -> serde_json::Value {
    serde_json::from_slice(&read(&format!("provenance/predicates/{name}"))).unwrap()
}

fn keyed() -> Requirements {
    super::testdata::keyed(key(), root())
}

fn keyless(pattern: &str) -> Requirements {
    super::testdata::keyless(root(), GITHUB_ISSUER, pattern)
}

fn github() -> Requirements {
    keyless(r"^https://github\.com/acme/app/\.github/workflows/release\.yml@refs/tags/v")
}

fn claims() -> CertificateClaims {
    CertificateClaims {
        source_repository_uri: Some("https://github.com/acme/app".into()),
        source_repository_ref: Some("refs/tags/v1.2.0".into()),
        source_repository_digest: Some("8e1f0c3b6d2a4f5e7c9b0a1d2e3f4a5b6c7d8e9f".into()),
    }
}

#[track_caller]
fn verified(found: &Found, requirements: &Requirements) -> (AttestationVerdict, Attestation) {
    let verdict = verify_attestation(found, DIGEST, requirements).expect("an attestation");
    match &verdict.result {
        Ok(attestation) => {
            let attestation = attestation.clone();
            (verdict, attestation)
        }
        Err(message) => panic!("expected it to verify, it failed: {message}"),
    }
}

#[track_caller]
fn assert_fails(found: &Found, requirements: &Requirements, cause: &str) {
    let verdict = verify_attestation(found, DIGEST, requirements).expect("an attestation");
    match &verdict.result {
        Err(message) => assert!(
            message.contains(cause),
            "expected `{cause}` in the failure, got `{message}`"
        ),
        Ok(attestation) => {
            panic!("expected a failure with `{cause}`, it verified: {attestation:?}")
        }
    }
}

#[test]
fn keyed_provenance_verifies_with_its_predicate() {
    for (name, predicate_type, file) in [
        ("keyed-v1", SLSA_PROVENANCE_V1, "slsa-v1-github.json"),
        ("keyed-v02", SLSA_PROVENANCE_V02, "slsa-v02-github.json"),
    ] {
        let (verdict, attestation) = verified(&attestation(name), &keyed());
        assert_eq!(verdict.format, "bundle");
        assert_eq!(verdict.signer.as_deref(), Some(key().id.as_str()), "{name}");
        assert_eq!(verdict.log_time, Some(INTEGRATED_TIME), "{name}");
        assert_eq!(attestation.predicate_type, predicate_type);
        assert_eq!(attestation.predicate, predicate(file), "{name}");
        assert_eq!(
            attestation.certificate, None,
            "keyed: no certificate claims"
        );
    }
}

#[test]
fn keyless_provenance_verifies_with_the_certificate_claims() {
    for (name, file) in [
        ("keyless-v1", "slsa-v1-github.json"),
        ("keyless-v02", "slsa-v02-github.json"),
    ] {
        let (verdict, attestation) = verified(&attestation(name), &github());
        assert_eq!(
            verdict.signer,
            Some(format!("{WORKFLOW} from {GITHUB_ISSUER}")),
            "{name}"
        );
        assert_eq!(verdict.log_time, Some(INTEGRATED_TIME));
        assert_eq!(attestation.predicate, predicate(file), "{name}");
        assert_eq!(attestation.certificate, Some(claims()), "{name}");
    }
    let (_, attestation) = verified(&attestation("keyless-v1-no-claims"), &github());
    assert_eq!(attestation.certificate, Some(CertificateClaims::default()));
}

#[test]
fn the_verified_predicate_reads_as_provenance() {
    let (_, attestation) = verified(&attestation("keyless-v1"), &github());
    let provenance = slsa_provenance(&attestation.predicate_type, &attestation.predicate).unwrap();
    assert_eq!(
        provenance,
        Provenance {
            builder_id: Some("https://github.com/actions/runner/github-hosted".into()),
            source_repo: Some("https://github.com/acme/app".into()),
            source_ref: Some("refs/tags/v1.2.0".into()),
        }
    );
}

#[test]
fn another_digest_in_the_subjects_fails() {
    assert_fails(
        &attestation("keyed-v1-tamper-other-digest"),
        &keyed(),
        "payload names sha256:",
    );
    assert_fails(
        &attestation("keyless-v1-tamper-other-digest"),
        &github(),
        "payload names sha256:",
    );
    // And a good attestation is of its image only.
    let other = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let verdict = verify_attestation(&attestation("keyed-v1"), other, &keyed()).unwrap();
    assert!(verdict
        .result
        .unwrap_err()
        .contains(&format!("not the image {other}")));
}

#[test]
fn a_changed_dsse_payload_fails() {
    assert_fails(
        &attestation("keyed-v1-tamper-modified-payload"),
        &keyed(),
        "signature does not verify with key",
    );
    assert_fails(
        &attestation("keyless-v1-tamper-modified-payload"),
        &github(),
        "signature does not verify with the key of the certificate",
    );
}

#[test]
fn a_signer_the_policy_does_not_name_fails() {
    assert_fails(
        &attestation("keyed-v1-tamper-wrong-key"),
        &keyed(),
        "signature does not verify with key",
    );
    assert_fails(
        &attestation("keyless-v1-tamper-wrong-key"),
        &github(),
        "signature does not verify with the key of the certificate",
    );
    // Validly signed, by a key the policy does not require.
    let other = String::from_utf8(read("keys/ecdsa-p256.pub")).unwrap();
    let requirements = Requirements {
        keys: vec![parse_public_key_pem(&other).unwrap()],
        ..keyed()
    };
    assert_fails(
        &attestation("keyed-v1"),
        &requirements,
        "signature does not verify with key",
    );
    // A keyless one from another workflow, or keyless when only keys are trusted.
    assert_fails(
        &attestation("keyless-v1"),
        &keyless("^https://github.com/evil/"),
        "does not match",
    );
    assert_fails(
        &attestation("keyless-v1"),
        &keyed(),
        "signature does not verify with key",
    );
}

#[test]
fn what_is_not_an_attestation_is_none() {
    let signatures = [
        attestation("keyed-signature"),
        Found::Bundle {
            bundle: read("bundle/keyless/bundle.json"),
        },
        Found::Bundle {
            bundle: read("bundle/message-signature/bundle.json"),
        },
        Found::Legacy {
            payload: read("legacy/ecdsa-p256/payload.json"),
            annotations: serde_json::from_slice(&read("legacy/ecdsa-p256/annotations.json"))
                .unwrap(),
        },
    ];
    for found in &signatures {
        assert_eq!(
            verify_attestation(found, DIGEST, &keyed()),
            None,
            "{found:?}"
        );
    }
}

#[test]
fn signatures_and_attestations_stay_apart_on_the_shared_path() {
    assert_eq!(
        verify(&attestation("keyed-signature"), DIGEST, &keyed()).result,
        Ok(())
    );
    let verdict = verify(&attestation("keyed-v1"), DIGEST, &keyed());
    assert!(verdict.result.unwrap_err().contains("is an attestation"));
}

#[test]
fn an_unreadable_bundle_fails_rather_than_vanishing() {
    for bytes in [b"".to_vec(), b"{}".to_vec(), b"not json".to_vec()] {
        let found = Found::Bundle { bundle: bytes };
        let verdict = verify_attestation(&found, DIGEST, &keyed()).unwrap();
        assert!(verdict.result.is_err());
    }
}

#[test]
fn required_annotations_bind_attestations_too() {
    let requirements = Requirements {
        annotations: [("env".to_string(), "prod".to_string())].into(),
        ..keyed()
    };
    assert_fails(
        &attestation("keyed-v1"),
        &requirements,
        "annotation `env` is not signed",
    );
}
