//! One layer, streamed: bytes as stored → (digest, size) → decompressed → (diff_id, limits)
//! → tar entries → changes, secrets and account files. Nothing is held whole: the stored bytes
//! pass through one buffer of [`BUFFER`] bytes and the decompressed ones through a few, hashed
//! as they pass, and file data is searched in place. Decompression runs beside the tar
//! reader (two threads), so hashing and searching do not slow it down.
//!
//! The digests can only be checked at the end of the stream, so what is read is returned only
//! after they matched: a layer that does not hash to its digest, is shorter or longer than
//! its descriptor says, or breaks a limit is an error naming it, never partial facts.

use std::io::{self, BufRead, Read};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};

use super::filesystem::{FileEntry, FileKind, LayerSummary, ACCOUNT_FILES, ACCOUNT_FILE_MAX};
use super::progress::Progress;
use super::scan::Scanner;
use super::tar::{EntryType, Header, TarReader};
use super::LayerLimits;
use crate::image::digest::{Digest, Hasher};
use crate::image::error::ImageError;

/// Bytes read at once from the source, and decompressed at once.
const BUFFER: usize = 256 * 1024;
/// Decompressed chunks waiting for the tar reader.
const PIPELINE: usize = 4;
/// The most secrets kept for one layer.
const MAX_SECRETS_PER_LAYER: usize = 10_000;
/// zstd frames may ask for a window of up to 2^27 bytes (128 MiB, `zstd --ultra -22`), as
/// `zstd -d` accepts by default; more is refused rather than allocated.
const ZSTD_WINDOW_LOG_MAX: u32 = 27;

/// The layer media types read. Anything else — foreign (non-distributable) layers, encrypted
/// ones, other compressions — fails the image closed.
pub const LAYER_MEDIA_TYPES: &[&str] = &[
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    crate::image::manifest::DOCKER_LAYER_TAR,
];

/// What is known of a layer before it is read.
#[derive(Debug, Clone)]
pub(crate) struct LayerSpec {
    /// For messages: `layer 2 (sha256:…) of docker://app:1`.
    pub what: String,
    /// The digest as the manifest lists it.
    pub listed: String,
    /// The digest the stored bytes must have (`None` for a legacy archive layer, whose name
    /// is not its digest).
    pub digest: Option<Digest>,
    /// The size the stored bytes must have.
    pub size: Option<u64>,
    /// The digest the uncompressed tar must have: the config's `rootfs.diff_ids[i]`.
    pub diff_id: Digest,
    pub media_type: String,
}

/// One image's budget of uncompressed bytes, shared by its layers as they are read, and the
/// flag that stops them when one of them failed.
#[derive(Debug)]
pub(crate) struct Budget {
    /// For messages: the target.
    pub target: String,
    pub max: u64,
    used: AtomicU64,
    cancelled: AtomicBool,
}

impl Budget {
    pub(crate) fn new(target: &str, max: u64) -> Budget {
        Budget {
            target: target.to_string(),
            max,
            used: AtomicU64::new(0),
            cancelled: AtomicBool::new(false),
        }
    }

    pub(crate) fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    /// Counts `n` more bytes; whether the image is now over its budget.
    fn spend(&self, n: u64) -> bool {
        self.used.fetch_add(n, Ordering::Relaxed).saturating_add(n) > self.max
    }
}

/// A layer as read and verified: what it changes, in archive order.
#[derive(Debug)]
pub(crate) struct LayerContents {
    pub summary: LayerSummary,
    pub stored_bytes: u64,
    pub changes: Vec<Change>,
    /// In the order of the changes they belong to.
    pub secrets: Vec<FoundSecret>,
    pub captures: Vec<Capture>,
}

#[derive(Debug)]
pub(crate) enum Change {
    /// A file (of any kind) at a path; `entry.layer` is set when the layer is placed.
    Add { path: String, entry: FileEntry },
    /// `.wh.NAME`: the path (and everything below it) in lower layers is deleted.
    Whiteout(String),
    /// `.wh..wh..opq`: the directory's contents from lower layers are hidden.
    Opaque(String),
}

