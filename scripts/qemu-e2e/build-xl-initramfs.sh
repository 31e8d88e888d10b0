#!/usr/bin/env bash
# Build the dom0 initramfs of the xl-dump-core scenario.
# Usage: build-xl-initramfs.sh OUT.cpio.gz
# dom0 gets busybox, Xen 4.17's toolstack (xenstored, xenconsoled, xen-init-dom0, xl,
# xenctx, xen-mfndump, with every shared library they load), the modules behind
# /dev/xen and virtio-blk, and a domU to start: Debian's kernel plus a tiny
# initramfs whose init runs xl-planter (one known 4 KiB page, its address printed),
# as a 96 MiB PV domU (domu) and a 128 MiB PVH one (domh: a PVH kernel loads at 16 MiB and Debian's needs 58 MiB above that), two vCPUs each.
# dom0's init starts the toolstack, boots the domU, waits for the planted page,
# pauses the domU, records what Xen's own tools say about it, runs `xl dump-core`,
# and writes everything as a tar archive onto the raw second disk (/dev/vda), then
# prints XLDUMP-DONE on the console (the host dumps itself at that point).
set -euo pipefail
out=$(realpath -m "$1")
here=$(cd "$(dirname "$0")" && pwd)
bb=/bin/busybox
xenbin=/usr/lib/xen-4.17/bin
kver=$(ls /boot | sed -n 's/^vmlinuz-//p' | sort | tail -1)
if ! [ -x "$bb" ] || ldd "$bb" >/dev/null 2>&1; then
  echo "build-xl-initramfs: $bb is missing or not static (install busybox-static)" >&2; exit 1
fi
if ! [ -x $xenbin/xl ]; then
  echo "build-xl-initramfs: no $xenbin/xl (install xen-utils-4.17)" >&2; exit 1
fi
command -v gcc >/dev/null || { echo "build-xl-initramfs: gcc is needed for xl-planter.c" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The domU: busybox and the planter.
du=$tmp/domu
mkdir -p "$du"/{bin,proc,sys,dev}
cp "$bb" "$du/bin/busybox"
for app in sh mount sleep cat echo; do ln -s busybox "$du/bin/$app"; done
gcc -static -O2 -o "$du/bin/xl-planter" "$here/xl-planter.c"
cat > "$du/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo "XLDUMP-DOMU-UP $(cat /proc/cmdline)"
/bin/xl-planter &
while true; do sleep 1000; done
INIT
chmod +x "$du/init"

# dom0.
root=$tmp/dom0
mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,etc/xen,boot,out,lib64,var/lib/xen,var/lib/xenstored,var/log/xen/console,var/run/xen,var/run/xenstored,run/xen}
cp "$bb" "$root/bin/busybox"
for app in sh mount sleep cat echo dd ls sync grep tar modprobe insmod sed head tail wc mkdir ps date tr df dmesg kill; do ln -s busybox "$root/bin/$app"; done
(cd "$du" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -9 > "$root/boot/domu.cpio.gz"
cp "/boot/vmlinuz-$kver" "$root/boot/vmlinuz"
bins=(xenstored xenconsoled xen-init-dom0 xl xenctx xen-mfndump)
mkdir -p "$root$xenbin"
for b in "${bins[@]}"; do cp "$xenbin/$b" "$root$xenbin/"; done
cp /usr/bin/xenstore "$root/bin/"
ln -s xenstore "$root/bin/xenstore-ls"
ln -s xenstore "$root/bin/xenstore-read"
# Every shared library, with the directory layout ldd reports.
for f in "${bins[@]/#/$xenbin/}" /usr/bin/xenstore; do
  ldd "$f" | awk '/=> \//{print $3} /^\t\/lib/{print $1}'
done | sort -u | { cat; ls /lib/x86_64-linux-gnu/libgcc_s.so.1; } | while read -r lib; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
# Modules, with their dependencies from modules.dep.
mods=(xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs virtio_pci virtio_blk)
mdir=/lib/modules/$kver
mkdir -p "$root$mdir"
cp "$mdir"/modules.{dep,alias,symbols,builtin,order} "$root$mdir/" 2>/dev/null || true
for m in "${mods[@]}"; do
  line=$(grep -E "(^|/)${m//-/[-_]}\.ko(\.[a-z]+)?:" "$mdir/modules.dep") || { echo "build-xl-initramfs: no module $m" >&2; exit 1; }
  for k in ${line/:/}; do
    mkdir -p "$root$mdir/$(dirname "$k")"
    cp "$mdir/$k" "$root$mdir/$k"
  done
done
# libxl's pthread_cancel dlopens libgcc_s (ldd does not list it); xl wants its xl.conf.
cp /etc/xen/xl.conf "$root/etc/xen/xl.conf"
cat > "$root/etc/xen/domu.cfg" <<'CFG'
name = "domu"
type = "pv"
kernel = "/boot/vmlinuz"
ramdisk = "/boot/domu.cpio.gz"
extra = "console=hvc0 quiet loglevel=3 panic=-1 no5lvl"
memory = 96
maxmem = 96
vcpus = 2
on_crash = "preserve"
on_poweroff = "preserve"
CFG
sed -e 's/^name = "domu"/name = "domh"/' -e 's/^type = "pv"/type = "pvh"/' -e 's/^memory = 96/memory = 128/' -e 's/^maxmem = 96/maxmem = 128/' \
  "$root/etc/xen/domu.cfg" >"$root/etc/xen/domh.cfg"
# Under QEMU's SVM (no NRIP), Xen cannot decode an intercepted RDTSCP and the PVH
# kernel loops on it: keep the TSC native (not intercepted) and hide RDTSCP.
printf 'tsc_mode = "native"\ncpuid = "host,rdtscp=0"\n' >>"$root/etc/xen/domh.cfg"
cp "$here/xl-dom0-init.sh" "$root/init"
chmod +x "$root/init"
(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -6 > "$out"
echo "build-xl-initramfs: wrote $out ($(stat -c %s "$out") bytes)"
