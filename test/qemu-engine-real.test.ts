/**
 * The engine's own walk, on both backends, against real QEMU 7.2 output: the
 * page-table pages of two real Linux 6.1 dumps (4-level and LA57, captured by
 * scripts/qemu-e2e) are written into an engine, and memwalk's listings must equal
 * what QEMU's monitor printed for the same CR3, byte for byte.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { brotliDecompressSync } from 'node:zlib';
import path from 'node:path';
import { createEngine, x86_64, x86_64_la57, type Engine } from '../src/index.js';
import { formatGva2gpa, infoMemLines, infoTlbLines } from '../src/images/qemu-format.js';
import { decodePages } from '../scripts/qemu-e2e/monitor-walk.mjs';
import { infoMemBytes, infoTlbBytes } from '../src/images/qemu-listing.js';
import type { RecordSelection, SelectionCount } from '../src/paging/mapping-records.js';

const dir = path.join(import.meta.dirname, 'fixtures/qemu');

function load(variant: string): { engine: Engine; cr3: bigint; la57: boolean; text: (f: string) => string; gva: string[][] } {
  const d = path.join(dir, variant);
  const meta = JSON.parse(readFileSync(path.join(d, 'meta.json'), 'utf8'));
  const pages = decodePages(brotliDecompressSync(readFileSync(path.join(d, 'tables.bin.br'))));
  // The guest had 512 MiB of RAM: every table page lies below that.
  const engine = createEngine({ ramBytes: meta.mem * 2 ** 20, ioBytes: 1 << 20 });
  for (const [pa, bytes] of pages) engine.phys.write(pa, bytes);
  return {
    engine,
    cr3: BigInt(meta.vcpu0.cr3),
    la57: meta.la57,
    text: (f) => brotliDecompressSync(readFileSync(path.join(d, f))).toString('utf8'),
    gva: readFileSync(path.join(d, 'gva2gpa.tsv'), 'utf8').split('\n').filter(Boolean).map((l) => l.split('\t')),
  };
}

const joined = (lines: Iterable<string>) => {
  let s = '';
  for (const l of lines) s += l + '\n';
  return s;
};

describe.each(['4level', 'la57'])('the engine reproduces real QEMU 7.2 monitor output: %s', (variant) => {
  const f = load(variant);
  const format = f.la57 ? x86_64_la57 : x86_64;
  // QEMU's monitor walk: table and frame bits 12..49, only P checked.
  const monitor = { format, ignoreReserved: true, maxPhyAddr: 50 };

  describe.each(['wasm', 'reference'] as const)('%s backend', (backend) => {
    const e = f.engine.withBackend(backend);

    it('info tlb, every line', () => {
      const want = f.text('info-tlb.txt.br');
      const got = joined(infoTlbLines(e.mappingsIter(f.cr3, monitor), f.la57));
      expect(got.length).toBe(want.length);
      expect(got === want).toBe(true);
    });

    it('info mem, every line (QEMU prints none under LA57: its bug, see the README)', () => {
      const want = f.text('info-mem.txt.br');
      const got = joined(infoMemLines(e.mappingsIter(f.cr3, monitor), f.la57));
      if (f.la57) {
        expect(want).toBe('');
        expect(got.split('\n').length).toBeGreaterThan(1000);
      } else expect(got === want).toBe(true);
    });

    it('info tlb as bytes (records formatted by the kernel), every line', () => {
      const want = f.text('info-tlb.txt.br');
      const chunks: Buffer[] = [];
      for (const c of infoTlbBytes(e, f.cr3, monitor, f.la57)) chunks.push(Buffer.from(c));
      const got = Buffer.concat(chunks).toString('latin1');
      expect(chunks.length).toBeGreaterThan(1); // the I/O buffer of 1 MiB holds fewer lines than the listing
      expect(got.length).toBe(want.length);
      expect(got === want).toBe(true);
    });

    it('info tlb as bytes: the limit and the range cut the same lines', () => {
      const want = f.text('info-tlb.txt.br').split('\n');
      const text = (sel: RecordSelection, counted: SelectionCount) => {
        let s = '';
        for (const c of infoTlbBytes(e, f.cr3, monitor, f.la57, sel, counted)) s += Buffer.from(c).toString('latin1');
        return s;
      };
      const cut = { count: 0, truncated: false };
      expect(text({ limit: 5000 }, cut)).toBe(want.slice(0, 5000).join('\n') + '\n');
      expect(cut).toEqual({ count: 5000, truncated: true });
      // A range: the lines whose VA (the line's first field) lies in it, all 4 KiB here or overlapping.
      const [a, b] = [want[1000]!.slice(0, 16), want[1200]!.slice(0, 16)];
      const inRange = { count: 0, truncated: false };
      const got = text({ range: { start: BigInt('0x' + a), end: BigInt('0x' + b) } }, inRange);
      expect(got.split('\n')[0]).toBe(want[1000]);
      expect(got.endsWith(want[1199]! + '\n')).toBe(true);
      expect(inRange.truncated).toBe(false);
    });

    it('info mem as bytes from the records, every line', () => {
      const want = f.text('info-mem.txt.br');
      let got = '';
      for (const c of infoMemBytes(e, f.cr3, monitor, f.la57)) got += Buffer.from(c).toString('latin1');
      if (f.la57) expect(got).toBe(joined(infoMemLines(e.mappingsIter(f.cr3, monitor), f.la57)));
      else expect(got === want).toBe(true);
    });

    it('gva2gpa, every sampled address', () => {
      const got = f.gva.map(([va]) => formatGva2gpa(e.translate(f.cr3, BigInt(va!), { format, ignoreReserved: true })));
      expect(got).toEqual(f.gva.map(([, r]) => r));
    });
  });
});
