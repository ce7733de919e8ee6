//! Network interfaces as sysfs shows them: link attributes, the PCI function behind each
//! netdev, its queues and its temperature sensors.
//!
//! File formats: Documentation/ABI/testing/sysfs-class-net, sysfs-class-net-queues,
//! sysfs-class-net-statistics, sysfs-bus-pci and Documentation/hwmon/sysfs-interface.rst.
//! Parsing is kept in small pure functions so it can be tested on strings; the readers only
//! fetch files and hand the text over.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::model::{Avail, Counters, CpuSet, Dir, PcieLink, Queue, Temperature, MAX_QUEUE_INDEX};

use super::SysRoot;

/// Link attributes read from `class/net/<if>/`, for roots where netlink cannot be used (a
/// fixture tree describes some other node than the running kernel).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SysfsLink {
    /// Interface index (`ifindex`).
    pub ifindex: u32,
    /// MTU in bytes (`mtu`).
    pub mtu: u32,
    /// Transmit queue length (`tx_queue_len`).
    pub txqueuelen: u32,
    /// RFC 2863 operational state (`operstate`), e.g. `up`, `down`, `unknown`.
    pub operstate: String,
    /// Hardware address (`address`), `None` when absent or empty.
    pub address: Option<String>,
    /// Carrier (`carrier`); `None` when the kernel refuses to tell (EINVAL on a down link).
    pub carrier: Option<bool>,
    /// Carrier changes since the device was created (`carrier_changes`).
    pub carrier_changes: Option<u32>,
    /// Receive queues: the number of `queues/rx-*` directories.
    pub num_rx_queues: u32,
    /// Transmit queues: the number of `queues/tx-*` directories.
    pub num_tx_queues: u32,
    /// Interface counters from `statistics/*` (absent files count as 0).
    pub counters: Counters,
}

/// The device behind a netdev: driver, PCI function, NUMA placement and PCI Express link.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceInfo {
    /// Driver bound to the netdev's device (basename of the `device/driver` link).
    pub driver: Option<String>,
    /// PCI address of the function behind the netdev, e.g. `0000:81:00.0`.
    pub pci_address: Option<String>,
    /// NUMA node of that PCI function; `None` when unknown or -1.
    pub numa_node: Option<i32>,
    /// CPUs local to that PCI function (`local_cpulist`).
    pub local_cpus: Option<CpuSet>,
    /// PCI Express link of that PCI function.
    pub pcie: Avail<PcieLink>,
    /// The netdev's device with symlinks resolved, relative to the sysfs `devices/`
    /// directory, e.g. `pci0000:80/0000:80:01.0/0000:81:00.0` (for virtio NICs it ends in
    /// `virtioN`). Compared with [`crate::model::Gpu::pci_path`] to find the nearest GPU.
    pub device_path: Option<String>,
    /// The PCI function's directory relative to `devices/` (a prefix of `device_path`).
    pub pci_path: Option<String>,
}

impl DeviceInfo {
    /// What is known about a netdev without a device (loopback, veth, bridges...).
    pub fn virtual_device() -> Self {
        Self {
            driver: None,
            pci_address: None,
            numa_node: None,
            local_cpus: None,
            pcie: Avail::na("not a PCI device"),
            device_path: None,
            pci_path: None,
        }
    }

    /// The PCI function's sysfs directory under this root.
    pub fn pci_dir(&self, root: &SysRoot) -> Option<PathBuf> {
        self.pci_path.as_ref().map(|p| root.sys("devices").join(p))
    }
}

/// Names of the files in `statistics/`: the fields of [`Counters`].
pub const STATISTICS: [&str; 24] = crate::model::COUNTER_NAMES;

// ---------------------------------------------------------------------------------------------
// Small file helpers shared by the other sysfs/procfs readers.

/// Reads a sysfs/procfs attribute with trailing whitespace (the newline) removed.
///
/// `fs::read_to_string` asks for the file's size first, which sysfs and procfs do not know
/// (they report 4096 or 0); reading straight into a page-sized buffer saves that `statx` on
/// each of the few dozen files `show` reads per interface.
pub(crate) fn read_attr(path: &Path) -> io::Result<String> {
    use std::io::Read;
    let mut f = fs::File::open(path)?;
    let mut buf = vec![0u8; 4096];
    let mut len = 0;
    // A plain read loop: `File::read_to_end` would also fstat and lseek to size its buffer.
    loop {
        if len == buf.len() {
            buf.resize(len * 2, 0);
        }
        match f.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(len);
    let mut s =
        String::from_utf8(buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    s.truncate(s.trim_end().len());
    Ok(s)
}

/// Reads an attribute, `None` when it is absent or unreadable.
pub(crate) fn read_opt(path: &Path) -> Option<String> {
    read_attr(path).ok()
}

/// Reads and parses a numeric attribute; a malformed value is an `InvalidData` error naming
/// the file.
pub(crate) fn read_num<T: FromStr>(path: &Path) -> io::Result<T> {
    let s = read_attr(path)?;
    s.trim().parse().map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: not a number: {s:?}", path.display()),
        )
    })
}

/// Reads a numeric attribute, `None` when absent, unreadable or malformed.
pub(crate) fn read_num_opt<T: FromStr>(path: &Path) -> Option<T> {
    read_num(path).ok()
}

/// Adds the file name to an I/O error, keeping its kind.
pub(crate) fn with_path(path: &Path) -> impl FnOnce(io::Error) -> io::Error + '_ {
    move |e| io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// A NUMA node attribute: -1 ("no node", e.g. on single-node platforms) becomes `None`.
