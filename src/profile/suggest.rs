//! "Did you mean" suggestions by edit distance.

/// Levenshtein distance in characters.
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The candidate nearest to `word` (the first of equals), whatever the distance.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (distance(word, c), c))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// The nearest candidate if it is near enough to be a likely typo: at most half the word's
/// length away (at least 2 edits allowed, so `ring` finds `rings`), or a candidate the word
/// of 3 or more characters begins (`auto` finds `autoneg`). Among equally near candidates,
/// one containing the word wins (`gro-hw` finds `rx-gro-hw`, not `gro`).
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (word.chars().count() / 2).max(2);
    candidates
        .into_iter()
        .map(|c| (distance(word, c), c))
        .filter(|(d, c)| *d <= limit || (word.chars().count() >= 3 && c.starts_with(word)))
        .min_by_key(|(d, c)| (*d, !c.contains(word)))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn distances_and_suggestions() {
        assert_eq!(distance("", ""), 0);
        assert_eq!(distance("ring", "rings"), 1);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(did_you_mean("ring", ["rings", "mtu", "rps"]), Some("rings"));
        assert_eq!(did_you_mean("xyzzy", ["rings", "mtu"]), None);
        assert_eq!(did_you_mean("mtu", ["mtu", "rps"]), Some("mtu"));
        assert_eq!(
            did_you_mean("auto", ["rx", "tx", "autoneg"]),
            Some("autoneg")
        );
        assert_eq!(
            did_you_mean("gro-hw", ["gro", "rx-gro-hw"]),
            Some("rx-gro-hw")
        );
        assert_eq!(
            closest(
                "net.core.rmem_maxx",
                ["net.core.rmem_max", "net.core.wmem_max"]
            ),
            Some("net.core.rmem_max")
        );
        assert_eq!(closest("a", Vec::<&str>::new()), None);
    }

    proptest! {
        #[test]
        fn distance_is_a_metric(a in "[a-c]{0,6}", b in "[a-c]{0,6}", c in "[a-c]{0,6}") {
            prop_assert_eq!(distance(&a, &a), 0);
            prop_assert_eq!(distance(&a, &b), distance(&b, &a));
            prop_assert!(distance(&a, &c) <= distance(&a, &b) + distance(&b, &c));
            prop_assert!(distance(&a, &b) <= a.len().max(b.len()));
        }
    }
}
