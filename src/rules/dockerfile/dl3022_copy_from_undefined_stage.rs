use crate::dockerfile::{ImageUseKind, Stage};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext, OptionKind, OptionSpec};

crate::declare_rule! {
    /// `COPY --from` (or `RUN --mount=from=`) names a stage that is not defined before it.
    ///
    /// BuildKit reads a `--from` value as an earlier stage's name or index; anything else is
    /// pulled as an image. Reported, after resolving the stage's `ARG`s:
    /// - a stage defined *later* in the file (stages can only use earlier ones);
    /// - a stage index with no such earlier stage (`--from=3` in a two-stage file);
    /// - a bare word that names no stage (`--from=biuld`): almost always a typo, since an
    ///   image would normally carry a tag, a registry or a digest (`--from=nginx:1.27`).
    ///
    /// References with `:`, `/` or `@` are images and are left to the image rules, as are
    /// values whose variables have no known value. Naming the stage's own name is `DL3023`.
    /// Named build contexts (`docker buildx build --build-context templates=./templates`) are
    /// invisible in the Dockerfile: list them in the `contexts` option.
    ///
    /// ## Why
    /// The build either fails pulling a nonexistent `docker.io/library/<name>` image or,
    /// worse, succeeds pulling a stranger's image of that name and copies its files into
    /// yours.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM golang:1.22 AS build
    /// RUN go build -o /out/app .
    /// FROM gcr.io/distroless/static
    /// COPY --from=biuld /out/app /app
    /// ```
    /// Name the stage as defined:
    /// ```dockerfile
    /// COPY --from=build /out/app /app
    /// ```
    pub static RULE = Rule {
        id: "DL3022",
        name: "copy-from-undefined-stage",
        severity: Severity::Medium,
        options: &[CONTEXTS],
        check: Check::Dockerfile(check),
    };
}

const CONTEXTS: OptionSpec = OptionSpec {
    name: "contexts",
    kind: OptionKind::StringList,
    doc: "Named build contexts (`--build-context NAME=…`) that `--from` may name.",
};

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let file = &ctx.facts.file;
    let contexts = ctx.options.list(CONTEXTS.name);
    for image in &ctx.facts.images {
        // Triggers name stages of the builds that run them; the frontend is no `--from`.
        if !matches!(image.kind, ImageUseKind::CopyFrom | ImageUseKind::MountFrom) {
            continue;
        }
        let Ok(value) = &image.resolved else {
            continue;
        };
        if value.contains([':', '/', '@']) || value.is_empty() {
            continue;
        }
        let lowered = value.to_ascii_lowercase();
        if contexts.iter().any(|c| c.eq_ignore_ascii_case(value)) {
            continue;
        }
        let stages = &file.stages;
        let here = stages.get(image.stage);
        if here.and_then(|s| s.name.as_deref()) == Some(lowered.as_str()) {
            continue;
        }
        let flag = match image.kind {
            ImageUseKind::MountFrom => "RUN --mount=from",
            _ => "--from",
        };
        let message = if let Some(later) = later_stage(stages, image.stage, &lowered) {
            let line = file.instructions.get(later.from).map_or(0, |i| i.span.line);
            format!(
                "{flag}={value} names the stage defined later, at line {line}; a stage can only \
                 use stages defined before it"
            )
        } else if value.bytes().all(|b| b.is_ascii_digit()) {
            format!(
                "{flag}={value}: there is no stage {value} before this one (stages are counted \
                 from 0)"
            )
        } else {
            format!(
                "{flag}={value} names no earlier stage, so BuildKit pulls it as the image \
                 `docker.io/library/{lowered}`; define the stage first, tag the image if one is \
                 meant, or list a named build context in this rule's `contexts` option"
            )
        };
        out.push(image.span, message);
    }
}

/// A stage after `current` called `name`.
fn later_stage<'a>(stages: &'a [Stage], current: usize, name: &str) -> Option<&'a Stage> {
    stages
        .iter()
        .skip(current + 1)
        .find(|s| s.name.as_deref() == Some(name))
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::dockerfile::testing::{lint, lint_with, messages};
    use crate::rules::OptionValue;

    #[test]
    fn catches_undefined_and_later_stages() {
        assert_eq!(lint(&RULE, "FROM a\nCOPY --from=foo bar .\n"), vec![2]);
        let later = "FROM scratch\nCOPY --from=build foo .\nFROM node:22 AS build\nRUN baz\n";
        assert_eq!(
            messages(&RULE, later),
            vec![
                "--from=build names the stage defined later, at line 3; a stage can only use \
                  stages defined before it"
            ]
        );
        assert_eq!(
            lint(&RULE, "FROM a AS one\nFROM b\nCOPY --from=2 /x /x\n"),
            vec![3]
        );
        assert_eq!(
            lint(
                &RULE,
                "FROM a\nRUN --mount=type=bind,from=biuld,target=/b true\n"
            ),
            vec![2]
        );
        assert_eq!(
            lint(&RULE, "FROM a\nARG SRC=biuld\nCOPY --from=$SRC /x /x\n"),
            vec![3]
        );
    }

    #[test]
    fn does_not_catch_named_build_contexts() {
        let src = "FROM a\nCOPY --from=templates /x.yml /x.yml\n";
        assert_eq!(lint(&RULE, src), vec![2]);
        let contexts = [("contexts", OptionValue::List(vec!["Templates".into()]))];
        assert!(lint_with(&RULE, src, &contexts).is_empty());
    }

    #[test]
    fn does_not_catch_earlier_stages_images_or_unknowns() {
        for src in [
            "FROM scratch AS build\nRUN foo\nFROM node:22\nCOPY --from=build foo .\n",
            "FROM golang:1.22 AS Build\nFROM scratch\nCOPY --from=BUILD /a /a\n",
            "FROM a\nFROM b\nCOPY --from=0 /a /a\n",
            "FROM a\nCOPY --from=nginx:1.27 /etc/nginx /etc/nginx\n",
            "FROM a\nCOPY --from=ghcr.io/acme/tools /bin/x /bin/x\n",
            "FROM a\nCOPY --from=$TOOLS_IMAGE /bin/x /bin/x\n",
            "FROM a\nRUN --mount=type=cache,target=/root/.cache true\n",
            // Its own name is DL3023's.
            "FROM a AS self\nCOPY --from=self /a /b\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "{src}");
        }
    }
}
