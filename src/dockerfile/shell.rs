//! A small POSIX-shell reader for RUN commands: enough structure for lint rules to see which
//! programs run with which arguments, and how they are piped. It is not a shell interpreter:
//! no expansion is performed, words keep `$VAR` as written (quotes removed).

use super::ast::{Args, Command, Dockerfile, Instruction, Keyword, Stage};
use super::DockerfileFacts;
use crate::finding::Span;

/// One simple command: `FOO=1 apt-get install -y curl`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimpleCommand {
    /// Leading `NAME=value` assignments.
    pub assignments: Vec<(String, String)>,
    /// The program and its arguments, quotes removed.
    pub words: Vec<String>,
    /// Absolute 1-based line in the Dockerfile where the command starts.
    pub line: usize,
    /// Index of the pipeline this command belongs to (within its script).
    pub pipeline: usize,
    /// Position in its pipeline (0 = first); a command after `|` has position ≥ 1.
    pub position: usize,
    /// Number of commands in its pipeline.
    pub pipeline_len: usize,
}

impl SimpleCommand {
    /// The program as written (`/usr/bin/apt-get` stays as it is).
    pub fn program(&self) -> Option<&str> {
        self.words.first().map(String::as_str)
    }

    /// The program's file name: `/usr/bin/apt-get` → `apt-get`.
    pub fn program_name(&self) -> Option<&str> {
        self.program().map(|p| p.rsplit('/').next().unwrap_or(p))
    }

    /// Whether the program is `name` (by file name).
    pub fn is(&self, name: &str) -> bool {
        self.program_name() == Some(name)
    }

    pub fn args(&self) -> &[String] {
        self.words.get(1..).unwrap_or(&[])
    }

    /// Arguments that are not flags (do not start with `-`).
    pub fn positional(&self) -> impl Iterator<Item = &str> {
        self.args()
            .iter()
            .map(String::as_str)
            .filter(|a| !a.starts_with('-'))
    }

    /// Whether any argument equals `arg`.
    pub fn has_arg(&self, arg: &str) -> bool {
        self.args().iter().any(|a| a == arg)
    }

    /// Whether a flag is present: `long` as `--long` or `--long=…`, `short` as `-s` alone or
    /// within a bundle like `-qy`.
    pub fn has_flag(&self, short: Option<char>, long: Option<&str>) -> bool {
        self.args().iter().any(|a| {
            if let Some(rest) = a.strip_prefix("--") {
                long.is_some_and(|l| rest == l || rest.starts_with(&format!("{l}=")))
            } else if let Some(rest) = a.strip_prefix('-') {
                short.is_some_and(|s| {
                    !rest.is_empty()
                        && rest.chars().all(|c| c.is_ascii_alphanumeric())
                        && rest.contains(s)
                })
            } else {
                false
            }
        })
    }

    /// The first positional argument (a subcommand such as `install`), if any.
    pub fn subcommand(&self) -> Option<&str> {
        self.positional().next()
    }

    /// The operands: arguments that are neither flags nor the value of one of
    /// `options_with_value` written as a separate word (`--repo epel`, `-x pkg`; `--repo=epel`
    /// is a single word anyway). After `--` every argument is an operand.
    pub fn operands(&self, options_with_value: &[&str]) -> Vec<&str> {
        let mut operands = Vec::new();
        let mut args = self.args().iter().map(String::as_str);
        while let Some(arg) = args.next() {
            if arg == "--" {
                operands.extend(args.by_ref());
                break;
            }
            if arg.starts_with('-') && arg.len() > 1 {
                if options_with_value.contains(&arg) {
                    args.next();
                }
                continue;
            }
            operands.push(arg);
        }
        operands
    }

    /// The command with wrappers removed: `sudo`, `env A=1`, `nohup`, `time`, `exec`,
    /// `command`, `xargs`-less. Useful for rules that look past `sudo apt-get`.
    pub fn unwrapped(&self) -> SimpleCommand {
        let mut words: &[String] = &self.words;
        while let Some(first) = words.first() {
            let name = first.rsplit('/').next().unwrap_or(first);
            match name {
                "sudo" | "doas" | "nohup" | "time" | "exec" | "command" | "nice" => {
                    words = &words[1..];
                    // Skip the wrapper's own flags (`sudo -E -u app`).
                    while let Some(w) = words.first() {
                        if !w.starts_with('-') {
                            break;
                        }
                        let takes_value = matches!(w.as_str(), "-u" | "-g" | "-n" | "-C");
                        words = &words[1..];
                        if takes_value && !words.is_empty() {
                            words = &words[1..];
                        }
                    }
                }
                "env" => {
                    words = &words[1..];
                    while let Some(w) = words.first() {
                        if w.starts_with('-') || is_assignment(w) {
                            words = &words[1..];
                        } else {
                            break;
                        }
                    }
                }
                _ => break,
            }
        }
        SimpleCommand {
            words: words.to_vec(),
            ..self.clone()
        }
    }
}

