//! Images in the engine: image targets (`docker://`, `oci:`, `docker-archive:`) and, with
//! `--resolve`, the base image of each Dockerfile's final stage.
//!
//! Every image is fetched up front, concurrently, in one [`crate::image::gather_blocking`]
//! call; the rules then run synchronously over the facts.
//!
//! How image findings are reported:
//! - An image target's findings have the target `REF@DIGEST` (the reference as written, with
//!   the digest it resolved to, so it can be pinned) and no file location. Rules judge each
//!   platform: the engine appends `[os/arch[/variant] DIGEST]` (the platform's manifest
//!   digest) to the message. Reference rules judge the target once and name no platform.
//! - Fingerprints leave digests out (the target's and the platform's): they hash the rule,
//!   the reference as written, the message with the platform name only, and for history
//!   findings the step's `created_by`. A rebuild that changes nothing keeps its findings'
//!   fingerprints; two platforms with the same problem have different ones.
//! - A base image's findings belong to the Dockerfile: its path, the `FROM` line's span, and
//!   `base image `REF` [platform DIGEST]: …` in the message. Inline ignores above the `FROM`
//!   apply, and so do exceptions by path or by the base image's name.

use super::{silenced, waivable_inline, Outcome};
use crate::dockerfile::pragma::Pragma;
use crate::dockerfile::{BaseEnv, DockerfileFacts, ImageUse, ImageUseKind};
use crate::finding::{Finding, Location, Severity, Span};
use crate::image::{ImageError, ImageFacts, ImageReference, ImageTarget, PlatformImage};
use crate::policy::{Date, EnabledRule, OnError, Policy};
use crate::report::Note;
use crate::rules::image::history::{judges_history, History};
use crate::rules::image::BASE_IMAGE_RULES;
use crate::rules::{Check, Diagnostics, ImageContext, ReferenceContext, Rule};
use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet};
use std::time::SystemTime;

/// The rule whose image check decides a Dockerfile's user when its final stage sets none.
pub(super) const NON_ROOT_USER: &str = "PC1004";

/// What `--resolve` fetched for one Dockerfile: the base image its final stage builds on.
#[derive(Debug, Clone)]
pub struct BaseImage {
    /// The image in the `FROM` that names it (the first stage of the final stage's chain).
    pub span: Span,
    /// The final stage's `FROM` instruction, where `non-root-user` reports a final stage
    /// without `USER`.
    pub final_from: Span,
    /// The reference as written in the Dockerfile.
    pub written: String,
    /// The stage whose `FROM` names the image.
    pub stage: usize,
    /// Whether the final stage (or a stage it builds on) sets a `USER`.
    pub stage_sets_user: bool,
    pub facts: Result<ImageFacts, ImageError>,
}

impl BaseImage {
    /// The environment the fetched image gives the stage built from it: each `NAME=value` of
    /// its config's `Env`, with the value every platform agrees on (`None` where they
    /// differ). `None` when the image could not be fetched.
    pub fn env(&self) -> Option<BaseEnv> {
        let image = self.facts.as_ref().ok()?;
        // Each platform's variables (a later `NAME=` wins, as in a container's environment).
        let per_platform: Vec<BTreeMap<&str, &str>> = image
            .platforms
            .iter()
            .map(|p| {
                p.config
                    .env
                    .iter()
                    .filter_map(|e| e.split_once('='))
                    .collect()
            })
            .collect();
        let names: BTreeSet<&str> = per_platform
            .iter()
            .flat_map(|p| p.keys().copied())
            .collect();
        let vars = names
            .into_iter()
            .map(|name| {
                let mut values = per_platform.iter().map(|p| p.get(name));
                let first = values.next().flatten();
                let agreed = values.all(|v| v == first).then_some(first).flatten();
                (name.to_string(), agreed.map(|v| v.to_string()))
            })
            .collect();
        let oses: BTreeSet<String> = image
            .platforms
            .iter()
            .map(|p| p.platform.os.to_ascii_lowercase())
            .collect();
        Some(BaseEnv {
            stage: self.stage,
            image: self.written.clone(),
            vars,
            os: (oses.len() == 1)
                .then(|| oses.into_iter().next())
                .flatten()
                .filter(|os| !os.is_empty() && os != "unknown"),
        })
    }
}

