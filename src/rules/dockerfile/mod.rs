//! Rules that judge Dockerfiles.

use super::Rule;

#[cfg(test)]
pub(crate) mod testing;
pub(crate) mod util;

mod pc0001_dockerfile_syntax_error;
mod pc0002_inline_ignore_forbidden;
mod pc1001_allowed_registries;
mod pc1002_no_latest_tag;
mod pc1003_require_digest;
mod pc1004_non_root_user;
mod pc1005_unresolved_image_reference;

/// The rule the engine reports forbidden inline-ignore pragmas under.
pub static INLINE_IGNORE_FORBIDDEN: &Rule = &pc0002_inline_ignore_forbidden::RULE;

/// Every Dockerfile rule, ordered by code.
pub static ALL: &[&Rule] = &[
    &pc0001_dockerfile_syntax_error::RULE,
    &pc0002_inline_ignore_forbidden::RULE,
    &pc1001_allowed_registries::RULE,
    &pc1002_no_latest_tag::RULE,
    &pc1003_require_digest::RULE,
    &pc1004_non_root_user::RULE,
    &pc1005_unresolved_image_reference::RULE,
];
