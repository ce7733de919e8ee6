//! Traffic control over rtnetlink: qdisc and class dumps (`RTM_GETQDISC`, `RTM_GETTCLASS`),
//! the filter count of a root qdisc (`RTM_GETTFILTER`), and replacing or deleting the root
//! qdisc (`RTM_NEWQDISC`, `RTM_DELQDISC`), as `tc qdisc replace/del dev X root` does.
//!
//! Layouts: `struct tcmsg` and `TCA_*` in `include/uapi/linux/rtnetlink.h`; `TCA_ETS_*`,
//! `struct tc_mqprio_qopt`, `struct tc_fifo_qopt`, `struct tc_prio_qopt` in
//! `include/uapi/linux/pkt_sched.h`; `TCA_STATS_*`, `struct gnet_stats_basic`,
//! `struct gnet_stats_queue` in `include/uapi/linux/gen_stats.h`. What the kernel accepts
//! for ets: `ets_qdisc_change` in `net/sched/sch_ets.c` (the options are a nest whose
//! `QUANTA` and `PRIOMAP` are nests of one attribute per band / priority); for mqprio the
//! options are the bare struct (`mqprio_parse_opt` in `net/sched/sch_mqprio.c`).

use crate::model::qos::{
    EtsOptions, MqprioOptions, Qdisc, QdiscOptions, QdiscSpec, RootQdisc, TcClass, TcState,
    TcStats, ETS_MAX_BANDS, MQPRIO_MAX_TC, PRIO_COUNT, TC_H_ROOT,
};

use super::nl::{parse_u32, parse_u64, AttrBuf, Attrs, NlError, NlSocket, Proto, F_DUMP};

const RTM_NEWQDISC: u16 = 36;
const RTM_DELQDISC: u16 = 37;
const RTM_GETQDISC: u16 = 38;
const RTM_GETTCLASS: u16 = 42;
const RTM_GETTFILTER: u16 = 46;
/// `NLM_F_REPLACE`, `NLM_F_CREATE` (include/uapi/linux/netlink.h).
const F_REPLACE: u16 = 0x100;
const F_CREATE: u16 = 0x400;
const TCMSG_LEN: usize = 20;
const AF_UNSPEC: u8 = 0;

const TCA_KIND: u16 = 1;
const TCA_OPTIONS: u16 = 2;
const TCA_STATS2: u16 = 7;
const TCA_STATS_BASIC: u16 = 1;
const TCA_STATS_QUEUE: u16 = 3;
const TCA_STATS_PKT64: u16 = 8;

const TCA_ETS_NBANDS: u16 = 1;
const TCA_ETS_NSTRICT: u16 = 2;
const TCA_ETS_QUANTA: u16 = 3;
const TCA_ETS_QUANTA_BAND: u16 = 4;
const TCA_ETS_PRIOMAP: u16 = 5;
const TCA_ETS_PRIOMAP_BAND: u16 = 6;

/// `sizeof(struct tc_mqprio_qopt)`: `num_tc`, `prio_tc_map[16]`, `hw`, then `count[16]` and
/// `offset[16]` (u16, already 2-aligned at byte 18).
const MQPRIO_QOPT_LEN: usize = 1 + PRIO_COUNT + 1 + 2 * 2 * MQPRIO_MAX_TC;
/// `sizeof(struct tc_prio_qopt)`: `int bands`, `priomap[16]`.
const PRIO_QOPT_LEN: usize = 4 + PRIO_COUNT;

/// A `struct tcmsg`.
fn tcmsg(ifindex: u32, handle: u32, parent: u32) -> [u8; TCMSG_LEN] {
    let mut h = [0u8; TCMSG_LEN];
    h[0] = AF_UNSPEC;
    h[4..8].copy_from_slice(&ifindex.to_ne_bytes());
    h[8..12].copy_from_slice(&handle.to_ne_bytes());
    h[12..16].copy_from_slice(&parent.to_ne_bytes());
    h
}

