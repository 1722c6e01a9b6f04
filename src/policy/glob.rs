//! Globs over `/`-separated names: registries and image references
//! (`ghcr.io/acme/**`) and Dockerfile paths relative to the policy's directory (`legacy/**`).
//!
//! A pattern is split on `/` into segments, and a segment only ever matches a whole segment
//! of the subject, so `ghcr.io/acme/**` cannot match `ghcr.io/acme-evil/x` or
//! `ghcr.io.evil.com/acme/x`:
//! - `**` as a whole segment matches any number of segments: **zero or more** at the start or
//!   in the middle (`**/Dockerfile` matches `Dockerfile`; `a/**/b` matches `a/b`), but **one or
//!   more** at the end (`ghcr.io/acme/**` matches `ghcr.io/acme/app`, not `ghcr.io/acme`
//!   itself; list both patterns to allow both). `**` alone matches everything.
//! - `*` matches any run of characters inside one segment, never a `/`
//!   (`docker.io/library/*`, `docker.io/acme/legacy-*`).
//! - Everything else is literal and case-sensitive.
//!
//! Rejected, so that nobody mistakes them for shell-glob syntax that would silently not
//! work: `?`, `[`, `]`, `{`, `}`, `\`, `**` inside a segment (`a**`), and empty segments
//! (a leading, trailing or doubled `/`). A `.` segment is dropped (`./legacy/**` means
//! `legacy/**`). `..` is a literal segment that wildcards never match, so an exception path
//! reaches outside the policy's directory only when it says so (`../services/**`).

use std::fmt;

/// A compiled glob. Compile once with [`Glob::new`], then [`Glob::matches`].
#[derive(Clone)]
pub struct Glob {
    text: String,
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// `**`
    AnySegments,
    /// A segment without `*`.
    Literal(String),
    /// A segment with at least one `*`.
    Wildcard(String),
}

/// Why a pattern is not a valid glob.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct GlobError(pub String);

