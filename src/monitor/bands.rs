//! Per-band traffic of the root qdisc (one band per class: `tc -s class show`), and the PFC
//! counters of dcbnl, as the live monitor reads, rates and totals them.
//!
//! The sampler reads both in its slow rounds (each refresh, 250 ms by default), not with the
//! 1 ms interface counters: a band's backlog is a gauge that a screen or a scrape shows once
//! per refresh, and its drops become a rate over the refresh anyway; a class dump costs a
//! netlink round trip under the RTNL lock per interface, and PFC counters come from the
//! driver (mlx5 asks its cached port counters) — neither belongs on the fast grid.
//!
//! Pure: the engine feeds [`BandState`] and [`PfcState`] with what the slow reads carried.

use serde::{Deserialize, Serialize};

use super::pause::PauseKey;
use super::rate::step;
use crate::model::dcb::MAX_TCS;
use crate::model::qos::{handle_str, TcStats};

/// Most classes read per interface: the direct children of the root qdisc. ets, prio and
/// mqprio have at most 16; a wider htb tree is cut here, which bounds the exporter's series.
pub const MAX_BANDS: usize = 64;

/// One class of the root qdisc with its counters, as one slow read saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BandSample {
    /// Class id (`1:3` is `0x0001_0003`).
    pub class: u32,
    /// Kind of the root qdisc (`ets`, `prio`, `mqprio`, `htb`, ...).
    pub kind: String,
    /// Counters (`TCA_STATS2`).
    pub stats: TcStats,
}

/// The band a class is, where the kind numbers its classes as bands: `ets`, `prio`, `multiq`
/// and `mq` count from minor 1 (band 0; for `mq` the tx queue), `mqprio` and `taprio` from
/// `TC_H_MIN_PRIORITY` (0xFFE0, traffic class 0). `None` for kinds whose classes are not
/// bands (htb, drr, hfsc, ...).
pub fn band_of(kind: &str, class: u32) -> Option<u32> {
    let minor = class & 0xFFFF;
    match kind {
        "ets" | "prio" | "multiq" | "mq" => minor.checked_sub(1),
        "mqprio" | "taprio" => minor.checked_sub(0xFFE0),
        _ => None,
    }
}

/// One band on screen: rates over the last refresh period, backlog as read last.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BandView {
    /// Class id as `tc` prints it (`1:3`).
    pub class: String,
    /// Kind of the root qdisc.
    pub kind: String,
    /// Band (ets/prio) or traffic class (mqprio), where the kind has them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub band: Option<u32>,
    /// Bits sent per second.
    pub bps: f64,
    /// Packets sent per second.
    pub pps: f64,
    /// Packets dropped per second.
    pub drops: f64,
    /// Packets requeued per second (the driver was busy).
    pub requeues: f64,
    /// Times per second the class was over its limit (a shaper held packets back).
    pub overlimits: f64,
    /// Bytes queued now (a gauge).
    pub backlog_bytes: u64,
    /// Packets queued now (a gauge).
    pub backlog_packets: u64,
    /// Drops since the class was made (the kernel's counter).
    pub drops_total: u64,
}

/// One band's counters as the kernel has them now (for the exporter).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BandTotal {
    /// Class id as `tc` prints it.
    pub class: String,
    /// Kind of the root qdisc.
    pub kind: String,
    /// Band or traffic class, where the kind has them.
    pub band: Option<u32>,
    /// Bytes sent.
    pub bytes: u64,
    /// Packets sent.
    pub packets: u64,
    /// Packets dropped.
    pub drops: u64,
    /// Packets requeued.
    pub requeues: u64,
    /// Over-limit events.
    pub overlimits: u64,
    /// Bytes queued now.
    pub backlog_bytes: u64,
    /// Packets queued now.
    pub backlog_packets: u64,
}

/// Counter fields summed between views: bytes, packets, drops, requeues, overlimits.
const N: usize = 5;

fn counters(s: &TcStats) -> [u64; N] {
    [
        s.bytes,
        s.packets,
        u64::from(s.drops),
        u64::from(s.requeues),
        u64::from(s.overlimits),
    ]
}

#[derive(Debug, Clone, Default)]
struct Band {
    class: u32,
    kind: String,
    cur: TcStats,
    last_d: [u64; N],
    acc: [u64; N],
    /// Time `acc` covers, ns (from the band's first read on: a band that appeared
    /// mid-period has its own).
    acc_ns: u64,
    /// Rates of the last view (kept when no read came since).
    rates: [f64; N],
}

/// The bands of one interface between views.
#[derive(Debug, Clone, Default)]
pub struct BandState {
    /// Time of the last read, ns.
    prev_t: Option<u64>,
    bands: Vec<Band>,
}

