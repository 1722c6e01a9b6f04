//! Transparency-log (Rekor v1) entries: is the entry the log's, and is it this signature's?
//!
//! Authentic ([`authenticate`]): the SET (signed entry timestamp) verifies with the key of a
//! log the trusted root lists, over RFC 8785 canonical JSON of `{body, integratedTime, logID,
//! logIndex}`; the inclusion proof, when present, hashes the body up to the proof's root
//! (RFC 6962), and the checkpoint, a signed note naming that root, is signed by the same log.
//! Ours ([`bind_body`]): the body (hashedrekord or dsse v0.0.1) records this signature, the
//! key or certificate that verified it, and the hash of what it signs.
//!
//! Rekor v1 signs SETs and checkpoints with SHA-256 whatever its curve; the proof's index is
//! the shard's tree index, which differs from `logIndex` (global) on a sharded log, so the two
//! are never compared.

use super::{hex, TrustedRoot};
use base64::Engine;
use serde::Deserialize;
use sha2::{Digest, Sha256, Sha384, Sha512};

/// The deepest proof a log of 2^64 entries needs.
const MAX_PROOF_HASHES: usize = 64;
/// The most signature lines a checkpoint may carry.
const MAX_CHECKPOINT_SIGNATURES: usize = 16;

/// A log entry as a signature carries it. Nothing in it is trusted yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogEntry {
    /// The canonicalized body Rekor stored.
    pub body: Vec<u8>,
    pub integrated_time: i64,
    /// The global index: what the SET covers.
    pub log_index: i64,
    /// SHA-256 of the log's public key.
    pub log_id: Vec<u8>,
    /// The bundle's `kindVersion` (kind, version); the `.sig` format has none.
    pub kind_version: Option<(String, String)>,
    /// The signed entry timestamp.
    pub set: Option<Vec<u8>>,
    pub proof: Option<InclusionProof>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InclusionProof {
    /// The index in the shard's tree (not `logIndex`).
    pub index: u64,
    pub tree_size: u64,
    pub root_hash: Vec<u8>,
    pub hashes: Vec<Vec<u8>>,
    /// The signed note (`origin\nsize\nroot\n\n— name sig\n`).
    pub checkpoint: Option<String>,
}

/// What the log body must record about the signature being verified.
pub(crate) struct Logged<'a> {
    pub signature: &'a [u8],
    /// The key that verified the signature.
    pub spki: &'a [u8],
    /// The certificate that key came in, for keyless signatures.
    pub certificate: Option<&'a [u8]>,
    pub content: LoggedContent<'a>,
}

