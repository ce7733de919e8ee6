//! Live capture through libpcap: the kernel's BPF filter (tcpdump syntax), nanosecond
//! timestamps where the kernel gives them, and the packets fed straight into an
//! [`Analyzer`] (and optionally a pcap file) as they arrive.

use std::fs::File;
use std::io::{BufWriter, Read as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::analyze::Analyzer;
use super::reader::Packet;
use super::write::PcapWriter;

/// What to capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveConfig {
    /// Interface (or `any`).
    pub iface: String,
    /// tcpdump filter expression.
    pub filter: Option<String>,
    /// Bytes kept per packet.
    pub snaplen: u32,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// Stop after this many packets.
    pub count: Option<u64>,
    /// Also write the packets to this pcap file (nanosecond magic).
    pub write: Option<PathBuf>,
}

/// Kernel statistics of the capture (`pcap_stats`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct KernelStats {
    /// Packets the filter accepted.
    pub received: u64,
    /// Packets dropped because the capture buffer was full.
    pub dropped: u64,
    /// Packets dropped by the interface or its driver.
    pub if_dropped: u64,
}

/// Progress of a running capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Time since the capture started.
    pub elapsed: Duration,
    /// Packets seen.
    pub packets: u64,
    /// Wire bytes seen.
    pub bytes: u64,
    /// Kernel statistics.
    pub kernel: KernelStats,
}

/// How a capture went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Timestamp precision obtained: `nano` or `micro` (the kernel or libpcap refused nano).
    pub nano: bool,
    /// Link type of the interface.
    pub linktype: u16,
    /// Final kernel statistics.
    pub kernel: KernelStats,
    /// Why the capture stopped.
    pub stopped_by: &'static str,
}

/// Capture failures.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// Not allowed to open a packet socket.
    #[error(
        "failed to open capture on {iface}: permission denied (needs root or CAP_NET_RAW): {detail}"
    )]
    Permission {
        /// Interface.
        iface: String,
        /// libpcap's message.
        detail: String,
    },
    /// No such interface.
    #[error("failed to open capture on {iface}: no such interface")]
    NoDevice {
        /// Interface.
        iface: String,
    },
    /// The filter does not compile.
    #[error("failed to compile filter '{filter}': {detail}")]
    Filter {
        /// The expression.
        filter: String,
        /// libpcap's message.
        detail: String,
    },
    /// Any other libpcap failure.
    #[error("failed to {what} on {iface}: {detail}")]
    Pcap {
        /// What was being done.
        what: &'static str,
        /// Interface.
        iface: String,
        /// libpcap's message.
        detail: String,
    },
    /// Writing the output file failed.
    #[error("failed to write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

fn open_error(iface: &str, e: &pcap::Error) -> LiveError {
    let detail = e.to_string();
    let low = detail.to_ascii_lowercase();
    if low.contains("permission") || low.contains("not permitted") {
        LiveError::Permission {
            iface: iface.to_string(),
            detail,
        }
    } else if low.contains("no such device") {
        LiveError::NoDevice {
            iface: iface.to_string(),
        }
    } else {
        LiveError::Pcap {
            what: "open capture",
            iface: iface.to_string(),
            detail,
        }
    }
}

/// The precision libpcap actually uses: `pcap_set_tstamp_precision` reports a refusal only
/// through a return code the pcap crate drops, so ask a savefile, whose magic number follows
/// the handle's precision. `None` when the probe file cannot be written.
fn probe_nano(cap: &pcap::Capture<pcap::Active>) -> Option<bool> {
    let path = std::env::temp_dir().join(format!(
        "dpuctl-precision-probe-{}.pcap",
        std::process::id()
    ));
    let result = (|| {
        let mut s = cap.savefile(&path).ok()?;
        s.flush().ok()?;
        let mut magic = [0u8; 4];
        File::open(&path).ok()?.read_exact(&mut magic).ok()?;
        Some(matches!(
            u32::from_ne_bytes(magic),
            0xa1b2_3c4d | 0x4d3c_b2a1
        ))
    })();
    let _ = std::fs::remove_file(&path);
    result
}

