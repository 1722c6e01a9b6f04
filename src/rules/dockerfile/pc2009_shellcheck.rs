use super::shellcheck::{self, Comment, RunError, Settings};
use crate::dockerfile::shell::{run_scripts, script_heredocs, shell_at};
use crate::dockerfile::{Args, Command, DockerfileFacts, Heredoc, Instruction};
use crate::finding::{Severity, Span};
use crate::rules::dockerfile::util::{stage_chain, stage_of};
use crate::rules::{Check, Diagnostics, DockerfileContext, OptionKind, OptionSpec, RuleOptions};
use std::collections::BTreeSet;

crate::declare_rule! {
    /// ShellCheck warnings in `RUN` scripts.
    ///
    /// Runs [ShellCheck](https://www.shellcheck.net) on every shell-form `RUN` and on the
    /// heredoc scripts a `RUN` runs, and reports its comments at their exact place in the
    /// Dockerfile, named by ShellCheck code: `SC2164 (warning): Use 'cd ... || exit' …`.
    ///
    /// - The dialect is the stage's `SHELL` (`sh`, `bash`, `dash`, `ksh`; `ash` and busybox
    ///   are checked as `sh`), or a heredoc's shebang, or the shell a heredoc is fed to
    ///   (`RUN bash <<EOF`). Stages whose `SHELL` is not a POSIX shell (PowerShell, cmd, zsh)
    ///   and exec-form `RUN` are not checked, nor are files with `# escape=` other than `\`.
    /// - `ARG`s and `ENV`s declared earlier in the stage (or in the stages it is built from)
    ///   are known to ShellCheck, so using them is not "referenced but not assigned"
    ///   (SC2154). A global `ARG` that the stage does not re-declare is not visible to its
    ///   `RUN`s, and ShellCheck says so.
    /// - SC1090 and SC1091 (sourced files) are never reported: those files are in the image.
    /// - A finding is silenced like any other (`# hadolint ignore=SC2086` or
    ///   `# portcullis ignore=SC2086` before the instruction), or for the whole policy with
    ///   the `exclude` option.
    ///
    /// This rule runs an external program, `shellcheck`, once per Dockerfile (every script of
    /// the file in one process). When it is not installed, the rule reports nothing and says
    /// so in a note. It is off unless a policy enables it.
    ///
    /// Options: `level`, the least serious ShellCheck level reported (`error`, `warning`,
    /// `info` or `style`; default `warning`, since `info` and `style` comments such as SC2086
    /// are mostly noise in build scripts), and `exclude`, ShellCheck codes never reported.
    ///
    /// ## Why
    /// A `RUN` line is a shell script that nobody lints: an unquoted variable, a `cd` that
    /// fails silently or a pipeline whose failure is ignored produces an image that builds
    /// but is not what you meant. The default severity is medium: these are correctness
    /// problems that can become security ones (a failed download step that does not stop the
    /// build), not vulnerabilities by themselves.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM debian:12
    /// ARG version=1.2.3
    /// RUN cd /opt; curl -fsSLO "https://example.com/tool-$versoin.tgz"
    /// ```
    /// `cd` may fail and the download then lands elsewhere, and `$versoin` is never set:
    /// ```dockerfile
    /// FROM debian:12
    /// ARG version=1.2.3
    /// WORKDIR /opt
    /// RUN curl -fsSLO "https://example.com/tool-$version.tgz"
    /// ```
    pub static RULE = Rule {
        id: "PC2009",
        name: "shellcheck",
        severity: Severity::Medium,
        // It runs an external program per Dockerfile: a policy opts in.
        enabled_by_default: false,
        options: &[
            OptionSpec {
                name: "level",
                kind: OptionKind::String,
                doc: "least serious ShellCheck level reported: error, warning (default), info \
                      or style",
            },
            OptionSpec {
                name: "exclude",
                kind: OptionKind::StringList,
                doc: "ShellCheck codes never reported, e.g. [SC2086, SC2164]",
            },
        ],
        check: Check::Dockerfile(check),
    };
}

/// The program run; tests point the rule at one that does not exist.
const PROGRAM: &str = "shellcheck";

const LEVELS: &[&str] = &["error", "warning", "info", "style"];

/// The most scripts of one file handed to ShellCheck.
const MAX_SCRIPTS: usize = 256;

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    check_with(ctx, out, PROGRAM);
}

