//! The engine against documents and exchanges recorded from real agents
//! (`tests/contract/`, see its README), and against small made-up ones.

use super::*;
use serde_json::{json, Value};
use std::sync::OnceLock;

fn data(path: &str) -> Vec<u8> {
    let full = format!("{}/tests/contract/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// Each recorded document, read once for every test.
fn real(name: &str) -> &'static ApiDocument {
    static DOCS: OnceLock<Vec<(&'static str, ApiDocument)>> = OnceLock::new();
    let docs = DOCS.get_or_init(|| {
        [
            "0.12.8-askar",
            "1.3.6-askar",
            "1.3.6-askar-anoncreds",
            "1.7.0-askar",
        ]
        .into_iter()
        .map(|n| {
            let raw = data(&format!("swagger/{n}.json"));
            (n, ApiDocument::from_slice(&raw).unwrap())
        })
        .collect()
    });
    &docs.iter().find(|(n, _)| *n == name).unwrap().1
}

/// The recorded exchanges of one agent pair.
fn exchanges(name: &str) -> Vec<Value> {
    let recorded: Value = serde_json::from_slice(&data(&format!("exchanges/{name}.json"))).unwrap();
    recorded["exchanges"].as_array().unwrap().clone()
}

fn check(doc: &ApiDocument, exchange: &Value) -> Vec<Finding> {
    let request = Some(&exchange["request"]).filter(|r| !r.is_null());
    doc.check_exchange(
        exchange["method"].as_str().unwrap(),
        exchange["path"].as_str().unwrap(),
        request,
        exchange["status"].as_u64().unwrap() as u16,
        &exchange["response"],
    )
    .unwrap()
}

fn violations(findings: Vec<Finding>) -> Vec<Violation> {
    findings
        .into_iter()
        .filter_map(|f| match f {
            Finding::Violation(v) => Some(v),
            _ => None,
        })
        .collect()
}

/// A made-up document: one closed object, a nullable reference, an inline
/// array answer and a body.
fn made_up() -> ApiDocument {
    ApiDocument::from_value(&json!({
        "swagger": "2.0",
        "info": {"version": "v9.9.9", "title": "t"},
        "paths": {
            "/things/{id}": {"get": {"responses": {"200": {"schema": {"$ref": "#/definitions/Thing"}}}}},
            "/things/special": {"get": {"responses": {"200": {"schema": {"type": "object"}}}}},
            "/things": {
                "get": {"responses": {"200": {"schema": {
                    "type": "array", "items": {"$ref": "#/definitions/Thing"}}}}},
                "post": {
                    "parameters": [{"in": "body", "name": "body", "required": true,
                                    "schema": {"$ref": "#/definitions/NewThing"}}],
                    "responses": {"200": {"schema": {"$ref": "#/definitions/Thing"}}}
                }
            },
            "/{kind}/special": {"get": {"responses": {"200": {}}}}
        },
        "definitions": {
            "Thing": {
                "type": "object",
                "required": ["id", "state"],
                "additionalProperties": false,
                "properties": {
                    "id": {"type": "string"},
                    "state": {"type": "string", "enum": ["new", "done"]},
                    "parent": {"$ref": "#/definitions/Thing", "x-nullable": true},
                    "note": {"type": "string", "x-nullable": true},
                    "size": {"type": "integer", "minimum": 0}
                }
            },
            "NewThing": {
                "type": "object",
                "required": ["label"],
                "properties": {"label": {"type": "string"}, "count": {"type": "integer"}}
            }
        }
    }))
    .unwrap()
}

#[test]
fn literal_segments_win_over_templated_ones() {
    let doc = made_up();
    assert_eq!(
        doc.find("GET", "/things/special").unwrap().id.path,
        "/things/special"
    );
    assert_eq!(
        doc.find("get", "/things/42?x=1").unwrap().id.path,
        "/things/{id}"
    );
    // The leftmost literal decides: `/things/{id}` beats `/{kind}/special`.
    assert_eq!(
        doc.find("GET", "/things/special/").unwrap().id.path,
        "/things/special"
    );
    assert_eq!(
        doc.find("GET", "/other/special").unwrap().id.path,
        "/{kind}/special"
    );
    // A whole URL, as an exchange keeps it.
    let url = "http://127.0.0.1:8021/things/7?verbose=true";
    assert_eq!(doc.find("GET", url).unwrap().id.path, "/things/{id}");
    let nothing = doc
        .find("GET", "http://127.0.0.1:8021/nothing")
        .unwrap_err();
    assert_eq!(nothing.path, "/nothing");

    let doc = real("0.12.8-askar");
    assert_eq!(
        doc.find("GET", "/schemas/created").unwrap().id.path,
        "/schemas/created"
    );
    let schema = "/schemas/WgWxqztrNooG92RXvxSTWv:2:degree:1.0";
    assert_eq!(
        doc.find("GET", schema).unwrap().id.path,
        "/schemas/{schema_id}"
    );
    let connection = "/connections/3fa85f64-5717-4562-b3fc-2c963f66afa6";
    assert_eq!(
        doc.find("DELETE", connection).unwrap().id.to_string(),
        "DELETE /connections/{conn_id}"
    );
}

#[test]
fn an_unknown_request_names_the_version_and_its_closest_operations() {
    let old = real("0.12.8-askar");
    let unknown = old.find("POST", "/anoncreds/wallet/upgrade").unwrap_err();
    assert_eq!(
        unknown.to_string(),
        "POST /anoncreds/wallet/upgrade is not in ACA-Py 0.12.8's admin API"
    );
    assert!(real("1.3.6-askar")
        .find("POST", "/anoncreds/wallet/upgrade")
        .is_ok());

    // A route that moved: an askar-anoncreds wallet serves /anoncreds/schemas.
    let anoncreds = real("1.3.6-askar-anoncreds");
    let unknown = anoncreds.find("GET", "/schemas/created").unwrap_err();
    let closest: Vec<String> = unknown.closest.iter().map(ToString::to_string).collect();
    assert_eq!(
        closest,
        [
            "GET /anoncreds/schema/{schema_id}",
            "GET /anoncreds/schemas",
            "POST /issue-credential-2.0/create"
        ]
    );
    // A typo.
    let typo = old.find("GET", "/conections/abc/endpoints").unwrap_err();
    assert_eq!(
        typo.closest[0].to_string(),
        "GET /connections/{conn_id}/endpoints"
    );
    // Nothing alike: no neighbours rather than unrelated ones.
    assert!(old.find("GET", "/features").unwrap_err().closest.is_empty());
    // The path exists, under other methods.
    let method = old.find("PUT", "/connections/abc").unwrap_err();
    assert_eq!(method.methods_on_path, ["DELETE", "GET"]);
    assert_eq!(
        method.help().unwrap(),
        "/connections/abc answers DELETE, GET only"
    );
}

#[test]
fn x_nullable_admits_null_and_errors_inside_a_nullable_ref_keep_their_place() {
    let doc = made_up();
    let get = doc.operation("GET", "/things/{id}").unwrap();
    let fine = json!({"id": "a", "state": "new", "parent": null, "note": null});
    assert!(doc.check_response(get, 200, &fine).unwrap().is_empty());

    let wrong = json!({"id": "a", "state": "new", "parent": {"id": 3, "state": "new"}, "note": 5});
    let found = violations(doc.check_response(get, 200, &wrong).unwrap());
    let places: Vec<(&str, &str, &str)> = found
        .iter()
        .map(|v| {
            (
                v.pointer.as_str(),
                v.keyword.as_str(),
                v.schema_path.as_str(),
            )
        })
        .collect();
    assert_eq!(
        places,
        [
            ("/note", "type", "#/definitions/Thing/properties/note/type"),
            // Inside the nullable reference: the definition's own rule, not the
            // `anyOf` the conversion wrapped it in.
            (
                "/parent/id",
                "type",
                "#/definitions/Thing/properties/id/type"
            ),
        ]
    );
    assert_eq!(found[0].expected, "string or null");
    assert_eq!(found[0].actual, "5");
}

#[test]
fn refs_resolve_into_definitions_and_inline_schemas_point_into_paths() {
    let doc = made_up();
    let list = doc.operation("GET", "/things").unwrap();
    let body = json!([{"id": "a", "state": "gone", "extra": true}, {"id": "b"}]);
    let found = violations(doc.check_response(list, 200, &body).unwrap());
    let lines: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "response /0/extra: additionalProperties: expected no other properties, got true (#/definitions/Thing/additionalProperties)",
            "response /0/state: enum: expected one of \"new\", \"done\", got \"gone\" (#/definitions/Thing/properties/state/enum)",
            "response /1/state: required: expected present, got (missing) (#/definitions/Thing/required)",
        ]
    );
    let not_a_list = violations(doc.check_response(list, 200, &json!({})).unwrap());
    assert_eq!(
        not_a_list[0].schema_path,
        "#/paths/~1things/get/responses/200/schema/type"
    );
}

