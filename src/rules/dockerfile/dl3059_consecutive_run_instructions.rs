use super::util::stage_body;
use crate::dockerfile::shell::{is_posix_shell, run_scripts, shell_at, SimpleCommand};
use crate::dockerfile::{Args, Command, Flag, Keyword};
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
    /// can be merged. Under a PowerShell or cmd `SHELL`, statements are counted instead:
    /// `;`, line breaks, `|`, `&&`, `||` (and cmd's `&`) outside quotes, brackets and braces
    /// separate them, so `RUN Install-Module -Name dbatools` is one step and
    /// `RUN $p = 'x'; Write-Host $p` two.
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

/// Whether `shell` is cmd (`cmd /S /C`), whose single `&` also separates commands.
fn is_cmd(shell: &[String]) -> bool {
    shell.first().is_some_and(|p| {
        let name = p
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(p)
            .to_ascii_lowercase();
        name == "cmd" || name == "cmd.exe"
    })
}

/// How many statements a PowerShell (or, with `cmd`, a cmd) script runs: the non-empty parts
/// between separators (`;`, line breaks, `|`, `&&`, `||`, and for cmd `&`) that are outside
/// quotes, `( )`, `{ }` and `[ ]`. PowerShell quotes with `'` and `"` and escapes with
/// `` ` `` (`''` inside single quotes is a quote); cmd quotes with `"` only and escapes with `^`.
fn windows_statements(script: &str, cmd: bool) -> usize {
    let escape = if cmd { '^' } else { '`' };
    let (mut count, mut depth, mut quote) = (0usize, 0usize, None::<char>);
    let mut in_statement = false;
    let mut chars = script.chars().peekable();
    while let Some(c) = chars.next() {
        if c == escape && quote != Some('\'') {
            chars.next();
            if quote.is_none() && !in_statement {
                in_statement = true;
                count += 1;
            }
            continue;
        }
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        let separator = depth == 0
            && match c {
                ';' | '\n' | '|' => true,
                '&' => cmd || chars.peek() == Some(&'&'),
                _ => false,
            };
        if separator {
            if matches!(c, '|' | '&') && chars.peek() == Some(&c) {
                chars.next();
            }
            in_statement = false;
            continue;
        }
        match c {
            '"' => quote = Some(c),
            '\'' if !cmd => quote = Some(c),
            '(' | '{' | '[' => depth += 1,
            ')' | '}' | ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if !c.is_whitespace() && !in_statement {
            in_statement = true;
            count += 1;
        }
    }
    count
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
        if let Some(script) = scripts.iter().find(|s| s.index == index && !s.onbuild) {
            return script
                .script
                .commands
                .iter()
                .filter(|c| !is_test(c))
                .count()
                <= 1;
        }
        // A shell-form RUN that is not read as sh: PowerShell or cmd.
        let Some(Args::Run(Command::Shell(text))) =
            facts.file.instructions.get(index).map(|i| &i.args)
        else {
            return false;
        };
        let shell = shell_at(&facts.file, index);
        !is_posix_shell(&shell) && windows_statements(text, is_cmd(&shell)) <= 1
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
    fn counts_powershell_and_cmd_statements() {
        let pwsh = "FROM mcr.microsoft.com/powershell:7.4-alpine-3.17\n\
                    SHELL [\"pwsh\", \"-Command\"]\n";
        for (body, lines) in [
            (
                "RUN Set-PSRepository -Name PSGallery -InstallationPolicy Trusted\nRUN Install-Module -Name dbatools\n",
                vec![4],
            ),
            // Separators inside quotes, brackets and braces do not split a statement.
            (
                "RUN Write-Host 'a; b | c'\nRUN if ($x -eq 1) { Write-Host a; Write-Host b }\nRUN $env:P = (\"{0};{1}\" -f $a, $b)\n",
                vec![4, 5],
            ),
            ("RUN Write-Host \"it`\"s; fine\"\nRUN Write-Host 'it''s; fine'\n", vec![4]),
            // Several statements: a deliberate step each.
            ("RUN $p = 'x'; Write-Host $p\nRUN Write-Host a\n", vec![]),
            ("RUN Get-ChildItem | Remove-Item\nRUN Write-Host a\n", vec![]),
            ("RUN Write-Host a \\\n  -NoNewline; \\\n  Write-Host b\nRUN Write-Host c\n", vec![]),
        ] {
            assert_eq!(lint(&RULE, &format!("{pwsh}{body}")), lines, "{body}");
        }
        let cmd =
            "FROM mcr.microsoft.com/windows/servercore:ltsc2022\nSHELL [\"cmd\", \"/S\", \"/C\"]\n";
        assert_eq!(
            lint(
                &RULE,
                &format!("{cmd}RUN mkdir C:\\app\nRUN mkdir C:\\data\n")
            ),
            vec![4]
        );
        assert_eq!(
            lint(
                &RULE,
                &format!("{cmd}RUN mkdir C:\\app & echo ok\nRUN mkdir C:\\data\n")
            ),
            Vec::<usize>::new()
        );
        assert_eq!(
            lint(&RULE, &format!("{cmd}RUN echo a^&b\nRUN echo c\n")),
            vec![4],
            "an escaped & is text"
        );
        assert_eq!(
            lint(&RULE, &format!("{cmd}RUN echo it's & echo x\nRUN echo c\n")),
            Vec::<usize>::new(),
            "' is no quote in cmd"
        );
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
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "{src}");
        }
    }
}
