//! What image rules read: an image's digests, platforms, layers and configuration, gathered
//! (and digest-checked) by the sources before any rule runs.
//!
//! Facts are plain data. A target whose facts could not be gathered is reported as an
//! [`crate::image::ImageError`] instead; rules never see half-fetched facts.

use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::layers::FileSystem;
use super::reference::ImageReference;

/// Everything known about one image target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageFacts {
    /// The target as given: `docker://127.0.0.1:5000/app:1`, `oci:dir:tag`, `docker-archive:f`.
    pub target: String,
    /// The registry reference, for `docker://` targets.
    pub reference: Option<ImageReference>,
    /// What the target resolved to, once: the digest of the top-level manifest or index. For a
    /// legacy `docker save` archive, which has no manifest, it is the config digest (Docker's
    /// image ID).
    pub digest: String,
    /// Media type of the top-level manifest or index (`None` for a legacy `docker save` archive).
    pub media_type: Option<String>,
    /// Length in bytes of the top-level manifest or index (of the config, for a legacy
    /// `docker save` archive): what Docker Content Trust signs beside the digest.
    pub size: u64,
    /// One entry per platform image, in the index's order (one for a single-platform image).
    pub platforms: Vec<PlatformImage>,
    /// The signatures found for [`ImageFacts::digest`], when asked for (`trust-required`).
    #[serde(skip)]
    pub signatures: Signatures,
    /// What Docker Content Trust said of it, when a `notary` entry covers it.
    #[serde(skip)]
    pub notary: crate::trust::notary::NotaryFacts,
}

/// What the source found of an image's signatures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Signatures {
    /// Not looked for: no enabled rule needs them.
    #[default]
    NotRequested,
    /// This kind of source cannot say (the reason, for the finding).
    Unsupported(String),
    /// Every signature found (none is a fact too), bytes checked against their digests.
    Found(Vec<crate::trust::Found>),
}

impl ImageFacts {
    /// Whether the target is a multi-platform index (or manifest list).
    pub fn is_index(&self) -> bool {
        self.media_type
            .as_deref()
            .is_some_and(super::manifest::is_index_media_type)
    }
}

/// One platform's image: its manifest, config and layers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlatformImage {
    pub platform: Platform,
    /// Digest of this platform's image manifest (`None` for a legacy `docker save` archive).
    pub manifest_digest: Option<String>,
    /// Media type of this platform's image manifest (`None` for a legacy `docker save` archive).
    pub media_type: Option<String>,
    pub config_digest: String,
    pub config: ImageConfig,
    pub layers: Vec<Layer>,
    /// Sum of the layer sizes as stored (compressed, for registry images).
    pub compressed_size: u64,
    /// The image's files, read from its layers; `None` when no enabled rule needs layers
    /// (see [`crate::image::layers`]). Shared, as facts are cloned for base images.
    #[serde(serialize_with = "shared_filesystem")]
    pub filesystem: Option<Arc<FileSystem>>,
}

fn shared_filesystem<S: serde::Serializer>(
    filesystem: &Option<Arc<FileSystem>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    filesystem.as_deref().serialize(serializer)
}

/// A layer as its manifest describes it. Its contents are read only when a rule needs them
/// ([`PlatformImage::filesystem`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Layer {
    /// The layer's digest; for a legacy `docker save` archive, its uncompressed `diff_id`.
    pub digest: String,
    pub size: u64,
    pub media_type: String,
}

