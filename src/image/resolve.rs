//! From a top-level manifest to [`ImageFacts`] platforms: the part every source shares.
//!
//! A source only knows how to read bytes (a registry over HTTP, a layout from disk, an archive
//! from a tarball). Everything it returns is checked here, the same way for all of them: the
//! size against the descriptor, the bytes against the digest, then parsed. An index is expanded
//! to all its platform images (attestations skipped, `--platform` applied), concurrently.

use futures_util::future::join_all;
use std::future::Future;

use super::digest::Digest;
use super::error::ImageError;
use super::facts::{ImageConfig, Layer, Platform, PlatformImage};
use super::manifest::{
    is_image_config_media_type, is_image_manifest_media_type, is_index_media_type, parse_manifest,
    Descriptor, ImageManifest, Index, Manifest,
};

/// How deep indexes may nest (an index of indexes of images is depth 2).
const MAX_INDEX_DEPTH: usize = 4;
/// Most manifests one target may expand to, across nested indexes.
const MAX_INDEX_ENTRIES: usize = 256;

/// What a read is for: manifests and configs have different size limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ContentKind {
    Manifest,
    Config,
}

impl ContentKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ContentKind::Manifest => "manifest",
            ContentKind::Config => "config",
        }
    }
}

/// Where content comes from. Implementations read; [`Resolver`] verifies.
pub(crate) trait ContentStore: Sync {
    /// Reads the content `descriptor` names: at most `max` bytes, failing with
    /// [`ImageError::TooLarge`] (limit `max`) as soon as there are more — never buffering more.
    fn read(
        &self,
        kind: ContentKind,
        descriptor: &Descriptor,
        max: u64,
    ) -> impl Future<Output = Result<Vec<u8>, ImageError>> + Send;
}

/// Where layer blobs come from. Implementations open a stream; the layer reader
/// (`super::layers`) counts, hashes and verifies what it yields.
pub(crate) trait LayerStore: Sync {
    /// The bytes of layer `index` of an image as stored, `layer` as its manifest lists it,
    /// from the first byte. Never buffered whole.
    fn open_layer(
        &self,
        index: usize,
        layer: &Layer,
    ) -> impl Future<Output = Result<Box<dyn std::io::Read + Send>, ImageError>> + Send;
}

/// Size limits for what is read into memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub manifest_bytes: u64,
    pub config_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            manifest_bytes: 4 * 1024 * 1024,
            config_bytes: 8 * 1024 * 1024,
        }
    }
}

impl Limits {
    pub(crate) fn for_kind(&self, kind: ContentKind) -> u64 {
        match kind {
            ContentKind::Manifest => self.manifest_bytes,
            ContentKind::Config => self.config_bytes,
        }
    }
}

/// A top-level manifest, already read and verified by the source.
pub(crate) struct TopLevel {
    pub bytes: Vec<u8>,
    pub digest: Digest,
    /// Media type of the descriptor that named it, if any (layouts, archives).
    pub declared: Option<String>,
    /// The registry's `Content-Type`, if any.
    pub content_type: Option<String>,
}

/// The platforms of one target.
#[derive(Debug)]
pub(crate) struct Resolved {
    pub media_type: String,
    pub platforms: Vec<PlatformImage>,
}

pub(crate) struct Resolver<'a, S> {
    pub store: &'a S,
    /// The target, for messages.
    pub target: &'a str,
    pub platform: Option<&'a Platform>,
    pub limits: Limits,
}

