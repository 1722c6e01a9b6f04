use crate::dockerfile::shell::{on_windows, run_scripts, shell_at, RunScript, SimpleCommand};
use crate::dockerfile::Heredoc;
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// Pipe in a RUN without `pipefail`.
    ///
    /// Flags a RUN with a pipe (`a | b`) when a failure of a command before the last `|` would
    /// go unnoticed: neither the `SHELL` (`SHELL ["/bin/bash", "-o", "pipefail", "-c"]`, also
    /// inherited from a parent stage) nor a `set -o pipefail` (or `set -euo pipefail`) at the
    /// start of the script turns `pipefail` on. One finding per RUN, at the first such pipe.
    ///
    /// - Heredoc scripts count: `RUN <<EOF` bodies run with the `SHELL` (so its `pipefail`
    ///   applies) unless they start with a `#!` line; a body fed to another shell
    ///   (`RUN bash <<EOF`) or run through its `#!` line needs its own `set -o pipefail` (or
    ///   `pipefail` on the `#!` line). Data heredocs (`cat <<EOF > file`) are not scripts.
    /// - As in hadolint, any pipe counts, even one fed by `echo` or `printf`: the rule is
    ///   about the shell's setting, so that no pipe of the RUN can hide a failure. The one
    ///   exception is a pipeline fed only by `yes` (or `true`/`:`): `pipefail` would turn
    ///   `yes`'s SIGPIPE, when the reader exits, into a failed build.
    /// - `SHELL ["/bin/sh", "-o", "pipefail", "-c"]` counts: a shell without `pipefail` fails
    ///   the build loudly instead of hiding anything.
    /// - Exec form has no pipes; RUNs under a non-POSIX `SHELL` (PowerShell, cmd) are skipped,
    ///   and so are RUNs of Windows images without a `SHELL` (they run under cmd).
    ///
    /// ## Why
    /// A shell pipeline's exit status is that of its last command. In
    /// `RUN curl -fsSL https://example.com/install.sh | sh`, a failed download hands `sh` an
    /// empty script, `sh` succeeds, and the build goes on without what it was meant to
    /// install. With `pipefail` the RUN fails where the failure happened.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN curl -fsSL https://example.com/app.tar.gz | tar -xz -C /opt
    /// ```
    /// Turn `pipefail` on for every RUN, or for this one (in a shell that has it: bash, zsh,
    /// ksh, busybox `ash`; older `dash`, Debian's and Ubuntu's `/bin/sh`, refuses it):
    /// ```dockerfile
    /// SHELL ["/bin/bash", "-o", "pipefail", "-c"]
    /// RUN curl -fsSL https://example.com/app.tar.gz | tar -xz -C /opt
    /// ```
    /// ```dockerfile
    /// RUN set -o pipefail && curl -fsSL https://example.com/app.tar.gz | tar -xz -C /opt
    /// ```
    pub static RULE = Rule {
        id: "DL4006",
        name: "pipe-without-pipefail",
        severity: Severity::Medium,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let file = &ctx.facts.file;
    for run in run_scripts(file) {
        let shell = shell_at(file, run.index);
        // Without a SHELL instruction, a Windows image runs RUN with cmd, which has no pipefail.
        if on_windows(file, run.index) && shell == ["/bin/sh", "-c"] {
            continue;
        }
        let shell_pipefail = enables_pipefail(shell.get(1..).unwrap_or(&[]));
        let Some(pipe) = first_unguarded_pipe(&run, shell_pipefail) else {
            continue;
        };
        let last = run
            .script
            .pipeline(pipe.pipeline)
            .last()
            .and_then(SimpleCommand::program_name)
            .unwrap_or("the last command");
        out.push(
            run.span_of(pipe, ctx.facts),
            format!(
                "`{}` can fail unnoticed when piped into `{last}`: only the last command's exit \
                 status counts; use `SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]` or \
                 start the script with `set -o pipefail`",
                pipe.program_name().unwrap_or("a command")
            ),
        );
    }
}

