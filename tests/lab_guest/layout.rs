//! The lab guest's layout, proved from inside the guest by reading sysfs and procfs
//! directly (no ethtool, no dpuctl). Every other lab test relies on it: 4 CPUs in 2 NUMA
//! nodes, the NICs under fixed names with their real drivers, the multiqueue NICs on NUMA
//! node 1 behind a PCI Express switch, e1000e on node 0, and one MSI-X vector per queue.

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
fn nics_sit_on_their_numa_nodes() {
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
    // e1000e sits on the other PCIe expander bridge, node 0.
    let pci = expect_pci_function("e1000e0");
    assert_eq!(
        read(pci.join("numa_node")),
        "0",
        "e1000e0: {}",
        pci.display()
    );
    assert_eq!(
        read(pci.join("local_cpulist")),
        "0-1",
        "e1000e0: {}",
        pci.display()
    );
    // The root complex's own bus (pci0000:00) has no proximity domain: the kernel reports
    // "unknown" (-1) for its functions.
    let host_bridge = Path::new("/sys/bus/pci/devices/0000:00:00.0");
    assert_eq!(read(host_bridge.join("numa_node")), "-1");
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

/// A PCI function's config space as root reads it (4096 bytes on PCI Express).
fn config(pci: &Path) -> Vec<u8> {
    let path = pci.join("config");
    fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// The offset of the PCI Express capability (id 0x10) in the standard capability list
/// (pointer at 0x34, each entry: id, next).
fn express_cap(cfg: &[u8]) -> Option<usize> {
    let mut off = usize::from(cfg[0x34] & 0xfc);
    for _ in 0..48 {
        if off < 0x40 {
            return None;
        }
        if cfg[off] == 0x10 {
            return Some(off);
        }
        off = usize::from(cfg[off + 1] & 0xfc);
    }
    None
}

/// Whether the extended capability list (from 0x100) holds `id`.
fn has_ext_cap(cfg: &[u8], id: u32) -> bool {
    let mut off = 0x100;
    for _ in 0..(4096 - 0x100) / 4 {
        let Some(b) = cfg.get(off..off + 4) else {
            return false;
        };
        let header = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        if header == 0 || header == u32::MAX {
            return false;
        }
        if header & 0xffff == id {
            return true;
        }
        off = ((header >> 20) & 0xffc) as usize;
        if off < 0x100 {
            return false;
        }
    }
    false
}

/// A function's PCI Express port type (`PCIe` base spec 7.5.3.2: 0 endpoint, 4 root port,
/// 5 switch upstream port, 6 switch downstream port), its link capability and status as
/// (speed code, width): speed 1 = 2.5 GT/s, 3 = 8 GT/s.
struct Express {
    port_type: u8,
    cap: (u32, u32),
    sta: (u32, u32),
    acs: bool,
}

fn express(pci: &Path) -> Express {
    let cfg = config(pci);
    assert_eq!(cfg.len(), 4096, "{}: config space", pci.display());
    let at = express_cap(&cfg).unwrap_or_else(|| panic!("{}: no PCIe capability", pci.display()));
    let u16_at = |o: usize| u16::from_le_bytes([cfg[o], cfg[o + 1]]);
    let lnkcap = u32::from_le_bytes([cfg[at + 12], cfg[at + 13], cfg[at + 14], cfg[at + 15]]);
    let lnksta = u32::from(u16_at(at + 0x12));
    Express {
        port_type: ((u16_at(at + 2) >> 4) & 0xf) as u8,
        cap: (lnkcap & 0xf, (lnkcap >> 4) & 0x3f),
        sta: (lnksta & 0xf, (lnksta >> 4) & 0x3f),
        acs: has_ext_cap(&cfg, 0x000d),
    }
}

/// The PCI Express tree `lab.sh` builds: virtio0 and igb0 behind two downstream ports of one switch
/// under a root port of the node 1 expander bridge (bus 0x80), e1000e0 behind a root port of
/// the node 0 one (bus 0x40). Read from sysfs paths and raw config space.
#[test]
fn pcie_switch_and_root_ports() {
    crate::in_lab();
    let chain = |iface: &str| -> Vec<PathBuf> {
        let f = expect_pci_function(iface);
        let mut v: Vec<PathBuf> = f.ancestors().map(Path::to_path_buf).collect();
        v.truncate(
            v.iter()
                .position(|p| subsystem(p).as_deref() != Some("pci"))
                .unwrap_or(v.len()),
        );
        v.reverse();
        v
    };
    let (virtio, igb, e1000e) = (chain("virtio0"), chain("igb0"), chain("e1000e0"));
    // root port, upstream port, downstream port, function
    assert_eq!(virtio.len(), 4, "{virtio:?}");
    assert_eq!(igb.len(), 4, "{igb:?}");
    assert_eq!(virtio[..2], igb[..2], "one root port and switch");
    assert_ne!(virtio[2], igb[2], "two downstream ports");
    assert_eq!(
        file_name(virtio[0].parent().expect("host bridge")),
        "pci0000:80"
    );
    // root port, function
    assert_eq!(e1000e.len(), 2, "{e1000e:?}");
    assert_eq!(
        file_name(e1000e[0].parent().expect("host bridge")),
        "pci0000:40"
    );
    for (path, want) in [
        (&virtio[0], 4),
        (&virtio[1], 5),
        (&virtio[2], 6),
        (&igb[2], 6),
        (&virtio[3], 0),
        (&igb[3], 0),
        (&e1000e[0], 4),
        (&e1000e[1], 0),
    ] {
        let x = express(path);
        assert_eq!(x.port_type, want, "{}: port type", path.display());
        // QEMU gives root ports an ACS capability, switch ports and endpoints none.
        assert_eq!(x.acs, want == 4, "{}: ACS", path.display());
        // Every QEMU endpoint and switch port links at 2.5 GT/s x1.
        assert_eq!(x.sta, (1, 1), "{}: link status", path.display());
        if want != 4 && want != 6 {
            assert_eq!(x.cap, (1, 1), "{}: link capability", path.display());
        }
    }
    // Node 1's root port can do 8 GT/s x4 (x-speed=8,x-width=4) and runs at its device's
    // 2.5 GT/s x1; node 0's can do no more than that.
    assert_eq!(express(&virtio[0]).cap, (3, 4));
    assert_eq!(express(&e1000e[0]).cap, (1, 1));
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
