//! The in-kernel traffic bins (eBPF): loading and attaching the tc program of
//! `bpf/bins.bpf.c`, and draining its closed time bins.
//!
//! The program runs on the ingress and egress hooks of each watched interface and adds every
//! packet's length and segment count to the open bin (of `width_ns`) of its (interface,
//! direction) on its CPU, with a small top-flows table per bin. A packet that falls in a later
//! bin sends the closed one to the ring buffer `closed`; bins that no later packet closed are
//! read from the per-CPU map `state` by [`BinProbe::drain`] once they are over.
//!
//! Attaching: tcx links where the kernel has them (6.6 and later): the links belong to this
//! process's file descriptors, so they go away when it exits, killed included, and they sit
//! beside any tc filters and qdiscs without touching them. On older kernels: a `clsact` qdisc
//! (added only if missing) with filters at dpuctl's own priority [`CLSACT_PRIORITY`]; filters
//! left by a killed run are removed at the next start, and ours on exit.
//!
//! The object is committed compiled (`bpf/bins.bpf.o`, built by [`BUILD_COMMAND`]); a test
//! rebuilds it with clang and compares.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use aya::maps::{MapData, PerCpuHashMap, PerCpuValues, RingBuf};
use aya::programs::tc::{NlOptions, TcAttachOptions};
use aya::programs::{LinkOrder, SchedClassifier, TcAttachType};
use aya::{Ebpf, EbpfLoader};

/// The compiled program (see [`BUILD_COMMAND`]).
pub static OBJECT: &[u8] = aya::include_bytes_aligned!("bpf/bins.bpf.o");

/// How `bpf/bins.bpf.o` is built from `bpf/bins.bpf.c`, run in `src/sys/bpf/`.
pub const BUILD_COMMAND: &[&str] = &[
    "clang",
    "-O2",
    "-g",
    "-fdebug-compilation-dir=.",
    "-target",
    "bpf",
    "-c",
    "bins.bpf.c",
    "-o",
];

/// Names of the two programs (also the names of clsact filters on old kernels).
pub const PROGRAMS: [(&str, Dir); 2] = [
    ("dpuctl_bins_ingress", Dir::Ingress),
    ("dpuctl_bins_egress", Dir::Egress),
];

/// The clsact filter priority dpuctl uses where the kernel has no tcx (a value tc users
/// rarely pick, so existing filters keep theirs).
pub const CLSACT_PRIORITY: u16 = 0xd9c7;

/// Bin width limits, ns.
pub const MIN_WIDTH_NS: u64 = 1_000;
/// Largest bin width, ns.
pub const MAX_WIDTH_NS: u64 = 1_000_000;

/// Flows kept per bin (and CPU) by the program.
pub const TOPK: usize = 4;
const FLOW_SIZE: usize = 48;
/// Size of one bin record (`struct bin` of the program).
pub const BIN_SIZE: usize = 32 + TOPK * FLOW_SIZE;
const MAX_KEYS: usize = 256;

/// Hook direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dir {
    /// tc ingress: received packets.
    Ingress,
    /// tc egress: sent packets.
    Egress,
}

/// A flow's 5-tuple.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowKey {
    /// Source address (`::` for a packet that is not IP).
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Source port (0 without one).
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// IP protocol number (0 for a packet that is not IP).
    pub proto: u8,
}

/// One closed bin of one (interface, direction) on one CPU, as the program kept it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawBin {
    /// Bin number: wall-clock ns (`CLOCK_MONOTONIC` plus the offset at load) / bin width.
    pub bin: u64,
    /// Interface index.
    pub ifindex: u32,
    /// Direction.
    pub dir: Dir,
    /// CPU that counted it.
    pub cpu: u32,
    /// Bytes (L2 header included).
    pub bytes: u64,
    /// Packets (segments of a GSO packet counted one by one).
    pub packets: u64,
    /// Heaviest flows with their bytes (an upper bound: space-saving counts).
    pub flows: Vec<(FlowKey, u64)>,
}

fn u64_at(b: &[u8], o: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[o..o + 8]);
    u64::from_ne_bytes(a)
}

fn u32_at(b: &[u8], o: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[o..o + 4]);
    u32::from_ne_bytes(a)
}

fn addr(b: &[u8]) -> IpAddr {
    let mut a = [0u8; 16];
    a.copy_from_slice(&b[..16]);
    let v6 = Ipv6Addr::from(a);
    match v6.to_ipv4_mapped() {
        Some(v4) => IpAddr::V4(v4),
        None if a == [0; 16] => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        None => IpAddr::V6(v6),
    }
}

