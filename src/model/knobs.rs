//! The knob table: pure facts about every setting dpuctl reads and tunes, in one place.
//!
//! Each settable field has one canonical name, the kernel's (the ethtool netlink attribute
//! in lower case for rings, channels, coalescing and pause: `rx_max_frames`, `rx_mini`; the
//! `ETH_SS_FEATURES` string for offloads: `rx-gro`, `rx-checksum`; the dotted name for
//! sysctls). The canonical name is what the model, the plan, the journal and every JSON
//! document carry. The names users know from `ethtool -g/-l/-c/-a/-k/-K` (`rx-frames`,
//! `adaptive-rx`, `rx-mini`, `gro`, `tso`, `generic-receive-offload`) and the short names
//! `dpuctl show` prints (`rx-csum`, `gro-hw`, `udp-gro-fwd`) are aliases: a profile accepts
//! them and they resolve to the canonical name.
//!
//! Adding a knob or an alias is an edit of a table here (plus, for a new knob, its reader and
//! writer in `sys`). Readers: `profile` (names, value types, ranges, suggestions), `tune::plan`
//! (value types), `output` (the names `show` prints), `sys::write` and `sys::sysctl`.

use serde::Serialize;

use super::{Gpu, Knob, Topology, Value};

/// The kind of object a knob belongs to; names are looked up, and suggested, within a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KnobKind {
    /// Ring sizes (`ethtool -g/-G`).
    Ring,
    /// Channel counts (`ethtool -l/-L`).
    Channel,
    /// Interrupt coalescing (`ethtool -c/-C`).
    Coalesce,
    /// Pause frames (`ethtool -a/-A`).
    Pause,
    /// Offload features (`ethtool -k/-K`).
    Feature,
    /// Network sysctls (`/proc/sys/net/...`).
    Sysctl,
    /// MTU.
    Mtu,
    /// Transmit queue length.
    TxQueueLen,
    /// RPS CPUs of a receive queue.
    Rps,
    /// RFS flow count of a receive queue.
    RpsFlowCnt,
    /// XPS CPUs of a transmit queue.
    Xps,
    /// Affinity of a queue IRQ.
    IrqAffinity,
    /// The root qdisc (traffic classes).
    Qdisc,
    /// Priority flow control (DCB).
    Pfc,
    /// Hardware ETS (DCB).
    DcbEts,
    /// DCB APP table entries (DSCP to priority).
    DcbApp,
    /// The DCB APP trust order.
    DcbTrust,
    /// `rdma_cm` defaults of an RDMA port (configfs).
    RdmaCm,
    /// The `rdma_cm` configfs directory of an RDMA device.
    RdmaCmDir,
}

impl KnobKind {
    /// True when changing a knob of this kind briefly resets the link on most drivers (rings,
    /// channels: the driver reallocates its queues; MTU on many NICs).
    pub fn resets_link(self) -> bool {
        matches!(self, KnobKind::Ring | KnobKind::Channel | KnobKind::Mtu)
    }

    /// The word profiles and messages use for the kind: `rings`, `coalesce`, `features`.
    pub fn section(self) -> &'static str {
        match self {
            KnobKind::Ring => "rings",
            KnobKind::Channel => "channels",
            KnobKind::Coalesce => "coalesce",
            KnobKind::Pause => "pause",
            KnobKind::Feature => "features",
            KnobKind::Sysctl => "sysctl",
            KnobKind::Mtu => "mtu",
            KnobKind::TxQueueLen => "txqueuelen",
            KnobKind::Rps | KnobKind::RpsFlowCnt => "rps",
            KnobKind::Xps => "xps",
            KnobKind::IrqAffinity => "irq_affinity",
            KnobKind::Qdisc | KnobKind::DcbEts => "qos",
            KnobKind::Pfc => "pfc",
            KnobKind::DcbApp => "dscp",
            KnobKind::DcbTrust => "trust",
            KnobKind::RdmaCm | KnobKind::RdmaCmDir => "rdma",
        }
    }

    /// Singular noun for messages: `ring field`, `feature`.
    pub fn noun(self) -> &'static str {
        match self {
            KnobKind::Ring => "ring field",
            KnobKind::Channel => "channel field",
            KnobKind::Coalesce => "coalesce field",
            KnobKind::Pause => "pause field",
            KnobKind::Feature => "feature",
            KnobKind::Sysctl => "sysctl",
            KnobKind::Mtu => "mtu",
            KnobKind::TxQueueLen => "txqueuelen",
            KnobKind::Rps => "rps cpus",
            KnobKind::RpsFlowCnt => "rps flow_cnt",
            KnobKind::Xps => "xps cpus",
            KnobKind::IrqAffinity => "irq affinity",
            KnobKind::Qdisc => "root qdisc",
            KnobKind::Pfc => "pfc priorities",
            KnobKind::DcbEts => "hardware ets",
            KnobKind::DcbApp => "dcb app entry",
            KnobKind::DcbTrust => "apptrust order",
            KnobKind::RdmaCm => "rdma_cm default",
            KnobKind::RdmaCmDir => "rdma_cm directory",
        }
    }
}

