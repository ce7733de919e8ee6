//! Rendering: tables for people (at most 100 columns), JSON and YAML for scripts.
//!
//! Pure functions of the model; only [`write_stdout`] does I/O.

use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use comfy_table::{presets, Cell, ContentArrangement, Table};
use serde::Serialize;

use crate::model::knobs::{self, KnobKind};
use crate::model::{Avail, Dir, Interface, Irq, NodeState};

mod counters;
pub mod fabric;
mod irqs;
pub mod module;
mod rdma;

pub use rdma::{rdma_section, rdma_table};
mod qos;

/// Widest line a table may print.
pub const WIDTH: u16 = 100;

/// How much `dpuctl` says on stderr besides errors (`-q`, default, `-v`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// `-q`: errors only.
    Quiet,
    /// Notes and warnings.
    Normal,
    /// Also the details of how a profile was resolved, per interface.
    Verbose,
}

static VERBOSITY: AtomicU8 = AtomicU8::new(1);
static WRAP: AtomicBool = AtomicBool::new(true);

/// Sets the verbosity for the rest of the process (from `-q`/`-v`).
pub fn set_verbosity(v: Verbosity) {
    VERBOSITY.store(v as u8, Ordering::Relaxed);
}

/// The verbosity set by [`set_verbosity`] (default: normal).
pub fn verbosity() -> Verbosity {
    match VERBOSITY.load(Ordering::Relaxed) {
        0 => Verbosity::Quiet,
        1 => Verbosity::Normal,
        _ => Verbosity::Verbose,
    }
}

/// Prints `dpuctl: note: MSG` on stderr unless `-q`.
pub fn note(msg: &str) {
    if verbosity() >= Verbosity::Normal {
        eprintln!("dpuctl: note: {msg}");
    }
}

/// Prints `dpuctl: warning: MSG` on stderr unless `-q`.
pub fn warning(msg: &str) {
    if verbosity() >= Verbosity::Normal {
        eprintln!("dpuctl: warning: {msg}");
    }
}

/// Prints `dpuctl: note: MSG` on stderr only with `-v` (per-interface details).
pub fn detail(msg: &str) {
    if verbosity() >= Verbosity::Verbose {
        eprintln!("dpuctl: note: {msg}");
    }
}

/// Whether tables may wrap cells to fit [`WIDTH`]: on a terminal yes; for pipes and files
/// (the binary sets it from stdout) no, so that each record stays on one line for grep and
/// awk and no token is split.
pub fn set_wrap(on: bool) {
    WRAP.store(on, Ordering::Relaxed);
}

/// Writes `bytes` to the file `path` names on the command line (`-o PATH`).
///
/// A regular file (or a path that does not exist yet) is replaced atomically: the bytes go
/// to a temporary file created next to it with `O_EXCL | O_NOFOLLOW` under an unpredictable
/// name, relative to the directory opened once, then renamed over `path`; a reader never sees
/// half a file, and a symbolic link planted at the temporary name or at `path` is never
/// followed. Something that is not a regular file (`/dev/stdout`, a pipe, a terminal,
/// `/dev/null`) is written in place, never replaced. A symbolic link to a regular file and a
/// directory are refused.
pub fn write_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use rustix::fs::{openat, renameat, statat, unlinkat, AtFlags, FileType, Mode, OFlags, CWD};
    use std::io::{Error, ErrorKind};
    let invalid = |msg: &str| Error::new(ErrorKind::InvalidInput, msg.to_string());
    let name = path
        .file_name()
        .ok_or_else(|| invalid("names no file"))?
        .to_owned();
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let dirfd = openat(
        CWD,
        dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    match statat(&dirfd, &name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => match FileType::from_raw_mode(st.st_mode) {
            FileType::RegularFile => {}
            FileType::Directory => return Err(invalid("is a directory")),
            FileType::Symlink => {
                let target = statat(&dirfd, &name, AtFlags::empty())?;
                if FileType::from_raw_mode(target.st_mode) == FileType::RegularFile {
                    return Err(invalid(
                        "is a symbolic link to a file; name the file itself (or leave out -o \
                         for stdout)",
                    ));
                }
                return write_in_place(&dirfd, &name, bytes);
            }
            _ => return write_in_place(&dirfd, &name, bytes),
        },
        Err(rustix::io::Errno::NOENT) => {}
        Err(e) => return Err(e.into()),
    }
    let mut tmp_name = None;
    let mut file = None;
    for _ in 0..16 {
        let candidate = temp_name(&name);
        match openat(
            &dirfd,
            &candidate,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o666),
        ) {
            Ok(fd) => {
                file = Some(std::fs::File::from(fd));
                tmp_name = Some(candidate);
                break;
            }
            Err(rustix::io::Errno::EXIST) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let (Some(mut file), Some(tmp)) = (file, tmp_name) else {
        return Err(Error::new(
            ErrorKind::AlreadyExists,
            "no free temporary file name next to it",
        ));
    };
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| Ok(renameat(&dirfd, &tmp, &dirfd, &name)?));
    if written.is_err() {
        let _ = unlinkat(&dirfd, &tmp, AtFlags::empty());
    }
    written
}

