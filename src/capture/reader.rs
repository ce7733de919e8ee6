//! A zero-copy reader of pcap and pcapng files.
//!
//! Formats: classic pcap with microsecond (`a1b2c3d4`) and nanosecond (`a1b23c4d`) magic in
//! either byte order; pcapng (draft-ietf-opsawg-pcapng) with sections in either byte order,
//! interface description blocks with `if_tsresol` (powers of 10 and of 2), `if_tsoffset` and
//! `if_speed`, enhanced, simple and (obsolete) packet blocks. Other blocks are skipped.
//!
//! The reader walks a byte slice (usually a memory-mapped file, see [`Mapped`]) and yields
//! [`Packet`]s that borrow from it: nothing is allocated per packet. Malformed or truncated
//! input ends the iteration with a [`ReadError`] that carries the byte offset of the record at
//! fault; everything before it was valid and has been yielded.

use std::fs::File;
use std::path::Path;

/// Link types (LINKTYPE_* of tcpdump.org) the decoder understands.
pub mod linktype {
    /// BSD loopback (4-byte address family, host byte order).
    pub const NULL: u16 = 0;
    /// Ethernet.
    pub const ETHERNET: u16 = 1;
    /// Raw IP (version from the first nibble).
    pub const RAW: u16 = 101;
    /// Linux cooked capture v1.
    pub const LINUX_SLL: u16 = 113;
    /// Raw IPv4.
    pub const IPV4: u16 = 228;
    /// Raw IPv6.
    pub const IPV6: u16 = 229;
    /// Linux cooked capture v2.
    pub const LINUX_SLL2: u16 = 276;
}

/// Records longer than this are malformed, whatever the header says (libpcap's own limit for
/// its largest link types is 256 KiB; pcapng blocks carry jumbo frames at most).
pub const MAX_RECORD: u32 = 16 << 20;

/// A packet, borrowed from the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    /// Timestamp in nanoseconds since the Unix epoch.
    pub ts_ns: u64,
    /// Bytes on the wire.
    pub origlen: u32,
    /// Captured bytes (`data`).
    pub data: &'a [u8],
    /// Link type of the interface it was captured on.
    pub linktype: u16,
    /// Interface index within the file (0 for pcap).
    pub iface: u32,
}

/// What went wrong, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// The file does not start with a known magic number.
    #[error("not a pcap or pcapng file (magic {magic:#010x} at byte offset 0)")]
    NotCapture {
        /// The first four bytes, big-endian.
        magic: u32,
    },
    /// The file ends inside a header or record.
    #[error("truncated {what} at byte offset {offset}: {need} bytes needed, {have} left")]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Offset of the record.
        offset: u64,
        /// Bytes the record needs.
        need: u64,
        /// Bytes left in the file.
        have: u64,
    },
    /// Reading the file failed.
    #[error("read failed at byte offset {offset}: {why}")]
    Io {
        /// Offset of the read.
        offset: u64,
        /// The cause.
        why: String,
    },
    /// A header or record is inconsistent.
    #[error("malformed {what} at byte offset {offset}: {why}")]
    Malformed {
        /// What was being read.
        what: &'static str,
        /// Offset of the record.
        offset: u64,
        /// Why it is rejected.
        why: String,
    },
}

impl ReadError {
    /// Byte offset of the fault.
    pub fn offset(&self) -> u64 {
        match self {
            Self::NotCapture { .. } => 0,
            Self::Truncated { offset, .. }
            | Self::Malformed { offset, .. }
            | Self::Io { offset, .. } => *offset,
        }
    }

    /// The error with its offset moved by `base` (the file offset of the window read).
    fn rebased(mut self, base: u64) -> Self {
        match &mut self {
            Self::NotCapture { .. } => {}
            Self::Truncated { offset, .. }
            | Self::Malformed { offset, .. }
            | Self::Io { offset, .. } => *offset += base,
        }
        self
    }
}

/// File format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Classic pcap.
    Pcap,
    /// pcapng.
    Pcapng,
}

/// Timestamp unit conversion to nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TsConv {
    /// ticks * n
    Mul(u64),
    /// ticks / n
    Div(u64),
    /// ticks * 1e9 / 2^n
    Shift(u32),
}

