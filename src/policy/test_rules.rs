//! Rules for the policy tests: the real registry is filled by other modules, and policy
//! validation takes its rule list as a parameter so it can be tested on its own.

use super::error::PolicyError;
use crate::finding::Severity;
use crate::rules::{OptionKind, OptionSpec, Rule};
use std::path::Path;

crate::declare_rule! {
    /// Test rule without options, with a hadolint alias.
    pub static NO_LATEST_TAG = Rule {
        id: "PT0001",
        name: "no-latest-tag",
        severity: Severity::High,
        aliases: &["DL3007"],
    };
}

crate::declare_rule! {
    /// Test rule with glob options.
    pub static ALLOWED_REGISTRIES = Rule {
        id: "PT0002",
        name: "allowed-registries",
        severity: Severity::Medium,
        options: &[
            OptionSpec { name: "allow", kind: OptionKind::GlobList, doc: "allowed" },
            OptionSpec { name: "deny", kind: OptionKind::GlobList, doc: "denied" },
        ],
    };
}

crate::declare_rule! {
    /// Test rule with one option of every kind.
    pub static EVERY_KIND = Rule {
        id: "PT0003",
        name: "every-kind",
        severity: Severity::Low,
        options: &[
            OptionSpec { name: "flag", kind: OptionKind::Bool, doc: "" },
            OptionSpec { name: "limit", kind: OptionKind::Integer, doc: "" },
            OptionSpec { name: "name", kind: OptionKind::String, doc: "" },
            OptionSpec { name: "words", kind: OptionKind::StringList, doc: "" },
            OptionSpec { name: "globs", kind: OptionKind::GlobList, doc: "" },
            OptionSpec { name: "labels", kind: OptionKind::StringMap, doc: "" },
        ],
    };
}

crate::declare_rule! {
    /// Test rule, medium by default.
    pub static NON_ROOT_USER = Rule {
        id: "PT0004",
        name: "non-root-user",
        severity: Severity::Medium,
    };
}

crate::declare_rule! {
    /// Test rule standing in for the real `require-digest`.
    pub static REQUIRE_DIGEST = Rule {
        id: "PT0005",
        name: "require-digest",
        severity: Severity::Low,
    };
}

pub static RULES: &[&Rule] = &[
    &NO_LATEST_TAG,
    &ALLOWED_REGISTRIES,
    &EVERY_KIND,
    &NON_ROOT_USER,
    &REQUIRE_DIGEST,
];

/// Loads `src` as `p.yaml` in a directory that need not exist (with the implicit
/// `extends: default` unless it says otherwise) and returns its errors.
pub fn check(src: &str) -> Vec<PolicyError> {
    match super::load::load_text(src, "p.yaml", Path::new("/virtual"), RULES) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.0,
    }
}