/// The first command of the first pipeline in `run` that needs `pipefail` and lacks it.
/// Linear in the script (one pass sorts commands into the heredoc bodies they come from), so
/// an instruction with thousands of heredocs costs no more than its length.
fn first_unguarded_pipe<'r>(
    run: &'r RunScript<'_>,
    shell_pipefail: bool,
) -> Option<&'r SimpleCommand> {
    let heredocs = &run.run.heredocs;
    // Bodies follow one another, so their line ranges are sorted.
    let ranges: Vec<(usize, usize)> = heredocs
        .iter()
        .map(|h| (h.body_line, h.body_line + h.body.lines().count()))
        .collect();
    // Segment 0 is the instruction's own text, which runs under the SHELL; segment i + 1 the
    // body of heredoc i.
    let mut segments: Vec<Vec<&SimpleCommand>> = vec![Vec::new(); heredocs.len() + 1];
    for command in &run.script.commands {
        let after = ranges.partition_point(|(start, _)| *start <= command.line);
        let owner = after
            .checked_sub(1)
            .filter(|&i| command.line < ranges[i].1)
            .map_or(0, |i| i + 1);
        segments[owner].push(command);
    }
    let only_markers = only_heredoc_markers(run);
    segments
        .into_iter()
        .enumerate()
        .filter(|(index, commands)| {
            let inherited = match index.checked_sub(1) {
                None => shell_pipefail,
                Some(h) => heredoc_inherits_pipefail(&heredocs[h], only_markers, shell_pipefail),
            };
            !inherited && !starts_with_pipefail(commands)
        })
        .flat_map(|(_, commands)| commands)
        .filter(|c| c.position == 0 && c.pipeline_len > 1)
        .find(|first| {
            pipeline_can_hide_failure(&run.script.pipeline(first.pipeline).collect::<Vec<_>>())
        })
}

/// Whether the RUN's own text is nothing but heredoc markers (`RUN <<EOF`).
fn only_heredoc_markers(run: &RunScript<'_>) -> bool {
    run.run.rest.split_whitespace().all(|w| {
        w.trim_start_matches(|c: char| c.is_ascii_digit())
            .starts_with("<<")
    })
}

/// Whether a heredoc body runs with the SHELL's `pipefail`: only a body that is the RUN's
/// whole command (`RUN <<EOF`) and has no `#!` line. A `#!` line may turn it on itself.
fn heredoc_inherits_pipefail(heredoc: &Heredoc, only_markers: bool, shell_pipefail: bool) -> bool {
    if let Some(shebang) = heredoc
        .body
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("#!"))
    {
        let words: Vec<String> = shebang.split_whitespace().map(str::to_string).collect();
        return enables_pipefail(words.get(1..).unwrap_or(&[]));
    }
    only_markers && shell_pipefail
}

/// Whether a script starts with `set` commands that turn `pipefail` on (`set -o pipefail`,
/// `set -euxo pipefail`), before anything else runs.
fn starts_with_pipefail(commands: &[&SimpleCommand]) -> bool {
    commands
        .iter()
        .take_while(|c| c.pipeline_len == 1 && matches!(c.program(), Some("set" | "shopt")))
        .any(|c| enables_pipefail(c.args()))
}

/// Whether shell options (`-o pipefail`, `-eo pipefail`, `-euxo pipefail`) turn `pipefail` on.
fn enables_pipefail(args: &[String]) -> bool {
    args.windows(2).any(|pair| {
        pair[1] == "pipefail"
            && pair[0]
                .strip_prefix('-')
                .is_some_and(|flags| !flags.starts_with('-') && flags.contains('o'))
    })
}

