//! `resource.Quantity` (k8s.io/apimachinery/pkg/api/resource): parsing, the canonical string
//! Kubernetes prints (`0.5` is `500m`, `1024Mi` is `1Gi`) and exact comparison.

use std::cmp::Ordering;
use std::fmt;

/// Why a string is not a quantity, worded as apimachinery words it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    #[error("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")]
    Format,
    #[error("unable to parse quantity's suffix")]
    Suffix,
    #[error("unable to parse numeric part of quantity")]
    Numeric,
}

/// How a quantity prints: the suffix family it was written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    DecimalSI,
    BinarySI,
    DecimalExponent,
}

/// An exact quantity: `unscaled * 10^scale`, rounded up to nano precision as Kubernetes does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quantity {
    negative: bool,
    unscaled: u128,
    scale: i32,
    format: Format,
}

/// The numeric parts of a quantity string: sign, integer digits, fraction digits, suffix.
struct Parts<'a> {
    negative: bool,
    num: &'a str,
    denom: &'a str,
    suffix: &'a str,
}

/// Parses a quantity as `resource.ParseQuantity` does.
pub fn parse(s: &str) -> Result<Quantity, QuantityError> {
    if s.is_empty() {
        return Err(QuantityError::Format);
    }
    let parts = split(s)?;
    let (base, exponent, format) = interpret(parts.suffix).ok_or(QuantityError::Suffix)?;
    let digits = format!("{}{}", parts.num, parts.denom);
    let mut unscaled: u128 = digits.parse().map_err(|_| QuantityError::Numeric)?;
    let mut scale = -(parts.denom.len() as i32);
    if base == 10 {
        scale += exponent;
    } else {
        let factor = 1u128.checked_shl(exponent as u32).ok_or(QuantityError::Numeric)?;
        unscaled = unscaled.checked_mul(factor).ok_or(QuantityError::Numeric)?;
    }
    let (unscaled, scale) = round_up_to_nano(unscaled, scale);
    let mut q = Quantity { negative: parts.negative && unscaled != 0, unscaled, scale, format };
    // Binary quantities below one print in decimal ("avoids rounding and confusion").
    if q.format == Format::BinarySI && q.cmp_magnitude_to_int(1) == Ordering::Less {
        q.format = Format::DecimalSI;
    }
    Ok(q)
}

/// parseQuantityString: `[+-]digits[.digits]suffix`, leading zeros stripped.
fn split(s: &str) -> Result<Parts<'_>, QuantityError> {
    let (negative, rest) = match s.as_bytes()[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let rest = rest.trim_start_matches('0');
    let num_len = rest.bytes().take_while(u8::is_ascii_digit).count();
    let (num, mut rest) = rest.split_at(num_len);
    let mut denom = "";
    if let Some(after) = rest.strip_prefix('.') {
        let n = after.bytes().take_while(u8::is_ascii_digit).count();
        (denom, rest) = after.split_at(n);
    }
    check_suffix(rest)?;
    let num = if num.is_empty() { "0" } else { num };
    Ok(Parts { negative, num, denom, suffix: rest })
}

/// The suffix must be `[eEinumkKMGTP]*[-+]?[0-9]*`.
fn check_suffix(suffix: &str) -> Result<(), QuantityError> {
    let letters = suffix.bytes().take_while(|b| b"eEinumkKMGTP".contains(b)).count();
    let rest = &suffix[letters..];
    let rest = rest.strip_prefix(['-', '+']).unwrap_or(rest);
    if rest.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(());
    }
    Err(QuantityError::Format)
}

/// quantitySuffixer.interpret: (base, exponent, format) of a suffix.
fn interpret(suffix: &str) -> Option<(u32, i32, Format)> {
    let decimal = |e| Some((10, e, Format::DecimalSI));
    let binary = |e| Some((2, e, Format::BinarySI));
    match suffix {
        "" => decimal(0),
        "n" => decimal(-9),
        "u" => decimal(-6),
        "m" => decimal(-3),
        "k" => decimal(3),
        "M" => decimal(6),
        "G" => decimal(9),
        "T" => decimal(12),
        "P" => decimal(15),
        "E" => decimal(18),
        "Ki" => binary(10),
        "Mi" => binary(20),
        "Gi" => binary(30),
        "Ti" => binary(40),
        "Pi" => binary(50),
        "Ei" => binary(60),
        s if s.len() > 1 && (s.starts_with('e') || s.starts_with('E')) => {
            let e: i32 = s[1..].parse().ok()?;
            Some((10, e, Format::DecimalExponent))
        }
        _ => None,
    }
}

