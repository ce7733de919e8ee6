//! rtnetlink: link attributes (`RTM_GETLINK`) and 64-bit counters (`RTM_GETSTATS` with the
//! `IFLA_STATS_LINK_64` filter), synchronously.
//!
//! A counter sample of every interface is one `RTM_GETSTATS` dump: about a microsecond per
//! interface, two orders of magnitude cheaper than reading sysfs statistics files.
//! Layouts: `include/uapi/linux/rtnetlink.h`, `if_link.h`.

use crate::model::Counters;

use super::nl::{AttrBuf, Attrs, NlError, NlSocket, Proto, F_DUMP, RECV_LEN_SLAB};

const RTM_GETLINK: u16 = 18;
const RTM_GETSTATS: u16 = 94;
const IFLA_ADDRESS: u16 = 1;
const IFLA_IFNAME: u16 = 3;
const IFLA_MTU: u16 = 4;
const IFLA_TXQLEN: u16 = 13;
const IFLA_OPERSTATE: u16 = 16;
const IFLA_LINKINFO: u16 = 18;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_EXT_MASK: u16 = 29;
const IFLA_NUM_TX_QUEUES: u16 = 31;
const IFLA_NUM_RX_QUEUES: u16 = 32;
const IFLA_CARRIER: u16 = 33;
const IFLA_CARRIER_CHANGES: u16 = 35;
const IFLA_LINK: u16 = 5;
const IFLA_LINK_NETNSID: u16 = 37;
const IFLA_TARGET_NETNSID: u16 = 46;
const RTEXT_FILTER_SKIP_STATS: u32 = 1 << 3;
const IFLA_STATS_LINK_64: u16 = 1;
/// `IFLA_STATS_FILTER_BIT(IFLA_STATS_LINK_64)`.
const FILTER_LINK_64: u32 = 1 << (IFLA_STATS_LINK_64 - 1);
const IFINFOMSG_LEN: usize = 16;
/// `IFF_UP` in `ifinfomsg.ifi_flags` (include/uapi/linux/if.h).
const IFF_UP: u32 = 0x1;
const IF_STATS_MSG_LEN: usize = 12;

/// Attributes of one link, as `ip link` shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkAttrs {
    /// Interface index.
    pub ifindex: u32,
    /// Interface name.
    pub name: String,
    /// Link kind (veth, bridge, ...), `None` for hardware NICs.
    pub kind: Option<String>,
    /// MAC address, colon-separated hex.
    pub mac: Option<String>,
    /// MTU.
    pub mtu: u32,
    /// txqueuelen.
    pub txqueuelen: u32,
    /// RFC 2863 operational state, lower case.
    pub operstate: String,
    /// Carrier present; `None` while the interface is down, where the kernel has no carrier
    /// to report (sysfs `carrier` reads EINVAL; `IFLA_CARRIER` keeps a stale 1 on devices such
    /// as ifb that never drop it).
    pub carrier: Option<bool>,
    /// Carrier changes since the device was created.
    pub carrier_changes: Option<u32>,
    /// Allocated transmit queues.
    pub num_tx_queues: u32,
    /// Allocated receive queues.
    pub num_rx_queues: u32,
}

/// Where the other end of a link is: `IFLA_LINK` (the peer of a veth, the lower device of a
/// vlan) and `IFLA_LINK_NETNSID`, the id of the peer's network namespace as seen from this one
/// (present only when the peer lives in another namespace).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkRef {
    /// Interface index of the link.
    pub ifindex: u32,
    /// `IFLA_LINK`: the ifindex of the other end, in its own namespace.
    pub link: u32,
    /// `IFLA_LINK_NETNSID`: the namespace of the other end, `None` when it is this one.
    pub netnsid: Option<i32>,
}

/// `RTNLGRP_LINK`: the multicast group of link notifications.
const RTNLGRP_LINK: u32 = 1;

/// Link notifications (`RTNLGRP_LINK`: a link added, removed, renamed, or its state or
/// carrier changed), so that a poller dumps the link table only when something changed.
pub struct LinkEvents {
    sock: netlink_sys::Socket,
    buf: Vec<u8>,
}

impl LinkEvents {
    /// Subscribes, in the network namespace of the calling thread.
    pub fn open() -> Result<Self, NlError> {
        let mut sock = netlink_sys::Socket::new(netlink_sys::protocols::NETLINK_ROUTE)?;
        sock.bind(&netlink_sys::SocketAddr::new(0, 1 << (RTNLGRP_LINK - 1)))?;
        sock.set_non_blocking(true)?;
        Ok(Self {
            sock,
            buf: vec![0; 1 << 16],
        })
    }

