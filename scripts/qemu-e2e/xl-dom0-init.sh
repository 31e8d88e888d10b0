#!/bin/sh
# dom0's /init in the xl-dump-core scenario (see build-xl-initramfs.sh).
# Every step prints an XLDUMP- line, so a run that stops says where.
export PATH=/bin:/sbin:/usr/lib/xen-4.17/bin
export LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:/usr/lib/xen-4.17/lib
step() { echo "XLDUMP-STEP $*"; }
fail() { echo "XLDUMP-FAIL $*"; while true; do sleep 1000; done; }
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm && mount -t devpts devpts /dev/pts
# Both dump-cores (96 + 128 MiB) wait here for the tar: more than rootfs's half of RAM.
mount -t tmpfs -o size=768m tmpfs /out
for m in xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs virtio_pci virtio_blk; do
  modprobe "$m" || fail "modprobe $m"
done
mount -t xenfs xenfs /proc/xen || fail "mount xenfs"
step "modules loaded: $(ls /dev/xen | tr '\n' ' '); block devices: $(ls /sys/block | tr '\n' ' ')"
xenstored --pid-file /var/run/xenstored.pid >/out/xenstored.log 2>&1 || fail "xenstored"
xen-init-dom0 >/out/xen-init-dom0.log 2>&1 || fail "xen-init-dom0 ($(cat /out/xen-init-dom0.log))"
xenconsoled --pid-file=/var/run/xenconsoled.pid --log=guest --log-dir=/var/log/xen/console >/out/xenconsoled.log 2>&1 || fail "xenconsoled"
step "toolstack up"
# Start domain $1 from /etc/xen/$1.cfg, wait for its planted page, pause it, and
# record what Xen's tools say about it into $2. Returns 1 instead of failing when $3
# is "optional".
bring_up() {
  name=$1 out=$2 need=$3
  mkdir -p "$out"
  if ! xl create "/etc/xen/$name.cfg" >"$out/xl-create.log" 2>&1; then
    [ "$need" = optional ] && { step "$name: xl create failed: $(tail -c 400 "$out/xl-create.log")"; return 1; }
    fail "xl create $name: $(cat "$out/xl-create.log")"
  fi
  step "$name created: $(xl list | tail -n +2 | tr -s ' ' | tr '\n' ';')"
  log=/var/log/xen/console/guest-$name.log
  i=0
  until grep -q XLDUMP-PLANTED "$log" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 600 ]; then
      cp "$log" "$out/domu-console.log" 2>/dev/null
      [ "$need" = optional ] && { step "$name: no XLDUMP-PLANTED after 600s"; xl destroy "$name"; return 1; }
      fail "no XLDUMP-PLANTED from $name after 600s: $(tail -c 2000 "$log")"
    fi
    sleep 1
  done
  # Let the planter spin so the pause lands in its user loop.
  sleep 3
  xl pause "$name" || fail "xl pause $name"
  domid=$(xl domid "$name")
  echo "$domid" >"$out/domid"
  step "$name (domain $domid) paused: $(grep XLDUMP-PLANTED "$log")"
  cp "$log" "$out/domu-console.log"
  xl list -l "$name" >"$out/xl-list-l.json" 2>&1
  xl vcpu-list "$name" >"$out/xl-vcpu-list.txt" 2>&1
  xenctx -a -C "$domid" >"$out/xenctx.txt" 2>&1 || step "xenctx $name failed: $(head -c 300 "$out/xenctx.txt")"
  return 0
}
bring_up domu /out required
domid=$(cat /out/domid)
xen-mfndump dump-p2m "$domid" >/out/mfndump-p2m.txt 2>&1 || step "xen-mfndump dump-p2m failed: $(head -c 300 /out/mfndump-p2m.txt)"
# With xldump_pvh on dom0's command line (xl-capture.mjs --pvh): a PVH domU too (an
# HVM container: its dump-core has .xen_pfn, not .xen_p2m). Optional, since it needs
# QEMU's emulated SVM, and its dump-core has never completed there (docs/qemu.md).
pvh=0
if grep -qw xldump_pvh /proc/cmdline; then bring_up domh /out/pvh optional && pvh=1; fi
xl info >/out/xl-info.txt 2>&1
xl dump-core domu /out/domu.core >/out/xl-dump-core.log 2>&1 || fail "xl dump-core: $(cat /out/xl-dump-core.log)"
step "dump-core domu $(wc -c </out/domu.core) bytes"
if [ $pvh = 1 ]; then
  # In the background, watched: under QEMU's SVM this dump has stalled part way.
  xl dump-core domh /out/pvh/domu.core >/out/pvh/xl-dump-core.log 2>&1 &
  job=$!
  # A stalled dump can starve this shell, so judge by progress, not by a count of sleeps.
  last=-1 still=0
  while kill -0 $job 2>/dev/null && [ $still -lt 3 ]; do
    sleep 5
    now=$(wc -c </out/pvh/domu.core 2>/dev/null)
    step "dump-core domh: $now bytes so far"
    if [ "$now" = "$last" ]; then still=$((still + 1)); else still=0; fi
    last=$now
  done
  if kill -0 $job 2>/dev/null; then
    kill $job
    step "xl dump-core domh made no progress in three checks, stopped: $(tail -c 300 /out/pvh/xl-dump-core.log)"
    dmesg | tail -n 20 >/out/pvh/dmesg.txt
    pvh=0
  elif wait $job; then
    step "dump-core domh $(wc -c </out/pvh/domu.core) bytes"
  else
    step "xl dump-core domh failed: $(tail -c 300 /out/pvh/xl-dump-core.log); $(df -k /out | tail -n 1)"
    dmesg | tail -n 20 >/out/pvh/dmesg.txt
    pvh=0
  fi
fi
[ -b /dev/vda ] || fail "no /dev/vda to write the results to (block devices: $(ls /sys/block))"
tar -cf /dev/vda -C /out . || fail "tar to /dev/vda"
sync
echo 1 >/proc/sys/vm/drop_caches
echo "XLDUMP-DONE domid=$(cat /out/domid) pvh=$pvh"
while true; do sleep 1000; done
