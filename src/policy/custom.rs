//! Custom rules: a policy's own regex checks over Dockerfile instructions.
//! Validated and stored here; matching them against Dockerfiles is the engine's job.

use super::Origin;
use crate::dockerfile::Keyword;
use crate::finding::Severity;

/// Instruction names accepted in `instruction:`, for error messages.
pub(crate) const INSTRUCTIONS: &[&str] = &[
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// One `custom:` entry.
#[derive(Debug, Clone)]
pub struct CustomRule {
    /// `[A-Z][A-Z0-9_-]*`, distinct from every built-in code and alias.
    pub id: String,
    pub message: String,
    pub severity: Severity,
    /// Only instructions with this keyword are matched; `None` matches every instruction.
    pub instruction: Option<Keyword>,
    /// Compiled with `fancy-regex`, so look-around and backreferences work.
    pub pattern: fancy_regex::Regex,
    pub origin: Origin,
}

impl PartialEq for CustomRule {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && self.message == other.message
            && self.severity == other.severity
            && self.instruction == other.instruction
            && self.pattern.as_str() == other.pattern.as_str()
    }
}

/// Whether `id` has the shape of a custom rule id.
pub(crate) fn is_valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instruction_list_matches_the_parser() {
        for name in INSTRUCTIONS {
            let keyword = Keyword::parse(name).unwrap();
            assert_eq!(keyword.as_str(), *name);
        }
    }

    #[test]
    fn ids_have_a_fixed_shape() {
        for ok in ["ACME001", "A", "X_1-2"] {
            assert!(is_valid_id(ok), "{ok}");
        }
        for bad in ["", "acme001", "1ACME", "AC ME", "ACMÉ", "-A"] {
            assert!(!is_valid_id(bad), "{bad}");
        }
    }
}
