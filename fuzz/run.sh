#!/usr/bin/env bash
# Builds the fuzz targets (libFuzzer, through the libfuzzer-sys crate, on stable Rust) and runs
# each for SECONDS (default 10) starting from its seed corpus, fuzz/corpus/TARGET. Fails when a
# target finds an input that panics or crashes, takes longer than FUZZ_TIMEOUT seconds (default
# 10), or grows the process over FUZZ_RSS_MB (default 2048); that input is kept under
# fuzz/artifacts/TARGET/ and the report's end is printed. fuzz/dict/TARGET.dict, where there
# is one, lists tokens for the mutations (keys, boundary numbers). New inputs found on the way
# go to a temporary directory, so the checked-in corpus stays as it is.
#
#   bash fuzz/run.sh [SECONDS] [TARGET...]       all targets when none is named
#   fuzz/target/*/release/TARGET fuzz/artifacts/TARGET/crash-...   replays one input
#
# The build passes what `cargo fuzz build --sanitizer none --debug-assertions` passes (coverage
# instrumentation, `--cfg fuzzing`, overflow checks), so no nightly compiler and no cargo-fuzz
# are needed; `cargo fuzz run TARGET -s none` works too where cargo-fuzz is installed.
set -euo pipefail
cd "$(dirname "$0")"

secs=${1:-10}
[ $# -gt 0 ] && shift
case $secs in '' | *[!0-9]*) echo "fuzz/run.sh: SECONDS must be a number, not '$secs'" >&2; exit 2 ;; esac
timeout_s=${FUZZ_TIMEOUT:-10}
rss_mb=${FUZZ_RSS_MB:-2048}

mapfile -t all < <(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v '^dpuctl-fuzz$')
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
for t in "${targets[@]}"; do
  [ -d "corpus/$t" ] || { echo "fuzz/run.sh: no target '$t' (targets: ${all[*]})" >&2; exit 2; }
done

# libfuzzer-sys compiles libFuzzer (C++); dpuctl links libpcap.
need=()
command -v c++ >/dev/null || need+=(g++)
dpkg-query -W -f='${Status}' libpcap-dev 2>/dev/null | grep -q 'ok installed' || need+=(libpcap-dev)
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "fuzz/run.sh: needs ${need[*]} (apt-get install as root)" >&2; exit 2; }
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

triple=$(rustc -vV | sed -n 's/^host: //p')
flags="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4"
flags+=" -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table"
flags+=" -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing"
flags+=" -Cllvm-args=-simplifycfg-branch-fold-threshold=0 -Cllvm-args=-sanitizer-coverage-stack-depth"
flags+=" -Cdebug-assertions"
# --target keeps the instrumentation out of build scripts and proc macros.
RUSTFLAGS="$flags ${RUSTFLAGS:-}" cargo build --locked --release --target "$triple" --bins
bin=target/$triple/release

failed=()
for t in "${targets[@]}"; do
  work=$(mktemp -d)
  mkdir -p "$work/corpus" "artifacts/$t"
  dict=()
  [ -f "dict/$t.dict" ] && dict=(-dict="dict/$t.dict")
  if RUST_BACKTRACE=1 "$bin/$t" -max_total_time="$secs" -timeout="$timeout_s" -rss_limit_mb="$rss_mb" \
    -artifact_prefix="artifacts/$t/" -print_final_stats=1 "${dict[@]}" "$work/corpus" "corpus/$t" \
    >"$work/log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
    echo "fuzz $t: ${runs:-?} inputs in ${secs}s, no failure"
  else
    echo "fuzz $t: FAILED; the input is under fuzz/artifacts/$t/" >&2
    grep -v '^#\|^INFO:\|^stat::' "$work/log" | tail -n 60 >&2
    failed+=("$t")
  fi
  rm -rf "$work"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failures in ${failed[*]}" >&2
  exit 1
fi
