use super::util::{final_image_stages, stage_body};
use crate::dockerfile::Keyword;
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// The built image has no `HEALTHCHECK`.
    ///
    /// Looks at the stages that make up the built image: the final stage and the stages it is
    /// built `FROM`. If none of them has a `HEALTHCHECK` (`HEALTHCHECK NONE` counts: it says
    /// the choice was made), the final stage's `FROM` is reported. Build stages are not
    /// judged; a base image's own `HEALTHCHECK` cannot be seen from the Dockerfile. hadolint
    /// ships this rule disabled.
    ///
    /// ## Why
    /// Without a health check, Docker and Swarm only know whether the process is running, not
    /// whether it works: a hung server stays "up" and keeps receiving traffic. (Kubernetes
    /// ignores `HEALTHCHECK` and uses its own probes, so there this rule is noise.)
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM nginx:1.27
    /// COPY site/ /usr/share/nginx/html/
    /// ```
    /// Say how to check the service:
    /// ```dockerfile
    /// FROM nginx:1.27
    /// COPY site/ /usr/share/nginx/html/
    /// HEALTHCHECK CMD curl -fs http://localhost/ || exit 1
    /// ```
    pub static RULE = Rule {
        id: "DL3057",
        name: "missing-healthcheck",
        severity: Severity::Low,
        enabled_by_default: false,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    let stages = final_image_stages(facts);
    let has_healthcheck = stages.iter().any(|&stage| {
        stage_body(facts, stage).any(|(_, inst)| inst.keyword == Keyword::Healthcheck)
    });
    if has_healthcheck {
        return;
    }
    let Some(from) = stages
        .first()
        .and_then(|&s| facts.file.stages.get(s))
        .and_then(|s| facts.file.instructions.get(s.from))
    else {
        return;
    };
    out.push(
        from.span,
        "the built image has no HEALTHCHECK; add one, or `HEALTHCHECK NONE` to say none is wanted",
    );
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::dockerfile::testing::lint;

    #[test]
    fn catches_image_without_healthcheck() {
        assert_eq!(lint(&RULE, "FROM nginx:1.27\nRUN true\n"), vec![1]);
        // A build stage's HEALTHCHECK does not reach the image.
        let src = "FROM golang:1.22 AS build\nHEALTHCHECK CMD true\nFROM scratch\nCOPY --from=build /a /a\n";
        assert_eq!(lint(&RULE, src), vec![3]);
        assert_eq!(
            lint(&RULE, "FROM a\nONBUILD HEALTHCHECK CMD true\n"),
            vec![1]
        );
    }

    #[test]
    fn does_not_catch_healthcheck_in_image_or_build_stages() {
        for src in [
            "FROM nginx:1.27\nHEALTHCHECK CMD curl -f http://localhost/\n",
            "FROM a\nHEALTHCHECK NONE\n",
            "FROM a AS base\nHEALTHCHECK CMD true\nFROM base\nRUN true\n",
            // Build stages without a HEALTHCHECK are fine.
            "FROM golang:1.22 AS build\nRUN go build\nFROM a\nHEALTHCHECK CMD true\n",
            "",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "{src}");
        }
    }
}