impl Glob {
    pub fn new(pattern: &str) -> Result<Glob, GlobError> {
        if pattern.is_empty() {
            return Err(GlobError("the pattern is empty".into()));
        }
        if let Some(c) = pattern.chars().find(|c| "?[]{}\\".contains(*c)) {
            return Err(GlobError(format!(
                "`{c}` is not supported; only `*` (within a segment) and `**` (any segments) are wildcards, with `/` as the separator"
            )));
        }
        let mut segments = Vec::new();
        for part in pattern.split('/') {
            match part {
                "" => {
                    return Err(GlobError(
                        "empty path segment (a leading, trailing or doubled `/`)".into(),
                    ))
                }
                "." => continue,
                "**" => segments.push(Segment::AnySegments),
                _ if part.contains("**") => {
                    return Err(GlobError(
                        "`**` must be a whole segment (`a/**/b`); use `*` within a segment".into(),
                    ))
                }
                _ if part.contains('*') => segments.push(Segment::Wildcard(part.to_string())),
                _ => segments.push(Segment::Literal(part.to_string())),
            }
        }
        if segments.is_empty() {
            return Err(GlobError("the pattern names no segment".into()));
        }
        Ok(Glob {
            text: pattern.to_string(),
            segments,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `subject` (a `/`-separated name) matches the whole pattern.
    pub fn matches(&self, subject: &str) -> bool {
        if subject.is_empty() {
            return false;
        }
        let parts: Vec<&str> = subject.split('/').collect();
        // after[j]: does the pattern from segment i on match parts[j..]? Computed backwards,
        // one row per pattern segment, so the cost is segments × parts with no backtracking.
        let mut after = vec![false; parts.len() + 1];
        after[parts.len()] = true;
        let last = self.segments.len() - 1;
        for (i, segment) in self.segments.iter().enumerate().rev() {
            let mut row = vec![false; parts.len() + 1];
            for j in (0..=parts.len()).rev() {
                row[j] = match segment {
                    // At the end `**` needs at least one segment, elsewhere it may match none.
                    Segment::AnySegments if i == last => {
                        j < parts.len() && parts[j..].iter().all(|p| *p != "..")
                    }
                    Segment::AnySegments => {
                        after[j] || (j < parts.len() && parts[j] != ".." && row[j + 1])
                    }
                    Segment::Literal(lit) => j < parts.len() && parts[j] == lit && after[j + 1],
                    Segment::Wildcard(pat) => {
                        j < parts.len()
                            && parts[j] != ".."
                            && wildcard_matches(pat, parts[j])
                            && after[j + 1]
                    }
                };
            }
            after = row;
        }
        after[0]
    }
}

/// `*` matches any run of bytes; other bytes are literal. Byte-wise matching is sound for
/// UTF-8 because a literal always starts with a leading byte, which never equals a
/// continuation byte.
fn wildcard_matches(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            backtrack = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((star, matched)) = backtrack {
            pi = star + 1;
            ti = matched + 1;
            backtrack = Some((star, matched + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&b| b == b'*')
}

impl fmt::Display for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Glob({:?})", self.text)
    }
}

impl PartialEq for Glob {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for Glob {}

#[cfg(test)]
mod tests {
    use super::*;

    fn glob(p: &str) -> Glob {
        Glob::new(p).unwrap()
    }

    fn check(pattern: &str, catches: &[&str], does_not_catch: &[&str]) {
        let g = glob(pattern);
        for s in catches {
            assert!(g.matches(s), "`{pattern}` should match `{s}`");
        }
        for s in does_not_catch {
            assert!(!g.matches(s), "`{pattern}` must not match `{s}`");
        }
    }

    #[test]
    fn double_star_at_the_end_needs_one_or_more_segments() {
        check(
            "ghcr.io/acme/**",
            &[
                "ghcr.io/acme/app",
                "ghcr.io/acme/team/app",
                "ghcr.io/acme/a/b/c",
            ],
            &[
                "ghcr.io/acme",
                "ghcr.io/acme-evil/x",
                "ghcr.io.evil.com/acme/x",
                "evil.com/ghcr.io/acme/x",
                "ghcr.io/acmex/app",
                "GHCR.IO/acme/app",
            ],
        );
    }

    #[test]
    fn double_star_at_the_start_or_middle_matches_zero_or_more() {
        check(
            "**/Dockerfile",
            &["Dockerfile", "a/Dockerfile", "a/b/c/Dockerfile"],
            &[
                "Dockerfile.dev",
                "a/Dockerfile/x",
                "aDockerfile",
                "a/xDockerfile",
            ],
        );
        check(
            "services/**/Dockerfile",
            &[
                "services/Dockerfile",
                "services/a/Dockerfile",
                "services/a/b/Dockerfile",
            ],
            &[
                "Dockerfile",
                "other/services/Dockerfile",
                "services-x/Dockerfile",
            ],
        );
    }

    #[test]
    fn lone_double_star_matches_everything() {
        check("**", &["a", "a/b", "Dockerfile"], &[""]);
    }

    #[test]
    fn star_stays_within_one_segment() {
        check(
            "docker.io/library/*",
            &["docker.io/library/ubuntu", "docker.io/library/alpine:3.20"],
            &[
                "docker.io/library",
                "docker.io/library/a/b",
                "docker.io/libraryx/ubuntu",
                "docker.io/acme/ubuntu",
            ],
        );
        check(
            "docker.io/acme/legacy-*",
            &["docker.io/acme/legacy-", "docker.io/acme/legacy-api"],
            &[
                "docker.io/acme/legacy",
                "docker.io/acme/legacy-api/x",
                "docker.io/acme/new-legacy-api",
            ],
        );
        check(
            "*.example.com/*",
            &["registry.example.com/app"],
            &[
                "example.com/app",
                "registry.example.com/team/app",
                "registry.example.com.evil/app",
            ],
        );
        check(
            "a*b*c",
            &["abc", "aXbYc", "abbbc", "a*b*c"],
            &["ab", "acb", "abcd"],
        );
    }

    #[test]
    fn literals_match_exactly() {
        check(
            "docker.io/library/ubuntu",
            &["docker.io/library/ubuntu"],
            &[
                "docker.io/library/ubuntu2",
                "docker.io/library/ubuntu/x",
                "docker.io/library/Ubuntu",
            ],
        );
        check(
            "legacy/Dockerfile",
            &["legacy/Dockerfile"],
            &["legacy/Dockerfile2"],
        );
    }

    #[test]
    fn dot_segments_are_dropped_and_dot_dot_is_literal() {
        check(
            "./legacy/**",
            &["legacy/Dockerfile"],
            &["./legacy/Dockerfile"],
        );
        check("../svc/**", &["../svc/Dockerfile"], &["svc/Dockerfile"]);
        check("**", &["a/b"], &["../a", "a/../b", ".."]);
        check(
            "**/Dockerfile",
            &["Dockerfile"],
            &["../Dockerfile", "../x/Dockerfile"],
        );
        check("*/Dockerfile", &["a/Dockerfile"], &["../Dockerfile"]);
    }

    #[test]
    fn non_ascii_is_matched_whole() {
        check("é*é", &["éé", "éxé"], &["é", "e"]);
    }

    #[test]
    fn rejects_unsupported_syntax() {
        for bad in [
            "",
            "/abs",
            "a//b",
            "trailing/",
            "a/b?",
            "a/[ab]",
            "{a,b}/x",
            "a\\b",
            "a/x**",
            "**y/a",
            ".",
        ] {
            assert!(Glob::new(bad).is_err(), "`{bad}` should be rejected");
        }
        let err = Glob::new("ghcr.io/{a,b}").unwrap_err();
        assert!(err.0.contains("`{` is not supported"), "{err}");
    }

    #[test]
    fn many_stars_do_not_blow_up() {
        let pattern = "**/".repeat(50) + "x";
        let subject = "a/".repeat(200) + "y";
        assert!(!glob(&pattern).matches(&subject));
        let star = "a*".repeat(100) + "x";
        assert!(!glob(&star).matches(&"a".repeat(5000)));
    }
}
