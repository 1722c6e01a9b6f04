//! Exceptions: documented, scoped and optionally expiring waivers of rules.

use super::date::Date;
use super::glob::Glob;
use super::Origin;
use std::path::{Component, Path, PathBuf};

/// One `exceptions:` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exception {
    /// Canonical ids of the rules it waives: a built-in rule's code (`PC1002`, whatever
    /// name or alias the policy used) or a custom rule's id.
    pub rules: Vec<String>,
    /// Dockerfile globs, relative to [`Exception::base_dir`].
    pub paths: Vec<Glob>,
    /// Image reference globs.
    pub images: Vec<Glob>,
    pub reason: String,
    /// The last day (UTC) the exception applies; after it, it is expired.
    pub expires: Option<Date>,
    /// The absolute directory `paths` are relative to: the declaring policy file's
    /// directory, joined with the exception's `relative_to` if any. `None` for built-in
    /// presets: their paths are relative to the current directory.
    pub base_dir: Option<PathBuf>,
    pub origin: Origin,
}

impl Exception {
    /// Whether it names `rule_id` (a canonical id, as in [`crate::finding::Finding::rule_id`]).
    pub fn covers_rule(&self, rule_id: &str) -> bool {
        self.rules.iter().any(|r| r.eq_ignore_ascii_case(rule_id))
    }

    /// Expired exceptions no longer apply; the engine reports them.
    pub fn is_expired(&self, today: Date) -> bool {
        self.expires.is_some_and(|last_day| today > last_day)
    }

    /// Whether it waives `rule_id` for a Dockerfile at `path`, a `/`-separated path relative
    /// to [`Exception::base_dir`]. See [`Exception::applies_to_file`] for paths from the
    /// command line.
    pub fn applies_to_path(&self, rule_id: &str, path: &str, today: Date) -> bool {
        self.is_live(rule_id, today) && self.paths.iter().any(|g| g.matches(path))
    }

    /// Whether it waives `rule_id` for the Dockerfile `file`, given relative to `cwd` (or
    /// absolute). `cwd` must be absolute, as [`std::env::current_dir`] returns it.
    pub fn applies_to_file(&self, rule_id: &str, file: &Path, cwd: &Path, today: Date) -> bool {
        let base = self.base_dir.as_deref().unwrap_or(cwd);
        match relative_path(base, &cwd.join(file)) {
            Some(path) => self.applies_to_path(rule_id, &path, today),
            None => false,
        }
    }

    /// Whether it waives `rule_id` for the image `reference` (normalised, e.g.
    /// `docker.io/library/ubuntu`).
    pub fn applies_to_image(&self, rule_id: &str, reference: &str, today: Date) -> bool {
        self.is_live(rule_id, today) && self.images.iter().any(|g| g.matches(reference))
    }

    fn is_live(&self, rule_id: &str, today: Date) -> bool {
        self.covers_rule(rule_id) && !self.is_expired(today)
    }
}

/// `path` with `.` and `..` components resolved without touching the file system
/// (`/a/b/../c` → `/a/c`; `..` at the root stays at the root).
pub fn lexical_normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// `target` as a `/`-separated path relative to `base`, computed lexically (no file system
/// access; `..` where `target` lies outside `base`). Both must be absolute. `None` when no
/// relative path exists (different Windows drives) or a component is not UTF-8.
pub fn relative_path(base: &Path, target: &Path) -> Option<String> {
    let base = normalize(base)?;
    let target = normalize(target)?;
    if base.first() != target.first() {
        return None;
    }
    let common = base.iter().zip(&target).take_while(|(a, b)| a == b).count();
    let ups = std::iter::repeat_n("..".to_string(), base.len() - common);
    let parts: Vec<String> = ups.chain(target[common..].iter().cloned()).collect();
    Some(parts.join("/"))
}