/// The `tcmsg` fields of a message body: `(ifindex, handle, parent)`.
fn parse_tcmsg(body: &[u8]) -> Option<(u32, u32, u32)> {
    let h = body.get(..TCMSG_LEN)?;
    Some((
        parse_u32(&h[4..8])?,
        parse_u32(&h[8..12])?,
        parse_u32(&h[12..16])?,
    ))
}

/// Decodes `TCA_STATS2`.
fn parse_stats2(a: &Attrs<'_>) -> TcStats {
    let mut s = TcStats::default();
    let Some(st) = a.nested(TCA_STATS2) else {
        return s;
    };
    if let Some(b) = st.get(TCA_STATS_BASIC) {
        s.bytes = parse_u64(b).unwrap_or(0);
        s.packets = b.get(8..12).and_then(parse_u32).map_or(0, u64::from);
    }
    // Packet counts past 2^32 come in their own attribute.
    if let Some(p) = st.u64(TCA_STATS_PKT64) {
        s.packets = p;
    }
    if let Some(q) = st.get(TCA_STATS_QUEUE) {
        let f = |i: usize| q.get(i * 4..i * 4 + 4).and_then(parse_u32).unwrap_or(0);
        s.qlen = f(0);
        s.backlog = f(1);
        s.drops = f(2);
        s.requeues = f(3);
        s.overlimits = f(4);
    }
    s
}

/// Decodes the `TCA_OPTIONS` of a qdisc of `kind`; kinds dpuctl does not decode give
/// [`QdiscOptions::None`].
fn parse_options(kind: &str, opt: &[u8]) -> QdiscOptions {
    match kind {
        "ets" => parse_ets(opt).map_or(QdiscOptions::None, QdiscOptions::Ets),
        "mqprio" => parse_mqprio(opt).map_or(QdiscOptions::None, QdiscOptions::Mqprio),
        "pfifo" | "bfifo" => {
            parse_u32(opt).map_or(QdiscOptions::None, |limit| QdiscOptions::Fifo { limit })
        }
        "prio" | "pfifo_fast" if opt.len() >= PRIO_QOPT_LEN => QdiscOptions::Prio {
            bands: parse_u32(opt).unwrap_or(0),
            priomap: opt[4..PRIO_QOPT_LEN].to_vec(),
        },
        _ => QdiscOptions::None,
    }
}

fn parse_ets(opt: &[u8]) -> Option<EtsOptions> {
    let a = Attrs::new(opt);
    let nbands = a.u8(TCA_ETS_NBANDS)?;
    let nstrict = a.u8(TCA_ETS_NSTRICT).unwrap_or(0);
    let quanta = a
        .nested(TCA_ETS_QUANTA)
        .map(|n| {
            n.filter(|(t, _)| *t == TCA_ETS_QUANTA_BAND)
                .filter_map(|(_, v)| parse_u32(v))
                .take(ETS_MAX_BANDS)
                .collect()
        })
        .unwrap_or_default();
    let priomap = a
        .nested(TCA_ETS_PRIOMAP)
        .map(|n| {
            n.filter(|(t, _)| *t == TCA_ETS_PRIOMAP_BAND)
                .filter_map(|(_, v)| v.first().copied())
                .take(PRIO_COUNT)
                .collect()
        })
        .unwrap_or_default();
    Some(EtsOptions {
        nbands,
        nstrict,
        quanta,
        priomap,
    })
}

fn parse_mqprio(opt: &[u8]) -> Option<MqprioOptions> {
    let s = opt.get(..MQPRIO_QOPT_LEN)?;
    let num_tc = s[0];
    let n = usize::from(num_tc).min(MQPRIO_MAX_TC);
    let u16_at = |i: usize| u16::from_ne_bytes([s[i], s[i + 1]]);
    let base = 1 + PRIO_COUNT + 1;
    Some(MqprioOptions {
        num_tc,
        prio_tc_map: s[1..=PRIO_COUNT].to_vec(),
        hw: s[1 + PRIO_COUNT],
        count: (0..n).map(|i| u16_at(base + 2 * i)).collect(),
        offset: (0..n)
            .map(|i| u16_at(base + 2 * MQPRIO_MAX_TC + 2 * i))
            .collect(),
    })
}

