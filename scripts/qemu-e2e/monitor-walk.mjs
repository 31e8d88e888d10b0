// An independent, deliberately simple model of the walks QEMU 7.2's monitor does
// (shared/spec/qemu-listings.md), producing memwalk's result types (Mapping,
// TranslateResult). It exists to check the qemu-format formatters against real
// captures before (and independently of) the engine's walker, and to extract the
// page-table fixture. It is not the engine: plain BigInt, no reserved-bit checks.
//
// `read(pa)` returns the 64-bit little-endian value at physical address `pa`, or
// 0n when nothing is stored there (QEMU reads unassigned memory as zero).

const MONITOR_ADDR = 0x3fffffffff000n; // bits 12..49: info tlb / info mem
const GVA2GPA_ADDR = 0x000ffffffffff000n; // bits 12..51: gva2gpa
const P = 1n;
const W = 2n;
const U = 4n;
const PS = 0x80n;
const NX = 1n << 63n;

function canonical(va, la57) {
  const bits = la57 ? 57n : 48n;
  return (va >> (bits - 1n)) & 1n ? BigInt.asUintN(64, va | -(1n << bits)) : va;
}

const SHIFT = { 5: 48n, 4: 39n, 3: 30n, 2: 21n, 1: 12n };

/**
 * Every present leaf reachable from `cr3`, aliases included, in the monitor's
 * depth-first order (= ascending canonical VA). `onTable(pa)` is told about every
 * table page the walk reads (for fixture extraction).
 */
export function* monitorMappings(read, cr3, la57, onTable) {
  function* walk(table, level, base, and, nx) {
    onTable?.(table);
    for (let i = 0n; i < 512n; i++) {
      const e = read(table + i * 8n);
      if (!(e & P)) continue;
      const va = base + (i << SHIFT[level]);
      const acc = and & e;
      const nx2 = nx || (e & NX) !== 0n;
      const leaf = level === 1 || ((level === 2 || level === 3) && (e & PS) !== 0n);
      if (leaf) {
        const size = 1n << SHIFT[level];
        const exec = !nx2;
        yield {
          va: canonical(va, la57),
          pa: e & MONITOR_ADDR & ~(size - 1n),
          size: Number(size),
          level,
          entry: e,
          rights: { user: (acc & U) !== 0n, write: (acc & W) !== 0n, execute: exec, userExecute: exec },
        };
      } else {
        yield* walk(e & MONITOR_ADDR, level - 1, va, acc, nx2);
      }
    }
  }
  yield* walk(cr3 & MONITOR_ADDR, la57 ? 5 : 4, 0n, P | U | W, false);
}

/** `gva2gpa` semantics: a TranslateResult-like object ({ok, va, pa} or {ok:false, va, fault}). */
export function monitorTranslate(read, cr3, la57, va) {
  const bits = la57 ? 57n : 48n;
  const v = BigInt.asUintN(64, va);
  const fault = (kind, level) => ({ ok: false, va: v, fault: { kind, level, entryAddress: 0n, entryValue: 0n, errorCode: 0 } });
  const sign = v >> (bits - 1n);
  if (sign !== 0n && sign !== (1n << (64n - bits + 1n)) - 1n) return fault('non-canonical', la57 ? 5 : 4);
  const page = v & ~0xfffn;
  let table = la57 ? cr3 & ~0xfffn : null;
  // In 4-level mode QEMU lets CR3 itself stand in as the PML5 entry.
  let e = la57 ? 0n : cr3;
  for (let level = la57 ? 5 : 4; level >= 1; level--) {
    if (table === null) {
      table = e & GVA2GPA_ADDR;
    }
    const idx = (page >> SHIFT[level]) & 511n;
    e = read(table + idx * 8n);
    if (!(e & P)) return fault('not-present', level);
    if ((level === 3 || level === 2) && e & PS) {
      const size = 1n << SHIFT[level];
      return { ok: true, va: v, pa: (e & GVA2GPA_ADDR & ~(size - 1n)) | (v & (size - 1n)), pageSize: Number(size), level };
    }
    if (level === 1) return { ok: true, va: v, pa: (e & GVA2GPA_ADDR) | (v & 0xfffn), pageSize: 4096, level };
    table = null;
  }
  throw new Error('unreachable');
}

/** A `read` over a map of 4 KiB pages (physical page address -> 4096 bytes). */
export function pageReader(pages) {
  return (pa) => {
    const page = pages.get(pa & ~0xfffn);
    if (!page) return 0n;
    const o = Number(pa & 0xfffn);
    return new DataView(page.buffer, page.byteOffset, page.byteLength).getBigUint64(o, true);
  };
}

/**
 * Page-table fixture format (then gzip): repeated records of u64 LE physical page
 * address + 4096 bytes, in ascending address order.
 */
export function encodePages(pages) {
  const keys = [...pages.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out = new Uint8Array(keys.length * 4104);
  const dv = new DataView(out.buffer);
  keys.forEach((k, i) => {
    dv.setBigUint64(i * 4104, k, true);
    out.set(pages.get(k), i * 4104 + 8);
  });
  return out;
}

export function decodePages(bytes) {
  const pages = new Map();
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let o = 0; o + 4104 <= bytes.length; o += 4104) {
    pages.set(dv.getBigUint64(o, true), bytes.subarray(o + 8, o + 4104));
  }
  return pages;
}
