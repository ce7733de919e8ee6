//! procfs readers: `/proc/interrupts`, IRQ affinity, `/proc/net/softnet_stat`, host name and
//! kernel release.
//!
//! The parsers take text so that they can be tested on any layout (256-CPU interrupt tables,
//! softnet rows from old and new kernels) without such a machine.

use std::io;

use crate::model::{CpuSet, SoftnetStat};

use super::sysfs::{read_attr, with_path};
use super::SysRoot;

/// One numbered row of `/proc/interrupts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IrqLine {
    /// IRQ number.
    pub irq: u32,
    /// Interrupt counts, one per column of the header, i.e. per online CPU in the header's
    /// order (offline CPUs have no column, so index `i` is CPU `i` only when all are online).
    pub per_cpu: Vec<u64>,
    /// The CPU of each column of `per_cpu`, from the header (`CPU0 CPU2 ...`); empty without
    /// a header, where column `i` is taken as CPU `i`.
    pub cpus: Vec<u32>,
    /// Interrupt chip, e.g. `IR-PCI-MSIX-0000:3b:00.0`, `IO-APIC`, `GICv3`.
    pub chip: String,
    /// Action name(s), e.g. `eth2-TxRx-1`; shared IRQs list every action, `, `-separated, as
    /// the kernel prints them. Empty when no handler is installed.
    pub name: String,
}

impl IrqLine {
    /// Interrupts handled so far, summed over CPUs.
    pub fn total(&self) -> u64 {
        self.per_cpu.iter().sum()
    }

    /// The CPUs that handled this IRQ and how often, in CPU order, zero counts left out.
    pub fn cpu_counts(&self) -> Vec<(u32, u64)> {
        self.per_cpu
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(i, n)| {
                let cpu = self
                    .cpus
                    .get(i)
                    .copied()
                    .unwrap_or_else(|| u32::try_from(i).unwrap_or(u32::MAX));
                (cpu, *n)
            })
            .collect()
    }

    /// The names of the actions sharing this IRQ (one for MSI/MSI-X vectors).
    pub fn actions(&self) -> impl Iterator<Item = &str> {
        self.name
            .split(", ")
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }
}

/// Whitespace-separated tokens of `s` with their byte offsets.
fn tokens(s: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        if c.is_whitespace() {
            if let Some(st) = start.take() {
                out.push((st, &s[st..i]));
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(st) = start {
        out.push((st, &s[st..]));
    }
    out
}

/// True for the columns `show_interrupts()` (kernel/irq/proc.c) prints between the chip and
/// the action names: the hardware IRQ number (`27`), optionally fused with the flow handler
/// name (`1-edge`, `9-fasteoi`, or `-edge` when there is no IRQ domain), and `Level`/`Edge`
/// with `CONFIG_GENERIC_IRQ_SHOW_LEVEL` (arm64).
fn is_hwirq_or_type(tok: &str) -> bool {
    if tok == "Level" || tok == "Edge" {
        return true;
    }
    let digits = tok.bytes().take_while(u8::is_ascii_digit).count();
    let rest = &tok[digits..];
    if rest.is_empty() {
        return digits > 0;
    }
    rest.strip_prefix('-')
        .is_some_and(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_lowercase()))
}

/// Parses `/proc/interrupts` text. Only numbered rows are returned (not `NMI`, `LOC`, ...).
///
/// The header lists one `CPUn` column per online CPU; every numbered row has that many
/// counts, then the chip name, the hardware IRQ and flow columns, and finally the action
/// names, which are kept whole (shared IRQs read `ehci_hcd:usb1, i801_smbus`). Without a
/// header, all leading numeric columns are taken as counts.
pub fn parse_interrupts(text: &str) -> Vec<IrqLine> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty()).peekable();
    let mut cpus = Vec::new();
    let ncpu = match lines.peek() {
        Some(first) if first.split_whitespace().all(|t| t.starts_with("CPU")) => {
            let n = first.split_whitespace().count();
            cpus = first
                .split_whitespace()
                .map_while(|t| t.strip_prefix("CPU")?.parse().ok())
                .collect();
            if cpus.len() != n {
                cpus.clear();
            }
            lines.next();
            Some(n)
        }
        _ => None,
    };
    let mut out = Vec::new();
    for line in lines {
        let Some((label, rest)) = line.split_once(':') else {
            continue;
        };
        let Ok(irq) = label.trim().parse::<u32>() else {
            continue;
        };
        let toks = tokens(rest);
        let mut i = 0;
        let mut per_cpu = Vec::with_capacity(ncpu.unwrap_or(0));
        while i < toks.len() && ncpu.is_none_or(|n| per_cpu.len() < n) {
            match toks[i].1.parse::<u64>() {
                Ok(v) => per_cpu.push(v),
                Err(_) => break,
            }
            i += 1;
        }
        let chip = toks.get(i).map_or("", |t| t.1).to_string();
        if i < toks.len() {
            i += 1;
        }
        let mut skipped = 0;
        while skipped < 2 && i < toks.len() && is_hwirq_or_type(toks[i].1) {
            i += 1;
            skipped += 1;
        }
        let name = toks
            .get(i)
            .map_or("", |(off, _)| rest[*off..].trim_end())
            .to_string();
        out.push(IrqLine {
            irq,
            per_cpu,
            cpus: cpus.clone(),
            chip,
            name,
        });
    }
    out
}

