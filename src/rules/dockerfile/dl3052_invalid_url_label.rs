use super::util::{check_typed_labels, LABEL_SCHEMA};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// A label the label schema types as `url` is not an absolute URL.
    ///
    /// Checks the labels the label schema gives type `url`, as the built image gets them
    /// (the last `LABEL` of the final stage or a stage it is built `FROM`). The value must be
    /// an absolute URI as RFC 3986 defines it: a scheme (`https:`), no spaces, only URI
    /// characters or `%`-escapes, and a host after `//`. Values from variables are resolved
    /// from the stage's `ARG`s and `ENV`s; ones without a known value are not judged, and
    /// empty ones are `DL3051`'s.
    ///
    /// ## Why
    /// Registries and scanners turn labels such as `org.opencontainers.image.source` into
    /// links and use them to find an image's code. `github.com/acme/app` (no scheme) or a
    /// pasted URL with spaces breaks that silently.
    ///
    /// ## Example
    /// With `label_schema: {org.opencontainers.image.source: url}` in the policy:
    /// ```dockerfile
    /// FROM alpine:3.20
    /// LABEL org.opencontainers.image.source="github.com/acme/app"
    /// ```
    /// Write the full URL:
    /// ```dockerfile
    /// FROM alpine:3.20
    /// LABEL org.opencontainers.image.source="https://github.com/acme/app"
    /// ```
    pub static RULE = Rule {
        id: "DL3052",
        name: "invalid-url-label",
        severity: Severity::Medium,
        options: &[LABEL_SCHEMA],
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    check_typed_labels(
        ctx,
        out,
        "url",
        is_absolute_uri,
        "is not a valid absolute URL",
    );
}

/// An absolute URI (RFC 3986 `absolute-URI` with an optional fragment).
fn is_absolute_uri(value: &str) -> bool {
    let Some((scheme, rest)) = value.split_once(':') else {
        return false;
    };
    let scheme_ok = scheme
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok || rest.is_empty() || !uri_characters(rest) {
        return false;
    }
    if rest.matches('#').count() > 1 {
        return false;
    }
    match rest.strip_prefix("//") {
        Some(authority) => {
            let host = authority
                .split(['/', '?', '#'])
                .next()
                .unwrap_or("")
                .rsplit('@')
                .next()
                .unwrap_or("");
            !host.is_empty() && !host.starts_with(':')
        }
        None => true,
    }
}

/// Only unreserved, reserved and well-formed `%XX` characters.
fn uri_characters(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = |at: usize| bytes.get(at).is_some_and(|h| h.is_ascii_hexdigit());
            if !(hex(i + 1) && hex(i + 2)) {
                return false;
            }
            i += 3;
            continue;
        }
        let allowed = b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=".contains(&b);
        if !allowed {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::{is_absolute_uri, RULE};
    use crate::rules::dockerfile::testing::{lint_with, map};

    #[test]
    fn catches_invalid_urls() {
        let schema = [("schema", map(&[("org.opencontainers.image.url", "url")]))];
        for src in [
            "FROM a\nLABEL org.opencontainers.image.url=github.com/acme/app\n",
            "FROM a\nLABEL org.opencontainers.image.url=\"https://example.com/a b\"\n",
            "FROM a\nARG U=www.example.com\nLABEL org.opencontainers.image.url=$U\n",
        ] {
            assert_eq!(lint_with(&RULE, src, &schema).len(), 1, "{src}");
        }
        for bad in [
            "https://",
            "http:///path",
            "://x",
            "1http://x",
            "https://x/%zz",
            "a:b#c#d",
        ] {
            assert!(!is_absolute_uri(bad), "{bad}");
        }
    }

    #[test]
    fn does_not_catch_valid_unknown_or_other_labels() {
        let schema = [("schema", map(&[("org.opencontainers.image.url", "URL")]))];
        for src in [
            "FROM a\nLABEL org.opencontainers.image.url=https://github.com/acme/app\n",
            "FROM a\nLABEL org.opencontainers.image.url=$URL\n",
            "FROM a\nLABEL org.opencontainers.image.url=\"\"\n",
            "FROM a\nLABEL other=not-a-url\n",
        ] {
            assert_eq!(lint_with(&RULE, src, &schema), Vec::<usize>::new(), "{src}");
        }
        for good in [
            "https://example.com/a%20b?x=1#top",
            "mailto:team@example.com",
            "git+ssh://git@github.com/acme/app.git",
            "urn:isbn:0451450523",
            "http://[::1]:8080/",
        ] {
            assert!(is_absolute_uri(good), "{good}");
        }
    }
}
