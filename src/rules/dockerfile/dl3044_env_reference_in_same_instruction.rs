use crate::dockerfile::Args;
use crate::finding::Severity;
use crate::rules::{Check, Diagnostics, DockerfileContext};

crate::declare_rule! {
    /// An `ENV` value uses a variable that an earlier pair of the same `ENV` sets.
    ///
    /// BuildKit expands every value of one `ENV` instruction with the variables as they were
    /// *before* the instruction, so in `ENV A=1 B=$A` the value of `B` is not `1`: it is the
    /// previous `A`, or empty. Reported when a value refers (`$A`, `${A}`, `${A:-x}`, …) to a
    /// variable set by an earlier pair of the same `ENV` (also inside `ONBUILD`). Not reported:
    /// a pair that re-sets a variable to itself (`ENV V=${V} URL=…/$V`, the usual way to turn
    /// an `ARG` into an `ENV`), references in single quotes or escaped (`\$A`), and a variable
    /// that refers to itself (`PATH=/x:$PATH`).
    ///
    /// ## Why
    /// The result silently differs from what the line reads like, and nothing fails at build
    /// time: the variable is just empty or stale at run time.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM alpine:3.20
    /// ENV APP_HOME=/srv/app APP_BIN=$APP_HOME/bin
    /// ```
    /// Use two instructions:
    /// ```dockerfile
    /// FROM alpine:3.20
    /// ENV APP_HOME=/srv/app
    /// ENV APP_BIN=$APP_HOME/bin
    /// ```
    pub static RULE = Rule {
        id: "DL3044",
        name: "env-reference-in-same-instruction",
        severity: Severity::High,
        check: Check::Dockerfile(check),
    };
}

fn check(ctx: &DockerfileContext<'_>, out: &mut Diagnostics) {
    let facts = ctx.facts;
    let escape = facts.file.escape;
    for inst in &facts.file.instructions {
        let inst = match &inst.args {
            Args::Onbuild(inner) => inner.as_ref(),
            _ => inst,
        };
        let Args::Env(parsed) = &inst.args else {
            continue;
        };
        if parsed.len() < 2 {
            continue;
        }
        let pairs = raw_pairs(&inst.rest, escape);
        let mut reported: Vec<String> = Vec::new();
        for (position, (key, value)) in pairs.iter().enumerate() {
            for name in references(value, escape) {
                let set_earlier = pairs[..position]
                    .iter()
                    .any(|(k, v)| *k == name && !is_self_reference(k, v));
                if !set_earlier || reported.contains(&name) {
                    continue;
                }
                out.push(
                    inst.span,
                    format!(
                        "`{key}` uses `${name}`, which this ENV also sets: the value comes from \
                         before this ENV, not from it; set `{name}` in an earlier ENV"
                    ),
                );
                reported.push(name);
            }
        }
    }
}

/// `KEY=value` words of an `ENV`, values as written (quotes kept).
fn raw_pairs(text: &str, escape: char) -> Vec<(String, String)> {
    words(text, escape)
        .into_iter()
        .filter_map(|word| {
            let (key, value) = word.split_once('=')?;
            Some((unquote(key), value.to_string()))
        })
        .collect()
}

/// Splits on unquoted blanks, keeping quotes and escapes.
fn words(text: &str, escape: char) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == escape && quote != Some('\'') {
            word.push(c);
            word.extend(chars.next());
            continue;
        }
        match quote {
            Some(q) if c == q => quote = None,
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c.is_whitespace() => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                continue;
            }
            _ => {}
        }
        word.push(c);
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

fn unquote(key: &str) -> String {
    key.chars().filter(|c| *c != '"' && *c != '\'').collect()
}

/// Names of the variables a value refers to, outside single quotes and not escaped.
fn references(value: &str, escape: char) -> Vec<String> {
    let chars: Vec<char> = value.chars().collect();
    let mut names = Vec::new();
    let mut in_single = false;
    let mut in_double = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            _ if c == escape && !in_single => i += 1,
            '\'' if !in_double => in_single = !in_single,
            '"' if !in_single => in_double = !in_double,
            '$' if !in_single => {
                let braced = chars.get(i) == Some(&'{');
                let start = if braced { i + 1 } else { i };
                let mut end = start;
                while end < chars.len() && (chars[end].is_ascii_alphanumeric() || chars[end] == '_')
                {
                    end += 1;
                }
                if end > start && !chars[start].is_ascii_digit() {
                    names.push(chars[start..end].iter().collect());
                }
                i = end;
            }
            _ => {}
        }
    }
    names
}

/// `K=$K` or `K="${K}"`: the pair keeps the variable's value, so using it later is harmless.
fn is_self_reference(key: &str, value: &str) -> bool {
    let value = unquote(value);
    value == format!("${key}") || value == format!("${{{key}}}")
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::dockerfile::testing::{lint, messages};

    #[test]
    fn catches_references_to_the_same_env() {
        for src in [
            "FROM a\nENV BLA=\"blubb\" BLUBB=\"${BLA}/blubb\"\n",
            "FROM a\nENV BLA=\"blubb\" BLUBB=\"$BLA/blubb\"\n",
            "FROM a\nENV BLA=\"blubb\" BLUBB=\"$BLA/$BLAFOO/blubb\"\n",
            "FROM a\nENV BLA=blubb BLUBB=${BLA:-x}\n",
            "FROM a\nENV PATH=/bla:${PATH} PATH=/blubb:${PATH}\n",
            "FROM a\nENV A=1 \\\n    B=$A\n",
            "FROM a\nONBUILD ENV A=1 B=$A\n",
            // The old value is used, even when the variable was set before.
            "FROM a\nENV A=1\nENV A=2 B=$A\n",
        ] {
            assert_eq!(lint(&RULE, src).len(), 1, "{src}");
        }
        assert_eq!(
            messages(&RULE, "FROM a\nENV A=1 B=$A\n"),
            vec![
                "`B` uses `$A`, which this ENV also sets: the value comes from before this ENV, \
                  not from it; set `A` in an earlier ENV"
            ]
        );
    }

    #[test]
    fn does_not_catch_separate_or_harmless_references() {
        for src in [
            "FROM a\nENV BLA=\"blubb\"\nENV BLUBB=\"${BLA}/blubb\"\n",
            "FROM a\nENV BLA=\"blubb\" BLUBB=\"${FOOBLA}/blubb\"\n",
            "FROM a\nENV BLA=\"blubb\" BLUBB=\"$BLAFOO/blubb\"\n",
            "FROM a\nENV BLA=\"blubb\" BLUBB=\"BLA/$BLAFOO/BLA\"\n",
            "FROM a\nARG BLA\nENV BLA=${BLA}\n",
            "FROM a\nENV PATH=/bla:${PATH}\n",
            "FROM a\nARG VERSION\nENV VERSION=${VERSION} URL=https://x/v$VERSION.tgz\n",
            "FROM a\nENV A=1 B='$A'\n",
            "FROM a\nENV A=1 B=\\$A\n",
            "FROM a\nENV B=$A A=1\n",
            "FROM a\nENV A 1 $A\n",
        ] {
            assert_eq!(lint(&RULE, src), Vec::<usize>::new(), "{src}");
        }
    }
}
