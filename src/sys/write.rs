//! Writers: every setting dpuctl changes goes through here, one knob at a time.
//!
//! | knob | how |
//! |---|---|
//! | sysctl | one `write(2)` to `/proc/sys/...` ([`super::sysctl::write`]) |
//! | rings, channels, coalesce, pause, features | ethtool netlink `_SET`, only that field sent |
//! | mtu, txqueuelen | `RTM_SETLINK` with `IFLA_MTU` / `IFLA_TXQLEN` |
//! | `rps_cpus`, `xps_cpus` | the hex mask to `class/net/IF/queues/{rx,tx}-N/...` |
//! | `rps_flow_cnt` | the number to `class/net/IF/queues/rx-N/rps_flow_cnt` |
//! | IRQ affinity | the CPU list to `/proc/irq/N/smp_affinity_list` |
//!
//! With a sysfs/procfs root other than the live one (a fixture tree), MTU and txqueuelen go to
//! the tree's `mtu` and `tx_queue_len` files and ethtool knobs are refused: netlink would
//! change the running kernel, not the tree.
//!
//! Also here: the checks made before the first write (privilege, files writable) and the
//! process-table readers the tuning engine needs (is a process alive, is irqbalance running).

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::model::{Channels, Coalesce, CpuSet, Knob, Rings, Value};

use super::ethtool::{Ethtool, EthtoolError};
use super::netlink::Rtnl;
use super::nl::{AttrBuf, NlError, NlSocket, Proto};
use super::{sysctl, sysfs, SysRoot};

const RTM_SETLINK: u16 = 19;
const IFLA_MTU: u16 = 4;
const IFLA_TXQLEN: u16 = 13;
const IFINFOMSG_LEN: usize = 16;
/// `CAP_NET_ADMIN` in include/uapi/linux/capability.h.
const CAP_NET_ADMIN: u32 = 12;

/// Why a setting could not be changed. Every message names the object.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The kernel refused for lack of privilege (`EPERM`/`EACCES`).
    #[error("failed to set {object}: permission denied (needs root or CAP_NET_ADMIN)")]
    Permission {
        /// The knob, as the plan shows it (`eth2 rings rx`).
        object: String,
    },
    /// This process has neither effective uid 0 nor `CAP_NET_ADMIN`; found before any write.
    #[error(
        "changing settings needs root or CAP_NET_ADMIN (effective uid {euid}, no CAP_NET_ADMIN)"
    )]
    NotPrivileged {
        /// Effective uid of this process.
        euid: u32,
    },
    /// The value does not fit the knob (a CPU set for a ring size, an unknown field).
    #[error("cannot set {object} to {value}: {reason}")]
    Invalid {
        /// The knob.
        object: String,
        /// The value asked for.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The kernel or the driver refused the value, or the object does not exist.
    #[error("failed to set {object} to {value}: {reason}")]
    Failed {
        /// The knob.
        object: String,
        /// The value asked for.
        value: String,
        /// The cause, in the kernel's words where it gave any.
        reason: String,
    },
}

impl WriteError {
    /// True when the failure is a lack of privilege.
    pub fn is_permission(&self) -> bool {
        matches!(
            self,
            WriteError::Permission { .. } | WriteError::NotPrivileged { .. }
        )
    }

    pub(crate) fn failed(knob: &Knob, value: &Value, reason: impl Into<String>) -> Self {
        WriteError::Failed {
            object: knob.to_string(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }

    pub(crate) fn invalid(knob: &Knob, value: &Value, reason: impl Into<String>) -> Self {
        WriteError::Invalid {
            object: knob.to_string(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }

    fn from_io(knob: &Knob, value: &Value, path: &Path, e: &io::Error) -> Self {
        if matches!(e.raw_os_error(), Some(libc::EPERM | libc::EACCES))
            || e.kind() == io::ErrorKind::PermissionDenied
        {
            return WriteError::Permission {
                object: knob.to_string(),
            };
        }
        let reason = match (e.kind(), e.raw_os_error()) {
            (io::ErrorKind::NotFound, _) => format!("{} does not exist", path.display()),
            // Managed interrupts (most multi-queue NICs on kernels >= 4.8 with
            // pci_alloc_irq_vectors_affinity) refuse user affinity with EIO.
            (_, Some(libc::EIO)) if matches!(knob, Knob::IrqAffinity { .. }) => {
                "the kernel manages this IRQ's affinity (Input/output error)".to_string()
            }
            (_, Some(libc::EINVAL)) => "the kernel refused the value (Invalid argument)".into(),
            _ => {
                let s = e.to_string();
                s.split(" (os error").next().unwrap_or(&s).to_string()
            }
        };
        Self::failed(knob, value, reason)
    }

    fn from_ethtool(knob: &Knob, value: &Value, e: &EthtoolError) -> Self {
        if e.is_permission() {
            return WriteError::Permission {
                object: knob.to_string(),
            };
        }
        Self::failed(knob, value, e.reason())
    }

    pub(crate) fn from_nl(knob: &Knob, value: &Value, e: &NlError) -> Self {
        if e.is_permission() {
            return WriteError::Permission {
                object: knob.to_string(),
            };
        }
        Self::failed(knob, value, e.to_string())
    }
}

// ---------------------------------------------------------------------------------------------
// Model fields by name.

pub use crate::model::knobs::{field_value, knob_field, settable_field, sysctl_text, FieldKind};

/// A model struct with every optional field `None` but `field`, set to `value`.
fn with_field<T: Default + Serialize + DeserializeOwned>(
    field: &str,
    value: serde_json::Value,
) -> Result<T, String> {
    let mut v = serde_json::to_value(T::default()).map_err(|e| e.to_string())?;
    let obj = v
        .as_object_mut()
        .ok_or_else(|| "not a struct".to_string())?;
    if !obj.contains_key(field) {
        return Err(format!("no field {field:?}"));
    }
    obj.insert(field.to_string(), value);
    serde_json::from_value(v).map_err(|e| e.to_string())
}

// ---------------------------------------------------------------------------------------------
// Values.

fn as_num(knob: &Knob, value: &Value) -> Result<u64, WriteError> {
    match value {
        Value::Num(n) => Ok(*n),
        Value::Text(t) => t
            .trim()
            .parse()
            .map_err(|_| WriteError::invalid(knob, value, "expects a number")),
        _ => Err(WriteError::invalid(knob, value, "expects a number")),
    }
}

fn as_u32(knob: &Knob, value: &Value) -> Result<u32, WriteError> {
    let n = as_num(knob, value)?;
    u32::try_from(n).map_err(|_| WriteError::invalid(knob, value, "above 4294967295"))
}

fn as_bool(knob: &Knob, value: &Value) -> Result<bool, WriteError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::Num(0) => Ok(false),
        Value::Num(1) => Ok(true),
        Value::Text(t) if t == "on" || t == "true" => Ok(true),
        Value::Text(t) if t == "off" || t == "false" => Ok(false),
        _ => Err(WriteError::invalid(knob, value, "expects on or off")),
    }
}

fn as_cpus(knob: &Knob, value: &Value) -> Result<CpuSet, WriteError> {
    match value {
        Value::Cpus(c) => Ok(c.clone()),
        Value::Text(t) => {
            CpuSet::parse_any(t).map_err(|e| WriteError::invalid(knob, value, e.to_string()))
        }
        _ => Err(WriteError::invalid(knob, value, "expects a CPU list")),
    }
}

// ---------------------------------------------------------------------------------------------
// Files.

fn checked_ifname<'a>(knob: &Knob, value: &Value, iface: &'a str) -> Result<&'a str, WriteError> {
    if sysfs::valid_ifname(iface) {
        Ok(iface)
    } else {
        Err(WriteError::invalid(
            knob,
            value,
            format!("invalid interface name {iface:?}"),
        ))
    }
}