/// Decodes one `struct bin` record (host byte order, the layout of `bins.bpf.c`); `None`
/// when it is too short or empty.
pub fn parse_bin(b: &[u8]) -> Option<RawBin> {
    if b.len() < BIN_SIZE {
        return None;
    }
    let key = u32_at(b, 24);
    let packets = u64_at(b, 16);
    if packets == 0 {
        return None;
    }
    let mut flows = Vec::with_capacity(TOPK);
    for i in 0..TOPK {
        let f = &b[32 + i * FLOW_SIZE..32 + (i + 1) * FLOW_SIZE];
        let bytes = u64_at(f, 40);
        if bytes == 0 {
            continue;
        }
        flows.push((
            FlowKey {
                src: addr(&f[0..16]),
                dst: addr(&f[16..32]),
                sport: u16::from_ne_bytes([f[32], f[33]]),
                dport: u16::from_ne_bytes([f[34], f[35]]),
                proto: f[36],
            },
            bytes,
        ));
    }
    Some(RawBin {
        bin: u64_at(b, 0),
        ifindex: key / 2,
        dir: if key % 2 == 1 {
            Dir::Egress
        } else {
            Dir::Ingress
        },
        cpu: u32_at(b, 28),
        bytes: u64_at(b, 8),
        packets,
        flows,
    })
}

/// Why the eBPF source cannot run here.
#[derive(Debug, thiserror::Error)]
pub enum BpfError {
    /// Missing privilege.
    #[error("{0}")]
    Privilege(String),
    /// The kernel has no BTF.
    #[error("the kernel has no BTF (/sys/kernel/btf/vmlinux missing)")]
    NoBtf,
    /// Too many interfaces.
    #[error("at most {MAX_KEYS} interfaces can be watched with eBPF")]
    TooMany,
    /// Loading or attaching failed.
    #[error("failed to {what}: {detail}")]
    Kernel {
        /// What was being done.
        what: String,
        /// The error (with its causes).
        detail: String,
    },
}

fn kerr<E: std::error::Error>(what: impl Into<String>, e: &E) -> BpfError {
    let mut detail = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        detail.push_str(": ");
        detail.push_str(&s.to_string());
        src = s.source();
    }
    BpfError::Kernel {
        what: what.into(),
        detail,
    }
}

/// Capability bits of `/proc/self/status` `CapEff`.
const CAP_NET_ADMIN: u32 = 12;
const CAP_SYS_ADMIN: u32 = 21;
const CAP_BPF: u32 = 39;

/// Whether the effective capabilities `cap_eff` (the `CapEff` mask) allow loading and
/// attaching a tc program: `CAP_BPF` (or `CAP_SYS_ADMIN`) and `CAP_NET_ADMIN`. `Err` names
/// what is missing.
pub fn check_caps(cap_eff: u64) -> Result<(), String> {
    let has = |c: u32| cap_eff & (1u64 << c) != 0;
    let bpf = has(CAP_BPF) || has(CAP_SYS_ADMIN);
    let net = has(CAP_NET_ADMIN);
    match (bpf, net) {
        (true, true) => Ok(()),
        (false, true) => Err("no CAP_BPF".into()),
        (true, false) => Err("no CAP_NET_ADMIN".into()),
        (false, false) => Err("no CAP_BPF and CAP_NET_ADMIN".into()),
    }
}

/// The `CapEff` mask of a `/proc/PID/status` text.
pub fn parse_cap_eff(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
}

/// Checks what the eBPF source needs before trying: privilege and kernel BTF.
pub fn preflight() -> Result<(), BpfError> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| BpfError::Privilege(format!("cannot read /proc/self/status: {e}")))?;
    let caps = parse_cap_eff(&status)
        .ok_or_else(|| BpfError::Privilege("no CapEff in /proc/self/status".into()))?;
    check_caps(caps).map_err(BpfError::Privilege)?;
    if !std::path::Path::new("/sys/kernel/btf/vmlinux").exists() {
        return Err(BpfError::NoBtf);
    }
    Ok(())
}

