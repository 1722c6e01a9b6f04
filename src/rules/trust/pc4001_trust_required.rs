use crate::finding::{Severity, Span};
use crate::image::Signatures;
use crate::rules::{Check, Diagnostics, OptionKind, OptionSpec, TrustContext};
use std::collections::BTreeSet;

crate::declare_rule! {
    /// Image not signed as the policy requires.
    ///
    /// "Only run what we signed": each `docker://` image target must carry cosign / Sigstore
    /// signatures that verify, offline, with the keys the policy names. The first `verify`
    /// entry whose `images` globs match the image's normalised name decides:
    ///
    /// ```yaml
    /// rules:
    ///   trust-required:
    ///     severity: critical
    ///     verify:
    ///       - images: ["ghcr.io/acme/**"]
    ///         cosign:
    ///           keys: [keys/release.pub, keys/backup.pub]  # PEM public keys; any one suffices
    ///           threshold: 1            # signatures by this many distinct keys
    ///           annotations: { env: prod }   # required signed annotations (`.sig` format)
    ///           require_tlog: false     # true: a log entry, proven with trusted_root's keys
    ///           trusted_root: trust/trusted_root.json
    ///       - images: ["registry.acme.internal/**"]
    ///         cosign:
    ///           keyless:                # a Fulcio certificate for this identity
    ///             trusted_root: trust/trusted_root.json   # protobuf-specs JSON
    ///             issuer: https://token.actions.githubusercontent.com
    ///             subject_regex: '^https://github\.com/acme/.+/release\.yml@refs/tags/v'
    ///           require_tlog: true      # the default for keyless: a log proof times it
    ///     unmatched: deny               # images no entry matches: deny (default) | allow
    /// ```
    ///
    /// Paths are relative to the policy file, and read when it loads: an unreadable key, a
    /// file that is no public key, a trusted root that does not parse are policy errors at
    /// their line.
    ///
    /// Signatures are found where cosign writes them, in the image's repository (or the
    /// entry's `signatures_repository`, as cosign's `COSIGN_REPOSITORY`): the
    /// `sha256-<hex>.sig` tag (cosign v2, and v3 with `--new-bundle-format=false`), and
    /// Sigstore bundles among the image's OCI referrers (the referrers API, or the
    /// `sha256-<hex>` tag index where the registry lacks it: cosign v3's default). Every
    /// manifest and blob is checked against its digest. The digest judged is the one the
    /// reference resolved to, once: for a multi-platform image, the index's (what
    /// `cosign sign` signs by default). A signature binds its key (over the exact payload, or
    /// the DSSE envelope), the digest (`critical.image.docker-manifest-digest`, or the in-toto
    /// subject of a `https://sigstore.dev/cosign/sign/v1` statement) and, when asked, a log
    /// entry whose signed timestamp a trusted log key vouches for. Keyless, the certificate
    /// must chain to a CA of the trusted root and be valid at that log time, name the
    /// `issuer` (extension 1.3.6.1.4.1.57264.1.8, or the legacy .1.1) and a subject (URI or
    /// e-mail) that `subject_regex` matches (unanchored, as cosign's
    /// `--certificate-identity-regexp`: write `^…$`), and carry an SCT by a CT log of the
    /// trusted root. Any valid signature (or `threshold` of them, by distinct keys or
    /// identities) passes; invalid ones beside it are noted.
    ///
    /// `attestations` entries (each a `predicate_type`, and for SLSA provenance
    /// `builder_id_regex`, `source_repo_regex`, `source_ref_regex`) must each be met by a
    /// verified attestation (a Sigstore bundle referrer, signed as `cosign` requires) whose
    /// statement lists the image's digest; SLSA v1 and v0.2 are read, and a keyless
    /// certificate's source claims must agree with the predicate. The finding names the
    /// constraint that failed and what the attestation said instead.
    ///
    /// A `notary` block (alone, or beside `cosign`: both must then hold) asks Docker Content
    /// Trust instead, never trusting on first use: the root is pinned (`root_keys`:
    /// certificates, public keys or key ids; or `root_json`), newer roots are followed through
    /// each versioned root, timestamp, snapshot, targets and delegations must verify with their
    /// roles' keys and be unexpired, and the tag's target must be the manifest the registry
    /// serves (looked up in `targets/releases` then `targets`, or in every role `delegations`
    /// names):
    ///
    /// ```yaml
    ///       - images: ["registry.acme.internal/**"]
    ///         notary:
    ///           server: https://notary.acme.internal:4443
    ///           ca_file: certs/notary-ca.crt
    ///           root_keys: [trust/acme-root.crt]
    ///           delegations: [targets/releases]
    /// ```
    ///
    /// With `--resolve`, the base image of the built stage is judged too, at its `FROM` line.
    ///
    /// Fails closed: no signature, none valid, no entry for the image under
    /// `unmatched: deny`, or a source that cannot show signatures (`oci:`, `docker-archive:`)
    /// is a finding; a registry that cannot be read is exit 3. Off unless a policy enables
    /// it, as it needs keys.
    ///
    /// ## Why
    /// Anyone with write access to a repository can push an image; a signature says who
    /// built it. Checked in CI, before deploy, an image pushed by someone else is stopped.
    ///
    /// ## Example
    /// A policy with the entry above, and `docker://ghcr.io/acme/app:1.4` pushed but never
    /// signed: `no signature of sha256:… was found`. Sign it in the release job
    /// (`cosign sign --key cosign.key ghcr.io/acme/app@sha256:…`).
    pub static RULE = Rule {
        id: "PC4001",
        name: "trust-required",
        severity: Severity::Critical,
        enabled_by_default: false,
        options: &[VERIFY, UNMATCHED],
        check: Check::Trust(check),
        policy_rule: true,
    };
}

