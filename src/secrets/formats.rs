//! Credentials whose format gives them away (`ghp_…`, `AKIA…`, private key headers, URLs
//! with a password), found in one pass over a text.
//!
//! Every format names literal text that each of its matches contains (its needles). One
//! Aho-Corasick automaton over all the needles reads the text once; only the formats whose
//! needles occur run their pattern, and a pattern is compiled the first time it is needed, so
//! a process whose files hold no candidate compiles none (each costs some 0.1 ms, which
//! matters to a hook run once per file).

use super::placeholder::{is_literal_secret, is_placeholder, is_published_example};
use aho_corasick::{AhoCorasick, Input, MatchKind};
use regex::Regex;
use std::sync::{LazyLock, OnceLock};

/// What a match is and how much of it may be shown.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    /// A token: this many leading characters are a public prefix (`ghp_`).
    Token { shown_prefix: usize },
    /// A private key header: a key only when key material follows it.
    PrivateKey,
    /// `scheme://user:password@`: a secret only when the password is a literal.
    UrlWithPassword,
    /// A value after a name that says what it is (`aws_secret_access_key = …`): the value
    /// (the pattern's first group) is the secret, unless it is a placeholder; only its length
    /// may be shown.
    NamedValue,
}

/// Where a format is looked for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Scope {
    /// In every text: Dockerfiles, image configs, files.
    Everywhere,
    /// Only in files read from an image ([`super::scan_file`]). A format found by its name
    /// belongs here: in a Dockerfile or an `Env`, the secret-name rules (`PC2004`, `PC3002`)
    /// already judge the name, and a format would move their findings to `PC2005`.
    Files,
}

/// A credential format: what it is, how to find it, how much of it is public.
pub(super) struct Format {
    pub kind: &'static str,
    pattern: &'static str,
    needles: &'static [&'static str],
    pub shape: Shape,
    scope: Scope,
    regex: OnceLock<Regex>,
}

impl Format {
    const fn token(
        kind: &'static str,
        pattern: &'static str,
        needles: &'static [&'static str],
        shown_prefix: usize,
    ) -> Format {
        Format::new(kind, pattern, needles, Shape::Token { shown_prefix })
    }

    const fn new(
        kind: &'static str,
        pattern: &'static str,
        needles: &'static [&'static str],
        shape: Shape,
    ) -> Format {
        Format {
            kind,
            pattern,
            needles,
            shape,
            scope: Scope::Everywhere,
            regex: OnceLock::new(),
        }
    }

    /// A secret found by the name written before it, in files only (see [`Scope::Files`]).
    const fn named_value_in_files(
        kind: &'static str,
        pattern: &'static str,
        needles: &'static [&'static str],
    ) -> Format {
        Format {
            kind,
            pattern,
            needles,
            shape: Shape::NamedValue,
            scope: Scope::Files,
            regex: OnceLock::new(),
        }
    }

    fn is_in(&self, scope: Scope) -> bool {
        self.scope == Scope::Everywhere || scope == Scope::Files
    }

    fn regex(&self) -> &Regex {
        // The patterns are constants, exercised by the tests.
        self.regex
            .get_or_init(|| crate::rules::constant_regex(self.pattern))
    }

    /// The byte ranges of this format's matches in `text`, in order, before any judgement of
    /// what follows them: published example credentials (matched exactly) are left out, and
    /// so are URLs whose password is not a literal and named values that are placeholders
    /// (the range is then the value's).
    fn matches<'t>(&'static self, text: &'t str) -> Box<dyn Iterator<Item = Match> + 't> {
        if self.shape == Shape::UrlWithPassword {
            // A URL with a password needs an `@` too; without one the pattern is not touched
            // (compiling it costs a process about a millisecond, and most Dockerfiles have a
            // URL).
            if !text.contains('@') {
                return Box::new(std::iter::empty());
            }
            return Box::new(self.regex().captures_iter(text).filter_map(move |c| {
                let whole = c.get(0)?;
                is_literal_secret(c.get(3)?.as_str()).then_some(Match {
                    format: self,
                    start: whole.start(),
                    end: whole.end(),
                })
            }));
        }
        if self.shape == Shape::NamedValue {
            return Box::new(self.regex().captures_iter(text).filter_map(move |c| {
                let value = c.get(1)?;
                (!is_placeholder(value.as_str())).then_some(Match {
                    format: self,
                    start: value.start(),
                    end: value.end(),
                })
            }));
        }
        Box::new(
            self.regex()
                .find_iter(text)
                .filter(|m| !is_published_example(m.as_str()))
                .map(move |m| Match {
                    format: self,
                    start: m.start(),
                    end: m.end(),
                }),
        )
    }
}

