use crate::dockerfile::{DockerfileFacts, Keyword};
use crate::finding::{Severity, Span};
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// `ONBUILD ONBUILD`, `ONBUILD FROM` or `ONBUILD MAINTAINER`.
    ///
    /// `ONBUILD` registers an instruction to run when another image is built `FROM` this one.
    /// Chaining `ONBUILD`s and triggering `FROM` or `MAINTAINER` are not allowed.
    ///
    /// ## Why
    /// BuildKit rejects the file. A nested `ONBUILD` usually tries to reach images two levels
    /// down, which the builder deliberately does not support: put the instruction in the
    /// image that needs it.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM node:22-slim
    /// ONBUILD ONBUILD RUN npm ci
    /// ```
    /// Trigger the instruction one level down only:
    /// ```dockerfile
    /// FROM node:22-slim
    /// ONBUILD RUN npm ci
    /// ```
    pub static RULE = Rule {
        id: "DL3043",
        name: "forbidden-onbuild-trigger",
        severity: Severity::High,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    // The parser refuses these instructions, so they are found where it reported an error.
    for error in &facts.file.errors {
        let text = logical_line(facts, error.span.line);
        let mut words = text.split_whitespace();
        let (Some(first), Some(second)) = (words.next(), words.next()) else {
            continue;
        };
        if Keyword::parse(first) != Some(Keyword::Onbuild) {
            continue;
        }
        let trigger = Keyword::parse(second);
        if let Some(kw @ (Keyword::Onbuild | Keyword::From | Keyword::Maintainer)) = trigger {
            let span = Span::new(
                error.span.line,
                error.span.column,
                error.span.line,
                facts.line_text(error.span.line).chars().count() + 1,
            );
            out.push(
                span,
                format!(
                    "ONBUILD {} is not allowed; ONBUILD can only trigger other instructions",
                    kw.as_str()
                ),
            );
        }
    }
}

/// The instruction text starting at `line`, its line continuations joined.
fn logical_line(facts: &DockerfileFacts, line: usize) -> String {
    let escape = facts.file.escape;
    let mut text = String::new();
    let mut current = line;
    loop {
        let physical = facts.line_text(current);
        match physical.trim_end().strip_suffix(escape) {
            Some(content) if current < line + 50 => {
                text.push_str(content);
                text.push(' ');
                current += 1;
            }
            _ => {
                text.push_str(physical);
                return text;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::dockerfile::testing::run;
    use crate::rules::RuleOptions;

    fn lines(src: &str) -> Vec<usize> {
        run(&RULE, src, &RuleOptions::default())
            .iter()
            .map(|d| d.span.line)
            .collect()
    }

    #[test]
    fn catches_forbidden_triggers() {
        assert_eq!(lines("FROM a\nONBUILD ONBUILD RUN x\n"), vec![2]);
        assert_eq!(lines("FROM a\nonbuild from b\n"), vec![2]);
        assert_eq!(lines("FROM a\nONBUILD MAINTAINER me\n"), vec![2]);
        assert_eq!(lines("FROM a\nONBUILD \\\n  FROM b\n"), vec![2]);
    }

    #[test]
    fn does_not_catch_allowed_triggers() {
        for src in [
            "FROM a\nONBUILD RUN make\nONBUILD COPY . /app\n",
            "FROM a\nRUN <<EOF\nONBUILD FROM x\nEOF\n",
            "FROM a\nFROBNICATE x\n",
        ] {
            assert_eq!(lines(src), Vec::<usize>::new(), "{src}");
        }
    }
}
