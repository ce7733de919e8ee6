//! The RDMA hardware counters the monitor samples: every port's
//! `/sys/class/infiniband/<dev>/ports/<n>/hw_counters/*` (layout:
//! `Documentation/ABI/stable/sysfs-class-infiniband`), found once and read again and again.
//!
//! Each port's `hw_counters` directory is opened once and kept open; a round reads every
//! counter with an `openat` relative to it and one `read` (no path walk from `/sys` per file:
//! a walk costs about as much per component as the open itself, and an mlx5 port has some
//! eighty counters). One descriptor per port, never one per counter: 16 mlx5 devices would
//! otherwise hold over a thousand descriptors.
//!
//! `lifespan` in that directory is a setting (how long the kernel caches the driver's
//! counters, ms), not a counter; files that do not read as a number are left out.

use std::fmt;
use std::fs;
use std::os::fd::OwnedFd;
use std::sync::Arc;

use super::rdma::{valid_device_name, CLASS_DIR};
use super::sysfs::link_basename;
use super::SysRoot;

/// The counters of one RDMA port, found by [`RdmaCounterFiles::find`].
pub struct PortCounterFiles {
    /// Device name (`mlx5_0`, `rxe0`).
    pub device: String,
    /// Port number, from 1.
    pub port: u32,
    /// Kernel driver of the device (`device/driver`, e.g. `mlx5_core`), or the RDMA driver
    /// of a software device (`rxe`, whatever the device is named).
    pub driver: Option<String>,
    /// The netdev of the port's GID 0 (RoCE: the netdev the port sits on); `None` on
    /// InfiniBand.
    pub netdev: Option<String>,
    /// Counter names, shared by every reading while they stay the same.
    pub names: Arc<[String]>,
    dir: OwnedFd,
}

impl fmt::Debug for PortCounterFiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PortCounterFiles")
            .field("device", &self.device)
            .field("port", &self.port)
            .field("driver", &self.driver)
            .field("netdev", &self.netdev)
            .field("names", &self.names.len())
            .finish_non_exhaustive()
    }
}

/// One reading of a port's counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortReading {
    /// Values in the order of [`PortCounterFiles::names`].
    pub values: Vec<u64>,
}

/// The `hw_counters` of every RDMA port under a root.
#[derive(Debug, Default)]
pub struct RdmaCounterFiles {
    /// Ports in device, then port order.
    pub ports: Vec<PortCounterFiles>,
}

impl RdmaCounterFiles {
    /// Finds every port with a `hw_counters` directory. No `class/infiniband` (no RDMA core
    /// loaded, a host without RDMA) finds none.
    pub fn find(root: &SysRoot) -> Self {
        let class = root.sys(CLASS_DIR);
        let Ok(rd) = fs::read_dir(&class) else {
            return Self::default();
        };
        let mut devices: Vec<String> = rd
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| valid_device_name(n))
            .collect();
        devices.sort();
        let mut ports = Vec::new();
        for device in devices {
            let dev_dir = class.join(&device);
            let driver = link_basename(&dev_dir.join("device/driver"))
                .or_else(|| super::rdma::software_driver(&dev_dir));
            let Ok(rd) = fs::read_dir(dev_dir.join("ports")) else {
                continue;
            };
            let mut numbers: Vec<u32> = rd
                .flatten()
                .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok()))
                .collect();
            numbers.sort_unstable();
            for port in numbers {
                let port_dir = dev_dir.join("ports").join(port.to_string());
                if let Some(p) =
                    PortCounterFiles::open(&port_dir, device.clone(), port, driver.clone())
                {
                    ports.push(p);
                }
            }
        }
        Self { ports }
    }
}