#[derive(Debug)]
pub(crate) struct FoundSecret {
    /// Index into [`LayerContents::changes`].
    pub change: usize,
    pub kind: &'static str,
    pub line: usize,
}

/// The first bytes of an account file.
#[derive(Debug)]
pub(crate) struct Capture {
    pub change: usize,
    pub bytes: Vec<u8>,
    pub truncated: bool,
}

/// Why a read stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    Error(ImageError),
    /// Another layer of the image failed first.
    Cancelled,
}

impl From<ImageError> for Failure {
    fn from(e: ImageError) -> Failure {
        Failure::Error(e)
    }
}

/// A failure carried through `io::Error` from inside the readers.
#[derive(Debug)]
pub(crate) struct Fault(pub Failure);

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Failure::Error(e) => e.fmt(f),
            Failure::Cancelled => f.write_str("cancelled"),
        }
    }
}

impl std::error::Error for Fault {}

pub(crate) fn fault(error: ImageError) -> io::Error {
    io::Error::other(Fault(Failure::Error(error)))
}

fn as_failure(error: &io::Error) -> Option<&Failure> {
    error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<Fault>())
        .map(|f| &f.0)
}

/// What a read needs besides the bytes.
pub(crate) struct ReadContext<'a> {
    pub limits: &'a LayerLimits,
    pub budget: &'a Budget,
    pub progress: &'a Progress,
}

/// Reads and verifies one layer, in two threads: one reads the stored bytes (hashing them)
/// and decompresses; the other hashes the tar and walks it. Decompressed chunks pass between
/// them through a channel of [`PIPELINE`] buffers, recycled.
pub(crate) fn read_layer(
    source: impl Read + Send,
    spec: &LayerSpec,
    context: &ReadContext<'_>,
) -> Result<LayerContents, Failure> {
    check_media_type(spec)?;
    let (full, chunks) = mpsc::sync_channel(PIPELINE);
    let (recycle, empty) = mpsc::sync_channel(PIPELINE + 2);
    let control = AtomicU8::new(RUNNING);
    std::thread::scope(|scope| {
        let control = &control;
        let producer = scope.spawn(move || produce(source, spec, context, control, full, empty));
        let consumed = consume(chunks, recycle, spec, context, control);
        let produced = producer.join().map_err(|_| {
            ImageError::Setup(format!("reading {} stopped unexpectedly", spec.what))
        })?;
        conclude(spec, consumed, produced)
    })
}

/// What the consumer tells the producer when it stops reading early.
const RUNNING: u8 = 0;
/// The tar is broken: stop decompressing, but read the stored bytes to their end, so that a
/// layer that is not what its descriptor says is reported as such.
const DRAIN: u8 = 1;
/// A limit or the source failed: stop.
const STOP: u8 = 2;

/// A decompressed chunk: a buffer and how much of it is filled.
type Chunk = io::Result<(Vec<u8>, usize)>;

/// The producer: stored bytes → decompressed chunks. Returns the stored bytes' hash and count.
fn produce(
    source: impl Read,
    spec: &LayerSpec,
    context: &ReadContext<'_>,
    control: &AtomicU8,
    full: SyncSender<Chunk>,
    empty: Receiver<Vec<u8>>,
) -> Result<(Option<Hasher>, u64), Failure> {
    let mut stored = Stored::new(source, spec, context);
    let compression = match stored.peek(6) {
        Ok(head) => sniff(head),
        Err(e) => return Err(send_error(&full, e, spec)),
    };
    let compression = match compression {
        Ok(compression) => compression,
        Err(name) => {
            let unsupported = ImageError::UnsupportedMediaType {
                what: spec.what.clone(),
                media_type: spec.media_type.clone(),
                detail: Some(format!(
                    "its bytes are {name}-compressed, which runtimes do not unpack"
                )),
            };
            return Err(send_error(&full, fault(unsupported), spec));
        }
    };
    let mut decoder = match Decoder::new(compression, stored) {
        Ok(decoder) => decoder,
        Err(e) => return Err(send_error(&full, e, spec)),
    };
    loop {
        let mut buffer = empty.try_recv().unwrap_or_default();
        buffer.resize(BUFFER, 0);
        let filled = match fill(&mut decoder, &mut buffer) {
            Ok(filled) => filled,
            Err(e) if as_failure(&e).is_some() => return Err(send_error(&full, e, spec)),
            // Undecodable: the consumer reports it, unless the stored bytes are not what the
            // descriptor promised, which is found by reading them to their end.
            Err(e) => {
                let _ = full.send(Err(e));
                break;
            }
        };
        if filled == 0 {
            break;
        }
        if full.send(Ok((buffer, filled))).is_err() {
            // The consumer stopped.
            if control.load(Ordering::Relaxed) != DRAIN {
                return Err(Failure::Cancelled);
            }
            break;
        }
    }
    // The tar reader has all it gets; what is left of the stored bytes is only hashed.
    drop(full);
    let mut stored = decoder.into_inner();
    drain(&mut stored).map_err(|e| failure(e, spec))?;
    Ok(stored.finish())
}

