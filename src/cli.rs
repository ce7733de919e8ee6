//! Command-line definition (clap derive only; handlers live in `cmd`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use clap_complete::engine::{ArgValueCandidates, CompletionCandidate};

/// NIC tuning and diagnostics for Linux nodes.
///
/// dpuctl reads everything about a node's network interfaces (link, rings, channels,
/// coalescing, pause frames, offloads, queues with RPS/XPS, IRQs with their NUMA locality,
/// error counters, temperatures and network sysctls) straight from netlink, ethtool, sysfs and
/// procfs, and shows it in one view. It applies tuning profiles with a dry-run plan and a way
/// back, checks nodes against them, watches drop counters and sub-millisecond microbursts
/// live, analyzes packet captures, and walks the latency/throughput troubleshooting tree.
/// Every read command also works offline on a snapshot taken on another node (`--from FILE`).
#[derive(Debug, Parser)]
#[command(
    name = "dpuctl",
    version,
    propagate_version = true,
    max_term_width = 100
)]
#[command(after_help = "Examples:\n  \
    dpuctl show                       every interface, one section each\n  \
    dpuctl show eth2 --format json    one interface, for scripts\n  \
    dpuctl snapshot -o node7.json     record this node\n  \
    dpuctl show --from node7.json     read the record anywhere\n  \
    dpuctl tune throughput --dry-run  the plan of a profile; nothing changes\n  \
    dpuctl watch eth2 eth3            live drops, rates and microbursts\n  \
    dpuctl troubleshoot               guided: latency or throughput?\n\n\
    Conventions (the same in every command):\n  \
    IFACE...              interfaces as arguments, or -i/--iface IFACE (repeatable), as in\n                        \
    tcpdump -i; -i never means anything else\n  \
    -f/--format           state (show, profile, tune, check, history, capture):\n                        \
    table|json|yaml; streams (stats): table|jsonl; reports\n                        \
    (troubleshoot): text|json|markdown\n  \
    -q/--quiet            no notes or warnings on stderr (check: no report either, the exit\n                        \
    code tells); errors always print\n  \
    -v/--verbose          also how a profile was resolved, per interface (blocks, policies)\n  \
    DURATION              with a unit: 100us, 250ms, 5s, 2m (--confirm-timeout and --window\n                        \
    also take plain seconds)\n  \
    --interval DURATION   how often a stream prints (stats)\n  \
    --burst-threshold T   share of the line rate that makes a burst: 50% or 0.5 (stats,\n                        \
    watch, capture)\n  \
    --threshold M=LIMIT   an alert on a metric (stats, watch)\n  \
    -r FILE, -w FILE      capture reads / writes a pcap file, as in tcpdump\n  \
    Tables never wrap when stdout is not a terminal: one record per line for grep and awk.\n\n\
    Exit codes: 0 success, 1 drift or problems found (check, troubleshoot), 2 error (bad\n\
    input, missing interface, no privilege), 3 troubleshoot inconclusive (no problem found,\n\
    but without a counter window the checks of drops and rates could not run).")]
pub struct Cli {
    /// Global options.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Folds the `-i/--iface` flags into the interface arguments, so that handlers see one
    /// list whichever spelling was used.
    pub fn normalize(&mut self) {
        fn fold(list: &mut Vec<String>, flags: &mut Vec<String>) {
            list.append(flags);
        }
        match &mut self.command {
            Command::Show(a) => fold(&mut a.ifaces, &mut a.iface_flag),
            Command::Tune(a) => fold(&mut a.ifaces, &mut a.iface_flag),
            Command::Check(a) => fold(&mut a.ifaces, &mut a.iface_flag),
            Command::Watch(a) => fold(&mut a.ifaces, &mut a.iface_flag),
            Command::Stats(a) => fold(&mut a.ifaces, &mut a.iface_flag),
            Command::Troubleshoot(a) => fold(&mut a.ifaces, &mut a.iface_flag),
            Command::Capture(a) if a.live.iface.is_none() => {
                a.live.iface = a.live.iface_flag.take();
            }
            _ => {}
        }
    }
}

/// Completion candidates for an IFACE: the interfaces of this node (`$DPUCTL_SYSFS` or
/// /sys, `class/net`).
fn iface_candidates() -> ArgValueCandidates {
    ArgValueCandidates::new(|| {
        let sysfs = std::env::var_os("DPUCTL_SYSFS").map_or_else(|| "/sys".into(), PathBuf::from);
        let root = crate::sys::SysRoot::new(sysfs, "/proc");
        crate::sys::sysfs::interfaces(&root)
            .unwrap_or_default()
            .into_iter()
            .map(CompletionCandidate::new)
            .collect()
    })
}

