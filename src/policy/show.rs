//! [`Policy::to_yaml`]: the effective policy written as a self-contained policy file.

use super::exception::relative_path;
use super::validate;
use super::{Exception, Policy, PolicySource};
use crate::image::layers::LayerLimits;
use crate::rules::{OptionValue, Rule};
use std::path::Path;

pub(crate) fn to_yaml(policy: &Policy) -> String {
    let mut out = String::new();
    out.push_str("# The effective policy: every `extends` applied, every known rule listed.\n");
    out.push_str("version: 1\nextends: none\n");
    out.push_str(&format!("fail_on: {}\n", policy.fail_on));
    out.push_str(&format!("inline_ignores: {}\n", policy.inline_ignores));
    out.push_str(&format!("resolve: {}\n", policy.resolve));
    out.push_str(&format!("on_error: {}\n", policy.on_error.as_str()));
    write_layers(policy, &mut out);
    if let Some(schema) = &policy.label_schema {
        let schema = OptionValue::Map(schema.clone());
        out.push_str(&format!("label_schema:{}", option_value(&schema, "  ")));
    }
    write_rules(policy, &mut out);
    write_exceptions(policy, &mut out);
    write_custom(policy, &mut out);
    out
}

/// The `layers` limits that differ from the defaults (the others load back the same).
fn write_layers(policy: &Policy, out: &mut String) {
    let defaults = LayerLimits::default();
    let changed: Vec<(&str, u64)> = LayerLimits::KEYS
        .iter()
        .filter_map(|key| Some((*key, policy.layers.get(key)?)))
        .filter(|(key, value)| defaults.get(key) != Some(*value))
        .collect();
    if changed.is_empty() {
        return;
    }
    out.push_str("layers:\n");
    for (key, value) in changed {
        out.push_str(&format!("  {key}: {value}\n"));
    }
}

fn write_rules(policy: &Policy, out: &mut String) {
    let mut lines: Vec<(&str, String)> = Vec::new();
    for enabled in &policy.rules {
        let name = enabled.rule.name;
        let values: Vec<_> = enabled
            .options
            .values
            .iter()
            .filter(|(option, value)| !from_label_schema(policy, enabled.rule, option, value))
            .collect();
        if values.is_empty() {
            lines.push((enabled.rule.id, format!("  {name}: {}\n", enabled.severity)));
            continue;
        }
        let mut text = format!("  {name}:\n    severity: {}\n", enabled.severity);
        for (option, value) in values {
            text.push_str(&format!("    {option}:{}", option_value(value, "      ")));
        }
        lines.push((enabled.rule.id, text));
    }
    for rule in &policy.disabled {
        lines.push((rule.id, format!("  {}: off\n", rule.name)));
    }
    if lines.is_empty() {
        out.push_str("rules: {}\n");
        return;
    }
    // The registry is ordered by code, so this is registry order.
    lines.sort();
    out.push_str("rules:\n");
    for (_, text) in lines {
        out.push_str(&text);
    }
}

/// Whether `option` of `rule` is the policy's `label_schema`, which `to_yaml` writes once at
/// the top rather than under every label rule. A rule's own `schema` equal to it is left out
/// too: loaded back, the rule gets the same schema from `label_schema`.
fn from_label_schema(policy: &Policy, rule: &Rule, option: &str, value: &OptionValue) -> bool {
    let Some(schema) = &policy.label_schema else {
        return false;
    };
    validate::label_schema_option(rule).is_some_and(|o| o.name == option)
        && matches!(value, OptionValue::Map(map) if map == schema)
}

/// An option's value after `key:`, ending with a newline; block items use `indent`.
fn option_value(value: &OptionValue, indent: &str) -> String {
    match value {
        OptionValue::Bool(b) => format!(" {b}\n"),
        OptionValue::Integer(i) => format!(" {i}\n"),
        OptionValue::String(s) => format!(" {}\n", quote(s)),
        OptionValue::List(items) if items.is_empty() => " []\n".into(),
        OptionValue::List(items) => {
            let mut text = String::from("\n");
            for item in items {
                text.push_str(&format!("{indent}- {}\n", quote(item)));
            }
            text
        }
        OptionValue::Verify(policy) => {
            let mut text = String::from("\n");
            for line in policy.describe().lines() {
                text.push_str(&format!("{indent}{line}\n"));
            }
            text
        }
        OptionValue::Map(map) if map.is_empty() => " {}\n".into(),
        OptionValue::Map(map) => {
            let mut text = String::from("\n");
            for (k, v) in map {
                text.push_str(&format!("{indent}{}: {}\n", quote(k), quote(v)));
            }
            text
        }
    }
}

