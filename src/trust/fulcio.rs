//! Keyless signatures: a short-lived Fulcio certificate vouches for the signing key.
//!
//! The certificate must: name the OIDC issuer the policy wants (extension
//! 1.3.6.1.4.1.57264.1.8, a DER UTF8String, or the legacy 1.1, raw bytes) and a subject (URI or
//! e-mail SAN) its pattern matches; be valid, for code signing, at the time the log integrated
//! the entry; be issued by a certificate authority of the trusted root, valid then, whose chain
//! holds together; and carry an embedded SCT from a CT log of the trusted root over the
//! precertificate (the TBS without the SCT list, with the issuing CA's key hash).

use super::{CertificateAuthority, CertificateClaims, Keyless, TrustedRoot};
use der::{Decode, Encode};
use sha2::{Digest, Sha256, Sha384, Sha512};
use std::fmt;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAltName};
use x509_cert::Certificate;

/// Fulcio leaves are about 1 KiB; CA certificates a little less.
const MAX_CERTIFICATE_BYTES: usize = 64 * 1024;
const OID_ISSUER_V1: &str = "1.3.6.1.4.1.57264.1.1";
const OID_ISSUER_V2: &str = "1.3.6.1.4.1.57264.1.8";
const OID_SOURCE_REPOSITORY_URI: &str = "1.3.6.1.4.1.57264.1.12";
const OID_SOURCE_REPOSITORY_DIGEST: &str = "1.3.6.1.4.1.57264.1.13";
const OID_SOURCE_REPOSITORY_REF: &str = "1.3.6.1.4.1.57264.1.14";
const OID_SCT_LIST: &str = "1.3.6.1.4.1.11129.2.4.2";
const OID_CODE_SIGNING: &str = "1.3.6.1.5.5.7.3.3";
const OID_ECDSA_SHA256: &str = "1.2.840.10045.4.3.2";
const OID_ECDSA_SHA384: &str = "1.2.840.10045.4.3.3";
const OID_ECDSA_SHA512: &str = "1.2.840.10045.4.3.4";
const OID_ED25519: &str = "1.3.101.112";
const OID_RSA_SHA256: &str = "1.2.840.113549.1.1.11";
const MAX_SCTS: usize = 16;

/// Who a certificate says signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Identity {
    /// The URI or e-mail SAN.
    pub subject: String,
    /// The OIDC issuer.
    pub issuer: String,
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} from {}", self.subject, self.issuer)
    }
}

/// A leaf certificate, read (not yet trusted).
pub(crate) struct Leaf {
    pub der: Vec<u8>,
    pub certificate: Certificate,
    /// Its SubjectPublicKeyInfo, DER: the key the signature must verify with.
    pub spki: Vec<u8>,
    pub identity: Identity,
}

/// Checks that `der` is one DER certificate.
pub(crate) fn check_certificate_der(der: &[u8]) -> Result<(), String> {
    parse_certificate(der).map(drop)
}

fn parse_certificate(der: &[u8]) -> Result<Certificate, String> {
    if der.len() > MAX_CERTIFICATE_BYTES {
        return Err(format!("a certificate of {} bytes is too large", der.len()));
    }
    Certificate::from_der(der).map_err(|e| format!("not a DER X.509 certificate: {e}"))
}

/// The SubjectPublicKeyInfo (DER) of a certificate.
pub(crate) fn certificate_spki(der: &[u8]) -> Result<Vec<u8>, String> {
    let certificate = parse_certificate(der)?;
    spki_of(&certificate)
}

fn spki_of(certificate: &Certificate) -> Result<Vec<u8>, String> {
    certificate
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .map_err(|e| format!("certificate key: {e}"))
}

impl Leaf {
    /// Reads a leaf and the identity it claims.
    pub(crate) fn parse(der: &[u8]) -> Result<Leaf, String> {
        let certificate = parse_certificate(der)?;
        let spki = spki_of(&certificate)?;
        let identity = Identity {
            subject: subject_of(&certificate)?,
            issuer: issuer_of(&certificate)?,
        };
        Ok(Leaf {
            der: der.to_vec(),
            certificate,
            spki,
            identity,
        })
    }
}

