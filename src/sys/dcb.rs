//! dcbnl: the IEEE 802.1Qaz DCB configuration of an interface over rtnetlink (`RTM_GETDCB` /
//! `RTM_SETDCB` with `DCB_CMD_IEEE_GET` / `DCB_CMD_IEEE_SET`), as `dcb ets/pfc/app show`
//! reads it.
//!
//! Layouts: `struct dcbmsg`, `struct ieee_ets`, `struct ieee_pfc`, `struct dcb_app` and the
//! `DCB_ATTR_*` numbers in `include/uapi/linux/dcbnl.h`; the kernel side is `dcbnl_ieee_fill`
//! and `dcbnl_ieee_set` in `net/dcb/dcbnl.c`. A driver without DCB (`dcbnl_ops` unset: veth,
//! virtio-net, igb) answers `EOPNOTSUPP`, which callers show as n/a.

use crate::model::dcb::{DcbApp, DcbState, IeeeEts, IeeePfc, MAX_TCS};

use super::nl::{parse_u16, parse_u64, AttrBuf, Attrs, NlError, NlSocket, Proto};

/// `RTM_GETDCB`.
pub const RTM_GETDCB: u16 = 78;
/// `RTM_SETDCB`.
pub const RTM_SETDCB: u16 = 79;
pub(crate) const DCB_CMD_IEEE_SET: u8 = 20;
pub(crate) const DCB_CMD_IEEE_GET: u8 = 21;
pub(crate) const DCB_CMD_IEEE_DEL: u8 = 22;
pub(crate) const DCB_ATTR_IFNAME: u16 = 1;
pub(crate) const DCB_ATTR_IEEE: u16 = 13;
const DCB_ATTR_DCBX: u16 = 14;
pub(crate) const DCB_ATTR_IEEE_ETS: u16 = 1;
pub(crate) const DCB_ATTR_IEEE_PFC: u16 = 2;
pub(crate) const DCB_ATTR_IEEE_APP_TABLE: u16 = 3;
pub(crate) const DCB_ATTR_IEEE_APP: u16 = 1;
/// `DCB_ATTR_DCB_APP`: an APP (or trust) entry of a non-IEEE selector (PCP).
pub(crate) const DCB_ATTR_DCB_APP: u16 = 2;
/// `DCB_ATTR_DCB_APP_TRUST_TABLE` (in `enum ieee_attrs`, so inside `DCB_ATTR_IEEE`).
pub(crate) const DCB_ATTR_DCB_APP_TRUST_TABLE: u16 = 11;
const AF_UNSPEC: u8 = 0;

/// `sizeof(struct ieee_ets)`: three bytes, then seven arrays of eight.
pub const IEEE_ETS_LEN: usize = 3 + 7 * MAX_TCS;
/// `sizeof(struct ieee_pfc)`: `pfc_cap`, `pfc_en`, `mbc`, a pad byte, u16 `delay`, padding
/// to 8, then `requests[8]` and `indications[8]` (u64).
pub const IEEE_PFC_LEN: usize = 8 + 2 * 8 * MAX_TCS;
/// `sizeof(struct dcb_app)`: `selector`, `priority`, u16 `protocol`.
pub const DCB_APP_LEN: usize = 4;

/// A `struct dcbmsg` header for `cmd`.
pub(crate) fn dcbmsg(cmd: u8) -> [u8; 4] {
    [AF_UNSPEC, cmd, 0, 0]
}

/// Decodes `struct ieee_ets`.
pub fn parse_ets(b: &[u8]) -> Option<IeeeEts> {
    let b = b.get(..IEEE_ETS_LEN)?;
    let arr = |i: usize| b[3 + i * MAX_TCS..3 + (i + 1) * MAX_TCS].to_vec();
    Some(IeeeEts {
        willing: b[0],
        ets_cap: b[1],
        cbs: b[2],
        tc_tx_bw: arr(0),
        tc_rx_bw: arr(1),
        tc_tsa: arr(2),
        prio_tc: arr(3),
        tc_reco_bw: arr(4),
        tc_reco_tsa: arr(5),
        reco_prio_tc: arr(6),
    })
}

