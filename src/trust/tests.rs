//! The verifier against what the independent test signer wrote (`tests/trust/fixtures`):
//! every good case verifies, every tampered case fails at the binding it breaks.

use super::testdata::read;
use super::*;

/// The image every fixture signs (see make.sh).
const DIGEST: &str = "sha256:4f9e6e1f6a5c3b2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d";
/// `--time 2026-06-01T12:00:00Z`, integrated two seconds later.
const INTEGRATED_TIME: i64 = 1_780_315_202;
const KINDS: [&str; 4] = ["ecdsa-p256", "ecdsa-p384", "ed25519", "rsa"];
const ISSUER: &str = "https://issuer.portcullis.test";

fn root() -> TrustedRoot {
    parse_trusted_root(&read("trusted_root.json")).unwrap()
}

fn key(kind: &str) -> PublicKey {
    parse_public_key_pem(&String::from_utf8(read(&format!("keys/{kind}.pub"))).unwrap()).unwrap()
}

fn legacy(name: &str) -> Found {
    Found::Legacy {
        payload: read(&format!("legacy/{name}/payload.json")),
        annotations: serde_json::from_slice(&read(&format!("legacy/{name}/annotations.json")))
            .unwrap(),
    }
}

fn bundle(name: &str) -> Found {
    Found::Bundle {
        bundle: read(&format!("bundle/{name}/bundle.json")),
    }
}

fn found(format: &str, name: &str) -> Found {
    match format {
        "legacy" => legacy(name),
        _ => bundle(name),
    }
}

fn keyed(kind: &str) -> Requirements {
    super::testdata::keyed(key(kind), root())
}

fn keyless(pattern: &str) -> Requirements {
    super::testdata::keyless(root(), ISSUER, pattern)
}

fn release() -> Requirements {
    keyless(r"^release@portcullis\.test$")
}

#[track_caller]
fn assert_fails(verdict: &Verdict, cause: &str) {
    match &verdict.result {
        Err(message) => assert!(
            message.contains(cause),
            "expected `{cause}` in the failure, got `{message}`"
        ),
        Ok(()) => panic!("expected a failure with `{cause}`, it verified: {verdict:?}"),
    }
}

#[test]
fn keyed_signatures_of_every_kind_verify_in_both_formats() {
    for format in ["legacy", "bundle"] {
        for kind in KINDS {
            let requirements = keyed(kind);
            let verdict = verify(&found(format, kind), DIGEST, &requirements);
            assert_eq!(verdict.result, Ok(()), "{format} {kind}");
            assert_eq!(verdict.format, format);
            assert_eq!(verdict.signer.as_deref(), Some(key(kind).id.as_str()));
            assert_eq!(verdict.log_time, Some(INTEGRATED_TIME), "{format} {kind}");
        }
    }
}

#[test]
fn keyed_signatures_without_a_log_entry_verify_unless_one_is_required() {
    for format in ["legacy", "bundle"] {
        for kind in KINDS {
            let name = format!("{kind}-notlog");
            let optional = Requirements {
                require_tlog: false,
                ..keyed(kind)
            };
            let verdict = verify(&found(format, &name), DIGEST, &optional);
            assert_eq!(verdict.result, Ok(()), "{format} {name}");
            assert_eq!(verdict.log_time, None);
            let verdict = verify(&found(format, &name), DIGEST, &keyed(kind));
            assert_fails(
                &verdict,
                "has no transparency-log entry, and one is required",
            );
        }
    }
}

#[test]
fn another_key_is_named_in_the_failure() {
    for format in ["legacy", "bundle"] {
        let verdict = verify(&found(format, "ecdsa-p256"), DIGEST, &keyed("rsa"));
        assert_fails(
            &verdict,
            &format!("signature does not verify with key {}", key("rsa").id),
        );
        assert_eq!(verdict.log_time, None);
    }
    // A bundle says which key it claims; a legacy signature does not.
    let verdict = verify(&bundle("ecdsa-p256"), DIGEST, &keyed("rsa"));
    assert_eq!(
        verdict.signer.as_deref(),
        Some(key("ecdsa-p256").id.as_str())
    );
}

#[test]
fn any_one_of_the_keys_may_sign() {
    let requirements = Requirements {
        keys: vec![key("rsa"), key("ed25519")],
        ..keyed("rsa")
    };
    let verdict = verify(&legacy("ed25519"), DIGEST, &requirements);
    assert_eq!(verdict.result, Ok(()));
    assert_eq!(verdict.signer, Some(key("ed25519").id));
}