impl Knob {
    /// The kind of this knob.
    pub fn kind(&self) -> KnobKind {
        match self {
            Knob::Sysctl { .. } => KnobKind::Sysctl,
            Knob::Ring { .. } => KnobKind::Ring,
            Knob::Channel { .. } => KnobKind::Channel,
            Knob::Coalesce { .. } => KnobKind::Coalesce,
            Knob::Pause { .. } => KnobKind::Pause,
            Knob::Feature { .. } => KnobKind::Feature,
            Knob::Mtu { .. } => KnobKind::Mtu,
            Knob::TxQueueLen { .. } => KnobKind::TxQueueLen,
            Knob::Rps { .. } => KnobKind::Rps,
            Knob::RpsFlowCnt { .. } => KnobKind::RpsFlowCnt,
            Knob::Xps { .. } => KnobKind::Xps,
            Knob::IrqAffinity { .. } => KnobKind::IrqAffinity,
            Knob::Qdisc { .. } => KnobKind::Qdisc,
            Knob::Pfc { .. } => KnobKind::Pfc,
            Knob::DcbEts { .. } => KnobKind::DcbEts,
            Knob::DcbApp { .. } => KnobKind::DcbApp,
            Knob::DcbTrust { .. } => KnobKind::DcbTrust,
            Knob::RdmaCm { .. } => KnobKind::RdmaCm,
            Knob::RdmaCmDir { .. } => KnobKind::RdmaCmDir,
        }
    }
}

/// The type of a settable ethtool field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// A number (u32 in the kernel).
    Num,
    /// On/off.
    Bool,
}

/// One settable field: canonical name, aliases, value type, and what changing it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// Canonical (kernel) name, as in the model struct.
    pub name: &'static str,
    /// Other accepted names: the `ethtool` command-line name and the name `show` prints.
    pub aliases: &'static [&'static str],
    /// Number or on/off.
    pub value: FieldKind,
    /// A profile may ask for it (the rest are settable by `tune` but not exposed in profiles).
    pub in_profiles: bool,
}

const fn f(
    name: &'static str,
    aliases: &'static [&'static str],
    value: FieldKind,
    in_profiles: bool,
) -> Field {
    Field {
        name,
        aliases,
        value,
        in_profiles,
    }
}

use FieldKind::{Bool, Num};

/// Ring fields (`ETHTOOL_A_RINGS_*`); aliases are `ethtool -G` names.
pub const RING_FIELDS: &[Field] = &[
    f("rx", &[], Num, true),
    f("tx", &[], Num, true),
    f("rx_mini", &["rx-mini"], Num, true),
    f("rx_jumbo", &["rx-jumbo"], Num, true),
    f("rx_buf_len", &["rx-buf-len"], Num, false),
    f("cqe_size", &["cqe-size"], Num, false),
    f("tx_push", &["tx-push"], Bool, false),
    f("rx_push", &["rx-push"], Bool, false),
];

/// Channel fields (`ETHTOOL_A_CHANNELS_*_COUNT`).
pub const CHANNEL_FIELDS: &[Field] = &[
    f("combined", &[], Num, true),
    f("rx", &[], Num, true),
    f("tx", &[], Num, true),
    f("other", &[], Num, true),
];

