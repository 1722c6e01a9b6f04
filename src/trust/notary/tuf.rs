//! TUF metadata as Notary (v1) writes it: signed envelopes, keys and roles, and the checks
//! over one file — its type, its expiry, and signatures by a role's keys up to its threshold.
//!
//! Every file is parsed once, into a JSON value; the signatures are checked over the
//! canonical encoding of that value's `signed` part and the fields read from the same value,
//! so what is verified is what is used.

use super::super::keys;
use super::canonical;
use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// One metadata file: its `signed` part decoded, the bytes signed, and the signatures.
#[derive(Debug, Clone)]
pub(crate) struct Signed<T> {
    pub body: T,
    canonical: Vec<u8>,
    signatures: Vec<Signature>,
}

#[derive(Debug, Clone)]
struct Signature {
    key_id: String,
    method: String,
    bytes: Vec<u8>,
}

#[derive(Deserialize)]
struct RawSignature {
    keyid: String,
    method: String,
    sig: String,
}

/// The fields every role's `signed` has.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Common {
    pub version: i64,
    pub expires: String,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct RawKey {
    pub keytype: String,
    pub keyval: RawKeyValue,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct RawKeyValue {
    /// Base64 of the public part: PKIX DER (`ecdsa`, `rsa`), a PEM certificate
    /// (`ecdsa-x509`, `rsa-x509`) or 32 raw bytes (`ed25519`).
    pub public: String,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct RawRole {
    #[serde(default)]
    pub keyids: Vec<String>,
    pub threshold: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Root {
    #[serde(flatten)]
    pub common: Common,
    pub keys: BTreeMap<String, RawKey>,
    pub roles: BTreeMap<String, RawRole>,
}

impl Root {
    /// The role `name` (`root`, `targets`, `snapshot`, `timestamp`) with the keys this root
    /// lists for it; `None` when the root names no such role.
    pub(crate) fn role(&self, name: &str) -> Option<Role> {
        let raw = self.roles.get(name)?;
        Some(Role::new(name, &raw.keyids, raw.threshold, &self.keys))
    }
}

/// What a snapshot or timestamp says of another file.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct FileMeta {
    pub length: i64,
    #[serde(default)]
    pub hashes: BTreeMap<String, String>,
    #[serde(default)]
    pub version: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Meta {
    #[serde(flatten)]
    pub common: Common,
    pub meta: BTreeMap<String, FileMeta>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Targets {
    #[serde(flatten)]
    pub common: Common,
    #[serde(default)]
    pub targets: BTreeMap<String, FileMeta>,
    #[serde(default)]
    pub delegations: Option<Delegations>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Delegations {
    #[serde(default)]
    pub keys: BTreeMap<String, RawKey>,
    #[serde(default)]
    pub roles: Vec<DelegatedRole>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct DelegatedRole {
    pub name: String,
    #[serde(default)]
    pub keyids: Vec<String>,
    pub threshold: i64,
    /// Target name prefixes the role may sign (`""`: all). Notary ignores
    /// `path_hash_prefixes`, and so a role with only those signs nothing.
    #[serde(default)]
    pub paths: Vec<String>,
}

/// Parses one metadata file of the given `_type` (`Root`, `Targets`, `Snapshot`,
/// `Timestamp`).
pub(crate) fn parse<T: DeserializeOwned>(bytes: &[u8], kind: &str) -> Result<Signed<T>, String> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| format!("is not JSON: {e}"))?;
    let Value::Object(mut top) = value else {
        return Err("is not a JSON object".into());
    };
    let signed = top
        .remove("signed")
        .ok_or_else(|| "has no `signed` part".to_string())?;
    let raw: Vec<RawSignature> = match top.remove("signatures") {
        Some(Value::Null) | None => Vec::new(),
        Some(value) => {
            serde_json::from_value(value).map_err(|e| format!("has malformed `signatures`: {e}"))?
        }
    };
    let canonical = canonical::encode(&signed).map_err(|e| format!("cannot be verified: {e}"))?;
    let found = signed.get("_type").and_then(Value::as_str).unwrap_or("");
    if found != kind {
        return Err(format!("has `_type` `{found}`, not `{kind}`"));
    }
    let body: T = serde_json::from_value(signed).map_err(|e| format!("is malformed: {e}"))?;
    let mut signatures = Vec::with_capacity(raw.len());
    for s in raw {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(s.sig.trim())
            .map_err(|e| format!("has a signature that is not base64: {e}"))?;
        signatures.push(Signature {
            key_id: s.keyid,
            // Notary lower-cases the method when it reads it.
            method: s.method.to_ascii_lowercase(),
            bytes,
        });
    }
    Ok(Signed {
        body,
        canonical,
        signatures,
    })
}

/// A key usable to verify: its ids and public material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Key {
    /// The TUF key id: SHA-256 of the canonical `{"keytype", "keyval": {"private": null,
    /// "public"}}`, as root.json lists it.
    pub id: String,
    /// Notary's "canonical" id: for a certificate, the id of its bare public key (what
    /// `notary key list` prints); the TUF id otherwise.
    pub canonical_id: String,
    pub keytype: String,
    pub material: Material,
    pub certificate: Option<Certificate>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Material {
    /// A SubjectPublicKeyInfo (ECDSA, RSA).
    Spki(Vec<u8>),
    /// 32 raw bytes.
    Ed25519(Vec<u8>),
}

impl Material {
    /// The bytes that identify the key pair, whatever wraps it (for counting distinct keys).
    pub(crate) fn identity(&self) -> &[u8] {
        match self {
            Material::Spki(bytes) | Material::Ed25519(bytes) => bytes,
        }
    }
}

/// What is read of a key's X.509 certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Certificate {
    pub common_name: String,
    pub not_before: i64,
    pub not_after: i64,
}

/// The TUF key id of a key of `keytype` with `public` bytes.
pub(crate) fn key_id(keytype: &str, public: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(public);
    let value = serde_json::json!({
        "keytype": keytype,
        "keyval": {"private": null, "public": encoded},
    });
    let bytes = canonical::encode(&value).unwrap_or_default();
    super::super::hex(&Sha256::digest(bytes))
}

/// Reads a key as root.json or a delegation lists it.
pub(crate) fn key(raw: &RawKey) -> Result<Key, String> {
    let public = base64::engine::general_purpose::STANDARD
        .decode(raw.keyval.public.trim())
        .map_err(|e| format!("a `{}` key that is not base64: {e}", raw.keytype))?;
    let id = key_id(&raw.keytype, &public);
    let (material, certificate, canonical_id) = match raw.keytype.as_str() {
        "ecdsa" | "rsa" => {
            keys::public_key_from_der(&public)?;
            (Material::Spki(public.clone()), None, id.clone())
        }
        "ed25519" => (Material::Ed25519(public.clone()), None, id.clone()),
        "ecdsa-x509" | "rsa-x509" => {
            let text = std::str::from_utf8(&public)
                .map_err(|_| "a certificate key that is not PEM text".to_string())?;
            let der = super::super::pem::blocks(text)?
                .into_iter()
                .find(|(label, _)| label == "CERTIFICATE")
                .map(|(_, der)| der)
                .ok_or_else(|| "a certificate key without a PEM certificate".to_string())?;
            let (spki, certificate) = read_certificate(&der)?;
            keys::public_key_from_der(&spki)?;
            let bare = raw.keytype.trim_end_matches("-x509");
            let canonical_id = key_id(bare, &spki);
            (Material::Spki(spki), Some(certificate), canonical_id)
        }
        other => return Err(format!("key type `{other}` is not one Notary signs with")),
    };
    let kind_ok = match (&material, raw.keytype.as_str()) {
        (Material::Spki(spki), "ecdsa" | "ecdsa-x509") => matches!(
            keys::key_kind(spki)?,
            keys::KeyKind::EcdsaP256 | keys::KeyKind::EcdsaP384
        ),
        (Material::Spki(spki), "rsa" | "rsa-x509") => keys::key_kind(spki)? == keys::KeyKind::Rsa,
        (Material::Ed25519(bytes), _) => bytes.len() == 32,
        _ => false,
    };
    if !kind_ok {
        return Err(format!("a `{}` key holds another kind of key", raw.keytype));
    }
    Ok(Key {
        id,
        canonical_id,
        keytype: raw.keytype.clone(),
        material,
        certificate,
    })
}

/// The SubjectPublicKeyInfo, common name and validity of a DER certificate.
pub(crate) fn read_certificate(der: &[u8]) -> Result<(Vec<u8>, Certificate), String> {
    use der::{Decode, Encode};
    let certificate = x509_cert::Certificate::from_der(der)
        .map_err(|e| format!("not a DER X.509 certificate: {e}"))?;
    let tbs = certificate.tbs_certificate();
    let spki = tbs
        .subject_public_key_info()
        .to_der()
        .map_err(|e| format!("certificate key: {e}"))?;
    let mut common_name = String::new();
    for attribute in tbs.subject().iter() {
        if attribute.oid.to_string() == "2.5.4.3" {
            common_name = directory_string(&attribute.value).unwrap_or_default();
        }
    }
    let validity = tbs.validity();
    let unix = |t: x509_cert::time::Time| {
        i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
    };
    Ok((
        spki,
        Certificate {
            common_name,
            not_before: unix(validity.not_before),
            not_after: unix(validity.not_after),
        },
    ))
}

fn directory_string(value: &der::Any) -> Option<String> {
    use der::asn1::{PrintableStringRef, Utf8StringRef};
    if let Ok(s) = value.decode_as::<Utf8StringRef<'_>>() {
        return Some(s.as_str().to_string());
    }
    value
        .decode_as::<PrintableStringRef<'_>>()
        .ok()
        .map(|s| s.as_str().to_string())
}

/// A role: the keys that may sign for it and how many must.
#[derive(Debug, Clone)]
pub(crate) struct Role {
    pub name: String,
    pub keys: Vec<Key>,
    pub threshold: i64,
}

impl Role {
    /// The role whose key ids are `key_ids`, with the keys of `listed` (the file that names
    /// the role). A listed key whose content does not hash to its id is not usable.
    pub(crate) fn new(
        name: &str,
        key_ids: &[String],
        threshold: i64,
        listed: &BTreeMap<String, RawKey>,
    ) -> Role {
        let keys = key_ids
            .iter()
            .filter_map(|id| {
                let key = key(listed.get(id)?).ok()?;
                (key.id == *id).then_some(key)
            })
            .collect();
        Role {
            name: name.to_string(),
            keys,
            threshold,
        }
    }
}

impl<T> Signed<T> {
    /// The distinct keys of `role` with a valid signature over this file. Distinct by the
    /// key pair, not the id: one key listed twice (bare and in a certificate) counts once.
    pub(crate) fn signers<'k>(&self, role: &'k Role) -> Vec<&'k Key> {
        let mut found: Vec<&Key> = Vec::new();
        for signature in &self.signatures {
            let Some(key) = role.keys.iter().find(|k| k.id == signature.key_id) else {
                continue;
            };
            if found
                .iter()
                .any(|k| k.material.identity() == key.material.identity())
            {
                continue;
            }
            if verify_signature(key, &signature.method, &self.canonical, &signature.bytes).is_ok() {
                found.push(key);
            }
        }
        found
    }

    /// Signatures by `role`'s keys up to its threshold.
    pub(crate) fn verify(&self, role: &Role) -> Result<(), String> {
        if role.threshold < 1 {
            return Err(format!(
                "the `{}` role has threshold {}; at least 1 is required",
                role.name, role.threshold
            ));
        }
        let signers = self.signers(role);
        let need = usize::try_from(role.threshold).unwrap_or(usize::MAX);
        if signers.len() >= need {
            return Ok(());
        }
        Err(if self.signatures.is_empty() {
            "it is not signed".to_string()
        } else {
            format!(
                "it has {} valid signature{} by the `{}` role's keys, and needs {}",
                signers.len(),
                if signers.len() == 1 { "" } else { "s" },
                role.name,
                role.threshold
            )
        })
    }
}

