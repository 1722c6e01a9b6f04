//! The portcullis binary: parse arguments, run, map the outcome to an exit code.
//! This is the only place that exits or prints errors.

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

use clap::Parser;
use portcullis::baseline::Baseline;
use portcullis::cli::{CheckArgs, Cli, Command, MergeArgs, PolicyCommand};
use portcullis::engine::{self, RunOptions};
use portcullis::finding::Severity;
use portcullis::image::{FetchOptions, Fetcher, Platform};
use portcullis::merge::{self, MergeFormat};
use portcullis::policy::{Policy, PolicySource};
use portcullis::report::{self, Format, Note, Report};
use portcullis::rules;
use portcullis::shard::Shard;
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit codes, documented in the README.
const PASSED: u8 = 0;
const POLICY_FAILED: u8 = 1;
const USAGE_ERROR: u8 = 2;
const NOT_EVALUATED: u8 = 3;

/// An error that ends the run, with the exit code it maps to.
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    fn usage(message: impl std::fmt::Display) -> Self {
        Failure {
            code: USAGE_ERROR,
            message: message.to_string(),
        }
    }
}

fn main() -> ExitCode {
    install_panic_hook();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are not errors.
            let code = if e.use_stderr() { USAGE_ERROR } else { PASSED };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            eprintln!("portcullis: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

/// A panic is a bug: it ends the run with exit code 2 and a short request for a report,
/// never a stack trace or the panic's message, which may hold input (a secret in a Dockerfile,
/// a registry's answer). Only where the code panicked is said, to find the bug by.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "portcullis: internal error{place}; this is a bug, please report it with the \
             command you ran at https://github.com/portcullis-dev/portcullis/issues \
             (portcullis {})",
            env!("CARGO_PKG_VERSION")
        );
        std::process::exit(i32::from(USAGE_ERROR));
    }));
    // The hook's own test: there is no other way to make portcullis panic.
    #[allow(clippy::panic)]
    if std::env::var_os("PORTCULLIS_TEST_PANIC").is_some() {
        panic!("deliberate panic with a secret: hunter2");
    }
}

fn run(cli: Cli) -> Result<u8, Failure> {
    match cli.command {
        Command::Check(args) => check(args),
        Command::Rules { format } => {
            print_out(&list_rules(&format))?;
            Ok(PASSED)
        }
        Command::Explain { rule } => match rules::lookup(&rule) {
            Some(rule) => {
                print_out(&explain(rule))?;
                Ok(PASSED)
            }
            None => {
                let hint = rules::suggest(&rule)
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_else(|| "; `portcullis rules` lists them all".into());
                Err(Failure::usage(format!("unknown rule `{rule}`{hint}")))
            }
        },
        Command::Policy(PolicyCommand::Validate { file }) => {
            let policy = Policy::load(&file).map_err(Failure::usage)?;
            print_out(&format!(
                "{}: valid ({} rules enabled, fail_on {})\n",
                file.display(),
                policy.rules.len(),
                policy.fail_on
            ))?;
            Ok(PASSED)
        }
        Command::Policy(PolicyCommand::ImportHadolint { file }) => {
            let policy =
                portcullis::policy::hadolint::import_hadolint(&file).map_err(Failure::usage)?;
            print_out(&policy)?;
            Ok(PASSED)
        }
        Command::Policy(PolicyCommand::Show { file }) => {
            let policy = load_policy(file.as_deref())?;
            print_out(&policy.to_yaml())?;
            Ok(PASSED)
        }
        Command::Init { file, force } => {
            let written =
                portcullis::init::write_starter(Some(&file), force).map_err(Failure::usage)?;
            let shown = written.display();
            print_out(&format!(
                "wrote {shown}; check it with `portcullis policy validate {shown}`\n"
            ))?;
            Ok(PASSED)
        }
        Command::MergeReports(args) => merge_reports(args),
    }
}

fn merge_reports(args: MergeArgs) -> Result<u8, Failure> {
    let format = args
        .format
        .as_deref()
        .map(str::parse::<MergeFormat>)
        .transpose()
        .map_err(|e| Failure::usage(format!("--format: {e}")))?;
    let mut inputs = Vec::with_capacity(args.inputs.len());
    for path in &args.inputs {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?;
        inputs.push(merge::Input {
            name: path.display().to_string(),
            text,
        });
    }
    let (_, merged) = merge::merge(&inputs, format).map_err(Failure::usage)?;
    match &args.output {
        Some(path) => write_file(path, &merged)?,
        None => print_out(&merged)?,
    }
    Ok(PASSED)
}

fn current_dir() -> Result<PathBuf, Failure> {
    std::env::current_dir()
        .map_err(|e| Failure::usage(format!("cannot read the current directory: {e}")))
}

