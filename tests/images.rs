//! Images through the gate: `check docker://…`, `oci:…`, `docker-archive:…` and `--resolve`,
//! against a real registry (Debian's `docker-registry`), images made daemonless with `umoci`,
//! `skopeo` and `buildah`.
//!
//! The registry and image tools are the image-source tests' harness (tests/image/), shared
//! here with `#[path]`. Needs `apt-get install -y docker-registry skopeo umoci buildah`
//! (tests/run.sh installs them); a missing tool fails the test, saying how to install it.

mod dct;
mod layer_rules;
mod layers;
mod notary;
#[path = "image/mod.rs"]
mod support;
mod trust;

use crate::util::{run_in, Run};
use portcullis::image::digest::Digest;
use serde_json::Value;
use std::path::{Path, PathBuf};
use support::registry::{Config, Registry};
use support::tools::{self, ImageSpec};

const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

fn root() -> ImageSpec {
    ImageSpec {
        user: Some("root"),
        ..ImageSpec::default()
    }
}

fn non_root() -> ImageSpec {
    ImageSpec {
        user: Some("65532"),
        ..ImageSpec::default()
    }
}

/// Runs `portcullis ARGS` in `dir`, with the JSON report.
fn check(dir: &Path, args: &[&str]) -> Run {
    let mut all = vec!["check", "--format", "json"];
    all.extend_from_slice(args);
    run_in(dir, &all)
}

/// The findings of `rule` in a JSON report: (message, target, location line).
fn findings_of(run: &Run, rule: &str) -> Vec<(String, String, u64)> {
    run.json()["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule_id"] == rule)
        .map(|f| {
            (
                f["message"].as_str().unwrap_or_default().to_string(),
                f["target"].as_str().unwrap_or_default().to_string(),
                f["location"]["line"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

/// An OCI layout in `dir` with one image per `(tag, spec)`.
fn layout(dir: &Path, images: &[(&str, ImageSpec)]) -> PathBuf {
    let layout = dir.join("layout");
    for (tag, spec) in images {
        tools::umoci_image(&layout, tag, spec);
    }
    layout
}

/// Adds an image index tagged `tag` to `layout`, listing the images tagged in `entries` with
/// their platforms (`linux/arm64/v8`).
fn add_index(layout: &Path, tag: &str, entries: &[(&str, &str)]) {
    let index_path = layout.join("index.json");
    let mut index: Value = serde_json::from_slice(&std::fs::read(&index_path).unwrap()).unwrap();
    let manifests = index["manifests"].as_array().unwrap().clone();
    let mut listed = Vec::new();
    for (image_tag, platform) in entries {
        let mut descriptor = manifests
            .iter()
            .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == *image_tag)
            .unwrap_or_else(|| panic!("no image tagged {image_tag}"))
            .clone();
        let parts: Vec<&str> = platform.split('/').collect();
        let mut platform = serde_json::json!({"os": parts[0], "architecture": parts[1]});
        if let Some(variant) = parts.get(2) {
            platform["variant"] = Value::from(*variant);
        }
        descriptor["platform"] = platform;
        descriptor.as_object_mut().unwrap().remove("annotations");
        listed.push(descriptor);
    }
    let nested = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": listed,
    }))
    .unwrap();
    let digest = Digest::sha256_of(&nested).to_string();
    let hex = digest.trim_start_matches("sha256:");
    std::fs::write(layout.join("blobs/sha256").join(hex), &nested).unwrap();
    index["manifests"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "mediaType": OCI_INDEX,
            "digest": digest,
            "size": nested.len(),
            "annotations": {"org.opencontainers.image.ref.name": tag},
        }));
    std::fs::write(&index_path, serde_json::to_vec(&index).unwrap()).unwrap();
}

