//! Tuning profiles: the YAML schema, validation with `FILE:LINE:COLUMN` locations, inheritance,
//! and resolution against a node into [`crate::model::Setting`]s.
//!
//! A profile goes through three stages:
//!
//! 1. [`raw`]: the file as written, plain serde structs with `deny_unknown_fields`, checked
//!    one key at a time so that every unknown key and wrong type is reported;
//! 2. [`validate`]: validated types ([`Block`], [`Amount`], [`CpuSpec`], ...) from small
//!    `validate_*` functions, then inheritance ([`Catalog::load`]) into a [`Profile`];
//! 3. [`resolve()`]: what the profile means on one node ([`Resolved`]): `max` and
//!    percentages against the device maxima, CPU policies against the topology, knobs the
//!    NIC does not support dropped with a note.
//!
//! The format is documented key by key in `profiles/README.md` and in [`FORMAT_HELP`].

mod catalog;
mod cpus;
pub mod glob;
pub mod outline;
pub mod raw;
mod resolve;
pub mod suggest;
pub mod validate;

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

pub use catalog::{Catalog, Entry, Validation, SHIPPED};
pub use cpus::{physical_cores, spread_order};
pub use resolve::{resolve, ModuleExpect, ResolveError, ResolveErrors, Resolved};
pub use validate::{
    Amount, Block, CpuSpec, IrqSpec, RpsSpec, Selector, Settings, XpsMode, XpsSpec,
};

use outline::{At, KeyPath, Outline};
use raw::RawProfile;

/// The profile format, key by key: the long help of `dpuctl profile` (the same text as the
/// format section of profiles/README.md).
pub const FORMAT_HELP: &str = include_str!("format.txt");

/// A problem in a profile file, with where it is. Displays as `FILE:LINE:COLUMN: MESSAGE`,
/// or `FILE: MESSAGE` when it concerns the file as a whole (it could not be read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// The file as the user named it (`<shipped>/NAME.yaml` for shipped profiles).
    pub file: String,
    /// Line, 1-based; 0 when the problem has no position.
    pub line: usize,
    /// Column in characters, 1-based; 0 when the problem has no position.
    pub column: usize,
    /// One line, lower-case.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )
        }
    }
}

/// A problem found in a parsed document, located by key path (turned into a
/// [`Diagnostic`] with the file's [`Outline`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where in the document.
    pub path: KeyPath,
    /// Key or value.
    pub at: At,
    /// One line.
    pub message: String,
}

/// Why a profile could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// Problems in the profile file or one it extends; each is one line.
    #[error("{}", lines(.0))]
    Invalid(Vec<Diagnostic>),
    /// No profile by this name.
    #[error("unknown profile '{name}' (known: {known}){hint}")]
    Unknown {
        /// The name asked for.
        name: String,
        /// The known names, comma-separated.
        known: String,
        /// `, did you mean 'x'?` or nothing.
        hint: String,
    },
    /// The profile file could not be read.
    #[error("cannot read profile {path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The error.
        source: crate::input::InputError,
    },
}

impl ProfileError {
    /// The located problems ([`ProfileError::Invalid`]); empty for the other kinds.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            ProfileError::Invalid(d) => d,
            _ => &[],
        }
    }
}

fn lines(d: &[Diagnostic]) -> String {
    d.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// A profile with its inheritance applied, ready for [`resolve()`].
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Where it came from: `shipped`, or the file's path.
    pub source: String,
    /// The profiles it is made of, ancestors first, itself last.
    pub chain: Vec<String>,
    /// Interface blocks, the ancestors' first.
    pub blocks: Vec<Block>,
    /// Sysctls (the profile's own values over its ancestors').
    pub sysctls: BTreeMap<String, String>,
    raw: RawProfile,
}

impl Profile {
    /// The profile in the file format with inheritance applied (no `extends`): what
    /// `dpuctl profile show` prints, and a valid profile file itself.
    pub fn raw(&self) -> &RawProfile {
        &self.raw
    }

    /// Parses a profile from text; `extends` may name shipped profiles only. For tests and
    /// callers that build profiles in memory.
    pub fn from_yaml(name: &str, text: &str) -> Result<Profile, ProfileError> {
        Catalog::shipped_only().load_text(name, text)
    }
}

