//! Stage one: the profile file as written. Plain serde structs with
//! `#[serde(deny_unknown_fields)]`, plus a checking walk that deserializes them one key at a
//! time so that every unknown key and every wrongly typed value is reported, each with its
//! key path, instead of only the first error serde meets.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, DeserializeOwned, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use yaml_serde::{Mapping, Value};

use super::outline::{At, KeyPath};
use super::suggest;
use super::Problem;

/// A whole profile file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProfile {
    /// Profile name; equals the file name without `.yaml`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// One-line description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Parent profile(s), by name or path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extends: Option<Names>,
    /// Interface blocks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interfaces: Option<Vec<RawBlock>>,
    /// Sysctls by dotted name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sysctl: Option<BTreeMap<String, Scalar>>,
}

/// One `interfaces:` block: a selector and the settings for what it selects.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBlock {
    /// The selector.
    #[serde(rename = "match", default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<RawMatch>,
    /// A block that may match no interface on a node (without it, that is an error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
    /// Ring sizes by field name (canonical or alias, see [`crate::model::knobs`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rings: Option<BTreeMap<String, Scalar>>,
    /// Channel counts by field name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channels: Option<BTreeMap<String, Scalar>>,
    /// Coalescing fields by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coalesce: Option<BTreeMap<String, Scalar>>,
    /// Pause frames by field name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause: Option<BTreeMap<String, Toggle>>,
    /// Features by user or kernel name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<BTreeMap<String, Toggle>>,
    /// MTU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u64>,
    /// Transmit queue length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub txqueuelen: Option<u64>,
    /// Receive packet steering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rps: Option<RawRps>,
    /// Transmit packet steering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xps: Option<RawXps>,
    /// Queue IRQ affinity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub irq_affinity: Option<RawIrq>,
    /// What `check` expects of the pluggable module (read only: nothing is ever written to
    /// a module).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<RawModule>,
    /// Traffic classes (the root qdisc).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qos: Option<RawQos>,
    /// Priorities with priority flow control on (DCB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pfc: Option<Vec<u64>>,
    /// DSCP to priority, as entries of the DCB APP table (`dcb app ... dscp-prio 26:3`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dscp: Option<BTreeMap<KeyText, u64>>,
    /// The APP trust order (`dcb apptrust ... order dscp pcp`): a selector or a list of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust: Option<Names>,
    /// `rdma_cm` defaults of the RDMA devices on the matched interfaces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rdma: Option<RawRdma>,
}

/// `rdma:`: `rdma_cm` defaults of the RDMA devices whose ports sit on the matched interfaces.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRdma {
    /// Only RDMA devices with these name globs (default: every device on the interface).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<Names>,
    /// `default_roce_mode`: `RoCE v1` or `RoCE v2` (also `v1`, `v2`, `IB/RoCE v1`); the key
    /// also by the name `show --rdma -f json` prints.
    #[serde(
        default,
        alias = "default_roce_mode",
        skip_serializing_if = "Option::is_none"
    )]
    pub roce_mode: Option<String>,
    /// `default_roce_tos`, 0 to 255 (also by that name).
    #[serde(
        default,
        alias = "default_roce_tos",
        skip_serializing_if = "Option::is_none"
    )]
    pub tos: Option<u64>,
}

/// `module:`: expectations about the pluggable module of the matched interfaces.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawModule {
    /// The cable or optic class: dac, acc, aoc, mmf, smf or base-t.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cable: Option<String>,
    /// The least receive power every lane must have, dBm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_rx_power_dbm: Option<f64>,
}

/// `match:`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMatch {
    /// Interface name globs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Names>,
    /// Driver name globs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<Names>,
    /// Only interfaces with (true) or without (false) a PCI device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pci: Option<bool>,
    /// PCI vendor id, hexadecimal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pci_vendor: Option<Scalar>,
    /// PCI device id, hexadecimal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pci_device: Option<Scalar>,
    /// Minimum link speed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_speed_mbps: Option<u64>,
}

/// `rps:`.
#[allow(missing_docs)]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRps {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<Scalar>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude: Option<Scalar>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow_cnt: Option<u64>,
}

