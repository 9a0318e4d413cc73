//! The fuzz targets: each runs one input in-process and checks properties
//! beyond "no panic"; each makes structured inputs (proptest strategies)
//! and has seeds from the library's own files for mutation.
//!
//! Inputs are bytes; a target that takes several parts splits them at NUL.

use super::engine::{Target, Verdict};
use acapy_harness::diagnostic::{Diagnostic, Loc, SourceFile};
use acapy_harness::inputs::Inputs;
use acapy_harness::partition::Partition;
use acapy_harness::run::assert::{describe_length, describe_selection, first_mismatch, short_json};
use acapy_harness::run::predicate::{describe, holds};
use acapy_harness::scenario::duration::parse_duration;
use acapy_harness::scenario::model::{Action, Op, Ordering as Ord_};
use acapy_harness::scenario::query::{Query, Selection};
use acapy_harness::scenario::template::{as_text, Template, Vars};
use acapy_harness::schema::{schema_json, SchemaKind};
use acapy_harness::version::{compare_labels, Version, VersionReq};
use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

pub const TARGETS: &[Target] = &[
    Target {
        name: "validate",
        run: validate,
        structured: scenario_text,
        seeds: library_files,
        dictionary: &[
            "agents:\n",
            "steps:\n",
            "  - agent: a\n",
            "    get: /x\n",
            "expect:",
            "wait:",
            "timeout: ",
            "interval: ",
            "1e300s",
            "99999999999999999999m",
            "requires:",
            "acapy: ",
            "xfail:",
            "when:",
            "include: ",
            "${",
            "$.",
            "$[?@.a == 'b']",
            "equals",
            "matches",
            "one_of",
            "length",
            "gt",
            "status: ",
            "capture:",
            "vars:",
            "secrets:",
            "services:",
            "^18446744073709551615",
            "~1.18446744073709551615.0",
            "18446744073709551615.*",
        ],
    },
    Target {
        name: "config",
        run: config,
        structured: config_text,
        seeds: config_seeds,
        dictionary: &[
            "services:\n",
            "  db:\n",
            "    image: postgres\n",
            "    port: 5432\n",
            "    env:\n",
            "    ready:\n",
            "      http: /\n",
            "      log: ready\n",
            "    timeout: ",
            "contract:\n",
            "  mode: strict\n",
            "acapy: [",
            "jobs: ",
            "retries: ",
            "${outside}",
            "${services.db.host}",
        ],
    },
    Target {
        name: "template",
        run: template,
        structured: template_text,
        seeds: template_seeds,
        dictionary: &[
            "${",
            "$${",
            "}",
            "${v_obj}",
            "${v_str}",
            "${env.PATH}",
            "${uuid}",
            "${now}",
            "${unix_time}",
            "${services.db.url}",
            "${files.f}",
            "${1x}",
            "${}",
        ],
    },
    Target {
        name: "jsonpath",
        run: jsonpath,
        structured: jsonpath_text,
        seeds: jsonpath_seeds,
        dictionary: &[
            "$",
            ".",
            "..",
            "[",
            "]",
            "[*]",
            "[?",
            "@",
            "==",
            "!=",
            "<=",
            "&&",
            "||",
            "!",
            "length(",
            "count(",
            "match(",
            "search(",
            "value(",
            "'",
            "\"",
            "[0]",
            "[-1]",
            "[1:2:0]",
            "[::-1]",
            "[9223372036854775807]",
            "[-9223372036854775808]",
            "[18446744073709551615]",
            "1e308",
            "\\u",
        ],
    },
    Target {
        name: "expect",
        run: expect,
        structured: expect_text,
        seeds: expect_seeds,
        dictionary: &[
            "equals",
            "not_equals",
            "matches",
            "exists",
            "contains",
            "one_of",
            "length",
            "type",
            "gt",
            "gte",
            "lt",
            "lte",
            "1e308",
            "-1e308",
            "1.0",
            "[]",
            "{}",
            "\"\"",
        ],
    },
    Target {
        name: "diagnostic",
        run: diagnostic,
        structured: diagnostic_text,
        seeds: diagnostic_seeds,
        dictionary: &[
            "\0",
            "0",
            "1",
            "18446744073709551615",
            "\u{301}",
            "\t",
            "\r",
        ],
    },
    Target {
        name: "vars",
        run: vars,
        structured: vars_text,
        seeds: vars_seeds,
        dictionary: &["=", "\0", "\u{1}", "uuid=", "now=", "a=", "_=", "1a=", ": "],
    },
    Target {
        name: "version",
        run: version,
        structured: version_text,
        seeds: version_seeds,
        dictionary: &[
            ">=",
            "<=",
            "!=",
            "==",
            ">",
            "<",
            "=",
            "^",
            "~=",
            "~",
            ".*",
            ".x",
            "||",
            ",",
            "rc",
            "a",
            "b",
            "alpha",
            "beta",
            "c",
            "pre",
            "v",
            "-",
            "/",
            "ms",
            "s",
            "m",
            "::",
            "18446744073709551615",
            "4294967295",
        ],
    },
];

