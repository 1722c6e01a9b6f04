//! The layer stage of a fetch: for each platform image, every layer read (once per run, a few
//! at once), verified, and assembled into its [`FileSystem`].

use futures_util::future::join_all;
use std::sync::Arc;
use tokio::sync::Semaphore;

use super::filesystem::FileSystem;
use super::progress::Progress;
use super::read::{
    check_media_type, named, read_layer, Budget, Failure, LayerContents, LayerSpec, ReadContext,
};
use super::LayerLimits;
use crate::image::digest::Digest;
use crate::image::error::ImageError;
use crate::image::facts::{Layer, PlatformImage};
use crate::image::registry::Cells;
use crate::image::resolve::LayerStore;

/// Reads layers for one run: the cache of layers read, and the bound on reads at once.
pub(crate) struct LayerReader {
    limits: LayerLimits,
    cells: Cells<String, Arc<LayerContents>>,
    permits: Semaphore,
    progress: Arc<Progress>,
}

impl LayerReader {
    pub(crate) fn new(limits: LayerLimits, progress: bool) -> LayerReader {
        // Reading is decompression and hashing, so about one layer per core (at least two, so
        // that a download and a decompression overlap).
        let parallel = std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(2)
            .max(2);
        LayerReader {
            limits,
            cells: Cells::default(),
            permits: Semaphore::new(parallel),
            progress: Arc::new(Progress::new(progress)),
        }
    }

    /// Clears the progress display (before reports are written).
    pub(crate) fn finish(&self) {
        self.progress.finish();
    }

    /// Reads the layers of every platform image of `target` and sets their filesystems.
    pub(crate) async fn fill<S: LayerStore>(
        &self,
        store: &S,
        target: &str,
        platforms: &mut [PlatformImage],
    ) -> Result<(), ImageError> {
        let several = platforms.len() > 1;
        let read = join_all(
            platforms
                .iter()
                .map(|platform| self.filesystem(store, target, platform, several)),
        )
        .await;
        for (platform, filesystem) in platforms.iter_mut().zip(read) {
            platform.filesystem = Some(Arc::new(filesystem?));
        }
        Ok(())
    }

    async fn filesystem<S: LayerStore>(
        &self,
        store: &S,
        target: &str,
        platform: &PlatformImage,
        several: bool,
    ) -> Result<FileSystem, ImageError> {
        let image = if several {
            format!("{target} ({})", platform.platform)
        } else {
            target.to_string()
        };
        let specs = specs(&image, platform)?;
        self.progress.start_image();
        let budget = Arc::new(Budget::new(&image, self.limits.max_image_bytes));
        let results = join_all(
            platform
                .layers
                .iter()
                .zip(&specs)
                .enumerate()
                .map(|(index, (layer, spec))| self.layer(store, index, layer, spec, &budget)),
        )
        .await;
        self.progress.finish_image();
        // The first real failure in layer order; the others were stopped because of one.
        let mut layers = Vec::with_capacity(results.len());
        let mut first = None;
        for result in results {
            match result {
                Ok(layer) => layers.push(layer),
                Err(Failure::Error(e)) => {
                    first.get_or_insert(e);
                }
                Err(Failure::Cancelled) => {}
            }
        }
        if let Some(error) = first {
            return Err(error);
        }
        if layers.len() != specs.len() {
            return Err(ImageError::Setup(format!(
                "reading the layers of {image} stopped unexpectedly"
            )));
        }
        // Layers another image read count too (the budget only saw this image's reads).
        let mut total = 0u64;
        for (spec, layer) in specs.iter().zip(&layers) {
            total = total.saturating_add(layer.summary.uncompressed_bytes);
            if total > self.limits.max_image_bytes {
                return Err(ImageError::TooLarge {
                    what: format!(
                        "the layers of {image} uncompressed (`layers: max_image_bytes`, passed \
                         in {})",
                        spec.what
                    ),
                    limit: self.limits.max_image_bytes,
                });
            }
        }
        let layers: Vec<&LayerContents> = layers.iter().map(Arc::as_ref).collect();
        Ok(FileSystem::assemble(&layers))
    }

