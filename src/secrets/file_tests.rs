//! `scan_file`: each detector with what it catches and what it must not.

use super::*;

const GHP: &str = "ghp_0123456789abcdefghijABCDEFGHIJ012345";
/// 40 characters of base64, as AWS secret keys are; not a key.
const AWS_SECRET: &str = "q8Lr2mKpW3nXcYbT1sJdHfGuAoEv0ZtRwS5yU7iB";
const RSA_BODY: &str = "MIIEowIBAAKCAQEAq0123456789abcdefghijklmnopqrstuvwxyzABCDEF";

/// The (kind, line, text) of each hit in a file.
fn found(path: &str, content: &str) -> Vec<(&'static str, usize, String)> {
    scan_file(path, content.as_bytes())
        .iter()
        .map(|h| (h.kind, h.line, content[h.start..h.end].to_string()))
        .collect()
}

fn kinds(path: &str, content: &str) -> Vec<&'static str> {
    scan_file(path, content.as_bytes())
        .iter()
        .map(|h| h.kind)
        .collect()
}

fn assert_none(path: &str, content: &str) {
    assert_eq!(found(path, content), vec![], "{path}: {content}");
}

#[test]
fn private_keys_with_their_material() {
    for (path, content) in [
        (
            "/root/.ssh/id_rsa",
            format!("-----BEGIN RSA PRIVATE KEY-----\n{RSA_BODY}\n-----END RSA PRIVATE KEY-----\n"),
        ),
        (
            "/root/.ssh/id_ed25519",
            "-----BEGIN OPENSSH PRIVATE KEY-----\n\
             b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n\
             -----END OPENSSH PRIVATE KEY-----\n"
                .to_string(),
        ),
        (
            "/etc/ssl/private/server.key",
            "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n"
                .to_string(),
        ),
        (
            "/app/key.p8",
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\n\
             MIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQIc2FsdHNhbHQCAggA\n"
                .to_string(),
        ),
        (
            // An encrypted traditional PEM key: its headers come before the material.
            "/app/legacy.pem",
            "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\
             DEK-Info: AES-128-CBC,3F17F5316E2BAC89BB2A4C3BB9A1C5F2\n\n\
             kWbgqJ3ZJ7Ym3y5pA0QzX8bH2m1c9Lr4tYvN6sDfGhJkLmNoPqRsTuVwXyZ0a1b2\n"
                .to_string(),
        ),
        (
            "/root/.gnupg/secret.asc",
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\nComment: ci signing key\n\n\
             lQOYBGXabcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH\n"
                .to_string(),
        ),
    ] {
        assert_eq!(kinds(path, &content), vec!["a private key"], "{path}");
    }
}

#[test]
fn a_gcp_service_account_key_is_a_private_key() {
    let content = r#"{
  "type": "service_account",
  "project_id": "demo-project",
  "private_key_id": "3f1c2a9e8b7d6c5f4e3d2c1b0a9f8e7d6c5b4a39",
  "private_key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n",
  "client_email": "ci@demo-project.iam.gserviceaccount.com"
}
"#;
    let hits = found("/app/gcp.json", content);
    assert_eq!(
        hits,
        vec![(
            "a private key",
            5,
            "-----BEGIN PRIVATE KEY-----".to_string()
        )]
    );
}

#[test]
fn public_keys_certificates_and_mentions_are_not_private_keys() {
    for (path, content) in [
        (
            "/root/.ssh/id_rsa.pub",
            "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7abcdefghijklmnopqrstuvwxyz app@host\n",
        ),
        (
            "/root/.ssh/authorized_keys",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIabcdefghijklmnopqrstuvwxyz0123 a@b\n",
        ),
        (
            "/etc/ssl/certs/ca.pem",
            "-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBa\n\
             -----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\n\
             MIIFazCCA1OgAwIBAgIRAIIQz7DSQONZRGPgu2OCiwAwDQYJ\n-----END CERTIFICATE-----\n",
        ),
        (
            "/app/pub.pem",
            "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1L\n",
        ),
        (
            "/app/rsa_pub.pem",
            "-----BEGIN RSA PUBLIC KEY-----\nMIIBCgKCAQEA+xGZ/wcz9ugFpP07Nspo6U17l0YhFiFpxxU4\n",
        ),
        (
            "/usr/bin/check-keys.sh",
            "grep -q -- '-----BEGIN OPENSSH PRIVATE KEY-----' \"$1\" && echo key\n",
        ),
        (
            // An encrypted key's headers without material is a mention.
            "/app/doc.txt",
            "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: …\n\n…\n",
        ),
    ] {
        assert_none(path, content);
    }
}

