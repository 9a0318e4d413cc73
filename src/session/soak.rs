//! A soak run (`run --rounds N`, `bench/soak.sh`): the same cases N times
//! in a row in one session, so the shared base agents started in the first
//! round serve every later one, as in a long run. After each round it
//! measures what a slow leak would grow: each base agent's memory (VmRSS),
//! open descriptors, sub-wallets still registered and wallet folders on
//! disk, the harness's own memory and descriptors, and which cases changed
//! verdict since the round before.
//!
//! One process for every round, rather than base agents started outside and
//! used through the external provider: the base agents are started, given
//! sub-wallets and cleaned exactly as in any run (the code under test), and
//! the harness itself is soaked too.

use super::Session;
use crate::admin::{AdminClient, AdminEndpoint};
use crate::agents::KeptAgent;
use crate::run::outcome::{CaseResult, Status};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What one process holds: resident memory and open descriptors.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ProcFigures {
    pub rss_kib: Option<u64>,
    pub fds: Option<usize>,
    /// Of the descriptors: sockets, and files of wallets (a path with a
    /// `wallet` folder: askar's SQLite files); the rest is `fds` less both.
    pub sockets: Option<usize>,
    pub wallet_files: Option<usize>,
}

impl ProcFigures {
    /// Read from `/proc/PID` (`/proc/self` for `"self"`).
    pub fn of(pid: &str) -> ProcFigures {
        let proc = Path::new("/proc").join(pid);
        let rss_kib = std::fs::read_to_string(proc.join("status"))
            .ok()
            .and_then(|status| vm_rss_kib(&status));
        let targets: Option<Vec<String>> = std::fs::read_dir(proc.join("fd")).ok().map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    std::fs::read_link(e.path())
                        .map(|t| t.to_string_lossy().into_owned())
                        .unwrap_or_default()
                })
                .collect()
        });
        let count = |what: fn(&str) -> bool| {
            targets
                .as_ref()
                .map(|t| t.iter().filter(|t| what(t)).count())
        };
        ProcFigures {
            rss_kib,
            fds: targets.as_ref().map(Vec::len),
            sockets: count(|t| t.starts_with("socket:")),
            wallet_files: count(|t| t.contains("/wallet/")),
        }
    }

    fn show(&self) -> String {
        let rss = self
            .rss_kib
            .map_or("?".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0));
        let fds = self.fds.map_or("?".into(), |n| n.to_string());
        let kinds = match (self.sockets, self.wallet_files) {
            (Some(sockets), Some(0)) => format!(" ({sockets} sockets)"),
            (Some(sockets), Some(wallets)) => {
                format!(" ({sockets} sockets, {wallets} wallet files)")
            }
            _ => String::new(),
        };
        format!("RSS {rss}, {fds} fds{kinds}")
    }
}

/// The `VmRSS:` line of `/proc/PID/status`, in KiB.
fn vm_rss_kib(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// One base agent after a round.
#[derive(Debug, Clone, Serialize)]
pub struct BaseFigures {
    pub label: String,
    pub suite_args: Vec<String>,
    pub pid: Option<u32>,
    #[serde(flatten)]
    pub process: ProcFigures,
    /// The names of the sub-wallets it still has (`GET /multitenancy/wallets`).
    pub sub_wallets: Option<Vec<String>>,
    /// Why they could not be listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_wallets_error: Option<String>,
    /// Wallet folders under its `HOME` (one per wallet, its own included).
    pub wallet_dirs: Option<usize>,
    /// What they hold, in bytes.
    pub wallet_bytes: Option<u64>,
}

/// A case whose verdict is not the one of the round before.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub case: String,
    pub from: String,
    pub to: String,
}

/// A case that failed in a round, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failed {
    pub case: String,
    /// `step N `name`: message`, its first line.
    pub why: String,
    /// The whole failure as the console renders it, notes included (why
    /// the agents did not start).
    pub diagnostic: String,
}

/// What a round left.
#[derive(Debug, Clone, Serialize)]
pub struct Round {
    pub round: u32,
    pub of: u32,
    pub wall_s: f64,
    /// Cases per verdict word (`pass`, `fail`, ...).
    pub verdicts: BTreeMap<String, usize>,
    pub changed: Vec<Change>,
    /// The cases that did not succeed, and why: a verdict that changes
    /// between rounds is only worth as much as its failure.
    pub failed: Vec<Failed>,
    pub bases: Vec<BaseFigures>,
    pub harness: ProcFigures,
}