pub(crate) fn parse_numa_node(text: &str) -> Option<i32> {
    text.trim().parse::<i32>().ok().filter(|n| *n >= 0)
}

/// The basename of a symlink's target (`driver -> ../../bus/pci/drivers/mlx5_core`).
pub(crate) fn link_basename(path: &Path) -> Option<String> {
    let target = fs::read_link(path).ok()?;
    target.file_name().map(|n| n.to_string_lossy().into_owned())
}

/// `path` with all symlinks resolved, relative to the sysfs `devices/` directory, with `/`
/// separators. `None` when it does not resolve or lies outside `devices/`.
pub(crate) fn devices_relative(root: &SysRoot, path: &Path) -> Option<String> {
    let devices = fs::canonicalize(root.sys("devices")).ok()?;
    let resolved = fs::canonicalize(path).ok()?;
    slash_joined(resolved.strip_prefix(&devices).ok()?)
}

/// The components of a relative path joined by `/`; `None` for an empty one.
fn slash_joined(rel: &Path) -> Option<String> {
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    (!parts.is_empty()).then(|| parts.join("/"))
}

pub use crate::model::knobs::{is_pci_address, valid_ifname};

fn netdev_dir(root: &SysRoot, ifname: &str) -> PathBuf {
    root.sys("class/net").join(ifname)
}

// ---------------------------------------------------------------------------------------------
// Pure parsers.

/// The PCI function a device path (relative to `devices/`) belongs to: the deepest component
/// that is a PCI address. Returns the path up to and including it, and the address.
///
/// A netdev's device is the PCI function itself for most NICs, a `virtioN` child of it for
/// virtio-net, or an auxiliary device below it (mlx5 sub-functions). A USB NIC sits below a
/// `usbN` root hub: the PCI device above that is the USB host controller, not the NIC, so
/// such paths give `None`.
pub fn pci_function(device_path: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = device_path.split('/').collect();
    let idx = parts.iter().rposition(|p| is_pci_address(p))?;
    let below_usb = parts[idx + 1..].iter().any(|p| {
        p.strip_prefix("usb")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    });
    if below_usb {
        return None;
    }
    let len: usize = parts[..=idx].iter().map(|p| p.len() + 1).sum::<usize>() - 1;
    Some((&device_path[..len], parts[idx]))
}

/// The PCI Express link from the four sysfs attributes (Documentation/ABI/testing/sysfs-bus-pci:
/// `current_link_speed` is e.g. `16.0 GT/s PCIe`, older kernels write `8 GT/s`; widths are
/// lane counts).
pub fn parse_pcie_link(
    current_speed: &str,
    max_speed: &str,
    current_width: &str,
    max_width: &str,
) -> Result<PcieLink, String> {
    let width = |s: &str| {
        s.trim()
            .parse::<u32>()
            .map_err(|_| format!("unreadable PCIe link width {:?}", s.trim()))
    };
    Ok(PcieLink {
        current_speed: current_speed.trim().to_string(),
        max_speed: max_speed.trim().to_string(),
        current_width: width(current_width)?,
        max_width: width(max_width)?,
    })
}

/// The `carrier` attribute: `1`/`0`; reading it on a down interface fails with EINVAL, which
/// means "unknown" rather than an error.
pub fn parse_carrier(read: &io::Result<String>) -> Option<bool> {
    match read.as_ref().ok()?.trim() {
        "1" => Some(true),
        "0" => Some(false),
        _ => None,
    }
}

/// A queue directory name: `rx-3` -> (Rx, 3), `tx-0` -> (Tx, 0). An index above
/// [`MAX_QUEUE_INDEX`] (more than the kernel's 16-bit queue mapping holds) is no queue.
pub fn parse_queue_dir(name: &str) -> Option<(Dir, u32)> {
    let (dir, idx) = name.split_once('-')?;
    let dir = match dir {
        "rx" => Dir::Rx,
        "tx" => Dir::Tx,
        _ => return None,
    };
    if idx.is_empty() || !idx.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((dir, idx.parse().ok().filter(|&i| i <= MAX_QUEUE_INDEX)?))
}

/// Stores one `statistics/<name>` value into the matching [`Counters`] field; false for an
/// unknown name.
pub fn set_counter(c: &mut Counters, name: &str, value: u64) -> bool {
    let field = match name {
        "rx_packets" => &mut c.rx_packets,
        "tx_packets" => &mut c.tx_packets,
        "rx_bytes" => &mut c.rx_bytes,
        "tx_bytes" => &mut c.tx_bytes,
        "rx_errors" => &mut c.rx_errors,
        "tx_errors" => &mut c.tx_errors,
        "rx_dropped" => &mut c.rx_dropped,
        "tx_dropped" => &mut c.tx_dropped,
        "multicast" => &mut c.multicast,
        "collisions" => &mut c.collisions,
        "rx_length_errors" => &mut c.rx_length_errors,
        "rx_over_errors" => &mut c.rx_over_errors,
        "rx_crc_errors" => &mut c.rx_crc_errors,
        "rx_frame_errors" => &mut c.rx_frame_errors,
        "rx_fifo_errors" => &mut c.rx_fifo_errors,
        "rx_missed_errors" => &mut c.rx_missed_errors,
        "tx_aborted_errors" => &mut c.tx_aborted_errors,
        "tx_carrier_errors" => &mut c.tx_carrier_errors,
        "tx_fifo_errors" => &mut c.tx_fifo_errors,
        "tx_heartbeat_errors" => &mut c.tx_heartbeat_errors,
        "tx_window_errors" => &mut c.tx_window_errors,
        "rx_compressed" => &mut c.rx_compressed,
        "tx_compressed" => &mut c.tx_compressed,
        "rx_nohandler" => &mut c.rx_nohandler,
        _ => return false,
    };
    *field = value;
    true
}