/// Encodes `struct ieee_ets` (arrays shorter than eight are padded with zeros).
pub fn encode_ets(e: &IeeeEts) -> [u8; IEEE_ETS_LEN] {
    let mut b = [0u8; IEEE_ETS_LEN];
    b[0] = e.willing;
    b[1] = e.ets_cap;
    b[2] = e.cbs;
    for (i, a) in [
        &e.tc_tx_bw,
        &e.tc_rx_bw,
        &e.tc_tsa,
        &e.prio_tc,
        &e.tc_reco_bw,
        &e.tc_reco_tsa,
        &e.reco_prio_tc,
    ]
    .into_iter()
    .enumerate()
    {
        for (j, v) in a.iter().take(MAX_TCS).enumerate() {
            b[3 + i * MAX_TCS + j] = *v;
        }
    }
    b
}

/// Decodes `struct ieee_pfc`.
pub fn parse_pfc(b: &[u8]) -> Option<IeeePfc> {
    let b = b.get(..IEEE_PFC_LEN)?;
    let u64s = |at: usize| -> Vec<u64> {
        (0..MAX_TCS)
            .filter_map(|i| parse_u64(&b[at + i * 8..]))
            .collect()
    };
    Some(IeeePfc {
        pfc_cap: b[0],
        pfc_en: b[1],
        mbc: b[2],
        delay: parse_u16(&b[4..6])?,
        requests: u64s(8),
        indications: u64s(8 + 8 * MAX_TCS),
    })
}

/// Encodes `struct ieee_pfc` (the counters are read-only; the kernel ignores them on set).
pub fn encode_pfc(p: &IeeePfc) -> [u8; IEEE_PFC_LEN] {
    let mut b = [0u8; IEEE_PFC_LEN];
    b[0] = p.pfc_cap;
    b[1] = p.pfc_en;
    b[2] = p.mbc;
    b[4..6].copy_from_slice(&p.delay.to_ne_bytes());
    for (i, v) in p.requests.iter().take(MAX_TCS).enumerate() {
        b[8 + i * 8..16 + i * 8].copy_from_slice(&v.to_ne_bytes());
    }
    for (i, v) in p.indications.iter().take(MAX_TCS).enumerate() {
        let at = 8 + 8 * MAX_TCS + i * 8;
        b[at..at + 8].copy_from_slice(&v.to_ne_bytes());
    }
    b
}

/// Decodes `struct dcb_app`.
pub fn parse_app(b: &[u8]) -> Option<DcbApp> {
    Some(DcbApp {
        selector: *b.first()?,
        priority: *b.get(1)?,
        protocol: parse_u16(b.get(2..4)?)?,
    })
}

/// Encodes `struct dcb_app`.
pub fn encode_app(a: &DcbApp) -> [u8; DCB_APP_LEN] {
    let p = a.protocol.to_ne_bytes();
    [a.selector, a.priority, p[0], p[1]]
}

/// Parses the body of an `RTM_GETDCB` reply to `DCB_CMD_IEEE_GET`.
pub fn parse_ieee_reply(body: &[u8]) -> Option<DcbState> {
    let a = Attrs::new(body.get(4..)?);
    let mut s = DcbState {
        dcbx: a.u8(DCB_ATTR_DCBX),
        ..DcbState::default()
    };
    if let Some(ieee) = a.nested(DCB_ATTR_IEEE) {
        s.ets = ieee.get(DCB_ATTR_IEEE_ETS).and_then(parse_ets);
        s.pfc = ieee.get(DCB_ATTR_IEEE_PFC).and_then(parse_pfc);
        if let Some(t) = ieee.nested(DCB_ATTR_IEEE_APP_TABLE) {
            s.apps = t
                .filter(|(k, _)| *k == DCB_ATTR_IEEE_APP || *k == DCB_ATTR_DCB_APP)
                .filter_map(|(_, v)| parse_app(v))
                .collect();
        }
        s.trust = ieee
            .nested(DCB_ATTR_DCB_APP_TRUST_TABLE)
            .map(parse_trust_table);
    }
    Some(s)
}

/// The body of a `DCB_CMD_IEEE_GET` request for `ifname`.
pub fn ieee_get_request(ifname: &str) -> Vec<u8> {
    let mut b = AttrBuf::with_header(&dcbmsg(DCB_CMD_IEEE_GET));
    b.str(DCB_ATTR_IFNAME, ifname);
    b.bytes().to_vec()
}

