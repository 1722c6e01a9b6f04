//! Image references (`nginx`, `ghcr.io/acme/app:1.2@sha256:…`), parsed and normalised the way
//! Docker's `distribution/reference` does it, so that policy sees the same name Docker pulls.
//!
//! The grammar (from `distribution/reference`):
//!
//! ```text
//! reference        := name [ ":" tag ] [ "@" digest ]
//! name             := [domain '/'] path-component ['/' path-component]*
//! domain           := host [':' port-number]
//! host             := domain-name | '[' IPv6address ']'
//! domain-name      := domain-component ['.' domain-component]*
//! domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
//! port-number      := /[0-9]+/
//! path-component   := alpha-numeric [separator alpha-numeric]*
//! alpha-numeric    := /[a-z0-9]+/
//! separator        := /[_.]|__|[-]+/
//! tag              := /[\w][\w.-]{0,127}/
//! digest           := algorithm ":" hex
//! algorithm        := /[A-Za-z][A-Za-z0-9]*/ [ /[+.-_]/ /[A-Za-z][A-Za-z0-9]*/ ]*
//! hex              := /[0-9a-fA-F]{32,}/
//! ```
//!
//! Normalisation follows Docker's `ParseNormalizedNamed`: the first path component is a
//! registry host when it contains `.` or `:`, is `localhost`, or contains an uppercase letter;
//! otherwise the registry is `docker.io`, and a one-component repository on `docker.io` is in
//! `library/`. `index.docker.io`, `registry-1.docker.io` and `registry.hub.docker.com` mean
//! `docker.io`.
//!
//! Where we are stricter or more normal than Docker, for policy's sake:
//! - The registry is lower-cased: host names are case-insensitive, so `EVIL.com/x` pulls from
//!   the same place as `evil.com/x` and must match the same policy globs.
//! - A first component that must be a host (it has a `.` or `:`) but is not a valid host is an
//!   error; Docker would instead accept some of these as a registry-less path.
//! - Digests of the algorithms Docker knows (`sha256`, `sha384`, `sha512`) must have exactly
//!   the right length in lower-case hex; other algorithms are checked against the grammar only.

use std::fmt;

/// The registry of references that name none.
pub const DEFAULT_REGISTRY: &str = "docker.io";
/// Other names of [`DEFAULT_REGISTRY`].
/// `registry.hub.docker.com` is Docker Hub's older name, which still serves its API.
const DEFAULT_REGISTRY_ALIASES: &[&str] = &[
    "index.docker.io",
    "registry-1.docker.io",
    "registry.hub.docker.com",
];
/// The namespace of Docker Hub's official images (`nginx` is `library/nginx`).
const OFFICIAL_NAMESPACE: &str = "library";
/// The tag Docker pulls when a reference has neither tag nor digest.
pub const IMPLIED_TAG: &str = "latest";
/// Longest `registry/repository` Docker accepts.
const NAME_MAX_LEN: usize = 255;
/// Longest tag the grammar accepts.
const TAG_MAX_LEN: usize = 128;
/// Digest algorithms Docker can verify, with their hex length.
const KNOWN_ALGORITHMS: &[(&str, usize)] = &[("sha256", 64), ("sha384", 96), ("sha512", 128)];
/// Shortest hex part of a digest of an unknown algorithm (128 bits).
const MIN_DIGEST_HEX_LEN: usize = 32;

/// A parsed, normalised image reference. Build one with [`ImageReference::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageReference {
    /// Registry host, lower-cased, port kept: `docker.io`, `ghcr.io`, `localhost:5000`.
    pub registry: String,
    /// Repository path within the registry: `library/nginx`, `acme/app`.
    pub repository: String,
    /// The tag as written, if any (no implied `latest`; see [`ImageReference::effective_tag`]).
    pub tag: Option<String>,
    /// The digest as written (`sha256:…`), if any.
    pub digest: Option<String>,
}

