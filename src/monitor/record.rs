//! Recordings of samples (`--record FILE`, `watch --replay FILE`) and the flight recorder.
//!
//! The format is text, one JSON value per line, so a recording can be inspected with `head`
//! and `jq` and an error points at a line. The first line is the header:
//!
//! ```text
//! {"dpuctl_recording":1,"host":"node7","interfaces":["eth2"],"start_wall_ms":...,"sample_interval_ns":1000000}
//! ```
//!
//! Every following line is an object with one key:
//!
//! | key | value | meaning |
//! |-----|-------|---------|
//! | `K` | `1` | keyframe: forget all state (what follows is self-contained) |
//! | `L` | `[ifindex, "name", up, speed_mbps or null]` | an interface appeared or changed |
//! | `N` | `[id, ["name", ...]]` | a table of driver counter names, referenced by id |
//! | `D` | `{"i":ifindex,"drv":..,"n":id,"v":[...],"na":..,"to":[[q,n]...],"temp":[...],"mtu":..,"cc":..,"b":[...],"pfc":{..}}` | slow reads of an interface for the next `S` (`cc`: carrier changes; `b`: the root qdisc's classes, `{"class":id,"kind":..,"stats":{..}}` each; `pfc`: dcbnl PFC `requests`/`indications`) |
//! | `F` | `[processed, dropped, time_squeeze]` | softnet totals for the next `S` |
//! | `P` | `[udp_rcvbuf_errors, udp_in_errors, tcp_backlog_drop, tcp_listen_drops, tcp_listen_overflows]` | socket-level drops for the next `S` |
//! | `R` | `{"d":"mlx5_0","p":1,"drv":..,"nd":..,"n":id,"v":[...]}` | RDMA hardware counters of one port for the next `S` (names in table `n`; `drv`: driver, `nd`: netdev) |
//! | `S` | `{"t":t_ns,"w":wall_ms,"i":[[ifindex, field, delta, field, delta, ...], ...]}` | a sample |
//!
//! In `S`, each interface lists only the counters that changed since its previous sample in
//! the file, as (field index in `rtnl_link_stats64` order, difference) pairs; the difference
//! is the 64-bit wrapping difference read as signed, so resets and wraps replay exactly. An
//! idle interface costs a few bytes per sample. Driver counter names are written once per
//! table; RDMA counter names share the tables. A recording made before `R` lines existed
//! reads as one without RDMA ports.

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::rate::{counters_array, counters_from_array, N_COUNTERS};
use super::sample::{
    CounterNames, DriverStats, IfaceSample, RdmaPortSample, Sample, SlowIface, SocketTotals,
    SoftnetTotals,
};
use crate::input::{open_regular, InputError, MAX_RECORD_LINE};
use crate::model::Temperature;

/// Version written in and required of the header.
pub const VERSION: u32 = 1;

/// The first line of a recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// Format version ([`VERSION`]).
    pub dpuctl_recording: u32,
    /// Host the samples come from.
    pub host: String,
    /// Watched interfaces as named on the command line (empty: all but lo).
    pub interfaces: Vec<String>,
    /// Wall-clock time of the first sample, ms since the Unix epoch.
    pub start_wall_ms: u64,
    /// The sampler's interval, ns.
    pub sample_interval_ns: u64,
}

impl Header {
    /// A header for this host and interval.
    pub fn new(host: &str, interfaces: &[String], start_wall_ms: u64, interval_ns: u64) -> Self {
        Self {
            dpuctl_recording: VERSION,
            host: host.to_string(),
            interfaces: interfaces.to_vec(),
            start_wall_ms,
            sample_interval_ns: interval_ns,
        }
    }
}

/// A recording that cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// I/O.
    #[error("failed to {what} recording {path}: {source}")]
    Io {
        /// "read" or "write".
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// Malformed content.
    #[error("{path}:{line}:{column}: malformed recording: {message}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// Line, from 1.
        line: usize,
        /// Column, from 1.
        column: usize,
        /// What is wrong.
        message: String,
    },
}

/// Name, up, speed and counters of an interface as last written or read.
type LinkState = (Arc<str>, bool, Option<u64>, [u64; N_COUNTERS]);

