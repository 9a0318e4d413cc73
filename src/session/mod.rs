//! One run, whichever front end asked for it (`acapy-harness run`, the
//! `cargo test` target): settings → [`Plan`] → cases run with a
//! [`Cancel`] handed in → events to the [`Reporter`]s, which only listen.
//!
//! A front end builds [`Settings`] (flags, environment), gives its
//! [`Defaults`] and reporters, and then either lets the session run every
//! case ([`Session::run_all`], `jobs` at a time) or runs them one by one
//! itself ([`Session::run_case`], as libtest does, a trial each), and ends
//! with [`Session::finish`].

pub mod cancel;
pub mod plan;
pub mod settings;
pub mod signals;
pub mod soak;

pub use cancel::{Cancel, CancelReason};
pub use plan::{Defaults, Plan, PlanError};
pub use settings::Settings;

use crate::agents::{services, Notice, Notices, ProviderError};
use crate::report::events::{Event, ReportError, Reporter};
use crate::run::outcome::{CaseResult, StepResult};
use crate::run::{run_with_retries, Case};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where events go: every reporter, in the order given.
#[derive(Default)]
struct Emitter {
    reporters: Mutex<Vec<Box<dyn Reporter>>>,
    notices: Mutex<Vec<String>>,
    errors: Mutex<Vec<ReportError>>,
}

impl Emitter {
    fn emit(&self, event: &Event<'_>) {
        let mut reporters = self.reporters.lock().unwrap_or_else(|e| e.into_inner());
        for reporter in reporters.iter_mut() {
            if let Err(e) = reporter.report(event) {
                self.errors
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(e);
            }
        }
    }

    fn notice(&self, notice: Notice) {
        self.notices
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(notice.text.clone());
        self.emit(&Event::Notice { text: &notice.text });
    }
}

/// A run in progress.
pub struct Session {
    pub plan: Plan,
    emitter: Arc<Emitter>,
    cancel: Cancel,
    /// Why cases cannot run here, by source label or service image.
    unavailable: Mutex<HashMap<String, String>>,
    /// When the cases began (after installs).
    started: Mutex<Instant>,
}

impl Session {
    /// Plans the run. Notices (the provider `auto` chose, installs) go to
    /// `reporters` from now on.
    pub async fn new(
        settings: Settings,
        defaults: &Defaults,
        reporters: Vec<Box<dyn Reporter>>,
        cancel: Cancel,
    ) -> Result<Session, PlanError> {
        let emitter = Arc::new(Emitter {
            reporters: Mutex::new(reporters),
            ..Emitter::default()
        });
        let notices = {
            let emitter = emitter.clone();
            Notices::new(move |notice| emitter.notice(notice))
        };
        let plan = Plan::make(settings, defaults, &notices).await?;
        Ok(Session {
            plan,
            emitter,
            cancel,
            unavailable: Mutex::default(),
            started: Mutex::new(Instant::now()),
        })
    }

    /// One more reporter, from now on.
    pub fn listen(&self, reporter: Box<dyn Reporter>) {
        self.emitter
            .reporters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(reporter);
    }

    pub fn cases(&self) -> &[Case] {
        &self.plan.cases
    }

    pub fn notices(&self) -> &Notices {
        self.plan.options.run.notices()
    }

    /// Asks, cheaply and starting nothing, what cases cannot run here: a
    /// source with no engine or image, a service whose image is not built.
    /// Known before listing, so nextest can count such cases as skipped.
    pub async fn screen(&self) {
        let mut found = HashMap::new();
        for source in self.plan.sources() {
            if let Err(why) = source.availability().await {
                found.insert(source.label(), why.0);
            }
        }
        let images: Vec<(String, String)> = self
            .plan
            .cases
            .iter()
            .flat_map(|c| c.scenario.services.iter())
            .chain(self.plan.options.services.iter())
            .map(|s| (s.name.clone(), s.image.clone()))
            .collect();
        for (name, image) in images {
            if found.contains_key(&image) {
                continue;
            }
            if let Err(why) = services::image_here(&image).await {
                found.insert(image, format!("service `{name}` needs image {why}"));
            }
        }
        self.unavailable
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(found);
    }

    /// Why `case` cannot run here, if that is known before it starts: its
    /// source or a service image is missing ([`Self::screen`],
    /// [`Self::prepare`]), or its `requires` rules the versions out.
    pub fn why_not(&self, case: &Case) -> Option<String> {
        let unavailable = self.unavailable.lock().unwrap_or_else(|e| e.into_inner());
        case.providers()
            .iter()
            .find_map(|p| unavailable.get(&p.label()).cloned())
            .or_else(|| {
                let images = case
                    .scenario
                    .services
                    .iter()
                    .chain(self.plan.options.services.iter());
                images
                    .map(|s| &s.image)
                    .find_map(|i| unavailable.get(i).cloned())
            })
            .or_else(|| case.unmet_requirement())
    }

