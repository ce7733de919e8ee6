//! The `SIOCETHTOOL` ioctl, for what ethtool netlink does not offer: driver info
//! (`ETHTOOL_GDRVINFO`) and driver-private counters (`ETHTOOL_GSTRINGS` + `ETHTOOL_GSTATS`
//! for the `ETH_SS_STATS` string set). See the "Request translation" table of
//! Documentation/networking/ethtool-netlink.rst, where both are "n/a".
//!
//! The ioctl takes a pointer to a command buffer that the kernel reads and writes with
//! `copy_{from,to}_user`. Layouts follow `struct ethtool_drvinfo`, `ethtool_sset_info`,
//! `ethtool_gstrings` and `ethtool_stats` of include/uapi/linux/ethtool.h.
//!
//! The string and counter arrays are variable-length, and the kernel sizes its writes by the
//! count it reads from the driver at the time of the call, ignoring the count user space
//! allocated for (net/ethtool/ioctl.c `ethtool_get_strings`/`ethtool_get_stats`). The count
//! can change between the call that sized the buffer (`ETHTOOL_GSSET_INFO`, or the `n_stats`
//! of `ETHTOOL_GDRVINFO`) and the next call (veth's grows with its channels), so each array
//! buffer is exactly header + n × element bytes and ends right at an inaccessible guard page:
//! an overlong write fails with `EFAULT` instead of overwriting memory, and the read is
//! retried with the new count. A [`Session`] keeps its buffers from device to device and
//! moves the start so that the end stays at the guard page.

#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::ptr::{self, NonNull};

use crate::model::{DriverInfo, NamedCounter};

use super::{check_ifname, EthtoolError};

const ETHTOOL_GDRVINFO: u32 = 0x0000_0003;
const ETHTOOL_GSTRINGS: u32 = 0x0000_001b;
const ETHTOOL_GSTATS: u32 = 0x0000_001d;
const ETHTOOL_GSSET_INFO: u32 = 0x0000_0037;
/// `ETH_SS_STATS` of `enum ethtool_stringset`.
const ETH_SS_STATS: u32 = 1;
/// `ETH_GSTRING_LEN`: each name is a NUL-padded 32-byte field.
const ETH_GSTRING_LEN: usize = 32;
/// `sizeof(struct ethtool_gstrings)` before its data.
const GSTRINGS_HDR: usize = 12;
/// `sizeof(struct ethtool_stats)` before its data.
const GSTATS_HDR: usize = 8;
/// More counters than any driver has; the kernel's own limit is `S32_MAX / 8`.
const MAX_STATS: usize = 1 << 20;
/// Reads retried when the counter count changes under us.
const ATTEMPTS: usize = 4;

/// `struct ethtool_drvinfo` (196 bytes, no padding).
#[repr(C)]
struct DrvInfo {
    cmd: u32,
    driver: [u8; 32],
    version: [u8; 32],
    fw_version: [u8; 32],
    bus_info: [u8; 32],
    erom_version: [u8; 32],
    reserved2: [u8; 12],
    n_priv_flags: u32,
    n_stats: u32,
    testinfo_len: u32,
    eedump_len: u32,
    regdump_len: u32,
}

/// `struct ethtool_sset_info` with room for the one count asked for.
#[repr(C)]
struct SsetInfo {
    cmd: u32,
    reserved: u32,
    sset_mask: u64,
    data: [u32; 1],
}

/// Driver name, version, firmware version and bus address (`ethtool -i`).
pub fn driver_info(ifname: &str) -> Result<DriverInfo, EthtoolError> {
    check_ifname(ifname)?;
    let s = Session::open().map_err(|e| map_err(e, DRVINFO, ifname))?;
    s.driver_info(ifname).map(|(info, _)| info)
}

/// Driver-private counters in the driver's order (`ethtool -S`). A driver without any gives
/// [`EthtoolError::Unsupported`].
pub fn driver_stats(ifname: &str) -> Result<Vec<NamedCounter>, EthtoolError> {
    check_ifname(ifname)?;
    let mut s = Session::open().map_err(|e| map_err(e, STATS, ifname))?;
    s.driver_stats(ifname, None)
}

const DRVINFO: &str = "read driver info";
const STATS: &str = "read driver statistics";