/// A parsed script: its simple commands in order, with pipeline structure.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Script {
    pub commands: Vec<SimpleCommand>,
}

impl Script {
    /// Commands (with wrappers such as `sudo` removed) whose program is `name`.
    pub fn find<'a>(&'a self, name: &'a str) -> impl Iterator<Item = SimpleCommand> + 'a {
        self.commands
            .iter()
            .map(SimpleCommand::unwrapped)
            .filter(move |c| c.is(name))
    }

    /// The commands of pipeline `index`.
    pub fn pipeline(&self, index: usize) -> impl Iterator<Item = &SimpleCommand> {
        self.commands.iter().filter(move |c| c.pipeline == index)
    }

    /// Whether any pipeline has more than one command.
    pub fn has_pipe(&self) -> bool {
        self.commands.iter().any(|c| c.pipeline_len > 1)
    }
}

const SHELLS: &[&str] = &["sh", "bash", "ash", "dash", "zsh", "ksh", "mksh", "busybox"];

/// The scripts a RUN instruction runs in a POSIX shell, with their starting lines:
/// the shell-form command, and heredoc bodies that are fed to a shell. Exec form is one
/// command. A heredoc fed to another program (`python3 <<EOF`, `cat <<EOF > f`) is data.
pub fn run_script(inst: &Instruction) -> Option<Script> {
    let Args::Run(command) = &inst.args else {
        return None;
    };
    Some(command_script(command, inst))
}

/// A RUN instruction, or an `ONBUILD RUN` trigger, with the script it runs.
#[derive(Debug, Clone)]
pub struct RunScript<'a> {
    /// Index in [`Dockerfile::instructions`] (of the `ONBUILD` for a trigger).
    pub index: usize,
    /// The RUN itself (for a trigger, the RUN that `ONBUILD` wraps).
    pub run: &'a Instruction,
    /// Whether this is an `ONBUILD` trigger: it runs when another image is built `FROM` this one.
    pub onbuild: bool,
    pub script: &'a Script,
}

impl RunScript<'_> {
    /// Where to report `command`: see [`command_span`].
    pub fn span_of(&self, command: &SimpleCommand, facts: &DockerfileFacts) -> Span {
        command_span(self.run, command.line, facts.line_text(command.line))
    }
}

/// Where to report a command on `line` of RUN `run`: the instruction's span, or, when the
/// command sits in a heredoc script (where the RUN's first line says little), that line from
/// its first non-blank character. `line_text` is the text of `line`.
pub fn command_span(run: &Instruction, line: usize, line_text: &str) -> Span {
    let in_heredoc = run
        .heredocs
        .first()
        .is_some_and(|h| line >= h.body_line && line <= run.span.end_line);
    if !in_heredoc {
        return run.span;
    }
    let indent = line_text.chars().take_while(|c| c.is_whitespace()).count();
    Span::new(line, indent + 1, line, line_text.chars().count() + 1)
}

/// Every RUN whose commands can be read, in file order, `ONBUILD RUN` triggers included: exec
/// form always, shell form (with its heredoc scripts) only when the SHELL in effect is a POSIX
/// shell.
pub fn run_scripts(file: &Dockerfile) -> Vec<RunScript<'_>> {
    // Every rule reading RUN commands asks for these: read each script once per file.
    let scripts = file.scripts.get_or_init(|| {
        file.instructions
            .iter()
            .enumerate()
            .map(|(index, inst)| {
                let run = match &inst.args {
                    Args::Onbuild(inner) => inner.as_ref(),
                    _ => inst,
                };
                let Args::Run(command) = &run.args else {
                    return None;
                };
                if matches!(command, Command::Shell(_)) && !is_posix_shell(&shell_at(file, index)) {
                    return None;
                }
                Some(command_script(command, run))
            })
            .collect()
    });
    file.instructions
        .iter()
        .zip(scripts)
        .enumerate()
        .filter_map(|(index, (inst, script))| {
            let script = script.as_ref()?;
            let (run, onbuild) = match &inst.args {
                Args::Onbuild(inner) => (inner.as_ref(), true),
                _ => (inst, false),
            };
            Some(RunScript {
                index,
                run,
                onbuild,
                script,
            })
        })
        .collect()
}

