//! One policy file's raw tree → a typed [`Layer`]. Every value is checked and every problem
//! is collected; nothing here stops at the first error.
//!
//! The rule list is a parameter (not the global registry) so that tests can validate against
//! rules of their own.

use super::custom::{self, CustomRule};
use super::date::Date;
use super::error::{Diags, ErrorKind};
use super::glob::Glob;
use super::raw::{plain_bool, Node, Style, Value};
use super::{OnError, Origin};
use crate::dockerfile::Keyword;
use crate::finding::{Severity, Span};
use crate::image::layers::LayerLimits;
pub(super) use crate::rules::{keys as rule_keys, nearest};
use crate::rules::{OptionKind, OptionSpec, OptionValue, Rule, RuleOptions};
use std::collections::{BTreeMap, HashMap};

/// The keys a policy file may have at the top level.
pub const TOP_LEVEL_KEYS: &[&str] = &[
    "version",
    "extends",
    "enable",
    "fail_on",
    "inline_ignores",
    "resolve",
    "on_error",
    "label_schema",
    "layers",
    "rules",
    "exceptions",
    "custom",
];
const EXCEPTION_KEYS: &[&str] = &[
    "rules",
    "paths",
    "images",
    "reason",
    "expires",
    "relative_to",
];
const CUSTOM_KEYS: &[&str] = &["id", "message", "severity", "instruction", "pattern"];
const SEVERITY_WORDS: &[&str] = &["critical", "high", "medium", "low", "info"];
/// The types a label schema gives labels, as the label rules read them (hadolint's names).
pub const LABEL_TYPES: &[&str] = &["text", "url", "hash", "rfc3339", "semver", "spdx", "email"];

/// What one policy file says, before layering. `None` = not set in this file.
#[derive(Debug, Default)]
pub struct Layer {
    pub extends: Option<Spanned<String>>,
    pub enable: Option<Enable>,
    pub fail_on: Option<Severity>,
    pub inline_ignores: Option<bool>,
    pub resolve: Option<bool>,
    pub on_error: Option<OnError>,
    /// `label_schema`: label name → type, the schema of every rule that takes one.
    pub label_schema: Option<BTreeMap<String, String>>,
    /// `layers`: the limits of layer reading this file sets (key → value), each over the
    /// value inherited.
    pub layers: Vec<(&'static str, u64)>,
    pub rules: Vec<RuleEntry>,
    pub exceptions: Vec<PendingException>,
    pub custom: Vec<CustomRule>,
    /// Every custom id the file declares, valid or not, so that exceptions naming a custom
    /// rule with another error are not also reported as naming an unknown rule.
    pub declared_custom_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

/// `enable: all | none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enable {
    All,
    None,
}

#[derive(Debug)]
pub struct RuleEntry {
    pub rule: &'static Rule,
    pub setting: RuleSetting,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleSetting {
    Off,
    /// On; `severity: None` keeps the current severity; `options` replace those they name.
    On {
        severity: Option<Severity>,
        options: RuleOptions,
    },
}

/// An exception whose rule names are resolved once the whole chain's custom rules are known.
#[derive(Debug)]
pub struct PendingException {
    pub rule_keys: Vec<Spanned<String>>,
    pub paths: Vec<Glob>,
    pub images: Vec<Glob>,
    pub reason: String,
    pub expires: Option<Date>,
    /// The directory `paths` are relative to, relative to the policy file's directory.
    pub relative_to: Option<String>,
    pub span: Span,
}

/// The built-in rule answering to `key` (code, name or alias).
pub fn find_rule(rules: &[&'static Rule], key: &str) -> Option<&'static Rule> {
    rules.iter().copied().find(|r| r.answers_to(key))
}

/// The option through which `rule` takes a label schema, if it takes one. Rules are found by
/// the option they declare (the label rules' shared `schema` spec), not by a list of codes,
/// and the whole spec is compared so that an unrelated option also named `schema` is not
/// taken for it.
pub fn label_schema_option(rule: &Rule) -> Option<&'static OptionSpec> {
    rule.options.iter().find(|o| is_label_schema(o))
}

fn is_label_schema(spec: &OptionSpec) -> bool {
    let wanted = &crate::rules::dockerfile::util::LABEL_SCHEMA;
    spec.name == wanted.name && spec.kind == wanted.kind && spec.doc == wanted.doc
}

/// A label schema (`label_schema`, a label rule's `schema` option, hadolint's
/// `label-schema`): a mapping of label names to [`LABEL_TYPES`]. Types are matched
/// case-insensitively, as the label rules compare them, and kept in their canonical
/// spelling. `what` names the schema in errors.
pub fn label_schema(
    node: &Node,
    what: &str,
    diags: &mut Diags,
) -> Option<BTreeMap<String, String>> {
    let Value::Map(entries) = &node.value else {
        diags.push(
            node.span,
            ErrorKind::WrongType {
                what: what.to_string(),
                expected: "a mapping of label names to label types",
                found: node.describe(),
            },
        );
        return None;
    };
    let mut schema = BTreeMap::new();
    let mut ok = true;
    for (key, value) in entries {
        let label = key.as_str().unwrap_or_default();
        match label_type(label, value, what) {
            Ok(kind) => {
                schema.insert(label.to_string(), kind.to_string());
            }
            Err(error) => {
                ok = false;
                diags.push(value.span, error);
            }
        }
    }
    ok.then_some(schema)
}

fn label_type(label: &str, node: &Node, within: &str) -> Result<&'static str, ErrorKind> {
    let Value::Scalar(text, _) = &node.value else {
        return Err(ErrorKind::WrongType {
            what: format!("the type of label `{label}` in {within}"),
            expected: "a string",
            found: node.describe(),
        });
    };
    let wanted = text.trim();
    match LABEL_TYPES.iter().find(|t| t.eq_ignore_ascii_case(wanted)) {
        Some(kind) => Ok(kind),
        None => Err(ErrorKind::BadLabelType {
            label: label.to_string(),
            value: text.clone(),
            within: within.to_string(),
            suggestion: nearest(wanted, LABEL_TYPES.iter().copied()),
        }),
    }
}

/// Validates one file's tree against `rules`, pushing every problem to `diags`.
mod trust;

/// Validates one policy file; `dir` is its directory, which files it names (keys, trusted
/// roots) are relative to.
pub fn validate(
    root: &Node,
    rules: &[&'static Rule],
    diags: &mut Diags,
    dir: Option<&std::path::Path>,
) -> Layer {
    let mut v = Validator {
        rules,
        diags,
        dir: dir.map(std::path::Path::to_path_buf),
    };
    v.policy(root)
}

struct Validator<'a> {
    rules: &'a [&'static Rule],
    diags: &'a mut Diags,
    dir: Option<std::path::PathBuf>,
}

impl Validator<'_> {
    fn policy(&mut self, root: &Node) -> Layer {
        let mut layer = Layer::default();
        let entries: &[(Node, Node)] = match &root.value {
            Value::Map(entries) => entries,
            Value::Null => &[],
            _ => {
                self.wrong_type(root, "a policy file", "a mapping");
                return layer;
            }
        };
        let mut has_version = false;
        for (key, value) in entries {
            let name = key.as_str().unwrap_or_default();
            match name {
                "version" => {
                    has_version = true;
                    self.version(value);
                }
                "extends" => {
                    layer.extends = self.string(value, "`extends`").map(|s| Spanned {
                        value: s,
                        span: value.span,
                    })
                }
                "enable" => {
                    layer.enable = self.choice(
                        value,
                        "enable",
                        "all, none",
                        &[("all", Enable::All), ("none", Enable::None)],
                    )
                }
                "fail_on" => layer.fail_on = self.severity(value),
                "inline_ignores" => layer.inline_ignores = self.boolean(value, "`inline_ignores`"),
                "resolve" => layer.resolve = self.boolean(value, "`resolve`"),
                "on_error" => {
                    layer.on_error = self.choice(
                        value,
                        "on_error",
                        "fail, warn",
                        &[("fail", OnError::Fail), ("warn", OnError::Warn)],
                    )
                }
                "label_schema" => {
                    layer.label_schema = label_schema(value, "`label_schema`", self.diags)
                }
                "layers" => layer.layers = self.layer_limits(value),
                "rules" => layer.rules = self.rules_section(value),
                "exceptions" => layer.exceptions = self.exceptions(value),
                "custom" => (layer.custom, layer.declared_custom_ids) = self.custom_rules(value),
                _ => self.unknown_key(key, "the policy", TOP_LEVEL_KEYS),
            }
        }
        if !has_version {
            self.diags.push(
                Span::point(root.span.line, root.span.column),
                ErrorKind::MissingKey {
                    key: "version",
                    section: "the policy",
                    hint: "; start the file with `version: 1`",
                },
            );
        }
        layer
    }