/// Writes into an existing non-regular file (a device, a pipe, `/dev/stdout`).
fn write_in_place(
    dirfd: &rustix::fd::OwnedFd,
    name: &std::ffi::OsStr,
    bytes: &[u8],
) -> std::io::Result<()> {
    use rustix::fs::{openat, Mode, OFlags};
    let fd = openat(
        dirfd,
        name,
        OFlags::WRONLY | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let mut f = std::fs::File::from(fd);
    f.write_all(bytes)?;
    f.flush()
}

/// `.NAME.XXXXXXXXXXXXXXXX.tmp`, the X from the process's random hash keys.
fn temp_name(name: &std::ffi::OsStr) -> std::ffi::OsString {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.write_u32(std::process::id());
    let mut t = std::ffi::OsString::from(".");
    t.push(name);
    t.push(format!(".{:016x}.tmp", h.finish()));
    t
}

/// Writes bytes to stdout; a broken pipe comes back as an `io::Error` the binary ignores.
pub fn write_stdout(bytes: &[u8]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()
}

/// Appends a table without the padding comfy-table puts at the end of each line.
pub fn push_table(out: &mut String, t: &Table) {
    for line in t.lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

/// Pretty JSON with a trailing newline.
pub fn json<T: Serialize>(v: &T) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(v)? + "\n")
}

/// YAML.
pub fn yaml<T: Serialize>(v: &T) -> anyhow::Result<String> {
    Ok(yaml_serde::to_string(v)?)
}

/// A borderless table, [`WIDTH`] columns at most on a terminal; not wrapped for pipes and
/// files (see [`set_wrap`]).
pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    // dpuctl styles no cell and sets the width itself: without this comfy-table asks whether
    // stdout is a terminal (an ioctl) for every cell it formats.
    t.force_no_tty()
        .load_style(presets::NOTHING)
        .set_content_arrangement(if WRAP.load(Ordering::Relaxed) {
            ContentArrangement::Dynamic
        } else {
            ContentArrangement::Disabled
        })
        .set_width(WIDTH);
    if !header.is_empty() {
        t.set_header(header.iter().map(Cell::new));
    }
    t
}

fn na_or<T>(v: &Avail<T>, f: impl FnOnce(&T) -> String) -> String {
    match v {
        Avail::Ok(x) => f(x),
        Avail::Na(r) => format!("n/a ({})", r.reason),
    }
}

fn on(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_string(), |v| v.to_string())
}

/// `cur (max M)` for a pair of ring or channel values, or `None` when the field is absent.
fn cur_max(name: &str, cur: Option<u32>, max: Option<u32>) -> Option<String> {
    match (cur, max) {
        (None, None) | (_, Some(0)) => None,
        (c, Some(m)) => Some(format!("{name} {} (max {m})", opt(c))),
        (Some(c), None) => Some(format!("{name} {c}")),
    }
}

fn join_or(parts: &[String], empty: &str) -> String {
    if parts.is_empty() {
        empty.to_string()
    } else {
        parts.join(", ")
    }
}

pub use crate::units::human_bytes;

