//! How results look: to a person at a terminal ([`console`]), in a browser
//! ([`html`]) and to CI ([`junit`], [`json`], [`markdown`]), plus what failing
//! cases leave on disk ([`artifacts`]). Every report is a listener of the
//! run's [`events`]; none sees a secret (results arrive masked).

pub mod artifacts;
pub mod colour;
pub mod console;
pub mod contract;
pub mod coverage;
pub mod events;
pub mod files;
pub mod grid;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod merge;
pub mod modes;
pub mod names;