/// The loaded and attached program with its maps. Dropping it detaches everything.
pub struct BinProbe {
    ebpf: Ebpf,
    ring: RingBuf<MapData>,
    state: PerCpuHashMap<MapData, u32, [u8; BIN_SIZE]>,
    keys: Vec<u32>,
    width_ns: u64,
    offset_ns: u64,
    /// Per (cpu, key): the last bin taken from `state` with what it had, so the ring's copy
    /// of it is not counted twice (only what came after is).
    taken: HashMap<(u32, u32), Taken>,
    /// Attached through tcx links (false: clsact filters, removed on drop).
    pub tcx: bool,
    clsact: Vec<(String, Dir)>,
}

fn attach_type(d: Dir) -> TcAttachType {
    match d {
        Dir::Ingress => TcAttachType::Ingress,
        Dir::Egress => TcAttachType::Egress,
    }
}

fn kernel_has_tcx() -> bool {
    aya::util::KernelVersion::current().is_ok_and(|v| v >= aya::util::KernelVersion::new(6, 6, 0))
}

impl BinProbe {
    /// Loads the program with bins of `width_ns` and attaches it to both hooks of each
    /// interface `(ifindex, name)`.
    pub fn open(ifaces: &[(u32, String)], width_ns: u64) -> Result<Self, BpfError> {
        if ifaces.len() * 2 > MAX_KEYS {
            return Err(BpfError::TooMany);
        }
        let width = width_ns.clamp(MIN_WIDTH_NS, MAX_WIDTH_NS);
        let offset = realtime_ns().wrapping_sub(monotonic_ns());
        let mut ebpf = EbpfLoader::new()
            .override_global("width_ns", &width, true)
            .override_global("offset_ns", &offset, true)
            .load(OBJECT)
            .map_err(|e| kerr("load the eBPF object", &e))?;
        let ncpu = aya::util::nr_cpus().map_err(|(_, e)| kerr("count possible CPUs", &e))?;
        let mut state: PerCpuHashMap<MapData, u32, [u8; BIN_SIZE]> = PerCpuHashMap::try_from(
            ebpf.take_map("state")
                .ok_or_else(|| kerr("find map state", &std::fmt::Error))?,
        )
        .map_err(|e| kerr("open map state", &e))?;
        let mut keys = Vec::new();
        for (ifindex, _) in ifaces {
            for d in [0u32, 1] {
                let key = ifindex * 2 + d;
                let zero = PerCpuValues::try_from(vec![[0u8; BIN_SIZE]; ncpu])
                    .map_err(|e| kerr("size per-CPU values", &e))?;
                state
                    .insert(key, zero, 0)
                    .map_err(|e| kerr("fill map state", &e))?;
                keys.push(key);
            }
        }
        let ring = RingBuf::try_from(
            ebpf.take_map("closed")
                .ok_or_else(|| kerr("find map closed", &std::fmt::Error))?,
        )
        .map_err(|e| kerr("open ring buffer closed", &e))?;
        let tcx = kernel_has_tcx();
        let mut probe = Self {
            ebpf,
            ring,
            state,
            keys,
            width_ns: width,
            offset_ns: offset,
            taken: HashMap::new(),
            tcx,
            clsact: Vec::new(),
        };
        for (name, dir) in PROGRAMS {
            let prog: &mut SchedClassifier = probe
                .ebpf
                .program_mut(name)
                .ok_or_else(|| kerr(format!("find program {name}"), &std::fmt::Error))?
                .try_into()
                .map_err(|e| kerr(format!("open program {name}"), &e))?;
            prog.load()
                .map_err(|e| kerr(format!("load program {name}"), &e))?;
            for (_, ifname) in ifaces {
                if tcx {
                    prog.attach_with_options(
                        ifname,
                        attach_type(dir),
                        TcAttachOptions::TcxOrder(LinkOrder::default()),
                    )
                    .map_err(|e| kerr(format!("attach {name} to {ifname} (tcx)"), &e))?;
                } else {
                    // A filter left by a run that was killed goes first; an existing clsact
                    // qdisc is used as it is.
                    let _ = aya::programs::tc::qdisc_detach_program(ifname, attach_type(dir), name);
                    let _ = aya::programs::tc::qdisc_add_clsact(ifname);
                    prog.attach_with_options(
                        ifname,
                        attach_type(dir),
                        TcAttachOptions::Netlink(NlOptions {
                            priority: CLSACT_PRIORITY,
                            ..NlOptions::default()
                        }),
                    )
                    .map_err(|e| kerr(format!("attach {name} to {ifname} (clsact)"), &e))?;
                    probe.clsact.push((ifname.clone(), dir));
                }
            }
        }
        Ok(probe)
    }

