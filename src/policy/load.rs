//! Reading a policy file and everything it extends, then layering them (base first) into
//! one [`Policy`].

use super::error::{Diags, ErrorKind, PolicyErrors};
use super::exception::{lexical_normalize, Exception};
use super::raw::{self, MAX_POLICY_BYTES};
use super::validate::{self, find_rule, nearest, rule_keys, Enable, Layer, RuleSetting};
use super::{CustomRule, EnabledRule, OnError, Origin, Policy, PolicySource};
use crate::finding::Severity;
use crate::rules::{OptionValue, Rule, RuleOptions};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

const DEFAULT_PRESET: &str = include_str!("../../policies/default.yaml");
const STRICT_PRESET: &str = include_str!("../../policies/strict.yaml");

/// The longest `extends` chain followed.
pub const MAX_EXTENDS: usize = 16;

/// A policy's text and where it came from.
struct Source {
    /// Identity for cycle detection: the canonical path, or `builtin:<name>`.
    key: String,
    /// How errors name it.
    display: String,
    text: String,
    /// The canonical path of a file; `None` for presets.
    path: Option<PathBuf>,
    /// The canonical directory of a file; `None` for presets.
    dir: Option<PathBuf>,
}

fn preset(name: &str) -> Option<Source> {
    let text = match name {
        "default" => DEFAULT_PRESET,
        "strict" => STRICT_PRESET,
        _ => return None,
    };
    Some(Source {
        key: format!("builtin:{name}"),
        display: format!("builtin:{name}"),
        text: text.to_string(),
        path: None,
        dir: None,
    })
}

/// The canonical `&'static` name of a preset.
fn preset_name(name: &str) -> Option<&'static str> {
    super::PRESETS.iter().copied().find(|p| *p == name)
}

fn read_file(path: &Path, display: String) -> Result<Source, ErrorKind> {
    let unreadable = |e: std::io::Error| ErrorKind::Unreadable {
        reason: e.to_string(),
    };
    let file = std::fs::File::open(path).map_err(unreadable)?;
    // The canonical path names the file for `extends` cycles and anchors relative `extends`.
    // A pipe (`--policy <(…)`, `/dev/stdin`) has none: it is named as given, and relative
    // `extends` in it are read from the working directory.
    let canonical = path
        .canonicalize()
        .ok()
        .filter(|c| c.is_file())
        .unwrap_or_else(|| std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()));
    let mut bytes = Vec::new();
    // One byte past the limit tells "too large" from "exactly at the limit".
    file.take(MAX_POLICY_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() > MAX_POLICY_BYTES {
        return Err(ErrorKind::TooLarge {
            limit: MAX_POLICY_BYTES,
        });
    }
    let text = String::from_utf8(bytes).map_err(|_| ErrorKind::Unreadable {
        reason: "the file is not UTF-8".into(),
    })?;
    Ok(Source {
        key: canonical.display().to_string(),
        display,
        text,
        dir: if canonical.is_file() {
            canonical.parent().map(Path::to_path_buf)
        } else {
            std::env::current_dir().ok()
        },
        path: Some(canonical),
    })
}

