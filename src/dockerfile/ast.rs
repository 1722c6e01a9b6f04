//! The Dockerfile syntax tree. Every instruction keeps its exact span.

use crate::finding::Span;

/// A parsed Dockerfile. Parsing never fails as a whole: what could not be parsed is listed in
/// `errors` and the rest is kept.
#[derive(Debug, Clone, Default)]
pub struct Dockerfile {
    /// The file's text (with `\r\n` kept as written).
    pub source: String,
    /// The escape character: `\` unless `# escape=` says otherwise.
    pub escape: char,
    /// Parser directives from the top of the file (`syntax`, `escape`, `check`).
    pub directives: Vec<Directive>,
    pub instructions: Vec<Instruction>,
    /// Every comment line outside heredoc bodies, directives excluded.
    pub comments: Vec<Comment>,
    /// Build stages, in order; each points into `instructions`.
    pub stages: Vec<Stage>,
    pub errors: Vec<ParseError>,
    /// The shell scripts of RUN instructions, read once on first use and shared by every rule
    /// (see [`super::shell::run_scripts`]); one entry per instruction.
    pub(crate) scripts: std::sync::OnceLock<Vec<Option<super::shell::Script>>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    pub name: String,
    pub value: String,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub line: usize,
    /// 1-based column of the `#`.
    pub column: usize,
    /// The text after `#`, trimmed.
    pub text: String,
    /// Whether the comment sits inside an instruction's line continuation.
    pub inside_instruction: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub span: Span,
    pub message: String,
}

/// A build stage: a `FROM` and the instructions up to the next `FROM`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// 0-based position among stages (what `COPY --from=0` names).
    pub index: usize,
    /// The `AS name`, lower-cased as BuildKit compares it.
    pub name: Option<String>,
    /// Index of the `FROM` instruction in [`Dockerfile::instructions`].
    pub from: usize,
    /// One past the index of the stage's last instruction.
    pub end: usize,
}

impl Stage {
    /// Indices of the stage's instructions after its `FROM`.
    pub fn body(&self) -> std::ops::Range<usize> {
        self.from + 1..self.end
    }
}

/// Instruction keywords.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Keyword {
    Add,
    Arg,
    Cmd,
    Copy,
    Entrypoint,
    Env,
    Expose,
    From,
    Healthcheck,
    Label,
    Maintainer,
    Onbuild,
    Run,
    Shell,
    Stopsignal,
    User,
    Volume,
    Workdir,
}

impl Keyword {
    /// The keyword `word` names, matched as BuildKit matches it: lower-cased with Go's
    /// `strings.ToLower`, so the Kelvin sign is a `k` (`HEALTHCHEC\u{212A}` is HEALTHCHECK).
    pub fn parse(word: &str) -> Option<Keyword> {
        Some(match crate::gostr::to_lower_ascii(word).as_str() {
            "add" => Keyword::Add,
            "arg" => Keyword::Arg,
            "cmd" => Keyword::Cmd,
            "copy" => Keyword::Copy,
            "entrypoint" => Keyword::Entrypoint,
            "env" => Keyword::Env,
            "expose" => Keyword::Expose,
            "from" => Keyword::From,
            "healthcheck" => Keyword::Healthcheck,
            "label" => Keyword::Label,
            "maintainer" => Keyword::Maintainer,
            "onbuild" => Keyword::Onbuild,
            "run" => Keyword::Run,
            "shell" => Keyword::Shell,
            "stopsignal" => Keyword::Stopsignal,
            "user" => Keyword::User,
            "volume" => Keyword::Volume,
            "workdir" => Keyword::Workdir,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Keyword::Add => "ADD",
            Keyword::Arg => "ARG",
            Keyword::Cmd => "CMD",
            Keyword::Copy => "COPY",
            Keyword::Entrypoint => "ENTRYPOINT",
            Keyword::Env => "ENV",
            Keyword::Expose => "EXPOSE",
            Keyword::From => "FROM",
            Keyword::Healthcheck => "HEALTHCHECK",
            Keyword::Label => "LABEL",
            Keyword::Maintainer => "MAINTAINER",
            Keyword::Onbuild => "ONBUILD",
            Keyword::Run => "RUN",
            Keyword::Shell => "SHELL",
            Keyword::Stopsignal => "STOPSIGNAL",
            Keyword::User => "USER",
            Keyword::Volume => "VOLUME",
            Keyword::Workdir => "WORKDIR",
        }
    }
}

/// One instruction (`ONBUILD` wraps another).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    pub keyword: Keyword,
    /// From the keyword to the end of the last line (heredoc bodies included).
    pub span: Span,
    /// BuildKit flags before the arguments (`--mount=...`, `--from=...`, `--platform=...`).
    pub flags: Vec<Flag>,
    /// The argument text after the flags, continuation lines joined as BuildKit joins them
    /// (escape + newline removed; comment lines inside the continuation dropped). Heredoc
    /// bodies are not included here.
    pub rest: String,
    pub args: Args,
    pub heredocs: Vec<Heredoc>,
}

