#!/usr/bin/env bash
# npm run test:qemu [-- OPTIONS] [-- SCENARIO...] — the opt-in test against a real QEMU 7.2.
#   1. install qemu-system-x86, linux-image-amd64, busybox-static, makedumpfile, time
#      (apt-get, as root; and xen-hypervisor-4.17-amd64 when the xen scenario is asked for)
#   2. build memwalk (dist/)
#   3. boot Debian's kernel with a busybox initramfs under TCG (-cpu max), one scenario
#      at a time:
#      - 4level, la57: -m 512, 4-level paging (no5lvl) and LA57; vCPU 0's `info
#        registers`, `info tlb`, `info mem`, gva2gpa samples and an ELF dump (~1 min each);
#      - large: -m 6144 (RAM above 4 GiB), 2 vCPUs each running a pinned user loop;
#        every vCPU's listings, then the ELF dump, QEMU's kdump (-z, flattened) and
#        the plain kdump `makedumpfile -R` makes of it (needs 8 GiB free, ~3 min);
#      - huge: the same with -m 12288, a 12 GiB guest (needs 14 GiB free, ~3 min to
#        capture, ~1 min to compare);
#      - xen: a whole Xen host: Xen 4.17 with the same kernel as PV dom0, -m 4096,
#        2 pCPUs, a VGA framebuffer; dumped as large (needs 5 GiB free, ~3 min).
#      - xl-dump-core: Xen 4.17 on one pCPU (-m 1024) whose dom0 runs Xen's toolstack
#        (xen-utils-4.17), boots a 96 MiB PV domU that plants a known page, pauses it
#        and `xl dump-core`s it; QEMU then dumps the whole host (xl-capture.mjs,
#        ~2 min, needs 2 GiB free). Checked by xl-check.mjs instead of compare.mjs:
#        the real dump-core against Xen's tools (xenctx, xen-mfndump) and the host dump.
#   4. compare memwalk with the captures (compare.mjs), then time the memwalk CLI
#      (listing and one translate) as a whole process on each multi-vCPU capture
#      (printed and written to timing.json, never judged)
#   5. open each capture's dumps in the explorer page in Chromium, when
#      /usr/bin/chromium is there: its listing must equal the CLI's and QEMU's
#      (test/browser-qemu.test.ts)
# Scenarios: any of 4level la57 large huge xen xl-dump-core; default 4level la57 large.
# Artefacts go to $MEMWALK_QEMU_WORK (default /tmp/memwalk-qemu-e2e), never into git.
# Options: --skip-capture (reuse the captures), --strict (a SKIP fails the run),
#          --no-large (leave the large variant out of the default),
#          --fixtures (refresh test/fixtures/qemu from the new captures),
#          --drop-dumps (delete each multi-GiB dump once it has been compared).
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${MEMWALK_QEMU_WORK:-/tmp/memwalk-qemu-e2e}
export MEMWALK_QEMU_WORK=$work
capture=1; strict=(); fixtures=0; large=1; drop=0; scenarios=()
for a in "$@"; do
  case "$a" in
    --skip-capture) capture=0 ;;
    --strict) strict=(--strict) ;;
    --fixtures) fixtures=1 ;;
    --no-large) large=0 ;;
    --drop-dumps) drop=1 ;;
    4level|la57|large|huge|xen|xl-dump-core) scenarios+=("$a") ;;
    *) echo "test:qemu: unknown option or scenario $a (scenarios: 4level la57 large huge xen xl-dump-core)" >&2; exit 2 ;;
  esac
done
if [ ${#scenarios[@]} -eq 0 ]; then
  scenarios=(4level la57)
  if [ $large = 1 ]; then scenarios+=(large); fi
fi
has() { local s; for s in "${scenarios[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }

if has xl-dump-core; then bash scripts/qemu-e2e/install.sh --xl
elif has xen; then bash scripts/qemu-e2e/install.sh --xen
else bash scripts/qemu-e2e/install.sh; fi
echo "test:qemu: building memwalk"
if ! npm run --silent build >/tmp/memwalk-qemu-build.log 2>&1; then
  # The WASM build may be absent or broken while TypeScript still emits dist/.
  npx tsc -p tsconfig.json >>/tmp/memwalk-qemu-build.log 2>&1 || true
  if [ ! -f dist/src/cli/main.js ]; then
    echo "test:qemu: build failed, see /tmp/memwalk-qemu-build.log" >&2
    exit 1
  fi
  echo "test:qemu: 'npm run build' failed (see /tmp/memwalk-qemu-build.log); using the TypeScript output in dist/"
fi

# GiB of free space a scenario's dumps need.
need_gib() { case "$1" in large) echo 8 ;; huge) echo 14 ;; xen) echo 5 ;; xl-dump-core) echo 2 ;; *) echo 1 ;; esac; }

mkdir -p "$work"
if [ $capture = 1 ]; then bash scripts/qemu-e2e/build-initramfs.sh "$work/initramfs.cpio.gz"; fi
rc=0
for s in "${scenarios[@]}"; do
  if [ "$s" = xl-dump-core ]; then
    # Its own capture and check: a guest's dump-core, not listings of the host.
    if [ $capture = 1 ]; then node scripts/qemu-e2e/xl-capture.mjs --work "$work"; fi
    if [ ! -f "$work/$s/meta.json" ]; then
      echo "test:qemu: no capture of $s in $work (run without --skip-capture)" >&2
      exit 1
    fi
    node scripts/qemu-e2e/xl-check.mjs --work "$work" || rc=1
    if [ $drop = 1 ]; then rm -f "$work/$s"/host.elf "$work/$s"/domu.core; fi
    continue
  fi
  if [ $capture = 1 ]; then
    rm -rf "${work:?}/$s"  # the old dumps must not count against the free space
    free_kib=$(df -Pk "$work" | awk 'NR == 2 { print $4 }')
    if [ "$free_kib" -lt $(($(need_gib "$s") * 1024 * 1024)) ]; then
      echo "test:qemu: the $s scenario needs $(need_gib "$s") GiB free in $work, there are $((free_kib / 1024)) MiB" >&2
      exit 1
    fi
    node scripts/qemu-e2e/capture.mjs --variant "$s" --work "$work"
  fi
  if [ ! -f "$work/$s/meta.json" ]; then
    echo "test:qemu: no capture of $s in $work (run without --skip-capture)" >&2
    exit 1
  fi
  node scripts/qemu-e2e/compare.mjs --work "$work" "${strict[@]}" "$s" || rc=1
  # The explorer page on the same dumps, in Debian's Chromium.
  if [ -x /usr/bin/chromium ]; then
    MEMWALK_QEMU_ONLY=$s npx vitest run test/browser-qemu.test.ts || rc=1
  elif [ ${#strict[@]} -gt 0 ]; then
    echo "test:qemu: no /usr/bin/chromium for the explorer page (apt-get install chromium)" >&2
    rc=1
  else
    echo "test:qemu: SKIP the explorer page: no /usr/bin/chromium (apt-get install chromium)"
  fi
  if [ $drop = 1 ]; then rm -f "$work/$s"/dump*; fi
done
if [ $fixtures = 1 ]; then
  node scripts/qemu-e2e/make-fixtures.mjs --work "$work" 4level la57
fi
exit $rc
