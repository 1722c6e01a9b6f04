use super::dl3012_multiple_healthchecks::report_overridden;
use crate::dockerfile::Keyword;
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// More than one `ENTRYPOINT` in a stage.
    ///
    /// Only the last `ENTRYPOINT` of a stage takes effect; every earlier one in the same stage
    /// is reported. `ONBUILD ENTRYPOINT` is not counted: it applies to images built from this
    /// one.
    ///
    /// ## Why
    /// The earlier `ENTRYPOINT` never runs. Worse, an `ENTRYPOINT` also resets the `CMD`
    /// inherited from the base image, so the leftovers make it hard to tell what the container
    /// actually starts.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM alpine:3.20
    /// ENTRYPOINT ["/docker-entrypoint.sh"]
    /// ENTRYPOINT ["/usr/bin/app"]
    /// ```
    /// Keep the one you mean:
    /// ```dockerfile
    /// FROM alpine:3.20
    /// ENTRYPOINT ["/usr/bin/app"]
    /// ```
    pub static RULE = Rule {
        id: "DL4004",
        name: "multiple-entrypoints",
        severity: Severity::High,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    report_overridden(ctx, out, Keyword::Entrypoint);
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::dockerfile::testing::lint;

    #[test]
    fn catches_overridden_entrypoint() {
        let src = "FROM a\nENTRYPOINT [\"a\"]\nENTRYPOINT b\n";
        assert_eq!(lint(&RULE, src), vec![2]);
    }

    #[test]
    fn does_not_catch_one_per_stage() {
        for src in [
            "FROM a\nENTRYPOINT [\"a\"]\nCMD [\"--help\"]\n",
            "FROM a AS build\nENTRYPOINT [\"a\"]\nFROM build\nENTRYPOINT [\"b\"]\n",
            "FROM a\nONBUILD ENTRYPOINT [\"x\"]\nENTRYPOINT [\"a\"]\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "{src}");
        }
    }
}
