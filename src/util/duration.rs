//! Human durations on the command line and in messages: `500ms`, `120s`, `2m`, `1h`, `1m30s`.
//!
//! Whole numbers only, every number with a unit, so `120` is refused rather than guessed at
//! (seconds? milliseconds?) and a deadline is never silently a thousand times off.

use std::time::Duration;

/// A duration string that could not be read. The message names the bad value and the accepted form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid duration '{input}': {reason} (use a whole number with a unit: 500ms, 120s, 2m, 1h)"
)]
pub struct DurationError {
    /// The value as given, escaped so control characters cannot reach the terminal.
    pub input: String,
    /// What is wrong with it.
    pub reason: String,
}

impl DurationError {
    fn new(input: &str, reason: impl Into<String>) -> Self {
        Self {
            input: input.escape_debug().to_string(),
            reason: reason.into(),
        }
    }
}

/// Parses `500ms`, `120s`, `2m`, `1h` and sums of them written together (`1m30s`), largest unit
/// first and each unit once: `1h1h` or `30s1m` is refused, since it is more likely a typo than a
/// deadline someone meant.
///
/// ```
/// use std::time::Duration;
/// use llmops_console::util::duration::parse_duration;
///
/// assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
/// let err = parse_duration("120").unwrap_err().to_string();
/// assert!(err.starts_with("invalid duration '120': '120' has no unit"));
/// ```
pub fn parse_duration(input: &str) -> Result<Duration, DurationError> {
    let text = input.trim();
    if text.is_empty() {
        return Err(DurationError::new(input, "it is empty"));
    }
    let mut total_ms: u64 = 0;
    // The unit written before, so each next one must be strictly smaller.
    let mut previous: Option<(&str, u64)> = None;
    let mut rest = text;
    while !rest.is_empty() {
        let digits_end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits_end == 0 {
            return Err(DurationError::new(
                input,
                format!("expected a number at '{}'", rest.escape_debug()),
            ));
        }
        let (digits, after_digits) = rest.split_at(digits_end);
        let unit_end = after_digits
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(after_digits.len());
        let (unit, after_unit) = after_digits.split_at(unit_end);
        let per_unit_ms: u64 = match unit {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "" => {
                return Err(DurationError::new(
                    input,
                    format!("'{digits}' has no unit, e.g. {digits}s"),
                ));
            }
            other => {
                return Err(DurationError::new(
                    input,
                    format!("unknown unit '{}'", other.escape_debug()),
                ));
            }
        };
        if let Some((before, before_ms)) = previous {
            if per_unit_ms == before_ms {
                return Err(DurationError::new(
                    input,
                    format!("unit '{unit}' appears twice; write each unit once"),
                ));
            }
            if per_unit_ms > before_ms {
                return Err(DurationError::new(
                    input,
                    format!("'{unit}' comes after '{before}'; write the largest unit first"),
                ));
            }
        }
        previous = Some((unit, per_unit_ms));
        let too_large = || DurationError::new(input, "it is too large");
        let amount: u64 = digits.parse().map_err(|_| too_large())?;
        let part_ms = amount.checked_mul(per_unit_ms).ok_or_else(too_large)?;
        total_ms = total_ms.checked_add(part_ms).ok_or_else(too_large)?;
        rest = after_unit;
    }
    Ok(Duration::from_millis(total_ms))
}

/// Writes a duration in the largest unit that represents it exactly: `2m`, `90s`, `1500ms`.
/// The output reads back through [`parse_duration`] to the same value (sub-millisecond parts are
/// dropped).
pub fn format_duration(duration: Duration) -> String {
    let ms = duration.as_millis();
    if ms == 0 {
        return "0s".to_string();
    }
    if ms.is_multiple_of(3_600_000) {
        format!("{}h", ms / 3_600_000)
    } else if ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1_000) {
        format!("{}s", ms / 1_000)
    } else {
        format!("{ms}ms")
    }
}

/// A measured duration for people: `350ms`, `7.1s`, then `2m5s`, `1h3m` like ages.
pub fn format_elapsed(duration: Duration) -> String {
    let ms = duration.as_millis();
    if ms < 1_000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", duration.as_secs_f64())
    } else {
        crate::util::age::format_age_secs(i64::try_from(duration.as_secs()).unwrap_or(i64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn elapsed_reads_like_a_stopwatch() {
        assert_eq!(format_elapsed(Duration::from_millis(350)), "350ms");
        assert_eq!(format_elapsed(Duration::from_millis(7055)), "7.1s");
        assert_eq!(
            format_elapsed(Duration::from_secs(722)),
            format_age_secs_for_test(722)
        );
    }

    fn format_age_secs_for_test(s: i64) -> String {
        crate::util::age::format_age_secs(s)
    }

    #[test]
    fn reads_each_unit() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("120s"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
    }

    #[test]
    fn reads_compound_and_surrounding_space() {
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(
            parse_duration("1h2m3s4ms"),
            Ok(Duration::from_millis(3_723_004))
        );
        assert_eq!(parse_duration(" 10s "), Ok(Duration::from_secs(10)));
    }

    #[test]
    fn refuses_bad_values_and_names_them() {
        let cases = [
            ("", "it is empty"),
            ("120", "'120' has no unit"),
            ("12x", "unknown unit 'x'"),
            ("10 s", "unknown unit ' s'"),
            ("s", "expected a number at 's'"),
            ("-5s", "expected a number at '-5s'"),
            ("1.5s", "unknown unit '.'"),
            ("2M", "unknown unit 'M'"),
            ("99999999999999999999h", "too large"),
            ("5124095576030432h", "too large"),
            ("1h1h", "unit 'h' appears twice"),
            ("1m30s5s", "unit 's' appears twice"),
            ("30s1m", "'m' comes after 's'; write the largest unit first"),
            ("5ms1h", "'h' comes after 'ms'"),
        ];
        for (input, reason) in cases {
            let err = match parse_duration(input) {
                Ok(d) => panic!("{input:?} parsed as {d:?}"),
                Err(err) => err,
            };
            let message = err.to_string();
            assert!(
                message.starts_with(&format!("invalid duration '{input}'")),
                "{message}"
            );
            assert!(message.contains(reason), "{input:?}: {message}");
            assert!(
                message.contains("120s"),
                "message shows the form: {message}"
            );
        }
    }

    #[test]
    fn escapes_control_characters_in_errors() {
        let err = parse_duration("5\u{1b}[2J").err();
        let message = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(!message.contains('\u{1b}'), "{message:?}");
        assert!(message.contains("\\u{1b}"), "{message:?}");
    }

    #[test]
    fn formats_in_the_largest_exact_unit() {
        assert_eq!(format_duration(Duration::ZERO), "0s");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
        assert_eq!(format_duration(Duration::from_secs(90)), "90s");
        assert_eq!(format_duration(Duration::from_secs(120)), "2m");
        assert_eq!(format_duration(Duration::from_secs(7200)), "2h");
    }

    proptest! {
        #[test]
        fn format_reads_back(ms in 0u64..10_000_000_000) {
            let d = Duration::from_millis(ms);
            prop_assert_eq!(parse_duration(&format_duration(d)), Ok(d));
        }

        #[test]
        fn never_panics(s in "\\PC{0,24}") {
            let _ = parse_duration(&s);
        }
    }
}