    /// The bin width in ns.
    pub fn width_ns(&self) -> u64 {
        self.width_ns
    }

    /// The bin of `CLOCK_MONOTONIC` time `mono_ns`.
    pub fn bin_of(&self, mono_ns: u64) -> u64 {
        mono_ns.wrapping_add(self.offset_ns) / self.width_ns
    }

    /// `CLOCK_MONOTONIC` time of bin edge `edge` (the start of bin `edge`).
    pub fn edge_mono(&self, edge: u64) -> u64 {
        (edge * self.width_ns).wrapping_sub(self.offset_ns)
    }

    /// Program ids (for `bpftool prog show id N`), as `(name, id)`.
    pub fn program_ids(&self) -> Vec<(String, u32)> {
        self.ebpf
            .programs()
            .filter_map(|(n, p)| Some((n.to_string(), p.info().ok()?.id())))
            .collect()
    }

    /// Appends to `out` every bin closed before bin number `horizon` that was not drained
    /// before: the ring buffer's records, then the bins still open in the per-CPU map.
    pub fn drain(&mut self, horizon: u64, out: &mut Vec<RawBin>) -> Result<(), BpfError> {
        while let Some(item) = self.ring.next() {
            if let Some(b) = parse_bin(&item) {
                let k = (b.cpu, b.ifindex * 2 + u32::from(b.dir == Dir::Egress));
                if let Some(b) = after_taken(self.taken.get(&k), b) {
                    out.push(b);
                }
            }
        }
        for key in &self.keys {
            let vals = match self.state.get(key, 0) {
                Ok(v) => v,
                Err(e) => return Err(kerr("read map state", &e)),
            };
            for (cpu, v) in vals.iter().enumerate() {
                let Some(b) = parse_bin(v) else { continue };
                let cpu = u32::try_from(cpu).unwrap_or(u32::MAX);
                if let Some(b) = take_from_state(&mut self.taken, *key, cpu, b, horizon) {
                    out.push(b);
                }
            }
        }
        Ok(())
    }
}

/// What a read `b` of CPU `cpu`'s open bin for `key` in the per-CPU state map adds, keeping
/// in `taken` what was taken so that the ring's copy of the same bin counts only what came
/// after. Nothing for a bin still open (at or after `horizon`), and nothing, with `taken`
/// left alone, for a read that raced the program resetting the entry for a new bin (bin 0,
/// or another CPU's or key's fields; [`parse_bin`] already leaves out one with no packets): taking such a read would make the ring's
/// copy of the bin before it look new, and count that bin twice.
pub(crate) fn take_from_state(
    taken: &mut HashMap<(u32, u32), Taken>,
    key: u32,
    cpu: u32,
    b: RawBin,
    horizon: u64,
) -> Option<RawBin> {
    let own = b.cpu == cpu && b.ifindex * 2 + u32::from(b.dir == Dir::Egress) == key;
    if b.bin >= horizon || b.bin == 0 || !own {
        return None;
    }
    let prev = taken.insert((cpu, key), Taken::of(&b));
    after_taken(prev.as_ref(), b)
}

/// What was taken of a bin from the per-CPU map: its number, bytes, packets and flows.
#[derive(Debug, Clone, PartialEq)]
pub struct Taken {
    /// Bin number.
    pub bin: u64,
    /// Bytes taken.
    pub bytes: u64,
    /// Packets taken.
    pub packets: u64,
    /// Flows taken, with their bytes.
    pub flows: Vec<(FlowKey, u64)>,
}

impl Taken {
    /// What `b` holds now.
    pub fn of(b: &RawBin) -> Self {
        Taken {
            bin: b.bin,
            bytes: b.bytes,
            packets: b.packets,
            flows: b.flows.clone(),
        }
    }
}

/// What of bin `b` was not taken yet, given what was taken of it from the per-CPU map (the
/// last bin taken from that CPU): all of it for another bin; for the same bin, the bytes and
/// packets counted since (a packet stamped before it was taken, counted after) with the flows
/// that grew since, by what they grew (every packet adds to one entry of the flow table, so
/// a remainder always names the flow it came from); nothing when nothing came since.
pub fn after_taken(taken: Option<&Taken>, mut b: RawBin) -> Option<RawBin> {
    match taken {
        Some(t) if t.bin == b.bin => {
            if b.packets <= t.packets {
                return None;
            }
            b.bytes = b.bytes.saturating_sub(t.bytes);
            b.packets -= t.packets;
            b.flows = b
                .flows
                .iter()
                .filter_map(|&(k, v)| {
                    let before = t.flows.iter().find(|(f, _)| *f == k).map_or(0, |f| f.1);
                    (v > before).then_some((k, v - before))
                })
                .collect();
            b.flows.sort_by_key(|f| std::cmp::Reverse(f.1));
            Some(b)
        }
        _ => Some(b),
    }
}

