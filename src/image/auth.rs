//! Registry credentials, found where Docker and podman keep them, and never printed.
//!
//! Lookup order for a registry (first hit wins):
//! 1. credentials given explicitly ([`AuthConfig::overrides`], e.g. from the command line);
//! 2. Docker's `$DOCKER_CONFIG/config.json` (or `~/.docker/config.json`): `credHelpers` for the
//!    registry, then an `auths` entry with credentials, then the `credsStore` helper;
//! 3. the containers (podman, skopeo) file: `$REGISTRY_AUTH_FILE`, else
//!    `$XDG_RUNTIME_DIR/containers/auth.json`, else `~/.config/containers/auth.json`.
//!
//! `auths` keys are matched as Docker and podman do: a URL's scheme and path are ignored
//! (`https://index.docker.io/v1/` is Docker Hub), and a key with a namespace (`quay.io/org`)
//! matches repositories under it, most specific first. Credential helpers are run as
//! `docker-credential-<name> get` with the server on standard input, under a time limit.
//!
//! [`Credential`] and [`Secret`] redact themselves in `Debug` and `Display`; no error built here
//! contains a secret (JSON errors are reduced to their position, helper output to its status).

use base64::Engine as _;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::error::ImageError;
use super::reference::DEFAULT_REGISTRY;

/// The key Docker stores Docker Hub credentials under (and passes to credential helpers).
pub const DOCKER_HUB_AUTH_KEY: &str = "https://index.docker.io/v1/";
/// Longest credentials file read.
const MAX_AUTH_FILE_BYTES: u64 = 4 * 1024 * 1024;
/// Longest a credential helper may take.
const HELPER_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest helper output read.
const MAX_HELPER_OUTPUT: u64 = 1024 * 1024;

/// A secret string: `Debug` and `Display` print `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for building a request. Never format it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// How to authenticate to a registry.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// A user name and password (or personal access token): HTTP Basic, or exchanged for a
    /// bearer token at the registry's token endpoint.
    Basic { username: String, password: Secret },
    /// An OAuth2 refresh token (`identitytoken` in Docker's config, or a helper's `<token>`
    /// user), exchanged for a bearer token.
    IdentityToken(Secret),
    /// A bearer token sent as is (`registrytoken`).
    BearerToken(Secret),
}

impl Credential {
    pub fn basic(username: impl Into<String>, password: impl Into<String>) -> Credential {
        Credential::Basic {
            username: username.into(),
            password: Secret::new(password),
        }
    }

    /// Parses `user:password`, as `--creds` takes it.
    pub fn from_user_password(input: &str) -> Result<Credential, String> {
        match input.split_once(':') {
            Some((user, password)) if !user.is_empty() => Ok(Credential::basic(user, password)),
            _ => Err("expected USER:PASSWORD".to_string()),
        }
    }

    pub fn username(&self) -> Option<&str> {
        match self {
            Credential::Basic { username, .. } => Some(username),
            _ => None,
        }
    }

    /// The secret part, so that error texts from servers can be scrubbed of it.
    pub(crate) fn secret(&self) -> &Secret {
        match self {
            Credential::Basic { password, .. } => password,
            Credential::IdentityToken(s) | Credential::BearerToken(s) => s,
        }
    }

    /// The same credential for `oci-client` (and so for `sigstore`'s registry access).
    pub fn to_registry_auth(&self) -> oci_client::secrets::RegistryAuth {
        use oci_client::secrets::RegistryAuth;
        match self {
            Credential::Basic { username, password } => {
                RegistryAuth::Basic(username.clone(), password.expose().to_string())
            }
            // oci-client has no refresh-token flow; a bearer token is the closest it has.
            Credential::IdentityToken(s) | Credential::BearerToken(s) => {
                RegistryAuth::Bearer(s.expose().to_string())
            }
        }
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
            Credential::IdentityToken(_) => f.write_str("IdentityToken(<redacted>)"),
            Credential::BearerToken(_) => f.write_str("BearerToken(<redacted>)"),
        }
    }
}

impl fmt::Display for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::Basic { username, .. } => write!(f, "user `{username}`"),
            Credential::IdentityToken(_) => f.write_str("an identity token"),
            Credential::BearerToken(_) => f.write_str("a registry token"),
        }
    }
}

/// A credential and where it came from (for messages: "user `ci` from ~/.docker/config.json").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub credential: Credential,
    pub origin: String,
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} from {}", self.credential, self.origin)
    }
}

