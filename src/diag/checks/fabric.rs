//! The GPU fabric (GPU nodes only): each GPU's nearest NIC, ACS redirect between them, the
//! NIC's queue IRQs against the GPU's NUMA node, and an nccl.conf against the node.

#[allow(clippy::wildcard_imports)]
use super::*;

use crate::fabric::nccl;
use crate::fabric::topo::{self, TopoReport};
use crate::fabric::PcieRel;

fn report(ctx: &Ctx) -> TopoReport {
    topo::report(&ctx.inputs.node)
}

fn gpu_subject(g: &topo::TopoGpu) -> String {
    format!("{} {}", g.name, g.address)
}

pub(super) fn nic_distance(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let r = report(ctx);
    r.gpus
        .iter()
        .map(|g| {
            let subject = gpu_subject(g);
            match g.nearest_relation {
                None => Finding::new(
                    c,
                    &subject,
                    Severity::Warn,
                    "no NIC with a PCIe relation to this GPU: GPU traffic to the network goes \
                     through host memory",
                )
                .ev("NICs", r.nics.len())
                .fix(Fix {
                    summary: "see the GPU and NIC layout".into(),
                    command: "dpuctl topo".into(),
                    profile: None,
                }),
                Some(rel @ (PcieRel::Node | PcieRel::Sys)) => Finding::new(
                    c,
                    &subject,
                    Severity::Warn,
                    format!(
                        "nearest NIC {} is {rel} away ({})",
                        g.nearest.join(","),
                        rel.meaning()
                    ),
                )
                .ev("nearest NIC", g.nearest.join(","))
                .ev("relation", rel)
                .ev(
                    "GPU NUMA node",
                    g.numa_node.map_or("-".into(), |n| n.to_string()),
                )
                .fix(Fix {
                    summary: "give this GPU's ranks the nearest NIC (NCCL_IB_HCA), or move a NIC \
                              onto the GPU's PCIe switch or root complex"
                        .into(),
                    command: format!("dpuctl nccl --gpu {}", g.name.trim_start_matches("GPU")),
                    profile: None,
                }),
                Some(rel) => Finding::new(
                    c,
                    &subject,
                    Severity::Ok,
                    format!("nearest NIC {} is {rel} away", g.nearest.join(",")),
                ),
            }
        })
        .collect()
}

pub(super) fn acs_redirect(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let r = report(ctx);
    let mut out = Vec::new();
    for g in &r.gpus {
        for p in g.pairs.iter().filter(|p| g.nearest.contains(&p.nic)) {
            let subject = format!("{}-{}", g.name, p.nic);
            if p.acs_redirect.is_empty() {
                out.push(Finding::new(
                    c,
                    &subject,
                    Severity::Ok,
                    "no ACS redirect on the path",
                ));
                continue;
            }
            let mut f = Finding::new(
                c,
                &subject,
                Severity::Warn,
                format!(
                    "ACS redirect on {} between {} and {}: peer-to-peer traffic goes up to the \
                     root complex",
                    p.acs_redirect.join(", "),
                    g.name,
                    p.nic
                ),
            )
            .ev("relation", p.relation.map_or("-", PcieRel::as_str));
            for b in &p.acs_redirect {
                let ctrl = ctx
                    .inputs
                    .node
                    .pci
                    .function(b)
                    .and_then(|f| f.acs.get().map(|a| a.control));
                f = f.ev(
                    format!("{b} ACS control"),
                    ctrl.map_or("-".into(), |v| format!("{v:#06x}")),
                );
            }
            let cmd = p
                .acs_redirect
                .iter()
                .map(|b| format!("setpci -s {b} ECAP_ACS+0x6.w=0000"))
                .collect::<Vec<_>>()
                .join("; ");
            out.push(
                f.fix(Fix {
                    summary: "turn ACS redirect off on the bridge (as NCCL's documentation does; \
                          not with an IOMMU that needs it for isolation), or in the BIOS"
                        .into(),
                    command: cmd,
                    profile: None,
                }),
            );
        }
    }
    out
}

