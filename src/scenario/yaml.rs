//! YAML parsing: into structs with our diagnostics, or into a position-keeping value.
//!
//! serde-saphyr gives positions through `Spanned<T>`; the [`Node`] tree nests
//! it, so a `${var}` deep inside a request body can still be pointed at.

use crate::diagnostic::{Diagnostic, Loc, SourceFile};
use regex::Regex;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;
use std::fmt;
use std::sync::Arc;

/// Parses YAML into `T`, turning serde-saphyr's error into our diagnostic.
pub fn parse_yaml<T: serde::de::DeserializeOwned>(file: &Arc<SourceFile>) -> Result<T, Diagnostic> {
    let options = serde_saphyr::options! { with_snippet: false };
    serde_saphyr::from_str_with_options(&file.text, options).map_err(|e| {
        let message = strip_position_prefix(&e.to_string());
        let loc = e.location().filter(|l| l.line() > 0).map(|l| {
            Loc::new(
                file,
                l.line() as usize,
                l.column() as usize,
                l.span().len() as usize,
            )
        });
        let loc = loc.or_else(|| Some(Loc::new(file, 1, 1, 1)));
        let help = unknown_field_help(&message);
        let diagnostic = Diagnostic::new(message, loc);
        match help {
            Some(help) => diagnostic.note(help),
            None => diagnostic,
        }
    })
}

/// serde's "unknown field `bodyy`, expected one of name, agent, ..." lists
/// the fields it knows: when one is close, say which.
fn unknown_field_help(message: &str) -> Option<String> {
    let re =
        Regex::new(r"unknown field `([^`]*)`, expected (?:one of )?(.*)$").expect("static regex");
    let caps = re.captures(message)?;
    let expected: Vec<&str> = caps[2]
        .split([',', ' '])
        .map(|w| w.trim_matches('`'))
        .filter(|w| !w.is_empty() && *w != "or")
        .collect();
    crate::suggest::did_you_mean(&caps[1], &expected)
}

fn strip_position_prefix(message: &str) -> String {
    let first = message.lines().next().unwrap_or(message).trim();
    let prefix = Regex::new(r"^(error: )?(line \d+ column \d+: )?").expect("static regex");
    let suffix = Regex::new(r",? at line \d+,? column \d+$").expect("static regex");
    suffix.replace(&prefix.replace(first, ""), "").into_owned()
}

pub type SpannedNode = Spanned<Node>;

#[derive(Debug, Clone)]
pub enum Node {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Seq(Vec<SpannedNode>),
    Map(Vec<(Spanned<String>, SpannedNode)>),
}

impl Node {
    pub fn kind(&self) -> &'static str {
        match self {
            Node::Null => "null",
            Node::Bool(_) => "a boolean",
            Node::Number(_) => "a number",
            Node::String(_) => "a string",
            Node::Seq(_) => "a list",
            Node::Map(_) => "a mapping",
        }
    }

    /// The plain JSON value, positions dropped.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Number(n) => Value::Number(n.clone()),
            Node::String(s) => Value::String(s.clone()),
            Node::Seq(items) => Value::Array(items.iter().map(|i| i.value.to_json()).collect()),
            Node::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.value.clone(), v.value.to_json()))
                    .collect(),
            ),
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        serde_json::Number::from_f64(v)
            .map(Node::Number)
            .ok_or_else(|| E::custom("NaN and infinite numbers cannot be sent as JSON"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::String(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<SpannedNode>()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some((k, v)) = map.next_entry::<Spanned<String>, SpannedNode>()? {
            entries.push((k, v));
        }
        Ok(Node::Map(entries))
    }
}

/// A mapping whose keys are data (roles, variable names, JSONPaths), kept in
/// file order with the position of every key.
#[derive(Debug, Clone)]
pub struct SpannedMap<T>(pub Vec<(Spanned<String>, T)>);

impl<T> Default for SpannedMap<T> {
    fn default() -> Self {
        SpannedMap(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for SpannedMap<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for MapVisitor<T> {
            type Value = SpannedMap<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(SpannedMap(Vec::new()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<Spanned<String>, T>()? {
                    entries.push(entry);
                }
                Ok(SpannedMap(entries))
            }
        }
        deserializer.deserialize_map(MapVisitor(std::marker::PhantomData))
    }
}

/// An integer as YAML 1.2's core schema reads it, which is how the schemas
/// see the file. Read straight into an integer field, serde-saphyr also takes
/// `0XA`, `0O7` and `0B1` as numbers; read as an untyped value it keeps them
/// as text, so such a file would load and then fail its schema. What is not
/// an integer is kept as a description of what was written: an error raised
/// while reading would lose its position, so [`CoreInteger::check`] refuses
/// it afterwards, at its line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreInteger<T>(pub Result<T, NotAnInteger>);

/// What stood where an integer was wanted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotAnInteger {
    /// `the text `0XA``, `the number 1.5`, `a list`, ...
    found: String,
    /// Written `0X…`, `0O…` or `0B…`: an integer in YAML 1.1 and to serde-saphyr's typed reading.
    capital_radix: bool,
}

impl NotAnInteger {
    fn new(found: String) -> Self {
        NotAnInteger {
            found,
            capital_radix: false,
        }
    }
}

impl<T: Copy> CoreInteger<T> {
    /// The integer, if it is one.
    pub fn integer(&self) -> Option<T> {
        self.0.as_ref().ok().copied()
    }

    /// The integer, or an error at its line and column.
    pub fn check(spanned: &Spanned<Self>, file: &Arc<SourceFile>) -> Result<T, Diagnostic> {
        let not = match &spanned.value.0 {
            Ok(value) => return Ok(*value),
            Err(not) => not,
        };
        let loc = Loc::of(file, &spanned.referenced);
        let diagnostic = Diagnostic::at(&loc, format!("expected an integer, found {}", not.found));
        Err(match not.capital_radix {
            true => diagnostic.note(
                "help: YAML 1.2 writes hexadecimal and octal with a small letter (`0x1f`, `0o17`); `0X1F` is text",
            ),
            false => diagnostic,
        })
    }
}

impl<'de, T: TryFrom<u64> + TryFrom<i64>> Deserialize<'de> for CoreInteger<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IntegerVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: TryFrom<u64> + TryFrom<i64>> Visitor<'de> for IntegerVisitor<T> {
            type Value = CoreInteger<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an integer")
            }
            fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
                let out_of_range = || NotAnInteger::new(format!("{v}, out of range here"));
                Ok(CoreInteger(T::try_from(v).map_err(|_| out_of_range())))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
                let out_of_range = || NotAnInteger::new(format!("{v}, out of range here"));
                Ok(CoreInteger(T::try_from(v).map_err(|_| out_of_range())))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
                Ok(CoreInteger(Err(NotAnInteger::new(format!(
                    "the number {v}"
                )))))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
                Ok(CoreInteger(Err(NotAnInteger::new(format!("`{v}`")))))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                let unsigned = v.trim_start_matches(['+', '-']);
                let capital_radix = ["0X", "0O", "0B"].iter().any(|p| unsigned.starts_with(p));
                let found = format!("the text `{v}`");
                Ok(CoreInteger(Err(NotAnInteger {
                    found,
                    capital_radix,
                })))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(CoreInteger(Err(NotAnInteger::new("null".to_owned()))))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(CoreInteger(Err(NotAnInteger::new("a list".to_owned()))))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map
                    .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(CoreInteger(Err(NotAnInteger::new("a mapping".to_owned()))))
            }
        }
        deserializer.deserialize_any(IntegerVisitor(std::marker::PhantomData))
    }
}