#[test]
fn request_bodies_are_checked_and_marked_as_the_request_side() {
    let doc = made_up();
    let post = doc.operation("POST", "/things").unwrap();
    let found = doc
        .check_request(post, Some(&json!({"count": "two"})))
        .unwrap();
    let lines: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "request /count: type: expected integer, got \"two\" (#/definitions/NewThing/properties/count/type)",
            "request /label: required: expected present, got (missing) (#/definitions/NewThing/required)",
        ]
    );
    assert!(found
        .iter()
        .all(|v| v.side == Side::Request && v.status.is_none()));
    let missing = doc.check_request(post, None).unwrap();
    assert_eq!(missing[0].schema_path, "#/paths/~1things/post/parameters/0");

    // A real body a real agent rejects: 1.3.6's invitation request.
    let doc = real("1.3.6-askar");
    let create = doc.find("POST", "/out-of-band/create-invitation").unwrap();
    let body = json!({"handshake_protocols": "https://didcomm.org/didexchange/1.0", "use_public_did": "no"});
    let found = doc.check_request(create, Some(&body)).unwrap();
    let places: Vec<(&str, &str)> = found
        .iter()
        .map(|v| (v.pointer.as_str(), v.schema_path.as_str()))
        .collect();
    assert_eq!(
        places,
        [
            (
                "/handshake_protocols",
                "#/definitions/InvitationCreateRequest/properties/handshake_protocols/type"
            ),
            (
                "/use_public_did",
                "#/definitions/InvitationCreateRequest/properties/use_public_did/type"
            ),
        ]
    );
}

