use crate::finding::{Severity, Span};
use crate::rules::{Check, Diagnostics, ImageContext};
use crate::secrets::{
    contains_credential, is_literal_secret, is_placeholder, is_secret_name, scan,
    url_with_password, Hit,
};

crate::declare_rule! {
    /// Secret in the image's environment (`Env` of the image config).
    ///
    /// Every `NAME=value` of the image config's `Env` is judged with the Dockerfile secret
    /// rules' detection, as if it were written `ENV NAME=value`:
    ///
    /// - by name and value, as `PC2004` judges `ENV` (a name such as `DB_PASSWORD`,
    ///   `NPM_TOKEN` or `AWS_SECRET_ACCESS_KEY` with a literal value that is not a path, a
    ///   boolean or a placeholder; or a URL with a password in it, whatever the name);
    /// - by value, as `PC2005` judges any text (GitHub, GitLab, AWS, Slack, Stripe, … tokens
    ///   and private keys, whatever the name).
    ///
    /// Placeholders are judged as in `PC2004`, on the whole value: `changeme`, `<token>`,
    /// `your-api-key-here` and AWS's documented `AKIAIOSFODNN7EXAMPLE` are not secrets;
    /// `Dummy-Lake-2023` is. Values in an image config are literal (nothing expands `$VAR`
    /// in them), so a value with `$` is judged as text, except a value that is only a
    /// reference (`${DB_PASSWORD}`), left for an entrypoint to fill in. Messages name the
    /// variable and the value's length, never the value.
    ///
    /// ## Why
    /// The config travels with the image: anyone who can pull it reads every variable with
    /// `docker inspect`, and every container started from it inherits them. A secret set with
    /// `ENV` (or in a base image) cannot be taken back by a later layer: it stays in the
    /// config history. Set secrets when the container starts (an orchestrator secret, a
    /// mounted file) and rotate any that shipped in an image.
    ///
    /// ## Example
    /// An image built from
    /// ```dockerfile
    /// FROM python:3.12-slim
    /// ENV DB_PASSWORD=hunter2
    /// ```
    /// is reported for `DB_PASSWORD`. Read the password from a file the orchestrator mounts:
    /// ```dockerfile
    /// FROM python:3.12-slim
    /// ENV DB_PASSWORD_FILE=/run/secrets/db_password
    /// ```
    pub static RULE = Rule {
        id: "PC3002",
        name: "secret-in-image-env",
        severity: Severity::High,
        check: Check::Image(check),
        policy_rule: true,
    };
}

fn check(ctx: &ImageContext<'_>, out: &mut Diagnostics) {
    for entry in &ctx.platform.config.env {
        let (name, value) = entry.split_once('=').unwrap_or((entry.as_str(), ""));
        if let Some(what) = secret_kind(name, value) {
            out.push(
                Span::default(),
                format!(
                    "environment variable `{name}` holds {what} (redacted, {} characters): \
                     anyone who can pull the image can read it; set it at run time instead, \
                     and rotate it",
                    value.chars().count()
                ),
            );
        }
    }
}

/// What the Dockerfile secret rules would see in `ENV NAME=value`, if anything: a credential
/// in a known format (`PC2005`), else a URL with a password or a literal under a secret name
/// (`PC2004`, which leaves any value with a credential in it to `PC2005`).
pub(crate) fn secret_kind(name: &str, value: &str) -> Option<&'static str> {
    // A value that is wholly `${NAME}`, left for an entrypoint to fill in, is a reference.
    if is_placeholder(value) {
        return None;
    }
    let literal = as_literal(value);
    if contains_credential(&literal) {
        return scan(&literal)
            .iter()
            .any(Hit::is_credential)
            .then_some("a credential in a known format");
    }
    let secret = url_with_password(&literal).is_some()
        || (is_secret_name(name) && is_literal_secret(&literal));
    secret.then_some("a secret")
}