/// The script of a shell- or exec-form command (RUN, CMD, ENTRYPOINT, HEALTHCHECK).
pub fn command_script(command: &Command, inst: &Instruction) -> Script {
    let line = inst.span.line;
    match command {
        Command::Exec(words) => Script {
            commands: vec![SimpleCommand {
                assignments: Vec::new(),
                words: words.clone(),
                line,
                pipeline: 0,
                position: 0,
                pipeline_len: 1,
            }],
        },
        Command::Shell(text) => {
            let mut script = parse_script(text, line);
            for heredoc in script_heredocs(text, &inst.heredocs) {
                let offset = script.commands.last().map_or(0, |c| c.pipeline + 1);
                let mut body = parse_script(&heredoc.body, heredoc.body_line);
                for c in &mut body.commands {
                    c.pipeline += offset;
                }
                script.commands.extend(body.commands);
            }
            // `RUN <<EOF` alone parses as no command besides the heredoc.
            script.commands.retain(|c| !c.words.is_empty());
            script
        }
    }
}

/// The heredocs of an instruction (shell-form text `text`) whose bodies a shell runs: the
/// instruction is only heredoc markers (BuildKit runs the body with the stage's shell, or its
/// shebang), or a shell reads the heredoc (`bash <<EOF`, `sh -e <<EOF`: the marker follows a
/// shell program), or the body's `#!` line names a shell. The text is read once for all the
/// heredocs, so thousands of them cost no more than the line.
pub fn script_heredocs<'h>(
    text: &str,
    heredocs: &'h [super::Heredoc],
) -> impl Iterator<Item = &'h super::Heredoc> {
    let is_marker = |w: &str| {
        w.trim_start_matches(|c: char| c.is_ascii_digit())
            .starts_with("<<")
    };
    let words: Vec<&str> = text.split_whitespace().collect();
    let only_markers = words.iter().all(|w| is_marker(w));
    // Each marker's name, and whether the word before it (flags skipped) is a shell.
    let mut read_by_shell: std::collections::HashMap<String, bool> = Default::default();
    let mut program: Option<&str> = None;
    for word in &words {
        if is_marker(word) {
            if let Ok(Some(marker)) = super::lex::heredoc_word(word) {
                let shell =
                    program.is_some_and(|p| SHELLS.contains(&p.rsplit('/').next().unwrap_or(p)));
                read_by_shell.entry(marker.name).or_insert(shell);
            }
        }
        if !word.starts_with('-') {
            program = Some(word);
        }
    }
    heredocs
        .iter()
        .filter(move |h| match shebang_shell(&h.body) {
            Some(shell) => shell,
            None => only_markers || read_by_shell.get(&h.name).copied().unwrap_or(false),
        })
}

/// Whether a body's `#!` line names a shell; `None` without one.
fn shebang_shell(body: &str) -> Option<bool> {
    let shebang = body.lines().next()?.strip_prefix("#!")?;
    let interpreter = shebang.split_whitespace().last().unwrap_or("");
    let interpreter = interpreter.rsplit('/').next().unwrap_or(interpreter);
    let program = shebang.split_whitespace().next().unwrap_or("");
    let program = program.rsplit('/').next().unwrap_or(program);
    Some(SHELLS.contains(&interpreter) || SHELLS.contains(&program))
}

/// The SHELL in effect for instruction `index` (default `/bin/sh -c`): the last SHELL before it
/// in its stage or, failing that, in the stage it is built `FROM` (an image keeps its parent's
/// SHELL), and so on up.
pub fn shell_at(file: &Dockerfile, index: usize) -> Vec<String> {
    let mut stage = file.stages.iter().rev().find(|s| s.from <= index);
    let mut end = index;
    loop {
        let start = stage.map_or(0, |s| s.from);
        let found = file
            .instructions
            .get(start..end.min(file.instructions.len()))
            .unwrap_or_default()
            .iter()
            .rev()
            .find_map(|i| match &i.args {
                Args::Shell(s) if i.keyword == Keyword::Shell => Some(s.clone()),
                _ => None,
            });
        if let Some(shell) = found {
            return shell;
        }
        match stage.and_then(|s| parent_stage(file, s)) {
            Some(parent) => {
                end = parent.end;
                stage = Some(parent);
            }
            None => return vec!["/bin/sh".into(), "-c".into()],
        }
    }
}

/// Whether instruction `index` is in a stage built from a Windows image, as far as the file
/// tells: a `# escape=`` ` directive, or a base image (followed through parent stages) named
/// `…windows/…`, `…nanoserver…` or `…servercore…`. Without a SHELL instruction, RUN uses
/// `cmd /S /C` there, not `/bin/sh -c`.
pub fn on_windows(file: &Dockerfile, index: usize) -> bool {
    if file.escape == '`' {
        return true;
    }
    let mut stage = file.stages.iter().rev().find(|s| s.from <= index);
    while let Some(parent) = stage.and_then(|s| parent_stage(file, s)) {
        stage = Some(parent);
    }
    let image = stage
        .and_then(|s| file.instructions.get(s.from))
        .and_then(|i| match &i.args {
            Args::From { image, .. } => Some(image.to_ascii_lowercase()),
            _ => None,
        })
        .unwrap_or_default();
    ["windows/", "nanoserver", "servercore"]
        .iter()
        .any(|w| image.contains(w))
}

