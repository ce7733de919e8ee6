# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_dpuctl_global_optspecs
    string join \n sysfs-root= procfs-root= state-dir= profile-dir= h/help V/version
end

function __fish_dpuctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_dpuctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_dpuctl_using_subcommand
    set -l cmd (__fish_dpuctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c dpuctl -n "__fish_dpuctl_needs_command" -l sysfs-root -d 'Read sysfs from this directory instead of /sys (a fixture tree or another root)' -r -F
complete -c dpuctl -n "__fish_dpuctl_needs_command" -l procfs-root -d 'Read procfs from this directory instead of /proc' -r -F
complete -c dpuctl -n "__fish_dpuctl_needs_command" -l state-dir -d 'Where tune keeps its journal, lock and history' -r -F
complete -c dpuctl -n "__fish_dpuctl_needs_command" -l profile-dir -d 'Directory of user profiles, searched before the shipped ones' -r -F
complete -c dpuctl -n "__fish_dpuctl_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dpuctl -n "__fish_dpuctl_needs_command" -s V -l version -d 'Print version'
complete -c dpuctl -n "__fish_dpuctl_needs_command" -f -a "show" -d 'Show interfaces: link, rings, channels, coalescing, pause, offloads, queues, IRQs, counters, temperatures and network sysctls'
complete -c dpuctl -n "__fish_dpuctl_needs_command" -f -a "snapshot" -d 'Write the whole node state plus a counter sample to a JSON file (or stdout)'
complete -c dpuctl -n "__fish_dpuctl_needs_command" -f -a "profile" -d 'List, show and validate tuning profiles (`dpuctl profile --help` documents the format)'
complete -c dpuctl -n "__fish_dpuctl_needs_command" -f -a "tune" -d 'Apply a tuning profile: show the plan, ask, journal the old values, apply, and roll back on any failure'
complete -c dpuctl -n "__fish_dpuctl_needs_command" -f -a "check" -d 'Compare the node with a profile: exit 0 compliant, 1 drift, 2 error'
complete -c dpuctl -n "__fish_dpuctl_needs_command" -f -a "rollback" -d 'Restore the values recorded before a tune transaction (default: the last one)'
complete -c dpuctl -n "__fish_dpuctl_needs_command" -f -a "watch" -d 'Live triage screen: rates, drops per queue, microbursts, temperatures and alerts'
complete -c dpuctl -n "__fish_dpuctl_needs_command" -f -a "stats" -d 'Stream the rates, bursts and alerts of `watch` without a screen, for scripts'
complete -c dpuctl -n "__fish_dpuctl_needs_command" -f -a "exporter" -d 'Serve the monitor\'s counters, microbursts and alerts to Prometheus (GET /metrics)'
complete -c dpuctl -n "__fish_dpuctl_needs_command" -f -a "capture" -d 'Capture packets (libpcap) and find microsecond bursts, or analyze capture files'
complete -c dpuctl -n "__fish_dpuctl_needs_command" -f -a "troubleshoot" -d 'Walk the latency/throughput decision tree with evidence gathered from the node'
complete -c dpuctl -n "__fish_dpuctl_needs_command" -f -a "confirm" -d 'Keep the changes of a `tune --confirm-timeout` transaction'
complete -c dpuctl -n "__fish_dpuctl_needs_command" -f -a "history" -d 'List tune transactions and their fate'
complete -c dpuctl -n "__fish_dpuctl_needs_command" -f -a "confirm-watch" -d 'Reverts a transaction when its confirm timeout expires (started by `tune`)'
complete -c dpuctl -n "__fish_dpuctl_needs_command" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c dpuctl -n "__fish_dpuctl_needs_command" -f -a "man" -d 'Print the man page (roff) of dpuctl or of one subcommand to stdout'
complete -c dpuctl -n "__fish_dpuctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand show" -s f -l format -d 'Output format' -r -f -a "table\t'Human-readable tables, 100 columns wide at most'
json\t'JSON, stable field names'
yaml\t'YAML'"
complete -c dpuctl -n "__fish_dpuctl_using_subcommand show" -l from -d 'Read a snapshot file (from `dpuctl snapshot`) instead of this node' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand show" -l sysfs-root -d 'Read sysfs from this directory instead of /sys (a fixture tree or another root)' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand show" -l procfs-root -d 'Read procfs from this directory instead of /proc' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand show" -l state-dir -d 'Where tune keeps its journal, lock and history' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand show" -l profile-dir -d 'Directory of user profiles, searched before the shipped ones' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand show" -l all -d 'Include the loopback interface'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand show" -s V -l version -d 'Print version'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand snapshot" -s o -l output -d 'Write here instead of stdout' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand snapshot" -l sysfs-root -d 'Read sysfs from this directory instead of /sys (a fixture tree or another root)' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand snapshot" -l procfs-root -d 'Read procfs from this directory instead of /proc' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand snapshot" -l state-dir -d 'Where tune keeps its journal, lock and history' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand snapshot" -l profile-dir -d 'Directory of user profiles, searched before the shipped ones' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand snapshot" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand snapshot" -s V -l version -d 'Print version'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand profile; and not __fish_seen_subcommand_from list show validate help" -l sysfs-root -d 'Read sysfs from this directory instead of /sys (a fixture tree or another root)' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand profile; and not __fish_seen_subcommand_from list show validate help" -l procfs-root -d 'Read procfs from this directory instead of /proc' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand profile; and not __fish_seen_subcommand_from list show validate help" -l state-dir -d 'Where tune keeps its journal, lock and history' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand profile; and not __fish_seen_subcommand_from list show validate help" -l profile-dir -d 'Directory of user profiles, searched before the shipped ones' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand profile; and not __fish_seen_subcommand_from list show validate help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand profile; and not __fish_seen_subcommand_from list show validate help" -s V -l version -d 'Print version'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand profile; and not __fish_seen_subcommand_from list show validate help" -f -a "list" -d 'List the shipped and user profiles'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand profile; and not __fish_seen_subcommand_from list show validate help" -f -a "show" -d 'Show a profile, or with --resolved what it means on this node'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand profile; and not __fish_seen_subcommand_from list show validate help" -f -a "validate" -d 'Check profile files; every error with `file:line:column`. Exit 0 valid, 2 invalid'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand profile; and not __fish_seen_subcommand_from list show validate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand profile; and __fish_seen_subcommand_from list" -s f -l format -d 'Output format' -r -f -a "table\t'Human-readable tables, 100 columns wide at most'
json\t'JSON, stable field names'
yaml\t'YAML'"
complete -c dpuctl -n "__fish_dpuctl_using_subcommand profile; and __fish_seen_subcommand_from list" -l sysfs-root -d 'Read sysfs from this directory instead of /sys (a fixture tree or another root)' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand profile; and __fish_seen_subcommand_from list" -l procfs-root -d 'Read procfs from this directory instead of /proc' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand profile; and __fish_seen_subcommand_from list" -l state-dir -d 'Where tune keeps its journal, lock and history' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand profile; and __fish_seen_subcommand_from list" -l profile-dir -d 'Directory of user profiles, searched before the shipped ones' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand profile; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand profile; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand profile; and __fish_seen_subcommand_from show" -s f -l format -d 'Output format' -r -f -a "table\t'Human-readable tables, 100 columns wide at most'
json\t'JSON, stable field names'
yaml\t'YAML'"
complete -c dpuctl -n "__fish_dpuctl_using_subcommand profile; and __fish_seen_subcommand_from show" -l from -d 'Resolve against a snapshot instead of this node' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand profile; and __fish_seen_subcommand_from show" -l sysfs-root -d 'Read sysfs from this directory instead of /sys (a fixture tree or another root)' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand profile; and __fish_seen_subcommand_from show" -l procfs-root -d 'Read procfs from this directory instead of /proc' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand profile; and __fish_seen_subcommand_from show" -l state-dir -d 'Where tune keeps its journal, lock and history' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand profile; and __fish_seen_subcommand_from show" -l profile-dir -d 'Directory of user profiles, searched before the shipped ones' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand profile; and __fish_seen_subcommand_from show" -l resolved -d 'Apply inheritance and CPU policies against this node (or --from)'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand profile; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand profile; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand profile; and __fish_seen_subcommand_from validate" -l sysfs-root -d 'Read sysfs from this directory instead of /sys (a fixture tree or another root)' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand profile; and __fish_seen_subcommand_from validate" -l procfs-root -d 'Read procfs from this directory instead of /proc' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand profile; and __fish_seen_subcommand_from validate" -l state-dir -d 'Where tune keeps its journal, lock and history' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand profile; and __fish_seen_subcommand_from validate" -l profile-dir -d 'Directory of user profiles, searched before the shipped ones' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand profile; and __fish_seen_subcommand_from validate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand profile; and __fish_seen_subcommand_from validate" -s V -l version -d 'Print version'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the shipped and user profiles'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show a profile, or with --resolved what it means on this node'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "validate" -d 'Check profile files; every error with `file:line:column`. Exit 0 valid, 2 invalid'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand tune" -l iface -d 'Only these interfaces (default: every interface the profile selects)' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand tune" -l confirm-timeout -d 'Revert after this time unless `dpuctl confirm` runs (`90s`, `5m`; a bare number is seconds). Two detached watchers wait for it, each restarting the other if it dies, so the revert survives the terminal going away and a killed watcher' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand tune" -s f -l format -d 'Plan output format' -r -f -a "table\t'Human-readable tables, 100 columns wide at most'
json\t'JSON, stable field names'
yaml\t'YAML'"
complete -c dpuctl -n "__fish_dpuctl_using_subcommand tune" -l sysfs-root -d 'Read sysfs from this directory instead of /sys (a fixture tree or another root)' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand tune" -l procfs-root -d 'Read procfs from this directory instead of /proc' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand tune" -l state-dir -d 'Where tune keeps its journal, lock and history' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand tune" -l profile-dir -d 'Directory of user profiles, searched before the shipped ones' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand tune" -l dry-run -d 'Print the plan and stop; nothing changes'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand tune" -s y -l yes -d 'Apply without asking'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand tune" -l best-effort -d 'Keep what took when a setting fails or does not hold after the last step (exit 1, each such setting listed) instead of reverting the whole transaction'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand tune" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand tune" -s V -l version -d 'Print version'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand check" -l iface -d 'Only these interfaces' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand check" -s f -l format -d 'Output format' -r -f -a "table\t'Human-readable tables, 100 columns wide at most'
json\t'JSON, stable field names'
yaml\t'YAML'"
complete -c dpuctl -n "__fish_dpuctl_using_subcommand check" -l from -d 'Check a snapshot instead of this node' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand check" -l sysfs-root -d 'Read sysfs from this directory instead of /sys (a fixture tree or another root)' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand check" -l procfs-root -d 'Read procfs from this directory instead of /proc' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand check" -l state-dir -d 'Where tune keeps its journal, lock and history' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand check" -l profile-dir -d 'Directory of user profiles, searched before the shipped ones' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand check" -s q -l quiet -d 'Print nothing; the exit code tells'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand check" -s V -l version -d 'Print version'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand rollback" -l sysfs-root -d 'Read sysfs from this directory instead of /sys (a fixture tree or another root)' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand rollback" -l procfs-root -d 'Read procfs from this directory instead of /proc' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand rollback" -l state-dir -d 'Where tune keeps its journal, lock and history' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand rollback" -l profile-dir -d 'Directory of user profiles, searched before the shipped ones' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand rollback" -l cascade -d 'Roll back, newest first, the newer transactions that changed the same settings, then this one (without it, such a rollback is refused: it would leave a state nobody asked for)'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand rollback" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand rollback" -s V -l version -d 'Print version'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand watch" -l replay -d 'Show a recording (`--record FILE` of watch or stats) instead of this node, on the recording\'s clock' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand watch" -l speed -d 'Replay speed: 2 plays twice as fast, 0.5 at half speed' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand watch" -l sample-interval -d 'Counter sample interval, 100us and up (units: ns, us, ms, s)' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand watch" -l refresh -d 'Screen refresh, and the rate of the slower reads (driver counters, tx_timeout, temperatures, softnet)' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand watch" -l line-rate -d 'Line rate for utilization and bursts (10G, 25gbit, 100Gb/s, 400M); default: the link speed. Needed where the link reports none (veth, some VFs)' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand watch" -l burst-threshold -d 'Utilization above which a sample interval is part of a burst (50% or 0.5)' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand watch" -l config -d 'YAML file with thresholds and extra driver counter classes (format: `dpuctl stats --help`)' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand watch" -l threshold -d 'Alert threshold METRIC=LIMIT per second (0: any; "off": none); repeatable. Metrics: interface counters (rx_fifo_errors, rx_missed_errors, ...), tx_timeout, softnet_dropped, softnet_time_squeeze, driver counter classes (buffer_exhaustion, fifo_overflow, crc, pause, queue_drops), temperature_margin (degrees below critical)' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand watch" -l record -d 'Write every sample to FILE (read it back with --replay FILE)' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand watch" -l history -d 'Minutes of samples the flight recorder of `watch` keeps in memory (0: off; 16 MB at most)' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand watch" -l sysfs-root -d 'Read sysfs from this directory instead of /sys (a fixture tree or another root)' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand watch" -l procfs-root -d 'Read procfs from this directory instead of /proc' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand watch" -l state-dir -d 'Where tune keeps its journal, lock and history' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand watch" -l profile-dir -d 'Directory of user profiles, searched before the shipped ones' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand watch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand watch" -s V -l version -d 'Print version'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand stats" -s i -l interval -d 'Print every DURATION' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand stats" -s c -l count -d 'Stop after N intervals (default: run until interrupted)' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand stats" -s f -l format -d 'Output format' -r -f -a "table\t'A table per interval, and bursts as they end'
jsonl\t'One JSON object per line: per interval, and per burst as it ends'"
complete -c dpuctl -n "__fish_dpuctl_using_subcommand stats" -l replay -d 'Read samples from a recording instead of this node' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand stats" -l sample-interval -d 'Counter sample interval, 100us and up (units: ns, us, ms, s)' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand stats" -l refresh -d 'Screen refresh, and the rate of the slower reads (driver counters, tx_timeout, temperatures, softnet)' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand stats" -l line-rate -d 'Line rate for utilization and bursts (10G, 25gbit, 100Gb/s, 400M); default: the link speed. Needed where the link reports none (veth, some VFs)' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand stats" -l burst-threshold -d 'Utilization above which a sample interval is part of a burst (50% or 0.5)' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand stats" -l config -d 'YAML file with thresholds and extra driver counter classes (format: `dpuctl stats --help`)' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand stats" -l threshold -d 'Alert threshold METRIC=LIMIT per second (0: any; "off": none); repeatable. Metrics: interface counters (rx_fifo_errors, rx_missed_errors, ...), tx_timeout, softnet_dropped, softnet_time_squeeze, driver counter classes (buffer_exhaustion, fifo_overflow, crc, pause, queue_drops), temperature_margin (degrees below critical)' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand stats" -l record -d 'Write every sample to FILE (read it back with --replay FILE)' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand stats" -l history -d 'Minutes of samples the flight recorder of `watch` keeps in memory (0: off; 16 MB at most)' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand stats" -l sysfs-root -d 'Read sysfs from this directory instead of /sys (a fixture tree or another root)' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand stats" -l procfs-root -d 'Read procfs from this directory instead of /proc' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand stats" -l state-dir -d 'Where tune keeps its journal, lock and history' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand stats" -l profile-dir -d 'Directory of user profiles, searched before the shipped ones' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand stats" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand stats" -s V -l version -d 'Print version'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand exporter" -l listen -d 'Address and port to serve /metrics on (0.0.0.0:PORT or [::]:PORT to serve every address: an explicit choice)' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand exporter" -l raw-counter -d 'Export this driver counter (`ethtool -S` name) raw as `dpuctl_driver_stat`; `*` matches any run of characters; repeatable. Default: none (driver counters go out by class)' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand exporter" -l check -d 'Export the compliance of this profile (name or file), re-evaluated every --check-interval; repeatable' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand exporter" -l check-interval -d 'How often the --check profiles are compared with the node' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand exporter" -l sample-interval -d 'Counter sample interval, 100us and up (units: ns, us, ms, s)' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand exporter" -l refresh -d 'Screen refresh, and the rate of the slower reads (driver counters, tx_timeout, temperatures, softnet)' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand exporter" -l line-rate -d 'Line rate for utilization and bursts (10G, 25gbit, 100Gb/s, 400M); default: the link speed. Needed where the link reports none (veth, some VFs)' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand exporter" -l burst-threshold -d 'Utilization above which a sample interval is part of a burst (50% or 0.5)' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand exporter" -l config -d 'YAML file with thresholds and extra driver counter classes (format: `dpuctl stats --help`)' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand exporter" -l threshold -d 'Alert threshold METRIC=LIMIT per second (0: any; "off": none); repeatable. Metrics: interface counters (rx_fifo_errors, rx_missed_errors, ...), tx_timeout, softnet_dropped, softnet_time_squeeze, driver counter classes (buffer_exhaustion, fifo_overflow, crc, pause, queue_drops), temperature_margin (degrees below critical)' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand exporter" -l record -d 'Write every sample to FILE (read it back with --replay FILE)' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand exporter" -l history -d 'Minutes of samples the flight recorder of `watch` keeps in memory (0: off; 16 MB at most)' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand exporter" -l sysfs-root -d 'Read sysfs from this directory instead of /sys (a fixture tree or another root)' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand exporter" -l procfs-root -d 'Read procfs from this directory instead of /proc' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand exporter" -l state-dir -d 'Where tune keeps its journal, lock and history' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand exporter" -l profile-dir -d 'Directory of user profiles, searched before the shipped ones' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand exporter" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand exporter" -s V -l version -d 'Print version'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand capture; and not __fish_seen_subcommand_from analyze help" -l filter -d 'Capture filter in tcpdump syntax, e.g. \'udp port 4791\' or \'tcp and host 10.0.0.7\'' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand capture; and not __fish_seen_subcommand_from analyze help" -s d -l duration -d 'Stop after this long (10s, 1m, 500ms); with --count, whichever comes first' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand capture; and not __fish_seen_subcommand_from analyze help" -s c -l count -d 'Stop after N packets' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand capture; and not __fish_seen_subcommand_from analyze help" -s w -l write -d 'Also write the packets to FILE (pcap, nanosecond timestamps)' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand capture; and not __fish_seen_subcommand_from analyze help" -s s -l snaplen -d 'Bytes kept of each packet (headers are enough for the analysis)' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand capture; and not __fish_seen_subcommand_from analyze help" -s r -l resolution -d 'Bin width for rates and bursts (1us, 10us, 1ms)' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand capture; and not __fish_seen_subcommand_from analyze help" -l line-rate -d 'Line rate bursts are measured against (10G, 25gbit, 100M). Default: the link speed of the interface (live), the `if_speed` of a pcapng file, else 10G; the output says which' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand capture; and not __fish_seen_subcommand_from analyze help" -s t -l threshold -d 'Share of the line rate above which a bin is part of a burst (0.5 or 50%)' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand capture; and not __fish_seen_subcommand_from analyze help" -l top -d 'Flows listed in each top list' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand capture; and not __fish_seen_subcommand_from analyze help" -s f -l format -d 'Output format' -r -f -a "table\t'Human-readable tables, 100 columns wide at most'
json\t'JSON, stable field names'
yaml\t'YAML'"
complete -c dpuctl -n "__fish_dpuctl_using_subcommand capture; and not __fish_seen_subcommand_from analyze help" -l sysfs-root -d 'Read sysfs from this directory instead of /sys (a fixture tree or another root)' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand capture; and not __fish_seen_subcommand_from analyze help" -l procfs-root -d 'Read procfs from this directory instead of /proc' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand capture; and not __fish_seen_subcommand_from analyze help" -l state-dir -d 'Where tune keeps its journal, lock and history' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand capture; and not __fish_seen_subcommand_from analyze help" -l profile-dir -d 'Directory of user profiles, searched before the shipped ones' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand capture; and not __fish_seen_subcommand_from analyze help" -l bins -d 'Include every non-empty bin in JSON/YAML output (large for long captures)'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand capture; and not __fish_seen_subcommand_from analyze help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand capture; and not __fish_seen_subcommand_from analyze help" -s V -l version -d 'Print version'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand capture; and not __fish_seen_subcommand_from analyze help" -a "analyze" -d 'Analyze pcap/pcapng files: rates per bin, microbursts, inter-arrival times, top flows, TCP hints and a rate chart. One report per file, or one for all with --merge'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand capture; and not __fish_seen_subcommand_from analyze help" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand capture; and __fish_seen_subcommand_from analyze" -s r -l resolution -d 'Bin width for rates and bursts (1us, 10us, 1ms)' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand capture; and __fish_seen_subcommand_from analyze" -l line-rate -d 'Line rate bursts are measured against (10G, 25gbit, 100M). Default: the link speed of the interface (live), the `if_speed` of a pcapng file, else 10G; the output says which' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand capture; and __fish_seen_subcommand_from analyze" -s t -l threshold -d 'Share of the line rate above which a bin is part of a burst (0.5 or 50%)' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand capture; and __fish_seen_subcommand_from analyze" -l top -d 'Flows listed in each top list' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand capture; and __fish_seen_subcommand_from analyze" -s f -l format -d 'Output format' -r -f -a "table\t'Human-readable tables, 100 columns wide at most'
json\t'JSON, stable field names'
yaml\t'YAML'"
complete -c dpuctl -n "__fish_dpuctl_using_subcommand capture; and __fish_seen_subcommand_from analyze" -l sysfs-root -d 'Read sysfs from this directory instead of /sys (a fixture tree or another root)' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand capture; and __fish_seen_subcommand_from analyze" -l procfs-root -d 'Read procfs from this directory instead of /proc' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand capture; and __fish_seen_subcommand_from analyze" -l state-dir -d 'Where tune keeps its journal, lock and history' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand capture; and __fish_seen_subcommand_from analyze" -l profile-dir -d 'Directory of user profiles, searched before the shipped ones' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand capture; and __fish_seen_subcommand_from analyze" -l merge -d 'Analyze the files as one capture: packets merged in time order across them, so a burst that spans a file rotation counts once. One report (JSON: `files` lists them)'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand capture; and __fish_seen_subcommand_from analyze" -l bins -d 'Include every non-empty bin in JSON/YAML output (large for long captures)'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand capture; and __fish_seen_subcommand_from analyze" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand capture; and __fish_seen_subcommand_from analyze" -s V -l version -d 'Print version'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand capture; and __fish_seen_subcommand_from help" -f -a "analyze" -d 'Analyze pcap/pcapng files: rates per bin, microbursts, inter-arrival times, top flows, TCP hints and a rate chart. One report per file, or one for all with --merge'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand capture; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand troubleshoot" -l symptom -d 'The symptom: latency (queue backlog, IRQ affinity), throughput (rates, link), or auto (decided from drops and backlog against link utilization; the reason is shown). Without it on a terminal, troubleshoot asks' -r -f -a "latency\t'Latency is up: queue backlog, IRQ affinity, capture analysis, protocol errors'
throughput\t'Throughput is down: throughput, link bandwidth, capture analysis, protocol errors'
auto\t'Decide from the counters'"
complete -c dpuctl -n "__fish_dpuctl_using_subcommand troubleshoot" -l iface -d 'Only these interfaces (default: all but lo)' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand troubleshoot" -l window -d 'How long to measure counter rates: 5s, 500ms, 1m (100ms to 10m)' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand troubleshoot" -s f -l format -d 'Output format on stdout' -r -f -a "text\t'Human-readable, 100 columns wide at most'
json\t'JSON, stable field names'"
complete -c dpuctl -n "__fish_dpuctl_using_subcommand troubleshoot" -l report -d 'Also write the findings with all evidence to FILE (markdown for .md, JSON for .json, else --report-format)' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand troubleshoot" -l report-format -d 'Format of --report when its extension does not tell' -r -f -a "markdown\t'Markdown, for a ticket'
json\t'JSON'"
complete -c dpuctl -n "__fish_dpuctl_using_subcommand troubleshoot" -l from -d 'Read a snapshot file instead of this node: no counter rates, so the checks that need them say n/a; the others run' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand troubleshoot" -l capture -d 'Capture files (pcap or pcapng, e.g. from `dpuctl capture IFACE -w FILE`) for the capture-analysis step: their microbursts (10us bins) and TCP retransmissions become evidence. Repeatable; works with --from too' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand troubleshoot" -l line-rate -d 'Line rate (10G, 25gbit, 100G) that utilization, bursts and the socket-buffer need are judged against, for every interface examined and for the captures. Without it: a physical link\'s speed, a capture file\'s `if_speed`; a virtual device (veth, ...) has none (its reported speed is nominal), so those judgments say n/a' -r
complete -c dpuctl -n "__fish_dpuctl_using_subcommand troubleshoot" -l sysfs-root -d 'Read sysfs from this directory instead of /sys (a fixture tree or another root)' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand troubleshoot" -l procfs-root -d 'Read procfs from this directory instead of /proc' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand troubleshoot" -l state-dir -d 'Where tune keeps its journal, lock and history' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand troubleshoot" -l profile-dir -d 'Directory of user profiles, searched before the shipped ones' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand troubleshoot" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand troubleshoot" -s V -l version -d 'Print version'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand confirm" -l sysfs-root -d 'Read sysfs from this directory instead of /sys (a fixture tree or another root)' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand confirm" -l procfs-root -d 'Read procfs from this directory instead of /proc' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand confirm" -l state-dir -d 'Where tune keeps its journal, lock and history' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand confirm" -l profile-dir -d 'Directory of user profiles, searched before the shipped ones' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand confirm" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand confirm" -s V -l version -d 'Print version'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand history" -s f -l format -d 'Output format' -r -f -a "table\t'Human-readable tables, 100 columns wide at most'
json\t'JSON, stable field names'
yaml\t'YAML'"
complete -c dpuctl -n "__fish_dpuctl_using_subcommand history" -l sysfs-root -d 'Read sysfs from this directory instead of /sys (a fixture tree or another root)' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand history" -l procfs-root -d 'Read procfs from this directory instead of /proc' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand history" -l state-dir -d 'Where tune keeps its journal, lock and history' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand history" -l profile-dir -d 'Directory of user profiles, searched before the shipped ones' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand history" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand history" -s V -l version -d 'Print version'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand confirm-watch" -l sysfs-root -d 'Read sysfs from this directory instead of /sys (a fixture tree or another root)' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand confirm-watch" -l procfs-root -d 'Read procfs from this directory instead of /proc' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand confirm-watch" -l state-dir -d 'Where tune keeps its journal, lock and history' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand confirm-watch" -l profile-dir -d 'Directory of user profiles, searched before the shipped ones' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand confirm-watch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand confirm-watch" -s V -l version -d 'Print version'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand completions" -l sysfs-root -d 'Read sysfs from this directory instead of /sys (a fixture tree or another root)' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand completions" -l procfs-root -d 'Read procfs from this directory instead of /proc' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand completions" -l state-dir -d 'Where tune keeps its journal, lock and history' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand completions" -l profile-dir -d 'Directory of user profiles, searched before the shipped ones' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand completions" -s V -l version -d 'Print version'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand man" -l sysfs-root -d 'Read sysfs from this directory instead of /sys (a fixture tree or another root)' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand man" -l procfs-root -d 'Read procfs from this directory instead of /proc' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand man" -l state-dir -d 'Where tune keeps its journal, lock and history' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand man" -l profile-dir -d 'Directory of user profiles, searched before the shipped ones' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand man" -s V -l version -d 'Print version'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand help; and not __fish_seen_subcommand_from show snapshot profile tune check rollback watch stats exporter capture troubleshoot confirm history confirm-watch completions man help" -f -a "show" -d 'Show interfaces: link, rings, channels, coalescing, pause, offloads, queues, IRQs, counters, temperatures and network sysctls'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand help; and not __fish_seen_subcommand_from show snapshot profile tune check rollback watch stats exporter capture troubleshoot confirm history confirm-watch completions man help" -f -a "snapshot" -d 'Write the whole node state plus a counter sample to a JSON file (or stdout)'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand help; and not __fish_seen_subcommand_from show snapshot profile tune check rollback watch stats exporter capture troubleshoot confirm history confirm-watch completions man help" -f -a "profile" -d 'List, show and validate tuning profiles (`dpuctl profile --help` documents the format)'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand help; and not __fish_seen_subcommand_from show snapshot profile tune check rollback watch stats exporter capture troubleshoot confirm history confirm-watch completions man help" -f -a "tune" -d 'Apply a tuning profile: show the plan, ask, journal the old values, apply, and roll back on any failure'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand help; and not __fish_seen_subcommand_from show snapshot profile tune check rollback watch stats exporter capture troubleshoot confirm history confirm-watch completions man help" -f -a "check" -d 'Compare the node with a profile: exit 0 compliant, 1 drift, 2 error'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand help; and not __fish_seen_subcommand_from show snapshot profile tune check rollback watch stats exporter capture troubleshoot confirm history confirm-watch completions man help" -f -a "rollback" -d 'Restore the values recorded before a tune transaction (default: the last one)'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand help; and not __fish_seen_subcommand_from show snapshot profile tune check rollback watch stats exporter capture troubleshoot confirm history confirm-watch completions man help" -f -a "watch" -d 'Live triage screen: rates, drops per queue, microbursts, temperatures and alerts'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand help; and not __fish_seen_subcommand_from show snapshot profile tune check rollback watch stats exporter capture troubleshoot confirm history confirm-watch completions man help" -f -a "stats" -d 'Stream the rates, bursts and alerts of `watch` without a screen, for scripts'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand help; and not __fish_seen_subcommand_from show snapshot profile tune check rollback watch stats exporter capture troubleshoot confirm history confirm-watch completions man help" -f -a "exporter" -d 'Serve the monitor\'s counters, microbursts and alerts to Prometheus (GET /metrics)'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand help; and not __fish_seen_subcommand_from show snapshot profile tune check rollback watch stats exporter capture troubleshoot confirm history confirm-watch completions man help" -f -a "capture" -d 'Capture packets (libpcap) and find microsecond bursts, or analyze capture files'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand help; and not __fish_seen_subcommand_from show snapshot profile tune check rollback watch stats exporter capture troubleshoot confirm history confirm-watch completions man help" -f -a "troubleshoot" -d 'Walk the latency/throughput decision tree with evidence gathered from the node'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand help; and not __fish_seen_subcommand_from show snapshot profile tune check rollback watch stats exporter capture troubleshoot confirm history confirm-watch completions man help" -f -a "confirm" -d 'Keep the changes of a `tune --confirm-timeout` transaction'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand help; and not __fish_seen_subcommand_from show snapshot profile tune check rollback watch stats exporter capture troubleshoot confirm history confirm-watch completions man help" -f -a "history" -d 'List tune transactions and their fate'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand help; and not __fish_seen_subcommand_from show snapshot profile tune check rollback watch stats exporter capture troubleshoot confirm history confirm-watch completions man help" -f -a "confirm-watch" -d 'Reverts a transaction when its confirm timeout expires (started by `tune`)'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand help; and not __fish_seen_subcommand_from show snapshot profile tune check rollback watch stats exporter capture troubleshoot confirm history confirm-watch completions man help" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand help; and not __fish_seen_subcommand_from show snapshot profile tune check rollback watch stats exporter capture troubleshoot confirm history confirm-watch completions man help" -f -a "man" -d 'Print the man page (roff) of dpuctl or of one subcommand to stdout'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand help; and not __fish_seen_subcommand_from show snapshot profile tune check rollback watch stats exporter capture troubleshoot confirm history confirm-watch completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand help; and __fish_seen_subcommand_from profile" -f -a "list" -d 'List the shipped and user profiles'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand help; and __fish_seen_subcommand_from profile" -f -a "show" -d 'Show a profile, or with --resolved what it means on this node'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand help; and __fish_seen_subcommand_from profile" -f -a "validate" -d 'Check profile files; every error with `file:line:column`. Exit 0 valid, 2 invalid'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand help; and __fish_seen_subcommand_from capture" -f -a "analyze" -d 'Analyze pcap/pcapng files: rates per bin, microbursts, inter-arrival times, top flows, TCP hints and a rate chart. One report per file, or one for all with --merge'