/// Pause fields (`ETHTOOL_A_PAUSE_*`).
pub const PAUSE_FIELDS: &[Field] = &[
    f("autoneg", &[], Bool, true),
    f("rx", &[], Bool, true),
    f("tx", &[], Bool, true),
];

/// Coalescing fields (`ETHTOOL_A_COALESCE_*`, as in [`super::Coalesce`]); aliases are the
/// `ethtool -C` names.
pub const COALESCE_FIELDS: &[Field] = &[
    f("rx_usecs", &["rx-usecs"], Num, true),
    f("rx_max_frames", &["rx-frames"], Num, true),
    f("rx_usecs_irq", &["rx-usecs-irq"], Num, true),
    f("rx_max_frames_irq", &["rx-frames-irq"], Num, true),
    f("tx_usecs", &["tx-usecs"], Num, true),
    f("tx_max_frames", &["tx-frames"], Num, true),
    f("tx_usecs_irq", &["tx-usecs-irq"], Num, true),
    f("tx_max_frames_irq", &["tx-frames-irq"], Num, true),
    f("stats_block_usecs", &["stats-block-usecs"], Num, true),
    f("use_adaptive_rx", &["adaptive-rx"], Bool, true),
    f("use_adaptive_tx", &["adaptive-tx"], Bool, true),
    f("pkt_rate_low", &["pkt-rate-low"], Num, true),
    f("rx_usecs_low", &["rx-usecs-low"], Num, true),
    f("rx_max_frames_low", &["rx-frames-low"], Num, true),
    f("tx_usecs_low", &["tx-usecs-low"], Num, true),
    f("tx_max_frames_low", &["tx-frames-low"], Num, true),
    f("pkt_rate_high", &["pkt-rate-high"], Num, true),
    f("rx_usecs_high", &["rx-usecs-high"], Num, true),
    f("rx_max_frames_high", &["rx-frames-high"], Num, true),
    f("tx_usecs_high", &["tx-usecs-high"], Num, true),
    f("tx_max_frames_high", &["tx-frames-high"], Num, true),
    f("rate_sample_interval", &["sample-interval"], Num, true),
    f("use_cqe_mode_tx", &["cqe-mode-tx"], Bool, true),
    f("use_cqe_mode_rx", &["cqe-mode-rx"], Bool, true),
    f("tx_aggr_max_bytes", &["tx-aggr-max-bytes"], Num, true),
    f("tx_aggr_max_frames", &["tx-aggr-max-frames"], Num, true),
    f("tx_aggr_time_usecs", &["tx-aggr-time-usecs"], Num, true),
];

/// Offload features: the kernel name, and the other names a profile accepts for it: the
/// `ethtool -K` short name, the `ethtool -k` long name of the old ioctl interface, and the
/// short name `show` prints. Features not listed here are accepted by their kernel name
/// ([`KERNEL_FEATURES`]).
pub const FEATURE_ALIASES: &[(&str, &[&str])] = &[
    ("rx-gro", &["gro", "generic-receive-offload"]),
    ("rx-lro", &["lro", "large-receive-offload"]),
    ("rx-gro-hw", &["gro-hw"]),
    ("tx-tcp-segmentation", &["tso", "tcp-segmentation-offload"]),
    (
        "tx-generic-segmentation",
        &["gso", "generic-segmentation-offload"],
    ),
    ("rx-hashing", &["rxhash", "receive-hashing"]),
    ("rx-checksum", &["rx-csum", "rx-checksumming"]),
    ("tx-checksum-ip-generic", &["tx-csum"]),
    ("rx-ntuple-filter", &["ntuple", "ntuple-filters"]),
    ("rx-udp-gro-forwarding", &["udp-gro-fwd"]),
    ("rx-vlan-hw-parse", &["rxvlan", "rx-vlan-offload"]),
    ("tx-vlan-hw-insert", &["txvlan", "tx-vlan-offload"]),
    ("tx-scatter-gather", &["sg", "scatter-gather"]),
];