/// Sends a failure to the consumer (which stops on it) and returns it.
fn send_error(full: &SyncSender<Chunk>, error: io::Error, spec: &LayerSpec) -> Failure {
    let failure = failure(error, spec);
    let carried = match &failure {
        Failure::Error(e) => fault(e.clone()),
        Failure::Cancelled => io::Error::other(Fault(Failure::Cancelled)),
    };
    let _ = full.send(Err(carried));
    failure
}

/// Reads until `buffer` is full or the stream ends.
fn fill(reader: &mut impl Read, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match reader.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// The consumer: decompressed chunks → diff_id hash, limits, tar walk.
fn consume(
    chunks: Receiver<Chunk>,
    recycle: SyncSender<Vec<u8>>,
    spec: &LayerSpec,
    context: &ReadContext<'_>,
    control: &AtomicU8,
) -> io::Result<(Walked, Hasher, u64)> {
    let mut plain = Plain::new(chunks, recycle, spec, context);
    let walked = walk(&mut TarReader::new(&mut plain), spec, context.limits).and_then(|walked| {
        drain(&mut plain)?;
        Ok(walked)
    });
    match walked {
        Ok(walked) => {
            let (hasher, count) = plain.finish();
            Ok((walked, hasher, count))
        }
        Err(e) => {
            let stop = if as_failure(&e).is_some() {
                STOP
            } else {
                DRAIN
            };
            control.store(stop, Ordering::Relaxed);
            // Dropping `plain` drops the channel: the producer sees it at its next chunk.
            Err(e)
        }
    }
}

/// Both sides' results as the layer's contents, or the failure that counts: a limit or the
/// source first, then the stored bytes' size and digest, then the tar, then the diff_id.
fn conclude(
    spec: &LayerSpec,
    consumed: io::Result<(Walked, Hasher, u64)>,
    produced: Result<(Option<Hasher>, u64), Failure>,
) -> Result<LayerContents, Failure> {
    let consumed = match consumed {
        Err(e) if as_failure(&e).is_some() => return Err(failure(e, spec)),
        other => other,
    };
    let (hasher, stored_bytes) = produced?;
    if let Some(expected) = spec.size {
        if stored_bytes != expected {
            return Err(ImageError::SizeMismatch {
                what: spec.what.clone(),
                expected,
                actual: Some(stored_bytes),
            }
            .into());
        }
    }
    if let (Some(expected), Some(hasher)) = (&spec.digest, hasher) {
        let actual = hasher.finish();
        if actual != *expected {
            return Err(ImageError::DigestMismatch {
                what: spec.what.clone(),
                expected: expected.to_string(),
                actual: actual.to_string(),
            }
            .into());
        }
    }
    let (walked, diff_hasher, uncompressed) =
        consumed.map_err(|e| ImageError::malformed(&spec.what, describe(&e)))?;
    let diff_id = diff_hasher.finish();
    if diff_id != spec.diff_id {
        return Err(ImageError::DigestMismatch {
            what: format!("{}, uncompressed (its diff_id in the config)", spec.what),
            expected: spec.diff_id.to_string(),
            actual: diff_id.to_string(),
        }
        .into());
    }
    Ok(LayerContents {
        summary: LayerSummary {
            digest: spec.listed.clone(),
            diff_id: diff_id.to_string(),
            media_type: spec.media_type.clone(),
            files: walked.files,
            uncompressed_bytes: uncompressed,
        },
        stored_bytes,
        changes: walked.changes,
        secrets: walked.secrets,
        captures: walked.captures,
    })
}

/// An error of the source about this layer (a download broken off, a stall, a blob not
/// found), named as the layer: the source knows the blob's digest, not its place in the image,
/// and a message must say which layer of which image could not be read.
pub(crate) fn named(mut error: ImageError, spec: &LayerSpec) -> ImageError {
    match &mut error {
        ImageError::NotFound { what, .. }
        | ImageError::Timeout { what, .. }
        | ImageError::Network { what, .. }
        | ImageError::DigestMismatch { what, .. }
        | ImageError::SizeMismatch { what, .. }
        | ImageError::TooLarge { what, .. }
        | ImageError::Malformed { what, .. }
        | ImageError::UnsupportedMediaType { what, .. }
        | ImageError::Registry { what, .. }
            if !what.starts_with(&spec.what) =>
        {
            *what = spec.what.clone();
        }
        _ => {}
    }
    error
}

/// An `io::Error` from the readers as the failure it stands for.
fn failure(error: io::Error, spec: &LayerSpec) -> Failure {
    match as_failure(&error) {
        Some(failure) => failure.clone(),
        None => ImageError::malformed(&spec.what, describe(&error)).into(),
    }
}

fn describe(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::UnexpectedEof => format!("it ends early ({error})"),
        _ => error.to_string(),
    }
}

