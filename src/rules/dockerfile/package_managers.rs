//! Helpers for the package-manager rules (DL3008–DL3062): the RUN commands to read, a small
//! option parser for package-manager command lines, version specs, cache mounts and cleanup,
//! and whether a stage's files end up in the built image.

use super::util::{expand_at, parent_stage, stage_body, stage_chain, stage_of};
use crate::dockerfile::expand::{expand, global_scope, stage_scope};
use crate::dockerfile::shell::{is_posix_shell, parse_script, run_scripts, SimpleCommand};
use crate::dockerfile::{Args, Command as Form, DockerfileFacts, Instruction, Unresolved};
use crate::finding::Span;
use std::collections::BTreeMap;

/// How deep `sh -c '…'` scripts are read inside each other.
const MAX_NESTING: usize = 3;

/// One command a RUN runs.
#[derive(Debug, Clone)]
pub struct Command {
    /// The command with wrappers (`sudo`, `env A=1`, `nohup`) removed.
    pub cmd: SimpleCommand,
    /// The command as written.
    pub raw: SimpleCommand,
}

impl Command {
    /// The value this command sets for variable `name` through a prefix assignment
    /// (`NAME=1 pip …`) or an `env NAME=1` wrapper.
    pub fn env(&self, name: &str) -> Option<&str> {
        let prefixed = self
            .raw
            .assignments
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str());
        let wrapped = self
            .raw
            .words
            .iter()
            .take(self.raw.words.len().saturating_sub(self.cmd.words.len()))
            .rev()
            .filter_map(|w| w.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v);
        wrapped.or(prefixed)
    }
}

/// A RUN instruction (or the RUN an `ONBUILD` wraps) with the commands it runs: shell form
/// under a POSIX `SHELL`, heredoc scripts, exec form, and `sh -c '…'` scripts inside those.
pub struct Run<'a> {
    /// Index of the instruction in the file.
    pub index: usize,
    pub stage: usize,
    /// The RUN itself (the wrapped one for `ONBUILD RUN`).
    pub inst: &'a Instruction,
    pub onbuild: bool,
    /// Every command in order, wrappers removed.
    pub commands: &'a [Command],
    /// Shell variables the script assigns (`PKGS="curl git"; apt-get install $PKGS`), with
    /// their values expanded; `None` when a value cannot be known (`V=$(cat f)`).
    shell_vars: &'a BTreeMap<String, Option<String>>,
}

/// What [`runs`] derives from one RUN, computed once per Dockerfile and kept in
/// [`DockerfileFacts`]: some thirty rules read it, and reading scripts is the costly part.
#[derive(Debug, Clone)]
pub struct RunCommands {
    index: usize,
    stage: usize,
    onbuild: bool,
    commands: Vec<Command>,
    shell_vars: BTreeMap<String, Option<String>>,
}

