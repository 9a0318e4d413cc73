//! Shared agents: multitenant base agents per source (version × provider)
//! for the whole run (one, and up to one per job when cases run at once),
//! and every role of every case a fresh sub-wallet on one of them, created
//! before the case and removed after it.
//!
//! Creating a sub-wallet with a RAW key takes milliseconds where starting
//! an agent takes seconds. A role whose flags ACA-Py cannot set per wallet
//! (`extra_settings`) makes its case run on dedicated agents instead, and
//! the run says so once per scenario.

use super::launch::{generate_api_key, raw_wallet_key};
use super::{
    Agent, AgentHandle, AgentMode, AgentSpec, CaseId, FilePlacement, KeptAgent, Notice, Notices,
    Provider, ProviderError, Reach, Scope, ServiceEndpoint, Unavailable,
};
use crate::admin::{AdminAuth, AdminClient, AdminEndpoint};
use anyhow::anyhow;
use async_trait::async_trait;
use serde_json::{json, Map, Value};
use std::sync::{Arc, Mutex};

/// The `aca-py start` flags a sub-wallet can be given through
/// `extra_settings` (`ACAPY_LIFECYCLE_CONFIG_FLAG_ARGS_MAP` in ACA-Py's
/// `multitenant/admin/routes.py`; the same from 0.12.8 to 1.7.0).
pub const PER_WALLET_FLAGS: &[&str] = &[
    "auto-accept-invites",
    "auto-accept-requests",
    "auto-create-revocation-transactions",
    "auto-ping-connection",
    "auto-promote-author-did",
    "auto-request-endorsement",
    "auto-respond-credential-offer",
    "auto-respond-credential-request",
    "auto-respond-messages",
    "auto-verify-presentation",
    "auto-write-transactions",
    "endorser-alias",
    "endorser-invitation",
    "endorser-protocol-role",
    "endorser-public-did",
    "invite-public",
    "log-level",
    "monitor-ping",
    "notify-revocation",
    "preserve-exchange-records",
    "public-invites",
    "requests-through-public-did",
];

/// What a role's own flags make of its sub-wallet: its `extra_settings`,
/// and its wallet type (`--wallet-type askar-anoncreds`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WalletSettings {
    pub extra: Map<String, Value>,
    pub wallet_type: Option<String>,
}

/// `args` as a sub-wallet's settings, or the first flag that cannot be set
/// per wallet.
pub fn wallet_settings(args: &[String]) -> Result<WalletSettings, String> {
    let mut settings = WalletSettings::default();
    let mut args = args.iter().peekable();
    while let Some(arg) = args.next() {
        let Some(flag) = arg.strip_prefix("--") else {
            return Err(arg.clone());
        };
        let (name, inline) = match flag.split_once('=') {
            Some((name, value)) => (name, Some(value.to_owned())),
            None => (flag, None),
        };
        if !PER_WALLET_FLAGS.contains(&name) && name != "wallet-type" {
            return Err(format!("--{name}"));
        }
        let value = match inline {
            Some(v) => Value::String(v),
            None => match args.next_if(|next| !next.starts_with("--")) {
                Some(v) => Value::String(v.clone()),
                None => Value::Bool(true),
            },
        };
        match (name, value) {
            ("wallet-type", Value::String(kind)) => settings.wallet_type = Some(kind),
            ("wallet-type", _) => return Err("--wallet-type".into()),
            (name, value) => {
                settings.extra.insert(name.to_owned(), value);
            }
        }
    }
    Ok(settings)
}

/// Runs cases on sub-wallets of base agents that `inner` starts: one per
/// set of suite flags (`agent_args`), which the base agent holds for its
/// sub-wallets (a ledger's genesis, a tails server).
pub struct SharedProvider {
    inner: Arc<dyn Provider>,
    bases: tokio::sync::Mutex<Vec<(Vec<String>, Arc<Base>)>>,
    /// How many base agents a set of suite flags may have.
    per_set: usize,
}

impl SharedProvider {
    pub fn new(inner: Arc<dyn Provider>) -> SharedProvider {
        SharedProvider {
            inner,
            bases: tokio::sync::Mutex::default(),
            per_set: 1,
        }
    }

    /// Up to `per_set` base agents for a set of suite flags, each started
    /// when the others all have cases: an agent is one Python process, so
    /// one core, and with `-j N` N cases at a time would queue on it.
    pub fn with_bases(mut self, per_set: usize) -> SharedProvider {
        self.per_set = per_set.max(1);
        self
    }