/// The numbered rows of `/proc/interrupts`.
pub fn interrupts(root: &SysRoot) -> io::Result<Vec<IrqLine>> {
    let path = root.proc("interrupts");
    let text = std::fs::read_to_string(&path).map_err(with_path(&path))?;
    Ok(parse_interrupts(&text))
}

/// The CPUs an IRQ may run on (`irq/N/smp_affinity_list`) and the ones the kernel actually
/// chose (`irq/N/effective_affinity_list`, only with `CONFIG_GENERIC_IRQ_EFFECTIVE_AFF_MASK`);
/// see Documentation/core-api/irq/irq-affinity.rst. `None` where a file is absent.
pub fn irq_affinity(root: &SysRoot, irq: u32) -> (Option<CpuSet>, Option<CpuSet>) {
    let dir = root.proc(format!("irq/{irq}"));
    let list = |f: &str| {
        read_attr(&dir.join(f))
            .ok()
            .and_then(|s| CpuSet::parse_list(&s).ok())
    };
    (list("smp_affinity_list"), list("effective_affinity_list"))
}

/// Parses `/proc/net/softnet_stat`: one row per online CPU, hexadecimal columns
/// (`softnet_seq_show()` in net/core/net-procfs.c):
///
/// | column | meaning                                   | since      |
/// |--------|-------------------------------------------|------------|
/// | 0      | processed                                 |            |
/// | 1      | dropped (backlog over `netdev_max_backlog`) |          |
/// | 2      | `time_squeeze`                            |            |
/// | 3-8    | unused (were fastroute, `cpu_collision`)  |            |
/// | 9      | `received_rps`                            | 2.6.35     |
/// | 10     | `flow_limit_count`                        | 3.11       |
/// | 11     | backlog length                            | 5.10       |
/// | 12     | CPU index                                 | 5.10       |
/// | 13, 14 | input and process queue lengths           | 6.1        |
///
/// Offline CPUs have no row, so the row number is the CPU only on kernels without the index
/// column. Malformed rows are skipped.
pub fn parse_softnet(text: &str) -> Vec<SoftnetStat> {
    let mut out = Vec::new();
    for (row, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        let cols: Option<Vec<u64>> = line
            .split_whitespace()
            .map(|c| u64::from_str_radix(c, 16).ok())
            .collect();
        let Some(cols) = cols.filter(|c| c.len() >= 3) else {
            continue;
        };
        let col = |i: usize| cols.get(i).copied();
        out.push(SoftnetStat {
            cpu: col(12).map_or(row as u32, |c| c as u32),
            processed: cols[0],
            dropped: cols[1],
            time_squeeze: cols[2],
            received_rps: col(9).unwrap_or(0),
            flow_limit: col(10).unwrap_or(0),
            backlog_len: col(11),
        });
    }
    out
}

/// Per-CPU softnet statistics of this node.
pub fn softnet(root: &SysRoot) -> io::Result<Vec<SoftnetStat>> {
    let path = root.proc("net/softnet_stat");
    let text = std::fs::read_to_string(&path).map_err(with_path(&path))?;
    Ok(parse_softnet(&text))
}