/// Turns samples into lines; the writer and the flight recorder share it.
#[derive(Debug, Default)]
pub struct Encoder {
    /// Per ifindex: name, up, speed, counters as last written.
    links: HashMap<u32, LinkState>,
    /// Name tables written so far, by id.
    names: Vec<CounterNames>,
    /// Names of each interface as last written (to find the id fast).
    last_names: HashMap<u32, usize>,
    /// Names of each RDMA port as last written, by `(device, port)`.
    last_rdma_names: HashMap<(String, u32), usize>,
    line: String,
}

impl Encoder {
    /// A fresh encoder; its first output is self-contained.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends the lines of one sample to `out`.
    pub fn encode(&mut self, s: &Sample, out: &mut Vec<u8>) {
        let mut line = std::mem::take(&mut self.line);
        for is in &s.ifaces {
            let changed = self.links.get(&is.ifindex).is_none_or(|(n, up, sp, _)| {
                **n != *is.name || *up != is.up || *sp != is.speed_mbps
            });
            if changed {
                line.clear();
                let _ = writeln!(
                    line,
                    "{{\"L\":[{},{},{},{}]}}",
                    is.ifindex,
                    json_str(&is.name),
                    u8::from(is.up),
                    is.speed_mbps
                        .map_or_else(|| "null".to_string(), |v| v.to_string())
                );
                out.extend_from_slice(line.as_bytes());
                let prev = self.links.get(&is.ifindex).map_or([0; N_COUNTERS], |x| x.3);
                self.links
                    .insert(is.ifindex, (is.name.clone(), is.up, is.speed_mbps, prev));
            }
            if let Some(slow) = &is.slow {
                let id = slow
                    .driver_stats
                    .as_ref()
                    .map(|ds| self.names_id(is.ifindex, &ds.names, out));
                let d = DLine {
                    i: is.ifindex,
                    drv: slow.driver.clone(),
                    n: id,
                    v: slow.driver_stats.as_ref().map(|d| d.values.clone()),
                    na: slow.driver_stats_na.clone(),
                    to: slow.tx_timeouts.clone(),
                    temp: slow.temps.clone(),
                    mtu: slow.mtu,
                    cc: slow.carrier_changes,
                    m: slow.module.clone().map(Box::new),
                    b: slow.bands.clone(),
                    pfc: slow.pfc.clone(),
                };
                let _ = serde_json::to_writer(&mut *out, &Line::D(d));
                out.push(b'\n');
            }
        }
        if let Some(f) = s.softnet {
            line.clear();
            let _ = writeln!(
                line,
                "{{\"F\":[{},{},{}]}}",
                f.processed, f.dropped, f.time_squeeze
            );
            out.extend_from_slice(line.as_bytes());
        }
        if let Some(p) = s.sockets {
            let v = p.to_array().map(|x| x.to_string()).join(",");
            line.clear();
            let _ = writeln!(line, "{{\"P\":[{v}]}}");
            out.extend_from_slice(line.as_bytes());
        }
        for r in &s.rdma {
            let id = self.rdma_names_id(r, out);
            let l = Line::R(RLine {
                d: r.device.clone(),
                p: r.port,
                drv: r.driver.clone(),
                nd: r.netdev.clone(),
                n: id,
                v: r.counters.values.clone(),
            });
            let _ = serde_json::to_writer(&mut *out, &l);
            out.push(b'\n');
        }
        line.clear();
        let _ = write!(
            line,
            "{{\"S\":{{\"t\":{},\"w\":{},\"i\":[",
            s.t_ns, s.wall_ms
        );
        for (k, is) in s.ifaces.iter().enumerate() {
            if k > 0 {
                line.push(',');
            }
            let _ = write!(line, "[{}", is.ifindex);
            let cur = counters_array(&is.counters);
            if let Some(e) = self.links.get_mut(&is.ifindex) {
                for (i, (p, c)) in e.3.iter().zip(&cur).enumerate() {
                    if p != c {
                        let _ = write!(line, ",{},{}", i, c.wrapping_sub(*p) as i64);
                    }
                }
                e.3 = cur;
            }
            line.push(']');
        }
        line.push_str("]}}\n");
        out.extend_from_slice(line.as_bytes());
        self.line = line;
    }

    /// The name table of an RDMA port's counters, written first when new.
    fn rdma_names_id(&mut self, r: &RdmaPortSample, out: &mut Vec<u8>) -> usize {
        let names = &r.counters.names;
        let key = (r.device.clone(), r.port);
        if let Some(&id) = self.last_rdma_names.get(&key) {
            if Arc::ptr_eq(&self.names[id], names) || *self.names[id] == **names {
                return id;
            }
        }
        let id = self.table_id(names, out);
        self.last_rdma_names.insert(key, id);
        id
    }

