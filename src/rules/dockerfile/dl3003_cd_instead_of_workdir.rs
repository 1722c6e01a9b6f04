use super::package_managers::{covers, removed_paths, runs, Run};
use super::util::normalize_path;
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// `cd` in a RUN where `WORKDIR` is meant.
    ///
    /// Flags a RUN that changes directory with `cd`, in every stage and form (shell and exec
    /// form, heredoc scripts, inside `sh -c '…'`): one finding per RUN, at its first `cd`. As
    /// in hadolint, a `cd` that enters a directory to work there is what `WORKDIR` is for.
    ///
    /// Two shapes are not flagged, because `WORKDIR` cannot do their job (hadolint#422):
    /// - building in a scratch directory that the same RUN removes afterwards
    ///   (`cd /usr/src/app && make install && cd / && rm -rf /usr/src/app`): a `WORKDIR`
    ///   would need the sources in a layer of their own. The `cd`s after the one into the
    ///   scratch directory (leaving it) belong to the same pattern;
    /// - a `cd` into a directory made on the spot (`cd "$(mktemp -d)"`).
    ///
    /// Relative `cd`s and `rm` operands are resolved against the directories entered before
    /// them, or the RUN's starting directory (`tar xzf x.tgz && cd x && make install && cd ..
    /// && rm -rf x` removes `x`). Emptying a directory (`rm -rf /srv/html/*`) does not remove
    /// it: `cd /srv/html && rm -rf * && tar -x …` works in a directory that stays.
    ///
    /// ## Why
    /// Each RUN starts in the `WORKDIR`; a `cd` does not outlive its RUN. `WORKDIR` states the
    /// directory once, for every later instruction and for the running container, and keeps
    /// RUN lines short. A `cd` that is the last command of its RUN does nothing at all.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN cd /app && npm ci
    /// ```
    /// Set the directory with `WORKDIR`:
    /// ```dockerfile
    /// WORKDIR /app
    /// RUN npm ci
    /// ```
    pub static RULE = Rule {
        id: "DL3003",
        name: "cd-instead-of-workdir",
        severity: Severity::Medium,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    for run in runs(facts) {
        let Some((position, message)) = first_workdir_cd(&run) else {
            continue;
        };
        if let Some(command) = run.commands.get(position) {
            out.push(run.span(facts, command), message);
        }
    }
}

/// The first `cd` of `run` that `WORKDIR` should replace, with the message for it.
fn first_workdir_cd(run: &Run<'_>) -> Option<(usize, String)> {
    let last = run.commands.len().saturating_sub(1);
    // The directory the script is in before each command: the stage's WORKDIR (whatever it
    // is) until a `cd`; `None` after a `cd` whose target cannot be known.
    let mut cwd: Option<String> = Some(WORKDIR.to_string());
    let mut dirs: Vec<Option<String>> = Vec::with_capacity(run.commands.len());
    for command in run.commands {
        dirs.push(cwd.clone());
        if command.cmd.is("cd") {
            cwd = cd_target(&command.cmd.words).and_then(|t| resolve(cwd.as_deref(), t));
        }
    }
    let removed: Vec<(usize, String)> = run
        .commands
        .iter()
        .enumerate()
        .flat_map(|(i, c)| {
            let at = dirs[i].as_deref();
            removed_paths(&c.cmd)
                .into_iter()
                .filter_map(move |op| resolve(at, op).map(|p| (i, p)))
        })
        .collect();
    for (i, command) in run.commands.iter().enumerate() {
        if !command.cmd.is("cd") {
            continue;
        }
        let target = cd_target(&command.cmd.words);
        if target.is_some_and(|t| t.contains("$(") || t.contains('`')) {
            return None;
        }
        let entered = target.and_then(|t| resolve(dirs[i].as_deref(), t));
        let scratch = entered.as_deref().is_some_and(|dir| {
            removed
                .iter()
                .any(|(at, gone)| *at > i && removes(gone, dir))
        });
        if scratch {
            return None;
        }
        let message = match target {
            _ if i == last => lost_message(),
            Some(dir) => {
                format!("this RUN works in `{dir}`; set it with `WORKDIR {dir}` instead of `cd`")
            }
            None => "this RUN changes directory with `cd`; use WORKDIR".to_string(),
        };
        return Some((i, message));
    }
    None
}

/// Whether removing `gone` removes directory `dir`: `gone` is `dir` or above it. A glob of a
/// directory's entries (`rm -rf /srv/html/*`) empties that directory without removing it.
fn removes(gone: &str, dir: &str) -> bool {
    match gone.strip_suffix("/*") {
        Some(parent) => parent != dir && covers(parent, dir),
        None => covers(gone, dir),
    }
}

/// Stands for the RUN's starting directory, so that `cd src && … && cd .. && rm -rf src`
/// resolves without knowing the WORKDIR.
const WORKDIR: &str = "/\u{1}workdir";

fn lost_message() -> String {
    "`cd` is the last command of this RUN, so the directory change is lost when the RUN \
     ends; use WORKDIR to change the directory of later instructions"
        .to_string()
}

/// The directory a `cd` command enters (`cd -P dir`, `cd -- dir`); `None` for a bare `cd`.
fn cd_target(words: &[String]) -> Option<&str> {
    let mut options_done = false;
    for word in words.iter().skip(1) {
        if !options_done && word == "--" {
            options_done = true;
        } else if options_done || !word.starts_with('-') || word == "-" {
            return Some(word);
        }
    }
    None
}

