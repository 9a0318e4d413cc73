//! `${var}` interpolation. A string that is exactly `${var}` is replaced by the
//! variable's JSON value (so `body: ${invitation}` sends the captured object);
//! anywhere else the variable is spliced into the text. `$${` writes a literal `${`.

use crate::diagnostic::{Diagnostic, Loc};
use serde_json::Value;
use std::collections::BTreeMap;

pub type Vars = BTreeMap<String, Value>;

#[derive(Debug, Clone)]
pub enum Template {
    /// No variables inside: used as is.
    Literal(Value),
    /// Exactly `${name}`: the variable's value, whatever its type.
    Whole(VarRef),
    /// Text with variables spliced in.
    Text(Vec<Part>),
    Array(Vec<Template>),
    Object(Vec<(String, Template)>),
}

#[derive(Debug, Clone)]
pub enum Part {
    Text(String),
    Var(VarRef),
}

#[derive(Debug, Clone)]
pub struct VarRef {
    pub name: String,
    pub loc: Loc,
}

impl Template {
    /// Parses the `${...}` in `text`, which starts at `loc` in the file.
    pub fn parse_str(text: &str, loc: &Loc) -> Result<Template, Diagnostic> {
        // A quoted scalar's position is its opening quote.
        let quote = loc
            .file
            .line(loc.line)
            .and_then(|l| l.chars().nth(loc.column - 1))
            .is_some_and(|c| c == '"' || c == '\'');
        let base = usize::from(quote);
        let mut parts = Vec::new();
        let mut literal = String::new();
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            if chars[i] == '$' && chars.get(i + 1) == Some(&'$') && chars.get(i + 2) == Some(&'{') {
                literal.push_str("${");
                i += 3;
            } else if chars[i] == '$' && chars.get(i + 1) == Some(&'{') {
                let start = i;
                let Some(end) = chars[i..].iter().position(|&c| c == '}').map(|p| p + i) else {
                    return Err(Diagnostic::at(
                        &loc.shifted(base + start, 2),
                        "unterminated `${` in a template",
                    )
                    .label("no closing `}`")
                    .note("help: write `$${` for a literal `${`"));
                };
                let name: String = chars[i + 2..end].iter().collect();
                let here = loc.shifted(base + start, end - start + 1);
                if !is_var_name(&name) {
                    return Err(Diagnostic::at(&here, format!("invalid variable name `{name}`"))
                        .label("not a variable name")
                        .note("help: variable names are letters, digits and `_`, starting with a letter or `_`"));
                }
                if !literal.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut literal)));
                }
                parts.push(Part::Var(VarRef { name, loc: here }));
                i = end + 1;
            } else {
                literal.push(chars[i]);
                i += 1;
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        Ok(match parts.as_slice() {
            [] => Template::Literal(Value::String(String::new())),
            [Part::Text(t)] => Template::Literal(Value::String(t.clone())),
            [Part::Var(v)] => Template::Whole(v.clone()),
            _ => Template::Text(parts),
        })
    }

    /// Every variable this template reads.
    pub fn vars(&self) -> Vec<&VarRef> {
        let mut out = Vec::new();
        self.collect_vars(&mut out);
        out
    }

    fn collect_vars<'a>(&'a self, out: &mut Vec<&'a VarRef>) {
        match self {
            Template::Literal(_) => {}
            Template::Whole(v) => out.push(v),
            Template::Text(parts) => out.extend(parts.iter().filter_map(|p| match p {
                Part::Var(v) => Some(v),
                Part::Text(_) => None,
            })),
            Template::Array(items) => items.iter().for_each(|t| t.collect_vars(out)),
            Template::Object(entries) => entries.iter().for_each(|(_, t)| t.collect_vars(out)),
        }
    }

    /// The JSON value with variables filled in.
    pub fn render(&self, vars: &Vars) -> Result<Value, Diagnostic> {
        Ok(match self {
            Template::Literal(v) => v.clone(),
            Template::Whole(v) => lookup(v, vars)?.clone(),
            Template::Text(parts) => {
                let mut s = String::new();
                for part in parts {
                    match part {
                        Part::Text(t) => s.push_str(t),
                        Part::Var(v) => s.push_str(&as_text(lookup(v, vars)?)),
                    }
                }
                Value::String(s)
            }
            Template::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|t| t.render(vars))
                    .collect::<Result<_, _>>()?,
            ),
            Template::Object(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, t)| Ok((k.clone(), t.render(vars)?)))
                    .collect::<Result<_, Diagnostic>>()?,
            ),
        })
    }

    /// Rendered as text, for paths and query parameters.
    pub fn render_text(&self, vars: &Vars) -> Result<String, Diagnostic> {
        Ok(as_text(&self.render(vars)?))
    }
}

