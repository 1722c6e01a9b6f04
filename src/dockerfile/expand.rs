//! ARG expansion (in progress).
use super::{Dockerfile, ImageUse};
use std::collections::BTreeMap;

/// Every image `file` uses, with references resolved from ARG defaults and `build_args`.
pub fn image_uses(_file: &Dockerfile, _build_args: &BTreeMap<String, String>) -> Vec<ImageUse> {
    Vec::new()
}
