//! Small helpers with no home of their own and no dependency on the cluster or the screen.

pub mod age;
pub mod duration;

/// A count with its noun, singular for one: `1 object`, `3 objects`, `0 objects`.
/// Only for nouns that take a plain `s` (object, pod, retry would not: write it out).
pub fn plural(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::plural;

    #[test]
    fn one_is_singular_everything_else_plural() {
        assert_eq!(plural(1, "object"), "1 object");
        assert_eq!(plural(0, "object"), "0 objects");
        assert_eq!(plural(9, "object"), "9 objects");
    }
}
