//! The IRQ table of `show`: where each queue's interrupts are meant to go (the configured
//! affinity), where the kernel sends them (the effective affinity), and which CPUs took them
//! so far (the per-CPU counts of `/proc/interrupts`).

use std::fmt::Write as _;

use super::{push_table, table};
use crate::model::{Interface, Irq};

/// CPUs listed by count in the table; JSON carries every CPU that took an interrupt.
const TOP: usize = 3;

/// A count for people: `950`, `12.3k`, `1.5M`.
pub fn human_count(v: u64) -> String {
    let x = v as f64;
    if v >= 1_000_000_000 {
        format!("{:.1}G", x / 1e9)
    } else if v >= 1_000_000 {
        format!("{:.1}M", x / 1e6)
    } else if v >= 1_000 {
        format!("{:.1}k", x / 1e3)
    } else {
        v.to_string()
    }
}

/// `4 93%, 12 7%`: the busiest CPUs and their share of the IRQ's interrupts, `+N` for the
/// rest; `-` for an IRQ that never fired, `n/a` where the counts per CPU are not known (a
/// snapshot taken before dpuctl recorded them).
pub fn busiest(irq: &Irq) -> String {
    let total: u64 = irq.per_cpu.iter().map(|c| c.count).sum();
    if total == 0 {
        return if irq.count > 0 { "n/a" } else { "-" }.into();
    }
    let mut s = irq
        .top_cpus(TOP)
        .iter()
        .map(|c| {
            let pct = c.count as f64 * 100.0 / total as f64;
            if pct >= 1.0 || c.count == total {
                format!("{} {pct:.0}%", c.cpu)
            } else {
                format!("{} <1%", c.cpu)
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    if irq.per_cpu.len() > TOP {
        let _ = write!(s, " +{}", irq.per_cpu.len() - TOP);
    }
    s
}

fn locality(irq: &Irq) -> String {
    let f = |v: Option<bool>| match v {
        Some(true) => "local",
        Some(false) => "REMOTE",
        None => "-",
    };
    format!("nic {} gpu {}", f(irq.nic_local), f(irq.gpu_local))
}

/// The effective affinity, `-` where the kernel does not report one; marked `*` where it
/// differs from the configured affinity (the IRQ does not go where the mask says).
fn effective(irq: &Irq) -> String {
    match &irq.effective {
        None => "-".into(),
        Some(e) if irq.effective_differs() => format!("{e}*"),
        Some(e) => e.to_string(),
    }
}

/// Appends the IRQ table of an interface: queue IRQs in queue order, then the others with
/// their names.
pub fn irq_table(out: &mut String, i: &Interface) {
    if i.irqs.is_empty() {
        return;
    }
    let mut t = table(&[
        "irq",
        "queue",
        "affinity",
        "effective",
        "locality",
        "interrupts",
        "by cpu",
    ]);
    let mut irqs: Vec<&Irq> = i.irqs.iter().collect();
    irqs.sort_by_key(|x| (x.queue.is_none(), x.queue, x.irq));
    for x in &irqs {
        let mut loc = locality(x);
        if x.queue.is_none() {
            let _ = write!(loc, " ({})", x.name);
        }
        t.add_row(vec![
            x.irq.to_string(),
            x.queue.map_or("-".into(), |q| q.to_string()),
            x.affinity.as_ref().map_or("-".into(), ToString::to_string),
            effective(x),
            loc,
            human_count(x.count),
            busiest(x),
        ]);
    }
    push_table(out, &t);
    if irqs.iter().any(|x| x.effective_differs()) {
        out.push_str(" * the kernel routes the IRQ to fewer CPUs than its affinity allows\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CpuCount, CpuSet};

    fn irq(aff: &str, eff: &str, counts: &[(u32, u64)]) -> Irq {
        Irq {
            irq: 40,
            name: "eth0-TxRx-0".into(),
            queue: Some(0),
            count: counts.iter().map(|c| c.1).sum(),
            per_cpu: counts
                .iter()
                .map(|&(cpu, count)| CpuCount { cpu, count })
                .collect(),
            affinity: CpuSet::parse_list(aff).ok(),
            effective: CpuSet::parse_list(eff).ok(),
            nic_local: Some(true),
            gpu_local: None,
        }
    }

    #[test]
    fn busiest_cpus_by_share() {
        assert_eq!(busiest(&irq("0", "0", &[])), "-");
        let mut old = irq("0", "0", &[]);
        old.count = 5;
        assert_eq!(busiest(&old), "n/a", "a snapshot without per-CPU counts");
        assert_eq!(busiest(&irq("0", "0", &[(0, 5)])), "0 100%");
        let spread = irq("0-15", "3", &[(0, 10), (3, 900), (5, 89), (7, 1)]);
        assert_eq!(busiest(&spread), "3 90%, 5 9%, 0 1% +1");
        assert_eq!(
            busiest(&irq("0", "0", &[(2, 1), (0, 999)])),
            "0 100%, 2 <1%"
        );
    }

    #[test]
    fn effective_is_marked_where_it_differs() {
        assert_eq!(effective(&irq("0-15", "3", &[])), "3*");
        assert_eq!(effective(&irq("3", "3", &[])), "3");
        let mut none = irq("3", "3", &[]);
        none.effective = None;
        assert_eq!(effective(&none), "-");
        assert!(!none.effective_differs());
    }

    #[test]
    fn counts_for_people() {
        assert_eq!(human_count(950), "950");
        assert_eq!(human_count(12_345), "12.3k");
        assert_eq!(human_count(1_500_000), "1.5M");
    }
}