/// How often `-w` pushes its buffer to the file: a capture killed without a chance to stop
/// (SIGKILL, a crash) loses at most this much.
const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// Captures until `stop` is set, the count or the duration is reached, feeding `an`.
/// `progress` is called about five times a second. `on_open` is called once the capture is
/// running (with whether timestamps are in nanoseconds), before the first packet.
pub fn capture(
    cfg: &LiveConfig,
    an: &mut Analyzer,
    stop: &AtomicBool,
    mut on_open: impl FnMut(bool),
    mut progress: impl FnMut(&Progress),
) -> Result<Outcome, LiveError> {
    let iface = cfg.iface.as_str();
    let cap = pcap::Capture::from_device(iface)
        .map_err(|e| open_error(iface, &e))?
        .snaplen(cfg.snaplen.min(i32::MAX as u32) as i32)
        .promisc(false)
        // Packets are stamped by the kernel on arrival, so batching delivery costs no
        // accuracy.
        .timeout(100)
        .buffer_size(32 << 20)
        .precision(pcap::Precision::Nano);
    // Non-blocking: with TPACKET_V3 libpcap waits in poll() without a timeout until a ring
    // block fills or retires, and an idle interface retires none, so a blocking read would
    // never see the end of --duration or a signal. When the ring is empty the loop sleeps
    // 1 ms: short enough for the 32 MiB buffer to absorb any rate libpcap can keep up with.
    let mut cap = cap
        .open()
        .map_err(|e| open_error(iface, &e))?
        .setnonblock()
        .map_err(|e| LiveError::Pcap {
            what: "set non-blocking mode",
            iface: iface.to_string(),
            detail: e.to_string(),
        })?;
    if let Some(f) = &cfg.filter {
        cap.filter(f, true).map_err(|e| LiveError::Filter {
            filter: f.clone(),
            detail: e.to_string(),
        })?;
    }
    let nano = probe_nano(&cap).unwrap_or(true);
    let linktype = cap.get_datalink().0 as u16;
    let mut writer = match &cfg.write {
        Some(p) => {
            let mut w = PcapWriter::new(
                BufWriter::with_capacity(1 << 20, File::create(p).map_err(|e| write_err(p, e))?),
                linktype,
                cfg.snaplen,
            )
            .map_err(|e| write_err(p, e))?;
            // The header is on disk before the first packet: a capture killed at any point
            // leaves a file that capinfos and tcpdump -r read.
            w.flush().map_err(|e| write_err(p, e))?;
            Some((w, p))
        }
        None => None,
    };
    let mut last_flush = Instant::now();
    on_open(nano);
    let start = Instant::now();
    let mut last_report = start;
    let mut kernel = KernelStats::default();
    let stopped_by = loop {
        if stop.load(Ordering::Relaxed) {
            break "signal";
        }
        if cfg.count.is_some_and(|c| an.packets() >= c) {
            break "count";
        }
        if cfg.duration.is_some_and(|d| start.elapsed() >= d) {
            break "duration";
        }
        match cap.next_packet() {
            Ok(p) => {
                let frac = p.header.ts.tv_usec as u64;
                let ts_ns = p.header.ts.tv_sec as u64 * 1_000_000_000
                    + if nano { frac } else { frac * 1_000 };
                let pkt = Packet {
                    ts_ns,
                    origlen: p.header.len,
                    data: p.data,
                    linktype,
                    iface: 0,
                };
                an.push(&pkt);
                if let Some((w, path)) = &mut writer {
                    w.write(ts_ns, p.header.len, p.data)
                        .map_err(|e| write_err(path, e))?;
                }
            }
            Err(pcap::Error::TimeoutExpired) => std::thread::sleep(Duration::from_millis(1)),
            Err(e) => {
                return Err(LiveError::Pcap {
                    what: "read packets",
                    iface: iface.to_string(),
                    detail: e.to_string(),
                })
            }
        }
        if last_flush.elapsed() >= FLUSH_EVERY {
            last_flush = Instant::now();
            if let Some((w, path)) = &mut writer {
                w.flush().map_err(|e| write_err(path, e))?;
            }
        }
        if last_report.elapsed() >= Duration::from_millis(200) {
            last_report = Instant::now();
            if let Ok(s) = cap.stats() {
                kernel = stats(s);
            }
            progress(&Progress {
                elapsed: start.elapsed(),
                packets: an.packets(),
                bytes: an.bytes(),
                kernel,
            });
        }
    };
    if let Ok(s) = cap.stats() {
        kernel = stats(s);
    }
    if let Some((w, path)) = writer {
        w.finish().map_err(|e| write_err(path, e))?;
    }
    Ok(Outcome {
        nano,
        linktype,
        kernel,
        stopped_by,
    })
}

fn stats(s: pcap::Stat) -> KernelStats {
    KernelStats {
        received: u64::from(s.received),
        dropped: u64::from(s.dropped),
        if_dropped: u64::from(s.if_dropped),
    }
}

fn write_err(p: &Path, source: std::io::Error) -> LiveError {
    LiveError::Write {
        path: p.to_path_buf(),
        source,
    }
}