/// Refuses what is not a layer portcullis can read, before a byte is fetched.
pub(crate) fn check_media_type(spec: &LayerSpec) -> Result<(), ImageError> {
    let media_type = spec.media_type.as_str();
    if LAYER_MEDIA_TYPES.contains(&media_type) {
        return Ok(());
    }
    let detail = if media_type.contains("encrypted") {
        "an encrypted layer: its files cannot be read without the key, so nothing in it can be \
         checked"
    } else if media_type.contains("nondistributable") || media_type.contains("foreign") {
        "a foreign (non-distributable) layer: its files are not in the image's blobs, so \
         nothing in it can be checked"
    } else {
        "not a layer type portcullis reads (OCI or Docker tar, uncompressed, gzip or zstd)"
    };
    Err(ImageError::UnsupportedMediaType {
        what: spec.what.clone(),
        media_type: media_type.to_string(),
        detail: Some(detail.to_string()),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compression {
    None,
    Gzip,
    Zstd,
}

/// The compression the first bytes show, whatever the media type says (the digest is checked
/// anyway); plain tar otherwise. Compressions runtimes do not unpack are refused by name.
fn sniff(head: &[u8]) -> Result<Compression, &'static str> {
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Compression::Gzip)
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Ok(Compression::Zstd)
    } else if head.starts_with(b"BZh") {
        Err("bzip2")
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Err("xz")
    } else {
        Ok(Compression::None)
    }
}

/// Reads to the end.
fn drain(mut reader: impl BufRead) -> io::Result<()> {
    loop {
        let n = reader.fill_buf()?.len();
        if n == 0 {
            return Ok(());
        }
        reader.consume(n);
    }
}

/// The bytes as stored: counted against the descriptor's size as they arrive, hashed.
struct Stored<'a, R> {
    inner: R,
    buffer: Box<[u8]>,
    position: usize,
    filled: usize,
    hasher: Option<Hasher>,
    count: u64,
    spec: &'a LayerSpec,
    context: &'a ReadContext<'a>,
}

impl<'a, R: Read> Stored<'a, R> {
    fn new(inner: R, spec: &'a LayerSpec, context: &'a ReadContext<'a>) -> Self {
        Stored {
            inner,
            buffer: vec![0u8; BUFFER].into_boxed_slice(),
            position: 0,
            filled: 0,
            hasher: spec.digest.as_ref().map(|d| Hasher::new(d.algorithm())),
            count: 0,
            spec,
            context,
        }
    }

