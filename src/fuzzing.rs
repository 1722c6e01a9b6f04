//! Entry points for fuzzing: each takes arbitrary bytes and must return without panicking,
//! whatever they are. The fuzz targets in `fuzz/` (cargo-afl, run by `fuzz/run.sh`) call
//! these; the test suite calls them too, with generated inputs (`tests/properties.rs`), so
//! they stay built and honest. What a fuzzer finds becomes a regression test beside the code
//! it broke.

use crate::dockerfile::DockerfileFacts;
use crate::rules::{Check, Diagnostics, DockerfileContext, RuleOptions};
use std::collections::BTreeMap;

/// The Dockerfile parser, ARG expansion, syntax detection and every Dockerfile rule (their
/// default options), on `data` read as a Dockerfile is read.
pub fn dockerfile(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = crate::dockerfile::detect_syntax(&text);
    let facts = DockerfileFacts::gather("Dockerfile", &text, &BTreeMap::new());
    let options = RuleOptions::default();
    for rule in crate::rules::all() {
        // ShellCheck is a program of its own, not this code.
        if let (Check::Dockerfile(check), false) = (rule.check, rule.id == "PC2009") {
            check(
                &DockerfileContext {
                    facts: &facts,
                    options: &options,
                },
                &mut Diagnostics::default(),
            );
        }
    }
}

/// The policy loader on `data` as a policy file (a relative `extends` finds nothing).
pub fn policy(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let dir = std::path::Path::new("/nonexistent/portcullis-fuzz");
    let _ = crate::policy::load_text_for_fuzzing(&text, dir);
}

/// Image reference parsing and normalisation; a normalised reference parses to itself.
#[allow(clippy::panic)]
pub fn reference(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(reference) = crate::image::ImageReference::parse(&text) {
        let _ = reference.policy_name();
        let again = crate::image::ImageReference::parse(&reference.to_string());
        if again.as_ref().map(ToString::to_string) != Ok(reference.to_string()) {
            panic!("normalisation is not idempotent for {text:?}");
        }
    }
    let _ = crate::image::redact_userinfo(&text);
}

/// Manifest, index and config decoding, with the Go key-folding check in front of each.
pub fn manifest(data: &[u8]) {
    let _ = crate::image::manifest::parse_manifest(data, None, None, "fuzz");
    let _ = crate::image::ImageConfig::from_json(data);
}

/// The layer reader (decompression by magic bytes, the tar reader, whiteouts, the secret
/// search in files) and filesystem assembly, on `data` as a layer blob.
pub fn layer(data: &[u8]) {
    crate::image::layers::read_for_fuzzing(data);
}

/// The signature verifiers and trust-material parsers (bundles, `.sig` payloads and their
/// annotations, trusted roots, PEM keys) on `data`.
pub fn signature(data: &[u8]) {
    use crate::trust::{Found, Requirements};
    let text = String::from_utf8_lossy(data);
    let root = crate::trust::parse_trusted_root(data).ok();
    let _ = crate::trust::parse_public_key_pem(&text);
    let requirements = Requirements {
        require_tlog: root.is_some(),
        trusted_root: root,
        ..Requirements::default()
    };
    let digest = format!("sha256:{}", "a".repeat(64));
    let bundle = Found::Bundle {
        bundle: data.to_vec(),
    };
    let _ = crate::trust::verify(&bundle, &digest, &requirements);
    let _ = crate::trust::verify_attestation(&bundle, &digest, &requirements);
    if let Ok(predicate) = serde_json::from_slice::<serde_json::Value>(data) {
        for predicate_type in [
            crate::trust::SLSA_PROVENANCE_V1,
            crate::trust::SLSA_PROVENANCE_V02,
        ] {
            let _ = crate::trust::slsa_provenance(predicate_type, &predicate);
        }
    }
    let annotations = [
        ("dev.cosignproject.cosign/signature", text.to_string()),
        ("dev.sigstore.cosign/bundle", text.to_string()),
        ("dev.sigstore.cosign/certificate", text.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let legacy = Found::Legacy {
        payload: data.to_vec(),
        annotations,
    };
    let _ = crate::trust::verify(&legacy, &digest, &requirements);
}
