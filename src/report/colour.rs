//! Colour on a terminal: whether to use it (`--color`, `NO_COLOR`,
//! `CLICOLOR_FORCE`, whether the stream is a terminal), and painting words
//! and headings. Rendering stays plain; colour is added on the way out, so
//! files, pipes and the expected outputs of the tests never hold escapes.

use crate::run::outcome::Status;

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when the stream is a terminal, unless `NO_COLOR` is set;
    /// always when `CLICOLOR_FORCE` is set (and not `0`).
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour a stream. `no_color` and `clicolor_force` are the
    /// environment variables' values; `terminal`, whether the stream is one.
    /// `NO_COLOR` (non-empty) beats `CLICOLOR_FORCE`; `--color` beats both.
    pub fn decide(
        self,
        no_color: Option<&str>,
        clicolor_force: Option<&str>,
        terminal: bool,
    ) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                if no_color.is_some_and(|v| !v.is_empty()) {
                    false
                } else if clicolor_force.is_some_and(|v| !v.is_empty() && v != "0") {
                    true
                } else {
                    terminal
                }
            }
        }
    }

    /// [`ColorChoice::decide`] for this process's environment and `stream`.
    pub fn for_stream(self, stream: &impl std::io::IsTerminal) -> bool {
        let no_color = std::env::var("NO_COLOR").ok();
        let force = std::env::var("CLICOLOR_FORCE").ok();
        let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
        self.decide(
            no_color.as_deref(),
            force.as_deref(),
            stream.is_terminal() && !dumb,
        )
    }
}

const RESET: &str = "\x1b[0m";

/// The SGR code of a status word.
fn code(status: &Status) -> &'static str {
    match status {
        Status::Passed => "\x1b[32m",                                   // green
        Status::Failed | Status::UnexpectedPass { .. } => "\x1b[1;31m", // bold red
        Status::Skipped { .. } => "\x1b[33m",                           // yellow
        Status::ExpectedFailure { .. } => "\x1b[36m",                   // cyan
        Status::Flaky { .. } => "\x1b[35m",                             // magenta
        Status::Interrupted { .. } => "\x1b[1;33m",                     // bold yellow
    }
}

/// A case line (`PASS  name  (...)`, from `console::case_line`) with its
/// status word coloured when `colour`.
pub fn paint_case_line(line: &str, status: &Status, colour: bool) -> String {
    if !colour {
        return line.to_owned();
    }
    let word_len = line.find(' ').unwrap_or(line.len());
    let (word, rest) = line.split_at(word_len);
    format!("{}{word}{RESET}{rest}", code(status))
}

/// Text with each line's leading `error:` or `failure:` heading in bold red
/// when `colour`.
pub fn paint_headings(text: &str, colour: bool) -> String {
    if !colour {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 32);
    for line in text.split_inclusive('\n') {
        match ["error:", "failure:", "warning:"]
            .iter()
            .find(|h| line.starts_with(*h))
        {
            Some(heading) => {
                out.push_str(match *heading {
                    "warning:" => "\x1b[1;33m",
                    _ => "\x1b[1;31m",
                });
                out.push_str(heading);
                out.push_str(RESET);
                out.push_str(&line[heading.len()..]);
            }
            None => out.push_str(line),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ColorChoice::*;

    #[test]
    fn the_flag_beats_the_environment_which_beats_the_terminal() {
        assert!(Always.decide(Some("1"), None, false));
        assert!(!Never.decide(None, Some("1"), true));
        assert!(Auto.decide(None, None, true));
        assert!(!Auto.decide(None, None, false));
        assert!(!Auto.decide(Some("1"), None, true), "NO_COLOR");
        assert!(
            Auto.decide(Some(""), None, true),
            "an empty NO_COLOR is unset"
        );
        assert!(Auto.decide(None, Some("1"), false), "CLICOLOR_FORCE");
        assert!(!Auto.decide(None, Some("0"), false));
        assert!(!Auto.decide(Some("1"), Some("1"), true), "NO_COLOR wins");
    }

    #[test]
    fn painting_is_plain_without_colour_and_only_touches_words() {
        let line = "PASS  seed::process::1.3.6  (1.0s)";
        assert_eq!(paint_case_line(line, &Status::Passed, false), line);
        assert_eq!(
            paint_case_line(line, &Status::Passed, true),
            "\x1b[32mPASS\x1b[0m  seed::process::1.3.6  (1.0s)"
        );
        let text = "failure: boom\n  = note: failure: not a heading\nerror: x\n";
        assert_eq!(paint_headings(text, false), text);
        assert_eq!(
            paint_headings(text, true),
            "\x1b[1;31mfailure:\x1b[0m boom\n  = note: failure: not a heading\n\x1b[1;31merror:\x1b[0m x\n"
        );
    }
}
