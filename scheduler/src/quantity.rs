//! Parses resource quantities ("100m", "1.5Gi", "2e3") into integers, rounding up as Kubernetes does.

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

/// The quantity in thousandths, rounded up (`Quantity.MilliValue()`); `None` if it does not parse.
pub fn milli_value(quantity: &Quantity) -> Option<i64> {
    scaled(&quantity.0, 3)
}

/// The quantity as a whole number, rounded up (`Quantity.Value()`); `None` if it does not parse.
pub fn value(quantity: &Quantity) -> Option<i64> {
    scaled(&quantity.0, 0)
}

/// `text` times 10^`scale`, rounded up towards +infinity, saturating at the i64 range.
fn scaled(text: &str, scale: i32) -> Option<i64> {
    let text = text.trim();
    let (negative, rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let number_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
    let (number, suffix) = rest.split_at(number_end);
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let (binary, decimal) = suffix_exponents(suffix)?;
    let digits = format!("{whole}{fraction}");
    let mantissa: i128 = digits.trim_start_matches('0').parse().unwrap_or(0);
    let exponent = decimal + scale - i32::try_from(fraction.len()).ok()?;
    let magnitude = apply_exponents(mantissa, binary, exponent, negative)?;
    let signed = if negative { -magnitude } else { magnitude };
    Some(i64::try_from(signed).unwrap_or(if negative { i64::MIN } else { i64::MAX }))
}

/// The power of two and the power of ten a suffix stands for.
fn suffix_exponents(suffix: &str) -> Option<(u32, i32)> {
    Some(match suffix {
        "" => (0, 0),
        "Ki" => (10, 0),
        "Mi" => (20, 0),
        "Gi" => (30, 0),
        "Ti" => (40, 0),
        "Pi" => (50, 0),
        "Ei" => (60, 0),
        "n" => (0, -9),
        "u" => (0, -6),
        "m" => (0, -3),
        "k" => (0, 3),
        "M" => (0, 6),
        "G" => (0, 9),
        "T" => (0, 12),
        "P" => (0, 15),
        "E" => (0, 18),
        _ => {
            let exponent = suffix.strip_prefix(['e', 'E'])?;
            (0, exponent.parse().ok()?)
        }
    })
}

/// mantissa * 2^binary * 10^decimal, rounded away from zero for positive values (up) and towards
/// zero for negative ones, so the signed result is always rounded up.
fn apply_exponents(mantissa: i128, binary: u32, decimal: i32, negative: bool) -> Option<i128> {
    let big = i128::from(i64::MAX) * 4;
    let mut value = mantissa.checked_shl(binary).unwrap_or(big).min(big);
    if decimal >= 0 {
        for _ in 0..decimal {
            value = value.saturating_mul(10).min(big);
        }
        return Some(value);
    }
    let divisor = 10_i128.checked_pow(decimal.unsigned_abs())?;
    let quotient = value / divisor;
    let exact = value % divisor == 0;
    Some(if exact || negative { quotient } else { quotient + 1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(text: &str) -> Quantity {
        Quantity(text.to_string())
    }

    #[test]
    fn cpu_quantities_convert_to_millicores() {
        assert_eq!(milli_value(&q("100m")), Some(100));
        assert_eq!(milli_value(&q("1")), Some(1000));
        assert_eq!(milli_value(&q("1.5")), Some(1500));
        assert_eq!(milli_value(&q("0.1")), Some(100));
        assert_eq!(milli_value(&q("250u")), Some(1));
    }

    #[test]
    fn memory_quantities_understand_binary_and_decimal_suffixes() {
        assert_eq!(value(&q("1Ki")), Some(1024));
        assert_eq!(value(&q("64Mi")), Some(64 * 1024 * 1024));
        assert_eq!(value(&q("1.5Gi")), Some(1_610_612_736));
        assert_eq!(value(&q("1G")), Some(1_000_000_000));
        assert_eq!(value(&q("2e3")), Some(2000));
        assert_eq!(value(&q("110")), Some(110));
    }

    #[test]
    fn fractions_round_up_like_kubernetes() {
        assert_eq!(value(&q("100m")), Some(1));
        assert_eq!(value(&q("1.1")), Some(2));
        assert_eq!(milli_value(&q("1n")), Some(1));
    }

    #[test]
    fn garbage_does_not_parse() {
        assert_eq!(value(&q("")), None);
        assert_eq!(value(&q("abc")), None);
        assert_eq!(value(&q("1Zi")), None);
    }

    #[test]
    fn huge_values_saturate_instead_of_overflowing() {
        assert_eq!(value(&q("100E")), Some(i64::MAX));
        assert_eq!(value(&q("-5")), Some(-5));
    }
}
