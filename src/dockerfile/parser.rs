//! The Dockerfile parser: lines → logical instructions → typed arguments.
//!
//! It follows BuildKit's frontend where the two could differ: parser directives only at the top,
//! continuation lines joined by removing the escape and newline, comment and blank lines inside
//! a continuation dropped, heredocs read after the logical line, JSON (exec) form tried first.

use super::ast::*;
use crate::finding::Span;

/// Parses a Dockerfile. Never fails: problems are recorded in [`Dockerfile::errors`] and
/// parsing resumes at the next instruction.
pub fn parse(source: &str) -> Dockerfile {
    let text = source.strip_prefix('\u{feff}').unwrap_or(source);
    if let Some(refused) = too_long_line(source, text) {
        return refused;
    }
    // BuildKit trims every trailing CR and LF of a line (`trimNewline`), not just one CR: a
    // heredoc terminator or a continuation followed by `\r\r` is still one.
    let lines: Vec<&str> = text.split('\n').map(|l| l.trim_end_matches('\r')).collect();
    let mut parser = Parser {
        lines: &lines,
        pos: 0,
        file: Dockerfile {
            source: source.to_string(),
            escape: '\\',
            ..Dockerfile::default()
        },
    };
    parser.directives();
    parser.body();
    parser.stages();
    parser.file
}

/// The longest line BuildKit reads: its line scanner's buffer is 64 KiB, and a longer line
/// (its newline included) fails the whole file ("dockerfile line greater than max allowed
/// size of 65535").
pub const MAX_LINE_BYTES: usize = 65_535;

/// A file with a line BuildKit refuses: nothing but that error, read in one pass over the
/// bytes, so a hostile single-line file costs no more than its length.
fn too_long_line(source: &str, text: &str) -> Option<Dockerfile> {
    let mut line = 0;
    for piece in text.split('\n') {
        line += 1;
        if piece.len() > MAX_LINE_BYTES {
            return Some(Dockerfile {
                source: source.to_string(),
                escape: '\\',
                errors: vec![ParseError {
                    span: Span::new(line, 1, line, 2),
                    message: format!(
                        "line {line} is {} bytes long; BuildKit reads lines of at most \
                         {MAX_LINE_BYTES} bytes and refuses the whole file",
                        piece.len()
                    ),
                }],
                ..Dockerfile::default()
            });
        }
    }
    None
}

struct Parser<'a> {
    lines: &'a [&'a str],
    /// Index of the next unread line (0-based).
    pos: usize,
    file: Dockerfile,
}

const DIRECTIVES: &[&str] = &["syntax", "escape", "check"];

/// A logical line: an instruction's text with its continuations joined.
struct Logical {
    first_line: usize,
    keyword_column: usize,
    last_line: usize,
    text: String,
}

