//! Variables given from outside the scenario files: `--var NAME=VALUE`,
//! `--vars-file FILE` and `--secret NAME=VALUE` on the command line, or
//! `ACAPY_HARNESS_VAR_<NAME>`, `ACAPY_HARNESS_VARS_FILE` and
//! `ACAPY_HARNESS_SECRET_<NAME>` for the `cargo test` target.
//!
//! Precedence, highest first: `--secret` / `--var` (or their environment
//! variables), then the vars file, then the scenario's own `vars`.

use crate::diagnostic::{Diagnostic, Loc, SourceFile};
use crate::scenario::template::{is_var_name, Vars, GENERATED_VARS};
use crate::scenario::yaml::{parse_yaml, SpannedMap, SpannedNode};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

/// Variables from outside, and which of them are secret.
#[derive(Clone, Default)]
pub struct Inputs {
    pub vars: Vars,
    /// Names whose values are masked in every output.
    pub secret_names: BTreeSet<String>,
}

/// Never prints a value: secrets may be among them.
impl std::fmt::Debug for Inputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inputs")
            .field("vars", &self.vars.keys().collect::<Vec<_>>())
            .field("secret_names", &self.secret_names)
            .finish()
    }
}

pub const ENV_VARS_FILE: &str = "ACAPY_HARNESS_VARS_FILE";
pub const ENV_VAR_PREFIX: &str = "ACAPY_HARNESS_VAR_";
pub const ENV_SECRET_PREFIX: &str = "ACAPY_HARNESS_SECRET_";

impl Inputs {
    /// The names given, for the load-time check.
    pub fn names(&self) -> BTreeSet<String> {
        self.vars.keys().cloned().collect()
    }

    /// From the command line: `--vars-file`, then each `--var` and
    /// `--secret` over it.
    pub fn from_args(
        vars: &[String],
        vars_file: Option<&Path>,
        secrets: &[String],
    ) -> Result<Inputs, Diagnostic> {
        let mut inputs = Inputs::default();
        if let Some(path) = vars_file {
            inputs.read_vars_file(path)?;
        }
        for arg in vars {
            let (name, value) = name_value("--var", arg)?;
            inputs.vars.insert(name, Value::String(value));
        }
        for arg in secrets {
            let (name, value) = name_value("--secret", arg)?;
            inputs.vars.insert(name.clone(), Value::String(value));
            inputs.secret_names.insert(name);
        }
        Ok(inputs)
    }

    /// From the environment, for the `cargo test` target:
    /// `ACAPY_HARNESS_VARS_FILE`, then each `ACAPY_HARNESS_VAR_<NAME>` and
    /// `ACAPY_HARNESS_SECRET_<NAME>` over it.
    pub fn from_env() -> Result<Inputs, Diagnostic> {
        Inputs::from_pairs(
            std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
        )
    }

    /// [`Inputs::from_env`] over the given environment.
    pub fn from_pairs(
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Inputs, Diagnostic> {
        let env: Vec<(String, String)> = env.into_iter().collect();
        let file = env
            .iter()
            .find(|(k, _)| k == ENV_VARS_FILE)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty());
        let pick = |prefix: &str| -> Vec<String> {
            env.iter()
                .filter_map(|(k, v)| Some(format!("{}={v}", k.strip_prefix(prefix)?)))
                .collect()
        };
        Inputs::from_args(
            &pick(ENV_VAR_PREFIX),
            file.map(Path::new),
            &pick(ENV_SECRET_PREFIX),
        )
    }

    /// A YAML mapping of `NAME: value` (any YAML value, used as written).
    fn read_vars_file(&mut self, path: &Path) -> Result<(), Diagnostic> {
        let file = SourceFile::read(path).map_err(|e| {
            Diagnostic::new(
                format!("cannot read vars file `{}`: {e}", path.display()),
                None,
            )
        })?;
        self.add_vars_source(&file)
    }