fn write_exceptions(policy: &Policy, out: &mut String) {
    if policy.exceptions.is_empty() {
        out.push_str("exceptions: []\n");
        return;
    }
    let top_dir = match &policy.source {
        PolicySource::File(path) => path.parent(),
        PolicySource::Builtin(_) => None,
    };
    let known: Vec<&'static Rule> = policy
        .rules
        .iter()
        .map(|r| r.rule)
        .chain(policy.disabled.iter().copied())
        .collect();
    out.push_str("exceptions:\n");
    for exception in &policy.exceptions {
        let names: Vec<String> = exception
            .rules
            .iter()
            .map(|id| match known.iter().find(|r| r.id == id) {
                Some(rule) => rule.name.to_string(),
                None => id.clone(),
            })
            .collect();
        out.push_str(&format!("  - rules: [{}]\n", names.join(", ")));
        write_globs(out, "paths", exception.paths.iter().map(|g| g.as_str()));
        write_globs(out, "images", exception.images.iter().map(|g| g.as_str()));
        out.push_str(&format!("    reason: {}\n", quote(&exception.reason)));
        if let Some(expires) = exception.expires {
            out.push_str(&format!("    expires: {expires}\n"));
        }
        if let Some(relative_to) = relative_to(exception, top_dir) {
            out.push_str(&format!("    relative_to: {}\n", quote(&relative_to)));
        }
    }
}

fn write_globs<'a>(out: &mut String, key: &str, globs: impl Iterator<Item = &'a str>) {
    let quoted: Vec<String> = globs.map(quote).collect();
    if !quoted.is_empty() {
        out.push_str(&format!("    {key}: [{}]\n", quoted.join(", ")));
    }
}

/// Where an exception's `paths` are anchored, relative to the shown policy's directory:
/// `None` when that is the same directory.
fn relative_to(exception: &Exception, top_dir: Option<&Path>) -> Option<String> {
    let base = exception.base_dir.as_deref()?;
    let relative = match top_dir {
        Some(top) if top == base => return None,
        Some(top) => relative_path(top, base),
        None => None,
    };
    // No relative path (another drive, or a preset on top): anchor it absolutely.
    Some(relative.unwrap_or_else(|| base.display().to_string()))
}