    /// At least `n` bytes ahead unless the stream is shorter.
    fn peek(&mut self, n: usize) -> io::Result<&[u8]> {
        while self.filled - self.position < n {
            if self.position > 0 {
                self.buffer.copy_within(self.position..self.filled, 0);
                self.filled -= self.position;
                self.position = 0;
            }
            if self.read_more()? == 0 {
                break;
            }
        }
        Ok(&self.buffer[self.position..self.filled])
    }

    /// Reads more bytes after those buffered.
    fn read_more(&mut self) -> io::Result<usize> {
        if self.context.budget.is_cancelled() {
            return Err(io::Error::other(Fault(Failure::Cancelled)));
        }
        let n = loop {
            match self.inner.read(&mut self.buffer[self.filled..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => match as_failure(&e) {
                    Some(Failure::Error(error)) => {
                        return Err(fault(named(error.clone(), self.spec)))
                    }
                    Some(Failure::Cancelled) => return Err(e),
                    None => {
                        return Err(fault(ImageError::Io {
                            path: self.spec.what.clone(),
                            detail: e.to_string(),
                        }))
                    }
                },
            }
        };
        let bytes = &self.buffer[self.filled..self.filled + n];
        if let Some(hasher) = &mut self.hasher {
            hasher.update(bytes);
        }
        self.count += n as u64;
        self.context.progress.read(n as u64);
        if let Some(expected) = self.spec.size {
            if self.count > expected {
                return Err(fault(ImageError::SizeMismatch {
                    what: self.spec.what.clone(),
                    expected,
                    actual: None,
                }));
            }
        }
        self.filled += n;
        Ok(n)
    }

    fn finish(self) -> (Option<Hasher>, u64) {
        (self.hasher, self.count)
    }
}

impl<R: Read> Read for Stored<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for Stored<'_, R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.position == self.filled {
            self.position = 0;
            self.filled = 0;
            self.read_more()?;
        }
        Ok(&self.buffer[self.position..self.filled])
    }

    fn consume(&mut self, n: usize) {
        self.position = (self.position + n).min(self.filled);
    }
}

/// The decompressor the bytes need.
enum Decoder<R: BufRead> {
    None(R),
    /// Boxed: the inflate state is some 270 bytes beside the others' few dozen.
    Gzip(Box<flate2::bufread::MultiGzDecoder<R>>),
    Zstd(zstd::stream::read::Decoder<'static, R>),
}

impl<R: BufRead> Decoder<R> {
    fn new(compression: Compression, inner: R) -> io::Result<Decoder<R>> {
        Ok(match compression {
            Compression::None => Decoder::None(inner),
            Compression::Gzip => {
                Decoder::Gzip(Box::new(flate2::bufread::MultiGzDecoder::new(inner)))
            }
            Compression::Zstd => {
                let mut decoder = zstd::stream::read::Decoder::with_buffer(inner)?;
                decoder.window_log_max(ZSTD_WINDOW_LOG_MAX)?;
                Decoder::Zstd(decoder)
            }
        })
    }

    fn into_inner(self) -> R {
        match self {
            Decoder::None(inner) => inner,
            Decoder::Gzip(decoder) => decoder.into_inner(),
            Decoder::Zstd(decoder) => decoder.finish(),
        }
    }
}

impl<R: BufRead> Read for Decoder<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        match self {
            Decoder::None(inner) => inner.read(out),
            Decoder::Gzip(decoder) => decoder.read(out),
            Decoder::Zstd(decoder) => decoder.read(out),
        }
    }
}

/// The uncompressed tar, chunk by chunk from the producer: hashed for the diff_id, counted
/// against the layer's and the image's limits as it comes (a decompression bomb stops at the
/// limit).
struct Plain<'a> {
    chunks: Receiver<Chunk>,
    recycle: SyncSender<Vec<u8>>,
    buffer: Vec<u8>,
    position: usize,
    filled: usize,
    hasher: Hasher,
    count: u64,
    spec: &'a LayerSpec,
    context: &'a ReadContext<'a>,
}

