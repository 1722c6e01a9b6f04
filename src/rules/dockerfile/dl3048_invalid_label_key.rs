use super::util::image_labels;
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// A label key that breaks Docker's naming guidelines.
    ///
    /// Label keys should start with a lower-case letter, end with a lower-case letter or a
    /// digit, contain only lower-case letters, digits, `.`, `-`, `_` and `/` (Docker's
    /// documented key characters), never two `.` or `-` in a row, and stay out of the
    /// namespaces Docker reserves (`com.docker.*`, `io.docker.*`, `org.dockerproject.*`).
    /// Checks the labels of the built image (the final stage and the stages it is built
    /// `FROM`), keys from variables after resolving them.
    ///
    /// ## Why
    /// Tools that read labels (registries, scanners, orchestrators) match keys exactly, and
    /// reverse-DNS lower-case keys (`org.opencontainers.image.source`) are what they expect.
    /// `Version`, `VERSION` and `version` end up as three different labels.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM alpine:3.20
    /// LABEL Build_Date="2024-06-01"
    /// ```
    /// Use the standard key:
    /// ```dockerfile
    /// FROM alpine:3.20
    /// LABEL org.opencontainers.image.created="2024-06-01T12:00:00Z"
    /// ```
    pub static RULE = Rule {
        id: "DL3048",
        name: "invalid-label-key",
        severity: Severity::Info,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    for (key, label) in image_labels(ctx.facts) {
        if let Some(problem) = key_problem(&key) {
            out.push(label.span, format!("label key `{key}` {problem}"));
        }
    }
}

/// What is wrong with `key`, if anything.
fn key_problem(key: &str) -> Option<&'static str> {
    let first = key.chars().next()?;
    let last = key.chars().last()?;
    if !first.is_ascii_lowercase() {
        return Some("should start with a lower-case letter");
    }
    if !(last.is_ascii_lowercase() || last.is_ascii_digit()) {
        return Some("should end with a lower-case letter or a digit");
    }
    if !key
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_' | '/'))
    {
        return Some("should contain only lower-case letters, digits, `.`, `-`, `_` and `/`");
    }
    if key.contains("..") || key.contains("--") || key.contains(".-") || key.contains("-.") {
        return Some("should not have two separators in a row");
    }
    if ["com.docker.", "io.docker.", "org.dockerproject."]
        .iter()
        .any(|reserved| key.starts_with(reserved))
    {
        return Some("uses a namespace reserved by Docker");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::dockerfile::testing::{lint, messages};

    #[test]
    fn catches_bad_keys() {
        for src in [
            "FROM a\nLABEL Maintainer=x\n",
            "FROM a\nLABEL build@date=x\n",
            "FROM a\nLABEL org.example:key=x\n",
            "FROM a\nLABEL _private=x\n",
            "FROM a\nLABEL org.example.=x\n",
            "FROM a\nLABEL org..example=x\n",
            "FROM a\nLABEL 1abc=x\n",
            "FROM a\nLABEL com.docker.compose.project=x\n",
            "FROM a\nARG K=Bad_Key\nLABEL $K=x\n",
            "FROM a\nLABEL \"org.Example\"=\"x\"\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "{src}");
        }
        assert_eq!(
            messages(&RULE, "FROM a\nLABEL version=1 Version=2\n"),
            vec!["label key `Version` should start with a lower-case letter"]
        );
    }

    #[test]
    fn does_not_catch_good_keys_or_build_stages() {
        for src in [
            "FROM a\nLABEL org.opencontainers.image.source=https://x maintainer=me version2=1\n",
            "FROM a\nLABEL description \"a legacy-form label\"\n",
            // Docker documents `_` and `/` as key characters; hadolint 2.15 accepts them too.
            "FROM a\nLABEL build_date=x com.example.my/with_underscore=y\n",
            "FROM a AS build\nLABEL Bad_Key=1\nFROM b\nCOPY --from=build /x /x\n",
            "FROM a\nLABEL $UNKNOWN=x\n",
            "FROM a\nONBUILD LABEL Bad_Key=1\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "{src}");
        }
    }
}
