//! The OCI image layout source: `oci:DIR[:TAG]`.
//!
//! A layout is a directory with `oci-layout`, `index.json` and `blobs/<alg>/<hex>`. The tag is
//! the `org.opencontainers.image.ref.name` annotation of an `index.json` entry; without a tag
//! the layout must hold exactly one image. Blobs are read with a size cap and checked against
//! their digests like registry content (digests are validated before they become file names).

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::digest::Digest;
use super::error::ImageError;
use super::facts::{ImageFacts, Layer};
use super::manifest::{parse_manifest, Descriptor, Manifest, OCI_INDEX, REF_NAME_ANNOTATION};
use super::resolve::{ContentKind, ContentStore, LayerStore, Resolver};
use super::source::FetchOptions;

/// Facts of an `oci:` target, and the store its layers are read from. Runs on the blocking
/// pool, inside the fetcher's runtime.
pub(crate) fn fetch(
    target: &str,
    dir: &Path,
    tag: Option<&str>,
    options: &FetchOptions,
) -> Result<(ImageFacts, LayoutStore), ImageError> {
    if !dir.is_dir() {
        return Err(ImageError::NotFound {
            what: format!("OCI layout directory {}", dir.display()),
            detail: None,
        });
    }
    if !dir.join("oci-layout").is_file() {
        return Err(ImageError::malformed(
            format!("OCI layout {}", dir.display()),
            "it has no `oci-layout` file",
        ));
    }
    let index_path = dir.join("index.json");
    let bytes = read_capped(&index_path, options.limits.manifest_bytes)?;
    let index = parse_index(&bytes, &index_path.display().to_string())?;
    let place = format!("OCI layout {}", dir.display());
    let descriptor = select(&index, tag, &place, target)?;
    let store = LayoutStore {
        dir: dir.to_path_buf(),
    };
    let resolver = Resolver {
        store: &store,
        target,
        platform: options.platform.as_ref(),
        limits: options.limits,
    };
    let resolved = block_on(resolver.resolve_descriptor(&descriptor))??;
    let facts = ImageFacts {
        target: target.to_string(),
        reference: None,
        digest: descriptor.digest.to_string(),
        media_type: Some(resolved.media_type),
        size: descriptor.size,
        platforms: resolved.platforms,
        signatures: Default::default(),
        notary: Default::default(),
    };
    Ok((facts, store))
}

/// Parses an `index.json` (which may omit its media type).
pub(crate) fn parse_index(bytes: &[u8], what: &str) -> Result<Vec<Descriptor>, ImageError> {
    match parse_manifest(bytes, None, Some(OCI_INDEX), what)? {
        Manifest::Index(index) => Ok(index.manifests),
        Manifest::Image(_) => Err(ImageError::malformed(what, "expected an image index")),
    }
}

/// The entry of a layout's index a tag names; without a tag, the only entry.
pub(crate) fn select(
    entries: &[Descriptor],
    tag: Option<&str>,
    place: &str,
    target: &str,
) -> Result<Descriptor, ImageError> {
    let tags = || {
        let mut tags: Vec<&str> = entries
            .iter()
            .filter_map(|d| d.annotations.get(REF_NAME_ANNOTATION).map(String::as_str))
            .collect();
        tags.sort_unstable();
        tags.dedup();
        if tags.is_empty() {
            "none".to_string()
        } else {
            tags.join(", ")
        }
    };
    match tag {
        Some(tag) => {
            let matching: Vec<&Descriptor> = entries
                .iter()
                .filter(|d| d.annotations.get(REF_NAME_ANNOTATION).map(String::as_str) == Some(tag))
                .collect();
            match matching.as_slice() {
                [one] => Ok((*one).clone()),
                [] => Err(ImageError::NotFound {
                    what: format!("tag `{tag}` in {place}"),
                    detail: Some(format!("its tags: {}", tags())),
                }),
                _ => Err(ImageError::malformed(
                    place,
                    format!("tag `{tag}` names {} different entries", matching.len()),
                )),
            }
        }
        None => match entries {
            [one] => Ok(one.clone()),
            [] => Err(ImageError::NotFound {
                what: format!("an image in {place}"),
                detail: Some("its index.json lists none".into()),
            }),
            _ => Err(ImageError::InvalidTarget {
                target: target.to_string(),
                reason: format!(
                    "{place} holds {} images; name one with :TAG (its tags: {})",
                    entries.len(),
                    tags()
                ),
            }),
        },
    }
}

/// Runs a local source's resolution, which never waits on I/O readiness, to completion.
pub(crate) fn block_on<F: std::future::Future>(future: F) -> Result<F::Output, ImageError> {
    let handle = tokio::runtime::Handle::try_current().map_err(|_| {
        ImageError::Setup("local image sources must run inside the fetcher's runtime".into())
    })?;
    Ok(handle.block_on(future))
}

pub(crate) struct LayoutStore {
    dir: PathBuf,
}

impl LayoutStore {
    fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.dir
            .join("blobs")
            .join(digest.algorithm().as_str())
            .join(digest.hex())
    }

    fn not_found(&self, digest: &Digest) -> ImageError {
        ImageError::NotFound {
            what: format!("blob {digest} in OCI layout {}", self.dir.display()),
            detail: None,
        }
    }
}

impl LayerStore for LayoutStore {
    async fn open_layer(
        &self,
        _index: usize,
        layer: &Layer,
    ) -> Result<Box<dyn Read + Send>, ImageError> {
        let digest = Digest::parse(&layer.digest)
            .map_err(|e| ImageError::malformed(format!("layer {}", layer.digest), e.to_string()))?;
        let path = self.blob_path(&digest);
        match File::open(&path) {
            Ok(file) => Ok(Box::new(file)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(self.not_found(&digest)),
            Err(e) => Err(ImageError::io(&path, &e)),
        }
    }
}

impl ContentStore for LayoutStore {
    async fn read(
        &self,
        _kind: ContentKind,
        descriptor: &Descriptor,
        max: u64,
    ) -> Result<Vec<u8>, ImageError> {
        let path = self.blob_path(&descriptor.digest);
        read_capped(&path, max).map_err(|e| match e {
            ImageError::NotFound { .. } => self.not_found(&descriptor.digest),
            other => other,
        })
    }
}

/// Reads a file of at most `max` bytes, never more into memory.
pub(crate) fn read_capped(path: &Path, max: u64) -> Result<Vec<u8>, ImageError> {
    let file = File::open(path).map_err(|e| ImageError::io(path, &e))?;
    let len = file.metadata().map_err(|e| ImageError::io(path, &e))?.len();
    let too_large = || ImageError::TooLarge {
        what: path.display().to_string(),
        limit: max,
    };
    if len > max {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| ImageError::io(path, &e))?;
    if bytes.len() as u64 > max {
        return Err(too_large());
    }
    Ok(bytes)
}
