use super::package_managers::{apk_command, has_flag, runs};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

/// Where apk keeps the package index it downloads (and packages, when a cache is set up).
const CACHE: &[&str] = &["/var/cache/apk", "/etc/apk/cache"];

/// Subcommands that download the package index.
const FETCHING: &[&str] = &["add", "update", "upgrade"];

crate::declare_rule! {
    /// `apk add` without `--no-cache`, which leaves the package index in the image.
    ///
    /// Flags `apk add`, `apk update` and `apk upgrade` without `--no-cache`, unless
    /// `/var/cache/apk` is kept out of the layer: a `--mount=type=cache` or `tmpfs` mount over
    /// it, or deleting it later in the same RUN (`rm -rf /var/cache/apk/*`). Only stages whose
    /// `/var/cache/apk` reaches the built image are judged: a builder stage whose cache is left
    /// behind is not flagged.
    ///
    /// ## Why
    /// apk stores the index it downloads in `/var/cache/apk`: a few megabytes in every image
    /// that nothing at run time reads, and stale the day after the build. `--no-cache` fetches
    /// the index to a temporary place and removes it, which also makes `apk update` and
    /// `--update` unnecessary.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN apk update && apk add curl~8.11
    /// ```
    /// Use `--no-cache` instead:
    /// ```dockerfile
    /// RUN apk add --no-cache curl~8.11
    /// ```
    pub static RULE = Rule {
        id: "DL3019",
        name: "apk-add-with-cache",
        severity: Severity::Low,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    for run in runs(facts) {
        if run.mounts_over(CACHE) || !run.reaches_image(facts, CACHE) {
            continue;
        }
        for (position, command) in run.commands.iter().enumerate() {
            let Some((args, subcommand)) = apk_command(command) else {
                continue;
            };
            if !FETCHING.contains(&subcommand)
                || has_flag(&args, &["no-cache"])
                || run.removes_after(position, CACHE)
            {
                continue;
            }
            out.push(
                run.span(facts, command),
                format!(
                    "`apk {subcommand}` leaves the package index in /var/cache/apk; use \
                     `apk add --no-cache` instead"
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::lint;

    #[test]
    fn catches_index_left_in_the_image() {
        for src in [
            "FROM alpine:3.20\nRUN apk add flex=2.6.4-r1\n",
            "FROM alpine:3.20\nRUN apk add -U curl=8\n",
            "FROM alpine:3.20\nRUN sudo apk add curl=8\n",
            "FROM alpine:3.20\nRUN [\"apk\", \"add\", \"curl=8\"]\n",
            "FROM alpine:3.20\nRUN --mount=type=cache,target=/var/cache/foo apk add -U curl=7.77.0\n",
            "FROM alpine:3.20\nRUN rm -rf /var/cache/apk/* && apk add curl=8\n",
            "FROM alpine:3.20 AS base\nRUN apk add curl=8\nFROM base\n",
            "FROM alpine:3.20 AS base\nONBUILD RUN apk add curl=8\nFROM scratch\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
        }
        // `apk update` stores the index too, even when `add` then uses --no-cache.
        let src = "FROM alpine:3.20\nRUN apk update && apk upgrade && apk add --no-cache curl=8\n";
        assert_eq!(lint(&RULE, src).len(), 2);
    }

    #[test]
    fn heredoc_reports_the_command_line() {
        let src = "FROM alpine:3.20\nRUN <<EOF\nset -e\napk add curl=8\nEOF\n";
        assert_eq!(lint(&RULE, src), vec![4]);
    }

    #[test]
    fn does_not_catch_no_cache_mounted_or_removed_index() {
        for src in [
            "FROM alpine:3.20\nRUN apk add --no-cache flex=2.6.4-r1\n",
            "FROM alpine:3.20\nRUN apk --no-cache add flex=2.6.4-r1\n",
            "FROM alpine:3.20\nRUN --mount=type=cache,target=/var/cache/apk apk add -U curl=7.77.0\n",
            "FROM alpine:3.20\nRUN --mount=type=cache,target=/var/cache/foo apk add --no-cache -U curl=7.77.0\n",
            "FROM alpine:3.20\nRUN apk update && apk add curl=8 && rm -rf /var/cache/apk/*\n",
            "FROM alpine:3.20\nRUN apk del curl\n",
            // A builder stage whose cache never reaches the image.
            "FROM alpine:3.20 AS build\nRUN apk add gcc=13\nFROM alpine:3.20\nCOPY --from=build /out/app /usr/local/bin/app\n",
            "FROM alpine:3.20\nRUN cat <<EOF > /x.sh\napk add curl\nEOF\n",
            "FROM alpine:3.20\nSHELL [\"pwsh\", \"-c\"]\nRUN apk add curl\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
