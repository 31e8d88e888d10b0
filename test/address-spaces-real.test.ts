// Reads and reverse lookups against real Linux 6.1 tables (the QEMU fixtures): the
// table pages are the only contents, and the direct map maps them, so a kernel
// virtual address of a table page must read back that page, and a reverse lookup
// of its physical address must list every VA that QEMU's own walk (the independent
// monitor walker the fixtures were checked with) says maps it.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { brotliDecompressSync } from 'node:zlib';
import path from 'node:path';
import { createEngine, x86_64, x86_64_la57 } from '../src/index.js';
import { readVirtual, reverseLookup } from '../src/address/index.js';
import { decodePages, monitorMappings, pageReader } from '../scripts/qemu-e2e/monitor-walk.mjs';

const dir = path.join(import.meta.dirname, 'fixtures/qemu');

describe.each(['4level', 'la57'])('real tables: %s', (variant) => {
  const d = path.join(dir, variant);
  const meta = JSON.parse(readFileSync(path.join(d, 'meta.json'), 'utf8'));
  const pages = decodePages(brotliDecompressSync(readFileSync(path.join(d, 'tables.bin.br'))));
  const cr3 = BigInt(meta.vcpu0.cr3);
  const format = meta.la57 ? x86_64_la57 : x86_64;
  const walk = { format, ignoreReserved: true, maxPhyAddr: 50 };
  const rootPage = cr3 & ~0xfffn;
  // The oracle: every leaf of QEMU's walk that covers the root table's page, and the VAs of its bytes.
  const oracle = [...monitorMappings(pageReader(pages), cr3, meta.la57)]
    .filter((m) => m.pa <= rootPage + 0x10n && rootPage + 0x10n < m.pa + BigInt(m.size))
    .map((m) => m.va + (rootPage + 0x10n - m.pa));

  describe.each(['wasm', 'reference'] as const)('%s backend', (backend) => {
    const e = createEngine({ ramBytes: meta.mem * 2 ** 20, ioBytes: 1 << 20, backend });
    for (const [pa, bytes] of pages) e.phys.write(pa, bytes);

    it('the root table is mapped in the kernel half, at addresses found by the independent walk', () => {
      expect(oracle.length).toBeGreaterThan(0);
      expect(oracle.every((va) => va >= 0xff00000000000000n)).toBe(true);
    });

    it('reading a kernel VA of a table page gives the page, and the bytes at the PA translate gives', () => {
      const va = oracle[0]! - 0x10n;
      const r = readVirtual(e, cr3, va, 4096, walk);
      expect(r.complete).toBe(true);
      expect(Buffer.from(r.bytes).equals(Buffer.from(pages.get(rootPage)!))).toBe(true);
      const t = e.translate(cr3, va + 0x800n, walk);
      expect(t.ok && Buffer.from(e.phys.read(t.pa, 0x800)).equals(Buffer.from(r.bytes.subarray(0x800)))).toBe(true);
    });

    it('reverse lookup of the PA lists exactly the VAs the independent walk finds', () => {
      const { results } = reverseLookup(e, [cr3], [rootPage + 0x10n], walk);
      expect(results[0]!.hits.map((h) => h.va)).toEqual(oracle);
    });
  });
});