/// `xps:`.
#[allow(missing_docs)]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawXps {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<Scalar>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude: Option<Scalar>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
}

/// `irq_affinity:`.
#[allow(missing_docs)]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIrq {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<Scalar>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude: Option<Scalar>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spread: Option<Toggle>,
}

/// `qos:`.
#[allow(missing_docs)]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQos {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offload: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<RawClass>>,
}

/// One entry of `qos.classes`.
#[allow(missing_docs)]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClass {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priorities: Option<Vec<u64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queues: Option<u64>,
}

/// A mapping key written as a number or a word (`26:` or `"26":`), kept as its text; the
/// validation stage decides what it means. Written back as a number where it is one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct KeyText(pub String);

impl Serialize for KeyText {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.parse::<u64>() {
            Ok(n) => s.serialize_u64(n),
            Err(_) => s.serialize_str(&self.0),
        }
    }
}

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = KeyText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or a word")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A scalar whose meaning the validation stage decides (`max`, `50%`, `4096`, `0-5,12`).
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// `true` / `false`.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// A number with a fraction.
    Float(f64),
    /// Anything else, as text.
    Text(String),
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Bool(b) => write!(f, "{b}"),
            Scalar::Int(n) => write!(f, "{n}"),
            Scalar::Float(x) => write!(f, "{x}"),
            Scalar::Text(t) => f.write_str(t),
        }
    }
}

impl Serialize for Scalar {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Scalar::Bool(b) => s.serialize_bool(*b),
            Scalar::Int(n) => s.serialize_i64(*n),
            Scalar::Float(x) => s.serialize_f64(*x),
            Scalar::Text(t) => s.serialize_str(t),
        }
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number, a word or true/false")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar::Bool(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(i64::try_from(v).map_or_else(|_| Scalar::Text(v.to_string()), Scalar::Int))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar::Float(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar::Text(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// On or off: `true`/`false`, or the words `on`/`off` (which YAML 1.2 reads as strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Toggle(pub bool);

impl Serialize for Toggle {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bool(self.0)
    }
}

impl<'de> Deserialize<'de> for Toggle {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Toggle;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("on/off or true/false")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Toggle, E> {
                Ok(Toggle(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Toggle, E> {
                match v {
                    "on" | "true" => Ok(Toggle(true)),
                    "off" | "false" => Ok(Toggle(false)),
                    _ => Err(E::custom(format!(
                        "expected on/off or true/false, got '{v}'"
                    ))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// One name or a list of names (`name: eth*` or `name: [eth*, ens*]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    /// The names.
    pub items: Vec<String>,
    /// Written as a list.
    pub list: bool,
}

impl Serialize for Names {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.items.as_slice() {
            [one] if !self.list => s.serialize_str(one),
            items => items.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Names {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Names;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a name or a list of names")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Names, E> {
                Ok(Names {
                    items: vec![v.to_string()],
                    list: false,
                })
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Names, A::Error> {
                let mut items = Vec::new();
                while let Some(s) = seq.next_element::<NameItem>()? {
                    items.push(s.0);
                }
                Ok(Names { items, list: true })
            }
        }
        d.deserialize_any(V)
    }
}

/// One name inside a list; a number or other scalar is a type error worded like the rest.
struct NameItem(String);

impl<'de> Deserialize<'de> for NameItem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = NameItem;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<NameItem, E> {
                Ok(NameItem(v.to_string()))
            }
        }
        d.deserialize_str(V)
    }
}

/// The field names a derived `Deserialize` struct accepts, asked from serde itself, so that
/// the unknown-key check and its suggestions never drift from the structs.
pub fn fields_of<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Introspect(&mut fields));
    fields
}

struct Introspect<'a>(&'a mut &'static [&'static str]);

