//! Trust: verifiers that turn signature bytes fetched by the image sources into verdicts.
//!
//! Discovery (where signatures live: the `sha256-<hex>.sig` tag, OCI referrers or the
//! referrers tag schema) is I/O and belongs to the image sources; verification here is pure
//! code over bytes and the trusted material the policy names, so it can be tested without a
//! registry. Every check that binds two things (signature ↔ key, payload ↔ digest, log entry
//! ↔ signature, SET ↔ a trusted log key) is its own function with its own tamper test.
//!
//! The modules, one per concern: `keys` (SPKI keys, signatures as each kind is hashed),
//! `simplesigning` (the `.sig` payload and annotations), `dsse` (PAE, in-toto Statements),
//! `bundle` (Sigstore bundles v0.1–v0.3), `rekor` (SETs, inclusion proofs, checkpoints, log
//! bodies), `fulcio` (keyless certificates, SCTs), `trusted_root`, `provenance` (what a SLSA
//! predicate says).
//!
//! Signatures ([`verify`]) and attestations ([`verify_attestation`]) take one path; they
//! differ only in the predicate types they accept (cosign's sign predicate, or any other).
//!
//! The order of checks, every format: each log entry is the log's (with a trusted root); the
//! signature is a trusted signer's (a policy key, else a keyless certificate at the proven log
//! time); each entry records this signature; the payload names the image; the required
//! annotations are signed. The first that fails is the verdict. Not covered yet: RFC 3161
//! timestamps (ignored; the log's time is used), Rekor v2 entries and checkpoints, `intoto`
//! entries, the `.sig` docker-reference (not checked, as cosign does not by default),
//! attestations in cosign's `.att` tag (only bundle referrers are attestations here).

mod bundle;
mod dsse;
mod fulcio;
mod keys;
pub mod notary;
mod pem;
mod provenance;
mod rekor;
mod simplesigning;
mod trusted_root;

use dsse::Purpose;
use rekor::{LogEntry, Logged, LoggedContent};
use std::collections::BTreeMap;

pub use provenance::{slsa_provenance, Provenance, SLSA_PROVENANCE_V02, SLSA_PROVENANCE_V1};

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
    /// Signed annotations that must be present with these values: the legacy payload's
    /// `optional` map, or the bundle Statement's subject annotations (cosign's `-a`).
    pub annotations: BTreeMap<String, String>,
    /// Whether a transparency-log entry, proven with `trusted_root`'s log keys, is required.
    /// An entry that is present is verified either way (when there is a trusted root), and a
    /// failing one fails the signature.
    pub require_tlog: bool,
    /// The trusted root whose log keys prove log entries (and, for keyless, whose CAs and CT
    /// logs vouch for certificates).
    pub trusted_root: Option<TrustedRoot>,
    /// Keyless signatures (cosign's `--certificate-oidc-issuer` and
    /// `--certificate-identity-regexp`): a certificate from a CA of `trusted_root` for this
    /// identity. `None`: only `keys` may sign.
    pub keyless: Option<Keyless>,
}

/// Which keyless certificates may sign.
#[derive(Debug, Clone)]
pub struct Keyless {
    /// The OIDC issuer the certificate must name, exactly (extension 1.3.6.1.4.1.57264.1.8,
    /// or the legacy 1.1).
    pub issuer: String,
    /// A pattern the certificate's subject (its URI or e-mail SAN) must match; anchor it
    /// (`^…$`) to match the whole subject, as cosign's `--certificate-identity-regexp` does
    /// not anchor either.
    pub subject_regex: regex::Regex,
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
    /// When each transparency-log key was valid (same ids as `tlogs`); an entry integrated
    /// outside it is not proven.
    pub tlog_validity: BTreeMap<String, Validity>,
    /// Certificate-transparency log keys (keyless SCTs): log id (hex) → SPKI DER.
    pub ctlogs: BTreeMap<String, Vec<u8>>,
    /// When each CT log key was valid (same ids as `ctlogs`).
    pub ctlog_validity: BTreeMap<String, Validity>,
    /// The certificate authorities (Fulcio) keyless certificates must chain to.
    pub certificate_authorities: Vec<CertificateAuthority>,
}

/// A time range in Unix seconds; an open end is unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Validity {
    pub start: Option<i64>,
    pub end: Option<i64>,
}

