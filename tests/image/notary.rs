//! A real Notary v1 (Docker Content Trust) for tests: Debian's `notary-signer` and
//! `notary-server` 0.7 on free loopback ports, in-memory storage, killed when dropped, and a
//! [`NotaryClient`] that publishes trust data with the real `notary` CLI.
//!
//! Set-up, as a production deployment has it: the server asks the signer for the timestamp key
//! and timestamp signatures over gRPC with mutual TLS (the signer refuses clients without a
//! certificate from its CA), and serves HTTPS. One throwaway CA ([`Notary::ca`]) signs the
//! server certificate for `IP:127.0.0.1` that both the signer and the server present, and the
//! server's client certificate. All ECDSA P-256 made with openssl: three runs, about 20 ms (an
//! RSA key alone takes 0.3 s to generate). No `trust_service: local` fallback was needed.
//!
//! What notary-server 0.7 serves, under `/v2/<gun>/_trust/tuf/` (checked by the smoke tests in
//! tests/images/notary.rs):
//! * `root.json`, `targets.json`, `snapshot.json`, `timestamp.json`, and `targets/<name>.json`
//!   for each delegation that has published metadata;
//! * **versioned roots** `<N>.root.json` (any role takes `<N>.` — the route is
//!   `{version}.{role}.json`): after one root rotation both `1.root.json` and `2.root.json` are
//!   served and `root.json` equals `2.root.json`; `3.root.json` is 404. This is what the Notary
//!   client walks when its cached root is older than the served one;
//! * consistent names `<role>.<sha256 hex>.json` (also sha512), which the client uses for
//!   snapshot and targets once it knows their hashes;
//! * `timestamp.key` / `snapshot.key` (GET creates the server-managed key on first use).
//!
//! What `notary init -p` then `publish` writes (this harness's set-up, key_algorithm ecdsa):
//! * root: one key of keytype `ecdsa-x509` — `keyval.public` is base64 of a PEM, self-signed
//!   certificate with CN = the GUN, valid 10 years, not a CA — held by the client;
//! * targets and snapshot: keytype `ecdsa`, `keyval.public` = base64 of the PKIX (SPKI) DER,
//!   held by the client (`-p` publishes with a local snapshot key);
//! * timestamp: keytype `ecdsa`, held by notary-signer (server-managed);
//! * delegations (`targets/releases`): the `ecdsa-x509` certificate given to
//!   `notary delegation add`, listed in targets.json's `delegations.keys`;
//! * every signature has `method: "ecdsa"` and is raw `r || s` (64 bytes) over SHA-256 of the
//!   canonical JSON of `signed`; `hashes` are base64; `notary add` records sha256 and sha512,
//!   `notary addhash --sha256` (like `docker trust sign`) only sha256.
//!
//! Key ids: a key's TUF id is the hex SHA-256 of the canonical JSON of
//! `{"keytype":…,"keyval":{"private":null,"public":…}}`. For an `ecdsa-x509` root key that is
//! the id root.json uses (and what the client config's `trust_pinning.certs` pins), computed over
//! the *certificate*. `notary key list` and `notary delegation add` print another id, Notary's
//! "canonical" id (`utils.CanonicalKeyID`): the id of the same public key as a plain `ecdsa`
//! key, i.e. hex SHA-256 of `{"keytype":"ecdsa","keyval":{"private":null,"public":"<base64
//! SPKI DER>"}}`. [`NotaryClient::root_key_id`] computes that from the certificate and checks
//! that `notary key list` prints it; [`NotaryClient::root_x509_key_id`] is root.json's.
//! `notary key list` shows no GUN for root keys (they are not tied to one repository).

