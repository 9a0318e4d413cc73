//! Source files, positions in them, and the one way every error is rendered:
//!
//! ```text
//! error: unknown agent role `verifier`
//!   --> scenarios/seed.yaml:12:12
//!    |
//! 12 |     agent: verifier
//!    |            ^^^^^^^^ not declared under `agents` (declared: issuer, holder)
//!    |
//!    = help: ...
//! ```

use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A YAML file the harness read, kept whole so errors can quote it.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as the user named it (relative paths stay relative in messages).
    pub path: PathBuf,
    pub text: String,
}

impl SourceFile {
    pub fn read(path: &Path) -> std::io::Result<Arc<SourceFile>> {
        let text = std::fs::read_to_string(path)?;
        Ok(Arc::new(SourceFile {
            path: path.to_path_buf(),
            text,
        }))
    }

    pub fn line(&self, line: usize) -> Option<&str> {
        self.lines().nth(line.checked_sub(1)?)
    }

    /// The lines as YAML counts them (and so the positions of its errors):
    /// `\n`, `\r\n` and a lone `\r` each end one.
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        let mut rest = self.text.as_str();
        std::iter::from_fn(move || {
            if rest.is_empty() {
                return None;
            }
            let end = rest.find(['\n', '\r']).unwrap_or(rest.len());
            let line = &rest[..end];
            let skip = match &rest[end..] {
                r if r.starts_with("\r\n") => 2,
                "" => 0,
                _ => 1,
            };
            rest = &rest[end + skip..];
            Some(line)
        })
    }
}

/// A place in a source file: 1-based line and column (in characters), and the
/// length of the thing to underline.
#[derive(Clone)]
pub struct Loc {
    pub file: Arc<SourceFile>,
    pub line: usize,
    pub column: usize,
    pub len: usize,
}

impl Loc {
    pub fn new(file: &Arc<SourceFile>, line: usize, column: usize, len: usize) -> Loc {
        Loc {
            file: file.clone(),
            line: line.max(1),
            column: column.max(1),
            len: len.max(1),
        }
    }

    /// Where serde-saphyr found a value in `file`, as long as its span.
    pub fn of(file: &Arc<SourceFile>, at: &serde_saphyr::Location) -> Loc {
        Loc::new(
            file,
            at.line() as usize,
            at.column() as usize,
            at.span().len() as usize,
        )
    }

    /// The position `offset` characters further along the same line, `len` long.
    pub fn shifted(&self, offset: usize, len: usize) -> Loc {
        Loc {
            column: self.column.saturating_add(offset),
            len: len.max(1),
            ..self.clone()
        }
    }
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}",
            self.file.path.display(),
            self.line,
            self.column
        )
    }
}

impl fmt::Debug for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// An error (or failure) tied to a place in a scenario file.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub message: String,
    pub loc: Option<Loc>,
    /// Text printed next to the underline.
    pub label: String,
    /// `= note: ...` lines after the snippet.
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn new(message: impl Into<String>, loc: Option<Loc>) -> Diagnostic {
        Diagnostic {
            message: message.into(),
            loc,
            label: String::new(),
            notes: Vec::new(),
        }
    }

    pub fn at(loc: &Loc, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(message, Some(loc.clone()))
    }

    pub fn label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = label.into();
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// Renders with the given first word (`error`, `failure`).
    pub fn render(&self, kind: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{kind}: {}", self.message);
        let gutter = self
            .loc
            .as_ref()
            .map(|l| l.line.to_string().len())
            .unwrap_or(1);
        let pad = " ".repeat(gutter);
        if let Some(loc) = &self.loc {
            let _ = writeln!(out, "{pad}--> {loc}");
            if let Some(source) = loc.file.line(loc.line) {
                let _ = writeln!(out, "{pad} |");
                let _ = writeln!(out, "{} | {}", loc.line, source);
                // A `Loc` written by hand may say column 0: the first column.
                let before = loc.column.saturating_sub(1);
                let indent: String = source
                    .chars()
                    .take(before)
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                let available = source.chars().count().saturating_sub(before);
                let carets = "^".repeat(loc.len.clamp(1, available.max(1)));
                let label = if self.label.is_empty() {
                    String::new()
                } else {
                    format!(" {}", self.label)
                };
                let _ = writeln!(out, "{pad} | {indent}{carets}{label}");
            }
        }
        if !self.notes.is_empty() {
            let _ = writeln!(out, "{pad} |");
            for note in &self.notes {
                let mut lines = note.lines();
                if let Some(first) = lines.next() {
                    let _ = writeln!(out, "{pad} = {first}");
                }
                for rest in lines {
                    let _ = writeln!(out, "{pad}   {rest}");
                }
            }
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render("error"))
    }
}

impl std::error::Error for Diagnostic {}

/// Every problem found in a set of scenario files, reported together.
#[derive(Debug, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            f.write_str(&d.render("error"))?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `diagnostic` fuzz target: a position made by hand with
    /// column 0 (its fields are public) overflowed `column - 1`, and one of
    /// length 0 had no underline.
    #[test]
    fn fuzz_diagnostic_zero_column_and_length_underline_the_first_character() {
        let file = Arc::new(SourceFile {
            path: "d.yaml".into(),
            text: "name: é\n".into(),
        });
        let loc = Loc {
            file,
            line: 1,
            column: 0,
            len: 0,
        };
        let out = Diagnostic::at(&loc, "m").render("error");
        assert!(out.contains("1 | name: é\n  | ^\n"), "{out}");
    }

    /// Found by the `diagnostic` fuzz target: shifting a position at column
    /// `usize::MAX` overflowed.
    #[test]
    fn fuzz_diagnostic_shifting_a_huge_column_saturates() {
        let file = Arc::new(SourceFile {
            path: "d.yaml".into(),
            text: "a: b\n".into(),
        });
        let loc = Loc::new(&file, 1, usize::MAX, 1).shifted(3, 2);
        assert_eq!((loc.column, loc.len), (usize::MAX, 2));
        let out = Diagnostic::at(&loc, "m").render("error");
        assert!(out.contains("1 | a: b\n  |     ^\n"), "{out}");
    }

    /// Found by the `expect` fuzz target: YAML ends a line at a lone `\r`,
    /// `str::lines` does not, so an error after one quoted another line
    /// (or none).
    #[test]
    fn fuzz_diagnostic_a_lone_carriage_return_ends_a_line() {
        let file = SourceFile {
            path: "d.yaml".into(),
            text: "a: 1\rb: 2\r\nc: 3\n\nd".into(),
        };
        let lines: Vec<&str> = file.lines().collect();
        assert_eq!(lines, ["a: 1", "b: 2", "c: 3", "", "d"]);
        assert_eq!(file.line(2), Some("b: 2"));
        let path = std::path::Path::new("scenarios/x.yaml");
        let text = b"name: x\ragents: {}\rsteps: [\r";
        let set = std::collections::BTreeSet::new();
        let e = crate::scenario::load::load_bytes(path, text, "x".into(), &set).unwrap_err();
        let loc = e.0[0].loc.as_ref().unwrap();
        assert!(
            loc.line > 1 && loc.file.line(loc.line).is_some(),
            "{}",
            e.0[0]
        );
    }
}
