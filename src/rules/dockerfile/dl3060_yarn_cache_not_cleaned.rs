use super::package_managers::{
    covers, flag_values, has_flag, operands, runs, Command, Run, Syntax,
};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

/// The command-line dialect of `yarn`.
const YARN: Syntax = Syntax {
    short_with_value: "",
    long_with_value: &[
        "cache-folder",
        "modules-folder",
        "global-folder",
        "link-folder",
        "network-timeout",
        "network-concurrency",
        "mutex",
        "registry",
        "cwd",
        "use-yarnrc",
    ],
    single_dash_long: false,
};

/// Where yarn keeps its cache: classic as root, classic as another user, berry.
const CACHE: &[&str] = &[
    "/usr/local/share/.cache/yarn",
    "/root/.cache/yarn",
    "/home/*/.cache/yarn",
    "/root/.yarn/berry/cache",
    "/home/*/.yarn/berry/cache",
];

crate::declare_rule! {
    /// `yarn install` that leaves yarn's cache in the image.
    ///
    /// Flags `yarn install`, `yarn add`, `yarn global add` and a bare `yarn` (which
    /// installs) unless the cache is kept out of the layer: `yarn cache clean` later in the
    /// same RUN, deleting the cache directory later in the RUN, a `--mount=type=cache` or
    /// `tmpfs` mount over it (or over a `--cache-folder`, or any mount target naming yarn).
    /// Only stages whose cache reaches the built image are judged: the usual builder stage that
    /// installs, builds and hands over its output is not flagged.
    ///
    /// ## Why
    /// yarn keeps a copy of every package it downloads, often larger than `node_modules`
    /// itself, and nothing in the container reads it at run time.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN yarn install --frozen-lockfile --production
    /// ```
    /// Clean the cache in the same RUN:
    /// ```dockerfile
    /// RUN yarn install --frozen-lockfile --production && yarn cache clean
    /// ```
    pub static RULE = Rule {
        id: "DL3060",
        name: "yarn-cache-not-cleaned",
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
        let yarn_mount = run
            .discarding_mounts()
            .iter()
            .any(|t| t.to_ascii_lowercase().contains("yarn"));
        if yarn_mount {
            continue;
        }
        for (position, command) in run.find("yarn") {
            let Some(what) = installs(command) else {
                continue;
            };
            if cleaned_after(&run, position) || custom_cache_discarded(&run, position, command) {
                continue;
            }
            out.push(
                run.span(facts, command),
                format!(
                    "`{what}` leaves yarn's cache in the image; run `yarn cache clean` in the \
                     same RUN"
                ),
            );
        }
    }
}

/// When the command installs packages, how to name it in the message.
fn installs(command: &Command) -> Option<&'static str> {
    let args = YARN.parse(command.cmd.args());
    let words = operands(&args, true);
    match words.as_slice() {
        [] if !has_flag(&args, &["v", "version", "h", "help"]) => Some("yarn"),
        ["install", ..] => Some("yarn install"),
        ["add", ..] => Some("yarn add"),
        ["global", "add", ..] => Some("yarn global add"),
        _ => None,
    }
}

/// Whether `yarn cache clean` (or the removal of the cache) comes after command `position`.
fn cleaned_after(run: &Run<'_>, position: usize) -> bool {
    let clean = run
        .commands
        .iter()
        .skip(position + 1)
        .any(|c| c.cmd.is("yarn") && c.cmd.positional().take(2).eq(["cache", "clean"]));
    clean || run.removes_after(position, CACHE)
}

/// Whether the command's `--cache-folder` is removed or mounted away.
fn custom_cache_discarded(run: &Run<'_>, position: usize, command: &Command) -> bool {
    let args = YARN.parse(command.cmd.args());
    let folders: Vec<&str> = flag_values(&args, &["cache-folder"]).flatten().collect();
    !folders.is_empty()
        && folders.iter().all(|folder| {
            run.removes_after(position, &[folder])
                || run.discarding_mounts().iter().any(|t| covers(t, folder))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::lint;

    #[test]
    fn catches_cache_left_in_the_image() {
        for src in [
            "FROM node:22\nRUN yarn install foo\n",
            "FROM node:22\nRUN yarn\n",
            "FROM node:22\nRUN yarn --frozen-lockfile\n",
            "FROM node:22\nRUN yarn add express@4.21.1\n",
            "FROM node:22\nRUN yarn global add pm2@5.4.2\n",
            "FROM node:22\nRUN yarn cache clean && yarn install\n",
            "FROM node:22\nRUN yarn install\nRUN yarn cache clean\n",
            "FROM node:22\nRUN [\"yarn\", \"install\"]\n",
            "FROM node:22\nRUN yarn install --cache-folder /tmp/yc\n",
            "FROM scratch AS foo\nRUN hey\nFROM node:22\nRUN yarn install\n",
            "FROM node:22 AS foo\nRUN yarn install\nFROM foo\nRUN hey\n",
            "FROM node:22 AS build\nRUN yarn install\nFROM node:22\nCOPY --from=build /usr/local/share /usr/local/share\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
        }
    }

    #[test]
    fn heredoc_reports_the_command_line() {
        let src = "FROM node:22\nRUN <<EOF\nset -e\nyarn install --frozen-lockfile\nEOF\n";
        assert_eq!(lint(&RULE, src), vec![4]);
    }

    #[test]
    fn does_not_catch_cleaned_mounted_or_discarded_caches() {
        for src in [
            "FROM node:22\nRUN foo\n",
            "FROM node:22\nRUN yarn install bar && yarn cache clean\n",
            "FROM node:22\nRUN yarn install && yarn cache clean --all\n",
            "FROM node:22\nRUN yarn install && rm -rf /usr/local/share/.cache/yarn\n",
            "FROM node:22\nRUN yarn install --cache-folder /tmp/yc && rm -rf /tmp/yc\n",
            "FROM node:22\nRUN --mount=type=cache,target=/usr/local/share/.cache/yarn yarn install\n",
            "FROM node:22\nRUN --mount=type=cache,target=/yarn-cache yarn install --cache-folder /yarn-cache\n",
            "FROM node:22\nRUN yarn build && yarn run test\n",
            "FROM node:22\nRUN yarn --version\n",
            "FROM node:22 AS foo\nRUN yarn install foo\nFROM scratch\nRUN hey\n",
            "FROM node:22 AS build\nRUN yarn install && yarn build\nFROM nginx:1.27\nCOPY --from=build /app/dist /usr/share/nginx/html\n",
            "FROM node:22\nRUN cat <<EOF > /x.sh\nyarn install\nEOF\n",
            "FROM node:22\nSHELL [\"pwsh\", \"-c\"]\nRUN yarn install\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
