//! Helpers shared by several Dockerfile rules: which stage an instruction is in, which stages
//! end up in the built image, and variable expansion at a point of the file; then the text
//! helpers of the rules that search commands and configuration (option bundles, `NAME=value`
//! assignments, configuration patterns, where a word is written, one finding per line).

use crate::dockerfile::expand::{expand, global_scope, stage_scope, Scope};
use crate::dockerfile::shell::{RunScript, SimpleCommand};
use crate::dockerfile::{
    Args, BaseEnv, DockerfileFacts, ImageUseKind, Instruction, Keyword, Unresolved,
};
use crate::finding::Span;
use crate::rules::{Diagnostics, DockerfileContext, OptionKind, OptionSpec};
use regex::Regex;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

/// The index of the stage instruction `index` belongs to (`None` before the first `FROM`).
pub fn stage_of(facts: &DockerfileFacts, index: usize) -> Option<usize> {
    facts
        .file
        .stages
        .iter()
        .find(|s| s.from <= index && index < s.end)
        .map(|s| s.index)
}

/// The earlier stage that stage `stage` is built `FROM` (`FROM build AS test`), matched as
/// BuildKit does: by name, case-insensitively, after expanding global ARGs, or by index.
pub fn parent_stage(facts: &DockerfileFacts, global: &Scope, stage: usize) -> Option<usize> {
    let from_image = facts
        .images
        .iter()
        .any(|u| u.kind == ImageUseKind::From && u.stage == stage);
    if from_image {
        return None;
    }
    let this = facts.file.stages.get(stage)?;
    let Args::From { image, .. } = &facts.file.instructions.get(this.from)?.args else {
        return None;
    };
    let base = global
        .process_word(image, facts.file.escape)
        .ok()?
        .to_ascii_lowercase();
    let earlier = facts.file.stages.get(..stage)?;
    earlier
        .iter()
        .rev()
        .find(|s| s.name.as_deref() == Some(base.as_str()))
        .map(|s| s.index)
        .or_else(|| base.parse::<usize>().ok().filter(|n| *n < stage))
}

/// Stage `stage` and the stages it is built from, nearest first: everything whose
/// instructions shape that stage's image (its config and its files).
pub fn stage_chain(facts: &DockerfileFacts, stage: usize) -> Vec<usize> {
    let global = global_scope(&facts.file, &facts.build_args);
    let mut chain = vec![stage];
    let mut current = stage;
    while let Some(parent) = parent_stage(facts, &global, current) {
        // Parents are always earlier stages, so the chain ends; the check keeps it so.
        if parent >= current {
            break;
        }
        chain.push(parent);
        current = parent;
    }
    chain
}

/// The stages that make up the built image: the built stage (`--target`, else the last) and
/// the stages it is built from, nearest first. Empty when the file has no stage.
pub fn final_image_stages(facts: &DockerfileFacts) -> Vec<usize> {
    match facts.built_stage() {
        Some(last) => stage_chain(facts, last.index),
        None => Vec::new(),
    }
}

/// Expands `word` with the ARGs and ENVs visible just before instruction `index` (a top-level
/// instruction; BuildKit's rules: `--build-arg` overrides, global ARGs only when re-declared).
/// Variables without a known value (they may come from the base image) make it unresolved.
pub fn expand_at(facts: &DockerfileFacts, index: usize, word: &str) -> Result<String, Unresolved> {
    match stage_of(facts, index) {
        Some(stage) => stage_scope(&facts.file, stage, index, &facts.build_args)
            .expand(word, facts.file.escape),
        None => global_scope(&facts.file, &facts.build_args).expand(word, facts.file.escape),
    }
}

/// The instructions of stage `stage` after its `FROM`, with their indices.
pub fn stage_body(
    facts: &DockerfileFacts,
    stage: usize,
) -> impl Iterator<Item = (usize, &Instruction)> + '_ {
    let range = facts.file.stages.get(stage).map_or(0..0, |s| s.body());
    facts
        .file
        .instructions
        .iter()
        .enumerate()
        .skip(range.start)
        .take(range.len())
}

/// The instruction an `ONBUILD` wraps, with `true`; any other instruction as it is, with
/// `false`.
pub fn onbuild_trigger(inst: &Instruction) -> (&Instruction, bool) {
    match &inst.args {
        Args::Onbuild(inner) => (inner, true),
        _ => (inst, false),
    }
}