impl<S: ContentStore> Resolver<'_, S> {
    /// Reads, verifies and resolves the manifest a descriptor names.
    pub(crate) async fn resolve_descriptor(
        &self,
        descriptor: &Descriptor,
    ) -> Result<Resolved, ImageError> {
        let bytes = self.fetch(ContentKind::Manifest, descriptor).await?;
        self.resolve(TopLevel {
            bytes,
            digest: descriptor.digest.clone(),
            declared: Some(descriptor.media_type.clone()),
            content_type: None,
        })
        .await
    }

    /// Resolves a verified top-level manifest or index into its platform images.
    pub(crate) async fn resolve(&self, top: TopLevel) -> Result<Resolved, ImageError> {
        let what = self.describe(ContentKind::Manifest, &top.digest);
        let manifest = parse_manifest(
            &top.bytes,
            top.declared.as_deref(),
            top.content_type.as_deref(),
            &what,
        )?;
        let media_type = manifest.media_type().to_string();
        let platforms = match manifest {
            Manifest::Image(image) => {
                let platform_image = self
                    .platform_image(top.digest.to_string(), *image, None, false)
                    .await?
                    .ok_or_else(|| ImageError::UnsupportedMediaType {
                        what: what.clone(),
                        media_type: media_type.clone(),
                        detail: Some("not a container image".into()),
                    })?;
                if let Some(wanted) = self.platform {
                    if !platform_image.platform.matches(wanted) {
                        return Err(self.no_platform(vec![platform_image.platform.to_string()]));
                    }
                }
                vec![platform_image]
            }
            Manifest::Index(index) => self.expand(index).await?,
        };
        Ok(Resolved {
            media_type,
            platforms,
        })
    }

    /// All platform images of an index, in index order.
    async fn expand(&self, index: Index) -> Result<Vec<PlatformImage>, ImageError> {
        let mut candidates = Vec::new();
        let mut available = Vec::new();
        let mut pending = vec![(index, 1usize)];
        let mut seen = 0usize;
        while let Some((index, depth)) = pending.pop() {
            for entry in index.manifests {
                seen += 1;
                if seen > MAX_INDEX_ENTRIES {
                    return Err(ImageError::TooLarge {
                        what: format!("index of {}", self.target),
                        limit: MAX_INDEX_ENTRIES as u64,
                    });
                }
                // Clients choose an entry by its platform alone, whatever its annotations or
                // `artifactType` say: only what no client would run is skipped (buildx's
                // attestations sit under `unknown/unknown`).
                if entry.platform.as_ref().is_some_and(Platform::is_unknown) {
                    continue;
                }
                if is_index_media_type(&entry.media_type) {
                    if depth >= MAX_INDEX_DEPTH {
                        return Err(ImageError::malformed(
                            format!("index of {}", self.target),
                            format!("indexes nested deeper than {MAX_INDEX_DEPTH} levels"),
                        ));
                    }
                    let what = self.describe(ContentKind::Manifest, &entry.digest);
                    let bytes = self.fetch(ContentKind::Manifest, &entry).await?;
                    match parse_manifest(&bytes, Some(&entry.media_type), None, &what)? {
                        Manifest::Index(nested) => pending.push((nested, depth + 1)),
                        Manifest::Image(_) => unreachable_index(&what)?,
                    }
                    continue;
                }
                if !is_image_manifest_media_type(&entry.media_type) {
                    continue;
                }
                if let (Some(platform), Some(wanted)) = (&entry.platform, self.platform) {
                    if !platform.matches(wanted) {
                        available.push(platform.to_string());
                        continue;
                    }
                }
                candidates.push(entry);
            }
        }

        let fetched = join_all(candidates.iter().map(|entry| self.index_entry(entry))).await;
        let mut platforms = Vec::new();
        for result in fetched {
            let Some(image) = result? else { continue };
            match self.platform {
                Some(wanted) if !image.platform.matches(wanted) => {
                    available.push(image.platform.to_string());
                }
                _ => platforms.push(image),
            }
        }
        if platforms.is_empty() {
            if self.platform.is_some() {
                available.sort();
                available.dedup();
                return Err(self.no_platform(available));
            }
            return Err(ImageError::malformed(
                format!("index of {}", self.target),
                "it lists no container images (only attestations or artifacts)",
            ));
        }
        Ok(platforms)
    }

    async fn index_entry(&self, entry: &Descriptor) -> Result<Option<PlatformImage>, ImageError> {
        let what = self.describe(ContentKind::Manifest, &entry.digest);
        let bytes = self.fetch(ContentKind::Manifest, entry).await?;
        match parse_manifest(&bytes, Some(&entry.media_type), None, &what)? {
            // An entry whose config is no container image config is skipped: no runtime can
            // run it, whatever platform it claims.
            Manifest::Image(image) => {
                self.platform_image(
                    entry.digest.to_string(),
                    *image,
                    entry.platform.clone(),
                    true,
                )
                .await
            }
            Manifest::Index(_) => unreachable_index(&what).map(|()| None),
        }
    }

    /// One image manifest's facts. `None` for an artifact (not a container image) in an index.
    async fn platform_image(
        &self,
        manifest_digest: String,
        image: ImageManifest,
        platform: Option<Platform>,
        in_index: bool,
    ) -> Result<Option<PlatformImage>, ImageError> {
        // In an index, an entry is an image when its config is one, whatever `artifactType`
        // says: a runtime pulls it by its platform. Named directly, an artifact is refused.
        let is_artifact = (!in_index && image.artifact_type.is_some())
            || !is_image_config_media_type(&image.config.media_type);
        if is_artifact {
            if in_index {
                return Ok(None);
            }
            return Err(ImageError::UnsupportedMediaType {
                what: self.describe(ContentKind::Config, &image.config.digest),
                media_type: image.config.media_type,
                detail: Some("not a container image config (is this an artifact?)".into()),
            });
        }
        let what = self.describe(ContentKind::Config, &image.config.digest);
        let bytes = self.fetch(ContentKind::Config, &image.config).await?;
        let config = ImageConfig::from_json(&bytes)
            .map_err(|detail| ImageError::malformed(&what, detail))?;
        let platform = platform.unwrap_or_else(|| config_platform(&config));
        let layers: Vec<Layer> = image
            .layers
            .into_iter()
            .map(|l| Layer {
                digest: l.digest.to_string(),
                size: l.size,
                media_type: l.media_type,
            })
            .collect();
        let compressed_size = layers
            .iter()
            .fold(0u64, |sum, l| sum.saturating_add(l.size));
        Ok(Some(PlatformImage {
            platform,
            manifest_digest: Some(manifest_digest),
            media_type: Some(image.media_type),
            config_digest: image.config.digest.to_string(),
            config,
            layers,
            compressed_size,
            filesystem: None,
        }))
    }

    /// Reads content and checks it against its descriptor: size first, then digest.
    async fn fetch(
        &self,
        kind: ContentKind,
        descriptor: &Descriptor,
    ) -> Result<Vec<u8>, ImageError> {
        let what = self.describe(kind, &descriptor.digest);
        let limit = self.limits.for_kind(kind);
        if descriptor.size > limit {
            return Err(ImageError::TooLarge { what, limit });
        }
        let bytes = match self.store.read(kind, descriptor, descriptor.size).await {
            Err(ImageError::TooLarge { .. }) => {
                return Err(ImageError::SizeMismatch {
                    what,
                    expected: descriptor.size,
                    actual: None,
                })
            }
            other => other?,
        };
        verify(&what, descriptor, &bytes)?;
        Ok(bytes)
    }

    fn describe(&self, kind: ContentKind, digest: &Digest) -> String {
        format!("{} {digest} of {}", kind.as_str(), self.target)
    }

    fn no_platform(&self, available: Vec<String>) -> ImageError {
        ImageError::NoMatchingPlatform {
            target: self.target.to_string(),
            wanted: self.platform.map(ToString::to_string).unwrap_or_default(),
            available,
        }
    }
}

