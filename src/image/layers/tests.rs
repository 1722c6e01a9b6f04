//! Layers built in memory (tar, gzip, zstd) read through the layer reader, and an OCI layout
//! and a `docker save` archive written by hand read through the real sources.

use super::*;
use crate::image::digest::Digest;
use crate::image::facts::{ImageConfig, Layer, Platform, PlatformImage};
use crate::image::resolve::LayerStore;
use crate::image::{ErrorKind, ImageError};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const OCI_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
const OCI_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const OCI_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
const DOCKER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
const TOKEN: &str = "ghp_0123456789abcdefghijABCDEFGHIJ012345";

/// A layer's tar, entry by entry.
struct Tar(::tar::Builder<Vec<u8>>);

impl Tar {
    fn new() -> Tar {
        Tar(::tar::Builder::new(Vec::new()))
    }

    fn entry(mut self, path: &str, kind: ::tar::EntryType, data: &[u8], link: &str) -> Tar {
        let mut header = ::tar::Header::new_gnu();
        header.set_entry_type(kind);
        header.set_mode(if kind.is_dir() { 0o755 } else { 0o644 });
        header.set_size(data.len() as u64);
        if link.is_empty() {
            self.0.append_data(&mut header, path, data).unwrap();
        } else {
            self.0.append_link(&mut header, path, link).unwrap();
        }
        self
    }

    fn file(self, path: &str, data: &[u8]) -> Tar {
        self.entry(path, ::tar::EntryType::Regular, data, "")
    }

    fn dir(self, path: &str) -> Tar {
        self.entry(path, ::tar::EntryType::Directory, b"", "")
    }

    fn symlink(self, path: &str, target: &str) -> Tar {
        self.entry(path, ::tar::EntryType::Symlink, b"", target)
    }

    fn hard_link(self, path: &str, target: &str) -> Tar {
        self.entry(path, ::tar::EntryType::Link, b"", target)
    }

    /// A file whose name is written as is (the tar crate cleans names and refuses `..`).
    fn raw_name(mut self, name: &str, data: &[u8]) -> Tar {
        let mut header = ::tar::Header::new_old();
        header.as_mut_bytes()[..name.len()].copy_from_slice(name.as_bytes());
        header.set_entry_type(::tar::EntryType::Regular);
        header.set_size(data.len() as u64);
        header.set_cksum();
        self.0.append(&header, data).unwrap();
        self
    }