/// Completion candidates for a PROFILE: the shipped profiles and those of the profile
/// directory (`$DPUCTL_PROFILE_DIR` or /etc/dpuctl/profiles.d), with their descriptions.
fn profile_candidates() -> ArgValueCandidates {
    ArgValueCandidates::new(|| {
        let dir = std::env::var_os("DPUCTL_PROFILE_DIR")
            .map_or_else(|| "/etc/dpuctl/profiles.d".into(), PathBuf::from);
        let list = crate::profile::Catalog::new(dir)
            .list()
            .or_else(|_| crate::profile::Catalog::shipped_only().list())
            .unwrap_or_default();
        let mut seen = std::collections::BTreeSet::new();
        list.into_iter()
            .filter(|e| seen.insert(e.name.clone()))
            .map(|e| CompletionCandidate::new(e.name).help(Some(e.description.into())))
            .collect()
    })
}

/// Options every command takes.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Read sysfs from this directory instead of /sys (a fixture tree or another root).
    ///
    /// With a root other than /sys and /proc, netlink and ethtool are not asked (they describe
    /// the running kernel, not the tree): link attributes and counters then come from the
    /// tree's files and ethtool settings show as n/a.
    #[arg(long, global = true, env = "DPUCTL_SYSFS", value_name = "DIR")]
    pub sysfs_root: Option<PathBuf>,
    /// Read procfs from this directory instead of /proc.
    #[arg(long, global = true, env = "DPUCTL_PROCFS", value_name = "DIR")]
    pub procfs_root: Option<PathBuf>,
    /// Where tune keeps its journal, lock and history.
    #[arg(
        long,
        global = true,
        env = "DPUCTL_STATE_DIR",
        value_name = "DIR",
        default_value = "/var/lib/dpuctl"
    )]
    pub state_dir: PathBuf,
    /// Directory of user profiles, searched before the shipped ones.
    #[arg(
        long,
        global = true,
        env = "DPUCTL_PROFILE_DIR",
        value_name = "DIR",
        default_value = "/etc/dpuctl/profiles.d"
    )]
    pub profile_dir: PathBuf,
    /// Print no notes or warnings on stderr (errors still print); with `check`, no report
    /// either: the exit code tells.
    #[arg(long, short = 'q', global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Also print the notes of how a profile was resolved, per interface (the blocks each
    /// interface uses or matched none of, what policies and `max` came to).
    #[arg(long, short = 'v', global = true)]
    pub verbose: bool,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show interfaces: link, rings, channels, coalescing, pause, offloads, queues, IRQs,
    /// counters, temperatures and network sysctls.
    ///
    /// Knobs a driver does not support show as "n/a"; JSON keeps the reason as
    /// {"n/a": "reason"}. The loopback interface is left out unless named or --all is given.
    #[command(after_help = "Examples:\n  \
        dpuctl show\n  \
        dpuctl show eth2 eth3\n  \
        dpuctl show --format json | jq '.interfaces[].rings'\n  \
        dpuctl show --from node7.json eth2")]
    Show(ShowArgs),
    /// Write the whole node state plus a counter sample to a JSON file (or stdout).
    ///
    /// Every read command accepts --from FILE to work on the snapshot instead of this node.
    Snapshot(SnapshotArgs),
    /// List, show and validate tuning profiles (`dpuctl profile --help` documents the format).
    #[command(subcommand, after_long_help = crate::profile::FORMAT_HELP)]
    Profile(ProfileCommand),
    /// Apply a tuning profile: show the plan, ask, journal the old values, apply, and roll
    /// back on any failure.
    #[command(after_help = "Examples:\n  \
        dpuctl tune throughput --dry-run           the plan only, nothing changes\n  \
        dpuctl tune gpu-inference --iface eth2 --yes\n  \
        dpuctl tune latency --confirm-timeout 120  reverted unless `dpuctl confirm` runs\n\n\
        Exit codes: 0 applied (or nothing to do), 2 error (the node is left as it was).")]
    Tune(TuneArgs),
    /// Compare the node with a profile: exit 0 compliant, 1 drift, 2 error.
    #[command(after_help = "Examples:\n  \
        dpuctl check throughput --quiet && echo compliant\n  \
        dpuctl check ./site.yaml --format json\n\n\
        Every setting is compared (a floor like \">= 16777216\" as a floor) or listed as skipped\n\
        with the reason (the driver lacks the knob, no queues or IRQs). JSON: profile, host,\n\
        status (compliant, drift, nothing-compared, invalid), compared, drift, skipped, invalid.\n\n\
        Exit codes: 0 compliant (at least one setting compared, all as wanted), 1 drift, 2 error:\n\
        an invalid profile, an interface block that matches no interface (unless optional:\n\
        true), a value that does not fit its knob, or nothing compared (every setting skipped).")]
    Check(CheckArgs),
    /// Restore the values recorded before a tune transaction (default: the last one).
    Rollback(RollbackArgs),
    /// Live triage screen: rates, drops per queue, microbursts, temperatures and alerts.
    Watch(WatchArgs),
    /// Stream the rates, bursts and alerts of `watch` without a screen, for scripts.
    Stats(StatsArgs),
    /// Serve the monitor's counters, microbursts and alerts to Prometheus (GET /metrics).
    Exporter(ExporterArgs),
    /// Capture packets (libpcap) and find microsecond bursts, or analyze capture files.
    Capture(CaptureArgs),
    /// Walk the latency/throughput decision tree with evidence gathered from the node.
    ///
    /// Measures counters over a short window (--window), runs the checks of each step of the
    /// branch, and prints findings with their evidence, why they matter, and the fix as a
    /// dpuctl command or profile. On a terminal without --symptom it asks the symptom and
    /// walks step by step (deeper, back, quit).
    #[command(after_help = "Examples:\n  \
        dpuctl troubleshoot                                   ask, then walk step by step\n  \
        dpuctl troubleshoot --symptom latency --iface eth2\n  \
        dpuctl troubleshoot --symptom auto --window 10s --report ticket.md\n  \
        dpuctl troubleshoot --symptom throughput --format json | jq '.steps[].findings[]'\n  \
        dpuctl troubleshoot --symptom latency --from node7.json   static checks only\n\n\
        The summary counts the checks that could not run, by reason. \"No problems found\"\n\
        needs the checks of drops, backlog, rates and protocol errors, which need a counter\n\
        window: without one (--from, --sysfs-root) a walk without problems is inconclusive.\n\n\
        Exit codes: 0 no problems, 1 problems found (warn or crit), 2 error, 3 inconclusive\n\
        (no problem found, but the checks that need a counter window could not run).")]
    Troubleshoot(TroubleshootArgs),
    /// Keep the changes of a `tune --confirm-timeout` transaction.
    Confirm,
    /// List tune transactions and their fate.
    History(HistoryArgs),
    /// Reverts a transaction when its confirm timeout expires (started by `tune`).
    #[command(hide = true)]
    ConfirmWatch {
        /// Transaction id.
        id: String,
    },
    /// Print a shell completion script to stdout.
    #[command(after_help = "Example:\n  dpuctl completions bash > /etc/bash_completion.d/dpuctl")]
    Completions {
        /// Shell to generate for.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) of dpuctl or of one subcommand to stdout.
    #[command(after_help = "Examples:\n  dpuctl man | man -l -\n  dpuctl man show | man -l -")]
    Man {
        /// Subcommand whose page to print (default: the dpuctl page).
        subcommand: Option<String>,
    },
    /// GPU x NIC matrix: PCI Express relation of each pair (PIX, PXB, PHB, NODE, SYS), NUMA
    /// nodes, links, ACS redirect on the path, GPU direct RDMA, and each GPU's nearest NICs.
    #[command(after_help = "Examples:\n  \
        dpuctl topo\n  \
        dpuctl topo --format json | jq '.gpus[] | {name, nearest}'\n  \
        dpuctl topo --from node7.json\n\n\
        Relations, nearest first, as nvidia-smi topo -m names them:\n  \
        PIX   through at most one PCIe bridge (one switch)\n  \
        PXB   through several PCIe bridges, not the host bridge\n  \
        PHB   through a PCIe host bridge (the CPU)\n  \
        NODE  across PCIe host bridges of one NUMA node\n  \
        SYS   across NUMA nodes (the CPUs' interconnect)\n\n\
        ACS redirect on a bridge sends peer-to-peer traffic (GPUDirect RDMA) up to the root\n\
        complex; it is read from the bridge's PCI config space, which needs root.")]
    Topo(TopoArgs),
    /// The NCCL settings that follow from this node, or a check of an nccl.conf against it.
    #[command(after_help = "Examples:\n  \
        dpuctl nccl                          export lines for every GPU\n  \
        dpuctl nccl --gpu 0 --gpu 1          for the NICs near GPU0 and GPU1\n  \
        dpuctl nccl --format conf > /etc/nccl.conf\n  \
        dpuctl nccl --check /etc/nccl.conf   exit 0 matches, 1 wrong settings, 2 error\n  \
        dpuctl nccl --check-env              the NCCL_* variables of this environment\n\n\
        NCCL_SOCKET_IFNAME uses NCCL's syntax: `=eth0,eth1` exact names, `^lo` exclusions,\n\
        otherwise prefixes. NCCL_IB_HCA lists `dev:port`. NCCL_IB_GID_INDEX is the RoCE v2\n\
        IPv4 GID; when the devices differ it is left out and NCCL_IB_ROCE_VERSION_NUM=2 with\n\
        NCCL_IB_ADDR_FAMILY=AF_INET let NCCL (2.21+) find each device's GID.")]
    Nccl(NcclArgs),
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Human-readable tables, 100 columns wide at most on a terminal; not wrapped for pipes.
    Table,
    /// JSON, stable field names.
    Json,
    /// YAML.
    Yaml,
}

/// Arguments of `show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Interfaces to show (default: all but lo).
    #[arg(value_name = "IFACE", add = iface_candidates())]
    pub ifaces: Vec<String>,
    /// Interfaces, as -i IFACE (repeatable); the same as naming them as arguments.
    #[arg(long = "iface", short = 'i', value_name = "IFACE", add = iface_candidates())]
    pub iface_flag: Vec<String>,
    /// Include the loopback interface.
    #[arg(long)]
    pub all: bool,
    /// Print every driver counter (`ethtool -S`), grouped by what it means, non-zero first
    /// (JSON and YAML always carry them).
    #[arg(long, short = 'S')]
    pub stats: bool,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Read a snapshot file (from `dpuctl snapshot`) instead of this node.
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,
    /// Show the pluggable modules (SFP/QSFP/QSFP-DD/OSFP) decoded: identity, cable,
    /// diagnostics of every lane and the module's thresholds (JSON with units in the names).
    #[arg(long)]
    pub module: bool,
    /// Show only RDMA devices (InfiniBand and RoCE): ports, GID tables, the RDMA connection
    /// manager's RoCE defaults. Names select RDMA devices by name or by their netdev.
    #[arg(long, conflicts_with_all = ["stats", "all"])]
    pub rdma: bool,
}