impl PortCounterFiles {
    fn open(
        port_dir: &std::path::Path,
        device: String,
        port: u32,
        driver: Option<String>,
    ) -> Option<Self> {
        use rustix::fs::{openat, Mode, OFlags, CWD};
        let dir = openat(
            CWD,
            port_dir.join("hw_counters"),
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .ok()?;
        // The listing goes through a duplicate: `Dir` takes its descriptor's offset along.
        let mut entries = rustix::fs::Dir::read_from(&dir).ok()?;
        let mut names = Vec::new();
        while let Some(Ok(e)) = entries.read() {
            let Ok(name) = e.file_name().to_str() else {
                continue;
            };
            if name.starts_with('.') || name == "lifespan" {
                continue;
            }
            if read_u64_at(&dir, name).is_some() {
                names.push(name.to_string());
            }
        }
        if names.is_empty() {
            return None;
        }
        names.sort();
        // GID 0 of a RoCE port is its default GID, always present, on the port's netdev; an
        // InfiniBand port's answers EINVAL (no netdev).
        let netdev = super::sysfs::read_opt(&port_dir.join("gid_attrs/ndevs/0"))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        Some(Self {
            device,
            port,
            driver,
            netdev,
            names: Arc::from(names),
            dir,
        })
    }

    /// `DEV/PORT`, as `rdma statistic show` and troubleshoot name a port.
    pub fn key(&self) -> String {
        format!("{}/{}", self.device, self.port)
    }

    /// The current values; `None` when a counter can no longer be read (the device went
    /// away, or its counters changed): find the ports again.
    pub fn read(&self) -> Option<PortReading> {
        let values = self
            .names
            .iter()
            .map(|n| read_u64_at(&self.dir, n.as_str()))
            .collect::<Option<Vec<u64>>>()?;
        Some(PortReading { values })
    }
}

/// One counter file below `dir`, with one `read` (an attribute is produced whole by the
/// first read: Documentation/filesystems/sysfs.rst).
fn read_u64_at(dir: &OwnedFd, rel: &str) -> Option<u64> {
    use rustix::fs::{openat, Mode, OFlags};
    let fd = openat(dir, rel, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()).ok()?;
    let mut buf = [0u8; 64];
    let n = rustix::io::read(&fd, &mut buf).ok()?;
    std::str::from_utf8(buf.get(..n)?).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;
    use std::path::Path;

    fn put(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(path, format!("{text}\n")).expect("write");
    }

    /// An mlx5 device on a PCI function and an rxe device in `devices/virtual`, as
    /// `sysfs-class-infiniband` lays them out.
    fn tree() -> tempfile::TempDir {
        let t = tempfile::tempdir().expect("tempdir");
        let sys = t.path().join("sys");
        let pci = sys.join("devices/pci0000:80/0000:80:01.0/0000:81:00.0");
        let ib = pci.join("infiniband/mlx5_0");
        fs::create_dir_all(sys.join("bus/pci/drivers/mlx5_core")).expect("mkdir");
        fs::create_dir_all(&ib).expect("mkdir");
        symlink("../../../../bus/pci/drivers/mlx5_core", pci.join("driver")).expect("ln");
        symlink("../../../0000:81:00.0", ib.join("device")).expect("ln");
        let p = ib.join("ports/1");
        put(&p.join("hw_counters/local_ack_timeout_err"), "3");
        put(&p.join("hw_counters/out_of_sequence"), "9");
        put(&p.join("hw_counters/lifespan"), "10");
        put(&p.join("hw_counters/broken"), "n/a");
        put(&p.join("gid_attrs/ndevs/0"), "eth2");
        fs::create_dir_all(sys.join("class/infiniband")).expect("mkdir");
        symlink(
            "../../devices/pci0000:80/0000:80:01.0/0000:81:00.0/infiniband/mlx5_0",
            sys.join("class/infiniband/mlx5_0"),
        )
        .expect("ln");
        // An rxe device named by its creator: rxe says so in node_desc and has a parent.
        let rxe = sys.join("devices/virtual/infiniband/rxe0");
        put(&rxe.join("node_desc"), "rxe");
        put(&rxe.join("parent"), "virtio0");
        put(&rxe.join("ports/1/hw_counters/completer_retry_err"), "5");
        put(&rxe.join("ports/1/hw_counters/sent_pkts"), "100");
        put(&rxe.join("ports/1/gid_attrs/ndevs/0"), "virtio0");
        symlink(
            "../../devices/virtual/infiniband/rxe0",
            sys.join("class/infiniband/rxe0"),
        )
        .expect("ln");
        t
    }

    fn root(t: &tempfile::TempDir) -> SysRoot {
        SysRoot::new(t.path().join("sys"), t.path().join("proc"))
    }

    #[test]
    fn finds_ports_and_reads_their_counters_again() {
        let t = tree();
        let f = RdmaCounterFiles::find(&root(&t));
        assert_eq!(f.ports.len(), 2, "{f:?}");
        let m = &f.ports[0];
        assert_eq!(m.key(), "mlx5_0/1");
        assert_eq!(m.driver.as_deref(), Some("mlx5_core"));
        assert_eq!(m.netdev.as_deref(), Some("eth2"));
        // lifespan is a setting, "n/a" no number: both left out.
        assert_eq!(&*m.names, ["local_ack_timeout_err", "out_of_sequence"]);
        assert_eq!(m.read().expect("read").values, [3, 9]);
        let r = &f.ports[1];
        assert_eq!(
            (r.key().as_str(), r.driver.as_deref()),
            ("rxe0/1", Some("rxe"))
        );
        assert_eq!(r.netdev.as_deref(), Some("virtio0"));
        // The directory stays open: a new value reads through it.
        let file = t
            .path()
            .join("sys/devices/virtual/infiniband/rxe0/ports/1/hw_counters/completer_retry_err");
        fs::write(&file, "12\n").expect("write");
        assert_eq!(r.read().expect("read").values, [12, 100]);
        // A counter that is gone: find them again.
        fs::remove_file(&file).expect("rm");
        assert_eq!(r.read(), None);
    }

    #[test]
    fn no_infiniband_class_finds_nothing() {
        let t = tempfile::tempdir().expect("tempdir");
        let f = RdmaCounterFiles::find(&SysRoot::new(t.path().join("sys"), t.path().join("p")));
        assert!(f.ports.is_empty());
    }
}