/// The file a file-backed knob is written to, `None` for netlink knobs (on a live root).
pub fn knob_path(root: &SysRoot, knob: &Knob) -> Option<PathBuf> {
    if !matches!(knob, Knob::Sysctl { .. }) && !sysfs::valid_ifname(knob.object()) {
        return None;
    }
    let net = |iface: &str| root.sys("class/net").join(iface);
    match knob {
        Knob::Sysctl { name } => sysctl::validate_name(name)
            .ok()
            .map(|()| root.proc("sys").join(name.replace('.', "/"))),
        Knob::Rps { iface, queue } => Some(net(iface).join(format!("queues/rx-{queue}/rps_cpus"))),
        Knob::RpsFlowCnt { iface, queue } => {
            Some(net(iface).join(format!("queues/rx-{queue}/rps_flow_cnt")))
        }
        Knob::Xps { iface, queue } => Some(net(iface).join(format!("queues/tx-{queue}/xps_cpus"))),
        Knob::IrqAffinity { irq, .. } => Some(root.proc(format!("irq/{irq}/smp_affinity_list"))),
        Knob::Mtu { iface } if !root.is_live() => Some(net(iface).join("mtu")),
        Knob::TxQueueLen { iface } if !root.is_live() => Some(net(iface).join("tx_queue_len")),
        _ => None,
    }
}

/// Opens a kernel attribute file (sysfs, procfs) for writing: never creating it, never
/// through a link in its last component, never blocking (a FIFO planted in a `--sysfs-root`
/// tree fails at once instead of waiting for a reader), and only when it is a regular file.
pub(crate) fn open_attr_for_write(path: &Path, truncate: bool) -> io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let f = fs::OpenOptions::new()
        .write(true)
        .truncate(truncate)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)?;
    if !f.metadata()?.file_type().is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a regular file", path.display()),
        ));
    }
    Ok(f)
}

/// Checks the names a knob puts into a path (interface, sysctl) before any path is built.
fn check_names(knob: &Knob, value: &Value) -> Result<(), WriteError> {
    match knob {
        Knob::Sysctl { name } => {
            sysctl::validate_name(name).map_err(|e| WriteError::invalid(knob, value, e))
        }
        // RDMA device names (up to 63 bytes) are checked where their paths are built.
        Knob::RdmaCm { .. } | Knob::RdmaCmDir { .. } => Ok(()),
        _ => checked_ifname(knob, value, knob.object()).map(drop),
    }
}

/// Writes `text` plus a newline in one `write(2)` to an existing file.
fn write_file(path: &Path, text: &str) -> io::Result<()> {
    let mut f = open_attr_for_write(path, true)?;
    let line = format!("{text}\n");
    let n = f.write(line.as_bytes())?;
    if n != line.len() {
        return Err(io::Error::new(
            io::ErrorKind::WriteZero,
            format!("the kernel took {n} of {} bytes", line.len()),
        ));
    }
    Ok(())
}

/// Number of CPU ids the kernel has (`nr_cpu_ids`): one above the highest possible CPU.
fn nr_cpu_ids(root: &SysRoot) -> u32 {
    let read = |f: &str| {
        fs::read_to_string(root.sys(format!("devices/system/cpu/{f}")))
            .ok()
            .and_then(|s| CpuSet::parse_list(&s).ok())
            .and_then(|c| c.iter().last())
    };
    read("possible")
        .or_else(|| read("online"))
        .map_or(1, |c| c + 1)
}

/// Maps an error of [`sysctl::write`] (which prefixes "cannot set NAME: " and keeps the kind).
fn sysctl_error(knob: &Knob, value: &Value, name: &str, e: &io::Error) -> WriteError {
    let msg = e.to_string();
    let msg = msg
        .strip_prefix(&format!("cannot set {name}: "))
        .unwrap_or(&msg);
    let msg = msg.split(" (os error").next().unwrap_or(msg);
    match e.kind() {
        io::ErrorKind::PermissionDenied => WriteError::Permission {
            object: knob.to_string(),
        },
        io::ErrorKind::NotFound => {
            WriteError::failed(knob, value, "absent in this network namespace or kernel")
        }
        io::ErrorKind::InvalidInput if msg == "Invalid argument" => WriteError::failed(
            knob,
            value,
            "the kernel refused the value (Invalid argument)",
        ),
        io::ErrorKind::InvalidInput => WriteError::invalid(knob, value, msg),
        _ => WriteError::failed(knob, value, msg),
    }
}

