//! Secrets that only a file's name tells apart: credential files whose values have no format
//! of their own (`.aws/credentials`, `.npmrc`, a Docker `config.json`, `.netrc`, `.pypirc`, a
//! kubeconfig, `.env`), read with each file's own syntax. Only these few paths are parsed; every
//! other file is left to the formats (see [`super::scan_file`]).
//!
//! Values are judged by the shared name and placeholder judgement ([`is_secret_name`],
//! [`is_literal_secret`]): `_authToken=${NPM_TOKEN}` and `password: <changeme>` are not
//! secrets, a Docker config that only names a `credsStore` has none.

use super::formats::AWS_SECRET_ACCESS_KEY;
use super::names::is_secret_name;
use super::placeholder::is_literal_secret;
use base64::Engine as _;
use regex::Regex;
use std::borrow::Cow;
use std::sync::LazyLock;

/// The kinds of secret found here, for messages.
pub const AWS_SESSION_TOKEN: &str = "an AWS session token";
pub const NPM_CREDENTIAL: &str = "an npm registry credential";
pub const DOCKER_CONFIG_CREDENTIAL: &str = "a registry credential in a Docker config";
pub const NETRC_PASSWORD: &str = "a password in a .netrc file";
pub const PYPIRC_PASSWORD: &str = "a password in a .pypirc file";
pub const KUBERNETES_CLIENT_KEY: &str = "a Kubernetes client key";
pub const KUBERNETES_CREDENTIAL: &str = "a Kubernetes user credential";
pub const DOTENV_SECRET: &str = "a secret in a .env file";

/// A secret found in a file: kind and byte range of its value.
pub(super) struct Found {
    pub kind: &'static str,
    pub start: usize,
    pub end: usize,
}

/// The credential files read with their own syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CredentialFile {
    /// `~/.aws/credentials`, `~/.aws/config` (INI).
    Aws,
    /// `.npmrc`, the global `npmrc` (INI without sections).
    Npmrc,
    /// `~/.docker/config.json`, the legacy `~/.dockercfg`, containers' `auth.json`.
    DockerConfig,
    /// `~/.netrc`, `_netrc` (whitespace-separated tokens).
    Netrc,
    /// `~/.pypirc` (INI).
    Pypirc,
    /// `~/.kube/config`, `*.kubeconfig`, `/etc/kubernetes/*.conf` (YAML).
    Kubeconfig,
    /// `.env`, `.env.production`, `app.env` (`NAME=value`).
    DotEnv,
}

/// Which credential file `path` (absolute in the image, or relative) is, from its name and
/// its parent directory's.
fn credential_file(path: &str) -> Option<CredentialFile> {
    let mut components = path.rsplit('/');
    let name = components.next().unwrap_or("");
    let parent = components.next().unwrap_or("");
    match (parent, name) {
        (".aws", "credentials" | "config") => Some(CredentialFile::Aws),
        (_, ".npmrc" | "npmrc") => Some(CredentialFile::Npmrc),
        (".docker", "config.json") | (_, ".dockercfg") => Some(CredentialFile::DockerConfig),
        (_, "auth.json") if path.contains("containers/") => Some(CredentialFile::DockerConfig),
        (_, ".netrc" | "_netrc") => Some(CredentialFile::Netrc),
        (_, ".pypirc") => Some(CredentialFile::Pypirc),
        (".kube", "config") | (_, "kubeconfig") => Some(CredentialFile::Kubeconfig),
        _ if name.ends_with(".kubeconfig") => Some(CredentialFile::Kubeconfig),
        ("kubernetes", _) if name.ends_with(".conf") && path.contains("/etc/kubernetes/") => {
            Some(CredentialFile::Kubeconfig)
        }
        _ if name == ".env" || name.starts_with(".env.") || name.ends_with(".env") => {
            Some(CredentialFile::DotEnv)
        }
        _ => None,
    }
}

/// The secrets in `text`, read as the credential file `path` names (nothing for other paths).
pub(super) fn credentials_in(path: &str, text: &str) -> Vec<Found> {
    match credential_file(path) {
        Some(CredentialFile::Aws) => aws(text),
        Some(CredentialFile::Npmrc) => npmrc(text),
        Some(CredentialFile::DockerConfig) => docker_config(text),
        Some(CredentialFile::Netrc) => netrc(text),
        Some(CredentialFile::Pypirc) => pypirc(text),
        Some(CredentialFile::Kubeconfig) => kubeconfig(text),
        Some(CredentialFile::DotEnv) => dotenv(text),
        None => Vec::new(),
    }
}

