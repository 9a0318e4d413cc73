//! Masking secrets in everything the harness writes: the one place a secret
//! value becomes `***`.
//!
//! A [`Redactor`] holds secret values (from `--secret`, a scenario's
//! `secrets:`, captures named like tokens, `--agent-key`, the agents' own
//! credentials). Every [`CaseResult`](crate::run::outcome::CaseResult)
//! carries the secrets of its case, and every report writer and the console
//! pass their output through it as the last thing before it is written.

use serde_json::Value;
use std::fmt;

/// What a secret is replaced with.
pub const MASK: &str = "***";

/// Shorter values are not masked: masking `abc` everywhere would garble
/// the output without hiding anything worth hiding.
pub const MIN_SECRET_LEN: usize = 4;

/// Variable and field names whose captured values are secret without being
/// listed: `tenant_token`, `$.token`, `wallet_key`, `seed`, `jwt_secret`...
pub const SECRET_NAME_PARTS: &[&str] = &[
    "token",
    "wallet_key",
    "seed",
    "jwt_secret",
    "secret",
    "password",
    "api_key",
    "private_key",
    "mnemonic",
    "creds",
];

/// Whether a variable or field name says its value is secret.
pub fn is_secret_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_NAME_PARTS.iter().any(|part| name.contains(part))
}

/// Secret values, and each of the forms they take in output (as written,
/// JSON-escaped, XML-escaped, percent-encoded).
#[derive(Clone, Default)]
pub struct Redactor {
    /// Longest first, so a secret that contains another is masked whole.
    forms: Vec<String>,
}

/// Never prints a secret.
impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} forms)", self.forms.len())
    }
}

impl Redactor {
    pub fn new<S: AsRef<str>>(secrets: impl IntoIterator<Item = S>) -> Redactor {
        let mut r = Redactor::default();
        for s in secrets {
            r.add(s.as_ref());
        }
        r
    }

    pub fn is_empty(&self) -> bool {
        self.forms.is_empty()
    }

    /// Masks `secret` from now on (unless it is shorter than [`MIN_SECRET_LEN`]).
    pub fn add(&mut self, secret: &str) {
        if secret.chars().count() < MIN_SECRET_LEN {
            return;
        }
        for form in forms(secret) {
            if !self.forms.contains(&form) {
                self.forms.push(form);
            }
        }
        self.forms
            .sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    }

    /// Every string (and number) inside `value`.
    pub fn add_value(&mut self, value: &Value) {
        match value {
            Value::Null | Value::Bool(_) => {}
            Value::Number(n) => self.add(&n.to_string()),
            Value::String(s) => self.add(s),
            Value::Array(items) => items.iter().for_each(|i| self.add_value(i)),
            Value::Object(map) => map.values().for_each(|v| self.add_value(v)),
        }
    }

    pub fn extend(&mut self, other: &Redactor) {
        for form in &other.forms {
            if !self.forms.contains(form) {
                self.forms.push(form.clone());
            }
        }
        self.forms
            .sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    }

    /// `text` with every secret replaced by `***`.
    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for form in &self.forms {
            if out.contains(form.as_str()) {
                out = out.replace(form.as_str(), MASK);
            }
        }
        out
    }

    /// `value` with every secret in its strings (and keys) replaced.
    pub fn json(&self, value: &Value) -> Value {
        if self.is_empty() {
            return value.clone();
        }
        match value {
            Value::String(s) => Value::String(self.text(s)),
            Value::Number(n) if self.forms.contains(&n.to_string()) => Value::String(MASK.into()),
            Value::Array(items) => Value::Array(items.iter().map(|i| self.json(i)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (self.text(k), self.json(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

/// The forms a secret takes in the harness's outputs.
fn forms(secret: &str) -> Vec<String> {
    let json = serde_json::to_string(secret).expect("a string serializes");
    let json = json[1..json.len() - 1].to_owned();
    let xml = secret
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;");
    let mut out = vec![secret.to_owned(), json, xml];
    out.push(percent_encoded(secret, false));
    out.push(percent_encoded(secret, true));
    out.dedup();
    out
}

/// As in a URL path (`%20`) or, `form`, as in a query string (`+`).
fn percent_encoded(text: &str, form: bool) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else if form && byte == b' ' {
            out.push('+');
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_form_of_a_secret_is_masked() {
        let r = Redactor::new(["p@ss \"w<rd>\""]);
        assert_eq!(r.text("x p@ss \"w<rd>\" y"), "x *** y");
        assert_eq!(r.text(r#"{"k":"p@ss \"w<rd>\""}"#), r#"{"k":"***"}"#);
        assert_eq!(r.text("p@ss &quot;w&lt;rd&gt;&quot;"), "***");
        assert_eq!(
            r.text("/x/p%40ss%20%22w%3Crd%3E%22?q=p%40ss+%22w%3Crd%3E%22"),
            "/x/***?q=***"
        );
        assert_eq!(
            r.json(&json!({ "a": ["p@ss \"w<rd>\""], "p@ss \"w<rd>\"": 1 })),
            json!({ "a": ["***"], "***": 1 })
        );
        assert!(!format!("{r:?}").contains("p@ss"));
    }

    #[test]
    fn short_values_are_not_secrets_and_longer_ones_win() {
        let mut r = Redactor::new(["abc", ""]);
        assert!(r.is_empty());
        r.add("token-1");
        r.add("token-12");
        assert_eq!(r.text("token-12 token-1"), "*** ***");
    }

    #[test]
    fn secret_names() {
        for name in [
            "tenant_token",
            "token",
            "wallet_key",
            "seed",
            "JWT_SECRET",
            "api_key",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in ["invitation", "connection_id", "cred_ex_id"] {
            assert!(!is_secret_name(name), "{name}");
        }
    }
}