impl BandState {
    /// Takes one read of the root's classes at `t` (empty: the root has no classes now).
    /// A class whose id or kind changed starts from its new counters (no delta across).
    pub fn ingest(&mut self, t: u64, read: &[BandSample]) {
        let dt = self.prev_t.map(|p| t.saturating_sub(p));
        self.prev_t = Some(t);
        let mut next = Vec::with_capacity(read.len());
        for s in read {
            let now = counters(&s.stats);
            let mut b = match self
                .bands
                .iter()
                .position(|b| b.class == s.class && b.kind == s.kind)
            {
                Some(p) => {
                    let mut b = std::mem::take(&mut self.bands[p]);
                    b.acc_ns += dt.unwrap_or(0);
                    let old = counters(&b.cur);
                    for k in 0..N {
                        let d = step(old[k], now[k], b.last_d[k]).value();
                        b.last_d[k] = d;
                        b.acc[k] = b.acc[k].saturating_add(d);
                    }
                    b
                }
                None => Band {
                    class: s.class,
                    kind: s.kind.clone(),
                    ..Band::default()
                },
            };
            b.cur = s.stats;
            next.push(b);
        }
        next.sort_by_key(|b| b.class);
        self.bands = next;
    }

    /// Rates since the previous view (the previous rates when no read came since) and the
    /// backlog as read last; empty when the root has no classes.
    pub fn view(&mut self) -> Vec<BandView> {
        self.bands
            .iter_mut()
            .map(|b| {
                let ns = std::mem::take(&mut b.acc_ns);
                if ns > 0 {
                    let acc = std::mem::take(&mut b.acc);
                    b.rates = acc.map(|v| v as f64 * 1e9 / ns as f64);
                }
                BandView {
                    class: handle_str(b.class),
                    kind: b.kind.clone(),
                    band: band_of(&b.kind, b.class),
                    bps: b.rates[0] * 8.0,
                    pps: b.rates[1],
                    drops: b.rates[2],
                    requeues: b.rates[3],
                    overlimits: b.rates[4],
                    backlog_bytes: u64::from(b.cur.backlog),
                    backlog_packets: u64::from(b.cur.qlen),
                    drops_total: u64::from(b.cur.drops),
                }
            })
            .collect()
    }

    /// The kernel's counters of each band as read last.
    pub fn totals(&self) -> Vec<BandTotal> {
        self.bands
            .iter()
            .map(|b| BandTotal {
                class: handle_str(b.class),
                kind: b.kind.clone(),
                band: band_of(&b.kind, b.class),
                bytes: b.cur.bytes,
                packets: b.cur.packets,
                drops: u64::from(b.cur.drops),
                requeues: u64::from(b.cur.requeues),
                overlimits: u64::from(b.cur.overlimits),
                backlog_bytes: u64::from(b.cur.backlog),
                backlog_packets: u64::from(b.cur.qlen),
            })
            .collect()
    }
}

/// PFC frames per priority from dcbnl (`struct ieee_pfc`): `requests` are the PFC frames the
/// port sent (we asked the peer to pause), `indications` those it received (the peer asked
/// us). mlx5 fills them from its per-priority `tx_pause` and `rx_pause` port counters
/// (`mlx5e_dcbnl_ieee_getpfc`), the same ones `ethtool -S` shows as `tx_prioN_pause` and
/// `rx_prioN_pause`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PfcCounters {
    /// Sent, per priority 0..=7.
    pub requests: Vec<u64>,
    /// Received, per priority 0..=7.
    pub indications: Vec<u64>,
}

impl PfcCounters {
    /// `(side and priority, value)` of every counter.
    pub fn keyed(&self) -> impl Iterator<Item = (PauseKey, u64)> + '_ {
        let side = |sent: bool, v: &'_ Vec<u64>| {
            v.iter()
                .take(MAX_TCS)
                .enumerate()
                .map(move |(p, n)| {
                    (
                        PauseKey {
                            sent,
                            priority: Some(p as u32),
                        },
                        *n,
                    )
                })
                .collect::<Vec<_>>()
        };
        side(true, &self.requests)
            .into_iter()
            .chain(side(false, &self.indications))
    }
}

/// Where per-priority pause frames of an interface come from: dcbnl where the driver answers
/// it, else the driver's `ethtool -S` counters (the pause classes of `classes.yaml`). One
/// source per interface, so that a frame is never counted twice; link-level pause and pause
/// durations always come from `ethtool -S` (dcbnl has neither).
pub const PFC_SOURCE_DCB: &str = "dcbnl";
/// See [`PFC_SOURCE_DCB`].
pub const PFC_SOURCE_ETHTOOL: &str = "ethtool";

/// The name a dcbnl PFC counter goes by where a counter name is wanted (never an XON count).
pub const PFC_COUNTER: &str = "ieee_pfc";

/// The dcbnl PFC counters of one interface between reads.
#[derive(Debug, Clone, Default)]
pub struct PfcState {
    /// The last read, with its time.
    pub prev: Option<(u64, PfcCounters)>,
    /// Previous advance of each counter (requests then indications).
    last_d: Vec<u64>,
}

