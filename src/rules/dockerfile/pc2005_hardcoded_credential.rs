use super::secret_value::is_published_example;
use crate::finding::{Severity, Span};
use crate::rules::{Check, Diagnostics, DockerfileContext};
use regex::Regex;
use std::sync::OnceLock;

crate::declare_rule! {
    /// Credential in a known format written in the Dockerfile.
    ///
    /// Looks at every line of the file (instructions, heredoc bodies and comments) for
    /// credentials whose format is unmistakable, whatever variable or command they are in:
    ///
    /// - private keys: `-----BEGIN … PRIVATE KEY-----` followed by key material (RSA, EC, DSA,
    ///   OpenSSH, PKCS#8, encrypted, PGP);
    /// - AWS access key ids (`AKIA…`, `ASIA…`; the example keys AWS documents, such as
    ///   `AKIAIOSFODNN7EXAMPLE`, are skipped when matched exactly: another key with `EXAMPLE`
    ///   in it is reported);
    /// - GitHub tokens (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`), GitLab tokens
    ///   (`glpat-`, `glrt-`), Slack tokens (`xoxb-`, `xoxa-`, `xoxp-`, `xoxr-`, `xoxs-`) and
    ///   webhooks, Stripe live keys (`sk_live_`, `rk_live_`), Google API keys (`AIza…`), npm
    ///   (`npm_`), PyPI (`pypi-…`), Docker Hub (`dckr_pat_`), Hugging Face (`hf_`), SendGrid,
    ///   OpenAI and Anthropic keys.
    ///
    /// Messages never show the credential: only its kind, its public prefix and its length.
    /// Secrets without a recognisable format (a password in `ENV DB_PASSWORD=…`) are
    /// `PC2004`'s and `PC2006`'s business.
    ///
    /// ## Why
    /// A credential in a Dockerfile is in the repository's history for good, in every build
    /// log that prints the file, and usually in the image too (`ENV`, `ARG`, `RUN` command
    /// lines and `COPY`'d heredocs are all kept in the image or its history). Anyone who can
    /// read any of these can use it. The severity is critical because these formats are
    /// precise: a match is almost always a live credential. Revoke it first, then pass the new
    /// one as a build secret (`RUN --mount=type=secret`) or at run time.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM node:22-slim
    /// RUN echo "//registry.npmjs.org/:_authToken=npm_0123456789abcdefghijklmnopqrstuvwxyz" > ~/.npmrc \
    ///  && npm ci
    /// ```
    /// Mount the token as a build secret (`docker build --secret id=npmrc,src=$HOME/.npmrc`):
    /// ```dockerfile
    /// FROM node:22-slim
    /// RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci
    /// ```
    pub static RULE = Rule {
        id: "PC2005",
        name: "hardcoded-credential",
        severity: Severity::Critical,
        check: Check::Dockerfile(check),
        policy_rule: true,
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    let lines: Vec<&str> = facts.file.source.lines().collect();
    for (i, text) in lines.iter().enumerate() {
        let line = i + 1;
        let text = text.trim_end_matches('\r');
        for found in credentials(text) {
            if found.format.private_key && !key_material_follows(text, found.end, lines.get(i + 1))
            {
                continue;
            }
            let column = text[..found.start].chars().count() + 1;
            let end = text[..found.end].chars().count() + 1;
            out.push(
                Span::new(line, column, line, end),
                format!(
                    "{} written in the Dockerfile ({}): anyone who can read the file or the \
                     image history can use it; revoke it and pass a new one as a build secret",
                    found.format.kind,
                    hint(&found, text)
                ),
            );
        }
    }
}

/// A credential format: what it is, how to find it, how much of it is public.
pub(super) struct Format {
    pub kind: &'static str,
    pattern: &'static str,
    /// Literal text, one of which every match of `pattern` contains. Text without any is
    /// skipped before the pattern is compiled, so a process whose files hold no candidate
    /// compiles none (each costs some 0.1 ms, which matters to a hook run once per file).
    needles: &'static [&'static str],
    /// How many leading characters are a public prefix that may be shown (`ghp_`).
    shown_prefix: usize,
    private_key: bool,
    regex: OnceLock<Regex>,
}

impl Format {
    const fn new(
        kind: &'static str,
        pattern: &'static str,
        needles: &'static [&'static str],
        shown_prefix: usize,
    ) -> Format {
        Format {
            kind,
            pattern,
            needles,
            shown_prefix,
            private_key: false,
            regex: OnceLock::new(),
        }
    }

    /// The matches in `text`, except the example credentials vendors publish, matched
    /// exactly (`AKIAIOSFODNN7EXAMPLE`, not any key with `EXAMPLE` in it).
    fn find_iter<'t>(&self, text: &'t str) -> impl Iterator<Item = regex::Match<'t>> + use<'_, 't> {
        let candidate = self.needles.iter().any(|n| text.contains(n));
        candidate
            .then(|| self.regex().find_iter(text))
            .into_iter()
            .flatten()
            .filter(|m| !is_published_example(m.as_str()))
    }

    fn regex(&self) -> &Regex {
        self.regex.get_or_init(|| {
            // The patterns are constants, exercised by the tests below.
            crate::rules::constant_regex(self.pattern)
        })
    }
}