fn check_with(ctx: &DockerfileContext<'_>, out: &mut Diagnostics, program: &str) {
    let facts = ctx.facts;
    let settings = settings(ctx.options, out);
    let mut scripts = extract(facts);
    // ShellCheck takes milliseconds a script: a file with thousands of heredoc scripts would
    // hold the gate for a minute. Lint, not policy: the rest is said in a note.
    if scripts.len() > MAX_SCRIPTS {
        out.note(format!(
            "{} has {} RUN scripts; ShellCheck checked the first {MAX_SCRIPTS}",
            facts.path,
            scripts.len()
        ));
        scripts.truncate(MAX_SCRIPTS);
    }
    let texts: Vec<String> = scripts.iter().map(|s| s.text.clone()).collect();
    match shellcheck::run(program, &texts, &settings) {
        Ok(comments) => report(&scripts, &comments, out),
        Err(RunError::NotInstalled(_)) => out.note(format!(
            "ShellCheck is not installed (`{program}` is not on PATH), so no RUN script was \
             checked; install it (`apt-get install shellcheck`, `brew install shellcheck`) or \
             disable the rule"
        )),
        Err(e) => out.note(format!(
            "the RUN scripts of {} were not checked: {e}",
            facts.path
        )),
    }
}

/// The options, checked; what is wrong is said in a note and replaced by the default.
fn settings(options: &RuleOptions, out: &mut Diagnostics) -> Settings {
    let level = match options.string("level") {
        None => "warning",
        Some(level) if LEVELS.contains(&level) => level,
        Some(level) => {
            out.note(format!(
                "unknown level `{level}`; expected one of {}; using `warning`",
                LEVELS.join(", ")
            ));
            "warning"
        }
    };
    let mut exclude = Vec::new();
    for code in options.list("exclude") {
        let digits = code
            .strip_prefix("SC")
            .or_else(|| code.strip_prefix("sc"))
            .unwrap_or(code);
        if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
            exclude.push(format!("SC{digits}"));
        } else {
            out.note(format!(
                "`{code}` in `exclude` is not a ShellCheck code (like `SC2086`); it was ignored"
            ));
        }
    }
    Settings {
        level: level.to_string(),
        exclude,
    }
}

/// ShellCheck's comments as findings at their Dockerfile place, each once, in order.
fn report(scripts: &[Script], comments: &[Comment], out: &mut Diagnostics) {
    let mut found = BTreeSet::new();
    for comment in comments {
        let Some(script) = scripts.get(comment.script) else {
            continue;
        };
        let Some(line) = script.dockerfile_line(comment.line) else {
            continue;
        };
        let end_line = script
            .dockerfile_line(comment.end_line)
            .unwrap_or(line)
            .max(line);
        let end_column = if end_line == line {
            comment.end_column.max(comment.column + 1)
        } else {
            comment.end_column
        };
        let span = Span::new(line, comment.column, end_line, end_column);
        let message = format!(
            "SC{} ({}): {}",
            comment.code, comment.level, comment.message
        );
        found.insert((span, message));
    }
    for (span, message) in found {
        out.push(span, message);
    }
}

/// A script for ShellCheck: a preamble (dialect directive, exported variables), then lines
/// copied from the Dockerfile with columns kept, so positions map back by a line offset.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Script {
    text: String,
    /// How many preamble lines come before the Dockerfile's lines.
    preamble: usize,
    /// The Dockerfile line of the script's first line after the preamble.
    first_line: usize,
    /// The Dockerfile line of the script's last line.
    last_line: usize,
}

impl Script {
    /// The Dockerfile line of a script line (`None` for the preamble).
    fn dockerfile_line(&self, line: usize) -> Option<usize> {
        let offset = line.checked_sub(self.preamble + 1)?;
        let mapped = self.first_line + offset;
        (mapped <= self.last_line).then_some(mapped)
    }

    fn new(dialect: &str, names: &[String], first_line: usize, lines: Vec<String>) -> Script {
        let mut text = format!("# shellcheck shell={dialect}\n");
        let mut preamble = 1;
        if !names.is_empty() {
            text.push_str(&format!("export {}\n", names.join(" ")));
            preamble += 1;
        }
        let last_line = first_line + lines.len().saturating_sub(1);
        for line in lines {
            text.push_str(&line);
            text.push('\n');
        }
        Script {
            text,
            preamble,
            first_line,
            last_line,
        }
    }
}

