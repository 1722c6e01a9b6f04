//! Test helpers for image rules: hand-built facts, and one rule run over them.

use crate::image::{ImageConfig, ImageFacts, ImageReference, Layer, Platform, PlatformImage};
use crate::rules::{
    Check, Diagnostics, ImageContext, OptionValue, ReferenceContext, Rule, RuleOptions,
};
use std::time::{Duration, SystemTime};

/// 2025-01-01T00:00:00Z: the "now" of image rule tests.
pub fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_735_689_600)
}

/// A single-platform `linux/amd64` image with `config` and one layer per entry of `layers`
/// (its compressed size).
pub fn image(config: ImageConfig, layers: &[u64]) -> ImageFacts {
    let layers: Vec<Layer> = layers
        .iter()
        .enumerate()
        .map(|(i, size)| Layer {
            digest: format!("sha256:{i:064x}"),
            size: *size,
            media_type: "application/vnd.oci.image.layer.v1.tar+gzip".into(),
        })
        .collect();
    ImageFacts {
        target: "docker://registry.example.com/app:1".into(),
        reference: ImageReference::parse("registry.example.com/app:1").ok(),
        digest: format!("sha256:{:064x}", 0xabc),
        media_type: Some("application/vnd.oci.image.manifest.v1+json".into()),
        size: 0,
        signatures: Default::default(),
        notary: Default::default(),
        platforms: vec![PlatformImage {
            platform: Platform::new("linux", "amd64", None),
            manifest_digest: Some(format!("sha256:{:064x}", 0xabc)),
            media_type: Some("application/vnd.oci.image.manifest.v1+json".into()),
            config_digest: format!("sha256:{:064x}", 0xc0f),
            compressed_size: layers.iter().map(|l| l.size).sum(),
            filesystem: None,
            layers,
            config,
        }],
    }
}

/// The messages an image rule reports on every platform of `facts`, with `options`.
pub fn messages_with(
    rule: &Rule,
    facts: &ImageFacts,
    options: &[(&str, OptionValue)],
) -> Vec<String> {
    let options = RuleOptions {
        values: options
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    };
    let check = match (rule.check, rule.image_check) {
        (Check::Image(check), _) | (_, Some(check)) => check,
        _ => panic!("{} has no image check", rule.id),
    };
    let mut out = Diagnostics::default();
    for platform in &facts.platforms {
        check(
            &ImageContext {
                image: facts,
                platform,
                options: &options,
                now: now(),
            },
            &mut out,
        );
    }
    out.0.into_iter().map(|d| d.message).collect()
}

/// The messages an image rule reports over an image with `config`, default options.
pub fn messages(rule: &Rule, config: ImageConfig) -> Vec<String> {
    messages_with(rule, &image(config, &[100]), &[])
}

/// The messages a reference check reports for `reference`, with `options`.
pub fn reference_messages(
    rule: &Rule,
    reference: &str,
    options: &[(&str, OptionValue)],
) -> Vec<String> {
    let Some(check) = rule.reference_check else {
        panic!("{} has no reference check", rule.id);
    };
    let reference = ImageReference::parse(reference).unwrap_or_else(|e| panic!("{e}"));
    let facts = image(ImageConfig::default(), &[1]);
    let options = RuleOptions {
        values: options
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    };
    let mut out = Diagnostics::default();
    check(
        &ReferenceContext {
            reference: &reference,
            image: &facts,
            options: &options,
        },
        &mut out,
    );
    out.0.into_iter().map(|d| d.message).collect()
}

/// A `List` option value.
pub fn list(items: &[&str]) -> OptionValue {
    OptionValue::List(items.iter().map(|s| s.to_string()).collect())
}