    /// The id of a name table, written first when new.
    fn table_id(&mut self, names: &CounterNames, out: &mut Vec<u8>) -> usize {
        if let Some(id) = self.names.iter().position(|n| **n == **names) {
            return id;
        }
        self.names.push(names.clone());
        let id = self.names.len() - 1;
        let _ = serde_json::to_writer(&mut *out, &Line::N(id, names.to_vec()));
        out.push(b'\n');
        id
    }

    fn names_id(&mut self, ifindex: u32, names: &CounterNames, out: &mut Vec<u8>) -> usize {
        if let Some(&id) = self.last_names.get(&ifindex) {
            if Arc::ptr_eq(&self.names[id], names) || *self.names[id] == **names {
                return id;
            }
        }
        let id = if let Some(id) = self.names.iter().position(|n| **n == **names) {
            id
        } else {
            self.names.push(names.clone());
            let id = self.names.len() - 1;
            let _ = serde_json::to_writer(&mut *out, &Line::N(id, names.to_vec()));
            out.push(b'\n');
            id
        };
        self.last_names.insert(ifindex, id);
        id
    }
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"?\"".into())
}

/// Slow reads of one interface in a recording.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DLine {
    i: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    drv: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    n: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    v: Option<Vec<u64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    na: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    to: Vec<(u32, u64)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    temp: Vec<Temperature>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mtu: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cc: Option<u32>,
    /// The module reading, on the rounds that read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    m: Option<Box<crate::model::module::ModuleReading>>,
    /// Classes of the root qdisc with their counters (absent in recordings made before
    /// they were read, and on rounds that did not read them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    b: Option<Vec<super::bands::BandSample>>,
    /// dcbnl PFC counters, where the driver has DCB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pfc: Option<super::bands::PfcCounters>,
}

/// Hardware counters of one RDMA port in a recording.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RLine {
    /// Device.
    d: String,
    /// Port.
    p: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    drv: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nd: Option<String>,
    /// Name table.
    n: usize,
    /// Values, in the table's order.
    v: Vec<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SLine {
    t: u64,
    #[serde(default)]
    w: u64,
    i: Vec<Vec<i64>>,
}

#[derive(Debug, Serialize, Deserialize)]
enum Line {
    K(u8),
    L(u32, String, u8, Option<u64>),
    N(usize, Vec<String>),
    D(DLine),
    F(u64, u64, u64),
    P([u64; SocketTotals::N]),
    R(RLine),
    #[serde(skip_serializing)]
    S(SLine),
}

/// Rebuilds samples from lines.
#[derive(Debug, Default)]
pub struct Decoder {
    links: HashMap<u32, LinkState>,
    names: Vec<CounterNames>,
    slow: Vec<(u32, SlowIface)>,
    softnet: Option<SoftnetTotals>,
    sockets: Option<SocketTotals>,
    rdma: Vec<RdmaPortSample>,
}

