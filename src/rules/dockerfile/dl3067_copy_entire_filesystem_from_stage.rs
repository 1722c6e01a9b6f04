use super::util::{
    expand_at, normalize_path, onbuild_trigger, stage_body, stage_chain, strip_quotes,
};
use crate::dockerfile::expand::global_scope;
use crate::dockerfile::{Args, DockerfileFacts, Instruction, Keyword};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// `COPY --from=… / /` copies a whole filesystem over the image.
    ///
    /// Flags `COPY --from=<stage or image>` that copies the other filesystem's root onto this
    /// image's root: `/ /`, and the same root written otherwise (`"/"`, `/.`, `//`, `/*`,
    /// `C:\`, or `.` as a source, since a `--from` source is relative to the root of what it
    /// names). Variables are resolved from the stage's `ARG`s and `ENV`s, and a relative
    /// destination counts as the root after `WORKDIR /`. Also flagged in `ONBUILD`, where the
    /// copy lands on the image built from this one.
    ///
    /// Not flagged: a root copied into a subdirectory (`/ /rootfs`), and the first copy into
    /// a stage built `FROM scratch`: it lays nothing over anything, and is how a prepared
    /// root filesystem is flattened into one layer (BuildKit has no `--squash`).
    ///
    /// ## Why
    /// The copy lays every file of the other stage over the base image: its package
    /// database, caches, compilers and any secret left on disk replace or join the base's
    /// files. The result matches neither image, its package manager no longer describes it,
    /// and scanners that trust that database miss what came along. Copy the paths the image
    /// needs.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM golang:1.22 AS build
    /// RUN go build -o /out/app .
    /// FROM debian:12-slim
    /// COPY --from=build / /
    /// ```
    /// Copy what the image needs:
    /// ```dockerfile
    /// COPY --from=build /out/app /usr/local/bin/app
    /// ```
    pub static RULE = Rule {
        id: "DL3067",
        name: "copy-entire-filesystem-from-stage",
        severity: Severity::Medium,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    for stage in &facts.file.stages {
        let from_scratch = is_from_scratch(facts, stage.index);
        let mut filled = false;
        for (index, inst) in stage_body(facts, stage.index) {
            let (inner, onbuild) = onbuild_trigger(inst);
            let Some(from) = inner.flag("from").and_then(|f| f.value.as_deref()) else {
                filled |= adds_files(inner) && !onbuild;
                continue;
            };
            let copies_root = copies_root_over_root(facts, stage.index, index, inner, onbuild);
            let flattens = from_scratch && !filled && !onbuild;
            filled |= !onbuild;
            if !copies_root || flattens {
                continue;
            }
            let whose = if onbuild {
                "the image built from this one"
            } else {
                "this image"
            };
            out.push(
                inst.span,
                format!(
                    "copies the whole filesystem of `{from}` over the root of {whose}; copy \
                     only the paths it needs"
                ),
            );
        }
    }
}

/// Whether a `COPY --from` copies the root of its source onto the root of the image.
fn copies_root_over_root(
    facts: &DockerfileFacts,
    stage: usize,
    index: usize,
    copy: &Instruction,
    onbuild: bool,
) -> bool {
    let Args::Copy { sources, dest } = &copy.args else {
        return false;
    };
    // An ONBUILD trigger runs in another build, with that build's variables.
    let resolve = |word: &str| {
        if word.contains('$') && !onbuild {
            expand_at(facts, index, word).ok()
        } else {
            Some(word.to_string())
        }
    };
    let dest_is_root = match resolve(dest) {
        Some(dest) if is_relative(&dest) => {
            normalize_path(&dest).is_empty() && !onbuild && workdir_is_root(facts, stage, index)
        }
        Some(dest) => normalize_path(&dest).is_empty(),
        None => false,
    };
    dest_is_root
        && sources
            .iter()
            .filter_map(|s| resolve(s))
            .any(|s| matches!(normalize_path(&s).as_slice(), [] | ["*"]))
}

fn is_relative(path: &str) -> bool {
    let path = strip_quotes(path.trim());
    !(path.starts_with(['/', '\\'])
        || path
            .as_bytes()
            .get(..2)
            .is_some_and(|p| p[0].is_ascii_alphabetic() && p[1] == b':'))
}

/// Whether the working directory before instruction `index` of `stage` is known to be `/`:
/// the last `WORKDIR` of the stage so far, or of the stages it is built from, is `/`.
fn workdir_is_root(facts: &DockerfileFacts, stage: usize, index: usize) -> bool {
    let last_workdir = stage_chain(facts, stage).into_iter().find_map(|s| {
        stage_body(facts, s)
            .take_while(|(i, _)| s != stage || *i < index)
            .filter_map(|(i, inst)| match &inst.args {
                Args::Workdir(dir) => Some((i, dir)),
                _ => None,
            })
            .last()
    });
    let Some((at, dir)) = last_workdir else {
        return false;
    };
    let dir = if dir.contains('$') {
        match expand_at(facts, at, dir) {
            Ok(dir) => dir,
            Err(_) => return false,
        }
    } else {
        dir.clone()
    };
    !is_relative(&dir) && normalize_path(&dir).is_empty()
}