/// Every script of the file ShellCheck can check, in file order.
fn extract(facts: &DockerfileFacts) -> Vec<Script> {
    let file = &facts.file;
    if file.escape != '\\' {
        return Vec::new();
    }
    let mut scripts = Vec::new();
    for run in run_scripts(file) {
        let Args::Run(Command::Shell(text)) = &run.run.args else {
            continue;
        };
        let Some(dialect) = dialect(&shell_at(file, run.index)) else {
            continue;
        };
        let Some(inst) = file.instructions.get(run.index) else {
            continue;
        };
        let names = declared_names(facts, run.index);
        let fed_to_shell: Vec<&Heredoc> = script_heredocs(text, &run.run.heredocs).collect();
        let only_markers = text.split_whitespace().all(|w| {
            w.trim_start_matches(|c: char| c.is_ascii_digit())
                .starts_with("<<")
        });
        if !only_markers {
            if let Some(lines) = outer_lines(facts, inst, run.run, &fed_to_shell) {
                scripts.push(Script::new(dialect, &names, inst.span.line, lines));
            }
        }
        for heredoc in fed_to_shell {
            if let Some((dialect, lines)) = heredoc_lines(facts, text, heredoc, dialect) {
                scripts.push(Script::new(dialect, &names, heredoc.body_line, lines));
            }
        }
    }
    scripts
}

/// ShellCheck's dialect for a shell program (`/bin/bash` → `bash`), if it has one.
fn dialect_of_program(program: &str) -> Option<&'static str> {
    let name = program.rsplit(['/', '\\']).next().unwrap_or(program);
    Some(match name {
        "sh" | "ash" | "busybox" => "sh",
        "bash" => "bash",
        "dash" => "dash",
        "ksh" | "mksh" | "ksh93" => "ksh",
        _ => return None,
    })
}

/// The dialect of a SHELL (`["/bin/bash", "-o", "pipefail", "-c"]` → `bash`).
fn dialect(shell: &[String]) -> Option<&'static str> {
    dialect_of_program(shell.first()?)
}

/// For each heredoc of a RUN: the Dockerfile lines of its body, and its delimiter line.
fn heredoc_ranges(run: &Instruction) -> Vec<(std::ops::Range<usize>, usize)> {
    run.heredocs
        .iter()
        .map(|h| {
            let end = h.body_line + h.body.lines().count();
            (h.body_line..end, end)
        })
        .collect()
}

/// The RUN's own script, line by line: the keyword and flags blanked out (columns kept),
/// comment and blank lines inside the continuation turned into a bare `\` (Docker drops them;
/// the shell must keep joining), the bodies of heredocs checked on their own emptied, other
/// heredocs kept as they are.
fn outer_lines(
    facts: &DockerfileFacts,
    inst: &Instruction,
    run: &Instruction,
    fed_to_shell: &[&Heredoc],
) -> Option<Vec<String>> {
    let (start_line, start_column) = script_start(facts, inst)?;
    let ranges = heredoc_ranges(run);
    let separate: Vec<usize> = fed_to_shell.iter().map(|h| h.body_line).collect();
    let mut lines = Vec::new();
    for number in inst.span.line..=inst.span.end_line {
        let text = facts.line_text(number);
        let heredoc = ranges
            .iter()
            .find(|(body, delimiter)| body.contains(&number) || *delimiter == number);
        let line = match heredoc {
            Some((body, _)) if body.contains(&number) && separate.contains(&body.start) => {
                String::new()
            }
            Some(_) => text.to_string(),
            None if number < start_line => String::new(),
            None if number == start_line => continuation(text)
                .chars()
                .enumerate()
                .map(|(i, c)| if i < start_column { ' ' } else { c })
                .collect(),
            None if text.trim().is_empty() || text.trim_start().starts_with('#') => {
                "\\".to_string()
            }
            None => continuation(text).to_string(),
        };
        lines.push(line);
    }
    Some(lines)
}

/// A line as the shell should see it: Docker accepts blanks after a continuation's `\`, the
/// shell would take `\ ` as an escaped space.
fn continuation(text: &str) -> &str {
    let trimmed = text.trim_end();
    if trimmed.ends_with('\\') {
        trimmed
    } else {
        text
    }
}