/// Writes a file-backed knob (sysctl, RPS/XPS, flow count, IRQ affinity; MTU and txqueuelen on
/// a fixture tree).
fn write_file_knob(root: &SysRoot, knob: &Knob, value: &Value) -> Result<(), WriteError> {
    let text = match knob {
        Knob::Sysctl { name } => {
            let text = sysctl_text(value);
            return sysctl::write(root, name, &text)
                .map_err(|e| sysctl_error(knob, value, name, &e));
        }
        Knob::Rps { iface, .. } | Knob::Xps { iface, .. } => {
            checked_ifname(knob, value, iface)?;
            as_cpus(knob, value)?.to_mask(nr_cpu_ids(root))
        }
        Knob::RpsFlowCnt { iface, .. } | Knob::Mtu { iface } | Knob::TxQueueLen { iface } => {
            checked_ifname(knob, value, iface)?;
            as_u32(knob, value)?.to_string()
        }
        Knob::IrqAffinity { .. } => {
            let cpus = as_cpus(knob, value)?;
            if cpus.is_empty() {
                return Err(WriteError::invalid(
                    knob,
                    value,
                    "an IRQ needs at least one CPU",
                ));
            }
            cpus.to_list()
        }
        _ => {
            return Err(WriteError::invalid(
                knob,
                value,
                "not a file-backed setting",
            ))
        }
    };
    let path = knob_path(root, knob)
        .ok_or_else(|| WriteError::invalid(knob, value, "not a file-backed setting"))?;
    write_file(&path, &text).map_err(|e| WriteError::from_io(knob, value, &path, &e))
}

// ---------------------------------------------------------------------------------------------
// Netlink.

/// Sets MTU and txqueuelen with `RTM_SETLINK`.
pub struct LinkSetter {
    rtnl: Rtnl,
    sock: NlSocket,
    index: HashMap<String, u32>,
}

impl LinkSetter {
    /// Opens two rtnetlink sockets: one to look up interface indexes, one for the changes.
    pub fn open() -> Result<Self, NlError> {
        Ok(Self {
            rtnl: Rtnl::open()?,
            sock: NlSocket::open(Proto::Route)?,
            index: HashMap::new(),
        })
    }

    /// The index of `iface`, from a link dump (cached; refreshed on a miss).
    fn ifindex(&mut self, iface: &str) -> Result<Option<u32>, NlError> {
        if let Some(i) = self.index.get(iface) {
            return Ok(Some(*i));
        }
        self.index = self
            .rtnl
            .links()?
            .into_iter()
            .map(|l| (l.name, l.ifindex))
            .collect();
        Ok(self.index.get(iface).copied())
    }

    /// Sends one u32 link attribute for `iface`.
    fn set_u32(&mut self, iface: &str, attr: u16, v: u32) -> Result<bool, NlError> {
        let Some(index) = self.ifindex(iface)? else {
            return Ok(false);
        };
        let req = setlink_request(index, attr, v);
        match self.sock.request(RTM_SETLINK, 0, &req) {
            // The index went stale (interface re-created): look it up again once.
            Err(e) if e.errno() == Some(libc::ENODEV) => {
                self.index.clear();
                let Some(index) = self.ifindex(iface)? else {
                    return Ok(false);
                };
                self.sock
                    .request(RTM_SETLINK, 0, &setlink_request(index, attr, v))?;
                Ok(true)
            }
            Err(e) => Err(e),
            Ok(_) => Ok(true),
        }
    }
}

/// An `RTM_SETLINK` body: `struct ifinfomsg` for `index` and one u32 attribute.
fn setlink_request(index: u32, attr: u16, v: u32) -> Vec<u8> {
    let mut hdr = [0u8; IFINFOMSG_LEN];
    hdr[4..8].copy_from_slice(&index.to_ne_bytes());
    let mut b = AttrBuf::with_header(&hdr);
    b.u32(attr, v);
    b.bytes().to_vec()
}

fn write_link(
    link: &mut LinkSetter,
    knob: &Knob,
    value: &Value,
    iface: &str,
) -> Result<(), WriteError> {
    checked_ifname(knob, value, iface)?;
    let attr = if matches!(knob, Knob::Mtu { .. }) {
        IFLA_MTU
    } else {
        IFLA_TXQLEN
    };
    let v = as_u32(knob, value)?;
    match link.set_u32(iface, attr, v) {
        Ok(true) => Ok(()),
        Ok(false) => Err(WriteError::failed(
            knob,
            value,
            format!("no interface {iface:?} in this network namespace"),
        )),
        Err(e) => Err(WriteError::from_nl(knob, value, &e)),
    }
}

/// Writes an ethtool knob: one field of rings, channels, coalescing or pause, or one feature.
fn write_ethtool(eth: &mut Ethtool, knob: &Knob, value: &Value) -> Result<(), WriteError> {
    let err = |e: &EthtoolError| WriteError::from_ethtool(knob, value, e);
    if let Knob::Feature { iface, name } = knob {
        let on = as_bool(knob, value)?;
        return eth.set_features(iface, &[(name, on)]).map_err(|e| err(&e));
    }
    let Some((group, field)) = knob_field(knob) else {
        return Err(WriteError::invalid(knob, value, "not an ethtool setting"));
    };
    let iface = knob.object();
    let kind = settable_field(group, field).ok_or_else(|| {
        WriteError::invalid(
            knob,
            value,
            format!("{group} has no settable field {field:?}"),
        )
    })?;
    let json = match kind {
        FieldKind::Num => serde_json::Value::from(as_u32(knob, value)?),
        FieldKind::Bool => serde_json::Value::from(as_bool(knob, value)?),
    };
    let bad = |e: String| WriteError::invalid(knob, value, e);
    let r = match group {
        "rings" => eth.set_rings(iface, &with_field::<Rings>(field, json).map_err(bad)?),
        "channels" => eth.set_channels(iface, &with_field::<Channels>(field, json).map_err(bad)?),
        "coalesce" => eth.set_coalesce(iface, &with_field::<Coalesce>(field, json).map_err(bad)?),
        _ => {
            let on = json.as_bool();
            let pick = |f: &str| if field == f { on } else { None };
            eth.set_pause(iface, pick("autoneg"), pick("rx"), pick("tx"))
        }
    };
    r.map_err(|e| err(&e))
}