impl Parser<'_> {
    /// Parser directives: `# name=value` lines at the very top of the file.
    fn directives(&mut self) {
        while let Some(line) = self.lines.get(self.pos) {
            let Some((name, value)) = directive(line.trim_start(), "#") else {
                return;
            };
            let line_no = self.pos + 1;
            if self.file.directives.iter().any(|d| d.name == name) {
                self.error(line_no, 1, format!("parser directive `{name}` given twice"));
            } else if name == "escape" {
                match value.as_str() {
                    "\\" => self.file.escape = '\\',
                    "`" => self.file.escape = '`',
                    other => self.error(
                        line_no,
                        1,
                        format!("invalid escape character `{other}`; must be ` or \\"),
                    ),
                }
            }
            self.file.directives.push(Directive {
                name,
                value,
                line: line_no,
            });
            self.pos += 1;
        }
    }

    fn body(&mut self) {
        while self.pos < self.lines.len() {
            let line = self.lines[self.pos];
            let trimmed = line.trim_start();
            if trimmed.is_empty() {
                self.pos += 1;
                continue;
            }
            if trimmed.starts_with('#') {
                self.comment(self.pos, false);
                self.pos += 1;
                continue;
            }
            let logical = self.logical_line();
            if let Some(instruction) = self.instruction(&logical) {
                self.file.instructions.push(instruction);
            }
        }
    }

    fn comment(&mut self, index: usize, inside_instruction: bool) {
        let line = self.lines[index];
        let column = line.len() - line.trim_start().len();
        let text = line.trim_start()[1..].trim().to_string();
        self.file.comments.push(Comment {
            line: index + 1,
            column: char_column(line, column),
            text,
            inside_instruction,
        });
    }

    /// Reads one instruction's physical lines, joining continuations.
    fn logical_line(&mut self) -> Logical {
        let escape = self.file.escape;
        let first = self.pos;
        let line = self.lines[first];
        let indent = line.len() - line.trim_start().len();
        let mut text = String::new();
        let mut current = &line[indent..];
        loop {
            let (content, continues) = strip_continuation(current, escape);
            text.push_str(content);
            let last = self.pos;
            self.pos += 1;
            if !continues {
                return Logical {
                    first_line: first + 1,
                    keyword_column: char_column(line, indent),
                    last_line: last + 1,
                    text,
                };
            }
            // Blank and comment lines inside a continuation are dropped.
            while let Some(next) = self.lines.get(self.pos) {
                let t = next.trim_start();
                if t.is_empty() {
                    self.pos += 1;
                } else if t.starts_with('#') {
                    self.comment(self.pos, true);
                    self.pos += 1;
                } else {
                    break;
                }
            }
            match self.lines.get(self.pos) {
                Some(next) => current = next,
                None => {
                    return Logical {
                        first_line: first + 1,
                        keyword_column: char_column(line, indent),
                        last_line: self.pos,
                        text,
                    }
                }
            }
        }
    }

    fn instruction(&mut self, logical: &Logical) -> Option<Instruction> {
        let (word, rest) = split_keyword(&logical.text);
        let Some(keyword) = Keyword::parse(word) else {
            self.error(
                logical.first_line,
                logical.keyword_column,
                format!("unknown instruction `{word}`"),
            );
            return None;
        };
        let mut heredocs = Vec::new();
        let mut last_line = logical.last_line;
        if can_contain_heredoc(keyword, rest, self.file.escape) && logical.text.contains("<<") {
            let markers = match heredoc_markers(&logical.text) {
                Ok(markers) => markers,
                Err(message) => {
                    self.error(logical.first_line, logical.keyword_column, message);
                    return None;
                }
            };
            for marker in markers {
                match self.heredoc_body(&marker) {
                    Ok(heredoc) => heredocs.push(heredoc),
                    Err(message) => {
                        self.error(logical.first_line, logical.keyword_column, message);
                        return None;
                    }
                }
                last_line = self.pos;
            }
        }
        let end_text = self.lines.get(last_line - 1).copied().unwrap_or("");
        let span = Span::new(
            logical.first_line,
            logical.keyword_column,
            last_line,
            end_text.chars().count() + 1,
        );
        match build(keyword, rest, self.file.escape, span, heredocs) {
            Ok(instruction) => Some(instruction),
            Err(message) => {
                self.error(logical.first_line, logical.keyword_column, message);
                None
            }
        }
    }

    /// Reads a heredoc body up to its delimiter line.
    fn heredoc_body(&mut self, marker: &HeredocMarker) -> Result<Heredoc, String> {
        let body_line = self.pos + 1;
        let mut body = String::new();
        while let Some(line) = self.lines.get(self.pos) {
            self.pos += 1;
            let candidate = if marker.strip_tabs {
                line.trim_start_matches('\t')
            } else {
                line
            };
            if candidate == marker.name {
                return Ok(Heredoc {
                    name: marker.name.clone(),
                    strip_tabs: marker.strip_tabs,
                    quoted: marker.quoted,
                    body,
                    body_line,
                });
            }
            body.push_str(candidate);
            body.push('\n');
        }
        Err(format!(
            "heredoc `{}` is not terminated: no line `{}` before the end of the file",
            marker.name, marker.name
        ))
    }

    /// Splits the instructions into stages and checks what may come before the first FROM.
    fn stages(&mut self) {
        let mut stages: Vec<Stage> = Vec::new();
        let mut misplaced = Vec::new();
        for (i, inst) in self.file.instructions.iter().enumerate() {
            if let Args::From { alias, .. } = &inst.args {
                if let Some(prev) = stages.last_mut() {
                    prev.end = i;
                }
                stages.push(Stage {
                    index: stages.len(),
                    name: alias.as_ref().map(|a| a.to_ascii_lowercase()),
                    from: i,
                    end: self.file.instructions.len(),
                });
            } else if stages.is_empty() && inst.keyword != Keyword::Arg {
                misplaced.push((inst.span, inst.keyword));
            }
        }
        for (span, keyword) in misplaced {
            self.error(
                span.line,
                span.column,
                format!(
                    "`{}` before the first FROM: only ARG may come before FROM",
                    keyword.as_str()
                ),
            );
        }
        if stages.is_empty() && !self.file.instructions.is_empty() {
            self.error(
                1,
                1,
                "no FROM instruction: the file has no build stage".into(),
            );
        }
        self.file.stages = stages;
    }

    fn error(&mut self, line: usize, column: usize, message: String) {
        let len = self
            .lines
            .get(line.saturating_sub(1))
            .map_or(0, |l| l.chars().count());
        self.file.errors.push(ParseError {
            span: Span::new(line, column, line, len.max(column) + 1),
            message,
        });
    }
}

/// `# name=value` if `line` is a known parser directive, read as BuildKit's `DirectiveParser`
/// reads it: the comment marker at the start, Unicode blanks after it, then
/// `^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$` where `\s` is an ASCII blank only. Anything else
/// (an empty value, a non-ASCII blank around `=`, an unknown name) is no directive, and ends
/// the directive block.
fn directive(line: &str, marker: &str) -> Option<(String, String)> {
    let body = line.strip_prefix(marker)?.trim_start();
    let is_blank = |c: char| matches!(c, '\t' | '\n' | '\x0c' | '\r' | ' ');
    let name_end = body
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())))
        .map_or(body.len(), |(i, _)| i);
    if name_end == 0 {
        return None;
    }
    let after = body[name_end..]
        .trim_start_matches(is_blank)
        .strip_prefix('=')?;
    let mut value = after
        .trim_start_matches(is_blank)
        .trim_end_matches(is_blank);
    if value.is_empty() {
        // `(.+?)` needs one character: of an all-blank value the pattern keeps the last one.
        let last = after.char_indices().last()?.0;
        value = &after[last..];
    }
    let name = body[..name_end].to_ascii_lowercase();
    DIRECTIVES
        .contains(&name.as_str())
        .then(|| (name, value.to_string()))
}

/// The frontend image the `# syntax=` directive names, and its line, found as BuildKit's
/// `DetectSyntax` finds it (the builder pulls and runs this image): after a byte-order mark
/// and a `#!` first line, in the directive block written with `#` at the start of the line,
/// else with `//`, else in a file that is one JSON object with a `syntax` string. Only the
/// value's first space-separated word is the image.
pub fn detect_syntax(source: &str) -> Option<(String, usize)> {
    let text = source.strip_prefix('\u{feff}').unwrap_or(source);
    let (text, first_line) = match text.split_once('\n') {
        Some((first, rest)) if first.starts_with("#!") => (rest, 2),
        None if text.starts_with("#!") => ("", 2),
        _ => (text, 1),
    };
    for marker in ["#", "//"] {
        // Go's line scanner drops one trailing CR; the directive pattern trims the rest.
        for (i, line) in text.split('\n').enumerate() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            let Some((name, value)) = directive(line, marker) else {
                break;
            };
            if name == "syntax" {
                let image = value.split(' ').next().unwrap_or_default();
                return Some((image.to_string(), first_line + i));
            }
        }
    }
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text).ok()?;
    match object.get("syntax") {
        Some(serde_json::Value::String(value)) => Some((value.clone(), first_line)),
        _ => None,
    }
}