/// The components of an absolute path with `.` and `..` resolved lexically; the first
/// element is the root (and drive prefix). `None` for relative or non-UTF-8 paths.
fn normalize(path: &Path) -> Option<Vec<String>> {
    let mut root = String::new();
    let mut parts: Vec<String> = Vec::new();
    for component in path.components() {
        match component {
            Component::Prefix(p) => root.push_str(p.as_os_str().to_str()?),
            Component::RootDir => root.push('/'),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop();
            }
            Component::Normal(name) => parts.push(name.to_str()?.to_string()),
        }
    }
    if !path.is_absolute() {
        return None;
    }
    Some(std::iter::once(root).chain(parts).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Span;

    fn exception(paths: &[&str], images: &[&str], expires: Option<&str>) -> Exception {
        Exception {
            rules: vec!["PC1002".into(), "ACME001".into()],
            paths: paths.iter().map(|p| Glob::new(p).unwrap()).collect(),
            images: images.iter().map(|p| Glob::new(p).unwrap()).collect(),
            reason: "tracked in OPS-12".into(),
            expires: expires.map(|d| d.parse().unwrap()),
            base_dir: Some(PathBuf::from("/repo/ci")),
            origin: Origin {
                file: "ci/policy.yaml".into(),
                span: Span::point(3, 5),
            },
        }
    }

    fn day(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn applies_to_named_rules_and_matching_paths() {
        let e = exception(&["legacy/**"], &[], None);
        let today = day("2026-06-01");
        assert!(e.applies_to_path("PC1002", "legacy/Dockerfile", today));
        assert!(e.applies_to_path("pc1002", "legacy/a/Dockerfile", today));
        assert!(e.applies_to_path("ACME001", "legacy/Dockerfile", today));
        assert!(!e.applies_to_path("PC1003", "legacy/Dockerfile", today));
        assert!(!e.applies_to_path("PC1002", "legacy-2/Dockerfile", today));
        assert!(!e.applies_to_path("PC1002", "Dockerfile", today));
        assert!(!e.applies_to_image("PC1002", "legacy/Dockerfile", today));
    }

    #[test]
    fn expires_after_its_last_day() {
        let e = exception(&["**"], &[], Some("2027-01-31"));
        assert!(!e.is_expired(day("2027-01-31")));
        assert!(e.applies_to_path("PC1002", "Dockerfile", day("2027-01-31")));
        assert!(e.is_expired(day("2027-02-01")));
        assert!(!e.applies_to_path("PC1002", "Dockerfile", day("2027-02-01")));
        assert!(!exception(&["**"], &[], None).is_expired(day("9999-12-31")));
    }

    #[test]
    fn file_paths_are_taken_relative_to_the_policy_directory() {
        let e = exception(&["legacy/**"], &[], None);
        let today = day("2026-06-01");
        let cwd = Path::new("/repo");
        assert!(e.applies_to_file("PC1002", Path::new("ci/legacy/Dockerfile"), cwd, today));
        assert!(e.applies_to_file(
            "PC1002",
            Path::new("./ci/x/../legacy/Dockerfile"),
            cwd,
            today
        ));
        assert!(e.applies_to_file(
            "PC1002",
            Path::new("legacy/Dockerfile"),
            Path::new("/repo/ci"),
            today
        ));
        assert!(e.applies_to_file(
            "PC1002",
            Path::new("/repo/ci/legacy/Dockerfile"),
            Path::new("/elsewhere"),
            today
        ));
        // Relative to the policy, /repo/legacy is ../legacy: not under `legacy/**`.
        assert!(!e.applies_to_file("PC1002", Path::new("legacy/Dockerfile"), cwd, today));
        let outside = exception(&["../legacy/**"], &[], None);
        assert!(outside.applies_to_file("PC1002", Path::new("legacy/Dockerfile"), cwd, today));
    }

    #[test]
    fn builtin_exceptions_are_relative_to_cwd() {
        let mut e = exception(&["legacy/**"], &[], None);
        e.base_dir = None;
        let today = day("2026-06-01");
        assert!(e.applies_to_file(
            "PC1002",
            Path::new("legacy/Dockerfile"),
            Path::new("/w"),
            today
        ));
    }

    #[test]
    fn images_match_reference_globs() {
        let e = exception(&[], &["docker.io/acme/legacy-*"], None);
        let today = day("2026-06-01");
        assert!(e.applies_to_image("PC1002", "docker.io/acme/legacy-api", today));
        assert!(!e.applies_to_image("PC1002", "docker.io/acme/api", today));
        assert!(!e.applies_to_path("PC1002", "docker.io/acme/legacy-api", today));
    }

    #[test]
    fn relative_paths_are_lexical() {
        let rel = |b: &str, t: &str| relative_path(Path::new(b), Path::new(t));
        assert_eq!(rel("/a/b", "/a/b/c/d").as_deref(), Some("c/d"));
        assert_eq!(rel("/a/b", "/a/x").as_deref(), Some("../x"));
        assert_eq!(rel("/a/b", "/a/b/./c/../d").as_deref(), Some("d"));
        assert_eq!(rel("/", "/x").as_deref(), Some("x"));
        assert_eq!(rel("/a", "relative"), None);
        assert_eq!(
            lexical_normalize(Path::new("/a/b/../c/./d")),
            Path::new("/a/c/d")
        );
        assert_eq!(lexical_normalize(Path::new("/a/../../x")), Path::new("/x"));
    }
}
