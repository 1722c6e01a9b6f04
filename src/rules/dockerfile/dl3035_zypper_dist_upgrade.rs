use super::package_managers::runs;
use super::rpm_package_managers::{Invocation, ZYPPER};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// `zypper dist-upgrade` in a build.
    ///
    /// Flags `zypper dist-upgrade` and `zypper dup` in every stage and form (shell and exec
    /// form, heredoc scripts, behind `sudo`, inside `sh -c '…'`).
    ///
    /// ## Why
    /// `dist-upgrade` moves the whole system to whatever the repositories hold today, allowing
    /// vendor changes, downgrades and removals: the image no longer matches its base tag, and
    /// two builds of the same commit can differ wholesale. To pick up fixes, move to a newer
    /// base image tag, or apply `zypper patch`/`zypper update` for a bounded change.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM opensuse/leap:15.5
    /// RUN zypper -n dup
    /// ```
    /// Use a newer base image instead:
    /// ```dockerfile
    /// FROM opensuse/leap:15.6
    /// ```
    pub static RULE = Rule {
        id: "DL3035",
        name: "zypper-dist-upgrade",
        severity: Severity::Medium,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    for run in runs(facts) {
        for command in run.commands {
            let Some(zypper) = Invocation::read(command, ZYPPER) else {
                continue;
            };
            if matches!(zypper.subcommand(), Some("dist-upgrade" | "dup")) {
                out.push(
                    run.span(facts, command),
                    format!(
                        "`{}` upgrades the whole distribution at build time; use a newer base \
                         image, or `zypper patch` for a bounded update",
                        zypper.describe()
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::lint;

    #[test]
    fn catches_dist_upgrade() {
        for src in [
            "FROM opensuse/leap\nRUN zypper dist-upgrade\n",
            "FROM opensuse/leap\nRUN zypper -n dup --no-recommends && zypper clean\n",
            "FROM opensuse/leap\nRUN sudo zypper dup\n",
            "FROM opensuse/leap\nRUN [\"zypper\", \"-n\", \"dup\"]\n",
            "FROM opensuse/leap\nONBUILD RUN zypper dup\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
        }
        let src = "FROM opensuse/leap\nRUN <<EOF\nzypper ref\nzypper -n dup\nEOF\n";
        assert_eq!(lint(&RULE, src), vec![4]);
    }

    #[test]
    fn does_not_catch_other_subcommands() {
        for src in [
            "FROM opensuse/leap\nRUN zypper -n patch && zypper -n update\n",
            "FROM opensuse/leap\nRUN zypper -n install dup\n",
            "FROM opensuse/leap\nRUN echo zypper dup\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
