use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// `FROM --platform=` with a fixed platform.
    ///
    /// Flags `FROM --platform=linux/amd64` and other literal values. A value from a variable
    /// is the recommended multi-platform pattern and passes: `--platform=$BUILDPLATFORM` runs
    /// a build stage natively while cross-compiling for `$TARGETPLATFORM`, and a variable of
    /// your own is set by the builder. So is a stage whose name says which architecture it
    /// is for (`FROM --platform=linux/arm64 … AS base-arm64`), the pattern for picking
    /// per-architecture stages with `FROM base-${TARGETARCH}`.
    ///
    /// ## Why
    /// A fixed platform pins the image to one architecture: a build for `linux/arm64` quietly
    /// gets `amd64` binaries that then run under emulation, or not at all. Let the builder's
    /// `--platform` decide.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM --platform=linux/amd64 golang:1.22 AS build
    /// ```
    /// Build natively and cross-compile:
    /// ```dockerfile
    /// FROM --platform=$BUILDPLATFORM golang:1.22 AS build
    /// ARG TARGETOS TARGETARCH
    /// RUN GOOS=$TARGETOS GOARCH=$TARGETARCH go build -o /out/app .
    /// ```
    pub static RULE = Rule {
        id: "DL3029",
        name: "hardcoded-platform",
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
        if platform.is_empty()
            || platform.contains('$')
            || named_for(stage.name.as_deref(), platform)
        {
            continue;
        }
        out.push(
            from.span,
            format!(
                "FROM --platform={platform} fixes the platform; leave it to the builder, or use \
                 $BUILDPLATFORM for build stages that cross-compile"
            ),
        );
    }
}

/// Whether the stage's name says which architecture it is for (`AS base-arm64` with
/// `linux/arm64`): per-architecture stages picked with `FROM base-${TARGETARCH}` pin their
/// platform on purpose.
fn named_for(stage: Option<&str>, platform: &str) -> bool {
    let Some(arch) = platform.split('/').nth(1).filter(|a| !a.is_empty()) else {
        return false;
    };
    let arch = arch.to_ascii_lowercase();
    stage.is_some_and(|name| name.split(['-', '_', '.']).any(|part| part == arch))
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::dockerfile::testing::lint;

    #[test]
    fn catches_fixed_platform() {
        assert_eq!(lint(&RULE, "FROM --platform=linux debian:12\n"), vec![1]);
        assert_eq!(
            lint(
                &RULE,
                "FROM alpine AS a\nFROM --platform=\"linux/arm64\" alpine\n"
            ),
            vec![2]
        );
    }

    #[test]
    fn does_not_catch_variables_or_no_platform() {
        for src in [
            "FROM debian:12\n",
            "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\n",
            "FROM --platform=${TARGETPLATFORM} alpine\n",
            "ARG P=linux/amd64\nFROM --platform=$P alpine\n",
            "FROM --platform=linux/amd64 alpine AS base-amd64\nFROM --platform=linux/arm64 alpine AS base-arm64\nFROM base-${TARGETARCH}\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "{src}");
        }
    }
}