/// The whole `show` view: one section per interface, then node-wide sysctls and softnet.
pub fn show_table(state: &NodeState) -> String {
    show_view(state, false)
}

/// The `show` view with each interface's driver counters (`show --stats`), grouped by class.
pub fn show_table_with_stats(state: &NodeState) -> String {
    show_view(state, true)
}

fn show_view(state: &NodeState, driver_stats: bool) -> String {
    let mut out = String::new();
    let topo = &state.topology;
    let _ = writeln!(
        out,
        "{}  kernel {}  CPUs {}",
        state.hostname, state.kernel, topo.online_cpus
    );
    let _ = writeln!(
        out,
        "numa {}  gpus {}",
        topo.numa_nodes
            .iter()
            .map(|n| format!("{}:{}", n.id, n.cpus))
            .collect::<Vec<_>>()
            .join(" "),
        if topo.gpus.is_empty() {
            "none".to_string()
        } else {
            topo.gpus
                .iter()
                .map(|g| format!("{} (node {})", g.pci_address, opt(g.numa_node)))
                .collect::<Vec<_>>()
                .join(", ")
        }
    );
    for iface in &state.interfaces {
        out.push('\n');
        interface_section(&mut out, iface);
        if driver_stats {
            counters::driver_stats_table(&mut out, iface);
        }
    }
    out.push('\n');
    out.push_str("sysctls\n");
    let mut t = table(&[]);
    for s in &state.sysctls {
        t.add_row(vec![s.name.clone(), na_or(&s.value, Clone::clone)]);
    }
    push_table(&mut out, &t);
    let (drop, squeeze): (u64, u64) = state
        .softnet
        .iter()
        .fold((0, 0), |(d, s), r| (d + r.dropped, s + r.time_squeeze));
    let _ = writeln!(
        out,
        "softnet   {} CPUs, backlog drops {drop}, time_squeeze {squeeze}",
        state.softnet.len()
    );
    rdma_section(&mut out, &state.rdma);
    out
}

