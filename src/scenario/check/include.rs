//! Checking `include`: reading the included file and checking its steps in
//! place, after the variables its `with` sets.

use super::Checker;
use crate::diagnostic::{Diagnostic, SourceFile};
use crate::scenario::model::*;
use crate::scenario::raw::*;
use crate::scenario::yaml::parse_yaml;
use std::path::Path;

const MAX_INCLUDE_DEPTH: usize = 8;

impl Checker {
    pub(super) fn include(&mut self, raw: RawStep, out: &mut Vec<Step>) {
        let include = raw.include.expect("include present");
        let loc = self
            .loc(&include.referenced)
            .shifted(0, include.value.chars().count());
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
                    Diagnostic::at(&loc, format!("`{field}` cannot go with `include`")).note(
                        "help: an include takes `name` and `with` only; its steps say the rest",
                    ),
                );
            }
        }
        let base = self.file.path.parent().unwrap_or(Path::new("."));
        let path = base.join(&include.value);
        if self.include_stack.len() > MAX_INCLUDE_DEPTH || self.include_stack.contains(&path) {
            self.error(
                Diagnostic::at(&loc, "includes go round in a circle").label("included again here"),
            );
            return;
        }
        let file = match SourceFile::read(&path) {
            Ok(f) => f,
            Err(e) => {
                self.error(
                    Diagnostic::at(
                        &loc,
                        format!("cannot read included file `{}`: {e}", path.display()),
                    )
                    .label("included here")
                    .note("note: include paths are relative to the file that includes them"),
                );
                return;
            }
        };
        let fixture: RawFixture = match parse_yaml(&file) {
            Ok(f) => f,
            Err(d) => {
                self.error(d);
                return;
            }
        };
        // The include's name, if any, heads the names of the steps it brings.
        let title = raw.name.map(|n| n.value);
        if let Some(with) = raw.with {
            let mut set = Vec::new();
            for (key, node) in with.0 {
                let name = self.var_name(&key);
                if let Some(t) = self.template(&node) {
                    set.push((name, t));
                }
            }
            out.push(Step {
                name: title
                    .clone()
                    .unwrap_or_else(|| format!("include {}", include.value)),
                loc: loc.clone(),
                agent: String::new(),
                when: None,
                action: Action::Set(set),
                status: None,
                assertions: Vec::new(),
                captures: Vec::new(),
            });
        }
        let outer = std::mem::replace(&mut self.file, file);
        self.include_stack.push(path);
        let first = out.len();
        for (i, step) in fixture.steps.value.into_iter().enumerate() {
            self.step(i + 1, step, out);
        }
        if let Some(title) = &title {
            for step in &mut out[first..] {
                step.name = format!("{title}: {}", step.name);
            }
        }
        self.include_stack.pop();
        self.file = outer;
    }
}
