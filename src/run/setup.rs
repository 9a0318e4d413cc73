//! What a case has before its first step: its variables, its services, and
//! each role's agent settings rendered for where that agent runs.
//!
//! Order matters: the variables (`vars`, `--var`, `${run_id}`) come first,
//! then the services (whose settings read variables), then the agents
//! (whose `args`, `env` and files read variables, `${services.*}` and
//! `${files.*}`).

use super::fault::Fault;
use super::RunOptions;
use crate::agents::cleanup;
use crate::agents::services::{self, RunServices, ServiceSpec, Services};
use crate::agents::{
    AgentSpec, FilePlacement, Provider, ProviderError, Scope, ServiceEndpoint, Unavailable,
};
use crate::diagnostic::Diagnostic;
use crate::redact::{is_secret_name, Redactor};
use crate::scenario::model::{Action, AgentDecl, Readiness, ServiceDecl, ServiceScope};
use crate::scenario::template::{env_name, Template, Vars};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// A case ready for its agents.
pub(super) struct Setup {
    /// The variables the first step sees, `${services.*}` included.
    pub vars: Vars,
    /// The case's own services (`scope: case`).
    pub services: Option<Services>,
    /// The run's services it uses (`scope: run`), started by whichever case
    /// needed them first.
    run_services: Vec<ServiceEndpoint>,
    /// The services it uses that already run (`--service-url`), by name.
    running_elsewhere: Vec<(String, reqwest::Url)>,
    /// Each role's agent, as its provider starts it.
    pub specs: BTreeMap<String, AgentSpec>,
    /// Where process agents find their files; removed with the case.
    files_dir: Option<(tempfile::TempDir, cleanup::Token)>,
}

/// Why a case cannot go on to its agents.
pub(super) enum SetupError {
    /// The machine lacks something (an image, a secret in the environment).
    Skip(Unavailable),
    /// Boxed: a failure carries its whole story, and setup returns often.
    Fail(Box<Fault>),
}

impl SetupError {
    fn fail(failure: Fault) -> SetupError {
        SetupError::Fail(Box::new(failure))
    }
}

impl From<Diagnostic> for SetupError {
    fn from(d: Diagnostic) -> SetupError {
        SetupError::fail(d.into())
    }
}

impl Setup {
    /// Renders the variables, starts the services and renders each role's
    /// agent settings. Secret values met on the way go to `secrets`.
    pub(super) async fn make(
        case: &super::Case,
        options: &RunOptions,
        scope: &Scope,
        secrets: &mut Redactor,
    ) -> Result<Setup, SetupError> {
        let scenario = &case.scenario;
        let mut vars = first_vars(case, options)?;
        let (for_run, for_case): (Vec<_>, Vec<_>) = services_of(case, options)
            .into_iter()
            .filter(|d| !options.service_urls.contains_key(&d.name))
            .partition(|d| d.scope == ServiceScope::Run);
        // Declared, and already running somewhere (`--service-url`).
        let running_elsewhere = services_of(case, options)
            .into_iter()
            .filter_map(|d| Some((d.name.clone(), options.service_urls.get(&d.name)?.clone())))
            .collect();
        let not_started = |e: ProviderError| match e {
            ProviderError::Unavailable(why) => SetupError::Skip(why),
            ProviderError::Failed(e) => {
                SetupError::fail(Fault::new("the services did not start").note(format!("{e:#}")))
            }
        };
        // Rendered with what every case of the run shares, not a case's own
        // `vars`: they are started once.
        let run_services = match for_run.is_empty() {
            true => Vec::new(),
            false => {
                let run_vars = outside_vars(options);
                let specs = for_run
                    .iter()
                    .map(|d| render_service(d, &run_vars, secrets))
                    .collect::<Result<Vec<_>, _>>()?;
                RunServices::start_once(&specs, &scope.run)
                    .await
                    .map_err(not_started)?
            }
        };
        let services = match for_case.is_empty() {
            true => None,
            false => {
                let specs = for_case
                    .iter()
                    .map(|d| render_service(d, &vars, secrets))
                    .collect::<Result<Vec<_>, _>>()?;
                Some(Services::start(&specs, scope).await.map_err(not_started)?)
            }
        };
        // Agents that must reach the case's services or agents of other
        // sources (the run's services are on a network all agents join).
        let has_neighbours = services.is_some() || case.providers().len() > 1;
        let mut setup = Setup {
            vars: Vars::new(),
            services,
            run_services,
            running_elsewhere,
            specs: BTreeMap::new(),
            files_dir: None,
        };
        // Steps see the services as the first role's agent does.
        let first = &case.sources[&scenario.agents[0].role];
        vars.extend(setup.service_vars(first.as_ref()));
        for decl in &scenario.agents {
            let provider = case.sources[&decl.role].as_ref();
            let spec = match setup.agent_spec(case, decl, provider, &vars, options, secrets) {
                Ok(spec) => spec,
                Err(e) => {
                    setup.finish().await;
                    return Err(e);
                }
            };
            setup.specs.insert(
                decl.role.clone(),
                AgentSpec {
                    has_neighbours,
                    ..spec
                },
            );
        }
        setup.vars = vars;
        Ok(setup)
    }

