//! `portcullis policy import-hadolint`: a `.hadolint.yaml` as the equivalent portcullis policy,
//! so a team can switch from hadolint without losing its configuration.
//!
//! | hadolint | portcullis |
//! |---|---|
//! | `ignored: [DL3008]` | `rules: { DL3008: off }` (ShellCheck codes: the `shellcheck` rule's `exclude`) |
//! | `override: { error: [DL3001] }` | `rules: { DL3001: high }` (error → high, warning → medium, info → low, style → info) |
//! | `trustedRegistries: [docker.io]` | `allowed-registries: { allow: ["docker.io/**"] }` |
//! | `label-schema` | `label_schema` (the schema of every label rule) |
//! | `strict-labels: true` | `superfluous-label: { strict: true }` |
//! | `failure-threshold`, `no-fail` | `fail_on` |
//! | `disable-ignore-pragma: true` | `inline_ignores: false` |

use super::error::{Diags, ErrorKind, PolicyErrors};
use super::raw::{self, plain_bool, Node, Value};
use super::validate;
use crate::rules::{self, Rule};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

const KEYS: &[&str] = &[
    "ignored",
    "override",
    "trustedRegistries",
    "label-schema",
    "strict-labels",
    "failure-threshold",
    "no-fail",
    "disable-ignore-pragma",
    "no-color",
    "format",
    "verbose",
    "output-file",
];
const LEVELS: &str = "error, warning, info, style";
const THRESHOLDS: &str = "error, warning, info, style, ignore, none";

/// How one rule ends up configured.
#[derive(Default)]
struct RuleSetting {
    value: Option<&'static str>,
    options: Vec<(&'static str, String)>,
    /// The hadolint codes that led here, for the comment.
    from: Vec<String>,
}

/// Reads `.hadolint.yaml` at `path` and returns the equivalent policy as YAML text.
pub fn import_hadolint(path: &Path) -> Result<String, PolicyErrors> {
    let display = path.display().to_string();
    let mut diags = Diags::new(&display);
    let source = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) => {
            diags.push_whole_file(ErrorKind::Unreadable {
                reason: e.to_string(),
            });
            return Err(PolicyErrors(diags.into_sorted()));
        }
    };
    let Some(root) = raw::parse(&source, &mut diags) else {
        return Err(PolicyErrors(diags.into_sorted()));
    };
    let text = convert(&root, &display, &mut diags);
    if diags.errors.is_empty() {
        Ok(text)
    } else {
        Err(PolicyErrors(diags.into_sorted()))
    }
}