/// Arguments of `snapshot`.
#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// Write here instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `profile` subcommands.
#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// List the shipped and user profiles.
    List {
        /// Output format.
        #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Show a profile as written, comments kept, or with --resolved what it means on this
    /// node.
    Show {
        /// Profile name or path to a YAML file.
        #[arg(add = profile_candidates())]
        name: String,
        /// Apply inheritance and CPU policies against this node (or --from).
        #[arg(long)]
        resolved: bool,
        /// Output format: yaml is the file as written; json the profile with its inheritance
        /// applied (or the resolved settings); table needs --resolved.
        #[arg(long, short = 'f', value_enum, default_value_t = Format::Yaml)]
        format: Format,
        /// Resolve against a snapshot instead of this node.
        #[arg(long, value_name = "FILE")]
        from: Option<PathBuf>,
    },
    /// Check profile files; every error with `file:line:column`. Exit 0 valid, 2 invalid.
    Validate {
        /// Files to check.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
}

/// Arguments of `tune`.
#[derive(Debug, Args)]
pub struct TuneArgs {
    /// Profile name or path to a YAML file.
    #[arg(add = profile_candidates())]
    pub profile: String,
    /// Only these interfaces (default: every interface the profile selects).
    #[arg(value_name = "IFACE", add = iface_candidates())]
    pub ifaces: Vec<String>,
    /// Interfaces, as -i IFACE (repeatable); the same as naming them as arguments.
    #[arg(long = "iface", short = 'i', value_name = "IFACE", add = iface_candidates())]
    pub iface_flag: Vec<String>,
    /// Print the plan and stop; nothing changes.
    #[arg(long)]
    pub dry_run: bool,
    /// Apply without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Revert after this time unless `dpuctl confirm` runs (`90s`, `5m`; a bare number is
    /// seconds). Two detached watchers wait for it, each restarting the other if it dies, so
    /// the revert survives the terminal going away and a killed watcher.
    #[arg(long, value_name = "DURATION", value_parser = crate::units::parse_timeout)]
    pub confirm_timeout: Option<std::time::Duration>,
    /// Keep what took when a setting fails or does not hold after the last step (exit 1,
    /// each such setting listed) instead of reverting the whole transaction.
    #[arg(long)]
    pub best_effort: bool,
    /// Plan output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Profile name or path to a YAML file.
    #[arg(add = profile_candidates())]
    pub profile: String,
    /// Only these interfaces.
    #[arg(value_name = "IFACE", add = iface_candidates())]
    pub ifaces: Vec<String>,
    /// Interfaces, as -i IFACE (repeatable); the same as naming them as arguments.
    #[arg(long = "iface", short = 'i', value_name = "IFACE", add = iface_candidates())]
    pub iface_flag: Vec<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Check a snapshot instead of this node.
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,
}

/// Arguments of `rollback`.
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// Transaction id (see `dpuctl history`); default: the most recent applied one.
    pub id: Option<String>,
    /// Roll back, newest first, the newer transactions that changed the same settings, then
    /// this one (without it, such a rollback is refused: it would leave a state nobody
    /// asked for).
    #[arg(long)]
    pub cascade: bool,
}

