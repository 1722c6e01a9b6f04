use super::package_managers::runs;
use crate::dockerfile::shell::SimpleCommand;
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// RUN command that does nothing useful in an image build.
    ///
    /// Flags commands whose effect ends with the build container or that need a terminal:
    /// - `ps`, `top`, `free`, `ifconfig`: they only show the state of a throwaway container;
    /// - `ssh`, `vim`: interactive, and a build has no terminal;
    /// - `shutdown`, `reboot`, `halt`, `poweroff`: there is no system to stop;
    /// - `mount`: a mount does not persist into the image (use `RUN --mount`);
    /// - `service … start` (or `restart`, `reload`) as the last command of a RUN: whatever it
    ///   starts is stopped when the RUN ends. `service mysql start && mysql < seed.sql` uses the service within the RUN and
    ///   is not flagged, and neither is `kill` (stopping a process the same RUN started).
    ///
    /// Commands are read in every stage and form: shell and exec form, heredoc scripts,
    /// behind `sudo`, inside `sh -c '…'`.
    ///
    /// ## Why
    /// These lines cost build time and suggest an effect the image will not have: a service
    /// "started" in a RUN is not running in the container, and a diagnostic's output is lost
    /// in the build log. Start services from `CMD`/`ENTRYPOINT`; run diagnostics in a
    /// running container.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN apt-get install -y nginx=1.22.1-9 && service nginx start
    /// ```
    /// Start it when the container starts:
    /// ```dockerfile
    /// RUN apt-get install -y nginx=1.22.1-9
    /// CMD ["nginx", "-g", "daemon off;"]
    /// ```
    pub static RULE = Rule {
        id: "DL3001",
        name: "pointless-run-command",
        severity: Severity::Low,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    for run in runs(facts) {
        let last = run.commands.len().saturating_sub(1);
        for (position, command) in run.commands.iter().enumerate() {
            let Some(program) = command.cmd.program_name() else {
                continue;
            };
            let reason = match program {
                "ps" | "top" | "free" | "ifconfig" => {
                    "only shows the state of the throwaway build container"
                }
                "ssh" | "vim" => "is interactive, and a build has no terminal",
                "shutdown" | "reboot" | "halt" | "poweroff" => {
                    "cannot stop anything useful: a build container is not a running system"
                }
                "mount" => "makes a mount that does not persist into the image; use `RUN --mount`",
                "service" if position == last && starts_something(&command.cmd) => {
                    "is the last command of the RUN, so what it starts stops when the RUN ends; \
                     start services from CMD or ENTRYPOINT"
                }
                _ => continue,
            };
            out.push(run.span(facts, command), format!("`{program}` {reason}"));
        }
    }
}

/// Whether a `service` command starts (or restarts) a service.
fn starts_something(service: &SimpleCommand) -> bool {
    service
        .args()
        .iter()
        .any(|a| matches!(a.as_str(), "start" | "restart" | "reload" | "force-reload"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::{lint, messages};

    #[test]
    fn catches_pointless_commands() {
        for src in [
            "FROM debian\nRUN top\n",
            "FROM debian\nRUN ps aux | grep nginx\n",
            "FROM debian\nRUN free -m && df -h\n",
            "FROM debian\nRUN /sbin/ifconfig\n",
            "FROM debian\nRUN ssh git@example.com\n",
            "FROM debian\nRUN vim /etc/hosts\n",
            "FROM debian\nRUN sudo shutdown -h now\n",
            "FROM debian\nRUN mount -t tmpfs tmpfs /mnt\n",
            "FROM debian\nRUN apt-get install -y nginx && service nginx start\n",
            "FROM debian\nRUN [\"service\", \"nginx\", \"start\"]\n",
            "FROM debian\nRUN sh -c 'service nginx start'\n",
            "FROM debian\nONBUILD RUN top -b -n 1\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
        }
        assert_eq!(
            messages(&RULE, "FROM debian\nRUN ps\n"),
            vec!["`ps` only shows the state of the throwaway build container"]
        );
        let src = "FROM debian\nRUN <<EOF\napt-get update\nservice nginx start\nEOF\n";
        assert_eq!(lint(&RULE, src), vec![4]);
    }

    #[test]
    fn does_not_catch_useful_commands() {
        for src in [
            "FROM debian\nRUN apt-get install -y ssh vim procps\n",
            "FROM debian\nRUN service mysql start && mysql < /seed.sql && service mysql stop\n",
            "FROM debian\nRUN service --status-all\n",
            "FROM debian\nRUN nginx & sleep 2 && curl localhost && kill %1\n",
            "FROM debian\nRUN ssh-keygen -A && ssh-keyscan github.com >> /etc/ssh/ssh_known_hosts\n",
            "FROM debian\nRUN echo top ps free\n",
            "FROM debian\nRUN --mount=type=cache,target=/root/.cache pip install x\n",
            "FROM debian\nRUN cat <<EOF > /usr/local/bin/status\nps aux\nEOF\n",
            "FROM debian\nSHELL [\"pwsh\", \"-c\"]\nRUN ps\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