impl Template {
    /// Rendered as a URL path. A variable spliced between literal text is
    /// percent-encoded so it stays one path segment: the `#` or `/` of a DID
    /// URL does not cut the path short. A path that is exactly `${var}` is
    /// taken as written.
    pub fn render_path(&self, vars: &Vars) -> Result<String, Diagnostic> {
        let Template::Text(parts) = self else {
            return self.render_text(vars);
        };
        let mut path = String::new();
        for part in parts {
            match part {
                Part::Text(t) => path.push_str(t),
                Part::Var(v) => path.push_str(&encode_segment(&as_text(lookup(v, vars)?))),
            }
        }
        Ok(path)
    }
}

/// Percent-encodes all but RFC 3986 `pchar`s.
fn encode_segment(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        let keep = byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&byte);
        if keep {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Strings as they are, everything else as compact JSON.
pub fn as_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn lookup<'a>(var: &VarRef, vars: &'a Vars) -> Result<&'a Value, Diagnostic> {
    vars.get(&var.name).ok_or_else(|| {
        Diagnostic::at(&var.loc, format!("variable `{}` has no value", var.name))
            .label("not set when this step ran")
            .note("note: it is captured by a step that was skipped or has not run")
    })
}

pub fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::SourceFile;
    use serde_json::json;
    use std::sync::Arc;

    fn at(text: &str) -> Loc {
        let file = Arc::new(SourceFile {
            path: "t.yaml".into(),
            text: format!("k: {text}\n"),
        });
        Loc::new(&file, 1, 4, text.len())
    }

    fn vars() -> Vars {
        Vars::from([
            ("inv".to_owned(), json!({"@id": "x", "n": 1})),
            ("did".to_owned(), json!("did:key:z6Mk#k-1")),
        ])
    }

    #[test]
    fn a_whole_variable_keeps_its_json_type() {
        let t = Template::parse_str("${inv}", &at("${inv}")).unwrap();
        assert_eq!(t.render(&vars()).unwrap(), json!({"@id": "x", "n": 1}));
    }

    #[test]
    fn spliced_variables_become_text_and_dollar_dollar_escapes() {
        let text = "a ${did} b ${inv} $${not}";
        let t = Template::parse_str(text, &at(text)).unwrap();
        assert_eq!(
            t.render(&vars()).unwrap(),
            json!(r#"a did:key:z6Mk#k-1 b {"@id":"x","n":1} ${not}"#)
        );
    }

    #[test]
    fn path_variables_stay_one_segment() {
        let text = "/resolve/${did}";
        let t = Template::parse_str(text, &at(text)).unwrap();
        assert_eq!(
            t.render_path(&vars()).unwrap(),
            "/resolve/did:key:z6Mk%23k-1"
        );
    }

    #[test]
    fn errors_point_inside_the_string() {
        let text = "\"x ${1bad}\"";
        let e = Template::parse_str("x ${1bad}", &at(text)).unwrap_err();
        assert_eq!(e.message, "invalid variable name `1bad`");
        // Column 4 is the opening quote; `${` starts 3 characters later.
        assert_eq!((e.loc.as_ref().unwrap().column, e.loc.unwrap().len), (7, 7));
        let e = Template::parse_str("x ${open", &at("x ${open")).unwrap_err();
        assert_eq!(e.message, "unterminated `${` in a template");
    }

    #[test]
    fn an_unset_variable_is_an_error_naming_it() {
        let t = Template::parse_str("${nope}", &at("${nope}")).unwrap();
        assert_eq!(
            t.render(&vars()).unwrap_err().message,
            "variable `nope` has no value"
        );
    }
}