/// Arguments of `history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

// ---- watch (owner: monitor/tui) -------------------------------------------------------------

/// Arguments of `watch`.
#[derive(Debug, Args)]
#[command(after_help = "Keys:\n  \
    ? h help   space p pause   s sort   / filter   Enter zoom   Esc back\n  \
    j k arrows select   r reset   w save the last minutes (--history) to a file\n  \
    q Ctrl-C quit\n\n\
    Examples:\n  \
    dpuctl watch                                   every interface but lo\n  \
    dpuctl watch eth2 eth3 --sample-interval 100us\n  \
    dpuctl watch --line-rate 25G veth0             a link that reports no speed\n  \
    dpuctl watch --record incident.rec             the screen, and every sample to a file\n  \
    dpuctl watch --replay incident.rec --speed 5   the same screens on the recording\n\n\
    Needs a terminal; for scripts use `dpuctl stats` (same rates, bursts and alerts).\n\
    Exit codes: 0 quit, 2 error (no terminal, bad flag or recording, missing interface),\n\
    128+N ended by signal N.")]
pub struct WatchArgs {
    /// Interfaces to watch (default: all but lo).
    #[arg(value_name = "IFACE", conflicts_with = "replay", add = iface_candidates())]
    pub ifaces: Vec<String>,
    /// Interfaces, as -i IFACE (repeatable); the same as naming them as arguments.
    #[arg(long = "iface", short = 'i', value_name = "IFACE", conflicts_with = "replay", add = iface_candidates())]
    pub iface_flag: Vec<String>,
    /// Show a recording (`--record FILE` of watch or stats) instead of this node, on the
    /// recording's clock.
    #[arg(long, value_name = "FILE", conflicts_with = "record")]
    pub replay: Option<PathBuf>,
    /// Replay speed: 2 plays twice as fast, 0.5 at half speed.
    #[arg(long, value_name = "FACTOR", default_value_t = 1.0, requires = "replay",
          value_parser = parse_speed)]
    pub speed: f64,
    /// Sampler and detector settings.
    #[command(flatten)]
    pub monitor: MonitorArgs,
}

