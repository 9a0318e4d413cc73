//! The fuzzing loop: inputs made on a worker thread, each run under
//! `catch_unwind` while a watchdog on the calling thread times it; panics,
//! hangs and property violations are counted and their inputs kept.

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

/// What one input did wrong, if anything.
pub type Verdict = Result<(), String>;

/// A fuzz target: how to run one input, and how to make inputs.
pub struct Target {
    pub name: &'static str,
    /// Runs one input; `Err` is a property that does not hold.
    pub run: fn(&[u8]) -> Verdict,
    /// Structured inputs (proptest strategies), as bytes.
    pub structured: fn() -> proptest::strategy::BoxedStrategy<Vec<u8>>,
    /// The library's own inputs that mutation starts from.
    pub seeds: fn() -> Vec<Vec<u8>>,
    /// Pieces worth inserting when mutating this target's inputs.
    pub dictionary: &'static [&'static str],
}

/// A small, fast generator (xorshift64*): mutation needs speed, not quality.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// A number below `n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes that often break parsers: UTF-8 edges, YAML and template syntax.
const GENERIC: &[&str] = &[
    "\n",
    "\r",
    "\r\n",
    "\t",
    " ",
    "\0",
    "\u{feff}",
    "é",
    "\u{301}",
    "😀",
    "\u{2028}",
    "\u{a0}",
    "\u{10ffff}",
    "\"",
    "'",
    "\\",
    ":",
    ": ",
    "- ",
    "#",
    "{",
    "}",
    "[",
    "]",
    ",",
    "&a ",
    "*a",
    "<<: *a",
    "!!str ",
    "!!binary ",
    "? ",
    "|",
    ">-",
    "---\n",
    "...\n",
    "%YAML 1.2\n",
    "${",
    "$${",
    "}",
    "$",
    "0",
    "-1",
    "18446744073709551615",
    "18446744073709551616",
    "1e400",
    "-0.0",
    ".nan",
    "~",
    "null",
    "true",
    "4294967295",
];

/// Mutates `input` in place: a few byte flips, insertions (from the
/// dictionaries), deletions, duplications and splices of another seed.
pub fn mutate(input: &mut Vec<u8>, rng: &mut Rng, dictionary: &[&str], seeds: &[Vec<u8>]) {
    let rounds = 1 + rng.below(6);
    for _ in 0..rounds {
        let len = input.len();
        let at = rng.below(len + 1);
        match rng.below(9) {
            0 if len > 0 => input[at.min(len - 1)] ^= 1 << rng.below(8),
            1 if len > 0 => input[at.min(len - 1)] = rng.next() as u8,
            2 => input.insert(at, rng.next() as u8),
            3 => {
                let word = match rng.below(2) {
                    0 if !dictionary.is_empty() => dictionary[rng.below(dictionary.len())],
                    _ => GENERIC[rng.below(GENERIC.len())],
                };
                input.splice(at..at, word.bytes());
            }
            4 if len > 0 => {
                let end = (at + 1 + rng.below(16)).min(len);
                input.drain(at.min(len - 1)..end);
            }
            5 if len > 0 => {
                let start = at.min(len - 1);
                let end = (start + 1 + rng.below(64)).min(len);
                let piece = input[start..end].to_vec();
                let to = rng.below(len + 1);
                input.splice(to..to, piece);
            }
            6 if !seeds.is_empty() => {
                let other = &seeds[rng.below(seeds.len())];
                if !other.is_empty() {
                    let start = rng.below(other.len());
                    let end = (start + 1 + rng.below(256)).min(other.len());
                    input.splice(at..at, other[start..end].iter().copied());
                }
            }
            7 => {
                // A line swapped with another: YAML structure changes.
                let lines: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
                if lines.len() > 2 {
                    let (a, b) = (rng.below(lines.len()), rng.below(lines.len()));
                    let mut lines: Vec<Vec<u8>> = lines.iter().map(|l| l.to_vec()).collect();
                    lines.swap(a, b);
                    *input = lines.join(&b'\n');
                }
            }
            _ => {
                // Indentation changed on one line.
                let line_start = input[..at]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |p| p + 1);
                match rng.below(2) {
                    0 => {
                        input.splice(line_start..line_start, *b"  ");
                    }
                    _ if input.get(line_start) == Some(&b' ') => {
                        input.remove(line_start);
                    }
                    _ => {}
                }
            }
        }
    }
    input.truncate(1 << 16);
}

