//! Running ShellCheck: the one place a rule does I/O (the `shellcheck` rule, PC2009, is the
//! documented exception to "rules are pure"). Scripts are written to a private temporary
//! directory and checked by one `shellcheck` process; its JSON is parsed into [`Comment`]s.

use serde::Deserialize;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One ShellCheck comment on one of the scripts passed to [`run`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// Index of the script in the slice given to [`run`].
    pub script: usize,
    /// 1-based, in the script; columns count characters (a tab is one), end exclusive.
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    /// `error`, `warning`, `info` or `style`.
    pub level: String,
    /// The number of `SC2086`.
    pub code: u32,
    pub message: String,
}

/// Why ShellCheck could not check the scripts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    #[error("`{0}` was not found on PATH")]
    NotInstalled(String),
    #[error("could not run `{program}`: {reason}")]
    Failed { program: String, reason: String },
}

/// What [`run`] passes to ShellCheck besides the scripts.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// The minimum level reported: `error`, `warning`, `info` or `style`.
    pub level: String,
    /// Codes never reported (`SC2086` or `2086`).
    pub exclude: Vec<String>,
}

/// Checks `scripts` with one `program` process (`shellcheck -f json1 1.sh 2.sh …`). Each
/// script should name its dialect with a `# shellcheck shell=…` directive on its first line.
/// ShellCheck's configuration files and `SHELLCHECK_OPTS` are ignored, so the same input gives
/// the same findings everywhere.
pub fn run(
    program: &str,
    scripts: &[String],
    settings: &Settings,
) -> Result<Vec<Comment>, RunError> {
    if scripts.is_empty() {
        return Ok(Vec::new());
    }
    let failed = |reason: String| RunError::Failed {
        program: program.to_string(),
        reason,
    };
    let dir = TempDir::create().map_err(|e| failed(format!("temporary directory: {e}")))?;
    let mut names = Vec::with_capacity(scripts.len());
    for (i, text) in scripts.iter().enumerate() {
        let name = format!("{}.sh", i + 1);
        std::fs::write(dir.path().join(&name), text)
            .map_err(|e| failed(format!("writing a script: {e}")))?;
        names.push(name);
    }
    // SC1090/SC1091: sourced files live in the image, not here.
    let mut exclude = vec!["SC1090".to_string(), "SC1091".to_string()];
    exclude.extend(settings.exclude.iter().cloned());
    let output = Command::new(program)
        .current_dir(dir.path())
        .env_remove("SHELLCHECK_OPTS")
        .args(["--norc", "--format=json1"])
        .arg(format!("--severity={}", settings.level))
        .arg(format!("--exclude={}", exclude.join(",")))
        .args(&names)
        .output()
        .map_err(|e| match e.kind() {
            ErrorKind::NotFound => RunError::NotInstalled(program.to_string()),
            _ => failed(e.to_string()),
        })?;
    // 0: no comments, 1: comments; anything else is a usage or I/O error.
    if !matches!(output.status.code(), Some(0 | 1)) {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first = stderr.lines().next().unwrap_or("").trim().to_string();
        return Err(failed(format!("{} ({first})", output.status)));
    }
    parse(&output.stdout, &names).map_err(failed)
}

#[derive(Deserialize)]
struct Output {
    comments: Vec<RawComment>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawComment {
    file: String,
    line: usize,
    end_line: usize,
    column: usize,
    end_column: usize,
    level: String,
    code: u32,
    message: String,
}

/// Parses `json1` output; `names` are the file names passed, in order.
fn parse(json: &[u8], names: &[String]) -> Result<Vec<Comment>, String> {
    let output: Output =
        serde_json::from_slice(json).map_err(|e| format!("unreadable output: {e}"))?;
    let mut comments: Vec<Comment> = output
        .comments
        .into_iter()
        .filter_map(|c| {
            let script = names.iter().position(|n| *n == c.file)?;
            Some(Comment {
                script,
                line: c.line,
                column: c.column,
                end_line: c.end_line,
                end_column: c.end_column,
                level: c.level,
                code: c.code,
                message: c.message,
            })
        })
        .collect();
    comments.sort_by(|a, b| {
        (a.script, a.line, a.column, a.code).cmp(&(b.script, b.line, b.column, b.code))
    });
    Ok(comments)
}

/// A directory only this process can read (scripts may hold secrets), removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn create() -> std::io::Result<TempDir> {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let base = std::env::temp_dir();
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = base.join(format!("portcullis-shellcheck-{}-{n}", std::process::id()));
            let mut builder = std::fs::DirBuilder::new();
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            match builder.create(&path) {
                Ok(()) => return Ok(TempDir(path)),
                Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The ShellCheck binary for tests; fails (never skips) when it is missing.
    pub(crate) fn require_shellcheck() {
        let found = Command::new("shellcheck")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            found,
            "these tests need ShellCheck: install it with `apt-get install -y shellcheck` \
             (or `brew install shellcheck`), then run them again"
        );
    }

    fn settings(level: &str) -> Settings {
        Settings {
            level: level.into(),
            exclude: Vec::new(),
        }
    }

    #[test]
    fn runs_several_scripts_in_one_process() {
        require_shellcheck();
        let scripts = vec![
            "# shellcheck shell=sh\necho $1\n".to_string(),
            "# shellcheck shell=sh\necho ok\n".to_string(),
            "# shellcheck shell=bash\n[[ -f x ]] && cd /x\n".to_string(),
        ];
        let comments = run("shellcheck", &scripts, &settings("style")).expect("runs");
        let found: Vec<(usize, usize, u32)> = comments
            .iter()
            .map(|c| (c.script, c.line, c.code))
            .collect();
        assert_eq!(found, vec![(0, 2, 2086), (2, 2, 2164)]);
        assert_eq!((comments[0].column, comments[0].end_column), (6, 8));
        assert_eq!(comments[0].level, "info");
    }

    #[test]
    fn level_and_exclusions_filter() {
        require_shellcheck();
        let scripts = vec!["# shellcheck shell=sh\necho $1\ncd /x\n".to_string()];
        let codes = |s: &Settings| -> Vec<u32> {
            run("shellcheck", &scripts, s)
                .expect("runs")
                .iter()
                .map(|c| c.code)
                .collect()
        };
        assert_eq!(codes(&settings("style")), vec![2086, 2164]);
        assert_eq!(codes(&settings("warning")), vec![2164]);
        let mut excluded = settings("style");
        excluded.exclude = vec!["SC2164".into()];
        assert_eq!(codes(&excluded), vec![2086]);
    }

    #[test]
    fn missing_binary_and_bad_arguments_are_errors() {
        let scripts = vec!["echo\n".to_string()];
        assert_eq!(
            run(
                "portcullis-no-such-shellcheck",
                &scripts,
                &settings("style")
            ),
            Err(RunError::NotInstalled(
                "portcullis-no-such-shellcheck".into()
            ))
        );
        require_shellcheck();
        let err = run("shellcheck", &scripts, &settings("loud")).expect_err("bad level");
        assert!(matches!(err, RunError::Failed { .. }), "{err:?}");
    }

    #[test]
    fn nothing_to_check_runs_nothing() {
        assert_eq!(
            run("portcullis-no-such-shellcheck", &[], &settings("style")),
            Ok(Vec::new())
        );
    }
}
