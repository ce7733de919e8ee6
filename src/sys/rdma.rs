//! RDMA devices from `/sys/class/infiniband` and the `rdma_cm` configfs defaults.
//!
//! Layouts followed: `Documentation/ABI/stable/sysfs-class-infiniband` (device attributes,
//! `ports/<n>/{state,phys_state,rate,link_layer,gids,gid_attrs,counters,hw_counters}`) and
//! `Documentation/ABI/testing/configfs-rdma_cm` (`rdma_cm/<dev>/ports/<n>/default_roce_{mode,tos}`,
//! present only after `mkdir rdma_cm/<dev>` below the configfs mount `/sys/kernel/config`).
//!
//! A GID slot that holds nothing reads as the all-zero GID from `gids/<i>`, and its
//! `gid_attrs/types/<i>` and `gid_attrs/ndevs/<i>` answer EINVAL (`ib_port_gid_attr_show` in
//! `drivers/infiniband/core/sysfs.c`): such a slot is empty, not an error.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::net::Ipv6Addr;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use rustix::fs::{openat, Mode, OFlags, CWD};

use crate::model::rdma::{Gid, GidKind, RdmaDevice, RdmaPort};

use super::sysfs::{devices_relative, link_basename, pci_function, read_attr, read_opt};
use super::SysRoot;

/// The class directory of RDMA devices, relative to the sysfs root.
pub const CLASS_DIR: &str = "class/infiniband";
/// The `rdma_cm` configfs directory, relative to the sysfs root (configfs is mounted on
/// `/sys/kernel/config`).
pub const RDMA_CM_DIR: &str = "kernel/config/rdma_cm";

/// Most GID table entries read per port: the kernel's tables hold at most 256 (mlx5 has
/// 255 or 256, rxe 16 or 32); a larger directory is not a kernel's.
pub const MAX_GIDS: u32 = 1024;

/// Why the RDMA devices could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RdmaError {
    /// A directory or attribute that must be readable was not.
    #[error("failed to read {path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The cause.
        source: io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> RdmaError + '_ {
    move |source| RdmaError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// How much of each device a read takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RdmaReads {
    /// Everything: `show`, snapshots, `nccl` and the checks print or use it.
    All,
    /// What `topo` prints from: each port's GID table only as far as the first entry with a
    /// netdev, to learn the port's netdev, and then left empty (on a port with 256 entries in
    /// use, 3 files instead of 768); no counters (an mlx5 port has some 70 counter files).
    Fabric,
}

/// Most threads reading devices at once.
const MAX_WORKERS: usize = 8;

/// All RDMA devices under this root, sorted by name. No `class/infiniband` directory (no
/// RDMA core loaded, or a fixture without RDMA) gives an empty list.
pub fn read_devices(root: &SysRoot) -> Result<Vec<RdmaDevice>, RdmaError> {
    read_devices_with(root, RdmaReads::All)
}

