//! Whether a value written for a secret is one, or only stands for one: the judgement every
//! secret rule shares (`PC2004`, `PC2005`, `PC2006`, `DL3064`, `PC3002`), through `crate::secrets`.
//!
//! A placeholder is judged on the *whole* value, never on a word inside it: a real password
//! does not become a stand-in by containing `dummy` (`Dummy-Lake-2023`), `example` or
//! `insecure`, so nobody can hide a secret behind such a word.

/// Whether `value` is a literal that could be a secret: not empty, not a variable reference
/// (it expands to something else), not a path, not a switch, not a placeholder.
pub fn is_literal_secret(value: &str) -> bool {
    let value = value.trim();
    !(value.is_empty()
        || value.contains('$')
        || value.contains('`')
        || is_path(value)
        || is_switch(value)
        || is_placeholder(value))
}

/// `/run/secrets/token`, `~/.netrc`, `./key`, `C:\keys\k`: where a secret is, not the secret.
pub fn is_path(value: &str) -> bool {
    let value = value.trim();
    value.starts_with(['/', '~'])
        || value.starts_with("./")
        || value.starts_with("../")
        || value.get(1..3).is_some_and(|s| s == ":\\" || s == ":/")
}

/// `true`, `no`, `0`, …: whether to use a secret, not the secret.
pub fn is_switch(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "0" | "1"
    )
}

/// Whether the whole of `value` only stands for a secret:
///
/// - empty, or a mask (`xxxxxxxx`, `***`, an all-zero UUID);
/// - made only of words that say so (`changeme`, `example`, `dummy`, `password`, `REDACTED`,
///   `none`, `your-api-key-here`, `build-time-dummy`, `not-a-secret`);
/// - a variable reference (`${TOKEN}`, `$TOKEN`) or a template field named in words
///   (`<your-password>`, `<API_TOKEN>`, `{{ .Values.token }}`, `%TOKEN%`, `__TOKEN__`);
/// - one of the example credentials published in vendor documentation, matched exactly
///   (`AKIAIOSFODNN7EXAMPLE`).
///
/// Quotes and brackets around the value are looked through: `"<token>"` is `<token>`,
/// `'[changeme]'` is `changeme`, `<hunter2>` is `hunter2` (a secret).
pub fn is_placeholder(value: &str) -> bool {
    let value = value.trim();
    if is_variable_reference(value) || is_template_field(value) {
        return true;
    }
    if let Some(inner) = unwrapped(value) {
        return is_placeholder(inner);
    }
    value.is_empty()
        || is_mask(value)
        || is_published_example(value)
        || is_made_of_stand_in_words(value)
}

/// Example credentials that vendors publish in their documentation, so they appear in
/// tutorials and tests; nobody can use them. Only the exact value is exempt: another key
/// with `EXAMPLE` in it is a key.
const PUBLISHED_EXAMPLES: &[&str] = &[
    // AWS, "Managing access keys" and the CLI configuration guides: two key pairs, and the
    // first key id with the temporary-credentials prefix (the STS examples).
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "AKIAI44QH8DHBEXAMPLE",
    "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
    "ASIAIOSFODNN7EXAMPLE",
];

/// Whether `value` is exactly a published example credential.
pub fn is_published_example(value: &str) -> bool {
    PUBLISHED_EXAMPLES.contains(&value)
}

/// The inside of matching quotes or brackets around the whole value (`"x"`, `'x'`, `[x]`,
/// `(x)`, `{x}`), trimmed; `None` when there are none.
fn unwrapped(value: &str) -> Option<&str> {
    const PAIRS: [(char, char); 5] = [('"', '"'), ('\'', '\''), ('[', ']'), ('(', ')'), ('{', '}')];
    PAIRS.iter().find_map(|&(open, close)| {
        let inner = value.strip_prefix(open)?.strip_suffix(close)?;
        Some(inner.trim())
    })
}