/// A replay speed: a positive factor up to 1000.
fn parse_speed(text: &str) -> Result<f64, String> {
    match text.trim_end_matches('x').parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 1000.0 => Ok(v),
        _ => Err(format!(
            "{text:?} is not a speed factor (a number above 0, up to 1000)"
        )),
    }
}

// ---- stats (owner: monitor) -----------------------------------------------------------------

/// Sampler and detector flags shared by `watch` and `stats`.
// The doc comments are `--help` text, where backticks around counter names would show.
#[allow(clippy::doc_markdown)]
#[derive(Debug, Clone, Args)]
pub struct MonitorArgs {
    /// Counter sample interval, 100us and up (units: ns, us, ms, s).
    ///
    /// A burst shorter than the interval shows as one interval; burst edges fall on sample
    /// times (the JSON's duration_est_ns places them to a fraction of an interval).
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "1ms",
        value_parser = crate::monitor::config::parse_sample_interval
    )]
    pub sample_interval: std::time::Duration,
    /// Screen refresh, and the rate of the slower reads (driver counters, tx_timeout,
    /// temperatures, softnet, the root qdisc's classes, dcbnl PFC counters).
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "250ms",
        value_parser = crate::units::parse_duration
    )]
    pub refresh: std::time::Duration,
    /// Line rate for utilization and bursts (10G, 25gbit, 100Gb/s, 400M); default: the
    /// link speed. Needed where the link reports none (veth, some VFs).
    #[arg(long, value_name = "RATE", value_parser = crate::units::parse_rate)]
    pub line_rate: Option<u64>,
    /// Utilization above which a sample interval is part of a burst (50% or 0.5).
    #[arg(
        long,
        value_name = "PERCENT",
        default_value = "50%",
        value_parser = crate::units::parse_fraction
    )]
    pub burst_threshold: f64,
    /// YAML file with thresholds and extra driver counter classes (format: `dpuctl stats
    /// --help`).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Alert threshold METRIC=LIMIT per second (0: any; "off": none); repeatable. Metrics:
    /// interface counters (rx_fifo_errors, rx_missed_errors, ...), tx_timeout, softnet_dropped,
    /// softnet_time_squeeze, driver counter classes (buffer_exhaustion, fifo_overflow, crc,
    /// pause, queue_drops), temperature_margin (degrees below critical), pause_share (a fraction
    /// of the link, default 0.1: pause of one side and priority above it with no drops).
    #[arg(long = "threshold", value_name = "METRIC=LIMIT")]
    pub thresholds: Vec<String>,
    /// Write every sample to FILE (read it back with --replay FILE).
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// How long the flight recorder of `watch` keeps samples in memory: a duration (`5m`,
    /// `1h`, `90s`, rounded up to whole minutes) or a bare number of minutes (0: off; 16 MB
    /// at most). Held in minutes.
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = parse_minutes)]
    pub history: u32,
    /// Where samples come from: bpf (in-kernel time bins of --bin-width on the tc hooks, with
    /// the top flows of each burst; needs CAP_BPF and CAP_NET_ADMIN, or root, and a kernel
    /// with BTF), counters (interface counters every --sample-interval), or auto (bpf where
    /// it can run, else counters, saying why in one line).
    #[arg(long, value_enum, value_name = "SOURCE", default_value = "counters")]
    pub source: crate::monitor::bpf_source::Source,
    /// Bin width of --source bpf, 1us to 1ms (units: ns, us, ms).
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "10us",
        value_parser = crate::monitor::config::parse_bin_width
    )]
    pub bin_width: std::time::Duration,
}

