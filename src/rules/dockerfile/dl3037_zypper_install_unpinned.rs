use super::package_managers::{list, runs};
use super::rpm_package_managers::{zypper_spec_is_pinned, Invocation, ZYPPER};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// `zypper install` of a package without a version.
    ///
    /// Flags `zypper install` (`zypper in`) arguments that name a package without a version
    /// constraint, in every stage and form (shell and exec form, heredoc scripts, behind
    /// `sudo`, inside `sh -c '…'`). `name=1.2`, `name>=1.2`, `name<2` and variables after the
    /// operator (`name=${VERSION}`) pass, as do `.rpm` files, URLs and paths. Installs of
    /// another `--type` (patterns, patches, products) have no versions and are left alone.
    /// Package lists from `ARG`/`ENV` values are expanded and judged; a variable without a
    /// known value cannot be judged and is left alone.
    ///
    /// ## Why
    /// Without a version, every build installs whatever the repository serves that day: two
    /// builds of the same commit differ, a broken or malicious update arrives unreviewed, and
    /// nobody can tell afterwards which version shipped.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN zypper -n install httpd && zypper clean
    /// ```
    /// Pin the version:
    /// ```dockerfile
    /// RUN zypper -n install httpd=2.4.58 && zypper clean
    /// ```
    pub static RULE = Rule {
        id: "DL3037",
        name: "zypper-install-unpinned",
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
            let Some(targets) = zypper.zypper_install_targets() else {
                continue;
            };
            let unpinned: Vec<String> = targets
                .iter()
                .flat_map(|word| run.expand(facts, word))
                .filter(|spec| !zypper_spec_is_pinned(spec))
                .collect();
            if unpinned.is_empty() {
                continue;
            }
            out.push(
                run.span(facts, command),
                format!(
                    "`{}` without a version for {}; pin it as `<package>=<version>`",
                    zypper.describe(),
                    list(&unpinned)
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::{lint, messages};

    #[test]
    fn catches_packages_without_versions() {
        for src in [
            "FROM opensuse/leap\nRUN zypper install -y tomcat && zypper clean\n",
            "FROM opensuse/leap\nRUN zypper -n in tomcat-9.0 httpd=2.4\n",
            "FROM opensuse/leap\nRUN sudo zypper -n --root /x in -r repo tomcat\n",
            "FROM opensuse/leap\nRUN [\"zypper\", \"in\", \"tomcat\"]\n",
            "FROM opensuse/leap\nARG PKGS=tomcat\nRUN zypper -n in $PKGS\n",
            "FROM opensuse/leap\nRUN zypper -n in -t package tomcat\n",
            "FROM opensuse/leap\nONBUILD RUN zypper -n in tomcat\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
        }
        assert_eq!(
            messages(&RULE, "FROM opensuse/leap\nRUN zypper -n in tomcat\n"),
            vec!["`zypper in` without a version for `tomcat`; pin it as `<package>=<version>`"]
        );
        let src = "FROM opensuse/leap\nRUN <<EOF\nzypper -n in a=1\nzypper -n in b\nEOF\n";
        assert_eq!(lint(&RULE, src), vec![4]);
    }

    #[test]
    fn does_not_catch_versions_files_patterns_or_unknowable() {
        for src in [
            "FROM opensuse/leap\nRUN zypper install -y tomcat=9.0.39 && zypper clean\n",
            "FROM opensuse/leap\nRUN zypper install -y tomcat\\>=9.0 'httpd<3' \"x>1\" y\\<=2\n",
            "FROM opensuse/leap\nRUN zypper install -y tomcat-9.0.39-1.rpm\n",
            "FROM opensuse/leap\nRUN zypper -n in \"tomcat=${TOMCAT_VERSION}\"\n",
            "FROM opensuse/leap\nRUN zypper -n in -t pattern devel_basis\n",
            "FROM opensuse/leap\nARG PKGS\nRUN zypper -n in $PKGS\n",
            "FROM opensuse/leap\nRUN zypper -n rm tomcat && zypper -n up\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
