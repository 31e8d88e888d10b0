/**
 * A real `xl dump-core` (Xen 4.17.7, a 96 MiB 64-bit PV Linux domU), cut down to
 * test/fixtures/xen/xl-dump-core-pv.json by scripts/qemu-e2e/xl-make-fixture.mjs and
 * rebuilt here as a sparse file of the real size: the real headers, notes, vCPU
 * context, p2m table and page-table entries, zero page data elsewhere, and the
 * page the guest planted. The expected values were copied by hand from what Xen's
 * own tools and the guest printed during the capture (xenctx, xen-mfndump dump-p2m,
 * the guest's console), not from memwalk.
 */
import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDump } from '../src/engine/open-dump.js';
import { FrameState } from '../src/memory/source.js';
import { expectUserError, memwalk } from './helpers/cli.js';

interface Fixture {
  fileSize: number;
  head: string;
  tail: { offset: number; hex: string };
  pagesOffset: number;
  p2mOffset: number;
  p2m: [number, number, number][];
  pages: { index: number; entries: [number, string][] }[];
  planted: { va: string; pfn: string };
}

// What the guest printed: XLDUMP-PLANTED va=0x5a5a000000 pfn=0x29d9.
const PLANTED_VA = 0x5a5a000000n;
const PLANTED_PFN = 0x29d9;
// xen-mfndump dump-p2m: pfn=0x29d9 ==> mfn=0x3a7d9.
const PLANTED_MFN = 0x3a7d9;

/** xl-planter.c's page: byte i is (i * 7 + 0x5a) & 0xff after a 32-byte marker. */
function plantedPage(): Uint8Array {
  const p = new Uint8Array(4096);
  for (let i = 0; i < 4096; i++) p[i] = (i * 7 + 0x5a) & 0xff;
  p.set(new TextEncoder().encode('MEMWALK-XLDUMP-PLANTED-PAGE-4K!!'), 0);
  return p;
}

let dir = '';
let file = '';

