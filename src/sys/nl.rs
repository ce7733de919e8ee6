//! A small synchronous netlink codec over `netlink-sys` sockets: message framing, requests and
//! dumps with acks and extended-ack error strings, and attribute (TLV) building and parsing.
//!
//! The typed `netlink-packet-*` crates model the messages they know; neither the ethtool
//! generic-netlink family nor `RTM_GETSTATS` is among them, so dpuctl encodes these itself.
//! Layout follows include/uapi/linux/netlink.h and Documentation/userspace-api/netlink/intro.rst.

use std::io;

use netlink_sys::{protocols, Socket, SocketAddr};

/// `NLM_F_REQUEST`.
pub const F_REQUEST: u16 = 0x1;
/// `NLM_F_ACK`.
pub const F_ACK: u16 = 0x4;
/// `NLM_F_DUMP` (`NLM_F_ROOT | NLM_F_MATCH`).
pub const F_DUMP: u16 = 0x300;
/// `NLM_F_ACK_TLVS`: the error message carries extended-ack attributes.
const F_ACK_TLVS: u16 = 0x200;
/// `NLM_F_CAPPED`: the error message carries only the header of the request.
const F_CAPPED: u16 = 0x100;

const NLMSG_NOOP: u16 = 1;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLMSG_OVERRUN: u16 = 4;
const NLMSGERR_ATTR_MSG: u16 = 1;
const HDR_LEN: usize = 16;
/// Receive buffer: larger than any datagram the kernel sends (dump batches are at most a few
/// tens of KiB), so one `recv` per datagram suffices; a larger one is reported, not cut.
const RECV_BUF: usize = 1 << 20;

/// A receive length for sockets that dump often (the counter sampler): the kernel sizes each
/// dump datagram to the largest receive buffer the socket has been given (up to 32 KiB),
/// and a 32 KiB datagram is a multi-page allocation per dump; this one fits the kernel's
/// 8 KiB slab with the skb's shared info (320 bytes on `x86_64`, up to 512 elsewhere) and
/// holds about 30 counter messages. Larger dumps come in several datagrams.
pub const RECV_LEN_SLAB: usize = 8192 - 512;

/// `NLA_F_NESTED`.
pub const NLA_F_NESTED: u16 = 1 << 15;
const NLA_TYPE_MASK: u16 = !(NLA_F_NESTED | (1 << 14));

/// A netlink failure.
#[derive(Debug, thiserror::Error)]
pub enum NlError {
    /// The socket failed.
    #[error("netlink socket: {0}")]
    Io(#[from] io::Error),
    /// The kernel refused the request.
    #[error("{}", kernel_msg(*errno, msg.as_deref()))]
    Kernel {
        /// Positive errno.
        errno: i32,
        /// Extended-ack message, when the kernel gave one.
        msg: Option<String>,
    },
    /// A reply did not parse.
    #[error("malformed netlink reply: {0}")]
    Malformed(String),
}

fn kernel_msg(errno: i32, msg: Option<&str>) -> String {
    let os = io::Error::from_raw_os_error(errno).to_string();
    // Drop the "(os error N)" suffix: users want the words, scripts get the errno from JSON.
    let os = os.split(" (os error").next().unwrap_or(&os).to_string();
    match msg {
        Some(m) if !m.is_empty() => format!("{os}: {m}"),
        _ => os,
    }
}

impl NlError {
    /// The errno, when the kernel refused the request.
    pub fn errno(&self) -> Option<i32> {
        match self {
            NlError::Kernel { errno, .. } => Some(*errno),
            NlError::Io(e) => e.raw_os_error(),
            NlError::Malformed(_) => None,
        }
    }

    /// True for "operation not supported" answers (`EOPNOTSUPP`, `ENOTSUPP`).
    pub fn is_unsupported(&self) -> bool {
        // 524 is the kernel-internal ENOTSUPP, which some drivers leak to user space.
        matches!(self.errno(), Some(libc::EOPNOTSUPP | 524))
    }

    /// True for permission answers (`EPERM`, `EACCES`).
    pub fn is_permission(&self) -> bool {
        matches!(self.errno(), Some(libc::EPERM | libc::EACCES))
    }
}

/// A netlink socket that sends one request at a time and collects the replies.
pub struct NlSocket {
    sock: Socket,
    seq: u32,
    /// The receive buffer; its length is what each `recv` offers the kernel.
    buf: Vec<u8>,
}

/// Which netlink protocol a socket speaks.
#[derive(Debug, Clone, Copy)]
pub enum Proto {
    /// `NETLINK_ROUTE`.
    Route,
    /// `NETLINK_GENERIC`.
    Generic,
    /// `NETLINK_RDMA` (the RDMA core's families, `include/uapi/rdma/rdma_netlink.h`).
    Rdma,
}

impl NlSocket {
    /// Opens and binds a socket.
    pub fn open(proto: Proto) -> Result<Self, NlError> {
        Self::open_with_recv_len(proto, RECV_BUF)
    }

