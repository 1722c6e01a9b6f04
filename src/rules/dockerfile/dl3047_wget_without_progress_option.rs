use super::package_managers::{has_flag, runs, Syntax};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

/// The options of GNU wget (and busybox wget) that take a value.
const WGET: Syntax = Syntax {
    short_with_value: "oaeiBtOTwQPUlARDIXY",
    long_with_value: &[
        "output-file",
        "append-output",
        "execute",
        "input-file",
        "base",
        "tries",
        "output-document",
        "timeout",
        "wait",
        "quota",
        "directory-prefix",
        "user-agent",
        "level",
        "accept",
        "reject",
        "domains",
        "include-directories",
        "exclude-directories",
        "header",
        "post-data",
        "user",
        "password",
        "ca-certificate",
    ],
    single_dash_long: false,
};

crate::declare_rule! {
    /// `wget` without a progress setting floods the build log.
    ///
    /// Flags `wget` unless it is told how to report: `--progress=…`, `-q`/`--quiet`,
    /// `-nv`/`--no-verbose`, or a log file (`-o`/`--output-file`, `-a`/`--append-output`).
    /// Bundled flags count (`wget -qO- …`). Read in every stage and form (shell and exec form,
    /// heredoc scripts, behind `sudo`, inside `sh -c '…'`).
    ///
    /// ## Why
    /// Without a terminal, GNU wget prints a progress line for every few kilobytes: a large
    /// download adds thousands of lines to the build log, burying the output that matters and
    /// slowing CI log viewers. `--progress=dot:giga` keeps a few lines, `-nv` one per file,
    /// `-q` none; busybox wget (Alpine's default) knows only `-q`.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN wget https://example.com/big.tar.gz
    /// ```
    /// Say how much to report:
    /// ```dockerfile
    /// RUN wget --progress=dot:giga https://example.com/big.tar.gz
    /// ```
    pub static RULE = Rule {
        id: "DL3047",
        name: "wget-without-progress-option",
        severity: Severity::Low,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    for run in runs(facts) {
        for command in run.commands {
            if !command.cmd.is("wget") || command.cmd.has_arg("-nv") {
                continue;
            }
            let args = WGET.parse(command.cmd.args());
            let reports = [
                "progress",
                "q",
                "quiet",
                "no-verbose",
                "o",
                "output-file",
                "a",
                "append-output",
            ];
            if has_flag(&args, &reports) {
                continue;
            }
            out.push(
                run.span(facts, command),
                "`wget` without `--progress=dot:giga` (or `-q`/`-nv`) floods the build log with \
                 progress lines",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::lint;

    #[test]
    fn catches_wget_without_progress_setting() {
        for src in [
            "FROM node as foo\nRUN wget my.xyz\n",
            "FROM debian\nRUN wget -O /tmp/x.tgz https://x/x.tgz\n",
            "FROM debian\nRUN wget -c -t 3 https://x\n",
            "FROM debian\nRUN sudo wget https://x\n",
            "FROM debian\nRUN [\"wget\", \"https://x\"]\n",
            "FROM debian\nRUN sh -c 'wget https://x'\n",
            "FROM debian\nONBUILD RUN wget https://x\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
        }
        let src = "FROM debian\nRUN <<EOF\nset -e\nwget https://x\nEOF\n";
        assert_eq!(lint(&RULE, src), vec![4]);
    }

    #[test]
    fn does_not_catch_progress_settings() {
        for src in [
            "FROM node as foo\nRUN wget --progress=dot:giga my.xyz\n",
            "FROM debian\nRUN wget --progress bar:force https://x\n",
            "FROM debian\nRUN wget -q my.xyz\n",
            "FROM debian\nRUN wget --quiet my.xyz\n",
            "FROM debian\nRUN wget -nv my.xyz\n",
            "FROM debian\nRUN wget --no-verbose my.xyz\n",
            "FROM debian\nRUN wget --output-file=/tmp/wget.log my.xyz\n",
            "FROM debian\nRUN wget -o /tmp/wget.log my.xyz\n",
            "FROM debian\nRUN wget -a /tmp/wget.log my.xyz\n",
            "FROM debian\nRUN wget -qO- https://x | tar -xz\n",
            "FROM debian\nRUN wget -O - -q https://x\n",
            "FROM debian\nRUN apt-get install -y wget\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