fn interface_section(out: &mut String, i: &Interface) {
    let drv = match &i.driver {
        Avail::Ok(d) => {
            let mut s = d.driver.clone();
            if !d.version.is_empty() {
                let _ = write!(s, " {}", d.version);
            }
            if !d.firmware.is_empty() && d.firmware != "N/A" {
                let _ = write!(s, " fw {}", d.firmware);
            }
            s
        }
        Avail::Na(r) => format!("driver n/a ({})", r.reason),
    };
    let mut head = format!("== {} ==  {drv}", i.name);
    if let Some(k) = &i.kind {
        let _ = write!(head, "  kind {k}");
    }
    if let Some(p) = &i.pci_address {
        let _ = write!(head, "  pci {p}");
    }
    let _ = write!(
        head,
        "  numa {}",
        i.numa_node
            .map_or_else(|| "n/a".to_string(), |n| n.to_string())
    );
    if let Some(c) = &i.local_cpus {
        let _ = write!(head, " (CPUs {c})");
    }
    let _ = writeln!(out, "{head}");

    let mut t = table(&[]);
    let mut row = |k: &str, v: String| {
        t.add_row(vec![k.to_string(), v]);
    };
    let link = na_or(&i.link, |l| {
        let mut parts = vec![];
        if let Some(s) = l.speed_mbps {
            parts.push(format!("{s} Mb/s"));
        }
        if let Some(d) = &l.duplex {
            parts.push(d.clone());
        }
        if let Some(a) = l.autoneg {
            parts.push(format!("autoneg {}", on(a)));
        }
        if let Some(p) = &l.port {
            parts.push(format!("port {p}"));
        }
        join_or(&parts, "speed unknown")
    });
    row(
        "link",
        format!(
            "{}, carrier {}, mtu {}, txqueuelen {}, queues rx {} tx {}; {link}",
            i.operstate,
            carrier(i),
            i.mtu,
            i.txqueuelen,
            i.num_rx_queues,
            i.num_tx_queues
        ),
    );
    row(
        "pcie",
        na_or(&i.pcie, |p| {
            format!(
                "{} x{}, max {} x{}{}",
                p.current_speed,
                p.current_width,
                p.max_speed,
                p.max_width,
                if p.degraded() { "  DEGRADED" } else { "" }
            )
        }),
    );
    let ring = |f| knobs::shown_name(KnobKind::Ring, f);
    row(
        "rings",
        na_or(&i.rings, |r| {
            join_or(
                &[
                    cur_max(ring("rx"), r.rx, r.rx_max),
                    cur_max(ring("rx_mini"), r.rx_mini, r.rx_mini_max),
                    cur_max(ring("rx_jumbo"), r.rx_jumbo, r.rx_jumbo_max),
                    cur_max(ring("tx"), r.tx, r.tx_max),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>(),
                "none",
            )
        }),
    );
    row(
        "channels",
        na_or(&i.channels, |c| {
            join_or(
                &[
                    cur_max("rx", c.rx, c.rx_max),
                    cur_max("tx", c.tx, c.tx_max),
                    cur_max("other", c.other, c.other_max),
                    cur_max("combined", c.combined, c.combined_max),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>(),
                "none",
            )
        }),
    );
    row(
        "coalesce",
        na_or(&i.coalesce, |c| {
            let mut p = vec![];
            // The `ethtool -C` names, which profiles take too (the knob table's first alias).
            let name = |f| knobs::shown_name(KnobKind::Coalesce, f);
            for (f, v) in [
                ("rx_usecs", c.rx_usecs),
                ("rx_max_frames", c.rx_max_frames),
                ("tx_usecs", c.tx_usecs),
                ("tx_max_frames", c.tx_max_frames),
            ] {
                if let Some(v) = v {
                    p.push(format!("{} {v}", name(f)));
                }
            }
            // n/a where the driver has one of the pair but not the other, as ethtool says.
            if c.use_adaptive_rx.is_some() || c.use_adaptive_tx.is_some() {
                for (f, v) in [
                    ("use_adaptive_rx", c.use_adaptive_rx),
                    ("use_adaptive_tx", c.use_adaptive_tx),
                ] {
                    p.push(format!("{} {}", name(f), v.map_or("n/a", on)));
                }
            }
            join_or(&p, "no fields supported")
        }),
    );
    row(
        "pause",
        na_or(&i.pause, |p| {
            let mut s = format!(
                "autoneg {}, rx {}, tx {}",
                on(p.autoneg),
                on(p.rx),
                on(p.tx)
            );
            if let Some(st) = p.stats {
                let _ = write!(
                    s,
                    "; frames rx {} tx {}",
                    opt(st.rx_pause_frames),
                    opt(st.tx_pause_frames)
                );
            }
            s
        }),
    );
    row(
        "offloads",
        na_or(&i.features, |f| {
            knobs::SHOWN_FEATURES
                .iter()
                .filter_map(|(k, short)| {
                    f.iter().find(|x| x.name == *k).map(|x| {
                        format!(
                            "{short} {}{}",
                            on(x.active),
                            if x.fixed { " [fixed]" } else { "" }
                        )
                    })
                })
                .collect::<Vec<_>>()
                .join(", ")
        }),
    );
    row(
        "fec",
        na_or(&i.fec, |f| {
            format!(
                "configured {}, active {}{}",
                f.configured.join("|"),
                f.active.as_deref().unwrap_or("-"),
                f.corrected
                    .map(|c| format!(", corrected {c} uncorrectable {}", opt(f.uncorrectable)))
                    .unwrap_or_default()
            )
        }),
    );
    let c = &i.counters;
    row(
        "traffic",
        format!(
            "rx {} {} pkts, tx {} {} pkts",
            human_bytes(c.rx_bytes),
            c.rx_packets,
            human_bytes(c.tx_bytes),
            c.tx_packets
        ),
    );
    let timeouts: u64 = i.queues.iter().filter_map(|q| q.tx_timeout).sum();
    row(
        "errors",
        format!(
            "rx_missed {}, rx_fifo {}, rx_crc {}, rx_frame {}, rx_over {}, rx_dropped {}, \
             tx_dropped {}, tx_errors {}, tx_timeout {timeouts}",
            c.rx_missed_errors,
            c.rx_fifo_errors,
            c.rx_crc_errors,
            c.rx_frame_errors,
            c.rx_over_errors,
            c.rx_dropped,
            c.tx_dropped,
            c.tx_errors
        ),
    );
    row(
        "stats",
        na_or(&i.driver_stats, |s| {
            let nz = s.iter().filter(|c| c.value > 0).count();
            format!(
                "{} driver counters (ethtool -S), {nz} non-zero; show -S lists them",
                s.len()
            )
        }),
    );
    if !i.temperatures.is_empty() {
        row(
            "temp",
            i.temperatures
                .iter()
                .map(|t| {
                    format!(
                        "{} {:.1} C{}",
                        t.label,
                        t.celsius,
                        t.crit
                            .map(|c| format!(" (crit {c:.1} C)"))
                            .unwrap_or_default()
                    )
                })
                .collect::<Vec<_>>()
                .join(", "),
        );
    }
    row("module", module::module_row(i));
    qos::rows(i, &mut row);
    push_table(out, &t);
    queue_table(out, i);
    irqs::irq_table(out, i);
    qos::class_table(out, i);
}

/// `yes (3 changes)`; on a down interface the kernel has no carrier (sysfs `carrier` reads
/// EINVAL): `no (interface down, 1 changes)`.
fn carrier(i: &Interface) -> String {
    let mut notes = Vec::new();
    let word = match i.carrier {
        Some(true) => "yes",
        Some(false) => "no",
        None if i.operstate == "down" => {
            notes.push("interface down".to_string());
            "no"
        }
        None => "n/a",
    };
    if let Some(c) = i.carrier_changes {
        notes.push(format!("{c} changes"));
    }
    if notes.is_empty() {
        word.to_string()
    } else {
        format!("{word} ({})", notes.join(", "))
    }
}

fn queue_table(out: &mut String, i: &Interface) {
    // One row per queue index that exists (a queue or an IRQ names it), found in one pass:
    // the indexes come from files others may have written, so nothing loops up to them.
    #[derive(Default)]
    struct Row<'a> {
        rx: Option<&'a crate::model::Queue>,
        tx: Option<&'a crate::model::Queue>,
        irqs: Vec<&'a Irq>,
    }
    let mut rows: std::collections::BTreeMap<u32, Row> = std::collections::BTreeMap::new();
    for q in &i.queues {
        let row = rows.entry(q.index).or_default();
        match q.dir {
            Dir::Rx => row.rx = row.rx.or(Some(q)),
            Dir::Tx => row.tx = row.tx.or(Some(q)),
        }
    }
    for x in &i.irqs {
        if let Some(q) = x.queue {
            rows.entry(q).or_default().irqs.push(x);
        }
    }
    if rows.is_empty() && i.irqs.is_empty() {
        return;
    }
    let mut t = table(&[
        "queue",
        "rps_cpus",
        "flows",
        "xps_cpus",
        "tx_timeout",
        "irq",
    ]);
    for (q, Row { rx, tx, irqs }) in rows {
        t.add_row(vec![
            q.to_string(),
            rx.and_then(|r| r.rps_cpus.as_ref())
                .map_or("-".into(), |c| {
                    if c.is_empty() {
                        "none".into()
                    } else {
                        c.to_list()
                    }
                }),
            opt(rx.and_then(|r| r.rps_flow_cnt)),
            tx.and_then(|r| r.xps_cpus.as_ref())
                .map_or("-".into(), |c| {
                    if c.is_empty() {
                        "none".into()
                    } else {
                        c.to_list()
                    }
                }),
            opt(tx.and_then(|r| r.tx_timeout)),
            irqs.iter()
                .map(|x| x.irq.to_string())
                .collect::<Vec<_>>()
                .join(" "),
        ]);
    }
    push_table(out, &t);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_bytes_units() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 << 30), "3.0 GiB");
    }

    #[test]
    fn cur_max_hides_absent_fields() {
        assert_eq!(
            cur_max("rx", Some(512), Some(4096)).as_deref(),
            Some("rx 512 (max 4096)")
        );
        assert_eq!(cur_max("rx-mini", Some(0), Some(0)), None);
        assert_eq!(cur_max("tx", None, None), None);
    }
}
