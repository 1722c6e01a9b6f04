use super::util::{stage_of, strip_quotes};
use crate::dockerfile::Args;
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// `COPY --from=… / /` copies a whole filesystem over the image.
    ///
    /// Flags `COPY --from=<stage or image> / /` (also `"/"`, `/.`), the root of another stage
    /// or image copied onto the root of this one. Not flagged in a stage built `FROM scratch`:
    /// there the copy replaces nothing, and is the usual way to flatten a prepared root
    /// filesystem into one layer. Copying the root into a subdirectory (`/ /rootfs`) is not
    /// flagged either.
    ///
    /// ## Why
    /// The copy lays every file of the other stage over the base image: its package
    /// database, caches, build tools and any secrets left behind replace or join the base's
    /// files, producing an image that matches neither and that the package manager no longer
    /// describes. Copy the paths the image needs.
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
    let file = &ctx.facts.file;
    for (index, inst) in file.instructions.iter().enumerate() {
        let Args::Copy { sources, dest } = &inst.args else {
            continue;
        };
        let Some(from) = inst.flag("from").and_then(|f| f.value.as_deref()) else {
            continue;
        };
        if !is_root(dest) || !sources.iter().any(|s| is_root(s)) || in_scratch_stage(ctx, index) {
            continue;
        }
        out.push(
            inst.span,
            format!(
                "copies the whole filesystem of `{from}` over this image; copy only the paths \
                 it needs"
            ),
        );
    }
}

fn is_root(path: &str) -> bool {
    matches!(strip_quotes(path), "/" | "/." | "/./")
}

/// Whether instruction `index` is in a stage built `FROM scratch`.
fn in_scratch_stage(ctx: &DockerfileContext<'_>, index: usize) -> bool {
    let file = &ctx.facts.file;
    stage_of(ctx.facts, index)
        .and_then(|s| file.stages.get(s))
        .and_then(|s| file.instructions.get(s.from))
        .is_some_and(|from| {
            matches!(&from.args, Args::From { image, .. } if image.eq_ignore_ascii_case("scratch"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::lint;

    #[test]
    fn catches_root_over_root() {
        for src in [
            "FROM golang AS build\nFROM debian\nCOPY --from=build / /\n",
            "FROM golang AS build\nFROM debian\nCOPY --from=build \"/\" \"/\"\n",
            "FROM debian\nCOPY --from=busybox:1.36 /. /\n",
            "FROM golang AS build\nFROM debian\nCOPY --link --from=build / /\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
        }
    }

    #[test]
    fn does_not_catch_paths_subdirectories_or_scratch() {
        for src in [
            "FROM debian\nCOPY / /\n",
            "FROM golang AS build\nFROM debian\nCOPY --from=build /app /\n",
            "FROM golang AS build\nFROM debian\nCOPY --from=build / /app\n",
            "FROM debian AS rootfs\nRUN rm -rf /var/cache/*\nFROM scratch\nCOPY --from=rootfs / /\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
