//! Image sources against real components: Debian's `docker-registry` (plain, htpasswd, TLS),
//! images built daemonless with `umoci` and pushed with `skopeo`, OCI layouts and
//! `docker save`-format archives. A fake server (tests/image/fake.rs) covers only the faults a
//! real registry cannot produce.
//!
//! Needs: `apt-get install -y docker-registry skopeo umoci apache2-utils openssl` (tests/run.sh
//! installs them). A missing tool fails the test, saying how to install it.

mod image;

use image::fake::{FakeImage, FakeLayer, FakeServer, Reply, OCI_MANIFEST};
use image::layers::{github_token, layer_tar, Entry};
use image::registry::{Config, Registry};
use image::tools::{self, ImageSpec};
use image::{insecure, options};
use portcullis::image::digest::Digest;
use portcullis::image::layers::LayerLimits;
use portcullis::image::manifest::{DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX};
use portcullis::image::{
    gather, gather_blocking, AuthConfig, Credential, ErrorKind, FetchOptions, ImageError,
    ImageFacts, ImageTarget, Platform,
};
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn fetch(target: &str, options: &FetchOptions) -> Result<ImageFacts, ImageError> {
    let target = ImageTarget::parse(target).expect("valid target");
    gather_blocking(&[target], options)
        .pop()
        .expect("one result per target")
}

async fn fetch_async(target: &str, options: &FetchOptions) -> Result<ImageFacts, ImageError> {
    let target = ImageTarget::parse(target).expect("valid target");
    gather(&[target], options)
        .await
        .pop()
        .expect("one result per target")
}

/// Fetches `app:1` from the registry at `host`, named with `--insecure-registry`.
async fn fetch_app(host: &str) -> Result<ImageFacts, ImageError> {
    fetch_async(&format!("docker://{host}/app:1"), &insecure(host)).await
}

fn expect_err(result: Result<ImageFacts, ImageError>, kind: ErrorKind) -> ImageError {
    match result {
        Ok(facts) => panic!("expected a {kind:?} error, got facts: {facts:#?}"),
        Err(e) => {
            assert_eq!(e.kind(), kind, "wrong error kind: {e}");
            e
        }
    }
}

/// The manifest a registry serves for `repo:tag`, as skopeo sees it: (digest, size, bytes).
fn raw_manifest(registry: &Registry, repo_tag: &str) -> (String, usize, Vec<u8>) {
    let creds = registry
        .credentials
        .as_ref()
        .map(|(u, p)| format!("--creds={u}:{p}"));
    let mut args = vec![
        "--insecure-policy",
        "inspect",
        "--raw",
        "--tls-verify=false",
    ];
    if let Some(creds) = &creds {
        args.push(creds);
    }
    let target = format!("docker://{}/{repo_tag}", registry.host);
    args.push(&target);
    let raw = tools::run("skopeo", &args).stdout;
    (Digest::sha256_of(&raw).to_string(), raw.len(), raw)
}

/// A layout with one image per `(tag, spec)`.
fn layout(dir: &Path, images: &[(&str, ImageSpec)]) -> std::path::PathBuf {
    let layout = dir.join("layout");
    for (tag, spec) in images {
        tools::umoci_image(&layout, tag, spec);
    }
    layout
}

fn arm64() -> ImageSpec {
    ImageSpec {
        architecture: "arm64",
        user: Some("root"),
        ..ImageSpec::default()
    }
}

// ---------------------------------------------------------------------------------------------
// A real registry

#[test]
fn oci_image_over_plain_http_when_listed_insecure() {
    let registry = Registry::start(Config::default());
    let dir = tempfile::tempdir().unwrap();
    let layout = layout(dir.path(), &[("1", ImageSpec::default())]);
    registry.push(&layout, "1", "team/app:1", &[]);
    let (digest, _, _) = raw_manifest(&registry, "team/app:1");

    let facts = fetch(&registry.target("team/app:1"), &insecure(&registry.host))
        .unwrap_or_else(|e| panic!("{e}\nregistry log:\n{}", registry.log()));
    assert_eq!(facts.target, registry.target("team/app:1"));
    assert_eq!(
        facts.digest, digest,
        "the tag resolved to the registry's digest"
    );
    assert_eq!(facts.media_type.as_deref(), Some(OCI_MANIFEST));
    assert!(!facts.is_index());
    let reference = facts.reference.as_ref().expect("a registry reference");
    assert_eq!(reference.repository, "team/app");
    let [image] = facts.platforms.as_slice() else {
        panic!("one platform: {facts:#?}")
    };
    assert_eq!(image.platform.to_string(), "linux/amd64");
    assert_eq!(image.manifest_digest.as_deref(), Some(digest.as_str()));
    let config = &image.config;
    assert_eq!(config.user.as_deref(), Some("app"));
    assert_eq!(config.env_var("APP_MODE"), Some("test"));
    assert_eq!(config.exposed_ports, ["8080/tcp"]);
    assert_eq!(
        config
            .labels
            .get("org.opencontainers.image.title")
            .map(String::as_str),
        Some("demo")
    );
    assert_eq!(
        config.entrypoint.as_deref(),
        Some(&["/bin/app".to_string()][..])
    );
    assert_eq!(config.working_dir.as_deref(), Some("/srv"));
    assert_eq!(config.os.as_deref(), Some("linux"));
    assert!(config.created.is_some());
    assert!(!config.history.is_empty());
    assert_eq!(image.layers.len(), 1);
    assert_eq!(config.diff_ids.len(), 1);
    assert_eq!(
        image.layers[0].media_type,
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );
    assert_eq!(image.compressed_size, image.layers[0].size);
    assert!(image.config_digest.starts_with("sha256:"));

    // Without --insecure-registry there is no plain HTTP: HTTPS to this server fails as TLS.
    let err = expect_err(
        fetch(&registry.target("team/app:1"), &options()),
        ErrorKind::Tls,
    );
    assert!(err.to_string().contains(&registry.host), "{err}");
}

#[test]
fn docker_v2_schema2_image() {
    let registry = Registry::start(Config::default());
    let dir = tempfile::tempdir().unwrap();
    let layout = layout(dir.path(), &[("1", arm64())]);
    registry.push(&layout, "1", "app:v2s2", &["--format", "v2s2"]);
    let (digest, _, raw) = raw_manifest(&registry, "app:v2s2");
    assert!(String::from_utf8_lossy(&raw).contains(DOCKER_MANIFEST));

    let facts = fetch(&registry.target("app:v2s2"), &insecure(&registry.host)).unwrap();
    assert_eq!(facts.digest, digest);
    assert_eq!(facts.media_type.as_deref(), Some(DOCKER_MANIFEST));
    let image = &facts.platforms[0];
    assert_eq!(image.media_type.as_deref(), Some(DOCKER_MANIFEST));
    assert_eq!(image.platform.to_string(), "linux/arm64");
    assert_eq!(image.config.user.as_deref(), Some("root"));
    assert_eq!(
        image.layers[0].media_type,
        "application/vnd.docker.image.rootfs.diff.tar.gzip"
    );
}