/// `value` as the literal it is: nothing expands an image config value, so `$` and backquotes
/// (which the secret judgement reads as expansions) become `_`, and control characters
/// (newlines) become spaces, as when the value is written as one Dockerfile word.
fn as_literal(value: &str) -> String {
    value
        .chars()
        .map(|c| match c {
            '$' | '`' => '_',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::ImageConfig;
    use crate::rules::image::testing::messages;

    fn env(entries: &[&str]) -> ImageConfig {
        ImageConfig {
            env: entries.iter().map(|e| e.to_string()).collect(),
            ..ImageConfig::default()
        }
    }

    #[test]
    fn catches_secrets_by_name_and_by_format() {
        for entry in [
            "DB_PASSWORD=hunter2",
            "NPM_TOKEN=abc123def456",
            "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIK7MDENGbPxRfiCYzzzzzzzzzzzz",
            "DATABASE_URL=postgres://app:s3cret@db:5432/app",
            "GH=ghp_0123456789abcdefghijABCDEFGHIJ012345",
            "ADMIN_PASSWORD=pa$$word",
            "API_KEY=\"quoted\\value\"",
        ] {
            assert_eq!(
                messages(&RULE, env(&[entry])).len(),
                1,
                "should catch {entry}"
            );
        }
    }

    /// Bypass: a value that merely contained `dummy`, `example`, `fake` or `insecure`, or an
    /// AWS key id with `EXAMPLE` anywhere in it, was taken for a placeholder, so a real
    /// secret shipped in the image config unreported.
    #[test]
    fn catches_secrets_that_contain_a_placeholder_word() {
        for entry in [
            "API_PASSWORD=Dummy-Lake-2023",
            "DB_PASS=example-Xq83!z",
            "ADMIN_PASSWORD=fake0Tr33s#",
            "REDIS_PASSWORD=insecure-Pa55word",
            "AWS_ACCESS_KEY_ID=AKIAZ7Q3EXAMPLE2ABCD",
            "DATABASE_URL=postgres://app:Dummy-Lake-2023@db/app",
            "API_TOKEN=<hunter2>",
        ] {
            let found = messages(&RULE, env(&[entry]));
            assert_eq!(found.len(), 1, "should catch {entry}");
            let (_, value) = entry.split_once('=').unwrap_or_default();
            assert!(!found[0].contains(value), "{found:?}");
        }
    }

    #[test]
    fn messages_never_show_the_value() {
        let found = messages(
            &RULE,
            env(&["GITHUB_TOKEN=ghp_0123456789abcdefghijABCDEFGHIJ012345"]),
        );
        assert_eq!(
            found,
            vec![
                "environment variable `GITHUB_TOKEN` holds a credential in a known format \
                 (redacted, 40 characters): anyone who can pull the image can read it; set it \
                 at run time instead, and rotate it"
            ]
        );
        let found = messages(&RULE, env(&["DB_PASSWORD=hunter2"]));
        assert!(
            found[0].contains("holds a secret (redacted, 7 characters)"),
            "{found:?}"
        );
        assert!(!found[0].contains("hunter2"));
    }

    #[test]
    fn does_not_catch_ordinary_variables() {
        for entry in [
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin",
            "DB_PASSWORD_FILE=/run/secrets/db",
            "DB_PASSWORD=",
            "DB_PASSWORD",
            "GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D",
            "AWS_ACCESS_KEY_ID_FILE=/run/secrets/k",
            "TOKEN_URL=https://auth.example.com/token",
            "PASSWORD=changeme",
            // Whole-value placeholders stay placeholders (the bypass fix above keeps these).
            "TOKEN=<token>",
            "API_KEY=your-api-key-here",
            "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
            "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "PASSWORD=${PASSWORD}",
            "PASSWORD=$PASSWORD",
            "PASSWORD=example",
            "API_TOKEN={{ api_token }}",
            "LANG=C.UTF-8",
            "PYTHON_SHA256=bfb249609990220491a1b92850a07135ed0831e41738cf681d63cf01b2a8fbd1",
        ] {
            assert!(
                messages(&RULE, env(&[entry])).is_empty(),
                "should pass {entry}"
            );
        }
    }

    /// The judgement was once made by writing `ENV NAME=value` into a Dockerfile and running
    /// `PC2005` and `PC2004` over it; it is made directly now and must agree with them.
    #[test]
    fn agrees_with_the_dockerfile_rules_on_the_same_env() {
        use crate::rules::image::synthetic::{env_key, quoted_literal, run_rule};
        use crate::rules::RuleOptions;
        let through_dockerfile = |name: &str, value: &str| {
            if is_placeholder(value) {
                return None;
            }
            let source = format!(
                "FROM scratch\nENV {}={}\n",
                env_key(name),
                quoted_literal(value)
            );
            let on_env_line = |id: &str| {
                run_rule(id, &source, &RuleOptions::default())
                    .iter()
                    .any(|d| d.span.line == 2)
            };
            if on_env_line("PC2005") {
                Some("a credential in a known format")
            } else if on_env_line("PC2004") {
                Some("a secret")
            } else {
                None
            }
        };
        let ghp = "ghp_0123456789abcdefghijABCDEFGHIJ012345";
        let names = [
            "DB_PASSWORD",
            "NPM_TOKEN",
            "GH",
            "my pass:word",
            "",
            "PWD",
            "x.y-TOKEN",
        ];
        let values = [
            "hunter2".to_string(),
            "pa$$word".into(),
            "`cat /t`".into(),
            "$TOKEN".into(),
            "x$x".into(),
            "\"quoted\\value\"".into(),
            "a\nb".into(),
            "".into(),
            " ".into(),
            "/run/secrets/t".into(),
            "true".into(),
            "changeme".into(),
            "<token>".into(),
            "Dummy-Lake-2023".into(),
            ghp.into(),
            format!("x {ghp} y"),
            format!("glpat-abc$def{}", "g".repeat(20)),
            "AKIAIOSFODNN7EXAMPLE".into(),
            "AKIAZ7Q3EXAMPLE2ABCD".into(),
            "postgres://app:s3cret@db/app".into(),
            "postgres://app:$PW@db/app".into(),
            "https://user@example.com/x".into(),
            "-----BEGIN RSA PRIVATE KEY-----".into(),
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAq0123456789abcdef".into(),
            "A035C8C19219BA821ECEA86B64E628F8D684696D".into(),
        ];
        for name in names {
            for value in &values {
                assert_eq!(
                    secret_kind(name, value),
                    through_dockerfile(name, value),
                    "{name}={value:?}"
                );
            }
        }
    }
}
