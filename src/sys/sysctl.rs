//! Network sysctls: the ones a tuning profile may set, reading them, and writing one.
//!
//! Meanings: Documentation/admin-guide/sysctl/net.rst (`net.core.*`) and
//! Documentation/networking/ip-sysctl.rst (`net.ipv4.*`). Writes go straight to
//! `/proc/sys/...` because `sysctl -w` from procps reports a failed write but still exits 0.

use std::fs;
use std::io::{self, Write as _};
use std::path::PathBuf;

use crate::model::{Avail, Sysctl};

use super::SysRoot;

/// The network sysctls dpuctl reads and a tuning profile may set, sorted (the knob table's
/// catalogue).
pub use crate::model::knobs::SYSCTLS as KNOWN;
pub use crate::model::knobs::{fold_whitespace, validate_sysctl_name as validate_name};

/// True when `name` is in [`KNOWN`].
pub fn is_known(name: &str) -> bool {
    KNOWN.contains(&name)
}

/// The procfs file of a validated name: `net.core.rmem_max` -> `sys/net/core/rmem_max`.
fn path_of(root: &SysRoot, name: &str) -> Result<PathBuf, String> {
    validate_name(name)?;
    Ok(root.proc("sys").join(name.replace('.', "/")))
}

/// Reads one sysctl. `Err` holds the reason it cannot be read, e.g. that it does not exist:
/// per-namespace sysctls such as `net.core.somaxconn` exist in every network namespace, but
/// global ones such as `net.core.rmem_max` only in the initial one, and some depend on the
/// kernel configuration (`net.core.busy_poll` needs `CONFIG_NET_RX_BUSY_POLL`).
pub fn read(root: &SysRoot, name: &str) -> Result<String, String> {
    let path = path_of(root, name)?;
    match fs::read_to_string(&path) {
        Ok(s) => Ok(fold_whitespace(&s)),
        Err(e) => Err(match e.kind() {
            io::ErrorKind::NotFound => "absent in this network namespace or kernel".to_string(),
            io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ => e.to_string(),
        }),
    }
}

/// True when the sysctl exists but nobody may write it here: a global sysctl seen from a
/// network namespace other than the initial one (`net.core.rmem_max` is mode 0444 there).
pub fn is_read_only(root: &SysRoot, name: &str) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    path_of(root, name)
        .ok()
        .and_then(|p| fs::metadata(p).ok())
        .is_some_and(|m| m.permissions().mode() & 0o222 == 0)
}

/// Every sysctl in [`KNOWN`], in that order, n/a with the reason where unreadable.
pub fn read_all(root: &SysRoot) -> Vec<Sysctl> {
    KNOWN
        .iter()
        .map(|name| Sysctl {
            name: (*name).to_string(),
            value: Avail::from(read(root, name)),
        })
        .collect()
}