#[test]
fn an_undocumented_status_is_its_own_finding() {
    let doc = real("1.3.6-askar");
    let config = doc.find("GET", "/ledger/config").unwrap();
    assert!(config.is_documented_status(200));
    assert!(!config.is_documented_status(403));
    let findings = doc
        .check_response(config, 403, &json!("Forbidden"))
        .unwrap();
    assert!(matches!(
        &findings[..],
        [Finding::UndocumentedStatus { status: 403, documented, .. }] if documented == &["200"]
    ));
    // A download has no JSON to check.
    let tails = doc
        .find("GET", "/revocation/registry/r1/tails-file")
        .unwrap();
    assert!(doc
        .check_response(tails, 200, &json!("binary"))
        .unwrap()
        .is_empty());
}

/// What real agents answered that their own documents reject: every
/// violation of the recorded exchanges, counted once per rule.
#[test]
fn real_agents_answers_break_their_own_documents_in_known_places() {
    let mut per_version = Vec::new();
    for name in [
        "0.12.8-askar",
        "1.3.6-askar",
        "1.3.6-askar-anoncreds",
        "1.7.0-askar",
    ] {
        let doc = real(name);
        let mut keys: Vec<String> = exchanges(name)
            .iter()
            .flat_map(|e| violations(check(doc, e)))
            .map(|v| {
                let key = v.dedup_key(&doc.version);
                format!(
                    "{} {} {} {}",
                    key.operation, v.keyword, key.schema_path, key.property
                )
            })
            .collect();
        keys.sort();
        keys.dedup();
        per_version.push((name, keys));
    }
    let (_, old) = &per_version[0];
    assert_eq!(
        old,
        &[
            "GET /issue-credential-2.0/records type #/definitions/V20CredExRecordIndy/type ",
            "GET /issue-credential-2.0/records type #/definitions/V20CredExRecordLDProof/type ",
            "GET /issue-credential-2.0/records/{cred_ex_id} type #/definitions/V20CredExRecordIndy/type ",
            "GET /issue-credential-2.0/records/{cred_ex_id} type #/definitions/V20CredExRecordLDProof/type ",
            "GET /mediation/default-mediator required #/definitions/MediationRecord/required connection_id",
            "GET /mediation/default-mediator required #/definitions/MediationRecord/required role",
            "GET /wallet/did/public type #/definitions/DID/type ",
            "POST /present-proof-2.0/send-request type #/definitions/SchemasInputDescriptorFilter/type ",
        ]
    );
    // 1.x adds the `anoncreds` and `vc_di` details, null as well; `vc_di`
    // is documented as a whole V20CredExRecord. The wallet type changes
    // none of it.
    assert_eq!(per_version[1].1, per_version[2].1);
    for (_, keys) in &per_version[1..] {
        assert_eq!(keys.len(), 12, "{keys:#?}");
        assert!(keys.contains(
            &"GET /issue-credential-2.0/records type #/definitions/V20CredExRecord/type "
                .to_owned()
        ));
        assert!(keys.contains(
            &"GET /issue-credential-2.0/records type #/definitions/V20CredExRecordAnonCreds/type "
                .to_owned()
        ));
    }
    // One of them in full, as the runner gets it.
    let doc = real("1.7.0-askar");
    let records = exchanges("1.7.0-askar")
        .into_iter()
        .rfind(|e| e["agent"] == "issuer" && e["path"] == "/issue-credential-2.0/records")
        .unwrap();
    let found = violations(check(doc, &records));
    let indy = found
        .iter()
        .find(|v| v.pointer == "/results/0/indy")
        .unwrap();
    assert_eq!(
        (
            indy.keyword.as_str(),
            indy.schema_path.as_str(),
            indy.expected.as_str(),
            indy.actual.as_str()
        ),
        (
            "type",
            "#/definitions/V20CredExRecordIndy/type",
            "object",
            "null"
        )
    );
    assert_eq!(
        indy.operation.to_string(),
        "GET /issue-credential-2.0/records"
    );
    assert_eq!(indy.status, Some(200));

    // A request the agent accepted (DIF presentation exchange v1 writes an
    // input descriptor's `schema` as a list) that its document rejects.
    let send = exchanges("1.7.0-askar")
        .into_iter()
        .find(|e| e["path"] == "/present-proof-2.0/send-request")
        .unwrap();
    assert_eq!(send["status"], 200);
    let found = violations(check(doc, &send));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].side, Side::Request);
    assert_eq!(
        found[0].pointer,
        "/presentation_request/dif/presentation_definition/input_descriptors/0/schema"
    );
}

