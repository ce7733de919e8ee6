#!/usr/bin/env bash
# run-tier.sh [TEST-BINARY ARGS...] - the lab tier: build the `lab_guest` test binary (and
# with it the dpuctl binary) on the host, boot the lab guest once and run every lab test
# inside it, one at a time since they share the guest's NICs.
#
#   tests/lab/run-tier.sh                  all lab tests
#   tests/lab/run-tier.sh layout::         the tests whose name contains "layout::"
#   tests/lab/run-tier.sh --list           any other libtest argument
#
# Exit status: the test binary's; cargo's if the build fails; 255 if the lab itself failed
# (see lab.sh). Needs root.
set -euo pipefail
cd "$(dirname "$0")/../.."

# Cargo builds the package's binaries along with an integration test; the test finds
# target/<profile>/dpuctl through CARGO_BIN_EXE_dpuctl. The test binary's own path is only
# in cargo's JSON messages: the compiler-artifact of the test target lab_guest.
artifacts=$(cargo test --locked --test lab_guest --no-run --message-format=json-render-diagnostics)
exe=$(sed -n 's/^{"reason":"compiler-artifact".*"target":{"kind":\["test"\],[^}]*"name":"lab_guest".*"executable":"\([^"]*\)".*/\1/p' <<< "$artifacts")
if [ -z "$exe" ] || [ ! -x "$exe" ]; then
  echo "lab: no lab_guest test executable in cargo's output" >&2
  exit 255
fi

export DPUCTL_IN_LAB=1
start=$SECONDS
rc=0
tests/lab/lab.sh -- "$exe" --test-threads=1 "$@" || rc=$?
echo "lab: tier took $((SECONDS - start)) s (boot and tests)" >&2
exit "$rc"