impl<'a> Plain<'a> {
    fn new(
        chunks: Receiver<Chunk>,
        recycle: SyncSender<Vec<u8>>,
        spec: &'a LayerSpec,
        context: &'a ReadContext<'a>,
    ) -> Self {
        Plain {
            chunks,
            recycle,
            buffer: Vec::new(),
            position: 0,
            filled: 0,
            hasher: Hasher::new(spec.diff_id.algorithm()),
            count: 0,
            spec,
            context,
        }
    }

    fn finish(self) -> (Hasher, u64) {
        (self.hasher, self.count)
    }

    fn refill(&mut self) -> io::Result<()> {
        let budget = self.context.budget;
        if budget.is_cancelled() {
            return Err(io::Error::other(Fault(Failure::Cancelled)));
        }
        // The end of the stream is the producer hanging up.
        let Ok(chunk) = self.chunks.recv() else {
            self.position = 0;
            self.filled = 0;
            return Ok(());
        };
        let (buffer, n) = chunk?;
        let used = std::mem::replace(&mut self.buffer, buffer);
        if !used.is_empty() {
            let _ = self.recycle.try_send(used);
        }
        self.hasher.update(&self.buffer[..n]);
        self.count += n as u64;
        let limit = self.context.limits.max_layer_bytes;
        if self.count > limit {
            return Err(fault(ImageError::TooLarge {
                what: format!(
                    "{} uncompressed (`layers: max_layer_bytes`)",
                    self.spec.what
                ),
                limit,
            }));
        }
        if budget.spend(n as u64) {
            return Err(fault(ImageError::TooLarge {
                what: format!(
                    "the uncompressed size of the layers of {} (`layers: max_image_bytes`, \
                     reached in {})",
                    budget.target, self.spec.what
                ),
                limit: budget.max,
            }));
        }
        self.position = 0;
        self.filled = n;
        Ok(())
    }
}

impl Read for Plain<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Plain<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.position == self.filled {
            self.refill()?;
        }
        Ok(&self.buffer[self.position..self.filled])
    }

    fn consume(&mut self, n: usize) {
        self.position = (self.position + n).min(self.filled);
    }
}

/// What the tar walk found.
struct Walked {
    files: u64,
    changes: Vec<Change>,
    secrets: Vec<FoundSecret>,
    captures: Vec<Capture>,
}

fn walk<R: BufRead>(
    tar: &mut TarReader<R>,
    spec: &LayerSpec,
    limits: &LayerLimits,
) -> io::Result<Walked> {
    let mut walked = Walked {
        files: 0,
        changes: Vec::new(),
        secrets: Vec::new(),
        captures: Vec::new(),
    };
    let mut scanner = Scanner::new();
    while let Some(header) = tar.next()? {
        walked.files += 1;
        if walked.files > limits.max_files_per_layer {
            return Err(fault(ImageError::TooManyEntries {
                what: format!("{} (`layers: max_files_per_layer`)", spec.what),
                limit: limits.max_files_per_layer,
            }));
        }
        let path = normalize(&header.path)?;
        let change = match classify(&path)? {
            Role::Skip => continue,
            Role::Change(change) => change,
            Role::File => {
                let entry = file_entry(&header)?;
                Change::Add { path, entry }
            }
        };
        if let Change::Add { path, entry } = &change {
            if entry.kind == FileKind::Regular {
                let position = walked.changes.len();
                read_file(
                    tar,
                    path,
                    &header,
                    position,
                    limits,
                    &mut scanner,
                    &mut walked,
                )?;
            }
        }
        walked.changes.push(change);
    }
    Ok(walked)
}