/// [`read_devices`] reading as much of each device as `reads` says.
///
/// Devices are read on up to [`MAX_WORKERS`] threads (no more than the CPUs there are): a
/// device's GID table is up to 256 entries of three files each, and the opens and reads of
/// one device do not wait on another's. The result and the error reported do not depend on
/// the threads: the first failing device in name order is the error.
pub fn read_devices_with(root: &SysRoot, reads: RdmaReads) -> Result<Vec<RdmaDevice>, RdmaError> {
    let class = root.sys(CLASS_DIR);
    let entries = match fs::read_dir(&class) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err(&class)(e)),
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| valid_device_name(n))
        .collect();
    names.sort();
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .clamp(1, MAX_WORKERS)
        .min(names.len());
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(name) = names.get(i) else {
                return done;
            };
            done.push((i, read_device_with(root, name, reads)));
        }
    };
    let mut done = if workers > 1 {
        std::thread::scope(|s| {
            let helpers: Vec<_> = (1..workers).map(|_| s.spawn(work)).collect();
            let mut done = work();
            for h in helpers {
                done.extend(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
            }
            done
        })
    } else {
        work()
    };
    done.sort_by_key(|(i, _)| *i);
    let mut out = Vec::with_capacity(done.len());
    for (_, r) in done {
        match r {
            Ok(d) => out.push(d),
            // The device went away between the listing and the read (driver unbound).
            Err(RdmaError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// An RDMA device name as the kernel allows it (`ib_device_rename`: at most 63 bytes, no
/// `/`), refusing `.` and `..` so that no path is built from them.
pub fn valid_device_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() < 64
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'/' && b != b'%')
}

/// One RDMA device by name.
pub fn read_device(root: &SysRoot, name: &str) -> Result<RdmaDevice, RdmaError> {
    read_device_with(root, name, RdmaReads::All)
}

/// [`read_device`] reading as much of each device as `reads` says.
pub fn read_device_with(
    root: &SysRoot,
    name: &str,
    reads: RdmaReads,
) -> Result<RdmaDevice, RdmaError> {
    let dir = root.sys(CLASS_DIR).join(name);
    let node_type_path = dir.join("node_type");
    let node_type = parse_node_type(&read_attr(&node_type_path).map_err(io_err(&node_type_path))?);
    let nonempty = |f: &str| read_opt(&dir.join(f)).filter(|s| !s.is_empty());
    let device = dir.join("device");
    let (driver, device_path) = if device.exists() {
        (
            link_basename(&device.join("driver")),
            devices_relative(root, &device),
        )
    } else {
        (software_driver(&dir), None)
    };
    let pci_address = device_path
        .as_deref()
        .and_then(pci_function)
        .map(|(_, addr)| addr.to_string());
    let ports_dir = dir.join("ports");
    let mut numbers: Vec<u32> = match fs::read_dir(&ports_dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok()))
            .collect(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(io_err(&ports_dir)(e)),
    };
    numbers.sort_unstable();
    let mut ports = Vec::with_capacity(numbers.len());
    for n in numbers {
        ports.push(read_port(
            root,
            name,
            &ports_dir.join(n.to_string()),
            n,
            reads,
        )?);
    }
    Ok(RdmaDevice {
        name: name.to_string(),
        node_type,
        fw_ver: nonempty("fw_ver"),
        node_guid: nonempty("node_guid"),
        sys_image_guid: nonempty("sys_image_guid"),
        hca_type: nonempty("hca_type").or_else(|| nonempty("board_id")),
        driver,
        pci_address,
        device_path,
        ports,
        rdma_cm_dir: rdma_cm_dir(root, name),
    })
}

/// Whether `rdma_cm/<name>` exists in configfs; `None` when `rdma_cm` itself is not there
/// (configfs not mounted, or the `rdma_cm` module not loaded).
pub fn rdma_cm_dir(root: &SysRoot, name: &str) -> Option<bool> {
    let cm = root.sys(RDMA_CM_DIR);
    if !cm.is_dir() {
        return None;
    }
    Some(cm.join(name).is_dir())
}

fn read_port(
    root: &SysRoot,
    dev: &str,
    dir: &Path,
    port: u32,
    reads: RdmaReads,
) -> Result<RdmaPort, RdmaError> {
    let must = |f: &str| {
        let p = dir.join(f);
        read_attr(&p).map_err(io_err(&p))
    };
    let state = parse_enum_attr(&must("state")?);
    let phys_state = parse_enum_attr(&must("phys_state")?);
    let rate = read_opt(&dir.join("rate")).unwrap_or_default();
    let link_layer = read_opt(&dir.join("link_layer")).unwrap_or_else(|| "InfiniBand".into());
    let mut gids = read_gid_table(dir, &link_layer, reads)?.gids;
    let netdev = gids.iter().find_map(|g| g.netdev.clone());
    if reads == RdmaReads::Fabric {
        gids.clear();
    }
    let active_mtu = if link_layer.eq_ignore_ascii_case("ethernet") {
        netdev.as_deref().and_then(|nd| {
            super::sysfs::read_num_opt::<u32>(&root.sys("class/net").join(nd).join("mtu"))
                .and_then(roce_active_mtu)
        })
    } else {
        None
    };
    let counters = |d: &Path| match reads {
        RdmaReads::All => read_counter_dir(d),
        RdmaReads::Fabric => BTreeMap::new(),
    };
    let cm = root
        .sys(RDMA_CM_DIR)
        .join(dev)
        .join("ports")
        .join(port.to_string());
    Ok(RdmaPort {
        port,
        state,
        phys_state,
        rate_gbps: parse_rate_gbps(&rate),
        rate,
        link_layer,
        active_mtu,
        netdev,
        netdev_index: None,
        gids,
        hw_counters: counters(&dir.join("hw_counters")),
        counters: counters(&dir.join("counters")),
        default_roce_mode: read_opt(&cm.join("default_roce_mode")).filter(|s| !s.is_empty()),
        default_roce_tos: read_opt(&cm.join("default_roce_tos"))
            .and_then(|s| s.trim().parse().ok()),
    })
}

/// A walk of one port's GID table: the entries in use, and how many slot files it opened.
#[derive(Debug)]
pub(crate) struct GidTable {
    /// The non-empty entries, by index.
    pub gids: Vec<Gid>,
    /// Files opened below `gids/` and `gid_attrs/`: one per empty slot, three per used one.
    /// Opening is what a GID table costs (16 devices of 256 used slots are 12,288 files),
    /// so a test holds the walk to it.
    #[cfg_attr(not(test), allow(dead_code))]
    pub files_opened: usize,
}

/// A directory of the GID table (`gids`, `gid_attrs/types`, `gid_attrs/ndevs`) opened once,
/// or the error opening it gave, answered again for each slot.
struct SlotDir(Result<OwnedFd, io::ErrorKind>);

impl SlotDir {
    fn open(port: &OwnedFd, rel: &str) -> Self {
        Self(
            openat(
                port,
                rel,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| io::Error::from(e).kind()),
        )
    }

    /// Reads slot file `name` into `buf` (see [`read_at`]), counting the open.
    fn read<'b>(&self, name: &str, buf: &'b mut [u8], opened: &mut usize) -> io::Result<&'b str> {
        match &self.0 {
            Ok(dir) => {
                *opened += 1;
                read_at(dir, name, buf)
            }
            Err(kind) => Err(io::Error::from(*kind)),
        }
    }
}

