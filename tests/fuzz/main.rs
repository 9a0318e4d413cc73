//! In-process fuzzing of what people type: the scenario loader and checker
//! (`validate` of bytes), the template engine, JSONPaths and the
//! expectation operators, the diagnostics renderer, `--var`/`--vars-file`,
//! and the version, range, partition and duration parsers. See
//! `docs/fuzzing.md`.
//!
//! As a test (`cargo test --test fuzz`): every input of the committed corpus
//! (`tests/fuzz-corpus/TARGET/`) is replayed, and each target runs a short,
//! fixed slice of fresh inputs.
//!
//! As a fuzzer (`cargo test --test fuzz -- --fuzz [--target NAME]... [--inputs
//! N] [--seconds S] [--timeout-ms MS] [--seed SEED] [--save]`): each target
//! runs N inputs or S seconds, whichever ends first; panics, hangs and
//! property violations are reported, and with `--save` their inputs are
//! written to the corpus. The exit code is 1 when anything was found.

mod engine;
mod targets;

use engine::{Budget, Finding, Target};
use libtest_mimic::{Arguments, Failed, Trial};
use std::process::ExitCode;
use std::time::{Duration, Instant};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--fuzz") {
        return fuzz_command(&args[2..]);
    }
    let arguments = Arguments::from_args();
    let mut trials = Vec::new();
    for target in targets::TARGETS {
        trials.push(Trial::test(format!("corpus::{}", target.name), move || {
            replay(target)
        }));
        trials.push(Trial::test(format!("slice::{}", target.name), move || {
            slice(target)
        }));
    }
    trials.push(Trial::test(
        "engine::finds_panics_hangs_and_violations",
        engine_finds,
    ));
    libtest_mimic::run(&arguments, trials).exit_code()
}

/// A target that panics, hangs or breaks its property on some inputs: the
/// engine counts each, keeps their inputs, and goes on after a hang.
fn engine_finds() -> Result<(), Failed> {
    fn run(input: &[u8]) -> engine::Verdict {
        match input.first().map(|b| b % 16) {
            Some(0) => panic!("boom"),
            Some(1) => {
                std::thread::sleep(Duration::from_millis(400));
                Ok(())
            }
            Some(2) => Err("broken".into()),
            _ => Ok(()),
        }
    }
    static TARGET: Target = Target {
        name: "engine-self-test",
        run,
        structured: || proptest::prelude::Strategy::boxed(proptest::prelude::any::<Vec<u8>>()),
        seeds: Vec::new,
        dictionary: &[],
    };
    let tally = engine::fuzz(
        &TARGET,
        Budget {
            inputs: 2_000,
            time: Duration::from_secs(30),
            per_input: Duration::from_millis(100),
            seed: 1,
        },
    );
    let kinds = |k| tally.findings.iter().filter(|f| f.kind == k).count();
    if tally.panics == 0 || tally.violations == 0 || tally.hangs == 0 {
        return Err(format!("{tally:?}").into());
    }
    if kinds(engine::Kind::Panic) == 0 || !tally.findings.iter().any(|f| f.detail.contains("boom"))
    {
        return Err("a panic's message was not kept".into());
    }
    // Three hangs stop a target; before that, a new worker went on.
    if tally.hangs > 3 || tally.inputs < 10 {
        return Err(format!("{tally:?}").into());
    }
    Ok(())
}

/// Every committed input of the target passes.
fn replay(target: &'static Target) -> Result<(), Failed> {
    let mut failures = Vec::new();
    for path in engine::corpus(target.name) {
        let input = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let start = Instant::now();
        if let Err(f) = engine::run_one(target, &input) {
            failures.push(format!(
                "{}: {}: {}",
                path.display(),
                f.kind.word(),
                f.detail
            ));
        }
        if start.elapsed() > Duration::from_secs(2) {
            failures.push(format!("{}: took {:?}", path.display(), start.elapsed()));
        }
    }
    match failures.is_empty() {
        true => Ok(()),
        false => Err(failures.join("\n").into()),
    }
}

