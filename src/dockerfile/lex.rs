//! BuildKit's shell-word lexer (`frontend/dockerfile/shell/lex.go`), as the frontend runs it
//! where the gate must read a word exactly as the builder does: finding heredocs in an
//! instruction's line, and processing a `USER` word (quotes removed, escapes applied,
//! variables expanded: `r\oot` and `"ro"ot` are `root`).
//!
//! It is a port of the lexer's behaviour, not of its code: words split on Unicode blanks
//! after expansion, single quotes literal, double quotes with `\"`, `\$` and `\\` escapes,
//! `<<` followed by blanks kept in the word (so `<< EOF` is one word), and `$name`, `${name}`,
//! `${name:-word}` and the other modifiers. Where BuildKit would need a value we do not have
//! (a pattern modifier, `${name?}` unset), the word is [`LexError::Unknown`], never guessed.

use super::Unresolved;

/// The longest text one word may produce (as [`super::expand`]): longer is unknown.
const MAX_OUTPUT: usize = 64 * 1024;
/// How deep `${a:-${b:-…}}` may nest before the word is unknown.
const MAX_DEPTH: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LexError {
    /// BuildKit rejects the word (an unterminated quote, `${}`): the build fails.
    Syntax(String),
    /// The word needs values that are not known (the variables named, if any).
    Unknown(Vec<String>),
}

/// How one lexer runs; the fields are BuildKit's `Lex` switches.
struct Lexer<'a> {
    chars: Vec<char>,
    pos: usize,
    escape: char,
    raw_quotes: bool,
    raw_escapes: bool,
    /// Unset variables are kept as written (`$X`, `${X:-y}`) instead of expanding to "".
    skip_unset: bool,
    lookup: &'a dyn Fn(&str) -> Option<String>,
    unmatched: Vec<String>,
    unknown: bool,
    depth: usize,
}

/// The words of `line` as BuildKit's heredoc detection splits them (`heredocsFromLine`: the
/// `\` escape whatever the file's, quotes and escapes kept, no variables known). A line the
/// lexer rejects has no words, so no heredocs, as in BuildKit.
pub fn heredoc_line_words(line: &str) -> Vec<String> {
    let none = |_: &str| None;
    let mut lexer = Lexer::new(line, '\\', &none);
    lexer.raw_quotes = true;
    lexer.raw_escapes = true;
    lexer.skip_unset = true;
    match lexer.run(None, true) {
        Ok((_, words)) => words,
        Err(_) => Vec::new(),
    }
}

/// A heredoc marker found in one word, as BuildKit's `ParseHeredoc` reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeredocWord {
    pub name: String,
    /// `<<-`: leading tabs are stripped from the body and the terminator.
    pub chomp: bool,
    /// No part of the name was quoted: the body is expanded.
    pub expand: bool,
}

/// Whether `word` is a heredoc marker: `^(\d*)<<(-?)\s*([^<]*)$` with a non-empty name that
/// is one word once its quotes are processed. `Err` where BuildKit fails the whole file
/// (`<<'EOF`).
pub fn heredoc_word(word: &str) -> Result<Option<HeredocWord>, String> {
    let digits = word.bytes().take_while(u8::is_ascii_digit).count();
    let Some(after) = word[digits..].strip_prefix("<<") else {
        return Ok(None);
    };
    let (chomp, after) = match after.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, after),
    };
    // Go's `\s` is ASCII: tab, newline, form feed, carriage return, space.
    let rest = after.trim_start_matches(['\t', '\n', '\x0c', '\r', ' ']);
    if rest.contains('<') || rest.is_empty() {
        return Ok(None);
    }
    let none = |_: &str| None;
    let words = |raw: bool| {
        let mut lexer = Lexer::new(rest, '\\', &none);
        lexer.skip_unset = true;
        lexer.raw_quotes = raw;
        lexer.run(None, false).map(|(_, words)| words)
    };
    let cooked = words(false).map_err(describe)?;
    let [name] = cooked.as_slice() else {
        return Ok(None);
    };
    let raw = words(true).map_err(describe)?;
    if raw.len() != 1 {
        return Err(format!(
            "heredoc word `{rest}` reads differently with and without its quotes"
        ));
    }
    let quotes = |w: &str| w.matches(['\'', '"']).count();
    Ok(Some(HeredocWord {
        name: name.clone(),
        chomp,
        expand: quotes(name) == quotes(&raw[0]),
    }))
}