/// Whether a command before the last `|` could fail in a way the pipeline's status hides.
fn pipeline_can_hide_failure(pipeline: &[&SimpleCommand]) -> bool {
    let Some((_, before_last)) = pipeline.split_last() else {
        return false;
    };
    before_last.iter().any(|c| {
        let harmless = matches!(c.program_name(), Some("yes" | "true" | ":"));
        !harmless
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::{lint, messages};

    #[test]
    fn catches_pipes_without_pipefail() {
        for src in [
            "FROM scratch\nRUN wget -O - https://some.site | wc -l > /number\n",
            "FROM debian\nRUN curl -fsSL https://x/install.sh | sh\n",
            "FROM debian\nRUN set -eux; curl -fsSL https://x | tar -xz\n",
            "FROM debian\nRUN apt-get update && curl -fsSL https://x | sh && set -o pipefail\n",
            "FROM debian\nSHELL [\"/bin/bash\", \"-c\"]\nRUN curl https://x | tar -x\n",
            "FROM debian\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nSHELL [\"/bin/sh\", \"-c\"]\n\
             RUN curl https://x | tar -x\n",
            "FROM debian AS a\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\n\
             FROM debian\nRUN curl https://x | tar -x\n",
            "FROM debian\nSHELL [\"/bin/bash\", \"+o\", \"pipefail\", \"-c\"]\nRUN a | b\n",
            "FROM debian\nRUN cat /etc/os-release | grep ID\n",
            "FROM debian\nRUN sudo curl https://x | sudo tee /x\n",
            // hadolint's meaning: every pipe, also one fed by `echo`, `printf` or `cat`.
            "FROM debian\nRUN echo \"$SHA  f.tgz\" | sha256sum -c -\n",
            "FROM debian\nRUN printf '%s\\n' a b | sort\n",
            "FROM debian\nRUN cat <<EOF | tee /x\nhi\nEOF\n",
            "FROM debian\nRUN { echo a; echo b; } | tee /x\n",
            "FROM debian\nONBUILD RUN curl https://x | sh\n",
            // The SHELL's pipefail does not reach a shell the RUN starts itself.
            "FROM debian\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\n\
             RUN bash <<EOF\ncurl https://x | sh\nEOF\n",
            "FROM debian\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\n\
             RUN <<EOF\n#!/bin/bash\ncurl https://x | sh\nEOF\n",
            "FROM debian\nRUN set -o pipefail && bash <<EOF\ncurl https://x | sh\nEOF\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
        }
    }

    #[test]
    fn one_finding_per_run_at_the_first_pipe() {
        let src = "FROM debian\nRUN a | b && c | d\n";
        assert_eq!(
            messages(&RULE, src),
            vec![
                "`a` can fail unnoticed when piped into `b`: only the last command's exit status \
                 counts; use `SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]` or start the \
                 script with `set -o pipefail`"
            ]
        );
        let src = "FROM debian\nRUN <<EOF\nset -e\napt-get update\ncurl https://x | sh\nEOF\n";
        assert_eq!(lint(&RULE, src), vec![5]);
    }

    #[test]
    fn does_not_catch_pipefail_shells_scripts_or_yes() {
        for src in [
            "FROM scratch\nRUN wget -O - https://some.site && wc -l file > /number\n",
            "FROM debian\nSHELL [\"/bin/bash\", \"-eo\", \"pipefail\", \"-c\"]\nRUN a | b\n",
            "FROM debian\nSHELL [\"/bin/bash\", \"-e\", \"-o\", \"pipefail\", \"-c\"]\nRUN a | b\n",
            "FROM debian\nSHELL [\"/bin/bash\", \"-o\", \"errexit\", \"-o\", \"pipefail\", \"-c\"]\n\
             RUN a | b\n",
            "FROM debian\nSHELL [\"/usr/local/bin/zsh\", \"-o\", \"pipefail\", \"-c\"]\nRUN a | b\n",
            "FROM alpine\nSHELL [\"/bin/ash\", \"-o\", \"pipefail\", \"-c\"]\nRUN a | b\n",
            "FROM alpine\nSHELL [\"/bin/sh\", \"-o\", \"pipefail\", \"-c\"]\nRUN a | b\n",
            "FROM debian AS base\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\n\
             FROM base\nRUN curl https://x | tar -x\n",
            "FROM debian\nRUN set -o pipefail && curl https://x | tar -x\n",
            "FROM debian\nRUN set -euxo pipefail; curl https://x | tar -x\n",
            "FROM debian\nRUN set -e; set -o pipefail; a | b\n",
            "FROM debian\nRUN <<EOF\nset -euo pipefail\ncurl https://x | sh\nEOF\n",
            "FROM debian\nRUN bash <<EOF\nset -o pipefail\ncurl https://x | sh\nEOF\n",
            "FROM debian\nRUN <<EOF\n#!/bin/bash -eo pipefail\ncurl https://x | sh\nEOF\n",
            "FROM debian\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\n\
             RUN <<EOF\ncurl https://x | sh\nEOF\n",
            // `pipefail` would fail the build on `yes`'s SIGPIPE.
            "FROM debian\nRUN yes | apt-get install x && true | cat\n",
            "FROM debian\nRUN cat <<EOF > /x.sh\ncurl https://x | sh\nEOF\n",
            "FROM debian\nRUN [\"sh\", \"-c\", \"a | b\"]\n",
            "FROM debian\nRUN echo 'a | b' && x='c|d'\n",
            "FROM mcr.microsoft.com/powershell\nSHELL [\"pwsh\", \"-c\"]\n\
             RUN Get-Variable PSVersionTable | Select-Object -ExpandProperty Value\n",
            "FROM mcr.microsoft.com/windows\nSHELL [\"cmd.exe\", \"/c\"]\nRUN dir | findstr x\n",
            "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\n\
             RUN powershell -Command Get-Content x | Out-File y\n",
            "FROM mcr.microsoft.com/windows/nanoserver:ltsc2022\nRUN type x | findstr y\n",
            // A case statement's `a|b)` patterns are not pipes.
            "FROM debian\nRUN case \"$TAG\" in dev|beta) echo x ;; esac\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
