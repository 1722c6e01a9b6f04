use super::util::{
    expand_at, is_absolute_path, onbuild_trigger, stage_body, stage_chain, strip_quotes,
};
use crate::dockerfile::{Args, DockerfileFacts};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// `WORKDIR` with a relative path that depends on the base image.
    ///
    /// A relative `WORKDIR` is resolved against the working directory in effect, which the
    /// base image decides until the stage (or a stage it is built from) sets an absolute one.
    /// Flags a relative `WORKDIR` (also inside `ONBUILD`) when no absolute `WORKDIR` comes
    /// before it in the stage or its parent stages. Variables are resolved from the stage's
    /// `ARG`s and `ENV`s; a path whose variables have no known value (`$HOME`) is not judged.
    /// Windows paths (`C:\app`, `c:/app`) are absolute.
    ///
    /// ## Why
    /// The same Dockerfile then puts files in different places when the base image changes
    /// its `WORKDIR`, and a reader cannot tell where `COPY . .` lands without looking the
    /// base image up. An absolute path says it.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM python:3.12-slim
    /// WORKDIR app
    /// ```
    /// Use an absolute path:
    /// ```dockerfile
    /// FROM python:3.12-slim
    /// WORKDIR /app
    /// ```
    pub static RULE = Rule {
        id: "DL3000",
        name: "relative-workdir",
        severity: Severity::High,
        check: Check::Dockerfile(check),
    };
}

/// What a `WORKDIR` path turned out to be.
enum Path {
    Absolute,
    Relative(String),
    /// Uses variables without a known value.
    Unknown,
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    for stage in &facts.file.stages {
        // Whether an absolute WORKDIR is in effect: set by a parent stage, or earlier here.
        let mut anchored = stage_chain(facts, stage.index)
            .iter()
            .skip(1)
            .any(|&parent| sets_absolute_workdir(facts, parent));
        for (index, inst) in stage_body(facts, stage.index) {
            let (inst, onbuild) = onbuild_trigger(inst);
            let Args::Workdir(raw) = &inst.args else {
                continue;
            };
            match classify(facts, index, raw, onbuild) {
                Path::Absolute | Path::Unknown => anchored |= !onbuild,
                Path::Relative(path) if !anchored => out.push(
                    inst.span,
                    format!(
                        "WORKDIR `{path}` is relative to whatever working directory the base \
                         image sets; use an absolute path"
                    ),
                ),
                Path::Relative(_) => {}
            }
        }
    }
}

/// Whether stage `stage` sets an absolute (or unknown) `WORKDIR` anywhere in its body.
fn sets_absolute_workdir(facts: &DockerfileFacts, stage: usize) -> bool {
    stage_body(facts, stage).any(|(index, inst)| match &inst.args {
        Args::Workdir(raw) => !matches!(classify(facts, index, raw, false), Path::Relative(_)),
        _ => false,
    })
}

fn classify(facts: &DockerfileFacts, index: usize, raw: &str, onbuild: bool) -> Path {
    let written = strip_quotes(raw.trim());
    let path = if written.contains('$') {
        // An ONBUILD trigger expands its variables in the downstream build.
        if onbuild {
            return Path::Unknown;
        }
        match expand_at(facts, index, written) {
            Ok(path) => path,
            Err(_) => return Path::Unknown,
        }
    } else {
        written.to_string()
    };
    if is_absolute_path(&path) {
        Path::Absolute
    } else {
        Path::Relative(path)
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::dockerfile::testing::lint;

    #[test]
    fn catches_relative_workdir() {
        assert_eq!(lint(&RULE, "FROM alpine\nWORKDIR app\n"), vec![2]);
        assert_eq!(lint(&RULE, "FROM alpine\nWORKDIR \"app\"\n"), vec![2]);
        assert_eq!(lint(&RULE, "FROM alpine\nWORKDIR ./app\n"), vec![2]);
        assert_eq!(lint(&RULE, "FROM alpine\nONBUILD WORKDIR app\n"), vec![2]);
    }

    #[test]
    fn catches_relative_workdir_from_arg() {
        assert_eq!(
            lint(&RULE, "FROM alpine\nARG DIR=app\nWORKDIR $DIR\n"),
            vec![3]
        );
        assert_eq!(
            lint(&RULE, "ARG DIR=app\nFROM alpine\nARG DIR\nWORKDIR ${DIR}\n"),
            vec![4]
        );
    }

    #[test]
    fn catches_each_stage_separately() {
        let src = "FROM alpine AS a\nWORKDIR /srv\nFROM alpine\nWORKDIR app\n";
        assert_eq!(lint(&RULE, src), vec![4]);
    }

    #[test]
    fn does_not_catch_absolute_or_unknown_paths() {
        for src in [
            "FROM alpine\nWORKDIR /app\n",
            "FROM alpine\nWORKDIR \"/app\"\n",
            "FROM alpine\nWORKDIR $HOME\n",
            "FROM alpine\nWORKDIR ${APP_HOME}/src\n",
            "FROM alpine\nARG DIR=/opt/app\nWORKDIR $DIR\n",
            "FROM alpine\nENV APP=/srv\nWORKDIR $APP/x\n",
            "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nWORKDIR C:\\app\n",
            "FROM mcr.microsoft.com/windows/nanoserver:ltsc2022\nWORKDIR c:/app\n",
            "FROM alpine\nONBUILD WORKDIR $DIR\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "{src}");
        }
    }

    #[test]
    fn does_not_catch_relative_after_absolute() {
        assert!(lint(&RULE, "FROM alpine\nWORKDIR /app\nWORKDIR src\n").is_empty());
        // A parent stage's WORKDIR carries over.
        let src = "FROM alpine AS base\nWORKDIR /app\nFROM base\nWORKDIR src\n";
        assert!(lint(&RULE, src).is_empty());
    }
}
