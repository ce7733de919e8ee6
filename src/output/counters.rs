//! `show --stats`: the driver-private counters (`ethtool -S`) of an interface, grouped by the
//! counter classes of `src/monitor/classes.yaml` (what a counter means), non-zero first in
//! each group, then the counters no table knows.

use std::fmt::Write as _;

use super::{push_table, table};
use crate::model::{Avail, Interface, NamedCounter};
use crate::monitor::classes::{ClassMatch, ClassTables, ALL_CLASSES};

/// The group a counter is listed under: its class (with the direction and queue the table
/// gives), or `other`.
fn group(m: Option<&ClassMatch>) -> String {
    let Some(m) = m else {
        return "other".into();
    };
    let mut s = m.class.name().to_string();
    if let Some(d) = m.dir {
        s = format!(
            "{} {s}",
            if d == crate::model::Dir::Rx {
                "rx"
            } else {
                "tx"
            }
        );
    }
    s
}

/// The counters in display order: by class (in [`ALL_CLASSES`] order, then unclassified),
/// non-zero before zero within a class, the driver's order otherwise.
pub fn ordered<'a>(
    tables: &ClassTables,
    driver: Option<&str>,
    counters: &'a [NamedCounter],
) -> Vec<(Option<ClassMatch>, &'a NamedCounter)> {
    let mut v: Vec<(usize, Option<ClassMatch>, &NamedCounter)> = counters
        .iter()
        .enumerate()
        .map(|(i, c)| (i, driver.and_then(|d| tables.classify(d, &c.name)), c))
        .collect();
    let rank = |m: &Option<ClassMatch>| {
        m.map_or(ALL_CLASSES.len(), |m| {
            ALL_CLASSES
                .iter()
                .position(|c| *c == m.class)
                .unwrap_or(ALL_CLASSES.len())
        })
    };
    v.sort_by_key(|(i, m, c)| (rank(m), c.value == 0, *i));
    v.into_iter().map(|(_, m, c)| (m, c)).collect()
}

/// Appends the driver counter table of an interface (or why there is none).
pub fn driver_stats_table(out: &mut String, i: &Interface) {
    let counters = match &i.driver_stats {
        Avail::Ok(c) => c,
        Avail::Na(r) => {
            let _ = writeln!(out, " driver counters: n/a ({})", r.reason);
            return;
        }
    };
    if counters.is_empty() {
        out.push_str(" driver counters: none (the driver has no private counters)\n");
        return;
    }
    let driver = i.driver.get().map(|d| d.driver.as_str());
    let tables = ClassTables::builtin();
    let rows = ordered(&tables, driver, counters);
    let nonzero = counters.iter().filter(|c| c.value > 0).count();
    let _ = writeln!(
        out,
        " driver counters (ethtool -S): {nonzero} non-zero of {}, by class",
        counters.len()
    );
    let mut t = table(&["class", "counter", "value"]);
    for (m, c) in rows {
        let mut name = c.name.clone();
        if let Some(q) = m.and_then(|m| m.queue) {
            let _ = write!(name, " (queue {q})");
        }
        t.add_row(vec![group(m.as_ref()), name, c.value.to_string()]);
    }
    push_table(out, &t);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(name: &str, value: u64) -> NamedCounter {
        NamedCounter {
            name: name.into(),
            value,
        }
    }

    #[test]
    fn classes_first_then_other_non_zero_first_in_each() {
        let counters = [
            c("rx_packets", 9),
            c("rx0_packets", 0),
            c("rx1_packets", 7),
            c("rx_out_of_buffer", 0),
            c("rx_crc_errors_phy", 2),
            c("ch_events", 0),
            c("rx_discards_phy", 5),
        ];
        let t = ClassTables::builtin();
        let got: Vec<(String, &str)> = ordered(&t, Some("mlx5_core"), &counters)
            .iter()
            .map(|(m, c)| (group(m.as_ref()), c.name.as_str()))
            .collect();
        let want = [
            ("rx buffer_exhaustion", "rx_out_of_buffer"),
            ("rx fifo_overflow", "rx_discards_phy"),
            ("rx crc", "rx_crc_errors_phy"),
            ("rx queue_packets", "rx1_packets"),
            ("rx queue_packets", "rx0_packets"),
            ("other", "rx_packets"),
            ("other", "ch_events"),
        ];
        let want: Vec<(String, &str)> = want.iter().map(|(g, n)| ((*g).into(), *n)).collect();
        assert_eq!(got, want);
        // Without a table for the driver everything is "other", non-zero first.
        let other: Vec<&str> = ordered(&t, Some("nosuch"), &counters)
            .iter()
            .map(|(_, c)| c.name.as_str())
            .collect();
        assert_eq!(
            other[..5],
            [
                "rx_packets",
                "rx1_packets",
                "rx_crc_errors_phy",
                "rx_discards_phy",
                "rx0_packets"
            ]
        );
    }
}