pub fn by_name(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

// ---------------------------------------------------------------- helpers

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn text(input: &[u8]) -> String {
    String::from_utf8_lossy(input).into_owned()
}

fn parts(input: &[u8], n: usize) -> Vec<String> {
    let text = text(input);
    let mut out: Vec<String> = text.splitn(n, '\0').map(str::to_owned).collect();
    out.resize(n, String::new());
    out
}

fn source(path: &str, text: String) -> Arc<SourceFile> {
    Arc::new(SourceFile {
        path: path.into(),
        text,
    })
}

/// A position is inside its file: a line of it (or the end of the file),
/// and a column on that line (or just past its end).
fn inside(loc: &Loc) -> Result<(), String> {
    let lines = loc.file.lines().count();
    if loc.line == 0 || loc.column == 0 || loc.len == 0 {
        return Err(format!("position {loc} with a zero part (len {})", loc.len));
    }
    if loc.line > lines + 1 {
        return Err(format!("position {loc} past the file's {lines} lines"));
    }
    let width = loc.file.line(loc.line).map_or(0, |l| l.chars().count());
    if loc.column > width + 1 {
        return Err(format!(
            "position {loc} past the end of its line ({width} characters)"
        ));
    }
    Ok(())
}

/// An error carries a position inside the file, and renders.
fn located(d: &Diagnostic) -> Verdict {
    let Some(loc) = &d.loc else {
        return Err(format!("an error without a position: {}", d.message));
    };
    inside(loc).map_err(|e| format!("{e}: {}", d.message))?;
    check_render(d, "error")
}

/// Every YAML file under the library's folders.
fn yaml_under(dirs: &[&str]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack: Vec<PathBuf> = dirs.iter().map(|d| manifest().join(d)).collect();
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml")
            ) {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn library_files() -> Vec<Vec<u8>> {
    yaml_under(&["scenarios", "fixtures", "tests"])
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .collect()
}

/// Pieces of the library's text that match `pattern`.
fn library_pieces(pattern: &str) -> Vec<Vec<u8>> {
    let re = regex::Regex::new(pattern).unwrap();
    let mut out = BTreeSet::new();
    for file in library_files() {
        let text = String::from_utf8_lossy(&file).into_owned();
        for m in re.find_iter(&text) {
            out.insert(m.as_str().trim().as_bytes().to_vec());
        }
    }
    out.into_iter().collect()
}

// ---------------------------------------------------------------- validate

fn scenario_validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let schema: Value = serde_json::from_str(&schema_json(SchemaKind::Scenario)).unwrap();
        jsonschema::validator_for(&schema).unwrap()
    })
}

/// `validate` of bytes: an accepted file passes the JSON Schema; a refused
/// one has every error at a position inside the file.
fn validate(input: &[u8]) -> Verdict {
    // In a folder of the library, so the seeds' includes are found.
    let path = manifest().join("scenarios/fuzz/input.yaml");
    let outside = BTreeSet::from(["outside".to_owned()]);
    match acapy_harness::scenario::load::load_bytes(&path, input, "fuzz/input".into(), &outside) {
        Ok(scenario) => {
            for w in &scenario.warnings {
                check_render(w, "warning")?;
            }
            let text =
                std::str::from_utf8(input).map_err(|e| format!("accepted non-UTF-8: {e}"))?;
            // YAML that is not JSON (a key that is not a string) is the
            // schema's business only where it can be read as JSON.
            let Ok(json) = serde_saphyr::from_str::<Value>(text) else {
                return Ok(());
            };
            let errors: Vec<String> = scenario_validator()
                .iter_errors(&json)
                .map(|e| format!("at `{}`: {e}", e.instance_path()))
                .collect();
            match errors.is_empty() {
                true => Ok(()),
                false => Err(format!(
                    "accepted by validate, refused by the schema: {}",
                    errors.join("; ")
                )),
            }
        }
        Err(diagnostics) => diagnostics.0.iter().try_for_each(located),
    }
}

/// Scenario files made from the format's parts, some of them wrong.
fn scenario_text() -> BoxedStrategy<Vec<u8>> {
    let role = prop::sample::select(vec!["issuer", "holder", "a", "b"]);
    let path = prop::sample::select(vec![
        "/status",
        "/connections",
        "/x/${v}",
        "/${outside}",
        "relative",
        "/a?b=1",
        "",
    ]);
    let json_path = prop::sample::select(vec![
        "$.state",
        "$.results[0].id",
        "$.results[*].id",
        "$[?@.a == 'b']",
        "$..x",
        "$[",
        "state",
        "$.a${v}",
        "$['a']",
        "$.results[-1]",
        "$[1:9223372036854775807:0]",
    ]);
    let value = prop_oneof![
        Just("done".to_owned()),
        Just("\"${v}\"".to_owned()),
        Just("{ equals: 1 }".to_owned()),
        Just("{ matches: \"^a(b\" }".to_owned()),
        Just("{ matches: \"^a\" }".to_owned()),
        Just("{ exists: true }".to_owned()),
        Just("{ one_of: [a, 1, null] }".to_owned()),
        Just("{ length: 18446744073709551615 }".to_owned()),
        Just("{ type: strin }".to_owned()),
        Just("{ gt: 1e308 }".to_owned()),
        Just("{ lte: -0.5, gte: .nan }".to_owned()),
        Just("{ contains: [1] }".to_owned()),
        Just("[1, 2]".to_owned()),
        any::<i64>().prop_map(|n| n.to_string()),
        "[a-z é😀]{0,8}".prop_map(|s| format!("{s:?}")),
    ];
    let duration = prop_oneof![
        Just("30s".to_owned()),
        Just("250ms".to_owned()),
        Just("1e300s".to_owned()),
        Just("99999999999999999999m".to_owned()),
        Just("-1s".to_owned()),
        Just("2 m".to_owned()),
        Just(".5s".to_owned()),
        (0u64..u64::MAX, prop::sample::select(vec!["ms", "s", "m"]))
            .prop_map(|(n, u)| format!("{n}{u}")),
    ];
    let version = version_text_str();
    let expect = prop::collection::vec((json_path.clone(), value.clone()), 0..3);
    let step = prop_oneof![
        (role.clone(), path.clone(), expect.clone(), any::<u16>()).prop_map(
            |(r, p, e, status)| {
                let mut s = format!("  - agent: {r}\n    get: {p}\n");
                if !e.is_empty() || status % 3 == 0 {
                    s.push_str("    expect:\n");
                    if status % 3 == 0 {
                        s.push_str(&format!("      status: {}\n", status % 700));
                    }
                    for (k, v) in e {
                        s.push_str(&format!("      {k}: {v}\n"));
                    }
                }
                s
            }
        ),
        (role.clone(), path.clone(), value.clone(), json_path.clone()).prop_map(
            |(r, p, v, k)| format!(
                "  - agent: {r}\n    post: {p}\n    body: {{ k: {v} }}\n    capture:\n      v: {k}\n"
            )
        ),
        (role.clone(), expect.clone(), duration.clone(), duration.clone(), any::<bool>())
            .prop_map(|(r, e, t, i, poll)| {
                let source = match poll {
                    true => "poll: /x".to_owned(),
                    false => "event: connections".to_owned(),
                };
                let mut s = format!(
                    "  - agent: {r}\n    wait:\n      {source}\n      timeout: {t}\n      interval: {i}\n      until:\n"
                );
                for (k, v) in e {
                    s.push_str(&format!("        {k}: {v}\n"));
                }
                s
            }),
        (role.clone(), version.clone()).prop_map(|(r, v)| format!(
            "  - agent: {r}\n    get: /status\n    when: {{ acapy: {v:?} }}\n"
        )),
        Just("  - include: ../../fixtures/connections/connect-issuer-and-holder.yaml\n".to_owned()),
        Just("  - include: missing.yaml\n".to_owned()),
        (role.clone()).prop_map(|r| format!("  - restart: {r}\n")),
    ];
    (
        prop::collection::vec(role, 0..3),
        prop::collection::vec(step, 0..5),
        proptest::option::of(version.clone()),
        proptest::option::of((version, "[a-z ]{0,10}")),
        proptest::option::of(value),
    )
        .prop_map(|(roles, steps, requires, xfail, var)| {
            let mut s = String::from("name: fuzz\n");
            if let Some(r) = requires {
                s.push_str(&format!("requires:\n  acapy: {r:?}\n"));
            }
            if let Some((v, failure)) = xfail {
                s.push_str(&format!(
                    "xfail:\n  - acapy: {v:?}\n    failure: {failure:?}\n    reason: r\n"
                ));
            }
            if let Some(v) = var {
                s.push_str(&format!("vars:\n  v: {v}\n"));
            }
            s.push_str("agents:\n");
            for r in roles {
                s.push_str(&format!("  {r}: {{}}\n"));
            }
            s.push_str("steps:\n");
            for step in steps {
                s.push_str(&step);
            }
            s.into_bytes()
        })
        .boxed()
}

