//! The RDMA netlink device interface (`NETLINK_RDMA`, client `RDMA_NL_NLDEV`): devices, ports
//! with the netdev each sits on, and hardware counters, as `rdma dev`, `rdma link` and
//! `rdma statistic` read them.
//!
//! Layout: `include/uapi/rdma/rdma_netlink.h`. A message's type is
//! `RDMA_NL_GET_TYPE(RDMA_NL_NLDEV, cmd)` = `(5 << 10) + cmd`; its payload is attributes
//! with no family header. `RDMA_NLDEV_CMD_PORT_GET` dumps the ports of one device (the
//! kernel refuses a dump without `RDMA_NLDEV_ATTR_DEV_INDEX`: `nldev_port_get_dumpit`), and
//! `RDMA_NLDEV_CMD_STAT_GET` answers one port's counters.

use std::collections::BTreeMap;

use super::nl::{AttrBuf, Attrs, NlError, NlSocket, Proto, F_DUMP};

/// `RDMA_NL_NLDEV`.
pub const RDMA_NL_NLDEV: u16 = 5;
/// `RDMA_NLDEV_CMD_GET`.
pub const CMD_GET: u16 = 1;
/// `RDMA_NLDEV_CMD_PORT_GET`.
pub const CMD_PORT_GET: u16 = 5;
/// `RDMA_NLDEV_CMD_STAT_GET`.
pub const CMD_STAT_GET: u16 = 17;

/// `RDMA_NLDEV_ATTR_DEV_INDEX` (u32).
pub const ATTR_DEV_INDEX: u16 = 1;
/// `RDMA_NLDEV_ATTR_DEV_NAME` (string).
pub const ATTR_DEV_NAME: u16 = 2;
/// `RDMA_NLDEV_ATTR_PORT_INDEX` (u32; in a device reply, the number of ports).
pub const ATTR_PORT_INDEX: u16 = 3;
/// `RDMA_NLDEV_ATTR_FW_VERSION` (string).
pub const ATTR_FW_VERSION: u16 = 5;
/// `RDMA_NLDEV_ATTR_NODE_GUID` (u64).
pub const ATTR_NODE_GUID: u16 = 6;
/// `RDMA_NLDEV_ATTR_PORT_STATE` (u8).
pub const ATTR_PORT_STATE: u16 = 12;
/// `RDMA_NLDEV_ATTR_PORT_PHYS_STATE` (u8).
pub const ATTR_PORT_PHYS_STATE: u16 = 13;
/// `RDMA_NLDEV_ATTR_DEV_NODE_TYPE` (u8).
pub const ATTR_DEV_NODE_TYPE: u16 = 14;
/// `RDMA_NLDEV_ATTR_NDEV_INDEX` (u32).
pub const ATTR_NDEV_INDEX: u16 = 50;
/// `RDMA_NLDEV_ATTR_NDEV_NAME` (string).
pub const ATTR_NDEV_NAME: u16 = 51;
/// `RDMA_NLDEV_ATTR_DEV_PROTOCOL` (string: `roce`, `ib`, `iw`).
pub const ATTR_DEV_PROTOCOL: u16 = 67;
/// `RDMA_NLDEV_ATTR_STAT_HWCOUNTERS` (nested table).
pub const ATTR_STAT_HWCOUNTERS: u16 = 80;
/// `RDMA_NLDEV_ATTR_STAT_HWCOUNTER_ENTRY` (nested).
pub const ATTR_STAT_HWCOUNTER_ENTRY: u16 = 81;
/// `RDMA_NLDEV_ATTR_STAT_HWCOUNTER_ENTRY_NAME` (string).
pub const ATTR_STAT_HWCOUNTER_ENTRY_NAME: u16 = 82;
/// `RDMA_NLDEV_ATTR_STAT_HWCOUNTER_ENTRY_VALUE` (u64).
pub const ATTR_STAT_HWCOUNTER_ENTRY_VALUE: u16 = 83;

/// The netlink message type of an nldev command.
pub const fn msg_type(cmd: u16) -> u16 {
    (RDMA_NL_NLDEV << 10) + cmd
}

/// A device as `RDMA_NLDEV_CMD_GET` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NlDevice {
    /// Kernel device index.
    pub index: u32,
    /// Device name.
    pub name: String,
    /// Number of ports.
    pub ports: u32,
    /// Firmware version, when the driver has one.
    pub fw_ver: Option<String>,
    /// Node GUID as a number.
    pub node_guid: Option<u64>,
    /// Node type (`RDMA_NODE_IB_CA` = 1, ...).
    pub node_type: Option<u8>,
    /// Protocol: `roce`, `ib`, `iw`.
    pub protocol: Option<String>,
}