    fn version(&mut self, node: &Node) {
        match &node.value {
            Value::Scalar(s, Style::Plain) if s.parse::<i64>().is_ok() => {
                if s != "1" {
                    self.diags.push(
                        node.span,
                        ErrorKind::UnsupportedVersion { found: s.clone() },
                    );
                }
            }
            _ => self.wrong_type(node, "`version`", "the integer 1"),
        }
    }

    /// `layers:` — the limits of layer reading, each a number of bytes or entries, at least 1.
    fn layer_limits(&mut self, node: &Node) -> Vec<(&'static str, u64)> {
        let Some(entries) = self.mapping(node, "`layers`") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (key, value) in entries {
            let name = key.as_str().unwrap_or_default();
            let Some(known) = LayerLimits::KEYS.iter().copied().find(|k| *k == name) else {
                self.unknown_key(key, "`layers`", LayerLimits::KEYS);
                continue;
            };
            let what = format!("`{known}` of `layers`");
            let Some(number) = self.integer(value, &what) else {
                continue;
            };
            match u64::try_from(number) {
                Ok(n) if n >= 1 => out.push((known, n)),
                _ => self.diags.push(
                    value.span,
                    ErrorKind::TooSmall {
                        what,
                        min: 1,
                        found: number.to_string(),
                    },
                ),
            }
        }
        out
    }

    // ----- rules -----

    fn rules_section(&mut self, node: &Node) -> Vec<RuleEntry> {
        let Some(entries) = self.mapping(node, "`rules`") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut first_key: HashMap<&'static str, &Node> = HashMap::new();
        for (key, value) in entries {
            let name = key.as_str().unwrap_or_default();
            let Some(rule) = find_rule(self.rules, name) else {
                let suggestion = nearest(name, rule_keys(self.rules)).map(str::to_string);
                self.diags.push(
                    key.span,
                    ErrorKind::UnknownRule {
                        key: name.to_string(),
                        suggestion,
                        custom_allowed: false,
                    },
                );
                continue;
            };
            if let Some(first) = first_key.get(rule.id) {
                self.diags.push(
                    key.span,
                    ErrorKind::DuplicateRule {
                        key: name.to_string(),
                        rule: rule.name,
                        first_key: first.as_str().unwrap_or_default().to_string(),
                        first_line: first.span.line,
                    },
                );
                continue;
            }
            first_key.insert(rule.id, key);
            if let Some(setting) = self.rule_setting(rule, name, value) {
                out.push(RuleEntry { rule, setting });
            }
        }
        out
    }

