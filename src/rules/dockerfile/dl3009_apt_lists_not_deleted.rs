use super::package_managers::{apt_command, runs};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

/// Where `apt-get update` stores the package lists.
const LISTS: &[&str] = &["/var/lib/apt/lists"];

crate::declare_rule! {
    /// `apt-get update` leaves the package lists in the image.
    ///
    /// Flags a RUN that runs `apt-get update` (or `apt update`) without deleting
    /// `/var/lib/apt/lists` later in the same RUN (`rm -rf /var/lib/apt/lists/*`, `find …
    /// -delete`, or `apt-get dist-clean`) and without a `--mount=type=cache` or `tmpfs` mount
    /// over that directory. Only stages whose files reach the built image are judged: the
    /// last stage, stages it is built `FROM`, and stages a `COPY --from` copies the lists out
    /// of (`COPY --from=base / /`). A builder stage whose files are left behind is not
    /// flagged. An `ONBUILD RUN` always is: it runs in some later image.
    ///
    /// ## Why
    /// The lists are tens of megabytes that nothing in the running container needs. Deleting
    /// them in a later RUN does not help: the layer that added them still ships.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u8
    /// ```
    /// Delete the lists in the same RUN:
    /// ```dockerfile
    /// RUN apt-get update \
    ///  && apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u8 \
    ///  && rm -rf /var/lib/apt/lists/*
    /// ```
    pub static RULE = Rule {
        id: "DL3009",
        name: "apt-lists-not-deleted",
        severity: Severity::Low,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    for run in runs(facts) {
        let last_update = run
            .commands
            .iter()
            .enumerate()
            .rev()
            .find(|(_, c)| matches!(apt_command(c), Some((_, "update"))));
        let Some((position, update)) = last_update else {
            continue;
        };
        if run.mounts_over(LISTS)
            || run.removes_after(position, LISTS)
            || !run.reaches_image(facts, LISTS)
        {
            continue;
        }
        let program = update.cmd.program_name().unwrap_or("apt-get");
        out.push(
            run.span(facts, update),
            format!(
                "`{program} update` leaves the package lists in the image; delete them in the \
                 same RUN with `rm -rf /var/lib/apt/lists/*`"
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::lint;

    #[test]
    fn catches_lists_left_in_the_image() {
        for src in [
            "FROM debian\nRUN apt-get update && apt-get install -y curl\n",
            "FROM debian\nRUN apt update && apt install -y curl\n",
            "FROM debian\nRUN apt-get update && apt-get install -y curl\nRUN rm -rf /var/lib/apt/lists/*\n",
            "FROM debian\nRUN rm -rf /var/lib/apt/lists/* && apt-get update && apt-get install -y curl\n",
            "FROM debian\nRUN rm -rf /tmp/* && apt-get update && apt-get install -y curl\n",
            "FROM debian\nRUN --mount=type=cache,target=/var/cache/apt apt-get update && apt-get install -y curl\n",
            "FROM debian\nRUN --mount=type=bind,target=/var/lib/apt/lists apt-get update\n",
            // The stage is the base of the final one.
            "FROM ubuntu AS base\nRUN apt-get update && apt-get install -y python3\nFROM base\nRUN true\n",
            // The final stage copies everything out of it.
            "FROM ubuntu AS base\nRUN apt-get update\nFROM scratch\nCOPY --from=base / /\n",
            "FROM ubuntu AS base\nRUN apt-get update\nFROM scratch\nCOPY --from=0 /var/lib/apt /var/lib/apt\n",
            // An ONBUILD trigger runs in some other image.
            "FROM ubuntu AS base\nONBUILD RUN apt-get update\nFROM scratch\n",
            "FROM debian\nRUN sudo apt-get update\n",
            // A variable path proves nothing.
            "FROM debian\nRUN apt-get update && for d in $DIRS; do rm -rf \"$d\"; done\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
        }
    }

    #[test]
    fn heredoc_reports_the_update_line() {
        let src = "FROM debian\nRUN <<EOF\nset -e\napt-get update\napt-get install -y curl\nEOF\n";
        assert_eq!(lint(&RULE, src), vec![4]);
    }

    #[test]
    fn does_not_catch_cleaned_mounted_or_discarded_lists() {
        for src in [
            "FROM debian\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n",
            "FROM debian\nRUN apt-get update \\\n && apt-get install -y curl \\\n && rm -rf /var/lib/apt/lists\n",
            "FROM debian\nRUN apt-get update && apt-get install -y curl && find /var/lib/apt/lists -type f -delete\n",
            "FROM debian\nRUN set -eux; apt-get update; apt-get install -y curl; apt-get dist-clean\n",
            "FROM debian\nRUN <<EOF\napt-get update\napt-get install -y curl\nrm -rf /var/lib/apt/lists/*\nEOF\n",
            "FROM debian\nRUN --mount=type=cache,target=/var/lib/apt/lists apt-get update && apt-get install -y curl\n",
            "FROM debian\nRUN --mount=type=cache,target=/var/lib/apt --mount=type=cache,target=/var/cache/apt apt-get update\n",
            "FROM debian\nRUN --mount=type=tmpfs,target=/var/lib/apt apt-get update\n",
            // Builder stages whose lists never reach the image.
            "FROM ubuntu AS build\nRUN apt-get update && apt-get install -y gcc\nFROM scratch\nRUN true\n",
            "FROM ubuntu AS build\nRUN apt-get update && apt-get install -y gcc\nFROM debian\nCOPY --from=build /out/app /usr/local/bin/app\n",
            "FROM debian\nRUN apt-get install -y ./local.deb\n",
            "FROM debian\nRUN cat <<EOF > /setup.sh\napt-get update\nEOF\n",
            "FROM debian\nSHELL [\"pwsh\", \"-c\"]\nRUN apt-get update\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