/// A client picks an index entry by its platform alone: an annotation or `artifactType` on
/// the `linux/amd64` entry must not hide the image that runs (it did: the gate skipped it
/// and judged only the decoy beside it).
#[test]
fn an_index_cannot_hide_a_platform_behind_attestation_labels() {
    let registry = Registry::start(Config::default());
    let dir = tempfile::tempdir().unwrap();
    let layout = layout(
        dir.path(),
        &[("root", arm64()), ("decoy", ImageSpec::default())],
    );
    registry.push(&layout, "root", "hidden:root", &[]);
    registry.push(&layout, "decoy", "hidden:decoy", &[]);
    let (root, root_size, _) = raw_manifest(&registry, "hidden:root");
    let (decoy, decoy_size, _) = raw_manifest(&registry, "hidden:decoy");
    let index = format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[{{"mediaType":"{OCI_MANIFEST}","digest":"{root}","size":{root_size},"artifactType":"application/vnd.example.sbom","platform":{{"os":"linux","architecture":"arm64"}},"annotations":{{"vnd.docker.reference.type":"attestation-manifest","vnd.docker.reference.digest":"{decoy}"}}}},{{"mediaType":"{OCI_MANIFEST}","digest":"{decoy}","size":{decoy_size},"platform":{{"os":"linux","architecture":"amd64"}}}}]}}"#
    );
    put_manifest(&registry, "hidden", "latest", OCI_INDEX, index.as_bytes());
    let facts = fetch(&registry.target("hidden:latest"), &insecure(&registry.host)).unwrap();
    let judged: Vec<(String, Option<String>)> = facts
        .platforms
        .iter()
        .map(|p| (p.platform.to_string(), p.config.user.clone()))
        .collect();
    assert_eq!(
        judged,
        [
            ("linux/arm64".to_string(), Some("root".to_string())),
            (
                "linux/amd64".to_string(),
                ImageSpec::default().user.map(str::to_string)
            ),
        ]
    );
}

#[test]
fn index_expands_to_every_platform_and_platform_filters() {
    let registry = Registry::start(Config::default());
    let dir = tempfile::tempdir().unwrap();
    let attestation = ImageSpec {
        os: "unknown",
        architecture: "unknown",
        file: None,
        ..ImageSpec::default()
    };
    let layout = layout(
        dir.path(),
        &[
            ("amd64", ImageSpec::default()),
            ("arm64", arm64()),
            ("att", attestation),
        ],
    );
    for tag in ["amd64", "arm64", "att"] {
        registry.push(&layout, tag, &format!("multi:{tag}"), &[]);
    }
    let entry = |tag: &str, platform: &str| {
        let (digest, size, _) = raw_manifest(&registry, &format!("multi:{tag}"));
        let (os, rest) = platform.split_once('/').unwrap();
        let (arch, variant) = rest
            .split_once('/')
            .map_or((rest, None), |(a, v)| (a, Some(v)));
        let variant = variant
            .map(|v| format!(r#","variant":"{v}""#))
            .unwrap_or_default();
        let annotations = if os == "unknown" {
            format!(
                r#","annotations":{{"vnd.docker.reference.type":"attestation-manifest","vnd.docker.reference.digest":"{digest}"}}"#
            )
        } else {
            String::new()
        };
        (
            digest.clone(),
            format!(
                r#"{{"mediaType":"{OCI_MANIFEST}","digest":"{digest}","size":{size},"platform":{{"os":"{os}","architecture":"{arch}"{variant}}}{annotations}}}"#
            ),
        )
    };
    let (amd_digest, amd) = entry("amd64", "linux/amd64");
    let (arm_digest, arm) = entry("arm64", "linux/arm64/v8");
    let (_, att) = entry("att", "unknown/unknown");
    let index = format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[{amd},{arm},{att}]}}"#
    );
    put_manifest(&registry, "multi", "latest", OCI_INDEX, index.as_bytes());
    let index_digest = Digest::sha256_of(index.as_bytes()).to_string();

    let options = insecure(&registry.host);
    let facts = fetch(&registry.target("multi:latest"), &options).unwrap();
    assert_eq!(facts.digest, index_digest);
    assert!(facts.is_index());
    let platforms: Vec<String> = facts
        .platforms
        .iter()
        .map(|p| p.platform.to_string())
        .collect();
    assert_eq!(
        platforms,
        ["linux/amd64", "linux/arm64/v8"],
        "attestation skipped"
    );
    assert_eq!(
        facts.platforms[0].manifest_digest.as_deref(),
        Some(amd_digest.as_str())
    );
    assert_eq!(
        facts.platforms[1].manifest_digest.as_deref(),
        Some(arm_digest.as_str())
    );
    assert_eq!(facts.platforms[1].config.user.as_deref(), Some("root"));

    let only_arm = FetchOptions {
        platform: Some(Platform::parse("linux/arm64").unwrap()),
        ..options.clone()
    };
    let facts = fetch(&registry.target("multi:latest"), &only_arm).unwrap();
    assert_eq!(
        facts.digest, index_digest,
        "the digest is still the index's"
    );
    assert_eq!(facts.platforms.len(), 1);
    assert_eq!(facts.platforms[0].platform.to_string(), "linux/arm64/v8");

    let s390x = FetchOptions {
        platform: Some(Platform::parse("linux/s390x").unwrap()),
        ..options.clone()
    };
    let err = expect_err(
        fetch(&registry.target("multi:latest"), &s390x),
        ErrorKind::NoMatchingPlatform,
    );
    let text = err.to_string();
    assert!(
        text.contains("linux/s390x") && text.contains("linux/amd64, linux/arm64/v8"),
        "{text}"
    );

    // A single-platform image asked for another platform is no match either.
    let err = expect_err(
        fetch(&registry.target("multi:amd64"), &only_arm),
        ErrorKind::NoMatchingPlatform,
    );
    assert!(err.to_string().contains("linux/amd64"), "{err}");
}

