use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// The Dockerfile cannot be parsed.
    ///
    /// ## Why
    /// A file the gate cannot read is a file the gate cannot vouch for. Instead of skipping it,
    /// portcullis reports the line where parsing failed, lints the rest of the file, and goes on
    /// with the other targets. BuildKit would refuse to build such a file too.
    ///
    /// A file that cannot be parsed is not judged as it would be built, so besides this
    /// finding the run fails closed (exit code 3), whatever `fail_on` says. This rule is on in
    /// every policy, also under `extends: none` or `enable: none`; only `PC0001: off` written
    /// in the policy turns it off (and with it the exit code 3), and an exception with a reason
    /// waives it for the files it names.
    ///
    /// Typical causes: an unknown instruction (`RUNN`), an instruction without its arguments
    /// (`FROM` alone), an unterminated heredoc, an instruction other than `ARG` before the first
    /// `FROM`, or an invalid `# escape=` directive.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM alpine:3.20
    /// RUNN apk add --no-cache curl
    /// ```
    /// Fix the instruction: `RUN apk add --no-cache curl`.
    pub static RULE = Rule {
        id: "PC0001",
        name: "dockerfile-syntax-error",
        severity: Severity::High,
        check: Check::Dockerfile(check),
        fail_closed: true,
        policy_rule: true,
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    for error in &ctx.facts.file.errors {
        out.push(error.span, format!("cannot parse: {}", error.message));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dockerfile::DockerfileFacts;
    use crate::rules::RuleOptions;
    use std::collections::BTreeMap;

    fn lines(src: &str) -> Vec<usize> {
        let facts = DockerfileFacts::gather("Dockerfile", src, &BTreeMap::new());
        let options = RuleOptions::default();
        let mut out = Diagnostics::default();
        check(
            &DockerfileContext {
                facts: &facts,
                options: &options,
            },
            &mut out,
        );
        out.0.iter().map(|d| d.span.line).collect()
    }

    #[test]
    fn catches_unknown_instruction_and_unterminated_heredoc() {
        assert_eq!(lines("FROM a\nRUNN x\n"), vec![2]);
        assert_eq!(lines("FROM a\nRUN <<EOF\necho\n"), vec![2]);
    }

    #[test]
    fn does_not_catch_valid_files() {
        assert!(lines("# escape=`\nFROM a\nRUN echo `\n  hi\n").is_empty());
        assert!(lines("FROM a\nRUN <<EOF\necho\nEOF\n").is_empty());
    }
}
