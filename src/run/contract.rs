//! Each step's exchange against the agent's own API contract (see
//! [`crate::contract`]): the document of every agent of a case, fetched
//! once per version and settings (and cached on disk), a request to an
//! operation the version lacks failing at once, and every body checked.

// A fault ends its step, once: passing it by value costs nothing worth boxing.
#![allow(clippy::result_large_err)]

use super::fault::Fault;
use super::outcome::ContractFinding;
use crate::admin::AdminClient;
use crate::agents::{Agent, Provider};
use crate::contract::{
    ApiDocument, ContractMode, DocumentCache, DocumentKey, Finding, KnownDrift, Side, SourceKind,
};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// How a run checks the contract: its mode, the drift its suite declares,
/// and the documents it has read.
#[derive(Clone)]
pub struct ContractSettings {
    pub mode: ContractMode,
    pub known: Arc<Vec<KnownDrift>>,
    pub cache: Arc<DocumentCache>,
    /// Which document each admin URL serves, once asked: a shared base
    /// agent's sub-wallets ask once.
    keys: Arc<Mutex<BTreeMap<String, DocumentKey>>>,
}

impl ContractSettings {
    pub fn new(mode: ContractMode, known: Vec<KnownDrift>) -> ContractSettings {
        ContractSettings {
            mode,
            known: Arc::new(known),
            cache: Arc::new(DocumentCache::default_location()),
            keys: Arc::default(),
        }
    }
}

impl ContractSettings {
    /// The same, with the documents cached in `dir`.
    pub fn with_cache(mut self, dir: &std::path::Path) -> ContractSettings {
        self.cache = Arc::new(DocumentCache::new(dir));
        self
    }
}

/// Checking nothing: for library users who run cases themselves.
impl Default for ContractSettings {
    fn default() -> ContractSettings {
        ContractSettings::new(ContractMode::Off, Vec::new())
    }
}

/// One agent's document, as its steps are checked against it.
#[derive(Clone)]
pub(super) struct AgentContract {
    pub document: Arc<ApiDocument>,
    pub version: String,
}

/// The documents of a case's agents, by role. An agent whose document
/// cannot be had (an agent that serves none, say) is left out, and the
/// run is told once.
pub(super) async fn documents(
    settings: &ContractSettings,
    agents: &[Agent],
    sources: &BTreeMap<String, Arc<dyn Provider>>,
    notices: &crate::agents::Notices,
) -> BTreeMap<String, AgentContract> {
    let mut documents = BTreeMap::new();
    if settings.mode == ContractMode::Off {
        return documents;
    }
    for agent in agents {
        let source = SourceKind::from_kind(sources[&agent.role].kind());
        let client = AdminClient::new(&agent.admin);
        let known = settings
            .keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&agent.admin.url)
            .cloned();
        let key = match known {
            Some(key) => key,
            None => {
                let config = client
                    .get_json("/status/config")
                    .await
                    .unwrap_or(Value::Null);
                let key = DocumentKey::from_status_config(source, &agent.version, &config);
                let key = match sources[&agent.role].image_id().await {
                    Some(id) => key.with_image(&id),
                    None => key,
                };
                settings
                    .keys
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(agent.admin.url.clone(), key.clone());
                key
            }
        };
        match settings.cache.get_or_fetch(&key, &client).await {
            Ok(document) => {
                documents.insert(
                    agent.role.clone(),
                    AgentContract {
                        document,
                        version: agent.version.clone(),
                    },
                );
            }
            Err(e) => notices.tell(crate::agents::Notice::once(
                format!("no contract: {key}"),
                format!("the contract of ACA-Py {key} is not checked: {e}"),
            )),
        }
    }
    documents
}

impl AgentContract {
    /// A request to `method path` fails before it is sent when the version
    /// has no such operation, unless the step expects an error answer (it
    /// may mean to find the route missing).
    pub fn check_operation(&self, method: &str, path: &str) -> Result<String, Fault> {
        match self.document.find(method, path) {
            Ok(operation) => Ok(operation.id.to_string()),
            Err(unknown) => {
                let mut fault = Fault::new(unknown.to_string());
                if let Some(help) = unknown.help() {
                    fault = fault.note(format!("help: {help}"));
                }
                Err(fault.note(
                    "note: the agent's own API document (GET /api/docs/swagger.json) has no such operation",
                ))
            }
        }
    }

