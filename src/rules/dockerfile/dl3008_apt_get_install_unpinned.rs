use super::package_managers::{apt_command, list, operands, runs};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// `apt-get install` of a package without a version.
    ///
    /// Flags `apt-get install` (and `apt install`) arguments that name a package without
    /// `=<version>`, in every stage, shell-form, exec-form and heredoc scripts alike (also
    /// behind `sudo` or inside `sh -c '…'`). `<package>=<version>` passes, with globs
    /// (`=1.2.*`) and variables (`=${CURL_VERSION}`) too; so do `.deb` files and paths.
    /// `<package>/<release>` picks a release, not a version, and is flagged. Package lists
    /// from `ARG`/`ENV` values are expanded and judged; a variable without a known value
    /// cannot be judged and is left alone.
    ///
    /// ## Why
    /// Without a version, every build installs whatever the mirror serves that day: two
    /// builds of the same commit differ, a broken or malicious update arrives unreviewed, and
    /// nobody can tell afterwards which version shipped. A pinned version makes a change to the
    /// image a change to the Dockerfile.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN apt-get update && apt-get install -y --no-install-recommends curl
    /// ```
    /// Pin the version:
    /// ```dockerfile
    /// RUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u8
    /// ```
    pub static RULE = Rule {
        id: "DL3008",
        name: "apt-get-install-unpinned",
        severity: Severity::Medium,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    for run in runs(facts) {
        for command in run.commands {
            let Some((args, "install")) = apt_command(command) else {
                continue;
            };
            let unpinned: Vec<String> = operands(&args, false)
                .iter()
                .skip(1)
                .flat_map(|word| run.expand(facts, word))
                .filter(|package| !is_pinned(package))
                .collect();
            if unpinned.is_empty() {
                continue;
            }
            let program = command.cmd.program_name().unwrap_or("apt-get");
            out.push(
                run.span(facts, command),
                format!(
                    "`{program} install` without a version for {}; pin it as \
                     `<package>=<version>`",
                    list(&unpinned)
                ),
            );
        }
    }
}

/// Whether an `apt-get install` argument fixes what gets installed.
fn is_pinned(package: &str) -> bool {
    let is_file = ["/", "./", "../", "~/"]
        .iter()
        .any(|p| package.starts_with(p))
        || package.ends_with(".deb");
    // `pkg-` asks apt to remove `pkg`.
    let is_removal = package.len() > 1 && package.ends_with('-');
    let has_version = package
        .split_once('=')
        .is_some_and(|(name, version)| !name.is_empty() && !version.is_empty());
    is_file || is_removal || has_version
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::{lint, messages};

    #[test]
    fn catches_packages_without_versions() {
        for src in [
            "FROM debian\nRUN apt-get update && apt-get install -y curl\n",
            "FROM debian\nRUN apt install -y curl\n",
            "FROM debian\nRUN sudo apt-get -y install curl=7.88 git\n",
            "FROM debian\nRUN [\"apt-get\", \"install\", \"-y\", \"curl\"]\n",
            "FROM debian\nRUN apt-get install -y curl/bookworm-backports\n",
            "FROM debian\nRUN apt-get install -y -t bookworm-backports curl\n",
            "FROM debian\nRUN sh -c 'apt-get update && apt-get install -y curl'\n",
            "FROM debian\nRUN [\"/bin/bash\", \"-ec\", \"apt-get install -y curl\"]\n",
            "FROM debian\nARG PKGS=\"curl=7.88 git\"\nRUN apt-get install -y $PKGS\n",
            "FROM debian\nENV TOOLS=\"make\"\nRUN apt-get install -y ${TOOLS}\n",
            "FROM debian AS build\nRUN apt-get install -y gcc\nFROM scratch\n",
            "FROM debian\nONBUILD RUN apt-get install -y curl\n",
            // Shell variables the script sets are known too.
            "FROM debian\nRUN set -ex; \\\n  deps=\" \\\n    gnupg \\\n  \"; \\\n  apt-get install -y $deps\n",
            "FROM debian\nRUN <<EOF\nexport TOOLS=\"make gcc=12\"\napt-get install -y $TOOLS\nEOF\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
        }
    }

    #[test]
    fn continuation_lines_report_the_instruction() {
        let src = "FROM debian\nRUN apt-get update \\\n && apt-get install -y \\\n    curl=7.88 \\\n    git\n";
        assert_eq!(lint(&RULE, src), vec![2]);
        assert_eq!(
            messages(&RULE, src),
            vec!["`apt-get install` without a version for `git`; pin it as `<package>=<version>`"]
        );
    }

    #[test]
    fn heredoc_scripts_report_the_command_line() {
        let src = "FROM debian\nRUN <<EOF\nset -e\napt-get update\napt-get install -y curl\nEOF\n";
        assert_eq!(lint(&RULE, src), vec![5]);
    }

    #[test]
    fn does_not_catch_pinned_files_or_unknowable() {
        for src in [
            "FROM debian\nRUN apt-get install -y python=1.2.2\n",
            "FROM debian\nRUN apt-get -yqq --no-install-recommends install nodejs=0.10\n",
            "FROM debian\nRUN apt-get install -y python-demjson=2.2.2* git=1:2.5.0* ruby=1:2.1.*\n",
            "FROM debian\nRUN apt-get install -y -t jessie-backports openjdk-8-jdk=8u131-b11-1~bpo8+1\n",
            "FROM debian\nRUN apt-get install ./wkhtmltox_0.12.5-1.bionic_amd64.deb /tmp/x.deb\n",
            "FROM debian\nARG CURL_VERSION\nRUN apt-get install -y curl=${CURL_VERSION}\n",
            "FROM debian\nRUN apt-get install -y \"curl=$CURL_VERSION\"\n",
            "FROM debian\nARG PACKAGES\nRUN apt-get install -y $PACKAGES\n",
            "FROM debian\nRUN apt-get install -y $(cat /tmp/packages)\n",
            "FROM debian\nRUN deps=$(cat /tmp/packages) && apt-get install -y $deps\n",
            "FROM debian\nRUN v=7.88 && apt-get install -y curl=$v\n",
            "FROM debian\nRUN apt-get -o Dpkg::Options::=--force-confold install -y curl=7\n",
            "FROM debian\nRUN apt-get purge -y curl && apt-get install -y curl-\n",
            "FROM debian\nRUN apt-get update && apt-get upgrade -y\n",
            "FROM debian\nRUN cat <<EOF > /usr/local/bin/setup\napt-get install -y curl\nEOF\n",
            "FROM debian\nSHELL [\"pwsh\", \"-c\"]\nRUN apt-get install -y curl\n",
            "FROM debian\nRUN echo apt-get install curl\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
