#!/usr/bin/env bash
# Build a tiny busybox initramfs for the real-QEMU test.
# Usage: build-initramfs.sh OUT.cpio.gz
# The guest's init mounts /proc, starts a few long-lived processes (so the dump has
# user page tables, not only the kernel's), prints MEMWALK-READY on the console and idles.
# With `memwalk_spin` on the kernel command line it also keeps one busy user loop pinned
# to each vCPU (taskset), so that when the VM is stopped every vCPU is running a
# different user process and the vCPUs' CR3s differ; with `memwalk_spin1` only on vCPU 0.
set -euo pipefail
out=$(realpath -m "$1")
bb=/bin/busybox
if ! [ -x "$bb" ] || ldd "$bb" >/dev/null 2>&1; then
  echo "build-initramfs: $bb is missing or not static (install busybox-static)" >&2
  exit 1
fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,etc}
cp "$bb" "$root/bin/busybox"
for app in sh mount sleep cat echo dd ls sync grep nproc taskset seq; do ln -s busybox "$root/bin/$app"; done
cat > "$root/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
# A few user processes with their own page tables (stack, heap, a touched tmpfs buffer).
sleep 100000 &
sh -c 'dd if=/dev/zero of=/tmp/fill bs=64k count=64 2>/dev/null; exec sleep 100000' &
# memwalk_spin1: the loop on vCPU 0 only, so the others idle (under Xen: Xen's idle
# vCPU on that pCPU, with whatever tables it keeps).
spin=""
grep -qw memwalk_spin /proc/cmdline && spin=$(seq 0 $(($(nproc) - 1)))
grep -qw memwalk_spin1 /proc/cmdline && spin=0
if [ -n "$spin" ]; then
  for c in $spin; do
    # A shell builtin loop: stays in user mode, so a stop almost always lands there.
    taskset -c "$c" sh -c 'while :; do :; done' &
  done
fi
echo "MEMWALK-READY $(cat /proc/cmdline)"
while true; do sleep 1000; done
INIT
chmod +x "$root/init"
(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -9 > "$out"
echo "build-initramfs: wrote $out ($(stat -c %s "$out") bytes)"