impl TsConv {
    /// From an `if_tsresol` value.
    fn from_tsresol(v: u8) -> Self {
        if v & 0x80 == 0 {
            let e = u32::from(v);
            if e <= 9 {
                Self::Mul(10u64.pow(9 - e))
            } else {
                // 10^-19 and below overflow u64 as a divisor; such clocks do not exist.
                Self::Div(10u64.saturating_pow(e - 9))
            }
        } else {
            Self::Shift(u32::from(v & 0x7f))
        }
    }

    #[inline]
    fn ns(self, ticks: u64) -> u64 {
        match self {
            Self::Mul(m) => ticks.wrapping_mul(m),
            Self::Div(d) => ticks / d,
            Self::Shift(s) => {
                let v = (u128::from(ticks) * 1_000_000_000) >> s.min(127);
                v as u64
            }
        }
    }
}

/// An interface of a pcapng section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IfaceInfo {
    /// Link type.
    pub linktype: u16,
    /// Snapshot length (0 = unlimited).
    pub snaplen: u32,
    /// `if_speed` in bits per second, when the file says.
    pub speed_bps: Option<u64>,
    conv: TsConv,
    offset_ns: u64,
}

impl IfaceInfo {
    fn new(linktype: u16, snaplen: u32) -> Self {
        Self {
            linktype,
            snaplen,
            speed_bps: None,
            conv: TsConv::Mul(1_000),
            offset_ns: 0,
        }
    }
}

#[inline]
fn rd16(b: &[u8], at: usize, be: bool) -> u16 {
    let v = [b[at], b[at + 1]];
    if be {
        u16::from_be_bytes(v)
    } else {
        u16::from_le_bytes(v)
    }
}

#[inline]
fn rd32(b: &[u8], at: usize, be: bool) -> u32 {
    let v = [b[at], b[at + 1], b[at + 2], b[at + 3]];
    if be {
        u32::from_be_bytes(v)
    } else {
        u32::from_le_bytes(v)
    }
}

fn rd64(b: &[u8], at: usize, be: bool) -> u64 {
    let mut v = [0u8; 8];
    v.copy_from_slice(&b[at..at + 8]);
    if be {
        u64::from_be_bytes(v)
    } else {
        u64::from_le_bytes(v)
    }
}

const PCAPNG_SHB: u32 = 0x0A0D_0D0A;
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;

#[derive(Debug, Clone)]
enum Kind {
    Pcap {
        be: bool,
        nano: bool,
        linktype: u16,
    },
    Pcapng {
        be: bool,
        ifaces: Vec<IfaceInfo>,
        /// Index of the first interface of the current section in `all_ifaces` numbering.
        base: u32,
        /// Interfaces seen in earlier sections (to number interfaces file-wide).
        earlier: u32,
    },
}

/// Reader over the bytes of a capture file, or over a window of them (see [`Stream`]).
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    kind: Kind,
    done: bool,
    /// Link speed from the first `if_speed` option seen, if any.
    speed_bps: Option<u64>,
    /// File offset of `buf[0]`.
    base: u64,
    /// The file goes on past `buf`: running out of bytes is not the end.
    more: bool,
    /// Stopped at the end of `buf` with `more` set: the window needs the next bytes.
    starved: bool,
}

impl ReaderState {
    /// A reader that has nothing more to give.
    pub fn finished() -> Self {
        Self {
            pos: 0,
            kind: Kind::Pcap {
                be: false,
                nano: false,
                linktype: 0,
            },
            done: true,
            speed_bps: None,
            base: 0,
            starved: false,
        }
    }

    /// Bytes of the window consumed.
    pub fn consumed(&self) -> usize {
        self.pos
    }

    /// The window now starts at file offset `base`, right at the reader's position.
    pub fn moved(&mut self, base: u64) {
        self.base = base;
        self.pos = 0;
        self.starved = false;
    }

    /// Bytes of the file consumed (for progress).
    pub fn position(&self) -> usize {
        self.base as usize + self.pos
    }

    /// The file format.
    pub fn format(&self) -> Format {
        match self.kind {
            Kind::Pcap { .. } => Format::Pcap,
            Kind::Pcapng { .. } => Format::Pcapng,
        }
    }
}