    fn bytes(self) -> Vec<u8> {
        self.0.into_inner().unwrap()
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn zstd(bytes: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(bytes, 3).unwrap()
}

/// A layer as an image lists it: its blob, its media type, and the tar it holds.
struct Blob {
    stored: Vec<u8>,
    media_type: &'static str,
    tar: Vec<u8>,
}

fn gzipped(tar: Tar) -> Blob {
    let tar = tar.bytes();
    Blob {
        stored: gzip(&tar),
        media_type: OCI_GZIP,
        tar,
    }
}

/// Blobs by digest, counting how often each is opened; a blob in `broken` breaks off after
/// that many bytes, as a download does.
#[derive(Default)]
struct Memory {
    blobs: HashMap<String, Vec<u8>>,
    broken: HashMap<String, usize>,
    opened: AtomicUsize,
}

/// A blob that fails after `after` bytes as a registry's body reader fails: an error naming the
/// blob by digest and repository only.
struct BreaksOff {
    bytes: std::io::Cursor<Vec<u8>>,
    after: usize,
    digest: String,
}

impl Read for BreaksOff {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let left = self.after.saturating_sub(self.bytes.position() as usize);
        if left == 0 {
            return Err(super::read::fault(ImageError::Network {
                what: format!("layer {} of registry.example/app", self.digest),
                detail: "the download broke off (connection reset)".into(),
            }));
        }
        let n = out.len().min(left);
        self.bytes.read(&mut out[..n])
    }
}

impl LayerStore for Memory {
    async fn open_layer(
        &self,
        _index: usize,
        layer: &Layer,
    ) -> Result<Box<dyn Read + Send>, ImageError> {
        self.opened.fetch_add(1, Ordering::Relaxed);
        let bytes = self
            .blobs
            .get(&layer.digest)
            .cloned()
            .ok_or_else(|| ImageError::NotFound {
                what: layer.digest.clone(),
                detail: None,
            })?;
        match self.broken.get(&layer.digest) {
            Some(&after) => Ok(Box::new(BreaksOff {
                bytes: std::io::Cursor::new(bytes),
                after,
                digest: layer.digest.clone(),
            })),
            None => Ok(Box::new(std::io::Cursor::new(bytes))),
        }
    }
}

impl Memory {
    /// A platform image of `blobs` (stored here), as a manifest and config would list them.
    fn image(&mut self, blobs: Vec<Blob>) -> PlatformImage {
        let mut layers = Vec::new();
        let mut diff_ids = Vec::new();
        for blob in blobs {
            let digest = Digest::sha256_of(&blob.stored).to_string();
            layers.push(Layer {
                digest: digest.clone(),
                size: blob.stored.len() as u64,
                media_type: blob.media_type.to_string(),
            });
            diff_ids.push(Digest::sha256_of(&blob.tar).to_string());
            self.blobs.insert(digest, blob.stored);
        }
        PlatformImage {
            platform: Platform::new("linux", "amd64", None),
            manifest_digest: Some(Digest::sha256_of(b"manifest").to_string()),
            media_type: None,
            config_digest: Digest::sha256_of(b"config").to_string(),
            config: ImageConfig {
                diff_ids,
                ..ImageConfig::default()
            },
            compressed_size: 0,
            layers,
            filesystem: None,
        }
    }
}

fn read_with(
    store: &Memory,
    images: &mut [PlatformImage],
    limits: LayerLimits,
) -> Vec<Result<Arc<FileSystem>, ImageError>> {
    let reader = LayerReader::new(limits, false);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    images
        .iter_mut()
        .map(|image| {
            let mut one = [image.clone()];
            runtime.block_on(reader.fill(store, "test", &mut one))?;
            *image = one[0].clone();
            Ok(image.filesystem.clone().unwrap())
        })
        .collect::<Vec<_>>()
}

fn read(store: &Memory, image: PlatformImage) -> Result<Arc<FileSystem>, ImageError> {
    read_limited(store, image, LayerLimits::default())
}

fn read_limited(
    store: &Memory,
    image: PlatformImage,
    limits: LayerLimits,
) -> Result<Arc<FileSystem>, ImageError> {
    read_with(store, &mut [image], limits).remove(0)
}

fn one_layer(blob: Blob) -> Result<Arc<FileSystem>, ImageError> {
    let mut store = Memory::default();
    let image = store.image(vec![blob]);
    read(&store, image)
}

fn paths(fs: &FileSystem) -> Vec<&str> {
    fs.files.keys().map(String::as_str).collect()
}

fn fates(fs: &FileSystem) -> Vec<(&str, usize, Fate)> {
    fs.secrets
        .iter()
        .map(|s| (s.path.as_str(), s.layer, s.fate))
        .collect()
}

#[test]
fn whiteouts_opaque_directories_and_fates() {
    let secret = format!("token={TOKEN}\n");
    let mut store = Memory::default();
    let base = Tar::new()
        .dir("etc/")
        .file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
        .file("etc/secret.txt", secret.as_bytes())
        .dir("app/")
        .file("app/config", secret.as_bytes())
        .file("app/sub/x", b"x")
        .file("opt/keep", secret.as_bytes())
        .file("tmp/a/b", secret.as_bytes())
        .file("srv/data", secret.as_bytes());
    let upper = Tar::new()
        .file("etc/.wh.secret.txt", b"")
        .dir("app/")
        .file("app/.wh..wh..opq", b"")
        .file("app/new", b"new")
        .file("opt/keep", b"no secret now")
        .file("tmp/.wh.a", b"")
        // A file where a directory was: the directory's tree goes.
        .file("srv", b"now a file")
        // A whiteout hides lower layers only: the same layer's file stays.
        .file("etc/.wh.motd", b"")
        .file("etc/motd", b"hello");
    let top = Tar::new().file(
        "etc/passwd",
        b"root:x:0:0::/root:/bin/bash\napp:x:1000:1000::/app:/bin/sh\n",
    );
    let image = store.image(vec![gzipped(base), gzipped(upper), gzipped(top)]);
    let fs = read(&store, image).unwrap();
    assert_eq!(
        paths(&fs),
        [
            "/app",
            "/app/new",
            "/etc",
            "/etc/motd",
            "/etc/passwd",
            "/opt/keep",
            "/srv"
        ]
    );
    assert_eq!(fs.files["/etc/passwd"].layer, 2);
    assert_eq!(fs.files["/app"].layer, 1);
    assert_eq!(fs.files["/etc"].layer, 0);
    assert_eq!(
        fates(&fs),
        [
            ("/etc/secret.txt", 0, Fate::DeletedBy(1)),
            ("/app/config", 0, Fate::DeletedBy(1)),
            ("/opt/keep", 0, Fate::OverwrittenBy(1)),
            ("/tmp/a/b", 0, Fate::DeletedBy(1)),
            ("/srv/data", 0, Fate::DeletedBy(1)),
        ]
    );
    assert!(fs
        .secrets
        .iter()
        .all(|s| s.kind == "a GitHub token" && s.line == 1));
    let passwd = &fs.account_files["/etc/passwd"];
    assert_eq!(passwd.layer, 2);
    assert!(passwd
        .bytes
        .starts_with(b"root:x:0:0::/root:/bin/bash\napp:"));
    assert!(!passwd.truncated);
    assert_eq!(fs.layers.len(), 3);
    assert_eq!(fs.layers[1].files, 9);
    assert_eq!(fs.layers[0].media_type, OCI_GZIP);
}

#[test]
fn a_secret_that_stays_is_present_and_a_path_written_twice_in_a_layer_is_overwritten() {
    let secret = format!("x\n\nkey: {TOKEN}\n");
    let tar = Tar::new()
        .file("app/.env", secret.as_bytes())
        .file("app/twice", secret.as_bytes())
        .file("app/twice", b"clean");
    let fs = one_layer(gzipped(tar)).unwrap();
    assert_eq!(
        fates(&fs),
        [
            ("/app/.env", 0, Fate::Present),
            ("/app/twice", 0, Fate::OverwrittenBy(0)),
        ]
    );
    assert_eq!(fs.secrets[0].line, 3);
    assert_eq!(fs.files["/app/twice"].size, 5);
}

#[test]
fn an_account_file_replaced_by_a_link_or_deleted_is_not_kept() {
    let mut store = Memory::default();
    let base = Tar::new()
        .file("etc/passwd", b"root:x:0:0\n")
        .file("etc/group", b"root:x:0:\n")
        .file("etc/shadow", b"root:*:1::::::\n");
    let upper = Tar::new()
        .symlink("etc/passwd", "/run/passwd")
        .file("etc/.wh.shadow", b"");
    let image = store.image(vec![gzipped(base), gzipped(upper)]);
    let fs = read(&store, image).unwrap();
    let kept: Vec<&str> = fs.account_files.keys().map(String::as_str).collect();
    assert_eq!(kept, ["/etc/group"]);
    let link = &fs.files["/etc/passwd"];
    assert_eq!(link.kind, FileKind::Symlink);
    assert_eq!(link.link.as_deref(), Some("/run/passwd"));
}

#[test]
fn large_account_files_are_capped_and_say_so() {
    let big = "u:x:1:1::/:/bin/sh\n".repeat(ACCOUNT_FILE_MAX / 10);
    let fs = one_layer(gzipped(Tar::new().file("etc/group", big.as_bytes()))).unwrap();
    let group = &fs.account_files["/etc/group"];
    assert!(group.truncated);
    assert_eq!(group.bytes.len(), ACCOUNT_FILE_MAX);
    assert_eq!(fs.files["/etc/group"].size, big.len() as u64);
}

#[test]
fn paths_are_normalised_and_links_are_entries() {
    let tar = Tar::new()
        .raw_name("./etc/passwd", b"root:x:0:0\n")
        .raw_name("usr//bin/./tool", b"")
        .raw_name("/abs/file", b"")
        .raw_name("a/b/../c", b"")
        .raw_name("./etc/shadow", b"")
        .hard_link("usr/bin/tool2", "usr/bin/tool")
        .symlink("bin", "usr/bin");
    let fs = one_layer(gzipped(tar)).unwrap();
    assert_eq!(
        paths(&fs),
        [
            "/a/c",
            "/abs/file",
            "/bin",
            "/etc/passwd",
            "/etc/shadow",
            "/usr/bin/tool",
            "/usr/bin/tool2"
        ]
    );
    assert_eq!(fs.files["/usr/bin/tool2"].kind, FileKind::HardLink);
    assert_eq!(
        fs.files["/usr/bin/tool2"].link.as_deref(),
        Some("/usr/bin/tool")
    );
    assert_eq!(fs.files["/bin"].link.as_deref(), Some("usr/bin"));
    assert_eq!(fs.account_files["/etc/passwd"].bytes, b"root:x:0:0\n");
    // An empty account file is kept, empty.
    assert!(fs.account_files["/etc/shadow"].bytes.is_empty());
}

#[test]
fn a_path_that_climbs_out_of_the_root_fails_the_image() {
    for name in ["../etc/passwd", "a/../../x"] {
        let err = one_layer(gzipped(Tar::new().raw_name(name, b""))).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Malformed, "{err}");
        let text = err.to_string();
        assert!(
            text.contains("layer 0 (sha256:") && text.contains("climbs out"),
            "{text}"
        );
    }
    let err = one_layer(gzipped(Tar::new().hard_link("x", "../../etc/shadow"))).unwrap_err();
    assert!(err.to_string().contains("climbs out"), "{err}");
}