/// An operating system and CPU, as in an image index: displayed `linux/arm64/v8`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> Platform {
        Platform {
            os: os.to_string(),
            architecture: architecture.to_string(),
            variant: variant.filter(|v| !v.is_empty()).map(str::to_string),
        }
    }

    /// Parses `os/arch[/variant]`, as `--platform` takes it.
    pub fn parse(input: &str) -> Result<Platform, String> {
        let parts: Vec<&str> = input.split('/').collect();
        let valid = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
        };
        match parts.as_slice() {
            [os, arch] if valid(os) && valid(arch) => Ok(Platform::new(os, arch, None)),
            [os, arch, variant] if valid(os) && valid(arch) && valid(variant) => {
                Ok(Platform::new(os, arch, Some(variant)))
            }
            _ => Err(format!(
                "invalid platform `{input}`: expected os/arch or os/arch/variant, e.g. linux/arm64/v8"
            )),
        }
    }

    /// The attestation and signature entries buildx puts in an index: not runnable images.
    pub fn is_unknown(&self) -> bool {
        self.os == "unknown" && self.architecture == "unknown"
    }

    /// Whether this platform is one `filter` asks for. Names are compared normalised the way
    /// containerd does (`aarch64` is `arm64`, `x86_64` is `amd64`, arm64's default variant is
    /// `v8`); a filter without a variant matches every variant.
    pub fn matches(&self, filter: &Platform) -> bool {
        let (os, arch, variant) = self.normalized();
        let (want_os, want_arch, want_variant) = filter.normalized();
        os == want_os && arch == want_arch && (filter.variant.is_none() || variant == want_variant)
    }

    fn normalized(&self) -> (String, String, String) {
        let os = match self.os.to_ascii_lowercase().as_str() {
            "macos" => "darwin".to_string(),
            other => other.to_string(),
        };
        let variant = self.variant.as_deref().unwrap_or("").to_ascii_lowercase();
        let (arch, variant) = match (self.architecture.to_ascii_lowercase().as_str(), variant) {
            ("i386", v) => ("386".to_string(), v),
            ("x86_64" | "x86-64" | "amd64", v) => (
                "amd64".to_string(),
                if v == "v1" { String::new() } else { v },
            ),
            ("aarch64" | "arm64", v) => (
                "arm64".to_string(),
                match v.as_str() {
                    "" | "8" | "v8" => "v8".to_string(),
                    _ => v,
                },
            ),
            ("armhf", _) => ("arm".to_string(), "v7".to_string()),
            ("armel", _) => ("arm".to_string(), "v6".to_string()),
            ("arm", v) => (
                "arm".to_string(),
                match v.as_str() {
                    "" | "7" => "v7".to_string(),
                    "5" | "6" | "8" => format!("v{v}"),
                    _ => v,
                },
            ),
            (other, v) => (other.to_string(), v),
        };
        (os, arch, variant)
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Platform {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Platform::parse(s)
    }
}

/// The parts of an OCI / Docker image configuration that rules read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImageConfig {
    /// `User`; empty means root.
    pub user: Option<String>,
    /// `Env`, as `NAME=value` strings in order.
    pub env: Vec<String>,
    /// `ExposedPorts` keys (`80/tcp`), sorted.
    pub exposed_ports: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub healthcheck: Option<Healthcheck>,
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub working_dir: Option<String>,
    /// `Volumes` keys, sorted.
    pub volumes: Vec<String>,
    pub stop_signal: Option<String>,
    pub on_build: Vec<String>,
    pub shell: Option<Vec<String>>,
    /// Creation time as written (RFC 3339), if any.
    pub created: Option<String>,
    pub author: Option<String>,
    pub history: Vec<HistoryEntry>,
    pub os: Option<String>,
    pub architecture: Option<String>,
    pub variant: Option<String>,
    /// `rootfs.diff_ids`: digests of the uncompressed layers.
    pub diff_ids: Vec<String>,
}

impl ImageConfig {
    /// The value of environment variable `name`, if set (the last definition wins).
    pub fn env_var(&self, name: &str) -> Option<&str> {
        self.env.iter().rev().find_map(|entry| {
            let (key, value) = entry.split_once('=').unwrap_or((entry.as_str(), ""));
            (key == name).then_some(value)
        })
    }