impl Round {
    /// Lines for the terminal.
    pub fn lines(&self) -> Vec<String> {
        let verdicts: Vec<String> = self
            .verdicts
            .iter()
            .map(|(word, n)| format!("{n} {word}"))
            .collect();
        let mut lines = vec![format!(
            "soak round {}/{}: {:.1}s, {}; harness {}",
            self.round,
            self.of,
            self.wall_s,
            verdicts.join(", "),
            self.harness.show()
        )];
        for base in &self.bases {
            let wallets = match (&base.sub_wallets, &base.sub_wallets_error) {
                (Some(names), _) if names.is_empty() => "0 sub-wallets left".to_owned(),
                (Some(names), _) => {
                    format!("{} sub-wallet(s) left: {}", names.len(), names.join(", "))
                }
                (None, Some(e)) => format!("sub-wallets unknown ({e})"),
                (None, None) => "sub-wallets unknown".to_owned(),
            };
            let dirs = match (base.wallet_dirs, base.wallet_bytes) {
                (Some(n), Some(bytes)) => format!(
                    ", {n} wallet folder(s) on disk ({:.1} MiB)",
                    bytes as f64 / 1048576.0
                ),
                (Some(n), None) => format!(", {n} wallet folder(s) on disk"),
                _ => String::new(),
            };
            let flags = match base.suite_args.is_empty() {
                true => String::new(),
                false => format!(" [{}]", base.suite_args.join(" ")),
            };
            lines.push(format!(
                "  base agent {}{flags} (pid {}): {}, {wallets}{dirs}",
                base.label,
                base.pid.map_or("?".into(), |p| p.to_string()),
                base.process.show(),
            ));
        }
        for f in &self.failed {
            lines.push(format!("  failed: {}: {}", f.case, f.why));
            // What follows the first line says why (a start failure's cause).
            for more in f
                .diagnostic
                .lines()
                .skip(1)
                .filter(|l| !l.trim().is_empty())
                .take(8)
            {
                lines.push(format!("    {more}"));
            }
        }
        match self.changed.is_empty() {
            true if self.round > 1 => lines.push("  no verdict changed".into()),
            true => {}
            false => {
                for c in &self.changed {
                    lines.push(format!(
                        "  verdict changed: {}: {} -> {}",
                        c.case, c.from, c.to
                    ));
                }
            }
        }
        lines
    }
}

/// Each case's verdict word.
pub fn verdicts(results: &[CaseResult]) -> BTreeMap<String, String> {
    results
        .iter()
        .map(|r| (r.name.clone(), r.status.word().to_owned()))
        .collect()
}

/// The cases that did not succeed (failed, passed against an `xfail`, or
/// were interrupted), each with the first line of its failure.
pub fn failed(results: &[CaseResult]) -> Vec<Failed> {
    results
        .iter()
        .filter(|r| !r.status.is_success() && !matches!(r.status, Status::Skipped { .. }))
        .map(|r| {
            let diagnostic = r.failure.as_ref().map(|f| f.diagnostic.clone());
            let why = match &r.failure {
                Some(f) => {
                    let first = f.message.lines().next().unwrap_or("");
                    match (f.step, &f.step_name) {
                        (Some(n), Some(name)) => format!("step {n} `{name}`: {first}"),
                        _ => first.to_owned(),
                    }
                }
                None => r.status.reason().unwrap_or(r.status.word()).to_owned(),
            };
            Failed {
                case: r.name.clone(),
                why,
                diagnostic: diagnostic.unwrap_or_default(),
            }
        })
        .collect()
}

/// The cases whose verdict differs between two rounds.
pub fn changes(before: &BTreeMap<String, String>, after: &BTreeMap<String, String>) -> Vec<Change> {
    after
        .iter()
        .filter_map(|(case, to)| {
            let from = before.get(case)?;
            (from != to).then(|| Change {
                case: case.clone(),
                from: from.clone(),
                to: to.clone(),
            })
        })
        .collect()
}

/// Rounds of one soak run, measured as they end.
pub struct Soak {
    rounds: u32,
    log: Option<PathBuf>,
    last: Option<BTreeMap<String, String>>,
}

impl Soak {
    /// `log`: a file to which each round is appended as a JSON line.
    pub fn new(rounds: u32, log: Option<PathBuf>) -> Soak {
        Soak {
            rounds,
            log,
            last: None,
        }
    }

