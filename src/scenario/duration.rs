//! Durations as scenario files write them: `250ms`, `30s`, `1.5s`, `2m`.

use std::time::Duration;

/// `250ms`, `30s`, `1.5s`, `2m`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (number, unit) = text.split_at(text.find(|c: char| c.is_ascii_alphabetic())?);
    let n: f64 = number
        .trim()
        .parse()
        .ok()
        .filter(|n: &f64| *n >= 0.0 && n.is_finite())?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return None,
    };
    // `1e300s` is a finite number but no Duration: refused, not a panic.
    Duration::try_from_secs_f64(secs).ok()
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("30"), None);
        assert_eq!(parse_duration("30 seconds"), None);
        assert_eq!(parse_duration("-1s"), None);
    }

    /// Found by the `validate` fuzz target: `timeout: 99999999999999999999m`
    /// panicked in `Duration::from_secs_f64` while the file loaded.
    #[test]
    fn fuzz_duration_too_long_for_a_duration_is_refused() {
        assert_eq!(parse_duration("99999999999999999999m"), None);
        assert_eq!(parse_duration("18446744073709551616s"), None);
        let long = "1".repeat(400) + "ms";
        assert_eq!(parse_duration(&long), None);
        assert!(parse_duration("18446744073709551ms").is_some());
    }
}
