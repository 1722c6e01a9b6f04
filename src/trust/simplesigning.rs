//! The legacy (`.sig` tag) format: a simple-signing payload signed as it is, and the layer
//! annotations cosign writes beside it (signature, certificate, chain, Rekor bundle).

use super::rekor::LogEntry;
use crate::image::gojson::Shape;
use base64::Engine;
use serde::Deserialize;
use std::collections::BTreeMap;

pub(crate) const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
pub(crate) const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
pub(crate) const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
pub(crate) const BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";
const COSIGN_SIGNATURE_TYPE: &str = "cosign container image signature";
/// cosign's payloads are a few hundred bytes; a megabyte is not a signature.
pub(crate) const MAX_PAYLOAD_BYTES: usize = 1 << 20;

/// How cosign (Go's `encoding/json`) reads the payload: keys that fold to these names must be
/// exactly these names, once.
const PAYLOAD_SHAPE: Shape = Shape::Struct(&[
    (
        "critical",
        Shape::Struct(&[
            (
                "identity",
                Shape::Struct(&[("docker-reference", Shape::Other)]),
            ),
            (
                "image",
                Shape::Struct(&[("docker-manifest-digest", Shape::Other)]),
            ),
            ("type", Shape::Other),
        ]),
    ),
    ("optional", Shape::Other),
]);

#[derive(Deserialize)]
struct Payload {
    critical: Critical,
    optional: Option<BTreeMap<String, serde_json::Value>>,
}

#[derive(Deserialize)]
struct Critical {
    image: Image,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct Image {
    #[serde(rename = "docker-manifest-digest")]
    docker_manifest_digest: String,
}

/// What a simple-signing payload claims.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Claims {
    pub digest: String,
    /// The `optional` map's string values (signed annotations); cosign compares `-a` values
    /// with strings, so a number or object satisfies no requirement.
    pub annotations: BTreeMap<String, String>,
}

/// Reads a payload as cosign does, refusing one Go would read differently.
pub(crate) fn parse_payload(payload: &[u8]) -> Result<Claims, String> {
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(format!("a payload of {} bytes is too large", payload.len()));
    }
    crate::image::gojson::check(payload, &PAYLOAD_SHAPE).map_err(|e| format!("payload: {e}"))?;
    let parsed: Payload = serde_json::from_slice(payload)
        .map_err(|e| format!("payload is not a simple-signing payload: {e}"))?;
    if parsed.critical.kind != COSIGN_SIGNATURE_TYPE {
        return Err(format!(
            "payload type is `{}`, not `{COSIGN_SIGNATURE_TYPE}`",
            parsed.critical.kind
        ));
    }
    let annotations = super::string_values(parsed.optional.unwrap_or_default());
    Ok(Claims {
        digest: parsed.critical.image.docker_manifest_digest,
        annotations,
    })
}

