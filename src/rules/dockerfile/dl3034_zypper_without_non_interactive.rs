use super::package_managers::runs;
use super::rpm_package_managers::{Invocation, ZYPPER};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// `zypper` changes packages without a non-interactive switch.
    ///
    /// Flags `zypper install`, `remove`, `update`, `patch`, `dist-upgrade`, `source-install`
    /// and `install-new-recommends` (and their short forms) unless zypper is told not to ask:
    /// the global `-n`/`--non-interactive` before the subcommand, or `-y`/`--no-confirm` after
    /// it. (After the subcommand `-n` means `--name`, which answers nothing.) Read in every
    /// stage and form: shell and exec form, heredoc scripts, behind `sudo`, inside
    /// `sh -c '…'`.
    ///
    /// ## Why
    /// A build has no terminal: zypper's prompt reads end-of-input and the build fails, or a
    /// default answer is taken that nobody chose. Saying `-n` makes the step do what it says.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN zypper install httpd=2.4.58
    /// ```
    /// Run non-interactively:
    /// ```dockerfile
    /// RUN zypper --non-interactive install httpd=2.4.58
    /// ```
    pub static RULE = Rule {
        id: "DL3034",
        name: "zypper-without-non-interactive",
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
            if zypper.zypper_prompts() && !zypper.zypper_non_interactive() {
                out.push(
                    run.span(facts, command),
                    format!(
                        "`{}` may wait for an answer no one gives; run `zypper \
                         --non-interactive …` (or add `-y`)",
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
    fn catches_prompting_subcommands() {
        for src in [
            "FROM opensuse/leap\nRUN zypper install httpd=2.4\n",
            "FROM opensuse/leap\nRUN zypper in httpd=2.4 && zypper clean\n",
            "FROM opensuse/leap\nRUN zypper rm httpd\n",
            "FROM opensuse/leap\nRUN zypper patch\n",
            "FROM opensuse/leap\nRUN zypper dup\n",
            "FROM opensuse/leap\nRUN zypper install -n httpd\n",
            "FROM opensuse/leap\nRUN sudo zypper --root /mnt in httpd\n",
            "FROM opensuse/leap\nRUN [\"zypper\", \"install\", \"httpd\"]\n",
            "FROM opensuse/leap\nONBUILD RUN zypper install httpd\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
        }
    }

    #[test]
    fn heredoc_reports_the_command_line() {
        let src = "FROM opensuse/leap\nRUN <<EOF\nzypper ref\nzypper in httpd\nEOF\n";
        assert_eq!(lint(&RULE, src), vec![4]);
    }

    #[test]
    fn does_not_catch_non_interactive_or_read_only_commands() {
        for src in [
            "FROM opensuse/leap\nRUN zypper install -y httpd=2.4\n",
            "FROM opensuse/leap\nRUN zypper in --no-confirm httpd\n",
            "FROM opensuse/leap\nRUN zypper -n install httpd\n",
            "FROM opensuse/leap\nRUN zypper --non-interactive --gpg-auto-import-keys in httpd\n",
            "FROM opensuse/leap\nRUN zypper -qn rm httpd\n",
            "FROM opensuse/leap\nRUN zypper refresh && zypper search httpd && zypper clean -a\n",
            "FROM opensuse/leap\nRUN echo zypper install httpd\n",
            "FROM opensuse/leap\nSHELL [\"pwsh\", \"-c\"]\nRUN zypper install httpd\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
