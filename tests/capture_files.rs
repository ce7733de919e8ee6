//! Golden tests of the capture reader and analysis on small files the tests write byte by
//! byte: pcap (micro- and nanosecond, both byte orders) and pcapng (power-of-ten and
//! power-of-two `if_tsresol`, several sections and interfaces, blocks to skip). Every
//! expected value is worked out by hand below from the packet list.

#[path = "fixtures/capture/build.rs"]
mod build;

use build::{Pkt, Resol, Section, Tcp, ACK, RST};
use dpuctl::capture::analyze::{Analysis, Bin, Options};
use dpuctl::capture::decode::{decode, FlowKey};
use dpuctl::capture::reader::{linktype, Reader};
use dpuctl::capture::{
    analyze_bytes, analyze_input, analyze_inputs, analyze_merged, FileResult, Format, Input,
    RateSource, Stream,
};
use dpuctl::monitor::microburst::BurstConfig;

/// A whole second, so that bins of 10 us start at T0.
const T0: u64 = 1_700_000_000 * 1_000_000_000;
const A: [u8; 4] = [10, 0, 0, 1];
const B: [u8; 4] = [10, 0, 0, 2];
const C: [u8; 4] = [10, 0, 0, 3];
const D: [u8; 4] = [10, 0, 0, 4];

fn tcp(sport: u16, dport: u16, seq: u32, flags: u8, window: u16) -> Tcp {
    Tcp {
        sport,
        dport,
        seq,
        flags,
        window,
    }
}

/// The scenario, at microsecond offsets from T0 (plus `shift_ns`):
///
/// | us  | flow                         | frame | note                               |
/// |-----|------------------------------|-------|------------------------------------|
/// | 0   | udp 10.0.0.1:1000>10.0.0.2:2000 | 500 | bin 0: 500 B (40% of 1G)          |
/// | 12  | udp same                     | 400   | bin 1: 800 B (64%) hot             |
/// | 15  | udp same                     | 400   |                                    |
/// | 21  | tcp 10.0.0.3:40000>10.0.0.4:80 seq 1000, 646 B | 700 | bin 2: 700 B (56%) hot |
/// | 35  | arp                          | 60    | bin 3: cold -> burst 1 = bins 1-2  |
/// | 100 | tcp seq 1646, 646 B          | 700   | bin 10                             |
/// | 105 | tcp seq 1000, 646 B (again)  | 700   | retransmission; bin 10: 1400 B 112%|
/// | 130 | tcp seq 3000, 100 B          | 154   | ahead: hole 2292..3000; bin 13     |
/// | 131 | tcp seq 2292, 100 B          | 154   | fills the hole: out of order       |
/// | 140 | tcp RST seq 3100, window 0   | 54    | reset (not a zero window); bin 14  |
/// | 141 | tcp 10.0.0.4:80>10.0.0.3:40000 window 0 | 54 | zero window (other flow) |
///
/// Line rate 1 Gbit/s: a 10 us bin carries 1250 B at line rate; hot above 625 B.
fn scenario(shift_ns: u64) -> Vec<Pkt> {
    let at = |us: u64, data: Vec<u8>| Pkt {
        ts_ns: T0 + us * 1_000 + shift_ns,
        data,
    };
    vec![
        at(0, build::udp4(A, 1000, B, 2000, 500)),
        at(12, build::udp4(A, 1000, B, 2000, 400)),
        at(15, build::udp4(A, 1000, B, 2000, 400)),
        at(21, build::tcp4(C, D, tcp(40000, 80, 1000, ACK, 500), 646)),
        at(35, build::arp()),
        at(100, build::tcp4(C, D, tcp(40000, 80, 1646, ACK, 500), 646)),
        at(105, build::tcp4(C, D, tcp(40000, 80, 1000, ACK, 500), 646)),
        at(130, build::tcp4(C, D, tcp(40000, 80, 3000, ACK, 500), 100)),
        at(131, build::tcp4(C, D, tcp(40000, 80, 2292, ACK, 500), 100)),
        at(
            140,
            build::tcp4(C, D, tcp(40000, 80, 3100, RST | ACK, 0), 0),
        ),
        at(141, build::tcp4(D, C, tcp(80, 40000, 5000, ACK, 0), 0)),
    ]
}