impl Drop for BinProbe {
    fn drop(&mut self) {
        // tcx links go with the program's file descriptors; clsact filters are removed here.
        for (ifname, dir) in &self.clsact {
            for (name, d) in PROGRAMS {
                if d == *dir {
                    let _ = aya::programs::tc::qdisc_detach_program(ifname, attach_type(d), name);
                }
            }
        }
    }
}

/// Run time (ns) and run count of the loaded programs with these ids, as `(id, run_time_ns,
/// run_cnt)`: counted only while statistics are enabled ([`enable_run_stats`]).
pub fn program_run_stats(ids: &[u32]) -> Vec<(u32, u64, u64)> {
    aya::programs::loaded_programs()
        .filter_map(Result::ok)
        .filter(|p| ids.contains(&p.id()))
        .map(|p| (p.id(), p.run_time().as_nanos() as u64, p.run_count()))
        .collect()
}

/// Turns on the kernel's run-time statistics of BPF programs for as long as the returned
/// descriptor is open (`BPF_ENABLE_STATS`: scoped to the descriptor, no sysctl changed).
pub fn enable_run_stats() -> Result<std::os::fd::OwnedFd, BpfError> {
    aya::sys::enable_stats(aya::sys::Stats::RunTime)
        .map_err(|e| kerr("enable BPF run-time statistics", &e))
}

/// `CLOCK_REALTIME` now, ns.
pub fn realtime_ns() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Realtime);
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

