//! The RDMA section of `show` and the `show --rdma` view.

use std::fmt::Write as _;

use crate::model::rdma::{RdmaDevice, RdmaPort};
use crate::monitor::rdma_classes::{table_name as rdma_table_name, RdmaClass, RdmaTables};

use super::{push_table, table};

/// The `show --rdma` table: every device, its ports and their GID tables.
pub fn rdma_table(devs: &[RdmaDevice]) -> String {
    let mut out = String::new();
    if devs.is_empty() {
        out.push_str("no RDMA devices\n");
        return out;
    }
    for (i, d) in devs.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        device_section(&mut out, d);
    }
    out
}

/// The section `show` appends after the interfaces (nothing without RDMA devices).
pub fn rdma_section(out: &mut String, devs: &[RdmaDevice]) {
    if devs.is_empty() {
        return;
    }
    out.push('\n');
    out.push_str("rdma\n");
    out.push_str(&rdma_table(devs));
}

fn device_section(out: &mut String, d: &RdmaDevice) {
    let mut head = format!("== {} ==  {}", d.name, d.node_type);
    if let Some(drv) = &d.driver {
        let _ = write!(head, "  driver {drv}");
    }
    if let Some(fw) = &d.fw_ver {
        let _ = write!(head, "  fw {fw}");
    }
    if let Some(p) = &d.pci_address {
        let _ = write!(head, "  pci {p}");
    }
    if let Some(g) = &d.node_guid {
        let _ = write!(head, "  guid {g}");
    }
    out.push_str(&head);
    out.push('\n');
    let tables = RdmaTables::builtin();
    let name = rdma_table_name(d);
    for p in &d.ports {
        port_section(out, p, &tables, &name);
    }
}

fn port_section(out: &mut String, p: &RdmaPort, tables: &RdmaTables, table_name: &str) {
    let mut line = format!(
        "port {}  {} ({})  {}  {}",
        p.port,
        p.state,
        p.phys_state,
        if p.rate.is_empty() {
            "rate n/a"
        } else {
            &p.rate
        },
        p.link_layer
    );
    if let Some(m) = p.active_mtu {
        let _ = write!(line, "  mtu {m}");
    }
    if let Some(n) = &p.netdev {
        let _ = write!(line, "  netdev {n}");
    }
    out.push_str(&line);
    out.push('\n');
    let v2 = p.roce_v2_ipv4_gid().map(|g| g.index);
    if p.is_roce() {
        let _ = writeln!(
            out,
            "  roce v2 ipv4 gid {}  rdma_cm roce_mode {}  tos {}",
            v2.map_or_else(|| "none".to_string(), |i| i.to_string()),
            p.default_roce_mode.as_deref().unwrap_or("-"),
            p.default_roce_tos
                .map_or_else(|| "-".to_string(), |t| t.to_string()),
        );
    }
    if p.gids.is_empty() {
        out.push_str("  no GIDs\n");
    } else {
        let rows: Vec<[String; 5]> = p
            .gids
            .iter()
            .map(|g| {
                let mark = if Some(g.index) == v2 { "*" } else { "" };
                [
                    format!("  {}{mark}", g.index),
                    g.kind.to_string(),
                    g.netdev.clone().unwrap_or_else(|| "-".into()),
                    g.ip().to_string(),
                    g.gid.to_string(),
                ]
            })
            .collect();
        if super::WRAP.load(std::sync::atomic::Ordering::Relaxed) || !push_plain(out, &rows) {
            let mut t = table(&GID_HEADER);
            for r in rows {
                t.add_row(Vec::from(r));
            }
            push_table(out, &t);
        }
    }
    let nonzero = p.hw_counters.values().filter(|v| **v > 0).count();
    if !p.hw_counters.is_empty() {
        let _ = writeln!(
            out,
            "  hw_counters {} ({nonzero} non-zero)",
            p.hw_counters.len()
        );
    }
    // The non-zero ones, classified ones first with their class (rdma_classes.yaml).
    let mut rows: Vec<(Option<RdmaClass>, &str, u64)> = p
        .hw_counters
        .iter()
        .filter(|(_, v)| **v > 0)
        .map(|(n, v)| (tables.classify(table_name, n), n.as_str(), *v))
        .collect();
    rows.sort_by_key(|(c, n, _)| (c.is_none(), *c, *n));
    for (class, name, v) in rows {
        match class {
            Some(c) => {
                let _ = writeln!(out, "    {name} {v} ({c})");
            }
            None => {
                let _ = writeln!(out, "    {name} {v}");
            }
        }
    }
}