/// The features `show` lists, in the order a tuner cares about, with the short name it
/// prints for each (an alias in [`FEATURE_ALIASES`]).
pub const SHOWN_FEATURES: &[(&str, &str)] = &[
    ("rx-gro", "gro"),
    ("rx-lro", "lro"),
    ("rx-gro-hw", "gro-hw"),
    ("tx-tcp-segmentation", "tso"),
    ("tx-generic-segmentation", "gso"),
    ("rx-hashing", "rxhash"),
    ("rx-checksum", "rx-csum"),
    ("tx-checksum-ip-generic", "tx-csum"),
    ("rx-ntuple-filter", "ntuple"),
    ("rx-udp-gro-forwarding", "udp-gro-fwd"),
];

/// Kernel feature names (`netdev_features_strings` in net/ethtool/common.c, Linux 6.12).
pub const KERNEL_FEATURES: &[&str] = &[
    "esp-hw-offload",
    "esp-tx-csum-hw-offload",
    "fcoe-mtu",
    "highdma",
    "hsr-dup-offload",
    "hsr-fwd-offload",
    "hsr-tag-ins-offload",
    "hsr-tag-rm-offload",
    "hw-tc-offload",
    "l2-fwd-offload",
    "loopback",
    "macsec-hw-offload",
    "netns-local",
    "rx-all",
    "rx-checksum",
    "rx-fcs",
    "rx-gro",
    "rx-gro-hw",
    "rx-gro-list",
    "rx-hashing",
    "rx-lro",
    "rx-ntuple-filter",
    "rx-udp-gro-forwarding",
    "rx-udp_tunnel-port-offload",
    "rx-vlan-filter",
    "rx-vlan-hw-parse",
    "rx-vlan-stag-filter",
    "rx-vlan-stag-hw-parse",
    "tls-hw-record",
    "tls-hw-rx-offload",
    "tls-hw-tx-offload",
    "tx-checksum-fcoe-crc",
    "tx-checksum-ip-generic",
    "tx-checksum-ipv4",
    "tx-checksum-ipv6",
    "tx-checksum-sctp",
    "tx-esp-segmentation",
    "tx-fcoe-segmentation",
    "tx-generic-segmentation",
    "tx-gre-csum-segmentation",
    "tx-gre-segmentation",
    "tx-gso-list",
    "tx-gso-partial",
    "tx-gso-robust",
    "tx-ipxip4-segmentation",
    "tx-ipxip6-segmentation",
    "tx-lockless",
    "tx-nocache-copy",
    "tx-scatter-gather",
    "tx-scatter-gather-fraglist",
    "tx-sctp-segmentation",
    "tx-tcp-ecn-segmentation",
    "tx-tcp-mangleid-segmentation",
    "tx-tcp-segmentation",
    "tx-tcp6-segmentation",
    "tx-tunnel-remcsum-segmentation",
    "tx-udp-segmentation",
    "tx-udp_tnl-csum-segmentation",
    "tx-udp_tnl-segmentation",
    "tx-vlan-hw-insert",
    "tx-vlan-stag-hw-insert",
    "vlan-challenged",
];

/// Legacy `ethtool -k` names (short, long) and the pattern (at most one `*`) of the kernel
/// features each stands for on a device (`ethtool`'s `off_flag_def`): reading a device's
/// features, `tso` covers `tx-tcp-segmentation`, `tx-tcp6-segmentation` and the rest.
pub const LEGACY_FEATURES: &[(&str, &str, &str)] = &[
    ("rx", "rx-checksumming", "rx-checksum"),
    ("tx", "tx-checksumming", "tx-checksum-*"),
    ("sg", "scatter-gather", "tx-scatter-gather*"),
    ("tso", "tcp-segmentation-offload", "tx-tcp*-segmentation"),
    ("ufo", "udp-fragmentation-offload", "tx-udp-fragmentation"),
    (
        "gso",
        "generic-segmentation-offload",
        "tx-generic-segmentation",
    ),
    ("gro", "generic-receive-offload", "rx-gro"),
    ("lro", "large-receive-offload", "rx-lro"),
    ("rxvlan", "rx-vlan-offload", "rx-vlan-hw-parse"),
    ("txvlan", "tx-vlan-offload", "tx-vlan-hw-insert"),
    ("ntuple", "ntuple-filters", "rx-ntuple-filter"),
    ("rxhash", "receive-hashing", "rx-hashing"),
];

