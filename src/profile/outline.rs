//! Where things are in a YAML text: a best-effort outline of its block and flow mappings and
//! sequences, with the line and column of every key and value.
//!
//! `yaml_serde` reports a location for syntax errors, but its values carry none, so errors
//! found after parsing (unknown keys, wrong types, out-of-range values) are located by
//! walking this outline with the key path of the offending value. The outline is only built
//! from text that `yaml_serde` has already parsed, so it need not diagnose anything; on
//! constructs it does not model (complex keys, multi-line plain scalars) it degrades to the
//! deepest location it did find. Lines and columns are 1-based, columns count characters.

use std::collections::HashMap;
use std::fmt;

/// A line and column, both 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    /// Line.
    pub line: usize,
    /// Column, in characters.
    pub column: usize,
}

impl Pos {
    /// The start of the text.
    pub const START: Pos = Pos { line: 1, column: 1 };
}

/// One step of a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

/// A key path such as `interfaces[0].rings.rx`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyPath(pub Vec<Seg>);

impl KeyPath {
    /// The path one key further down.
    #[must_use]
    pub fn key(&self, k: &str) -> KeyPath {
        let mut v = self.0.clone();
        v.push(Seg::Key(k.to_string()));
        KeyPath(v)
    }

    /// The path one index further down.
    #[must_use]
    pub fn index(&self, i: usize) -> KeyPath {
        let mut v = self.0.clone();
        v.push(Seg::Index(i));
        KeyPath(v)
    }

    /// The path without its last step.
    #[must_use]
    pub fn parent(&self) -> KeyPath {
        let mut v = self.0.clone();
        v.pop();
        KeyPath(v)
    }

    /// True for the document root.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for KeyPath {
    /// `interfaces[0].rings.rx`; keys with dots (sysctl names) in brackets and quotes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            match s {
                Seg::Key(k) if k.contains('.') => write!(f, "[\"{k}\"]")?,
                Seg::Key(k) if i == 0 => f.write_str(k)?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// Which position of a mapping entry an error points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At {
    /// The key (unknown keys, whole sections).
    Key,
    /// The value (wrong types, out-of-range values); the key where the value has no
    /// position of its own.
    Value,
}

/// The outline of one YAML document.
#[derive(Debug, Default)]
pub struct Outline {
    root: Node,
}

#[derive(Debug, Default)]
enum Node {
    #[default]
    Empty,
    Scalar(String),
    Map(Map),
    Seq(Vec<Item>),
}

/// A mapping's entries as written, with the index of each key's last entry (the one YAML
/// keeps), so that a lookup costs the same for the first key and the 200,000th.
#[derive(Debug)]
struct Map {
    entries: Vec<Entry>,
    last: HashMap<String, usize>,
}

impl Map {
    fn new(entries: Vec<Entry>) -> Self {
        let last = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.key.clone(), i))
            .collect();
        Self { entries, last }
    }

    fn get(&self, key: &str) -> Option<&Entry> {
        self.last.get(key).and_then(|&i| self.entries.get(i))
    }
}

#[derive(Debug)]
struct Entry {
    key: String,
    key_pos: Pos,
    value_pos: Option<Pos>,
    value: Node,
}

#[derive(Debug)]
struct Item {
    pos: Pos,
    value: Node,
}

/// A line with its indentation measured and its comment removed.
#[derive(Debug, Clone)]
struct Line {
    no: usize,
    indent: usize,
    text: Vec<char>,
}

impl Line {
    fn pos(&self, offset: usize) -> Pos {
        Pos {
            line: self.no,
            column: self.indent + offset + 1,
        }
    }
}