/// The `FROM` image a Dockerfile's built stage (`--target`, else the last) is built on,
/// following `FROM <stage>` back to the first stage of the chain, and whether any stage on
/// the way sets a `USER`. `None` for a chain that starts `FROM scratch`, or whose image
/// cannot be resolved (PC1005 reports it).
pub fn final_base(facts: &DockerfileFacts) -> Option<(&ImageUse, ImageReference, bool)> {
    let built = facts.built_stage()?;
    let chain = crate::rules::dockerfile::util::stage_chain(facts, built.index);
    let sets_user = crate::rules::dockerfile::util::last_user(facts, &chain).is_some();
    let root = *chain.last()?;
    let base = facts
        .images
        .iter()
        .find(|u| u.kind == ImageUseKind::From && u.stage == root)?;
    let reference = ImageReference::parse(base.resolved.as_deref().ok()?).ok()?;
    Some((base, reference, sets_user))
}

/// The base image a Dockerfile's final stage needs fetched, before it is.
#[derive(Debug, Clone)]
pub struct BaseRequest {
    pub span: Span,
    pub final_from: Span,
    pub written: String,
    pub stage: usize,
    pub stage_sets_user: bool,
    /// `docker://` + the normalised reference.
    pub target: ImageTarget,
}

impl BaseRequest {
    /// What `--resolve` fetches for a Dockerfile, if anything.
    pub fn of(facts: &DockerfileFacts) -> Option<BaseRequest> {
        let (image, reference, stage_sets_user) = final_base(facts)?;
        let final_stage = facts.built_stage()?;
        let final_from = facts.file.instructions.get(final_stage.from)?.span;
        Some(BaseRequest {
            span: image.span,
            final_from,
            written: image.written.clone(),
            stage: image.stage,
            stage_sets_user,
            target: ImageTarget::from_parts("docker", &reference.to_string()).ok()?,
        })
    }

    /// The request with what was fetched.
    pub fn with(self, facts: Result<ImageFacts, ImageError>) -> BaseImage {
        BaseImage {
            span: self.span,
            final_from: self.final_from,
            written: self.written,
            stage: self.stage,
            stage_sets_user: self.stage_sets_user,
            facts,
        }
    }
}

/// The result of judging the image targets.
pub struct ImageResults {
    pub findings: Vec<Finding>,
    pub notes: Vec<Note>,
    pub targets: Vec<String>,
    pub unevaluated: Vec<String>,
}

/// Judges every image target with the policy's image, reference and history rules.
pub fn check_images(
    policy: &Policy,
    targets: &[(ImageTarget, Result<ImageFacts, ImageError>)],
    now: SystemTime,
    today: Date,
) -> ImageResults {
    let mut results = ImageResults {
        findings: Vec::new(),
        notes: Vec::new(),
        targets: Vec::new(),
        unevaluated: Vec::new(),
    };
    for (target, fetched) in targets {
        let facts = match fetched {
            Ok(facts) => facts,
            Err(error) => {
                let shown = shown_target(target, None);
                results.targets.push(shown.clone());
                not_evaluated(policy, target.as_str(), error, &mut results);
                continue;
            }
        };
        let shown = shown_target(target, Some(facts));
        results.targets.push(shown.clone());
        let waived_name = exception_name(target);
        let judged = judge_image(policy, target, facts, now);
        for (rule, severity, diagnostic) in judged.findings {
            let waived = policy
                .exceptions
                .iter()
                .any(|e| e.applies_to_image(rule.id, &waived_name, today));
            if waived {
                continue;
            }
            let mut finding = Finding {
                rule_id: rule.id,
                rule: rule.name,
                severity,
                message: diagnostic.stable_message.clone(),
                target: shown_target(target, None),
                location: Location::default(),
                fingerprint: String::new(),
            };
            finding.compute_fingerprint(diagnostic.line_text);
            finding.message = diagnostic.message;
            finding.target = shown.clone();
            results.findings.push(finding);
        }
        results.notes.extend(judged.notes);
    }
    results
}

/// A target that could not be fetched: exit 3, or a note with `on_error: warn`.
fn not_evaluated(policy: &Policy, given: &str, error: &ImageError, results: &mut ImageResults) {
    match policy.on_error {
        OnError::Fail => results.unevaluated.push(format!("{given}: {error}")),
        OnError::Warn => results.notes.push(Note::new(format!(
            "could not evaluate {given}: {error} (not judged: the policy says `on_error: warn`)"
        ))),
    }
}