impl Validity {
    /// Whether `time` falls within the range (both ends included).
    pub fn contains(&self, time: i64) -> bool {
        self.start.is_none_or(|start| start <= time) && self.end.is_none_or(|end| time <= end)
    }
}

/// A certificate authority of the trusted root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateAuthority {
    /// Where it issues from (informational).
    pub uri: String,
    /// Its chain, DER, issuing certificate first and root last.
    pub chain: Vec<Vec<u8>>,
    /// When it may have issued certificates.
    pub validity: Validity,
}

/// The verdict on one signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// `legacy` or `bundle`.
    pub format: &'static str,
    /// Who signed: the key id that verified it (`sha256:<hex>`), or for keyless the
    /// certificate's identity (`<subject> from <issuer>`); when nothing verified, what the
    /// signature claims, if anything.
    pub signer: Option<String>,
    /// The log's integrated time (Unix seconds), when a log entry was proven and bound to this
    /// signature and its SET vouches for the time (an inclusion proof alone does not).
    pub log_time: Option<i64>,
    /// `Ok` when every binding holds; otherwise the first that does not, said for a person.
    pub result: Result<(), String>,
}

/// What a verified attestation says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attestation {
    pub predicate_type: String,
    pub predicate: serde_json::Value,
    /// The Fulcio certificate's source claims, keyless only (OIDs 1.3.6.1.4.1.57264.1.12
    /// source repository URI, .1.14 source repository ref, .1.13 source repository digest;
    /// DER UTF8String values).
    pub certificate: Option<CertificateClaims>,
}

/// What a Fulcio certificate says about the source that was built (from the CI's OIDC
/// token). A claim absent, repeated or not a UTF8String is `None`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CertificateClaims {
    pub source_repository_uri: Option<String>,
    pub source_repository_ref: Option<String>,
    pub source_repository_digest: Option<String>,
}

/// The verdict on one attestation: as [`Verdict`], with what it attests when it verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestationVerdict {
    /// `bundle` (the only format attestations are read from yet).
    pub format: &'static str,
    /// Who signed, as [`Verdict::signer`].
    pub signer: Option<String>,
    /// The proven log time, as [`Verdict::log_time`].
    pub log_time: Option<i64>,
    /// `Ok` with the Statement's predicate when every binding holds; otherwise the first that
    /// does not, said for a person.
    pub result: Result<Attestation, String>,
}

/// Parses a PEM public key (SubjectPublicKeyInfo) of a kind cosign accepts.
pub fn parse_public_key_pem(pem: &str) -> Result<PublicKey, String> {
    keys::parse_pem(pem)
}

/// Parses a trusted root (protobuf-specs JSON).
/// The PEM blocks of a text: (label, DER) each.
pub fn pem_blocks(text: &str) -> Result<Vec<(String, Vec<u8>)>, String> {
    pem::blocks(text)
}

/// Reads a Sigstore trusted root (protobuf-specs JSON).
pub fn parse_trusted_root(json: &[u8]) -> Result<TrustedRoot, String> {
    trusted_root::parse(json)
}

/// Verifies one signature of the image whose manifest digest is `digest` (`sha256:<hex>`).
pub fn verify(found: &Found, digest: &str, requirements: &Requirements) -> Verdict {
    let (trail, result) = verify_as(found, digest, requirements, Purpose::Signature);
    Verdict {
        format: format_of(found),
        signer: trail.signer,
        log_time: trail.log_time,
        result: result.map(drop),
    }
}

/// Verifies `found` as an attestation of the image `digest` names: every binding exactly as for
/// a signature (DSSE over PAE with a required key or keyless identity, log entry, SCT, time,
/// required annotations), and an in-toto Statement (v1, and v0.1 for older cosign) listing
/// `digest` among its subjects — but any predicate type. `None` when `found` is not an
/// attestation at all (a legacy `.sig` payload, a bundle holding a message signature, or a
/// bundle whose statement is cosign's sign/v1 signature). A bundle that cannot be read far
/// enough to tell is verified, and fails saying why.
pub fn verify_attestation(
    found: &Found,
    digest: &str,
    requirements: &Requirements,
) -> Option<AttestationVerdict> {
    if !may_be_attestation(found) {
        return None;
    }
    let (trail, result) = verify_as(found, digest, requirements, Purpose::Attestation);
    let result = result.and_then(|proven| {
        let statement = proven
            .statement
            .ok_or("the signature carries no in-toto Statement, so attests nothing")?;
        Ok(Attestation {
            predicate_type: statement.predicate_type,
            predicate: statement.predicate,
            certificate: proven.claims,
        })
    });
    Some(AttestationVerdict {
        format: format_of(found),
        signer: trail.signer,
        log_time: trail.log_time,
        result,
    })
}

