//! The engine: targets × rules → findings. Concurrency lives here, not in rules.
//!
//! 1. Targets are resolved: directories walked, Dockerfiles collected in a stable order.
//! 2. Facts are gathered per Dockerfile (parse + ARG resolution), in parallel.
//! 3. Enabled rules run over the facts; custom regex rules too.
//! 4. Findings pass through inline pragmas and policy exceptions, get the policy's severity
//!    and a fingerprint, and are sorted.
//!
//! Images (`docker://`, `oci:`, `docker-archive:` targets, and with `--resolve` each
//! Dockerfile's base image) are fetched before any rule runs, all at once: see [`check`] and
//! `engine/images.rs`.

use crate::dockerfile::pragma::{pragmas, Pragma};
use crate::dockerfile::{DockerfileFacts, Instruction};
use crate::finding::{Finding, Location, Severity, Span};
use crate::image::{FetchOptions, ImageError, ImageFacts, ImageTarget};
use crate::policy::{CustomRule, Date, Policy};
use crate::report::{EnabledRule, Note, Suppressed};
use crate::rules::{self, Check, Diagnostics, DockerfileContext, Rule};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

mod images;

/// A target given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSpec {
    Path(PathBuf),
    /// `docker://REF`, `oci:DIR[:TAG]`, `docker-archive:FILE`.
    Image {
        transport: &'static str,
        reference: String,
    },
}

/// Why the engine could not run at all (exit 2) or could not evaluate something (exit 3).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("target `{0}` does not exist")]
    MissingTarget(String),
    #[error("target `{0}` does not exist; to check an image, write `docker://{0}`")]
    LooksLikeImage(String),
    #[error(transparent)]
    InvalidImage(#[from] ImageError),
    #[error("no Dockerfile found under `{0}` (looked for Dockerfile, Containerfile, *.Dockerfile, *.dockerfile, Dockerfile.*, Containerfile.*)")]
    NothingFound(String),
}

/// Parses a command-line target.
pub fn parse_target(arg: &str) -> TargetSpec {
    for (prefix, transport) in [
        ("docker://", "docker"),
        ("oci:", "oci"),
        ("docker-archive:", "docker-archive"),
    ] {
        if let Some(rest) = arg.strip_prefix(prefix) {
            return TargetSpec::Image {
                transport,
                reference: rest.to_string(),
            };
        }
    }
    TargetSpec::Path(PathBuf::from(arg))
}

/// What a run produced: every view (report) is rendered from this.
#[derive(Debug, Default)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub notes: Vec<Note>,
    /// Every target checked, as reported (relative paths).
    pub targets: Vec<String>,
    pub rules: Vec<EnabledRule>,
    /// Targets that could not be evaluated (unreadable files): the run must fail closed.
    pub unevaluated: Vec<String>,
    /// Findings silenced by inline pragmas the policy allows.
    pub suppressed: Vec<Suppressed>,
}

/// Options of one run besides the policy.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub build_args: BTreeMap<String, String>,
    /// `--target`: the stage each Dockerfile is built up to (default: the last).
    pub target: Option<String>,
    /// The directory paths are reported relative to.
    pub cwd: PathBuf,
    /// How images are fetched (`--platform`, `--jobs`, `--ca-file`, `--insecure-registry`).
    pub fetch: FetchOptions,
    /// `--resolve`: fetch each Dockerfile's base image (the policy's `resolve: true` too).
    pub resolve: bool,
}

