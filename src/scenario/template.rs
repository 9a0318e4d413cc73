//! `${var}` interpolation. A string that is exactly `${var}` is replaced by the
//! variable's JSON value (so `body: ${invitation}` sends the captured object);
//! anywhere else the variable is spliced into the text. `$${` writes a literal `${`.
//!
//! Besides variables, a template may read the environment (`${env.NAME}`,
//! checked when the file loads) and generated values (`${uuid}`, `${now}`,
//! `${unix_time}`), fresh at each use.

use crate::diagnostic::{Diagnostic, Loc};
use serde_json::Value;
use std::borrow::Cow;
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
        Template::parse_at(text, loc, usize::from(quote))
    }

    /// A whole file's text (an agent's config file), line by line so that
    /// an error points at its own line; the result is always text.
    pub fn parse_file(
        file: &std::sync::Arc<crate::diagnostic::SourceFile>,
    ) -> Result<Template, Diagnostic> {
        let mut parts = Vec::new();
        for (n, line) in file.text.split_inclusive('\n').enumerate() {
            let loc = Loc::new(file, n + 1, 1, line.len());
            match Template::parse_at(line, &loc, 0)? {
                Template::Literal(Value::String(t)) => parts.push(Part::Text(t)),
                Template::Whole(v) => parts.push(Part::Var(v)),
                Template::Text(mut line_parts) => parts.append(&mut line_parts),
                _ => unreachable!("a line parses to text"),
            }
        }
        Ok(match parts.iter().any(|p| matches!(p, Part::Var(_))) {
            false => Template::Literal(Value::String(
                parts
                    .into_iter()
                    .map(|p| match p {
                        Part::Text(t) => t,
                        Part::Var(_) => unreachable!("no variables"),
                    })
                    .collect(),
            )),
            true => Template::Text(parts),
        })
    }

    /// [`Self::parse_str`], the text starting `base` characters after `loc`.
    fn parse_at(text: &str, loc: &Loc, base: usize) -> Result<Template, Diagnostic> {
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
                        &written_at(loc, base, &chars, start, 2),
                        "unterminated `${` in a template",
                    )
                    .label("no closing `}`")
                    .note("help: write `$${` for a literal `${`"));
                };
                let name: String = chars[i + 2..end].iter().collect();
                let here = written_at(loc, base, &chars, start, end - start + 1);
                if !is_var_name(&name) && env_name(&name).is_none() && scoped(&name).is_none() {
                    return Err(Diagnostic::at(&here, format!("invalid variable name `{name}`"))
                        .label("not a variable name")
                        .note("help: variable names are letters, digits and `_`, starting with a letter or `_`; `${env.NAME}` reads the environment, `${services.NAME.host}` (`.port`, `.url`) names a service, `${files.NAME}` an agent's file"));
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
            Template::Whole(v) => lookup(v, vars)?.into_owned(),
            Template::Text(parts) => {
                let mut s = String::new();
                for part in parts {
                    match part {
                        Part::Text(t) => s.push_str(t),
                        Part::Var(v) => s.push_str(&as_text(&*lookup(v, vars)?)),
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
                Part::Var(v) => path.push_str(&encode_segment(&as_text(&*lookup(v, vars)?))),
            }
        }
        Ok(path)
    }
}

