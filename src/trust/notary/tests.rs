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