/// A YAML double-quoted scalar holding exactly `s`.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control()
                || matches!(
                    c,
                    '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
                ) =>
            {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn write_custom(policy: &Policy, out: &mut String) {
    if policy.custom.is_empty() {
        out.push_str("custom: []\n");
        return;
    }
    out.push_str("custom:\n");
    for custom in &policy.custom {
        out.push_str(&format!("  - id: {}\n", custom.id));
        out.push_str(&format!("    message: {}\n", quote(&custom.message)));
        out.push_str(&format!("    severity: {}\n", custom.severity));
        if let Some(keyword) = custom.instruction {
            out.push_str(&format!("    instruction: {}\n", keyword.as_str()));
        }
        out.push_str(&format!(
            "    pattern: {}\n",
            quote(custom.pattern.as_str())
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::super::load::load_text;
    use super::super::test_rules::RULES;
    use super::*;
    use crate::policy::raw;

    #[test]
    fn quoted_strings_read_back_exactly() {
        for s in [
            "plain",
            "with \"quotes\" and \\",
            "line\nbreak\ttab\r",
            "é ☃ \u{1}\u{7f}\u{85}\u{2028}",
            "",
            "'single'",
            "# not a comment",
            "- not a list",
        ] {
            let yaml = format!("k: {}\n", quote(s));
            let mut diags = crate::policy::error::Diags::new("q");
            let root = raw::parse(&yaml, &mut diags).unwrap();
            assert!(diags.errors.is_empty(), "{:?}", diags.errors);
            let raw::Value::Map(entries) = root.value else {
                panic!()
            };
            assert_eq!(entries[0].1.as_str(), Some(s), "{yaml}");
        }
    }

    #[test]
    fn round_trips_to_the_same_policy() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("ci")).unwrap();
        std::fs::write(
            root.join("base.yaml"),
            r#"version: 1
extends: strict
rules:
  every-kind:
    severity: critical
    flag: false
    limit: -3
    name: "it's \"quoted\""
    words: [a, "b c"]
    globs: ["x/**"]
    labels: { "team": acme, "odd key": "v\nw" }
exceptions:
  - rules: [DL3007]
    paths: ["legacy/**"]
    reason: "from the base, relative to the repository root"
"#,
        )
        .unwrap();
        std::fs::write(
            root.join("ci/policy.yaml"),
            r#"version: 1
extends: ../base.yaml
inline_ignores: false
on_error: warn
label_schema: { "odd: label": text, maintainer: email }
layers: { max_scan_bytes: 1000, max_files_per_layer: 1000000 }
rules:
  non-root-user: off
  allowed-registries: { allow: ["docker.io/library/*"], deny: [] }
exceptions:
  - rules: [ACME001, every-kind]
    images: ["docker.io/acme/legacy-*"]
    paths: ["svc/**"]
    reason: "multi
      line"
    expires: 2027-01-31
custom:
  - id: ACME001
    message: "use the internal mirror"
    severity: high
    instruction: run
    pattern: 'pip install (?!.*--index-url https://pypi\.acme\.internal)'
"#,
        )
        .unwrap();
        let rules = RULES;
        let load = |path: &Path| {
            let text = std::fs::read_to_string(path).unwrap();
            let name = path.file_name().unwrap().to_str().unwrap();
            load_text(&text, name, path.parent().unwrap(), rules)
                .unwrap_or_else(|e| panic!("{e}\n---\n{text}"))
        };
        let policy = load(&root.join("ci/policy.yaml"));
        let shown = policy.to_yaml();
        std::fs::write(root.join("ci/shown.yaml"), &shown).unwrap();
        let again = load(&root.join("ci/shown.yaml"));
        assert_eq!(again.to_yaml(), shown);

        // Only the limits that differ from the defaults are written.
        assert!(
            shown.contains("on_error: warn\nlayers:\n  max_scan_bytes: 1000\nlabel_schema:"),
            "{shown}"
        );
        assert_eq!(again.layers, policy.layers);
        // The same policy, not just the same text.
        assert_eq!(
            (
                again.fail_on,
                again.inline_ignores,
                again.resolve,
                again.on_error
            ),
            (
                policy.fail_on,
                policy.inline_ignores,
                policy.resolve,
                policy.on_error
            )
        );
        assert_eq!(summary(&again), summary(&policy));
        assert_eq!(again.label_schema, policy.label_schema);
        assert!(policy.label_schema.is_some());
        assert_eq!(again.custom, policy.custom);
        assert_eq!(again.exceptions.len(), 2);
        for (a, b) in again.exceptions.iter().zip(&policy.exceptions) {
            assert_eq!(
                (
                    &a.rules,
                    &a.paths,
                    &a.images,
                    &a.reason,
                    a.expires,
                    &a.base_dir
                ),
                (
                    &b.rules,
                    &b.paths,
                    &b.images,
                    &b.reason,
                    b.expires,
                    &b.base_dir
                )
            );
        }
        assert!(shown.contains("relative_to: \"..\""), "{shown}");
        assert!(shown.contains("  non-root-user: off\n"), "{shown}");
        assert!(shown.contains("- rules: [no-latest-tag]\n"), "{shown}");
    }

    /// Each enabled rule with its severity and options: what a round trip must keep.
    fn summary(
        p: &Policy,
    ) -> Vec<(
        &'static str,
        crate::finding::Severity,
        crate::rules::RuleOptions,
    )> {
        p.rules
            .iter()
            .map(|r| (r.rule.id, r.severity, r.options.clone()))
            .collect()
    }

    #[test]
    fn label_schema_is_shown_once_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("base.yaml"),
            "version: 1\nlabel_schema: { maintainer: text }\nrules:\n  empty-label: { schema: { author: text } }\n",
        )
        .unwrap();
        let text = "version: 1\nextends: base.yaml\nlabel_schema:\n  org.opencontainers.image.source: url\n  maintainer: email\nrules:\n  missing-label: { schema: { org.opencontainers.image.revision: hash } }\n  superfluous-label: { strict: true }\n  invalid-url-label:\n    schema: { maintainer: email, org.opencontainers.image.source: url }\n";
        let rules = crate::rules::all();
        let policy = load_text(text, "p.yaml", dir.path(), rules).unwrap();
        let shown = policy.to_yaml();
        let again = load_text(&shown, "shown.yaml", dir.path(), rules)
            .unwrap_or_else(|e| panic!("{e}\n---\n{shown}"));
        assert_eq!(again.to_yaml(), shown);
        assert!(
            shown.contains("on_error: fail\nlabel_schema:\n  \"maintainer\": \"email\"\n  \"org.opencontainers.image.source\": \"url\"\nrules:\n"),
            "{shown}"
        );
        // Only the rules whose own schema differs say so; the others take `label_schema`.
        assert_eq!(shown.matches("schema:").count(), 3, "{shown}");
        assert!(shown.contains("  missing-label:\n    severity: low\n    schema:\n      \"org.opencontainers.image.revision\": \"hash\"\n"), "{shown}");
        assert!(
            shown.contains(
                "  empty-label:\n    severity: medium\n    schema:\n      \"author\": \"text\"\n"
            ),
            "{shown}"
        );
        assert!(
            shown.contains("  superfluous-label:\n    severity: low\n    strict: true\n"),
            "{shown}"
        );
        assert!(shown.contains("  invalid-url-label: medium\n"), "{shown}");
        assert_eq!(summary(&again), summary(&policy));
        assert_eq!(again.label_schema, policy.label_schema);
    }

    #[test]
    fn shows_presets() {
        for name in ["none", "default", "strict"] {
            let policy = super::super::load::load_preset(name, RULES).unwrap();
            let shown = policy.to_yaml();
            let dir = tempfile::tempdir().unwrap();
            let again = load_text(&shown, "p.yaml", dir.path(), RULES).unwrap();
            assert_eq!(again.to_yaml(), shown, "{name}");
        }
        let none = super::super::load::load_preset("none", RULES).unwrap();
        assert!(
            none.to_yaml().ends_with("exceptions: []\ncustom: []\n"),
            "{}",
            none.to_yaml()
        );
    }
}
