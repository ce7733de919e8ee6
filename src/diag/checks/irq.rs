//! IRQ affinity: NUMA placement against the NIC and the GPU, stacking, irqbalance, RPS/XPS.

#[allow(clippy::wildcard_imports)]
use super::*;

const IRQ_NIC_NUMA_BODY: &str = "    irq_affinity: {cpus: nic-numa, spread: true}\n";

/// The new affinity of an IRQ whose effective CPUs lie outside its affinity: the kernel
/// moves such an IRQ at its next interrupt (x86 without interrupt remapping).
pub(super) fn pending_move(q: &crate::model::Irq) -> Option<&CpuSet> {
    let (aff, eff) = (q.affinity.as_ref()?, q.effective.as_ref()?);
    (!aff.is_empty() && !eff.is_empty() && !eff.is_subset(aff)).then_some(aff)
}

pub(super) fn numa_remote(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let mut out = Vec::new();
    for i in &ctx.ifaces {
        let irqs: Vec<_> = queue_irqs(i).collect();
        if irqs.is_empty() {
            out.push(Finding::new(
                c,
                &i.name,
                Severity::Ok,
                "no queue IRQs (software device)",
            ));
            continue;
        }
        if i.numa_node.is_none() || irqs.iter().all(|q| q.nic_local.is_none()) {
            out.push(Finding::new(
                c,
                &i.name,
                Severity::Na,
                "the NIC's NUMA node is unknown (no numa_node in sysfs)",
            ));
            continue;
        }
        let node = i.numa_node.unwrap_or_default();
        let node_cpus = ctx.inputs.node.topology.cpus_of_node(node);
        let remote: Vec<_> = irqs
            .iter()
            .filter(|q| match (node_cpus, pending_move(q)) {
                // A move the kernel has not done yet (it happens at the next interrupt):
                // the new affinity is where the queue will be served.
                (Some(n), Some(aff)) => !aff.is_subset(n),
                _ => q.nic_local == Some(false),
            })
            .collect();
        let mut f = if remote.is_empty() {
            Finding::new(
                c,
                &i.name,
                Severity::Ok,
                format!("all {} queue IRQs on NUMA node {node}", irqs.len()),
            )
        } else {
            Finding::new(
                c,
                &i.name,
                Severity::Warn,
                format!(
                    "{} of {} queue IRQs served off the NIC's NUMA node {node}",
                    remote.len(),
                    irqs.len()
                ),
            )
            .fix(Fix::iface_profile(
                &[&i.name],
                "queue IRQs on the NIC's NUMA node",
                IRQ_NIC_NUMA_BODY,
            ))
        };
        for q in remote.iter().take(16) {
            let list = |c: Option<&CpuSet>| c.map_or("?".to_string(), CpuSet::to_list);
            let value = if pending_move(q).is_some() {
                format!(
                    "{} (served on {} until its next interrupt)",
                    list(q.affinity.as_ref()),
                    list(q.effective.as_ref())
                )
            } else {
                list(q.effective.as_ref().or(q.affinity.as_ref()))
            };
            f = f.ev(format!("irq {} ({})", q.irq, q.name), value);
        }
        if let Some(cpus) = ctx.inputs.node.topology.cpus_of_node(node) {
            f = f.ev(format!("node {node} CPUs"), cpus.to_list());
        }
        out.push(f);
    }
    out
}

pub(super) fn gpu_far(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let mut out = Vec::new();
    if ctx.inputs.node.topology.gpus.is_empty() {
        return vec![Finding::new(c, "node", Severity::Na, "no GPU on this node")];
    }
    for i in &ctx.ifaces {
        let irqs: Vec<_> = queue_irqs(i).filter(|q| q.gpu_local.is_some()).collect();
        if irqs.is_empty() {
            out.push(Finding::new(
                c,
                &i.name,
                Severity::Na,
                "no queue IRQs with a GPU node to compare",
            ));
            continue;
        }
        let far: Vec<_> = irqs.iter().filter(|q| q.gpu_local == Some(false)).collect();
        let mut f = if far.is_empty() {
            Finding::new(
                c,
                &i.name,
                Severity::Ok,
                "queue IRQs on the nearest GPU's NUMA node",
            )
        } else {
            Finding::new(
                c,
                &i.name,
                Severity::Info,
                format!(
                    "{} of {} queue IRQs off the nearest GPU's NUMA node",
                    far.len(),
                    irqs.len()
                ),
            )
            .fix(Fix::iface_profile(
                &[&i.name],
                "queue IRQs on the nearest GPU's NUMA node",
                "    irq_affinity: {cpus: gpu-numa, spread: true}\n",
            ))
        };
        for q in far.iter().take(16) {
            f = f.ev(
                format!("irq {} ({})", q.irq, q.name),
                q.affinity.as_ref().map_or("?".to_string(), CpuSet::to_list),
            );
        }
        out.push(f);
    }
    out
}

