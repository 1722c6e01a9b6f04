use super::util::{expand_at, stage_body};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// `COPY --from` names the stage it is in.
    ///
    /// A stage cannot copy from itself: its files are not built yet. Flags `COPY --from=`
    /// (and `ADD --from=`) whose value, after resolving the stage's `ARG`s, is the stage's own
    /// name (case-insensitively, as BuildKit compares names) or its own index.
    ///
    /// ## Why
    /// BuildKit rejects the reference (a stage referring to itself is a cycle), so the build
    /// fails; usually a different, earlier stage was meant.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM golang:1.22 AS build
    /// COPY --from=build /out/app /app
    /// ```
    /// Copy from the stage that produced the files:
    /// ```dockerfile
    /// FROM golang:1.22 AS build
    /// RUN go build -o /out/app .
    /// FROM gcr.io/distroless/static
    /// COPY --from=build /out/app /app
    /// ```
    pub static RULE = Rule {
        id: "DL3023",
        name: "copy-from-own-stage",
        severity: Severity::High,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    for stage in &facts.file.stages {
        for (index, inst) in stage_body(facts, stage.index) {
            let Some(from) = inst.flag("from").and_then(|f| f.value.as_deref()) else {
                continue;
            };
            let Ok(value) = expand_at(facts, index, from) else {
                continue;
            };
            let lowered = value.to_ascii_lowercase();
            let own_name = stage.name.as_deref() == Some(lowered.as_str());
            let own_index = lowered.parse::<usize>().ok() == Some(stage.index);
            if own_name || own_index {
                out.push(
                    inst.span,
                    format!(
                        "--from={value} names the stage this {} is in; a stage cannot copy \
                         from itself",
                        inst.keyword.as_str()
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::dockerfile::testing::lint;

    #[test]
    fn catches_copy_from_own_stage() {
        assert_eq!(
            lint(&RULE, "FROM a AS build\nCOPY --from=build /a /b\n"),
            vec![2]
        );
        assert_eq!(
            lint(&RULE, "FROM a AS Build\nCOPY --from=BUILD /a /b\n"),
            vec![2]
        );
        assert_eq!(
            lint(&RULE, "FROM a\nFROM b\nCOPY --from=1 /a /b\n"),
            vec![3]
        );
        assert_eq!(
            lint(
                &RULE,
                "FROM a AS build\nARG S=build\nCOPY --from=$S /a /b\n"
            ),
            vec![3]
        );
    }

    #[test]
    fn does_not_catch_other_stages() {
        for src in [
            "FROM a AS build\nFROM b AS final\nCOPY --from=build /a /b\n",
            "FROM a\nFROM b\nCOPY --from=0 /a /b\n",
            "FROM a AS build\nCOPY --from=$S /a /b\n",
            "FROM a AS build\nONBUILD COPY --from=build /a /b\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "{src}");
        }
    }
}