/// Whether stage `stage` is built `FROM scratch` (directly or through a global `ARG`).
fn is_from_scratch(facts: &DockerfileFacts, stage: usize) -> bool {
    let global = global_scope(&facts.file, &facts.build_args);
    facts
        .file
        .stages
        .get(stage)
        .and_then(|s| facts.file.instructions.get(s.from))
        .is_some_and(|from| match &from.args {
            Args::From { image, .. } => global
                .process_word(image, facts.file.escape)
                .is_ok_and(|image| image.eq_ignore_ascii_case("scratch")),
            _ => false,
        })
}

/// Whether an instruction puts files into the stage's filesystem.
fn adds_files(inst: &Instruction) -> bool {
    matches!(inst.keyword, Keyword::Copy | Keyword::Add | Keyword::Run)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::{lint, messages};

    #[test]
    fn catches_root_over_root() {
        for src in [
            "FROM golang AS build\nFROM debian\nCOPY --from=build / /\n",
            "FROM golang AS build\nFROM debian\nCOPY --from=build \"/\" \"/\"\n",
            "FROM golang AS build\nFROM debian\nCOPY --from=build [\"/\", \"/\"]\n",
            "FROM golang AS build\nFROM debian\nCOPY --link --from=build / /\n",
            "FROM golang AS build\nFROM debian\nCOPY --from=build /bin / /\n",
            "FROM debian\nCOPY --from=busybox:1.36 / /\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
        }
        assert_eq!(
            messages(
                &RULE,
                "FROM golang AS build\nFROM debian\nCOPY --from=build / /\n"
            ),
            vec![
                "copies the whole filesystem of `build` over the root of this image; copy only \
                 the paths it needs"
            ]
        );
    }

    /// hadolint compares the text with `/` and misses these.
    #[test]
    fn catches_root_written_otherwise() {
        for src in [
            "FROM golang AS build\nFROM debian\nCOPY --from=build /. /\n",
            "FROM golang AS build\nFROM debian\nCOPY --from=build / /.\n",
            "FROM golang AS build\nFROM debian\nCOPY --from=build /./ //\n",
            "FROM golang AS build\nFROM debian\nCOPY --from=build /* /\n",
            "FROM golang AS build\nFROM debian\nCOPY --from=build . /\n",
            "FROM golang AS build\nFROM debian\nARG ROOT=/\nCOPY --from=build $ROOT $ROOT\n",
            "FROM golang AS build\nFROM debian\nWORKDIR /\nCOPY --from=build / .\n",
            "FROM golang AS build\nFROM debian AS base\nWORKDIR /\nFROM base\nCOPY --from=build / ./\n",
            "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022 AS build\nFROM mcr.microsoft.com/windows/nanoserver:ltsc2022\nCOPY --from=build C:\\ C:\\\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
        }
    }

    #[test]
    fn catches_onbuild_and_second_copy_into_scratch() {
        let src = "FROM golang AS build\nFROM debian\nONBUILD COPY --from=build / /\n";
        assert_eq!(lint(&RULE, src), vec![3]);
        assert!(messages(&RULE, src)[0].contains("the image built from this one"));
        let src = "FROM debian AS a\nFROM alpine AS b\nFROM scratch\nCOPY --from=a / /\nCOPY --from=b / /\n";
        assert_eq!(lint(&RULE, src), vec![5]);
        let src = "FROM debian AS a\nFROM scratch\nCOPY app /app\nCOPY --from=a / /\n";
        assert_eq!(lint(&RULE, src), vec![4]);
    }

    #[test]
    fn does_not_catch_paths_subdirectories_or_flattening() {
        for src in [
            "FROM debian\nCOPY / /\n",
            "FROM golang AS build\nFROM debian\nCOPY --from=build /app /\n",
            "FROM golang AS build\nFROM debian\nCOPY --from=build / /app\n",
            "FROM golang AS build\nFROM debian\nCOPY --from=build /app/. /\n",
            "FROM golang AS build\nFROM debian\nCOPY --from=build / .\n",
            "FROM golang AS build\nFROM debian\nWORKDIR /srv\nCOPY --from=build / .\n",
            "FROM golang AS build\nFROM debian\nCOPY --from=build $SRC /\n",
            "FROM debian AS rootfs\nRUN rm -rf /var/cache/*\nFROM scratch\nCOPY --from=rootfs / /\n",
            "ARG BASE=scratch\nFROM debian AS rootfs\nFROM $BASE\nCOPY --from=rootfs / /\nCMD [\"/bin/sh\"]\n",
            "FROM golang AS build\nFROM debian\nADD / /\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
