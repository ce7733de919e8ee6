#!/usr/bin/env bash
# lab.sh - run a command inside a throw-away QEMU guest that boots a real Debian 6.12 kernel
# with real NIC drivers; stream its output back, power the guest off, exit with its status.
#
#   tests/lab/lab.sh [-s SMP] [-m MEM_MB] [-t TIMEOUT_S] -- CMD [ARGS...]
#     -s  vCPUs, an even number split over 2 NUMA nodes (default 4: cpus 0-1 on node 0,
#         2-3 on node 1)
#     -m  guest memory in MB, split over the 2 nodes (default 1024)
#     -t  seconds before the guest is killed (default 600)
#
# The guest's root is the host's / (9p, read-only) under a tmpfs overlay: host binaries run
# unchanged, CMD runs in the host's current directory, and the guest may write anywhere
# (sysctls, /etc) without touching the host. $LAB_OUT is a directory shared read-write with
# the host for artifacts: the host's $LAB_OUT if set, else a temporary one removed at exit.
# Exported DPUCTL_*, RUST_* and LAB_* variables are passed in.
# NICs (see guest-setup.sh): nsim0 nsim1 (netdevsim), virtio0 and igb0 (multiqueue, MSI-X,
# behind a PCIe switch on NUMA node 1), e1000e0 (behind a root port on NUMA node 0).
#
# Exit status: CMD's; 255 after "lab: VM failed" and the guest's console log when the guest
# itself failed (boot, setup, panic, timeout), or when preparing the lab failed; 2 for a
# usage error.
#
# Needs root. Installs its packages with apt and caches the kernel, its modules,
# netdevsim.ko and QEMU 10 (about 200 MB) in
# ${DPUCTL_LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dpuctl-lab}. The host's interfaces,
# routes and sysctls are never touched: the NICs' back-ends are taps in a private netns.

set -Eeuo pipefail
# A failure of the harness itself must never pass for the command's own exit status.
trap 'echo "lab: failed (${BASH_SOURCE[0]} line $LINENO)" >&2; exit 255' ERR

usage() {
  sed -n '2,/^set /s/^# \{0,1\}//p' "$0" >&2
  exit 2
}
die() {
  echo "lab: $*" >&2
  exit 255
}
bad_usage() {
  echo "lab: $*" >&2
  exit 2
}
log() { echo "lab: $*" >&2; }

smp=4 mem=1024 timeout=600
while getopts s:m:t: opt; do
  case $opt in
    s) smp=$OPTARG ;;
    m) mem=$OPTARG ;;
    t) timeout=$OPTARG ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || usage
if ! [[ $smp =~ ^[0-9]+$ ]] || ((smp < 2 || smp % 2)); then bad_usage "-s wants an even number >= 2"; fi
if ! [[ $mem =~ ^[0-9]+$ ]] || ((mem < 256)); then bad_usage "-m wants a size in MB >= 256"; fi
if ! [[ $timeout =~ ^[0-9]+$ ]] || ((timeout < 1)); then bad_usage "-t wants seconds > 0"; fi
[ "$(id -u)" = 0 ] || die "needs root (apt, a network namespace, taps)"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${DPUCTL_LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dpuctl-lab}
# strip is called directly; everything else is what the kernel build and the guest need.
# ibverbs-utils (ibv_rc_pingpong) and ibverbs-providers (rxe's user-space verbs provider):
# RDMA traffic on Soft-RoCE for the guest's retransmit-storm test; the guest sees the host's /.
# pciutils (lspci, setpci): witnesses of the guest's PCIe tree.
host_pkgs=(busybox-static kmod gcc-12 make binutils xz-utils libelf1 libssl3 iproute2 ethtool
  ibverbs-utils ibverbs-providers pciutils)
# What the lab downloads goes into root's cache, never installed; apt's unprivileged _apt
# user could not write there.
apt_dl=(-qq -o APT::Sandbox::User=root)

# ---- preparation: packages, QEMU, kernel --------------------------------------------------

missing_pkgs() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || echo "$p"
  done
}

apt_updated=
apt_update() {
  [ -n "$apt_updated" ] || apt-get update -qq
  apt_updated=1
}