fn extension_values<'a>(
    certificate: &'a Certificate,
    oid: &'a str,
) -> impl Iterator<Item = &'a [u8]> + 'a {
    certificate
        .tbs_certificate()
        .extensions()
        .into_iter()
        .flatten()
        .filter(move |extension| extension.extn_id.to_string() == oid)
        .map(|extension| extension.extn_value.as_bytes())
}

/// The OIDC issuer: extension 1.8 (a DER UTF8String), else the legacy 1.1 (raw bytes).
fn issuer_of(certificate: &Certificate) -> Result<String, String> {
    if let Some(value) = extension_values(certificate, OID_ISSUER_V2).next() {
        let text = der::asn1::Utf8StringRef::from_der(value)
            .map_err(|_| format!("certificate extension {OID_ISSUER_V2} is not a UTF8String"))?;
        return Ok(text.as_str().to_string());
    }
    if let Some(value) = extension_values(certificate, OID_ISSUER_V1).next() {
        return String::from_utf8(value.to_vec())
            .map_err(|_| format!("certificate extension {OID_ISSUER_V1} is not UTF-8"));
    }
    Err("the certificate names no OIDC issuer (extension 1.3.6.1.4.1.57264.1.8 or .1.1)".into())
}

/// Fulcio's source claims (what the OIDC token said about the repository that was built).
/// A claim that is absent, repeated or not a DER UTF8String is `None`: never more than the
/// certificate plainly says.
pub(crate) fn source_claims(certificate: &Certificate) -> CertificateClaims {
    let claim = |oid| {
        let mut values = extension_values(certificate, oid);
        let (Some(value), None) = (values.next(), values.next()) else {
            return None;
        };
        der::asn1::Utf8StringRef::from_der(value)
            .ok()
            .map(|text| text.as_str().to_string())
    };
    CertificateClaims {
        source_repository_uri: claim(OID_SOURCE_REPOSITORY_URI),
        source_repository_ref: claim(OID_SOURCE_REPOSITORY_REF),
        source_repository_digest: claim(OID_SOURCE_REPOSITORY_DIGEST),
    }
}

/// The signer's identity: the first URI or e-mail SAN.
fn subject_of(certificate: &Certificate) -> Result<String, String> {
    let san = certificate
        .tbs_certificate()
        .get_extension::<SubjectAltName>()
        .map_err(|e| format!("certificate SAN: {e}"))?;
    let Some((_, SubjectAltName(names))) = san else {
        return Err("the certificate has no subject alternative name".into());
    };
    names
        .iter()
        .find_map(|name| match name {
            GeneralName::UniformResourceIdentifier(uri) => Some(uri.to_string()),
            GeneralName::Rfc822Name(email) => Some(email.to_string()),
            _ => None,
        })
        .ok_or_else(|| "the certificate has no URI or e-mail SAN".to_string())
}

/// Certificate ↔ policy identity: the issuer exactly, the subject by the policy's pattern.
pub(crate) fn bind_identity(identity: &Identity, keyless: &Keyless) -> Result<(), String> {
    if identity.issuer != keyless.issuer {
        return Err(format!(
            "certificate is issued to {identity}, not by the issuer {} the policy requires",
            keyless.issuer
        ));
    }
    if !keyless.subject_regex.is_match(&identity.subject) {
        return Err(format!(
            "certificate subject {} does not match `{}`",
            identity.subject,
            keyless.subject_regex.as_str()
        ));
    }
    Ok(())
}

/// Every check on a keyless certificate, at `time` (the log's integrated time).
pub(crate) fn verify_certificate(
    leaf: &Leaf,
    _presented_chain: &[Vec<u8>],
    root: &TrustedRoot,
    keyless: &Keyless,
    time: i64,
) -> Result<(), String> {
    bind_identity(&leaf.identity, keyless)?;
    bind_validity(&leaf.certificate, time)
        .map_err(|e| format!("certificate for {}: {e}", leaf.identity))?;
    bind_code_signing(&leaf.certificate)?;
    // The trusted root's chains are the anchors; a chain the signature brings is not trusted.
    let issuer = find_issuing_ca(leaf, root, time)?;
    bind_sct(leaf, &issuer, root)
}