impl<'de> Deserializer<'de> for Introspect<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _v: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _v: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = fields;
        Err(de::Error::custom("fields recorded"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// Describes a YAML value's type for messages.
pub fn describe(v: &Value) -> String {
    match v {
        Value::Null => "nothing".to_string(),
        Value::Bool(b) => format!("{b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("'{s}'"),
        Value::Sequence(_) => "a list".to_string(),
        Value::Mapping(_) => "a mapping".to_string(),
        Value::Tagged(_) => "a tagged value".to_string(),
    }
}

/// A mapping key as text (YAML allows numbers and booleans as keys).
pub fn key_text(k: &Value) -> String {
    match k {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "~".to_string(),
        other => describe(other),
    }
}

/// Rewords serde's messages in the tool's style: `invalid type: string "x", expected u64`
/// becomes `expected a whole number, got 'x'`.
pub fn reword(msg: &str) -> String {
    let msg = msg.trim();
    let plain = |s: &str| -> String {
        let s = s.trim();
        let named = match s {
            "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number 0 or more",
            "i8" | "i16" | "i32" | "i64" => "a whole number",
            "a boolean" | "bool" => "true or false",
            "a string" => "text",
            "a sequence" => "a list",
            "map" | "a map" => "a mapping",
            other => other,
        };
        named.replace('`', "'")
    };
    let got = |s: &str| -> String {
        let s = s.trim();
        if let Some(t) = s.strip_prefix("string ") {
            return format!("'{}'", t.trim_matches('"'));
        }
        if let Some(t) = s
            .strip_prefix("integer ")
            .or_else(|| s.strip_prefix("floating point "))
        {
            return format!("the number {}", t.trim_matches('`'));
        }
        match s {
            "sequence" => "a list".to_string(),
            "map" => "a mapping".to_string(),
            "unit value" => "nothing".to_string(),
            other => other.replace('`', "'"),
        }
    };
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = msg.strip_prefix(prefix) {
            if let Some((found, expected)) = rest.rsplit_once(", expected ") {
                return format!("expected {}, got {}", plain(expected), got(found));
            }
        }
    }
    msg.replace('`', "'")
}

/// Problems found so far, with their paths.
pub type Problems = Vec<Problem>;

fn problem(out: &mut Problems, path: KeyPath, at: At, message: String) {
    out.push(Problem { path, at, message });
}

fn unknown_key(out: &mut Problems, path: &KeyPath, key: &str, known: &[&str]) {
    let parent = path.parent();
    let place = if parent.is_root() {
        "at the top level".to_string()
    } else {
        format!("in {parent}")
    };
    let hint = suggest::did_you_mean(key, known.iter().copied()).map_or_else(
        || format!(" (known keys: {})", known.join(", ")),
        |s| format!(", did you mean '{s}'?"),
    );
    // A key that is no key name (a line of /etc/shadow read as one) is not quoted: the
    // position says where it is.
    let looks_like_a_key = key.len() <= 64
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ' '));
    let message = if looks_like_a_key {
        format!("unknown key '{key}' {place}{hint}")
    } else {
        format!(
            "unknown key {place} (not a key name; known keys: {})",
            known.join(", ")
        )
    };
    problem(out, path.clone(), At::Key, message);
}

/// The mapping `v` is, or a problem saying what it should be. `Null` (a key with nothing
/// after it) counts as an empty mapping.
fn mapping<'v>(
    v: &'v Value,
    path: &KeyPath,
    what: &str,
    out: &mut Problems,
) -> Option<std::borrow::Cow<'v, Mapping>> {
    match v {
        Value::Mapping(m) => Some(std::borrow::Cow::Borrowed(m)),
        Value::Null => Some(std::borrow::Cow::Owned(Mapping::new())),
        other => {
            // At the top, the value is the whole file (`/etc/shadow` is one long plain
            // scalar): say what it is, never what it says.
            let msg = if path.is_root() {
                let kind = match other {
                    Value::String(_) => "text".to_string(),
                    Value::Number(_) => "a number".to_string(),
                    other => describe(other),
                };
                format!("expected {what}, got {kind}")
            } else {
                format!("{path}: expected {what}, got {}", describe(other))
            };
            problem(out, path.clone(), At::Value, msg);
            None
        }
    }
}

