use super::rpm_package_managers::{report_unpinned_installs, DNF};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// `dnf install` of a package without a version.
    ///
    /// Flags `dnf install` arguments that name a package without a version, and
    /// `dnf module install` arguments without a stream, for `dnf`, `dnf5`, `microdnf` and
    /// `tdnf`, in every stage and form (shell and exec form, heredoc scripts, behind `sudo`,
    /// inside `sh -c '…'`).
    ///
    /// A package is pinned when the part after its last `-` starts a version or release:
    /// `httpd-2.4.57`, `httpd-2.4.57-5.el9`, `openssl-1:3.0.7`, `gcc-c++-11.4.1`, globs such as
    /// `httpd-2.4.*`, and variables such as `httpd-${HTTPD_VERSION}`. A dash inside the name is
    /// not a version: `rpm-sign` and `java-17-openjdk` are flagged. `.rpm` files, URLs and
    /// paths pass. Group names (`@…`) and capabilities (`dnf-command(config-manager)`) cannot
    /// be pinned this way and are left alone. Package lists from `ARG`/`ENV` values are
    /// expanded and judged; a variable without a known value cannot be judged and is left
    /// alone. `yum` is `DL3033`.
    ///
    /// ## Why
    /// Without a version, every build installs whatever the mirror serves that day: two
    /// builds of the same commit differ, a broken or malicious update arrives unreviewed, and
    /// nobody can tell afterwards which version shipped.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN microdnf install -y httpd && microdnf clean all
    /// ```
    /// Pin the version:
    /// ```dockerfile
    /// RUN microdnf install -y httpd-2.4.57-5.el9 && microdnf clean all
    /// ```
    pub static RULE = Rule {
        id: "DL3041",
        name: "dnf-install-unpinned",
        severity: Severity::Medium,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    report_unpinned_installs(ctx, out, DNF);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::{lint, messages};

    #[test]
    fn catches_packages_and_modules_without_versions() {
        for src in [
            "FROM fedora:40\nRUN dnf install -y tomcat && dnf clean all\n",
            "FROM ubi9/ubi-minimal\nRUN microdnf install -y tomcat && microdnf clean all\n",
            "FROM fedora:40\nRUN dnf install -y rpm-sign && dnf clean all\n",
            "FROM fedora:40\nRUN dnf5 install -y java-17-openjdk\n",
            "FROM photon:5.0\nRUN tdnf install -y httpd\n",
            "FROM fedora:40\nRUN dnf module install -y tomcat && dnf clean all\n",
            "FROM fedora:40\nRUN dnf -y --setopt install_weak_deps=False install httpd\n",
            "FROM fedora:40\nRUN [\"microdnf\", \"install\", \"httpd\"]\n",
            "FROM fedora:40\nENV PKGS=\"httpd mod_ssl-2.4.57\"\nRUN dnf install -y ${PKGS}\n",
            "FROM fedora:40\nONBUILD RUN dnf install -y httpd\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
        }
    }

    #[test]
    fn messages_name_the_packages() {
        assert_eq!(
            messages(&RULE, "FROM ubi9\nRUN microdnf install -y httpd\n"),
            vec![
                "`microdnf install` without a version for `httpd`; pin it as \
                  `<package>-<version>`"
            ]
        );
    }

    #[test]
    fn heredoc_reports_the_command_line() {
        let src =
            "FROM fedora:40\nRUN <<EOF\ndnf install -y tomcat-9.0.1\ndnf install -y curl\nEOF\n";
        assert_eq!(lint(&RULE, src), vec![4]);
    }

    #[test]
    fn does_not_catch_versions_files_groups_or_unknowable() {
        for src in [
            "FROM fedora:40\nRUN dnf install -y tomcat-9.0.1 && dnf clean all\n",
            "FROM fedora:40\nRUN microdnf install -y rpm-sign-4.16.1.3 gcc-c++-1.1.1\n",
            "FROM fedora:40\nRUN dnf install -y openssl-1:1.1.1k\n",
            "FROM fedora:40\nRUN dnf install -y \"git-core-${GIT_VER}\" tomcat-$VERSION\n",
            "FROM fedora:40\nRUN dnf module install -y tomcat:9\n",
            "FROM fedora:40\nRUN dnf install -y 'dnf-command(config-manager)' @core\n",
            "FROM fedora:40\nRUN dnf install -y https://example.com/x.rpm\n",
            "FROM fedora:40\nARG PKGS\nRUN dnf install -y $PKGS\n",
            "FROM fedora:40\nRUN dnf upgrade -y && dnf group install -y 'C Development Tools'\n",
            "FROM fedora:40\nRUN notdnf install tomcat\n",
            "FROM fedora:40\nRUN notdnf module install tomcat\n",
            "FROM fedora:40\nRUN yum install -y tomcat\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
