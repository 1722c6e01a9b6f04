//! Why an image's facts could not be gathered.
//!
//! Every variant is a reason the CLI reports when it exits 3 ("could not evaluate"); each
//! message names what failed and, where there is one, what to do. No message ever contains a
//! credential or token: errors are built from hosts, repositories, digests, statuses and the
//! registry's own error codes, and server-supplied text is shortened and scrubbed of known
//! secrets before it gets here (see `registry::Scrubber`).

use std::time::Duration;

/// The broad class of an [`ImageError`], for callers that map errors to exit codes or hints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The target string itself is wrong (usage error rather than a fetch failure).
    InvalidTarget,
    /// The registry refused our credentials or requires some (HTTP 401/403).
    AuthDenied,
    /// The manifest, tag, blob, layout or archive entry does not exist.
    NotFound,
    /// The TLS handshake failed: unknown CA, wrong host name, not TLS at all.
    Tls,
    Timeout,
    ConnectionRefused,
    /// Other network failures: DNS, resets, truncated bodies.
    Network,
    /// Content does not hash to the digest (or have the size) that named it.
    DigestMismatch,
    /// A manifest, config, archive or layer is over its size (or entry) limit.
    TooLarge,
    /// A manifest, config, index, layout or archive is not what its format requires.
    Malformed,
    UnsupportedMediaType,
    /// No image in the index matches the requested `--platform`.
    NoMatchingPlatform,
    /// The registry answered with an unexpected status (after retries, for 429/5xx).
    Registry,
    /// Reading a local file failed.
    Io,
    /// Credentials could not be read (a credential helper failed, a config file is broken).
    Credentials,
    /// Docker Content Trust data could not be read (the Notary server unreachable, bad TLS,
    /// metadata that does not parse).
    Notary,
    /// TLS settings could not be loaded (an unreadable `--ca-file`).
    Setup,
}

/// Why an image's facts could not be gathered. Messages contain no secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    #[error("invalid image target `{target}`: {reason}")]
    InvalidTarget { target: String, reason: String },

    #[error("access to {registry}/{repository} denied (HTTP {status}){}; check the credentials for {registry} (docker login, REGISTRY_AUTH_FILE)", detail_suffix(.detail))]
    AuthDenied {
        registry: String,
        repository: String,
        status: u16,
        detail: Option<String>,
    },

    #[error("{what} not found{}", detail_suffix(.detail))]
    NotFound {
        what: String,
        detail: Option<String>,
    },

    #[error("TLS connection to {host} failed: {detail}{}", tls_hint(.detail))]
    Tls { host: String, detail: String },

    #[error("{what} timed out after {}s", .after.as_secs_f64())]
    Timeout { what: String, after: Duration },

    #[error("connection to {host} refused: is a registry listening there?")]
    ConnectionRefused { host: String },

    #[error("{what} failed: {detail}")]
    Network { what: String, detail: String },

    #[error("{what}: content does not match its digest (expected {expected}, got {actual}); refusing to use it")]
    DigestMismatch {
        what: String,
        expected: String,
        actual: String,
    },

    #[error("{what}: got {} but its descriptor declares {expected} bytes; refusing to use it", size_or_more(.actual, *.expected))]
    SizeMismatch {
        what: String,
        expected: u64,
        /// `None` when there was more than declared (reading stopped there).
        actual: Option<u64>,
    },

    #[error("{what} is larger than the {limit}-byte limit")]
    TooLarge { what: String, limit: u64 },

    #[error("{what} has more than {limit} entries, the limit")]
    TooManyEntries { what: String, limit: u64 },

    #[error("{what} is malformed: {detail}")]
    Malformed { what: String, detail: String },

    #[error("{what} has unsupported media type `{media_type}`{}", detail_suffix(.detail))]
    UnsupportedMediaType {
        what: String,
        media_type: String,
        detail: Option<String>,
    },

    #[error("{target} has no image for platform {wanted}; it has: {}", list_or_none(.available))]
    NoMatchingPlatform {
        target: String,
        wanted: String,
        available: Vec<String>,
    },

    #[error("{what}: registry answered HTTP {status}{}", detail_suffix(.detail))]
    Registry {
        what: String,
        status: u16,
        detail: Option<String>,
    },

    #[error("cannot read {path}: {detail}")]
    Io { path: String, detail: String },

    #[error("cannot get credentials for {registry}: {detail}")]
    Credentials { registry: String, detail: String },

    #[error("{0}")]
    Setup(String),

    #[error("Docker Content Trust: {0}")]
    Notary(String),
}