/// `path` made absolute against `cwd` and normalised (`.`/`..` removed); `None` when it
/// depends on something unknown (a variable, `~`, `cd -`, or a relative path with no known
/// directory to start from).
fn resolve(cwd: Option<&str>, path: &str) -> Option<String> {
    if path.contains('$') || path.contains('`') || path.starts_with('~') || path == "-" {
        return None;
    }
    let joined = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{}/{path}", cwd?)
    };
    Some(format!("/{}", normalize_path(&joined).join("/")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::{lint, messages};

    #[test]
    fn catches_cd_where_workdir_is_meant() {
        for src in [
            "FROM debian\nRUN cd /opt\n",
            "FROM debian\nRUN make && cd /opt\n",
            "FROM debian\nRUN cd /app && npm ci\n",
            "FROM debian\nRUN cd src; make\n",
            "FROM debian\nRUN [\"cd\", \"/opt\"]\n",
            "FROM debian\nRUN sh -c 'make && cd /app'\n",
            "FROM debian\nONBUILD RUN cd /app && make\n",
            // Working in a directory without removing it is WORKDIR's job, as hadolint says.
            "FROM debian\nRUN curl -LO https://x/src.tgz && tar xzf src.tgz && cd src && make\n",
            "FROM debian\nRUN git clone https://x/app /app && cd /app && make install\n",
            "FROM debian\nRUN cd /app && make && cd / && rm -rf /tmp/cache\n",
            // Removing a file in the directory is not removing the directory.
            "FROM debian\nRUN cd /app && make && rm -f /app/build.log\n",
            // The `cd` before the scratch directory is still flagged.
            "FROM debian\nRUN cd /app && npm ci && cd /tmp/x && make && rm -rf /tmp/x\n",
            "FROM debian\nRUN cd \"$APP\" && make\n",
            // Emptying the directory and filling it again is not a scratch build; neither is
            // working in /tmp itself, which stays.
            "FROM debian\nRUN cd /tmp && curl -LO https://x/a.tgz && make && rm -rf /tmp/*\n",
            "FROM nginx\nRUN cd /usr/share/nginx/html && rm -rf * && curl -sSL https://x | tar -x\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
        }
        assert_eq!(
            messages(&RULE, "FROM debian\nRUN cd /app && npm ci\n"),
            vec!["this RUN works in `/app`; set it with `WORKDIR /app` instead of `cd`"]
        );
        let lost = messages(&RULE, "FROM debian\nRUN make && cd /opt\n");
        assert!(lost[0].starts_with("`cd` is the last command"), "{lost:?}");
        let src = "FROM debian\nRUN <<EOF\napt-get update\ncd /app\nnpm ci\nEOF\n";
        assert_eq!(lint(&RULE, src), vec![4]);
        // One finding per RUN, at its first `cd`.
        let src = "FROM debian\nRUN cd /a && make \\\n && cd /b && make\n";
        assert_eq!(lint(&RULE, src), vec![2]);
    }

    #[test]
    fn does_not_catch_scratch_directories() {
        for src in [
            "FROM debian\nWORKDIR /opt\n",
            // hadolint#422: build in a directory, leave it, remove it.
            "FROM debian\nRUN git clone https://x/jo.git /tmp/jo && cd /tmp/jo && make install \
             && cd /tmp && rm -rf ./jo\n",
            "FROM debian\nRUN cd /tmp/jo && make install && rm -rf /tmp/jo\n",
            "FROM debian\nRUN (cd /tmp/jo && make) && rm -rf /tmp/jo\n",
            "FROM debian\nRUN cd /usr/src/php/ext/gd && make && cd / && rm -rf /usr/src/php\n",
            "FROM debian\nRUN mkdir /build && cd /build && cmake .. && make && cd .. && rm -r build\n",
            "FROM debian\nRUN mkdir /tmp/a && cd /tmp/a && curl -LO https://x/a.tgz \
             && tar xzf a.tgz && make && rm -rf /tmp/*\n",
            "FROM debian\nRUN cd /tmp/src && make && find /tmp/src -delete\n",
            "FROM debian\nRUN tar xzf x.tgz && cd x-1.0 && make install && cd .. && rm -rf x-1.0\n",
            "FROM debian\nRUN cd \"$(mktemp -d)\" && curl -LO https://x && make\n",
            "FROM debian\nRUN echo cd /opt\n",
            "FROM debian\nSHELL [\"pwsh\", \"-c\"]\nRUN cd C:\\\\app\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }

    #[test]
    fn resolves_relative_paths() {
        assert_eq!(resolve(Some("/tmp"), "./jo").as_deref(), Some("/tmp/jo"));
        assert_eq!(resolve(Some("/a/b"), "../c/").as_deref(), Some("/a/c"));
        assert_eq!(resolve(None, "/x/./y").as_deref(), Some("/x/y"));
        assert_eq!(resolve(None, "src"), None);
        assert_eq!(resolve(Some("/a"), "$DIR"), None);
        assert_eq!(
            cd_target(&["cd".into(), "-P".into(), "/x".into()]),
            Some("/x")
        );
        assert_eq!(cd_target(&["cd".into()]), None);
    }
}
