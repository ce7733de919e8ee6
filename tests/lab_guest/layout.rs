//! The lab guest's layout, proved from inside the guest by reading sysfs and procfs
//! directly (no ethtool, no dpuctl). Every other lab test relies on it: 4 CPUs in 2 NUMA
//! nodes, the NICs under fixed names with their real drivers, the multiqueue NICs on NUMA
//! node 1 behind a PCI expander bridge, and one MSI-X vector per queue.

use std::collections::BTreeSet;
use std::fs;
use std::net::{Ipv4Addr, UdpSocket};
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// The lab's NICs and their drivers (tests/lab/guest-setup.sh names them).
const NICS: [(&str, &str); 5] = [
    ("nsim0", "netdevsim"),
    ("nsim1", "netdevsim"),
    ("virtio0", "virtio_net"),
    ("igb0", "igb"),
    ("e1000e0", "e1000e"),
];

fn read(path: impl AsRef<Path>) -> String {
    let path = path.as_ref();
    fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .trim()
        .to_owned()
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .unwrap_or_else(|| panic!("{} has no file name", path.display()))
        .to_string_lossy()
        .into_owned()
}

fn net(iface: &str) -> PathBuf {
    Path::new("/sys/class/net").join(iface)
}

/// The device a netdev belongs to, as a /sys/devices path.
fn device(iface: &str) -> PathBuf {
    let link = net(iface).join("device");
    fs::canonicalize(&link).unwrap_or_else(|e| panic!("resolve {}: {e}", link.display()))
}

/// The name of the kernel driver bound to a netdev's device.
fn driver(iface: &str) -> String {
    let link = net(iface).join("device/driver");
    let target =
        fs::read_link(&link).unwrap_or_else(|e| panic!("readlink {}: {e}", link.display()));
    file_name(&target)
}

/// The bus a device sits on ("pci", "virtio", "netdevsim"...).
fn subsystem(dev: &Path) -> Option<String> {
    fs::read_link(dev.join("subsystem"))
        .ok()
        .map(|bus| file_name(&bus))
}

/// The PCI function behind a netdev, if any. A virtio NIC's device is the virtio device;
/// its parent is the PCI function, which carries `numa_node`, `local_cpulist` and `msi_irqs`.
fn pci_function(iface: &str) -> Option<PathBuf> {
    let mut dev = device(iface);
    while dev.starts_with("/sys/devices/") {
        if subsystem(&dev).as_deref() == Some("pci") {
            return Some(dev);
        }
        dev.pop();
    }
    None
}

fn expect_pci_function(iface: &str) -> PathBuf {
    pci_function(iface)
        .unwrap_or_else(|| panic!("{iface}: no PCI function above {}", device(iface).display()))
}

/// The numbers of the MSI/MSI-X vectors a PCI function has allocated.
fn msi_irqs(pci: &Path) -> BTreeSet<u32> {
    let dir = pci.join("msi_irqs");
    fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("list {}: {e}", dir.display()))
        .map(|entry| {
            let name = entry
                .expect("msi_irqs entry")
                .file_name()
                .to_string_lossy()
                .into_owned();
            name.parse()
                .unwrap_or_else(|e| panic!("{}: entry {name}: {e}", dir.display()))
        })
        .collect()
}

/// One numbered line of /proc/interrupts.
struct Irq {
    number: u32,
    /// The interrupt chip; for MSI-X "PCI-MSIX-<domain:bus:dev.fn>".
    chip: String,
    /// The name the driver gave the vector, e.g. "igb0-rx-0".
    name: String,
}

fn interrupts() -> Vec<Irq> {
    let text = read("/proc/interrupts");
    let mut lines = text.lines();
    let cpus = lines
        .next()
        .map_or(0, |header| header.split_whitespace().count());
    lines
        .filter_map(|line| {
            let (number, rest) = line.trim_start().split_once(':')?;
            let number = number.parse().ok()?;
            // per-CPU counts, chip, hardware IRQ and trigger, name
            let fields: Vec<&str> = rest.split_whitespace().collect();
            Some(Irq {
                number,
                chip: (*fields.get(cpus)?).to_owned(),
                name: fields.get(cpus + 2..)?.join(" "),
            })
        })
        .collect()
}

/// Checks that the MSI-X vectors of `iface`'s PCI function are exactly the /proc/interrupts
/// lines named `names`, all on that function's MSI-X chip.
fn assert_msix_vectors(iface: &str, names: &BTreeSet<String>) {
    let pci = expect_pci_function(iface);
    let chip = format!("PCI-MSIX-{}", file_name(&pci));
    let irqs: Vec<Irq> = interrupts()
        .into_iter()
        .filter(|irq| names.contains(&irq.name))
        .collect();
    let found: BTreeSet<String> = irqs.iter().map(|irq| irq.name.clone()).collect();
    assert_eq!(&found, names, "{iface}: vectors named in /proc/interrupts");
    for irq in &irqs {
        assert_eq!(
            irq.chip, chip,
            "{iface}: IRQ {} ({}) is on {}",
            irq.number, irq.name, irq.chip
        );
    }
    let numbers: BTreeSet<u32> = irqs.iter().map(|irq| irq.number).collect();
    assert_eq!(
        numbers,
        msi_irqs(&pci),
        "{iface}: /proc/interrupts vs {}/msi_irqs",
        pci.display()
    );
}