const VERIFY: OptionSpec = OptionSpec {
    name: "verify",
    kind: OptionKind::Verify,
    doc: "Entries of `images` globs and the `cosign` and/or `notary` block their signatures must satisfy; the first entry that matches decides.",
};

const UNMATCHED: OptionSpec = OptionSpec {
    name: "unmatched",
    kind: OptionKind::Word("`deny` or `allow`", &["deny", "allow"]),
    doc: "What an image that no entry matches gets: `deny` (default, a finding) or `allow`.",
};

fn check(ctx: &TrustContext<'_>, out: &mut Diagnostics) {
    let shown = ctx.name.unwrap_or(&ctx.image.target);
    let entry = ctx
        .name
        .zip(ctx.options.verify(VERIFY.name))
        .and_then(|(name, verify)| verify.entry_for(name));
    let Some(entry) = entry else {
        if ctx.options.string(UNMATCHED.name) != Some("allow") {
            out.push(
                Span::default(),
                format!(
                    "image `{shown}` matches no `verify` entry of trust-required, and \
                     `unmatched` is `deny`"
                ),
            );
        }
        return;
    };
    if let Some(notary) = &entry.notary {
        check_content_trust(ctx, entry, notary, shown, out);
    }
    if let Some(cosign) = &entry.cosign {
        check_cosign(ctx, entry, cosign, shown, out);
    }
}

/// Docker Content Trust: the source's verdict on the tag, from the pinned root down.
fn check_content_trust(
    ctx: &TrustContext<'_>,
    entry: &crate::policy::trust::VerifyEntry,
    notary: &crate::trust::notary::NotaryPolicy,
    shown: &str,
    out: &mut Diagnostics,
) {
    use crate::trust::notary::NotaryFacts;
    match &ctx.image.notary {
        NotaryFacts::Checked(Ok(admission)) => out.note(format!(
            "`{shown}`: Docker Content Trust admits `{}` ({}, signed by `{}` under root \
             version {})",
            admission.tag, ctx.image.digest, admission.role, admission.root_version
        )),
        NotaryFacts::Checked(Err(why)) => out.push(
            Span::default(),
            format!(
                "`{shown}` ({}) is not admitted by Docker Content Trust (the `verify` entry at \
                 line {}, Notary {}): {why}",
                ctx.image.digest, entry.span.line, notary.server
            ),
        ),
        NotaryFacts::NotRequested => out.push(
            Span::default(),
            format!("the Docker Content Trust data of `{shown}` was not read, so it cannot pass"),
        ),
    }
}

