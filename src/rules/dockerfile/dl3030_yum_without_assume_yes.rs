use super::package_managers::runs;
use super::rpm_package_managers::{Invocation, YUM};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// `yum` changes packages without `-y`.
    ///
    /// Flags `yum` subcommands that ask for confirmation (`install`, `update`, `remove`,
    /// `groupinstall`, `module enable`, …) when neither `-y`/`--assumeyes` nor
    /// `--setopt=assumeyes=1` answers for them. Read in every stage and form: shell and exec
    /// form, heredoc scripts, behind `sudo`, inside `sh -c '…'`. `dnf` is `DL3038`.
    ///
    /// ## Why
    /// A build has no terminal: yum reads end-of-input as "no", prints `Operation aborted` and
    /// fails the build. With `-y` the step does what it says.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN yum install httpd-2.4.6 && yum clean all
    /// ```
    /// Answer yes up front:
    /// ```dockerfile
    /// RUN yum install -y httpd-2.4.6 && yum clean all
    /// ```
    pub static RULE = Rule {
        id: "DL3030",
        name: "yum-without-assume-yes",
        severity: Severity::Medium,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    for run in runs(facts) {
        for command in run.commands {
            let Some(yum) = Invocation::read(command, YUM) else {
                continue;
            };
            if yum.yum_prompts() && !yum.assumes_yes() {
                out.push(
                    run.span(facts, command),
                    format!(
                        "`{}` without `-y` waits for a confirmation no one gives, and the build \
                         fails; add `-y`",
                        yum.describe()
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::{lint, messages};

    #[test]
    fn catches_prompting_subcommands_without_yes() {
        for src in [
            "FROM centos:7\nRUN yum install httpd-2.4.6\n",
            "FROM centos:7\nRUN yum groupinstall \"Development Tools\"\n",
            "FROM centos:7\nRUN yum update && yum clean all\n",
            "FROM centos:7\nRUN sudo yum --enablerepo epel install nginx-1.20.1\n",
            "FROM centos:7\nRUN [\"yum\", \"install\", \"httpd\"]\n",
            "FROM centos:7\nRUN /usr/bin/yum module enable nodejs:18\n",
            "FROM centos:7\nRUN sh -c 'yum install httpd'\n",
            "FROM centos:7\nONBUILD RUN yum install httpd\n",
            "FROM centos:7\nRUN yum install --setopt=assumeyes=0 httpd\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
        }
    }

    #[test]
    fn says_which_subcommand() {
        assert_eq!(
            messages(&RULE, "FROM centos:7\nRUN yum module enable nodejs:18\n"),
            vec![
                "`yum module enable` without `-y` waits for a confirmation no one gives, and the \
                 build fails; add `-y`"
            ]
        );
    }

    #[test]
    fn heredoc_reports_the_command_line() {
        let src = "FROM centos:7\nRUN <<EOF\nset -e\nyum install httpd\nEOF\n";
        assert_eq!(lint(&RULE, src), vec![4]);
    }

    #[test]
    fn does_not_catch_yes_or_read_only_subcommands() {
        for src in [
            "FROM centos:7\nRUN yum install -y httpd-2.4.6\n",
            "FROM centos:7\nRUN yum -qy install httpd\n",
            "FROM centos:7\nRUN yum install --assumeyes httpd\n",
            "FROM centos:7\nRUN yum --setopt=assumeyes=True install httpd\n",
            "FROM centos:7\nRUN yum clean all && yum makecache && yum list installed\n",
            "FROM centos:7\nRUN yum module list\n",
            "FROM centos:7\nRUN dnf install httpd\n",
            "FROM centos:7\nRUN echo yum install httpd\n",
            "FROM centos:7\nRUN cat <<EOF > /setup.sh\nyum install httpd\nEOF\n",
            "FROM centos:7\nSHELL [\"pwsh\", \"-c\"]\nRUN yum install httpd\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
