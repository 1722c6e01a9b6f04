//! The docker-archive source: `docker-archive:FILE[:REF|:@INDEX]`, a `docker save` tarball.
//!
//! Two shapes exist:
//! - Docker ≥ 25 (and `oci-archive`-like tarballs) hold an OCI layout: `index.json` and
//!   `blobs/`. It is read like an OCI layout (manifests, configs, digests all verified); an image
//!   is selected by `io.containerd.image.name` or `org.opencontainers.image.ref.name`.
//! - The legacy format (older Docker, skopeo) holds `manifest.json` (`Config`, `RepoTags`,
//!   `Layers`), a config named by its sha256 and `layer.tar` files. There is no manifest, so
//!   the facts' digest is the config digest (Docker's image ID), verified; layers are reported
//!   by their `diff_id`s and tar sizes, and, when read, checked against the `diff_id`s.
//!
//! The tarball is scanned once for its entries (seeking past file data); only the small JSON
//! files are read into memory, each under a size cap. Layers are read only when a rule needs
//! them, streamed from their place in the tarball ([`ArchiveLayers`]).

use serde::Deserialize;
use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::digest::Digest;
use super::error::ImageError;
use super::facts::{ImageConfig, ImageFacts, Layer, PlatformImage};
use super::layout::{block_on, parse_index, select};
use super::manifest::{Descriptor, DOCKER_LAYER_TAR, REF_NAME_ANNOTATION};
use super::reference::ImageReference;
use super::resolve::{
    config_platform, verify_digest, ContentKind, ContentStore, LayerStore, Resolver,
};
use super::source::{ArchiveSelector, FetchOptions};

/// Most entries scanned in one archive.
const MAX_ENTRIES: usize = 100_000;
/// How many symlinks are followed to find a layer's size.
const MAX_LINK_DEPTH: usize = 8;
/// Annotation containerd (and Docker ≥ 25) put on `index.json` entries: the full image name.
const CONTAINERD_IMAGE_NAME: &str = "io.containerd.image.name";

/// Facts of a `docker-archive:` target, and the store its layers are read from. Runs on the
/// blocking pool, inside the fetcher's runtime.
pub(crate) fn fetch(
    target: &str,
    file: &Path,
    select_by: Option<&ArchiveSelector>,
    options: &FetchOptions,
) -> Result<(ImageFacts, ArchiveLayers), ImageError> {
    let archive = Archive::scan(file)?;
    if archive.entries.contains_key("index.json") {
        let facts = fetch_oci(target, &archive, select_by, options)?;
        Ok((
            facts,
            ArchiveLayers {
                archive,
                legacy: None,
            },
        ))
    } else if archive.entries.contains_key("manifest.json") {
        let (facts, paths) = fetch_legacy(target, &archive, select_by, options)?;
        Ok((
            facts,
            ArchiveLayers {
                archive,
                legacy: Some(paths),
            },
        ))
    } else {
        Err(ImageError::malformed(
            format!("docker archive {}", file.display()),
            "it has neither manifest.json nor index.json (is it a `docker save` tarball?)",
        ))
    }
}

fn fetch_oci(
    target: &str,
    archive: &Archive,
    select_by: Option<&ArchiveSelector>,
    options: &FetchOptions,
) -> Result<ImageFacts, ImageError> {
    let what = format!("index.json in {}", archive.path.display());
    let bytes = archive.read_entry("index.json", options.limits.manifest_bytes)?;
    let entries = parse_index(&bytes, &what)?;
    let place = format!("docker archive {}", archive.path.display());
    let descriptor = match select_by {
        None => select(&entries, None, &place, target)?,
        Some(ArchiveSelector::Index(n)) => entries
            .get(*n)
            .cloned()
            .ok_or_else(|| not_found_index(*n, entries.len(), &place))?,
        Some(ArchiveSelector::Reference(wanted)) => {
            let wanted_normal = normalize(wanted);
            let found = entries.iter().find(|d| {
                d.annotations
                    .get(CONTAINERD_IMAGE_NAME)
                    .is_some_and(|name| normalize(name) == wanted_normal)
                    || d.annotations.get(REF_NAME_ANNOTATION).map(String::as_str)
                        == Some(wanted.as_str())
            });
            match found {
                Some(d) => d.clone(),
                None => {
                    let mut names: Vec<&str> = entries
                        .iter()
                        .filter_map(|d| {
                            d.annotations
                                .get(CONTAINERD_IMAGE_NAME)
                                .or_else(|| d.annotations.get(REF_NAME_ANNOTATION))
                                .map(String::as_str)
                        })
                        .collect();
                    names.sort_unstable();
                    return Err(ImageError::NotFound {
                        what: format!("image `{wanted}` in {place}"),
                        detail: Some(format!("it has: {}", list(&names))),
                    });
                }
            }
        }
    };
    let resolver = Resolver {
        store: archive,
        target,
        platform: options.platform.as_ref(),
        limits: options.limits,
    };
    let resolved = block_on(resolver.resolve_descriptor(&descriptor))??;
    Ok(ImageFacts {
        target: target.to_string(),
        reference: None,
        digest: descriptor.digest.to_string(),
        media_type: Some(resolved.media_type),
        size: descriptor.size,
        platforms: resolved.platforms,
        signatures: Default::default(),
        notary: Default::default(),
    })
}