/// cosign / Sigstore signatures: verified by the engine against the entry's `cosign` block.
fn check_cosign(
    ctx: &TrustContext<'_>,
    entry: &crate::policy::trust::VerifyEntry,
    cosign: &crate::policy::trust::CosignPolicy,
    shown: &str,
    out: &mut Diagnostics,
) {
    let digest = &ctx.image.digest;
    let found = match &ctx.image.signatures {
        Signatures::Found(found) => found.len(),
        Signatures::Unsupported(why) => {
            out.push(
                Span::default(),
                format!("cannot verify the signatures of `{shown}`: {why}"),
            );
            return;
        }
        Signatures::NotRequested => {
            out.push(
                Span::default(),
                format!("the signatures of `{shown}` were not read, so it cannot pass"),
            );
            return;
        }
    };
    if found == 0 {
        out.push(
            Span::default(),
            format!(
                "no signature of {digest} was found for `{shown}` (looked for the tag \
                 `{}.sig` and for Sigstore bundles among its referrers)",
                digest.replace(':', "-")
            ),
        );
        return;
    }
    let signers: BTreeSet<&str> = ctx
        .verdicts
        .iter()
        .filter(|v| v.result.is_ok())
        .map(|v| v.signer.as_deref().unwrap_or("?"))
        .collect();
    let invalid: Vec<String> = ctx
        .verdicts
        .iter()
        .filter_map(|v| {
            v.result
                .as_ref()
                .err()
                .map(|e| format!("{} signature: {e}", v.format))
        })
        .collect();
    let threshold = cosign.threshold;
    check_attestations(ctx, entry, shown, out);
    if signers.len() >= threshold {
        if !invalid.is_empty() {
            out.note(format!(
                "`{shown}` passed; beside its valid signature{} {} did not verify: {}",
                if signers.len() == 1 { "" } else { "s" },
                invalid.len(),
                invalid.join("; ")
            ));
        }
        return;
    }
    let need = if threshold == 1 {
        "a valid signature".to_string()
    } else {
        format!(
            "signatures by {threshold} distinct keys ({} verified)",
            signers.len()
        )
    };
    out.push(
        Span::default(),
        format!(
            "`{shown}` ({digest}) is not signed as the policy requires (the `verify` entry at \
             line {}): it needs {need}, and of {found} found, {}",
            entry.span.line,
            if invalid.is_empty() {
                "none is by a required key".to_string()
            } else {
                invalid.join("; ")
            }
        ),
    );
}

/// Every `attestations` entry of the deciding `verify` entry must be met by a verified
/// attestation of its predicate type whose SLSA provenance matches; the finding says which
/// constraint failed and what the attestation said instead, never its body.
fn check_attestations(
    ctx: &TrustContext<'_>,
    entry: &crate::policy::trust::VerifyEntry,
    shown: &str,
    out: &mut Diagnostics,
) {
    for required in &entry.attestations {
        let verified: Vec<&crate::trust::Attestation> = ctx
            .attestations
            .iter()
            .filter_map(|v| v.result.as_ref().ok())
            .filter(|a| a.predicate_type == required.predicate_type)
            .collect();
        if verified.is_empty() {
            let invalid: Vec<String> = ctx
                .attestations
                .iter()
                .filter_map(|v| {
                    v.result
                        .as_ref()
                        .err()
                        .map(|e| format!("{} attestation: {e}", v.format))
                })
                .collect();
            let others: BTreeSet<&str> = ctx
                .attestations
                .iter()
                .filter_map(|v| v.result.as_ref().ok())
                .map(|a| a.predicate_type.as_str())
                .collect();
            let mut why = Vec::new();
            if !others.is_empty() {
                why.push(format!(
                    "verified attestations are of other types ({})",
                    others.into_iter().collect::<Vec<_>>().join(", ")
                ));
            }
            why.extend(invalid);
            out.push(
                Span::default(),
                format!(
                    "`{shown}` has no verified attestation of type `{}`, which the \
                     `attestations` entry at line {} requires{}",
                    required.predicate_type,
                    required.line,
                    if why.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", why.join("; "))
                    }
                ),
            );
            continue;
        }
        let mut mismatches = Vec::new();
        let satisfied = verified
            .iter()
            .any(|a| match judge_provenance(required, a) {
                Ok(()) => true,
                Err(why) => {
                    mismatches.push(why);
                    false
                }
            });
        if !satisfied {
            mismatches.dedup();
            out.push(
                Span::default(),
                format!(
                    "`{shown}`'s `{}` attestation does not satisfy the `attestations` entry at \
                     line {}: {}",
                    required.predicate_type,
                    required.line,
                    mismatches.join("; ")
                ),
            );
        }
    }
}