impl Outline {
    /// Outlines a YAML text (the first document).
    pub fn parse(text: &str) -> Outline {
        let mut lines = Vec::new();
        let mut started = false;
        for (i, raw) in text.lines().enumerate() {
            let chars: Vec<char> = raw.chars().collect();
            let indent = chars.iter().take_while(|c| **c == ' ').count();
            let body = strip_comment(&chars[indent..]);
            if body.is_empty() || (indent == 0 && body[0] == '%') {
                continue;
            }
            let s: String = body.iter().collect();
            if indent == 0 && (s == "---" || s.starts_with("--- ") || s == "...") {
                if started {
                    break;
                }
                continue;
            }
            started = true;
            lines.push(Line {
                no: i + 1,
                indent,
                text: body,
            });
        }
        let mut p = Parser { lines, i: 0 };
        let (root, _) = p.block(0);
        Outline { root }
    }

    /// The position of the entry at `path`, or of the deepest part of it that exists.
    pub fn locate(&self, path: &KeyPath, at: At) -> Pos {
        let mut node = &self.root;
        let mut best = Pos::START;
        let n = path.0.len();
        for (idx, seg) in path.0.iter().enumerate() {
            let last = idx + 1 == n;
            match (seg, node) {
                (Seg::Key(k), Node::Map(map)) => {
                    let Some(e) = map.get(k) else {
                        return best;
                    };
                    best = if last && at == At::Value {
                        e.value_pos.unwrap_or(e.key_pos)
                    } else {
                        e.key_pos
                    };
                    node = &e.value;
                }
                (Seg::Index(i), Node::Seq(items)) => {
                    let Some(it) = items.get(*i) else {
                        return best;
                    };
                    best = it.pos;
                    node = &it.value;
                }
                _ => return best,
            }
        }
        best
    }

    /// The text of the scalar at `path` as written (quotes removed), e.g. `0x3f` where the
    /// parsed value is the number 63.
    pub fn scalar(&self, path: &KeyPath) -> Option<&str> {
        let mut node = &self.root;
        for seg in &path.0 {
            node = match (seg, node) {
                (Seg::Key(k), Node::Map(map)) => &map.get(k)?.value,
                (Seg::Index(i), Node::Seq(items)) => &items.get(*i)?.value,
                _ => return None,
            };
        }
        match node {
            Node::Scalar(s) => Some(s),
            _ => None,
        }
    }
}

struct Parser {
    lines: Vec<Line>,
    i: usize,
}

impl Parser {
    /// The node starting at the current line if it is indented at least `min`.
    fn block(&mut self, min: usize) -> (Node, Option<Pos>) {
        let Some(l) = self.lines.get(self.i) else {
            return (Node::Empty, None);
        };
        if l.indent < min {
            return (Node::Empty, None);
        }
        let ind = l.indent;
        let pos = l.pos(0);
        if is_seq_item(&l.text) {
            (self.seq(ind), Some(pos))
        } else if split_key(&l.text).is_some() {
            (self.map(ind), Some(pos))
        } else {
            let node = self.inline(0);
            // Continuation lines of a multi-line scalar.
            while self.lines.get(self.i).is_some_and(|l| l.indent >= ind) {
                self.i += 1;
            }
            (node, Some(pos))
        }
    }

    fn map(&mut self, ind: usize) -> Node {
        let mut entries = Vec::new();
        while let Some(l) = self.lines.get(self.i) {
            if l.indent != ind || is_seq_item(&l.text) {
                break;
            }
            let Some((key, key_off, rest_off)) = split_key(&l.text) else {
                break;
            };
            let key_pos = l.pos(key_off);
            if rest_off < l.text.len() {
                let value_pos = Some(l.pos(rest_off));
                let value = self.inline(rest_off);
                // Block scalar content and continuation lines.
                while self.lines.get(self.i).is_some_and(|l| l.indent > ind) {
                    self.i += 1;
                }
                entries.push(Entry {
                    key,
                    key_pos,
                    value_pos,
                    value,
                });
            } else {
                self.i += 1;
                let (value, value_pos) = match self.lines.get(self.i) {
                    Some(n) if n.indent > ind => self.block(ind + 1),
                    Some(n) if n.indent == ind && is_seq_item(&n.text) => {
                        let p = n.pos(0);
                        (self.seq(ind), Some(p))
                    }
                    _ => (Node::Empty, None),
                };
                entries.push(Entry {
                    key,
                    key_pos,
                    value_pos,
                    value,
                });
            }
        }
        Node::Map(Map::new(entries))
    }

