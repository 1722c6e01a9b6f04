use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// Stage named `scratch` or `context`.
    ///
    /// Flags `FROM … AS scratch` and `FROM … AS context` (in any case: BuildKit compares
    /// stage names case-insensitively).
    ///
    /// ## Why
    /// Both names already mean something to BuildKit: `scratch` is the empty image, and
    /// `context` names the build context in `COPY --from` and named build contexts. A stage
    /// called that way is at best confusing (`FROM scratch` still means the empty image) and
    /// at worst silently not the thing a later `--from` gets.
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
        let meaning = if name == "scratch" {
            "the empty image"
        } else {
            "the build context"
        };
        out.push(
            from.span,
            format!(
                "stage name `{name}` is reserved: BuildKit reads it as {meaning}; rename the stage"
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::lint;

    #[test]
    fn catches_reserved_names() {
        for src in [
            "FROM debian:bullseye AS context\n",
            "FROM debian:bullseye AS scratch\n",
            "FROM debian:bullseye as Scratch\nRUN true\n",
            "FROM alpine AS base\nFROM base AS CONTEXT\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
        }
        assert_eq!(lint(&RULE, "FROM a AS x\nFROM b AS scratch\n"), vec![2]);
    }

    #[test]
    fn does_not_catch_other_names() {
        for src in [
            "FROM debian:bullseye AS build\n",
            "FROM scratch\n",
            "FROM debian AS scratch-base\nFROM scratch AS final\n",
            "FROM debian AS build-context\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
