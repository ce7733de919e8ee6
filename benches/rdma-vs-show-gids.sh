#!/usr/bin/env bash
# rdma-vs-show-gids.sh - time `dpuctl show --rdma` against a show_gids-style shell walk of the
# same GID tables, and `dpuctl topo` on the same tree and on the 8-GPU fixture.
#
#   benches/rdma-vs-show-gids.sh [-n RUNS] [--shell-runs N] [--devices N] [--gids N]
#                                [--used N] [--gpus N] [--dpuctl PATH] [--keep DIR]
#                                [--against PATH] [--no-shell] [--syscalls]
#
# The tree (layouts: Documentation/ABI/stable/sysfs-class-infiniband for the RDMA devices,
# Documentation/ABI/testing/sysfs-bus-pci for the PCI functions, as tests/fixtures/
# gen-gpu-node.sh builds them): a two-socket host with 16 CPUs and --devices RDMA devices
# (default 16) as the functions of dual-port ConnectX NICs (mlx5_0/mlx5_1 on 0000:BB:00.0
# and .1, netdevs eth0, eth1, ...), one NIC and one GPU (up to --gpus, default 8) behind
# each PCIe switch, half of the switches on each NUMA node. Each device has one RoCE port
# with a GID table of --gids slots (default 256, the size of an mlx5 table).
#
# How full the tables are: the first --used slots (default: all 256) are in use, the rest
# read the all-zero GID. mlx5 fills a RoCE v1 and a RoCE v2 entry for each address of the
# netdev (and of VLAN and macvlan netdevs above it), v1 first: slots 0/1 the link-local
# address, then one pair per IPv4 address (::ffff:a.b.c.d). A plain host uses 4-6 slots
# per port; a full table (128 addresses: a container host with an address or VLAN per
# tenant) is the case where show_gids runs for minutes, and the most files any reader has
# to open: 16 x 256 x 3 = 12,288. Pass --used 6 for a typical host.
#
# The tree is put on tmpfs (/dev/shm, or a tmpfs this script mounts and unmounts as root),
# never on a disk file system: sysfs lives in memory (kernfs), so tmpfs is the closest a
# fixture gets to its costs per open and read; a tree on ext4 or 9p would time that file
# system instead.
#
# Both contenders read the same tree. dpuctl runs RUNS times (default 21, after one warm-up),
# the shell walk --shell-runs times (default 1, after the run that checks both list the same
# GIDs: it takes minutes), `dpuctl topo` RUNS times on this tree and on a tmpfs copy of
# tests/fixtures/gpu-node. Prints medians (and minimum, which is the least disturbed by
# other load), the ratio, and the load average before and after: on a shared machine
# compare only figures taken together. --against PATH times a second dpuctl (an older build)
# in the same loop, each of its runs next to one of --dpuctl's, so that both see the same
# load. --syscalls adds `strace -c -f` of one run of each dpuctl command. Target: `show --rdma` under 20 ms and at least 100x faster than the walk.
# Needs no root when /dev/shm is a tmpfs: nothing outside the generated directory is touched.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=21 shell_runs=1 devices=16 gids=256 used=256 gpus=8 dpuctl=target/release/dpuctl keep=
shell=1 syscalls=0 against=
while [ $# -gt 0 ]; do
	case $1 in
	-n) runs=$2; shift 2 ;;
	--shell-runs) shell_runs=$2; shift 2 ;;
	--devices) devices=$2; shift 2 ;;
	--gids) gids=$2; shift 2 ;;
	--used) used=$2; shift 2 ;;
	--gpus) gpus=$2; shift 2 ;;
	--dpuctl) dpuctl=$2; shift 2 ;;
	--keep) keep=$2; shift 2 ;;
	--against) against=$2; shift 2 ;;
	--no-shell) shell=0; shift ;;
	--syscalls) syscalls=1; shift ;;
	*) echo "unknown option $1" >&2; exit 2 ;;
	esac
done
[ -x "$dpuctl" ] || { echo "no $dpuctl (cargo build --release, or --dpuctl PATH)" >&2; exit 2; }
[ -z "$against" ] || [ -x "$against" ] || { echo "no $against" >&2; exit 2; }
[ "$used" -le "$gids" ] || { echo "--used $used is more than --gids $gids" >&2; exit 2; }

# ---- a tmpfs for the trees
mounted=
if [ -n "$keep" ]; then
	dir=$keep
	mkdir -p "$dir"
