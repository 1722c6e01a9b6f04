//! What a SLSA provenance predicate says about how an image was built: by which builder, from
//! which repository, at which ref. Only read here, never judged (the policy does that), and
//! only from a predicate whose attestation verified.
//!
//! Two shapes, as GitHub writes them: SLSA v1 (`actions/attest-build-provenance`:
//! `runDetails.builder.id`, `buildDefinition.externalParameters.workflow.{repository, ref}`)
//! and v0.2 (`slsa-github-generator`: `builder.id`, `invocation.configSource.uri` as
//! `git+https://github.com/acme/app@refs/tags/v1`). A field that is missing, empty or not a
//! string is `None`; nothing here panics on a hostile predicate.

use serde_json::Value;

pub const SLSA_PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";
pub const SLSA_PROVENANCE_V02: &str = "https://slsa.dev/provenance/v0.2";

/// The SLSA provenance fields the policy judges.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Provenance {
    /// Who built: `runDetails.builder.id` (v1), `builder.id` (v0.2).
    pub builder_id: Option<String>,
    /// From which repository, without git's `git+` prefix and `@<ref>` suffix
    /// (`https://github.com/acme/app`).
    pub source_repo: Option<String>,
    /// At which ref (`refs/tags/v1.2.0`).
    pub source_ref: Option<String>,
}

/// The SLSA provenance fields, read from a predicate of type `https://slsa.dev/provenance/v1`
/// (`runDetails.builder.id`, `buildDefinition.externalParameters.workflow.{repository, ref}`,
/// falling back to `buildDefinition.resolvedDependencies[0].uri` for the repo and its ref) or
/// `https://slsa.dev/provenance/v0.2` (`builder.id`, `invocation.configSource.uri`, the ref
/// from `uri`'s `@refs/...` suffix). `None` for another type.
pub fn slsa_provenance(predicate_type: &str, predicate: &Value) -> Option<Provenance> {
    match predicate_type {
        SLSA_PROVENANCE_V1 => Some(v1(predicate)),
        SLSA_PROVENANCE_V02 => Some(v02(predicate)),
        _ => None,
    }
}

fn v1(predicate: &Value) -> Provenance {
    let definition = &predicate["buildDefinition"];
    let workflow = &definition["externalParameters"]["workflow"];
    // Repository and ref come as a pair from one place, never one from each.
    let (source_repo, source_ref) = match text(&workflow["repository"]) {
        Some(repository) => (
            Some(repository.to_string()),
            text(&workflow["ref"]).map(str::to_string),
        ),
        None => match text(&definition["resolvedDependencies"][0]["uri"]) {
            Some(uri) => split_git_uri(uri),
            None => (None, None),
        },
    };
    Provenance {
        builder_id: text(&predicate["runDetails"]["builder"]["id"]).map(str::to_string),
        source_repo,
        source_ref,
    }
}

fn v02(predicate: &Value) -> Provenance {
    let (source_repo, source_ref) = match text(&predicate["invocation"]["configSource"]["uri"]) {
        Some(uri) => split_git_uri(uri),
        None => (None, None),
    };
    Provenance {
        builder_id: text(&predicate["builder"]["id"]).map(str::to_string),
        source_repo,
        source_ref,
    }
}

/// A non-empty string. (`Value`'s indexing yields `Null` for whatever is not there, of any
/// type, so paths never panic.)
fn text(value: &Value) -> Option<&str> {
    value.as_str().filter(|text| !text.is_empty())
}

