//! Docker Content Trust (Notary v1): a tag is admitted when trust data that a pinned root
//! reaches signs its manifest, never on first use.
//!
//! `DOCKER_CONTENT_TRUST=1` trusts a repository's root key the first time it sees it; on an
//! ephemeral CI runner every run is the first time, so whoever answers for the Notary server
//! can hand over his own root. Here the root is pinned in the policy — root keys (certificates,
//! public keys, or key ids) or a `root.json` — and everything else is verified from it as the
//! TUF spec and Notary's client do ([`verify`]): root rotations followed version by version,
//! timestamp → snapshot → targets (→ delegations) by their roles' keys up to each threshold,
//! hashes and lengths, expiry, and the tag's target against the manifest the registry serves.
//!
//! [`client`] is the one piece that does I/O: it reads the metadata over HTTPS, size-capped.

mod canonical;
pub(crate) mod client;
mod tuf;
mod verify;

pub use verify::Failure;

/// The role `docker trust sign` signs into, and that Docker looks in first.
pub const RELEASES_ROLE: &str = "targets/releases";

/// A `notary` block of a `verify` entry, validated and with its files read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotaryPolicy {
    /// `https://host[:port]`, without a trailing slash.
    pub server: String,
    /// PEM of the CA certificates the server's TLS certificate may chain to, besides the
    /// system's (`ca_file`).
    pub ca_pem: Option<Vec<u8>>,
    /// The file `ca_pem` came from, for `policy show`.
    pub ca_file: Option<String>,
    pub pin: Pin,
    /// Roles that must each sign the tag; empty: Docker's lookup (`targets/releases`, then
    /// `targets`).
    pub delegations: Vec<String>,
}

/// What the root is pinned to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pin {
    /// Root keys: the root in force must be signed by them up to its threshold, or be reached
    /// from one that is through the chain of rotations.
    Keys(Vec<PinnedKey>),
    /// A root.json (as Docker keeps it in `~/.docker/trust/tuf/<gun>/metadata/root.json`):
    /// newer roots are followed from it.
    Root(PinnedRoot),
}

/// One pinned root key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinnedKey {
    /// As written in the policy (a path or a key id), for messages.
    pub written: String,
    pub matcher: KeyMatcher,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyMatcher {
    /// A key id (hex SHA-256): the TUF id root.json lists, or Notary's canonical id that
    /// `notary key list` prints.
    Id(String),
    /// A public key (SubjectPublicKeyInfo DER), from a `PUBLIC KEY` PEM: any root that key
    /// signs (Notary reuses one root key for every repository a client initialises).
    Spki(Vec<u8>),
    /// A root certificate: its key, for the repository its common name names (a certificate
    /// of another repository pins nothing here, even when the key is shared).
    Certificate { spki: Vec<u8>, common_name: String },
}

impl PinnedKey {
    /// Reads a pin: 64 hex digits are a key id; anything else names a PEM file (read by the
    /// caller) holding a `CERTIFICATE` or a `PUBLIC KEY`.
    pub fn from_pem(written: &str, pem: &str) -> Result<PinnedKey, String> {
        let blocks = super::pem::blocks(pem)?;
        let matcher = match blocks.as_slice() {
            [(label, der)] if label == "CERTIFICATE" => {
                let (spki, certificate) = tuf::read_certificate(der)?;
                super::keys::public_key_from_der(&spki)?;
                KeyMatcher::Certificate {
                    spki,
                    common_name: certificate.common_name,
                }
            }
            [(label, der)] if label == "PUBLIC KEY" => {
                super::keys::public_key_from_der(der)?;
                KeyMatcher::Spki(der.clone())
            }
            [(label, _)] => {
                return Err(format!(
                    "expected a PEM `CERTIFICATE` or `PUBLIC KEY`, found `{label}`"
                ))
            }
            [] => return Err("no PEM block found".into()),
            _ => {
                return Err(format!(
                    "expected one PEM certificate or public key, found {} blocks",
                    blocks.len()
                ))
            }
        };
        Ok(PinnedKey {
            written: written.to_string(),
            matcher,
        })
    }

    /// A pin by key id, if `text` is one (64 hex digits).
    pub fn from_id(text: &str) -> Option<PinnedKey> {
        (text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())).then(|| PinnedKey {
            written: text.to_string(),
            matcher: KeyMatcher::Id(text.to_ascii_lowercase()),
        })
    }

    /// Whether this pin names `key`, a root key of the repository `gun`.
    pub(crate) fn matches(&self, key: &tuf::Key, gun: &str) -> bool {
        match &self.matcher {
            KeyMatcher::Id(id) => key.id == *id || key.canonical_id == *id,
            KeyMatcher::Spki(spki) => key.material.identity() == spki.as_slice(),
            KeyMatcher::Certificate { spki, common_name } => {
                key.material.identity() == spki.as_slice() && cn_matches(common_name, gun)
            }
        }
    }
}

/// Notary's `MatchCNToGun`: a certificate's common name is the GUN itself, or a prefix of it
/// ending in `*`.
pub(crate) fn cn_matches(common_name: &str, gun: &str) -> bool {
    match common_name.strip_suffix('*') {
        Some(prefix) => gun.starts_with(prefix),
        None => common_name == gun,
    }
}

/// A pinned root.json.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinnedRoot {
    pub file: String,
    pub bytes: Vec<u8>,
}

impl PinnedRoot {
    /// Checks that `bytes` is a root signed by its own root keys up to their threshold.
    pub fn new(file: &str, bytes: Vec<u8>) -> Result<PinnedRoot, String> {
        let root: tuf::Signed<tuf::Root> = tuf::parse(&bytes, "Root")?;
        let role = root
            .body
            .role("root")
            .ok_or_else(|| "a root without a `root` role".to_string())?;
        root.verify(&role)
            .map_err(|e| format!("the root does not verify with its own root keys: {e}"))?;
        Ok(PinnedRoot {
            file: file.to_string(),
            bytes,
        })
    }
}

/// A tag admitted by its trust data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admission {
    /// The role(s) whose signed target matched.
    pub role: String,
    /// The target name (the tag).
    pub tag: String,
    /// The version of the root in force.
    pub root_version: i64,
}

/// What Docker Content Trust said of one image, as image facts carry it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum NotaryFacts {
    /// No `notary` block covers the image.
    #[default]
    NotRequested,
    /// Checked: admitted, or refused for the reason given.
    Checked(Result<Admission, String>),
}

#[cfg(test)]
mod tests;
