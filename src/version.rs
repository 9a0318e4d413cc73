//! ACA-Py versions, as PyPI spells and orders them (PEP 440): the one
//! version type of the harness, used to choose what to install, to judge
//! `requires`, `xfail` and `when`, to sort the matrix and to show versions.
//!
//! A pre-release orders before its release (`1.4.0a1 < 1.4.0b1 < 1.4.0rc1 <
//! 1.4.0`) and is never rounded to it: `>=1.4` does not admit `1.4.0rc1`
//! (write `>=1.4.0rc1` for that), and `<1.4` admits it.

use std::cmp::Ordering;
use std::fmt;

/// `1.3.6`, or a pre-release: `1.4.0rc1`, `1.0.0b2`, `1.1.0a1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pub pre: Option<PreRelease>,
}

/// `rc1`: a phase and its number.
pub type PreRelease = (PreKind, u64);

/// The pre-release phases PEP 440 knows, in their order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PreKind {
    Alpha,
    Beta,
    Rc,
}

impl PreKind {
    fn spelling(self) -> &'static str {
        match self {
            PreKind::Alpha => "a",
            PreKind::Beta => "b",
            PreKind::Rc => "rc",
        }
    }
}

/// Why a text is not a version or a range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    #[error("`{0}` is not a version like 1.3.6 or 1.4.0rc1")]
    NotAVersion(String),
    #[error("`{0}` is not a comparison like >=1.3, <1.5 or ^1.3")]
    NotAComparison(String),
    #[error("an empty range")]
    Empty,
}

impl Version {
    pub const fn new(major: u64, minor: u64, patch: u64) -> Version {
        Version {
            major,
            minor,
            patch,
            pre: None,
        }
    }

    /// `X.Y.Z` with an optional pre-release, in PEP 440's spellings (`rc1`,
    /// `.rc1`, `-rc1`, `rc.1`, `c1`, `a1`, `alpha1`, `b1`, `beta1`; `rc` and
    /// `c` are the same, a missing number is 0) or semver's (`-rc.1`), with
    /// an optional leading `v`. Dev, post and local versions are not ACA-Py
    /// releases: refused.
    pub fn parse(text: &str) -> Result<Version, VersionError> {
        let not = || VersionError::NotAVersion(text.to_owned());
        let (numbers, pre) = split_release(text.trim()).ok_or_else(not)?;
        let [major, minor, patch] = numbers[..] else {
            return Err(not());
        };
        Ok(Version {
            major,
            minor,
            patch,
            pre,
        })
    }

    /// The `(major, minor)` line: `1.3` for `1.3.6`.
    pub fn line(&self) -> (u64, u64) {
        (self.major, self.minor)
    }

    pub fn is_pre_release(&self) -> bool {
        self.pre.is_some()
    }