#[test]
fn another_image_is_not_signed() {
    let other = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
    for format in ["legacy", "bundle"] {
        let verdict = verify(&found(format, "ecdsa-p256"), other, &keyed("ecdsa-p256"));
        assert_fails(
            &verdict,
            &format!("payload names {DIGEST} not the image {other}"),
        );
    }
}

/// (format, fixture, what the failure must say), for keyed signatures by the P-256 key.
const KEYED_TAMPERS: &[(&str, &str, &str)] = &[
    (
        "legacy",
        "tamper-wrong-key",
        "signature does not verify with key sha256:",
    ),
    (
        "legacy",
        "tamper-other-digest",
        "not the image sha256:4f9e6e1f",
    ),
    (
        "legacy",
        "tamper-flip-signature",
        "signature does not verify with key sha256:",
    ),
    (
        "legacy",
        "tamper-modified-payload",
        "signature does not verify with key sha256:",
    ),
    (
        "legacy",
        "tamper-unknown-log-key",
        "SET does not verify with the key of log",
    ),
    (
        "legacy",
        "tamper-body-for-other-signature",
        "log entry is for another signature",
    ),
    (
        "bundle",
        "tamper-wrong-key",
        "signature does not verify with key sha256:",
    ),
    (
        "bundle",
        "tamper-other-digest",
        "not the image sha256:4f9e6e1f",
    ),
    (
        "bundle",
        "tamper-flip-signature",
        "signature does not verify with key sha256:",
    ),
    (
        "bundle",
        "tamper-modified-payload",
        "signature does not verify with key sha256:",
    ),
    (
        "bundle",
        "tamper-unknown-log-key",
        "SET does not verify with the key of log",
    ),
    (
        "bundle",
        "tamper-body-for-other-signature",
        "log entry is for another signature",
    ),
    (
        "bundle",
        "tamper-bad-inclusion-proof",
        "inclusion proof of log",
    ),
    (
        "bundle",
        "tamper-unknown-checkpoint-key",
        "checkpoint signature does not verify",
    ),
];

#[test]
fn every_keyed_tamper_fails_at_its_binding() {
    for (format, name, cause) in KEYED_TAMPERS {
        let verdict = verify(&found(format, name), DIGEST, &keyed("ecdsa-p256"));
        assert!(verdict.result.is_err(), "{format} {name} verified");
        assert_fails(&verdict, cause);
        if name.contains("log-key") || name.contains("proof") || name.contains("checkpoint") {
            assert_eq!(verdict.log_time, None, "{format} {name}: an unproven time");
        }
    }
}

#[test]
fn a_present_log_entry_is_verified_even_when_not_required() {
    let optional = Requirements {
        require_tlog: false,
        ..keyed("ecdsa-p256")
    };
    let verdict = verify(&bundle("tamper-bad-inclusion-proof"), DIGEST, &optional);
    assert_fails(&verdict, "inclusion proof of log");
    let verdict = verify(
        &legacy("tamper-body-for-other-signature"),
        DIGEST,
        &optional,
    );
    assert_fails(&verdict, "log entry is for another signature");
}

#[test]
fn without_a_trusted_root_log_entries_are_not_proven() {
    let no_root = Requirements {
        require_tlog: false,
        trusted_root: None,
        ..keyed("ecdsa-p256")
    };
    let verdict = verify(&bundle("ecdsa-p256"), DIGEST, &no_root);
    assert_eq!(verdict.result, Ok(()));
    assert_eq!(verdict.log_time, None);
    let required = Requirements {
        require_tlog: true,
        ..no_root
    };
    let verdict = verify(&bundle("ecdsa-p256"), DIGEST, &required);
    assert_fails(&verdict, "no trusted root is configured");
}

#[test]
fn a_log_the_trusted_root_does_not_list_proves_nothing() {
    let mut root = root();
    let id = root.tlogs.keys().next().cloned().unwrap();
    let name = rekor::log_name(&unhex(&id).unwrap());
    root.tlogs.clear();
    let requirements = Requirements {
        trusted_root: Some(root),
        ..keyed("ecdsa-p256")
    };
    for format in ["legacy", "bundle"] {
        let verdict = verify(&found(format, "ecdsa-p256"), DIGEST, &requirements);
        assert_fails(
            &verdict,
            &format!("SET is signed by log {name}, which the trusted root does not list"),
        );
        assert_eq!(verdict.log_time, None);
    }
}

#[test]
fn a_log_key_outside_its_validity_proves_nothing() {
    let mut root = root();
    for validity in root.tlog_validity.values_mut() {
        validity.start = Some(INTEGRATED_TIME + 1);
    }
    let requirements = Requirements {
        trusted_root: Some(root),
        ..keyed("ecdsa-p256")
    };
    let verdict = verify(&bundle("ecdsa-p256"), DIGEST, &requirements);
    assert_fails(&verdict, "was not valid");
}