/// The entries of a port's GID table, by index (with [`RdmaReads::Fabric`], up to the
/// first one with a netdev).
///
/// The three directories are opened once and every slot file relative to them: a sysfs path
/// walk costs about as much per component as the open itself, and a full GID path from the
/// root has nine (`show_gids` is slow for that and for its forks). A slot whose GID is all
/// zero (or answers EINVAL) is empty and costs that one read; only a GID in use is worth its
/// type and netdev reads. Reads go into two buffers reused for every slot.
pub(crate) fn read_gid_table(
    port_dir: &Path,
    link_layer: &str,
    reads: RdmaReads,
) -> Result<GidTable, RdmaError> {
    let gids_dir = port_dir.join("gids");
    let mut indices: Vec<u32> = match fs::read_dir(&gids_dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok()))
            .filter(|i| *i < MAX_GIDS)
            .collect(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Ok(GidTable {
                gids: Vec::new(),
                files_opened: 0,
            })
        }
        Err(e) => return Err(io_err(&gids_dir)(e)),
    };
    indices.sort_unstable();
    let port = openat(
        CWD,
        port_dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| io_err(port_dir)(e.into()))?;
    let slots = SlotDir::open(&port, "gids");
    if let Err(kind) = &slots.0 {
        return Err(io_err(&gids_dir)(io::Error::from(*kind)));
    }
    let types = SlotDir::open(&port, "gid_attrs/types");
    let ndevs = SlotDir::open(&port, "gid_attrs/ndevs");
    let mut out = Vec::new();
    let mut opened = 0;
    let mut name = String::with_capacity(8);
    let (mut a, mut b) = (vec![0u8; ATTR_BUF], vec![0u8; ATTR_BUF]);
    for i in indices {
        name.clear();
        let _ = write!(name, "{i}");
        let gid = match slots.read(&name, &mut a, &mut opened) {
            Ok(text) => parse_gid(text).ok_or_else(|| RdmaError::Io {
                path: gids_dir.join(&name).display().to_string(),
                source: io::Error::new(io::ErrorKind::InvalidData, format!("not a GID: {text:?}")),
            })?,
            Err(e) if is_empty_slot(&e) => continue,
            Err(e) => return Err(io_err(&gids_dir.join(&name))(e)),
        };
        // Only a non-zero GID is worth its two attribute reads.
        if gid.is_unspecified() {
            continue;
        }
        let kind = types.read(&name, &mut a, &mut opened);
        let ndev = ndevs.read(&name, &mut b, &mut opened);
        if let Some(g) = gid_entry(i, gid, &kind, &ndev, link_layer) {
            let found = g.netdev.is_some();
            out.push(g);
            if found && reads == RdmaReads::Fabric {
                break;
            }
        }
    }
    Ok(GidTable {
        gids: out,
        files_opened: opened,
    })
}

/// Size of the buffer an attribute is read into: a page, what sysfs produces at most.
const ATTR_BUF: usize = 4096;

/// Reads the attribute `name` below the directory `dir` into `buf` with a single `read` (a
/// sysfs attribute is produced whole by the first read: Documentation/filesystems/sysfs.rst),
/// trailing whitespace removed, keeping the error (EINVAL marks an empty GID slot).
fn read_at<'b>(dir: &OwnedFd, name: &str, buf: &'b mut [u8]) -> io::Result<&'b str> {
    let fd = openat(dir, name, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
    let n = rustix::io::read(&fd, &mut *buf)?;
    drop(fd);
    let s = std::str::from_utf8(&buf[..n])
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    Ok(s.trim_end())
}

/// True for the errors an empty or vanishing GID slot answers with: EINVAL (no entry),
/// ENODATA, ENOENT (no such slot, or an old kernel without `gid_attrs`).
fn is_empty_slot(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EINVAL | libc::ENODATA | libc::ENOENT)
    )
}