/// Parses and validates one file, without inheritance. `stem` is the file name without
/// `.yaml`, which the `name:` key must equal. Returns the profile made of the parts without
/// problems (`None` when the text is not a YAML mapping) and every problem, sorted by
/// position; the file is valid when there is none.
pub(crate) fn parse_file(
    label: &str,
    stem: &str,
    text: &str,
) -> (Option<validate::FileProfile>, Vec<Diagnostic>) {
    // A file that is not a profile (`/etc/shadow`) is named, its text quoted at most in a
    // short excerpt of the offending token.
    let diag = |line: usize, column: usize, message: String| Diagnostic {
        file: label.to_string(),
        line,
        column,
        message: crate::input::shorten_quoted(&message),
    };
    let value: yaml_serde::Value = match yaml_serde::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
            // The parser's own position is the diagnostic's; drop it from the message.
            let msg = e
                .to_string()
                .replacen(&format!(" at line {line} column {column}"), "", 1);
            return (
                None,
                vec![diag(
                    line.max(1),
                    column.max(1),
                    format!("invalid YAML: {}", raw::reword(&msg)),
                )],
            );
        }
    };
    let outline = Outline::parse(text);
    let mut problems = Vec::new();
    let fp = raw::check(&value, &mut problems)
        .map(|r| validate::validate(r, stem, &outline, &mut problems));
    let mut out: Vec<Diagnostic> = problems
        .into_iter()
        .map(|p| {
            let pos = outline.locate(&p.path, p.at);
            diag(pos.line, pos.column, p.message)
        })
        .collect();
    out.sort_by_key(|d| (d.line, d.column));
    (fp, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(stem: &str, text: &str) -> Vec<String> {
        parse_file("x.yaml", stem, text)
            .1
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn errors_carry_file_line_and_column() {
        let text = "\
name: t
description: test
interfaces:
  - match: {name: eth*}
    ring: {rx: max}
    mtu: 70000
    rps: {cpus: nic-numaa}
sysctl:
  net.core.rmem_maxx: 1
";
        assert_eq!(
            errors("t", text),
            [
                "x.yaml:5:5: unknown key 'ring' in interfaces[0], did you mean 'rings'?",
                "x.yaml:6:10: interfaces[0].mtu: mtu 70000 is out of range (68 to 65535)",
                "x.yaml:7:17: interfaces[0].rps.cpus: unknown CPU policy 'nic-numaa', did you \
                 mean 'nic-numa'? (expected a CPU list like 0-5,12, a mask like 0x3f, or all, \
                 none, nic-numa, gpu-numa, gpu-numa:PCI-ADDRESS)",
                "x.yaml:9:3: unknown sysctl 'net.core.rmem_maxx', did you mean 'net.core.rmem_max'?",
            ]
        );
    }

    #[test]
    fn syntax_errors_use_the_parser_location() {
        let e = errors("t", "name: t\ndescription: [a\n");
        assert_eq!(
            e,
            [
                "x.yaml:3:1: invalid YAML: did not find expected ',' or ']', while parsing a flow \
              sequence at line 2 column 14"
            ]
        );
        let e = errors("t", "name: t\n  bad: indent\n");
        assert_eq!(
            e,
            ["x.yaml:2:6: invalid YAML: mapping values are not allowed in this context"]
        );
    }

    #[test]
    fn name_and_description_are_required() {
        assert_eq!(
            errors("t", ""),
            [
                "x.yaml:1:1: missing key 'name' (the file name without .yaml: 't')",
                "x.yaml:1:1: missing key 'description'",
            ]
        );
        assert_eq!(
            errors("t", "name: u\ndescription: d\n"),
            ["x.yaml:1:7: name 'u' differs from the file name 't.yaml'"]
        );
    }

    #[test]
    fn unquoted_hex_masks_and_pci_ids_keep_their_meaning() {
        let text = "\
name: t
description: d
interfaces:
  - match: {pci_vendor: 8086}
    rps: {cpus: 0x3f}
    xps: {cpus: 5}
";
        let (fp, d) = parse_file("x.yaml", "t", text);
        assert_eq!(d, []);
        let fp = fp.expect("valid");
        let b = &fp.blocks[0];
        assert_eq!(b.selector.pci_vendor, Some(0x8086));
        let rps = b.settings.rps.as_ref().and_then(|r| r.cpus.clone());
        assert_eq!(
            rps,
            Some(CpuSpec::Set(crate::model::CpuSet::from_cpus(0..6)))
        );
        let xps = b.settings.xps.as_ref().and_then(|r| r.cpus.clone());
        assert_eq!(
            xps,
            Some(CpuSpec::Set(crate::model::CpuSet::from_cpus([5])))
        );
    }

    /// Every key of a shipped profile has a comment line right above it saying why.
    #[test]
    fn shipped_profiles_comment_every_key() {
        for (name, text) in SHIPPED {
            let mut prev = "";
            for (i, line) in text.lines().enumerate() {
                let t = line.trim_start();
                let t = t.strip_prefix("- ").unwrap_or(t);
                let is_key = t
                    .split_once(':')
                    .is_some_and(|(k, _)| !k.is_empty() && !k.starts_with('#') && !k.contains(' '));
                if is_key {
                    assert!(
                        prev.trim_start().starts_with('#'),
                        "{name}.yaml:{}: no comment above {t:?}",
                        i + 1
                    );
                }
                if !line.trim().is_empty() {
                    prev = line;
                }
            }
        }
    }

    /// `dpuctl profile --help` and profiles/README.md carry the same format text, and it
    /// documents every key of the schema.
    #[test]
    fn the_format_text_is_in_the_readme_and_names_every_key() {
        use crate::model::knobs;
        let readme = include_str!("../../profiles/README.md");
        assert!(
            readme.contains(FORMAT_HELP),
            "README's format section is FORMAT_HELP"
        );
        let keys = [
            raw::fields_of::<raw::RawProfile>(),
            raw::fields_of::<raw::RawBlock>(),
            raw::fields_of::<raw::RawMatch>(),
            raw::fields_of::<raw::RawRps>(),
            raw::fields_of::<raw::RawXps>(),
            raw::fields_of::<raw::RawIrq>(),
        ];
        for k in keys.iter().flat_map(|k| k.iter()) {
            assert!(FORMAT_HELP.contains(k), "{k} is not documented");
        }
        for kind in [
            knobs::KnobKind::Ring,
            knobs::KnobKind::Channel,
            knobs::KnobKind::Pause,
        ] {
            for k in knobs::names(kind) {
                assert!(
                    FORMAT_HELP.contains(k),
                    "{} {k} is not documented",
                    kind.noun()
                );
            }
        }
        for (_, short) in knobs::SHOWN_FEATURES {
            assert!(
                FORMAT_HELP.contains(short),
                "feature {short} is not documented"
            );
        }
        for word in [
            "max",
            "per-local-core",
            "min(A, B)",
            "nic-numa",
            "gpu-numa",
            "exclude",
        ] {
            assert!(FORMAT_HELP.contains(word), "{word}");
        }
        assert!(FORMAT_HELP.lines().all(|l| l.chars().count() <= 100));
    }

    /// The outline finds every key of every shipped profile and bad-corpus file exactly
    /// where it is written (checked against the parsed document's key paths).
    #[test]
    fn the_outline_locates_every_key_of_real_profiles() {
        fn walk(v: &yaml_serde::Value, path: &KeyPath, out: &mut Vec<KeyPath>) {
            match v {
                yaml_serde::Value::Mapping(m) => {
                    for (k, val) in m {
                        let p = path.key(&raw::key_text(k));
                        out.push(p.clone());
                        walk(val, &p, out);
                    }
                }
                yaml_serde::Value::Sequence(items) => {
                    for (i, val) in items.iter().enumerate() {
                        walk(val, &path.index(i), out);
                    }
                }
                _ => {}
            }
        }
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/profiles/bad");
        let mut texts: Vec<(String, String)> = SHIPPED
            .iter()
            .map(|(n, t)| ((*n).to_string(), (*t).to_string()))
            .collect();
        for e in std::fs::read_dir(dir).expect("corpus") {
            let p = e.expect("entry").path();
            if p.extension().is_some_and(|x| x == "yaml") {
                let t = std::fs::read_to_string(&p).expect("read");
                texts.push((p.display().to_string(), t));
            }
        }
        let mut checked = 0;
        for (name, text) in &texts {
            let Ok(v) = yaml_serde::from_str::<yaml_serde::Value>(text) else {
                continue;
            };
            let outline = Outline::parse(text);
            let mut paths = Vec::new();
            walk(&v, &KeyPath::default(), &mut paths);
            let lines: Vec<&str> = text.lines().collect();
            for p in paths {
                let Some(outline::Seg::Key(k)) = p.0.last() else {
                    continue;
                };
                let pos = outline.locate(&p, At::Key);
                let at: String = lines[pos.line - 1].chars().skip(pos.column - 1).collect();
                let at = at.trim_start_matches(['"', '\'']);
                assert!(
                    at.starts_with(k.as_str()),
                    "{name}: {p} found at {pos:?}: {at:?}"
                );
                checked += 1;
            }
        }
        assert!(checked > 200, "{checked} keys checked");
    }
}
