//! Secret detection over text, shared by every rule and source that looks for secrets: the
//! Dockerfile rules (`PC2004`, `PC2005`, `PC2006`, `DL3064`), the image `Env` rule
//! (`PC3002`), and the image sources when they read layer files.
//!
//! - [`scan`]: credentials in a known format (tokens, keys, private key headers, URLs with a
//!   password) anywhere in a text, in one pass over it;
//! - [`scan_file`]: the same in a file's bytes, with the formats only files are searched for
//!   (AWS secret keys after their name) and, for the few credential files whose values have
//!   no format (`.aws/credentials`, `.npmrc`, Docker's `config.json`, `.netrc`, `.pypirc`,
//!   kubeconfigs, `.env`), those files' own syntax;
//! - [`is_secret_name`]: whether a variable or key name says it holds a secret;
//! - [`is_literal_secret`] and [`is_placeholder`]: whether a value could be a secret, or only
//!   stands for one (`changeme`, `<token>`, `AKIAIOSFODNN7EXAMPLE`);
//! - [`redact`] and [`redact_value`]: what may be shown of a secret, never the secret.
//!
//! Nothing here returns a secret's text: a [`Hit`] is a kind and a byte range.

mod files;
mod formats;
mod names;
mod placeholder;

pub use files::{
    AWS_SESSION_TOKEN, DOCKER_CONFIG_CREDENTIAL, DOTENV_SECRET, KUBERNETES_CLIENT_KEY,
    KUBERNETES_CREDENTIAL, NETRC_PASSWORD, NPM_CREDENTIAL, PYPIRC_PASSWORD,
};
pub use formats::{AWS_SECRET_ACCESS_KEY, URL_WITH_PASSWORD};
pub use names::is_secret_name;
pub use placeholder::{
    is_literal_secret, is_path, is_placeholder, is_published_example, is_switch,
};

use files::Found;
use formats::{key_material_follows, Scope, Shape};

/// A secret found in a text: what it is and where, never its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// What was found, for messages: `a GitHub token`, [`URL_WITH_PASSWORD`], ….
    pub kind: &'static str,
    /// The line it is on, from 1.
    pub line: usize,
    /// Its byte range in the text scanned.
    pub start: usize,
    pub end: usize,
}

impl Hit {
    /// Whether this is a credential in a known format (not a URL with a password, whose
    /// password has no format of its own).
    pub fn is_credential(&self) -> bool {
        self.kind != URL_WITH_PASSWORD
    }
}

/// Every secret in a known format in `text`, in order: credentials (private keys only when key
/// material follows the header; the example credentials vendors publish, matched exactly, are
/// not secrets) and URLs whose password is a literal.
pub fn scan(text: &str) -> Vec<Hit> {
    with_lines(text, format_matches(text, Scope::Everywhere))
}

/// Every secret in a file of an image, in order: `path` is where the file is (`/root/.npmrc`),
/// `content` its bytes, or a part of them (lines and ranges are then within the part).
///
/// - Every format [`scan`] finds, anywhere in any file, and AWS secret keys after their name
///   (`aws_secret_access_key = …`, `AWS_SECRET_ACCESS_KEY=…`, `"SecretAccessKey": "…"`),
///   which the Dockerfile and `Env` rules judge by name instead.
/// - In the credential files whose values have no format, each secret their syntax holds:
///   `.aws/credentials` and `.aws/config` (`aws_secret_access_key`, `aws_session_token`),
///   `.npmrc` (`_authToken`, `_auth`, `_password`), Docker's `config.json`, `.dockercfg`
///   and containers' `auth.json` (`auth` with a password, `identitytoken`; a `credsStore` or
///   `credHelpers` is no secret), `.netrc` (`password`), `.pypirc` (`password`), kubeconfigs
///   (`token`, `password`, `client-key-data` and other secret names under `users:`), and
///   `.env` files (`NAME=value` with a secret name). A value already found by its format is
///   reported once, by its format. Placeholders (`${NPM_TOKEN}`, `<changeme>`) are not
///   secrets.
///
/// Content that is not UTF-8 (a binary) is read with each byte that is not UTF-8 replaced by
/// one NUL, so ranges and lines are those of `content`.
pub fn scan_file(path: &str, content: &[u8]) -> Vec<Hit> {
    let text = files::lossy_text(content);
    let mut found = format_matches(&text, Scope::Files);
    let by_format = found.len();
    for credential in files::credentials_in(path, &text) {
        let overlaps = |f: &Found| f.start < credential.end && credential.start < f.end;
        if !found[..by_format].iter().any(overlaps) {
            found.push(credential);
        }
    }
    found.sort_by_key(|f| f.start);
    with_lines(&text, found)
}

