//! portcullis: a CI security gate for container images and Dockerfiles.
//!
//! Data flows one way: targets → sources → facts → rules → findings → reports.

pub mod baseline;
pub mod cli;
pub mod dockerfile;
pub mod engine;
pub mod finding;
pub mod gostr;
pub mod image;
pub mod init;
pub mod merge;
pub mod policy;
pub mod report;
pub mod rules;
pub mod shard;