fn load_policy(explicit: Option<&Path>) -> Result<Policy, Failure> {
    Policy::discover(&current_dir()?, explicit).map_err(Failure::usage)
}

fn check(args: CheckArgs) -> Result<u8, Failure> {
    let format: Format = args.format.parse().map_err(Failure::usage)?;
    let extra_reports = args
        .reports
        .iter()
        .map(|spec| parse_report_spec(spec))
        .collect::<Result<Vec<_>, _>>()?;
    let build_args = parse_build_args(&args.build_args)?;
    let shard = args
        .shard
        .as_deref()
        .map(str::parse::<Shard>)
        .transpose()
        .map_err(|e| Failure::usage(format!("--shard {e}")))?;
    let baseline = args
        .baseline
        .as_deref()
        .map(Baseline::load)
        .transpose()
        .map_err(Failure::usage)?;
    let mut policy = load_policy(args.policy.as_deref())?;
    if let Some(spec) = &args.policy_remap {
        let (from, to) = parse_policy_remap(spec)?;
        policy.remap_anchors(&from, &to);
    }
    if let Some(level) = &args.fail_on {
        policy.fail_on = level
            .parse::<Severity>()
            .map_err(|e| Failure::usage(format!("--fail-on: {e}")))?;
    }
    if args.no_resolve {
        policy.resolve = false;
    }

    let mut targets = args.targets.clone();
    if let Some(list) = &args.image_list {
        targets.extend(read_target_list(list)?);
    }
    if targets.is_empty() {
        targets.push(".".to_string());
    }
    let specs: Vec<_> = targets.iter().map(|t| engine::parse_target(t)).collect();
    let files = engine::collect_dockerfiles(&specs).map_err(Failure::usage)?;
    let images = engine::collect_images(&specs).map_err(Failure::usage)?;
    let fetch = fetch_options(&args)?;
    let cwd = current_dir()?;
    let all_targets = files.len() + images.len();
    let (files, images) = match shard {
        Some(shard) => shard.select_both(
            files,
            |path| engine::display_path(path, &cwd),
            images,
            |image| image.to_string(),
        ),
        None => (files, images),
    };
    let shown_policy = match &policy.source {
        PolicySource::File(path) => engine::display_path(path, &cwd),
        builtin => builtin.to_string(),
    };
    let options = RunOptions {
        build_args,
        target: args.target.clone(),
        cwd,
        fetch,
        resolve: args.resolve,
    };
    let mut outcome = engine::check(&policy, &files, &images, &options);
    if let Some(shard) = shard {
        outcome.notes.push(Note::new(format!(
            "shard {shard}: checked {} of {all_targets} targets",
            files.len() + images.len()
        )));
    }
    if let Some(baseline) = &baseline {
        let notes = baseline.apply(&mut outcome.findings, &outcome.targets);
        outcome.notes.extend(notes);
    }

    let report = Report {
        tool_version: env!("CARGO_PKG_VERSION"),
        policy: shown_policy,
        fail_on: policy.fail_on,
        findings: &outcome.findings,
        notes: &outcome.notes,
        targets: &outcome.targets,
        rules: &outcome.rules,
        unevaluated: &outcome.unevaluated,
        suppressed: &outcome.suppressed,
    };
    let color = match args.color.as_str() {
        "always" => true,
        "never" => false,
        _ => {
            args.output.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none()
        }
    };
    let rendered = report::render(&report, format, color && format == Format::Text);
    match &args.output {
        Some(path) => write_file(path, &rendered)?,
        None => print_out(&rendered)?,
    }
    for (format, path) in &extra_reports {
        write_file(path, &report::render(&report, *format, false))?;
    }

    if !outcome.unevaluated.is_empty() {
        for problem in &outcome.unevaluated {
            eprintln!("portcullis: could not evaluate {problem}");
        }
        return Ok(NOT_EVALUATED);
    }
    Ok(if report.passed() {
        PASSED
    } else {
        POLICY_FAILED
    })
}

/// `--image-list FILE`: one target a line; blank lines and `#` comments skipped.
fn read_target_list(path: &Path) -> Result<Vec<String>, Failure> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Failure::usage(format!("--image-list: cannot read {}: {e}", path.display()))
    })?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_string)
        .collect())
}

