use super::util::{image_labels, LABEL_SCHEMA};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// A label the label schema names is set to an empty value.
    ///
    /// Checks the labels the label schema names, as the built image gets them (the last
    /// `LABEL` of the final stage or a stage it is built `FROM`). A value that is empty or
    /// blank after resolving the stage's `ARG`s and `ENV`s is reported; a value from a
    /// variable without a known value (`ARG BUILD_DATE` filled in by CI) is not judged.
    ///
    /// ## Why
    /// An empty label satisfies a "label is present" check while carrying nothing: the usual
    /// cause is a CI variable that was not passed as a `--build-arg`.
    ///
    /// ## Example
    /// With `label_schema: {org.opencontainers.image.revision: hash}` in the policy:
    /// ```dockerfile
    /// FROM alpine:3.20
    /// ARG REVISION=""
    /// LABEL org.opencontainers.image.revision=$REVISION
    /// ```
    /// Leave the default out, so that CI must pass `--build-arg REVISION=…`:
    /// ```dockerfile
    /// FROM alpine:3.20
    /// ARG REVISION
    /// LABEL org.opencontainers.image.revision=$REVISION
    /// ```
    pub static RULE = Rule {
        id: "DL3051",
        name: "empty-label",
        severity: Severity::Medium,
        options: &[LABEL_SCHEMA],
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let Some(schema) = ctx.options.map(LABEL_SCHEMA.name) else {
        return;
    };
    for (key, label) in image_labels(ctx.facts) {
        if !schema.contains_key(&key) {
            continue;
        }
        if matches!(&label.value, Ok(value) if value.trim().is_empty()) {
            out.push(
                label.span,
                format!("label `{key}` is empty: {}", label.shown()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::dockerfile::testing::{lint_with, map};

    #[test]
    fn catches_empty_labels() {
        let schema = [("schema", map(&[("maintainer", "text")]))];
        for src in [
            "FROM a\nLABEL maintainer=\"\"\n",
            "FROM a\nLABEL maintainer=\"  \"\n",
            "FROM a\nARG M=\"\"\nLABEL maintainer=$M\n",
            "FROM a\nLABEL maintainer=me\nLABEL maintainer=\n",
        ] {
            assert_eq!(lint_with(&RULE, src, &schema).len(), 1, "{src}");
        }
    }

    #[test]
    fn does_not_catch_filled_unknown_or_unlisted_labels() {
        let schema = [("schema", map(&[("maintainer", "text")]))];
        for src in [
            "FROM a\nLABEL maintainer=me\n",
            "FROM a\nARG M\nLABEL maintainer=$M\n",
            "FROM a\nLABEL other=\"\"\n",
            "FROM a\nLABEL maintainer=\"\"\nLABEL maintainer=me\n",
            "FROM a AS build\nLABEL maintainer=\"\"\nFROM b\n",
        ] {
            assert_eq!(lint_with(&RULE, src, &schema), Vec::<usize>::new(), "{src}");
        }
    }
}
