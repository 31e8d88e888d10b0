#!/usr/bin/env bash
# npm run test:qemu — the opt-in test against a real QEMU 7.2.
#   1. install qemu-system-x86, linux-image-amd64, busybox-static (apt-get, as root)
#   2. build memwalk (dist/)
#   3. boot Debian's kernel with a busybox initramfs under TCG (-cpu max, -m 512),
#      once with 4-level paging (no5lvl) and once with LA57, and capture vCPU 0's
#      `info registers`, `info tlb`, `info mem`, gva2gpa samples and a dump
#   4. compare memwalk with the captures (compare.mjs)
# Artefacts go to $MEMWALK_QEMU_WORK (default /tmp/memwalk-qemu-e2e), never into git.
# Options: --skip-capture (reuse the captures), --strict (a SKIP fails the run),
#          --fixtures (refresh test/fixtures/qemu from the new captures).
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${MEMWALK_QEMU_WORK:-/tmp/memwalk-qemu-e2e}
export MEMWALK_QEMU_WORK=$work
capture=1; strict=(); fixtures=0
for a in "$@"; do
  case "$a" in
    --skip-capture) capture=0 ;;
    --strict) strict=(--strict) ;;
    --fixtures) fixtures=1 ;;
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
fi
if [ $fixtures = 1 ]; then
  node scripts/qemu-e2e/make-fixtures.mjs --work "$work" 4level la57
fi
node scripts/qemu-e2e/compare.mjs --work "$work" "${strict[@]}"
