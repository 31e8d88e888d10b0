#!/usr/bin/env bash
# Install what the real-QEMU test needs from Debian (we run as root on the dev/CI machines):
# QEMU 7.2 (qemu-system-x86), a Linux kernel to boot (linux-image-amd64), a static
# busybox for the initramfs, makedumpfile (turns QEMU's flattened kdump into a plain
# one) and GNU time (peak RSS of the timing step); with --xen also Xen 4.17
# (xen-hypervisor-4.17-amd64, for the xen scenario); with --xl also Xen's toolstack
# (xen-utils-4.17) and gcc (xl-planter.c), for the xl-dump-core scenario. Skips apt
# entirely when everything is already there.
set -euo pipefail

need=()
case "${1:-}" in --xen|--xl) ls /boot/xen-*.gz >/dev/null 2>&1 || need+=(xen-hypervisor-4.17-amd64) ;; esac
if [ "${1:-}" = --xl ]; then
  [ -x /usr/lib/xen-4.17/bin/xl ] || need+=(xen-utils-4.17)
  command -v gcc >/dev/null 2>&1 || need+=(gcc libc6-dev)
fi
command -v qemu-system-x86_64 >/dev/null 2>&1 || need+=(qemu-system-x86)
ls /boot/vmlinuz-* >/dev/null 2>&1 || need+=(linux-image-amd64)
if ! dpkg -s busybox-static >/dev/null 2>&1; then need+=(busybox-static); fi
command -v cpio >/dev/null 2>&1 || need+=(cpio)
command -v makedumpfile >/dev/null 2>&1 || need+=(makedumpfile)
[ -x /usr/bin/time ] || need+=(time)

if [ ${#need[@]} -eq 0 ]; then
  echo "qemu-e2e: qemu-system-x86, a kernel, busybox-static, cpio, makedumpfile and time are installed"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "qemu-e2e: missing ${need[*]} and not root: install them with apt-get (as root) first" >&2
  exit 1
fi
echo "qemu-e2e: installing ${need[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "qemu-e2e: installed ${need[*]}"
