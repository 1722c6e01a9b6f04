//! Policy errors. Each names the file, line and column, what was wrong and what is allowed;
//! a load collects every error of every file in the `extends` chain, like a compiler.

use crate::finding::Span;
use std::fmt;

/// One problem in a policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    /// The file as the user named it (`.portcullis.yaml`, `ci/base.yaml`, `builtin:strict`).
    pub file: String,
    /// Where in the file; `None` when the problem is the file as a whole (unreadable, too big).
    pub span: Option<Span>,
    pub kind: ErrorKind,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.span {
            Some(span) => write!(
                f,
                "{}:{}:{}: {}",
                self.file, span.line, span.column, self.kind
            ),
            None => write!(f, "{}: {}", self.file, self.kind),
        }
    }
}

impl std::error::Error for PolicyError {}

/// Every problem found while loading a policy, in file order (the loaded file first, then
/// the files it extends), each file's errors sorted by position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyErrors(pub Vec<PolicyError>);

impl PolicyErrors {
    pub fn iter(&self) -> std::slice::Iter<'_, PolicyError> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn single(file: impl Into<String>, kind: ErrorKind) -> Self {
        PolicyErrors(vec![PolicyError {
            file: file.into(),
            span: None,
            kind,
        }])
    }
}

impl fmt::Display for PolicyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PolicyErrors {}

impl IntoIterator for PolicyErrors {
    type Item = PolicyError;
    type IntoIter = std::vec::IntoIter<PolicyError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// What was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    #[error("cannot read policy file: {reason}")]
    Unreadable { reason: String },
    #[error("policy file is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("{what} {reason}")]
    Trust { what: String, reason: String },
    #[error("invalid YAML: {0}")]
    Syntax(String),
    #[error("YAML nested deeper than {limit} levels")]
    TooDeep { limit: usize },
    #[error("YAML aliases (`*name`) are not supported in policies; write the value out")]
    Alias,
    #[error(
        "YAML tags (`{tag}`) are not supported in policies; quote the value to make it a string"
    )]
    Tag { tag: String },
    #[error("a policy file holds one YAML document; remove the second `---`")]
    MultipleDocuments,
    #[error("mapping keys must be strings")]
    NonScalarKey,
    #[error("duplicate key `{key}` (first given on line {first_line})")]
    DuplicateKey { key: String, first_line: usize },
    #[error("unknown key `{key}` in {section}{}; expected one of: {}", did_you_mean(.suggestion.as_deref()), .valid.join(", "))]
    UnknownKey {
        key: String,
        section: &'static str,
        suggestion: Option<&'static str>,
        valid: &'static [&'static str],
    },
    #[error("missing `{key}` in {section}{hint}")]
    MissingKey {
        key: &'static str,
        section: &'static str,
        /// Extra advice, starting with `; ` when present.
        hint: &'static str,
    },
    #[error("{what} must be {expected}, found {found}")]
    WrongType {
        what: String,
        expected: &'static str,
        found: String,
    },
    #[error("{what} must not be empty")]
    Empty { what: String },
    #[error("{what} must be at least {min}, found {found}")]
    TooSmall {
        what: String,
        min: u64,
        found: String,
    },
    #[error("unsupported policy version `{found}`; this portcullis reads version 1")]
    UnsupportedVersion { found: String },
    #[error("unknown severity `{value}`{}; expected {}", did_you_mean(.suggestion.as_deref()), severity_choices(.allow_off))]
    BadSeverity {
        value: String,
        suggestion: Option<&'static str>,
        /// Whether `off`/`on` are allowed here (a rule's value) or only severities.
        allow_off: bool,
    },
    #[error("unknown {what} `{value}`; expected one of: {choices}")]
    BadChoice {
        what: &'static str,
        value: String,
        choices: &'static str,
    },
    #[error("unknown label type `{value}` for label `{label}` in {within}{}; expected one of: {}", did_you_mean(.suggestion.as_deref()), crate::policy::validate::LABEL_TYPES.join(", "))]
    BadLabelType {
        label: String,
        value: String,
        /// The schema, e.g. "`label_schema`".
        within: String,
        suggestion: Option<&'static str>,
    },
    #[error("unknown rule `{key}`{}", unknown_rule_hint(.suggestion.as_deref(), .custom_allowed))]
    UnknownRule {
        key: String,
        suggestion: Option<String>,
        /// Whether custom rule ids are allowed here (exceptions) or only built-in rules.
        custom_allowed: bool,
    },
    #[error("rule `{key}` is the same rule as `{first_key}` on line {first_line} ({rule}); configure it once")]
    DuplicateRule {
        key: String,
        rule: &'static str,
        first_key: String,
        first_line: usize,
    },
    #[error("rule `{rule}` has no option `{key}`{}; {}", did_you_mean(.suggestion.as_deref()), list_options(.valid))]
    UnknownOption {
        rule: &'static str,
        key: String,
        suggestion: Option<&'static str>,
        valid: Vec<&'static str>,
    },
    #[error("invalid glob `{pattern}`: {reason}")]
    InvalidGlob { pattern: String, reason: String },
    #[error(
        "an exception needs `paths` or `images`; use `paths: [\"**\"]` to cover every Dockerfile"
    )]
    ExceptionWithoutScope,
    #[error("invalid date `{value}`: {reason}; expected YYYY-MM-DD")]
    BadDate { value: String, reason: String },
    #[error("invalid regex: {reason}")]
    BadRegex { reason: String },
    #[error("custom rule id `{id}` must match [A-Z][A-Z0-9_-]* (e.g. ACME001)")]
    BadCustomId { id: String },
    #[error("custom rule id `{id}` is already used by built-in rule `{rule}`")]
    CustomIdCollision { id: String, rule: &'static str },
    #[error("custom rule id `{id}` is already defined at {first}")]
    DuplicateCustomId { id: String, first: String },
    #[error("unknown Dockerfile instruction `{value}`; expected one of: {}", crate::policy::custom::INSTRUCTIONS.join(", "))]
    UnknownInstruction { value: String },
    #[error("`extends` cycle: {}", .chain.join(" → "))]
    ExtendsCycle { chain: Vec<String> },
    #[error("`extends` chain is deeper than {limit} files")]
    ExtendsTooDeep { limit: usize },
    #[error("cannot read extended policy `{target}`: {reason}; `extends` takes a preset ({}) or a path relative to this file", crate::policy::PRESETS.join(", "))]
    ExtendsUnreadable { target: String, reason: String },
    #[error("unknown preset `{name}`; expected one of: {}", crate::policy::PRESETS.join(", "))]
    UnknownPreset { name: String },
    #[error("both `.portcullis.yaml` and `.portcullis.yml` exist; remove one")]
    AmbiguousPolicyFile,
}

fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default()
}

fn severity_choices(allow_off: &bool) -> String {
    if *allow_off {
        format!(
            "`off`, `on`, a mapping, or a severity: {}",
            crate::finding::Severity::choices()
        )
    } else {
        format!("one of {}", crate::finding::Severity::choices())
    }
}

fn unknown_rule_hint(suggestion: Option<&str>, custom_allowed: &bool) -> String {
    match suggestion {
        Some(s) => did_you_mean(Some(s)),
        None if *custom_allowed => {
            "; expected a rule code, name or alias, or a custom rule id".to_string()
        }
        None => {
            "; expected a rule code (PC1002), name (no-latest-tag) or alias (DL3007)".to_string()
        }
    }
}

fn list_options(valid: &[&str]) -> String {
    if valid.is_empty() {
        "it takes only `severity`".to_string()
    } else {
        format!("its options are: severity, {}", valid.join(", "))
    }
}

/// Collects the errors of one file.
#[derive(Debug)]
pub(crate) struct Diags {
    pub file: String,
    pub errors: Vec<PolicyError>,
}

impl Diags {
    pub fn new(file: impl Into<String>) -> Self {
        Diags {
            file: file.into(),
            errors: Vec::new(),
        }
    }

    pub fn push(&mut self, span: Span, kind: ErrorKind) {
        self.errors.push(PolicyError {
            file: self.file.clone(),
            span: Some(span),
            kind,
        });
    }

    pub fn push_whole_file(&mut self, kind: ErrorKind) {
        self.errors.push(PolicyError {
            file: self.file.clone(),
            span: None,
            kind,
        });
    }

    /// The errors sorted by position (file-wide errors first).
    pub fn into_sorted(mut self) -> Vec<PolicyError> {
        self.errors.sort_by_key(|e| e.span);
        self.errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_file_line_column_and_message() {
        let mut diags = Diags::new(".portcullis.yaml");
        diags.push(
            Span::point(7, 5),
            ErrorKind::UnknownRule {
                key: "no-latst-tag".into(),
                suggestion: Some("no-latest-tag".into()),
                custom_allowed: false,
            },
        );
        let errors = PolicyErrors(diags.into_sorted());
        assert_eq!(
            errors.to_string(),
            ".portcullis.yaml:7:5: unknown rule `no-latst-tag`; did you mean `no-latest-tag`?"
        );
    }

    #[test]
    fn whole_file_errors_have_no_position() {
        let errors = PolicyErrors::single("p.yaml", ErrorKind::TooLarge { limit: 10 });
        assert_eq!(
            errors.to_string(),
            "p.yaml: policy file is larger than 10 bytes"
        );
    }
}