impl Run<'_> {
    /// Where to report `command`: the instruction, or the command's own line when it sits in
    /// a heredoc script (where the instruction's first line says little).
    pub fn span(&self, facts: &DockerfileFacts, command: &Command) -> Span {
        let line = command.cmd.line;
        crate::dockerfile::shell::command_span(self.inst, line, facts.line_text(line))
    }

    /// Commands running program `name` (by file name), with their positions in
    /// [`Run::commands`].
    pub fn find<'s>(&'s self, name: &'s str) -> impl Iterator<Item = (usize, &'s Command)> + 's {
        self.commands
            .iter()
            .enumerate()
            .filter(move |(_, c)| c.cmd.is(name))
    }

    /// The targets of the RUN's cache and tmpfs mounts: what is written there stays out of
    /// the layer.
    pub fn discarding_mounts(&self) -> Vec<String> {
        self.inst
            .flags
            .iter()
            .filter(|f| f.name == "mount")
            .filter_map(|f| f.value.as_deref())
            .filter_map(discarding_mount_target)
            .collect()
    }

    /// Whether a cache or tmpfs mount keeps any of `paths` out of the layer.
    pub fn mounts_over(&self, paths: &[&str]) -> bool {
        self.discarding_mounts()
            .iter()
            .filter(|target| !has_unknown_variable(target))
            .any(|target| paths.iter().any(|p| covers(target, p)))
    }

    /// Whether a command after position `after` removes any of `paths` (`rm -rf …/*`,
    /// `find … -delete`).
    pub fn removes_after(&self, after: usize, paths: &[&str]) -> bool {
        self.commands
            .iter()
            .skip(after + 1)
            .flat_map(|c| removed_paths(&c.cmd))
            .filter(|target| !has_unknown_variable(target))
            .any(|target| paths.iter().any(|p| covers(target, p)))
    }

    /// The words a package argument stands for, with the script's variables and the stage's
    /// ARG and ENV values expanded, and split as the shell splits an unquoted expansion. Empty
    /// when it cannot be judged: a command substitution, or nothing but variables without a
    /// known value.
    pub fn expand(&self, facts: &DockerfileFacts, word: &str) -> Vec<String> {
        if word.contains("$(") || word.contains('`') {
            return Vec::new();
        }
        if !word.contains('$') {
            return vec![word.to_string()];
        }
        match self.expand_value(facts, word) {
            // A word with blanks of its own was quoted, so its expansion is not split either.
            Ok(value) if word.contains(char::is_whitespace) => vec![value],
            Ok(value) => value.split_whitespace().map(str::to_string).collect(),
            Err(_) if only_variables(word) => Vec::new(),
            Err(_) => vec![word.to_string()],
        }
    }

    /// Expands `word` with the script's own variables, then the stage's ARG and ENV values.
    fn expand_value(&self, facts: &DockerfileFacts, word: &str) -> Result<String, Unresolved> {
        let scope = stage_scope(&facts.file, self.stage, self.index, &facts.build_args);
        let lookup = |name: &str| match self.shell_vars.get(name) {
            Some(value) => value.clone(),
            None => scope.get(name).map(str::to_string),
        };
        expand(word, facts.file.escape, &lookup)
    }

    /// Whether what this RUN leaves under `paths` ends up in the built image (see
    /// [`stage_reaches_image`]). An `ONBUILD` trigger runs in some later image: always.
    pub fn reaches_image(&self, facts: &DockerfileFacts, paths: &[&str]) -> bool {
        self.onbuild || stage_reaches_image(facts, self.stage, paths)
    }
}

/// Every RUN of every stage (`ONBUILD RUN` triggers included) with the commands it runs, as
/// [`run_scripts`] reads them: shell-form RUNs under a non-POSIX `SHELL` are skipped.
pub fn runs(facts: &DockerfileFacts) -> Vec<Run<'_>> {
    let derived = facts.run_commands.get_or_init(|| derive_runs(facts));
    derived
        .iter()
        .filter_map(|d| {
            let inst = facts.file.instructions.get(d.index)?;
            let inst = match &inst.args {
                Args::Onbuild(inner) => inner.as_ref(),
                _ => inst,
            };
            Some(Run {
                index: d.index,
                stage: d.stage,
                inst,
                onbuild: d.onbuild,
                commands: &d.commands,
                shell_vars: &d.shell_vars,
            })
        })
        .collect()
}

fn derive_runs(facts: &DockerfileFacts) -> Vec<RunCommands> {
    let no_vars = BTreeMap::new();
    run_scripts(&facts.file)
        .into_iter()
        .filter_map(|script| {
            let stage = stage_of(facts, script.index)?;
            let mut commands = Vec::new();
            for raw in script.script.commands.iter().cloned() {
                push_command(raw, 0, &mut commands);
            }
            let run = Run {
                index: script.index,
                stage,
                inst: script.run,
                onbuild: script.onbuild,
                commands: &commands,
                shell_vars: &no_vars,
            };
            let shell_vars = shell_variables(facts, &run);
            Some(RunCommands {
                index: script.index,
                stage,
                onbuild: script.onbuild,
                commands,
                shell_vars,
            })
        })
        .collect()
}

