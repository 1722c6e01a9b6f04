use super::util::{command_span, Hits};
use crate::dockerfile::shell::{run_scripts, Script, SimpleCommand};
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// Account password set or removed in the image.
    ///
    /// Flags `RUN` commands that give an operating-system account a password, or take its
    /// password away:
    ///
    /// - `chpasswd` (`echo 'root:secret' | chpasswd`, `chpasswd <<EOF`), unless it only locks
    ///   accounts (`echo 'app:*' | chpasswd -e`) or sets a random password nobody knows
    ///   (`echo "root:$(openssl rand -base64 12)" | chpasswd`);
    /// - `passwd` reading the password from standard input (`… | passwd root`,
    ///   `passwd --stdin`), and `passwd -d` (no password at all);
    /// - `useradd`/`usermod` with `-p`/`--password`, unless the value only locks the account
    ///   (`*`, `!`, `!!`);
    /// - `adduser` fed a password on standard input (`echo -e "pw\npw" | adduser app`).
    ///
    /// `passwd -l` (lock) and `adduser --disabled-password` are what you want and are not
    /// reported.
    ///
    /// ## Why
    /// Every container started from the image gets the same password, and the command line
    /// that set it (often with the password in clear) stays in the image history for anyone
    /// who can pull it; the hash in `/etc/shadow` can be cracked offline. With an SSH server or
    /// `su` in the image, that is a login. The severity is high because the password is
    /// effectively public. Containers rarely need passwords: run as an unprivileged `USER`,
    /// use `docker exec` for debugging, and if a service needs a credential, give it one at run
    /// time from a secret.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM ubuntu:24.04
    /// RUN useradd -m app && echo 'app:app' | chpasswd
    /// USER app
    /// ```
    /// Create the user without a password:
    /// ```dockerfile
    /// FROM ubuntu:24.04
    /// RUN useradd -m app
    /// USER app
    /// ```
    pub static RULE = Rule {
        id: "PC2007",
        name: "account-password-set",
        severity: Severity::High,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    let mut hits = Hits::default();
    for run in run_scripts(&facts.file) {
        for command in &run.script.commands {
            let unwrapped = command.unwrapped();
            if let Some(message) = sets_password(run.script, command, &unwrapped) {
                let needle = unwrapped.program().unwrap_or("");
                hits.add(
                    command_span(facts, &run, command, needle),
                    "password",
                    message,
                );
            }
        }
    }
    hits.into_diagnostics(out);
}

const SHARED: &str = "every container gets the same password, and the command that set it is \
                      kept in the image history; create accounts without a password";

/// Why `command` (with wrappers removed as `unwrapped`) sets or removes a password, if it does.
fn sets_password(
    script: &Script,
    command: &SimpleCommand,
    unwrapped: &SimpleCommand,
) -> Option<String> {
    let program = unwrapped.program_name()?;
    let piped = command.position > 0;
    match program {
        "chpasswd" => {
            let encrypted = unwrapped.has_flag(Some('e'), Some("encrypted"));
            if (encrypted && only_locks(script, command)) || random_input(script, command) {
                return None;
            }
            Some(format!("`chpasswd` sets an account password: {SHARED}"))
        }
        "passwd" => {
            if unwrapped.has_flag(Some('d'), Some("delete")) {
                return Some(
                    "`passwd -d` removes the account's password: anyone can log in as it \
                     without one; lock it instead (`passwd -l`)"
                        .into(),
                );
            }
            let from_stdin = piped || unwrapped.has_flag(None, Some("stdin"));
            let locks =
                unwrapped.has_flag(Some('l'), Some("lock")) || random_input(script, command);
            (from_stdin && !locks).then(|| format!("`passwd` sets an account password: {SHARED}"))
        }
        "useradd" | "usermod" => {
            let value = password_option(unwrapped.args())?;
            if is_lock_marker(value) || is_random(value) {
                return None;
            }
            Some(format!(
                "`{program} --password` sets an account password: {SHARED}"
            ))
        }
        "adduser" if piped => {
            let disabled = unwrapped.has_flag(Some('D'), Some("disabled-password"))
                || unwrapped.has_flag(None, Some("disabled-login"));
            (!disabled).then(|| format!("`adduser` is given a password on its input: {SHARED}"))
        }
        _ => None,
    }
}

/// The value of `-p`/`--password` (`-pVALUE` and `--password=VALUE` too).
fn password_option(args: &[String]) -> Option<&str> {
    let mut words = args.iter().map(String::as_str);
    while let Some(word) = words.next() {
        if word == "-p" || word == "--password" {
            return words.next();
        }
        if let Some(value) = word.strip_prefix("--password=") {
            return Some(value);
        }
        if let Some(value) = word.strip_prefix("-p").filter(|v| !v.is_empty()) {
            return Some(value);
        }
    }
    None
}