    /// Parses a config blob. Unknown fields are ignored; known fields of the wrong type are an
    /// error.
    pub fn from_json(bytes: &[u8]) -> Result<ImageConfig, String> {
        // serde would also accept a JSON array for a struct; a config is an object.
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err("expected a JSON object".to_string());
        }
        super::gojson::check(bytes, &super::gojson::CONFIG)?;
        let raw: RawConfigFile = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        let container = raw.config.unwrap_or_default();
        Ok(ImageConfig {
            user: container.user,
            env: container.env.unwrap_or_default(),
            exposed_ports: keys(container.exposed_ports),
            labels: container.labels.unwrap_or_default(),
            healthcheck: container.healthcheck.map(Healthcheck::from_raw),
            entrypoint: container.entrypoint,
            cmd: container.cmd,
            working_dir: container.working_dir,
            volumes: keys(container.volumes),
            stop_signal: container.stop_signal,
            on_build: container.on_build.unwrap_or_default(),
            shell: container.shell,
            created: raw.created,
            author: raw.author,
            history: raw
                .history
                .unwrap_or_default()
                .into_iter()
                .map(|h| HistoryEntry {
                    created: h.created,
                    created_by: h.created_by,
                    empty_layer: h.empty_layer.unwrap_or(false),
                    comment: h.comment,
                })
                .collect(),
            os: raw.os,
            architecture: raw.architecture,
            variant: raw.variant,
            diff_ids: raw.rootfs.and_then(|r| r.diff_ids).unwrap_or_default(),
        })
    }
}

/// One step of the image's build history.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    pub created: Option<String>,
    /// The instruction that made this step, e.g. `/bin/sh -c #(nop)  USER app`.
    pub created_by: Option<String>,
    /// Whether the step made no layer (metadata-only instructions).
    pub empty_layer: bool,
    pub comment: Option<String>,
}

/// `HEALTHCHECK` as stored in a Docker image config.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Healthcheck {
    /// `["NONE"]` disables a health check; `["CMD", …]` or `["CMD-SHELL", "…"]` runs one.
    pub test: Vec<String>,
    pub interval: Option<Duration>,
    pub timeout: Option<Duration>,
    pub start_period: Option<Duration>,
    pub start_interval: Option<Duration>,
    pub retries: Option<u32>,
}

impl Healthcheck {
    /// `HEALTHCHECK NONE`: the image explicitly turns health checks off.
    pub fn is_disabled(&self) -> bool {
        self.test.first().is_some_and(|t| t == "NONE")
    }

    fn from_raw(raw: RawHealthcheck) -> Healthcheck {
        let nanos = |n: Option<i64>| {
            n.and_then(|n| u64::try_from(n).ok())
                .filter(|n| *n > 0)
                .map(Duration::from_nanos)
        };
        Healthcheck {
            test: raw.test.unwrap_or_default(),
            interval: nanos(raw.interval),
            timeout: nanos(raw.timeout),
            start_period: nanos(raw.start_period),
            start_interval: nanos(raw.start_interval),
            retries: raw
                .retries
                .and_then(|r| u32::try_from(r).ok())
                .filter(|r| *r > 0),
        }
    }
}

fn keys(map: Option<BTreeMap<String, serde_json::Value>>) -> Vec<String> {
    map.map(|m| m.into_keys().collect()).unwrap_or_default()
}

/// `null` and absent both mean `None` (Docker writes `"Env": null`).
fn nullable<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer)
}

#[derive(Deserialize)]
struct RawConfigFile {
    #[serde(default, deserialize_with = "nullable")]
    created: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    author: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    architecture: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    os: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    variant: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    config: Option<RawContainerConfig>,
    #[serde(default, deserialize_with = "nullable")]
    rootfs: Option<RawRootfs>,
    #[serde(default, deserialize_with = "nullable")]
    history: Option<Vec<RawHistory>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct RawContainerConfig {
    #[serde(default, deserialize_with = "nullable")]
    user: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    env: Option<Vec<String>>,
    #[serde(default, deserialize_with = "nullable")]
    exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default, deserialize_with = "nullable")]
    labels: Option<BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "nullable")]
    healthcheck: Option<RawHealthcheck>,
    #[serde(default, deserialize_with = "nullable")]
    entrypoint: Option<Vec<String>>,
    #[serde(default, deserialize_with = "nullable")]
    cmd: Option<Vec<String>>,
    #[serde(default, deserialize_with = "nullable")]
    working_dir: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    volumes: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default, deserialize_with = "nullable")]
    stop_signal: Option<String>,
    #[serde(default, deserialize_with = "nullable", rename = "OnBuild")]
    on_build: Option<Vec<String>>,
    #[serde(default, deserialize_with = "nullable")]
    shell: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawHealthcheck {
    #[serde(default, deserialize_with = "nullable")]
    test: Option<Vec<String>>,
    #[serde(default, deserialize_with = "nullable")]
    interval: Option<i64>,
    #[serde(default, deserialize_with = "nullable")]
    timeout: Option<i64>,
    #[serde(default, deserialize_with = "nullable")]
    start_period: Option<i64>,
    #[serde(default, deserialize_with = "nullable")]
    start_interval: Option<i64>,
    #[serde(default, deserialize_with = "nullable")]
    retries: Option<i64>,
}