    fn seq(&mut self, ind: usize) -> Node {
        let mut items = Vec::new();
        while let Some(l) = self.lines.get(self.i) {
            if l.indent != ind || !is_seq_item(&l.text) {
                break;
            }
            let mut k = 1;
            while k < l.text.len() && l.text[k] == ' ' {
                k += 1;
            }
            if k >= l.text.len() {
                let dash = l.pos(0);
                self.i += 1;
                let (value, pos) = match self.lines.get(self.i) {
                    Some(n) if n.indent > ind => self.block(ind + 1),
                    _ => (Node::Empty, None),
                };
                items.push(Item {
                    pos: pos.unwrap_or(dash),
                    value,
                });
            } else {
                // `- key: value`: the item's content is a node indented at its first character.
                let line = &mut self.lines[self.i];
                line.text = line.text[k..].to_vec();
                line.indent += k;
                let pos = line.pos(0);
                let new_indent = line.indent;
                let (value, _) = self.block(new_indent);
                items.push(Item { pos, value });
            }
        }
        Node::Seq(items)
    }

    /// The node written inline from `offset` of the current line: a flow collection (which
    /// may continue on the following lines) or a scalar. Consumes the lines it uses.
    fn inline(&mut self, offset: usize) -> Node {
        let l = &self.lines[self.i];
        let first = l.text[offset];
        if first != '{' && first != '[' {
            let s: String = l.text[offset..].iter().collect();
            self.i += 1;
            return Node::Scalar(unquote(s.trim()));
        }
        let mut cs: Vec<(char, Pos)> = Vec::new();
        let mut depth = 0i32;
        let mut quote: Option<char> = None;
        let mut start = offset;
        while let Some(l) = self.lines.get(self.i) {
            for (k, &c) in l.text.iter().enumerate().skip(start) {
                cs.push((c, l.pos(k)));
                match (quote, c) {
                    (Some('"'), '\\') => {}
                    (Some(q), c) if c == q => quote = None,
                    (None, '"' | '\'') => quote = Some(c),
                    (None, '{' | '[') => depth += 1,
                    (None, '}' | ']') => depth -= 1,
                    _ => {}
                }
            }
            self.i += 1;
            start = 0;
            if depth <= 0 {
                break;
            }
            cs.push((' ', l.pos(l.text.len())));
        }
        let mut k = 0;
        flow_node(&cs, &mut k).0
    }
}

fn skip_ws(cs: &[(char, Pos)], k: &mut usize) {
    while *k < cs.len() && cs[*k].0.is_whitespace() {
        *k += 1;
    }
}