#[test]
fn docker_manifest_list_of_schema2_images() {
    let registry = Registry::start(Config::default());
    let dir = tempfile::tempdir().unwrap();
    let layout = layout(
        dir.path(),
        &[("amd64", ImageSpec::default()), ("arm64", arm64())],
    );
    let mut entries = Vec::new();
    for (tag, arch) in [("amd64", "amd64"), ("arm64", "arm64")] {
        registry.push(&layout, tag, &format!("list:{tag}"), &["--format", "v2s2"]);
        let (digest, size, _) = raw_manifest(&registry, &format!("list:{tag}"));
        entries.push(format!(
            r#"{{"mediaType":"{DOCKER_MANIFEST}","digest":"{digest}","size":{size},"platform":{{"os":"linux","architecture":"{arch}"}}}}"#
        ));
    }
    let list = format!(
        r#"{{"schemaVersion":2,"mediaType":"{DOCKER_MANIFEST_LIST}","manifests":[{}]}}"#,
        entries.join(",")
    );
    put_manifest(
        &registry,
        "list",
        "latest",
        DOCKER_MANIFEST_LIST,
        list.as_bytes(),
    );

    let facts = fetch(&registry.target("list"), &insecure(&registry.host)).unwrap();
    assert_eq!(facts.media_type.as_deref(), Some(DOCKER_MANIFEST_LIST));
    assert_eq!(facts.digest, Digest::sha256_of(list.as_bytes()).to_string());
    let platforms: Vec<String> = facts
        .platforms
        .iter()
        .map(|p| p.platform.to_string())
        .collect();
    assert_eq!(platforms, ["linux/amd64", "linux/arm64"]);
    assert!(facts
        .platforms
        .iter()
        .all(|p| p.media_type.as_deref() == Some(DOCKER_MANIFEST)));
}

/// PUTs a manifest (here: an index) the way a client pushes one.
fn put_manifest(registry: &Registry, repo: &str, tag: &str, media_type: &str, body: &[u8]) {
    let url = format!("{}/v2/{repo}/manifests/{tag}", registry.base_url());
    let body = body.to_vec();
    let media_type = media_type.to_string();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // reqwest is built without a default crypto provider (portcullis brings its own, ring).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let response = runtime.block_on(async move {
        reqwest::Client::new()
            .put(url)
            .header("Content-Type", media_type)
            .body(body)
            .send()
            .await
            .expect("PUT manifest")
    });
    let status = response.status();
    let text = runtime.block_on(response.text()).unwrap_or_default();
    assert!(
        status.is_success(),
        "PUT manifest: {status} {text}\n{}",
        registry.log()
    );
}

#[test]
fn a_tag_resolves_once_to_the_digest_a_pinned_reference_names() {
    let registry = Registry::start(Config::default());
    let dir = tempfile::tempdir().unwrap();
    let layout = layout(dir.path(), &[("1", ImageSpec::default())]);
    registry.push(&layout, "1", "app:1", &[]);
    let (digest, _, _) = raw_manifest(&registry, "app:1");

    let targets: Vec<ImageTarget> = [
        registry.target("app:1"),
        registry.target(&format!("app@{digest}")),
        registry.target(&format!("app:1@{digest}")),
        registry.target("app:1"),
    ]
    .iter()
    .map(|t| ImageTarget::parse(t).unwrap())
    .collect();
    let results = gather_blocking(&targets, &insecure(&registry.host));
    assert_eq!(results.len(), 4, "one result per target, in order");
    for (target, result) in targets.iter().zip(&results) {
        let facts = result.as_ref().unwrap_or_else(|e| panic!("{target}: {e}"));
        assert_eq!(facts.target, target.as_str());
        assert_eq!(facts.digest, digest);
    }
}

#[test]
fn missing_repositories_and_tags_are_not_found() {
    let registry = Registry::start(Config::default());
    let dir = tempfile::tempdir().unwrap();
    let layout = layout(dir.path(), &[("1", ImageSpec::default())]);
    registry.push(&layout, "1", "app:1", &[]);
    let options = insecure(&registry.host);

    let err = expect_err(
        fetch(&registry.target("app:nope"), &options),
        ErrorKind::NotFound,
    );
    assert!(err.to_string().contains("MANIFEST_UNKNOWN"), "{err}");
    let err = expect_err(
        fetch(&registry.target("nothing:1"), &options),
        ErrorKind::NotFound,
    );
    assert!(err.to_string().contains("UNKNOWN"), "{err}");
    let missing = format!("sha256:{}", "0".repeat(64));
    expect_err(
        fetch(&registry.target(&format!("app@{missing}")), &options),
        ErrorKind::NotFound,
    );

    // Nothing listens on a fresh port: connection refused, said plainly.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let host = format!("127.0.0.1:{port}");
    let err = expect_err(
        fetch(&format!("docker://{host}/app:1"), &insecure(&host)),
        ErrorKind::ConnectionRefused,
    );
    assert!(err.to_string().contains(&host), "{err}");
}

#[test]
fn basic_auth_with_credentials_from_docker_config_and_a_clear_error_for_a_wrong_password() {
    const PASSWORD: &str = "correct-h0rse-battery";
    const WRONG: &str = "wr0ng-pa55word-guess";
    let registry = Registry::start(Config {
        basic_auth: Some(("ci".into(), PASSWORD.into())),
        tls: false,
    });
    let dir = tempfile::tempdir().unwrap();
    let layout = layout(dir.path(), &[("1", ImageSpec::default())]);
    registry.push(&layout, "1", "private/app:1", &[]);
    let target = registry.target("private/app:1");

    // Credentials as `docker login` writes them.
    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("ci:{PASSWORD}"));
    let docker_config = dir.path().join("config.json");
    std::fs::write(
        &docker_config,
        format!(
            r#"{{"auths": {{"{}": {{"auth": "{auth}"}}}}}}"#,
            registry.host
        ),
    )
    .unwrap();
    let with_config = FetchOptions {
        auth: AuthConfig {
            files: vec![dir.path().join("missing.json"), docker_config],
            ..AuthConfig::anonymous()
        },
        ..insecure(&registry.host)
    };
    let facts = fetch(&target, &with_config).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(facts.platforms[0].config.user.as_deref(), Some("app"));

    // No credentials: denied, and the message says none were found.
    let err = expect_err(
        fetch(&target, &insecure(&registry.host)),
        ErrorKind::AuthDenied,
    );
    let text = err.to_string();
    assert!(
        text.contains("HTTP 401") && text.contains("no credentials found"),
        "{text}"
    );

    // A wrong password: denied, and neither password appears anywhere in the error.
    let mut wrong = insecure(&registry.host);
    wrong
        .auth
        .overrides
        .insert(registry.host.clone(), Credential::basic("ci", WRONG));
    let err = expect_err(fetch(&target, &wrong), ErrorKind::AuthDenied);
    let (text, debug) = (err.to_string(), format!("{err:?}"));
    assert!(
        text.contains("user `ci`") && text.contains("not accepted"),
        "{text}"
    );
    for secret in [WRONG, PASSWORD] {
        assert!(
            !text.contains(secret) && !debug.contains(secret),
            "{text}\n{debug}"
        );
    }
    assert!(
        !format!("{wrong:?}").contains(WRONG),
        "options print no secret"
    );
}