/// One GID table entry from its GID and the results of reading its type and netdev files.
///
/// A type file answering EINVAL means the slot emptied (or never held anything): `None`.
/// A missing type file (kernels before `gid_attrs`) reads as "IB/RoCE v1". A netdev file
/// answering EINVAL means the GID has no netdev (InfiniBand).
pub fn gid_entry(
    index: u32,
    gid: Ipv6Addr,
    kind: &io::Result<&str>,
    ndev: &io::Result<&str>,
    link_layer: &str,
) -> Option<Gid> {
    if gid.is_unspecified() {
        return None;
    }
    let kind = match kind {
        Ok(text) => GidKind::from_sysfs(text, link_layer)?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            GidKind::from_sysfs("IB/RoCE v1", link_layer)?
        }
        Err(_) => return None,
    };
    let netdev = ndev
        .as_ref()
        .ok()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    Some(Gid {
        index,
        gid,
        kind,
        netdev,
    })
}

/// A GID as sysfs writes it: eight groups of four hex digits
/// (`fe80:0000:0000:0000:5054:00ff:fe12:3456`).
pub fn parse_gid(text: &str) -> Option<Ipv6Addr> {
    text.trim().parse().ok()
}

/// `node_type` ("1: CA") to its name ("CA"); text without a number is kept whole.
pub fn parse_node_type(text: &str) -> String {
    parse_enum_attr(text)
}

/// A "number: NAME" attribute (`state` "4: ACTIVE", `phys_state` "5: `LinkUp`") to its name.
pub fn parse_enum_attr(text: &str) -> String {
    let t = text.trim();
    match t.split_once(':') {
        Some((n, name)) if n.trim().bytes().all(|b| b.is_ascii_digit()) => name.trim().to_string(),
        _ => t.to_string(),
    }
}

/// The Gb/s of a `rate` attribute: "100 Gb/sec (4X EDR)" -> 100, "2.5 Gb/sec (1X SDR)" -> 2.5.
pub fn parse_rate_gbps(text: &str) -> Option<f64> {
    let mut words = text.split_whitespace();
    let value: f64 = words.next()?.parse().ok()?;
    match words.next()? {
        "Gb/sec" | "Gb/s" => Some(value),
        "Mb/sec" | "Mb/s" => Some(value / 1000.0),
        _ => None,
    }
    .filter(|v| v.is_finite() && *v >= 0.0)
}

/// The active MTU a RoCE port gets on a netdev with this MTU: the largest IB MTU that fits
/// after the RoCE headers (`iboe_get_mtu` in `include/rdma/ib_addr.h` subtracts GRH 40, UDP 8,
/// BTH 12, XRC 4, `AtomicETH` 28 and ICRC 4 bytes: 96), at most 4096. `None` below 256.
pub fn roce_active_mtu(netdev_mtu: u32) -> Option<u32> {
    let room = netdev_mtu.checked_sub(96)?;
    [4096, 2048, 1024, 512, 256]
        .into_iter()
        .find(|m| *m <= room)
}

/// The hardware counters of every port of these devices, keyed `DEV/PORT`, read again from
/// sysfs (the counter window's samples). A port whose sysfs has none keeps what the device
/// model held only if netlink gave it there; here it is simply left out.
pub fn hw_counters_of(
    root: &SysRoot,
    devs: &[RdmaDevice],
) -> BTreeMap<String, BTreeMap<String, u64>> {
    let mut out = BTreeMap::new();
    for d in devs.iter().filter(|d| valid_device_name(&d.name)) {
        for p in &d.ports {
            let dir = root
                .sys(CLASS_DIR)
                .join(&d.name)
                .join("ports")
                .join(p.port.to_string())
                .join("hw_counters");
            let c = read_counter_dir(&dir);
            if !c.is_empty() {
                out.insert(format!("{}/{}", d.name, p.port), c);
            }
        }
    }
    out
}

/// Counter files of a `hw_counters` or `counters` directory. Files that do not read as a
/// number (`lifespan` is a setting; some PMA counters answer EINVAL when the device lacks
/// them) are left out.
pub fn read_counter_dir(dir: &Path) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return out;
    };
    for e in entries.filter_map(Result::ok) {
        let name = e.file_name().to_string_lossy().into_owned();
        if name == "lifespan" {
            continue;
        }
        if let Some(v) = read_opt(&e.path()).and_then(|s| s.trim().parse::<u64>().ok()) {
            out.insert(name, v);
        }
    }
    out
}