/// The matches of the formats looked for in `scope`, private keys only when key material
/// follows their header.
fn format_matches(text: &str, scope: Scope) -> Vec<Found> {
    formats::matches(text, scope)
        .into_iter()
        .filter(|m| m.format.shape != Shape::PrivateKey || key_material_follows(text, m.end))
        .map(|m| Found {
            kind: m.format.kind,
            start: m.start,
            end: m.end,
        })
        .collect()
}

/// `found` (in order of position in `text`) as hits, with their lines.
fn with_lines(text: &str, found: Vec<Found>) -> Vec<Hit> {
    let mut line = 1;
    let mut counted = 0;
    found
        .into_iter()
        .map(|f| {
            line += text
                .as_bytes()
                .get(counted..f.start)
                .map_or(0, |before| before.iter().filter(|&&b| b == b'\n').count());
            counted = f.start;
            Hit {
                kind: f.kind,
                line,
                start: f.start,
                end: f.end,
            }
        })
        .collect()
}

/// Whether `text` contains a credential in a known format (a private key header counts
/// without key material; a URL with a password does not count).
pub fn contains_credential(text: &str) -> bool {
    formats::matches(text, Scope::Everywhere)
        .iter()
        .any(|m| m.format.shape != Shape::UrlWithPassword)
}

/// The redacted form (`postgres://…:<redacted>@…`) of the first URL in `text` with a literal
/// password, if any.
pub fn url_with_password(text: &str) -> Option<String> {
    scan(text)
        .iter()
        .find(|hit| !hit.is_credential())
        .map(|hit| redact(text, hit))
}

/// What may be shown of `hit`, found in `text`: a token's public prefix and length
/// (`` `ghp_…`, 40 characters ``), a private key's header, a URL's scheme
/// (`postgres://…:<redacted>@…`).
pub fn redact(text: &str, hit: &Hit) -> String {
    let value = text.get(hit.start..hit.end).unwrap_or("");
    let shape = formats::FORMATS
        .iter()
        .find(|f| f.kind == hit.kind)
        .map(|f| f.shape);
    match shape {
        Some(Shape::PrivateKey) => format!("`{value}`"),
        Some(Shape::NamedValue) | None => redact_value(value),
        Some(Shape::UrlWithPassword) => {
            let scheme = value.split("://").next().unwrap_or("");
            format!("{scheme}://…:<redacted>@…")
        }
        Some(Shape::Token { shown_prefix }) => {
            let prefix: String = value.chars().take(shown_prefix).collect();
            format!("`{prefix}…`, {} characters", value.chars().count())
        }
    }
}

/// What may be shown of `hit`, found by [`scan_file`] in `content`.
pub fn redact_in_file(content: &[u8], hit: &Hit) -> String {
    let part = content.get(hit.start..hit.end).unwrap_or_default();
    let hit = Hit {
        start: 0,
        end: part.len(),
        ..*hit
    };
    redact(&files::lossy_text(part), &hit)
}

/// How a secret without a format is shown in messages: only its length.
pub fn redact_value(value: &str) -> String {
    format!("redacted, {} characters", value.chars().count())
}

#[cfg(test)]
mod file_tests;
#[cfg(test)]
mod tests;
