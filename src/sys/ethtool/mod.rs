//! The ethtool access layer: settings and statistics of a network device, read and changed
//! through the ethtool generic-netlink family, plus the two things only the `SIOCETHTOOL`
//! ioctl offers (driver info and driver-private counters, in [`ioctl`]).
//!
//! Everything follows Documentation/networking/ethtool-netlink.rst. Requests name the device
//! with `ETHTOOL_A_HEADER_DEV_NAME`; to read many devices, [`Ethtool::settings_all`] instead
//! asks once per message type for every device (`NLM_F_DUMP`), which costs two system calls
//! and a pass over the device list rather than a round trip per device and type. Reads of features and link modes ask for compact
//! bitsets and take bit names from string sets fetched once per [`Ethtool`]; set requests
//! send verbose bitsets by name. All calls are synchronous and act in the
//! network namespace of the thread that opened the [`Ethtool`] (for netlink) or that makes
//! the call (for the ioctl).

mod abi;
mod bitset;
pub mod ioctl;
pub mod module;
mod msg;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::model::ethtool::StatsGroup;
use crate::model::{
    Channels, Coalesce, DriverInfo, Feature, Fec, LinkInfo, NamedCounter, Pause, Rings, StdStats,
};
use crate::sys::nl::{AttrBuf, Genl, GenlOpenError, NlError, NlSocket, Proto, F_DUMP};

use abi::{FLAG_STATS, STATS_GROUPS};

/// An ethtool failure, worded for the user: "failed to <verb> <object> on <ifname>: <cause>".
#[derive(Debug, thiserror::Error)]
pub enum EthtoolError {
    /// The driver does not implement this operation (`EOPNOTSUPP`/`ENOTSUPP`); callers show
    /// the value as "n/a" with [`EthtoolError::reason`].
    #[error("failed to {what} on {ifname}: not supported by the driver")]
    Unsupported {
        /// What was attempted, e.g. "read ring sizes".
        what: &'static str,
        /// The interface.
        ifname: String,
    },
    /// No such interface in this network namespace (`ENODEV`).
    #[error("failed to find network interface {0:?}: no such device in this network namespace")]
    NoDevice(String),
    /// The name cannot be an interface name (empty, too long, or with `/`, NUL or space).
    #[error("invalid interface name {ifname:?}: {reason}")]
    InvalidName {
        /// The name given.
        ifname: String,
        /// Why it is invalid.
        reason: &'static str,
    },
    /// The kernel refused for lack of privilege (`EPERM`/`EACCES`).
    #[error("failed to {what} on {ifname}: permission denied (needs root or CAP_NET_ADMIN)")]
    Permission {
        /// What was attempted.
        what: &'static str,
        /// The interface.
        ifname: String,
    },
    /// The kernel has no ethtool netlink family.
    #[error(
        "failed to open ethtool netlink: the kernel lacks it \
         (needs CONFIG_ETHTOOL_NETLINK, kernel >= 5.6)"
    )]
    NoNetlink,
    /// The netlink socket could not be opened or the family not resolved.
    #[error("failed to open ethtool netlink: {0}")]
    Open(#[source] NlError),
    /// Any other kernel or socket failure, with the kernel's extended-ack message if it gave one.
    #[error("failed to {what} on {ifname}: {source}")]
    Kernel {
        /// What was attempted.
        what: &'static str,
        /// The interface.
        ifname: String,
        /// The netlink error.
        #[source]
        source: NlError,
    },
    /// An ioctl failed for a reason other than the ones above.
    #[error("failed to {what} on {ifname}: {source}")]
    Io {
        /// What was attempted.
        what: &'static str,
        /// The interface.
        ifname: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A feature name that is neither a kernel feature name nor a legacy `ethtool -K` name.
    #[error("failed to set features on {ifname}: unknown feature {name:?}")]
    UnknownFeature {
        /// The interface.
        ifname: String,
        /// The name given.
        name: String,
    },
    /// The kernel accepted a feature change but some features did not end up as requested.
    #[error(
        "failed to set features on {ifname}: {}",
        not_applied_msg(.features)
    )]
    FeaturesNotApplied {
        /// The interface.
        ifname: String,
        /// Each feature that is not as requested.
        features: Vec<NotApplied>,
    },
    /// The kernel accepted a pause change but the device did not report it once its link had
    /// settled (or within [`PAUSE_SETTLE`]); the settings from before were written back.
    #[error(
        "failed to set pause settings on {ifname}: {wanted} was set but the device reports \
         {got} (flow control resolved again by the driver, e.g. when the link came up); {}",
        .restore_error.as_ref().map_or_else(
            || format!("the previous settings ({before}) were put back"),
            |e| format!("putting the previous settings ({before}) back FAILED: {e}")
        )
    )]
    PauseNotApplied {
        /// The interface.
        ifname: String,
        /// The fields that were set, e.g. "autoneg off, rx off".
        wanted: String,
        /// Those fields as the device reports them.
        got: String,
        /// All three settings before the change.
        before: String,
        /// Why writing `before` back failed, if it did.
        restore_error: Option<String>,
    },
}

/// A feature that a `set_features` call could not change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotApplied {
    /// Kernel feature name.
    pub name: String,
    /// The requested state.
    pub requested: bool,
    /// True when the device does not let it change at all ("[fixed]" in `ethtool -k`).
    pub fixed: bool,
}

fn not_applied_msg(features: &[NotApplied]) -> String {
    let parts: Vec<String> = features
        .iter()
        .map(|f| {
            let (want, is) = if f.requested {
                ("on", "off")
            } else {
                ("off", "on")
            };
            let why = if f.fixed {
                "the feature is fixed on this device"
            } else {
                "refused by the driver or by a feature it depends on"
            };
            format!("{} stayed {is} instead of {want} ({why})", f.name)
        })
        .collect();
    parts.join("; ")
}

impl EthtoolError {
    /// True when the driver does not support the operation.
    pub fn is_unsupported(&self) -> bool {
        matches!(self, EthtoolError::Unsupported { .. })
    }

    /// True when there is no such interface, or the name cannot be one.
    pub fn is_no_device(&self) -> bool {
        matches!(
            self,
            EthtoolError::NoDevice(_) | EthtoolError::InvalidName { .. }
        )
    }

    /// True when the request needs more privilege.
    pub fn is_permission(&self) -> bool {
        matches!(self, EthtoolError::Permission { .. })
    }

    /// A short reason for an "n/a" cell: the cause without the "failed to ..." prefix.
    pub fn reason(&self) -> String {
        match self {
            EthtoolError::Unsupported { .. } => "not supported by the driver".to_string(),
            EthtoolError::NoDevice(_) => "no such device".to_string(),
            EthtoolError::Permission { .. } => "needs root or CAP_NET_ADMIN".to_string(),
            EthtoolError::NoNetlink => "kernel lacks ethtool netlink".to_string(),
            EthtoolError::Kernel { source, .. } | EthtoolError::Open(source) => source.to_string(),
            EthtoolError::Io { source, .. } => source.to_string(),
            other => other.to_string(),
        }
    }