fn flow_node(cs: &[(char, Pos)], k: &mut usize) -> (Node, Option<Pos>) {
    skip_ws(cs, k);
    let Some(&(c, pos)) = cs.get(*k) else {
        return (Node::Empty, None);
    };
    match c {
        '{' => {
            *k += 1;
            let mut entries = Vec::new();
            loop {
                skip_ws(cs, k);
                match cs.get(*k).map(|x| x.0) {
                    None => break,
                    Some('}') => {
                        *k += 1;
                        break;
                    }
                    Some(',') => {
                        *k += 1;
                        continue;
                    }
                    _ => {}
                }
                let key_pos = cs[*k].1;
                let key = flow_scalar(cs, k, true);
                skip_ws(cs, k);
                let (value, value_pos) = if cs.get(*k).map(|x| x.0) == Some(':') {
                    *k += 1;
                    flow_node(cs, k)
                } else {
                    (Node::Empty, None)
                };
                entries.push(Entry {
                    key,
                    key_pos,
                    value_pos,
                    value,
                });
            }
            (Node::Map(Map::new(entries)), Some(pos))
        }
        '[' => {
            *k += 1;
            let mut items = Vec::new();
            loop {
                skip_ws(cs, k);
                match cs.get(*k).map(|x| x.0) {
                    None => break,
                    Some(']') => {
                        *k += 1;
                        break;
                    }
                    Some(',') => {
                        *k += 1;
                        continue;
                    }
                    _ => {}
                }
                let before = *k;
                let (value, p) = flow_node(cs, k);
                items.push(Item {
                    pos: p.unwrap_or(pos),
                    value,
                });
                if *k == before {
                    // Not progressing (stray character): give up on this collection.
                    *k += 1;
                }
            }
            (Node::Seq(items), Some(pos))
        }
        '}' | ']' | ',' => (Node::Empty, None),
        _ => (Node::Scalar(flow_scalar(cs, k, false)), Some(pos)),
    }
}

/// A scalar inside a flow collection: quoted, or plain up to `,` `]` `}` (and, for a key,
/// up to a `:` followed by a blank or an indicator).
fn flow_scalar(cs: &[(char, Pos)], k: &mut usize, is_key: bool) -> String {
    let start = *k;
    if let Some(&(q, _)) = cs.get(*k).filter(|(c, _)| *c == '"' || *c == '\'') {
        *k += 1;
        while *k < cs.len() {
            let c = cs[*k].0;
            if q == '"' && c == '\\' {
                *k += 2;
                continue;
            }
            if c == q {
                if q == '\'' && cs.get(*k + 1).map(|x| x.0) == Some('\'') {
                    *k += 2;
                    continue;
                }
                *k += 1;
                break;
            }
            *k += 1;
        }
    } else {
        while *k < cs.len() {
            let c = cs[*k].0;
            if matches!(c, ',' | ']' | '}' | '[' | '{') {
                break;
            }
            if c == ':' {
                let next = cs.get(*k + 1).map(|x| x.0);
                if is_key || next.is_none_or(|n| n.is_whitespace() || matches!(n, ',' | ']' | '}'))
                {
                    break;
                }
            }
            *k += 1;
        }
    }
    let s: String = cs[start..(*k).min(cs.len())].iter().map(|x| x.0).collect();
    unquote(s.trim())
}

/// True for a block sequence entry: `-` alone or followed by a blank.
fn is_seq_item(text: &[char]) -> bool {
    text.first() == Some(&'-') && text.get(1).is_none_or(|c| *c == ' ' || *c == '\t')
}

/// A block mapping line `key: rest`: the key (unquoted), the offset of the key and the offset
/// of the rest (the length of the line when nothing follows the colon).
fn split_key(text: &[char]) -> Option<(String, usize, usize)> {
    let first = *text.first()?;
    if matches!(first, '{' | '[' | '?' | '|' | '>') {
        return None;
    }
    let colon = if first == '"' || first == '\'' {
        let mut k = 1;
        loop {
            let c = *text.get(k)?;
            if first == '"' && c == '\\' {
                k += 2;
                continue;
            }
            if c == first {
                if first == '\'' && text.get(k + 1) == Some(&'\'') {
                    k += 2;
                    continue;
                }
                break;
            }
            k += 1;
        }
        let mut j = k + 1;
        while text.get(j) == Some(&' ') {
            j += 1;
        }
        (text.get(j) == Some(&':')).then_some(j)?
    } else {
        (0..text.len())
            .find(|&k| text[k] == ':' && text.get(k + 1).is_none_or(|c| *c == ' ' || *c == '\t'))?
    };
    let key: String = text[..colon].iter().collect();
    let key = unquote(key.trim_end());
    let mut rest = colon + 1;
    while rest < text.len() && (text[rest] == ' ' || text[rest] == '\t') {
        rest += 1;
    }
    Some((key, 0, rest))
}

