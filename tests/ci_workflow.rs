//! The GitHub Actions workflow of docs/ci.md: valid YAML, the same on the page
//! and in docs/github-actions.yml, and doing what the page says.

use serde_json::Value;
use std::path::PathBuf;

fn docs() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs")
}

fn workflow_text() -> String {
    std::fs::read_to_string(docs().join("github-actions.yml")).unwrap()
}

fn workflow() -> Value {
    serde_saphyr::from_str(&workflow_text()).expect("the workflow is valid YAML")
}

#[test]
fn the_page_shows_the_workflow_file_as_it_is() {
    let page = std::fs::read_to_string(docs().join("ci.md")).unwrap();
    let block = page
        .split("```yaml\n")
        .nth(1)
        .and_then(|rest| rest.split("```\n").next())
        .expect("a yaml block in docs/ci.md");
    assert_eq!(block, workflow_text());
}

/// The `run` commands of a job, joined.
fn runs(job: &Value) -> String {
    job["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

fn uses<'a>(job: &'a Value, action: &str) -> Vec<&'a Value> {
    job["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["uses"].as_str().is_some_and(|u| u.starts_with(action)))
        .collect()
}

#[test]
fn jobs_run_versions_times_partitions_and_a_final_job_merges() {
    let wf = workflow();
    assert!(wf["on"].is_object(), "`on` is a key, not YAML 1.1's true");
    let parts: u64 = wf["env"]["PARTS"].as_u64().unwrap();

    let conformance = &wf["jobs"]["conformance"];
    let matrix = &conformance["strategy"]["matrix"];
    assert!(matrix["acapy"].as_array().unwrap().len() >= 2);
    let part: Vec<u64> = matrix["part"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_u64().unwrap())
        .collect();
    assert_eq!(part, (1..=parts).collect::<Vec<_>>());
    assert_eq!(conformance["strategy"]["fail-fast"], false);
    let run = runs(conformance);
    for flag in [
        "--partition ${{ matrix.part }}/${{ env.PARTS }}",
        "--acapy ${{ matrix.acapy }}",
        "--junit reports/junit.xml",
        "--report-json reports/report.json",
        "--report-md reports/matrix.md",
    ] {
        assert!(run.contains(flag), "no `{flag}` in {run}");
    }
    let uploads = uses(conformance, "actions/upload-artifact");
    assert_eq!(uploads.len(), 1);
    assert_eq!(uploads[0]["if"], "always()");
    assert_eq!(uploads[0]["with"]["path"], "reports/");
    let name = uploads[0]["with"]["name"].as_str().unwrap();
    assert!(name.starts_with("conformance-") && name.contains("${{ matrix.part }}"));

    let merge = &wf["jobs"]["matrix"];
    assert_eq!(merge["if"], "always()");
    assert!(merge["needs"]
        .as_array()
        .unwrap()
        .contains(&Value::from("conformance")));
    let downloads = uses(merge, "actions/download-artifact");
    assert!(downloads
        .iter()
        .any(|d| d["with"]["pattern"] == "conformance-*"));
    let run = runs(merge);
    assert!(
        run.contains("report merge matrix.md jobs/*/report.json"),
        "{run}"
    );
    assert!(run.contains("$GITHUB_STEP_SUMMARY"));
}
