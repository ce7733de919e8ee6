//! Writing the DCB knobs over dcbnl: PFC, hardware ETS, APP table entries and the APP trust
//! order, each as one step that either takes whole or leaves the device as it was.
//!
//! Every write first reads the device (`DCB_CMD_IEEE_GET`) and changes only what the knob
//! names: PFC writes the device's own `ieee_pfc` with `pfc_en` replaced, ETS the device's
//! `ieee_ets` with the fields the value names, an APP entry adds the priorities it lacks
//! (`DCB_CMD_IEEE_SET`) and then deletes the ones it should not have (`DCB_CMD_IEEE_DEL`;
//! mlx5 replaces a DSCP's entry itself on add, the kernel's own table keeps both). The kernel
//! side is `dcbnl_ieee_set` / `dcbnl_ieee_del` in `net/dcb/dcbnl.c`.
//!
//! The requests go through a [`DcbTransport`]: the live socket ([`super::dcb::Dcb`]), or in
//! tests a double that answers as the kernel does on the same byte layouts.

use crate::model::dcb::{parse_pfc_text, parse_trust_text, DcbApp, DcbState, EtsSpec, MAX_TCS};
use crate::model::{Knob, Value};

use super::dcb::{
    ieee_del_request, ieee_get_request, ieee_set_request, parse_ieee_reply, parse_set_status,
    trust_set_request, DcbTransport, RTM_GETDCB, RTM_SETDCB,
};
use super::nl::NlError;
use super::write::WriteError;

/// Reads the IEEE DCB state of `iface`.
pub fn read(t: &mut dyn DcbTransport, iface: &str) -> Result<DcbState, NlError> {
    let body = t.exchange(RTM_GETDCB, &ieee_get_request(iface))?;
    parse_ieee_reply(&body).ok_or_else(|| NlError::Malformed("short dcbnl reply".into()))
}

/// Sends a `DCB_CMD_IEEE_SET` / `DCB_CMD_IEEE_DEL` request and turns the status byte of the
/// reply into an error.
fn send(t: &mut dyn DcbTransport, body: &[u8]) -> Result<(), NlError> {
    let reply = t.exchange(RTM_SETDCB, body)?;
    parse_set_status(&reply)?.map_err(|errno| NlError::Kernel {
        errno,
        msg: Some("refused by the driver (dcbnl)".into()),
    })
}

/// The APP entries of `selector`/`protocol` for the priorities in the bitmap `bits`.
fn entries(selector: u8, protocol: u16, bits: u8) -> Vec<DcbApp> {
    (0..MAX_TCS as u8)
        .filter(|p| bits & (1 << p) != 0)
        .map(|priority| DcbApp {
            selector,
            priority,
            protocol,
        })
        .collect()
}

/// Makes the APP table give `selector`/`protocol` exactly the priorities in `want`, from the
/// priorities `have` it gives them now (read by the caller): adds the missing ones, reads the
/// table again, deletes the extra ones.
fn set_app(
    t: &mut dyn DcbTransport,
    iface: &str,
    (selector, protocol): (u8, u16),
    have: u8,
    want: u8,
) -> Result<(), NlError> {
    let add = entries(selector, protocol, want & !have);
    if !add.is_empty() {
        send(t, &ieee_set_request(iface, None, None, &add))?;
    }
    let after = read(t, iface)?.app_priorities(selector, protocol);
    let del = entries(selector, protocol, after & !want);
    if !del.is_empty() {
        send(t, &ieee_del_request(iface, &del))?;
    }
    Ok(())
}