fn queue_count(iface: &str, kind: &str) -> usize {
    let dir = net(iface).join("queues");
    fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("list {}: {e}", dir.display()))
        .filter(|entry| {
            entry
                .as_ref()
                .is_ok_and(|entry| entry.file_name().to_string_lossy().starts_with(kind))
        })
        .count()
}

#[test]
fn four_cpus_in_two_numa_nodes() {
    crate::in_lab();
    assert_eq!(read("/sys/devices/system/node/online"), "0-1");
    assert_eq!(read("/sys/devices/system/node/node0/cpulist"), "0-1");
    assert_eq!(read("/sys/devices/system/node/node1/cpulist"), "2-3");
    assert_eq!(read("/sys/devices/system/cpu/online"), "0-3");
}

#[test]
fn nics_are_up_with_their_drivers() {
    crate::in_lab();
    for (iface, want) in NICS {
        assert_eq!(driver(iface), want, "{iface}: driver");
        let flags = read(net(iface).join("flags"));
        let flags = u32::from_str_radix(flags.trim_start_matches("0x"), 16)
            .unwrap_or_else(|e| panic!("{iface}: flags {flags:?}: {e}"));
        assert_eq!(
            flags & 1,
            1,
            "{iface}: IFF_UP is not set (flags {flags:#x})"
        );
    }
}

#[test]
fn multiqueue_nics_sit_on_numa_node_1() {
    crate::in_lab();
    for iface in ["virtio0", "igb0"] {
        let pci = expect_pci_function(iface);
        assert_eq!(
            read(pci.join("numa_node")),
            "1",
            "{iface}: {}",
            pci.display()
        );
        assert_eq!(
            read(pci.join("local_cpulist")),
            "2-3",
            "{iface}: {}",
            pci.display()
        );
    }
    // The root PCI bus has no proximity domain: the kernel reports "unknown" (-1).
    let pci = expect_pci_function("e1000e0");
    assert_eq!(
        read(pci.join("numa_node")),
        "-1",
        "e1000e0: {}",
        pci.display()
    );
    // netdevsim is not on PCI at all: no PCI function, no numa_node anywhere above it.
    for iface in ["nsim0", "nsim1"] {
        assert_eq!(pci_function(iface), None, "{iface}");
        assert_eq!(
            subsystem(&device(iface)).as_deref(),
            Some("netdevsim"),
            "{iface}"
        );
        assert!(
            !device(iface).join("numa_node").exists(),
            "{iface}: numa_node"
        );
    }
}

#[test]
fn queue_counts() {
    crate::in_lab();
    for (iface, queues) in [
        ("nsim0", 4),
        ("nsim1", 4),
        ("virtio0", 4),
        ("igb0", 4),
        ("e1000e0", 1),
    ] {
        assert_eq!(queue_count(iface, "rx-"), queues, "{iface}: rx queues");
        assert_eq!(queue_count(iface, "tx-"), queues, "{iface}: tx queues");
    }
}

#[test]
fn one_msix_vector_per_queue() {
    crate::in_lab();
    // virtio-net names its vectors after the virtio device (virtioN), not the netdev.
    let virtio = file_name(&device("virtio0"));
    let mut names = BTreeSet::from([format!("{virtio}-config")]);
    for q in 0..4 {
        names.insert(format!("{virtio}-input.{q}"));
        names.insert(format!("{virtio}-output.{q}"));
    }
    assert_msix_vectors("virtio0", &names);

    // igb: one vector for link and other causes, then separate rx and tx vectors.
    let mut names = BTreeSet::from(["igb0".to_owned()]);
    for q in 0..4 {
        names.insert(format!("igb0-rx-{q}"));
        names.insert(format!("igb0-tx-{q}"));
    }
    assert_msix_vectors("igb0", &names);

    let names = ["e1000e0", "e1000e0-rx-0", "e1000e0-tx-0"].map(str::to_owned);
    assert_msix_vectors("e1000e0", &BTreeSet::from(names));
}

#[test]
fn virtio0_reaches_its_peer() {
    crate::in_lab();
    let peer = Ipv4Addr::new(198, 18, 0, 1);
    let socket = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).expect("bind a UDP socket");
    socket.connect((peer, 9)).expect("route to 198.18.0.1");
    let local = socket.local_addr().expect("local address");
    assert_eq!(
        local.ip(),
        Ipv4Addr::new(198, 18, 0, 2),
        "source address towards {peer}"
    );
    // The datagram makes the kernel resolve the peer; the tap's namespace answers the ARP.
    socket.send(b"lab").expect("send to 198.18.0.1");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        // IP address, HW type, flags (0x2: complete), HW address, mask, device
        let arp = read("/proc/net/arp");
        let resolved = arp.lines().skip(1).any(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields.len() == 6
                && fields[0] == "198.18.0.1"
                && fields[2] == "0x2"
                && fields[5] == "virtio0"
        });
        if resolved {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "198.18.0.1 not resolved on virtio0 in 5 s:\n{arp}"
        );
        sleep(Duration::from_millis(50));
    }
}