#[derive(Deserialize)]
struct LegacyEntry {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers", default)]
    layers: Vec<String>,
}

/// The facts of a legacy archive's image, and the paths of its layers in the archive.
fn fetch_legacy(
    target: &str,
    archive: &Archive,
    select_by: Option<&ArchiveSelector>,
    options: &FetchOptions,
) -> Result<(ImageFacts, Vec<String>), ImageError> {
    let what = format!("manifest.json in {}", archive.path.display());
    let place = format!("docker archive {}", archive.path.display());
    let bytes = archive.read_entry("manifest.json", options.limits.manifest_bytes)?;
    super::gojson::check(&bytes, &super::gojson::ARCHIVE_MANIFEST)
        .map_err(|e| ImageError::malformed(&what, e))?;
    let images: Vec<LegacyEntry> =
        serde_json::from_slice(&bytes).map_err(|e| ImageError::malformed(&what, e.to_string()))?;
    let all_tags = || {
        let mut tags: Vec<&str> = images
            .iter()
            .flat_map(|i| i.repo_tags.iter().flatten().map(String::as_str))
            .collect();
        tags.sort_unstable();
        list(&tags)
    };
    let image = match select_by {
        None => match images.as_slice() {
            [one] => one,
            [] => {
                return Err(ImageError::NotFound {
                    what: format!("an image in {place}"),
                    detail: Some("its manifest.json lists none".into()),
                })
            }
            _ => {
                return Err(ImageError::InvalidTarget {
                    target: target.to_string(),
                    reason: format!(
                    "{place} holds {} images; name one with :REPO:TAG or :@INDEX (its tags: {})",
                    images.len(),
                    all_tags()
                ),
                })
            }
        },
        Some(ArchiveSelector::Index(n)) => images
            .get(*n)
            .ok_or_else(|| not_found_index(*n, images.len(), &place))?,
        Some(ArchiveSelector::Reference(wanted)) => {
            let wanted_normal = normalize(wanted);
            images
                .iter()
                .find(|i| {
                    i.repo_tags
                        .iter()
                        .flatten()
                        .any(|t| normalize(t) == wanted_normal)
                })
                .ok_or_else(|| ImageError::NotFound {
                    what: format!("image `{wanted}` in {place}"),
                    detail: Some(format!("its tags: {}", all_tags())),
                })?
        }
    };

    let config_digest = digest_from_path(&image.config).ok_or_else(|| {
        ImageError::malformed(
            &what,
            format!(
                "config `{}` is not named by its sha256, so it cannot be verified",
                super::digest::shorten(&image.config)
            ),
        )
    })?;
    let config_what = format!("config {config_digest} of {target}");
    let config_bytes = archive.read_entry(&image.config, options.limits.config_bytes)?;
    verify_digest(&config_what, &config_digest, &config_bytes)?;
    let config = ImageConfig::from_json(&config_bytes)
        .map_err(|detail| ImageError::malformed(&config_what, detail))?;
    let platform = config_platform(&config);
    if let Some(wanted) = &options.platform {
        if !platform.matches(wanted) {
            return Err(ImageError::NoMatchingPlatform {
                target: target.to_string(),
                wanted: wanted.to_string(),
                available: vec![platform.to_string()],
            });
        }
    }
    let layers = image
        .layers
        .iter()
        .enumerate()
        .map(|(i, path)| {
            let size = archive.size_of(path).ok_or_else(|| ImageError::NotFound {
                what: format!("layer `{}` in {place}", super::digest::shorten(path)),
                detail: None,
            })?;
            let digest = digest_from_path(path)
                .map(|d| d.to_string())
                .or_else(|| config.diff_ids.get(i).cloned())
                .unwrap_or_default();
            Ok(Layer {
                digest,
                size,
                media_type: DOCKER_LAYER_TAR.to_string(),
            })
        })
        .collect::<Result<Vec<_>, ImageError>>()?;
    let compressed_size = layers
        .iter()
        .fold(0u64, |sum, l| sum.saturating_add(l.size));
    let facts = ImageFacts {
        target: target.to_string(),
        reference: None,
        digest: config_digest.to_string(),
        media_type: None,
        size: config_bytes.len() as u64,
        signatures: Default::default(),
        notary: Default::default(),
        platforms: vec![PlatformImage {
            platform,
            manifest_digest: None,
            media_type: None,
            config_digest: config_digest.to_string(),
            config,
            layers,
            compressed_size,
            filesystem: None,
        }],
    };
    Ok((facts, image.layers.clone()))
}