/// Where credentials are looked up.
#[derive(Debug, Clone, Default)]
pub struct AuthConfig {
    /// Credentials by registry host (`127.0.0.1:5000`, `docker.io`), tried first.
    pub overrides: BTreeMap<String, Credential>,
    /// Docker-format files (`config.json`, then `auth.json`), in lookup order. Missing files are
    /// skipped; unreadable or malformed ones are errors.
    pub files: Vec<PathBuf>,
    /// Where to find `docker-credential-*` helpers, in `PATH` format; `None` uses `$PATH`.
    pub helper_search_path: Option<OsString>,
}

impl AuthConfig {
    /// No credentials: anonymous access only.
    pub fn anonymous() -> AuthConfig {
        AuthConfig::default()
    }

    /// The files Docker and podman use, from the environment.
    pub fn from_env() -> AuthConfig {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        let home = var("HOME").map(PathBuf::from);
        let mut files = Vec::new();
        match var("DOCKER_CONFIG") {
            Some(dir) => files.push(PathBuf::from(dir).join("config.json")),
            None => {
                if let Some(home) = &home {
                    files.push(home.join(".docker").join("config.json"));
                }
            }
        }
        if let Some(file) = var("REGISTRY_AUTH_FILE") {
            files.push(PathBuf::from(file));
        } else {
            let runtime = var("XDG_RUNTIME_DIR")
                .map(|dir| PathBuf::from(dir).join("containers").join("auth.json"));
            let config = home
                .as_ref()
                .map(|h| h.join(".config").join("containers").join("auth.json"));
            match (runtime, config) {
                (Some(runtime), _) if runtime.is_file() => files.push(runtime),
                (_, Some(config)) => files.push(config),
                (Some(runtime), None) => files.push(runtime),
                (None, None) => {}
            }
        }
        AuthConfig {
            overrides: BTreeMap::new(),
            files,
            helper_search_path: None,
        }
    }

    /// The credential for `registry` (normalised host, e.g. `docker.io`) and `repository`.
    pub fn lookup(&self, registry: &str, repository: &str) -> Result<Option<Found>, ImageError> {
        if let Some(credential) = self.overrides.get(registry) {
            return Ok(Some(Found {
                credential: credential.clone(),
                origin: "the command line".to_string(),
            }));
        }
        for path in &self.files {
            let Some(file) = read_auth_file(path, registry)? else {
                continue;
            };
            if let Some(found) = self.lookup_in(&file, path, registry, repository)? {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }

    fn lookup_in(
        &self,
        file: &AuthFile,
        path: &Path,
        registry: &str,
        repository: &str,
    ) -> Result<Option<Found>, ImageError> {
        let origin = path.display().to_string();
        let helper = file
            .cred_helpers
            .iter()
            .find(|(key, _)| normalize_key(key).0 == registry)
            .map(|(_, helper)| helper);
        if let Some(helper) = helper {
            return self.run_helper(helper, registry);
        }
        for candidate in scopes(registry, repository) {
            let entry = file.auths.iter().find(|(key, _)| {
                let (host, path) = normalize_key(key);
                scope_of(&host, path.as_deref()) == candidate
            });
            if let Some((_, entry)) = entry {
                if let Some(credential) = entry.credential(registry, &origin)? {
                    return Ok(Some(Found { credential, origin }));
                }
            }
        }
        match &file.creds_store {
            Some(store) if !store.is_empty() => self.run_helper(store, registry),
            _ => Ok(None),
        }
    }

    /// Runs `docker-credential-<name> get`. A helper that does not know the server is no error.
    fn run_helper(&self, name: &str, registry: &str) -> Result<Option<Found>, ImageError> {
        let program = format!("docker-credential-{name}");
        let fail = |detail: String| ImageError::Credentials {
            registry: registry.to_string(),
            detail: format!("{program}: {detail}"),
        };
        if !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        {
            return Err(fail("invalid helper name".into()));
        }
        let path = self.find_helper(&program).ok_or_else(|| {
            fail("not found on PATH (it is named by credHelpers or credsStore)".into())
        })?;
        let server = if registry == DEFAULT_REGISTRY {
            DOCKER_HUB_AUTH_KEY
        } else {
            registry
        };
        let output = run_with_timeout(&path, server, HELPER_TIMEOUT).map_err(fail)?;
        if !output.success {
            let text = String::from_utf8_lossy(&output.stdout);
            if text.to_ascii_lowercase().contains("credentials not found") {
                return Ok(None);
            }
            return Err(fail(format!("exited with {}", output.status)));
        }
        let reply: HelperReply = serde_json::from_slice(&output.stdout)
            .map_err(|e| fail(format!("unexpected output ({})", json_error_position(&e))))?;
        let credential = if reply.username == "<token>" {
            Credential::IdentityToken(Secret::new(reply.secret))
        } else {
            Credential::Basic {
                username: reply.username,
                password: Secret::new(reply.secret),
            }
        };
        Ok(Some(Found {
            credential,
            origin: program,
        }))
    }

    fn find_helper(&self, program: &str) -> Option<PathBuf> {
        let search = self
            .helper_search_path
            .clone()
            .or_else(|| std::env::var_os("PATH"))?;
        std::env::split_paths(&search)
            .map(|dir| dir.join(program))
            .find(|candidate| candidate.is_file())
    }
}

/// The scopes a key may name for a repository, most specific first:
/// `host/org/app`, `host/org`, `host`.
fn scopes(registry: &str, repository: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut path = repository;
    loop {
        out.push(format!("{registry}/{path}"));
        match path.rsplit_once('/') {
            Some((parent, _)) => path = parent,
            None => break,
        }
    }
    out.push(registry.to_string());
    out
}

fn scope_of(host: &str, path: Option<&str>) -> String {
    match path {
        Some(path) => format!("{host}/{path}"),
        None => host.to_string(),
    }
}

/// A config key as `(host, namespace)`: `https://index.docker.io/v1/` → `(docker.io, None)`,
/// `quay.io/org` → `(quay.io, Some(org))`. URLs' paths are not namespaces (Docker ignores them).
fn normalize_key(key: &str) -> (String, Option<String>) {
    let (is_url, rest) = match key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
    {
        Some(rest) => (true, rest),
        None => (false, key),
    };
    let (host, path) = match rest.split_once('/') {
        Some((host, path)) => (host, Some(path.trim_matches('/'))),
        None => (rest, None),
    };
    let host = host.to_ascii_lowercase();
    let host = match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" => DEFAULT_REGISTRY.to_string(),
        _ => host,
    };
    let path = path
        .filter(|p| !is_url && !p.is_empty())
        .map(str::to_string);
    (host, path)
}

#[derive(Debug, Default, Deserialize)]
struct AuthFile {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: BTreeMap<String, String>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
}

#[derive(Default, Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
    #[serde(default)]
    registrytoken: Option<String>,
}

