use super::package_managers::runs;
use super::rpm_package_managers::{Invocation, DNF};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// `dnf` changes packages without `-y`.
    ///
    /// Flags `dnf` (also `dnf5` and `tdnf`) subcommands that ask for confirmation
    /// (`install`, `upgrade`, `remove`, `module enable`, `group install`, …) when neither
    /// `-y`/`--assumeyes` nor `--setopt=assumeyes=1` answers for them. Read in every stage and
    /// form: shell and exec form, heredoc scripts, behind `sudo`, inside `sh -c '…'`.
    /// `microdnf` never asks (its `-y` exists only for compatibility), so it is not flagged.
    /// `yum` is `DL3030`.
    ///
    /// ## Why
    /// A build has no terminal: dnf reads end-of-input as "no", prints `Operation aborted` and
    /// fails the build. With `-y` the step does what it says.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN dnf install httpd-2.4.57 && dnf clean all
    /// ```
    /// Answer yes up front:
    /// ```dockerfile
    /// RUN dnf install -y httpd-2.4.57 && dnf clean all
    /// ```
    pub static RULE = Rule {
        id: "DL3038",
        name: "dnf-without-assume-yes",
        severity: Severity::Medium,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    let prompting: Vec<&str> = DNF.iter().copied().filter(|p| *p != "microdnf").collect();
    for run in runs(facts) {
        for command in run.commands {
            let Some(dnf) = Invocation::read(command, &prompting) else {
                continue;
            };
            if dnf.yum_prompts() && !dnf.assumes_yes() {
                out.push(
                    run.span(facts, command),
                    format!(
                        "`{}` without `-y` waits for a confirmation no one gives, and the build \
                         fails; add `-y`",
                        dnf.describe()
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
    fn catches_prompting_subcommands_without_yes() {
        for src in [
            "FROM fedora:40\nRUN dnf install httpd-2.4.57\n",
            "FROM fedora:40\nRUN dnf upgrade\n",
            "FROM fedora:40\nRUN dnf5 install httpd-2.4.57\n",
            "FROM photon:5.0\nRUN tdnf install httpd-2.4.57\n",
            "FROM fedora:40\nRUN dnf group install \"Development Tools\"\n",
            "FROM fedora:40\nRUN dnf module enable nodejs:18\n",
            "FROM fedora:40\nRUN sudo dnf --enablerepo updates-testing install x-1\n",
            "FROM fedora:40\nRUN [\"dnf\", \"install\", \"httpd\"]\n",
            "FROM fedora:40\nONBUILD RUN dnf remove httpd\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
        }
    }

    #[test]
    fn heredoc_reports_the_command_line() {
        let src = "FROM fedora:40\nRUN <<EOF\nset -e\n\ndnf install httpd\nEOF\n";
        assert_eq!(lint(&RULE, src), vec![5]);
    }

    #[test]
    fn does_not_catch_yes_microdnf_or_read_only_subcommands() {
        for src in [
            "FROM fedora:40\nRUN dnf install -y httpd-2.4.57\n",
            "FROM fedora:40\nRUN dnf -y upgrade\n",
            "FROM fedora:40\nRUN dnf install --assumeyes httpd\n",
            "FROM fedora:40\nRUN dnf --setopt=assumeyes=1 install httpd\n",
            "FROM ubi9/ubi-minimal\nRUN microdnf install httpd && microdnf clean all\n",
            "FROM fedora:40\nRUN dnf clean all && dnf makecache && dnf module list\n",
            "FROM fedora:40\nRUN dnf group list\n",
            "FROM fedora:40\nRUN yum install httpd-2.4\n",
            "FROM fedora:40\nRUN python3 <<EOF\nos.system('dnf install httpd')\nEOF\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