impl Instruction {
    /// The value of the first flag called `name` (without `--`), if any.
    pub fn flag(&self, name: &str) -> Option<&Flag> {
        self.flags.iter().find(|f| f.name == name)
    }

    /// Shell-form or exec-form command of RUN, CMD, ENTRYPOINT and HEALTHCHECK CMD.
    pub fn command(&self) -> Option<&Command> {
        match &self.args {
            Args::Run(c) | Args::Cmd(c) | Args::Entrypoint(c) => Some(c),
            Args::Healthcheck(Some(c)) => Some(c),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    /// The name without the leading `--`.
    pub name: String,
    /// The value after `=`, quotes removed; `None` for a bare `--link`.
    pub value: Option<String>,
}

/// A heredoc attached to RUN, COPY or ADD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    /// The delimiter word (`EOF`).
    pub name: String,
    /// `<<-`: leading tabs are stripped from body lines.
    pub strip_tabs: bool,
    /// `<<"EOF"` or `<<'EOF'`: no expansion in the body.
    pub quoted: bool,
    /// The body, without the terminating delimiter line, with a trailing newline per line.
    pub body: String,
    /// The body's first line (the line after the instruction's own, or after the previous
    /// heredoc's delimiter).
    pub body_line: usize,
}

/// A command in shell form (`RUN apt-get update`) or exec form (`RUN ["apt-get", "update"]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Shell(String),
    Exec(Vec<String>),
}

/// A `key=value` pair of ENV or LABEL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    /// The key with quotes removed.
    pub key: String,
    /// The value with quotes removed and escapes processed (no variable expansion).
    pub value: String,
}

/// One variable declared by ARG.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgDecl {
    pub name: String,
    /// The default, quotes removed (no variable expansion).
    pub default: Option<String>,
}

/// Instruction-specific arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Args {
    From {
        /// The image as written (variables not expanded).
        image: String,
        /// The stage name as written after `AS`.
        alias: Option<String>,
    },
    Run(Command),
    Cmd(Command),
    Entrypoint(Command),
    /// `SHELL ["/bin/bash", "-c"]`.
    Shell(Vec<String>),
    Env(Vec<KeyValue>),
    Label(Vec<KeyValue>),
    Arg(Vec<ArgDecl>),
    /// COPY and ADD: sources and destination, quotes removed (for the JSON form too).
    /// A heredoc source appears as `<<EOF`.
    Copy {
        sources: Vec<String>,
        dest: String,
    },
    Add {
        sources: Vec<String>,
        dest: String,
    },
    Expose(Vec<String>),
    User(String),
    Workdir(String),
    Volume(Vec<String>),
    Stopsignal(String),
    Maintainer(String),
    /// `None` for `HEALTHCHECK NONE`.
    Healthcheck(Option<Command>),
    Onbuild(Box<Instruction>),
}
