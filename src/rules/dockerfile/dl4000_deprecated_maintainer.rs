use super::util::onbuild_trigger;
use crate::dockerfile::Args;
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// `MAINTAINER` instruction.
    ///
    /// `MAINTAINER` has been deprecated since Docker 1.13 in favour of a label.
    ///
    /// ## Why
    /// The value ends up in an image field that tools no longer read. The OCI label
    /// `org.opencontainers.image.authors` is where registries, scanners and `docker inspect`
    /// users look for who is responsible for an image.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM alpine:3.20
    /// MAINTAINER Jane Doe <jane@example.com>
    /// ```
    /// Use the label:
    /// ```dockerfile
    /// FROM alpine:3.20
    /// LABEL org.opencontainers.image.authors="Jane Doe <jane@example.com>"
    /// ```
    pub static RULE = Rule {
        id: "DL4000",
        name: "deprecated-maintainer",
        severity: Severity::High,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    for inst in &ctx.facts.file.instructions {
        let (inst, _) = onbuild_trigger(inst);
        if let Args::Maintainer(who) = &inst.args {
            out.push(
                inst.span,
                format!(
                    "MAINTAINER is deprecated; use LABEL org.opencontainers.image.authors=\"{}\"",
                    who.trim().replace('"', "\\\"")
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
    fn catches_maintainer() {
        assert_eq!(
            lint(&RULE, "FROM a\nMAINTAINER Jane <jane@example.com>\n"),
            vec![2]
        );
        assert_eq!(
            messages(&RULE, "FROM a\nmaintainer jane\n"),
            vec!["MAINTAINER is deprecated; use LABEL org.opencontainers.image.authors=\"jane\""]
        );
    }

    #[test]
    fn does_not_catch_labels() {
        let src = "FROM a\nLABEL org.opencontainers.image.authors=\"jane\"\nRUN <<EOF\nMAINTAINER x\nEOF\n";
        assert!(lint(&RULE, src).is_empty());
    }
}
