use super::util::{check_typed_labels, LABEL_SCHEMA};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// A label the label schema types as `spdx` is not a valid SPDX license expression.
    ///
    /// Checks the labels the label schema gives type `spdx`, as the built image gets them
    /// (the last `LABEL` of the final stage or a stage it is built `FROM`). The value must be
    /// an SPDX license expression: license identifiers from the SPDX License List (3.27,
    /// matched without regard to case, deprecated ones included, `+` allowed), `LicenseRef-…`
    /// and `DocumentRef-…:LicenseRef-…`, combined with `AND`, `OR`, `WITH <exception>` and
    /// parentheses: `MIT`, `Apache-2.0 OR MIT`, `GPL-2.0-only WITH Classpath-exception-2.0`.
    /// Values from variables are resolved from the stage's `ARG`s and `ENV`s; ones without a
    /// known value are not judged, and empty ones are `DL3051`'s.
    ///
    /// ## Why
    /// `org.opencontainers.image.licenses` is defined as an SPDX expression, and license
    /// scanners and SBOM tools read it as one. `Apache 2`, `BSD` or `GPL` are not licenses a
    /// tool can check.
    ///
    /// ## Example
    /// With `label_schema: {org.opencontainers.image.licenses: spdx}` in the policy:
    /// ```dockerfile
    /// FROM alpine:3.20
    /// LABEL org.opencontainers.image.licenses="Apache 2"
    /// ```
    /// Use the identifier:
    /// ```dockerfile
    /// FROM alpine:3.20
    /// LABEL org.opencontainers.image.licenses="Apache-2.0"
    /// ```
    pub static RULE = Rule {
        id: "DL3054",
        name: "invalid-spdx-label",
        severity: Severity::Medium,
        options: &[LABEL_SCHEMA],
        check: Check::Dockerfile(check),
    };
}

/// License identifiers of the SPDX License List 3.27.0, one per line.
const LICENSES: &str = include_str!("dl3054_spdx_licenses.txt");
/// License exception identifiers of the SPDX License List 3.27.0, one per line.
const EXCEPTIONS: &str = include_str!("dl3054_spdx_exceptions.txt");

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    check_typed_labels(
        ctx,
        out,
        "spdx",
        is_spdx_expression,
        "is not a valid SPDX license expression",
    );
}

fn is_spdx_expression(value: &str) -> bool {
    let tokens = tokenize(value);
    let mut parser = Parser {
        tokens: &tokens,
        at: 0,
    };
    parser.expression(0) && parser.at == tokens.len()
}

fn tokenize(value: &str) -> Vec<&str> {
    let mut tokens = Vec::new();
    let mut start = None;
    for (i, c) in value.char_indices() {
        if c.is_whitespace() || c == '(' || c == ')' {
            if let Some(s) = start.take() {
                tokens.push(&value[s..i]);
            }
            if c == '(' || c == ')' {
                tokens.push(&value[i..i + 1]);
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        tokens.push(&value[s..]);
    }
    tokens
}

/// A recursive-descent reader of `or := and (OR and)*`, `and := with (AND with)*`,
/// `with := simple (WITH exception)?`, `simple := id | id+ | ref | ( or )`.
struct Parser<'a> {
    tokens: &'a [&'a str],
    at: usize,
}

impl Parser<'_> {
    fn next_is(&self, token: &str) -> bool {
        self.tokens.get(self.at) == Some(&token)
    }

    /// `depth` bounds nesting, so hostile input cannot exhaust the stack.
    fn expression(&mut self, depth: usize) -> bool {
        if depth > 32 || !self.conjunction(depth) {
            return false;
        }
        while self.next_is("OR") {
            self.at += 1;
            if !self.conjunction(depth) {
                return false;
            }
        }
        true
    }

    fn conjunction(&mut self, depth: usize) -> bool {
        if !self.with_exception(depth) {
            return false;
        }
        while self.next_is("AND") {
            self.at += 1;
            if !self.with_exception(depth) {
                return false;
            }
        }
        true
    }

    fn with_exception(&mut self, depth: usize) -> bool {
        if !self.simple(depth) {
            return false;
        }
        if self.next_is("WITH") {
            self.at += 1;
            let Some(exception) = self.tokens.get(self.at) else {
                return false;
            };
            self.at += 1;
            return is_exception(exception);
        }
        true
    }

    fn simple(&mut self, depth: usize) -> bool {
        let Some(token) = self.tokens.get(self.at) else {
            return false;
        };
        self.at += 1;
        if *token == "(" {
            let inner = self.expression(depth + 1);
            let closed = self.next_is(")");
            self.at += 1;
            return inner && closed;
        }
        is_license(token)
    }
}

fn is_license(token: &str) -> bool {
    if let Some(reference) = token.strip_prefix("DocumentRef-") {
        return match reference.split_once(":LicenseRef-") {
            Some((document, license)) => is_idstring(document) && is_idstring(license),
            None => false,
        };
    }
    if let Some(reference) = token.strip_prefix("LicenseRef-") {
        return is_idstring(reference);
    }
    let id = token.strip_suffix('+').unwrap_or(token);
    LICENSES.lines().any(|known| known.eq_ignore_ascii_case(id))
}

fn is_exception(token: &str) -> bool {
    if let Some(reference) = token.strip_prefix("AdditionRef-") {
        return is_idstring(reference);
    }
    EXCEPTIONS
        .lines()
        .any(|known| known.eq_ignore_ascii_case(token))
}

fn is_idstring(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

#[cfg(test)]
mod tests {
    use super::{is_spdx_expression, RULE};
    use crate::rules::dockerfile::testing::{lint_with, map};

    const LICENSES: &str = "org.opencontainers.image.licenses";

    #[test]
    fn catches_invalid_expressions() {
        let schema = [("schema", map(&[(LICENSES, "spdx")]))];
        let src = "FROM a\nLABEL org.opencontainers.image.licenses=\"Apache 2\"\n";
        assert_eq!(lint_with(&RULE, src, &schema), vec![2]);
        for bad in [
            "GPL",
            "BSD",
            "MIT OR",
            "MIT AND AND Apache-2.0",
            "(MIT",
            "MIT)",
            "MIT or Apache-2.0",
            "MIT/Apache-2.0",
            "GPL-2.0-only WITH MIT",
            "LicenseRef-",
            "DocumentRef-x:MIT",
            "MIT WITH",
        ] {
            assert!(!is_spdx_expression(bad), "{bad}");
        }
        let deep = format!("{}MIT{}", "(".repeat(100), ")".repeat(100));
        assert!(!is_spdx_expression(&deep));
    }

    #[test]
    fn does_not_catch_valid_or_unknown_expressions() {
        let schema = [("schema", map(&[(LICENSES, "spdx")]))];
        for src in [
            "FROM a\nLABEL org.opencontainers.image.licenses=\"Apache-2.0 OR MIT\"\n",
            "FROM a\nLABEL org.opencontainers.image.licenses=$LICENSE\n",
        ] {
            assert_eq!(lint_with(&RULE, src, &schema), Vec::<usize>::new(), "{src}");
        }
        for good in [
            "MIT",
            "mit",
            "0BSD",
            "GPL-2.0+",
            "GPL-2.0",
            "Apache-2.0 OR MIT",
            "(MIT OR Apache-2.0) AND BSD-3-Clause",
            "GPL-2.0-only WITH Classpath-exception-2.0",
            "LicenseRef-Proprietary",
            "DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2",
            "MIT AND (LGPL-2.1-or-later OR BSD-3-Clause)",
        ] {
            assert!(is_spdx_expression(good), "{good}");
        }
    }
}
