//! The Notary client's walk, over a [`Store`] of metadata files: root (from the pin, through
//! every versioned root), timestamp, snapshot, targets, delegations, then the tag.
//!
//! Two ways to fail: [`Failure::Refused`] when the trust data says no or cannot be trusted
//! (a root the pin does not reach, a bad signature, an expired file, a hash that does not
//! match, the tag absent: a finding), and [`Failure::Broken`] when it cannot be read at all
//! (the server unreachable, a file that does not parse: the image is not evaluated).

use super::tuf::{self, FileMeta, Key, Meta, Role, Root, Signed, Targets};
use super::{cn_matches, Admission, NotaryPolicy, Pin};
use sha2::{Digest, Sha256, Sha512};
use std::collections::BTreeMap;
use std::future::Future;

/// Most versions of a root walked from the pinned one to the newest.
const MAX_ROOT_VERSIONS: i64 = 256;
/// Largest root or timestamp file read; snapshot, targets and delegations are read no
/// further than the length the file above them records.
pub(crate) const MAX_ROOT_BYTES: u64 = 1024 * 1024;
pub(crate) const MAX_TIMESTAMP_BYTES: u64 = 1024 * 1024;
pub(crate) const MAX_METADATA_BYTES: u64 = 32 * 1024 * 1024;
/// Most delegated roles read for one image.
const MAX_DELEGATIONS: usize = 64;

/// Why a tag was not admitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The trust data refuses the image, or cannot be trusted: a finding.
    Refused(String),
    /// The trust data cannot be read: the image is not evaluated.
    Broken(String),
}

/// Where metadata files come from: `name` is `root`, `3.root`, `timestamp`, `snapshot`,
/// `targets`, `targets/releases`. `Ok(None)` when the server has no such file.
pub(crate) trait Store: Sync {
    fn get(
        &self,
        name: &str,
        max: u64,
    ) -> impl Future<Output = Result<Option<Vec<u8>>, Failure>> + Send;
}

/// What is asked of one image.
#[derive(Debug, Clone)]
pub(crate) struct Question<'a> {
    /// The GUN: the image's repository, fully qualified (`registry/repository`).
    pub gun: &'a str,
    /// The tag the reference names; `None` for a reference by digest only.
    pub tag: Option<&'a str>,
    /// The manifest admitted: its SHA-256 (hex) and length.
    pub sha256_hex: &'a str,
    pub length: u64,
    /// Unix seconds, for expiry.
    pub now: i64,
}

/// Verified trust data of one GUN: the roles read, in the order a tag is looked up.
pub(crate) struct Repository {
    root_version: i64,
    /// `targets` and each delegated role read, with the path prefixes of the role and of every
    /// role above it (a target must be within all of them).
    roles: BTreeMap<String, (Signed<Targets>, Vec<Vec<String>>)>,
}

/// Answers `question` from the trust data in `store`, as `policy` requires.
#[cfg(test)]
pub(crate) async fn verify<S: Store>(
    store: &S,
    policy: &NotaryPolicy,
    question: &Question<'_>,
) -> Result<Admission, Failure> {
    let repository = load(store, policy, question).await?;
    admit(&repository, policy, question)
}

pub(crate) async fn load<S: Store>(
    store: &S,
    policy: &NotaryPolicy,
    question: &Question<'_>,
) -> Result<Repository, Failure> {
    let root = trusted_root(store, &policy.pin, question).await?;
    let role = |name: &str| -> Result<Role, Failure> {
        root.body
            .role(name)
            .ok_or_else(|| Failure::Refused(format!("the trusted root names no `{name}` role")))
    };

    let bytes = required(store, "timestamp", MAX_TIMESTAMP_BYTES).await?;
    let timestamp: Signed<Meta> = parse(&bytes, "timestamp", "Timestamp")?;
    check_role(&timestamp, &role("timestamp")?, "timestamp", question.now)?;

    let snapshot_meta = listed(&timestamp.body, "snapshot", "timestamp")?;
    let bytes = listed_file(store, "snapshot", snapshot_meta, "timestamp").await?;
    let snapshot: Signed<Meta> = parse(&bytes, "snapshot", "Snapshot")?;
    check_role(&snapshot, &role("snapshot")?, "snapshot", question.now)?;
    check_version(snapshot_meta, snapshot.body.common.version, "snapshot")?;

    let targets_meta = listed(&snapshot.body, "targets", "snapshot")?;
    let bytes = listed_file(store, "targets", targets_meta, "snapshot").await?;
    let targets: Signed<Targets> = parse(&bytes, "targets", "Targets")?;
    check_role(&targets, &role("targets")?, "targets", question.now)?;
    check_version(targets_meta, targets.body.common.version, "targets")?;

    let mut roles = BTreeMap::new();
    roles.insert("targets".to_string(), (targets, Vec::new()));
    let wanted: Vec<String> = if policy.delegations.is_empty() {
        vec![super::RELEASES_ROLE.to_string()]
    } else {
        policy.delegations.clone()
    };
    for name in &wanted {
        load_delegation(store, &snapshot.body, name, question.now, &mut roles).await?;
    }
    Ok(Repository {
        root_version: root.body.common.version,
        roles,
    })
}