/// `CLOCK_MONOTONIC` now, ns (the clock of `bpf_ktime_get_ns`).
pub fn monotonic_ns() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(bin: u64, key: u32, cpu: u32, bytes: u64, packets: u64) -> Vec<u8> {
        let mut b = vec![0u8; BIN_SIZE];
        b[0..8].copy_from_slice(&bin.to_ne_bytes());
        b[8..16].copy_from_slice(&bytes.to_ne_bytes());
        b[16..24].copy_from_slice(&packets.to_ne_bytes());
        b[24..28].copy_from_slice(&key.to_ne_bytes());
        b[28..32].copy_from_slice(&cpu.to_ne_bytes());
        b
    }

    #[test]
    fn records_decode_with_their_flows() {
        let mut rec = record(77, 2 * 5 + 1, 3, 1500, 2);
        let f = &mut rec[32 + FLOW_SIZE..32 + 2 * FLOW_SIZE];
        f[10] = 0xff;
        f[11] = 0xff;
        f[12..16].copy_from_slice(&[10, 0, 0, 1]);
        f[26] = 0xff;
        f[27] = 0xff;
        f[28..32].copy_from_slice(&[10, 0, 0, 2]);
        f[32..34].copy_from_slice(&4000u16.to_ne_bytes());
        f[34..36].copy_from_slice(&5000u16.to_ne_bytes());
        f[36] = 17;
        f[40..48].copy_from_slice(&900u64.to_ne_bytes());
        let b = parse_bin(&rec).expect("record");
        assert_eq!((b.bin, b.ifindex, b.dir, b.cpu), (77, 5, Dir::Egress, 3));
        assert_eq!((b.bytes, b.packets), (1500, 2));
        assert_eq!(b.flows.len(), 1, "empty slots are skipped");
        let (k, n) = b.flows[0];
        assert_eq!(n, 900);
        assert_eq!(k.src, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(k.dst, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)));
        assert_eq!((k.sport, k.dport, k.proto), (4000, 5000, 17));
        // Empty or short records are not bins.
        assert!(parse_bin(&record(1, 2, 0, 0, 0)).is_none());
        assert!(parse_bin(&rec[..BIN_SIZE - 1]).is_none());
        let ing = parse_bin(&record(1, 2 * 9, 0, 60, 1)).expect("record");
        assert_eq!((ing.ifindex, ing.dir), (9, Dir::Ingress));
    }

    #[test]
    fn a_bin_taken_from_the_map_is_not_counted_twice() {
        let b = parse_bin(&record(10, 4, 1, 3000, 3)).expect("record");
        let taken = |bin, bytes, packets| Taken {
            bin,
            bytes,
            packets,
            flows: vec![],
        };
        assert_eq!(after_taken(None, b.clone()), Some(b.clone()));
        assert_eq!(
            after_taken(Some(&taken(9, 3000, 3)), b.clone()),
            Some(b.clone())
        );
        assert_eq!(after_taken(Some(&taken(10, 3000, 3)), b.clone()), None);
        let more = after_taken(Some(&taken(10, 2000, 2)), b).expect("the rest");
        assert_eq!((more.bin, more.bytes, more.packets), (10, 1000, 1));
    }

    /// A read of the state map that raced the program resetting the entry (the bin number
    /// or the CPU already zeroed, or no packets yet) is left out and does not replace what
    /// was taken: the ring's copy of the bin taken before is then not counted twice.
    #[test]
    fn a_state_read_that_raced_a_reset_does_not_count_the_ring_copy_twice() {
        let mut taken = HashMap::new();
        let horizon = 100;
        let bin = |bin, cpu, packets| {
            parse_bin(&record(bin, 4, cpu, 1000 * packets, packets)).expect("bin")
        };
        // Drain 1 takes bin 10 of CPU 1 from the state map: 3 packets.
        let got = take_from_state(&mut taken, 4, 1, bin(10, 1, 3), horizon).expect("taken");
        assert_eq!(got.packets, 3);
        // Drain 2 reads the entry while the program resets it for bin 11: the bin number
        // zeroed with the old counts, or the CPU zeroed. Both left out (a read with no
        // packets does not even parse).
        assert_eq!(parse_bin(&record(10, 4, 1, 0, 0)), None);
        for torn in [bin(0, 1, 3), bin(10, 0, 3)] {
            assert_eq!(take_from_state(&mut taken, 4, 1, torn, horizon), None);
        }
        // Another key's fields in this key's slot: left out.
        assert_eq!(
            take_from_state(&mut taken, 6, 1, bin(10, 1, 3), horizon),
            None
        );
        // The ring's copy of bin 10, as the program closed it: nothing new.
        assert_eq!(after_taken(taken.get(&(1, 4)), bin(10, 1, 3)), None);
        // A bin still open is not taken.
        assert_eq!(
            take_from_state(&mut taken, 4, 1, bin(100, 1, 1), horizon),
            None
        );
        assert_eq!(taken[&(1, 4)].bin, 10);
    }

    /// The rest of a bin counted after it was taken names the flows it came from, by what
    /// they added: a burst made of it alone still has its top flow.
    #[test]
    fn the_rest_of_a_taken_bin_keeps_the_flows_that_grew() {
        let flow = |dport| FlowKey {
            src: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            dst: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
            sport: 4000,
            dport,
            proto: 17,
        };
        let mut b = parse_bin(&record(10, 4, 1, 5000, 5)).expect("record");
        b.flows = vec![(flow(9001), 3000), (flow(9002), 2000)];
        let t = Taken {
            bin: 10,
            bytes: 4000,
            packets: 4,
            flows: vec![(flow(9001), 3000), (flow(9002), 1000)],
        };
        let rest = after_taken(Some(&t), b.clone()).expect("the rest");
        assert_eq!((rest.bytes, rest.packets), (1000, 1));
        assert_eq!(rest.flows, vec![(flow(9002), 1000)]);
        // A flow that entered the table after the take (space-saving replaced an entry)
        // counts from zero.
        b.flows = vec![(flow(9001), 3000), (flow(7), 1100)];
        let rest = after_taken(Some(&t), b).expect("the rest");
        assert_eq!(rest.flows, vec![(flow(7), 1100)]);
    }

    #[test]
    fn capabilities_name_what_is_missing() {
        let net = 1u64 << CAP_NET_ADMIN;
        let bpf = 1u64 << CAP_BPF;
        assert_eq!(check_caps(net | bpf), Ok(()));
        assert_eq!(check_caps(net | (1 << CAP_SYS_ADMIN)), Ok(()));
        assert_eq!(check_caps(net), Err("no CAP_BPF".into()));
        assert_eq!(check_caps(bpf), Err("no CAP_NET_ADMIN".into()));
        assert_eq!(check_caps(0), Err("no CAP_BPF and CAP_NET_ADMIN".into()));
        assert_eq!(
            parse_cap_eff("Name:\tx\nCapEff:\t000001ffffffffff\n"),
            Some(0x1ff_ffff_ffff)
        );
        assert_eq!(parse_cap_eff("Name:\tx\n"), None);
    }
}