impl Decoder {
    /// A fresh decoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one line (without its newline); returns a sample when the line completes one.
    /// An error is a message and the column (from 1) it refers to.
    pub fn line(&mut self, text: &str) -> Result<Option<Sample>, (usize, String)> {
        if text.trim().is_empty() {
            return Ok(None);
        }
        let l: Line = serde_json::from_str(text).map_err(|e| (e.column().max(1), e.to_string()))?;
        match l {
            Line::K(_) => *self = Self::default(),
            Line::L(i, name, up, speed) => {
                let prev = self.links.get(&i).map_or([0; N_COUNTERS], |x| x.3);
                self.links
                    .insert(i, (Arc::from(name), up != 0, speed, prev));
            }
            Line::N(id, names) => {
                if id != self.names.len() {
                    return Err((1, format!("name table {id} out of sequence")));
                }
                self.names.push(Arc::from(names));
            }
            Line::D(d) => {
                let driver_stats = match (d.n, d.v) {
                    (Some(id), Some(values)) => {
                        let names = self
                            .names
                            .get(id)
                            .ok_or((1, format!("unknown name table {id}")))?;
                        if names.len() != values.len() {
                            return Err((
                                1,
                                format!(
                                    "{} values for name table {id} of {} names",
                                    values.len(),
                                    names.len()
                                ),
                            ));
                        }
                        Some(DriverStats {
                            names: names.clone(),
                            values,
                        })
                    }
                    (None, None) => None,
                    _ => return Err((1, "\"n\" and \"v\" go together".into())),
                };
                self.slow.push((
                    d.i,
                    SlowIface {
                        driver: d.drv,
                        driver_stats,
                        driver_stats_na: d.na,
                        tx_timeouts: d.to,
                        temps: d.temp,
                        mtu: d.mtu,
                        carrier_changes: d.cc,
                        module: d.m.map(|m| *m),
                        bands: d.b,
                        pfc: d.pfc,
                    },
                ));
            }
            Line::F(processed, dropped, time_squeeze) => {
                self.softnet = Some(SoftnetTotals {
                    processed,
                    dropped,
                    time_squeeze,
                });
            }
            Line::P(v) => self.sockets = Some(SocketTotals::from_array(v)),
            Line::R(r) => {
                let names = self
                    .names
                    .get(r.n)
                    .ok_or((1, format!("unknown name table {}", r.n)))?;
                if names.len() != r.v.len() {
                    return Err((
                        1,
                        format!(
                            "{} values for name table {} of {} names",
                            r.v.len(),
                            r.n,
                            names.len()
                        ),
                    ));
                }
                self.rdma.push(RdmaPortSample {
                    device: r.d,
                    port: r.p,
                    driver: r.drv,
                    netdev: r.nd,
                    counters: DriverStats {
                        names: names.clone(),
                        values: r.v,
                    },
                });
            }
            Line::S(s) => {
                let mut ifaces = Vec::with_capacity(s.i.len());
                for entry in &s.i {
                    let Some((&ifx, pairs)) = entry.split_first() else {
                        return Err((1, "an interface entry without ifindex".into()));
                    };
                    let ifindex =
                        u32::try_from(ifx).map_err(|_| (1, format!("invalid ifindex {ifx}")))?;
                    let link = self
                        .links
                        .get_mut(&ifindex)
                        .ok_or((1, format!("ifindex {ifindex} has no \"L\" line before")))?;
                    if pairs.len() % 2 != 0 {
                        return Err((1, format!("odd field/delta list for ifindex {ifindex}")));
                    }
                    for p in pairs.chunks_exact(2) {
                        let f = usize::try_from(p[0])
                            .ok()
                            .filter(|f| *f < N_COUNTERS)
                            .ok_or((1, format!("invalid counter field {}", p[0])))?;
                        link.3[f] = link.3[f].wrapping_add(p[1] as u64);
                    }
                    let slow = self
                        .slow
                        .iter()
                        .position(|(i, _)| *i == ifindex)
                        .map(|p| Box::new(self.slow.swap_remove(p).1));
                    ifaces.push(IfaceSample {
                        ifindex,
                        name: link.0.clone(),
                        up: link.1,
                        speed_mbps: link.2,
                        counters: counters_from_array(&link.3),
                        slow,
                    });
                }
                self.slow.clear();
                return Ok(Some(Sample {
                    t_ns: s.t,
                    wall_ms: s.w,
                    ifaces,
                    softnet: self.softnet.take(),
                    sockets: self.sockets.take(),
                    node: None,
                    flows: Vec::new(),
                    rdma: std::mem::take(&mut self.rdma),
                }));
            }
        }
        Ok(None)
    }
}

/// Writes a recording file.
pub struct Recorder {
    out: BufWriter<File>,
    path: PathBuf,
    enc: Encoder,
    buf: Vec<u8>,
}

impl Recorder {
    /// Creates the file and writes the header.
    pub fn create(path: &Path, header: &Header) -> Result<Self, RecordError> {
        let io_err = |source| RecordError::Io {
            what: "write",
            path: path.to_path_buf(),
            source,
        };
        let f = File::create(path).map_err(io_err)?;
        let mut out = BufWriter::with_capacity(1 << 16, f);
        serde_json::to_writer(&mut out, header).map_err(|e| io_err(io::Error::other(e)))?;
        out.write_all(b"\n").map_err(io_err)?;
        Ok(Self {
            out,
            path: path.to_path_buf(),
            enc: Encoder::new(),
            buf: Vec::with_capacity(4096),
        })
    }