    /// The running base agent with `suite_args`, started on first use, and
    /// again after one died.
    async fn base(&self, suite_args: &[String], case: &Scope) -> Result<Arc<Base>, ProviderError> {
        let mut bases = self.bases.lock().await;
        // A base agent killed between two cases is seen here, not by the
        // first sub-wallet request of the next case.
        let mut index = 0;
        while index < bases.len() {
            let (args, base) = &bases[index];
            if args == suite_args && base.alive() {
                if let Some(why) = base.handle.lock().await.gone().await {
                    base.mark_dead(&why);
                }
            }
            if args == suite_args && !base.alive() {
                let (_, dead) = bases.remove(index);
                dead.stop().await;
            } else {
                index += 1;
            }
        }
        // The least busy of the set's base agents (a case holds its base
        // while it runs); a new one while each has cases and the set has
        // fewer than `per_set`: one Python process is one core.
        let least_busy = bases
            .iter()
            .filter(|(args, _)| args == suite_args)
            .map(|(_, base)| base)
            .min_by_key(|base| Arc::strong_count(base));
        let count = bases.iter().filter(|(args, _)| args == suite_args).count();
        if let Some(base) = least_busy {
            if Arc::strong_count(base) == 1 || count >= self.per_set {
                return Ok(base.clone());
            }
        }
        let spec = AgentSpec {
            role: "tenants".into(),
            label: "acapy-harness base agent".into(),
            suite_args: suite_args.to_vec(),
            args: std::iter::empty()
                .chain(
                    [
                        "--multitenant",
                        "--multitenant-admin",
                        // Its sub-wallets get RAW keys too: created in milliseconds.
                        "--wallet-key-derivation-method",
                        "RAW",
                    ]
                    .map(String::from),
                )
                .collect(),
            env: vec![("ACAPY_MULTITENANT_JWT_SECRET".into(), generate_api_key())],
            ..AgentSpec::default()
        };
        // Its own scope: it outlives the case that first needed it.
        let label = self.inner.label();
        let scope = Scope::new(
            CaseId {
                name: format!("base-agent::{label}"),
                scenario: format!("base agent of {label}"),
            },
            case.run.clone(),
        );
        let mut agents = match self.inner.start(std::slice::from_ref(&spec), &scope).await {
            Ok(agents) => agents,
            Err(e) => {
                scope.close().await;
                return Err(match e {
                    ProviderError::Failed(e) => {
                        ProviderError::Failed(e.context("the shared base agent did not start"))
                    }
                    unavailable => unavailable,
                });
            }
        };
        let agent = agents.pop().expect("one spec, one agent");
        let base = Arc::new(Base {
            label,
            admin: agent.admin,
            version: agent.version,
            handle: tokio::sync::Mutex::new(agent.handle),
            dead: Mutex::new(None),
            scope,
        });
        bases.push((suite_args.to_vec(), base.clone()));
        Ok(base)
    }

    /// Says once per scenario why its cases run on dedicated agents.
    fn tell_dedicated(&self, scope: &Scope, why: &str) {
        let scenario = &scope.case.scenario;
        scope.notices().tell(Notice::once(
            format!("dedicated agents: {scenario}"),
            format!("{scenario} runs on dedicated agents: {why}"),
        ));
    }
}