/// Reads the delegated role `name` (and the roles above it), each signed by the keys its
/// parent delegates to it. A role that is not delegated, or not published, is left out.
async fn load_delegation<S: Store>(
    store: &S,
    snapshot: &Meta,
    name: &str,
    now: i64,
    roles: &mut BTreeMap<String, (Signed<Targets>, Vec<Vec<String>>)>,
) -> Result<(), Failure> {
    // The chain from `targets` down: targets/a, targets/a/b.
    let mut chain = Vec::new();
    let mut current = name;
    while let Some((parent, _)) = current.rsplit_once('/') {
        chain.push(current.to_string());
        current = parent;
    }
    if current != "targets" || chain.is_empty() {
        return Err(Failure::Refused(format!(
            "`{name}` is not a delegated role (they are named `targets/…`)"
        )));
    }
    chain.reverse();
    for child in chain {
        if roles.contains_key(&child) {
            continue;
        }
        if roles.len() > MAX_DELEGATIONS {
            return Err(Failure::Refused(format!(
                "more than {MAX_DELEGATIONS} delegated roles"
            )));
        }
        let parent_name = child.rsplit_once('/').map(|(p, _)| p).unwrap_or("targets");
        let Some((parent, parent_paths)) = roles.get(parent_name) else {
            return Ok(());
        };
        let Some(delegations) = &parent.body.delegations else {
            return Ok(());
        };
        let Some(delegated) = delegations.roles.iter().find(|r| r.name == child) else {
            return Ok(());
        };
        let Some(meta) = snapshot.meta.get(&child) else {
            return Ok(());
        };
        let role = Role::new(
            &child,
            &delegated.keyids,
            delegated.threshold,
            &delegations.keys,
        );
        let mut paths = parent_paths.clone();
        paths.push(delegated.paths.clone());
        let bytes = listed_file(store, &child, meta, "snapshot").await?;
        let signed: Signed<Targets> = parse(&bytes, &child, "Targets")?;
        check_role(&signed, &role, &child, now)?;
        check_version(meta, signed.body.common.version, &child)?;
        roles.insert(child, (signed, paths));
    }
    Ok(())
}

/// The tag's target, from the roles the policy names (each must sign it) or, by default, as
/// Docker looks it up: `targets/releases`, then `targets`.
pub(crate) fn admit(
    repository: &Repository,
    policy: &NotaryPolicy,
    question: &Question<'_>,
) -> Result<Admission, Failure> {
    let what = match question.tag {
        Some(tag) => format!("tag `{tag}`"),
        None => format!("digest sha256:{}", question.sha256_hex),
    };
    let lookup = |role: &str| -> Result<Option<(String, &FileMeta)>, Failure> {
        let Some((signed, paths)) = repository.roles.get(role) else {
            return Ok(None);
        };
        let within = |name: &str| {
            paths
                .iter()
                .all(|prefixes| prefixes.iter().any(|p| name.starts_with(p.as_str())))
        };
        let found = match question.tag {
            Some(tag) => signed
                .body
                .targets
                .get(tag)
                .filter(|_| within(tag))
                .map(|m| (tag.to_string(), m)),
            None => signed
                .body
                .targets
                .iter()
                .filter(|(name, _)| within(name))
                .find(|(_, m)| matches(m, question))
                .map(|(name, m)| (name.clone(), m)),
        };
        Ok(found)
    };
    if !policy.delegations.is_empty() {
        let mut admitted = None;
        for role in &policy.delegations {
            if !repository.roles.contains_key(role) {
                return Err(Failure::Refused(format!(
                    "the required role `{role}` is not delegated or not published for `{}`",
                    question.gun
                )));
            }
            let Some((name, meta)) = lookup(role)? else {
                return Err(Failure::Refused(format!(
                    "the required role `{role}` does not sign {what}"
                )));
            };
            compare(meta, question, role, &name)?;
            admitted.get_or_insert((role.clone(), name));
        }
        let (_, tag) =
            admitted.ok_or_else(|| Failure::Refused("no role is required".to_string()))?;
        return Ok(Admission {
            role: policy.delegations.join(", "),
            tag,
            root_version: repository.root_version,
        });
    }
    for role in [super::RELEASES_ROLE, "targets"] {
        if let Some((name, meta)) = lookup(role)? {
            compare(meta, question, role, &name)?;
            return Ok(Admission {
                role: role.to_string(),
                tag: name,
                root_version: repository.root_version,
            });
        }
    }
    Err(Failure::Refused(format!(
        "the trust data of `{}` does not sign {what} (looked in `{}` and `targets`)",
        question.gun,
        super::RELEASES_ROLE
    )))
}