/// The earlier stage that `stage` is built `FROM`, by name as written (no ARG expansion).
fn parent_stage<'a>(file: &'a Dockerfile, stage: &Stage) -> Option<&'a Stage> {
    let Args::From { image, .. } = &file.instructions.get(stage.from)?.args else {
        return None;
    };
    let name = image.to_ascii_lowercase();
    file.stages
        .get(..stage.index)?
        .iter()
        .rev()
        .find(|s| s.name.as_deref() == Some(name.as_str()))
}

/// Whether a SHELL runs a POSIX shell (rules about shell syntax only apply then).
pub fn is_posix_shell(shell: &[String]) -> bool {
    shell.first().is_some_and(|p| {
        let name = p.rsplit(['/', '\\']).next().unwrap_or(p);
        SHELLS.contains(&name)
    })
}

fn is_assignment(word: &str) -> bool {
    match word.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit())
        }
        None => false,
    }
}

#[derive(Debug, PartialEq)]
enum Token {
    Word(String),
    /// `|` or `|&`
    Pipe,
    /// `&&`, `||`, `;`, `&`, newline, `(`, `)`, `;;`
    Separator,
}

/// How deep `$(…)` and backtick substitutions are parsed: real scripts nest two or three; a
/// file nesting thousands would otherwise exhaust the stack. Commands nested deeper are not
/// seen by the rules.
const MAX_SUBSTITUTION_DEPTH: usize = 16;

/// Parses shell text; `first_line` is the absolute line of its first line.
pub fn parse_script(text: &str, first_line: usize) -> Script {
    parse_nested(text, first_line, 0)
}

fn parse_nested(text: &str, first_line: usize, depth: usize) -> Script {
    let mut script = Script::default();
    let mut pipelines: Vec<Vec<SimpleCommand>> = Vec::new();
    let mut pipeline: Vec<SimpleCommand> = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let mut current_line = first_line;
    let mut substitutions: Vec<(String, usize)> = Vec::new();
    let tokens = tokenize(text, first_line, &mut substitutions);
    let flush_command =
        |current: &mut Vec<String>, pipeline: &mut Vec<SimpleCommand>, line: usize| {
            if let Some(cmd) = simple_command(std::mem::take(current), line) {
                pipeline.push(cmd);
            }
        };
    for (token, line) in tokens {
        match token {
            Token::Word(w) => {
                if current.is_empty() {
                    current_line = line;
                }
                current.push(w);
            }
            Token::Pipe => {
                // `{ …; } | b`, `( … ) | b`, `done | b`: the compound command's output is
                // piped, and its status is its last command's; that command feeds the pipe.
                let closes_compound = current.is_empty()
                    || (current.len() == 1 && END_WORDS.contains(&current[0].as_str()));
                if closes_compound && pipeline.is_empty() {
                    current.clear();
                    if let Some(previous) = pipelines.pop() {
                        pipeline = previous;
                    }
                } else {
                    flush_command(&mut current, &mut pipeline, current_line);
                }
            }
            Token::Separator => {
                flush_command(&mut current, &mut pipeline, current_line);
                if !pipeline.is_empty() {
                    pipelines.push(std::mem::take(&mut pipeline));
                }
            }
        }
    }
    flush_command(&mut current, &mut pipeline, current_line);
    if !pipeline.is_empty() {
        pipelines.push(pipeline);
    }
    if depth >= MAX_SUBSTITUTION_DEPTH {
        substitutions.clear();
    }
    for (text, line) in substitutions {
        let inner = parse_nested(&text, line, depth + 1);
        let mut by_pipeline: Vec<Vec<SimpleCommand>> = Vec::new();
        for c in inner.commands {
            if by_pipeline.len() <= c.pipeline {
                by_pipeline.resize(c.pipeline + 1, Vec::new());
            }
            by_pipeline[c.pipeline].push(c);
        }
        pipelines.extend(by_pipeline.into_iter().filter(|p| !p.is_empty()));
    }
    for (index, commands) in pipelines.into_iter().enumerate() {
        let len = commands.len();
        for (position, mut c) in commands.into_iter().enumerate() {
            c.pipeline = index;
            c.position = position;
            c.pipeline_len = len;
            script.commands.push(c);
        }
    }
    script
}

/// Reserved words that may precede a command (`if apt-get …; then apt-get …; fi`).
const PREFIX_WORDS: &[&str] = &[
    "if", "then", "else", "elif", "do", "while", "until", "!", "{",
];
const END_WORDS: &[&str] = &["fi", "done", "esac", "}"];