    /// The variables of a vars file already read (`--vars-file`'s text).
    pub fn add_vars_source(&mut self, file: &Arc<SourceFile>) -> Result<(), Diagnostic> {
        let map: SpannedMap<SpannedNode> = parse_yaml(file)?;
        for (key, value) in map.0 {
            if let Err(why) = check_name(&key.value) {
                let loc = Loc::new(
                    file,
                    key.referenced.line() as usize,
                    key.referenced.column() as usize,
                    key.value.chars().count(),
                );
                return Err(
                    Diagnostic::at(&loc, format!("invalid variable name `{}`", key.value))
                        .label(why),
                );
            }
            self.vars.insert(key.value, value.value.to_json());
        }
        Ok(())
    }
}

/// `NAME=VALUE`, the name a variable name.
fn name_value(flag: &str, arg: &str) -> Result<(String, String), Diagnostic> {
    let Some((name, value)) = arg.split_once('=') else {
        return Err(Diagnostic::new(
            format!("{flag} `{arg}`: expected NAME=VALUE"),
            None,
        ));
    };
    check_name(name).map_err(|why| {
        Diagnostic::new(
            format!("{flag}: invalid variable name `{name}` ({why})"),
            None,
        )
    })?;
    Ok((name.to_owned(), value.to_owned()))
}

fn check_name(name: &str) -> Result<(), &'static str> {
    if !is_var_name(name) {
        Err("letters, digits and `_`, not starting with a digit")
    } else if GENERATED_VARS.contains(&name) {
        Err("a generated value, made fresh at each use")
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flags_override_the_vars_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("vars.yaml");
        std::fs::write(&file, "host: file-host\nport: 8020\nlist: [a, b]\n").unwrap();
        let inputs = Inputs::from_args(
            &["host=cli-host".into(), "empty=".into()],
            Some(&file),
            &["key=s3cr3t-value".into()],
        )
        .unwrap();
        assert_eq!(inputs.vars["host"], json!("cli-host"));
        assert_eq!(inputs.vars["port"], json!(8020));
        assert_eq!(inputs.vars["list"], json!(["a", "b"]));
        assert_eq!(inputs.vars["empty"], json!(""));
        assert_eq!(inputs.vars["key"], json!("s3cr3t-value"));
        assert_eq!(inputs.secret_names, BTreeSet::from(["key".to_owned()]));
        assert!(!format!("{inputs:?}").contains("s3cr3t"));
    }

    #[test]
    fn bad_names_and_shapes_are_errors() {
        let e = Inputs::from_args(&["novalue".into()], None, &[]).unwrap_err();
        assert_eq!(e.message, "--var `novalue`: expected NAME=VALUE");
        let e = Inputs::from_args(&["1x=a".into()], None, &[]).unwrap_err();
        assert!(e.message.starts_with("--var: invalid variable name `1x`"));
        let e = Inputs::from_args(&[], None, &["uuid=a".into()]).unwrap_err();
        assert!(e.message.contains("generated"), "{}", e.message);

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("vars.yaml");
        std::fs::write(&file, "ok: 1\nbad-name: 2\n").unwrap();
        let e = Inputs::from_args(&[], Some(&file), &[]).unwrap_err();
        assert_eq!(e.message, "invalid variable name `bad-name`");
        let loc = e.loc.unwrap();
        assert_eq!((loc.line, loc.column), (2, 1));
    }

    #[test]
    fn the_environment_gives_vars_and_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("vars.yaml");
        std::fs::write(&file, "a: from-file\nb: from-file\n").unwrap();
        let inputs = Inputs::from_pairs([
            (ENV_VARS_FILE.to_owned(), file.display().to_string()),
            ("ACAPY_HARNESS_VAR_a".to_owned(), "from-env".to_owned()),
            (
                "ACAPY_HARNESS_SECRET_tok".to_owned(),
                "t0ken-value".to_owned(),
            ),
            ("UNRELATED".to_owned(), "x".to_owned()),
        ])
        .unwrap();
        assert_eq!(inputs.vars["a"], json!("from-env"));
        assert_eq!(inputs.vars["b"], json!("from-file"));
        assert_eq!(inputs.vars["tok"], json!("t0ken-value"));
        assert!(inputs.secret_names.contains("tok"));
        assert_eq!(inputs.vars.len(), 3);
    }
}
