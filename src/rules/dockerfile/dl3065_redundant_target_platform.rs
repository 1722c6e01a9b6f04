use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// `FROM --platform=$TARGETPLATFORM` is redundant.
    ///
    /// Flags `FROM --platform=$TARGETPLATFORM`, also written `${TARGETPLATFORM}` or with a
    /// default (`${TARGETPLATFORM:-linux/amd64}`, which never applies: BuildKit always sets
    /// the variable).
    ///
    /// ## Why
    /// Every stage is built for the target platform unless told otherwise, so the flag says
    /// nothing, and readers take it for the `$BUILDPLATFORM` cross-compilation pattern it
    /// resembles. Drop it.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM --platform=$TARGETPLATFORM alpine:3.20
    /// ```
    /// Leave the default:
    /// ```dockerfile
    /// FROM alpine:3.20
    /// ```
    pub static RULE = Rule {
        id: "DL3065",
        name: "redundant-target-platform",
        severity: Severity::Medium,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let file = &ctx.facts.file;
    for stage in &file.stages {
        let Some(from) = file.instructions.get(stage.from) else {
            continue;
        };
        let Some(platform) = from.flag("platform").and_then(|f| f.value.as_deref()) else {
            continue;
        };
        if is_target_platform(platform) {
            out.push(
                from.span,
                format!("`--platform={platform}` is the default for every stage; remove it"),
            );
        }
    }
}

/// Whether `value` is just `$TARGETPLATFORM` (`${TARGETPLATFORM}`, `${TARGETPLATFORM:-…}`).
fn is_target_platform(value: &str) -> bool {
    let value = value.trim_matches(|c| c == '"' || c == '\'');
    if value == "$TARGETPLATFORM" {
        return true;
    }
    let Some(inner) = value.strip_prefix("${").and_then(|v| v.strip_suffix('}')) else {
        return false;
    };
    match inner.strip_prefix("TARGETPLATFORM") {
        Some(rest) => rest.is_empty() || rest.starts_with(":-") || rest.starts_with('-'),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::lint;

    #[test]
    fn catches_target_platform() {
        for src in [
            "FROM --platform=$TARGETPLATFORM alpine:3.24\n",
            "FROM --platform=${TARGETPLATFORM} alpine:3.24\n",
            "FROM --platform=\"${TARGETPLATFORM}\" alpine:3.24\n",
            "FROM --platform=${TARGETPLATFORM:-linux/amd64} alpine:3.24 AS base\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
        }
    }

    #[test]
    fn does_not_catch_other_platforms() {
        for src in [
            "FROM alpine:3.24\n",
            "FROM --platform=$FOOBAR alpine:3.24\n",
            "FROM --platform=foobar/arm64 alpine:3.24\n",
            "FROM --platform=$BUILDPLATFORM golang:1.22\n",
            "FROM --platform=${TARGETPLATFORMX} alpine:3.24\n",
            "FROM --platform=${TARGETPLATFORM:+linux/arm64} alpine:3.24\n",
            "FROM --platform=$TARGETOS/$TARGETARCH alpine:3.24\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