/// `REF@DIGEST` for a registry target (as written, with the digest it resolved to unless it
/// was pinned), `oci:DIR:TAG@DIGEST` for local ones; without facts, the target as given
/// (minus `docker://`).
fn shown_target(target: &ImageTarget, facts: Option<&ImageFacts>) -> String {
    let given = target.as_str();
    let written = given.strip_prefix("docker://").unwrap_or(given);
    match (target, facts) {
        (ImageTarget::Registry { reference, .. }, Some(_)) if reference.is_pinned() => {
            written.to_string()
        }
        (_, Some(facts)) => format!("{written}@{}", facts.digest),
        (_, None) => written.to_string(),
    }
}

/// What `images:` exception globs match: the normalised name (`docker.io/library/nginx`) of
/// a registry target, the target as given (`oci:build/layout:v1`) of a local one.
fn exception_name(target: &ImageTarget) -> String {
    match target {
        ImageTarget::Registry { reference, .. } => reference.policy_name(),
        other => other.as_str().to_string(),
    }
}

/// One image diagnostic, ready to become a finding.
struct Judged<'a> {
    /// Shown: with the platform's digest.
    message: String,
    /// Fingerprinted: without digests.
    stable_message: String,
    line_text: &'a str,
}

#[derive(Default)]
struct Judgement<'a> {
    findings: Vec<(&'static Rule, Severity, Judged<'a>)>,
    notes: Vec<Note>,
}

impl Judgement<'_> {
    /// The notes and findings of a check judged once per image target (a reference or trust
    /// check): fingerprinted without the target's digest, so a rebuilt image keeps them.
    fn target_findings(&mut self, enabled: &EnabledRule, facts: &ImageFacts, out: Diagnostics) {
        self.notes_of(enabled.rule, &out);
        for d in out.0 {
            self.findings.push((
                enabled.rule,
                enabled.severity,
                Judged {
                    stable_message: d.message.replace(&facts.digest, "<digest>"),
                    message: d.message,
                    line_text: "",
                },
            ));
        }
    }

    fn notes_of(&mut self, rule: &Rule, out: &Diagnostics) {
        for note in out.notes() {
            let note = Note::new(format!("{} {}: {note}", rule.id, rule.name));
            if !self.notes.contains(&note) {
                self.notes.push(note);
            }
        }
    }
}

/// Every enabled rule that judges images, over one image target.
fn judge_image<'a>(
    policy: &Policy,
    target: &ImageTarget,
    facts: &'a ImageFacts,
    now: SystemTime,
) -> Judgement<'a> {
    let mut judged = Judgement::default();
    // Each platform's history becomes one synthetic Dockerfile, parsed at most once and
    // shared by every history rule.
    let histories: Vec<OnceCell<History<'a>>> =
        facts.platforms.iter().map(|_| OnceCell::new()).collect();
    for enabled in &policy.rules {
        let rule = enabled.rule;
        if let (Some(check), ImageTarget::Registry { reference, .. }) =
            (rule.reference_check, target)
        {
            let mut out = Diagnostics::default();
            check(
                &ReferenceContext {
                    reference,
                    image: facts,
                    options: &enabled.options,
                },
                &mut out,
            );
            judged.target_findings(enabled, facts, out);
        }
        if let Check::Trust(check) = rule.check {
            let name = match target {
                ImageTarget::Registry { reference, .. } => Some(reference.policy_name()),
                _ => None,
            };
            judge_trust(check, enabled, name, facts, &mut judged);
        }
        for (platform, history) in facts.platforms.iter().zip(&histories) {
            judge_platform(enabled, facts, platform, now, &mut judged, "");
            judge_history(enabled, platform, history, &mut judged);
        }
    }
    judged
}

/// Verifies the image's signatures under the `verify` entry that matches it (pure code over
/// the bytes the source found), then runs the trust rule over the verdicts.
fn judge_trust<'a>(
    check: crate::rules::TrustCheck,
    enabled: &EnabledRule,
    name: Option<String>,
    facts: &'a ImageFacts,
    judged: &mut Judgement<'a>,
) {
    let entry = name
        .as_deref()
        .zip(enabled.options.verify("verify"))
        .and_then(|(name, verify)| verify.entry_for(name));
    let mut verdicts: Vec<crate::trust::Verdict> = Vec::new();
    let mut attestations: Vec<crate::trust::AttestationVerdict> = Vec::new();
    let cosign = entry.and_then(|e| e.cosign.as_ref());
    if let (Some(cosign), crate::image::Signatures::Found(found)) = (cosign, &facts.signatures) {
        let requirements = cosign.requirements();
        for f in found {
            // An attestation is judged as one; everything else is a signature candidate.
            match crate::trust::verify_attestation(f, &facts.digest, &requirements) {
                Some(verdict) => attestations.push(verdict),
                None => verdicts.push(crate::trust::verify(f, &facts.digest, &requirements)),
            }
        }
    }
    let mut out = Diagnostics::default();
    check(
        &crate::rules::TrustContext {
            image: facts,
            name: name.as_deref(),
            options: &enabled.options,
            verdicts: &verdicts,
            attestations: &attestations,
        },
        &mut out,
    );
    judged.target_findings(enabled, facts, out);
}

