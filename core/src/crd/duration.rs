//! Go durations as the API server's CEL `duration()` reads them (`spec.pollInterval`).

use std::time::Duration;

/// Parses a Go duration string (`1m30s`, `500ms`, `1.5h`) as Go's `time.ParseDuration` does,
/// up to its limit of 2^63-1 nanoseconds; `None` for negative, malformed or larger input.
///
/// Written here rather than taken from `kube::core::Duration`, whose parser panics on values
/// past `Duration`'s range (`6000000000000000h`): the input comes from tenants' specs.
pub fn parse_go_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let mut rest = s.strip_prefix('+').unwrap_or(s);
    if rest.starts_with('-') {
        return None;
    }
    if rest == "0" {
        return Some(Duration::ZERO);
    }
    if rest.is_empty() {
        return None;
    }
    let digits = |t: &str| t.bytes().take_while(u8::is_ascii_digit).count();
    let mut total: u128 = 0; // nanoseconds
    while !rest.is_empty() {
        let (whole, r) = rest.split_at(digits(rest));
        rest = r;
        let mut fraction = "";
        if let Some(r) = rest.strip_prefix('.') {
            let (f, r) = r.split_at(digits(r));
            fraction = f;
            rest = r;
        }
        if whole.is_empty() && fraction.is_empty() {
            return None;
        }
        let unit_end = rest
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (unit, r) = rest.split_at(unit_end);
        rest = r;
        let unit: u128 = match unit {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        let whole: u128 = if whole.is_empty() {
            0
        } else {
            whole.parse().ok()?
        };
        total = total.checked_add(whole.checked_mul(unit)?)?;
        // As Go: fraction digits beyond what a nanosecond can tell are ignored.
        let (mut value, mut scale) = (0u128, 1u128);
        for d in fraction.bytes().take(18) {
            value = value * 10 + u128::from(d - b'0');
            scale *= 10;
        }
        total = total.checked_add(value * unit / scale)?;
        if total > i64::MAX as u128 {
            return None;
        }
    }
    let nanos = u64::try_from(total).ok()?;
    Some(Duration::from_nanos(nanos))
}