/// The body of a `DCB_CMD_IEEE_SET` request: what is `Some` (and the APP entries to add) is
/// set, the rest is left alone.
pub fn ieee_set_request(
    ifname: &str,
    ets: Option<&IeeeEts>,
    pfc: Option<&IeeePfc>,
    apps: &[DcbApp],
) -> Vec<u8> {
    let mut b = AttrBuf::with_header(&dcbmsg(DCB_CMD_IEEE_SET));
    b.str(DCB_ATTR_IFNAME, ifname);
    b.begin(DCB_ATTR_IEEE);
    if let Some(e) = ets {
        b.put(DCB_ATTR_IEEE_ETS, &encode_ets(e));
    }
    if let Some(p) = pfc {
        b.put(DCB_ATTR_IEEE_PFC, &encode_pfc(p));
    }
    if !apps.is_empty() {
        b.begin(DCB_ATTR_IEEE_APP_TABLE);
        for a in apps {
            b.put(DCB_ATTR_IEEE_APP, &encode_app(a));
        }
        b.end();
    }
    b.end();
    b.bytes().to_vec()
}

// ---------------------------------------------------------------------------------------------
// Writing: APP deletion, the APP trust order, and the status of a set. `dcbnl_ieee_set` and
// `dcbnl_ieee_del` answer a driver's refusal not with a netlink error but with a reply whose
// `DCB_ATTR_IEEE` is a u8 holding the negative errno; only a missing `dcbnl_ops` (EOPNOTSUPP)
// or a malformed request comes back as a netlink error.

/// The attribute type an APP or trust entry of `selector` travels in
/// (`dcbnl_app_attr_type_get`): `DCB_ATTR_DCB_APP` for PCP, `DCB_ATTR_IEEE_APP` otherwise.
pub(crate) fn app_attr_type(selector: u8) -> u16 {
    if selector == crate::model::dcb::APP_SEL_PCP {
        DCB_ATTR_DCB_APP
    } else {
        DCB_ATTR_IEEE_APP
    }
}

/// Decodes the entries of `DCB_ATTR_DCB_APP_TRUST_TABLE`: one u8 selector each, in order.
fn parse_trust_table(t: Attrs<'_>) -> Vec<u8> {
    t.filter(|(k, _)| *k == DCB_ATTR_IEEE_APP || *k == DCB_ATTR_DCB_APP)
        .filter_map(|(_, v)| v.first().copied())
        .collect()
}

/// The body of a `DCB_CMD_IEEE_DEL` request removing `apps` from the APP table.
pub fn ieee_del_request(ifname: &str, apps: &[DcbApp]) -> Vec<u8> {
    let mut b = AttrBuf::with_header(&dcbmsg(DCB_CMD_IEEE_DEL));
    b.str(DCB_ATTR_IFNAME, ifname);
    b.begin(DCB_ATTR_IEEE);
    b.begin(DCB_ATTR_IEEE_APP_TABLE);
    for a in apps {
        b.put(app_attr_type(a.selector), &encode_app(a));
    }
    b.end();
    b.end();
    b.bytes().to_vec()
}

/// The body of a `DCB_CMD_IEEE_SET` request setting the APP trust order (`dcbnl_setapptrust`,
/// Linux 6.3+): the selectors, most trusted first, one u8 entry each.
pub fn trust_set_request(ifname: &str, selectors: &[u8]) -> Vec<u8> {
    let mut b = AttrBuf::with_header(&dcbmsg(DCB_CMD_IEEE_SET));
    b.str(DCB_ATTR_IFNAME, ifname);
    b.begin(DCB_ATTR_IEEE);
    b.begin(DCB_ATTR_DCB_APP_TRUST_TABLE);
    for s in selectors {
        b.u8(app_attr_type(*s), *s);
    }
    b.end();
    b.end();
    b.bytes().to_vec()
}

/// The status in the reply to `DCB_CMD_IEEE_SET` / `DCB_CMD_IEEE_DEL`: `Ok` for 0, else the
/// positive errno the driver answered. A reply without the status byte is malformed.
pub fn parse_set_status(body: &[u8]) -> Result<Result<(), i32>, NlError> {
    let a = Attrs::new(body.get(4..).unwrap_or_default());
    let code = a
        .u8(DCB_ATTR_IEEE)
        .ok_or_else(|| NlError::Malformed("dcbnl reply without a status".into()))?;
    Ok(match code.cast_signed() {
        0 => Ok(()),
        e => Err(-i32::from(e)),
    })
}

/// One dcbnl request and its reply, as the kernel exchanges them: the live socket, or a test
/// double that plays the kernel's part on recorded layouts.
pub trait DcbTransport {
    /// Sends `body` as a message of type `msg_type` (`RTM_GETDCB` / `RTM_SETDCB`) and returns
    /// the body of the reply message.
    fn exchange(&mut self, msg_type: u16, body: &[u8]) -> Result<Vec<u8>, NlError>;
}

