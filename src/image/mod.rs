//! Container images: references (parse and normalise), and the sources that gather image facts
//! daemonless — a registry, an OCI layout, a `docker save` archive — with auth and digest
//! checks.
//!
//! The engine calls [`gather`] (or [`gather_blocking`], or a [`Fetcher`]) once with every image
//! target; rules then read the [`ImageFacts`]. All network I/O of image targets happens here.

pub mod archive;
pub mod auth;
pub mod digest;
pub mod error;
pub mod facts;
pub(crate) mod gojson;
pub mod layers;
pub mod layout;
pub mod manifest;
pub mod reference;
pub mod registry;
pub mod resolve;
pub mod source;

pub use auth::{AuthConfig, Credential, Secret};
pub use error::{ErrorKind, ImageError};
pub use facts::{
    Healthcheck, HistoryEntry, ImageConfig, ImageFacts, Layer, Platform, PlatformImage, Signatures,
};
pub use reference::{redact_userinfo, ImageReference, ReferenceError};
pub use resolve::Limits;
pub use source::{gather, gather_blocking, ArchiveSelector, FetchOptions, Fetcher, ImageTarget};

/// A size as findings and progress show it: `1.2 GB` (decimal units, as registries show
/// sizes), `999 bytes`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