// ---------------------------------------------------------------- config

fn config_validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let schema: Value = serde_json::from_str(&schema_json(SchemaKind::Config)).unwrap();
        jsonschema::validator_for(&schema).unwrap()
    })
}

/// A suite's `acapy-harness.yaml` as `validate` reads it (its services
/// checked): accepted, it passes the config schema; refused, every error
/// points inside it.
fn config(input: &[u8]) -> Verdict {
    let text = text(input);
    let file = source("scenarios/acapy-harness.yaml", text.clone());
    let mut config = match acapy_harness::config::Config::from_source(file) {
        Ok(c) => c,
        Err(d) => return located(&d),
    };
    let outside = BTreeSet::from(["outside".to_owned()]);
    if let Err(diagnostics) = config.take_services(&outside) {
        return diagnostics.0.iter().try_for_each(located);
    }
    // An empty file (or one of comments) is no document: nothing for a
    // schema to judge, and the harness takes it as an empty config.
    let Ok(json) = serde_saphyr::from_str::<Value>(&text) else {
        return Ok(());
    };
    if json.is_null() {
        return Ok(());
    }
    let errors: Vec<String> = config_validator()
        .iter_errors(&json)
        .map(|e| format!("at `{}`: {e}", e.instance_path()))
        .collect();
    match errors.is_empty() {
        true => Ok(()),
        false => Err(format!(
            "accepted as a config, refused by the schema: {}",
            errors.join("; ")
        )),
    }
}

fn config_text() -> BoxedStrategy<Vec<u8>> {
    let service = (
        "[a-z_-]{0,5}",
        prop::sample::select(vec!["postgres:15", "", "${outside}", "x:${nope}"]),
        any::<u32>(),
        prop::sample::select(vec![
            "",
            "    ready: { http: / }\n",
            "    ready: { log: up }\n",
            "    ready: { http: /, log: up }\n",
            "    timeout: 99999999999999999999m\n",
            "    env: { A: \"${services.db.port}\" }\n",
            "    scope: run\n",
            "    scope: nope\n",
        ]),
    )
        .prop_map(|(name, image, port, extra)| {
            format!(
                "  {name}:\n    image: {image:?}\n    port: {}\n{extra}",
                port % 70000
            )
        });
    (
        prop::collection::vec(service, 0..3),
        prop::sample::select(vec![
            "",
            "acapy: [1.3.6]\n",
            "jobs: 0\n",
            "retries: -1\n",
            "contract:\n  mode: strict\n",
        ]),
    )
        .prop_map(|(services, head)| {
            let mut s = head.to_owned();
            if !services.is_empty() {
                s.push_str("services:\n");
                s.push_str(&services.concat());
            }
            s.into_bytes()
        })
        .boxed()
}

fn config_seeds() -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = library_files()
        .into_iter()
        .filter(|f| String::from_utf8_lossy(f).contains("services:"))
        .collect();
    if let Ok(own) = std::fs::read(manifest().join("scenarios/acapy-harness.yaml")) {
        seeds.push(own);
    }
    seeds
}

// ---------------------------------------------------------------- template