/// A socket and the counter buffers, kept across the reads of many devices: reading every
/// device of a node then costs one socket and two mappings in all rather than per device.
pub struct Session {
    fd: OwnedFd,
    strings: Option<GuardedBuf>,
    values: Option<GuardedBuf>,
}

impl Session {
    /// Opens the socket the ioctls go through; it acts in the network namespace of the
    /// calling thread.
    pub fn open() -> io::Result<Self> {
        Ok(Self {
            fd: socket()?,
            strings: None,
            values: None,
        })
    }

    /// [`driver_info`] and [`driver_stats`] of one device. The driver info carries the
    /// counter count (`n_stats`), which saves the `ETHTOOL_GSSET_INFO` the counters would
    /// otherwise start with.
    pub fn driver_info_and_stats(
        &mut self,
        ifname: &str,
    ) -> (
        Result<DriverInfo, EthtoolError>,
        Result<Vec<NamedCounter>, EthtoolError>,
    ) {
        if let Err(e) = check_ifname(ifname) {
            return (Err(e), check_ifname(ifname).map(|()| Vec::new()));
        }
        match self.driver_info(ifname) {
            Ok((info, n_stats)) => (Ok(info), self.driver_stats(ifname, Some(n_stats))),
            Err(e) => (Err(e), self.driver_stats(ifname, None)),
        }
    }

    /// [`driver_stats`] through this session's socket and buffers (for callers that read the
    /// same devices again and again, like the monitor's slow reads).
    pub fn stats(&mut self, ifname: &str) -> Result<Vec<NamedCounter>, EthtoolError> {
        check_ifname(ifname)?;
        self.driver_stats(ifname, None)
    }

    /// The counter values alone, with one `ETHTOOL_GSTATS`, for a caller that holds the
    /// names of the device's `n` counters from an earlier [`Session::stats`]. `Ok(None)` when
    /// the device no longer has `n` counters: fewer show in the reply's count, more are
    /// stopped by the guard page after the buffer (`EFAULT`); the caller then reads names
    /// and values again.
    pub fn values(&mut self, ifname: &str, n: usize) -> Result<Option<Vec<u64>>, EthtoolError> {
        check_ifname(ifname)?;
        if n == 0 || n > MAX_STATS {
            return Ok(None);
        }
        match stats(&self.fd, &mut self.values, ifname, n) {
            Ok(v) if v.len() == n => Ok(Some(v)),
            Ok(_) => Ok(None),
            Err(e) if e.raw_os_error() == Some(libc::EFAULT) => Ok(None),
            Err(e) => Err(map_err(e, STATS, ifname)),
        }
    }

    /// `ETHTOOL_GDRVINFO`: the driver info and the number of `ETH_SS_STATS` counters.
    fn driver_info(&self, ifname: &str) -> Result<(DriverInfo, usize), EthtoolError> {
        let mut info = DrvInfo {
            cmd: ETHTOOL_GDRVINFO,
            driver: [0; 32],
            version: [0; 32],
            fw_version: [0; 32],
            bus_info: [0; 32],
            erom_version: [0; 32],
            reserved2: [0; 12],
            n_priv_flags: 0,
            n_stats: 0,
            testinfo_len: 0,
            eedump_len: 0,
            regdump_len: 0,
        };
        // SAFETY: `info` is a live, writable `struct ethtool_drvinfo`; ETHTOOL_GDRVINFO writes
        // exactly `sizeof(struct ethtool_drvinfo)` bytes, which is `size_of::<DrvInfo>()`.
        unsafe { ethtool_ioctl(&self.fd, ifname, ptr::addr_of_mut!(info).cast()) }
            .map_err(|e| map_err(e, DRVINFO, ifname))?;
        Ok((
            DriverInfo {
                driver: c_string(&info.driver),
                version: c_string(&info.version),
                firmware: c_string(&info.fw_version),
                bus_info: c_string(&info.bus_info),
            },
            info.n_stats as usize,
        ))
    }