/// Whether `path` is absolute on Linux (`/srv`) or Windows (`C:\app`, `c:/app`, `\app`).
pub fn is_absolute_path(path: &str) -> bool {
    let mut chars = path.chars();
    match (chars.next(), chars.next()) {
        (Some('/' | '\\'), _) => true,
        (Some(drive), Some(':')) => drive.is_ascii_alphabetic(),
        _ => false,
    }
}

/// `word` without one pair of matching surrounding quotes.
pub fn strip_quotes(word: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = word.strip_prefix(quote).and_then(|w| w.strip_suffix(quote)) {
            return inner;
        }
    }
    word
}

/// The `schema` option of the label rules: label name → expected type.
pub const LABEL_SCHEMA: OptionSpec = OptionSpec {
    name: "schema",
    kind: OptionKind::StringMap,
    doc: "Labels the image must carry, each with the type its value must have: `text`, \
          `url`, `hash` (git commit), `rfc3339` (date-time), `semver`, `spdx` (license \
          expression) or `email` (like hadolint's `label-schema`). Usually set once for all \
          label rules with the policy's top-level `label_schema`; a rule's own `schema` wins.",
};

/// The labels of `schema` whose type is `kind` (compared case-insensitively).
pub fn schema_labels<'a>(ctx: &'a DockerfileContext<'_>, kind: &str) -> Vec<&'a str> {
    ctx.options
        .map(LABEL_SCHEMA.name)
        .into_iter()
        .flatten()
        .filter(|(_, t)| t.trim().eq_ignore_ascii_case(kind))
        .map(|(name, _)| name.as_str())
        .collect()
}

/// A label of the built image: its last definition in the stages that make up the image.
#[derive(Debug, Clone)]
pub struct ImageLabel {
    /// The value as written (quotes removed, variables not expanded).
    pub written: String,
    /// The value with the stage's `ARG`s and `ENV`s expanded.
    pub value: Result<String, Unresolved>,
    /// The `LABEL` instruction that sets it last.
    pub span: Span,
}

impl ImageLabel {
    /// How to show the value in a message: as written, and resolved when that differs.
    pub fn shown(&self) -> String {
        match &self.value {
            Ok(value) if *value != self.written => {
                format!("`{}` (resolved to `{value}`)", self.written)
            }
            _ => format!("`{}`", self.written),
        }
    }
}

/// The labels the built image gets from its Dockerfile, by key: later `LABEL`s override
/// earlier ones, parent stages come first. Keys whose variables have no known value are left
/// out; `ONBUILD LABEL` applies to other images and is left out too.
pub fn image_labels(facts: &DockerfileFacts) -> BTreeMap<String, ImageLabel> {
    let mut labels = BTreeMap::new();
    for stage in final_image_stages(facts).into_iter().rev() {
        for (index, inst) in stage_body(facts, stage) {
            let Args::Label(pairs) = &inst.args else {
                continue;
            };
            for pair in pairs {
                let key = if pair.key.contains('$') {
                    match expand_at(facts, index, &pair.key) {
                        Ok(key) => key,
                        Err(_) => continue,
                    }
                } else {
                    pair.key.clone()
                };
                let value = if pair.value.contains('$') {
                    expand_at(facts, index, &pair.value)
                } else {
                    Ok(pair.value.clone())
                };
                labels.insert(
                    key,
                    ImageLabel {
                        written: pair.value.clone(),
                        value,
                        span: inst.span,
                    },
                );
            }
        }
    }
    labels
}

/// Checks the image's labels that the schema gives type `kind` with `valid`, reporting each
/// invalid one with `problem` (e.g. "is not a valid URL"). Empty values are left to `DL3051`
/// and values whose variables have no known value are not judged.
pub fn check_typed_labels(
    ctx: &DockerfileContext<'_>,
    out: &mut crate::rules::Diagnostics,
    kind: &str,
    valid: fn(&str) -> bool,
    problem: &str,
) {
    let wanted = schema_labels(ctx, kind);
    if wanted.is_empty() {
        return;
    }
    for (key, label) in image_labels(ctx.facts) {
        if !wanted.contains(&key.as_str()) {
            continue;
        }
        let Ok(value) = &label.value else { continue };
        if value.trim().is_empty() || valid(value) {
            continue;
        }
        out.push(
            label.span,
            format!("label `{key}` {problem}: {}", label.shown()),
        );
    }
}