impl ImageError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            ImageError::InvalidTarget { .. } => ErrorKind::InvalidTarget,
            ImageError::AuthDenied { .. } => ErrorKind::AuthDenied,
            ImageError::NotFound { .. } => ErrorKind::NotFound,
            ImageError::Tls { .. } => ErrorKind::Tls,
            ImageError::Timeout { .. } => ErrorKind::Timeout,
            ImageError::ConnectionRefused { .. } => ErrorKind::ConnectionRefused,
            ImageError::Network { .. } => ErrorKind::Network,
            ImageError::DigestMismatch { .. } | ImageError::SizeMismatch { .. } => {
                ErrorKind::DigestMismatch
            }
            ImageError::TooLarge { .. } | ImageError::TooManyEntries { .. } => ErrorKind::TooLarge,
            ImageError::Malformed { .. } => ErrorKind::Malformed,
            ImageError::UnsupportedMediaType { .. } => ErrorKind::UnsupportedMediaType,
            ImageError::NoMatchingPlatform { .. } => ErrorKind::NoMatchingPlatform,
            ImageError::Registry { .. } => ErrorKind::Registry,
            ImageError::Io { .. } => ErrorKind::Io,
            ImageError::Credentials { .. } => ErrorKind::Credentials,
            ImageError::Setup(_) => ErrorKind::Setup,
            ImageError::Notary(_) => ErrorKind::Notary,
        }
    }

    pub(crate) fn malformed(what: impl Into<String>, detail: impl Into<String>) -> ImageError {
        ImageError::Malformed {
            what: what.into(),
            detail: detail.into(),
        }
    }

    pub(crate) fn io(path: &std::path::Path, err: &std::io::Error) -> ImageError {
        let path = path.display().to_string();
        if err.kind() == std::io::ErrorKind::NotFound {
            return ImageError::NotFound {
                what: path,
                detail: None,
            };
        }
        ImageError::Io {
            path,
            detail: err.to_string(),
        }
    }
}

fn detail_suffix(detail: &Option<String>) -> String {
    match detail {
        Some(d) if !d.is_empty() => format!(": {d}"),
        _ => String::new(),
    }
}

fn size_or_more(actual: &Option<u64>, expected: u64) -> String {
    match actual {
        Some(n) => format!("{n} bytes"),
        None => format!("more than {expected} bytes"),
    }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}

fn tls_hint(detail: &str) -> &'static str {
    let lowered = detail.to_ascii_lowercase();
    if lowered.contains("unknown issuer") || lowered.contains("certificate") {
        " (for a private CA pass --ca-file; for a registry without trusted TLS, --insecure-registry HOST[:PORT])"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_and_why() {
        let e = ImageError::AuthDenied {
            registry: "127.0.0.1:5000".into(),
            repository: "app".into(),
            status: 401,
            detail: Some("UNAUTHORIZED: authentication required".into()),
        };
        assert_eq!(e.kind(), ErrorKind::AuthDenied);
        let text = e.to_string();
        assert!(text.contains("127.0.0.1:5000/app"), "{text}");
        assert!(text.contains("HTTP 401"), "{text}");

        let e = ImageError::NoMatchingPlatform {
            target: "docker://x".into(),
            wanted: "linux/s390x".into(),
            available: vec!["linux/amd64".into(), "linux/arm64/v8".into()],
        };
        assert_eq!(
            e.to_string(),
            "docker://x has no image for platform linux/s390x; it has: linux/amd64, linux/arm64/v8"
        );
        let e = ImageError::Tls {
            host: "h".into(),
            detail: "invalid peer certificate: UnknownIssuer".into(),
        };
        assert!(e.to_string().contains("--ca-file"));
    }
}
