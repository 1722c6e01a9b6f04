//! Public keys: reading them (PEM or DER SubjectPublicKeyInfo) and checking signatures made
//! with them, hashing as cosign and Rekor do for each kind of key.
//!
//! Three ways a signature is checked, because the signers hash differently:
//! * [`verify_message`]: what cosign signs (payloads, DSSE PAE, certificates): ECDSA P-256
//!   with SHA-256, P-384 with SHA-384, Ed25519 over the message itself, RSA PKCS#1 v1.5 or
//!   PSS with SHA-256.
//! * [`verify_prehashed`]: a bundle's `messageSignature`, made over a digest the verifier is
//!   handed rather than the message.
//! * [`verify_log_signature`]: what transparency and CT logs sign (SETs, checkpoints, SCTs):
//!   always SHA-256, whatever the curve (Rekor's and sigstore-go's verifiers do so, while a
//!   P-384 key's `keyDetails` would claim SHA-384).

use super::PublicKey;
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::ecdsa::signature::Verifier;
use p256::pkcs8::DecodePublicKey;
use sha2::{Digest, Sha256};

/// The most a key's PEM may hold; an RSA-4096 SPKI is under 800 bytes of PEM.
const MAX_PEM_BYTES: usize = 64 * 1024;

const MIN_RSA_BYTES: usize = 2048 / 8;

const OID_EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_P384: &str = "1.3.132.0.34";
const OID_ED25519: &str = "1.3.101.112";
const OID_RSA: &str = "1.2.840.113549.1.1.1";

/// The kinds of key cosign signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    EcdsaP256,
    EcdsaP384,
    Ed25519,
    Rsa,
}

/// Reads one PEM `PUBLIC KEY` block (SubjectPublicKeyInfo).
pub(crate) fn parse_pem(pem: &str) -> Result<PublicKey, String> {
    if pem.len() > MAX_PEM_BYTES {
        return Err(format!(
            "a public key PEM of {} bytes is too large",
            pem.len()
        ));
    }
    let blocks = super::pem::blocks(pem)?;
    match blocks.as_slice() {
        [(label, der)] if label == "PUBLIC KEY" => public_key_from_der(der),
        [(label, _)] => Err(format!(
            "expected a PEM `PUBLIC KEY` (SubjectPublicKeyInfo), found `{label}`"
        )),
        [] => Err("no PEM block found (expected `-----BEGIN PUBLIC KEY-----`)".into()),
        _ => Err(format!(
            "expected one PEM public key, found {} blocks",
            blocks.len()
        )),
    }
}

/// Checks that `spki` is a key of a kind cosign accepts and names it.
pub(crate) fn public_key_from_der(spki: &[u8]) -> Result<PublicKey, String> {
    key_kind(spki)?;
    // Each kind's own decoder checks the key itself (a point on the curve, a sane modulus).
    decode_check(spki)?;
    Ok(PublicKey {
        id: key_id(spki),
        spki: spki.to_vec(),
    })
}

/// `sha256:<hex>` of the SubjectPublicKeyInfo DER: how findings name a key.
pub(crate) fn key_id(spki: &[u8]) -> String {
    format!("sha256:{}", super::hex(&Sha256::digest(spki)))
}

/// The kind of the key in `spki`, from its algorithm identifier.
pub(crate) fn key_kind(spki: &[u8]) -> Result<KeyKind, String> {
    let info = spki::SubjectPublicKeyInfoRef::try_from(spki)
        .map_err(|e| format!("not a DER SubjectPublicKeyInfo: {e}"))?;
    let algorithm = info.algorithm.oid.to_string();
    match algorithm.as_str() {
        OID_EC_PUBLIC_KEY => {
            let curve = info
                .algorithm
                .parameters_oid()
                .map_err(|_| "an EC key without a named curve".to_string())?
                .to_string();
            match curve.as_str() {
                OID_P256 => Ok(KeyKind::EcdsaP256),
                OID_P384 => Ok(KeyKind::EcdsaP384),
                other => Err(format!(
                    "EC curve {other} is not supported (P-256 and P-384 are)"
                )),
            }
        }
        OID_ED25519 => Ok(KeyKind::Ed25519),
        OID_RSA => Ok(KeyKind::Rsa),
        other => Err(format!(
            "key algorithm {other} is not supported (ECDSA P-256/P-384, Ed25519, RSA are)"
        )),
    }
}

