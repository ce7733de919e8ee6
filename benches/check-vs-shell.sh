#!/usr/bin/env bash
# check-vs-shell.sh - time `dpuctl check` of a profile the node complies with against shell
# scripts doing the same checks with ethtool, sysfs files and sysctl.
#
#   benches/check-vs-shell.sh [OPTIONS]           on the host: a network namespace of its own
#                                                 with a veth pair cva/cvb (4 rx + 4 tx queues)
#   benches/check-vs-shell.sh --lab [OPTIONS]     boots the lab (tests/lab/lab.sh) and runs
#                                                 itself there on virtio0, igb0 and nsim0
#   benches/check-vs-shell.sh --here [OPTIONS]    in the current network namespace, on the
#                                                 --iface interfaces (default: all but lo)
# Options:
#   --iface IF     an interface to cover (repeatable; --here and --lab)
#   -n RUNS        timed runs of each contender (default 30, after 3 warm-up runs)
#   --dpuctl PATH  the binary (default: target/release/dpuctl; `cargo build --release` first)
#   --keep DIR     keep the generated profile and shell scripts in DIR
#   --no-netns     the same as --here
#
# What it does: reads the interfaces' current rings, channels, coalescing, features, MTU,
# txqueuelen, RPS/XPS masks and RPS flow counts with ethtool (-g -l -c -k) and sysfs, and a
# set of network sysctls, then writes
#   profile.yaml   a dpuctl profile asking for exactly those values,
#   check.sh       the same checks in shell: ethtool once per interface and kind, `cat` for
#                  every sysfs file, `sysctl -n` for every sysctl,
#   check-lean.sh  the same with bash builtins (`read`) instead of cat and sysctl: only the
#                  ethtool runs fork, the fastest a shell check gets,
# verifies that all three find the node compliant (exit 0), and times RUNS runs of
# `dpuctl check profile.yaml --quiet`, the same with --iface, and both scripts, interleaved.
# Prints the medians, minimums and the ratios. Target: dpuctl at least 10x faster
# than the shell script and under 20 ms.
#
# Changes nothing outside its own namespace. In the default mode it first sets RPS (every CPU,
# flow count 128) and XPS (queue N on CPU N mod CPUs) on its own veth cva so that the masks
# compared are not all zero; --here and --lab only read. Needs root for the namespace and the
# lab; --here reads as any user where the kernel allows (ethtool -c/-g need no privilege).

set -Eeuo pipefail

usage() {
  sed -n '2,/^set /s/^# \{0,1\}//p' "$0" | sed '$d' >&2
  exit 2
}
die() {
  echo "check-vs-shell: $*" >&2
  exit 1
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
mode=netns runs=30 dpuctl=$repo/target/release/dpuctl keep='' keep_lab_out=''
ifaces=()
while [ $# -gt 0 ]; do
  case $1 in
    --lab) mode=lab ;;
    --here | --no-netns) mode=here ;;
    --iface) ifaces+=("${2:?--iface wants a name}") && shift ;;
    -n) runs=${2:?-n wants a number} && shift ;;
    --dpuctl) dpuctl=${2:?--dpuctl wants a path} && shift ;;
    --keep) keep=${2:?--keep wants a directory} && shift ;;
    --keep-lab-out) keep_lab_out=1 ;; # set by --lab: keep the files in $LAB_OUT
    -h | --help) usage ;;
    *) echo "check-vs-shell: unknown argument $1" >&2 && usage ;;
  esac
  shift
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "-n wants a positive number"
[ -x "$dpuctl" ] || die "no dpuctl binary at $dpuctl (cargo build --release, or --dpuctl PATH)"
dpuctl=$(cd "$(dirname "$dpuctl")" && pwd)/$(basename "$dpuctl")
if [ -n "$keep" ]; then
  mkdir -p "$keep"
  keep=$(cd "$keep" && pwd)