/// What was signed, as the log hashes it.
#[derive(Clone, Copy)]
pub(crate) enum LoggedContent<'a> {
    /// Bytes signed as they are (the `.sig` payload): a hashedrekord entry of their hash.
    Payload(&'a [u8]),
    /// A message known by its SHA-256 (a bundle's `messageSignature`): a hashedrekord entry.
    Digest(&'a [u8]),
    /// A DSSE envelope's payload: a dsse entry.
    Dsse(&'a [u8]),
}

/// A short name for a log in messages: the first 8 bytes of its id, in hex.
pub(crate) fn log_name(log_id: &[u8]) -> String {
    let full = hex(log_id);
    match full.get(..16) {
        Some(short) if full.len() > 16 => format!("{short}…"),
        _ => full,
    }
}

/// Proves that `entry` is in a log the trusted root lists. Returns its integrated time when
/// the SET vouches for it; an inclusion proof alone proves the entry, not the time (nothing
/// the log signed covers `integratedTime` then).
pub(crate) fn authenticate(entry: &LogEntry, root: &TrustedRoot) -> Result<Option<i64>, String> {
    let name = log_name(&entry.log_id);
    let Some(log_key) = root.tlogs.get(&hex(&entry.log_id)) else {
        let what = if entry.set.is_some() {
            "SET is signed by"
        } else {
            "log entry is from"
        };
        return Err(format!(
            "{what} log {name}, which the trusted root does not list"
        ));
    };
    if let Some(validity) = root.tlog_validity.get(&hex(&entry.log_id)) {
        if !validity.contains(entry.integrated_time) {
            return Err(format!(
                "log entry was integrated at {} when the key of log {name} was not valid",
                entry.integrated_time
            ));
        }
    }
    if entry.set.is_none() && entry.proof.is_none() {
        return Err("log entry has neither a SET nor an inclusion proof".into());
    }
    if let Some(set) = &entry.set {
        verify_set(entry, set, log_key)?;
    }
    if let Some(proof) = &entry.proof {
        verify_inclusion(&leaf_hash(&entry.body), proof)
            .map_err(|e| format!("inclusion proof of log {name}: {e}"))?;
        verify_checkpoint(proof, &entry.log_id, log_key)?;
    }
    Ok(entry.set.is_some().then_some(entry.integrated_time))
}

/// What the SET signs: RFC 8785 canonical JSON of the entry's `body` (base64),
/// `integratedTime`, `logID` (hex) and `logIndex` (keys in code-point order).
pub(crate) fn set_payload(entry: &LogEntry) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(&entry.body);
    // Base64 and hex need no escaping, so the canonical form is this text exactly.
    format!(
        r#"{{"body":"{body}","integratedTime":{},"logID":"{}","logIndex":{}}}"#,
        entry.integrated_time,
        hex(&entry.log_id),
        entry.log_index
    )
}

/// SET ↔ log key: the log promised to include this entry at this time and index.
pub(crate) fn verify_set(entry: &LogEntry, set: &[u8], log_key: &[u8]) -> Result<(), String> {
    super::keys::verify_log_signature(log_key, set_payload(entry).as_bytes(), set).map_err(|_| {
        format!(
            "SET does not verify with the key of log {}",
            log_name(&entry.log_id)
        )
    })
}

/// RFC 6962 leaf hash: SHA-256(0x00 ‖ entry).
pub(crate) fn leaf_hash(entry: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update([0u8]);
    hasher.update(entry);
    hasher.finalize().into()
}

fn node_hash(left: &[u8], right: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update([1u8]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The root an inclusion proof leads to (RFC 9162 §2.1.3.2).
pub(crate) fn root_from_inclusion_proof(
    leaf: &[u8; 32],
    index: u64,
    tree_size: u64,
    hashes: &[Vec<u8>],
) -> Result<[u8; 32], String> {
    if index >= tree_size {
        return Err(format!("index {index} is outside a tree of {tree_size}"));
    }
    if hashes.len() > MAX_PROOF_HASHES {
        return Err(format!("{} hashes are too many", hashes.len()));
    }
    let (mut node, mut last) = (index, tree_size - 1);
    let mut root = *leaf;
    for hash in hashes {
        if hash.len() != 32 {
            return Err(format!("a proof hash of {} bytes", hash.len()));
        }
        if last == 0 {
            return Err("the proof is longer than the tree is deep".into());
        }
        if node & 1 == 1 || node == last {
            root = node_hash(hash, &root);
            while node & 1 == 0 && node != 0 {
                node >>= 1;
                last >>= 1;
            }
        } else {
            root = node_hash(&root, hash);
        }
        node >>= 1;
        last >>= 1;
    }
    if last != 0 {
        return Err("the proof is shorter than the tree is deep".into());
    }
    Ok(root)
}

/// Inclusion proof ↔ root: the body's leaf hashes up to the proof's root hash.
pub(crate) fn verify_inclusion(leaf: &[u8; 32], proof: &InclusionProof) -> Result<(), String> {
    let root = root_from_inclusion_proof(leaf, proof.index, proof.tree_size, &proof.hashes)?;
    if root.as_slice() == proof.root_hash.as_slice() {
        Ok(())
    } else {
        Err(format!(
            "the entry hashes up to {}, not to the proof's root {}",
            hex(&root),
            hex(&proof.root_hash)
        ))
    }
}

/// A checkpoint (signed note) split into its parts.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Checkpoint<'a> {
    /// The signed text: origin, size, root and any further lines, each ending in `\n`.
    pub text: &'a str,
    pub origin: &'a str,
    pub tree_size: u64,
    pub root_hash: Vec<u8>,
    /// (name, key hint, signature) per signature line.
    pub signatures: Vec<(&'a str, [u8; 4], Vec<u8>)>,
}

/// Reads a signed note: the text, a blank line, then `— <name> <base64(hint ‖ signature)>`
/// lines.
pub(crate) fn parse_checkpoint(note: &str) -> Result<Checkpoint<'_>, String> {
    let Some(split) = note.find("\n\n") else {
        return Err("the checkpoint has no blank line before its signatures".into());
    };
    let text = &note[..split + 1];
    let mut lines = text.lines();
    let origin = lines.next().unwrap_or_default();
    let tree_size = lines
        .next()
        .and_then(|line| line.parse::<u64>().ok())
        .ok_or("the checkpoint's second line is not a tree size")?;
    let root_hash = lines
        .next()
        .and_then(|line| b64(line).ok())
        .ok_or("the checkpoint's third line is not a base64 root hash")?;
    if origin.is_empty() {
        return Err("the checkpoint has no origin line".into());
    }
    let mut signatures = Vec::new();
    for line in note[split + 2..].lines() {
        if line.is_empty() {
            continue;
        }
        if signatures.len() == MAX_CHECKPOINT_SIGNATURES {
            return Err("the checkpoint has too many signatures".into());
        }
        let Some(rest) = line.strip_prefix("\u{2014} ") else {
            return Err(format!(
                "checkpoint signature line `{line}` does not start with `— `"
            ));
        };
        let Some((name, encoded)) = rest.rsplit_once(' ') else {
            return Err("a checkpoint signature line has no signature".into());
        };
        let decoded = b64(encoded).map_err(|_| "a checkpoint signature is not base64")?;
        let Some((hint, signature)) = decoded.split_first_chunk::<4>() else {
            return Err("a checkpoint signature is shorter than its key hint".into());
        };
        signatures.push((name, *hint, signature.to_vec()));
    }
    Ok(Checkpoint {
        text,
        origin,
        tree_size,
        root_hash,
        signatures,
    })
}

/// Proof ↔ checkpoint ↔ log key: the checkpoint names the proof's tree size and root and is
/// signed by the log (its key hint is the first 4 bytes of the log id).
pub(crate) fn verify_checkpoint(
    proof: &InclusionProof,
    log_id: &[u8],
    log_key: &[u8],
) -> Result<(), String> {
    let name = log_name(log_id);
    let Some(note) = &proof.checkpoint else {
        return Err(format!("inclusion proof of log {name} has no checkpoint"));
    };
    let checkpoint = parse_checkpoint(note).map_err(|e| format!("log {name}: {e}"))?;
    if checkpoint.tree_size != proof.tree_size || checkpoint.root_hash != proof.root_hash {
        return Err(format!(
            "checkpoint of log {name} is for another tree (size {}, root {}) than the proof's \
             (size {}, root {})",
            checkpoint.tree_size,
            hex(&checkpoint.root_hash),
            proof.tree_size,
            hex(&proof.root_hash)
        ));
    }
    let hint = log_id.get(..4).unwrap_or_default();
    let ours: Vec<&Vec<u8>> = checkpoint
        .signatures
        .iter()
        .filter(|(_, key_hint, _)| key_hint.as_slice() == hint)
        .map(|(_, _, signature)| signature)
        .collect();
    if ours.is_empty() {
        // Rekor v1 origins end in " - <tree id>" (sigstore-go tells v1 from v2 so); a v2 log
        // derives its key hint otherwise.
        let v1 = checkpoint
            .origin
            .rsplit_once(" - ")
            .is_some_and(|(_, id)| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()));
        if !v1 {
            return Err(format!(
                "checkpoint of log {name} is not a Rekor v1 one (origin `{}`); Rekor v2 is not \
                 supported",
                checkpoint.origin
            ));
        }
        return Err(format!("checkpoint carries no signature by log {name}"));
    }
    let text = checkpoint.text.as_bytes();
    if ours
        .iter()
        .any(|signature| super::keys::verify_log_signature(log_key, text, signature).is_ok())
    {
        Ok(())
    } else {
        Err(format!(
            "checkpoint signature does not verify with the key of log {name}"
        ))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    api_version: String,
    kind: String,
    spec: serde_json::Value,
}

#[derive(Deserialize)]
struct HashedRekordSpec {
    data: HashedRekordData,
    signature: HashedRekordSignature,
}

#[derive(Deserialize)]
struct HashedRekordData {
    hash: Hash,
}

#[derive(Deserialize)]
struct Hash {
    algorithm: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HashedRekordSignature {
    content: String,
    public_key: Content,
}

#[derive(Deserialize)]
struct Content {
    content: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DsseSpec {
    payload_hash: Hash,
    signatures: Vec<DsseSignature>,
}

#[derive(Deserialize)]
struct DsseSignature {
    signature: String,
    verifier: String,
}

/// Log body ↔ this signature: the entry records this signature, made by this key (or
/// certificate), over this content. A valid SET over another signature's body proves nothing
/// about this one.
pub(crate) fn bind_body(entry: &LogEntry, logged: &Logged<'_>) -> Result<(), String> {
    let body: Body = serde_json::from_slice(&entry.body)
        .map_err(|e| format!("log entry body is not a Rekor entry: {e}"))?;
    if let Some((kind, version)) = &entry.kind_version {
        if *kind != body.kind || *version != body.api_version {
            return Err(format!(
                "log entry says it is {kind} {version} but its body is {} {}",
                body.kind, body.api_version
            ));
        }
    }
    match (
        body.kind.as_str(),
        body.api_version.as_str(),
        &logged.content,
    ) {
        ("hashedrekord", "0.0.1", LoggedContent::Payload(_) | LoggedContent::Digest(_)) => {
            let spec: HashedRekordSpec = serde_json::from_value(body.spec)
                .map_err(|e| format!("hashedrekord entry: {e}"))?;
            bind_hashedrekord(&spec, logged)
        }
        ("dsse", "0.0.1", LoggedContent::Dsse(payload)) => {
            let spec: DsseSpec =
                serde_json::from_value(body.spec).map_err(|e| format!("dsse entry: {e}"))?;
            bind_dsse(&spec, payload, logged)
        }
        (kind @ ("hashedrekord" | "dsse"), "0.0.1", _) => Err(format!(
            "log entry is a {kind} entry, which does not record this kind of signature"
        )),
        (kind, version, _) => Err(format!(
            "log entry kind {kind} {version} is not supported (hashedrekord and dsse 0.0.1 are)"
        )),
    }
}

fn bind_hashedrekord(spec: &HashedRekordSpec, logged: &Logged<'_>) -> Result<(), String> {
    bind_signature(&spec.signature.content, logged.signature)?;
    bind_verifier(&spec.signature.public_key.content, logged)?;
    let recorded = spec.data.hash.value.to_ascii_lowercase();
    let algorithm = spec.data.hash.algorithm.as_str();
    let actual = match (&logged.content, algorithm) {
        (LoggedContent::Payload(payload), "sha256") => hex(&Sha256::digest(payload)),
        (LoggedContent::Payload(payload), "sha384") => hex(&Sha384::digest(payload)),
        (LoggedContent::Payload(payload), "sha512") => hex(&Sha512::digest(payload)),
        (LoggedContent::Digest(digest), "sha256") => hex(digest),
        (_, other) => {
            return Err(format!(
                "log entry hashes the payload with `{other}`, which is not supported"
            ))
        }
    };
    if recorded == actual {
        Ok(())
    } else {
        Err(format!(
            "log entry is for other content ({algorithm}:{recorded}, not {algorithm}:{actual})"
        ))
    }
}

fn bind_dsse(spec: &DsseSpec, payload: &[u8], logged: &Logged<'_>) -> Result<(), String> {
    let [recorded] = spec.signatures.as_slice() else {
        return Err(format!(
            "log entry records {} signatures; the envelope has one",
            spec.signatures.len()
        ));
    };
    bind_signature(&recorded.signature, logged.signature)?;
    bind_verifier(&recorded.verifier, logged)?;
    let actual = hex(&Sha256::digest(payload));
    let hash = &spec.payload_hash;
    if hash.algorithm == "sha256" && hash.value.to_ascii_lowercase() == actual {
        Ok(())
    } else {
        Err(format!(
            "log entry is for another payload ({}:{}, not sha256:{actual})",
            hash.algorithm, hash.value
        ))
    }
}

/// The recorded signature (base64) is this one.
fn bind_signature(recorded: &str, signature: &[u8]) -> Result<(), String> {
    match b64(recorded) {
        Ok(bytes) if bytes == signature => Ok(()),
        Ok(_) => Err("log entry is for another signature".into()),
        Err(_) => Err("log entry's signature is not base64".into()),
    }
}

/// The recorded verifier (base64 of a PEM key or certificate) is the one that verified.
fn bind_verifier(recorded: &str, logged: &Logged<'_>) -> Result<(), String> {
    let pem = b64(recorded).map_err(|_| "log entry's verifier is not base64".to_string())?;
    let pem = String::from_utf8(pem).map_err(|_| "log entry's verifier is not PEM".to_string())?;
    let blocks = super::pem::blocks(&pem).map_err(|e| format!("log entry's verifier: {e}"))?;
    let matches = match blocks.as_slice() {
        [(label, der)] if label == "PUBLIC KEY" => der.as_slice() == logged.spki,
        [(label, der)] if label == "CERTIFICATE" => match logged.certificate {
            Some(certificate) => der.as_slice() == certificate,
            None => super::fulcio::certificate_spki(der).is_ok_and(|spki| spki == logged.spki),
        },
        _ => return Err("log entry's verifier is not one PEM key or certificate".into()),
    };
    if matches {
        Ok(())
    } else {
        Err("log entry names another key or certificate than the one that verified".into())
    }
}

fn b64(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    base64::engine::general_purpose::STANDARD.decode(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: u8) -> Vec<[u8; 32]> {
        (0..n).map(|i| leaf_hash(&[i])).collect()
    }

    /// MTH of RFC 6962 §2.1, the slow way.
    fn merkle_root(leaves: &[[u8; 32]]) -> [u8; 32] {
        match leaves.len() {
            0 => Sha256::digest([]).into(),
            1 => leaves[0],
            n => {
                let k = n.next_power_of_two() / 2;
                node_hash(&merkle_root(&leaves[..k]), &merkle_root(&leaves[k..]))
            }
        }
    }

    fn path(index: usize, leaves: &[[u8; 32]]) -> Vec<Vec<u8>> {
        if leaves.len() <= 1 {
            return vec![];
        }
        let k = leaves.len().next_power_of_two() / 2;
        if index < k {
            let mut p = path(index, &leaves[..k]);
            p.push(merkle_root(&leaves[k..]).to_vec());
            p
        } else {
            let mut p = path(index - k, &leaves[k..]);
            p.push(merkle_root(&leaves[..k]).to_vec());
            p
        }
    }

    #[test]
    fn inclusion_proofs_hash_up_to_the_root_for_every_shape() {
        for size in 1..=17u8 {
            let all = leaves(size);
            let root = merkle_root(&all);
            for index in 0..size as usize {
                let proof = path(index, &all);
                let got = root_from_inclusion_proof(&all[index], index as u64, size as u64, &proof);
                assert_eq!(got, Ok(root), "size {size} index {index}");
            }
        }
    }

    #[test]
    fn a_tampered_proof_does_not_reach_the_root() {
        let all = leaves(13);
        let root = merkle_root(&all);
        let mut proof = path(9, &all);
        let good = InclusionProof {
            index: 9,
            tree_size: 13,
            root_hash: root.to_vec(),
            hashes: proof.clone(),
            checkpoint: None,
        };
        assert_eq!(verify_inclusion(&all[9], &good), Ok(()));
        assert!(verify_inclusion(&all[8], &good)
            .unwrap_err()
            .contains("not to the proof's root"));
        proof[0][0] ^= 1;
        let bad = InclusionProof {
            hashes: proof.clone(),
            ..good.clone()
        };
        assert!(verify_inclusion(&all[9], &bad).is_err());
        let wrong_index = InclusionProof {
            index: 8,
            ..good.clone()
        };
        assert!(verify_inclusion(&all[9], &wrong_index).is_err());
        let short = InclusionProof {
            hashes: proof[..2].to_vec(),
            ..good.clone()
        };
        assert!(verify_inclusion(&all[9], &short)
            .unwrap_err()
            .contains("shorter"));
        let mut long_hashes = good.hashes.clone();
        long_hashes.push(vec![0; 32]);
        let long = InclusionProof {
            hashes: long_hashes,
            ..good.clone()
        };
        assert!(verify_inclusion(&all[9], &long)
            .unwrap_err()
            .contains("longer"));
        let outside = InclusionProof {
            index: 13,
            ..good.clone()
        };
        assert!(verify_inclusion(&all[9], &outside)
            .unwrap_err()
            .contains("outside"));
        let odd_hash = InclusionProof {
            hashes: vec![vec![0; 31]],
            ..good
        };
        assert!(verify_inclusion(&all[9], &odd_hash)
            .unwrap_err()
            .contains("31 bytes"));
    }

    #[test]
    fn set_payload_is_canonical_json() {
        let entry = LogEntry {
            body: b"{}".to_vec(),
            integrated_time: 1_780_315_202,
            log_index: 7005,
            log_id: vec![0xab; 32],
            kind_version: None,
            set: None,
            proof: None,
        };
        assert_eq!(
            set_payload(&entry),
            format!(
                r#"{{"body":"e30=","integratedTime":1780315202,"logID":"{}","logIndex":7005}}"#,
                "ab".repeat(32)
            )
        );
    }

    #[test]
    fn reads_a_checkpoint() {
        let note = "rekor.test - 42\n13\nAAAA\n\n\u{2014} rekor.test AQIDBAUG\n";
        let checkpoint = parse_checkpoint(note).unwrap();
        assert_eq!(checkpoint.text, "rekor.test - 42\n13\nAAAA\n");
        assert_eq!(checkpoint.origin, "rekor.test - 42");
        assert_eq!(checkpoint.tree_size, 13);
        assert_eq!(checkpoint.root_hash, vec![0, 0, 0]);
        assert_eq!(
            checkpoint.signatures,
            vec![("rekor.test", [1, 2, 3, 4], vec![5, 6])]
        );
    }

    #[test]
    fn refuses_malformed_checkpoints() {
        for (note, cause) in [
            ("rekor.test\n13\nAAAA\n", "no blank line"),
            ("rekor.test\nx\nAAAA\n\n\u{2014} r AQIDBAUG\n", "tree size"),
            ("rekor.test\n13\n!!\n\n\u{2014} r AQIDBAUG\n", "root hash"),
            ("rekor.test\n13\nAAAA\n\n- r AQIDBAUG\n", "does not start"),
            (
                "rekor.test\n13\nAAAA\n\n\u{2014} r AQI=\n",
                "shorter than its key hint",
            ),
            ("rekor.test\n13\nAAAA\n\n\u{2014} r !!\n", "not base64"),
        ] {
            let error = parse_checkpoint(note).unwrap_err();
            assert!(error.contains(cause), "{note:?}: {error}");
        }
    }

    /// The P-256 `.sig` fixture: its log entry, payload, signature and key.
    fn legacy_fixture() -> (LogEntry, Vec<u8>, Vec<u8>, Vec<u8>) {
        use super::super::{simplesigning, testdata::read};
        let annotations: std::collections::BTreeMap<String, String> =
            serde_json::from_slice(&read("legacy/ecdsa-p256/annotations.json")).unwrap();
        let layer = simplesigning::parse_annotations(&annotations).unwrap();
        let pem = String::from_utf8(read("keys/ecdsa-p256.pub")).unwrap();
        let key = super::super::parse_public_key_pem(&pem).unwrap();
        let payload = read("legacy/ecdsa-p256/payload.json");
        (layer.log_entry.unwrap(), payload, layer.signature, key.spki)
    }

    #[test]
    fn a_hashedrekord_body_binds_signature_key_and_payload() {
        let (entry, payload, signature, spki) = legacy_fixture();
        fn logged<'a>(signature: &'a [u8], spki: &'a [u8], payload: &'a [u8]) -> Logged<'a> {
            Logged {
                signature,
                spki,
                certificate: None,
                content: LoggedContent::Payload(payload),
            }
        }
        let (signature, spki, payload) = (&signature[..], &spki[..], &payload[..]);
        assert_eq!(bind_body(&entry, &logged(signature, spki, payload)), Ok(()));
        let error = bind_body(&entry, &logged(b"other", spki, payload)).unwrap_err();
        assert_eq!(error, "log entry is for another signature");
        let error = bind_body(&entry, &logged(signature, b"other key", payload)).unwrap_err();
        assert!(
            error.contains("names another key or certificate"),
            "{error}"
        );
        let error = bind_body(&entry, &logged(signature, spki, b"{}")).unwrap_err();
        assert!(
            error.starts_with("log entry is for other content (sha256:"),
            "{error}"
        );
        let dsse = Logged {
            content: LoggedContent::Dsse(payload),
            ..logged(signature, spki, payload)
        };
        assert!(bind_body(&entry, &dsse)
            .unwrap_err()
            .contains("hashedrekord entry"));
    }

    #[test]
    fn a_body_must_be_the_kind_the_bundle_says() {
        let (mut entry, payload, signature, spki) = legacy_fixture();
        let logged = Logged {
            signature: &signature,
            spki: &spki,
            certificate: None,
            content: LoggedContent::Payload(&payload),
        };
        entry.kind_version = Some(("dsse".into(), "0.0.1".into()));
        let error = bind_body(&entry, &logged).unwrap_err();
        assert!(error.contains("says it is dsse 0.0.1 but its body is hashedrekord 0.0.1"));
        entry.kind_version = None;
        entry.body = br#"{"apiVersion":"0.0.2","kind":"intoto","spec":{}}"#.to_vec();
        let error = bind_body(&entry, &logged).unwrap_err();
        assert!(
            error.contains("kind intoto 0.0.2 is not supported"),
            "{error}"
        );
        entry.body = b"not json".to_vec();
        assert!(bind_body(&entry, &logged)
            .unwrap_err()
            .contains("not a Rekor entry"));
    }

    #[test]
    fn the_set_covers_time_and_index() {
        let (mut entry, ..) = legacy_fixture();
        let root =
            super::super::parse_trusted_root(&super::super::testdata::read("trusted_root.json"))
                .unwrap();
        assert_eq!(authenticate(&entry, &root), Ok(Some(entry.integrated_time)));
        entry.integrated_time += 1;
        assert!(authenticate(&entry, &root)
            .unwrap_err()
            .starts_with("SET does not verify"));
        entry.integrated_time -= 1;
        entry.log_index += 1;
        assert!(authenticate(&entry, &root)
            .unwrap_err()
            .starts_with("SET does not verify"));
        entry.log_index -= 1;
        entry.set = None;
        assert!(authenticate(&entry, &root)
            .unwrap_err()
            .contains("neither a SET nor"));
    }

    #[test]
    fn a_checkpoint_must_be_signed_by_the_entrys_log() {
        let (entry, ..) = legacy_fixture();
        let root =
            super::super::parse_trusted_root(&super::super::testdata::read("trusted_root.json"))
                .unwrap();
        let key = root.tlogs.values().next().unwrap();
        let proof = |note: &str| InclusionProof {
            index: 0,
            tree_size: 13,
            root_hash: vec![0, 0, 0],
            hashes: vec![],
            checkpoint: Some(note.to_string()),
        };
        let other_hint = "rekor.test - 42\n13\nAAAA\n\n\u{2014} rekor.test AQIDBAUG\n";
        let error = verify_checkpoint(&proof(other_hint), &entry.log_id, key).unwrap_err();
        assert!(
            error.starts_with("checkpoint carries no signature by log"),
            "{error}"
        );
        let v2 = "log2025-1.rekor.test\n13\nAAAA\n\n\u{2014} rekor.test AQIDBAUG\n";
        let error = verify_checkpoint(&proof(v2), &entry.log_id, key).unwrap_err();
        assert!(error.contains("Rekor v2 is not supported"), "{error}");
        let other_tree = InclusionProof {
            tree_size: 14,
            ..proof(other_hint)
        };
        let error = verify_checkpoint(&other_tree, &entry.log_id, key).unwrap_err();
        assert!(error.contains("is for another tree"), "{error}");
        let none = InclusionProof {
            checkpoint: None,
            ..proof(other_hint)
        };
        let error = verify_checkpoint(&none, &entry.log_id, key).unwrap_err();
        assert!(error.contains("has no checkpoint"), "{error}");
    }

    #[test]
    fn log_names_are_short() {
        assert_eq!(log_name(&[0xab; 32]), "abababababababab…");
        assert_eq!(log_name(&[0xab; 2]), "abab");
    }
}