    /// Appends a sample.
    pub fn write(&mut self, s: &Sample) -> Result<(), RecordError> {
        self.buf.clear();
        self.enc.encode(s, &mut self.buf);
        self.out
            .write_all(&self.buf)
            .map_err(|source| RecordError::Io {
                what: "write",
                path: self.path.clone(),
                source,
            })
    }

    /// Flushes buffered lines to the file.
    pub fn flush(&mut self) -> Result<(), RecordError> {
        self.out.flush().map_err(|source| RecordError::Io {
            what: "write",
            path: self.path.clone(),
            source,
        })
    }
}

/// The lines of a recording, each at most [`MAX_RECORD_LINE`] bytes: a longer one is an
/// error before it is held in memory.
struct Lines<R> {
    input: R,
}

impl<R: BufRead> Lines<R> {
    /// The next line without its newline; `Err(None)` for an over-long line.
    fn next(&mut self) -> Option<Result<String, Option<io::Error>>> {
        let mut buf = Vec::new();
        let limit = MAX_RECORD_LINE as u64 + 1;
        match (&mut self.input).take(limit).read_until(b'\n', &mut buf) {
            Ok(0) => return None,
            Ok(_) => {}
            Err(e) => return Some(Err(Some(e))),
        }
        if buf.last() == Some(&b'\n') {
            buf.pop();
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
        } else if buf.len() > MAX_RECORD_LINE {
            return Some(Err(None));
        }
        Some(String::from_utf8(buf).map_err(|_| {
            Some(io::Error::new(
                io::ErrorKind::InvalidData,
                "stream did not contain valid UTF-8",
            ))
        }))
    }
}

/// The message for a line over [`MAX_RECORD_LINE`].
fn too_long() -> String {
    format!(
        "line longer than {} MiB (the limit for recording lines)",
        MAX_RECORD_LINE >> 20
    )
}

/// Reads a recording: the header, then samples one by one.
pub struct Reader<R> {
    lines: Lines<R>,
    path: PathBuf,
    line_no: usize,
    dec: Decoder,
    /// The header.
    pub header: Header,
}

impl Reader<BufReader<File>> {
    /// Opens a recording file and reads its header.
    pub fn open(path: &Path) -> Result<Self, RecordError> {
        let f = open_regular(path).map_err(|e| RecordError::Io {
            what: "read",
            path: path.to_path_buf(),
            source: match e {
                InputError::Io(e) => e,
                other => io::Error::other(other.to_string()),
            },
        })?;
        Self::new(BufReader::new(f), path)
    }
}

impl<R: BufRead> Reader<R> {
    /// Reads the header from `input`; `path` names the input in errors.
    pub fn new(input: R, path: &Path) -> Result<Self, RecordError> {
        let mut lines = Lines { input };
        let malformed = |line, column, message: String| RecordError::Malformed {
            path: path.to_path_buf(),
            line,
            column,
            message: crate::input::shorten_quoted(&message),
        };
        let first = match lines.next() {
            Some(Ok(l)) => l,
            Some(Err(Some(source))) => {
                return Err(RecordError::Io {
                    what: "read",
                    path: path.to_path_buf(),
                    source,
                })
            }
            Some(Err(None)) => return Err(malformed(1, 1, too_long())),
            None => return Err(malformed(1, 1, "empty file, expected a header".into())),
        };
        let header: Header = serde_json::from_str(&first).map_err(|e| {
            malformed(
                1,
                e.column().max(1),
                format!("not a dpuctl recording header: {e}"),
            )
        })?;
        if header.dpuctl_recording != VERSION {
            return Err(malformed(
                1,
                1,
                format!(
                    "recording version {} is not supported (this dpuctl reads {VERSION})",
                    header.dpuctl_recording
                ),
            ));
        }
        Ok(Self {
            lines,
            path: path.to_path_buf(),
            line_no: 1,
            dec: Decoder::new(),
            header,
        })
    }

    /// The next sample, `None` at the end.
    pub fn next_sample(&mut self) -> Result<Option<Sample>, RecordError> {
        loop {
            let Some(l) = self.lines.next() else {
                return Ok(None);
            };
            self.line_no += 1;
            let l = l.map_err(|e| match e {
                Some(source) => RecordError::Io {
                    what: "read",
                    path: self.path.clone(),
                    source,
                },
                None => RecordError::Malformed {
                    path: self.path.clone(),
                    line: self.line_no,
                    column: 1,
                    message: too_long(),
                },
            })?;
            match self.dec.line(&l) {
                Ok(Some(s)) => return Ok(Some(s)),
                Ok(None) => {}
                Err((column, message)) => {
                    return Err(RecordError::Malformed {
                        path: self.path.clone(),
                        line: self.line_no,
                        column,
                        message: crate::input::shorten_quoted(&message),
                    })
                }
            }
        }
    }
}