    /// Opens and binds a socket that offers the kernel `recv_len` bytes per `recv` (see
    /// [`RECV_LEN_SLAB`]). A reply datagram larger than that is an error, never cut; dumps
    /// are split by the kernel to fit.
    pub fn open_with_recv_len(proto: Proto, recv_len: usize) -> Result<Self, NlError> {
        let p = match proto {
            Proto::Route => protocols::NETLINK_ROUTE,
            Proto::Generic => protocols::NETLINK_GENERIC,
            Proto::Rdma => protocols::NETLINK_RDMA,
        };
        let mut sock = Socket::new(p)?;
        sock.bind(&SocketAddr::new(0, 0))?;
        // Error strings from the kernel make failures self-explaining; capped acks keep them small.
        let _ = sock.set_ext_ack(true);
        let _ = sock.set_cap_ack(true);
        Ok(Self {
            sock,
            seq: 1,
            buf: vec![0; recv_len.max(4096)],
        })
    }

    /// Sends one request and returns the payloads of the data messages of the reply, each with
    /// its message type. With `F_DUMP` in `flags` it reads until `NLMSG_DONE`; otherwise it
    /// asks for an ack and reads until it.
    pub fn request(
        &mut self,
        msg_type: u16,
        flags: u16,
        payload: &[u8],
    ) -> Result<Vec<(u16, Vec<u8>)>, NlError> {
        let mut out = Vec::new();
        self.request_each(msg_type, flags, payload, |t, p| {
            out.push((t, p.to_vec()));
            Ok(())
        })?;
        Ok(out)
    }

    /// Like [`NlSocket::request`] but hands each data payload to `each` without copying; the
    /// hot path of the counter sampler.
    pub fn request_each(
        &mut self,
        msg_type: u16,
        flags: u16,
        payload: &[u8],
        each: impl FnMut(u16, &[u8]) -> Result<(), NlError>,
    ) -> Result<(), NlError> {
        self.exchange(msg_type, flags, payload, true, each)
    }

    /// A single-message query (a `GET` of one object): no ack is asked for, since the reply
    /// itself, or an error, answers it; returns the reply's payload. Two system calls instead
    /// of the four a request with an ack costs.
    pub fn get(&mut self, msg_type: u16, flags: u16, payload: &[u8]) -> Result<Vec<u8>, NlError> {
        let mut out = None;
        self.exchange(msg_type, flags, payload, false, |_, body| {
            out = Some(body.to_vec());
            Ok(())
        })?;
        out.ok_or_else(|| NlError::Malformed("no reply message".into()))
    }

    fn exchange(
        &mut self,
        msg_type: u16,
        flags: u16,
        payload: &[u8],
        ack: bool,
        mut each: impl FnMut(u16, &[u8]) -> Result<(), NlError>,
    ) -> Result<(), NlError> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let dump = flags & F_DUMP == F_DUMP;
        let flags = F_REQUEST | flags | if dump || !ack { 0 } else { F_ACK };
        let mut msg = Vec::with_capacity(HDR_LEN + payload.len());
        let len = u32::try_from(HDR_LEN + payload.len())
            .map_err(|_| NlError::Malformed("request too large".into()))?;
        msg.extend_from_slice(&len.to_ne_bytes());
        msg.extend_from_slice(&msg_type.to_ne_bytes());
        msg.extend_from_slice(&flags.to_ne_bytes());
        msg.extend_from_slice(&seq.to_ne_bytes());
        msg.extend_from_slice(&0u32.to_ne_bytes());
        msg.extend_from_slice(payload);
        self.sock.send(&msg, 0)?;