#[test]
fn stored_digest_and_size_are_checked() {
    let mut store = Memory::default();
    let mut image = store.image(vec![gzipped(Tar::new().file("a", b"1"))]);
    // The blob is served under a digest it does not have.
    let other = Digest::sha256_of(b"other").to_string();
    let blob = store.blobs.remove(&image.layers[0].digest).unwrap();
    store.blobs.insert(other.clone(), blob);
    image.layers[0].digest = other.clone();
    let err = read(&store, image.clone()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::DigestMismatch, "{err}");
    assert!(
        err.to_string().starts_with(&format!(
            "layer 0 ({other}) of test: content does not match"
        )),
        "{err}"
    );
    image.layers[0].size += 1;
    let err = read(&store, image).unwrap_err();
    assert!(
        matches!(
            err,
            ImageError::SizeMismatch {
                actual: Some(_),
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn the_uncompressed_digest_is_checked_against_the_diff_id() {
    let mut store = Memory::default();
    let mut image = store.image(vec![gzipped(Tar::new().file("a", b"1"))]);
    image.config.diff_ids[0] = Digest::sha256_of(b"another tar").to_string();
    let err = read(&store, image.clone()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::DigestMismatch, "{err}");
    assert!(
        err.to_string().contains("uncompressed (its diff_id"),
        "{err}"
    );
    image.config.diff_ids.clear();
    let err = read(&store, image).unwrap_err();
    assert!(err.to_string().contains("0 diff_ids for 1 layers"), "{err}");
}

#[test]
fn a_truncated_stream_is_a_size_mismatch() {
    let mut store = Memory::default();
    let tar = Tar::new().file("big", &vec![b'a'; 300_000]);
    let image = store.image(vec![gzipped(tar)]);
    let stored = store.blobs.get_mut(&image.layers[0].digest).unwrap();
    let half = stored.len() / 2;
    stored.truncate(half);
    let err = read(&store, image).unwrap_err();
    assert!(
        matches!(err, ImageError::SizeMismatch { actual: Some(n), .. } if n == half as u64),
        "{err:?}"
    );
    // Bytes changed inside the stream (same size): the digest says so, whatever the
    // decompressor made of them.
    let mut store = Memory::default();
    let mut blob = gzipped(Tar::new().file("big", &vec![b'a'; 300_000]));
    let digest = Digest::sha256_of(&blob.stored).to_string();
    let middle = blob.stored.len() / 2;
    blob.stored[middle] ^= 0xff;
    let mut image = store.image(vec![blob]);
    let tampered = image.layers[0].digest.clone();
    store
        .blobs
        .insert(digest.clone(), store.blobs[&tampered].clone());
    image.layers[0].digest = digest;
    let err = read(&store, image).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::DigestMismatch, "{err}");
}

/// A source's errors name the blob; the image's error names the layer, by index and digest,
/// and the image (so that a message says which layer of which image could not be read).
#[test]
fn a_source_that_fails_is_named_as_the_layer() {
    let blobs = || {
        vec![
            gzipped(Tar::new().file("a", b"first")),
            gzipped(Tar::new().file("big", &vec![b'a'; 300_000])),
        ]
    };
    let mut store = Memory::default();
    let image = store.image(blobs());
    let second = image.layers[1].digest.clone();
    store.broken.insert(second.clone(), 1000);
    let err = read(&store, image).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network, "{err}");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "layer 1 ({second}) of test failed: the download broke off"
        )),
        "{text}"
    );

    let mut store = Memory::default();
    let image = store.image(blobs());
    store.blobs.remove(&second);
    let err = read(&store, image).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert!(
        err.to_string()
            .starts_with(&format!("layer 1 ({second}) of test not found")),
        "{err}"
    );
}