const GID_HEADER: [&str; 5] = ["  GID", "TYPE", "NETDEV", "ADDRESS", "GID VALUE"];

/// Writes the GID table laid out as [`table`] lays it out unwrapped (each cell padded to its
/// column's width with one space either side, no borders, lines trimmed), without
/// comfy-table: a full table is 256 rows a port, and for 16 devices comfy-table took a
/// fifth of `show --rdma`. Only for ASCII cells (every GID row is; a netdev name need not
/// be), where a character is a column; `false` (nothing written) otherwise.
fn push_plain(out: &mut String, rows: &[[String; 5]]) -> bool {
    if !rows.iter().flatten().all(|c| c.is_ascii()) {
        return false;
    }
    let mut widths = GID_HEADER.map(str::len);
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.len());
        }
    }
    let mut line = |cells: [&str; 5]| {
        let start = out.len();
        for (c, w) in cells.iter().zip(widths) {
            out.push(' ');
            out.push_str(c);
            out.extend(std::iter::repeat_n(' ', w - c.len() + 1));
        }
        out.truncate(out.trim_end().len().max(start));
        out.push('\n');
    };
    line(GID_HEADER);
    for r in rows {
        line([&r[0], &r[1], &r[2], &r[3], &r[4]]);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::rdma::{Gid, GidKind};
    use std::collections::BTreeMap;

    /// The GID table written without comfy-table is byte for byte the unwrapped comfy-table
    /// one, whatever the widths; a non-ASCII cell is left to comfy-table.
    #[test]
    fn plain_gid_table_is_the_comfy_table_one() {
        use proptest::prelude::*;
        let comfy = |rows: &[[String; 5]]| {
            let mut t = comfy_table::Table::new();
            t.force_no_tty()
                .load_style(comfy_table::presets::NOTHING)
                .set_content_arrangement(comfy_table::ContentArrangement::Disabled)
                .set_width(super::super::WIDTH)
                .set_header(GID_HEADER.iter().map(comfy_table::Cell::new));
            for r in rows {
                t.add_row(r.to_vec());
            }
            let mut out = String::from("x\n");
            push_table(&mut out, &t);
            out
        };
        let cell = "[ -~]{0,40}";
        proptest!(|(rows in proptest::collection::vec(
            [cell, cell, cell, cell, cell], 0..20))| {
            let mut plain = String::from("x\n");
            prop_assert!(push_plain(&mut plain, &rows));
            prop_assert_eq!(plain, comfy(&rows));
        });
        let rows = [[
            "  0".to_string(),
            "RoCE v2".into(),
            "eth\u{e9}".into(),
            "10.0.0.1".into(),
            "::ffff:10.0.0.1".into(),
        ]];
        let mut out = String::new();
        assert!(!push_plain(&mut out, &rows));
        assert!(out.is_empty());
    }

    #[test]
    fn table_marks_the_roce_v2_ipv4_gid() {
        let gid = |index: u32, text: &str, kind| Gid {
            index,
            gid: text.parse().expect("gid"),
            kind,
            netdev: Some("virtio0".into()),
        };
        let mut dev = crate::model::rdma::test_device("rxe0", "virtio0", Some(true));
        dev.driver = None;
        dev.node_guid = Some("5054:00ff:fe12:3456".into());
        let p = &mut dev.ports[0];
        p.rate = "2.5 Gb/sec (1X SDR)".into();
        p.rate_gbps = Some(2.5);
        p.netdev_index = Some(2);
        p.gids = vec![
            gid(0, "fe80::5054:ff:fe12:3456", GidKind::RoceV2),
            gid(1, "::ffff:198.18.0.2", GidKind::RoceV2),
        ];
        p.hw_counters = BTreeMap::from([("rcvd_seq_err".to_string(), 2)]);
        p.default_roce_tos = Some(106);
        let text = rdma_table(&[dev]);
        assert!(
            text.starts_with("== rxe0 ==  CA  guid 5054:00ff:fe12:3456\n"),
            "{text}"
        );
        assert!(
            text.contains("roce v2 ipv4 gid 1  rdma_cm roce_mode RoCE v2  tos 106"),
            "{text}"
        );
        assert!(text.contains("  1*"), "{text}");
        assert!(text.contains("198.18.0.2"), "{text}");
        assert!(text.contains("hw_counters 1 (1 non-zero)"), "{text}");
        assert!(
            text.contains("    rcvd_seq_err 2 (sequence_errors)\n"),
            "{text}"
        );
        assert_eq!(rdma_table(&[]), "no RDMA devices\n");
    }
}