/// Removes a trailing comment: `#` at the start or after a blank, outside quotes. A quote
/// opens a quoted scalar only where a scalar can start (after a blank or an indicator), so
/// the apostrophe in `NIC's` does not.
fn strip_comment(text: &[char]) -> Vec<char> {
    let mut quote: Option<char> = None;
    let mut k = 0;
    while k < text.len() {
        let c = text[k];
        let prev = if k == 0 { None } else { Some(text[k - 1]) };
        match quote {
            Some('"') if c == '\\' => k += 1,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => {
                let at_start = prev.is_none_or(|p| p.is_whitespace() || "[{,:-?".contains(p));
                if (c == '"' || c == '\'') && at_start {
                    quote = Some(c);
                } else if c == '#' && prev.is_none_or(char::is_whitespace) {
                    break;
                }
            }
        }
        k += 1;
    }
    let mut out = text[..k.min(text.len())].to_vec();
    while out.last().is_some_and(|c| c.is_whitespace()) {
        out.pop();
    }
    out
}

/// The content of a quoted scalar (simple escapes only); other text as it is.
fn unquote(s: &str) -> String {
    if s.len() >= 2 && s.starts_with('\'') && s.ends_with('\'') {
        return s[1..s.len() - 1].replace("''", "'");
    }
    if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') {
        let inner = &s[1..s.len() - 1];
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some(other) => out.push(other),
                    None => {}
                }
            } else {
                out.push(c);
            }
        }
        return out;
    }
    s.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(s: &str) -> KeyPath {
        // "interfaces.0.rings.rx": numbers are indices.
        KeyPath(
            s.split('/')
                .filter(|p| !p.is_empty())
                .map(|p| match p.parse::<usize>() {
                    Ok(n) => Seg::Index(n),
                    Err(_) => Seg::Key(p.to_string()),
                })
                .collect(),
        )
    }

    fn at(o: &Outline, p: &str) -> (usize, usize) {
        let pos = o.locate(&path(p), At::Key);
        (pos.line, pos.column)
    }

    fn val(o: &Outline, p: &str) -> (usize, usize) {
        let pos = o.locate(&path(p), At::Value);
        (pos.line, pos.column)
    }

    const DOC: &str = "\
# a profile
name: latency   # trailing comment
description: \"it's # not a comment\"
extends: [base, 'other one']
interfaces:
  - match:
      name: [eth*, ens1f*]
    rings: {rx: max, tx: 50%}
    ring: 3
  -   match: {driver: mlx5_core}
      coalesce:
        rx_usecs: 8
sysctl:
  net.core.rmem_max: 16777216
  \"net.ipv4.tcp_rmem\": \"4096 87380 16777216\"