/// The fuzz entry point reaches the whole reader: a valid tar is read as it is and gzipped,
/// each assembled; bytes that are no tar read as nothing.
#[test]
fn the_fuzzing_reader_reads_a_valid_layer_both_ways() {
    let tar = Tar::new()
        .file("etc/passwd", b"root:x:0:0::/root:/bin/sh\n")
        .file("srv/.wh.old", b"")
        .bytes();
    let read = read_for_fuzzing(&tar, LayerLimits::default());
    assert_eq!(read.len(), 2);
    for filesystem in &read {
        assert_eq!(paths(filesystem), ["/etc/passwd"]);
        assert_eq!(filesystem.layers.len(), 2);
    }
    assert!(read_for_fuzzing(b"no tar", LayerLimits::default()).is_empty());
}

#[test]
fn a_decompression_bomb_stops_at_the_layer_limit() {
    let zeros = vec![0u8; 12 << 20];
    let blob = gzipped(Tar::new().file("bomb", &zeros));
    assert!(blob.stored.len() < 200_000, "a bomb: {}", blob.stored.len());
    let mut store = Memory::default();
    let image = store.image(vec![blob]);
    let limits = LayerLimits {
        max_layer_bytes: 4 << 20,
        ..LayerLimits::default()
    };
    let err = read_limited(&store, image, limits).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
    let text = err.to_string();
    assert!(
        text.contains("layer 0 (sha256:") && text.contains("max_layer_bytes"),
        "{text}"
    );
}