impl DcbTransport for Dcb {
    fn exchange(&mut self, msg_type: u16, body: &[u8]) -> Result<Vec<u8>, NlError> {
        if msg_type == RTM_GETDCB {
            return self.sock.get(msg_type, 0, body);
        }
        let replies = self.sock.request(msg_type, 0, body)?;
        replies
            .into_iter()
            .map(|(_, b)| b)
            .next()
            .ok_or_else(|| NlError::Malformed("no dcbnl reply".into()))
    }
}

/// A dcbnl socket.
pub struct Dcb {
    sock: NlSocket,
}

impl Dcb {
    /// Opens the socket (reading needs no privilege; setting needs `CAP_NET_ADMIN`).
    pub fn open() -> Result<Self, NlError> {
        Ok(Self {
            sock: NlSocket::open(Proto::Route)?,
        })
    }

    /// The IEEE DCB state of `ifname`; `EOPNOTSUPP` ([`NlError::is_unsupported`]) where the
    /// driver has no DCB.
    pub fn ieee(&mut self, ifname: &str) -> Result<DcbState, NlError> {
        let body = self.sock.get(RTM_GETDCB, 0, &ieee_get_request(ifname))?;
        parse_ieee_reply(&body).ok_or_else(|| NlError::Malformed("short dcbnl reply".into()))
    }

    /// Sets hardware ETS, PFC and APP entries (`DCB_CMD_IEEE_SET`).
    pub fn set_ieee(
        &mut self,
        ifname: &str,
        ets: Option<&IeeeEts>,
        pfc: Option<&IeeePfc>,
        apps: &[DcbApp],
    ) -> Result<(), NlError> {
        let req = ieee_set_request(ifname, ets, pfc, apps);
        let reply = self.exchange(RTM_SETDCB, &req)?;
        parse_set_status(&reply)?.map_err(|errno| NlError::Kernel { errno, msg: None })
    }
}

/// Golden bytes of the write side of the codec: `DCB_CMD_IEEE_DEL`, the APP trust order, and
/// the status byte of a set, laid out by hand from `include/uapi/linux/dcbnl.h` (dcbmsg, then
/// `struct nlattr` headers of len/type with `NLA_F_NESTED` 0x8000 on nests).
#[cfg(all(test, target_endian = "little"))]
mod write_codec_tests {
    use super::*;
    use crate::model::dcb::{APP_SEL_DSCP, APP_SEL_PCP};

    #[test]
    fn ieee_del_request_golden_bytes() {
        let got = ieee_del_request(
            "eth2",
            &[DcbApp {
                selector: APP_SEL_DSCP,
                priority: 2,
                protocol: 26,
            }],
        );
        let mut want = vec![0u8, 22, 0, 0]; // dcbmsg: family, DCB_CMD_IEEE_DEL
        want.extend_from_slice(&[9, 0, 1, 0, b'e', b't', b'h', b'2', 0, 0, 0, 0]); // IFNAME
        want.extend_from_slice(&[16, 0, 13, 0x80]); // DCB_ATTR_IEEE nest
        want.extend_from_slice(&[12, 0, 3, 0x80]); // DCB_ATTR_IEEE_APP_TABLE nest
        want.extend_from_slice(&[8, 0, 1, 0, 5, 2, 26, 0]); // DCB_ATTR_IEEE_APP {5, 2, 26}
        assert_eq!(got, want);
    }

