use super::util::stage_body;
use crate::dockerfile::Keyword;
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// More than one `HEALTHCHECK` in a stage.
    ///
    /// Only the last `HEALTHCHECK` of a stage takes effect; every earlier one in the same
    /// stage is reported. `HEALTHCHECK NONE` counts too. `ONBUILD HEALTHCHECK` is not
    /// counted: it applies to images built from this one.
    ///
    /// ## Why
    /// The earlier `HEALTHCHECK` is dead code that looks alive: a reader (or a reviewer of a
    /// change to it) believes the container is checked one way while it is checked another.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM nginx:1.27
    /// HEALTHCHECK CMD curl -f http://localhost/ || exit 1
    /// HEALTHCHECK CMD curl -f http://localhost/healthz || exit 1
    /// ```
    /// Keep one:
    /// ```dockerfile
    /// FROM nginx:1.27
    /// HEALTHCHECK CMD curl -f http://localhost/healthz || exit 1
    /// ```
    pub static RULE = Rule {
        id: "DL3012",
        name: "multiple-healthchecks",
        severity: Severity::High,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    report_overridden(ctx, out, Keyword::Healthcheck);
}

/// Reports every `keyword` instruction of a stage that a later one in the same stage
/// overrides (so only the last one of each stage takes effect).
pub(super) fn report_overridden(
    ctx: &DockerfileContext<'_>,
    out: &mut Diagnostics,
    keyword: Keyword,
) {
    let facts = ctx.facts;
    for stage in &facts.file.stages {
        let found: Vec<_> = stage_body(facts, stage.index)
            .filter(|(_, inst)| inst.keyword == keyword)
            .map(|(_, inst)| inst.span)
            .collect();
        let Some((last, earlier)) = found.split_last() else {
            continue;
        };
        for span in earlier {
            out.push(
                *span,
                format!(
                    "this {} has no effect: the {} at line {} in the same stage overrides it",
                    keyword.as_str(),
                    keyword.as_str(),
                    last.line
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::dockerfile::testing::{lint, messages};

    #[test]
    fn catches_overridden_healthcheck() {
        let src = "FROM nginx:1.27\nHEALTHCHECK CMD curl -f http://localhost/\nHEALTHCHECK NONE\n";
        assert_eq!(lint(&RULE, src), vec![2]);
        assert_eq!(
            messages(&RULE, src),
            vec!["this HEALTHCHECK has no effect: the HEALTHCHECK at line 3 in the same stage overrides it"]
        );
        let three = "FROM a\nHEALTHCHECK NONE\nHEALTHCHECK NONE\nHEALTHCHECK \\\n  CMD true\n";
        assert_eq!(lint(&RULE, three), vec![2, 3]);
    }

    #[test]
    fn does_not_catch_one_per_stage() {
        for src in [
            "FROM nginx:1.27\nHEALTHCHECK CMD true\n",
            "FROM a AS one\nHEALTHCHECK CMD true\nFROM b\nHEALTHCHECK CMD true\n",
            "FROM a\nONBUILD HEALTHCHECK CMD true\nHEALTHCHECK CMD true\n",
            "FROM a\nRUN <<EOF\nHEALTHCHECK NONE\nEOF\nHEALTHCHECK CMD true\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "{src}");
        }
    }
}