/// Whether one verified attestation meets `required`: its SLSA fields match the patterns,
/// and the signing certificate's source claims (keyless) agree with the predicate.
fn judge_provenance(
    required: &crate::policy::trust::AttestationPolicy,
    attestation: &crate::trust::Attestation,
) -> Result<(), String> {
    let patterns = [
        (&required.builder_id_regex, "builder id"),
        (&required.source_repo_regex, "source repository"),
        (&required.source_ref_regex, "source ref"),
    ];
    let provenance =
        crate::trust::slsa_provenance(&attestation.predicate_type, &attestation.predicate);
    let Some(provenance) = provenance else {
        if patterns.iter().any(|(p, _)| p.is_some()) {
            return Err(format!(
                "its predicate type `{}` is not SLSA provenance (v1 or v0.2), so its builder and \
                 source cannot be read",
                attestation.predicate_type
            ));
        }
        return Ok(());
    };
    let values = [
        &provenance.builder_id,
        &provenance.source_repo,
        &provenance.source_ref,
    ];
    for ((pattern, what), value) in patterns.iter().zip(values) {
        let Some(pattern) = pattern else { continue };
        match value {
            Some(value) if pattern.is_match(value) => {}
            Some(value) => {
                return Err(format!(
                    "its {what} is `{value}`, which `{}` does not match",
                    pattern.as_str()
                ))
            }
            None => return Err(format!("it does not say its {what}")),
        }
    }
    if let Some(claims) = &attestation.certificate {
        let agree =
            |claim: &Option<String>, stated: &Option<String>, what: &str| match (claim, stated) {
                (Some(claim), Some(stated)) if same_source(claim) != same_source(stated) => {
                    Err(format!(
                "the signing certificate's {what} `{claim}` contradicts the predicate's `{stated}`"
            ))
                }
                _ => Ok(()),
            };
        agree(
            &claims.source_repository_uri,
            &provenance.source_repo,
            "source repository",
        )?;
        agree(
            &claims.source_repository_ref,
            &provenance.source_ref,
            "source ref",
        )?;
    }
    Ok(())
}