#[test]
fn tls_with_a_private_ca_needs_ca_file() {
    let registry = Registry::start(Config {
        basic_auth: None,
        tls: true,
    });
    let dir = tempfile::tempdir().unwrap();
    let layout = layout(dir.path(), &[("1", ImageSpec::default())]);
    registry.push(&layout, "1", "app:1", &[]);
    let target = registry.target("app:1");

    let with_ca = FetchOptions {
        ca_file: registry.ca.clone(),
        ..options()
    };
    let facts = fetch(&target, &with_ca).unwrap_or_else(|e| panic!("{e}\n{}", registry.log()));
    assert_eq!(facts.platforms.len(), 1);

    let err = expect_err(fetch(&target, &options()), ErrorKind::Tls);
    let text = err.to_string();
    assert!(
        text.contains("--ca-file"),
        "the error says what to do: {text}"
    );

    // Listed as insecure, TLS is used without checking the certificate.
    assert!(fetch(&target, &insecure(&registry.host)).is_ok());
}

#[test]
fn oci_layout_by_tag_with_digest_checks() {
    let dir = tempfile::tempdir().unwrap();
    let layout = layout(dir.path(), &[("v1", ImageSpec::default()), ("v2", arm64())]);
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let v1_digest = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == "v1")
        .map(|m| m["digest"].as_str().unwrap().to_string())
        .unwrap();
    let base = format!("oci:{}", layout.display());

    let facts = fetch(&format!("{base}:v1"), &options()).unwrap();
    assert_eq!(facts.digest, v1_digest);
    assert_eq!(facts.media_type.as_deref(), Some(OCI_MANIFEST));
    assert_eq!(facts.platforms[0].platform.to_string(), "linux/amd64");
    assert_eq!(facts.platforms[0].config.user.as_deref(), Some("app"));
    let facts = fetch(&format!("{base}:v2"), &options()).unwrap();
    assert_eq!(facts.platforms[0].platform.to_string(), "linux/arm64");

    let err = expect_err(fetch(&base, &options()), ErrorKind::InvalidTarget);
    assert!(err.to_string().contains("v1, v2"), "lists the tags: {err}");
    let err = expect_err(
        fetch(&format!("{base}:v3"), &options()),
        ErrorKind::NotFound,
    );
    assert!(err.to_string().contains("v1, v2"), "lists the tags: {err}");
    expect_err(
        fetch(
            &format!("oci:{}/nowhere:v1", dir.path().display()),
            &options(),
        ),
        ErrorKind::NotFound,
    );

    // A blob whose bytes changed (same size) no longer matches its digest.
    let config_digest = facts.platforms[0].config_digest.clone();
    let blob = layout
        .join("blobs/sha256")
        .join(config_digest.trim_start_matches("sha256:"));
    let mut bytes = std::fs::read(&blob).unwrap();
    let at = bytes.iter().position(|b| *b == b'r').unwrap();
    bytes[at] = b'R';
    std::fs::write(&blob, &bytes).unwrap();
    let err = expect_err(
        fetch(&format!("{base}:v2"), &options()),
        ErrorKind::DigestMismatch,
    );
    assert!(err.to_string().contains(&config_digest), "{err}");
}