/// Parses one `RTM_NEWQDISC` body into `(ifindex, qdisc)`.
fn parse_qdisc(body: &[u8]) -> Option<(u32, Qdisc)> {
    let (ifindex, handle, parent) = parse_tcmsg(body)?;
    let a = Attrs::new(&body[TCMSG_LEN..]);
    let kind = a.str(TCA_KIND)?;
    let options = a
        .get(TCA_OPTIONS)
        .map_or(QdiscOptions::None, |o| parse_options(&kind, o));
    Some((
        ifindex,
        Qdisc {
            kind,
            handle,
            parent,
            options,
            stats: parse_stats2(&a),
        },
    ))
}

/// Parses one `RTM_NEWTCLASS` body.
fn parse_class(body: &[u8]) -> Option<TcClass> {
    let (_, handle, parent) = parse_tcmsg(body)?;
    let a = Attrs::new(&body[TCMSG_LEN..]);
    let kind = a.str(TCA_KIND)?;
    let quantum = if kind == "ets" {
        a.nested(TCA_OPTIONS)
            .and_then(|o| o.u32(TCA_ETS_QUANTA_BAND))
    } else {
        None
    };
    Some(TcClass {
        kind,
        handle,
        parent,
        quantum,
        stats: parse_stats2(&a),
    })
}

/// True for a class of the root qdisc `root` itself (not of a qdisc below one of its
/// classes): same major number, and parent the root (`TC_H_ROOT`, as ets, mqprio, htb and mq
/// report their top classes) or the root qdisc's handle (as prio reports its bands).
fn is_root_class(root: &Qdisc, c: &TcClass) -> bool {
    c.handle >> 16 == root.handle >> 16 && (c.parent == TC_H_ROOT || c.parent == root.handle)
}

/// Appends the `TCA_OPTIONS` of a qdisc to a request.
fn put_options(b: &mut AttrBuf, opts: &QdiscOptions) -> Result<(), String> {
    match opts {
        // pfifo_fast takes no options (its priomap is fixed); prio's are not written here.
        QdiscOptions::None | QdiscOptions::Prio { .. } => {}
        QdiscOptions::Ets(e) => {
            e.validate()?;
            b.begin(TCA_OPTIONS).u8(TCA_ETS_NBANDS, e.nbands);
            if e.nstrict > 0 {
                b.u8(TCA_ETS_NSTRICT, e.nstrict);
            }
            if !e.quanta.is_empty() {
                b.begin(TCA_ETS_QUANTA);
                for q in &e.quanta {
                    b.u32(TCA_ETS_QUANTA_BAND, *q);
                }
                b.end();
            }
            if !e.priomap.is_empty() {
                b.begin(TCA_ETS_PRIOMAP);
                for p in &e.priomap {
                    b.u8(TCA_ETS_PRIOMAP_BAND, *p);
                }
                b.end();
            }
            b.end();
        }
        QdiscOptions::Mqprio(m) => {
            m.validate()?;
            let mut s = [0u8; MQPRIO_QOPT_LEN];
            s[0] = m.num_tc;
            s[1..=m.prio_tc_map.len()].copy_from_slice(&m.prio_tc_map);
            s[1 + PRIO_COUNT] = m.hw;
            let base = 1 + PRIO_COUNT + 1;
            for (i, (c, o)) in m.count.iter().zip(&m.offset).enumerate() {
                s[base + 2 * i..base + 2 * i + 2].copy_from_slice(&c.to_ne_bytes());
                let at = base + 2 * MQPRIO_MAX_TC + 2 * i;
                s[at..at + 2].copy_from_slice(&o.to_ne_bytes());
            }
            b.put(TCA_OPTIONS, &s);
        }
        QdiscOptions::Fifo { limit } => {
            b.put(TCA_OPTIONS, &limit.to_ne_bytes());
        }
    }
    Ok(())
}

