//! The test harness: a temporary project directory and the real `portcullis` binary.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A temporary directory with files, in which `portcullis` runs.
pub struct Project {
    dir: tempfile::TempDir,
}

/// What a run produced.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The JSON report on stdout.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// `(rule_id, line)` of every finding in the JSON report.
    pub fn findings(&self) -> Vec<(String, u64)> {
        self.json()["findings"]
            .as_array()
            .expect("findings array")
            .iter()
            .map(|f| {
                (
                    f["rule_id"].as_str().unwrap_or_default().to_string(),
                    f["location"]["line"].as_u64().unwrap_or(0),
                )
            })
            .collect()
    }

    /// The rule ids that fired, sorted and de-duplicated.
    pub fn rule_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.findings().into_iter().map(|(id, _)| id).collect();
        ids.sort();
        ids.dedup();
        ids
    }
}

impl Project {
    pub fn new() -> Self {
        Project {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file (parents created) and returns the project for chaining.
    pub fn file(self, name: &str, content: &str) -> Self {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&path, content).expect("write");
        self
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name))
            .unwrap_or_else(|e| panic!("read {name}: {e}"))
    }

    /// Runs `portcullis ARGS` in the project directory.
    pub fn run(&self, args: &[&str]) -> Run {
        run_in(self.dir.path(), args)
    }
}

/// Runs the binary with `args` in `dir`, without colour or inherited policy variables.
pub fn run_in(dir: &Path, args: &[&str]) -> Run {
    let output = Command::new(binary())
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run portcullis");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_portcullis"))
}

/// The shared corpus of real-world Dockerfiles (`../shared/corpus` beside the repository),
/// or `PORTCULLIS_CORPUS`. Its absence is a failure, never a silent skip.
pub fn corpus_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PORTCULLIS_CORPUS") {
        return PathBuf::from(dir);
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    assert!(
        dir.is_dir(),
        "the Dockerfile corpus is missing at {}: check out the shared corpus beside the \
         repository or set PORTCULLIS_CORPUS to a directory of Dockerfiles",
        dir.display()
    );
    dir
}

/// Finds an external tool on PATH, or fails with how to install it.
pub fn require_tool(name: &str, install: &str) -> PathBuf {
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!("`{name}` is required by this test but is not on PATH; install it with: {install} (tests/run.sh does this)");
}

/// A minimal HTTP/1.1 server on loopback for faults a real registry cannot produce (a lying
/// digest, a pathological body): `reply` gets the request line and returns the whole
/// response. A TLS handshake (the HTTPS probe `--insecure-registry` makes first) is hung up
/// on at once, as a plain-HTTP registry's port would. Runs until the test process ends.
pub fn http_server(reply: fn(&str) -> Vec<u8>) -> u16 {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut first = [0u8; 1];
                if stream.peek(&mut first).is_err() || first[0] == 0x16 {
                    return;
                }
                let mut reader = BufReader::new(&stream);
                let mut request = String::new();
                let _ = reader.read_line(&mut request);
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let _ = (&stream).write_all(&reply(&request));
            });
        }
    });
    port
}

/// An HTTP response with `headers` (each `Name: value`) and `body`.
pub fn http_response(status: &str, headers: &[String], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\n");
    for header in headers {
        out.push_str(header);
        out.push_str("\r\n");
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}
