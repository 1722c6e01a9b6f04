//! The `verify` entries of `trust-required`, validated: which images each entry covers and
//! what their signatures must satisfy. Keys and trusted roots are read and parsed when the
//! policy loads, so a bad key is a policy error at its line, not a surprise at run time.

use super::Glob;
use crate::finding::Span;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The `verify` option: entries in order; the first whose `images` match decides.
#[derive(Clone)]
pub struct VerifyPolicy {
    pub entries: Arc<Vec<VerifyEntry>>,
}

impl VerifyPolicy {
    /// The entry that decides for the image named `name` (normalised, `registry/repository`).
    pub fn entry_for(&self, name: &str) -> Option<&VerifyEntry> {
        self.entries
            .iter()
            .find(|e| e.images.iter().any(|g| g.matches(name)))
    }
}

impl PartialEq for VerifyPolicy {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.entries, &other.entries) || self.describe() == other.describe()
    }
}

impl Eq for VerifyPolicy {}

impl std::fmt::Debug for VerifyPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl VerifyPolicy {
    /// The entries as YAML (absolute paths), for `policy show`.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for entry in self.entries.iter() {
            let images: Vec<String> = entry
                .images
                .iter()
                .map(|g| format!("{:?}", g.as_str()))
                .collect();
            out.push_str(&format!("- images: [{}]\n", images.join(", ")));
            if let Some(n) = &entry.notary {
                out.push_str(&format!("  notary:\n    server: {:?}\n", n.server));
                if let Some(ca) = &n.ca_file {
                    out.push_str(&format!("    ca_file: {ca:?}\n"));
                }
                match &n.pin {
                    crate::trust::notary::Pin::Keys(keys) => {
                        let keys: Vec<String> =
                            keys.iter().map(|k| format!("{:?}", k.written)).collect();
                        out.push_str(&format!("    root_keys: [{}]\n", keys.join(", ")));
                    }
                    crate::trust::notary::Pin::Root(root) => {
                        out.push_str(&format!("    root_json: {:?}\n", root.file));
                    }
                }
                if !n.delegations.is_empty() {
                    let roles: Vec<String> =
                        n.delegations.iter().map(|r| format!("{r:?}")).collect();
                    out.push_str(&format!("    delegations: [{}]\n", roles.join(", ")));
                }
            }
            let Some(c) = &entry.cosign else {
                continue;
            };
            out.push_str("  cosign:\n");
            if !c.key_files.is_empty() {
                let keys: Vec<String> = c.key_files.iter().map(|k| format!("{k:?}")).collect();
                out.push_str(&format!("    keys: [{}]\n", keys.join(", ")));
            }
            out.push_str(&format!("    threshold: {}\n", c.threshold));
            out.push_str(&format!("    require_tlog: {}\n", c.require_tlog));
            if let Some(repository) = &c.signatures_repository {
                out.push_str(&format!("    signatures_repository: {repository:?}\n"));
            }
            if let Some(root) = &c.trusted_root_file {
                out.push_str(&format!("    trusted_root: {root:?}\n"));
            }
            if !c.annotations.is_empty() {
                out.push_str("    annotations:\n");
                for (k, v) in &c.annotations {
                    out.push_str(&format!("      {k:?}: {v:?}\n"));
                }
            }
            if !entry.attestations.is_empty() {
                out.push_str("  attestations:\n");
                for a in &entry.attestations {
                    out.push_str(&format!("    - predicate_type: {:?}\n", a.predicate_type));
                    for (key, regex) in [
                        ("builder_id_regex", &a.builder_id_regex),
                        ("source_repo_regex", &a.source_repo_regex),
                        ("source_ref_regex", &a.source_ref_regex),
                    ] {
                        if let Some(regex) = regex {
                            out.push_str(&format!("      {key}: {:?}\n", regex.as_str()));
                        }
                    }
                }
            }
            if let Some(k) = &c.keyless {
                out.push_str(&format!(
                    "    keyless:\n      trusted_root: {:?}\n      issuer: {:?}\n      subject_regex: {:?}\n",
                    k.trusted_root_file, k.issuer, k.subject_regex.as_str()
                ));
            }
        }
        out
    }
}

/// One `verify` entry.
#[derive(Debug, Clone)]
pub struct VerifyEntry {
    /// Globs over the normalised image name (`registry/repository`).
    pub images: Vec<Glob>,
    /// What cosign signatures must satisfy, if the entry asks for them.
    pub cosign: Option<CosignPolicy>,
    /// What Docker Content Trust must admit, if the entry asks for it. With `cosign` too,
    /// both must hold.
    pub notary: Option<Arc<crate::trust::notary::NotaryPolicy>>,
    /// Attestations the image must carry, each signed as `cosign` requires; every one must be
    /// satisfied.
    pub attestations: Vec<AttestationPolicy>,
    /// Where the entry is written, for messages.
    pub span: Span,
}

/// One `attestations` entry: a predicate type and what its SLSA provenance must say.
#[derive(Debug, Clone)]
pub struct AttestationPolicy {
    pub predicate_type: String,
    pub builder_id_regex: Option<regex::Regex>,
    pub source_repo_regex: Option<regex::Regex>,
    pub source_ref_regex: Option<regex::Regex>,
    /// Where the entry is written, for messages.
    pub line: usize,
}

/// A `cosign` block.
#[derive(Debug, Clone)]
pub struct CosignPolicy {
    pub keys: Vec<crate::trust::PublicKey>,
    /// The key files as written (absolute), for `policy show`.
    pub key_files: Vec<String>,
    /// Signatures by this many distinct keys or identities are needed.
    pub threshold: usize,
    pub annotations: BTreeMap<String, String>,
    pub require_tlog: bool,
    pub trusted_root: Option<crate::trust::TrustedRoot>,
    pub trusted_root_file: Option<String>,
    pub keyless: Option<KeylessPolicy>,
    /// `registry/repository` where the signatures live, when not beside the image.
    pub signatures_repository: Option<String>,
}

impl Default for CosignPolicy {
    /// No signer yet, one signature needed, no log entry required (keys may sign air-gapped).
    fn default() -> Self {
        CosignPolicy {
            keys: Vec::new(),
            key_files: Vec::new(),
            threshold: 1,
            annotations: BTreeMap::new(),
            require_tlog: false,
            trusted_root: None,
            trusted_root_file: None,
            keyless: None,
            signatures_repository: None,
        }
    }
}

impl CosignPolicy {
    /// What `crate::trust::verify` checks each signature against.
    pub fn requirements(&self) -> crate::trust::Requirements {
        // A keyless signer's trusted root also holds the logs that time its certificates.
        let trusted_root = match &self.keyless {
            Some(keyless) => Some(keyless.trusted_root.clone()),
            None => self.trusted_root.clone(),
        };
        crate::trust::Requirements {
            keys: self.keys.clone(),
            annotations: self.annotations.clone(),
            require_tlog: self.require_tlog,
            trusted_root,
            keyless: self.keyless.as_ref().map(|k| crate::trust::Keyless {
                issuer: k.issuer.clone(),
                subject_regex: k.subject_regex.clone(),
            }),
        }
    }
}

/// A `keyless` block: who may have signed, as Fulcio certifies it.
#[derive(Debug, Clone)]
pub struct KeylessPolicy {
    pub trusted_root: crate::trust::TrustedRoot,
    pub trusted_root_file: String,
    pub issuer: String,
    pub subject_regex: regex::Regex,
    /// `require_tlog` written in the `keyless` block (it means the `cosign` block's).
    pub require_tlog: Option<bool>,
}
