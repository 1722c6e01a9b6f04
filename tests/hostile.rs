//! Hostile input: each case runs the real binary with a bound on its time and peak memory
//! (README, "Bounds"), and must end with an exit code of 0–3 and the one it should have.
//! These are guards against hangs and blow-ups, not speed measurements: the bounds are an
//! order of magnitude above what the cases take.

use crate::util::{binary, http_response, http_server, Project};
use portcullis::image::digest::Digest;
use sha2::Digest as _;
use std::io::{BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Every case ends within this, on any machine the suite runs on.
const TIME_BOUND: Duration = Duration::from_secs(10);
/// The peak resident memory of one run of any case.
const MEMORY_BOUND_KIB: i64 = 200 * 1024;

struct Bounded {
    code: i32,
    peak_kib: i64,
    stderr: String,
}

/// Runs `portcullis ARGS` in `dir`, killed past [`TIME_BOUND`], and measures its own peak
/// RSS: the high-water mark of its memory (`VmHWM` in `/proc/PID/status`), read every few
/// milliseconds while it runs. (Not `wait4`'s `ru_maxrss`: the child is spawned with
/// `CLONE_VM`, and at `exec` the kernel records the *parent's* peak as the child's, so that
/// figure is this test process's peak whenever that is larger — some other test's fixtures.)
/// Only growth within the last poll (2 ms) before exit goes unseen: some MiB at most, as fast
/// as pages can be faulted in.
fn run_bounded(dir: &std::path::Path, args: &[&str]) -> Bounded {
    let mut child = Command::new(binary())
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn portcullis");
    let status_file = format!("/proc/{}/status", child.id());
    let stderr = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut BufReader::new(stderr), &mut text);
        text
    });
    let start = Instant::now();
    let mut peak_kib = 0;
    let status = loop {
        // Gone (or a zombie, its memory released) once it exited: the last reading stands.
        if let Some(hwm) = high_water_kib(&status_file) {
            peak_kib = peak_kib.max(hwm);
        }
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > TIME_BOUND {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{args:?} took more than {TIME_BOUND:?}");
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let code = status.code().unwrap_or_else(|| {
        use std::os::unix::process::ExitStatusExt as _;
        panic!("{args:?} died by signal {:?}", status.signal())
    });
    let stderr = reader.join().expect("stderr reader");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "{args:?}: {stderr}"
    );
    Bounded {
        code,
        peak_kib,
        stderr,
    }
}