/// `text` as UTF-8 with each byte that is not replaced by one NUL, so that byte offsets (and
/// lines) in the text are those in `content`. Borrowed when `content` is UTF-8, as almost
/// every text file is.
pub(super) fn lossy_text(content: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(content) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => {
            let mut text = String::with_capacity(content.len());
            for chunk in content.utf8_chunks() {
                text.push_str(chunk.valid());
                text.extend(std::iter::repeat_n('\0', chunk.invalid().len()));
            }
            Cow::Owned(text)
        }
    }
}

/// Whether a value read from a credential file is a secret: a literal (not a placeholder, a
/// reference or a path) typed as text (no control characters: not a binary's bytes).
fn is_value_secret(value: &str) -> bool {
    is_literal_secret(value) && !value.contains(char::is_control)
}

/// Each line of `text` with the byte offset it starts at, without its line end.
fn lines_with_offsets(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split_inclusive('\n').scan(0, |offset, line| {
        let start = *offset;
        *offset += line.len();
        Some((start, line.trim_end_matches(['\n', '\r'])))
    })
}

/// A `name = value` line (INI, `.env`, `.npmrc`): the name, and the value's byte range in
/// `text`. A quoted value is its inside; an unquoted one ends at a ` #` comment.
struct Assignment<'t> {
    name: &'t str,
    start: usize,
    end: usize,
}

/// The assignments of `text`, each `name` then one of `separators` then the value. Comments
/// (`#`, `;`), section headers (`[pypi]`) and `export ` before the name are skipped; a line
/// whose name has a space is not an assignment.
fn assignments<'t>(text: &'t str, separators: &'t [char]) -> impl Iterator<Item = Assignment<'t>> {
    lines_with_offsets(text).filter_map(move |(offset, line)| {
        let body = line.trim_start();
        if body.is_empty() || body.starts_with(['#', ';', '[']) {
            return None;
        }
        let body = body.strip_prefix("export ").unwrap_or(body);
        let at = body.find(separators)?;
        let name = body[..at].trim();
        if name.is_empty() || name.contains(char::is_whitespace) {
            return None;
        }
        let after = &body[at + 1..];
        let (start, end) = value_range(after)?;
        let base = offset + (line.len() - body.len()) + at + 1;
        Some(Assignment {
            name,
            start: base + start,
            end: base + end,
        })
    })
}

/// The range of the value in `after` (what follows a separator): inside matching quotes, or
/// up to a ` #` comment, trimmed; `None` when empty.
fn value_range(after: &str) -> Option<(usize, usize)> {
    let leading = after.len() - after.trim_start().len();
    let value = &after[leading..];
    let (start, end) = match value.chars().next() {
        Some(quote @ ('"' | '\'')) => {
            let close = value[1..].find(quote)?;
            (leading + 1, leading + 1 + close)
        }
        _ => {
            let uncommented = value.find(" #").map_or(value, |at| &value[..at]);
            (leading, leading + uncommented.trim_end().len())
        }
    };
    (end > start).then_some((start, end))
}

/// The assignments of `text` whose name `is_secret` and whose value is a literal secret.
fn secret_assignments(
    text: &str,
    separators: &[char],
    is_secret: impl Fn(&str) -> bool,
    kind: impl Fn(&str) -> &'static str,
) -> Vec<Found> {
    assignments(text, separators)
        .filter(|a| is_secret(a.name) && is_value_secret(&text[a.start..a.end]))
        .map(|a| Found {
            kind: kind(a.name),
            start: a.start,
            end: a.end,
        })
        .collect()
}

/// `.aws/credentials`: the secret key (also found by its format, in every file, when it has
/// the usual 40 characters) and the session token. Only these names: `credential_process`
/// and `credential_source` name where credentials come from, not a secret.
fn aws(text: &str) -> Vec<Found> {
    secret_assignments(
        text,
        &['='],
        |name| {
            [
                "aws_secret_access_key",
                "aws_session_token",
                "aws_security_token",
            ]
            .iter()
            .any(|known| name.eq_ignore_ascii_case(known))
        },
        |name| {
            if name.eq_ignore_ascii_case("aws_secret_access_key") {
                AWS_SECRET_ACCESS_KEY
            } else {
                AWS_SESSION_TOKEN
            }
        },
    )
}

/// `.npmrc`: `//registry/:_authToken=…`, `_auth=…` (base64 of `user:password`),
/// `_password=…`, and any other secret name.
fn npmrc(text: &str) -> Vec<Found> {
    secret_assignments(
        text,
        &['='],
        |name| name.ends_with("_auth") || is_secret_name(name),
        |_| NPM_CREDENTIAL,
    )
}