/// The body of an `RTM_NEWQDISC` request that makes `kind` with `opts` the root qdisc of
/// `ifindex`, with `handle` (0: the kernel picks one).
pub fn new_root_request(
    ifindex: u32,
    handle: u32,
    kind: &str,
    opts: &QdiscOptions,
) -> Result<Vec<u8>, String> {
    let mut b = AttrBuf::with_header(&tcmsg(ifindex, handle, TC_H_ROOT));
    b.str(TCA_KIND, kind);
    put_options(&mut b, opts)?;
    Ok(b.bytes().to_vec())
}

/// Why a traffic-control request failed.
#[derive(Debug, thiserror::Error)]
pub enum TcError {
    /// The request was refused before it was sent.
    #[error("{0}")]
    Invalid(String),
    /// Netlink failed or the kernel refused.
    #[error(transparent)]
    Nl(#[from] NlError),
}

/// An rtnetlink socket for traffic control.
pub struct Tc {
    sock: NlSocket,
}

impl Tc {
    /// Opens the socket (dumps need no privilege; changes need `CAP_NET_ADMIN`).
    pub fn open() -> Result<Self, NlError> {
        Ok(Self {
            sock: NlSocket::open(Proto::Route)?,
        })
    }

    /// The qdiscs of one interface, root first, in the kernel's dump order otherwise.
    pub fn qdiscs(&mut self, ifindex: u32) -> Result<Vec<Qdisc>, NlError> {
        let req = tcmsg(ifindex, 0, 0);
        let mut out = Vec::new();
        // The kernel dumps every device's qdiscs; keep this one's.
        self.sock
            .request_each(RTM_GETQDISC, F_DUMP, &req, |_, body| {
                if let Some((i, q)) = parse_qdisc(body) {
                    if i == ifindex {
                        out.push(q);
                    }
                }
                Ok(())
            })?;
        out.sort_by_key(|q| !q.is_root());
        Ok(out)
    }

    /// The qdiscs of every interface, by ifindex (one dump).
    pub fn all_qdiscs(&mut self) -> Result<std::collections::HashMap<u32, Vec<Qdisc>>, NlError> {
        let req = tcmsg(0, 0, 0);
        let mut out: std::collections::HashMap<u32, Vec<Qdisc>> =
            std::collections::HashMap::default();
        self.sock
            .request_each(RTM_GETQDISC, F_DUMP, &req, |_, body| {
                if let Some((i, q)) = parse_qdisc(body) {
                    out.entry(i).or_default().push(q);
                }
                Ok(())
            })?;
        for v in out.values_mut() {
            v.sort_by_key(|q| !q.is_root());
        }
        Ok(out)
    }

    /// The traffic-control state of an interface whose qdiscs are `qdiscs`: the classes and
    /// root filters are asked for only when the root is not the kernel's default.
    pub fn state(&mut self, ifindex: u32, qdiscs: Vec<Qdisc>) -> Result<TcState, NlError> {
        let explicit = qdiscs.iter().any(|q| q.is_root() && !q.is_default());
        let (classes, root_filters) = if explicit {
            (self.classes(ifindex)?, self.root_filter_count(ifindex)?)
        } else {
            (Vec::new(), 0)
        };
        Ok(TcState {
            qdiscs,
            classes,
            root_filters,
        })
    }

    /// Sets the root qdisc to `spec`: the kernel's default (delete the root), the qdisc with
    /// the handle `spec` names (put back exactly), or kind and options with any handle.
    pub fn set_root(&mut self, ifindex: u32, spec: &QdiscSpec) -> Result<(), TcError> {
        match spec.handle {
            Some(0) => self.delete_root(ifindex),
            Some(handle) => self.restore_root(
                ifindex,
                &RootQdisc {
                    kind: spec.kind.clone(),
                    handle,
                    options: spec.options.clone(),
                },
            ),
            None => self.replace_root(ifindex, &spec.kind, &spec.options),
        }
    }

