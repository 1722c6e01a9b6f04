use super::util::{expand_at, is_absolute_path, onbuild_trigger, stage_body, stage_chain};
use crate::dockerfile::{Args, DockerfileFacts, Keyword};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// `COPY` or `ADD` to a relative destination before any `WORKDIR`.
    ///
    /// A relative destination (`COPY app.py .`) lands in the working directory, which the
    /// base image decides until the stage sets one. Reported when neither the stage (before
    /// the instruction) nor a stage it is built `FROM` has a `WORKDIR`. For an `ONBUILD COPY`,
    /// any `WORKDIR` of the stage counts, since the trigger runs after the whole image is
    /// built. Destinations from variables are resolved from the stage's `ARG`s and `ENV`s;
    /// ones without a known value are not judged. Windows paths (`C:\app`) are absolute.
    ///
    /// ## Why
    /// Where the files end up then depends on the base image: switching from `python` to
    /// `python-slim` or to a distroless image can move them without any change to this file.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM python:3.12-slim
    /// COPY app.py .
    /// ```
    /// Set the directory first (or copy to an absolute path):
    /// ```dockerfile
    /// FROM python:3.12-slim
    /// WORKDIR /app
    /// COPY app.py .
    /// ```
    pub static RULE = Rule {
        id: "DL3045",
        name: "relative-copy-without-workdir",
        severity: Severity::Medium,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    for stage in &facts.file.stages {
        let inherited = stage_chain(facts, stage.index)
            .iter()
            .skip(1)
            .any(|&parent| has_workdir(facts, parent));
        let anywhere = inherited || has_workdir(facts, stage.index);
        let mut workdir_set = inherited;
        for (index, inst) in stage_body(facts, stage.index) {
            let (inst, onbuild) = onbuild_trigger(inst);
            if inst.keyword == Keyword::Workdir && !onbuild {
                workdir_set = true;
            }
            let (Args::Copy { dest, .. } | Args::Add { dest, .. }) = &inst.args else {
                continue;
            };
            if (onbuild && anywhere) || (!onbuild && workdir_set) {
                continue;
            }
            let resolved = if dest.contains('$') {
                match (onbuild, expand_at(facts, index, dest)) {
                    (false, Ok(resolved)) => resolved,
                    _ => continue,
                }
            } else {
                dest.clone()
            };
            if !is_absolute_path(&resolved) {
                out.push(
                    inst.span,
                    format!(
                        "{} to the relative destination `{dest}` before any WORKDIR: where it \
                         lands depends on the base image; set WORKDIR or use an absolute path",
                        inst.keyword.as_str()
                    ),
                );
            }
        }
    }
}

/// Whether stage `stage` sets a `WORKDIR` (directly or as an `ONBUILD` trigger).
fn has_workdir(facts: &DockerfileFacts, stage: usize) -> bool {
    stage_body(facts, stage).any(|(_, inst)| onbuild_trigger(inst).0.keyword == Keyword::Workdir)
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::dockerfile::testing::lint;

    #[test]
    fn catches_relative_destinations_without_workdir() {
        for src in [
            "FROM a\nCOPY bla.sh blubb.sh\n",
            "FROM a\nCOPY bla.sh \"blubb.sh\"\n",
            "FROM a\nCOPY a b\n",
            "FROM a\nADD app.tgz opt/\n",
            "FROM a\nONBUILD COPY bla.sh blubb.sh\n",
            "FROM debian:12 AS stage1\nWORKDIR /usr\nFROM debian:12\nCOPY foo bar\n",
            "FROM a\nCOPY . .\nWORKDIR /app\n",
            "FROM a\nARG DEST=app\nCOPY x $DEST\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "{src}");
        }
    }

    #[test]
    fn does_not_catch_absolute_destinations_or_set_workdir() {
        for src in [
            "FROM a\nCOPY bla.sh /usr/local/bin/blubb.sh\n",
            "FROM a\nCOPY bla.sh \"/usr/local/bin/blubb.sh\"\n",
            "FROM a\nCOPY bla.sh c:\\system32\\blubb.sh\n",
            "# escape=`\nFROM a\nCOPY bla.sh \"d:\\mypath\\blubb.sh\"\n",
            "FROM a\nCOPY bla.sh c:/system32/blubb.sh\n",
            "FROM scratch\nWORKDIR /usr\nCOPY bla.sh blubb.sh\n",
            "FROM a\nCOPY src.sh ${SRC_BASE_ENV}\n",
            "FROM a\nCOPY src.sh \"$SRC_BASE_ENV\"\n",
            "FROM a\nARG DEST=/srv\nCOPY x $DEST\n",
            "FROM debian:12 AS base\nWORKDIR /usr\nFROM debian:12 AS between\nRUN foo\nFROM base\nCOPY foo bar\n",
            "FROM debian:12 AS base1\nWORKDIR /usr\nFROM base1 AS base2\nRUN foo\nFROM base2\nCOPY foo bar\n",
            "FROM debian:12\nONBUILD WORKDIR /usr/local/lib\nONBUILD COPY foo bar\n",
            "FROM debian:12\nONBUILD COPY foo bar\nWORKDIR /srv\n",
            "FROM debian:12 AS Base\nWORKDIR /srv\nFROM BASE\nCOPY foo bar\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "{src}");
        }
    }
}