    /// Maps a netlink failure of `what` on `ifname` to the matching variant.
    fn from_nl(source: NlError, what: &'static str, ifname: &str) -> Self {
        let ifname = ifname.to_string();
        if source.is_unsupported() {
            EthtoolError::Unsupported { what, ifname }
        } else if source.is_permission() {
            EthtoolError::Permission { what, ifname }
        } else if source.errno() == Some(libc::ENODEV) {
            EthtoolError::NoDevice(ifname)
        } else {
            EthtoolError::Kernel {
                what,
                ifname,
                source,
            }
        }
    }
}

/// Checks that `ifname` can name an interface (`dev_valid_name()` in net/core/dev.c), so that
/// a bad name reads as such instead of as a kernel error.
pub(crate) fn check_ifname(ifname: &str) -> Result<(), EthtoolError> {
    let reason = if ifname.is_empty() {
        "empty"
    } else if ifname.len() >= libc::IFNAMSIZ {
        "longer than 15 bytes (IFNAMSIZ - 1)"
    } else if ifname == "." || ifname == ".." {
        "reserved"
    } else if ifname
        .bytes()
        .any(|b| b == b'/' || b == b':' || b == 0 || b.is_ascii_whitespace())
    {
        "contains '/', ':', NUL or white space"
    } else {
        return Ok(());
    };
    Err(EthtoolError::InvalidName {
        ifname: ifname.to_string(),
        reason,
    })
}

pub use crate::model::knobs::expand_feature_name;

/// One `_GET` that [`Ethtool::settings_all`] makes for every device.
#[derive(Clone, Copy)]
struct BulkGet {
    cmd: u8,
    flags: u32,
    /// Words for errors: "read ring sizes".
    what: &'static str,
    /// Appends request attributes after the header.
    extra: fn(&mut AttrBuf),
}

impl BulkGet {
    const fn new(cmd: u8, flags: u32, what: &'static str) -> Self {
        Self {
            cmd,
            flags,
            what,
            extra: |_| {},
        }
    }
}

const FEATURES_GET: BulkGet = BulkGet::new(
    abi::MSG_FEATURES_GET,
    abi::FLAG_COMPACT_BITSETS,
    "read features",
);
const RINGS_GET: BulkGet = BulkGet::new(abi::MSG_RINGS_GET, 0, "read ring sizes");
const CHANNELS_GET: BulkGet = BulkGet::new(abi::MSG_CHANNELS_GET, 0, "read channels");
const COALESCE_GET: BulkGet = BulkGet::new(abi::MSG_COALESCE_GET, 0, "read interrupt coalescing");
const PAUSE_GET: BulkGet = BulkGet::new(abi::MSG_PAUSE_GET, FLAG_STATS, "read pause settings");
const FEC_GET: BulkGet = BulkGet::new(abi::MSG_FEC_GET, FLAG_STATS, "read FEC settings");
const STD_STATS_GET: BulkGet = BulkGet {
    extra: msg::put_stats_groups,
    ..BulkGet::new(abi::MSG_STATS_GET, 0, "read standard statistics")
};
/// Link modes, link info and link state, the three parts of [`Ethtool::link_info`].
const LINK_GETS: [BulkGet; 3] = [
    BulkGet::new(
        abi::MSG_LINKMODES_GET,
        abi::FLAG_COMPACT_BITSETS,
        "read link modes",
    ),
    BulkGet::new(abi::MSG_LINKINFO_GET, 0, "read link settings"),
    BulkGet::new(abi::MSG_LINKSTATE_GET, 0, "read link state"),
];

/// What `show` reads over ethtool netlink for one device; each part as its getter returns it.
#[derive(Debug)]
pub struct DeviceSettings {
    /// [`Ethtool::link_info`].
    pub link: Result<LinkInfo, EthtoolError>,
    /// [`Ethtool::rings`].
    pub rings: Result<Rings, EthtoolError>,
    /// [`Ethtool::channels`].
    pub channels: Result<Channels, EthtoolError>,
    /// [`Ethtool::coalesce`].
    pub coalesce: Result<Coalesce, EthtoolError>,
    /// [`Ethtool::pause`].
    pub pause: Result<Pause, EthtoolError>,
    /// [`Ethtool::features`].
    pub features: Result<Vec<Feature>, EthtoolError>,
    /// [`Ethtool::fec`].
    pub fec: Result<Fec, EthtoolError>,
    /// [`Ethtool::std_stats`].
    pub std_stats: Result<StdStats, EthtoolError>,
}

// rtnetlink, for the carrier of one link (`include/uapi/linux/rtnetlink.h`, `if_link.h`).
const RTM_GETLINK: u16 = 18;
const IFLA_IFNAME: u16 = 3;
const IFLA_EXT_MASK: u16 = 29;
const IFLA_CARRIER: u16 = 33;
const RTEXT_FILTER_SKIP_STATS: u32 = 1 << 3;
const IFINFOMSG_LEN: usize = 16;

/// From an `RTM_NEWLINK` body (`struct ifinfomsg` and attributes): true when the link is up
/// (`IFF_UP`) and has no carrier (`IFLA_CARRIER` 0); `None` when the body is too short.
fn link_up_without_carrier(body: &[u8]) -> Option<bool> {
    let hdr = body.get(..IFINFOMSG_LEN)?;
    let flags = u32::from_ne_bytes(hdr[8..12].try_into().ok()?);
    let carrier = crate::sys::nl::Attrs::new(&body[IFINFOMSG_LEN..]).u8(IFLA_CARRIER);
    Some(flags & libc::IFF_UP as u32 != 0 && carrier == Some(0))
}

/// The longest a pause change waits for a negotiating link, before the write and for the
/// read-back after it. A copper PHY (real or emulated) takes 1-3 s from a reset to link.
pub const PAUSE_SETTLE: Duration = Duration::from_secs(3);
/// After a pause write, how long a read-back that does not match yet is polled at least, for
/// drivers that apply the change asynchronously.
const PAUSE_APPLY: Duration = Duration::from_secs(1);
/// The interval between reads while a pause change settles.
const PAUSE_POLL: Duration = Duration::from_millis(50);

/// The fields of a pause change; `None` is left as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PauseWant {
    autoneg: Option<bool>,
    rx: Option<bool>,
    tx: Option<bool>,
}

impl PauseWant {
    /// All three fields of `p`.
    fn all(p: &Pause) -> Self {
        Self {
            autoneg: Some(p.autoneg),
            rx: Some(p.rx),
            tx: Some(p.tx),
        }
    }

