//! Running the planned cases: preparation, the loop with its interrupts,
//! the closing lines, and what outlives the cases.

use super::*;
use crate::agents::Unavailable;
use std::collections::HashMap;

/// Installs (or finds) what every source of the plan needs before the first
/// case, so no case's time includes a pip install or an image pull, and a
/// failed install fails the run once, with pip's (or the engine's) own error.
/// Says on stderr what it does, how far along and how long it took.
///
/// A source that cannot run here for want of something the user provides
/// (an image that is not built and cannot be pulled) is not an error: it
/// is returned, by label, with the reason its cases are skipped.
pub(super) async fn prepare(cases: &[Case]) -> anyhow::Result<HashMap<String, String>> {
    let mut sources: Vec<Arc<dyn Provider>> = Vec::new();
    for source in cases.iter().flat_map(Case::providers) {
        if !sources.iter().any(|s| Arc::ptr_eq(s, &source)) {
            sources.push(source);
        }
    }
    let mut unavailable = HashMap::new();
    let total = sources.len();
    for (n, source) in sources.iter().enumerate() {
        let started = Instant::now();
        match source.prepare().await {
            Ok(()) => {}
            Err(e) if e.is::<Unavailable>() => {
                eprintln!(
                    "acapy-harness: the cases on {} are skipped: {e}",
                    source.label()
                );
                unavailable.insert(source.label(), e.to_string());
                continue;
            }
            Err(e) => anyhow::bail!("cannot prepare {}: {e:#}", source.label()),
        }
        let took = started.elapsed();
        // Quick when all is in place already: only slow steps are worth a line.
        if took > std::time::Duration::from_secs(1) {
            eprintln!(
                "acapy-harness: prepared {} ({}/{total}) in {:.0}s",
                source.label(),
                n + 1,
                took.as_secs_f64()
            );
        }
    }
    Ok(unavailable)
}

/// Stops what outlived the cases (shared base agents).
pub(super) async fn finish(cases: &[Case]) {
    let mut sources: Vec<Arc<dyn Provider>> = Vec::new();
    for source in cases.iter().flat_map(Case::providers) {
        if !sources.iter().any(|s| Arc::ptr_eq(s, &source)) {
            sources.push(source);
        }
    }
    futures_util::future::join_all(sources.iter().map(|s| s.finish())).await;
}

/// Lets each kind of provider of the plan remove what killed runs left;
/// a plan with services sweeps Docker too, whatever runs its agents.
pub(super) async fn sweep_stale(cases: &[Case], options: &RunOptions) {
    let mut swept = Vec::new();
    for provider in cases.iter().flat_map(Case::providers) {
        if !swept.contains(&provider.kind()) {
            swept.push(provider.kind());
            provider.sweep_stale().await;
        }
    }
    let services =
        !options.services.is_empty() || cases.iter().any(|c| !c.scenario.services.is_empty());
    if services && !swept.contains(&"docker") {
        let _ = crate::agents::docker::sweep_stale().await;
    }
}

pub(super) async fn run(plan: Plan) -> (u8, Vec<CaseResult>, std::time::Duration) {
    let Plan {
        cases,
        jobs,
        options,
        retries,
    } = plan;
    let unavailable = match prepare(&cases).await {
        Ok(unavailable) => unavailable,
        Err(e) => {
            eprintln!("error: {e:#}");
            return (EXIT_FAILED, Vec::new(), std::time::Duration::ZERO);
        }
    };
    let started = Instant::now();
    cleanup::defer_interrupts();
    say!("running {} case(s), {jobs} at a time", cases.len());
    let why_not = |case: &Case| {
        case.providers()
            .iter()
            .find_map(|p| unavailable.get(&p.label()).cloned())
    };
    let (cannot, can): (Vec<Case>, Vec<Case>) =
        cases.iter().cloned().partition(|c| why_not(c).is_some());
    let mut results: Vec<CaseResult> = cannot
        .iter()
        .map(|case| {
            let result = case.skipped(why_not(case).unwrap_or_default());
            say!("{}", styled_case_line(&result));
            result
        })
        .collect();
    results.extend(run_all(&can, jobs, &options, retries).await);
    if !cleanup::interrupted() {
        finish(&cases).await;
    }
    results.sort_by(|a, b| a.name.cmp(&b.name));
    let failures: Vec<&CaseResult> = results.iter().filter(|r| r.status.is_failure()).collect();
    if !failures.is_empty() {
        say!("\nfailures:");
        for f in &failures {
            say!(
                "\n---- {} ----\n{}",
                f.name,
                paint_headings(&render_failure(f), colour_stdout())
            );
        }
    }
    print_flaky(&results);
    let elapsed = started.elapsed();
    let tally = Tally::of(&results);
    say!("\n{}\nsummary: {}", tally.details(elapsed), tally.summary());
    let code = if results.iter().all(|r| r.status.is_success()) {
        0
    } else {
        EXIT_FAILED
    };
    (code, results, elapsed)
}

/// The failed tries of each flaky case, after the failures.
pub(super) fn print_flaky(results: &[CaseResult]) {
    let mut heading = false;
    for r in results {
        if let Status::Flaky { failed_tries } = &r.status {
            if !std::mem::replace(&mut heading, true) {
                say!("\nflaky (passed on a retry):");
            }
            say!(
                "\n---- {} ----\n{}",
                r.name,
                render_failed_tries(failed_tries)
            );
        }
    }
}

/// Runs `cases`, `jobs` at a time (each failing one up to `retries` more times), printing each one's line as it ends, and
/// returns their results in the order of `cases`.
///
/// The first Ctrl-C or SIGTERM (or stdout closing) stops it: no case starts
/// any more, the running ones are dropped (a process agent is killed and its
/// folder removed as its handle drops; the rest is swept at exit, after the
/// reports are written), and their results say `interrupted`, with
/// `started: false` for the cases that never started.
pub(super) async fn run_all(
    cases: &[Case],
    jobs: usize,
    options: &RunOptions,
    retries: u32,
) -> Vec<CaseResult> {
    let began: std::sync::Mutex<std::collections::HashMap<usize, Instant>> = Default::default();
    let mut done: Vec<Option<CaseResult>> = vec![None; cases.len()];
    {
        let began = &began;
        let mut finished = futures_util::stream::iter(cases.iter().enumerate())
            .map(|(i, case)| async move {
                began
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(i, Instant::now());
                (i, run_with_retries(case, options, retries).await)
            })
            .buffer_unordered(jobs);
        let interrupt = cleanup::interrupt_requested();
        tokio::pin!(interrupt);
        loop {
            tokio::select! {
                biased;
                _ = &mut interrupt => break,
                next = finished.next() => match next {
                    Some((i, result)) => {
                        say!("{}", styled_case_line(&result));
                        done[i] = Some(result);
                    }
                    None => break,
                },
            }
        }
        // Dropping the stream drops the cases still running.
    }
    let began = began.into_inner().unwrap_or_else(|e| e.into_inner());
    cases
        .iter()
        .zip(done)
        .enumerate()
        .map(|(i, (case, result))| match (result, began.get(&i)) {
            (Some(result), _) => result,
            (None, Some(at)) => {
                let result = case.interrupted(true, at.elapsed());
                say!("{}", styled_case_line(&result));
                result
            }
            (None, None) => case.interrupted(false, std::time::Duration::ZERO),
        })
        .collect()
}