/// Where a [`Reader`] stands, kept while its window is refilled.
#[derive(Debug, Clone)]
pub struct ReaderState {
    pos: usize,
    kind: Kind,
    done: bool,
    speed_bps: Option<u64>,
    base: u64,
    starved: bool,
}

impl<'a> Reader<'a> {
    /// Reads the file header (pcap) or first section header (pcapng).
    pub fn new(buf: &'a [u8]) -> Result<Self, ReadError> {
        if buf.len() < 4 {
            return Err(ReadError::Truncated {
                what: "file header",
                offset: 0,
                need: 24,
                have: buf.len() as u64,
            });
        }
        let magic = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
        let pcap = match magic {
            0xa1b2_c3d4 => Some((true, false)),
            0xd4c3_b2a1 => Some((false, false)),
            0xa1b2_3c4d => Some((true, true)),
            0x4d3c_b2a1 => Some((false, true)),
            _ => None,
        };
        if let Some((be, nano)) = pcap {
            if buf.len() < 24 {
                return Err(ReadError::Truncated {
                    what: "pcap file header",
                    offset: 0,
                    need: 24,
                    have: buf.len() as u64,
                });
            }
            let major = rd16(buf, 4, be);
            if major != 2 {
                return Err(ReadError::Malformed {
                    what: "pcap file header",
                    offset: 0,
                    why: format!("version {major} (only 2 exists)"),
                });
            }
            // The upper bits of the link-type field carry FCS information (pcap spec 4.1).
            let linktype = (rd32(buf, 20, be) & 0x0fff_ffff) as u16;
            return Ok(Self {
                buf,
                pos: 24,
                kind: Kind::Pcap { be, nano, linktype },
                done: false,
                speed_bps: None,
                base: 0,
                more: false,
                starved: false,
            });
        }
        if magic == PCAPNG_SHB {
            let mut r = Self {
                buf,
                pos: 0,
                kind: Kind::Pcapng {
                    be: false,
                    ifaces: Vec::new(),
                    base: 0,
                    earlier: 0,
                },
                done: false,
                speed_bps: None,
                base: 0,
                more: false,
                starved: false,
            };
            // Read the SHB (and any IDBs before the first packet) now, so that header errors
            // surface here and the link speed is known before analysis starts.
            r.section_header()?;
            return Ok(r);
        }
        Err(ReadError::NotCapture { magic })
    }

    /// The format.
    pub fn format(&self) -> Format {
        match self.kind {
            Kind::Pcap { .. } => Format::Pcap,
            Kind::Pcapng { .. } => Format::Pcapng,
        }
    }

    /// Continues a reader on a new window: `buf` starts at the file offset `state.base`
    /// and the file goes on past it when `more`.
    pub fn resume(buf: &'a [u8], state: ReaderState, more: bool) -> Self {
        Self {
            buf,
            pos: state.pos,
            kind: state.kind,
            done: state.done,
            speed_bps: state.speed_bps,
            base: state.base,
            more,
            starved: state.starved,
        }
    }

    /// Where the reader stands, to [`resume`](Self::resume) it on the next window.
    pub fn state(self) -> ReaderState {
        ReaderState {
            pos: self.pos,
            kind: self.kind,
            done: self.done,
            speed_bps: self.speed_bps,
            base: self.base,
            starved: self.starved,
        }
    }

    /// True when the reader stopped at the end of its window and the file goes on.
    pub fn starved(&self) -> bool {
        self.starved
    }

    /// Bytes consumed so far (for progress).
    pub fn position(&self) -> usize {
        self.base as usize + self.pos
    }

    /// Total size of the input.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// True when the input is empty.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Link speed declared by the file (`if_speed` of the first interface that has one).
    pub fn speed_bps(&self) -> Option<u64> {
        self.speed_bps
    }

    /// Timestamp resolution of the pcap file, or of the first interface of a pcapng file,
    /// in nanoseconds per tick (1 for nanosecond files, 1000 for microsecond ones).
    pub fn tick_ns(&self) -> f64 {
        match &self.kind {
            Kind::Pcap { nano, .. } => {
                if *nano {
                    1.0
                } else {
                    1000.0
                }
            }
            Kind::Pcapng { ifaces, .. } => match ifaces.first().map(|i| i.conv) {
                Some(TsConv::Mul(m)) => m as f64,
                Some(TsConv::Div(d)) => 1.0 / d as f64,
                Some(TsConv::Shift(s)) => 1e9 / f64::powi(2.0, s as i32),
                None => 1000.0,
            },
        }
    }