use std::net::{Ipv4Addr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use super::registry::free_port;
use super::tools::{self, Certificates};

/// The signer's key-encryption passphrase alias (`storage.default_alias`), and its value in
/// `NOTARY_SIGNER_<ALIAS>`. The memory store ignores it (notary-signer gives it a constant
/// retriever); it is set so the configuration is the one a database-backed signer needs.
const SIGNER_ALIAS: &str = "portcullis";
const SIGNER_PASSPHRASE: &str = "portcullis-signer-passphrase";

/// A running notary-signer + notary-server pair.
pub struct Notary {
    signer: Child,
    server: Child,
    dir: tempfile::TempDir,
    pub port: u16,
    ca: PathBuf,
}

impl Notary {
    /// Starts the signer, then the server (which dials the signer), and returns once both
    /// accept connections: about 70 ms on an idle machine, certificates included.
    pub fn start() -> Notary {
        for tool in ["notary-signer", "notary-server", "openssl"] {
            tools::require(tool);
        }
        let dir = tempfile::tempdir().expect("temp dir");
        // One CA: its server certificate serves HTTPS and the signer's gRPC, its client
        // certificate is the server's to the signer, which requires one.
        let pki = dir.path().join("pki");
        let certificates = make_ec_certificates(&pki);
        let (client_cert, client_key) = issue(&pki, "notary-server-client", "clientAuth");
        // A free port can be taken between probing and binding: try a few.
        let mut last_log = String::new();
        for _ in 0..3 {
            let (signer_port, server_port) = (free_port(), free_port());
            let signer_config = serde_json::json!({
                "server": {
                    "grpc_addr": format!("127.0.0.1:{signer_port}"),
                    "tls_cert_file": certificates.cert,
                    "tls_key_file": certificates.key,
                    "client_ca_file": certificates.ca,
                },
                "logging": {"level": "info"},
                "storage": {"backend": "memory", "default_alias": SIGNER_ALIAS},
            });
            let server_config = serde_json::json!({
                "server": {
                    "http_addr": format!("127.0.0.1:{server_port}"),
                    "tls_cert_file": certificates.cert,
                    "tls_key_file": certificates.key,
                },
                "trust_service": {
                    "type": "remote",
                    "hostname": "127.0.0.1",
                    "port": signer_port.to_string(),
                    "key_algorithm": "ecdsa",
                    "tls_ca_file": certificates.ca,
                    "tls_client_cert": client_cert,
                    "tls_client_key": client_key,
                },
                "logging": {"level": "info"},
                "storage": {"backend": "memory"},
            });
            let signer = spawn(dir.path(), "notary-signer", &signer_config);
            let mut signer = Process(Some(signer));
            if !wait_until_listening(&mut signer, signer_port) {
                last_log = read_logs(dir.path());
                continue;
            }
            let mut server = Process(Some(spawn(dir.path(), "notary-server", &server_config)));
            if !wait_until_listening(&mut server, server_port) {
                last_log = read_logs(dir.path());
                continue;
            }
            return Notary {
                signer: signer.take(),
                server: server.take(),
                dir,
                port: server_port,
                ca: certificates.ca,
            };
        }
        panic!("notary did not start listening:\n{last_log}");
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// The CA PEM that signed the server's HTTPS certificate.
    pub fn ca(&self) -> &Path {
        &self.ca
    }

    /// What the signer and the server logged, for failure messages.
    pub fn log(&self) -> String {
        read_logs(self.dir.path())
    }

    /// A client with its own trust directory, talking to this server.
    pub fn client(&self) -> NotaryClient {
        NotaryClient::new(&self.url(), &self.ca)
    }

    /// `GET /v2/<gun>/_trust/tuf/<name>` (e.g. `root.json`, `2.root.json`,
    /// `targets/releases.json`) with curl: the body, or `None` on 404.
    pub fn get(&self, gun: &str, name: &str) -> Option<Vec<u8>> {
        curl_get(
            &format!("{}/v2/{gun}/_trust/tuf/{name}", self.url()),
            &self.ca,
        )
    }

    /// [`Notary::get`] as JSON; panics with the server's log when it is not served.
    pub fn get_json(&self, gun: &str, name: &str) -> serde_json::Value {
        let body = self
            .get(gun, name)
            .unwrap_or_else(|| panic!("{name} of {gun} is not served:\n{}", self.log()));
        serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"))
    }
}

impl Drop for Notary {
    fn drop(&mut self) {
        for child in [&mut self.server, &mut self.signer] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A child killed when dropped, until taken.
struct Process(Option<Child>);

impl Process {
    fn take(&mut self) -> Child {
        self.0.take().expect("a running child")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Starts `program -config DIR/<program>.json`, logging to `DIR/<program>.log`, with no
/// `NOTARY_*` variable of the caller's (notary reads its configuration from the environment
/// too) but the signer's passphrase.
fn spawn(dir: &Path, program: &str, config: &serde_json::Value) -> Child {
    let config_path = dir.join(format!("{program}.json"));
    std::fs::write(&config_path, config.to_string()).expect("write notary config");
    let log = std::fs::File::create(dir.join(format!("{program}.log"))).expect("log file");
    let mut command = Command::new(program);
    command
        .arg("-config")
        .arg(&config_path)
        .arg("-logf")
        .arg("logfmt")
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log file"))
        .stderr(log);
    without_notary_env(&mut command);
    command.env(
        format!("NOTARY_SIGNER_{}", SIGNER_ALIAS.to_uppercase()),
        SIGNER_PASSPHRASE,
    );
    command
        .spawn()
        .unwrap_or_else(|e| panic!("start {program}: {e}"))
}

fn without_notary_env(command: &mut Command) {
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("NOTARY_") {
            command.env_remove(name);
        }
    }
}

fn wait_until_listening(process: &mut Process, port: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    let Some(child) = process.0.as_mut() else {
        return false;
    };
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

fn read_logs(dir: &Path) -> String {
    ["notary-signer", "notary-server"]
        .iter()
        .map(|program| {
            let log = std::fs::read_to_string(dir.join(format!("{program}.log")));
            format!("--- {program}:\n{}", log.unwrap_or_default())
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `curl --cacert CA URL` (no proxy): the body, or `None` on 404; panics on anything else.
pub fn curl_get(url: &str, ca: &Path) -> Option<Vec<u8>> {
    tools::require("curl");
    let output = Command::new("curl")
        .args([
            "-sS",
            "--noproxy",
            "*",
            "--max-time",
            "10",
            "-w",
            "\n%{http_code}",
        ])
        .arg("--cacert")
        .arg(ca)
        .arg(url)
        .output()
        .expect("run curl");
    assert!(
        output.status.success(),
        "curl {url} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut body = output.stdout;
    let split = body
        .iter()
        .rposition(|&b| b == b'\n')
        .expect("curl wrote the status");
    let status = String::from_utf8_lossy(&body[split + 1..]).to_string();
    body.truncate(split);
    match status.as_str() {
        "200" => Some(body),
        "404" => None,
        _ => panic!(
            "GET {url}: HTTP {status}: {}",
            String::from_utf8_lossy(&body)
        ),
    }
}

/// A throwaway ECDSA P-256 CA in `dir` and a server certificate for `IP:127.0.0.1` (three
/// openssl runs, about 20 ms; an RSA key alone takes 0.3 s to generate).
#[rustfmt::skip]
pub fn make_ec_certificates(dir: &Path) -> Certificates {
    std::fs::create_dir_all(dir).expect("certificate dir");
    let p = |name: &str| dir.join(name).to_string_lossy().to_string();
    tools::run(
        "openssl",
        &[
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-days", "2", "-keyout", &p("ca.key"), "-out", &p("ca.pem"),
            "-subj", "/CN=portcullis test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    let (cert, key) = issue(dir, "server", "serverAuth");
    Certificates { ca: dir.join("ca.pem"), cert, key }
}

/// A P-256 certificate for `IP:127.0.0.1` with extended key usage `usage` (`serverAuth`,
/// `clientAuth`), signed by the CA of [`make_ec_certificates`] in `dir`:
/// (`<name>.pem`, `<name>.key`).
#[rustfmt::skip]
pub fn issue(dir: &Path, name: &str, usage: &str) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join(format!("{name}.pem")), dir.join(format!("{name}.key")));
    let p = |path: &Path| path.to_string_lossy().to_string();
    tools::run(
        "openssl",
        &[
            "req", "-x509", "-CA", &p(&dir.join("ca.pem")), "-CAkey", &p(&dir.join("ca.key")),
            "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
            "-keyout", &p(&key), "-out", &p(&cert), "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
            "-addext", "basicConstraints=critical,CA:FALSE",
            "-addext", "keyUsage=critical,digitalSignature",
            "-addext", &format!("extendedKeyUsage={usage}"),
        ],
    );
    (cert, key)
}

/// A delegation signer's key pair: a P-256 PKCS#8 key and a self-signed, non-CA certificate
/// valid ten years (Notary warns about certificates that expire within six months).
#[derive(Debug, Clone)]
pub struct DelegationKey {
    pub key: PathBuf,
    pub cert: PathBuf,
}

impl DelegationKey {
    /// Makes `DIR/<name>.key` and `DIR/<name>.pem` (CN = `name`) with openssl.
    #[rustfmt::skip]
    pub fn generate(dir: &Path, name: &str) -> DelegationKey {
        let key = dir.join(format!("{name}.key"));
        let cert = dir.join(format!("{name}.pem"));
        tools::run(
            "openssl",
            &[
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-days", "3650", "-keyout", &key.to_string_lossy(), "-out", &cert.to_string_lossy(),
                "-subj", &format!("/CN={name}"),
                "-addext", "basicConstraints=critical,CA:FALSE",
                "-addext", "keyUsage=critical,digitalSignature",
                "-addext", "extendedKeyUsage=codeSigning",
            ],
        );
        DelegationKey { key, cert }
    }

    /// The certificate PEM.
    pub fn cert_pem(&self) -> String {
        std::fs::read_to_string(&self.cert).expect("read delegation certificate")
    }
}

/// Which target paths a delegation may sign.
#[derive(Debug, Clone, Copy)]
pub enum Paths<'a> {
    /// `--all-paths` (recorded as the one path prefix `""`).
    All,
    /// `--paths P` for each prefix.
    Prefixes(&'a [&'a str]),
}

/// The passphrases the client encrypts its keys with, given through the environment so that
/// nothing is read from a terminal (`NOTARY_<ROLE>_PASSPHRASE`; delegations share one).
const PASSPHRASES: &[(&str, &str)] = &[
    ("NOTARY_ROOT_PASSPHRASE", "portcullis-root"),
    ("NOTARY_TARGETS_PASSPHRASE", "portcullis-targets"),
    ("NOTARY_SNAPSHOT_PASSPHRASE", "portcullis-snapshot"),
    ("NOTARY_DELEGATION_PASSPHRASE", "portcullis-delegation"),
];

/// The real `notary` CLI with one trust directory (in a temporary directory, removed on drop),
/// run as `notary -c CONFIG -s URL --tlscacert CA -d TRUSTDIR …`.
pub struct NotaryClient {
    dir: tempfile::TempDir,
    url: String,
    ca: PathBuf,
}

impl NotaryClient {
    /// A client of the Notary server at `url` whose HTTPS certificate `ca` signed.
    pub fn new(url: &str, ca: &Path) -> NotaryClient {
        tools::require("notary");
        let client = NotaryClient {
            dir: tempfile::tempdir().expect("temp dir"),
            url: url.to_string(),
            ca: ca.to_path_buf(),
        };
        client.set_config(&serde_json::json!({}));
        client
    }

    /// The trust directory (`-d`): `private/` keys, `tuf/<gun>/metadata/` cached metadata.
    pub fn trust_dir(&self) -> PathBuf {
        self.dir.path().join("trust")
    }

    /// Replaces the client configuration (`-c`), e.g.
    /// `{"trust_pinning": {"certs": {GUN: [ID]}, "disable_tofu": true}}`; `-s`, `--tlscacert`
    /// and `-d` on the command line override its `remote_server` and `trust_dir`.
    pub fn set_config(&self, config: &serde_json::Value) {
        std::fs::write(self.dir.path().join("config.json"), config.to_string())
            .expect("write notary client config");
    }

    /// Runs `notary ARGS` with `input` on stdin; the output, whatever the exit status.
    pub fn try_run(&self, args: &[&str], input: &str) -> Output {
        use std::io::Write as _;
        let mut command = Command::new("notary");
        command
            .arg("-c")
            .arg(self.dir.path().join("config.json"))
            .arg("-s")
            .arg(&self.url)
            .arg("--tlscacert")
            .arg(&self.ca)
            .arg("-d")
            .arg(self.trust_dir())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        without_notary_env(&mut command);
        command.envs(PASSPHRASES.iter().copied());
        let mut child = command.spawn().expect("run notary");
        let mut stdin = child.stdin.take().expect("notary stdin");
        // notary exits without reading stdin in most commands: a failed write is not an error.
        let _ = stdin.write_all(input.as_bytes());
        drop(stdin);
        child.wait_with_output().expect("wait for notary")
    }

    /// Runs `notary ARGS` (empty stdin); its stdout. Panics with its output when it fails.
    pub fn run(&self, args: &[&str]) -> String {
        self.run_with_input(args, "")
    }

    /// [`NotaryClient::run`] with `input` on stdin.
    pub fn run_with_input(&self, args: &[&str], input: &str) -> String {
        let output = self.try_run(args, input);
        assert!(
            output.status.success(),
            "notary {} failed ({}):\n{}\n{}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// `notary init -p GUN`: new root, targets and snapshot keys (the timestamp key is the
    /// server's), published at version 1.
    pub fn init_publish(&self, gun: &str) {
        self.run(&["init", "-p", gun]);
    }

    /// Stages `notary add GUN TAG FILE` with `content` as the file (notary records its sha256,
    /// sha512 and length). For an image tag, `content` must be the manifest bytes.
    pub fn add(&self, gun: &str, tag: &str, content: &[u8], roles: &[&str]) {
        let file = tempfile::NamedTempFile::new_in(self.dir.path()).expect("temp file");
        std::fs::write(file.path(), content).expect("write target");
        self.add_file(gun, tag, file.path(), roles);
    }

    /// Stages `notary add GUN TAG PATH [--roles R]…`.
    pub fn add_file(&self, gun: &str, tag: &str, path: &Path, roles: &[&str]) {
        let path = path.to_string_lossy();
        let mut args = vec!["add", gun, tag, &path];
        push_roles(&mut args, roles);
        self.run(&args);
    }

    /// Stages `notary addhash GUN TAG SIZE --sha256 HEX [--roles R]…`: what `docker trust sign`
    /// records for an image (the manifest's digest and size, sha256 only).
    pub fn add_hash(&self, gun: &str, tag: &str, size: u64, sha256_hex: &str, roles: &[&str]) {
        let size = size.to_string();
        let mut args = vec!["addhash", gun, tag, &size, "--sha256", sha256_hex];
        push_roles(&mut args, roles);
        self.run(&args);
    }

    /// `notary publish GUN`: signs and uploads everything staged.
    pub fn publish(&self, gun: &str) {
        self.run(&["publish", gun]);
    }

    /// `notary key import KEY --role ROLE` (PEM, PKCS#8 or encrypted; stored encrypted with the
    /// role's passphrase). A delegation's signer needs its key imported to publish into it.
    pub fn import_key(&self, key: &Path, role: &str) {
        self.run(&["key", "import", &key.to_string_lossy(), "--role", role]);
    }

    /// Stages `notary delegation add GUN ROLE CERT (--all-paths | --paths P…)`.
    pub fn delegation_add(&self, gun: &str, role: &str, cert: &Path, paths: Paths) {
        let cert = cert.to_string_lossy();
        let mut args = vec!["delegation", "add", gun, role, &cert];
        match paths {
            Paths::All => args.push("--all-paths"),
            Paths::Prefixes(prefixes) => {
                for prefix in prefixes {
                    args.extend_from_slice(&["--paths", prefix]);
                }
            }
        }
        self.run(&args);
    }

    /// A new delegation signer for `role` (e.g. `targets/releases`, Docker's signer role):
    /// generates its key and certificate, imports the key, adds the delegation for all paths
    /// and publishes. Targets then go into it with `roles: &[role]`.
    pub fn add_delegation_signer(&self, gun: &str, role: &str) -> DelegationKey {
        let name = role.rsplit('/').next().unwrap_or(role);
        let key = DelegationKey::generate(self.dir.path(), name);
        self.import_key(&key.key, role);
        self.delegation_add(gun, role, &key.cert, Paths::All);
        self.publish(gun);
        key
    }

    /// `notary key rotate GUN root` (confirmed with `yes` on stdin: it asks, and exits 0 when
    /// it aborts): a new root key and certificate, root.json version N+1 signed by the old and
    /// the new key, published at once and kept in `keys` beside the old one. Then
    /// `notary list GUN` refreshes the cached root.json (rotation does not), so
    /// [`NotaryClient::root_cert_pem`] is the new certificate; the old root stays served as
    /// `<N>.root.json`.
    pub fn rotate_root(&self, gun: &str) {
        let out = self.run_with_input(&["key", "rotate", gun, "root"], "yes\n");
        assert!(
            out.contains("Successfully rotated root key"),
            "root rotation did not happen:\n{out}"
        );
        self.run(&["list", gun]);
    }

    /// `notary lookup GUN TAG` (the `--roles`-less lookup Docker does). notary prints its
    /// `* fatal: …` errors on stdout: read both with [`said`].
    pub fn lookup(&self, gun: &str, tag: &str) -> Output {
        self.try_run(&["lookup", gun, tag], "")
    }

    /// `<trustdir>/tuf/<gun>/metadata/root.json`: the root this client trusts for `gun`.
    pub fn cached_root_json(&self, gun: &str) -> PathBuf {
        self.trust_dir()
            .join("tuf")
            .join(gun)
            .join("metadata")
            .join("root.json")
    }

    fn cached_root(&self, gun: &str) -> serde_json::Value {
        let path = self.cached_root_json(gun);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        serde_json::from_slice(&bytes).expect("root.json is JSON")
    }

    /// The id root.json gives the current root key (an `ecdsa-x509` key: the id over the
    /// certificate), which `trust_pinning.certs` pins.
    pub fn root_x509_key_id(&self, gun: &str) -> String {
        let root = self.cached_root(gun);
        let ids = root["signed"]["roles"]["root"]["keyids"]
            .as_array()
            .expect("root role key ids");
        assert_eq!(ids.len(), 1, "one root key expected: {root}");
        ids[0].as_str().expect("key id").to_string()
    }

    /// The current root certificate (PEM), the one to pin: the root role's key in the cached
    /// root.json, whose `keyval.public` is base64 of the PEM.
    pub fn root_cert_pem(&self, gun: &str) -> String {
        let root = self.cached_root(gun);
        let id = self.root_x509_key_id(gun);
        let key = &root["signed"]["keys"][&id];
        assert_eq!(key["keytype"], "ecdsa-x509", "{key}");
        let pem = base64::engine::general_purpose::STANDARD
            .decode(key["keyval"]["public"].as_str().expect("public key"))
            .expect("base64 certificate");
        String::from_utf8(pem).expect("PEM certificate")
    }

    /// The root key id as `notary key list` prints it: Notary's canonical id, the id of the
    /// certificate's public key as a plain `ecdsa` key (see the module docs). Computed from
    /// [`NotaryClient::root_cert_pem`] and checked against `notary key list` (so only for a
    /// client that holds the root key: one that published, not one that only looked up).
    pub fn root_key_id(&self, gun: &str) -> String {
        let pem = self.root_cert_pem(gun);
        let id = canonical_key_id(&pem, self.dir.path());
        let listed = self.key_list();
        assert!(
            listed
                .iter()
                .any(|(role, _, key)| role == "root" && *key == id),
            "`notary key list` does not show root key {id}: {listed:?}"
        );
        id
    }

    /// `notary key list` as (role, gun, key id) rows; root keys have no GUN.
    pub fn key_list(&self) -> Vec<(String, String, String)> {
        self.run(&["key", "list"])
            .lines()
            .filter_map(|line| {
                let cells: Vec<&str> = line.split_whitespace().collect();
                let is_id = |s: &str| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit());
                match cells.as_slice() {
                    [role, gun, id, _location] if is_id(id) => {
                        Some((role.to_string(), gun.to_string(), id.to_string()))
                    }
                    [role, id, _location] if is_id(id) => {
                        Some((role.to_string(), String::new(), id.to_string()))
                    }
                    _ => None,
                }
            })
            .collect()
    }
}

/// What a `notary` run printed, stdout then stderr (it reports fatal errors on stdout).
pub fn said(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn push_roles<'a>(args: &mut Vec<&'a str>, roles: &[&'a str]) {
    for role in roles {
        args.extend_from_slice(&["--roles", role]);
    }
}

/// Notary's canonical key id of a certificate's public key (`utils.CanonicalKeyID`): hex
/// SHA-256 of `{"keytype":"ecdsa","keyval":{"private":null,"public":"<base64 SPKI DER>"}}`.
/// The SPKI comes from openssl, not from the code under test.
pub fn canonical_key_id(cert_pem: &str, scratch: &Path) -> String {
    let cert = tempfile::NamedTempFile::new_in(scratch).expect("temp file");
    std::fs::write(cert.path(), cert_pem).expect("write certificate");
    let public = tools::run(
        "openssl",
        &[
            "x509",
            "-in",
            &cert.path().to_string_lossy(),
            "-noout",
            "-pubkey",
        ],
    )
    .stdout;
    std::fs::write(cert.path(), public).expect("write public key");
    let der = tools::run(
        "openssl",
        &[
            "pkey",
            "-pubin",
            "-in",
            &cert.path().to_string_lossy(),
            "-outform",
            "DER",
        ],
    )
    .stdout;
    let public = base64::engine::general_purpose::STANDARD.encode(der);
    let canonical =
        format!(r#"{{"keytype":"ecdsa","keyval":{{"private":null,"public":"{public}"}}}}"#);
    hex(&Sha256::digest(canonical.as_bytes()))
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