/// The network sysctls dpuctl reads and a tuning profile may set, sorted. Meanings:
/// Documentation/admin-guide/sysctl/net.rst (`net.core.*`) and
/// Documentation/networking/ip-sysctl.rst (`net.ipv4.*`).
pub const SYSCTLS: &[&str] = &[
    "net.core.busy_poll",
    "net.core.busy_read",
    "net.core.default_qdisc",
    "net.core.dev_weight",
    "net.core.flow_limit_table_len",
    "net.core.netdev_budget",
    "net.core.netdev_budget_usecs",
    "net.core.netdev_max_backlog",
    "net.core.optmem_max",
    "net.core.rmem_default",
    "net.core.rmem_max",
    "net.core.rps_sock_flow_entries",
    "net.core.somaxconn",
    "net.core.wmem_default",
    "net.core.wmem_max",
    // ECMP: which header fields pick the path. Policy 0 hashes L3 (addresses) only, 1 adds
    // the L4 ports, 2 the inner L3 of tunnels, 3 uses fib_multipath_hash_fields (a bitmask,
    // written in decimal: 0x37 is 55). Documentation/networking/ip-sysctl.rst.
    "net.ipv4.fib_multipath_hash_fields",
    "net.ipv4.fib_multipath_hash_policy",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_adv_win_scale",
    "net.ipv4.tcp_congestion_control",
    // ECN: 0 off, 1 on (asked for and accepted), 2 accepted when the peer asks (default).
    "net.ipv4.tcp_ecn",
    // A no-op since Linux 4.14 removed the TCP prequeue; listed because old tuning guides
    // set it. Global, so absent outside the initial network namespace.
    "net.ipv4.tcp_low_latency",
    "net.ipv4.tcp_mem",
    "net.ipv4.tcp_mtu_probing",
    "net.ipv4.tcp_no_metrics_save",
    "net.ipv4.tcp_notsent_lowat",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_sack",
    "net.ipv4.tcp_slow_start_after_idle",
    "net.ipv4.tcp_timestamps",
    "net.ipv4.tcp_window_scaling",
    "net.ipv4.tcp_wmem",
    "net.ipv4.udp_mem",
    "net.ipv4.udp_rmem_min",
    "net.ipv4.udp_wmem_min",
    "net.ipv6.fib_multipath_hash_policy",
];

/// The field table of a struct kind; empty for features and sysctls.
pub fn fields(kind: KnobKind) -> &'static [Field] {
    match kind {
        KnobKind::Ring => RING_FIELDS,
        KnobKind::Channel => CHANNEL_FIELDS,
        KnobKind::Coalesce => COALESCE_FIELDS,
        KnobKind::Pause => PAUSE_FIELDS,
        _ => &[],
    }
}

/// The settable field `name` (canonical or alias) of a struct kind.
pub fn field(kind: KnobKind, name: &str) -> Option<&'static Field> {
    fields(kind)
        .iter()
        .find(|f| f.name == name || f.aliases.contains(&name))
}

/// The kind of a settable field given by its canonical name and the group word the plan and
/// the writers use (`rings`, `channels`, `coalesce`, `pause`); `None` when the field is
/// unknown or read-only (`rx_max`).
pub fn settable_field(group: &str, name: &str) -> Option<FieldKind> {
    let kind = match group {
        "rings" => KnobKind::Ring,
        "channels" => KnobKind::Channel,
        "coalesce" => KnobKind::Coalesce,
        "pause" => KnobKind::Pause,
        _ => return None,
    };
    fields(kind)
        .iter()
        .find(|f| f.name == name)
        .map(|f| f.value)
}

/// The name `show` prints for the field `canonical` of a struct kind: its `ethtool` name
/// (the first alias), or the canonical name where it has none (`rx`, `combined`).
pub fn shown_name(kind: KnobKind, canonical: &'static str) -> &'static str {
    fields(kind)
        .iter()
        .find(|f| f.name == canonical)
        .and_then(|f| f.aliases.first().copied())
        .unwrap_or(canonical)
}

/// The canonical name of a knob of `kind` written as `name` (canonical or alias), `None`
/// when no knob of that kind has this name.
pub fn canonical(kind: KnobKind, name: &str) -> Option<&'static str> {
    match kind {
        KnobKind::Feature => FEATURE_ALIASES
            .iter()
            .find(|(k, aliases)| *k == name || aliases.contains(&name))
            .map(|(k, _)| *k)
            .or_else(|| KERNEL_FEATURES.iter().find(|k| **k == name).copied()),
        KnobKind::Sysctl => SYSCTLS.iter().find(|k| **k == name).copied(),
        _ => field(kind, name).filter(|f| f.in_profiles).map(|f| f.name),
    }
}