/// A match of a format: byte range in the text scanned.
pub(super) struct Match {
    pub format: &'static Format,
    pub start: usize,
    pub end: usize,
}

/// The kind of a URL with a literal password.
pub const URL_WITH_PASSWORD: &str = "a URL with a password";

/// The kind of an AWS secret key (found by the name before it).
pub const AWS_SECRET_ACCESS_KEY: &str = "an AWS secret access key";

pub(super) static FORMATS: [Format; 18] = [
    Format::new(
        "a private key",
        r"-----BEGIN ((RSA|DSA|EC|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY( BLOCK)?-----",
        // Not `-----BEGIN `: certificates have that too (a CA bundle would run the pattern),
        // and it could overlap a needle ending in `-` (`sk-`), which the search would miss.
        &["PRIVATE KEY"],
        Shape::PrivateKey,
    ),
    Format::token(
        "an AWS access key id",
        r"\b(AKIA|ASIA)[0-9A-Z]{16}\b",
        &["AKIA", "ASIA"],
        4,
    ),
    Format::token(
        "a GitHub token",
        r"\b(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b",
        &["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
        4,
    ),
    Format::token(
        "a GitHub fine-grained token",
        r"\bgithub_pat_[A-Za-z0-9_]{50,}",
        &["github_pat_"],
        11,
    ),
    Format::token(
        "a GitLab token",
        r"\bgl(pat|rt)-[A-Za-z0-9_-]{20,}",
        &["glpat-", "glrt-"],
        6,
    ),
    Format::token(
        "a Slack token",
        r"\bxox[baprs]-[0-9A-Za-z-]{10,}",
        &["xox"],
        5,
    ),
    Format::token(
        "a Slack webhook URL",
        r"https://hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]{20,}",
        &["hooks.slack.com"],
        32,
    ),
    Format::token(
        "a Stripe live key",
        r"\b[sr]k_live_[0-9A-Za-z]{20,}",
        &["k_live_"],
        8,
    ),
    Format::token(
        "a Google API key",
        r"\bAIza[0-9A-Za-z_-]{35}\b",
        &["AIza"],
        4,
    ),
    Format::token("an npm token", r"\bnpm_[A-Za-z0-9]{36}\b", &["npm_"], 4),
    Format::token(
        "a PyPI token",
        r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}",
        &["pypi-"],
        5,
    ),
    Format::token(
        "a Docker Hub access token",
        r"\bdckr_pat_[A-Za-z0-9_-]{27,}",
        &["dckr_pat_"],
        9,
    ),
    Format::token(
        "a Hugging Face token",
        r"\bhf_[A-Za-z0-9]{34,}\b",
        &["hf_"],
        3,
    ),
    Format::token(
        "a SendGrid API key",
        r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b",
        &["SG."],
        3,
    ),
    Format::token(
        "an OpenAI API key",
        r"\bsk-(proj|svcacct|admin)-[A-Za-z0-9_-]{40,}",
        &["sk-"],
        3,
    ),
    Format::token(
        "an Anthropic API key",
        r"\bsk-ant-(api|admin)[0-9]{2}-[A-Za-z0-9_-]{80,}",
        &["sk-"],
        7,
    ),
    Format::new(
        URL_WITH_PASSWORD,
        r"(?i)\b([a-z][a-z0-9+.-]*)://([^/\s:@]+):([^/\s@]+)@",
        &["://"],
        Shape::UrlWithPassword,
    ),
    // AWS secret keys have no format of their own: 40 characters of base64 after a name
    // that says what they are (`aws_secret_access_key = …` in `.aws/credentials`,
    // `AWS_SECRET_ACCESS_KEY=…` in a script, `"SecretAccessKey": "…"` from `aws sts`).
    Format::named_value_in_files(
        AWS_SECRET_ACCESS_KEY,
        r#"(?i)secret[_-]?access[_-]?key["']?\s*(?::=|=>|[:=])\s*["']?([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)"#,
        &[
            "ecret_access_key",
            "ECRET_ACCESS_KEY",
            "ecretAccessKey",
            "ecret-access-key",
        ],
    ),
];

/// Every needle of every format, and for each needle the formats it stands for.
struct Needles {
    needles: Vec<&'static str>,
    automaton: Option<AhoCorasick>,
    formats: Vec<Vec<usize>>,
}