    /// The counters; `count` is the number of them if already known (from the driver info),
    /// for the first attempt only: a retry after the count changed asks again.
    fn driver_stats(
        &mut self,
        ifname: &str,
        mut count: Option<usize>,
    ) -> Result<Vec<NamedCounter>, EthtoolError> {
        let err = |e| map_err(e, STATS, ifname);
        for _ in 0..ATTEMPTS {
            let n = match count.take() {
                Some(n) => n,
                None => stats_count(&self.fd, ifname).map_err(err)?,
            };
            if n == 0 {
                return Err(EthtoolError::Unsupported {
                    what: STATS,
                    ifname: ifname.to_string(),
                });
            }
            if n > MAX_STATS {
                return Err(err(io::Error::other(format!(
                    "the driver reports {n} counters"
                ))));
            }
            let names = match strings(&self.fd, &mut self.strings, ifname, n) {
                Err(e) if e.raw_os_error() == Some(libc::EFAULT) => continue,
                r => r.map_err(err)?,
            };
            let values = match stats(&self.fd, &mut self.values, ifname, n) {
                Err(e) if e.raw_os_error() == Some(libc::EFAULT) => continue,
                r => r.map_err(err)?,
            };
            // A count that changed between the calls: names and values may not match.
            if names.len() != n || values.len() != n {
                continue;
            }
            return Ok(names
                .into_iter()
                .zip(values)
                .map(|(name, value)| NamedCounter { name, value })
                .collect());
        }
        Err(err(io::Error::other(
            "the number of counters kept changing while reading them",
        )))
    }
}

fn map_err(e: io::Error, what: &'static str, ifname: &str) -> EthtoolError {
    let ifname = ifname.to_string();
    match e.raw_os_error() {
        // 524 is the kernel-internal ENOTSUPP, which some drivers leak to user space.
        Some(libc::EOPNOTSUPP | 524) => EthtoolError::Unsupported { what, ifname },
        Some(libc::ENODEV) => EthtoolError::NoDevice(ifname),
        Some(libc::EPERM | libc::EACCES) => EthtoolError::Permission { what, ifname },
        _ => EthtoolError::Io {
            what,
            ifname,
            source: e,
        },
    }
}

/// `ETHTOOL_GMODULEINFO`: the module's management standard and EEPROM size.
const ETHTOOL_GMODULEINFO: u32 = 0x0000_0042;
/// `ETHTOOL_GMODULEEEPROM`: a flat dump of the module EEPROM.
const ETHTOOL_GMODULEEEPROM: u32 = 0x0000_0043;
/// `sizeof(struct ethtool_eeprom)` before its data.
const EEPROM_HDR: usize = 16;
/// The largest dump a legacy driver gives (`ETH_MODULE_SFF_8636_MAX_LEN`, 640); anything
/// above is refused rather than allocated.
const MAX_MODULE_EEPROM: u32 = 640;
const MODULE: &str = "read module EEPROM";

/// `struct ethtool_modinfo` (44 bytes).
#[repr(C)]
struct ModInfo {
    cmd: u32,
    type_: u32,
    eeprom_len: u32,
    reserved: [u32; 8],
}

/// The legacy module EEPROM read (`ETHTOOL_GMODULEINFO` then `ETHTOOL_GMODULEEEPROM`), for
/// kernels without `ETHTOOL_MSG_MODULE_EEPROM_GET`: the `ETH_MODULE_SFF_*` type and the
/// flat dump, which `crate::sys::ethtool::module::pages_from_legacy` splits into pages.
pub fn module_eeprom(ifname: &str) -> Result<(u32, Vec<u8>), EthtoolError> {
    check_ifname(ifname)?;
    let err = |e| map_err(e, MODULE, ifname);
    let fd = socket().map_err(err)?;
    let mut info = ModInfo {
        cmd: ETHTOOL_GMODULEINFO,
        type_: 0,
        eeprom_len: 0,
        reserved: [0; 8],
    };
    // SAFETY: `info` is a live, writable `struct ethtool_modinfo`; ETHTOOL_GMODULEINFO writes
    // exactly `sizeof(struct ethtool_modinfo)` bytes, which is `size_of::<ModInfo>()`.
    unsafe { ethtool_ioctl(&fd, ifname, ptr::addr_of_mut!(info).cast()) }.map_err(err)?;
    let len = info.eeprom_len.min(MAX_MODULE_EEPROM);
    if len == 0 {
        return Err(EthtoolError::Unsupported {
            what: MODULE,
            ifname: ifname.to_string(),
        });
    }
    let mut buf = vec![0u8; EEPROM_HDR + len as usize];
    buf[0..4].copy_from_slice(&ETHTOOL_GMODULEEEPROM.to_ne_bytes());
    // magic 0, offset 0, len.
    buf[12..16].copy_from_slice(&len.to_ne_bytes());
    // SAFETY: `buf` holds the 16-byte `struct ethtool_eeprom` header and `len` data bytes;
    // the kernel copies at most the `len` the header asks for after the header
    // (net/ethtool/ioctl.c `ethtool_get_any_eeprom`).
    unsafe { ethtool_ioctl(&fd, ifname, buf.as_mut_ptr()) }.map_err(err)?;
    let got = u32::from_ne_bytes([buf[12], buf[13], buf[14], buf[15]]).min(len) as usize;
    buf.drain(..EEPROM_HDR);
    buf.truncate(got);
    Ok((info.type_, buf))
}