impl<R: BufRead> Iterator for Reader<R> {
    type Item = Result<Sample, RecordError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_sample().transpose()
    }
}

/// Reads a whole recording into memory.
pub fn read_file(path: &Path) -> Result<(Header, Vec<Sample>), RecordError> {
    let mut r = Reader::open(path)?;
    let mut v = Vec::new();
    while let Some(s) = r.next_sample()? {
        v.push(s);
    }
    Ok((r.header, v))
}

/// How much the flight recorder keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlightConfig {
    /// The last this many ns of samples (`--history` minutes).
    pub span_ns: u64,
    /// At most this many bytes of encoded samples; the oldest go first.
    pub max_bytes: usize,
}

/// Encoded samples of one stretch of time; starts with a keyframe.
#[derive(Debug)]
struct Chunk {
    first_t: u64,
    last_t: u64,
    bytes: Vec<u8>,
}

/// Keyframe interval: a chunk is the unit the flight recorder drops.
const CHUNK_NS: u64 = 1_000_000_000;

/// The last minutes of samples, kept encoded (a few bytes per idle interface and sample) in
/// chunks that each start with a keyframe, so the oldest chunk can be dropped and what is
/// left is still a valid recording.
#[derive(Debug)]
pub struct FlightRecorder {
    cfg: FlightConfig,
    chunks: VecDeque<Chunk>,
    enc: Encoder,
    bytes: usize,
}

impl FlightRecorder {
    /// An empty recorder.
    pub fn new(cfg: FlightConfig) -> Self {
        Self {
            cfg,
            chunks: VecDeque::new(),
            enc: Encoder::new(),
            bytes: 0,
        }
    }

    /// Adds a sample, dropping what fell out of the span or the byte budget.
    pub fn push(&mut self, s: &Sample) {
        let new_chunk = self
            .chunks
            .back()
            .is_none_or(|c| s.t_ns.saturating_sub(c.first_t) >= CHUNK_NS);
        if new_chunk {
            self.enc = Encoder::new();
            self.chunks.push_back(Chunk {
                first_t: s.t_ns,
                last_t: s.t_ns,
                bytes: b"{\"K\":1}\n".to_vec(),
            });
            self.bytes += 8;
        }
        let Some(c) = self.chunks.back_mut() else {
            return;
        };
        let before = c.bytes.len();
        self.enc.encode(s, &mut c.bytes);
        c.last_t = s.t_ns;
        self.bytes += c.bytes.len() - before;
        while self.chunks.len() > 1 {
            let oldest = &self.chunks[0];
            let too_old = s.t_ns.saturating_sub(oldest.last_t) > self.cfg.span_ns;
            if too_old || self.bytes > self.cfg.max_bytes {
                self.bytes -= oldest.bytes.len();
                self.chunks.pop_front();
            } else {
                break;
            }
        }
    }

