use super::util::{command_span, config_lines, has_short_flag, Hits};
use crate::dockerfile::shell::{run_scripts, RunScript, Script, SimpleCommand};
use crate::dockerfile::{Args, DockerfileFacts};
use crate::finding::{Severity, Span};
use crate::rules::dockerfile::util::{onbuild_trigger, stage_of};
use crate::rules::{Check, Diagnostics, DockerfileContext};
use regex::Regex;
use std::collections::BTreeMap;
use std::sync::LazyLock;

crate::declare_rule! {
    /// Script downloaded and run without verifying it.
    ///
    /// Flags a `RUN` that executes code fetched from the network without checking it first:
    ///
    /// - a download piped into an interpreter: `curl … | sh`, `wget -qO- … | bash`,
    ///   `curl … | sudo -E bash -s -- --flag`, `curl … | python3`, `… | perl`, `ruby`, `node`,
    ///   `php`;
    /// - a download run as a command string or process substitution: `sh -c "$(curl …)"`,
    ///   `eval "$(wget -qO- …)"`, `bash <(curl …)`, `source <(curl …)`;
    /// - a file downloaded (`curl -o`, `curl -O`, `wget`, `ADD <url>` without `--checksum`)
    ///   and then run (`sh install.sh`, `./install.sh`, a binary put in a `bin` directory)
    ///   in the same stage with no checksum or signature check in between (`sha256sum`,
    ///   `sha512sum`, `shasum`, `md5sum`, `gpg --verify`, `gpgv`, `cosign`, `minisign`, …).
    ///   Any such check counts, whichever file it names.
    ///
    /// Downloads that are saved and not run, or piped to `tar`, `gpg --dearmor` and the like,
    /// are not this rule's business. Shell-form `RUN` commands are read only when the stage's
    /// `SHELL` is a POSIX shell.
    ///
    /// ## Why
    /// The script is whatever the server sends at build time: when the vendor's site, its CDN
    /// or the project's repository is compromised (or the URL simply starts serving a new
    /// version), your build runs the new code as root, and nothing records what ran. A pinned
    /// checksum makes the build fail instead. The severity is medium rather than high because
    /// TLS still authenticates the server (see `PC2001` for when it does not); the trust you
    /// give is the same as for an unpinned package, but with no signature at all.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM debian:12
    /// RUN curl -fsSL https://example.com/install.sh | sh
    /// ```
    /// Download a pinned version, check it, then run it:
    /// ```dockerfile
    /// FROM debian:12
    /// ARG INSTALLER_SHA256=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
    /// RUN curl -fsSLo /tmp/install.sh https://example.com/v1.2.3/install.sh \
    ///  && echo "${INSTALLER_SHA256}  /tmp/install.sh" | sha256sum -c - \
    ///  && sh /tmp/install.sh && rm /tmp/install.sh
    /// ```
    pub static RULE = Rule {
        id: "PC2003",
        name: "unverified-remote-script-executed",
        severity: Severity::Medium,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    let mut hits = Hits::default();
    let runs: BTreeMap<usize, RunScript<'_>> = run_scripts(&facts.file)
        .into_iter()
        .map(|r| (r.index, r))
        .collect();
    let mut downloads = Downloads::default();
    for (index, inst) in facts.file.instructions.iter().enumerate() {
        downloads.enter_stage(stage_of(facts, index));
        let (inner, _) = onbuild_trigger(inst);
        if let Args::Add { sources, dest } = &inner.args {
            if inner.flag("checksum").is_none() {
                for url in sources.iter().filter(|s| is_url(s)) {
                    let path = if dest.ends_with('/') {
                        format!("{dest}{}", url_file_name(url))
                    } else {
                        dest.clone()
                    };
                    downloads.add(path, inst.span.line);
                }
            }
        }
        if let Some(run) = runs.get(&index) {
            check_script(facts, run, &mut downloads, &mut hits);
        }
    }
    for (line, text) in config_lines(facts) {
        if !may_substitute_download(text, "<(") {
            continue;
        }
        if let Some(m) = PROCESS_SUBSTITUTION.find(text) {
            let column = text[..m.start()].chars().count() + 1;
            let end = text[..m.end()].chars().count() + 1;
            hits.add(
                Span::new(line, column, line, end),
                "pipe",
                "a script downloaded with process substitution (`<(curl …)`) is run without \
                 being verified; download it, check its checksum or signature, then run it",
            );
        }
    }
    hits.into_diagnostics(out);
}

fn check_script(
    facts: &DockerfileFacts,
    run: &RunScript<'_>,
    downloads: &mut Downloads,
    hits: &mut Hits,
) {
    let script = &run.script;
    for command in &script.commands {
        let unwrapped = command.unwrapped();
        if let Some(url) = download_to_stdout(&unwrapped).filter(|u| !is_pinned_url(u)) {
            if let Some(interpreter) = piped_interpreter(script, command) {
                let downloader = unwrapped.program_name().unwrap_or("curl");
                let span = command_span(facts, run, command, downloader);
                hits.add(
                    span,
                    "pipe",
                    format!(
                        "`{downloader} … | {interpreter}` runs {} without verifying it; \
                         download it, check its checksum or signature, then run it",
                        describe_url(url)
                    ),
                );
            }
        }
        if let Some(program) = runs_downloaded_string(&unwrapped) {
            let span = command_span(facts, run, command, program);
            hits.add(
                span,
                "pipe",
                format!(
                    "`{program} \"$(curl …)\"` runs a downloaded script without verifying it; \
                     download it, check its checksum or signature, then run it"
                ),
            );
        }
        if is_verification(&unwrapped) {
            downloads.verified();
        }
        if let Some(path) = downloaded_file(&unwrapped) {
            downloads.add(path, command.line);
        } else if let Some(executed) = executed_file(&unwrapped) {
            if let Some((path, line)) = downloads.take(&executed) {
                let span = command_span(facts, run, command, executed.path);
                let what = if executed.operand {
                    let program = unwrapped.program_name().unwrap_or("sh");
                    format!("`{program}` runs `{path}`")
                } else {
                    format!("`{}` runs", executed.path)
                };
                hits.add(
                    span,
                    "run",
                    format!(
                        "{what}, downloaded on line {line} and never checked: verify its \
                         checksum or signature before running it (e.g. `sha256sum -c`, \
                         `gpg --verify`)"
                    ),
                );
            }
        }
    }
}

/// Files downloaded in the current stage and not yet verified: path and line.
#[derive(Default)]
struct Downloads {
    stage: Option<usize>,
    pending: Vec<(String, usize)>,
}

impl Downloads {
    fn enter_stage(&mut self, stage: Option<usize>) {
        if stage != self.stage {
            self.stage = stage;
            self.pending.clear();
        }
    }

    fn add(&mut self, path: String, line: usize) {
        self.pending.push((path, line));
    }

    /// Any checksum or signature check counts for every pending download: which file it names
    /// is often in a variable or a checksum list.
    fn verified(&mut self) {
        self.pending.clear();
    }

    /// The pending download that `executed` runs, if any (matched by file name; a program
    /// run by a bare name is looked up in `PATH`, so it matches only a download into a `bin`
    /// directory).
    fn take(&mut self, executed: &Executed<'_>) -> Option<(String, usize)> {
        let name = file_name(executed.path);
        let by_path = executed.operand || executed.path.contains('/');
        let position = self.pending.iter().position(|(path, _)| {
            file_name(path) == name && (by_path || parent_dir(path).ends_with("/bin"))
        })?;
        Some(self.pending.remove(position))
    }
}

const SHELLS: &[&str] = &["sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "busybox"];

/// Interpreters that read a program from standard input or a file.
fn is_interpreter(name: &str) -> bool {
    SHELLS.contains(&name)
        || matches!(
            name,
            "perl" | "ruby" | "node" | "nodejs" | "php" | "pwsh" | "source" | "."
        )
        || name
            .strip_prefix("python")
            .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// The URL `command` downloads to standard output, if it does (`curl url`, `wget -qO- url`).
fn download_to_stdout(command: &SimpleCommand) -> Option<&str> {
    let url = command
        .args()
        .iter()
        .find(|a| is_url(a))
        .map(String::as_str)
        .unwrap_or("a downloaded script");
    match command.program_name()? {
        "curl" => match curl_output(command) {
            None | Some(Output::Stdout) => Some(url),
            Some(_) => None,
        },
        "wget" | "wget2" => (wget_output(command) == Output::Stdout).then_some(url),
        _ => None,
    }
}

/// The interpreter a later command of `command`'s pipeline runs on its standard input.
fn piped_interpreter(script: &Script, command: &SimpleCommand) -> Option<String> {
    script
        .pipeline(command.pipeline)
        .filter(|c| c.position > command.position)
        .map(SimpleCommand::unwrapped)
        .find(reads_program_from_stdin)
        .and_then(|c| c.program_name().map(str::to_string))
}

/// Whether an interpreter reads its program from standard input: no script file operand and no
/// inline program (`sh`, `bash -`, `bash -s -- args`, `python3 -`, `bash /dev/stdin`).
fn reads_program_from_stdin(command: &SimpleCommand) -> bool {
    let Some(name) = command.program_name() else {
        return false;
    };
    if !is_interpreter(name) || matches!(name, "source" | ".") {
        return false;
    }
    let shell = SHELLS.contains(&name);
    for arg in command.args() {
        match arg.as_str() {
            "-" | "/dev/stdin" | "--" => return true,
            // `sh -n` only parses.
            a if shell && has_short_flag(a, 'n', "") => return false,
            "-s" if shell => return true,
            a if inline_program_flag(name, a) => return false,
            a if a.starts_with('-') => {}
            _ => return false,
        }
    }
    true
}

/// `-c` for shells (also in bundles such as `-ec`), `-c`/`-m` for python, `-e` for perl, ruby
/// and node: the program is on the command line.
fn inline_program_flag(interpreter: &str, arg: &str) -> bool {
    if SHELLS.contains(&interpreter) {
        return has_short_flag(arg, 'c', "");
    }
    if interpreter.starts_with("python") {
        return arg == "-c" || arg == "-m";
    }
    matches!(
        arg,
        "-e" | "-E" | "-r" | "--eval" | "-p" | "--print" | "-Command" | "-c"
    )
}

/// `$(curl …)` or a backquoted download in a word.
static DOWNLOAD_SUBSTITUTION: LazyLock<Regex> = LazyLock::new(|| {
    crate::rules::constant_regex(r"(\$\(|`)\s*(sudo\s+(-\S+\s+)*)?(\S*/)?(curl|wget)\s")
});

/// `bash <(curl …)`, `source <(wget -qO- …)`.
static PROCESS_SUBSTITUTION: LazyLock<Regex> = LazyLock::new(|| {
    crate::rules::constant_regex(
        r"(^|[\s;&|(])(sudo\s+(-\S+\s+)*)?(\S*/)?(bash|sh|zsh|ksh|dash|ash|source|\.|python[0-9.]*|perl|ruby|node)\s+(-\S+\s+)*<\(\s*(sudo\s+)?(\S*/)?(curl|wget)\b",
    )
});

/// Whether `text` holds the literals every match of [`PROCESS_SUBSTITUTION`] (`opener` is
/// `<(`) or [`DOWNLOAD_SUBSTITUTION`] (`$(` or a backquote) contains. Text without them is
/// skipped before the pattern is touched, so a process whose files download nothing this way
/// never compiles it (a millisecond, which matters to a hook run once per file).
fn may_substitute_download(text: &str, opener: &str) -> bool {
    text.contains(opener) && (text.contains("curl") || text.contains("wget"))
}

fn runs_download_substitution(text: &str) -> bool {
    (may_substitute_download(text, "$(") || may_substitute_download(text, "`"))
        && DOWNLOAD_SUBSTITUTION.is_match(text)
}

/// The program of `sh -c "$(curl …)"` or `eval "$(curl …)"`, when the command runs one.
fn runs_downloaded_string(command: &SimpleCommand) -> Option<&str> {
    let name = command.program_name()?;
    let args = command.args();
    let program_text = if name == "eval" {
        args.iter().any(|a| runs_download_substitution(a))
    } else if is_interpreter(name) {
        args.iter()
            .position(|a| inline_program_flag(name, a))
            .and_then(|i| args.get(i + 1))
            .is_some_and(|a| runs_download_substitution(a))
    } else {
        false
    };
    program_text.then_some(name)
}

/// Where a download tool writes.
#[derive(Debug, PartialEq, Eq)]
enum Output {
    Stdout,
    File(String),
    /// The file name comes from the URL (`curl -O`, `wget` without `-O`).
    RemoteName,
}

/// Options of curl's that take a value (single letters).
const CURL_WITH_VALUE: &str = "AbcCdDeEFHKmoPQrtTuUwxXyYz";
/// Options of wget's that take a value (single letters).
const WGET_WITH_VALUE: &str = "OoaPeUtTwQiBlADIXRY";

fn output_of(value: &str) -> Output {
    if value == "-" || value == "/dev/stdout" {
        Output::Stdout
    } else {
        Output::File(value.to_string())
    }
}

/// A bundle of short options (`-fsSLo`, `-qO-`): the letters before the first option that
/// takes a value, and that option with its attached value (empty when the value is the next
/// word). `None` for long options and operands.
fn split_bundle<'a>(arg: &'a str, takes_value: &str) -> Option<(&'a str, Option<(char, &'a str)>)> {
    let bundle = arg.strip_prefix('-').filter(|b| !b.starts_with('-'))?;
    match bundle
        .char_indices()
        .find(|(_, c)| takes_value.contains(*c))
    {
        Some((i, c)) => Some((&bundle[..i], Some((c, &bundle[i + c.len_utf8()..])))),
        None => Some((bundle, None)),
    }
}

/// Where curl or wget writes, reading its options: `output` is the short option naming the
/// file (`-o` for curl, `-O` for wget), `long` its long form. `remote` is the short option
/// that names the file after the URL (curl's `-O`), if any.
fn output_option(
    command: &SimpleCommand,
    takes_value: &str,
    output: char,
    long: &str,
    remote: Option<char>,
) -> Option<Output> {
    let mut args = command.args().iter();
    let mut remote_name = false;
    while let Some(arg) = args.next() {
        if let Some(value) = arg.strip_prefix(long).and_then(|v| v.strip_prefix('=')) {
            return Some(output_of(value));
        }
        if arg == long {
            return args.next().map(|v| output_of(v));
        }
        if arg == "--remote-name" || arg == "--remote-name-all" {
            remote_name = true;
        }
        let Some((flags, option)) = split_bundle(arg, takes_value) else {
            continue;
        };
        if remote.is_some_and(|r| flags.contains(r)) {
            remote_name = true;
        }
        match option {
            Some((c, "")) if c == output => return args.next().map(|v| output_of(v)),
            Some((c, value)) if c == output => return Some(output_of(value)),
            Some((_, "")) => {
                args.next();
            }
            _ => {}
        }
    }
    remote_name.then_some(Output::RemoteName)
}

/// Where curl writes; `None` when it writes to standard output (its default).
fn curl_output(command: &SimpleCommand) -> Option<Output> {
    output_option(command, CURL_WITH_VALUE, 'o', "--output", Some('O'))
}

/// Where wget writes: a file named after the URL unless `-O` says otherwise.
fn wget_output(command: &SimpleCommand) -> Output {
    output_option(command, WGET_WITH_VALUE, 'O', "--output-document", None)
        .unwrap_or(Output::RemoteName)
}

/// The file `command` downloads to, when it downloads to a file.
fn downloaded_file(command: &SimpleCommand) -> Option<String> {
    let output = match command.program_name()? {
        "curl" => curl_output(command)?,
        "wget" | "wget2" => wget_output(command),
        _ => return None,
    };
    let url = command.args().iter().find(|a| is_url(a))?;
    if is_pinned_url(url) {
        return None;
    }
    match output {
        Output::Stdout => None,
        Output::File(path) => Some(path),
        Output::RemoteName => Some(url_file_name(url).to_string()),
    }
}

/// A file a command runs.
struct Executed<'a> {
    path: &'a str,
    /// An interpreter's script operand (a path), rather than the program itself.
    operand: bool,
}