fn simple_command(mut words: Vec<String>, line: usize) -> Option<SimpleCommand> {
    while words
        .first()
        .is_some_and(|w| PREFIX_WORDS.contains(&w.as_str()))
    {
        words.remove(0);
    }
    if words
        .first()
        .is_some_and(|w| END_WORDS.contains(&w.as_str()))
    {
        return None;
    }
    if words
        .first()
        .is_some_and(|w| w == "for" || w == "case" || w == "function")
    {
        return None;
    }
    let mut assignments = Vec::new();
    while words.first().is_some_and(|w| is_assignment(w)) {
        let w = words.remove(0);
        let (k, v) = w.split_once('=').unwrap_or((&w, ""));
        assignments.push((k.to_string(), v.to_string()));
    }
    if words.is_empty() && assignments.is_empty() {
        return None;
    }
    Some(SimpleCommand {
        assignments,
        words,
        line,
        pipeline: 0,
        position: 0,
        pipeline_len: 1,
    })
}

/// Splits shell text into words and operators, removing quotes, skipping comments and
/// here-document bodies, and collecting `$(…)`/backtick substitutions for separate parsing.
fn tokenize(text: &str, first_line: usize, subs: &mut Vec<(String, usize)>) -> Vec<(Token, usize)> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut line = first_line;
    let mut pending_heredocs: Vec<(String, bool)> = Vec::new();
    let mut i = 0;
    // Inside a `case` statement's pattern list (`a|b)`): words are patterns, `|` separates
    // alternatives, `)` ends the list.
    let mut in_patterns = false;
    macro_rules! end_word {
        () => {
            if in_word {
                let w = std::mem::take(&mut word);
                in_word = false;
                if !in_patterns {
                    tokens.push((Token::Word(w), line));
                    in_patterns = opens_case_patterns(&tokens);
                } else if w == "esac" {
                    tokens.push((Token::Word(w), line));
                    in_patterns = false;
                }
            }
        };
    }
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                match chars.get(i + 1) {
                    Some('\n') => line += 1,
                    Some(&n) => {
                        word.push(n);
                        in_word = true;
                    }
                    None => {}
                }
                i += 2;
            }
            '\'' => {
                in_word = true;
                i += 1;
                while i < chars.len() && chars[i] != '\'' {
                    if chars[i] == '\n' {
                        line += 1;
                    }
                    word.push(chars[i]);
                    i += 1;
                }
                i += 1;
            }
            '"' => {
                in_word = true;
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    match chars[i] {
                        '\\' if matches!(chars.get(i + 1), Some('"' | '\\' | '$' | '`')) => {
                            word.push(chars[i + 1]);
                            i += 2;
                            continue;
                        }
                        '$' if chars.get(i + 1) == Some(&'(') => {
                            let end = matching_paren(&chars, i + 2);
                            let inner: String = chars[i + 2..end.min(chars.len())].iter().collect();
                            word.extend(&chars[i..(end + 1).min(chars.len())]);
                            subs.push((inner, line));
                            i = end + 1;
                            continue;
                        }
                        '\n' => line += 1,
                        _ => {}
                    }
                    word.push(chars[i]);
                    i += 1;
                }
                i += 1;
            }
            '`' => {
                let start = i + 1;
                let mut end = start;
                while end < chars.len() && chars[end] != '`' {
                    end += 1;
                }
                subs.push((chars[start..end.min(chars.len())].iter().collect(), line));
                word.extend(&chars[i..(end + 1).min(chars.len())]);
                in_word = true;
                i = end + 1;
            }
            '$' if chars.get(i + 1) == Some(&'(') => {
                let end = matching_paren(&chars, i + 2);
                if chars.get(i + 2) != Some(&'(') {
                    subs.push((chars[i + 2..end.min(chars.len())].iter().collect(), line));
                }
                word.extend(&chars[i..(end + 1).min(chars.len())]);
                in_word = true;
                i = end + 1;
            }
            '#' if !in_word => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '\n' => {
                end_word!();
                tokens.push((Token::Separator, line));
                line += 1;
                i += 1;
                for (delimiter, strip) in std::mem::take(&mut pending_heredocs) {
                    // Skip the here-document body.
                    while i < chars.len() {
                        let end = chars[i..]
                            .iter()
                            .position(|&c| c == '\n')
                            .map_or(chars.len(), |p| i + p);
                        let body_line: String = chars[i..end].iter().collect();
                        i = end + 1;
                        line += 1;
                        let candidate = if strip {
                            body_line.trim_start_matches('\t')
                        } else {
                            &body_line
                        };
                        if candidate == delimiter {
                            break;
                        }
                    }
                }
            }
            ' ' | '\t' | '\r' => {
                end_word!();
                i += 1;
            }
            '|' if in_patterns => {
                end_word!();
                i += 1;
            }
            '|' => {
                end_word!();
                if chars.get(i + 1) == Some(&'|') {
                    tokens.push((Token::Separator, line));
                    i += 2;
                } else {
                    tokens.push((Token::Pipe, line));
                    i += if chars.get(i + 1) == Some(&'&') { 2 } else { 1 };
                }
            }
            '&' => {
                end_word!();
                if chars.get(i + 1) == Some(&'>') {
                    // `&>file` redirect: skip operator and target word.
                    i += 2;
                    skip_redirect_target(&chars, &mut i);
                    continue;
                }
                tokens.push((Token::Separator, line));
                i += if chars.get(i + 1) == Some(&'&') { 2 } else { 1 };
            }
            '(' | ')' if in_patterns => {
                end_word!();
                if c == ')' {
                    in_patterns = false;
                    tokens.push((Token::Separator, line));
                }
                i += 1;
            }
            ';' if chars.get(i + 1) == Some(&';') || chars.get(i + 1) == Some(&'&') => {
                // `;;`, `;&`, `;;&` end a case item: patterns (or `esac`) follow.
                if in_word && !in_patterns {
                    tokens.push((Token::Word(std::mem::take(&mut word)), line));
                }
                word.clear();
                in_word = false;
                tokens.push((Token::Separator, line));
                i += 2;
                if chars.get(i) == Some(&'&') {
                    i += 1;
                }
                in_patterns = true;
            }
            ';' | '(' | ')' => {
                end_word!();
                tokens.push((Token::Separator, line));
                i += 1;
            }
            '<' | '>' => {
                // A redirect: drop the operator, its fd prefix and its target word.
                if in_word && word.chars().all(|c| c.is_ascii_digit()) {
                    word.clear();
                    in_word = false;
                }
                end_word!();
                if c == '<' && chars.get(i + 1) == Some(&'<') && chars.get(i + 2) != Some(&'<') {
                    i += 2;
                    let strip = chars.get(i) == Some(&'-');
                    if strip {
                        i += 1;
                    }
                    let start = i;
                    skip_redirect_target(&chars, &mut i);
                    let raw: String = chars[start..i].iter().collect();
                    let delimiter: String = raw
                        .trim()
                        .chars()
                        .filter(|c| *c != '\'' && *c != '"' && *c != '\\')
                        .collect();
                    if !delimiter.is_empty() {
                        pending_heredocs.push((delimiter, strip));
                    }
                    continue;
                }
                while i < chars.len() && matches!(chars[i], '<' | '>' | '&' | '|') {
                    i += 1;
                }
                skip_redirect_target(&chars, &mut i);
            }
            _ => {
                word.push(c);
                in_word = true;
                i += 1;
            }
        }
    }
    if in_word {
        tokens.push((Token::Word(word), line));
    }
    tokens
}