/// `VmHWM` of a process's status file, in KiB.
fn high_water_kib(status_file: &str) -> Option<i64> {
    let status = std::fs::read_to_string(status_file).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn check_file(name: &str, content: &[u8], expected: i32) -> Bounded {
    let p = Project::new();
    std::fs::write(p.path().join(name), content).expect("write");
    let run = run_bounded(p.path(), &["check", name]);
    assert_eq!(run.code, expected, "{name}: {}", run.stderr);
    assert!(
        run.peak_kib < MEMORY_BOUND_KIB,
        "{name}: peak {} KiB over {MEMORY_BOUND_KIB} KiB",
        run.peak_kib
    );
    run
}

#[test]
fn a_200_mb_dockerfile_is_refused_without_reading_it() {
    let p = Project::new();
    let path = p.path().join("Dockerfile");
    let mut file = std::fs::File::create(&path).expect("create");
    file.write_all(b"FROM alpine:3.20\nUSER app\n")
        .expect("write");
    // Sparse: the test writes nothing more, the gate would read 200 MB.
    file.set_len(200 * 1024 * 1024).expect("grow");
    drop(file);
    let run = run_bounded(p.path(), &["check", "Dockerfile"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("larger than the 1024 KiB"),
        "{}",
        run.stderr
    );
    assert!(run.peak_kib < MEMORY_BOUND_KIB, "peak {} KiB", run.peak_kib);
}

#[test]
fn continuation_lines_by_the_hundred_thousand() {
    // 1.4 MB: over the size portcullis reads, refused.
    let long = format!(
        "FROM alpine:3.20\nRUN echo a \\\n{}  && true\nUSER app\n",
        "  && echo b \\\n".repeat(100_000)
    );
    let run = check_file("Dockerfile", long.as_bytes(), 3);
    assert!(run.stderr.contains("larger than"), "{}", run.stderr);
    // Just under the size: parsed, every rule run, within the bounds.
    let under = format!(
        "FROM alpine:3.20\nRUN echo a \\\n{}  && true\nUSER app\n",
        "  && echo b \\\n".repeat(70_000)
    );
    assert!(under.len() < 1024 * 1024);
    check_file("Dockerfile", under.as_bytes(), 0);
}

#[test]
fn five_thousand_heredocs_on_one_instruction() {
    let mut text = String::from("FROM alpine:3.20\nRUN ");
    text.push_str(
        &(0..5000)
            .map(|i| format!("<<E{i}"))
            .collect::<Vec<_>>()
            .join(" "),
    );
    text.push('\n');
    for i in 0..5000 {
        text.push_str(&format!("echo {i} | tee -a /log\nE{i}\n"));
    }
    text.push_str("USER app\n");
    // Each body pipes without pipefail (DL4006, medium): reported, within the bounds.
    check_file("Dockerfile", text.as_bytes(), 0);
}

#[test]
fn a_10_mib_line_is_refused() {
    let line = format!(
        "FROM alpine:3.20\nRUN echo {}\nUSER app\n",
        "x".repeat(10 << 20)
    );
    check_file("Dockerfile", line.as_bytes(), 3);
    // Under the file size, over the line BuildKit reads: refused as BuildKit refuses it.
    let line = format!(
        "FROM alpine:3.20\nRUN echo {}\nUSER app\n",
        "x".repeat(900 << 10)
    );
    let run = check_file("Dockerfile", line.as_bytes(), 3);
    assert!(run.stderr.contains("65535"), "{}", run.stderr);
}

#[test]
fn bytes_that_are_not_utf8_text() {
    // Invalid UTF-8 where BuildKit would see an unknown instruction.
    check_file(
        "Dockerfile",
        b"FROM alpine:3.20\n\xff\xfeRUN x\nUSER app\n",
        3,
    );
    // Invalid UTF-8 inside an argument is just a byte of it.
    check_file(
        "Dockerfile",
        b"FROM alpine:3.20\nRUN echo \xff\xfe\nUSER app\n",
        0,
    );
    // UTF-16 with a BOM: BuildKit reads bytes, so this is no Dockerfile it can build.
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            "FROM alpine:3.20\nUSER app\n"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    check_file("Dockerfile", &utf16, 3);
    check_file("Dockerfile", b"FROM alpine:3.20\nUSER app\n\0\0\0\n", 3);
}

#[test]
fn hostile_policies_are_refused() {
    let bomb = "version: 1\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c]\n";
    for (name, policy) in [
        ("bomb.yaml", bomb.to_string()),
        ("self.yaml", "version: 1\nextends: self.yaml\n".to_string()),
        ("a.yaml", "version: 1\nextends: b.yaml\n".to_string()),
    ] {
        let p = Project::new()
            .file("Dockerfile", "FROM alpine:3.20\nUSER app\n")
            .file("b.yaml", "version: 1\nextends: a.yaml\n")
            .file(name, &policy);
        let run = run_bounded(p.path(), &["check", "--policy", name]);
        assert_eq!(run.code, 2, "{name}: {}", run.stderr);
        assert!(run.stderr.contains(name), "{name}: {}", run.stderr);
    }
}

#[test]
fn a_symlink_loop_in_a_target_directory() {
    let p = Project::new().file("svc/Dockerfile", "FROM alpine:3.20\nUSER app\n");
    std::os::unix::fs::symlink("..", p.path().join("svc/loop")).expect("symlink");
    std::os::unix::fs::symlink("loop2", p.path().join("svc/loop1")).expect("symlink");
    std::os::unix::fs::symlink("loop1", p.path().join("svc/loop2")).expect("symlink");
    let run = run_bounded(p.path(), &["check", "."]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn a_manifest_nested_ten_thousand_levels_deep() {
    let port = http_server(|request| {
        if request.starts_with("GET /v2/ ") {
            return http_response("200 OK", &[], b"");
        }
        let mut body = b"{\"schemaVersion\":2,\"annotations\":".to_vec();
        body.extend(std::iter::repeat_n(b'[', 10_000));
        body.extend(std::iter::repeat_n(b']', 10_000));
        body.push(b'}');
        let media = "Content-Type: application/vnd.oci.image.manifest.v1+json".to_string();
        http_response("200 OK", &[media], &body)
    });
    let p = Project::new();
    let host = format!("127.0.0.1:{port}");
    let target = format!("docker://{host}/app:1");
    let run = run_bounded(p.path(), &["check", "--insecure-registry", &host, &target]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.peak_kib < MEMORY_BOUND_KIB, "peak {} KiB", run.peak_kib);
}

/// Whatever panics is a bug, reported as one: exit 2, where it happened, and nothing of the
/// panic's message (which may hold input).
#[test]
fn a_panic_is_exit_2_with_a_short_message_and_no_data() {
    let output = Command::new(binary())
        .args(["rules"])
        .env("PORTCULLIS_TEST_PANIC", "1")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("internal error"), "{stderr}");
    assert!(stderr.contains("please report it"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
    assert!(!stderr.contains("stack backtrace"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[derive(Debug, Clone, Copy)]
enum Compression {
    Gzip,
    Zstd,
}

/// Writes an OCI layout at `dir` of one image, tagged `big`, whose one layer is the tar of one
/// file of `zeros` zero bytes, compressed as it is generated: the zeros are never written nor
/// held, only the compressed blob (per GiB: zstd some 32 KiB, gzip some 1 MiB). Returns the
/// layer's digest.
fn zeros_layout(dir: &Path, zeros: u64, compression: Compression) -> String {
    let mut header = tar::Header::new_gnu();
    header.set_path("zeros").expect("path");
    header.set_size(zeros);
    header.set_mode(0o644);
    header.set_cksum();
    // The file's data, its padding to 512 bytes and the two zero blocks that end a tar.
    let tail = zeros + (512 - zeros % 512) % 512 + 1024;
    let mut layer = Hashed {
        inner: std::io::Cursor::new(header.as_bytes().to_vec())
            .chain(std::io::repeat(0).take(tail)),
        hasher: sha2::Sha256::new(),
    };
    let (blob, media_type) = match compression {
        Compression::Gzip => {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            std::io::copy(&mut layer, &mut encoder).expect("gzip");
            (
                encoder.finish().expect("gzip"),
                "application/vnd.oci.image.layer.v1.tar+gzip",
            )
        }
        Compression::Zstd => {
            let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), 3).expect("zstd");
            std::io::copy(&mut layer, &mut encoder).expect("zstd");
            (
                encoder.finish().expect("zstd"),
                "application/vnd.oci.image.layer.v1.tar+zstd",
            )
        }
    };
    let hex: String = layer
        .hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let diff_id = format!("sha256:{hex}");
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).expect("mkdir");
    let put = |bytes: &[u8]| {
        let digest = Digest::sha256_of(bytes);
        std::fs::write(blobs.join(digest.hex()), bytes).expect("write blob");
        (digest.to_string(), bytes.len())
    };
    let (layer_digest, layer_size) = put(&blob);
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux", "config": {"User": "app"},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    });
    let (config_digest, config_size) = put(config.to_string().as_bytes());
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": media_type, "digest": layer_digest, "size": layer_size}],
    });
    let (manifest_digest, manifest_size) = put(manifest.to_string().as_bytes());
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": manifest_digest, "size": manifest_size,
                       "annotations": {"org.opencontainers.image.ref.name": "big"}}],
    });
    std::fs::write(dir.join("index.json"), index.to_string()).expect("index");
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).expect("layout");
    layer_digest
}