/// The string values of a JSON object (signed annotations): only strings count.
fn string_values<I>(map: I) -> BTreeMap<String, String>
where
    I: IntoIterator<Item = (String, serde_json::Value)>,
{
    map.into_iter()
        .filter_map(|(key, value)| match value {
            serde_json::Value::String(text) => Some((key, text)),
            _ => None,
        })
        .collect()
}

fn format_of(found: &Found) -> &'static str {
    match found {
        Found::Legacy { .. } => "legacy",
        Found::Bundle { .. } => "bundle",
    }
}

/// Whether `found` could be an attestation, from what it claims (nothing is verified here: a
/// false claim of being a signature is caught when it is verified as one).
fn may_be_attestation(found: &Found) -> bool {
    let Found::Bundle { bundle } = found else {
        return false;
    };
    let Ok(bundle) = bundle::parse(bundle) else {
        return true;
    };
    match &bundle.content {
        bundle::Content::MessageSignature { .. } => false,
        bundle::Content::Dsse { payload, .. } => !matches!(
            dsse::parse_statement(payload),
            Ok(statement) if statement.predicate_type == dsse::COSIGN_SIGN_PREDICATE
        ),
    }
}

/// Who signed and when, as far as verification got (filled in even when it fails later).
#[derive(Default)]
struct Trail {
    signer: Option<String>,
    log_time: Option<i64>,
}

/// What a verification proved, for the caller's view of it.
struct Proven {
    /// The Statement, when the signature is a DSSE envelope.
    statement: Option<dsse::Statement>,
    /// The source claims of the keyless certificate that signed.
    claims: Option<CertificateClaims>,
}

/// The one verification path of signatures and attestations.
fn verify_as(
    found: &Found,
    digest: &str,
    requirements: &Requirements,
    purpose: Purpose,
) -> (Trail, Result<Proven, String>) {
    let mut trail = Trail::default();
    let result = match found {
        Found::Legacy {
            payload,
            annotations,
        } => match purpose {
            Purpose::Signature => {
                verify_legacy(&mut trail, payload, annotations, digest, requirements)
            }
            Purpose::Attestation => Err("a `.sig` signature is not an attestation".into()),
        },
        Found::Bundle { bundle } => {
            verify_bundle(&mut trail, bundle, digest, requirements, purpose)
        }
    };
    (trail, result)
}

fn verify_legacy(
    trail: &mut Trail,
    payload: &[u8],
    annotations: &BTreeMap<String, String>,
    digest: &str,
    requirements: &Requirements,
) -> Result<Proven, String> {
    if payload.len() > simplesigning::MAX_PAYLOAD_BYTES {
        return Err(format!("a payload of {} bytes is too large", payload.len()));
    }
    let layer = simplesigning::parse_annotations(annotations)?;
    let log_entries: Vec<LogEntry> = layer.log_entry.into_iter().collect();
    let evidence = Evidence {
        signed: Signed::Message(payload.to_vec()),
        signature: &layer.signature,
        certificate: layer.certificate.as_deref(),
        chain: &layer.chain,
        log_entries: &log_entries,
        logged: LoggedContent::Payload(payload),
        claimed_key: None,
    };
    let claims = verify_evidence(trail, &evidence, requirements)?;
    let signed = simplesigning::parse_payload(payload)?;
    bind_digest(&signed.digest, digest)?;
    bind_annotations(&requirements.annotations, &signed.annotations)?;
    Ok(Proven {
        statement: None,
        claims,
    })
}