/// `--history`: a duration with a unit, or plain minutes; in whole minutes, rounded up.
fn parse_minutes(text: &str) -> Result<u32, String> {
    if let Ok(m) = text.trim().parse::<u32>() {
        return Ok(m);
    }
    let d = crate::units::parse_duration(text)?;
    u32::try_from(d.as_secs().div_ceil(60)).map_err(|_| format!("{text:?} is too long"))
}

/// Output formats of `stats` (a stream).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatsFormat {
    /// A table per interval, and bursts as they end; one token per cell (awk-able).
    Table,
    /// One JSON object per line: per interval, and per burst as it ends.
    Jsonl,
}

/// Arguments of `stats`.
#[derive(Debug, Args)]
#[command(after_help = crate::monitor::config::STATS_HELP)]
pub struct StatsArgs {
    /// Interfaces to watch (default: all but lo).
    #[arg(value_name = "IFACE", add = iface_candidates())]
    pub ifaces: Vec<String>,
    /// Interfaces, as -i IFACE (repeatable); the same as naming them as arguments.
    #[arg(long = "iface", short = 'i', value_name = "IFACE", add = iface_candidates())]
    pub iface_flag: Vec<String>,
    /// Print every DURATION (no short flag: -i is an interface everywhere).
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "1s",
        value_parser = crate::units::parse_duration
    )]
    pub interval: std::time::Duration,
    /// Stop after N intervals (default: run until interrupted).
    #[arg(long, short = 'c', value_name = "N")]
    pub count: Option<u64>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = StatsFormat::Table)]
    pub format: StatsFormat,
    /// Read samples from a recording instead of this node.
    #[arg(long, value_name = "FILE", conflicts_with = "record")]
    pub replay: Option<PathBuf>,
    /// Sampler and detector settings.
    #[command(flatten)]
    pub monitor: MonitorArgs,
}

/// Default `--listen` of `exporter`: loopback only, on a port outside the 9100-9999 range
/// that the Prometheus default port allocations list hands to exporters, so that no
/// registered exporter collides with it.
pub const EXPORTER_LISTEN: &str = "127.0.0.1:9059";

/// Arguments of `exporter`.
#[derive(Debug, Args)]
#[command(after_help = crate::monitor::prometheus::EXPORTER_HELP)]
pub struct ExporterArgs {
    /// Interfaces to watch (default: all but lo).
    #[arg(value_name = "IFACE")]
    pub ifaces: Vec<String>,
    /// Address and port to serve /metrics on (0.0.0.0:PORT or [::]:PORT to serve every
    /// address: an explicit choice).
    #[arg(long, value_name = "ADDR:PORT", default_value = EXPORTER_LISTEN)]
    pub listen: std::net::SocketAddr,
    /// Export this driver counter (`ethtool -S` name) raw as `dpuctl_driver_stat`; `*` matches
    /// any run of characters; repeatable. Default: none (driver counters go out by class).
    #[arg(long = "raw-counter", value_name = "NAME")]
    pub raw_counters: Vec<String>,
    /// Export the compliance of this profile (name or file), re-evaluated every
    /// --check-interval; repeatable.
    #[arg(long = "check", value_name = "PROFILE")]
    pub checks: Vec<String>,
    /// How often the --check profiles are compared with the node.
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "60s",
        value_parser = crate::units::parse_duration
    )]
    pub check_interval: std::time::Duration,
    /// Sampler and detector settings.
    #[command(flatten)]
    pub monitor: MonitorArgs,
}

// ---- capture (owner: capture) ---------------------------------------------------------------

/// Arguments of `capture`: a live capture on IFACE, or `capture analyze FILE...`.
#[derive(Debug, Args)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = "Examples:\n  \
        dpuctl capture eth2 --duration 10s                   capture, then analyze\n  \
        dpuctl capture eth2 --filter 'udp port 4791' -c 1000000 -w roce.pcap\n  \
        dpuctl capture -r roce.pcap                           10us bins, bursts, flows, TCP\n  \
        dpuctl capture analyze big.pcapng --resolution 1us --line-rate 100G -f json\n\n\
        A burst is a run of bins whose rate is above --burst-threshold of the line rate, the same\n\
        definition `dpuctl watch` applies to counter samples. The line rate is --line-rate,\n\
        else the link speed of the interface (live) or the if_speed of a pcapng file, else\n\
        10G, and the output says which.\n\n\
        Live capture needs root or CAP_NET_RAW. Ctrl-C, SIGTERM or SIGHUP stops it; the -w file\n\
        is finished and the analysis printed.\n\
        Exit codes: 0 success, 2 error (no privilege, unknown interface, bad filter, a\n\
        truncated or malformed file: its results so far are printed and flagged partial)."
)]
pub struct CaptureArgs {
    /// `analyze` (files); without it, a live capture.
    #[command(subcommand)]
    pub command: Option<CaptureCommand>,
    /// Live capture options.
    #[command(flatten)]
    pub live: LiveCaptureArgs,
    /// Analysis options.
    #[command(flatten)]
    pub analysis: AnalysisArgs,
}