fn opts(rate: u64) -> Options {
    Options {
        resolution_ns: 10_000,
        burst: BurstConfig {
            line_rate_bps: rate,
            threshold: 0.5,
        },
        top: 10,
        keep_bins: true,
    }
}

fn run(bytes: &[u8], line_rate: Option<u64>) -> FileResult {
    let r = analyze_bytes(bytes, line_rate, None, opts, |_, _| {}).expect("file header");
    assert!(r.error.is_none(), "unexpected error: {:?}", r.error);
    r
}

/// Checks everything the scenario table above implies. `first_ns` is checked by the caller
/// (it depends on the timestamp precision of the format).
fn check_scenario(a: &Analysis) {
    let bin = |us: u64, bytes, packets| Bin {
        start_ns: T0 + us * 1_000,
        bytes,
        packets,
    };
    assert_eq!(a.packets, 11);
    assert_eq!(
        a.bytes,
        500 + 400 + 400 + 700 + 60 + 700 + 700 + 154 + 154 + 54 + 54
    );
    assert_eq!(
        a.bins.as_deref().expect("bins kept"),
        &[
            bin(0, 500, 1),
            bin(10, 800, 2),
            bin(20, 700, 1),
            bin(30, 60, 1),
            bin(100, 1400, 2),
            bin(130, 308, 2),
            bin(140, 108, 2),
        ]
    );
    assert_eq!(a.nonempty_bins, 7);
    let peak = a.peak_bin.expect("peak bin");
    assert_eq!((peak.start_ns, peak.bytes), (T0 + 100_000, 1400));

    assert_eq!(a.bursts.len(), 2, "{:#?}", a.bursts);
    let b = &a.bursts[0];
    assert_eq!(
        (b.start_ns, b.duration_ns, b.bytes, b.packets, b.intervals),
        (T0 + 10_000, 20_000, 1500, 3, 2)
    );
    assert!((b.peak_util - 0.64).abs() < 1e-9, "{}", b.peak_util);
    assert!((b.mean_util - 0.60).abs() < 1e-9, "{}", b.mean_util);
    let b = &a.bursts[1];
    assert_eq!(
        (b.start_ns, b.duration_ns, b.bytes, b.packets, b.intervals),
        (T0 + 100_000, 10_000, 1400, 2, 1)
    );
    assert!((b.peak_util - 1.12).abs() < 1e-9, "{}", b.peak_util);
    assert_eq!(a.burst_summary.count, 2);
    assert_eq!(a.burst_summary.longest_ns, 20_000);
    assert_eq!(a.burst_summary.histogram, [0, 2, 0, 0, 0, 0]);

    // Gaps (us): 12 3 6 14 65 5 25 1 9 1.
    let g = a.inter_arrival.expect("inter-arrival");
    assert_eq!(g.count, 10);
    assert_eq!(g.min, 1_000);
    assert_eq!(g.max, 65_000);
    // 0.1 ns: the 2^-30 s clock of one pcapng test puts the last packet 1 ns early.
    assert!((g.mean - 14_100.0).abs() <= 0.1 + 1e-9, "{}", g.mean);
    // Sorted: 1 1 3 5 6 9 12 14 25 65 -> p50 = 5th = 6 us, p99 = 10th = 65 us; the histogram
    // reports within 1/128 below.
    assert!(
        g.p50 <= 6_000 && g.p50 as f64 >= 6_000.0 * (1.0 - 1.0 / 128.0),
        "{}",
        g.p50
    );
    assert!(
        g.p99 <= 65_000 && g.p99 as f64 >= 65_000.0 * (1.0 - 1.0 / 128.0),
        "{}",
        g.p99
    );

    assert_eq!(a.flow_count, 4);
    let by_bytes: Vec<(&str, u64, u64)> = a
        .top_by_bytes
        .iter()
        .map(|f| (f.flow.as_str(), f.packets, f.bytes))
        .collect();
    assert_eq!(
        by_bytes,
        [
            ("10.0.0.3:40000 > 10.0.0.4:80", 6, 2462),
            ("10.0.0.1:1000 > 10.0.0.2:2000", 3, 1300),
            ("arp", 1, 60),
            ("10.0.0.4:80 > 10.0.0.3:40000", 1, 54),
        ]
    );
    let by_packets: Vec<&str> = a.top_by_packets.iter().map(|f| f.flow.as_str()).collect();
    assert_eq!(
        by_packets,
        [
            "10.0.0.3:40000 > 10.0.0.4:80",
            "10.0.0.1:1000 > 10.0.0.2:2000",
            "arp",
            "10.0.0.4:80 > 10.0.0.3:40000",
        ]
    );
    let f = &a.top_by_bytes[0];
    assert_eq!(f.proto, "tcp");
    assert_eq!(
        (
            f.tcp.retransmissions,
            f.tcp.out_of_order,
            f.tcp.zero_windows,
            f.tcp.resets
        ),
        (1, 1, 0, 1)
    );
    assert_eq!(
        (
            a.tcp.retransmissions,
            a.tcp.out_of_order,
            a.tcp.zero_windows,
            a.tcp.resets
        ),
        (1, 1, 1, 1)
    );
    assert_eq!(a.timestamps_backwards, 0);
}