/// A `USER` instruction of a stage chain: its stage, its index in the file, its argument.
pub struct UserInstruction {
    pub stage: usize,
    pub index: usize,
    pub span: Span,
    pub written: String,
}

/// The `USER` in effect at the end of `chain` (nearest stage first, as [`stage_chain`] gives
/// it): the last one of the nearest stage that has one. A stage built `FROM` an earlier stage
/// runs that stage's `ONBUILD` triggers before its own instructions (BuildKit prepends them),
/// so an `ONBUILD USER` of the parent counts for the child when the child sets none; it is
/// placed at the start of the child, at the trigger's line. A stage's own triggers do not run
/// in it.
pub fn last_user(facts: &DockerfileFacts, chain: &[usize]) -> Option<UserInstruction> {
    chain.iter().enumerate().find_map(|(position, &stage)| {
        let own = stage_body(facts, stage)
            .filter_map(|(index, inst)| match &inst.args {
                Args::User(written) => Some(UserInstruction {
                    stage,
                    index,
                    span: inst.span,
                    written: written.clone(),
                }),
                _ => None,
            })
            .last();
        own.or_else(|| {
            let parent = *chain.get(position + 1)?;
            let start = facts.file.stages.get(stage)?.from + 1;
            stage_body(facts, parent)
                .filter_map(|(_, inst)| match onbuild_trigger(inst) {
                    (
                        Instruction {
                            args: Args::User(written),
                            ..
                        },
                        true,
                    ) => Some(UserInstruction {
                        stage,
                        index: start,
                        span: inst.span,
                        written: written.clone(),
                    }),
                    _ => None,
                })
                .last()
        })
    })
}

/// Expands a `USER` argument as BuildKit does: `ENV`s set so far in its stage and the stages
/// it is built from (they persist in the image), starting from the base image's `Env` when
/// `--resolve` fetched it, then the stage's `ARG`s (which do not persist). An `ENV` wins over
/// an `ARG` of the same name.
pub fn resolve_user(
    facts: &DockerfileFacts,
    chain: &[usize],
    user: &UserInstruction,
) -> Result<String, Unresolved> {
    let position = chain.iter().position(|&s| s == user.stage).unwrap_or(0);
    let base = base_env(facts, chain);
    let mut env: BTreeMap<String, Option<String>> =
        base.map(|base| base.vars.clone()).unwrap_or_default();
    // From the root of the chain down to the stage that holds the USER.
    for &stage in chain.get(position..).unwrap_or_default().iter().rev() {
        let body = stage_body(facts, stage)
            .take_while(|(index, _)| stage != user.stage || *index < user.index);
        for (index, inst) in body {
            let Args::Env(pairs) = &inst.args else {
                continue;
            };
            let scope = stage_scope(&facts.file, stage, index, &facts.build_args);
            for pair in pairs {
                let value = expand_with_env(facts, &pair.value, &env, &scope).ok();
                env.insert(pair.key.clone(), value);
            }
        }
    }
    let scope = stage_scope(&facts.file, user.stage, user.index, &facts.build_args);
    // An ARG that sets a variable the base image also sets: BuildKit expands with the ARG
    // (both are its stage's environment, the later wins), the classic builder with the
    // image's value. Which one builds this file is not known here, so neither is the value.
    for (name, value) in base.map(|b| &b.vars).into_iter().flatten() {
        let arg = scope.get(name);
        if env.get(name) == Some(value) && arg.is_some() && arg != value.as_deref() {
            env.insert(name.clone(), None);
        }
    }
    // BuildKit processes USER as one shell word: quotes removed, escapes applied (`r\oot` and
    // `"ro"ot` are `root`), variables expanded.
    crate::dockerfile::lex::process_word(user.written.trim(), facts.file.escape, &|name| match env
        .get(name)
    {
        Some(value) => value.clone(),
        None => scope.get(name).map(str::to_string),
    })
    .map_err(Unresolved::from)
}