/// Options of a live capture.
#[derive(Debug, Args)]
pub struct LiveCaptureArgs {
    /// Interface to capture on (`any` for all).
    #[arg(value_name = "IFACE", required_unless_present_any = ["iface_flag", "read"],
          conflicts_with = "read", add = iface_candidates())]
    pub iface: Option<String>,
    /// Interface to capture on, as tcpdump -i (the same as the IFACE argument).
    #[arg(long = "iface", short = 'i', value_name = "IFACE", conflicts_with_all = ["iface", "read"],
          add = iface_candidates())]
    pub iface_flag: Option<String>,
    /// Read packets from a capture file instead of an interface, as tcpdump -r (the same as
    /// `capture analyze FILE`).
    #[arg(short = 'r', long = "read", value_name = "FILE")]
    pub read: Option<PathBuf>,
    /// Capture filter in tcpdump syntax, e.g. 'udp port 4791' or 'tcp and host 10.0.0.7'.
    #[arg(long = "filter", value_name = "BPF")]
    pub filter: Option<String>,
    /// Stop after this long (10s, 1m, 500ms); with --count, whichever comes first.
    #[arg(long, short = 'd', value_name = "D", value_parser = crate::units::parse_duration_ns)]
    pub duration: Option<u64>,
    /// Stop after N packets.
    #[arg(long, short = 'c', value_name = "N")]
    pub count: Option<u64>,
    /// Also write the packets to FILE (pcap, nanosecond timestamps), as tcpdump -w. The header
    /// is written at once and the packets flushed every second, so a capture killed by a
    /// signal leaves a readable file.
    #[arg(
        short = 'w',
        long = "write",
        value_name = "FILE",
        conflicts_with = "read"
    )]
    pub write: Option<PathBuf>,
    /// Bytes kept of each packet (headers are enough for the analysis).
    #[arg(long, short = 's', value_name = "N", default_value_t = 262_144,
          value_parser = clap::value_parser!(u32).range(64..=262_144))]
    pub snaplen: u32,
}

/// Options of the analysis (live and files).
#[derive(Debug, Args)]
pub struct AnalysisArgs {
    /// Bin width for rates and bursts (1us, 10us, 1ms).
    #[arg(long, value_name = "D", default_value = "10us",
          value_parser = crate::units::parse_duration_ns)]
    pub resolution: u64,
    /// Line rate bursts are measured against (10G, 25gbit, 100M). Default: the link speed of
    /// the interface (live), the `if_speed` of a pcapng file, else 10G; the output says which.
    #[arg(long, value_name = "RATE", value_parser = crate::units::parse_rate)]
    pub line_rate: Option<u64>,
    /// Share of the line rate above which a bin is part of a burst (50% or 0.5), as
    /// --burst-threshold of `watch` and `stats`.
    #[arg(long, value_name = "PERCENT", default_value = "50%",
          value_parser = crate::units::parse_fraction)]
    pub burst_threshold: f64,
    /// Flows listed in each top list.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,
    /// Include every non-empty bin in JSON/YAML output (large for long captures).
    #[arg(long)]
    pub bins: bool,
    /// Output format.
    #[arg(long = "format", short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// `capture` subcommands.
#[derive(Debug, Subcommand)]
pub enum CaptureCommand {
    /// Analyze pcap/pcapng files: rates per bin, microbursts, inter-arrival times, top flows,
    /// TCP hints and a rate chart. One report per file, or one for all with --merge.
    #[command(after_help = "Examples:\n  \
        dpuctl capture analyze trace.pcap\n  \
        dpuctl capture analyze a.pcapng b.pcap --line-rate 25G --burst-threshold 80%\n  \
        dpuctl capture analyze --merge trace.pcap[0-9]*      (files rotated by tcpdump -C/-G)\n  \
        dpuctl capture analyze trace.pcap -f json | jq '.[0].bursts | length'")]
    Analyze {
        /// Capture files (pcap with micro- or nanosecond timestamps, or pcapng).
        #[arg(value_name = "FILE", required = true)]
        files: Vec<PathBuf>,
        /// Analyze the files as one capture: packets merged in time order across them, so a
        /// burst that spans a file rotation counts once. One report (JSON: `files` lists them).
        #[arg(long)]
        merge: bool,
        /// Analysis options.
        #[command(flatten)]
        analysis: AnalysisArgs,
    },
}

// ---- troubleshoot (owner: diag) -------------------------------------------------------------