/// A reader that hashes what passes.
struct Hashed<R> {
    inner: R,
    hasher: sha2::Sha256,
}

impl<R: Read> Read for Hashed<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(out)?;
        self.hasher.update(&out[..n]);
        Ok(n)
    }
}

/// A policy that reads layers (the secret rule), at most 1 GiB uncompressed a layer.
const ONE_GIB_LAYERS: &str =
    "version: 1\nextends: none\nrules:\n  secret-in-layer: on\nlayers:\n  max_layer_bytes: 1073741824\n";

#[test]
fn a_2_gib_decompression_bomb_is_refused_at_the_layer_limit() {
    for compression in [Compression::Zstd, Compression::Gzip] {
        let p = Project::new().file("policy.yaml", ONE_GIB_LAYERS);
        let layout = p.path().join("layout");
        let digest = zeros_layout(&layout, 2 << 30, compression);
        let blob = std::fs::metadata(layout.join("blobs/sha256").join(&digest[7..]))
            .expect("blob")
            .len();
        assert!(blob < 4 << 20, "{compression:?}: a {blob}-byte blob");
        let target = format!("oci:{}:big", layout.display());
        let run = run_bounded(p.path(), &["check", "--policy", "policy.yaml", &target]);
        assert_eq!(run.code, 3, "{compression:?}: {}", run.stderr);
        assert!(
            run.stderr.contains(&format!("layer 0 ({digest})"))
                && run.stderr.contains("`layers: max_layer_bytes`")
                && run.stderr.contains("1073741824-byte limit"),
            "{compression:?}: {}",
            run.stderr
        );
        assert!(
            run.peak_kib < 100 * 1024,
            "{compression:?}: peak {} KiB",
            run.peak_kib
        );
    }
}

#[test]
fn a_1_gib_layer_under_the_limit_is_read_in_bounded_memory() {
    let p = Project::new().file("policy.yaml", ONE_GIB_LAYERS);
    let layout = p.path().join("layout");
    // The tar (header, data, end) just under the limit.
    zeros_layout(&layout, (1 << 30) - 4096, Compression::Zstd);
    let target = format!("oci:{}:big", layout.display());
    let run = run_bounded(p.path(), &["check", "--policy", "policy.yaml", &target]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Streamed: the peak is buffers and windows, not the layer.
    assert!(run.peak_kib < 100 * 1024, "peak {} KiB", run.peak_kib);
}
