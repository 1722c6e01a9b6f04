//! Trust: verifiers that turn signature bytes fetched by the image sources into verdicts.
//!
//! Discovery (where signatures live: the `sha256-<hex>.sig` tag, OCI referrers or the
//! referrers tag schema) is I/O and belongs to the image sources; verification here is pure
//! code over bytes and the trusted material the policy names, so it can be tested without a
//! registry. Every check that binds two things (signature ↔ key, payload ↔ digest, log entry
//! ↔ signature, SET ↔ a trusted log key) is its own function with its own tamper test.

use std::collections::BTreeMap;

/// A signature as the image sources found it, its bytes already checked against their
/// digests. Nothing in it is trusted yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// One layer of a cosign `.sig` manifest: the simple-signing payload and the layer's
    /// annotations (`dev.cosignproject.cosign/signature`, `dev.sigstore.cosign/bundle`, …).
    Legacy {
        payload: Vec<u8>,
        annotations: BTreeMap<String, String>,
    },
    /// A Sigstore bundle (v0.3 JSON), the layer of an OCI referrer whose subject is the image.
    Bundle { bundle: Vec<u8> },
}

/// What a signature must satisfy: the policy's `cosign` block, loaded and validated.
#[derive(Debug, Clone, Default)]
pub struct Requirements {
    /// Keys any one of which may have signed (cosign's `--key`).
    pub keys: Vec<PublicKey>,
    /// Signed annotations that must be present with these values (legacy format).
    pub annotations: BTreeMap<String, String>,
    /// Whether a transparency-log entry, proven with `trusted_root`'s log keys, is required.
    pub require_tlog: bool,
    /// The trusted root whose log keys prove log entries (and, for keyless, whose CAs and CT
    /// logs vouch for certificates).
    pub trusted_root: Option<TrustedRoot>,
}

/// A public key a signature may be verified with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// `sha256:<hex>` of the SubjectPublicKeyInfo DER: how findings name the signer.
    pub id: String,
    /// The SubjectPublicKeyInfo, DER.
    pub spki: Vec<u8>,
}

/// A Sigstore trusted root (protobuf-specs JSON), parsed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TrustedRoot {
    /// Transparency-log keys: log id (hex SHA-256 of the key's DER) → SPKI DER.
    pub tlogs: BTreeMap<String, Vec<u8>>,
}

/// The verdict on one signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// `legacy` or `bundle`.
    pub format: &'static str,
    /// Who signed: the key id that verified it, or what the signature claims when nothing did.
    pub signer: Option<String>,
    /// The log's integrated time (Unix seconds), when a log entry was proven.
    pub log_time: Option<i64>,
    /// `Ok` when every binding holds; otherwise the first that does not, said for a person.
    pub result: Result<(), String>,
}

/// Parses a PEM public key (SubjectPublicKeyInfo) of a kind cosign accepts.
pub fn parse_public_key_pem(_pem: &str) -> Result<PublicKey, String> {
    Err("not implemented".into())
}

/// Parses a trusted root (protobuf-specs JSON).
pub fn parse_trusted_root(_json: &[u8]) -> Result<TrustedRoot, String> {
    Err("not implemented".into())
}

/// Verifies one signature of the image whose manifest digest is `digest` (`sha256:<hex>`).
pub fn verify(found: &Found, _digest: &str, _requirements: &Requirements) -> Verdict {
    Verdict {
        format: match found {
            Found::Legacy { .. } => "legacy",
            Found::Bundle { .. } => "bundle",
        },
        signer: None,
        log_time: None,
        result: Err("signature verification is not implemented".into()),
    }
}
