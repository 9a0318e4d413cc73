//! `services: { NAME: { image, env, command, port, ready } }`, in a scenario
//! or a suite's `acapy-harness.yaml`.

use super::Checker;
use crate::diagnostic::Diagnostic;
use crate::scenario::model::*;
use crate::scenario::raw::*;
use crate::scenario::template::{Template, SERVICE_FIELDS};
use crate::scenario::yaml::{CoreInteger, SpannedMap};
use serde_saphyr::Spanned;
use std::time::Duration;

/// How long a service may take to become ready unless it says.
pub const DEFAULT_SERVICE_TIMEOUT: Duration = Duration::from_secs(60);

impl Checker {
    /// Each service checked; its variables (`services.NAME.host`...) are
    /// set from here on.
    pub(super) fn check_services(
        &mut self,
        raw: SpannedMap<Spanned<RawService>>,
        in_suite: bool,
    ) -> Vec<ServiceDecl> {
        let mut services = Vec::new();
        for (name, service) in raw.0 {
            if let Some(service) = self.check_service(name, service, in_suite) {
                services.push(service);
            }
        }
        let names = services.iter().flat_map(|s| {
            SERVICE_FIELDS
                .iter()
                .map(move |field| format!("services.{}.{field}", s.name))
        });
        self.variables.set(names.collect::<Vec<_>>());
        services
    }

    fn check_service(
        &mut self,
        name: Spanned<String>,
        raw: Spanned<RawService>,
        in_suite: bool,
    ) -> Option<ServiceDecl> {
        let loc = self.key_loc(&name);
        let dns = name.value.len() <= 63
            && name
                .value
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !name.value.starts_with('-')
            && !name.value.ends_with('-')
            && !name.value.is_empty();
        if !dns {
            self.error(
                Diagnostic::at(&loc, format!("invalid service name `{}`", name.value))
                    .label("a DNS name: lower-case letters, digits and `-`")
                    .note("note: the agents reach the service by this name"),
            );
        }
        if self.roles.iter().any(|r| r.replace('_', "-") == name.value) {
            self.error(
                Diagnostic::at(
                    &loc,
                    format!("service `{}` has an agent's name", name.value),
                )
                .label("agents are reached by their role on the same network"),
            );
        }
        let raw = raw.value;
        let env: Vec<(String, Template)> = raw
            .env
            .0
            .iter()
            .filter_map(|(key, value)| {
                self.env_name(key);
                Some((key.value.clone(), self.string_template(value)?))
            })
            .collect();
        let command = raw.command.map(|args| {
            args.iter()
                .filter_map(|a| self.string_template(a))
                .collect::<Vec<_>>()
        });
        for t in env.iter().map(|(_, t)| t).chain(command.iter().flatten()) {
            self.variables.read_later_env(t);
        }
        let port = match CoreInteger::check(&raw.port, &self.file) {
            Ok(0) => {
                let at = self.loc(&raw.port.referenced);
                self.error(Diagnostic::at(&at, "a service's port cannot be 0"));
                0
            }
            Ok(port) => port,
            Err(e) => {
                self.error(e);
                0
            }
        };
        let (ready, ready_timeout) = match raw.ready {
            None => (Readiness::Port, DEFAULT_SERVICE_TIMEOUT),
            Some(ready) => self.check_ready(ready)?,
        };
        let scope = match raw.scope.as_ref().map(|s| (s.value.trim(), s)) {
            None | Some(("case", _)) => ServiceScope::Case,
            Some(("run", _)) if in_suite => ServiceScope::Run,
            Some(("run", written)) => {
                let at = self.loc(&written.referenced).shifted(0, 3);
                self.error(
                    Diagnostic::at(&at, "`scope: run` is for a suite's services")
                        .label("a scenario's services live for its cases")
                        .note("help: declare the service in the suite's acapy-harness.yaml"),
                );
                // Still a service: steps naming it get no second error.
                ServiceScope::Case
            }
            Some((other, written)) => {
                let at = self
                    .loc(&written.referenced)
                    .shifted(0, other.chars().count());
                self.error(
                    Diagnostic::at(&at, format!("`scope` is `case` or `run`, not `{other}`"))
                        .label("how long the service lives"),
                );
                return None;
            }
        };
        Some(ServiceDecl {
            scope,
            name: name.value,
            image: raw.image.value,
            env,
            command,
            port,
            ready,
            ready_timeout,
            loc,
        })
    }

    fn check_ready(&mut self, raw: Spanned<RawReady>) -> Option<(Readiness, Duration)> {
        let loc = self.loc(&raw.referenced);
        let timeout = match &raw.value.timeout {
            Some(t) => self.duration(t)?,
            None => DEFAULT_SERVICE_TIMEOUT,
        };
        let ready = match (raw.value.http, raw.value.log) {
            (Some(_), Some(_)) => {
                self.error(
                    Diagnostic::at(&loc, "`ready` takes `http` or `log`, not both").note(
                        "help: `{ http: /health }` or `{ log: \"ready to accept connections\" }`",
                    ),
                );
                return None;
            }
            (Some(path), None) if !path.value.starts_with('/') => {
                let at = self
                    .loc(&path.referenced)
                    .shifted(0, path.value.chars().count());
                self.error(
                    Diagnostic::at(&at, format!("`{}` is not a path", path.value))
                        .label("a path on the service's port, starting with `/`"),
                );
                return None;
            }
            (Some(path), None) => Readiness::Http(path.value),
            (None, Some(text)) if text.value.is_empty() => {
                let at = self.loc(&text.referenced);
                self.error(Diagnostic::at(
                    &at,
                    "`log` needs the text a ready service writes",
                ));
                return None;
            }
            (None, Some(text)) => Readiness::Log(text.value),
            (None, None) => Readiness::Port,
        };
        Some((ready, timeout))
    }
}
