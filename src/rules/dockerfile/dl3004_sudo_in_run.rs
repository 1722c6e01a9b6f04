use super::package_managers::runs;
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// `sudo` in a RUN.
    ///
    /// Flags `sudo` (and `doas`) in RUN commands, in every stage and form: shell and exec
    /// form, heredoc scripts, inside `sh -c '…'` and behind other wrappers (`env`, `nohup`).
    ///
    /// ## Why
    /// A RUN already runs as the current `USER`. When that is root, `sudo` adds nothing but a
    /// package and its configuration; when it is not, `sudo` only works if the image keeps a
    /// passwordless sudoers rule, which any process in the container can then use to become
    /// root. Switch users explicitly: `USER root` for the steps that need it, then back to
    /// the unprivileged user. To drop privileges in an entrypoint, use `gosu` or `su-exec`.
    ///
    /// ## Example
    /// ```dockerfile
    /// USER app
    /// RUN sudo apt-get install -y curl=7.88.1-10+deb12u8
    /// ```
    /// Switch users instead:
    /// ```dockerfile
    /// USER root
    /// RUN apt-get install -y curl=7.88.1-10+deb12u8
    /// USER app
    /// ```
    pub static RULE = Rule {
        id: "DL3004",
        name: "sudo-in-run",
        severity: Severity::High,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    for run in runs(facts) {
        for command in run.commands {
            let wrappers = command
                .raw
                .words
                .len()
                .saturating_sub(command.cmd.words.len());
            let Some(sudo) = command
                .raw
                .words
                .iter()
                .take(wrappers)
                .map(|w| w.rsplit('/').next().unwrap_or(w))
                .find(|name| matches!(*name, "sudo" | "doas"))
            else {
                continue;
            };
            out.push(
                run.span(facts, command),
                format!(
                    "`{sudo}` in a RUN: RUN already runs as the current USER; switch with \
                     `USER root` for this step (and `gosu`/`su-exec` at run time)"
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::lint;

    #[test]
    fn catches_sudo() {
        for src in [
            "FROM debian\nRUN sudo apt-get install -y curl\n",
            "FROM debian\nRUN /usr/bin/sudo -u app make\n",
            "FROM debian\nRUN env A=1 sudo -E make install\n",
            "FROM alpine\nRUN doas apk add curl\n",
            "FROM debian\nRUN [\"sudo\", \"make\", \"install\"]\n",
            "FROM debian\nRUN sh -c 'sudo make install'\n",
            "FROM debian\nRUN make && sudo make install\n",
            "FROM debian\nONBUILD RUN sudo make install\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
        }
        let src = "FROM debian\nRUN <<EOF\nmake\nsudo make install\nEOF\n";
        assert_eq!(lint(&RULE, src), vec![4]);
    }

    #[test]
    fn does_not_catch_other_uses_of_the_word() {
        for src in [
            "FROM debian\nRUN apt-get install -y sudo\n",
            "FROM debian\nRUN echo 'app ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/app\n",
            "FROM debian\nRUN gosu app make\n",
            "FROM debian\nRUN cat <<EOF > /entrypoint.sh\nsudo -u app run\nEOF\n",
            "FROM debian\nSHELL [\"pwsh\", \"-c\"]\nRUN sudo x\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