/// Variables of every kind of JSON value.
fn template_vars() -> Vars {
    Vars::from([
        ("v_null".to_owned(), Value::Null),
        ("v_true".to_owned(), json!(true)),
        ("v_int".to_owned(), json!(-42)),
        ("v_big".to_owned(), json!(u64::MAX)),
        ("v_float".to_owned(), json!(1.5e300)),
        ("v_str".to_owned(), json!("did:key:z6Mk#k-1/x?y")),
        ("v_empty".to_owned(), json!("")),
        ("v_uni".to_owned(), json!("é😀\u{301}\u{feff}\t\r\n")),
        ("v_dollar".to_owned(), json!("${v_str}$${")),
        ("v_arr".to_owned(), json!([1, "a", null, [], {}])),
        ("v_obj".to_owned(), json!({"@id": "x", "n": {"m": [1.0]}})),
    ])
}

/// What a template must render to, worked out on its own: `$${` is `${`,
/// `${name}` the variable (its value when it is the whole text).
fn template_oracle(text: &str, vars: &Vars) -> Option<Value> {
    if let Some(name) = text.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
        if !name.contains('}') {
            return vars.get(name).cloned();
        }
    }
    let mut out = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("$${") {
            out.push_str("${");
            rest = after;
        } else if let Some(after) = rest.strip_prefix("${") {
            let end = after.find('}')?;
            out.push_str(&as_text(vars.get(&after[..end])?));
            rest = &after[end + 1..];
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    Some(Value::String(out))
}

/// `${...}` with every kind of value: errors point inside the file, and
/// what renders is what the text says.
fn template(input: &[u8]) -> Verdict {
    let [text, quoted] = <[String; 2]>::try_from(parts(input, 2)).unwrap();
    let quoted = !quoted.is_empty();
    let written = match quoted {
        true => format!("\"{text}\""),
        false => text.clone(),
    };
    let file = source("t.yaml", format!("key: {written}\n"));
    let loc = Loc::new(&file, 1, 6, written.chars().count());
    let vars = template_vars();
    // A whole file of them (an agent's config file) parses the same way.
    let whole = source("config.yaml", text.clone());
    if let Err(d) = Template::parse_file(&whole) {
        located(&d)?;
    }
    let template = match Template::parse_str(&text, &loc) {
        Ok(t) => t,
        Err(d) => return located(&d),
    };
    for var in template.vars() {
        inside(&var.loc).map_err(|e| format!("variable `{}`: {e}", var.name))?;
    }
    let rendered = template.render(&vars);
    let _ = template.render_path(&vars);
    let plain = template.vars().iter().all(|v| vars.contains_key(&v.name));
    if plain {
        let rendered = rendered.map_err(|d| format!("every variable set, yet: {}", d.message))?;
        let expected = template_oracle(&text, &vars);
        if expected.as_ref() != Some(&rendered) {
            return Err(format!("rendered {rendered}, the text says {expected:?}"));
        }
        let path = template
            .render_path(&vars)
            .map_err(|d| format!("render_path: {}", d.message))?;
        if matches!(template, Template::Text(_))
            && template.vars().iter().any(|v| v.name == "v_str")
            && path.contains("did:key:z6Mk#")
        {
            return Err(format!("a variable in a path was not encoded: {path}"));
        }
    } else if let Err(d) = rendered {
        located(&d)?;
    }
    Ok(())
}

fn template_text() -> BoxedStrategy<Vec<u8>> {
    let name = prop_oneof![
        prop::sample::select(vec![
            "v_null",
            "v_true",
            "v_int",
            "v_big",
            "v_float",
            "v_str",
            "v_empty",
            "v_uni",
            "v_dollar",
            "v_arr",
            "v_obj",
            "unset",
            "uuid",
            "now",
            "unix_time",
            "env.PATH",
            "env.ACAPY_HARNESS_FUZZ_UNSET",
            "env.",
            "services.db.url",
            "services.db.x",
            "files.f",
            "1x",
            "",
            " v_str",
            "v_str ",
            "a-b",
            "é",
        ])
        .prop_map(str::to_owned),
        "[a-z_$.{]{0,6}",
    ];
    let piece = prop_oneof![
        3 => "[a-z é😀\u{301}\t\n\"'/#?]{0,6}",
        3 => name.prop_map(|n| format!("${{{n}}}")),
        1 => Just("$${".to_owned()),
        1 => Just("${".to_owned()),
        1 => Just("}".to_owned()),
        1 => Just("$".to_owned()),
    ];
    (prop::collection::vec(piece, 0..6), any::<bool>())
        .prop_map(|(pieces, quoted)| {
            let mut s = pieces.concat();
            if quoted {
                s.push_str("\0q");
            }
            s.into_bytes()
        })
        .boxed()
}

fn template_seeds() -> Vec<Vec<u8>> {
    library_pieces(r"[^\s:]*\$\{[^\n]*")
}

// ---------------------------------------------------------------- jsonpath

fn documents() -> Vec<Value> {
    vec![
        json!(null),
        json!({"state": "done", "results": [{"id": 1, "state": "a"}, {"id": "2", "a": "b"}], "x": {"x": [1, 2.5, "é"]}}),
        json!([1, [2, [3, [4]]], {"a": {"a": {"a": null}}}]),
        json!({"@type": "https://didcomm.org/x/1.0/y", "": {"": ""}, "a.b": 1, "-1": -1}),
    ]
}

/// A JSONPath, and a document to select in: errors point inside the key;
/// a singular query selects one value or none, any other a list; the same
/// query selects the same twice.
fn jsonpath(input: &[u8]) -> Verdict {
    let [path, doc] = <[String; 2]>::try_from(parts(input, 2)).unwrap();
    // As a key of an `expect`, quoted as the file would have to.
    let file = source(
        "p.yaml",
        format!("{}: 1\n", serde_json::to_string(&path).unwrap()),
    );
    let loc = Loc::new(&file, 1, 1, path.chars().count());
    let query = match Query::parse(&path, &loc) {
        Ok(q) => q,
        Err(d) => return located(&d),
    };
    let mut docs = documents();
    if let Ok(v) = serde_json::from_str::<Value>(&doc) {
        docs.push(v);
    }
    for doc in &docs {
        let selection = query.select(doc);
        match (&selection, query.is_singular()) {
            (Selection::Absent | Selection::Value(_), true) => {}
            (Selection::Nodes(Value::Array(_)), false) => {}
            (other, singular) => {
                return Err(format!("singular {singular}, yet selected {other:?}"));
            }
        }
        if query.select(doc) != selection {
            return Err("the same query selected differently twice".into());
        }
        let _ = describe_selection(&selection);
        let _ = describe_length(&selection);
    }
    Ok(())
}

