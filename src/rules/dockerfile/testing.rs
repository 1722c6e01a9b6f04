//! Test helpers for Dockerfile rules: run one rule over a snippet.

use crate::dockerfile::DockerfileFacts;
use crate::rules::{
    Check, Diagnostic, Diagnostics, DockerfileContext, OptionValue, Rule, RuleOptions,
};
use std::collections::BTreeMap;

/// Runs `rule` over `src` with `options`, whether or not the snippet parses cleanly.
pub fn run(rule: &Rule, src: &str, options: &RuleOptions) -> Vec<Diagnostic> {
    let facts = DockerfileFacts::gather("Dockerfile", src, &BTreeMap::new());
    run_facts(rule, &facts, options)
}

/// The lines `rule` reports in `src` built with `--target target`.
pub fn lint_target(rule: &Rule, src: &str, target: &str) -> Vec<usize> {
    let mut facts = DockerfileFacts::gather("Dockerfile", src, &BTreeMap::new());
    facts.set_target(target);
    assert!(
        facts.file.errors.is_empty(),
        "{:?}\n{src}",
        facts.file.errors
    );
    run_facts(rule, &facts, &RuleOptions::default())
        .iter()
        .map(|d| d.span.line)
        .collect()
}

pub fn run_facts(rule: &Rule, facts: &DockerfileFacts, options: &RuleOptions) -> Vec<Diagnostic> {
    let Check::Dockerfile(check) = rule.check else {
        panic!("{} is not a Dockerfile rule", rule.id);
    };
    let mut out = Diagnostics::default();
    check(&DockerfileContext { facts, options }, &mut out);
    out.0
}

/// The options of a policy mapping, e.g. `options(&[("strict", OptionValue::Bool(true))])`.
pub fn options(pairs: &[(&str, OptionValue)]) -> RuleOptions {
    RuleOptions {
        values: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    }
}

/// A `StringMap` option value from pairs.
pub fn map(pairs: &[(&str, &str)]) -> OptionValue {
    OptionValue::Map(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

/// The lines `rule` reports in `src` (which must parse without errors), with `options`.
pub fn lint_with(rule: &Rule, src: &str, options: &[(&str, OptionValue)]) -> Vec<usize> {
    let file = crate::dockerfile::parse(src);
    assert!(file.errors.is_empty(), "{:?}\n{src}", file.errors);
    run(rule, src, &self::options(options))
        .iter()
        .map(|d| d.span.line)
        .collect()
}

/// The lines `rule` reports in `src` (which must parse without errors).
pub fn lint(rule: &Rule, src: &str) -> Vec<usize> {
    lint_with(rule, src, &[])
}

/// The messages `rule` reports in `src`, in order.
pub fn messages(rule: &Rule, src: &str) -> Vec<String> {
    run(rule, src, &RuleOptions::default())
        .into_iter()
        .map(|d| d.message)
        .collect()
}
