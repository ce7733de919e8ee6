//! The IRQs of a NIC and the queue each one serves.
//!
//! A NIC's vectors are listed in its PCI function's `msi_irqs/` directory
//! (Documentation/ABI/testing/sysfs-bus-pci). Drivers name them in /proc/interrupts after the
//! interface (`eth2-TxRx-3`), the driver and PCI address (`mlx5_comp3@pci:0000:3b:00.0`) or
//! the virtio device (`virtio0-input.2`, where `virtio0` is not the interface name), so both
//! sources are used: `msi_irqs/` for the vectors, names for legacy `INTx` lines and for drivers
//! that name vectors after the interface.

use std::collections::BTreeSet;
use std::fs;

use crate::model::{CpuCount, Irq};

use super::procfs::{irq_affinity, IrqLine};
use super::sysfs::DeviceInfo;
use super::SysRoot;

/// Name parts that mark a vector that serves no queue: control, mailbox, admin and error
/// vectors (`virtio0-config`, `mlx5_async0`, `ena-mgmnt`, `idpf-Mailbox-0`, `iwlwifi:exception`).
const NOT_A_QUEUE: &[&str] = &[
    "admin",
    "aq",
    "async",
    "cmd",
    "config",
    "control",
    "ctrl",
    "err",
    "error",
    "event",
    "exception",
    "link",
    "lsc",
    "mailbox",
    "mbx",
    "mgmnt",
    "mgmt",
    "misc",
    "other",
    "pages",
    "shared",
    "virtqueues",
];

/// Words that, right before a trailing number, say the number is a queue or channel index:
/// `mlx5_comp3`, `mlx4-comp-3`, `gve-ntfy-blk0`, `iwlwifi:queue_2`, `Rx3`.
const QUEUE_WORDS: &[&str] = &[
    "blk", "ch", "chan", "comp", "fp", "q", "queue", "rx", "rxtx", "tx", "txrx",
];

/// The queue an IRQ serves, from its name in /proc/interrupts, or `None` for config, admin
/// and other non-queue vectors and for names that tell nothing.
///
/// `ifname` is the interface the IRQ belongs to: a bare interface name (`eth0`, igb's
/// "other" vector) is not a queue even though it ends in a digit.
///
/// An index above [`crate::model::MAX_QUEUE_INDEX`] is no queue: an IRQ name is free text.
pub fn queue_from_name(name: &str, ifname: &str) -> Option<u32> {
    queue_from_name_any(name, ifname).filter(|&q| q <= crate::model::MAX_QUEUE_INDEX)
}

fn queue_from_name_any(name: &str, ifname: &str) -> Option<u32> {
    let name = name.trim();
    if name.is_empty() || name == ifname {
        return None;
    }
    // "mlx5_comp3@pci:0000:3b:00.0", "gve-ntfy-blk0@pci:...": the device after '@' is noise.
    let base = name.split('@').next().unwrap_or(name);
    if base == ifname {
        return None;
    }
    // Words of the interface name itself ("ctrl0", "lan-link") say nothing about the vector.
    let scan = strip_ifname(base, ifname).unwrap_or(base);
    let words = scan
        .split(['-', '_', '.', ':', ' '])
        .filter(|w| !w.is_empty());
    let mut last = None;
    for w in words {
        let alpha: String = w
            .trim_end_matches(|c: char| c.is_ascii_digit())
            .to_ascii_lowercase();
        if NOT_A_QUEUE.contains(&alpha.as_str()) {
            return None;
        }
        last = Some(w);
    }
    if base.ends_with("default_queue") {
        // iwlwifi's first vector serves RX queue 0 (`queue_name()` in iwlwifi's pcie/trans.c).
        return Some(0);
    }
    let last = last?;
    // "eth2-TxRx-3", "ens1f0-3", "i40e-eth0-TxRx-5", "virtio0-input.2", "eth0-fp-0": a number
    // on its own after a separator.
    if last.bytes().all(|b| b.is_ascii_digit()) {
        if last.len() == base.len() {
            return None;
        }
        return last.parse().ok();
    }
    // "mlx5_comp3", "blk0", "queue_2" (split at '_' already), "Rx3": a queue word fused with
    // the number.
    let digits = last.bytes().rev().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let (word, num) = last.split_at(last.len() - digits);
    if QUEUE_WORDS.contains(&word.to_ascii_lowercase().as_str()) {
        num.parse().ok()
    } else {
        None
    }
}

