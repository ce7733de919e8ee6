//! Where sysfs and procfs live: `/sys` and `/proc` on a live node, a fixture tree in tests.

use std::path::{Path, PathBuf};

/// The roots of sysfs and procfs every reader works under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SysRoot {
    /// sysfs mount point (`/sys` live).
    pub sysfs: PathBuf,
    /// procfs mount point (`/proc` live).
    pub procfs: PathBuf,
}

impl Default for SysRoot {
    fn default() -> Self {
        Self::live()
    }
}

impl SysRoot {
    /// The running kernel's `/sys` and `/proc`.
    pub fn live() -> Self {
        Self {
            sysfs: PathBuf::from("/sys"),
            procfs: PathBuf::from("/proc"),
        }
    }

    /// Roots pointing at a fixture tree.
    pub fn new(sysfs: impl Into<PathBuf>, procfs: impl Into<PathBuf>) -> Self {
        Self {
            sysfs: sysfs.into(),
            procfs: procfs.into(),
        }
    }

    /// True when both roots are the live kernel's, so netlink and ethtool describe the same
    /// node as the files do.
    pub fn is_live(&self) -> bool {
        self.sysfs == Path::new("/sys") && self.procfs == Path::new("/proc")
    }

    /// A path below the sysfs root (`rel` without a leading slash).
    pub fn sys(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.sysfs.join(rel)
    }

    /// A path below the procfs root.
    pub fn proc(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.procfs.join(rel)
    }
}
