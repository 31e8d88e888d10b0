#!/usr/bin/env bash
# npm run test:qemu — the opt-in test against a real QEMU 7.2.
#   1. install qemu-system-x86, linux-image-amd64, busybox-static, makedumpfile, time
#      (apt-get, as root)
#   2. build memwalk (dist/)
#   3. boot Debian's kernel with a busybox initramfs under TCG (-cpu max):
#      - 4level, la57: -m 512, 4-level paging (no5lvl) and LA57; vCPU 0's `info
#        registers`, `info tlb`, `info mem`, gva2gpa samples and an ELF dump;
#      - large: -m 6144 (RAM above 4 GiB), 2 vCPUs each running a pinned user loop;
#        every vCPU's listings, then the ELF dump, QEMU's kdump (-z, flattened) and
#        the plain kdump `makedumpfile -R` makes of it (needs ~8 GiB free in the
#        work directory, mostly the 6 GiB ELF dump; about 2-3 minutes)
#   4. compare memwalk with the captures (compare.mjs), then time `memwalk translate`
#      as a whole process on the large dumps (printed, never judged)
#   5. open the dumps in the explorer page in Chromium, when /usr/bin/chromium is
#      there: its listing must equal the CLI's and QEMU's (test/browser-qemu.test.ts)
# Artefacts go to $MEMWALK_QEMU_WORK (default /tmp/memwalk-qemu-e2e), never into git.
# Options: --skip-capture (reuse the captures), --strict (a SKIP fails the run),
#          --no-large (leave the large variant out),
#          --fixtures (refresh test/fixtures/qemu from the new captures).
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${MEMWALK_QEMU_WORK:-/tmp/memwalk-qemu-e2e}
export MEMWALK_QEMU_WORK=$work
capture=1; strict=(); fixtures=0; large=1
for a in "$@"; do
  case "$a" in
    --skip-capture) capture=0 ;;
    --strict) strict=(--strict) ;;
    --fixtures) fixtures=1 ;;
    --no-large) large=0 ;;
    *) echo "test:qemu: unknown option $a" >&2; exit 2 ;;
  esac
done

bash scripts/qemu-e2e/install.sh
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

mkdir -p "$work"
if [ $capture = 1 ]; then
  bash scripts/qemu-e2e/build-initramfs.sh "$work/initramfs.cpio.gz"
  node scripts/qemu-e2e/capture.mjs --variant 4level --work "$work"
  node scripts/qemu-e2e/capture.mjs --variant la57 --work "$work"
  if [ $large = 1 ]; then
    rm -rf "$work/large"  # the old dumps must not count against the free space
    free_kib=$(df -Pk "$work" | awk 'NR == 2 { print $4 }')
    if [ "$free_kib" -lt $((8 * 1024 * 1024)) ]; then
      echo "test:qemu: the large variant needs 8 GiB free in $work, there are $((free_kib / 1024)) MiB (or use --no-large)" >&2
      exit 1
    fi
    node scripts/qemu-e2e/capture.mjs --variant large --work "$work"
  fi
fi
if [ $fixtures = 1 ]; then
  node scripts/qemu-e2e/make-fixtures.mjs --work "$work" 4level la57
fi
variants=()
for v in 4level la57 large; do
  if [ -f "$work/$v/meta.json" ] && { [ $v != large ] || [ $large = 1 ]; }; then variants+=("$v"); fi
done
node scripts/qemu-e2e/compare.mjs --work "$work" "${strict[@]}" "${variants[@]}"
# The explorer page on the same dumps, in Debian's Chromium (test/browser-qemu.test.ts).
if [ -x /usr/bin/chromium ]; then
  npx vitest run test/browser-qemu.test.ts
elif [ ${#strict[@]} -gt 0 ]; then
  echo "test:qemu: no /usr/bin/chromium for the explorer page (apt-get install chromium)" >&2
  exit 1
else
  echo "test:qemu: SKIP the explorer page: no /usr/bin/chromium (apt-get install chromium)"
fi
