//! Image targets and the fetch API the engine calls: all image targets at once, concurrently,
//! results in the targets' order.
//!
//! ```text
//! docker://REF                   a registry (registry.rs)
//! oci:DIR[:TAG]                  an OCI image layout directory (layout.rs)
//! docker-archive:FILE[:REF|:@N]  a `docker save` tarball (archive.rs)
//! ```
//!
//! Registry fetches share one HTTP client (connection reuse), a bound on concurrent requests,
//! and per-run caches: a tag resolves once, a digest is fetched once. Local sources read files
//! on the blocking pool.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;

use super::archive;
use super::auth::AuthConfig;
use super::error::ImageError;
use super::facts::{ImageFacts, Platform};
use super::layers::{LayerLimits, LayerReader};
use super::layout;
use super::reference::ImageReference;
use super::registry::RegistryClient;
use super::resolve::{LayerStore, Limits};

/// An image to gather facts about, parsed from a target argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageTarget {
    /// `docker://REF`: a registry.
    Registry {
        given: String,
        reference: ImageReference,
    },
    /// `oci:DIR[:TAG]`: an OCI image layout.
    Layout {
        given: String,
        dir: PathBuf,
        tag: Option<String>,
    },
    /// `docker-archive:FILE[:REF|:@INDEX]`: a `docker save` tarball.
    Archive {
        given: String,
        file: PathBuf,
        select: Option<ArchiveSelector>,
    },
}

/// Which image of a multi-image `docker save` archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArchiveSelector {
    /// A `repo:tag` the archive lists (`RepoTags`), matched normalised.
    Reference(String),
    /// The N-th image (0-based), as skopeo's `@N`.
    Index(usize),
}

impl ImageTarget {
    /// Parses `docker://…`, `oci:…` or `docker-archive:…`.
    pub fn parse(arg: &str) -> Result<ImageTarget, ImageError> {
        for transport in ["docker", "oci", "docker-archive"] {
            let prefix = if transport == "docker" {
                "docker://".to_string()
            } else {
                format!("{transport}:")
            };
            if let Some(rest) = arg.strip_prefix(&prefix) {
                return ImageTarget::from_parts(transport, rest);
            }
        }
        Err(invalid(
            arg,
            "expected docker://REF, oci:DIR[:TAG] or docker-archive:FILE",
        ))
    }

    /// Builds a target from a transport name (`docker`, `oci`, `docker-archive`) and the rest.
    pub fn from_parts(transport: &str, rest: &str) -> Result<ImageTarget, ImageError> {
        let given = match transport {
            "docker" => format!("docker://{rest}"),
            other => format!("{other}:{rest}"),
        };
        match transport {
            "docker" => {
                let reference =
                    ImageReference::parse(rest).map_err(|e| invalid(&given, &e.to_string()))?;
                Ok(ImageTarget::Registry { given, reference })
            }
            "oci" => {
                let (dir, tag) = split_path(rest);
                if dir.is_empty() {
                    return Err(invalid(&given, "expected oci:DIR[:TAG]"));
                }
                let tag = tag.filter(|t| !t.is_empty()).map(str::to_string);
                Ok(ImageTarget::Layout {
                    dir: PathBuf::from(dir),
                    tag,
                    given,
                })
            }
            "docker-archive" => {
                let (file, select) = split_path(rest);
                if file.is_empty() {
                    return Err(invalid(
                        &given,
                        "expected docker-archive:FILE[:REF|:@INDEX]",
                    ));
                }
                let select = match select.filter(|s| !s.is_empty()) {
                    None => None,
                    Some(s) => Some(match s.strip_prefix('@') {
                        Some(n) => ArchiveSelector::Index(
                            n.parse()
                                .map_err(|_| invalid(&given, "expected a number after `@`"))?,
                        ),
                        None => ArchiveSelector::Reference(s.to_string()),
                    }),
                };
                Ok(ImageTarget::Archive {
                    file: PathBuf::from(file),
                    select,
                    given,
                })
            }
            other => Err(invalid(&given, &format!("unknown transport `{other}`"))),
        }
    }

    /// The target as given.
    pub fn as_str(&self) -> &str {
        match self {
            ImageTarget::Registry { given, .. }
            | ImageTarget::Layout { given, .. }
            | ImageTarget::Archive { given, .. } => given,
        }
    }
}

impl std::fmt::Display for ImageTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `PATH[:REST]`, split at the first `:` (paths with `:` are not supported, as in skopeo).
fn split_path(input: &str) -> (&str, Option<&str>) {
    match input.split_once(':') {
        Some((path, rest)) => (path, Some(rest)),
        None => (input, None),
    }
}

fn invalid(target: &str, reason: &str) -> ImageError {
    ImageError::InvalidTarget {
        target: super::redact_userinfo(target),
        reason: reason.to_string(),
    }
}