    /// Measures the round that just ended, prints it on stderr and appends
    /// it to the log.
    pub async fn round(
        &mut self,
        number: u32,
        session: &Session,
        results: &[CaseResult],
        wall: Duration,
    ) -> anyhow::Result<Round> {
        let now = verdicts(results);
        let changed = self
            .last
            .as_ref()
            .map(|before| changes(before, &now))
            .unwrap_or_default();
        let mut per_word = BTreeMap::new();
        for word in now.values() {
            *per_word.entry(word.clone()).or_insert(0) += 1;
        }
        self.last = Some(now);
        let mut bases = Vec::new();
        for kept in session.kept_agents().await {
            bases.push(figures(kept).await);
        }
        let round = Round {
            round: number,
            of: self.rounds,
            wall_s: wall.as_secs_f64(),
            verdicts: per_word,
            changed,
            failed: failed(results),
            bases,
            harness: ProcFigures::of("self"),
        };
        for line in round.lines() {
            eprintln!("acapy-harness: {line}");
        }
        if let Some(log) = &self.log {
            use std::io::Write;
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", log.display()))?;
            writeln!(file, "{}", serde_json::to_string(&round)?)?;
        }
        Ok(round)
    }
}

async fn figures(kept: KeptAgent) -> BaseFigures {
    let process = kept
        .pid
        .map(|pid| ProcFigures::of(&pid.to_string()))
        .unwrap_or_default();
    let (sub_wallets, sub_wallets_error) = match sub_wallets(&kept.admin).await {
        Ok(names) => (Some(names), None),
        Err(e) => (None, Some(e)),
    };
    let (wallet_dirs, wallet_bytes) = kept.home.as_deref().and_then(wallet_dirs).unzip();
    BaseFigures {
        label: kept.label,
        suite_args: kept.suite_args,
        pid: kept.pid,
        process,
        sub_wallets,
        sub_wallets_error,
        wallet_dirs,
        wallet_bytes,
    }
}

/// The names of the sub-wallets a multitenant agent has.
async fn sub_wallets(admin: &AdminEndpoint) -> Result<Vec<String>, String> {
    let exchange = AdminClient::new(admin)
        .send(
            "tenants",
            reqwest::Method::GET,
            "/multitenancy/wallets",
            &[],
            None,
        )
        .await
        .map_err(|e| e.to_string())?;
    if exchange.status != 200 {
        return Err(format!("HTTP {} {}", exchange.status, exchange.response));
    }
    let results = exchange
        .response
        .get("results")
        .and_then(Value::as_array)
        .ok_or_else(|| format!("no `results` in {}", exchange.response))?;
    Ok(results
        .iter()
        .map(|w| {
            w.pointer("/settings/wallet.name")
                .or_else(|| w.get("wallet_id"))
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_owned()
        })
        .collect())
}

/// Wallet folders under a process agent's `HOME` (ACA-Py keeps an askar
/// wallet as a folder in `~/.acapy_agent/wallet`, `~/.aries_cloudagent/wallet`
/// up to 1.0), and the bytes they hold.
fn wallet_dirs(home: &Path) -> Option<(usize, u64)> {
    let mut found = None;
    for dir in [".acapy_agent/wallet", ".aries_cloudagent/wallet"] {
        if let Ok(entries) = std::fs::read_dir(home.join(dir)) {
            let (count, bytes) = found.get_or_insert((0, 0));
            for entry in entries.flatten() {
                *count += 1;
                *bytes += size(&entry.path());
            }
        }
    }
    found
}

/// The bytes of the files under `path`.
fn size(path: &Path) -> u64 {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => std::fs::read_dir(path)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| size(&e.path()))
            .sum(),
        Ok(meta) => meta.len(),
        Err(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_vm_rss() {
        let status = "Name:\taca-py\nVmPeak:\t  999 kB\nVmRSS:\t  123456 kB\nThreads:\t4\n";
        assert_eq!(vm_rss_kib(status), Some(123456));
        assert_eq!(vm_rss_kib("Name:\tx\n"), None);
        let me = ProcFigures::of("self");
        assert!(me.rss_kib.unwrap() > 0);
        assert!(me.fds.unwrap() >= 3);
        let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let with_socket = ProcFigures::of("self");
        assert!(with_socket.sockets.unwrap() >= 1);
        drop(socket);
    }

    #[test]
    fn names_the_cases_whose_verdict_changed() {
        let round = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(c, v)| (c.to_string(), v.to_string()))
                .collect()
        };
        let first = round(&[("a", "pass"), ("b", "pass"), ("c", "xfail")]);
        let second = round(&[("a", "pass"), ("b", "fail"), ("c", "xfail"), ("d", "pass")]);
        assert_eq!(
            changes(&first, &second),
            vec![Change {
                case: "b".into(),
                from: "pass".into(),
                to: "fail".into()
            }]
        );
        assert!(changes(&second, &second).is_empty());
    }
}
