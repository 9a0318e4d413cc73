//! Differences between a document and its agent's real answers that are
//! known (reported upstream), so a run can tell them from new ones; and
//! the key that counts each violation once in a summary.
//!
//! In a suite file:
//!
//! ```yaml
//! contract:
//!   known:
//!     - operation: GET /ledger/config
//!       pointer: /production_ledgers
//!       reason: answers production_ledgers, documents ledger_config_list
//!       link: https://github.com/openwallet-foundation/acapy/issues/3614
//!     - operation: /schemas/*        # any method
//!       schema_path: "#/definitions/SchemaGetResult/**"
//!       versions: "<1.0"
//!       reason: ...
//! ```
//!
//! Globs: `*` is any text within one segment (between `/`), `**` any number
//! of whole segments. `operation` is `METHOD TEMPLATE` or a template alone
//! (any method), matched against the document's template
//! (`/connections/{conn_id}`), or against the path a concrete request
//! would have when written as one (`/connections/*`).

use super::document::OperationId;
use super::validate::{Side, Violation};
use serde::{Deserialize, Serialize};

/// One declared known difference. Every field given must match; a field
/// left out matches anything.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KnownDrift {
    /// `GET /ledger/config`, `/schemas/{schema_id}`, `POST /issue-credential-2.0/**`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// Glob on the violation's pointer in the body: `/results/*/state`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// Glob on the rule's place in the document:
    /// `#/definitions/ConnRecord/properties/state/enum`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_path: Option<String>,
    /// `type`, `required`, `additionalProperties`, ...; `status` for an
    /// answer whose status the document does not describe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyword: Option<String>,
    /// With `keyword: status`, the one undocumented status meant (else any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// `request` or `response`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side: Option<Side>,
    /// A semver range of the versions that have it: `>=0.12, <1.4`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versions: Option<String>,
    /// Why it is known: shown beside the violation.
    pub reason: String,
    /// Where it was reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

impl KnownDrift {
    /// Whether `violation`, found on an agent of `version`, is this one.
    /// A `versions` range that does not parse, or a version that is not
    /// one, matches nothing: better a reported violation than a hidden one.
    pub fn matches(&self, version: &str, violation: &Violation) -> bool {
        if !self.covers_version(version) || self.status.is_some() {
            return false;
        }
        let operation_matches = self
            .operation
            .as_deref()
            .is_none_or(|pattern| operation_matches(pattern, &violation.operation));
        operation_matches
            && self.side.is_none_or(|s| s == violation.side)
            && self
                .keyword
                .as_deref()
                .is_none_or(|k| k == violation.keyword)
            && self
                .pointer
                .as_deref()
                .is_none_or(|p| glob(p, &violation.pointer))
            && self
                .schema_path
                .as_deref()
                .is_none_or(|p| glob(p, &violation.schema_path))
    }

    /// Whether an answer of `status`, which the document of `operation`
    /// does not describe, is this entry: only entries that say
    /// `keyword: status` cover one, so a broad entry hides no status.
    pub fn matches_status(&self, version: &str, operation: &OperationId, status: u16) -> bool {
        self.covers_version(version)
            && self.keyword.as_deref() == Some("status")
            && self.status.is_none_or(|s| s == status)
            && self.pointer.is_none()
            && self.schema_path.is_none()
            && self.side.is_none_or(|s| s == Side::Response)
            && self
                .operation
                .as_deref()
                .is_none_or(|pattern| operation_matches(pattern, operation))
    }

    fn covers_version(&self, version: &str) -> bool {
        let Some(range) = &self.versions else {
            return true;
        };
        let (Ok(range), Ok(version)) = (
            crate::version::VersionReq::parse(range),
            crate::version::Version::parse(version),
        ) else {
            return false;
        };
        range.matches(&version)
    }

    /// The first entry of `known` that an undocumented `status` is.
    pub fn find_status<'a>(
        known: &'a [KnownDrift],
        version: &str,
        operation: &OperationId,
        status: u16,
    ) -> Option<&'a KnownDrift> {
        known
            .iter()
            .find(|k| k.matches_status(version, operation, status))
    }

    /// The reason, with the link where it was reported.
    pub fn described(&self) -> String {
        match &self.link {
            Some(link) => format!("{} ({link})", self.reason),
            None => self.reason.clone(),
        }
    }

    /// The first entry of `known` that `violation` is.
    pub fn find<'a>(
        known: &'a [KnownDrift],
        version: &str,
        violation: &Violation,
    ) -> Option<&'a KnownDrift> {
        known.iter().find(|k| k.matches(version, violation))
    }
}