/// Certificate ↔ time: valid when the log integrated the entry.
pub(crate) fn bind_validity(certificate: &Certificate, time: i64) -> Result<(), String> {
    let validity = certificate.tbs_certificate().validity();
    let not_before = unix(validity.not_before);
    let not_after = unix(validity.not_after);
    if time < not_before || time > not_after {
        return Err(format!(
            "not valid at the log's integrated time {time} (valid {not_before} to {not_after})"
        ));
    }
    Ok(())
}

fn unix(time: x509_cert::time::Time) -> i64 {
    i64::try_from(time.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

/// The leaf is for signing code: digitalSignature usage and the code-signing EKU.
fn bind_code_signing(certificate: &Certificate) -> Result<(), String> {
    let tbs = certificate.tbs_certificate();
    let usage = tbs
        .get_extension::<KeyUsage>()
        .map_err(|e| format!("certificate key usage: {e}"))?;
    if !usage.is_some_and(|(_, usage)| usage.digital_signature()) {
        return Err("the certificate's key usage does not allow digital signatures".into());
    }
    let extended = tbs
        .get_extension::<ExtendedKeyUsage>()
        .map_err(|e| format!("certificate extended key usage: {e}"))?;
    let code_signing = extended.is_some_and(|(_, ExtendedKeyUsage(usages))| {
        usages.iter().any(|oid| oid.to_string() == OID_CODE_SIGNING)
    });
    if !code_signing {
        return Err("the certificate is not for code signing (no code-signing EKU)".into());
    }
    Ok(())
}

/// The issuing certificate of the CA that vouches for the leaf.
#[derive(Debug)]
struct Issuer {
    spki: Vec<u8>,
}

/// Certificate ↔ trusted CA: the leaf is signed by the first certificate of a CA chain of the
/// trusted root, and that chain holds together, all valid at `time`.
fn find_issuing_ca(leaf: &Leaf, root: &TrustedRoot, time: i64) -> Result<Issuer, String> {
    let mut reasons = Vec::new();
    for authority in &root.certificate_authorities {
        match issued_by(leaf, authority, time) {
            Ok(issuer) => return Ok(issuer),
            Err(reason) => reasons.push(reason),
        }
    }
    Err(format!(
        "certificate for {} does not chain to a certificate authority of the trusted root{}",
        leaf.identity,
        if reasons.is_empty() {
            String::new()
        } else {
            format!(" ({})", reasons.join("; "))
        }
    ))
}

fn issued_by(leaf: &Leaf, authority: &CertificateAuthority, time: i64) -> Result<Issuer, String> {
    if !authority.validity.contains(time) {
        return Err(format!("{} was not valid at {time}", authority.uri));
    }
    let chain = authority
        .chain
        .iter()
        .map(|der| parse_certificate(der))
        .collect::<Result<Vec<_>, _>>()?;
    let Some(issuing) = chain.first() else {
        return Err(format!("{} has no certificates", authority.uri));
    };
    bind_issuer(&leaf.der, &leaf.certificate, issuing)
        .map_err(|e| format!("{}: {e}", authority.uri))?;
    for (i, ca) in chain.iter().enumerate() {
        let is_ca = ca
            .tbs_certificate()
            .get_extension::<BasicConstraints>()
            .ok()
            .flatten()
            .is_some_and(|(_, constraints)| constraints.ca);
        if !is_ca {
            return Err(format!("{}: certificate {i} is not a CA", authority.uri));
        }
        bind_validity(ca, time)
            .map_err(|e| format!("{}: CA certificate {i} {e}", authority.uri))?;
        let next = chain.get(i + 1).unwrap_or(ca); // the last is self-signed
        bind_issuer(&authority.chain[i], ca, next)
            .map_err(|e| format!("{}: CA certificate {i}: {e}", authority.uri))?;
    }
    Ok(Issuer {
        spki: spki_of(issuing)?,
    })
}

/// Certificate ↔ issuer: the issuer's subject is the certificate's issuer, and the issuer's
/// key signed the certificate's TBS.
fn bind_issuer(der: &[u8], certificate: &Certificate, issuer: &Certificate) -> Result<(), String> {
    if certificate.tbs_certificate().issuer() != issuer.tbs_certificate().subject() {
        return Err("issued by another name than the CA's".into());
    }
    let parts = CertificateParts::split(der)?;
    let algorithm = certificate.signature_algorithm().oid.to_string();
    let signature = certificate
        .signature()
        .as_bytes()
        .ok_or("the certificate's signature is not whole bytes")?;
    let issuer_spki = spki_of(issuer)?;
    verify_certificate_signature(&issuer_spki, &algorithm, parts.tbs, signature)
        .map_err(|_| "its signature does not verify with the CA's key".to_string())
}

fn verify_certificate_signature(
    spki: &[u8],
    algorithm: &str,
    tbs: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    match algorithm {
        OID_ECDSA_SHA256 => super::keys::verify_ecdsa_digest(spki, &Sha256::digest(tbs), signature),
        OID_ECDSA_SHA384 => super::keys::verify_ecdsa_digest(spki, &Sha384::digest(tbs), signature),
        OID_ECDSA_SHA512 => super::keys::verify_ecdsa_digest(spki, &Sha512::digest(tbs), signature),
        OID_ED25519 | OID_RSA_SHA256 => super::keys::verify_message(spki, tbs, signature),
        other => Err(format!(
            "certificate signature algorithm {other} is not supported"
        )),
    }
}

/// Certificate ↔ CT log: an embedded SCT, from a CT log of the trusted root, verifies over
/// the precertificate (the TBS without the SCT list) and the issuing CA's key hash.
fn bind_sct(leaf: &Leaf, issuer: &Issuer, root: &TrustedRoot) -> Result<(), String> {
    let mut values = extension_values(&leaf.certificate, OID_SCT_LIST);
    let Some(value) = values.next() else {
        return Err(format!(
            "certificate for {} carries no embedded SCT",
            leaf.identity
        ));
    };
    let list = <&der::asn1::OctetStringRef>::from_der(value)
        .map_err(|_| "the SCT list extension is not an OCTET STRING".to_string())?;
    let scts = parse_sct_list(list.as_bytes())?;
    let precertificate = precertificate_tbs(&leaf.der)?;
    let issuer_key_hash: [u8; 32] = Sha256::digest(&issuer.spki).into();
    let mut reasons = Vec::new();
    for sct in &scts {
        let log = super::rekor::log_name(&sct.log_id);
        let id = super::hex(&sct.log_id);
        let Some(key) = root.ctlogs.get(&id) else {
            reasons.push(format!(
                "SCT is from CT log {log}, which the trusted root does not list"
            ));
            continue;
        };
        let timestamp = i64::try_from(sct.timestamp_ms / 1000).unwrap_or(i64::MAX);
        if root
            .ctlog_validity
            .get(&id)
            .is_some_and(|v| !v.contains(timestamp))
        {
            reasons.push(format!(
                "SCT is from a time the key of CT log {log} was not valid"
            ));
            continue;
        }
        let signed = sct_signed_data(sct, &issuer_key_hash, &precertificate)?;
        match super::keys::verify_log_signature(key, &signed, &sct.signature) {
            Ok(()) => return Ok(()),
            Err(_) => reasons.push(format!("SCT does not verify with the key of CT log {log}")),
        }
    }
    Err(reasons.join("; "))
}

/// One RFC 6962 SignedCertificateTimestamp (v1).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Sct {
    pub log_id: Vec<u8>,
    pub timestamp_ms: u64,
    pub extensions: Vec<u8>,
    pub signature: Vec<u8>,
}

/// The TLS-encoded SignedCertificateTimestampList (RFC 6962 §3.3).
pub(crate) fn parse_sct_list(bytes: &[u8]) -> Result<Vec<Sct>, String> {
    let mut reader = Tls(bytes);
    let mut list = Tls(reader.vector16()?);
    if !reader.0.is_empty() {
        return Err("bytes after the SCT list".into());
    }
    let mut scts = Vec::new();
    while !list.0.is_empty() {
        if scts.len() == MAX_SCTS {
            return Err("too many SCTs".into());
        }
        let mut sct = Tls(list.vector16()?);
        if sct.take(1)? != [0] {
            return Err("an SCT of another version than v1".into());
        }
        let log_id = sct.take(32)?.to_vec();
        let timestamp_ms = u64::from_be_bytes(
            sct.take(8)?
                .try_into()
                .map_err(|_| "SCT timestamp".to_string())?,
        );
        let extensions = sct.vector16()?.to_vec();
        let _algorithms = sct.take(2)?;
        let signature = sct.vector16()?.to_vec();
        if !sct.0.is_empty() {
            return Err("bytes after an SCT's signature".into());
        }
        scts.push(Sct {
            log_id,
            timestamp_ms,
            extensions,
            signature,
        });
    }
    Ok(scts)
}

struct Tls<'a>(&'a [u8]);

