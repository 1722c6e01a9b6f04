use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// `FROM --platform=$TARGETPLATFORM` is redundant.
    ///
    /// Flags `FROM --platform=$TARGETPLATFORM` and `--platform=${TARGETPLATFORM}`, quoted or
    /// not, also after a global `ARG TARGETPLATFORM` (declaring the predefined argument
    /// changes nothing). Left alone: a default (`${TARGETPLATFORM:-linux/amd64}`), which
    /// changes what a builder that does not predefine the variable builds; a variable of
    /// another name, which a `--build-arg` can change; and `$TARGETOS/$TARGETARCH`, which
    /// drops the variant (`linux/arm/v7` becomes `linux/arm`).
    ///
    /// ## Why
    /// Every stage is built for the target platform unless its `FROM` says otherwise, so the
    /// flag changes nothing. It does mislead: readers take it for the `$BUILDPLATFORM`
    /// cross-compilation pattern it resembles, or think the stage is pinned to something.
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
                format!(
                    "`--platform={platform}` is what every stage is built for anyway; remove it"
                ),
            );
        }
    }
}

/// Whether a flag value (quotes already removed) is exactly the predefined
/// `$TARGETPLATFORM` (`${TARGETPLATFORM}`).
fn is_target_platform(value: &str) -> bool {
    matches!(value.trim(), "$TARGETPLATFORM" | "${TARGETPLATFORM}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::{lint, messages};

    #[test]
    fn catches_target_platform() {
        for src in [
            "FROM --platform=$TARGETPLATFORM alpine:3.24\n",
            "FROM --platform=${TARGETPLATFORM} alpine:3.24\n",
            "FROM --platform=$TARGETPLATFORM alpine:3.24 AS base\nRUN true\n",
            "ARG TARGETPLATFORM\nFROM --platform=$TARGETPLATFORM alpine:3.24\n",
            "# escape=`\nFROM --platform=$TARGETPLATFORM mcr.microsoft.com/windows/nanoserver:ltsc2022\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
        }
        assert_eq!(
            messages(&RULE, "FROM --platform=${TARGETPLATFORM} alpine:3.24\n"),
            vec![
                "`--platform=${TARGETPLATFORM}` is what every stage is built for anyway; remove it"
            ]
        );
        let src = "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\n\
                   FROM --platform=$TARGETPLATFORM alpine:3.24\n";
        assert_eq!(lint(&RULE, src), vec![2]);
    }

    /// hadolint misses the quoted form; BuildKit removes the quotes.
    #[test]
    fn catches_quoted_target_platform() {
        let src = "FROM --platform=\"${TARGETPLATFORM}\" alpine:3.24\n";
        assert_eq!(lint(&RULE, src), vec![1]);
    }

    #[test]
    fn does_not_catch_other_platforms() {
        for src in [
            "FROM alpine:3.24\n",
            "FROM --platform=$FOOBAR alpine:3.24\n",
            "FROM --platform=foobar/arm64 alpine:3.24\n",
            "FROM --platform=linux/amd64 alpine:3.24\n",
            "FROM --platform=$BUILDPLATFORM golang:1.22\n",
            "FROM --platform=${TARGETPLATFORMX} alpine:3.24\n",
            "FROM --platform=$targetplatform alpine:3.24\n",
            "FROM --platform=${TARGETPLATFORM:-linux/amd64} alpine:3.24\n",
            "FROM --platform=${TARGETPLATFORM:+linux/arm64} alpine:3.24\n",
            "FROM --platform=$TARGETOS/$TARGETARCH alpine:3.24\n",
            "ARG PLATFORM=$TARGETPLATFORM\nFROM --platform=$PLATFORM alpine:3.24\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
