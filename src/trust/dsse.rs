//! DSSE envelopes and the in-toto Statements they carry (the bundle format).
//!
//! The signature covers the pre-authentication encoding (PAE) of the payload type and the
//! payload, never the payload alone. A *signature* of an image (`cosign sign`) is a Statement
//! whose subject is the image digest and whose predicate type is cosign's sign predicate; any
//! other predicate type is an attestation (`cosign attest`), which does not sign the image but
//! says something about it (its provenance, an SBOM, …).

use crate::image::gojson::Shape;
use serde::Deserialize;
use std::collections::BTreeMap;

pub(crate) const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
pub(crate) const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
pub(crate) const STATEMENT_V01: &str = "https://in-toto.io/Statement/v0.1";
pub(crate) const COSIGN_SIGN_PREDICATE: &str = "https://sigstore.dev/cosign/sign/v1";
const MAX_SUBJECTS: usize = 1024;

/// DSSE v1 pre-authentication encoding: `DSSEv1 <len> <type> <len> <payload>`.
pub(crate) fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// How in-toto's Go code reads a Statement (keys folding to these names must be them, once).
const STATEMENT_SHAPE: Shape = Shape::Struct(&[
    ("_type", Shape::Other),
    (
        "subject",
        Shape::List(&Shape::Struct(&[
            ("name", Shape::Other),
            ("digest", Shape::Other),
            ("annotations", Shape::Other),
        ])),
    ),
    ("predicateType", Shape::Other),
    ("predicate", Shape::Other),
]);

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawStatement {
    #[serde(rename = "_type")]
    kind: String,
    subject: Vec<RawSubject>,
    predicate_type: String,
    #[serde(default)]
    predicate: serde_json::Value,
}

#[derive(Deserialize)]
struct RawSubject {
    #[serde(default)]
    digest: BTreeMap<String, String>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, serde_json::Value>>,
}

/// What a Statement says about the image.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Statement {
    pub predicate_type: String,
    /// The predicate as signed (`null` when absent).
    pub predicate: serde_json::Value,
    /// `sha256:<hex>` of each subject with a SHA-256 digest, and its annotations.
    pub subjects: Vec<(String, BTreeMap<String, String>)>,
}

/// Reads an in-toto Statement (v1 or v0.1).
pub(crate) fn parse_statement(payload: &[u8]) -> Result<Statement, String> {
    crate::image::gojson::check(payload, &STATEMENT_SHAPE)
        .map_err(|e| format!("in-toto Statement: {e}"))?;
    let raw: RawStatement = serde_json::from_slice(payload)
        .map_err(|e| format!("payload is not an in-toto Statement: {e}"))?;
    if raw.kind != STATEMENT_V1 && raw.kind != STATEMENT_V01 {
        return Err(format!(
            "payload `_type` is `{}`, not an in-toto Statement ({STATEMENT_V1} or v0.1)",
            raw.kind
        ));
    }
    if raw.subject.len() > MAX_SUBJECTS {
        return Err(format!("a Statement with {} subjects", raw.subject.len()));
    }
    let subjects = raw
        .subject
        .into_iter()
        .filter_map(|subject| {
            let hex = subject.digest.get("sha256")?.to_ascii_lowercase();
            let annotations = super::string_values(subject.annotations.unwrap_or_default());
            Some((format!("sha256:{hex}"), annotations))
        })
        .collect();
    Ok(Statement {
        predicate_type: raw.predicate_type,
        predicate: raw.predicate,
        subjects,
    })
}

/// What a verification is for, which decides the predicate types it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// A signature of the image: cosign's sign predicate only.
    Signature,
    /// An attestation about the image: any predicate but cosign's sign predicate.
    Attestation,
}

/// Statement ↔ purpose: a signature is cosign's sign predicate, an attestation anything else.
pub(crate) fn bind_predicate_type(statement: &Statement, purpose: Purpose) -> Result<(), String> {
    let is_signature = statement.predicate_type == COSIGN_SIGN_PREDICATE;
    match purpose {
        Purpose::Signature if !is_signature => Err(format!(
            "the bundle is an attestation (predicate type {}), not a signature ({COSIGN_SIGN_PREDICATE})",
            statement.predicate_type
        )),
        Purpose::Attestation if is_signature => Err(format!(
            "the bundle is a signature ({COSIGN_SIGN_PREDICATE}), not an attestation"
        )),
        _ => Ok(()),
    }
}