/// Whether `tokens` end with `case WORD in` at the start of a command.
fn opens_case_patterns(tokens: &[(Token, usize)]) -> bool {
    let n = tokens.len();
    if n < 3 {
        return false;
    }
    let word = |i: usize| match tokens.get(i) {
        Some((Token::Word(w), _)) => Some(w.as_str()),
        _ => None,
    };
    if word(n - 1) != Some("in") || word(n - 3) != Some("case") {
        return false;
    }
    match n.checked_sub(4).and_then(|i| tokens.get(i)).map(|(t, _)| t) {
        None | Some(Token::Separator | Token::Pipe) => true,
        Some(Token::Word(w)) => PREFIX_WORDS.contains(&w.as_str()),
    }
}

/// Advances past blanks and one word (a redirect's target).
fn skip_redirect_target(chars: &[char], i: &mut usize) {
    while *i < chars.len() && matches!(chars[*i], ' ' | '\t') {
        *i += 1;
    }
    let mut quote: Option<char> = None;
    while *i < chars.len() {
        let c = chars[*i];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c.is_whitespace() || matches!(c, ';' | '&' | '|' | '(' | ')' | '<' | '>') => {
                return
            }
            None => {}
        }
        *i += 1;
    }
}

/// Index of the `)` closing a `$(` whose content starts at `from` (or the end of input).
fn matching_paren(chars: &[char], from: usize) -> usize {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut i = from;
    while i < chars.len() {
        let c = chars[i];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '\'' | '"' => quote = Some(c),
                '\\' => i += 1,
                '(' => depth += 1,
                ')' if depth == 0 => return i,
                ')' => depth -= 1,
                _ => {}
            },
        }
        i += 1;
    }
    chars.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dockerfile::parse;

    fn words(script: &Script) -> Vec<Vec<&str>> {
        script
            .commands
            .iter()
            .map(|c| c.words.iter().map(String::as_str).collect())
            .collect()
    }

    #[test]
    fn lists_and_pipelines() {
        let s = parse_script(
            "apt-get update && apt-get install -y curl || true; curl -sL https://x | sh -",
            1,
        );
        assert_eq!(
            words(&s),
            vec![
                vec!["apt-get", "update"],
                vec!["apt-get", "install", "-y", "curl"],
                vec!["true"],
                vec!["curl", "-sL", "https://x"],
                vec!["sh", "-"],
            ]
        );
        assert!(s.has_pipe());
        assert_eq!(s.commands[4].position, 1);
        assert_eq!(s.commands[4].pipeline, s.commands[3].pipeline);
        assert_ne!(s.commands[1].pipeline, s.commands[0].pipeline);
    }

    #[test]
    fn compound_commands_feed_pipes() {
        for (text, feeder) in [
            ("{ echo a; printf b; } | tee /x", "printf"),
            ("(cd /src && make) | tee /x", "make"),
            ("for f in *; do echo $f; done | tee /x", "echo"),
            ("if true; then printf b; fi | tee /x", "printf"),
        ] {
            let s = parse_script(text, 1);
            let tee = s.commands.iter().find(|c| c.is("tee")).unwrap();
            let pipe: Vec<_> = s.pipeline(tee.pipeline).collect();
            assert_eq!(pipe.len(), 2, "{text}");
            assert!(pipe[0].is(feeder) && pipe[0].position == 0, "{text}");
        }
        // Only the compound's last command joins the pipe.
        let s = parse_script("{ apt-get update; echo b; } | tee /x", 1);
        assert_eq!(s.commands[0].pipeline_len, 1);
    }

    #[test]
    fn quotes_assignments_and_redirects() {
        let s = parse_script(
            "DEBIAN_FRONTEND=noninteractive apt-get install -y 'a b' \"c\" > /dev/null 2>&1",
            1,
        );
        assert_eq!(
            s.commands[0].assignments,
            vec![("DEBIAN_FRONTEND".into(), "noninteractive".into())]
        );
        assert_eq!(
            words(&s),
            vec![vec!["apt-get", "install", "-y", "a b", "c"]]
        );
        assert!(!s.has_pipe());
    }

    #[test]
    fn substitutions_and_control_flow() {
        let s = parse_script("if [ -f x ]; then echo $(curl -s https://x | sh); fi", 1);
        let w = words(&s);
        assert!(w.contains(&vec!["[", "-f", "x", "]"]));
        assert!(w.contains(&vec!["curl", "-s", "https://x"]));
        assert!(w.contains(&vec!["sh"]));
        assert!(s.has_pipe());
    }

    #[test]
    fn nested_substitutions_are_parsed_to_a_bounded_depth() {
        let nested = |depth: usize| {
            format!(
                "echo {}$(curl -k https://x){}",
                "$(echo ".repeat(depth - 1),
                ")".repeat(depth - 1)
            )
        };
        let shallow = parse_script(&nested(3), 1);
        let w = words(&shallow);
        assert!(w.contains(&vec!["curl", "-k", "https://x"]), "{w:?}");
        // Fifty thousand levels used to overflow the stack; now they stop at the limit.
        let deep = parse_script(&nested(50_000), 1);
        assert!(!words(&deep).iter().any(|c| c.first() == Some(&"curl")));
        let backticks = format!("echo {}`curl x`{}", "$(".repeat(20_000), ")".repeat(20_000));
        assert!(!parse_script(&backticks, 1).commands.is_empty());
    }

    #[test]
    fn flags_and_wrappers() {
        let s = parse_script(
            "sudo -E apt-get install -qy --no-install-recommends curl=7.0",
            1,
        );
        let c = s.find("apt-get").next().expect("apt-get");
        assert!(c.has_flag(Some('y'), Some("yes")));
        assert!(c.has_flag(None, Some("no-install-recommends")));
        assert!(!c.has_flag(Some('x'), None));
        assert_eq!(c.subcommand(), Some("install"));
        assert_eq!(
            c.positional().collect::<Vec<_>>(),
            vec!["install", "curl=7.0"]
        );
    }

    #[test]
    fn nested_heredoc_body_is_skipped() {
        let s = parse_script(
            "cat <<EOF > /etc/x\napt-get install foo\nEOF\necho done\n",
            10,
        );
        assert_eq!(words(&s), vec![vec!["cat"], vec!["echo", "done"]]);
        assert_eq!(s.commands[1].line, 13);
    }

    #[test]
    fn run_heredoc_is_a_script_with_lines() {
        let file =
            parse("FROM a\nRUN <<EOF\nset -e\napt-get update\napt-get install -y curl\nEOF\n");
        let script = run_script(&file.instructions[1]).expect("RUN");
        assert_eq!(script.commands.len(), 3);
        assert_eq!(script.commands[2].line, 5);
    }

    #[test]
    fn heredoc_fed_to_another_program_is_data() {
        let file = parse("FROM a\nRUN python3 <<EOF\nimport os\nos.system('sudo x')\nEOF\nRUN cat <<EOF > /x\nsudo rm -rf /\nEOF\nRUN bash <<EOF\nsudo true\nEOF\n");
        let py = run_script(&file.instructions[1]).expect("RUN");
        assert_eq!(words(&py), vec![vec!["python3"]]);
        let cat = run_script(&file.instructions[2]).expect("RUN");
        assert_eq!(words(&cat), vec![vec!["cat"]]);
        let bash = run_script(&file.instructions[3]).expect("RUN");
        assert!(words(&bash).contains(&vec!["sudo", "true"]));
    }

    #[test]
    fn shell_is_inherited_from_a_parent_stage() {
        let file = parse(
            "FROM a AS win\nSHELL [\"pwsh\", \"-c\"]\nFROM win AS child\nRUN x\nFROM b\nRUN y\n",
        );
        assert!(!is_posix_shell(&shell_at(&file, 3)));
        assert!(is_posix_shell(&shell_at(&file, 5)));
    }

    #[test]
    fn run_scripts_skip_non_posix_shells_and_include_triggers() {
        let file = parse(
            "FROM a\nRUN echo 1\nONBUILD RUN sudo x\nSHELL [\"pwsh\", \"-c\"]\nRUN Get-Item x | y\nRUN [\"sudo\", \"y\"]\n",
        );
        let runs = run_scripts(&file);
        let found: Vec<(usize, bool)> = runs.iter().map(|r| (r.index, r.onbuild)).collect();
        assert_eq!(found, vec![(1, false), (2, true), (5, false)]);
        assert!(runs[1].script.find("x").next().is_some());
    }

    #[test]
    fn heredoc_commands_are_reported_at_their_line() {
        let src = "FROM a\nRUN echo 1 && \\\n  echo 2\nRUN <<EOF\nset -e\nsudo make\nEOF\n";
        let file = parse(src);
        let runs = run_scripts(&file);
        let line = |n: usize| src.lines().nth(n - 1).unwrap_or("");
        let continued = &runs[0];
        let command = &continued.script.commands[1];
        assert_eq!(
            command_span(continued.run, command.line, line(command.line)),
            continued.run.span
        );
        let heredoc = &runs[1];
        let command = &heredoc.script.commands[1];
        let span = command_span(heredoc.run, command.line, line(command.line));
        assert_eq!((span.line, span.column, span.end_column), (6, 1, 10));
        // An indented heredoc line is reported from its first non-blank character.
        let src = "FROM a\nRUN <<EOF\n  sudo make\nEOF\n";
        let file = parse(src);
        let runs = run_scripts(&file);
        let span = command_span(runs[0].run, 3, "  sudo make");
        assert_eq!((span.line, span.column, span.end_column), (3, 3, 12));
    }

    #[test]
    fn case_patterns_are_not_commands_or_pipes() {
        let s = parse_script(
            "case \"$a\" in\n  dev|beta|fix*) sed -i x f ;;\n  'amd64') url=x ;;\n  *) exit 1 ;;\nesac; echo done | tee x",
            1,
        );
        assert_eq!(
            words(&s),
            vec![
                vec!["sed", "-i", "x", "f"],
                vec![],
                vec!["exit", "1"],
                vec!["echo", "done"],
                vec!["tee", "x"],
            ]
        );
        assert_eq!(s.commands.iter().filter(|c| c.pipeline_len > 1).count(), 2);
        let s = parse_script("if x; then case $y in (a|b) z ;; esac; fi", 1);
        assert_eq!(words(&s), vec![vec!["x"], vec!["z"]]);
    }

    #[test]
    fn windows_images_are_recognised() {
        let file =
            parse("# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN dir\n");
        assert!(on_windows(&file, 1));
        let file =
            parse("ARG REPO=x\nFROM $REPO:8.0-nanoserver-1809 AS base\nFROM base\nRUN dir\n");
        assert!(on_windows(&file, 4));
        let file = parse("FROM mcr.microsoft.com/dotnet/sdk:8.0\nRUN dotnet build\n");
        assert!(!on_windows(&file, 1));
    }

    #[test]
    fn operands_skip_option_values() {
        let s = parse_script("dnf --enablerepo epel install -y -x foo bar -- -baz", 1);
        let c = &s.commands[0];
        assert_eq!(
            c.operands(&["--enablerepo", "-x"]),
            vec!["install", "bar", "-baz"]
        );
    }

    #[test]
    fn shell_at_follows_shell_instructions_per_stage() {
        let file = parse("FROM a\nSHELL [\"pwsh\", \"-c\"]\nRUN x\nFROM b\nRUN y\n");
        assert!(!is_posix_shell(&shell_at(&file, 2)));
        assert!(is_posix_shell(&shell_at(&file, 4)));
    }
}
