//! Settings dpuctl can change: what a resolved profile asks for, what a plan diffs, what the
//! journal records. Plain data; `sys::write` applies them and `tune::plan` reads their current
//! values from a [`crate::model::NodeState`].

use std::fmt;

use serde::{Deserialize, Serialize};

use super::CpuSet;

/// Which knob a setting changes, and on what object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "knob", rename_all = "snake_case")]
pub enum Knob {
    /// A sysctl under /proc/sys, by dotted name (`net.core.rmem_max`).
    Sysctl {
        /// Dotted name.
        name: String,
    },
    /// A ring size (`ethtool -G`): field `rx`, `rx_mini`, `rx_jumbo` or `tx`.
    Ring {
        /// Interface.
        iface: String,
        /// Field name as in [`crate::model::Rings`].
        field: String,
    },
    /// A channel count (`ethtool -L`): field `rx`, `tx`, `other` or `combined`.
    Channel {
        /// Interface.
        iface: String,
        /// Field name as in [`crate::model::Channels`].
        field: String,
    },
    /// A coalescing field (`ethtool -C`), named as in [`crate::model::Coalesce`].
    Coalesce {
        /// Interface.
        iface: String,
        /// Field name, e.g. `rx_usecs`, `use_adaptive_rx`.
        field: String,
    },
    /// Pause frames (`ethtool -A`): field `autoneg`, `rx` or `tx`.
    Pause {
        /// Interface.
        iface: String,
        /// Field name as in [`crate::model::Pause`].
        field: String,
    },
    /// An offload feature by kernel name (`rx-gro`, `rx-lro`, `tx-tcp-segmentation`).
    Feature {
        /// Interface.
        iface: String,
        /// Kernel feature name.
        name: String,
    },
    /// MTU.
    Mtu {
        /// Interface.
        iface: String,
    },
    /// txqueuelen.
    TxQueueLen {
        /// Interface.
        iface: String,
    },
    /// `queues/rx-N/rps_cpus`.
    Rps {
        /// Interface.
        iface: String,
        /// Receive queue index.
        queue: u32,
    },
    /// `queues/rx-N/rps_flow_cnt`.
    RpsFlowCnt {
        /// Interface.
        iface: String,
        /// Receive queue index.
        queue: u32,
    },
    /// `queues/tx-N/xps_cpus`.
    Xps {
        /// Interface.
        iface: String,
        /// Transmit queue index.
        queue: u32,
    },
    /// `/proc/irq/N/smp_affinity_list` of an interface's queue IRQ.
    IrqAffinity {
        /// Interface the IRQ belongs to.
        iface: String,
        /// IRQ number.
        irq: u32,
    },
    /// The root qdisc of an interface (`tc qdisc replace dev X root ...`); its value is the
    /// text form of a [`crate::model::qos::QdiscSpec`].
    Qdisc {
        /// Interface.
        iface: String,
    },
    /// The priorities with PFC on (dcbnl `ieee_pfc.pfc_en`); the value is their list as text
    /// (`"3"`, `"3 4"`, `"none"`).
    Pfc {
        /// Interface.
        iface: String,
    },
    /// Hardware ETS (dcbnl `ieee_ets`, `dcb ets`); the value is the text form of a
    /// [`crate::model::dcb::EtsSpec`].
    DcbEts {
        /// Interface.
        iface: String,
    },
    /// The priorities the DCB APP table gives one protocol of one selector (`dcb app`,
    /// `dscp-prio 26:3`); the value is their list as text (`"3"`, `"none"`: no entry).
    DcbApp {
        /// Interface.
        iface: String,
        /// APP selector (5: DSCP).
        selector: u8,
        /// The DSCP value, port or ethertype.
        protocol: u16,
    },
    /// The APP trust order (`dcb apptrust`); the value is its selectors as text
    /// (`"dscp pcp"`, `"none"`).
    DcbTrust {
        /// Interface.
        iface: String,
    },
    /// Whether the configfs directory `rdma_cm/<device>` exists (the kernel shows the
    /// defaults only after `mkdir`); true when dpuctl created it, so undoing removes it.
    /// Ordered before [`Knob::RdmaCm`]: resolved settings are sorted, and the directory must
    /// exist before its files are written (and go after them on undo).
    RdmaCmDir {
        /// RDMA device.
        device: String,
    },
    /// An `rdma_cm` default of an RDMA port, written in configfs
    /// (`rdma_cm/<device>/ports/<port>/<field>`): `default_roce_mode` (text: `RoCE v2`,
    /// `IB/RoCE v1`) or `default_roce_tos` (a number 0..255).
    RdmaCm {
        /// RDMA device, e.g. `mlx5_0`.
        device: String,
        /// Port number (from 1).
        port: u32,
        /// `default_roce_mode` or `default_roce_tos`.
        field: String,
    },
}

impl Knob {
    /// The object the knob belongs to: the interface name, or `sysctl`.
    pub fn object(&self) -> &str {
        match self {
            Knob::Sysctl { .. } => "sysctl",
            Knob::Ring { iface, .. }
            | Knob::Channel { iface, .. }
            | Knob::Coalesce { iface, .. }
            | Knob::Pause { iface, .. }
            | Knob::Feature { iface, .. }
            | Knob::Mtu { iface }
            | Knob::TxQueueLen { iface }
            | Knob::Rps { iface, .. }
            | Knob::RpsFlowCnt { iface, .. }
            | Knob::Xps { iface, .. }
            | Knob::IrqAffinity { iface, .. }
            | Knob::Qdisc { iface }
            | Knob::Pfc { iface }
            | Knob::DcbEts { iface }
            | Knob::DcbApp { iface, .. }
            | Knob::DcbTrust { iface } => iface,
            Knob::RdmaCm { device, .. } | Knob::RdmaCmDir { device } => device,
        }
    }