fn jsonpath_text() -> BoxedStrategy<Vec<u8>> {
    let segment = prop_oneof![
        "\\.[a-z@ é]{0,4}",
        Just("..".to_owned()),
        Just("[*]".to_owned()),
        Just(".*".to_owned()),
        any::<i64>().prop_map(|i| format!("[{i}]")),
        (
            any::<Option<i32>>(),
            any::<Option<i32>>(),
            any::<Option<i64>>()
        )
            .prop_map(|(a, b, c)| {
                let f = |x: Option<i64>| x.map(|x| x.to_string()).unwrap_or_default();
                format!("[{}:{}:{}]", f(a.map(i64::from)), f(b.map(i64::from)), f(c))
            }),
        "\\['[a-z'\\\\\"]{0,4}'\\]",
        prop::sample::select(vec![
            "[?@.state == 'done']",
            "[?@.id > 1]",
            "[?length(@) > 1]",
            "[?@.a]",
            "[?!@.a]",
            "[?count(@.*) == 1]",
            "[?match(@.a, 'b.*')]",
            "[?search(@.a, '[')]",
            "[?value(@..x) == 1]",
            "[?@ == 1e308]",
            "[?(@.a == 1 || @.b != 'x') && @.c]",
            "[?@.a == $.x]",
            "[0,1,-1]",
        ])
        .prop_map(str::to_owned),
    ];
    (
        prop::collection::vec(segment, 0..5),
        any::<bool>(),
        prop::sample::select(vec!["", "{\"a\": [1, {\"b\": 2}]}", "[[[[]]]]", "\"s\""]),
    )
        .prop_map(|(segments, root, doc)| {
            let mut s = String::from(if root { "$" } else { "@" });
            s.push_str(&segments.concat());
            s.push('\0');
            s.push_str(doc);
            s.into_bytes()
        })
        .boxed()
}

