//! Protocol counters of `/proc/net/snmp` and `/proc/net/netstat` (TCP retransmits, resets,
//! checksum errors, UDP buffer overflows).
//!
//! Both files are pairs of lines: a header line `Tcp: RtoAlgorithm RtoMin ...` and a value
//! line `Tcp: 1 200 ...` with the same prefix. `/proc/net/snmp6` has one counter a line
//! (`Udp6RcvbufErrors 3`), kept as `Udp6.RcvbufErrors`. The counters are per network
//! namespace.

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

/// Groups of `/proc/net/snmp6`, by the prefix of their counter names.
const SNMP6_GROUPS: &[&str] = &["UdpLite6", "Udp6", "Icmp6", "Ip6"];

/// Parses `/proc/net/snmp6` (`Udp6RcvbufErrors    3` per line) into `out` as
/// `Udp6.RcvbufErrors`; lines of other groups (`Icmp6InType1`) keep their group too.
pub fn parse_snmp6_into(text: &str, out: &mut ProtoCounters) {
    for line in text.lines() {
        let mut it = line.split_whitespace();
        let (Some(name), Some(value)) = (it.next(), it.next()) else {
            continue;
        };
        let Ok(v) = value.parse::<u64>() else {
            continue;
        };
        if let Some((g, rest)) = SNMP6_GROUPS
            .iter()
            .find_map(|g| name.strip_prefix(g).map(|r| (g, r)))
        {
            out.insert(format!("{g}.{rest}"), v);
        }
    }
}

/// Reads `net/snmp`, `net/netstat` and `net/snmp6` under `root`'s procfs. A missing
/// `netstat` (old or trimmed kernels) or `snmp6` (IPv6 disabled) leaves its counters out; a
/// missing `snmp` is an error.
pub fn read(root: &SysRoot) -> io::Result<ProtoCounters> {
    let mut out = ProtoCounters::new();
    let snmp = root.proc("net/snmp");
    let text = std::fs::read_to_string(&snmp)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", snmp.display())))?;
    parse_into(&text, &mut out);
    if let Ok(text) = std::fs::read_to_string(root.proc("net/netstat")) {
        parse_into(&text, &mut out);
    }
    if let Ok(text) = std::fs::read_to_string(root.proc("net/snmp6")) {
        parse_snmp6_into(&text, &mut out);
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
    fn snmp6_lines_get_their_group() {
        let mut m = ProtoCounters::new();
        parse_snmp6_into(
            "Ip6InReceives                   \t12\nUdp6RcvbufErrors                \t3\n\
             UdpLite6InErrors 4\nbogus 5\nUdp6InErrors x\n",
            &mut m,
        );
        assert_eq!(m.get("Udp6.RcvbufErrors"), Some(&3));
        assert_eq!(m.get("UdpLite6.InErrors"), Some(&4));
        assert_eq!(m.get("Ip6.InReceives"), Some(&12));
        assert_eq!(m.len(), 3);
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