/// Arguments of `troubleshoot`.
#[derive(Debug, Args)]
pub struct TroubleshootArgs {
    /// The symptom: latency (queue backlog, IRQ affinity), throughput (rates, link), or
    /// auto (decided from drops and backlog against link utilization; the reason is shown).
    /// Without it on a terminal, troubleshoot asks.
    #[arg(long, value_enum, value_name = "SYMPTOM")]
    pub symptom: Option<TroubleshootSymptom>,
    /// Only these interfaces (default: all but lo).
    #[arg(value_name = "IFACE", add = iface_candidates())]
    pub ifaces: Vec<String>,
    /// Interfaces, as -i IFACE (repeatable); the same as naming them as arguments.
    #[arg(long = "iface", short = 'i', value_name = "IFACE", add = iface_candidates())]
    pub iface_flag: Vec<String>,
    /// How long to measure counter rates: 5s, 500ms, 1m (100ms to 10m).
    #[arg(long, value_name = "DURATION", default_value = "5s",
          value_parser = crate::diag::gather::parse_window)]
    pub window: std::time::Duration,
    /// Output format on stdout.
    #[arg(long, short = 'f', value_enum, default_value_t = TroubleshootFormat::Text)]
    pub format: TroubleshootFormat,
    /// Also write the findings with all evidence to FILE (markdown for .md, JSON for .json,
    /// else --report-format).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Format of --report when its extension does not tell.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub report_format: Option<TroubleshootReportFormat>,
    /// Read a snapshot file instead of this node: no counter rates, so the checks that need
    /// them say n/a; the others run.
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,
    /// Capture files (pcap or pcapng, e.g. from `dpuctl capture IFACE -w FILE`) for the
    /// capture-analysis step: their microbursts (10us bins) and TCP retransmissions become
    /// evidence. Repeatable; works with --from too.
    #[arg(long = "capture", value_name = "FILE")]
    pub captures: Vec<PathBuf>,
    /// Line rate (10G, 25gbit, 100G) that utilization, bursts and the socket-buffer need are
    /// judged against, for every interface examined and for the captures. Without it: a
    /// physical link's speed, a capture file's `if_speed`; a virtual device (veth, ...) has
    /// none (its reported speed is nominal), so those judgments say n/a.
    #[arg(long, alias = "capture-line-rate", value_name = "RATE",
          value_parser = crate::units::parse_rate)]
    pub line_rate: Option<u64>,
    /// Where the window's fine series comes from: bpf (in-kernel 10us bins with the top
    /// flows of each burst; `CAP_BPF` and `CAP_NET_ADMIN`, or root, and BTF), counters (1 ms
    /// counter reads), or auto (bpf where it can run, else counters, saying why in one line).
    #[arg(long, value_enum, value_name = "SOURCE", default_value = "counters")]
    pub source: crate::monitor::bpf_source::Source,
}

/// `troubleshoot --symptom`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TroubleshootSymptom {
    /// Latency is up: queue backlog, IRQ affinity, capture analysis, protocol errors.
    Latency,
    /// Throughput is down: throughput, link bandwidth, capture analysis, protocol errors.
    Throughput,
    /// Decide from the counters.
    Auto,
}

/// Output formats of `troubleshoot` (a report): text, JSON or markdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TroubleshootFormat {
    /// Human-readable, 100 columns wide at most.
    Text,
    /// JSON, stable field names.
    Json,
    /// Markdown, for a ticket (what --report FILE.md writes).
    Markdown,
}

/// `troubleshoot --report-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TroubleshootReportFormat {
    /// Markdown, for a ticket.
    Markdown,
    /// JSON.
    Json,
}

// ---- GPU fabric (topo, nccl) -----------------------------------------------------------------

/// Arguments of `topo`.
#[derive(Debug, Args)]
pub struct TopoArgs {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Read a snapshot file (from `dpuctl snapshot`) instead of this node.
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,
}

/// Output formats of `nccl`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NcclFormat {
    /// `export NAME=value` lines for a shell.
    Env,
    /// JSON: the settings, why each, and notes.
    Json,
    /// An `/etc/nccl.conf` body (`NAME=value` lines).
    Conf,
}

/// Arguments of `nccl`.
#[derive(Debug, Args)]
pub struct NcclArgs {
    /// Only the NICs near these GPUs (index in PCI address order, as `topo` numbers them;
    /// repeatable). Default: every GPU.
    #[arg(long = "gpu", value_name = "N")]
    pub gpus: Vec<usize>,
    /// Output format (of the settings, or of the check's report: json, else text).
    #[arg(long, short = 'f', value_enum, default_value_t = NcclFormat::Env)]
    pub format: NcclFormat,
    /// Compare this nccl.conf with the node: exit 0 matches, 1 wrong settings, 2 error.
    #[arg(long, value_name = "FILE", conflicts_with = "check_env")]
    pub check: Option<PathBuf>,
    /// Compare the NCCL_* variables of the environment with the node.
    #[arg(long)]
    pub check_env: bool,
    /// Read a snapshot file (from `dpuctl snapshot`) instead of this node.
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,
}
