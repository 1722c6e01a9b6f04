//! The verifier over trust data in memory. Signed fixtures come from tests/trust/tuf.py (an
//! independent writer on Python's `cryptography`), see tests/trust/fixtures/make.sh.

use super::verify::{verify, Failure, Question, Store};
use super::*;
use std::collections::BTreeMap;

/// Metadata files by name (`root`, `2.root`, `targets/releases`), served as a Notary would.
#[derive(Default)]
pub(super) struct Memory(pub BTreeMap<String, Vec<u8>>);

impl Store for Memory {
    async fn get(&self, name: &str, max: u64) -> Result<Option<Vec<u8>>, Failure> {
        match self.0.get(name) {
            Some(bytes) if bytes.len() as u64 > max => {
                Err(Failure::Refused(format!("{name}.json is too large")))
            }
            found => Ok(found.cloned()),
        }
    }
}

pub(super) fn run(
    store: &Memory,
    policy: &NotaryPolicy,
    question: &Question<'_>,
) -> Result<Admission, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
        .block_on(verify(store, policy, question))
}

fn policy(pin: Pin) -> NotaryPolicy {
    NotaryPolicy {
        server: "https://notary.test".into(),
        ca_pem: None,
        ca_file: None,
        pin,
        delegations: Vec::new(),
    }
}

const QUESTION: Question<'static> = Question {
    gun: "registry.test/app",
    tag: Some("1"),
    sha256_hex: "00",
    length: 1,
    now: 1_800_000_000,
};

#[test]
fn no_trust_data_is_a_refusal_and_unreadable_data_is_broken() {
    let pin = Pin::Keys(vec![PinnedKey::from_id(&"ab".repeat(32)).unwrap()]);
    let refused = run(&Memory::default(), &policy(pin.clone()), &QUESTION).unwrap_err();
    assert!(
        matches!(&refused, Failure::Refused(m) if m.contains("has no trust data")),
        "{refused:?}"
    );
    let mut store = Memory::default();
    store.0.insert("root".into(), b"<html>".to_vec());
    let broken = run(&store, &policy(pin.clone()), &QUESTION).unwrap_err();
    assert!(
        matches!(&broken, Failure::Broken(m) if m.contains("root.json is not JSON")),
        "{broken:?}"
    );
    store.0.insert(
        "root".into(),
        br#"{"signed": {"_type": "Targets"}, "signatures": []}"#.to_vec(),
    );
    let broken = run(&store, &policy(pin), &QUESTION).unwrap_err();
    assert!(
        matches!(&broken, Failure::Broken(m) if m.contains("not `Root`")),
        "{broken:?}"
    );
}

#[test]
fn pins_are_key_ids_or_pem_keys_and_certificates() {
    assert!(PinnedKey::from_id(&"AB".repeat(32)).is_some());
    for not_an_id in ["ab", &"g".repeat(64), &"ab".repeat(33)] {
        assert!(PinnedKey::from_id(not_an_id).is_none(), "{not_an_id}");
    }
    let err = PinnedKey::from_pem(
        "k.pem",
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    )
    .unwrap_err();
    assert!(err.contains("`CERTIFICATE` or `PUBLIC KEY`"), "{err}");
    assert!(PinnedKey::from_pem("k.pem", "not pem").is_err());
}

#[test]
fn common_names_match_the_gun_or_a_wildcard_prefix() {
    assert!(cn_matches("registry.test/app", "registry.test/app"));
    assert!(cn_matches("registry.test/*", "registry.test/app"));
    assert!(!cn_matches("registry.test/app", "registry.test/app2"));
    assert!(!cn_matches("registry.test/other", "registry.test/app"));
    assert!(!cn_matches("other.test/*", "registry.test/app"));
}