/// What follows `ifname-` or `driver-ifname-` in a vector name (`TxRx-3` of
/// `i40e-eth0-TxRx-3`).
fn strip_ifname<'a>(base: &'a str, ifname: &str) -> Option<&'a str> {
    if let Some(r) = base.strip_prefix(ifname).and_then(|r| r.strip_prefix('-')) {
        return Some(r);
    }
    let (_, rest) = base.split_once('-')?;
    rest.strip_prefix(ifname)?.strip_prefix('-')
}

/// True when an action name belongs to `ifname`: the name itself (igb's "other" vector,
/// legacy `INTx`), `ifname-...` (`eth2-TxRx-3`), or `driver-ifname-...` (`i40e-eth0-TxRx-5`).
pub fn action_matches(action: &str, ifname: &str) -> bool {
    if action == ifname {
        return true;
    }
    if action
        .strip_prefix(ifname)
        .is_some_and(|r| r.starts_with('-'))
    {
        return true;
    }
    // One driver-name word in front: "i40e-eth0-TxRx-5", "ice-eth0-TxRx-5".
    action.split_once('-').is_some_and(|(drv, rest)| {
        !drv.is_empty()
            && rest
                .strip_prefix(ifname)
                .is_some_and(|r| r.is_empty() || r.starts_with('-'))
    })
}

/// The IRQ numbers listed in a PCI function's `msi_irqs/` directory.
fn msi_irqs(root: &SysRoot, dev: &DeviceInfo) -> BTreeSet<u32> {
    let Some(dir) = dev.pci_dir(root) else {
        return BTreeSet::new();
    };
    let Ok(rd) = fs::read_dir(dir.join("msi_irqs")) else {
        return BTreeSet::new();
    };
    rd.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect()
}