#[test]
fn the_image_limit_counts_every_layer() {
    let mut store = Memory::default();
    let layer = |name: &str| gzipped(Tar::new().file(name, &vec![0u8; 3 << 20]));
    let image = store.image(vec![layer("a"), layer("b"), layer("c")]);
    let limits = LayerLimits {
        max_image_bytes: 7 << 20,
        ..LayerLimits::default()
    };
    let err = read_limited(&store, image.clone(), limits).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
    assert!(err.to_string().contains("max_image_bytes"), "{err}");
    // Within the limit, the same image reads.
    let limits = LayerLimits {
        max_image_bytes: 10 << 20,
        ..LayerLimits::default()
    };
    let fs = read_limited(&store, image, limits).unwrap();
    assert!(fs.layers.iter().all(|l| l.uncompressed_bytes > 3 << 20));
}

#[test]
fn too_many_entries_fail_the_image() {
    let mut tar = Tar::new();
    for i in 0..20 {
        tar = tar.file(&format!("f{i}"), b"");
    }
    let mut store = Memory::default();
    let image = store.image(vec![gzipped(tar)]);
    let limits = LayerLimits {
        max_files_per_layer: 10,
        ..LayerLimits::default()
    };
    let err = read_limited(&store, image, limits).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
    assert!(err.to_string().contains("max_files_per_layer"), "{err}");
}

#[test]
fn uncompressed_and_zstd_layers_are_read_and_the_bytes_decide_the_compression() {
    let tar = Tar::new().file("etc/os-release", b"ID=test\n").bytes();
    let blobs = [
        (tar.clone(), OCI_TAR),
        (tar.clone(), crate::image::manifest::DOCKER_LAYER_TAR),
        (zstd(&tar), OCI_ZSTD),
        (gzip(&tar), DOCKER_GZIP),
        // Mislabelled: the magic bytes win (the digests are checked either way).
        (zstd(&tar), OCI_GZIP),
        (gzip(&tar), OCI_TAR),
    ];
    for (stored, media_type) in blobs {
        let fs = one_layer(Blob {
            stored,
            media_type,
            tar: tar.clone(),
        })
        .unwrap_or_else(|e| panic!("{media_type}: {e}"));
        assert_eq!(paths(&fs), ["/etc/os-release"], "{media_type}");
        assert_eq!(fs.layers[0].uncompressed_bytes, tar.len() as u64);
    }
}