#[test]
fn aws_credentials_file() {
    let content = format!(
        "[default]\naws_access_key_id = AKIAZ7Q3EXAMPLF2ABCD\n\
         aws_secret_access_key = {AWS_SECRET}\n\
         aws_session_token = IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ\n\
         region = eu-west-1\n\
         [profile vault]\ncredential_process = aws-vault exec prod --json\n\
         credential_source = Ec2InstanceMetadata\n"
    );
    assert_eq!(
        found("/root/.aws/credentials", &content),
        vec![
            (
                "an AWS access key id",
                2,
                "AKIAZ7Q3EXAMPLF2ABCD".to_string()
            ),
            (AWS_SECRET_ACCESS_KEY, 3, AWS_SECRET.to_string()),
            (
                AWS_SESSION_TOKEN,
                4,
                "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ".to_string()
            ),
        ]
    );
    // A secret key of another length is still a secret key in the credentials file.
    assert_eq!(
        kinds(
            "/app/.aws/credentials",
            "aws_secret_access_key=Xq83zKp0Lw/abc\n"
        ),
        vec![AWS_SECRET_ACCESS_KEY]
    );
}

#[test]
fn aws_secret_keys_anywhere_after_their_name() {
    for content in [
        format!("export AWS_SECRET_ACCESS_KEY={AWS_SECRET}\n"),
        format!("AWS_SECRET_ACCESS_KEY=\"{AWS_SECRET}\" aws s3 ls\n"),
        format!("{{\"Credentials\": {{\"SecretAccessKey\": \"{AWS_SECRET}\"}}}}"),
        format!("aws:\n  secret_access_key: '{AWS_SECRET}'\n"),
    ] {
        assert_eq!(
            kinds("/app/deploy.sh", &content),
            vec![AWS_SECRET_ACCESS_KEY],
            "{content}"
        );
    }
    // Not in a Dockerfile or `Env`: the secret-name rules judge those.
    assert!(scan(&format!("ENV AWS_SECRET_ACCESS_KEY={AWS_SECRET}")).is_empty());
    // Another length is some other value.
    assert_none(
        "/app/deploy.sh",
        &format!("AWS_SECRET_ACCESS_KEY={AWS_SECRET}x\n"),
    );
}

#[test]
fn aws_published_examples_and_placeholders_are_not_secrets() {
    for path in ["/root/.aws/credentials", "/usr/share/doc/awscli/README.md"] {
        assert_none(
            path,
            "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n\
             aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n\
             [other]\naws_access_key_id = AKIAI44QH8DHBEXAMPLE\n\
             aws_secret_access_key = je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY\n\
             [env]\naws_secret_access_key = ${AWS_SECRET_ACCESS_KEY}\n\
             aws_session_token = <your-session-token>\n",
        );
    }
}

/// The bypass the placeholder module closes: a real value is not exempt for containing
/// `example`; only the exact published examples are.
#[test]
fn a_real_value_containing_example_is_a_secret() {
    assert_eq!(
        kinds(
            "/root/.aws/credentials",
            "aws_access_key_id = AKIAZ7Q3EXAMPLE2ABCD\n\
             aws_secret_access_key = q8Lr2mKpW3nXcYbT1sJdHfGuAoEv0ZtEXAMPLEKEY\n"
        ),
        vec!["an AWS access key id", AWS_SECRET_ACCESS_KEY]
    );
    assert_eq!(
        kinds("/app/.env", "DB_PASSWORD=example-Xq83!z\n"),
        vec![DOTENV_SECRET]
    );
    assert_eq!(
        kinds(
            "/root/.netrc",
            "machine h login u password myExamplePass!9\n"
        ),
        vec![NETRC_PASSWORD]
    );
}

