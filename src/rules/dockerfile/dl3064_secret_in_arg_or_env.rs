use super::util::locate;
use super::util::onbuild_trigger;
use crate::dockerfile::{Args, DockerfileFacts, Instruction};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};
use crate::secrets::{
    contains_credential, is_literal_secret, is_path, is_secret_name, is_switch, url_with_password,
};

crate::declare_rule! {
    /// Secret passed to the build through `ARG`, or copied into `ENV` from a variable.
    ///
    /// Flags variables whose name says they hold a secret (judged as `PC2004` judges names:
    /// `NPM_TOKEN`, `DB_PASSWORD`, `dbPassword`, `AWS_SECRET_ACCESS_KEY`, but not
    /// `PASSWORD_FILE`, `AWS_ACCESS_KEY_ID`, `DOCKER_USERNAME` or `TOKENIZERS_PARALLELISM`)
    /// when the Dockerfile moves a secret value through them:
    ///
    /// - `ARG NPM_TOKEN`, with no default or with an empty, placeholder or variable default:
    ///   the value is meant to come from `--build-arg`. Global `ARG`s and `ONBUILD ARG`s too.
    ///   Placeholders are judged as in `PC2004`, on the whole value (`changeme`, `<token>`;
    ///   `Dummy-Lake-2023` is a secret written in the file, `PC2004`'s).
    /// - `ENV NODE_AUTH_TOKEN=${NPM_TOKEN}`: an `ENV` whose value comes from a variable, so
    ///   the build-time value is written into the image config.
    ///
    /// Not flagged: an `ENV` that declares the variable for the runtime to fill in
    /// (`ENV API_TOKEN=`, `ENV API_TOKEN=changeme`), values that are paths
    /// (`/run/secrets/token`) or switches (`true`, `0`), since none of them stores a secret.
    /// A secret written in the file itself (`ENV DB_PASSWORD=hunter2`) is `PC2004`'s (or
    /// `PC2005`'s, for a known credential format), at a higher severity, and is not reported
    /// again here; `# hadolint ignore=DL3064` does not silence those.
    ///
    /// ## Why
    /// A build argument's value is recorded in the image history of every `RUN` after the
    /// `ARG` (`docker history` shows `|1 NPM_TOKEN=… npm ci`) and in max-mode provenance
    /// attestations, which `docker/build-push-action` attaches by default for public
    /// repositories. An `ENV` value is stored in the image config. Either way, anyone who
    /// can pull the image can read the secret. Mount build-time secrets for the one `RUN`
    /// that needs them, and pass runtime secrets when the container starts.
    ///
    /// ## Example
    /// ```dockerfile
    /// ARG NPM_TOKEN
    /// RUN echo "//registry.npmjs.org/:_authToken=${NPM_TOKEN}" > .npmrc && npm ci
    /// ```
    /// Mount the secret for the one `RUN` that needs it (`docker build --secret id=npmrc,…`):
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
    let facts = ctx.facts;
    for inst in &facts.file.instructions {
        let (inner, _) = onbuild_trigger(inst);
        match &inner.args {
            Args::Arg(decls) => {
                for decl in decls {
                    if passes_secret(&decl.name, decl.default.as_deref()) {
                        report_arg(facts, inst, &decl.name, out);
                    }
                }
            }
            Args::Env(pairs) => {
                for pair in pairs {
                    if copies_secret(&pair.key, &pair.value) {
                        report_env(facts, inst, &pair.key, out);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Whether `ARG name[=default]` is a secret meant to arrive through `--build-arg`.
fn passes_secret(name: &str, default: Option<&str>) -> bool {
    if !is_secret_name(name) {
        return false;
    }
    match default {
        None => true,
        Some(value) => !reported_elsewhere(value) && !holds_no_secret(value),
    }
}

/// Whether `ENV name=value` writes a build-time value of a secret into the image config.
fn copies_secret(name: &str, value: &str) -> bool {
    is_secret_name(name)
        && value.contains('$')
        && !reported_elsewhere(value)
        && !holds_no_secret(value)
}

/// Values `PC2004` (a literal secret, a URL with a password) or `PC2005` (a known credential
/// format) report, so that one line gets one finding.
fn reported_elsewhere(value: &str) -> bool {
    is_literal_secret(value) || url_with_password(value).is_some() || contains_credential(value)
}

/// A path or a switch: the variable says where a secret is or whether to use one.
fn holds_no_secret(value: &str) -> bool {
    is_path(value) || is_switch(value)
}

fn report_arg(facts: &DockerfileFacts, inst: &Instruction, name: &str, out: &mut Diagnostics) {
    out.push(
        locate(facts, inst.span, name),
        format!(
            "`ARG {name}` passes a secret as a build argument: its value is recorded in the \
             image history of every RUN after it and in build provenance; use \
             `RUN --mount=type=secret` instead"
        ),
    );
}

fn report_env(facts: &DockerfileFacts, inst: &Instruction, name: &str, out: &mut Diagnostics) {
    out.push(
        locate(facts, inst.span, name),
        format!(
            "`ENV {name}` copies a build-time value of a secret into the image config, where \
             anyone who pulls the image can read it; use `RUN --mount=type=secret` for the \
             build, and set it when the container starts"
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Span;
    use crate::rules::dockerfile::testing::{lint, messages, run};

    #[test]
    fn catches_secrets_passed_as_build_arguments() {
        for src in [
            "ARG AWS_SECRET_ACCESS_KEY\nFROM debian:bullseye\nRUN foobar\n",
            "ARG openai_api_key\nFROM debian:bullseye\n",
            "FROM debian\nARG NPM_TOKEN\nRUN npm ci\n",
            "FROM debian\nARG GITHUB_TOKEN=\"\"\n",
            "FROM debian\nARG NPM_TOKEN=changeme\n",
            "FROM debian\nARG NPM_TOKEN=your-token-here\n",
            "FROM debian\nARG DB_PASS=<password>\n",
            "FROM debian\nARG API_TOKEN=${CI_TOKEN}\n",
            "FROM debian\nARG dbPassword\n",
            "FROM debian\nONBUILD ARG NPM_TOKEN\n",
            "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nARG NUGET_API_KEY\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
        }
        assert_eq!(
            messages(&RULE, "FROM debian\nARG NPM_TOKEN\n"),
            vec![
                "`ARG NPM_TOKEN` passes a secret as a build argument: its value is recorded in \
                 the image history of every RUN after it and in build provenance; use \
                 `RUN --mount=type=secret` instead"
            ]
        );
    }

    #[test]
    fn catches_build_time_secrets_copied_into_env() {
        for src in [
            "FROM debian\nENV my_password=${PASSWORD_FROM_ARG}\n",
            "FROM node:22\nARG CI_TOKEN\nENV NODE_AUTH_TOKEN=$CI_TOKEN\n",
            "FROM debian\nENV DB_PASSWORD=${DB_PASSWORD:-}\n",
            "FROM debian\nONBUILD ENV API_KEY=$API_KEY\n",
        ] {
            assert!(!lint(&RULE, src).is_empty(), "should catch:\n{src}");
        }
        // The build argument and its copy into the config are two leaks.
        assert_eq!(
            lint(&RULE, "FROM debian\nARG DB_PASS\nENV DB_PASS=$DB_PASS\n"),
            vec![2, 3]
        );
    }

    #[test]
    fn points_at_each_name() {
        let src = "FROM debian\nARG A=1 DB_PASSWORD \\\n    API_TOKEN\n";
        let spans: Vec<Span> = run(&RULE, src, &Default::default())
            .into_iter()
            .map(|d| d.span)
            .collect();
        assert_eq!(spans, vec![Span::new(2, 9, 2, 20), Span::new(3, 5, 3, 14)]);
    }

    /// hadolint flags all of these: names that only contain `password`, `private`, `token`
    /// or `username`, ENVs that declare a variable for the runtime, and paths.
    #[test]
    fn does_not_catch_declarations_paths_or_lookalike_names() {
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
            "FROM debian\nENV API_TOKEN=\n",
            "FROM debian\nENV API_TOKEN=changeme\n",
            "FROM debian\nENV GOOGLE_APPLICATION_CREDENTIALS=/run/key.json\n",
            "FROM debian\nARG SSH_PRIVATE_KEY=/root/.ssh/id_ed25519\n",
            "FROM bitnami/redis\nENV ALLOW_EMPTY_PASSWORD=yes\n",
            "FROM debian\nENV REDIS_PASSWORD=\"\"\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }

    /// A secret written in the file is PC2004's or PC2005's, at high severity; one finding
    /// per line.
    #[test]
    fn does_not_catch_what_pc2004_or_pc2005_report() {
        for src in [
            "FROM debian\nENV DB_PASSWORD=hunter2\n",
            "FROM debian\nARG API_TOKEN=s3cr3t-v4lue\n",
            "FROM debian\nARG PIP_TOKEN=https://build:s3cret@pypi.example.com/simple\n",
            "FROM debian\nARG GITHUB_TOKEN=ghp_0123456789abcdefghijABCDEFGHIJ012345\n",
            // Bypass: a default that merely contained a placeholder word was taken for a
            // placeholder, so this secret got DL3064's medium finding instead of PC2004's.
            "FROM debian\nARG DB_PASS=example-Xq83!z\n",
            "FROM debian\nARG API_PASSWORD=Dummy-Lake-2023\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }

    /// Whatever the value, a secret-named variable gets at most one finding among DL3064,
    /// PC2004 and PC2005.
    #[test]
    fn one_rule_per_secret() {
        let others = [
            &super::super::pc2004_secret_in_env_or_arg::RULE,
            &super::super::pc2005_hardcoded_credential::RULE,
        ];
        for value in [
            "",
            "=",
            "=\"\"",
            "=hunter2",
            "=changeme",
            "=Dummy-Lake-2023",
            "=<token>",
            "=$X",
            "=${X:-hunter2}",
            "=/run/s/x",
            "=true",
            "=https://u:s3cret@example.com/x",
            "=https://u:${P}@h/x",
            "=ghp_0123456789abcdefghijABCDEFGHIJ012345",
        ] {
            for keyword in ["ARG", "ENV"] {
                if keyword == "ENV" && value.is_empty() {
                    continue;
                }
                let src = format!("FROM debian\n{keyword} DB_PASSWORD{value}\n");
                let ours = lint(&RULE, &src);
                let theirs: Vec<usize> = others.iter().flat_map(|r| lint(r, &src)).collect();
                assert!(
                    ours.iter().all(|line| !theirs.contains(line)),
                    "reported twice:\n{src}"
                );
                assert!(ours.len() + theirs.len() <= 1, "reported twice:\n{src}");
            }
        }
    }
}