fn matches(meta: &FileMeta, question: &Question<'_>) -> bool {
    u64::try_from(meta.length).ok() == Some(question.length)
        && tuf::sha256_of(meta).is_some_and(|h| super::super::hex(&h) == question.sha256_hex)
}

fn compare(
    meta: &FileMeta,
    question: &Question<'_>,
    role: &str,
    name: &str,
) -> Result<(), Failure> {
    let Some(signed) = tuf::sha256_of(meta) else {
        return Err(Failure::Refused(format!(
            "`{role}` signs `{name}` without a SHA-256 hash"
        )));
    };
    let signed_hex = super::super::hex(&signed);
    if signed_hex != question.sha256_hex {
        return Err(Failure::Refused(format!(
            "`{role}` signs `{name}` as sha256:{signed_hex} ({} bytes), but the registry \
             serves sha256:{} ({} bytes)",
            meta.length, question.sha256_hex, question.length
        )));
    }
    if u64::try_from(meta.length).ok() != Some(question.length) {
        return Err(Failure::Refused(format!(
            "`{role}` signs `{name}` with length {}, but the manifest has {} bytes",
            meta.length, question.length
        )));
    }
    Ok(())
}

/// The root to trust: reached from the pin, then rotated forward through each version.
async fn trusted_root<S: Store>(
    store: &S,
    pin: &Pin,
    question: &Question<'_>,
) -> Result<Signed<Root>, Failure> {
    let gun = question.gun;
    let bytes = store.get("root", MAX_ROOT_BYTES).await?.ok_or_else(|| {
        Failure::Refused(format!(
            "the Notary server has no trust data for `{gun}`: it was never signed there"
        ))
    })?;
    let latest: Signed<Root> = parse(&bytes, "root", "Root")?;
    let newest = latest.body.common.version;
    let (mut current, start) = match pin {
        Pin::Root(pinned) => {
            let pinned: Signed<Root> = parse(&pinned.bytes, "the pinned root.json", "Root")?;
            let version = pinned.body.common.version;
            if newest < version {
                return Err(Failure::Refused(format!(
                    "the server's root is version {newest}, older than the pinned version \
                     {version}: a rollback"
                )));
            }
            (pinned, version)
        }
        Pin::Keys(pins) => match pinned_signers(&latest, pins, gun) {
            // The newest root the pins sign; else the first version they do, from 1 up.
            Ok(()) => (latest.clone(), newest),
            Err(why) => {
                let mut anchor = None;
                for version in 1..newest.min(MAX_ROOT_VERSIONS + 1) {
                    let Some(root) = root_version(store, version).await? else {
                        continue;
                    };
                    if root.body.common.version == version
                        && pinned_signers(&root, pins, gun).is_ok()
                    {
                        anchor = Some((root, version));
                        break;
                    }
                }
                anchor.ok_or_else(|| {
                    Failure::Refused(format!(
                        "no root of `{gun}` is signed by the pinned root key{}: {why}; a root \
                         the pin does not reach is not trusted (a man in the middle, or \
                         another repository's trust data)",
                        if pins.len() == 1 { "" } else { "s" },
                    ))
                })?
            }
        },
    };
    if newest - start > MAX_ROOT_VERSIONS {
        return Err(Failure::Refused(format!(
            "the root went from version {start} to {newest}: more than {MAX_ROOT_VERSIONS} \
             rotations to walk"
        )));
    }
    // Each next root: signed by its predecessor's root keys up to their threshold, and by
    // its own. The newest is fetched again as `N.root` only if it is not `root.json` itself.
    let mut version = start;
    while version < newest {
        version += 1;
        let next: Signed<Root> = if version == newest {
            latest.clone()
        } else {
            root_version(store, version).await?.ok_or_else(|| {
                Failure::Refused(format!(
                    "root version {version} of `{gun}` is not served, so the rotation to \
                     {newest} cannot be followed"
                ))
            })?
        };
        if next.body.common.version != version {
            return Err(Failure::Refused(format!(
                "root version {version} says it is version {}",
                next.body.common.version
            )));
        }
        let previous = root_role(&current)?;
        next.verify(&previous).map_err(|e| {
            Failure::Refused(format!(
                "root version {version} is not signed by the keys of version {}: {e}",
                version - 1
            ))
        })?;
        let own = root_role(&next)?;
        next.verify(&own).map_err(|e| {
            Failure::Refused(format!(
                "root version {version} is not signed by its own keys: {e}"
            ))
        })?;
        current = next;
    }
    // The root in force: signed by its own keys, for this GUN, not expired.
    let own = root_role(&current)?;
    current
        .verify(&own)
        .map_err(|e| Failure::Refused(format!("the root of `{gun}` does not verify: {e}")))?;
    check_root_certificates(&current, &own, gun, question.now)?;
    check_expiry(&current.body.common, "root", question.now)?;
    Ok(current)
}