    /// `services.NAME.host`, `.port` and `.url` as `provider`'s agents
    /// reach them.
    fn service_vars(&self, provider: &dyn Provider) -> Vars {
        let mut vars = Vars::new();
        let case_services = self.services.iter().flat_map(Services::endpoints);
        for service in self.run_services.iter().cloned().chain(case_services) {
            let (host, port) = provider.service_address(&service);
            let prefix = format!("services.{}", service.name);
            vars.insert(
                format!("{prefix}.url"),
                format!("http://{host}:{port}").into(),
            );
            vars.insert(format!("{prefix}.host"), host.into());
            vars.insert(format!("{prefix}.port"), port.into());
        }
        // Reached where they run, by every agent alike.
        for (name, url) in &self.running_elsewhere {
            let prefix = format!("services.{name}");
            let host = url.host_str().unwrap_or_default().to_owned();
            let port = url.port_or_known_default().unwrap_or_default();
            let text = url.as_str().trim_end_matches('/').to_owned();
            vars.insert(format!("{prefix}.url"), text.into());
            vars.insert(format!("{prefix}.host"), host.into());
            vars.insert(format!("{prefix}.port"), port.into());
        }
        vars
    }

    fn agent_spec(
        &mut self,
        case: &super::Case,
        decl: &AgentDecl,
        provider: &dyn Provider,
        case_vars: &Vars,
        options: &RunOptions,
        secrets: &mut Redactor,
    ) -> Result<AgentSpec, SetupError> {
        let mut vars = case_vars.clone();
        vars.extend(self.service_vars(provider));
        let mut files = Vec::new();
        for file in &decl.files {
            let content = file.content.render_text(&vars)?;
            let path = match provider.file_placement(&file.container_path) {
                FilePlacement::Inside(path) => {
                    files.push((path.clone(), content.into_bytes()));
                    path
                }
                FilePlacement::OnThisMachine => {
                    self.write_file(&decl.role, &file.name, &file.container_path, &content)?
                }
            };
            vars.insert(format!("files.{}", file.name), path.into());
        }
        let mut suite_args = Vec::new();
        for arg in &options.agent_args {
            suite_args.push(arg.render_text(&vars)?);
        }
        let mut args = Vec::new();
        for arg in &decl.args {
            args.push(arg.render_text(&vars)?);
        }
        let mut env = Vec::new();
        for (name, template) in &decl.env {
            let value = template.render_text(&vars)?;
            if is_secret(name, template) {
                secrets.add(&value);
            }
            env.push((name.clone(), value));
        }
        let role = decl.role.as_str();
        Ok(AgentSpec {
            role: decl.role.clone(),
            label: decl.label.clone(),
            suite_args,
            args,
            env,
            own_agent: case
                .scenario
                .own_agents
                .as_ref()
                .map(|reason| format!("it says so (`own_agents`): {reason}"))
                .or_else(|| {
                    let step = case.scenario.steps.iter().find(|s| {
                        matches!(s.action, Action::Restart | Action::Stop)
                            && s.agent.as_deref() == Some(role)
                    })?;
                    Some(format!("`{}` needs an agent of its own", step.name))
                }),
            has_neighbours: false,
            files,
        })
    }

    /// Writes a process agent's file into the case's folder and returns
    /// its path: `FOLDER/ROLE/NAME/FILE`.
    fn write_file(
        &mut self,
        role: &str,
        name: &str,
        container_path: &str,
        content: &str,
    ) -> Result<String, SetupError> {
        let fail = |e: std::io::Error| {
            SetupError::fail(Fault::new(format!(
                "cannot write the file `{name}` of `{role}`: {e}"
            )))
        };
        if self.files_dir.is_none() {
            self.files_dir = Some(cleanup::temp_dir("files").map_err(fail)?);
        }
        let (dir, _) = self.files_dir.as_ref().expect("made above");
        let file_name = Path::new(container_path)
            .file_name()
            .map(|n| n.to_owned())
            .unwrap_or_else(|| name.into());
        let folder = dir.path().join(role).join(name);
        std::fs::create_dir_all(&folder).map_err(fail)?;
        let path = folder.join(file_name);
        std::fs::write(&path, content).map_err(fail)?;
        Ok(path.display().to_string())
    }

