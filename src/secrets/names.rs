//! Whether a variable or key name says it holds a secret (`DB_PASSWORD`, `npmToken`), or
//! only something about one (`PASSWORD_FILE`, `AWS_ACCESS_KEY_ID`).

/// Words of a name that mean it holds a secret.
const SECRET_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "PASS",
    "PWD",
    "PASSPHRASE",
    "SECRET",
    "SECRETS",
    "TOKEN",
    "CREDENTIAL",
    "CREDENTIALS",
    "APIKEY",
    "PRIVATEKEY",
    "SECRETKEY",
];

/// Words that make `KEY` after them a secret (`API_KEY`, `PRIVATE_KEY`).
const KEY_QUALIFIERS: &[&str] = &[
    "API",
    "PRIVATE",
    "SECRET",
    "ENCRYPTION",
    "MASTER",
    "ACCOUNT",
];

/// Last words that say the value is about the secret, not the secret itself.
const NOT_THE_SECRET: &[&str] = &[
    "ID",
    "IDS",
    "FILE",
    "FILES",
    "PATH",
    "DIR",
    "DIRECTORY",
    "URL",
    "URI",
    "ENDPOINT",
    "HOST",
    "PORT",
    "NAME",
    "USER",
    "USERNAME",
    "TYPE",
    "LENGTH",
    "LEN",
    "SIZE",
    "TTL",
    "TIMEOUT",
    "EXPIRY",
    "EXPIRES",
    "EXPIRATION",
    "ENABLED",
    "DISABLED",
    "ENABLE",
    "DISABLE",
    "REQUIRED",
    "HEADER",
    "FORMAT",
    "LOCATION",
    "PROVIDER",
    "METHOD",
    "MODE",
    "POLICY",
    "VERSION",
    "FINGERPRINT",
    "ALGORITHM",
    "ARN",
    "REGION",
    "PREFIX",
    "FIELD",
    "COUNT",
];

/// The words of a variable name, upper-cased: `dbPassword` and `DB_PASSWORD` → `DB`,
/// `PASSWORD`.
fn name_words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            words.push(std::mem::take(&mut current));
            previous_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && previous_lower {
            words.push(std::mem::take(&mut current));
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        current.push(c.to_ascii_uppercase());
    }
    words.push(current);
    words.retain(|w| !w.is_empty());
    words
}

/// Whether a variable name says it holds a secret.
pub fn is_secret_name(name: &str) -> bool {
    let words = name_words(name);
    let Some(last) = words.last() else {
        return false;
    };
    if NOT_THE_SECRET.contains(&last.as_str()) || matches!(name, "PWD" | "OLDPWD") {
        return false;
    }
    words.iter().any(|w| {
        SECRET_WORDS.contains(&w.as_str())
            || w.ends_with("PASSWORD")
            || w.ends_with("TOKEN")
            || w.ends_with("SECRET")
    }) || words
        .windows(2)
        .any(|pair| pair[1] == "KEY" && KEY_QUALIFIERS.contains(&pair[0].as_str()))
}