    fn truncated(&self, what: &'static str, at: usize, need: usize) -> ReadError {
        ReadError::Truncated {
            what,
            offset: at as u64,
            need: need as u64,
            have: (self.buf.len() - at) as u64,
        }
    }

    /// The next packet; `Ok(None)` at the clean end of the file. After an error the reader
    /// returns `Ok(None)` forever.
    // Always inlined into the analysis loop (the compiler declined a plain `#[inline]`):
    // the packet then stays in registers instead of being returned through memory.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    pub fn next_packet(&mut self) -> Result<Option<Packet<'a>>, ReadError> {
        if self.done || self.starved {
            return Ok(None);
        }
        let r = match self.kind {
            Kind::Pcap { be, nano, linktype } => self.next_pcap(be, nano, linktype),
            Kind::Pcapng { .. } => self.next_pcapng(),
        };
        match r {
            Ok(Some(_)) => r,
            // The window ends inside or right before a record: the rest is in the next one.
            // Nothing was consumed, the record starts again from `pos`.
            Ok(None) | Err(ReadError::Truncated { .. }) if self.more => {
                self.starved = true;
                Ok(None)
            }
            Ok(None) => {
                self.done = true;
                r
            }
            Err(e) => {
                self.done = true;
                Err(e.rebased(self.base))
            }
        }
    }

    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn next_pcap(
        &mut self,
        be: bool,
        nano: bool,
        linktype: u16,
    ) -> Result<Option<Packet<'a>>, ReadError> {
        let at = self.pos;
        let buf = self.buf;
        if at == buf.len() {
            return Ok(None);
        }
        if buf.len() - at < 16 {
            return Err(self.truncated("packet record header", at, 16));
        }
        let sec = u64::from(rd32(buf, at, be));
        let frac = u64::from(rd32(buf, at + 4, be));
        let incl = rd32(buf, at + 8, be);
        let orig = rd32(buf, at + 12, be);
        if incl > MAX_RECORD {
            return Err(ReadError::Malformed {
                what: "packet record",
                offset: at as u64,
                why: format!("captured length {incl} is larger than any link allows"),
            });
        }
        let start = at + 16;
        let end = start + incl as usize;
        if end > buf.len() {
            return Err(self.truncated("packet record", at, 16 + incl as usize));
        }
        self.pos = end;
        let ts_ns = sec * 1_000_000_000 + if nano { frac } else { frac * 1_000 };
        Ok(Some(Packet {
            ts_ns,
            origlen: orig.max(incl),
            data: &buf[start..end],
            linktype,
            iface: 0,
        }))
    }

    /// Reads a section header block at `self.pos`; sets the byte order and forgets the
    /// interfaces of the previous section.
    fn section_header(&mut self) -> Result<(), ReadError> {
        let at = self.pos;
        let buf = self.buf;
        if buf.len() - at < 28 {
            return Err(self.truncated("pcapng section header block", at, 28));
        }
        let be = match u32::from_le_bytes([buf[at + 8], buf[at + 9], buf[at + 10], buf[at + 11]]) {
            BYTE_ORDER_MAGIC => false,
            0x4D3C_2B1A => true,
            m => {
                return Err(ReadError::Malformed {
                    what: "pcapng section header block",
                    offset: at as u64,
                    why: format!("byte-order magic {m:#010x}"),
                })
            }
        };
        let len = rd32(buf, at + 4, be) as usize;
        let major = rd16(buf, at + 12, be);
        if major != 1 {
            return Err(ReadError::Malformed {
                what: "pcapng section header block",
                offset: at as u64,
                why: format!("version {major} (only 1 exists)"),
            });
        }
        self.check_block_len(at, len, 28, "pcapng section header block")?;
        if let Kind::Pcapng {
            be: b,
            ifaces,
            base,
            earlier,
        } = &mut self.kind
        {
            *b = be;
            *earlier += ifaces.len() as u32;
            *base = *earlier;
            ifaces.clear();
        }
        self.pos = at + len;
        Ok(())
    }

    fn check_block_len(
        &self,
        at: usize,
        len: usize,
        min: usize,
        what: &'static str,
    ) -> Result<(), ReadError> {
        if len < min || !len.is_multiple_of(4) || len > MAX_RECORD as usize {
            return Err(ReadError::Malformed {
                what,
                offset: at as u64,
                why: format!("block length {len}"),
            });
        }
        if len > self.buf.len() - at {
            return Err(self.truncated(what, at, len));
        }
        Ok(())
    }

    fn next_pcapng(&mut self) -> Result<Option<Packet<'a>>, ReadError> {
        let buf = self.buf;
        loop {
            let at = self.pos;
            if at == buf.len() {
                return Ok(None);
            }
            let Kind::Pcapng { be, .. } = self.kind else {
                return Ok(None);
            };
            if buf.len() - at < 12 {
                return Err(self.truncated("pcapng block header", at, 12));
            }
            let ty = rd32(buf, at, be);
            if ty == PCAPNG_SHB {
                self.section_header()?;
                continue;
            }
            let len = rd32(buf, at + 4, be) as usize;
            self.check_block_len(at, len, 12, "pcapng block")?;
            // The trailing length must repeat the leading one; a mismatch means the block
            // boundaries cannot be trusted.
            let trail = rd32(buf, at + len - 4, be) as usize;
            if trail != len {
                return Err(ReadError::Malformed {
                    what: "pcapng block",
                    offset: at as u64,
                    why: format!("trailing length {trail} differs from leading length {len}"),
                });
            }
            let body = &buf[at + 8..at + len - 4];
            self.pos = at + len;
            match ty {
                1 => self.interface_block(at, body, be)?,
                6 => {
                    if body.len() < 20 {
                        return Err(malformed_short("enhanced packet block", at));
                    }
                    let id = rd32(body, 0, be);
                    let ticks = (u64::from(rd32(body, 4, be)) << 32) | u64::from(rd32(body, 8, be));
                    let cap = rd32(body, 12, be);
                    let orig = rd32(body, 16, be);
                    return self.packet(
                        at,
                        "enhanced packet block",
                        body,
                        20,
                        id,
                        ticks,
                        cap,
                        orig,
                    );
                }
                2 => {
                    if body.len() < 20 {
                        return Err(malformed_short("packet block", at));
                    }
                    let id = u32::from(rd16(body, 0, be));
                    let ticks = (u64::from(rd32(body, 4, be)) << 32) | u64::from(rd32(body, 8, be));
                    let cap = rd32(body, 12, be);
                    let orig = rd32(body, 16, be);
                    return self.packet(at, "packet block", body, 20, id, ticks, cap, orig);
                }
                3 => {
                    if body.len() < 4 {
                        return Err(malformed_short("simple packet block", at));
                    }
                    let orig = rd32(body, 0, be);
                    let Kind::Pcapng { ifaces, base, .. } = &self.kind else {
                        return Ok(None);
                    };
                    let Some(iface) = ifaces.first() else {
                        return Err(ReadError::Malformed {
                            what: "simple packet block",
                            offset: at as u64,
                            why: "no interface described before it".into(),
                        });
                    };
                    // An SPB has no captured length: it is the original length cut to the
                    // snapshot length, padded to 32 bits.
                    let mut cap = (body.len() - 4) as u32;
                    cap = cap.min(orig);
                    if iface.snaplen != 0 {
                        cap = cap.min(iface.snaplen);
                    }
                    return Ok(Some(Packet {
                        // SPBs carry no timestamp.
                        ts_ns: 0,
                        origlen: orig.max(cap),
                        data: &body[4..4 + cap as usize],
                        linktype: iface.linktype,
                        iface: *base,
                    }));
                }
                _ => {} // NRB, ISB, DSB, custom and unknown blocks: nothing to count.
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn packet(
        &self,
        at: usize,
        what: &'static str,
        body: &'a [u8],
        hdr: usize,
        id: u32,
        ticks: u64,
        cap: u32,
        orig: u32,
    ) -> Result<Option<Packet<'a>>, ReadError> {
        let Kind::Pcapng { ifaces, base, .. } = &self.kind else {
            return Ok(None);
        };
        let Some(iface) = ifaces.get(id as usize) else {
            return Err(ReadError::Malformed {
                what,
                offset: at as u64,
                why: format!("interface {id} was not described in this section"),
            });
        };
        if cap as usize > body.len() - hdr {
            return Err(ReadError::Malformed {
                what,
                offset: at as u64,
                why: format!(
                    "captured length {cap} exceeds the block ({} bytes of data)",
                    body.len() - hdr
                ),
            });
        }
        Ok(Some(Packet {
            ts_ns: iface.conv.ns(ticks).wrapping_add(iface.offset_ns),
            origlen: orig.max(cap),
            data: &body[hdr..hdr + cap as usize],
            linktype: iface.linktype,
            iface: base + id,
        }))
    }

    fn interface_block(&mut self, at: usize, body: &[u8], be: bool) -> Result<(), ReadError> {
        const WHAT: &str = "pcapng interface description block";
        if body.len() < 8 {
            return Err(malformed_short(WHAT, at));
        }
        let mut info = IfaceInfo::new(rd16(body, 0, be), rd32(body, 4, be));
        let mut o = 8;
        while o + 4 <= body.len() {
            let code = rd16(body, o, be);
            let olen = rd16(body, o + 2, be) as usize;
            let v = o + 4;
            if v + olen > body.len() {
                return Err(ReadError::Malformed {
                    what: WHAT,
                    offset: at as u64,
                    why: format!("option {code} of {olen} bytes overruns the block"),
                });
            }
            match (code, olen) {
                (0, _) => break,
                (8, 8) => info.speed_bps = Some(rd64(body, v, be)),
                (9, 1) => info.conv = TsConv::from_tsresol(body[v]),
                (14, 8) => {
                    // if_tsoffset: seconds added to every timestamp.
                    info.offset_ns = rd64(body, v, be).wrapping_mul(1_000_000_000);
                }
                _ => {}
            }
            o = v + olen.div_ceil(4) * 4;
        }
        if self.speed_bps.is_none() {
            self.speed_bps = info.speed_bps;
        }
        if let Kind::Pcapng { ifaces, .. } = &mut self.kind {
            ifaces.push(info);
        }
        Ok(())
    }
}

