//! Header decoding: the flow a packet belongs to and its TCP fields.
//!
//! Ethernet (with any number of 802.1Q/802.1ad tags), Linux cooked captures (SLL and SLL2),
//! raw IP and BSD loopback, carrying IPv4 or IPv6 (hop-by-hop, routing, destination and
//! fragment extension headers skipped). TCP and UDP flows are 5-tuples; other IP protocols
//! are keyed by address pair and protocol; everything else by its ethertype. Headers cut by
//! the snapshot length degrade to the coarser key, never to an error.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::net::{Ipv4Addr, Ipv6Addr};

use super::reader::linktype;

/// IP protocol numbers.
pub const TCP: u8 = 6;
/// UDP.
pub const UDP: u8 = 17;

/// What a flow is keyed on. Unidirectional: the two directions of a connection are two flows
/// (bursts and TCP sequence numbers are per direction).
#[derive(Debug, Clone, Copy, Default)]
pub struct FlowKey {
    /// Source address (IPv4 in the first 4 bytes).
    pub src: [u8; 16],
    /// Destination address.
    pub dst: [u8; 16],
    /// Source port (0 when not TCP/UDP).
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// IP protocol (0 for non-IP).
    pub proto: u8,
    /// 4, 6, or 0 for non-IP traffic keyed by ethertype.
    pub ip: u8,
    /// Ethertype (for non-IP keys; [`UNKNOWN_LINK`] when the link type is not decoded).
    pub ethertype: u16,
}

impl FlowKey {
    /// The key as words: addresses as two 128-bit halves and the rest packed in one word.
    #[inline]
    fn words(&self) -> (u128, u128, u64) {
        (
            u128::from_ne_bytes(self.src),
            u128::from_ne_bytes(self.dst),
            u64::from(self.sport)
                | (u64::from(self.dport) << 16)
                | (u64::from(self.proto) << 32)
                | (u64::from(self.ip) << 40)
                | (u64::from(self.ethertype) << 48),
        )
    }
}

// Compared and hashed as words: the derived versions compare byte arrays through memcmp
// calls, which cost more than the rest of a flow lookup.
impl PartialEq for FlowKey {
    #[inline]
    fn eq(&self, o: &Self) -> bool {
        self.words() == o.words()
    }
}

impl Eq for FlowKey {}

impl Hash for FlowKey {
    #[inline]
    fn hash<H: Hasher>(&self, h: &mut H) {
        // One word for the hasher: the fields folded with rotations so that each lands on
        // different bits (IPv4 keys use the low 32 bits of each address half). The hasher's
        // final multiply spreads the result over the table's index and tag bits.
        let (s, d, rest) = self.words();
        let w = (s as u64)
            ^ ((s >> 64) as u64).rotate_left(11)
            ^ (d as u64).rotate_left(32)
            ^ ((d >> 64) as u64).rotate_left(43)
            ^ rest.rotate_left(21);
        h.write_u64(w);
    }
}

impl FlowKey {
    /// A non-IP key.
    pub fn ether(ethertype: u16) -> Self {
        Self {
            ethertype,
            ..Self::default()
        }
    }

    /// Protocol name for output.
    pub fn proto_name(&self) -> String {
        match (self.ip, self.proto) {
            (0, _) => ethertype_name(self.ethertype),
            (_, TCP) => "tcp".into(),
            (_, UDP) => "udp".into(),
            (_, 1) => "icmp".into(),
            (_, 58) => "icmpv6".into(),
            (_, 132) => "sctp".into(),
            (_, p) => format!("ip proto {p}"),
        }
    }

    fn addr(&self, b: &[u8; 16]) -> String {
        if self.ip == 4 {
            Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string()
        } else {
            Ipv6Addr::from(*b).to_string()
        }
    }

    /// Source address as text (empty for non-IP).
    pub fn src_addr(&self) -> String {
        if self.ip == 0 {
            String::new()
        } else {
            self.addr(&self.src)
        }
    }

    /// Destination address as text (empty for non-IP).
    pub fn dst_addr(&self) -> String {
        if self.ip == 0 {
            String::new()
        } else {
            self.addr(&self.dst)
        }
    }