static NEEDLES: LazyLock<Needles> = LazyLock::new(|| {
    let mut needles: Vec<&'static str> = Vec::new();
    let mut formats: Vec<Vec<usize>> = Vec::new();
    for (index, format) in FORMATS.iter().enumerate() {
        for needle in format.needles {
            match needles.iter().position(|n| n == needle) {
                Some(at) => formats[at].push(index),
                None => {
                    needles.push(needle);
                    formats.push(vec![index]);
                }
            }
        }
    }
    let automaton = automaton_of(&needles);
    Needles {
        needles,
        automaton,
        formats,
    }
});

/// The needles are constants (short literals), which the automaton always accepts; if it
/// ever did not, every format would be tried.
fn automaton_of(needles: &[&str]) -> Option<AhoCorasick> {
    AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostLongest)
        .build(needles)
        .ok()
}

/// After this many occurrences of needles already seen, with at least [`NARROW_WHEN_LEFT`]
/// bytes of text left, the search goes on for the needles not seen yet only: in a text full
/// of URLs or `task-` words, stopping at each again would cost more than the formats' own
/// patterns.
const NARROW_AFTER_REPEATS: usize = 64;
const NARROW_WHEN_LEFT: usize = 64 << 10;

/// Which formats' needles occur in `text`: one pass over it.
///
/// The search is not overlapping (an overlapping one cannot skip ahead with the automaton's
/// prefilter, and took 90% of the time on ordinary text), so an occurrence that overlaps an
/// earlier one is not seen; the needles are chosen so that only occurrences no pattern could
/// match overlap (a test checks).
fn candidates(text: &str) -> [bool; FORMATS.len()] {
    let all = &*NEEDLES;
    let Some(automaton) = &all.automaton else {
        return [true; FORMATS.len()];
    };
    let mut seen = vec![false; all.needles.len()];
    let mut resume = search(automaton, None, text, 0, &mut seen);
    while let Some(at) = resume {
        let unseen: Vec<usize> = (0..seen.len()).filter(|&n| !seen[n]).collect();
        if unseen.is_empty() {
            break;
        }
        let needles: Vec<&str> = unseen.iter().map(|&n| all.needles[n]).collect();
        let Some(narrowed) = automaton_of(&needles) else {
            return [true; FORMATS.len()];
        };
        resume = search(&narrowed, Some(&unseen), text, at, &mut seen);
    }
    let mut found = [false; FORMATS.len()];
    for (needle, _) in seen.iter().enumerate().filter(|(_, seen)| **seen) {
        for &index in &all.formats[needle] {
            found[index] = true;
        }
    }
    found
}

/// Marks in `seen` the needles `automaton` finds in `text` from `at` (`ids`: the needle each
/// of its patterns is, when it holds only some); where to go on with fewer needles, if the
/// ones seen keep recurring.
fn search(
    automaton: &AhoCorasick,
    ids: Option<&[usize]>,
    text: &str,
    at: usize,
    seen: &mut [bool],
) -> Option<usize> {
    let mut repeats = 0;
    for m in automaton.find_iter(Input::new(text).range(at..)) {
        let pattern = m.pattern().as_usize();
        let needle = ids.map_or(pattern, |ids| ids[pattern]);
        if seen[needle] {
            repeats += 1;
            if repeats >= NARROW_AFTER_REPEATS && text.len() - m.end() >= NARROW_WHEN_LEFT {
                return Some(m.end());
            }
        } else {
            seen[needle] = true;
        }
    }
    None
}

/// Every match of every format looked for in `scope` in `text`, in order of position (formats
/// in table order at the same position).
pub(super) fn matches(text: &str, scope: Scope) -> Vec<Match> {
    let candidates = candidates(text);
    let mut found: Vec<Match> = FORMATS
        .iter()
        .zip(candidates)
        .filter(|(format, candidate)| *candidate && format.is_in(scope))
        .flat_map(|(format, _)| format.matches(text))
        .collect();
    found.sort_by_key(|m| m.start);
    found
}

/// A private key header is a key only when key material follows: on the same line (an `echo`
/// with `\n`) or on the next one (a heredoc, a key file), or after the headers and blank
/// line that come first in an encrypted PEM key (`Proc-Type: 4,ENCRYPTED`, `DEK-Info: …`) or
/// an armored PGP key (`Version: …`). A `grep` for the header is not a key.
pub(super) fn key_material_follows(text: &str, end: usize) -> bool {
    let rest = text.get(end..).unwrap_or("");
    let (same_line, after) = rest.split_once('\n').unwrap_or((rest, ""));
    let next = after.split('\n').next().unwrap_or("");
    let header_ends_its_line = trim_quoting(same_line).is_empty();
    is_key_material(same_line)
        || is_key_material(next.trim())
        || material_after_headers(same_line.split("\\n").skip(1))
        || (header_ends_its_line && material_after_headers(after.split('\n')))
}

