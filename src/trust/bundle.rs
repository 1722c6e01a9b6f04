//! Sigstore bundles (protobuf-specs `Bundle`, protojson; v0.1 to v0.3): the verification
//! material (a key hint or a certificate, log entries) and the content (a DSSE envelope or a
//! message signature). Only reading here; the bindings are checked in `super::verify_bundle`.

use super::rekor::{InclusionProof, LogEntry};
use base64::Engine;
use serde::{Deserialize, Deserializer};

/// cosign's bundles are a few KiB; a megabyte is not a signature.
pub(crate) const MAX_BUNDLE_BYTES: usize = 1 << 20;
const MAX_LOG_ENTRIES: usize = 8;
const MAX_CHAIN: usize = 8;
const MEDIA_TYPES: [&str; 3] = [
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
];
const MEDIA_TYPE_V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBundle {
    media_type: String,
    verification_material: RawMaterial,
    dsse_envelope: Option<RawEnvelope>,
    message_signature: Option<RawMessageSignature>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMaterial {
    public_key: Option<RawHint>,
    x509_certificate_chain: Option<RawChain>,
    certificate: Option<RawBytes>,
    #[serde(default)]
    tlog_entries: Vec<RawEntry>,
}

#[derive(Deserialize)]
struct RawHint {
    #[serde(default)]
    hint: String,
}

#[derive(Deserialize)]
struct RawChain {
    certificates: Vec<RawBytes>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBytes {
    raw_bytes: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEntry {
    #[serde(deserialize_with = "int64")]
    log_index: i64,
    log_id: RawLogId,
    kind_version: RawKindVersion,
    #[serde(deserialize_with = "int64")]
    integrated_time: i64,
    inclusion_promise: Option<RawPromise>,
    inclusion_proof: Option<RawProof>,
    canonicalized_body: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLogId {
    key_id: String,
}

#[derive(Deserialize)]
struct RawKindVersion {
    kind: String,
    version: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPromise {
    signed_entry_timestamp: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawProof {
    #[serde(deserialize_with = "int64")]
    log_index: i64,
    root_hash: String,
    #[serde(deserialize_with = "int64")]
    tree_size: i64,
    #[serde(default)]
    hashes: Vec<String>,
    checkpoint: Option<RawCheckpoint>,
}

#[derive(Deserialize)]
struct RawCheckpoint {
    envelope: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEnvelope {
    payload: String,
    payload_type: String,
    signatures: Vec<RawSignature>,
}

#[derive(Deserialize)]
struct RawSignature {
    sig: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMessageSignature {
    message_digest: Option<RawDigest>,
    signature: String,
}

#[derive(Deserialize)]
struct RawDigest {
    algorithm: String,
    digest: String,
}

/// protojson writes int64 as a string and reads either.
fn int64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Int64 {
        Number(i64),
        Text(String),
    }
    match Int64::deserialize(deserializer)? {
        Int64::Number(n) => Ok(n),
        Int64::Text(text) => text.parse().map_err(serde::de::Error::custom),
    }
}

/// A bundle, read. Nothing in it is trusted yet.
#[derive(Debug)]
pub(crate) struct Bundle {
    /// `publicKey.hint`: what the signer says its key is (not trusted; a name for messages).
    pub hint: Option<String>,
    /// The leaf certificate (DER), keyless.
    pub certificate: Option<Vec<u8>>,
    /// Certificates after the leaf in `x509CertificateChain` (v0.1/v0.2).
    pub chain: Vec<Vec<u8>>,
    pub log_entries: Vec<LogEntry>,
    pub content: Content,
}

#[derive(Debug)]
pub(crate) enum Content {
    /// A DSSE envelope with its one signature.
    Dsse {
        payload_type: String,
        payload: Vec<u8>,
        signature: Vec<u8>,
    },
    /// A signature over a message known by its SHA-256.
    MessageSignature { digest: Vec<u8>, signature: Vec<u8> },
}

/// Reads a bundle as protojson writes it.
pub(crate) fn parse(bytes: &[u8]) -> Result<Bundle, String> {
    if bytes.len() > MAX_BUNDLE_BYTES {
        return Err(format!("a bundle of {} bytes is too large", bytes.len()));
    }
    let raw: RawBundle =
        serde_json::from_slice(bytes).map_err(|e| format!("not a Sigstore bundle: {e}"))?;
    if raw.media_type != MEDIA_TYPE_V03 && !MEDIA_TYPES.contains(&raw.media_type.as_str()) {
        return Err(format!(
            "bundle mediaType `{}` is not a Sigstore bundle v0.1 to v0.3",
            raw.media_type
        ));
    }
    let material = raw.verification_material;
    let (certificate, chain) = match (&material.certificate, &material.x509_certificate_chain) {
        (Some(leaf), None) => (Some(b64(&leaf.raw_bytes, "certificate.rawBytes")?), vec![]),
        (None, Some(chain)) => {
            if chain.certificates.len() > MAX_CHAIN {
                return Err(format!(
                    "a chain of {} certificates",
                    chain.certificates.len()
                ));
            }
            let mut all = chain
                .certificates
                .iter()
                .map(|c| b64(&c.raw_bytes, "x509CertificateChain"))
                .collect::<Result<Vec<_>, _>>()?;
            if all.is_empty() {
                return Err("x509CertificateChain holds no certificate".into());
            }
            let leaf = all.remove(0);
            (Some(leaf), all)
        }
        (None, None) => (None, vec![]),
        (Some(_), Some(_)) => {
            return Err("the bundle holds both a certificate and a certificate chain".into())
        }
    };
    if certificate.is_some() && material.public_key.is_some() {
        return Err("the bundle holds both a public key hint and a certificate".into());
    }
    let hint = material.public_key.map(|key| match b64(&key.hint, "hint") {
        Ok(bytes) if bytes.len() == 32 => format!("sha256:{}", super::hex(&bytes)),
        _ => key.hint,
    });
    if material.tlog_entries.len() > MAX_LOG_ENTRIES {
        return Err(format!(
            "a bundle with {} log entries",
            material.tlog_entries.len()
        ));
    }
    let log_entries = material
        .tlog_entries
        .iter()
        .map(read_entry)
        .collect::<Result<Vec<_>, _>>()?;
    let content = match (raw.dsse_envelope, raw.message_signature) {
        (Some(envelope), None) => read_envelope(envelope)?,
        (None, Some(message)) => read_message_signature(message)?,
        (None, None) => {
            return Err("the bundle has neither a DSSE envelope nor a message signature".into())
        }
        (Some(_), Some(_)) => {
            return Err("the bundle has both a DSSE envelope and a message signature".into())
        }
    };
    Ok(Bundle {
        hint,
        certificate,
        chain,
        log_entries,
        content,
    })
}

fn read_entry(raw: &RawEntry) -> Result<LogEntry, String> {
    let proof = match &raw.inclusion_proof {
        Some(proof) => Some(InclusionProof {
            index: u64::try_from(proof.log_index)
                .map_err(|_| "inclusionProof.logIndex is negative".to_string())?,
            tree_size: u64::try_from(proof.tree_size)
                .map_err(|_| "inclusionProof.treeSize is negative".to_string())?,
            root_hash: b64(&proof.root_hash, "inclusionProof.rootHash")?,
            hashes: proof
                .hashes
                .iter()
                .map(|h| b64(h, "inclusionProof.hashes"))
                .collect::<Result<_, _>>()?,
            checkpoint: proof.checkpoint.as_ref().map(|c| c.envelope.clone()),
        }),
        None => None,
    };
    Ok(LogEntry {
        body: b64(&raw.canonicalized_body, "canonicalizedBody")?,
        integrated_time: raw.integrated_time,
        log_index: raw.log_index,
        log_id: b64(&raw.log_id.key_id, "logId.keyId")?,
        kind_version: Some((
            raw.kind_version.kind.clone(),
            raw.kind_version.version.clone(),
        )),
        set: match &raw.inclusion_promise {
            Some(promise) => Some(b64(
                &promise.signed_entry_timestamp,
                "inclusionPromise.signedEntryTimestamp",
            )?),
            None => None,
        },
        proof,
    })
}

fn read_envelope(envelope: RawEnvelope) -> Result<Content, String> {
    let [signature] = envelope.signatures.as_slice() else {
        return Err(format!(
            "the DSSE envelope has {} signatures; a bundle's has exactly one",
            envelope.signatures.len()
        ));
    };
    Ok(Content::Dsse {
        payload: b64(&envelope.payload, "dsseEnvelope.payload")?,
        signature: b64(&signature.sig, "dsseEnvelope.signatures[0].sig")?,
        payload_type: envelope.payload_type,
    })
}

fn read_message_signature(message: RawMessageSignature) -> Result<Content, String> {
    let Some(digest) = message.message_digest else {
        return Err("the message signature has no messageDigest".into());
    };
    if digest.algorithm != "SHA2_256" {
        return Err(format!(
            "the message digest is {}; an image digest is SHA2_256",
            digest.algorithm
        ));
    }
    Ok(Content::MessageSignature {
        digest: b64(&digest.digest, "messageSignature.messageDigest.digest")?,
        signature: b64(&message.signature, "messageSignature.signature")?,
    })
}

fn b64(text: &str, field: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| format!("bundle field {field} is not base64"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_keyed_bundle() {
        let bundle = parse(&super::super::testdata::read(
            "bundle/ecdsa-p256/bundle.json",
        ))
        .unwrap();
        assert!(bundle
            .hint
            .as_deref()
            .is_some_and(|h| h.starts_with("sha256:")));
        assert!(bundle.certificate.is_none());
        let [entry] = bundle.log_entries.as_slice() else {
            panic!("one entry")
        };
        assert_eq!(entry.kind_version, Some(("dsse".into(), "0.0.1".into())));
        let proof = entry.proof.as_ref().unwrap();
        assert_eq!(
            entry.log_index - proof.index as i64,
            7000,
            "the sharded log's offset"
        );
        assert!(matches!(bundle.content, Content::Dsse { .. }));
    }

    #[test]
    fn refuses_what_is_not_a_bundle() {
        assert!(parse(b"{}").unwrap_err().contains("not a Sigstore bundle"));
        let other = br#"{"mediaType":"application/json","verificationMaterial":{}}"#;
        assert!(parse(other)
            .unwrap_err()
            .contains("is not a Sigstore bundle"));
        let empty = br#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{}}"#;
        assert!(parse(empty).unwrap_err().contains("neither"));
        let two_sigs = br#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{},
            "dsseEnvelope":{"payload":"","payloadType":"x","signatures":[{"sig":""},{"sig":""}]}}"#;
        assert!(parse(two_sigs).unwrap_err().contains("2 signatures"));
        assert!(parse(&vec![b' '; MAX_BUNDLE_BYTES + 1])
            .unwrap_err()
            .contains("too large"));
    }

    #[test]
    fn int64_reads_strings_and_numbers() {
        #[derive(Deserialize)]
        struct T {
            #[serde(deserialize_with = "int64")]
            n: i64,
        }
        let t: T = serde_json::from_str(r#"{"n":"7"}"#).unwrap();
        assert_eq!(t.n, 7);
        let t: T = serde_json::from_str(r#"{"n":8}"#).unwrap();
        assert_eq!(t.n, 8);
        assert!(serde_json::from_str::<T>(r#"{"n":"x"}"#).is_err());
    }
}