/// The root role of a root, with its keys.
fn root_role(root: &Signed<Root>) -> Result<Role, Failure> {
    root.body
        .role("root")
        .ok_or_else(|| Failure::Refused("a root without a `root` role".into()))
}

/// Root version `version` as the server keeps it (`<version>.root.json`), if it serves it.
async fn root_version<S: Store>(store: &S, version: i64) -> Result<Option<Signed<Root>>, Failure> {
    match store
        .get(&format!("{version}.root"), MAX_ROOT_BYTES)
        .await?
    {
        Some(bytes) => parse(&bytes, &format!("root version {version}"), "Root").map(Some),
        None => Ok(None),
    }
}

/// Whether the pins sign `root` up to its root threshold: signatures by root-role keys that a
/// pin names and whose certificate is for this GUN.
fn pinned_signers(root: &Signed<Root>, pins: &[super::PinnedKey], gun: &str) -> Result<(), String> {
    let Ok(role) = root_role(root) else {
        return Err("it has no root role".into());
    };
    let pinned: Vec<Key> = role
        .keys
        .iter()
        .filter(|k| pins.iter().any(|p| p.matches(k, gun)))
        .filter(|k| {
            k.certificate
                .as_ref()
                .is_none_or(|c| cn_matches(&c.common_name, gun))
        })
        .cloned()
        .collect();
    if pinned.is_empty() {
        let listed: Vec<&str> = role.keys.iter().map(|k| k.canonical_id.as_str()).collect();
        return Err(format!(
            "its root key{} {} {} none of the pinned ones",
            if listed.len() == 1 { "" } else { "s" },
            if listed.is_empty() {
                "(none)".to_string()
            } else {
                listed.join(", ")
            },
            if listed.len() == 1 { "is" } else { "are" }
        ));
    }
    root.verify(&Role {
        name: "root".into(),
        keys: pinned,
        threshold: role.threshold,
    })
}

/// The root role's certificates must name this GUN (Notary's check: a repository's root
/// cannot sign for another) and be valid now. Keys without a certificate are refused as the
/// root key, as Notary refuses them.
fn check_root_certificates(
    root: &Signed<Root>,
    role: &Role,
    gun: &str,
    now: i64,
) -> Result<(), Failure> {
    for key in root.signers(role) {
        let Some(certificate) = &key.certificate else {
            return Err(Failure::Refused(format!(
                "root key {} of `{gun}` is a bare `{}` key; Notary root keys are certificates",
                key.canonical_id, key.keytype
            )));
        };
        if !cn_matches(&certificate.common_name, gun) {
            return Err(Failure::Refused(format!(
                "the root certificate of key {} is for `{}`, not `{gun}`",
                key.canonical_id, certificate.common_name
            )));
        }
        if now < certificate.not_before || now > certificate.not_after {
            return Err(Failure::Refused(format!(
                "the root certificate of key {} is not valid now (valid {} to {})",
                key.canonical_id, certificate.not_before, certificate.not_after
            )));
        }
    }
    Ok(())
}

