//! File names made from case names and roles, for the folders and files
//! reports write.

/// A file name from a case name or role: `::` becomes `__`, anything but
/// ASCII letters, digits, `.`, `-` and `_` becomes `_`, so names with `/`
/// cannot escape `dir`, and a leading `.` is replaced so nothing is hidden
/// (or `..`).
pub fn sanitize(name: &str) -> String {
    let mut out: String = name
        .replace("::", "__")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with('.') {
        out.insert(0, '_');
    }
    out
}
