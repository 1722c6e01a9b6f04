//! PEM blocks (RFC 7468, read laxly as Go's `encoding/pem` does): keys, certificates and the
//! chains cosign stores in annotations and Rekor in log bodies.

use base64::Engine;

/// The most blocks one text may hold (a leaf, its chain, with room to spare).
const MAX_BLOCKS: usize = 16;

/// Every `-----BEGIN L-----` … `-----END L-----` block in `text`: (label, DER). Text between
/// blocks is ignored, as Go does; a block that does not close or decode is an error.
pub(crate) fn blocks(text: &str) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        if found.len() == MAX_BLOCKS {
            return Err(format!("more than {MAX_BLOCKS} PEM blocks"));
        }
        let after = &rest[start + "-----BEGIN ".len()..];
        let Some(label_end) = after.find("-----") else {
            return Err("a PEM BEGIN line does not close".into());
        };
        let label = &after[..label_end];
        let body_start = &after[label_end + "-----".len()..];
        let end_line = format!("-----END {label}-----");
        let Some(body_end) = body_start.find(&end_line) else {
            return Err(format!("PEM block `{label}` has no END line"));
        };
        let body: String = body_start[..body_end]
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body.as_bytes())
            .map_err(|e| format!("PEM block `{label}` is not base64: {e}"))?;
        found.push((label.to_string(), der));
        rest = &body_start[body_end + end_line.len()..];
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_chain_of_blocks() {
        let text = "junk\n-----BEGIN A-----\nAAEC\n-----END A-----\n-----BEGIN B-----\r\nAw==\r\n-----END B-----\n";
        let found = blocks(text).unwrap();
        assert_eq!(
            found,
            vec![("A".to_string(), vec![0, 1, 2]), ("B".to_string(), vec![3])]
        );
        assert_eq!(blocks("").unwrap(), vec![]);
    }

    #[test]
    fn refuses_broken_blocks() {
        assert!(blocks("-----BEGIN A-----\nAAEC\n")
            .unwrap_err()
            .contains("no END"));
        assert!(blocks("-----BEGIN A-----\n!!\n-----END A-----")
            .unwrap_err()
            .contains("base64"));
        assert!(blocks("-----BEGIN A")
            .unwrap_err()
            .contains("does not close"));
        let many = "-----BEGIN A-----\nAA==\n-----END A-----\n".repeat(MAX_BLOCKS + 1);
        assert!(blocks(&many).unwrap_err().contains("more than"));
    }
}