    /// True when changing this knob briefly resets the link on most drivers (the knob table
    /// says which kinds: [`super::knobs::KnobKind::resets_link`]).
    pub fn resets_link(&self) -> bool {
        self.kind().resets_link()
    }
}

impl fmt::Display for Knob {
    /// Reads like the plan line: `eth2 rings rx`, `sysctl net.core.rmem_max`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Knob::Sysctl { name } => write!(f, "sysctl {name}"),
            Knob::Ring { iface, field } => write!(f, "{iface} rings {field}"),
            Knob::Channel { iface, field } => write!(f, "{iface} channels {field}"),
            Knob::Coalesce { iface, field } => write!(f, "{iface} coalesce {field}"),
            Knob::Pause { iface, field } => write!(f, "{iface} pause {field}"),
            Knob::Feature { iface, name } => write!(f, "{iface} feature {name}"),
            Knob::Mtu { iface } => write!(f, "{iface} mtu"),
            Knob::TxQueueLen { iface } => write!(f, "{iface} txqueuelen"),
            Knob::Rps { iface, queue } => write!(f, "{iface} rx-{queue} rps_cpus"),
            Knob::RpsFlowCnt { iface, queue } => write!(f, "{iface} rx-{queue} rps_flow_cnt"),
            Knob::Xps { iface, queue } => write!(f, "{iface} tx-{queue} xps_cpus"),
            Knob::IrqAffinity { iface, irq } => write!(f, "{iface} irq {irq} affinity"),
            Knob::Qdisc { iface } => write!(f, "{iface} qos root qdisc"),
            Knob::Pfc { iface } => write!(f, "{iface} dcb pfc"),
            Knob::DcbEts { iface } => write!(f, "{iface} dcb ets"),
            Knob::DcbApp {
                iface,
                selector,
                protocol,
            } => write!(
                f,
                "{iface} dcb app {}-prio {protocol}",
                crate::model::dcb::selector_name(*selector)
            ),
            Knob::DcbTrust { iface } => write!(f, "{iface} dcb apptrust"),
            Knob::RdmaCm {
                device,
                port,
                field,
            } => write!(f, "{device} port {port} rdma_cm {field}"),
            Knob::RdmaCmDir { device } => write!(f, "{device} rdma_cm directory"),
        }
    }
}

/// A knob's value.
///
/// Serialized flat (`4096`, `true`, `"0-3"`, `"4096 87380 16777216"`) for people and scripts.
/// That form is ambiguous to read back (the text `"1"` also parses as a CPU list), so what
/// must round-trip, the tune journal, stores values with their kind spelled out instead.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    /// On/off (features, pause, adaptive coalescing).
    Bool(bool),
    /// A number (rings, channels, coalescing, mtu, txqueuelen, `rps_flow_cnt`).
    Num(u64),
    /// A CPU set (rps, xps, IRQ affinity), serialized as a CPU list.
    Cpus(CpuSet),
    /// Text (sysctls; whitespace runs folded to one space).
    Text(String),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(b) => f.write_str(if *b { "on" } else { "off" }),
            Value::Num(n) => write!(f, "{n}"),
            Value::Cpus(c) if c.is_empty() => f.write_str("none"),
            Value::Cpus(c) => write!(f, "{c}"),
            Value::Text(t) => write!(f, "{t:?}"),
        }
    }
}

/// One desired setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setting {
    /// What to change.
    #[serde(flatten)]
    pub knob: Knob,
    /// The value wanted, or the floor when `at_least` is set.
    pub value: Value,
    /// `value` is a floor (`">= 16777216"` in a profile): a current value at or above it
    /// satisfies the setting, a lower one is raised to it, number by number for sysctls of
    /// several numbers (`tcp_rmem`). Only for numbers: ring sizes and numeric sysctls.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub at_least: bool,
}

impl Setting {
    /// A setting to exactly `value`.
    pub fn new(knob: Knob, value: Value) -> Self {
        Self {
            knob,
            value,
            at_least: false,
        }
    }

    /// A setting to at least `floor`.
    pub fn at_least(knob: Knob, floor: Value) -> Self {
        Self {
            knob,
            value: floor,
            at_least: true,
        }
    }
}

/// A setting a profile asks for that is neither applied nor compared on this node, with why
/// (the driver lacks the knob, a queue or IRQ is not there, a criterion cannot be decided).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedSetting {
    /// The object: an interface name, or `sysctl`.
    pub object: String,
    /// What was asked for, as the plan names it: `eth2 rings rx_jumbo`, `veth0 irq_affinity`.
    pub setting: String,
    /// The knob, where the setting names one (a whole section skipped on a device without
    /// queues or IRQs names none).
    #[serde(flatten)]
    pub knob: Option<Knob>,
    /// The value wanted, as the profile or plan writes it.
    pub want: String,
    /// Why it was skipped.
    pub reason: String,
}

impl SkippedSetting {
    /// A skipped knob.
    pub fn knob(knob: Knob, want: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            object: knob.object().to_string(),
            setting: knob.to_string(),
            knob: Some(knob),
            want: want.into(),
            reason: reason.into(),
        }
    }

    /// A skipped part of an object's settings that names no single knob (`irq_affinity`).
    pub fn section(
        object: &str,
        section: &str,
        want: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            object: object.to_string(),
            setting: format!("{object} {section}"),
            knob: None,
            want: want.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for SkippedSetting {
    /// `eth2 rings rx_jumbo 100: not supported by the driver`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.want.is_empty() {
            write!(f, "{}: {}", self.setting, self.reason)
        } else {
            write!(f, "{} {}: {}", self.setting, self.want, self.reason)
        }
    }
}