#[test]
fn unknown_foreign_and_encrypted_layers_fail_closed() {
    let tar = Tar::new().file("a", b"1").bytes();
    for (media_type, says) in [
        (
            "application/vnd.oci.image.layer.v1.tar+gzip+encrypted",
            "encrypted",
        ),
        (
            "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
            "foreign",
        ),
        (
            "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
            "foreign",
        ),
        ("application/vnd.example.layer", "not a layer type"),
    ] {
        let err = one_layer(Blob {
            stored: gzip(&tar),
            media_type,
            tar: tar.clone(),
        })
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnsupportedMediaType, "{err}");
        assert!(err.to_string().contains(says), "{err}");
    }
    let err = one_layer(Blob {
        stored: b"BZh91AY&SY not really".to_vec(),
        media_type: OCI_TAR,
        tar,
    })
    .unwrap_err();
    assert!(err.to_string().contains("bzip2"), "{err}");
    let err = one_layer(Blob {
        stored: vec![1u8; 2048],
        media_type: OCI_TAR,
        tar: vec![1u8; 2048],
    })
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Malformed, "{err}");
    assert!(err.to_string().contains("checksum"), "{err}");
}

#[test]
fn a_secret_at_the_end_of_a_large_file_is_found_within_the_scan_limit() {
    let mut text = "log line without anything in it\n".repeat((20 << 20) / 32);
    let lines = text.lines().count();
    text.push_str(&format!("export GITHUB_TOKEN={TOKEN}\n"));
    let blob = || gzipped(Tar::new().file("var/log/app.log", text.as_bytes()));
    let fs = one_layer(blob()).unwrap();
    assert_eq!(fs.secrets.len(), 1, "{:?}", fs.secrets);
    assert_eq!(fs.secrets[0].line, lines + 1);
    assert_eq!(fs.secrets[0].path, "/var/log/app.log");
    let mut store = Memory::default();
    let image = store.image(vec![blob()]);
    let limits = LayerLimits {
        max_scan_bytes: 10 << 20,
        ..LayerLimits::default()
    };
    let fs = read_limited(&store, image, limits).unwrap();
    assert!(fs.secrets.is_empty(), "{:?}", fs.secrets);
}

#[test]
fn binary_files_are_not_searched() {
    let mut binary = b"\x7fELF\x02\x01\x01\0\0\0".to_vec();
    binary.extend_from_slice(TOKEN.as_bytes());
    let tar = Tar::new()
        .file("usr/bin/app", &binary)
        .file("app/settings.py", format!("TOKEN = '{TOKEN}'\n").as_bytes());
    let fs = one_layer(gzipped(tar)).unwrap();
    let found: Vec<&str> = fs.secrets.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(found, ["/app/settings.py"]);
}

#[test]
fn a_layer_shared_by_images_is_read_once_and_checked_for_each() {
    let mut store = Memory::default();
    let shared = || gzipped(Tar::new().file("etc/os-release", b"ID=base\n"));
    let a = store.image(vec![shared(), gzipped(Tar::new().file("a", b"a"))]);
    let b = store.image(vec![shared(), gzipped(Tar::new().file("b", b"b"))]);
    let mut wrong = store.image(vec![shared()]);
    wrong.config.diff_ids[0] = Digest::sha256_of(b"x").to_string();
    let results = read_with(&store, &mut [a, b, wrong], LayerLimits::default());
    assert_eq!(store.opened.load(Ordering::Relaxed), 3);
    assert!(results[0].as_ref().unwrap().files.contains_key("/a"));
    assert!(results[1]
        .as_ref()
        .unwrap()
        .files
        .contains_key("/etc/os-release"));
    // What another image read must still match this image's config.
    let err = results[2].as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::DigestMismatch, "{err}");
}

