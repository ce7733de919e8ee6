#!/usr/bin/env bash
# rdma-vs-show-gids.sh - time `dpuctl show --rdma` against a show_gids-style shell walk of the
# same GID tables (the walk mlnx-tools' show_gids does: for every device, port and GID slot a
# `cat` of the GID, its netdev and its type, the IPv4 address of mapped GIDs formatted by
# printf).
#
#   benches/rdma-vs-show-gids.sh [-n RUNS] [--devices N] [--gids N] [--used N]
#                                [--dpuctl PATH] [--keep DIR]
#
# Generates a sysfs tree (layout of Documentation/ABI/stable/sysfs-class-infiniband, as
# tests/fixtures/gen-rdma-node.sh builds it) with N RDMA devices (default 16) of one RoCE port
# each, GID tables of --gids slots (default 256), the first --used of them (default all) in
# use as mlx5 fills them (RoCE v1/v2 pairs per address), the rest all-zero. Both contenders
# read that tree; RUNS timed runs each (default 3, after one warm-up: the shell walk takes
# minutes), interleaved. Prints the medians and the ratio. Target: dpuctl at least 100x faster and under 20 ms.
# Needs no root: nothing outside the generated directory is touched.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=3 devices=16 gids=256 used=256 dpuctl=target/release/dpuctl keep=
while [ $# -gt 0 ]; do
	case $1 in
	-n) runs=$2; shift 2 ;;
	--devices) devices=$2; shift 2 ;;
	--gids) gids=$2; shift 2 ;;
	--used) used=$2; shift 2 ;;
	--dpuctl) dpuctl=$2; shift 2 ;;
	--keep) keep=$2; shift 2 ;;
	*) echo "unknown option $1" >&2; exit 2 ;;
	esac
done
[ -x "$dpuctl" ] || { echo "no $dpuctl (cargo build --release, or --dpuctl PATH)" >&2; exit 2; }

dir=${keep:-$(mktemp -d)}
[ -n "$keep" ] || trap 'rm -rf -- "$dir"' EXIT
mkdir -p "$dir/sys/class/infiniband" "$dir/sys/class/net"
zero=0000:0000:0000:0000:0000:0000:0000:0000
for d in $(seq 0 $((devices - 1))); do
	bus=$(printf '%02x' $((d + 16)))
	pci=devices/pci0000:00/0000:00:$bus.0/0000:$bus:00.0
	ib=$dir/sys/$pci/infiniband/mlx5_$d
	p=$ib/ports/1
	mkdir -p "$p/gids" "$p/gid_attrs/types" "$p/gid_attrs/ndevs" "$p/hw_counters"
	echo "1: CA" >"$ib/node_type"
	echo 28.39.1002 >"$ib/fw_ver"
	printf 'b8ce:f603:00a1:%04x\n' "$d" >"$ib/node_guid"
	echo "4: ACTIVE" >"$p/state"
	echo "5: LinkUp" >"$p/phys_state"
	echo "400 Gb/sec (4X NDR)" >"$p/rate"
	echo Ethernet >"$p/link_layer"
	mkdir -p "$dir/sys/$pci/net/eth$d"
	echo 4200 >"$dir/sys/$pci/net/eth$d/mtu"
	ln -s "../../$pci/net/eth$d" "$dir/sys/class/net/eth$d"
	for i in $(seq 0 $((gids - 1))); do
		if [ "$i" -lt "$used" ]; then
			a=$((i / 2))
			if [ "$a" -eq 0 ]; then
				printf 'fe80:0000:0000:0000:bace:f6ff:fea1:%04x\n' "$d" >"$p/gids/$i"
			else
				printf '0000:0000:0000:0000:0000:ffff:0a%02x:%04x\n' "$d" "$a" >"$p/gids/$i"
			fi
			if [ $((i % 2)) -eq 0 ]; then echo "IB/RoCE v1"; else echo "RoCE v2"; fi >"$p/gid_attrs/types/$i"
			echo "eth$d" >"$p/gid_attrs/ndevs/$i"
		else
			echo "$zero" >"$p/gids/$i"
		fi
	done
	for c in out_of_buffer out_of_sequence local_ack_timeout_err np_cnp_sent rp_cnp_handled; do
		echo 0 >"$p/hw_counters/$c"
	done
	ln -s "../../$pci/infiniband/mlx5_$d" "$dir/sys/class/infiniband/mlx5_$d"
done

cat >"$dir/show_gids.sh" <<'SH'
#!/bin/bash
# The show_gids walk over $1/class/infiniband: one cat per file, IPv4 of mapped GIDs by printf.
root=$1/class/infiniband
echo -e "DEV\tPORT\tINDEX\tGID\t\t\t\t\tIPv4  \t\tVER\tDEV"
for d in $(ls "$root"); do
	for p in $(ls "$root/$d/ports/"); do
		for g in $(ls "$root/$d/ports/$p/gids/"); do
			gid=$(cat "$root/$d/ports/$p/gids/$g")
			if [ "$gid" = 0000:0000:0000:0000:0000:0000:0000:0000 ]; then continue; fi
			ndev=$(cat "$root/$d/ports/$p/gid_attrs/ndevs/$g" 2>/dev/null)
			type=$(cat "$root/$d/ports/$p/gid_attrs/types/$g" 2>/dev/null)
			ver=$(echo "$type" | grep -o "[Vv].*")
			if [ "$(echo "$gid" | cut -d ":" -f -1)" = "0000" ]; then
				ipv4=$(printf "%d.%d.%d.%d" 0x${gid:30:2} 0x${gid:32:2} 0x${gid:35:2} 0x${gid:37:2})
				echo -e "$d\t$p\t$g\t$gid\t$ipv4  \t$ver\t$ndev"
			else
				echo -e "$d\t$p\t$g\t$gid\t\t\t$ver\t$ndev"
			fi
		done
	done
done
SH
chmod +x "$dir/show_gids.sh"

# Both must list the same number of GIDs.
n_shell=$("$dir/show_gids.sh" "$dir/sys" | tail -n +2 | wc -l)
n_dpuctl=$("$dpuctl" --sysfs-root "$dir/sys" show --rdma --format json | grep -c '"kind"')
echo "GIDs listed: dpuctl $n_dpuctl, shell $n_shell"
[ "$n_shell" -eq "$n_dpuctl" ] || { echo "the contenders disagree" >&2; exit 1; }

ms() { # ms CMD...: wall time of one run in milliseconds
	local s e
	s=$(date +%s%N)
	"$@" >/dev/null
	e=$(date +%s%N)
	echo $(((e - s) / 1000))
}
"$dpuctl" --sysfs-root "$dir/sys" show --rdma >/dev/null
"$dir/show_gids.sh" "$dir/sys" >/dev/null
a=() b=()
for _ in $(seq "$runs"); do
	a+=("$(ms "$dpuctl" --sysfs-root "$dir/sys" show --rdma)")
	b+=("$(ms "$dir/show_gids.sh" "$dir/sys")")
done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
ma=$(median "${a[@]}") mb=$(median "${b[@]}")
echo "devices $devices x $gids GID slots ($used used), $runs runs each (median wall time):"
awk -v a="$ma" -v b="$mb" 'BEGIN {
	printf "  dpuctl show --rdma   %10.1f ms\n  show_gids-style walk %10.1f ms\n  ratio                %10.0fx\n", a/1000, b/1000, b/a }'