    /// The classes of one interface's qdiscs.
    pub fn classes(&mut self, ifindex: u32) -> Result<Vec<TcClass>, NlError> {
        let req = tcmsg(ifindex, 0, 0);
        let mut out = Vec::new();
        self.sock
            .request_each(RTM_GETTCLASS, F_DUMP, &req, |_, body| {
                if let Some(c) = parse_class(body) {
                    out.push(c);
                }
                Ok(())
            })?;
        Ok(out)
    }

    /// The classes of the root qdisc `root` of `ifindex` (its direct children: the bands of
    /// an ets or prio, the traffic classes of an mqprio, the top classes of an htb), with
    /// their counters, in class id order: one class dump of the device, none when the root
    /// is the kernel's default (whose classes, mq's per-queue ones, are not bands anyone
    /// configured). `root` comes from a qdisc dump ([`Tc::all_qdiscs`] serves every
    /// interface at once; a `RTM_GETQDISC` of the root alone answers only an ack on 6.x).
    pub fn root_classes(&mut self, ifindex: u32, root: &Qdisc) -> Result<Vec<TcClass>, NlError> {
        if !root.is_root() || root.is_default() {
            return Ok(Vec::new());
        }
        let mut classes = self.classes(ifindex)?;
        classes.retain(|c| is_root_class(root, c));
        classes.sort_by_key(|c| c.handle);
        Ok(classes)
    }

    /// The number of filters attached to the root qdisc (every chain).
    pub fn root_filter_count(&mut self, ifindex: u32) -> Result<usize, NlError> {
        // Parent 0 names the root qdisc (`tc_dump_tfilter`).
        let req = tcmsg(ifindex, 0, 0);
        let mut n = 0;
        self.sock
            .request_each(RTM_GETTFILTER, F_DUMP, &req, |_, _| {
                n += 1;
                Ok(())
            })?;
        Ok(n)
    }

    /// The root qdisc of `ifindex` as dpuctl can put it back, or (inner `Err`) why it cannot.
    pub fn restorable_root(&mut self, ifindex: u32) -> Result<Result<RootQdisc, String>, NlError> {
        let qdiscs = self.qdiscs(ifindex)?;
        let filters = self.root_filter_count(ifindex)?;
        Ok(crate::model::qos::restorable_root(&qdiscs, filters))
    }

    /// Makes `kind` with `opts` the root qdisc (`tc qdisc replace dev X root ...`): a root of
    /// the same kind is changed in place, another one is replaced.
    pub fn replace_root(
        &mut self,
        ifindex: u32,
        kind: &str,
        opts: &QdiscOptions,
    ) -> Result<(), TcError> {
        let req = new_root_request(ifindex, 0, kind, opts).map_err(TcError::Invalid)?;
        self.sock
            .request(RTM_NEWQDISC, F_CREATE | F_REPLACE, &req)?;
        Ok(())
    }

    /// Deletes the root qdisc, so that the kernel gives the device its default one again.
    /// Nothing to do when the root is the default already.
    pub fn delete_root(&mut self, ifindex: u32) -> Result<(), TcError> {
        let root = self.qdiscs(ifindex)?.into_iter().find(Qdisc::is_root);
        if root.is_none_or(|r| r.is_default()) {
            return Ok(());
        }
        let req = tcmsg(ifindex, 0, TC_H_ROOT);
        self.sock.request(RTM_DELQDISC, 0, &req)?;
        Ok(())
    }

