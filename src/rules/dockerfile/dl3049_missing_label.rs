use super::util::{final_image_stages, image_labels, LABEL_SCHEMA};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// A label the label schema requires is missing from the built image.
    ///
    /// With a label schema (label name → type: the policy's `label_schema`, or this rule's own
    /// `schema` option), every label it names must be set in the built image: by the final
    /// stage or by a stage it is built `FROM`. Build stages do not need labels, since they are
    /// never shipped. A missing label is reported at the final stage's `FROM`. Labels a base
    /// image sets cannot be seen from the Dockerfile. Without a schema the rule does nothing.
    ///
    /// ## Why
    /// Labels such as `org.opencontainers.image.source` and `…revision` are how a registry,
    /// a scanner or an incident responder traces an image back to its code and its owner. A
    /// policy that requires them only works if every image has them.
    ///
    /// ## Example
    /// With `label_schema: {org.opencontainers.image.source: url}` in the policy:
    /// ```dockerfile
    /// FROM alpine:3.20
    /// COPY app /usr/bin/app
    /// ```
    /// Set the label:
    /// ```dockerfile
    /// FROM alpine:3.20
    /// LABEL org.opencontainers.image.source="https://github.com/acme/app"
    /// COPY app /usr/bin/app
    /// ```
    pub static RULE = Rule {
        id: "DL3049",
        name: "missing-label",
        severity: Severity::Low,
        options: &[LABEL_SCHEMA],
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let Some(schema) = ctx.options.map(LABEL_SCHEMA.name) else {
        return;
    };
    let facts = ctx.facts;
    let Some(from) = final_image_stages(facts)
        .first()
        .and_then(|&s| facts.file.stages.get(s))
        .and_then(|s| facts.file.instructions.get(s.from))
    else {
        return;
    };
    let labels = image_labels(facts);
    for name in schema.keys() {
        if !labels.contains_key(name) {
            out.push(
                from.span,
                format!(
                    "label `{name}` is missing from the built image (the label schema requires it)"
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::dockerfile::testing::{lint, lint_with, map};

    const SOURCE: &str = "org.opencontainers.image.source";

    #[test]
    fn catches_missing_labels() {
        let schema = [("schema", map(&[(SOURCE, "url"), ("maintainer", "text")]))];
        assert_eq!(
            lint_with(&RULE, "FROM a\nLABEL maintainer=me\n", &schema),
            vec![1]
        );
        assert_eq!(lint_with(&RULE, "FROM a\nRUN true\n", &schema), vec![1, 1]);
        // A build stage's label does not reach the image.
        let src = "FROM a AS build\nLABEL maintainer=me\nFROM b\nLABEL org.opencontainers.image.source=x\n";
        assert_eq!(lint_with(&RULE, src, &schema), vec![3]);
    }

    #[test]
    fn does_not_catch_present_labels() {
        let schema = [("schema", map(&[(SOURCE, "url"), ("maintainer", "text")]))];
        for src in [
            "FROM a\nLABEL maintainer=me org.opencontainers.image.source=https://x\n",
            "FROM a AS base\nLABEL maintainer=me\nFROM base\nLABEL org.opencontainers.image.source=$SRC\n",
            "FROM a AS build\nRUN make\nFROM b\nLABEL maintainer=\"\" \\\n  org.opencontainers.image.source=x\n",
        ] {
            assert_eq!(lint_with(&RULE, src, &schema), Vec::<usize>::new(), "{src}");
        }
        // Without a schema there is nothing to require.
        assert!(lint(&RULE, "FROM a\n").is_empty());
    }
}
