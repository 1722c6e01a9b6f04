use super::util::{assignments, command_span, Hits};
use crate::dockerfile::shell::{run_scripts, Script, SimpleCommand};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};
use crate::secrets::{
    contains_credential, is_literal_secret, is_secret_name, redact_value, url_with_password,
};

crate::declare_rule! {
    /// Secret written on a `RUN` command line.
    ///
    /// Flags literal secrets that a `RUN` passes to a command:
    ///
    /// - a secret-named variable set to a literal (`NPM_TOKEN=abc npm ci`,
    ///   `export DB_PASSWORD=hunter2`, `env API_KEY=… cmd`; names as in `PC2004`);
    /// - a URL with a password (`git clone https://ci:s3cret@git.example.com/app`,
    ///   `pip install --index-url https://u:p@pypi.example.com/simple …`);
    /// - a password option: `curl -u user:pass` (and `--user`, `--proxy-user`), wget's
    ///   `--password`/`--http-password`/`--ftp-password`/`--proxy-password`, `docker login -p`
    ///   (also podman, buildah, nerdctl, skopeo, helm, oras, crane), `sshpass -p`, `mysql
    ///   -pSECRET`/`--password=` (and mysqldump, mysqladmin), `htpasswd -b`;
    /// - a literal piped into `docker login --password-stdin` (`echo s3cret | docker login …`);
    /// - `npm`/`yarn`/`pnpm config set` of a secret-named key (`//registry/:_authToken`).
    ///
    /// Variable references (`$NPM_TOKEN`, `$(cat /run/secrets/token)`), placeholders and paths
    /// are not literals; a placeholder is a whole value, judged as in `PC2004` (`changeme`,
    /// `<password>`, `your-api-key-here`, not `Dummy-Lake-2023`). Values in a known credential format are reported by `PC2005`.
    /// Messages never show the value.
    ///
    /// ## Why
    /// A `RUN` command line is stored verbatim in the image history (`docker history
    /// --no-trunc`), so the secret ships with the image to everyone who can pull it, on top of
    /// being committed with the Dockerfile. The severity is high for that reason. BuildKit's
    /// secret mounts give a `RUN` the secret without recording it anywhere.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM node:22-slim
    /// RUN npm config set //registry.npmjs.org/:_authToken s3cr3t-t0ken && npm ci
    /// ```
    /// Mount the token for this step only (`docker build --secret id=npm_token,env=NPM_TOKEN`):
    /// ```dockerfile
    /// FROM node:22-slim
    /// RUN --mount=type=secret,id=npm_token,env=NPM_TOKEN \
    ///     npm config set //registry.npmjs.org/:_authToken "$NPM_TOKEN" && npm ci
    /// ```
    pub static RULE = Rule {
        id: "PC2006",
        name: "secret-in-run-command",
        severity: Severity::High,
        check: Check::Dockerfile(check),
        policy_rule: true,
    };
}

const ADVICE: &str = "RUN command lines are kept in the image history; use a build secret \
                      (`RUN --mount=type=secret`)";

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    let mut hits = Hits::default();
    for run in run_scripts(&facts.file) {
        for command in &run.script.commands {
            for (name, value) in assignments(command) {
                if is_secret_name(&name) && is_secret_literal(&value) {
                    hits.add(
                        command_span(facts, &run, command, &name),
                        "assign",
                        format!(
                            "`{name}` is set to a literal value ({}): {ADVICE}",
                            redact_value(&value)
                        ),
                    );
                }
            }
            let unwrapped = command.unwrapped();
            for word in &unwrapped.words {
                if contains_credential(word) {
                    continue;
                }
                if let Some(url) = url_with_password(word) {
                    hits.add(
                        command_span(facts, &run, command, "@"),
                        "url",
                        format!("a URL with a password (`{url}`) is on the command line: {ADVICE}"),
                    );
                }
            }
            let found = password_option(&unwrapped)
                .or_else(|| password_on_stdin(run.script, command, &unwrapped))
                .or_else(|| secret_config(&unwrapped));
            if let Some(found) = found {
                hits.add(
                    command_span(facts, &run, command, found.needle),
                    "option",
                    format!(
                        "`{}` passes a literal secret ({}): {ADVICE}",
                        found.what,
                        redact_value(found.value)
                    ),
                );
            }
        }
    }
    hits.into_diagnostics(out);
}