/// The variables a RUN's script assigns, in order (`X=1` alone, or `export X=1`), each value
/// expanded with the ones before it. Assignments that prefix a command only apply to it.
fn shell_variables(facts: &DockerfileFacts, run: &Run<'_>) -> BTreeMap<String, Option<String>> {
    let mut texts = vec![(run.inst.rest.as_str(), run.inst.span.line)];
    if matches!(run.inst.args, Args::Run(Form::Shell(_))) {
        // Heredoc bodies that the reader took for scripts.
        for heredoc in &run.inst.heredocs {
            let read = run.commands.iter().any(|c| c.cmd.line >= heredoc.body_line);
            if read {
                texts.push((heredoc.body.as_str(), heredoc.body_line));
            }
        }
    } else {
        texts.clear();
    }
    let mut vars = BTreeMap::new();
    for (text, line) in texts {
        for command in parse_script(text, line).commands {
            let assignments: Vec<(String, String)> = if command.words.is_empty() {
                command.assignments
            } else if command.words.first().is_some_and(|w| w == "export") {
                command.words[1..]
                    .iter()
                    .filter_map(|w| w.split_once('='))
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            } else {
                continue;
            };
            for (name, value) in assignments {
                let snapshot = vars.clone();
                let partial = Run {
                    shell_vars: &snapshot,
                    commands: &[],
                    ..*run
                };
                let known = !value.contains("$(") && !value.contains('`');
                let expanded = known
                    .then(|| partial.expand_value(facts, &value).ok())
                    .flatten();
                vars.insert(name, expanded);
            }
        }
    }
    vars
}

/// Adds `raw` and, when it is `sh -c 'script'`, the commands of that script.
fn push_command(raw: SimpleCommand, depth: usize, out: &mut Vec<Command>) {
    let cmd = raw.unwrapped();
    let nested = if depth < MAX_NESTING {
        shell_c_script(&cmd)
    } else {
        None
    };
    let line = cmd.line;
    out.push(Command { cmd, raw });
    if let Some(text) = nested {
        for mut inner in parse_script(&text, line).commands {
            inner.line = line;
            push_command(inner, depth + 1, out);
        }
    }
}

/// The script of `sh -c 'script'` (also `bash -ec`, `/bin/sh -c`).
fn shell_c_script(cmd: &SimpleCommand) -> Option<String> {
    let program = cmd.program_name()?;
    if !is_posix_shell(&[program.to_string()]) {
        return None;
    }
    let args = cmd.args();
    let c = args.iter().position(|a| {
        a.strip_prefix('-').is_some_and(|flags| {
            !flags.starts_with('-')
                && flags.chars().all(|f| f.is_ascii_alphabetic())
                && flags.contains('c')
        })
    })?;
    args.get(c + 1..)?
        .iter()
        .find(|a| !a.starts_with('-'))
        .cloned()
}

/// Whether `word` is nothing but `$NAME` / `${…}` references.
fn only_variables(word: &str) -> bool {
    let mut rest = word;
    while !rest.is_empty() {
        if let Some(braced) = rest.strip_prefix("${") {
            let Some(end) = braced.find('}') else {
                return false;
            };
            rest = &braced[end + 1..];
        } else if let Some(plain) = rest.strip_prefix('$') {
            let len = plain
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(plain.len());
            if len == 0 {
                return false;
            }
            rest = &plain[len..];
        } else {
            return false;
        }
    }
    true
}

/// The target of a `--mount` whose writes never reach the layer (`type=cache` or `tmpfs`).
fn discarding_mount_target(spec: &str) -> Option<String> {
    let mut kind = "bind".to_string();
    let mut target = None;
    for field in spec.split(',') {
        let (key, value) = field.split_once('=').unwrap_or((field, ""));
        let value = value.trim_matches(|c| c == '"' || c == '\'');
        match key.trim().to_ascii_lowercase().as_str() {
            "type" => kind = value.to_ascii_lowercase(),
            "target" | "dst" | "destination" => target = Some(value.to_string()),
            _ => {}
        }
    }
    matches!(kind.as_str(), "cache" | "tmpfs")
        .then_some(target)
        .flatten()
}

