//! Property tests of the reader on corrupted and truncated files: no panic, and either a
//! clean end, or an error with a byte offset inside the file while the results of what was
//! read are kept.

#[path = "fixtures/capture/build.rs"]
mod build;

use build::{Pkt, Resol, Section, Tcp, ACK};
use dpuctl::capture::analyze::Options;
use dpuctl::capture::{analyze_bytes, ReadError, Reader};
use dpuctl::monitor::microburst::BurstConfig;
use proptest::prelude::*;

fn packets() -> Vec<Pkt> {
    (0..12u64)
        .map(|i| Pkt {
            ts_ns: 1_000_000_000 + i * 3_700,
            data: if i % 3 == 0 {
                build::tcp4(
                    [10, 0, 0, 1],
                    [10, 0, 0, 2],
                    Tcp {
                        sport: 1,
                        dport: 2,
                        seq: i as u32 * 10,
                        flags: ACK,
                        window: 9,
                    },
                    10,
                )
            } else if i % 3 == 1 {
                build::udp4([10, 0, 0, 1], 7, [10, 0, 0, 9], 8, 60 + i as usize)
            } else {
                build::arp()
            },
        })
        .collect()
}

/// The valid files the mutations start from.
fn originals() -> Vec<Vec<u8>> {
    let p = packets();
    vec![
        build::pcap(&p, false, false),
        build::pcap(&p, true, true),
        build::pcapng(&[
            Section {
                be: false,
                ifaces: vec![(Resol::Dec(9), Some(1_000_000_000))],
                pkts: p[..6].iter().cloned().map(|x| (0, x)).collect(),
                noise: true,
            },
            Section {
                be: true,
                ifaces: vec![(Resol::Bin(20), None), (Resol::Dec(6), None)],
                pkts: p[6..].iter().cloned().map(|x| (1, x)).collect(),
                noise: false,
            },
        ]),
    ]
}

fn opts(rate: u64) -> Options {
    Options {
        resolution_ns: 1_000,
        burst: BurstConfig {
            line_rate_bps: rate,
            threshold: 0.5,
        },
        top: 5,
        keep_bins: false,
    }
}

/// Reads everything; returns the packets read and the error, checking the error's offset.
fn read_all(bytes: &[u8]) -> (usize, Option<ReadError>) {
    let mut r = match Reader::new(bytes) {
        Ok(r) => r,
        Err(e) => {
            assert!(e.offset() <= bytes.len() as u64);
            return (0, Some(e));
        }
    };
    let mut n = 0;
    loop {
        match r.next_packet() {
            Ok(Some(p)) => {
                n += 1;
                assert!(p.data.len() <= bytes.len());
                assert!(p.origlen as usize >= p.data.len());
            }
            Ok(None) => return (n, None),
            Err(e) => {
                assert!(
                    e.offset() < bytes.len() as u64,
                    "{e} beyond {}",
                    bytes.len()
                );
                assert!(!e.to_string().is_empty());
                // After an error the reader stays finished.
                assert_eq!(r.next_packet(), Ok(None));
                return (n, Some(e));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any prefix of a valid file: a clean end only at a block boundary (then with fewer
    /// packets), otherwise an error at an offset inside the file; the analysis of the same
    /// bytes agrees and flags the result.
    #[test]
    fn truncated_files_end_with_an_error_or_at_a_boundary(which in 0usize..3, cut in 0usize..4000) {
        let orig = &originals()[which];
        let cut = cut.min(orig.len());
        let bytes = &orig[..cut];
        let (n, err) = read_all(bytes);
        let full = read_all(orig).0;
        prop_assert_eq!(full, 12);
        if cut < orig.len() {
            prop_assert!(n < full || err.is_some(), "a cut file lost no packet and raised no error");
        }
        if which < 2 && err.is_none() {
            // A clean end of a cut pcap is exactly at a record boundary.
            let bounds = build::pcap_record_offsets(&packets());
            prop_assert!(cut == orig.len() || bounds.contains(&cut), "clean end at {}", cut);
            prop_assert_eq!(n, bounds.iter().filter(|&&b| b < cut).count());
        }
        if let Ok(res) = analyze_bytes(bytes, None, None, opts, |_, _| {}) {
            prop_assert_eq!(res.analysis.packets as usize, n);
            prop_assert_eq!(res.error.is_some(), err.is_some());
        } else {
            prop_assert_eq!(n, 0);
            prop_assert!(err.is_some());
        }
    }

    /// Random bytes overwritten anywhere: never a panic, and an error always names an offset
    /// inside the file.
    #[test]
    fn corrupted_files_never_panic(
        which in 0usize..3,
        edits in proptest::collection::vec((0usize..4000, any::<u8>()), 1..12),
        word in proptest::option::of((0usize..4000, any::<u32>())),
    ) {
        let mut bytes = originals()[which].clone();
        let len = bytes.len();
        for (at, v) in edits {
            bytes[at % len] = v;
        }
        // Lengths and magic numbers are words: overwrite a whole one sometimes.
        if let Some((at, v)) = word {
            let at = (at % len) & !3;
            if at + 4 <= len {
                bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
            }
        }
        let (n, _) = read_all(&bytes);
        if let Ok(res) = analyze_bytes(&bytes, None, None, opts, |_, _| {}) {
            prop_assert_eq!(res.analysis.packets as usize, n);
        }
    }
}