#[test]
fn sub_wallets_answers_fit_their_base_agents_document() {
    let raw = data("swagger/1.3.6-multitenant.json");
    let doc = ApiDocument::from_slice(&raw).unwrap();
    // A base agent serves both wallet types' routes, and its own.
    assert_eq!(doc.operations().len(), 216);
    for path in [
        "/schemas/created",
        "/anoncreds/schemas",
        "/multitenancy/wallets",
    ] {
        assert!(doc.find("GET", path).is_ok(), "{path}");
    }
    let recorded = exchanges("1.3.6-multitenant");
    let agents: std::collections::BTreeSet<&str> = recorded
        .iter()
        .map(|e| e["agent"].as_str().unwrap())
        .collect();
    assert_eq!(
        agents.into_iter().collect::<Vec<_>>(),
        ["base", "tenant-a", "tenant-b"]
    );
    let findings: Vec<Finding> = recorded.iter().flat_map(|e| check(&doc, e)).collect();
    assert!(findings.is_empty(), "{findings:#?}");
    assert!(recorded.iter().all(|e| e["status"] == 200));
}

#[test]
fn violations_at_different_indices_share_a_dedup_key() {
    let doc = made_up();
    let list = doc.operation("GET", "/things").unwrap();
    let body = json!([{"id": "a", "state": "x"}, {"id": "b", "state": "y"}, {"id": "c"}]);
    let found = violations(doc.check_response(list, 200, &body).unwrap());
    let keys: Vec<DedupKey> = found.iter().map(|v| v.dedup_key("v9.9.9")).collect();
    assert_eq!(keys[0], keys[1]);
    assert_ne!(keys[0], keys[2]);
    assert_eq!(keys[2].property, "state");
    assert_eq!(keys[0].version, "9.9.9");
}