/// The column (1-based, in characters) of byte offset `byte` in `line`.
fn char_column(line: &str, byte: usize) -> usize {
    line[..byte.min(line.len())].chars().count() + 1
}

/// Removes a trailing line continuation (escape then optional blanks), as BuildKit does. An
/// escape preceded by another escape (`C:\\`) is an escaped escape, not a continuation.
fn strip_continuation(line: &str, escape: char) -> (&str, bool) {
    let trimmed = line.trim_end_matches([' ', '\t']);
    match trimmed.strip_suffix(escape) {
        Some(content) if !content.ends_with(escape) => (content, true),
        _ => (line, false),
    }
}

/// The first word and the text after it, split as BuildKit's `splitCommand` splits them: the
/// line trimmed of Unicode blanks, then cut at the first run of ASCII ones (`[\t\v\f\r ]+`).
/// `RUN\u{a0}echo` is one word, an unknown instruction, for BuildKit as here.
fn split_keyword(text: &str) -> (&str, &str) {
    let text = text.trim();
    let is_blank = |c: char| matches!(c, '\t' | '\x0b' | '\x0c' | '\r' | ' ');
    match text.find(is_blank) {
        Some(end) => (&text[..end], text[end..].trim_start()),
        None => (text, ""),
    }
}

struct HeredocMarker {
    name: String,
    strip_tabs: bool,
    quoted: bool,
}

/// Whether BuildKit reads heredocs for this instruction (`canContainHeredoc`): RUN, COPY and
/// ADD, also as an ONBUILD trigger, and not in JSON (exec) form.
fn can_contain_heredoc(keyword: Keyword, rest: &str, escape: char) -> bool {
    let (keyword, rest) = match keyword {
        Keyword::Onbuild => {
            let (word, inner) = split_keyword(rest);
            match Keyword::parse(word) {
                Some(inner_keyword) => (inner_keyword, inner),
                None => return false,
            }
        }
        _ => (keyword, rest),
    };
    if !matches!(keyword, Keyword::Run | Keyword::Copy | Keyword::Add) {
        return false;
    }
    let (_, args) = take_flags(rest, escape);
    json_array(args).is_none()
}

/// Heredoc markers in an instruction's whole line, in order, as BuildKit's
/// `heredocsFromLine` finds them: the line split into words by its shell lexer, each word
/// that is a marker (`<<EOF`, `<<-"EOF"`, `5<<EOF`, `<< EOF`) counting. `Err` where BuildKit
/// rejects the file.
fn heredoc_markers(line: &str) -> Result<Vec<HeredocMarker>, String> {
    let mut markers = Vec::new();
    for word in super::lex::heredoc_line_words(line) {
        if let Some(found) = super::lex::heredoc_word(&word)? {
            markers.push(HeredocMarker {
                name: found.name,
                strip_tabs: found.chomp,
                quoted: !found.expand,
            });
        }
    }
    Ok(markers)
}

/// Splits on unquoted whitespace, keeping quotes and escapes in the words (BuildKit's
/// `parseWords`).
pub(crate) fn split_words(text: &str, escape: char) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    let mut in_word = false;
    while let Some(c) = chars.next() {
        if c == escape {
            word.push(c);
            if let Some(next) = chars.next() {
                word.push(next);
            }
            in_word = true;
            continue;
        }
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                }
                word.push(c);
            }
            None if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            None => {
                if c == '\'' || c == '"' {
                    quote = Some(c);
                }
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// Removes quotes and processes escapes, without expanding variables.
pub(crate) fn unquote(word: &str, escape: char) -> String {
    let mut out = String::with_capacity(word.len());
    let mut quote: Option<char> = None;
    let mut chars = word.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some('\'') => {
                if c == '\'' {
                    quote = None;
                } else {
                    out.push(c);
                }
            }
            Some(q) => {
                if c == q {
                    quote = None;
                } else if c == escape {
                    match chars.peek() {
                        Some(&n) if n == '"' || n == escape || n == '$' => {
                            out.push(n);
                            chars.next();
                        }
                        _ => out.push(c),
                    }
                } else {
                    out.push(c);
                }
            }
            None => {
                if c == '\'' || c == '"' {
                    quote = Some(c);
                } else if c == escape {
                    if let Some(n) = chars.next() {
                        // `\$` stays escaped so that variable expansion leaves it alone.
                        if n == '$' {
                            out.push(c);
                        }
                        out.push(n);
                    }
                } else {
                    out.push(c);
                }
            }
        }
    }
    out
}

/// Leading `--name[=value]` flags; returns them and the remaining text.
fn take_flags(rest: &str, escape: char) -> (Vec<Flag>, &str) {
    let mut flags = Vec::new();
    let mut remaining = rest.trim_start();
    loop {
        if !remaining.starts_with("--") {
            return (flags, remaining);
        }
        let word_end = word_end(remaining, escape);
        let word = &remaining[..word_end];
        remaining = remaining[word_end..].trim_start();
        if word == "--" {
            return (flags, remaining);
        }
        let body = &word[2..];
        let flag = match body.split_once('=') {
            Some((name, value)) => Flag {
                name: name.to_string(),
                value: Some(unquote(value, escape)),
            },
            None => Flag {
                name: body.to_string(),
                value: None,
            },
        };
        flags.push(flag);
    }
}