fn decode_check(spki: &[u8]) -> Result<(), String> {
    let bad = |e: String| format!("invalid public key: {e}");
    match key_kind(spki)? {
        KeyKind::EcdsaP256 => p256::ecdsa::VerifyingKey::from_public_key_der(spki)
            .map(drop)
            .map_err(|e| bad(e.to_string())),
        KeyKind::EcdsaP384 => p384::ecdsa::VerifyingKey::from_public_key_der(spki)
            .map(drop)
            .map_err(|e| bad(e.to_string())),
        KeyKind::Ed25519 => ed25519_dalek::VerifyingKey::from_public_key_der(spki)
            .map(drop)
            .map_err(|e| bad(e.to_string())),
        KeyKind::Rsa => {
            use rsa::traits::PublicKeyParts;
            let key = rsa::PublicKey::from_public_key_der(spki).map_err(|e| bad(e.to_string()))?;
            // Sigstore's algorithm registry has RSA 2048, 3072 and 4096 (and the crate refuses
            // moduli over 8192 bits, which would make each check slow).
            if key.size() < MIN_RSA_BYTES {
                return Err(format!(
                    "an RSA key of {} bits is too weak (at least 2048)",
                    key.size() * 8
                ));
            }
            Ok(())
        }
    }
}

/// Checks `signature` over `message` as cosign signs with a key of this kind.
pub(crate) fn verify_message(spki: &[u8], message: &[u8], signature: &[u8]) -> Result<(), String> {
    let ok = match key_kind(spki)? {
        KeyKind::EcdsaP256 => {
            let key = p256::ecdsa::VerifyingKey::from_public_key_der(spki).map_err(invalid)?;
            p256::ecdsa::DerSignature::try_from(signature)
                .is_ok_and(|sig| key.verify(message, &sig).is_ok())
        }
        KeyKind::EcdsaP384 => {
            let key = p384::ecdsa::VerifyingKey::from_public_key_der(spki).map_err(invalid)?;
            p384::ecdsa::DerSignature::try_from(signature)
                .is_ok_and(|sig| key.verify(message, &sig).is_ok())
        }
        KeyKind::Ed25519 => {
            let key = ed25519_dalek::VerifyingKey::from_public_key_der(spki).map_err(invalid)?;
            ed25519_dalek::Signature::from_slice(signature)
                .is_ok_and(|sig| key.verify(message, &sig).is_ok())
        }
        KeyKind::Rsa => verify_rsa(spki, &Sha256::digest(message), signature)?,
    };
    verdict(ok)
}

/// Checks `signature` over a message of which only the SHA-256 `digest` is known.
pub(crate) fn verify_prehashed(spki: &[u8], digest: &[u8], signature: &[u8]) -> Result<(), String> {
    if digest.len() != 32 {
        return Err(format!("a digest of {} bytes is not SHA-256", digest.len()));
    }
    let ok = match key_kind(spki)? {
        KeyKind::EcdsaP256 | KeyKind::EcdsaP384 => verify_ecdsa_prehash(spki, digest, signature)?,
        KeyKind::Ed25519 => {
            return Err("an Ed25519 key cannot verify a signature over a digest".into())
        }
        KeyKind::Rsa => verify_rsa(spki, digest, signature)?,
    };
    verdict(ok)
}

/// Checks a log's signature (SET, checkpoint, SCT): SHA-256 for every ECDSA curve.
pub(crate) fn verify_log_signature(
    spki: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    match key_kind(spki)? {
        KeyKind::EcdsaP256 | KeyKind::EcdsaP384 => verdict(verify_ecdsa_prehash(
            spki,
            &Sha256::digest(message),
            signature,
        )?),
        KeyKind::Ed25519 | KeyKind::Rsa => verify_message(spki, message, signature),
    }
}

/// Checks an ECDSA signature over a digest already taken (certificates: the digest their
/// signature algorithm names).
pub(crate) fn verify_ecdsa_digest(
    spki: &[u8],
    digest: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    verdict(verify_ecdsa_prehash(spki, digest, signature)?)
}

