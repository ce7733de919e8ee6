//! Where profiles come from (shipped in the binary, the user profile directory, any path),
//! and inheritance: `extends` chains with cycle detection.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use serde::Serialize;

use super::outline::Pos;
use super::raw::{RawBlock, RawProfile};
use super::suggest;
use super::validate::{validate_profile_name, FileProfile};
use super::{parse_file, Diagnostic, Profile, ProfileError};

/// The shipped profiles, embedded in the binary: name and YAML text.
pub const SHIPPED: &[(&str, &str)] = &[
    ("balanced", include_str!("../../profiles/balanced.yaml")),
    (
        "gpu-inference",
        include_str!("../../profiles/gpu-inference.yaml"),
    ),
    (
        "gpu-training",
        include_str!("../../profiles/gpu-training.yaml"),
    ),
    ("latency", include_str!("../../profiles/latency.yaml")),
    ("throughput", include_str!("../../profiles/throughput.yaml")),
];

/// How shipped profiles are named in messages.
const SHIPPED_DIR: &str = "<shipped>";

/// One row of `dpuctl profile list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Profile name.
    pub name: String,
    /// `shipped`, or the user file's path.
    pub source: String,
    /// Description, or why the file is invalid.
    pub description: String,
}

/// The outcome of `dpuctl profile validate`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validation {
    /// Each argument as named, and whether it (with everything it extends) is valid.
    pub files: Vec<(String, bool)>,
    /// Every problem found, in every file read (arguments and the profiles they extend),
    /// each reported once.
    pub diagnostics: Vec<Diagnostic>,
}

