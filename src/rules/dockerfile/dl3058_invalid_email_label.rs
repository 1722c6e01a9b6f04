use super::util::{check_typed_labels, LABEL_SCHEMA};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// A label the label schema types as `email` is not an e-mail address.
    ///
    /// Checks the labels the label schema gives type `email`, as the built image gets them
    /// (the last `LABEL` of the final stage or a stage it is built `FROM`). The value must be
    /// an RFC 5322 mailbox, `team@example.com` or `Payments Team <team@example.com>`, or a
    /// comma-separated list of them. Values from variables are resolved from the stage's
    /// `ARG`s and `ENV`s; ones without a known value are not judged, and empty ones are
    /// `DL3051`'s.
    ///
    /// ## Why
    /// Contact labels are read when something is wrong with an image, by a person or by an
    /// alerting tool. A name without an address, or an address with a typo, reaches nobody.
    ///
    /// ## Example
    /// With `label_schema: {maintainer: email}` in the policy:
    /// ```dockerfile
    /// FROM alpine:3.20
    /// LABEL maintainer="Payments Team"
    /// ```
    /// Give an address:
    /// ```dockerfile
    /// FROM alpine:3.20
    /// LABEL maintainer="Payments Team <payments@example.com>"
    /// ```
    pub static RULE = Rule {
        id: "DL3058",
        name: "invalid-email-label",
        severity: Severity::Medium,
        options: &[LABEL_SCHEMA],
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    check_typed_labels(
        ctx,
        out,
        "email",
        is_mailbox_list,
        "is not an e-mail address",
    );
}

/// One mailbox, or several separated by commas.
fn is_mailbox_list(value: &str) -> bool {
    is_mailbox(value.trim()) || value.split(',').all(|m| is_mailbox(m.trim()))
}

/// `addr-spec` or `display name <addr-spec>`.
fn is_mailbox(text: &str) -> bool {
    match text.strip_suffix('>').and_then(|t| t.rsplit_once('<')) {
        Some((name, address)) => !name.contains(['<', '>']) && is_addr_spec(address),
        None => is_addr_spec(text),
    }
}

/// `local@domain`: a dot-atom or quoted local part, a dot-atom or `[literal]` domain.
fn is_addr_spec(text: &str) -> bool {
    let Some((local, domain)) = text.rsplit_once('@') else {
        return false;
    };
    let local_ok = if let Some(quoted) = local.strip_prefix('"').and_then(|l| l.strip_suffix('"')) {
        !quoted.is_empty() && !quoted.chars().any(|c| c == '"' || c.is_control())
    } else {
        is_dot_atom(local)
    };
    let domain_ok =
        if let Some(literal) = domain.strip_prefix('[').and_then(|d| d.strip_suffix(']')) {
            !literal.is_empty()
                && !literal
                    .chars()
                    .any(|c| matches!(c, '[' | ']' | '\\') || c.is_whitespace())
        } else {
            is_dot_atom(domain)
                && !domain.contains([
                    '!', '#', '$', '%', '&', '\'', '*', '+', '/', '=', '?', '^', '_', '`', '{',
                    '|', '}', '~',
                ])
        };
    local_ok && domain_ok
}

/// Atoms of `atext` joined by single dots.
fn is_dot_atom(text: &str) -> bool {
    !text.is_empty()
        && text.split('.').all(|atom| {
            !atom.is_empty()
                && atom
                    .chars()
                    .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c))
        })
}

#[cfg(test)]
mod tests {
    use super::{is_mailbox_list, RULE};
    use crate::rules::dockerfile::testing::{lint_with, map};

    #[test]
    fn catches_non_addresses() {
        let schema = [("schema", map(&[("maintainer", "email")]))];
        let src = "FROM a\nLABEL maintainer=\"Payments Team\"\n";
        assert_eq!(lint_with(&RULE, src, &schema), vec![2]);
        for bad in [
            "team",
            "team@",
            "@example.com",
            "a..b@example.com",
            "a@b@c",
            "Team <team>",
            "a b@example.com",
            "a@exa_mple.com",
        ] {
            assert!(!is_mailbox_list(bad), "{bad}");
        }
    }

    #[test]
    fn does_not_catch_addresses_or_unknowns() {
        let schema = [("schema", map(&[("maintainer", "email")]))];
        for src in [
            "FROM a\nLABEL maintainer=\"Payments Team <payments@example.com>\"\n",
            "FROM a\nLABEL maintainer=$MAINTAINER\n",
        ] {
            assert_eq!(lint_with(&RULE, src, &schema), Vec::<usize>::new(), "{src}");
        }
        for good in [
            "team@example.com",
            "first.last+tag@sub.example.co.uk",
            "\"odd name\"@example.com",
            "root@localhost",
            "user@[192.168.0.1]",
            "A <a@example.com>, b@example.com",
            "\"Doe, Jane\" <jane@example.com>",
        ] {
            assert!(is_mailbox_list(good), "{good}");
        }
    }
}