/// Where the shell text of a RUN begins: after `ONBUILD`, `RUN` and the flags, which may
/// continue over several lines. Line and 0-based character column.
fn script_start(facts: &DockerfileFacts, inst: &Instruction) -> Option<(usize, usize)> {
    let mut line = inst.span.line;
    let mut chars: Vec<char> = facts.line_text(line).chars().collect();
    let mut i = inst.span.column.saturating_sub(1);
    for keyword in ["ONBUILD", "RUN"] {
        skip_blanks(&chars, &mut i);
        let word: String = chars.iter().skip(i).take(keyword.len()).collect();
        let after = chars.get(i + keyword.len());
        if word.eq_ignore_ascii_case(keyword) && after.is_none_or(|c| c.is_whitespace()) {
            i += keyword.len();
        }
    }
    loop {
        skip_blanks(&chars, &mut i);
        let rest: String = chars.get(i..).unwrap_or_default().iter().collect();
        if rest.trim().is_empty() || rest.trim() == "\\" {
            // A continuation: the script (or more flags) start on a later line.
            loop {
                line += 1;
                if line > inst.span.end_line {
                    return None;
                }
                let text = facts.line_text(line);
                if !(text.trim().is_empty() || text.trim_start().starts_with('#')) {
                    chars = text.chars().collect();
                    break;
                }
            }
            i = 0;
            continue;
        }
        if rest.starts_with("--") {
            skip_word(&chars, &mut i);
            continue;
        }
        return Some((line, i));
    }
}

fn skip_blanks(chars: &[char], i: &mut usize) {
    while chars.get(*i).is_some_and(|c| *c == ' ' || *c == '\t') {
        *i += 1;
    }
}

/// Skips one word, quotes included (`--mount=type=bind,target="/a b"`).
fn skip_word(chars: &[char], i: &mut usize) {
    let mut quote = None;
    while let Some(&c) = chars.get(*i) {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c.is_whitespace() => return,
            None => {}
        }
        *i += 1;
    }
}

/// A heredoc script's dialect and lines: its shebang's interpreter (the shebang line itself
/// blanked), else the shell it is fed to (`bash <<EOF`), else the stage's.
fn heredoc_lines(
    facts: &DockerfileFacts,
    text: &str,
    heredoc: &Heredoc,
    stage_dialect: &'static str,
) -> Option<(&'static str, Vec<String>)> {
    let count = heredoc.body.lines().count();
    let mut lines: Vec<String> = (heredoc.body_line..heredoc.body_line + count)
        .map(|n| facts.line_text(n).to_string())
        .collect();
    let shebang = lines
        .first()
        .and_then(|l| l.trim_start_matches('\t').strip_prefix("#!"))
        .map(str::to_string);
    let dialect = match shebang {
        Some(shebang) => {
            let mut words = shebang.split_whitespace();
            let program = words.next().unwrap_or("");
            let program = if program.ends_with("/env") {
                words.find(|w| !w.starts_with('-')).unwrap_or("")
            } else {
                program
            };
            if let Some(first) = lines.first_mut() {
                first.clear();
            }
            dialect_of_program(program)?
        }
        None => fed_to(text, &heredoc.name).unwrap_or(stage_dialect),
    };
    Some((dialect, lines))
}

/// The dialect of the shell a heredoc is fed to in `text` (`bash -e <<EOF` → `bash`).
fn fed_to(text: &str, name: &str) -> Option<&'static str> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let marker = words
        .iter()
        .position(|w| w.starts_with("<<") && w.contains(name))?;
    words[..marker]
        .iter()
        .rev()
        .find(|w| !w.starts_with('-'))
        .and_then(|w| dialect_of_program(w))
}

