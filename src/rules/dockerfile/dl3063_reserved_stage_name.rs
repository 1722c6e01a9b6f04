use crate::dockerfile::Args;
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// Stage named `scratch` or `context`.
    ///
    /// Flags `FROM … AS scratch` and `FROM … AS context`, in any case (`AS Scratch`): BuildKit
    /// lower-cases stage names before it compares them, so the case changes nothing.
    ///
    /// ## Why
    /// Both words already have a meaning in a build. `scratch` is the empty image, but
    /// BuildKit looks stage names up first: once a stage is called `scratch`, a later
    /// `FROM scratch` or `COPY --from=scratch` gets that stage and its files, not an empty
    /// filesystem, and nothing says so. `context` is the name BuildKit gives the build
    /// context itself. BuildKit's own check (`ReservedStageName`) warns about both.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM alpine:3.20 AS scratch
    /// ```
    /// Name the stage for what it does:
    /// ```dockerfile
    /// FROM alpine:3.20 AS base
    /// ```
    pub static RULE = Rule {
        id: "DL3063",
        name: "reserved-stage-name",
        severity: Severity::Medium,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let file = &ctx.facts.file;
    for stage in &file.stages {
        let Some(name @ ("scratch" | "context")) = stage.name.as_deref() else {
            continue;
        };
        let Some(from) = file.instructions.get(stage.from) else {
            continue;
        };
        let written = match &from.args {
            Args::From {
                alias: Some(alias), ..
            } => alias.as_str(),
            _ => name,
        };
        let clash = if name == "scratch" {
            "a later `FROM scratch` or `--from=scratch` would get this stage instead of the \
             empty image"
        } else {
            "BuildKit reserves it for the build context"
        };
        out.push(
            from.span,
            format!("stage name `{written}` is reserved: {clash}; rename the stage"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::{lint, messages};

    #[test]
    fn catches_reserved_names() {
        for src in [
            "FROM debian:bullseye AS context\n",
            "FROM debian:bullseye AS scratch\n",
            "FROM scratch AS scratch\nCOPY app /app\n",
            "FROM alpine AS base\nFROM base AS CONTEXT\n",
            "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022 AS context\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
        }
        assert_eq!(lint(&RULE, "FROM a AS x\nFROM b AS scratch\n"), vec![2]);
    }

    /// hadolint compares the name case-sensitively and misses these; BuildKit lower-cases
    /// stage names, so `Scratch` takes over `FROM scratch` just the same.
    #[test]
    fn catches_reserved_names_in_any_case() {
        assert_eq!(
            lint(&RULE, "FROM debian as Scratch\nFROM scratch\nRUN true\n"),
            vec![1]
        );
        assert_eq!(
            messages(&RULE, "FROM debian AS Scratch\n"),
            vec![
                "stage name `Scratch` is reserved: a later `FROM scratch` or `--from=scratch` \
                 would get this stage instead of the empty image; rename the stage"
            ]
        );
    }

    #[test]
    fn does_not_catch_other_names() {
        for src in [
            "FROM debian:bullseye AS build\n",
            "FROM scratch\n",
            "FROM debian AS scratch-base\nFROM scratch AS final\n",
            "FROM debian AS build-context\n",
            "FROM debian AS contexts\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
