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

/// A filesystem under construction for a test image (see [`with_filesystem`]).
pub struct TestFs(pub crate::image::layers::FileSystem);

impl std::ops::Deref for TestFs {
    type Target = crate::image::layers::FileSystem;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for TestFs {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl TestFs {
    /// Adds `path` to the final filesystem, as layer 2 put it there, owned by root.
    pub fn add(&mut self, path: &str, kind: crate::image::layers::FileKind, mode: u32, size: u64) {
        self.0.files.insert(
            path.to_string(),
            crate::image::layers::FileEntry {
                layer: 1,
                kind,
                mode,
                size,
                uid: 0,
                gid: 0,
                link: None,
            },
        );
    }

    /// Sets an account file's contents (`/etc/passwd`, `/etc/group`, `/etc/shadow`).
    pub fn account(&mut self, path: &str, text: &str) {
        self.0.account_files.insert(
            path.to_string(),
            crate::image::layers::AccountFile {
                layer: 0,
                bytes: text.as_bytes().to_vec(),
                truncated: false,
            },
        );
    }
}

/// An image of three layers whose files were read: `build` fills its filesystem. Its history:
/// `ADD file:base in /`, `COPY id_rsa /root/.ssh/`, `RUN rm /root/.ssh/id_rsa`, with
/// metadata-only steps between.
pub fn with_filesystem(build: impl FnOnce(&mut TestFs)) -> ImageFacts {
    use crate::image::HistoryEntry;
    let mut facts = image(ImageConfig::default(), &[100, 200, 300]);
    let step = |created_by: &str, empty_layer: bool| HistoryEntry {
        created_by: Some(created_by.to_string()),
        empty_layer,
        ..HistoryEntry::default()
    };
    let platform = &mut facts.platforms[0];
    platform.config.history = vec![
        step("/bin/sh -c #(nop) ADD file:base in / ", false),
        step("/bin/sh -c #(nop)  CMD [\"bash\"]", true),
        step("COPY id_rsa /root/.ssh/ # buildkit", false),
        step("ENV A=1", true),
        step("RUN /bin/sh -c rm /root/.ssh/id_rsa # buildkit", false),
    ];
    let mut fs = TestFs(crate::image::layers::FileSystem::default());
    fs.0.layers = platform
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| crate::image::layers::LayerSummary {
            digest: l.digest.clone(),
            diff_id: format!("sha256:{:064x}", 0xd00 + i),
            media_type: l.media_type.clone(),
            files: 0,
            uncompressed_bytes: l.size,
        })
        .collect();
    build(&mut fs);
    platform.filesystem = Some(std::sync::Arc::new(fs.0));
    facts
}