#[test]
fn pcap_microseconds_little_endian() {
    let r = run(
        &build::pcap(&scenario(0), false, false),
        Some(1_000_000_000),
    );
    assert_eq!(r.format, Format::Pcap);
    assert_eq!(r.rate_source, RateSource::Flag);
    check_scenario(&r.analysis);
    assert_eq!(r.analysis.first_ns, T0);
    assert_eq!(r.analysis.duration_ns, 141_000);
}

#[test]
fn pcap_nanoseconds_keeps_sub_microsecond_time() {
    let r = run(
        &build::pcap(&scenario(700), true, false),
        Some(1_000_000_000),
    );
    check_scenario(&r.analysis);
    assert_eq!(r.analysis.first_ns, T0 + 700);
    assert_eq!(r.analysis.last_ns, T0 + 141_700);
}

#[test]
fn pcap_big_endian_micro_and_nano() {
    let r = run(&build::pcap(&scenario(0), false, true), Some(1_000_000_000));
    check_scenario(&r.analysis);
    assert_eq!(r.analysis.first_ns, T0);
    let r = run(
        &build::pcap(&scenario(250), true, true),
        Some(1_000_000_000),
    );
    check_scenario(&r.analysis);
    assert_eq!(r.analysis.first_ns, T0 + 250);
}

#[test]
fn pcapng_decimal_tsresol_and_if_speed() {
    // 10^-7 s ticks (100 ns); if_speed 1 Gbit/s gives the line rate when no flag does.
    let pkts = scenario(700);
    let file = build::pcapng(&[Section {
        be: false,
        ifaces: vec![(Resol::Dec(7), Some(1_000_000_000))],
        pkts: pkts.into_iter().map(|p| (0, p)).collect(),
        noise: true,
    }]);
    let r = run(&file, None);
    assert_eq!(r.format, Format::Pcapng);
    assert_eq!(r.rate_source, RateSource::File);
    assert_eq!(r.analysis.line_rate_bps, 1_000_000_000);
    check_scenario(&r.analysis);
    assert_eq!(r.analysis.first_ns, T0 + 700);
}

