//! The layer rules through the gate: the test images of tests/image/layers.rs (a leaky image
//! whose secrets later layers delete, a clean image of look-alikes, a two-platform index that
//! leaks on arm64 only), checked from the test registry in gzip, zstd and uncompressed, from
//! an `oci:` layout and a `docker-archive:` — the same findings from each, and no planted
//! value in any report.

use super::support::layers::{self, Compression, Config, Leaky};
use super::support::registry::{Config as RegistryConfig, Registry};
use super::{check, findings_of};
use crate::util::Run;
use std::path::Path;

const LAYER_RULES: &[&str] = &["PC3009", "PC3010", "PC3011", "PC3012", "PC3013"];

fn write_policy(dir: &Path) {
    std::fs::write(
        dir.join("policy.yaml"),
        "version: 1\nextends: none\nrules:\n  secret-in-layer: on\n  sensitive-file-in-image: on\n  setuid-file: on\n  account-without-password: on\n  duplicate-account-id: on\n  non-root-user: on\n",
    )
    .expect("policy");
}

fn run(dir: &Path, target: &str, extra: &[&str]) -> Run {
    let mut args = vec!["--policy", "policy.yaml"];
    args.extend_from_slice(extra);
    args.push(target);
    check(dir, &args)
}

/// (rule, message) of every layer-rule finding, the platform suffix cut, sorted: what must
/// be the same whatever the source.
fn layer_findings(run: &Run) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for rule in LAYER_RULES {
        for (message, _, _) in findings_of(run, rule) {
            // Digests of the blobs differ between compressions: judge the rest.
            let cut = message.split(" [").next().unwrap_or(&message).to_string();
            let cut = cut
                .split("(sha256:")
                .map(|part| part.split_once('…').map_or(part, |(_, rest)| rest))
                .collect::<Vec<_>>()
                .join("(");
            out.push((rule.to_string(), cut));
        }
    }
    out.sort();
    out
}

fn assert_no_value_shown(run: &Run, leaky: &Leaky) {
    for value in leaky.values() {
        assert!(
            !run.stdout.contains(value) && !run.stderr.contains(value),
            "a planted secret is in the report"
        );
    }
}

/// What the leaky image must yield, from any source.
fn assert_leaky(found: &[(String, String)], leaky: &Leaky) {
    let secrets: Vec<&String> = found
        .iter()
        .filter(|(r, _)| r == "PC3009")
        .map(|(_, m)| m)
        .collect();
    for planted in &leaky.planted {
        assert!(
            secrets
                .iter()
                .any(|m| m.contains(&format!("`{}`", planted.path))),
            "no secret-in-layer finding for {} ({}): {secrets:#?}",
            planted.path,
            planted.what
        );
    }
    let deleted = secrets
        .iter()
        .find(|m| m.contains("`/root/.ssh/id_rsa`"))
        .expect("the deleted key");
    assert!(
        deleted.contains("still in layer 2, deleted by layer 3: every layer ships"),
        "{deleted}"
    );
    let messages: Vec<&str> = found.iter().map(|(_, m)| m.as_str()).collect();
    for expected in [
        "`/usr/bin/su-like` is setuid",
        "account `guest` has no password",
        "`/app/.git` is a Git repository",
        "`/home/app/.bash_history` is a shell history",
    ] {
        assert!(
            messages.iter().any(|m| m.contains(expected)),
            "{expected} not in {messages:#?}"
        );
    }
    // The setgid directory is normal; the opaque-deleted `.aws` is not in the final files.
    assert!(
        !messages.iter().any(|m| m.contains("`/srv/shared`")),
        "{messages:#?}"
    );
}