    fn rule_setting(&mut self, rule: &'static Rule, key: &str, node: &Node) -> Option<RuleSetting> {
        match &node.value {
            Value::Scalar(s, _) if s.eq_ignore_ascii_case("off") => Some(RuleSetting::Off),
            Value::Scalar(s, _) if s.eq_ignore_ascii_case("on") => Some(RuleSetting::On {
                severity: None,
                options: RuleOptions::default(),
            }),
            Value::Scalar(s, _) => match s.parse::<Severity>() {
                Ok(severity) => Some(RuleSetting::On {
                    severity: Some(severity),
                    options: RuleOptions::default(),
                }),
                Err(_) => {
                    let words = SEVERITY_WORDS.iter().copied().chain(["off", "on"]);
                    self.diags.push(
                        node.span,
                        ErrorKind::BadSeverity {
                            value: s.clone(),
                            suggestion: nearest(s, words),
                            allow_off: true,
                        },
                    );
                    None
                }
            },
            Value::Map(entries) => Some(self.rule_mapping(rule, entries)),
            Value::Seq(_) | Value::Null => {
                self.wrong_type(
                    node,
                    &format!("rule `{key}`"),
                    "`off`, `on`, a severity or a mapping",
                );
                None
            }
        }
    }

    fn rule_mapping(&mut self, rule: &'static Rule, entries: &[(Node, Node)]) -> RuleSetting {
        let mut severity = None;
        let mut options = RuleOptions::default();
        for (key, value) in entries {
            let name = key.as_str().unwrap_or_default();
            if name == "severity" {
                severity = self.severity(value);
                continue;
            }
            let Some(spec) = rule.all_options().find(|o| o.name == name) else {
                let valid: Vec<&'static str> = rule.all_options().map(|o| o.name).collect();
                let candidates = std::iter::once("severity").chain(valid.iter().copied());
                self.diags.push(
                    key.span,
                    ErrorKind::UnknownOption {
                        rule: rule.name,
                        key: name.to_string(),
                        suggestion: nearest(name, candidates),
                        valid,
                    },
                );
                continue;
            };
            if let Some(value) = self.option_value(rule, spec, value) {
                options.values.insert(spec.name.to_string(), value);
            }
        }
        RuleSetting::On { severity, options }
    }

    fn option_value(&mut self, rule: &Rule, spec: &OptionSpec, node: &Node) -> Option<OptionValue> {
        let what = format!("option `{}` of rule `{}`", spec.name, rule.name);
        if is_label_schema(spec) {
            return label_schema(node, &what, self.diags).map(OptionValue::Map);
        }
        match spec.kind {
            OptionKind::Bool => self.boolean(node, &what).map(OptionValue::Bool),
            OptionKind::Integer => self.integer(node, &what).map(OptionValue::Integer),
            OptionKind::String => self.string(node, &what).map(OptionValue::String),
            OptionKind::StringList => {
                let items = self.string_list(node, &what, spec.kind)?;
                Some(OptionValue::List(
                    items.into_iter().map(|s| s.value).collect(),
                ))
            }
            OptionKind::GlobList => {
                let globs = self.glob_list(node, &what)?;
                Some(OptionValue::List(
                    globs.iter().map(|g| g.as_str().to_string()).collect(),
                ))
            }
            OptionKind::StringMap => self.string_map(node, &what).map(OptionValue::Map),
            OptionKind::Word(description, words) => {
                let word = self.string(node, &what)?;
                if words.contains(&word.as_str()) {
                    Some(OptionValue::String(word))
                } else {
                    self.diags.push(
                        node.span,
                        ErrorKind::Trust {
                            what: format!("`{word}` for {what}"),
                            reason: format!("is not allowed; expected {description}"),
                        },
                    );
                    None
                }
            }
            OptionKind::Verify => self.verify_entries(node, &what).map(OptionValue::Verify),
        }
    }

    // ----- exceptions -----

    fn exceptions(&mut self, node: &Node) -> Vec<PendingException> {
        let Some(items) = self.sequence(node, "`exceptions`") else {
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|item| self.exception(item))
            .collect()
    }

    fn exception(&mut self, node: &Node) -> Option<PendingException> {
        let entries = self.mapping(node, "an exception")?;
        let mut rule_keys = None;
        let (mut paths, mut images) = (Vec::new(), Vec::new());
        // A `paths`/`images` value already reported as invalid: do not also call it missing.
        let mut scope_invalid = false;
        let mut reason = None;
        let mut expires = None;
        let mut relative_to = None;
        for (key, value) in entries {
            match key.as_str().unwrap_or_default() {
                "rules" => {
                    let what = "`rules` of an exception";
                    rule_keys = self.string_list(value, what, OptionKind::StringList);
                    if rule_keys.as_ref().is_some_and(Vec::is_empty) {
                        self.empty(value, what);
                    }
                }
                "paths" => match self.glob_list(value, "`paths` of an exception") {
                    Some(globs) => paths = globs,
                    None => scope_invalid = true,
                },
                "images" => match self.glob_list(value, "`images` of an exception") {
                    Some(globs) => images = globs,
                    None => scope_invalid = true,
                },
                "reason" => {
                    reason = self.string(value, "`reason` of an exception");
                    if reason.as_deref().is_some_and(|r| r.trim().is_empty()) {
                        self.empty(value, "`reason` of an exception");
                    }
                }
                "expires" => expires = self.date(value),
                "relative_to" => {
                    relative_to = self.string(value, "`relative_to` of an exception");
                    if relative_to.as_deref().is_some_and(str::is_empty) {
                        self.empty(value, "`relative_to` of an exception");
                    }
                }
                _ => self.unknown_key(key, "an exception", EXCEPTION_KEYS),
            }
        }
        let start = Span::point(node.span.line, node.span.column);
        let has = |key: &str| entries.iter().any(|(k, _)| k.as_str() == Some(key));
        if !has("rules") {
            self.missing(start, "rules", "an exception", "; list the rules it waives");
        }
        if !has("reason") {
            self.missing(
                start,
                "reason",
                "an exception",
                "; say why the rules do not apply",
            );
        }
        if !scope_invalid && paths.is_empty() && images.is_empty() {
            self.diags.push(start, ErrorKind::ExceptionWithoutScope);
        }
        Some(PendingException {
            rule_keys: rule_keys.unwrap_or_default(),
            paths,
            images,
            reason: reason?,
            expires,
            relative_to,
            span: start,
        })
    }

