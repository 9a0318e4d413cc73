//! Checking the values steps are made of: names, templates, JSONPaths, durations, versions.

use super::Checker;
use crate::diagnostic::Diagnostic;
use crate::scenario::duration::parse_duration;
use crate::scenario::model::*;
use crate::scenario::query::Query;
use crate::scenario::raw::*;
use crate::scenario::template::{is_var_name, Template, Vars, GENERATED_VARS};
use crate::scenario::yaml::{Node, SpannedNode};
use serde_saphyr::Spanned;
use std::time::Duration;

impl Checker {
    pub(super) fn query(&mut self, path: &Spanned<String>) -> Option<Query> {
        let loc = self
            .loc(&path.referenced)
            .shifted(0, path.value.chars().count());
        Query::parse(&path.value, &loc)
            .map_err(|d| self.error(d))
            .ok()
    }

    pub(super) fn var_name(&mut self, key: &Spanned<String>) -> String {
        if !is_var_name(&key.value) {
            let loc = self.key_loc(key);
            self.error(
                Diagnostic::at(&loc, format!("invalid variable name `{}`", key.value))
                    .label("letters, digits and `_`, not starting with a digit"),
            );
        } else if GENERATED_VARS.contains(&key.value.as_str()) {
            let loc = self.key_loc(key);
            self.error(
                Diagnostic::at(&loc, format!("`{}` is a generated value", key.value))
                    .label("cannot be set")
                    .note(format!(
                        "note: `${{{}}}` is made fresh at each use; pick another name",
                        key.value
                    )),
            );
        }
        key.value.clone()
    }

    pub(super) fn string_template(&mut self, s: &Spanned<String>) -> Option<Template> {
        let loc = self.loc(&s.referenced);
        Template::parse_str(&s.value, &loc)
            .map_err(|d| self.error(d))
            .ok()
    }

    pub(super) fn template(&mut self, node: &SpannedNode) -> Option<Template> {
        let loc = self.loc(&node.referenced);
        let t = match &node.value {
            Node::String(s) => Template::parse_str(s, &loc)
                .map_err(|d| self.error(d))
                .ok()?,
            Node::Seq(items) => Template::Array(
                items
                    .iter()
                    .map(|i| self.template(i))
                    .collect::<Option<Vec<_>>>()?,
            ),
            Node::Map(entries) => Template::Object(
                entries
                    .iter()
                    .map(|(k, v)| Some((k.value.clone(), self.template(v)?)))
                    .collect::<Option<Vec<_>>>()?,
            ),
            other => Template::Literal(other.to_json()),
        };
        // Without variables the value is fixed: render it once (which also
        // turns `$${` into `${`).
        Some(if t.vars().is_empty() {
            Template::Literal(t.render(&Vars::new()).expect("no variables to miss"))
        } else {
            t
        })
    }

    pub(super) fn duration(&mut self, s: &Spanned<String>) -> Option<Duration> {
        let parsed = parse_duration(&s.value);
        if parsed.is_none() {
            let loc = self.loc(&s.referenced).shifted(0, s.value.len());
            self.error(
                Diagnostic::at(&loc, format!("invalid duration `{}`", s.value))
                    .label("expected e.g. `500ms`, `30s` or `2m`"),
            );
        }
        parsed
    }

    /// `{ acapy: RANGE, ROLE: RANGE }`, or None when empty or wrong
    /// (reported).
    pub(super) fn condition(&mut self, c: RawCondition) -> Option<Condition> {
        self.condition_parts(c.0.value.0)
    }

    /// `requires: { acapy: RANGE, ROLE: RANGE, plugins: [NAME] }`: the
    /// version condition, and the plugins every agent must load.
    pub(super) fn check_requires(&mut self, raw: RawRequires) -> (Option<Condition>, Vec<String>) {
        let mut ranges = Vec::new();
        let mut plugins = Vec::new();
        for (key, node) in raw.0.value.0 {
            let loc = self.loc(&node.referenced);
            match (key.value.as_str(), node.value) {
                ("plugins", Node::Seq(items)) => {
                    for item in items {
                        match item.value {
                            Node::String(name) if !name.trim().is_empty() => plugins.push(name),
                            other => {
                                let loc = self.loc(&item.referenced);
                                self.error(
                                    Diagnostic::at(
                                        &loc,
                                        format!("a plugin is a module name, not {}", other.kind()),
                                    )
                                    .label("e.g. `cheqd`"),
                                );
                            }
                        }
                    }
                }
                ("plugins", other) => self.error(
                    Diagnostic::at(&loc, format!("`plugins` is a list, not {}", other.kind()))
                        .note("help: `plugins: [cheqd]`"),
                ),
                (_, Node::String(range)) => {
                    ranges.push((key, Spanned::new(range, node.referenced, node.defined)))
                }
                (_, other) => self.error(
                    Diagnostic::at(
                        &loc,
                        format!("a version range is text, not {}", other.kind()),
                    )
                    .note("help: e.g. `acapy: \">=1.3\"`"),
                ),
            }
        }
        let condition = match ranges.is_empty() {
            true => None,
            false => self.condition_parts(ranges),
        };
        (condition, plugins)
    }

    /// The ranges of a condition's entries; every key is `acapy` or a role.
    pub(super) fn condition_parts(
        &mut self,
        entries: Vec<(Spanned<String>, Spanned<String>)>,
    ) -> Option<Condition> {
        let mut parts = Vec::new();
        let mut agents = None;
        let mut valid = true;
        for (key, range) in entries {
            let judged = match key.value.as_str() {
                "acapy" => None,
                "agents" => {
                    let loc = self.loc(&range.referenced).shifted(0, range.value.len());
                    match range.value.trim() {
                        "shared" => agents = Some((AgentsKind::Shared, loc)),
                        "dedicated" => agents = Some((AgentsKind::Dedicated, loc)),
                        other => {
                            self.error(
                                Diagnostic::at(
                                    &loc,
                                    format!("`agents` is `shared` or `dedicated`, not `{other}`"),
                                )
                                .label("how the case's agents were provided"),
                            );
                            valid = false;
                        }
                    }
                    continue;
                }
                role if self.roles.iter().any(|r| r == role) => Some(role.to_owned()),
                other => {
                    let loc = self.key_loc(&key);
                    self.error(
                        Diagnostic::at(
                            &loc,
                            format!("unknown role `{other}` in a version condition"),
                        )
                        .label(format!(
                            "`acapy` (every agent), `agents` (shared or dedicated) or a declared role: {}",
                            self.roles.join(", ")
                        )),
                    );
                    valid = false;
                    continue;
                }
            };
            match self.version_req(&range) {
                Some(range) => parts.push((judged, range)),
                None => valid = false,
            }
        }
        (valid && (!parts.is_empty() || agents.is_some())).then_some(Condition { parts, agents })
    }

    pub(super) fn version_req(&mut self, text: &Spanned<String>) -> Option<VersionCondition> {
        let loc = self.loc(&text.referenced).shifted(0, text.value.len());
        match crate::version::VersionReq::parse(&text.value) {
            Ok(range) => Some(VersionCondition {
                text: text.value.clone(),
                range,
                loc,
            }),
            Err(e) => {
                self.error(
                    Diagnostic::at(&loc, format!("invalid version range `{}`", text.value))
                        .label(e.to_string())
                        .note("help: e.g. `>=1.3`, `<1.5`, `>=0.12, <1.0`, `<1.4 || >=1.5.1`"),
                );
                None
            }
        }
    }
}
