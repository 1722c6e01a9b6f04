use super::util::{check_typed_labels, LABEL_SCHEMA};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// A label the label schema types as `semver` is not a semantic version.
    ///
    /// Checks the labels the label schema gives type `semver`, as the built image gets them
    /// (the last `LABEL` of the final stage or a stage it is built `FROM`). The value must
    /// follow Semantic Versioning 2.0.0: `MAJOR.MINOR.PATCH` without leading zeros, optionally
    /// with a pre-release (`-rc.1`) and build metadata (`+build.5`); no `v` prefix. Values
    /// from variables are resolved from the stage's `ARG`s and `ENV`s; ones without a known
    /// value are not judged, and empty ones are `DL3051`'s.
    ///
    /// ## Why
    /// Tools that compare versions (update bots, deployment gates, SBOMs) parse
    /// `org.opencontainers.image.version` as a semantic version when told to. `v1.2`,
    /// `1.2` or `latest` sort wrongly or not at all.
    ///
    /// ## Example
    /// With `label_schema: {org.opencontainers.image.version: semver}` in the policy:
    /// ```dockerfile
    /// FROM alpine:3.20
    /// LABEL org.opencontainers.image.version="v1.4"
    /// ```
    /// Use a full semantic version:
    /// ```dockerfile
    /// FROM alpine:3.20
    /// LABEL org.opencontainers.image.version="1.4.0"
    /// ```
    pub static RULE = Rule {
        id: "DL3056",
        name: "invalid-semver-label",
        severity: Severity::Medium,
        options: &[LABEL_SCHEMA],
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    check_typed_labels(
        ctx,
        out,
        "semver",
        is_semver,
        "is not a semantic version (MAJOR.MINOR.PATCH, like 1.4.0)",
    );
}

/// Semantic Versioning 2.0.0.
fn is_semver(value: &str) -> bool {
    let (rest, build) = match value.split_once('+') {
        Some((rest, build)) => (rest, Some(build)),
        None => (value, None),
    };
    let (core, pre) = match rest.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (rest, None),
    };
    let numbers: Vec<&str> = core.split('.').collect();
    if numbers.len() != 3 || !numbers.iter().all(|n| is_numeric_identifier(n)) {
        return false;
    }
    let pre_ok = pre.is_none_or(|pre| {
        pre.split('.').all(|id| {
            is_identifier(id)
                && (!id.bytes().all(|b| b.is_ascii_digit()) || is_numeric_identifier(id))
        })
    });
    let build_ok = build.is_none_or(|build| build.split('.').all(is_identifier));
    pre_ok && build_ok
}

/// Digits without a leading zero (or just `0`).
fn is_numeric_identifier(text: &str) -> bool {
    !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'))
}

fn is_identifier(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::{is_semver, RULE};
    use crate::rules::dockerfile::testing::{lint_with, map};

    const VERSION: &str = "org.opencontainers.image.version";

    #[test]
    fn catches_non_semver() {
        let schema = [("schema", map(&[(VERSION, "semver")]))];
        let src = "FROM a\nLABEL org.opencontainers.image.version=v1.4\n";
        assert_eq!(lint_with(&RULE, src, &schema), vec![2]);
        for bad in [
            "1.2",
            "v1.2.3",
            "01.2.3",
            "1.2.3-",
            "1.2.3-01",
            "1.2.3+",
            "1.2.3-a..b",
            "latest",
            "1.2.3.4",
        ] {
            assert!(!is_semver(bad), "{bad}");
        }
    }

    #[test]
    fn does_not_catch_semver_or_unknowns() {
        let schema = [("schema", map(&[(VERSION, "semver")]))];
        for src in [
            "FROM a\nLABEL org.opencontainers.image.version=1.4.0\n",
            "FROM a\nARG VERSION\nLABEL org.opencontainers.image.version=$VERSION\n",
            "FROM a\nARG VERSION=2.0.0-rc.1\nLABEL org.opencontainers.image.version=${VERSION}\n",
        ] {
            assert_eq!(lint_with(&RULE, src, &schema), Vec::<usize>::new(), "{src}");
        }
        for good in [
            "0.0.0",
            "1.2.3-alpha.1",
            "1.2.3-0.3.7",
            "1.2.3-x-y-z.--",
            "1.2.3+20130313144700",
            "1.0.0-beta+exp.sha.5114f85",
        ] {
            assert!(is_semver(good), "{good}");
        }
    }
}
