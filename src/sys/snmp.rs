//! Protocol counters of `/proc/net/snmp` and `/proc/net/netstat` (TCP retransmits, resets,
//! checksum errors, UDP buffer overflows).
//!
//! Both files are pairs of lines: a header line `Tcp: RtoAlgorithm RtoMin ...` and a value
//! line `Tcp: 1 200 ...` with the same prefix. The counters are per network namespace.

use std::collections::BTreeMap;
use std::io;

use super::SysRoot;

/// Counters keyed `Group.Name`, e.g. `Tcp.RetransSegs`, `TcpExt.TCPTimeouts`.
pub type ProtoCounters = BTreeMap<String, u64>;

/// Parses one file of header/value line pairs into `out`. Negative values (`Tcp.MaxConn` is
/// -1) and lines without a matching header are skipped.
pub fn parse_into(text: &str, out: &mut ProtoCounters) {
    let mut lines = text.lines();
    while let (Some(head), Some(vals)) = (lines.next(), lines.next()) {
        let (Some((group, names)), Some((vgroup, values))) =
            (head.split_once(':'), vals.split_once(':'))
        else {
            continue;
        };
        if group != vgroup {
            continue;
        }
        for (name, value) in names.split_whitespace().zip(values.split_whitespace()) {
            if let Ok(v) = value.parse::<u64>() {
                out.insert(format!("{group}.{name}"), v);
            }
        }
    }
}

/// Reads `net/snmp` and `net/netstat` under `root`'s procfs. A missing `netstat` (old or
/// trimmed kernels) leaves its counters out; a missing `snmp` is an error.
pub fn read(root: &SysRoot) -> io::Result<ProtoCounters> {
    let mut out = ProtoCounters::new();
    let snmp = root.proc("net/snmp");
    let text = std::fs::read_to_string(&snmp)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", snmp.display())))?;
    parse_into(&text, &mut out);
    if let Ok(text) = std::fs::read_to_string(root.proc("net/netstat")) {
        parse_into(&text, &mut out);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_of_lines_become_group_dot_name() {
        let text = "Ip: Forwarding DefaultTTL\nIp: 1 64\n\
                    Tcp: RtoAlgorithm MaxConn RetransSegs InCsumErrors\nTcp: 1 -1 42 3\n\
                    Udp: InDatagrams RcvbufErrors\nUdp: 10 2\n";
        let mut m = ProtoCounters::new();
        parse_into(text, &mut m);
        assert_eq!(m.get("Tcp.RetransSegs"), Some(&42));
        assert_eq!(m.get("Tcp.InCsumErrors"), Some(&3));
        assert_eq!(m.get("Udp.RcvbufErrors"), Some(&2));
        assert_eq!(m.get("Ip.DefaultTTL"), Some(&64));
        assert!(
            !m.contains_key("Tcp.MaxConn"),
            "negative values are skipped"
        );
    }

    #[test]
    fn mismatched_groups_are_skipped() {
        let mut m = ProtoCounters::new();
        parse_into("TcpExt: A B\nIpExt: 1 2\n", &mut m);
        assert!(m.is_empty());
    }

    #[test]
    fn reads_both_files_under_the_root() {
        let tmp = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(tmp.path().join("net")).expect("mkdir");
        std::fs::write(tmp.path().join("net/snmp"), "Tcp: OutRsts\nTcp: 5\n").expect("write");
        std::fs::write(
            tmp.path().join("net/netstat"),
            "TcpExt: TCPTimeouts\nTcpExt: 7\n",
        )
        .expect("write");
        let root = SysRoot::new(tmp.path(), tmp.path());
        let m = read(&root).expect("read");
        assert_eq!(m.get("Tcp.OutRsts"), Some(&5));
        assert_eq!(m.get("TcpExt.TCPTimeouts"), Some(&7));
        assert!(read(&SysRoot::new("/nonexistent", "/nonexistent")).is_err());
    }
}
