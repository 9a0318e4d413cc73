//! Which operations of a document a run used, and which ones cannot be
//! used without a ledger (the harness runs agents with `--no-ledger` unless
//! a scenario brings one, so those are expected to stay uncovered).

use super::document::{ApiDocument, Operation, OperationId};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

/// Why an operation cannot be exercised without a ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LedgerNeed {
    pub reason: &'static str,
}

impl fmt::Display for LedgerNeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason)
    }
}

const LEDGER: &str = "reads or writes the ledger";
const ANONCREDS_OBJECTS: &str =
    "schemas, credential definitions and revocation registries live on a ledger";
const ENDORSEMENT: &str = "endorses ledger transactions";
const V1_PROTOCOLS: &str =
    "v1.0 protocols carry Indy AnonCreds credentials only, whose definitions are on a ledger";
const PUBLIC_DID: &str = "a public DID is one written to the ledger";
const REVOCATION_STATUS: &str = "revocation status is read from the ledger's registry";

/// Whether `operation` needs a ledger, and why.
///
/// By tag, as every ACA-Py version from 0.12 to 1.7 names them:
/// `ledger` (`/ledger/*`); `schema`, `credential-definition`, `revocation`
/// and the `AnonCreds - ...` tags of an `askar-anoncreds` wallet
/// (`/schemas`, `/credential-definitions`, `/revocation/*`,
/// `/anoncreds/*`), all about objects on a ledger, except `AnonCreds -
/// Wallet Upgrade`, a local wallet change; `endorse-transaction`
/// (`/transactions`, `/transaction/*`); `issue-credential v1.0` and
/// `present-proof v1.0`, whose only credential format is Indy AnonCreds
/// (v2.0 also carries JSON-LD credentials signed with `did:key`, so it
/// does not). By path, two operations of otherwise local tags: `POST
/// /wallet/did/public` (it registers the DID's endpoint on the ledger) and
/// `GET /credential/revoked/{credential_id}`.
pub fn ledger_need(operation: &Operation) -> Option<LedgerNeed> {
    let reason = |reason| Some(LedgerNeed { reason });
    for tag in &operation.tags {
        match tag.as_str() {
            "ledger" => return reason(LEDGER),
            "schema" | "credential-definition" | "revocation" => return reason(ANONCREDS_OBJECTS),
            "AnonCreds - Wallet Upgrade" => {}
            t if t.starts_with("AnonCreds") => return reason(ANONCREDS_OBJECTS),
            "endorse-transaction" => return reason(ENDORSEMENT),
            "issue-credential v1.0" | "present-proof v1.0" => return reason(V1_PROTOCOLS),
            _ => {}
        }
    }
    match (operation.id.method.as_str(), operation.id.path.as_str()) {
        ("POST", "/wallet/did/public") => reason(PUBLIC_DID),
        (_, path) if path.starts_with("/credential/revoked/") => reason(REVOCATION_STATUS),
        _ => None,
    }
}

/// One operation and how often a run called it.
#[derive(Debug, Clone, Serialize)]
pub struct OperationCoverage {
    pub operation: OperationId,
    pub hits: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub needs_ledger: Option<LedgerNeed>,
}

/// Which operations of a document the requests of a run reached.
#[derive(Debug, Clone, Serialize)]
pub struct Coverage {
    pub version: String,
    /// Every operation of the document, sorted, with its hits.
    pub operations: Vec<OperationCoverage>,
    /// Requests that are no operation of the document (method, path).
    pub unknown: Vec<(String, String)>,
}

impl Coverage {
    /// Counts `requests` (method, concrete path) against `document`.
    pub fn of<'a>(
        document: &ApiDocument,
        requests: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Coverage {
        let mut hits: BTreeMap<&OperationId, usize> = BTreeMap::new();
        let mut unknown = Vec::new();
        for (method, path) in requests {
            match document.find(method, path) {
                Ok(operation) => *hits.entry(&operation.id).or_default() += 1,
                Err(_) => unknown.push((method.to_ascii_uppercase(), path.to_owned())),
            }
        }
        let operations = document
            .operations()
            .iter()
            .map(|operation| OperationCoverage {
                operation: operation.id.clone(),
                hits: hits.get(&operation.id).copied().unwrap_or(0),
                needs_ledger: ledger_need(operation),
            })
            .collect();
        Coverage {
            version: document.version.clone(),
            operations,
            unknown,
        }
    }

    pub fn hit(&self) -> impl Iterator<Item = &OperationCoverage> {
        self.operations.iter().filter(|o| o.hits > 0)
    }

    pub fn missed(&self) -> impl Iterator<Item = &OperationCoverage> {
        self.operations.iter().filter(|o| o.hits == 0)
    }

    /// `1.3.6: 41 of 187 operations hit (22 %); of the 146 missed, 79 need
    /// a ledger`, then the missed operations that need none.
    pub fn render(&self) -> String {
        let total = self.operations.len();
        let hit = self.hit().count();
        let missed: Vec<&OperationCoverage> = self.missed().collect();
        let ledger = missed.iter().filter(|o| o.needs_ledger.is_some()).count();
        let mut out = String::new();
        let percent = (hit * 100).checked_div(total).unwrap_or(0);
        let _ = writeln!(
            out,
            "{}: {hit} of {total} operations hit ({percent} %); of the {} missed, {ledger} need a ledger",
            self.version,
            missed.len()
        );
        for operation in missed.iter().filter(|o| o.needs_ledger.is_none()) {
            let _ = writeln!(out, "  not hit: {}", operation.operation);
        }
        for (method, path) in &self.unknown {
            let _ = writeln!(out, "  not in the document: {method} {path}");
        }
        out
    }
}