#[test]
fn required_annotations_must_be_signed_with_their_values() {
    for format in ["legacy", "bundle"] {
        let wants = |key: &str, value: &str| Requirements {
            annotations: BTreeMap::from([(key.to_string(), value.to_string())]),
            ..keyed("ecdsa-p256")
        };
        let verdict = verify(&found(format, "annotated"), DIGEST, &wants("env", "prod"));
        assert_eq!(verdict.result, Ok(()), "{format}");
        let verdict = verify(&found(format, "annotated"), DIGEST, &wants("env", "dev"));
        assert_fails(
            &verdict,
            "signed annotation `env` is `prod`, the policy requires `dev`",
        );
        let verdict = verify(&found(format, "ecdsa-p256"), DIGEST, &wants("env", "prod"));
        assert_fails(&verdict, "annotation `env` is not signed");
    }
}

#[test]
fn an_attestation_is_not_a_signature() {
    let verdict = verify(&bundle("attestation"), DIGEST, &keyed("ecdsa-p256"));
    assert_fails(
        &verdict,
        "is an attestation (predicate type https://slsa.dev/provenance/v1)",
    );
}

#[test]
fn statement_v01_and_deeper_proofs_verify() {
    for name in ["statement-v01", "trailing-entries"] {
        let verdict = verify(&bundle(name), DIGEST, &keyed("ecdsa-p256"));
        assert_eq!(verdict.result, Ok(()), "{name}");
    }
}

#[test]
fn keyless_signatures_verify_in_both_formats() {
    for (format, name) in [
        ("legacy", "keyless"),
        ("legacy", "keyless-v3-chain"),
        ("bundle", "keyless"),
    ] {
        let verdict = verify(&found(format, name), DIGEST, &release());
        assert_eq!(verdict.result, Ok(()), "{format} {name}");
        assert_eq!(
            verdict.signer.as_deref(),
            Some("release@portcullis.test from https://issuer.portcullis.test")
        );
        assert_eq!(verdict.log_time, Some(INTEGRATED_TIME));
    }
    let uri = keyless(r"^https://ci\.portcullis\.test/workflows/release\.yml@refs/heads/main$");
    let verdict = verify(&bundle("keyless-uri"), DIGEST, &uri);
    assert_eq!(verdict.result, Ok(()));
}

#[test]
fn keyless_identity_must_match_the_policy() {
    for format in ["legacy", "bundle"] {
        let verdict = verify(&found(format, "keyless"), DIGEST, &keyless("^mallory@"));
        assert_fails(&verdict, "does not match `^mallory@`");
        let mut other_issuer = release();
        if let Some(keyless) = &mut other_issuer.keyless {
            keyless.issuer = "https://accounts.example.test".into();
        }
        let verdict = verify(&found(format, "keyless"), DIGEST, &other_issuer);
        assert_fails(&verdict, "not by the issuer https://accounts.example.test");
    }
}

#[test]
fn keyless_needs_a_policy_identity_and_a_proven_time() {
    let verdict = verify(&bundle("keyless"), DIGEST, &keyed("ecdsa-p256"));
    assert!(verdict.result.is_err());
    let none = Requirements {
        trusted_root: Some(root()),
        ..Requirements::default()
    };
    let verdict = verify(&bundle("keyless"), DIGEST, &none);
    assert_fails(&verdict, "the policy names no keyless identity");
    assert_eq!(
        verdict.signer.as_deref(),
        Some("release@portcullis.test from https://issuer.portcullis.test")
    );
    let verdict = verify(&bundle("ecdsa-p256"), DIGEST, &release());
    assert_fails(&verdict, "has no certificate");
    let no_root = Requirements {
        trusted_root: None,
        require_tlog: false,
        ..release()
    };
    let verdict = verify(&bundle("keyless"), DIGEST, &no_root);
    assert_fails(&verdict, "needs a trusted root");
}

/// (fixture, what the failure must say), keyless, both formats (the legacy format has no
/// inclusion proof, so it has no fixture for the two proof tampers).
const KEYLESS_TAMPERS: &[(&str, &str)] = &[
    (
        "wrong-key",
        "signature does not verify with the key of the certificate for release@",
    ),
    ("other-digest", "not the image sha256:4f9e6e1f"),
    (
        "flip-signature",
        "signature does not verify with the key of the certificate",
    ),
    (
        "modified-payload",
        "signature does not verify with the key of the certificate",
    ),
    ("unknown-log-key", "SET does not verify with the key of log"),
    (
        "body-for-other-signature",
        "log entry is for another signature",
    ),
    ("bad-inclusion-proof", "inclusion proof of log"),
    (
        "unknown-checkpoint-key",
        "checkpoint signature does not verify",
    ),
    (
        "transplanted-cert",
        "signature does not verify with the key of the certificate",
    ),
    ("no-sct", "carries no embedded SCT"),
    ("unknown-ct-key", "SCT is from CT log"),
    ("expired-cert", "not valid at the log's integrated time"),
    (
        "untrusted-ca",
        "does not chain to a certificate authority of the trusted root",
    ),
];

