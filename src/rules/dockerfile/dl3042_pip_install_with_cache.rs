use super::package_managers::{has_flag, pip_install, runs, Run};
use super::util::{expand_at, stage_body, stage_chain};
use crate::dockerfile::expand::stage_scope;
use crate::dockerfile::{Args, DockerfileFacts};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

/// Where pip keeps its cache (for root, and for other users).
const CACHE: &[&str] = &["/root/.cache/pip", "/home/*/.cache/pip"];
/// The variable that turns the cache off.
const NO_CACHE_VAR: &str = "PIP_NO_CACHE_DIR";

crate::declare_rule! {
    /// `pip install` that leaves pip's download cache in the image.
    ///
    /// Flags `pip install` (also `pip3`, `python3 -m pip`) unless the cache is kept out of the
    /// layer: `--no-cache-dir`; `PIP_NO_CACHE_DIR` set for the command (`ENV` or `ARG` in the
    /// stage or a stage it is built from, a `PIP_NO_CACHE_DIR=1 pip …` prefix, or an earlier
    /// `export` in the same RUN); a `--mount=type=cache` or `tmpfs` mount over `~/.cache/pip`;
    /// or deleting the cache later in the same RUN (`rm -rf /root/.cache/pip`, `pip cache
    /// purge`). Like pip, any valid boolean value of `PIP_NO_CACHE_DIR` turns the cache off,
    /// `0` and `false` included. Only stages whose `~/.cache/pip` reaches the built image are
    /// judged: a builder stage whose cache is left behind is not flagged.
    ///
    /// ## Why
    /// pip keeps every wheel it downloads in `~/.cache/pip`, often as large as what it
    /// installed, and nothing in the container will ever read it.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN pip install -r requirements.txt
    /// ```
    /// Turn the cache off:
    /// ```dockerfile
    /// RUN pip install --no-cache-dir -r requirements.txt
    /// ```
    pub static RULE = Rule {
        id: "DL3042",
        name: "pip-install-with-cache",
        severity: Severity::Medium,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    for run in runs(facts) {
        if run.mounts_over(CACHE)
            || !run.reaches_image(facts, CACHE)
            || stage_disables_cache(facts, &run)
        {
            continue;
        }
        for (position, command) in run.commands.iter().enumerate() {
            let Some(args) = pip_install(command) else {
                continue;
            };
            let disabled = has_flag(&args, &["no-cache-dir"])
                || command.env(NO_CACHE_VAR).is_some_and(disables_cache)
                || exported_before(&run, position)
                || run.removes_after(position, CACHE)
                || purged_after(&run, position);
            if !disabled {
                out.push(
                    run.span(facts, command),
                    "`pip install` leaves its download cache in the image; add \
                     `--no-cache-dir` (or set `PIP_NO_CACHE_DIR=1`)",
                );
            }
        }
    }
}

/// How pip reads `PIP_NO_CACHE_DIR`: any valid boolean turns the cache off (for backwards
/// compatibility, "false" does too).
fn disables_cache(value: &str) -> bool {
    matches!(
        value.to_ascii_lowercase().as_str(),
        "1" | "y" | "yes" | "t" | "true" | "on" | "0" | "n" | "no" | "f" | "false" | "off"
    )
}

/// Whether `PIP_NO_CACHE_DIR` is in the environment of the RUN: an `ARG` or `ENV` of its
/// stage, or an `ENV` of a stage it is built from.
fn stage_disables_cache(facts: &DockerfileFacts, run: &Run<'_>) -> bool {
    if let Ok(value) = expand_at(facts, run.index, &format!("${{{NO_CACHE_VAR}}}")) {
        return disables_cache(&value);
    }
    for parent in stage_chain(facts, run.stage).into_iter().skip(1) {
        let sets = stage_body(facts, parent).any(|(_, inst)| match &inst.args {
            Args::Env(pairs) => pairs.iter().any(|kv| kv.key == NO_CACHE_VAR),
            _ => false,
        });
        if sets {
            let end = facts.file.stages.get(parent).map_or(0, |s| s.end);
            return stage_scope(&facts.file, parent, end, &facts.build_args)
                .get(NO_CACHE_VAR)
                .is_some_and(disables_cache);
        }
    }
    false
}

/// Whether an `export PIP_NO_CACHE_DIR=…` comes before command `position` in the RUN.
fn exported_before(run: &Run<'_>, position: usize) -> bool {
    run.commands.iter().take(position).any(|c| {
        c.cmd.is("export")
            && c.cmd.args().iter().any(|a| {
                a.split_once('=')
                    .is_some_and(|(k, v)| k == NO_CACHE_VAR && disables_cache(v))
            })
    })
}

/// Whether `pip cache purge` runs after command `position`.
fn purged_after(run: &Run<'_>, position: usize) -> bool {
    run.commands.iter().skip(position + 1).any(|c| {
        c.cmd.program_name().is_some_and(|p| p.starts_with("pip"))
            && c.cmd.positional().take(2).eq(["cache", "purge"])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::lint;

    #[test]
    fn catches_installs_that_keep_the_cache() {
        for src in [
            "FROM python:3.12\nRUN pip install MySQL_python==1.0\n",
            "FROM python:3.12\nRUN pip2 install -r requirements.txt\n",
            "FROM python:3.12\nRUN python3 -m pip install -r requirements.txt\n",
            "FROM python:3.12\nRUN [\"pip3\", \"install\", \"flask==3.0.3\"]\n",
            "FROM python:3.12\nRUN PIP_NO_CACHE_DIR= pip install x==1\n",
            "FROM python:3.12\nRUN pip install x==1 && export PIP_NO_CACHE_DIR=1\n",
            "FROM python:3.12\nRUN rm -rf /root/.cache/pip && pip install x==1\n",
            "FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/uv pip install x==1\n",
            "FROM python:3.12 AS base\nENV PIP_NO_CACHE_DIR=1\nFROM python:3.12\nRUN pip install six==1\n",
            "FROM python:3.12 AS base\nRUN pip install six==1\nFROM base\n",
            "FROM python:3.12 AS build\nRUN pip install six==1\nFROM scratch\nCOPY --from=build /root /root\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
        }
    }

    #[test]
    fn heredoc_reports_the_command_line() {
        let src = "FROM python:3.12\nRUN <<EOF\nset -e\npip install -r requirements.txt\nEOF\n";
        assert_eq!(lint(&RULE, src), vec![4]);
    }

    #[test]
    fn does_not_catch_disabled_mounted_or_removed_caches() {
        for src in [
            "FROM python:3.12\nRUN pip install --no-cache-dir x==1\n",
            "FROM python:3.12\nRUN pip --no-cache-dir install x==1\n",
            "FROM python:3.12\nENV PIP_NO_CACHE_DIR=1\nRUN pip install x==1\n",
            "FROM python:3.12\nENV PIP_NO_CACHE_DIR=off\nRUN pip install x==1\n",
            "FROM python:3.12\nARG PIP_NO_CACHE_DIR=true\nRUN pip install x==1\n",
            "FROM python:3.12 AS base\nENV PIP_NO_CACHE_DIR=yes\nFROM base\nRUN pip install six==1\n",
            "FROM python:3.12\nRUN PIP_NO_CACHE_DIR=1 pip install x==1\n",
            "FROM python:3.12\nRUN env PIP_NO_CACHE_DIR=false pip install x==1\n",
            "FROM python:3.12\nRUN export PIP_NO_CACHE_DIR=1 && pip install x==1\n",
            "FROM python:3.12\nRUN pip install x==1 && rm -rf /root/.cache/pip\n",
            "FROM python:3.12\nRUN pip install x==1 && rm -rf ~/.cache\n",
            "FROM python:3.12\nRUN pip install x==1 && pip cache purge\n",
            "FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/pip pip install x==1\n",
            "FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache pip install x==1\n",
            // The cache stays in a builder stage.
            "FROM python:3.12 AS build\nRUN pip install -r requirements.txt\nFROM python:3.12-slim\nCOPY --from=build /usr/local/lib/python3.12 /usr/local/lib/python3.12\n",
            "FROM python:3.12\nRUN pipx install black==24.1.0\n",
            "FROM python:3.12\nRUN pipenv install\n",
            "FROM python:3.12\nRUN python -m pipx install black==24.1.0\n",
            "FROM python:3.12\nRUN cat <<EOF > /x.sh\npip install x\nEOF\n",
            "FROM python:3.12\nSHELL [\"pwsh\", \"-c\"]\nRUN pip install x==1\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
