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
use crate::input::{
    read_text, MAX_EXTENDS_DEPTH, MAX_EXTENDS_LIST, MAX_EXTENDS_PROFILES, MAX_PROFILE_BYTES,
};

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
    (
        "roce-lossless",
        include_str!("../../profiles/roce-lossless.yaml"),
    ),
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
    text: Rc<str>,
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

    /// Reads a profile file: a regular file of at most [`MAX_PROFILE_BYTES`] (a device, a
    /// FIFO or a huge file is refused before anything is read from it). A file read before
    /// (`cache`, by path as resolved) is not read again.
    fn read(
        path: &Path,
        label: String,
        user: bool,
        cache: Option<&mut HashMap<PathBuf, Src>>,
    ) -> Result<Src, ProfileError> {
        if let Some(src) = cache.as_ref().and_then(|c| c.get(path)) {
            return Ok(Src {
                label,
                user,
                ..src.clone()
            });
        }
        let text =
            read_text(path, MAX_PROFILE_BYTES, "profiles").map_err(|source| ProfileError::Io {
                path: label.clone(),
                source,
            })?;
        let src = Src {
            key: Key::File(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())),
            label,
            stem: stem_of(path),
            text: text.into(),
            user,
        };
        if let Some(c) = cache {
            c.insert(path.to_path_buf(), src.clone());
        }
        Ok(src)
    }

    /// Finds a profile by name or path. Relative paths in `extends` are relative to the
    /// extending file. A user profile that extends its own name gets the shipped one (so
    /// `/etc/dpuctl/profiles.d/throughput.yaml` can say `extends: throughput`).
    fn open(
        &self,
        spec: &str,
        from: Option<&Src>,
        cache: Option<&mut HashMap<PathBuf, Src>>,
    ) -> Result<Src, ProfileError> {
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
            return Self::read(&path, label, false, cache);
        }
        if validate_profile_name(spec).is_err() {
            return Err(self.unknown(spec));
        }
        let self_reference = from.is_some_and(|f| f.user && f.stem == spec);
        if !self_reference {
            if let Some(p) = self.user_file(spec) {
                return Self::read(&p, p.display().to_string(), true, cache);
            }
        }
        SHIPPED
            .iter()
            .find(|(n, _)| *n == spec)
            .map(|(n, text)| Src {
                key: Key::Shipped(n),
                label: format!("{SHIPPED_DIR}/{n}.yaml"),
                stem: (*n).to_string(),
                text: (*text).into(),
                user: false,
            })
            .ok_or_else(|| self.unknown(spec))
    }

    /// Loads a profile by name or path with its inheritance applied.
    pub fn load(&self, spec: &str) -> Result<Profile, ProfileError> {
        let src = self.open(spec, None, None)?;
        self.load_src(&src)
    }

    /// The text of a profile as written, comments included (the embedded file for a shipped
    /// one, the file's contents for a user one or a path), and where it came from.
    pub fn text(&self, spec: &str) -> Result<(String, String), ProfileError> {
        let src = self.open(spec, None, None)?;
        Ok((src.label, src.text.to_string()))
    }

    /// Loads a profile from text (named `name`), with its inheritance applied.
    pub fn load_text(&self, name: &str, text: &str) -> Result<Profile, ProfileError> {
        let src = Src {
            key: Key::Text(name.to_string()),
            label: format!("{name}.yaml"),
            stem: name.to_string(),
            text: text.into(),
            user: false,
        };
        self.load_src(&src)
    }

    fn load_src(&self, src: &Src) -> Result<Profile, ProfileError> {
        let mut l = Loader::new(self);
        match l.effective(src) {
            Some(lin) if l.diags.is_empty() => Ok(inherit(&lin, src)),
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
                self.open(spec, None, None)
            } else {
                Self::read(Path::new(spec), spec.clone(), false, None)
            };
            match opened {
                Ok(src) => {
                    let ok = l.effective(&src).is_some();
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
        let users = self.user_files().map_err(|e| ProfileError::Io {
            path: self
                .dir
                .as_ref()
                .map(|d| d.display().to_string())
                .unwrap_or_default(),
            source: e.into(),
        })?;
        let mut out = Vec::new();
        for (name, path) in &users {
            let label = path.display().to_string();
            let description = match read_text(path, MAX_PROFILE_BYTES, "profiles") {
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

/// The files a profile is made of, each once, in the order they apply: parents before the
/// files that extend them, the first place a file is reached is where it applies.
type Lin = Vec<(Key, Rc<FileProfile>)>;

/// A profile being loaded: the file, how far through its `extends` list, and the
/// linearizations of the parents loaded so far.
struct Work {
    src: Src,
    fp: Option<Rc<FileProfile>>,
    ok: bool,
    next: usize,
    parents: Vec<Rc<Lin>>,
    /// The `extends` entry of the profile below that led here, and the number of cycles
    /// known when it was followed.
    via: Option<(String, Pos, usize)>,
}

/// Loads files once each, applies inheritance, and collects diagnostics.
///
/// The walk down `extends` keeps its own stack (no recursion whose depth a file controls),
/// is bounded in depth ([`MAX_EXTENDS_DEPTH`]), in list length ([`MAX_EXTENDS_LIST`]) and in
/// profiles ([`MAX_EXTENDS_PROFILES`]), and loads each file once: a diamond or a repeated
/// parent costs nothing extra.
struct Loader<'c> {
    cat: &'c Catalog,
    /// Each file parsed once: what could be read of it, and whether it is valid.
    files: HashMap<Key, (Option<Rc<FileProfile>>, bool)>,
    done: HashMap<Key, Option<Rc<Lin>>>,
    /// Files read, by path as resolved.
    read: HashMap<PathBuf, Src>,
    diags: Vec<Diagnostic>,
    cycles: HashSet<Vec<String>>,
}

impl<'c> Loader<'c> {
    fn new(cat: &'c Catalog) -> Self {
        Self {
            cat,
            files: HashMap::new(),
            done: HashMap::new(),
            read: HashMap::new(),
            diags: Vec::new(),
            cycles: HashSet::new(),
        }
    }

    fn diag(&mut self, file: &str, pos: Pos, message: &str) {
        self.diags.push(Diagnostic {
            file: file.to_string(),
            line: pos.line,
            column: pos.column,
            message: crate::input::shorten_quoted(message),
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

    fn work(&mut self, src: Src, via: Option<(String, Pos, usize)>) -> Work {
        let (fp, valid) = self.file(&src);
        Work {
            ok: valid && fp.is_some(),
            src,
            fp,
            next: 0,
            parents: Vec::new(),
            via,
        }
    }

    /// The files the profile `src` is made of, in the order they apply; `None` when it or
    /// an ancestor is invalid (the problems are in `diags`).
    fn effective(&mut self, src: &Src) -> Option<Rc<Lin>> {
        if let Some(p) = self.done.get(&src.key) {
            return p.clone();
        }
        let first = self.work(src.clone(), None);
        let mut stack = vec![first];
        loop {
            let depth = stack.len();
            let top = stack.last_mut()?;
            let entry = top
                .fp
                .as_ref()
                .and_then(|fp| fp.extends.get(top.next).map(|e| (e.clone(), fp.clone())));
            let Some(((parent, pos), fp)) = entry else {
                // Every parent followed: this profile is done.
                let w = stack.pop()?;
                let result = match (w.ok, &w.fp) {
                    (true, Some(fp)) => self.linearize(&w, fp, pos_of_via(&w)),
                    _ => None,
                };
                self.done.insert(w.src.key.clone(), result.clone());
                let Some(below) = stack.last_mut() else {
                    return result;
                };
                if let Some(lin) = result {
                    below.parents.push(lin);
                } else {
                    below.ok = false;
                    if let Some((spec, at, cycles_before)) = w.via {
                        let label = below.src.label.clone();
                        self.parent_has_errors(&label, at, &spec, &w.src, cycles_before);
                    }
                }
                continue;
            };
            top.next += 1;
            if top.next > MAX_EXTENDS_LIST {
                top.ok = false;
                if top.next == MAX_EXTENDS_LIST + 1 {
                    let label = top.src.label.clone();
                    self.diag(
                        &label,
                        pos,
                        &format!(
                            "extends: more than {MAX_EXTENDS_LIST} entries (the limit for one \
                             extends list)"
                        ),
                    );
                }
                continue;
            }
            let from = top.src.clone();
            let psrc = match self.cat.open(&parent, Some(&from), Some(&mut self.read)) {
                Ok(p) => p,
                Err(e) => {
                    let msg = match e {
                        ProfileError::Io { path, source } => {
                            format!("extends: cannot read {path}: {source}")
                        }
                        other => format!("extends: {other}"),
                    };
                    self.diag(&from.label, pos, &msg);
                    if let Some(top) = stack.last_mut() {
                        top.ok = false;
                    }
                    continue;
                }
            };
            let on_stack = stack.iter().position(|w| w.src.key == psrc.key);
            if let Some(i) = on_stack {
                self.cycle(&stack, i, &fp, &from, pos);
                if let Some(top) = stack.last_mut() {
                    top.ok = false;
                }
                continue;
            }
            if let Some(done) = self.done.get(&psrc.key).cloned() {
                let cycles_before = self.cycles.len();
                let top = stack.last_mut()?;
                if let Some(lin) = done {
                    top.parents.push(lin);
                } else {
                    top.ok = false;
                    self.parent_has_errors(&from.label, pos, &parent, &psrc, cycles_before);
                }
                continue;
            }
            if depth > MAX_EXTENDS_DEPTH {
                self.diag(
                    &from.label,
                    pos,
                    &format!(
                        "extends: more than {MAX_EXTENDS_DEPTH} levels (the limit for extends \
                         chains)"
                    ),
                );
                // Each level below says its parent has errors; the cause is named once.
                self.cycles
                    .insert(vec![format!("depth {}", self.cycles.len())]);
                if let Some(top) = stack.last_mut() {
                    top.ok = false;
                }
                continue;
            }
            let via = Some((parent, pos, self.cycles.len()));
            let w = self.work(psrc, via);
            stack.push(w);
        }
    }

    /// Reports the cycle closed by following an entry at `pos` of the top of `stack` back
    /// to `stack[i]`: named from the profile where it starts, and reported at that profile's
    /// `extends` entry that leads into it, once per cycle.
    fn cycle(&mut self, stack: &[Work], i: usize, fp: &FileProfile, from: &Src, pos: Pos) {
        let top = stack.len() - 1;
        let (names, label, at): (Vec<String>, String, Pos) = if i == top {
            (
                vec![fp.name.clone(), fp.name.clone()],
                from.label.clone(),
                pos,
            )
        } else {
            let name = |w: &Work| w.fp.as_ref().map(|f| f.name.clone()).unwrap_or_default();
            let mut n: Vec<String> = stack[i..].iter().map(name).collect();
            n.push(name(&stack[i]));
            let edge = stack[i]
                .fp
                .as_ref()
                .and_then(|f| f.extends.get(stack[i].next.wrapping_sub(1)))
                .map_or(pos, |e| e.1);
            (n, stack[i].src.label.clone(), edge)
        };
        let mut members = names[..names.len() - 1].to_vec();
        members.sort();
        if self.cycles.insert(members) {
            self.diag(
                &label,
                at,
                &format!("inheritance cycle: {}", names.join(" -> ")),
            );
        }
    }

    /// Says why a file fails when a parent does, unless a cycle or a bound (already named)
    /// is why.
    fn parent_has_errors(
        &mut self,
        label: &str,
        at: Pos,
        spec: &str,
        psrc: &Src,
        cycles_before: usize,
    ) {
        if self.cycles.len() != cycles_before {
            return;
        }
        let msg = if psrc.label == spec {
            format!("extends: '{spec}' has errors")
        } else {
            format!("extends: '{spec}' ({}) has errors", psrc.label)
        };
        self.diag(label, at, &msg);
    }

    /// The parents' linearizations merged, each file at its first place, then the file
    /// itself; `None` (with a diagnostic) above [`MAX_EXTENDS_PROFILES`] files.
    fn linearize(&mut self, w: &Work, fp: &Rc<FileProfile>, at: Pos) -> Option<Rc<Lin>> {
        if w.parents.len() == 1 && !w.parents[0].iter().any(|(k, _)| *k == w.src.key) {
            let mut lin: Lin = (*w.parents[0]).clone();
            lin.push((w.src.key.clone(), fp.clone()));
            return self.bounded(lin, w, at);
        }
        let mut seen: HashSet<&Key> = HashSet::new();
        let mut lin: Lin = Vec::new();
        for p in &w.parents {
            for (k, f) in p.iter() {
                if seen.insert(k) {
                    lin.push((k.clone(), f.clone()));
                }
            }
            if lin.len() > MAX_EXTENDS_PROFILES {
                break;
            }
        }
        drop(seen);
        lin.push((w.src.key.clone(), fp.clone()));
        self.bounded(lin, w, at)
    }

    fn bounded(&mut self, lin: Lin, w: &Work, at: Pos) -> Option<Rc<Lin>> {
        if lin.len() <= MAX_EXTENDS_PROFILES {
            return Some(Rc::new(lin));
        }
        self.diag(
            &w.src.label,
            at,
            &format!(
                "extends: more than {MAX_EXTENDS_PROFILES} profiles (the limit for a profile \
                 and everything it extends)"
            ),
        );
        self.cycles
            .insert(vec![format!("profiles {}", self.cycles.len())]);
        None
    }
}

/// Where a profile's problems with its parents are reported: its first `extends` entry.
fn pos_of_via(w: &Work) -> Pos {
    w.fp.as_ref()
        .and_then(|f| f.extends.first())
        .map_or(Pos::START, |e| e.1)
}

/// Applies the files of a linearization (see [`Lin`]) in order: blocks are concatenated,
/// sysctls merged, later values winning.
fn inherit(lin: &Lin, src: &Src) -> Profile {
    let mut chain: Vec<String> = Vec::new();
    let mut names: HashSet<&str> = HashSet::new();
    let mut blocks = Vec::new();
    let mut sysctls = BTreeMap::new();
    let mut raw_blocks: Vec<RawBlock> = Vec::new();
    let mut raw_sysctl = BTreeMap::new();
    let ancestors = lin.len().saturating_sub(1);
    for (i, (_, fp)) in lin.iter().enumerate() {
        // Ancestors by name once each, then the profile itself (a user profile over the
        // shipped one of the same name shows both).
        if i == ancestors || names.insert(&fp.name) {
            chain.push(fp.name.clone());
        }
        blocks.extend(fp.blocks.iter().cloned());
        sysctls.extend(fp.sysctls.clone());
        raw_blocks.extend(fp.raw.interfaces.iter().flatten().cloned());
        raw_sysctl.extend(fp.raw.sysctl.clone().unwrap_or_default());
    }
    let fp = lin.last().map(|(_, f)| f.clone());
    let (name, description) = fp
        .map(|f| (f.name.clone(), f.description.clone()))
        .unwrap_or_default();
    let source = match &src.key {
        Key::Shipped(_) => "shipped".to_string(),
        _ => src.label.clone(),
    };
    Profile {
        name: name.clone(),
        description: description.clone(),
        source,
        chain,
        blocks,
        sysctls,
        raw: RawProfile {
            name: Some(name),
            description: Some(description),
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
             roce-lossless, throughput), did you mean 'throughput'?"
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
    fn a_profile_reached_twice_applies_once_where_first_reached() {
        // top extends [left, right]; both extend base. base sets rmem and wmem, left
        // overrides rmem, right nothing: left's value stands (base is not applied again
        // after left, as a doubled chain would).
        let d = tempfile::tempdir().expect("tmp");
        let sys = |pairs: &[(&str, u32)]| {
            let lines: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("  net.core.{k}: {v}\n"))
                .collect();
            format!("sysctl:\n{}", lines.concat())
        };
        let block = "interfaces:\n  - match: {name: eth*}\n    mtu: 1500\n";
        write(
            d.path(),
            "base.yaml",
            &format!(
                "name: base\ndescription: b\n{block}{}",
                sys(&[("rmem_max", 1), ("wmem_max", 1)])
            ),
        );
        write(
            d.path(),
            "left.yaml",
            &format!(
                "name: left\ndescription: l\nextends: base\n{block}{}",
                sys(&[("rmem_max", 2)])
            ),
        );
        write(
            d.path(),
            "right.yaml",
            &format!("name: right\ndescription: r\nextends: [base, base]\n{block}"),
        );
        write(
            d.path(),
            "top.yaml",
            "name: top\ndescription: t\nextends: [left, right]\n",
        );
        let p = Catalog::new(d.path()).load("top").expect("top");
        assert_eq!(p.chain, ["base", "left", "right", "top"]);
        assert_eq!(p.blocks.len(), 3);
        assert_eq!(p.sysctls["net.core.rmem_max"], "2");
        assert_eq!(p.sysctls["net.core.wmem_max"], "1");
    }

    #[test]
    fn extends_is_bounded_in_depth_and_list_length() {
        let d = tempfile::tempdir().expect("tmp");
        write(d.path(), "p0.yaml", "name: p0\ndescription: d\n");
        for i in 1..=40 {
            write(
                d.path(),
                &format!("p{i}.yaml"),
                &format!("name: p{i}\ndescription: d\nextends: p{}\n", i - 1),
            );
        }
        let cat = Catalog::new(d.path());
        assert_eq!(cat.load("p32").expect("32 levels").chain.len(), 33);
        let e = cat.load("p40").expect_err("40 levels").to_string();
        assert!(
            e.contains("p8.yaml:3:10: extends: more than 32 levels"),
            "{e}"
        );
        assert_eq!(e.matches("more than 32 levels").count(), 1, "{e}");
        let list = vec!["p0"; 65].join(", ");
        write(
            d.path(),
            "wide.yaml",
            &format!("name: wide\ndescription: d\nextends: [{list}]\n"),
        );
        let e = cat.load("wide").expect_err("65 entries").to_string();
        assert!(e.contains("extends: more than 64 entries"), "{e}");
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
        assert_eq!(rows.len(), SHIPPED.len() + 2);
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
             gpu-training, latency, roce-lossless, throughput, x), did you mean 'throughput'?"
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