#[test]
fn every_keyless_tamper_fails_at_its_binding() {
    for (tamper, cause) in KEYLESS_TAMPERS {
        for format in ["legacy", "bundle"] {
            let name = format!("keyless-tamper-{tamper}");
            if !super::testdata::path(&format!("{format}/{name}")).exists() {
                assert!(tamper.contains("proof") || tamper.contains("checkpoint"));
                continue;
            }
            let verdict = verify(&found(format, &name), DIGEST, &release());
            assert_fails(&verdict, cause);
        }
    }
}

#[test]
fn hostile_bundles_fail_without_panicking() {
    let Found::Bundle { bundle: good } = bundle("keyless") else {
        unreachable!()
    };
    let requirements = release();
    for cut in (0..good.len()).step_by(97) {
        let found = Found::Bundle {
            bundle: good[..cut].to_vec(),
        };
        assert!(verify(&found, DIGEST, &requirements).result.is_err());
    }
    for i in (0..good.len()).step_by(41) {
        let mut bytes = good.clone();
        bytes[i] ^= 0x04;
        let _ = verify(&Found::Bundle { bundle: bytes }, DIGEST, &requirements);
    }
    let huge = Found::Bundle {
        bundle: vec![b' '; bundle::MAX_BUNDLE_BYTES + 1],
    };
    assert_fails(&verify(&huge, DIGEST, &requirements), "too large");
}

#[test]
fn hostile_legacy_annotations_fail_without_panicking() {
    let Found::Legacy {
        payload,
        annotations,
    } = legacy("keyless")
    else {
        unreachable!()
    };
    let requirements = release();
    for (name, value) in &annotations {
        for cut in (0..value.len()).step_by(131) {
            if name == simplesigning::CHAIN_ANNOTATION && cut == 0 {
                continue; // an empty chain is what cosign v3 writes; it is not used
            }
            let mut changed = annotations.clone();
            changed.insert(name.clone(), value[..cut].to_string());
            let found = Found::Legacy {
                payload: payload.clone(),
                annotations: changed,
            };
            assert!(
                verify(&found, DIGEST, &requirements).result.is_err(),
                "{name} cut at {cut}"
            );
        }
    }
}

#[test]
fn a_message_signature_over_the_image_digest_verifies() {
    let requirements = Requirements {
        require_tlog: false,
        ..keyed("ecdsa-p256")
    };
    let verdict = verify(&bundle("message-signature"), DIGEST, &requirements);
    assert_eq!(verdict.result, Ok(()));
    assert_eq!(verdict.signer, Some(key("ecdsa-p256").id));
    let other_key = Requirements {
        keys: vec![key("rsa")],
        ..requirements.clone()
    };
    let verdict = verify(&bundle("message-signature"), DIGEST, &other_key);
    assert_fails(&verdict, "signature does not verify with key");
    let verdict = verify(
        &bundle("message-signature-other-digest"),
        DIGEST,
        &requirements,
    );
    assert_fails(
        &verdict,
        &format!("message signature: payload names sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef not the image {DIGEST}"),
    );
}

/// The bundle fixture `name` without its SET (inclusion proof and checkpoint only).
fn without_set(name: &str) -> Found {
    let mut bundle: serde_json::Value =
        serde_json::from_slice(&read(&format!("bundle/{name}/bundle.json"))).unwrap();
    let entry = &mut bundle["verificationMaterial"]["tlogEntries"][0];
    entry.as_object_mut().unwrap().remove("inclusionPromise");
    Found::Bundle {
        bundle: serde_json::to_vec(&bundle).unwrap(),
    }
}

#[test]
fn an_inclusion_proof_proves_the_entry_but_not_the_time() {
    let verdict = verify(&without_set("ecdsa-p256"), DIGEST, &keyed("ecdsa-p256"));
    assert_eq!(verdict.result, Ok(()));
    assert_eq!(verdict.log_time, None);
    let verdict = verify(
        &without_set("tamper-bad-inclusion-proof"),
        DIGEST,
        &keyed("ecdsa-p256"),
    );
    assert_fails(&verdict, "inclusion proof of log");
    let verdict = verify(&without_set("keyless"), DIGEST, &release());
    assert_fails(
        &verdict,
        "needs a transparency-log entry whose SET shows when it was made",
    );
}
