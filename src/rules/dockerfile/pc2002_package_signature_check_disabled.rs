use super::util::{command_span, config_matches, config_pattern, ConfigPattern, Hits};
use crate::dockerfile::shell::{run_scripts, SimpleCommand};
use crate::finding::{Severity, Span};
use crate::rules::{Check, Diagnostics, DockerfileContext};
use std::sync::LazyLock;

crate::declare_rule! {
    /// Package signature or digest checks turned off.
    ///
    /// Flags the switches that make a package manager install packages nobody vouched for:
    ///
    /// - `apk --allow-untrusted`;
    /// - `apt-get`/`apt` `--allow-unauthenticated`, `--allow-insecure-repositories`,
    ///   `--force-yes`, aptitude's `--allow-untrusted`, the `APT::Get::AllowUnauthenticated`,
    ///   `Acquire::AllowInsecureRepositories` and `Acquire::AllowDowngradeToInsecureRepositories`
    ///   options (on the command line with `-o` or written to `apt.conf.d`), and `[trusted=yes]`
    ///   (or `Trusted: yes`) in a sources list;
    /// - `yum`/`dnf`/`microdnf`/`tdnf` `--nogpgcheck`, `gpgcheck=0` in a repository file or
    ///   `--setopt`, `zypper --no-gpg-checks` and `zypper addrepo --no-gpgcheck`/`-G`;
    /// - `rpm --nosignature`/`--nodigest`/`--noverify` when installing or upgrading;
    /// - `dpkg --force-bad-verify`.
    ///
    /// Configuration is found in what a `RUN` writes (`echo`, `sed`, heredocs) and in
    /// `COPY <<EOF` heredocs. `repo_gpgcheck` and `localpkg_gpgcheck` are left alone.
    ///
    /// ## Why
    /// Package signatures are what ties a package to its publisher: without them, a mirror,
    /// a proxy or anyone on the network path can substitute a package, and its install scripts
    /// run as root in your build. The severity is high because the substituted package ends up
    /// in every container started from the image. A repository without a signing key usually
    /// just needs its key: fetch it once, check its fingerprint, and point the repository at it
    /// (`signed-by=` for apt, `gpgkey=` for yum/dnf, `apk add --keys-dir`, `rpm --import`).
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM debian:12
    /// RUN echo "deb [trusted=yes] http://repo.example.com/debian stable main" \
    ///       > /etc/apt/sources.list.d/example.list \
    ///  && apt-get update && apt-get install -y --allow-unauthenticated example-tool
    /// ```
    /// Trust the repository's key, not the repository:
    /// ```dockerfile
    /// FROM debian:12
    /// COPY example-archive-keyring.gpg /usr/share/keyrings/
    /// RUN echo "deb [signed-by=/usr/share/keyrings/example-archive-keyring.gpg] https://repo.example.com/debian stable main" \
    ///       > /etc/apt/sources.list.d/example.list \
    ///  && apt-get update && apt-get install -y example-tool
    /// ```
    pub static RULE = Rule {
        id: "PC2002",
        name: "package-signature-check-disabled",
        severity: Severity::High,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    let mut hits = Hits::default();
    for run in run_scripts(&facts.file) {
        for command in &run.script.commands {
            if let Some(found) = unsigned_install(&command.unwrapped()) {
                let span = command_span(facts, &run, command, found.flag);
                hits.add(span, found.tool, found.message);
            }
        }
    }
    for (line, column, end, pattern) in config_matches(facts, UNSIGNED_CONFIG.as_slice()) {
        hits.add(
            Span::new(line, column, line, end),
            pattern.key,
            pattern.message,
        );
    }
    hits.into_diagnostics(out);
}

/// A flag that turns off signature checks.
struct Unsigned<'a> {
    /// The package manager family, so each is reported once per line.
    tool: &'static str,
    flag: &'a str,
    message: String,
}