/// The layer annotations that carry the signature and its evidence.
pub(crate) struct Annotations {
    pub signature: Vec<u8>,
    /// The leaf certificate (DER), keyless.
    pub certificate: Option<Vec<u8>>,
    /// Intermediates and root (DER), keyless; cosign v3 writes none.
    pub chain: Vec<Vec<u8>>,
    pub log_entry: Option<LogEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RekorBundle {
    signed_entry_timestamp: String,
    payload: RekorPayload,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RekorPayload {
    body: String,
    integrated_time: i64,
    log_index: i64,
    #[serde(rename = "logID")]
    log_id: String,
}

pub(crate) fn parse_annotations(
    annotations: &BTreeMap<String, String>,
) -> Result<Annotations, String> {
    let Some(signature) = annotations.get(SIGNATURE_ANNOTATION) else {
        return Err(format!(
            "the layer has no `{SIGNATURE_ANNOTATION}` annotation"
        ));
    };
    let signature =
        b64(signature.trim()).map_err(|_| format!("`{SIGNATURE_ANNOTATION}` is not base64"))?;
    let certificate = match annotations.get(CERTIFICATE_ANNOTATION) {
        Some(pem) if !pem.trim().is_empty() => Some(one_certificate(pem)?),
        _ => None,
    };
    let chain = match annotations.get(CHAIN_ANNOTATION) {
        Some(pem) => certificates(pem, CHAIN_ANNOTATION)?,
        None => Vec::new(),
    };
    let log_entry = match annotations.get(BUNDLE_ANNOTATION) {
        Some(json) => Some(parse_rekor_bundle(json)?),
        None => None,
    };
    Ok(Annotations {
        signature,
        certificate,
        chain,
        log_entry,
    })
}

fn one_certificate(pem: &str) -> Result<Vec<u8>, String> {
    let mut found = certificates(pem, CERTIFICATE_ANNOTATION)?;
    match found.len() {
        1 => Ok(found.remove(0)),
        n => Err(format!(
            "`{CERTIFICATE_ANNOTATION}` holds {n} certificates, not one"
        )),
    }
}

fn certificates(pem: &str, annotation: &str) -> Result<Vec<Vec<u8>>, String> {
    let blocks = super::pem::blocks(pem).map_err(|e| format!("`{annotation}`: {e}"))?;
    blocks
        .into_iter()
        .map(|(label, der)| {
            if label == "CERTIFICATE" {
                Ok(der)
            } else {
                Err(format!(
                    "`{annotation}` holds a `{label}`, not a certificate"
                ))
            }
        })
        .collect()
}

/// cosign's `RekorBundle` annotation: the SET and what it signs; no inclusion proof.
pub(crate) fn parse_rekor_bundle(json: &str) -> Result<LogEntry, String> {
    let bundle: RekorBundle = serde_json::from_str(json)
        .map_err(|e| format!("`{BUNDLE_ANNOTATION}` is not a Rekor bundle: {e}"))?;
    let bad = |what: &str| format!("`{BUNDLE_ANNOTATION}`: {what}");
    let log_id = super::unhex(&bundle.payload.log_id).ok_or_else(|| bad("logID is not hex"))?;
    Ok(LogEntry {
        body: b64(&bundle.payload.body).map_err(|_| bad("body is not base64"))?,
        integrated_time: bundle.payload.integrated_time,
        log_index: bundle.payload.log_index,
        log_id,
        kind_version: None,
        set: Some(
            b64(&bundle.signed_entry_timestamp)
                .map_err(|_| bad("SignedEntryTimestamp is not base64"))?,
        ),
        proof: None,
    })
}

fn b64(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    base64::engine::general_purpose::STANDARD.decode(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:4f9e6e1f6a5c3b2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d";

    fn payload(critical_extra: &str, optional: &str) -> String {
        format!(
            r#"{{"critical":{{"identity":{{"docker-reference":"r"}},"image":{{"docker-manifest-digest":"{DIGEST}"}},"type":"cosign container image signature"{critical_extra}}},"optional":{optional}}}"#
        )
    }

    #[test]
    fn reads_what_cosign_writes() {
        let claims = parse_payload(payload("", "null").as_bytes()).unwrap();
        assert_eq!(claims.digest, DIGEST);
        assert!(claims.annotations.is_empty());
        let claims = parse_payload(payload("", r#"{"env":"prod","n":3}"#).as_bytes()).unwrap();
        assert_eq!(claims.annotations["env"], "prod");
        assert!(
            !claims.annotations.contains_key("n"),
            "a number is no annotation value"
        );
    }

    #[test]
    fn refuses_another_type_and_keys_go_reads_differently() {
        let other = payload("", "null").replace("cosign container image signature", "x");
        assert!(parse_payload(other.as_bytes())
            .unwrap_err()
            .contains("payload type is `x`"));
        // Go would read `Image` as `image`: a second digest cosign might trust.
        let twice = payload(r#","Image":{"docker-manifest-digest":"sha256:00"}"#, "null");
        assert!(parse_payload(twice.as_bytes())
            .unwrap_err()
            .contains("Image"));
        assert!(parse_payload(b"[]").is_err());
        assert!(parse_payload(&vec![b' '; MAX_PAYLOAD_BYTES + 1])
            .unwrap_err()
            .contains("too large"));
    }

    #[test]
    fn reads_the_rekor_bundle_annotation() {
        let json = r#"{"SignedEntryTimestamp":"AQI=","Payload":{"body":"e30=","integratedTime":5,"logIndex":7,"logID":"abcd"}}"#;
        let entry = parse_rekor_bundle(json).unwrap();
        assert_eq!(entry.body, b"{}");
        assert_eq!((entry.integrated_time, entry.log_index), (5, 7));
        assert_eq!(entry.log_id, vec![0xab, 0xcd]);
        assert_eq!(entry.set, Some(vec![1, 2]));
        assert!(parse_rekor_bundle(&json.replace("abcd", "xyz"))
            .unwrap_err()
            .contains("logID is not hex"));
    }

    #[test]
    fn annotations_need_a_signature() {
        let error = parse_annotations(&BTreeMap::new()).err().unwrap();
        assert!(error.contains(SIGNATURE_ANNOTATION));
        let annotations = BTreeMap::from([(SIGNATURE_ANNOTATION.to_string(), "!!".to_string())]);
        assert!(parse_annotations(&annotations)
            .err()
            .unwrap()
            .contains("not base64"));
    }
}