    /// The earliest version of release `X.Y.Z`: its first possible alpha.
    fn earliest(major: u64, minor: u64, patch: u64) -> Version {
        Version {
            major,
            minor,
            patch,
            pre: Some((PreKind::Alpha, 0)),
        }
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Version) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            // A release comes after all of its pre-releases.
            .then_with(|| match (&self.pre, &other.pre) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(a), Some(b)) => a.cmp(b),
            })
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Version) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// In the PEP 440 spelling: `1.3.6`, `1.4.0rc1`.
impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if let Some((kind, n)) = self.pre {
            write!(f, "{}{n}", kind.spelling())?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Version {
    type Err = VersionError;

    fn from_str(text: &str) -> Result<Version, VersionError> {
        Version::parse(text)
    }
}

/// The numbers of a release (one to three of them) and its pre-release.
fn split_release(text: &str) -> Option<(Vec<u64>, Option<PreRelease>)> {
    let text = text.strip_prefix('v').unwrap_or(text).to_ascii_lowercase();
    let release_len = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (release, rest) = text.split_at(release_len);
    let release = release.strip_suffix('.').unwrap_or(release);
    let numbers: Vec<u64> = release
        .split('.')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    if numbers.is_empty() || numbers.len() > 3 {
        return None;
    }
    let rest = rest.trim_start_matches(['-', '.', '_']);
    if rest.is_empty() {
        return Some((numbers, None));
    }
    let digits = rest
        .find(|c: char| c.is_ascii_digit())
        .unwrap_or(rest.len());
    let (tag, number) = rest.split_at(digits);
    let kind = match tag.trim_end_matches(['-', '.', '_']) {
        "a" | "alpha" => PreKind::Alpha,
        "b" | "beta" => PreKind::Beta,
        "rc" | "c" | "pre" | "preview" => PreKind::Rc,
        _ => return None,
    };
    let number = match number {
        "" => 0,
        n => n.parse().ok()?,
    };
    Some((numbers, Some((kind, number))))
}

/// A range: comparisons that must all hold, `||` between alternatives:
/// `>=1.3.3, <1.4 || >=1.5.1`.
///
/// Comparisons are `>=`, `>`, `<=`, `<`, `=` (or a bare version) and `!=`,
/// against a version of one to three numbers (missing ones are 0:
/// `<1.4` is `<1.4.0`); `^1.3` (the same major, or for `0.x` the same
/// minor), `~1.3.2` (the same minor) and `1.3.*` cover a line. Ranges that
/// cover a line stop before the next line's pre-releases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionReq {
    any_of: Vec<Vec<Comparison>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Comparison {
    op: Op,
    version: Version,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Ge,
    Gt,
    Le,
    Lt,
    Eq,
    Ne,
}

impl VersionReq {
    pub fn parse(text: &str) -> Result<VersionReq, VersionError> {
        let any_of = text
            .split("||")
            .map(|alternative| {
                let mut all = Vec::new();
                for part in alternative.split(',').map(str::trim) {
                    if part.is_empty() {
                        return Err(VersionError::Empty);
                    }
                    all.extend(comparisons(part)?);
                }
                Ok(all)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(VersionReq { any_of })
    }

    pub fn matches(&self, version: &Version) -> bool {
        self.any_of
            .iter()
            .any(|all| all.iter().all(|c| c.holds(version)))
    }
}

impl Comparison {
    fn holds(&self, v: &Version) -> bool {
        let order = v.cmp(&self.version);
        match self.op {
            Op::Ge => order != Ordering::Less,
            Op::Gt => order == Ordering::Greater,
            Op::Le => order != Ordering::Greater,
            Op::Lt => order == Ordering::Less,
            Op::Eq => order == Ordering::Equal,
            Op::Ne => order != Ordering::Equal,
        }
    }
}

/// One comparison as written, as the plain comparisons it means.
fn comparisons(text: &str) -> Result<Vec<Comparison>, VersionError> {
    let not = || VersionError::NotAComparison(text.to_owned());
    let (op, rest) = [
        (">=", "ge"),
        ("<=", "le"),
        ("!=", "ne"),
        ("==", "eq"),
        (">", "gt"),
        ("<", "lt"),
        ("=", "eq"),
        ("^", "caret"),
        ("~=", "tilde"),
        ("~", "tilde"),
    ]
    .iter()
    .find_map(|(prefix, op)| text.strip_prefix(prefix).map(|rest| (*op, rest.trim())))
    .unwrap_or(("eq", text));
    let comparison = |op, version| Comparison { op, version };
    // `1.3.*` / `1.3.x`: the whole line.
    if let Some(line) = rest
        .strip_suffix(".*")
        .or_else(|| rest.strip_suffix(".x"))
        .filter(|_| op == "eq")
    {
        let (numbers, None) = split_release(line).ok_or_else(not)? else {
            return Err(not());
        };
        return Ok(match numbers[..] {
            [major] => line_range((major, 0, 0), next_major(major)),
            [major, minor] => line_range((major, minor, 0), next_minor(major, minor)),
            _ => return Err(not()),
        });
    }
    let (numbers, pre) = split_release(rest).ok_or_else(not)?;
    let padded = |n: &[u64]| {
        let mut v = Version::new(n[0], *n.get(1).unwrap_or(&0), *n.get(2).unwrap_or(&0));
        v.pre = pre;
        v
    };
    let version = padded(&numbers);
    Ok(match op {
        "ge" => vec![comparison(Op::Ge, version)],
        "gt" => vec![comparison(Op::Gt, version)],
        "le" => vec![comparison(Op::Le, version)],
        "lt" => vec![comparison(Op::Lt, version)],
        "ne" => vec![comparison(Op::Ne, version)],
        "eq" => vec![comparison(Op::Eq, version)],
        "caret" => {
            let (major, minor) = (version.major, version.minor);
            let end = match (major, numbers.len()) {
                (0, 1) => Some((1, 0, 0)),
                (0, _) => next_minor(0, minor),
                _ => next_major(major),
            };
            from_until(version, end)
        }
        _ => {
            // `~1.3.2`, `~=1.3.2`: the 1.3 line from 1.3.2; `~1`: the 1 line.
            let end = match numbers.len() {
                1 => next_major(version.major),
                _ => next_minor(version.major, version.minor),
            };
            from_until(version, end)
        }
    })
}

/// The line after `major`, if a number can say it.
fn next_major(major: u64) -> Option<(u64, u64, u64)> {
    major.checked_add(1).map(|m| (m, 0, 0))
}

/// The line after `major.minor`; after `X.{u64::MAX}` comes `X+1.0`.
fn next_minor(major: u64, minor: u64) -> Option<(u64, u64, u64)> {
    match minor.checked_add(1) {
        Some(m) => Some((major, m, 0)),
        None => next_major(major),
    }
}

/// From `version` to just before `end`'s pre-releases; without an `end`
/// (the line after `u64::MAX` cannot be written), with no upper bound.
fn from_until(version: Version, end: Option<(u64, u64, u64)>) -> Vec<Comparison> {
    let mut all = vec![Comparison {
        op: Op::Ge,
        version,
    }];
    all.extend(end.map(|end| Comparison {
        op: Op::Lt,
        version: Version::earliest(end.0, end.1, end.2),
    }));
    all
}

/// From the first version of `start` to just before `end`'s pre-releases.
fn line_range(start: (u64, u64, u64), end: Option<(u64, u64, u64)>) -> Vec<Comparison> {
    from_until(Version::earliest(start.0, start.1, start.2), end)
}

/// Orders names that end with a version (`process::1.3.6`,
/// `docker::1.10.0`) by that version, then by the whole name; names without
/// a version come last.
pub fn compare_labels(a: &str, b: &str) -> Ordering {
    let key = |label: &str| Version::parse(label.rsplit("::").next().unwrap_or(label)).ok();
    match (key(a), key(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
    .then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Version {
        Version::parse(text).unwrap()
    }

    fn req(text: &str) -> VersionReq {
        VersionReq::parse(text).unwrap()
    }

    #[test]
    fn versions_order_as_pep_440_does() {
        let order = [
            "0.12.8",
            "1.3.6",
            "1.4.0a1",
            "1.4.0b1",
            "1.4.0rc1",
            "1.4.0rc2",
            "1.4.0rc10",
            "1.4.0",
            "1.10.0",
        ];
        let versions: Vec<Version> = order.iter().map(|t| v(t)).collect();
        let mut sorted = versions.clone();
        sorted.reverse();
        sorted.sort();
        assert_eq!(sorted, versions);
    }

    #[test]
    fn spellings_of_a_pre_release_are_one_version_shown_one_way() {
        for same in [
            "1.4.0rc1",
            "1.4.0-rc1",
            "1.4.0.rc1",
            "1.4.0-rc.1",
            "1.4.0RC1",
            "1.4.0c1",
            "v1.4.0rc1",
        ] {
            assert_eq!(v(same), v("1.4.0rc1"), "{same}");
            assert_eq!(v(same).to_string(), "1.4.0rc1");
        }
        assert_eq!(v("1.6.2rc").to_string(), "1.6.2rc0");
        assert_eq!(v("1.0.0beta2").to_string(), "1.0.0b2");
        for bad in [
            "latest",
            "1.3",
            "1.3.6.1",
            "1.4.0.dev1",
            "1.4.0.post1",
            "1.4.0rcx",
            "1.4.0+local",
            "",
        ] {
            assert!(Version::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ranges_judge_pre_releases_by_their_order() {
        let gaps = req(">=1.3.3, <1.4 || >=1.5.1");
        assert!(gaps.matches(&v("1.3.6")));
        assert!(!gaps.matches(&v("1.4.0")));
        assert!(!gaps.matches(&v("1.5.0")));
        assert!(gaps.matches(&v("1.7.0")));
        assert!(!gaps.matches(&v("0.12.8")));
        // A pre-release is before its release, in ranges as in sorting.
        assert!(!req(">=1.4").matches(&v("1.4.0rc1")));
        assert!(req("<1.4").matches(&v("1.4.0rc1")));
        assert!(req(">=1.4.0rc1").matches(&v("1.4.0rc2")));
        assert!(req("<=1.7.0").matches(&v("1.7.0")));
        assert!(!req("<=1.7.0").matches(&v("1.7.1rc1")));
        assert!(req("=1.3.6").matches(&v("1.3.6")) && req("1.3.6").matches(&v("1.3.6")));
        assert!(req("!=1.4.0").matches(&v("1.4.0rc1")));
    }

    #[test]
    fn lines_stop_before_the_next_lines_pre_releases() {
        for line in ["~1.3.0", "1.3.*", "1.3.x"] {
            let r = req(line);
            assert!(r.matches(&v("1.3.0")), "{line}");
            assert!(r.matches(&v("1.3.6")), "{line}");
            assert!(!r.matches(&v("1.4.0rc1")), "{line}");
        }
        assert!(req("^1.3").matches(&v("1.7.0")));
        assert!(!req("^1.3").matches(&v("2.0.0rc1")));
        assert!(!req("^0.12").matches(&v("0.13.0")));
        assert!(req("^0.12").matches(&v("0.12.8")));
        assert!(!req("~1.3.2").matches(&v("1.3.1")));
    }

    /// Found by the `version` fuzz target: `^v18446744073709551615-rc.1`
    /// overflowed computing the next line (a panic in a debug build, a
    /// range that admits nothing in a release one).
    #[test]
    fn fuzz_version_lines_of_u64_max_do_not_overflow() {
        let max = u64::MAX;
        for (range, version) in [
            (format!("^{max}.0.0"), format!("{max}.0.0")),
            (format!("^0.{max}"), format!("0.{max}.3")),
            (format!("~{max}"), format!("{max}.5.0")),
            (format!("~=1.{max}.2"), format!("1.{max}.7")),
            (format!("{max}.*"), format!("{max}.1.1")),
            (format!("1.{max}.x"), format!("1.{max}.0rc1")),
        ] {
            assert!(req(&range).matches(&v(&version)), "{range} {version}");
        }
        assert!(!req(&format!("~1.{max}.2")).matches(&v("2.0.0")));
    }

    #[test]
    fn what_is_not_a_range_says_which_part() {
        assert_eq!(
            VersionReq::parse("not a range"),
            Err(VersionError::NotAComparison("not a range".into()))
        );
        assert_eq!(VersionReq::parse(">=1.3,"), Err(VersionError::Empty));
    }

    #[test]
    fn labels_order_by_their_version() {
        let mut labels = vec![
            "external",
            "process::1.10.0",
            "process::1.4.0",
            "process::1.4.0rc1",
            "docker::1.3.6",
        ];
        labels.sort_by(|a, b| compare_labels(a, b));
        assert_eq!(
            labels,
            [
                "docker::1.3.6",
                "process::1.4.0rc1",
                "process::1.4.0",
                "process::1.10.0",
                "external"
            ]
        );
    }
}
