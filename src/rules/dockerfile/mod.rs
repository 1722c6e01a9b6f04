//! Rules that judge Dockerfiles.

use super::Rule;

/// Every Dockerfile rule, ordered by code.
pub static ALL: &[&Rule] = &[];
