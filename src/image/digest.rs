//! Content digests (`sha256:…`): parsed strictly and verified against the exact bytes.
//!
//! Everything fetched is checked against the digest that named it before it is parsed: a
//! registry, layout or archive that serves other bytes than it promised is an error, never a
//! pass. Digests are also used as file names in OCI layouts, so parsing rejects anything but
//! lower-case hex of the right length (no `..`, no `/`).

use sha2::{Digest as _, Sha256, Sha384, Sha512};
use std::fmt;

/// A digest algorithm portcullis can verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    Sha256,
    Sha384,
    Sha512,
}

impl Algorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha384 => "sha384",
            Algorithm::Sha512 => "sha512",
        }
    }

    fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha384 => 96,
            Algorithm::Sha512 => 128,
        }
    }

    fn hash(self, bytes: &[u8]) -> String {
        match self {
            Algorithm::Sha256 => hex(&Sha256::digest(bytes)),
            Algorithm::Sha384 => hex(&Sha384::digest(bytes)),
            Algorithm::Sha512 => hex(&Sha512::digest(bytes)),
        }
    }
}

/// A parsed digest: `algorithm:hex`, hex in lower case and of the algorithm's length.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: Algorithm,
    hex: String,
}

/// Why a string is not a digest portcullis can verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid digest `{digest}`: {reason}")]
pub struct DigestParseError {
    pub digest: String,
    pub reason: &'static str,
}

impl Digest {
    /// Parses `sha256:<64 hex>` (also `sha384`, `sha512`).
    pub fn parse(input: &str) -> Result<Digest, DigestParseError> {
        let fail = |reason| DigestParseError {
            digest: shorten(input),
            reason,
        };
        let (algorithm, hex) = input
            .split_once(':')
            .ok_or_else(|| fail("expected `algorithm:hex`"))?;
        let algorithm = match algorithm {
            "sha256" => Algorithm::Sha256,
            "sha384" => Algorithm::Sha384,
            "sha512" => Algorithm::Sha512,
            _ => return Err(fail("unsupported algorithm (sha256, sha384 or sha512)")),
        };
        if hex.len() != algorithm.hex_len() {
            return Err(fail("wrong length for its algorithm"));
        }
        if !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(fail("expected lower-case hex"));
        }
        Ok(Digest {
            algorithm,
            hex: hex.to_string(),
        })
    }

    /// The sha256 digest of `bytes`.
    pub fn sha256_of(bytes: &[u8]) -> Digest {
        Digest::of(Algorithm::Sha256, bytes)
    }

    /// The digest of `bytes` with `algorithm`.
    pub fn of(algorithm: Algorithm, bytes: &[u8]) -> Digest {
        Digest {
            algorithm,
            hex: algorithm.hash(bytes),
        }
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The hex part, safe to use as a file name.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// Whether `bytes` hash to this digest.
    pub fn matches(&self, bytes: &[u8]) -> bool {
        self.algorithm.hash(bytes) == self.hex
    }

    /// Checks `bytes` against this digest: `Err(actual)` with the digest they really have.
    pub fn verify(&self, bytes: &[u8]) -> Result<(), Digest> {
        let actual = Digest::of(self.algorithm, bytes);
        if actual.hex == self.hex {
            Ok(())
        } else {
            Err(actual)
        }
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm.as_str(), self.hex)
    }
}

impl std::str::FromStr for Digest {
    type Err = DigestParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Digest::parse(s)
    }
}

/// A digest computed as bytes go by (layers are never held whole).
#[derive(Clone)]
pub(crate) enum Hasher {
    Sha256(Sha256),
    Sha384(Sha384),
    Sha512(Sha512),
}

impl Hasher {
    pub(crate) fn new(algorithm: Algorithm) -> Hasher {
        match algorithm {
            Algorithm::Sha256 => Hasher::Sha256(Sha256::new()),
            Algorithm::Sha384 => Hasher::Sha384(Sha384::new()),
            Algorithm::Sha512 => Hasher::Sha512(Sha512::new()),
        }
    }

    pub(crate) fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(bytes),
            Hasher::Sha384(h) => h.update(bytes),
            Hasher::Sha512(h) => h.update(bytes),
        }
    }

    pub(crate) fn finish(self) -> Digest {
        let (algorithm, hex) = match self {
            Hasher::Sha256(h) => (Algorithm::Sha256, hex(&h.finalize())),
            Hasher::Sha384(h) => (Algorithm::Sha384, hex(&h.finalize())),
            Hasher::Sha512(h) => (Algorithm::Sha512, hex(&h.finalize())),
        };
        Digest { algorithm, hex }
    }
}

fn hex(bytes: &[u8]) -> String {
    use fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// At most 100 characters of untrusted text, for error messages.
pub(crate) fn shorten(text: &str) -> String {
    const MAX: usize = 100;
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if cleaned.chars().count() <= MAX {
        cleaned
    } else {
        let mut out: String = cleaned.chars().take(MAX).collect();
        out.push('…');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY_SHA256: &str =
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn hashes_and_verifies() {
        let d = Digest::sha256_of(b"");
        assert_eq!(d.to_string(), EMPTY_SHA256);
        assert!(d.matches(b""));
        assert_eq!(d.verify(b"x").unwrap_err(), Digest::sha256_of(b"x"));
        let parsed = Digest::parse(EMPTY_SHA256).unwrap();
        assert_eq!(parsed, d);
        let sha512 = Digest::of(Algorithm::Sha512, b"abc");
        assert_eq!(Digest::parse(&sha512.to_string()).unwrap(), sha512);
    }

    #[test]
    fn hashes_incrementally_as_at_once() {
        for algorithm in [Algorithm::Sha256, Algorithm::Sha384, Algorithm::Sha512] {
            let mut hasher = Hasher::new(algorithm);
            hasher.update(b"ab");
            hasher.update(b"");
            hasher.update(b"c");
            assert_eq!(hasher.finish(), Digest::of(algorithm, b"abc"));
        }
    }

    #[test]
    fn rejects_what_could_escape_a_directory_or_is_not_verifiable() {
        for bad in [
            "sha256",
            "sha256:",
            "sha256:../../etc/passwd",
            "md5:d41d8cd98f00b204e9800998ecf8427e",
            "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855/x",
        ] {
            assert!(Digest::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn shortens_untrusted_text() {
        assert_eq!(shorten("a\nb"), "a b");
        assert_eq!(shorten(&"x".repeat(300)).chars().count(), 101);
    }
}