/// Sets a DCB knob (PFC, hardware ETS, an APP entry, the APP trust order) to `value`. On a
/// failure the device is as it was: each knob is one request, except an APP entry, whose
/// add is undone when the delete after it fails.
pub fn write(t: &mut dyn DcbTransport, knob: &Knob, value: &Value) -> Result<(), WriteError> {
    let iface = knob.object();
    let nl = |e: NlError| WriteError::from_nl(knob, value, &e);
    let Value::Text(text) = value else {
        return Err(WriteError::invalid(knob, value, "expects text"));
    };
    let now = read(t, iface).map_err(nl)?;
    match knob {
        Knob::Pfc { .. } => {
            let bits = parse_pfc_text(text).map_err(|e| WriteError::invalid(knob, value, e))?;
            let mut pfc = now
                .pfc
                .ok_or_else(|| WriteError::failed(knob, value, "the driver reports no PFC"))?;
            pfc.pfc_en = bits;
            send(t, &ieee_set_request(iface, None, Some(&pfc), &[])).map_err(nl)
        }
        Knob::DcbEts { .. } => {
            let spec = EtsSpec::parse(text).map_err(|e| WriteError::invalid(knob, value, e))?;
            let base = now
                .ets
                .ok_or_else(|| WriteError::failed(knob, value, "the driver reports no ETS"))?;
            let ets = spec.apply_to(&base);
            // What the device had is written back as it was; a new configuration must add up.
            if spec.willing.is_none() {
                EtsSpec::check_bandwidth(&ets).map_err(|e| WriteError::invalid(knob, value, e))?;
            }
            send(t, &ieee_set_request(iface, Some(&ets), None, &[])).map_err(nl)
        }
        Knob::DcbApp {
            selector, protocol, ..
        } => {
            let want = parse_pfc_text(text).map_err(|e| WriteError::invalid(knob, value, e))?;
            let app = (*selector, *protocol);
            let before = now.app_priorities(*selector, *protocol);
            set_app(t, iface, app, before, want).map_err(|e| {
                // Put back what the add did before the failure (best effort: the error
                // names the first cause; the read-back of the transaction checks the rest).
                if let Ok(d) = read(t, iface) {
                    let _ = set_app(t, iface, app, d.app_priorities(app.0, app.1), before);
                }
                nl(e)
            })
        }
        Knob::DcbTrust { .. } => {
            let sels = parse_trust_text(text).map_err(|e| WriteError::invalid(knob, value, e))?;
            if now.trust.is_none() {
                return Err(WriteError::failed(
                    knob,
                    value,
                    "the driver reports no APP trust order (dcbnl apptrust, Linux 6.3+)",
                ));
            }
            send(t, &trust_set_request(iface, &sels)).map_err(nl)
        }
        _ => Err(WriteError::invalid(knob, value, "not a DCB setting")),
    }
}

#[cfg(test)]
pub(crate) mod fake {
    //! A stand-in for the kernel's dcbnl on one interface: it decodes requests laid out as
    //! `include/uapi/linux/dcbnl.h` says, keeps the device's IEEE state, answers
    //! `DCB_CMD_IEEE_GET` as `dcbnl_ieee_fill` does and `DCB_CMD_IEEE_SET` /
    //! `DCB_CMD_IEEE_DEL` as `dcbnl_ieee_set` / `dcbnl_ieee_del` do (a refusal is the status
    //! byte of the reply), and fails the requests it is told to.

    use super::super::dcb::{
        dcbmsg, encode_app, encode_ets, encode_pfc, parse_app, parse_ets, parse_pfc, DcbTransport,
        DCB_ATTR_DCB_APP_TRUST_TABLE, DCB_ATTR_IEEE, DCB_ATTR_IEEE_APP_TABLE, DCB_ATTR_IEEE_ETS,
        DCB_ATTR_IEEE_PFC, DCB_ATTR_IFNAME, DCB_CMD_IEEE_DEL, DCB_CMD_IEEE_GET, DCB_CMD_IEEE_SET,
        RTM_GETDCB,
    };
    use super::super::nl::{AttrBuf, Attrs, NlError};
    use crate::model::dcb::DcbState;