/// The fetched base image's environment, when `chain` (nearest stage first) starts from it.
pub fn base_env<'a>(facts: &'a DockerfileFacts, chain: &[usize]) -> Option<&'a BaseEnv> {
    facts
        .base_env
        .as_ref()
        .filter(|base| chain.last() == Some(&base.stage))
}

/// Expands `word`; an ENV value (inherited or the stage's own) beats an ARG of the same name.
fn expand_with_env(
    facts: &DockerfileFacts,
    word: &str,
    env: &BTreeMap<String, Option<String>>,
    scope: &Scope,
) -> Result<String, Unresolved> {
    expand(word, facts.file.escape, &|name| match env.get(name) {
        Some(value) => value.clone(),
        None => scope.get(name).map(str::to_string),
    })
}

/// The segments of a path after `.`, `..` and empty ones are resolved, quotes and a Windows
/// drive removed: empty for the root (`/`, `/.`, `.`, `C:\`), `["*"]` for `/*`.
pub fn normalize_path(path: &str) -> Vec<&str> {
    let path = strip_quotes(path.trim());
    let path = match path.as_bytes() {
        [drive, b':', ..] if drive.is_ascii_alphabetic() => &path[2..],
        _ => path,
    };
    let mut segments = Vec::new();
    for segment in path.split(['/', '\\']) {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            _ => segments.push(segment),
        }
    }
    segments
}

// ---------------------------------------------------------------------------------------------
// Text, options and findings: shared by the rules that search commands and configuration
// (PC20xx, DL3064, PC2008).
// ---------------------------------------------------------------------------------------------

/// A false boolean as tools spell it.
pub fn is_false(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "false" | "0" | "no" | "off"
    )
}

/// Whether `arg` is a bundle of short options (`-fsSLk`) that includes `flag` before any option
/// that takes a value (the rest of the word is then that value).
pub fn has_short_flag(arg: &str, flag: char, takes_value: &str) -> bool {
    let Some(bundle) = arg.strip_prefix('-') else {
        return false;
    };
    if bundle.starts_with('-') || bundle.is_empty() {
        return false;
    }
    for c in bundle.chars() {
        if c == flag {
            return true;
        }
        if takes_value.contains(c) || !c.is_ascii_alphanumeric() {
            return false;
        }
    }
    false
}

/// Whether `arg` is a bundle of short options ending with one that takes a value, which is
/// then the next word (`-o file`, `-fsSLo file`).
pub fn takes_next_word(arg: &str, takes_value: &str) -> bool {
    let Some(bundle) = arg.strip_prefix('-') else {
        return false;
    };
    if bundle.starts_with('-') {
        return false;
    }
    bundle
        .char_indices()
        .find(|(_, c)| takes_value.contains(*c))
        .is_some_and(|(i, c)| i + c.len_utf8() == bundle.len())
}

/// A pattern found in configuration text that a RUN or a heredoc writes.
pub struct ConfigPattern {
    source: &'static str,
    /// Lower-case text every match contains: lines without it are not searched, and the
    /// regex is compiled only once a line has it (compiling every pattern would cost each
    /// process a few milliseconds, which matters when a hook runs once per file).
    needle: &'static str,
    regex: OnceLock<Regex>,
    pub key: &'static str,
    pub message: &'static str,
}

impl ConfigPattern {
    /// The first match in `text`; `lowered` is `text` in ASCII lower case.
    pub fn find<'t>(&self, text: &'t str, lowered: &str) -> Option<regex::Match<'t>> {
        if !lowered.contains(self.needle) {
            return None;
        }
        self.regex
            .get_or_init(|| {
                // The patterns are constants, tested below.
                crate::rules::constant_regex(self.source)
            })
            .find(text)
    }
}

/// A [`ConfigPattern`] from a constant regex and the lower-case text all its matches contain.
pub fn config_pattern(
    source: &'static str,
    needle: &'static str,
    key: &'static str,
    message: &'static str,
) -> ConfigPattern {
    debug_assert_eq!(needle, needle.to_ascii_lowercase());
    ConfigPattern {
        source,
        needle,
        regex: OnceLock::new(),
        key,
        message,
    }
}

