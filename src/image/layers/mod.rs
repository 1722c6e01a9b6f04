//! Reading layers: every image source (registry, OCI layout, `docker save` archive) streams
//! each layer of every platform image through one reader, which checks it and turns it into
//! filesystem facts ([`FileSystem`]) for the layer rules.
//!
//! - **Only when asked**: [`crate::image::FetchOptions::layers`] is `None` unless an enabled
//!   rule needs layers ([`crate::rules::Rule::needs_layers`]); then nothing more is fetched.
//! - **Streamed**: a layer is never held whole in memory nor written to disk. The bytes as
//!   stored are hashed and counted as they arrive, decompressed (gzip, zstd, or none: the
//!   magic bytes decide, the media type must be one of [`LAYER_MEDIA_TYPES`]; foreign and
//!   encrypted layers fail closed), hashed again, and read as tar (with Go's `archive/tar`
//!   semantics, see `tar.rs`).
//! - **Verified before use**: the stored bytes must have the descriptor's size and digest, the
//!   uncompressed tar the config's `rootfs.diff_ids[i]`. Those can only be known at the end of
//!   the stream, so a layer's facts are used only after its digests matched; a mismatch, a
//!   truncated stream or a broken limit is an [`crate::image::ImageError`] naming the layer, and the image is
//!   not evaluated (exit 3) — never a pass, never partial facts.
//! - **Once per run**: a layer shared by several images or platforms is read once (cached by
//!   digest); a few layers are read at once, decompressed on the blocking pool.
//! - **Bounded**: [`LayerLimits`] (the policy's `layers:` keys) cap each layer's and each
//!   image's uncompressed bytes, the entries of a layer and the bytes of a file searched for
//!   secrets. Memory stays bounded whatever the layer size: two 256 KiB buffers, a 1 MiB
//!   secret-search window, the decompressor's window (zstd's is up to 128 MiB only for
//!   `--ultra` levels), and some 150 bytes per tar entry for the facts.

mod fetch;
mod filesystem;
mod progress;
mod read;
mod scan;
mod stream;
mod tar;

#[cfg(test)]
mod tests;

pub use filesystem::{
    AccountFile, Fate, FileEntry, FileKind, FileSystem, LayerSecret, LayerSummary, ACCOUNT_FILES,
    ACCOUNT_FILE_MAX,
};
pub use read::LAYER_MEDIA_TYPES;

pub(crate) use fetch::LayerReader;
pub(crate) use stream::body_reader;

/// Limits of layer reading, set by the policy's top-level `layers:` mapping. Over a limit, the
/// image fails closed with an error naming the layer and the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerLimits {
    /// Uncompressed bytes of one layer (a decompression bomb stops here). Default 16 GiB:
    /// layers of CUDA and ML framework images reach 5–10 GB uncompressed.
    pub max_layer_bytes: u64,
    /// Uncompressed bytes of all the layers of one platform image. Default 64 GiB, twice the
    /// largest real images (some 30 GB).
    pub max_image_bytes: u64,
    /// Tar entries in one layer. Default 1,000,000, some five times the largest real layers
    /// (node_modules, conda environments, TeX Live: 100,000–200,000); each entry costs some
    /// 150 bytes of memory while the image is judged.
    pub max_files_per_layer: u64,
    /// Bytes of each file searched for secrets; the rest of a larger file is not searched.
    /// Default 64 MiB: more than any configuration or source file, while a database dump or
    /// log is cut off. Files that look binary (a NUL in the first 8 KiB) are not searched.
    pub max_scan_bytes: u64,
}

impl LayerLimits {
    /// The policy keys, in the order the README documents them.
    pub const KEYS: &'static [&'static str] = &[
        "max_layer_bytes",
        "max_image_bytes",
        "max_files_per_layer",
        "max_scan_bytes",
    ];

    /// The value of a policy key.
    pub fn get(&self, key: &str) -> Option<u64> {
        match key {
            "max_layer_bytes" => Some(self.max_layer_bytes),
            "max_image_bytes" => Some(self.max_image_bytes),
            "max_files_per_layer" => Some(self.max_files_per_layer),
            "max_scan_bytes" => Some(self.max_scan_bytes),
            _ => None,
        }
    }

    /// Sets a policy key; `false` for an unknown key.
    pub fn set(&mut self, key: &str, value: u64) -> bool {
        let field = match key {
            "max_layer_bytes" => &mut self.max_layer_bytes,
            "max_image_bytes" => &mut self.max_image_bytes,
            "max_files_per_layer" => &mut self.max_files_per_layer,
            "max_scan_bytes" => &mut self.max_scan_bytes,
            _ => return false,
        };
        *field = value;
        true
    }
}

impl Default for LayerLimits {
    fn default() -> Self {
        LayerLimits {
            max_layer_bytes: 16 << 30,
            max_image_bytes: 64 << 30,
            max_files_per_layer: 1_000_000,
            max_scan_bytes: 64 << 20,
        }
    }
}

/// For [`crate::fuzzing::layer`]: `blob` read as a layer's stored bytes within `limits`, as it
/// is and gzip-compressed (so that any bytes reach the tar reader), with the digest and
/// diff_id a faithful image would list for it; each layer read is assembled into a filesystem
/// twice over (the second copy's whiteouts delete the first's files). Errors are the point.
pub(crate) fn read_for_fuzzing(blob: &[u8], limits: LayerLimits) -> Vec<FileSystem> {
    use std::io::Write as _;
    let mut stored = vec![blob.to_vec()];
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    if encoder.write_all(blob).is_ok() {
        if let Ok(gzipped) = encoder.finish() {
            stored.push(gzipped);
        }
    }
    let diff_id = crate::image::digest::Digest::sha256_of(blob);
    let progress = progress::Progress::new(false);
    let mut filesystems = Vec::new();
    for bytes in stored {
        let digest = crate::image::digest::Digest::sha256_of(&bytes);
        let spec = read::LayerSpec {
            what: format!("layer 0 ({digest}) of fuzz"),
            listed: digest.to_string(),
            digest: Some(digest),
            size: Some(bytes.len() as u64),
            diff_id: diff_id.clone(),
            media_type: LAYER_MEDIA_TYPES[1].to_string(),
        };
        // Each read with a budget of its own, as each image has.
        let read = |spec: &read::LayerSpec| {
            let budget = read::Budget::new("fuzz", limits.max_image_bytes);
            let context = read::ReadContext {
                limits: &limits,
                budget: &budget,
                progress: &progress,
            };
            read::read_layer(bytes.as_slice(), spec, &context)
        };
        let mut outcome = read(&spec);
        // A blob that is itself compressed has another diff_id: read it again with the one the
        // first read found, so compressed inputs reach the tar reader's end and assembly too.
        if let Err(read::Failure::Error(crate::image::ImageError::DigestMismatch {
            actual, ..
        })) = &outcome
        {
            if let Ok(found) = crate::image::digest::Digest::parse(actual) {
                outcome = read(&read::LayerSpec {
                    diff_id: found,
                    ..spec.clone()
                });
            }
        }
        if let Ok(contents) = outcome {
            filesystems.push(FileSystem::assemble(&[&contents, &contents]));
        }
    }
    filesystems
}
