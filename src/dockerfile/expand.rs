//! Variable expansion as BuildKit does it for `FROM`, `--from` and friends: ARG scoping
//! (global ARGs before the first FROM, re-declared inside a stage to be visible there),
//! `--build-arg` overrides, ENV inside a stage, and the `${VAR:-default}` family.

use super::ast::{Args, Dockerfile, Instruction, Keyword};
use super::{ImageUse, ImageUseKind, Unresolved};
use crate::finding::Span;
use std::collections::BTreeMap;

/// Arguments BuildKit defines in the global scope without a declaration. We assume a
/// `linux/amd64` build, the default on CI runners.
const PLATFORM_ARGS: &[(&str, &str)] = &[
    ("BUILDPLATFORM", "linux/amd64"),
    ("BUILDOS", "linux"),
    ("BUILDARCH", "amd64"),
    ("BUILDVARIANT", ""),
    ("TARGETPLATFORM", "linux/amd64"),
    ("TARGETOS", "linux"),
    ("TARGETARCH", "amd64"),
    ("TARGETVARIANT", ""),
];

/// The longest text one expansion may produce. Real values are a few hundred bytes; without a
/// cap, `ARG A=$A$A` repeated forty times would ask for terabytes. A longer result counts as
/// unknown (and an image reference built from it is reported as unresolved).
const MAX_EXPANDED_BYTES: usize = 64 * 1024;
/// How deep `${A:-${B:-…}}` defaults may nest before the word counts as unknown.
const MAX_NESTING: usize = 16;

/// Variables visible at one point of a Dockerfile. `None` means declared without a value.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    vars: BTreeMap<String, Option<String>>,
}

impl Scope {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).and_then(|v| v.as_deref())
    }

    fn set(&mut self, name: &str, value: Option<String>) {
        self.vars.insert(name.to_string(), value);
    }

    /// Expands `word` in this scope.
    pub fn expand(&self, word: &str, escape: char) -> Result<String, Unresolved> {
        expand(word, escape, &|name| self.get(name).map(str::to_string))
    }

    /// Processes `word` as BuildKit processes a `FROM` image in this scope: one shell word,
    /// quotes removed and escapes applied as well as variables expanded
    /// (`FROM "alpine:3.20"` names `alpine:3.20`).
    pub fn process_word(&self, word: &str, escape: char) -> Result<String, Unresolved> {
        super::lex::process_word(word, escape, &|name| self.get(name).map(str::to_string))
            .map_err(Unresolved::from)
    }

    /// Applies one ARG declaration: a `--build-arg` wins, then the default (expanded in the
    /// scope so far), then the value `inherited` from the global scope.
    fn declare_arg(
        &mut self,
        name: &str,
        default: Option<&str>,
        build_args: &BTreeMap<String, String>,
        inherited: Option<&Scope>,
        escape: char,
    ) {
        let value = if let Some(v) = build_args.get(name) {
            Some(v.clone())
        } else if let Some(d) = default {
            self.expand(d, escape).ok()
        } else {
            inherited.and_then(|g| g.get(name)).map(str::to_string)
        };
        self.set(name, value);
    }
}

/// The scope `FROM` lines are expanded in: platform ARGs and the ARGs before the first FROM.
pub fn global_scope(file: &Dockerfile, build_args: &BTreeMap<String, String>) -> Scope {
    let mut scope = Scope::default();
    for (name, value) in PLATFORM_ARGS {
        let value = build_args.get(*name).cloned().unwrap_or((*value).into());
        scope.set(name, Some(value));
    }
    let first_from = file
        .stages
        .first()
        .map_or(file.instructions.len(), |s| s.from);
    for inst in &file.instructions[..first_from] {
        if let Args::Arg(decls) = &inst.args {
            for d in decls {
                scope.declare_arg(&d.name, d.default.as_deref(), build_args, None, file.escape);
            }
        }
    }
    scope
}

/// The scope just before instruction `upto` (an index into `file.instructions`) of `stage`:
/// ARGs re-declared or declared in the stage, and ENV values set in it.
pub fn stage_scope(
    file: &Dockerfile,
    stage: usize,
    upto: usize,
    build_args: &BTreeMap<String, String>,
) -> Scope {
    let global = global_scope(file, build_args);
    // Platform ARGs, like global ones, are visible in a stage only when re-declared.
    let mut scope = Scope::default();
    let Some(stage) = file.stages.get(stage) else {
        return scope;
    };
    for inst in &file.instructions[stage.from + 1..upto.min(stage.end)] {
        apply(&mut scope, inst, build_args, &global, file.escape);
    }
    scope
}