    fn is_empty(self) -> bool {
        self.autoneg.is_none() && self.rx.is_none() && self.tx.is_none()
    }

    /// The fields that [`PauseWant::holds`] compares against a device reporting `got`:
    /// `rx` and `tx` only while pause autonegotiation is off.
    fn compared(self, got: &Pause) -> Pause {
        let forced = !got.autoneg;
        Pause {
            autoneg: self.autoneg.unwrap_or(got.autoneg),
            rx: self.rx.filter(|_| forced).unwrap_or(got.rx),
            tx: self.tx.filter(|_| forced).unwrap_or(got.tx),
            stats: None,
        }
    }

    /// True when a device reporting `got` has what was set. `rx` and `tx` count only while
    /// pause autonegotiation is off; with it on they are what was negotiated.
    fn holds(self, got: &Pause) -> bool {
        let c = self.compared(got);
        c.autoneg == got.autoneg && c.rx == got.rx && c.tx == got.tx
    }

    /// The fields this change names, with their values in `values`: "autoneg off, rx on".
    fn describe(self, values: PauseWant) -> String {
        let onoff = |b: Option<bool>| if b == Some(true) { "on" } else { "off" };
        [
            ("autoneg", self.autoneg, values.autoneg),
            ("rx", self.rx, values.rx),
            ("tx", self.tx, values.tx),
        ]
        .iter()
        .filter(|(_, named, _)| named.is_some())
        .map(|(name, _, v)| format!("{name} {}", onoff(*v)))
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// Where a pause change stands after one read-back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Settle {
    /// The device reports what was set, with no link negotiation pending.
    Holds,
    /// Read again: the settings differ (the driver may still apply them) or the link is
    /// negotiating (its result may replace them), and there is time left.
    Wait,
    /// The time is up and the settings differ.
    NotApplied,
}

/// The verdict on one read-back: whether the settings `hold`, whether the link is
/// `negotiating`, whether the time is `expired`. A link that never comes up (no cable) ends
/// the wait at the deadline with what the device reports then.
fn settle_verdict(holds: bool, negotiating: bool, expired: bool) -> Settle {
    match (holds, negotiating, expired) {
        (true, false, _) | (true, true, true) => Settle::Holds,
        (false, _, true) => Settle::NotApplied,
        (_, _, false) => Settle::Wait,
    }
}

/// A connection to the kernel's ethtool netlink family, with the global string sets it has
/// fetched so far.
pub struct Ethtool {
    genl: Genl,
    strsets: HashMap<u32, Vec<String>>,
    ioctl: Option<ioctl::Session>,
    /// rtnetlink, for the carrier a pause change waits on; opened with the ethtool socket,
    /// so that both act in the same network namespace (`None` if it could not be opened).
    rtnl: Option<NlSocket>,
}

impl Ethtool {
    /// Opens a generic netlink socket and resolves the "ethtool" family.
    pub fn open() -> Result<Self, EthtoolError> {
        let genl = match Genl::open(abi::FAMILY, abi::VERSION) {
            Ok(g) => g,
            Err(GenlOpenError::NoFamily(_)) => return Err(EthtoolError::NoNetlink),
            Err(GenlOpenError::Nl(source)) => return Err(EthtoolError::Open(source)),
        };
        Ok(Self {
            genl,
            strsets: HashMap::new(),
            ioctl: None,
            rtnl: NlSocket::open(Proto::Route).ok(),
        })
    }

    /// Sends `req` as command `cmd` and returns the replies' attributes.
    fn send(
        &mut self,
        cmd: u8,
        req: &AttrBuf,
        what: &'static str,
        ifname: &str,
    ) -> Result<Vec<Vec<u8>>, EthtoolError> {
        self.genl
            .request(cmd, 0, req.bytes())
            .map_err(|e| EthtoolError::from_nl(e, what, ifname))
    }

    /// A `_GET` request for `ifname` with `flags`; returns the reply's attributes.
    fn get(
        &mut self,
        cmd: u8,
        ifname: &str,
        flags: u32,
        what: &'static str,
    ) -> Result<Vec<u8>, EthtoolError> {
        self.get_with(cmd, ifname, flags, what, |_| {})
    }

    /// Like [`Ethtool::get`] with extra request attributes from `extra`.
    fn get_with(
        &mut self,
        cmd: u8,
        ifname: &str,
        flags: u32,
        what: &'static str,
        extra: impl FnOnce(&mut AttrBuf),
    ) -> Result<Vec<u8>, EthtoolError> {
        check_ifname(ifname)?;
        let mut req = msg::request(abi::header_attr(cmd), ifname, flags);
        extra(&mut req);
        self.genl
            .get(cmd, 0, req.bytes())
            .map_err(|e| EthtoolError::from_nl(e, what, ifname))
    }

    /// A `_GET` that asks for statistics too, falling back to a plain request on kernels that
    /// predate `ETHTOOL_FLAG_STATS` (they refuse unknown flags with `EOPNOTSUPP`).
    fn get_with_stats(
        &mut self,
        cmd: u8,
        ifname: &str,
        what: &'static str,
    ) -> Result<Vec<u8>, EthtoolError> {
        self.get_compat(cmd, ifname, FLAG_STATS, what, |_| {})
    }

    /// [`Ethtool::get_with`], retried without `ETHTOOL_FLAG_STATS` when that flag is among
    /// `flags` and the answer is `EOPNOTSUPP` (kernels before 5.12 refuse the unknown flag).
    fn get_compat(
        &mut self,
        cmd: u8,
        ifname: &str,
        flags: u32,
        what: &'static str,
        extra: fn(&mut AttrBuf),
    ) -> Result<Vec<u8>, EthtoolError> {
        match self.get_with(cmd, ifname, flags, what, extra) {
            Err(e) if e.is_unsupported() && flags & FLAG_STATS != 0 => {
                self.get_with(cmd, ifname, flags & !FLAG_STATS, what, extra)
            }
            other => other,
        }
    }

    /// One `_GET` dump (`NLM_F_DUMP`) of every device in the namespace: the replies' attributes
    /// by interface index. Like [`Ethtool::get_compat`], retried without
    /// `ETHTOOL_FLAG_STATS` on kernels that refuse it.
    ///
    /// The kernel leaves out the devices whose driver answers `EOPNOTSUPP`; any other error
    /// ends the whole dump with that error (`ethnl_default_dumpit` in net/ethtool/netlink.c).
    fn dump(
        &mut self,
        cmd: u8,
        flags: u32,
        extra: fn(&mut AttrBuf),
    ) -> Result<HashMap<u32, Vec<u8>>, NlError> {
        let header = abi::header_attr(cmd);
        let mut once = |flags: u32| {
            let mut req = msg::dump_request(header, flags);
            extra(&mut req);
            self.genl.request(cmd, F_DUMP, req.bytes())
        };
        let replies = match once(flags) {
            Err(e) if e.is_unsupported() && flags & FLAG_STATS != 0 => once(flags & !FLAG_STATS),
            other => other,
        }?;
        replies
            .into_iter()
            .map(|r| {
                let index = msg::reply_ifindex(header, &r).ok_or_else(|| {
                    NlError::Malformed("ethtool dump reply names no device".into())
                })?;
                Ok((index, r))
            })
            .collect()
    }