/// Rounds a non-zero value away from zero to nano precision (scale -9).
fn round_up_to_nano(unscaled: u128, scale: i32) -> (u128, i32) {
    if scale >= -9 || unscaled == 0 {
        return (unscaled, scale);
    }
    let drop = (-9 - scale) as u32;
    let Some(div) = 10u128.checked_pow(drop) else {
        return (1, -9);
    };
    let q = unscaled / div;
    let q = if unscaled.is_multiple_of(div) { q } else { q + 1 };
    (q, -9)
}

impl Quantity {
    pub fn is_zero(&self) -> bool {
        self.unscaled == 0
    }

    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// Whether the value is a whole number (`MilliValue() % 1000 == 0`).
    pub fn is_integer(&self) -> bool {
        if self.scale >= 0 {
            return true;
        }
        10u128.checked_pow((-self.scale) as u32).is_some_and(|d| self.unscaled.is_multiple_of(d))
    }

    /// The value as a whole number, if it is one and fits.
    pub fn as_integer(&self) -> Option<i128> {
        if !self.is_integer() {
            return None;
        }
        let v = i128::try_from(whole_value(self.unscaled, self.scale)?).ok()?;
        Some(if self.negative { -v } else { v })
    }

    /// `RoundUp(Milli)`: finer values are rounded away from zero to a thousandth.
    pub fn round_up_to_milli(&self) -> Quantity {
        if self.scale >= -3 {
            return self.clone();
        }
        let div = 10u128.pow((-3 - self.scale) as u32);
        let q = self.unscaled / div + u128::from(!self.unscaled.is_multiple_of(div));
        Quantity { unscaled: q, scale: -3, ..self.clone() }
    }

    fn cmp_magnitude_to_int(&self, n: u128) -> Ordering {
        cmp_scaled(self.unscaled, self.scale, n, 0)
    }

    /// The canonical form Kubernetes prints (`Quantity.String()`).
    pub fn canonical(&self) -> String {
        if self.is_zero() {
            return "0".to_string();
        }
        let sign = if self.negative { "-" } else { "" };
        if self.format == Format::BinarySI
            && let Some(s) = self.binary_form()
        {
            return format!("{sign}{s}");
        }
        let (mantissa, exponent) = decimal_canonical(self.unscaled, self.scale);
        format!("{sign}{mantissa}{}", decimal_suffix(exponent, self.format))
    }

    /// `1536Mi`, or None when the value is below 1024 or not whole (then printed in decimal).
    fn binary_form(&self) -> Option<String> {
        if self.cmp_magnitude_to_int(1024) == Ordering::Less || self.scale < 0 && !self.is_integer() {
            return None;
        }
        let mut v = whole_value(self.unscaled, self.scale)?;
        let mut exp = 0;
        while v % 1024 == 0 && exp < 6 {
            v /= 1024;
            exp += 1;
        }
        let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][exp];
        Some(format!("{v}{suffix}"))
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.negative, other.negative) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => cmp_scaled(self.unscaled, self.scale, other.unscaled, other.scale),
            (true, true) => cmp_scaled(other.unscaled, other.scale, self.unscaled, self.scale),
        }
    }
}

/// Compares `a*10^sa` with `b*10^sb`, exactly where u128 allows and by f64 beyond.
fn cmp_scaled(a: u128, sa: i32, b: u128, sb: i32) -> Ordering {
    let (hi, lo, hi_scale, lo_scale, flipped) = if sa >= sb { (a, b, sa, sb, false) } else { (b, a, sb, sa, true) };
    let exact = 10u128
        .checked_pow((hi_scale - lo_scale) as u32)
        .and_then(|f| hi.checked_mul(f))
        .map(|shifted| shifted.cmp(&lo));
    let ord = exact.unwrap_or_else(|| {
        let x = hi as f64 * 10f64.powi(hi_scale);
        let y = lo as f64 * 10f64.powi(lo_scale);
        x.partial_cmp(&y).unwrap_or(Ordering::Equal)
    });
    if flipped { ord.reverse() } else { ord }
}

