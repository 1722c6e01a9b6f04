use super::util::{declared_values, locate, Hits};
use crate::dockerfile::Keyword;
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};
use crate::secrets::{
    contains_credential, is_literal_secret, is_secret_name, redact_value, url_with_password,
};

crate::declare_rule! {
    /// Secret written as an `ENV` value or an `ARG` default.
    ///
    /// Flags `ENV` and `ARG` (with a default) whose name says it holds a secret and whose
    /// value is a literal, and any `ENV`/`ARG` value that is a URL with a password in it
    /// (`postgres://app:s3cret@db/app`), whatever its name.
    ///
    /// - Secret names contain a word such as `PASSWORD`, `PASSWD`, `PASS`, `PWD`, `PASSPHRASE`,
    ///   `SECRET`, `TOKEN`, `CREDENTIALS`, or `KEY` qualified by `API`, `PRIVATE`, `SECRET`,
    ///   `ENCRYPTION`, `MASTER` or `ACCOUNT` (`AWS_SECRET_ACCESS_KEY`, `NPM_TOKEN`,
    ///   `dbPassword`). Names that end in a word saying the value is not the secret itself are
    ///   left alone: `_FILE`, `_PATH`, `_DIR`, `_ID`, `_URL`, `_USER`, `_NAME`, `_LENGTH`,
    ///   `_FINGERPRINT`, … (`PASSWORD_FILE`, `AWS_ACCESS_KEY_ID`). `GPG_KEY` (a public key
    ///   fingerprint in many official images) is not a secret name.
    /// - Values that are not secrets are left alone: empty values, variable references
    ///   (`${TOKEN}`), paths (`/run/secrets/token`), booleans and `0`/`1`, and placeholders.
    ///   A placeholder is judged on the whole value (after quotes and brackets): a mask
    ///   (`xxxxxxxx`, `***`, an all-zero UUID); a value made only of words that say it
    ///   stands for a secret (`changeme`, `example`, `dummy`, `password`, `REDACTED`, `none`,
    ///   `your-api-key-here`, `build-time-dummy`); a template field (`<token>`,
    ///   `<your-password>`, `{{ .Values.token }}`, `__TOKEN__`); or an example credential
    ///   published in vendor documentation, matched exactly (AWS's `AKIAIOSFODNN7EXAMPLE` and
    ///   `wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`). A password that merely contains such a
    ///   word (`Dummy-Lake-2023`, `fake0Tr33s#`, `django-insecure-…`) is a secret, and so is a
    ///   default password such as `admin`: it is what every container gets unless someone
    ///   remembers to override it.
    /// - `ARG` without a default is not reported (its value comes from `--build-arg`, which
    ///   has the same history problem but is not in the file).
    ///
    /// Values in a known credential format (GitHub tokens, AWS keys, …) are reported by
    /// `PC2005` instead. Messages show the name and the value's length, never the value.
    ///
    /// ## Why
    /// `ENV` values are part of the image config: `docker inspect` shows them to anyone who
    /// can pull the image, and every container inherits them. An `ARG` default is committed
    /// with the Dockerfile and recorded in the image history of every `RUN` that uses it.
    /// The severity is high because the secret is readable by everyone with the image or the
    /// repository, with no further step. Pass build-time secrets with
    /// `RUN --mount=type=secret`, and run-time secrets through the orchestrator (a secret
    /// file, or an environment variable set at `docker run`).
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM python:3.12-slim
    /// ARG PIP_INDEX_URL=https://build:s3cret@pypi.example.com/simple
    /// ENV DB_PASSWORD=hunter2
    /// RUN pip install -r requirements.txt
    /// ```
    /// Mount the index URL as a secret for the one `RUN` that needs it, and read the
    /// password from a file at run time:
    /// ```dockerfile
    /// FROM python:3.12-slim
    /// ENV DB_PASSWORD_FILE=/run/secrets/db_password
    /// RUN --mount=type=secret,id=pip_index_url,env=PIP_INDEX_URL \
    ///     pip install -r requirements.txt
    /// ```
    pub static RULE = Rule {
        id: "PC2004",
        name: "secret-in-env-or-arg",
        severity: Severity::High,
        check: Check::Dockerfile(check),
        policy_rule: true,
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    let mut hits = Hits::default();
    for declared in declared_values(facts) {
        let written = declared.written;
        if contains_credential(written) {
            continue;
        }
        let span = locate(facts, declared.instruction.span, declared.name);
        let keyword = declared.keyword.as_str();
        let name = declared.name;
        if let Some(url) = url_with_password(written) {
            hits.add(
                span,
                "url",
                format!(
                    "{keyword} `{name}` holds a URL with a password (`{url}`): {}",
                    consequence(declared.keyword)
                ),
            );
        } else if is_secret_name(name) && is_literal_secret(written) {
            let what = match declared.keyword {
                Keyword::Arg => "has a literal default",
                _ => "is set to a literal value",
            };
            hits.add(
                span,
                "name",
                format!(
                    "{keyword} `{name}` {what} ({}): {}",
                    redact_value(written),
                    consequence(declared.keyword)
                ),
            );
        }
    }
    hits.into_diagnostics(out);
}

fn consequence(keyword: Keyword) -> &'static str {
    match keyword {
        Keyword::Arg => {
            "it is committed with the Dockerfile and recorded in the image history of every RUN \
             that uses it; use a build secret (`RUN --mount=type=secret`)"
        }
        _ => {
            "ENV values are stored in the image config for anyone who can pull it; use a \
             build secret (`RUN --mount=type=secret`) or set it at run time"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::{lint, messages};

    #[test]
    fn catches_literal_secrets_by_name() {
        for src in [
            "FROM a\nENV DB_PASSWORD=hunter2\n",
            "FROM a\nENV MYSQL_PASSWORD gordonpassword\n",
            "FROM a\nENV sa_password g0rd0n1!\n",
            "FROM a\nENV MG_PASS admin\n",
            "FROM a\nENV AIO_TOKEN=123456\n",
            "FROM a\nARG NPM_TOKEN=abc123def\n",
            "FROM a\nENV AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzzzzzzzzz\n",
            "FROM a\nENV STRIPE_API_KEY=\"abc def\"\n",
            "FROM a\nENV dbPassword=hunter2\n",
            "FROM a\nENV PGPASSWORD=hunter2\n",
            "FROM a\nENV JWT_SECRET=s3cr3t-v4lue\n",
            "FROM a\nENV SSH_PRIVATE_KEY=abcdef\n",
            "FROM a\nENV A=1 CLIENT_SECRET='q1w2e3' B=2\n",
            "FROM a\nONBUILD ENV API_KEY=abc123\n",
            "ARG REGISTRY_PASSWORD=hunter2\nFROM a\n",
            "FROM a\nENV DATABASE_URL=postgres://app:hunter2@db:5432/app\n",
            "FROM a\nARG PIP_INDEX_URL=https://build:s3cret@pypi.example.com/simple\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
        }
    }

    /// Bypass: a value that merely contained `dummy`, `example`, `fake` or `insecure` was
    /// taken for a placeholder, so a real password hid behind a word. Placeholders are whole
    /// values now; these are secrets.
    #[test]
    fn catches_secrets_that_contain_a_placeholder_word() {
        for src in [
            "FROM a\nENV API_PASSWORD=Dummy-Lake-2023\n",
            "FROM a\nARG DB_PASS=example-Xq83!z\n",
            "FROM a\nENV SMTP_PASSWORD=myExamplePass!9\n",
            "FROM a\nENV ADMIN_PASSWORD=fake0Tr33s#\n",
            "FROM a\nENV REDIS_PASSWORD=insecure-Pa55word\n",
            "FROM a\nENV API_TOKEN=<hunter2>\n",
            "FROM a\nENV API_TOKEN=changeme-9f3Kq2\n",
            // Django's generated key is random; the prefix only warns it is committed.
            "FROM a\nENV SECRET_KEY=django-insecure-k2#v9x0q@7!mz\n",
            "FROM a\nENV SECRET_KEY=dummyKeyWithMinimumLength----\n",
            // Not AWS's documented secret key, though it ends like it.
            "FROM a\nENV AWS_SECRET_ACCESS_KEY=q8Lr2mKpW3nXcYbT1sJdHfGuAoEv0ZtEXAMPLEKEY\n",
            "FROM a\nENV DATABASE_URL=postgres://app:Dummy-Lake-2023@db/app\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
            let found = messages(&RULE, src);
            let shown = [
                "Lake", "Xq83", "Pass!9", "Tr33s", "Pa55", "hunter2", "9f3Kq2", "k2#v9",
            ];
            assert!(
                shown.iter().all(|s| found.iter().all(|m| !m.contains(s))),
                "{found:?}"
            );
        }
    }

    #[test]
    fn messages_show_the_name_never_the_value() {
        let found = messages(&RULE, "FROM a\nENV DB_PASSWORD=hunter2\n");
        assert_eq!(
            found,
            vec![
                "ENV `DB_PASSWORD` is set to a literal value (redacted, 7 characters): ENV \
                 values are stored in the image config for anyone who can pull it; use a build \
                 secret (`RUN --mount=type=secret`) or set it at run time"
            ]
        );
        let found = messages(&RULE, "FROM a\nARG NPM_TOKEN=abc123def\n");
        assert!(found[0].starts_with("ARG `NPM_TOKEN` has a literal default"));
        assert!(!found[0].contains("abc123def"));
        let found = messages(
            &RULE,
            "FROM a\nENV DATABASE_URL=postgres://app:hunter2@db/app\n",
        );
        assert!(
            found[0].contains("`postgres://…:<redacted>@…`"),
            "{found:?}"
        );
        assert!(!found[0].contains("hunter2") && !found[0].contains("app:"));
    }

    #[test]
    fn points_at_the_name() {
        let src = "FROM a\nENV A=1 \\\n    DB_PASSWORD=hunter2\n";
        let found = crate::rules::dockerfile::testing::run(&RULE, src, &Default::default());
        assert_eq!(found[0].span, crate::finding::Span::new(3, 5, 3, 16));
    }

    #[test]
    fn does_not_catch_references_paths_placeholders_or_public_values() {
        for src in [
            "FROM a\nARG TOKEN\n",
            "FROM a\nARG NPM_TOKEN\nRUN echo $NPM_TOKEN\n",
            "FROM a\nENV TOKEN=${TOKEN}\n",
            "FROM a\nARG TOKEN\nENV TOKEN=$TOKEN\n",
            "FROM a\nENV PASSWORD_FILE=/run/secrets/x\n",
            "FROM a\nENV POSTGRES_PASSWORD_FILE=/run/secrets/db\n",
            "FROM a\nENV GOOGLE_APPLICATION_CREDENTIALS=/run/key.json\n",
            "FROM a\nENV GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D\n",
            "FROM a\nENV PYTHON_GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D\n",
            "FROM a\nENV AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n",
            "FROM a\nENV PASSWORD=\n",
            "FROM a\nENV ALLOW_EMPTY_PASSWORD=\"no\"\n",
            "FROM a\nENV PASSWORD XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\n",
            "FROM a\nENV MTP_SECRET 00000000000000000000000000000000\n",
            "FROM a\nENV TOKEN=00000000-0000-0000-0000-000000000000\n",
            "FROM a\nENV PASSWORD password\n",
            "FROM a\nENV API_TOKEN=<your-token>\n",
            "FROM a\nENV API_TOKEN=changeme\n",
            // Placeholders are judged as whole values (the bypass fix above keeps these).
            "FROM a\nENV PASSWORD=changeme\n",
            "FROM a\nENV TOKEN=<token>\n",
            "FROM a\nENV API_KEY=your-api-key-here\n",
            "FROM a\nENV PASSWORD=${PASSWORD}\n",
            "FROM a\nENV PASSWORD=example\n",
            "FROM a\nENV API_TOKEN=\"{{ api_token }}\"\n",
            "FROM a\nENV SECRET_KEY=build-time-dummy\n",
            "FROM a\nENV DB_PASSWORD=REDACTED\n",
            "FROM a\nENV AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
            "FROM a\nENV PASSWORD_MIN_LENGTH=12\n",
            "FROM a\nENV TOKENIZERS_PARALLELISM=false\n",
            "FROM a\nENV PASSENGER_APP_ENV=production\n",
            "FROM a\nENV PWD=/app\n",
            "FROM a\nENV SECRET_KEY_FILE=/run/secrets/k\n",
            "FROM a\nARG SECRETFILE=\"secret1.txt\"\n",
            "FROM a\nENV AUTH_METHOD=ldap\n",
            "FROM a\nENV DATABASE_URL=postgres://app:${DB_PASSWORD}@db/app\n",
            "FROM a\nENV UPSTREAM=https://user@example.com/x\n",
            "FROM a\nLABEL password=hunter2\n",
            // A known format is PC2005's.
            "FROM a\nENV GITHUB_TOKEN=ghp_0123456789abcdefghijABCDEFGHIJ012345\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }

    #[test]
    fn secret_names() {
        for name in [
            "PASSWORD",
            "db_password",
            "dbPassword",
            "NPM_TOKEN",
            "GH_AUTHTOKEN",
            "AWS_SECRET_ACCESS_KEY",
            "API_KEY",
            "OPENAI_APIKEY",
            "SSH_PRIVATE_KEY",
            "DB_PWD",
            "CREDENTIALS",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in [
            "GPG_KEY",
            "KEY",
            "PASSWORD_FILE",
            "AWS_ACCESS_KEY_ID",
            "TOKEN_URL",
            "TOKENIZERS_PARALLELISM",
            "PASSENGER_ENV",
            "BYPASS_CACHE",
            "PWD",
            "SECRET_NAME",
            "KEYRING",
        ] {
            assert!(!is_secret_name(name), "{name}");
        }
    }
}