/// The sensor number of a hwmon file name with the given suffix: `temp2_input` -> 2.
fn hwmon_index(name: &str, suffix: &str) -> Option<u32> {
    let n = name.strip_prefix("temp")?.strip_suffix(suffix)?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok()
}

/// Millidegrees Celsius (Documentation/hwmon/sysfs-interface.rst) to degrees.
pub fn parse_millidegrees(text: &str) -> Option<f64> {
    text.trim().parse::<i64>().ok().map(|m| m as f64 / 1000.0)
}

// ---------------------------------------------------------------------------------------------
// Readers.

/// Interface names under `class/net`, sorted. Entries that are not directories (the
/// `bonding_masters` control file of the bonding driver) are skipped.
pub fn interfaces(root: &SysRoot) -> io::Result<Vec<String>> {
    let dir = root.sys("class/net");
    let mut names = Vec::new();
    for entry in fs::read_dir(&dir).map_err(with_path(&dir))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_dir() && valid_ifname(&name) {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// Counts the `rx-*` and `tx-*` queue directories of an interface.
fn queue_counts(root: &SysRoot, ifname: &str) -> (u32, u32) {
    let mut rx = 0;
    let mut tx = 0;
    if let Ok(rd) = fs::read_dir(netdev_dir(root, ifname).join("queues")) {
        for e in rd.flatten() {
            match parse_queue_dir(&e.file_name().to_string_lossy()) {
                Some((Dir::Rx, _)) => rx += 1,
                Some((Dir::Tx, _)) => tx += 1,
                None => {}
            }
        }
    }
    (rx, tx)
}

/// Link attributes and counters of one interface from sysfs.
///
/// `ifindex`, `mtu`, `tx_queue_len` and `operstate` exist for every netdev, so their absence
/// is an error (usually: no such interface); the rest is optional.
pub fn link_from_sysfs(root: &SysRoot, ifname: &str) -> io::Result<SysfsLink> {
    if !valid_ifname(ifname) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("invalid interface name {ifname:?}"),
        ));
    }
    let dir = netdev_dir(root, ifname);
    let num = |f: &str| {
        let p = dir.join(f);
        read_num::<u32>(&p).map_err(with_path(&p))
    };
    let operstate_path = dir.join("operstate");
    let mut counters = Counters::default();
    for name in STATISTICS {
        if let Some(v) = read_num_opt::<u64>(&dir.join("statistics").join(name)) {
            set_counter(&mut counters, name, v);
        }
    }
    let (num_rx_queues, num_tx_queues) = queue_counts(root, ifname);
    Ok(SysfsLink {
        ifindex: num("ifindex")?,
        mtu: num("mtu")?,
        txqueuelen: num("tx_queue_len")?,
        operstate: read_attr(&operstate_path).map_err(with_path(&operstate_path))?,
        address: read_opt(&dir.join("address")).filter(|a| !a.is_empty()),
        carrier: parse_carrier(&read_attr(&dir.join("carrier"))),
        carrier_changes: read_num_opt(&dir.join("carrier_changes")),
        num_rx_queues,
        num_tx_queues,
        counters,
    })
}

/// Where an interface lives in sysfs: its own directory and its device's, both with the
/// symlinks that lead there resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetdevDirs {
    /// The netdev's directory, e.g. `/sys/devices/virtual/net/veth0` for `class/net/veth0`.
    pub netdev: PathBuf,
    /// The directory of its device (the target of `device`), e.g.
    /// `/sys/devices/pci0000:00/0000:00:03.0/virtio0`; `None` when the netdev has none, as
    /// for loopback, veth and bridges.
    pub device: Option<PathBuf>,
}

/// `path` with `.` and `..` components resolved lexically. Right for paths inside the sysfs
/// `devices/` tree, where directories are never symlinks.
fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The target of the symlink `link`, as a path: relative targets are resolved against the
/// link's directory. `Err` when `link` is not a symlink or is absent.
fn follow(link: &Path) -> io::Result<PathBuf> {
    let target = fs::read_link(link)?;
    Ok(match link.parent() {
        Some(dir) if target.is_relative() => normalize(&dir.join(target)),
        _ => target,
    })
}

/// Resolves `class/net/<ifname>` and its `device` link with one `readlink` each, instead of
/// a `canonicalize` (one `readlink` per path component) per file read below them.
pub fn netdev_dirs(root: &SysRoot, ifname: &str) -> NetdevDirs {
    let class = netdev_dir(root, ifname);
    // A fixture may hold the directory itself rather than a link to it.
    let netdev = follow(&class).unwrap_or(class);
    // A netdev without a parent device is placed under `devices/virtual/` and gets no
    // `device` link (`get_device_parent`, `device_add_class_symlinks` in
    // drivers/base/core.c): loopback, veth, bridges need no second look-up.
    if netdev.starts_with(root.sys("devices/virtual")) {
        return NetdevDirs {
            netdev,
            device: None,
        };
    }
    let link = netdev.join("device");
    let device = match follow(&link) {
        Ok(dir) => Some(dir),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        // Present but not a symlink (a fixture's plain directory): use it as it is.
        Err(_) => Some(link),
    };
    NetdevDirs { netdev, device }
}