#[test]
fn tokens_in_known_formats_in_any_file() {
    for (token, kind) in [
        (GHP.to_string(), "a GitHub token"),
        ("glpat-abcdefghij0123456789".to_string(), "a GitLab token"),
        (
            "xoxb-123456789012-abcdefghijkl".to_string(),
            "a Slack token",
        ),
        (
            "sk_live_abcdefghij0123456789ABCD".to_string(),
            "a Stripe live key",
        ),
    ] {
        let content = format!("# settings\napi:\n  token: {token}\n");
        assert_eq!(
            found("/srv/app/config.yml", &content),
            vec![(kind, 3, token.clone())]
        );
    }
}

#[test]
fn npmrc() {
    let content = "registry=https://registry.npmjs.org/\n\
                   //registry.npmjs.org/:_authToken=npm_0123456789abcdefghijklmnopqrstuvwxyz\n\
                   //npm.pkg.github.com/:_authToken=7f3c2a9e-1b4d-4e8a-9c6f-2d5b8a1e3f70\n\
                   //npm.internal/:_auth=Y2k6czNjcjN0LVBhNTU=\n\
                   always-auth=true\nemail=ci@example.com\n";
    assert_eq!(
        found("/root/.npmrc", content),
        vec![
            (
                "an npm token",
                2,
                "npm_0123456789abcdefghijklmnopqrstuvwxyz".to_string()
            ),
            (
                NPM_CREDENTIAL,
                3,
                "7f3c2a9e-1b4d-4e8a-9c6f-2d5b8a1e3f70".to_string()
            ),
            (NPM_CREDENTIAL, 4, "Y2k6czNjcjN0LVBhNTU=".to_string()),
        ]
    );
    for placeholder in [
        "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n",
        "//registry.npmjs.org/:_authToken=\"${NPM_TOKEN}\"\n",
        "_authToken=<your-token>\n",
        "; _authToken=Xq83zKp0Lw\n",
    ] {
        assert_none("/app/.npmrc", placeholder);
    }
}

fn base64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

use base64::Engine as _;

#[test]
fn docker_config_credentials() {
    let auth = base64("ci:s3cr3t-Pa55");
    let content = format!(
        "{{\n  \"auths\": {{\n    \"registry.example.com\": {{\n      \"auth\": \"{auth}\"\n    }},\n    \
         \"ghcr.io\": {{\"identitytoken\": \"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2ln\"}}\n  }}\n}}\n"
    );
    for path in [
        "/root/.docker/config.json",
        "/run/containers/0/auth.json",
        "/home/app/.config/containers/auth.json",
    ] {
        assert_eq!(
            found(path, &content),
            vec![
                (DOCKER_CONFIG_CREDENTIAL, 4, auth.clone()),
                (
                    DOCKER_CONFIG_CREDENTIAL,
                    6,
                    "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2ln".to_string()
                ),
            ],
            "{path}"
        );
    }
    // The legacy `.dockercfg`: hosts at the top.
    assert_eq!(
        kinds(
            "/root/.dockercfg",
            &format!("{{\"https://index.docker.io/v1/\": {{\"auth\": \"{auth}\", \"email\": \"a@b.c\"}}}}")
        ),
        vec![DOCKER_CONFIG_CREDENTIAL]
    );
}

#[test]
fn docker_configs_without_credentials() {
    for content in [
        "{\"credsStore\": \"desktop\"}".to_string(),
        "{\"auths\": {\"ghcr.io\": {}, \"docker.io\": {}}, \"credsStore\": \"osxkeychain\"}"
            .to_string(),
        "{\"credHelpers\": {\"gcr.io\": \"gcloud\", \"123.dkr.ecr.us-east-1.amazonaws.com\": \"ecr-login\"}}"
            .to_string(),
        "{\"auths\": {\"r.example.com\": {\"auth\": \"\"}}}".to_string(),
        format!("{{\"auths\": {{\"r.example.com\": {{\"auth\": \"{}\"}}}}}}", base64("ci:changeme")),
        format!("{{\"auths\": {{\"r.example.com\": {{\"auth\": \"{}\"}}}}}}", base64("ci:")),
        "{\"auths\": {\"r.example.com\": {\"identitytoken\": \"${TOKEN}\"}}}".to_string(),
    ] {
        assert_none("/root/.docker/config.json", &content);
    }
}