    /// The replies to `cmd` for each of `devs` (index, name), in their order: one dump for
    /// all of them, or one request per device where the dump cannot tell.
    ///
    /// A device absent from a successful dump was skipped because its driver does not support
    /// the operation, which is what a request of its own would answer, provided it exists:
    /// `present` holds the devices known to exist (seen in an earlier dump); an absent device
    /// not among them is asked on its own, so it gets the kernel's own answer (say, no such
    /// device). When the dump fails as a whole, every device is asked on its own.
    fn get_all(
        &mut self,
        req: BulkGet,
        devs: &[(u32, &str)],
        present: &HashSet<u32>,
    ) -> Vec<Result<Vec<u8>, EthtoolError>> {
        let mut dumped = self.dump(req.cmd, req.flags, req.extra).ok();
        devs.iter()
            .map(
                |&(index, name)| match dumped.as_mut().map(|d| d.remove(&index)) {
                    Some(Some(reply)) => Ok(reply),
                    Some(None) if present.contains(&index) => Err(EthtoolError::Unsupported {
                        what: req.what,
                        ifname: name.to_string(),
                    }),
                    _ => self.get_compat(req.cmd, name, req.flags, req.what, req.extra),
                },
            )
            .collect()
    }

    /// A `_SET` request for `ifname` whose attributes `fill` appends after the header.
    fn set(
        &mut self,
        cmd: u8,
        ifname: &str,
        what: &'static str,
        fill: impl FnOnce(&mut AttrBuf),
    ) -> Result<Vec<Vec<u8>>, EthtoolError> {
        check_ifname(ifname)?;
        let mut req = msg::request(abi::header_attr(cmd), ifname, 0);
        fill(&mut req);
        self.send(cmd, &req, what, ifname)
    }

    /// A global string set (`ETHTOOL_MSG_STRSET_GET` without a device), cached; `ifname` is
    /// the interface it is needed for, to give errors their context.
    fn string_set(&mut self, id: u32, ifname: &str) -> Result<&[String], EthtoolError> {
        if !self.strsets.contains_key(&id) {
            let req = msg::strset_request(id);
            let replies =
                self.send(abi::MSG_STRSET_GET, &req, "read ethtool string set", ifname)?;
            let mut found = Vec::new();
            for r in &replies {
                if let Some(set) = msg::parse_strsets(r).remove(&id) {
                    found = set;
                }
            }
            self.strsets.insert(id, found);
        }
        Ok(self.strsets.get(&id).map_or(&[][..], Vec::as_slice))
    }

    /// Ring sizes (`ethtool -g`).
    pub fn rings(&mut self, ifname: &str) -> Result<Rings, EthtoolError> {
        let r = self.get(abi::MSG_RINGS_GET, ifname, 0, "read ring sizes")?;
        Ok(msg::parse_rings(&r))
    }

    /// Channel counts (`ethtool -l`).
    pub fn channels(&mut self, ifname: &str) -> Result<Channels, EthtoolError> {
        let r = self.get(abi::MSG_CHANNELS_GET, ifname, 0, "read channels")?;
        Ok(msg::parse_channels(&r))
    }

    /// Interrupt coalescing (`ethtool -c`); fields the driver does not support are `None`.
    pub fn coalesce(&mut self, ifname: &str) -> Result<Coalesce, EthtoolError> {
        let r = self.get(
            abi::MSG_COALESCE_GET,
            ifname,
            0,
            "read interrupt coalescing",
        )?;
        Ok(msg::parse_coalesce(&r))
    }

    /// Pause frame settings and, where the driver counts them, pause frame statistics
    /// (`ethtool -I -a`).
    pub fn pause(&mut self, ifname: &str) -> Result<Pause, EthtoolError> {
        let r = self.get_with_stats(abi::MSG_PAUSE_GET, ifname, "read pause settings")?;
        Ok(msg::parse_pause(&r))
    }

    /// Offload features (`ethtool -k`), one per kernel feature name, in bit order.
    pub fn features(&mut self, ifname: &str) -> Result<Vec<Feature>, EthtoolError> {
        check_ifname(ifname)?;
        let r = self.get(
            abi::MSG_FEATURES_GET,
            ifname,
            abi::FLAG_COMPACT_BITSETS,
            "read features",
        );
        self.features_from(ifname, r)
    }

    fn features_from(
        &mut self,
        ifname: &str,
        reply: Result<Vec<u8>, EthtoolError>,
    ) -> Result<Vec<Feature>, EthtoolError> {
        let r = reply?;
        let names = self.string_set(abi::ETH_SS_FEATURES, ifname)?;
        Ok(msg::parse_features(&r, names))
    }

    /// Speed, duplex, autonegotiation, port, lanes, link modes and link state (`ethtool
    /// IFACE`), from `LINKMODES_GET`, `LINKINFO_GET` and `LINKSTATE_GET`. Parts the driver
    /// does not support are left empty; only when it supports none of them is the result
    /// [`EthtoolError::Unsupported`].
    pub fn link_info(&mut self, ifname: &str) -> Result<LinkInfo, EthtoolError> {
        let [modes, info, state] = LINK_GETS.map(|g| self.get(g.cmd, ifname, g.flags, g.what));
        self.link_info_from(ifname, modes, info, state)
    }

