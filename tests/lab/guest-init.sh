#!/bin/busybox sh
# shellcheck shell=dash
# PID 1 of the lab guest, run from the initramfs that lab.sh builds (static busybox plus the
# 9p and overlay modules). It assembles the root file system, runs the command lab.sh wrote
# to the "ctl" share, records its exit status there and powers the guest off.
#
# 9p shares (mount tags) that lab.sh exports:
#   hostroot  the host's /, read-only; the lower layer of the guest's root
#   modules   /lib/modules/<guest kernel> from the lab cache, read-only
#   ctl       lab.sh's control dir (cmd, out, rc, ready), mounted at /run/lab
#   out       the host's $LAB_OUT, read-write, mounted at the same path
# There is no `set -e`: whatever fails, the guest must reach poweroff, and a missing rc file
# tells lab.sh that the guest failed.

/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in netfs 9pnet 9pnet_virtio 9p overlay; do insmod "/mod/$m.ko"; done

p9=trans=virtio,version=9p2000.L,msize=512000
R=/newroot
mkdir -p /host /rw /ctl
mount -t 9p -o "$p9" ctl /ctl
# cache=loose: the host's files do not change while a lab command runs; caching makes
# exec and path lookups several times faster under emulation.
mount -t 9p -o "$p9,ro,cache=loose" hostroot /host
# The root is writable (a tmpfs upper layer) so the guest may change /etc, sysctls and
# anything else freely; none of it reaches the host.
mount -t tmpfs rw /rw
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work root $R

mount -t proc proc $R/proc
mount -t sysfs sys $R/sys
mount -t devtmpfs dev $R/dev
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts devpts $R/dev/pts
mount -t tmpfs shm $R/dev/shm
mount -t debugfs debugfs $R/sys/kernel/debug
mount -t tracefs tracefs $R/sys/kernel/tracing
# A fresh /run: the host's runtime state (pid files, /run/netns bind mounts) means nothing
# in the guest.
mount -t tmpfs run $R/run
kmods=$R/lib/modules/$(uname -r)
mkdir -p "$kmods" $R/run/lab
mount -t 9p -o "$p9,ro" modules "$kmods"
mount --move /ctl $R/run/lab
read -r out < $R/run/lab/out
mkdir -p "$R$out"
mount -t 9p -o "$p9" out "$R$out"

# The command's stdout and stderr are the two virtio consoles; lab.sh streams them back.
# Keep them open here: raw mode is lost when the last file descriptor closes.
exec 3<>/dev/hvc0 4<>/dev/hvc1
stty raw -echo <&3
stty raw -echo <&4
chroot $R /bin/bash /run/lab/cmd </dev/null >&3 2>&4
echo $? > $R/run/lab/rc

sync
umount "$R$out"
umount $R/run/lab
poweroff -f