#[test]
fn pcapng_two_sections_both_byte_orders_and_binary_tsresol() {
    // Section 1 little-endian, 10^-9 ticks; section 2 big-endian with two interfaces, the
    // packets on the second one in 2^-30 s ticks (~0.93 ns: within 1 ns of the original).
    let pkts = scenario(700);
    let (first, second) = pkts.split_at(5);
    let file = build::pcapng(&[
        Section {
            be: false,
            ifaces: vec![(Resol::Dec(9), None)],
            pkts: first.iter().cloned().map(|p| (0, p)).collect(),
            noise: false,
        },
        Section {
            be: true,
            ifaces: vec![(Resol::Dec(6), None), (Resol::Bin(30), None)],
            pkts: second.iter().cloned().map(|p| (1, p)).collect(),
            noise: true,
        },
    ]);
    let r = run(&file, Some(1_000_000_000));
    check_scenario(&r.analysis);
    assert_eq!(r.analysis.first_ns, T0 + 700);
    assert!(
        r.analysis.last_ns.abs_diff(T0 + 141_700) <= 1,
        "{}",
        r.analysis.last_ns
    );
    // Interfaces are numbered file-wide: section 2's second interface is the third.
    let mut rd = Reader::new(&file).expect("header");
    let mut ifaces = Vec::new();
    while let Some(p) = rd.next_packet().expect("packet") {
        ifaces.push(p.iface);
    }
    assert_eq!(ifaces, [0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2]);
}

#[test]
fn without_a_line_rate_a_file_gets_the_documented_default() {
    let r = run(&build::pcap(&scenario(0), false, false), None);
    assert_eq!(r.rate_source, RateSource::Default);
    assert_eq!(r.analysis.line_rate_bps, 10_000_000_000);
    // At 10 Gbit/s nothing in the scenario reaches half the line.
    assert!(r.analysis.bursts.is_empty());
}

#[test]
fn simple_packet_blocks_are_cut_to_their_original_length() {
    let frame = build::udp4(A, 1, B, 2, 61); // 61 bytes: padded to 64 in the block
    let mut file = build::pcapng(&[Section {
        be: true,
        ifaces: vec![(Resol::Dec(6), None)],
        pkts: vec![],
        noise: false,
    }]);
    file.extend(build::spb(&frame, true));
    let mut rd = Reader::new(&file).expect("header");
    let p = rd.next_packet().expect("spb").expect("a packet");
    assert_eq!(p.data, &frame[..]);
    assert_eq!(p.origlen, 61);
    assert_eq!(p.linktype, linktype::ETHERNET);
    assert!(rd.next_packet().expect("end").is_none());
}

#[test]
fn flows_of_vlan_ipv6_and_cooked_captures() {
    let src6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    let dst6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
    let f = build::tcp6_vlan(src6, dst6, 100, tcp(443, 5555, 77, ACK, 0), 10);
    let (k, t) = decode(linktype::ETHERNET, &f);
    assert_eq!(k.to_string(), "[2001:db8::1]:443 > [2001:db8::2]:5555");
    assert_eq!(k.proto_name(), "tcp");
    let t = t.expect("tcp fields");
    assert_eq!((t.seq, t.window, t.payload), (77, 0, 10));

    // The same IPv4 UDP packet behind a Linux cooked header (SLL: 16 bytes, protocol at 14)
    // and an SLL2 header (20 bytes, protocol first).
    let eth = build::udp4(A, 53, B, 3333, 100);
    let mut sll = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00];
    sll.extend_from_slice(&eth[14..]);
    let mut sll2 = vec![
        0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0,
    ];
    sll2.extend_from_slice(&eth[14..]);
    for (lt, d) in [
        (linktype::ETHERNET, &eth),
        (linktype::LINUX_SLL, &sll),
        (linktype::LINUX_SLL2, &sll2),
    ] {
        assert_eq!(
            decode(lt, d).0.to_string(),
            "10.0.0.1:53 > 10.0.0.2:3333",
            "link type {lt}"
        );
    }
    // Non-IP traffic is grouped by ethertype; headers cut short degrade, never fail.
    assert_eq!(
        decode(linktype::ETHERNET, &build::arp()).0,
        FlowKey::ether(0x0806)
    );
    assert_eq!(
        decode(linktype::ETHERNET, &eth[..20]).0.to_string(),
        "ipv4 (undecoded)"
    );
    let (k, t) = decode(linktype::ETHERNET, &f[..60]);
    assert_eq!(k.to_string(), "2001:db8::1 > 2001:db8::2");
    assert!(t.is_none());
}

