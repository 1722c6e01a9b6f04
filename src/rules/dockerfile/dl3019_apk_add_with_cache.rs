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
    /// Flags `apk add`, `apk update` and `apk upgrade` without `--no-cache`, unless a
    /// `--mount=type=cache` or `tmpfs` mount covers `/var/cache/apk` (the cache is then kept
    /// out of the layer on purpose, and `--no-cache` would defeat it). Deleting the cache by
    /// hand later in the same RUN (`apk add -U x && rm -rf /var/cache/apk/*`) is still
    /// flagged on the `apk add`, as in hadolint: that is the very pattern `--no-cache`
    /// replaces, and the message says so (an `apk update` before it is then part of the same
    /// pattern, not a second finding). Only stages whose `/var/cache/apk` reaches the built
    /// image are judged: a builder stage whose cache is left behind is not flagged.
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
            if !FETCHING.contains(&subcommand) || has_flag(&args, &["no-cache"]) {
                continue;
            }
            let message = if run.removes_after(position, CACHE) {
                // hadolint's meaning: the hand-made cleanup `--no-cache` replaces, reported on
                // `apk add` only (an `update` before it is part of the same pattern).
                if subcommand != "add" {
                    continue;
                }
                "`apk add` without `--no-cache`, then /var/cache/apk removed by hand; \
                 `apk add --no-cache` does both"
                    .to_string()
            } else {
                format!(
                    "`apk {subcommand}` leaves the package index in /var/cache/apk; use \
                     `apk add --no-cache` instead"
                )
            };
            out.push(run.span(facts, command), message);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::{lint, messages};

    #[test]
    fn catches_index_left_in_the_image() {
        for src in [
            "FROM alpine:3.20\nRUN apk add flex=2.6.4-r1\n",
            "FROM alpine:3.20\nRUN apk add -U curl=8\n",
            "FROM alpine:3.20\nRUN sudo apk add curl=8\n",
            "FROM alpine:3.20\nRUN [\"apk\", \"add\", \"curl=8\"]\n",
            "FROM alpine:3.20\nRUN --mount=type=cache,target=/var/cache/foo apk add -U curl=7.77.0\n",
            "FROM alpine:3.20\nRUN rm -rf /var/cache/apk/* && apk add curl=8\n",
            // Removing the cache by hand is what `--no-cache` replaces (hadolint's meaning).
            "FROM alpine:3.20\nRUN apk add -U curl=8 && rm -rf /var/cache/apk/*\n",
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
    fn removed_by_hand_says_so() {
        let src = "FROM alpine:3.20\nRUN apk update && apk add curl=8 && rm -rf /var/cache/apk/*\n";
        let found = messages(&RULE, src);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("`apk add` without `--no-cache`, then"),
            "{found:?}"
        );
        let src = "FROM alpine:3.20\nRUN rm -rf /var/cache/apk/* && apk add curl=8\n";
        let found = messages(&RULE, src);
        assert!(found[0].contains("leaves the package index"), "{found:?}");
    }

    #[test]
    fn does_not_catch_no_cache_or_mounted_index() {
        for src in [
            "FROM alpine:3.20\nRUN apk add --no-cache flex=2.6.4-r1\n",
            "FROM alpine:3.20\nRUN apk --no-cache add flex=2.6.4-r1\n",
            "FROM alpine:3.20\nRUN --mount=type=cache,target=/var/cache/apk apk add -U curl=7.77.0\n",
            "FROM alpine:3.20\nRUN --mount=type=cache,target=/var/cache/foo apk add --no-cache -U curl=7.77.0\n",
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