/// Applies one setting with already opened ethtool and rtnetlink handles.
pub fn apply(
    root: &SysRoot,
    eth: &mut Ethtool,
    link: &mut LinkSetter,
    knob: &Knob,
    value: &Value,
) -> Result<(), WriteError> {
    match knob {
        Knob::RdmaCm { .. } | Knob::RdmaCmDir { .. } => write_rdma_cm(root, knob, value),
        Knob::Ring { .. }
        | Knob::Channel { .. }
        | Knob::Coalesce { .. }
        | Knob::Pause { .. }
        | Knob::Feature { .. } => write_ethtool(eth, knob, value),
        Knob::Mtu { iface } | Knob::TxQueueLen { iface } if root.is_live() => {
            write_link(link, knob, value, iface)
        }
        _ => write_file_knob(root, knob, value),
    }
}

/// Applies settings, opening the ethtool and rtnetlink sockets the first time a knob needs one.
pub struct Writer {
    root: SysRoot,
    eth: Option<Ethtool>,
    link: Option<LinkSetter>,
}

impl Writer {
    /// A writer for the node under `root`.
    pub fn new(root: SysRoot) -> Self {
        Self {
            root,
            eth: None,
            link: None,
        }
    }

    /// The roots this writer writes under.
    pub fn root(&self) -> &SysRoot {
        &self.root
    }

    /// Applies one setting.
    pub fn apply(&mut self, knob: &Knob, value: &Value) -> Result<(), WriteError> {
        check_names(knob, value)?;
        match knob {
            Knob::RdmaCm { .. } | Knob::RdmaCmDir { .. } => write_rdma_cm(&self.root, knob, value),
            Knob::Ring { .. }
            | Knob::Channel { .. }
            | Knob::Coalesce { .. }
            | Knob::Pause { .. }
            | Knob::Feature { .. } => {
                if !self.root.is_live() {
                    return Err(WriteError::failed(
                        knob,
                        value,
                        "ethtool changes the running kernel, not a --sysfs-root tree",
                    ));
                }
                if self.eth.is_none() {
                    self.eth = Some(Ethtool::open().map_err(|e| {
                        WriteError::failed(knob, value, format!("ethtool netlink: {}", e.reason()))
                    })?);
                }
                match self.eth.as_mut() {
                    Some(eth) => write_ethtool(eth, knob, value),
                    None => Err(WriteError::failed(knob, value, "ethtool netlink not open")),
                }
            }
            Knob::Mtu { iface } | Knob::TxQueueLen { iface } if self.root.is_live() => {
                if self.link.is_none() {
                    self.link =
                        Some(LinkSetter::open().map_err(|e| WriteError::from_nl(knob, value, &e))?);
                }
                match self.link.as_mut() {
                    Some(link) => write_link(link, knob, value, iface),
                    None => Err(WriteError::failed(knob, value, "rtnetlink not open")),
                }
            }
            Knob::Pfc { .. }
            | Knob::DcbEts { .. }
            | Knob::DcbApp { .. }
            | Knob::DcbTrust { .. } => {
                if !self.root.is_live() {
                    return Err(WriteError::failed(
                        knob,
                        value,
                        "dcbnl changes the running kernel, not a --sysfs-root tree",
                    ));
                }
                let mut dcb =
                    super::dcb::Dcb::open().map_err(|e| WriteError::from_nl(knob, value, &e))?;
                super::dcb_write::write(&mut dcb, knob, value)
            }
            Knob::Qdisc { iface } => {
                if !self.root.is_live() {
                    return Err(WriteError::failed(
                        knob,
                        value,
                        "traffic control changes the running kernel, not a --sysfs-root tree",
                    ));
                }
                write_qdisc(knob, value, iface)
            }
            _ => write_file_knob(&self.root, knob, value),
        }
    }

    fn ethtool(&mut self, iface: &str) -> Result<&mut Ethtool, WriteError> {
        let object = format!("{iface} features");
        if !self.root.is_live() {
            return Err(WriteError::Failed {
                object,
                value: "as before".into(),
                reason: "ethtool changes the running kernel, not a --sysfs-root tree".into(),
            });
        }
        if self.eth.is_none() {
            self.eth = Some(Ethtool::open().map_err(|e| WriteError::Failed {
                object: object.clone(),
                value: "as before".into(),
                reason: format!("ethtool netlink: {}", e.reason()),
            })?);
        }
        self.eth.as_mut().ok_or(WriteError::Failed {
            object,
            value: "as before".into(),
            reason: "ethtool netlink not open".into(),
        })
    }

    /// The wanted bit of every changeable (not fixed) offload feature of `iface`.
    pub fn wanted_features(&mut self, iface: &str) -> Result<BTreeMap<String, bool>, WriteError> {
        let eth = self.ethtool(iface)?;
        let fs = eth.features(iface).map_err(|e| WriteError::Failed {
            object: format!("{iface} features"),
            value: "as before".into(),
            reason: e.reason(),
        })?;
        Ok(fs
            .into_iter()
            .filter(|f| !f.fixed)
            .map(|f| (f.name, f.wanted))
            .collect())
    }

    /// Puts the wanted bits of `iface`'s features back to `wanted` (those that differ now),
    /// then reads them back.
    pub fn restore_wanted_features(
        &mut self,
        iface: &str,
        wanted: &BTreeMap<String, bool>,
    ) -> Result<(), WriteError> {
        let now = self.wanted_features(iface)?;
        let fail = |reason: String| WriteError::Failed {
            object: format!("{iface} features"),
            value: "their wanted state before the transaction".into(),
            reason,
        };
        let diff: Vec<(&str, bool)> = wanted
            .iter()
            .filter(|(n, v)| now.get(*n).is_some_and(|x| x != *v))
            .map(|(n, v)| (n.as_str(), *v))
            .collect();
        if diff.is_empty() {
            return Ok(());
        }
        self.ethtool(iface)?
            .set_wanted(iface, &diff)
            .map_err(|e| fail(e.reason()))?;
        let after = self.wanted_features(iface)?;
        let off: Vec<String> = wanted
            .iter()
            .filter(|(n, v)| after.get(*n).is_some_and(|x| x != *v))
            .map(|(n, v)| format!("{n} {}", if *v { "on" } else { "off" }))
            .collect();
        if off.is_empty() {
            Ok(())
        } else {
            Err(fail(format!(
                "still not wanted as before: {}",
                off.join(", ")
            )))
        }
    }

