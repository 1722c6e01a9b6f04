use crate::finding::{Severity, Span};
use crate::rules::{Check, Diagnostics, ImageContext, OptionKind, OptionSpec};

crate::declare_rule! {
    /// Image lacks a label the policy requires.
    ///
    /// Reports each label named in the policy's `labels` that the image config does not
    /// have, or has with an empty value. Labels are read from the built image, so labels a
    /// base image set count too. Off unless the policy enables it, and it requires nothing
    /// until `labels` names something (a note says so).
    ///
    /// The Dockerfile label rules (`DL3049`–`DL3056`, `DL3058`) check labels written in a
    /// Dockerfile against the policy's `label_schema`; this rule checks the image, whatever
    /// built it, against its own `labels` list.
    ///
    /// ## Why
    /// Labels are how tools get from an image back to its source: the repository
    /// (`org.opencontainers.image.source`, which GitHub uses to link a package to its repo),
    /// the commit (`org.opencontainers.image.revision`), the owning team for an incident.
    /// Requiring them at the gate keeps every image traceable.
    ///
    /// ## Example
    /// With `labels: [org.opencontainers.image.source]`, an image built without it is
    /// reported. Add it when building:
    /// ```dockerfile
    /// LABEL org.opencontainers.image.source="https://github.com/acme/app"
    /// ```
    pub static RULE = Rule {
        id: "PC3003",
        name: "missing-required-label",
        severity: Severity::Low,
        enabled_by_default: false,
        options: &[OptionSpec {
            name: "labels",
            kind: OptionKind::StringList,
            doc: "Label keys the image must carry, with a non-empty value.",
        }],
        check: Check::Image(check),
    };
}

fn check(ctx: &ImageContext<'_>, out: &mut Diagnostics) {
    let required = ctx.options.list("labels");
    if required.is_empty() {
        out.note("no `labels` option is set, so no label is required");
        return;
    }
    let labels = &ctx.platform.config.labels;
    for key in required {
        let problem = match labels.get(key) {
            None => "is missing",
            Some(value) if value.trim().is_empty() => "is empty",
            Some(_) => continue,
        };
        out.push(
            Span::default(),
            format!("required label `{key}` {problem}; add it when building the image"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::ImageConfig;
    use crate::rules::image::testing::{image, list, messages_with};

    const SOURCE: &str = "org.opencontainers.image.source";

    fn labelled(pairs: &[(&str, &str)]) -> crate::image::ImageFacts {
        image(
            ImageConfig {
                labels: pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                ..ImageConfig::default()
            },
            &[1],
        )
    }

    #[test]
    fn catches_missing_and_empty_labels() {
        let required = [("labels", list(&[SOURCE, "team"]))];
        assert_eq!(
            messages_with(&RULE, &labelled(&[("team", "payments")]), &required),
            vec![format!(
                "required label `{SOURCE}` is missing; add it when building the image"
            )]
        );
        let found = messages_with(&RULE, &labelled(&[(SOURCE, " "), ("team", "x")]), &required);
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("is empty"), "{found:?}");
    }

    #[test]
    fn does_not_catch_present_labels_or_without_the_option() {
        let facts = labelled(&[(SOURCE, "https://github.com/acme/app")]);
        assert!(messages_with(&RULE, &facts, &[("labels", list(&[SOURCE]))]).is_empty());
        assert!(messages_with(&RULE, &labelled(&[]), &[]).is_empty());
    }
}