    fn date(&mut self, node: &Node) -> Option<Date> {
        let text = self.string(node, "`expires` of an exception")?;
        match text.parse::<Date>() {
            Ok(date) => Some(date),
            Err(reason) => {
                self.diags.push(
                    node.span,
                    ErrorKind::BadDate {
                        value: text,
                        reason,
                    },
                );
                None
            }
        }
    }

    // ----- custom rules -----

    fn custom_rules(&mut self, node: &Node) -> (Vec<CustomRule>, Vec<String>) {
        let Some(items) = self.sequence(node, "`custom`") else {
            return Default::default();
        };
        let mut rules = Vec::new();
        let mut ids = Vec::new();
        for item in items {
            if let Some(rule) = self.custom_rule(item, &mut ids) {
                rules.push(rule);
            }
        }
        (rules, ids)
    }

    fn custom_rule(&mut self, node: &Node, ids: &mut Vec<String>) -> Option<CustomRule> {
        let entries = self.mapping(node, "a custom rule")?;
        let (mut id, mut message, mut severity, mut instruction, mut pattern) =
            (None, None, None, None, None);
        let mut ok = true;
        for (key, value) in entries {
            match key.as_str().unwrap_or_default() {
                "id" => {
                    id = self.string(value, "`id` of a custom rule");
                    if let Some(text) = &id {
                        ids.push(text.clone());
                        ok &= self.custom_id(text, value.span);
                    }
                }
                "message" => {
                    message = self.string(value, "`message` of a custom rule");
                    if message.as_deref().is_some_and(|m| m.trim().is_empty()) {
                        self.empty(value, "`message` of a custom rule");
                    }
                }
                "severity" => severity = self.severity(value),
                "instruction" => {
                    let Some(text) = self.string(value, "`instruction` of a custom rule") else {
                        ok = false;
                        continue;
                    };
                    instruction = Keyword::parse(&text);
                    if instruction.is_none() {
                        ok = false;
                        self.diags
                            .push(value.span, ErrorKind::UnknownInstruction { value: text });
                    }
                }
                "pattern" => pattern = self.regex(value),
                _ => self.unknown_key(key, "a custom rule", CUSTOM_KEYS),
            }
        }
        let start = Span::point(node.span.line, node.span.column);
        for required in ["id", "message", "severity", "pattern"] {
            if !entries.iter().any(|(k, _)| k.as_str() == Some(required)) {
                self.missing(start, required, "a custom rule", "");
            }
        }
        if !ok {
            return None;
        }
        Some(CustomRule {
            id: id?,
            message: message.filter(|m| !m.trim().is_empty())?,
            severity: severity?,
            instruction,
            pattern: pattern?,
            origin: Origin {
                file: self.diags.file.clone(),
                span: start,
            },
        })
    }

    /// Checks a custom id's shape and that no built-in rule answers to it.
    fn custom_id(&mut self, id: &str, span: Span) -> bool {
        if !custom::is_valid_id(id) {
            self.diags
                .push(span, ErrorKind::BadCustomId { id: id.to_string() });
            return false;
        }
        if let Some(rule) = find_rule(self.rules, id) {
            self.diags.push(
                span,
                ErrorKind::CustomIdCollision {
                    id: id.to_string(),
                    rule: rule.id,
                },
            );
            return false;
        }
        true
    }

    fn regex(&mut self, node: &Node) -> Option<fancy_regex::Regex> {
        let pattern = self.string(node, "`pattern` of a custom rule")?;
        match fancy_regex::Regex::new(&pattern) {
            Ok(regex) => Some(regex),
            Err(error) => {
                let (span, reason) = regex_error(node, &pattern, &error);
                self.diags.push(span, ErrorKind::BadRegex { reason });
                None
            }
        }
    }

    // ----- typed values -----