/// Checks bytes against the descriptor that named them.
pub(crate) fn verify(what: &str, descriptor: &Descriptor, bytes: &[u8]) -> Result<(), ImageError> {
    let actual = bytes.len() as u64;
    if actual != descriptor.size {
        return Err(ImageError::SizeMismatch {
            what: what.to_string(),
            expected: descriptor.size,
            actual: Some(actual),
        });
    }
    verify_digest(what, &descriptor.digest, bytes)
}

/// Checks bytes against a digest.
pub(crate) fn verify_digest(what: &str, digest: &Digest, bytes: &[u8]) -> Result<(), ImageError> {
    digest
        .verify(bytes)
        .map_err(|actual| ImageError::DigestMismatch {
            what: what.to_string(),
            expected: digest.to_string(),
            actual: actual.to_string(),
        })
}

/// The platform a config says it is for (images outside an index carry it only there).
pub(crate) fn config_platform(config: &ImageConfig) -> Platform {
    Platform::new(
        config
            .os
            .as_deref()
            .filter(|s| !s.is_empty())
            .unwrap_or("unknown"),
        config
            .architecture
            .as_deref()
            .filter(|s| !s.is_empty())
            .unwrap_or("unknown"),
        config.variant.as_deref(),
    )
}

/// `parse_manifest` with a declared index type never yields an image (and vice versa), because
/// a contradiction is an error; this keeps the impossible branch an error, not a panic.
fn unreachable_index(what: &str) -> Result<(), ImageError> {
    Err(ImageError::malformed(
        what,
        "manifest kind does not match its descriptor",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::manifest::{OCI_CONFIG, OCI_INDEX, OCI_MANIFEST};
    use crate::image::ErrorKind;
    use std::collections::HashMap;

    /// Content by digest, in memory.
    #[derive(Default)]
    struct Memory(HashMap<String, Vec<u8>>);

    impl ContentStore for Memory {
        async fn read(
            &self,
            _kind: ContentKind,
            descriptor: &Descriptor,
            max: u64,
        ) -> Result<Vec<u8>, ImageError> {
            let bytes = self
                .0
                .get(&descriptor.digest.to_string())
                .cloned()
                .ok_or_else(|| ImageError::NotFound {
                    what: descriptor.digest.to_string(),
                    detail: None,
                })?;
            if bytes.len() as u64 > max {
                return Err(ImageError::TooLarge {
                    what: "x".into(),
                    limit: max,
                });
            }
            Ok(bytes)
        }
    }

    impl Memory {
        /// Stores `json`; returns a descriptor JSON for it (with extra fields `extra`).
        fn put(&mut self, media_type: &str, json: &str, extra: &str) -> String {
            let digest = Digest::sha256_of(json.as_bytes()).to_string();
            self.0.insert(digest.clone(), json.as_bytes().to_vec());
            format!(
                r#"{{"mediaType":"{media_type}","digest":"{digest}","size":{}{extra}}}"#,
                json.len()
            )
        }

        fn image(&mut self, arch: &str, config_media_type: &str) -> String {
            let config = self.put(
                config_media_type,
                &format!(
                    r#"{{"os":"linux","architecture":"{arch}","config":{{"User":"u-{arch}"}}}}"#
                ),
                "",
            );
            format!(
                r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{config},"layers":[]}}"#
            )
        }

        fn index(entries: &[String]) -> String {
            format!(
                r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[{}]}}"#,
                entries.join(",")
            )
        }
    }

    fn platform(arch: &str) -> String {
        format!(r#","platform":{{"os":"linux","architecture":"{arch}"}}"#)
    }

    fn resolve(store: &Memory, top: &str, wanted: Option<&str>) -> Result<Resolved, ImageError> {
        let wanted = wanted.map(|w| Platform::parse(w).unwrap());
        let resolver = Resolver {
            store,
            target: "test",
            platform: wanted.as_ref(),
            limits: Limits::default(),
        };
        let top = TopLevel {
            bytes: top.as_bytes().to_vec(),
            digest: Digest::sha256_of(top.as_bytes()),
            declared: None,
            content_type: None,
        };
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(resolver.resolve(top))
    }

    fn archs(resolved: &Resolved) -> Vec<String> {
        resolved
            .platforms
            .iter()
            .map(|p| p.platform.to_string())
            .collect()
    }

    #[test]
    fn expands_nested_indexes_and_skips_what_is_not_a_runnable_image() {
        let mut store = Memory::default();
        let amd64 = store.image("amd64", OCI_CONFIG);
        let arm64 = store.image("arm64", OCI_CONFIG);
        let helm = store.image("amd64", "application/vnd.cncf.helm.config.v1+json");
        let attestation = store.image("unknown", OCI_CONFIG);
        let entries = [
            store.put(OCI_MANIFEST, &amd64, &platform("amd64")),
            store.put(OCI_MANIFEST, &arm64, ""), // no platform: taken from the config
            store.put(OCI_MANIFEST, &helm, &platform("amd64")),
            store.put(
                OCI_MANIFEST,
                &attestation,
                r#","platform":{"os":"unknown","architecture":"unknown"}"#,
            ),
        ];
        let inner = Memory::index(&entries);
        let outer = Memory::index(&[store.put(OCI_INDEX, &inner, "")]);

        let resolved = resolve(&store, &outer, None).unwrap();
        assert_eq!(resolved.media_type, OCI_INDEX);
        assert_eq!(archs(&resolved), ["linux/amd64", "linux/arm64"]);
        assert_eq!(
            resolved.platforms[1].config.user.as_deref(),
            Some("u-arm64")
        );

        let resolved = resolve(&store, &outer, Some("linux/arm64")).unwrap();
        assert_eq!(archs(&resolved), ["linux/arm64"]);
        let err = resolve(&store, &outer, Some("linux/ppc64le")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NoMatchingPlatform);
        assert!(
            err.to_string().ends_with("linux/amd64, linux/arm64"),
            "{err}"
        );
    }

    #[test]
    fn refuses_indexes_without_images_or_nested_too_deep() {
        let mut store = Memory::default();
        let attestation = store.image("unknown", OCI_CONFIG);
        let only = Memory::index(&[store.put(
            OCI_MANIFEST,
            &attestation,
            r#","platform":{"os":"unknown","architecture":"unknown"}"#,
        )]);
        let err = resolve(&store, &only, None).unwrap_err();
        assert!(err.to_string().contains("no container images"), "{err}");

        let mut index = Memory::index(&[]);
        for _ in 0..MAX_INDEX_DEPTH {
            index = Memory::index(&[store.put(OCI_INDEX, &index, "")]);
        }
        let err = resolve(&store, &index, None).unwrap_err();
        assert!(err.to_string().contains("nested deeper"), "{err}");
    }

    #[test]
    fn checks_sizes_before_digests_and_refuses_artifacts() {
        let mut store = Memory::default();
        let image = store.image("amd64", OCI_CONFIG);
        let good = store.put(OCI_MANIFEST, &image, &platform("amd64"));
        let declared = format!("\"size\":{}", image.len());
        let smaller = good.replace(&declared, "\"size\":10");
        let err = resolve(&store, &Memory::index(&[smaller]), None).unwrap_err();
        assert!(
            matches!(
                err,
                ImageError::SizeMismatch {
                    actual: None,
                    expected: 10,
                    ..
                }
            ),
            "{err:?}"
        );
        let huge = good.replace(&declared, "\"size\":99999999999");
        let err = resolve(&store, &Memory::index(&[huge]), None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");

        let helm = store.image("amd64", "application/vnd.cncf.helm.config.v1+json");
        let err = resolve(&store, &helm, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnsupportedMediaType, "{err}");
        assert!(err.to_string().contains("artifact"), "{err}");
    }
}