/// Resolves targets into a sorted, de-duplicated list of Dockerfiles.
pub fn collect_dockerfiles(specs: &[TargetSpec]) -> Result<Vec<PathBuf>, EngineError> {
    let mut files = Vec::new();
    for spec in specs {
        match spec {
            // Images are collected by `collect_images`.
            TargetSpec::Image { .. } => {}
            TargetSpec::Path(path) if path.is_dir() => {
                let before = files.len();
                walk(path, &mut files);
                if files.len() == before {
                    return Err(EngineError::NothingFound(path.display().to_string()));
                }
            }
            TargetSpec::Path(path) if path.is_file() => files.push(path.clone()),
            TargetSpec::Path(path) => {
                let text = path.display().to_string();
                return Err(if looks_like_image(&text) {
                    EngineError::LooksLikeImage(text)
                } else {
                    EngineError::MissingTarget(text)
                });
            }
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}

/// The image targets, parsed, in the order given, each once. A target that is not valid
/// (`docker://Bad:ref`, `oci:` without a directory) is a usage error.
pub fn collect_images(specs: &[TargetSpec]) -> Result<Vec<ImageTarget>, EngineError> {
    let mut images: Vec<ImageTarget> = Vec::new();
    for spec in specs {
        if let TargetSpec::Image {
            transport,
            reference,
        } = spec
        {
            let target = ImageTarget::from_parts(transport, reference)?;
            if !images.contains(&target) {
                images.push(target);
            }
        }
    }
    Ok(images)
}

/// `nginx:1.27`, `ghcr.io/acme/app@sha256:…`: not a path a user would type for a Dockerfile.
fn looks_like_image(text: &str) -> bool {
    let last = text.rsplit('/').next().unwrap_or(text);
    (last.contains(':') || text.contains('@')) && !text.contains('\\') && !text.ends_with('/')
}

const SKIPPED_DIRS: &[&str] = &[".git", "target", "node_modules"];

fn walk(root: &Path, files: &mut Vec<PathBuf>) {
    let walker = walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            e.depth() == 0
                || !(e.file_type().is_dir()
                    && SKIPPED_DIRS.contains(&e.file_name().to_string_lossy().as_ref()))
        });
    for entry in walker.flatten() {
        if entry.file_type().is_file() && is_dockerfile_name(&entry.file_name().to_string_lossy()) {
            files.push(entry.into_path());
        }
    }
}

/// `Dockerfile`, `Containerfile`, `*.Dockerfile`, `*.dockerfile`, `Dockerfile.*`,
/// `Containerfile.*`.
pub fn is_dockerfile_name(name: &str) -> bool {
    name == "Dockerfile"
        || name == "Containerfile"
        || name.ends_with(".Dockerfile")
        || name.ends_with(".dockerfile")
        || name.starts_with("Dockerfile.")
        || name.starts_with("Containerfile.")
}

/// The path as reported: relative to `cwd` when under it, `/`-separated.
pub fn display_path(path: &Path, cwd: &Path) -> String {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    };
    let shown = absolute.strip_prefix(cwd).unwrap_or(&absolute);
    let text = shown.to_string_lossy().replace('\\', "/");
    text.strip_prefix("./").unwrap_or(&text).to_string()
}

/// Runs the policy over Dockerfiles.
pub fn check_dockerfiles(policy: &Policy, files: &[PathBuf], options: &RunOptions) -> Outcome {
    check(policy, files, &[], options)
}

/// Runs the policy over Dockerfiles and images. Every image — the image targets and, with
/// `--resolve` (or `resolve: true`), each Dockerfile's base image — is fetched first,
/// concurrently, in one call; then the rules run. An image that cannot be fetched is
/// unevaluated (exit 3), or a note when the policy says `on_error: warn`.
pub fn check(
    policy: &Policy,
    files: &[PathBuf],
    image_targets: &[ImageTarget],
    options: &RunOptions,
) -> Outcome {
    let now = SystemTime::now();
    let requests: Vec<(PathBuf, images::BaseRequest)> = if options.resolve || policy.resolve {
        per_file(files, |path| {
            Some((path.clone(), base_request(path, options)?))
        })
        .into_iter()
        .flatten()
        .collect()
    } else {
        Vec::new()
    };
    let mut wanted: Vec<ImageTarget> = image_targets.to_vec();
    for (_, request) in &requests {
        if !wanted.contains(&request.target) {
            wanted.push(request.target.clone());
        }
    }
    let fetched: Vec<Result<ImageFacts, ImageError>> = if wanted.is_empty() {
        Vec::new()
    } else {
        let mut fetch = options.fetch.clone();
        // Signatures are looked for only when a rule judges them: a run without costs nothing.
        let trust = policy.rule(rules::trust::TRUST_REQUIRED);
        fetch.signatures = trust.is_some();
        // Layers too: only when an enabled rule reads image files.
        fetch.layers = policy.layer_limits();
        if let Some(verify) = trust.and_then(|r| r.options.verify("verify")) {
            for target in &wanted {
                if let ImageTarget::Registry { reference, .. } = target {
                    let name = reference.policy_name();
                    let Some(entry) = verify.entry_for(&name) else {
                        continue;
                    };
                    if let Some(notary) = &entry.notary {
                        fetch.notary.insert(name.clone(), notary.clone());
                    }
                    let elsewhere = entry
                        .cosign
                        .as_ref()
                        .and_then(|c| c.signatures_repository.clone());
                    if let Some(repository) = elsewhere {
                        fetch.signature_repositories.insert(name, repository);
                    }
                }
            }
        }
        crate::image::gather_blocking(&wanted, &fetch)
    };
    let fetched: Vec<(ImageTarget, Result<ImageFacts, ImageError>)> =
        wanted.into_iter().zip(fetched).collect();
    let bases: HashMap<PathBuf, images::BaseImage> = requests
        .into_iter()
        .filter_map(|(path, request)| {
            let facts = fetched
                .iter()
                .find(|(t, _)| *t == request.target)?
                .1
                .clone();
            Some((path, request.with(facts)))
        })
        .collect();

    let mut outcome = check_dockerfiles_with(policy, files, options, &bases, now);
    let targets = &fetched[..image_targets.len().min(fetched.len())];
    let results = images::check_images(policy, targets, now, Date::today());
    images::merge(&mut outcome, results);
    let mut seen = std::collections::HashSet::new();
    outcome
        .notes
        .retain(|n| seen.insert((n.message.clone(), n.location.clone())));
    outcome
        .findings
        .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    outcome.findings.dedup();
    outcome
}

