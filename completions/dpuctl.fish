# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_dpuctl_global_optspecs
    string join \n sysfs-root= procfs-root= h/help V/version
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
complete -c dpuctl -n "__fish_dpuctl_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dpuctl -n "__fish_dpuctl_needs_command" -s V -l version -d 'Print version'
complete -c dpuctl -n "__fish_dpuctl_needs_command" -f -a "show" -d 'Show interfaces: link, rings, channels, coalescing, pause, offloads, queues, IRQs, counters, temperatures and network sysctls'
complete -c dpuctl -n "__fish_dpuctl_needs_command" -f -a "snapshot" -d 'Write the whole node state plus a counter sample to a JSON file (or stdout)'
complete -c dpuctl -n "__fish_dpuctl_needs_command" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c dpuctl -n "__fish_dpuctl_needs_command" -f -a "man" -d 'Print the man page (roff) of dpuctl or of one subcommand to stdout'
complete -c dpuctl -n "__fish_dpuctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand show" -s f -l format -d 'Output format' -r -f -a "table\t'Human-readable tables, 100 columns wide at most'
json\t'JSON, stable field names'
yaml\t'YAML'"
complete -c dpuctl -n "__fish_dpuctl_using_subcommand show" -l from -d 'Read a snapshot file (from `dpuctl snapshot`) instead of this node' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand show" -l sysfs-root -d 'Read sysfs from this directory instead of /sys (a fixture tree or another root)' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand show" -l procfs-root -d 'Read procfs from this directory instead of /proc' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand show" -l all -d 'Include the loopback interface'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand show" -s V -l version -d 'Print version'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand snapshot" -s o -l output -d 'Write here instead of stdout' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand snapshot" -l sysfs-root -d 'Read sysfs from this directory instead of /sys (a fixture tree or another root)' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand snapshot" -l procfs-root -d 'Read procfs from this directory instead of /proc' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand snapshot" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand snapshot" -s V -l version -d 'Print version'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand completions" -l sysfs-root -d 'Read sysfs from this directory instead of /sys (a fixture tree or another root)' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand completions" -l procfs-root -d 'Read procfs from this directory instead of /proc' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand completions" -s V -l version -d 'Print version'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand man" -l sysfs-root -d 'Read sysfs from this directory instead of /sys (a fixture tree or another root)' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand man" -l procfs-root -d 'Read procfs from this directory instead of /proc' -r -F
complete -c dpuctl -n "__fish_dpuctl_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand man" -s V -l version -d 'Print version'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand help; and not __fish_seen_subcommand_from show snapshot completions man help" -f -a "show" -d 'Show interfaces: link, rings, channels, coalescing, pause, offloads, queues, IRQs, counters, temperatures and network sysctls'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand help; and not __fish_seen_subcommand_from show snapshot completions man help" -f -a "snapshot" -d 'Write the whole node state plus a counter sample to a JSON file (or stdout)'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand help; and not __fish_seen_subcommand_from show snapshot completions man help" -f -a "completions" -d 'Print a shell completion script to stdout'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand help; and not __fish_seen_subcommand_from show snapshot completions man help" -f -a "man" -d 'Print the man page (roff) of dpuctl or of one subcommand to stdout'
complete -c dpuctl -n "__fish_dpuctl_using_subcommand help; and not __fish_seen_subcommand_from show snapshot completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