pub(crate) fn load_file(
    path: &Path,
    display: String,
    rules: &[&'static Rule],
) -> Result<Policy, PolicyErrors> {
    let source = read_file(path, display.clone()).map_err(|e| PolicyErrors::single(display, e))?;
    let top = PolicySource::File(source.path.clone().unwrap_or_else(|| path.to_path_buf()));
    load_chain(source, top, rules)
}

pub(crate) fn load_preset(name: &str, rules: &[&'static Rule]) -> Result<Policy, PolicyErrors> {
    let Some(name) = preset_name(name) else {
        return Err(PolicyErrors::single(
            "builtin",
            ErrorKind::UnknownPreset { name: name.into() },
        ));
    };
    match preset(name) {
        Some(source) => load_chain(source, PolicySource::Builtin(name), rules),
        None => Ok(merge(&mut [], rules, PolicySource::Builtin(name))),
    }
}

/// Loads policy text as if it were the file `display` in `dir` (which need not exist): the
/// tests' and the fuzzer's way in.
pub(crate) fn load_text(
    text: &str,
    display: &str,
    dir: &Path,
    rules: &[&'static Rule],
) -> Result<Policy, PolicyErrors> {
    let source = Source {
        key: dir.join(display).display().to_string(),
        display: display.to_string(),
        text: text.to_string(),
        path: Some(dir.join(display)),
        dir: Some(dir.to_path_buf()),
    };
    load_chain(source, PolicySource::File(dir.join(display)), rules)
}

/// One file of the chain.
struct Loaded {
    diags: Diags,
    /// `None` when the YAML could not be read.
    layer: Option<Layer>,
    dir: Option<PathBuf>,
}

fn load_chain(
    first: Source,
    top: PolicySource,
    rules: &[&'static Rule],
) -> Result<Policy, PolicyErrors> {
    let mut files: Vec<Loaded> = Vec::new(); // the loaded file first, its bases after
    let mut chain: Vec<(String, String)> = Vec::new(); // (key, display)
    let mut next = Some(first);
    while let Some(source) = next.take() {
        let mut diags = Diags::new(&source.display);
        let layer = raw::parse(&source.text, &mut diags)
            .map(|root| validate::validate(&root, rules, &mut diags, source.dir.as_deref()));
        chain.push((source.key.clone(), source.display.clone()));
        if let Some(layer) = &layer {
            next = follow_extends(layer, &source, &chain, &mut diags);
        }
        files.push(Loaded {
            diags,
            layer,
            dir: source.dir,
        });
    }
    // Layering a chain with an unreadable file would only add misleading errors.
    let policy = files
        .iter()
        .all(|f| f.layer.is_some())
        .then(|| merge(&mut files, rules, top));
    let errors: Vec<_> = files
        .into_iter()
        .flat_map(|f| f.diags.into_sorted())
        .collect();
    match policy {
        Some(policy) if errors.is_empty() => Ok(policy),
        _ => Err(PolicyErrors(errors)),
    }
}

/// The source `layer` extends, if any; problems are reported in the extending file.
fn follow_extends(
    layer: &Layer,
    source: &Source,
    chain: &[(String, String)],
    diags: &mut Diags,
) -> Option<Source> {
    let (target, span) = match &layer.extends {
        Some(extends) => (extends.value.as_str(), Some(extends.span)),
        None => ("default", None),
    };
    let mut report = |kind| match span {
        Some(span) => diags.push(span, kind),
        None => diags.push_whole_file(kind),
    };
    if target == "none" {
        return None;
    }
    if chain.len() >= MAX_EXTENDS {
        report(ErrorKind::ExtendsTooDeep { limit: MAX_EXTENDS });
        return None;
    }
    let next = match (preset(target), &source.dir) {
        (Some(preset), _) => preset,
        (None, Some(dir)) => {
            let display = Path::new(&source.display)
                .parent()
                .unwrap_or(Path::new(""))
                .join(target)
                .display()
                .to_string();
            match read_file(&dir.join(target), display) {
                Ok(next) => next,
                Err(kind) => {
                    report(ErrorKind::ExtendsUnreadable {
                        target: target.to_string(),
                        reason: kind.to_string(),
                    });
                    return None;
                }
            }
        }
        (None, None) => {
            report(ErrorKind::ExtendsUnreadable {
                target: target.to_string(),
                reason: "a built-in preset extends only presets".into(),
            });
            return None;
        }
    };
    if chain.iter().any(|(key, _)| *key == next.key) {
        let mut names: Vec<String> = chain.iter().map(|(_, display)| display.clone()).collect();
        names.push(next.display);
        report(ErrorKind::ExtendsCycle { chain: names });
        return None;
    }
    Some(next)
}

/// A rule's state while layers are applied.
struct RuleState {
    rule: &'static Rule,
    enabled: bool,
    severity: Severity,
    options: RuleOptions,
}

impl RuleState {
    /// A fail-closed rule is on after every reset: only an explicit `off` turns it off.
    fn reset(rule: &'static Rule, enabled: bool) -> Self {
        RuleState {
            rule,
            enabled: enabled || rule.fail_closed,
            severity: rule.severity,
            options: RuleOptions::default(),
        }
    }
}

/// Applies the layers of `files` base first. Errors that need the whole chain (custom ids
/// defined twice, exceptions naming unknown rules) go to the file that caused them.
fn merge(files: &mut [Loaded], rules: &[&'static Rule], source: PolicySource) -> Policy {
    let mut states: Vec<RuleState> = rules.iter().map(|r| RuleState::reset(r, false)).collect();
    let mut policy = Policy {
        source,
        fail_on: Severity::High,
        inline_ignores: true,
        resolve: false,
        on_error: OnError::Fail,
        label_schema: None,
        layers: Default::default(),
        rules: Vec::new(),
        exceptions: Vec::new(),
        custom: Vec::new(),
        disabled: Vec::new(),
    };
    let mut custom_ids: Vec<String> = Vec::new();
    let mut pending = Vec::new();
    for (index, file) in files.iter_mut().enumerate().rev() {
        let Some(layer) = file.layer.take() else {
            continue;
        };
        if let Some(enable) = layer.enable {
            for state in &mut states {
                let on = enable == Enable::All && state.rule.enabled_by_default;
                *state = RuleState::reset(state.rule, on);
            }
        }
        for entry in layer.rules {
            let Some(state) = states.iter_mut().find(|s| std::ptr::eq(s.rule, entry.rule)) else {
                continue;
            };
            apply(state, entry.setting);
        }
        policy.fail_on = layer.fail_on.unwrap_or(policy.fail_on);
        policy.inline_ignores = layer.inline_ignores.unwrap_or(policy.inline_ignores);
        policy.resolve = layer.resolve.unwrap_or(policy.resolve);
        policy.on_error = layer.on_error.unwrap_or(policy.on_error);
        if layer.label_schema.is_some() {
            policy.label_schema = layer.label_schema;
        }
        for (key, value) in layer.layers {
            policy.layers.set(key, value);
        }
        for custom in layer.custom {
            add_custom(&mut policy.custom, custom, &mut file.diags);
        }
        custom_ids.extend(layer.declared_custom_ids);
        pending.extend(layer.exceptions.into_iter().map(|e| (index, e)));
    }
    for (index, exception) in pending {
        let file = &mut files[index];
        let rules = resolve_rule_keys(&exception.rule_keys, rules, &custom_ids, &mut file.diags);
        policy.exceptions.push(Exception {
            rules,
            paths: exception.paths,
            images: exception.images,
            reason: exception.reason,
            expires: exception.expires,
            base_dir: file.dir.as_ref().map(|dir| match &exception.relative_to {
                Some(relative) => lexical_normalize(&dir.join(relative)),
                None => dir.clone(),
            }),
            origin: Origin {
                file: file.diags.file.clone(),
                span: exception.span,
            },
        });
    }
    for mut state in states {
        if state.enabled {
            if let Some(schema) = &policy.label_schema {
                add_label_schema(&mut state, schema);
            }
            policy.rules.push(EnabledRule {
                rule: state.rule,
                severity: state.severity,
                options: state.options,
            });
        } else {
            policy.disabled.push(state.rule);
        }
    }
    policy
}

/// Gives a rule that takes a label schema the policy's `label_schema`, unless the rule has a
/// `schema` of its own: the more specific setting wins, whichever file it came from.
fn add_label_schema(state: &mut RuleState, schema: &BTreeMap<String, String>) {
    if let Some(option) = validate::label_schema_option(state.rule) {
        state
            .options
            .values
            .entry(option.name.to_string())
            .or_insert_with(|| OptionValue::Map(schema.clone()));
    }
}

fn apply(state: &mut RuleState, setting: RuleSetting) {
    match setting {
        RuleSetting::Off => state.enabled = false,
        RuleSetting::On { severity, options } => {
            state.enabled = true;
            state.severity = severity.unwrap_or(state.severity);
            state.options.values.extend(options.values);
        }
    }
}

fn add_custom(all: &mut Vec<CustomRule>, custom: CustomRule, diags: &mut Diags) {
    match all.iter().find(|c| c.id == custom.id) {
        Some(first) => diags.push(
            custom.origin.span,
            super::ErrorKind::DuplicateCustomId {
                id: custom.id,
                first: first.origin.to_string(),
            },
        ),
        None => all.push(custom),
    }
}

/// Canonical ids for an exception's `rules`: built-in codes, or custom ids.
fn resolve_rule_keys(
    keys: &[validate::Spanned<String>],
    rules: &[&'static Rule],
    custom_ids: &[String],
    diags: &mut Diags,
) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for key in keys {
        let id = match find_rule(rules, &key.value) {
            Some(rule) => rule.id.to_string(),
            None => match custom_ids
                .iter()
                .find(|c| c.eq_ignore_ascii_case(&key.value))
            {
                Some(custom) => custom.clone(),
                None => {
                    let candidates = rule_keys(rules)
                        .map(|k| k as &str)
                        .chain(custom_ids.iter().map(String::as_str));
                    let suggestion = nearest(&key.value, candidates).map(str::to_string);
                    diags.push(
                        key.span,
                        ErrorKind::UnknownRule {
                            key: key.value.clone(),
                            suggestion,
                            custom_allowed: true,
                        },
                    );
                    continue;
                }
            },
        };
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::super::test_rules::{check, RULES};
    use super::*;
    use crate::policy::Date;

    /// A temporary directory of policy files.
    struct Files(tempfile::TempDir);

    impl Files {
        fn new(files: &[(&str, &str)]) -> Files {
            let dir = tempfile::tempdir().unwrap();
            for (name, text) in files {
                let path = dir.path().join(name);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, text).unwrap();
            }
            Files(dir)
        }

        fn root(&self) -> PathBuf {
            self.0.path().canonicalize().unwrap()
        }

        fn load(&self, name: &str) -> Result<Policy, PolicyErrors> {
            load_file(&self.0.path().join(name), name.to_string(), RULES)
        }

        /// Loads `name` against the real registry (the label rules live there).
        fn load_real(&self, name: &str) -> Result<Policy, PolicyErrors> {
            load_file(
                &self.0.path().join(name),
                name.to_string(),
                crate::rules::all(),
            )
        }

        fn errors(&self, name: &str) -> Vec<String> {
            match self.load(name) {
                Ok(_) => panic!("{name} loaded without errors"),
                Err(errors) => errors.iter().map(|e| e.to_string()).collect(),
            }
        }
    }

    fn severity_of(policy: &Policy, key: &str) -> Option<Severity> {
        policy.rule(key).map(|r| r.severity)
    }

    #[test]
    fn builtin_presets_validate_against_the_registry() {
        for name in crate::policy::PRESETS {
            if let Err(errors) = load_preset(name, crate::rules::all()) {
                panic!("preset {name}:\n{errors}");
            }
            load_preset(name, RULES).unwrap();
        }
    }

    #[test]
    fn presets_enable_what_they_say() {
        let none = load_preset("none", RULES).unwrap();
        assert!(none.rules.is_empty());
        assert_eq!(none.fail_on, Severity::High);
        assert_eq!(none.source, PolicySource::Builtin("none"));

        let default = load_preset("default", RULES).unwrap();
        assert_eq!(default.rules.len(), RULES.len());
        assert!(default.rules.iter().all(|r| r.severity == r.rule.severity));
        assert_eq!(default.fail_on, Severity::High);
        assert!(default.inline_ignores && !default.resolve);
        assert_eq!(default.on_error, OnError::Fail);

        let strict = load_preset("strict", RULES).unwrap();
        assert_eq!(strict.rules.len(), RULES.len());
        assert_eq!(strict.fail_on, Severity::Medium);

        let unknown = load_preset("lenient", RULES).unwrap_err().to_string();
        assert_eq!(
            unknown,
            "builtin: unknown preset `lenient`; expected one of: default, strict, none"
        );
    }

    #[test]
    fn real_presets_enable_every_rule_on_by_default() {
        let all = crate::rules::all();
        let on = all.iter().filter(|r| r.enabled_by_default).count();
        assert!(
            on < all.len(),
            "some rules are off by default (DL1001, DL3057)"
        );
        let default = load_preset("default", all).unwrap();
        assert_eq!(default.rules.len(), on);
        assert!(default.rule("DL3057").is_none());
        let strict = load_preset("strict", all).unwrap();
        assert_eq!(strict.rules.len(), on);
        assert_eq!(severity_of(&strict, "require-digest"), Some(Severity::High));
        assert_eq!(strict.fail_on, Severity::Medium);
    }

    #[test]
    fn a_policy_without_extends_builds_on_default() {
        let files = Files::new(&[("p.yaml", "version: 1\nrules:\n  no-latest-tag: low\n")]);
        let policy = files.load("p.yaml").unwrap();
        assert_eq!(policy.rules.len(), RULES.len());
        assert_eq!(severity_of(&policy, "PT0001"), Some(Severity::Low));
        assert_eq!(
            severity_of(&policy, "non-root-user"),
            Some(Severity::Medium)
        );
        assert_eq!(
            policy.source,
            PolicySource::File(files.root().join("p.yaml"))
        );
    }

    #[test]
    fn extends_none_starts_from_nothing() {
        let files = Files::new(&[(
            "p.yaml",
            "version: 1\nextends: none\nrules:\n  no-latest-tag: on\n  DL3007: off\n",
        )]);
        // Naming one rule twice is an error even when the values agree.
        assert_eq!(files.errors("p.yaml").len(), 1);
        let files = Files::new(&[(
            "p.yaml",
            "version: 1\nextends: none\nrules:\n  no-latest-tag: on\n",
        )]);
        let policy = files.load("p.yaml").unwrap();
        let ids: Vec<&str> = policy.rules.iter().map(|r| r.rule.id).collect();
        assert_eq!(ids, ["PT0001"]);
        assert_eq!(severity_of(&policy, "no-latest-tag"), Some(Severity::High));
    }

    #[test]
    fn layers_merge_base_first() {
        let files = Files::new(&[
            (
                "base.yaml",
                "version: 1\nextends: strict\nresolve: true\nlayers:\n  max_scan_bytes: 5\n  max_layer_bytes: 2000\nrules:\n  allowed-registries:\n    severity: critical\n    allow: [\"a/*\"]\n    deny: [\"b/*\"]\n  non-root-user: low\n  every-kind: off\n",
            ),
            (
                "p.yaml",
                "version: 1\nextends: base.yaml\non_error: warn\nlayers: { max_scan_bytes: 1000 }\nrules:\n  allowed-registries: { allow: [\"c/**\"] }\n  non-root-user: off\n  every-kind: on\n",
            ),
        ]);
        let policy = files.load("p.yaml").unwrap();
        // Scalars: the later file wins, unset ones are inherited.
        assert_eq!(policy.fail_on, Severity::Medium);
        assert_eq!(policy.layers.max_scan_bytes, 1000);
        assert_eq!(policy.layers.max_layer_bytes, 2000);
        assert_eq!(
            policy.layers.max_image_bytes,
            crate::image::layers::LayerLimits::default().max_image_bytes
        );
        assert!(policy.resolve);
        assert_eq!(policy.on_error, OnError::Warn);
        // A later mapping replaces only the options it names and keeps the severity.
        let registries = policy.rule("allowed-registries").unwrap();
        assert_eq!(registries.severity, Severity::Critical);
        assert_eq!(registries.options.list("allow"), ["c/**"]);
        assert_eq!(registries.options.list("deny"), ["b/*"]);
        assert!(policy.rule("non-root-user").is_none());
        assert_eq!(severity_of(&policy, "every-kind"), Some(Severity::Low));
    }

    /// The label schema a rule of `policy` runs with.
    fn schema_of(policy: &Policy, key: &str) -> Option<Vec<(String, String)>> {
        let rule = policy.rule(key)?;
        let schema = rule.options.map("schema")?;
        Some(schema.clone().into_iter().collect())
    }

    fn schema(pairs: &[(&str, &str)]) -> Option<Vec<(String, String)>> {
        Some(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn label_schema_is_the_schema_of_every_label_rule() {
        let files = Files::new(&[(
            "p.yaml",
            "version: 1\nlabel_schema:\n  org.opencontainers.image.source: URL\n  maintainer: email\n",
        )]);
        let policy = files.load_real("p.yaml").unwrap();
        let expected = schema(&[
            ("maintainer", "email"),
            ("org.opencontainers.image.source", "url"),
        ]);
        let label_rules: Vec<&str> = crate::rules::all()
            .iter()
            .filter(|r| validate::label_schema_option(r).is_some())
            .map(|r| r.id)
            .collect();
        assert_eq!(
            label_rules,
            [
                "DL3049", "DL3050", "DL3051", "DL3052", "DL3053", "DL3054", "DL3055", "DL3056",
                "DL3058"
            ]
        );
        for rule in &policy.rules {
            let wanted = if label_rules.contains(&rule.rule.id) {
                expected.clone()
            } else {
                None
            };
            assert_eq!(schema_of(&policy, rule.rule.id), wanted, "{}", rule.rule.id);
        }
        // The rule runs with it: an invalid URL and a missing label are reported.
        let src = "FROM a\nLABEL org.opencontainers.image.source=github.com/acme/app\n";
        for (key, line) in [("DL3052", 2), ("DL3049", 1)] {
            let enabled = policy.rule(key).unwrap();
            let found = crate::rules::dockerfile::testing::run(enabled.rule, src, &enabled.options);
            let lines: Vec<usize> = found.iter().map(|d| d.span.line).collect();
            assert_eq!(lines, [line], "{key}: {found:?}");
        }
    }

    #[test]
    fn a_rules_own_schema_beats_label_schema() {
        let files = Files::new(&[
            (
                "base.yaml",
                "version: 1\nrules:\n  invalid-email-label: { schema: { author: email } }\n",
            ),
            (
                "p.yaml",
                "version: 1\nextends: base.yaml\nlabel_schema: { maintainer: email }\nrules:\n  missing-label:\n    schema: { org.opencontainers.image.source: url }\n",
            ),
        ]);
        let policy = files.load_real("p.yaml").unwrap();
        assert_eq!(
            schema_of(&policy, "missing-label"),
            schema(&[("org.opencontainers.image.source", "url")])
        );
        // More specific wins even when the general setting comes from a later file.
        assert_eq!(
            schema_of(&policy, "invalid-email-label"),
            schema(&[("author", "email")])
        );
        assert_eq!(
            schema_of(&policy, "empty-label"),
            schema(&[("maintainer", "email")])
        );
    }

    #[test]
    fn a_later_label_schema_replaces_the_earlier_one() {
        let files = Files::new(&[
            (
                "base.yaml",
                "version: 1\nlabel_schema:\n  maintainer: email\n  org.opencontainers.image.source: url\n",
            ),
            (
                "inherits.yaml",
                "version: 1\nextends: base.yaml\nenable: all\n",
            ),
            (
                "p.yaml",
                "version: 1\nextends: inherits.yaml\nlabel_schema:\n  org.opencontainers.image.revision: hash\n",
            ),
        ]);
        // A file without `label_schema` keeps the inherited one (`enable` resets rules only).
        let inherits = files.load_real("inherits.yaml").unwrap();
        assert_eq!(
            schema_of(&inherits, "DL3049"),
            schema(&[
                ("maintainer", "email"),
                ("org.opencontainers.image.source", "url")
            ])
        );
        let policy = files.load_real("p.yaml").unwrap();
        let revision = schema(&[("org.opencontainers.image.revision", "hash")]);
        assert_eq!(schema_of(&policy, "DL3049"), revision);
        assert_eq!(schema_of(&policy, "DL3055"), revision);
        assert_eq!(
            policy.label_schema.map(|s| s.into_iter().collect()),
            revision
        );
    }

    #[test]
    fn enable_resets_inherited_rule_settings() {
        let files = Files::new(&[
            ("base.yaml", "version: 1\nextends: none\nrules:\n  no-latest-tag: critical\n  non-root-user: on\n"),
            ("all.yaml", "version: 1\nextends: base.yaml\nenable: all\nrules:\n  every-kind: off\n"),
            ("only.yaml", "version: 1\nextends: base.yaml\nenable: none\nrules:\n  require-digest: on\n"),
        ]);
        let all = files.load("all.yaml").unwrap();
        assert_eq!(all.rules.len(), RULES.len() - 1);
        assert_eq!(severity_of(&all, "no-latest-tag"), Some(Severity::High));
        let only = files.load("only.yaml").unwrap();
        let ids: Vec<&str> = only.rules.iter().map(|r| r.rule.id).collect();
        assert_eq!(ids, ["PT0005"]);
    }

    #[test]
    fn exceptions_and_custom_rules_concatenate_along_the_chain() {
        let files = Files::new(&[
            (
                "shared/base.yaml",
                "version: 1\ncustom:\n  - { id: ACME001, message: m, severity: high, pattern: x }\nexceptions:\n  - rules: [no-latest-tag, ACME002]\n    paths: [\"legacy/**\"]\n    reason: r\n",
            ),
            (
                "ci/p.yaml",
                "version: 1\nextends: ../shared/base.yaml\ncustom:\n  - { id: ACME002, message: n, severity: low, pattern: y }\nexceptions:\n  - rules: [ACME001]\n    paths: [\"**\"]\n    reason: s\n    expires: 2020-01-01\n",
            ),
        ]);
        let policy = files.load("ci/p.yaml").unwrap();
        let ids: Vec<&str> = policy.custom.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["ACME001", "ACME002"]);
        assert_eq!(policy.exceptions.len(), 2);
        let [base, own] = [&policy.exceptions[0], &policy.exceptions[1]];
        // A base's exception may name a custom rule its extender defines.
        assert_eq!(base.rules, ["PT0001", "ACME002"]);
        assert_eq!(base.origin.to_string(), "ci/../shared/base.yaml:5:5");
        assert_eq!(
            base.base_dir.as_deref(),
            Some(files.root().join("shared").as_path())
        );
        let root = files.root();
        let today = Date::new(2026, 6, 1).unwrap();
        assert!(base.applies_to_file(
            "PT0001",
            Path::new("shared/legacy/Dockerfile"),
            &root,
            today
        ));
        assert!(!base.applies_to_file("PT0001", Path::new("legacy/Dockerfile"), &root, today));
        assert!(own.is_expired(today));
        assert_eq!(policy.expired_exceptions(today).count(), 1);
    }

    #[test]
    fn relative_to_moves_the_anchor_of_paths() {
        let files = Files::new(&[(
            "ci/p.yaml",
            "version: 1\nexceptions:\n  - rules: [no-latest-tag]\n    paths: [\"legacy/**\"]\n    reason: r\n    relative_to: ..\n",
        )]);
        let policy = files.load("ci/p.yaml").unwrap();
        let today = Date::new(2026, 6, 1).unwrap();
        let e = &policy.exceptions[0];
        assert!(e.applies_to_file(
            "PT0001",
            Path::new("legacy/Dockerfile"),
            &files.root(),
            today
        ));
        assert!(!e.applies_to_file(
            "PT0001",
            Path::new("ci/legacy/Dockerfile"),
            &files.root(),
            today
        ));
    }

    #[test]
    fn remapped_exceptions_are_anchored_in_the_checkout() {
        // The policy tree exported to `copy/` (from another git revision) stands for the
        // checkout at `repo/`: its exceptions name the checkout's Dockerfiles.
        let files = Files::new(&[
            (
                "copy/shared/base.yaml",
                "version: 1\nexceptions:\n  - rules: [no-latest-tag]\n    paths: [\"legacy/**\"]\n    reason: r\n",
            ),
            (
                "copy/p.yaml",
                "version: 1\nextends: shared/base.yaml\nexceptions:\n  - rules: [no-latest-tag]\n    paths: [\"old/**\"]\n    reason: r\n  - rules: [no-latest-tag]\n    paths: [\"up/**\"]\n    reason: r\n    relative_to: ..\n",
            ),
            ("repo/.keep", ""),
        ]);
        let root = files.root();
        let mut policy = files.load("copy/p.yaml").unwrap();
        policy.remap_anchors(&root.join("copy"), &root.join("repo"));
        let anchors: Vec<_> = policy
            .exceptions
            .iter()
            .map(|e| e.base_dir.clone().unwrap())
            .collect();
        // Outside the copy (`relative_to: ..`) stays where it was.
        assert_eq!(
            anchors,
            [root.join("repo/shared"), root.join("repo"), root.clone()]
        );
        let today = Date::new(2026, 6, 1).unwrap();
        let repo = root.join("repo");
        let applies = |index: usize, file: &str| {
            policy.exceptions[index].applies_to_file("PT0001", Path::new(file), &repo, today)
        };
        assert!(applies(0, "shared/legacy/Dockerfile"));
        assert!(applies(1, "old/Dockerfile"));
        assert!(!applies(1, "../copy/old/Dockerfile"));
    }

    #[test]
    fn custom_ids_are_unique_across_the_chain() {
        let files = Files::new(&[
            ("base.yaml", "version: 1\ncustom:\n  - { id: ACME001, message: m, severity: high, pattern: x }\n"),
            ("p.yaml", "version: 1\nextends: base.yaml\ncustom:\n  - { id: ACME001, message: n, severity: low, pattern: y }\n"),
        ]);
        assert_eq!(
            files.errors("p.yaml"),
            ["p.yaml:4:5: custom rule id `ACME001` is already defined at base.yaml:3:5"]
        );
    }

    #[test]
    fn extends_cycles_are_reported_where_they_close() {
        let files = Files::new(&[
            ("a.yaml", "version: 1\nextends: b.yaml\n"),
            ("b.yaml", "version: 1\nextends: ./a.yaml\n"),
            ("self.yaml", "version: 1\nextends: self.yaml\n"),
        ]);
        assert_eq!(
            files.errors("a.yaml"),
            ["b.yaml:2:10: `extends` cycle: a.yaml → b.yaml → ./a.yaml"]
        );
        assert_eq!(
            files.errors("self.yaml"),
            ["self.yaml:2:10: `extends` cycle: self.yaml → self.yaml"]
        );
    }

    #[test]
    fn unreadable_extended_file_names_presets() {
        let files = Files::new(&[("p.yaml", "version: 1\nextends: defualt\n")]);
        let errors = files.errors("p.yaml");
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].starts_with("p.yaml:2:10: cannot read extended policy `defualt`: "),
            "{errors:?}"
        );
        assert!(
            errors[0].ends_with(
                "`extends` takes a preset (default, strict, none) or a path relative to this file"
            ),
            "{errors:?}"
        );
    }

    #[test]
    fn extends_chains_are_bounded() {
        let mut files: Vec<(String, String)> = (0..MAX_EXTENDS + 2)
            .map(|i| {
                (
                    format!("p{i}.yaml"),
                    format!("version: 1\nextends: p{}.yaml\n", i + 1),
                )
            })
            .collect();
        files.push((format!("p{}.yaml", MAX_EXTENDS + 2), "version: 1\n".into()));
        let borrowed: Vec<(&str, &str)> = files
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let files = Files::new(&borrowed);
        let errors = files.errors("p0.yaml");
        assert_eq!(
            errors,
            [format!(
                "p15.yaml:2:10: `extends` chain is deeper than {MAX_EXTENDS} files"
            )]
        );
    }

    #[test]
    fn errors_of_every_file_are_reported_loaded_file_first() {
        let files = Files::new(&[
            ("base.yaml", "version: 1\nfail_on: hihg\n"),
            (
                "p.yaml",
                "version: 1\nextends: base.yaml\nrules:\n  no-latst-tag: high\n",
            ),
        ]);
        assert_eq!(
            files.errors("p.yaml"),
            [
                "p.yaml:4:3: unknown rule `no-latst-tag`; did you mean `no-latest-tag`?",
                "base.yaml:2:10: unknown severity `hihg`; did you mean `high`?; expected one of critical, high, medium, low, info",
            ]
        );
    }

    #[test]
    fn unreadable_and_oversized_files() {
        let files = Files::new(&[("big.yaml", &"#".repeat(MAX_POLICY_BYTES + 1))]);
        assert_eq!(
            files.errors("big.yaml"),
            [format!(
                "big.yaml: policy file is larger than {MAX_POLICY_BYTES} bytes"
            )]
        );
        let missing = files.errors("missing.yaml");
        assert!(
            missing[0].starts_with("missing.yaml: cannot read policy file: "),
            "{missing:?}"
        );
        std::fs::write(
            files.0.path().join("latin1.yaml"),
            b"version: 1\n# caf\xe9\n",
        )
        .unwrap();
        assert_eq!(
            files.errors("latin1.yaml"),
            ["latin1.yaml: cannot read policy file: the file is not UTF-8"]
        );
    }

    #[test]
    fn policy_rule_answers_to_any_key() {
        let policy = load_preset("default", RULES).unwrap();
        for key in ["PT0001", "pt0001", "no-latest-tag", "DL3007"] {
            assert_eq!(policy.rule(key).map(|r| r.rule.id), Some("PT0001"), "{key}");
        }
        assert!(policy.rule("nope").is_none());
        assert!(check("version: 1\n").is_empty());
    }

    #[test]
    fn discover_prefers_explicit_then_dotfile_then_default() {
        let files = Files::new(&[
            (".portcullis.yml", "version: 1\nfail_on: low\n"),
            ("other.yaml", "version: 1\nfail_on: info\n"),
        ]);
        let root = files.root();
        let fail_on = |explicit: Option<&str>| {
            Policy::discover(&root, explicit.map(Path::new)).map(|p| p.fail_on)
        };
        assert_eq!(fail_on(Some("other.yaml")), Ok(Severity::Info));
        assert_eq!(fail_on(None), Ok(Severity::Low));
        std::fs::write(root.join(".portcullis.yaml"), "version: 1\n").unwrap();
        assert_eq!(
            Policy::discover(&root, None).unwrap_err().to_string(),
            ".portcullis.yml: both `.portcullis.yaml` and `.portcullis.yml` exist; remove one"
        );
        let empty = tempfile::tempdir().unwrap();
        let policy = Policy::discover(empty.path(), None).unwrap();
        assert_eq!(policy.source, PolicySource::Builtin("default"));
        let missing = Policy::discover(empty.path(), Some(Path::new("nope.yaml"))).unwrap_err();
        assert!(
            missing
                .to_string()
                .starts_with("nope.yaml: cannot read policy file"),
            "{missing}"
        );
    }

    /// A `notary` block: every mistake is a policy error at its line and column.
    #[test]
    fn notary_entries_are_validated_with_their_files() {
        let certificate = include_str!("../../tests/trust/fixtures/notary/root.crt");
        let root = include_str!("../../tests/trust/fixtures/notary/root.json");
        let key = include_str!("../../tests/trust/fixtures/keys/ecdsa-p256.pub");
        let head = "version: 1\nrules:\n  trust-required:\n    verify:\n      - images: [\"registry.test/**\"]\n";
        let load_errors = |entry: &str| -> Vec<String> {
            let files = Files::new(&[
                ("p.yaml", &format!("{head}{entry}")),
                ("root.crt", certificate),
                ("root.json", root),
                ("k.pub", key),
                ("ca.crt", certificate),
                ("bad.json", "{\"signed\": {}}"),
            ]);
            match files.load_real("p.yaml") {
                Ok(_) => Vec::new(),
                Err(errors) => errors.iter().map(|e| e.to_string()).collect(),
            }
        };
        let notary = "        notary:\n          server: https://notary.test:4443\n";
        for good in [
            format!("{notary}          root_keys: [root.crt, k.pub, \"{}\"]\n", "ab".repeat(32)),
            format!("{notary}          root_json: root.json\n          ca_file: ca.crt\n          delegations: [targets/releases]\n"),
            format!("{notary}          root_keys: [root.crt]\n        cosign:\n          keys: [k.pub]\n"),
        ] {
            assert_eq!(load_errors(&good), Vec::<String>::new(), "{good}");
        }
        for (entry, expected) in [
            (notary.to_string(), "p.yaml:7:11: `notary` pins no root"),
            (format!("{notary}          root_keys: [root.crt]\n          root_json: root.json\n"), "pins the root twice"),
            (format!("{notary}          root_keys: [missing.crt]\n"), "p.yaml:8:23: root key `missing.crt` cannot be read"),
            (format!("{notary}          root_keys: [root.json]\n"), "p.yaml:8:23: root key `root.json`"),
            (format!("{notary}          root_json: bad.json\n"), "p.yaml:8:22: root.json `bad.json`"),
            (format!("{notary}          root_keys: [root.crt]\n          delegations: [releases]\n"), "p.yaml:9:25: role `releases`"),
            (format!("{notary}          root_keys: [root.crt]\n          ca_file: root.json\n"), "holds no PEM `CERTIFICATE`"),
            (format!("{notary}          root_keys: [root.crt]\n          sever: x\n"), "unknown key `sever` in `notary`; did you mean `server`?"),
            ("        notary:\n          server: http://notary.test\n          root_keys: [root.crt]\n".to_string(), "p.yaml:7:19: `server` of `notary` must be an https:// URL, not `http://notary.test`"),
            ("        notary:\n          server: https://notary.test/path\n          root_keys: [root.crt]\n".to_string(), "must be `https://host[:port]` (no path, user or query)"),
            ("        notary:\n          root_keys: [root.crt]\n".to_string(), "missing `server` in `notary`"),
            (format!("{notary}          root_keys: [root.crt]\n        attestations:\n          - predicate_type: x\n"), "add the `cosign` block"),
        ] {
            let errors = load_errors(&entry);
            assert!(
                errors.iter().any(|e| e.contains(expected)),
                "{entry}: expected `{expected}` in {errors:?}"
            );
        }
    }

    /// trust-required's `verify`: every mistake is a policy error at its line and column.
    #[test]
    fn trust_entries_are_validated_with_their_files() {
        let key = include_str!("../../tests/trust/fixtures/keys/ecdsa-p256.pub");
        let root = include_str!("../../tests/trust/fixtures/trusted_root.json");
        let head = "version: 1\nrules:\n  trust-required:\n    verify:\n      - images: [\"ghcr.io/acme/**\"]\n        cosign:\n";
        let load_errors = |cosign: &str| -> Vec<String> {
            let files = Files::new(&[
                ("p.yaml", &format!("{head}{cosign}")),
                ("k.pub", key),
                ("root.json", root),
                ("bad.pub", "not a key\n"),
                ("bad.json", "{\"mediaType\": 1}"),
            ]);
            match files.load_real("p.yaml") {
                Ok(_) => Vec::new(),
                Err(errors) => errors.iter().map(|e| e.to_string()).collect(),
            }
        };
        assert_eq!(
            load_errors("          keys: [k.pub]\n"),
            Vec::<String>::new()
        );
        let keyless = "          keyless:\n            trusted_root: root.json\n            issuer: https://issuer.example\n            subject_regex: '^x@example\\.com$'\n            require_tlog: true\n";
        assert_eq!(load_errors(keyless), Vec::<String>::new());
        for (cosign, expected) in [
            ("          keys: [missing.pub]\n", "p.yaml:7:18: key `missing.pub` cannot be read"),
            ("          keys: [bad.pub]\n", "p.yaml:7:18: key `bad.pub`"),
            ("          keyz: [k.pub]\n", "p.yaml:7:11: unknown key `keyz` in `cosign`; did you mean `keys`?"),
            ("          keys: [k.pub]\n          trusted_root: bad.json\n", "p.yaml:8:25: trusted root `bad.json`"),
            ("          keys: [k.pub]\n          threshold: 0\n", "must be at least 1"),
            ("          keys: [k.pub]\n          require_tlog: true\n", "needs a `trusted_root`"),
            ("          keyless:\n            trusted_root: root.json\n            issuer: x\n            subject_regex: '('\n", "p.yaml:10:28: `subject_regex` of `keyless`"),
            ("          keyless:\n            trusted_root: root.json\n            issuer: x\n", "missing `subject_regex` in `keyless`"),
            ("          signatures_repository: r.example/sigs:1\n          keys: [k.pub]\n", "names a repository, without a tag"),
            ("          threshold: 1\n", "names no `keys` and no `keyless` signer"),
        ] {
            let errors = load_errors(cosign);
            assert!(
                errors.iter().any(|e| e.contains(expected)),
                "{cosign}: expected `{expected}` in {errors:?}"
            );
        }
    }
}