/// A port as `RDMA_NLDEV_CMD_PORT_GET` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NlPort {
    /// Device index.
    pub dev_index: u32,
    /// Device name.
    pub dev_name: String,
    /// Port number.
    pub port: u32,
    /// Logical state (`IB_PORT_ACTIVE` = 4...).
    pub state: Option<u8>,
    /// Physical state (5 = `LinkUp`...).
    pub phys_state: Option<u8>,
    /// Interface index of the netdev the port sits on.
    pub netdev_index: Option<u32>,
    /// Name of that netdev.
    pub netdev: Option<String>,
}

/// The request payload naming one device (and port).
pub fn request(dev_index: Option<u32>, port: Option<u32>) -> Vec<u8> {
    let mut a = AttrBuf::new();
    if let Some(d) = dev_index {
        a.u32(ATTR_DEV_INDEX, d);
    }
    if let Some(p) = port {
        a.u32(ATTR_PORT_INDEX, p);
    }
    a.bytes().to_vec()
}

/// A device reply; `None` without an index or a name.
pub fn parse_device(body: &[u8]) -> Option<NlDevice> {
    let a = Attrs::new(body);
    Some(NlDevice {
        index: a.u32(ATTR_DEV_INDEX)?,
        name: a.str(ATTR_DEV_NAME)?,
        ports: a.u32(ATTR_PORT_INDEX).unwrap_or(0),
        fw_ver: a.str(ATTR_FW_VERSION).filter(|s| !s.is_empty()),
        node_guid: a.u64(ATTR_NODE_GUID),
        node_type: a.u8(ATTR_DEV_NODE_TYPE),
        protocol: a.str(ATTR_DEV_PROTOCOL),
    })
}

/// A port reply; `None` without a device index, name or port number.
pub fn parse_port(body: &[u8]) -> Option<NlPort> {
    let a = Attrs::new(body);
    Some(NlPort {
        dev_index: a.u32(ATTR_DEV_INDEX)?,
        dev_name: a.str(ATTR_DEV_NAME)?,
        port: a.u32(ATTR_PORT_INDEX)?,
        state: a.u8(ATTR_PORT_STATE),
        phys_state: a.u8(ATTR_PORT_PHYS_STATE),
        netdev_index: a.u32(ATTR_NDEV_INDEX),
        netdev: a.str(ATTR_NDEV_NAME).filter(|s| !s.is_empty()),
    })
}

/// The hardware counters of a `STAT_GET` reply (name -> value).
pub fn parse_hw_counters(body: &[u8]) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    let Some(table) = Attrs::new(body).nested(ATTR_STAT_HWCOUNTERS) else {
        return out;
    };
    for (kind, entry) in table {
        if kind != ATTR_STAT_HWCOUNTER_ENTRY {
            continue;
        }
        let e = Attrs::new(entry);
        if let (Some(name), Some(v)) = (
            e.str(ATTR_STAT_HWCOUNTER_ENTRY_NAME),
            e.u64(ATTR_STAT_HWCOUNTER_ENTRY_VALUE),
        ) {
            out.insert(name, v);
        }
    }
    out
}

/// The name the kernel gives a port state number (`ib_port_state_to_str`).
pub fn port_state_name(n: u8) -> &'static str {
    match n {
        0 => "NOP",
        1 => "DOWN",
        2 => "INIT",
        3 => "ARMED",
        4 => "ACTIVE",
        5 => "ACTIVE_DEFER",
        _ => "UNKNOWN",
    }
}

/// The name the kernel gives a physical state number (`phys_state_to_str`).
pub fn phys_state_name(n: u8) -> &'static str {
    match n {
        1 => "Sleep",
        2 => "Polling",
        3 => "Disabled",
        4 => "PortConfigurationTraining",
        5 => "LinkUp",
        6 => "LinkErrorRecovery",
        7 => "Phy Test",
        _ => "<unknown>",
    }
}

/// An open `NETLINK_RDMA` socket.
pub struct RdmaNl {
    sock: NlSocket,
}

impl RdmaNl {
    /// Opens the socket (fails where the RDMA core, `ib_core`, is not loaded).
    pub fn open() -> Result<Self, NlError> {
        Ok(Self {
            sock: NlSocket::open(Proto::Rdma)?,
        })
    }

    /// All devices (a `CMD_GET` dump).
    pub fn devices(&mut self) -> Result<Vec<NlDevice>, NlError> {
        let replies = self.sock.request(msg_type(CMD_GET), F_DUMP, &[])?;
        Ok(replies
            .iter()
            .filter_map(|(_, b)| parse_device(b))
            .collect())
    }

