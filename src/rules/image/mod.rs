//! Image rules (`PC3xxx`): checks of an image's config and manifest, judged per platform.
//!
//! The four core rules judge images too, under their own codes: `non-root-user` reads
//! `config.User` (an image check), and `no-latest-tag`, `require-digest` and
//! `allowed-registries` judge a `docker://` target's reference as written (reference checks).
//! Their image checks live in their rule files beside the Dockerfile checks. Image history is
//! linted with Dockerfile rules ([`history`]).

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

use super::Rule;

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
];

/// The rules that also judge a base image fetched with `--resolve`, reported at the
/// Dockerfile's `FROM` line: properties a Dockerfile inherits and cannot undo (exposed ports,
/// environment, age, platforms, size and layers are only ever added to). Labels and health
/// checks are left out because the Dockerfile can add them; history because it records how
/// the base was built, which gating the base image itself judges. `non-root-user` is handled
/// apart: the base's user counts only when the final stage sets none.
pub const BASE_IMAGE_RULES: &[&str] = &["PC3001", "PC3002", "PC3005", "PC3006", "PC3007", "PC3008"];