fn verify_bundle(
    trail: &mut Trail,
    bytes: &[u8],
    digest: &str,
    requirements: &Requirements,
    purpose: Purpose,
) -> Result<Proven, String> {
    let bundle = bundle::parse(bytes)?;
    match &bundle.content {
        bundle::Content::Dsse {
            payload_type,
            payload,
            signature,
        } => {
            if payload_type != dsse::IN_TOTO_PAYLOAD_TYPE {
                return Err(format!(
                    "the DSSE payload type is `{payload_type}`, not `{}`",
                    dsse::IN_TOTO_PAYLOAD_TYPE
                ));
            }
            let evidence = Evidence {
                signed: Signed::Message(dsse::pae(payload_type, payload)),
                signature,
                certificate: bundle.certificate.as_deref(),
                chain: &bundle.chain,
                log_entries: &bundle.log_entries,
                logged: LoggedContent::Dsse(payload),
                claimed_key: bundle.hint.as_deref(),
            };
            let claims = verify_evidence(trail, &evidence, requirements)?;
            let statement = dsse::parse_statement(payload)?;
            dsse::bind_predicate_type(&statement, purpose)?;
            let annotations = dsse::bind_subject(&statement, digest)?;
            bind_annotations(&requirements.annotations, annotations)?;
            Ok(Proven {
                statement: Some(statement),
                claims,
            })
        }
        bundle::Content::MessageSignature {
            digest: message_digest,
            signature,
        } => {
            if purpose == Purpose::Attestation {
                return Err("a message signature is not an attestation".into());
            }
            let evidence = Evidence {
                signed: Signed::Digest(message_digest),
                signature,
                certificate: bundle.certificate.as_deref(),
                chain: &bundle.chain,
                log_entries: &bundle.log_entries,
                logged: LoggedContent::Digest(message_digest),
                claimed_key: bundle.hint.as_deref(),
            };
            let claims = verify_evidence(trail, &evidence, requirements)?;
            bind_digest(&format!("sha256:{}", hex(message_digest)), digest)
                .map_err(|e| format!("message signature: {e}"))?;
            bind_annotations(&requirements.annotations, &BTreeMap::new())?;
            Ok(Proven {
                statement: None,
                claims,
            })
        }
    }
}

/// What a signature covers, as its format says.
enum Signed<'a> {
    /// Bytes signed as they are (hashed as the key's kind demands).
    Message(Vec<u8>),
    /// A message known only by its SHA-256.
    Digest(&'a [u8]),
}

/// Everything a signature brings with it, in any format.
struct Evidence<'a> {
    signed: Signed<'a>,
    signature: &'a [u8],
    certificate: Option<&'a [u8]>,
    chain: &'a [Vec<u8>],
    log_entries: &'a [LogEntry],
    logged: LoggedContent<'a>,
    /// The key the signature says made it (a bundle's hint), only to name it in messages.
    claimed_key: Option<&'a str>,
}

/// The key that made a signature, the certificate it came in, and (keyless) what that
/// certificate says about the source.
struct SigningKey {
    spki: Vec<u8>,
    certificate: Option<Vec<u8>>,
    claims: Option<CertificateClaims>,
}

/// The checks every format shares: the log entries are the log's, the signature is a trusted
/// signer's, and the entries are this signature's. Fills in the trail's signer and log time;
/// returns the keyless certificate's source claims.
fn verify_evidence(
    trail: &mut Trail,
    evidence: &Evidence<'_>,
    requirements: &Requirements,
) -> Result<Option<CertificateClaims>, String> {
    trail.signer = evidence.claimed_key.map(str::to_string);
    let proven = authenticate_entries(evidence.log_entries, requirements)?;
    let log_time = proven.iter().filter_map(|(_, time)| *time).min();
    let signing_key = find_signer(trail, evidence, requirements, log_time)?;
    for (entry, _) in &proven {
        let logged = Logged {
            signature: evidence.signature,
            spki: &signing_key.spki,
            certificate: signing_key.certificate.as_deref(),
            content: evidence.logged,
        };
        rekor::bind_body(entry, &logged)?;
    }
    trail.log_time = log_time;
    Ok(signing_key.claims)
}

/// Proves each log entry with the trusted root; an entry that fails fails the signature.
/// Without a trusted root entries cannot be proven: fine unless the policy requires one.
fn authenticate_entries<'a>(
    entries: &'a [LogEntry],
    requirements: &Requirements,
) -> Result<Vec<(&'a LogEntry, Option<i64>)>, String> {
    let Some(root) = &requirements.trusted_root else {
        if requirements.require_tlog {
            return Err(
                "a transparency-log entry is required, but no trusted root is configured to \
                 prove it"
                    .into(),
            );
        }
        return Ok(Vec::new());
    };
    if entries.is_empty() && requirements.require_tlog {
        return Err("the signature has no transparency-log entry, and one is required".into());
    }
    entries
        .iter()
        .map(|entry| rekor::authenticate(entry, root).map(|time| (entry, time)))
        .collect()
}

