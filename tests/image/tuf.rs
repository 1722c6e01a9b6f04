//! A fake Notary for faults a real one cannot produce: `tests/trust/tuf.py` writes a Notary
//! TUF repository for one GUN (an expired timestamp, say) and serves it over HTTPS on loopback.
//! The script shares no code with portcullis; the real `notary` client accepts what it writes
//! (tests/images/notary.rs).

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use super::notary::make_ec_certificates;
use super::tools::Certificates;

/// The interpreter `python3` names, resolved once: a version-manager shim (pyenv) costs 0.2 s
/// per start, and a test writes several repositories.
fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let output = Command::new("python3")
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .unwrap_or_else(|e| panic!("python3 is needed for the Notary tests ({e})"));
        let path = String::from_utf8_lossy(&output.stdout).trim().to_string();
        if output.status.success() && !path.is_empty() {
            PathBuf::from(path)
        } else {
            PathBuf::from("python3")
        }
    })
}

/// `tests/trust/tuf.py`.
pub fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/trust/tuf.py")
}

/// `python3 tests/trust/tuf.py write ARGS` (`--gun G --out DIR [--target [ROLE:]TAG=HEX:SIZE]…
/// [--expire ROLE]… [--keys DIR]`); its JSON summary (also in `OUT/repo.json`).
pub fn write(args: &[&str]) -> serde_json::Value {
    let output = Command::new(python())
        .arg(script())
        .arg("write")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} ({e})", python().display()));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("No module named 'cryptography'"),
        "tests/trust/tuf.py needs Python's `cryptography`: `python3 -m pip install cryptography` \
         (tests/run.sh installs it)"
    );
    assert!(
        output.status.success(),
        "tuf.py write {args:?} failed: {stderr}"
    );
    serde_json::from_slice(&output.stdout).expect("tuf.py prints JSON")
}

/// `tuf.py serve --dir DIR` on a free loopback port with a throwaway CA's certificate, killed
/// when dropped. It reads the files on every request: rewrite DIR to change what it serves.
pub struct TufServer {
    child: Child,
    certificates: Certificates,
    log: PathBuf,
    _dir: tempfile::TempDir,
    pub port: u16,
}

impl TufServer {
    pub fn start(repository: &Path) -> TufServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let certificates = make_ec_certificates(dir.path());
        let log = dir.path().join("tuf-serve.log");
        let mut child = Command::new(python())
            .arg(script())
            .arg("serve")
            .arg("--dir")
            .arg(repository)
            .arg("--cert")
            .arg(&certificates.cert)
            .arg("--key")
            .arg(&certificates.key)
            .args(["--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("start tuf.py serve");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        let _ = std::io::BufReader::new(stdout).read_line(&mut line);
        let Ok(port) = line.trim().parse() else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "tuf.py serve did not print its port:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        };
        TufServer {
            child,
            certificates,
            log,
            _dir: dir,
            port,
        }
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// The CA PEM that signed the server certificate.
    pub fn ca(&self) -> &Path {
        &self.certificates.ca
    }

    /// The requests it served, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for TufServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