fn malformed_short(what: &'static str, at: usize) -> ReadError {
    ReadError::Malformed {
        what,
        offset: at as u64,
        why: "block too short for its fixed fields".into(),
    }
}

/// Bytes of a window read at once from a capture file.
const WINDOW: usize = 4 << 20;

/// A capture file (or a pipe) read in windows with plain reads, never mapped: a file
/// truncated while it is read ends in a [`ReadError::Truncated`] at the offset where it now
/// ends, where a mapped file would die of SIGBUS. A window is reused, so memory stays at
/// about [`WINDOW`] bytes (more only for a record longer than that, up to [`MAX_RECORD`]);
/// copying from the page cache costs about what the page faults of a mapping cost.
#[derive(Debug)]
pub struct Stream {
    file: File,
    /// Allocated (and zeroed) once, grown only for a record longer than it; the window is
    /// `buf[start..end]`.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    base: u64,
    eof: bool,
    size: u64,
}

impl Stream {
    /// Opens a regular file or a pipe (a device, a directory or a socket is refused) and
    /// reads its first window.
    pub fn open(path: &Path) -> std::io::Result<Self> {
        use std::os::unix::fs::FileTypeExt as _;
        let file = File::open(path)?;
        let meta = file.metadata()?;
        let ft = meta.file_type();
        if !(ft.is_file() || ft.is_fifo()) {
            let what = if ft.is_dir() {
                "a directory"
            } else if ft.is_char_device() {
                "a character device"
            } else if ft.is_block_device() {
                "a block device"
            } else {
                "a socket"
            };
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("is {what}, not a regular file or a pipe"),
            ));
        }
        let size = if ft.is_file() { meta.len() } else { 0 };
        // A small file needs no 4 MiB window.
        let first = if ft.is_file() {
            (size as usize).clamp(1, WINDOW)
        } else {
            WINDOW
        };
        let mut s = Self {
            file,
            buf: vec![0; first],
            start: 0,
            end: 0,
            base: 0,
            eof: false,
            size,
        };
        s.fill()?;
        Ok(s)
    }

    /// The bytes read and not yet consumed; they start at file offset [`base`](Self::base).
    pub fn window(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// File offset of the window's first byte.
    pub fn base(&self) -> u64 {
        self.base
    }

    /// True until the end of the file has been read.
    pub fn more(&self) -> bool {
        !self.eof
    }

    /// Size of a regular file when opened (0 for a pipe), for progress.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Drops the first `consumed` bytes of the window and reads on; with nothing consumed
    /// (a record longer than the window) the window doubles.
    pub fn refill(&mut self, consumed: usize) -> std::io::Result<()> {
        let consumed = consumed.min(self.end - self.start);
        self.start += consumed;
        self.base += consumed as u64;
        // The unconsumed tail (part of one record) moves to the front.
        self.buf.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
        if consumed == 0 || self.buf.len() < WINDOW {
            let grown = (self.buf.len() * 2).max(WINDOW);
            self.buf.resize(grown, 0);
        }
        self.fill()
    }

    /// Reads until the window is full or the file ends.
    fn fill(&mut self) -> std::io::Result<()> {
        use std::io::Read as _;
        while !self.eof && self.end < self.buf.len() {
            match self.file.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// A reader of the file header at the start of the stream, as a state to
    /// [`Reader::resume`] (the window grows while the header does not fit).
    pub fn start(&mut self) -> Result<ReaderState, ReadError> {
        loop {
            match Reader::new(self.window()) {
                Ok(r) => return Ok(r.state()),
                Err(ReadError::Truncated { .. }) if self.more() => {
                    self.refill(0).map_err(|e| ReadError::Io {
                        offset: self.base + self.end as u64,
                        why: e.to_string(),
                    })?;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// A capture file mapped into memory.
#[derive(Debug)]
pub struct Mapped {
    map: Option<memmap2::Mmap>,
}

impl Mapped {
    /// Maps `path` read-only. An empty file maps to an empty slice.
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let file = File::open(path)?;
        if file.metadata()?.len() == 0 {
            // mmap of length 0 fails with EINVAL; an empty file is an empty slice.
            return Ok(Self { map: None });
        }
        Ok(Self {
            map: Some(map_file(&file)?),
        })
    }

    /// The bytes.
    pub fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }
}

/// Maps a file read-only.
#[allow(unsafe_code)]
fn map_file(file: &File) -> std::io::Result<memmap2::Mmap> {
    // SAFETY: memmap2 requires that the mapped file not change while the slice is alive, or
    // the bytes change under Rust's feet. dpuctl maps read-only and private and never writes
    // through the map. Bytes another process appends (a capture still being written) lie
    // beyond the mapped length and are simply not seen. Bytes rewritten in place by another
    // process break that promise (formally undefined behaviour); in practice the parser
    // copies each field into a local once and bounds-checks it against the slice before use,
    // so changed bytes give different values or a parse error. A file truncated
    // while mapped is the one case not guarded: touching a page past the new end raises
    // SIGBUS and the process dies with that signal. Guarding would need a SIGBUS handler with
    // siglongjmp or copying the whole file; neither is worth it for a capture file someone
    // truncates during its own analysis, and the outcome is a crash, not a wrong result.
    unsafe { memmap2::MmapOptions::new().map(file) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsresol_powers_of_ten_and_two() {
        assert_eq!(TsConv::from_tsresol(6).ns(5), 5_000);
        assert_eq!(TsConv::from_tsresol(9).ns(5), 5);
        assert_eq!(TsConv::from_tsresol(3).ns(2), 2_000_000);
        assert_eq!(TsConv::from_tsresol(12).ns(5_000), 5);
        // 2^-10 s per tick: 1024 ticks = 1 s.
        assert_eq!(TsConv::from_tsresol(0x80 | 0x0a).ns(1024), 1_000_000_000);
        assert_eq!(TsConv::from_tsresol(0x80 | 0x1e).ns(1 << 29), 500_000_000);
    }

    #[test]
    fn short_inputs_are_errors_not_panics() {
        assert!(matches!(
            Reader::new(&[]),
            Err(ReadError::Truncated { offset: 0, .. })
        ));
        assert!(matches!(
            Reader::new(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0]),
            Err(ReadError::Truncated { offset: 0, .. })
        ));
        assert!(matches!(
            Reader::new(b"hello world, not a capture"),
            Err(ReadError::NotCapture { .. })
        ));
    }
}