    /// Checks, without changing anything, that `knob` can be written: the file exists and
    /// opens for writing, or (netlink knobs) this process may change network settings.
    pub fn preflight(&self, knob: &Knob, value: &Value) -> Result<(), WriteError> {
        check_names(knob, value)?;
        if let Knob::RdmaCm { .. } | Knob::RdmaCmDir { .. } = knob {
            return preflight_rdma_cm(&self.root, knob, value);
        }
        if let Some(path) = knob_path(&self.root, knob) {
            // Opening for writing without writing changes nothing, in procfs and sysfs alike.
            return open_attr_for_write(&path, false)
                .map(drop)
                .map_err(|e| WriteError::from_io(knob, value, &path, &e));
        }
        if self.root.is_live() {
            require_privilege()?;
        }
        if let (Knob::Qdisc { iface }, true) = (knob, self.root.is_live()) {
            preflight_qdisc(knob, value, iface)?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// rdma_cm configfs.

/// `rdma_cm` in configfs, checked to be a real directory (not a link): configfs mounted on
/// `kernel/config` below the sysfs root and the `rdma_cm` module loaded.
fn rdma_cm_root(root: &SysRoot, knob: &Knob, value: &Value) -> Result<PathBuf, WriteError> {
    let cm = root.sys(super::rdma::RDMA_CM_DIR);
    match fs::symlink_metadata(&cm) {
        Ok(m) if m.file_type().is_dir() => Ok(cm),
        _ => Err(WriteError::failed(
            knob,
            value,
            crate::tune::plan::NO_RDMA_CM,
        )),
    }
}

/// The device directory `rdma_cm/<device>` and, for a default, its file
/// `ports/<port>/<field>`.
fn rdma_cm_paths(
    root: &SysRoot,
    knob: &Knob,
    value: &Value,
) -> Result<(PathBuf, Option<PathBuf>), WriteError> {
    let device = knob.object();
    if !super::rdma::valid_device_name(device) {
        return Err(WriteError::invalid(
            knob,
            value,
            format!("invalid RDMA device name {device:?}"),
        ));
    }
    let dir = rdma_cm_root(root, knob, value)?.join(device);
    let file = match knob {
        Knob::RdmaCm { port, field, .. } => {
            if field != crate::model::rdma::ROCE_MODE && field != crate::model::rdma::ROCE_TOS {
                return Err(WriteError::invalid(
                    knob,
                    value,
                    format!("no rdma_cm field {field:?}"),
                ));
            }
            Some(dir.join("ports").join(port.to_string()).join(field))
        }
        _ => None,
    };
    Ok((dir, file))
}

/// Makes (`true`) or removes (`false`) `rdma_cm/<device>`, or writes one default of a port
/// (`default_roce_mode` as `rdma_cm` spells it, `default_roce_tos` as a number).
fn write_rdma_cm(root: &SysRoot, knob: &Knob, value: &Value) -> Result<(), WriteError> {
    let (dir, file) = rdma_cm_paths(root, knob, value)?;
    let Some(file) = file else {
        let io = |e: &io::Error| WriteError::from_io(knob, value, &dir, e);
        return if as_bool(knob, value)? {
            match fs::create_dir(&dir) {
                Err(e) if e.kind() != io::ErrorKind::AlreadyExists => Err(io(&e)),
                _ => Ok(()),
            }
        } else {
            // Only a real directory is removed (remove_dir does not follow a link, and
            // configfs lets only rmdir take a device directory away).
            match fs::symlink_metadata(&dir) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(io(&e)),
                Ok(m) if !m.file_type().is_dir() => Err(WriteError::failed(
                    knob,
                    value,
                    format!("{} is not a directory", dir.display()),
                )),
                Ok(_) => fs::remove_dir(&dir).map_err(|e| io(&e)),
            }
        };
    };
    let text = match (knob, value) {
        (Knob::RdmaCm { field, .. }, Value::Text(t)) if field == crate::model::rdma::ROCE_MODE => {
            crate::model::rdma::parse_roce_mode(t)
                .map_err(|e| WriteError::invalid(knob, value, e))?
                .to_string()
        }
        (_, Value::Num(n)) if *n <= 255 => n.to_string(),
        _ => {
            return Err(WriteError::invalid(
                knob,
                value,
                "expects a RoCE mode or a number 0 to 255",
            ))
        }
    };
    write_file(&file, &text).map_err(|e| WriteError::from_io(knob, value, &file, &e))
}

/// Checks without changing anything that an `rdma_cm` knob can be set: `rdma_cm` is in
/// configfs, and a default's file is writable where the device directory exists already
/// (otherwise the directory step before it makes it).
fn preflight_rdma_cm(root: &SysRoot, knob: &Knob, value: &Value) -> Result<(), WriteError> {
    let (dir, file) = rdma_cm_paths(root, knob, value)?;
    if root.is_live() {
        require_privilege()?;
    }
    match file {
        Some(f) if dir.is_dir() => open_attr_for_write(&f, false)
            .map(drop)
            .map_err(|e| WriteError::from_io(knob, value, &f, &e)),
        _ => Ok(()),
    }
}

/// The spec a qdisc knob's value carries, and the interface's index.
fn qdisc_target(
    knob: &Knob,
    value: &Value,
    iface: &str,
) -> Result<(crate::model::qos::QdiscSpec, u32), WriteError> {
    let Value::Text(t) = value else {
        return Err(WriteError::invalid(knob, value, "expects a qdisc"));
    };
    let spec =
        crate::model::qos::QdiscSpec::parse(t).map_err(|e| WriteError::invalid(knob, value, e))?;
    let links = super::netlink::Rtnl::open()
        .and_then(|mut r| r.links())
        .map_err(|e| WriteError::from_nl(knob, value, &e))?;
    let ifindex = links
        .iter()
        .find(|l| l.name == iface)
        .map(|l| l.ifindex)
        .ok_or_else(|| WriteError::failed(knob, value, "no such interface"))?;
    Ok((spec, ifindex))
}

/// Sets the root qdisc (`tc qdisc replace/del dev X root`) over rtnetlink.
fn write_qdisc(knob: &Knob, value: &Value, iface: &str) -> Result<(), WriteError> {
    let (spec, ifindex) = qdisc_target(knob, value, iface)?;
    let mut tc = super::tc::Tc::open().map_err(|e| WriteError::from_nl(knob, value, &e))?;
    tc.set_root(ifindex, &spec).map_err(|e| match e {
        super::tc::TcError::Nl(n) => WriteError::from_nl(knob, value, &n),
        super::tc::TcError::Invalid(r) => WriteError::invalid(knob, value, r),
    })
}

/// Refuses, before anything changes, a root qdisc dpuctl could not put back exactly.
fn preflight_qdisc(knob: &Knob, value: &Value, iface: &str) -> Result<(), WriteError> {
    let (_, ifindex) = qdisc_target(knob, value, iface)?;
    let mut tc = super::tc::Tc::open().map_err(|e| WriteError::from_nl(knob, value, &e))?;
    match tc.restorable_root(ifindex) {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(why)) => Err(WriteError::invalid(knob, value, why)),
        Err(e) => Err(WriteError::from_nl(knob, value, &e)),
    }
}

// ---------------------------------------------------------------------------------------------
// Privilege and processes. These read the real /proc: they are about this machine's processes,
// not about the node tree a --procfs-root points at.

/// This process's effective uid and whether it holds `CAP_NET_ADMIN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Privilege {
    /// Effective uid.
    pub euid: u32,
    /// `CAP_NET_ADMIN` in the effective set.
    pub net_admin: bool,
}

