#!/usr/bin/env bash
# guest-setup.sh CWD CMD [ARGS...] - runs inside the lab guest (lab.sh starts it): brings
# the NICs up under stable names, waits for their links, then runs CMD in CWD.
#
#   nsim0 nsim1   netdevsim device 1: 2 ports, 4 queues each
#   virtio0       virtio-net-pci, 4 queue pairs, MSI-X, RSS; 198.18.0.2/24, peer 198.18.0.1
#   igb0          Intel 82576 (igb), MSI-X, RSS
#   e1000e0       Intel 82574L (e1000e), single queue
#
# Once everything is up it creates /run/lab/ready; an exit before that is a lab failure,
# which lab.sh reports as such, never as the command's result.
set -euo pipefail
cwd=$1
shift

# There is no udev in the guest: load the NIC drivers and create netdevsim ourselves.
modprobe -a virtio_net igb e1000e netdevsim
echo "1 2 4" > /sys/bus/netdevsim/new_device

# Kernel names (ethN) depend on probe order; tests need names that do not.
for dev in /sys/class/net/*; do
  [ -e "$dev/device/driver" ] || continue
  case $(basename "$(readlink "$dev/device/driver")") in
    # phys_port_name is the devlink port name: p1, p2 (netdevsim numbers ports from 1)
    netdevsim) port=$(<"$dev/phys_port_name"); new=nsim$((${port#p} - 1)) ;;
    virtio_net) new=virtio0 ;;
    igb) new=igb0 ;;
    e1000e) new=e1000e0 ;;
    *) continue ;;
  esac
  echo "link set ${dev##*/} name $new up"
done | ip -batch -
ip link set lo up
ip addr add 198.18.0.2/24 dev virtio0

# The emulated PHYs of igb and e1000e report carrier 1-2 s after the link is set up.
for nic in virtio0 igb0 e1000e0; do
  for ((i = 0; i < 100; i++)); do
    [ "$(cat "/sys/class/net/$nic/carrier" 2>/dev/null)" = 1 ] && continue 2
    sleep 0.1
  done
  echo "lab: $nic has no carrier after 10 s" >&2
  exit 1
done

cd "$cwd"
touch /run/lab/ready
exec "$@"
