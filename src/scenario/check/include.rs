//! Checking `include`: reading the included file and checking its steps in place.
//!
//! A `with:` becomes a `set` step before them.

use super::Checker;
use crate::diagnostic::{Diagnostic, Loc, SourceFile};
use crate::scenario::model::*;
use crate::scenario::raw::*;
use crate::scenario::yaml::{parse_yaml, SpannedMap, SpannedNode};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const MAX_INCLUDE_DEPTH: usize = 8;

/// An included file, read and parsed.
struct Fixture {
    path: PathBuf,
    file: Arc<SourceFile>,
    raw: RawFixture,
}

impl Checker {
    /// The steps an `include` brings go to `out`, named after the include
    /// when it has a name.
    pub(super) fn check_include(&mut self, raw: RawStep, out: &mut Vec<Step>) {
        let include = raw.include.as_ref().expect("include present");
        let loc = self
            .loc(&include.referenced)
            .shifted(0, include.value.chars().count());
        self.reject_fields_beside_include(&loc, &raw);
        let Some(fixture) = self.read_fixture(&loc, &include.value) else {
            self.variables.include_failed();
            return;
        };
        // The include's name, if any, heads the names of the steps it brings.
        let title = raw.name.map(|n| n.value);
        if let Some(with) = raw.with {
            let name = title
                .clone()
                .unwrap_or_else(|| format!("include {}", include.value));
            let step = self.check_with(with, name, loc);
            out.push(step);
        }
        let first = out.len();
        self.check_fixture_steps(fixture, out);
        if let Some(title) = &title {
            for step in &mut out[first..] {
                step.name = format!("{title}: {}", step.name);
            }
        }
    }

    /// An include takes `name` and `with` only.
    fn reject_fields_beside_include(&mut self, loc: &Loc, raw: &RawStep) {
        for (field, present) in [
            ("agent", raw.agent.is_some()),
            ("expect", raw.expect.is_some()),
            ("capture", raw.capture.is_some()),
            ("query", raw.query.is_some()),
            ("body", raw.body.is_some()),
            ("when", raw.when.is_some()),
        ] {
            if present {
                self.error(
                    Diagnostic::at(loc, format!("`{field}` cannot go with `include`")).note(
                        "help: an include takes `name` and `with` only; its steps say the rest",
                    ),
                );
            }
        }
    }

    /// Reads and parses the included file (relative to the including one),
    /// unless the includes go round in a circle.
    fn read_fixture(&mut self, loc: &Loc, relative: &str) -> Option<Fixture> {
        let base = self.file.path.parent().unwrap_or(Path::new("."));
        let path = base.join(relative);
        if self.include_stack.len() > MAX_INCLUDE_DEPTH || self.include_stack.contains(&path) {
            self.error(
                Diagnostic::at(loc, "includes go round in a circle").label("included again here"),
            );
            return None;
        }
        let file = match SourceFile::read(&path) {
            Ok(f) => f,
            Err(e) => {
                self.error(
                    Diagnostic::at(
                        loc,
                        format!("cannot read included file `{}`: {e}", path.display()),
                    )
                    .label("included here")
                    .note("note: a relative include path is relative to the file that includes it; an absolute one is used as it is"),
                );
                return None;
            }
        };
        match parse_yaml(&file) {
            Ok(raw) => Some(Fixture { path, file, raw }),
            Err(d) => {
                self.error(d);
                None
            }
        }
    }

    /// `with: { VAR: value }` becomes a step that sets the variables; it talks
    /// to no agent.
    fn check_with(&mut self, with: SpannedMap<SpannedNode>, name: String, loc: Loc) -> Step {
        let mut set = Vec::new();
        for (key, node) in with.0 {
            let name = self.var_name(&key);
            if let Some(t) = self.template(&node) {
                set.push((name, t));
            }
        }
        set.iter().for_each(|(_, t)| self.variables.read(t));
        self.variables.set(set.iter().map(|(n, _)| n.clone()));
        Step {
            name,
            loc,
            agent: None,
            service: None,
            when: None,
            action: Action::Set(set),
            status: None,
            assertions: Vec::new(),
            captures: Vec::new(),
        }
    }

    /// Checks the included file's steps as if they were written in its place.
    fn check_fixture_steps(&mut self, fixture: Fixture, out: &mut Vec<Step>) {
        let outer = std::mem::replace(&mut self.file, fixture.file);
        self.include_stack.push(fixture.path);
        for (i, step) in fixture.raw.steps.value.into_iter().enumerate() {
            self.check_step(i + 1, step, out);
        }
        self.include_stack.pop();
        self.file = outer;
    }
}
