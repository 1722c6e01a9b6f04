//! Validation of `trust-required`'s `verify` entries (see [`crate::policy::trust`]).

use super::super::error::ErrorKind;
use super::super::raw::Node;
use super::super::trust::{
    AttestationPolicy, CosignPolicy, KeylessPolicy, VerifyEntry, VerifyPolicy,
};
use super::{OptionKind, Validator};
use crate::finding::Span;
use std::path::PathBuf;
use std::sync::Arc;

const ENTRY_KEYS: &[&str] = &["images", "cosign", "notary", "attestations"];
const COSIGN_KEYS: &[&str] = &[
    "keys",
    "threshold",
    "annotations",
    "require_tlog",
    "trusted_root",
    "keyless",
    "signatures_repository",
];
const ATTESTATION_KEYS: &[&str] = &[
    "predicate_type",
    "builder_id_regex",
    "source_repo_regex",
    "source_ref_regex",
];
const KEYLESS_KEYS: &[&str] = &["trusted_root", "issuer", "subject_regex", "require_tlog"];
/// Key and trusted-root files are small; a larger one is not what it claims to be.
const MAX_TRUST_FILE_BYTES: u64 = 1024 * 1024;

impl Validator<'_> {
    pub(super) fn verify_entries(&mut self, node: &Node, what: &str) -> Option<VerifyPolicy> {
        let items = self.sequence(node, what)?;
        if items.is_empty() {
            self.empty(node, what);
            return None;
        }
        let mut entries = Vec::new();
        let mut ok = true;
        for item in items {
            match self.verify_entry(item) {
                Some(entry) => entries.push(entry),
                None => ok = false,
            }
        }
        ok.then(|| VerifyPolicy {
            entries: Arc::new(entries),
        })
    }

    fn verify_entry(&mut self, node: &Node) -> Option<VerifyEntry> {
        let entries = self.mapping(node, "a `verify` entry")?;
        let (mut images, mut cosign) = (None, None);
        let mut attestations = Vec::new();
        let mut ok = true;
        for (key, value) in entries {
            match key.as_str().unwrap_or_default() {
                "images" => images = self.glob_list(value, "`images` of a `verify` entry"),
                "cosign" => {
                    cosign = self.cosign(value);
                    ok &= cosign.is_some();
                }
                "attestations" => match self.attestations(value) {
                    Some(list) => attestations = list,
                    None => ok = false,
                },
                name @ "notary" => {
                    ok = false;
                    self.trust_error(
                        key.span,
                        &format!("`{name}` of a `verify` entry"),
                        "not supported yet by this portcullis (Docker Content Trust comes \
                         next); remove it, or the gate cannot keep its promise",
                    );
                }
                _ => self.unknown_key(key, "a `verify` entry", ENTRY_KEYS),
            }
        }
        let start = Span::point(node.span.line, node.span.column);
        if images.is_none() && !entries.iter().any(|(k, _)| k.as_str() == Some("images")) {
            self.missing(
                start,
                "images",
                "a `verify` entry",
                "; the image globs it covers",
            );
        }
        if cosign.is_none() && ok && !entries.iter().any(|(k, _)| k.as_str() == Some("cosign")) {
            self.missing(
                start,
                "cosign",
                "a `verify` entry",
                "; what the signatures must satisfy",
            );
        }
        Some(VerifyEntry {
            images: images?,
            cosign: cosign?,
            attestations,
            span: node.span,
        })
        .filter(|_| ok)
    }

    fn attestations(&mut self, node: &Node) -> Option<Vec<AttestationPolicy>> {
        let items = self.sequence(node, "`attestations`")?;
        let mut out = Vec::new();
        let mut ok = true;
        for item in items {
            let Some(entries) = self.mapping(item, "an `attestations` entry") else {
                ok = false;
                continue;
            };
            let mut policy = AttestationPolicy {
                predicate_type: String::new(),
                builder_id_regex: None,
                source_repo_regex: None,
                source_ref_regex: None,
                line: item.span.line,
            };
            for (key, value) in entries {
                let name = key.as_str().unwrap_or_default();
                let slot = match name {
                    "predicate_type" => {
                        match self.string(value, "`predicate_type` of an attestation") {
                            Some(text) if !text.is_empty() => policy.predicate_type = text,
                            Some(_) => {
                                ok = false;
                                self.empty(value, "`predicate_type` of an attestation");
                            }
                            None => ok = false,
                        }
                        continue;
                    }
                    "builder_id_regex" => &mut policy.builder_id_regex,
                    "source_repo_regex" => &mut policy.source_repo_regex,
                    "source_ref_regex" => &mut policy.source_ref_regex,
                    _ => {
                        self.unknown_key(key, "an `attestations` entry", ATTESTATION_KEYS);
                        continue;
                    }
                };
                let what = format!("`{name}` of an attestation");
                let Some(text) = self.string(value, &what) else {
                    ok = false;
                    continue;
                };
                match regex::Regex::new(&text) {
                    Ok(re) => *slot = Some(re),
                    Err(e) => {
                        ok = false;
                        self.trust_error(value.span, &what, &e.to_string());
                    }
                }
            }
            if policy.predicate_type.is_empty()
                && !entries
                    .iter()
                    .any(|(k, _)| k.as_str() == Some("predicate_type"))
            {
                ok = false;
                let start = Span::point(item.span.line, item.span.column);
                self.missing(start, "predicate_type", "an `attestations` entry", "");
            }
            out.push(policy);
        }
        ok.then_some(out)
    }

    fn cosign(&mut self, node: &Node) -> Option<CosignPolicy> {
        let entries = self.mapping(node, "`cosign`")?;
        let mut policy = CosignPolicy::default();
        let mut ok = true;
        let mut require_tlog = None;
        for (key, value) in entries {
            match key.as_str().unwrap_or_default() {
                "keys" => {
                    let Some(items) =
                        self.string_list(value, "`keys` of `cosign`", OptionKind::StringList)
                    else {
                        ok = false;
                        continue;
                    };
                    for item in items {
                        let Some((path, text)) = self.trust_file(&item.value, item.span, "key")
                        else {
                            ok = false;
                            continue;
                        };
                        match crate::trust::parse_public_key_pem(&text) {
                            Ok(key) => {
                                policy.keys.push(key);
                                policy.key_files.push(path.display().to_string());
                            }
                            Err(reason) => {
                                ok = false;
                                self.trust_error(
                                    item.span,
                                    &format!("key `{}`", item.value),
                                    &reason,
                                );
                            }
                        }
                    }
                }
                "threshold" => match self.integer(value, "`threshold` of `cosign`") {
                    Some(n) if n >= 1 => {
                        policy.threshold = usize::try_from(n).unwrap_or(usize::MAX)
                    }
                    Some(_) => {
                        ok = false;
                        self.trust_error(
                            value.span,
                            "`threshold` of `cosign`",
                            "must be at least 1",
                        );
                    }
                    None => ok = false,
                },
                "annotations" => match self.string_map(value, "`annotations` of `cosign`") {
                    Some(map) => policy.annotations = map,
                    None => ok = false,
                },
                "require_tlog" => require_tlog = self.boolean(value, "`require_tlog` of `cosign`"),
                "trusted_root" => match self.trusted_root(value) {
                    Some((root, file)) => {
                        policy.trusted_root = Some(root);
                        policy.trusted_root_file = Some(file);
                    }
                    None => ok = false,
                },
                "keyless" => {
                    policy.keyless = self.keyless(value);
                    ok &= policy.keyless.is_some();
                }
                "signatures_repository" => {
                    let what = "`signatures_repository` of `cosign`";
                    let Some(text) = self.string(value, what) else {
                        ok = false;
                        continue;
                    };
                    match crate::image::ImageReference::parse(&text) {
                        Ok(r) if r.tag.is_none() && r.digest.is_none() => {
                            policy.signatures_repository = Some(r.name());
                        }
                        Ok(_) => {
                            ok = false;
                            self.trust_error(
                                value.span,
                                what,
                                "names a repository, without a tag or digest",
                            );
                        }
                        Err(e) => {
                            ok = false;
                            self.trust_error(
                                value.span,
                                what,
                                &format!("is not a repository: {e}"),
                            );
                        }
                    }
                }
                _ => self.unknown_key(key, "`cosign`", COSIGN_KEYS),
            }
        }
        let start = Span::point(node.span.line, node.span.column);
        if ok && policy.keys.is_empty() && policy.keyless.is_none() {
            ok = false;
            self.trust_error(
                start,
                "`cosign`",
                "names no `keys` and no `keyless` signer: nothing could pass",
            );
        }
        // Keyless signatures need a log's time to be judged at; keys do not (air-gapped).
        let keyless_tlog = policy.keyless.as_ref().and_then(|k| k.require_tlog);
        policy.require_tlog = require_tlog
            .or(keyless_tlog)
            .unwrap_or(policy.keyless.is_some());
        if ok && policy.require_tlog && policy.trusted_root.is_none() {
            match &policy.keyless {
                Some(keyless) => policy.trusted_root = Some(keyless.trusted_root.clone()),
                None => {
                    ok = false;
                    self.trust_error(
                        start,
                        "`cosign`",
                        "`require_tlog: true` needs a `trusted_root` whose log keys prove the entries",
                    );
                }
            }
        }
        ok.then_some(policy)
    }

    fn keyless(&mut self, node: &Node) -> Option<KeylessPolicy> {
        let entries = self.mapping(node, "`keyless`")?;
        let (mut root, mut issuer, mut subject) = (None, None, None);
        let mut require_tlog = None;
        let mut ok = true;
        for (key, value) in entries {
            match key.as_str().unwrap_or_default() {
                "trusted_root" => {
                    root = self.trusted_root(value);
                    ok &= root.is_some();
                }
                "issuer" => issuer = self.string(value, "`issuer` of `keyless`"),
                "subject_regex" => {
                    let Some(text) = self.string(value, "`subject_regex` of `keyless`") else {
                        ok = false;
                        continue;
                    };
                    match regex::Regex::new(&text) {
                        Ok(re) => subject = Some(re),
                        Err(e) => {
                            ok = false;
                            self.trust_error(
                                value.span,
                                "`subject_regex` of `keyless`",
                                &e.to_string(),
                            );
                        }
                    }
                }
                "require_tlog" => require_tlog = self.boolean(value, "`require_tlog` of `keyless`"),
                _ => self.unknown_key(key, "`keyless`", KEYLESS_KEYS),
            }
        }
        let start = Span::point(node.span.line, node.span.column);
        for (name, present) in [
            ("trusted_root", root.is_some()),
            ("issuer", issuer.is_some()),
            ("subject_regex", subject.is_some()),
        ] {
            if !present && ok && !entries.iter().any(|(k, _)| k.as_str() == Some(name)) {
                self.missing(start, name_static(name), "`keyless`", "");
                ok = false;
            }
        }
        let ((trusted_root, trusted_root_file), issuer, subject_regex) = (root?, issuer?, subject?);
        ok.then_some(KeylessPolicy {
            trusted_root,
            trusted_root_file,
            issuer,
            subject_regex,
            require_tlog,
        })
    }

    fn trusted_root(&mut self, node: &Node) -> Option<(crate::trust::TrustedRoot, String)> {
        let written = self.string(node, "`trusted_root`")?;
        let (path, text) = self.trust_file(&written, node.span, "trusted root")?;
        match crate::trust::parse_trusted_root(text.as_bytes()) {
            Ok(root) => Some((root, path.display().to_string())),
            Err(reason) => {
                self.trust_error(node.span, &format!("trusted root `{written}`"), &reason);
                None
            }
        }
    }

    /// Reads a file the policy names, relative to the policy file's directory.
    fn trust_file(&mut self, written: &str, span: Span, what: &str) -> Option<(PathBuf, String)> {
        let path = match &self.dir {
            Some(dir) => dir.join(written),
            None => PathBuf::from(written),
        };
        let read = std::fs::metadata(&path).and_then(|m| {
            if m.len() > MAX_TRUST_FILE_BYTES {
                Err(std::io::Error::other(format!(
                    "larger than {MAX_TRUST_FILE_BYTES} bytes"
                )))
            } else {
                std::fs::read_to_string(&path)
            }
        });
        match read {
            Ok(text) => Some((path, text)),
            Err(e) => {
                self.trust_error(
                    span,
                    &format!("{what} `{written}`"),
                    &format!("cannot be read ({e}); paths are relative to the policy file"),
                );
                None
            }
        }
    }

    fn trust_error(&mut self, span: Span, what: &str, reason: &str) {
        self.diags.push(
            span,
            ErrorKind::Trust {
                what: what.to_string(),
                reason: reason.to_string(),
            },
        );
    }
}

fn name_static(name: &str) -> &'static str {
    KEYLESS_KEYS
        .iter()
        .find(|k| **k == name)
        .copied()
        .unwrap_or("key")
}