/// `dir` relative to the sysfs `devices/` directory, as [`devices_relative`] gives it, by
/// prefix when `dir` is already resolved below `devices/` (as [`netdev_dirs`] gives it).
fn device_relative(root: &SysRoot, dir: &Path) -> Option<String> {
    match dir.strip_prefix(root.sys("devices")) {
        Ok(rel) => slash_joined(rel),
        Err(_) => devices_relative(root, dir),
    }
}

/// The device behind an interface: driver, PCI function, NUMA node, local CPUs, PCI Express link.
/// Interfaces without a device (loopback, veth, bridges) get [`DeviceInfo::virtual_device`].
pub fn device_info(root: &SysRoot, ifname: &str) -> DeviceInfo {
    if !valid_ifname(ifname) {
        return DeviceInfo::virtual_device();
    }
    device_info_in(root, &netdev_dirs(root, ifname))
}

/// [`device_info`] of the interface at `dirs`.
pub fn device_info_in(root: &SysRoot, dirs: &NetdevDirs) -> DeviceInfo {
    let Some(device) = &dirs.device else {
        return DeviceInfo::virtual_device();
    };
    let driver = link_basename(&device.join("driver"));
    let Some(device_path) = device_relative(root, device) else {
        return DeviceInfo {
            driver,
            ..DeviceInfo::virtual_device()
        };
    };
    let Some((pci_path, addr)) = pci_function(&device_path) else {
        return DeviceInfo {
            driver,
            device_path: Some(device_path),
            ..DeviceInfo::virtual_device()
        };
    };
    let pci_dir = root.sys("devices").join(pci_path);
    let attr = |f: &str| read_attr(&pci_dir.join(f));
    // The link attributes exist only for PCI Express functions (`pcie_dev_attrs_are_visible`
    // in drivers/pci/pci-sysfs.c); a conventional PCI device such as QEMU's virtio-net on the
    // i440fx machine has none.
    let pcie = match (
        attr("current_link_speed"),
        attr("max_link_speed"),
        attr("current_link_width"),
        attr("max_link_width"),
    ) {
        (Ok(cs), Ok(ms), Ok(cw), Ok(mw)) => parse_pcie_link(&cs, &ms, &cw, &mw).into(),
        _ => Avail::na("no PCIe link attributes"),
    };
    DeviceInfo {
        driver,
        pci_address: Some(addr.to_string()),
        numa_node: attr("numa_node").ok().and_then(|s| parse_numa_node(&s)),
        local_cpus: attr("local_cpulist")
            .ok()
            .and_then(|s| CpuSet::parse_list(&s).ok()),
        pcie,
        pci_path: Some(pci_path.to_string()),
        device_path: Some(device_path.clone()),
    }
}

/// The receive and transmit queues of an interface with their steering settings, rx first,
/// then tx, each by index.
///
/// `rps_cpus`/`rps_flow_cnt` exist with `CONFIG_RPS`, `xps_cpus` with `CONFIG_XPS`
/// (Documentation/networking/scaling.rst). Reading `xps_cpus` fails on single-queue devices
/// (ENOENT) and when traffic classes map the queues (EINVAL); such queues get `None`.
pub fn queues(root: &SysRoot, ifname: &str) -> Vec<Queue> {
    if !valid_ifname(ifname) {
        return Vec::new();
    }
    queues_in(&netdev_dirs(root, ifname))
}

/// [`queues`] of the interface at `dirs`.
pub fn queues_in(dirs: &NetdevDirs) -> Vec<Queue> {
    use rustix::fs::{openat, Mode, OFlags, CWD};
    // Each file is opened relative to the `queues` directory: a sysfs path walk costs about
    // as much per component as the open itself, and the full path has eight.
    let Ok(fd) = openat(
        CWD,
        dirs.netdev.join("queues"),
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    ) else {
        return Vec::new();
    };
    let Ok(mut entries) = rustix::fs::Dir::new(fd) else {
        return Vec::new();
    };
    let mut names = Vec::new();
    while let Some(Ok(e)) = entries.read() {
        if let Some(q) = e.file_name().to_str().ok().and_then(parse_queue_dir) {
            names.push(q);
        }
    }
    let Ok(fd) = entries.fd() else {
        return Vec::new();
    };
    let value = |d: Dir, index: u32, file: &str| {
        let prefix = if d == Dir::Rx { "rx" } else { "tx" };
        read_value_at(fd, format!("{prefix}-{index}/{file}"))
    };
    let mask = |d, i, f| value(d, i, f).and_then(|s| CpuSet::parse_mask(&s).ok());
    let mut out: Vec<Queue> = names
        .into_iter()
        .map(|(d, index)| match d {
            Dir::Rx => Queue {
                dir: d,
                index,
                rps_cpus: mask(d, index, "rps_cpus"),
                rps_flow_cnt: value(d, index, "rps_flow_cnt").and_then(|s| s.parse().ok()),
                xps_cpus: None,
                tx_timeout: None,
            },
            Dir::Tx => Queue {
                dir: d,
                index,
                rps_cpus: None,
                rps_flow_cnt: None,
                xps_cpus: mask(d, index, "xps_cpus"),
                tx_timeout: value(d, index, "tx_timeout").and_then(|s| s.parse().ok()),
            },
        })
        .collect();
    out.sort_by_key(|q| (q.dir, q.index));
    out
}