/// Makes a target's inputs: structured ones from its strategy, and mutants
/// of its seeds (and of what it made before).
pub struct Generator {
    runner: TestRunner,
    strategy: proptest::strategy::BoxedStrategy<Vec<u8>>,
    seeds: Vec<Vec<u8>>,
    dictionary: &'static [&'static str],
    rng: Rng,
}

impl Generator {
    pub fn new(target: &Target, seed: u64) -> Generator {
        let mut bytes = [0u8; 32];
        bytes[..8].copy_from_slice(&seed.to_le_bytes());
        let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
        Generator {
            runner: TestRunner::new_with_rng(Config::default(), rng),
            strategy: (target.structured)(),
            seeds: (target.seeds)(),
            dictionary: target.dictionary,
            rng: Rng::new(seed),
        }
    }

    pub fn next(&mut self) -> Vec<u8> {
        let structured = self.seeds.is_empty() || self.rng.below(3) == 0;
        let mut input = match structured {
            true => match self.strategy.new_tree(&mut self.runner) {
                Ok(tree) => tree.current(),
                Err(_) => Vec::new(),
            },
            false => self.seeds[self.rng.below(self.seeds.len())].clone(),
        };
        if !structured || self.rng.below(4) == 0 {
            mutate(&mut input, &mut self.rng, self.dictionary, &self.seeds);
        }
        input
    }
}

thread_local! {
    /// Set on fuzz workers: their panics are findings, not noise.
    static QUIET: Cell<bool> = const { Cell::new(false) };
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Panics on fuzz workers are recorded instead of printed.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if QUIET.with(Cell::get) {
                let at = info
                    .location()
                    .map(|l| format!(" at {}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                let message = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "(no message)".into());
                LAST_PANIC.with(|p| *p.borrow_mut() = Some(format!("{message}{at}")));
            } else {
                default(info);
            }
        }));
    });
}

