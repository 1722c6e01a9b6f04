use super::util::stage_body;
use crate::dockerfile::shell::{run_scripts, SimpleCommand};
use crate::dockerfile::{Flag, Keyword};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// Consecutive `RUN` instructions that could be one.
    ///
    /// Reports a `RUN` that directly follows another `RUN` of the same stage (comments and
    /// blank lines between them do not matter) when both run a single command and use the
    /// same flags. A `RUN` that already chains several commands (`&&`, `;`, a heredoc
    /// script) shows the split is deliberate, and different `--mount`/`--network` flags
    /// cannot be merged, so neither is reported. As in hadolint, a test (`[ … ]`, `[[ … ]]`,
    /// `test`) is not counted as a command: `RUN [ -d /x ] && echo ok` and
    /// `RUN if [ -n "$P" ]; then echo "$P" >> f; fi` are one step each, and consecutive ones
    /// can be merged. Commands under a non-POSIX `SHELL` are not
    /// counted and not reported.
    ///
    /// ## Why
    /// Each `RUN` adds a layer. Files deleted in a later layer still ship in the earlier one,
    /// and many small layers make pulls slower. Merging related steps keeps the image smaller;
    /// split deliberately where a layer should be cached on its own.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM debian:12-slim
    /// RUN apt-get update
    /// RUN apt-get install -y --no-install-recommends curl
    /// ```
    /// Merge them:
    /// ```dockerfile
    /// FROM debian:12-slim
    /// RUN apt-get update \
    ///  && apt-get install -y --no-install-recommends curl
    /// ```
    pub static RULE = Rule {
        id: "DL3059",
        name: "consecutive-run-instructions",
        severity: Severity::Low,
        check: Check::Dockerfile(check),
    };
}

/// A condition rather than a step: `[ … ]`, `[[ … ]]`, `test …`.
fn is_test(command: &SimpleCommand) -> bool {
    matches!(command.program(), Some("[" | "[[" | "test"))
}

/// The `RUN` a following one would merge into.
struct Previous<'a> {
    flags: &'a [Flag],
    line: usize,
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    let scripts = run_scripts(&facts.file);
    let single_command = |index: usize| {
        scripts
            .iter()
            .find(|s| s.index == index && !s.onbuild)
            .is_some_and(|s| {
                let steps = s.script.commands.iter().filter(|c| !is_test(c)).count();
                steps <= 1
            })
    };
    for stage in &facts.file.stages {
        let mut previous: Option<Previous<'_>> = None;
        for (index, inst) in stage_body(facts, stage.index) {
            if inst.keyword != Keyword::Run || !single_command(index) {
                previous = None;
                continue;
            }
            match &mut previous {
                Some(prev) if prev.flags == inst.flags.as_slice() => {
                    out.push(
                        inst.span,
                        format!(
                            "this RUN directly follows the RUN at line {}; merge them (`&&` or a \
                             heredoc) to save a layer",
                            prev.line
                        ),
                    );
                    prev.line = inst.span.line;
                }
                _ => {
                    previous = Some(Previous {
                        flags: &inst.flags,
                        line: inst.span.line,
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::dockerfile::testing::{lint, messages};

    #[test]
    fn names_the_run_just_before() {
        assert_eq!(
            messages(&RULE, "FROM a\nRUN foo\nRUN bar\n\nRUN baz\n")[1],
            "this RUN directly follows the RUN at line 3; merge them (`&&` or a heredoc) to save \
             a layer"
        );
    }

    #[test]
    fn catches_consecutive_single_command_runs() {
        for (src, lines) in [
            ("FROM a\nRUN /foo.sh\nRUN /bar.sh\n", vec![3]),
            ("FROM a\nRUN /foo.sh\n# a comment\n\nRUN /bar.sh\n", vec![5]),
            ("FROM a\nRUN foo\nRUN bar\nRUN baz\n", vec![3, 4]),
            ("FROM a\nRUN foo && bar\nRUN foo\nRUN bar\nRUN baz\n", vec![4, 5]),
            (
                "FROM a\nRUN --mount=type=secret,id=foo /foo.sh\nRUN --mount=type=secret,id=foo /bar.sh\n",
                vec![3],
            ),
            ("FROM a\nRUN foo && bar\nRUN foo\nRUN bar\n", vec![4]),
            ("FROM a\nRUN [\"foo\"]\nRUN bar \\\n  --baz\n", vec![3]),
            // A test is a condition, not a step (hadolint's count).
            (
                "FROM a\nRUN [ -d /tmp ] && echo ok\nRUN [ ! -d /x ] && echo ok\n",
                vec![3],
            ),
            (
                "FROM a\nRUN if [ -n \"$P\" ]; then echo \"$P\" >> f; fi\nRUN if test -n \"$Q\"; then echo q; fi\n",
                vec![3],
            ),
        ] {
            assert_eq!(lint(&RULE, src), lines, "{src}");
        }
    }

    #[test]
    fn does_not_catch_deliberate_splits() {
        for src in [
            "FROM a\nRUN /foo.sh\n",
            "FROM a\nRUN /foo.sh\nWORKDIR /\nRUN /bar.sh\n",
            "FROM a\nRUN --mount=type=secret,id=foo /foo.sh\nRUN /bar.sh\n",
            "FROM a\nRUN --mount=type=secret,id=foo /foo.sh\nRUN --mount=type=secret,id=bar /bar.sh\n",
            "FROM a\nRUN foo && bar\nRUN foobar\n",
            "FROM a\nRUN foobar\nRUN foo; bar\n",
            // Two steps besides the test: a chain.
            "FROM a\nRUN [ -d /tmp ] && echo ok && touch /ok\nRUN echo next\n",
            "FROM a\nRUN foo\nRUN <<EOF\nbar\nbaz\nEOF\n",
            "FROM a AS one\nRUN foo\nFROM b\nRUN bar\n",
            "FROM a\nRUN foo\nONBUILD RUN bar\n",
            "FROM mcr.microsoft.com/windows/servercore:ltsc2022\nSHELL [\"powershell\", \"-Command\"]\nRUN foo\nRUN bar\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "{src}");
        }
    }
}
