use super::package_managers::runs;
use super::rpm_package_managers::{Invocation, ZYPPER, ZYPPER_CACHE};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// `zypper` leaves its cache in the image.
    ///
    /// Flags a RUN whose `zypper install` (or `update`, `patch`, `dist-upgrade`, `refresh`, …)
    /// is not followed, in the same RUN, by `zypper clean` (`zypper cc`, with any options) or
    /// by removing `/var/cache/zypp`. A cleanup before the install, or in a later RUN, does not
    /// help: the cache is already in the install's layer. A `--mount=type=cache` (or `tmpfs`)
    /// at `/var/cache/zypp` passes. Stages whose files never reach the built image (a builder
    /// stage that only has other paths copied out of it) are not flagged; `ONBUILD` triggers
    /// always are.
    ///
    /// ## Why
    /// Repository metadata and packages add tens of megabytes to every image that ships them,
    /// and slow every pull, for files nothing at run time reads.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN zypper -n install httpd=2.4.58
    /// ```
    /// Clean up in the same RUN:
    /// ```dockerfile
    /// RUN zypper -n install httpd=2.4.58 && zypper clean --all
    /// ```
    pub static RULE = Rule {
        id: "DL3036",
        name: "zypper-cache-not-cleaned",
        severity: Severity::Medium,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    for run in runs(facts) {
        let zypper: Vec<(usize, Invocation<'_>)> = run
            .commands
            .iter()
            .enumerate()
            .filter_map(|(i, c)| Invocation::read(c, ZYPPER).map(|z| (i, z)))
            .collect();
        let Some((position, fill)) = zypper.iter().rev().find(|(_, z)| z.zypper_fills_cache())
        else {
            continue;
        };
        let cleaned = zypper
            .iter()
            .any(|(i, z)| i > position && matches!(z.subcommand(), Some("clean" | "cc")));
        if cleaned
            || run.removes_after(*position, ZYPPER_CACHE)
            || run.mounts_over(ZYPPER_CACHE)
            || !run.reaches_image(facts, ZYPPER_CACHE)
        {
            continue;
        }
        let Some(command) = run.commands.get(*position) else {
            continue;
        };
        out.push(
            run.span(facts, command),
            format!(
                "`{}` leaves its cache in the layer; end this RUN with `zypper clean --all` (or \
                 mount a cache at `/var/cache/zypp`)",
                fill.describe()
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::lint;

    #[test]
    fn catches_installs_without_cleanup() {
        for src in [
            "FROM opensuse/leap\nRUN zypper install -y mariadb=10.4\n",
            "FROM opensuse/leap\nRUN zypper clean && zypper -n in mariadb=10.4\n",
            "FROM opensuse/leap\nRUN zypper -n in mariadb=10.4\nRUN zypper clean\n",
            "FROM opensuse/leap\nRUN zypper -n ref\n",
            "FROM opensuse/leap\nRUN sudo zypper -n up\n",
            "FROM opensuse/leap\nRUN [\"zypper\", \"-n\", \"in\", \"x=1\"]\n",
            "FROM opensuse/leap\nONBUILD RUN zypper -n in x=1\n",
            "FROM opensuse/leap AS base\nRUN zypper -n in x=1\nFROM base\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
        }
        let src = "FROM opensuse/leap\nRUN <<EOF\nzypper -n in a=1\nzypper -n in b=1\nEOF\n";
        assert_eq!(lint(&RULE, src), vec![4]);
    }

    #[test]
    fn does_not_catch_cleanups_mounts_or_builder_stages() {
        for src in [
            "FROM opensuse/leap\nRUN zypper install -y mariadb=10.4 && zypper clean\n",
            "FROM opensuse/leap\nRUN zypper install -y mariadb=10.4 && zypper cc -a\n",
            "FROM opensuse/leap\nRUN zypper -n in x=1 && rm -rf /var/cache/zypp/*\n",
            "FROM opensuse/leap\nRUN --mount=type=cache,target=/var/cache/zypp zypper -n in x=1\n",
            "FROM opensuse/leap AS build\nRUN zypper -n in gcc=13 && make\n\
             FROM scratch\nCOPY --from=build /out /out\n",
            "FROM opensuse/leap\nRUN zypper -n rm x && zypper search y\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
