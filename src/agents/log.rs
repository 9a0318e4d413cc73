//! Agents' and services' logs as failures show them: the last lines, and
//! for a start failure the exception ACA-Py raised, with Python traceback
//! frames folded so that the warnings before them stay in view.

/// How many lines of an agent's log a start failure shows.
const START_FAILURE_LINES: usize = 30;

/// How much of an agent's log to read for a start failure: enough that the
/// last traceback's header is in it.
pub const START_FAILURE_READ: usize = 300;

/// The last `lines` lines of `text`.
pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The line of an agent's log that says why it stopped: the exception at the
/// end of the last Python traceback (its last unindented line). A start
/// failure shows it beside the exit status, because the log's tail may be
/// cut before it in short reports.
pub fn raised_exception(log: &str) -> Option<&str> {
    let lines: Vec<&str> = log.lines().collect();
    let start = lines
        .iter()
        .rposition(|l| l.starts_with("Traceback (most recent call last)"))?;
    lines[start + 1..]
        .iter()
        .rev()
        .find(|l| !l.trim().is_empty() && !l.starts_with(char::is_whitespace))
        .map(|l| l.trim_end())
}

/// An agent's log with each Python traceback's frames folded into one line:
/// what a start failure shows. The records before a traceback (ACA-Py logs
/// the causes of a failed wallet open as warnings) and the exception it
/// raised say why; the frames are ACA-Py's internals, and the whole log is
/// kept in the artifacts.
pub fn fold_tracebacks(log: &str) -> String {
    let mut out = Vec::new();
    let mut frames = 0;
    let mut in_traceback = false;
    for line in log.lines() {
        if in_traceback && (line.starts_with(char::is_whitespace) || line.is_empty()) {
            frames += 1;
            continue;
        }
        if frames > 0 {
            out.push(format!("  … ({frames} lines of frames)"));
            frames = 0;
        }
        in_traceback = line.starts_with("Traceback (most recent call last)");
        out.push(line.to_owned());
    }
    if frames > 0 {
        out.push(format!("  … ({frames} lines of frames)"));
    }
    out.join("\n")
}

/// What a start failure says after "did not start": `error`, the exception
/// the log ends with when there is one, and the log's last lines with
/// traceback frames folded.
pub fn start_failure(error: impl std::fmt::Display, log: &str) -> String {
    let raised = raised_exception(log)
        .map(|line| format!(": {line}"))
        .unwrap_or_default();
    let shown = tail(&fold_tracebacks(log), START_FAILURE_LINES);
    format!("{error}{raised}\n--- last lines of its log ---\n{shown}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exception_is_the_last_unindented_line_of_the_last_traceback() {
        let log = "INFO starting\n\
            Traceback (most recent call last):\n  File \"a.py\", line 1\n    x()\n\
            ValueError: first\n\nDuring handling of the above exception, another exception occurred:\n\n\
            Traceback (most recent call last):\n  File \"b.py\", line 2\n    y()\n\
            aries_askar.error.AskarError: Backend error\n\n";
        assert_eq!(
            raised_exception(log),
            Some("aries_askar.error.AskarError: Backend error")
        );
    }

    #[test]
    fn tracebacks_fold_to_their_header_and_exception() {
        let log = "WARNING Askar backend error: Error connecting to database pool\n\
            Caused by: password authentication failed\n\
            ERROR Unexpected exception during execution\n\
            Traceback (most recent call last):\n  File \"a.py\", line 1, in run\n    x()\n\
            \x20   ^^^\n\
            acapy_agent.core.error.ProfileError: Failed to open or provision store after retries\n\
            INFO shutting down";
        assert_eq!(
            fold_tracebacks(log),
            "WARNING Askar backend error: Error connecting to database pool\n\
             Caused by: password authentication failed\n\
             ERROR Unexpected exception during execution\n\
             Traceback (most recent call last):\n  … (3 lines of frames)\n\
             acapy_agent.core.error.ProfileError: Failed to open or provision store after retries\n\
             INFO shutting down"
        );
    }

    #[test]
    fn a_log_without_a_traceback_names_no_exception() {
        assert_eq!(
            raised_exception("ERROR could not bind\nShutting down\n"),
            None
        );
        assert_eq!(
            raised_exception("Traceback (most recent call last):\n  File \"a.py\"\n"),
            None
        );
    }
}