/// A credential found in a line: byte range and format.
pub(super) struct Found {
    pub start: usize,
    pub end: usize,
    pub format: &'static Format,
}

static FORMATS: [Format; 16] = [
    Format {
        kind: "a private key",
        pattern: r"-----BEGIN ((RSA|DSA|EC|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY( BLOCK)?-----",
        needles: &["-----BEGIN "],
        shown_prefix: 0,
        private_key: true,
        regex: OnceLock::new(),
    },
    Format::new(
        "an AWS access key id",
        r"\b(AKIA|ASIA)[0-9A-Z]{16}\b",
        &["AKIA", "ASIA"],
        4,
    ),
    Format::new(
        "a GitHub token",
        r"\b(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b",
        &["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
        4,
    ),
    Format::new(
        "a GitHub fine-grained token",
        r"\bgithub_pat_[A-Za-z0-9_]{50,}",
        &["github_pat_"],
        11,
    ),
    Format::new(
        "a GitLab token",
        r"\bgl(pat|rt)-[A-Za-z0-9_-]{20,}",
        &["glpat-", "glrt-"],
        6,
    ),
    Format::new(
        "a Slack token",
        r"\bxox[baprs]-[0-9A-Za-z-]{10,}",
        &["xox"],
        5,
    ),
    Format::new(
        "a Slack webhook URL",
        r"https://hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]{20,}",
        &["hooks.slack.com"],
        32,
    ),
    Format::new(
        "a Stripe live key",
        r"\b[sr]k_live_[0-9A-Za-z]{20,}",
        &["k_live_"],
        8,
    ),
    Format::new(
        "a Google API key",
        r"\bAIza[0-9A-Za-z_-]{35}\b",
        &["AIza"],
        4,
    ),
    Format::new("an npm token", r"\bnpm_[A-Za-z0-9]{36}\b", &["npm_"], 4),
    Format::new(
        "a PyPI token",
        r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}",
        &["pypi-"],
        5,
    ),
    Format::new(
        "a Docker Hub access token",
        r"\bdckr_pat_[A-Za-z0-9_-]{27,}",
        &["dckr_pat_"],
        9,
    ),
    Format::new(
        "a Hugging Face token",
        r"\bhf_[A-Za-z0-9]{34,}\b",
        &["hf_"],
        3,
    ),
    Format::new(
        "a SendGrid API key",
        r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b",
        &["SG."],
        3,
    ),
    Format::new(
        "an OpenAI API key",
        r"\bsk-(proj|svcacct|admin)-[A-Za-z0-9_-]{40,}",
        &["sk-"],
        3,
    ),
    Format::new(
        "an Anthropic API key",
        r"\bsk-ant-(api|admin)[0-9]{2}-[A-Za-z0-9_-]{80,}",
        &["sk-"],
        7,
    ),
];

/// Every credential in `text`, by format, in order.
pub(super) fn credentials(text: &str) -> Vec<Found> {
    let mut found: Vec<Found> = FORMATS
        .iter()
        .flat_map(|format| {
            format.find_iter(text).map(move |m| Found {
                start: m.start(),
                end: m.end(),
                format,
            })
        })
        .collect();
    found.sort_by_key(|f| f.start);
    found
}

/// Whether `text` contains a credential in a known format.
pub(super) fn contains_credential(text: &str) -> bool {
    FORMATS.iter().any(|f| f.find_iter(text).next().is_some())
}

/// A private key header is a key only when key material follows: on the same line (an `echo`
/// with `\n`) or on the next one (a heredoc). A `grep` for the header is not a key.
fn key_material_follows(text: &str, end: usize, next: Option<&&str>) -> bool {
    let is_material = |s: &str| {
        let run = s
            .trim_start_matches(['\\', 'n', ' ', '\t', '"', '\''])
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
            .count();
        run >= 20
    };
    is_material(text.get(end..).unwrap_or("")) || next.is_some_and(|n| is_material(n.trim()))
}