#[async_trait]
impl Provider for SharedProvider {
    fn kind(&self) -> &'static str {
        self.inner.kind()
    }

    /// The same as the inner provider's: the mode is reported, not named.
    fn label(&self) -> String {
        self.inner.label()
    }

    fn requested_version(&self) -> Option<crate::version::Version> {
        self.inner.requested_version()
    }

    async fn image_id(&self) -> Option<String> {
        self.inner.image_id().await
    }

    fn reach(&self) -> Reach {
        self.inner.reach()
    }

    fn service_address(&self, service: &ServiceEndpoint) -> (String, u16) {
        self.inner.service_address(service)
    }

    /// Agents with files run dedicated: the inner provider places them.
    fn file_placement(&self, inside: &str) -> FilePlacement {
        self.inner.file_placement(inside)
    }

    async fn availability(&self) -> Result<(), Unavailable> {
        self.inner.availability().await
    }

    async fn sweep_stale(&self, notices: &Notices) -> usize {
        self.inner.sweep_stale(notices).await
    }

    async fn prepare(&self, notices: &Notices) -> Result<(), ProviderError> {
        self.inner.prepare(notices).await
    }

    async fn start(&self, specs: &[AgentSpec], scope: &Scope) -> Result<Vec<Agent>, ProviderError> {
        if let Some(why) = specs.iter().find_map(|s| s.own_agent.as_deref()) {
            self.tell_dedicated(scope, why);
            return self.inner.start(specs, scope).await;
        }
        // A sub-wallet cannot read files, and when its base agent sits on a
        // network of its own, it cannot reach the case's services or the
        // agents of another source either.
        let isolated = self.inner.reach() == Reach::CaseNetwork;
        if specs
            .iter()
            .any(|s| !s.files.is_empty() || (isolated && s.has_neighbours))
        {
            self.tell_dedicated(
                scope,
                "agents on the case network (beside services or other versions) or with files need their own",
            );
            return self.inner.start(specs, scope).await;
        }
        let mut settings = Vec::new();
        for spec in specs {
            match wallet_settings(&spec.args) {
                Ok(s) => settings.push(s),
                Err(flag) => {
                    self.tell_dedicated(scope, &format!("`{flag}` cannot be set per sub-wallet"));
                    return self.inner.start(specs, scope).await;
                }
            }
        }
        // The suite's flags are the base agent's; a case's roles share them.
        let suite_args = specs
            .first()
            .map(|s| s.suite_args.clone())
            .unwrap_or_default();
        // A base agent found dead here is replaced once: the cases that
        // were running on it fail, later ones get a new one.
        let mut tries = 2;
        loop {
            tries -= 1;
            let base = self.base(&suite_args, scope).await?;
            match base.create_wallets(specs, &settings).await {
                Err(e) if tries > 0 && !base.alive() => {
                    scope
                        .notices()
                        .say(format!("{e:#}\nstarting a new shared base agent"));
                }
                other => return Ok(other?),
            }
        }
    }

    async fn kept_agents(&self) -> Vec<KeptAgent> {
        let bases = self.bases.lock().await;
        let mut kept = Vec::new();
        for (suite_args, base) in bases.iter().filter(|(_, base)| base.alive()) {
            let handle = base.handle.lock().await;
            kept.push(KeptAgent {
                label: base.label.clone(),
                suite_args: suite_args.clone(),
                pid: handle.pid(),
                home: handle.home(),
                admin: base.admin.clone(),
            });
        }
        kept
    }

    async fn finish(&self) {
        let bases = std::mem::take(&mut *self.bases.lock().await);
        futures_util::future::join_all(bases.iter().map(|(_, base)| base.stop())).await;
        self.inner.finish().await;
    }
}

/// The multitenant agent the sub-wallets live on.
struct Base {
    /// Its source, for messages.
    label: String,
    /// Authenticated with the base agent's API key.
    admin: AdminEndpoint,
    version: String,
    handle: tokio::sync::Mutex<Box<dyn AgentHandle>>,
    /// Why it stopped answering, once it did.
    dead: Mutex<Option<String>>,
    /// What it made beside itself (its network, in a container).
    scope: Scope,
}

impl Base {
    fn alive(&self) -> bool {
        self.cause().is_none()
    }

    fn api_key(&self) -> Option<String> {
        match &self.admin.auth {
            AdminAuth::ApiKey(key) => Some(key.clone()),
            _ => None,
        }
    }

    /// A sub-wallet per spec; on error, none is left.
    async fn create_wallets(
        self: &Arc<Self>,
        specs: &[AgentSpec],
        settings: &[WalletSettings],
    ) -> anyhow::Result<Vec<Agent>> {
        let mut agents = Vec::new();
        for (spec, settings) in specs.iter().zip(settings) {
            match self.create_wallet(spec, settings.clone()).await {
                Ok(agent) => agents.push(agent),
                Err(e) => {
                    super::stop_all(&mut agents).await;
                    return Err(e);
                }
            }
        }
        Ok(agents)
    }

