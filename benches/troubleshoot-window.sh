#!/usr/bin/env bash
# troubleshoot-window.sh [DPUCTL] [RUNS] - what the counter window of `dpuctl troubleshoot`
# costs and how fine its 1 ms series really is: RUNS (default 5) runs of a 5 s window over a
# veth pair in a namespace this script creates and deletes (the host's interfaces are only
# read, never touched). Prints, per run, the series resolution dpuctl reports (intervals,
# mean and longest interval), wall time, CPU time (user + sys) and peak RSS.
# Needs root (a namespace), jq and GNU time.
set -euo pipefail
bin=${1:-target/release/dpuctl}
runs=${2:-5}
ns=dpuctl-bench-tsw-$$
ip netns add "$ns"
trap 'ip netns del "$ns"' EXIT
ip -n "$ns" link add name a numtxqueues 4 numrxqueues 4 type veth peer name b \
  numtxqueues 4 numrxqueues 4
ip -n "$ns" link set dev a up
ip -n "$ns" link set dev b up
echo "run  series (interface a)                         wall    cpu     maxrss"
for ((i = 1; i <= runs; i++)); do
  out=$(mktemp) tfile=$(mktemp)
  # Exit code 1 means "problems found" (RPS is off on the pair): not a failure here.
  /usr/bin/time -o "$tfile" -f '%e %U %S %M' ip netns exec "$ns" "$bin" troubleshoot \
    --symptom latency --iface a --window 5s --format json > "$out" || [ $? = 1 ]
  stats=$(tail -1 "$tfile")
  series=$(jq -r '.steps[].findings[] | select(.id == "capture.microbursts")
                  | .evidence[] | select(.what == "counter series") | .value' "$out")
  read -r wall user sys rss <<< "$stats"
  printf '%-4s %-46s %5.2fs  %5.2fs  %s KB\n' "$i" "$series" "$wall" \
    "$(echo "$user + $sys" | bc)" "$rss"
  rm -f "$out" "$tfile"
done
