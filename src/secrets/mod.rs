//! Secret detection over text, shared by every rule and source that looks for secrets: the
//! Dockerfile rules (`PC2004`, `PC2005`, `PC2006`, `DL3064`), the image `Env` rule
//! (`PC3002`), and the image sources when they read layer files.
//!
//! - [`scan`]: credentials in a known format (tokens, keys, private key headers, URLs with a
//!   password) anywhere in a text, in one pass over it;
//! - [`is_secret_name`]: whether a variable or key name says it holds a secret;
//! - [`is_literal_secret`] and [`is_placeholder`]: whether a value could be a secret, or only
//!   stands for one (`changeme`, `<token>`, `AKIAIOSFODNN7EXAMPLE`);
//! - [`redact`] and [`redact_value`]: what may be shown of a secret, never the secret.
//!
//! Nothing here returns a secret's text: a [`Hit`] is a kind and a byte range.

mod formats;
mod names;
mod placeholder;

pub use formats::URL_WITH_PASSWORD;
pub use names::is_secret_name;
pub use placeholder::{
    is_literal_secret, is_path, is_placeholder, is_published_example, is_switch,
};

use formats::{key_material_follows, Shape};

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
    let mut line = 1;
    let mut counted = 0;
    formats::matches(text)
        .into_iter()
        .filter(|m| m.format.shape != Shape::PrivateKey || key_material_follows(text, m.end))
        .map(|m| {
            line += text
                .as_bytes()
                .get(counted..m.start)
                .map_or(0, |before| before.iter().filter(|&&b| b == b'\n').count());
            counted = m.start;
            Hit {
                kind: m.format.kind,
                line,
                start: m.start,
                end: m.end,
            }
        })
        .collect()
}

/// Whether `text` contains a credential in a known format (a private key header counts
/// without key material; a URL with a password does not count).
pub fn contains_credential(text: &str) -> bool {
    formats::matches(text)
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
        Some(Shape::UrlWithPassword) => {
            let scheme = value.split("://").next().unwrap_or("");
            format!("{scheme}://…:<redacted>@…")
        }
        Some(Shape::Token { shown_prefix }) => {
            let prefix: String = value.chars().take(shown_prefix).collect();
            format!("`{prefix}…`, {} characters", value.chars().count())
        }
        None => redact_value(value),
    }
}

/// How a secret without a format is shown in messages: only its length.
pub fn redact_value(value: &str) -> String {
    format!("redacted, {} characters", value.chars().count())
}

#[cfg(test)]
mod tests;