impl Validation {
    /// True when every file is valid.
    pub fn ok(&self) -> bool {
        self.files.iter().all(|(_, ok)| *ok) && self.diagnostics.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Shipped(&'static str),
    File(PathBuf),
    Text(String),
}

/// A profile source: its identity, how to name it, and its text.
#[derive(Debug, Clone)]
struct Src {
    key: Key,
    label: String,
    stem: String,
    text: String,
    /// Found in the user profile directory by name.
    user: bool,
}

/// The profiles a command can use: the user profile directory first, then the shipped ones.
#[derive(Debug, Clone)]
pub struct Catalog {
    dir: Option<PathBuf>,
}

/// An argument containing `/` or ending in `.yaml` (or `.yml`) is a path, anything else a
/// profile name.
pub fn is_path(spec: &str) -> bool {
    spec.contains('/')
        || Path::new(spec)
            .extension()
            .is_some_and(|e| e == "yaml" || e == "yml")
}

fn stem_of(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

impl Catalog {
    /// A catalog with this user profile directory (it need not exist).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: Some(dir.into()),
        }
    }

    /// The shipped profiles only.
    pub fn shipped_only() -> Self {
        Self { dir: None }
    }

    /// User profiles: `(name, path)` of every `*.yaml` / `*.yml` in the directory, by name.
    fn user_files(&self) -> io::Result<Vec<(String, PathBuf)>> {
        let Some(dir) = &self.dir else {
            return Ok(Vec::new());
        };
        let rd = match std::fs::read_dir(dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut out: Vec<(String, PathBuf)> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml") && p.is_file())
            .map(|p| (stem_of(&p), p))
            .collect();
        out.sort();
        Ok(out)
    }

    fn user_file(&self, name: &str) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        ["yaml", "yml"]
            .iter()
            .map(|e| dir.join(format!("{name}.{e}")))
            .find(|p| p.is_file())
    }

    /// Every profile name there is, sorted, without repeats.
    fn known_names(&self) -> Vec<String> {
        let mut names: Vec<String> = SHIPPED.iter().map(|(n, _)| (*n).to_string()).collect();
        names.extend(
            self.user_files()
                .unwrap_or_default()
                .into_iter()
                .map(|(n, _)| n),
        );
        names.sort();
        names.dedup();
        names
    }

    fn unknown(&self, name: &str) -> ProfileError {
        let known = self.known_names();
        let hint = suggest::did_you_mean(name, known.iter().map(String::as_str))
            .map_or_else(String::new, |s| format!(", did you mean '{s}'?"));
        ProfileError::Unknown {
            name: name.to_string(),
            known: known.join(", "),
            hint,
        }
    }

    fn read(path: &Path, label: String, user: bool) -> Result<Src, ProfileError> {
        let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Io {
            path: label.clone(),
            source,
        })?;
        Ok(Src {
            key: Key::File(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())),
            label,
            stem: stem_of(path),
            text,
            user,
        })
    }

    /// Finds a profile by name or path. Relative paths in `extends` are relative to the
    /// extending file. A user profile that extends its own name gets the shipped one (so
    /// `/etc/dpuctl/profiles.d/throughput.yaml` can say `extends: throughput`).
    fn open(&self, spec: &str, from: Option<&Src>) -> Result<Src, ProfileError> {
        if is_path(spec) {
            let p = Path::new(spec);
            let path = match from.map(|f| &f.key) {
                Some(Key::File(parent)) if p.is_relative() => parent
                    .parent()
                    .map_or_else(|| p.to_path_buf(), |d| d.join(p)),
                _ => p.to_path_buf(),
            };
            let label = match from {
                Some(f) if p.is_relative() => Path::new(&f.label)
                    .parent()
                    .map_or_else(|| spec.to_string(), |d| d.join(p).display().to_string()),
                _ => spec.to_string(),
            };
            return Self::read(&path, label, false);
        }
        if validate_profile_name(spec).is_err() {
            return Err(self.unknown(spec));
        }
        let self_reference = from.is_some_and(|f| f.user && f.stem == spec);
        if !self_reference {
            if let Some(p) = self.user_file(spec) {
                return Self::read(&p, p.display().to_string(), true);
            }
        }
        SHIPPED
            .iter()
            .find(|(n, _)| *n == spec)
            .map(|(n, text)| Src {
                key: Key::Shipped(n),
                label: format!("{SHIPPED_DIR}/{n}.yaml"),
                stem: (*n).to_string(),
                text: (*text).to_string(),
                user: false,
            })
            .ok_or_else(|| self.unknown(spec))
    }

    /// Loads a profile by name or path with its inheritance applied.
    pub fn load(&self, spec: &str) -> Result<Profile, ProfileError> {
        let src = self.open(spec, None)?;
        self.load_src(&src)
    }

    /// The text of a profile as written, comments included (the embedded file for a shipped
    /// one, the file's contents for a user one or a path), and where it came from.
    pub fn text(&self, spec: &str) -> Result<(String, String), ProfileError> {
        let src = self.open(spec, None)?;
        Ok((src.label, src.text))
    }

    /// Loads a profile from text (named `name`), with its inheritance applied.
    pub fn load_text(&self, name: &str, text: &str) -> Result<Profile, ProfileError> {
        let src = Src {
            key: Key::Text(name.to_string()),
            label: format!("{name}.yaml"),
            stem: name.to_string(),
            text: text.to_string(),
            user: false,
        };
        self.load_src(&src)
    }

    fn load_src(&self, src: &Src) -> Result<Profile, ProfileError> {
        let mut l = Loader::new(self);
        match l.effective(src, &mut Vec::new()) {
            Some(p) if l.diags.is_empty() => Ok((*p).clone()),
            _ => Err(ProfileError::Invalid(by_file(l.diags))),
        }
    }

    /// Checks profile files (or names): every problem in each file and in the profiles they
    /// extend, each reported once.
    pub fn validate(&self, specs: &[String]) -> Validation {
        let mut l = Loader::new(self);
        let mut files = Vec::new();
        for spec in specs {
            // A name that is not a file here is looked up like `show` and `tune` do.
            let as_name = !is_path(spec) && !Path::new(spec).exists();
            let opened = if as_name {
                self.open(spec, None)
            } else {
                Self::read(Path::new(spec), spec.clone(), false)
            };
            match opened {
                Ok(src) => {
                    let ok = l.effective(&src, &mut Vec::new()).is_some();
                    files.push((src.label, ok));
                }
                Err(e) => {
                    l.diags.push(Diagnostic {
                        file: spec.clone(),
                        line: 0,
                        column: 0,
                        message: match e {
                            ProfileError::Io { source, .. } => format!("cannot read: {source}"),
                            other => other.to_string(),
                        },
                    });
                    files.push((spec.clone(), false));
                }
            }
        }
        Validation {
            files,
            diagnostics: by_file(l.diags),
        }
    }

    /// The shipped and user profiles with their descriptions, by name (a user profile
    /// before the shipped one it overrides).
    pub fn list(&self) -> Result<Vec<Entry>, ProfileError> {
        let users = self.user_files().map_err(|source| ProfileError::Io {
            path: self
                .dir
                .as_ref()
                .map(|d| d.display().to_string())
                .unwrap_or_default(),
            source,
        })?;
        let mut out = Vec::new();
        for (name, path) in &users {
            let label = path.display().to_string();
            let description = match std::fs::read_to_string(path) {
                Ok(text) => describe(&label, name, &text),
                Err(e) => format!("(cannot read: {e})"),
            };
            out.push((name.clone(), 0, label, description));
        }
        for (name, text) in SHIPPED {
            let overridden = users.iter().any(|(n, _)| n == name);
            let source = if overridden {
                "shipped (overridden)".to_string()
            } else {
                "shipped".to_string()
            };
            out.push(((*name).to_string(), 1, source, describe(name, name, text)));
        }
        out.sort();
        Ok(out
            .into_iter()
            .map(|(name, _, source, description)| Entry {
                name,
                source,
                description,
            })
            .collect())
    }
}