elif [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then
	dir=$(mktemp -d -p /dev/shm dpuctl-bench.XXXXXX)
elif [ "$(id -u)" = 0 ]; then
	dir=$(mktemp -d)
	mount -t tmpfs -o size=256m dpuctl-bench "$dir"
	mounted=$dir
else
	echo "no tmpfs: /dev/shm is not one and mounting one needs root" >&2
	exit 2
fi
cleanup() {
	if [ -n "$mounted" ]; then
		umount "$mounted" && rmdir "$mounted"
	elif [ -z "$keep" ]; then
		rm -rf -- "$dir"
	fi
}
trap cleanup EXIT
fs=$(stat -f -c %T "$dir")
[ "$fs" = tmpfs ] || echo "warning: $dir is on $fs, not tmpfs" >&2

# ---- the tree
s=$dir/sys
mkdir -p "$s/class/infiniband" "$s/class/net" "$s/bus/pci/devices" "$dir/proc"
put() { mkdir -p "${1%/*}" && printf '%s\n' "$2" >"$1"; }
put "$s/devices/system/cpu/online" 0-15
for c in $(seq 0 15); do
	t=$s/devices/system/cpu/cpu$c/topology b=$((c % 8))
	put "$t/physical_package_id" $((b / 4))
	put "$t/core_id" $((b % 4))
	put "$t/thread_siblings_list" "$b,$((b + 8))"
done
put "$s/devices/system/node/online" 0-1
put "$s/devices/system/node/node0/cpulist" 0-3,8-11
put "$s/devices/system/node/node1/cpulist" 4-7,12-15
for drv in pcieport nvidia mlx5_core; do put "$s/bus/pci/drivers/$drv/uevent" "DRIVER=$drv"; done
# pci PATH CLASS VENDOR DEVICE NODE DRIVER
pci() {
	local d=$s/devices/$1 up=../../../devices/$1 rel=
	put "$d/class" "$2"
	put "$d/vendor" "$3"
	put "$d/device" "$4"
	put "$d/numa_node" "$5"
	if [ "$5" = 0 ]; then put "$d/local_cpulist" 0-3,8-11; else put "$d/local_cpulist" 4-7,12-15; fi
	put "$d/current_link_speed" "32.0 GT/s PCIe"
	put "$d/max_link_speed" "32.0 GT/s PCIe"
	put "$d/current_link_width" 16
	put "$d/max_link_width" 16
	ln -s "$up" "$s/bus/pci/devices/${1##*/}"
	rel=$(printf '../%.0s' $(seq $(($(tr -cd / <<<"$1" | wc -c) + 2))))
	ln -s "${rel}bus/pci/drivers/$6" "$d/driver"
}
zero=0000:0000:0000:0000:0000:0000:0000:0000
switches=$(((devices + 1) / 2))
for sw in $(seq 0 $((switches - 1))); do
	node=$((sw * 2 / switches))
	hb=$(printf %02x $((sw * 16 + 16)))
	b1=$(printf %02x $((sw * 16 + 17))) b2=$(printf %02x $((sw * 16 + 18)))
	b3=$(printf %02x $((sw * 16 + 19))) b4=$(printf %02x $((sw * 16 + 20)))
	rp=pci0000:$hb/0000:$hb:01.0
	usp=$rp/0000:$b1:00.0
	pci "$rp" 0x060400 0x8086 0x352a "$node" pcieport
	pci "$usp" 0x060400 0x1000 0xc030 "$node" pcieport
	for b in 0 1; do
		pci "$usp/0000:$b2:0$b.0" 0x060400 0x1000 0xc030 "$node" pcieport
	done
	for f in "$rp" "$usp" "$usp/0000:$b2:00.0" "$usp/0000:$b2:01.0"; do
		head -c 4096 /dev/zero >"$s/devices/$f/config"
	done
	[ "$sw" -lt "$gpus" ] && pci "$usp/0000:$b2:00.0/0000:$b3:00.0" 0x030200 0x10de 0x2330 "$node" nvidia
	for fn in 0 1; do
		d=$((sw * 2 + fn))
		[ "$d" -lt "$devices" ] || continue
		p=$usp/0000:$b2:01.0/0000:$b4:00.$fn
		pci "$p" 0x020000 0x15b3 0x1021 "$node" mlx5_core
		nd=$s/devices/$p/net/eth$d
		put "$nd/ifindex" $((d + 2))
		put "$nd/mtu" 4200
		put "$nd/tx_queue_len" 1000
		put "$nd/operstate" up
		put "$nd/carrier" 1
		put "$nd/speed" 400000
		put "$nd/address" "$(printf 'b8:ce:f6:a1:%02x:%02x' "$sw" "$fn")"
		ln -s "../../../${p##*/}" "$nd/device"
		ln -s "../../devices/$p/net/eth$d" "$s/class/net/eth$d"
		ib=$s/devices/$p/infiniband/mlx5_$d
		put "$ib/node_type" "1: CA"
		put "$ib/fw_ver" 28.39.1002
		put "$ib/node_guid" "$(printf 'b8ce:f603:00a1:%04x' "$d")"
		put "$ib/hca_type" MT4129
		ln -s "../../../${p##*/}" "$ib/device"
		ln -s "../../devices/$p/infiniband/mlx5_$d" "$s/class/infiniband/mlx5_$d"
		port=$ib/ports/1
		mkdir -p "$port/gids" "$port/gid_attrs/types" "$port/gid_attrs/ndevs" "$port/hw_counters"
		put "$port/state" "4: ACTIVE"
		put "$port/phys_state" "5: LinkUp"
		put "$port/rate" "400 Gb/sec (4X NDR)"
		put "$port/link_layer" Ethernet
		for c in out_of_buffer out_of_sequence local_ack_timeout_err np_cnp_sent rp_cnp_handled; do
			echo 0 >"$port/hw_counters/$c"
		done
		for ((i = 0; i < gids; i++)); do
			if ((i >= used)); then
				echo "$zero" >"$port/gids/$i"
				continue
			fi
			a=$((i / 2))
			if ((a == 0)); then
				printf 'fe80:0000:0000:0000:bace:f6ff:fea1:%04x\n' "$d"
			else
				printf '0000:0000:0000:0000:0000:ffff:0a%02x:%04x\n' "$d" "$a"
			fi >"$port/gids/$i"
			if ((i % 2 == 0)); then echo "IB/RoCE v1"; else echo "RoCE v2"; fi >"$port/gid_attrs/types/$i"
			echo "eth$d" >"$port/gid_attrs/ndevs/$i"
		done
	done
done
# The 8-GPU fixture, on the same tmpfs.
cp -a tests/fixtures/gpu-node "$dir/gpu-node"

# ---- the shell walk: what show_gids (mlnx-tools) does for every device, port and slot:
# list the directories with ls, cat the GID, skip the zero ones, cat the netdev and the type,
# take the version with grep, tell IPv4-mapped GIDs by their first group (cut) and print
# their address with printf, count with expr. Each of those is a process.
cat >"$dir/show_gids.sh" <<'SH'
#!/bin/bash
ib=$1/class/infiniband
count=0
printf 'DEV\tPORT\tINDEX\tGID\t\t\t\t\tIPv4  \t\tVER\tDEV\n'
for d in $(ls "$ib"); do
	for p in $(ls "$ib/$d/ports"); do
		for g in $(ls "$ib/$d/ports/$p/gids"); do
			gid=$(cat "$ib/$d/ports/$p/gids/$g")
			case $gid in
			0000:0000:0000:0000:0000:0000:0000:0000 | fe80:0000:0000:0000:0000:0000:0000:0000) continue ;;
			esac
			ndev=$(cat "$ib/$d/ports/$p/gid_attrs/ndevs/$g" 2>/dev/null)
			type=$(cat "$ib/$d/ports/$p/gid_attrs/types/$g" 2>/dev/null)
			ver=$(echo $type | grep -o "[Vv].*")
			if [ "$(echo $gid | cut -d : -f -1)" = 0000 ]; then
				ipv4=$(printf '%d.%d.%d.%d' 0x${gid:30:2} 0x${gid:32:2} 0x${gid:35:2} 0x${gid:37:2})
				echo -e "$d\t$p\t$g\t$gid\t$ipv4  \t$ver\t$ndev"
			else
				echo -e "$d\t$p\t$g\t$gid\t\t\t$ver\t$ndev"
			fi
			count=$(expr 1 + $count)
		done
	done