    /// Puts back a root qdisc read by [`Tc::restorable_root`]: the default by deleting the
    /// root, an explicit one by creating it again with its handle, kind and options.
    pub fn restore_root(&mut self, ifindex: u32, prev: &RootQdisc) -> Result<(), TcError> {
        if prev.is_default() {
            return self.delete_root(ifindex);
        }
        let now = crate::model::qos::restorable_root(&self.qdiscs(ifindex)?, 0);
        if now.as_ref().is_ok_and(|q| q == prev) {
            return Ok(());
        }
        let req = new_root_request(ifindex, prev.handle, &prev.kind, &prev.options)
            .map_err(TcError::Invalid)?;
        self.sock
            .request(RTM_NEWQDISC, F_CREATE | F_REPLACE, &req)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ets5() -> EtsOptions {
        EtsOptions {
            nbands: 5,
            nstrict: 1,
            quanta: vec![2020, 2020, 2020, 1515],
            priomap: vec![4, 3, 2, 1, 0],
        }
    }

    /// The request `tc qdisc replace dev (ifindex 7) root ets bands 5 strict 1
    /// quanta 2020 2020 2020 1515 priomap 4 3 2 1 0` sends, attribute by attribute
    /// (little-endian; every nest carries `NLA_F_NESTED`, 0x8000, as iproute2 sets it).
    #[cfg(target_endian = "little")]
    #[test]
    fn ets_request_golden_bytes() {
        let got = new_root_request(7, 0, "ets", &QdiscOptions::Ets(ets5())).expect("valid");
        #[rustfmt::skip]
        let want: Vec<u8> = vec![
            // tcmsg: family, pad, ifindex 7, handle 0, parent TC_H_ROOT, info 0
            0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0,
            // TCA_KIND "ets\0"
            8, 0, 1, 0, b'e', b't', b's', 0,
            // TCA_OPTIONS nest: 4 + 8 + 8 + 36 + 44 = 100 bytes
            100, 0, 2, 0x80,
            // TCA_ETS_NBANDS 5, TCA_ETS_NSTRICT 1 (u8, padded)
            5, 0, 1, 0, 5, 0, 0, 0,
            5, 0, 2, 0, 1, 0, 0, 0,
            // TCA_ETS_QUANTA nest of four TCA_ETS_QUANTA_BAND u32
            36, 0, 3, 0x80,
            8, 0, 4, 0, 0xe4, 0x07, 0, 0,
            8, 0, 4, 0, 0xe4, 0x07, 0, 0,
            8, 0, 4, 0, 0xe4, 0x07, 0, 0,
            8, 0, 4, 0, 0xeb, 0x05, 0, 0,
            // TCA_ETS_PRIOMAP nest of five TCA_ETS_PRIOMAP_BAND u8
            44, 0, 5, 0x80,
            5, 0, 6, 0, 4, 0, 0, 0,
            5, 0, 6, 0, 3, 0, 0, 0,
            5, 0, 6, 0, 2, 0, 0, 0,
            5, 0, 6, 0, 1, 0, 0, 0,
            5, 0, 6, 0, 0, 0, 0, 0,
        ];
        assert_eq!(got, want);
    }

    /// `tc qdisc replace dev (7) root mqprio num_tc 2 map 0 0 0 1 queues 1@0 3@1 hw 0`.
    #[cfg(target_endian = "little")]
    #[test]
    fn mqprio_request_golden_bytes() {
        let m = MqprioOptions {
            num_tc: 2,
            prio_tc_map: vec![0, 0, 0, 1],
            hw: 0,
            count: vec![1, 3],
            offset: vec![0, 1],
        };
        let got = new_root_request(7, 0, "mqprio", &QdiscOptions::Mqprio(m)).expect("valid");
        let mut want: Vec<u8> = vec![
            0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0,
        ];
        want.extend_from_slice(&[11, 0, 1, 0]);
        want.extend_from_slice(b"mqprio\0\0");
        // TCA_OPTIONS: the bare 82-byte struct (not a nest), padded to 84.
        want.extend_from_slice(&[86, 0, 2, 0]);
        let mut s = [0u8; 84];
        s[0] = 2; // num_tc
        s[1..5].copy_from_slice(&[0, 0, 0, 1]); // prio_tc_map
        s[17] = 0; // hw
        s[18..22].copy_from_slice(&[1, 0, 3, 0]); // count[0..2]
        s[50..54].copy_from_slice(&[0, 0, 1, 0]); // offset[0..2]
        want.extend_from_slice(&s);
        assert_eq!(got, want);
    }

    #[cfg(target_endian = "little")]
    #[test]
    fn fifo_request_and_bad_options() {
        let got = new_root_request(3, 0x8001_0000, "pfifo", &QdiscOptions::Fifo { limit: 77 })
            .expect("valid");
        assert_eq!(&got[8..12], &[0, 0, 0x01, 0x80]);
        assert_eq!(&got[TCMSG_LEN + 12..], &[8, 0, 2, 0, 77, 0, 0, 0]);
        let mut bad = ets5();
        bad.priomap[0] = 9;
        assert!(new_root_request(3, 0, "ets", &QdiscOptions::Ets(bad))
            .expect_err("refused")
            .contains("band 9"));
    }

    /// A dump message as the kernel writes it for a qdisc (`tc_fill_qdisc`).
    fn qdisc_msg(kind: &str, opts: impl FnOnce(&mut AttrBuf), stats: bool) -> Vec<u8> {
        let mut b = AttrBuf::with_header(&tcmsg(4, 0x0001_0000, TC_H_ROOT));
        b.str(TCA_KIND, kind);
        opts(&mut b);
        if stats {
            let mut basic = Vec::new();
            basic.extend_from_slice(&123_456u64.to_ne_bytes());
            basic.extend_from_slice(&789u32.to_ne_bytes());
            basic.extend_from_slice(&[0; 4]);
            let queue: Vec<u8> = [1u32, 1500, 3, 4, 5]
                .iter()
                .flat_map(|v| v.to_ne_bytes())
                .collect();
            b.begin(TCA_STATS2)
                .put(TCA_STATS_BASIC, &basic)
                .put(TCA_STATS_QUEUE, &queue)
                .end();
        }
        b.bytes().to_vec()
    }

    #[test]
    fn ets_dump_round_trips_through_the_encoder() {
        // The dump nests as the request does: parse what we encode, with stats added.
        let req =
            new_root_request(4, 0x0001_0000, "ets", &QdiscOptions::Ets(ets5())).expect("valid");
        let opts = Attrs::new(&req[TCMSG_LEN..])
            .get(TCA_OPTIONS)
            .expect("valid")
            .to_vec();
        let msg = qdisc_msg(
            "ets",
            |b| {
                b.put(TCA_OPTIONS, &opts);
            },
            true,
        );
        let (ifindex, q) = parse_qdisc(&msg).expect("valid");
        assert_eq!(ifindex, 4);
        assert_eq!(q.kind, "ets");
        assert!(q.is_root());
        assert_eq!(q.options, QdiscOptions::Ets(ets5()));
        assert_eq!(
            q.stats,
            TcStats {
                bytes: 123_456,
                packets: 789,
                qlen: 1,
                backlog: 1500,
                drops: 3,
                requeues: 4,
                overlimits: 5,
            }
        );
    }

    #[test]
    fn mqprio_fifo_and_pfifo_fast_dumps_decode() {
        let m = MqprioOptions {
            num_tc: 3,
            prio_tc_map: vec![0, 1, 2, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            hw: 0,
            count: vec![1, 1, 2],
            offset: vec![0, 1, 2],
        };
        let req =
            new_root_request(4, 0, "mqprio", &QdiscOptions::Mqprio(m.clone())).expect("valid");
        let mut opts = Attrs::new(&req[TCMSG_LEN..])
            .get(TCA_OPTIONS)
            .expect("valid")
            .to_vec();
        // Newer kernels append nested attributes after the struct; they are ignored.
        opts.extend_from_slice(&[8, 0, 1, 0x80, 4, 0, 1, 0]);
        let msg = qdisc_msg(
            "mqprio",
            |b| {
                b.put(TCA_OPTIONS, &opts);
            },
            false,
        );
        assert_eq!(
            parse_qdisc(&msg).expect("valid").1.options,
            QdiscOptions::Mqprio(m)
        );

        let msg = qdisc_msg(
            "bfifo",
            |b| {
                b.u32(TCA_OPTIONS, 30_000);
            },
            false,
        );
        assert_eq!(
            parse_qdisc(&msg).expect("valid").1.options,
            QdiscOptions::Fifo { limit: 30_000 }
        );

        let mut prio = 3u32.to_ne_bytes().to_vec();
        prio.extend_from_slice(&[1, 2, 2, 2, 1, 2, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1]);
        let msg = qdisc_msg(
            "pfifo_fast",
            |b| {
                b.put(TCA_OPTIONS, &prio);
            },
            false,
        );
        let QdiscOptions::Prio { bands, priomap } = parse_qdisc(&msg).expect("valid").1.options
        else {
            panic!("prio options");
        };
        assert_eq!((bands, priomap[1], priomap.len()), (3, 2, 16));

        // Unknown kinds keep their kind and counters; a short struct decodes to nothing.
        let msg = qdisc_msg(
            "htb",
            |b| {
                b.put(TCA_OPTIONS, &[1, 2]);
            },
            true,
        );
        let (_, q) = parse_qdisc(&msg).expect("valid");
        assert_eq!((q.kind.as_str(), &q.options), ("htb", &QdiscOptions::None));
        assert_eq!(q.stats.packets, 789);
        let msg = qdisc_msg(
            "mqprio",
            |b| {
                b.put(TCA_OPTIONS, &[2; 40]);
            },
            false,
        );
        assert_eq!(
            parse_qdisc(&msg).expect("valid").1.options,
            QdiscOptions::None
        );
        // No kind: not a qdisc message.
        assert!(parse_qdisc(&tcmsg(1, 0, 0)).is_none());
    }

    #[test]
    fn ets_class_dump_carries_the_quantum_of_bandwidth_bands() {
        let class = |band: u16, quantum: Option<u32>| {
            let mut b = AttrBuf::with_header(&tcmsg(4, 0x0001_0000 | u32::from(band), 0x0001_0000));
            b.str(TCA_KIND, "ets");
            b.begin(TCA_OPTIONS);
            if let Some(q) = quantum {
                b.u32(TCA_ETS_QUANTA_BAND, q);
            }
            b.end();
            b.bytes().to_vec()
        };
        let strict = parse_class(&class(1, None)).expect("valid");
        assert_eq!((strict.handle, strict.quantum), (0x0001_0001, None));
        let bw = parse_class(&class(2, Some(2020))).expect("valid");
        assert_eq!(
            (bw.handle, bw.parent, bw.quantum),
            (0x0001_0002, 0x0001_0000, Some(2020))
        );
    }

    #[test]
    fn root_classes_are_the_direct_children_of_the_root_only() {
        let root = Qdisc {
            kind: "ets".into(),
            handle: 0x0001_0000,
            parent: TC_H_ROOT,
            options: QdiscOptions::None,
            stats: TcStats::default(),
        };
        let class = |handle: u32, parent: u32| TcClass {
            kind: "ets".into(),
            handle,
            parent,
            quantum: None,
            stats: TcStats::default(),
        };
        // ets bands (parent root), prio bands (parent the qdisc).
        assert!(is_root_class(&root, &class(0x0001_0001, TC_H_ROOT)));
        assert!(is_root_class(&root, &class(0x0001_0002, 0x0001_0000)));
        // A qdisc 10: below band 1:1 has classes of its own; an htb child class of 1:1.
        assert!(!is_root_class(&root, &class(0x0010_0001, 0x0010_0000)));
        assert!(!is_root_class(&root, &class(0x0001_0010, 0x0001_0001)));
    }

    #[test]
    fn packet_counts_past_u32_come_from_pkt64() {
        let mut b = AttrBuf::with_header(&tcmsg(4, 0, TC_H_ROOT));
        b.str(TCA_KIND, "pfifo_fast");
        let mut basic = 9u64.to_ne_bytes().to_vec();
        basic.extend_from_slice(&5u32.to_ne_bytes());
        basic.extend_from_slice(&[0; 4]);
        b.begin(TCA_STATS2)
            .put(TCA_STATS_BASIC, &basic)
            .put(TCA_STATS_PKT64, &(5u64 + (1 << 32)).to_ne_bytes())
            .end();
        assert_eq!(
            parse_qdisc(b.bytes()).expect("valid").1.stats.packets,
            5 + (1 << 32)
        );
    }
}