/// Diagnostics grouped by file (in the order files were first reported), by position
/// within each file.
fn by_file(mut d: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let mut order: Vec<String> = Vec::new();
    for x in &d {
        if !order.contains(&x.file) {
            order.push(x.file.clone());
        }
    }
    d.sort_by_key(|x| (order.iter().position(|f| *f == x.file), x.line, x.column));
    d
}

/// A file's description for the list, or why it is invalid.
fn describe(label: &str, stem: &str, text: &str) -> String {
    match parse_file(label, stem, text) {
        (Some(fp), d) if d.is_empty() => fp
            .description
            .lines()
            .next()
            .unwrap_or_default()
            .to_string(),
        (_, d) => format!(
            "(invalid: {}; see dpuctl profile validate)",
            d.first().map(|d| d.message.as_str()).unwrap_or_default()
        ),
    }
}

/// One step down an `extends` chain: the file and the entry it follows.
struct Frame {
    key: Key,
    name: String,
    label: String,
    edge: Pos,
}

/// Loads files once each, applies inheritance, and collects diagnostics.
struct Loader<'c> {
    cat: &'c Catalog,
    /// Each file parsed once: what could be read of it, and whether it is valid.
    files: HashMap<Key, (Option<Rc<FileProfile>>, bool)>,
    done: HashMap<Key, Option<Rc<Profile>>>,
    diags: Vec<Diagnostic>,
    cycles: HashSet<Vec<String>>,
}

impl<'c> Loader<'c> {
    fn new(cat: &'c Catalog) -> Self {
        Self {
            cat,
            files: HashMap::new(),
            done: HashMap::new(),
            diags: Vec::new(),
            cycles: HashSet::new(),
        }
    }

    fn diag(&mut self, file: &str, pos: Pos, message: String) {
        self.diags.push(Diagnostic {
            file: file.to_string(),
            line: pos.line,
            column: pos.column,
            message,
        });
    }

    fn file(&mut self, src: &Src) -> (Option<Rc<FileProfile>>, bool) {
        if let Some(f) = self.files.get(&src.key) {
            return f.clone();
        }
        let (fp, d) = parse_file(&src.label, &src.stem, &src.text);
        let f = (fp.map(Rc::new), d.is_empty());
        self.diags.extend(d);
        self.files.insert(src.key.clone(), f.clone());
        f
    }