impl<'a> Tls<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err("a truncated SCT list".into());
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn vector16(&mut self) -> Result<&'a [u8], String> {
        let length = self.take(2)?;
        let n = usize::from(u16::from_be_bytes([length[0], length[1]]));
        self.take(n)
    }
}

/// What a CT log signs for a precertificate entry (RFC 6962 §3.2).
pub(crate) fn sct_signed_data(
    sct: &Sct,
    issuer_key_hash: &[u8; 32],
    tbs: &[u8],
) -> Result<Vec<u8>, String> {
    let tbs_length = u32::try_from(tbs.len())
        .ok()
        .filter(|n| *n < 1 << 24)
        .ok_or("a TBS too large for an SCT")?;
    let extensions_length =
        u16::try_from(sct.extensions.len()).map_err(|_| "SCT extensions too large".to_string())?;
    let mut out = vec![0u8, 0u8]; // v1, certificate_timestamp
    out.extend_from_slice(&sct.timestamp_ms.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes()); // precert_entry
    out.extend_from_slice(issuer_key_hash);
    out.extend_from_slice(&tbs_length.to_be_bytes()[1..]);
    out.extend_from_slice(tbs);
    out.extend_from_slice(&extensions_length.to_be_bytes());
    out.extend_from_slice(&sct.extensions);
    Ok(out)
}