#[test]
fn a_root_image_fails_and_a_pinned_non_root_image_passes_with_a_policy() {
    let registry = Registry::start(Config::default());
    let dir = tempfile::tempdir().unwrap();
    let layout = layout(dir.path(), &[("root", root()), ("ok", non_root())]);
    registry.push(&layout, "root", "app:1", &[]);
    registry.push(&layout, "ok", "ok:1", &[]);
    let insecure = ["--insecure-registry", registry.host.as_str()];

    let target = registry.target("app:1");
    let run = check(dir.path(), &[&insecure[..], &[target.as_str()]].concat());
    assert_eq!(run.code, 1, "{run:?}");
    let root = findings_of(&run, "PC1004");
    assert_eq!(root.len(), 1, "{run:?}");
    assert!(root[0].0.contains("runs as root"), "{root:?}");
    assert!(root[0].0.contains("[linux/amd64 sha256:"), "{root:?}");
    // The target is the reference as written with the digest it resolved to, ready to pin.
    let shown = format!("{}/app:1@sha256:", registry.host);
    assert!(root[0].1.starts_with(&shown), "{root:?}");
    // A tag-only reference is not pinned, though it was resolved.
    let unpinned = findings_of(&run, "PC1003");
    assert_eq!(unpinned.len(), 1, "{run:?}");
    assert!(unpinned[0].0.contains("app:1@sha256:"), "{unpinned:?}");

    // The same image by digest, with a policy allowing the registry: non-root passes.
    let run = check(
        dir.path(),
        &[&insecure[..], &[&registry.target("ok:1")]].concat(),
    );
    let unpinned = findings_of(&run, "PC1003");
    assert_eq!(unpinned.len(), 1, "{run:?}");
    let digest = unpinned[0]
        .1
        .split('@')
        .nth(1)
        .expect("a digest")
        .to_string();
    std::fs::write(
        dir.path().join("policy.yaml"),
        format!(
            "version: 1\nfail_on: medium\nrules:\n  allowed-registries:\n    allow: [\"{}/**\"]\n",
            registry.host
        ),
    )
    .unwrap();
    let pinned = registry.target(&format!("ok@{digest}"));
    let run = check(
        dir.path(),
        &[&insecure[..], &["--policy", "policy.yaml", &pinned]].concat(),
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.json()["findings"], serde_json::json!([]), "{run:?}");
    // Another registry is not allowed.
    std::fs::write(
        dir.path().join("policy.yaml"),
        "version: 1\nrules:\n  allowed-registries:\n    allow: [\"ghcr.io/acme/**\"]\n",
    )
    .unwrap();
    let run = check(
        dir.path(),
        &[&insecure[..], &["--policy", "policy.yaml", &pinned]].concat(),
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(findings_of(&run, "PC1001").len(), 1, "{run:?}");
}

#[test]
fn an_index_is_judged_per_platform() {
    let registry = Registry::start(Config::default());
    let dir = tempfile::tempdir().unwrap();
    let arm64 = ImageSpec {
        architecture: "arm64",
        ..non_root()
    };
    let layout = layout(dir.path(), &[("amd64", root()), ("arm64", arm64)]);
    add_index(
        &layout,
        "multi",
        &[("amd64", "linux/amd64"), ("arm64", "linux/arm64/v8")],
    );
    tools::skopeo_copy(
        &format!("oci:{}:multi", layout.display()),
        &format!("docker://{}/multi:1", registry.host),
        &["--all"],
    );
    let insecure = ["--insecure-registry", registry.host.as_str()];
    let target = registry.target("multi:1");

    let run = check(dir.path(), &[&insecure[..], &[target.as_str()]].concat());
    assert_eq!(run.code, 1, "{run:?}");
    let root = findings_of(&run, "PC1004");
    assert_eq!(root.len(), 1, "only amd64 runs as root: {run:?}");
    assert!(root[0].0.contains("[linux/amd64 sha256:"), "{root:?}");
    // The platform's own manifest digest is named, not the index's.
    let index_digest = root[0].1.split('@').nth(1).unwrap().to_string();
    assert!(!root[0].0.contains(&index_digest), "{root:?}");
    // Every platform is judged: the default 8080 port and env are fine, so PC1003 (the
    // reference, judged once) is the only other finding.
    assert_eq!(findings_of(&run, "PC1003").len(), 1, "{run:?}");

    // A rule that fails on both platforms reports each, with different fingerprints.
    std::fs::write(
        dir.path().join("policy.yaml"),
        "version: 1\nrules:\n  forbidden-exposed-port:\n    ports: [\"8080\"]\n",
    )
    .unwrap();
    let run = check(
        dir.path(),
        &[&insecure[..], &["--policy", "policy.yaml", &target]].concat(),
    );
    let ports: Vec<Value> = run.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "PC3001")
        .cloned()
        .collect();
    assert_eq!(ports.len(), 2, "{run:?}");
    assert!(ports[0]["message"]
        .as_str()
        .unwrap()
        .contains("linux/amd64"));
    assert!(ports[1]["message"]
        .as_str()
        .unwrap()
        .contains("linux/arm64/v8"));
    assert_ne!(ports[0]["fingerprint"], ports[1]["fingerprint"]);

    // --platform judges only the one asked for.
    let run = check(
        dir.path(),
        &[&insecure[..], &["--platform", "linux/arm64", &target]].concat(),
    );
    assert!(findings_of(&run, "PC1004").is_empty(), "{run:?}");
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn oci_layouts_and_docker_archives_are_judged_without_reference_rules() {
    let dir = tempfile::tempdir().unwrap();
    let layout = layout(dir.path(), &[("root", root()), ("ok", non_root())]);
    let archive = dir.path().join("app.tar");
    tools::skopeo_copy(
        &format!("oci:{}:root", layout.display()),
        &format!("docker-archive:{}:example.com/app:1", archive.display()),
        &[],
    );
    let oci_root = format!("oci:{}:root", layout.display());
    let oci_ok = format!("oci:{}:ok", layout.display());
    let archived = format!("docker-archive:{}", archive.display());

    let run = check(dir.path(), &[oci_root.as_str(), &archived]);
    assert_eq!(run.code, 1, "{run:?}");
    let root = findings_of(&run, "PC1004");
    assert_eq!(root.len(), 2, "{run:?}");
    assert!(root
        .iter()
        .any(|f| f.1.starts_with(&format!("{oci_root}@sha256:"))));
    assert!(root
        .iter()
        .any(|f| f.1.starts_with(&format!("{archived}@sha256:"))));
    // No registry reference: the reference rules do not judge local images.
    for rule in ["PC1001", "PC1002", "PC1003"] {
        assert!(findings_of(&run, rule).is_empty(), "{rule}: {run:?}");
    }

    let run = check(dir.path(), &[oci_ok.as_str()]);
    assert_eq!(run.code, 0, "{run:?}");

    // --image-list: one target a line, comments and blank lines skipped.
    std::fs::write(
        dir.path().join("images.txt"),
        format!("# images to gate\n\n{oci_ok}\n  {archived}  \n"),
    )
    .unwrap();
    let run = run_in(dir.path(), &["check", "--image-list", "images.txt"]);
    assert!(run.stdout.contains("2 targets checked"), "{run:?}");
    assert_eq!(run.code, 1, "the archive runs as root: {run:?}");

    // An exception by image glob waives a local image's finding.
    std::fs::write(
        dir.path().join("policy.yaml"),
        format!(
            "version: 1\nexceptions:\n  - rules: [non-root-user]\n    images: [\"{archived}\"]\n    reason: legacy\n"
        ),
    )
    .unwrap();
    let run = check(dir.path(), &["--policy", "policy.yaml", &archived]);
    assert!(findings_of(&run, "PC1004").is_empty(), "{run:?}");
}

#[test]
fn an_unreachable_registry_exits_3_unless_on_error_warn() {
    let dir = tempfile::tempdir().unwrap();
    // A port nothing listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let target = format!("docker://127.0.0.1:{port}/app:1");
    let insecure = format!("127.0.0.1:{port}");
    let run = check(dir.path(), &["--insecure-registry", &insecure, &target]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("could not evaluate"), "{run:?}");
    assert!(
        run.stderr.contains("refused"),
        "the reason is given: {run:?}"
    );

    std::fs::write(dir.path().join("warn.yaml"), "version: 1\non_error: warn\n").unwrap();
    let run = check(
        dir.path(),
        &[
            "--policy",
            "warn.yaml",
            "--insecure-registry",
            &insecure,
            &target,
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let notes = run.json()["notes"].to_string();
    assert!(notes.contains("could not evaluate"), "{run:?}");

    // An invalid image target is a usage error, not a fetch failure.
    let run = check(dir.path(), &["docker://Not A Reference"]);
    assert_eq!(run.code, 2, "{run:?}");
}

/// Writes `bytes` as a blob of `layout` and returns its digest.
fn put_blob(layout: &Path, bytes: &[u8]) -> String {
    let digest = Digest::sha256_of(bytes).to_string();
    let hex = digest.trim_start_matches("sha256:");
    std::fs::write(layout.join("blobs/sha256").join(hex), bytes).unwrap();
    digest
}

#[test]
fn a_config_go_would_read_differently_is_refused_not_judged() {
    // Docker and containerd read `"user": "0"` after `"User": "65532"` as UID 0 (Go's JSON
    // matches keys case-insensitively, the last one wins); serde alone would see 65532.
    let dir = tempfile::tempdir().unwrap();
    let layout = layout(dir.path(), &[("ok", non_root())]);
    let index_path = layout.join("index.json");
    let mut index: Value = serde_json::from_slice(&std::fs::read(&index_path).unwrap()).unwrap();
    let entry = index["manifests"][0].clone();
    let blob = |digest: &Value| {
        let hex = digest.as_str().unwrap().trim_start_matches("sha256:");
        std::fs::read(layout.join("blobs/sha256").join(hex)).unwrap()
    };
    let mut manifest: Value = serde_json::from_slice(&blob(&entry["digest"])).unwrap();
    let config = String::from_utf8(blob(&manifest["config"]["digest"])).unwrap();
    assert!(config.contains(r#""User":"65532""#), "{config}");
    let tampered = config.replace(r#""User":"65532""#, r#""User":"65532","user":"0""#);
    manifest["config"]["digest"] = Value::from(put_blob(&layout, tampered.as_bytes()));
    manifest["config"]["size"] = Value::from(tampered.len());
    let manifest = serde_json::to_vec(&manifest).unwrap();
    let mut tampered_entry = entry.clone();
    tampered_entry["digest"] = Value::from(put_blob(&layout, &manifest));
    tampered_entry["size"] = Value::from(manifest.len());
    tampered_entry["annotations"]["org.opencontainers.image.ref.name"] = Value::from("tampered");
    index["manifests"]
        .as_array_mut()
        .unwrap()
        .push(tampered_entry);
    std::fs::write(&index_path, serde_json::to_vec(&index).unwrap()).unwrap();

    let ok = check(dir.path(), &[&format!("oci:{}:ok", layout.display())]);
    assert_eq!(ok.code, 0, "{ok:?}");
    let run = check(dir.path(), &[&format!("oci:{}:tampered", layout.display())]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stderr
            .contains("key `config.user` is not `config.User`"),
        "{run:?}"
    );
}

#[test]
fn resolve_lets_the_base_images_user_decide_non_root_user() {
    let registry = Registry::start(Config::default());
    let dir = tempfile::tempdir().unwrap();
    let layout = layout(dir.path(), &[("root", root()), ("nonroot", non_root())]);
    registry.push(&layout, "nonroot", "static:nonroot", &[]);
    registry.push(&layout, "root", "base:root", &[]);
    let host = registry.host.clone();
    std::fs::write(
        dir.path().join("Dockerfile"),
        format!("FROM golang:1.22 AS build\nRUN go build\nFROM {host}/static:nonroot\nCOPY --from=build /app /app\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("Root.Dockerfile"),
        format!("FROM {host}/base:root\nCOPY app /app\n"),
    )
    .unwrap();
    let insecure = ["--insecure-registry", host.as_str()];

    // Without --resolve, a final stage without USER is reported.
    let run = check(dir.path(), &["Dockerfile"]);
    assert_eq!(findings_of(&run, "PC1004").len(), 1, "{run:?}");

    let run = check(
        dir.path(),
        &[
            &insecure[..],
            &["--resolve", "Dockerfile", "Root.Dockerfile"],
        ]
        .concat(),
    );
    let user = findings_of(&run, "PC1004");
    assert_eq!(user.len(), 1, "only the root base fails: {run:?}");
    assert_eq!(user[0].1, "Root.Dockerfile");
    assert_eq!(user[0].2, 1, "reported at the FROM line: {user:?}");
    assert!(user[0].0.contains("base image"), "{user:?}");
    // The base's exposed port (the default 8080) is fine; its other image rules ran quietly.
    assert!(findings_of(&run, "PC3001").is_empty(), "{run:?}");

    // The policy's `resolve: true` does the same; a base that cannot be fetched is exit 3.
    std::fs::write(
        dir.path().join("resolve.yaml"),
        "version: 1\nresolve: true\n",
    )
    .unwrap();
    let run = check(
        dir.path(),
        &[&insecure[..], &["--policy", "resolve.yaml", "Dockerfile"]].concat(),
    );
    assert!(findings_of(&run, "PC1004").is_empty(), "{run:?}");
    drop(registry);
    let run = check(
        dir.path(),
        &[&insecure[..], &["--policy", "resolve.yaml", "Dockerfile"]].concat(),
    );
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("base image"), "{run:?}");
}

#[test]
fn resolve_expands_user_variables_with_the_base_images_env() {
    // .NET images set APP_UID=1654 and no USER; their samples end with `USER $APP_UID`.
    let registry = Registry::start(Config::default());
    let dir = tempfile::tempdir().unwrap();
    let base = |uid: &'static str| ImageSpec {
        user: None,
        env: vec![uid, "DOTNET_VERSION=9.0.0"],
        ..ImageSpec::default()
    };
    let layout = layout(
        dir.path(),
        &[("app", base("APP_UID=1654")), ("zero", base("APP_UID=0"))],
    );
    registry.push(&layout, "app", "dotnet/aspnet:9.0", &[]);
    registry.push(&layout, "zero", "dotnet/aspnet:zero", &[]);
    let host = registry.host.clone();
    for (file, tag) in [("Dockerfile", "9.0"), ("Zero.Dockerfile", "zero")] {
        std::fs::write(
            dir.path().join(file),
            format!("FROM {host}/dotnet/aspnet:{tag}\nCOPY app /app\nUSER $APP_UID\n"),
        )
        .unwrap();
    }
    let insecure = ["--insecure-registry", host.as_str()];

    // Without --resolve the value is unknown, and the gate says so (it fails closed).
    let run = check(dir.path(), &["Dockerfile"]);
    let user = findings_of(&run, "PC1004");
    assert_eq!(user.len(), 1, "{run:?}");
    assert!(
        user[0].0.contains("cannot tell") && user[0].0.contains("--resolve"),
        "{user:?}"
    );

    // With it, the image's value decides: 1654 passes, 0 is root.
    let run = check(
        dir.path(),
        &[
            &insecure[..],
            &["--resolve", "Dockerfile", "Zero.Dockerfile"],
        ]
        .concat(),
    );
    assert!(run.code == 0 || run.code == 1, "{run:?}");
    let user = findings_of(&run, "PC1004");
    assert_eq!(user.len(), 1, "only the base with APP_UID=0 fails: {run:?}");
    assert_eq!(user[0].1, "Zero.Dockerfile");
    assert_eq!(user[0].2, 3, "reported at the USER line: {user:?}");
    assert!(user[0].0.contains("resolved to `0`"), "{user:?}");
}

/// Builds `context/Dockerfile` with buildah (daemonless: vfs storage, chroot isolation) and
/// exports the image as `oci:DIR:app`.
fn buildah_build(work: &Path, context: &Path) -> String {
    tools::require("buildah");
    let storage = |sub: &str| work.join(sub).to_string_lossy().to_string();
    let (root, runroot) = (storage("buildah-root"), storage("buildah-run"));
    let base = [
        "--root",
        root.as_str(),
        "--runroot",
        runroot.as_str(),
        "--storage-driver",
        "vfs",
    ];
    let context_dir = context.to_string_lossy().to_string();
    let dockerfile = context.join("Dockerfile").to_string_lossy().to_string();
    let build = [
        "bud",
        "--isolation",
        "chroot",
        "--quiet",
        "-t",
        "localhost/portcullis-test:1",
        "-f",
        dockerfile.as_str(),
        context_dir.as_str(),
    ];
    tools::run("buildah", &[&base[..], &build[..]].concat());
    let out = work.join("built");
    let destination = format!("oci:{}:app", out.display());
    let push = [
        "push",
        "--quiet",
        "localhost/portcullis-test:1",
        destination.as_str(),
    ];
    tools::run("buildah", &[&base[..], &push[..]].concat());
    destination
}

#[test]
fn a_dockerfile_and_the_image_buildah_builds_from_it_agree_on_non_root_user() {
    for (user_line, runs_as_root) in [("USER 65532:65532\n", false), ("", true)] {
        let work = tempfile::tempdir().unwrap();
        let context = work.path().join("context");
        std::fs::create_dir_all(&context).unwrap();
        std::fs::write(context.join("app"), "#!/bin/true\n").unwrap();
        std::fs::write(
            context.join("Dockerfile"),
            format!("FROM scratch\nCOPY app /app\n{user_line}EXPOSE 8080\nCMD [\"/app\"]\n"),
        )
        .unwrap();
        let image = buildah_build(work.path(), &context);
        let dockerfile = context.join("Dockerfile").to_string_lossy().to_string();

        let run = check(work.path(), &[dockerfile.as_str(), &image]);
        let verdicts: Vec<String> = findings_of(&run, "PC1004")
            .into_iter()
            .map(|(_, target, _)| target)
            .collect();
        let on_dockerfile = verdicts.iter().any(|t| t.ends_with("Dockerfile"));
        let on_image = verdicts.iter().any(|t| t.starts_with("oci:"));
        assert_eq!(on_dockerfile, runs_as_root, "Dockerfile verdict: {run:?}");
        assert_eq!(on_image, runs_as_root, "image verdict: {run:?}");
        assert_eq!(run.code, if runs_as_root { 1 } else { 0 }, "{run:?}");
    }
}