/// Why a string is not an image reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error("empty image reference")]
    Empty,
    #[error("`{0}` is an image ID, not a reference (64-character hex strings are not names)")]
    ImageId(String),
    #[error("repository name `{0}` must be lowercase")]
    Uppercase(String),
    #[error("invalid registry host `{0}`")]
    InvalidRegistry(String),
    #[error("invalid repository name `{0}`")]
    InvalidRepository(String),
    #[error("repository name `{0}` is longer than {NAME_MAX_LEN} characters")]
    NameTooLong(String),
    #[error("invalid tag `{0}`: expected 1 to {TAG_MAX_LEN} letters, digits, `_`, `.` or `-`, not starting with `.` or `-`")]
    InvalidTag(String),
    #[error("invalid digest `{digest}`: {reason}")]
    InvalidDigest { digest: String, reason: String },
}

impl ImageReference {
    /// Parses and normalises a reference the way `docker pull` does.
    pub fn parse(input: &str) -> Result<Self, ReferenceError> {
        if input.is_empty() {
            return Err(ReferenceError::Empty);
        }
        if input.len() == 64 && input.bytes().all(is_lower_hex) {
            return Err(ReferenceError::ImageId(input.to_string()));
        }
        let (registry, remainder) = split_registry(input);
        let (name_and_tag, digest) = match remainder.split_once('@') {
            Some((name, digest)) => (name, Some(digest)),
            None => (remainder, None),
        };
        let (path, tag) = match name_and_tag.split_once(':') {
            Some((path, tag)) => (path, Some(tag)),
            None => (name_and_tag, None),
        };

        if path.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(ReferenceError::Uppercase(path.to_string()));
        }
        if !is_valid_path(path) {
            return Err(ReferenceError::InvalidRepository(path.to_string()));
        }
        let registry = normalise_registry(registry)?;
        let repository = if registry == DEFAULT_REGISTRY && !path.contains('/') {
            format!("{OFFICIAL_NAMESPACE}/{path}")
        } else {
            path.to_string()
        };
        if registry.len() + 1 + repository.len() > NAME_MAX_LEN {
            return Err(ReferenceError::NameTooLong(format!(
                "{registry}/{repository}"
            )));
        }
        if let Some(tag) = tag {
            validate_tag(tag)?;
        }
        if let Some(digest) = digest {
            validate_digest(digest)?;
        }
        Ok(ImageReference {
            registry,
            repository,
            tag: tag.map(str::to_string),
            digest: digest.map(str::to_string),
        })
    }

    /// `registry/repository`: the normalised name, which registry globs match.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The name policy globs match: [`name`](Self::name), except that an explicit `:443`, the
    /// port every `https://` registry URL implies, is dropped, since it names the same
    /// registry: `ghcr.io:443/acme/app` is `ghcr.io/acme/app`, `index.docker.io:443/library/x`
    /// is `docker.io/library/x`. Fetching and credentials keep the host as written, as Docker
    /// does.
    pub fn policy_name(&self) -> String {
        let default_port_host = self
            .registry
            .rsplit_once(':')
            .filter(|(host, port)| {
                !host.is_empty()
                    && (!host.starts_with('[') || host.ends_with(']'))
                    && port.parse::<u16>() == Ok(443)
            })
            .map(|(host, _)| host);
        default_port_host
            .and_then(|host| ImageReference::parse(&format!("{host}/{}", self.repository)).ok())
            .map_or_else(|| self.name(), |reference| reference.name())
            .to_ascii_lowercase()
    }

    /// Whether the reference names its content by digest (content-addressed, immutable).
    pub fn is_pinned(&self) -> bool {
        self.digest.is_some()
    }

    /// The digest's algorithm (`sha256`), if pinned.
    pub fn digest_algorithm(&self) -> Option<&str> {
        self.digest
            .as_deref()
            .and_then(|d| d.split_once(':'))
            .map(|(algorithm, _)| algorithm)
    }

    /// The tag Docker resolves: the written tag, `latest` when there is neither tag nor digest,
    /// and `None` for a digest-only reference.
    pub fn effective_tag(&self) -> Option<&str> {
        match (&self.tag, &self.digest) {
            (Some(tag), _) => Some(tag),
            (None, None) => Some(IMPLIED_TAG),
            (None, Some(_)) => None,
        }
    }

    /// The short form Docker prints: `nginx`, `user/app:1`, `ghcr.io/acme/app@sha256:…`.
    pub fn familiar(&self) -> String {
        let mut out = self.familiar_name();
        if let Some(tag) = &self.tag {
            out.push(':');
            out.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            out.push('@');
            out.push_str(digest);
        }
        out
    }

    /// The name without `docker.io/` and, for official images, without `library/`.
    pub fn familiar_name(&self) -> String {
        if self.registry != DEFAULT_REGISTRY {
            return self.name();
        }
        match self.repository.strip_prefix(OFFICIAL_NAMESPACE) {
            Some(rest) if rest.starts_with('/') && !rest[1..].contains('/') => {
                rest[1..].to_string()
            }
            _ => self.repository.clone(),
        }
    }
}