impl Privilege {
    /// True when the process may change network settings.
    pub fn sufficient(&self) -> bool {
        self.euid == 0 || self.net_admin
    }
}

/// Parses the `Uid:` and `CapEff:` lines of `/proc/PID/status`.
pub fn parse_privilege(status: &str) -> Option<Privilege> {
    let field = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .map(str::trim)
    };
    let euid = field("Uid:")?.split_whitespace().nth(1)?.parse().ok()?;
    let cap = u64::from_str_radix(field("CapEff:")?, 16).ok()?;
    Some(Privilege {
        euid,
        net_admin: cap & (1 << CAP_NET_ADMIN) != 0,
    })
}

/// The privilege of this process.
pub fn privilege() -> io::Result<Privilege> {
    let status = fs::read_to_string("/proc/self/status")?;
    parse_privilege(&status).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "/proc/self/status lacks Uid or CapEff",
        )
    })
}

/// Fails unless this process has effective uid 0 or `CAP_NET_ADMIN`.
pub fn require_privilege() -> Result<(), WriteError> {
    match privilege() {
        Ok(p) if p.sufficient() => Ok(()),
        Ok(p) => Err(WriteError::NotPrivileged { euid: p.euid }),
        // Unknown: let the kernel decide at the first write.
        Err(_) => Ok(()),
    }
}

/// State letter and start time (clock ticks after boot) from a `/proc/PID/stat` line.
pub fn parse_stat(stat: &str) -> Option<(char, u64)> {
    // The command name is in parentheses and may itself contain spaces and parentheses.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let state = fields.first()?.chars().next()?;
    // Field 22 of the line (starttime) is the 20th after the command name.
    let start = fields.get(19)?.parse().ok()?;
    Some((state, start))
}

/// Start time of a process (clock ticks after boot), `None` when it does not exist or is a
/// zombie.
pub fn process_start(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (state, start) = parse_stat(&stat)?;
    (state != 'Z' && state != 'X').then_some(start)
}

/// True when process `pid` runs and, if `start` is given, is the one that started then (not a
/// later process that reused the pid).
pub fn process_alive(pid: u32, start: Option<u64>) -> bool {
    match (process_start(pid), start) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(s), Some(want)) => s == want,
    }
}