#[test]
fn git_credentials() {
    let content = format!(
        "https://ci-bot:{GHP}@github.com\nhttps://deploy:Xq83zKp0Lw@gitlab.example.com\n\
         https://ci:${{GIT_TOKEN}}@git.example.com\nhttps://anonymous@git.example.com\n"
    );
    assert_eq!(
        found("/root/.git-credentials", &content),
        vec![
            (URL_WITH_PASSWORD, 1, format!("https://ci-bot:{GHP}@")),
            ("a GitHub token", 1, GHP.to_string()),
            (
                URL_WITH_PASSWORD,
                2,
                "https://deploy:Xq83zKp0Lw@".to_string()
            ),
        ]
    );
}

#[test]
fn netrc_passwords() {
    let content = "machine api.example.com\n  login deploy\n  password Xq83zKp0Lw\n\
                   machine other.example.com login u password changeme\n\
                   default login anonymous password ${NETRC_PASSWORD}\n";
    for path in ["/root/.netrc", "/home/app/_netrc"] {
        assert_eq!(
            found(path, content),
            vec![(NETRC_PASSWORD, 3, "Xq83zKp0Lw".to_string())]
        );
    }
    // Only the file named so is read as one.
    assert_none("/app/notes.txt", content);
}

#[test]
fn pypirc_passwords() {
    let pypi = format!("pypi-AgEIcHlwaS5vcmc{}", "x".repeat(50));
    let content = format!(
        "[distutils]\nindex-servers = pypi internal\n\n[pypi]\nusername = __token__\n\
         password = {pypi}\n\n[internal]\nrepository = https://pypi.internal/\n\
         username = ci\npassword: Xq83zKp0Lw\n\n[test]\npassword = <changeme>\n"
    );
    assert_eq!(
        found("/root/.pypirc", &content),
        vec![
            ("a PyPI token", 6, pypi),
            (PYPIRC_PASSWORD, 11, "Xq83zKp0Lw".to_string()),
        ]
    );
}

#[test]
fn kubeconfig_user_credentials() {
    let key_data = base64(&format!("-----BEGIN RSA PRIVATE KEY-----\n{RSA_BODY}\n"));
    let content = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    \
         certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t\n    \
         server: https://10.0.0.1:6443\n  name: prod\ncontexts:\n- context:\n    \
         cluster: prod\n    user: admin\n  name: admin@prod\n\
         current-context: admin@prod\nusers:\n- name: admin\n  user:\n    \
         client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t\n    \
         client-key-data: {key_data}\n\
         - name: ci\n  user:\n    token: eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJjaSJ9.c2ln\n\
         - name: basic\n  user:\n    username: admin\n    password: \"Xq83zKp0Lw\"\n\
         - name: template\n  user:\n    password: <changeme>\n    token: ${{K8S_TOKEN}}\n    \
         client-key: /etc/kubernetes/pki/admin.key\n"
    );
    let expected = vec![
        (KUBERNETES_CLIENT_KEY, 18, key_data.clone()),
        (
            KUBERNETES_CREDENTIAL,
            21,
            "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJjaSJ9.c2ln".to_string(),
        ),
        (KUBERNETES_CREDENTIAL, 25, "Xq83zKp0Lw".to_string()),
    ];
    for path in [
        "/root/.kube/config",
        "/etc/kubernetes/admin.conf",
        "/srv/prod.kubeconfig",
    ] {
        assert_eq!(found(path, &content), expected, "{path}");
    }
    // `user:` in a context names a user; nothing outside `users:` is read.
    assert_none(
        "/root/.kube/config",
        "contexts:\n- context:\n    user: admin\n    token: Xq83zKp0Lw\n",
    );
}

#[test]
fn dotenv_secrets_by_name() {
    let content = "# PASSWORD=hunter2\nDB_PASSWORD=Dummy-Lake-2023\nAPI_TOKEN=\"Xq83zKp0Lw\"\n\
                   export SECRET_KEY='k2#v9x0q@7!mz'\nDEBUG=true\n\
                   DB_PASSWORD_FILE=/run/secrets/db\nTOKEN=${TOKEN}\nPASSWORD=changeme\n\
                   AUTH_TOKEN=Xq83zKp0Lw2 # rotated monthly\n";
    for path in ["/app/.env", "/app/.env.production", "/srv/app.env"] {
        assert_eq!(
            found(path, content),
            vec![
                (DOTENV_SECRET, 2, "Dummy-Lake-2023".to_string()),
                (DOTENV_SECRET, 3, "Xq83zKp0Lw".to_string()),
                (DOTENV_SECRET, 4, "k2#v9x0q@7!mz".to_string()),
                (DOTENV_SECRET, 9, "Xq83zKp0Lw2".to_string()),
            ],
            "{path}"
        );
    }
}