impl fmt::Debug for AuthEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthEntry")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl AuthEntry {
    fn credential(&self, registry: &str, origin: &str) -> Result<Option<Credential>, ImageError> {
        let present =
            |s: &Option<String>| s.as_deref().filter(|s| !s.is_empty()).map(str::to_string);
        if let Some(token) = present(&self.identitytoken) {
            return Ok(Some(Credential::IdentityToken(Secret::new(token))));
        }
        if let Some(token) = present(&self.registrytoken) {
            return Ok(Some(Credential::BearerToken(Secret::new(token))));
        }
        if let Some(encoded) = present(&self.auth) {
            return decode_basic(&encoded)
                .map(Some)
                .ok_or_else(|| ImageError::Credentials {
                    registry: registry.to_string(),
                    detail: format!(
                        "the `auth` entry in {origin} is not base64 of `user:password`"
                    ),
                });
        }
        match (present(&self.username), present(&self.password)) {
            (Some(username), Some(password)) => Ok(Some(Credential::basic(username, password))),
            _ => Ok(None),
        }
    }
}

/// Decodes `base64(user:password)`.
fn decode_basic(encoded: &str) -> Option<Credential> {
    let encoded = encoded.trim();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(encoded))
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (user, password) = text.split_once(':')?;
    (!user.is_empty()).then(|| Credential::basic(user, password))
}

#[derive(Deserialize)]
struct HelperReply {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

/// Reads a credentials file; `None` if it does not exist.
fn read_auth_file(path: &Path, registry: &str) -> Result<Option<AuthFile>, ImageError> {
    let fail = |detail: String| ImageError::Credentials {
        registry: registry.to_string(),
        detail: format!("{}: {detail}", path.display()),
    };
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(fail(e.to_string())),
    };
    let mut bytes = Vec::new();
    file.take(MAX_AUTH_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(e.to_string()))?;
    if bytes.len() as u64 > MAX_AUTH_FILE_BYTES {
        return Err(fail(format!("larger than {MAX_AUTH_FILE_BYTES} bytes")));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Some(AuthFile::default()));
    }
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| fail(format!("invalid JSON ({})", json_error_position(&e))))
}