/// Deserializes the one entry `key: v` into `T` (whose fields are all optional), so a type
/// error is pinned on that key. True when it deserializes.
fn check_entry<T: DeserializeOwned>(
    k: &Value,
    v: &Value,
    path: &KeyPath,
    out: &mut Problems,
) -> bool {
    let mut m = Mapping::new();
    m.insert(k.clone(), v.clone());
    match yaml_serde::from_value::<T>(Value::Mapping(m)) {
        Ok(_) => true,
        Err(e) => {
            problem(
                out,
                path.clone(),
                At::Value,
                format!("{path}: {}", reword(&e.to_string())),
            );
            false
        }
    }
}

/// A struct whose fields are all scalars or lists of them: unknown keys, then each entry.
/// Returns the mapping without the entries that had problems (`None`: not a mapping).
fn check_flat<T: DeserializeOwned>(
    v: &Value,
    path: &KeyPath,
    what: &str,
    out: &mut Problems,
) -> Option<Value> {
    let m = mapping(v, path, what, out)?;
    let known = fields_of::<T>();
    let mut keep = Mapping::new();
    for (k, val) in m.iter() {
        let key = key_text(k);
        let p = path.key(&key);
        if !known.contains(&key.as_str()) {
            unknown_key(out, &p, &key, known);
        } else if check_entry::<T>(k, val, &p, out) {
            keep.insert(k.clone(), val.clone());
        }
    }
    Some(Value::Mapping(keep))
}

/// A mapping from free names to values of type `T`, each value checked on its own.
/// Returns the mapping without the entries that had problems.
fn check_values<T: DeserializeOwned>(
    v: &Value,
    path: &KeyPath,
    what: &str,
    out: &mut Problems,
) -> Option<Value> {
    let m = mapping(v, path, what, out)?;
    let mut keep = Mapping::new();
    for (k, val) in m.iter() {
        let p = path.key(&key_text(k));
        match yaml_serde::from_value::<T>(val.clone()) {
            Ok(_) => {
                keep.insert(k.clone(), val.clone());
            }
            Err(e) => problem(
                out,
                p.clone(),
                At::Value,
                format!("{p}: {}", reword(&e.to_string())),
            ),
        }
    }
    Some(Value::Mapping(keep))
}

/// `qos:` with its class list, each class checked on its own so that a problem is pinned on
/// its key.
fn check_qos(v: &Value, path: &KeyPath, out: &mut Problems) -> Option<Value> {
    let m = mapping(v, path, "a mapping like {classes: [...]}", out)?;
    let known = fields_of::<RawQos>();
    let mut keep = Mapping::new();
    for (k, val) in m.iter() {
        let key = key_text(k);
        let p = path.key(&key);
        match key.as_str() {
            "classes" => {
                let Value::Sequence(items) = val else {
                    problem(
                        out,
                        p.clone(),
                        At::Value,
                        format!("{p}: expected a list of classes, got {}", describe(val)),
                    );
                    continue;
                };
                let mut list = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let cleaned = check_flat::<RawClass>(
                        item,
                        &p.index(i),
                        "a class like {priorities: [3], share: 25}",
                        out,
                    );
                    list.push(cleaned.unwrap_or(Value::Null));
                }
                keep.insert(k.clone(), Value::Sequence(list));
            }
            _ if known.contains(&key.as_str()) => {
                if check_entry::<RawQos>(k, val, &p, out) {
                    keep.insert(k.clone(), val.clone());
                }
            }
            _ => unknown_key(out, &p, &key, known),
        }
    }
    Some(Value::Mapping(keep))
}

