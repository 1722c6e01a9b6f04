use super::package_managers::{
    apt_bool, apt_command, apt_option_values, flag_values, has_flag, run_texts_up_to, runs, Arg,
    Run,
};
use crate::dockerfile::DockerfileFacts;
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

/// The option `--no-install-recommends` turns off.
const INSTALL_RECOMMENDS: &str = "APT::Install-Recommends";

/// Where installed packages land: a `COPY --from` of one of these carries them along.
const PACKAGE_PATHS: &[&str] = &[
    "/usr/bin",
    "/usr/sbin",
    "/usr/lib",
    "/usr/share",
    "/etc",
    "/var/lib/dpkg",
];

crate::declare_rule! {
    /// `apt-get install` without `--no-install-recommends`.
    ///
    /// Flags `apt-get install` (and `apt install`, `apt-get install -f`) unless recommended
    /// packages are turned off: `--no-install-recommends`, `-o APT::Install-Recommends=false`, or
    /// `APT::Install-Recommends "false";` (or `"0"`) written to the APT configuration by an
    /// earlier RUN of the stage or a stage it is built from. Only stages whose installed
    /// packages reach the built image are judged: the last stage, stages it is built `FROM`,
    /// and stages whose system directories a `COPY --from` copies; what a builder stage
    /// installs and leaves behind does not ship.
    ///
    /// ## Why
    /// Recommended packages are not needed by the package you asked for, yet by default APT
    /// installs them: often dozens of extra packages, each more to download, to store and to
    /// patch when a vulnerability is found in it.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN apt-get update && apt-get install -y curl=7.88.1-10+deb12u8 \
    ///  && rm -rf /var/lib/apt/lists/*
    /// ```
    /// Install only what is needed:
    /// ```dockerfile
    /// RUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u8 \
    ///  && rm -rf /var/lib/apt/lists/*
    /// ```
    pub static RULE = Rule {
        id: "DL3015",
        name: "apt-get-install-recommends",
        severity: Severity::Low,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    for run in runs(facts) {
        if !run.reaches_image(facts, PACKAGE_PATHS) || configured_off(facts, &run) {
            continue;
        }
        for command in run.commands {
            let Some((args, "install")) = apt_command(command) else {
                continue;
            };
            if turned_off(&args) {
                continue;
            }
            let program = command.cmd.program_name().unwrap_or("apt-get");
            out.push(
                run.span(facts, command),
                format!(
                    "`{program} install` also installs recommended packages; add \
                     `--no-install-recommends`"
                ),
            );
        }
    }
}

/// Whether the command's own flags turn recommended packages off.
fn turned_off(args: &[Arg<'_>]) -> bool {
    has_flag(args, &["no-install-recommends"])
        || flag_values(args, &["o", "option"]).flatten().any(|o| {
            o.split_once('=').is_some_and(|(key, value)| {
                key.eq_ignore_ascii_case(INSTALL_RECOMMENDS) && apt_bool(value) == Some(false)
            })
        })
}

/// Whether an earlier RUN wrote `APT::Install-Recommends "false";` to the APT configuration.
fn configured_off(facts: &DockerfileFacts, run: &Run<'_>) -> bool {
    run_texts_up_to(facts, run).iter().any(|text| {
        apt_option_values(text, INSTALL_RECOMMENDS)
            .iter()
            .any(|v| apt_bool(v) == Some(false))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::lint;

    #[test]
    fn catches_installs_with_recommends() {
        for src in [
            "FROM debian\nRUN apt-get install -y python\n",
            "FROM debian\nRUN apt-get -y install python\n",
            "FROM debian\nRUN apt install -y python\n",
            "FROM debian\nRUN sudo apt-get install -y python\n",
            "FROM debian\nRUN [\"apt-get\", \"install\", \"-y\", \"python\"]\n",
            "FROM debian\nRUN apt-get -o APT::Install-Recommends=true install -y python\n",
            "FROM debian AS base\nRUN apt-get install -y python\nFROM base\n",
            "FROM debian AS base\nRUN apt-get install -y python\nFROM scratch\nCOPY --from=base /usr /usr\n",
            "FROM debian\nONBUILD RUN apt-get install -y python\nFROM scratch\n",
            // Fixing broken dependencies installs their recommendations too.
            "FROM debian\nRUN dpkg -i /tmp/x.deb; apt-get install -f -y\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
        }
    }

    #[test]
    fn heredoc_reports_the_command_line() {
        let src = "FROM debian\nRUN <<EOF\napt-get update\napt-get install -y curl\nEOF\n";
        assert_eq!(lint(&RULE, src), vec![4]);
    }

    #[test]
    fn does_not_catch_turned_off_or_discarded_recommends() {
        for src in [
            "FROM debian\nRUN apt-get install --no-install-recommends python\n",
            "FROM debian\nRUN apt-get install -y \\\n  --no-install-recommends \\\n  python\n",
            "FROM debian\nRUN apt-get -o APT::Install-Recommends=false install python\n",
            "FROM debian\nRUN apt-get -oAPT::Install-Recommends=0 install python\n",
            "FROM debian\nRUN echo 'APT::Install-Recommends \"0\";' > /etc/apt/apt.conf.d/01norecommends\nRUN apt-get install -y python\n",
            "FROM debian AS base\nRUN printf 'APT::Install-Recommends \"false\";\\n' > /etc/apt/apt.conf.d/x\nFROM base\nRUN apt-get install -y python\n",
            // A builder stage: only its build output is copied.
            "FROM debian AS build\nRUN apt-get install -y gcc\nFROM debian:12-slim\nCOPY --from=build /src/app /usr/local/bin/app\n",
            "FROM debian\nSHELL [\"pwsh\", \"-c\"]\nRUN apt-get install python\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
