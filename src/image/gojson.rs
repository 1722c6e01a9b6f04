//! Refuses JSON that Go programs would read differently from us.
//!
//! Docker, containerd, the kubelet and the registry decode manifests and configs with Go's
//! `encoding/json`, which matches an object key to a struct field case-insensitively (with
//! Unicode simple folding, so `ſ` is `s` and the Kelvin sign `K` is `k`) and lets the last
//! matching key win. serde matches keys exactly. A config holding `"User": "1000"` and then
//! `"user": "0"` would pass the gate as UID 1000 and run as root; a manifest holding `config`
//! and then `Config` would have us judge one config while the runtime pulls another.
//!
//! No tool writes such keys, so rather than copy Go's decoder this module refuses them: in an
//! object that Go decodes into a struct, a key that folds to a field we read must be that
//! field's exact name, and appear once. Objects that Go decodes into maps (labels, exposed
//! ports, annotations) keep their keys as they are, as Go does.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// How Go decodes a JSON value: into a struct (its fields, each with its own shape), a slice
/// of one shape, or something whose keys do not matter here (a map, a string, a number).
pub(crate) enum Shape {
    Struct(&'static [(&'static str, Shape)]),
    List(&'static Shape),
    Other,
}

/// Checks `bytes` against `shape`; the error says which key is ambiguous and where.
pub(crate) fn check(bytes: &[u8], shape: &Shape) -> Result<(), String> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let node = Node::deserialize(&mut deserializer).map_err(|e| e.to_string())?;
    check_node(&node, shape, "")
}

fn check_node(node: &Node, shape: &Shape, path: &str) -> Result<(), String> {
    match (node, shape) {
        (Node::Object(pairs), Shape::Struct(fields)) => {
            let folded_keys: Vec<String> = pairs.iter().map(|(key, _)| fold(key)).collect();
            for (name, field_shape) in *fields {
                let folded = fold(name);
                let matching: Vec<&(String, Node)> = pairs
                    .iter()
                    .zip(&folded_keys)
                    .filter(|(_, key)| **key == folded)
                    .map(|(pair, _)| pair)
                    .collect();
                if let Some((key, _)) = matching.iter().find(|(key, _)| key != name) {
                    return Err(format!(
                        "key `{}{}` is not `{path}{name}`, but Go programs (Docker, containerd, \
                         the registry) read it as `{name}`; refusing an ambiguous document",
                        path,
                        super::digest::shorten(key)
                    ));
                }
                if matching.len() > 1 {
                    return Err(format!(
                        "`{path}{name}` appears {} times; refusing an ambiguous document",
                        matching.len()
                    ));
                }
                if let Some((_, value)) = matching.first() {
                    check_node(value, field_shape, &format!("{path}{name}."))?;
                }
            }
            Ok(())
        }
        (Node::Array(items), Shape::List(item_shape)) => {
            for (i, item) in items.iter().enumerate() {
                let prefix = path.strip_suffix('.').unwrap_or(path);
                check_node(item, item_shape, &format!("{prefix}[{i}]."))?;
            }
            Ok(())
        }
        // A value of another kind is the typed parser's to refuse (or Go's to ignore).
        _ => Ok(()),
    }
}

/// Go's `encoding/json` key folding (see [`crate::gostr::fold`]).
fn fold(key: &str) -> String {
    crate::gostr::fold(key)
}

/// A JSON value with every key of every object, duplicates and order kept.
enum Node {
    Object(Vec<(String, Node)>),
    Array(Vec<Node>),
    Scalar,
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_str<E>(self, _: &str) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Scalar)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut pairs = Vec::new();
        while let Some((key, value)) = map.next_entry::<String, Node>()? {
            pairs.push((key, value));
        }
        Ok(Node::Object(pairs))
    }
}

/// An image config (OCI `application/vnd.oci.image.config.v1+json`, Docker's container config):
/// the fields portcullis reads.
pub(crate) const CONFIG: Shape = Shape::Struct(&[
    ("created", Shape::Other),
    ("author", Shape::Other),
    ("architecture", Shape::Other),
    ("os", Shape::Other),
    ("variant", Shape::Other),
    (
        "config",
        Shape::Struct(&[
            ("User", Shape::Other),
            ("Env", Shape::Other),
            ("ExposedPorts", Shape::Other),
            ("Labels", Shape::Other),
            (
                "Healthcheck",
                Shape::Struct(&[
                    ("Test", Shape::Other),
                    ("Interval", Shape::Other),
                    ("Timeout", Shape::Other),
                    ("StartPeriod", Shape::Other),
                    ("StartInterval", Shape::Other),
                    ("Retries", Shape::Other),
                ]),
            ),
            ("Entrypoint", Shape::Other),
            ("Cmd", Shape::Other),
            ("WorkingDir", Shape::Other),
            ("Volumes", Shape::Other),
            ("StopSignal", Shape::Other),
            ("OnBuild", Shape::Other),
            ("Shell", Shape::Other),
        ]),
    ),
    ("rootfs", Shape::Struct(&[("diff_ids", Shape::Other)])),
    (
        "history",
        Shape::List(&Shape::Struct(&[
            ("created", Shape::Other),
            ("created_by", Shape::Other),
            ("empty_layer", Shape::Other),
            ("comment", Shape::Other),
        ])),
    ),
]);

