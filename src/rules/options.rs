//! Rule options: each rule declares the options it accepts; the policy validator checks
//! a user's values against these declarations (with spans) and hands the rule typed values.

use std::collections::BTreeMap;

/// The type of a rule option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionKind {
    Bool,
    Integer,
    String,
    StringList,
    /// A list of registry/path globs (`*` one segment, `**` any number), validated at load.
    GlobList,
    /// A mapping of string keys to string values (e.g. a label schema).
    StringMap,
    /// One of a few words: the description (`` `deny` or `allow` ``) and the words.
    Word(&'static str, &'static [&'static str]),
    /// `trust-required`'s `verify` entries (see [`crate::policy::trust`]).
    Verify,
}

impl OptionKind {
    pub fn describe(self) -> &'static str {
        match self {
            OptionKind::Bool => "a boolean (true or false)",
            OptionKind::Integer => "an integer",
            OptionKind::String => "a string",
            OptionKind::StringList => "a list of strings",
            OptionKind::GlobList => "a list of globs",
            OptionKind::StringMap => "a mapping of strings to strings",
            OptionKind::Word(description, _) => description,
            OptionKind::Verify => "a list of `verify` entries (`images` and `cosign`)",
        }
    }
}

/// One option a rule accepts.
#[derive(Debug, Clone, Copy)]
pub struct OptionSpec {
    pub name: &'static str,
    pub kind: OptionKind,
    pub doc: &'static str,
}

/// The option every policy rule takes (`Rule::policy_rule`): whether an inline pragma in the
/// Dockerfile may waive it (by default only the policy's exceptions may).
pub const INLINE_IGNORE: OptionSpec = OptionSpec {
    name: "inline_ignore",
    kind: OptionKind::Bool,
    doc: "Whether `# portcullis ignore=` / `# hadolint ignore=` in a Dockerfile may silence this policy rule (default `false`: only the policy's `exceptions` waive it).",
};

/// A validated option value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionValue {
    Bool(bool),
    Integer(i64),
    String(String),
    List(Vec<String>),
    Map(BTreeMap<String, String>),
    Verify(crate::policy::trust::VerifyPolicy),
}

/// The options a policy gave one rule, already checked against its [`OptionSpec`]s.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleOptions {
    pub values: BTreeMap<String, OptionValue>,
}

impl RuleOptions {
    pub fn list(&self, name: &str) -> &[String] {
        match self.values.get(name) {
            Some(OptionValue::List(items)) => items,
            _ => &[],
        }
    }

    pub fn has(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    pub fn verify(&self, name: &str) -> Option<&crate::policy::trust::VerifyPolicy> {
        match self.values.get(name) {
            Some(OptionValue::Verify(policy)) => Some(policy),
            _ => None,
        }
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        match self.values.get(name) {
            Some(OptionValue::Bool(b)) => Some(*b),
            _ => None,
        }
    }

    pub fn integer(&self, name: &str) -> Option<i64> {
        match self.values.get(name) {
            Some(OptionValue::Integer(i)) => Some(*i),
            _ => None,
        }
    }

    pub fn string(&self, name: &str) -> Option<&str> {
        match self.values.get(name) {
            Some(OptionValue::String(s)) => Some(s),
            _ => None,
        }
    }

    pub fn map(&self, name: &str) -> Option<&BTreeMap<String, String>> {
        match self.values.get(name) {
            Some(OptionValue::Map(m)) => Some(m),
            _ => None,
        }
    }
}