/// Runs `enabled`'s image check (if any) over one platform. `prefix` goes before messages.
fn judge_platform<'a>(
    enabled: &EnabledRule,
    facts: &ImageFacts,
    platform: &PlatformImage,
    now: SystemTime,
    judged: &mut Judgement<'a>,
    prefix: &str,
) {
    let rule = enabled.rule;
    let check = match (rule.check, rule.image_check) {
        (Check::Image(check), _) | (_, Some(check)) => check,
        _ => return,
    };
    let mut out = Diagnostics::default();
    check(
        &ImageContext {
            image: facts,
            platform,
            options: &enabled.options,
            now,
        },
        &mut out,
    );
    judged.notes_of(rule, &out);
    for d in out.0 {
        let message = format!("{prefix}{}", d.message);
        judged.findings.push((
            rule,
            enabled.severity,
            Judged {
                stable_message: format!("{message} [{}]", platform.platform),
                message: format!("{message} {}", platform_suffix(platform)),
                line_text: "",
            },
        ));
    }
}

/// Lints one platform's history with `enabled`, if it is a history rule.
fn judge_history<'a>(
    enabled: &EnabledRule,
    platform: &'a PlatformImage,
    history: &OnceCell<History<'a>>,
    judged: &mut Judgement<'a>,
) {
    if !judges_history(enabled.rule) {
        return;
    }
    let history = history.get_or_init(|| History::new(&platform.config));
    for found in history.lint(enabled.rule, &enabled.options) {
        judged.findings.push((
            enabled.rule,
            enabled.severity,
            Judged {
                stable_message: format!("{} [{}]", found.message, platform.platform),
                message: format!(
                    "{} (history step {}) {}",
                    found.message,
                    found.step,
                    platform_suffix(platform)
                ),
                line_text: found.created_by,
            },
        ));
    }
}

/// `[linux/arm64/v8 sha256:…]`: the platform and its own manifest digest (the config digest
/// for a legacy `docker save` archive, which has no manifest).
fn platform_suffix(platform: &PlatformImage) -> String {
    let digest = platform
        .manifest_digest
        .as_deref()
        .unwrap_or(&platform.config_digest);
    format!("[{} {digest}]", platform.platform)
}

/// A Dockerfile whose final stage's base image was fetched with `--resolve`.
pub struct BaseCheck<'a> {
    pub policy: &'a Policy,
    pub facts: &'a DockerfileFacts,
    pub base: &'a BaseImage,
    pub pragmas: &'a [Pragma],
    /// The Dockerfile as reported.
    pub target: &'a str,
    pub now: SystemTime,
    pub today: Date,
}

/// What judging a base image gave.
#[derive(Default)]
pub struct BaseVerdict {
    pub findings: Vec<Finding>,
    pub notes: Vec<Note>,
    /// Why the base image could not be judged, when the run must fail closed (exit 3).
    pub unevaluated: Option<String>,
}

