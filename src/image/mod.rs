//! Container images: references (parse and normalise) and the registry globs policy matches
//! them against. Sources, auth and digest checks will live here too.

pub mod pattern;
pub mod reference;

pub use pattern::glob_matches;
pub use reference::{ImageReference, ReferenceError};