/// Writes one sysctl and reports the kernel's answer: EINVAL for a value out of range,
/// ENOENT when it does not exist, EPERM/EACCES without privilege. The value goes out in a
/// single `write(2)`, as the proc handlers parse one write at a time; the file is never
/// created.
pub fn write(root: &SysRoot, name: &str, value: &str) -> io::Result<()> {
    let path = path_of(root, name).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let value = value.trim();
    if value.is_empty() || value.contains(['\n', '\r', '\0']) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{name}: the value must be one non-empty line, got {value:?}"),
        ));
    }
    let ctx = |e: io::Error| io::Error::new(e.kind(), format!("cannot set {name}: {e}"));
    let mut f = super::write::open_attr_for_write(&path, true).map_err(ctx)?;
    let line = format!("{value}\n");
    let n = f.write(line.as_bytes()).map_err(ctx)?;
    if n != line.len() {
        return Err(io::Error::new(
            io::ErrorKind::WriteZero,
            format!(
                "cannot set {name}: the kernel took {n} of {} bytes",
                line.len()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn fixture() -> SysRoot {
        let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/two-socket");
        SysRoot::new(base.join("sys"), base.join("proc"))
    }

    #[test]
    fn known_is_sorted_valid_and_unique() {
        assert!(KNOWN.windows(2).all(|w| w[0] < w[1]));
        for n in KNOWN {
            assert_eq!(validate_name(n), Ok(()), "{n}");
        }
        assert!(is_known("net.core.rmem_max"));
        assert!(!is_known("net.core.rmem"));
    }

    #[test]
    fn name_validation() {
        assert!(validate_name("net.ipv4.conf.eth0.rp_filter").is_ok());
        assert!(validate_name("net.ipv4.conf.br-lan.forwarding").is_ok());
        for bad in [
            "",
            "kernel.panic",
            "net",
            "net.",
            "net..core",
            "net.core.rmem_max.",
            "net.core/../../kernel",
            "net.core.RMEM_MAX",
            "net.core.rmem max",
            "net.core.rmem_max\n",
            "vm.net.x",
        ] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn folding() {
        assert_eq!(
            fold_whitespace("4096\t131072\t6291456\n"),
            "4096 131072 6291456"
        );
        assert_eq!(fold_whitespace("  bbr \n"), "bbr");
        assert_eq!(fold_whitespace(""), "");
    }

    #[test]
    fn fixture_sysctls() {
        let root = fixture();
        assert_eq!(read(&root, "net.core.rmem_max").as_deref(), Ok("134217728"));
        assert_eq!(
            read(&root, "net.ipv4.tcp_rmem").as_deref(),
            Ok("4096 131072 134217728")
        );
        assert_eq!(
            read(&root, "net.ipv4.ip_local_port_range").as_deref(),
            Ok("32768 60999")
        );
        assert_eq!(read(&root, "net.core.default_qdisc").as_deref(), Ok("fq"));
        assert_eq!(
            read(&root, "net.ipv4.tcp_low_latency"),
            Err("absent in this network namespace or kernel".to_string())
        );
        assert!(read(&root, "kernel.hostname").is_err());

        let all = read_all(&root);
        assert_eq!(all.len(), KNOWN.len());
        let absent: Vec<&str> = all
            .iter()
            .filter(|s| s.value.get().is_none())
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(
            absent,
            [
                "net.core.busy_poll",
                "net.core.busy_read",
                "net.ipv4.tcp_low_latency"
            ]
        );
        let cc = all
            .iter()
            .find(|s| s.name == "net.ipv4.tcp_congestion_control")
            .expect("cc");
        assert_eq!(cc.value.get().map(String::as_str), Some("bbr"));
    }

    #[test]
    fn write_replaces_and_reports_errors() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let core = tmp.path().join("sys/net/core");
        fs::create_dir_all(&core).expect("mkdir");
        fs::write(core.join("rmem_max"), "212992\n").expect("write");
        let root = SysRoot::new(tmp.path(), tmp.path());
        write(&root, "net.core.rmem_max", "5").expect("write");
        assert_eq!(read(&root, "net.core.rmem_max").as_deref(), Ok("5"));
        write(&root, "net.core.rmem_max", " 4096 131072\t6291456 ").expect("write");
        assert_eq!(
            fs::read_to_string(core.join("rmem_max")).expect("read"),
            "4096 131072\t6291456\n"
        );
        // A missing sysctl is an error, and no file is created.
        let e = write(&root, "net.core.wmem_max", "1").expect_err("absent");
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert!(e.to_string().contains("net.core.wmem_max"));
        assert!(!core.join("wmem_max").exists());
        let e = write(&root, "net.core/../x", "1").expect_err("bad name");
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        let e = write(&root, "kernel.panic", "1").expect_err("not net");
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        let e = write(&root, "net.core.rmem_max", "1\n2").expect_err("two lines");
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(write(&root, "net.core.rmem_max", "  ").is_err());
    }

    #[test]
    fn live_reads_do_not_panic() {
        let all = read_all(&SysRoot::live());
        assert_eq!(all.len(), KNOWN.len());
    }
}