    /// Removes what runs killed earlier left (folders, containers, networks), then
    /// installs (or finds) what every source needs, before the first case:
    /// no case's time includes a pip install or an image pull. A source
    /// this machine cannot provide (an image that is not built and cannot
    /// be pulled) makes its cases skip; a failed install fails the run.
    pub async fn prepare(&self) -> Result<(), ProviderError> {
        let notices = self.notices();
        // Folders first: they need no engine.
        crate::agents::cleanup::sweep_stale_dirs(notices);
        let mut swept = Vec::new();
        for source in self.plan.sources() {
            if !swept.contains(&source.kind()) {
                swept.push(source.kind());
                source.sweep_stale(notices).await;
            }
        }
        // Whatever this run uses, containers a killed run left go too (its
        // services, or agents in containers): a second look where a
        // provider swept the same engine finds nothing; no engine, no look.
        services::sweep_stale(notices).await;
        let sources = self.plan.sources();
        let total = sources.len();
        for (n, source) in sources.iter().enumerate() {
            let started = Instant::now();
            match source.prepare(notices).await {
                Ok(()) => {}
                Err(ProviderError::Unavailable(why)) => {
                    notices.say(format!(
                        "the cases on {} are skipped: {why}",
                        source.label()
                    ));
                    self.unavailable
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(source.label(), why.0);
                    continue;
                }
                Err(ProviderError::Failed(e)) => {
                    return Err(ProviderError::Failed(
                        e.context(format!("cannot prepare {}", source.label())),
                    ))
                }
            }
            // Quick when all is in place already: only slow steps are worth a line.
            let took = started.elapsed();
            if took > Duration::from_secs(1) {
                notices.say(format!(
                    "prepared {} ({}/{total}) in {:.0}s",
                    source.label(),
                    n + 1,
                    took.as_secs_f64()
                ));
            }
        }
        Ok(())
    }

    /// The agents the run's sources keep across cases (shared base agents).
    pub async fn kept_agents(&self) -> Vec<crate::agents::KeptAgent> {
        let mut kept = Vec::new();
        for source in self.plan.sources() {
            kept.extend(source.kept_agents().await);
        }
        kept
    }

    /// Says the run starts: its cases, and how many at a time.
    pub fn begin(&self, jobs: usize) {
        *self.started.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        let names: Vec<String> = self.plan.cases.iter().map(Case::name).collect();
        self.emitter.emit(&Event::RunStarted {
            cases: &names,
            jobs,
        });
    }

    /// Runs one case (again while it fails, up to the plan's retries),
    /// telling the reporters as it starts, as each step ends and as it
    /// ends. A case known not to run here is skipped with the reason.
    pub async fn run_case(&self, case: &Case) -> CaseResult {
        let name = case.name();
        if let Some(why) = self.why_not(case) {
            let result = case.skipped(why);
            self.emitter.emit(&Event::CaseFinished { result: &result });
            return result;
        }
        self.emitter.emit(&Event::CaseStarted { name: &name });
        let mut options = self.plan.options.clone();
        let emitter = self.emitter.clone();
        options.on_step = Some(Arc::new(move |number: usize, step: &StepResult| {
            emitter.emit(&Event::StepFinished {
                case: &name,
                number,
                step,
            })
        }));
        let result = run_with_retries(case, &options, self.plan.retries).await;
        self.emitter.emit(&Event::CaseFinished { result: &result });
        result
    }

    /// Runs every case, `jobs` at a time, and returns their results in
    /// the plan's order. Once cancelled, no case starts any more and the
    /// running ones are dropped (a process agent is killed and its folder
    /// removed as its handle drops; the rest is swept at exit); their
    /// results say `interrupted`, with `started: false` for the cases that
    /// never started.
    pub async fn run_all(&self, jobs: usize) -> Vec<CaseResult> {
        let cases = &self.plan.cases;
        let began: Mutex<HashMap<usize, Instant>> = Mutex::default();
        let mut done: Vec<Option<CaseResult>> = vec![None; cases.len()];
        {
            let began = &began;
            let mut finished = futures_util::stream::iter(cases.iter().enumerate())
                .map(|(i, case)| async move {
                    began
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(i, Instant::now());
                    (i, self.run_case(case).await)
                })
                .buffer_unordered(jobs.max(1));
            let cancelled = self.cancel.cancelled();
            tokio::pin!(cancelled);
            loop {
                tokio::select! {
                    biased;
                    _ = &mut cancelled => break,
                    next = finished.next() => match next {
                        Some((i, result)) => done[i] = Some(result),
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
                    self.emitter.emit(&Event::CaseFinished { result: &result });
                    result
                }
                (None, None) => case.interrupted(false, Duration::ZERO),
            })
            .collect()
    }

    /// Ends the run: stops what outlived the cases (shared base agents,
    /// services of the run), tells the reporters (which write their files
    /// then), and returns the reports that could not be written.
    pub async fn finish(self, mut results: Vec<CaseResult>) -> Vec<ReportError> {
        if !self.cancel.is_cancelled() {
            futures_util::future::join_all(self.plan.sources().iter().map(|s| s.finish())).await;
            self.plan.options.run.close().await;
        }
        results.sort_by(|a, b| a.name.cmp(&b.name));
        let notices = self
            .emitter
            .notices
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let coverage = self
            .plan
            .coverage
            .then(|| crate::report::coverage::of(&results, &self.plan.options.contract.cache));
        self.emitter.emit(&Event::RunFinished {
            coverage: coverage.as_deref(),
            results: &results,
            notices: &notices,
            elapsed: self
                .started
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .elapsed(),
            interrupted: self.cancel.is_cancelled(),
        });
        std::mem::take(
            &mut *self
                .emitter
                .errors
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        )
    }
}