/// Every name a profile accepts for knobs of `kind`, canonical names and aliases: the
/// candidates of a did-you-mean, which never crosses kinds.
pub fn names(kind: KnobKind) -> Vec<&'static str> {
    match kind {
        KnobKind::Feature => {
            let mut v: Vec<&str> = KERNEL_FEATURES.to_vec();
            for (_, aliases) in FEATURE_ALIASES {
                v.extend(aliases.iter().copied());
            }
            v
        }
        KnobKind::Sysctl => SYSCTLS.to_vec(),
        _ => fields(kind)
            .iter()
            .filter(|f| f.in_profiles)
            .flat_map(|f| std::iter::once(f.name).chain(f.aliases.iter().copied()))
            .collect(),
    }
}

/// The kind of knob a profile name belongs to, when it belongs to exactly one kind (`rx`
/// is a ring, channel and pause field: `None`).
pub fn kind_of_name(name: &str) -> Option<KnobKind> {
    let mut kinds = [
        KnobKind::Ring,
        KnobKind::Channel,
        KnobKind::Coalesce,
        KnobKind::Pause,
        KnobKind::Feature,
        KnobKind::Sysctl,
    ]
    .into_iter()
    .filter(|k| canonical(*k, name).is_some());
    match (kinds.next(), kinds.next()) {
        (Some(k), None) => Some(k),
        _ => None,
    }
}

/// True when `name` is a sysctl in [`SYSCTLS`].
pub fn is_known_sysctl(name: &str) -> bool {
    SYSCTLS.contains(&name)
}