/// Paths a command deletes: `rm` operands, `find <path> … -delete` (or `-exec rm`), and
/// what `apt-get dist-clean` removes.
pub fn removed_paths(cmd: &SimpleCommand) -> Vec<&str> {
    let args = cmd.args().iter().map(String::as_str);
    if (cmd.is("apt-get") || cmd.is("apt")) && cmd.subcommand() == Some("dist-clean") {
        return vec!["/var/lib/apt/lists", "/var/cache/apt"];
    }
    if cmd.is("rm") {
        let mut operands = Vec::new();
        let mut options_done = false;
        for a in args {
            if !options_done && a == "--" {
                options_done = true;
            } else if options_done || !a.starts_with('-') {
                operands.push(a);
            }
        }
        return operands;
    }
    if cmd.is("find") {
        let deletes = cmd.has_arg("-delete")
            || cmd
                .args()
                .windows(2)
                .any(|w| w[0] == "-exec" && w[1].rsplit('/').next() == Some("rm"));
        if deletes {
            return args.take_while(|a| !a.starts_with('-')).collect();
        }
    }
    Vec::new()
}

/// Whether `ancestor` is `path` or a directory above it, so that copying or deleting
/// `ancestor` copies or deletes `path`. A segment with glob characters or variables matches
/// any one segment, trailing `*` segments mean "everything inside", `*` in `path` matches any
/// segment, and a leading `~` or `$HOME` stands for `/root` or `/home/<user>`.
pub fn covers(ancestor: &str, path: &str) -> bool {
    let home = ["~", "$HOME", "${HOME}"].iter().find_map(|h| {
        ancestor
            .strip_prefix(h)
            .filter(|r| r.is_empty() || r.starts_with('/'))
    });
    if let Some(rest) = home {
        return covers(&format!("/root{rest}"), path) || covers(&format!("/home/*{rest}"), path);
    }
    let mut outer = segments(ancestor);
    while outer.last().is_some_and(|s| s.chars().all(|c| c == '*')) {
        outer.pop();
    }
    let inner = segments(path);
    outer.len() <= inner.len()
        && outer
            .iter()
            .zip(&inner)
            .all(|(o, i)| o == i || *i == "*" || o.contains(['*', '?', '[', '$']))
}

/// Whether a path uses a variable (other than a leading `$HOME`) whose value we do not know:
/// deleting or mounting it proves nothing.
fn has_unknown_variable(path: &str) -> bool {
    let rest = ["$HOME", "${HOME}"]
        .iter()
        .find_map(|h| path.strip_prefix(h))
        .unwrap_or(path);
    rest.contains('$')
}

fn segments(path: &str) -> Vec<&str> {
    path.split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect()
}

/// Whether stage `stage`'s files under any of `paths` end up in the built image: it is the
/// last stage, a stage built `FROM` it gets there, or a `COPY --from` of it that copies one of
/// `paths` (or a directory above) lands in a stage that gets there. `RUN --mount=from=…` only
/// reads. The built stage is the `--target` one, else the last.
pub fn stage_reaches_image(facts: &DockerfileFacts, stage: usize, paths: &[&str]) -> bool {
    let count = facts.file.stages.len();
    let Some(built) = facts.built_stage().map(|s| s.index) else {
        return true;
    };
    let global = global_scope(&facts.file, &facts.build_args);
    let mut reaches = vec![false; count];
    for i in (0..=built.min(count.saturating_sub(1))).rev() {
        reaches[i] = i == built
            || (i + 1..=built).any(|later| {
                reaches[later]
                    && (parent_stage(facts, &global, later) == Some(i)
                        || copies_from(facts, later, i, paths))
            });
    }
    reaches.get(stage).copied().unwrap_or(true)
}

