use super::package_managers::{
    apt_bool, apt_command, apt_option_values, flag_values, has_flag, run_texts_up_to, runs, Arg,
    Run,
};
use crate::dockerfile::DockerfileFacts;
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

/// Subcommands that ask "Do you want to continue?" before changing anything.
const PROMPTING: &[&str] = &[
    "install",
    "reinstall",
    "remove",
    "purge",
    "upgrade",
    "dist-upgrade",
    "full-upgrade",
    "autoremove",
    "autopurge",
    "build-dep",
    "satisfy",
];

/// The option `-y` sets.
const ASSUME_YES: &str = "APT::Get::Assume-Yes";

crate::declare_rule! {
    /// `apt-get install` without `-y`, which stops at the confirmation prompt.
    ///
    /// Flags `apt-get` (and `apt`) subcommands that ask for confirmation (`install`, `remove`,
    /// `purge`, `upgrade`, `dist-upgrade`, `autoremove`, …) when nothing answers it: no `-y`,
    /// `--yes` or `--assume-yes`, no quiet level 2 (`-qq`, `-q=2`, which implies `-y`), no
    /// `-o APT::Get::Assume-Yes=true`, no `yes |` in front, no `-s`/`--simulate`, and no
    /// `APT::Get::Assume-Yes "true";` written to the APT configuration by an earlier RUN of the
    /// stage (or a stage it is built from). A single `-q` does not imply `-y`.
    ///
    /// ## Why
    /// A build has no terminal: when APT asks whether to continue it reads end-of-file, answers
    /// no and fails, but only on the day the package set needs a confirmation, so the
    /// Dockerfile breaks later rather than now.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN apt-get update && apt-get install curl=7.88.1-10+deb12u8
    /// ```
    /// Answer yes up front:
    /// ```dockerfile
    /// RUN apt-get update && apt-get install -y curl=7.88.1-10+deb12u8
    /// ```
    pub static RULE = Rule {
        id: "DL3014",
        name: "apt-get-without-yes",
        severity: Severity::Medium,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    for run in runs(facts) {
        for (position, command) in run.commands.iter().enumerate() {
            let Some((args, subcommand)) = apt_command(command) else {
                continue;
            };
            if !PROMPTING.contains(&subcommand)
                || answers_yes(&args)
                || piped_from_yes(&run, position)
                || configured_yes(facts, &run)
            {
                continue;
            }
            let program = command.cmd.program_name().unwrap_or("apt-get");
            out.push(
                run.span(facts, command),
                format!(
                    "`{program} {subcommand}` without `-y` fails the build when it asks for \
                     confirmation; add `-y`"
                ),
            );
        }
    }
}

/// Whether the command's own flags answer the prompt (or make it a dry run).
fn answers_yes(args: &[Arg<'_>]) -> bool {
    let yes = flag_values(args, &["y", "yes", "assume-yes"])
        .any(|v| v.is_none_or(|v| apt_bool(v) == Some(true)));
    let dry_run = has_flag(
        args,
        &["s", "simulate", "just-print", "dry-run", "recon", "no-act"],
    );
    let quiet: usize = flag_values(args, &["q", "quiet"])
        .map(|v| v.map_or(1, |level| level.parse().unwrap_or(1)))
        .sum();
    let option = flag_values(args, &["o", "option"]).flatten().any(|o| {
        o.split_once('=').is_some_and(|(key, value)| {
            key.eq_ignore_ascii_case(ASSUME_YES) && apt_bool(value) == Some(true)
        })
    });
    yes || dry_run || quiet >= 2 || option
}

/// Whether the command reads its answers from `yes |`.
fn piped_from_yes(run: &Run<'_>, position: usize) -> bool {
    let Some(command) = run.commands.get(position) else {
        return false;
    };
    if command.raw.position == 0 {
        return false;
    }
    run.commands[..position]
        .iter()
        .rev()
        .find(|c| {
            c.raw.pipeline == command.raw.pipeline && c.raw.position + 1 == command.raw.position
        })
        .is_some_and(|c| c.cmd.is("yes"))
}

/// Whether an earlier RUN wrote `APT::Get::Assume-Yes "true";` to the APT configuration.
fn configured_yes(facts: &DockerfileFacts, run: &Run<'_>) -> bool {
    run_texts_up_to(facts, run).iter().any(|text| {
        apt_option_values(text, ASSUME_YES)
            .iter()
            .any(|v| apt_bool(v) == Some(true))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::{lint, messages};

    #[test]
    fn catches_prompts_nobody_answers() {
        for src in [
            "FROM debian\nRUN apt-get install python\n",
            "FROM debian\nRUN apt-get install -q python\n",
            "FROM debian\nRUN apt install python\n",
            "FROM debian\nRUN sudo apt-get --no-install-recommends install python\n",
            "FROM debian\nRUN apt-get update && apt-get upgrade\n",
            "FROM debian\nRUN apt-get -y install curl && apt-get purge curl\n",
            "FROM debian\nRUN [\"apt-get\", \"install\", \"python\"]\n",
            "FROM debian\nRUN apt-get -o APT::Get::Assume-Yes=false install python\n",
            "FROM debian AS build\nRUN apt-get install gcc\nFROM scratch\n",
            "FROM debian\nRUN echo yes && apt-get install python\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
        }
    }

    #[test]
    fn message_names_the_subcommand() {
        assert_eq!(
            messages(&RULE, "FROM debian\nRUN apt-get remove curl\n"),
            vec!["`apt-get remove` without `-y` fails the build when it asks for confirmation; add `-y`"]
        );
    }

    #[test]
    fn heredoc_reports_the_command_line() {
        let src = "FROM debian\nRUN <<EOF\napt-get update\napt-get install curl\nEOF\n";
        assert_eq!(lint(&RULE, src), vec![4]);
    }

    #[test]
    fn does_not_catch_answered_prompts() {
        for src in [
            "FROM debian\nRUN apt-get install -yq python\n",
            "FROM debian\nRUN apt-get install -qq python\n",
            "FROM debian\nRUN apt-get install -q -q python\n",
            "FROM debian\nRUN apt-get install -q=2 python\n",
            "FROM debian\nRUN apt-get -y install python\n",
            "FROM debian\nRUN apt-get --yes install python\n",
            "FROM debian\nRUN apt-get --assume-yes install python\n",
            "FROM debian\nRUN apt-get -o APT::Get::Assume-Yes=true install python\n",
            "FROM debian\nRUN yes | apt-get install python\n",
            "FROM debian\nRUN apt-get install -s python\n",
            "FROM debian\nRUN echo 'APT::Get::Assume-Yes \"true\";' > /etc/apt/apt.conf.d/90yes\nRUN apt-get install python\n",
            "FROM debian AS base\nRUN echo 'APT::Get::Assume-Yes \"1\";' > /etc/apt/apt.conf.d/90yes\nFROM base\nRUN apt-get install python\n",
            "FROM debian\nRUN apt-get update && apt-get source python\n",
            "FROM debian\nSHELL [\"pwsh\", \"-c\"]\nRUN apt-get install python\n",
            "FROM debian\nRUN cat <<EOF > /x.sh\napt-get install python\nEOF\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