/// The normalised full form: `docker.io/library/nginx:latest`.
/// `text` with any `user:password@` before the host replaced by `***@`, so that a
/// reference echoed in a message (`https://user:token@registry/app`, `user:pw@host/app`) never
/// shows a credential. A digest (`app@sha256:…`) is not userinfo and is kept.
pub fn redact_userinfo(text: &str) -> String {
    let (scheme, rest) = match text.find("://") {
        Some(i) => text.split_at(i + 3),
        None => ("", text),
    };
    let host_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..host_end].rfind('@') else {
        return text.to_string();
    };
    let after = &rest[at + 1..];
    let looks_like_digest = after.split_once(':').is_some_and(|(algorithm, hex)| {
        !algorithm.is_empty()
            && algorithm
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            && hex.len() >= 8
            && hex.bytes().all(|b| b.is_ascii_hexdigit())
    });
    if looks_like_digest && scheme.is_empty() && host_end == rest.len() {
        return text.to_string();
    }
    format!("{scheme}***@{after}")
}

impl fmt::Display for ImageReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = self.effective_tag() {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// Serialised as its normalised full form (the [`fmt::Display`] string).
impl serde::Serialize for ImageReference {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl std::str::FromStr for ImageReference {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ImageReference::parse(s)
    }
}

/// Splits off the registry as Docker does: the first component is a host when it contains
/// `.` or `:`, is `localhost`, or has an uppercase letter (Docker treats `Foo/bar` as host
/// `Foo`; a repository could never be uppercase).
fn split_registry(input: &str) -> (&str, &str) {
    match input.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.bytes().any(|b| b.is_ascii_uppercase()) =>
        {
            (first, rest)
        }
        _ => (DEFAULT_REGISTRY, input),
    }
}

fn normalise_registry(registry: &str) -> Result<String, ReferenceError> {
    if !is_valid_registry(registry) {
        return Err(ReferenceError::InvalidRegistry(redact_userinfo(registry)));
    }
    let lowered = registry.to_ascii_lowercase();
    if DEFAULT_REGISTRY_ALIASES.contains(&lowered.as_str()) {
        return Ok(DEFAULT_REGISTRY.to_string());
    }
    // A host without `.` or `:` is a registry only because it has upper case (Docker's rule):
    // lower-cased, it would read as a Docker Hub namespace, so it is kept as written (policy
    // names lower-case it: host names are case-insensitive).
    if !lowered.contains(['.', ':']) && lowered != "localhost" {
        return Ok(registry.to_string());
    }
    Ok(lowered)
}

/// `host[:port]` where host is a domain name, an IPv4 address or a bracketed IPv6 address.
fn is_valid_registry(registry: &str) -> bool {
    let (host, port) = if let Some(bracketed) = registry.strip_prefix('[') {
        let Some((address, after)) = bracketed.split_once(']') else {
            return false;
        };
        let port = match after {
            "" => None,
            _ => match after.strip_prefix(':') {
                Some(port) => Some(port),
                None => return false,
            },
        };
        if address.is_empty() || !address.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return false;
        }
        (None, port)
    } else {
        match registry.split_once(':') {
            Some((host, port)) => (Some(host), Some(port)),
            None => (Some(registry), None),
        }
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let host_ok = host.is_none_or(|h| h.split('.').all(is_valid_domain_component));
    port_ok && host_ok
}