fn describe(error: LexError) -> String {
    match error {
        LexError::Syntax(message) => message,
        LexError::Unknown(_) => "heredoc word cannot be read".into(),
    }
}

/// Processes one word as BuildKit's `ProcessWord` does for `USER` (and other instructions
/// that take one word): quotes removed, escapes applied, variables expanded with `lookup`.
/// A variable without a value makes the word unknown (BuildKit would expand it to "").
pub fn process_word(
    word: &str,
    escape: char,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, LexError> {
    let mut lexer = Lexer::new(word, escape, lookup);
    let (result, _) = lexer.run(None, false)?;
    if lexer.unknown || !lexer.unmatched.is_empty() || result.len() > MAX_OUTPUT {
        let mut names = std::mem::take(&mut lexer.unmatched);
        names.dedup();
        return Err(LexError::Unknown(names));
    }
    Ok(result)
}

impl From<LexError> for Unresolved {
    fn from(error: LexError) -> Unresolved {
        match error {
            LexError::Unknown(variables) => Unresolved { variables },
            LexError::Syntax(_) => Unresolved {
                variables: Vec::new(),
            },
        }
    }
}

/// Words being built, as BuildKit's `wordsStruct`: blanks end a word unless they come from
/// quotes (raw text).
#[derive(Default)]
struct Words {
    buf: String,
    words: Vec<String>,
    in_word: bool,
}

impl Words {
    fn add_char(&mut self, c: char) {
        if c.is_whitespace() {
            if self.in_word && !self.buf.is_empty() {
                self.words.push(std::mem::take(&mut self.buf));
                self.in_word = false;
            }
        } else {
            self.add_raw_char(c);
        }
    }

    fn add_raw_char(&mut self, c: char) {
        self.buf.push(c);
        self.in_word = true;
    }

    fn add_string(&mut self, s: &str) {
        s.chars().for_each(|c| self.add_char(c));
    }

    fn add_raw_string(&mut self, s: &str) {
        self.buf.push_str(s);
        self.in_word = true;
    }

    fn finish(mut self) -> Vec<String> {
        if !self.buf.is_empty() {
            self.words.push(self.buf);
        }
        self.words
    }
}

impl<'a> Lexer<'a> {
    fn new(text: &str, escape: char, lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Lexer {
            chars: text.chars().collect(),
            pos: 0,
            escape,
            raw_quotes: false,
            raw_escapes: false,
            skip_unset: false,
            lookup,
            unmatched: Vec::new(),
            unknown: false,
            depth: 0,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    fn syntax<T>(message: impl Into<String>) -> Result<T, LexError> {
        Err(LexError::Syntax(message.into()))
    }

    /// `processStopOn`: reads up to `stop` (or the end), returning the text and its words.
    fn run(
        &mut self,
        stop: Option<char>,
        raw_escapes: bool,
    ) -> Result<(String, Vec<String>), LexError> {
        let saved = std::mem::replace(&mut self.raw_escapes, raw_escapes);
        let result = self.run_inner(stop);
        self.raw_escapes = saved;
        result
    }

    fn run_inner(&mut self, stop: Option<char>) -> Result<(String, Vec<String>), LexError> {
        let mut result = String::new();
        let mut words = Words::default();
        while let Some(c) = self.peek() {
            if result.len() > MAX_OUTPUT {
                return Err(LexError::Unknown(Vec::new()));
            }
            if Some(c) == stop {
                self.next();
                return Ok((result, words.finish()));
            }
            match c {
                '$' => {
                    let value = self.dollar()?;
                    result.push_str(&value);
                    words.add_string(&value);
                }
                '<' => {
                    let text = self.possible_heredoc();
                    result.push_str(&text);
                    words.add_raw_string(&text);
                }
                '\'' => {
                    let text = self.single_quoted()?;
                    result.push_str(&text);
                    words.add_raw_string(&text);
                }
                '"' => {
                    let text = self.double_quoted()?;
                    result.push_str(&text);
                    words.add_raw_string(&text);
                }
                _ => {
                    self.next();
                    if c == self.escape {
                        if self.raw_escapes {
                            words.add_raw_char(c);
                            result.push(c);
                        }
                        // An escape at the very end is dropped.
                        let Some(escaped) = self.next() else { break };
                        words.add_raw_char(escaped);
                        result.push(escaped);
                    } else {
                        words.add_char(c);
                        result.push(c);
                    }
                }
            }
        }
        if let Some(stop) = stop {
            return Self::syntax(format!(
                "unexpected end of statement while looking for matching {stop}"
            ));
        }
        Ok((result, words.finish()))
    }

    fn single_quoted(&mut self) -> Result<String, LexError> {
        let mut out = String::new();
        let open = self.next();
        if self.raw_quotes {
            out.extend(open);
        }
        loop {
            match self.next() {
                None => {
                    return Self::syntax(
                        "unexpected end of statement while looking for matching single-quote",
                    )
                }
                Some('\'') => {
                    if self.raw_quotes {
                        out.push('\'');
                    }
                    return Ok(out);
                }
                Some(c) => out.push(c),
            }
        }
    }

    fn double_quoted(&mut self) -> Result<String, LexError> {
        let mut out = String::new();
        let open = self.next();
        if self.raw_quotes {
            out.extend(open);
        }
        loop {
            match self.peek() {
                None => {
                    return Self::syntax(
                        "unexpected end of statement while looking for matching double-quote",
                    )
                }
                Some('"') => {
                    self.next();
                    if self.raw_quotes {
                        out.push('"');
                    }
                    return Ok(out);
                }
                Some('$') => {
                    let value = self.dollar()?;
                    out.push_str(&value);
                }
                Some(_) => {
                    let mut c = self.next().unwrap_or_default();
                    if c == self.escape {
                        if self.raw_escapes {
                            out.push(c);
                        }
                        match self.peek() {
                            // An escape before the end: the missing quote is reported next.
                            None => continue,
                            Some(n) if n == '"' || n == '$' || n == self.escape => {
                                c = self.next().unwrap_or_default();
                            }
                            Some(_) => {}
                        }
                    }
                    out.push(c);
                }
            }
        }
    }

    fn value(&mut self, name: &str) -> Option<String> {
        let value = (self.lookup)(name);
        if value.is_none() && !self.skip_unset {
            self.unmatched.push(name.to_string());
        }
        value
    }

    /// `processDollar`: `$name`, `${name}` and `${name<modifier>word}`.
    fn dollar(&mut self) -> Result<String, LexError> {
        self.next();
        if self.peek() != Some('{') {
            let name = self.name();
            if name.is_empty() {
                return Ok("$".into());
            }
            return Ok(match self.value(&name) {
                Some(v) => v,
                None if self.skip_unset => format!("${name}"),
                None => String::new(),
            });
        }
        self.next();
        match self.peek() {
            None => return Self::syntax("syntax error: missing '}'"),
            Some('{' | '}' | ':') => return Self::syntax("syntax error: bad substitution"),
            Some(_) => {}
        }
        let name = self.name();
        let mut modifier = String::new();
        let mut op = self.next();
        modifier.extend(op);
        let mut null_is_unset = false;
        if op == Some(':') {
            null_is_unset = true;
            op = self.next();
            modifier.extend(op);
        }
        match op {
            Some('}') if !null_is_unset => Ok(match self.value(&name) {
                Some(v) => v,
                None if self.skip_unset => format!("${{{name}}}"),
                None => String::new(),
            }),
            Some(c @ ('+' | '-' | '?' | '#' | '%')) => {
                let raw = c == '#' || c == '%';
                if null_is_unset && raw {
                    return Self::syntax(format!(
                        "unsupported modifier ({modifier}) in substitution"
                    ));
                }
                let word = self.nested(Some('}'), raw, "syntax error: missing '}'")?;
                // Unset is an answer here (`-` and `+` say what it gives), not a gap.
                let value = (self.lookup)(&name);
                if self.skip_unset && value.is_none() {
                    return Ok(format!("${{{name}{modifier}{word}}}"));
                }
                let empty = value
                    .as_deref()
                    .is_none_or(|v| null_is_unset && v.is_empty());
                match c {
                    '-' => Ok(if empty {
                        word
                    } else {
                        value.unwrap_or_default()
                    }),
                    '+' => Ok(if empty { String::new() } else { word }),
                    // `${X?}` fails the build when unset; a pattern needs the value.
                    _ if empty || raw => {
                        self.unknown = true;
                        self.unmatched.push(name);
                        Ok(String::new())
                    }
                    _ => Ok(value.unwrap_or_default()),
                }
            }
            Some(_) if null_is_unset => {
                // BuildKit reads the word first, then rejects the modifier unless unset
                // variables are kept as written.
                let word = self.nested(Some('}'), false, "syntax error: missing '}'")?;
                if self.skip_unset && (self.lookup)(&name).is_none() {
                    return Ok(format!("${{{name}{modifier}{word}}}"));
                }
                Self::syntax(format!("unsupported modifier ({modifier}) in substitution"))
            }
            Some('/') if !null_is_unset => {
                let all = self.peek() == Some('/');
                if all {
                    self.next();
                }
                let pattern = self.nested(Some('/'), true, "syntax error: missing '/' in ${}")?;
                let replacement = self.nested(Some('}'), true, "syntax error: missing '}'")?;
                let value = self.value(&name);
                if self.skip_unset && value.is_none() {
                    let slash = if all { "//" } else { "/" };
                    return Ok(format!("${{{name}{slash}{pattern}/{replacement}}}"));
                }
                self.unknown = true;
                Ok(String::new())
            }
            _ => Self::syntax(format!("unsupported modifier ({modifier}) in substitution")),
        }
    }

    /// A nested `processStopOn`, depth-limited.
    fn nested(&mut self, stop: Option<char>, raw: bool, at_end: &str) -> Result<String, LexError> {
        if self.depth >= MAX_DEPTH {
            return Err(LexError::Unknown(Vec::new()));
        }
        self.depth += 1;
        let result = self.run(stop, raw);
        self.depth -= 1;
        match result {
            Ok((text, _)) => Ok(text),
            Err(LexError::Syntax(_)) if self.peek().is_none() => Self::syntax(at_end),
            Err(e) => Err(e),
        }
    }

    /// `processName`: letters, digits and `_`; or digits alone; or one special parameter.
    fn name(&mut self) -> String {
        let mut name = String::new();
        while let Some(c) = self.peek() {
            if name.is_empty() && c.is_numeric() {
                while let Some(d) = self.peek().filter(|d| d.is_numeric()) {
                    name.push(d);
                    self.next();
                }
                return name;
            }
            if name.is_empty() && matches!(c, '@' | '*' | '#' | '?' | '-' | '$' | '!' | '0') {
                self.next();
                return c.to_string();
            }
            if !(c.is_alphabetic() || c.is_numeric() || c == '_') {
                break;
            }
            name.push(c);
            self.next();
        }
        name
    }

    /// `<` alone, or `<<` with the blanks after it (they stay in the word).
    fn possible_heredoc(&mut self) -> String {
        self.next();
        if self.peek() != Some('<') {
            return "<".into();
        }
        self.next();
        let mut text = String::from("<<");
        while let Some(c) = self.peek().filter(|c| matches!(c, '\t' | '\r' | ' ')) {
            text.push(c);
            self.next();
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(line: &str) -> Vec<String> {
        heredoc_line_words(line)
            .iter()
            .filter_map(|w| heredoc_word(w).ok().flatten())
            .map(|h| h.name)
            .collect()
    }

    /// BuildKit's own cases (parser_heredoc_test.go), where its test really asserts them.
    #[test]
    fn heredoc_words_as_buildkit_reads_them() {
        for (word, name) in [
            ("<<EOF", "EOF"),
            ("<<'EOF'", "EOF"),
            ("<<\"EOF\"", "EOF"),
            ("<<-EOF", "EOF"),
            ("<<-'EOF'", "EOF"),
            ("<<EO\"F\"", "EOF"),
            ("<< EOF", "EOF"),
            ("<<- EOF", "EOF"),
            ("3<<EOF", "EOF"),
        ] {
            assert_eq!(
                heredoc_word(word).unwrap().map(|h| h.name).as_deref(),
                Some(name),
                "{word}"
            );
        }
        for word in [
            "", "EOF", "<<", "<<-", "<EOF", "<<<EOF", "<<EOF sh", "cat<<EOF",
        ] {
            assert_eq!(heredoc_word(word), Ok(None), "{word}");
        }
        for word in ["<<'EOF", "<<\"EOF", "<<EOF'", "<<EOF\""] {
            assert!(heredoc_word(word).is_err(), "{word}");
        }
        let quoted = heredoc_word("<<eo'f'").unwrap().unwrap();
        assert_eq!((quoted.name.as_str(), quoted.expand), ("eof", false));
        let escaped = heredoc_word("<<eo\\'f").unwrap().unwrap();
        assert_eq!((escaped.name.as_str(), escaped.expand), ("eo'f", true));
        let spaced = heredoc_word("<<'one two'").unwrap().unwrap();
        assert_eq!(spaced.name, "one two");
        assert_eq!(heredoc_word("<<$EOF").unwrap().unwrap().name, "$EOF");
    }

    #[test]
    fn heredocs_in_a_line_as_buildkit_splits_it() {
        assert_eq!(names("RUN <<EOF <<EOF2"), ["EOF", "EOF2"]);
        assert_eq!(names("RUN <<  EOF  > foo"), ["EOF"]);
        assert_eq!(names("RUN 4<<EOF"), ["EOF"]);
        assert_eq!(names("RUN << -EOF"), ["-EOF"]);
        // BuildKit's test lists `RUN <<- EOF` as a heredoc, but its loop passes vacuously on
        // no heredocs, which is what its lexer yields: `<<-` and `EOF` are two words.
        assert!(names("RUN <<- EOF").is_empty());
        // The marker must start its word: `cat<<EOF` is no heredoc for BuildKit, so the lines
        // after it are instructions.
        assert!(names("RUN cat<<EOF").is_empty());
        // The name runs to the end of the word: `>file` is part of it.
        assert_eq!(names("RUN cat <<EOF>/tmp/x"), ["EOF>/tmp/x"]);
        assert!(names("RUN '<<EOF'").is_empty());
        assert!(names("RUN \"<<EOF\"").is_empty());
        // A line the lexer rejects has no heredocs at all.
        assert!(names("RUN <<EOF echo \"unterminated").is_empty());
        assert!(names("RUN <<EOF echo ${").is_empty());
    }

    fn user(word: &str, vars: &[(&str, &str)]) -> Result<String, LexError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        process_word(word, '\\', &|name| {
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn words_are_processed_like_a_shell_word() {
        assert_eq!(user("r\\oot", &[]).unwrap(), "root");
        assert_eq!(user("\\0", &[]).unwrap(), "0");
        assert_eq!(user("\"ro\"ot", &[]).unwrap(), "root");
        assert_eq!(user("'r'o\"o\"t", &[]).unwrap(), "root");
        assert_eq!(user("\"\\r\"", &[]).unwrap(), "\\r");
        assert_eq!(user("'$U'", &[("U", "0")]).unwrap(), "$U");
        assert_eq!(user("$U:${G:-0}", &[("U", "app")]).unwrap(), "app:0");
        assert_eq!(user("${U:+0}", &[("U", "x")]).unwrap(), "0");
        assert_eq!(user("${U-1000}", &[("U", "")]).unwrap(), "");
        assert_eq!(
            user("$APP_UID", &[]),
            Err(LexError::Unknown(vec!["APP_UID".into()]))
        );
        assert!(matches!(
            user("${U%%x}", &[("U", "0x")]),
            Err(LexError::Unknown(_))
        ));
        assert!(matches!(user("\"root", &[]), Err(LexError::Syntax(_))));
        assert!(matches!(user("${}", &[]), Err(LexError::Syntax(_))));
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = "${A:-".repeat(40) + "0" + &"}".repeat(40);
        assert!(matches!(user(&deep, &[]), Err(LexError::Unknown(_))));
    }
}