/// The ARG and ENV names visible to instruction `index`: declared earlier in its stage or in
/// the stages it is built from. Sorted; only names a shell accepts.
fn declared_names(facts: &DockerfileFacts, index: usize) -> Vec<String> {
    let Some(stage) = stage_of(facts, index) else {
        return Vec::new();
    };
    let mut names = BTreeSet::new();
    for s in stage_chain(facts, stage) {
        let Some(range) = facts.file.stages.get(s).map(|st| st.body()) else {
            continue;
        };
        let end = if s == stage { index } else { range.end };
        for inst in facts
            .file
            .instructions
            .get(range.start..end)
            .unwrap_or_default()
        {
            match &inst.args {
                Args::Arg(decls) => names.extend(decls.iter().map(|d| d.name.clone())),
                Args::Env(pairs) => names.extend(pairs.iter().map(|kv| kv.key.clone())),
                _ => {}
            }
        }
    }
    names
        .into_iter()
        .filter(|n| {
            !n.starts_with(|c: char| c.is_ascii_digit())
                && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::dockerfile::shellcheck::tests::require_shellcheck;
    use crate::rules::dockerfile::testing::{options, run};
    use crate::rules::{Diagnostic, OptionValue};
    use std::collections::BTreeMap;

    fn found(src: &str) -> Vec<Diagnostic> {
        require_shellcheck();
        run(&RULE, src, &RuleOptions::default())
    }

    fn codes(src: &str) -> Vec<(usize, String)> {
        found(src)
            .into_iter()
            .map(|d| {
                let code = d
                    .message
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_string();
                (d.span.line, code)
            })
            .collect()
    }

    fn facts(src: &str) -> DockerfileFacts {
        DockerfileFacts::gather("Dockerfile", src, &BTreeMap::new())
    }

    #[test]
    fn reports_at_the_exact_place_with_the_code() {
        let found = found("FROM a\nRUN cd /tmp; make\n");
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].message,
            "SC2164 (warning): Use 'cd ... || exit' or 'cd ... || return' in case cd fails."
        );
        assert_eq!(found[0].span, Span::new(2, 5, 2, 12));
    }

    #[test]
    fn flags_continuations_and_comments_keep_lines_and_columns() {
        let src = "FROM a\n\
                   RUN --mount=type=cache,target=/root/.cache \\\n\
                   \x20   --network=none \\\n\
                   \x20   apt-get update && \\\n\
                   \x20   # a comment Docker drops\n\
                   \n\
                   \x20   cd /tmp; \\\n\
                   \x20   echo \"$undefined_thing\"\n";
        let found = found(src);
        let at: Vec<(usize, usize, &str)> = found
            .iter()
            .map(|d| (d.span.line, d.span.column, &d.message[..6]))
            .collect();
        assert_eq!(at, vec![(7, 5, "SC2164"), (8, 11, "SC2154")]);
    }

    #[test]
    fn blanks_after_a_continuation_are_not_an_escaped_space() {
        let src =
            "FROM a\nRUN groupadd -r conda \\ \n    && usermod -aG conda app \\\t\n    && true\n";
        assert!(codes(src).is_empty(), "{:?}", codes(src));
    }

    #[test]
    fn declared_args_and_envs_are_known() {
        assert!(
            codes("FROM a\nARG version\nENV prefix=/opt\nRUN echo \"$version $prefix\"\n")
                .is_empty()
        );
        // Built from an earlier stage: its ARGs and ENVs count.
        assert!(codes("FROM a AS base\nENV home=/h\nFROM base\nRUN echo \"$home\"\n").is_empty());
        // A global ARG is not visible in a stage that does not re-declare it.
        assert_eq!(
            codes("ARG version=1\nFROM a\nRUN echo \"$version\"\n"),
            vec![(3, "SC2154".to_string())]
        );
        assert!(codes("ARG version=1\nFROM a\nARG version\nRUN echo \"$version\"\n").is_empty());
    }

    #[test]
    fn heredoc_scripts_are_checked_with_their_dialect() {
        assert_eq!(
            codes("FROM a\nRUN <<EOF\nset -x\ncd /x\nEOF\n"),
            vec![(4, "SC2164".to_string())]
        );
        // sh by default: `[[` is not POSIX.
        assert_eq!(
            codes("FROM a\nRUN <<EOF\n[[ -f /x ]] && echo yes\nEOF\n"),
            vec![(3, "SC3010".to_string())]
        );
        assert!(codes("FROM a\nRUN <<EOF\n#!/bin/bash\n[[ -f /x ]] && echo yes\nEOF\n").is_empty());
        assert!(codes("FROM a\nRUN bash <<EOF\n[[ -f /x ]] && echo yes\nEOF\n").is_empty());
        // The outer command and a heredoc fed to a shell are both checked, each once.
        assert_eq!(
            codes("FROM a\nRUN cd /x; bash <<EOF\ncd /y\nEOF\n"),
            vec![(2, "SC2164".to_string()), (3, "SC2164".to_string())]
        );
        // A heredoc that is data is part of the outer script.
        assert!(codes("FROM a\nRUN cat <<'EOF' > /x.sh\ncd /y\nEOF\n").is_empty());
        // `python3 <<EOF` is not shell.
        assert!(codes("FROM a\nRUN python3 <<EOF\nimport os\nEOF\n").is_empty());
    }

    #[test]
    fn shell_instruction_chooses_the_dialect() {
        let bash_only = "RUN [[ -f /x ]] && echo yes\n";
        assert_eq!(
            codes(&format!("FROM a\n{bash_only}")),
            vec![(2, "SC3010".to_string())]
        );
        assert!(codes(&format!(
            "FROM a\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\n{bash_only}"
        ))
        .is_empty());
        // Not checked: PowerShell, zsh, exec form, a Windows escape.
        for src in [
            "FROM a\nSHELL [\"pwsh\", \"-c\"]\nRUN cd /x\n",
            "FROM a\nSHELL [\"zsh\", \"-c\"]\nRUN cd /x\n",
            "FROM a\nRUN [\"sh\", \"-c\", \"cd /x\"]\n",
            "# escape=`\nFROM a\nRUN cd /x\n",
        ] {
            assert!(codes(src).is_empty(), "should not check:\n{src}");
        }
    }

    #[test]
    fn onbuild_and_indented_runs() {
        assert_eq!(
            found("FROM a\nONBUILD RUN cd /x\n")[0].span,
            Span::new(2, 13, 2, 18)
        );
        assert_eq!(
            found("FROM a\n  run cd /x\n")[0].span,
            Span::new(2, 7, 2, 12)
        );
    }

    #[test]
    fn options_choose_level_and_exclusions() {
        require_shellcheck();
        let src = "FROM a\nRUN echo $1 && cd /x\n";
        let with = |pairs: &[(&str, OptionValue)]| -> Vec<String> {
            run(&RULE, src, &options(pairs))
                .into_iter()
                .map(|d| d.message[..6].to_string())
                .collect()
        };
        assert_eq!(with(&[]), vec!["SC2164"]);
        assert_eq!(
            with(&[("level", OptionValue::String("info".into()))]),
            vec!["SC2086", "SC2164"]
        );
        assert_eq!(
            with(&[
                ("level", OptionValue::String("style".into())),
                (
                    "exclude",
                    OptionValue::List(vec!["2164".into(), "SC2086".into()])
                ),
            ]),
            Vec::<String>::new()
        );
        let facts = facts(src);
        let opts = options(&[("level", OptionValue::String("loud".into()))]);
        let mut out = Diagnostics::default();
        check(
            &DockerfileContext {
                facts: &facts,
                options: &opts,
            },
            &mut out,
        );
        assert!(
            out.notes()[0].contains("unknown level `loud`"),
            "{:?}",
            out.notes()
        );
        assert_eq!(out.0.len(), 1);
        let opts = options(&[("exclude", OptionValue::List(vec!["SC-1".into()]))]);
        let mut out = Diagnostics::default();
        let ctx = DockerfileContext {
            facts: &facts,
            options: &opts,
        };
        check(&ctx, &mut out);
        assert_eq!(
            out.notes(),
            ["`SC-1` in `exclude` is not a ShellCheck code (like `SC2086`); it was ignored"]
        );
    }

    #[test]
    fn missing_shellcheck_gives_one_note_and_no_findings() {
        let facts = facts("FROM a\nRUN cd /x\nRUN cd /y\n");
        let options = RuleOptions::default();
        let mut out = Diagnostics::default();
        let ctx = DockerfileContext {
            facts: &facts,
            options: &options,
        };
        check_with(&ctx, &mut out, "portcullis-no-such-shellcheck");
        assert!(out.0.is_empty());
        assert_eq!(out.notes().len(), 1);
        assert!(out.notes()[0].starts_with("ShellCheck is not installed"));
        assert!(out.notes()[0].contains("apt-get install shellcheck"));
    }

    #[test]
    fn scripts_keep_columns_and_map_lines() {
        let facts = facts(
            "FROM a\nARG v\nRUN --mount=type=secret,id=x \\\n  echo \"$v\" \\\n  # dropped\n  && true\n",
        );
        let scripts = extract(&facts);
        assert_eq!(
            scripts,
            vec![Script {
                text: "# shellcheck shell=sh\nexport v\n\n  echo \"$v\" \\\n\\\n  && true\n".into(),
                preamble: 2,
                first_line: 3,
                last_line: 6,
            }]
        );
        assert_eq!(scripts[0].dockerfile_line(2), None);
        assert_eq!(scripts[0].dockerfile_line(4), Some(4));
        assert_eq!(scripts[0].dockerfile_line(7), None);
    }
}