/// Reads the sysfs attribute at `rel` below the directory `dir` with a single `read`,
/// trimmed; `None` when absent or unreadable.
///
/// A sysfs attribute is one value of at most a page, produced whole by the first read
/// (Documentation/filesystems/sysfs.rst), so no second read to see the end is needed; the
/// queue reader calls this for every file of every queue.
fn read_value_at(dir: impl std::os::fd::AsFd, rel: impl rustix::path::Arg) -> Option<String> {
    use rustix::fs::{openat, Mode, OFlags};
    let fd = openat(dir, rel, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()).ok()?;
    let mut buf = [0u8; 4096];
    let n = rustix::io::read(&fd, &mut buf).ok()?;
    let s = std::str::from_utf8(buf.get(..n)?).ok()?;
    Some(s.trim_end().to_string())
}

/// The per-queue `tx_timeout` files of one interface (the monitor's cheap subset of
/// [`queues`]), found once and read again and again by the monitor's slow reads: each read
/// is an open, a read and a close per queue, with no directory listing or link resolution.
#[derive(Debug, Clone, Default)]
pub struct TxTimeoutFiles {
    files: Vec<(u32, PathBuf)>,
}

impl TxTimeoutFiles {
    /// Lists the tx queues of `ifname` (none for an invalid name or a missing device).
    pub fn find(root: &SysRoot, ifname: &str) -> Self {
        if !valid_ifname(ifname) {
            return Self::default();
        }
        let dir = netdev_dirs(root, ifname).netdev.join("queues");
        let Ok(rd) = fs::read_dir(&dir) else {
            return Self::default();
        };
        let mut files: Vec<(u32, PathBuf)> = rd
            .flatten()
            .filter_map(|e| {
                let name = e.file_name();
                let (d, index) = parse_queue_dir(&name.to_string_lossy())?;
                (d == Dir::Tx).then(|| (index, e.path().join("tx_timeout")))
            })
            .collect();
        files.sort_unstable_by_key(|(q, _)| *q);
        Self { files }
    }

    /// The totals, sorted by queue; `None` when a file can no longer be read (the queues
    /// changed or the device went away): find them again.
    pub fn read(&self) -> Option<Vec<(u32, u64)>> {
        self.files
            .iter()
            .map(|(q, f)| Some((*q, read_value(f)?.parse().ok()?)))
            .collect()
    }
}

/// The hwmon temperature inputs of one interface's device with their labels and critical
/// values, found once; each read then reads only the inputs.
#[derive(Debug, Clone, Default)]
pub struct TemperatureFiles {
    inputs: Vec<(String, Option<f64>, PathBuf)>,
}

impl TemperatureFiles {
    /// The sensors of the device at `dirs` (none without a device or hwmon).
    pub fn find(dirs: &NetdevDirs) -> Self {
        let Some(device) = &dirs.device else {
            return Self::default();
        };
        let mut inputs = Vec::new();
        for (_, dir) in numbered_entries(&device.join("hwmon"), "hwmon") {
            let Ok(rd) = fs::read_dir(&dir) else {
                continue;
            };
            let mut idx: Vec<u32> = rd
                .flatten()
                .filter_map(|e| hwmon_index(&e.file_name().to_string_lossy(), "_input"))
                .collect();
            idx.sort_unstable();
            for n in idx {
                let file = |suffix: &str| dir.join(format!("temp{n}_{suffix}"));
                let label = read_opt(&file("label"))
                    .map(|l| l.trim().to_string())
                    .filter(|l| !l.is_empty())
                    .unwrap_or_else(|| format!("temp{n}"));
                let crit = read_opt(&file("crit")).and_then(|s| parse_millidegrees(&s));
                inputs.push((label, crit, file("input")));
            }
        }
        Self { inputs }
    }

    /// The current values; a sensor whose input cannot be read is left out, as when it was
    /// found.
    pub fn read(&self) -> Vec<Temperature> {
        self.inputs
            .iter()
            .filter_map(|(label, crit, input)| {
                Some(Temperature {
                    label: label.clone(),
                    celsius: parse_millidegrees(&read_value(input)?)?,
                    crit: *crit,
                })
            })
            .collect()
    }
}

/// One sysfs value with one `read` (attribute values are shorter than a page), trimmed.
fn read_value(path: &Path) -> Option<String> {
    read_value_at(rustix::fs::CWD, path)
}

/// Numbered entries `<prefix>N` of a directory, sorted by N.
fn numbered_entries(dir: &Path, prefix: &str) -> Vec<(u32, PathBuf)> {
    let Ok(rd) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<(u32, PathBuf)> = rd
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let n = name.strip_prefix(prefix)?;
            if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            Some((n.parse().ok()?, e.path()))
        })
        .collect();
    v.sort_by_key(|(n, _)| *n);
    v
}

/// Temperature sensors of an interface's device: `device/hwmon/hwmon*/temp*_input`
/// (millidegrees), labelled by `temp*_label` (or `tempN`), with `temp*_crit` when given.
/// Sorted by hwmon device, then sensor number. Sensors that fail to read (ENODATA while a
/// module is unplugged, for instance) are left out.
pub fn temperatures(root: &SysRoot, ifname: &str) -> Vec<Temperature> {
    if !valid_ifname(ifname) {
        return Vec::new();
    }
    temperatures_in(&netdev_dirs(root, ifname))
}