fn whole_value(unscaled: u128, scale: i32) -> Option<u128> {
    if scale >= 0 {
        return 10u128.checked_pow(scale as u32).and_then(|f| unscaled.checked_mul(f));
    }
    10u128.checked_pow((-scale) as u32).map(|d| unscaled / d)
}

/// AsCanonicalBytes: trailing zeros removed, then the exponent lowered to a multiple of three.
fn decimal_canonical(mut unscaled: u128, mut exponent: i32) -> (u128, i32) {
    while unscaled.is_multiple_of(10) {
        unscaled /= 10;
        exponent += 1;
    }
    while exponent.rem_euclid(3) != 0 {
        match unscaled.checked_mul(10) {
            Some(v) => unscaled = v,
            None => break,
        }
        exponent -= 1;
    }
    (unscaled, exponent)
}

fn decimal_suffix(exponent: i32, format: Format) -> String {
    if format == Format::DecimalExponent {
        return if exponent == 0 { String::new() } else { format!("e{exponent}") };
    }
    let si = match exponent {
        -9 => "n",
        -6 => "u",
        -3 => "m",
        0 => "",
        3 => "k",
        6 => "M",
        9 => "G",
        12 => "T",
        15 => "P",
        18 => "E",
        _ => return format!("e{exponent}"),
    };
    si.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        parse(s).unwrap().canonical()
    }

    #[test]
    fn quantities_print_in_their_canonical_form() {
        assert_eq!(canon("100m"), "100m");
        assert_eq!(canon("0.5"), "500m");
        assert_eq!(canon("2000m"), "2");
        assert_eq!(canon("1.5k"), "1500");
        assert_eq!(canon("1024Mi"), "1Gi");
        assert_eq!(canon("1536Mi"), "1536Mi");
        assert_eq!(canon("1.5Gi"), "1536Mi");
        assert_eq!(canon("0.5Ki"), "512");
        assert_eq!(canon("1e3"), "1e3");
        assert_eq!(canon("+1"), "1");
        assert_eq!(canon("-2"), "-2");
        assert_eq!(canon("000"), "0");
        assert_eq!(canon("200Mi"), "200Mi");
    }

    #[test]
    fn values_finer_than_a_nano_round_up() {
        assert_eq!(canon("0.0000000001"), "1n");
    }

    #[test]
    fn malformed_quantities_get_the_kubernetes_messages() {
        assert_eq!(parse("abc"), Err(QuantityError::Format));
        assert_eq!(parse(""), Err(QuantityError::Format));
        assert_eq!(parse("1Gb"), Err(QuantityError::Format));
        assert_eq!(parse("1KM"), Err(QuantityError::Suffix));
        assert_eq!(
            QuantityError::Format.to_string(),
            "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        );
    }

    #[test]
    fn quantities_compare_exactly_across_suffixes() {
        assert_eq!(parse("1Gi").unwrap().cmp(&parse("1073741824").unwrap()), Ordering::Equal);
        assert!(parse("500m").unwrap() < parse("1").unwrap());
        assert!(parse("-1").unwrap() < parse("0").unwrap());
        assert!(parse("2").unwrap() > parse("1999m").unwrap());
    }

    #[test]
    fn rounding_to_milli_rounds_up() {
        assert_eq!(parse("0.0001").unwrap().round_up_to_milli().canonical(), "1m");
        assert_eq!(parse("250m").unwrap().round_up_to_milli().canonical(), "250m");
    }

    #[test]
    fn whole_numbers_are_integers() {
        assert!(parse("2").unwrap().is_integer());
        assert!(!parse("1500m").unwrap().is_integer());
        assert!(parse("2000m").unwrap().is_integer());
    }
}