/// Rejects what BuildKit rejects in the flags it knows: a flag that takes a value given none
/// (`COPY --from build` is `--from` without a value, then `build` as a source) and a
/// true/false flag given something else. Flags BuildKit may add later are left alone.
fn check_flags(keyword: Keyword, flags: &[Flag]) -> Result<(), String> {
    let (with_value, booleans): (&[&str], &[&str]) = match keyword {
        Keyword::From => (&["platform"], &[]),
        Keyword::Run => (&["mount", "network", "security", "device"], &[]),
        Keyword::Copy => (&["from", "chown", "chmod", "exclude"], &["link", "parents"]),
        Keyword::Add => (
            &["chown", "chmod", "checksum", "exclude"],
            &["link", "keep-git-dir", "unpack"],
        ),
        Keyword::Healthcheck => (
            &[
                "interval",
                "timeout",
                "start-period",
                "start-interval",
                "retries",
            ],
            &[],
        ),
        _ => (&[], &[]),
    };
    for flag in flags {
        let name = flag.name.as_str();
        match flag.value.as_deref() {
            None if with_value.contains(&name) => {
                return Err(format!(
                    "`--{name}` needs a value written with `=` (`--{name}=…`)"
                ))
            }
            Some(value) if booleans.contains(&name) && !matches!(value, "true" | "false") => {
                return Err(format!("`--{name}` takes `true` or `false`, not `{value}`"))
            }
            _ => {}
        }
    }
    Ok(())
}

/// Byte offset where the first (quote-aware) word of `text` ends.
fn word_end(text: &str, escape: char) -> usize {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        if c == escape && quote != Some('\'') {
            escaped = true;
            continue;
        }
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c.is_whitespace() => return i,
            None => {}
        }
    }
    text.len()
}

/// `["a", "b"]` as a list of strings, if `text` is a JSON array of strings.
fn json_array(text: &str) -> Option<Vec<String>> {
    let t = text.trim();
    if !t.starts_with('[') {
        return None;
    }
    serde_json::from_str::<Vec<String>>(t).ok()
}

fn command(text: &str) -> Command {
    match json_array(text) {
        Some(items) => Command::Exec(items),
        None => Command::Shell(text.to_string()),
    }
}

/// ENV/LABEL pairs: `k=v k2="v 2"`, or the legacy `ENV k v w`.
fn key_values(keyword: Keyword, text: &str, escape: char) -> Result<Vec<KeyValue>, String> {
    let words = split_words(text, escape);
    let Some(first) = words.first() else {
        return Err(format!("{} needs at least one argument", keyword.as_str()));
    };
    if !first.contains('=') {
        let (key, value) = split_keyword(text);
        if value.is_empty() && keyword == Keyword::Env {
            return Err(format!("ENV {key} needs a value: write `ENV {key}=value`"));
        }
        return Ok(vec![KeyValue {
            key: unquote(key, escape),
            value: unquote(value, escape),
        }]);
    }
    words
        .iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok(KeyValue {
                key: unquote(k, escape),
                value: unquote(v, escape),
            }),
            _ => Err(format!(
                "{} expects name=value pairs; `{w}` has no name or no `=`",
                keyword.as_str()
            )),
        })
        .collect()
}

fn arg_decls(text: &str, escape: char) -> Result<Vec<ArgDecl>, String> {
    let words = split_words(text, escape);
    if words.is_empty() {
        return Err("ARG needs a name".into());
    }
    Ok(words
        .iter()
        .map(|w| match w.split_once('=') {
            Some((name, value)) => ArgDecl {
                name: name.to_string(),
                default: Some(unquote(value, escape)),
            },
            None => ArgDecl {
                name: w.to_string(),
                default: None,
            },
        })
        .collect())
}

fn list(text: &str, escape: char) -> Vec<String> {
    match json_array(text) {
        Some(items) => items,
        None => split_words(text, escape)
            .iter()
            .map(|w| unquote(w, escape))
            .collect(),
    }
}