impl BaseCheck<'_> {
    /// Findings about the base image, at its `FROM` line; and the `non-root-user` verdict for
    /// a final stage without `USER`, which the base image's user decides. `raw_user` holds
    /// that rule's Dockerfile diagnostics: the one at the final `FROM` ("sets no USER") is
    /// replaced by the base image's verdict, per platform.
    pub fn judge(&self, mut raw_user: Option<&mut Diagnostics>) -> BaseVerdict {
        let (policy, base) = (self.policy, self.base);
        let image = match &base.facts {
            Ok(image) => image,
            Err(error) => {
                let problem = format!(
                    "{}: base image `{}` could not be fetched: {error}",
                    self.target, base.written
                );
                let mut verdict = BaseVerdict::default();
                match policy.on_error {
                    OnError::Fail => verdict.unevaluated = Some(problem),
                    OnError::Warn => verdict.notes.push(Note::new(format!(
                        "could not evaluate {problem} (not judged: the policy says `on_error: warn`)"
                    ))),
                }
                return verdict;
            }
        };
        let mut judged = Judgement::default();
        for enabled in &policy.rules {
            let rule = enabled.rule;
            if BASE_IMAGE_RULES.contains(&rule.id) {
                let prefix = format!("base image `{}`: ", base.written);
                for platform in &image.platforms {
                    judge_platform(enabled, image, platform, self.now, &mut judged, &prefix);
                }
            } else if let Check::Trust(check) = rule.check {
                // An unsigned base image is caught in the pull request that brings it in.
                let name = image.reference.as_ref().map(ImageReference::policy_name);
                judge_trust(check, enabled, name, image, &mut judged);
            } else if rule.id == NON_ROOT_USER && !base.stage_sets_user {
                if let Some(raw) = raw_user.as_mut() {
                    raw.0.retain(|d| d.span != base.final_from);
                }
                let prefix = format!(
                    "the final stage sets no USER, so it runs as base image `{}`'s user: ",
                    base.written
                );
                for platform in &image.platforms {
                    judge_platform(enabled, image, platform, self.now, &mut judged, &prefix);
                }
            }
        }
        let base_name = image.reference.as_ref().map(ImageReference::policy_name);
        let mut verdict = BaseVerdict {
            notes: judged.notes,
            ..BaseVerdict::default()
        };
        for (rule, severity, d) in judged.findings {
            let span = if rule.id == NON_ROOT_USER {
                base.final_from
            } else {
                base.span
            };
            if policy.inline_ignores
                && waivable_inline(policy, rule)
                && silenced(self.pragmas, rule, &d.message, span.line).is_some()
            {
                continue;
            }
            let waived = base_name.as_deref().is_some_and(|name| {
                policy
                    .exceptions
                    .iter()
                    .any(|e| e.applies_to_image(rule.id, name, self.today))
            });
            if waived {
                continue;
            }
            let mut finding = Finding {
                rule_id: rule.id,
                rule: rule.name,
                severity,
                message: d.stable_message,
                target: self.target.to_string(),
                location: Location {
                    path: Some(self.target.to_string()),
                    span: Some(span),
                },
                fingerprint: String::new(),
            };
            finding.compute_fingerprint(self.facts.line_text(span.line));
            finding.message = d.message;
            verdict.findings.push(finding);
        }
        verdict
    }
}