fn convert(root: &Node, display: &str, diags: &mut Diags) -> String {
    let mut settings: BTreeMap<&'static str, RuleSetting> = BTreeMap::new();
    let mut notes: Vec<String> = Vec::new();
    let mut fail_on: Option<&'static str> = None;
    let mut inline_ignores: Option<bool> = None;
    let mut excluded_sc: Vec<String> = Vec::new();
    let mut allow: Vec<String> = Vec::new();
    let mut label_schema: Option<BTreeMap<String, String>> = None;

    let entries: &[(Node, Node)] = match &root.value {
        Value::Map(entries) => entries,
        Value::Null => &[],
        _ => {
            diags.push(
                root.span,
                wrong_type("a hadolint configuration", "a mapping", root),
            );
            return String::new();
        }
    };
    for (key, value) in entries {
        let name = key.as_str().unwrap_or_default();
        match name {
            "ignored" => {
                for code in strings(value, "`ignored`", diags) {
                    if rules::is_shellcheck_code(&code.0) {
                        excluded_sc.push(code.0);
                    } else {
                        match rules::lookup(&code.0) {
                            Some(rule) => {
                                let s = settings.entry(rule.name).or_default();
                                s.value = Some("off");
                                s.from.push(code.0);
                            }
                            None => notes.push(unknown_code_note(&code.0)),
                        }
                    }
                }
            }
            "override" => override_levels(value, &mut settings, &mut notes, diags),
            "trustedRegistries" => {
                for (registry, _) in strings(value, "`trustedRegistries`", diags) {
                    allow.push(format!("{}/**", registry.trim_end_matches('/')));
                }
            }
            "label-schema" => label_schema = validate::label_schema(value, "`label-schema`", diags),
            "strict-labels" => {
                if boolean(value, "`strict-labels`", diags) == Some(true) {
                    for rule in rules_with_option("strict") {
                        let s = settings.entry(rule.name).or_default();
                        s.options.push(("strict", "true".into()));
                        s.from.push("strict-labels".into());
                    }
                }
            }
            "failure-threshold" => {
                fail_on = match value.as_str() {
                    Some("error") => Some("high"),
                    Some("warning") => Some("medium"),
                    Some("info") => Some("low"),
                    Some("style") => Some("info"),
                    Some("ignore" | "none") => {
                        notes.push(
                            "failure-threshold: none — hadolint never failed; portcullis fails only on critical findings"
                                .into(),
                        );
                        Some("critical")
                    }
                    _ => {
                        diags.push(
                            value.span,
                            ErrorKind::BadChoice {
                                what: "`failure-threshold`",
                                value: value.as_str().unwrap_or_default().to_string(),
                                choices: THRESHOLDS,
                            },
                        );
                        None
                    }
                };
            }
            "no-fail" => {
                if boolean(value, "`no-fail`", diags) == Some(true) {
                    notes.push(
                        "no-fail: true — a gate that never fails gates nothing; fail_on is set to critical"
                            .into(),
                    );
                    fail_on = Some("critical");
                }
            }
            "disable-ignore-pragma" => {
                if let Some(disabled) = boolean(value, "`disable-ignore-pragma`", diags) {
                    inline_ignores = Some(!disabled);
                }
            }
            "no-color" | "format" | "verbose" | "output-file" => notes.push(format!(
                "{name}: an output option, not policy; see `portcullis check --help`"
            )),
            _ => diags.push(
                key.span,
                ErrorKind::UnknownKey {
                    key: name.to_string(),
                    section: "a hadolint configuration",
                    suggestion: rules::nearest(name, KEYS.iter().copied()),
                    valid: KEYS,
                },
            ),
        }
    }
    if !allow.is_empty() {
        let s = settings
            .entry(rules::lookup("DL3026").map_or("allowed-registries", |r| r.name))
            .or_default();
        s.options.push(("allow", flow_list(&allow)));
        s.from.push("trustedRegistries".into());
    }
    // hadolint always runs ShellCheck on RUN; so does the imported policy (it needs the
    // `shellcheck` binary on PATH, and says so in a note when it is missing).
    let s = settings.entry("shellcheck").or_default();
    s.from.push("hadolint runs ShellCheck".into());
    if !excluded_sc.is_empty() {
        s.options.push(("exclude", flow_list(&excluded_sc)));
    }
    let top = TopLevel {
        fail_on,
        inline_ignores,
        label_schema,
    };
    render(display, &settings, &notes, &top)
}

/// The top-level keys of the imported policy, besides `version` and `extends`.
struct TopLevel {
    fail_on: Option<&'static str>,
    inline_ignores: Option<bool>,
    label_schema: Option<BTreeMap<String, String>>,
}

fn override_levels(
    value: &Node,
    settings: &mut BTreeMap<&'static str, RuleSetting>,
    notes: &mut Vec<String>,
    diags: &mut Diags,
) {
    let Value::Map(levels) = &value.value else {
        diags.push(
            value.span,
            wrong_type("`override`", "a mapping of levels to rule codes", value),
        );
        return;
    };
    for (level, codes) in levels {
        let severity = match level.as_str() {
            Some("error") => "high",
            Some("warning") => "medium",
            Some("info") => "low",
            Some("style") => "info",
            other => {
                diags.push(
                    level.span,
                    ErrorKind::BadChoice {
                        what: "a level in `override`",
                        value: other.unwrap_or_default().to_string(),
                        choices: LEVELS,
                    },
                );
                continue;
            }
        };
        for (code, _) in strings(codes, "a list in `override`", diags) {
            if rules::is_shellcheck_code(&code) {
                notes.push(format!(
                    "{code}: ShellCheck findings share the `shellcheck` rule's severity"
                ));
                continue;
            }
            match rules::lookup(&code) {
                Some(rule) => {
                    let s = settings.entry(rule.name).or_default();
                    // An ignored rule stays off, as in hadolint.
                    if s.value != Some("off") {
                        s.value = Some(severity);
                    }
                    s.from.push(code);
                }
                None => notes.push(unknown_code_note(&code)),
            }
        }
    }
}