/// Builds a typed instruction from its keyword and argument text.
fn build(
    keyword: Keyword,
    text: &str,
    escape: char,
    span: Span,
    heredocs: Vec<Heredoc>,
) -> Result<Instruction, String> {
    let takes_flags = matches!(
        keyword,
        Keyword::From | Keyword::Run | Keyword::Copy | Keyword::Add | Keyword::Healthcheck
    );
    let (flags, rest) = if takes_flags {
        take_flags(text, escape)
    } else {
        (Vec::new(), text)
    };
    check_flags(keyword, &flags)?;
    let rest = rest.trim_end();
    // BuildKit and buildah accept an empty RUN, CMD or ENTRYPOINT.
    let needs_args = !matches!(keyword, Keyword::Cmd | Keyword::Entrypoint | Keyword::Run);
    if needs_args && rest.is_empty() {
        return Err(format!("{} needs arguments", keyword.as_str()));
    }
    let args = match keyword {
        Keyword::From => {
            let words = split_words(rest, escape);
            match words.as_slice() {
                [image] => Args::From {
                    image: image.clone(),
                    alias: None,
                },
                // `strings.EqualFold`: `Aſ` is `AS` too.
                [image, as_, name] if crate::gostr::fold(as_) == "AS" => Args::From {
                    image: image.clone(),
                    alias: Some(name.clone()),
                },
                _ => return Err("FROM takes an image and optionally `AS name`".into()),
            }
        }
        Keyword::Run => Args::Run(command(rest)),
        Keyword::Cmd => Args::Cmd(command(rest)),
        Keyword::Entrypoint => Args::Entrypoint(command(rest)),
        Keyword::Shell => match json_array(rest) {
            Some(items) if !items.is_empty() => Args::Shell(items),
            _ => {
                return Err(
                    "SHELL requires a JSON array, e.g. SHELL [\"/bin/bash\", \"-c\"]".into(),
                )
            }
        },
        Keyword::Env => Args::Env(key_values(keyword, rest, escape)?),
        Keyword::Label => Args::Label(key_values(keyword, rest, escape)?),
        Keyword::Arg => Args::Arg(arg_decls(rest, escape)?),
        Keyword::Copy | Keyword::Add => {
            let mut items = list(rest, escape);
            if items.len() < 2 {
                return Err(format!(
                    "{} needs at least one source and a destination",
                    keyword.as_str()
                ));
            }
            let dest = items.pop().unwrap_or_default();
            if keyword == Keyword::Copy {
                Args::Copy {
                    sources: items,
                    dest,
                }
            } else {
                Args::Add {
                    sources: items,
                    dest,
                }
            }
        }
        // No JSON form: BuildKit splits EXPOSE on whitespace, so `["80"]` is a (bad) port.
        Keyword::Expose => Args::Expose(
            split_words(rest, escape)
                .iter()
                .map(|w| unquote(w, escape))
                .collect(),
        ),
        Keyword::User => Args::User(rest.to_string()),
        Keyword::Workdir => Args::Workdir(rest.to_string()),
        Keyword::Volume => Args::Volume(list(rest, escape)),
        Keyword::Stopsignal => Args::Stopsignal(rest.to_string()),
        Keyword::Maintainer => Args::Maintainer(rest.to_string()),
        Keyword::Healthcheck => {
            let (word, cmd) = split_keyword(rest);
            if word.eq_ignore_ascii_case("NONE") {
                Args::Healthcheck(None)
            } else if word.eq_ignore_ascii_case("CMD") && !cmd.is_empty() {
                Args::Healthcheck(Some(command(cmd)))
            } else {
                return Err("HEALTHCHECK takes `NONE` or `CMD command`".into());
            }
        }
        Keyword::Onbuild => {
            let (word, inner_rest) = split_keyword(rest);
            let inner = Keyword::parse(word)
                .ok_or_else(|| format!("unknown instruction `{word}` after ONBUILD"))?;
            if matches!(
                inner,
                Keyword::Onbuild | Keyword::From | Keyword::Maintainer
            ) {
                return Err(format!("ONBUILD {} is not allowed", inner.as_str()));
            }
            // BuildKit reads a trigger's heredocs too (`ONBUILD RUN <<EOF`): the bodies are the
            // trigger's, not instructions of this file.
            Args::Onbuild(Box::new(build(
                inner,
                inner_rest,
                escape,
                span,
                heredocs.clone(),
            )?))
        }
    };
    Ok(Instruction {
        keyword,
        span,
        flags,
        rest: rest.to_string(),
        args,
        heredocs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(src: &str) -> Instruction {
        let file = parse(src);
        assert!(file.errors.is_empty(), "{:?}", file.errors);
        file.instructions.last().cloned().expect("an instruction")
    }

    #[test]
    fn continuation_with_comments_and_blank_lines() {
        let src = "FROM alpine\nRUN apk add \\\n  # a comment\n\n  curl \\\n  git\nUSER app\n";
        let file = parse(src);
        assert!(file.errors.is_empty(), "{:?}", file.errors);
        let run = &file.instructions[1];
        assert_eq!(run.rest, "apk add   curl   git");
        assert_eq!(run.span, Span::new(2, 1, 6, 6));
        assert_eq!(file.instructions[2].span.line, 7);
        assert!(file
            .comments
            .iter()
            .any(|c| c.line == 3 && c.inside_instruction));
    }

    #[test]
    fn continuation_allows_trailing_blanks_after_escape() {
        let run = one("FROM a\nRUN echo a \\  \n  b\n");
        assert_eq!(run.rest, "echo a   b");
    }

    #[test]
    fn escaped_escape_at_line_end_is_not_a_continuation() {
        let file = parse("FROM a\nCOPY x C:\\Windows\\System32\\\\\nENV V=1\n");
        assert!(file.errors.is_empty(), "{:?}", file.errors);
        assert_eq!(file.instructions.len(), 3);
        let file = parse("# escape=`\nFROM a\nCOPY x C:\\app``\nENV V=1\n");
        assert_eq!(file.instructions.len(), 3);
    }

    #[test]
    fn windows_escape_directive() {
        let src = "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN dir c:\\ `\n  && echo hi\nCOPY . C:\\app\\\n";
        let file = parse(src);
        assert!(file.errors.is_empty(), "{:?}", file.errors);
        assert_eq!(file.escape, '`');
        assert_eq!(file.instructions.len(), 3);
        assert_eq!(file.instructions[1].rest, "dir c:\\   && echo hi");
        match &file.instructions[2].args {
            Args::Copy { dest, .. } => assert_eq!(dest, "C:\\app\\"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn directives_only_at_the_top() {
        let file = parse("FROM a\n# escape=`\nRUN echo \\\n  b\n");
        assert_eq!(file.escape, '\\');
        assert!(file.directives.is_empty());
        assert_eq!(file.instructions.len(), 2);
        let file = parse("# syntax=docker/dockerfile:1\n# check=skip=all\nFROM a\n");
        assert_eq!(file.directives.len(), 2);
        assert!(file.comments.is_empty());
    }

    #[test]
    fn heredocs_several_per_instruction() {
        let src = "FROM a\nCOPY <<EOF1 <<-\"EOF2\" /dest/\nhello\nEOF1\n\tworld $X\n\tEOF2\nRUN <<EOF\nset -e\napt-get update\nEOF\n";
        let file = parse(src);
        assert!(file.errors.is_empty(), "{:?}", file.errors);
        let copy = &file.instructions[1];
        assert_eq!(copy.heredocs.len(), 2);
        assert_eq!(copy.heredocs[0].body, "hello\n");
        assert!(!copy.heredocs[0].quoted);
        assert_eq!(copy.heredocs[1].body, "world $X\n");
        assert!(copy.heredocs[1].quoted && copy.heredocs[1].strip_tabs);
        assert_eq!(copy.span.end_line, 6);
        let run = &file.instructions[2];
        assert_eq!(run.heredocs[0].body, "set -e\napt-get update\n");
        assert_eq!(run.heredocs[0].body_line, 8);
        assert_eq!(run.span, Span::new(7, 1, 10, 4));
    }

    #[test]
    fn heredoc_body_is_not_parsed_as_instructions() {
        let file = parse("FROM a\nRUN <<EOF\nFROM not-an-instruction\nUSER root\nEOF\nUSER app\n");
        assert!(file.errors.is_empty());
        assert_eq!(file.instructions.len(), 3);
        assert_eq!(file.stages.len(), 1);
    }

    #[test]
    fn heredoc_names_with_dots_and_fd_prefixes() {
        let src = "FROM a\nCOPY <<robots.txt /x/\nUser-agent: *\nrobots.txt\nRUN cat /proc/self/fd/5 5<<F1 > out\nbody\nF1\nUSER app\n";
        let file = parse(src);
        assert!(file.errors.is_empty(), "{:?}", file.errors);
        assert_eq!(file.instructions[1].heredocs[0].name, "robots.txt");
        assert_eq!(file.instructions[2].heredocs[0].body, "body\n");
        assert_eq!(file.instructions.len(), 4);
    }

    #[test]
    fn quoted_heredoc_marker_is_not_a_heredoc() {
        let run = one("FROM a\nRUN echo '<<EOF' \"<<X\"\n");
        assert!(run.heredocs.is_empty());
    }

    #[test]
    fn unterminated_heredoc_is_an_error_and_parsing_goes_on() {
        let file = parse("FROM a\nRUN <<EOF\necho hi\n");
        assert_eq!(file.errors.len(), 1);
        assert_eq!(file.errors[0].span.line, 2);
        assert!(file.errors[0].message.contains("not terminated"));
    }

    #[test]
    fn exec_and_shell_forms() {
        assert_eq!(
            one("FROM a\nCMD [\"nginx\", \"-g\", \"daemon off;\"]").command(),
            Some(&Command::Exec(vec![
                "nginx".into(),
                "-g".into(),
                "daemon off;".into()
            ]))
        );
        // Not valid JSON: shell form, as BuildKit does.
        assert_eq!(
            one("FROM a\nCMD [nginx, -g]").command(),
            Some(&Command::Shell("[nginx, -g]".into()))
        );
        assert_eq!(
            one("FROM a\nENTRYPOINT /bin/sh -c 'x'").command(),
            Some(&Command::Shell("/bin/sh -c 'x'".into()))
        );
    }

    #[test]
    fn buildkit_flags() {
        let run = one("FROM a\nRUN --mount=type=cache,target=/root/.cache --network=none --security=insecure pip install x\n");
        assert_eq!(run.flags.len(), 3);
        assert_eq!(
            run.flag("mount").and_then(|f| f.value.as_deref()),
            Some("type=cache,target=/root/.cache")
        );
        assert_eq!(run.rest, "pip install x");
        let copy = one("FROM a\nCOPY --link --chmod=0755 --from=build /out /usr/bin/\n");
        assert_eq!(copy.flag("link").map(|f| f.value.clone()), Some(None));
        assert_eq!(
            copy.flag("chmod").and_then(|f| f.value.as_deref()),
            Some("0755")
        );
        let from = one("FROM --platform=$BUILDPLATFORM golang:1.22 AS build\n");
        assert_eq!(
            from.args,
            Args::From {
                image: "golang:1.22".into(),
                alias: Some("build".into())
            }
        );
    }

    #[test]
    fn flags_buildkit_rejects_are_errors() {
        for (src, message) in [
            (
                "FROM a\nCOPY --from build /a /b\n",
                "`--from` needs a value",
            ),
            ("FROM a\nRUN --mount echo\n", "`--mount` needs a value"),
            (
                "FROM --platform linux/amd64 a\n",
                "`--platform` needs a value",
            ),
            (
                "FROM a\nCOPY --link=yes a /b\n",
                "`--link` takes `true` or `false`",
            ),
            (
                "FROM a\nHEALTHCHECK --interval 5s CMD x\n",
                "`--interval` needs a value",
            ),
            (
                "FROM a\nONBUILD COPY --from b /a /b\n",
                "`--from` needs a value",
            ),
        ] {
            let file = parse(src);
            assert_eq!(file.errors.len(), 1, "{src}");
            assert!(
                file.errors[0].message.contains(message),
                "{src}: {:?}",
                file.errors
            );
        }
        for src in [
            "FROM a\nCOPY --link --parents=true --exclude=*.md a /b/\n",
            "FROM a\nADD --keep-git-dir=false --checksum=sha256:0 https://x /y\n",
            // A flag BuildKit may add later is not ours to reject.
            "FROM a\nRUN --future-flag echo\n",
        ] {
            assert!(parse(src).errors.is_empty(), "{src}");
        }
    }

    #[test]
    fn stages_and_names() {
        let file = parse(
            "ARG V=1\nFROM golang AS Build\nRUN make\nFROM scratch\nCOPY --from=build /a /a\n",
        );
        assert!(file.errors.is_empty(), "{:?}", file.errors);
        assert_eq!(file.stages.len(), 2);
        assert_eq!(file.stages[0].name.as_deref(), Some("build"));
        assert_eq!(file.stages[0].body(), 2..3);
        assert_eq!(file.stages[1].from, 3);
        assert_eq!(file.stages[1].end, 5);
    }

    #[test]
    fn env_label_and_arg_forms() {
        match one("FROM a\nENV A=1 B=\"two words\" C='x y'\n").args {
            Args::Env(kv) => {
                assert_eq!(kv.len(), 3);
                assert_eq!(kv[1].value, "two words");
                assert_eq!(kv[2].value, "x y");
            }
            other => panic!("{other:?}"),
        }
        match one("FROM a\nENV PATH /usr/local/bin:$PATH\n").args {
            Args::Env(kv) => assert_eq!(kv[0].value, "/usr/local/bin:$PATH"),
            other => panic!("{other:?}"),
        }
        match one("FROM a\nLABEL org.opencontainers.image.title=\"x\" version=1\n").args {
            Args::Label(kv) => assert_eq!(kv[0].key, "org.opencontainers.image.title"),
            other => panic!("{other:?}"),
        }
        match one("ARG A B=2 C=\"3\"\nFROM a").args {
            Args::From { .. } => {}
            other => panic!("{other:?}"),
        }
        let file = parse("ARG A B=2 C=\"3\"\nFROM a");
        match &file.instructions[0].args {
            Args::Arg(decls) => {
                assert_eq!(decls[0].default, None);
                assert_eq!(decls[2].default.as_deref(), Some("3"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn onbuild_wraps_an_instruction() {
        match one("FROM a\nONBUILD RUN make\n").args {
            Args::Onbuild(inner) => assert_eq!(inner.keyword, Keyword::Run),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn healthcheck_forms() {
        let hc = one("FROM a\nHEALTHCHECK --interval=5s CMD curl -f http://localhost/\n");
        assert!(matches!(
            hc.args,
            Args::Healthcheck(Some(Command::Shell(_)))
        ));
        assert_eq!(hc.flags[0].name, "interval");
        assert!(matches!(
            one("FROM a\nHEALTHCHECK NONE").args,
            Args::Healthcheck(None)
        ));
    }

    #[test]
    fn errors_name_the_line_and_parsing_goes_on() {
        let file = parse("FROM a\nFROBNICATE x\nRUN \\\n  echo\nFROM\nUSER app\n");
        let lines: Vec<usize> = file.errors.iter().map(|e| e.span.line).collect();
        assert_eq!(lines, vec![2, 5]);
        assert!(file.errors[0].message.contains("FROBNICATE"));
        assert_eq!(file.instructions.len(), 3);
    }

    #[test]
    fn instruction_before_from_is_an_error() {
        let file = parse("RUN echo\nFROM a\n");
        assert_eq!(file.errors.len(), 1);
        assert_eq!(file.errors[0].span.line, 1);
    }

    #[test]
    fn lowercase_keywords_crlf_and_bom() {
        let file = parse("\u{feff}from alpine\r\nrun echo \\\r\n  hi\r\n");
        assert!(file.errors.is_empty(), "{:?}", file.errors);
        assert_eq!(file.instructions[1].rest, "echo   hi");
    }

    #[test]
    fn indented_instruction_column() {
        let file = parse("FROM a\n    RUN echo\n");
        assert_eq!(file.instructions[1].span.column, 5);
    }

    /// Conformance with BuildKit's parser (frontend/dockerfile/parser), one case per rule of
    /// its line handling. Each of these was a way to have the gate judge one file while the
    /// builder builds another.
    mod buildkit_conformance {
        use super::*;

        fn keywords(src: &str) -> Vec<Keyword> {
            parse(src).instructions.iter().map(|i| i.keyword).collect()
        }

        #[test]
        fn every_trailing_cr_is_trimmed() {
            // A heredoc terminator followed by two CRs still ends the heredoc: the FROM after
            // it is a real stage.
            let file = parse("FROM a\nRUN <<EOF\necho\nEOF\r\r\nFROM b\nUSER root\n");
            assert!(file.errors.is_empty(), "{:?}", file.errors);
            assert_eq!(file.stages.len(), 2);
            // An escape followed by CRs continues the line: the USER joins the RUN.
            assert_eq!(
                keywords("FROM a\nRUN echo \\\r\r\nUSER app\n"),
                [Keyword::From, Keyword::Run]
            );
        }

        #[test]
        fn directives_take_ascii_blanks_only() {
            // U+00A0 before `=`: for BuildKit no directive, so the escape stays `\`.
            let file = parse("# escape\u{a0}=`\nFROM a\nRUN dir c:\\\nUSER app\n");
            assert_eq!(file.escape, '\\');
            assert!(file.directives.is_empty());
            assert_eq!(keywords(&file.source), [Keyword::From, Keyword::Run]);
            // Blanks after `#` may be any Unicode blank; around `=`, ASCII ones.
            assert_eq!(parse("#\u{a0}escape = `\nFROM a\n").escape, '`');
            assert_eq!(parse("# escape\t=\t`\t\nFROM a\n").escape, '`');
        }

        #[test]
        fn a_malformed_directive_ends_the_block() {
            for src in [
                "# syntax=\n# escape=`\nFROM a\n",
                "# syntax\u{a0}=x\n# escape=`\nFROM a\n",
                "# 1syntax=x\n# escape=`\nFROM a\n",
                "# unknown=x\n# escape=`\nFROM a\n",
                "#\n# escape=`\nFROM a\n",
                "\n# escape=`\nFROM a\n",
            ] {
                let file = parse(src);
                assert_eq!(file.escape, '\\', "{src:?}");
                assert!(
                    !file.directives.iter().any(|d| d.name == "escape"),
                    "{src:?}"
                );
            }
            // An all-blank value is still a value (BuildKit's lazy `(.+?)` keeps one blank).
            let file = parse("# syntax= \n# escape=`\nFROM a\n");
            assert_eq!(file.escape, '`');
        }

        #[test]
        fn heredoc_markers_are_words_of_buildkits_lexer() {
            // `cat<<CMD` is no heredoc for BuildKit: `USER root` is an instruction.
            assert_eq!(
                keywords("FROM a\nUSER app\nRUN cat<<CMD\nUSER root\nCMD\n"),
                [
                    Keyword::From,
                    Keyword::User,
                    Keyword::Run,
                    Keyword::User,
                    Keyword::Cmd
                ]
            );
            // The marker's word runs on: the terminator is `EOF>x`, not `EOF`.
            let file = parse("FROM a\nRUN cat <<EOF>x\nEOF\nUSER app\nEOF>x\nUSER root\n");
            assert!(file.errors.is_empty(), "{:?}", file.errors);
            assert_eq!(
                keywords(&file.source),
                [Keyword::From, Keyword::Run, Keyword::User]
            );
            assert_eq!(file.instructions[1].heredocs[0].body, "EOF\nUSER app\n");
            // `<< EOF` (blanks after `<<`) is one word and a heredoc.
            assert_eq!(
                keywords("FROM a\nRUN cat << EOF\nUSER root\nEOF\n").len(),
                2
            );
            // The exec form has no heredocs.
            assert_eq!(
                keywords("FROM a\nRUN [\"<<EOF\"]\nUSER app\n"),
                [Keyword::From, Keyword::Run, Keyword::User]
            );
            // Heredoc detection always uses `\` as escape, as BuildKit's does.
            let file = parse("# escape=`\nFROM a\nRUN <<EOF\nUSER root\nEOF\n");
            assert_eq!(file.instructions[1].heredocs.len(), 1);
        }

        #[test]
        fn onbuild_triggers_have_heredocs() {
            let file = parse("FROM a\nONBUILD RUN <<EOF\nUSER root\nEOF\nUSER app\n");
            assert!(file.errors.is_empty(), "{:?}", file.errors);
            assert_eq!(
                keywords(&file.source),
                [Keyword::From, Keyword::Onbuild, Keyword::User]
            );
            match &file.instructions[1].args {
                Args::Onbuild(inner) => assert_eq!(inner.heredocs[0].body, "USER root\n"),
                other => panic!("{other:?}"),
            }
        }

        #[test]
        fn keywords_and_words_split_as_buildkit_splits_them() {
            // Go's ToLower makes the Kelvin sign a `k`: this HEALTHCHECK is one for BuildKit.
            assert_eq!(
                keywords("FROM a\nHEALTHCHEC\u{212A} NONE\n"),
                [Keyword::From, Keyword::Healthcheck]
            );
            // `AS` is compared with strings.EqualFold: `Aſ` names the stage.
            let file = parse("FROM alpine Aſ build\nFROM build\n");
            assert!(file.errors.is_empty(), "{:?}", file.errors);
            assert_eq!(file.stages[0].name.as_deref(), Some("build"));
            // The keyword ends at an ASCII blank only: `RUN\u{a0}echo` is no RUN.
            let file = parse("FROM a\nRUN\u{a0}echo\n");
            assert_eq!(file.errors.len(), 1, "{:?}", file.errors);
            // Leading Unicode blanks are trimmed before the keyword.
            assert_eq!(
                keywords("FROM a\n\u{a0}USER app\n"),
                [Keyword::From, Keyword::User]
            );
        }

        #[test]
        fn a_line_longer_than_buildkit_reads_refuses_the_file() {
            let long = format!(
                "FROM a\nRUN echo {}\nUSER app\n",
                "x".repeat(MAX_LINE_BYTES)
            );
            let file = parse(&long);
            assert!(file.instructions.is_empty());
            assert_eq!(file.errors.len(), 1);
            assert_eq!(file.errors[0].span.line, 2);
            assert!(
                file.errors[0].message.contains("65535"),
                "{:?}",
                file.errors
            );
            let fits = format!("FROM a\nRUN {}\n", "x".repeat(MAX_LINE_BYTES - 4));
            assert!(parse(&fits).errors.is_empty());
        }

        #[test]
        fn syntax_is_detected_as_buildkit_detects_it() {
            let found = |src: &str| detect_syntax(src);
            assert_eq!(
                found("# syntax=docker/dockerfile:1\nFROM a\n"),
                Some(("docker/dockerfile:1".into(), 1))
            );
            // After a `#!` first line.
            assert_eq!(
                found("#!/usr/bin/env buildctl\n# syntax = evil.example/fe:1 --flag\nFROM a\n"),
                Some(("evil.example/fe:1".into(), 2))
            );
            // After other directives, with CRLF line ends.
            assert_eq!(
                found("\u{feff}# escape=`\r\n# syntax=evil.example/fe\r\nFROM a\r\n"),
                Some(("evil.example/fe".into(), 2))
            );
            // The `//` form and a JSON object.
            assert_eq!(
                found("//syntax=evil.example/fe\n"),
                Some(("evil.example/fe".into(), 1))
            );
            assert_eq!(
                found("{\"syntax\": \"evil.example/fe\"}"),
                Some(("evil.example/fe".into(), 1))
            );
            // Not: after an instruction, after a malformed directive, indented.
            assert_eq!(found("FROM a\n# syntax=evil.example/fe\n"), None);
            assert_eq!(found("# syntax=\n# syntax=evil.example/fe\n"), None);
            assert_eq!(found("  # syntax=evil.example/fe\nFROM a\n"), None);
        }
    }

    #[test]
    fn unquote_and_split_words() {
        assert_eq!(
            split_words("a \"b c\" 'd e'", '\\'),
            vec!["a", "\"b c\"", "'d e'"]
        );
        assert_eq!(unquote("\"a\\\"b\"", '\\'), "a\"b");
        assert_eq!(unquote("'a\\b'", '\\'), "a\\b");
        assert_eq!(unquote("a\\ b", '\\'), "a b");
    }
}
