use super::pc2004_secret_in_env_or_arg::{is_literal_secret, is_secret_name};
use super::pc2005_hardcoded_credential::contains_credential;
use super::util::onbuild_trigger;
use crate::dockerfile::Args;
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// `ARG` or `ENV` named like a secret.
    ///
    /// Flags `ARG` and `ENV` variables (also in `ONBUILD`, and `ARG`s before the first
    /// `FROM`) whose name says they hold a secret, whatever their value: `ARG NPM_TOKEN`
    /// without a default, `ENV DB_PASSWORD=${DB_PASSWORD}`. Names are judged as `PC2004`
    /// judges them: split into words (`DB_PASSWORD`, `dbPassword`), a word such as
    /// `PASSWORD`, `SECRET`, `TOKEN`, `CREDENTIALS` or a qualified `KEY` (`API_KEY`), and not
    /// a name that only points at a secret (`PASSWORD_FILE`, `AWS_ACCESS_KEY_ID`,
    /// `TOKEN_URL`). Words are matched whole: `GOPRIVATE`, `TOKENIZERS_PARALLELISM` and
    /// `DOCKER_USERNAME` pass. A literal secret value is reported by `PC2004` (or `PC2005` for
    /// a known credential format) instead, at a higher severity, and not again here.
    ///
    /// ## Why
    /// `ENV` values are stored in the image's configuration, and build arguments used by a
    /// RUN are stored in its history: anyone who can pull the image can read them with
    /// `docker history` or `docker inspect`, even when the value came from `--build-arg`.
    /// Pass build-time secrets with `RUN --mount=type=secret`, and runtime secrets when the
    /// container starts.
    ///
    /// ## Example
    /// ```dockerfile
    /// ARG NPM_TOKEN
    /// RUN echo "//registry.npmjs.org/:_authToken=${NPM_TOKEN}" > .npmrc && npm ci
    /// ```
    /// Mount the secret for the one RUN that needs it:
    /// ```dockerfile
    /// RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci
    /// ```
    pub static RULE = Rule {
        id: "DL3064",
        name: "secret-in-arg-or-env",
        severity: Severity::Medium,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    for inst in &ctx.facts.file.instructions {
        let (inner, _) = onbuild_trigger(inst);
        let declared: Vec<(&str, Option<&str>)> = match &inner.args {
            Args::Arg(decls) => decls
                .iter()
                .map(|d| (d.name.as_str(), d.default.as_deref()))
                .collect(),
            Args::Env(pairs) => pairs
                .iter()
                .map(|kv| (kv.key.as_str(), Some(kv.value.as_str())))
                .collect(),
            _ => continue,
        };
        let keyword = inner.keyword.as_str();
        for (name, value) in declared {
            let reported_elsewhere =
                value.is_some_and(|v| is_literal_secret(v) || contains_credential(v));
            if !is_secret_name(name) || reported_elsewhere {
                continue;
            }
            let kept = if keyword == "ARG" {
                "a build argument used by a RUN is kept in the image history"
            } else {
                "ENV values are kept in the image config"
            };
            out.push(
                inst.span,
                format!(
                    "`{keyword} {name}` looks like a secret, and {kept} for anyone who pulls \
                     the image; use `RUN --mount=type=secret` instead"
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::{lint, messages};

    #[test]
    fn catches_secret_names_whatever_the_value() {
        for src in [
            "ARG AWS_SECRET_ACCESS_KEY\nFROM debian:bullseye\nRUN foobar\n",
            "ARG openai_api_key\nFROM debian:bullseye\n",
            "FROM debian\nARG NPM_TOKEN\n",
            "FROM debian\nARG GITHUB_TOKEN=\"\"\n",
            "FROM debian\nARG DB_PASS\nENV DB_PASS=$DB_PASS\n",
            "FROM debian\nENV my_password=${PASSWORD_FROM_ARG}\n",
            "FROM debian\nARG dbPassword\n",
            "FROM debian\nONBUILD ARG NPM_TOKEN\n",
        ] {
            assert!(!lint(&RULE, src).is_empty(), "should catch:\n{src}");
        }
        assert_eq!(
            messages(&RULE, "FROM debian\nARG NPM_TOKEN\n"),
            vec![
                "`ARG NPM_TOKEN` looks like a secret, and a build argument used by a RUN is kept \
                 in the image history for anyone who pulls the image; use \
                 `RUN --mount=type=secret` instead"
            ]
        );
        assert_eq!(
            lint(&RULE, "FROM debian\nARG A=1 DB_PASSWORD API_TOKEN\n"),
            vec![2, 2]
        );
        assert_eq!(
            lint(&RULE, "FROM debian\nARG DB_PASS\nENV DB_PASS=$DB_PASS\n"),
            vec![2, 3]
        );
    }

    #[test]
    fn does_not_catch_references_lookalikes_or_literals() {
        for src in [
            "FROM debian:bullseye\nRUN foobar\n",
            "ARG foobar\nFROM debian:bullseye\n",
            "FROM debian\nENV foobar=barfoo\n",
            "FROM debian\nENV POSTGRES_PASSWORD_FILE=/run/secrets/db\n",
            "FROM debian\nENV AWS_WEB_IDENTITY_TOKEN_FILE=/var/run/token\n",
            "FROM debian\nARG AWS_ACCESS_KEY_ID\n",
            "FROM debian\nENV GOPRIVATE=github.com/acme\n",
            "FROM debian\nENV TOKENIZERS_PARALLELISM=false\n",
            "FROM debian\nARG DOCKER_USERNAME\nENV TRAVIS_OS_NAME=linux\n",
            "FROM debian\nENV GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D\n",
            "FROM debian\nENV POSTGRES_HOST_AUTH_METHOD=trust\n",
            // Literal secrets are PC2004's.
            "FROM debian\nENV DB_PASSWORD=hunter2\n",
            "FROM debian\nARG API_TOKEN=s3cr3t-v4lue\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
