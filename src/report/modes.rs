//! `--agents both`: each case ran on shared agents (sub-wallets of one
//! multitenant agent) and on dedicated ones (`…::dedicated`). A different
//! verdict is a finding of its own: the scenario behaves differently under
//! multitenancy.

use crate::agents::select::DEDICATED_TWIN;
use crate::run::outcome::CaseResult;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One case whose two runs disagree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ModeDifference {
    /// The shared run's name; the dedicated one's ends with `::dedicated`.
    pub case: String,
    /// Each run's status word, and the reason it gives.
    pub shared: String,
    pub dedicated: String,
}

impl ModeDifference {
    /// `two-tenants::process::1.3.6: shared xfail (…), dedicated pass`.
    pub fn line(&self) -> String {
        format!(
            "{}: shared {}, dedicated {}",
            self.case, self.shared, self.dedicated
        )
    }
}

/// The pairs of runs with different verdicts, in name order.
pub fn differences(results: &[CaseResult]) -> Vec<ModeDifference> {
    let suffix = format!("::{DEDICATED_TWIN}");
    let verdict = |r: &CaseResult| match r.status.reason() {
        Some(reason) => format!("{} ({reason})", r.status.word()),
        None => r.status.word().to_owned(),
    };
    let mut found: Vec<ModeDifference> = results
        .iter()
        .filter_map(|dedicated| {
            let shared_name = dedicated.name.strip_suffix(&suffix)?;
            let shared = results.iter().find(|r| r.name == shared_name)?;
            (shared.status.word() != dedicated.status.word()).then(|| ModeDifference {
                case: shared.name.clone(),
                shared: verdict(shared),
                dedicated: verdict(dedicated),
            })
        })
        .collect();
    found.sort_by(|a, b| a.case.cmp(&b.case));
    found
}

/// A section for the console (and text reports), empty when none differ.
pub fn render(differences: &[ModeDifference]) -> String {
    if differences.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "behaves differently under multitenancy (shared agents) than on agents of its own:\n",
    );
    for d in differences {
        out.push_str(&format!("  {}\n", d.line()));
    }
    out
}