    /// Which request the fake refuses.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Fail {
        /// A set carrying `ieee_ets`.
        Ets,
        /// A set carrying `ieee_pfc`.
        Pfc,
        /// A set adding APP entries.
        AppAdd,
        /// A delete of APP entries.
        AppDel,
        /// A set of the trust order.
        Trust,
    }

    /// The fake device.
    #[derive(Debug, Clone)]
    pub struct FakeDcb {
        /// Interface name.
        pub ifname: String,
        /// The device's state.
        pub state: DcbState,
        /// Requests refused once each (with `EINVAL` in the status byte).
        pub fail: Vec<Fail>,
        /// Every set or delete that took, in order (`ets`, `pfc`, `app+`, `app-`, `trust`).
        pub log: Vec<&'static str>,
    }

    impl FakeDcb {
        pub fn new(ifname: &str, state: DcbState) -> Self {
            Self {
                ifname: ifname.into(),
                state,
                fail: Vec::new(),
                log: Vec::new(),
            }
        }

        fn reply(cmd: u8, status: i32) -> Vec<u8> {
            let mut b = AttrBuf::with_header(&dcbmsg(cmd));
            b.u8(DCB_ATTR_IEEE, (status as i8).cast_unsigned());
            b.bytes().to_vec()
        }

        fn fill(&self) -> Vec<u8> {
            let mut b = AttrBuf::with_header(&dcbmsg(DCB_CMD_IEEE_GET));
            b.str(DCB_ATTR_IFNAME, &self.ifname).begin(DCB_ATTR_IEEE);
            if let Some(e) = &self.state.ets {
                b.put(DCB_ATTR_IEEE_ETS, &encode_ets(e));
            }
            if let Some(p) = &self.state.pfc {
                b.put(DCB_ATTR_IEEE_PFC, &encode_pfc(p));
            }
            b.begin(DCB_ATTR_IEEE_APP_TABLE);
            for a in &self.state.apps {
                b.put(super::super::dcb::app_attr_type(a.selector), &encode_app(a));
            }
            b.end();
            if let Some(t) = &self.state.trust {
                b.begin(DCB_ATTR_DCB_APP_TRUST_TABLE);
                for s in t {
                    b.u8(super::super::dcb::app_attr_type(*s), *s);
                }
                b.end();
            }
            b.end();
            b.bytes().to_vec()
        }

        /// True (once) when `f` is to be refused: an injected failure hits the next such
        /// request only, so the undo after it can go through.
        fn refuses(&mut self, f: Fail) -> bool {
            match self.fail.iter().position(|x| *x == f) {
                Some(i) => {
                    self.fail.remove(i);
                    true
                }
                None => false,
            }
        }
    }

    const EINVAL: i32 = 22;
    const ENOENT: i32 = 2;

    impl DcbTransport for FakeDcb {
        fn exchange(&mut self, msg_type: u16, body: &[u8]) -> Result<Vec<u8>, NlError> {
            let cmd = body.get(1).copied().unwrap_or(0);
            let a = Attrs::new(body.get(4..).unwrap_or_default());
            if a.str(DCB_ATTR_IFNAME).as_deref() != Some(self.ifname.as_str()) {
                return Err(NlError::Kernel {
                    errno: 19,
                    msg: None,
                });
            }
            if msg_type == RTM_GETDCB {
                return if cmd == DCB_CMD_IEEE_GET {
                    Ok(self.fill())
                } else {
                    Err(NlError::Kernel {
                        errno: EINVAL,
                        msg: None,
                    })
                };
            }
            let ieee = a.nested(DCB_ATTR_IEEE).ok_or(NlError::Kernel {
                errno: EINVAL,
                msg: None,
            })?;
            let apps: Vec<_> = ieee
                .nested(DCB_ATTR_IEEE_APP_TABLE)
                .map(|t| t.filter_map(|(_, v)| parse_app(v)).collect())
                .unwrap_or_default();
            if cmd == DCB_CMD_IEEE_DEL {
                if self.refuses(Fail::AppDel) {
                    return Ok(Self::reply(cmd, -EINVAL));
                }
                for app in &apps {
                    let Some(i) = self.state.apps.iter().position(|x| x == app) else {
                        return Ok(Self::reply(cmd, -ENOENT));
                    };
                    self.state.apps.remove(i);
                }
                self.log.push("app-");
                return Ok(Self::reply(cmd, 0));
            }
            if cmd != DCB_CMD_IEEE_SET {
                return Err(NlError::Kernel {
                    errno: EINVAL,
                    msg: None,
                });
            }
            // In dcbnl_ieee_set's order, stopping at the first refusal.
            if let Some(e) = ieee.get(DCB_ATTR_IEEE_ETS).and_then(parse_ets) {
                if self.refuses(Fail::Ets) {
                    return Ok(Self::reply(cmd, -EINVAL));
                }
                self.state.ets = Some(e);
                self.log.push("ets");
            }
            if let Some(p) = ieee.get(DCB_ATTR_IEEE_PFC).and_then(parse_pfc) {
                if self.refuses(Fail::Pfc) {
                    return Ok(Self::reply(cmd, -EINVAL));
                }
                let cur = self.state.pfc.get_or_insert_with(Default::default);
                // The counters are the device's; a set changes the configuration only.
                cur.pfc_en = p.pfc_en;
                cur.mbc = p.mbc;
                cur.delay = p.delay;
                self.log.push("pfc");
            }
            if !apps.is_empty() {
                if self.refuses(Fail::AppAdd) {
                    return Ok(Self::reply(cmd, -EINVAL));
                }
                for app in apps {
                    // dcb_ieee_setapp: an exact duplicate is refused, others are added.
                    if self.state.apps.contains(&app) {
                        return Ok(Self::reply(cmd, -17));
                    }
                    self.state.apps.push(app);
                }
                self.log.push("app+");
            }
            if let Some(t) = ieee.nested(DCB_ATTR_DCB_APP_TRUST_TABLE) {
                if self.state.trust.is_none() || self.refuses(Fail::Trust) {
                    return Ok(Self::reply(cmd, -EINVAL));
                }
                self.state.trust = Some(t.filter_map(|(_, v)| v.first().copied()).collect());
                self.log.push("trust");
            }
            Ok(Self::reply(cmd, 0))
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::fake::{Fail, FakeDcb};
    use super::*;
    use crate::model::dcb::{
        pfc_text, trust_text, IeeeEts, IeeePfc, APP_SEL_DSCP, APP_SEL_PCP, TSA_ETS,
    };

    /// A device as a DCB-capable NIC reports itself before tuning: eight ETS classes at
    /// 12/13%, the 802.1Q priority map, PFC off, DSCP 26 on priority 2, trusting PCP.
    pub(crate) fn device() -> DcbState {
        DcbState {
            ets: Some(IeeeEts {
                willing: 0,
                ets_cap: 8,
                cbs: 0,
                tc_tx_bw: vec![12, 13, 12, 13, 12, 13, 12, 13],
                tc_rx_bw: vec![0; 8],
                tc_tsa: vec![TSA_ETS; 8],
                prio_tc: vec![1, 0, 2, 3, 4, 5, 6, 7],
                tc_reco_bw: vec![0; 8],
                tc_reco_tsa: vec![0; 8],
                reco_prio_tc: vec![0; 8],
            }),
            pfc: Some(IeeePfc {
                pfc_cap: 8,
                requests: vec![0; 8],
                indications: vec![0; 8],
                ..IeeePfc::default()
            }),
            apps: vec![DcbApp {
                selector: APP_SEL_DSCP,
                priority: 2,
                protocol: 26,
            }],
            dcbx: None,
            trust: Some(vec![APP_SEL_PCP]),
        }
    }

    fn txt(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn each_knob_writes_what_it_names_and_reads_back() {
        let mut t = FakeDcb::new("eth2", device());
        let app26 = Knob::DcbApp {
            iface: "eth2".into(),
            selector: APP_SEL_DSCP,
            protocol: 26,
        };
        // Replacing DSCP 26's priority: the new entry is added, then the old one deleted.
        write(&mut t, &app26, &txt("3")).expect("app");
        assert_eq!(t.log, ["app+", "app-"]);
        assert_eq!(pfc_text(t.state.app_priorities(APP_SEL_DSCP, 26)), "3");
        // Back to no entry at all.
        write(&mut t, &app26, &txt("none")).expect("app none");
        assert!(t.state.apps.is_empty());
        let pfc = Knob::Pfc {
            iface: "eth2".into(),
        };
        write(&mut t, &pfc, &txt("3")).expect("pfc");
        assert_eq!(t.state.pfc.as_ref().map(|p| p.pfc_en), Some(0x08));
        let trust = Knob::DcbTrust {
            iface: "eth2".into(),
        };
        write(&mut t, &trust, &txt("dscp pcp")).expect("trust");
        assert_eq!(
            t.state.trust.as_deref().map(trust_text).as_deref(),
            Some("dscp pcp")
        );
        let ets = Knob::DcbEts {
            iface: "eth2".into(),
        };
        let want = "tc-bw 50 50 0 0 0 0 0 0 tc-tsa ets ets strict ets ets ets ets ets \
                    prio-tc 0 0 0 1 0 0 2 0";
        write(&mut t, &ets, &txt(want)).expect("ets");
        let e = t.state.ets.clone().expect("ets");
        assert_eq!(e.tc_tx_bw, [50, 50, 0, 0, 0, 0, 0, 0]);
        assert_eq!(e.prio_tc, [0, 0, 0, 1, 0, 0, 2, 0]);
        // A new configuration that does not add up is refused before anything is sent.
        let n = t.log.len();
        let bad = "tc-bw 50 40 0 0 0 0 0 0 tc-tsa ets ets strict ets ets ets ets ets";
        let err = write(&mut t, &ets, &txt(bad)).expect_err("sum");
        assert!(err.to_string().contains("adds up to 90"), "{err}");
        assert_eq!(t.log.len(), n);
        // The device's whole struct, as the journal keeps it, goes back exactly.
        let old = EtsSpec::from_ets(&device().ets.expect("ets")).to_string();
        write(&mut t, &ets, &txt(&old)).expect("ets back");
        assert_eq!(t.state.ets, device().ets);
    }

    #[test]
    fn a_refusal_in_the_status_byte_is_an_error_and_leaves_the_device_as_it_was() {
        let app26 = Knob::DcbApp {
            iface: "eth2".into(),
            selector: APP_SEL_DSCP,
            protocol: 26,
        };
        for (fail, knob, value) in [
            (
                Fail::Pfc,
                Knob::Pfc {
                    iface: "eth2".into(),
                },
                "3",
            ),
            (
                Fail::Ets,
                Knob::DcbEts {
                    iface: "eth2".into(),
                },
                "tc-bw 100 0 0 0 0 0 0 0",
            ),
            (Fail::AppAdd, app26.clone(), "3"),
            (Fail::AppDel, app26.clone(), "3"),
            (
                Fail::Trust,
                Knob::DcbTrust {
                    iface: "eth2".into(),
                },
                "dscp",
            ),
        ] {
            let mut t = FakeDcb::new("eth2", device());
            t.fail = vec![fail];
            let e = write(&mut t, &knob, &txt(value)).expect_err("refused");
            assert!(
                e.to_string()
                    .contains("Invalid argument: refused by the driver"),
                "{fail:?}: {e}"
            );
            assert_eq!(t.state, device(), "{fail:?}: the device changed");
        }
        // No trust order reported: the driver has no apptrust, nothing is sent.
        let mut d = device();
        d.trust = None;
        let mut t = FakeDcb::new("eth2", d);
        let e = write(
            &mut t,
            &Knob::DcbTrust {
                iface: "eth2".into(),
            },
            &txt("dscp"),
        )
        .expect_err("no apptrust");
        assert!(e.to_string().contains("no APP trust order"), "{e}");
        assert!(t.log.is_empty());
    }
}