fn apply(
    scope: &mut Scope,
    inst: &Instruction,
    build_args: &BTreeMap<String, String>,
    global: &Scope,
    escape: char,
) {
    match &inst.args {
        Args::Arg(decls) => {
            for d in decls {
                scope.declare_arg(
                    &d.name,
                    d.default.as_deref(),
                    build_args,
                    Some(global),
                    escape,
                );
            }
        }
        Args::Env(pairs) => {
            for kv in pairs {
                let value = scope.expand(&kv.value, escape).ok();
                scope.set(&kv.key, value);
            }
        }
        _ => {}
    }
}

/// Expands `$VAR`, `${VAR}`, `${VAR:-word}`, `${VAR-word}`, `${VAR:+word}`, `${VAR+word}` and
/// `${VAR:?msg}`. Single-quoted text and escaped `$` are left alone. A variable without a value
/// (and without a default form that supplies one) makes the result [`Unresolved`], and so does
/// a result longer than [`MAX_EXPANDED_BYTES`] or defaults nested deeper than [`MAX_NESTING`].
pub fn expand(
    word: &str,
    escape: char,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, Unresolved> {
    expand_nested(word, escape, lookup, 0)
}

fn expand_nested(
    word: &str,
    escape: char,
    lookup: &dyn Fn(&str) -> Option<String>,
    depth: usize,
) -> Result<String, Unresolved> {
    let chars: Vec<char> = word.chars().collect();
    let mut out = String::with_capacity(word.len());
    let mut missing = Vec::new();
    let mut i = 0;
    let mut in_single = false;
    while i < chars.len() {
        let c = chars[i];
        if in_single {
            if c == '\'' {
                in_single = false;
            }
            out.push(c);
            i += 1;
            continue;
        }
        if c == escape && chars.get(i + 1) == Some(&'$') {
            out.push('$');
            i += 2;
            continue;
        }
        if c == '\'' {
            in_single = true;
            out.push(c);
            i += 1;
            continue;
        }
        if c != '$' {
            out.push(c);
            i += 1;
            continue;
        }
        match chars.get(i + 1) {
            Some('{') => {
                let Some(close) = matching_brace(&chars, i + 2) else {
                    out.extend(&chars[i..]);
                    break;
                };
                let inner: String = chars[i + 2..close].iter().collect();
                match expand_braced(&inner, escape, lookup, depth) {
                    Ok(v) => {
                        out.push_str(&v);
                        if out.len() > MAX_EXPANDED_BYTES {
                            return Err(Unresolved::variable(braced_name(&inner)));
                        }
                    }
                    Err(mut names) => missing.append(&mut names.variables),
                }
                i = close + 1;
            }
            Some(n) if n.is_ascii_alphabetic() || *n == '_' => {
                let start = i + 1;
                let mut end = start;
                while end < chars.len() && (chars[end].is_ascii_alphanumeric() || chars[end] == '_')
                {
                    end += 1;
                }
                let name: String = chars[start..end].iter().collect();
                match lookup(&name) {
                    Some(v) => {
                        out.push_str(&v);
                        if out.len() > MAX_EXPANDED_BYTES {
                            return Err(Unresolved::variable(&name));
                        }
                    }
                    None => missing.push(name),
                }
                i = end;
            }
            _ => {
                out.push('$');
                i += 1;
            }
        }
    }
    if missing.is_empty() {
        Ok(out)
    } else {
        missing.dedup();
        Err(Unresolved { variables: missing })
    }
}

fn matching_brace(chars: &[char], from: usize) -> Option<usize> {
    let mut depth = 0;
    for (offset, c) in chars[from..].iter().enumerate() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return Some(from + offset),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// The variable name at the start of `${…}`'s inside.
fn braced_name(inner: &str) -> &str {
    let end = inner
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(inner.len());
    &inner[..end]
}

fn expand_braced(
    inner: &str,
    escape: char,
    lookup: &dyn Fn(&str) -> Option<String>,
    depth: usize,
) -> Result<String, Unresolved> {
    let name = braced_name(inner);
    let op = &inner[name.len()..];
    let unresolved = || Err(Unresolved::variable(name));
    if depth >= MAX_NESTING {
        return unresolved();
    }
    let value = lookup(name);
    let expand = |word: &str, escape: char, lookup: &dyn Fn(&str) -> Option<String>| {
        expand_nested(word, escape, lookup, depth + 1)
    };
    let (operator, word) = [":-", ":+", ":?", "-", "+", "?"]
        .iter()
        .find_map(|o| op.strip_prefix(o).map(|w| (*o, w)))
        .unwrap_or(("", op));
    match operator {
        "" if word.is_empty() => value.map_or_else(unresolved, Ok),
        ":-" => match value {
            Some(v) if !v.is_empty() => Ok(v),
            _ => expand(word, escape, lookup),
        },
        "-" => match value {
            Some(v) => Ok(v),
            None => expand(word, escape, lookup),
        },
        ":+" => match value {
            Some(v) if !v.is_empty() => expand(word, escape, lookup),
            _ => Ok(String::new()),
        },
        "+" => match value {
            Some(_) => expand(word, escape, lookup),
            None => Ok(String::new()),
        },
        ":?" | "?" => value.map_or_else(unresolved, Ok),
        // Pattern operators (`#`, `%`, `/`) need the value; we do not apply the pattern, so an
        // image using them is reported as unresolved rather than guessed.
        _ => unresolved(),
    }
}

/// Every image `file` uses, with references resolved from ARG defaults and `build_args`.
/// Stage names (and stage indexes) and `scratch` are not images.
pub fn image_uses(file: &Dockerfile, build_args: &BTreeMap<String, String>) -> Vec<ImageUse> {
    let global = global_scope(file, build_args);
    let lines: Vec<&str> = file.source.lines().collect();
    let mut uses: Vec<ImageUse> = syntax_use(file, build_args, &lines).into_iter().collect();
    let mut stage_names: Vec<String> = Vec::new();
    let all_stage_names: Vec<String> = file.stages.iter().filter_map(|s| s.name.clone()).collect();
    for stage in &file.stages {
        let from = &file.instructions[stage.from];
        if let Args::From { image, .. } = &from.args {
            let resolved = global.process_word(image, file.escape);
            // FROM names earlier stages by name only; indexes work in `--from` alone.
            if !names_stage_or_scratch(&resolved, &stage_names, 0) {
                uses.push(ImageUse {
                    kind: ImageUseKind::From,
                    written: image.clone(),
                    resolved,
                    instruction: Some(stage.from),
                    stage: stage.index,
                    span: first_line_span(from, &lines),
                });
            }
        }
        let mut scope = Scope::default();
        for index in stage.body() {
            let inst = &file.instructions[index];
            // The instruction's own images, then those of an ONBUILD trigger: a trigger's
            // `--from` may name any stage of this file (it runs in the stages built from its
            // own) or one of a downstream build, which cannot be known.
            let own = image_flags(inst)
                .into_iter()
                .map(|(kind, w)| (kind, w, false));
            let trigger = match &inst.args {
                Args::Onbuild(trigger) => image_flags(trigger),
                _ => Vec::new(),
            };
            let triggered = trigger.into_iter().map(|(kind, w)| {
                let kind = match kind {
                    ImageUseKind::MountFrom => ImageUseKind::OnbuildMountFrom,
                    _ => ImageUseKind::OnbuildCopyFrom,
                };
                (kind, w, true)
            });
            for (kind, written, in_trigger) in own.chain(triggered) {
                let resolved = scope.expand(&written, file.escape);
                let (names, before) = if in_trigger {
                    (&all_stage_names, file.stages.len())
                } else {
                    (&stage_names, stage.index + 1)
                };
                if !names_stage_or_scratch(&resolved, names, before) {
                    uses.push(ImageUse {
                        kind,
                        written,
                        resolved,
                        instruction: Some(index),
                        stage: stage.index,
                        span: first_line_span(inst, &lines),
                    });
                }
            }
            apply(&mut scope, inst, build_args, &global, file.escape);
        }
        if let Some(name) = &stage.name {
            stage_names.push(name.clone());
        }
    }
    uses
}

/// The frontend image the build runs: `--build-arg BUILDKIT_SYNTAX` wins over the directive,
/// as in BuildKit's dockerfile frontend. Neither is expanded with ARGs.
fn syntax_use(
    file: &Dockerfile,
    build_args: &BTreeMap<String, String>,
    lines: &[&str],
) -> Option<ImageUse> {
    let (written, line) = match build_args.get("BUILDKIT_SYNTAX") {
        Some(value) => (value.trim().split(' ').next()?.to_string(), None),
        None => {
            let (image, line) = super::detect_syntax(&file.source)?;
            (image, Some(line))
        }
    };
    let span = match line {
        Some(line) => {
            let text = lines.get(line - 1).map_or("", |l| l.trim_end_matches('\r'));
            Span::new(line, 1, line, text.chars().count() + 1)
        }
        None => Span::new(1, 1, 1, 1),
    };
    Some(ImageUse {
        kind: ImageUseKind::Syntax,
        resolved: Ok(written.clone()),
        written,
        instruction: None,
        stage: 0,
        span,
    })
}

/// `--from=` of COPY/ADD and `from=` of each `RUN --mount`.
fn image_flags(inst: &Instruction) -> Vec<(ImageUseKind, String)> {
    let mut found = Vec::new();
    match inst.keyword {
        Keyword::Copy | Keyword::Add => {
            if let Some(value) = inst.flag("from").and_then(|f| f.value.clone()) {
                found.push((ImageUseKind::CopyFrom, value));
            }
        }
        Keyword::Run => {
            for flag in inst.flags.iter().filter(|f| f.name == "mount") {
                let Some(value) = &flag.value else { continue };
                for field in value.split(',') {
                    if let Some(from) = field.trim().strip_prefix("from=") {
                        found.push((ImageUseKind::MountFrom, from.to_string()));
                    }
                }
            }
        }
        _ => {}
    }
    found
}

/// Whether a resolved `--from`/`FROM` value names an earlier stage (by name or index) or scratch.
fn names_stage_or_scratch(
    resolved: &Result<String, Unresolved>,
    stage_names: &[String],
    stages_before: usize,
) -> bool {
    let Ok(value) = resolved else { return false };
    let lowered = value.to_ascii_lowercase();
    lowered == "scratch"
        || stage_names.contains(&lowered)
        || value.parse::<usize>().is_ok_and(|n| n < stages_before)
}

fn first_line_span(inst: &Instruction, lines: &[&str]) -> Span {
    let line = inst.span.line;
    let end = lines.get(line - 1).map_or(inst.span.column + 1, |l| {
        l.trim_end_matches('\r').chars().count() + 1
    });
    Span::new(line, inst.span.column, line, end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dockerfile::parse;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn expansion_forms() {
        let env = vars(&[("A", "1"), ("E", "")]);
        let x = |w: &str| expand(w, '\\', &env);
        assert_eq!(x("img:$A").unwrap(), "img:1");
        assert_eq!(x("img:${A}-x").unwrap(), "img:1-x");
        assert_eq!(x("${B:-def}").unwrap(), "def");
        assert_eq!(x("${E:-def}").unwrap(), "def");
        assert_eq!(x("${E-def}").unwrap(), "");
        assert_eq!(x("${A:+alt}").unwrap(), "alt");
        assert_eq!(x("${B:+alt}").unwrap(), "");
        assert_eq!(x("${B:-${A}}").unwrap(), "1");
        assert_eq!(x("\\$A").unwrap(), "$A");
        assert_eq!(x("'$A'").unwrap(), "'$A'");
        assert_eq!(x("$B").unwrap_err().variables, vec!["B"]);
        assert_eq!(x("${B}:${C}").unwrap_err().variables, vec!["B", "C"]);
        assert!(x("${A#x}").is_err());
    }

    #[test]
    fn runaway_expansions_are_unknown_not_unbounded() {
        // Doubling an ARG forty times would need 2 TiB: the value becomes unknown once it
        // passes the cap, and the image built from it is unresolved (reported, not guessed).
        let doubling = format!("ARG A=xx\n{}FROM img:$A\n", "ARG A=$A$A\n".repeat(40));
        assert_eq!(
            images(&doubling, &[]),
            vec![(
                ImageUseKind::From,
                Err(Unresolved {
                    variables: vec!["A".into()]
                })
            )]
        );
        // Below the cap, doubling works as BuildKit's does.
        let short = format!("ARG A=xx\n{}FROM img:$A\n", "ARG A=$A$A\n".repeat(3));
        assert_eq!(
            images(&short, &[])[0].1,
            Ok(format!("img:{}", "x".repeat(16)))
        );

        // Nested defaults: a few levels resolve; thousands are unknown, quickly.
        let env = vars(&[("A", "1")]);
        let nested = |depth: usize| format!("{}A{}", "${B:-".repeat(depth), "}".repeat(depth));
        assert_eq!(expand(&nested(3), '\\', &env).unwrap(), "A");
        assert_eq!(expand("${B:-${C:-$A}}", '\\', &env).unwrap(), "1");
        assert!(expand(&nested(50_000), '\\', &env).is_err());
    }

    fn images(src: &str, args: &[(&str, &str)]) -> Vec<(ImageUseKind, Result<String, Unresolved>)> {
        let file = parse(src);
        assert!(file.errors.is_empty(), "{:?}", file.errors);
        let build_args = args
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        image_uses(&file, &build_args)
            .into_iter()
            .map(|u| (u.kind, u.resolved))
            .collect()
    }

    #[test]
    fn from_uses_global_args_and_build_args() {
        let src = "ARG BASE=alpine\nARG TAG=3.19\nFROM ${BASE}:${TAG}\n";
        assert_eq!(images(src, &[])[0].1, Ok("alpine:3.19".into()));
        assert_eq!(
            images(src, &[("TAG", "3.20")])[0].1,
            Ok("alpine:3.20".into())
        );
        let unresolved = images("ARG TAG\nFROM app:$TAG\n", &[]);
        assert_eq!(
            unresolved[0].1,
            Err(Unresolved {
                variables: vec!["TAG".into()]
            })
        );
        let defaulted = images("ARG TAG\nFROM app:${TAG:-1.0}\n", &[]);
        assert_eq!(defaulted[0].1, Ok("app:1.0".into()));
        // An ARG declared inside a stage is not visible to FROM.
        let later = images("FROM a\nARG V=1\nFROM b:$V\n", &[]);
        assert!(later[1].1.is_err());
    }

    #[test]
    fn stage_names_and_scratch_are_not_images() {
        let src = "FROM golang:1.22 AS Build\nFROM build AS test\nFROM scratch\nCOPY --from=BUILD /a /a\nCOPY --from=0 /b /b\nCOPY --from=nginx:1.27 /c /c\nRUN --mount=type=bind,from=busybox:1.36,target=/bb true\n";
        let uses = images(src, &[]);
        assert_eq!(
            uses,
            vec![
                (ImageUseKind::From, Ok("golang:1.22".into())),
                (ImageUseKind::CopyFrom, Ok("nginx:1.27".into())),
                (ImageUseKind::MountFrom, Ok("busybox:1.36".into())),
            ]
        );
    }

    #[test]
    fn copy_from_uses_stage_args() {
        let src = "ARG IMG=redis:7\nFROM alpine\nARG IMG\nCOPY --from=$IMG /x /x\n";
        assert_eq!(images(src, &[])[1].1, Ok("redis:7".into()));
        // Without re-declaration the global ARG is not visible inside the stage.
        let src = "ARG IMG=redis:7\nFROM alpine\nCOPY --from=$IMG /x /x\n";
        assert!(images(src, &[])[1].1.is_err());
    }

    #[test]
    fn platform_args_are_predefined() {
        let src = "FROM --platform=$BUILDPLATFORM golang:1.22 AS b\nFROM app-${TARGETARCH}:1\n";
        assert_eq!(images(src, &[])[1].1, Ok("app-amd64:1".into()));
    }

    #[test]
    fn stage_scope_sees_env_and_args() {
        let file = parse("ARG U=app\nFROM a\nARG U\nENV HOME=/home/$U\nUSER $U\n");
        let scope = stage_scope(&file, 0, 4, &BTreeMap::new());
        assert_eq!(scope.get("U"), Some("app"));
        assert_eq!(scope.get("HOME"), Some("/home/app"));
    }
}
