//! Durations written the way people write them in Kubernetes tooling: `500ms`, `2s`, `1m30s`,
//! `12m`, `2h`, `1d`. A sequence of `<integer><unit>` pairs, units `d h m s ms`, each unit at most
//! once and in that order; a bare `0` is zero. Fractions and negative values are refused, so a typo
//! is an error instead of a surprise.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::{Serialize, Serializer};

/// A duration read from a scenario file. Serialises back to the same canonical text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct HumanDuration(pub Duration);

const UNITS: &[(&str, u64)] = &[
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

const EXPECTED: &str = "a duration like 500ms, 2s, 1m30s, 12m or 2h";

impl HumanDuration {
    pub fn from_millis(ms: u64) -> Self {
        HumanDuration(Duration::from_millis(ms))
    }

    pub fn as_duration(self) -> Duration {
        self.0
    }

    /// Parse `1m30s`; the error says what was wrong and what is expected.
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        if t == "0" {
            return Ok(HumanDuration(Duration::ZERO));
        }
        if t.is_empty() {
            return Err(format!("empty duration, expected {EXPECTED}"));
        }
        let bad = |why: &str| format!("invalid duration \"{text}\": {why}, expected {EXPECTED}");
        let bytes = t.as_bytes();
        let mut i = 0;
        let mut total: u64 = 0;
        // Index into UNITS of the last unit seen, to enforce descending order.
        let mut last: Option<usize> = None;
        while i < bytes.len() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if start == i {
                return Err(bad("a number must come before each unit"));
            }
            let number: u64 = t[start..i].parse().map_err(|_| bad("number too large"))?;
            let ustart = i;
            while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
                i += 1;
            }
            let unit = &t[ustart..i];
            if unit.is_empty() {
                let why = if i < bytes.len() {
                    format!("unexpected character '{}'", char::from(bytes[i]))
                } else {
                    "missing unit after the last number".to_string()
                };
                return Err(bad(&why));
            }
            let Some(idx) = UNITS.iter().position(|(u, _)| *u == unit) else {
                return Err(bad(&format!("unknown unit \"{unit}\"")));
            };
            if last.is_some_and(|l| l >= idx) {
                return Err(bad("units must appear once each, largest first"));
            }
            last = Some(idx);
            total = number
                .checked_mul(UNITS[idx].1)
                .and_then(|ms| total.checked_add(ms))
                .ok_or_else(|| bad("too large"))?;
        }
        Ok(HumanDuration(Duration::from_millis(total)))
    }
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ms = self.0.as_millis();
        if ms == 0 {
            return f.write_str("0s");
        }
        for (unit, size) in UNITS {
            let size = u128::from(*size);
            if ms >= size {
                write!(f, "{}{unit}", ms / size)?;
                ms %= size;
            }
        }
        Ok(())
    }
}

impl Serialize for HumanDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = HumanDuration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(EXPECTED)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<HumanDuration, E> {
                HumanDuration::parse(v).map_err(E::custom)
            }
            // `terminatingFor: 0` reads as an integer; zero is the only number that needs no unit.
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<HumanDuration, E> {
                if v == 0 {
                    Ok(HumanDuration::default())
                } else {
                    Err(E::custom(format!(
                        "invalid duration {v}: a unit is required, expected {EXPECTED}"
                    )))
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<HumanDuration, E> {
                match u64::try_from(v) {
                    Ok(u) => self.visit_u64(u),
                    Err(_) => Err(E::custom(format!(
                        "invalid duration {v}: negative, expected {EXPECTED}"
                    ))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(text: &str) -> u64 {
        HumanDuration::parse(text).unwrap().0.as_millis() as u64
    }

    #[test]
    fn parses_the_usual_forms() {
        assert_eq!(ms("500ms"), 500);
        assert_eq!(ms("2s"), 2_000);
        assert_eq!(ms("1m30s"), 90_000);
        assert_eq!(ms("12m"), 720_000);
        assert_eq!(ms("2h"), 7_200_000);
        assert_eq!(ms("1d2h"), 93_600_000);
        assert_eq!(ms("1s500ms"), 1_500);
        assert_eq!(ms("0"), 0);
        assert_eq!(ms(" 3s "), 3_000);
    }

    #[test]
    fn refuses_typos_with_a_reason() {
        for (text, why) in [
            ("5x", "unknown unit \"x\""),
            ("5", "missing unit"),
            ("s", "a number must come before"),
            ("1.5s", "unexpected character '.'"),
            ("-2s", "a number must come before"),
            ("30s1m", "largest first"),
            ("1s1s", "largest first"),
            ("", "empty duration"),
            ("99999999999999999999s", "number too large"),
        ] {
            let err = HumanDuration::parse(text).unwrap_err();
            assert!(err.contains(why), "{text}: {err}");
        }
    }

    #[test]
    fn displays_canonically_and_round_trips() {
        for text in ["500ms", "2s", "1m30s", "1d2h", "1s500ms"] {
            let d = HumanDuration::parse(text).unwrap();
            assert_eq!(d.to_string(), text);
        }
        assert_eq!(HumanDuration::default().to_string(), "0s");
        assert_eq!(HumanDuration::parse("90s").unwrap().to_string(), "1m30s");
    }
}