/// The flag that turns off signature checks in `command`, with the message to report.
fn unsigned_install(command: &SimpleCommand) -> Option<Unsigned<'_>> {
    let program = command.program_name()?;
    let args = command.args();
    let find = |flags: &[&str]| {
        args.iter()
            .map(String::as_str)
            .find(|a| flags.contains(&a.split('=').next().unwrap_or(a)))
    };
    let (tool, flag, consequence) = match program {
        "apk" => (
            "apk",
            find(&["--allow-untrusted"])?,
            "installs packages whose signature is not checked",
        ),
        "apt-get" | "apt" => (
            "apt",
            find(&[
                "--allow-unauthenticated",
                "--allow-insecure-repositories",
                "--force-yes",
            ])?,
            "installs packages from repositories whose signature is not checked",
        ),
        "aptitude" => (
            "apt",
            find(&["--allow-untrusted", "--allow-unauthenticated"])?,
            "installs packages whose signature is not checked",
        ),
        "yum" | "dnf" | "dnf5" | "microdnf" | "tdnf" => (
            "yum",
            find(&["--nogpgcheck", "--no-gpgchecks"])?,
            "installs packages whose GPG signature is not checked",
        ),
        "zypper" => {
            let adds_repo = matches!(command.subcommand(), Some("ar" | "addrepo"));
            let flag = find(&["--no-gpg-checks", "--no-gpgcheck"]).or_else(|| {
                args.iter()
                    .map(String::as_str)
                    .find(|a| adds_repo && *a == "-G")
            })?;
            (
                "zypper",
                flag,
                "installs packages whose GPG signature is not checked",
            )
        }
        "rpm" if rpm_installs(args) => (
            "rpm",
            find(&["--nosignature", "--nodigest", "--noverify"])?,
            "installs packages without checking their signature or digest",
        ),
        "dpkg" => (
            "dpkg",
            find(&["--force-bad-verify"])?,
            "installs packages that failed signature verification",
        ),
        _ => return None,
    };
    Some(Unsigned {
        tool,
        flag,
        message: format!("`{program} {flag}` {consequence}"),
    })
}

/// Whether rpm runs in install, upgrade or freshen mode (`-i`, `-Uvh`, `--install`, …).
fn rpm_installs(args: &[String]) -> bool {
    args.iter().any(|a| {
        matches!(
            a.as_str(),
            "--install" | "--upgrade" | "--freshen" | "--reinstall"
        ) || (!a.starts_with("--")
            && matches!(a.chars().nth(1), Some('i' | 'U' | 'F'))
            && a.starts_with('-'))
    })
}