fi
common=(-n "$runs" --dpuctl "$dpuctl")

# ---- mode: lab -----------------------------------------------------------------------------

if [ "$mode" = lab ]; then
  [ ${#ifaces[@]} -gt 0 ] || ifaces=(virtio0 igb0 nsim0)
  args=(--here "${common[@]}")
  for i in "${ifaces[@]}"; do args+=(--iface "$i"); done
  if [ -n "$keep" ]; then
    export LAB_OUT=$keep
    args+=(--keep-lab-out)
  fi
  cd "$repo"
  exec tests/lab/lab.sh -- bash benches/check-vs-shell.sh "${args[@]}"
fi

# ---- mode: netns (the default) -------------------------------------------------------------

if [ "$mode" = netns ]; then
  [ "$(id -u)" = 0 ] || die "needs root to create a network namespace (or use --here)"
  [ ${#ifaces[@]} -eq 0 ] || die "--iface goes with --here or --lab"
  ns=dpcvs-$$
  trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip -n "$ns" link add name cva numtxqueues 4 numrxqueues 4 type veth \
    peer name cvb numtxqueues 4 numrxqueues 4
  ip -n "$ns" link set dev cva up
  ip -n "$ns" link set dev cvb up
  ncpu=$(nproc)
  ((ncpu <= 32)) || ncpu=32
  # shellcheck disable=SC2016 # expanded by the inner shell
  ip netns exec "$ns" bash -c '
    n=$1
    for q in /sys/class/net/cva/queues/rx-*; do
      printf "%x\n" $(((1 << n) - 1)) > "$q/rps_cpus"
      echo 128 > "$q/rps_flow_cnt"
    done
    for q in /sys/class/net/cva/queues/tx-*; do
      i=${q##*-}
      printf "%x\n" $((1 << (i % n))) > "$q/xps_cpus"
    done' prep "$ncpu"
  args=(--here "${common[@]}" --iface cva --iface cvb)
  [ -z "$keep" ] || args+=(--keep "$keep")
  rc=0
  ip netns exec "$ns" bash "$0" "${args[@]}" || rc=$?
  exit "$rc"
fi

# ---- mode: here ----------------------------------------------------------------------------

if [ ${#ifaces[@]} -eq 0 ]; then
  for d in /sys/class/net/*; do
    [ "${d##*/}" = lo ] || ifaces+=("${d##*/}")
  done
fi
for i in "${ifaces[@]}"; do
  [ -e "/sys/class/net/$i" ] || die "no interface $i here"
done
command -v ethtool > /dev/null || die "needs ethtool (apt-get install ethtool)"
[ -n "${EPOCHREALTIME:-}" ] || die "needs bash 5 (EPOCHREALTIME)"

work=$(mktemp -d "${TMPDIR:-/tmp}/check-vs-shell.XXXXXX")
trap 'rm -rf "$work"' EXIT
out=$work
[ -z "$keep" ] || out=$keep
[ -z "$keep_lab_out" ] || out=${LAB_OUT:?}
mkdir -p "$work/state" "$work/profiles.d"

# The parsing both the generator and the generated scripts use: one ethtool run's output into
# the associative array E, label -> first word of the value ("on" of "off [fixed]" is "off").
# With a SECTION, only the lines after the line starting with it ("Current hardware
# settings:" of -g and -l). "Adaptive RX: on  TX: off" gives E[Adaptive RX] and E[Adaptive TX].
cat > "$work/parse.sh" << 'EOF'
declare -A E
parse() {
  local line k in=1
  E=()
  [ -z "${2:-}" ] || in=0
  while IFS= read -r line; do
    line=${line#"${line%%[![:space:]]*}"}
    if ((!in)); then
      [[ $line != "$2"* ]] || in=1
      continue
    fi
    [[ $line == *:* ]] || continue
    k=${line%%:*}
    line=${line#*:}
    line=${line#"${line%%[![:space:]]*}"}
    E[$k]=${line%%[[:space:]]*}
    case $k in
      "Adaptive RX" | "CQE mode RX") E[${k% RX} TX]=${line##*TX: } ;;
    esac
  done <<< "$1"
}
EOF
# The readers: check.sh forks cat and sysctl, check-lean.sh reads with builtins.
cat > "$work/read-plain.sh" << 'EOF'
get_file() { v=$(cat "$1" 2> /dev/null) || v='?'; }
get_sysctl() { v=$(sysctl -n "$1" 2> /dev/null) || v='?'; v=${v//$'\t'/ }; }
EOF
cat > "$work/read-lean.sh" << 'EOF'
get_file() { read -r v < "$1" || v='?'; } 2> /dev/null
get_sysctl() { read -r v < "/proc/sys/${1//.//}" || v='?'; v=${v//$'\t'/ }; } 2> /dev/null
EOF
# shellcheck source=/dev/null
. "$work/parse.sh"
# shellcheck source=/dev/null
. "$work/read-lean.sh"

# A kernel CPU mask ("00000000,00000003") as a CPU list ("0-1" style, here "0,1"), or "none".
mask_to_list() {
  local m=${1//,/} i d b cpu=0 list=''
  [[ $m =~ ^[0-9a-fA-F]+$ ]] || { echo '?' && return; }
  for ((i = ${#m} - 1; i >= 0; i--)); do
    d=$((16#${m:i:1}))
    for b in 0 1 2 3; do
      ((d >> b & 1)) && list+=${list:+,}$((cpu + b))
    done
    cpu=$((cpu + 4))
  done
  echo "${list:-none}"
}

# Generated pieces: the profile's interface blocks and sysctls, and the check lines.
v=''
yaml_ifaces='' yaml_sysctl='' checks='' nsettings=0 notes=()
check() { # DESCRIPTION VALUE: a check line comparing $v with VALUE
  checks+=$(printf 'want %q %q' "$1" "$2")$'\n'
  nsettings=$((nsettings + 1))
}
yaml_value() { # a YAML scalar: numbers and on/off/true/false bare, the rest quoted
  if [[ $1 =~ ^([0-9]+|on|off|true|false)$ ]]; then echo "$1"; else echo "\"$1\""; fi
}

for ifc in "${ifaces[@]}"; do
  block="  - match: {name: \"$ifc\"}"$'\n'
  # Rings and channels: the "Current hardware settings" of ethtool -g and -l.
  for kind in rings channels; do
    opt=-g
    [ $kind = rings ] || opt=-l
    text=$(ethtool $opt "$ifc" 2> /dev/null) || {
      notes+=("$ifc: no $kind (ethtool $opt not supported)")
      continue
    }
    parse "$text" "Current hardware settings:"
    if [ $kind = rings ]; then
      fields=("RX:rx" "RX Mini:rx_mini" "RX Jumbo:rx_jumbo" "TX:tx")
    else
      fields=("RX:rx" "TX:tx" "Other:other" "Combined:combined")
    fi
    items=''
    checks+="parse \"\$(ethtool $opt $ifc 2> /dev/null)\" \"Current hardware settings:\""$'\n'
    for f in "${fields[@]}"; do
      label=${f%%:*} key=${f#*:}
      val=${E[$label]-}
      [[ $val =~ ^[0-9]+$ ]] || continue
      # A zero ring or channel count is what the driver reports for what it lacks.
      [ "$val" != 0 ] || continue
      items+="${items:+, }$key: $val"
      checks+="v=\${E[$label]-?}; "
      check "$ifc $kind $key" "$val"
    done
    [ -z "$items" ] || block+="    $kind: {$items}"$'\n'
  done

  # Coalescing: ethtool -c.
  if text=$(ethtool -c "$ifc" 2> /dev/null); then
    parse "$text"
    items=''
    checks+="parse \"\$(ethtool -c $ifc 2> /dev/null)\""$'\n'
    for f in "rx-usecs:rx_usecs" "rx-frames:rx_max_frames" "rx-usecs-irq:rx_usecs_irq" \
      "tx-usecs:tx_usecs" "tx-frames:tx_max_frames" "tx-usecs-irq:tx_usecs_irq" \
      "Adaptive RX:use_adaptive_rx" "Adaptive TX:use_adaptive_tx"; do
      label=${f%%:*} key=${f#*:}
      val=${E[$label]-}
      case $val in
        on) yv=true ;;
        off) yv=false ;;
        *) [[ $val =~ ^[0-9]+$ ]] || continue && yv=$val ;;
      esac
      items+="${items:+, }$key: $yv"
      checks+="v=\${E[$label]-?}; "
      check "$ifc coalesce $key" "$val"
    done
    [ -z "$items" ] || block+="    coalesce: {$items}"$'\n'
  else
    notes+=("$ifc: no coalescing (ethtool -c not supported)")
  fi

  # Features: ethtool -k, legacy names for the short ones, kernel names for the rest.
  if text=$(ethtool -k "$ifc" 2> /dev/null); then
    parse "$text"
    items=''
    checks+="parse \"\$(ethtool -k $ifc 2> /dev/null)\""$'\n'
    for f in generic-receive-offload:gro large-receive-offload:lro \
      generic-segmentation-offload:gso receive-hashing:rxhash ntuple-filters:ntuple \
      rx-vlan-offload:rxvlan tx-vlan-offload:txvlan tx-tcp-segmentation tx-tcp6-segmentation \
      tx-scatter-gather tx-checksum-ip-generic rx-gro-hw rx-gro-list rx-udp-gro-forwarding \
      tx-udp-segmentation tx-gso-list highdma tx-nocache-copy rx-all rx-fcs loopback; do
      label=${f%%:*} key=${f#*:}
      val=${E[$label]-}
      [[ $val == on || $val == off ]] || continue
      items+="${items:+, }$key: $val"
      checks+="v=\${E[$label]-?}; "
      check "$ifc feature $key" "$val"
    done
    [ -z "$items" ] || block+="    features: {$items}"$'\n'
  else
    notes+=("$ifc: no features (ethtool -k failed)")
  fi

  # MTU and txqueuelen from sysfs.
  sys=/sys/class/net/$ifc
  for f in mtu:mtu tx_queue_len:txqueuelen; do
    get_file "$sys/${f%%:*}"
    block+="    ${f#*:}: $v"$'\n'
    checks+="get_file $sys/${f%%:*}; "
    check "$ifc ${f#*:}" "$v"
  done

  # RPS: one CPU set and flow count for every receive queue, as a profile has it.
  masks=() flows=()
  for q in "$sys"/queues/rx-*; do
    get_file "$q/rps_cpus"
    masks+=("$v")
    get_file "$q/rps_flow_cnt"
    flows+=("$v")
  done
  items=''
  if [ ${#masks[@]} -gt 0 ] && [[ ${masks[0]} != '?' ]] &&
    [ "$(printf '%s\n' "${masks[@]}" | sort -u | wc -l)" = 1 ]; then
    items="cpus: \"$(mask_to_list "${masks[0]}")\""
    for q in "$sys"/queues/rx-*; do
      checks+="get_file $q/rps_cpus; "
      check "$ifc ${q##*/} rps_cpus" "${masks[0]}"
    done
  else
    notes+=("$ifc: RPS left out (receive queues differ, or no rps_cpus)")
  fi
  if [ ${#flows[@]} -gt 0 ] && [[ ${flows[0]} =~ ^[0-9]+$ ]] &&
    [ "$(printf '%s\n' "${flows[@]}" | sort -u | wc -l)" = 1 ]; then
    items+="${items:+, }flow_cnt: ${flows[0]}"
    for q in "$sys"/queues/rx-*; do
      checks+="get_file $q/rps_flow_cnt; "
      check "$ifc ${q##*/} rps_flow_cnt" "${flows[0]}"
    done
  fi
  [ -z "$items" ] || block+="    rps: {$items}"$'\n'

  # XPS: the same set on every queue (mode all), or one CPU per queue in CPU order, wrapping
  # (mode spread, when none of the CPUs is a second hyperthread: then spread order is CPU
  # order).
  masks=() lists=()
  for q in "$sys"/queues/tx-*; do
    get_file "$q/xps_cpus"
    masks+=("$v")
    lists+=("$(mask_to_list "$v")")
  done
  xps=''
  if [ ${#masks[@]} -eq 0 ] || [[ " ${lists[*]} " == *" ? "* ]]; then
    :
  elif [ "$(printf '%s\n' "${lists[@]}" | sort -u | wc -l)" = 1 ]; then
    xps="{cpus: \"${lists[0]}\", mode: all}"
  else
    mapfile -t cpus <<< "$(printf '%s\n' "${lists[@]}" | sort -un)"
    ok=1
    for c in "${cpus[@]}"; do
      [[ $c =~ ^[0-9]+$ ]] || ok=0
      [ "$ok" = 1 ] || break
      sib=$(< "/sys/devices/system/cpu/cpu$c/topology/thread_siblings_list")
      [ "${sib%%[,-]*}" = "$c" ] || ok=0
    done
    for i in "${!lists[@]}"; do
      [ "$ok" = 1 ] && [ "${lists[i]}" = "${cpus[i % ${#cpus[@]}]}" ] || ok=0
    done
    [ "$ok" = 0 ] || xps="{cpus: \"$(
      IFS=,
      echo "${cpus[*]}"
    )\", mode: spread}"
  fi
  if [ -n "$xps" ]; then
    block+="    xps: $xps"$'\n'
    i=0
    for q in "$sys"/queues/tx-*; do
      checks+="get_file $q/xps_cpus; "
      check "$ifc ${q##*/} xps_cpus" "${masks[i]}"
      i=$((i + 1))
    done
  else
    notes+=("$ifc: XPS left out (no xps_cpus, or masks a profile cannot express)")
  fi
  yaml_ifaces+=$block
done

# Network sysctls dpuctl knows, those present in this namespace.
for k in net.core.somaxconn net.core.rmem_default net.core.rmem_max net.core.wmem_default \
  net.core.wmem_max net.core.netdev_max_backlog net.core.netdev_budget net.core.default_qdisc \
  net.ipv4.tcp_rmem net.ipv4.tcp_wmem net.ipv4.tcp_mem net.ipv4.ip_local_port_range \
  net.ipv4.tcp_congestion_control net.ipv4.tcp_mtu_probing net.ipv4.tcp_slow_start_after_idle \
  net.ipv4.tcp_timestamps net.ipv4.tcp_sack; do
  [ -e "/proc/sys/${k//.//}" ] || continue
  get_sysctl "$k"
  yaml_sysctl+="  $k: $(yaml_value "$v")"$'\n'
  checks+="get_sysctl $k; "
  check "sysctl $k" "$v"
done

{
  echo "name: profile"
  echo "description: check-vs-shell, the current settings of ${ifaces[*]}"
  [ -z "$yaml_sysctl" ] || printf 'sysctl:\n%s' "$yaml_sysctl"
  printf 'interfaces:\n%s' "$yaml_ifaces"
} > "$out/profile.yaml"

for variant in plain lean; do
  f=$out/check.sh
  [ $variant = plain ] || f=$out/check-lean.sh
  {
    echo '#!/usr/bin/env bash'
    echo "# Checks ${ifaces[*]} and the sysctls against the values profile.yaml asks for."
    echo '# Exit 0 compliant, 1 drift (one line per setting on stdout).'
    echo 'drift=0'
    # shellcheck disable=SC2016 # the generated script expands them
    echo 'want() { [ "$v" = "$2" ] || { echo "drift: $1: $v, want $2"; drift=1; }; }'
    cat "$work/parse.sh" "$work/read-$variant.sh"
    printf '%s' "$checks"
    # shellcheck disable=SC2016 # the generated script expands it
    echo 'exit "$drift"'
  } > "$f"
  chmod +x "$f"
done

export DPUCTL_STATE_DIR=$work/state DPUCTL_PROFILE_DIR=$work/profiles.d
unset DPUCTL_SYSFS DPUCTL_PROCFS
iface_args=()
for i in "${ifaces[@]}"; do iface_args+=(--iface "$i"); done
names=("dpuctl check" "dpuctl check --iface" "shell (ethtool, cat, sysctl -n)" "shell (ethtool, builtins)")
cmds=(
  "$(printf '%q ' "$dpuctl" check "$out/profile.yaml" --quiet)"
  "$(printf '%q ' "$dpuctl" check "$out/profile.yaml" --quiet "${iface_args[@]}")"
  "$(printf '%q ' bash "$out/check.sh")"
  "$(printf '%q ' bash "$out/check-lean.sh")"
)

# All of them must find the node compliant before anything is timed.
if ! "$dpuctl" check "$out/profile.yaml" > "$work/dpuctl.out" 2> "$work/dpuctl.err"; then
  cat "$work/dpuctl.out" "$work/dpuctl.err" "$out/profile.yaml" >&2
  die "dpuctl check does not find the node compliant with the profile just read"
fi
summary=$(tail -n 1 "$work/dpuctl.out")
for f in check.sh check-lean.sh; do
  bash "$out/$f" > "$work/shell.out" 2>&1 || {
    cat "$work/shell.out" >&2
    die "$f does not find the node compliant"
  }
done

# Timing: warm-up, then the contenders one after the other in each round. Microseconds.
# times[c * runs + r]: run r of contender c.
times=()
for ((r = -3; r < runs; r++)); do
  for c in 0 1 2 3; do
    a=${EPOCHREALTIME//[.,]/}
    eval "${cmds[c]}" > /dev/null 2>&1 || die "${names[c]} failed in run $r"
    b=${EPOCHREALTIME//[.,]/}
    ((r < 0)) || times[c * runs + r]=$((b - a))
  done
done

median() { # microseconds in, milliseconds out
  local -a s
  mapfile -t s <<< "$(printf '%s\n' "$@" | sort -n)"
  local n=${#s[@]}
  awk -v a="${s[(n - 1) / 2]}" -v b="${s[n / 2]}" 'BEGIN { printf "%.2f", (a + b) / 2000 }'
}
minimum() {
  printf '%s\n' "$@" | sort -n | awk 'NR == 1 { printf "%.2f", $1 / 1000 }'
}

load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "check-vs-shell: ${ifaces[*]}; $nsettings settings compared ($(grep -c '^  [a-z]' <<< "$yaml_sysctl" || true) sysctls)" \
  "(dpuctl: \"$summary\"); $runs runs each; $(nproc) CPUs; load average $load after the runs"
for n in "${notes[@]}"; do echo "  note: $n"; done
declare -a med
for c in 0 1 2 3; do
  med[c]=$(median "${times[@]:c * runs:runs}")
  printf '  %-34s median %8s ms   min %8s ms\n' "${names[c]}" "${med[c]}" \
    "$(minimum "${times[@]:c * runs:runs}")"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
echo "  shell / dpuctl check (medians): $(ratio "${med[2]}" "${med[0]}")x;" \
  "builtins-only shell / dpuctl check: $(ratio "${med[3]}" "${med[0]}")x;" \
  "with --iface: $(ratio "${med[2]}" "${med[1]}")x and $(ratio "${med[3]}" "${med[1]}")x"
[ -z "$keep$keep_lab_out" ] || echo "  profile and scripts kept in $out"