/// How images are fetched. [`FetchOptions::default`] is what the CLI uses without flags.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Keep only images for this platform (`--platform os/arch[/variant]`).
    pub platform: Option<Platform>,
    /// Registries (`HOST[:PORT]`) reached without TLS verification, then over plain HTTP, as
    /// Docker's `insecure-registries` (`--insecure-registry`).
    pub insecure_registries: Vec<String>,
    /// PEM file of extra CA certificates, trusted besides the system's (`--ca-file`).
    pub ca_file: Option<PathBuf>,
    pub auth: AuthConfig,
    /// Time limit of one HTTP request, body included.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// How often a request answered with 429 or 5xx (or reset) is retried.
    pub retries: u32,
    /// First retry delay; doubled for each further retry.
    pub retry_base_delay: Duration,
    /// Most HTTP requests in flight at once.
    pub max_concurrency: usize,
    pub limits: Limits,
    /// Also find each image's signatures (the `.sig` tag, OCI referrers), for
    /// `trust-required`: only when a rule needs them, so a run without costs nothing more.
    pub signatures: bool,
    /// Where the signatures of an image live when not beside it (`signatures_repository`,
    /// cosign's `COSIGN_REPOSITORY`): the image's normalised name → `registry/repository`.
    pub signature_repositories: std::collections::BTreeMap<String, String>,
    /// Images whose tags Docker Content Trust must admit: the image's normalised name → the
    /// `notary` block of the `verify` entry that covers it.
    pub notary: std::collections::BTreeMap<String, Arc<crate::trust::notary::NotaryPolicy>>,
    /// Also read every layer of every platform image, within these limits, into
    /// [`super::PlatformImage::filesystem`]: only when a rule needs them
    /// ([`crate::rules::needs_layers`]), so a run without fetches no layer.
    pub layers: Option<LayerLimits>,
    /// Show the progress of layer reads on standard error (`--progress`; a bar on a terminal,
    /// a line per layer elsewhere).
    pub progress: bool,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            platform: None,
            insecure_registries: Vec::new(),
            ca_file: None,
            auth: AuthConfig::from_env(),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            retries: 3,
            retry_base_delay: Duration::from_millis(500),
            max_concurrency: 8,
            limits: Limits::default(),
            signatures: false,
            signature_repositories: Default::default(),
            notary: Default::default(),
            layers: None,
            progress: false,
        }
    }
}

/// Fetches image facts. Build one per run: it holds the HTTP client and the caches.
pub struct Fetcher {
    options: Arc<FetchOptions>,
    registry: RegistryClient,
    notary: crate::trust::notary::client::NotaryClient,
    /// Present when layers are read: the run's layer cache.
    layers: Option<LayerReader>,
}

impl Fetcher {
    /// Sets up TLS (system roots, `--ca-file`) and the HTTP client. Fails on an unreadable or
    /// invalid CA file, before anything is fetched.
    pub fn new(options: FetchOptions) -> Result<Fetcher, ImageError> {
        let registry = RegistryClient::new(&options)?;
        let options = Arc::new(options);
        let for_notary = Arc::clone(&options);
        let notary = crate::trust::notary::client::NotaryClient::new(move |pem| {
            super::registry::https_client(&for_notary, pem)
        });
        let layers = options
            .layers
            .map(|limits| LayerReader::new(limits, options.progress));
        Ok(Fetcher {
            options,
            registry,
            notary,
            layers,
        })
    }

    /// Facts of every target, in the targets' order, fetched concurrently.
    pub async fn gather(&self, targets: &[ImageTarget]) -> Vec<Result<ImageFacts, ImageError>> {
        let facts = join_all(targets.iter().map(|t| self.fetch(t))).await;
        if let Some(layers) = &self.layers {
            layers.finish();
        }
        facts
    }

    /// Facts of one target.
    pub async fn fetch(&self, target: &ImageTarget) -> Result<ImageFacts, ImageError> {
        let mut facts = self.fetch_image(target).await?;
        if self.options.signatures && facts.signatures == super::facts::Signatures::NotRequested {
            facts.signatures = super::facts::Signatures::Unsupported(
                "signatures are read from registries only (cosign keeps them beside the image \
                 there); check the image as `docker://…`"
                    .into(),
            );
        }
        if let ImageTarget::Registry { reference, .. } = target {
            if let Some(policy) = self.options.notary.get(&reference.policy_name()) {
                facts.notary = self.content_trust(policy, reference, &facts).await?;
            }
        }
        Ok(facts)
    }

    /// Docker Content Trust's verdict on the tag (or digest) the image was fetched by: a
    /// refusal is a fact for `trust-required`; trust data that cannot be read is an error.
    async fn content_trust(
        &self,
        policy: &crate::trust::notary::NotaryPolicy,
        reference: &ImageReference,
        facts: &ImageFacts,
    ) -> Result<crate::trust::notary::NotaryFacts, ImageError> {
        use crate::trust::notary::{Failure, NotaryFacts};
        let Some(hex) = facts.digest.strip_prefix("sha256:") else {
            return Ok(NotaryFacts::Checked(Err(format!(
                "the manifest digest {} is not SHA-256, which Notary signs",
                facts.digest
            ))));
        };
        let gun = reference.name();
        let tag = reference.tag.as_deref().or(if reference.digest.is_none() {
            Some("latest")
        } else {
            None
        });
        match self.notary.check(policy, &gun, tag, hex, facts.size).await {
            Ok(admission) => Ok(NotaryFacts::Checked(Ok(admission))),
            Err(Failure::Refused(why)) => Ok(NotaryFacts::Checked(Err(why))),
            Err(Failure::Broken(why)) => Err(ImageError::Notary(why)),
        }
    }