    /// The profile `src` with everything it extends applied; `None` when it or an ancestor
    /// is invalid (the problems are in `diags`).
    fn effective(&mut self, src: &Src, stack: &mut Vec<Frame>) -> Option<Rc<Profile>> {
        if let Some(p) = self.done.get(&src.key) {
            return p.clone();
        }
        // An invalid file's parents are still followed, to report their problems too.
        let (fp, valid) = self.file(src);
        let mut ok = valid && fp.is_some();
        let mut parents = Vec::new();
        if let Some(fp) = &fp {
            for (parent, pos) in &fp.extends {
                let psrc = match self.cat.open(parent, Some(src)) {
                    Ok(p) => p,
                    Err(e) => {
                        let msg = match e {
                            ProfileError::Io { path, source } => {
                                format!("extends: cannot read {path}: {source}")
                            }
                            other => format!("extends: {other}"),
                        };
                        self.diag(&src.label, *pos, msg);
                        ok = false;
                        continue;
                    }
                };
                let on_stack = stack.iter().position(|f| f.key == psrc.key);
                if on_stack.is_some() || psrc.key == src.key {
                    // The cycle, named from the profile where it starts, and reported at
                    // that profile's `extends` entry that leads into it.
                    let (names, label, at): (Vec<String>, String, Pos) = match on_stack {
                        Some(i) => {
                            let mut n: Vec<String> =
                                stack[i..].iter().map(|f| f.name.clone()).collect();
                            n.push(fp.name.clone());
                            n.push(stack[i].name.clone());
                            (n, stack[i].label.clone(), stack[i].edge)
                        }
                        None => (
                            vec![fp.name.clone(), fp.name.clone()],
                            src.label.clone(),
                            *pos,
                        ),
                    };
                    let mut members = names[..names.len() - 1].to_vec();
                    members.sort();
                    if self.cycles.insert(members) {
                        self.diag(
                            &label,
                            at,
                            format!("inheritance cycle: {}", names.join(" -> ")),
                        );
                    }
                    ok = false;
                    continue;
                }
                stack.push(Frame {
                    key: src.key.clone(),
                    name: fp.name.clone(),
                    label: src.label.clone(),
                    edge: *pos,
                });
                let cycles_before = self.cycles.len();
                let p = self.effective(&psrc, stack);
                stack.pop();
                if let Some(p) = p {
                    parents.push(p);
                    continue;
                }
                ok = false;
                // Say why this file fails too, unless a cycle (already named) is why.
                if self.cycles.len() == cycles_before {
                    let msg = if psrc.label == *parent {
                        format!("extends: '{parent}' has errors")
                    } else {
                        format!("extends: '{parent}' ({}) has errors", psrc.label)
                    };
                    self.diag(&src.label, *pos, msg);
                }
            }
        }
        let result = match (ok, fp) {
            (true, Some(fp)) => Some(Rc::new(inherit(&parents, &fp, src))),
            _ => None,
        };
        self.done.insert(src.key.clone(), result.clone());
        result
    }
}