beforeAll(() => {
  const fx = JSON.parse(readFileSync(new URL('./fixtures/xen/xl-dump-core-pv.json', import.meta.url), 'utf8')) as Fixture;
  dir = mkdtempSync(path.join(tmpdir(), 'memwalk-xl-'));
  file = path.join(dir, 'domu.core');
  const fd = openSync(file, 'w');
  try {
    ftruncateSync(fd, fx.fileSize);
    writeSync(fd, gunzipSync(Buffer.from(fx.head, 'base64')), 0, undefined, 0);
    writeSync(fd, Buffer.from(fx.tail.hex, 'hex'), 0, undefined, fx.tail.offset);
    const table = Buffer.alloc(16 * fx.p2m.reduce((n, r) => n + r[2], 0));
    let i = 0;
    for (const [pfn, mfn, count] of fx.p2m) {
      for (let k = 0; k < count; k++, i++) {
        table.writeBigUInt64LE(BigInt(pfn + k), i * 16);
        table.writeBigUInt64LE(BigInt(mfn + k), i * 16 + 8);
      }
    }
    writeSync(fd, table, 0, undefined, fx.p2mOffset);
    const word = Buffer.alloc(8);
    for (const page of fx.pages) {
      for (const [off, value] of page.entries) {
        word.writeBigUInt64LE(BigInt(value));
        writeSync(fd, word, 0, 8, fx.pagesOffset + page.index * 4096 + off);
      }
    }
    // .xen_p2m lists pfns in order, so page i is pfn i.
    writeSync(fd, plantedPage(), 0, 4096, fx.pagesOffset + Number(fx.planted.pfn) * 4096);
  } finally {
    closeSync(fd);
  }
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a real xl dump-core (Xen 4.17, 64-bit PV domU)', () => {
  it('is a PV dump-core of 24576 pages, format version 1', () => {
    const dump = openDump(file);
    try {
      expect(dump.description.format).toBe('xen-dump-core');
      expect(dump.description.fileSize).toBe(0x6063048n);
      // xen-mfndump: "P2M size: = 24576" (96 MiB).
      expect(dump.description.details).toMatchObject({ guest: 'pv', frames: 'guest', pages: 24576, formatVersion: 1n });
      expect(dump.ranges).toEqual([{ start: 0n, end: 0x6000000n }]);
    } finally {
      dump.close();
    }
  });

  it("has one vCPU whose registers are xenctx's", () => {
    const dump = openDump(file);
    try {
      expect(dump.vcpus).toHaveLength(1);
      const v = dump.vcpus[0]!;
      // xenctx -a: rip 00000000004016e0, flags 00001202, cs 0033, cr0 80050033,
      // cr2 00000000397036d8, cr3 000000003c318000, cr4 0000000000050660.
      expect([v.rip, v.rflags, v.csSelector, v.cr0, v.cr2, v.cr3, v.cr4]).toEqual([
        0x4016e0n, 0x1202n, 0x33, 0x80050033n, 0x397036d8n, 0x3c318000n, 0x50660n,
      ]);
      expect([v.pagingMode, v.root, v.longMode]).toEqual(['4-level', 0x3c318000n, true]);
      // .xen_prstatus starts at 0x768: right after the notes.
      expect(v.noteOffset).toBe(0x768);
    } finally {
      dump.close();
    }
  });

  it('reads the planted page at the pfn the guest printed, and at its mfn in the machine view', () => {
    const out = new Uint8Array(4096);
    const guest = openDump(file);
    const machine = openDump(file, { xenFrames: 'machine' });
    try {
      expect(guest.source.readFrame(PLANTED_PFN, out)).toBe(FrameState.Present);
      expect(Buffer.from(out).equals(plantedPage())).toBe(true);
      expect(machine.source.readFrame(PLANTED_MFN, out)).toBe(FrameState.Present);
      expect(Buffer.from(out).equals(plantedPage())).toBe(true);
      // The 24576 mfns xen-mfndump printed, sorted, form these five runs.
      expect(machine.ranges.map((r) => [r.start >> 12n, r.end >> 12n])).toEqual([
        [0x1e400n, 0x1f000n],
        [0x1fc00n, 0x20000n],
        [0x38000n, 0x38200n],
        [0x39000n, 0x39200n],
        [0x3a000n, 0x3ec00n],
      ]);
    } finally {
      guest.close();
      machine.close();
    }
  });

  it("walks the domU's own tables from CR3 to the planted frame (machine view)", () => {
    const machine = openDump(file, { xenFrames: 'machine' });
    try {
      const root = machine.vcpus[0]!.root!;
      const want = BigInt(PLANTED_MFN) * 4096n + 0x123n;
      // The planted user address, and its alias in Linux's direct map (PAGE_OFFSET 0xffff888000000000).
      for (const va of [PLANTED_VA + 0x123n, 0xffff888000000000n + BigInt(PLANTED_PFN) * 4096n + 0x123n]) {
        const t = machine.engine.translate(root, va);
        expect(t.ok && t.pa, `va 0x${va.toString(16)}`).toBe(want);
      }
    } finally {
      machine.close();
    }
  });

  it('the CLI walks it from the vCPU with --xen-frames machine, and says so when it is missing', () => {
    // CR3 0x3c318000 (xenctx) is machine frame 0x3c318, past the guest's 24576 pfns.
    expectUserError(memwalk('translate', '-f', file, '0x5a5a000123'), /^memwalk: cpu 0's CR3: 0x3c318000 puts the root table at 0x3c318000, in no physical range of '.*domu\.core'; a PV guest's CR3 is a machine address: add --xen-frames machine$/);
    const r = memwalk('translate', '-f', file, '--xen-frames', 'machine', '0x5a5a000123');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^0000005a5a000123 -> 000000003a7d9123 /);
  });
});