#[test]
fn known_drift_from_yaml_matches_by_operation_pointer_schema_path_and_version() {
    let known: Vec<KnownDrift> = serde_saphyr::from_str(
        r##"
- operation: GET /issue-credential-2.0/records*
  pointer: "**/indy"
  reason: detail records are null when the format was not used
  link: https://example.org/issue/1
- operation: /mediation/*
  schema_path: "#/definitions/MediationRecord/required"
  versions: ">=1.0"
  reason: no default mediator answers {}
"##,
    )
    .unwrap();
    let doc = real("1.7.0-askar");
    let all: Vec<Violation> = exchanges("1.7.0-askar")
        .iter()
        .flat_map(|e| violations(check(doc, e)))
        .collect();
    let is_known = |version: &str, v: &Violation| KnownDrift::find(&known, version, v);
    let indy = all.iter().find(|v| v.pointer.ends_with("/indy")).unwrap();
    assert_eq!(
        is_known("1.7.0", indy).unwrap().link.as_deref(),
        Some("https://example.org/issue/1")
    );
    let mediator = all
        .iter()
        .find(|v| v.operation.path == "/mediation/default-mediator")
        .unwrap();
    assert!(is_known("1.7.0", mediator).is_some());
    // Outside its versions, it is news again.
    assert!(is_known("0.12.8", mediator).is_none());
    let ld_proof = all
        .iter()
        .find(|v| v.pointer.ends_with("/ld_proof"))
        .unwrap();
    assert!(is_known("1.7.0", ld_proof).is_none());

    let unknown_field = serde_saphyr::from_str::<Vec<KnownDrift>>("- reason: x\n  path: /a\n");
    assert!(unknown_field.is_err());
}

#[test]
fn the_v1_protocols_are_removed_between_0_12_8_and_1_7_0() {
    let changes = diff(real("0.12.8-askar"), real("1.7.0-askar"));
    assert_eq!(
        (changes.from.as_str(), changes.to.as_str()),
        ("0.12.8", "1.7.0")
    );
    assert_eq!((changes.added.len(), changes.removed.len()), (9, 28));
    let v1 = |prefix: &str| {
        real("0.12.8-askar")
            .operations()
            .iter()
            .filter(|o| o.id.path.starts_with(prefix))
            .map(|o| o.id.clone())
            .collect::<Vec<_>>()
    };
    let (issue, present) = (v1("/issue-credential/"), v1("/present-proof/"));
    assert_eq!((issue.len(), present.len()), (13, 11));
    assert!(issue
        .iter()
        .chain(&present)
        .all(|id| changes.removed.contains(id)));
    assert!(changes
        .added
        .contains(&OperationId::new("POST", "/anoncreds/wallet/upgrade")));
    let text = changes.render();
    assert!(
        text.starts_with("ACA-Py 0.12.8 → 1.7.0: 9 operations added, 28 removed, "),
        "{text}"
    );
    assert!(text.contains("  - POST /issue-credential/send-offer\n"));
    // A field 1.x added to every credential exchange detail.
    let records = changes
        .changed
        .iter()
        .find(|c| c.operation.to_string() == "GET /issue-credential-2.0/records")
        .unwrap();
    assert!(records.changes.iter().any(|c| c.field == "/results/*/anoncreds"
        && matches!(&c.change, diff::Change::Added { ty, .. } if ty == "V20CredExRecordAnonCreds")));
    assert!(
        serde_json::to_value(&changes).unwrap()["removed"]
            .as_array()
            .unwrap()
            .len()
            == 28
    );
}