fn is_valid_domain_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        }
        _ => false,
    }
}

fn is_valid_path(path: &str) -> bool {
    path.split('/').all(is_valid_path_component)
}

/// `[a-z0-9]+ ( ([._] | __ | -+) [a-z0-9]+ )*`
fn is_valid_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let mut i = 0;
    loop {
        let run_start = i;
        while i < bytes.len() && is_lower_alnum(bytes[i]) {
            i += 1;
        }
        if i == run_start {
            return false; // empty component, or a separator not followed by alphanumerics
        }
        if i == bytes.len() {
            return true;
        }
        let separator_len = match bytes[i] {
            b'.' => 1,
            b'_' if bytes.get(i + 1) == Some(&b'_') => 2,
            b'_' => 1,
            b'-' => bytes[i..].iter().take_while(|b| **b == b'-').count(),
            _ => return false,
        };
        i += separator_len;
    }
}

fn validate_tag(tag: &str) -> Result<(), ReferenceError> {
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let valid = match tag.as_bytes().split_first() {
        Some((first, rest)) => {
            is_word(*first)
                && rest.iter().all(|b| is_word(*b) || *b == b'.' || *b == b'-')
                && tag.len() <= TAG_MAX_LEN
        }
        None => false,
    };
    if valid {
        Ok(())
    } else {
        Err(ReferenceError::InvalidTag(tag.to_string()))
    }
}

fn validate_digest(digest: &str) -> Result<(), ReferenceError> {
    let invalid = |reason: String| ReferenceError::InvalidDigest {
        digest: digest.to_string(),
        reason,
    };
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return Err(invalid("expected `algorithm:hex`".to_string()));
    };
    if let Some((_, len)) = KNOWN_ALGORITHMS.iter().find(|(name, _)| *name == algorithm) {
        if hex.len() != *len || !hex.bytes().all(is_lower_hex) {
            return Err(invalid(format!(
                "a {algorithm} digest is {len} lowercase hex characters"
            )));
        }
        return Ok(());
    }
    if !is_valid_algorithm(algorithm) {
        return Err(invalid(format!("invalid algorithm `{algorithm}`")));
    }
    if hex.len() < MIN_DIGEST_HEX_LEN || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid(format!(
            "expected at least {MIN_DIGEST_HEX_LEN} hex characters"
        )));
    }
    Ok(())
}

/// `[A-Za-z][A-Za-z0-9]*` components separated by one of `+ . - _`.
fn is_valid_algorithm(algorithm: &str) -> bool {
    algorithm.split(['+', '.', '-', '_']).all(|component| {
        let mut bytes = component.bytes();
        bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
            && bytes.all(|b| b.is_ascii_alphanumeric())
    })
}

fn is_lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

fn is_lower_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}

#[cfg(test)]
mod tests {
    /// Found by fuzzing (fuzz/run.sh reference): `uuR/ab` names the registry `uuR` (upper
    /// case makes a dotless first component a host, as in Docker), but its normal form was
    /// written `uur/ab`, which reads back as the Docker Hub image `docker.io/uur/ab`.
    #[test]
    fn a_dotless_upper_case_host_keeps_its_meaning() {
        let reference = ImageReference::parse("uuR/ab").unwrap();
        let again = ImageReference::parse(&reference.to_string()).unwrap();
        assert_eq!(again.to_string(), reference.to_string());
        assert_eq!(reference.policy_name(), "uur/ab");
        assert_eq!(again.policy_name(), "uur/ab");
        // Matched lower case, so a deny list cannot be dodged by capitals.
        assert_eq!(
            ImageReference::parse("EVILHOST/x").unwrap().policy_name(),
            "evilhost/x"
        );
    }

