use super::*;

const GHP: &str = "ghp_0123456789abcdefghijABCDEFGHIJ012345";

fn kinds(text: &str) -> Vec<&'static str> {
    scan(text).iter().map(|hit| hit.kind).collect()
}

#[test]
fn catches_each_kind() {
    let anthropic = format!("sk-ant-api03-{}", "a".repeat(80));
    let openai = format!("sk-proj-{}", "A1b2".repeat(10));
    let sendgrid = format!("SG.{}.{}", "a".repeat(22), "B".repeat(43));
    let pypi = format!("pypi-AgEIcHlwaS5vcmc{}", "x".repeat(50));
    for (text, kind) in [
        (
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAq0123456789abcdef\n",
            "a private key",
        ),
        ("AKIAZ7Q3EXAMPLF2ABCD", "an AWS access key id"),
        ("ASIAZ7Q3ABCDEFGH2345", "an AWS access key id"),
        (GHP, "a GitHub token"),
        (
            "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ",
            "a GitHub fine-grained token",
        ),
        ("glpat-abcdefghij0123456789", "a GitLab token"),
        ("xoxb-123456789012-abcdefghijkl", "a Slack token"),
        (
            "https://hooks.slack.com/services/T0123ABCD/B0123ABCD/abcdefghij0123456789",
            "a Slack webhook URL",
        ),
        ("sk_live_abcdefghij0123456789ABCD", "a Stripe live key"),
        (
            "AIzaSyA0123456789abcdefghijklmnopqrstuv",
            "a Google API key",
        ),
        ("npm_0123456789abcdefghijklmnopqrstuvwxyz", "an npm token"),
        (&pypi, "a PyPI token"),
        (
            "dckr_pat_abcdefghij0123456789ABCDEFG",
            "a Docker Hub access token",
        ),
        (
            "hf_abcdefghijklmnopqrstuvwxyz01234567",
            "a Hugging Face token",
        ),
        (&sendgrid, "a SendGrid API key"),
        (&openai, "an OpenAI API key"),
        (&anthropic, "an Anthropic API key"),
        ("postgres://app:hunter2@db/app", URL_WITH_PASSWORD),
    ] {
        assert_eq!(kinds(&format!("x={text} ")), vec![kind], "{text}");
    }
}

#[test]
fn does_not_catch_placeholders_examples_or_lookalikes() {
    for text in [
        "AKIAIOSFODNN7EXAMPLE",
        "AKIAI44QH8DHBEXAMPLE",
        "ASIAIOSFODNN7EXAMPLE",
        "grep -- '-----BEGIN RSA PRIVATE KEY-----' /etc/key.pem",
        "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE",
        "ghp_check --all",
        "pip install hf_transfer",
        "postgres://app:${DB_PASSWORD}@db/app",
        "postgres://app:changeme@db/app",
        "https://user@example.com/x",
        "GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D",
    ] {
        assert_eq!(kinds(text), Vec::<&str>::new(), "{text}");
    }
}

#[test]
fn finds_a_secret_at_the_end_of_a_large_text() {
    let mut text = "lorem ipsum dolor sit amet, https://example.com/ AKIA sk- xox\n".repeat(20_000);
    let start = text.len() + "export GH=".len();
    text.push_str(&format!("export GH={GHP}"));
    assert_eq!(
        scan(&text),
        vec![Hit {
            kind: "a GitHub token",
            line: 20_001,
            start,
            end: start + GHP.len(),
        }]
    );
}

#[test]
fn hits_have_lines_and_ranges_never_values() {
    let text = format!("a\r\nb {GHP}\nc\nd postgres://u:s3cret@h/x {GHP}\n");
    let hits = scan(&text);
    let found: Vec<(usize, &str)> = hits
        .iter()
        .map(|h| (h.line, &text[h.start..h.end]))
        .collect();
    assert_eq!(
        found,
        vec![(2, GHP), (4, "postgres://u:s3cret@"), (4, GHP),]
    );
    // A hit holds a kind and numbers: its `Debug` cannot show the secret.
    let shown = format!("{hits:?}");
    assert!(
        !shown.contains("0123456789") && !shown.contains("s3cret"),
        "{shown}"
    );
}

#[test]
fn redaction_shows_what_is_public() {
    let text = format!("t={GHP} postgres://u:s3cret@h/x -----BEGIN EC PRIVATE KEY-----\\nMHcCAQEEIIabcdefghijklmnop");
    let shown: Vec<String> = scan(&text).iter().map(|h| redact(&text, h)).collect();
    assert_eq!(
        shown,
        vec![
            "`ghp_…`, 40 characters",
            "postgres://…:<redacted>@…",
            "`-----BEGIN EC PRIVATE KEY-----`",
        ]
    );
    assert_eq!(redact_value("hunter2"), "redacted, 7 characters");
    assert_eq!(
        url_with_password("x https://ci:s3cret@git.example.com/app"),
        Some("https://…:<redacted>@…".to_string())
    );
}

#[test]
fn encrypted_and_armored_keys_have_headers_before_their_material() {
    for text in [
        "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\
         DEK-Info: AES-128-CBC,3F17F5316E2BAC89BB2A4C3BB9A1C5F2\n\n\
         kWbgqJ3ZJ7Ym3y5pA0QzX8bH2m1c9Lr4tYvN6sDfGhJk\n",
        "RUN echo \"-----BEGIN RSA PRIVATE KEY-----\\nProc-Type: 4,ENCRYPTED\\n\
         DEK-Info: AES-128-CBC,3F17F5316E2BAC89\\n\\nkWbgqJ3ZJ7Ym3y5pA0QzX8bH2m1c9Lr4\" > k",
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\nComment: ci signing key\n\n\
         lQOYBGXabcdefghijklmnopqrstuvwxyz0123456789\n",
    ] {
        assert_eq!(kinds(text), vec!["a private key"], "{text}");
    }
    for text in [
        "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: …\n\n…\n",
        // Blank lines are only skipped after a header that ends its line.
        "RUN grep -q '-----BEGIN RSA PRIVATE KEY-----' k\n\nRUN echo aGVsbG8gd29ybGQgdGhpcyBpcyBsb25n",
    ] {
        assert_eq!(kinds(text), Vec::<&str>::new(), "{text}");
    }
}

#[test]
fn a_private_key_header_alone_still_counts_as_a_credential_for_the_rules() {
    // `PC2004` and `PC2006` leave a value with a header to `PC2005`, key material or not.
    assert!(contains_credential("-----BEGIN RSA PRIVATE KEY-----"));
    assert!(scan("-----BEGIN RSA PRIVATE KEY-----").is_empty());
    assert!(!contains_credential("postgres://u:s3cret@h/x"));
    assert!(contains_credential(GHP));
}

#[test]
fn names_and_literals() {
    assert!(is_secret_name("DB_PASSWORD") && is_secret_name("npmToken"));
    assert!(!is_secret_name("PASSWORD_FILE") && !is_secret_name("AWS_ACCESS_KEY_ID"));
    assert!(is_literal_secret("Dummy-Lake-2023"));
    assert!(!is_literal_secret("changeme") && !is_literal_secret("$TOKEN"));
}