/// A password field that locks the account instead of setting a password.
fn is_lock_marker(value: &str) -> bool {
    matches!(value.trim(), "*" | "!" | "!!" | "!*" | "x")
}

/// Whether the text fed to `command` through its pipeline is generated at random
/// (`echo "root:$(openssl rand -base64 12)" | chpasswd`): nobody knows that password, so it
/// locks the account as well as `*` does.
fn random_input(script: &Script, command: &SimpleCommand) -> bool {
    script
        .pipeline(command.pipeline)
        .filter(|c| c.position < command.position)
        .any(|c| c.words.iter().any(|w| is_random(w)) || is_random(c.program().unwrap_or("")))
}

/// Whether a word generates a random value.
fn is_random(word: &str) -> bool {
    [
        "openssl rand",
        "/dev/urandom",
        "/dev/random",
        "pwgen",
        "uuidgen",
        "$RANDOM",
    ]
    .iter()
    .any(|g| word.contains(g))
}

/// Whether every `user:password` line echoed into `chpasswd -e` only locks an account.
fn only_locks(script: &Script, command: &SimpleCommand) -> bool {
    let mut fields = script
        .pipeline(command.pipeline)
        .filter(|c| c.position < command.position && (c.is("echo") || c.is("printf")))
        .flat_map(|c| c.positional().map(str::to_string).collect::<Vec<_>>())
        .flat_map(|text| {
            text.replace("\\n", "\n")
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter(|line| !line.trim().is_empty())
        .peekable();
    fields.peek().is_some()
        && fields.all(|line| {
            line.split_once(':')
                .is_some_and(|(_, password)| is_lock_marker(password))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::{lint, messages};

    #[test]
    fn catches_passwords_set_or_removed() {
        for src in [
            "FROM a\nRUN echo 'root:root' | chpasswd\n",
            "FROM a\nRUN echo \"app:${APP_PASSWORD}\" | sudo chpasswd\n",
            "FROM a\nRUN useradd -m app && echo 'app:app' | chpasswd\n",
            "FROM a\nRUN chpasswd <<EOF\nroot:root\nEOF\n",
            "FROM a\nRUN echo 'root:$6$abc$def' | chpasswd -e\n",
            "FROM a\nRUN echo -e 'pw\\npw' | passwd root\n",
            "FROM a\nRUN echo pw | passwd --stdin root\n",
            "FROM a\nRUN passwd -d root\n",
            "FROM a\nRUN useradd -m -p \"$(openssl passwd -1 pw)\" app\n",
            "FROM a\nRUN usermod --password=$HASH app\n",
            "FROM a\nRUN printf 'pw\\npw\\n' | adduser app\n",
            "FROM a\nRUN [\"chpasswd\"]\n",
        ] {
            assert_eq!(lint(&RULE, src), vec![2], "should catch:\n{src}");
        }
        // A heredoc command is reported on its own line.
        let src = "FROM a\nRUN <<EOF\nset -e\necho 'root:root' | chpasswd\nEOF\n";
        let found = crate::rules::dockerfile::testing::run(&RULE, src, &Default::default());
        assert_eq!(found[0].span.line, 4);
    }

    #[test]
    fn message_has_no_password() {
        let found = messages(&RULE, "FROM a\nRUN echo 'root:hunter2' | chpasswd\n");
        assert_eq!(
            found,
            vec![
                "`chpasswd` sets an account password: every container gets the same password, \
                 and the command that set it is kept in the image history; create accounts \
                 without a password"
            ]
        );
    }

    #[test]
    fn does_not_catch_locked_or_passwordless_accounts() {
        for src in [
            "FROM a\nRUN useradd -m app\n",
            "FROM a\nRUN passwd -l root\n",
            "FROM a\nRUN passwd -S root\n",
            "FROM a\nRUN usermod -p '*' app\n",
            "FROM a\nRUN useradd -p '!' -m app\n",
            "FROM a\nRUN echo 'app:*' | chpasswd -e\n",
            "FROM a\nRUN echo 'app:!' | chpasswd --encrypted\n",
            "FROM a\nRUN adduser -D app\n",
            "FROM a\nRUN adduser --disabled-password --gecos '' app\n",
            "FROM a\nRUN echo | adduser --disabled-password app\n",
            "FROM a\nRUN usermod -aG docker app\n",
            "FROM a\nRUN echo 'chpasswd is not run here'\n",
            "FROM a\nRUN echo \"root:$(openssl rand -base64 12)\" | chpasswd\n",
            "FROM a\nRUN head -c 32 /dev/urandom | base64 | sed 's/^/root:/' | chpasswd\n",
            "FROM a\nRUN usermod -p \"$(openssl passwd -1 \"$(openssl rand -hex 16)\")\" root\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