#[test]
fn binary_content_is_read_lossily_with_byte_ranges() {
    let mut content: Vec<u8> = b"\x7fELF\x02\x01\x01\x00\xff\xfe\xc3(\n\x00\x00".to_vec();
    let start = content.len();
    content.extend_from_slice(b"AKIAZ7Q3EXAMPLF2ABCD");
    content.extend_from_slice(b"\x00\x80\xe2\x82\n\x00");
    let hits = scan_file("/usr/local/bin/app", &content);
    assert_eq!(
        hits,
        vec![Hit {
            kind: "an AWS access key id",
            line: 2,
            start,
            end: start + 20,
        }]
    );
    assert_eq!(redact_in_file(&content, &hits[0]), "`AKIA…`, 20 characters");
    assert!(scan_file("/bin/true", &[0xff; 4096]).is_empty());
    assert!(scan_file("/root/.docker/config.json", b"\xff\x00{\"auth\": \"\xff\"}").is_empty());
}

#[test]
fn file_hits_are_in_order_with_lines_and_never_values() {
    let content = format!("A=1\nAPI_TOKEN={GHP}\r\nDB_PASSWORD=Xq83zKp0Lw\n");
    let hits = scan_file("/app/.env", content.as_bytes());
    assert_eq!(
        hits.iter().map(|h| (h.kind, h.line)).collect::<Vec<_>>(),
        vec![("a GitHub token", 2), (DOTENV_SECRET, 3)]
    );
    let shown = format!("{hits:?}");
    assert!(
        !shown.contains("Xq83") && !shown.contains("0123456789"),
        "{shown}"
    );
    assert_eq!(
        redact_in_file(content.as_bytes(), &hits[1]),
        "redacted, 10 characters"
    );
}

#[test]
fn ordinary_files_have_nothing() {
    let script = include_str!("../../tests/run.sh");
    assert_none("/usr/local/bin/run.sh", script);
    assert_none("/src/main.rs", include_str!("../main.rs"));
}

/// The cost of `scan_file`, in 1 MiB chunks as the layer reader calls it: `cargo test
/// --release --lib secrets::file_tests::throughput -- --ignored --nocapture`. It prints MB/s
/// for ordinary text (this repository's script, source and README) and for text where every
/// line holds a needle (URLs with `@`, `task-`, `xoxo`, certificates), so every format's
/// pattern runs; it asserts nothing about time.
#[test]
#[ignore]
fn throughput() {
    let ordinary = [
        include_str!("../../tests/run.sh"),
        include_str!("../main.rs"),
        include_str!("../../README.md"),
    ]
    .concat();
    let dense =
        "git clone git@github.com:acme/app.git && curl -fsSL https://ci@example.com/x | sh\n\
                 # task-runner, desk-lamp, xoxo, ASIAN, AKIAN, SG.1, hf_x, npm_x, pypi-x\n\
                 -----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBa\n\
                 -----END CERTIFICATE-----\n";
    for (name, corpus) in [
        ("ordinary text", ordinary.as_str()),
        ("needle-dense text", dense),
    ] {
        let chunk_size = 1 << 20;
        let chunk = corpus.repeat(chunk_size / corpus.len() + 1);
        let chunk = &chunk.as_bytes()[..chunk_size];
        let started = std::time::Instant::now();
        let mut hits = 0;
        for _ in 0..100 {
            hits += scan_file("/usr/share/doc/app/notes.txt", chunk).len();
        }
        let elapsed = started.elapsed().as_secs_f64();
        let total = 100 * chunk_size;
        println!(
            "scan_file, {name}: {} MB in {elapsed:.3} s = {:.0} MB/s ({hits} hits)",
            total / 1_000_000,
            total as f64 / 1e6 / elapsed
        );
    }
}
