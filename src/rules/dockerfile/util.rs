//! Helpers shared by several Dockerfile rules: which stage an instruction is in, which stages
//! end up in the built image, and variable expansion at a point of the file.

use crate::dockerfile::expand::{expand, global_scope, stage_scope, Scope};
use crate::dockerfile::{Args, DockerfileFacts, ImageUseKind, Instruction, Unresolved};
use crate::finding::Span;
use crate::rules::{DockerfileContext, OptionKind, OptionSpec};
use std::collections::BTreeMap;

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
        .expand(image, facts.file.escape)
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
          expression) or `email` (like hadolint's `label-schema`).",
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
/// it): the last one of the nearest stage that has one. `ONBUILD USER` is a trigger for other
/// images and does not count.
pub fn last_user(facts: &DockerfileFacts, chain: &[usize]) -> Option<UserInstruction> {
    chain.iter().find_map(|&stage| {
        stage_body(facts, stage)
            .filter_map(|(index, inst)| match &inst.args {
                Args::User(written) => Some(UserInstruction {
                    stage,
                    index,
                    span: inst.span,
                    written: written.clone(),
                }),
                _ => None,
            })
            .last()
    })
}

/// Expands a `USER` argument as BuildKit does: `ENV`s set so far in its stage and the stages
/// it is built from (they persist in the image), then the stage's `ARG`s (which do not). An
/// `ENV` wins over an `ARG` of the same name.
pub fn resolve_user(
    facts: &DockerfileFacts,
    chain: &[usize],
    user: &UserInstruction,
) -> Result<String, Unresolved> {
    let position = chain.iter().position(|&s| s == user.stage).unwrap_or(0);
    let mut env: BTreeMap<String, Option<String>> = BTreeMap::new();
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
    expand_with_env(facts, &user.written, &env, &scope)
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
