//! Manifests and indexes, Docker (v2 schema 2) and OCI: media types, parsing, descriptors.
//!
//! Parsing is strict where it matters for trust: every descriptor's digest must be one we can
//! verify and its size non-negative; a manifest whose declared media type contradicts the
//! descriptor that pointed at it is rejected; Docker schema 1 is refused. Everything else that
//! is unknown is ignored, as the specs require.

use oci_client::manifest::{
    ImageIndexEntry, OciDescriptor, OciImageIndex, OciImageManifest, Versioned,
};
use std::collections::BTreeMap;

use super::digest::Digest;
use super::error::ImageError;
use super::facts::Platform;

pub use oci_client::manifest::{
    IMAGE_CONFIG_MEDIA_TYPE as OCI_CONFIG, IMAGE_DOCKER_CONFIG_MEDIA_TYPE as DOCKER_CONFIG,
    IMAGE_MANIFEST_LIST_MEDIA_TYPE as DOCKER_MANIFEST_LIST,
    IMAGE_MANIFEST_MEDIA_TYPE as DOCKER_MANIFEST, OCI_IMAGE_INDEX_MEDIA_TYPE as OCI_INDEX,
    OCI_IMAGE_MEDIA_TYPE as OCI_MANIFEST,
};

/// Docker's uncompressed layer type, used for layers of legacy `docker save` archives.
pub const DOCKER_LAYER_TAR: &str = "application/vnd.docker.image.rootfs.diff.tar";

/// Docker schema 1 manifests: deprecated, unsigned in practice, not supported.
const SCHEMA1_MEDIA_TYPES: &[&str] = &[
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
];

/// The `Accept` header for manifest requests: indexes and image manifests, OCI and Docker.
/// (A registry serves OCI manifests only to clients that accept them.)
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.oci.image.manifest.v1+json, \
     application/vnd.docker.distribution.manifest.v2+json";

/// Annotation naming a tag in an OCI layout's `index.json`.
pub const REF_NAME_ANNOTATION: &str = "org.opencontainers.image.ref.name";

pub fn is_index_media_type(media_type: &str) -> bool {
    media_type == OCI_INDEX || media_type == DOCKER_MANIFEST_LIST
}

pub fn is_image_manifest_media_type(media_type: &str) -> bool {
    media_type == OCI_MANIFEST || media_type == DOCKER_MANIFEST
}

pub fn is_image_config_media_type(media_type: &str) -> bool {
    media_type == OCI_CONFIG || media_type == DOCKER_CONFIG
}

/// `application/json; charset=utf-8` → `application/json`.
pub fn essence(content_type: &str) -> &str {
    content_type
        .split(';')
        .next()
        .map(str::trim)
        .unwrap_or(content_type)
}

/// A verified-syntax pointer to content: what it is, its digest and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
    pub platform: Option<Platform>,
    pub annotations: BTreeMap<String, String>,
    pub artifact_type: Option<String>,
}

impl Descriptor {
    fn from_oci(d: OciDescriptor, what: &str) -> Result<Descriptor, ImageError> {
        Ok(Descriptor {
            digest: parse_digest(&d.digest, what)?,
            size: parse_size(d.size, what)?,
            media_type: d.media_type,
            platform: None,
            annotations: d.annotations.unwrap_or_default(),
            artifact_type: d.artifact_type,
        })
    }

    fn from_index_entry(e: ImageIndexEntry, what: &str) -> Result<Descriptor, ImageError> {
        Ok(Descriptor {
            digest: parse_digest(&e.digest, what)?,
            size: parse_size(e.size, what)?,
            media_type: e.media_type,
            platform: e.platform.map(|p| {
                Platform::new(
                    &p.os.to_string(),
                    &p.architecture.to_string(),
                    p.variant.as_deref(),
                )
            }),
            annotations: e.annotations.unwrap_or_default(),
            artifact_type: e.artifact_type,
        })
    }
}

/// A parsed manifest: one image, or an index of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Manifest {
    Image(Box<ImageManifest>),
    Index(Index),
}