/// Adds image results to an outcome.
pub fn merge(outcome: &mut Outcome, results: ImageResults) {
    outcome.findings.extend(results.findings);
    outcome.notes.extend(results.notes);
    outcome.targets.extend(results.targets);
    outcome.unevaluated.extend(results.unevaluated);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn base_of(src: &str) -> Option<(String, bool)> {
        let facts = DockerfileFacts::gather("Dockerfile", src, &BTreeMap::new());
        final_base(&facts).map(|(u, r, user)| (format!("{} {}", u.written, r.name()), user))
    }

    #[test]
    fn finds_the_final_stages_base_image() {
        assert_eq!(
            base_of("FROM alpine:3.20\nRUN true\n"),
            Some(("alpine:3.20 docker.io/library/alpine".into(), false))
        );
        assert_eq!(
            base_of("FROM golang:1.22 AS build\nFROM gcr.io/distroless/static:nonroot\nCOPY --from=build /a /a\n"),
            Some(("gcr.io/distroless/static:nonroot gcr.io/distroless/static".into(), false))
        );
        assert_eq!(
            base_of("FROM alpine:3.20 AS base\nUSER app\nFROM base AS mid\nFROM MID\n"),
            Some(("alpine:3.20 docker.io/library/alpine".into(), true))
        );
        assert_eq!(
            base_of("FROM alpine:3.20 AS a\nFROM 0\n").map(|b| b.1),
            Some(false)
        );
        assert_eq!(base_of("FROM golang:1.22 AS build\nFROM scratch\n"), None);
        assert_eq!(base_of("ARG BASE\nFROM $BASE\n"), None);
        assert_eq!(base_of("# nothing\n"), None);
    }

    fn platform_with_history(arch: &str, created_by: &[&str]) -> PlatformImage {
        use crate::image::{HistoryEntry, ImageConfig, Platform};
        PlatformImage {
            platform: Platform::new("linux", arch, None),
            manifest_digest: Some(format!("sha256:{arch}")),
            media_type: None,
            config_digest: String::new(),
            config: ImageConfig {
                user: Some("app".into()),
                history: created_by
                    .iter()
                    .map(|c| HistoryEntry {
                        created_by: Some(c.to_string()),
                        ..HistoryEntry::default()
                    })
                    .collect(),
                ..ImageConfig::default()
            },
            layers: Vec::new(),
            compressed_size: 0,
            filesystem: None,
        }
    }

    /// Every history rule reads each platform's history (parsed once per platform and shared).
    #[test]
    fn each_history_rule_judges_each_platforms_history() {
        let policy = Policy::builtin("default").unwrap();
        let history = [
            "/bin/sh -c #(nop) ADD file:1 in /",
            "/bin/sh -c sudo apt-get update",
            "RUN /bin/sh -c curl -fsSL https://get.example.com | sh # buildkit",
        ];
        let facts = ImageFacts {
            target: "oci:layout:app".into(),
            reference: None,
            digest: "sha256:top".into(),
            media_type: None,
            size: 0,
            signatures: Default::default(),
            notary: Default::default(),
            platforms: vec![
                platform_with_history("amd64", &history),
                platform_with_history("arm64", &history[..2]),
            ],
        };
        let target = ImageTarget::parse("oci:layout:app").unwrap();
        let results = check_images(
            &policy,
            &[(target, Ok(facts))],
            SystemTime::now(),
            Date::today(),
        );
        let mut found: Vec<String> = results
            .findings
            .iter()
            .filter(|f| f.message.starts_with("history: "))
            .map(|f| {
                let step = f.message.split("(history step ").nth(1).unwrap_or("?");
                let platform = f.message.split('[').next_back().unwrap_or("?");
                format!("{} step {} {}", f.rule_id, &step[..1], &platform[..11])
            })
            .collect();
        found.sort();
        assert_eq!(
            found,
            [
                "DL3004 step 2 linux/amd64",
                "DL3004 step 2 linux/arm64",
                "DL3009 step 2 linux/amd64",
                "DL3009 step 2 linux/arm64",
                "PC2003 step 3 linux/amd64",
            ],
            "{:#?}",
            results.findings
        );
    }

    /// The base image's `Env` as the stage built from it sees it: a later `NAME=` wins within
    /// a platform, and a value counts only when every platform agrees on it.
    #[test]
    fn base_env_keeps_what_every_platform_agrees_on() {
        let platform = |arch: &str, env: &[&str]| {
            let mut p = platform_with_history(arch, &[]);
            p.config.env = env.iter().map(|e| e.to_string()).collect();
            p
        };
        let base = |platforms: Vec<PlatformImage>| BaseImage {
            span: Span::default(),
            final_from: Span::default(),
            written: "example/app:1".into(),
            stage: 2,
            stage_sets_user: false,
            facts: Ok(ImageFacts {
                target: "docker://example/app:1".into(),
                reference: None,
                digest: "sha256:top".into(),
                media_type: None,
                size: 0,
                platforms,
                signatures: Default::default(),
                notary: Default::default(),
            }),
        };
        let env = base(vec![
            platform(
                "amd64",
                &[
                    "APP_UID=1654",
                    "A=1",
                    "A=2",
                    "ARCH=amd64",
                    "ONLY=x",
                    "BROKEN",
                ],
            ),
            platform("arm64", &["APP_UID=1654", "A=2", "ARCH=arm64"]),
        ])
        .env()
        .unwrap();
        assert_eq!((env.stage, env.image.as_str()), (2, "example/app:1"));
        assert_eq!(env.os.as_deref(), Some("linux"));
        let mut windows = platform("amd64", &[]);
        windows.platform = crate::image::Platform::new("windows", "amd64", None);
        let mixed = base(vec![platform("amd64", &[]), windows]).env().unwrap();
        assert_eq!(mixed.os, None, "linux and windows platforms: no one OS");
        let vars: Vec<(&str, Option<&str>)> = env
            .vars
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_deref()))
            .collect();
        assert_eq!(
            vars,
            [
                ("A", Some("2")),
                ("APP_UID", Some("1654")),
                ("ARCH", None),
                ("ONLY", None)
            ]
        );
        // An image that could not be fetched gives nothing to expand with.
        let mut failed = base(Vec::new());
        failed.facts = Err(ImageError::NotFound {
            what: "example/app:1".into(),
            detail: None,
        });
        assert_eq!(failed.env(), None);
    }
}