    /// The ports of one device (a `CMD_PORT_GET` dump with the device index).
    pub fn ports(&mut self, dev_index: u32) -> Result<Vec<NlPort>, NlError> {
        let replies = self.sock.request(
            msg_type(CMD_PORT_GET),
            F_DUMP,
            &request(Some(dev_index), None),
        )?;
        Ok(replies.iter().filter_map(|(_, b)| parse_port(b)).collect())
    }

    /// The hardware counters of one port (`CMD_STAT_GET`).
    pub fn hw_counters(
        &mut self,
        dev_index: u32,
        port: u32,
    ) -> Result<BTreeMap<String, u64>, NlError> {
        let body = self.sock.get(
            msg_type(CMD_STAT_GET),
            0,
            &request(Some(dev_index), Some(port)),
        )?;
        Ok(parse_hw_counters(&body))
    }
}

/// Fills what sysfs lacks from the netlink view: each port's netdev and its interface
/// index (netlink knows the netdev even when the GID table is empty), and hardware counters
/// where sysfs has none. Devices and ports are matched by name and number.
pub fn merge(
    devs: &mut [crate::model::rdma::RdmaDevice],
    ports: &[NlPort],
    counters: &BTreeMap<(String, u32), BTreeMap<String, u64>>,
) {
    for d in devs {
        for p in &mut d.ports {
            if let Some(n) = ports
                .iter()
                .find(|n| n.dev_name == d.name && n.port == p.port)
            {
                if n.netdev.is_some() {
                    p.netdev.clone_from(&n.netdev);
                }
                p.netdev_index = n.netdev_index.or(p.netdev_index);
            }
            if p.hw_counters.is_empty() {
                if let Some(c) = counters.get(&(d.name.clone(), p.port)) {
                    p.hw_counters.clone_from(c);
                }
            }
        }
    }
}

/// Reads every device's ports and counters over netlink and merges them into `devs` (see
/// [`merge`]). Errors leave `devs` as sysfs gave them.
pub fn enrich(devs: &mut [crate::model::rdma::RdmaDevice]) -> Result<(), NlError> {
    enrich_with(devs, true)
}

