use super::util::{image_labels, LABEL_SCHEMA};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext, OptionKind, OptionSpec};

crate::declare_rule! {
    /// A label that the label schema does not list (strict mode).
    ///
    /// With `strict: true` and a label schema (the policy's `label_schema`, or this rule's own
    /// `schema` option), every label of the built image (set by the final stage or a stage it
    /// is built `FROM`) must be one the schema names; others are reported where they are set.
    /// Without both the rule does nothing. Labels of build stages are not judged: they never
    /// ship.
    ///
    /// ## Why
    /// Organisations that treat labels as an interface (for cost allocation, ownership or
    /// provenance) want exactly the agreed set: a typo (`org.opencontainers.image.sources`) or
    /// an ad-hoc label is noise that tools will not read.
    ///
    /// ## Example
    /// With `strict: true` and `label_schema: {org.opencontainers.image.source: url}` in the
    /// policy:
    /// ```dockerfile
    /// FROM alpine:3.20
    /// LABEL org.opencontainers.image.source="https://github.com/acme/app" team=payments
    /// ```
    /// Keep to the schema (or add `team` to it):
    /// ```dockerfile
    /// FROM alpine:3.20
    /// LABEL org.opencontainers.image.source="https://github.com/acme/app"
    /// ```
    pub static RULE = Rule {
        id: "DL3050",
        name: "superfluous-label",
        severity: Severity::Low,
        options: &[LABEL_SCHEMA, STRICT],
        check: Check::Dockerfile(check),
    };
}

const STRICT: OptionSpec = OptionSpec {
    name: "strict",
    kind: OptionKind::Bool,
    doc: "Report every label the schema does not name (like hadolint's `strict-labels`). \
          Default: false.",
};

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    if ctx.options.bool(STRICT.name) != Some(true) {
        return;
    }
    let Some(schema) = ctx.options.map(LABEL_SCHEMA.name) else {
        return;
    };
    for (key, label) in image_labels(ctx.facts) {
        if !schema.contains_key(&key) {
            out.push(
                label.span,
                format!("label `{key}` is not in the label schema"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::dockerfile::testing::{lint_with, map};
    use crate::rules::OptionValue;

    #[test]
    fn catches_labels_outside_the_schema() {
        let options = [
            ("schema", map(&[("maintainer", "text")])),
            ("strict", OptionValue::Bool(true)),
        ];
        assert_eq!(
            lint_with(
                &RULE,
                "FROM a\nLABEL maintainer=me\nLABEL team=x\n",
                &options
            ),
            vec![3]
        );
    }

    #[test]
    fn does_not_catch_without_strict_or_in_build_stages() {
        let schema = ("schema", map(&[("maintainer", "text")]));
        let src = "FROM a\nLABEL maintainer=me team=x\n";
        assert!(lint_with(&RULE, src, std::slice::from_ref(&schema)).is_empty());
        let off = ("strict", OptionValue::Bool(false));
        assert!(lint_with(&RULE, src, &[schema.clone(), off]).is_empty());
        let strict = ("strict", OptionValue::Bool(true));
        let staged = "FROM a AS build\nLABEL team=x\nFROM b\nLABEL maintainer=me\n";
        assert!(lint_with(&RULE, staged, &[schema, strict.clone()]).is_empty());
        assert!(lint_with(&RULE, src, &[strict]).is_empty());
    }
}