/// tests/trust/fixtures/notary: `registry.test/app`, tag `1` in `targets`, `2` in
/// `targets/releases`, written by tuf.py.
fn fixture() -> Memory {
    let mut store = Memory::default();
    for (name, bytes) in [
        (
            "root",
            &include_bytes!("../../../tests/trust/fixtures/notary/root.json")[..],
        ),
        (
            "1.root",
            include_bytes!("../../../tests/trust/fixtures/notary/1.root.json"),
        ),
        (
            "timestamp",
            include_bytes!("../../../tests/trust/fixtures/notary/timestamp.json"),
        ),
        (
            "snapshot",
            include_bytes!("../../../tests/trust/fixtures/notary/snapshot.json"),
        ),
        (
            "targets",
            include_bytes!("../../../tests/trust/fixtures/notary/targets.json"),
        ),
        (
            "targets/releases",
            include_bytes!("../../../tests/trust/fixtures/notary/targets/releases.json"),
        ),
    ] {
        store.0.insert(name.to_string(), bytes.to_vec());
    }
    store
}

fn root_certificate() -> PinnedKey {
    PinnedKey::from_pem(
        "root.crt",
        include_str!("../../../tests/trust/fixtures/notary/root.crt"),
    )
    .unwrap()
}

/// When the fixtures were written (2026-12-08): their timestamp expires 14 days later.
const WRITTEN: i64 = 1_796_693_000;

fn ask(tag: Option<&'static str>, hex: &'static str, length: u64) -> Question<'static> {
    Question {
        gun: "registry.test/app",
        tag,
        sha256_hex: hex,
        length,
        now: WRITTEN,
    }
}

const TAG_1: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const TAG_2: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

