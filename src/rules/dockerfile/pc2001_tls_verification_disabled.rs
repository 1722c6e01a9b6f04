use crate::dockerfile::shell::{run_scripts, SimpleCommand};
use crate::finding::{Severity, Span};
use crate::rules::dockerfile::util::{
    assignments, command_span, config_matches, config_pattern, declared_values, has_short_flag,
    is_false, locate, takes_next_word, ConfigPattern, Hits,
};
use crate::rules::{Check, Diagnostics, DockerfileContext};
use std::sync::LazyLock;

crate::declare_rule! {
    /// TLS certificate verification turned off.
    ///
    /// Flags the switches that make a download tool accept any certificate, in `RUN` commands,
    /// in `ENV`/`ARG` values, and in configuration a `RUN` or a `COPY <<EOF` heredoc writes:
    ///
    /// - `curl -k` / `--insecure` / `--proxy-insecure`, `insecure` written to `.curlrc`;
    ///   `wget --no-check-certificate`, `check_certificate = off`;
    /// - pip's `--trusted-host` (and `PIP_TRUSTED_HOST`, `trusted-host =` in `pip.conf`), uv's
    ///   `--allow-insecure-host` / `UV_INSECURE_HOST`;
    /// - `npm`/`yarn`/`pnpm` `strict-ssl false` (`config set`, `--strict-ssl=false`,
    ///   `--no-strict-ssl`, `.npmrc`, `NPM_CONFIG_STRICT_SSL=false`);
    /// - `git config http.sslVerify false`, `sslVerify = false` anywhere (git config, yum/dnf
    ///   `sslverify=0` in repository files or `--setopt`), `GIT_SSL_NO_VERIFY` set to anything;
    /// - apt's `Acquire::https::Verify-Peer`/`Verify-Host` set to false;
    /// - `NODE_TLS_REJECT_UNAUTHORIZED=0`, `PYTHONHTTPSVERIFY=0` and `GOINSECURE`, whether set
    ///   by `ENV`, by an `ARG` default (ARGs are in the environment of every later `RUN`), or
    ///   inline in a `RUN` (`VAR=0 cmd`, `export VAR=0`, `env VAR=0 cmd`).
    ///
    /// Shell-form `RUN` commands are read only when the stage's `SHELL` is a POSIX shell.
    ///
    /// ## Why
    /// Whoever sits between the build and the server (a proxy, a hostile network, a poisoned
    /// DNS answer) can then serve anything, and the build installs it: remote code execution in
    /// your build, and a backdoor shipped in your image. The setting often stays in the image
    /// (`ENV`, config files), so the running containers are exposed too. The severity is high
    /// because the attack needs no access to your infrastructure, only to the network path.
    /// If a server uses a private CA, trust that CA (`--cacert`, `update-ca-certificates`,
    /// `NODE_EXTRA_CA_CERTS`, `PIP_CERT`) instead of trusting everyone.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM node:22-slim
    /// ENV NODE_TLS_REJECT_UNAUTHORIZED=0
    /// RUN curl -k -o /tmp/tool.tgz https://example.com/tool.tgz
    /// ```
    /// Trust the CA that signs the server's certificate instead:
    /// ```dockerfile
    /// FROM node:22-slim
    /// COPY corp-ca.crt /usr/local/share/ca-certificates/
    /// RUN update-ca-certificates \
    ///  && curl -o /tmp/tool.tgz https://example.com/tool.tgz
    /// ENV NODE_EXTRA_CA_CERTS=/usr/local/share/ca-certificates/corp-ca.crt
    /// ```
    pub static RULE = Rule {
        id: "PC2001",
        name: "tls-verification-disabled",
        severity: Severity::High,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    let mut hits = Hits::default();
    for declared in declared_values(facts) {
        if let Some(what) = insecure_env(declared.name, &declared.value) {
            let span = locate(facts, declared.instruction.span, declared.name);
            hits.add(
                span,
                what.key,
                format!(
                    "{} `{}` {}",
                    declared.keyword.as_str(),
                    declared.name,
                    what.effect
                ),
            );
        }
    }
    for run in run_scripts(&facts.file) {
        for command in &run.script.commands {
            for (name, value) in assignments(command) {
                if let Some(what) = insecure_env(&name, &value) {
                    let span = command_span(facts, &run, command, &name);
                    hits.add(span, what.key, format!("`{name}` {}", what.effect));
                }
            }
            let unwrapped = command.unwrapped();
            for found in insecure_flags(&unwrapped) {
                let span = command_span(facts, &run, command, &found.needle);
                hits.add(span, found.key, found.message);
            }
        }
    }
    for (line, column, end, pattern) in config_matches(facts, INSECURE_CONFIG.as_slice()) {
        hits.add(
            Span::new(line, column, line, end),
            pattern.key,
            pattern.message,
        );
    }
    hits.into_diagnostics(out);
}

/// What setting an environment variable does, when it turns verification off.
struct EnvEffect {
    key: &'static str,
    effect: &'static str,
}

/// Whether `name=value` in the environment turns TLS verification off.
fn insecure_env(name: &str, value: &str) -> Option<EnvEffect> {
    let upper = name.to_ascii_uppercase();
    let (key, effect, disables) = match upper.as_str() {
        "NODE_TLS_REJECT_UNAUTHORIZED" => (
            "node",
            "is `0`: Node.js accepts any TLS certificate",
            value.trim() == "0",
        ),
        "PYTHONHTTPSVERIFY" => (
            "python",
            "is `0`: Python's HTTPS clients accept any certificate",
            value.trim() == "0",
        ),
        // git checks only whether the variable exists, whatever its value.
        "GIT_SSL_NO_VERIFY" => (
            "git",
            "is set: git accepts any TLS certificate (whatever the value)",
            true,
        ),
        "PIP_TRUSTED_HOST" => (
            "pip",
            "makes pip skip TLS verification for the hosts it names",
            !value.trim().is_empty(),
        ),
        "UV_INSECURE_HOST" => (
            "uv",
            "makes uv skip TLS verification for the hosts it names",
            !value.trim().is_empty(),
        ),
        "NPM_CONFIG_STRICT_SSL" => (
            "npm",
            "is `false`: npm accepts any TLS certificate",
            is_false(value),
        ),
        "GOINSECURE" => (
            "go",
            "makes go fetch the modules it names without TLS verification (or over plain HTTP)",
            !value.trim().is_empty(),
        ),
        _ => return None,
    };
    disables.then_some(EnvEffect { key, effect })
}

/// One problem found by a word-level check of a command.
struct FlagHit {
    key: &'static str,
    /// The word to point at.
    needle: String,
    message: String,
}

/// Options of curl's that take a value, so `-o kubectl` is not read as `-k`.
const CURL_SHORT_WITH_VALUE: &str = "AbcCdDeEFHKmoPQrtTuUwxXyYz";

fn insecure_flags(command: &SimpleCommand) -> Vec<FlagHit> {
    let mut hits = Vec::new();
    let Some(program) = command.program_name() else {
        return hits;
    };
    let args = command.args();
    let mut hit = |key: &'static str, needle: &str, message: String| {
        hits.push(FlagHit {
            key,
            needle: needle.to_string(),
            message,
        })
    };
    match program {
        "curl" => {
            let mut args = args.iter();
            while let Some(arg) = args.next() {
                if takes_next_word(arg, CURL_SHORT_WITH_VALUE) {
                    args.next();
                } else if arg == "--insecure" || has_short_flag(arg, 'k', CURL_SHORT_WITH_VALUE) {
                    hit(
                        "curl",
                        arg,
                        format!("`curl {arg}` accepts any TLS certificate"),
                    );
                } else if arg == "--proxy-insecure" {
                    hit(
                        "curl-proxy",
                        arg,
                        "`curl --proxy-insecure` accepts any certificate from the HTTPS proxy"
                            .into(),
                    );
                }
            }
        }
        "wget" | "wget2" => {
            if let Some(arg) = args.iter().find(|a| *a == "--no-check-certificate") {
                hit(
                    "wget",
                    arg,
                    format!("`{program} --no-check-certificate` accepts any TLS certificate"),
                );
            }
        }
        "npm" | "yarn" | "pnpm" | "npx" => {
            let strict_ssl_off = args.iter().enumerate().find(|(i, a)| {
                *a == "--no-strict-ssl"
                    || ((*a == "strict-ssl" || *a == "--strict-ssl")
                        && args.get(i + 1).is_some_and(|v| is_false(v)))
            });
            if let Some((_, arg)) = strict_ssl_off {
                hit(
                    "npm",
                    arg,
                    format!("`{program}` with `strict-ssl` off accepts any TLS certificate"),
                );
            }
        }
        "git" => {
            let sslverify_off = args.iter().enumerate().find(|(i, a)| {
                is_git_sslverify_key(a) && args.get(i + 1).is_some_and(|v| is_false(v))
            });
            if let Some((_, arg)) = sslverify_off {
                hit(
                    "sslverify",
                    arg,
                    format!("`git config {arg} false` makes git accept any TLS certificate"),
                );
            }
        }
        _ => {}
    }
    // pip's and uv's options, whatever runs them (`pip3.12`, `python -m pip`, `uv pip`).
    for arg in args {
        let option = arg.split('=').next().unwrap_or(arg);
        if option == "--trusted-host" || arg.ends_with(".trusted-host") {
            hit(
                "pip",
                option,
                "pip's `trusted-host` skips TLS verification for that host".into(),
            );
        } else if option == "--allow-insecure-host" {
            hit(
                "uv",
                option,
                "uv's `--allow-insecure-host` skips TLS verification for that host".into(),
            );
        }
    }
    hits
}

