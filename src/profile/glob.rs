//! A tiny shell-style glob matcher for interface and driver names.
//!
//! `*` matches any run of characters (also none), `?` exactly one character, and `[...]` one
//! character of a class: single characters and ranges `a-z`, negated with a leading `!` or
//! `^`. Any other character matches itself; there is no escaping (interface names contain
//! no glob characters).

/// Checks a pattern's syntax: it must not be empty and every `[` needs its `]`.
pub fn validate(pattern: &str) -> Result<(), String> {
    if pattern.is_empty() {
        return Err("empty pattern".to_string());
    }
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '[' {
            match class_end(&chars, i) {
                Some(end) => i = end,
                None => return Err(format!("unclosed '[' in pattern '{pattern}'")),
            }
        }
        i += 1;
    }
    Ok(())
}

/// True when `text` matches `pattern` as a whole.
pub fn matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative matching with one backtrack point for the last `*` seen: linear in practice,
    // O(len(p) * len(t)) at worst, never exponential.
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ti));
                    pi += 1;
                    continue;
                }
                '?' => {
                    pi += 1;
                    ti += 1;
                    continue;
                }
                '[' => {
                    if let Some(end) = class_end(&p, pi) {
                        if class_matches(&p[pi + 1..end], t[ti]) {
                            pi = end + 1;
                            ti += 1;
                            continue;
                        }
                    } else if t[ti] == '[' {
                        // An unclosed bracket is a literal.
                        pi += 1;
                        ti += 1;
                        continue;
                    }
                }
                c if c == t[ti] => {
                    pi += 1;
                    ti += 1;
                    continue;
                }
                _ => {}
            }
        }
        // Mismatch: let the last `*` swallow one more character, or fail.
        match star {
            Some((sp, st)) => {
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// True when the pattern has a glob character (a plain name matches only itself).
pub fn is_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?', '['])
}

/// Index of the `]` closing the class that opens at `start`. A `]` right after the `[` (or
/// after the negation mark) belongs to the class.
fn class_end(p: &[char], start: usize) -> Option<usize> {
    let mut i = start + 1;
    if i < p.len() && (p[i] == '!' || p[i] == '^') {
        i += 1;
    }
    if i < p.len() && p[i] == ']' {
        i += 1;
    }
    while i < p.len() {
        if p[i] == ']' {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Whether `c` is in the class body (the characters between the brackets).
fn class_matches(body: &[char], c: char) -> bool {
    let (negate, body) = match body.first() {
        Some('!' | '^') => (true, &body[1..]),
        _ => (false, body),
    };
    let mut hit = false;
    let mut i = 0;
    while i < body.len() {
        if i + 2 < body.len() && body[i + 1] == '-' {
            if body[i] <= c && c <= body[i + 2] {
                hit = true;
            }
            i += 3;
        } else {
            if body[i] == c {
                hit = true;
            }
            i += 1;
        }
    }
    hit != negate
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn literal_star_question_and_classes() {
        assert!(matches("eth2", "eth2"));
        assert!(!matches("eth2", "eth20"));
        assert!(!matches("eth2", "eth"));
        assert!(matches("eth*", "eth"));
        assert!(matches("eth*", "eth2"));
        assert!(!matches("eth*", "eno1"));
        assert!(matches("ens1f*", "ens1f0np0"));
        assert!(!matches("ens1f*", "ens2f0"));
        assert!(matches("*", ""));
        assert!(matches("*", "anything"));
        assert!(matches("*np?", "ens1f0np0"));
        assert!(!matches("*np?", "ens1f0np"));
        assert!(matches("e*1", "eno1"));
        assert!(matches("e*1", "e1"));
        assert!(!matches("e*1", "eno12"));
        assert!(matches("*a*b*c", "xxaxxbxxc"));
        assert!(!matches("*a*b*c", "xxaxxcxxb"));
        assert!(matches("eth[0-3]", "eth2"));
        assert!(!matches("eth[0-3]", "eth4"));
        assert!(matches("eth[!0-3]", "eth4"));
        assert!(matches("eth[^0-3]", "eth9"));
        assert!(!matches("eth[!0-3]", "eth1"));
        assert!(matches("en[ops]*", "enp65s0f0"));
        assert!(matches("[]x]", "]"));
        assert!(matches("a[", "a["), "an unclosed bracket is literal");
        assert!(matches("mlx5_*", "mlx5_core"));
    }

    #[test]
    fn pattern_syntax() {
        assert!(validate("eth*").is_ok());
        assert!(validate("eth[0-3]").is_ok());
        assert!(validate("").is_err());
        assert_eq!(
            validate("eth[0-3").expect_err("unclosed"),
            "unclosed '[' in pattern 'eth[0-3'"
        );
        assert!(is_glob("eth*") && is_glob("e?") && is_glob("e[12]"));
        assert!(!is_glob("eth2"));
    }

    /// A reference matcher by plain recursion, for the property test.
    fn reference(p: &[char], t: &[char]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some(('*', rest)) => (0..=t.len()).any(|k| reference(rest, &t[k..])),
            Some(('?', rest)) => !t.is_empty() && reference(rest, &t[1..]),
            Some((c, rest)) => t.first() == Some(c) && reference(rest, &t[1..]),
        }
    }

    proptest! {
        #[test]
        fn agrees_with_the_reference(p in "[ab*?]{0,8}", t in "[ab]{0,10}") {
            let pc: Vec<char> = p.chars().collect();
            let tc: Vec<char> = t.chars().collect();
            prop_assert_eq!(matches(&p, &t), reference(&pc, &tc));
        }

        #[test]
        fn a_name_matches_itself_and_star(t in "[a-z0-9_.-]{1,15}") {
            prop_assert!(matches(&t, &t));
            prop_assert!(matches("*", &t));
            let prefix = format!("{}*", &t[..1]);
            prop_assert!(matches(&prefix, &t));
        }
    }
}