        loop {
            // MSG_TRUNC makes recv return the datagram's full size, so a cut one is noticed.
            let n = self.sock.recv(&mut &mut self.buf[..], libc::MSG_TRUNC)?;
            if n > self.buf.len() {
                return Err(NlError::Malformed(format!(
                    "reply of {n} bytes exceeds the {}-byte receive buffer",
                    self.buf.len()
                )));
            }
            let data = &self.buf[..n];
            let mut off = 0;
            while off + HDR_LEN <= data.len() {
                let h = &data[off..];
                let len = u32::from_ne_bytes([h[0], h[1], h[2], h[3]]) as usize;
                let typ = u16::from_ne_bytes([h[4], h[5]]);
                let mflags = u16::from_ne_bytes([h[6], h[7]]);
                let mseq = u32::from_ne_bytes([h[8], h[9], h[10], h[11]]);
                if len < HDR_LEN || off + len > data.len() {
                    return Err(NlError::Malformed(format!("message length {len}")));
                }
                let body = &data[off + HDR_LEN..off + len];
                off += align4(len);
                if mseq != seq {
                    continue; // a stale reply to an earlier request
                }
                match typ {
                    NLMSG_NOOP => {}
                    NLMSG_OVERRUN => return Err(NlError::Malformed("overrun".into())),
                    NLMSG_DONE => {
                        let code = body
                            .get(..4)
                            .map_or(0, |b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
                        if code < 0 {
                            return Err(NlError::Kernel {
                                errno: -code,
                                msg: None,
                            });
                        }
                        return Ok(());
                    }
                    NLMSG_ERROR => {
                        let code = body
                            .get(..4)
                            .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
                            .ok_or_else(|| NlError::Malformed("short error".into()))?;
                        if code == 0 {
                            if dump {
                                continue;
                            }
                            return Ok(());
                        }
                        return Err(NlError::Kernel {
                            errno: -code,
                            msg: ext_ack_msg(body, mflags),
                        });
                    }
                    // Data; for a request with an ack, the ack follows it.
                    _ => {
                        each(typ, body)?;
                        if !dump && !ack {
                            return Ok(());
                        }
                    }
                }
            }
        }
    }
}

/// The `NLMSGERR_ATTR_MSG` string of an error message body, if present.
fn ext_ack_msg(body: &[u8], flags: u16) -> Option<String> {
    if flags & F_ACK_TLVS == 0 || body.len() < 4 + HDR_LEN {
        return None;
    }
    let orig_len = u32::from_ne_bytes([body[4], body[5], body[6], body[7]]) as usize;
    let skip = if flags & F_CAPPED != 0 {
        4 + HDR_LEN
    } else {
        4 + align4(orig_len)
    };
    let tlvs = body.get(skip..)?;
    Attrs::new(tlvs)
        .find(|(t, _)| *t == NLMSGERR_ATTR_MSG)
        .map(|(_, v)| parse_str(v))
}

/// Rounds up to the netlink alignment of 4 bytes.
pub const fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// Builds a sequence of netlink attributes.
#[derive(Debug, Default, Clone)]
pub struct AttrBuf {
    buf: Vec<u8>,
    nests: Vec<usize>,
}

impl AttrBuf {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Raw bytes before the attributes (a fixed message header).
    pub fn with_header(header: &[u8]) -> Self {
        Self {
            buf: header.to_vec(),
            nests: Vec::new(),
        }
    }

    /// Appends an attribute with raw bytes.
    pub fn put(&mut self, kind: u16, data: &[u8]) -> &mut Self {
        let len = (4 + data.len()) as u16;
        self.buf.extend_from_slice(&len.to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(data);
        self.buf.resize(align4(self.buf.len()), 0);
        self
    }

    /// Appends a u8 attribute.
    pub fn u8(&mut self, kind: u16, v: u8) -> &mut Self {
        self.put(kind, &[v])
    }

    /// Appends a u16 attribute.
    pub fn u16(&mut self, kind: u16, v: u16) -> &mut Self {
        self.put(kind, &v.to_ne_bytes())
    }

    /// Appends a u32 attribute.
    pub fn u32(&mut self, kind: u16, v: u32) -> &mut Self {
        self.put(kind, &v.to_ne_bytes())
    }

    /// Appends a NUL-terminated string attribute.
    pub fn str(&mut self, kind: u16, v: &str) -> &mut Self {
        let mut d = v.as_bytes().to_vec();
        d.push(0);
        self.put(kind, &d)
    }

    /// Appends a flag (empty) attribute.
    pub fn flag(&mut self, kind: u16) -> &mut Self {
        self.put(kind, &[])
    }

    /// Opens a nested attribute; close it with [`AttrBuf::end`].
    pub fn begin(&mut self, kind: u16) -> &mut Self {
        self.nests.push(self.buf.len());
        self.buf.extend_from_slice(&0u16.to_ne_bytes());
        self.buf
            .extend_from_slice(&(kind | NLA_F_NESTED).to_ne_bytes());
        self
    }

    /// Closes the innermost open nested attribute.
    pub fn end(&mut self) -> &mut Self {
        if let Some(start) = self.nests.pop() {
            let len = (self.buf.len() - start) as u16;
            self.buf[start..start + 2].copy_from_slice(&len.to_ne_bytes());
        }
        self
    }

    /// The encoded bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }
}

/// Iterates over the attributes in a byte slice, yielding `(type, payload)` with the nested and
/// byte-order flags masked off. Stops at the first truncated attribute.
#[derive(Debug, Clone)]
pub struct Attrs<'a> {
    data: &'a [u8],
}

impl<'a> Attrs<'a> {
    /// Attributes in `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    /// The payload of the first attribute of this type.
    pub fn get(&self, kind: u16) -> Option<&'a [u8]> {
        self.clone().find(|(t, _)| *t == kind).map(|(_, v)| v)
    }