/// Signature ↔ key: a key of the policy, else a keyless certificate the policy trusts.
fn find_signer(
    trail: &mut Trail,
    evidence: &Evidence<'_>,
    requirements: &Requirements,
    log_time: Option<i64>,
) -> Result<SigningKey, String> {
    for key in &requirements.keys {
        if verify_signed(&key.spki, &evidence.signed, evidence.signature).is_ok() {
            trail.signer = Some(key.id.clone());
            return Ok(SigningKey {
                spki: key.spki.clone(),
                certificate: evidence.certificate.map(<[u8]>::to_vec),
                claims: None,
            });
        }
    }
    let keyed_failure = || {
        let ids: Vec<&str> = requirements.keys.iter().map(|k| k.id.as_str()).collect();
        format!("signature does not verify with key {}", ids.join(" or "))
    };
    match (&requirements.keyless, evidence.certificate) {
        (Some(keyless), Some(certificate)) => {
            let root = requirements.trusted_root.as_ref().ok_or(
                "a keyless signature needs a trusted root (its CAs and CT logs), and none is \
                 configured",
            )?;
            let leaf = fulcio::Leaf::parse(certificate)?;
            trail.signer = Some(leaf.identity.to_string());
            let Some(time) = log_time else {
                return Err(
                    "a keyless signature needs a transparency-log entry whose SET shows when it \
                     was made, and it has none"
                        .into(),
                );
            };
            fulcio::verify_certificate(&leaf, evidence.chain, root, keyless, time)?;
            verify_signed(&leaf.spki, &evidence.signed, evidence.signature).map_err(|_| {
                format!(
                    "signature does not verify with the key of the certificate for {}",
                    leaf.identity
                )
            })?;
            Ok(SigningKey {
                spki: leaf.spki.clone(),
                certificate: Some(certificate.to_vec()),
                claims: Some(fulcio::source_claims(&leaf.certificate)),
            })
        }
        (None, Some(certificate)) if requirements.keys.is_empty() => {
            if let Ok(leaf) = fulcio::Leaf::parse(certificate) {
                trail.signer = Some(leaf.identity.to_string());
            }
            Err("the signature is keyless, and the policy names no keyless identity".into())
        }
        (Some(_), None) if requirements.keys.is_empty() => {
            Err("the signature has no certificate, and the policy trusts only keyless ones".into())
        }
        _ if requirements.keys.is_empty() => {
            Err("the policy names no key and no keyless identity to verify with".into())
        }
        _ => Err(keyed_failure()),
    }
}

fn verify_signed(spki: &[u8], signed: &Signed<'_>, signature: &[u8]) -> Result<(), String> {
    match signed {
        Signed::Message(message) => keys::verify_message(spki, message, signature),
        Signed::Digest(digest) => keys::verify_prehashed(spki, digest, signature),
    }
}

/// Payload ↔ digest: the signed payload names this image.
fn bind_digest(signed: &str, digest: &str) -> Result<(), String> {
    // Exactly, as cosign compares them.
    if signed == digest {
        Ok(())
    } else {
        Err(format!("payload names {signed} not the image {digest}"))
    }
}

/// Required annotations ↔ signed annotations: each is signed, with the required value.
fn bind_annotations(
    required: &BTreeMap<String, String>,
    signed: &BTreeMap<String, String>,
) -> Result<(), String> {
    for (key, value) in required {
        match signed.get(key) {
            Some(actual) if actual == value => {}
            Some(actual) => {
                return Err(format!(
                    "signed annotation `{key}` is `{actual}`, the policy requires `{value}`"
                ))
            }
            None => {
                return Err(format!(
                    "annotation `{key}` is not signed (the policy requires `{value}`)"
                ))
            }
        }
    }
    Ok(())
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

/// Hex (either case) to bytes.
pub(crate) fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod attestation_tests;
#[cfg(test)]
mod testdata;

#[cfg(test)]
mod tests;