fn jsonpath_seeds() -> Vec<Vec<u8>> {
    library_pieces(r#"\$[.\[][^\s:]*(\s[^:\n]*)?"#)
}

// ---------------------------------------------------------------- expect

/// An `expect` of one JSONPath and its operators, loaded as a scenario and
/// evaluated against documents: negated operators disagree, the first
/// mismatch is the first predicate that fails, a value equals itself.
fn expect(input: &[u8]) -> Verdict {
    let [path, predicate, doc] = <[String; 3]>::try_from(parts(input, 3)).unwrap();
    let yaml = format!(
        "agents:\n  a: {{}}\nsteps:\n  - agent: a\n    get: /x\n    expect:\n      {}: {}\n",
        serde_json::to_string(&path).unwrap(),
        predicate.replace('\n', " ")
    );
    let path_buf = manifest().join("scenarios/fuzz/expect.yaml");
    let scenario = match acapy_harness::scenario::load::load_bytes(
        &path_buf,
        yaml.as_bytes(),
        "fuzz/expect".into(),
        &BTreeSet::new(),
    ) {
        Ok(s) => s,
        Err(diagnostics) => return diagnostics.0.iter().try_for_each(located),
    };
    let Some(step) = scenario.steps.first() else {
        return Err("a scenario of one step loaded without it".into());
    };
    if !matches!(step.action, Action::Request(_)) {
        return Err("a get step loaded as something else".into());
    }
    let vars = Vars::new();
    let mut docs = documents();
    if let Ok(v) = serde_json::from_str::<Value>(&doc) {
        docs.push(v);
    }
    for doc in &docs {
        let mismatch = first_mismatch(&step.assertions, doc, &vars)
            .map_err(|d| format!("evaluating: {}", d.message))?;
        let mut first_failing = None;
        for assertion in &step.assertions {
            let selection = assertion.query.select(doc);
            for p in &assertion.predicates {
                let held = holds(&p.op, &selection, &vars).map_err(|d| d.message)?;
                describe(&p.op, &vars).map_err(|d| d.message)?;
                if !held && first_failing.is_none() {
                    first_failing = Some(p.loc.clone());
                }
                if let Some(negated) = negation(&p.op, &selection) {
                    let other = holds(&negated, &selection, &vars).map_err(|d| d.message)?;
                    if other == held {
                        return Err(format!(
                            "{:?} and its negation both {} on {selection:?}",
                            p.op,
                            if held { "hold" } else { "fail" }
                        ));
                    }
                }
            }
            if let Some(v) = selection.value() {
                let itself = Op::Equals(Template::Literal(v.clone()));
                if !holds(&itself, &selection, &vars).map_err(|d| d.message)? {
                    return Err(format!("{v} does not equal itself"));
                }
                let len = match v {
                    Value::String(s) => Some(s.chars().count()),
                    Value::Array(a) => Some(a.len()),
                    Value::Object(o) => Some(o.len()),
                    _ => None,
                };
                if let Some(len) = len {
                    if !holds(&Op::Length(len), &selection, &vars).map_err(|d| d.message)? {
                        return Err(format!("{v} is not of its own length {len}"));
                    }
                }
                let short = short_json(v, 20);
                let whole = v.to_string();
                let kept = short.split("… (").next().unwrap_or(&short);
                if !whole.starts_with(kept) {
                    return Err(format!(
                        "short_json `{short}` is not the start of `{whole}`"
                    ));
                }
            }
        }
        match (&mismatch, &first_failing) {
            (None, None) => {}
            (Some(m), Some(loc)) if m.loc.line == loc.line && m.loc.column == loc.column => {}
            (m, f) => {
                return Err(format!(
                    "first_mismatch {:?}, the first failing predicate at {f:?}",
                    m.as_ref().map(|m| &m.loc)
                ))
            }
        }
    }
    Ok(())
}

/// The operator that must disagree with `op` on `selection`, where there is one.
fn negation(op: &Op, selection: &Selection) -> Option<Op> {
    Some(match op {
        Op::Equals(t) => Op::NotEquals(t.clone()),
        Op::NotEquals(t) => Op::Equals(t.clone()),
        Op::Exists(b) => Op::Exists(!b),
        Op::Compare(ord, n)
            if !n.is_nan() && selection.value().and_then(Value::as_f64).is_some() =>
        {
            let flipped = match ord {
                Ord_::Greater => Ord_::LessOrEqual,
                Ord_::GreaterOrEqual => Ord_::Less,
                Ord_::Less => Ord_::GreaterOrEqual,
                Ord_::LessOrEqual => Ord_::Greater,
            };
            Op::Compare(flipped, *n)
        }
        _ => return None,
    })
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        Just(json!(1.0)),
        Just(json!(1)),
        "[a-z é😀\u{301}]{0,5}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(("[a-z]{0,2}", inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn expect_text() -> BoxedStrategy<Vec<u8>> {
    let path = prop::sample::select(vec![
        "$",
        "$.a",
        "$.a[0]",
        "$[0]",
        "$.*",
        "$..a",
        "$[?@.a]",
        "$.results[*].id",
        "$.state",
        "$[-1]",
        "$.x.x[2]",
        "$['']",
    ]);
    let op = prop_oneof![
        json_value().prop_map(|v| v.to_string()),
        (
            prop::sample::select(vec![
                "equals",
                "not_equals",
                "contains",
                "one_of",
                "length",
                "type",
                "gt",
                "gte",
                "lt",
                "lte",
                "exists",
                "matches",
            ]),
            json_value(),
        )
            .prop_map(|(op, v)| {
                let v = match (op, &v) {
                    ("one_of", Value::Array(_))
                    | ("length" | "gt" | "gte" | "lt" | "lte", Value::Number(_)) => v,
                    ("one_of", _) => json!([v]),
                    ("exists", _) => json!(v.is_null()),
                    ("type", _) => json!(
                        ["string", "number", "integer", "array", "object", "boolean", "null"]
                            [v.to_string().len() % 7]
                    ),
                    ("matches", Value::String(s)) => json!(format!("^{s}")),
                    _ => v,
                };
                format!("{{ {op}: {v} }}")
            }),
    ];
    (path, prop::collection::vec(op, 1..3), json_value())
        .prop_map(|(path, ops, doc)| {
            // Several operators on one path: merged into one mapping.
            let merged: Vec<String> = ops
                .iter()
                .map(|o| {
                    o.strip_prefix("{ ")
                        .and_then(|o| o.strip_suffix(" }"))
                        .map(str::to_owned)
                        .unwrap_or_else(|| format!("equals: {o}"))
                })
                .collect();
            format!("{path}\0{{ {} }}\0{doc}", merged.join(", ")).into_bytes()
        })
        .boxed()
}

fn expect_seeds() -> Vec<Vec<u8>> {
    library_pieces(r#"\$[.\[][^\s:]*: \{[^\n]*\}"#)
        .into_iter()
        .filter_map(|p| {
            let text = String::from_utf8(p).ok()?;
            let (path, pred) = text.split_once(": ")?;
            Some(format!("{path}\0{pred}\0{{\"state\": \"done\"}}").into_bytes())
        })
        .collect()
}

// ---------------------------------------------------------------- diagnostic

/// The rendered snippet quotes the line whole and underlines inside it.
fn check_render(d: &Diagnostic, kind: &str) -> Verdict {
    let out = d.render(kind);
    let first = out.lines().next().unwrap_or_default();
    if !first.starts_with(&format!("{kind}: ")) {
        return Err(format!("rendering starts `{first}`"));
    }
    let Some(loc) = &d.loc else {
        return Ok(());
    };
    let Some(source) = loc.file.line(loc.line) else {
        return Ok(());
    };
    let quoted = format!("{} | {source}", loc.line);
    let lines: Vec<&str> = out.split('\n').collect();
    let Some(at) = lines.iter().position(|l| *l == quoted) else {
        return Err(format!("the line is not quoted whole: {out:?}"));
    };
    let Some(under) = lines.get(at + 1) else {
        return Err("no underline".into());
    };
    let pad = " ".repeat(loc.line.to_string().len());
    let Some(marks) = under.strip_prefix(&format!("{pad} | ")) else {
        return Err(format!("the underline is not under the line: {under:?}"));
    };
    let indent: String = marks
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect();
    let carets = marks[indent.len()..]
        .chars()
        .take_while(|c| *c == '^')
        .count();
    let width = source.chars().count();
    let expected_indent = (loc.column.max(1) - 1).min(width);
    if indent.chars().count() != expected_indent {
        return Err(format!(
            "underline starts at {} for column {} of a {width}-character line",
            indent.chars().count(),
            loc.column
        ));
    }
    if carets == 0 || (expected_indent + carets > width && carets > 1) {
        return Err(format!(
            "{carets} carets from column {} on a {width}-character line",
            loc.column
        ));
    }
    Ok(())
}

/// Arbitrary spans over arbitrary text: the renderer quotes and underlines
/// without panicking, whatever the numbers.
fn diagnostic(input: &[u8]) -> Verdict {
    let [text, line, column, len, label, note] = <[String; 6]>::try_from(parts(input, 6)).unwrap();
    let number = |s: &str| s.trim().parse::<usize>().unwrap_or(s.len());
    let file = source("d.yaml", text);
    let (line, column, len) = (number(&line), number(&column), number(&len));
    let made = Loc::new(&file, line, column, len);
    let mut d = Diagnostic::at(&made, "message é").label(label.clone());
    if !note.is_empty() {
        d = d.note(note.clone());
    }
    check_render(&d, "error")?;
    let shifted = made.shifted(column % 7, len % 5);
    check_render(
        &Diagnostic::at(&shifted, "m").label(label.clone()),
        "failure",
    )?;
    // A position made by hand, zero parts and all.
    let raw = Loc {
        file: file.clone(),
        line,
        column,
        len,
    };
    let _ = Diagnostic::at(&raw, "m").label(label).render("error");
    let _ = format!("{}", acapy_harness::diagnostic::Diagnostics(vec![d]));
    Ok(())
}

fn diagnostic_text() -> BoxedStrategy<Vec<u8>> {
    let line = "[a-z \t:é😀\u{301}\u{feff}\u{2028}\r]{0,12}";
    (
        prop::collection::vec(line, 0..5),
        prop::sample::select(vec!["\n", "\r\n", "\r"]),
        0usize..8,
        prop_oneof![0usize..16, Just(usize::MAX)],
        prop_oneof![0usize..16, Just(usize::MAX)],
        "[a-z é\n]{0,6}",
        "[a-z é\n]{0,6}",
    )
        .prop_map(|(lines, sep, line, column, len, label, note)| {
            format!(
                "{}\0{line}\0{column}\0{len}\0{label}\0{note}",
                lines.join(sep)
            )
            .into_bytes()
        })
        .boxed()
}

fn diagnostic_seeds() -> Vec<Vec<u8>> {
    library_files()
        .into_iter()
        .take(20)
        .enumerate()
        .map(|(i, mut f)| {
            f.extend(format!("\0{}\0{}\0{}\0label\0note", i % 30 + 1, i % 9, i % 4).bytes());
            f
        })
        .collect()
}

// ---------------------------------------------------------------- vars

/// `--var`, `--secret` and `--vars-file` text: the name rules hold both
/// ways, the value is what follows the first `=`, a secret's value never
/// shows, and a vars file's errors point inside it.
fn vars(input: &[u8]) -> Verdict {
    let text = text(input);
    let (file_text, args) = text.split_once('\u{1}').unwrap_or((&text, ""));
    let args: Vec<String> = args
        .split('\0')
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect();
    let (secrets, plain): (Vec<String>, Vec<String>) =
        args.iter().cloned().partition(|a| a.len() % 3 == 0);
    let valid = |a: &String| {
        a.split_once('=').is_some_and(|(n, _)| {
            acapy_harness::scenario::template::is_var_name(n)
                && !acapy_harness::scenario::template::GENERATED_VARS.contains(&n)
        })
    };
    match Inputs::from_args(&plain, None, &secrets) {
        Ok(inputs) => {
            if !args.iter().all(valid) {
                return Err("an invalid NAME=VALUE was taken".into());
            }
            for arg in plain.iter().chain(&secrets) {
                let (name, _) = arg.split_once('=').unwrap();
                let last = secrets
                    .iter()
                    .rev()
                    .chain(plain.iter().rev())
                    .find(|a| a.split_once('=').unwrap().0 == name)
                    .unwrap();
                let value = &last[name.len() + 1..];
                if inputs.vars.get(name) != Some(&Value::String(value.to_owned())) {
                    return Err(format!(
                        "`{name}` is {:?}, not {value:?}",
                        inputs.vars.get(name)
                    ));
                }
            }
            // The debug form shows names only.
            let mut blank = inputs.clone();
            blank.vars.values_mut().for_each(|v| *v = Value::Null);
            if format!("{inputs:?}") != format!("{blank:?}") {
                return Err("the debug form depends on the values".into());
            }
        }
        Err(d) => {
            if args.iter().all(valid) {
                return Err(format!("valid arguments refused: {}", d.message));
            }
        }
    }
    let file = source("vars.yaml", file_text.to_owned());
    let mut inputs = Inputs::default();
    match inputs.add_vars_source(&file) {
        Ok(()) => {
            for name in inputs.vars.keys() {
                if !valid(&format!("{name}=")) {
                    return Err(format!("a vars file set `{name}`"));
                }
            }
        }
        Err(d) => located(&d)?,
    }
    Ok(())
}

fn vars_text() -> BoxedStrategy<Vec<u8>> {
    let name = prop_oneof![
        prop::sample::select(vec![
            "a",
            "_",
            "host",
            "uuid",
            "now",
            "unix_time",
            "1a",
            "",
            "a-b",
            "é"
        ])
        .prop_map(str::to_owned),
        "[a-zA-Z_0-9]{1,6}",
    ];
    let arg = (name.clone(), "[a-z=é \n]{0,6}", any::<bool>()).prop_map(|(n, v, eq)| match eq {
        true => format!("{n}={v}"),
        false => format!("{n}{v}"),
    });
    let entry = (
        name,
        prop_oneof![
            Just("1".to_owned()),
            Just("[a, b]".to_owned()),
            Just("{ k: v }".to_owned()),
            Just("".to_owned()),
            "[a-z \"'é]{0,6}",
        ],
    )
        .prop_map(|(n, v)| format!("{n}: {v}\n"));
    (
        prop::collection::vec(entry, 0..4),
        prop::collection::vec(arg, 0..4),
    )
        .prop_map(|(entries, args)| {
            format!("{}\u{1}{}", entries.concat(), args.join("\0")).into_bytes()
        })
        .boxed()
}

fn vars_seeds() -> Vec<Vec<u8>> {
    vec![
        b"host: h\nport: 8020\nlist: [a, b]\n\x01host=cli\0empty=\0key=s3cr3t".to_vec(),
        b"ok: 1\nbad-name: 2\n\x01novalue\x001x=a\0uuid=a".to_vec(),
        b"a: { b: [1, {c: d}] }\n\x01a=b=c".to_vec(),
    ]
}

// ---------------------------------------------------------------- version

/// Versions, ranges, partitions, durations and labels: a version shows in a
/// form that parses back to it; a range covering a version's line (or
/// comparing with it) judges it as it says; a partition shows as it parses
/// and puts an id in exactly one part.
fn version(input: &[u8]) -> Verdict {
    let text = text(input);
    if let Ok(v) = Version::parse(&text) {
        let shown = v.to_string();
        if Version::parse(&shown).as_ref() != Ok(&v) {
            return Err(format!("`{shown}` does not parse back to {v:?}"));
        }
        if v.cmp(&v) != std::cmp::Ordering::Equal {
            return Err("a version is not equal to itself".into());
        }
        let _ = acapy_harness::agents::version::Release::parse(&text).map(|r| r.requirement());
    }
    if let Ok(req) = VersionReq::parse(&text) {
        let trimmed = text.trim();
        let (op, rest) = [">=", "<=", "!=", "==", "~=", ">", "<", "=", "^", "~"]
            .iter()
            .find_map(|op| trimmed.strip_prefix(op).map(|r| (*op, r.trim())))
            .unwrap_or(("", trimmed));
        if !rest.contains(['|', ',']) {
            if let Ok(v) = Version::parse(rest) {
                let expected = !matches!(op, "!=" | ">" | "<");
                if req.matches(&v) != expected {
                    return Err(format!(
                        "`{text}` {} {v}",
                        if expected { "refuses" } else { "admits" }
                    ));
                }
            }
            let line = rest.strip_suffix(".*").or_else(|| rest.strip_suffix(".x"));
            if let (Some(line), "") = (line, op) {
                let first = Version::parse(&format!("{line}.0"))
                    .or_else(|_| Version::parse(&format!("{line}.0.0")));
                if let Ok(first) = first {
                    if !req.matches(&first) {
                        return Err(format!("`{text}` refuses {first}, the first of its line"));
                    }
                }
            }
        }
    }
    if let Ok(p) = text.parse::<Partition>() {
        if p.index == 0 || p.index > p.count {
            return Err(format!("partition {p:?}"));
        }
        if p.to_string().parse::<Partition>() != Ok(p) {
            return Err(format!("partition `{p}` does not parse back"));
        }
        if p.count <= 64 {
            for id in ["a", "dir/scenario-1", "", "é"] {
                let parts = (1..=p.count)
                    .filter(|&index| {
                        Partition {
                            index,
                            count: p.count,
                        }
                        .contains(id)
                    })
                    .count();
                if parts != 1 {
                    return Err(format!("`{id}` in {parts} parts of {}", p.count));
                }
            }
        }
    }
    if let Some(d) = parse_duration(&text) {
        let _ = d.as_millis();
    }
    let other = text.chars().rev().collect::<String>();
    let (ab, ba) = (compare_labels(&text, &other), compare_labels(&other, &text));
    if ab != ba.reverse() {
        return Err(format!("labels `{text}` and `{other}` order both ways"));
    }
    Ok(())
}

fn version_text_str() -> BoxedStrategy<String> {
    let number = prop_oneof![
        4 => (0u64..20).prop_map(|n| n.to_string()),
        1 => Just(u64::MAX.to_string()),
        1 => Just("18446744073709551616".to_owned()),
        1 => any::<u64>().prop_map(|n| n.to_string()),
    ];
    let pre = prop::sample::select(vec![
        "", "", "", "rc1", "-rc.1", ".rc1", "a", "b2", "alpha", "beta3", "c", "pre", "rcx",
        ".dev1", "+local",
    ]);
    let version =
        (prop::collection::vec(number, 1..4), pre, any::<bool>()).prop_map(|(numbers, pre, v)| {
            format!("{}{}{pre}", if v { "v" } else { "" }, numbers.join("."))
        });
    let op = prop::sample::select(vec![
        "", "", ">=", "<=", "!=", "==", ">", "<", "=", "^", "~=", "~",
    ]);
    let comparison = (op, version, prop::sample::select(vec!["", "", ".*", ".x"]))
        .prop_map(|(op, v, line)| format!("{op}{v}{line}"));
    prop::collection::vec(
        (
            comparison,
            prop::sample::select(vec![", ", "||", " || ", ","]),
        ),
        1..3,
    )
    .prop_map(|items| {
        let mut s = String::new();
        for (i, (c, sep)) in items.iter().enumerate() {
            if i > 0 {
                s.push_str(sep);
            }
            s.push_str(c);
        }
        s
    })
    .boxed()
}

fn version_text() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        4 => version_text_str(),
        1 => (any::<u32>(), any::<u32>(), prop::sample::select(vec!["/", " / ", "-"]))
            .prop_map(|(k, n, sep)| format!("{}{sep}{}", k % 70, n % 70)),
        1 => (any::<u64>(), prop::sample::select(vec!["ms", "s", "m", "h", ""]), prop::sample::select(vec!["", ".5", "e300", "e-3"]))
            .prop_map(|(n, u, f)| format!("{n}{f}{u}")),
        1 => ("[a-z]{0,6}::", version_text_str()).prop_map(|(a, b)| format!("{a}{b}")),
    ]
    .prop_map(String::into_bytes)
    .boxed()
}

fn version_seeds() -> Vec<Vec<u8>> {
    let mut seeds = library_pieces(r#"[<>=!^~]*\d+\.\d+[0-9a-z.*]*"#);
    seeds.extend(
        [
            "1/3",
            "2/2",
            "250ms",
            "1.5s",
            "2m",
            "process::1.4.0rc1",
            ">=1.3.3, <1.4 || >=1.5.1",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec()),
    );
    seeds
}