    /// True when a notification arrived since the last call, or when some were lost
    /// (`ENOBUFS`: the queue overflowed, so anything may have changed). Reads them all.
    pub fn changed(&mut self) -> Result<bool, NlError> {
        let mut changed = false;
        loop {
            match self.sock.recv(&mut &mut self.buf[..], 0) {
                Ok(_) => changed = true,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(changed),
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => changed = true,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// An rtnetlink socket for link queries and counter samples.
pub struct Rtnl {
    sock: NlSocket,
}

impl Rtnl {
    /// Opens the socket (no privilege needed).
    pub fn open() -> Result<Self, NlError> {
        Ok(Self {
            sock: NlSocket::open(Proto::Route)?,
        })
    }

    /// Opens a socket for frequent counter dumps ([`Rtnl::sample_all`]): its receive
    /// length keeps each dump datagram in the kernel's slab ([`RECV_LEN_SLAB`]).
    pub fn open_for_samples() -> Result<Self, NlError> {
        Ok(Self {
            sock: NlSocket::open_with_recv_len(Proto::Route, RECV_LEN_SLAB)?,
        })
    }

    /// All links, sorted by name.
    pub fn links(&mut self) -> Result<Vec<LinkAttrs>, NlError> {
        let mut req = AttrBuf::with_header(&[0u8; IFINFOMSG_LEN]);
        // Counters come from RTM_GETSTATS; leaving them out keeps the dump small.
        req.u32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
        let mut links = Vec::new();
        self.sock
            .request_each(RTM_GETLINK, F_DUMP, req.bytes(), |_, body| {
                if let Some(l) = parse_link(body) {
                    links.push(l);
                }
                Ok(())
            })?;
        links.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(links)
    }

    /// The other end of every link that has one (`IFLA_LINK` differing from its own index).
    pub fn link_refs(&mut self) -> Result<Vec<LinkRef>, NlError> {
        let mut req = AttrBuf::with_header(&[0u8; IFINFOMSG_LEN]);
        req.u32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
        let mut out = Vec::new();
        self.sock
            .request_each(RTM_GETLINK, F_DUMP, req.bytes(), |_, body| {
                if let Some(r) = parse_link_ref(body) {
                    out.push(r);
                }
                Ok(())
            })?;
        Ok(out)
    }

    /// One link by index, in this namespace (`netnsid` `None`) or in the namespace with that
    /// id as this one sees it (`IFLA_TARGET_NETNSID`, Linux 4.20; needs `CAP_NET_ADMIN` over
    /// that namespace).
    pub fn link_by_index(
        &mut self,
        ifindex: u32,
        netnsid: Option<i32>,
    ) -> Result<LinkAttrs, NlError> {
        let mut hdr = [0u8; IFINFOMSG_LEN];
        hdr[4..8].copy_from_slice(&ifindex.to_ne_bytes());
        let mut req = AttrBuf::with_header(&hdr);
        req.u32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
        if let Some(id) = netnsid {
            req.put(IFLA_TARGET_NETNSID, &id.to_ne_bytes());
        }
        let body = self.sock.get(RTM_GETLINK, 0, req.bytes())?;
        parse_link(&body).ok_or_else(|| NlError::Malformed("RTM_NEWLINK without a name".into()))
    }

    /// Counters of every interface in one dump, as `(ifindex, counters)`, into `out` (cleared
    /// first, so a sampler can reuse its buffer).
    pub fn sample_all(&mut self, out: &mut Vec<(u32, Counters)>) -> Result<(), NlError> {
        out.clear();
        let req = stats_request(0);
        self.sock
            .request_each(RTM_GETSTATS, F_DUMP, &req, |_, body| {
                if let Some(s) = parse_stats(body) {
                    out.push(s);
                }
                Ok(())
            })
    }

    /// Counters of one interface.
    pub fn sample(&mut self, ifindex: u32) -> Result<Counters, NlError> {
        let req = stats_request(ifindex);
        // The reply answers the request: no ack needed (two system calls instead of three).
        let body = self.sock.get(RTM_GETSTATS, 0, &req)?;
        parse_stats(&body)
            .map(|(_, c)| c)
            .ok_or_else(|| NlError::Malformed("no IFLA_STATS_LINK_64 in reply".into()))
    }
}

fn stats_request(ifindex: u32) -> [u8; IF_STATS_MSG_LEN] {
    let mut req = [0u8; IF_STATS_MSG_LEN];
    req[4..8].copy_from_slice(&ifindex.to_ne_bytes());
    req[8..12].copy_from_slice(&FILTER_LINK_64.to_ne_bytes());
    req
}

fn operstate_name(v: u8) -> &'static str {
    match v {
        1 => "notpresent",
        2 => "down",
        3 => "lowerlayerdown",
        4 => "testing",
        5 => "dormant",
        6 => "up",
        _ => "unknown",
    }
}

/// Parses one `RTM_NEWLINK` message body (ifinfomsg + attributes).
fn parse_link(body: &[u8]) -> Option<LinkAttrs> {
    let hdr = body.get(..IFINFOMSG_LEN)?;
    let ifindex = u32::from_ne_bytes(hdr[4..8].try_into().ok()?);
    let up = u32::from_ne_bytes(hdr[8..12].try_into().ok()?) & IFF_UP != 0;
    let a = Attrs::new(&body[IFINFOMSG_LEN..]);
    Some(LinkAttrs {
        ifindex,
        name: a.str(IFLA_IFNAME)?,
        kind: a.nested(IFLA_LINKINFO).and_then(|l| l.str(IFLA_INFO_KIND)),
        mac: a.get(IFLA_ADDRESS).filter(|m| !m.is_empty()).map(|m| {
            m.iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(":")
        }),
        mtu: a.u32(IFLA_MTU).unwrap_or(0),
        txqueuelen: a.u32(IFLA_TXQLEN).unwrap_or(0),
        operstate: operstate_name(a.u8(IFLA_OPERSTATE).unwrap_or(0)).to_string(),
        // As `carrier_show` in net/core/net-sysfs.c: no carrier state unless the device runs.
        carrier: a.u8(IFLA_CARRIER).map(|c| c != 0).filter(|_| up),
        carrier_changes: a.u32(IFLA_CARRIER_CHANGES),
        num_tx_queues: a.u32(IFLA_NUM_TX_QUEUES).unwrap_or(1),
        num_rx_queues: a.u32(IFLA_NUM_RX_QUEUES).unwrap_or(1),
    })
}

/// The `IFLA_LINK`/`IFLA_LINK_NETNSID` of one `RTM_NEWLINK` body, when it has a link.
fn parse_link_ref(body: &[u8]) -> Option<LinkRef> {
    let hdr = body.get(..IFINFOMSG_LEN)?;
    let ifindex = u32::from_ne_bytes(hdr[4..8].try_into().ok()?);
    let a = Attrs::new(&body[IFINFOMSG_LEN..]);
    let link = a.u32(IFLA_LINK).filter(|&l| l != ifindex)?;
    Some(LinkRef {
        ifindex,
        link,
        netnsid: a
            .get(IFLA_LINK_NETNSID)
            .and_then(|v| Some(i32::from_ne_bytes(v.get(..4)?.try_into().ok()?))),
    })
}

/// Parses one `RTM_NEWSTATS` body (`if_stats_msg` + attributes) into `(ifindex, counters)`.
fn parse_stats(body: &[u8]) -> Option<(u32, Counters)> {
    let hdr = body.get(..IF_STATS_MSG_LEN)?;
    let ifindex = u32::from_ne_bytes(hdr[4..8].try_into().ok()?);
    let s = Attrs::new(&body[IF_STATS_MSG_LEN..]).get(IFLA_STATS_LINK_64)?;
    Some((ifindex, counters_from_stats64(s)?))
}

/// Decodes `struct rtnl_link_stats64`; newer kernels append fields, which are ignored.
/// (The sampler's hot path: one length check, then plain loads.)
pub fn counters_from_stats64(s: &[u8]) -> Option<Counters> {
    // rx_nohandler (field 23) arrived in 4.6; older kernels send 23 fields.
    if s.len() < 23 * 8 {
        return None;
    }
    let mut v = [0u64; 24];
    for (d, c) in v.iter_mut().zip(s.chunks_exact(8)) {
        *d = u64::from_ne_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
    }
    Some(Counters {
        rx_packets: v[0],
        tx_packets: v[1],
        rx_bytes: v[2],
        tx_bytes: v[3],
        rx_errors: v[4],
        tx_errors: v[5],
        rx_dropped: v[6],
        tx_dropped: v[7],
        multicast: v[8],
        collisions: v[9],
        rx_length_errors: v[10],
        rx_over_errors: v[11],
        rx_crc_errors: v[12],
        rx_frame_errors: v[13],
        rx_fifo_errors: v[14],
        rx_missed_errors: v[15],
        tx_aborted_errors: v[16],
        tx_carrier_errors: v[17],
        tx_fifo_errors: v[18],
        tx_heartbeat_errors: v[19],
        tx_window_errors: v[20],
        rx_compressed: v[21],
        tx_compressed: v[22],
        rx_nohandler: v[23],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats64_fields_land_in_order() {
        let raw: Vec<u8> = (1..=25u64).flat_map(u64::to_ne_bytes).collect();
        let c = counters_from_stats64(&raw).expect("parse");
        assert_eq!(c.rx_packets, 1);
        assert_eq!(c.rx_bytes, 3);
        assert_eq!(c.rx_crc_errors, 13);
        assert_eq!(c.rx_fifo_errors, 15);
        assert_eq!(c.rx_missed_errors, 16);
        assert_eq!(c.rx_nohandler, 24);
        assert!(counters_from_stats64(&raw[..8 * 22]).is_none());
    }

    #[test]
    fn link_message_parses() {
        let mut hdr = [0u8; IFINFOMSG_LEN];
        hdr[4..8].copy_from_slice(&7u32.to_ne_bytes());
        hdr[8..12].copy_from_slice(&IFF_UP.to_ne_bytes());
        let mut b = AttrBuf::with_header(&hdr);
        b.str(IFLA_IFNAME, "veth0")
            .u32(IFLA_MTU, 9000)
            .u32(IFLA_TXQLEN, 1000)
            .u8(IFLA_OPERSTATE, 6)
            .put(IFLA_ADDRESS, &[0x02, 0, 0, 0, 0, 0x0a])
            .u8(IFLA_CARRIER, 1)
            .u32(IFLA_NUM_TX_QUEUES, 4)
            .begin(IFLA_LINKINFO)
            .str(IFLA_INFO_KIND, "veth")
            .end();
        let l = parse_link(b.bytes()).expect("parse");
        assert_eq!(l.ifindex, 7);
        assert_eq!(l.name, "veth0");
        assert_eq!(l.kind.as_deref(), Some("veth"));
        assert_eq!(l.mac.as_deref(), Some("02:00:00:00:00:0a"));
        assert_eq!((l.mtu, l.txqueuelen, l.num_tx_queues), (9000, 1000, 4));
        assert_eq!(l.operstate, "up");
        assert_eq!(l.carrier, Some(true));

        // An interface that is down (ifb0 after `ip link set down`) keeps IFLA_CARRIER 1;
        // the kernel's own view (sysfs) is that there is no carrier to speak of.
        hdr[8..12].copy_from_slice(&0u32.to_ne_bytes());
        let mut b = AttrBuf::with_header(&hdr);
        b.str(IFLA_IFNAME, "ifb0")
            .u8(IFLA_OPERSTATE, 2)
            .u8(IFLA_CARRIER, 1);
        let l = parse_link(b.bytes()).expect("parse");
        assert_eq!((l.operstate.as_str(), l.carrier), ("down", None));
    }

    #[test]
    fn link_ref_carries_the_peer_namespace() {
        let msg = |link: Option<u32>, nsid: Option<i32>| {
            let mut hdr = [0u8; IFINFOMSG_LEN];
            hdr[4..8].copy_from_slice(&7u32.to_ne_bytes());
            let mut b = AttrBuf::with_header(&hdr);
            b.str(IFLA_IFNAME, "a");
            if let Some(l) = link {
                b.u32(IFLA_LINK, l);
            }
            if let Some(n) = nsid {
                b.put(IFLA_LINK_NETNSID, &n.to_ne_bytes());
            }
            b.bytes().to_vec()
        };
        let r = parse_link_ref(&msg(Some(3), Some(0))).expect("a peer");
        assert_eq!((r.ifindex, r.link, r.netnsid), (7, 3, Some(0)));
        let r = parse_link_ref(&msg(Some(3), None)).expect("a local peer");
        assert_eq!(r.netnsid, None);
        // No IFLA_LINK, or a link to itself: no other end.
        assert_eq!(parse_link_ref(&msg(None, None)), None);
        assert_eq!(parse_link_ref(&msg(Some(7), None)), None);
    }

    #[test]
    fn live_loopback_has_counters() {
        // Reading links and stats needs no privilege; every Linux has lo.
        let mut r = Rtnl::open().expect("rtnetlink socket");
        let links = r.links().expect("link dump");
        let lo = links.iter().find(|l| l.name == "lo").expect("lo");
        let mut all = Vec::new();
        r.sample_all(&mut all).expect("stats dump");
        assert!(all.iter().any(|(i, _)| *i == lo.ifindex));
        let one = r.sample(lo.ifindex).expect("stats of lo");
        assert!(
            one.rx_packets
                >= all
                    .iter()
                    .find(|(i, _)| *i == lo.ifindex)
                    .map_or(0, |x| x.1.rx_packets)
        );
    }
}