static UNSIGNED_CONFIG: LazyLock<Vec<ConfigPattern>> = LazyLock::new(|| {
    vec![
        config_pattern(
            r"(?i)\bgpgcheck\s*=\s*(0|false|no|off)\b",
            "gpgcheck",
            "gpgcheck",
            "`gpgcheck` off (yum/dnf repository or `--setopt`) installs packages whose GPG \
             signature is not checked",
        ),
        config_pattern(
            r"(?i)\[[^\]]*\btrusted\s*=\s*yes\b[^\]]*\]|^\s*Trusted:\s*yes\b",
            "trusted",
            "trusted",
            "an apt source marked `trusted=yes` is used without checking its signature",
        ),
        config_pattern(
            r#"(?i)\b(APT::Get::AllowUnauthenticated|Acquire::AllowInsecureRepositories|Acquire::AllowDowngradeToInsecureRepositories)\s*(=\s*|\s+)"?(true|yes|1|on)\b"#,
            "allow",
            "apt",
            "apt configured to accept unsigned repositories or packages",
        ),
    ]
});

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::{lint, messages};

    #[test]
    fn catches_unsigned_installs() {
        for src in [
            "FROM a\nRUN apk add --allow-untrusted /tmp/x.apk\n",
            "FROM a\nRUN apt-get install -y --allow-unauthenticated x\n",
            "FROM a\nRUN sudo apt-get install -y --force-yes x\n",
            "FROM a\nRUN apt update --allow-insecure-repositories\n",
            "FROM a\nRUN apt-get -o APT::Get::AllowUnauthenticated=true install x\n",
            "FROM a\nRUN apt-get update -o Acquire::AllowInsecureRepositories=true\n",
            "FROM a\nRUN echo 'APT::Get::AllowUnauthenticated \"true\";' > /etc/apt/apt.conf.d/99x\n",
            "FROM a\nRUN echo 'deb [trusted=yes] http://x/ ./' > /etc/apt/sources.list.d/x.list\n",
            "FROM a\nRUN echo 'deb [arch=amd64 trusted=yes] http://x/ ./' > /etc/apt/sources.list\n",
            "FROM a\nRUN yum install -y --nogpgcheck x\n",
            "FROM a\nRUN dnf --nogpgcheck install -y x\n",
            "FROM a\nRUN microdnf install --nogpgcheck x\n",
            "FROM a\nRUN dnf install -y --setopt=gpgcheck=0 x\n",
            "FROM a\nRUN sed -i 's/gpgcheck=1/gpgcheck=0/' /etc/yum.repos.d/*.repo\n",
            "FROM a\nRUN zypper --no-gpg-checks install -y x\n",
            "FROM a\nRUN zypper ar -G http://x/repo x\n",
            "FROM a\nRUN rpm -ivh --nosignature /tmp/x.rpm\n",
            "FROM a\nRUN rpm -Uvh --nodigest /tmp/x.rpm\n",
            "FROM a\nRUN dpkg -i --force-bad-verify /tmp/x.deb\n",
            "FROM a\nONBUILD RUN apk add --allow-untrusted /x.apk\n",
        ] {
            assert_eq!(lint(&RULE, src), vec![2], "should catch:\n{src}");
        }
    }

    #[test]
    fn catches_repository_files_and_heredocs() {
        let src = "FROM a\nRUN cat > /etc/yum.repos.d/x.repo <<EOF\n[x]\nbaseurl=https://x\ngpgcheck=0\nEOF\n";
        assert_eq!(lint(&RULE, src), vec![5]);
        let src = "FROM a\nCOPY <<EOF /etc/apt/sources.list.d/x.sources\nTypes: deb\nURIs: http://x\nTrusted: yes\nEOF\n";
        assert_eq!(lint(&RULE, src), vec![5]);
        let src = "FROM a\nRUN apt-get update \\\n && apt-get install -y \\\n      --allow-unauthenticated x\n";
        assert_eq!(lint(&RULE, src), vec![4]);
    }

    #[test]
    fn each_tool_once_per_line() {
        let src = "FROM a\nRUN apk add --allow-untrusted x.apk && rpm -i --nosignature y.rpm\n";
        assert_eq!(lint(&RULE, src), vec![2, 2]);
    }

    #[test]
    fn message_names_the_flag() {
        assert_eq!(
            messages(&RULE, "FROM a\nRUN sudo apk add --allow-untrusted x.apk\n"),
            vec!["`apk --allow-untrusted` installs packages whose signature is not checked"]
        );
    }

    #[test]
    fn does_not_catch_signed_installs() {
        for src in [
            "FROM a\nRUN apk add --no-cache curl\n",
            "FROM a\nRUN apt-get install -y --no-install-recommends curl\n",
            "FROM a\nRUN echo 'deb [signed-by=/usr/share/keyrings/x.gpg] https://x/ ./' > /etc/apt/sources.list\n",
            "FROM a\nRUN yum install -y x && yum clean all\n",
            "FROM a\nRUN dnf install -y --setopt=install_weak_deps=0 x\n",
            "FROM a\nRUN echo 'repo_gpgcheck=0' >> /etc/yum.repos.d/x.repo\n",
            "FROM a\nRUN echo 'localpkg_gpgcheck=0' >> /etc/yum.conf\n",
            "FROM a\nRUN echo 'gpgcheck=1' >> /etc/yum.repos.d/x.repo\n",
            "FROM a\nRUN rpm -qp --nosignature /tmp/x.rpm\n",
            "FROM a\nRUN rpm -K --nosignature /tmp/x.rpm\n",
            "FROM a\nRUN rpm -qip --nosignature /tmp/x.rpm\n",
            "FROM a\nRUN zypper install -y -G x\n",
            "FROM a\nRUN echo 'APT::Get::AllowUnauthenticated \"false\";' > /etc/apt/apt.conf.d/99x\n",
            "FROM a\n# RUN apk add --allow-untrusted x\nRUN true\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