/// Findings of one check, at most one per line and kind, in file order.
#[derive(Default)]
pub struct Hits {
    seen: BTreeSet<(usize, &'static str)>,
    found: Vec<(Span, String)>,
}

impl Hits {
    /// Records a finding unless one of the same `key` was already recorded on that line.
    pub fn add(&mut self, span: Span, key: &'static str, message: impl Into<String>) {
        if self.seen.insert((span.line, key)) {
            self.found.push((span, message.into()));
        }
    }

    pub fn into_diagnostics(mut self, out: &mut Diagnostics) {
        self.found.sort_by_key(|(span, _)| *span);
        for (span, message) in self.found {
            out.push(span, message);
        }
    }
}

/// An `ENV` pair or an `ARG` with a default, `ONBUILD` triggers included.
pub struct Declared<'a> {
    pub keyword: Keyword,
    pub name: &'a str,
    /// The value as written (quotes removed), or expanded when it uses variables that have a
    /// known value at that point.
    pub value: String,
    pub written: &'a str,
    pub instruction: &'a Instruction,
}

/// Every `ENV` pair and `ARG` default of the file, in order.
pub fn declared_values(facts: &DockerfileFacts) -> Vec<Declared<'_>> {
    let mut declared = Vec::new();
    for (index, inst) in facts.file.instructions.iter().enumerate() {
        let (inner, _) = onbuild_trigger(inst);
        let pairs: Vec<(&str, &str)> = match &inner.args {
            Args::Env(pairs) => pairs
                .iter()
                .map(|kv| (kv.key.as_str(), kv.value.as_str()))
                .collect(),
            Args::Arg(decls) => decls
                .iter()
                .filter_map(|d| Some((d.name.as_str(), d.default.as_deref()?)))
                .collect(),
            _ => continue,
        };
        for (name, written) in pairs {
            let value = if written.contains('$') {
                expand_at(facts, index, written).unwrap_or_else(|_| written.to_string())
            } else {
                written.to_string()
            };
            declared.push(Declared {
                keyword: inner.keyword,
                name,
                value,
                written,
                instruction: inst,
            });
        }
    }
    declared
}

/// Environment assignments a command makes: `VAR=1 cmd`, `sudo VAR=1 cmd`, `env VAR=1 cmd`,
/// `export VAR=1` (also `declare -x`, `readonly`, `local`, `typeset`).
pub fn assignments(command: &SimpleCommand) -> Vec<(String, String)> {
    let mut found = command.assignments.clone();
    let mut words = command.words.iter().map(String::as_str).peekable();
    // Wrappers and their flags, with assignments among them (`sudo -E env A=1 cmd`).
    let mut after_wrapper = false;
    while let Some(&word) = words.peek() {
        let name = word.rsplit('/').next().unwrap_or(word);
        if matches!(name, "sudo" | "doas" | "env" | "nohup" | "exec" | "command") {
            after_wrapper = true;
        } else if let Some((k, v)) = assignment(word) {
            found.push((k.to_string(), v.to_string()));
        } else if !(after_wrapper && word.starts_with('-')) {
            break;
        }
        words.next();
    }
    if let Some(builtin) = words.next() {
        if matches!(
            builtin,
            "export" | "declare" | "typeset" | "readonly" | "local"
        ) {
            for word in words {
                if let Some((k, v)) = assignment(word) {
                    found.push((k.to_string(), v.to_string()));
                }
            }
        }
    }
    found
}

/// `NAME=value` split, when `NAME` is a valid variable name.
pub fn assignment(word: &str) -> Option<(&str, &str)> {
    let (name, value) = word.split_once('=')?;
    let valid = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    valid.then_some((name, value))
}

/// The span of a whole line, from its first non-blank character.
pub fn line_span(facts: &DockerfileFacts, line: usize) -> Span {
    let text = facts.line_text(line);
    let start = text.chars().take_while(|c| c.is_whitespace()).count() + 1;
    let end = text.chars().count() + 1;
    Span::new(line, start.min(end), line, end.max(start + 1))
}

/// The first place `needle` is written within lines `from..=to`, if anywhere.
fn find_between(facts: &DockerfileFacts, from: usize, to: usize, needle: &str) -> Option<Span> {
    if needle.is_empty() {
        return None;
    }
    (from..=to).find_map(|line| {
        let text = facts.line_text(line);
        let byte = text.find(needle)?;
        let column = text[..byte].chars().count() + 1;
        Some(Span::new(
            line,
            column,
            line,
            column + needle.chars().count(),
        ))
    })
}

