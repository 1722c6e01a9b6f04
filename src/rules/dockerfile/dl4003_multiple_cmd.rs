use super::dl3012_multiple_healthchecks::report_overridden;
use crate::dockerfile::Keyword;
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// More than one `CMD` in a stage.
    ///
    /// Only the last `CMD` of a stage takes effect; every earlier one in the same stage is
    /// reported. `ONBUILD CMD` is not counted: it applies to images built from this one.
    ///
    /// ## Why
    /// Two `CMD`s usually mean someone expected both commands to run. Only the last one does,
    /// and the other is misleading dead code. To run several processes, use a script or a
    /// process supervisor as the single `CMD`.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM python:3.12-slim
    /// CMD ["python", "migrate.py"]
    /// CMD ["python", "app.py"]
    /// ```
    /// Run one command (a script can do both steps):
    /// ```dockerfile
    /// FROM python:3.12-slim
    /// CMD ["/app/start.sh"]
    /// ```
    pub static RULE = Rule {
        id: "DL4003",
        name: "multiple-cmd",
        severity: Severity::Medium,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    report_overridden(ctx, out, Keyword::Cmd);
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::dockerfile::testing::lint;

    #[test]
    fn catches_overridden_cmd() {
        let src = "FROM a\nCMD [\"a\"]\nRUN true\nCMD b\n";
        assert_eq!(lint(&RULE, src), vec![2]);
    }

    #[test]
    fn does_not_catch_one_per_stage() {
        for src in [
            "FROM a\nCMD [\"a\"]\n",
            "FROM a AS build\nCMD [\"a\"]\nFROM b\nCMD [\"b\"]\n",
            "FROM a\nONBUILD CMD [\"x\"]\nCMD [\"a\"]\n",
            "FROM a\nENTRYPOINT [\"x\"]\nCMD [\"a\"]\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "{src}");
        }
    }
}