/// A source repository or ref as written in different places: `git+https://…/app.git@refs/x`
/// and `https://…/app` name the same repository.
fn same_source(text: &str) -> &str {
    let text = text.strip_prefix("git+").unwrap_or(text);
    let text = text.split('@').next().unwrap_or(text);
    text.strip_suffix(".git").unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleOptions;

    fn judge(signatures: Signatures, options: &RuleOptions) -> Vec<String> {
        let mut image = crate::rules::image::testing::image(Default::default(), &[]);
        image.signatures = signatures;
        let mut out = Diagnostics::default();
        check(
            &TrustContext {
                image: &image,
                name: Some("registry.example.com/app"),
                options,
                verdicts: &[],
                attestations: &[],
            },
            &mut out,
        );
        out.0.into_iter().map(|d| d.message).collect()
    }

    fn policy(threshold: usize) -> RuleOptions {
        use crate::policy::trust::{CosignPolicy, VerifyEntry, VerifyPolicy};
        let entry = VerifyEntry {
            images: vec![crate::policy::Glob::new("registry.example.com/**").unwrap()],
            cosign: Some(CosignPolicy {
                threshold,
                ..CosignPolicy::default()
            }),
            notary: None,
            attestations: Vec::new(),
            span: Span::point(7, 9),
        };
        let mut options = RuleOptions::default();
        options.values.insert(
            "verify".into(),
            crate::rules::OptionValue::Verify(VerifyPolicy {
                entries: std::sync::Arc::new(vec![entry]),
            }),
        );
        options
    }

    /// An entry with a `notary` block (and a `cosign` one when `with_cosign`), and an image
    /// whose Docker Content Trust verdict is `notary`.
    fn judge_content_trust(
        notary: crate::trust::notary::NotaryFacts,
        with_cosign: bool,
        signatures: Signatures,
    ) -> Vec<String> {
        use crate::trust::notary::{NotaryPolicy, Pin, PinnedKey};
        let mut options = policy(1);
        if let Some(crate::rules::OptionValue::Verify(verify)) = options.values.get_mut("verify") {
            let mut entries = (*verify.entries).clone();
            entries[0].notary = Some(std::sync::Arc::new(NotaryPolicy {
                server: "https://notary.example.com".into(),
                ca_pem: None,
                ca_file: None,
                pin: Pin::Keys(vec![PinnedKey::from_id(&"ab".repeat(32)).unwrap()]),
                delegations: Vec::new(),
            }));
            if !with_cosign {
                entries[0].cosign = None;
            }
            verify.entries = std::sync::Arc::new(entries);
        }
        let mut image = crate::rules::image::testing::image(Default::default(), &[]);
        image.signatures = signatures;
        image.notary = notary;
        let mut out = Diagnostics::default();
        check(
            &TrustContext {
                image: &image,
                name: Some("registry.example.com/app"),
                options: &options,
                verdicts: &[],
                attestations: &[],
            },
            &mut out,
        );
        out.0.into_iter().map(|d| d.message).collect()
    }

    #[test]
    fn content_trust_alone_or_beside_cosign_must_hold() {
        use crate::trust::notary::{Admission, NotaryFacts};
        let admitted = NotaryFacts::Checked(Ok(Admission {
            role: "targets/releases".into(),
            tag: "1".into(),
            root_version: 1,
        }));
        // Alone: admitted passes, whatever the cosign signatures (none are asked for).
        assert!(judge_content_trust(admitted.clone(), false, Signatures::Found(vec![])).is_empty());
        // Refused, or not read: a finding naming the reason.
        let refused = judge_content_trust(
            NotaryFacts::Checked(Err("the tag is absent".into())),
            false,
            Signatures::Found(vec![]),
        );
        assert_eq!(refused.len(), 1);
        assert!(
            refused[0].contains("is not admitted by Docker Content Trust"),
            "{refused:?}"
        );
        assert!(refused[0].contains("the tag is absent"), "{refused:?}");
        let unread =
            judge_content_trust(NotaryFacts::NotRequested, false, Signatures::Found(vec![]));
        assert!(
            unread[0].contains("was not read, so it cannot pass"),
            "{unread:?}"
        );
        // Both blocks: admitted by Notary but no cosign signature still fails.
        let both = judge_content_trust(admitted, true, Signatures::Found(vec![]));
        assert_eq!(both.len(), 1, "{both:?}");
        assert!(both[0].contains("no signature of"), "{both:?}");
    }

    fn verdict(signer: &str, result: Result<(), &str>) -> crate::trust::Verdict {
        crate::trust::Verdict {
            format: "legacy",
            signer: Some(signer.into()),
            log_time: None,
            result: result.map_err(str::to_string),
        }
    }

    fn judge_verdicts(
        threshold: usize,
        verdicts: &[crate::trust::Verdict],
    ) -> (Vec<String>, Vec<String>) {
        let mut image = crate::rules::image::testing::image(Default::default(), &[]);
        let found = crate::trust::Found::Bundle { bundle: Vec::new() };
        image.signatures = Signatures::Found(vec![found; verdicts.len().max(1)]);
        let options = policy(threshold);
        let mut out = Diagnostics::default();
        check(
            &TrustContext {
                image: &image,
                name: Some("registry.example.com/app"),
                options: &options,
                verdicts,
                attestations: &[],
            },
            &mut out,
        );
        let notes = out.notes().to_vec();
        (out.0.into_iter().map(|d| d.message).collect(), notes)
    }

    #[test]
    fn one_valid_signature_passes_and_invalid_ones_beside_it_are_noted() {
        let (found, notes) = judge_verdicts(
            1,
            &[
                verdict("sha256:a", Ok(())),
                verdict("?", Err("signature does not verify")),
            ],
        );
        assert!(found.is_empty(), "{found:?}");
        assert!(notes[0].contains("signature does not verify"), "{notes:?}");
    }

    #[test]
    fn catches_invalid_signatures_and_thresholds_not_met() {
        let (found, _) = judge_verdicts(1, &[verdict("?", Err("payload names sha256:b"))]);
        assert!(found[0].contains("payload names sha256:b"), "{found:?}");
        assert!(found[0].contains("line 7"), "{found:?}");
        // Two signatures by one key are one signer.
        let same = [verdict("sha256:a", Ok(())), verdict("sha256:a", Ok(()))];
        let (found, _) = judge_verdicts(2, &same);
        assert!(
            found[0].contains("2 distinct keys (1 verified)"),
            "{found:?}"
        );
        let two = [verdict("sha256:a", Ok(())), verdict("sha256:b", Ok(()))];
        assert!(judge_verdicts(2, &two).0.is_empty());
        // Nothing found at all.
        let (found, _) = judge_verdicts(1, &[]);
        assert!(!found.is_empty());
    }

    #[test]
    fn catches_sources_that_cannot_show_signatures() {
        let found = judge(Signatures::Unsupported("oci: is local".into()), &policy(1));
        assert!(found[0].contains("cannot verify"), "{found:?}");
        let found = judge(Signatures::NotRequested, &policy(1));
        assert!(found[0].contains("were not read"), "{found:?}");
        let found = judge(Signatures::Found(Vec::new()), &policy(1));
        assert!(found[0].contains("no signature of"), "{found:?}");
    }

    #[test]
    fn catches_images_no_entry_covers_unless_allowed() {
        let deny = RuleOptions::default();
        assert!(
            judge(Signatures::Found(Vec::new()), &deny)[0].contains("matches no `verify` entry")
        );
        let mut allow = RuleOptions::default();
        allow.values.insert(
            "unmatched".into(),
            crate::rules::OptionValue::String("allow".into()),
        );
        assert!(judge(Signatures::Found(Vec::new()), &allow).is_empty());
    }

    fn attestation(predicate: &str, claims: Option<(&str, &str)>) -> crate::trust::Attestation {
        crate::trust::Attestation {
            predicate_type: crate::trust::SLSA_PROVENANCE_V1.into(),
            predicate: serde_json::from_str(predicate).unwrap(),
            certificate: claims.map(|(repo, r)| crate::trust::CertificateClaims {
                source_repository_uri: Some(repo.into()),
                source_repository_ref: Some(r.into()),
                source_repository_digest: None,
            }),
        }
    }

    fn required() -> crate::policy::trust::AttestationPolicy {
        crate::policy::trust::AttestationPolicy {
            predicate_type: crate::trust::SLSA_PROVENANCE_V1.into(),
            builder_id_regex: Some(
                regex::Regex::new("^https://github\\.com/actions/runner/").unwrap(),
            ),
            source_repo_regex: Some(regex::Regex::new("^https://github\\.com/acme/").unwrap()),
            source_ref_regex: Some(regex::Regex::new("^refs/tags/v").unwrap()),
            line: 12,
        }
    }

    const GOOD: &str = r#"{"buildDefinition":{"externalParameters":{"workflow":{"repository":"https://github.com/acme/app","ref":"refs/tags/v1"}}},"runDetails":{"builder":{"id":"https://github.com/actions/runner/github-hosted"}}}"#;

    #[test]
    fn provenance_is_judged_field_by_field_and_against_the_certificate() {
        assert_eq!(
            judge_provenance(&required(), &attestation(GOOD, None)),
            Ok(())
        );
        let claims = Some(("https://github.com/acme/app", "refs/tags/v1"));
        assert_eq!(
            judge_provenance(&required(), &attestation(GOOD, claims)),
            Ok(())
        );
        let evil = GOOD.replace("acme/app", "evil/app");
        let why = judge_provenance(&required(), &attestation(&evil, None)).unwrap_err();
        assert!(why.contains("`https://github.com/evil/app`"), "{why}");
        let contradicted = Some(("https://github.com/acme/other", "refs/tags/v1"));
        let why = judge_provenance(&required(), &attestation(GOOD, contradicted)).unwrap_err();
        assert!(why.contains("contradicts"), "{why}");
        let why = judge_provenance(&required(), &attestation("{}", None)).unwrap_err();
        assert!(why.contains("does not say its builder id"), "{why}");
    }
}