    /// TCP or UDP with its ports read (port 0 is not valid on the wire, so 0/0 means the
    /// header was cut off by the snapshot length or the packet is a later fragment).
    fn has_ports(&self) -> bool {
        self.ip != 0 && matches!(self.proto, TCP | UDP) && (self.sport != 0 || self.dport != 0)
    }
}

impl fmt::Display for FlowKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ip == 0 {
            return write!(f, "{}", ethertype_name(self.ethertype));
        }
        let host = |a: String| if self.ip == 6 { format!("[{a}]") } else { a };
        if self.has_ports() {
            write!(
                f,
                "{}:{} > {}:{}",
                host(self.src_addr()),
                self.sport,
                host(self.dst_addr()),
                self.dport
            )
        } else {
            write!(f, "{} > {}", self.src_addr(), self.dst_addr())
        }
    }
}

/// Ethertype value used for packets of a link type the decoder does not know.
pub const UNKNOWN_LINK: u16 = 0xffff;

/// Name of an ethertype.
pub fn ethertype_name(t: u16) -> String {
    match t {
        0x0806 => "arp".into(),
        0x88cc => "lldp".into(),
        0x8808 => "pause/pfc".into(),
        0x8035 => "rarp".into(),
        0x88e5 => "macsec".into(),
        0x8915 => "roce v1".into(),
        0x8847 | 0x8848 => "mpls".into(),
        0x0800 => "ipv4 (undecoded)".into(),
        0x86dd => "ipv6 (undecoded)".into(),
        UNKNOWN_LINK => "unknown link type".into(),
        t if t < 0x0600 => "802.3/llc".into(),
        t => format!("ethertype {t:#06x}"),
    }
}

/// TCP fields the hints need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpInfo {
    /// Sequence number.
    pub seq: u32,
    /// Flags byte (FIN 0x01, SYN 0x02, RST 0x04, ACK 0x10).
    pub flags: u8,
    /// Window field (unscaled).
    pub window: u16,
    /// Payload bytes (from the IP length, so snap-cut packets count in full).
    pub payload: u32,
}

/// TCP flag bits.
pub mod flags {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// RST.
    pub const RST: u8 = 0x04;
}

#[inline]
fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

#[inline]
fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Decodes a packet's flow key and TCP fields.
#[inline]
pub fn decode(link: u16, d: &[u8]) -> (FlowKey, Option<TcpInfo>) {
    let (ethertype, off) = match link {
        linktype::ETHERNET => {
            if d.len() < 14 {
                return (FlowKey::ether(UNKNOWN_LINK), None);
            }
            let mut t = be16(d, 12);
            let mut o = 14;
            // 802.1Q, 802.1ad and the old QinQ value: 4 bytes each, any number of them.
            while matches!(t, 0x8100 | 0x88a8 | 0x9100) {
                if d.len() < o + 4 {
                    return (FlowKey::ether(t), None);
                }
                t = be16(d, o + 2);
                o += 4;
            }
            (t, o)
        }
        linktype::LINUX_SLL => {
            if d.len() < 16 {
                return (FlowKey::ether(UNKNOWN_LINK), None);
            }
            (be16(d, 14), 16)
        }
        linktype::LINUX_SLL2 => {
            if d.len() < 20 {
                return (FlowKey::ether(UNKNOWN_LINK), None);
            }
            (be16(d, 0), 20)
        }
        linktype::RAW | linktype::IPV4 | linktype::IPV6 => match d.first().map(|b| b >> 4) {
            Some(4) => (0x0800, 0),
            Some(6) => (0x86dd, 0),
            _ => (UNKNOWN_LINK, 0),
        },
        linktype::NULL => {
            if d.len() < 4 {
                return (FlowKey::ether(UNKNOWN_LINK), None);
            }
            // Address family in host order of the capturing machine: AF_INET is 2, AF_INET6
            // 10 (Linux), 24, 28 or 30 (BSDs); read both byte orders.
            let af = u32::from_le_bytes([d[0], d[1], d[2], d[3]]);
            let af = if af > 0xffff { af.swap_bytes() } else { af };
            match af {
                2 => (0x0800, 4),
                10 | 24 | 28 | 30 => (0x86dd, 4),
                _ => (UNKNOWN_LINK, 4),
            }
        }
        _ => return (FlowKey::ether(UNKNOWN_LINK), None),
    };
    match ethertype {
        0x0800 => ipv4(&d[off..]).unwrap_or((FlowKey::ether(0x0800), None)),
        0x86dd => ipv6(&d[off..]).unwrap_or((FlowKey::ether(0x86dd), None)),
        t => (FlowKey::ether(t), None),
    }
}