/// Whether stage `into` copies any of `paths` (or a directory above) from stage `from`.
fn copies_from(facts: &DockerfileFacts, into: usize, from: usize, paths: &[&str]) -> bool {
    let Some(source_stage) = facts.file.stages.get(from) else {
        return false;
    };
    stage_body(facts, into).any(|(index, inst)| {
        let Args::Copy { sources, .. } = &inst.args else {
            return false;
        };
        let Some(named) = inst.flag("from").and_then(|f| f.value.as_deref()) else {
            return false;
        };
        let named = expand_at(facts, index, named)
            .unwrap_or_else(|_| named.to_string())
            .to_ascii_lowercase();
        let is_source =
            source_stage.name.as_deref() == Some(named.as_str()) || named == from.to_string();
        is_source && sources.iter().any(|s| paths.iter().any(|p| covers(s, p)))
    })
}

/// The text of the RUNs that shape the image up to `run` (earlier RUNs of its stage and of
/// the stages it is built from, and `run` itself), for settings written to config files.
pub fn run_texts_up_to<'f>(facts: &'f DockerfileFacts, run: &Run<'_>) -> Vec<&'f str> {
    let mut texts = Vec::new();
    for (n, stage) in stage_chain(facts, run.stage).into_iter().enumerate() {
        for (index, inst) in stage_body(facts, stage) {
            if n == 0 && index > run.index {
                break;
            }
            // Earlier ONBUILD triggers run in some other build, not this one.
            let inst = match &inst.args {
                Args::Onbuild(inner) if index == run.index => inner.as_ref(),
                Args::Onbuild(_) => continue,
                _ => inst,
            };
            if let Args::Run(_) = inst.args {
                texts.push(inst.rest.as_str());
                texts.extend(inst.heredocs.iter().map(|h| h.body.as_str()));
            }
        }
    }
    texts
}

/// The value an APT configuration option is given in `text` (`APT::Install-Recommends "0";`
/// written to apt.conf.d, or `-o APT::Install-Recommends=false`), case-insensitively.
pub fn apt_option_values<'t>(text: &'t str, option: &str) -> Vec<&'t str> {
    let lower = text.to_ascii_lowercase();
    let option = option.to_ascii_lowercase();
    let mut values = Vec::new();
    let mut from = 0;
    while let Some(pos) = lower.get(from..).and_then(|t| t.find(&option)) {
        let start = from + pos + option.len();
        let rest = text.get(start..).unwrap_or("");
        let rest = rest.trim_start_matches([' ', '\t', '"', '\'', '=', '\\']);
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .unwrap_or(rest.len());
        values.push(&rest[..len]);
        from = start;
    }
    values
}

/// APT's reading of a boolean option value.
pub fn apt_bool(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "yes" | "true" | "with" | "on" | "enable" => Some(true),
        "0" | "no" | "false" | "without" | "off" | "disable" => Some(false),
        _ => None,
    }
}

/// The flags of a command-line dialect that take a value.
pub struct Syntax {
    /// Short flags that take a value (`-t stable`, `-tstable`).
    pub short_with_value: &'static str,
    /// Long flags (without dashes) that take a value as the next word (`--target-release
    /// stable`); `--name=value` works for every flag.
    pub long_with_value: &'static [&'static str],
    /// Whether single-dash words are long flags (`go install -ldflags …`).
    pub single_dash_long: bool,
}

