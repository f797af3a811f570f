//! The one parser of duration flags (`--time`, `--budget`, `--timeout`, ...), so that every
//! command reads `60`, `60s`, `1m` and `1m30s` alike.

use std::time::Duration;

/// Parses a duration flag: a bare number of seconds (`60`, `1.5`), or one or more numbers
/// with units (`250ms`, `10s`, `2m`, `1h`, `1m30s`, `1h 30m`). Units: `ms`, `s`/`sec`,
/// `m`/`min`, `h`/`hr`, `d`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let s = text.trim();
    let invalid =
        |why: &str| format!("invalid duration {text:?}: {why} (try 60, 90s, 500ms, 10m, 1h30m)");
    if s.is_empty() {
        return Err(invalid("empty"));
    }
    let mut secs = 0.0f64;
    let mut rest = s;
    let mut parts = 0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return Err(invalid("expected a number"));
        }
        let n: f64 = rest[..num_len]
            .parse()
            .map_err(|_| invalid("not a number"))?;
        rest = rest[num_len..].trim_start();
        let unit_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = rest[unit_len..].trim_start();
        let scale = match unit {
            // A bare number is seconds, but only on its own: `1m30` is a typo, not 1m30s.
            "" if parts == 0 && rest.is_empty() => 1.0,
            "" => return Err(invalid("a number without a unit")),
            "ms" => 1e-3,
            "s" | "sec" | "secs" => 1.0,
            "m" | "min" | "mins" => 60.0,
            "h" | "hr" | "hrs" => 3600.0,
            "d" => 86400.0,
            other => {
                return Err(invalid(&format!(
                    "unknown unit {other:?} (use ms, s, m, h or d)"
                )))
            }
        };
        secs += n * scale;
        parts += 1;
    }
    Duration::try_from_secs_f64(secs).map_err(|e| invalid(&e.to_string()))
}

/// Formats a duration the way [`parse_duration`] reads it back: `1m30s`, `250ms`, `2h`.
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    let mut rest = ms;
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
        ("ms", 1),
    ] {
        if rest >= size {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{format_duration, parse_duration};
    use std::time::Duration;

    #[test]
    fn every_form_parses() {
        let ok =
            |s: &str, ms: u64| assert_eq!(parse_duration(s), Ok(Duration::from_millis(ms)), "{s}");
        ok("60", 60_000);
        ok("1.5", 1500);
        ok("10s", 10_000);
        ok("250ms", 250);
        ok("2m", 120_000);
        ok("1h", 3_600_000);
        ok("1m30s", 90_000);
        ok("1h 30m", 5_400_000);
        ok(" 5 s ", 5000);
        ok("0", 0);
    }

    #[test]
    fn nonsense_is_refused_with_the_input_named() {
        for s in ["", "ten", "3 weeks", "1m30", "-1s", "s", "1.2.3s", "1e999"] {
            let e = parse_duration(s).expect_err(s);
            assert!(e.contains(&format!("{s:?}")), "{s}: {e}");
        }
    }

    #[test]
    fn formatting_round_trips() {
        for ms in [
            0, 1, 250, 1000, 60_000, 90_000, 3_600_000, 5_400_250, 86_400_000,
        ] {
            let d = Duration::from_millis(ms);
            assert_eq!(
                parse_duration(&format_duration(d)),
                Ok(d),
                "{}",
                format_duration(d)
            );
        }
        assert_eq!(format_duration(Duration::from_secs(90)), "1m30s");
    }
}