fn rules_with_option(option: &str) -> impl Iterator<Item = &'static Rule> + '_ {
    rules::all()
        .iter()
        .copied()
        .filter(move |r| r.options.iter().any(|o| o.name == option))
}

fn render(
    display: &str,
    settings: &BTreeMap<&'static str, RuleSetting>,
    notes: &[String],
    top: &TopLevel,
) -> String {
    let mut out = format!(
        "# Imported from {display} by `portcullis policy import-hadolint`.\n\
         version: 1\nextends: default\n"
    );
    if let Some(level) = top.fail_on {
        let _ = writeln!(out, "fail_on: {level}");
    }
    if let Some(allowed) = top.inline_ignores {
        let _ = writeln!(out, "inline_ignores: {allowed}");
    }
    match &top.label_schema {
        Some(schema) if schema.is_empty() => out.push_str("label_schema: {}  # label-schema\n"),
        Some(schema) => {
            out.push_str("label_schema:  # label-schema\n");
            for (label, kind) in schema {
                let _ = writeln!(out, "  {}: {kind}", quoted(label));
            }
        }
        None => {}
    }
    if !settings.is_empty() {
        out.push_str("rules:\n");
    }
    for (name, setting) in settings {
        let from = setting.from.join(", ");
        if setting.options.is_empty() || setting.value == Some("off") {
            let value = setting.value.unwrap_or("on");
            let _ = writeln!(out, "  {name}: {value}  # {from}");
            continue;
        }
        let _ = writeln!(out, "  {name}:  # {from}");
        if let Some(severity) = setting.value {
            let _ = writeln!(out, "    severity: {severity}");
        }
        for (option, value) in &setting.options {
            let _ = writeln!(out, "    {option}: {value}");
        }
    }
    for note in notes {
        let _ = writeln!(out, "# {note}");
    }
    out
}

fn unknown_code_note(code: &str) -> String {
    match code {
        "DL3005" | "DL3031" | "DL3039" => {
            format!(
                "{code}: removed from hadolint, and not a portcullis rule; nothing to configure"
            )
        }
        _ => format!("{code}: not a portcullis rule; left out"),
    }
}

