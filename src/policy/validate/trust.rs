//! Validation of `trust-required`'s `verify` entries (see [`crate::policy::trust`]).

use super::super::error::ErrorKind;
use super::super::raw::Node;
use super::super::trust::{
    AttestationPolicy, CosignPolicy, KeylessPolicy, VerifyEntry, VerifyPolicy,
};
use super::{OptionKind, Validator};
use crate::finding::Span;
use crate::trust::notary::{NotaryPolicy, Pin, PinnedKey, PinnedRoot};
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
const NOTARY_KEYS: &[&str] = &["server", "ca_file", "root_keys", "root_json", "delegations"];
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
        let (mut images, mut cosign, mut notary) = (None, None, None);
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
                "notary" => {
                    notary = self.notary(value).map(Arc::new);
                    ok &= notary.is_some();
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
        let written = |name: &str| entries.iter().any(|(k, _)| k.as_str() == Some(name));
        if ok && !written("cosign") && !written("notary") {
            ok = false;
            self.missing(
                start,
                "cosign",
                "a `verify` entry",
                " (or `notary`, or both); what the image's signatures must satisfy",
            );
        }
        if ok && !attestations.is_empty() && cosign.is_none() {
            ok = false;
            self.trust_error(
                start,
                "`attestations` of a `verify` entry",
                "are verified as `cosign` requires: add the `cosign` block that says whose \
                 attestations count",
            );
        }
        Some(VerifyEntry {
            images: images?,
            cosign,
            notary,
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

    /// A `notary` block: the server, its TLS CA, the pinned root and the required roles.
    fn notary(&mut self, node: &Node) -> Option<NotaryPolicy> {
        let entries = self.mapping(node, "`notary`")?;
        let (mut server, mut ca, mut keys, mut root) = (None, None, None, None);
        let mut delegations = Vec::new();
        let mut ok = true;
        for (key, value) in entries {
            match key.as_str().unwrap_or_default() {
                "server" => {
                    let what = "`server` of `notary`";
                    let Some(text) = self.string(value, what) else {
                        ok = false;
                        continue;
                    };
                    match notary_server(&text) {
                        Ok(url) => server = Some(url),
                        Err(reason) => {
                            ok = false;
                            self.trust_error(value.span, what, &reason);
                        }
                    }
                }
                "ca_file" => {
                    let Some(written) = self.string(value, "`ca_file` of `notary`") else {
                        ok = false;
                        continue;
                    };
                    let Some((path, text)) = self.trust_file(&written, value.span, "CA file")
                    else {
                        ok = false;
                        continue;
                    };
                    let certificates = crate::trust::pem_blocks(&text)
                        .map(|b| b.iter().filter(|(l, _)| l == "CERTIFICATE").count());
                    match certificates {
                        Ok(n) if n > 0 => {
                            ca = Some((text.into_bytes(), path.display().to_string()))
                        }
                        Ok(_) => {
                            ok = false;
                            self.trust_error(
                                value.span,
                                &format!("CA file `{written}`"),
                                "holds no PEM `CERTIFICATE`",
                            );
                        }
                        Err(reason) => {
                            ok = false;
                            self.trust_error(value.span, &format!("CA file `{written}`"), &reason);
                        }
                    }
                }
                "root_keys" => {
                    let Some(items) =
                        self.string_list(value, "`root_keys` of `notary`", OptionKind::StringList)
                    else {
                        ok = false;
                        continue;
                    };
                    if items.is_empty() {
                        ok = false;
                        self.empty(value, "`root_keys` of `notary`");
                        continue;
                    }
                    let mut pins = Vec::new();
                    for item in items {
                        if let Some(pin) = PinnedKey::from_id(&item.value) {
                            pins.push(pin);
                            continue;
                        }
                        let Some((path, text)) =
                            self.trust_file(&item.value, item.span, "root key")
                        else {
                            ok = false;
                            continue;
                        };
                        match PinnedKey::from_pem(&path.display().to_string(), &text) {
                            Ok(pin) => pins.push(pin),
                            Err(reason) => {
                                ok = false;
                                self.trust_error(
                                    item.span,
                                    &format!("root key `{}`", item.value),
                                    &format!(
                                        "{reason}; a root key is a PEM certificate or public \
                                         key, or a 64-hex-digit key id"
                                    ),
                                );
                            }
                        }
                    }
                    keys = Some(pins);
                }
                "root_json" => {
                    let Some(written) = self.string(value, "`root_json` of `notary`") else {
                        ok = false;
                        continue;
                    };
                    let Some((path, text)) = self.trust_file(&written, value.span, "root.json")
                    else {
                        ok = false;
                        continue;
                    };
                    match PinnedRoot::new(&path.display().to_string(), text.into_bytes()) {
                        Ok(pinned) => root = Some(pinned),
                        Err(reason) => {
                            ok = false;
                            self.trust_error(
                                value.span,
                                &format!("root.json `{written}`"),
                                &reason,
                            );
                        }
                    }
                }
                "delegations" => {
                    let what = "`delegations` of `notary`";
                    let Some(items) = self.string_list(value, what, OptionKind::StringList) else {
                        ok = false;
                        continue;
                    };
                    for item in items {
                        let valid = item.value.starts_with("targets/")
                            && item.value.len() > "targets/".len()
                            && !item.value.ends_with('/')
                            && !item
                                .value
                                .split('/')
                                .any(|p| p.is_empty() || p == "." || p == "..");
                        if valid {
                            delegations.push(item.value);
                        } else {
                            ok = false;
                            self.trust_error(
                                item.span,
                                &format!("role `{}` in {what}", item.value),
                                "is not a delegated role: they are named `targets/<name>`, \
                                 e.g. `targets/releases` (where `docker trust sign` signs)",
                            );
                        }
                    }
                }
                _ => self.unknown_key(key, "`notary`", NOTARY_KEYS),
            }
        }
        let start = Span::point(node.span.line, node.span.column);
        let written = |name: &str| entries.iter().any(|(k, _)| k.as_str() == Some(name));
        if !written("server") {
            ok = false;
            self.missing(
                start,
                "server",
                "`notary`",
                "; e.g. https://notary.acme.internal:4443",
            );
        }
        let pin = match (keys, root) {
            (Some(_), Some(_)) => {
                ok = false;
                self.trust_error(
                    start,
                    "`notary`",
                    "pins the root twice: give `root_keys` or `root_json`, not both",
                );
                None
            }
            (Some(keys), None) => Some(Pin::Keys(keys)),
            (None, Some(root)) => Some(Pin::Root(root)),
            (None, None) => {
                if ok && !written("root_keys") && !written("root_json") {
                    ok = false;
                    self.trust_error(
                        start,
                        "`notary`",
                        "pins no root: give `root_keys` (certificates, public keys or key ids) \
                         or `root_json`; a root trusted on first use verifies nothing on a CI \
                         runner",
                    );
                }
                None
            }
        };
        let (ca_pem, ca_file) = match ca {
            Some((pem, file)) => (Some(pem), Some(file)),
            None => (None, None),
        };
        let policy = NotaryPolicy {
            server: server?,
            ca_pem,
            ca_file,
            pin: pin?,
            delegations,
        };
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

/// A Notary server URL: `https://host[:port]`, nothing after the authority.
fn notary_server(text: &str) -> Result<String, String> {
    let Some(rest) = text.strip_prefix("https://") else {
        return Err(format!(
            "must be an https:// URL, not `{text}`: trust data is read over TLS only"
        ));
    };
    let authority = rest.trim_end_matches('/');
    if authority.is_empty()
        || authority.contains(['/', '?', '#', '@', ' '])
        || !authority
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]_".contains(&b))
    {
        return Err(format!(
            "must be `https://host[:port]` (no path, user or query), not `{text}`"
        ));
    }
    Ok(format!("https://{authority}"))
}

fn name_static(name: &str) -> &'static str {
    KEYLESS_KEYS
        .iter()
        .find(|k| **k == name)
        .copied()
        .unwrap_or("key")
}