cpus: 0x3f
";

    #[test]
    fn keys_and_values_are_located() {
        let o = Outline::parse(DOC);
        assert_eq!(at(&o, "name"), (2, 1));
        assert_eq!(val(&o, "name"), (2, 7));
        assert_eq!(at(&o, "description"), (3, 1));
        assert_eq!(at(&o, "extends/1"), (4, 17));
        assert_eq!(at(&o, "interfaces"), (5, 1));
        assert_eq!(at(&o, "interfaces/0"), (6, 5));
        assert_eq!(at(&o, "interfaces/0/match"), (6, 5));
        assert_eq!(at(&o, "interfaces/0/match/name"), (7, 7));
        assert_eq!(at(&o, "interfaces/0/match/name/1"), (7, 20));
        assert_eq!(at(&o, "interfaces/0/rings"), (8, 5));
        assert_eq!(at(&o, "interfaces/0/rings/tx"), (8, 22));
        assert_eq!(val(&o, "interfaces/0/rings/tx"), (8, 26));
        assert_eq!(at(&o, "interfaces/0/ring"), (9, 5));
        assert_eq!(at(&o, "interfaces/1"), (10, 7));
        assert_eq!(at(&o, "interfaces/1/match/driver"), (10, 15));
        assert_eq!(at(&o, "interfaces/1/coalesce/rx_usecs"), (12, 9));
        assert_eq!(at(&o, "sysctl/net.core.rmem_max"), (14, 3));
        assert_eq!(at(&o, "sysctl/net.ipv4.tcp_rmem"), (15, 3));
        assert_eq!(val(&o, "sysctl/net.ipv4.tcp_rmem"), (15, 24));
        assert_eq!(o.scalar(&path("cpus")), Some("0x3f"));
        assert_eq!(o.scalar(&path("description")), Some("it's # not a comment"));
        assert_eq!(o.scalar(&path("extends/1")), Some("other one"));
        assert_eq!(o.scalar(&path("interfaces/0/rings/tx")), Some("50%"));
    }

    #[test]
    fn missing_paths_fall_back_to_the_deepest_match() {
        let o = Outline::parse(DOC);
        assert_eq!(at(&o, "interfaces/0/rings/rx_jumbo"), (8, 5));
        assert_eq!(at(&o, "interfaces/7/rings"), (5, 1));
        assert_eq!(at(&o, "nothing"), (1, 1));
        assert_eq!(at(&o, ""), (1, 1));
        assert_eq!(o.scalar(&path("interfaces/0")), None);
    }

    #[test]
    fn sequences_at_the_key_indent_block_scalars_and_multiline_flows() {
        let text = "\
name: x
extends:
- a
- b
description: |
  first: line
  second line
interfaces:
- match:
    name: eth*
  rps:
    cpus: nic-numa
- match: {name: [a,
    b], driver: igb}
  mtu: 9000
";
        let o = Outline::parse(text);
        assert_eq!(at(&o, "extends/1"), (4, 3));
        assert_eq!(at(&o, "interfaces"), (8, 1));
        assert_eq!(at(&o, "interfaces/0/rps/cpus"), (12, 5));
        assert_eq!(at(&o, "interfaces/1/match/driver"), (14, 9));
        assert_eq!(at(&o, "interfaces/1/match/name/1"), (14, 5));
        assert_eq!(at(&o, "interfaces/1/mtu"), (15, 3));
        assert_eq!(val(&o, "interfaces/1/mtu"), (15, 8));
    }

    #[test]
    fn documents_nested_sequences_and_odd_input() {
        let o = Outline::parse("---\na:\n  - - x\n    - y\n  - z\n...\nb: 1\n");
        assert_eq!(at(&o, "a/0/1"), (4, 7));
        assert_eq!(at(&o, "a/1"), (5, 5));
        assert_eq!(at(&o, "b"), (1, 1), "after the end marker: not outlined");
        // Nothing panics on text that is not a mapping.
        for t in [
            "",
            "just text",
            "- a\n- b",
            "{a: [1, 2",
            "a: {b: 'c",
            "k: \"x\\\"",
            ": x",
            "\u{e9}t\u{e9}: 1",
        ] {
            let o = Outline::parse(t);
            let _ = o.locate(&path("a/0/b"), At::Value);
        }
        let o = Outline::parse("\u{e9}t\u{e9}: {x: 1}");
        assert_eq!(
            at(&o, "\u{e9}t\u{e9}/x"),
            (1, 7),
            "columns count characters"
        );
    }

    #[test]
    fn key_paths_display_like_the_messages_use_them() {
        let p = KeyPath::default()
            .key("interfaces")
            .index(0)
            .key("rings")
            .key("rx");
        assert_eq!(p.to_string(), "interfaces[0].rings.rx");
        let p = KeyPath::default().key("sysctl").key("net.core.rmem_max");
        assert_eq!(p.to_string(), "sysctl[\"net.core.rmem_max\"]");
        assert_eq!(p.parent().to_string(), "sysctl");
    }
}