    /// Time covered now, ns.
    pub fn span_ns(&self) -> u64 {
        match (self.chunks.front(), self.chunks.back()) {
            (Some(a), Some(b)) => b.last_t - a.first_t,
            _ => 0,
        }
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Writes what it holds as a recording.
    pub fn write_to(&self, w: &mut dyn Write, header: &Header) -> io::Result<()> {
        serde_json::to_writer(&mut *w, header).map_err(io::Error::other)?;
        w.write_all(b"\n")?;
        for c in &self.chunks {
            w.write_all(&c.bytes)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Counters;

    #[test]
    fn an_over_long_line_is_an_error_naming_the_bound() {
        let header = r#"{"dpuctl_recording":1,"host":"h","interfaces":[],"start_wall_ms":0,"sample_interval_ns":1}"#;
        let mut text = format!("{header}\n").into_bytes();
        text.extend(std::iter::repeat_n(b'x', MAX_RECORD_LINE + 1));
        let mut r = Reader::new(io::Cursor::new(text), Path::new("r.rec")).expect("header");
        let e = r.next_sample().expect_err("too long").to_string();
        assert_eq!(
            e,
            "r.rec:2:1: malformed recording: line longer than 16 MiB (the limit for recording lines)"
        );
        // A header line over the bound, and CRLF line ends still read.
        let long = vec![b'{'; MAX_RECORD_LINE + 10];
        assert!(Reader::new(io::Cursor::new(long), Path::new("r.rec")).is_err());
        let crlf = format!("{header}\r\n");
        let mut r = Reader::new(io::Cursor::new(crlf), Path::new("r.rec")).expect("crlf");
        assert!(r.next_sample().expect("end").is_none());
    }

    fn sample(t: u64, rx: u64, with_slow: bool) -> Sample {
        let names: CounterNames = Arc::from(vec!["a".to_string(), "b".to_string()]);
        Sample {
            t_ns: t,
            wall_ms: 1000 + t / 1_000_000,
            ifaces: vec![IfaceSample {
                ifindex: 4,
                name: Arc::from("eth0"),
                up: true,
                speed_mbps: Some(1000),
                counters: Counters {
                    rx_bytes: rx,
                    rx_packets: rx / 100,
                    ..Counters::default()
                },
                slow: with_slow.then(|| {
                    Box::new(SlowIface {
                        driver: Some("veth".into()),
                        driver_stats: Some(DriverStats {
                            names: names.clone(),
                            values: vec![t, 2],
                        }),
                        driver_stats_na: None,
                        tx_timeouts: vec![(0, 3)],
                        temps: vec![],
                        mtu: Some(1500),
                        carrier_changes: Some(1),
                        module: Some(crate::model::module::ModuleReading {
                            temperature_c: Some(41.5),
                            temperature_high_warning_c: Some(70.0),
                            rx_power_low_warning_dbm: Some(-10.4),
                            tx_power_low_warning_dbm: None,
                            lanes: vec![crate::model::module::LaneReading {
                                lane: 1,
                                rx_power_dbm: Some(-9.9),
                                tx_power_dbm: None,
                            }],
                        }),
                        bands: Some(vec![crate::monitor::bands::BandSample {
                            class: 0x0001_0003,
                            kind: "ets".into(),
                            stats: crate::model::qos::TcStats {
                                bytes: t,
                                drops: 4,
                                backlog: 3000,
                                qlen: 2,
                                ..Default::default()
                            },
                        }]),
                        pfc: Some(crate::monitor::bands::PfcCounters {
                            requests: vec![t; 8],
                            indications: vec![0; 8],
                        }),
                    })
                }),
            }],
            softnet: with_slow.then_some(SoftnetTotals {
                processed: 1,
                dropped: 2,
                time_squeeze: 3,
            }),
            sockets: with_slow.then_some(SocketTotals {
                udp_rcvbuf_errors: t,
                udp_in_errors: t + 1,
                tcp_backlog_drop: 4,
                tcp_listen_drops: 5,
                tcp_listen_overflows: 6,
            }),
            node: None,
            flows: Vec::new(),
            rdma: if with_slow {
                vec![RdmaPortSample {
                    device: "mlx5_0".into(),
                    port: 1,
                    driver: Some("mlx5_core".into()),
                    netdev: Some("eth0".into()),
                    counters: DriverStats {
                        names: Arc::from(vec![
                            "local_ack_timeout_err".to_string(),
                            "out_of_sequence".to_string(),
                        ]),
                        values: vec![t / 1000, 7],
                    },
                }]
            } else {
                Vec::new()
            },
        }
    }

    fn decode(bytes: &[u8]) -> Vec<Sample> {
        let mut d = Decoder::new();
        std::str::from_utf8(bytes)
            .expect("utf8")
            .lines()
            .filter_map(|l| d.line(l).expect("line"))
            .collect()
    }

    #[test]
    fn samples_replay_exactly_resets_and_wraps_included() {
        let input = vec![
            sample(0, 5_000, true),
            sample(1_000_000, 9_000, false),
            sample(2_000_000, 100, false), // reset
            sample(3_000_000, u64::MAX, true),
            sample(4_000_000, 3, false), // wraps
        ];
        let mut enc = Encoder::new();
        let mut out = Vec::new();
        for s in &input {
            enc.encode(s, &mut out);
        }
        assert_eq!(decode(&out), input);
        // Names are written once per table: the driver's and the RDMA port's.
        let text = String::from_utf8(out).expect("utf8");
        assert_eq!(text.matches("\"N\"").count(), 2, "{text}");
        assert_eq!(text.matches("\"R\"").count(), 2, "{text}");
    }

    #[test]
    fn rdma_lines_need_their_name_table() {
        let mut d = Decoder::new();
        let e = d
            .line(r#"{"R":{"d":"rxe0","p":1,"n":0,"v":[1]}}"#)
            .expect_err("no table");
        assert!(e.1.contains("unknown name table 0"), "{e:?}");
        d.line(r#"{"N":[0,["completer_retry_err"]]}"#)
            .expect("names");
        let e = d
            .line(r#"{"R":{"d":"rxe0","p":1,"n":0,"v":[1,2]}}"#)
            .expect_err("count");
        assert!(
            e.1.contains("2 values for name table 0 of 1 names"),
            "{e:?}"
        );
        d.line(r#"{"R":{"d":"rxe0","p":1,"nd":"rs0","n":0,"v":[5]}}"#)
            .expect("R");
        d.line(r#"{"L":[3,"rs0",1,null]}"#).expect("L");
        let s = d
            .line(r#"{"S":{"t":1,"w":2,"i":[[3]]}}"#)
            .expect("S")
            .expect("sample");
        assert_eq!(s.rdma.len(), 1);
        assert_eq!(s.rdma[0].key(), "rxe0/1");
        assert_eq!(s.rdma[0].netdev.as_deref(), Some("rs0"));
        assert_eq!(s.rdma[0].counters.get("completer_retry_err"), Some(5));
        // Attached to one sample only.
        let s = d
            .line(r#"{"S":{"t":2,"w":3,"i":[[3]]}}"#)
            .expect("S")
            .expect("sample");
        assert!(s.rdma.is_empty());
    }

    #[test]
    fn flight_recorder_keeps_the_last_span_and_stays_valid() {
        let mut f = FlightRecorder::new(FlightConfig {
            span_ns: 3_000_000_000,
            max_bytes: 1 << 20,
        });
        let input: Vec<Sample> = (0..100)
            .map(|i| sample(i * 100_000_000, i * 1000, i % 10 == 0))
            .collect();
        for s in &input {
            f.push(s);
        }
        assert!(f.span_ns() >= 3_000_000_000 && f.span_ns() < 5_000_000_000);
        let mut out = Vec::new();
        let h = Header::new("h", &[], 0, 100_000_000);
        f.write_to(&mut out, &h).expect("write");
        let r = Reader::new(&out[..], Path::new("mem")).expect("header");
        let got: Vec<Sample> = r.map(|x| x.expect("sample")).collect();
        assert!(!got.is_empty());
        let first = input
            .iter()
            .position(|s| s.t_ns == got[0].t_ns)
            .expect("first sample");
        assert_eq!(got[..], input[first..]);
    }

    #[test]
    fn malformed_lines_are_located() {
        let h = serde_json::to_string(&Header::new("h", &[], 0, 1)).expect("header");
        let text =
            format!("{h}\n{{\"L\":[1,\"a\",1,null]}}\n{{\"S\":{{\"t\":1,\"i\":[[1,99,1]]}}}}\n");
        let mut r = Reader::new(text.as_bytes(), Path::new("x.rec")).expect("header");
        let e = r.next_sample().expect_err("bad field");
        assert!(e.to_string().starts_with("x.rec:3:"), "{e}");
        assert!(e.to_string().contains("invalid counter field 99"), "{e}");
        let text = format!("{h}\n{{\"S\":{{\"t\":1,\"i\":[[7]]}}}}\n");
        let e = Reader::new(text.as_bytes(), Path::new("x.rec"))
            .expect("header")
            .next_sample()
            .expect_err("no L");
        assert!(e.to_string().contains("x.rec:2:"), "{e}");
        let text = format!("{h}\n{{\"S\":{{\"t\":1,\"i\":[[7]}}\n");
        let e = Reader::new(text.as_bytes(), Path::new("x.rec"))
            .expect("header")
            .next_sample()
            .expect_err("syntax");
        assert!(e.to_string().starts_with("x.rec:2:"), "{e}");
        let e = Reader::new(&b"{\"x\":1}\n"[..], Path::new("y"))
            .err()
            .expect("header error");
        assert!(e.to_string().starts_with("y:1:"), "{e}");
    }
}