/// The pid of a running irqbalance, found by scanning `root`'s procfs for a process whose
/// `comm` is `irqbalance`. irqbalance rewrites IRQ affinities every few seconds, undoing
/// what a profile set.
pub fn irqbalance_pid(root: &SysRoot) -> Option<u32> {
    let rd = fs::read_dir(&root.procfs).ok()?;
    rd.flatten().find_map(|e| {
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        let comm = fs::read_to_string(e.path().join("comm")).ok()?;
        (comm.trim_end() == "irqbalance").then_some(pid)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_before_any_path_is_built_and_a_fifo_never_blocks() {
        let (tmp, root) = tree();
        let w = Writer::new(root.clone());
        // An interface name that climbs out of class/net: refused before any open.
        let outside = tmp.path().join("x/queues/rx-0");
        fs::create_dir_all(&outside).expect("mkdir");
        fs::write(outside.join("rps_cpus"), "0\n").expect("write");
        let bad = Knob::Rps {
            iface: "../../../x".into(),
            queue: 0,
        };
        let v = Value::Cpus(CpuSet::from_cpus([0]));
        assert!(knob_path(&root, &bad).is_none());
        let e = w.preflight(&bad, &v).expect_err("invalid name");
        assert!(e.to_string().contains("invalid interface name"), "{e}");
        let mut w = Writer::new(root.clone());
        assert!(w.apply(&bad, &v).is_err());
        assert_eq!(
            fs::read_to_string(outside.join("rps_cpus")).expect("read"),
            "0\n"
        );
        // A FIFO where an attribute file should be: an error at once, not a wait for a reader.
        let fifo = tmp.path().join("sys/class/net/eth0/queues/rx-0/rps_cpus");
        fs::remove_file(&fifo).expect("rm");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo");
        assert!(made.success());
        let k = Knob::Rps {
            iface: "eth0".into(),
            queue: 0,
        };
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let w = Writer::new(root.clone());
            let pre = w.preflight(&k, &v).map_err(|e| e.to_string());
            let mut w = Writer::new(root);
            let app = w.apply(&k, &v).map_err(|e| e.to_string());
            let _ = tx.send((pre, app));
        });
        let (pre, app) = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("blocked on a FIFO");
        assert!(pre.is_err() && app.is_err(), "{pre:?} {app:?}");
    }

    fn tree() -> (tempfile::TempDir, SysRoot) {
        let tmp = tempfile::tempdir().expect("tempdir");
        let t = tmp.path();
        for (rel, text) in [
            ("sys/class/net/eth0/queues/rx-0/rps_cpus", "00000000\n"),
            ("sys/class/net/eth0/queues/rx-0/rps_flow_cnt", "0\n"),
            ("sys/class/net/eth0/queues/tx-0/xps_cpus", "00000000\n"),
            ("sys/class/net/eth0/mtu", "1500\n"),
            ("sys/class/net/eth0/tx_queue_len", "1000\n"),
            ("sys/devices/system/cpu/possible", "0-39\n"),
            ("proc/irq/45/smp_affinity_list", "0-39\n"),
            ("proc/sys/net/core/somaxconn", "4096\n"),
            ("proc/sys/net/ipv4/tcp_rmem", "4096\t131072\t6291456\n"),
        ] {
            let p = t.join(rel);
            fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            fs::write(&p, text).expect("write");
        }
        let root = SysRoot::new(t.join("sys"), t.join("proc"));
        (tmp, root)
    }

    fn eth0(f: &str) -> String {
        format!("class/net/eth0/{f}")
    }

    #[test]
    fn file_knobs_write_the_kernel_forms() {
        let (_tmp, root) = tree();
        let mut w = Writer::new(root.clone());
        let iface = "eth0".to_string();
        let cpus = |s: &str| Value::Cpus(CpuSet::parse_list(s).expect("cpus"));
        let read = |p: PathBuf| fs::read_to_string(p).expect("read");

        w.apply(
            &Knob::Rps {
                iface: iface.clone(),
                queue: 0,
            },
            &cpus("0-3,33"),
        )
        .expect("rps");
        assert_eq!(
            read(root.sys(eth0("queues/rx-0/rps_cpus"))),
            "00000002,0000000f\n"
        );
        w.apply(
            &Knob::Xps {
                iface: iface.clone(),
                queue: 0,
            },
            &cpus(""),
        )
        .expect("xps");
        assert_eq!(
            read(root.sys(eth0("queues/tx-0/xps_cpus"))),
            "00000000,00000000\n"
        );
        w.apply(
            &Knob::RpsFlowCnt {
                iface: iface.clone(),
                queue: 0,
            },
            &Value::Num(4096),
        )
        .expect("flow");
        assert_eq!(read(root.sys(eth0("queues/rx-0/rps_flow_cnt"))), "4096\n");
        w.apply(
            &Knob::IrqAffinity {
                iface: iface.clone(),
                irq: 45,
            },
            &cpus("4,5,6,7,20"),
        )
        .expect("irq");
        assert_eq!(read(root.proc("irq/45/smp_affinity_list")), "4-7,20\n");
        w.apply(
            &Knob::Sysctl {
                name: "net.ipv4.tcp_rmem".into(),
            },
            &Value::Text("4096  87380\t16777216".into()),
        )
        .expect("sysctl");
        assert_eq!(
            read(root.proc("sys/net/ipv4/tcp_rmem")),
            "4096 87380 16777216\n"
        );
        w.apply(
            &Knob::Sysctl {
                name: "net.core.somaxconn".into(),
            },
            &Value::Num(8192),
        )
        .expect("numeric sysctl");
        assert_eq!(read(root.proc("sys/net/core/somaxconn")), "8192\n");
        // MTU and txqueuelen of a fixture tree go to its files.
        w.apply(
            &Knob::Mtu {
                iface: iface.clone(),
            },
            &Value::Num(9000),
        )
        .expect("mtu");
        assert_eq!(read(root.sys(eth0("mtu"))), "9000\n");
        w.apply(&Knob::TxQueueLen { iface }, &Value::Num(10000))
            .expect("txqueuelen");
        assert_eq!(read(root.sys(eth0("tx_queue_len"))), "10000\n");
    }

    #[test]
    fn errors_name_the_object_and_nothing_is_created() {
        let (_tmp, root) = tree();
        let mut w = Writer::new(root.clone());
        let k = Knob::Rps {
            iface: "eth0".into(),
            queue: 7,
        };
        let e = w
            .apply(&k, &Value::Cpus(CpuSet::from_cpus([1])))
            .expect_err("no queue 7");
        assert!(
            e.to_string()
                .starts_with("failed to set eth0 rx-7 rps_cpus to 1:"),
            "{e}"
        );
        assert!(e.to_string().contains("does not exist"), "{e}");
        assert!(!root.sys(eth0("queues/rx-7")).exists());
        assert!(w.preflight(&k, &Value::Num(1)).is_err());

        let k = Knob::Mtu {
            iface: "eth0".into(),
        };
        let e = w.apply(&k, &Value::Bool(true)).expect_err("type");
        assert_eq!(e.to_string(), "cannot set eth0 mtu to on: expects a number");
        let e = w
            .apply(
                &Knob::Mtu {
                    iface: "../x".into(),
                },
                &Value::Num(1),
            )
            .expect_err("bad name");
        assert!(e.to_string().contains("invalid interface name"), "{e}");
        let e = w
            .apply(
                &Knob::IrqAffinity {
                    iface: "eth0".into(),
                    irq: 45,
                },
                &Value::Cpus(CpuSet::new()),
            )
            .expect_err("empty");
        assert!(e.to_string().contains("at least one CPU"), "{e}");
        let e = w
            .apply(
                &Knob::Ring {
                    iface: "eth0".into(),
                    field: "rx".into(),
                },
                &Value::Num(4096),
            )
            .expect_err("ethtool on a tree");
        assert!(e.to_string().contains("--sysfs-root"), "{e}");
        assert!(w
            .preflight(
                &Knob::Sysctl {
                    name: "net.core.somaxconn".into()
                },
                &Value::Num(1)
            )
            .is_ok());
        // A read-only file is refused before anything is written, as a permission error.
        let p = root.proc("sys/net/core/somaxconn");
        let mut perm = fs::metadata(&p).expect("meta").permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o444);
        fs::set_permissions(&p, perm).expect("chmod");
        if privilege().is_ok_and(|p| p.euid != 0) {
            let e = w
                .preflight(
                    &Knob::Sysctl {
                        name: "net.core.somaxconn".into(),
                    },
                    &Value::Num(1),
                )
                .expect_err("read-only");
            assert!(e.is_permission());
            assert!(e.to_string().contains("needs root or CAP_NET_ADMIN"), "{e}");
        }
    }

    #[test]
    fn io_errors_map_to_permission_and_reasons() {
        let k = Knob::IrqAffinity {
            iface: "eth0".into(),
            irq: 45,
        };
        let v = Value::Cpus(CpuSet::from_cpus([1]));
        let p = Path::new("/proc/irq/45/smp_affinity_list");
        let e = WriteError::from_io(&k, &v, p, &io::Error::from_raw_os_error(libc::EACCES));
        assert!(e.is_permission());
        assert_eq!(
            e.to_string(),
            "failed to set eth0 irq 45 affinity: permission denied (needs root or CAP_NET_ADMIN)"
        );
        let e = WriteError::from_io(&k, &v, p, &io::Error::from_raw_os_error(libc::EIO));
        assert!(e.to_string().contains("manages this IRQ"), "{e}");
        let e = WriteError::from_io(&k, &v, p, &io::Error::from_raw_os_error(libc::EINVAL));
        assert!(e.to_string().ends_with("(Invalid argument)"), "{e}");
    }

    #[test]
    fn fields_by_name() {
        assert_eq!(settable_field("rings", "rx"), Some(FieldKind::Num));
        assert_eq!(settable_field("rings", "rx_max"), None);
        assert_eq!(settable_field("rings", "tx_push"), Some(FieldKind::Bool));
        assert_eq!(settable_field("channels", "combined"), Some(FieldKind::Num));
        assert_eq!(settable_field("channels", "combined_max"), None);
        assert_eq!(settable_field("coalesce", "rx_usecs"), Some(FieldKind::Num));
        assert_eq!(
            settable_field("coalesce", "use_adaptive_rx"),
            Some(FieldKind::Bool)
        );
        assert_eq!(settable_field("coalesce", "rx_nothing"), None);
        assert_eq!(settable_field("pause", "tx"), Some(FieldKind::Bool));
        assert_eq!(settable_field("pause", "stats"), None);
        assert_eq!(settable_field("nope", "rx"), None);

        let r: Rings = with_field("tx", serde_json::Value::from(512)).expect("rings");
        assert_eq!(
            r,
            Rings {
                tx: Some(512),
                ..Rings::default()
            }
        );
        let c: Coalesce = with_field("use_adaptive_rx", serde_json::Value::from(true)).expect("c");
        assert_eq!(c.use_adaptive_rx, Some(true));
        assert_eq!(c.rx_usecs, None);
        assert!(with_field::<Channels>("bogus", serde_json::Value::from(1)).is_err());

        let ch = Channels {
            rx: Some(4),
            ..Channels::default()
        };
        assert_eq!(field_value(&ch, "rx"), Ok(Some(Value::Num(4))));
        assert_eq!(field_value(&ch, "combined"), Ok(None));
        assert!(field_value(&ch, "bogus").is_err());
    }

    #[test]
    fn setlink_body_layout() {
        let b = setlink_request(7, IFLA_MTU, 9000);
        assert_eq!(b.len(), IFINFOMSG_LEN + 8);
        assert_eq!(&b[4..8], &7u32.to_ne_bytes());
        assert_eq!(&b[IFINFOMSG_LEN..IFINFOMSG_LEN + 2], &8u16.to_ne_bytes());
        assert_eq!(
            &b[IFINFOMSG_LEN + 2..IFINFOMSG_LEN + 4],
            &IFLA_MTU.to_ne_bytes()
        );
        assert_eq!(&b[IFINFOMSG_LEN + 4..], &9000u32.to_ne_bytes());
    }

    #[test]
    fn privilege_from_status() {
        let root = "Name:\tx\nUid:\t1000\t0\t0\t0\nCapEff:\t0000000000000000\n";
        assert_eq!(
            parse_privilege(root),
            Some(Privilege {
                euid: 0,
                net_admin: false
            })
        );
        let admin = "Uid:\t1000\t1000\t1000\t1000\nCapEff:\t0000000000001000\n";
        let p = parse_privilege(admin).expect("parse");
        assert!(p.net_admin && p.sufficient());
        let none = "Uid:\t1000\t1000\t1000\t1000\nCapEff:\t0000000000000800\n";
        let p = parse_privilege(none).expect("parse");
        assert!(!p.sufficient());
        assert!(parse_privilege("Uid:\t1\n").is_none());
        let e = WriteError::NotPrivileged { euid: 1000 };
        assert!(e.is_permission());
        assert!(e.to_string().contains("needs root or CAP_NET_ADMIN"), "{e}");
    }

    #[test]
    fn stat_lines_and_liveness() {
        let line = "1234 (my (odd) cmd) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 \
                    98765 1000 10";
        assert_eq!(parse_stat(line), Some(('S', 98765)));
        assert_eq!(parse_stat("garbage"), None);
        let me = std::process::id();
        let start = process_start(me).expect("own start time");
        assert!(process_alive(me, Some(start)));
        assert!(process_alive(me, None));
        assert!(!process_alive(me, Some(start + 1)));
        assert!(!process_alive(u32::MAX - 1, None));
    }

    #[test]
    fn irqbalance_found_by_comm() {
        let tmp = tempfile::tempdir().expect("tempdir");
        for (pid, comm) in [("1", "systemd"), ("812", "irqbalance"), ("self", "x")] {
            let d = tmp.path().join(pid);
            fs::create_dir_all(&d).expect("mkdir");
            fs::write(d.join("comm"), format!("{comm}\n")).expect("write");
        }
        let root = SysRoot::new(tmp.path(), tmp.path());
        assert_eq!(irqbalance_pid(&root), Some(812));
        fs::remove_dir_all(tmp.path().join("812")).expect("rm");
        assert_eq!(irqbalance_pid(&root), None);
    }
}