#[inline]
fn ipv4(d: &[u8]) -> Option<(FlowKey, Option<TcpInfo>)> {
    if d.len() < 20 || d[0] >> 4 != 4 {
        return None;
    }
    let ihl = usize::from(d[0] & 0x0f) * 4;
    if ihl < 20 {
        return None;
    }
    let total = usize::from(be16(d, 2));
    let proto = d[9];
    let mut k = FlowKey {
        ip: 4,
        proto,
        ethertype: 0x0800,
        ..FlowKey::default()
    };
    k.src[..4].copy_from_slice(&d[12..16]);
    k.dst[..4].copy_from_slice(&d[16..20]);
    // Only the first fragment carries the ports; later ones stay with the address pair.
    let frag_off = be16(d, 6) & 0x1fff;
    if frag_off != 0 || d.len() < ihl {
        return Some((k, None));
    }
    // TSO/GRO captures write 0 in the total length; fall back to what was captured.
    let l4_len = if total >= ihl {
        total - ihl
    } else {
        d.len() - ihl
    };
    Some(l4(k, &d[ihl..], l4_len))
}

#[inline]
fn ipv6(d: &[u8]) -> Option<(FlowKey, Option<TcpInfo>)> {
    if d.len() < 40 || d[0] >> 4 != 6 {
        return None;
    }
    let mut k = FlowKey {
        ip: 6,
        ethertype: 0x86dd,
        ..FlowKey::default()
    };
    k.src.copy_from_slice(&d[8..24]);
    k.dst.copy_from_slice(&d[24..40]);
    let payload = usize::from(be16(d, 4));
    let mut next = d[6];
    let mut o = 40;
    let mut len = if payload == 0 { d.len() - 40 } else { payload };
    loop {
        match next {
            0 | 43 | 60 => {
                if d.len() < o + 2 {
                    k.proto = next;
                    return Some((k, None));
                }
                let hl = (usize::from(d[o + 1]) + 1) * 8;
                next = d[o];
                o += hl;
                len = len.saturating_sub(hl);
            }
            44 => {
                if d.len() < o + 8 {
                    k.proto = next;
                    return Some((k, None));
                }
                let more_or_offset = be16(d, o + 2) & 0xfff8;
                next = d[o];
                o += 8;
                len = len.saturating_sub(8);
                if more_or_offset != 0 {
                    // A non-first fragment: no ports.
                    k.proto = next;
                    return Some((k, None));
                }
            }
            _ => break,
        }
    }
    k.proto = next;
    if d.len() < o {
        return Some((k, None));
    }
    Some(l4(k, &d[o..], len))
}

#[inline]
fn l4(mut k: FlowKey, d: &[u8], l4_len: usize) -> (FlowKey, Option<TcpInfo>) {
    match k.proto {
        TCP if d.len() >= 16 => {
            k.sport = be16(d, 0);
            k.dport = be16(d, 2);
            let doff = usize::from(d[12] >> 4) * 4;
            let tcp = TcpInfo {
                seq: be32(d, 4),
                flags: d[13],
                window: be16(d, 14),
                payload: l4_len.saturating_sub(doff) as u32,
            };
            (k, Some(tcp))
        }
        UDP | TCP if d.len() >= 4 => {
            k.sport = be16(d, 0);
            k.dport = be16(d, 2);
            (k, None)
        }
        _ => (k, None),
    }
}