/// Where the `${` at character `start` of a value written at `loc` (`base`
/// characters after it) is in the file. On the value's first line they are
/// the file's characters; past a line break, or the end of that line, they
/// are not (YAML folds a multi-line value's breaks and strips its
/// indentation), so the value's `n`-th `${` is looked for as the `n`-th
/// written from `loc` on; not found (written with escapes), the value's start.
fn written_at(loc: &Loc, base: usize, chars: &[char], start: usize, len: usize) -> Loc {
    let simple = loc.shifted(base + start, len);
    let width = loc.file.line(loc.line).map_or(0, |l| l.chars().count());
    if !chars[..start].contains(&'\n') && simple.column <= width {
        return simple;
    }
    let nth = chars[..start]
        .windows(2)
        .filter(|w| w == &['$', '{'])
        .count();
    let mut seen = 0;
    for (n, line) in loc.file.lines().enumerate().skip(loc.line - 1) {
        let from = match n + 1 == loc.line {
            true => loc.column - 1,
            false => 0,
        };
        let line: Vec<char> = line.chars().collect();
        for i in from..line.len().saturating_sub(1) {
            if line[i] == '$' && line[i + 1] == '{' {
                if seen == nth {
                    return Loc::new(&loc.file, n + 1, i + 1, len);
                }
                seen += 1;
            }
        }
    }
    Loc::new(&loc.file, loc.line, loc.column, len)
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

/// Names whose value is made at each use rather than set.
pub const GENERATED_VARS: &[&str] = &["uuid", "now", "unix_time"];

/// `NAME` of `env.NAME`, when `name` reads the environment.
pub fn env_name(name: &str) -> Option<&str> {
    let var = name.strip_prefix("env.")?;
    let valid = !var.is_empty() && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    valid.then_some(var)
}

/// A generated value: `uuid` (a fresh random UUID, version 4), `now` (the
/// current time, RFC 3339 in UTC to the second) or `unix_time` (the same in
/// seconds since 1970, a number: what AnonCreds' non-revocation intervals
/// take).
pub fn generated(name: &str) -> Option<Value> {
    let now = std::time::SystemTime::now();
    match name {
        "uuid" => Some(Value::String(uuid4())),
        "now" => Some(Value::String(rfc3339_utc(now))),
        "unix_time" => Some(Value::from(
            now.duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default(),
        )),
        _ => None,
    }
}

/// A random (version 4) UUID, lowercase: `1b4e28ba-2fa1-4d2a-883f-0016d3cca427`.
pub fn uuid4() -> String {
    use rand::Rng;
    let mut b: [u8; 16] = rand::rng().random();
    b[6] = (b[6] & 0x0f) | 0x40; // version 4
    b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// `2025-06-01T12:34:56Z`.
pub fn rfc3339_utc(time: std::time::SystemTime) -> String {
    let secs = time
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

fn lookup<'a>(var: &VarRef, vars: &'a Vars) -> Result<Cow<'a, Value>, Diagnostic> {
    if let Some(value) = vars.get(&var.name) {
        return Ok(Cow::Borrowed(value));
    }
    if let Some(value) = generated(&var.name) {
        return Ok(Cow::Owned(value));
    }
    if let Some(name) = env_name(&var.name) {
        // Checked when the file loaded; the environment may have changed since.
        return std::env::var(name)
            .map(|v| Cow::Owned(Value::String(v)))
            .map_err(|_| {
                Diagnostic::at(
                    &var.loc,
                    format!("environment variable `{name}` is not set"),
                )
                .label("read here")
            });
    }
    Err(
        Diagnostic::at(&var.loc, format!("variable `{}` has no value", var.name))
            .label("not set when this step ran")
            .note("note: it is captured by a step that was skipped or has not run"),
    )
}

/// A name that refers to something the case provides beside its variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scoped<'a> {
    /// `services.NAME.FIELD`: where the agents reach a service.
    Service { name: &'a str, field: &'a str },
    /// `files.NAME`: where an agent finds one of its files.
    File(&'a str),
}

/// What a service variable can say about it.
pub const SERVICE_FIELDS: &[&str] = &["host", "port", "url"];

/// `services.db.host` or `files.plugin_config`, when `name` is one. The
/// field of a service is checked against [`SERVICE_FIELDS`] with the rest.
pub fn scoped(name: &str) -> Option<Scoped<'_>> {
    let dns = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    if let Some(rest) = name.strip_prefix("services.") {
        let (service, field) = rest.rsplit_once('.')?;
        return (dns(service) && is_var_name(field)).then_some(Scoped::Service {
            name: service,
            field,
        });
    }
    let file = name.strip_prefix("files.")?;
    dns(file).then_some(Scoped::File(file))
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

    /// Found by the `template` fuzz target: past a line break of a
    /// multi-line value, a variable's column ran on along the value's first
    /// line, past its end.
    #[test]
    fn fuzz_template_variables_of_a_multi_line_value_point_where_written() {
        let file = Arc::new(SourceFile {
            path: "t.yaml".into(),
            text: "body: |\n  a ${did}\n  b $${x} ${inv}\nnext: \"c\n  ${1bad}\"\n".into(),
        });
        let block = Loc::new(&file, 1, 7, 1);
        let t = Template::parse_str("a ${did}\nb $${x} ${inv}\n", &block).unwrap();
        let at: Vec<(usize, usize)> = t
            .vars()
            .iter()
            .map(|v| (v.loc.line, v.loc.column))
            .collect();
        assert_eq!(at, [(2, 5), (3, 11)]);
        // A double-quoted value folds its line break into a space.
        let quoted = Loc::new(&file, 4, 7, 1);
        let e = Template::parse_str("c ${1bad}", &quoted).unwrap_err();
        assert_eq!(e.message, "invalid variable name `1bad`");
        let loc = e.loc.unwrap();
        assert_eq!((loc.line, loc.column, loc.len), (5, 3, 7));
    }

    #[test]
    fn uuid_is_fresh_at_each_use_and_a_version_4_uuid() {
        let text = "${uuid} ${uuid}";
        let t = Template::parse_str(text, &at(text)).unwrap();
        let rendered = t.render_text(&Vars::new()).unwrap();
        let (a, b) = rendered.split_once(' ').unwrap();
        assert_ne!(a, b);
        let shape = regex::Regex::new(
            "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
        )
        .unwrap();
        assert!(shape.is_match(a) && shape.is_match(b), "{rendered}");
    }

    #[test]
    fn now_is_rfc3339_utc() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(951_782_400 + 3_723);
        assert_eq!(rfc3339_utc(t), "2000-02-29T01:02:03Z");
        assert_eq!(rfc3339_utc(std::time::UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let text = "${now}";
        let now = Template::parse_str(text, &at(text)).unwrap();
        let shape = regex::Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$").unwrap();
        let rendered = now.render_text(&Vars::new()).unwrap();
        assert!(shape.is_match(&rendered), "{rendered}");
    }

    #[test]
    fn unix_time_is_a_number_of_seconds_alone_and_digits_in_text() {
        let alone = Template::parse_str("${unix_time}", &at("${unix_time}")).unwrap();
        let value = alone.render(&Vars::new()).unwrap();
        let seconds = value.as_u64().expect("a number");
        // After this code was written, and not in milliseconds.
        assert!(
            (1_790_000_000..10_000_000_000).contains(&seconds),
            "{seconds}"
        );
        let text = "to ${unix_time}";
        let spliced = Template::parse_str(text, &at(text)).unwrap();
        let rendered = spliced.render_text(&Vars::new()).unwrap();
        assert!(
            regex::Regex::new(r"^to \d{10}$")
                .unwrap()
                .is_match(&rendered),
            "{rendered}"
        );
    }

    #[test]
    fn env_names_parse_and_read_the_environment() {
        let text = "x-${env.PATH}";
        let t = Template::parse_str(text, &at(text)).unwrap();
        assert_eq!(t.vars()[0].name, "env.PATH");
        let path = std::env::var("PATH").unwrap();
        assert_eq!(t.render_text(&Vars::new()).unwrap(), format!("x-{path}"));
        assert!(Template::parse_str("${env.}", &at("${env.}")).is_err());
        assert!(Template::parse_str("${env.A-B}", &at("${env.A-B}")).is_err());
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