/// The host name (`sys/kernel/hostname`; UTS namespace of the reader).
pub fn hostname(root: &SysRoot) -> io::Result<String> {
    let path = root.proc("sys/kernel/hostname");
    read_attr(&path).map_err(with_path(&path))
}

/// The kernel release (`sys/kernel/osrelease`, what `uname -r` prints).
pub fn kernel_release(root: &SysRoot) -> io::Result<String> {
    let path = root.proc("sys/kernel/osrelease");
    read_attr(&path).map_err(with_path(&path))
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;
    use std::path::Path;

    use proptest::prelude::*;

    use super::*;

    fn fixture() -> SysRoot {
        let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/two-socket");
        SysRoot::new(base.join("sys"), base.join("proc"))
    }

    const X86: &str = "           CPU0       CPU1       CPU2       CPU3       
  0:         44          0          0          0   IO-APIC   2-edge      timer
  8:          0          0          1          0   IO-APIC   8-edge      rtc0
 16:         12         34          0          0   IO-APIC  16-fasteoi   ehci_hcd:usb1, i801_smbus
 45:          0         12          0          7  IR-PCI-MSIX-0000:3b:00.0    1-edge      eth2-TxRx-1
 46:          5          0          0          0  IR-PCI-MSI 1572864-edge      eth3
 47:          0          0          0          0  IR-PCI-MSIX-0000:3b:00.0    3-edge
 48:          1          2          3          4  PCI-MSI-edge      eth0-rx-0
NMI:          0          0          0          0   Non-maskable interrupts
LOC:    1234567    2345678    3456789    4567890   Local timer interrupts
ERR:          0
MIS:          0
";

    #[test]
    fn interrupts_x86() {
        let v = parse_interrupts(X86);
        assert_eq!(
            v.iter().map(|l| l.irq).collect::<Vec<_>>(),
            [0, 8, 16, 45, 46, 47, 48]
        );
        assert_eq!(v[0].name, "timer");
        assert_eq!(v[0].chip, "IO-APIC");
        assert_eq!(v[0].per_cpu, [44, 0, 0, 0]);
        assert_eq!(v[2].name, "ehci_hcd:usb1, i801_smbus");
        assert_eq!(
            v[2].actions().collect::<Vec<_>>(),
            ["ehci_hcd:usb1", "i801_smbus"]
        );
        assert_eq!(v[3].chip, "IR-PCI-MSIX-0000:3b:00.0");
        assert_eq!(v[3].name, "eth2-TxRx-1");
        assert_eq!(v[3].per_cpu, [0, 12, 0, 7]);
        assert_eq!(v[3].total(), 19);
        assert_eq!(v[4].chip, "IR-PCI-MSI");
        assert_eq!(v[4].name, "eth3");
        // An allocated vector without a handler has no action name.
        assert_eq!(v[5].name, "");
        // Old kernels fuse the flow type into the chip name and print no hwirq.
        assert_eq!(v[6].chip, "PCI-MSI-edge");
        assert_eq!(v[6].name, "eth0-rx-0");
    }

    #[test]
    fn interrupts_arm64() {
        let text = "           CPU0       CPU1
 11:      12345      67890     GICv3  27 Level     arch_timer
 14:          0          0     GICv3  30 Level     kvm guest ptimer
 60:        100          3   ITS-MSI 524288 Edge      eth0-rx-0
IPI0:       10         20       Rescheduling interrupts
";
        let v = parse_interrupts(text);
        assert_eq!(v.len(), 3);
        assert_eq!(v[0].name, "arch_timer");
        assert_eq!(v[0].total(), 80235);
        assert_eq!(v[1].name, "kvm guest ptimer");
        assert_eq!(v[2].chip, "ITS-MSI");
        assert_eq!(v[2].name, "eth0-rx-0");
    }

    #[test]
    fn interrupts_without_header() {
        let v = parse_interrupts(" 45:  3  4  IO-APIC  2-edge  timer\n");
        assert_eq!(v[0].per_cpu, [3, 4]);
        assert_eq!(v[0].name, "timer");
    }

    #[test]
    fn per_cpu_counts_name_the_cpus_of_the_header() {
        // CPU 1 offline: it has no column, the second column is CPU 2.
        let v = parse_interrupts(
            "       CPU0       CPU2       CPU3\n\
             121:   5   0   7  IR-PCI-MSIX-0000:81:00.0  1-edge  mlx5_comp0\n",
        );
        assert_eq!(v[0].cpus, [0, 2, 3]);
        assert_eq!(v[0].cpu_counts(), [(0, 5), (3, 7)]);
        let bare = parse_interrupts(" 45:  0  4  IO-APIC  2-edge  timer\n");
        assert_eq!(
            bare[0].cpu_counts(),
            [(1, 4)],
            "without a header, column i is CPU i"
        );
    }

    /// A 256-CPU table as the kernel prints it ("%*d: ", then "%10u " per CPU).
    fn table(ncpu: usize, rows: &[(u32, Vec<u64>, &str, &str)]) -> String {
        let width = format!("{}", rows.iter().map(|r| r.0).max().unwrap_or(0)).len();
        let mut s = " ".repeat(width + 2);
        for c in 0..ncpu {
            let _ = write!(s, "CPU{c:<7}");
        }
        s.push('\n');
        for (irq, counts, chip, name) in rows {
            let _ = write!(s, "{irq:>width$}: ");
            for c in counts {
                let _ = write!(s, "{c:>10} ");
            }
            let _ = writeln!(s, " {chip:>8}  {irq}-edge      {name}");
        }
        s
    }

    #[test]
    fn interrupts_256_cpus() {
        let counts: Vec<u64> = (0..256u64).map(|c| c * 1000 + 7).collect();
        let text = table(
            256,
            &[
                (
                    120,
                    counts.clone(),
                    "IR-PCI-MSIX-0000:81:00.0",
                    "mlx5_comp0@pci:0000:81:00.0",
                ),
                (
                    1021,
                    vec![0; 256],
                    "IR-PCI-MSIX-0000:81:00.0",
                    "mlx5_comp255@pci:0000:81:00.0",
                ),
            ],
        );
        assert!(text.lines().nth(1).expect("row").len() > 2816);
        let v = parse_interrupts(&text);
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].irq, 120);
        assert_eq!(v[0].per_cpu.len(), 256);
        assert_eq!(v[0].per_cpu[255], 255_007);
        assert_eq!(v[0].total(), counts.iter().sum::<u64>());
        assert_eq!(v[0].chip, "IR-PCI-MSIX-0000:81:00.0");
        assert_eq!(v[0].name, "mlx5_comp0@pci:0000:81:00.0");
        assert_eq!(v[1].irq, 1021);
        assert_eq!(v[1].name, "mlx5_comp255@pci:0000:81:00.0");
    }

    proptest! {
        #[test]
        fn interrupts_any_cpu_count(
            counts in proptest::collection::vec(0u64..5_000_000_000, 1..300),
            irq in 0u32..100_000,
            q in 0u32..512,
        ) {
            let name = format!("eth9-TxRx-{q}");
            let text = table(counts.len(), &[(irq, counts.clone(), "PCI-MSIX-0000:00:03.0", &name)]);
            let v = parse_interrupts(&text);
            prop_assert_eq!(v.len(), 1);
            prop_assert_eq!(v[0].irq, irq);
            prop_assert_eq!(&v[0].per_cpu, &counts);
            prop_assert_eq!(&v[0].name, &name);
            prop_assert_eq!(v[0].chip.as_str(), "PCI-MSIX-0000:00:03.0");
        }

        #[test]
        fn softnet_any_row(vals in proptest::collection::vec(0u32..=u32::MAX, 13), cpu in 0u32..8192) {
            let mut vals = vals;
            vals[12] = cpu;
            let line = vals.iter().map(|v| format!("{v:08x}")).collect::<Vec<_>>().join(" ");
            let s = parse_softnet(&line);
            prop_assert_eq!(s.len(), 1);
            prop_assert_eq!(s[0].cpu, cpu);
            prop_assert_eq!(s[0].processed, u64::from(vals[0]));
            prop_assert_eq!(s[0].dropped, u64::from(vals[1]));
            prop_assert_eq!(s[0].time_squeeze, u64::from(vals[2]));
            prop_assert_eq!(s[0].received_rps, u64::from(vals[9]));
            prop_assert_eq!(s[0].flow_limit, u64::from(vals[10]));
            prop_assert_eq!(s[0].backlog_len, Some(u64::from(vals[11])));
        }
    }

    #[test]
    fn softnet_old_layout() {
        // 11 columns (3.11 to 5.9): no backlog, no CPU index; the row is the CPU.
        let text = "\
0000a000 00000002 00000003 00000000 00000000 00000000 00000000 00000000 00000000 00000004 00000005
0000b000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000
";
        let v = parse_softnet(text);
        assert_eq!(v.len(), 2);
        assert_eq!(
            v[0],
            SoftnetStat {
                cpu: 0,
                processed: 0xa000,
                dropped: 2,
                time_squeeze: 3,
                received_rps: 4,
                flow_limit: 5,
                backlog_len: None,
            }
        );
        assert_eq!(v[1].cpu, 1);
        assert_eq!(v[1].processed, 0xb000);
    }

    #[test]
    fn softnet_new_layouts() {
        // 13 columns (5.10+) with CPU 1 offline: the index column says 2 on the second row.
        let text = "\
00000010 00000000 00000001 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000
00000020 00000003 00000000 00000000 00000000 00000000 00000000 00000000 00000000 0000000a 00000000 00000002 00000002
";
        let v = parse_softnet(text);
        assert_eq!(v.len(), 2);
        assert_eq!((v[0].cpu, v[0].processed, v[0].time_squeeze), (0, 16, 1));
        assert_eq!((v[1].cpu, v[1].dropped, v[1].received_rps), (2, 3, 10));
        assert_eq!(v[1].backlog_len, Some(2));
        // 15 columns (6.1+), as on this kernel.
        let text = "00001821 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000005 00000007 00000002 00000003\n";
        let v = parse_softnet(text);
        assert_eq!(
            (v[0].cpu, v[0].processed, v[0].backlog_len),
            (7, 0x1821, Some(5))
        );
        // Garbage rows are skipped, not misread.
        assert!(parse_softnet("zz 00 00\n00 01\n").is_empty());
    }

    #[test]
    fn fixture_procfs() {
        let root = fixture();
        let lines = interrupts(&root).expect("interrupts");
        assert!(lines.iter().all(|l| l.per_cpu.len() == 16));
        let async0 = lines.iter().find(|l| l.irq == 120).expect("irq 120");
        assert_eq!(async0.name, "mlx5_async0@pci:0000:81:00.0");
        assert_eq!(async0.chip, "IR-PCI-MSIX-0000:81:00.0");
        let shared = lines.iter().find(|l| l.irq == 16).expect("irq 16");
        assert_eq!(shared.name, "ehci_hcd:usb1, i801_smbus");

        let (aff, eff) = irq_affinity(&root, 127);
        assert_eq!(aff.map(|c| c.to_list()).as_deref(), Some("0-3,8-11"));
        assert_eq!(eff.map(|c| c.to_list()).as_deref(), Some("0"));
        assert_eq!(irq_affinity(&root, 9999), (None, None));

        let s = softnet(&root).expect("softnet");
        assert_eq!(s.len(), 16);
        assert_eq!(
            s.iter().map(|r| r.cpu).collect::<Vec<_>>(),
            (0..16).collect::<Vec<_>>()
        );
        assert_eq!(s[5].dropped, 42);
        assert_eq!(s[12].time_squeeze, 7);
        assert_eq!(s[0].processed, 0x0001_0000);
        assert_eq!(s[4].received_rps, 0x300);
        assert_eq!(s[4].backlog_len, Some(0));

        assert_eq!(hostname(&root).expect("hostname"), "gpu-node-07");
        assert_eq!(
            kernel_release(&root).expect("osrelease"),
            "6.8.0-45-generic"
        );
    }

    #[test]
    fn live_procfs_parses() {
        let root = SysRoot::live();
        if let Ok(text) = std::fs::read_to_string("/proc/interrupts") {
            let v = parse_interrupts(&text);
            assert!(!v.is_empty());
            let ncpu = v[0].per_cpu.len();
            assert!(v.iter().all(|l| l.per_cpu.len() == ncpu));
        }
        if let Ok(v) = softnet(&root) {
            assert!(!v.is_empty());
        }
    }
}