#[test]
fn the_diff_follows_recursive_definitions_and_ends() {
    let version = |extra: Value| {
        ApiDocument::from_value(&json!({
            "swagger": "2.0",
            "info": {"version": "1"},
            "paths": {"/tree": {"get": {"responses": {"200": {"schema": {"$ref": "#/definitions/Node"}}}}}},
            "definitions": {"Node": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string"},
                    "children": {"type": "array", "items": {"$ref": "#/definitions/Node"}},
                    "extra": extra
                }
            }}
        }))
        .unwrap()
    };
    let before = version(json!({"type": "string"}));
    let after = version(json!({"type": "integer", "x-nullable": true}));
    let changes = diff(&before, &after);
    let lines: Vec<String> = changes.changed[0]
        .changes
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        lines,
        [
            "response 200 /extra: nullable no → yes",
            "response 200 /extra: type string → integer"
        ]
    );
    assert_eq!(changes.unchanged, 0);
}

#[test]
fn coverage_counts_hits_and_sets_ledger_operations_apart() {
    let doc = real("1.3.6-askar");
    let recorded = exchanges("1.3.6-askar");
    let requests: Vec<(&str, &str)> = recorded
        .iter()
        .map(|e| (e["method"].as_str().unwrap(), e["path"].as_str().unwrap()))
        .collect();
    let coverage = Coverage::of(doc, requests.iter().copied());
    let connections = coverage
        .operations
        .iter()
        .find(|o| o.operation.to_string() == "GET /connections")
        .unwrap();
    // Each agent's list, before and after the connection.
    assert_eq!(connections.hits, 4);
    assert_eq!(coverage.hit().count(), 37);
    let unknown: Vec<String> = coverage
        .unknown
        .iter()
        .map(|(method, path)| format!("{method} {}", path.split('/').nth(1).unwrap()))
        .collect();
    assert_eq!(
        unknown,
        [
            "GET features",
            "GET features",
            "GET action-menu",
            "GET action-menu"
        ]
    );
    assert!(coverage
        .render()
        .starts_with("1.3.6: 37 of 187 operations hit (19 %)"));
}