/// The RDMA driver of a software device, which has no parent device to name one: rxe
/// (`rdma link add NAME type rxe`, any name) writes "rxe" to `node_desc` and has a `parent`
/// attribute naming its netdev (`drivers/infiniband/sw/rxe/rxe_verbs.c`). `None` for anything
/// else.
pub fn software_driver(dev_dir: &Path) -> Option<String> {
    let desc = read_opt(&dev_dir.join("node_desc"))?;
    (desc.trim() == "rxe" && dev_dir.join("parent").exists()).then(|| "rxe".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::symlink;

    fn put(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(path, format!("{text}\n")).expect("write");
    }

    /// A small tree following `sysfs-class-infiniband`: an mlx5 device on a PCI function with
    /// RoCE v1/v2 GID pairs as mlx5 interleaves them (an empty slot between), and an rxe
    /// device in `devices/virtual` like `rdma link add rxe0 type rxe netdev virtio0` makes.
    fn tree() -> tempfile::TempDir {
        let t = tempfile::tempdir().expect("tempdir");
        let sys = t.path().join("sys");
        let pci = sys.join("devices/pci0000:80/0000:80:01.0/0000:81:00.0");
        let ib = pci.join("infiniband/mlx5_0");
        put(&pci.join("numa_node"), "1");
        fs::create_dir_all(sys.join("bus/pci/drivers/mlx5_core")).expect("mkdir");
        symlink("../../../../bus/pci/drivers/mlx5_core", pci.join("driver")).expect("ln");
        put(&ib.join("node_type"), "1: CA");
        put(&ib.join("fw_ver"), "28.39.1002");
        put(&ib.join("node_guid"), "b8ce:f603:00a1:b2c4");
        put(&ib.join("hca_type"), "MT4129");
        symlink("../../../0000:81:00.0", ib.join("device")).expect("ln");
        let p = ib.join("ports/1");
        put(&p.join("state"), "4: ACTIVE");
        put(&p.join("phys_state"), "5: LinkUp");
        put(&p.join("rate"), "400 Gb/sec (4X NDR)");
        put(&p.join("link_layer"), "Ethernet");
        let gids = [
            ("fe80:0000:0000:0000:bace:f6ff:fea1:b2c4", "IB/RoCE v1"),
            ("fe80:0000:0000:0000:bace:f6ff:fea1:b2c4", "RoCE v2"),
            ("0000:0000:0000:0000:0000:ffff:0a00:0001", "IB/RoCE v1"),
            ("0000:0000:0000:0000:0000:ffff:0a00:0001", "RoCE v2"),
        ];
        for (i, (g, ty)) in gids.iter().enumerate() {
            put(&p.join(format!("gids/{i}")), g);
            put(&p.join(format!("gid_attrs/types/{i}")), ty);
            put(&p.join(format!("gid_attrs/ndevs/{i}")), "eth2");
        }
        // Empty slots: all-zero GIDs; their attribute files would answer EINVAL live.
        for i in 4..8 {
            put(
                &p.join(format!("gids/{i}")),
                "0000:0000:0000:0000:0000:0000:0000:0000",
            );
        }
        put(&p.join("hw_counters/out_of_buffer"), "12");
        put(&p.join("hw_counters/np_cnp_sent"), "7");
        put(&p.join("hw_counters/lifespan"), "10");
        put(&p.join("counters/port_xmit_data"), "123456");
        let net = sys.join("class/net/eth2");
        put(&net.join("mtu"), "4200");
        fs::create_dir_all(sys.join("class/infiniband")).expect("mkdir");
        symlink(
            "../../devices/pci0000:80/0000:80:01.0/0000:81:00.0/infiniband/mlx5_0",
            sys.join("class/infiniband/mlx5_0"),
        )
        .expect("ln");

        let rxe = sys.join("devices/virtual/infiniband/rxe0");
        put(&rxe.join("node_type"), "1: CA");
        put(&rxe.join("node_guid"), "5054:00ff:fe12:3456");
        let p = rxe.join("ports/1");
        put(&p.join("state"), "4: ACTIVE");
        put(&p.join("phys_state"), "5: LinkUp");
        put(&p.join("rate"), "2.5 Gb/sec (1X SDR)");
        put(&p.join("link_layer"), "Ethernet");
        put(&p.join("gids/0"), "fe80:0000:0000:0000:5054:00ff:fe12:3456");
        put(&p.join("gid_attrs/types/0"), "RoCE v2");
        put(&p.join("gid_attrs/ndevs/0"), "virtio0");
        put(&p.join("gids/1"), "0000:0000:0000:0000:0000:ffff:c612:0002");
        put(&p.join("gid_attrs/types/1"), "RoCE v2");
        put(&p.join("gid_attrs/ndevs/1"), "virtio0");
        put(&p.join("hw_counters/completer_retry_err"), "3");
        put(&sys.join("class/net/virtio0/mtu"), "1500");
        symlink(
            "../../devices/virtual/infiniband/rxe0",
            sys.join("class/infiniband/rxe0"),
        )
        .expect("ln");
        let cm = sys.join("kernel/config/rdma_cm/rxe0/ports/1");
        put(&cm.join("default_roce_mode"), "RoCE v2");
        put(&cm.join("default_roce_tos"), "106");
        t
    }

    fn root(t: &tempfile::TempDir) -> SysRoot {
        SysRoot::new(t.path().join("sys"), t.path().join("proc"))
    }

    #[test]
    fn reads_the_fixture_tree() {
        let t = tree();
        let devs = read_devices(&root(&t)).expect("read");
        let names: Vec<&str> = devs.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["mlx5_0", "rxe0"]);

        let mlx = &devs[0];
        assert_eq!(mlx.node_type, "CA");
        assert_eq!(mlx.fw_ver.as_deref(), Some("28.39.1002"));
        assert_eq!(mlx.pci_address.as_deref(), Some("0000:81:00.0"));
        assert_eq!(mlx.driver.as_deref(), Some("mlx5_core"));
        assert_eq!(mlx.hca_type.as_deref(), Some("MT4129"));
        let p = &mlx.ports[0];
        assert_eq!((p.port, p.state.as_str()), (1, "ACTIVE"));
        assert_eq!(p.phys_state, "LinkUp");
        assert_eq!(p.rate_gbps, Some(400.0));
        assert_eq!(p.netdev.as_deref(), Some("eth2"));
        assert_eq!(p.active_mtu, Some(4096));
        // The four real entries; the zero slots are left out.
        let kinds: Vec<(u32, GidKind)> = p.gids.iter().map(|g| (g.index, g.kind)).collect();
        assert_eq!(
            kinds,
            [
                (0, GidKind::RoceV1),
                (1, GidKind::RoceV2),
                (2, GidKind::RoceV1),
                (3, GidKind::RoceV2)
            ]
        );
        assert_eq!(p.roce_v2_ipv4_gid().map(|g| g.index), Some(3));
        assert_eq!(
            p.roce_v2_ipv4_gid().and_then(Gid::ipv4),
            Some("10.0.0.1".parse().expect("ip"))
        );
        assert_eq!(p.hw_counters.get("out_of_buffer"), Some(&12));
        assert!(!p.hw_counters.contains_key("lifespan"));
        assert_eq!(p.counters.get("port_xmit_data"), Some(&123_456));
        assert_eq!(p.default_roce_tos, None);

        let rxe = &devs[1];
        assert_eq!(rxe.pci_address, None);
        let p = &rxe.ports[0];
        assert_eq!(p.roce_v2_ipv4_gid().map(|g| g.index), Some(1));
        assert_eq!(p.active_mtu, Some(1024));
        assert_eq!(p.default_roce_mode.as_deref(), Some("RoCE v2"));
        assert_eq!(p.default_roce_tos, Some(106));
        assert_eq!(rxe.netdevs(), ["virtio0"]);
    }

    /// The GID walk's cost, counted: an empty slot is one file (its all-zero GID), a slot in
    /// use three (GID, type, netdev); a netdev-only walk stops at the first entry with a
    /// netdev and keeps no table.
    #[test]
    fn an_empty_gid_slot_costs_one_read() {
        let t = tree();
        let port = root(&t).sys(CLASS_DIR).join("mlx5_0/ports/1");
        let all = read_gid_table(&port, "Ethernet", RdmaReads::All).expect("walk");
        assert_eq!(all.gids.len(), 4);
        assert_eq!(all.files_opened, 4 * 3 + 4, "4 used slots, 4 empty");
        assert!(!read_devices(&root(&t)).expect("read")[0].ports[0]
            .hw_counters
            .is_empty());
        let first = read_gid_table(&port, "Ethernet", RdmaReads::Fabric).expect("walk");
        assert_eq!((first.gids.len(), first.files_opened), (1, 3));

        let full = read_devices(&root(&t)).expect("read");
        let light = read_devices_with(&root(&t), RdmaReads::Fabric).expect("read");
        for (f, l) in full.iter().zip(&light) {
            assert_eq!(f.name, l.name);
            assert_eq!(f.netdevs(), l.netdevs());
            assert!(l.ports.iter().all(|p| p.gids.is_empty()));
            let strip = |d: &RdmaDevice| {
                let mut d = d.clone();
                for p in &mut d.ports {
                    p.gids.clear();
                    p.hw_counters.clear();
                    p.counters.clear();
                }
                d
            };
            assert_eq!(
                strip(f),
                *l,
                "everything but the GIDs and counters is the same"
            );
        }
    }

    /// Many devices read on several threads come back in name order, each with its own
    /// table, and the error of the first failing device (in name order) is the one reported.
    #[test]
    fn devices_read_in_parallel_keep_name_order() {
        let t = tempfile::tempdir().expect("tempdir");
        let sys = t.path().join("sys");
        for d in 0..12 {
            let dev = sys.join(format!("devices/virtual/infiniband/rxe{d}"));
            put(&dev.join("node_type"), "1: CA");
            let p = dev.join("ports/1");
            put(&p.join("state"), "4: ACTIVE");
            put(&p.join("phys_state"), "5: LinkUp");
            put(&p.join("link_layer"), "Ethernet");
            put(
                &p.join("gids/0"),
                &format!("fe80:0000:0000:0000:0000:0000:0000:{d:04x}"),
            );
            put(&p.join("gid_attrs/types/0"), "RoCE v2");
            put(&p.join("gid_attrs/ndevs/0"), &format!("veth{d}"));
            fs::create_dir_all(sys.join("class/infiniband")).expect("mkdir");
            symlink(
                format!("../../devices/virtual/infiniband/rxe{d}"),
                sys.join(format!("class/infiniband/rxe{d}")),
            )
            .expect("ln");
        }
        let r = root(&t);
        let devs = read_devices(&r).expect("read");
        let mut names: Vec<String> = (0..12).map(|d| format!("rxe{d}")).collect();
        names.sort();
        let got: Vec<&str> = devs.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(got, names);
        for d in &devs {
            let n: u16 = d.name.trim_start_matches("rxe").parse().expect("n");
            assert_eq!(d.netdevs(), [format!("veth{n}")]);
            assert_eq!(d.ports[0].gids[0].gid.segments()[7], n);
        }
        // Two broken devices: the error names the first in name order (rxe10 < rxe3).
        for d in [3, 10] {
            fs::write(
                sys.join(format!("devices/virtual/infiniband/rxe{d}/ports/1/gids/0")),
                "nonsense\n",
            )
            .expect("write");
        }
        for _ in 0..5 {
            let e = read_devices(&r).expect_err("broken GID");
            assert!(e.to_string().contains("rxe10/ports/1/gids/0"), "{e}");
        }
    }

    #[test]
    fn no_infiniband_class_is_no_devices() {
        let t = tempfile::tempdir().expect("tempdir");
        fs::create_dir_all(t.path().join("sys/class/net")).expect("mkdir");
        assert!(read_devices(&root(&t)).expect("read").is_empty());
    }

    #[test]
    fn einval_on_gid_attrs_is_an_empty_slot() {
        let gid: Ipv6Addr = "fe80::1".parse().expect("gid");
        let einval = || Err(io::Error::from_raw_os_error(libc::EINVAL));
        assert_eq!(gid_entry(5, gid, &einval(), &einval(), "Ethernet"), None);
        // An InfiniBand GID has no netdev: EINVAL there is "none".
        let g = gid_entry(0, gid, &Ok("IB/RoCE v1"), &einval(), "InfiniBand").expect("entry");
        assert_eq!((g.kind, g.netdev), (GidKind::Ib, None));
        // The zero GID is empty whatever its attributes say.
        assert_eq!(
            gid_entry(
                1,
                Ipv6Addr::UNSPECIFIED,
                &Ok("RoCE v2"),
                &Ok("eth0"),
                "Ethernet"
            ),
            None
        );
        assert!(is_empty_slot(&io::Error::from_raw_os_error(libc::EINVAL)));
    }

    #[test]
    fn attribute_parsers() {
        assert_eq!(parse_enum_attr("4: ACTIVE\n"), "ACTIVE");
        assert_eq!(parse_enum_attr("5: LinkUp"), "LinkUp");
        assert_eq!(parse_node_type("1: CA"), "CA");
        assert_eq!(parse_node_type("RNIC"), "RNIC");
        assert_eq!(parse_rate_gbps("100 Gb/sec (4X EDR)"), Some(100.0));
        assert_eq!(parse_rate_gbps("2.5 Gb/sec (1X SDR)"), Some(2.5));
        assert_eq!(parse_rate_gbps("invalid"), None);
        assert_eq!(
            parse_gid("fe80:0000:0000:0000:5054:00ff:fe12:3456"),
            Some("fe80::5054:ff:fe12:3456".parse().expect("ip"))
        );
        assert_eq!(parse_gid("nonsense"), None);
        assert_eq!(roce_active_mtu(1500), Some(1024));
        assert_eq!(roce_active_mtu(4200), Some(4096));
        assert_eq!(roce_active_mtu(4096), Some(2048));
        assert_eq!(roce_active_mtu(9000), Some(4096));
        assert_eq!(roce_active_mtu(300), None);
        assert!(valid_device_name("mlx5_0"));
        assert!(!valid_device_name(".."));
        assert!(!valid_device_name("a/b"));
    }

    /// The `rdma_cm` writer against the fixture's configfs directory: a default written and
    /// read back through the reader, the device directory made and removed, links refused,
    /// and no `rdma_cm` at all is the reason, not an attempt.
    #[test]
    fn rdma_cm_writer_on_the_fixture_configfs() {
        use crate::model::{Knob, Value};
        use crate::sys::write::Writer;
        let tmp = tree();
        let sys = root(&tmp);
        let mut writer = Writer::new(sys.clone());
        let tos = |device: &str| Knob::RdmaCm {
            device: device.into(),
            port: 1,
            field: crate::model::rdma::ROCE_TOS.into(),
        };
        let mode = Knob::RdmaCm {
            device: "rxe0".into(),
            port: 1,
            field: crate::model::rdma::ROCE_MODE.into(),
        };
        writer
            .preflight(&tos("rxe0"), &Value::Num(96))
            .expect("preflight");
        writer.apply(&tos("rxe0"), &Value::Num(96)).expect("tos");
        writer
            .apply(&mode, &Value::Text("v1".into()))
            .expect("mode");
        let cm = sys.sys(RDMA_CM_DIR).join("rxe0/ports/1");
        assert_eq!(
            fs::read_to_string(cm.join("default_roce_tos")).expect("read"),
            "96\n"
        );
        assert_eq!(
            fs::read_to_string(cm.join("default_roce_mode")).expect("read"),
            "IB/RoCE v1\n"
        );
        let d = read_device(&sys, "rxe0").expect("rxe0");
        assert_eq!(d.ports[0].default_roce_tos, Some(96));
        assert_eq!(d.rdma_cm_dir, Some(true));
        assert!(writer.apply(&tos("rxe0"), &Value::Num(256)).is_err());

        // mlx5_0 has no directory yet: the default's preflight passes (the directory step
        // before it makes it), a write without it fails, mkdir and rmdir leave it as before.
        let dir = Knob::RdmaCmDir {
            device: "mlx5_0".into(),
        };
        assert_eq!(
            read_device(&sys, "mlx5_0").expect("mlx5_0").rdma_cm_dir,
            Some(false)
        );
        writer
            .preflight(&tos("mlx5_0"), &Value::Num(1))
            .expect("preflight");
        assert!(writer.apply(&tos("mlx5_0"), &Value::Num(1)).is_err());
        writer.apply(&dir, &Value::Bool(true)).expect("mkdir");
        assert_eq!(
            read_device(&sys, "mlx5_0").expect("mlx5_0").rdma_cm_dir,
            Some(true)
        );
        writer.apply(&dir, &Value::Bool(false)).expect("rmdir");
        assert!(!sys.sys(RDMA_CM_DIR).join("mlx5_0").exists());
        writer
            .apply(&dir, &Value::Bool(false))
            .expect("absent stays absent");

        // Links: a directory link is not removed, an attribute link is not written through.
        let elsewhere = tmp.path().join("elsewhere");
        fs::create_dir_all(&elsewhere).expect("mkdir");
        symlink(&elsewhere, sys.sys(RDMA_CM_DIR).join("mlx5_0")).expect("ln");
        assert!(writer.apply(&dir, &Value::Bool(false)).is_err());
        assert!(elsewhere.exists());
        fs::remove_file(sys.sys(RDMA_CM_DIR).join("mlx5_0")).expect("rm");
        let target = tmp.path().join("target");
        fs::write(&target, "0\n").expect("write");
        fs::remove_file(cm.join("default_roce_tos")).expect("rm");
        symlink(&target, cm.join("default_roce_tos")).expect("ln");
        assert!(writer.apply(&tos("rxe0"), &Value::Num(5)).is_err());
        assert_eq!(fs::read_to_string(&target).expect("read"), "0\n");

        // No rdma_cm in configfs: the reason, nothing made.
        fs::remove_dir_all(sys.sys("kernel/config")).expect("rm");
        let e = writer
            .apply(&dir, &Value::Bool(true))
            .expect_err("no configfs");
        assert!(e.to_string().contains("configfs not mounted"), "{e}");
        assert!(!sys.sys("kernel/config").exists());
        assert_eq!(read_device(&sys, "rxe0").expect("rxe0").rdma_cm_dir, None);
    }

    #[test]
    fn an_rxe_device_is_known_by_node_desc_and_parent_whatever_its_name() {
        let t = tempfile::tempdir().expect("tempdir");
        let d = t.path().join("rxes0");
        put(&d.join("node_desc"), "rxe");
        assert_eq!(software_driver(&d), None, "no parent: not rxe's layout");
        put(&d.join("parent"), "rs0");
        assert_eq!(software_driver(&d).as_deref(), Some("rxe"));
        put(&d.join("node_desc"), "node7 HCA-1");
        assert_eq!(software_driver(&d), None);
    }
}