/// A NUL-padded C string field.
fn c_string(field: &[u8]) -> String {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

/// An `AF_INET` datagram socket, the usual handle for interface ioctls; it acts in the
/// network namespace of the calling thread.
fn socket() -> io::Result<OwnedFd> {
    // SAFETY: socket(2) takes no pointers; the result is checked before use.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a descriptor we just created and nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Issues `SIOCETHTOOL` on `ifname` with the command buffer at `data`.
///
/// # Safety
///
/// `data` must point to a writable buffer that starts with the ethtool command word and is
/// large enough for everything the kernel writes for that command, or whose overlong writes
/// fault (see [`GuardedBuf`]); it must stay valid for the duration of the call.
unsafe fn ethtool_ioctl(fd: &OwnedFd, ifname: &str, data: *mut u8) -> io::Result<()> {
    // check_ifname() ran before, so the name fits with its NUL.
    let mut name = [0 as libc::c_char; libc::IFNAMSIZ];
    for (d, s) in name.iter_mut().zip(ifname.bytes().take(libc::IFNAMSIZ - 1)) {
        *d = s as libc::c_char;
    }
    let mut ifr = libc::ifreq {
        ifr_name: name,
        ifr_ifru: libc::__c_anonymous_ifr_ifru {
            ifru_data: data.cast(),
        },
    };
    // SAFETY: `ifr` is a valid `struct ifreq` living across the call; its `ifr_data` points
    // to a buffer meeting this function's contract.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), libc::SIOCETHTOOL, ptr::addr_of_mut!(ifr)) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The number of `ETH_SS_STATS` strings (`ETHTOOL_GSSET_INFO`); 0 when the driver has none.
fn stats_count(fd: &OwnedFd, ifname: &str) -> io::Result<usize> {
    let mut info = SsetInfo {
        cmd: ETHTOOL_GSSET_INFO,
        reserved: 0,
        sset_mask: 1 << ETH_SS_STATS,
        data: [0],
    };
    // SAFETY: `info` is writable; the kernel writes the 16-byte header and one u32 per set
    // asked for that the driver supports, at most one here, which `data` holds.
    unsafe { ethtool_ioctl(fd, ifname, ptr::addr_of_mut!(info).cast()) }?;
    if info.sset_mask & (1 << ETH_SS_STATS) == 0 {
        return Ok(0);
    }
    Ok(info.data[0] as usize)
}

/// The `n` counter names (`ETHTOOL_GSTRINGS`); fewer if the driver now has fewer.
fn strings(
    fd: &OwnedFd,
    slot: &mut Option<GuardedBuf>,
    ifname: &str,
    n: usize,
) -> io::Result<Vec<String>> {
    let buf = GuardedBuf::reuse(slot, GSTRINGS_HDR + n * ETH_GSTRING_LEN)?;
    let b = buf.bytes_mut();
    b[0..4].copy_from_slice(&ETHTOOL_GSTRINGS.to_ne_bytes());
    b[4..8].copy_from_slice(&ETH_SS_STATS.to_ne_bytes());
    b[8..12].copy_from_slice(&(n as u32).to_ne_bytes());
    // SAFETY: the buffer holds the header and `n` names; a longer write hits the guard page.
    unsafe { ethtool_ioctl(fd, ifname, buf.as_mut_ptr()) }?;
    let b = buf.bytes();
    let len = u32::from_ne_bytes([b[8], b[9], b[10], b[11]]) as usize;
    Ok(b[GSTRINGS_HDR..]
        .chunks_exact(ETH_GSTRING_LEN)
        .take(len.min(n))
        .map(c_string)
        .collect())
}

/// The `n` counter values (`ETHTOOL_GSTATS`); fewer if the driver now has fewer.
fn stats(
    fd: &OwnedFd,
    slot: &mut Option<GuardedBuf>,
    ifname: &str,
    n: usize,
) -> io::Result<Vec<u64>> {
    let buf = GuardedBuf::reuse(slot, GSTATS_HDR + n * 8)?;
    let b = buf.bytes_mut();
    b[0..4].copy_from_slice(&ETHTOOL_GSTATS.to_ne_bytes());
    b[4..8].copy_from_slice(&(n as u32).to_ne_bytes());
    // SAFETY: the buffer holds the header and `n` u64s; a longer write hits the guard page.
    unsafe { ethtool_ioctl(fd, ifname, buf.as_mut_ptr()) }?;
    let b = buf.bytes();
    let len = u32::from_ne_bytes([b[4], b[5], b[6], b[7]]) as usize;
    Ok(b[GSTATS_HDR..]
        .chunks_exact(8)
        .take(len.min(n))
        .map(|c| u64::from_ne_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
        .collect())
}

/// `len` zeroed bytes that end exactly where an inaccessible page begins, so that a write
/// past the end faults in the kernel (`copy_to_user` fails with `EFAULT`) rather than
/// landing in memory we do not own. The start is 8-byte aligned whenever `len` is a multiple
/// of 8 (and 4-byte aligned for multiples of 4), which covers the u64 and u32 fields of the
/// ethtool structures.
struct GuardedBuf {
    map: NonNull<libc::c_void>,
    map_len: usize,
    /// The accessible part of the mapping: `map_len` less the guard page.
    body: usize,
    offset: usize,
    len: usize,
}

// SAFETY: a GuardedBuf owns its mapping exclusively (nothing else holds the pointer) and has
// no thread affinity, so moving it to another thread (the monitor's slow-read thread keeps
// an `Ethtool` with its buffers) is sound. It is not `Sync`: it is only used through `&mut`.
unsafe impl Send for GuardedBuf {}

impl GuardedBuf {
    fn new(len: usize) -> io::Result<Self> {
        // SAFETY: sysconf(3) takes no pointers.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        let page = usize::try_from(page)
            .ok()
            .filter(|&p| p > 0)
            .unwrap_or(4096);
        let body = len.div_ceil(page).max(1) * page;
        let map_len = body + page;
        // SAFETY: a fresh private anonymous mapping at an address the kernel picks; it
        // touches no existing memory, and the result is checked.
        let map = unsafe {
            libc::mmap(
                ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if map == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let map = NonNull::new(map).ok_or_else(|| io::Error::other("mmap returned null"))?;
        let buf = Self {
            map,
            map_len,
            body,
            offset: body - len,
            len,
        };
        // SAFETY: [map + body, map + map_len) is the last page of the mapping made above.
        let rc = unsafe {
            libc::mprotect(
                map.as_ptr().cast::<u8>().add(body).cast(),
                page,
                libc::PROT_NONE,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error()); // `buf` unmaps on drop
        }
        Ok(buf)
    }

    /// The buffer in `slot` made `len` zeroed bytes long, still ending at the guard page; a
    /// new mapping only when the one there is too small.
    fn reuse(slot: &mut Option<GuardedBuf>, len: usize) -> io::Result<&mut GuardedBuf> {
        match slot {
            Some(b) if b.body >= len => {
                b.offset = b.body - len;
                b.len = len;
                b.bytes_mut().fill(0);
            }
            _ => *slot = Some(GuardedBuf::new(len)?),
        }
        slot.as_mut()
            .ok_or_else(|| io::Error::other("guarded buffer missing"))
    }

    fn as_mut_ptr(&mut self) -> *mut u8 {
        // SAFETY: `offset` < `map_len`, so the result stays inside the mapping.
        unsafe { self.map.as_ptr().cast::<u8>().add(self.offset) }
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: [offset, offset + len) lies in the readable, writable part of the mapping,
        // which mmap zero-filled; the slice borrows `self`, which keeps the mapping alive.
        unsafe {
            std::slice::from_raw_parts(self.map.as_ptr().cast::<u8>().add(self.offset), self.len)
        }
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        let len = self.len;
        // SAFETY: as in `bytes`, and the exclusive borrow of `self` makes the slice unique.
        unsafe { std::slice::from_raw_parts_mut(self.as_mut_ptr(), len) }
    }
}

impl Drop for GuardedBuf {
    fn drop(&mut self) {
        // SAFETY: `map`/`map_len` describe exactly the mapping made in `new`, unmapped once.
        unsafe {
            libc::munmap(self.map.as_ptr(), self.map_len);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guarded_buffer_is_exact_aligned_and_zeroed() {
        for n in [0usize, 1, 3, 127, 128, 500] {
            let len = GSTATS_HDR + n * 8;
            let mut b = GuardedBuf::new(len).expect("mmap");
            assert_eq!(b.bytes().len(), len);
            assert!(b.bytes().iter().all(|&x| x == 0));
            assert_eq!(b.as_mut_ptr() as usize % 8, 0, "n = {n}");
            b.bytes_mut()[len - 1] = 7;
            assert_eq!(b.bytes()[len - 1], 7);
            let len = GSTRINGS_HDR + n * ETH_GSTRING_LEN;
            let mut b = GuardedBuf::new(len).expect("mmap");
            assert_eq!(b.as_mut_ptr() as usize % 4, 0);
        }
    }

    #[test]
    fn reused_buffer_shrinks_and_grows_and_stays_zeroed_against_the_guard() {
        let mut slot = None;
        let b = GuardedBuf::reuse(&mut slot, 100).expect("mmap");
        b.bytes_mut().fill(9);
        let first = b.map;
        let b = GuardedBuf::reuse(&mut slot, 40).expect("reuse");
        assert_eq!(b.map, first, "a smaller length keeps the mapping");
        assert_eq!(b.bytes().len(), 40);
        assert!(b.bytes().iter().all(|&x| x == 0));
        assert_eq!(
            b.offset + b.len,
            b.body,
            "the buffer ends at the guard page"
        );
        let b = GuardedBuf::reuse(&mut slot, 3 * 4096).expect("grow");
        assert_eq!(b.bytes().len(), 3 * 4096);
        assert_eq!(b.offset + b.len, b.body);
        assert!(b.bytes().iter().all(|&x| x == 0));
    }

    #[test]
    fn kernel_writes_past_the_end_fault_instead_of_landing() {
        let len = GSTATS_HDR + 3 * 8;
        let mut b = GuardedBuf::new(len).expect("mmap");
        let zero = std::fs::File::open("/dev/zero").expect("/dev/zero");
        b.bytes_mut().fill(1);
        // Ask the kernel to write a page more than the buffer holds, as an ethtool ioctl
        // would after the counter count grew.
        // SAFETY: the pointer is valid for `len` bytes; what follows is the guard page, which
        // makes the kernel stop with a short count or EFAULT instead of writing there.
        let n = unsafe { libc::read(zero.as_raw_fd(), b.as_mut_ptr().cast(), len + 4096) };
        let err = io::Error::last_os_error();
        assert!(
            (n >= 0 && n as usize <= len) || err.raw_os_error() == Some(libc::EFAULT),
            "read returned {n}: {err}"
        );
        if n > 0 {
            assert!(b.bytes()[..n as usize].iter().all(|&x| x == 0));
        }
    }

    #[test]
    fn drvinfo_matches_the_kernel_struct_size() {
        assert_eq!(std::mem::size_of::<DrvInfo>(), 196);
        assert_eq!(std::mem::size_of::<SsetInfo>(), 24);
    }

    #[test]
    fn c_strings_stop_at_nul() {
        assert_eq!(c_string(b"veth\0\0\0"), "veth");
        assert_eq!(c_string(b"full"), "full");
    }

    #[test]
    fn bad_names_fail_before_any_ioctl() {
        let e = driver_stats("a-name-that-is-too-long").expect_err("too long");
        assert!(e.is_no_device(), "{e}");
        let e = driver_info("").expect_err("empty");
        assert!(e.is_no_device(), "{e}");
    }

    #[test]
    fn errno_maps_to_variants() {
        let m = |errno| map_err(io::Error::from_raw_os_error(errno), "read driver info", "x");
        assert!(m(libc::EOPNOTSUPP).is_unsupported());
        assert!(m(524).is_unsupported());
        assert!(m(libc::ENODEV).is_no_device());
        assert!(m(libc::EPERM).is_permission());
        assert!(matches!(m(libc::EIO), EthtoolError::Io { .. }));
    }
}