/// One command-line argument, read with a [`Syntax`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg<'a> {
    /// A flag by its name without dashes, with its value if it takes one.
    Flag(String, Option<&'a str>),
    /// An operand (subcommand, package, path).
    Word(&'a str),
    /// `--`: what follows is not for this program's option parser.
    EndOfOptions,
}

impl Syntax {
    /// Reads `args` into flags and operands.
    pub fn parse<'a>(&self, args: &'a [String]) -> Vec<Arg<'a>> {
        let mut out = Vec::new();
        let mut words = args.iter().map(String::as_str);
        while let Some(arg) = words.next() {
            if arg == "--" {
                out.push(Arg::EndOfOptions);
                out.extend(words.by_ref().map(Arg::Word));
                break;
            }
            let long = arg
                .strip_prefix("--")
                .or_else(|| arg.strip_prefix('-').filter(|_| self.single_dash_long));
            if let Some(long) = long.filter(|l| !l.is_empty()) {
                match long.split_once('=') {
                    Some((name, value)) => out.push(Arg::Flag(name.to_string(), Some(value))),
                    None => {
                        let value = if self.long_with_value.contains(&long) {
                            words.next()
                        } else {
                            None
                        };
                        out.push(Arg::Flag(long.to_string(), value));
                    }
                }
                continue;
            }
            match arg.strip_prefix('-').filter(|s| !s.is_empty()) {
                Some(bundle) => self.short_bundle(bundle, &mut words, &mut out),
                None => out.push(Arg::Word(arg)),
            }
        }
        out
    }

    fn short_bundle<'a>(
        &self,
        bundle: &'a str,
        words: &mut impl Iterator<Item = &'a str>,
        out: &mut Vec<Arg<'a>>,
    ) {
        for (i, c) in bundle.char_indices() {
            let attached = &bundle[i + c.len_utf8()..];
            if let Some(value) = attached.strip_prefix('=') {
                // `-q=2`: any short flag may be given a value this way.
                out.push(Arg::Flag(c.to_string(), Some(value)));
                return;
            }
            if !self.short_with_value.contains(c) {
                out.push(Arg::Flag(c.to_string(), None));
                continue;
            }
            let value = if attached.is_empty() {
                words.next()
            } else {
                Some(attached)
            };
            out.push(Arg::Flag(c.to_string(), value));
            return;
        }
    }
}

/// The operands in `args` (stopping at `--` when `stop_at_end` is set).
pub fn operands<'a>(args: &[Arg<'a>], stop_at_end: bool) -> Vec<&'a str> {
    let mut out = Vec::new();
    for a in args {
        match a {
            Arg::Word(w) => out.push(*w),
            Arg::EndOfOptions if stop_at_end => break,
            _ => {}
        }
    }
    out
}

/// Whether a flag called any of `names` is present.
pub fn has_flag(args: &[Arg<'_>], names: &[&str]) -> bool {
    flag_values(args, names).next().is_some()
}

/// The values (or `None` for value-less occurrences) of the flags called any of `names`.
pub fn flag_values<'a, 'b>(
    args: &'b [Arg<'a>],
    names: &'b [&'b str],
) -> impl Iterator<Item = Option<&'a str>> + 'b {
    args.iter().filter_map(move |a| match a {
        Arg::Flag(n, v) if names.contains(&n.as_str()) => Some(*v),
        _ => None,
    })
}

/// Whether a git ref (`#v1.2.0`, `@3f2a1c9`) names a fixed revision: not empty and not a
/// branch that every repository has (`main`, `master`, `HEAD`, …).
pub fn is_fixed_git_ref(reference: &str) -> bool {
    const MOVING: &[&str] = &[
        "",
        "main",
        "master",
        "head",
        "develop",
        "development",
        "dev",
        "trunk",
        "latest",
        "default",
        "stable",
        "next",
    ];
    !MOVING.contains(&reference.to_ascii_lowercase().as_str())
}

/// The command-line dialect of `apt-get` and `apt`.
pub const APT: Syntax = Syntax {
    short_with_value: "octaP",
    long_with_value: &[
        "option",
        "config-file",
        "target-release",
        "default-release",
        "host-architecture",
        "build-profiles",
    ],
    single_dash_long: false,
};

/// When `command` is `apt-get` or `apt`, its arguments and subcommand.
pub fn apt_command(command: &Command) -> Option<(Vec<Arg<'_>>, &str)> {
    if !(command.cmd.is("apt-get") || command.cmd.is("apt")) {
        return None;
    }
    let args = APT.parse(command.cmd.args());
    let subcommand = operands(&args, false).first().copied()?;
    Some((args, subcommand))
}

/// The command-line dialect of Alpine's `apk`.
pub const APK: Syntax = Syntax {
    short_with_value: "tXp",
    long_with_value: &[
        "virtual",
        "repository",
        "root",
        "repositories-file",
        "keys-dir",
        "arch",
        "cache-dir",
        "cache-max-age",
        "wait",
        "timeout",
    ],
    single_dash_long: false,
};

