use crate::finding::{Severity, Span};
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// An inline `# hadolint ignore=…` pragma.
    ///
    /// Reports every comment of the form `# hadolint ignore=DL3008,…`, which silences rules
    /// for the next instruction. File-wide `# hadolint global ignore=…` pragmas are not
    /// reported (they are not inline). Comments inside heredoc bodies are not pragmas. hadolint
    /// ships this rule disabled; enable it where suppressions must go through review.
    ///
    /// ## Why
    /// An inline pragma lets anyone who edits the Dockerfile switch a check off, with no
    /// expiry and often no reason. Teams that want exemptions to be visible keep them in the
    /// policy file instead (see also `PC0002`, which stops honouring pragmas altogether).
    ///
    /// ## Example
    /// ```dockerfile
    /// # hadolint ignore=DL3008
    /// RUN apt-get install -y curl
    /// ```
    /// Fix the finding, or move the exemption into the policy with a reason.
    pub static RULE = Rule {
        id: "DL1001",
        name: "inline-ignore-pragma",
        severity: Severity::Info,
        enabled_by_default: false,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    for comment in &facts.file.comments {
        let Some(rules) = inline_ignore(&comment.text) else {
            continue;
        };
        let end = facts.line_text(comment.line).chars().count() + 1;
        out.push(
            Span::new(comment.line, comment.column, comment.line, end),
            format!("inline ignore pragma for {rules}; fix the finding or record an exception in the policy"),
        );
    }
}

/// The rule list of a `hadolint ignore=…` comment (the text after `#`).
fn inline_ignore(text: &str) -> Option<&str> {
    let rest = text.strip_prefix("hadolint")?;
    if !rest.starts_with([' ', '\t']) {
        return None;
    }
    let rest = rest.trim_start().strip_prefix("ignore")?.trim_start();
    let rules = rest.strip_prefix('=')?.trim();
    // Anything after the list (`# reason`) is a comment on the pragma.
    let rules = rules.split('#').next().unwrap_or("").trim();
    (!rules.is_empty()).then_some(rules)
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::dockerfile::testing::{lint, messages};

    #[test]
    fn catches_inline_pragmas() {
        let src = "FROM a\n# hadolint ignore=DL3008,DL3009\nRUN apt-get install -y x\n";
        assert_eq!(lint(&RULE, src), vec![2]);
        assert_eq!(
            messages(&RULE, src),
            vec!["inline ignore pragma for DL3008,DL3009; fix the finding or record an exception in the policy"]
        );
        assert_eq!(
            lint(
                &RULE,
                "FROM a\n  #hadolint  ignore = DL3008 # reason\nRUN x\n"
            ),
            vec![2]
        );
        // Inside a continuation, too.
        let continued = "FROM a\nRUN a \\\n  # hadolint ignore=SC2086\n  b\n";
        assert_eq!(lint(&RULE, continued), vec![3]);
    }

    #[test]
    fn does_not_catch_other_comments() {
        for src in [
            "FROM a\n# hadolint global ignore=DL3008\n",
            "FROM a\n# hadolint shell=bash\n",
            "FROM a\n# the hadolint ignore=DL3008 syntax is documented elsewhere\n",
            "FROM a\n# hadolintignore=DL3008\n",
            "FROM a\nRUN <<EOF\n# hadolint ignore=DL3008\nEOF\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "{src}");
        }
    }
}
