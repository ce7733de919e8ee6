//! The traffic-class part of `show`: the root qdisc with its counters, one row per class (per
//! ETS band: quantum, sent, drops, backlog, requeues, as `tc -s class show` tells), and the
//! DCB state (PFC priorities with their pause frames sent and received, ETS shares, APP
//! table) or why there is none.

use std::fmt::Write as _;

use super::{human_bytes, push_table, table};
use crate::model::dcb::{DcbState, APP_SEL_DSCP, TSA_STRICT};
use crate::model::qos::{handle_str, QdiscSpec, TcStats};
use crate::model::{Avail, Interface};

fn stats_text(s: &TcStats) -> String {
    format!(
        "sent {} {} pkts, drops {}, backlog {}b {}p, requeues {}, overlimits {}",
        human_bytes(s.bytes),
        s.packets,
        s.drops,
        s.backlog,
        s.qlen,
        s.requeues,
        s.overlimits
    )
}

/// `qdisc` and `dcb` rows for the interface table.
pub fn rows(i: &Interface, row: &mut impl FnMut(&str, String)) {
    if let Some(root) = i.tc.as_ref().and_then(|t| t.root()) {
        let spec = QdiscSpec {
            kind: root.kind.clone(),
            handle: Some(root.handle),
            options: root.options.clone(),
        };
        row("qdisc", format!("{spec}; {}", stats_text(&root.stats)));
    }
    match &i.dcb {
        None => {}
        Some(Avail::Na(r)) => row("dcb", format!("n/a ({})", r.reason)),
        Some(Avail::Ok(d)) => row("dcb", dcb_text(d)),
    }
}

/// One line of DCB state: `pfc on 3 (sent 7, received 10000); ets tc0 50% tc3 50% tc6
/// strict; dscp 26:3; trust dscp`.
pub fn dcb_text(d: &DcbState) -> String {
    let mut parts = Vec::new();
    if let Some(p) = &d.pfc {
        let en = p.enabled();
        if en.is_empty() {
            parts.push("pfc off".to_string());
        } else {
            let per: Vec<String> = en
                .iter()
                .map(|&pr| {
                    let at = |v: &[u64]| v.get(usize::from(pr)).copied().unwrap_or(0);
                    format!(
                        "{pr} (sent {}, received {})",
                        at(&p.requests),
                        at(&p.indications)
                    )
                })
                .collect();
            parts.push(format!("pfc on {}", per.join(", ")));
        }
    }
    if let Some(e) = &d.ets {
        let mut s = String::from("ets");
        for (tc, (bw, tsa)) in e.tc_tx_bw.iter().zip(&e.tc_tsa).enumerate() {
            if *tsa == TSA_STRICT {
                let _ = write!(s, " tc{tc} strict");
            } else if *bw > 0 {
                let _ = write!(s, " tc{tc} {bw}%");
            }
        }
        parts.push(s);
    }
    // The APP table and trust order in the words a profile takes (`dscp: {26: 3}`,
    // `trust: dscp`), which are iproute2's `dcb app` / `dcb apptrust` words.
    let dscp: Vec<String> = d
        .apps
        .iter()
        .filter(|a| a.selector == APP_SEL_DSCP)
        .map(|a| format!("{}:{}", a.protocol, a.priority))
        .collect();
    if !dscp.is_empty() {
        parts.push(format!("dscp {}", dscp.join(" ")));
    }
    for a in d.apps.iter().filter(|a| a.selector != APP_SEL_DSCP) {
        parts.push(format!(
            "app {}-prio {}:{}",
            crate::model::dcb::selector_name(a.selector),
            a.protocol,
            a.priority
        ));
    }
    if let Some(t) = &d.trust {
        parts.push(format!("trust {}", crate::model::dcb::trust_text(t)));
    }
    if parts.is_empty() {
        "nothing configured".to_string()
    } else {
        parts.join("; ")
    }
}

/// The quantum column of a class: its DRR quantum, `strict` for an ets band without one,
/// `-` for other kinds (mqprio, prio, htb have no quantum; software mqprio shares no
/// bandwidth and has no strict bands either).
fn quantum_cell(c: &crate::model::qos::TcClass) -> String {
    match (c.quantum, c.kind.as_str()) {
        (Some(q), _) => q.to_string(),
        (None, "ets") => "strict".to_string(),
        (None, _) => "-".to_string(),
    }
}

