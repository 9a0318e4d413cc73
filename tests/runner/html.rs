//! The HTML report in a real browser: Debian's `chromium`, headless, opens
//! the file from disk (no server) and the test reads the DOM its script
//! leaves: the version grid, the interop grid, a failing case open on its
//! diagnostic and source line, a filter from the address taking effect,
//! and no secret anywhere. A screenshot is kept beside the test's other
//! files (`target/tmp/html-report/report.png`). Skips, saying so, where no
//! chromium is installed (`.ci/run` installs it).

use crate::common::*;
use crate::stub::Reply;
use acapy_harness::report::html;
use acapy_harness::run::outcome::{CaseResult, RoleVersion, Status};
use acapy_harness::run::RunOptions;
use acapy_harness::scenario::load::{load_with, Found};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const SECRET: &str = "html-secret-do-not-show-7f3a";

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            let path = std::env::var_os("PATH")?;
            std::env::split_paths(&path)
                .map(|dir| dir.join(name))
                .find(|p| p.is_file())
        })
}

/// What chromium's DOM is once the page's script has run, at `fragment`.
fn dump_dom(browser: &Path, file: &Path, fragment: &str) -> String {
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=3000",
            "--dump-dom",
        ])
        .arg(format!("file://{}{fragment}", file.display()))
        .output()
        .expect("chromium runs");
    assert!(out.status.success(), "chromium: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A case of `result`'s, moved to other versions and made an interop case.
fn interop(result: &CaseResult, issuer: &str, holder: &str, status: Status) -> CaseResult {
    let mut case = result.clone();
    case.target = format!("process::issuer={issuer},holder={holder}");
    case.name = format!("interop/seed::{}", case.target);
    case.scenario_id = "interop/seed".into();
    case.provider = "process".into();
    case.roles = vec![
        RoleVersion {
            role: "issuer".into(),
            requested: Some(issuer.into()),
            reported: Some(issuer.into()),
        },
        RoleVersion {
            role: "holder".into(),
            requested: Some(holder.into()),
            reported: Some(holder.into()),
        },
    ];
    case.status = status;
    case
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_html_report_shows_grids_failures_and_filters_in_a_browser() {
    let Some(browser) = chromium() else {
        println!("skipped: no chromium on PATH (Debian: apt-get install chromium)");
        return;
    };
    let agent = stub().await;
    agent.route(
        "POST",
        "/wallet/did/create",
        vec![Reply::ok(
            json!({ "result": { "did": "did:key:z6Mk", "seed": SECRET } }),
        )],
    );
    agent.route(
        "GET",
        "/connections",
        vec![Reply::ok(json!({ "state": "abandoned", "echo": SECRET }))],
    );
    let yaml = scenario(
        r#"
        name: Fails with a secret in view
        tags: [seed]
        agents: { a: {} }
        steps:
          - name: make a DID
            agent: a
            post: /wallet/did/create
            body: { method: key }
            capture: { seed: $.result.seed }
          - name: the connection is done
            agent: a
            get: /connections
            expect: { $.state: done }
        "#,
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("failing.yaml");
    std::fs::write(&file, &yaml).unwrap();
    let scenario = load_with(
        &Found {
            root: dir.path().to_path_buf(),
            file,
        },
        &Default::default(),
    )
    .unwrap();
    let failed = run_loaded(scenario, &[("a", &agent)], &RunOptions::default()).await;
    assert_eq!(failed.status, Status::Failed);
    let passed = run(
        &scenario_text_passing(),
        &[("a", &{
            let s = stub().await;
            s.route("GET", "/status/config", vec![Reply::ok(json!({}))]);
            s
        })],
    )
    .await;
    let results = vec![
        passed.clone(),
        failed.clone(),
        interop(&passed, "1.3.6", "1.3.6", Status::Passed),
        interop(&passed, "1.3.6", "1.7.0", Status::Passed),
        interop(&failed, "1.7.0", "1.3.6", Status::Failed),
        interop(&passed, "1.7.0", "1.7.0", Status::Passed),
    ];
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("html-report");
    std::fs::create_dir_all(&out).unwrap();
    let report = out.join("report.html");
    html::write(&results, &[], Duration::from_millis(1234), None, &report).unwrap();
    let page = std::fs::read_to_string(&report).unwrap();
    assert!(
        !page.contains("http://") || !page.contains("<script src"),
        "nothing fetched"
    );
    assert!(!page.contains("<link"), "no stylesheet fetched");

    let dom = dump_dom(&browser, &report, "");
    assert!(!dom.contains(SECRET), "the secret is in the page");
    // The version grid: the scenario, its target, its cell linking to the case.
    let grid = dom
        .split("id=\"version-grid\"")
        .nth(1)
        .expect("a version grid");
    let grid = grid.split("</table>").next().unwrap();
    assert!(
        grid.contains(">failing<") && grid.contains(">case<"),
        "{grid}"
    );
    assert!(grid.contains("<th>external</th>"), "{grid}");
    assert!(grid.contains("href=\"#case-failing--external\""), "{grid}");
    assert!(grid.contains("class=\"s-fail\""), "{grid}");
    // The interop grid: issuer down, holder across, four cells, one failing.
    let interop = dom.split("interop-grid").nth(1).expect("an interop grid");
    let interop = interop.split("</table>").next().unwrap();
    assert_eq!(interop.matches("class=\"cell\"").count(), 4, "{interop}");
    assert_eq!(interop.matches("class=\"s-fail\"").count(), 1, "{interop}");
    assert!(dom.contains("issuer down, holder across"));
    // The failing case is open on its diagnostic: message, where, source line.
    let case = dom
        .split("id=\"case-failing--external\"")
        .nth(1)
        .expect("the failing case");
    let case = case.split("</details>\n<details").next().unwrap_or(case);
    assert!(
        case.starts_with(" data-status=\"fail\""),
        "{}",
        &case[..200.min(case.len())]
    );
    assert!(case.contains(" open=\"\""), "a failing case opens");
    assert!(case.contains("failure: expectation failed"), "{case}");
    assert!(case.contains("failing.yaml:"), "{case}");
    assert!(
        case.contains("expect: { $.state: done }"),
        "the source line: {case}"
    );
    assert!(case.contains("class=\"bar\""), "timing bars");
    assert!(case.contains("GET http://127.0.0.1:"), "the request");
    assert!(case.contains("&quot;abandoned&quot;") || case.contains("\"abandoned\""));

    // A filter from the address: only failing cases stay.
    let filtered = dump_dom(&browser, &report, "#?q=s%3Afail");
    let hidden = filtered.matches("class=\"case\"").count();
    assert_eq!(hidden, results.len(), "every case is in the page");
    let shown: Vec<&str> = filtered
        .split("<details class=\"case\"")
        .skip(1)
        .filter(|c| !c.split('>').next().unwrap().contains("hidden"))
        .collect();
    assert_eq!(shown.len(), 2, "the two failing cases");
    assert!(shown.iter().all(|c| c.contains("data-status=\"fail\"")));
    assert!(filtered.contains("2 of 6 case(s)"), "the count says so");
    // A tag and text narrow it further.
    let tagged = dump_dom(&browser, &report, "#?q=s%3Afail%20%40seed%20interop");
    assert!(tagged.contains("1 of 6 case(s)"));

    let screenshot = out.join("report.png");
    let shot = Command::new(&browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--window-size=1280,1400",
        ])
        .arg(format!("--screenshot={}", screenshot.display()))
        .arg(format!("file://{}", report.display()))
        .output()
        .unwrap();
    assert!(shot.status.success(), "{shot:?}");
    assert!(std::fs::metadata(&screenshot).unwrap().len() > 10_000);
}

fn scenario_text_passing() -> String {
    scenario(
        r#"
        name: Passes
        tags: [config]
        agents: { a: {} }
        steps:
          - name: read the config
            agent: a
            get: /status/config
        "#,
    )
}