fn verify_ecdsa_prehash(spki: &[u8], digest: &[u8], signature: &[u8]) -> Result<bool, String> {
    Ok(match key_kind(spki)? {
        KeyKind::EcdsaP256 => {
            let key = p256::ecdsa::VerifyingKey::from_public_key_der(spki).map_err(invalid)?;
            p256::ecdsa::DerSignature::try_from(signature)
                .is_ok_and(|sig| key.verify_prehash(digest, &sig).is_ok())
        }
        KeyKind::EcdsaP384 => {
            let key = p384::ecdsa::VerifyingKey::from_public_key_der(spki).map_err(invalid)?;
            p384::ecdsa::DerSignature::try_from(signature)
                .is_ok_and(|sig| key.verify_prehash(digest, &sig).is_ok())
        }
        KeyKind::Ed25519 | KeyKind::Rsa => false,
    })
}

/// RSA over a SHA-256 digest: PKCS#1 v1.5 (cosign's default), else PSS (any salt length).
fn verify_rsa(spki: &[u8], digest: &[u8], signature: &[u8]) -> Result<bool, String> {
    let key = rsa::PublicKey::from_public_key_der(spki).map_err(invalid)?;
    let Ok(sig) = rsa::pkcs1v15::Signature::try_from(signature) else {
        return Ok(false);
    };
    let pkcs1 = rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key.clone());
    if pkcs1.verify_prehash(digest, &sig).is_ok() {
        return Ok(true);
    }
    let Ok(sig) = rsa::pss::Signature::try_from(signature) else {
        return Ok(false);
    };
    let pss = rsa::pss::VerifyingKey::<Sha256>::new_with_auto_salt_len(key);
    Ok(pss.verify_prehash(digest, &sig).is_ok())
}

fn invalid(error: impl std::fmt::Display) -> String {
    format!("invalid public key: {error}")
}

fn verdict(ok: bool) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err("the signature does not verify".into())
    }
}

/// Checks an ECDSA signature written as `r || s` (fixed width, as TUF and Notary write them)
/// over the SHA-256 of `message`, whatever the curve (Go's `ecdsa.Verify` over a SHA-256
/// digest, as Notary's verifier calls it).
pub(crate) fn verify_ecdsa_raw_sha256(
    spki: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    let digest = Sha256::digest(message);
    let ok = match key_kind(spki)? {
        KeyKind::EcdsaP256 => {
            let key = p256::ecdsa::VerifyingKey::from_public_key_der(spki).map_err(invalid)?;
            signature.len() == 64
                && p256::ecdsa::Signature::from_slice(signature)
                    .is_ok_and(|sig| key.verify_prehash(&digest, &sig).is_ok())
        }
        KeyKind::EcdsaP384 => {
            let key = p384::ecdsa::VerifyingKey::from_public_key_der(spki).map_err(invalid)?;
            signature.len() == 96
                && p384::ecdsa::Signature::from_slice(signature)
                    .is_ok_and(|sig| key.verify_prehash(&digest, &sig).is_ok())
        }
        KeyKind::Ed25519 | KeyKind::Rsa => return Err("not an ECDSA key".into()),
    };
    verdict(ok)
}

/// RSA with SHA-256 over `message`: PSS with a 32-byte salt (`rsapss`), or PKCS#1 v1.5.
pub(crate) fn verify_rsa_sha256(
    spki: &[u8],
    message: &[u8],
    signature: &[u8],
    pss: bool,
) -> Result<(), String> {
    if key_kind(spki)? != KeyKind::Rsa {
        return Err("not an RSA key".into());
    }
    decode_check(spki)?;
    let key = rsa::PublicKey::from_public_key_der(spki).map_err(invalid)?;
    let digest = Sha256::digest(message);
    let ok = if pss {
        rsa::pss::Signature::try_from(signature).is_ok_and(|sig| {
            rsa::pss::VerifyingKey::<Sha256>::new_with_salt_len(key, 32)
                .verify_prehash(&digest, &sig)
                .is_ok()
        })
    } else {
        rsa::pkcs1v15::Signature::try_from(signature).is_ok_and(|sig| {
            rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key)
                .verify_prehash(&digest, &sig)
                .is_ok()
        })
    };
    verdict(ok)
}

