//! Registry globs over normalised image names (`registry/repository`, see
//! [`super::ImageReference::name`]).
//!
//! - `*` matches any run of characters within one path segment (never a `/`);
//! - a segment that is exactly `**` matches any number of whole segments, zero included;
//! - everything else matches itself, ASCII case-insensitively (host names are
//!   case-insensitive, and normalised names are lower-case anyway).
//!
//! Segments are matched whole, so `ghcr.io/acme/**` admits `ghcr.io/acme/app` but neither
//! `ghcr.io/acme-evil/app` nor `ghcr.io.evil.com/acme/app`.
//!
//! Interim home: `crate::policy::glob::Glob` is meant to replace this once it lands.

/// Whether `name` (a normalised `registry/repository`) matches `pattern`.
pub fn glob_matches(pattern: &str, name: &str) -> bool {
    let pattern: Vec<&str> = pattern.split('/').collect();
    let name: Vec<&str> = name.split('/').collect();
    segments_match(&pattern, &name)
}

/// Matches segment lists; `reachable[j]` says whether the pattern so far can consume exactly
/// the first `j` name segments (a table, so `**` never backtracks exponentially).
fn segments_match(pattern: &[&str], name: &[&str]) -> bool {
    let mut reachable = vec![false; name.len() + 1];
    reachable[0] = true;
    for segment in pattern {
        let mut next = vec![false; name.len() + 1];
        if *segment == "**" {
            // Zero or more segments: once a prefix is reachable, every longer one is.
            let mut seen = false;
            for (j, slot) in next.iter_mut().enumerate() {
                seen |= reachable[j];
                *slot = seen;
            }
        } else {
            for j in 0..name.len() {
                if reachable[j] && segment_matches(segment, name[j]) {
                    next[j + 1] = true;
                }
            }
        }
        reachable = next;
    }
    reachable[name.len()]
}

/// Wildcard match of one segment, `*` matching any run of characters (greedy with one
/// backtrack point, linear in practice).
fn segment_matches(pattern: &str, text: &str) -> bool {
    let pattern = pattern.as_bytes();
    let text = text.as_bytes();
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p].eq_ignore_ascii_case(&text[t]) {
            p += 1;
            t += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|b| *b == b'*')
}

#[cfg(test)]
mod tests {
    use super::glob_matches;

    fn check(pattern: &str, admits: &[&str], rejects: &[&str]) {
        for name in admits {
            assert!(glob_matches(pattern, name), "{pattern} should match {name}");
        }
        for name in rejects {
            assert!(
                !glob_matches(pattern, name),
                "{pattern} should not match {name}"
            );
        }
    }

    #[test]
    fn double_star_is_any_number_of_segments() {
        check(
            "ghcr.io/acme/**",
            &["ghcr.io/acme/x", "ghcr.io/acme/x/y/z", "ghcr.io/acme"],
            &[
                "ghcr.io/acme-evil/x",
                "ghcr.io.evil.com/acme/x",
                "ghcr.io/acmex",
                "evil.com/ghcr.io/acme/x",
                "ghcr.io:443/acme/x",
                "docker.io/library/nginx",
            ],
        );
        check("**", &["docker.io/library/nginx", "x"], &[]);
        check(
            "**/nginx",
            &["docker.io/library/nginx", "quay.io/nginx"],
            &["docker.io/library/nginx-evil"],
        );
        check(
            "docker.io/**/base",
            &["docker.io/base", "docker.io/a/b/base"],
            &["docker.io/a/base/x", "quay.io/a/base"],
        );
    }

    #[test]
    fn single_star_is_one_segment() {
        check(
            "docker.io/library/*",
            &["docker.io/library/nginx", "docker.io/library/a"],
            &[
                "docker.io/library/a/b",
                "docker.io/library",
                "docker.io/user/app",
            ],
        );
        check(
            "*/acme/*",
            &["ghcr.io/acme/x", "localhost:5000/acme/y"],
            &["ghcr.io/acme/x/y", "ghcr.io/acme"],
        );
        check(
            "ghcr.io/acme-*/app",
            &["ghcr.io/acme-one/app", "ghcr.io/acme-/app"],
            &["ghcr.io/acme/app", "ghcr.io/acme-a/b/app"],
        );
        check(
            "*.example.com/**",
            &["registry.example.com/x", "a.b.example.com/x/y"],
            &[
                "example.com/x",
                "example.com.evil.io/x",
                "evilexample.com/x",
            ],
        );
        check("a*b*c", &["abc", "aXbYc", "abbbc"], &["ab", "acb"]);
    }

    #[test]
    fn literal_patterns_match_exactly_ignoring_ascii_case() {
        check(
            "ghcr.io/acme/app",
            &["ghcr.io/acme/app", "GHCR.IO/acme/app"],
            &["ghcr.io/acme/app2", "ghcr.io/acme/app/x", "ghcr.io/acme"],
        );
        check("GHCR.io/**", &["ghcr.io/x"], &[]);
        check(
            "localhost:5000/**",
            &["localhost:5000/app"],
            &["localhost/app", "localhost:5001/app"],
        );
    }

    #[test]
    fn many_stars_stay_fast() {
        let pattern = "**/".repeat(30) + "x";
        let name = "a/".repeat(60) + "b";
        assert!(!glob_matches(&pattern, &name));
        let segment = "*a".repeat(30);
        assert!(!glob_matches(&segment, &"a".repeat(29)));
    }
}