    #[test]
    fn userinfo_is_redacted_digests_are_not() {
        assert_eq!(
            redact_userinfo("user:s3cret@registry.example/app:1"),
            "***@registry.example/app:1"
        );
        assert_eq!(
            redact_userinfo("https://u:tok@ghcr.io/acme/app"),
            "https://***@ghcr.io/acme/app"
        );
        assert_eq!(redact_userinfo("token@ghcr.io"), "***@ghcr.io");
        let digest = format!("nginx@sha256:{}", "a".repeat(64));
        assert_eq!(redact_userinfo(&digest), digest);
        let pinned = format!("ghcr.io/acme/app@sha256:{}", "b".repeat(64));
        assert_eq!(redact_userinfo(&pinned), pinned);
        assert_eq!(redact_userinfo("alpine:3.20"), "alpine:3.20");
    }

    use super::*;

    const SHA256: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn parse(input: &str) -> ImageReference {
        ImageReference::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"))
    }

    /// Parses `input` and returns (normalised full form, familiar form).
    fn forms(input: &str) -> (String, String) {
        let reference = parse(input);
        (reference.to_string(), reference.familiar())
    }

    fn error(input: &str) -> ReferenceError {
        match ImageReference::parse(input) {
            Ok(r) => panic!("{input} should be invalid, parsed as {r}"),
            Err(e) => e,
        }
    }

    #[test]
    fn policy_names_drop_the_https_port() {
        for (input, name) in [
            ("ghcr.io:443/acme/app:1", "ghcr.io/acme/app"),
            (
                "index.docker.io:443/library/nginx",
                "docker.io/library/nginx",
            ),
            ("docker.io:0443/nginx", "docker.io/library/nginx"),
            ("[::1]:443/app", "[::1]/app"),
            ("ghcr.io:4443/acme/app", "ghcr.io:4443/acme/app"),
            ("localhost:5000/app", "localhost:5000/app"),
            (
                "registry.hub.docker.com/library/nginx",
                "docker.io/library/nginx",
            ),
            ("nginx", "docker.io/library/nginx"),
        ] {
            let reference = ImageReference::parse(input).unwrap();
            assert_eq!(reference.policy_name(), name, "{input}");
        }
        // Fetching keeps the host as written.
        let reference = ImageReference::parse("ghcr.io:443/acme/app").unwrap();
        assert_eq!(reference.registry, "ghcr.io:443");
    }

    #[test]
    fn normalises_docker_hub_names() {
        let cases = [
            ("nginx", "docker.io/library/nginx:latest", "nginx"),
            ("nginx:1.27", "docker.io/library/nginx:1.27", "nginx:1.27"),
            ("library/nginx", "docker.io/library/nginx:latest", "nginx"),
            ("docker.io/nginx", "docker.io/library/nginx:latest", "nginx"),
            (
                "docker.io/library/nginx",
                "docker.io/library/nginx:latest",
                "nginx",
            ),
            (
                "index.docker.io/nginx",
                "docker.io/library/nginx:latest",
                "nginx",
            ),
            (
                "registry-1.docker.io/user/app",
                "docker.io/user/app:latest",
                "user/app",
            ),
            ("user/app", "docker.io/user/app:latest", "user/app"),
            (
                "user/app/sub:v1",
                "docker.io/user/app/sub:v1",
                "user/app/sub:v1",
            ),
            ("library/a/b", "docker.io/library/a/b:latest", "library/a/b"),
            ("foo.com", "docker.io/library/foo.com:latest", "foo.com"),
            // No `/`: the colon is a tag separator, not a port.
            (
                "localhost:5000",
                "docker.io/library/localhost:5000",
                "localhost:5000",
            ),
        ];
        for (input, full, familiar) in cases {
            assert_eq!(
                forms(input),
                (full.to_string(), familiar.to_string()),
                "{input}"
            );
        }
    }

