//! portcullis: a CI security gate for container images and Dockerfiles.
//!
//! Data flows one way: targets → sources → facts → rules → findings → reports.

// Input never decides whether portcullis panics: outside tests, no unwrap, expect or panic.
// (A panic that remains is turned into exit code 2 by the binary's panic hook.)
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod baseline;
pub mod cli;
pub mod dockerfile;
pub mod engine;
pub mod finding;
pub mod fuzzing;
pub mod gostr;
pub mod image;
pub mod init;
pub mod merge;
pub mod policy;
pub mod report;
pub mod rfc3339;
pub mod rules;
pub mod secrets;
pub mod shard;
pub mod trust;