    async fn create_wallet(
        self: &Arc<Self>,
        spec: &AgentSpec,
        settings: WalletSettings,
    ) -> anyhow::Result<Agent> {
        let client = AdminClient::new(&self.admin);
        let body = json!({
            "wallet_name": format!("{}-{}", spec.role, generate_api_key()),
            "wallet_key": raw_wallet_key(),
            "wallet_type": settings.wallet_type.as_deref().unwrap_or("askar"),
            "wallet_key_derivation": "RAW",
            "label": spec.label,
            "wallet_dispatch_type": "default",
            "extra_settings": settings.extra,
        });
        let exchange = client
            .send(
                &spec.role,
                reqwest::Method::POST,
                "/multitenancy/wallet",
                &[],
                Some(&body),
            )
            .await;
        let exchange = match exchange {
            Ok(exchange) => exchange,
            Err(e) => return Err(self.died(&e.to_string()).await),
        };
        let field = |name: &str| {
            exchange
                .response
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let (Some(wallet_id), Some(token)) = (field("wallet_id"), field("token")) else {
            return Err(anyhow!(
                "the shared base agent ({}) did not create a sub-wallet for `{}`: HTTP {} {}",
                self.label,
                spec.role,
                exchange.status,
                exchange.response
            ));
        };
        Ok(Agent {
            role: spec.role.clone(),
            admin: AdminEndpoint::new(
                &self.admin.url,
                AdminAuth::Bearer {
                    token,
                    wallet_id: wallet_id.clone(),
                    api_key: self.api_key(),
                },
            ),
            version: self.version.clone(),
            mode: AgentMode::Shared,
            handle: Box::new(SubWallet {
                base: self.clone(),
                wallet_id: Some(wallet_id),
            }),
        })
    }

    /// Marks the base agent as gone; the next case starts a new one.
    async fn died(&self, cause: &str) -> anyhow::Error {
        let log = self.handle.lock().await.log_tail(20).await;
        self.mark_dead(cause);
        let mut message = format!(
            "the shared base agent ({}) stopped answering: {cause}",
            self.label
        );
        if let Some(log) = log.filter(|l| !l.trim().is_empty()) {
            message.push_str(&format!("\n--- last lines of its log ---\n{log}"));
        }
        anyhow!(message)
    }

    fn cause(&self) -> Option<String> {
        self.dead.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn mark_dead(&self, cause: &str) {
        *self.dead.lock().unwrap_or_else(|e| e.into_inner()) = Some(cause.to_owned());
    }

    async fn stop(&self) {
        self.handle.lock().await.stop().await;
        self.scope.close().await;
    }
}

/// A role's sub-wallet; stopping it removes the wallet.
struct SubWallet {
    base: Arc<Base>,
    /// `None` once removed.
    wallet_id: Option<String>,
}

#[async_trait]
impl AgentHandle for SubWallet {
    /// The base agent's log: every sub-wallet's lines are in it.
    async fn log_tail(&self, lines: usize) -> Option<String> {
        self.base.handle.lock().await.log_tail(lines).await
    }

    fn log_owner(&self) -> Option<String> {
        Some(format!(
            "the shared base agent of {}, with every role's and case's lines",
            self.base.label
        ))
    }

    async fn gone(&self) -> Option<String> {
        // Once a later case has replaced and stopped the base agent, its
        // handle no longer knows how it ended: the cause kept does.
        let why = match self.base.cause() {
            Some(why) => why,
            None => {
                let why = self.base.handle.lock().await.gone().await?;
                self.base.mark_dead(&why);
                why
            }
        };
        Some(format!(
            "(its shared base agent, {}, {why})",
            self.base.label
        ))
    }

    async fn stop(&mut self) {
        let Some(wallet_id) = self.wallet_id.take() else {
            return;
        };
        if !self.base.alive() {
            return;
        }
        let client = AdminClient::new(&self.base.admin);
        let path = format!("/multitenancy/wallet/{wallet_id}/remove");
        let removed = client
            .send(
                "tenants",
                reqwest::Method::POST,
                &path,
                &[],
                Some(&json!({})),
            )
            .await;
        if let Err(e) = removed {
            self.base.died(&e.to_string()).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn per_wallet_flags_become_extra_settings() {
        let settings = wallet_settings(&args(
            "--auto-respond-credential-offer --log-level debug --preserve-exchange-records",
        ))
        .unwrap();
        assert_eq!(settings.wallet_type, None);
        assert_eq!(
            Value::Object(settings.extra),
            json!({
                "auto-respond-credential-offer": true,
                "log-level": "debug",
                "preserve-exchange-records": true,
            })
        );
        assert_eq!(
            Value::Object(wallet_settings(&args("--log-level=info")).unwrap().extra),
            json!({"log-level": "info"})
        );
        assert!(wallet_settings(&[]).unwrap().extra.is_empty());
        // The wallet type is the sub-wallet's own.
        let anoncreds = wallet_settings(&args("--wallet-type askar-anoncreds")).unwrap();
        assert_eq!(anoncreds.wallet_type.as_deref(), Some("askar-anoncreds"));
        assert!(anoncreds.extra.is_empty());
    }

    #[test]
    fn other_flags_name_themselves() {
        assert_eq!(
            wallet_settings(&args(
                "--auto-respond-credential-offer --auto-store-credential"
            )),
            Err("--auto-store-credential".into())
        );
        assert_eq!(
            wallet_settings(&args("--genesis-url http://ledger:8000/genesis")),
            Err("--genesis-url".into())
        );
    }
}
