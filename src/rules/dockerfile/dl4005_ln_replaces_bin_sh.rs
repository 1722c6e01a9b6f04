use super::package_managers::{flag_values, has_flag, operands, runs, Run, Syntax};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

/// The options of `ln` that take a value.
const LN: Syntax = Syntax {
    short_with_value: "St",
    long_with_value: &["suffix", "target-directory"],
    single_dash_long: false,
};

crate::declare_rule! {
    /// `ln` replaces `/bin/sh` to change the shell.
    ///
    /// Flags `ln` commands that replace `/bin/sh` or `/usr/bin/sh` (`ln -sf /bin/bash
    /// /bin/sh`, also with `-t /bin`, or after `rm /bin/sh`), in every stage and form (shell
    /// and exec form, heredoc scripts, behind `sudo`, inside `sh -c '…'`). Without `-f` (and
    /// no `rm` first), `ln` fails when `/bin/sh` exists, so such a link gives an image without
    /// a shell (`FROM scratch` plus busybox) its first one, and is fine. So are links that
    /// merely point *to* `/bin/sh` (`ln -s /bin/sh /usr/local/bin/mysh`).
    ///
    /// ## Why
    /// Relinking `/bin/sh` changes the shell for everything in the image, not just the build:
    /// every script with `#!/bin/sh`, every `system()` call, every package's maintainer
    /// scripts now run under another shell, and the package manager may restore the link on
    /// the next update. To run the build's commands with another shell, say so with `SHELL`.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN ln -sf /bin/bash /bin/sh
    /// ```
    /// Change the shell of RUN instructions only:
    /// ```dockerfile
    /// SHELL ["/bin/bash", "-o", "pipefail", "-c"]
    /// ```
    pub static RULE = Rule {
        id: "DL4005",
        name: "ln-replaces-bin-sh",
        severity: Severity::Medium,
        check: Check::Dockerfile(check),
    };
}

const SH: &[&str] = &["/bin/sh", "/usr/bin/sh"];

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    for run in runs(facts) {
        for (position, command) in run.commands.iter().enumerate() {
            if command.cmd.is("ln") && replaces_sh(command.cmd.args()) {
                // Without `--force`, `ln` fails if /bin/sh exists: it provides a missing shell.
                let forced = has_flag(&LN.parse(command.cmd.args()), &["f", "force"])
                    || removed_before(&run, position);
                if !forced {
                    continue;
                }
                out.push(
                    run.span(facts, command),
                    "`ln` replaces `/bin/sh` for the whole image; use `SHELL` to change the \
                     shell of RUN instructions",
                );
            }
        }
    }
}

/// Whether a command before `position` removes `/bin/sh` (`rm /bin/sh && ln -s bash /bin/sh`).
fn removed_before(run: &Run<'_>, position: usize) -> bool {
    run.commands.iter().take(position).any(|c| {
        (c.cmd.is("rm") || c.cmd.is("unlink"))
            && c.cmd.args().iter().any(|a| SH.contains(&a.as_str()))
    })
}

/// Whether `ln` with `args` creates (or overwrites) a link at `/bin/sh`.
fn replaces_sh(args: &[String]) -> bool {
    let parsed = LN.parse(args);
    let files = operands(&parsed, false);
    let directory = flag_values(&parsed, &["t", "target-directory"])
        .flatten()
        .last();
    if let Some(dir) = directory {
        let dir = dir.trim_end_matches('/');
        return files
            .iter()
            .filter_map(|f| f.rsplit('/').next())
            .any(|name| SH.contains(&format!("{dir}/{name}").as_str()));
    }
    match files.as_slice() {
        [_, .., link] => SH.contains(&link.trim_end_matches('/')),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::lint;

    #[test]
    fn catches_links_at_bin_sh() {
        for src in [
            "FROM debian\nRUN ln -sfv /bin/bash /bin/sh\n",
            "FROM debian\nRUN rm /bin/sh && ln -s bash /bin/sh\n",
            "FROM debian\nRUN ln -sf /usr/bin/bash /usr/bin/sh\n",
            "FROM debian\nRUN ln -sf -t /bin /opt/sh\n",
            "FROM debian\nRUN unlink /bin/sh; ln -s /bin/bash /bin/sh\n",
            "FROM debian\nRUN ln --symbolic --force --target-directory=/bin/ /x/sh\n",
            "FROM debian\nRUN sudo ln -sf /bin/bash /bin/sh\n",
            "FROM debian\nRUN [\"ln\", \"-sf\", \"/bin/bash\", \"/bin/sh\"]\n",
            "FROM debian\nONBUILD RUN ln -sfv /bin/bash /bin/sh\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
        }
        let src = "FROM debian\nRUN <<EOF\nset -e\nln -sf /bin/bash /bin/sh\nEOF\n";
        assert_eq!(lint(&RULE, src), vec![4]);
    }

    #[test]
    fn does_not_catch_other_links() {
        for src in [
            "FROM debian\nRUN ln -sf /bin/true /sbin/initctl\n",
            "FROM debian\nRUN ln -s foo bar && unrelated && something_with /bin/sh\n",
            "FROM debian\nRUN ln -s /bin/sh /usr/local/bin/mysh\n",
            "FROM debian\nRUN ln -s /bin/sh\n",
            "FROM scratch\nCOPY --from=busybox /bin /busybox\n\
             RUN [\"/busybox/ln\", \"-s\", \"/busybox/sh\", \"/bin/sh\"]\n",
            "FROM debian\nRUN ln -sf -t /usr/local/bin /bin/sh\n",
            "FROM debian\nSHELL [\"/bin/bash\", \"-c\"]\nRUN echo ln -s /bin/bash /bin/sh\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