/// A literal secret a command is given.
struct Passed<'a> {
    /// How the secret is passed, for the message (`docker login -p`).
    what: String,
    /// The word to point at.
    needle: &'a str,
    value: &'a str,
}

fn is_secret_literal(value: &str) -> bool {
    is_literal_secret(value) && !contains_credential(value)
}

/// The value of option `names` (`-p VALUE`, `-pVALUE` when `attached`, `--password=VALUE`,
/// `--password VALUE`), with the word that holds it.
fn option_value<'a>(
    args: &'a [String],
    short: Option<&str>,
    long: &[&str],
    attached: bool,
) -> Option<(&'a str, &'a str)> {
    let mut words = args.iter().map(String::as_str);
    while let Some(word) = words.next() {
        for name in long {
            if word == *name {
                let value = words.next()?;
                return Some((word, value));
            }
            if let Some(value) = word.strip_prefix(name).and_then(|v| v.strip_prefix('=')) {
                return Some((word, value));
            }
        }
        if let Some(short) = short {
            if word == short {
                let value = words.next()?;
                return Some((word, value));
            }
            if let Some(value) = word
                .strip_prefix(short)
                .filter(|v| attached && !v.is_empty())
            {
                return Some((word, value));
            }
        }
    }
    None
}

/// A literal password given as an option.
fn password_option(command: &SimpleCommand) -> Option<Passed<'_>> {
    let program = command.program_name()?;
    let args = command.args();
    let (flag, needle, value) = match program {
        "curl" => {
            let (needle, credentials) = option_value(args, Some("-u"), &["--user"], true)
                .or_else(|| option_value(args, Some("-U"), &["--proxy-user"], true))?;
            let (_, password) = credentials.split_once(':')?;
            ("-u user:password", needle, password)
        }
        "wget" | "wget2" => {
            let long = [
                "--password",
                "--http-password",
                "--ftp-password",
                "--proxy-password",
            ];
            let (needle, value) = option_value(args, None, &long, false)?;
            ("--password", needle, value)
        }
        "docker" | "podman" | "buildah" | "nerdctl" | "skopeo" | "helm" | "oras" | "crane" => {
            if !args.iter().any(|a| a == "login") {
                return None;
            }
            let (needle, value) = option_value(args, Some("-p"), &["--password"], false)?;
            ("login -p", needle, value)
        }
        "sshpass" => {
            let (needle, value) = option_value(args, Some("-p"), &[], true)?;
            ("-p", needle, value)
        }
        "mysql" | "mysqladmin" | "mysqldump" | "mariadb" => {
            let (needle, value) = option_value(args, Some("-p"), &["--password"], true)
                .filter(|(needle, _)| *needle != "-p")?;
            ("-p", needle, value)
        }
        "htpasswd" => {
            // `htpasswd -b[c] file user password`: the password is the last operand.
            let batch = args
                .iter()
                .any(|a| a.starts_with('-') && !a.starts_with("--") && a.contains('b'));
            let value = args.last().filter(|_| batch && args.len() >= 3)?;
            ("-b", "htpasswd", value.as_str())
        }
        _ => return None,
    };
    is_secret_literal(value).then(|| Passed {
        what: format!("{program} {flag}"),
        needle,
        value,
    })
}