    fn mapping<'n>(&mut self, node: &'n Node, what: &str) -> Option<&'n [(Node, Node)]> {
        match &node.value {
            Value::Map(entries) => Some(entries),
            Value::Null => Some(&[]),
            _ => {
                self.wrong_type(node, what, "a mapping");
                None
            }
        }
    }

    fn sequence<'n>(&mut self, node: &'n Node, what: &str) -> Option<&'n [Node]> {
        match &node.value {
            Value::Seq(items) => Some(items),
            Value::Null => Some(&[]),
            _ => {
                self.wrong_type(node, what, "a list");
                None
            }
        }
    }

    fn string(&mut self, node: &Node, what: &str) -> Option<String> {
        match &node.value {
            Value::Scalar(s, _) => Some(s.clone()),
            _ => {
                self.wrong_type(node, what, "a string");
                None
            }
        }
    }

    fn boolean(&mut self, node: &Node, what: &str) -> Option<bool> {
        match &node.value {
            Value::Scalar(s, Style::Plain) if plain_bool(s).is_some() => plain_bool(s),
            _ => {
                self.wrong_type(node, what, OptionKind::Bool.describe());
                None
            }
        }
    }

    fn integer(&mut self, node: &Node, what: &str) -> Option<i64> {
        match &node.value {
            Value::Scalar(s, Style::Plain) if s.parse::<i64>().is_ok() => s.parse().ok(),
            _ => {
                self.wrong_type(node, what, OptionKind::Integer.describe());
                None
            }
        }
    }

    fn severity(&mut self, node: &Node) -> Option<Severity> {
        let Value::Scalar(s, _) = &node.value else {
            self.wrong_type(node, "a severity", Severity::choices());
            return None;
        };
        match s.parse::<Severity>() {
            Ok(severity) => Some(severity),
            Err(_) => {
                self.diags.push(
                    node.span,
                    ErrorKind::BadSeverity {
                        value: s.clone(),
                        suggestion: nearest(s, SEVERITY_WORDS.iter().copied()),
                        allow_off: false,
                    },
                );
                None
            }
        }
    }

    fn choice<T: Copy>(
        &mut self,
        node: &Node,
        what: &'static str,
        choices: &'static str,
        table: &[(&str, T)],
    ) -> Option<T> {
        let text = self.string(node, &format!("`{what}`"))?;
        let found = table
            .iter()
            .find(|(name, _)| *name == text)
            .map(|(_, v)| *v);
        if found.is_none() {
            self.diags.push(
                node.span,
                ErrorKind::BadChoice {
                    what,
                    value: text,
                    choices,
                },
            );
        }
        found
    }

    /// A list of strings. `kind` names the expected type in errors.
    fn string_list(
        &mut self,
        node: &Node,
        what: &str,
        kind: OptionKind,
    ) -> Option<Vec<Spanned<String>>> {
        let Value::Seq(items) = &node.value else {
            self.wrong_type(node, what, kind.describe());
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for item in items {
            match &item.value {
                Value::Scalar(s, _) => out.push(Spanned {
                    value: s.clone(),
                    span: item.span,
                }),
                _ => {
                    ok = false;
                    self.wrong_type(item, &format!("each item of {what}"), "a string");
                }
            }
        }
        ok.then_some(out)
    }

    fn glob_list(&mut self, node: &Node, what: &str) -> Option<Vec<Glob>> {
        let items = self.string_list(node, what, OptionKind::GlobList)?;
        let mut globs = Vec::new();
        let mut ok = true;
        for item in items {
            match Glob::new(&item.value) {
                Ok(glob) => globs.push(glob),
                Err(e) => {
                    ok = false;
                    self.diags.push(
                        item.span,
                        ErrorKind::InvalidGlob {
                            pattern: item.value,
                            reason: e.0,
                        },
                    );
                }
            }
        }
        ok.then_some(globs)
    }

    fn string_map(&mut self, node: &Node, what: &str) -> Option<BTreeMap<String, String>> {
        let Value::Map(entries) = &node.value else {
            self.wrong_type(node, what, OptionKind::StringMap.describe());
            return None;
        };
        let mut out = BTreeMap::new();
        let mut ok = true;
        for (key, value) in entries {
            let key = key.as_str().unwrap_or_default();
            match &value.value {
                Value::Scalar(s, _) => {
                    out.insert(key.to_string(), s.clone());
                }
                _ => {
                    ok = false;
                    self.wrong_type(value, &format!("`{key}` in {what}"), "a string");
                }
            }
        }
        ok.then_some(out)
    }

    // ----- error helpers -----

    fn wrong_type(&mut self, node: &Node, what: &str, expected: &'static str) {
        self.diags.push(
            node.span,
            ErrorKind::WrongType {
                what: what.to_string(),
                expected,
                found: node.describe(),
            },
        );
    }

    fn empty(&mut self, node: &Node, what: &str) {
        self.diags.push(
            node.span,
            ErrorKind::Empty {
                what: what.to_string(),
            },
        );
    }

    fn missing(&mut self, at: Span, key: &'static str, section: &'static str, hint: &'static str) {
        self.diags
            .push(at, ErrorKind::MissingKey { key, section, hint });
    }

    fn unknown_key(&mut self, key: &Node, section: &'static str, valid: &'static [&'static str]) {
        let name = key.as_str().unwrap_or_default();
        self.diags.push(
            key.span,
            ErrorKind::UnknownKey {
                key: name.to_string(),
                section,
                suggestion: nearest(name, valid.iter().copied()),
                valid,
            },
        );
    }
}

/// Where in the file a regex error is, and why. The position is exact when the pattern is
/// on one line and written without escapes (plain, or quoted with nothing unescaped);
/// otherwise the error points at the start of the pattern and names the offset.
fn regex_error(node: &Node, pattern: &str, error: &fancy_regex::Error) -> (Span, String) {
    let start = Span::point(node.span.line, node.span.column);
    let fancy_regex::Error::ParseError(byte, kind) = error else {
        return (start, error.to_string());
    };
    let Some(offset) = pattern.get(..*byte).map(|s| s.chars().count()) else {
        return (start, error.to_string());
    };
    let width = node.span.end_column.saturating_sub(node.span.column);
    let chars = pattern.chars().count();
    let quote = match &node.value {
        Value::Scalar(_, Style::Plain) => Some(0),
        Value::Scalar(_, Style::Quoted) => Some(1),
        _ => None,
    };
    let single_line = node.span.line == node.span.end_line;
    match quote {
        Some(q) if single_line && width == chars + 2 * q => (
            Span::point(node.span.line, node.span.column + q + offset),
            kind.to_string(),
        ),
        _ if offset == chars => (start, format!("{kind} (at the end of the pattern)")),
        _ => (
            start,
            format!("{kind} (at character {} of the pattern)", offset + 1),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_rules::{check, RULES};
    use super::*;

    /// Asserts exactly one error, at `line:column`, containing every word of `words`.
    #[track_caller]
    fn one_error(src: &str, line: usize, column: usize, words: &[&str]) {
        let errors = check(src);
        assert_eq!(errors.len(), 1, "expected one error, got: {errors:#?}");
        let e = &errors[0];
        let text = e.to_string();
        assert_eq!(
            e.span.map(|s| (s.line, s.column)),
            Some((line, column)),
            "{text}"
        );
        assert!(
            text.starts_with(&format!("p.yaml:{line}:{column}: ")),
            "{text}"
        );
        for word in words {
            assert!(text.contains(word), "`{word}` not in: {text}");
        }
    }

    #[test]
    fn accepts_a_full_policy() {
        let src = r#"
version: 1
extends: none
enable: all
fail_on: medium
inline_ignores: false
resolve: true
on_error: warn
rules:
  no-latest-tag: high
  PT0004: off
  allowed-registries:
    severity: critical
    allow: ["docker.io/library/*", "ghcr.io/acme/**"]
    deny: ["docker.io/library/ubuntu"]
  every-kind: { severity: low, flag: true, limit: 3, name: x, words: [a], labels: {k: v} }
exceptions:
  - rules: [no-latest-tag, ACME001]
    paths: ["legacy/**"]
    images: ["docker.io/acme/legacy-*"]
    reason: "tracked in OPS-12"
    expires: 2027-01-31
custom:
  - id: ACME001
    message: "use the internal package mirror"
    severity: high
    instruction: RUN
    pattern: 'pip install (?!.*--index-url https://pypi\.acme\.internal)'
"#;
        assert_eq!(check(src), []);
    }

    #[test]
    fn layer_limits_are_numbers_of_at_least_one_under_known_keys() {
        assert_eq!(
            check("version: 1\nlayers:\n  max_layer_bytes: 1000\n  max_scan_bytes: 1\n"),
            []
        );
        one_error(
            "version: 1\nlayers:\n  max_layer_byte: 1000\n",
            3,
            3,
            &[
                "unknown key `max_layer_byte` in `layers`",
                "did you mean `max_layer_bytes`?",
                "max_layer_bytes, max_image_bytes, max_files_per_layer, max_scan_bytes",
            ],
        );
        one_error(
            "version: 1\nlayers:\n  max_files_per_layer: 0\n",
            3,
            24,
            &["`max_files_per_layer` of `layers` must be at least 1, found 0"],
        );
        one_error(
            "version: 1\nlayers:\n  max_image_bytes: 10GB\n",
            3,
            20,
            &["`max_image_bytes` of `layers` must be an integer"],
        );
        one_error(
            "version: 1\nlayers: 5\n",
            2,
            9,
            &["`layers` must be a mapping"],
        );
    }

    #[test]
    fn unknown_top_level_key_lists_keys_and_suggests() {
        one_error(
            "version: 1\nfial_on: high\n",
            2,
            1,
            &[
                "unknown key `fial_on`",
                "did you mean `fail_on`?",
                "version, extends, enable",
            ],
        );
    }

    #[test]
    fn unknown_top_level_key_near_label_schema_suggests_it() {
        one_error(
            "version: 1\nlabel_schemas:\n  maintainer: email\n",
            2,
            1,
            &[
                "unknown key `label_schemas`",
                "did you mean `label_schema`?",
                "on_error, label_schema, layers, rules",
            ],
        );
    }

    #[test]
    fn label_schema_types_are_checked() {
        one_error(
            "version: 1\nlabel_schema:\n  maintainer: email\n  org.opencontainers.image.source: link\n",
            4,
            36,
            &[
                "unknown label type `link` for label `org.opencontainers.image.source` in `label_schema`",
                "expected one of: text, url, hash, rfc3339, semver, spdx, email",
            ],
        );
        one_error(
            "version: 1\nlabel_schema: { version: semvar }\n",
            2,
            26,
            &["unknown label type `semvar`", "did you mean `semver`?"],
        );
        one_error(
            "version: 1\nlabel_schema: { a: [url] }\n",
            2,
            20,
            &["the type of label `a` in `label_schema` must be a string, found a list"],
        );
        one_error(
            "version: 1\nlabel_schema: [a]\n",
            2,
            15,
            &["`label_schema` must be a mapping of label names to label types, found a list"],
        );
        // The label rules compare types case-insensitively; so does the policy.
        assert_eq!(
            check("version: 1\nlabel_schema: { a: URL, b: \" Text \" }\n"),
            []
        );
    }

    #[test]
    fn a_label_rules_schema_option_is_checked_like_label_schema() {
        let src = "version: 1\nrules:\n  missing-label:\n    schema: { maintainer: string }\n";
        let errors = super::super::load::load_text(
            src,
            "p.yaml",
            std::path::Path::new("/virtual"),
            crate::rules::all(),
        )
        .unwrap_err();
        let errors: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            errors,
            ["p.yaml:4:27: unknown label type `string` for label `maintainer` in option `schema` of rule `missing-label`; expected one of: text, url, hash, rfc3339, semver, spdx, email"]
        );
        // Another option that maps strings to strings takes any string.
        assert_eq!(
            check("version: 1\nrules:\n  every-kind: { labels: { a: string } }\n"),
            []
        );
    }

    #[test]
    fn missing_version() {
        one_error(
            "fail_on: high\n",
            1,
            1,
            &["missing `version`", "version: 1"],
        );
        one_error("", 1, 1, &["missing `version`"]);
    }

    #[test]
    fn unsupported_version() {
        one_error(
            "version: 2\n",
            1,
            10,
            &["unsupported policy version `2`", "version 1"],
        );
        one_error(
            "version: \"1\"\n",
            1,
            10,
            &["`version` must be the integer 1", "the string `1`"],
        );
    }

    #[test]
    fn unknown_rule_suggests_the_nearest() {
        one_error(
            "version: 1\nrules:\n  no-latst-tag: high\n",
            3,
            3,
            &["unknown rule `no-latst-tag`; did you mean `no-latest-tag`?"],
        );
        one_error(
            "version: 1\nrules:\n  something-else-entirely: high\n",
            3,
            3,
            &[
                "unknown rule `something-else-entirely`",
                "code",
                "name",
                "alias",
            ],
        );
    }

    #[test]
    fn rules_answer_to_code_name_and_alias_but_only_once() {
        assert_eq!(
            check("version: 1\nrules:\n  pt0001: high\n  non-root-user: off\n"),
            []
        );
        assert_eq!(check("version: 1\nrules:\n  DL3007: high\n"), []);
        one_error(
            "version: 1\nrules:\n  no-latest-tag: high\n  non-root-user: off\n  DL3007: low\n",
            5,
            3,
            &[
                "rule `DL3007` is the same rule as `no-latest-tag` on line 3",
                "once",
            ],
        );
    }

    #[test]
    fn bad_severity_lists_choices() {
        one_error(
            "version: 1\nrules:\n  no-latest-tag: hihg\n",
            3,
            18,
            &[
                "unknown severity `hihg`; did you mean `high`?",
                "`off`, `on`",
                "critical, high, medium, low, info",
            ],
        );
        one_error(
            "version: 1\nfail_on: severe\n",
            2,
            10,
            &[
                "unknown severity `severe`",
                "critical, high, medium, low, info",
            ],
        );
        one_error(
            "version: 1\nrules:\n  no-latest-tag: { severity: off }\n",
            3,
            30,
            &["unknown severity `off`", "expected one of critical"],
        );
    }

    #[test]
    fn rule_value_of_the_wrong_shape() {
        one_error(
            "version: 1\nrules:\n  no-latest-tag: [high]\n",
            3,
            18,
            &[
                "rule `no-latest-tag` must be `off`, `on`, a severity or a mapping",
                "a list",
            ],
        );
    }

    #[test]
    fn unknown_option_lists_the_rules_options() {
        one_error(
            "version: 1\nrules:\n  allowed-registries:\n    alow: [\"x/*\"]\n",
            4,
            5,
            &[
                "rule `allowed-registries` has no option `alow`; did you mean `allow`?",
                "severity, allow, deny",
            ],
        );
        one_error(
            "version: 1\nrules:\n  no-latest-tag: { allow: [] }\n",
            3,
            20,
            &[
                "rule `no-latest-tag` has no option `allow`",
                "it takes only `severity`",
            ],
        );
    }

    #[test]
    fn wrong_option_types_name_the_expected_kind() {
        let cases = [
            ("flag", "yes", "option `flag` of rule `every-kind` must be a boolean (true or false), found the string `yes`"),
            ("flag", "\"true\"", "must be a boolean (true or false), found the string `true`"),
            ("limit", "1.5", "option `limit` of rule `every-kind` must be an integer"),
            ("name", "[a]", "option `name` of rule `every-kind` must be a string, found a list"),
            ("words", "a", "option `words` of rule `every-kind` must be a list of strings"),
            ("globs", "a", "option `globs` of rule `every-kind` must be a list of globs"),
            ("labels", "[a]", "option `labels` of rule `every-kind` must be a mapping of strings to strings"),
        ];
        for (option, value, message) in cases {
            let src = format!("version: 1\nrules:\n  every-kind: {{ {option}: {value} }}\n");
            // `  every-kind: { ` is 16 columns, then `option: `.
            one_error(&src, 3, 17 + option.len() + 2, &[message]);
        }
        one_error(
            "version: 1\nrules:\n  every-kind:\n    words: [a, [b]]\n",
            4,
            16,
            &["each item of option `words` of rule `every-kind` must be a string, found a list"],
        );
    }

    #[test]
    fn top_level_scalar_types() {
        one_error(
            "version: 1\ninline_ignores: no\n",
            2,
            17,
            &["`inline_ignores` must be a boolean"],
        );
        one_error(
            "version: 1\nresolve: [true]\n",
            2,
            10,
            &["`resolve` must be a boolean", "a list"],
        );
        one_error(
            "version: 1\non_error: ignore\n",
            2,
            11,
            &["unknown on_error `ignore`; expected one of: fail, warn"],
        );
        one_error(
            "version: 1\nenable: some\n",
            2,
            9,
            &["unknown enable `some`; expected one of: all, none"],
        );
        one_error(
            "version: 1\nrules: [a]\n",
            2,
            8,
            &["`rules` must be a mapping, found a list"],
        );
        one_error(
            "- a\n",
            1,
            1,
            &["a policy file must be a mapping, found a list"],
        );
    }

    #[test]
    fn invalid_globs_point_at_the_pattern() {
        one_error(
            "version: 1\nrules:\n  allowed-registries:\n    allow: [\"ok/*\", \"ghcr.io/{a,b}/*\"]\n",
            4,
            21,
            &["invalid glob `ghcr.io/{a,b}/*`", "`{` is not supported"],
        );
        one_error(
            "version: 1\nexceptions:\n  - rules: [no-latest-tag]\n    paths: [\"/abs/**\"]\n    reason: r\n",
            4,
            13,
            &["invalid glob `/abs/**`", "empty path segment"],
        );
    }

    #[test]
    fn exception_needs_rules_reason_and_scope() {
        one_error(
            "version: 1\nexceptions:\n  - rules: [no-latest-tag]\n    paths: [\"**\"]\n",
            3,
            5,
            &["missing `reason` in an exception", "say why"],
        );
        one_error(
            "version: 1\nexceptions:\n  - rules: [no-latest-tag]\n    paths: [\"**\"]\n    reason: \"  \"\n",
            5,
            13,
            &["`reason` of an exception must not be empty"],
        );
        one_error(
            "version: 1\nexceptions:\n  - paths: [\"**\"]\n    reason: r\n",
            3,
            5,
            &["missing `rules` in an exception"],
        );
        one_error(
            "version: 1\nexceptions:\n  - rules: []\n    paths: [\"**\"]\n    reason: r\n",
            3,
            12,
            &["`rules` of an exception must not be empty"],
        );
        one_error(
            "version: 1\nexceptions:\n  - rules: [no-latest-tag]\n    reason: r\n",
            3,
            5,
            &["needs `paths` or `images`", "paths: [\"**\"]"],
        );
        one_error(
            "version: 1\nexceptions:\n  - rules: [no-latest-tag]\n    paths: [\"**\"]\n    reason: r\n    until: 2027-01-01\n",
            6,
            5,
            &["unknown key `until` in an exception", "rules, paths, images, reason, expires, relative_to"],
        );
    }

    #[test]
    fn exception_naming_an_unknown_rule() {
        one_error(
            "version: 1\nexceptions:\n  - rules: [no-latest-tag, non-rot-user]\n    paths: [\"**\"]\n    reason: r\n",
            3,
            28,
            &["unknown rule `non-rot-user`; did you mean `non-root-user`?"],
        );
        one_error(
            "version: 1\nexceptions:\n  - rules: [ACME002]\n    paths: [\"**\"]\n    reason: r\n",
            3,
            13,
            &["unknown rule `ACME002`", "custom rule id"],
        );
    }

    #[test]
    fn bad_dates() {
        let src = |date: &str| {
            format!("version: 1\nexceptions:\n  - rules: [no-latest-tag]\n    paths: [\"**\"]\n    reason: r\n    expires: {date}\n")
        };
        one_error(
            &src("2027-02-30"),
            6,
            14,
            &[
                "invalid date `2027-02-30`",
                "2027-02 has no day 30",
                "YYYY-MM-DD",
            ],
        );
        one_error(
            &src("31/01/2027"),
            6,
            14,
            &["invalid date `31/01/2027`", "YYYY-MM-DD"],
        );
        one_error(
            &src("[2027]"),
            6,
            14,
            &["`expires` of an exception must be a string"],
        );
    }

    #[test]
    fn bad_regex_points_into_the_pattern() {
        let src = |pattern: &str| {
            format!("version: 1\ncustom:\n  - id: ACME001\n    message: m\n    severity: high\n    pattern: {pattern}\n")
        };
        // An unclosed group is reported where the pattern ends.
        one_error(&src("'abc(def'"), 6, 22, &["invalid regex", "parenthesis"]);
        one_error(&src("abc(def"), 6, 21, &["invalid regex", "parenthesis"]);
        one_error(&src("'ab\\qc'"), 6, 17, &["invalid regex", "escape"]);
        // With escapes in the YAML the offset no longer maps onto columns: say it instead.
        one_error(
            &src("\"a\\tb\\\\q\""),
            6,
            14,
            &["invalid regex", "at character 4 of the pattern"],
        );
        one_error(
            &src("\"a\\tb(\""),
            6,
            14,
            &["invalid regex", "at the end of the pattern"],
        );
    }

    #[test]
    fn custom_rule_ids_are_checked() {
        let src = |id: &str| {
            format!("version: 1\ncustom:\n  - id: {id}\n    message: m\n    severity: high\n    pattern: x\n")
        };
        one_error(
            &src("acme-1"),
            3,
            9,
            &["custom rule id `acme-1` must match [A-Z][A-Z0-9_-]*"],
        );
        one_error(
            &src("PT0001"),
            3,
            9,
            &["custom rule id `PT0001` is already used by built-in rule `PT0001`"],
        );
        one_error(
            &src("DL3007"),
            3,
            9,
            &["`DL3007` is already used by built-in rule `PT0001`"],
        );
    }

    #[test]
    fn custom_rule_fields_are_checked() {
        one_error(
            "version: 1\ncustom:\n  - id: ACME001\n    message: m\n    severity: high\n",
            3,
            5,
            &["missing `pattern` in a custom rule"],
        );
        one_error(
            "version: 1\ncustom:\n  - id: ACME001\n    message: m\n    severity: high\n    pattern: x\n    instruction: PIP\n",
            7,
            18,
            &["unknown Dockerfile instruction `PIP`", "ADD, ARG", "RUN"],
        );
        one_error(
            "version: 1\ncustom:\n  - id: ACME001\n    message: m\n    severity: high\n    pattern: x\n    regex: y\n",
            7,
            5,
            &["unknown key `regex` in a custom rule", "id, message, severity, instruction, pattern"],
        );
    }

    #[test]
    fn duplicate_custom_ids_are_reported_at_the_second() {
        let src = "version: 1\ncustom:\n  - { id: ACME001, message: m, severity: high, pattern: x }\n  - { id: ACME001, message: n, severity: low, pattern: y }\n";
        one_error(
            src,
            4,
            5,
            &["custom rule id `ACME001` is already defined at p.yaml:3:5"],
        );
    }

    #[test]
    fn collects_every_error_sorted_by_position() {
        let src = "version: 1\nrules:\n  no-latst-tag: high\n  allowed-registries:\n    alow: []\nfial_on: high\ncustom:\n  - id: lower\n";
        let errors: Vec<String> = check(src).iter().map(|e| e.to_string()).collect();
        let positions: Vec<&str> = errors
            .iter()
            .map(|e| e.split(": ").next().unwrap_or_default())
            .collect();
        assert_eq!(
            positions,
            [
                "p.yaml:3:3",
                "p.yaml:5:5",
                "p.yaml:6:1",
                "p.yaml:8:5",
                "p.yaml:8:5",
                "p.yaml:8:5",
                "p.yaml:8:9"
            ],
            "{errors:#?}"
        );
    }

    #[test]
    fn nearest_ignores_distant_candidates() {
        assert_eq!(
            nearest("fial_on", TOP_LEVEL_KEYS.iter().copied()),
            Some("fail_on")
        );
        assert_eq!(nearest("zzzzzzzz", TOP_LEVEL_KEYS.iter().copied()), None);
        assert_eq!(find_rule(RULES, "dl3007").map(|r| r.id), Some("PT0001"));
    }
}