/// Statement ↔ digest: the image is among the Statement's subjects. Returns that subject's
/// annotations.
pub(crate) fn bind_subject<'a>(
    statement: &'a Statement,
    digest: &str,
) -> Result<&'a BTreeMap<String, String>, String> {
    match statement
        .subjects
        .iter()
        .find(|(subject, _)| subject == digest)
    {
        Some((_, annotations)) => Ok(annotations),
        None => {
            let named: Vec<&str> = statement.subjects.iter().map(|(d, _)| d.as_str()).collect();
            Err(format!(
                "payload names {} not the image {digest}",
                if named.is_empty() {
                    "no sha256 subject".to_string()
                } else {
                    named.join(", ")
                }
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:4f9e6e1f6a5c3b2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d";

    fn statement(kind: &str, predicate_type: &str, hex: &str) -> Vec<u8> {
        format!(
            r#"{{"_type":"{kind}","subject":[{{"digest":{{"sha256":"{hex}"}},"annotations":{{"env":"prod"}}}}],"predicateType":"{predicate_type}","predicate":{{}}}}"#
        )
        .into_bytes()
    }

    #[test]
    fn pae_is_dssev1() {
        assert_eq!(
            pae(IN_TOTO_PAYLOAD_TYPE, b"{}"),
            b"DSSEv1 28 application/vnd.in-toto+json 2 {}".to_vec()
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ".to_vec());
    }

    #[test]
    fn binds_a_signature_statement_to_its_subject() {
        let hex = &DIGEST[7..];
        for kind in [STATEMENT_V1, STATEMENT_V01] {
            let parsed = parse_statement(&statement(kind, COSIGN_SIGN_PREDICATE, hex)).unwrap();
            assert_eq!(bind_predicate_type(&parsed, Purpose::Signature), Ok(()));
            let annotations = bind_subject(&parsed, DIGEST).unwrap();
            assert_eq!(annotations["env"], "prod");
        }
    }

    #[test]
    fn another_subject_is_not_this_image() {
        let parsed = parse_statement(&statement(
            STATEMENT_V1,
            COSIGN_SIGN_PREDICATE,
            &"0".repeat(64),
        ))
        .unwrap();
        let error = bind_subject(&parsed, DIGEST).unwrap_err();
        assert!(error.contains(&format!("payload names sha256:{}", "0".repeat(64))));
        assert!(error.contains(&format!("not the image {DIGEST}")));
    }

    #[test]
    fn an_attestation_is_not_a_signature() {
        let hex = &DIGEST[7..];
        let parsed = parse_statement(&statement(
            STATEMENT_V01,
            "https://slsa.dev/provenance/v1",
            hex,
        ))
        .unwrap();
        let error = bind_predicate_type(&parsed, Purpose::Signature).unwrap_err();
        assert!(error.contains("is an attestation (predicate type https://slsa.dev/provenance/v1)"));
        assert_eq!(bind_predicate_type(&parsed, Purpose::Attestation), Ok(()));
        assert_eq!(parsed.predicate, serde_json::json!({}));
    }

    #[test]
    fn a_signature_is_not_an_attestation() {
        let parsed = parse_statement(&statement(
            STATEMENT_V1,
            COSIGN_SIGN_PREDICATE,
            &DIGEST[7..],
        ))
        .unwrap();
        let error = bind_predicate_type(&parsed, Purpose::Attestation).unwrap_err();
        assert!(error.contains("is a signature"));
    }

    #[test]
    fn an_absent_predicate_is_null() {
        let payload = format!(
            r#"{{"_type":"{STATEMENT_V1}","subject":[],"predicateType":"https://example.test/p"}}"#
        );
        let parsed = parse_statement(payload.as_bytes()).unwrap();
        assert_eq!(parsed.predicate, serde_json::Value::Null);
    }

    #[test]
    fn refuses_what_is_not_a_statement() {
        let hex = &DIGEST[7..];
        let other = statement("https://example.test/Other", COSIGN_SIGN_PREDICATE, hex);
        assert!(parse_statement(&other)
            .unwrap_err()
            .contains("not an in-toto Statement"));
        let twice = String::from_utf8(statement(STATEMENT_V1, COSIGN_SIGN_PREDICATE, hex))
            .unwrap()
            .replace(r#""predicate":{}"#, r#""predicate":{},"Subject":[]"#);
        assert!(parse_statement(twice.as_bytes())
            .unwrap_err()
            .contains("Subject"));
    }
}