/// The facts of one Dockerfile, with the run's `--build-arg`s and `--target`.
fn gather(target: &str, source: &str, options: &RunOptions) -> DockerfileFacts {
    let mut facts = DockerfileFacts::gather(target, source, &options.build_args);
    if let Some(stage) = &options.target {
        facts.set_target(stage);
    }
    facts
}

/// What `--resolve` fetches for the Dockerfile at `path` (unreadable files are reported when
/// they are checked).
fn base_request(path: &Path, options: &RunOptions) -> Option<images::BaseRequest> {
    let source = read_dockerfile(path).ok()??;
    let target = display_path(path, &options.cwd);
    let facts = gather(&target, &source, options);
    images::BaseRequest::of(&facts)
}

/// The most bytes of a Dockerfile portcullis reads: real ones are a few KiB (the largest of a
/// 2,000-file corpus is 13 KiB), and a larger file is refused (`PC0001`, exit 3) rather than
/// parsed, so a hostile file cannot hold the gate or its memory.
pub const MAX_DOCKERFILE_BYTES: u64 = 1024 * 1024;

/// A Dockerfile's text (invalid UTF-8 replaced, as it can only fail to parse), read no further
/// than [`MAX_DOCKERFILE_BYTES`]: `Ok(None)` for a larger file.
fn read_dockerfile(path: &Path) -> std::io::Result<Option<String>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_DOCKERFILE_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_DOCKERFILE_BYTES {
        return Ok(None);
    }
    Ok(Some(match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }))
}