    #[test]
    fn keeps_other_registries_and_ports() {
        let cases = [
            ("localhost/app", "localhost/app:latest"),
            ("localhost:5000/app", "localhost:5000/app:latest"),
            ("127.0.0.1:5000/app:1", "127.0.0.1:5000/app:1"),
            ("[::1]:5000/x", "[::1]:5000/x:latest"),
            ("[fe80::1]/x:2", "[fe80::1]/x:2"),
            ("ghcr.io/acme/app:1.2", "ghcr.io/acme/app:1.2"),
            ("ghcr.io.evil.com/acme/x", "ghcr.io.evil.com/acme/x:latest"),
            ("GHCR.IO/acme/app", "ghcr.io/acme/app:latest"),
            (
                "my-registry.example.com:443/team/app",
                "my-registry.example.com:443/team/app:latest",
            ),
        ];
        for (input, full) in cases {
            let reference = parse(input);
            assert_eq!(reference.to_string(), full, "{input}");
            assert_eq!(reference.familiar(), full.replace(":latest", ""), "{input}");
        }
    }

    #[test]
    fn splits_registry_repository_tag_and_digest() {
        let reference = parse(&format!("host:5000/a/b/c:tag@{SHA256}"));
        assert_eq!(reference.registry, "host:5000");
        assert_eq!(reference.repository, "a/b/c");
        assert_eq!(reference.tag.as_deref(), Some("tag"));
        assert_eq!(reference.digest.as_deref(), Some(SHA256));
        assert_eq!(reference.name(), "host:5000/a/b/c");
        assert!(reference.is_pinned());
        assert_eq!(reference.digest_algorithm(), Some("sha256"));
        assert_eq!(reference.effective_tag(), Some("tag"));
    }

    #[test]
    fn tag_and_digest_together() {
        let reference = parse(&format!("nginx:1.27@{SHA256}"));
        assert_eq!(
            reference.to_string(),
            format!("docker.io/library/nginx:1.27@{SHA256}")
        );
        assert_eq!(reference.familiar(), format!("nginx:1.27@{SHA256}"));
    }

    #[test]
    fn effective_tag() {
        assert_eq!(parse("nginx").effective_tag(), Some("latest"));
        assert_eq!(parse("nginx:1").effective_tag(), Some("1"));
        assert_eq!(parse("nginx:latest").effective_tag(), Some("latest"));
        let digest_only = parse(&format!("nginx@{SHA256}"));
        assert_eq!(digest_only.effective_tag(), None);
        assert_eq!(
            digest_only.to_string(),
            format!("docker.io/library/nginx@{SHA256}")
        );
        assert!(!parse("nginx:1").is_pinned());
    }

    #[test]
    fn uppercase_first_component_is_a_registry_like_docker() {
        let reference = parse("Foo/bar");
        // Kept as written (see `a_dotless_upper_case_host_keeps_its_meaning`), matched lower.
        assert_eq!(reference.registry, "Foo");
        assert_eq!(reference.policy_name(), "foo/bar");
    }

    #[test]
    fn tags_may_be_uppercase_and_long() {
        assert_eq!(parse("nginx:LATEST").tag.as_deref(), Some("LATEST"));
        assert_eq!(parse("nginx:_x.y-z").tag.as_deref(), Some("_x.y-z"));
        let longest = "a".repeat(128);
        assert_eq!(parse(&format!("nginx:{longest}")).tag, Some(longest));
    }

    #[test]
    fn path_separators() {
        for ok in ["a.b", "a_b", "a__b", "a-b", "a---b", "a1.b2_c3__d4-e5", "0"] {
            parse(ok);
        }
        for bad in [
            "a..b", "a___b", "a._b", "-a", "a-", "_a", "a_", ".a", "a.", "a//b", "a/",
        ] {
            assert!(
                matches!(error(bad), ReferenceError::InvalidRepository(_)),
                "{bad}"
            );
        }
    }

    #[test]
    fn rejects_uppercase_repositories() {
        for bad in [
            "NGINX",
            "Nginx:1",
            "docker.io/NGINX",
            "ghcr.io/Acme/app",
            "Foo/Bar",
        ] {
            assert!(matches!(error(bad), ReferenceError::Uppercase(_)), "{bad}");
        }
    }