done
echo n_gids_found=$count
SH
chmod +x "$dir/show_gids.sh"

dp() { "$dpuctl" --sysfs-root "$1/sys" --procfs-root "$1/proc" "${@:2}"; }
old() { "$against" --sysfs-root "$1/sys" --procfs-root "$1/proc" "${@:2}"; }
# Both must list the same GIDs (index, version, netdev); the first shell run is the check.
n_dpuctl=$(dp "$dir" show --rdma --format json | grep -c '"kind"')
if [ "$shell" = 1 ]; then
	n_shell=$("$dir/show_gids.sh" "$dir/sys" | sed -n 's/^n_gids_found=//p')
	echo "GIDs listed: dpuctl $n_dpuctl, shell walk $n_shell"
	[ "$n_shell" -eq "$n_dpuctl" ] || { echo "the contenders disagree" >&2; exit 1; }
else
	echo "GIDs listed: dpuctl $n_dpuctl"
fi
[ "$(dp "$dir" topo --format json | grep -c '"relation"')" -gt 0 ] || { echo "topo shows no pair" >&2; exit 1; }

ms() { # ms CMD...: wall time of one run in microseconds (bash's clock: no fork to read it)
	local s=$EPOCHREALTIME e
	"$@" >/dev/null
	e=$EPOCHREALTIME
	echo $(((${e/./} - ${s/./})))
}
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {printf "%.1f", v[int((NR+1)/2)]/1000}'; }
least() { printf '%s\n' "$@" | sort -n | awk 'NR==1 {printf "%.1f", $1/1000}'; }
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
a=() t=() g=() b=() oa=() ot=() og=()
dp "$dir" show --rdma >/dev/null
dp "$dir" topo >/dev/null
dp "$dir/gpu-node" topo >/dev/null
if [ -n "$against" ]; then
	cmp -s <(dp "$dir" show --rdma) <(old "$dir" show --rdma) || echo "note: $against prints another show --rdma" >&2
	cmp -s <(dp "$dir" topo) <(old "$dir" topo) || echo "note: $against prints another topo" >&2
