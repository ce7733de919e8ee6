#!/usr/bin/env bash
# exporter-vs-node-exporter.sh - `dpuctl exporter` and Debian's prometheus-node-exporter (with
# its ethtool collector) side by side on the same 64 veth interfaces (32 pairs, 4 queues
# each) in a network namespace this script creates and deletes.
#
#   benches/exporter-vs-node-exporter.sh [--dpuctl PATH] [-n SCRAPES]
#
# For each exporter: SCRAPES back-to-back `GET /metrics` (default 200; median and 99th
# percentile latency, body size) and the CPU the exporter spent on them (utime + stime from
# /proc/PID/stat, in ms per scrape), then its CPU at rest over 10 s. Needs root, `ip`,
# python3 and prometheus-node-exporter (`apt-get install prometheus-node-exporter`); the
# dpuctl binary defaults to target/release/dpuctl (`cargo build --release` first).
set -euo pipefail
dpuctl=target/release/dpuctl
n=200
while [ $# -gt 0 ]; do
  case "$1" in
    --dpuctl) dpuctl=$2; shift 2 ;;
    -n) n=$2; shift 2 ;;
    *) echo "usage: $0 [--dpuctl PATH] [-n SCRAPES]" >&2; exit 2 ;;
  esac
done
command -v prometheus-node-exporter >/dev/null ||
  { echo "needs prometheus-node-exporter (apt-get install prometheus-node-exporter)" >&2; exit 2; }
[ -x "$dpuctl" ] || { echo "no $dpuctl: cargo build --release first" >&2; exit 2; }
ns="dpexpne-$$"
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add "$ns"
{
  echo "link set dev lo up"
  for i in $(seq 0 31); do
    echo "link add va$i numtxqueues 4 numrxqueues 4 type veth peer name vb$i numtxqueues 4 numrxqueues 4"
    echo "link set va$i up"
    echo "link set vb$i up"
  done
} > "$tmp/batch"
ip -n "$ns" -batch "$tmp/batch"
cat > "$tmp/scrape.py" <<'PY'
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
times, size = [], 0
for _ in range(n):
    t = time.monotonic()
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
    size = 0
    while True:
        d = s.recv(1 << 20)
        if not d:
            break
        size += len(d)
    s.close()
    times.append(time.monotonic() - t)
times.sort()
print("median %.2f ms, p99 %.2f ms, %d bytes" % (times[len(times) // 2] * 1e3,
      times[min(len(times) - 1, len(times) * 99 // 100)] * 1e3, size))
PY
ip netns exec "$ns" prometheus-node-exporter --web.listen-address=127.0.0.1:9100 \
  --collector.ethtool > "$tmp/ne.log" 2>&1 &
pids+=($!)
ip netns exec "$ns" "$dpuctl" exporter --listen 127.0.0.1:9059 2> "$tmp/dpuctl.log" &
pids+=($!)
sleep 5
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
for who in 0 1; do
  pid=${pids[$who]}
  if [ "$who" = 0 ]; then name="node_exporter (ethtool collector)"; port=9100
  else name="dpuctl exporter"; port=9059; fi
  a=$(ticks "$pid")
  r=$(ip netns exec "$ns" python3 "$tmp/scrape.py" "$port" "$n")
  b=$(ticks "$pid")
  per=$(awk -v d=$((b - a)) -v hz="$hz" -v n="$n" 'BEGIN { printf "%.2f", d * 1000 / hz / n }')
  a=$(ticks "$pid"); sleep 10; c=$(ticks "$pid")
  rest=$(awk -v d=$((c - a)) -v hz="$hz" 'BEGIN { printf "%.2f", d * 100 / hz / 10 }')
  echo "$name, 64 veth: $n scrapes: $r; CPU $per ms per scrape; at rest $rest% of a core"
done