/// Checks a dotted sysctl name before it becomes a path: `net.` first, then only
/// `[a-z0-9_.-]`, no empty component and no `..`.
pub fn validate_sysctl_name(name: &str) -> Result<(), String> {
    if !name.starts_with("net.") {
        return Err(format!("sysctl {name:?} is not a network sysctl (net.*)"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !matches!(c, 'a'..='z' | '0'..='9' | '_' | '.' | '-'))
    {
        return Err(format!("sysctl {name:?} contains {c:?}"));
    }
    if name.split('.').any(str::is_empty) {
        return Err(format!("sysctl {name:?} has an empty component"));
    }
    Ok(())
}

/// A sysctl value as `sysctl` shows it: whitespace runs (the kernel separates vector values
/// with tabs) folded to one space, ends trimmed.
pub fn fold_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The group name and field of an ethtool struct knob, `None` for other knobs.
pub fn knob_field(knob: &Knob) -> Option<(&'static str, &str)> {
    match knob {
        Knob::Ring { field, .. } => Some(("rings", field)),
        Knob::Channel { field, .. } => Some(("channels", field)),
        Knob::Coalesce { field, .. } => Some(("coalesce", field)),
        Knob::Pause { field, .. } => Some(("pause", field)),
        _ => None,
    }
}

/// A field of a model struct by its serde name, as a [`Value`]: `Ok(None)` when the struct has
/// the field but the driver left it out (`None`), `Err` when the struct has no such field.
pub fn field_value<T: Serialize>(s: &T, field: &str) -> Result<Option<Value>, String> {
    let v = serde_json::to_value(s).map_err(|e| e.to_string())?;
    let f = v.get(field).ok_or_else(|| format!("no field {field:?}"))?;
    Ok(match f {
        serde_json::Value::Bool(b) => Some(Value::Bool(*b)),
        serde_json::Value::Number(n) => n.as_u64().map(Value::Num),
        _ => None,
    })
}

/// The text written for a sysctl: numbers and on/off as the kernel reads them.
pub fn sysctl_text(value: &Value) -> String {
    match value {
        Value::Bool(b) => u8::from(*b).to_string(),
        Value::Num(n) => n.to_string(),
        Value::Cpus(c) => c.to_list(),
        Value::Text(t) => fold_whitespace(t),
    }
}

/// Matches `name` against a pattern with at most one `*`.
fn glob_match(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((pre, post)) => {
            name.len() >= pre.len() + post.len() && name.starts_with(pre) && name.ends_with(post)
        }
    }
}

/// The kernel feature names `name` stands for on a device whose features are `known` (the
/// `ETH_SS_FEATURES` names): itself if it is one of them, else the members of a legacy
/// `ethtool -k` name such as `gro`, `tso` or `generic-receive-offload`; empty when it is
/// neither.
pub fn expand_feature_name(name: &str, known: &[String]) -> Vec<String> {
    if known.iter().any(|k| k == name) {
        return vec![name.to_string()];
    }
    LEGACY_FEATURES
        .iter()
        .find(|(short, long, _)| *short == name || *long == name)
        .map(|(_, _, pattern)| {
            known
                .iter()
                .filter(|k| !k.is_empty() && glob_match(pattern, k))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// True for names the kernel accepts as interface names (`dev_valid_name` in
/// net/core/dev.c); anything else must not be turned into a path.
pub fn valid_ifname(name: &str) -> bool {
    !name.is_empty()
        && name.len() < 16
        && name != "."
        && name != ".."
        && !name
            .chars()
            .any(|c| c == '/' || c == ':' || c.is_whitespace() || c == '\0')
}

/// True when `name` is a PCI function address `DDDD:BB:DD.F` (domain of 4 to 8 hex digits:
/// VMD domains have 5; see `pci_name()` in include/linux/pci.h).
pub fn is_pci_address(name: &str) -> bool {
    let mut parts = name.split(':');
    let (Some(domain), Some(bus), Some(devfn), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let hex = |s: &str| s.bytes().all(|b| b.is_ascii_hexdigit());
    let Some((dev, func)) = devfn.split_once('.') else {
        return false;
    };
    (4..=8).contains(&domain.len())
        && hex(domain)
        && bus.len() == 2
        && hex(bus)
        && dev.len() == 2
        && hex(dev)
        && func.len() == 1
        && func.bytes().all(|b| (b'0'..=b'7').contains(&b))
}

/// Number of leading path components two sysfs device paths share.
fn common_components(a: &str, b: &str) -> usize {
    a.split('/')
        .zip(b.split('/'))
        .take_while(|(x, y)| x == y)
        .count()
}

/// The GPU nearest to a NIC: the one sharing the longest PCI path with it (same PCI Express
/// switch, then same root port, then same host bridge), else the first one on the NIC's NUMA
/// node, else none. Paths are relative to `devices/` as in [`Gpu::pci_path`]; ties go to the
/// lowest PCI address.
pub fn nearest_gpu<'a>(
    topo: &'a Topology,
    nic_pci_path: Option<&str>,
    nic_numa: Option<i32>,
) -> Option<&'a Gpu> {
    if let Some(nic) = nic_pci_path {
        let mut best: Option<(usize, &Gpu)> = None;
        for g in &topo.gpus {
            let n = common_components(nic, &g.pci_path);
            if n > 0 && best.is_none_or(|(b, _)| n > b) {
                best = Some((n, g));
            }
        }
        if let Some((_, g)) = best {
            return Some(g);
        }
    }
    let node = nic_numa?;
    topo.gpus.iter().find(|g| g.numa_node == Some(node))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn show_names_and_ethtool_names_are_aliases_of_one_knob() {
        for (alias, kernel) in [
            ("rx-csum", "rx-checksum"),
            ("rx-checksumming", "rx-checksum"),
            ("udp-gro-fwd", "rx-udp-gro-forwarding"),
            ("gro-hw", "rx-gro-hw"),
            ("gro", "rx-gro"),
            ("generic-receive-offload", "rx-gro"),
            ("rx-gro", "rx-gro"),
            ("tx-csum", "tx-checksum-ip-generic"),
            ("tso", "tx-tcp-segmentation"),
        ] {
            assert_eq!(canonical(KnobKind::Feature, alias), Some(kernel), "{alias}");
        }
        for (alias, kernel) in [
            ("rx-frames", "rx_max_frames"),
            ("rx_max_frames", "rx_max_frames"),
            ("rx-usecs", "rx_usecs"),
            ("tx-frames", "tx_max_frames"),
            ("adaptive-rx", "use_adaptive_rx"),
            ("sample-interval", "rate_sample_interval"),
        ] {
            assert_eq!(
                canonical(KnobKind::Coalesce, alias),
                Some(kernel),
                "{alias}"
            );
        }
        assert_eq!(canonical(KnobKind::Ring, "rx-mini"), Some("rx_mini"));
        assert_eq!(shown_name(KnobKind::Coalesce, "rx_max_frames"), "rx-frames");
        assert_eq!(shown_name(KnobKind::Ring, "rx_jumbo"), "rx-jumbo");
        assert_eq!(shown_name(KnobKind::Channel, "combined"), "combined");
        assert_eq!(canonical(KnobKind::Ring, "rx-jumbo"), Some("rx_jumbo"));
        // Settable by tune, not offered to profiles.
        assert_eq!(canonical(KnobKind::Ring, "cqe-size"), None);
        assert_eq!(canonical(KnobKind::Pause, "autoneg"), Some("autoneg"));
        // Names never cross kinds.
        assert_eq!(canonical(KnobKind::Coalesce, "gro"), None);
        assert_eq!(canonical(KnobKind::Feature, "rx-frames"), None);
        assert_eq!(canonical(KnobKind::Ring, "combined"), None);
    }

    #[test]
    fn every_name_belongs_to_one_knob_of_its_kind() {
        for kind in [
            KnobKind::Ring,
            KnobKind::Channel,
            KnobKind::Coalesce,
            KnobKind::Pause,
            KnobKind::Feature,
            KnobKind::Sysctl,
        ] {
            let mut seen: HashMap<&str, &str> = HashMap::new();
            for n in names(kind) {
                let c = canonical(kind, n).expect("every listed name resolves");
                if let Some(prev) = seen.insert(n, c) {
                    assert_eq!(prev, c, "{n} names two {} knobs", kind.noun());
                }
            }
        }
        for (kernel, aliases) in FEATURE_ALIASES {
            assert!(KERNEL_FEATURES.contains(kernel), "{kernel}");
            for a in *aliases {
                assert!(!KERNEL_FEATURES.contains(a), "alias {a} is a kernel name");
            }
        }
        for (kernel, short) in SHOWN_FEATURES {
            assert_eq!(canonical(KnobKind::Feature, short), Some(*kernel));
        }
    }

    #[test]
    fn the_field_tables_match_the_model_structs() {
        let keys = |v: serde_json::Value| -> Vec<String> {
            v.as_object().expect("struct").keys().cloned().collect()
        };
        let coalesce = keys(serde_json::to_value(super::super::Coalesce::default()).expect("ok"));
        assert_eq!(coalesce.len(), COALESCE_FIELDS.len());
        for f in COALESCE_FIELDS {
            assert!(coalesce.contains(&f.name.to_string()), "{}", f.name);
            assert_eq!(f.value == Bool, f.name.starts_with("use_"), "{}", f.name);
        }
        let rings = keys(serde_json::to_value(super::super::Rings::default()).expect("ok"));
        for f in RING_FIELDS {
            assert!(rings.contains(&f.name.to_string()), "{}", f.name);
        }
        let channels = keys(serde_json::to_value(super::super::Channels::default()).expect("ok"));
        for f in CHANNEL_FIELDS {
            assert!(channels.contains(&f.name.to_string()), "{}", f.name);
        }
        assert_eq!(settable_field("rings", "rx_max"), None);
        assert_eq!(settable_field("coalesce", "use_adaptive_rx"), Some(Bool));
        assert_eq!(settable_field("rings", "tx_push"), Some(Bool));
    }

    #[test]
    fn sysctls_are_sorted_and_valid() {
        assert!(SYSCTLS.windows(2).all(|w| w[0] < w[1]));
        for n in SYSCTLS {
            assert_eq!(validate_sysctl_name(n), Ok(()), "{n}");
        }
    }
}