    #[test]
    fn rejects_bad_tags() {
        let too_long = format!("nginx:{}", "a".repeat(129));
        for bad in [
            "nginx:",
            "nginx:.x",
            "nginx:-x",
            "nginx:a b",
            "nginx:a:b",
            "nginx:a+b",
            &too_long,
        ] {
            assert!(matches!(error(bad), ReferenceError::InvalidTag(_)), "{bad}");
        }
    }

    #[test]
    fn rejects_bad_digests() {
        let upper = format!(
            "nginx@{}",
            SHA256.to_ascii_uppercase().replace("SHA256", "sha256")
        );
        let short_sha512 = format!("nginx@sha512:{}", "a".repeat(64));
        for bad in [
            "nginx@sha256:abc",
            "nginx@",
            "nginx@sha256:",
            "nginx@sha256",
            &upper,
            &format!("nginx@{SHA256}0"),
            &short_sha512,
            "nginx@1sha:0123456789abcdef0123456789abcdef",
            "nginx@foo:0123456789abcdef",
            "nginx@foo:0123456789abcdef0123456789abcdeg",
        ] {
            assert!(
                matches!(error(bad), ReferenceError::InvalidDigest { .. }),
                "{bad}"
            );
        }
    }

    #[test]
    fn accepts_other_digest_algorithms_per_grammar() {
        parse(&format!("nginx@sha512:{}", "a".repeat(128)));
        parse(&format!("nginx@sha384:{}", "0".repeat(96)));
        let other = parse("nginx@multihash+base58:0123456789ABCDEF0123456789abcdef");
        assert!(other.is_pinned());
        assert_eq!(other.digest_algorithm(), Some("multihash+base58"));
    }

    #[test]
    fn rejects_bad_registries() {
        for bad in [
            "host:/app",
            "host:port/app",
            "-host.com/app",
            "host-.com/app",
            "a..b.com/app",
            "a_b.com/app",
            "[::1/app",
            "[]:5000/app",
            "nginx:a/b", // the first component has a `:`, so it is a host with a bad port
            "[::1]x/app",
            "[::g]/app",
            ":5000/app",
        ] {
            assert!(
                matches!(error(bad), ReferenceError::InvalidRegistry(_)),
                "{bad}"
            );
        }
    }

    #[test]
    fn rejects_other_invalid_shapes() {
        assert_eq!(error(""), ReferenceError::Empty);
        let id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert!(matches!(error(id), ReferenceError::ImageId(_)));
        assert!(matches!(
            error(":tag"),
            ReferenceError::InvalidRepository(_)
        ));
        assert!(matches!(
            error("@sha256:abc"),
            ReferenceError::InvalidRepository(_)
        ));
        assert!(matches!(
            error("/app"),
            ReferenceError::InvalidRepository(_)
        ));
        assert!(matches!(
            error("nginx latest"),
            ReferenceError::InvalidRepository(_)
        ));
        assert!(matches!(error("app:${TAG}"), ReferenceError::InvalidTag(_)));
        assert!(matches!(
            error("$REGISTRY/app"),
            ReferenceError::InvalidRegistry(_)
        ));
        let long = format!("ghcr.io/{}", "a".repeat(250));
        assert!(matches!(error(&long), ReferenceError::NameTooLong(_)));
        parse(&format!("ghcr.io/{}", "a".repeat(247)));
    }

    #[test]
    fn display_round_trips() {
        for input in [
            "nginx",
            "user/app:1",
            "localhost:5000/a/b",
            &format!("x@{SHA256}"),
        ] {
            let reference = parse(input);
            assert_eq!(
                parse(&reference.to_string()),
                ImageReference {
                    tag: reference
                        .tag
                        .clone()
                        .or_else(|| { reference.digest.is_none().then(|| "latest".to_string()) }),
                    ..reference.clone()
                }
            );
            assert_eq!(parse(&reference.familiar()), reference);
        }
    }
}
