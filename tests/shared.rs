//! The shared provider against real ACA-Py (1.3.6 as processes): roles are
//! sub-wallets of one base agent, removed after their case; a base agent
//! that dies is replaced for later cases; nothing outlives `finish`.
//!
//! `cargo test --test shared` (needs `acapy-harness install --acapy 1.3.6`,
//! which `.ci/run` does).

use acapy_harness::admin::{AdminAuth, AdminClient, AdminEndpoint};
use acapy_harness::agents::process::ProcessProvider;
use acapy_harness::agents::shared::SharedProvider;
use acapy_harness::agents::version::Release;
use acapy_harness::agents::{stop_all, Agent, AgentSpec, Provider, Scope};
use serde_json::Value;
use std::sync::Arc;

fn provider() -> SharedProvider {
    let inner = ProcessProvider::new(Release::parse("1.3.6").unwrap());
    SharedProvider::new(Arc::new(inner))
}

fn spec(role: &str, args: &[&str]) -> AgentSpec {
    AgentSpec {
        role: role.into(),
        label: format!("{role} label"),
        args: args.iter().map(|a| a.to_string()).collect(),
        ..AgentSpec::default()
    }
}

/// The base agent of a sub-wallet, authenticated with its API key.
fn base_of(agent: &Agent) -> AdminEndpoint {
    let AdminAuth::Bearer { api_key, .. } = &agent.admin.auth else {
        panic!("{} is not a sub-wallet: {:?}", agent.role, agent.admin.auth);
    };
    let key = api_key.clone().expect("the base agent has an API key");
    AdminEndpoint::new(&agent.admin.url, AdminAuth::ApiKey(key))
}

async fn get(endpoint: &AdminEndpoint, path: &str) -> Result<Value, reqwest::Error> {
    let exchange = AdminClient::new(endpoint)
        .send("test", reqwest::Method::GET, path, &[], None)
        .await?;
    assert_eq!(exchange.status, 200, "GET {path}: {:?}", exchange.response);
    Ok(exchange.response)
}

async fn wallet_names(base: &AdminEndpoint) -> Vec<String> {
    let listed = get(base, "/multitenancy/wallets").await.unwrap();
    listed["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["settings"]["wallet.name"].as_str().unwrap().to_owned())
        .collect()
}

/// The pid of the process whose command line binds the admin API to `url`'s port.
fn pid_serving(url: &str) -> Option<i32> {
    let port = url.rsplit(':').next()?;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
        let serves = args
            .windows(3)
            .any(|w| w[0] == b"--admin" && w[1] == b"127.0.0.1" && w[2] == port.as_bytes());
        if serves {
            return Some(pid);
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_are_sub_wallets_of_one_base_agent_and_are_removed_after_their_case() {
    let provider = provider();
    let specs = [
        spec("issuer", &["--preserve-exchange-records"]),
        spec("holder", &[]),
    ];
    let mut first = provider
        .start(&specs, &Scope::standalone("case-1"))
        .await
        .expect("case 1 starts");
    let mut second = provider
        .start(&specs, &Scope::standalone("case-2"))
        .await
        .expect("case 2 starts");
    let base = base_of(&first[0]);
    for agent in first.iter().chain(&second) {
        assert_eq!(
            agent.admin.url, base.url,
            "every role on the one base agent"
        );
        assert_eq!(agent.version, "1.3.6");
    }
    let ids: std::collections::BTreeSet<_> = first
        .iter()
        .chain(&second)
        .map(|a| a.admin.auth.wallet_id().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 4, "a fresh sub-wallet per role and case");

    // Each sub-wallet answers with its own settings: the role's flags...
    let issuer = get(&first[0].admin, "/settings").await.unwrap();
    assert_eq!(issuer["preserve_exchange_records"], true, "{issuer}");
    let holder = get(&first[1].admin, "/settings").await.unwrap();
    assert!(
        holder.get("preserve_exchange_records").is_none(),
        "{holder}"
    );
    // ...and the role's label.
    let wallet_id = first[0].admin.auth.wallet_id().unwrap();
    let record = get(&base, &format!("/multitenancy/wallet/{wallet_id}")).await;
    assert_eq!(record.unwrap()["settings"]["default_label"], "issuer label");
    assert_eq!(wallet_names(&base).await.len(), 4);

    stop_all(&mut first).await;
    let left = wallet_names(&base).await;
    assert_eq!(left.len(), 2, "case 1's wallets are removed: {left:?}");
    stop_all(&mut second).await;
    assert_eq!(wallet_names(&base).await, Vec::<String>::new());

    provider.finish().await;
    assert!(
        get(&base, "/status").await.is_err(),
        "the base agent is stopped"
    );
    assert_eq!(pid_serving(&base.url), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_with_a_flag_that_is_not_per_wallet_gets_a_dedicated_agent() {
    let provider = provider();
    let mut agents = provider
        .start(
            &[spec("holder", &["--auto-store-credential"])],
            &Scope::standalone("dedicated-case"),
        )
        .await
        .expect("starts");
    assert!(matches!(agents[0].admin.auth, AdminAuth::ApiKey(_)));
    stop_all(&mut agents).await;
    provider.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_base_agent_is_replaced_for_later_cases() {
    let provider = provider();
    let mut first = provider
        .start(&[spec("a", &[])], &Scope::standalone("before"))
        .await
        .unwrap();
    let old = base_of(&first[0]);
    let pid = pid_serving(&old.url).expect("the base agent's process");
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
    // Its sub-wallet is gone with it: stopping it must not hang or panic.
    stop_all(&mut first).await;

    let mut later = provider
        .start(&[spec("a", &[])], &Scope::standalone("after"))
        .await
        .unwrap();
    let new = base_of(&later[0]);
    assert_ne!(new.url, old.url, "a new base agent");
    assert!(get(&later[0].admin, "/wallet/did").await.is_ok());
    stop_all(&mut later).await;
    provider.finish().await;
    assert_eq!(pid_serving(&new.url), None);
}