/// `.pypirc`: `password = …` in any section.
fn pypirc(text: &str) -> Vec<Found> {
    secret_assignments(text, &['=', ':'], is_secret_name, |_| PYPIRC_PASSWORD)
}

/// `.env`: `NAME=value` with a secret name, as `ENV` is judged.
fn dotenv(text: &str) -> Vec<Found> {
    secret_assignments(text, &['='], is_secret_name, |_| DOTENV_SECRET)
}

/// `.netrc`: the token after each `password` (`machine h login u password p`, on one line
/// or several).
fn netrc(text: &str) -> Vec<Found> {
    let mut tokens = text
        .split_ascii_whitespace()
        .map(|token| (token.as_ptr() as usize - text.as_ptr() as usize, token));
    let mut found = Vec::new();
    while let Some((_, token)) = tokens.next() {
        if token != "password" {
            continue;
        }
        if let Some((start, value)) = tokens.next() {
            if is_value_secret(value) {
                found.push(Found {
                    kind: NETRC_PASSWORD,
                    start,
                    end: start + value.len(),
                });
            }
        }
    }
    found
}

/// A Docker config's `"auth"` (base64 of `user:password`), `"identitytoken"` and
/// `"registrytoken"` members: only these hold credentials (`credsStore` and `credHelpers`
/// name programs). Any case: Docker reads the file with Go's case-insensitive decoder.
static DOCKER_CONFIG_MEMBER: LazyLock<Regex> = LazyLock::new(|| {
    crate::rules::constant_regex(
        r#""(?i:(auth|identitytoken|registrytoken))"\s*:\s*"((?:[^"\\\r\n]|\\.)*)""#,
    )
});

/// A Docker config (`config.json`, `.dockercfg`, `auth.json`): each credential member with a
/// value (an `auth` whose password is a placeholder is not one).
fn docker_config(text: &str) -> Vec<Found> {
    DOCKER_CONFIG_MEMBER
        .captures_iter(text)
        .filter_map(|c| {
            let value = c.get(2)?;
            let secret = if c.get(1)?.as_str().eq_ignore_ascii_case("auth") {
                is_secret_auth(value.as_str())
            } else {
                is_value_secret(value.as_str())
            };
            secret.then_some(Found {
                kind: DOCKER_CONFIG_CREDENTIAL,
                start: value.start(),
                end: value.end(),
            })
        })
        .collect()
}

/// Whether a Docker config's `auth` (base64 of `user:password`) holds a password; a value
/// that is not base64 is judged as it is.
fn is_secret_auth(encoded: &str) -> bool {
    let engine = base64::engine::general_purpose::STANDARD;
    let decoded = engine
        .decode(encoded)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(encoded));
    match decoded.map(String::from_utf8) {
        Ok(Ok(pair)) => pair
            .split_once(':')
            .is_some_and(|(_, password)| is_value_secret(password)),
        _ => is_value_secret(encoded),
    }
}

/// A kubeconfig's user credentials: under the top-level `users:`, `client-key-data` (a
/// base64 private key) and every secret name (`token`, `password`, an auth provider's
/// `access-token`, `client-secret`, …), one `key: value` a line. Certificates
/// (`client-certificate-data`) are public; `client-key` is a path.
fn kubeconfig(text: &str) -> Vec<Found> {
    let mut found = Vec::new();
    let mut in_users = false;
    for (offset, line) in lines_with_offsets(text) {
        let body = line.trim_start();
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        if body.len() == line.len() && !body.starts_with('-') {
            in_users = body.starts_with("users:");
            continue;
        }
        if !in_users {
            continue;
        }
        let item = body.trim_start_matches(['-', ' ']);
        let Some(at) = item.find(':') else {
            continue;
        };
        let key = item[..at].trim().trim_matches(['"', '\'']);
        let after = &item[at + 1..];
        if after.trim_start().starts_with(['|', '>']) {
            continue;
        }
        let kind = if key == "client-key-data" {
            KUBERNETES_CLIENT_KEY
        } else if is_secret_name(key) {
            KUBERNETES_CREDENTIAL
        } else {
            continue;
        };
        let Some((start, end)) = value_range(after) else {
            continue;
        };
        let base = offset + (line.len() - item.len()) + at + 1;
        if is_value_secret(&text[base + start..base + end]) {
            found.push(Found {
                kind,
                start: base + start,
                end: base + end,
            });
        }
    }
    found
}
