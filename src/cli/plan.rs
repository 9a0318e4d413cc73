//! What a run will do, settled before anything starts: files, config,
//! flags, the version matrix and where agents come from.

use super::*;

/// What a run will do, settled before anything starts.
pub(super) struct Plan {
    pub(super) cases: Vec<Case>,
    pub(super) jobs: usize,
    pub(super) options: RunOptions,
    /// How many times a failing case runs again.
    pub(super) retries: u32,
}

/// Everything checked before anything starts: files, config, flags.
pub(super) async fn plan(select: &SelectArgs, jobs: Option<usize>) -> Result<Plan, u8> {
    let mut config = match &select.config {
        Some(path) => Config::read(path),
        None => Config::find(&select.paths),
    }
    .map_err(bad_input)?;
    let inputs = select.inputs.read().map_err(bad_input)?;
    let services = config.take_services(&inputs.names()).map_err(bad_input)?;
    let known = suite::known_names(&inputs, &services);
    let scenarios = suite::load_with(&select.paths, &known).map_err(bad_input)?;
    let mode = agent_mode(select, &config).map_err(bad_input)?;
    let matrix = matrix(select, &config, mode).await.map_err(bad_input)?;
    let tags = suite::TagFilter {
        tags: select.tags.clone(),
        skip_tags: select.skip_tags.clone(),
    };
    let scenarios: Vec<_> = scenarios.into_iter().filter(|s| tags.admits(s)).collect();
    let cases: Vec<Case> = suite::cases_in(&scenarios, &matrix)
        .into_iter()
        .filter(|c| select.filter.is_empty() || select.filter.iter().any(|f| c.name().contains(f)))
        .filter(|c| select.partition.is_none_or(|p| p.contains(&c.scenario.id)))
        .collect();
    if let Some(case) = cases.iter().find(|c| !c.agents_reach_each_other()) {
        return Err(bad_input(format!(
            "error: {} puts some roles in containers and others in local processes, which cannot reach each other\n  = help: give every role the same provider",
            case.name()
        )));
    }
    Ok(Plan {
        cases,
        jobs: jobs.or(config.jobs).unwrap_or(2).max(1),
        retries: config.retries.unwrap_or(0),
        options: RunOptions {
            agent_args: config.agent_args.clone(),
            inputs,
            // Keys given on the command line: never shown.
            secrets: crate::redact::Redactor::new(
                select
                    .agent_keys
                    .iter()
                    .filter_map(|k| k.split_once('=').map(|(_, key)| key)),
            ),
            services,
            ..RunOptions::default()
        },
    })
}

/// `--agents`, else the config file's `agent_mode`, else shared.
pub(super) fn agent_mode(select: &SelectArgs, config: &Config) -> anyhow::Result<AgentMode> {
    match (select.agent_mode, &config.agent_mode) {
        (Some(mode), _) => Ok(mode),
        (None, Some(name)) => AgentMode::parse(name).ok_or_else(|| {
            anyhow::anyhow!(
                "error: unknown agent_mode `{name}` in {} (shared or dedicated)",
                config
                    .path
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            )
        }),
        (None, None) => Ok(AgentMode::Shared),
    }
}

/// Which versions each role takes, and where their agents come from.
pub(super) async fn matrix(
    select: &SelectArgs,
    config: &Config,
    mode: AgentMode,
) -> anyhow::Result<suite::Matrix> {
    let mut versions =
        suite::Versions::parse(&select.acapy).map_err(|e| anyhow::anyhow!("error: --acapy {e}"))?;
    if versions.all.is_empty() {
        versions.all = match config.acapy.is_empty() {
            true => vec![DEFAULT_VERSION.to_owned()],
            false => config.acapy.clone(),
        };
    }
    for (role, list) in &config.role_versions {
        versions
            .pinned
            .entry(role.clone())
            .or_insert_with(|| list.clone());
    }
    let interop = select.interop || config.interop.unwrap_or(false);
    let distinct = versions.distinct();
    let sources = sources(select, config, &distinct).await?;
    if sources.iter().any(|s| !s.starts_agents()) {
        // External agents: every role where it runs.
        if interop || !versions.pinned.is_empty() {
            anyhow::bail!("error: --interop and ROLE=VERSIONS need agents the harness starts");
        }
        return Ok(suite::Matrix::new(sources));
    }
    let sources = select::with_mode(sources, mode, &config.agent_args);
    let by_version: BTreeMap<&String, Arc<dyn Provider>> = distinct.iter().zip(sources).collect();
    let pick = |list: &[String]| {
        list.iter()
            .map(|v| by_version[v].clone())
            .collect::<Vec<_>>()
    };
    Ok(suite::Matrix {
        sources: pick(&versions.all),
        pinned: versions
            .pinned
            .iter()
            .map(|(role, list)| (role.clone(), pick(list)))
            .collect(),
        interop,
    })
}

/// Where agents come from: one source per version, or the external agents.
pub(super) async fn sources(
    select: &SelectArgs,
    config: &Config,
    versions: &[String],
) -> anyhow::Result<Vec<Arc<dyn Provider>>> {
    let provider = match (select.provider, &config.provider) {
        (Some(p), _) => p,
        (None, Some(name)) => ProviderChoice::parse(name).ok_or_else(|| {
            anyhow::anyhow!(
                "error: unknown provider `{name}` in {} (process, docker or external)",
                config
                    .path
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            )
        })?,
        (None, None) => ProviderChoice::Auto,
    };
    if provider == ProviderChoice::External {
        let mut urls = select.agent_urls.clone();
        let mut keys = select.agent_keys.clone();
        for (role, agent) in &config.agents {
            if !urls.iter().any(|u| u.starts_with(&format!("{role}="))) {
                urls.push(format!("{role}={}", agent.url));
                if let Some(var) = &agent.api_key_env {
                    let key = std::env::var(var).map_err(|_| {
                        anyhow::anyhow!("error: the admin API key of `{role}` should be in ${var}, which is not set")
                    })?;
                    keys.push(format!("{role}={key}"));
                }
            }
        }
        return Ok(vec![select::external(&urls, &keys)?]);
    }
    if !select.agent_urls.is_empty() {
        anyhow::bail!("error: --agent-url goes with --provider external");
    }
    let releases = versions
        .iter()
        .map(|v| Release::parse(v).map_err(|e| anyhow::anyhow!("error: {e}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let image = |release: &Release| {
        select
            .image
            .clone()
            .or_else(|| config.images.get(&release.to_string()).cloned())
    };
    Ok(select::for_versions(provider, &releases, image).await)
}