/// [`enrich`], asking for hardware counters only `with_counters` (the fabric read `topo`
/// uses prints none).
pub fn enrich_with(
    devs: &mut [crate::model::rdma::RdmaDevice],
    with_counters: bool,
) -> Result<(), NlError> {
    if devs.is_empty() {
        return Ok(());
    }
    let mut nl = RdmaNl::open()?;
    let mut ports = Vec::new();
    let mut counters = BTreeMap::new();
    for d in nl.devices()? {
        let these = nl.ports(d.index)?;
        for p in &these {
            let want = with_counters
                && devs.iter().any(|x| {
                    x.name == p.dev_name && x.port(p.port).is_some_and(|q| q.hw_counters.is_empty())
                });
            if want {
                if let Ok(c) = nl.hw_counters(d.index, p.port) {
                    counters.insert((p.dev_name.clone(), p.port), c);
                }
            }
        }
        ports.extend(these);
    }
    merge(devs, &ports, &counters);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Native-endian bytes of a u16/u32 for building expected messages by hand.
    fn ne16(v: u16) -> [u8; 2] {
        v.to_ne_bytes()
    }
    fn ne32(v: u32) -> [u8; 4] {
        v.to_ne_bytes()
    }

    #[test]
    fn message_types_follow_rdma_nl_get_type() {
        assert_eq!(msg_type(CMD_GET), 0x1401);
        assert_eq!(msg_type(CMD_PORT_GET), 0x1405);
        assert_eq!(msg_type(CMD_STAT_GET), 0x1411);
    }

    #[test]
    fn request_bytes() {
        let mut want = Vec::new();
        want.extend_from_slice(&ne16(8));
        want.extend_from_slice(&ne16(ATTR_DEV_INDEX));
        want.extend_from_slice(&ne32(3));
        want.extend_from_slice(&ne16(8));
        want.extend_from_slice(&ne16(ATTR_PORT_INDEX));
        want.extend_from_slice(&ne32(1));
        assert_eq!(request(Some(3), Some(1)), want);
        assert!(request(None, None).is_empty());
    }

    /// A `PORT_GET` reply as rxe0 on virtio0 answers it, built byte by byte: dev index 0,
    /// "rxe0", port 1, state ACTIVE (4), phys `LinkUp` (5), netdev index 2 "virtio0".
    fn rxe_port_reply() -> Vec<u8> {
        let mut b = Vec::new();
        let attr = |b: &mut Vec<u8>, kind: u16, data: &[u8]| {
            b.extend_from_slice(&ne16(4 + data.len() as u16));
            b.extend_from_slice(&ne16(kind));
            b.extend_from_slice(data);
            while !b.len().is_multiple_of(4) {
                b.push(0);
            }
        };
        attr(&mut b, ATTR_DEV_INDEX, &ne32(0));
        attr(&mut b, ATTR_DEV_NAME, b"rxe0\0");
        attr(&mut b, ATTR_PORT_INDEX, &ne32(1));
        attr(&mut b, ATTR_PORT_STATE, &[4]);
        attr(&mut b, ATTR_PORT_PHYS_STATE, &[5]);
        attr(&mut b, ATTR_NDEV_INDEX, &ne32(2));
        attr(&mut b, ATTR_NDEV_NAME, b"virtio0\0");
        b
    }

    #[test]
    fn port_reply_decodes() {
        let b = rxe_port_reply();
        // "rxe0\0" is 5 bytes: 9 with the header, padded to 12.
        assert_eq!(&b[8..12], &[ne16(9), ne16(ATTR_DEV_NAME)].concat()[..]);
        assert_eq!(&b[12..20], b"rxe0\0\0\0\0");
        let p = parse_port(&b).expect("port");
        assert_eq!(
            p,
            NlPort {
                dev_index: 0,
                dev_name: "rxe0".into(),
                port: 1,
                state: Some(4),
                phys_state: Some(5),
                netdev_index: Some(2),
                netdev: Some("virtio0".into()),
            }
        );
        assert_eq!(port_state_name(4), "ACTIVE");
        assert_eq!(phys_state_name(5), "LinkUp");
        // Cut in the middle of the netdev name: the truncated attribute is not read.
        let cut = &b[..b.len() - 6];
        let p = parse_port(cut).expect("port");
        assert_eq!(p.netdev, None);
        assert_eq!(p.netdev_index, Some(2));
        // Without a port number it is no port.
        assert_eq!(parse_port(&b[..20]), None);
    }

    #[test]
    fn device_and_counter_replies_decode() {
        let mut a = AttrBuf::new();
        a.u32(ATTR_DEV_INDEX, 7)
            .str(ATTR_DEV_NAME, "mlx5_0")
            .u32(ATTR_PORT_INDEX, 1)
            .str(ATTR_FW_VERSION, "28.39.1002")
            .put(ATTR_NODE_GUID, &0xb8ce_f603_00a1_b2c4u64.to_ne_bytes())
            .u8(ATTR_DEV_NODE_TYPE, 1)
            .str(ATTR_DEV_PROTOCOL, "roce");
        let d = parse_device(a.bytes()).expect("device");
        assert_eq!(d.index, 7);
        assert_eq!(d.name, "mlx5_0");
        assert_eq!(d.ports, 1);
        assert_eq!(d.fw_ver.as_deref(), Some("28.39.1002"));
        assert_eq!(d.node_guid, Some(0xb8ce_f603_00a1_b2c4));
        assert_eq!(d.protocol.as_deref(), Some("roce"));

        let mut s = AttrBuf::new();
        s.u32(ATTR_DEV_INDEX, 0).u32(ATTR_PORT_INDEX, 1);
        s.begin(ATTR_STAT_HWCOUNTERS);
        for (name, v) in [("completer_retry_err", 41u64), ("rcvd_seq_err", 3)] {
            s.begin(ATTR_STAT_HWCOUNTER_ENTRY)
                .str(ATTR_STAT_HWCOUNTER_ENTRY_NAME, name)
                .put(ATTR_STAT_HWCOUNTER_ENTRY_VALUE, &v.to_ne_bytes())
                .end();
        }
        s.end();
        let c = parse_hw_counters(s.bytes());
        assert_eq!(c.get("completer_retry_err"), Some(&41));
        assert_eq!(c.get("rcvd_seq_err"), Some(&3));
        assert_eq!(c.len(), 2);
        assert!(parse_hw_counters(a.bytes()).is_empty());
    }

    #[test]
    fn merge_fills_netdev_and_counters() {
        // A device as sysfs gave it: no netdev yet (netlink names it), no counters.
        let mut dev = crate::model::rdma::test_device("rxe0", "unused", None);
        let p = &mut dev.ports[0];
        p.netdev = None;
        p.gids.clear();
        let mut devs = vec![dev];
        let ports = vec![parse_port(&rxe_port_reply()).expect("port")];
        let mut counters = BTreeMap::new();
        counters.insert(
            ("rxe0".to_string(), 1),
            BTreeMap::from([("rcvd_seq_err".to_string(), 9)]),
        );
        merge(&mut devs, &ports, &counters);
        let p = &devs[0].ports[0];
        assert_eq!(p.netdev.as_deref(), Some("virtio0"));
        assert_eq!(p.netdev_index, Some(2));
        assert_eq!(p.hw_counters.get("rcvd_seq_err"), Some(&9));
    }
}