    /// [`Ethtool::link_info`] from the replies to its three requests.
    fn link_info_from(
        &mut self,
        ifname: &str,
        modes: Result<Vec<u8>, EthtoolError>,
        info: Result<Vec<u8>, EthtoolError>,
        state: Result<Vec<u8>, EthtoolError>,
    ) -> Result<LinkInfo, EthtoolError> {
        fn optional<T>(r: Result<T, EthtoolError>) -> Result<Option<T>, EthtoolError> {
            match r {
                Ok(v) => Ok(Some(v)),
                Err(e) if e.is_unsupported() => Ok(None),
                Err(e) => Err(e),
            }
        }
        let modes = optional(modes)?;
        let info = optional(info)?;
        let state = optional(state)?;
        if modes.is_none() && info.is_none() && state.is_none() {
            return Err(EthtoolError::Unsupported {
                what: "read link settings",
                ifname: ifname.to_string(),
            });
        }
        // Verbose bitsets carry their names; the string set is only needed for compact ones.
        let modes = match modes {
            Some(m) => {
                let names = if msg::linkmodes_need_names(&m) {
                    self.string_set(abi::ETH_SS_LINK_MODES, ifname)?.to_vec()
                } else {
                    Vec::new()
                };
                msg::parse_linkmodes(&m, &names)
            }
            None => msg::LinkModes::default(),
        };
        Ok(LinkInfo {
            speed_mbps: modes.speed_mbps,
            duplex: modes.duplex,
            autoneg: modes.autoneg,
            port: info.as_deref().and_then(msg::parse_linkinfo_port),
            lanes: modes.lanes,
            link_detected: state.as_deref().and_then(msg::parse_linkstate),
            supported_modes: modes.supported,
            advertised_modes: modes.advertised,
            peer_modes: modes.peer,
        })
    }

    /// Forward error correction settings and, where counted, corrected and uncorrectable
    /// block totals (`ethtool -I --show-fec`).
    pub fn fec(&mut self, ifname: &str) -> Result<Fec, EthtoolError> {
        let r = self.get_with_stats(abi::MSG_FEC_GET, ifname, "read FEC settings");
        self.fec_from(ifname, r)
    }

    fn fec_from(
        &mut self,
        ifname: &str,
        reply: Result<Vec<u8>, EthtoolError>,
    ) -> Result<Fec, EthtoolError> {
        let r = reply?;
        // ETHTOOL_A_FEC_ACTIVE is a bare link-mode index, so the names are always needed.
        let names = self.string_set(abi::ETH_SS_LINK_MODES, ifname)?;
        Ok(msg::parse_fec(&r, names))
    }

    /// Standard statistics groups eth-phy, eth-mac, eth-ctrl and rmon (`ethtool -S
    /// --all-groups`). Groups without any counter are left out, so a driver that has none
    /// gives an empty list rather than an error.
    pub fn std_stats(&mut self, ifname: &str) -> Result<StdStats, EthtoolError> {
        let g = STD_STATS_GET;
        let r = self.get_with(g.cmd, ifname, g.flags, g.what, g.extra);
        self.std_stats_from(ifname, r)
    }

    fn std_stats_from(
        &mut self,
        ifname: &str,
        reply: Result<Vec<u8>, EthtoolError>,
    ) -> Result<StdStats, EthtoolError> {
        let r = match reply {
            Ok(r) => r,
            Err(e) if e.is_unsupported() => return Ok(StdStats { groups: Vec::new() }),
            Err(e) => return Err(e),
        };
        let mut groups = Vec::new();
        for g in msg::parse_stats(&r) {
            if g.stats.is_empty() && g.hist.is_empty() {
                continue;
            }
            let names = match g.ss_id {
                Some(ss) => self.string_set(ss, ifname)?.to_vec(),
                None => Vec::new(),
            };
            let name = STATS_GROUPS
                .iter()
                .find(|(id, _)| *id == g.id)
                .map_or_else(|| format!("group-{}", g.id), |(_, n)| (*n).to_string());
            groups.push(StatsGroup {
                name,
                counters: msg::name_group(&g, &names),
            });
        }
        Ok(StdStats { groups })
    }

    /// Everything [`DeviceSettings`] holds for one device, one request per part.
    pub fn settings(&mut self, ifname: &str) -> DeviceSettings {
        DeviceSettings {
            link: self.link_info(ifname),
            rings: self.rings(ifname),
            channels: self.channels(ifname),
            coalesce: self.coalesce(ifname),
            pause: self.pause(ifname),
            features: self.features(ifname),
            fec: self.fec(ifname),
            std_stats: self.std_stats(ifname),
        }
    }

    /// Everything [`DeviceSettings`] holds, for each of `devs` (interface index and name), in
    /// their order, with one dump per message type instead of one request per device and
    /// type. Each part is what the single-device getter would return: a device whose driver
    /// does not support an operation gets [`EthtoolError::Unsupported`] for it.
    ///
    /// Worth it when `devs` are most of the namespace's devices; for a few of many, the
    /// single-device getters ask less of the kernel.
    pub fn settings_all(&mut self, devs: &[(u32, &str)]) -> Vec<DeviceSettings> {
        // Every device has features, so the features dump tells which devices exist; the
        // later dumps can then read an absent device as an unsupported operation.
        let features = self.get_all(FEATURES_GET, devs, &HashSet::new());
        let present: HashSet<u32> = devs
            .iter()
            .zip(&features)
            .filter(|(_, f)| f.is_ok())
            .map(|(d, _)| d.0)
            .collect();
        let mut all = |g: BulkGet| self.get_all(g, devs, &present).into_iter();
        let mut rings = all(RINGS_GET);
        let mut channels = all(CHANNELS_GET);
        let mut coalesce = all(COALESCE_GET);
        let mut pause = all(PAUSE_GET);
        let mut fec = all(FEC_GET);
        let mut std_stats = all(STD_STATS_GET);
        let [mut modes, mut info, mut state] = LINK_GETS.map(&mut all);
        // Each list holds one reply per device, in `devs` order.
        let next = |it: &mut std::vec::IntoIter<Result<Vec<u8>, EthtoolError>>, name: &str| {
            it.next()
                .unwrap_or_else(|| Err(EthtoolError::NoDevice(name.to_string())))
        };
        devs.iter()
            .zip(features)
            .map(|(&(_, name), features)| DeviceSettings {
                features: self.features_from(name, features),
                link: {
                    let (m, i, s) = (
                        next(&mut modes, name),
                        next(&mut info, name),
                        next(&mut state, name),
                    );
                    self.link_info_from(name, m, i, s)
                },
                rings: next(&mut rings, name).map(|r| msg::parse_rings(&r)),
                channels: next(&mut channels, name).map(|r| msg::parse_channels(&r)),
                coalesce: next(&mut coalesce, name).map(|r| msg::parse_coalesce(&r)),
                pause: next(&mut pause, name).map(|r| msg::parse_pause(&r)),
                fec: {
                    let r = next(&mut fec, name);
                    self.fec_from(name, r)
                },
                std_stats: {
                    let r = next(&mut std_stats, name);
                    self.std_stats_from(name, r)
                },
            })
            .collect()
    }

    /// Sets ring sizes: only the `Some` fields among `rx`, `rx_mini`, `rx_jumbo`, `tx`,
    /// `rx_buf_len`, `cqe_size`, `tx_push` and `rx_push` are sent (`ethtool -G`).
    pub fn set_rings(&mut self, ifname: &str, rings: &Rings) -> Result<(), EthtoolError> {
        self.set(abi::MSG_RINGS_SET, ifname, "set ring sizes", |b| {
            msg::put_rings(b, rings);
        })?;
        Ok(())
    }