/// An OCI layout written by hand: `oci-layout`, `index.json`, `blobs/sha256/…`.
fn write_layout(dir: &std::path::Path, layers: &[Blob]) {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |bytes: &[u8]| {
        let digest = Digest::sha256_of(bytes);
        std::fs::write(blobs.join(digest.hex()), bytes).unwrap();
        format!(r#""digest":"{digest}","size":{}"#, bytes.len())
    };
    let diff_ids: Vec<String> = layers
        .iter()
        .map(|l| format!("\"{}\"", Digest::sha256_of(&l.tar)))
        .collect();
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":[{}]}}}}"#,
        diff_ids.join(",")
    );
    let descriptors: Vec<String> = layers
        .iter()
        .map(|l| format!(r#"{{"mediaType":"{}",{}}}"#, l.media_type, put(&l.stored)))
        .collect();
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json",{}}},"layers":[{}]}}"#,
        put(config.as_bytes()),
        descriptors.join(",")
    );
    let index = format!(
        r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json",{},"annotations":{{"org.opencontainers.image.ref.name":"v1"}}}}]}}"#,
        put(manifest.as_bytes())
    );
    std::fs::write(dir.join("index.json"), index).unwrap();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
}

fn fetch_one(
    target: &str,
    layers: Option<LayerLimits>,
) -> Result<crate::image::ImageFacts, ImageError> {
    let options = crate::image::FetchOptions {
        auth: crate::image::AuthConfig::anonymous(),
        layers,
        ..crate::image::FetchOptions::default()
    };
    let target = crate::image::ImageTarget::parse(target).unwrap();
    crate::image::gather_blocking(&[target], &options).remove(0)
}

#[test]
fn an_oci_layout_is_read_through_its_source_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let base = Tar::new()
        .file("etc/passwd", b"root:x:0:0::/root:/bin/sh\n")
        .file("root/.netrc", format!("password {TOKEN}\n").as_bytes());
    let upper = Tar::new().file("root/.wh..netrc", b"");
    let zstd_tar = Tar::new().file("opt/z", b"z").bytes();
    let blobs = [
        gzipped(base),
        gzipped(upper),
        Blob {
            stored: zstd(&zstd_tar),
            media_type: OCI_ZSTD,
            tar: zstd_tar,
        },
    ];
    write_layout(dir.path(), &blobs);
    let target = format!("oci:{}:v1", dir.path().display());
    let facts = fetch_one(&target, None).unwrap();
    assert!(facts.platforms[0].filesystem.is_none());
    let facts = fetch_one(&target, Some(LayerLimits::default())).unwrap();
    let fs = facts.platforms[0].filesystem.as_deref().unwrap();
    assert_eq!(paths(fs), ["/etc/passwd", "/opt/z"]);
    assert_eq!(fates(fs), [("/root/.netrc", 0, Fate::DeletedBy(1))]);
    assert_eq!(fs.layers[2].media_type, OCI_ZSTD);

    // A blob changed on disk fails the target closed.
    let digest = Digest::sha256_of(&blobs[1].stored);
    let path = dir.path().join("blobs/sha256").join(digest.hex());
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&path, bytes).unwrap();
    let err = fetch_one(&target, Some(LayerLimits::default())).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::DigestMismatch, "{err}");
    assert!(
        err.to_string().contains(&format!("layer 1 ({digest})")),
        "{err}"
    );
}

#[test]
fn a_legacy_docker_archive_is_read_through_its_source() {
    let dir = tempfile::tempdir().unwrap();
    let layer = Tar::new()
        .file("etc/group", b"root:x:0:\n")
        .file(
            "app/key.pem",
            b"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAq0123456789abcdefghij\n",
        )
        .bytes();
    let diff_id = Digest::sha256_of(&layer);
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":["{diff_id}"]}}}}"#
    );
    let config_name = format!("{}.json", Digest::sha256_of(config.as_bytes()).hex());
    let manifest = format!(
        r#"[{{"Config":"{config_name}","RepoTags":["app:1"],"Layers":["abc/layer.tar"]}}]"#
    );
    let mut archive = Tar::new()
        .file("manifest.json", manifest.as_bytes())
        .file(&config_name, config.as_bytes());
    archive = archive.file("abc/layer.tar", &layer);
    let path = dir.path().join("app.tar");
    std::fs::write(&path, archive.bytes()).unwrap();
    let facts = fetch_one(
        &format!("docker-archive:{}", path.display()),
        Some(LayerLimits::default()),
    )
    .unwrap();
    let fs = facts.platforms[0].filesystem.as_deref().unwrap();
    assert_eq!(paths(fs), ["/app/key.pem", "/etc/group"]);
    assert_eq!(fs.layers[0].diff_id, diff_id.to_string());
    assert_eq!(fs.secrets.len(), 1);
    assert_eq!(fs.secrets[0].kind, "a private key");
    assert_eq!(fs.account_files["/etc/group"].bytes, b"root:x:0:\n");
}