/// The file a command runs: an interpreter's script operand, or the program itself.
fn executed_file(command: &SimpleCommand) -> Option<Executed<'_>> {
    let program = command.program()?;
    let name = command.program_name()?;
    if !is_interpreter(name) {
        return Some(Executed {
            path: program,
            operand: false,
        });
    }
    let mut args = command.args().iter();
    while let Some(arg) = args.next() {
        let parse_only = SHELLS.contains(&name) && has_short_flag(arg, 'n', "");
        if inline_program_flag(name, arg) || parse_only {
            return None;
        }
        let operand = if arg == "--" {
            args.next()
        } else if !arg.starts_with('-') {
            Some(arg)
        } else {
            continue;
        };
        return operand.map(|path| Executed {
            path,
            operand: true,
        });
    }
    None
}

/// Checksum and signature tools.
fn is_verification(command: &SimpleCommand) -> bool {
    let Some(name) = command.program_name() else {
        return false;
    };
    match name {
        "sha1sum" | "sha224sum" | "sha256sum" | "sha384sum" | "sha512sum" | "md5sum" | "b2sum"
        | "shasum" | "gpgv" | "cosign" | "minisign" | "signify" | "signify-openbsd"
        | "sigstore" | "slsa-verifier" => true,
        "gpg" | "gpg2" => command.has_flag(None, Some("verify")),
        "openssl" => matches!(command.subcommand(), Some("dgst" | "sha256" | "sha512")),
        _ => false,
    }
}