fn refused(result: Result<Admission, Failure>) -> String {
    match result {
        Err(Failure::Refused(why)) => why,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// Re-serialises a JSON file after `edit`: what a lying server could send.
fn edited(bytes: &[u8], edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut value: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    edit(&mut value);
    serde_json::to_vec(&value).unwrap()
}

#[test]
fn tags_are_admitted_from_releases_then_targets_as_docker_looks_them_up() {
    let store = fixture();
    let pin = policy(Pin::Keys(vec![root_certificate()]));
    let admitted = run(&store, &pin, &ask(Some("1"), TAG_1, 345)).unwrap();
    assert_eq!(
        (admitted.role.as_str(), admitted.tag.as_str()),
        ("targets", "1")
    );
    let admitted = run(&store, &pin, &ask(Some("2"), TAG_2, 678)).unwrap();
    assert_eq!(admitted.role, RELEASES_ROLE);
    // By digest: any tag that signs it.
    let admitted = run(&store, &pin, &ask(None, TAG_2, 678)).unwrap();
    assert_eq!(admitted.tag, "2");
    // The wrong length, the wrong digest, an absent tag.
    assert!(refused(run(&store, &pin, &ask(Some("1"), TAG_1, 346))).contains("length 345"));
    assert!(refused(run(&store, &pin, &ask(Some("1"), TAG_2, 345)))
        .contains("signs `1` as sha256:aaaa"));
    assert!(
        refused(run(&store, &pin, &ask(Some("3"), TAG_1, 345))).contains("does not sign tag `3`")
    );
    // Required roles: the delegation signs `2`, not `1`.
    let mut required = pin.clone();
    required.delegations = vec![RELEASES_ROLE.to_string()];
    assert!(run(&store, &required, &ask(Some("2"), TAG_2, 678)).is_ok());
    assert!(refused(run(&store, &required, &ask(Some("1"), TAG_1, 345)))
        .contains("does not sign tag `1`"));
}

#[test]
fn the_pin_may_be_either_key_id_or_the_root_json() {
    let store = fixture();
    let root: serde_json::Value = serde_json::from_slice(&store.0["root"]).unwrap();
    let x509_id = root["signed"]["roles"]["root"]["keyids"][0]
        .as_str()
        .unwrap()
        .to_string();
    let key = tuf::key(&serde_json::from_value(root["signed"]["keys"][&x509_id].clone()).unwrap())
        .unwrap();
    assert_eq!(key.id, x509_id);
    assert_ne!(key.canonical_id, key.id);
    for id in [&key.id, &key.canonical_id] {
        let pin = policy(Pin::Keys(vec![PinnedKey::from_id(id).unwrap()]));
        assert!(
            run(&store, &pin, &ask(Some("1"), TAG_1, 345)).is_ok(),
            "{id}"
        );
    }
    let pinned = PinnedRoot::new("root.json", store.0["root"].clone()).unwrap();
    assert!(run(
        &store,
        &policy(Pin::Root(pinned)),
        &ask(Some("1"), TAG_1, 345)
    )
    .is_ok());
    // A key the root does not list.
    let pin = policy(Pin::Keys(vec![
        PinnedKey::from_id(&"cd".repeat(32)).unwrap()
    ]));
    assert!(refused(run(&store, &pin, &ask(Some("1"), TAG_1, 345))).contains("no root of"));
}

#[test]
fn every_tampered_file_is_refused_for_its_reason() {
    let pin = policy(Pin::Keys(vec![root_certificate()]));
    let question = ask(Some("1"), TAG_1, 345);
    type Edit = fn(&mut serde_json::Value);
    let cases: [(&str, Edit, &str); 6] = [
        // A target rewritten: targets.json no longer matches the hash snapshot records.
        (
            "targets",
            |v| v["signed"]["targets"]["1"]["length"] = 346.into(),
            "does not match the sha256",
        ),
        // The timestamp's signature over other content.
        (
            "timestamp",
            |v| v["signed"]["version"] = 2.into(),
            "timestamp.json does not verify",
        ),
        // A signature by a key the role does not have.
        (
            "timestamp",
            |v| v["signatures"][0]["keyid"] = "ab".repeat(32).into(),
            "timestamp.json does not verify",
        ),
        // No signatures at all.
        (
            "root",
            |v| v["signatures"] = serde_json::json!([]),
            "it is not signed",
        ),
        // A root that adds a key and signs with the old one: the content changed, the
        // signature no longer holds.
        (
            "root",
            |v| v["signed"]["roles"]["targets"]["threshold"] = 2.into(),
            "no root of",
        ),
        // A threshold of 0 is never met.
        (
            "root",
            |v| v["signed"]["roles"]["root"]["threshold"] = 0.into(),
            "no root of",
        ),
    ];
    for (file, edit, expected) in cases {
        let mut store = fixture();
        let bytes = edited(&store.0[file], edit);
        store.0.insert(file.to_string(), bytes);
        let why = refused(run(&store, &pin, &question));
        assert!(why.contains(expected), "{file}: {why}");
    }
}

#[test]
fn expiry_and_rollback_are_refused() {
    let store = fixture();
    let pin = policy(Pin::Keys(vec![root_certificate()]));
    let later = Question {
        now: WRITTEN + 15 * 24 * 3600,
        ..ask(Some("1"), TAG_1, 345)
    };
    assert!(refused(run(&store, &pin, &later)).contains("timestamp.json expired at"));
    // A pinned root newer than what the server serves: a rollback.
    let newer = edited(&store.0["root"], |v| v["signed"]["version"] = 2.into());
    let pinned = PinnedRoot {
        file: "root.json".into(),
        bytes: newer,
    };
    let why = refused(run(
        &store,
        &policy(Pin::Root(pinned)),
        &ask(Some("1"), TAG_1, 345),
    ));
    assert!(why.contains("a rollback"), "{why}");
}

#[test]
fn a_certificate_pin_is_for_its_repository_only() {
    let store = fixture();
    let pin = policy(Pin::Keys(vec![root_certificate()]));
    let elsewhere = Question {
        gun: "registry.test/other",
        ..ask(Some("1"), TAG_1, 345)
    };
    assert!(refused(run(&store, &pin, &elsewhere)).contains("no root of `registry.test/other`"));
}