/// When `command` is `apk`, its arguments and subcommand.
pub fn apk_command(command: &Command) -> Option<(Vec<Arg<'_>>, &str)> {
    if !command.cmd.is("apk") {
        return None;
    }
    let args = APK.parse(command.cmd.args());
    let subcommand = operands(&args, false).first().copied()?;
    Some((args, subcommand))
}

/// The command-line dialect of `pip` (global and `install` options).
pub const PIP: Syntax = Syntax {
    short_with_value: "rceitfbC",
    long_with_value: &[
        "requirement",
        "constraint",
        "editable",
        "index-url",
        "extra-index-url",
        "find-links",
        "target",
        "prefix",
        "root",
        "src",
        "platform",
        "python-version",
        "implementation",
        "abi",
        "upgrade-strategy",
        "progress-bar",
        "proxy",
        "no-binary",
        "only-binary",
        "build",
        "trusted-host",
        "log",
        "log-file",
        "cache-dir",
        "timeout",
        "retries",
        "resume-retries",
        "cert",
        "client-cert",
        "exists-action",
        "global-option",
        "install-option",
        "config-settings",
        "report",
        "python",
        "keyring-provider",
        "use-feature",
        "use-deprecated",
        "group",
    ],
    single_dash_long: false,
};

/// When `command` runs pip install (`pip`, `pip3`, `pip3.12`, `python3 -m pip`), pip's
/// arguments (after the program or `-m pip`), read with [`PIP`].
pub fn pip_install(command: &Command) -> Option<Vec<Arg<'_>>> {
    let name = command.cmd.program_name()?;
    let versioned = |prefix: &str| {
        name.strip_prefix(prefix)
            .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
    };
    let args = command.cmd.args();
    let pip_args = if versioned("pip") {
        args
    } else if versioned("python") {
        let module = args.iter().position(|a| a == "-m" || a == "-mpip")?;
        match args.get(module).map(String::as_str) {
            Some("-mpip") => args.get(module + 1..)?,
            _ if args.get(module + 1).is_some_and(|m| m == "pip") => args.get(module + 2..)?,
            _ => return None,
        }
    } else {
        return None;
    };
    let parsed = PIP.parse(pip_args);
    (operands(&parsed, false).first() == Some(&"install")).then_some(parsed)
}

