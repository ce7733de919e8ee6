//! Command-line definition (clap derive only; handlers live in `cmd`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// NIC tuning and diagnostics for Linux nodes.
///
/// dpuctl reads everything about a node's network interfaces (link, rings, channels,
/// coalescing, pause frames, offloads, queues with RPS/XPS, IRQs with their NUMA locality,
/// error counters, temperatures and network sysctls) straight from netlink, ethtool, sysfs and
/// procfs, and shows it in one view. Every read command also works offline on a snapshot taken
/// on another node (`--from FILE`).
#[derive(Debug, Parser)]
#[command(
    name = "dpuctl",
    version,
    propagate_version = true,
    max_term_width = 100
)]
#[command(after_help = "Examples:\n  \
    dpuctl show                     every interface, one section each\n  \
    dpuctl show eth2 --format json  one interface, for scripts\n  \
    dpuctl snapshot -o node7.json   record this node\n  \
    dpuctl show --from node7.json   read the record anywhere\n\n\
    Exit codes: 0 success, 2 error (bad input, missing interface, no privilege).")]
pub struct Cli {
    /// Global options.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
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
        dpuctl check ./site.yaml --format json")]
    Check(CheckArgs),
    /// Restore the values recorded before a tune transaction (default: the last one).
    Rollback(RollbackArgs),
    /// Live triage screen: rates, drops per queue, microbursts, temperatures and alerts.
    Watch(WatchArgs),
    /// Stream the rates and bursts of `watch` without a screen, for scripts.
    Stats(StatsArgs),
    /// Capture packets (libpcap) and find microsecond bursts, or analyze capture files.
    Capture(CaptureArgs),
    /// Walk the latency/throughput decision tree with evidence gathered from the node.
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
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Human-readable tables, 100 columns wide at most.
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
    #[arg(value_name = "IFACE")]
    pub ifaces: Vec<String>,
    /// Include the loopback interface.
    #[arg(long)]
    pub all: bool,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Read a snapshot file (from `dpuctl snapshot`) instead of this node.
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,
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
    /// Show a profile, or with --resolved what it means on this node.
    Show {
        /// Profile name or path to a YAML file.
        name: String,
        /// Apply inheritance and CPU policies against this node (or --from).
        #[arg(long)]
        resolved: bool,
        /// Output format.
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
    pub profile: String,
    /// Only these interfaces (default: every interface the profile selects).
    #[arg(long = "iface", value_name = "IFACE")]
    pub ifaces: Vec<String>,
    /// Print the plan and stop; nothing changes.
    #[arg(long)]
    pub dry_run: bool,
    /// Apply without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Revert after SECS unless `dpuctl confirm` runs (survives the terminal going away).
    #[arg(long, value_name = "SECS")]
    pub confirm_timeout: Option<u64>,
    /// Plan output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Profile name or path to a YAML file.
    pub profile: String,
    /// Only these interfaces.
    #[arg(long = "iface", value_name = "IFACE")]
    pub ifaces: Vec<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Print nothing; the exit code tells.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Check a snapshot instead of this node.
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,
}

/// Arguments of `rollback`.
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// Transaction id (see `dpuctl history`); default: the most recent applied one.
    pub id: Option<String>,
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
pub struct WatchArgs {
    /// Interfaces to watch (default: all but lo).
    #[arg(value_name = "IFACE")]
    pub ifaces: Vec<String>,
}

// ---- stats (owner: monitor) -----------------------------------------------------------------

/// Arguments of `stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Interfaces to watch (default: all but lo).
    #[arg(value_name = "IFACE")]
    pub ifaces: Vec<String>,
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
        dpuctl capture analyze roce.pcap                      10us bins, bursts, flows, TCP\n  \
        dpuctl capture analyze big.pcapng --resolution 1us --line-rate 100G -f json\n\n\
        A burst is a run of bins whose rate is above --threshold of the line rate, the same\n\
        definition `dpuctl watch` applies to counter samples. The line rate is --line-rate,\n\
        else the link speed of the interface (live) or the if_speed of a pcapng file, else\n\
        10G, and the output says which.\n\n\
        Live capture needs root or CAP_NET_RAW. Ctrl-C stops it and still prints the analysis.\n\
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
    #[arg(value_name = "IFACE", required = true)]
    pub iface: Option<String>,
    /// Capture filter in tcpdump syntax, e.g. 'udp port 4791' or 'tcp and host 10.0.0.7'.
    #[arg(long = "filter", value_name = "BPF")]
    pub filter: Option<String>,
    /// Stop after this long (10s, 1m, 500ms); with --count, whichever comes first.
    #[arg(long, short = 'd', value_name = "D", value_parser = crate::capture::parse_duration_ns)]
    pub duration: Option<u64>,
    /// Stop after N packets.
    #[arg(long, short = 'c', value_name = "N")]
    pub count: Option<u64>,
    /// Also write the packets to FILE (pcap, nanosecond timestamps).
    #[arg(short = 'w', long = "write", value_name = "FILE")]
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
    #[arg(long, short = 'r', value_name = "D", default_value = "10us",
          value_parser = crate::capture::parse_duration_ns)]
    pub resolution: u64,
    /// Line rate bursts are measured against (10G, 25gbit, 100M). Default: the link speed of
    /// the interface (live), the `if_speed` of a pcapng file, else 10G; the output says which.
    #[arg(long, value_name = "RATE", value_parser = crate::capture::parse_rate)]
    pub line_rate: Option<u64>,
    /// Share of the line rate above which a bin is part of a burst (0.5 or 50%).
    #[arg(long, short = 't', value_name = "T", default_value = "0.5",
          value_parser = crate::capture::parse_threshold)]
    pub threshold: f64,
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
    /// TCP hints and a rate chart. One report per file.
    #[command(after_help = "Examples:\n  \
        dpuctl capture analyze trace.pcap\n  \
        dpuctl capture analyze a.pcapng b.pcap --line-rate 25G --threshold 80%\n  \
        dpuctl capture analyze trace.pcap -f json | jq '.[0].bursts | length'")]
    Analyze {
        /// Capture files (pcap with micro- or nanosecond timestamps, or pcapng).
        #[arg(value_name = "FILE", required = true)]
        files: Vec<PathBuf>,
        /// Analysis options.
        #[command(flatten)]
        analysis: AnalysisArgs,
    },
}

// ---- troubleshoot (owner: diag) -------------------------------------------------------------

/// Arguments of `troubleshoot`.
#[derive(Debug, Args)]
pub struct TroubleshootArgs {
    /// Read a snapshot file instead of this node.
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,
}