    /// Stops the services (after the agents), keeping their logs.
    pub(super) async fn finish(&mut self) -> Vec<(String, String)> {
        match self.services.take() {
            Some(services) => {
                let logs = services.logs();
                services.stop().await;
                logs
            }
            None => Vec::new(),
        }
    }

    /// Where each service answers on this machine: `service:` steps go there.
    pub(super) fn service_urls(&self) -> BTreeMap<String, String> {
        let case_services = self.services.iter().flat_map(Services::endpoints);
        self.run_services
            .iter()
            .cloned()
            .chain(case_services)
            .map(|s| (s.name, format!("http://127.0.0.1:{}", s.host_port)))
            .chain(
                self.running_elsewhere.iter().map(|(name, url)| {
                    (name.clone(), url.as_str().trim_end_matches('/').to_owned())
                }),
            )
            .collect()
    }

    /// Each service's log so far.
    pub(super) fn service_logs(&self) -> Vec<(String, String)> {
        self.services.iter().flat_map(Services::logs).collect()
    }
}

/// `${run_id}`, the variables given from outside, then the scenario's
/// `vars` in order (each may use those above it; outside ones win).
fn first_vars(case: &super::Case, options: &RunOptions) -> Result<Vars, SetupError> {
    let mut vars = outside_vars(options);
    for (name, template) in &case.scenario.vars {
        if options.inputs.vars.contains_key(name) {
            continue;
        }
        let value = template.render(&vars)?;
        vars.insert(name.clone(), value);
    }
    Ok(vars)
}

/// `${run_id}` and the variables given from outside: what every case of
/// the run sees alike.
fn outside_vars(options: &RunOptions) -> Vars {
    let mut vars = Vars::new();
    vars.insert("run_id".into(), Value::String(super::run_id()));
    vars.extend(
        options
            .inputs
            .vars
            .iter()
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    vars
}

/// The scenario's services, then the suite's that it does not redefine.
fn services_of<'a>(case: &'a super::Case, options: &'a RunOptions) -> Vec<&'a ServiceDecl> {
    let own = &case.scenario.services;
    own.iter()
        .chain(
            options
                .services
                .iter()
                .filter(|s| !own.iter().any(|o| o.name == s.name)),
        )
        .collect()
}

/// A service's settings for this case. `${env.NAME}` is read now: one that
/// is not set skips the case, naming it.
fn render_service(
    decl: &ServiceDecl,
    vars: &Vars,
    secrets: &mut Redactor,
) -> Result<ServiceSpec, SetupError> {
    let render = |t: &Template| -> Result<String, SetupError> {
        if let Some(unset) = t
            .vars()
            .into_iter()
            .filter_map(|v| env_name(&v.name))
            .find(|name| std::env::var_os(name).is_none())
        {
            return Err(SetupError::Skip(Unavailable(format!(
                "service `{}` needs the environment variable {unset}, which is not set",
                decl.name
            ))));
        }
        Ok(t.render_text(vars)?)
    };
    let mut env = Vec::new();
    for (name, template) in &decl.env {
        let value = render(template)?;
        if is_secret(name, template) {
            secrets.add(&value);
        }
        env.push((name.clone(), value));
    }
    let command = match &decl.command {
        Some(args) => Some(args.iter().map(render).collect::<Result<Vec<_>, _>>()?),
        None => None,
    };
    Ok(ServiceSpec {
        name: decl.name.clone(),
        image: decl.image.clone(),
        env,
        command,
        port: decl.port,
        ready: match &decl.ready {
            Readiness::Port => services::Readiness::Port,
            Readiness::Http(path) => services::Readiness::Http(path.clone()),
            Readiness::Log(text) => services::Readiness::Log(text.clone()),
        },
        timeout: decl.ready_timeout,
    })
}

/// An environment value is never shown when its name says it is secret
/// (`POSTGRES_PASSWORD`, `ACAPY_WALLET_STORAGE_CREDS`) or it comes from the
/// harness's own environment (`${env.FEE_PAYER_TESTNET_MNEMONIC}`).
fn is_secret(name: &str, template: &Template) -> bool {
    is_secret_name(name) || template.vars().iter().any(|v| env_name(&v.name).is_some())
}
