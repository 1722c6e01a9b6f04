use crate::dockerfile::Keyword;
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// An instruction other than `ARG` before the first `FROM`.
    ///
    /// A Dockerfile must start with `FROM`; only `ARG` (global build arguments), comments and
    /// parser directives may come before it. Every other instruction before the first `FROM`
    /// (or in a file without any `FROM`) is reported.
    ///
    /// ## Why
    /// BuildKit rejects such a file. The usual cause is a `FROM` that was deleted or moved by
    /// a merge, or a fragment meant to be included elsewhere.
    ///
    /// ## Example
    /// ```dockerfile
    /// ENV LANG=C.UTF-8
    /// FROM debian:12
    /// ```
    /// Start with `FROM` (or a global `ARG`):
    /// ```dockerfile
    /// FROM debian:12
    /// ENV LANG=C.UTF-8
    /// ```
    pub static RULE = Rule {
        id: "DL3061",
        name: "instruction-before-from",
        severity: Severity::High,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let file = &ctx.facts.file;
    let first_from = file
        .stages
        .first()
        .map_or(file.instructions.len(), |s| s.from);
    for inst in file.instructions.iter().take(first_from) {
        if inst.keyword == Keyword::Arg {
            continue;
        }
        let message = if file.stages.is_empty() {
            format!(
                "{} in a file without FROM; a Dockerfile must start with FROM",
                inst.keyword.as_str()
            )
        } else {
            format!(
                "{} before the first FROM; only ARG may come before FROM",
                inst.keyword.as_str()
            )
        };
        out.push(inst.span, message);
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::dockerfile::testing::run;
    use crate::rules::RuleOptions;

    fn lines(src: &str) -> Vec<usize> {
        run(&RULE, src, &RuleOptions::default())
            .iter()
            .map(|d| d.span.line)
            .collect()
    }

    #[test]
    fn catches_instructions_before_from() {
        assert_eq!(lines("ENV A=1\nFROM debian:12\n"), vec![1]);
        assert_eq!(
            lines("# comment\nARG V=1\nLABEL a=b\nRUN true\nFROM a\n"),
            vec![3, 4]
        );
        assert_eq!(lines("RUN echo hi\n"), vec![1]);
    }

    #[test]
    fn does_not_catch_args_comments_and_directives() {
        for src in [
            "# syntax=docker/dockerfile:1\n# a comment\nARG BASE=debian:12\nFROM $BASE\nRUN true\n",
            "FROM a\nENV A=1\n",
            "",
        ] {
            assert_eq!(lines(src), Vec::<usize>::new(), "{src}");
        }
    }
}