pub(super) fn irq_gpu_node(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let r = report(ctx);
    let topo_cpus = &ctx.inputs.node.topology;
    let mut out = Vec::new();
    for n in &r.nics {
        let gpus: Vec<&topo::TopoGpu> = r
            .gpus
            .iter()
            .filter(|g| g.nearest.contains(&n.name))
            .collect();
        let Some(node) = gpus.iter().find_map(|g| g.numa_node) else {
            continue;
        };
        let Some(cpus) = topo_cpus.cpus_of_node(node) else {
            continue;
        };
        for nd in &n.netdevs {
            let Some(i) = ctx.ifaces.iter().find(|i| &i.name == nd) else {
                continue;
            };
            let irqs: Vec<_> = queue_irqs(i).collect();
            if irqs.is_empty() {
                continue;
            }
            let pair = format!(
                "{}-{}",
                gpus.iter()
                    .map(|g| g.name.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
                n.name
            );
            let off: Vec<_> = irqs
                .iter()
                .filter(|q| {
                    q.effective
                        .as_ref()
                        .or(q.affinity.as_ref())
                        .is_some_and(|a| !a.is_subset(cpus))
                })
                .collect();
            if off.is_empty() {
                out.push(Finding::new(
                    c,
                    nd,
                    Severity::Ok,
                    format!(
                        "all {} queue IRQs on NUMA node {node} of {pair}",
                        irqs.len()
                    ),
                ));
                continue;
            }
            let mut f = Finding::new(
                c,
                nd,
                Severity::Warn,
                format!(
                    "{} of {} queue IRQs off NUMA node {node}, the node of {pair}",
                    off.len(),
                    irqs.len()
                ),
            )
            .ev(format!("NUMA node {node} CPUs"), cpus.to_list());
            for q in &off {
                f = f.ev(
                    format!("IRQ {} ({})", q.irq, q.name),
                    q.effective
                        .as_ref()
                        .or(q.affinity.as_ref())
                        .map_or("-".into(), CpuSet::to_list),
                );
            }
            out.push(f.fix(Fix::iface_profile(
                &[nd],
                "queue IRQs on the NUMA node of the GPUs this NIC serves",
                "    irq_affinity: {cpus: gpu-numa, spread: true}\n",
            )));
        }
    }
    out
}

pub(super) fn nccl_conf(c: &Check, ctx: &Ctx) -> Vec<Finding> {
    let Some(file) = &ctx.inputs.nccl_conf else {
        return vec![Finding::new(
            c,
            "node",
            Severity::Na,
            "no nccl.conf read (none at /etc/nccl.conf or $NCCL_CONF_FILE, or not the live node)",
        )];
    };
    let given = match nccl::parse_conf(&file.path, &file.text) {
        Ok(g) => g,
        Err(e) => {
            return vec![
                Finding::new(c, &file.path, Severity::Warn, format!("unreadable: {e}"))
                    .ev("file", &file.path),
            ]
        }
    };
    let r = report(ctx);
    let ports = nccl::hca_ports(&ctx.inputs.node);
    let Ok(plan) = nccl::plan(&r, &ports, &[]) else {
        return Vec::new();
    };
    let interfaces: Vec<String> = ctx
        .inputs
        .node
        .interfaces
        .iter()
        .map(|i| i.name.clone())
        .collect();
    let items = nccl::check(
        &nccl::CheckNode {
            topo: &r,
            ports: &ports,
            interfaces: &interfaces,
            plan: &plan,
        },
        &given,
    );
    if items.is_empty() {
        return vec![Finding::new(
            c,
            &file.path,
            Severity::Ok,
            "sets none of the settings dpuctl derives from the node",
        )];
    }
    items
        .iter()
        .map(|i| {
            let subject = format!("{} {}", file.path, i.name);
            if i.ok {
                Finding::new(
                    c,
                    &subject,
                    Severity::Ok,
                    format!("{}={} fits", i.name, i.value),
                )
            } else {
                Finding::new(
                    c,
                    &subject,
                    Severity::Warn,
                    format!("{}={}: {}", i.name, i.value, i.detail),
                )
                .ev(&i.at, format!("{}={}", i.name, i.value))
                .fix(Fix {
                    summary: "the settings that follow from this node".into(),
                    command: "dpuctl nccl --format conf".into(),
                    profile: None,
                })
            }
        })
        .collect()
}