/// How images are fetched: credentials from the environment (Docker's config, credential
/// helpers, `REGISTRY_AUTH_FILE`), plus the image flags.
fn fetch_options(args: &CheckArgs) -> Result<FetchOptions, Failure> {
    let platform = args
        .platform
        .as_deref()
        .map(Platform::parse)
        .transpose()
        .map_err(|e| Failure::usage(format!("--platform: {e}")))?;
    if let Some(ca_file) = &args.ca_file {
        if !ca_file.is_file() {
            return Err(Failure::usage(format!(
                "--ca-file: {} is not a readable file",
                ca_file.display()
            )));
        }
    }
    let progress = match args.progress.as_str() {
        "always" => true,
        "never" => false,
        _ => std::io::stderr().is_terminal(),
    };
    let options = FetchOptions {
        platform,
        insecure_registries: args.insecure_registries.clone(),
        ca_file: args.ca_file.clone(),
        max_concurrency: usize::from(args.jobs),
        progress,
        ..FetchOptions::default()
    };
    // A CA file that is not PEM is a usage error, found before anything is fetched.
    if options.ca_file.is_some() {
        Fetcher::new(options.clone()).map_err(|e| Failure::usage(format!("--ca-file: {e}")))?;
    }
    Ok(options)
}

fn parse_report_spec(spec: &str) -> Result<(Format, PathBuf), Failure> {
    let (format, path) = spec.split_once('=').ok_or_else(|| {
        Failure::usage(format!(
            "--report `{spec}`: expected FORMAT=PATH, e.g. sarif=gate.sarif (formats: {})",
            Format::choices()
        ))
    })?;
    if path.is_empty() {
        return Err(Failure::usage(format!(
            "--report `{spec}`: the path is empty"
        )));
    }
    let format = format
        .parse::<Format>()
        .map_err(|e| Failure::usage(format!("--report `{spec}`: {e}")))?;
    Ok((format, PathBuf::from(path)))
}

/// `--policy-remap FROM=TO`: two existing directories, canonical (as exception anchors are).
fn parse_policy_remap(spec: &str) -> Result<(PathBuf, PathBuf), Failure> {
    let Some((from, to)) = spec
        .split_once('=')
        .filter(|(f, t)| !f.is_empty() && !t.is_empty())
    else {
        return Err(Failure::usage(format!(
            "--policy-remap `{spec}`: expected FROM=TO, two directories"
        )));
    };
    let directory = |path: &str| {
        Path::new(path)
            .canonicalize()
            .ok()
            .filter(|p| p.is_dir())
            .ok_or_else(|| Failure::usage(format!("--policy-remap: `{path}` is not a directory")))
    };
    Ok((directory(from)?, directory(to)?))
}

fn parse_build_args(args: &[String]) -> Result<BTreeMap<String, String>, Failure> {
    let mut map = BTreeMap::new();
    for arg in args {
        match arg.split_once('=') {
            Some((name, value)) if !name.is_empty() => {
                map.insert(name.to_string(), value.to_string());
            }
            _ => {
                // `--build-arg NAME` takes the value from the environment, as docker build does.
                match std::env::var(arg) {
                    Ok(value) if !arg.is_empty() => {
                        map.insert(arg.clone(), value);
                    }
                    _ => {
                        return Err(Failure::usage(format!(
                        "--build-arg `{arg}`: expected NAME=VALUE (or NAME set in the environment)"
                    )))
                    }
                }
            }
        }
    }
    Ok(map)
}

fn write_file(path: &Path, content: &str) -> Result<(), Failure> {
    std::fs::write(path, content).map_err(|e| Failure {
        code: USAGE_ERROR,
        message: format!("cannot write {}: {e}", path.display()),
    })
}

fn print_out(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        // A closed pipe (`portcullis rules | head`) is not an error worth reporting.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::usage(format!(
            "cannot write to standard output: {e}"
        ))),
    }
}

fn list_rules(format: &str) -> String {
    let all = rules::all();
    match format {
        "json" => {
            let items: Vec<_> = all
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.id,
                        "name": r.name,
                        "severity": r.severity,
                        "enabled_by_default": r.enabled_by_default,
                        "aliases": r.aliases,
                        "target": match r.target() { rules::Target::Dockerfile => "dockerfile", rules::Target::Image => "image" },
                        "summary": r.summary(),
                    })
                })
                .collect();
            let mut text = serde_json::to_string_pretty(&items).unwrap_or_default();
            text.push('\n');
            text
        }
        "markdown" => rules::markdown_table(),
        "docs" => rules::markdown_docs(),
        _ => {
            let mut out = String::new();
            for r in all {
                out.push_str(&format!(
                    "{:<8} {:<40} {:<9} {}\n",
                    r.id,
                    r.name,
                    r.severity.as_str(),
                    r.summary()
                ));
            }
            out
        }
    }
}

fn explain(rule: &rules::Rule) -> String {
    let aliases = if rule.aliases.is_empty() {
        String::new()
    } else {
        format!("Aliases: {}\n", rule.aliases.join(", "))
    };
    format!(
        "{} {} (default severity: {}{})\n{}\n{}",
        rule.id,
        rule.name,
        rule.severity,
        if rule.enabled_by_default {
            ""
        } else {
            "; off unless the policy enables it"
        },
        aliases,
        rule.documentation()
    )
}
