//! Trust rules (`PC4xxx`): what an image's verified signatures say, judged against the
//! policy's `verify` entries. The verification itself (pure code over the signature bytes the
//! image sources found) is `crate::trust`'s; the engine runs it before the rules, so a rule
//! only matches policy against verdicts.

mod pc4001_trust_required;

use super::Rule;

/// Every trust rule, by code.
pub static ALL: &[&Rule] = &[&pc4001_trust_required::RULE];

/// The code of `trust-required`, whose `verify` option the engine reads to verify.
pub const TRUST_REQUIRED: &str = "PC4001";