    /// A u8 attribute.
    pub fn u8(&self, kind: u16) -> Option<u8> {
        self.get(kind).and_then(|v| v.first().copied())
    }

    /// A u16 attribute.
    pub fn u16(&self, kind: u16) -> Option<u16> {
        self.get(kind).and_then(parse_u16)
    }

    /// A u32 attribute.
    pub fn u32(&self, kind: u16) -> Option<u32> {
        self.get(kind).and_then(parse_u32)
    }

    /// A u64 attribute.
    pub fn u64(&self, kind: u16) -> Option<u64> {
        self.get(kind).and_then(parse_u64)
    }

    /// A string attribute.
    pub fn str(&self, kind: u16) -> Option<String> {
        self.get(kind).map(parse_str)
    }

    /// The attributes nested inside the first attribute of this type.
    pub fn nested(&self, kind: u16) -> Option<Attrs<'a>> {
        self.get(kind).map(Attrs::new)
    }
}

impl<'a> Iterator for Attrs<'a> {
    type Item = (u16, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.data.len() < 4 {
            return None;
        }
        let len = u16::from_ne_bytes([self.data[0], self.data[1]]) as usize;
        let kind = u16::from_ne_bytes([self.data[2], self.data[3]]) & NLA_TYPE_MASK;
        if len < 4 || len > self.data.len() {
            self.data = &[];
            return None;
        }
        let payload = &self.data[4..len];
        self.data = self.data.get(align4(len)..).unwrap_or(&[]);
        Some((kind, payload))
    }
}

/// A native-endian u16 payload.
pub fn parse_u16(v: &[u8]) -> Option<u16> {
    Some(u16::from_ne_bytes(v.get(..2)?.try_into().ok()?))
}

/// A native-endian u32 payload.
pub fn parse_u32(v: &[u8]) -> Option<u32> {
    Some(u32::from_ne_bytes(v.get(..4)?.try_into().ok()?))
}

/// A native-endian u64 payload (kernel u64 attributes may be 4-byte aligned only).
pub fn parse_u64(v: &[u8]) -> Option<u64> {
    Some(u64::from_ne_bytes(v.get(..8)?.try_into().ok()?))
}

/// A string payload, up to its NUL.
pub fn parse_str(v: &[u8]) -> String {
    let end = v.iter().position(|&b| b == 0).unwrap_or(v.len());
    String::from_utf8_lossy(&v[..end]).into_owned()
}

/// Generic netlink (`genetlink`) requests: a [`NlSocket`] plus the family id resolved by name.
pub struct Genl {
    sock: NlSocket,
    family: u16,
    version: u8,
}

const GENL_ID_CTRL: u16 = 0x10;
const CTRL_CMD_GETFAMILY: u8 = 3;
const CTRL_ATTR_FAMILY_ID: u16 = 1;
const CTRL_ATTR_FAMILY_NAME: u16 = 2;

/// Why a generic netlink family could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum GenlOpenError {
    /// The kernel has no such family (e.g. built without `CONFIG_ETHTOOL_NETLINK`).
    #[error("the kernel has no generic netlink family {0:?}")]
    NoFamily(String),
    /// Netlink failed.
    #[error(transparent)]
    Nl(#[from] NlError),
}