/// Streams one regular file's data through the secret scanner (and, for an account file,
/// keeps its first bytes).
fn read_file<R: BufRead>(
    tar: &mut TarReader<R>,
    path: &str,
    header: &Header,
    position: usize,
    limits: &LayerLimits,
    scanner: &mut Scanner,
    walked: &mut Walked,
) -> io::Result<()> {
    let mut capture = ACCOUNT_FILES.contains(&path).then(Vec::new);
    let scanning = walked.secrets.len() < MAX_SECRETS_PER_LAYER && limits.max_scan_bytes > 0;
    scanner.start(if scanning { limits.max_scan_bytes } else { 0 });
    loop {
        let wants = scanner.wants_more();
        let keeping = capture.as_ref().is_some_and(|c| c.len() < ACCOUNT_FILE_MAX);
        if !wants && !keeping {
            // The rest is skipped (and still hashed) by the next header read.
            break;
        }
        let data = tar.data()?;
        if data.is_empty() {
            break;
        }
        if wants {
            scanner.feed(path, data);
        }
        if let Some(kept) = capture.as_mut().filter(|_| keeping) {
            let n = data.len().min(ACCOUNT_FILE_MAX - kept.len());
            kept.extend_from_slice(&data[..n]);
        }
        let n = data.len();
        tar.consume(n);
    }
    for found in scanner.finish(path) {
        if walked.secrets.len() < MAX_SECRETS_PER_LAYER {
            walked.secrets.push(FoundSecret {
                change: position,
                kind: found.kind,
                line: found.line,
            });
        }
    }
    if let Some(bytes) = capture {
        walked.captures.push(Capture {
            change: position,
            truncated: header.size > bytes.len() as u64,
            bytes,
        });
    }
    Ok(())
}

fn file_entry(header: &Header) -> io::Result<FileEntry> {
    let kind = match header.kind {
        EntryType::Regular => FileKind::Regular,
        EntryType::Directory => FileKind::Directory,
        EntryType::Symlink => FileKind::Symlink,
        EntryType::HardLink => FileKind::HardLink,
        EntryType::Other => FileKind::Other,
    };
    let link = match kind {
        FileKind::Symlink => Some(String::from_utf8_lossy(&header.link).into_owned()),
        // A hard link names a file of the image: normalised, and refused if it climbs out.
        FileKind::HardLink => Some(normalize(&header.link)?),
        _ => None,
    };
    Ok(FileEntry {
        layer: 0,
        kind,
        mode: header.mode,
        size: header.size,
        uid: header.uid,
        gid: header.gid,
        link,
    })
}

/// `./etc/passwd`, `etc//passwd`, `/etc/passwd` → `/etc/passwd`; `a/../b` → `/b`. A path that
/// climbs above the root is refused, as Docker refuses to unpack it.
pub(crate) fn normalize(raw: &[u8]) -> io::Result<String> {
    let text = String::from_utf8_lossy(raw);
    let mut parts: Vec<&str> = Vec::new();
    for part in text.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "entry `{}` climbs out of the root",
                            crate::image::digest::shorten(&text)
                        ),
                    ));
                }
            }
            other => parts.push(other),
        }
    }
    Ok(format!("/{}", parts.join("/")))
}

/// What an entry at `path` does.
enum Role {
    File,
    Change(Change),
    /// AUFS metadata (`.wh..wh.plnk`, …): neither a file nor a whiteout.
    Skip,
}

const WHITEOUT: &str = ".wh.";
const OPAQUE: &str = ".wh..wh..opq";
const WHITEOUT_META: &str = ".wh..wh.";

fn classify(path: &str) -> io::Result<Role> {
    let (parent, base) = path.rsplit_once('/').unwrap_or(("", path));
    let parent = if parent.is_empty() { "/" } else { parent };
    if base == OPAQUE {
        return Ok(Role::Change(Change::Opaque(parent.to_string())));
    }
    if path.split('/').any(|part| part.starts_with(WHITEOUT_META)) {
        return Ok(Role::Skip);
    }
    let Some(name) = base.strip_prefix(WHITEOUT) else {
        return Ok(Role::File);
    };
    if name.is_empty() || name == "." || name == ".." {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("whiteout `{path}` names no file"),
        ));
    }
    let deleted = if parent == "/" {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    };
    Ok(Role::Change(Change::Whiteout(deleted)))
}