/// Throughput against `gzip -dc` and `zstd -dc` on a synthetic layer of ~500 MB (text and
/// binary files). Run with
/// `cargo test --release --lib layers::tests::throughput -- --ignored --nocapture`.
#[test]
#[ignore]
fn throughput() {
    let dir = tempfile::tempdir().unwrap();
    let tar_path = dir.path().join("layer.tar");
    {
        let file = std::fs::File::create(&tar_path).unwrap();
        let mut builder = ::tar::Builder::new(std::io::BufWriter::new(file));
        let text: Vec<u8> = (0..1_000_000u32)
            .flat_map(|i| {
                format!(
                    "line {i} of a configuration or source file, key={}\n",
                    i * 7
                )
                .into_bytes()
            })
            .take(4 << 20)
            .collect();
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let binary: Vec<u8> = (0..(4 << 20))
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                // Half random bytes, half runs: compresses like program files.
                if i % 4096 < 2048 {
                    (state >> 24) as u8
                } else {
                    0
                }
            })
            .collect();
        for i in 0..120 {
            let (name, data) = if i % 2 == 0 {
                (format!("src/file{i}.txt"), &text)
            } else {
                (format!("usr/lib/lib{i}.so"), &binary)
            };
            let mut header = ::tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            builder
                .append_data(&mut header, name, data.as_slice())
                .unwrap();
        }
        for i in 0..20_000 {
            let mut header = ::tar::Header::new_gnu();
            let data = format!("small file {i}\n");
            header.set_size(data.len() as u64);
            builder
                .append_data(&mut header, format!("etc/many/f{i}"), data.as_bytes())
                .unwrap();
        }
        builder.into_inner().unwrap().flush().unwrap();
    }
    let tar_len = std::fs::metadata(&tar_path).unwrap().len();
    let sha256_of = |path: &std::path::Path| {
        let mut hasher = crate::image::digest::Hasher::new(crate::image::digest::Algorithm::Sha256);
        let mut file = std::fs::File::open(path).unwrap();
        let mut buffer = vec![0u8; 1 << 20];
        loop {
            let n = file.read(&mut buffer).unwrap();
            if n == 0 {
                break;
            }
            hasher.update(&buffer[..n]);
        }
        hasher.finish()
    };
    let started = std::time::Instant::now();
    let diff_id = sha256_of(&tar_path);
    println!(
        "sha256 of the tar: {:.2} s",
        started.elapsed().as_secs_f64()
    );
    for (tool, suffix, media_type) in [("gzip", "gz", OCI_GZIP), ("zstd", "zst", OCI_ZSTD)] {
        let blob = dir.path().join(format!("layer.tar.{suffix}"));
        let status = std::process::Command::new(tool)
            .args(["-k", "-q", "-f"])
            .arg(&tar_path)
            .status()
            .unwrap();
        assert!(status.success());
        let size = std::fs::metadata(&blob).unwrap().len();
        let started = std::time::Instant::now();
        let status = std::process::Command::new(tool)
            .arg("-dc")
            .arg(&blob)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        let tool_time = started.elapsed();
        let digest = sha256_of(&blob);
        let spec = read::LayerSpec {
            what: "layer 0".into(),
            listed: digest.to_string(),
            digest: Some(digest),
            size: Some(size),
            diff_id: diff_id.clone(),
            media_type: media_type.into(),
        };
        let limits = LayerLimits::default();
        let budget = read::Budget::new("bench", u64::MAX);
        let progress = progress::Progress::default();
        let context = read::ReadContext {
            limits: &limits,
            budget: &budget,
            progress: &progress,
        };
        // The peak from here on is the reader's (Linux: `5` resets the high-water mark).
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let started = std::time::Instant::now();
        let contents =
            read::read_layer(std::fs::File::open(&blob).unwrap(), &spec, &context).unwrap();
        let ours = started.elapsed();
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        for line in status.lines().filter(|l| l.starts_with("VmHWM")) {
            println!("{tool}: peak RSS while reading: {line}");
        }
        let unscanned = LayerLimits {
            max_scan_bytes: 1,
            ..limits
        };
        let context = read::ReadContext {
            limits: &unscanned,
            budget: &budget,
            progress: &progress,
        };
        let started = std::time::Instant::now();
        read::read_layer(std::fs::File::open(&blob).unwrap(), &spec, &context).unwrap();
        println!(
            "{tool}: without the secret search {:.2} s",
            started.elapsed().as_secs_f64()
        );
        assert_eq!(contents.summary.uncompressed_bytes, tar_len);
        println!(
            "{tool}: {} MB tar, {} MB stored; {tool} -dc {:.2} s, portcullis {:.2} s: ratio {:.2} ({} files, {} secrets)",
            tar_len >> 20,
            size >> 20,
            tool_time.as_secs_f64(),
            ours.as_secs_f64(),
            tool_time.as_secs_f64() / ours.as_secs_f64(),
            contents.summary.files,
            contents.secrets.len(),
        );
    }
}
