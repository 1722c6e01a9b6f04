//! A real registry for tests: Debian's `docker-registry` (distribution 2.x) on a free loopback
//! port, storing into a temporary directory, killed when dropped.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::tools::{self, Certificates};

/// How the registry is set up.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// `htpasswd` basic auth with this user and password.
    pub basic_auth: Option<(String, String)>,
    /// Serve HTTPS with a throwaway CA's certificate.
    pub tls: bool,
}

pub struct Registry {
    child: Child,
    dir: tempfile::TempDir,
    pub port: u16,
    /// `127.0.0.1:PORT`.
    pub host: String,
    /// The CA that signed the server certificate, when serving TLS.
    pub ca: Option<PathBuf>,
    pub credentials: Option<(String, String)>,
}

impl Registry {
    pub fn start(config: Config) -> Registry {
        tools::require("docker-registry");
        let mut dir = tempfile::tempdir().expect("temp dir");
        let certificates = config.tls.then(|| tools::make_certificates(dir.path()));
        if let Some((user, password)) = &config.basic_auth {
            tools::htpasswd(&dir.path().join("htpasswd"), user, password);
        }
        // A free port can be taken between probing and binding: try a few.
        let mut last_log = String::new();
        for _ in 0..3 {
            let port = free_port();
            let config_path = dir.path().join("config.yml");
            std::fs::write(
                &config_path,
                config_yaml(&dir, port, &config, certificates.as_ref()),
            )
            .expect("write registry config");
            let log = std::fs::File::create(dir.path().join("registry.log")).expect("log file");
            let child = Command::new("docker-registry")
                .arg("serve")
                .arg(&config_path)
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log file"))
                .stderr(log)
                .spawn()
                .expect("start docker-registry");
            let mut registry = Registry {
                child,
                port,
                host: format!("127.0.0.1:{port}"),
                ca: certificates.as_ref().map(|c| c.ca.clone()),
                credentials: config.basic_auth.clone(),
                dir,
            };
            if registry.wait_until_listening(Duration::from_secs(20)) {
                return registry;
            }
            last_log = registry.log();
            let _ = registry.child.kill();
            let _ = registry.child.wait();
            dir = std::mem::replace(&mut registry.dir, tempfile::tempdir().expect("temp dir"));
        }
        panic!("docker-registry did not start listening:\n{last_log}");
    }

    fn wait_until_listening(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_ok() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// What the registry logged, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// `docker://127.0.0.1:PORT/<path>`.
    pub fn target(&self, path: &str) -> String {
        format!("docker://{}/{path}", self.host)
    }

    /// `--dest-creds` for skopeo, if the registry wants them.
    pub fn skopeo_creds(&self) -> Vec<String> {
        match &self.credentials {
            Some((user, password)) => vec!["--dest-creds".into(), format!("{user}:{password}")],
            None => Vec::new(),
        }
    }

    /// Pushes `oci:LAYOUT:TAG` to `repo:tag` here (`extra`: e.g. `--format v2s2`).
    pub fn push(&self, layout: &std::path::Path, tag: &str, destination: &str, extra: &[&str]) {
        let creds = self.skopeo_creds();
        let mut args: Vec<&str> = creds.iter().map(String::as_str).collect();
        args.extend_from_slice(extra);
        tools::skopeo_copy(
            &format!("oci:{}:{tag}", layout.display()),
            &format!("docker://{}/{destination}", self.host),
            &args,
        );
    }

    /// The manifest of `repo:tag` as this registry serves it (`skopeo inspect --raw`).
    pub fn manifest(&self, reference: &str) -> Vec<u8> {
        tools::run(
            "skopeo",
            &[
                "--insecure-policy",
                "inspect",
                "--raw",
                "--tls-verify=false",
                &format!("docker://{}/{reference}", self.host),
            ],
        )
        .stdout
    }

    /// The scheme tests use to talk to this registry directly.
    pub fn base_url(&self) -> String {
        let scheme = if self.ca.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.host)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nobody listens on now (loopback).
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn config_yaml(
    dir: &tempfile::TempDir,
    port: u16,
    config: &Config,
    certificates: Option<&Certificates>,
) -> String {
    let root = dir.path().join("data");
    let mut yaml = format!(
        "version: 0.1\n\
         log:\n  level: warn\n  accesslog:\n    disabled: true\n\
         storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
         http:\n  addr: 127.0.0.1:{port}\n  secret: portcullis-test-secret\n",
        root.display()
    );
    if let Some(certificates) = certificates {
        let _ = write!(
            yaml,
            "  tls:\n    certificate: {}\n    key: {}\n",
            certificates.cert.display(),
            certificates.key.display()
        );
    }
    if config.basic_auth.is_some() {
        let _ = write!(
            yaml,
            "auth:\n  htpasswd:\n    realm: basic-realm\n    path: {}\n",
            dir.path().join("htpasswd").display()
        );
    }
    yaml
}