/// Runs one input, a panic turned into a finding.
pub fn run_one(target: &Target, input: &[u8]) -> Result<(), Finding> {
    install_panic_hook();
    QUIET.with(|q| q.set(true));
    let outcome = catch_unwind(AssertUnwindSafe(|| (target.run)(input)));
    QUIET.with(|q| q.set(false));
    match outcome {
        Ok(Ok(())) => Ok(()),
        Ok(Err(why)) => Err(Finding {
            kind: Kind::Violation,
            detail: why,
            input: input.to_vec(),
        }),
        Err(_) => Err(Finding {
            kind: Kind::Panic,
            detail: LAST_PANIC
                .with(|p| p.borrow_mut().take())
                .unwrap_or_default(),
            input: input.to_vec(),
        }),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Panic,
    Hang,
    Violation,
}

impl Kind {
    pub fn word(self) -> &'static str {
        match self {
            Kind::Panic => "panic",
            Kind::Hang => "hang",
            Kind::Violation => "violation",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub kind: Kind,
    pub detail: String,
    pub input: Vec<u8>,
}

/// What a target's run came to.
#[derive(Debug, Default)]
pub struct Tally {
    pub inputs: u64,
    pub panics: u64,
    pub hangs: u64,
    pub violations: u64,
    pub elapsed: Duration,
    /// The first few findings of each kind, inputs included.
    pub findings: Vec<Finding>,
}

/// How long to fuzz one target.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub inputs: u64,
    pub time: Duration,
    pub per_input: Duration,
    pub seed: u64,
}

/// The input a worker is on, and since when.
struct Current {
    started: Instant,
    input: Vec<u8>,
}

/// Findings kept per kind, to keep a bad day's output readable.
const KEEP_PER_KIND: usize = 5;
/// A target whose inputs hang this often is stopped: each hang leaves a
/// thread spinning.
const MAX_HANGS: u64 = 3;

/// Fuzzes `target` within `budget`: inputs are made and run on a worker
/// thread; this thread is the watchdog. A hung input is recorded and its
/// worker left behind; a new worker goes on.
pub fn fuzz(target: &'static Target, budget: Budget) -> Tally {
    let start = Instant::now();
    let deadline = start + budget.time;
    let done = Arc::new(AtomicU64::new(0));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let mut hangs = 0;
    let mut worker_seed = budget.seed;
    'workers: loop {
        let current: Arc<Mutex<Option<Current>>> = Arc::new(Mutex::new(None));
        let stop = Arc::new(AtomicBool::new(false));
        let handle = {
            let (current, stop, done, tally) =
                (current.clone(), stop.clone(), done.clone(), tally.clone());
            std::thread::Builder::new()
                .name(format!("fuzz-{}", target.name))
                .stack_size(8 << 20)
                .spawn(move || {
                    let mut generator = Generator::new(target, worker_seed);
                    while !stop.load(Ordering::Relaxed) {
                        if done.fetch_add(1, Ordering::Relaxed) >= budget.inputs {
                            done.fetch_sub(1, Ordering::Relaxed);
                            break;
                        }
                        let input = generator.next();
                        *current.lock().unwrap() = Some(Current {
                            started: Instant::now(),
                            input: input.clone(),
                        });
                        let outcome = run_one(target, &input);
                        *current.lock().unwrap() = None;
                        if let Err(finding) = outcome {
                            record(&tally, finding);
                        }
                    }
                })
                .expect("a fuzz worker starts")
        };
        loop {
            std::thread::sleep(Duration::from_millis(20));
            if handle.is_finished() {
                break 'workers;
            }
            if Instant::now() >= deadline {
                stop.store(true, Ordering::Relaxed);
            }
            let hung = current
                .lock()
                .unwrap()
                .as_ref()
                .filter(|c| c.started.elapsed() > budget.per_input)
                .map(|c| c.input.clone());
            if let Some(input) = hung {
                stop.store(true, Ordering::Relaxed);
                record(
                    &tally,
                    Finding {
                        kind: Kind::Hang,
                        detail: format!("still running after {:?}", budget.per_input),
                        input,
                    },
                );
                hangs += 1;
                worker_seed = worker_seed.wrapping_add(1);
                if hangs >= MAX_HANGS || Instant::now() >= deadline {
                    break 'workers;
                }
                continue 'workers;
            }
        }
    }
    let mut tally = std::mem::take(&mut *tally.lock().unwrap());
    tally.inputs = done.load(Ordering::Relaxed);
    tally.elapsed = start.elapsed();
    tally
}

fn record(tally: &Mutex<Tally>, finding: Finding) {
    let mut tally = tally.lock().unwrap();
    let count = match finding.kind {
        Kind::Panic => &mut tally.panics,
        Kind::Hang => &mut tally.hangs,
        Kind::Violation => &mut tally.violations,
    };
    *count += 1;
    let kept = tally
        .findings
        .iter()
        .filter(|f| f.kind == finding.kind)
        .count();
    if kept < KEEP_PER_KIND {
        tally.findings.push(finding);
    }
}

/// The committed corpus of inputs that found something.
pub fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz-corpus")
        .join(target)
}

/// Keeps a finding's input under the corpus, named by its kind and a hash
/// of its bytes; returns the path.
pub fn save(target: &str, finding: &Finding) -> std::io::Result<PathBuf> {
    let dir = corpus_dir(target);
    std::fs::create_dir_all(&dir)?;
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in &finding.input {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let path = dir.join(format!("{}-{hash:016x}", finding.kind.word()));
    std::fs::write(&path, &finding.input)?;
    Ok(path)
}

/// The corpus files of a target, sorted.
pub fn corpus(target: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir(target))
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.is_file());
    files.sort();
    files
}

/// An input shown on one line, for reports.
pub fn show(input: &[u8]) -> String {
    let text = String::from_utf8_lossy(input);
    let mut shown: String = text
        .chars()
        .take(300)
        .collect::<String>()
        .escape_debug()
        .to_string();
    if text.chars().count() > 300 {
        shown.push('…');
    }
    shown
}