/// A JSON error without the offending value (which may be a secret).
fn json_error_position(e: &serde_json::Error) -> String {
    let class = match e.classify() {
        serde_json::error::Category::Io => "read error",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "unexpected value",
        serde_json::error::Category::Eof => "unexpected end",
    };
    format!("{class} at line {} column {}", e.line(), e.column())
}

struct HelperOutput {
    success: bool,
    status: String,
    stdout: Vec<u8>,
}

/// Runs `program get` with `input` on stdin, killing it after `timeout`.
fn run_with_timeout(
    program: &Path,
    input: &str,
    timeout: Duration,
) -> Result<HelperOutput, String> {
    let mut child = Command::new(program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading is reported by its status, not as a write error.
        let _ = stdin.write_all(input.as_bytes());
    }
    let reader = child.stdout.take().map(|stdout| {
        std::thread::spawn(move || {
            let mut out = Vec::new();
            let _ = stdout.take(MAX_HELPER_OUTPUT).read_to_end(&mut out);
            out
        })
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("no answer within {}s", timeout.as_secs()));
            }
            Err(e) => return Err(format!("cannot wait for it: {e}")),
        }
    };
    let stdout = reader
        .map(|handle| handle.join().unwrap_or_default())
        .unwrap_or_default();
    Ok(HelperOutput {
        success: status.success(),
        status: status.to_string(),
        stdout,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "s3cr3t-Pa55";

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn config(files: Vec<PathBuf>, helpers: Option<&Path>) -> AuthConfig {
        AuthConfig {
            overrides: BTreeMap::new(),
            files,
            helper_search_path: helpers.map(|p| p.as_os_str().to_owned()),
        }
    }

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn credentials_never_print_their_secret() {
        for credential in [
            Credential::basic("alice", SECRET),
            Credential::IdentityToken(Secret::new(SECRET)),
            Credential::BearerToken(Secret::new(SECRET)),
        ] {
            let found = Found {
                credential: credential.clone(),
                origin: "x".into(),
            };
            for text in [
                format!("{credential:?}"),
                format!("{credential}"),
                format!("{found:?}"),
                format!("{found}"),
                format!("{:?}", credential.to_registry_auth()),
            ] {
                assert!(!text.contains(SECRET), "{text}");
            }
        }
        assert_eq!(
            format!("{:?}", Credential::basic("alice", SECRET)),
            r#"Basic { username: "alice", password: "<redacted>" }"#
        );
    }

    #[test]
    fn reads_auths_base64_and_plain_and_docker_hub_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(
            dir.path(),
            "config.json",
            &format!(
                r#"{{"auths": {{
                    "https://index.docker.io/v1/": {{"auth": "{}"}},
                    "127.0.0.1:5000": {{"username": "bob", "password": "{SECRET}"}},
                    "https://ghcr.io": {{"identitytoken": "{SECRET}"}},
                    "quay.io/org": {{"auth": "{}"}},
                    "quay.io": {{"auth": "{}"}},
                    "empty.example": {{}}
                }}}}"#,
                b64(&format!("hub:{SECRET}")),
                b64("org-user:pw:with:colons"),
                b64("quay-user:pw"),
            ),
        );
        let auth = config(vec![file], None);
        let hub = auth.lookup("docker.io", "library/nginx").unwrap().unwrap();
        assert_eq!(hub.credential, Credential::basic("hub", SECRET));
        let local = auth.lookup("127.0.0.1:5000", "app").unwrap().unwrap();
        assert_eq!(local.credential.username(), Some("bob"));
        let ghcr = auth.lookup("ghcr.io", "acme/app").unwrap().unwrap();
        assert_eq!(
            ghcr.credential,
            Credential::IdentityToken(Secret::new(SECRET))
        );
        let org = auth.lookup("quay.io", "org/app").unwrap().unwrap();
        assert_eq!(
            org.credential,
            Credential::basic("org-user", "pw:with:colons")
        );
        let other = auth.lookup("quay.io", "other/app").unwrap().unwrap();
        assert_eq!(other.credential.username(), Some("quay-user"));
        assert_eq!(auth.lookup("empty.example", "x").unwrap(), None);
        assert_eq!(auth.lookup("nowhere.example", "x").unwrap(), None);
    }

    #[test]
    fn falls_back_to_the_containers_auth_file_and_overrides_win() {
        let dir = tempfile::tempdir().unwrap();
        let docker = write(dir.path(), "config.json", r#"{"auths": {}}"#);
        let podman = write(
            dir.path(),
            "auth.json",
            &format!(
                r#"{{"auths": {{"registry.example": {{"auth": "{}"}}}}}}"#,
                b64("pod:man")
            ),
        );
        let missing = dir.path().join("missing.json");
        let mut auth = config(vec![missing, docker, podman], None);
        let found = auth.lookup("registry.example", "a/b").unwrap().unwrap();
        assert_eq!(found.credential, Credential::basic("pod", "man"));
        assert!(found.origin.ends_with("auth.json"));
        auth.overrides
            .insert("registry.example".into(), Credential::basic("cli", "x"));
        let found = auth.lookup("registry.example", "a/b").unwrap().unwrap();
        assert_eq!(found.credential.username(), Some("cli"));
    }

    #[test]
    fn malformed_files_are_errors_without_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let bad_type = write(dir.path(), "a.json", &format!(r#"{{"auths": "{SECRET}"}}"#));
        let err = config(vec![bad_type], None)
            .lookup("x.example", "y")
            .unwrap_err();
        assert_eq!(err.kind(), crate::image::ErrorKind::Credentials);
        assert!(!err.to_string().contains(SECRET), "{err}");
        assert!(!format!("{err:?}").contains(SECRET), "{err:?}");

        let bad_b64 = write(
            dir.path(),
            "b.json",
            &format!(r#"{{"auths": {{"x.example": {{"auth": "{SECRET}!!"}}}}}}"#),
        );
        let err = config(vec![bad_b64], None)
            .lookup("x.example", "y")
            .unwrap_err();
        assert!(!err.to_string().contains(SECRET), "{err}");
    }

    #[cfg(unix)]
    fn helper(dir: &Path, name: &str, script: &str) {
        use std::os::unix::fs::PermissionsExt;
        let path = write(dir, &format!("docker-credential-{name}"), script);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn runs_creds_store_and_cred_helpers_with_the_server_on_stdin() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        // Answers for the servers it knows; says "not found" like the real helpers otherwise.
        helper(
            &bin,
            "test",
            &format!(
                r#"#!/bin/sh
read server
case "$server" in
  https://index.docker.io/v1/) echo '{{"ServerURL":"'$server'","Username":"hubuser","Secret":"{SECRET}"}}' ;;
  127.0.0.1:5000) echo '{{"ServerURL":"'$server'","Username":"<token>","Secret":"{SECRET}"}}' ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
"#
            ),
        );
        helper(
            &bin,
            "broken",
            &format!("#!/bin/sh\necho 'oops {SECRET}' >&2\nexit 3\n"),
        );
        let file = write(
            dir.path(),
            "config.json",
            r#"{"credsStore": "test", "credHelpers": {"broken.example": "broken", "gone.example": "absent"}}"#,
        );
        let auth = config(vec![file], Some(&bin));

        let hub = auth.lookup("docker.io", "library/alpine").unwrap().unwrap();
        assert_eq!(hub.credential, Credential::basic("hubuser", SECRET));
        assert_eq!(hub.origin, "docker-credential-test");
        let local = auth.lookup("127.0.0.1:5000", "app").unwrap().unwrap();
        assert_eq!(
            local.credential,
            Credential::IdentityToken(Secret::new(SECRET))
        );
        assert_eq!(auth.lookup("unknown.example", "app").unwrap(), None);

        let err = auth.lookup("broken.example", "app").unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("docker-credential-broken") && text.contains("exit"),
            "{text}"
        );
        assert!(!text.contains(SECRET), "{text}");
        let err = auth.lookup("gone.example", "app").unwrap_err();
        assert!(err.to_string().contains("not found on PATH"), "{err}");
    }

    #[test]
    fn normalises_keys_like_docker() {
        assert_eq!(
            normalize_key("https://index.docker.io/v1/"),
            ("docker.io".into(), None)
        );
        assert_eq!(
            normalize_key("registry-1.docker.io"),
            ("docker.io".into(), None)
        );
        assert_eq!(
            normalize_key("http://LOCALHOST:5000/v2/"),
            ("localhost:5000".into(), None)
        );
        assert_eq!(
            normalize_key("quay.io/org/"),
            ("quay.io".into(), Some("org".into()))
        );
        assert_eq!(
            scopes("q.io", "a/b/c"),
            ["q.io/a/b/c", "q.io/a/b", "q.io/a", "q.io"]
        );
    }

    #[test]
    fn parses_user_password() {
        assert_eq!(
            Credential::from_user_password("u:p:q").unwrap(),
            Credential::basic("u", "p:q")
        );
        assert!(Credential::from_user_password(":p").is_err());
        assert!(Credential::from_user_password("up").is_err());
    }
}