/// One signature by one key, as Notary's verifiers check it.
fn verify_signature(
    key: &Key,
    method: &str,
    message: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    match (method, &key.material, key.keytype.as_str()) {
        ("ecdsa", Material::Spki(spki), "ecdsa" | "ecdsa-x509") => {
            keys::verify_ecdsa_raw_sha256(spki, message, signature)
        }
        ("rsapss", Material::Spki(spki), "rsa" | "rsa-x509") => {
            keys::verify_rsa_sha256(spki, message, signature, true)
        }
        ("rsapkcs1v15", Material::Spki(spki), "rsa" | "rsa-x509") => {
            keys::verify_rsa_sha256(spki, message, signature, false)
        }
        ("eddsa", Material::Ed25519(public), "ed25519") => {
            keys::verify_ed25519_raw(public, message, signature)
        }
        (method, _, keytype) => Err(format!(
            "method `{method}` cannot be used with a `{keytype}` key"
        )),
    }
}

/// Unix seconds of an `expires` time.
pub(crate) fn expiry(common: &Common) -> Result<i64, String> {
    crate::rfc3339::seconds(&common.expires, crate::rfc3339::Separator::Strict)
        .ok_or_else(|| format!("has an unreadable `expires` time `{}`", common.expires))
}

/// The SHA-256 a file meta records, decoded (Notary writes base64).
pub(crate) fn sha256_of(meta: &FileMeta) -> Option<Vec<u8>> {
    let encoded = meta.hashes.get("sha256")?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    (bytes.len() == 32).then_some(bytes)
}