/// `$NAME` or `${NAME}` and nothing else: a reference the shell or an entrypoint fills in.
fn is_variable_reference(value: &str) -> bool {
    let Some(rest) = value.strip_prefix('$') else {
        return false;
    };
    let name = rest
        .strip_prefix('{')
        .and_then(|r| r.strip_suffix('}'))
        .unwrap_or(rest);
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `<name>`, `{{ name }}`, `%NAME%` or `__NAME__` around a name written in words (letters,
/// `_`, `-`, `.`, spaces; no digits, so `<hunter2>` is not one): the usual ways documents and
/// templating tools mark a value to fill in.
fn is_template_field(value: &str) -> bool {
    let inner = value
        .strip_prefix("{{")
        .and_then(|v| v.strip_suffix("}}"))
        .or_else(|| value.strip_prefix('<').and_then(|v| v.strip_suffix('>')))
        .or_else(|| value.strip_prefix("__").and_then(|v| v.strip_suffix("__")))
        .or_else(|| value.strip_prefix('%').and_then(|v| v.strip_suffix('%')));
    inner.map(str::trim).is_some_and(|name| {
        name.chars().any(|c| c.is_ascii_alphabetic())
            && name
                .chars()
                .all(|c| c.is_ascii_alphabetic() || matches!(c, '_' | '-' | '.' | ' '))
    })
}

/// Characters that only separate the words of a placeholder (`your-token_here`).
fn is_separator(c: char) -> bool {
    matches!(c, '-' | '_' | '.' | ' ')
}

/// `xxxxxxxx`, `********`, `####`, `0000…`, `00000000-0000-0000-0000-000000000000`: a value
/// blanked out, made only of mask characters and separators.
fn is_mask(value: &str) -> bool {
    let mut masks = value.chars().filter(|c| !is_separator(*c)).peekable();
    masks.peek().is_some() && masks.all(|c| matches!(c, 'x' | 'X' | '*' | '#' | '0' | '?' | '•'))
}

/// Words that say a value stands for a secret: what it is (`dummy`, `example`, `redacted`),
/// what it stands for (`api`, `key`, `password`) and what to do with it (`your`, `insert`,
/// `here`, `change`, `me`). A value made only of these says nothing else.
const STAND_IN_WORDS: &[&str] = &[
    // What the value is.
    "placeholder",
    "dummy",
    "fake",
    "example",
    "sample",
    "insecure",
    "redacted",
    "masked",
    "todo",
    "tbd",
    "fixme",
    "none",
    "null",
    "nil",
    "undefined",
    "unset",
    "empty",
    "blank",
    "not",
    "notasecret",
    "real",
    "build",
    "time",
    "runtime",
    // What it stands for.
    "password",
    "passwd",
    "pass",
    "pwd",
    "passphrase",
    "secret",
    "token",
    "key",
    "api",
    "access",
    "auth",
    "credential",
    "credentials",
    "private",
    "client",
    "value",
    // What to do with it.
    "your",
    "insert",
    "replace",
    "change",
    "enter",
    "put",
    "set",
    "fill",
    "override",
    "later",
    "goes",
    "here",
    "at",
    "me",
    "it",
    "this",
    "the",
];

/// Whether `value` is letters and separators only, and its letters read as a run of
/// [`STAND_IN_WORDS`] (`changeme` = `change` `me`, `Your_API_Key_Here`, `notasecret`). A
/// digit or a symbol (`Dummy-Lake-2023`, `fake0Tr33s#`) makes it something else.
fn is_made_of_stand_in_words(value: &str) -> bool {
    if !value
        .chars()
        .all(|c| c.is_ascii_alphabetic() || is_separator(c))
    {
        return false;
    }
    let letters: String = value
        .chars()
        .filter(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    // `ends[i]`: the first `i` letters are a run of stand-in words.
    let mut ends = vec![false; letters.len() + 1];
    ends[0] = true;
    for start in 0..letters.len() {
        if !ends[start] {
            continue;
        }
        for word in STAND_IN_WORDS {
            if letters[start..].starts_with(word) {
                ends[start + word.len()] = true;
            }
        }
    }
    !letters.is_empty() && ends[letters.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_whole_values() {
        for value in [
            "",
            "changeme",
            "Change_Me",
            "CHANGEIT",
            "example",
            "dummy",
            "fake",
            "password",
            "REDACTED",
            "none",
            "null",
            "TODO",
            "<token>",
            "<your-password>",
            "<API_TOKEN>",
            "\"<token>\"",
            "'[changeme]'",
            "{{ token }}",
            "{{ .Values.db.password }}",
            "%DB_PASSWORD%",
            "__DB_PASSWORD__",
            "${PASSWORD}",
            "$PASSWORD",
            "your-api-key-here",
            "YourTokenHere",
            "insert_token_here",
            "build-time-dummy",
            "not-a-secret",
            "notasecret",
            "set-at-runtime",
            "xxx",
            "XXXXXXXXXXXXXXXX",
            "***",
            "00000000-0000-0000-0000-000000000000",
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ] {
            assert!(is_placeholder(value), "{value:?} is a placeholder");
        }
    }

    /// The bypass this module closes: a real password containing `dummy`, `example`, `fake`
    /// or `insecure` was taken for a placeholder.
    #[test]
    fn a_word_inside_a_secret_does_not_make_it_a_placeholder() {
        for value in [
            "Dummy-Lake-2023",
            "example-Xq83!z",
            "myExamplePass!9",
            "fake0Tr33s#",
            "insecure-Pa55word",
            "django-insecure-k2#v9x0q@7!mz",
            "dummyKeyWithMinimumLength----",
            "Dummy-Lake",
            "changeme123",
            "yourMom1987!",
            "<hunter2>",
            "{{ hunter2 }}",
            "__Xq83z__",
            "!@#$%^&*",
            "aaaaaaaa",
            "hunter2",
            "admin",
            "mysecretpassword",
            // Published examples are exempt exactly, not by the word in them.
            "AKIAZ7Q3EXAMPLE2ABCD",
            "AKIAIOSFODNN8EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEZ",
            "akiaiosfodnn7example",
        ] {
            assert!(!is_placeholder(value), "{value:?} is not a placeholder");
        }
    }

    #[test]
    fn literal_secrets() {
        for value in ["hunter2", "Dummy-Lake-2023", " s3cret "] {
            assert!(is_literal_secret(value), "{value:?}");
        }
        for value in [
            "",
            "  ",
            "$TOKEN",
            "${A}${B}",
            "`cat /t`",
            "/run/secrets/t",
            "~/.netrc",
            "./key",
            "C:\\keys\\k",
            "yes",
            "0",
            "changeme",
        ] {
            assert!(!is_literal_secret(value), "{value:?}");
        }
    }
}