#[test]
fn the_leaky_image_gives_the_same_findings_from_every_source_and_compression() {
    let dir = tempfile::tempdir().expect("tmp");
    write_policy(dir.path());
    let layout = dir.path().join("layout");
    let leaky = layers::leaky_image(&layout, "leaky", Config::default());

    let from_layout = run(dir.path(), &format!("oci:{}:leaky", layout.display()), &[]);
    assert_eq!(from_layout.code, 1, "{from_layout:?}");
    let expected = layer_findings(&from_layout);
    assert_leaky(&expected, &leaky);
    assert_no_value_shown(&from_layout, &leaky);

    let archive = dir.path().join("leaky.tar");
    layers::to_docker_archive(&layout, "leaky", &archive, "leaky:1");
    let from_archive = run(
        dir.path(),
        &format!("docker-archive:{}", archive.display()),
        &[],
    );
    assert_eq!(layer_findings(&from_archive), expected, "docker-archive");

    for compression in [
        Compression::Gzip,
        Compression::Zstd,
        Compression::Uncompressed,
    ] {
        // A registry of its own per compression: skopeo's blob-info cache cannot swap a
        // layer for another compression of it the registry already holds.
        let registry = Registry::start(RegistryConfig::default());
        layers::push(&registry, &layout, "leaky", "leaky:1", compression);
        let served = layers::served_layers(&registry, "leaky", "1", None);
        assert!(
            served.iter().all(|l| l.sniffed == Some(compression)),
            "{compression:?}: {served:?}"
        );
        let target = format!("docker://{}/leaky:1", registry.host);
        let from_registry = run(
            dir.path(),
            &target,
            &["--insecure-registry", &registry.host],
        );
        assert_eq!(from_registry.code, 1, "{from_registry:?}");
        assert_eq!(layer_findings(&from_registry), expected, "{compression:?}");
        assert_no_value_shown(&from_registry, &leaky);
    }
}

#[test]
fn the_clean_image_of_look_alikes_has_no_secret() {
    let dir = tempfile::tempdir().expect("tmp");
    write_policy(dir.path());
    let layout = dir.path().join("layout");
    layers::clean_image(&layout, "clean", Config::default());
    let run = run(dir.path(), &format!("oci:{}:clean", layout.display()), &[]);
    // Its `.env` holds only placeholders — no secret — but an `.env` file does not belong in
    // an image whatever it holds (medium, under the `high` fail_on: the run passes).
    assert_eq!(run.code, 0, "{run:?}");
    let found = layer_findings(&run);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].0, "PC3010");
    assert!(
        found[0].1.starts_with("`/app/.env` is an environment file"),
        "{found:?}"
    );
}

#[test]
fn only_the_platform_that_leaks_is_reported_and_named() {
    let dir = tempfile::tempdir().expect("tmp");
    write_policy(dir.path());
    let layout = dir.path().join("layout");
    layers::multi_platform_image(&layout, "multi");
    let run = run(dir.path(), &format!("oci:{}:multi", layout.display()), &[]);
    assert_eq!(run.code, 1, "{run:?}");
    let secrets = findings_of(&run, "PC3009");
    assert!(!secrets.is_empty());
    for (message, _, _) in &secrets {
        assert!(message.contains("[linux/arm64 "), "{message}");
        assert!(!message.contains("linux/amd64"), "{message}");
    }
}

#[test]
fn without_a_layer_rule_no_layer_is_read() {
    // The image's layer blobs removed from its layout: a policy without layer rules never
    // notices; one with a layer rule cannot evaluate the image (exit 3), never a pass.
    let dir = tempfile::tempdir().expect("tmp");
    let layout = dir.path().join("layout");
    layers::leaky_image(&layout, "leaky", Config::default());
    let blob = |digest: &str| {
        layout
            .join("blobs/sha256")
            .join(digest.trim_start_matches("sha256:"))
    };
    let json = |path: std::path::PathBuf| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(path).expect("read")).expect("json")
    };
    let index = json(layout.join("index.json"));
    let manifest = json(blob(
        index["manifests"][0]["digest"].as_str().expect("digest"),
    ));
    for layer in manifest["layers"].as_array().expect("layers") {
        std::fs::remove_file(blob(layer["digest"].as_str().expect("digest"))).expect("remove");
    }
    let target = format!("oci:{}:leaky", layout.display());
    std::fs::write(
        dir.path().join("policy.yaml"),
        "version: 1\nextends: none\nrules:\n  non-root-user: on\n",
    )
    .expect("policy");
    let without = run(dir.path(), &target, &[]);
    assert_eq!(without.code, 0, "{without:?}");
    write_policy(dir.path());
    let with = run(dir.path(), &target, &[]);
    assert_eq!(with.code, 3, "{with:?}");
}