/// `echo s3cret | docker login --password-stdin`: the literal echoed into the login.
fn password_on_stdin<'a>(
    script: &'a Script,
    command: &SimpleCommand,
    unwrapped: &SimpleCommand,
) -> Option<Passed<'a>> {
    if !unwrapped.has_arg("--password-stdin") || command.position == 0 {
        return None;
    }
    let program = unwrapped.program_name()?.to_string();
    script
        .pipeline(command.pipeline)
        .filter(|c| c.position < command.position)
        .filter(|c| c.is("echo") || c.is("printf"))
        .find_map(|c| {
            let value = c.positional().last()?;
            is_secret_literal(value).then(|| Passed {
                what: format!("echo … | {program} login --password-stdin"),
                needle: c.program().unwrap_or("echo"),
                value,
            })
        })
}

/// `npm config set //registry/:_authToken VALUE` (or `KEY=VALUE`) with a secret-named key.
fn secret_config(command: &SimpleCommand) -> Option<Passed<'_>> {
    let program = command.program_name()?;
    if !matches!(program, "npm" | "yarn" | "pnpm") {
        return None;
    }
    let operands: Vec<&str> = command.positional().collect();
    let rest = match operands.as_slice() {
        ["config", "set", rest @ ..] | ["set", rest @ ..] => rest,
        _ => return None,
    };
    let (key, value) = match rest {
        [pair] => pair.rsplit_once('=')?,
        [key, value, ..] => (*key, *value),
        [] => return None,
    };
    let name = key.rsplit([':', '/', '.']).next().unwrap_or(key);
    if !(is_secret_name(name) || name == "_auth") || !is_secret_literal(value) {
        return None;
    }
    Some(Passed {
        what: format!("{program} config set {name}"),
        needle: key,
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::{lint, messages};

    #[test]
    fn catches_literal_secrets_on_command_lines() {
        for src in [
            "FROM a\nRUN NPM_TOKEN=abc123def npm ci\n",
            "FROM a\nRUN export DB_PASSWORD=hunter2 && ./migrate\n",
            "FROM a\nRUN env API_KEY=abc123 ./fetch\n",
            "FROM a\nRUN git clone https://ci:s3cret@git.example.com/app.git\n",
            "FROM a\nRUN pip install --index-url https://u:p4ss@pypi.example.com/simple x\n",
            "FROM a\nRUN curl -u admin:s3cret https://x/file -o /f\n",
            "FROM a\nRUN curl --user=admin:s3cret https://x/file -o /f\n",
            "FROM a\nRUN curl -uadmin:s3cret https://x/file -o /f\n",
            "FROM a\nRUN wget --password=s3cret https://x/f\n",
            "FROM a\nRUN wget --http-user=u --http-password s3cret https://x/f\n",
            "FROM a\nRUN docker login -u ci -p s3cret registry.example.com\n",
            "FROM a\nRUN podman login --password=s3cret -u ci quay.io\n",
            "FROM a\nRUN echo s3cret | docker login -u ci --password-stdin registry.example.com\n",
            "FROM a\nRUN sshpass -p s3cret ssh user@host true\n",
            "FROM a\nRUN mysql -uroot -ps3cret -e 'select 1'\n",
            "FROM a\nRUN mysqladmin --password=s3cret status\n",
            "FROM a\nRUN htpasswd -bc /etc/nginx/.htpasswd admin s3cret\n",
            "FROM a\nRUN npm config set //registry.npmjs.org/:_authToken s3cr3t-t0ken\n",
            "FROM a\nRUN npm config set //registry.npmjs.org/:_authToken=s3cr3t-t0ken\n",
            "FROM a\nRUN <<EOF\nset -e\nexport GH_TOKEN=abc123def\nEOF\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
        }
    }

    /// Bypass: a literal that merely contained `dummy`, `example`, `fake` or `insecure`
    /// was taken for a placeholder, so a real password on the command line passed.
    #[test]
    fn catches_secrets_that_contain_a_placeholder_word() {
        for src in [
            "FROM a\nRUN DB_PASSWORD=Dummy-Lake-2023 ./migrate\n",
            "FROM a\nRUN docker login -u ci -p example-Xq83z registry.example.com\n",
            "FROM a\nRUN sshpass -p insecure-Pa55 ssh user@host true\n",
            "FROM a\nRUN curl -u admin:fake0Tr33s https://x/file -o /f\n",
            "FROM a\nRUN git clone https://ci:dummy-T0k3n-77@git.example.com/app.git\n",
            "FROM a\nRUN echo myExamplePass9 | docker login -u ci --password-stdin r\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "should catch:\n{src}");
            let found = messages(&RULE, src);
            let shown = ["Lake", "Xq83", "Pa55", "Tr33s", "T0k3n", "Pass9"];
            assert!(
                shown.iter().all(|s| found.iter().all(|m| !m.contains(s))),
                "{found:?}"
            );
        }
    }

    #[test]
    fn messages_never_show_the_secret() {
        let found = messages(
            &RULE,
            "FROM a\nRUN docker login -u ci -p s3cret registry.example.com\n",
        );
        assert_eq!(
            found,
            vec![
                "`docker login -p` passes a literal secret (redacted, 6 characters): RUN \
                 command lines are kept in the image history; use a build secret \
                 (`RUN --mount=type=secret`)"
            ]
        );
        for src in [
            "FROM a\nRUN NPM_TOKEN=abc123def npm ci\n",
            "FROM a\nRUN git clone https://ci:abc123def@git.example.com/app.git\n",
            "FROM a\nRUN echo abc123def | docker login --password-stdin r\n",
            "FROM a\nRUN curl -u admin:abc123def https://x -o /f\n",
        ] {
            let found = messages(&RULE, src);
            assert!(!found[0].contains("abc123def"), "{found:?}");
        }
    }

    #[test]
    fn does_not_catch_references_or_secret_mounts() {
        for src in [
            "FROM a\nRUN --mount=type=secret,id=t,env=NPM_TOKEN npm ci\n",
            "FROM a\nRUN NPM_TOKEN=$(cat /run/secrets/t) npm ci\n",
            "FROM a\nRUN export DB_PASSWORD=\"$DB_PASSWORD\"\n",
            "FROM a\nRUN export PASSWORD_FILE=/run/secrets/pw\n",
            "FROM a\nRUN git clone https://ci:${TOKEN}@git.example.com/app.git\n",
            "FROM a\nRUN git clone https://git.example.com/app.git\n",
            "FROM a\nRUN curl -u \"$USER:$PASS\" https://x -o /f\n",
            "FROM a\nRUN curl -u admin https://x -o /f\n",
            "FROM a\nRUN curl -O https://x/file\n",
            "FROM a\nRUN docker login -u ci --password-stdin r < /run/secrets/pw\n",
            "FROM a\nRUN cat /run/secrets/pw | docker login -u ci --password-stdin r\n",
            "FROM a\nRUN echo \"$PW\" | docker login -u ci --password-stdin r\n",
            "FROM a\nRUN docker ps -p x\n",
            "FROM a\nRUN mysql -uroot -p -e 'select 1'\n",
            "FROM a\nRUN htpasswd -c /etc/nginx/.htpasswd admin\n",
            "FROM a\nRUN npm config set registry https://registry.example.com\n",
            "FROM a\nRUN TOKENIZERS_PARALLELISM=false python x.py\n",
            "FROM a\nRUN export PATH=/opt/bin:$PATH\n",
            "FROM a\nRUN PAPERLESS_SECRET_KEY=build-time-dummy python3 manage.py collectstatic\n",
            "FROM a\nRUN VULTR_API_KEY=fake vultr-cli version\n",
            // Whole-value placeholders stay placeholders (the bypass fix above keeps these).
            "FROM a\nRUN API_TOKEN=changeme ./configure\n",
            "FROM a\nRUN export API_KEY=your-api-key-here\n",
            "FROM a\nRUN docker login -u ci -p '<password>' r\n",
            "FROM a\nRUN curl -u admin:example https://x -o /f\n",
            "FROM a\nRUN AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY aws s3 ls\n",
            // A known format is PC2005's.
            "FROM a\nRUN GH_TOKEN=ghp_0123456789abcdefghijABCDEFGHIJ012345 gh auth status\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
