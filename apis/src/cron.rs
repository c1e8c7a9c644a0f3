//! CronJob schedules, checked as `cron.ParseStandard` (github.com/robfig/cron/v3) checks them,
//! with its error messages: five fields, `@hourly`-style descriptors, `@every <duration>`.

/// One schedule field's bounds and month/weekday names.
struct Bounds {
    min: u64,
    max: u64,
    names: &'static [&'static str],
}

const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

const FIELDS: [Bounds; 5] = [
    Bounds { min: 0, max: 59, names: &[] },
    Bounds { min: 0, max: 23, names: &[] },
    Bounds { min: 1, max: 31, names: &[] },
    Bounds { min: 1, max: 12, names: &MONTHS },
    Bounds { min: 0, max: 6, names: &DAYS },
];

/// Checks a schedule; the error is robfig/cron's message, which Kubernetes reports verbatim.
pub fn parse_standard(spec: &str) -> Result<(), String> {
    if spec.is_empty() {
        return Err("empty spec string".to_string());
    }
    let spec = strip_time_zone(spec)?;
    if spec.starts_with('@') {
        return descriptor(spec);
    }
    let fields: Vec<&str> = spec.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!("expected exactly 5 fields, found {}: [{}]", fields.len(), fields.join(" ")));
    }
    fields.iter().zip(FIELDS.iter()).try_for_each(|(f, b)| field(f, b))
}

/// `TZ=Zone spec` / `CRON_TZ=Zone spec`: the zone is stripped (Kubernetes rejects TZ separately).
fn strip_time_zone(spec: &str) -> Result<&str, String> {
    if !spec.starts_with("TZ=") && !spec.starts_with("CRON_TZ=") {
        return Ok(spec);
    }
    match spec.find(' ') {
        Some(i) => Ok(spec[i..].trim()),
        None => Err(format!("provided bad location {spec}")),
    }
}

fn descriptor(spec: &str) -> Result<(), String> {
    const NAMED: [&str; 7] = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"];
    if NAMED.contains(&spec) {
        return Ok(());
    }
    if let Some(d) = spec.strip_prefix("@every ") {
        return parse_duration(d).map_err(|e| format!("failed to parse duration {spec}: {e}"));
    }
    Err(format!("unrecognized descriptor: {spec}"))
}

/// getField: comma-separated ranges.
fn field(f: &str, b: &Bounds) -> Result<(), String> {
    f.split(',').filter(|r| !r.is_empty()).try_for_each(|r| range(r, b))
}

/// getRange: `*`, `?`, `N`, `N-M`, each optionally `/step`.
fn range(expr: &str, b: &Bounds) -> Result<(), String> {
    let parts: Vec<&str> = expr.split('/').collect();
    let low_high: Vec<&str> = parts[0].split('-').collect();
    let (start, mut end) = if low_high[0] == "*" || low_high[0] == "?" {
        (b.min, b.max)
    } else {
        let start = int_or_name(low_high[0], b.names)?;
        match low_high.len() {
            1 => (start, start),
            2 => (start, int_or_name(low_high[1], b.names)?),
            _ => return Err(format!("too many hyphens: {expr}")),
        }
    };
    let step = match parts.len() {
        1 => 1,
        2 => {
            let step = must_parse_int(parts[1])?;
            if low_high.len() == 1 {
                end = b.max;
            }
            step
        }
        _ => return Err(format!("too many slashes: {expr}")),
    };
    check_range(start, end, step, b, expr)
}

fn check_range(start: u64, end: u64, step: u64, b: &Bounds, expr: &str) -> Result<(), String> {
    if start < b.min {
        return Err(format!("beginning of range ({start}) below minimum ({}): {expr}", b.min));
    }
    if end > b.max {
        return Err(format!("end of range ({end}) above maximum ({}): {expr}", b.max));
    }
    if start > end {
        return Err(format!("beginning of range ({start}) beyond end of range ({end}): {expr}"));
    }
    if step == 0 {
        return Err(format!("step of range should be a positive number: {expr}"));
    }
    Ok(())
}

fn int_or_name(expr: &str, names: &[&str]) -> Result<u64, String> {
    let lower = expr.to_ascii_lowercase();
    if let Some(i) = names.iter().position(|n| *n == lower) {
        // Months count from 1, weekdays from 0.
        let base = if names.len() == 12 { 1 } else { 0 };
        return Ok(i as u64 + base);
    }
    must_parse_int(expr)
}

/// mustParseInt, with Go's strconv.Atoi error text.
fn must_parse_int(expr: &str) -> Result<u64, String> {
    let digits = expr.strip_prefix(['+', '-']).unwrap_or(expr);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("failed to parse int from {expr}: strconv.Atoi: parsing {expr:?}: invalid syntax"));
    }
    let Ok(n) = expr.parse::<i64>() else {
        return Err(format!("failed to parse int from {expr}: strconv.Atoi: parsing {expr:?}: value out of range"));
    };
    if n < 0 {
        return Err(format!("negative number ({n}) not allowed: {expr}"));
    }
    Ok(n as u64)
}

/// Go's `time.ParseDuration`: `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+`, or a bare `0`.
pub fn parse_duration(s: &str) -> Result<(), String> {
    let orig = s;
    let invalid = || format!("time: invalid duration {orig:?}");
    let mut rest = s.strip_prefix(['-', '+']).unwrap_or(s);
    if rest == "0" {
        return Ok(());
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let mut n = int_len;
        if rest[n..].starts_with('.') {
            n += 1 + rest[n + 1..].bytes().take_while(u8::is_ascii_digit).count();
        }
        if n == 0 || &rest[..n] == "." {
            return Err(invalid());
        }
        rest = &rest[n..];
        let unit_len = rest.find(|c: char| c == '.' || c.is_ascii_digit()).unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        if unit.is_empty() {
            return Err(format!("time: missing unit in duration {orig:?}"));
        }
        if !["ns", "us", "µs", "μs", "ms", "s", "m", "h"].contains(&unit) {
            return Err(format!("time: unknown unit {unit:?} in duration {orig:?}"));
        }
        rest = &rest[unit_len..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_schedules_parse() {
        for ok in ["*/1 * * * *", "0 0 * * 0", "30 6-18/2 * jan-jun mon,fri", "@hourly", "@every 1h30m", "5 4 * * sun"]
        {
            assert_eq!(parse_standard(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn a_schedule_with_six_fields_is_refused_with_robfig_wording() {
        assert_eq!(parse_standard("* * * * * *"), Err("expected exactly 5 fields, found 6: [* * * * * *]".to_string()));
    }

    #[test]
    fn out_of_range_values_name_the_bounds() {
        assert_eq!(parse_standard("60 * * * *"), Err("end of range (60) above maximum (59): 60".to_string()));
        assert_eq!(parse_standard("* * 0 * *"), Err("beginning of range (0) below minimum (1): 0".to_string()));
        assert_eq!(
            parse_standard("x * * * *"),
            Err("failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax".to_string())
        );
    }

    #[test]
    fn unknown_descriptors_are_refused() {
        assert_eq!(parse_standard("@often"), Err("unrecognized descriptor: @often".to_string()));
        assert_eq!(
            parse_standard("@every 1d"),
            Err("failed to parse duration @every 1d: time: unknown unit \"d\" in duration \"1d\"".to_string())
        );
    }
}