/// `items` as a readable list: `` `a`, `b` and 3 more ``.
pub fn list(items: &[String]) -> String {
    const SHOWN: usize = 4;
    let mut text = items
        .iter()
        .take(SHOWN)
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > SHOWN {
        text.push_str(&format!(" and {} more", items.len() - SHOWN));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn facts(src: &str) -> DockerfileFacts {
        DockerfileFacts::gather("Dockerfile", src, &BTreeMap::new())
    }

    fn words(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn covers_paths_globs_and_home() {
        assert!(covers("/var/lib/apt/lists/*", "/var/lib/apt/lists"));
        assert!(covers("/var/lib/apt/lists/", "/var/lib/apt/lists"));
        assert!(covers("/var/lib/apt", "/var/lib/apt/lists"));
        assert!(covers("/", "/var/lib/apt/lists"));
        assert!(covers(".", "/var/lib/apt/lists"));
        assert!(covers("/var/lib/apt/*", "/var/lib/apt/lists"));
        assert!(!covers("/var/lib/apt/lists/partial", "/var/lib/apt/lists"));
        assert!(!covers("/var/cache/apt", "/var/lib/apt/lists"));
        assert!(covers("~/.cache/pip", "/root/.cache/pip"));
        assert!(covers("$HOME/.cache", "/home/*/.cache/pip"));
        assert!(covers("/home/app", "/home/*/.cache/pip"));
        assert!(!covers("/home/app/dist", "/home/*/.cache/pip"));
    }

    #[test]
    fn parses_flags_bundles_and_values() {
        let syntax = Syntax {
            short_with_value: "to",
            long_with_value: &["target-release"],
            single_dash_long: false,
        };
        let args = words(&[
            "-qy",
            "-q=2",
            "-t",
            "stable",
            "--target-release",
            "sid",
            "-oA=1",
            "--yes=1",
            "install",
            "curl",
            "--",
            "-x",
        ]);
        let parsed = syntax.parse(&args);
        assert_eq!(
            parsed,
            vec![
                Arg::Flag("q".into(), None),
                Arg::Flag("y".into(), None),
                Arg::Flag("q".into(), Some("2")),
                Arg::Flag("t".into(), Some("stable")),
                Arg::Flag("target-release".into(), Some("sid")),
                Arg::Flag("o".into(), Some("A=1")),
                Arg::Flag("yes".into(), Some("1")),
                Arg::Word("install"),
                Arg::Word("curl"),
                Arg::EndOfOptions,
                Arg::Word("-x"),
            ]
        );
        assert_eq!(operands(&parsed, true), vec!["install", "curl"]);
        assert_eq!(operands(&parsed, false), vec!["install", "curl", "-x"]);
    }

    #[test]
    fn reads_nested_shell_scripts_and_wrappers() {
        let f = facts(
            "FROM a\nRUN sudo -E env X=1 sh -c 'apt-get update && PIP_NO_CACHE_DIR=1 pip install x'\n",
        );
        let runs = runs(&f);
        let names: Vec<_> = runs[0]
            .commands
            .iter()
            .filter_map(|c| c.cmd.program_name())
            .collect();
        assert_eq!(names, vec!["sh", "apt-get", "pip"]);
        assert_eq!(runs[0].commands[0].env("X"), Some("1"));
        assert_eq!(runs[0].commands[2].env("PIP_NO_CACHE_DIR"), Some("1"));
    }

    #[test]
    fn skips_non_posix_shells_but_not_exec_form() {
        let f = facts(
            "FROM a\nSHELL [\"pwsh\", \"-c\"]\nRUN apt-get install x\nRUN [\"apt-get\", \"install\", \"y\"]\n",
        );
        let runs = runs(&f);
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].index, 3);
    }

    #[test]
    fn stages_reach_the_image_through_from_and_copies() {
        let f = facts(
            "FROM a AS deps\nFROM deps AS build\nFROM b AS tools\nFROM c AS other\n\
             FROM scratch\nCOPY --from=build /app /app\nCOPY --from=tools / /\n",
        );
        let p = ["/var/lib/apt/lists"];
        assert!(stage_reaches_image(&f, 4, &p));
        assert!(
            !stage_reaches_image(&f, 0, &p),
            "only /app is copied from build"
        );
        assert!(!stage_reaches_image(&f, 1, &p));
        assert!(stage_reaches_image(&f, 0, &["/app/x"]));
        assert!(stage_reaches_image(&f, 2, &p), "tools is copied whole");
        assert!(!stage_reaches_image(&f, 3, &p));
        // `--target other`: only that stage is built; the later ones never run.
        let mut f = f;
        f.set_target("other");
        assert!(stage_reaches_image(&f, 3, &p));
        assert!(!stage_reaches_image(&f, 2, &p));
        assert!(!stage_reaches_image(&f, 4, &p));
    }

    #[test]
    fn expands_package_words() {
        let f =
            facts("FROM a\nARG PKGS=\"curl git\"\nARG V\nRUN apt-get install $PKGS x=$V $UNSET\n");
        let runs = runs(&f);
        let run = &runs[0];
        assert_eq!(run.expand(&f, "$PKGS"), vec!["curl", "git"]);
        assert_eq!(run.expand(&f, "x=$V"), vec!["x=$V"]);
        assert!(run.expand(&f, "$UNSET").is_empty());
        assert!(run.expand(&f, "$(cat list)").is_empty());
    }

    #[test]
    fn apt_option_values_in_text() {
        let text = "echo 'APT::Install-Recommends \"0\";' > /etc/apt/apt.conf.d/x && \
                    apt-get -o apt::install-recommends=false install";
        assert_eq!(
            apt_option_values(text, "APT::Install-Recommends"),
            vec!["0", "false"]
        );
    }
}