    /// One layer: from the cache, or read now (and cached once verified).
    async fn layer<S: LayerStore>(
        &self,
        store: &S,
        index: usize,
        layer: &Layer,
        spec: &LayerSpec,
        budget: &Arc<Budget>,
    ) -> Result<Arc<LayerContents>, Failure> {
        check_media_type(spec)?;
        let key = match &spec.digest {
            Some(digest) => digest.to_string(),
            None => format!("diff_id {}", spec.diff_id),
        };
        let result = self
            .cells
            .cell(key)
            .get_or_try_init(|| self.read(store, index, layer, spec, budget))
            .await
            .cloned();
        if matches!(result, Err(Failure::Error(_))) {
            // Nothing of this image will be used: its other layers stop reading.
            budget.cancel();
        }
        let contents = result?;
        // Read for another image, it must still be what this image's descriptors say.
        if let Some(expected) = spec.size {
            if contents.stored_bytes != expected {
                return Err(ImageError::SizeMismatch {
                    what: spec.what.clone(),
                    expected,
                    actual: Some(contents.stored_bytes),
                }
                .into());
            }
        }
        if contents.summary.diff_id != spec.diff_id.to_string() {
            return Err(ImageError::DigestMismatch {
                what: format!("{}, uncompressed (its diff_id in the config)", spec.what),
                expected: spec.diff_id.to_string(),
                actual: contents.summary.diff_id.clone(),
            }
            .into());
        }
        Ok(contents)
    }

    async fn read<S: LayerStore>(
        &self,
        store: &S,
        index: usize,
        layer: &Layer,
        spec: &LayerSpec,
        budget: &Arc<Budget>,
    ) -> Result<Arc<LayerContents>, Failure> {
        // Counted when queued, so the total is every layer to read, not those being read.
        self.progress.start_layer(spec.size);
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| ImageError::Setup("layer reader closed".into()))?;
        let source = store
            .open_layer(index, layer)
            .await
            .map_err(|e| named(e, spec))?;
        let (spec, limits, budget, progress) = (
            spec.clone(),
            self.limits,
            Arc::clone(budget),
            Arc::clone(&self.progress),
        );
        let what = spec.what.clone();
        let contents = tokio::task::spawn_blocking(move || {
            let context = ReadContext {
                limits: &limits,
                budget: &budget,
                progress: &progress,
            };
            read_layer(source, &spec, &context)
        })
        .await
        .map_err(|e| ImageError::Setup(format!("reading {what} stopped unexpectedly: {e}")))??;
        self.progress
            .finish_layer(&what, contents.summary.uncompressed_bytes);
        Ok(Arc::new(contents))
    }
}

/// What each layer of `platform` must be: its descriptor, and its diff_id in the config.
fn specs(image: &str, platform: &PlatformImage) -> Result<Vec<LayerSpec>, ImageError> {
    let diff_ids = &platform.config.diff_ids;
    if diff_ids.len() != platform.layers.len() {
        return Err(ImageError::malformed(
            format!("config {} of {image}", platform.config_digest),
            format!(
                "it lists {} diff_ids for {} layers, so the layers cannot be verified",
                diff_ids.len(),
                platform.layers.len()
            ),
        ));
    }
    // A legacy `docker save` archive has no layer descriptors: a layer's digest is its
    // diff_id (checked as such), or the digest in its file name.
    let legacy = platform.manifest_digest.is_none();
    platform
        .layers
        .iter()
        .zip(diff_ids)
        .enumerate()
        .map(|(index, (layer, diff_id))| {
            let what = format!("layer {index} ({}) of {image}", layer.digest);
            let diff_id = Digest::parse(diff_id).map_err(|e| {
                ImageError::malformed(
                    format!("config {} of {image}", platform.config_digest),
                    e.to_string(),
                )
            })?;
            let digest = if legacy && layer.digest == diff_id.to_string() {
                None
            } else {
                Some(
                    Digest::parse(&layer.digest)
                        .map_err(|e| ImageError::malformed(&what, e.to_string()))?,
                )
            };
            Ok(LayerSpec {
                what,
                listed: layer.digest.clone(),
                digest,
                size: Some(layer.size),
                diff_id,
                media_type: layer.media_type.clone(),
            })
        })
        .collect()
}