install_pkgs() {
  local missing
  mapfile -t missing < <(missing_pkgs "$@")
  [ ${#missing[@]} -gt 0 ] || return 0
  log "apt-get install ${missing[*]}"
  apt_update
  DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The guest kernel follows Debian's linux-image-6.12-amd64 meta package, e.g.
# linux-image-6.12.117+deb12-amd64; empty while apt does not know it.
kernel_pkg() {
  { apt-cache depends linux-image-6.12-amd64 2>/dev/null || true; } |
    sed -n 's/^ *Depends: \(linux-image-6\.12\.[^ ]*-amd64\)$/\1/p'
}

# Debian 12 ships QEMU 7.2, which has no igb NIC. QEMU 10 from bookworm-backports is
# unpacked into the cache with a private apt state: the host's sources.list and installed
# QEMU (if any) are left alone. Only its libraries are installed, from Debian 12.
prepare_qemu() {
  local work mirror apt libs
  work=$(mktemp -d "$cache/.work.XXXXXX")
  # shellcheck disable=SC2016 # $(REPO_URI) is apt's field syntax
  mirror=$(apt-get indextargets --no-release-info --format '$(REPO_URI)' \
    'RELEASE: bookworm' 'IDENTIFIER: Packages' | awk 'NR == 1')
  mkdir -p "$work/lists/partial" "$work/parts" "$work/debs"
  echo "deb ${mirror:-http://deb.debian.org/debian/} bookworm-backports main" > "$work/sources.list"
  apt=(-o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=$work/parts"
    -o "Dir::State::Lists=$work/lists" -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=)
  log "fetching QEMU from bookworm-backports"
  apt-get "${apt[@]}" "${apt_dl[@]}" update
  (cd "$work/debs" && apt-get "${apt[@]}" "${apt_dl[@]}" download qemu-system-x86 qemu-system-data seabios)
  for d in "$work"/debs/*.deb; do dpkg -x "$d" "$work/root"; done
  mapfile -t libs < <(apt-cache "${apt[@]}" depends qemu-system-x86 |
    awk '$1 == "Depends:" {gsub(/[<>]/, "", $2); if ($2 ~ /^lib/) print $2}' | sort -u)
  printf '%s\n' "${libs[@]}" > "$work/libs"
  install_pkgs "${libs[@]}"
  "$work/root/usr/bin/qemu-system-x86_64" --version > /dev/null ||
    die "QEMU from bookworm-backports does not run: $(ldd "$work/root/usr/bin/qemu-system-x86_64" | grep 'not found')"
  rm -rf "$work/debs" "$work/lists" "$work/parts" "$work/sources.list"
  rm -rf "$cache/qemu"
  mv "$work" "$cache/qemu"
}

# Debian does not build netdevsim (CONFIG_NETDEVSIM is unset): build it out of tree from
# linux-source-6.12 of the same version against the matching headers, all unpacked with
# dpkg -x. Nothing is installed into the host's /boot or /lib/modules.
prepare_kernel() {
  local pkg=$1 kver=${1#linux-image-} abi version work hdr mods
  abi=${kver%-amd64}
  version=$(apt-cache show --no-all-versions "$pkg" | awk '/^Version:/ {v = $2} END {print v}')
  log "preparing kernel $kver with netdevsim (one time, under a minute)"
  work=$(mktemp -d "$cache/.work.XXXXXX")
  (cd "$work" && apt-get "${apt_dl[@]}" download "$pkg" "linux-headers-$kver" \
    "linux-headers-$abi-common" "linux-kbuild-$abi" "linux-source-6.12=$version")
  dpkg -x "$work/${pkg}_"*.deb "$work/root"
  for d in "$work"/linux-headers-*.deb "$work"/linux-kbuild-*.deb; do dpkg -x "$d" "$work/hdr"; done
  hdr=$work/hdr/usr/src/linux-headers-$kver
  # The arch headers include the common ones by their installed absolute path.
  sed -i "s|^include /usr/src/|include $work/hdr/usr/src/|" "$hdr/Makefile"
  mkdir "$work/nsim"
  dpkg-deb --fsys-tarfile "$work"/linux-source-6.12_*.deb |
    tar -xO ./usr/src/linux-source-6.12.tar.xz | xz -dc -T0 |
    tar -x -C "$work/nsim" --strip-components=4 --wildcards 'linux-source-6.12/drivers/net/netdevsim/*'
  # No pahole here, so no BTF for the module; the kernel loads it without.
  make -s -C "$hdr" M="$work/nsim" CONFIG_NETDEVSIM=m CONFIG_DEBUG_INFO_BTF_MODULES= \
    -j"$(nproc)" modules
  mods=$work/root/lib/modules/$kver
  mkdir -p "$mods/kernel/drivers/net/netdevsim"
  strip --strip-debug -o "$mods/kernel/drivers/net/netdevsim/netdevsim.ko" "$work/nsim/netdevsim.ko"
  depmod -b "$work/root" "$kver"
  mkdir "$work/kernel"
  mv "$work/root/boot/vmlinuz-$kver" "$work/kernel/vmlinuz"
  mv "$mods" "$work/kernel/modules"
  # Only the current kernel is kept; nobody else holds the lock, so none is in use.
  rm -rf "$cache"/kernel-*
  mv "$work/kernel" "$cache/kernel-$kver"
  rm -rf "$work"
}

prepared() {
  local libs
  [ -n "$kpkg" ] && [ -d "$cache/kernel-${kpkg#linux-image-}" ] && [ -d "$cache/qemu" ] || return 1
  mapfile -t libs < "$cache/qemu/libs"
  [ -z "$(missing_pkgs "${host_pkgs[@]}" "${libs[@]}")" ]
}

mkdir -p "$cache"
# Runs hold the lock shared while they use the cache; preparing takes it exclusive.
exec 9> "$cache/lock"
flock -s 9
kpkg=$(kernel_pkg)
if ! prepared; then
  flock -x 9
  start=$SECONDS
  rm -rf "$cache"/.work.*
  install_pkgs "${host_pkgs[@]}"
  [ -d "$cache/qemu" ] || prepare_qemu
  mapfile -t libs < "$cache/qemu/libs"
  install_pkgs "${libs[@]}"
  if [ -z "$kpkg" ] || [ ! -d "$cache/kernel-${kpkg#linux-image-}" ]; then
    # Fresh package lists: the newest kernel, and packages that are still on the mirror.
    apt_update
    kpkg=$(kernel_pkg)
    [ -n "$kpkg" ] || die "apt knows no linux-image-6.12-amd64 (Debian 12 security updates)"
    [ -d "$cache/kernel-${kpkg#linux-image-}" ] || prepare_kernel "$kpkg"
  fi
  log "cache ready in $((SECONDS - start)) s: $cache"
  flock -s 9
fi
kver=${kpkg#linux-image-}
kdir=$cache/kernel-$kver
qroot=$cache/qemu/root

# ---- the run: control dir, initramfs, command ---------------------------------------------

run=$(mktemp -d "${TMPDIR:-/tmp}/dpuctl-lab.XXXXXX")
ns='' qemu_pid='' readers=()
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  [ -z "$qemu_pid" ] || kill "$qemu_pid" 2>/dev/null || true
  [ ${#readers[@]} -eq 0 ] || kill "${readers[@]}" 2>/dev/null || true
  [ -z "$ns" ] || ip netns del "$ns" || echo "lab: could not delete netns $ns" >&2
  rm -rf "$run"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -n "${LAB_OUT:-}" ]; then
  mkdir -p "$LAB_OUT"
  out=$(cd "$LAB_OUT" && pwd)
else
  out=$run/out
  mkdir "$out"
fi

# ctl is shared with the guest (mounted at /run/lab there): cmd and out are read by the
# guest, which writes ready (setup done) and rc (the command's exit status).
mkdir "$run/ctl"
printf '%s\n' "$out" > "$run/ctl/out"
{
  for v in $(compgen -e); do
    case $v in DPUCTL_* | RUST_* | LAB_*) printf 'export %s=%q\n' "$v" "${!v}" ;; esac
  done
  printf 'export PATH=%q HOME=%q TERM=dumb LAB_OUT=%q\n' "$PATH" "$HOME" "$out"
  # guest-setup.sh and CMD are read through the guest's view of the host's /.
  printf 'exec /bin/bash %q %q' "$here/guest-setup.sh" "$PWD"
  printf ' %q' "$@"
  echo
} > "$run/ctl/cmd"

initramfs=$run/initramfs
mkdir -p "$initramfs"/{bin,sbin,mod,proc,sys,dev,newroot}
cp /bin/busybox "$initramfs/bin/"
cp "$here/guest-init.sh" "$initramfs/init"
for m in fs/netfs/netfs net/9p/9pnet net/9p/9pnet_virtio fs/9p/9p fs/overlayfs/overlay; do
  xz -dc "$kdir/modules/kernel/$m.ko.xz" > "$initramfs/mod/${m##*/}.ko"
done
# The kernel's module auto-loading runs /sbin/modprobe in the initramfs root, which has no
# modules: load them from the guest's real root.
printf '#!/bin/busybox sh\nexec chroot /newroot /sbin/modprobe "$@"\n' > "$initramfs/sbin/modprobe"
chmod +x "$initramfs/init" "$initramfs/sbin/modprobe"
(cd "$initramfs" && find . | busybox cpio -o -H newc 2>/dev/null) | gzip -1 > "$run/initrd.img"

# ---- boot ----------------------------------------------------------------------------------

# /dev/kvm may be kvm_pvm (Firecracker hosts), which runs only PVM-patched guests: a stock
# kernel dies there with "KVM internal error". Use KVM only when it is VMX/SVM KVM.
# Otherwise emulate with one thread for all vCPUs: with QEMU 10.0's multi-threaded TCG about
# one boot in five hung (a vCPU's timer interrupt lost, RCU stalls) or aborted
# (iotlb_to_section assertion); single-threaded it boots reliably, ~3 s slower.
# shellcheck disable=SC2054 # QEMU options are comma-separated
if [ -w /dev/kvm ] && [ ! -d /sys/module/kvm_pvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then
  accel=(-accel kvm -cpu host)
else
  accel=(-accel tcg,thread=single -cpu max)
fi
q() { printf '%s' "${1//,/,,}"; } # a path inside a QEMU option: commas are doubled
qemu=("$qroot/usr/bin/qemu-system-x86_64" -L "$qroot/usr/share/qemu" -L "$qroot/usr/share/seabios")
# shellcheck disable=SC2054 # QEMU options are comma-separated
args=(
  -M q35,sata=off,smbus=off -nodefaults -no-reboot -display none "${accel[@]}"
  # 2 NUMA nodes, one socket each: cpus 0..smp/2-1 on node 0, the rest on node 1
  -smp "$smp,sockets=2" -m "$mem"
  -object "memory-backend-ram,id=mem0,size=$((mem / 2))M" -numa node,nodeid=0,memdev=mem0
  -object "memory-backend-ram,id=mem1,size=$((mem - mem / 2))M" -numa node,nodeid=1,memdev=mem1
  -numa cpu,node-id=0,socket-id=0 -numa cpu,node-id=1,socket-id=1
  -kernel "$kdir/vmlinuz" -initrd "$run/initrd.img" -append "console=ttyS0 quiet panic=-1"
  -serial "file:$(q "$run/console.log")"
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap
  -virtfs "local,path=$(q "$kdir/modules"),mount_tag=modules,security_model=none,readonly=on"
  -virtfs "local,path=$(q "$run/ctl"),mount_tag=ctl,security_model=none"
  -virtfs "local,path=$(q "$out"),mount_tag=out,security_model=none"
  -device virtio-serial-pci,bus=pcie.0
  -chardev "file,id=stdout,path=$(q "$run/stdout")" -device virtconsole,chardev=stdout
  -chardev "file,id=stderr,path=$(q "$run/stderr")" -device virtconsole,chardev=stderr
  # PCI Express (see README.md for the tree): two PCIe expander bridges whose ACPI _PXM puts
  # them on node 0 (bus 0x40) and node 1 (bus 0x80). e1000e sits behind a root port on node
  # 0; on node 1 a root port leads to a switch (x3130 upstream port, two xio3130 downstream
  # ports) with virtio-net and igb behind its downstream ports: one switch apart (PIX), and
  # across NUMA nodes (SYS) from e1000e. QEMU's endpoints and switch ports have a fixed
  # 2.5 GT/s x1 link; a root port's capability is x-speed/x-width and its link the lesser
  # of that and the device's: node 0's port matches its device, node 1's is an 8 GT/s x4
  # port running at 2.5 GT/s x1. Root ports carry an ACS capability (all controls off);
  # switch ports have none. No hotplug: no pciehp slots to probe. virtio-net's vectors: one
  # per queue, config, control. romfile= : no iPXE ROMs, the guest boots with -kernel.
  -device pxb-pcie,id=pxb0,bus_nr=64,numa_node=0,bus=pcie.0
  -device pcie-root-port,id=rp0,bus=pxb0,chassis=1,x-speed=2_5,x-width=1,hotplug=off
  -device pxb-pcie,id=pxb1,bus_nr=128,numa_node=1,bus=pcie.0
  -device pcie-root-port,id=rp1,bus=pxb1,chassis=2,x-speed=8,x-width=4,hotplug=off
  -device x3130-upstream,id=up1,bus=rp1
  -device xio3130-downstream,id=dn0,bus=up1,chassis=3,slot=0,hotplug=off
  -device xio3130-downstream,id=dn1,bus=up1,chassis=3,slot=1,hotplug=off
  -netdev tap,id=virtio0,ifname=tap0,script=no,downscript=no,queues=4
  -device virtio-net-pci,netdev=virtio0,bus=dn0,mq=on,vectors=10,rss=on,hash=on,rx_queue_size=1024,romfile=
  -netdev tap,id=igb0,ifname=tap1,script=no,downscript=no
  -device igb,netdev=igb0,bus=dn1,romfile=
  -netdev tap,id=e1000e0,ifname=tap2,script=no,downscript=no
  -device e1000e,netdev=e1000e0,bus=rp0,romfile=
)

# The NICs' back-ends: taps in a namespace of our own, where QEMU runs.
ip netns add "dpuctl-lab-$$"
ns=dpuctl-lab-$$
ip -n "$ns" tuntap add dev tap0 mode tap multi_queue
ip -n "$ns" tuntap add dev tap1 mode tap
ip -n "$ns" tuntap add dev tap2 mode tap
for dev in lo tap0 tap1 tap2; do ip -n "$ns" link set "$dev" up; done
ip -n "$ns" addr add 198.18.0.1/24 dev tap0

# The guest's consoles are files to QEMU; fifos turn them into streams.
mkfifo "$run/stdout" "$run/stderr"
cat "$run/stdout" &
readers+=($!)
cat "$run/stderr" >&2 &
readers+=($!)

log "booting $kver ($smp cpus, ${accel[1]}, $("${qemu[0]}" --version | awk 'NR == 1 {print $4}'))"
timeout "$timeout" ip netns exec "$ns" "${qemu[@]}" "${args[@]}" 2> "$run/qemu.log" &
qemu_pid=$!
qemu_rc=0
wait "$qemu_pid" || qemu_rc=$?
qemu_pid=''
# A reader whose QEMU died before opening the fifo still blocks in open(): be its writer
# for a moment so that it sees end-of-file.
for f in stdout stderr; do exec 5<> "$run/$f" 5>&-; done
wait "${readers[@]}" || true
readers=()

if [ -e "$run/ctl/ready" ] && [ -s "$run/ctl/rc" ]; then
  exit "$(<"$run/ctl/rc")"
fi
if [ "$qemu_rc" = 124 ]; then
  why="timed out after $timeout s"
elif [ -e "$run/ctl/rc" ]; then
  why="the guest setup failed (its stderr is above)"
else
  why="no exit status from the guest (QEMU exit status $qemu_rc)"
fi
{
  echo "lab: VM failed: $why. QEMU log and guest console:"
  cat "$run/qemu.log" "$run/console.log"
} >&2
exit 255
