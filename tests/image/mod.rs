//! Test support for image sources: real tools (docker-registry, notary, umoci, skopeo, openssl,
//! htpasswd) driven daemonless, and a tiny fake registry for faults a real one cannot produce.
//!
//! A missing tool fails the test with the command that installs it; nothing is skipped.

#![allow(dead_code)]

pub mod fake;
pub mod layers;
pub mod notary;
pub mod registry;
pub mod tools;
pub mod tuf;

use portcullis::image::{AuthConfig, FetchOptions};
use std::time::Duration;

/// Options for tests: no credentials from the machine, quick retries, short timeouts.
pub fn options() -> FetchOptions {
    FetchOptions {
        auth: AuthConfig::anonymous(),
        timeout: Duration::from_secs(10),
        connect_timeout: Duration::from_secs(5),
        retries: 2,
        retry_base_delay: Duration::from_millis(10),
        ..FetchOptions::default()
    }
}

/// Options that reach `host` over plain HTTP (or unverified TLS).
pub fn insecure(host: &str) -> FetchOptions {
    FetchOptions {
        insecure_registries: vec![host.to_string()],
        ..options()
    }
}