/// `git+https://github.com/acme/app@refs/tags/v1` → (`https://github.com/acme/app`,
/// `refs/tags/v1`). The *first* `@refs/` splits: a repository URL holds none (GitHub names
/// cannot), while a branch may be called `x@refs/tags/v1`, which must not read as a tag.
fn split_git_uri(uri: &str) -> (Option<String>, Option<String>) {
    let uri = uri.strip_prefix("git+").unwrap_or(uri);
    let (repository, reference) = match uri.split_once("@refs/") {
        Some((repository, rest)) => (repository, Some(format!("refs/{rest}"))),
        None => (uri, None),
    };
    let repository = Some(repository.to_string()).filter(|text| !text.is_empty());
    (repository, reference)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fixture(name: &str) -> Value {
        let bytes = crate::trust::testdata::read(&format!("provenance/predicates/{name}"));
        serde_json::from_slice(&bytes).unwrap()
    }

    fn github() -> Provenance {
        Provenance {
            builder_id: None,
            source_repo: Some("https://github.com/acme/app".into()),
            source_ref: Some("refs/tags/v1.2.0".into()),
        }
    }

    #[test]
    fn reads_github_slsa_v1() {
        let provenance =
            slsa_provenance(SLSA_PROVENANCE_V1, &fixture("slsa-v1-github.json")).unwrap();
        assert_eq!(
            provenance,
            Provenance {
                builder_id: Some("https://github.com/actions/runner/github-hosted".into()),
                ..github()
            }
        );
    }

    #[test]
    fn reads_github_slsa_v02() {
        let provenance =
            slsa_provenance(SLSA_PROVENANCE_V02, &fixture("slsa-v02-github.json")).unwrap();
        assert_eq!(
            provenance,
            Provenance {
                builder_id: Some(
                    "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/\
                     generator_container_slsa3.yml@refs/tags/v2.0.0"
                        .into()
                ),
                ..github()
            }
        );
    }

    #[test]
    fn another_predicate_type_is_not_provenance() {
        let predicate = fixture("slsa-v1-github.json");
        for other in [
            "https://slsa.dev/provenance/v0.1",
            "https://slsa.dev/provenance/v1 ",
            "https://spdx.dev/Document",
            "",
        ] {
            assert_eq!(slsa_provenance(other, &predicate), None, "{other:?}");
        }
    }

    #[test]
    fn v1_falls_back_to_the_first_resolved_dependency() {
        let mut predicate = fixture("slsa-v1-github.json");
        predicate["buildDefinition"]["externalParameters"] = json!({});
        let provenance = slsa_provenance(SLSA_PROVENANCE_V1, &predicate).unwrap();
        assert_eq!(provenance.source_repo, github().source_repo);
        assert_eq!(provenance.source_ref, github().source_ref);
    }

    #[test]
    fn v1_takes_repository_and_ref_from_one_place() {
        let mut predicate = fixture("slsa-v1-github.json");
        predicate["buildDefinition"]["externalParameters"]["workflow"]
            .as_object_mut()
            .unwrap()
            .remove("ref");
        let provenance = slsa_provenance(SLSA_PROVENANCE_V1, &predicate).unwrap();
        assert_eq!(provenance.source_repo, github().source_repo);
        assert_eq!(provenance.source_ref, None);
    }

    #[test]
    fn a_branch_named_like_a_tag_is_a_branch() {
        let predicate = json!({"invocation": {"configSource": {
            "uri": "git+https://github.com/acme/app@refs/heads/x@refs/tags/v1"}}});
        let provenance = slsa_provenance(SLSA_PROVENANCE_V02, &predicate).unwrap();
        assert_eq!(
            provenance.source_repo.as_deref(),
            Some("https://github.com/acme/app")
        );
        assert_eq!(
            provenance.source_ref.as_deref(),
            Some("refs/heads/x@refs/tags/v1")
        );
    }

    #[test]
    fn a_uri_without_a_ref_has_no_ref() {
        for uri in [
            "https://github.com/acme/app",
            "git+https://github.com/acme/app",
        ] {
            let predicate = json!({"invocation": {"configSource": {"uri": uri}}});
            let provenance = slsa_provenance(SLSA_PROVENANCE_V02, &predicate).unwrap();
            assert_eq!(provenance.source_repo, github().source_repo, "{uri}");
            assert_eq!(provenance.source_ref, None, "{uri}");
        }
    }

    #[test]
    fn hostile_or_missing_fields_are_none() {
        let nothing = Provenance::default();
        for predicate in [
            json!(null),
            json!({}),
            json!([]),
            json!("text"),
            json!(42),
            json!({"runDetails": [], "buildDefinition": "x", "builder": 1, "invocation": null}),
            json!({"runDetails": {"builder": {"id": 7}},
                   "buildDefinition": {"externalParameters": {"workflow": {"repository": ["x"], "ref": {}}},
                                       "resolvedDependencies": {"0": {"uri": "x"}}},
                   "builder": {"id": false},
                   "invocation": {"configSource": {"uri": {"u": 1}}}}),
            json!({"runDetails": {"builder": {"id": ""}},
                   "buildDefinition": {"resolvedDependencies": [{"uri": ""}]},
                   "builder": {"id": ""},
                   "invocation": {"configSource": {"uri": "git+"}}}),
            json!({"buildDefinition": {"resolvedDependencies": []}}),
        ] {
            for predicate_type in [SLSA_PROVENANCE_V1, SLSA_PROVENANCE_V02] {
                assert_eq!(
                    slsa_provenance(predicate_type, &predicate).as_ref(),
                    Some(&nothing),
                    "{predicate_type} {predicate}"
                );
            }
        }
    }
}