/// Many packets of sizes up to jumbo frames, over `ms` milliseconds: several windows of a
/// streamed file, records split at every kind of window boundary.
fn many(n: u64, ms: u64) -> Vec<Pkt> {
    (0..n)
        .map(|i| Pkt {
            ts_ns: T0 + i * ms * 1_000_000 / n,
            data: build::udp4(
                A,
                1000 + (i % 7) as u16,
                B,
                4791,
                60 + (i * 7919 % 9000) as usize,
            ),
        })
        .collect()
}

#[test]
fn streamed_files_read_like_files_in_memory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pkts = many(4000, 50);
    // A 6 MiB record (a pcapng block larger than the window) forces the window to grow.
    let mut big = pkts.clone();
    big.push(Pkt {
        ts_ns: T0 + 60_000_000,
        data: build::udp4(A, 1, B, 2, 6 << 20),
    });
    let files = [
        ("a.pcap", build::pcap(&pkts, true, false)),
        (
            "b.pcapng",
            build::pcapng(&[Section {
                be: true,
                ifaces: vec![(Resol::Dec(9), Some(25_000_000_000))],
                pkts: big.into_iter().map(|p| (0, p)).collect(),
                noise: true,
            }]),
        ),
    ];
    let mut streams = Vec::new();
    for (name, bytes) in &files {
        assert!(bytes.len() > 8 << 20, "{name}: {} bytes", bytes.len());
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        let want = analyze_bytes(bytes, None, None, opts, |_, _| {}).expect("header");
        let stream = Stream::open(&path).expect("open");
        let got =
            analyze_input(Input::Stream(stream), None, None, opts, |_, _| {}).expect("header");
        assert_eq!(got.error, None, "{name}");
        assert_eq!(got.analysis, want.analysis, "{name}");
        assert_eq!(got.rate_source, want.rate_source, "{name}");
        streams.push(path);
    }
    // Merged: the same as merging the bytes.
    let bufs: Vec<&[u8]> = files.iter().map(|(_, b)| b.as_slice()).collect();
    let want = analyze_merged(&bufs, Some(25_000_000_000), None, opts, |_, _| {}).expect("merge");
    let inputs = streams
        .iter()
        .map(|p| Input::Stream(Stream::open(p).expect("open")))
        .collect();
    let got = analyze_inputs(inputs, Some(25_000_000_000), None, opts, |_, _| {}).expect("merge");
    assert_eq!(got.analysis, want.analysis);
    assert!(got.errors.is_empty());
}

#[test]
fn a_file_truncated_while_it_is_read_ends_in_an_error_at_its_new_end() {
    // A mapped file truncated under the reader died of SIGBUS; read in windows, the bytes
    // past the new end are simply not there.
    let dir = tempfile::tempdir().expect("tempdir");
    let pkts = many(4000, 50);
    let bytes = build::pcap(&pkts, true, false);
    let path = dir.path().join("t.pcap");
    std::fs::write(&path, &bytes).expect("write");
    let stream = Stream::open(&path).expect("open");
    // The first window is read; now the file loses its second half, mid-record.
    let cut = bytes.len() / 2 + 3;
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("open for truncate")
        .set_len(cut as u64)
        .expect("truncate");
    let r = analyze_input(Input::Stream(stream), None, None, opts, |_, _| {}).expect("header");
    let Some(dpuctl::capture::ReadError::Truncated {
        offset, need, have, ..
    }) = r.error
    else {
        panic!("want a truncation, got {:?}", r.error);
    };
    // Every packet before the record the cut falls in was analyzed, none after.
    let mut pos = 24u64;
    let mut before = 0u64;
    for p in &pkts {
        let len = 16 + p.data.len() as u64;
        if pos + len > cut as u64 {
            break;
        }
        pos += len;
        before += 1;
    }
    assert_eq!(offset, pos);
    assert_eq!(have, cut as u64 - pos);
    assert!(need > have);
    assert_eq!(r.analysis.packets, before);
}
