//! `agents: { ROLE: { label, args, env, files } }`.
//!
//! Roles are checked first (conditions and steps name them); the templates
//! in `args`, `env` and files are read once the variables and services are
//! known, each agent's `${files.NAME}` only in its own settings.

use super::Checker;
use crate::diagnostic::{Diagnostic, SourceFile};
use crate::scenario::model::*;
use crate::scenario::raw::*;
use crate::scenario::template::{is_var_name, Template};
use crate::scenario::yaml::SpannedMap;
use serde_saphyr::Spanned;
use std::path::Path;

/// Where a container agent finds a file whose `to` is not given.
const CONTAINER_FILES: &str = "/acapy-harness/files";

impl Checker {
    /// At least one agent, each role a name.
    pub(super) fn check_agents(&mut self, raw: Spanned<SpannedMap<RawAgent>>) -> Vec<AgentDecl> {
        let mut agents = Vec::new();
        for (role, agent) in raw.value.0 {
            if !is_var_name(&role.value) {
                let loc = self.key_loc(&role);
                self.error(
                    Diagnostic::at(&loc, format!("invalid agent role `{}`", role.value))
                        .label("roles are letters, digits and `_`"),
                );
            }
            let args = agent
                .args
                .iter()
                .filter_map(|a| self.string_template(a))
                .collect();
            let env = agent
                .env
                .0
                .iter()
                .filter_map(|(name, value)| {
                    self.env_name(name);
                    Some((name.value.clone(), self.string_template(value)?))
                })
                .collect();
            let files = agent
                .files
                .0
                .into_iter()
                .filter_map(|(name, file)| self.check_file(name, file))
                .collect();
            agents.push(AgentDecl {
                label: agent
                    .label
                    .map(|l| l.value)
                    .unwrap_or_else(|| role.value.clone()),
                args,
                env,
                files,
                loc: self.key_loc(&role),
                role: role.value,
            });
        }
        if agents.is_empty() {
            let loc = self.loc(&raw.referenced);
            self.error(
                Diagnostic::at(&loc, "a scenario needs at least one agent")
                    .label("no agents declared")
                    .note("help: e.g. `agents: { issuer: {}, holder: {} }`"),
            );
        }
        agents
    }

    /// Every variable an agent's settings read must be known before the
    /// first step: `vars`, services, its own files.
    pub(super) fn read_agent_templates(&mut self, agents: &mut [AgentDecl]) {
        for agent in agents.iter() {
            let files: Vec<String> = agent
                .files
                .iter()
                .map(|f| format!("files.{}", f.name))
                .collect();
            self.variables.set(files.clone());
            for t in agent.args.iter().chain(agent.env.iter().map(|(_, t)| t)) {
                self.variables.read(t);
            }
            for file in &agent.files {
                self.variables.read(&file.content);
            }
            self.variables.unset(&files);
        }
    }

    /// An environment variable's name: what a shell would take.
    pub(super) fn env_name(&mut self, name: &Spanned<String>) {
        let valid = name
            .value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name
                .value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            let loc = self.key_loc(name);
            self.error(
                Diagnostic::at(
                    &loc,
                    format!("invalid environment variable name `{}`", name.value),
                )
                .label("letters, digits and `_`, not starting with a digit"),
            );
        }
    }

    /// `NAME: { from, to }`: the file exists and its `${...}` parse.
    fn check_file(
        &mut self,
        name: Spanned<String>,
        raw: Spanned<RawAgentFile>,
    ) -> Option<AgentFile> {
        let name_loc = self.key_loc(&name);
        if super::super::template::scoped(&format!("files.{}", name.value)).is_none() {
            self.error(
                Diagnostic::at(&name_loc, format!("invalid file name `{}`", name.value))
                    .label("letters, digits, `-` and `_`"),
            );
            return None;
        }
        let from = raw.value.from;
        let from_loc = self
            .loc(&from.referenced)
            .shifted(0, from.value.chars().count());
        let base = self.file.path.parent().unwrap_or(Path::new(""));
        let path = base.join(&from.value);
        // A file that cannot be read or parsed is reported; it is still
        // declared, so `${files.NAME}` does not add a second error.
        let content = match SourceFile::read(&path) {
            Ok(file) => Template::parse_file(&file).unwrap_or_else(|d| {
                self.error(d);
                Template::Literal(String::new().into())
            }),
            Err(e) => {
                self.error(
                    Diagnostic::at(&from_loc, format!("cannot read `{}`: {e}", path.display()))
                        .label("relative to this file"),
                );
                Template::Literal(String::new().into())
            }
        };
        let container_path = match raw.value.to {
            Some(to) if to.value.starts_with('/') => to.value,
            Some(to) => {
                let loc = self
                    .loc(&to.referenced)
                    .shifted(0, to.value.chars().count());
                self.error(
                    Diagnostic::at(
                        &loc,
                        format!("`to` must be an absolute path, not `{}`", to.value),
                    )
                    .label("where a container agent finds the file"),
                );
                return None;
            }
            None => {
                let file_name = Path::new(&from.value)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| name.value.clone());
                format!("{CONTAINER_FILES}/{}/{file_name}", name.value)
            }
        };
        Some(AgentFile {
            name: name.value,
            container_path,
            content,
            loc: name_loc,
        })
    }
}