/// The raw pieces of a DER certificate.
struct CertificateParts<'a> {
    /// The TBSCertificate TLV, exactly as signed.
    tbs: &'a [u8],
}

impl<'a> CertificateParts<'a> {
    fn split(der: &'a [u8]) -> Result<Self, String> {
        let (certificate, rest) = tlv(der)?;
        if !rest.is_empty() || certificate.tag != 0x30 {
            return Err("not one DER certificate".into());
        }
        let (tbs, _) = tlv(certificate.content)?;
        if tbs.tag != 0x30 {
            return Err("the certificate has no TBSCertificate".into());
        }
        Ok(CertificateParts { tbs: tbs.whole })
    }
}

/// The precertificate TBS: the certificate's TBS with the SCT-list extension taken out, byte
/// for byte otherwise (lengths re-encoded).
pub(crate) fn precertificate_tbs(der: &[u8]) -> Result<Vec<u8>, String> {
    let tbs = tlv(CertificateParts::split(der)?.tbs)?.0;
    let mut fields = Vec::new();
    let mut rest = tbs.content;
    while !rest.is_empty() {
        let (field, after) = tlv(rest)?;
        fields.push(field);
        rest = after;
    }
    let mut content = Vec::new();
    let mut removed = false;
    for field in fields {
        if field.tag != 0xa3 {
            content.extend_from_slice(field.whole);
            continue;
        }
        // [3] EXPLICIT Extensions ::= SEQUENCE OF Extension
        let (extensions, after) = tlv(field.content)?;
        if extensions.tag != 0x30 || !after.is_empty() {
            return Err("malformed certificate extensions".into());
        }
        let mut kept = Vec::new();
        let mut rest = extensions.content;
        while !rest.is_empty() {
            let (extension, after) = tlv(rest)?;
            rest = after;
            let (oid, _) = tlv(extension.content)?;
            let is_sct = <der::asn1::ObjectIdentifier>::from_der(oid.whole)
                .is_ok_and(|oid| oid.to_string() == OID_SCT_LIST);
            if is_sct {
                removed = true;
            } else {
                kept.extend_from_slice(extension.whole);
            }
        }
        let sequence = encode_tlv(0x30, &kept)?;
        content.extend_from_slice(&encode_tlv(0xa3, &sequence)?);
    }
    if !removed {
        return Err("the certificate has no SCT list".into());
    }
    encode_tlv(0x30, &content)
}