    async fn fetch_image(&self, target: &ImageTarget) -> Result<ImageFacts, ImageError> {
        match target {
            ImageTarget::Registry { given, reference } => {
                self.registry
                    .fetch(
                        given,
                        reference,
                        self.options.platform.as_ref(),
                        self.options.limits,
                        self.layers.as_ref(),
                    )
                    .await
            }
            ImageTarget::Layout { given, dir, tag } => {
                let (target, dir, tag) = (given.clone(), dir.clone(), tag.clone());
                let options = Arc::clone(&self.options);
                let (facts, store) = blocking(given.clone(), move || {
                    layout::fetch(&target, &dir, tag.as_deref(), &options)
                })
                .await?;
                self.with_layers(facts, &store).await
            }
            ImageTarget::Archive {
                given,
                file,
                select,
            } => {
                let (target, file, select) = (given.clone(), file.clone(), select.clone());
                let options = Arc::clone(&self.options);
                let (facts, store) = blocking(given.clone(), move || {
                    archive::fetch(&target, &file, select.as_ref(), &options)
                })
                .await?;
                self.with_layers(facts, &store).await
            }
        }
    }

    /// A local source's facts with their filesystems, when layers are read.
    async fn with_layers(
        &self,
        mut facts: ImageFacts,
        store: &impl LayerStore,
    ) -> Result<ImageFacts, ImageError> {
        if let Some(layers) = &self.layers {
            layers
                .fill(store, &facts.target, &mut facts.platforms)
                .await?;
        }
        Ok(facts)
    }
}

/// Runs a local (file-reading) source on the blocking pool.
async fn blocking<T, F>(target: String, work: F) -> Result<T, ImageError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, ImageError> + Send + 'static,
{
    tokio::task::spawn_blocking(work).await.unwrap_or_else(|e| {
        Err(ImageError::Io {
            path: target,
            detail: format!("reading stopped unexpectedly: {e}"),
        })
    })
}

/// Facts of every target, in order. A setup failure (bad `--ca-file`) is every target's error.
pub async fn gather(
    targets: &[ImageTarget],
    options: &FetchOptions,
) -> Vec<Result<ImageFacts, ImageError>> {
    match Fetcher::new(options.clone()) {
        Ok(fetcher) => fetcher.gather(targets).await,
        Err(e) => targets.iter().map(|_| Err(e.clone())).collect(),
    }
}

/// [`gather`] for synchronous callers: runs it on a runtime of its own.
pub fn gather_blocking(
    targets: &[ImageTarget],
    options: &FetchOptions,
) -> Vec<Result<ImageFacts, ImageError>> {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(gather(targets, options)),
        Err(e) => {
            let error = ImageError::Setup(format!("cannot start the async runtime: {e}"));
            targets.iter().map(|_| Err(error.clone())).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_targets() {
        let t = ImageTarget::parse("docker://127.0.0.1:5000/app:1").unwrap();
        let ImageTarget::Registry { reference, given } = &t else {
            panic!("{t:?}")
        };
        assert_eq!(given, "docker://127.0.0.1:5000/app:1");
        assert_eq!(reference.registry, "127.0.0.1:5000");
        assert_eq!(t.as_str(), "docker://127.0.0.1:5000/app:1");

        assert_eq!(
            ImageTarget::parse("oci:/tmp/lay:v1").unwrap(),
            ImageTarget::Layout {
                given: "oci:/tmp/lay:v1".into(),
                dir: "/tmp/lay".into(),
                tag: Some("v1".into())
            }
        );
        assert_eq!(
            ImageTarget::parse("oci:lay").unwrap(),
            ImageTarget::Layout {
                given: "oci:lay".into(),
                dir: "lay".into(),
                tag: None
            }
        );
        assert!(matches!(
            ImageTarget::parse("docker-archive:a.tar:app:1").unwrap(),
            ImageTarget::Archive { select: Some(ArchiveSelector::Reference(r)), .. } if r == "app:1"
        ));
        assert!(matches!(
            ImageTarget::parse("docker-archive:a.tar:@1").unwrap(),
            ImageTarget::Archive {
                select: Some(ArchiveSelector::Index(1)),
                ..
            }
        ));
        for bad in [
            "docker://app:bad tag",
            "oci:",
            "docker-archive:a:@x",
            "nginx",
            "docker://",
        ] {
            let err = ImageTarget::parse(bad).unwrap_err();
            assert_eq!(err.kind(), super::super::ErrorKind::InvalidTarget, "{bad}");
        }
    }
}