    #[test]
    fn trust_request_golden_bytes_and_the_table_decodes() {
        // dcb apptrust set dev eth2 order dscp pcp: DSCP in a DCB_ATTR_IEEE_APP entry, PCP
        // (not an IEEE selector) in a DCB_ATTR_DCB_APP entry, one u8 each padded to 8.
        let got = trust_set_request("eth2", &[APP_SEL_DSCP, APP_SEL_PCP]);
        let mut want = vec![0u8, 20, 0, 0]; // DCB_CMD_IEEE_SET
        want.extend_from_slice(&[9, 0, 1, 0, b'e', b't', b'h', b'2', 0, 0, 0, 0]);
        want.extend_from_slice(&[24, 0, 13, 0x80]); // DCB_ATTR_IEEE
        want.extend_from_slice(&[20, 0, 11, 0x80]); // DCB_ATTR_DCB_APP_TRUST_TABLE
        want.extend_from_slice(&[5, 0, 1, 0, 5, 0, 0, 0]); // DCB_ATTR_IEEE_APP: dscp
        want.extend_from_slice(&[5, 0, 2, 0, 255, 0, 0, 0]); // DCB_ATTR_DCB_APP: pcp
        assert_eq!(got, want);
        // The same nest inside a GET reply (dcbnl_getapptrust's layout) reads back in order.
        let mut reply = vec![0u8, 21, 0, 0];
        reply.extend_from_slice(&want[4..]);
        let s = parse_ieee_reply(&reply).expect("reply");
        assert_eq!(s.trust, Some(vec![APP_SEL_DSCP, APP_SEL_PCP]));
        // A driver without apptrust sends no table: None, not an empty order.
        let mut b = AttrBuf::with_header(&dcbmsg(DCB_CMD_IEEE_GET));
        b.begin(DCB_ATTR_IEEE).end();
        assert_eq!(parse_ieee_reply(b.bytes()).expect("reply").trust, None);
    }