impl PfcState {
    /// Takes a read at `t`; returns the time since the previous read and each counter's
    /// advance, or `None` on the first read.
    pub fn ingest(&mut self, t: u64, cur: &PfcCounters) -> Option<(u64, Vec<(PauseKey, u64)>)> {
        let prev = self.prev.replace((t, cur.clone()))?;
        let old: Vec<(PauseKey, u64)> = prev.1.keyed().collect();
        let new: Vec<(PauseKey, u64)> = cur.keyed().collect();
        if old.len() != new.len() {
            self.last_d.clear();
            return None;
        }
        self.last_d.resize(new.len(), 0);
        let mut out = Vec::with_capacity(new.len());
        for (i, ((k, o), (_, n))) in old.iter().zip(&new).enumerate() {
            let d = step(*o, *n, self.last_d[i]).value();
            self.last_d[i] = d;
            out.push((*k, d));
        }
        Some((t.saturating_sub(prev.0), out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn band(class: u32, bytes: u64, drops: u32, backlog: u32, qlen: u32) -> BandSample {
        BandSample {
            class,
            kind: "ets".into(),
            stats: TcStats {
                bytes,
                packets: bytes / 100,
                drops,
                backlog,
                qlen,
                ..TcStats::default()
            },
        }
    }

    #[test]
    fn band_numbers_follow_the_kind() {
        assert_eq!(band_of("ets", 0x0001_0001), Some(0));
        assert_eq!(band_of("prio", 0x0001_0003), Some(2));
        assert_eq!(band_of("mqprio", 0x8001_FFE2), Some(2));
        assert_eq!(band_of("mqprio", 0x8001_0002), None);
        assert_eq!(band_of("htb", 0x0001_0001), None);
    }

    #[test]
    fn drops_are_rates_over_the_reads_and_backlog_is_the_last_value() {
        let mut s = BandState::default();
        s.ingest(
            0,
            &[band(0x1_0001, 0, 0, 0, 0), band(0x1_0002, 0, 10, 0, 0)],
        );
        // A view before a second read: no period, rates 0, the bands are there.
        let v = s.view();
        assert_eq!(v.len(), 2);
        assert_eq!((v[1].drops, v[1].drops_total), (0.0, 10));
        // 250 ms later band 1 sent 25000 bytes and dropped 5; 500 ms later 5 more drops and
        // 3000 bytes queued.
        s.ingest(
            250_000_000,
            &[band(0x1_0001, 0, 0, 0, 0), band(0x1_0002, 25_000, 15, 0, 0)],
        );
        s.ingest(
            500_000_000,
            &[
                band(0x1_0001, 0, 0, 0, 0),
                band(0x1_0002, 25_000, 20, 3000, 2),
            ],
        );
        let v = s.view();
        let b = &v[1];
        assert_eq!((b.class.as_str(), b.band), ("1:2", Some(1)));
        assert!((b.drops - 20.0).abs() < 1e-9, "{b:?}");
        assert!((b.bps - 400_000.0).abs() < 1e-6, "{b:?}");
        assert_eq!(
            (b.backlog_bytes, b.backlog_packets, b.drops_total),
            (3000, 2, 20)
        );
        assert!(v[0].drops.abs() < f64::EPSILON);
        // No read since: the rates stay, not zeros.
        assert!((s.view()[1].drops - 20.0).abs() < 1e-9);
        let t = s.totals();
        assert_eq!(
            (t[1].drops, t[1].bytes, t[1].backlog_bytes),
            (20, 25_000, 3000)
        );
    }

    #[test]
    fn a_replaced_root_starts_over_and_a_classless_root_shows_nothing() {
        let mut s = BandState::default();
        s.ingest(0, &[band(0x1_0001, 1000, 50, 0, 0)]);
        // Another kind under the same id: its counters are not a delta of the old ones.
        let mut other = band(0x1_0001, 10, 1, 0, 0);
        other.kind = "prio".into();
        s.ingest(100_000_000, &[other]);
        let v = s.view();
        assert_eq!(v[0].kind, "prio");
        assert!(v[0].drops.abs() < f64::EPSILON);
        // A counter that went backwards (class re-created) counts as nothing.
        s.ingest(0, &[]);
        s.ingest(200_000_000, &[band(0x1_0001, 5000, 7, 0, 0)]);
        s.ingest(300_000_000, &[band(0x1_0001, 10, 1, 0, 0)]);
        assert!(s.view()[0].drops.abs() < f64::EPSILON);
        s.ingest(400_000_000, &[]);
        assert!(s.view().is_empty());
        assert!(s.totals().is_empty());
    }

    #[test]
    fn pfc_reads_give_advances_by_side_and_priority() {
        let mut p = PfcState::default();
        let mut c = PfcCounters {
            requests: vec![0; 8],
            indications: vec![0; 8],
        };
        assert!(p.ingest(0, &c).is_none());
        c.requests[3] = 7;
        c.indications[3] = 40;
        let (dt, d) = p.ingest(250, &c).expect("second read");
        assert_eq!(dt, 250);
        let get = |sent: bool| {
            d.iter()
                .find(|(k, _)| k.sent == sent && k.priority == Some(3))
                .map(|x| x.1)
        };
        assert_eq!((get(true), get(false)), (Some(7), Some(40)));
        assert_eq!(d.iter().map(|x| x.1).sum::<u64>(), 47);
        assert_eq!(d.len(), 16);
    }
}
