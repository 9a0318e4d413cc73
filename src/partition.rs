//! `--partition K/N`: one of N disjoint parts of a run's cases, for
//! spreading a suite over CI jobs.
//!
//! A case belongs to part `1 + FNV-1a(scenario id) mod N`. The split
//! depends only on the scenario's id, so it is the same on every machine and
//! every run, a scenario's cases (one per version or provider) stay in the
//! same part, and adding or removing a scenario never moves another. The
//! price is balance: parts hold about, not exactly, the same number of
//! scenarios.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// 1-based: `1..=count`.
    pub index: u32,
    pub count: u32,
}

impl Partition {
    /// Whether the cases of scenario `scenario_id` belong to this part.
    pub fn contains(&self, scenario_id: &str) -> bool {
        fnv1a(scenario_id.as_bytes()) % u64::from(self.count) == u64::from(self.index - 1)
    }
}

impl FromStr for Partition {
    type Err = String;

    fn from_str(text: &str) -> Result<Partition, String> {
        let bad = || format!("`{text}` is not a partition like 2/3 (part 2 of 3)");
        let (k, n) = text.trim().split_once('/').ok_or_else(bad)?;
        let index: u32 = k.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index == 0 || index > count {
            return Err(format!(
                "`{text}`: the part must be between 1 and the number of parts"
            ));
        }
        Ok(Partition { index, count })
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// 64-bit FNV-1a: tiny, and fixed forever (unlike std's hasher).
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_k_of_n() {
        assert_eq!(
            "2/3".parse::<Partition>(),
            Ok(Partition { index: 2, count: 3 })
        );
        for bad in ["0/3", "4/3", "1/0", "x", "1-3", "/3", ""] {
            assert!(bad.parse::<Partition>().is_err(), "{bad}");
        }
    }

    #[test]
    fn every_id_is_in_exactly_one_part_and_the_split_is_fixed() {
        let ids: Vec<String> = (0..200).map(|i| format!("dir/scenario-{i}")).collect();
        for count in 1..=5 {
            for id in &ids {
                let parts = (1..=count)
                    .filter(|&index| Partition { index, count }.contains(id))
                    .count();
                assert_eq!(parts, 1, "{id} in {parts} parts of {count}");
            }
        }
        // The known FNV-1a value: the split never changes between releases.
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