fn operation_matches(pattern: &str, operation: &OperationId) -> bool {
    let pattern = pattern.trim();
    let (method, path) = match pattern.split_once(' ') {
        Some((method, path)) => (Some(method), path.trim()),
        None => (None, pattern),
    };
    method.is_none_or(|m| m.eq_ignore_ascii_case(&operation.method) || m == "*")
        && (glob(path, &operation.path) || glob(path, &as_concrete(&operation.path)))
}

/// `/connections/{conn_id}` as `/connections/*`, so a pattern written with
/// `*` for the parameter matches the template too.
fn as_concrete(template: &str) -> String {
    template
        .split('/')
        .map(|s| {
            if s.starts_with('{') && s.ends_with('}') {
                "*"
            } else {
                s
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// `*` within a segment, `**` across whole segments.
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    let pattern: Vec<&str> = pattern.split('/').collect();
    let text: Vec<&str> = text.split('/').collect();
    segments_match(&pattern, &text)
}

fn segments_match(pattern: &[&str], text: &[&str]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((&"**", rest)) => (0..=text.len()).any(|skip| segments_match(rest, &text[skip..])),
        Some((first, rest)) => match text.split_first() {
            Some((segment, others)) => {
                segment_match(first.as_bytes(), segment.as_bytes()) && segments_match(rest, others)
            }
            None => false,
        },
    }
}

fn segment_match(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|skip| segment_match(rest, &text[skip..])),
        Some((c, rest)) => text
            .split_first()
            .is_some_and(|(t, others)| t == c && segment_match(rest, others)),
    }
}

/// What makes two violations the same for a summary: the same rule of the
/// same operation, broken on the same side, on the same version. The
/// pointer is not in it (`/results/0/state` and `/results/7/state` are one
/// finding); the property is, for `required` and `additionalProperties`,
/// whose rule is one keyword for every property it names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct DedupKey {
    pub version: String,
    pub side: Side,
    pub operation: OperationId,
    pub schema_path: String,
    /// The property missing or extra; empty for other keywords.
    pub property: String,
}

impl Violation {
    pub fn dedup_key(&self, version: &str) -> DedupKey {
        let property = match self.keyword.as_str() {
            "required" | "additionalProperties" => self
                .pointer
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .replace("~1", "/")
                .replace("~0", "~"),
            _ => String::new(),
        };
        DedupKey {
            version: version.strip_prefix('v').unwrap_or(version).to_owned(),
            side: self.side,
            operation: self.operation.clone(),
            schema_path: self.schema_path.clone(),
            property,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_within_and_across_segments() {
        assert!(glob("/results/*/state", "/results/12/state"));
        assert!(!glob("/results/*/state", "/results/1/2/state"));
        assert!(glob("/results/**/state", "/results/1/2/state"));
        assert!(glob(
            "#/definitions/ConnRecord/**",
            "#/definitions/ConnRecord/properties/state/enum"
        ));
        assert!(glob("/conn*", "/connections"));
        assert!(!glob("/conn*", "/connections/x"));
        assert!(glob("**", ""));
    }

    fn entry(yaml: &str) -> KnownDrift {
        serde_saphyr::from_str(yaml).unwrap()
    }

    #[test]
    fn only_status_entries_cover_an_undocumented_status() {
        let store = OperationId {
            method: "POST".into(),
            path: "/vc/credentials/store".into(),
        };
        let by_status = entry(
            "{operation: POST /vc/credentials/store, keyword: status, status: 200, versions: '<1.0', reason: r}",
        );
        assert!(by_status.matches_status("0.12.8", &store, 200));
        assert!(!by_status.matches_status("0.12.8", &store, 500));
        assert!(!by_status.matches_status("1.3.6", &store, 200));
        let broad = entry("{operation: /vc/**, reason: r}");
        assert!(!broad.matches_status("0.12.8", &store, 200));
        let other = OperationId {
            method: "POST".into(),
            path: "/vc/credentials/verify".into(),
        };
        assert!(!by_status.matches_status("0.12.8", &other, 200));
    }
}
