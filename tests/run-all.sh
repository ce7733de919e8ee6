#!/usr/bin/env bash
# Every test tier of dpuctl, on a fresh Debian 12 machine with Rust, as root:
#   1. system packages: libpcap-dev to build, the witnesses the tests compare dpuctl with
#      (ethtool, iproute2, tshark/capinfos), tmux for terminal tests, prometheus/promtool for
#      the exporter's tests, systemd-analyze for the units, clang + libbpf-dev to check the
#      committed eBPF object against its source, bpftool as the eBPF witness, and what the lab needs;
#   2. format and lint gates;
#   3. host tiers: unit, property, fixture/golden and CLI tests, and real-kernel tests in
#      network namespaces the tests create (cargo nextest);
#   4. fuzz smoke: every fuzz target for 10 s from its seed corpus (fuzz/run.sh);
#   5. the lab tier: a QEMU guest with netdevsim, virtio-net, igb and e1000e (tests/lab).
# A tier that cannot run fails the whole script; nothing is skipped in silence.
set -euo pipefail
cd "$(dirname "$0")/.."

[ "$(id -u)" = 0 ] || { echo "run-all: the kernel and lab tiers need root" >&2; exit 2; }

need=()
for p in ethtool iproute2 procps tmux libpcap-dev tshark prometheus systemd clang libbpf-dev bpftool; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  # tshark asks whether non-root users may capture; the default (no) is what the tests want.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
command -v cargo-nextest >/dev/null || cargo install --locked cargo-nextest

cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings
# The lab guest's tests are `test = false` (they run only in the VM), which --all-targets skips.
cargo clippy --locked --test lab_guest -- -D warnings
cargo nextest run --locked --no-fail-fast
# Fuzz smoke tier: every input reader's fuzz target for 10 s from its seed corpus.
bash fuzz/run.sh 10
bash tests/lab/run-tier.sh
