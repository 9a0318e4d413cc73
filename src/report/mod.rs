//! How results look: to a person at a terminal ([`console`]) and to CI
//! ([`junit`], [`json`], [`markdown`]), plus what failing cases leave on disk
//! ([`artifacts`]).

pub mod artifacts;
pub mod colour;
pub mod console;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod merge;

use crate::redact::Redactor;
use crate::run::outcome::CaseResult;

/// Every case's secrets: what a report of several cases masks.
pub fn redactor(results: &[CaseResult]) -> Redactor {
    let mut all = Redactor::default();
    for r in results {
        all.extend(&r.secrets);
    }
    all
}