    #[test]
    fn the_status_byte_of_a_set_reply_is_the_drivers_answer() {
        // dcbnl_ieee_set puts the driver's return value in a u8 DCB_ATTR_IEEE: -EINVAL is
        // 0xea, -EOPNOTSUPP 0xa1.
        let ok = [0u8, 20, 0, 0, 5, 0, 13, 0, 0, 0, 0, 0];
        assert_eq!(parse_set_status(&ok).expect("status"), Ok(()));
        let einval = [0u8, 20, 0, 0, 5, 0, 13, 0, 0xea, 0, 0, 0];
        assert_eq!(parse_set_status(&einval).expect("status"), Err(22));
        let eopnotsupp = [0u8, 20, 0, 0, 5, 0, 13, 0, 0xa1, 0, 0, 0];
        assert_eq!(parse_set_status(&eopnotsupp).expect("status"), Err(95));
        assert!(parse_set_status(&[0u8, 20, 0, 0]).is_err());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::dcb::{APP_SEL_DGRAM, APP_SEL_DSCP, TSA_ETS, TSA_STRICT};

    /// ETS as an mlx5 reports it with RoCE on priority 3: two ETS classes 50/50 (TC 0 for
    /// everything else, TC 3 for RoCE), CNP (priority 6) strict.
    fn roce_ets() -> IeeeEts {
        IeeeEts {
            willing: 0,
            ets_cap: 8,
            cbs: 0,
            tc_tx_bw: vec![50, 0, 0, 50, 0, 0, 0, 0],
            tc_rx_bw: vec![0; 8],
            tc_tsa: vec![
                TSA_ETS, TSA_ETS, TSA_ETS, TSA_ETS, TSA_ETS, TSA_ETS, TSA_STRICT, TSA_ETS,
            ],
            prio_tc: vec![0, 0, 0, 3, 0, 0, 6, 0],
            tc_reco_bw: vec![0; 8],
            tc_reco_tsa: vec![0; 8],
            reco_prio_tc: vec![0; 8],
        }
    }

    /// The layout of `struct ieee_ets`, byte by byte (59 bytes, no padding).
    #[test]
    fn ets_struct_layout() {
        let b = encode_ets(&roce_ets());
        assert_eq!(b.len(), 59);
        #[rustfmt::skip]
        let want: [u8; 59] = [
            0, 8, 0,
            50, 0, 0, 50, 0, 0, 0, 0, // tc_tx_bw
            0, 0, 0, 0, 0, 0, 0, 0, // tc_rx_bw
            2, 2, 2, 2, 2, 2, 0, 2, // tc_tsa
            0, 0, 0, 3, 0, 0, 6, 0, // prio_tc
            0, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(b, want);
        assert_eq!(parse_ets(&b), Some(roce_ets()));
        assert_eq!(parse_ets(&b[..58]), None);
    }

    /// The layout of `struct ieee_pfc` (136 bytes: `delay` at 4, the counters from 8).
    #[cfg(target_endian = "little")]
    #[test]
    fn pfc_struct_layout_and_counters() {
        let mut b = [0u8; IEEE_PFC_LEN];
        b[0] = 8; // pfc_cap
        b[1] = 0b0000_1000; // pfc_en: priority 3
        b[4..6].copy_from_slice(&[0x40, 0x1f]); // delay 8000
        b[8 + 3 * 8] = 7; // requests[3]
        b[8 + 64 + 3 * 8..8 + 64 + 3 * 8 + 2].copy_from_slice(&[0x10, 0x27]); // indications[3]
        let p = parse_pfc(&b).expect("pfc");
        assert_eq!(IEEE_PFC_LEN, 136);
        assert_eq!((p.pfc_cap, p.pfc_en, p.delay), (8, 8, 8000));
        assert_eq!(p.enabled(), vec![3]);
        assert_eq!(p.requests[3], 7);
        assert_eq!(p.indications[3], 10_000);
        assert_eq!(p.requests.iter().sum::<u64>(), 7);
        assert_eq!(encode_pfc(&p), b);
        assert!(parse_pfc(&b[..135]).is_none());
    }

    /// A recorded-layout `RTM_GETDCB` reply: ifname, the IEEE nest with ETS, PFC and a
    /// two-entry APP table (DSCP 26 -> 3, the UDP port of `RoCEv2`, 4791 -> 3), and DCBX.
    #[cfg(target_endian = "little")]
    #[test]
    fn ieee_reply_decodes() {
        let mut pfc = [0u8; IEEE_PFC_LEN];
        pfc[1] = 0x08;
        let mut b = AttrBuf::with_header(&dcbmsg(DCB_CMD_IEEE_GET));
        b.str(DCB_ATTR_IFNAME, "eth2")
            .begin(DCB_ATTR_IEEE)
            .put(DCB_ATTR_IEEE_ETS, &encode_ets(&roce_ets()))
            .put(DCB_ATTR_IEEE_PFC, &pfc)
            .begin(DCB_ATTR_IEEE_APP_TABLE)
            .put(DCB_ATTR_IEEE_APP, &[5, 3, 26, 0])
            .put(DCB_ATTR_IEEE_APP, &[3, 3, 0xb7, 0x12])
            .end()
            .end()
            .u8(DCB_ATTR_DCBX, 0x04 | 0x08);
        let s = parse_ieee_reply(b.bytes()).expect("reply");
        assert_eq!(s.ets, Some(roce_ets()));
        assert_eq!(s.pfc.as_ref().map(IeeePfc::enabled), Some(vec![3]));
        assert_eq!(
            s.apps,
            vec![
                DcbApp {
                    selector: APP_SEL_DSCP,
                    priority: 3,
                    protocol: 26
                },
                DcbApp {
                    selector: APP_SEL_DGRAM,
                    priority: 3,
                    protocol: 4791
                },
            ]
        );
        assert_eq!(s.dscp_priority(26), Some(3));
        assert_eq!(s.dscp_priority(48), None);
        assert_eq!(s.dcbx, Some(0x0c));
        // A reply without the IEEE nest (no DCB configured): empty state, not an error.
        let mut b = AttrBuf::with_header(&dcbmsg(DCB_CMD_IEEE_GET));
        b.str(DCB_ATTR_IFNAME, "eth2");
        assert_eq!(parse_ieee_reply(b.bytes()), Some(DcbState::default()));
        assert_eq!(parse_ieee_reply(&[0, 21]), None);
    }

    /// The `DCB_CMD_IEEE_SET` request, golden bytes: PFC on priority 3, DSCP 26 -> 3.
    #[cfg(target_endian = "little")]
    #[test]
    fn ieee_set_request_golden_bytes() {
        let pfc = IeeePfc {
            pfc_cap: 8,
            pfc_en: 0x08,
            ..IeeePfc::default()
        };
        let app = DcbApp {
            selector: APP_SEL_DSCP,
            priority: 3,
            protocol: 26,
        };
        let got = ieee_set_request("eth2", None, Some(&pfc), &[app]);
        let mut want = vec![0u8, 20, 0, 0]; // dcbmsg: family, DCB_CMD_IEEE_SET
        want.extend_from_slice(&[9, 0, 1, 0, b'e', b't', b'h', b'2', 0, 0, 0, 0]); // IFNAME
        want.extend_from_slice(&[4 + 140 + 12, 0, 13, 0x80]); // DCB_ATTR_IEEE nest
        want.extend_from_slice(&[140, 0, 2, 0]); // DCB_ATTR_IEEE_PFC
        let mut p = [0u8; 136];
        p[0] = 8;
        p[1] = 8;
        want.extend_from_slice(&p);
        want.extend_from_slice(&[12, 0, 3, 0x80]); // APP_TABLE nest
        want.extend_from_slice(&[8, 0, 1, 0, 5, 3, 26, 0]); // one DCB_ATTR_IEEE_APP
        assert_eq!(got, want);
    }
}
