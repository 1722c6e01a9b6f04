//! Image rules (`PC3xxx`): checks of an image's config and manifest, judged per platform.
//!
//! The four core rules judge images too, under their own codes: `non-root-user` reads
//! `config.User` (an image check), and `no-latest-tag`, `require-digest` and
//! `allowed-registries` judge a `docker://` target's reference as written (reference checks).
//! Their image checks live in their rule files beside the Dockerfile checks. Image history is
//! linted with Dockerfile rules ([`history`]).

pub(crate) mod accounts;
pub mod history;
mod synthetic;

#[cfg(test)]
pub(crate) mod testing;

mod pc3001_forbidden_exposed_port;
mod pc3002_secret_in_image_env;
mod pc3003_missing_required_label;
mod pc3004_image_without_healthcheck;
mod pc3005_image_too_old;
mod pc3006_platform_not_allowed;
mod pc3007_image_too_large;
mod pc3008_too_many_layers;
mod pc3009_secret_in_layer;
mod pc3010_sensitive_file_in_image;
mod pc3011_setuid_file;
mod pc3012_account_without_password;
mod pc3013_duplicate_account_id;

use super::{Diagnostics, ImageContext, Rule};

/// Every image rule, by code.
pub static ALL: &[&Rule] = &[
    &pc3001_forbidden_exposed_port::RULE,
    &pc3002_secret_in_image_env::RULE,
    &pc3003_missing_required_label::RULE,
    &pc3004_image_without_healthcheck::RULE,
    &pc3005_image_too_old::RULE,
    &pc3006_platform_not_allowed::RULE,
    &pc3007_image_too_large::RULE,
    &pc3008_too_many_layers::RULE,
    &pc3009_secret_in_layer::RULE,
    &pc3010_sensitive_file_in_image::RULE,
    &pc3011_setuid_file::RULE,
    &pc3012_account_without_password::RULE,
    &pc3013_duplicate_account_id::RULE,
];

/// The rules that also judge a base image fetched with `--resolve`, reported at the
/// Dockerfile's `FROM` line: properties a Dockerfile inherits and cannot undo (exposed ports,
/// environment, age, platforms, size and layers are only ever added to). Labels and health
/// checks are left out because the Dockerfile can add them; history because it records how
/// the base was built, which gating the base image itself judges. `non-root-user` is handled
/// apart: the base's user counts only when the final stage sets none.
pub const BASE_IMAGE_RULES: &[&str] = &["PC3001", "PC3002", "PC3005", "PC3006", "PC3007", "PC3008"];

/// The files of the platform image being judged, for a layer rule; when they were not read
/// (which the engine does whenever such a rule is on), a finding: the rule cannot pass what it
/// has not seen.
pub(crate) fn filesystem<'a>(
    ctx: &ImageContext<'a>,
    out: &mut Diagnostics,
) -> Option<&'a crate::image::layers::FileSystem> {
    let filesystem = ctx.platform.filesystem.as_deref();
    if filesystem.is_none() {
        out.push(
            crate::finding::Span::default(),
            "the image's layers were not read, so its files cannot pass this rule".to_string(),
        );
    }
    filesystem
}

/// `layer N (sha256:abcdef012345…, `the history step`)`: a layer as findings name it, from 1,
/// with the step of the image's history that created it (the N-th step that made a layer).
pub(crate) fn layer_name(ctx: &ImageContext<'_>, index: usize) -> String {
    let digest = ctx
        .platform
        .filesystem
        .as_deref()
        .and_then(|fs| fs.layers.get(index))
        .map(|l| l.digest.as_str())
        .or_else(|| ctx.platform.layers.get(index).map(|l| l.digest.as_str()))
        .unwrap_or("");
    let short: String = digest.chars().take("sha256:".len() + 12).collect();
    let step = ctx
        .platform
        .config
        .history
        .iter()
        .filter(|h| !h.empty_layer)
        .nth(index)
        .and_then(|h| h.created_by.as_deref())
        .map(|c| {
            let c = c
                .trim_start_matches("/bin/sh -c #(nop) ")
                .trim_start_matches("/bin/sh -c ")
                .trim();
            let cut: String = c.chars().take(80).collect();
            if cut.len() < c.len() {
                format!(", `{cut}…`")
            } else {
                format!(", `{cut}`")
            }
        })
        .unwrap_or_default();
    format!("layer {} ({short}…{step})", index + 1)
}

/// Notes account files that were kept only in part.
pub(crate) fn note_truncated(accounts: &accounts::Accounts, out: &mut Diagnostics) {
    for file in &accounts.truncated {
        out.note(format!(
            "{file} is larger than {} bytes; only its beginning was judged",
            crate::image::layers::ACCOUNT_FILE_MAX
        ));
    }
}