/// Scalars of a list (a single scalar counts as a list of one), with their spans.
fn strings(node: &Node, what: &str, diags: &mut Diags) -> Vec<(String, crate::finding::Span)> {
    let items: Vec<&Node> = match &node.value {
        Value::Seq(items) => items.iter().collect(),
        Value::Scalar(..) => vec![node],
        Value::Null => Vec::new(),
        Value::Map(_) => {
            diags.push(node.span, wrong_type(what, "a list of strings", node));
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for item in items {
        match item.as_str() {
            Some(s) => out.push((s.to_string(), item.span)),
            None => diags.push(item.span, wrong_type(what, "a list of strings", item)),
        }
    }
    out
}

fn boolean(node: &Node, what: &str, diags: &mut Diags) -> Option<bool> {
    let value = node.as_str().and_then(plain_bool);
    if value.is_none() {
        diags.push(node.span, wrong_type(what, "true or false", node));
    }
    value
}

fn wrong_type(what: &str, expected: &'static str, found: &Node) -> ErrorKind {
    ErrorKind::WrongType {
        what: what.to_string(),
        expected,
        found: found.describe(),
    }
}

/// A YAML double-quoted scalar (JSON's string syntax is valid YAML).
fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn flow_list(items: &[String]) -> String {
    format!(
        "[{}]",
        items
            .iter()
            .map(|s| quoted(s))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;
    use crate::policy::Policy;
    use crate::rules::OptionValue;

    fn import(yaml: &str) -> Result<(String, Policy), String> {
        let dir = tempfile::tempdir().expect("tmp");
        let hadolint = dir.path().join(".hadolint.yaml");
        std::fs::write(&hadolint, yaml).expect("write");
        let text = import_hadolint(&hadolint).map_err(|e| e.to_string())?;
        let policy_path = dir.path().join("policy.yaml");
        std::fs::write(&policy_path, &text).expect("write");
        let policy = Policy::load(&policy_path).map_err(|e| format!("{e}\n---\n{text}"))?;
        Ok((text, policy))
    }

    #[test]
    fn imports_every_setting_into_a_valid_policy() {
        let (text, policy) = import(
            "ignored: [DL3008, SC2086, DL3005]\n\
             override:\n  error: [DL3001, DL3007]\n  info: [DL3015]\n\
             trustedRegistries: [docker.io, \"my-company.com:5000\"]\n\
             label-schema: { author: text, org.opencontainers.image.source: url }\n\
             strict-labels: true\n\
             failure-threshold: warning\n\
             disable-ignore-pragma: true\n\
             no-color: true\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            policy.rule("DL3008").is_none(),
            "ignored rule is off:\n{text}"
        );
        assert_eq!(
            policy.rule("DL3001").map(|r| r.severity),
            Some(Severity::High)
        );
        // DL3007 is an alias of the core rule.
        assert_eq!(
            policy.rule("no-latest-tag").map(|r| r.severity),
            Some(Severity::High)
        );
        assert_eq!(
            policy.rule("DL3015").map(|r| r.severity),
            Some(Severity::Low)
        );
        assert_eq!(policy.fail_on, Severity::Medium);
        assert!(!policy.inline_ignores);
        let allow = policy
            .rule("allowed-registries")
            .map(|r| r.options.list("allow").to_vec())
            .unwrap_or_default();
        assert_eq!(allow, vec!["docker.io/**", "my-company.com:5000/**"]);
        // `label-schema` is written once, and every label rule gets it.
        assert_eq!(text.matches("schema").count(), 2, "{text}");
        assert!(
            text.contains("label_schema:  # label-schema\n  \"author\": text\n  \"org.opencontainers.image.source\": url\nrules:\n"),
            "{text}"
        );
        let schema: BTreeMap<String, String> = [
            ("author".to_string(), "text".to_string()),
            ("org.opencontainers.image.source".into(), "url".into()),
        ]
        .into();
        assert_eq!(policy.label_schema.as_ref(), Some(&schema));
        let label_rules: Vec<&str> = rules::all()
            .iter()
            .filter(|r| validate::label_schema_option(r).is_some())
            .map(|r| r.id)
            .collect();
        assert_eq!(label_rules.len(), 9);
        for id in label_rules {
            let got = policy.rule(id).and_then(|r| r.options.map("schema"));
            assert_eq!(got, Some(&schema), "{id}");
        }
        assert!(
            text.contains("  superfluous-label:  # strict-labels\n    strict: true\n"),
            "{text}"
        );
        assert_eq!(
            policy
                .rule("DL3050")
                .map(|r| r.options.values.get("strict").cloned()),
            Some(Some(OptionValue::Bool(true)))
        );
        let sc = policy
            .rule("shellcheck")
            .map(|r| r.options.list("exclude").to_vec())
            .unwrap_or_default();
        assert_eq!(sc, vec!["SC2086"]);
        assert!(text.contains("DL3005: removed from hadolint"), "{text}");
    }

    #[test]
    fn an_empty_config_is_the_default_policy_with_shellcheck() {
        let (_, policy) = import("").unwrap_or_else(|e| panic!("{e}"));
        let default = Policy::builtin("default").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(policy.rules.len(), default.rules.len() + 1);
        assert!(
            policy.rule("shellcheck").is_some(),
            "hadolint always runs ShellCheck"
        );
    }

    #[test]
    fn mistakes_name_the_line_and_the_choices() {
        let err = import("ignored: [DL3008]\nfailure-treshold: error\n").unwrap_err();
        assert!(err.contains(".hadolint.yaml:2:1"), "{err}");
        assert!(err.contains("did you mean `failure-threshold`"), "{err}");
        let err = import("override:\n  fatal: [DL3008]\n").unwrap_err();
        assert!(
            err.contains(":2:3") && err.contains("error, warning, info, style"),
            "{err}"
        );
        let err = import("label-schema:\n  author: string\n").unwrap_err();
        assert!(err.contains(":2:11: unknown label type `string`"), "{err}");
        assert!(
            err.contains("in `label-schema`") && err.contains("rfc3339"),
            "{err}"
        );
    }
}