/// Applies the parents (in order) under a file: blocks are concatenated, the parents'
/// first; sysctls are merged, later values winning.
fn inherit(parents: &[Rc<Profile>], fp: &FileProfile, src: &Src) -> Profile {
    let mut chain: Vec<String> = Vec::new();
    let mut blocks = Vec::new();
    let mut sysctls = BTreeMap::new();
    let mut raw_blocks: Vec<RawBlock> = Vec::new();
    let mut raw_sysctl = BTreeMap::new();
    for p in parents {
        for c in &p.chain {
            if !chain.contains(c) {
                chain.push(c.clone());
            }
        }
        blocks.extend(p.blocks.iter().cloned());
        sysctls.extend(p.sysctls.clone());
        raw_blocks.extend(p.raw.interfaces.iter().flatten().cloned());
        raw_sysctl.extend(p.raw.sysctl.clone().unwrap_or_default());
    }
    chain.push(fp.name.clone());
    blocks.extend(fp.blocks.iter().cloned());
    sysctls.extend(fp.sysctls.clone());
    raw_blocks.extend(fp.raw.interfaces.iter().flatten().cloned());
    raw_sysctl.extend(fp.raw.sysctl.clone().unwrap_or_default());
    let source = match &src.key {
        Key::Shipped(_) => "shipped".to_string(),
        _ => src.label.clone(),
    };
    Profile {
        name: fp.name.clone(),
        description: fp.description.clone(),
        source,
        chain,
        blocks,
        sysctls,
        raw: RawProfile {
            name: Some(fp.name.clone()),
            description: Some(fp.description.clone()),
            extends: None,
            interfaces: (!raw_blocks.is_empty()).then_some(raw_blocks),
            sysctl: (!raw_sysctl.is_empty()).then_some(raw_sysctl),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).expect("write");
    }

    #[test]
    fn shipped_profiles_load_and_names_or_paths_are_told_apart() {
        let cat = Catalog::shipped_only();
        for (name, _) in SHIPPED {
            let p = cat.load(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(p.name, *name);
            assert_eq!(p.source, "shipped");
        }
        assert!(is_path("./x"));
        assert!(is_path("x.yaml"));
        assert!(is_path("/etc/x"));
        assert!(!is_path("throughput"));
        let e = cat.load("thruput").expect_err("unknown");
        assert_eq!(
            e.to_string(),
            "unknown profile 'thruput' (known: balanced, gpu-inference, gpu-training, latency, \
             throughput), did you mean 'throughput'?"
        );
    }

    #[test]
    fn three_levels_override_key_by_key() {
        let d = tempfile::tempdir().expect("tmp");
        write(
            d.path(),
            "base.yaml",
            "name: base\ndescription: b\ninterfaces:\n  - match: {name: eth*}\n    rings: {rx: max, tx: max}\n    mtu: 1500\nsysctl:\n  net.core.rmem_max: 1000\n  net.core.wmem_max: 1000\n",
        );
        write(
            d.path(),
            "mid.yaml",
            "name: mid\ndescription: m\nextends: base\ninterfaces:\n  - match: {name: eth*}\n    rings: {rx: 1024}\nsysctl:\n  net.core.rmem_max: 2000\n",
        );
        write(
            d.path(),
            "top.yaml",
            "name: top\ndescription: t\nextends: [mid]\nsysctl:\n  net.core.wmem_max: 3000\n",
        );
        let cat = Catalog::new(d.path());
        let p = cat.load("top").expect("top");
        assert_eq!(p.chain, ["base", "mid", "top"]);
        assert_eq!(p.sysctls["net.core.rmem_max"], "2000");
        assert_eq!(p.sysctls["net.core.wmem_max"], "3000");
        assert_eq!(p.blocks.len(), 2);
        let mut s = super::super::Settings::default();
        for b in &p.blocks {
            s.merge(&b.settings);
        }
        assert_eq!(s.rings["rx"], super::super::Amount::Exact(1024));
        assert_eq!(s.rings["tx"], super::super::Amount::Max);
        assert_eq!(s.mtu, Some(1500));
        // The flattened raw profile is itself a valid profile with the same meaning.
        let text = yaml_serde::to_string(p.raw()).expect("yaml");
        let again = Profile::from_yaml("top", &text).expect("reparse");
        assert_eq!(again.blocks.len(), 2);
        assert_eq!(again.sysctls, p.sysctls);
        // By path, relative extends resolve next to the file.
        let by_path = cat.load(&d.path().join("top.yaml").display().to_string());
        assert_eq!(by_path.expect("path").chain, ["base", "mid", "top"]);
    }

    #[test]
    fn cycles_are_named_and_reported_once() {
        let d = tempfile::tempdir().expect("tmp");
        write(d.path(), "a.yaml", "name: a\ndescription: a\nextends: b\n");
        write(
            d.path(),
            "b.yaml",
            "name: b\ndescription: b\nextends: [c]\n",
        );
        write(d.path(), "c.yaml", "name: c\ndescription: c\nextends: a\n");
        write(
            d.path(),
            "s.yaml",
            "name: s\ndescription: s\nextends: ./s.yaml\n",
        );
        let cat = Catalog::new(d.path());
        let e = cat.load("a").expect_err("cycle");
        let d0 = &e.diagnostics()[0];
        assert_eq!(d0.message, "inheritance cycle: a -> b -> c -> a");
        assert!(d0.file.ends_with("a.yaml"));
        assert_eq!((d0.line, d0.column), (3, 10));
        let v = cat.validate(&["a".into(), "b".into(), "c".into(), "s".into()]);
        assert!(!v.ok());
        let msgs: Vec<&str> = v.diagnostics.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            msgs,
            [
                "inheritance cycle: a -> b -> c -> a",
                "inheritance cycle: s -> s"
            ]
        );
        assert!(v.files.iter().all(|(_, ok)| !ok));
    }

    #[test]
    fn a_user_profile_may_extend_the_shipped_one_it_overrides() {
        let d = tempfile::tempdir().expect("tmp");
        write(
            d.path(),
            "throughput.yaml",
            "name: throughput\ndescription: site throughput\nextends: throughput\nsysctl:\n  net.core.rmem_max: 33554432\n",
        );
        write(d.path(), "broken.yaml", "name: broken\n");
        let cat = Catalog::new(d.path());
        let p = cat.load("throughput").expect("load");
        assert_eq!(p.description, "site throughput");
        assert_eq!(
            p.chain,
            ["throughput", "throughput"],
            "the shipped one, then the user one"
        );
        assert_eq!(p.sysctls["net.core.rmem_max"], "33554432");
        assert_eq!(
            p.sysctls["net.core.wmem_max"], ">= 16777216",
            "from the shipped one"
        );
        let list = cat.list().expect("list");
        let rows: Vec<(&str, &str)> = list
            .iter()
            .map(|e| (e.name.as_str(), e.source.as_str()))
            .collect();
        assert_eq!(rows.len(), 7);
        assert_eq!(rows[1].0, "broken");
        assert!(list[1]
            .description
            .starts_with("(invalid: missing key 'description'"));
        let t: Vec<&(&str, &str)> = rows.iter().filter(|r| r.0 == "throughput").collect();
        assert!(t[0].1.ends_with("throughput.yaml"));
        assert_eq!(t[1].1, "shipped (overridden)");
    }

    #[test]
    fn unknown_parents_and_unreadable_files() {
        let d = tempfile::tempdir().expect("tmp");
        write(
            d.path(),
            "x.yaml",
            "name: x\ndescription: x\nextends: [latency, thruput, ./nope.yaml]\n",
        );
        let cat = Catalog::new(d.path());
        let e = cat.load("x").expect_err("bad");
        let msgs: Vec<String> = e.diagnostics().iter().map(ToString::to_string).collect();
        assert_eq!(msgs.len(), 2, "{msgs:?}");
        assert!(
            msgs[0].ends_with(
                "x.yaml:3:20: extends: unknown profile 'thruput' (known: balanced, gpu-inference, \
             gpu-training, latency, throughput, x), did you mean 'throughput'?"
            ),
            "{msgs:?}"
        );
        assert!(
            msgs[1].contains("x.yaml:3:29: extends: cannot read "),
            "{msgs:?}"
        );
        // A file whose parent is invalid fails too, and says so at its `extends`.
        write(d.path(), "bad.yaml", "name: bad\ndescription: b\nmtu: 1\n");
        write(
            d.path(),
            "kid.yaml",
            "name: kid\ndescription: k\nextends: bad\n",
        );
        let v = cat.validate(&["kid".into()]);
        let msgs: Vec<String> = v.diagnostics.iter().map(ToString::to_string).collect();
        assert_eq!(msgs.len(), 2, "{msgs:?}");
        assert!(msgs[0].ends_with("bad.yaml:3:1: unknown key 'mtu' at the top level (known keys: name, description, extends, interfaces, sysctl)"), "{msgs:?}");
        assert!(
            msgs[1].ends_with(&format!(
                "kid.yaml:3:10: extends: 'bad' ({}) has errors",
                d.path().join("bad.yaml").display()
            )),
            "{msgs:?}"
        );
        let v = cat.validate(&["/nonexistent/p.yaml".into()]);
        assert_eq!(v.files, [("/nonexistent/p.yaml".to_string(), false)]);
        assert!(v.diagnostics[0]
            .to_string()
            .starts_with("/nonexistent/p.yaml: cannot read: "));
    }
}
