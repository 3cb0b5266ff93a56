//! A tiny deterministic PRNG (SplitMix64) for everything the simulator makes up: generated name
//! suffixes, uids, timing jitter, fault probabilities. Same seed, same sequence, on every platform;
//! no global state. Not for cryptography.

use std::time::Duration;

/// The alphabet Kubernetes uses for generated names (`k8s.io/apimachinery/pkg/util/rand`): no
/// vowels (no accidental words) and no look-alikes (0/o, 1/l, 3/e).
pub const NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// SplitMix64 (Steele, Lea, Flood 2014): one u64 of state, full period, passes BigCrush.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rng {
    state: u64,
}

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng { state: seed }
    }

    /// An independent stream for one purpose (`"uids"`, `"endpoint/llm-prod/llama"`), so that
    /// adding an endpoint or drawing one more uid does not shift every other value.
    pub fn derive(seed: u64, label: &str) -> Self {
        // FNV-1a over the label, then mixed with the seed through one SplitMix step.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in label.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        let mut r = Rng::new(seed ^ h.rotate_left(17));
        Rng::new(r.next_u64())
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[low, high)`; `low` when the range is empty. Unbiased (rejection sampling).
    pub fn range(&mut self, low: u64, high: u64) -> u64 {
        if high <= low {
            return low;
        }
        let span = high - low;
        // Largest multiple of `span` that fits; values at or above it would bias the modulo.
        let zone = u64::MAX - (u64::MAX % span);
        loop {
            let v = self.next_u64();
            if v < zone {
                return low + v % span;
            }
        }
    }

    /// Uniform in `[0, 1)` with 53 bits of precision.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p` (clamped to `[0, 1]`).
    pub fn chance(&mut self, p: f64) -> bool {
        if p >= 1.0 {
            return true;
        }
        p > 0.0 && self.next_f64() < p
    }

    /// One element, uniformly; `None` for an empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() {
            return None;
        }
        let i = self.range(0, items.len() as u64) as usize;
        items.get(i)
    }

    /// `n` characters of [`NAME_ALPHABET`], like the `x7k2p` of `web-5d4f8c7b9-x7k2p`.
    pub fn alnum_suffix(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| {
                let i = self.range(0, NAME_ALPHABET.len() as u64) as usize;
                char::from(NAME_ALPHABET[i])
            })
            .collect()
    }

    /// A random (version 4, variant 10) UUID, lowercase `8-4-4-4-12`.
    pub fn uuid_v4(&mut self) -> String {
        let hi = (self.next_u64() & !0xf000) | 0x4000;
        let lo = (self.next_u64() & !(0b11 << 62)) | (0b10 << 62);
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            hi >> 32,
            (hi >> 16) & 0xffff,
            hi & 0xffff,
            lo >> 48,
            lo & 0xffff_ffff_ffff
        )
    }

    /// `base` scaled by a uniform factor in `[1 - fraction, 1 + fraction]`, to the millisecond.
    pub fn jitter(&mut self, base: Duration, fraction: f64) -> Duration {
        let fraction = if fraction.is_finite() {
            fraction.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let factor = 1.0 + fraction * (2.0 * self.next_f64() - 1.0);
        let ms = (base.as_secs_f64() * 1000.0 * factor).round();
        Duration::from_millis(ms.max(0.0) as u64)
    }
}

/// Shorthands the store and controllers use.
impl Rng {
    /// `n` characters like the suffix of a generated name (`web-7d4b9c-x2k4p`).
    pub fn name_suffix(&mut self, n: usize) -> String {
        self.alnum_suffix(n)
    }

    pub fn uuid(&mut self) -> String {
        self.uuid_v4()
    }

    /// Uniform in `0..n` (0 for n = 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.range(0, n) }
    }

    /// A float in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        self.next_f64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_reference_values() {
        // First outputs for seed 1234567 from the reference C implementation.
        let mut r = Rng::new(1234567);
        assert_eq!(r.next_u64(), 6457827717110365317);
        assert_eq!(r.next_u64(), 3203168211198807973);
        assert_eq!(r.next_u64(), 9817491932198370423);
    }

    #[test]
    fn same_seed_same_sequence_and_clones_continue_identically() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        assert_eq!(a.alnum_suffix(5), b.alnum_suffix(5));
        let mut c = a.clone();
        assert_eq!(a.uuid_v4(), c.uuid_v4());
        assert_ne!(Rng::new(7).next_u64(), Rng::new(8).next_u64());
    }

    #[test]
    fn derived_streams_differ_by_label_and_seed() {
        let a = Rng::derive(1, "endpoint/a").next_u64();
        assert_eq!(a, Rng::derive(1, "endpoint/a").next_u64());
        assert_ne!(a, Rng::derive(1, "endpoint/b").next_u64());
        assert_ne!(a, Rng::derive(2, "endpoint/a").next_u64());
    }

    #[test]
    fn range_stays_in_bounds_and_covers_it() {
        let mut r = Rng::new(3);
        let mut seen = [false; 6];
        for _ in 0..1000 {
            let v = r.range(10, 16);
            assert!((10..16).contains(&v));
            seen[(v - 10) as usize] = true;
        }
        assert!(seen.iter().all(|s| *s));
        assert_eq!(r.range(5, 5), 5);
        assert_eq!(r.range(9, 2), 9);
        let f = r.next_f64();
        assert!((0.0..1.0).contains(&f));
    }

    #[test]
    fn pick_and_chance() {
        let mut r = Rng::new(11);
        let empty: [u8; 0] = [];
        assert_eq!(r.pick(&empty), None);
        assert!(matches!(r.pick(&[1, 2, 3]), Some(1..=3)));
        assert!(r.chance(1.0));
        assert!(!r.chance(0.0));
        let hits = (0..10_000).filter(|_| r.chance(0.25)).count();
        assert!((2_200..2_800).contains(&hits), "{hits}");
    }

    #[test]
    fn generated_names_use_the_kubernetes_alphabet() {
        let s = Rng::new(5).alnum_suffix(200);
        assert_eq!(s.len(), 200);
        assert!(s.bytes().all(|b| NAME_ALPHABET.contains(&b)));
    }

    #[test]
    fn uuid_v4_shape() {
        let mut r = Rng::new(99);
        for _ in 0..100 {
            let u = r.uuid_v4();
            let parts: Vec<&str> = u.split('-').collect();
            let lens: Vec<usize> = parts.iter().map(|p| p.len()).collect();
            assert_eq!(lens, [8, 4, 4, 4, 12], "{u}");
            assert!(u.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
            assert!(!u.chars().any(|c| c.is_ascii_uppercase()));
            assert!(parts[2].starts_with('4'), "{u}");
            assert!(matches!(&parts[3][..1], "8" | "9" | "a" | "b"), "{u}");
        }
    }

    #[test]
    fn jitter_stays_within_the_fraction() {
        let mut r = Rng::new(17);
        let base = Duration::from_secs(10);
        for _ in 0..1000 {
            let d = r.jitter(base, 0.2);
            assert!(
                d >= Duration::from_secs(8) && d <= Duration::from_secs(12),
                "{d:?}"
            );
        }
        assert_eq!(r.jitter(base, 0.0), base);
        assert_eq!(r.jitter(base, f64::NAN), base);
    }
}