/// [`temperatures`] of the interface at `dirs`: none without a device.
pub fn temperatures_in(dirs: &NetdevDirs) -> Vec<Temperature> {
    TemperatureFiles::find(dirs).read()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> SysRoot {
        let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/two-socket");
        SysRoot::new(base.join("sys"), base.join("proc"))
    }

    #[test]
    fn pci_addresses() {
        assert!(is_pci_address("0000:81:00.0"));
        assert!(is_pci_address("10000:e1:00.7"));
        assert!(is_pci_address("0000:3b:1f.3"));
        for bad in [
            "pci0000:80",
            "0000:81:00",
            "0000:81:00.8",
            "000:81:00.0",
            "0000:81:0.0",
            "virtio2",
            "0000:8g:00.0",
            "0000:81:00.0:1",
            "",
        ] {
            assert!(!is_pci_address(bad), "{bad}");
        }
    }

    #[test]
    fn pci_function_walks_up() {
        assert_eq!(
            pci_function("pci0000:80/0000:80:01.0/0000:81:00.0"),
            Some(("pci0000:80/0000:80:01.0/0000:81:00.0", "0000:81:00.0"))
        );
        // virtio-net: the netdev's device is virtioN, its parent is the PCI function.
        assert_eq!(
            pci_function("pci0000:00/0000:00:03.0/virtio2"),
            Some(("pci0000:00/0000:00:03.0", "0000:00:03.0"))
        );
        // mlx5 sub-function on the auxiliary bus below the PF.
        assert_eq!(
            pci_function("pci0000:00/0000:00:02.0/0000:03:00.0/mlx5_core.sf.2"),
            Some(("pci0000:00/0000:00:02.0/0000:03:00.0", "0000:03:00.0"))
        );
        // USB NIC: the PCI device above is the USB controller, not the NIC.
        assert_eq!(
            pci_function("pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0"),
            None
        );
        assert_eq!(pci_function("platform/soc/30be0000.ethernet"), None);
        assert_eq!(pci_function("virtual/net/lo"), None);
    }

    #[test]
    fn pcie_link_parsing() {
        let l = parse_pcie_link("8.0 GT/s PCIe\n", "16.0 GT/s PCIe", "8\n", "16").expect("link");
        assert_eq!(l.current_speed, "8.0 GT/s PCIe");
        assert_eq!(l.max_speed, "16.0 GT/s PCIe");
        assert_eq!((l.current_width, l.max_width), (8, 16));
        assert!(l.degraded());
        let ok = parse_pcie_link("8 GT/s", "8 GT/s", "4", "4").expect("old format");
        assert!(!ok.degraded());
        assert!(parse_pcie_link("Unknown", "8 GT/s", "x", "4").is_err());
        // A switch port that reports no maximum (QEMU's xio3130: "Unknown", width 0) is not
        // called degraded; one slower than its maximum is, "8.0" against "8" is not.
        let port = parse_pcie_link("2.5 GT/s PCIe", "Unknown", "1", "0").expect("port");
        assert!(!port.degraded(), "{port:?}");
        let slow = parse_pcie_link("2.5 GT/s PCIe", "8.0 GT/s PCIe", "4", "4").expect("slow");
        assert!(slow.degraded());
        let same = parse_pcie_link("8.0 GT/s PCIe", "8 GT/s", "4", "4").expect("same");
        assert!(!same.degraded());
    }

    #[test]
    fn carrier_values() {
        assert_eq!(parse_carrier(&Ok("1".into())), Some(true));
        assert_eq!(parse_carrier(&Ok("0\n".into())), Some(false));
        let einval = io::Error::from_raw_os_error(22);
        assert_eq!(parse_carrier(&Err(einval)), None);
        assert_eq!(parse_carrier(&Ok(String::new())), None);
    }

    #[test]
    fn queue_dir_names() {
        assert_eq!(parse_queue_dir("rx-0"), Some((Dir::Rx, 0)));
        assert_eq!(parse_queue_dir("tx-63"), Some((Dir::Tx, 63)));
        assert_eq!(parse_queue_dir("rx-"), None);
        assert_eq!(parse_queue_dir("rx-1a"), None);
        assert_eq!(parse_queue_dir("tx-65535"), Some((Dir::Tx, 65535)));
        assert_eq!(parse_queue_dir("rx-65536"), None);
        assert_eq!(parse_queue_dir("rx-30000000"), None);
        assert_eq!(parse_queue_dir("xdp-1"), None);
        assert_eq!(parse_queue_dir("rx0"), None);
    }

    #[test]
    fn every_statistics_file_has_a_counter() {
        let mut c = Counters::default();
        for (i, name) in STATISTICS.iter().enumerate() {
            assert!(set_counter(&mut c, name, i as u64 + 1), "{name}");
        }
        assert!(!set_counter(&mut c, "rx_bogus", 1));
        assert_eq!(c.rx_packets, 1);
        assert_eq!(c.rx_nohandler, 24);
        assert_eq!(c.rx_missed_errors, 16);
    }

    #[test]
    fn numa_and_temperature_values() {
        assert_eq!(parse_numa_node("-1\n"), None);
        assert_eq!(parse_numa_node("1"), Some(1));
        assert_eq!(parse_numa_node("x"), None);
        assert_eq!(parse_millidegrees("58000\n"), Some(58.0));
        assert_eq!(parse_millidegrees("-5500"), Some(-5.5));
        assert_eq!(parse_millidegrees(""), None);
        assert_eq!(hwmon_index("temp12_input", "_input"), Some(12));
        assert_eq!(hwmon_index("temp_input", "_input"), None);
        assert_eq!(hwmon_index("in0_input", "_input"), None);
    }

    #[test]
    fn ifname_validation() {
        assert!(valid_ifname("eth2"));
        assert!(valid_ifname("enp129s0f0np0"));
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "../x",
            "eth0:1",
            "a b",
            "0123456789abcdef",
        ] {
            assert!(!valid_ifname(bad), "{bad:?}");
        }
    }

    #[test]
    fn fixture_interfaces() {
        let names = interfaces(&fixture()).expect("class/net");
        // bonding_masters is a file, not an interface.
        assert_eq!(names, ["eno1", "eth2", "lo"]);
    }

    #[test]
    fn fixture_links() {
        let root = fixture();
        let eth2 = link_from_sysfs(&root, "eth2").expect("eth2");
        assert_eq!(eth2.ifindex, 4);
        assert_eq!(eth2.mtu, 9000);
        assert_eq!(eth2.txqueuelen, 10000);
        assert_eq!(eth2.operstate, "up");
        assert_eq!(eth2.address.as_deref(), Some("b8:ce:f6:12:34:56"));
        assert_eq!(eth2.carrier, Some(true));
        assert_eq!(eth2.carrier_changes, Some(3));
        assert_eq!((eth2.num_rx_queues, eth2.num_tx_queues), (8, 8));
        assert_eq!(eth2.counters.rx_packets, 123_456_789);
        assert_eq!(eth2.counters.tx_packets, 98_765_432);
        assert_eq!(eth2.counters.rx_bytes, 178_264_972_800);
        assert_eq!(eth2.counters.rx_dropped, 17);
        assert_eq!(eth2.counters.rx_missed_errors, 5);
        assert_eq!(eth2.counters.rx_crc_errors, 2);
        assert_eq!(eth2.counters.tx_errors, 0);

        let eno1 = link_from_sysfs(&root, "eno1").expect("eno1");
        assert_eq!(eno1.ifindex, 2);
        assert_eq!(eno1.operstate, "down");
        // The fixture has no carrier file for it, as reading it on a down link fails.
        assert_eq!(eno1.carrier, None);
        assert_eq!((eno1.num_rx_queues, eno1.num_tx_queues), (4, 4));

        let lo = link_from_sysfs(&root, "lo").expect("lo");
        assert_eq!((lo.ifindex, lo.mtu), (1, 65536));
        assert_eq!(lo.operstate, "unknown");
        assert_eq!((lo.num_rx_queues, lo.num_tx_queues), (1, 1));

        assert!(link_from_sysfs(&root, "nosuch0").is_err());
        assert!(link_from_sysfs(&root, "../x").is_err());
    }

    #[test]
    fn fixture_device_info() {
        let root = fixture();
        let d = device_info(&root, "eth2");
        assert_eq!(d.driver.as_deref(), Some("mlx5_core"));
        assert_eq!(d.pci_address.as_deref(), Some("0000:81:00.0"));
        assert_eq!(d.numa_node, Some(1));
        assert_eq!(
            d.local_cpus.as_ref().map(CpuSet::to_list).as_deref(),
            Some("4-7,12-15")
        );
        assert_eq!(
            d.device_path.as_deref(),
            Some("pci0000:80/0000:80:01.0/0000:81:00.0")
        );
        assert_eq!(d.pci_path, d.device_path);
        let link = d.pcie.get().expect("pcie");
        assert_eq!(link.current_speed, "8.0 GT/s PCIe");
        assert_eq!(link.max_speed, "16.0 GT/s PCIe");
        assert_eq!((link.current_width, link.max_width), (8, 16));
        assert!(link.degraded());

        let e = device_info(&root, "eno1");
        assert_eq!(e.driver.as_deref(), Some("igb"));
        assert_eq!(e.pci_address.as_deref(), Some("0000:02:00.0"));
        assert_eq!(e.numa_node, Some(0));
        assert!(!e.pcie.get().expect("pcie").degraded());

        let lo = device_info(&root, "lo");
        assert_eq!(lo, DeviceInfo::virtual_device());
        assert_eq!(lo.pcie.reason(), Some("not a PCI device"));
    }

    #[test]
    fn fixture_queues() {
        let root = fixture();
        let q = queues(&root, "eth2");
        assert_eq!(q.len(), 16);
        assert!(q[..8].iter().all(|q| q.dir == Dir::Rx));
        assert!(q[8..].iter().all(|q| q.dir == Dir::Tx));
        assert_eq!(q.iter().map(|q| q.index).collect::<Vec<_>>(), {
            let mut v: Vec<u32> = (0..8).collect();
            v.extend(0..8);
            v
        });
        assert_eq!(
            q[0].rps_cpus.as_ref().map(CpuSet::to_list).as_deref(),
            Some("4-7")
        );
        assert_eq!(q[0].rps_flow_cnt, Some(4096));
        assert_eq!(
            q[1].rps_cpus.as_ref().map(CpuSet::to_list).as_deref(),
            Some("12-15")
        );
        assert_eq!(q[2].rps_cpus.as_ref().map(CpuSet::len), Some(0));
        assert_eq!(q[2].rps_flow_cnt, Some(0));
        assert_eq!(q[0].xps_cpus, None);
        assert_eq!(
            q[8].xps_cpus.as_ref().map(CpuSet::to_list).as_deref(),
            Some("4")
        );
        assert_eq!(
            q[14].xps_cpus.as_ref().map(CpuSet::to_list).as_deref(),
            Some("0")
        );
        assert_eq!(
            q[15].xps_cpus.as_ref().map(CpuSet::to_list).as_deref(),
            Some("1")
        );
        assert_eq!(q[11].tx_timeout, Some(2));
        assert_eq!(q[8].tx_timeout, Some(0));
        assert_eq!(q[8].rps_cpus, None);

        // lo's tx-0 has no xps_cpus (single queue).
        let lo = queues(&root, "lo");
        assert_eq!(lo.len(), 2);
        assert_eq!(lo[1].dir, Dir::Tx);
        assert_eq!(lo[1].xps_cpus, None);
        assert_eq!(lo[1].tx_timeout, Some(0));
        assert_eq!(queues(&root, "eno1").len(), 8);
        assert!(queues(&root, "nosuch0").is_empty());
    }

    #[test]
    fn fixture_temperatures() {
        let root = fixture();
        let t = temperatures(&root, "eth2");
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].label, "asic");
        assert!((t[0].celsius - 58.0).abs() < 1e-9);
        assert_eq!(t[0].crit, Some(105.0));
        assert_eq!(t[1].label, "module0");
        assert!((t[1].celsius - 41.5).abs() < 1e-9);
        assert_eq!(t[1].crit, None);
        assert!(temperatures(&root, "eno1").is_empty());
        assert!(temperatures(&root, "lo").is_empty());
    }

    /// The files are found once in queue order; each read sees the values of now, and a
    /// queue that went away makes the read fail (the caller finds the files again).
    #[test]
    fn tx_timeout_files_are_read_again_and_notice_a_queue_gone() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = SysRoot::new(tmp.path().join("sys"), tmp.path().join("proc"));
        let queues = tmp.path().join("sys/class/net/eth0/queues");
        for (q, v) in [("tx-10", "7"), ("tx-0", "1"), ("tx-1", "0"), ("rx-0", "")] {
            fs::create_dir_all(queues.join(q)).expect("mkdir");
            if !v.is_empty() {
                fs::write(queues.join(q).join("tx_timeout"), format!("{v}\n")).expect("write");
            }
        }
        let files = TxTimeoutFiles::find(&root, "eth0");
        assert_eq!(files.read(), Some(vec![(0, 1), (1, 0), (10, 7)]));
        fs::write(queues.join("tx-1/tx_timeout"), "3\n").expect("write");
        assert_eq!(files.read(), Some(vec![(0, 1), (1, 3), (10, 7)]));
        fs::remove_dir_all(queues.join("tx-10")).expect("rm");
        assert_eq!(files.read(), None);
        assert_eq!(
            TxTimeoutFiles::find(&root, "eth0").read(),
            Some(vec![(0, 1), (1, 3)])
        );
        assert_eq!(TxTimeoutFiles::find(&root, "nosuch").read(), Some(vec![]));
    }

    /// A virtio-net layout built in a temporary directory: the netdev's device is `virtio0`,
    /// the PCI function is its parent and has no PCI Express link attributes.
    #[test]
    fn virtio_device_info() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let sys = tmp.path().join("sys");
        let pci = sys.join("devices/pci0000:00/0000:00:03.0");
        let net = pci.join("virtio0/net/eth0");
        fs::create_dir_all(&net).expect("mkdir");
        fs::create_dir_all(sys.join("bus/virtio/drivers/virtio_net")).expect("mkdir");
        fs::create_dir_all(sys.join("class/net")).expect("mkdir");
        fs::write(pci.join("numa_node"), "-1\n").expect("write");
        fs::write(pci.join("local_cpulist"), "0-1\n").expect("write");
        std::os::unix::fs::symlink("../../../virtio0", net.join("device")).expect("symlink");
        std::os::unix::fs::symlink(
            "../../../../bus/virtio/drivers/virtio_net",
            pci.join("virtio0/driver"),
        )
        .expect("symlink");
        std::os::unix::fs::symlink(
            "../../devices/pci0000:00/0000:00:03.0/virtio0/net/eth0",
            sys.join("class/net/eth0"),
        )
        .expect("symlink");
        let root = SysRoot::new(&sys, tmp.path().join("proc"));
        let d = device_info(&root, "eth0");
        assert_eq!(d.driver.as_deref(), Some("virtio_net"));
        assert_eq!(d.pci_address.as_deref(), Some("0000:00:03.0"));
        assert_eq!(d.numa_node, None);
        assert_eq!(d.local_cpus, Some(CpuSet::from_cpus([0, 1])));
        assert_eq!(d.pcie.reason(), Some("no PCIe link attributes"));
        assert_eq!(
            d.device_path.as_deref(),
            Some("pci0000:00/0000:00:03.0/virtio0")
        );
        assert_eq!(d.pci_path.as_deref(), Some("pci0000:00/0000:00:03.0"));
    }

    /// Reading the live kernel's files must never fail hard, whatever this host has.
    #[test]
    fn live_sysfs_is_readable() {
        let root = SysRoot::live();
        let Ok(names) = interfaces(&root) else {
            return;
        };
        for n in names {
            let _ = link_from_sysfs(&root, &n);
            let _ = device_info(&root, &n);
            let _ = queues(&root, &n);
            let _ = temperatures(&root, &n);
        }
    }
}
