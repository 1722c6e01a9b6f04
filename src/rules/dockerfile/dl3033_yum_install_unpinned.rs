use super::rpm_package_managers::{report_unpinned_installs, YUM};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// `yum install` of a package without a version.
    ///
    /// Flags `yum install` arguments that name a package without a version, and
    /// `yum module install` arguments without a stream, in every stage and form (shell and exec
    /// form, heredoc scripts, behind `sudo`, inside `sh -c '…'`).
    ///
    /// A package is pinned when the part after its last `-` starts a version or release:
    /// `httpd-2.4.6`, `httpd-2.4.6-99.el7`, `openssl-1:1.0.2k`, `gcc-c++-4.8.5`, globs such as
    /// `httpd-2.4.*`, and variables such as `httpd-${HTTPD_VERSION}`. A dash inside the name is
    /// not a version: `epel-release` and `java-11-openjdk` are flagged. `.rpm` files, URLs and
    /// paths pass. Group names (`@…`) and capabilities (`dnf-command(…)`) cannot be pinned
    /// this way and are left alone. Package lists from `ARG`/`ENV` values are expanded and
    /// judged; a variable without a known value cannot be judged and is left alone. `dnf` is
    /// `DL3041`.
    ///
    /// ## Why
    /// Without a version, every build installs whatever the mirror serves that day: two
    /// builds of the same commit differ, a broken or malicious update arrives unreviewed, and
    /// nobody can tell afterwards which version shipped.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN yum install -y httpd && yum clean all
    /// ```
    /// Pin the version:
    /// ```dockerfile
    /// RUN yum install -y httpd-2.4.6-99.el7.centos.1 && yum clean all
    /// ```
    pub static RULE = Rule {
        id: "DL3033",
        name: "yum-install-unpinned",
        severity: Severity::Medium,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    report_unpinned_installs(ctx, out, YUM);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::{lint, messages};

    #[test]
    fn catches_packages_and_modules_without_versions() {
        for src in [
            "FROM centos:7\nRUN yum install -y tomcat && yum clean all\n",
            "FROM centos:7\nRUN yum install -y epel-release\n",
            "FROM centos:7\nRUN yum install -y java-11-openjdk httpd-2.4.6\n",
            "FROM centos:7\nRUN yum module install -y tomcat && yum clean all\n",
            "FROM centos:7\nRUN sudo yum -y --enablerepo epel install nginx\n",
            "FROM centos:7\nRUN [\"yum\", \"install\", \"-y\", \"tomcat\"]\n",
            "FROM centos:7\nARG PKGS=\"tomcat httpd-2.4.6\"\nRUN yum install -y $PKGS\n",
            "FROM centos:7 AS build\nRUN yum install -y gcc\nFROM scratch\n",
            "FROM centos:7\nRUN bash -c \"yum install -y tomcat\"\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
        }
    }

    #[test]
    fn messages_name_the_packages() {
        assert_eq!(
            messages(
                &RULE,
                "FROM centos:7\nRUN yum install -y tomcat curl-7.29.0 wget\n"
            ),
            vec![
                "`yum install` without a version for `tomcat`, `wget`; pin it as \
                  `<package>-<version>`"
            ]
        );
        assert_eq!(
            messages(&RULE, "FROM centos:7\nRUN yum module install -y nodejs\n"),
            vec![
                "`yum module install` without a stream for `nodejs`; name it as \
                  `<module>:<stream>`"
            ]
        );
    }

    #[test]
    fn heredoc_reports_the_command_line() {
        let src = "FROM centos:7\nRUN <<EOF\nset -e\nyum install -y tomcat\nEOF\n";
        assert_eq!(lint(&RULE, src), vec![4]);
    }

    #[test]
    fn does_not_catch_versions_files_groups_or_unknowable() {
        for src in [
            "FROM centos:7\nRUN yum install -y tomcat-9.2 && yum clean all\n",
            "FROM centos:7\nRUN yum install -y openssl-1:1.1.1k rpm-sign-4.16.1.3 gcc-c++-1.1.1\n",
            "FROM centos:7\nRUN yum install -y \"git-core-${GIT_VER}\" tomcat-$VERSION\n",
            "FROM centos:7\nARG V=2.4.6\nRUN yum install -y httpd-${V}\n",
            "FROM centos:7\nRUN yum module install -y tomcat:9 nodejs:18/common\n",
            "FROM centos:7\nRUN yum install -y /tmp/x.rpm https://example.com/y.rpm\n",
            "FROM centos:7\nRUN yum install -y @development 'dnf-command(config-manager)'\n",
            "FROM centos:7\nARG PACKAGES\nRUN yum install -y $PACKAGES\n",
            "FROM centos:7\nRUN yum install -y $(cat /packages.txt)\n",
            "FROM centos:7\nRUN yum -x tomcat install -y httpd-2.4.6\n",
            "FROM centos:7\nRUN yum groupinstall -y 'Development Tools' && yum update -y\n",
            "FROM centos:7\nRUN dnf install -y tomcat\n",
            "FROM centos:7\nRUN bash -c `# not even a yum command`\n",
            "FROM centos:7\nSHELL [\"pwsh\", \"-c\"]\nRUN yum install -y tomcat\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