/// Where `needle` is written within an instruction's lines; the instruction's first line when
/// it cannot be found (it may be written with quotes or escapes).
pub fn locate(facts: &DockerfileFacts, span: Span, needle: &str) -> Span {
    find_between(facts, span.line, span.end_line, needle)
        .unwrap_or_else(|| line_span(facts, span.line))
}

/// Where `needle` is written in `command` (at or after the line the command starts on);
/// the command's first line when it cannot be found.
pub fn command_span(
    facts: &DockerfileFacts,
    run: &RunScript<'_>,
    command: &SimpleCommand,
    needle: &str,
) -> Span {
    let end = run.run.span.end_line.max(command.line);
    find_between(facts, command.line, end, needle).unwrap_or_else(|| line_span(facts, command.line))
}

/// The lines of text an instruction runs or writes, outside comments: a RUN's lines (heredoc
/// bodies included) and the heredoc bodies of COPY and ADD. `ONBUILD` triggers included.
pub fn config_lines(facts: &DockerfileFacts) -> Vec<(usize, &str)> {
    let mut lines = Vec::new();
    for inst in &facts.file.instructions {
        let (inner, _) = onbuild_trigger(inst);
        let first = match inner.keyword {
            Keyword::Run => inst.span.line,
            Keyword::Copy | Keyword::Add => match inner.heredocs.first() {
                Some(h) => h.body_line,
                None => continue,
            },
            _ => continue,
        };
        for line in first..=inst.span.end_line {
            let text = facts.line_text(line);
            if !text.trim_start().starts_with('#') {
                lines.push((line, text));
            }
        }
    }
    lines
}

/// Every match of `patterns` in [`config_lines`]: line, start and end columns, pattern.
pub fn config_matches<'p>(
    facts: &DockerfileFacts,
    patterns: &'p [ConfigPattern],
) -> Vec<(usize, usize, usize, &'p ConfigPattern)> {
    let mut found = Vec::new();
    for (line, text) in config_lines(facts) {
        let lowered = text.to_ascii_lowercase();
        for pattern in patterns {
            if let Some(m) = pattern.find(text, &lowered) {
                let column = text[..m.start()].chars().count() + 1;
                let end = text[..m.end()].chars().count() + 1;
                found.push((line, column, end, pattern));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn facts(src: &str) -> DockerfileFacts {
        DockerfileFacts::gather("Dockerfile", src, &BTreeMap::new())
    }

    #[test]
    fn final_image_follows_stage_parents() {
        let f =
            facts("FROM alpine AS Base\nFROM golang AS build\nFROM base AS final\nFROM final\n");
        assert_eq!(final_image_stages(&f), vec![3, 2, 0]);
        let f = facts("ARG B=base\nFROM alpine AS base\nFROM ${B}\n");
        assert_eq!(final_image_stages(&f), vec![1, 0]);
        let f = facts("FROM alpine AS a\nFROM debian\n");
        assert_eq!(final_image_stages(&f), vec![1]);
    }

    #[test]
    fn expands_in_stage_scope() {
        let f = facts("ARG D=/srv\nFROM alpine\nARG D\nENV APP=$D/app\nWORKDIR $APP\n");
        assert_eq!(expand_at(&f, 4, "$APP").as_deref(), Ok("/srv/app"));
        assert!(expand_at(&f, 4, "$HOME").is_err());
        assert_eq!(stage_of(&f, 0), None);
        assert_eq!(stage_of(&f, 4), Some(0));
    }

    #[test]
    fn strips_one_pair_of_quotes() {
        assert_eq!(strip_quotes("\"/app\""), "/app");
        assert_eq!(strip_quotes("'x'"), "x");
        assert_eq!(strip_quotes("\"x'"), "\"x'");
        assert_eq!(strip_quotes("\""), "\"");
    }

    #[test]
    fn absolute_paths() {
        for p in ["/app", "C:\\app", "c:/app", "d:", "\\app"] {
            assert!(is_absolute_path(p), "{p}");
        }
        for p in ["app", "./app", "", "1:/x", "$HOME"] {
            assert!(!is_absolute_path(p), "{p}");
        }
    }
}