/// The class table: one row per class of the root qdisc.
pub fn class_table(out: &mut String, i: &Interface) {
    let Some(tc) = &i.tc else {
        return;
    };
    if tc.classes.is_empty() {
        return;
    }
    let mut t = table(&[
        "class", "quantum", "sent", "pkts", "drops", "backlog", "requeues",
    ]);
    for c in &tc.classes {
        t.add_row(vec![
            format!("{} {}", c.kind, handle_str(c.handle)),
            quantum_cell(c),
            human_bytes(c.stats.bytes),
            c.stats.packets.to_string(),
            c.stats.drops.to_string(),
            format!("{}b {}p", c.stats.backlog, c.stats.qlen),
            c.stats.requeues.to_string(),
        ]);
    }
    push_table(out, &t);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::dcb::{DcbApp, IeeeEts, IeeePfc};

    #[test]
    fn only_ets_bands_without_a_quantum_are_called_strict() {
        use crate::model::qos::{TcClass, TcStats};
        let class = |kind: &str, handle: u32, quantum: Option<u32>| TcClass {
            kind: kind.into(),
            handle,
            parent: 0xFFFF_FFFF,
            quantum,
            stats: TcStats::default(),
        };
        let cell = |c: TcClass| quantum_cell(&c);
        assert_eq!(cell(class("ets", 0x0001_0001, None)), "strict");
        assert_eq!(cell(class("ets", 0x0001_0002, Some(2020))), "2020");
        assert_eq!(cell(class("mqprio", 0x8001_FFE0, None)), "-");
    }

    #[test]
    fn dcb_line_names_pfc_counters_ets_and_app() {
        let d = DcbState {
            ets: Some(IeeeEts {
                tc_tx_bw: vec![50, 0, 0, 50, 0, 0, 0, 0],
                tc_tsa: vec![2, 2, 2, 2, 2, 2, 0, 2],
                ..IeeeEts::default()
            }),
            pfc: Some(IeeePfc {
                pfc_en: 0x08,
                requests: vec![0, 0, 0, 7, 0, 0, 0, 0],
                indications: vec![0, 0, 0, 10_000, 0, 0, 0, 0],
                ..IeeePfc::default()
            }),
            apps: vec![DcbApp {
                selector: APP_SEL_DSCP,
                priority: 3,
                protocol: 26,
            }],
            dcbx: None,
            trust: Some(vec![APP_SEL_DSCP]),
        };
        assert_eq!(
            dcb_text(&d),
            "pfc on 3 (sent 7, received 10000); ets tc0 50% tc3 50% tc6 strict; dscp 26:3; trust dscp"
        );
        assert_eq!(dcb_text(&DcbState::default()), "nothing configured");
    }

    /// One vocabulary: the APP and trust parts of the `dcb` row, pasted into a profile as
    /// they are printed, are accepted and mean the same state.
    #[test]
    fn the_dcb_row_prints_words_a_profile_takes() {
        let d = DcbState {
            apps: vec![
                DcbApp {
                    selector: APP_SEL_DSCP,
                    priority: 3,
                    protocol: 26,
                },
                DcbApp {
                    selector: APP_SEL_DSCP,
                    priority: 6,
                    protocol: 48,
                },
            ],
            trust: Some(vec![APP_SEL_DSCP, crate::model::dcb::APP_SEL_PCP]),
            ..DcbState::default()
        };
        let line = dcb_text(&d);
        assert_eq!(line, "dscp 26:3 48:6; trust dscp pcp");
        let part = |key: &str| {
            line.split("; ")
                .find_map(|p| p.strip_prefix(key))
                .expect("printed")
                .to_string()
        };
        let dscp: Vec<String> = part("dscp ")
            .split(' ')
            .map(|e| e.replace(':', ": "))
            .collect();
        let trust = part("trust ").replace(' ', ", ");
        let text = format!(
            "name: t\ndescription: t\ninterfaces:\n  - match: {{name: eth2}}\n    \
             dscp: {{{}}}\n    trust: [{trust}]\n",
            dscp.join(", ")
        );
        let p = crate::profile::Profile::from_yaml("t", &text).expect("accepted");
        let s = &p.blocks[0].settings;
        assert_eq!(s.dscp, [(26, 3), (48, 6)].into());
        assert_eq!(s.trust, d.trust);
    }
}