#[test]
fn ledger_needs_per_version() {
    let count = |name: &str| {
        let doc = real(name);
        let needing = doc
            .operations()
            .iter()
            .filter(|o| ledger_need(o).is_some())
            .count();
        (doc.operations().len(), needing)
    };
    // (operations, needing a ledger): the v1.0 protocols (24) are gone in
    // 1.7; an askar-anoncreds wallet has 23 /anoncreds/* in place of 28.
    assert_eq!(count("0.12.8-askar"), (182, 75));
    assert_eq!(count("1.3.6-askar"), (187, 75));
    assert_eq!(count("1.3.6-askar-anoncreds"), (182, 70));
    assert_eq!(count("1.7.0-askar"), (163, 51));
    let base = ApiDocument::from_slice(&data("swagger/1.3.6-multitenant.json")).unwrap();
    let needing = base
        .operations()
        .iter()
        .filter(|o| ledger_need(o).is_some())
        .count();
    assert_eq!((base.operations().len(), needing), (216, 98));
    let doc = real("1.3.6-askar-anoncreds");
    let need = |method, path| ledger_need(doc.operation(method, path).unwrap()).map(|n| n.reason);
    assert!(need("POST", "/anoncreds/schema").is_some());
    assert_eq!(need("POST", "/anoncreds/wallet/upgrade"), None);
    assert_eq!(need("POST", "/issue-credential-2.0/send-offer"), None);
    assert!(need("POST", "/issue-credential/send-offer")
        .unwrap()
        .contains("v1.0"));
    assert!(need("POST", "/wallet/did/public").is_some());
    assert_eq!(need("GET", "/wallet/did/public"), None);
}

#[test]
fn every_schema_of_every_recorded_document_compiles() {
    for name in [
        "0.12.8-askar",
        "1.3.6-askar",
        "1.3.6-askar-anoncreds",
        "1.7.0-askar",
    ] {
        let compiled = real(name).compile_all().unwrap();
        assert!(compiled > 200, "{name}: {compiled}");
    }
}

/// Checking must cost little next to the request itself (milliseconds):
/// the schema compiled once, each answer validated in microseconds.
#[test]
fn validating_a_typical_answer_takes_microseconds_once_compiled() {
    let doc = real("1.3.6-askar");
    let records = exchanges("1.3.6-askar")
        .into_iter()
        .rfind(|e| e["agent"] == "issuer" && e["path"] == "/issue-credential-2.0/records")
        .unwrap();
    let first = std::time::Instant::now();
    let expected = check(doc, &records).len();
    let compile_and_check = first.elapsed();
    let rounds = 200;
    let started = std::time::Instant::now();
    for _ in 0..rounds {
        assert_eq!(check(doc, &records).len(), expected);
    }
    let each = started.elapsed() / rounds;
    eprintln!("first check (compiles): {compile_and_check:?}; each later one: {each:?}");
    // Generous for an unoptimised build on a shared machine; the optimised
    // figure is two orders of magnitude lower.
    assert!(each < std::time::Duration::from_millis(5), "{each:?}");
    assert_eq!(expected, 4);
}

#[test]
fn cached_documents_round_trip_and_are_listed_per_version() {
    let dir = tempfile::tempdir().unwrap();
    let cache = DocumentCache::new(dir.path());
    let plugins = [
        "b.plugin".to_owned(),
        "a.plugin".to_owned(),
        "a.plugin".to_owned(),
    ];
    let key = DocumentKey::new(
        SourceKind::Docker,
        "v1.3.6",
        "askar-anoncreds",
        true,
        &plugins,
    );
    assert_eq!(key.plugins, ["a.plugin", "b.plugin"]);
    assert!(key
        .file_name()
        .starts_with("docker-askar-anoncreds-multitenant-plugins-"));
    let rebuilt = key.clone().with_image("sha256:0b1c");
    assert_ne!(rebuilt.file_name(), key.file_name());
    assert!(rebuilt.file_name().contains("-image-"));
    let plain = DocumentKey::new(SourceKind::Process, "1.3.6", "askar", false, &[]);
    assert_eq!(plain.file_name(), "process-askar.json");
    assert_eq!(plain.to_string(), "1.3.6 (process, askar)");

    assert!(cache.load(&plain).unwrap().is_none());
    let raw: Value = serde_json::from_slice(&data("swagger/1.3.6-askar.json")).unwrap();
    let path = cache.store(&plain, &raw).unwrap();
    assert!(path.ends_with("1.3.6/process-askar.json"));
    cache.store(&key, &raw).unwrap();
    let listed = cache.list("1.3.6").unwrap();
    let keys: Vec<&DocumentKey> = listed.iter().map(|c| &c.key).collect();
    assert_eq!(keys, [&plain, &key]);
    assert_eq!(cache.versions().unwrap(), ["1.3.6"]);
    assert!(cache.list("0.12.8").unwrap().is_empty());
    let loaded = cache.load(&plain).unwrap().unwrap();
    assert_eq!(loaded.operations().len(), 187);
    let (chosen, _) = cache.load_version("1.3.6", None).unwrap().unwrap();
    assert_eq!(chosen, plain);
}

