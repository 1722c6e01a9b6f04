//! Command-line definitions (clap). Parsing only: `main.rs` acts on them.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// A CI security gate for container images and Dockerfiles.
///
/// Exit codes: 0 the policy passed; 1 a finding at or above `fail_on`; 2 usage or
/// configuration error; 3 something the policy requires could not be evaluated.
#[derive(Debug, Parser)]
#[command(name = "portcullis", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per process: the size of the `check` variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check Dockerfiles and container images against the policy.
    Check(CheckArgs),
    /// List every rule: code, name, default severity and summary.
    Rules {
        /// Output format: text, json, markdown (the README's rule table) or docs (docs/rules.md).
        #[arg(long, default_value = "text", value_parser = ["text", "json", "markdown", "docs"])]
        format: String,
    },
    /// Print a rule's documentation.
    Explain {
        /// A rule code (`DL3008`), name (`no-latest-tag`) or alias.
        rule: String,
    },
    /// Validate or show a policy.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Write a commented starter policy; refuses to overwrite an existing file.
    Init {
        /// Where to write it.
        #[arg(default_value = ".portcullis.yaml")]
        file: PathBuf,
        /// Overwrite the file if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Join the JSON reports (or SARIF logs) of sharded runs into one.
    MergeReports(MergeArgs),
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Reports written by `portcullis check` (all JSON or all SARIF).
    #[arg(required = true, value_name = "REPORT")]
    pub inputs: Vec<PathBuf>,

    /// json or sarif; default: the format of the inputs.
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,

    /// Write the merged report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Check a policy file; report every error with file:line:column.
    Validate { file: PathBuf },
    /// Print the policy equivalent to a hadolint configuration (`.hadolint.yaml`).
    ImportHadolint { file: PathBuf },
    /// Print the effective policy (after `extends`) as YAML.
    Show {
        /// A policy file; default: the policy `check` would use here.
        file: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Dockerfiles or directories (searched recursively); default `.`.
    /// Images: `docker://REF`, `oci:DIR[:TAG]`, `docker-archive:FILE`.
    pub targets: Vec<String>,

    /// Policy file; default `.portcullis.yaml`/`.portcullis.yml` here, else the built-in default.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    /// The policy files under FROM are copies of those under TO (another git revision
    /// exported to a temporary directory, say): exception `paths` declared in them are
    /// anchored under TO, where the Dockerfiles are. CI uses it to apply the target branch's
    /// policy to a pull request.
    #[arg(long, value_name = "FROM=TO")]
    pub policy_remap: Option<String>,

    /// Report format: text, json, sarif, gitlab, junit, github, markdown.
    #[arg(long, default_value = "text", value_name = "FORMAT")]
    pub format: String,

    /// Write the report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Also write a report in FORMAT to PATH (repeatable), e.g. `--report sarif=gate.sarif`.
    #[arg(long = "report", value_name = "FORMAT=PATH")]
    pub reports: Vec<String>,

    /// Fail on findings at or above this severity (overrides the policy's `fail_on`).
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<String>,

    /// A build argument for ARG resolution, as `docker build --build-arg` (repeatable).
    #[arg(long = "build-arg", value_name = "NAME=VALUE")]
    pub build_args: Vec<String>,

    /// The stage the build targets, as `docker build --target`: rules about the built image
    /// (non-root user, cache cleanup, labels) judge that stage instead of the last one.
    #[arg(long, value_name = "STAGE")]
    pub target: Option<String>,

    /// A previous JSON report: findings it already has are not reported and do not fail.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Check only shard INDEX of TOTAL (e.g. 2/4): parallel jobs split the targets.
    #[arg(long, value_name = "INDEX/TOTAL")]
    pub shard: Option<String>,

    /// Read more targets from FILE, one a line (same syntax as arguments; blank lines and
    /// lines starting with `#` are skipped).
    #[arg(long, value_name = "FILE")]
    pub image_list: Option<PathBuf>,

    /// Judge only this platform of multi-platform images: os/arch[/variant], e.g. linux/arm64.
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,

    /// Most registry requests in flight at once.
    #[arg(long, default_value_t = 8, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: u16,

    /// PEM file of extra CA certificates to trust for registries (besides the system's).
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,

    /// Reach this registry without TLS verification, then over plain HTTP (repeatable).
    #[arg(long = "insecure-registry", value_name = "HOST[:PORT]")]
    pub insecure_registries: Vec<String>,

    /// Fetch each Dockerfile's base image, so rules can judge it (e.g. the USER it sets).
    #[arg(long)]
    pub resolve: bool,

    /// Never fetch base images, even if the policy says `resolve: true` (offline linting).
    #[arg(long, conflicts_with = "resolve")]
    pub no_resolve: bool,

    /// Progress of image layer reads on standard error: auto (a bar when it is a terminal,
    /// nothing in a CI log), always (`--progress` alone; one line per layer where there is no
    /// terminal), never. Reports never contain it.
    #[arg(
        long,
        default_value = "auto",
        value_name = "WHEN",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "always",
        value_parser = ["auto", "always", "never"]
    )]
    pub progress: String,

    /// Colour in text output: auto (a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, default_value = "auto", value_parser = ["auto", "always", "never"])]
    pub color: String,
}