fi
for _ in $(seq "$runs"); do
	a+=("$(ms dp "$dir" show --rdma)")
	[ -z "$against" ] || oa+=("$(ms old "$dir" show --rdma)")
	t+=("$(ms dp "$dir" topo)")
	[ -z "$against" ] || ot+=("$(ms old "$dir" topo)")
	g+=("$(ms dp "$dir/gpu-node" topo)")
	[ -z "$against" ] || og+=("$(ms old "$dir/gpu-node" topo)")
done
if [ "$shell" = 1 ]; then
	for _ in $(seq "$shell_runs"); do b+=("$(ms "$dir/show_gids.sh" "$dir/sys")"); done
fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

echo "tree: $devices RDMA devices x $gids GID slots ($used used), $switches switches, $((gpus < switches ? gpus : switches)) GPUs, on $fs"
echo "load average before: $load_before, after: $load_after; CPUs: $(nproc)"
printf '  %-36s %10s %10s  (%s runs)\n' "" "median ms" "min ms" "$runs"
printf '  %-36s %10s %10s\n' "dpuctl show --rdma" "$(median "${a[@]}")" "$(least "${a[@]}")"
printf '  %-36s %10s %10s\n' "dpuctl topo (this tree)" "$(median "${t[@]}")" "$(least "${t[@]}")"
printf '  %-36s %10s %10s\n' "dpuctl topo (tests/fixtures/gpu-node)" "$(median "${g[@]}")" "$(least "${g[@]}")"
if [ -n "$against" ]; then
	echo "  $against, in the same loop:"
	printf '  %-36s %10s %10s\n' "  show --rdma" "$(median "${oa[@]}")" "$(least "${oa[@]}")"
	printf '  %-36s %10s %10s\n' "  topo (this tree)" "$(median "${ot[@]}")" "$(least "${ot[@]}")"
	printf '  %-36s %10s %10s\n' "  topo (tests/fixtures/gpu-node)" "$(median "${og[@]}")" "$(least "${og[@]}")"
fi
if [ "$shell" = 1 ]; then
	printf '  %-36s %10s %10s  (%s runs)\n' "show_gids-style walk" "$(median "${b[@]}")" "$(least "${b[@]}")" "$shell_runs"
	awk -v a="$(median "${a[@]}")" -v b="$(median "${b[@]}")" \
		'BEGIN { printf "  ratio (medians)                      %10.0fx\n", b / a }'
fi
if [ "$syscalls" = 1 ] && command -v strace >/dev/null; then
	for cmd in "show --rdma" topo; do
		echo "strace -c -f dpuctl $cmd (this tree):"
		# shellcheck disable=SC2086
		strace -c -f -o "$dir/strace.txt" "$dpuctl" --sysfs-root "$dir/sys" --procfs-root "$dir/proc" $cmd >/dev/null
		awk 'NR <= 2 || /openat|read$|close|total/' "$dir/strace.txt" | sed 's/^/    /'
	done
fi