impl Manifest {
    pub fn media_type(&self) -> &str {
        match self {
            Manifest::Image(m) => &m.media_type,
            Manifest::Index(i) => &i.media_type,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageManifest {
    pub media_type: String,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
    pub artifact_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    pub media_type: String,
    pub manifests: Vec<Descriptor>,
}

/// Parses manifest bytes (already digest-verified).
///
/// `declared` is the media type of the descriptor that pointed here (an index entry); the
/// manifest must not contradict it. `content_type` is the registry's `Content-Type`, used only
/// when the manifest does not say what it is.
pub fn parse_manifest(
    bytes: &[u8],
    declared: Option<&str>,
    content_type: Option<&str>,
    what: &str,
) -> Result<Manifest, ImageError> {
    super::gojson::check(bytes, &super::gojson::MANIFEST)
        .map_err(|e| ImageError::malformed(what, format!("not a manifest: {e}")))?;
    let versioned: Versioned = serde_json::from_slice(bytes)
        .map_err(|e| ImageError::malformed(what, format!("not a manifest: {e}")))?;
    let own = versioned.media_type.as_deref();
    if versioned.schema_version == 1 || own.is_some_and(|m| SCHEMA1_MEDIA_TYPES.contains(&m)) {
        return Err(ImageError::UnsupportedMediaType {
            what: what.to_string(),
            media_type: own.unwrap_or(SCHEMA1_MEDIA_TYPES[0]).to_string(),
            detail: Some("Docker schema 1 manifests are deprecated; push the image again with a current client".into()),
        });
    }
    if versioned.schema_version != 2 {
        return Err(ImageError::malformed(
            what,
            format!("schemaVersion {} (expected 2)", versioned.schema_version),
        ));
    }
    if let (Some(own), Some(declared)) = (own, declared) {
        if own != declared {
            return Err(ImageError::malformed(
                what,
                format!("its descriptor says `{declared}` but the manifest says `{own}`"),
            ));
        }
    }
    let media_type = match own.or(declared) {
        Some(m) => m.to_string(),
        None => match content_type.map(essence) {
            Some(ct) if is_index_media_type(ct) || is_image_manifest_media_type(ct) => {
                ct.to_string()
            }
            _ => sniff_media_type(bytes),
        },
    };
    if is_image_manifest_media_type(&media_type) {
        let raw: OciImageManifest = serde_json::from_slice(bytes)
            .map_err(|e| ImageError::malformed(what, e.to_string()))?;
        let config = Descriptor::from_oci(raw.config, what)?;
        let layers = raw
            .layers
            .into_iter()
            .map(|l| Descriptor::from_oci(l, what))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Manifest::Image(Box::new(ImageManifest {
            media_type,
            config,
            layers,
            artifact_type: raw.artifact_type,
        })))
    } else if is_index_media_type(&media_type) {
        let raw: OciImageIndex = serde_json::from_slice(bytes)
            .map_err(|e| ImageError::malformed(what, e.to_string()))?;
        let manifests = raw
            .manifests
            .into_iter()
            .map(|e| Descriptor::from_index_entry(e, what))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Manifest::Index(Index {
            media_type,
            manifests,
        }))
    } else {
        Err(ImageError::UnsupportedMediaType {
            what: what.to_string(),
            media_type,
            detail: Some("expected an OCI or Docker v2 image manifest or index".into()),
        })
    }
}

/// A manifest that names no media type: an index has `manifests`, an image has `config`.
fn sniff_media_type(bytes: &[u8]) -> String {
    let value: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_default();
    if value.get("manifests").is_some() {
        OCI_INDEX.to_string()
    } else if value.get("config").is_some() {
        OCI_MANIFEST.to_string()
    } else {
        "(none)".to_string()
    }
}

fn parse_digest(digest: &str, what: &str) -> Result<Digest, ImageError> {
    Digest::parse(digest).map_err(|e| ImageError::malformed(what, e.to_string()))
}

fn parse_size(size: i64, what: &str) -> Result<u64, ImageError> {
    u64::try_from(size).map_err(|_| ImageError::malformed(what, format!("negative size {size}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

    fn image(media_type: Option<&str>) -> String {
        let mt = media_type
            .map(|m| format!(r#""mediaType": "{m}","#))
            .unwrap_or_default();
        format!(
            r#"{{"schemaVersion": 2, {mt}
              "config": {{"mediaType": "{DOCKER_CONFIG}", "digest": "{D1}", "size": 7}},
              "layers": [{{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "digest": "{D2}", "size": 9}}]}}"#
        )
    }

    #[test]
    fn parses_docker_and_oci_image_manifests() {
        let m = parse_manifest(image(Some(DOCKER_MANIFEST)).as_bytes(), None, None, "m").unwrap();
        let Manifest::Image(m) = m else {
            panic!("expected an image")
        };
        assert_eq!(m.media_type, DOCKER_MANIFEST);
        assert_eq!(m.config.digest.to_string(), D1);
        assert_eq!(m.layers[0].size, 9);

        // No mediaType in the body: the Content-Type says, or the shape does.
        let body = image(None);
        let m = parse_manifest(
            body.as_bytes(),
            None,
            Some("application/vnd.oci.image.manifest.v1+json; charset=utf-8"),
            "m",
        )
        .unwrap();
        assert_eq!(m.media_type(), OCI_MANIFEST);
        let m = parse_manifest(body.as_bytes(), None, Some("application/json"), "m").unwrap();
        assert_eq!(m.media_type(), OCI_MANIFEST);
    }

    #[test]
    fn parses_an_index_and_recognises_attestations() {
        let body = format!(
            r#"{{"schemaVersion": 2, "mediaType": "{OCI_INDEX}", "manifests": [
                {{"mediaType": "{OCI_MANIFEST}", "digest": "{D1}", "size": 1, "platform": {{"os": "linux", "architecture": "arm64", "variant": "v8"}}}},
                {{"mediaType": "{OCI_MANIFEST}", "digest": "{D2}", "size": 2, "platform": {{"os": "unknown", "architecture": "unknown"}},
                  "annotations": {{"vnd.docker.reference.type": "attestation-manifest"}}}}]}}"#
        );
        let Manifest::Index(index) = parse_manifest(body.as_bytes(), None, None, "i").unwrap()
        else {
            panic!("expected an index")
        };
        assert_eq!(index.manifests.len(), 2);
        assert_eq!(
            index.manifests[0].platform.as_ref().unwrap().to_string(),
            "linux/arm64/v8"
        );
        assert_eq!(
            index.manifests[1]
                .annotations
                .get("vnd.docker.reference.type")
                .map(String::as_str),
            Some("attestation-manifest")
        );
        assert!(index.manifests[1].platform.as_ref().unwrap().is_unknown());
    }

    #[test]
    fn refuses_contradictions_schema1_and_bad_descriptors() {
        let body = image(Some(DOCKER_MANIFEST));
        let err = parse_manifest(body.as_bytes(), Some(OCI_MANIFEST), None, "m").unwrap_err();
        assert_eq!(err.kind(), super::super::ErrorKind::Malformed);

        let schema1 = br#"{"schemaVersion": 1, "name": "x", "tag": "y", "fsLayers": []}"#;
        let err = parse_manifest(schema1, None, None, "m").unwrap_err();
        assert_eq!(err.kind(), super::super::ErrorKind::UnsupportedMediaType);

        let helm = br#"{"schemaVersion": 2, "mediaType": "application/vnd.cncf.helm.chart"}"#;
        let err = parse_manifest(helm, None, None, "m").unwrap_err();
        assert_eq!(err.kind(), super::super::ErrorKind::UnsupportedMediaType);

        let bad_digest = body.replace(D2, "sha256:../../etc/passwd");
        let err = parse_manifest(bad_digest.as_bytes(), None, None, "m").unwrap_err();
        assert_eq!(err.kind(), super::super::ErrorKind::Malformed);

        let negative = body.replace("\"size\": 9", "\"size\": -9");
        assert!(parse_manifest(negative.as_bytes(), None, None, "m").is_err());
        assert!(parse_manifest(b"not json", None, None, "m").is_err());
    }
}