pub(super) fn stacked(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let mut out = Vec::new();
    for i in &ctx.ifaces {
        let irqs: Vec<_> = queue_irqs(i).collect();
        // By queue, not by IRQ: drivers with separate rx and tx vectors per queue (igb) put
        // both of a queue's vectors on one CPU on purpose.
        let queues: BTreeSet<u32> = irqs.iter().filter_map(|q| q.queue).collect();
        if queues.len() < 2 {
            out.push(Finding::new(
                c,
                &i.name,
                Severity::Ok,
                "fewer than two queues with IRQs",
            ));
            continue;
        }
        let mut per_cpu: BTreeMap<u32, (BTreeSet<u32>, Vec<u32>)> = BTreeMap::new();
        for q in &irqs {
            if let (Some(e), Some(queue)) = (q.effective.as_ref().or(q.affinity.as_ref()), q.queue)
            {
                if e.len() == 1 {
                    let e = per_cpu
                        .entry(e.iter().next().unwrap_or_default())
                        .or_default();
                    e.0.insert(queue);
                    e.1.push(q.irq);
                }
            }
        }
        let local = i
            .local_cpus
            .as_ref()
            .map_or(ctx.inputs.node.topology.online_cpus.len(), CpuSet::len);
        let distinct = per_cpu.len();
        let worst = per_cpu.iter().max_by_key(|(_, v)| v.0.len());
        let f = match worst {
            // Sharing is only avoidable when there are more CPUs than used so far.
            Some((cpu, (qs, v))) if qs.len() >= 2 && distinct < queues.len().min(local) => {
                Finding::new(
                    c,
                    &i.name,
                    Severity::Warn,
                    format!(
                        "{} queues' IRQs share CPU {cpu} while other local CPUs are free",
                        qs.len()
                    ),
                )
                .ev(
                    format!("cpu{cpu} IRQs"),
                    v.iter().map(u32::to_string).collect::<Vec<_>>().join(","),
                )
                .ev("CPUs serving queue IRQs", distinct)
                .ev("queues with IRQs", queues.len())
                .fix(Fix::iface_profile(
                    &[&i.name],
                    "one queue IRQ per CPU on the NIC's node",
                    IRQ_NIC_NUMA_BODY,
                ))
            }
            _ => Finding::new(
                c,
                &i.name,
                Severity::Ok,
                format!("{} queues' IRQs over {distinct} CPUs", queues.len()),
            ),
        };
        out.push(f);
    }
    out
}

pub(super) fn irqbalance(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let f = match &ctx.inputs.irqbalance {
        Avail::Na(r) => Finding::new(c, "node", Severity::Na, format!("irqbalance: {}", r.reason)),
        Avail::Ok(None) => Finding::new(c, "node", Severity::Ok, "irqbalance is not running"),
        Avail::Ok(Some(pid)) => Finding::new(
            c,
            "node",
            Severity::Warn,
            format!("irqbalance (pid {pid}) rewrites IRQ affinities every few seconds"),
        )
        .ev("irqbalance pid", pid),
    };
    vec![f]
}

pub(super) fn moved(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let Some(w) = ctx.window() else {
        return vec![na_window(c, ctx)];
    };
    let mut f = Finding::new(
        c,
        "node",
        Severity::Ok,
        "no IRQ affinity changed during the window",
    );
    let mut n = 0;
    for (irq, end) in &w.end.irq_affinity {
        if let Some(start) = w.start.irq_affinity.get(irq) {
            if start != end {
                n += 1;
                f = f.ev(
                    format!("irq {irq}"),
                    format!("{} -> {}", start.to_list(), end.to_list()),
                );
            }
        }
    }
    if n > 0 {
        f.severity = Severity::Warn;
        f.title = format!("{n} IRQ affinities changed during the window (irqbalance or a script)");
    }
    vec![f]
}