fn parse<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    what: &str,
    kind: &str,
) -> Result<Signed<T>, Failure> {
    tuf::parse(bytes, kind).map_err(|e| Failure::Broken(format!("{what}.json {e}")))
}

fn check_role<T>(signed: &Signed<T>, role: &Role, what: &str, now: i64) -> Result<(), Failure>
where
    T: HasCommon,
{
    signed
        .verify(role)
        .map_err(|e| Failure::Refused(format!("{what}.json does not verify: {e}")))?;
    check_expiry(signed.body.common(), what, now)
}

fn check_expiry(common: &tuf::Common, what: &str, now: i64) -> Result<(), Failure> {
    let expires = tuf::expiry(common).map_err(|e| Failure::Broken(format!("{what}.json {e}")))?;
    if expires <= now {
        return Err(Failure::Refused(format!(
            "{what}.json expired at {}; expired trust data is refused (a stale or replayed \
             copy)",
            common.expires
        )));
    }
    Ok(())
}

fn check_version(meta: &FileMeta, version: i64, what: &str) -> Result<(), Failure> {
    match meta.version {
        Some(expected) if expected != version => Err(Failure::Refused(format!(
            "{what}.json is version {version}, but the file above it records version {expected}"
        ))),
        _ => Ok(()),
    }
}

fn listed<'m>(meta: &'m Meta, name: &str, by: &str) -> Result<&'m FileMeta, Failure> {
    meta.meta
        .get(name)
        .ok_or_else(|| Failure::Refused(format!("{by}.json does not list `{name}`")))
}

async fn required<S: Store>(store: &S, name: &str, max: u64) -> Result<Vec<u8>, Failure> {
    store
        .get(name, max)
        .await?
        .ok_or_else(|| Failure::Refused(format!("the server does not serve {name}.json")))
}

/// Reads `name` no further than its recorded length, and checks its length and hashes.
async fn listed_file<S: Store>(
    store: &S,
    name: &str,
    meta: &FileMeta,
    by: &str,
) -> Result<Vec<u8>, Failure> {
    let length = u64::try_from(meta.length)
        .ok()
        .filter(|&l| l <= MAX_METADATA_BYTES)
        .ok_or_else(|| {
            Failure::Refused(format!(
                "{by}.json records a length of {} for `{name}` (at most {MAX_METADATA_BYTES})",
                meta.length
            ))
        })?;
    let bytes = required(store, name, length).await?;
    if bytes.len() as u64 != length {
        return Err(Failure::Refused(format!(
            "{name}.json has {} bytes, but {by}.json records {length}",
            bytes.len()
        )));
    }
    let mut checked = 0;
    for (algorithm, expected) in &meta.hashes {
        use base64::Engine as _;
        let actual: Vec<u8> = match algorithm.as_str() {
            "sha256" => Sha256::digest(&bytes).to_vec(),
            "sha512" => Sha512::digest(&bytes).to_vec(),
            _ => continue,
        };
        let expected = base64::engine::general_purpose::STANDARD
            .decode(expected.trim())
            .unwrap_or_default();
        if actual != expected {
            return Err(Failure::Refused(format!(
                "{name}.json does not match the {algorithm} hash {by}.json records"
            )));
        }
        checked += 1;
    }
    if checked == 0 {
        return Err(Failure::Refused(format!(
            "{by}.json records no SHA-256 or SHA-512 hash of `{name}`"
        )));
    }
    Ok(bytes)
}

/// The part every role's `signed` shares.
pub(crate) trait HasCommon {
    fn common(&self) -> &tuf::Common;
}

impl HasCommon for Meta {
    fn common(&self) -> &tuf::Common {
        &self.common
    }
}

impl HasCommon for Targets {
    fn common(&self) -> &tuf::Common {
        &self.common
    }
}
