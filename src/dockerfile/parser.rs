//! The Dockerfile parser (in progress).
use super::ast::*;

/// Parses a Dockerfile. Never fails: problems are recorded in [`Dockerfile::errors`].
pub fn parse(source: &str) -> Dockerfile {
    Dockerfile {
        source: source.to_string(),
        escape: '\\',
        ..Dockerfile::default()
    }
}