/// Checks an Ed25519 signature with a raw 32-byte public key.
pub(crate) fn verify_ed25519_raw(
    public: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    let public: [u8; 32] = public
        .try_into()
        .map_err(|_| format!("an Ed25519 key of {} bytes (32 expected)", public.len()))?;
    let key = ed25519_dalek::VerifyingKey::from_bytes(&public).map_err(invalid)?;
    let ok = ed25519_dalek::Signature::from_slice(signature)
        .is_ok_and(|sig| key.verify(message, &sig).is_ok());
    verdict(ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture_key(kind: &str) -> PublicKey {
        let pem = super::super::testdata::read(&format!("keys/{kind}.pub"));
        parse_pem(&String::from_utf8(pem).unwrap()).unwrap()
    }

    #[test]
    fn reads_every_kind_cosign_signs_with() {
        for (file, kind) in [
            ("ecdsa-p256", KeyKind::EcdsaP256),
            ("ecdsa-p384", KeyKind::EcdsaP384),
            ("ed25519", KeyKind::Ed25519),
            ("rsa", KeyKind::Rsa),
        ] {
            let key = fixture_key(file);
            assert_eq!(key_kind(&key.spki).unwrap(), kind, "{file}");
            assert_eq!(key.id, key_id(&key.spki));
            assert!(key.id.starts_with("sha256:") && key.id.len() == 71);
        }
    }

    #[test]
    fn refuses_what_is_not_one_public_key() {
        assert!(parse_pem("").unwrap_err().contains("no PEM block"));
        let cert = "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";
        assert!(parse_pem(cert).unwrap_err().contains("found `CERTIFICATE`"));
        let junk = "-----BEGIN PUBLIC KEY-----\nMAA=\n-----END PUBLIC KEY-----\n";
        assert!(parse_pem(junk)
            .unwrap_err()
            .contains("SubjectPublicKeyInfo"));
        let huge = "x".repeat(MAX_PEM_BYTES + 1);
        assert!(parse_pem(&huge).unwrap_err().contains("too large"));
    }

    #[test]
    fn refuses_an_invalid_point() {
        let mut spki = fixture_key("ecdsa-p256").spki;
        let last = spki.len() - 1;
        spki[last] ^= 0x01; // the point leaves the curve
        assert!(public_key_from_der(&spki)
            .unwrap_err()
            .contains("invalid public key"));
    }

    #[test]
    fn refuses_a_weak_rsa_key() {
        let rsa_1024 = "-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCq5ifZJgOXEIvpN0bAaLHvdXee
66FD7tzeIDx9pYDVVuZXL42gCJ2mGSF+ctpItCsbeys/KNsJIXeYvrJBVc8V8coo
2zI5yxnzOEobbhH4T5PwdGHSMHN1xtEZW7sS2iLSGxXdJgf2bpuzWS0RL27NNnX8
ztbc9qsqnWqMd4yuBQIDAQAB
-----END PUBLIC KEY-----
";
        let error = parse_pem(rsa_1024).unwrap_err();
        assert!(error.contains("1024 bits is too weak"), "{error}");
    }

    #[test]
    fn hostile_signature_bytes_fail_without_panicking() {
        for kind in ["ecdsa-p256", "ecdsa-p384", "ed25519", "rsa"] {
            let key = fixture_key(kind);
            for sig in [&[][..], &[0x30, 0x00], &[0xff; 600]] {
                assert!(verify_message(&key.spki, b"m", sig).is_err(), "{kind}");
                assert!(
                    verify_log_signature(&key.spki, b"m", sig).is_err(),
                    "{kind}"
                );
            }
        }
    }

    #[test]
    fn prehashed_wants_sha256_and_refuses_ed25519() {
        let key = fixture_key("ecdsa-p256");
        assert!(verify_prehashed(&key.spki, &[0; 20], &[])
            .unwrap_err()
            .contains("20 bytes"));
        let ed = fixture_key("ed25519");
        assert!(verify_prehashed(&ed.spki, &[0; 32], &[])
            .unwrap_err()
            .contains("Ed25519"));
    }
}