/// Whether a URL names its content by a full commit hash or digest (40 or 64 hex digits), as
/// `https://raw.githubusercontent.com/org/repo/<commit>/install.sh` does: what it serves cannot
/// change.
fn is_pinned_url(url: &str) -> bool {
    url.split(['/', '?', '&', '=', '#', '@', ':'])
        .any(|segment| {
            matches!(segment.len(), 40 | 64) && segment.chars().all(|c| c.is_ascii_hexdigit())
        })
}

fn is_url(word: &str) -> bool {
    ["http://", "https://", "ftp://"].iter().any(|p| {
        word.len() > p.len()
            && word
                .get(..p.len())
                .is_some_and(|s| s.eq_ignore_ascii_case(p))
    })
}

/// The last path segment of a URL, without query or fragment.
fn url_file_name(url: &str) -> &str {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    path.rsplit('/').next().unwrap_or(path)
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn parent_dir(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// A URL for a message: without credentials, query or fragment (they may hold tokens).
fn describe_url(url: &str) -> String {
    if !is_url(url) {
        return url.to_string();
    }
    let without_query = url.split(['?', '#']).next().unwrap_or(url);
    let (scheme, rest) = without_query
        .split_once("://")
        .unwrap_or(("", without_query));
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = authority.rsplit('@').next().unwrap_or(authority);
    let plain = if scheme.eq_ignore_ascii_case("http") {
        " over plain HTTP"
    } else {
        ""
    };
    let slash = if path.is_empty() { "" } else { "/" };
    format!("a script fetched from `{scheme}://{host}{slash}{path}`{plain}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::testing::{lint, messages};

    #[test]
    fn catches_downloads_piped_to_interpreters() {
        for src in [
            "FROM a\nRUN curl -fsSL https://x/install.sh | sh\n",
            "FROM a\nRUN curl https://x/install.sh | bash -\n",
            "FROM a\nRUN curl -o- https://x/install.sh | bash\n",
            "FROM a\nRUN wget -qO- https://x/install.sh | bash\n",
            "FROM a\nRUN wget -O - https://x/install.sh | sh\n",
            "FROM a\nRUN wget --output-document=- https://x/install.sh | sh\n",
            "FROM a\nRUN curl -sSL https://x | sudo -E bash -s -- -y\n",
            "FROM a\nRUN curl -sSL https://aka.ms/getvsdbgsh | bash /dev/stdin -v latest\n",
            "FROM a\nRUN curl -sSL https://bootstrap.pypa.io/get-pip.py | python3\n",
            "FROM a\nRUN curl -sSL https://x/install.js | node\n",
            "FROM a\nRUN curl -sSL https://x/install.pl | perl\n",
            "FROM a\nRUN curl -sSL https://x/install.sh | gunzip | sh\n",
            "FROM a\nRUN apt-get update && curl -sL https://deb.nodesource.com/setup_20.x | bash - && apt-get install -y nodejs\n",
            "FROM a\nRUN sh -c \"$(curl -fsSL https://x/install.sh)\"\n",
            "FROM a\nRUN bash -c \"$(wget -qO- https://x/install.sh)\"\n",
            "FROM a\nRUN eval \"$(curl -fsSL https://x/env.sh)\"\n",
            "FROM a\nRUN sh -c \"`wget -qO- https://x/install.sh`\"\n",
            "FROM a\nRUN bash <(curl -fsSL https://x/install.sh)\n",
            "FROM a\nRUN source <(curl -fsSL https://x/completion)\n",
            "FROM a\nONBUILD RUN curl -fsSL https://x/install.sh | sh\n",
            "FROM a\nRUN [\"sh\", \"-c\", \"$(curl -fsSL https://x/install.sh)\"]\n",
        ] {
            assert_eq!(lint(&RULE, src), vec![2], "should catch:\n{src}");
        }
    }

    #[test]
    fn catches_download_then_run_without_check() {
        for src in [
            "FROM a\nRUN curl -fsSLo /tmp/install.sh https://x/install.sh && sh /tmp/install.sh\n",
            "FROM a\nRUN curl -fsSL -o install.sh https://x/i.sh && bash install.sh --yes\n",
            "FROM a\nRUN curl -O https://x/install.sh && chmod +x install.sh && ./install.sh\n",
            "FROM a\nRUN wget https://x/install.sh && sh install.sh\n",
            "FROM a\nRUN wget -O /tmp/i.sh https://x/install.sh && sh /tmp/i.sh\n",
            "FROM a\nRUN curl -Lo /usr/local/bin/tool https://x/tool && chmod +x /usr/local/bin/tool && tool --version\n",
        ] {
            assert_eq!(lint(&RULE, src), vec![2], "should catch:\n{src}");
        }
        // Across RUN instructions of a stage, and after ADD of a URL.
        let src = "FROM a\nRUN curl -fsSLo /tmp/i.sh https://x/i.sh\nRUN sh /tmp/i.sh\n";
        assert_eq!(lint(&RULE, src), vec![3]);
        let src = "FROM a\nADD https://x/install.sh /tmp/\nRUN sh /tmp/install.sh\n";
        assert_eq!(lint(&RULE, src), vec![3]);
        let src = "FROM a\nRUN <<EOF\ncurl -fsSLo /tmp/i.sh https://x/i.sh\nsh /tmp/i.sh\nEOF\n";
        assert_eq!(lint(&RULE, src), vec![4]);
    }

    #[test]
    fn messages_name_the_pipe_and_hide_credentials() {
        assert_eq!(
            messages(
                &RULE,
                "FROM a\nRUN curl -fsSL https://user:pw@x.org/install.sh?token=abc | sudo sh\n"
            ),
            vec![
                "`curl … | sh` runs a script fetched from `https://x.org/install.sh` without \
                 verifying it; download it, check its checksum or signature, then run it"
            ]
        );
        let found = messages(&RULE, "FROM a\nRUN wget -qO- http://x.org/i.sh | sh\n");
        assert!(found[0].contains("over plain HTTP"), "{found:?}");
        assert_eq!(
            messages(
                &RULE,
                "FROM a\nRUN curl -fsSLO https://x/i.sh\nRUN sudo bash i.sh\n"
            ),
            vec![
                "`bash` runs `i.sh`, downloaded on line 2 and never checked: verify its \
                 checksum or signature before running it (e.g. `sha256sum -c`, `gpg --verify`)"
            ]
        );
    }

    #[test]
    fn urls_with_multibyte_characters_do_not_panic() {
        // Byte 6 is inside `é`: slicing there would panic.
        assert!(!is_url("ftp:/é/x.sh"));
        assert!(is_url("https://é.example/x.sh"));
        assert_eq!(url_file_name("https://x/é.sh?x=1"), "é.sh");
    }

    #[test]
    fn does_not_catch_verified_or_unexecuted_downloads() {
        for src in [
            "FROM a\nRUN curl -fsSLo /tmp/i.sh https://x/i.sh && echo \"$SHA  /tmp/i.sh\" | sha256sum -c - && sh /tmp/i.sh\n",
            "FROM a\nRUN curl -fsSLO https://x/i.sh && curl -fsSLO https://x/i.sh.asc && gpg --batch --verify i.sh.asc i.sh && sh i.sh\n",
            "FROM a\nADD --checksum=sha256:0123 https://x/install.sh /tmp/\nRUN sh /tmp/install.sh\n",
            "FROM a\nRUN curl -fsSL https://x/key.gpg | gpg --dearmor -o /usr/share/keyrings/x.gpg\n",
            "FROM a\nRUN curl -fsSL https://x/tool.tgz | tar -xz -C /usr/local/bin\n",
            "FROM a\nRUN curl -fsSL https://x/tool.tgz -o /tmp/t.tgz\n",
            "FROM a\nRUN wget https://x/tool.tgz | sh\n",
            "FROM a\nRUN curl -o /tmp/i.sh https://x/i.sh | tee /dev/null | sh\n",
            "FROM a\nRUN curl -fsSL https://x | sh -c 'cat > /x'\n",
            "FROM a\nRUN curl -fsSL https://x | bash /opt/handler.sh\n",
            "FROM a\nRUN VERSION=$(curl -s https://api.x/latest | jq -r .tag) && echo $VERSION\n",
            "FROM a\nRUN sh ./install.sh\n",
            "FROM a\nRUN wget -O /usr/local/bin/dind https://x/raw/8d9e3502aba39127e4d12196dae16d306f76993d/hack/dind && sh /usr/local/bin/dind\n",
            "FROM a\nRUN curl -fsSL https://x/8d9e3502aba39127e4d12196dae16d306f76993d/i.sh | sh\n",
            "FROM a\nRUN wget -O /usr/local/bin/dind https://x/dind; sh -n /usr/local/bin/dind\n",
            "FROM a\nRUN curl -fsSLo tool https://x/tool && tool --version\n",
            "FROM a\nRUN sh -c \"$(cat /tmp/install.sh)\" && bash <(cat /tmp/env.sh)\n",
            // A download in another stage is not run in this one.
            "FROM a AS dl\nRUN curl -fsSLo /tmp/i.sh https://x/i.sh\nFROM b\nRUN sh /tmp/i.sh\n",
            "FROM a\n# RUN curl https://x | sh\nRUN true\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "should pass:\n{src}");
        }
    }
}