fn check_dockerfiles_with(
    policy: &Policy,
    files: &[PathBuf],
    options: &RunOptions,
    bases: &HashMap<PathBuf, images::BaseImage>,
    now: SystemTime,
) -> Outcome {
    let custom: Vec<(&'static Rule, &CustomRule)> =
        policy.custom.iter().map(|c| (custom_rule(c), c)).collect();
    let results: Vec<FileResult> = per_file(files, |path| {
        check_file(policy, &custom, path, options, bases.get(path), now)
    });
    let mut outcome = Outcome {
        rules: enabled_rules(policy, &custom),
        ..Outcome::default()
    };
    let today = Date::today();
    for result in results {
        outcome.targets.push(result.target.clone());
        if let Some(error) = result.unreadable {
            outcome
                .unevaluated
                .push(format!("{}: {error}", result.target));
            continue;
        }
        let mut unparsed = None;
        for finding in result.findings {
            if !excepted(policy, &finding, &result.absolute, &options.cwd, today) {
                if finding.rule_id == rules::dockerfile::SYNTAX_ERROR.id && unparsed.is_none() {
                    let line = finding.location.span.map_or(0, |s| s.line);
                    unparsed = Some(format!(
                        "{}: line {line}: {} (the file is not judged as BuildKit would build it; \
                         PC0001)",
                        result.target, finding.message
                    ));
                }
                outcome.findings.push(finding);
            }
        }
        // A file the gate cannot parse fails the run whatever `fail_on` says (PC0001 is on
        // unless the policy turns it off by name).
        outcome.unevaluated.extend(unparsed);
        outcome.suppressed.extend(result.suppressed);
        outcome.notes.extend(result.notes);
        outcome.unevaluated.extend(result.base_unevaluated);
    }
    // A note about how a rule ran (a missing tool) comes once per file: keep one of each.
    let mut seen = std::collections::HashSet::new();
    outcome
        .notes
        .retain(|n| seen.insert((n.message.clone(), n.location.clone())));
    outcome.notes.extend(expired_exception_notes(policy, today));
    outcome
        .findings
        .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    outcome.findings.dedup();
    outcome
}

/// `f` over each file, in order: in parallel when there are several, on this thread when
/// there is one, so that a hook run once per file does not start (and wait for) a thread pool.
fn per_file<T: Send>(files: &[PathBuf], f: impl Fn(&PathBuf) -> T + Sync + Send) -> Vec<T> {
    if files.len() > 1 {
        files.par_iter().map(f).collect()
    } else {
        files.iter().map(f).collect()
    }
}

struct FileResult {
    target: String,
    absolute: PathBuf,
    findings: Vec<Finding>,
    notes: Vec<Note>,
    unreadable: Option<String>,
    /// Why the `--resolve`d base image could not be judged (exit 3).
    base_unevaluated: Option<String>,
    suppressed: Vec<Suppressed>,
}

fn check_file(
    policy: &Policy,
    custom: &[(&'static Rule, &CustomRule)],
    path: &Path,
    options: &RunOptions,
    base: Option<&images::BaseImage>,
    now: SystemTime,
) -> FileResult {
    let target = display_path(path, &options.cwd);
    let absolute = options.cwd.join(path);
    let mut result = FileResult {
        target: target.clone(),
        absolute,
        findings: Vec::new(),
        notes: Vec::new(),
        unreadable: None,
        base_unevaluated: None,
        suppressed: Vec::new(),
    };
    let source = match read_dockerfile(path) {
        Ok(source) => source,
        Err(e) => {
            result.unreadable = Some(format!("cannot read: {e}"));
            return result;
        }
    };
    let mut facts = gather(&target, source.as_deref().unwrap_or_default(), options);
    if source.is_none() {
        facts.file.errors.push(crate::dockerfile::ParseError {
            span: Span::new(1, 1, 1, 1),
            message: format!(
                "the file is larger than the {} KiB portcullis reads of a Dockerfile; it is \
                 refused, not judged",
                MAX_DOCKERFILE_BYTES / 1024
            ),
        });
    }
    facts.base_env = base.and_then(images::BaseImage::env);
    let mut raw: Vec<(&'static Rule, Severity, Diagnostics)> = Vec::new();
    for enabled in &policy.rules {
        if let Check::Dockerfile(check) = enabled.rule.check {
            let mut out = Diagnostics::default();
            check(
                &DockerfileContext {
                    facts: &facts,
                    options: &enabled.options,
                },
                &mut out,
            );
            raw.push((enabled.rule, enabled.severity, out));
        }
    }
    for (rule, spec) in custom {
        raw.push((rule, spec.severity, run_custom(spec, &facts)));
    }
    let waivable = |rule: &Rule| waivable_inline(policy, rule);

    let pragmas = pragmas(&facts.file);
    if let Some(base) = base {
        let user_rule = raw
            .iter_mut()
            .find(|(rule, _, _)| rule.id == images::NON_ROOT_USER)
            .map(|(_, _, out)| out);
        let verdict = images::BaseCheck {
            policy,
            facts: &facts,
            base,
            pragmas: &pragmas,
            target: &target,
            now,
            today: Date::today(),
        }
        .judge(user_rule);
        result.findings.extend(verdict.findings);
        result.notes.extend(verdict.notes);
        result.base_unevaluated = verdict.unevaluated;
    }
    let forbidden = policy.rule(rules::dockerfile::INLINE_IGNORE_FORBIDDEN.id);
    if !policy.inline_ignores {
        if let Some(rule) = forbidden {
            let mut out = Diagnostics::default();
            for p in &pragmas {
                out.push(
                    pragma_span(p, &facts),
                    format!(
                        "inline ignore `{}` is not allowed by the policy; it was not applied",
                        pragma_text(p)
                    ),
                );
            }
            raw.push((rule.rule, rule.severity, out));
        }
    } else {
        // A pragma naming a policy rule the policy does not let the file waive: reported at
        // its line, naming the key that would allow it; the findings it names stand.
        if let Some(rule) = forbidden {
            let mut out = Diagnostics::default();
            for p in &pragmas {
                for key in &p.keys {
                    let Some(named) = rules::lookup(key) else {
                        continue;
                    };
                    if waivable(named) {
                        continue;
                    }
                    out.push(
                        pragma_span(p, &facts),
                        format!(
                            "inline ignore of `{key}` refused: `{}` is a policy rule, which only \
                             the policy waives (an `exceptions:` entry with a reason, or \
                             `inline_ignore: true` under `rules: {}:`)",
                            named.name, named.name
                        ),
                    );
                }
            }
            raw.push((rule.rule, rule.severity, out));
        }
        result
            .notes
            .extend(unknown_pragma_keys(&pragmas, &target, custom));
    }

    for (rule, severity, diagnostics) in raw {
        for note in diagnostics.notes() {
            result
                .notes
                .push(Note::new(format!("{} {}: {note}", rule.id, rule.name)));
        }
        for d in diagnostics.0 {
            let pragma = (policy.inline_ignores && waivable(rule))
                .then(|| silenced(&pragmas, rule, &d.message, d.span.line))
                .flatten();
            let mut finding = Finding {
                rule_id: rule.id,
                rule: rule.name,
                severity,
                message: d.message,
                target: target.clone(),
                location: Location {
                    path: Some(target.clone()),
                    span: Some(d.span),
                },
                fingerprint: String::new(),
            };
            finding.compute_fingerprint(facts.line_text(d.span.line));
            match pragma {
                Some(p) => result.suppressed.push(Suppressed {
                    finding,
                    pragma: pragma_text(p),
                }),
                None => result.findings.push(finding),
            }
        }
    }
    result
}

/// Whether an inline pragma may silence `rule`: a lint rule, or a policy rule the policy
/// marks `inline_ignore: true`. Whoever writes the Dockerfile does not write the policy.
pub(crate) fn waivable_inline(policy: &Policy, rule: &Rule) -> bool {
    !rule.policy_rule
        || policy
            .rule(rule.id)
            .is_some_and(|r| r.options.bool(rules::INLINE_IGNORE.name).unwrap_or(false))
}

/// A pragma as written: `hadolint global ignore=DL3008,DL3015`.
fn pragma_text(p: &Pragma) -> String {
    format!(
        "{} {}ignore={}",
        p.tool,
        if p.global { "global " } else { "" },
        p.keys.join(",")
    )
}

fn pragma_span(p: &Pragma, facts: &DockerfileFacts) -> Span {
    Span::new(
        p.line,
        p.column,
        p.line,
        facts.line_text(p.line).chars().count() + 1,
    )
}

/// Whether an inline pragma silences a finding of `rule` at `line`. A pragma key may be the
/// rule's code, name or alias; a ShellCheck code (`SC2086`) silences the ShellCheck finding
/// whose message starts with it.
fn silenced<'p>(
    pragmas: &'p [Pragma],
    rule: &Rule,
    message: &str,
    line: usize,
) -> Option<&'p Pragma> {
    pragmas.iter().find(|p| {
        p.covers(line)
            && p.keys.iter().any(|k| {
                rule.answers_to(k)
                    || (rules::is_shellcheck_code(k) && message.starts_with(k.as_str()))
            })
    })
}

fn unknown_pragma_keys(
    pragmas: &[Pragma],
    target: &str,
    custom: &[(&'static Rule, &CustomRule)],
) -> Vec<Note> {
    let mut notes = Vec::new();
    for p in pragmas {
        for key in &p.keys {
            let known = rules::lookup(key).is_some()
                || rules::is_shellcheck_code(key)
                || custom.iter().any(|(r, _)| r.answers_to(key));
            if !known {
                let hint = rules::suggest(key)
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                notes.push(
                    Note::new(format!("ignore pragma names unknown rule `{key}`{hint}")).at(
                        Location {
                            path: Some(target.to_string()),
                            span: Some(Span::point(p.line, p.column)),
                        },
                    ),
                );
            }
        }
    }
    notes
}

/// A custom policy rule as a registry-like rule, so that reports describe it like any other.
/// Custom rules are few and live as long as the process, so their text is leaked once.
fn custom_rule(spec: &CustomRule) -> &'static Rule {
    let id: &'static str = Box::leak(spec.id.clone().into_boxed_str());
    let docs: &'static str = Box::leak(
        format!(
            "{}\n\nA custom rule defined in the policy: instructions{} matching `{}`.",
            spec.message,
            spec.instruction
                .map(|k| format!(" `{}`", k.as_str()))
                .unwrap_or_default(),
            spec.pattern.as_str()
        )
        .into_boxed_str(),
    );
    Box::leak(Box::new(Rule {
        id,
        name: id,
        severity: spec.severity,
        docs,
        check: Check::Engine,
        ..Rule::DEFAULT
    }))
}

/// Runs a custom regex rule over every instruction (keyword, flags, arguments and heredoc
/// bodies), reporting each matching instruction once.
fn run_custom(spec: &CustomRule, facts: &DockerfileFacts) -> Diagnostics {
    let mut out = Diagnostics::default();
    for inst in &facts.file.instructions {
        if spec.instruction.is_some_and(|k| k != inst.keyword) {
            continue;
        }
        let text = instruction_text(inst);
        // A regex that fails at match time (backtracking limit) is reported, not passed.
        match spec.pattern.is_match(&text) {
            Ok(true) => out.push(inst.span, spec.message.clone()),
            Ok(false) => {}
            Err(e) => out.push(
                inst.span,
                format!("{} (pattern could not be evaluated: {e})", spec.message),
            ),
        }
    }
    out
}

/// The instruction as one line: `RUN --mount=… apt-get install …`, then heredoc bodies.
fn instruction_text(inst: &Instruction) -> String {
    let mut text = inst.keyword.as_str().to_string();
    for flag in &inst.flags {
        text.push_str(" --");
        text.push_str(&flag.name);
        if let Some(v) = &flag.value {
            text.push('=');
            text.push_str(v);
        }
    }
    text.push(' ');
    text.push_str(&inst.rest);
    for h in &inst.heredocs {
        text.push('\n');
        text.push_str(&h.body);
    }
    text
}

fn enabled_rules(policy: &Policy, custom: &[(&'static Rule, &CustomRule)]) -> Vec<EnabledRule> {
    let mut rules: Vec<EnabledRule> = policy
        .rules
        .iter()
        .map(|r| EnabledRule {
            rule: r.rule,
            severity: r.severity,
        })
        .collect();
    rules.extend(custom.iter().map(|(rule, spec)| EnabledRule {
        rule,
        severity: spec.severity,
    }));
    rules
}

fn excepted(policy: &Policy, finding: &Finding, file: &Path, cwd: &Path, today: Date) -> bool {
    policy
        .exceptions
        .iter()
        .any(|e| e.applies_to_file(finding.rule_id, file, cwd, today))
}

fn expired_exception_notes(policy: &Policy, today: Date) -> Vec<Note> {
    policy
        .expired_exceptions(today)
        .map(|e| {
            Note::new(format!(
                "exception for {} expired on {}; it no longer applies (reason was: {})",
                e.rules.join(", "),
                e.expires.map(|d| d.to_string()).unwrap_or_default(),
                e.reason
            ))
            .at(Location {
                path: Some(e.origin.file.clone()),
                span: Some(e.origin.span),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerfile_names() {
        for name in [
            "Dockerfile",
            "Containerfile",
            "api.Dockerfile",
            "api.dockerfile",
            "Dockerfile.prod",
            "Containerfile.dev",
        ] {
            assert!(is_dockerfile_name(name), "{name}");
        }
        for name in ["dockerfile", "Dockerfile-old", "README.md", "Dockerfiles"] {
            assert!(!is_dockerfile_name(name), "{name}");
        }
    }

    #[test]
    fn image_like_arguments() {
        assert!(looks_like_image("nginx:1.27"));
        assert!(looks_like_image("ghcr.io/acme/app@sha256:abc"));
        assert!(!looks_like_image("services/api/Dockerfile"));
        assert!(!looks_like_image("services/"));
    }

    #[test]
    fn targets_parse_transports() {
        assert_eq!(
            parse_target("docker://nginx:1"),
            TargetSpec::Image {
                transport: "docker",
                reference: "nginx:1".into()
            }
        );
        assert_eq!(
            parse_target("./Dockerfile"),
            TargetSpec::Path("./Dockerfile".into())
        );
    }

    #[test]
    fn display_paths_are_relative_and_slashed() {
        let cwd = Path::new("/work/repo");
        assert_eq!(
            display_path(Path::new("./a/Dockerfile"), cwd),
            "a/Dockerfile"
        );
        assert_eq!(
            display_path(Path::new("/work/repo/b/Dockerfile"), cwd),
            "b/Dockerfile"
        );
        assert_eq!(
            display_path(Path::new("/elsewhere/Dockerfile"), cwd),
            "/elsewhere/Dockerfile"
        );
    }
}