#[test]
fn a_key_is_read_from_the_agents_status_config() {
    let config = json!({"config": {
        "wallet.type": "askar-anoncreds",
        "multitenant.enabled": true,
        "external_plugins": ["my.plugin"]
    }});
    let key = DocumentKey::from_status_config(SourceKind::External, "v1.3.6", &config);
    assert_eq!(
        key,
        DocumentKey::new(
            SourceKind::External,
            "1.3.6",
            "askar-anoncreds",
            true,
            &["my.plugin".into()]
        )
    );
    assert!(!key.reusable());
    let bare =
        DocumentKey::from_status_config(SourceKind::Process, "1.7.0", &json!({"config": {}}));
    assert_eq!(
        (bare.wallet_type.as_str(), bare.multitenant),
        ("askar", false)
    );
}

/// Serves `body` to requests that carry `X-API-Key: k1`, 401 to others;
/// counts the requests.
async fn serve(body: Vec<u8>) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let served = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = served.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut head = vec![0u8; 4096];
            let n = socket.read(&mut head).await.unwrap_or(0);
            let head = String::from_utf8_lossy(&head[..n]).to_ascii_lowercase();
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let (status, payload) = match head.contains("x-api-key: k1") {
                true => ("200 OK", body.clone()),
                false => ("401 Unauthorized", b"{}".to_vec()),
            };
            let reply = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                payload.len()
            );
            let _ = socket.write_all(reply.as_bytes()).await;
            let _ = socket.write_all(&payload).await;
        }
    });
    (url, served)
}

#[tokio::test]
async fn a_document_is_fetched_with_the_api_key_then_served_from_the_cache() {
    use crate::admin::{AdminAuth, AdminClient, AdminEndpoint};
    use std::sync::atomic::Ordering;
    let (url, served) = serve(data("swagger/1.7.0-askar.json")).await;
    let client = AdminClient::new(&AdminEndpoint::new(&url, AdminAuth::ApiKey("k1".into())));
    let dir = tempfile::tempdir().unwrap();
    let key = DocumentKey::new(SourceKind::Process, "1.7.0", "askar", false, &[]);

    let cache = DocumentCache::new(dir.path());
    let fetched = cache.get_or_fetch(&key, &client).await.unwrap();
    assert_eq!(
        (fetched.version.as_str(), fetched.operations().len()),
        ("1.7.0", 163)
    );
    let again = cache.get_or_fetch(&key, &client).await.unwrap();
    assert!(std::sync::Arc::ptr_eq(&fetched, &again));
    // A later run reads the disk; an external agent is asked again.
    let later = DocumentCache::new(dir.path());
    later.get_or_fetch(&key, &client).await.unwrap();
    assert_eq!(served.load(Ordering::SeqCst), 1);
    let external = DocumentKey {
        source: SourceKind::External,
        ..key.clone()
    };
    later.get_or_fetch(&external, &client).await.unwrap();
    assert_eq!(served.load(Ordering::SeqCst), 2);

    let stranger = AdminClient::new(&AdminEndpoint::new(&url, AdminAuth::None));
    let refused = fetch_document(&stranger).await.unwrap_err();
    assert_eq!(
        refused.to_string(),
        "GET /api/docs/swagger.json answered 401"
    );
}

#[test]
fn openapi_3_is_refused() {
    let error = ApiDocument::from_value(&json!({"openapi": "3.0.0", "paths": {}})).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the API description is not Swagger 2.0 (it says openapi: \"3.0.0\")"
    );
}
