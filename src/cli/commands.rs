//! The smaller commands: `install`, `bench`, `report merge`.

use super::*;

/// `report merge`: exit 0 once everything is written (whatever the cases'
/// verdicts), 2 when an input cannot be read, 1 when an output cannot be written.
pub(super) fn merge_reports(args: &MergeArgs) -> u8 {
    let (results, elapsed) = match report::merge::merge(&args.inputs) {
        Ok(merged) => merged,
        Err(e) => return bad_input(format!("error: {e:#}")),
    };
    let written = (|| -> std::io::Result<()> {
        report::markdown::write(&results, elapsed, &args.out)?;
        if let Some(path) = &args.json {
            report::json::write(&results, elapsed, path)?;
        }
        if let Some(path) = &args.junit {
            report::junit::write(&results, "acapy-harness", path)?;
        }
        Ok(())
    })();
    match written {
        Ok(()) => {
            let tally = Tally::of(&results);
            say!(
                "merged {} case(s) from {} report(s): {}",
                results.len(),
                args.inputs.len(),
                tally.summary()
            );
            0
        }
        Err(e) => {
            eprintln!("error: cannot write the merged reports: {e}");
            EXIT_FAILED
        }
    }
}

pub(super) async fn install(versions: &[String]) -> u8 {
    for v in versions {
        let release = match Release::parse(v) {
            Ok(r) => r,
            Err(e) => return bad_input(format!("error: {e}")),
        };
        let provider = crate::agents::process::ProcessProvider::new(release);
        if let Err(e) = provider.prepare().await {
            eprintln!("error: {e:#}");
            return EXIT_FAILED;
        }
        say!("ACA-Py {v}: {}", provider.venv().path().display());
    }
    0
}

pub(super) async fn bench(args: BenchArgs) -> u8 {
    let scenarios = match suite::load(std::slice::from_ref(&args.scenario)) {
        Ok(s) => s,
        Err(d) => return bad_input(d),
    };
    let external = match select::external(&args.agent_urls, &args.agent_keys) {
        Ok(e) => e,
        Err(e) => return bad_input(e),
    };
    let cases = suite::cases(&scenarios, &[external]);
    let Some(case) = cases.first() else {
        return bad_input("error: no scenario to run");
    };
    let mut times = Vec::new();
    for _ in 0..args.runs.max(1) {
        let started = Instant::now();
        let result = run_case(case, &RunOptions::default()).await;
        let elapsed = started.elapsed().as_secs_f64();
        if result.status != Status::Passed {
            eprintln!(
                "{}",
                paint_headings(&render_failure(&result), colour_stderr())
            );
            return EXIT_FAILED;
        }
        times.push(elapsed);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    say!(
        "runs={} median_s={:.3} min_s={:.3} max_s={:.3}",
        times.len(),
        times[times.len() / 2],
        times[0],
        times[times.len() - 1]
    );
    0
}