/// One interface block, cleaned of the entries with problems; a block that is not a
/// mapping becomes `Null` so that the blocks after it keep their index.
fn check_block(v: &Value, path: &KeyPath, out: &mut Problems) -> Value {
    let Some(m) = mapping(v, path, "an interface block (match: and settings)", out) else {
        return Value::Null;
    };
    let known = fields_of::<RawBlock>();
    let mut keep = Mapping::new();
    for (k, val) in m.iter() {
        let key = key_text(k);
        let p = path.key(&key);
        let cleaned = match key.as_str() {
            "match" => check_flat::<RawMatch>(val, &p, "a mapping of criteria", out),
            "rings" => check_values::<Scalar>(val, &p, "a mapping like {rx: max, tx: max}", out),
            "channels" => check_values::<Scalar>(val, &p, "a mapping like {combined: 8}", out),
            "pause" => check_values::<Toggle>(val, &p, "a mapping like {rx: off, tx: off}", out),
            "rps" => check_flat::<RawRps>(val, &p, "a mapping like {cpus: nic-numa}", out),
            "xps" => check_flat::<RawXps>(val, &p, "a mapping like {cpus: nic-numa}", out),
            "irq_affinity" => check_flat::<RawIrq>(val, &p, "a mapping like {cpus: nic-numa}", out),
            "module" => check_flat::<RawModule>(
                val,
                &p,
                "a mapping like {cable: aoc, min_rx_power_dbm: -8}",
                out,
            ),
            "qos" => check_qos(val, &p, out),
            "coalesce" => check_values::<Scalar>(val, &p, "a mapping like {rx_usecs: 8}", out),
            "features" => check_values::<Toggle>(val, &p, "a mapping like {gro: on}", out),
            "dscp" => check_values::<u64>(val, &p, "a mapping like {26: 3}", out),
            _ if known.contains(&key.as_str()) => {
                check_entry::<RawBlock>(k, val, &p, out).then(|| val.clone())
            }
            _ => {
                unknown_key(out, &p, &key, known);
                None
            }
        };
        if let Some(c) = cleaned {
            keep.insert(k.clone(), c);
        }
    }
    Value::Mapping(keep)
}

