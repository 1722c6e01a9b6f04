use crate::finding::{Severity, Span};
use crate::rules::{Check, Diagnostics, DockerfileContext};
use crate::secrets::{redact, scan};

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
    let source = ctx.facts.file.source.as_str();
    for hit in scan(source).iter().filter(|hit| hit.is_credential()) {
        let line_start = source
            .get(..hit.start)
            .and_then(|before| before.rfind('\n'))
            .map_or(0, |i| i + 1);
        let columns = |to: usize| source.get(line_start..to).unwrap_or("").chars().count() + 1;
        out.push(
            Span::new(hit.line, columns(hit.start), hit.line, columns(hit.end)),
            format!(
                "{} written in the Dockerfile ({}): anyone who can read the file or the \
                 image history can use it; revoke it and pass a new one as a build secret",
                hit.kind,
                redact(source, hit)
            ),
        );
    }
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
