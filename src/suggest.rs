//! "did you mean ...?": the closest of the known words to a misspelt one.

/// The candidate closest to `word` by edit distance (a swap of two
/// neighbouring letters counts as one edit), if it is close enough to be
/// what was meant.
pub fn closest<'a, S: AsRef<str>>(word: &str, candidates: &'a [S]) -> Option<&'a str> {
    let word_lower = word.to_ascii_lowercase();
    let (best, distance) = candidates
        .iter()
        .map(|c| c.as_ref())
        .filter(|c| *c != word)
        .map(|c| (c, distance(&word_lower, &c.to_ascii_lowercase())))
        .min_by_key(|(_, d)| *d)?;
    let allowed = (word.chars().count().min(best.chars().count()) / 3).max(1);
    (distance <= allowed).then_some(best)
}

/// `help: did you mean `body`?`, when a candidate is close.
pub fn did_you_mean<S: AsRef<str>>(word: &str, candidates: &[S]) -> Option<String> {
    closest(word, candidates).map(|c| format!("help: did you mean `{c}`?"))
}

/// Optimal string alignment distance.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_words_are_suggested_and_far_ones_not() {
        let ops = ["equals", "length", "matches", "one_of"];
        assert_eq!(closest("lenght", &ops), Some("length"));
        assert_eq!(closest("equal", &ops), Some("equals"));
        assert_eq!(closest("oneof", &ops), Some("one_of"));
        assert_eq!(closest("frobnicate", &ops), None);
        assert_eq!(closest("bodyy", &["body", "query"]), Some("body"));
        assert_eq!(closest("bdy", &["body", "query"]), Some("body"));
        assert_eq!(closest("x", &["body"]), None);
        assert_eq!(closest("body", &["body"]), None);
    }
}