/// Checks a parsed document against the schema, collecting every problem. Returns the raw
/// profile made of the entries without problems (so that the next stage can check those
/// too), or `None` when the document is not a mapping at all.
pub fn check(v: &Value, out: &mut Problems) -> Option<RawProfile> {
    let root = KeyPath::default();
    let m = mapping(
        v,
        &root,
        "a profile (a mapping with name, description, ...)",
        out,
    )?;
    let known = fields_of::<RawProfile>();
    let mut keep = Mapping::new();
    for (k, val) in m.iter() {
        let key = key_text(k);
        let p = root.key(&key);
        let cleaned = match key.as_str() {
            "interfaces" => match val {
                Value::Sequence(items) => Some(Value::Sequence(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, b)| check_block(b, &p.index(i), out))
                        .collect(),
                )),
                Value::Null => None,
                other => {
                    problem(
                        out,
                        p.clone(),
                        At::Value,
                        format!(
                            "interfaces: expected a list of interface blocks, got {}",
                            describe(other)
                        ),
                    );
                    None
                }
            },
            "sysctl" => check_values::<Scalar>(val, &p, "a mapping of sysctl names to values", out),
            _ if known.contains(&key.as_str()) => {
                check_entry::<RawProfile>(k, val, &p, out).then(|| val.clone())
            }
            _ => {
                unknown_key(out, &p, &key, known);
                None
            }
        };
        if let Some(c) = cleaned {
            keep.insert(k.clone(), c);
        }
    }
    match yaml_serde::from_value::<RawProfile>(Value::Mapping(keep)) {
        Ok(raw) => Some(raw),
        Err(e) => {
            // The walk above covers the schema; this is a safety net.
            problem(out, root, At::Key, reword(&e.to_string()));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<String> {
        let v: Value = yaml_serde::from_str(text).expect("yaml");
        let mut out = Vec::new();
        let raw = check(&v, &mut out);
        assert_eq!(
            raw.is_some(),
            v.is_mapping() || v.is_null(),
            "a raw profile of the rest"
        );
        out.into_iter()
            .map(|p| format!("{} | {}", p.path, p.message))
            .collect()
    }

    #[test]
    fn field_lists_come_from_the_structs() {
        assert_eq!(
            fields_of::<RawProfile>(),
            ["name", "description", "extends", "interfaces", "sysctl"]
        );
        assert!(fields_of::<RawBlock>().contains(&"match"));
        assert!(fields_of::<RawBlock>().contains(&"irq_affinity"));
        assert!(fields_of::<crate::model::Coalesce>().contains(&"use_adaptive_rx"));
        assert!(fields_of::<Scalar>().is_empty(), "not a struct");
    }

    #[test]
    fn a_good_profile_passes_and_round_trips() {
        let text = "\
name: t
description: d
extends: [a, b]
interfaces:
  - match: {name: eth*, pci: true, pci_vendor: 0x15b3}
    rings: {rx: max, tx: 50%}
    channels: {combined: per-local-core}
    coalesce: {rx_usecs: 8, use_adaptive_rx: false}
    pause: {rx: off, tx: false}
    features: {gro: on, lro: off}
    mtu: 9000
    rps: {cpus: nic-numa, flow_cnt: 4096}
    xps: {cpus: '0-3', mode: all}
    irq_affinity: {cpus: nic-numa, exclude: 0, spread: true}
sysctl:
  net.core.rmem_max: 16777216
  net.ipv4.tcp_rmem: 4096 87380 16777216
";
        assert_eq!(problems(text), Vec::<String>::new());
        let v: Value = yaml_serde::from_str(text).expect("yaml");
        let raw = check(&v, &mut Vec::new()).expect("raw");
        let b = &raw.interfaces.as_ref().expect("blocks")[0];
        assert_eq!(
            b.features.as_ref().expect("features").get("gro"),
            Some(&Toggle(true))
        );
        assert_eq!(
            b.selector.as_ref().and_then(|m| m.pci_vendor.clone()),
            Some(Scalar::Int(0x15b3))
        );
        let again: RawProfile =
            yaml_serde::from_str(&yaml_serde::to_string(&raw).expect("ser")).expect("de");
        assert_eq!(again, raw);
    }

    #[test]
    fn every_unknown_key_and_type_error_is_reported() {
        let text = "\
name: t
descripton: d
interfaces:
  - match: {nme: eth*}
    ring: {rx: max}
    rings: {rx: max, tx: [1]}
    mtu: big
    features: {gro: maybe}
  - 3
sysctl: 5
";
        assert_eq!(
            problems(text),
            [
                "descripton | unknown key 'descripton' at the top level, did you mean 'description'?",
                "interfaces[0].match.nme | unknown key 'nme' in interfaces[0].match, did you mean 'name'?",
                "interfaces[0].ring | unknown key 'ring' in interfaces[0], did you mean 'rings'?",
                "interfaces[0].rings.tx | interfaces[0].rings.tx: expected a number, a word or true/false, got a list",
                "interfaces[0].mtu | interfaces[0].mtu: expected a whole number 0 or more, got 'big'",
                "interfaces[0].features.gro | interfaces[0].features.gro: expected on/off or true/false, got 'maybe'",
                "interfaces[1] | interfaces[1]: expected an interface block (match: and settings), got the number 3",
                "sysctl | sysctl: expected a mapping of sysctl names to values, got the number 5",
            ]
        );
    }

    #[test]
    fn far_off_keys_list_the_known_ones() {
        let p = problems("name: t\nzzzzzzzz: 1\n");
        assert_eq!(
            p,
            ["zzzzzzzz | unknown key 'zzzzzzzz' at the top level (known keys: name, description, extends, interfaces, sysctl)"]
        );
        assert_eq!(
            problems("- a\n"),
            [" | expected a profile (a mapping with name, description, ...), got a list"]
        );
        assert_eq!(
            problems("name: [1]\n"),
            ["name | name: expected text, got a list"]
        );
        assert_eq!(
            problems("extends: [a, 3]\n"),
            ["extends | extends: expected a name, got the number 3"]
        );
    }

    #[test]
    fn serde_messages_are_reworded() {
        assert_eq!(
            reword("invalid type: string \"big\", expected u64"),
            "expected a whole number 0 or more, got 'big'"
        );
        assert_eq!(
            reword("invalid value: integer `-1`, expected u64"),
            "expected a whole number 0 or more, got the number -1"
        );
        assert_eq!(
            reword("invalid type: map, expected a boolean"),
            "expected true or false, got a mapping"
        );
        assert_eq!(reword("something `else`"), "something 'else'");
    }
}