#[derive(Deserialize)]
struct RawRootfs {
    #[serde(default, deserialize_with = "nullable")]
    diff_ids: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct RawHistory {
    #[serde(default, deserialize_with = "nullable")]
    created: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    created_by: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    empty_layer: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    comment: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_display_and_parse() {
        let p = Platform::parse("linux/arm64/v8").unwrap();
        assert_eq!(p.to_string(), "linux/arm64/v8");
        assert_eq!(
            Platform::new("linux", "amd64", Some("")).to_string(),
            "linux/amd64"
        );
        for bad in [
            "linux",
            "linux/",
            "/amd64",
            "linux/amd64/v8/x",
            "linux/amd 64",
        ] {
            assert!(Platform::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn platform_matching_normalises_like_containerd() {
        let arm64 = Platform::new("linux", "arm64", None);
        let arm64_v8 = Platform::new("linux", "arm64", Some("v8"));
        let armv7 = Platform::new("linux", "arm", Some("v7"));
        let amd64 = Platform::new("linux", "amd64", None);
        assert!(arm64.matches(&Platform::parse("linux/arm64/v8").unwrap()));
        assert!(arm64_v8.matches(&Platform::parse("linux/aarch64").unwrap()));
        assert!(armv7.matches(&Platform::parse("linux/arm").unwrap()));
        assert!(!armv7.matches(&Platform::parse("linux/arm/v6").unwrap()));
        assert!(amd64.matches(&Platform::parse("linux/x86_64").unwrap()));
        assert!(!amd64.matches(&Platform::parse("windows/amd64").unwrap()));
        assert!(Platform::new("unknown", "unknown", None).is_unknown());
    }

    #[test]
    fn parses_a_docker_config_with_nulls() {
        let json = br#"{
            "architecture": "amd64", "os": "linux", "created": "2024-01-02T03:04:05Z",
            "config": {
                "User": "app", "Env": ["PATH=/usr/bin", "A=1", "A=2"], "Cmd": null,
                "Entrypoint": ["/app"], "ExposedPorts": {"8080/tcp": {}, "53/udp": {}},
                "Labels": null, "WorkingDir": "/srv",
                "Healthcheck": {"Test": ["CMD", "true"], "Interval": 30000000000, "Retries": 3}
            },
            "rootfs": {"type": "layers", "diff_ids": ["sha256:aa"]},
            "history": [{"created_by": "/bin/sh -c #(nop) USER app", "empty_layer": true}, {}]
        }"#;
        let c = ImageConfig::from_json(json).unwrap();
        assert_eq!(c.user.as_deref(), Some("app"));
        assert_eq!(c.env_var("A"), Some("2"));
        assert_eq!(c.env_var("B"), None);
        assert_eq!(c.cmd, None);
        assert_eq!(c.exposed_ports, vec!["53/udp", "8080/tcp"]);
        assert!(c.labels.is_empty());
        let hc = c.healthcheck.unwrap();
        assert_eq!(hc.interval, Some(Duration::from_secs(30)));
        assert_eq!(hc.timeout, None);
        assert_eq!(hc.retries, Some(3));
        assert!(!hc.is_disabled());
        assert_eq!(c.history.len(), 2);
        assert!(c.history[0].empty_layer);
        assert_eq!(c.diff_ids, vec!["sha256:aa"]);
    }

    #[test]
    fn rejects_known_fields_of_the_wrong_type() {
        assert!(ImageConfig::from_json(br#"{"config": {"Env": "A=1"}}"#).is_err());
        assert!(ImageConfig::from_json(b"[]").is_err());
        assert!(ImageConfig::from_json(br#"{"config": null}"#).is_ok());
    }
}