    /// Sets channel counts: the `Some` fields among rx, tx, other and combined (`ethtool -L`).
    pub fn set_channels(&mut self, ifname: &str, channels: &Channels) -> Result<(), EthtoolError> {
        self.set(abi::MSG_CHANNELS_SET, ifname, "set channels", |b| {
            msg::put_channels(b, channels);
        })?;
        Ok(())
    }

    /// Sets interrupt coalescing: every `Some` field is sent (`ethtool -C`). The kernel
    /// refuses the whole request if the driver does not support one of them.
    pub fn set_coalesce(&mut self, ifname: &str, coalesce: &Coalesce) -> Result<(), EthtoolError> {
        self.set(
            abi::MSG_COALESCE_SET,
            ifname,
            "set interrupt coalescing",
            |b| msg::put_coalesce(b, coalesce),
        )?;
        Ok(())
    }

    /// Sets pause frame autonegotiation, reception and transmission; `None` leaves a
    /// setting as it is (`ethtool -A`). Returns once the device reports what was set, or
    /// fails with [`EthtoolError::PauseNotApplied`] after writing the previous settings back.
    ///
    /// Drivers may resolve flow control again after the write: igb and e1000e, for example,
    /// set the pause mode from the autonegotiation result whenever the link comes up, even
    /// with pause autonegotiation off, so a mode forced while the link is still negotiating
    /// (after a reset that an earlier ring or channel change caused) is silently replaced.
    /// So when the device is up without carrier, this waits for it first (at most
    /// [`PAUSE_SETTLE`], which also bounds a link that never comes), and after the write it
    /// reads the settings back until they hold with the carrier on. `rx` and `tx` are
    /// compared only while pause autonegotiation is off: with it on they are an
    /// advertisement, and the device reports the negotiated result.
    pub fn set_pause(
        &mut self,
        ifname: &str,
        autoneg: Option<bool>,
        rx: Option<bool>,
        tx: Option<bool>,
    ) -> Result<(), EthtoolError> {
        check_ifname(ifname)?;
        let want = PauseWant { autoneg, rx, tx };
        if want.is_empty() {
            return Ok(());
        }
        // The kernel sets pause only where the driver reads it too: a driver without pause
        // support fails this read, which is reported as the set it stands for.
        let before = self.pause(ifname).map_err(|e| match e {
            EthtoolError::Unsupported { ifname, .. } => EthtoolError::Unsupported {
                what: "set pause settings",
                ifname,
            },
            other => other,
        })?;
        let deadline = Instant::now() + PAUSE_SETTLE;
        if !autoneg.unwrap_or(before.autoneg) {
            while self.link_negotiating(ifname) && Instant::now() < deadline {
                std::thread::sleep(PAUSE_POLL);
            }
        }
        self.write_pause(ifname, autoneg, rx, tx)?;
        // A driver that applies the change asynchronously gets PAUSE_APPLY at least.
        let deadline = deadline.max(Instant::now() + PAUSE_APPLY);
        loop {
            // Carrier first: once it is on, the driver has resolved flow control.
            let link_negotiating = self.link_negotiating(ifname);
            let now = self.pause(ifname)?;
            // Only a forced mode can be replaced when the link comes up.
            let negotiating = !now.autoneg && link_negotiating;
            match settle_verdict(want.holds(&now), negotiating, Instant::now() >= deadline) {
                Settle::Holds => return Ok(()),
                Settle::Wait => std::thread::sleep(PAUSE_POLL),
                Settle::NotApplied => {
                    let restore_error = self
                        .write_pause(
                            ifname,
                            Some(before.autoneg),
                            Some(before.rx),
                            Some(before.tx),
                        )
                        .err()
                        .map(|e| e.to_string());
                    return Err(EthtoolError::PauseNotApplied {
                        ifname: ifname.to_string(),
                        wanted: want.describe(want),
                        got: want.describe(PauseWant::all(&now)),
                        before: PauseWant::all(&before).describe(PauseWant::all(&before)),
                        restore_error,
                    });
                }
            }
        }
    }

    /// Sends `PAUSE_SET` with the given fields, without reading anything back.
    fn write_pause(
        &mut self,
        ifname: &str,
        autoneg: Option<bool>,
        rx: Option<bool>,
        tx: Option<bool>,
    ) -> Result<(), EthtoolError> {
        self.set(abi::MSG_PAUSE_SET, ifname, "set pause settings", |b| {
            msg::put_pause(b, autoneg, rx, tx);
        })?;
        Ok(())
    }

    /// True when `ifname` is administratively up without carrier: its link may be
    /// negotiating. False when either cannot be read (the pause read that follows reports
    /// such failures).
    ///
    /// Carrier comes from rtnetlink (`netif_carrier_ok`): a driver turns it on once it has
    /// handled the link-up, flow control resolution included. Not from ethtool's
    /// `LINKSTATE_GET`: igb answers that by polling its PHY, which resolves flow control
    /// then and there, replacing a mode forced a moment before.
    fn link_negotiating(&mut self, ifname: &str) -> bool {
        let Some(sock) = self.rtnl.as_mut() else {
            return false;
        };
        let mut req = AttrBuf::with_header(&[0u8; IFINFOMSG_LEN]);
        req.str(IFLA_IFNAME, ifname)
            .u32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
        sock.get(RTM_GETLINK, 0, req.bytes())
            .ok()
            .and_then(|body| link_up_without_carrier(&body))
            .unwrap_or(false)
    }

