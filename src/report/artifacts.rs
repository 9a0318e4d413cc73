//! What a failing case leaves on disk (`--artifacts DIR`), one folder per case:
//!
//! ```text
//! DIR/issue-credential-v2_seed-flow__process__1.3.6/
//!   failure.txt          the failure as printed on the console
//!   case.json            the case as in `--report-json`
//!   exchanges.jsonl      every admin API request and response, one per line
//!   events-issuer.jsonl  each agent's webhook events, one per line
//!   issuer.log           each agent's log
//! ```
//!
//! The case arrives masked: no file holds a secret.

use super::console::render_failure;
pub use super::names::sanitize;
use crate::run::outcome::CaseResult;
use serde::Serialize;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Writes `result`'s folder under `dir` (created if missing) and returns it.
/// Files are overwritten, so a rerun into the same `dir` replaces them. The
/// `.jsonl`/`.log` files are written only when the case kept `artifacts`.
pub fn write(dir: &Path, result: &CaseResult) -> std::io::Result<PathBuf> {
    let folder = dir.join(sanitize(&result.name));
    std::fs::create_dir_all(&folder)?;

    let failure = render_failure(result);
    if !failure.is_empty() {
        std::fs::write(folder.join("failure.txt"), failure)?;
    }
    let mut case = serde_json::to_string_pretty(result)?;
    case.push('\n');
    std::fs::write(folder.join("case.json"), case)?;

    if let Some(artifacts) = &result.artifacts {
        write_jsonl(&folder.join("exchanges.jsonl"), &artifacts.exchanges)?;
        for (role, events) in &artifacts.events {
            write_jsonl(
                &folder.join(format!("events-{}.jsonl", sanitize(role))),
                events,
            )?;
        }
        for (role, log) in &artifacts.logs {
            std::fs::write(folder.join(format!("{}.log", sanitize(role))), log)?;
        }
    }
    Ok(folder)
}

fn write_jsonl<T: Serialize>(path: &Path, items: &[T]) -> std::io::Result<()> {
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    for item in items {
        serde_json::to_writer(&mut out, item)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}
