//! Container images: references (parse and normalise) and the registry globs policy matches
//! them against. Sources, auth and digest checks will live here too.

pub mod reference;

pub use reference::{ImageReference, ReferenceError};
