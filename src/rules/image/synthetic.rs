//! Dockerfile rules over Dockerfile text made from an image: the image's build history is
//! written out as instructions, so the Dockerfile rules' detection (secrets, `curl | sh`,
//! `sudo`, …) judges images exactly as it judges Dockerfiles. (The image's `Env` is judged
//! by `crate::secrets` directly; the tests check it agrees with the rules on `ENV`.)

#[cfg(test)]
use crate::dockerfile::DockerfileFacts;
#[cfg(test)]
use crate::rules::{Check, Diagnostic, Diagnostics, DockerfileContext, RuleOptions};
#[cfg(test)]
use std::collections::BTreeMap;

#[cfg(test)]
/// Runs the Dockerfile check of the rule `id` over `source`. A rule that is unknown or has no
/// Dockerfile check reports nothing.
pub(crate) fn run_rule(id: &str, source: &str, options: &RuleOptions) -> Vec<Diagnostic> {
    let Some(rule) = crate::rules::lookup(id) else {
        return Vec::new();
    };
    let Check::Dockerfile(check) = rule.check else {
        return Vec::new();
    };
    let facts = DockerfileFacts::gather("(image)", source, &BTreeMap::new());
    let mut out = Diagnostics::default();
    check(
        &DockerfileContext {
            facts: &facts,
            options,
        },
        &mut out,
    );
    out.0
}

/// `value` as a double-quoted Dockerfile word that stays on one line. Image config values are
/// literal (nothing expands them), so `$` and backquotes, which Dockerfile rules read as
/// variable references, become `_`; control characters (newlines) become spaces.
pub(crate) fn quoted_literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '$' | '`' => out.push('_'),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
/// An environment variable name made safe for an `ENV` key: characters other than letters,
/// digits, `_`, `.` and `-` become `_` (the words of the name are kept).
pub(crate) fn env_key(name: &str) -> String {
    let key: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if key.is_empty() {
        "_".to_string()
    } else {
        key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_values_on_one_line() {
        assert_eq!(quoted_literal("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(quoted_literal("pa$$`x`\nz"), "\"pa___x_ z\"");
    }

    #[test]
    fn keys_keep_their_words() {
        assert_eq!(env_key("DB_PASSWORD"), "DB_PASSWORD");
        assert_eq!(env_key("my pass:word"), "my_pass_word");
        assert_eq!(env_key(""), "_");
    }

    #[test]
    fn runs_a_dockerfile_rule() {
        let found = run_rule(
            "DL3004",
            "FROM scratch\nRUN sudo apt-get update\n",
            &RuleOptions::default(),
        );
        assert_eq!(found.len(), 1);
        assert!(run_rule("NOPE", "FROM scratch\n", &RuleOptions::default()).is_empty());
    }
}
