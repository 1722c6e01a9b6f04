//! The fixtures `tests/trust/fixtures/make.sh` wrote with the independent test signer.

use std::path::PathBuf;

pub(crate) fn path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/trust/fixtures")
        .join(relative)
}

pub(crate) fn read(relative: &str) -> Vec<u8> {
    let path = path(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What a keyed signature must satisfy in the fixtures' tests: `key`, a log entry proven
/// with `root`.
pub(crate) fn keyed(key: super::PublicKey, root: super::TrustedRoot) -> super::Requirements {
    super::Requirements {
        keys: vec![key],
        require_tlog: true,
        trusted_root: Some(root),
        ..super::Requirements::default()
    }
}

/// What a keyless signature must satisfy: a certificate from `root` for `issuer` and a
/// subject `pattern` matches, timed by a log entry.
pub(crate) fn keyless(
    root: super::TrustedRoot,
    issuer: &str,
    pattern: &str,
) -> super::Requirements {
    super::Requirements {
        require_tlog: true,
        trusted_root: Some(root),
        keyless: Some(super::Keyless {
            issuer: issuer.into(),
            subject_regex: regex::Regex::new(pattern).unwrap(),
        }),
        ..super::Requirements::default()
    }
}