/// `abc….json` or `blobs/sha256/abc…` → `sha256:abc…`.
fn digest_from_path(path: &str) -> Option<Digest> {
    let path = normalize_path(path);
    if let Some(rest) = path.strip_prefix("blobs/") {
        let (algorithm, hex) = rest.split_once('/')?;
        return Digest::parse(&format!("{algorithm}:{hex}")).ok();
    }
    let name = path.rsplit('/').next()?;
    let hex = name.strip_suffix(".json").unwrap_or(name);
    Digest::parse(&format!("sha256:{hex}")).ok()
}

/// A reference compared normalised (`app:1` is `docker.io/library/app:1`); unparsable ones as
/// written.
fn normalize(reference: &str) -> String {
    ImageReference::parse(reference)
        .map(|r| r.to_string())
        .unwrap_or_else(|_| reference.to_string())
}

fn list(items: &[&str]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}

fn not_found_index(n: usize, count: usize, place: &str) -> ImageError {
    ImageError::NotFound {
        what: format!("image @{n} in {place}"),
        detail: Some(format!("it holds {count} (numbered from 0)")),
    }
}

/// A tar entry: where its data starts and how long it is, or where a link points.
#[derive(Debug, Clone)]
enum Entry {
    File { offset: u64, size: u64 },
    Link(String),
}

/// An indexed tarball: entry paths (normalised) to where their data is.
struct Archive {
    path: PathBuf,
    entries: HashMap<String, Entry>,
}

impl Archive {
    fn scan(path: &Path) -> Result<Archive, ImageError> {
        let mut file = File::open(path).map_err(|e| ImageError::io(path, &e))?;
        let mut magic = [0u8; 2];
        let read = file
            .read(&mut magic)
            .map_err(|e| ImageError::io(path, &e))?;
        if read == 2 && magic == [0x1f, 0x8b] {
            return Err(ImageError::UnsupportedMediaType {
                what: format!("docker archive {}", path.display()),
                media_type: "application/gzip".into(),
                detail: Some("decompress it first (gunzip)".into()),
            });
        }
        file.seek(SeekFrom::Start(0))
            .map_err(|e| ImageError::io(path, &e))?;
        let malformed = |e: std::io::Error| {
            ImageError::malformed(format!("docker archive {}", path.display()), e.to_string())
        };
        let mut tar = tar::Archive::new(file);
        let mut entries = HashMap::new();
        for entry in tar.entries_with_seek().map_err(malformed)? {
            let entry = entry.map_err(malformed)?;
            if entries.len() >= MAX_ENTRIES {
                return Err(ImageError::TooLarge {
                    what: format!("docker archive {} (entries)", path.display()),
                    limit: MAX_ENTRIES as u64,
                });
            }
            let name = normalize_path(&String::from_utf8_lossy(&entry.path_bytes()));
            let kind = entry.header().entry_type();
            if kind.is_file() {
                entries.insert(
                    name,
                    Entry::File {
                        offset: entry.raw_file_position(),
                        size: entry.size(),
                    },
                );
            } else if kind.is_symlink() || kind.is_hard_link() {
                let Some(target) = entry.link_name_bytes() else {
                    continue;
                };
                let target = String::from_utf8_lossy(&target).into_owned();
                let resolved = if kind.is_symlink() && !target.starts_with('/') {
                    let parent = name.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
                    normalize_path(&format!("{parent}/{target}"))
                } else {
                    normalize_path(&target)
                };
                entries.insert(name, Entry::Link(resolved));
            }
        }
        Ok(Archive {
            path: path.to_path_buf(),
            entries,
        })
    }