pub(super) fn rps(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let mut out = Vec::new();
    let online = ctx.inputs.node.topology.online_cpus.len();
    for i in &ctx.ifaces {
        let rx: Vec<_> = i.queues.iter().filter(|q| q.dir == Dir::Rx).collect();
        let set: Vec<_> = rx
            .iter()
            .filter_map(|q| q.rps_cpus.as_ref().filter(|s| !s.is_empty()))
            .collect();
        let queue_irqs: BTreeSet<u32> = queue_irqs(i).filter_map(|q| q.queue).collect();
        let node_cpus = i
            .numa_node
            .and_then(|n| ctx.inputs.node.topology.cpus_of_node(n));
        let rps_fix = || {
            Fix::iface_profile(
                &[&i.name],
                "receive packet steering over the local CPUs",
                "    rps: {cpus: nic-numa}\n",
            )
        };
        let f = if let Some(remote) = node_cpus.and_then(|n| set.iter().find(|s| !s.is_subset(n))) {
            Finding::new(
                c,
                &i.name,
                Severity::Warn,
                "RPS steers packets to CPUs off the NIC's NUMA node",
            )
            .ev("rps_cpus", remote.to_list())
            .fix(Fix::iface_profile(
                &[&i.name],
                "receive packet steering on the NIC's node",
                "    rps: {cpus: nic-numa}\n",
            ))
        } else if !set.is_empty() {
            Finding::new(
                c,
                &i.name,
                Severity::Ok,
                format!("RPS on {} of {} receive queues", set.len(), rx.len()),
            )
        } else if is_virtual(i) {
            // A software device has no receive interrupt: its packets are processed on the
            // CPU that hands them over (a veth's sender, a tunnel's underlying NIC), which
            // spreads as the senders do. RPS off is its default, not a bottleneck.
            Finding::new(
                c,
                &i.name,
                Severity::Ok,
                format!(
                    "RPS off; a {} device receives on the CPUs of its senders (no IRQ)",
                    i.kind.as_deref().unwrap_or("virtual")
                ),
            )
            .ev("receive queues", rx.len())
        } else if queue_irqs.len() > 1 {
            Finding::new(
                c,
                &i.name,
                Severity::Ok,
                format!(
                    "RPS off; RSS spreads receive work over {} queue IRQs",
                    queue_irqs.len()
                ),
            )
        } else if online > 1 {
            // One receive queue (or one interrupt for all): every received packet is
            // processed on the CPU of that IRQ, unless RPS spreads the work.
            Finding::new(
                c,
                &i.name,
                Severity::Info,
                format!(
                    "RPS off with {}: one CPU does all receive processing",
                    if queue_irqs.len() == 1 {
                        "one receive queue IRQ"
                    } else {
                        "no queue IRQs"
                    }
                ),
            )
            .ev("receive queues", rx.len())
            .ev("queue IRQs", queue_irqs.len())
            .ev("rps_cpus", "none")
            .fix(rps_fix())
        } else {
            Finding::new(c, &i.name, Severity::Ok, "RPS off on a single-CPU node")
        };
        out.push(f);
    }
    out
}

pub(super) fn xps(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let mut out = Vec::new();
    for i in &ctx.ifaces {
        let tx: Vec<_> = i.queues.iter().filter(|q| q.dir == Dir::Tx).collect();
        if tx.len() < 2 {
            out.push(Finding::new(
                c,
                &i.name,
                Severity::Ok,
                "single transmit queue",
            ));
            continue;
        }
        if tx.iter().all(|q| q.xps_cpus.is_none()) {
            out.push(Finding::new(
                c,
                &i.name,
                Severity::Na,
                "xps_cpus not readable (kernel without XPS)",
            ));
            continue;
        }
        let sets: Vec<(u32, &CpuSet)> = tx
            .iter()
            .filter_map(|q| {
                q.xps_cpus
                    .as_ref()
                    .filter(|s| !s.is_empty())
                    .map(|s| (q.index, s))
            })
            .collect();
        // Queue N's XPS CPUs should include a CPU that serves queue N's IRQ, so a CPU sends
        // on the queue whose completions it handles (scaling.rst, "XPS").
        let conflicts: Vec<(u32, &CpuSet, CpuSet)> = sets
            .iter()
            .filter_map(|(q, xps)| {
                let irq_cpus: Vec<u32> = queue_irqs(i)
                    .filter(|x| x.queue == Some(*q))
                    .filter_map(|x| x.affinity.as_ref())
                    .flat_map(CpuSet::iter)
                    .collect();
                let irq_cpus = CpuSet::from_cpus(irq_cpus);
                (!irq_cpus.is_empty() && !xps.intersects(&irq_cpus)).then_some((*q, *xps, irq_cpus))
            })
            .collect();
        let fix = || {
            Fix::iface_profile(
                &[&i.name],
                "one transmit queue per CPU (XPS)",
                "    xps: {cpus: nic-numa}\n",
            )
        };
        let f = if sets.is_empty() {
            Finding::new(
                c,
                &i.name,
                Severity::Info,
                format!(
                    "XPS unset on {} transmit queues: the queue is picked by flow hash",
                    tx.len()
                ),
            )
            .fix(fix())
        } else if !conflicts.is_empty() {
            let mut f = Finding::new(
                c,
                &i.name,
                Severity::Warn,
                format!(
                    "XPS of {} transmit queues leaves out the CPUs serving their IRQs",
                    conflicts.len()
                ),
            )
            .fix(fix());
            for (q, xps, irq) in conflicts.iter().take(8) {
                f = f.ev(
                    format!("tx-{q}"),
                    format!("xps {} / irq {}", xps.to_list(), irq.to_list()),
                );
            }
            f
        } else {
            Finding::new(
                c,
                &i.name,
                Severity::Ok,
                format!("XPS set on {} of {} transmit queues", sets.len(), tx.len()),
            )
        };
        out.push(f);
    }
    out
}