/// `http.sslVerify` or `http.<url>.sslVerify`, in any case.
fn is_git_sslverify_key(word: &str) -> bool {
    let lower = word.to_ascii_lowercase();
    lower.starts_with("http.") && lower.ends_with(".sslverify")
}

static INSECURE_CONFIG: LazyLock<Vec<ConfigPattern>> = LazyLock::new(|| {
    vec![
        config_pattern(
            r"(?i)\bsslverify\s*=\s*(false|0|no|off)\b",
            "sslverify",
            "sslverify",
            "`sslverify` off (git config, yum/dnf repository or `--setopt`) accepts any TLS \
             certificate",
        ),
        config_pattern(
            r"(?i)\bcheck_certificate\s*=\s*off\b",
            "check_certificate",
            "wget",
            "wget's `check_certificate = off` accepts any TLS certificate",
        ),
        config_pattern(
            r"(?i)(^|[\s'\x22])(--insecure|-k|insecure)\b.*\.curlrc",
            "curlrc",
            "curl",
            "`insecure` in `.curlrc` makes every curl accept any TLS certificate",
        ),
        config_pattern(
            r"(?i)(^|[\s'\x22])strict-ssl\s*=\s*false\b|--strict-ssl=false\b",
            "strict-ssl",
            "npm",
            "npm's `strict-ssl=false` accepts any TLS certificate",
        ),
        config_pattern(
            r"(?i)(^|[\s'\x22])trusted[-_]host\s*=",
            "trusted",
            "pip",
            "pip's `trusted-host` skips TLS verification for that host",
        ),
        config_pattern(
            r#"(?i)\bAcquire::https(::\S+?)?::Verify-(Peer|Host)\s*(=\s*|\s+)"?(false|no|0|off)\b"#,
            "verify-",
            "apt",
            "apt's `Acquire::https::Verify-Peer`/`Verify-Host` off accepts any TLS certificate",
        ),
    ]
});

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::{lint, messages};

    #[test]
    fn catches_insecure_download_flags() {
        for src in [
            "FROM a\nRUN curl -k https://x\n",
            "FROM a\nRUN curl -fsSLk https://x -o /x\n",
            "FROM a\nRUN curl --insecure https://x\n",
            "FROM a\nRUN sudo curl --proxy-insecure https://x\n",
            "FROM a\nRUN wget --no-check-certificate https://x\n",
            "FROM a\nRUN pip install --trusted-host pypi.org requests\n",
            "FROM a\nRUN python3 -m pip install --trusted-host=pypi.org requests\n",
            "FROM a\nRUN pip config set global.trusted-host pypi.org\n",
            "FROM a\nRUN uv pip install --allow-insecure-host example.com x\n",
            "FROM a\nRUN npm config set strict-ssl false\n",
            "FROM a\nRUN npm install --no-strict-ssl\n",
            "FROM a\nRUN yarn config set strict-ssl false\n",
            "FROM a\nRUN npm --strict-ssl=false install\n",
            "FROM a\nRUN git config --global http.sslVerify false\n",
            "FROM a\nRUN git config --global http.https://x.org/.sslverify \"false\"\n",
            "FROM a\nRUN git -c http.sslVerify=false clone https://x\n",
            "FROM a\nRUN yum-config-manager --setopt=*.sslverify=0 --save\n",
            "FROM a\nRUN dnf install -y --setopt=sslverify=false x\n",
            "FROM a\nRUN echo insecure >> ~/.curlrc\n",
            "FROM a\nRUN wget -e check_certificate=off https://x\n",
            "FROM a\nRUN apt-get -o Acquire::https::Verify-Peer=false update\n",
            "FROM a\nRUN echo 'Acquire::https::Verify-Peer \"false\";' > /etc/apt/apt.conf.d/99x\n",
        ] {
            assert_eq!(lint(&RULE, src), vec![2], "should catch:\n{src}");
        }
    }

    #[test]
    fn catches_insecure_environment() {
        for src in [
            "FROM a\nENV NODE_TLS_REJECT_UNAUTHORIZED=0\n",
            "FROM a\nENV NODE_TLS_REJECT_UNAUTHORIZED 0\n",
            "FROM a\nARG NODE_TLS_REJECT_UNAUTHORIZED=0\n",
            "FROM a\nENV PYTHONHTTPSVERIFY=\"0\"\n",
            "FROM a\nENV GIT_SSL_NO_VERIFY=true\n",
            "FROM a\nENV GIT_SSL_NO_VERIFY=false\n",
            "FROM a\nENV PIP_TRUSTED_HOST=\"pypi.org files.pythonhosted.org\"\n",
            "FROM a\nENV npm_config_strict_ssl=false\n",
            "FROM a\nENV GOINSECURE=example.com\n",
            "FROM a\nARG OFF=0\nENV NODE_TLS_REJECT_UNAUTHORIZED=$OFF\n",
            "FROM a\nONBUILD ENV PYTHONHTTPSVERIFY=0\n",
            "FROM a\nRUN NODE_TLS_REJECT_UNAUTHORIZED=0 npm install\n",
            "FROM a\nRUN export GIT_SSL_NO_VERIFY=1 && git clone https://x\n",
            "FROM a\nRUN env PIP_TRUSTED_HOST=pypi.org pip install x\n",
            "FROM a\nRUN sudo -E env NODE_TLS_REJECT_UNAUTHORIZED=0 node x.js\n",
        ] {
            let lines = lint(&RULE, src);
            assert_eq!(lines.len(), 1, "should catch once:\n{src}\n{lines:?}");
        }
    }

    #[test]
    fn catches_continuations_heredocs_and_config_files() {
        let src =
            "FROM a\nRUN apt-get update \\\n && curl -fsSL \\\n    --insecure https://x | tar x\n";
        assert_eq!(lint(&RULE, src), vec![4]);
        let src = "FROM a\nRUN <<EOF\nset -e\ncurl -k https://x -o /x\nEOF\n";
        assert_eq!(lint(&RULE, src), vec![4]);
        let src = "FROM a\nCOPY <<EOF /etc/yum.repos.d/x.repo\n[x]\nbaseurl=https://x\nsslverify=0\nEOF\n";
        assert_eq!(lint(&RULE, src), vec![5]);
        let src = "FROM a\nRUN cat > /root/.config/pip/pip.conf <<EOF\n[global]\ntrusted-host = pypi.org\nEOF\n";
        assert_eq!(lint(&RULE, src), vec![4]);
        // Exec form is argv as written.
        let src = "FROM a\nRUN [\"curl\", \"--insecure\", \"https://x\"]\n";
        assert_eq!(lint(&RULE, src), vec![2]);
    }

    #[test]
    fn points_at_the_flag() {
        let src = "FROM a\nRUN curl -fsSL \\\n    --insecure https://x\n";
        let found = crate::rules::dockerfile::testing::run(&RULE, src, &Default::default());
        assert_eq!(found[0].span, Span::new(3, 5, 3, 15));
        assert_eq!(
            found[0].message,
            "`curl --insecure` accepts any TLS certificate"
        );
    }

    #[test]
    fn one_finding_per_setting_and_line() {
        let src = "FROM a\nRUN npm config set strict-ssl=false && pip install --trusted-host=x y\n";
        assert_eq!(messages(&RULE, src).len(), 2, "{:?}", messages(&RULE, src));
    }

    #[test]
    fn does_not_catch_verified_downloads() {
        for src in [
            "FROM a\nRUN curl -fsSL https://x -o /x\n",
            "FROM a\nRUN curl -Lokubectl https://x\n",
            "FROM a\nRUN curl -H -k https://x\n",
            "FROM a\nRUN curl --cacert /etc/ca.pem https://x\n",
            "FROM a\nRUN wget -q https://x\n",
            "FROM a\nRUN pip install requests\n",
            "FROM a\nRUN npm config set strict-ssl true\n",
            "FROM a\nRUN git config --global http.sslVerify true\n",
            "FROM a\nRUN git config --global http.postBuffer 524288000\n",
            "FROM a\nRUN dnf install -y --setopt=sslverify=1 x\n",
            "FROM a\nRUN sed -i 's/x/y/' /etc/yum.repos.d/x.repo\n",
            "FROM a\nENV NODE_TLS_REJECT_UNAUTHORIZED=1\n",
            "FROM a\nENV PYTHONHTTPSVERIFY=1\n",
            "FROM a\nARG GIT_SSL_NO_VERIFY\n",
            "FROM a\nARG PIP_TRUSTED_HOST=\n",
            "FROM a\nENV NODE_EXTRA_CA_CERTS=/etc/ca.pem\n",
            "FROM a\n# RUN curl -k https://x\nRUN true\n",
            "FROM a\nRUN echo 'curl -k is bad' # not a command\n",
            "FROM a\nLABEL note=\"sslverify=0\"\n",
            // PowerShell is not read as a POSIX shell.
            "FROM a\nSHELL [\"pwsh\", \"-c\"]\nRUN curl -k https://x\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }

    #[test]
    fn short_flag_bundles() {
        assert!(has_short_flag("-k", 'k', CURL_SHORT_WITH_VALUE));
        assert!(has_short_flag("-sSLk", 'k', CURL_SHORT_WITH_VALUE));
        assert!(!has_short_flag("-okubectl", 'k', CURL_SHORT_WITH_VALUE));
        assert!(!has_short_flag("--kk", 'k', CURL_SHORT_WITH_VALUE));
        assert!(!has_short_flag("k", 'k', CURL_SHORT_WITH_VALUE));
    }

    #[test]
    fn assignments_are_found_behind_wrappers() {
        let script = crate::dockerfile::shell::parse_script(
            "A=1 x; sudo -E B=2 y; env -i C=3 z; export D=4 E; declare -x F=5",
            1,
        );
        let found: Vec<(String, String)> = script.commands.iter().flat_map(assignments).collect();
        let names: Vec<&str> = found.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, vec!["A", "B", "C", "D", "F"]);
    }
}