/// A few hundred fresh inputs from a fixed seed: the same every run.
fn slice(target: &'static Target) -> Result<(), Failed> {
    let tally = engine::fuzz(
        target,
        Budget {
            inputs: 300,
            time: Duration::from_secs(20),
            per_input: Duration::from_secs(5),
            seed: 19,
        },
    );
    match tally.findings.first() {
        None => Ok(()),
        Some(f) => Err(describe(target.name, f).into()),
    }
}

fn describe(target: &str, f: &Finding) -> String {
    format!(
        "{target}: {}: {}\n  input: \"{}\"",
        f.kind.word(),
        f.detail,
        engine::show(&f.input)
    )
}

struct Options {
    targets: Vec<&'static Target>,
    inputs: u64,
    seconds: f64,
    timeout: Duration,
    seed: u64,
    save: bool,
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        targets: Vec::new(),
        inputs: 10_000,
        seconds: 60.0,
        timeout: Duration::from_secs(2),
        seed: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1),
        save: false,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().cloned().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--target" => {
                let name = value()?;
                let target = targets::by_name(&name).ok_or(format!(
                    "no target `{name}`; targets: {}",
                    names().join(", ")
                ))?;
                options.targets.push(target);
            }
            "--inputs" => {
                options.inputs = value()?.parse().map_err(|e| format!("--inputs: {e}"))?
            }
            "--seconds" => {
                options.seconds = value()?.parse().map_err(|e| format!("--seconds: {e}"))?
            }
            "--timeout-ms" => {
                let ms: u64 = value()?.parse().map_err(|e| format!("--timeout-ms: {e}"))?;
                options.timeout = Duration::from_millis(ms);
            }
            "--seed" => options.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--save" => options.save = true,
            // What cargo and libtest may pass along.
            "--nocapture" | "--quiet" | "-q" | "--show-output" => {}
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    if options.targets.is_empty() {
        options.targets = targets::TARGETS.iter().collect();
    }
    Ok(options)
}

fn names() -> Vec<&'static str> {
    targets::TARGETS.iter().map(|t| t.name).collect()
}

/// `--fuzz`: each target in turn, `--seconds` being the budget of each.
fn fuzz_command(args: &[String]) -> ExitCode {
    let options = match parse_options(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("fuzz: {e}");
            return ExitCode::from(2);
        }
    };
    println!(
        "fuzz: seed {}, up to {} inputs or {} s per target, {:?} per input",
        options.seed, options.inputs, options.seconds, options.timeout
    );
    let start = Instant::now();
    let (mut inputs, mut found) = (0, 0);
    for (i, target) in options.targets.iter().enumerate() {
        let tally = engine::fuzz(
            target,
            Budget {
                inputs: options.inputs,
                time: Duration::from_secs_f64(options.seconds),
                per_input: options.timeout,
                seed: options.seed.wrapping_add(i as u64),
            },
        );
        println!(
            "{:<10} {:>9} inputs  {} panics  {} hangs  {} violations  {:.1} s  ({:.0} inputs/s)",
            target.name,
            tally.inputs,
            tally.panics,
            tally.hangs,
            tally.violations,
            tally.elapsed.as_secs_f64(),
            tally.inputs as f64 / tally.elapsed.as_secs_f64().max(1e-9)
        );
        for f in &tally.findings {
            println!("  {}", describe(target.name, f).replace('\n', "\n  "));
            if options.save {
                match engine::save(target.name, f) {
                    Ok(path) => println!("  saved: {}", path.display()),
                    Err(e) => println!("  not saved: {e}"),
                }
            }
        }
        inputs += tally.inputs;
        found += tally.panics + tally.hangs + tally.violations;
    }
    println!(
        "fuzz: {} targets, {inputs} inputs, {found} findings, {:.1} s",
        options.targets.len(),
        start.elapsed().as_secs_f64()
    );
    match found {
        0 => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    }
}