/// A descriptor: what an index entry, a manifest's config or a layer points at.
const DESCRIPTOR: Shape = Shape::Struct(&[
    ("mediaType", Shape::Other),
    ("digest", Shape::Other),
    ("size", Shape::Other),
    ("annotations", Shape::Other),
    ("artifactType", Shape::Other),
    (
        "platform",
        Shape::Struct(&[
            ("architecture", Shape::Other),
            ("os", Shape::Other),
            ("variant", Shape::Other),
        ]),
    ),
]);

/// An image manifest or an index (OCI or Docker), including an OCI layout's `index.json`.
pub(crate) const MANIFEST: Shape = Shape::Struct(&[
    ("schemaVersion", Shape::Other),
    ("mediaType", Shape::Other),
    ("artifactType", Shape::Other),
    ("config", DESCRIPTOR),
    ("layers", Shape::List(&DESCRIPTOR)),
    ("manifests", Shape::List(&DESCRIPTOR)),
]);

/// A `docker save` archive's `manifest.json`: one entry per image.
pub(crate) const ARCHIVE_MANIFEST: Shape = Shape::List(&Shape::Struct(&[
    ("Config", Shape::Other),
    ("RepoTags", Shape::Other),
    ("Layers", Shape::Other),
]));

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> Result<(), String> {
        check(json.as_bytes(), &CONFIG)
    }

    #[test]
    fn refuses_keys_go_would_read_as_a_field() {
        for json in [
            r#"{"config":{"User":"1000","user":"0"}}"#,
            r#"{"config":{"user":"0"}}"#,
            r#"{"config":{"USER":"1000"}}"#,
            // Go folds U+017F to `s` and the Kelvin sign to `k`.
            r#"{"config":{"U\u017fer":"0"}}"#,
            r#"{"config":{"Healthchec\u212A":{"Test":["NONE"]}}}"#,
            r#"{"Config":{"User":"0"},"config":{"User":"1000"}}"#,
            r#"{"config":{"Env":[],"env":["PASSWORD=x"]}}"#,
            r#"{"history":[{"created_by":"a"},{"Created_By":"b"}]}"#,
            r#"{"config":{"Healthcheck":{"Test":["CMD","true"],"test":["NONE"]}}}"#,
        ] {
            let error = config(json).expect_err(json);
            assert!(error.contains("refusing an ambiguous document"), "{error}");
        }
        let error = config(r#"{"config":{"User":"1000","user":"0"}}"#).unwrap_err();
        assert!(
            error.starts_with("key `config.user` is not `config.User`"),
            "{error}"
        );
        let error = config(r#"{"history":[{},{"Comment":"x"}]}"#).unwrap_err();
        assert!(error.starts_with("key `history[1].Comment`"), "{error}");
    }

    #[test]
    fn refuses_a_field_twice() {
        let error = config(r#"{"config":{"User":"1000","User":"0"}}"#).unwrap_err();
        assert!(
            error.starts_with("`config.User` appears 2 times"),
            "{error}"
        );
    }

    #[test]
    fn keeps_map_keys_and_unknown_fields_as_they_are() {
        for json in [
            r#"{"config":{"User":"1000","Labels":{"a":"1","A":"2"},"ExposedPorts":{"22/tcp":{},"22/TCP":{}}}}"#,
            r#"{"config":{"User":"1000","Hostname":"x","hostname":"y"},"os.version":"1"}"#,
            r#"{"created":null,"config":null,"history":null,"rootfs":"odd"}"#,
            r#"{}"#,
        ] {
            assert_eq!(config(json), Ok(()), "{json}");
        }
    }

    #[test]
    fn refuses_ambiguous_descriptors_in_manifests_and_indexes() {
        for json in [
            r#"{"schemaVersion":2,"config":{"digest":"sha256:a"},"Config":{"digest":"sha256:b"}}"#,
            r#"{"schemaVersion":2,"config":{"digest":"sha256:a","Digest":"sha256:b"}}"#,
            r#"{"schemaVersion":2,"layers":[{"digest":"sha256:a","SIZE":1}]}"#,
            r#"{"manifests":[{"digest":"sha256:a","platform":{"os":"linux","OS":"windows"}}]}"#,
            r#"{"manifests":[],"Manifests":[{"digest":"sha256:a"}]}"#,
        ] {
            assert!(check(json.as_bytes(), &MANIFEST).is_err(), "{json}");
        }
        let archive = r#"[{"Config":"a.json","RepoTags":["x:1"],"config":"b.json"}]"#;
        assert!(check(archive.as_bytes(), &ARCHIVE_MANIFEST).is_err());
        let fine = r#"{"schemaVersion":2,"mediaType":"x","config":{"mediaType":"y","digest":"sha256:a","size":1,"annotations":{"A":"1","a":"2"}},"layers":[]}"#;
        assert_eq!(check(fine.as_bytes(), &MANIFEST), Ok(()));
    }
}