    /// What the exchange breaks, each finding as the reports keep it. An
    /// undocumented status (ACA-Py documents no error answer) counts in
    /// strict mode only, and not where the step says which status it
    /// expects (`status_expected`): the scenario documents that answer.
    pub fn check(
        &self,
        settings: &ContractSettings,
        (method, path): (&str, &str),
        request: Option<&Value>,
        (status, status_expected): (u16, bool),
        response: &Value,
    ) -> Vec<ContractFinding> {
        let counts = |f: &Finding| match f {
            Finding::UndocumentedStatus { .. } => {
                settings.mode == ContractMode::Strict && !status_expected
            }
            // A step that expects an error answer may send a body the
            // document refuses on purpose.
            Finding::Violation(v) if v.side == Side::Request => {
                !status_expected || (200..300).contains(&status)
            }
            _ => true,
        };
        match self
            .document
            .check_exchange(method, path, request, status, response)
        {
            Ok(findings) => findings
                .into_iter()
                .filter(counts)
                .map(|f| self.finding(settings, f))
                .collect(),
            // The document's fault, not the answer's: said, never failing.
            Err(e) => vec![ContractFinding {
                kind: "document_error".into(),
                version: self.version.clone(),
                operation: e.operation.to_string(),
                side: None,
                status: Some(status),
                pointer: None,
                keyword: None,
                schema_path: Some(e.location.clone()),
                expected: None,
                actual: None,
                text: e.to_string(),
                known: Some("the document's own schema cannot be used".into()),
                rule: format!("{} {} {}", self.version, e.operation, e.location),
            }],
        }
    }

    fn finding(&self, settings: &ContractSettings, finding: Finding) -> ContractFinding {
        let text = finding.to_string();
        let version = self.version.clone();
        match finding {
            Finding::Violation(v) => {
                let known =
                    KnownDrift::find(&settings.known, &version, &v).map(KnownDrift::described);
                let rule = {
                    let key = v.dedup_key(&version);
                    format!(
                        "{} {} {} {} {}",
                        key.version, key.side, key.operation, key.schema_path, key.property
                    )
                    .trim_end()
                    .to_owned()
                };
                ContractFinding {
                    kind: "violation".into(),
                    version,
                    operation: v.operation.to_string(),
                    side: Some(v.side.to_string()),
                    status: v.status,
                    pointer: Some(v.pointer),
                    keyword: Some(v.keyword),
                    schema_path: Some(v.schema_path),
                    expected: Some(v.expected),
                    actual: Some(v.actual),
                    text,
                    known,
                    rule,
                }
            }
            Finding::UndocumentedStatus {
                operation, status, ..
            } => ContractFinding {
                known: KnownDrift::find_status(&settings.known, &version, &operation, status)
                    .map(KnownDrift::described),
                kind: "undocumented_status".into(),
                rule: format!("{version} {operation} status {status}"),
                version,
                operation: operation.to_string(),
                side: Some("response".into()),
                status: Some(status),
                pointer: None,
                keyword: None,
                schema_path: None,
                expected: None,
                actual: None,
                text,
            },
            Finding::UnknownOperation(unknown) => ContractFinding {
                kind: "unknown_operation".into(),
                rule: format!("{version} {} {}", unknown.method, unknown.path),
                version,
                operation: format!("{} {}", unknown.method, unknown.path),
                side: Some("request".into()),
                status: None,
                pointer: None,
                keyword: None,
                schema_path: None,
                expected: None,
                actual: None,
                text,
                known: None,
            },
        }
    }
}

/// In strict mode, the finding that fails its step: one not declared as
/// known drift (an unknown operation the step meant to hit, expecting an
/// error, is not one).
pub(super) fn failing(
    mode: ContractMode,
    findings: &[ContractFinding],
    status_expected: bool,
) -> Option<&ContractFinding> {
    if mode != ContractMode::Strict {
        return None;
    }
    findings
        .iter()
        .find(|f| f.known.is_none() && !(f.kind == "unknown_operation" && status_expected))
}
