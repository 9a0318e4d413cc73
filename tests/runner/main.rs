//! The runner's own logic, against a stub admin API (no ACA-Py): scenarios are
//! written to a temp file, loaded, turned into `external` cases and run with
//! `run_case`, exactly as the CLI does. One test target, one module per concept;
//! `golden` runs the `tests/failing/` cases and compares their rendered failures.
//!
//! `cargo test --test runner` (`BLESS=1` rewrites `tests/failing/*.out`)

mod common;
mod stub;

mod artifacts;
mod captures;
mod expectations;
mod golden;
mod html;
mod includes;
mod requests;
mod retries;
mod secrets;
mod status;
mod variables;
mod versions;
mod waits_events;
mod waits_polling;
mod xfail;