struct Tlv<'a> {
    tag: u8,
    content: &'a [u8],
    whole: &'a [u8],
}

/// One DER TLV (single-byte tags, definite lengths up to 4 bytes) and what follows it.
fn tlv(bytes: &[u8]) -> Result<(Tlv<'_>, &[u8]), String> {
    let truncated = || "truncated DER".to_string();
    let tag = *bytes.first().ok_or_else(truncated)?;
    if tag & 0x1f == 0x1f {
        return Err("a multi-byte DER tag".into());
    }
    let first = *bytes.get(1).ok_or_else(truncated)?;
    let (length, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return Err("an unsupported DER length".into());
        }
        let octets = bytes.get(2..2 + n).ok_or_else(truncated)?;
        let length = octets
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (length, 2 + n)
    };
    let end = header.checked_add(length).ok_or_else(truncated)?;
    let whole = bytes.get(..end).ok_or_else(truncated)?;
    Ok((
        Tlv {
            tag,
            content: &whole[header..],
            whole,
        },
        &bytes[end..],
    ))
}

fn encode_tlv(tag: u8, content: &[u8]) -> Result<Vec<u8>, String> {
    let length = content.len();
    let mut out = vec![tag];
    if length < 0x80 {
        out.push(length as u8);
    } else {
        let octets: Vec<u8> = length
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        if octets.len() > 4 {
            return Err("a DER length too large".into());
        }
        out.push(0x80 | octets.len() as u8);
        out.extend_from_slice(&octets);
    }
    out.extend_from_slice(content);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::testdata::read;
    use base64::Engine;

    fn fixture_leaf() -> Leaf {
        let bundle: serde_json::Value =
            serde_json::from_slice(&read("bundle/keyless/bundle.json")).unwrap();
        let raw = bundle["verificationMaterial"]["certificate"]["rawBytes"]
            .as_str()
            .unwrap();
        let der = base64::engine::general_purpose::STANDARD
            .decode(raw)
            .unwrap();
        Leaf::parse(&der).unwrap()
    }

    fn fixture_root() -> TrustedRoot {
        super::super::parse_trusted_root(&read("trusted_root.json")).unwrap()
    }

    /// When the fixtures' leaves were valid (`--time 2026-06-01T12:00:00Z`, 10 minutes).
    const SIGNED_AT: i64 = 1_780_315_200;

    #[test]
    fn reads_the_identity_of_a_fulcio_leaf() {
        let leaf = fixture_leaf();
        assert_eq!(leaf.identity.subject, "release@portcullis.test");
        assert_eq!(leaf.identity.issuer, "https://issuer.portcullis.test");
        assert_eq!(leaf.spki, certificate_spki(&leaf.der).unwrap());
    }

    #[test]
    fn the_leaf_chains_to_the_trusted_ca_and_its_sct_verifies() {
        let (leaf, root) = (fixture_leaf(), fixture_root());
        let issuer = find_issuing_ca(&leaf, &root, SIGNED_AT).unwrap();
        assert_eq!(bind_sct(&leaf, &issuer, &root), Ok(()));
    }

    #[test]
    fn a_leaf_whose_signature_is_broken_does_not_chain() {
        let leaf = fixture_leaf();
        let mut der = leaf.der.clone();
        let last = der.len() - 1;
        der[last] ^= 0x01; // inside the signature's s
        let broken = Leaf::parse(&der).unwrap();
        let error = find_issuing_ca(&broken, &fixture_root(), SIGNED_AT).unwrap_err();
        assert!(
            error.contains("its signature does not verify with the CA's key"),
            "{error}"
        );
    }

    #[test]
    fn a_ca_outside_its_validity_vouches_for_nothing() {
        let leaf = fixture_leaf();
        let mut root = fixture_root();
        root.certificate_authorities[0].validity.end = Some(SIGNED_AT - 1);
        let error = find_issuing_ca(&leaf, &root, SIGNED_AT).unwrap_err();
        assert!(error.contains("was not valid at"), "{error}");
    }

    #[test]
    fn an_sct_over_another_tbs_does_not_verify() {
        let (leaf, root) = (fixture_leaf(), fixture_root());
        // Another issuer key hash: the SCT was made for the intermediate's key, not the root's.
        let wrong_issuer = Issuer {
            spki: spki_of(&parse_certificate(&root.certificate_authorities[0].chain[1]).unwrap())
                .unwrap(),
        };
        let error = bind_sct(&leaf, &wrong_issuer, &root).unwrap_err();
        assert!(
            error.contains("SCT does not verify with the key of CT log"),
            "{error}"
        );
    }

    #[test]
    fn the_precertificate_is_the_tbs_without_the_sct_list() {
        let leaf = fixture_leaf();
        let tbs = CertificateParts::split(&leaf.der).unwrap().tbs;
        let precertificate = precertificate_tbs(&leaf.der).unwrap();
        assert!(precertificate.len() < tbs.len());
        let root = fixture_root();
        let error = precertificate_tbs(&root.certificate_authorities[0].chain[0]).unwrap_err();
        assert!(error.contains("no SCT list"));
    }

    #[test]
    fn tlv_round_trips_every_length_form() {
        for n in [0usize, 1, 127, 128, 255, 256, 70_000] {
            let content = vec![7u8; n];
            let encoded = encode_tlv(0x30, &content).unwrap();
            let (parsed, rest) = tlv(&encoded).unwrap();
            assert_eq!((parsed.tag, parsed.content.len()), (0x30, n));
            assert!(rest.is_empty());
        }
    }

    #[test]
    fn tlv_refuses_truncated_and_odd_encodings() {
        for bytes in [
            &[][..],
            &[0x30],
            &[0x30, 0x05, 1],
            &[0x30, 0x80],
            &[0x30, 0x85, 1, 1, 1, 1, 1],
            &[0x1f, 0],
        ] {
            assert!(tlv(bytes).is_err(), "{bytes:?}");
        }
    }

    #[test]
    fn sct_lists_are_read_and_truncation_refused() {
        let mut sct = vec![0u8];
        sct.extend_from_slice(&[9; 32]);
        sct.extend_from_slice(&1_000u64.to_be_bytes());
        sct.extend_from_slice(&[0, 0, 4, 3, 0, 2, 0xaa, 0xbb]);
        let mut list = (sct.len() as u16).to_be_bytes().to_vec();
        list.extend_from_slice(&sct);
        let mut bytes = (list.len() as u16).to_be_bytes().to_vec();
        bytes.extend_from_slice(&list);
        let parsed = parse_sct_list(&bytes).unwrap();
        assert_eq!(
            parsed,
            vec![Sct {
                log_id: vec![9; 32],
                timestamp_ms: 1_000,
                extensions: vec![],
                signature: vec![0xaa, 0xbb],
            }]
        );
        for cut in 1..bytes.len() {
            assert!(parse_sct_list(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let signed = sct_signed_data(&parsed[0], &[1; 32], b"tbs").unwrap();
        assert_eq!(signed.len(), 2 + 8 + 2 + 32 + 3 + 3 + 2);
        assert_eq!(&signed[44..47], &[0, 0, 3]);
    }

    #[test]
    fn identity_binds_issuer_exactly_and_subject_by_pattern() {
        let identity = Identity {
            subject: "release@portcullis.test".into(),
            issuer: "https://issuer.portcullis.test".into(),
        };
        let keyless = |issuer: &str, pattern: &str| Keyless {
            issuer: issuer.into(),
            subject_regex: regex::Regex::new(pattern).unwrap(),
        };
        assert!(bind_identity(
            &identity,
            &keyless("https://issuer.portcullis.test", "^release@")
        )
        .is_ok());
        let error = bind_identity(&identity, &keyless("https://other.test", ".*")).unwrap_err();
        assert!(error.contains("not by the issuer https://other.test"));
        let error = bind_identity(
            &identity,
            &keyless("https://issuer.portcullis.test", "^mallory@"),
        )
        .unwrap_err();
        assert!(error.contains("does not match `^mallory@`"));
    }
}
