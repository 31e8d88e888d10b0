/**
 * Small valid images of every dump format, all holding one guest's memory: the
 * seeds the CLI fuzzing mutates (bit flips, truncation, spliced headers). Shared
 * by the property suite (as TS) and the soak (compiled to dist/ by
 * scripts/tsconfig.fuzz.json).
 *
 * The guest: 16 frames; x86-64 tables at 0x1000 (PML4, with slot 511 mapping
 * itself), 0x2000 (PDPT), 0x3000 (PD), 0x4000 (PT) mapping VA 0..8 pages to
 * frames 8..15, whose bytes are patternFrame's.
 */
import { writeElfCore } from '../../src/perf/dump-writers/elf.js';
import { flatten, writeKdump } from '../../src/perf/dump-writers/kdump.js';
import { writeLime } from '../../src/perf/dump-writers/lime.js';
import { qemuNotes } from '../../src/perf/dump-writers/notes.js';
import { patternFrame } from '../../src/perf/dump-writers/sparse.js';
import { writeXenDumpCore } from '../../src/perf/dump-writers/xen.js';

export const GUEST_FRAMES = 16;
export const GUEST_CR3 = 0x1000n;

function guestRam(): Uint8Array {
  const ram = new Uint8Array(GUEST_FRAMES * 4096);
  const dv = new DataView(ram.buffer);
  const entry = (table: number, i: number, v: bigint) => dv.setBigUint64(table + i * 8, v, true);
  entry(0x1000, 0, 0x2003n);
  entry(0x1000, 511, 0x1003n); // the self-map: listings of it are long by design, bounded by --limit
  entry(0x2000, 0, 0x3003n);
  entry(0x3000, 0, 0x4003n);
  entry(0x3000, 1, 0x200083n); // a 2 MiB leaf beyond the image: walks report it, reads find no bytes
  for (let i = 0; i < 8; i++) {
    entry(0x4000, i, BigInt((8 + i) * 4096) | 0x63n);
    ram.set(patternFrame(8 + i), (8 + i) * 4096);
  }
  return ram;
}

/** One valid image of each format, by the name the CLI's --image-format uses. */
export function baseImages(): Record<string, Uint8Array> {
  const ram = guestRam();
  const frame = (pfn: number) => ram.slice(pfn * 4096, pfn * 4096 + 4096);
  const bytes = ram.length;
  const vcpu = { cr0: 0x80000011n, cr3: GUEST_CR3, cr4: 0x20n };
  const kd = writeKdump({
    maxMapnr: GUEST_FRAMES,
    exists: [[0, GUEST_FRAMES]],
    dumped: Array.from({ length: GUEST_FRAMES - 1 }, (_, i) => i + 1), // frame 0 left out: a hole
    content: frame,
    compression: (pfn) => (['none', 'zlib', 'snappy'] as const)[pfn % 3]!,
  });
  const lime = writeLime([{ start: 0, size: 8 * 4096 }, { start: 0x8000 + 0x10000, size: 8 * 4096 }]);
  lime.file.put(32, ram.subarray(0, 8 * 4096));
  return {
    raw: ram,
    'elf-core': writeElfCore({ notes: qemuNotes([vcpu]), segments: [{ pa: 0, fileBytes: bytes / 2, data: ram.subarray(0, bytes / 2) }, { pa: bytes / 2, fileBytes: bytes / 2, data: ram.subarray(bytes / 2) }] }).file.toBuffer(),
    kdump: kd.file.toBuffer(),
    'kdump-flat': flatten(kd.file).file.toBuffer(),
    lime: lime.file.toBuffer(),
    'xen-dump-core': writeXenDumpCore({ pages: Array.from({ length: 8 }, (_, i) => ({ pfn: i, mfn: 100 + i })), vcpus: [vcpu] }).file.toBuffer(),
  };
}
