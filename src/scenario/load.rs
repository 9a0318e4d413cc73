//! Loading scenario files: read, parse the YAML, check; keeps `scenario::load::*` paths.

use super::check::check_scenario;
pub use super::check::check_suite_services;
pub use super::discover::{discover, scenario_id, Found, CONFIG_FILE};
use super::model::Scenario;
use super::raw::RawScenario;
pub use super::yaml::parse_yaml;
use crate::diagnostic::{Diagnostic, Diagnostics, SourceFile};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

/// Loads every scenario found; all files' problems are returned together.
pub fn load_all(found: &[Found]) -> Result<Vec<Arc<Scenario>>, Diagnostics> {
    load_all_with(found, &BTreeSet::new())
}

/// [`load_all`], with the names of the variables given from outside (they
/// count as set).
pub fn load_all_with(
    found: &[Found],
    outside: &BTreeSet<String>,
) -> Result<Vec<Arc<Scenario>>, Diagnostics> {
    let mut scenarios = Vec::new();
    let mut errors = Vec::new();
    for f in found {
        match load_with(f, outside) {
            Ok(s) => scenarios.push(Arc::new(s)),
            Err(Diagnostics(mut d)) => errors.append(&mut d),
        }
    }
    if errors.is_empty() {
        Ok(scenarios)
    } else {
        Err(Diagnostics(errors))
    }
}

pub fn load(found: &Found) -> Result<Scenario, Diagnostics> {
    load_with(found, &BTreeSet::new())
}

/// [`load`], with the names of the variables given from outside.
pub fn load_with(found: &Found, outside: &BTreeSet<String>) -> Result<Scenario, Diagnostics> {
    let bytes = std::fs::read(&found.file).map_err(|e| cannot_read(&found.file, e))?;
    load_bytes(&found.file, &bytes, scenario_id(found), outside)
}

/// Parses and checks the bytes of a scenario file read from `path`: what
/// [`load_with`] does after reading, for bytes from elsewhere (the fuzz
/// targets of `tests/fuzz/`). Includes are read relative to `path`.
pub fn load_bytes(
    path: &Path,
    bytes: &[u8],
    id: String,
    outside: &BTreeSet<String>,
) -> Result<Scenario, Diagnostics> {
    let file = match String::from_utf8(bytes.to_vec()) {
        Ok(text) => Arc::new(SourceFile {
            path: path.to_path_buf(),
            text,
        }),
        Err(e) => return Err(Diagnostics(vec![not_utf8(path, bytes, e.utf8_error())])),
    };
    let raw: RawScenario = parse_yaml(&file).map_err(|d| Diagnostics(vec![d]))?;
    check_scenario(file, id, raw, outside)
}

/// A file that is not UTF-8, pointed at its first bad byte (the text
/// quoted with U+FFFD in its place).
fn not_utf8(path: &Path, bytes: &[u8], e: std::str::Utf8Error) -> Diagnostic {
    let good = std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default();
    let file = Arc::new(SourceFile {
        path: path.to_path_buf(),
        text: String::from_utf8_lossy(bytes).into_owned(),
    });
    // Lines end at `\n`, `\r\n` or a lone `\r`, as YAML counts them.
    let breaks =
        good.matches('\n').count() + good.matches('\r').count() - good.matches("\r\n").count();
    let line_start = good.rfind(['\n', '\r']).map_or(0, |i| i + 1);
    let column = good[line_start..].chars().count() + 1;
    let line = breaks + 1;
    let loc = crate::diagnostic::Loc::new(&file, line, column, 1);
    Diagnostic::at(&loc, "not UTF-8 text")
        .label("this byte is not UTF-8")
        .note("help: scenario files are UTF-8; save the file as UTF-8")
}

fn cannot_read(path: &Path, e: std::io::Error) -> Diagnostics {
    Diagnostics(vec![Diagnostic::new(
        format!("cannot read `{}`: {e}", path.display()),
        None,
    )])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `validate` fuzz target: a file that is not UTF-8 was
    /// refused without a position ("stream did not contain valid UTF-8").
    #[test]
    fn fuzz_validate_invalid_utf8_is_an_error_at_its_line_and_column() {
        let path = Path::new("scenarios/x.yaml");
        let outside = BTreeSet::new();
        let e = load_bytes(
            path,
            b"name: x\r\nagents:\n  h\xc3\xa9\xff: {}\n",
            "x".into(),
            &outside,
        )
        .unwrap_err();
        let d = &e.0[0];
        assert_eq!(d.message, "not UTF-8 text");
        let loc = d.loc.as_ref().unwrap();
        assert_eq!((loc.line, loc.column), (3, 5));
        assert!(
            d.render("error").contains("3 |   h\u{e9}\u{fffd}: {}"),
            "{d}"
        );
        let e = load_bytes(path, b"a\r\xff", "x".into(), &outside).unwrap_err();
        let loc = e.0[0].loc.clone().unwrap();
        assert_eq!((loc.line, loc.column), (2, 1));
    }

    /// Found by the `validate` fuzz target: `name: 404` was taken as the
    /// text `404` and refused by the schema as a number. The loader keeps a
    /// plain scalar in a text field as written, and the schemas now admit it
    /// (the corpus input checks that side).
    #[test]
    fn fuzz_validate_a_number_or_boolean_in_a_text_field_is_its_text_as_written() {
        let text = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fuzz-corpus/validate/violation-number-as-step-name"),
        )
        .unwrap();
        let path = Path::new("scenarios/x.yaml");
        let scenario = load_bytes(path, &text, "x".into(), &BTreeSet::new()).unwrap();
        assert_eq!(scenario.name, "1.10", "not the number 1.1");
        assert_eq!(scenario.tags, ["2026", "true"]);
        assert_eq!(scenario.steps[0].name, "404");
        let agent = &scenario.agents[0];
        assert_eq!(agent.label, "7");
        let none = Default::default();
        assert_eq!(agent.args[1].render_text(&none).unwrap(), "1000");
        let env = agent.env[0].1.render_text(&none).unwrap();
        assert_eq!(env, "yes", "not `true`");
    }

    /// The other side of the same rule: where a number is wanted, text is
    /// refused at its position, `0X1F` included (YAML 1.2 reads it as text).
    #[test]
    fn fuzz_config_a_service_port_in_capital_hex_is_refused_at_its_position() {
        let text = "name: x\nservices:\n  db: { image: postgres, port: 0X1538 }\nagents:\n  a: {}\nsteps:\n  - agent: a\n    get: /status\n";
        let path = Path::new("scenarios/x.yaml");
        let e = load_bytes(path, text.as_bytes(), "x".into(), &BTreeSet::new()).unwrap_err();
        let d = &e.0[0];
        assert_eq!(d.message, "expected an integer, found the text `0X1538`");
        let loc = d.loc.as_ref().unwrap();
        assert_eq!((loc.line, loc.column, loc.len), (3, 32, 6));
    }
}