    /// Where a path's data is, following links.
    fn locate(&self, name: &str) -> Option<(u64, u64)> {
        let mut name = normalize_path(name);
        for _ in 0..MAX_LINK_DEPTH {
            match self.entries.get(&name)? {
                Entry::File { offset, size } => return Some((*offset, *size)),
                Entry::Link(target) => name = target.clone(),
            }
        }
        None
    }

    fn size_of(&self, name: &str) -> Option<u64> {
        self.locate(name).map(|(_, size)| size)
    }

    /// Reads an entry of at most `max` bytes.
    fn read_entry(&self, name: &str, max: u64) -> Result<Vec<u8>, ImageError> {
        let place = || {
            format!(
                "`{}` in docker archive {}",
                super::digest::shorten(name),
                self.path.display()
            )
        };
        let (offset, size) = self.locate(name).ok_or_else(|| ImageError::NotFound {
            what: place(),
            detail: None,
        })?;
        if size > max {
            return Err(ImageError::TooLarge {
                what: place(),
                limit: max,
            });
        }
        let mut file = File::open(&self.path).map_err(|e| ImageError::io(&self.path, &e))?;
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| ImageError::io(&self.path, &e))?;
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        file.take(size)
            .read_to_end(&mut bytes)
            .map_err(|e| ImageError::io(&self.path, &e))?;
        if (bytes.len() as u64) < size {
            return Err(ImageError::malformed(place(), "the archive ends inside it"));
        }
        Ok(bytes)
    }
}

impl ContentStore for Archive {
    async fn read(
        &self,
        _kind: ContentKind,
        descriptor: &Descriptor,
        max: u64,
    ) -> Result<Vec<u8>, ImageError> {
        let digest = &descriptor.digest;
        let name = format!("blobs/{}/{}", digest.algorithm().as_str(), digest.hex());
        self.read_entry(&name, max)
    }
}

/// The layers of the image a `docker-archive:` target selected, read from the tarball in
/// place: by digest (`blobs/…`) in an OCI-shaped archive, by the manifest's paths in a legacy
/// one.
pub(crate) struct ArchiveLayers {
    archive: Archive,
    /// A legacy archive's layer paths, in order.
    legacy: Option<Vec<String>>,
}

impl LayerStore for ArchiveLayers {
    async fn open_layer(
        &self,
        index: usize,
        layer: &Layer,
    ) -> Result<Box<dyn Read + Send>, ImageError> {
        let name = match &self.legacy {
            Some(paths) => paths.get(index).cloned().unwrap_or_default(),
            None => {
                let digest = Digest::parse(&layer.digest).map_err(|e| {
                    ImageError::malformed(format!("layer {}", layer.digest), e.to_string())
                })?;
                format!("blobs/{}/{}", digest.algorithm().as_str(), digest.hex())
            }
        };
        let path = &self.archive.path;
        let (offset, size) = self
            .archive
            .locate(&name)
            .ok_or_else(|| ImageError::NotFound {
                what: format!(
                    "layer `{}` in docker archive {}",
                    super::digest::shorten(&name),
                    path.display()
                ),
                detail: None,
            })?;
        let mut file = File::open(path).map_err(|e| ImageError::io(path, &e))?;
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| ImageError::io(path, &e))?;
        Ok(Box::new(file.take(size)))
    }
}

/// `./a//b/../c` → `a/c`; leading `/` dropped, `..` never climbs above the root.
fn normalize_path(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_paths_and_finds_digests_in_names() {
        assert_eq!(normalize_path("./a//b/../c"), "a/c");
        assert_eq!(normalize_path("/../../x"), "x");
        let hex = "8ac6a33205419b9bc64319f5f162c60cb0bd75eddb5640fd7a7ec18bbbff1932";
        assert_eq!(
            digest_from_path(&format!("{hex}.json")).map(|d| d.to_string()),
            Some(format!("sha256:{hex}"))
        );
        assert_eq!(
            digest_from_path(&format!("blobs/sha256/{hex}")).map(|d| d.to_string()),
            Some(format!("sha256:{hex}"))
        );
        assert_eq!(digest_from_path("abc/layer.tar"), None);
        assert_eq!(normalize("app:1"), "docker.io/library/app:1");
    }
}