/// Whether `s` starts with a run of base64 (after the `\n`, spaces and quotes an escaped or
/// quoted key has before it) long enough to be key material.
fn is_key_material(s: &str) -> bool {
    let run = s
        .trim_start_matches(['\\', 'n', ' ', '\t', '"', '\''])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
        .count();
    run >= 20
}

fn trim_quoting(line: &str) -> &str {
    line.trim_matches([' ', '\t', '\r', '"', '\''])
}

/// Whether key material comes after the `Name: value` headers (RFC 1421, RFC 4880 armor)
/// and blank lines that `lines`, the lines after a key's header, start with.
fn material_after_headers<'a>(lines: impl Iterator<Item = &'a str>) -> bool {
    for line in lines.map(trim_quoting).take(6) {
        let is_header = line.split_once(':').is_some_and(|(name, _)| {
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
        if line.is_empty() || is_header {
            continue;
        }
        return is_key_material(line);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The needles' overlaps that [`candidates`] would miss an occurrence of, and why no
    /// pattern can match it: the pattern needs a word boundary before its needle, and the
    /// overlap puts a letter there.
    const HARMLESS_OVERLAPS: &[(&str, &str, &str)] = &[
        ("AKIA", "AKIA", r"\b(AKIA|ASIA)"),
        ("AKIA", "ASIA", r"\b(AKIA|ASIA)"),
        ("ASIA", "AKIA", r"\b(AKIA|ASIA)"),
        ("ASIA", "ASIA", r"\b(AKIA|ASIA)"),
        ("AKIA", "AIza", r"\bAIza"),
        ("ASIA", "AIza", r"\bAIza"),
        ("xox", "xox", r"\bxox"),
    ];

    /// Where the end of needle `a` is the start of needle `b` (`sk-` then `-----BEGIN `), a
    /// non-overlapping search sees `a` and misses `b`; where one needle begins another, the
    /// leftmost-longest search sees only the longer.
    #[test]
    fn needles_overlap_only_where_no_pattern_could_match() {
        let needles: Vec<&str> = FORMATS.iter().flat_map(|f| f.needles).copied().collect();
        for a in &needles {
            for b in &needles {
                assert!(a == b || !b.starts_with(a), "{a:?} begins {b:?}");
                assert!(a == b || !b.contains(a), "{a:?} is in {b:?}");
                let overlaps = (1..a.len().min(b.len())).any(|k| a.ends_with(&b[..k]));
                let harmless = HARMLESS_OVERLAPS.iter().any(|(x, y, pattern)| {
                    let format = FORMATS.iter().find(|f| f.needles.contains(y));
                    x == a && y == b && format.is_some_and(|f| f.pattern.contains(pattern))
                });
                assert!(!overlaps || harmless, "{a:?} can end where {b:?} starts");
            }
        }
    }

    /// A text full of one needle: the search narrows to the others and still sees them.
    #[test]
    fn needles_after_many_repeats_of_others_are_seen() {
        let text = format!("{}ghp_ sk-", "git@h https://x/ ".repeat(20_000));
        let seen: Vec<&str> = FORMATS
            .iter()
            .zip(candidates(&text))
            .filter(|(_, seen)| *seen)
            .map(|(f, _)| f.kind)
            .collect();
        assert_eq!(
            seen,
            vec![
                "a GitHub token",
                "an OpenAI API key",
                "an Anthropic API key",
                URL_WITH_PASSWORD,
            ]
        );
    }

    #[test]
    fn a_key_after_a_needle_ending_in_a_dash_is_seen() {
        let found = candidates("sk------BEGIN RSA PRIVATE KEY----- xoxoxAKIASIA");
        let seen: Vec<&str> = FORMATS
            .iter()
            .zip(found)
            .filter(|(_, seen)| *seen)
            .map(|(f, _)| f.kind)
            .collect();
        assert_eq!(
            seen,
            vec![
                "a private key",
                "an AWS access key id",
                "a Slack token",
                "an OpenAI API key",
                "an Anthropic API key",
            ]
        );
    }
}
