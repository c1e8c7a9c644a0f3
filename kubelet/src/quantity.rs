//! Resource quantities ("100m", "64Mi", "1.5", "2G", "1e3") as numbers in base units.

/// The value of a quantity in base units (cores for cpu, bytes for memory); None if malformed.
pub fn parse(q: &str) -> Option<f64> {
    let q = q.trim();
    let split = q.find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E').unwrap_or(q.len());
    let (num, suffix) = q.split_at(split);
    let (num, suffix) = match (suffix, num.find(['e', 'E'])) {
        ("", Some(_)) => (num, ""),
        _ => (num, suffix),
    };
    let n: f64 = num.parse().ok()?;
    let m = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        _ => return None,
    };
    Some(n * m)
}

/// Millicores of a cpu quantity, rounded up as Kubernetes' MilliValue does.
pub fn milli_cpu(q: &str) -> Option<i64> {
    parse(q).map(|v| (v * 1000.0 - 1e-9).ceil() as i64)
}

/// Bytes of a memory quantity, rounded up.
pub fn bytes(q: &str) -> Option<i64> {
    parse(q).map(|v| (v - 1e-9).ceil() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millicores_and_binary_suffixes_parse() {
        assert_eq!(milli_cpu("100m"), Some(100));
        assert_eq!(milli_cpu("1.5"), Some(1500));
        assert_eq!(milli_cpu("2"), Some(2000));
        assert_eq!(bytes("64Mi"), Some(64 * 1024 * 1024));
        assert_eq!(bytes("1G"), Some(1_000_000_000));
        assert_eq!(bytes("1e3"), Some(1000));
        assert_eq!(parse("12x"), None);
    }
}
