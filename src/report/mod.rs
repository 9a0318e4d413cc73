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
