/**
 * The qemu-format formatters against real QEMU 7.2 output (test/fixtures/qemu,
 * captured by scripts/qemu-e2e from Linux 6.1 guests, 4-level and LA57). The
 * mappings come from the page-table pages of the real dumps, walked by an
 * independent model of the monitor's walk (scripts/qemu-e2e/monitor-walk.mjs).
 * The engine's own walker can be checked against the same fixtures by writing
 * the table pages into engine.phys and comparing engine.mappings() output.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { brotliDecompressSync } from 'node:zlib';
import path from 'node:path';
import { formatGva2gpa, formatInfoMem, formatInfoTlb, infoMemLines } from '../src/images/qemu-format.js';
import { decodePages, monitorMappings, monitorTranslate, pageReader } from '../scripts/qemu-e2e/monitor-walk.mjs';

const root = path.join(import.meta.dirname, 'fixtures/qemu');

function fixture(variant: string) {
  const dir = path.join(root, variant);
  const meta = JSON.parse(readFileSync(path.join(dir, 'meta.json'), 'utf8'));
  const text = (f: string) => brotliDecompressSync(readFileSync(path.join(dir, f))).toString('utf8');
  const read = pageReader(decodePages(brotliDecompressSync(readFileSync(path.join(dir, 'tables.bin.br')))));
  const cr3 = BigInt(meta.vcpu0.cr3);
  const la57: boolean = meta.la57;
  return {
    meta,
    la57,
    cr3,
    read,
    tlb: text('info-tlb.txt.br'),
    mem: text('info-mem.txt.br'),
    gva: readFileSync(path.join(dir, 'gva2gpa.tsv'), 'utf8'),
    mappings: () => monitorMappings(read, cr3, la57),
  };
}

describe.each(['4level', 'la57'])('real QEMU 7.2 listings: %s', (variant) => {
  const f = fixture(variant);

  it('the fixture is what it says', () => {
    expect(f.meta.qemu).toContain('QEMU emulator version 7.2');
    expect((BigInt(f.meta.vcpu0.cr4) >> 12n) & 1n).toBe(variant === 'la57' ? 1n : 0n);
    expect(f.tlb.split('\n').length - 1).toBe(f.meta.lines.infoTlb);
  });

  it('info tlb: every line byte for byte', () => {
    const out = formatInfoTlb(f.mappings(), f.la57);
    expect(out.length).toBe(f.tlb.length);
    expect(out === f.tlb).toBe(true);
  });

  it('gva2gpa: every sampled address, including gpa: 0 and non-canonical ones', () => {
    const rows = f.gva.split('\n').filter(Boolean).map((l) => l.split('\t') as [string, string]);
    expect(rows.some(([, r]) => r === 'gpa: 0')).toBe(true);
    expect(rows.some(([, r]) => r === 'Unmapped')).toBe(true);
    const got = rows.map(([a]) => formatGva2gpa(monitorTranslate(f.read, f.cr3, f.la57, BigInt(a))));
    expect(got).toEqual(rows.map(([, r]) => r));
  });

  if (variant === '4level') {
    it('info mem: every line byte for byte', () => {
      const out = formatInfoMem(f.mappings(), false);
      expect(out.split('\n').length - 1).toBe(f.meta.lines.infoMem);
      expect(out === f.mem).toBe(true);
    });
  } else {
    it('info mem: QEMU 7.2 prints nothing under LA57; memwalk prints the corrected ranges', () => {
      expect(f.mem).toBe('');
      const leaves = [...f.mappings()];
      const lines = [...infoMemLines(leaves, true)];
      expect(lines.length).toBeGreaterThan(1000);
      // Every range is exactly covered by leaves of that effective permission.
      const canon = (x: bigint) => ((x >> 56n) & 1n ? BigInt.asUintN(64, x | -(1n << 57n)) : x);
      const internal = (x: bigint) => x & ((1n << 57n) - 1n);
      let i = 0;
      const problems: string[] = [];
      for (const line of lines) {
        const m = /^([0-9a-f]{16})-([0-9a-f]{16}) ([0-9a-f]{16}) ([u-])r([w-])$/.exec(line);
        if (!m) {
          problems.push(`bad line ${line}`);
          continue;
        }
        const start = internal(BigInt('0x' + m[1]));
        const endField = BigInt('0x' + m[2]);
        const end = endField === 1n << 57n ? endField : internal(endField);
        if (canon(end - start) !== BigInt('0x' + m[3])) problems.push(`size of ${line}`);
        for (; i < leaves.length && internal(leaves[i]!.va) < start; i++) problems.push(`leaf ${leaves[i]!.va.toString(16)} is in no range`);
        let at = start;
        while (i < leaves.length && internal(leaves[i]!.va) < end) {
          const l = leaves[i]!;
          if (internal(l.va) !== at) problems.push(`hole at ${at.toString(16)} inside ${line}`);
          if ((l.rights.user ? 'u' : '-') !== m[4] || (l.rights.write ? 'w' : '-') !== m[5]) problems.push(`rights of ${l.va.toString(16)} in ${line}`);
          at = internal(l.va) + BigInt(l.size);
          i++;
        }
        if (at !== end) problems.push(`${line} not covered up to its end`);
      }
      if (i !== leaves.length) problems.push(`${leaves.length - i} leaves after the last range`);
      expect(problems.slice(0, 5)).toEqual([]);
    });
  }
});