    /// Turns features on or off (`ethtool -K`). Names are kernel feature names
    /// (`rx-gro`, `tx-tcp-segmentation`, ...) or legacy `ethtool -k` names (`gro`, `tso`,
    /// `generic-receive-offload`, ...), which stand for the changeable members of their
    /// group. Features not named keep their state.
    ///
    /// The kernel applies what it can and replies with the requested features that did not
    /// end up as asked; those make this an [`EthtoolError::FeaturesNotApplied`] naming them.
    pub fn set_features(
        &mut self,
        ifname: &str,
        changes: &[(&str, bool)],
    ) -> Result<(), EthtoolError> {
        let what = "set features";
        check_ifname(ifname)?;
        if changes.is_empty() {
            return Ok(());
        }
        let known = self.string_set(abi::ETH_SS_FEATURES, ifname)?.to_vec();
        let needs_current = changes.iter().any(|(n, _)| !known.iter().any(|k| k == n));
        let current = if needs_current {
            self.features(ifname)?
        } else {
            Vec::new()
        };
        let mut bits: Vec<(String, bool)> = Vec::new();
        for &(name, on) in changes {
            let mut members = expand_feature_name(name, &known);
            if members.is_empty() {
                return Err(EthtoolError::UnknownFeature {
                    ifname: ifname.to_string(),
                    name: name.to_string(),
                });
            }
            if members.len() > 1 {
                // Like `ethtool -K tso off`: change the group members that can change.
                let changeable: Vec<String> = members
                    .iter()
                    .filter(|m| current.iter().any(|f| &f.name == *m && !f.fixed))
                    .cloned()
                    .collect();
                if !changeable.is_empty() {
                    members = changeable;
                }
            }
            for m in members {
                bits.retain(|(n, _)| *n != m);
                bits.push((m, on));
            }
        }
        let named: Vec<(&str, bool)> = bits.iter().map(|(n, v)| (n.as_str(), *v)).collect();
        let replies = self.set(abi::MSG_FEATURES_SET, ifname, what, |b| {
            bitset::put_named(b, abi::A_FEATURES_WANTED, &named, false);
        })?;
        let mut failed: Vec<(String, bool)> = if let Some(r) = replies.first() {
            msg::features_not_applied(r, &known)
        } else {
            // No reply (it is optional): compare with what the device now has.
            let now = self.features(ifname)?;
            bits.iter()
                .filter(|(n, v)| now.iter().any(|f| &f.name == n && f.active != *v))
                .cloned()
                .collect()
        };
        if failed.is_empty() {
            return Ok(());
        }
        failed.sort();
        let now = self.features(ifname).unwrap_or_default();
        Err(EthtoolError::FeaturesNotApplied {
            ifname: ifname.to_string(),
            features: failed
                .into_iter()
                .map(|(name, requested)| NotApplied {
                    fixed: now.iter().any(|f| f.name == name && f.fixed),
                    name,
                    requested,
                })
                .collect(),
        })
    }

    /// Sets the *wanted* bits of the named features as given, whatever the kernel then makes
    /// active (a dependency may keep a wanted feature off): the way back to an interface's
    /// offload state as it was. Names are kernel feature names.
    pub fn set_wanted(&mut self, ifname: &str, bits: &[(&str, bool)]) -> Result<(), EthtoolError> {
        check_ifname(ifname)?;
        if bits.is_empty() {
            return Ok(());
        }
        self.set(abi::MSG_FEATURES_SET, ifname, "set features", |b| {
            bitset::put_named(b, abi::A_FEATURES_WANTED, bits, false);
        })
        .map(drop)
    }

    /// Sets the FEC modes (`ethtool --set-fec encoding ...`): `auto`, `off`, `rs`, `baser`,
    /// `llrs` (any case). The kernel replaces the configured set with the given one.
    pub fn set_fec(&mut self, ifname: &str, modes: &[&str]) -> Result<(), EthtoolError> {
        let mut auto = false;
        let mut bits: Vec<(&str, bool)> = Vec::new();
        for m in modes {
            // Names of the FEC bits in the ETH_SS_LINK_MODES string set.
            let bit = match m.to_ascii_lowercase().as_str() {
                "auto" => {
                    auto = true;
                    continue;
                }
                "off" | "none" => "None",
                "rs" => "RS",
                "baser" => "BASER",
                "llrs" => "LLRS",
                _ => {
                    return Err(EthtoolError::Kernel {
                        what: "set FEC",
                        ifname: ifname.to_string(),
                        source: NlError::Kernel {
                            errno: libc::EINVAL,
                            msg: Some(format!(
                                "unknown FEC mode {m:?} (expected auto, off, rs, baser or llrs)"
                            )),
                        },
                    })
                }
            };
            bits.push((bit, true));
        }
        self.set(abi::MSG_FEC_SET, ifname, "set FEC", |b| {
            bitset::put_named(b, abi::A_FEC_MODES, &bits, true);
            b.u8(abi::A_FEC_AUTO, u8::from(auto));
        })?;
        Ok(())
    }

    /// Driver name, version, firmware version and bus address (`ethtool -i`), through the
    /// `ETHTOOL_GDRVINFO` ioctl, which has no netlink equivalent.
    pub fn driver_info(&self, ifname: &str) -> Result<DriverInfo, EthtoolError> {
        ioctl::driver_info(ifname)
    }

    /// Driver-private counters in the driver's order (`ethtool -S`), through the
    /// `ETHTOOL_GSTRINGS`/`ETHTOOL_GSTATS` ioctls, which have no netlink equivalent.
    pub fn driver_stats(&self, ifname: &str) -> Result<Vec<NamedCounter>, EthtoolError> {
        ioctl::driver_stats(ifname)
    }