#[test]
fn docker_archives_legacy_and_oci_shaped() {
    let dir = tempfile::tempdir().unwrap();
    let layout = layout(dir.path(), &[("v1", ImageSpec::default())]);
    let legacy = dir.path().join("legacy.tar");
    tools::skopeo_copy(
        &format!("oci:{}:v1", layout.display()),
        &format!(
            "docker-archive:{}:example.com/team/app:v1",
            legacy.display()
        ),
        &[],
    );

    let facts = fetch(&format!("docker-archive:{}", legacy.display()), &options()).unwrap();
    let image = &facts.platforms[0];
    assert_eq!(facts.media_type, None, "a legacy archive has no manifest");
    assert_eq!(
        facts.digest, image.config_digest,
        "its digest is the image ID"
    );
    assert_eq!(image.manifest_digest, None);
    assert_eq!(image.config.user.as_deref(), Some("app"));
    assert_eq!(image.platform.to_string(), "linux/amd64");
    assert_eq!(image.layers.len(), 1);
    assert_eq!(Some(&image.layers[0].digest), image.config.diff_ids.first());
    assert!(image.layers[0].size > 0);

    let by_tag = format!(
        "docker-archive:{}:example.com/team/app:v1",
        legacy.display()
    );
    assert_eq!(fetch(&by_tag, &options()).unwrap().digest, facts.digest);
    let err = expect_err(
        fetch(
            &format!("docker-archive:{}:other:v1", legacy.display()),
            &options(),
        ),
        ErrorKind::NotFound,
    );
    assert!(err.to_string().contains("example.com/team/app:v1"), "{err}");

    // An OCI layout inside the tarball (as Docker ≥ 25 writes it, and oci-archive).
    let oci_tar = dir.path().join("oci.tar");
    tools::skopeo_copy(
        &format!("oci:{}:v1", layout.display()),
        &format!("oci-archive:{}:v1", oci_tar.display()),
        &[],
    );
    let facts = fetch(&format!("docker-archive:{}", oci_tar.display()), &options()).unwrap();
    assert_eq!(facts.media_type.as_deref(), Some(OCI_MANIFEST));
    assert!(facts.platforms[0].manifest_digest.is_some());
    assert_eq!(facts.platforms[0].config.user.as_deref(), Some("app"));

    // Compressed archives are refused with a hint, not misread.
    let gz = dir.path().join("legacy.tar.gz");
    let mut gz_bytes = vec![0x1f, 0x8b];
    gz_bytes.extend_from_slice(&std::fs::read(&legacy).unwrap());
    std::fs::write(&gz, gz_bytes).unwrap();
    let err = expect_err(
        fetch(&format!("docker-archive:{}", gz.display()), &options()),
        ErrorKind::UnsupportedMediaType,
    );
    assert!(err.to_string().contains("gunzip"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Faults only a fake server can produce

async fn fake(
    handler: impl Fn(&image::fake::Request) -> Reply + Send + Sync + 'static,
) -> FakeServer {
    FakeServer::start(Ipv4Addr::LOCALHOST, handler).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manifest_that_does_not_match_its_docker_content_digest_is_refused() {
    let image = FakeImage::new("app");
    let other = FakeImage::new("root");
    let liar = other.manifest_digest.clone();
    let server = fake(move |r| {
        if r.path == "/v2/app/manifests/1" {
            return Reply::body(200, OCI_MANIFEST, &image.manifest)
                .header("Docker-Content-Digest", &liar);
        }
        image.answer("app", "1", r).unwrap_or(Reply::status(404))
    })
    .await;
    let err = expect_err(fetch_app(&server.host()).await, ErrorKind::DigestMismatch);
    assert!(err.to_string().contains(&other.manifest_digest), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_that_does_not_match_the_digest_asked_for_is_refused() {
    let asked = FakeImage::new("app");
    let served = FakeImage::new("evil");
    let asked_digest = asked.manifest_digest.clone();
    // Serves another manifest under the pinned digest (and no digest header to compare).
    let server = fake(move |r| {
        if r.path == "/v2/" {
            return Reply::status(200);
        }
        Reply::body(200, OCI_MANIFEST, &served.manifest)
    })
    .await;
    let target = format!("docker://{}/app@{asked_digest}", server.host());
    expect_err(
        fetch_async(&target, &insecure(&server.host())).await,
        ErrorKind::DigestMismatch,
    );

    // A config blob with other bytes than its digest: refused, whether or not the size fits.
    type Tamper = fn(&[u8]) -> Vec<u8>;
    let tampers: [Tamper; 2] = [
        |c| {
            c.iter()
                .map(|b| if *b == b'a' { b'A' } else { *b })
                .collect()
        },
        |c| [c, b" "].concat(),
    ];
    for tamper in tampers {
        let image = FakeImage::new("app");
        let config_path = format!("/v2/app/blobs/{}", image.config_digest);
        let server = fake(move |r| {
            if r.path == config_path {
                return Reply::body(200, "application/octet-stream", &tamper(&image.config));
            }
            image.answer("app", "1", r).unwrap_or(Reply::status(404))
        })
        .await;
        let target = format!("docker://{}/app:1", server.host());
        expect_err(
            fetch_async(&target, &insecure(&server.host())).await,
            ErrorKind::DigestMismatch,
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_body_is_a_network_error_after_bounded_retries() {
    let image = FakeImage::new("app");
    let server = fake(move |r| {
        if r.path == "/v2/app/manifests/1" {
            return Reply::Truncated {
                declared: image.manifest.len() + 500,
                body: image.manifest.clone(),
            };
        }
        image.answer("app", "1", r).unwrap_or(Reply::status(404))
    })
    .await;
    let options = insecure(&server.host());
    let err = expect_err(
        fetch_async(&format!("docker://{}/app:1", server.host()), &options).await,
        ErrorKind::Network,
    );
    assert!(err.to_string().contains("broke off"), "{err}");
    assert_eq!(
        server.count("/v2/app/manifests/1"),
        1 + options.retries as usize
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_response_times_out() {
    let image = FakeImage::new("app");
    let server = fake(move |r| {
        if r.path == "/v2/app/manifests/1" {
            return Reply::Stall {
                declared: 1000,
                pause: Duration::from_secs(20),
            };
        }
        image.answer("app", "1", r).unwrap_or(Reply::status(404))
    })
    .await;
    let options = FetchOptions {
        timeout: Duration::from_secs(1),
        ..insecure(&server.host())
    };
    let started = Instant::now();
    let err = expect_err(
        fetch_async(&format!("docker://{}/app:1", server.host()), &options).await,
        ErrorKind::Timeout,
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(err.to_string().contains("timed out after 1s"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_500_storm_is_retried_a_bounded_number_of_times() {
    let server = fake(|r| {
        if r.path == "/v2/" {
            return Reply::status(200);
        }
        Reply::body(
            500,
            "application/json",
            br#"{"errors":[{"code":"UNKNOWN","message":"storage backend down"}]}"#,
        )
    })
    .await;
    let options = FetchOptions {
        retries: 3,
        ..insecure(&server.host())
    };
    let err = expect_err(
        fetch_async(&format!("docker://{}/app:1", server.host()), &options).await,
        ErrorKind::Registry,
    );
    let text = err.to_string();
    assert!(
        text.contains("HTTP 500") && text.contains("storage backend down"),
        "{text}"
    );
    assert_eq!(server.count("/v2/app/manifests/1"), 4, "1 try + 3 retries");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_requests_is_retried_after_the_delay_asked_for() {
    let image = FakeImage::new("app");
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    let server = fake(move |r| {
        if r.path == "/v2/app/manifests/1" && seen.fetch_add(1, Ordering::SeqCst) == 0 {
            return Reply::status(429).header("Retry-After", "0");
        }
        image.answer("app", "1", r).unwrap_or(Reply::status(404))
    })
    .await;
    let facts = fetch_app(&server.host()).await.unwrap();
    assert_eq!(facts.platforms[0].config.user.as_deref(), Some("app"));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_manifests_are_refused_while_reading() {
    let declared = fake(|r| {
        if r.path == "/v2/" {
            return Reply::status(200);
        }
        Reply::body(200, OCI_MANIFEST, &vec![b' '; 5 * 1024 * 1024])
    })
    .await;
    let err = expect_err(fetch_app(&declared.host()).await, ErrorKind::TooLarge);
    assert!(err.to_string().contains("4194304"), "{err}");

    // No Content-Length: the cap stops the read, rather than buffering 64 MiB.
    let streamed = fake(|r| {
        if r.path == "/v2/" {
            return Reply::status(200);
        }
        Reply::Unsized {
            len: 64 * 1024 * 1024,
        }
    })
    .await;
    expect_err(fetch_app(&streamed.host()).await, ErrorKind::TooLarge);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_to_another_host_does_not_carry_the_credentials() {
    let image = FakeImage::new("app");
    let config = image.config.clone();
    // Blob storage on another loopback address (another host, not just another port).
    let storage_ip = if std::net::TcpListener::bind((Ipv4Addr::new(127, 0, 0, 2), 0)).is_ok() {
        Ipv4Addr::new(127, 0, 0, 2)
    } else {
        Ipv4Addr::LOCALHOST
    };
    let storage = FakeServer::start(storage_ip, move |_| {
        Reply::body(200, "application/octet-stream", &config)
    })
    .await;
    let storage_url = format!("http://{}/blob?signature=abc", storage.host());
    let config_path = format!("/v2/app/blobs/{}", image.config_digest);
    let registry = fake(move |r| {
        if r.header("authorization").is_none() {
            return Reply::status(401).header("WWW-Authenticate", r#"Basic realm="fake""#);
        }
        if r.path == config_path {
            return Reply::status(307).header("Location", &storage_url);
        }
        image.answer("app", "1", r).unwrap_or(Reply::status(404))
    })
    .await;
    let mut options = insecure(&registry.host());
    options
        .auth
        .overrides
        .insert(registry.host(), Credential::basic("ci", "redirect-secret"));
    let facts = fetch_async(&format!("docker://{}/app:1", registry.host()), &options)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(facts.platforms[0].config.user.as_deref(), Some("app"));

    let to_registry = registry.requests();
    assert!(
        to_registry
            .iter()
            .any(|r| r.path.contains("/blobs/") && r.header("authorization").is_some()),
        "the registry got the credentials: {to_registry:#?}"
    );
    let to_storage = storage.requests();
    assert_eq!(to_storage.len(), 1, "{to_storage:#?}");
    assert_eq!(
        to_storage[0].header("authorization"),
        None,
        "{to_storage:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_tokens_are_fetched_once_and_refused_errors_are_scrubbed() {
    const PASSWORD: &str = "t0ken-endpoint-pa55";
    let image = FakeImage::new("app");
    let host = Arc::new(std::sync::OnceLock::<String>::new());
    let realm_host = Arc::clone(&host);
    let server = fake(move |r| {
        let host = realm_host.get().cloned().unwrap_or_default();
        if r.path.starts_with("/token?") {
            // Accepts user ci with PASSWORD; echoes what it got otherwise (as a bad server might).
            let good = format!("Basic {}", b64(&format!("ci:{PASSWORD}")));
            return match r.header("authorization") {
                Some(auth) if auth == good => Reply::body(200, "application/json", br#"{"token":"tok-123456"}"#),
                other => Reply::body(401, "application/json", format!(
                    r#"{{"errors":[{{"code":"UNAUTHORIZED","message":"bad credentials {}"}}]}}"#,
                    other.map(|a| String::from_utf8_lossy(&base64_decode(a.trim_start_matches("Basic "))).to_string()).unwrap_or_default()
                ).as_bytes()),
            };
        }
        if r.header("authorization") != Some("Bearer tok-123456") {
            return Reply::status(401).header(
                "WWW-Authenticate",
                &format!(r#"Bearer realm="http://{host}/token",service="fake-registry""#),
            );
        }
        image.answer("app", "1", r).unwrap_or(Reply::status(404))
    })
    .await;
    host.set(server.host()).unwrap();

    let mut options = insecure(&server.host());
    options
        .auth
        .overrides
        .insert(server.host(), Credential::basic("ci", PASSWORD));
    let target = ImageTarget::parse(&format!("docker://{}/app:1", server.host())).unwrap();
    let results = gather(&[target.clone(), target.clone()], &options).await;
    for result in &results {
        assert_eq!(
            result.as_ref().unwrap().platforms[0].config.user.as_deref(),
            Some("app")
        );
    }
    let token_requests: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/token?"))
        .collect();
    assert_eq!(token_requests.len(), 1, "one token per repository per run");
    assert!(
        token_requests[0]
            .path
            .contains("scope=repository%3Aapp%3Apull"),
        "{}",
        token_requests[0].path
    );
    assert!(token_requests[0].path.contains("service=fake-registry"));
    assert_eq!(
        server.count("/v2/app/manifests/1"),
        1,
        "the token is there before the first pull"
    );

    // A wrong password: the token endpoint's error echoes it; the message must not.
    const WRONG: &str = "echoed-wr0ng-secret";
    let mut wrong = insecure(&server.host());
    wrong
        .auth
        .overrides
        .insert(server.host(), Credential::basic("ci", WRONG));
    let err = expect_err(
        gather(&[target], &wrong).await.pop().unwrap(),
        ErrorKind::AuthDenied,
    );
    let text = format!("{err} {err:?}");
    assert!(
        text.contains("UNAUTHORIZED") && text.contains("<redacted>"),
        "{text}"
    );
    assert!(!text.contains(WRONG), "{text}");
}

/// A registry behind a token endpoint that hands out `tok-1`, `tok-2`, … (with `expires_in`
/// when given), and accepts a token for `uses` requests (any number when `None`), or only the
/// newest token when `newest_only`.
async fn token_registry(
    images: Vec<(&'static str, FakeImage)>,
    expires_in: Option<u64>,
    uses: Option<usize>,
) -> FakeServer {
    let host = Arc::new(std::sync::OnceLock::<String>::new());
    let realm_host = Arc::clone(&host);
    let minted = Arc::new(AtomicUsize::new(0));
    let used = Arc::new(std::sync::Mutex::new(std::collections::HashMap::<
        String,
        usize,
    >::new()));
    let server = fake(move |r| {
        let host = realm_host.get().cloned().unwrap_or_default();
        if r.path.starts_with("/token?") {
            let n = minted.fetch_add(1, Ordering::SeqCst) + 1;
            let body = match expires_in {
                Some(seconds) => format!(r#"{{"token":"tok-{n}","expires_in":{seconds}}}"#),
                None => format!(r#"{{"token":"tok-{n}"}}"#),
            };
            return Reply::body(200, "application/json", body.as_bytes());
        }
        let challenge = || {
            Reply::status(401).header(
                "WWW-Authenticate",
                &format!(r#"Bearer realm="http://{host}/token",service="fake""#),
            )
        };
        let Some(token) = r
            .header("authorization")
            .and_then(|a| a.strip_prefix("Bearer "))
        else {
            return challenge();
        };
        let mut used = used.lock().unwrap();
        let count = used.entry(token.to_string()).or_default();
        *count += 1;
        if uses.is_some_and(|uses| *count > uses) {
            return challenge();
        }
        images
            .iter()
            .find_map(|(tag, image)| image.answer("app", tag, r))
            .unwrap_or(Reply::status(404))
    })
    .await;
    host.set(server.host()).unwrap();
    server
}

fn tokens_sent(server: &FakeServer, path: &str) -> Vec<String> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.path == path)
        .map(|r| r.header("authorization").unwrap_or("none").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_near_its_expiry_is_minted_again_before_use() {
    let images = vec![
        ("1", FakeImage::new("app")),
        ("2", FakeImage::new("root")),
        ("3", FakeImage::new("nobody")),
    ];
    let second_config = format!("/v2/app/blobs/{}", images[1].1.config_digest);
    // Lives 2 s: renewed from 1 s on (half its life, as it is shorter than the 5 s margin).
    let server = token_registry(images, Some(2), None).await;
    let fetcher = portcullis::image::Fetcher::new(insecure(&server.host())).unwrap();
    let target =
        |tag: &str| ImageTarget::parse(&format!("docker://{}/app:{tag}", server.host())).unwrap();
    fetcher.fetch(&target("1")).await.unwrap();
    assert_eq!(
        tokens_sent(&server, "/v2/app/manifests/1"),
        ["Bearer tok-1"]
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // Two images at once find the token stale: one renewal serves both.
    let results = fetcher.gather(&[target("2"), target("3")]).await;
    let facts = results[0].as_ref().unwrap();
    assert_eq!(facts.platforms[0].config.user.as_deref(), Some("root"));
    assert!(results[1].is_ok(), "{results:?}");
    for path in [
        "/v2/app/manifests/2",
        "/v2/app/manifests/3",
        second_config.as_str(),
    ] {
        assert_eq!(
            tokens_sent(&server, path),
            ["Bearer tok-2"],
            "{path}: renewed before use, no 401 first"
        );
    }
    let minted = server
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/token?"))
        .count();
    assert_eq!(minted, 2, "one token at the start, one renewal shared");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_the_registry_stops_taking_is_replaced_once() {
    // Each token is good for one request (as if revoked or expired early, whatever it said).
    let image = FakeImage::new("app");
    let config = format!("/v2/app/blobs/{}", image.config_digest);
    let server = token_registry(vec![("1", image)], Some(300), Some(1)).await;
    let facts = fetch_app(&server.host()).await.unwrap();
    assert_eq!(facts.platforms[0].config.user.as_deref(), Some("app"));
    assert_eq!(
        tokens_sent(&server, "/v2/app/manifests/1"),
        ["Bearer tok-1"]
    );
    assert_eq!(
        tokens_sent(&server, &config),
        ["Bearer tok-1", "Bearer tok-2"],
        "refused, minted again, asked once more"
    );

    // A registry that refuses every token: one renewal, then a clear auth error (no loop).
    let image = FakeImage::new("app");
    let server = token_registry(vec![("1", image)], None, Some(0)).await;
    let err = expect_err(fetch_app(&server.host()).await, ErrorKind::AuthDenied);
    assert!(err.to_string().contains("401"), "{err}");
    assert_eq!(
        tokens_sent(&server, "/v2/app/manifests/1"),
        ["Bearer tok-1", "Bearer tok-2"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_are_not_sent_to_a_plain_http_token_endpoint() {
    let image = FakeImage::new("app");
    let auth_server = fake(|_| Reply::body(200, "application/json", br#"{"token":"t"}"#)).await;
    let realm = format!("http://{}/token", auth_server.host());
    let server = fake(move |r| {
        if r.header("authorization").is_none() {
            return Reply::status(401)
                .header("WWW-Authenticate", &format!(r#"Bearer realm="{realm}""#));
        }
        image.answer("app", "1", r).unwrap_or(Reply::status(404))
    })
    .await;
    let mut options = insecure(&server.host());
    options
        .auth
        .overrides
        .insert(server.host(), Credential::basic("ci", "do-not-leak"));
    let err = expect_err(
        fetch_async(&format!("docker://{}/app:1", server.host()), &options).await,
        ErrorKind::Credentials,
    );
    assert!(err.to_string().contains("plain HTTP"), "{err}");
    assert!(auth_server.requests().is_empty(), "nothing was sent to it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_digest_is_fetched_once_per_run() {
    let image = FakeImage::new("app");
    let digest = image.manifest_digest.clone();
    let config_path = format!("/v2/app/blobs/{}", image.config_digest);
    let server = fake(move |r| image.answer("app", "1", r).unwrap_or(Reply::status(404))).await;
    let host = server.host();
    let targets: Vec<ImageTarget> = [
        format!("docker://{host}/app:1"),
        format!("docker://{host}/app:1"),
        format!("docker://{host}/app@{digest}"),
    ]
    .iter()
    .map(|t| ImageTarget::parse(t).unwrap())
    .collect();
    let results = gather(&targets, &insecure(&host)).await;
    assert!(results.iter().all(Result::is_ok), "{results:#?}");
    assert_eq!(server.count("/v2/"), 1, "one endpoint check per registry");
    assert_eq!(
        server.count("/v2/app/manifests/1"),
        1,
        "the tag resolves once"
    );
    assert_eq!(server.count(&config_path), 1, "the config is fetched once");
}

fn b64(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Layers a registry lies about: the real fetch path with layers read, and the gate on top.
// Layer 0 holds a secret and is served faithfully; layer 1 is the one at fault, so an image
// that is not refused would show a finding (a partial read), and the message must name
// layer 1 by index and digest.

/// The policy of the gate runs: the secret rule on, nothing else.
const SECRET_POLICY: &str = "version: 1\nextends: none\nrules:\n  secret-in-layer: on\n";

/// A layer with a GitHub token in `/app/.env`.
fn leaky_layer(token: &str) -> FakeLayer {
    FakeLayer::gzip(&layer_tar(&[
        Entry::dir("app"),
        Entry::file("app/.env", format!("GITHUB_TOKEN={token}\n")),
    ]))
}

/// A clean layer of some 600 KiB stored (random bytes, marked binary by a NUL): several reads
/// of the stored bytes, and several chunks on the wire.
fn bulky_layer() -> FakeLayer {
    let mut data = vec![0u8; 600 * 1024];
    std::io::Read::read_exact(
        &mut std::fs::File::open("/dev/urandom").expect("urandom"),
        &mut data[1..],
    )
    .expect("read urandom");
    FakeLayer::gzip(&layer_tar(&[
        Entry::dir("srv"),
        Entry::file("srv/blob.bin", data),
    ]))
}

/// `tar` of one file of `zeros` zero bytes, gzip-compressed: a few KiB per MiB.
fn gzip_bomb(zeros: usize) -> FakeLayer {
    FakeLayer::gzip(&layer_tar(&[Entry::file("zeros", vec![0u8; zeros])]))
}

/// An image of a leaky layer 0 and `faulty` as layer 1.
fn two_layers(token: &str, faulty: FakeLayer) -> FakeImage {
    FakeImage::with_layers("app", vec![leaky_layer(token), faulty])
}

/// Options that read layers within `limits`.
fn reading_layers(host: &str, limits: LayerLimits) -> FetchOptions {
    FetchOptions {
        layers: Some(limits),
        ..insecure(host)
    }
}

/// `portcullis check --format json --policy POLICY docker://HOST/app:1`, run off the runtime
/// (the fake server keeps serving).
async fn gate(host: &str, policy: &str) -> Output {
    let (host, policy) = (host.to_string(), policy.to_string());
    tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(dir.path().join("policy.yaml"), policy).expect("policy");
        std::process::Command::new(env!("CARGO_BIN_EXE_portcullis"))
            .args(["check", "--format", "json", "--policy", "policy.yaml"])
            .args([
                "--insecure-registry",
                &host,
                &format!("docker://{host}/app:1"),
            ])
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .output()
            .expect("run portcullis")
    })
    .await
    .expect("join")
}

/// The rule ids of the findings in a JSON report (none when there is no report).
fn reported_rules(output: &Output) -> Vec<String> {
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).unwrap_or(serde_json::Value::Null);
    report["findings"]
        .as_array()
        .map(|findings| {
            findings
                .iter()
                .map(|f| f["rule_id"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The gate could not evaluate the image: exit 3, stderr naming `layer`, no finding.
fn assert_fails_closed(output: &Output, layer: &str) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains(layer), "{layer} not named: {stderr}");
    assert!(
        reported_rules(output).is_empty(),
        "findings of an image that was not evaluated: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    stderr
}

/// `layer 1 (sha256:…)`, as errors name it.
fn named(layer: &FakeLayer) -> String {
    format!("layer 1 ({})", layer.digest)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_layered_image_served_faithfully_is_read_and_its_secret_found() {
    let token = github_token();
    let image = two_layers(&token, bulky_layer());
    let server = fake(move |r| image.answer("app", "1", r).unwrap_or(Reply::status(404))).await;
    let host = server.host();
    let facts = fetch_async(
        &format!("docker://{host}/app:1"),
        &reading_layers(&host, LayerLimits::default()),
    )
    .await
    .expect("facts");
    let filesystem = facts.platforms[0].filesystem.as_ref().expect("layers read");
    assert_eq!(filesystem.layers.len(), 2);
    assert!(filesystem.files.contains_key("/srv/blob.bin"));
    let secrets: Vec<(usize, &str)> = filesystem
        .secrets
        .iter()
        .map(|s| (s.layer, s.path.as_str()))
        .collect();
    assert_eq!(secrets, [(0, "/app/.env")]);

    let output = gate(&host, SECRET_POLICY).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(reported_rules(&output), ["PC3009"], "{stdout}");
    assert!(stdout.contains("/app/.env"), "{stdout}");
    assert!(!stdout.contains(&token), "the token is shown: {stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_layer_whose_bytes_do_not_match_its_digest_fails_closed() {
    let faulty = bulky_layer();
    let image = two_layers(&github_token(), faulty.clone());
    // The same size, one byte changed near the end: only the digest tells.
    let mut tampered = faulty.blob.clone();
    let last = tampered.len() - 20;
    tampered[last] ^= 0x55;
    let path = faulty.path("app");
    let server = fake(move |r| {
        if r.path == path {
            return Reply::body(200, "application/octet-stream", &tampered);
        }
        image.answer("app", "1", r).unwrap_or(Reply::status(404))
    })
    .await;
    let host = server.host();
    let target = format!("docker://{host}/app:1");
    let err = expect_err(
        fetch_async(&target, &reading_layers(&host, LayerLimits::default())).await,
        ErrorKind::DigestMismatch,
    );
    let text = err.to_string();
    assert!(text.contains(&named(&faulty)), "{text}");
    assert!(
        text.contains("content does not match its digest") && !text.contains("diff_id"),
        "{text}"
    );

    let stderr = assert_fails_closed(&gate(&host, SECRET_POLICY).await, &named(&faulty));
    assert!(stderr.contains("does not match its digest"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gzip_bomb_stops_at_the_policy_layer_limit() {
    // 8 MiB of zeros in some 8 KiB of gzip; the policy allows 1 MiB a layer.
    let bomb = gzip_bomb(8 << 20);
    assert!(bomb.blob.len() < 16 * 1024, "{} bytes", bomb.blob.len());
    let image = two_layers(&github_token(), bomb.clone());
    let bomb_path = bomb.path("app");
    let server = fake(move |r| image.answer("app", "1", r).unwrap_or(Reply::status(404))).await;
    let host = server.host();
    let target = format!("docker://{host}/app:1");
    let limits = LayerLimits {
        max_layer_bytes: 1 << 20,
        ..LayerLimits::default()
    };
    let err = expect_err(
        fetch_async(&target, &reading_layers(&host, limits)).await,
        ErrorKind::TooLarge,
    );
    let text = err.to_string();
    assert!(text.contains(&named(&bomb)), "{text}");
    assert!(
        text.contains("`layers: max_layer_bytes`") && text.contains("1048576-byte limit"),
        "{text}"
    );

    let limited = format!("{SECRET_POLICY}layers:\n  max_layer_bytes: 1048576\n");
    let stderr = assert_fails_closed(&gate(&host, &limited).await, &named(&bomb));
    // The policy's limit stopped it, not the default one.
    assert!(stderr.contains("1048576-byte limit"), "{stderr}");

    // Within the default limits the same layer is only a large file: read, and layer 0's
    // secret found.
    let output = gate(&host, SECRET_POLICY).await;
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(reported_rules(&output), ["PC3009"]);

    // Without a layer rule, no layer is fetched, whatever the limits.
    let before = server.count(&bomb_path);
    let output = gate(
        &host,
        "version: 1\nextends: none\nrules:\n  non-root-user: on\nlayers:\n  max_layer_bytes: 1\n",
    )
    .await;
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(server.count(&bomb_path), before, "a layer was fetched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_layer_fails_closed() {
    let faulty = bulky_layer();
    let half = faulty.blob[..faulty.blob.len() / 2].to_vec();
    // Content-Length as the descriptor says, the connection closed halfway; then no
    // Content-Length at all, and the body ends halfway.
    let replies = [
        Reply::Truncated {
            declared: faulty.blob.len(),
            body: half.clone(),
        },
        Reply::Closed { body: half },
    ];
    for (i, reply) in replies.into_iter().enumerate() {
        let image = two_layers(&github_token(), faulty.clone());
        let path = faulty.path("app");
        let server = fake(move |r| {
            if r.path == path {
                return reply.clone();
            }
            image.answer("app", "1", r).unwrap_or(Reply::status(404))
        })
        .await;
        let host = server.host();
        let target = format!("docker://{host}/app:1");
        let err = fetch_async(&target, &reading_layers(&host, LayerLimits::default()))
            .await
            .expect_err("a truncated layer is refused");
        let text = err.to_string();
        assert!(text.contains(&named(&faulty)), "reply {i}: {text}");
        let expected = if i == 0 {
            (ErrorKind::Network, "broke off")
        } else {
            (ErrorKind::DigestMismatch, "but its descriptor declares")
        };
        assert_eq!(err.kind(), expected.0, "reply {i}: {text}");
        assert!(text.contains(expected.1), "reply {i}: {text}");

        assert_fails_closed(&gate(&host, SECRET_POLICY).await, &named(&faulty));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_layer_whose_tar_does_not_match_its_diff_id_fails_closed() {
    // The stored bytes are what the manifest says; the config lists another tar's digest.
    let other = Digest::sha256_of(b"another tar").to_string();
    let faulty = bulky_layer().with_diff_id(&other);
    let image = two_layers(&github_token(), faulty.clone());
    let server = fake(move |r| image.answer("app", "1", r).unwrap_or(Reply::status(404))).await;
    let host = server.host();
    let target = format!("docker://{host}/app:1");
    let err = expect_err(
        fetch_async(&target, &reading_layers(&host, LayerLimits::default())).await,
        ErrorKind::DigestMismatch,
    );
    let text = err.to_string();
    assert!(text.contains(&named(&faulty)), "{text}");
    assert!(
        text.contains("its diff_id in the config") && text.contains(&other),
        "{text}"
    );

    let stderr = assert_fails_closed(&gate(&host, SECRET_POLICY).await, &named(&faulty));
    assert!(stderr.contains("diff_id"), "{stderr}");
}