/// What may be shown of a credential: its public prefix (or the key header) and its length.
fn hint(found: &Found, text: &str) -> String {
    let value = text.get(found.start..found.end).unwrap_or("");
    if found.format.private_key {
        return format!("`{value}`");
    }
    let prefix: String = value.chars().take(found.format.shown_prefix).collect();
    format!("`{prefix}…`, {} characters", value.chars().count())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::{lint, messages};

    const GHP: &str = "ghp_0123456789abcdefghijABCDEFGHIJ012345";

    #[test]
    fn catches_known_formats_anywhere() {
        for src in [
            format!("FROM a\nENV GITHUB_TOKEN={GHP}\n"),
            format!("FROM a\nARG X={GHP}\n"),
            format!("FROM a\nRUN git clone https://{GHP}@github.com/acme/app\n"),
            format!("FROM a\n# token: {GHP}\n"),
            "FROM a\nENV AWS_ACCESS_KEY_ID=AKIAZ7Q3EXAMPLF2ABCD\n".into(),
            "FROM a\nLABEL k=ASIAZ7Q3ABCDEFGH2345\n".into(),
            "FROM a\nENV SLACK=xoxb-123456789012-abcdefghijkl\n".into(),
            "FROM a\nENV K=github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\n".into(),
            "FROM a\nRUN echo glpat-abcdefghij0123456789 > /t\n".into(),
            "FROM a\nENV STRIPE=sk_live_abcdefghij0123456789ABCD\n".into(),
            "FROM a\nENV G=AIzaSyA0123456789abcdefghijklmnopqrstuv\n".into(),
            "FROM a\nRUN echo //registry.npmjs.org/:_authToken=npm_0123456789abcdefghijklmnopqrstuvwxyz > ~/.npmrc\n".into(),
            "FROM a\nENV HF_TOKEN=hf_abcdefghijklmnopqrstuvwxyz01234567\n".into(),
            "FROM a\nRUN echo '-----BEGIN OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ' > /k\n".into(),
        ] {
            assert_eq!(lint(&RULE, &src), vec![2], "should catch:\n{src}");
        }
    }

    /// Bypass: any AWS key id containing `EXAMPLE` was skipped as AWS's documented example,
    /// so a real key with those letters in it passed. Only the documented keys are exempt.
    #[test]
    fn catches_keys_that_only_look_like_the_documented_example() {
        for src in [
            "FROM a\nENV AWS_ACCESS_KEY_ID=AKIAZ7Q3EXAMPLE2ABCD\n",
            "FROM a\nENV AWS_ACCESS_KEY_ID=AKIAIOSFODNN8EXAMPLE\n",
            "FROM a\nRUN aws configure set aws_access_key_id ASIAEXAMPLEQ3Z7RW2XY\n",
        ] {
            assert_eq!(lint(&RULE, src), vec![2], "should catch:\n{src}");
        }
    }

    #[test]
    fn catches_private_key_in_heredoc() {
        let src = "FROM a\nCOPY <<EOF /root/.ssh/id_rsa\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAq0123456789abcdefghijklmnopqrstuvwxyz\n-----END RSA PRIVATE KEY-----\nEOF\n";
        assert_eq!(lint(&RULE, src), vec![3]);
    }

    #[test]
    fn messages_never_show_the_secret() {
        let found = messages(&RULE, &format!("FROM a\nENV GITHUB_TOKEN={GHP}\n"));
        assert_eq!(
            found,
            vec![
                "a GitHub token written in the Dockerfile (`ghp_…`, 40 characters): anyone who \
                 can read the file or the image history can use it; revoke it and pass a new \
                 one as a build secret"
            ]
        );
        assert!(!found[0].contains(&GHP[4..]));
        let src = "FROM a\nCOPY <<EOF /k\n-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIIabcdefghijklmnopqrstuvwxyz0123456789\nEOF\n";
        let found = messages(&RULE, src);
        assert!(found[0].contains("`-----BEGIN EC PRIVATE KEY-----`"));
        assert!(!found[0].contains("MHcCAQEE"));
    }

    #[test]
    fn does_not_catch_lookalikes() {
        for src in [
            "FROM a\nENV AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n",
            "FROM a\nENV AWS_ACCESS_KEY_ID=AKIAI44QH8DHBEXAMPLE\n",
            "FROM a\nENV AWS_ACCESS_KEY_ID=ASIAIOSFODNN7EXAMPLE\n",
            "FROM a\nENV GITHUB_TOKEN=${GITHUB_TOKEN}\n",
            "FROM a\nENV GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D\n",
            "FROM a\nRUN grep -q -- '-----BEGIN RSA PRIVATE KEY-----' /etc/key.pem\n",
            "FROM a\nRUN echo '-----BEGIN PUBLIC KEY-----\\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE' > /k\n",
            "FROM a\nRUN ghp_check --all\n",
            "FROM a\nRUN pip install hf_transfer huggingface_hub\n",
            "FROM a\nENV NODE_VERSION=22.11.0\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
