//! `acapy-harness run`: the command line's settings over the environment,
//! a session with the console and the files asked for as reporters, every
//! case `jobs` at a time, Ctrl-C handled.

use super::{bad_input, failed, RunArgs, Terminal, EXIT_FAILED};
use crate::report::console::Console;
use crate::session::plan::PlanError;
use crate::session::soak::Soak;
use crate::session::{CancelReason, Defaults, Session, Settings};

pub(super) async fn run(args: RunArgs, terminal: &Terminal) -> u8 {
    let settings = match args.settings() {
        Ok(flags) => match Settings::from_process_env() {
            Ok(environment) => flags.over(environment),
            Err(e) => return bad_input(format!("error: {e}"), terminal),
        },
        Err(e) => return bad_input(format!("error: {e}"), terminal),
    };
    let cancel = terminal.cancel.clone();
    let mut console = Console::new(terminal.stdout_colour)
        .on_closed(move || cancel.cancel(CancelReason::OutputClosed));
    console.steps = args.steps;
    console.artifacts = args.artifacts.clone().or_else(|| {
        settings
            .reports
            .dir
            .as_ref()
            .map(|dir| dir.join("artifacts"))
    });
    let session = match Session::new(
        settings,
        &Defaults::command_line(),
        vec![Box::new(console)],
        terminal.cancel.clone(),
    )
    .await
    {
        Ok(session) => session,
        Err(e) => return plan_error(e, terminal),
    };
    session.listen(Box::new(session.plan.reports.clone()));
    if let Err(e) = session.prepare().await {
        return failed(format!("{e:#}"));
    }
    terminal
        .interrupts
        .defer("ending the running cases and writing the reports");
    let jobs = session.plan.jobs;
    let rounds = args.rounds.unwrap_or(1);
    let mut soak = (rounds > 1).then(|| Soak::new(rounds, args.soak_log.clone()));
    let mut success = true;
    let mut round = 1;
    let results = loop {
        let started = std::time::Instant::now();
        session.begin(jobs);
        let results = session.run_all(jobs).await;
        success &= results.iter().all(|r| r.status.is_success());
        if let Some(soak) = &mut soak {
            if let Err(e) = soak
                .round(round, &session, &results, started.elapsed())
                .await
            {
                eprintln!("acapy-harness: {e:#}");
            }
        }
        if round >= rounds || terminal.cancel.is_cancelled() {
            break results;
        }
        round += 1;
    };
    let errors = session.finish(results).await;
    if let Some(e) = errors.first() {
        return failed(e);
    }
    match success {
        true => 0,
        false => EXIT_FAILED,
    }
}

/// Bad input: diagnostics as they render, a setting as an error.
pub(super) fn plan_error(error: PlanError, terminal: &Terminal) -> u8 {
    match error {
        PlanError::Files(text) => bad_input(text, terminal),
        PlanError::Setting(text) => bad_input(format!("error: {text}"), terminal),
    }
}
