//! A Sigstore trusted root (protobuf-specs `TrustedRoot`, protojson): the transparency logs'
//! keys, the certificate authorities and the CT logs, each with the time it was valid for.

use super::{CertificateAuthority, TrustedRoot, Validity};
use base64::Engine;
use serde::Deserialize;

/// The most a trusted root may hold: the public-good one is about 10 KiB.
const MAX_TRUSTED_ROOT_BYTES: usize = 1 << 20;
const MEDIA_TYPE_PREFIX: &str = "application/vnd.dev.sigstore.trustedroot";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRoot {
    media_type: Option<String>,
    #[serde(default)]
    tlogs: Vec<RawLog>,
    #[serde(default)]
    certificate_authorities: Vec<RawAuthority>,
    #[serde(default)]
    ctlogs: Vec<RawLog>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLog {
    public_key: RawKey,
    log_id: RawLogId,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawKey {
    raw_bytes: Option<String>,
    valid_for: Option<RawValidity>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLogId {
    key_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAuthority {
    #[serde(default)]
    uri: String,
    cert_chain: RawChain,
    valid_for: Option<RawValidity>,
}

#[derive(Deserialize)]
struct RawChain {
    certificates: Vec<RawCertificate>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCertificate {
    raw_bytes: String,
}

#[derive(Deserialize)]
struct RawValidity {
    start: Option<String>,
    end: Option<String>,
}

/// Parses and checks a trusted root: every key must be one we can verify with, every log id
/// a SHA-256, every certificate DER.
pub(crate) fn parse(json: &[u8]) -> Result<TrustedRoot, String> {
    if json.len() > MAX_TRUSTED_ROOT_BYTES {
        return Err(format!(
            "a trusted root of {} bytes is too large (at most {MAX_TRUSTED_ROOT_BYTES})",
            json.len()
        ));
    }
    let raw: RawRoot =
        serde_json::from_slice(json).map_err(|e| format!("not a Sigstore trusted root: {e}"))?;
    match &raw.media_type {
        Some(media_type) if media_type.starts_with(MEDIA_TYPE_PREFIX) => {}
        Some(other) => {
            return Err(format!(
                "mediaType `{other}` is not a Sigstore trusted root ({MEDIA_TYPE_PREFIX}…)"
            ))
        }
        None => return Err("not a Sigstore trusted root: no mediaType".into()),
    }
    let mut root = TrustedRoot::default();
    for (i, log) in raw.tlogs.iter().enumerate() {
        let (id, key, validity) = read_log(log).map_err(|e| format!("tlogs[{i}]: {e}"))?;
        root.tlog_validity.insert(id.clone(), validity);
        root.tlogs.insert(id, key);
    }
    for (i, log) in raw.ctlogs.iter().enumerate() {
        let (id, key, validity) = read_log(log).map_err(|e| format!("ctlogs[{i}]: {e}"))?;
        root.ctlog_validity.insert(id.clone(), validity);
        root.ctlogs.insert(id, key);
    }
    for (i, authority) in raw.certificate_authorities.iter().enumerate() {
        let ca =
            read_authority(authority).map_err(|e| format!("certificateAuthorities[{i}]: {e}"))?;
        root.certificate_authorities.push(ca);
    }
    Ok(root)
}

fn read_log(log: &RawLog) -> Result<(String, Vec<u8>, Validity), String> {
    let id = decode_b64(&log.log_id.key_id).map_err(|e| format!("logId.keyId: {e}"))?;
    if id.len() != 32 {
        return Err(format!("logId.keyId is {} bytes, not 32", id.len()));
    }
    let Some(raw_bytes) = &log.public_key.raw_bytes else {
        return Err("publicKey has no rawBytes".into());
    };
    let key = decode_b64(raw_bytes).map_err(|e| format!("publicKey.rawBytes: {e}"))?;
    super::keys::public_key_from_der(&key).map_err(|e| format!("publicKey: {e}"))?;
    let validity = read_validity(log.public_key.valid_for.as_ref())
        .map_err(|e| format!("publicKey.validFor: {e}"))?;
    Ok((super::hex(&id), key, validity))
}

fn read_authority(authority: &RawAuthority) -> Result<CertificateAuthority, String> {
    let mut chain = Vec::new();
    for (i, certificate) in authority.cert_chain.certificates.iter().enumerate() {
        let der = decode_b64(&certificate.raw_bytes)
            .map_err(|e| format!("certChain.certificates[{i}]: {e}"))?;
        super::fulcio::check_certificate_der(&der)
            .map_err(|e| format!("certChain.certificates[{i}]: {e}"))?;
        chain.push(der);
    }
    if chain.is_empty() {
        return Err("certChain has no certificates".into());
    }
    Ok(CertificateAuthority {
        uri: authority.uri.clone(),
        chain,
        validity: read_validity(authority.valid_for.as_ref())
            .map_err(|e| format!("validFor: {e}"))?,
    })
}

fn read_validity(raw: Option<&RawValidity>) -> Result<Validity, String> {
    let Some(raw) = raw else {
        return Ok(Validity::default());
    };
    let time = |text: &Option<String>| match text {
        Some(text) => crate::rfc3339::seconds(text, crate::rfc3339::Separator::Strict)
            .map(Some)
            .ok_or_else(|| format!("`{text}` is not an RFC 3339 time")),
        None => Ok(None),
    };
    Ok(Validity {
        start: time(&raw.start)?,
        end: time(&raw.end)?,
    })
}

fn decode_b64(text: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| format!("not base64: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_signers_trusted_root() {
        let root = parse(&super::super::testdata::read("trusted_root.json")).unwrap();
        assert_eq!(root.tlogs.len(), 1);
        assert_eq!(root.ctlogs.len(), 1);
        assert_eq!(root.certificate_authorities.len(), 1);
        assert_eq!(root.certificate_authorities[0].chain.len(), 2);
        let (id, key) = root.tlogs.iter().next().unwrap();
        assert_eq!(format!("sha256:{id}"), super::super::keys::key_id(key));
        let validity = &root.tlog_validity[id];
        assert_eq!(validity.start, Some(1_767_225_600)); // 2026-01-01T00:00:00Z
        assert_eq!(validity.end, None);
    }

    #[test]
    fn refuses_what_is_not_a_trusted_root() {
        assert!(parse(b"{}").unwrap_err().contains("no mediaType"));
        assert!(parse(br#"{"mediaType":"application/json"}"#)
            .unwrap_err()
            .contains("is not a Sigstore trusted root"));
        let bad_key = br#"{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs":[{"publicKey":{"rawBytes":"MAA="},"logId":{"keyId":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}}]}"#;
        assert!(parse(bad_key)
            .unwrap_err()
            .starts_with("tlogs[0]: publicKey"));
        let bad_id = br#"{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs":[{"publicKey":{"rawBytes":"MAA="},"logId":{"keyId":"AAA="}}]}"#;
        assert!(parse(bad_id).unwrap_err().contains("not 32"));
        assert!(parse(&vec![b' '; MAX_TRUSTED_ROOT_BYTES + 1])
            .unwrap_err()
            .contains("too large"));
    }
}