    /// [`Ethtool::driver_info`] and [`Ethtool::driver_stats`] of one device, through a
    /// socket and buffers this connection keeps for the next device (opened on first use).
    pub fn driver_info_and_stats(
        &mut self,
        ifname: &str,
    ) -> (
        Result<DriverInfo, EthtoolError>,
        Result<Vec<NamedCounter>, EthtoolError>,
    ) {
        if self.ioctl.is_none() {
            match ioctl::Session::open() {
                Ok(s) => self.ioctl = Some(s),
                Err(_) => return (self.driver_info(ifname), self.driver_stats(ifname)),
            }
        }
        match self.ioctl.as_mut() {
            Some(s) => s.driver_info_and_stats(ifname),
            None => (self.driver_info(ifname), self.driver_stats(ifname)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> Vec<String> {
        [
            "tx-scatter-gather",
            "tx-tcp-segmentation",
            "tx-tcp-ecn-segmentation",
            "tx-tcp6-segmentation",
            "tx-udp-segmentation",
            "rx-gro",
            "rx-gro-hw",
        ]
        .iter()
        .map(|s| (*s).to_string())
        .collect()
    }

    #[test]
    fn feature_names_expand_from_kernel_and_legacy_names() {
        let k = known();
        assert_eq!(expand_feature_name("rx-gro-hw", &k), ["rx-gro-hw"]);
        assert_eq!(expand_feature_name("gro", &k), ["rx-gro"]);
        assert_eq!(
            expand_feature_name("generic-receive-offload", &k),
            ["rx-gro"]
        );
        assert_eq!(
            expand_feature_name("tso", &k),
            [
                "tx-tcp-segmentation",
                "tx-tcp-ecn-segmentation",
                "tx-tcp6-segmentation"
            ]
        );
        assert!(expand_feature_name("lro", &k).is_empty());
        assert!(expand_feature_name("warp-drive", &k).is_empty());
    }

    #[test]
    fn errors_read_like_sentences() {
        let e = EthtoolError::from_nl(
            NlError::Kernel {
                errno: libc::EOPNOTSUPP,
                msg: None,
            },
            "read ring sizes",
            "veth0",
        );
        assert!(e.is_unsupported());
        assert_eq!(
            e.to_string(),
            "failed to read ring sizes on veth0: not supported by the driver"
        );
        assert_eq!(e.reason(), "not supported by the driver");

        let e = EthtoolError::from_nl(
            NlError::Kernel {
                errno: libc::EPERM,
                msg: None,
            },
            "set channels",
            "eth0",
        );
        assert!(e.is_permission());
        assert!(e.to_string().contains("needs root or CAP_NET_ADMIN"), "{e}");

        let e = EthtoolError::from_nl(
            NlError::Kernel {
                errno: libc::ENODEV,
                msg: Some("no device matches name".into()),
            },
            "read channels",
            "nope0",
        );
        assert!(e.is_no_device());
        assert!(e.to_string().contains("\"nope0\""), "{e}");

        let e = EthtoolError::from_nl(
            NlError::Kernel {
                errno: libc::EINVAL,
                msg: Some("requested channel count exceeds maximum".into()),
            },
            "set channels",
            "eth0",
        );
        assert_eq!(
            e.to_string(),
            "failed to set channels on eth0: Invalid argument: requested channel count exceeds maximum"
        );
        assert!(EthtoolError::NoNetlink
            .to_string()
            .contains("CONFIG_ETHTOOL_NETLINK"));

        let e = EthtoolError::FeaturesNotApplied {
            ifname: "a".into(),
            features: vec![NotApplied {
                name: "rx-gro-hw".into(),
                requested: true,
                fixed: true,
            }],
        };
        assert_eq!(
            e.to_string(),
            "failed to set features on a: rx-gro-hw stayed off instead of on \
             (the feature is fixed on this device)"
        );
    }

    #[test]
    fn interface_names_are_checked_before_asking_the_kernel() {
        assert!(check_ifname("eth0").is_ok());
        assert!(check_ifname("a-15-char-name0").is_ok());
        for bad in ["", "a-16-char-name00", "a/b", "a b", ".."] {
            let e = check_ifname(bad).expect_err(bad);
            assert!(e.is_no_device(), "{bad}");
            assert!(e.to_string().starts_with("invalid interface name"), "{e}");
        }
    }

    fn pause(autoneg: bool, rx: bool, tx: bool) -> Pause {
        Pause {
            autoneg,
            rx,
            tx,
            stats: None,
        }
    }

    #[test]
    fn pause_holds_compares_rx_and_tx_only_while_forced() {
        let want = PauseWant {
            autoneg: Some(false),
            rx: Some(false),
            tx: None,
        };
        assert!(want.holds(&pause(false, false, true)));
        assert!(want.holds(&pause(false, false, false)));
        // What igb reports after the link came up during the change: rx resolved to on.
        assert!(!want.holds(&pause(false, true, false)));
        assert!(!want.holds(&pause(true, false, false)));
        // With pause autonegotiation on, rx/tx are the negotiated result: not compared.
        let neg = PauseWant {
            autoneg: Some(true),
            rx: Some(true),
            tx: Some(false),
        };
        assert!(neg.holds(&pause(true, true, true)));
        assert!(!neg.holds(&pause(false, true, false)));
        // A single field, as a tune step sets it; autonegotiation left as it is.
        let rx_only = PauseWant {
            autoneg: None,
            rx: Some(true),
            tx: None,
        };
        assert!(rx_only.holds(&pause(false, true, false)));
        assert!(!rx_only.holds(&pause(false, false, false)));
        assert!(rx_only.holds(&pause(true, false, false)));
    }

    #[test]
    fn settle_waits_for_a_negotiating_link_and_fails_only_at_the_deadline() {
        use Settle::*;
        assert_eq!(settle_verdict(true, false, false), Holds);
        // Holding while the link negotiates proves nothing yet: its result may replace it.
        assert_eq!(settle_verdict(true, true, false), Wait);
        // A link that never comes up (no cable) ends the wait with what the device reports.
        assert_eq!(settle_verdict(true, true, true), Holds);
        assert_eq!(settle_verdict(false, false, false), Wait);
        assert_eq!(settle_verdict(false, true, false), Wait);
        assert_eq!(settle_verdict(false, false, true), NotApplied);
        assert_eq!(settle_verdict(false, true, true), NotApplied);
    }

    #[test]
    fn pause_not_applied_names_what_was_set_what_is_and_what_was_put_back() {
        let want = PauseWant {
            autoneg: Some(false),
            rx: Some(false),
            tx: None,
        };
        let now = pause(false, true, false);
        let before = pause(true, true, true);
        let e = EthtoolError::PauseNotApplied {
            ifname: "igb0".into(),
            wanted: want.describe(want),
            got: want.describe(PauseWant::all(&now)),
            before: PauseWant::all(&before).describe(PauseWant::all(&before)),
            restore_error: None,
        };
        assert_eq!(
            e.to_string(),
            "failed to set pause settings on igb0: autoneg off, rx off was set but the device \
             reports autoneg off, rx on (flow control resolved again by the driver, e.g. when \
             the link came up); the previous settings (autoneg on, rx on, tx on) were put back"
        );
        let e = EthtoolError::PauseNotApplied {
            ifname: "igb0".into(),
            wanted: "rx on".into(),
            got: "rx off".into(),
            before: "autoneg off, rx off, tx off".into(),
            restore_error: Some("EBUSY".into()),
        };
        assert!(
            e.to_string().ends_with(
                "putting the previous settings (autoneg off, rx off, tx off) back FAILED: EBUSY"
            ),
            "{e}"
        );
    }

    #[test]
    fn an_empty_pause_change_sends_nothing() {
        let none = PauseWant {
            autoneg: None,
            rx: None,
            tx: None,
        };
        assert!(none.is_empty());
        assert_eq!(none.describe(none), "");
    }

    #[test]
    fn carrier_of_a_link_reply() {
        let reply = |flags: u32, carrier: Option<u8>| {
            let mut hdr = [0u8; IFINFOMSG_LEN];
            hdr[8..12].copy_from_slice(&flags.to_ne_bytes());
            let mut b = AttrBuf::with_header(&hdr);
            b.str(IFLA_IFNAME, "igb0");
            if let Some(c) = carrier {
                b.u8(IFLA_CARRIER, c);
            }
            b.bytes().to_vec()
        };
        let up = libc::IFF_UP as u32;
        assert_eq!(link_up_without_carrier(&reply(up, Some(0))), Some(true));
        assert_eq!(link_up_without_carrier(&reply(up, Some(1))), Some(false));
        // Administratively down: nothing negotiates.
        assert_eq!(link_up_without_carrier(&reply(0, Some(0))), Some(false));
        // A kernel that does not say: not waited for.
        assert_eq!(link_up_without_carrier(&reply(up, None)), Some(false));
        assert_eq!(link_up_without_carrier(&[0u8; 8]), None);
    }
}
