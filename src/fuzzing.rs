//! Entry points for fuzzing: each takes arbitrary bytes and must return without panicking,
//! whatever they are. The fuzz targets in `fuzz/` (cargo-afl, run by `fuzz/run.sh`) call
//! these; the test suite calls them too, with generated inputs (`tests/properties.rs`), so
//! they stay built and honest. What a fuzzer finds becomes a regression test beside the code
//! it broke.

use crate::dockerfile::DockerfileFacts;
use crate::rules::{Check, Diagnostics, DockerfileContext, ImageContext, RuleOptions};
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

/// The layer reader (decompression, digest and limit checks, the tar reader, whiteouts and
/// filesystem assembly) on `data` as a layer blob, as it is and gzip-compressed, within small
/// limits; then every image rule (the layer rules among them) over each filesystem read.
pub fn layer(data: &[u8]) {
    use crate::image::facts::{ImageConfig, ImageFacts, Platform, PlatformImage};
    use crate::image::layers::{read_for_fuzzing, LayerLimits};
    let limits = LayerLimits {
        max_layer_bytes: 256 << 10,
        max_image_bytes: 512 << 10,
        max_files_per_layer: 256,
        max_scan_bytes: 64 << 10,
    };
    let options = RuleOptions::default();
    for filesystem in read_for_fuzzing(data, limits) {
        let platform = PlatformImage {
            platform: Platform::new("linux", "amd64", None),
            manifest_digest: None,
            media_type: None,
            config_digest: String::new(),
            config: ImageConfig::default(),
            compressed_size: 0,
            layers: Vec::new(),
            filesystem: Some(std::sync::Arc::new(filesystem)),
        };
        let image = ImageFacts {
            target: "oci:fuzz".into(),
            reference: None,
            digest: String::new(),
            media_type: None,
            size: 0,
            platforms: vec![platform.clone()],
            signatures: Default::default(),
            notary: Default::default(),
        };
        for rule in crate::rules::all() {
            let check = match (rule.check, rule.image_check) {
                (Check::Image(check), _) | (_, Some(check)) => check,
                _ => continue,
            };
            check(
                &ImageContext {
                    image: &image,
                    platform: &platform,
                    options: &options,
                    now: std::time::SystemTime::UNIX_EPOCH,
                },
                &mut Diagnostics::default(),
            );
        }
    }
}
