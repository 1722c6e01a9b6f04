use super::package_managers::{flag_values, has_flag, runs, Syntax};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

/// UIDs from here on make `/var/log/lastlog` (about 300 bytes per UID) reach tens of
/// megabytes and more.
const HIGH_UID: u64 = 100_000;

/// The options of `useradd` that take a value.
const USERADD: Syntax = Syntax {
    short_with_value: "bcdefgGkKpsuRPZ",
    long_with_value: &[
        "base-dir",
        "comment",
        "home-dir",
        "expiredate",
        "inactive",
        "gid",
        "groups",
        "skel",
        "key",
        "password",
        "shell",
        "uid",
        "root",
        "prefix",
        "selinux-user",
        "btrfs-subvolume-home",
    ],
    single_dash_long: false,
};

crate::declare_rule! {
    /// `useradd` with a high UID and without `-l`.
    ///
    /// Flags `useradd -u <uid>` (also `--uid <uid>`, `--uid=<uid>`, `-u<uid>`) with a UID of
    /// 100000 or more when `-l`/`--no-log-init` is missing. UIDs from `ARG`/`ENV` values are
    /// expanded; a UID without a known value is left alone. Read in every stage and form
    /// (shell and exec form, heredoc scripts, behind `sudo`, inside `sh -c '…'`).
    ///
    /// ## Why
    /// `useradd` records the new user in `/var/log/lastlog` and `/var/log/faillog`, sparse
    /// files indexed by UID. Image layers do not keep files sparse, so a UID of 100000 writes
    /// about 30 MB of zeros into the layer, and a UID in the billions can exhaust the
    /// builder's disk. `-l` skips those logs, which a container never reads.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN useradd -u 123456 app
    /// ```
    /// Skip the login logs:
    /// ```dockerfile
    /// RUN useradd -l -u 123456 app
    /// ```
    pub static RULE = Rule {
        id: "DL3046",
        name: "useradd-high-uid-without-no-log-init",
        severity: Severity::Medium,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    for run in runs(facts) {
        for command in run.commands {
            if !command.cmd.is("useradd") {
                continue;
            }
            let args = USERADD.parse(command.cmd.args());
            if has_flag(&args, &["l", "no-log-init"]) {
                continue;
            }
            let high_uid = flag_values(&args, &["u", "uid"])
                .flatten()
                .flat_map(|uid| run.expand(facts, uid))
                .filter_map(|uid| uid.parse::<u64>().ok())
                .find(|uid| *uid >= HIGH_UID);
            if let Some(uid) = high_uid {
                out.push(
                    run.span(facts, command),
                    format!(
                        "`useradd` with UID {uid} and without `-l` writes a large \
                         `/var/log/lastlog` into the layer; add `-l` (`--no-log-init`)"
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
    fn catches_high_uids_without_l() {
        for src in [
            "FROM debian\nRUN useradd -u 123456 luser\n",
            "FROM debian\nRUN useradd --uid 100000 -m luser\n",
            "FROM debian\nRUN useradd --uid=1000000000 luser\n",
            "FROM debian\nRUN useradd -mu123456 luser\n",
            "FROM debian\nARG UID=200000\nRUN useradd -u \"$UID\" luser\n",
            "FROM debian\nRUN sudo /usr/sbin/useradd -u 123456 luser\n",
            "FROM debian\nRUN [\"useradd\", \"-u\", \"123456\", \"luser\"]\n",
            "FROM debian\nONBUILD RUN useradd -u 123456 luser\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
        }
        let src = "FROM debian\nRUN <<EOF\ngroupadd -g 123456 g\nuseradd -u 123456 -g g u\nEOF\n";
        assert_eq!(lint(&RULE, src), vec![4]);
    }

    #[test]
    fn does_not_catch_low_uids_l_or_unknowable() {
        for src in [
            "FROM debian\nRUN useradd luser\n",
            "FROM debian\nRUN useradd -u 12345 luser\n",
            "FROM debian\nRUN useradd -l -u 123456 luser\n",
            "FROM debian\nRUN useradd --no-log-init --uid 123456 luser\n",
            "FROM debian\nRUN useradd -lu 123456 luser\n",
            "FROM debian\nRUN useradd -l luser\n",
            "FROM debian\nARG UID\nRUN useradd -u $UID luser\n",
            "FROM debian\nRUN useradd -c 123456 -u 1000 luser\n",
            "FROM debian\nRUN adduser -u 123456 luser\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