impl Genl {
    /// Opens a socket and resolves the family `name`; `version` goes in every request header.
    pub fn open(name: &str, version: u8) -> Result<Self, GenlOpenError> {
        let mut sock = NlSocket::open(Proto::Generic)?;
        let mut req = AttrBuf::with_header(&[CTRL_CMD_GETFAMILY, 1, 0, 0]);
        req.str(CTRL_ATTR_FAMILY_NAME, name);
        let replies = match sock.request(GENL_ID_CTRL, 0, req.bytes()) {
            Ok(r) => r,
            Err(e) if e.errno() == Some(libc::ENOENT) => {
                return Err(GenlOpenError::NoFamily(name.to_string()))
            }
            Err(e) => return Err(e.into()),
        };
        let family = replies
            .iter()
            .find_map(|(_, p)| Attrs::new(p.get(4..)?).u16(CTRL_ATTR_FAMILY_ID))
            .ok_or_else(|| GenlOpenError::NoFamily(name.to_string()))?;
        Ok(Self {
            sock,
            family,
            version,
        })
    }

    /// Sends the single-object query `cmd` with `attrs` (no ack) and returns the reply's
    /// attribute bytes (after the genetlink header).
    pub fn get(&mut self, cmd: u8, flags: u16, attrs: &[u8]) -> Result<Vec<u8>, NlError> {
        let mut payload = Vec::with_capacity(4 + attrs.len());
        payload.extend_from_slice(&[cmd, self.version, 0, 0]);
        payload.extend_from_slice(attrs);
        let reply = self.sock.get(self.family, flags, &payload)?;
        reply
            .get(4..)
            .map(<[u8]>::to_vec)
            .ok_or_else(|| NlError::Malformed("short genetlink message".into()))
    }

    /// Sends command `cmd` with `attrs` and returns each reply's attribute bytes (after the
    /// genetlink header).
    pub fn request(&mut self, cmd: u8, flags: u16, attrs: &[u8]) -> Result<Vec<Vec<u8>>, NlError> {
        let mut payload = Vec::with_capacity(4 + attrs.len());
        payload.extend_from_slice(&[cmd, self.version, 0, 0]);
        payload.extend_from_slice(attrs);
        let replies = self.sock.request(self.family, flags, &payload)?;
        replies
            .into_iter()
            .map(|(_, p)| {
                p.get(4..)
                    .map(<[u8]>::to_vec)
                    .ok_or_else(|| NlError::Malformed("short genetlink message".into()))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attrs_round_trip_with_nesting_and_padding() {
        let mut b = AttrBuf::new();
        b.u8(1, 7)
            .str(2, "eth0")
            .begin(3)
            .u32(1, 42)
            .u16(2, 9)
            .end()
            .flag(4);
        let bytes = b.bytes().to_vec();
        assert_eq!(bytes.len() % 4, 0);
        let a = Attrs::new(&bytes);
        assert_eq!(a.u8(1), Some(7));
        assert_eq!(a.str(2).as_deref(), Some("eth0"));
        let n = a.nested(3).expect("nest");
        assert_eq!(n.u32(1), Some(42));
        assert_eq!(n.u16(2), Some(9));
        assert_eq!(a.get(4), Some(&[][..]));
        assert_eq!(a.get(5), None);
        assert_eq!(a.count(), 4);
    }

    #[test]
    fn truncated_attribute_stops_iteration() {
        let mut b = AttrBuf::new();
        b.u32(1, 1).u32(2, 2);
        let bytes = b.bytes();
        let cut = &bytes[..bytes.len() - 2];
        assert_eq!(Attrs::new(cut).count(), 1);
        // A length below the header size must not loop forever.
        assert_eq!(Attrs::new(&[2, 0, 1, 0, 0, 0]).count(), 0);
    }

    #[test]
    fn kernel_error_reads_like_a_sentence() {
        let e = NlError::Kernel {
            errno: libc::EOPNOTSUPP,
            msg: None,
        };
        assert!(e.is_unsupported());
        assert_eq!(e.to_string(), "Operation not supported");
        let e = NlError::Kernel {
            errno: libc::EINVAL,
            msg: Some("requested ring size exceeds maximum".into()),
        };
        assert_eq!(
            e.to_string(),
            "Invalid argument: requested ring size exceeds maximum"
        );
    }

    #[test]
    fn ext_ack_message_is_found_after_capped_header() {
        let mut body = Vec::new();
        body.extend_from_slice(&(-22i32).to_ne_bytes());
        body.extend_from_slice(&[0u8; HDR_LEN]);
        let mut tl = AttrBuf::new();
        tl.str(NLMSGERR_ATTR_MSG, "bad value");
        body.extend_from_slice(tl.bytes());
        assert_eq!(
            ext_ack_msg(&body, F_ACK_TLVS | F_CAPPED).as_deref(),
            Some("bad value")
        );
        assert_eq!(ext_ack_msg(&body, F_CAPPED), None);
    }
}