/// The IRQs of an interface: its PCI function's MSI/MSI-X vectors plus any /proc/interrupts
/// row with an action named after the interface, sorted by number. Vectors that are
/// allocated but have no row (no handler requested, never fired) are left out. Counts,
/// affinity and the queue come from `lines`, `irq/N/*` and the name; `nic_local` and
/// `gpu_local` are left for the caller, who knows the topology.
pub fn device_irqs(root: &SysRoot, ifname: &str, dev: &DeviceInfo, lines: &[IrqLine]) -> Vec<Irq> {
    let msi = msi_irqs(root, dev);
    let mut out: Vec<Irq> = lines
        .iter()
        .filter(|l| msi.contains(&l.irq) || l.actions().any(|a| action_matches(a, ifname)))
        .map(|l| {
            let (affinity, effective) = irq_affinity(root, l.irq);
            // A shared line names every action; the queue comes from this interface's own.
            let queue = l
                .actions()
                .find(|a| action_matches(a, ifname))
                .or_else(|| l.actions().next())
                .and_then(|a| queue_from_name(a, ifname));
            Irq {
                irq: l.irq,
                name: l.name.clone(),
                queue,
                count: l.total(),
                per_cpu: l
                    .cpu_counts()
                    .into_iter()
                    .map(|(cpu, count)| CpuCount { cpu, count })
                    .collect(),
                affinity,
                effective,
                nic_local: None,
                gpu_local: None,
            }
        })
        .collect();
    out.sort_by_key(|i| i.irq);
    out.dedup_by_key(|i| i.irq);
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::model::CpuSet;
    use crate::sys::{procfs, sysfs};

    fn fixture() -> SysRoot {
        let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/two-socket");
        SysRoot::new(base.join("sys"), base.join("proc"))
    }

    #[test]
    fn queue_names() {
        let table: &[(&str, &str, Option<u32>)] = &[
            ("eth2-TxRx-3", "eth2", Some(3)),
            ("eth2-TxRx-12", "eth2", Some(12)),
            ("eth0-rx-0", "eth0", Some(0)),
            ("eth0-tx-5", "eth0", Some(5)),
            ("ens1f0-3", "ens1f0", Some(3)),
            ("ens1f0", "ens1f0", None),
            ("eth0", "eth0", None),
            ("br-1", "br-1", None),
            ("mlx5_comp3@pci:0000:3b:00.0", "eth2", Some(3)),
            ("mlx5_comp0@pci:0000:81:00.0", "eth2", Some(0)),
            ("mlx5_async0@pci:0000:3b:00.0", "eth2", None),
            ("mlx5_async17@pci:0000:3b:00.0", "eth2", None),
            ("mlx5_ctrl_eq@pci:0000:3b:00.0", "eth2", None),
            ("mlx4-comp-3@pci:0000:04:00.0", "eth1", Some(3)),
            ("mlx4-async@pci:0000:04:00.0", "eth1", None),
            ("virtio0-input.2", "eth0", Some(2)),
            ("virtio0-output.2", "eth0", Some(2)),
            ("virtio0-input.0", "eth0", Some(0)),
            ("virtio0-config", "eth0", None),
            ("virtio0-control", "eth0", None),
            ("virtio0-virtqueues", "eth0", None),
            ("virtio0", "eth0", None),
            ("ice-eth0-TxRx-5", "eth0", Some(5)),
            ("i40e-eth0-TxRx-5", "eth0", Some(5)),
            ("i40e-0000:3b:00.0:misc", "eth0", None),
            ("ice-0000:3b:00.0:misc", "eth0", None),
            ("idpf-Mailbox-0", "eth0", None),
            ("idpf-eth0-TxRx-7", "eth0", Some(7)),
            ("igb0-TxRx-0", "igb0", Some(0)),
            ("hns3-0000:7d:00.0-TxRx-0", "eth0", Some(0)),
            ("eth0-fp-4", "eth0", Some(4)),
            ("eth0-rxtx-6", "eth0", Some(6)),
            ("eth0-Tx-Rx-1", "eth0", Some(1)),
            ("ena-mgmnt@pci:0000:00:05.0", "eth0", None),
            ("gve-ntfy-blk3@pci:0000:00:04.0", "eth0", Some(3)),
            ("gve-mgmnt@pci:0000:00:04.0", "eth0", None),
            ("iwlwifi:default_queue", "wlan0", Some(0)),
            ("iwlwifi:queue_1", "wlan0", Some(1)),
            ("iwlwifi:queue_14", "wlan0", Some(14)),
            ("iwlwifi:exception", "wlan0", None),
            ("iwlwifi:shared_IRQ", "wlan0", None),
            ("nvme0q3", "eth0", None),
            ("ctrl0-TxRx-2", "ctrl0", Some(2)),
            ("link1-5", "link1", Some(5)),
            ("", "eth0", None),
        ];
        for (name, ifname, want) in table {
            assert_eq!(queue_from_name(name, ifname), *want, "{name:?} on {ifname}");
        }
    }

    proptest::proptest! {
        #[test]
        fn generated_queue_names(
            ifname in "(eth|ens|enp|eno|ib)[0-9]{1,3}(f[0-9])?(np[0-9])?",
            q in 0u32..4096,
            dev in 0u32..64,
        ) {
            proptest::prop_assert_eq!(queue_from_name(&format!("{ifname}-TxRx-{q}"), &ifname), Some(q));
            proptest::prop_assert_eq!(queue_from_name(&format!("{ifname}-{q}"), &ifname), Some(q));
            proptest::prop_assert_eq!(queue_from_name(&format!("i40e-{ifname}-TxRx-{q}"), &ifname), Some(q));
            proptest::prop_assert_eq!(
                queue_from_name(&format!("mlx5_comp{q}@pci:0000:{:02x}:00.0", dev % 256), &ifname),
                Some(q)
            );
            proptest::prop_assert_eq!(queue_from_name(&format!("virtio{dev}-input.{q}"), &ifname), Some(q));
            proptest::prop_assert_eq!(queue_from_name(&format!("virtio{dev}-config"), &ifname), None);
            proptest::prop_assert_eq!(queue_from_name(&ifname, &ifname), None);
            let own = format!("{ifname}-TxRx-{q}");
            proptest::prop_assert!(action_matches(&own, &ifname));
            let other = format!("{ifname}0-TxRx-{q}");
            proptest::prop_assert!(!action_matches(&other, &ifname));
        }
    }

    #[test]
    fn action_names_of_an_interface() {
        assert!(action_matches("eth1", "eth1"));
        assert!(action_matches("eth1-TxRx-0", "eth1"));
        assert!(action_matches("i40e-eth1-TxRx-0", "eth1"));
        assert!(!action_matches("eth10-TxRx-0", "eth1"));
        assert!(!action_matches("eth1x", "eth1"));
        assert!(!action_matches("virtio0-input.0", "eth0"));
        assert!(!action_matches("mlx5_comp0@pci:0000:81:00.0", "eth2"));
    }

    #[test]
    fn fixture_eth2_irqs() {
        let root = fixture();
        let lines = procfs::interrupts(&root).expect("interrupts");
        let dev = sysfs::device_info(&root, "eth2");
        let irqs = device_irqs(&root, "eth2", &dev, &lines);
        assert_eq!(irqs.len(), 9);
        assert_eq!(
            irqs.iter().map(|i| i.irq).collect::<Vec<_>>(),
            (120..=128).collect::<Vec<_>>()
        );
        assert_eq!(irqs[0].name, "mlx5_async0@pci:0000:81:00.0");
        assert_eq!(irqs[0].queue, None);
        assert_eq!(
            irqs[1..].iter().map(|i| i.queue).collect::<Vec<_>>(),
            (0..8).map(Some).collect::<Vec<_>>()
        );
        // comp0 on CPU 4, local to node 1.
        assert_eq!(irqs[1].name, "mlx5_comp0@pci:0000:81:00.0");
        assert_eq!(irqs[1].count, 1_500_000);
        assert_eq!(irqs[1].effective, Some(CpuSet::from_cpus([4])));
        // comp6 on node-0 CPUs.
        assert_eq!(
            irqs[7].affinity.as_ref().map(CpuSet::to_list).as_deref(),
            Some("0-3,8-11")
        );
        assert_eq!(irqs[7].effective, Some(CpuSet::from_cpus([0])));
        assert_eq!(irqs[7].count, 700_000);
        assert_eq!(
            irqs[8].affinity.as_ref().map(CpuSet::to_list).as_deref(),
            Some("0-15")
        );
        assert_eq!(irqs[8].effective, Some(CpuSet::from_cpus([1])));
        assert!(irqs
            .iter()
            .all(|i| i.nic_local.is_none() && i.gpu_local.is_none()));
    }

    #[test]
    fn fixture_eno1_irqs_by_msi_and_name() {
        let root = fixture();
        let lines = procfs::interrupts(&root).expect("interrupts");
        let dev = sysfs::device_info(&root, "eno1");
        let irqs = device_irqs(&root, "eno1", &dev, &lines);
        assert_eq!(
            irqs.iter().map(|i| (i.irq, i.queue)).collect::<Vec<_>>(),
            [
                (60, None),
                (61, Some(0)),
                (62, Some(1)),
                (63, Some(2)),
                (64, Some(3))
            ]
        );
        // By name alone (no PCI function known) the same rows are found.
        let by_name = device_irqs(&root, "eno1", &DeviceInfo::virtual_device(), &lines);
        assert_eq!(by_name, irqs);
        assert!(device_irqs(&root, "lo", &sysfs::device_info(&root, "lo"), &lines).is_empty());
    }

    #[test]
    fn virtio_irqs_come_from_msi_irqs() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let sys = tmp.path().join("sys");
        let msi = sys.join("devices/pci0000:00/0000:00:03.0/msi_irqs");
        fs::create_dir_all(&msi).expect("mkdir");
        for n in [40, 41, 42] {
            fs::write(msi.join(n.to_string()), "msix\n").expect("write");
        }
        let root = SysRoot::new(&sys, tmp.path().join("proc"));
        let dev = DeviceInfo {
            pci_path: Some("pci0000:00/0000:00:03.0".into()),
            pci_address: Some("0000:00:03.0".into()),
            ..DeviceInfo::virtual_device()
        };
        let lines = procfs::parse_interrupts(
            "      CPU0  CPU1
 39:   1   0  PCI-MSIX-0000:00:02.0  0-edge  virtio1-config
 40:   0   0  PCI-MSIX-0000:00:03.0  0-edge  virtio2-config
 41:  10  20  PCI-MSIX-0000:00:03.0  1-edge  virtio2-input.0
 42:   5   0  PCI-MSIX-0000:00:03.0  2-edge  virtio2-output.0
",
        );
        let irqs = device_irqs(&root, "eth0", &dev, &lines);
        assert_eq!(
            irqs.iter()
                .map(|i| (i.irq, i.queue, i.count))
                .collect::<Vec<_>>(),
            [(40, None, 0), (41, Some(0), 30), (42, Some(0), 5)]
        );
        assert_eq!(irqs[1].affinity, None);
    }
}
