import { beforeAll, describe, expect, test } from 'vitest';
import { join } from 'node:path';
import { formatInfoMem, formatInfoTlb } from '../src/images/qemu-format.js';
import { x86_64 } from '../src/paging/formats/x86.js';
import { memwalk } from './helpers/cli.js';
import { createEngine, BumpAllocator, type Engine } from '../src/index.js';
import { ByteSink } from '../src/cli/output.js';
import { jsonBatch, jsonLines, lineBatch, memwalkLines } from '../src/cli/mapping-bytes.js';
import { selectedBatches, type RecordSelection } from '../src/paging/mapping-records.js';
import type { Mapping } from '../src/paging/types.js';
import { testDir } from './helpers/temp-dir.js';

// The mappings command writes its lines as bytes from the enumerator's records;
// here each line is rebuilt from the decoded Mapping with BigInt and
// JSON.stringify, a different route to the same text.

const e = createEngine({ ramBytes: '4M', ioBytes: 1 << 16 });
const a = new BumpAllocator(2, 1000);
e.map(0x1000n, 0x400000n, 0x0n, 0x3000n, { write: true, user: true, execute: false }, a, { largestLeaf: 4096 });
e.map(0x1000n, 0x7fffffe00000n, 0x123400000n, 0x200000n, { user: true }, a);
e.map(0x1000n, 0xffff800000000000n, 0xfffffc0000000n, 0x40000000n, { write: true, execute: false, global: true }, a);
// The last gigabyte: its end wraps to 0.
e.map(0x1000n, 0xffffffffc0000000n, 0x40000000n, 0x40000000n, {}, a);
// Many 4 KiB leaves, so a listing spans several record batches and output blocks.
e.map(0x1000n, 0xffffc90000000000n, 0x200000n, 3000n * 4096n, { write: true }, a, { largestLeaf: 4096 });

const size = (n: number) => (n >= 2 ** 30 ? `${n / 2 ** 30}G` : n >= 2 ** 20 ? `${n / 2 ** 20}M` : `${n / 1024}K`);
const h16 = (v: bigint) => BigInt.asUintN(64, v).toString(16).padStart(16, '0');
const memwalkLine = (m: Mapping) =>
  `${h16(m.va)}-${h16(m.va + BigInt(m.size))} -> ${h16(m.pa)} ${size(m.size).padStart(4)} ${m.rights.write ? 'w' : '-'}${m.rights.execute ? 'x' : '-'} ${m.rights.user ? 'user' : 'supervisor'}`;
const jsonLine = (m: Mapping) =>
  JSON.stringify({ va: '0x' + m.va.toString(16), pa: '0x' + m.pa.toString(16), size: m.size, level: m.level, entry: '0x' + m.entry.toString(16), rights: { write: m.rights.write, user: m.rights.user, execute: m.rights.execute } });

function bytes(json: boolean, sel: RecordSelection = {}, x: Engine = e): { text: string; blocks: number } {
  const out: Buffer[] = [];
  const sink = new ByteSink((b) => out.push(Buffer.from(b)) > 0);
  let first = true;
  for (const b of selectedBatches(x, 0x1000n, {}, sel, { count: 0, truncated: false }, json ? jsonBatch(x) : lineBatch(x))) {
    if (json) jsonLines(x, b, sink, first);
    else memwalkLines(x, b, sink);
    first = false;
  }
  sink.flush();
  return { text: Buffer.concat(out).toString('latin1'), blocks: out.length };
}

describe.each(['wasm', 'reference'] as const)('mapping lines as bytes (%s backend: the lines are its formatLines and formatJson kernels)', (backend) => {
  const all = [...e.mappingsIter(0x1000n)];
  const x = backend === 'wasm' ? e : e.withBackend('reference');

  test('the tables hold what the test means (so the comparisons can fail)', () => {
    expect(all).toHaveLength(3 + 1 + 1 + 1 + 3000);
    expect(memwalkLine(all.at(-1)!)).toBe('ffffffffc0000000-0000000000000000 -> 0000000040000000   1G -x supervisor');
  });

  test.each([false, true])('json %s: every line', (json) => {
    const r = bytes(json, {}, x);
    expect(r.blocks).toBeGreaterThan(2);
    const want = all.map((m, i) => (json ? (i ? ',' : '') + jsonLine(m) : memwalkLine(m)) + '\n').join('');
    expect(r.text).toBe(want);
  });

  test('a range and a limit select the same lines as the decoded listing', () => {
    const start = 0x7fffffe00000n + 0x1000n, end = 0xffffc90000000000n + 5n * 4096n;
    const want = all.filter((m) => m.va + BigInt(m.size) > start && m.va < end);
    expect(bytes(false, { range: { start, end } }, x).text).toBe(want.map((m) => memwalkLine(m) + '\n').join(''));
    expect(bytes(false, { range: { start, end }, limit: 3 }, x).text).toBe(want.slice(0, 3).map((m) => memwalkLine(m) + '\n').join(''));
  });
});

describe('memwalk mappings: every format from the records, as the decoded listing prints it', () => {
  const img = join(testDir('memwalk-bytes-'), 'tables.raw');
  beforeAll(() => e.phys.save(img));
  const all = () => [...e.mappingsIter(0x1000n)];
  const monitor = () => [...e.mappingsIter(0x1000n, { format: x86_64, ignoreReserved: true, maxPhyAddr: 50 })];
  const run = (...args: string[]) => memwalk('mappings', '-f', img, '--cr3', '0x1000', ...args);

  test('memwalk, --json, qemu-tlb, qemu-mem', () => {
    expect(run().stdout).toBe(all().map((m) => memwalkLine(m) + '\n').join(''));
    const j = JSON.parse(run('--json').stdout);
    expect(j).toEqual({ mappings: all().map((m) => JSON.parse(jsonLine(m))), truncated: false, count: all().length });
    expect(run('--format', 'qemu-tlb').stdout).toBe(formatInfoTlb(monitor(), false));
    expect(run('--format', 'qemu-mem').stdout).toBe(formatInfoMem(monitor(), false));
  });

  test('--limit: the first n lines and a note, in every format', () => {
    const r = run('--limit', '4', '--format', 'qemu-tlb');
    expect(r.stdout).toBe(formatInfoTlb(monitor().slice(0, 4), false));
    expect(r.stderr).toMatch(/stopped at the limit of 4 mappings/);
    const j = JSON.parse(run('--limit', '4', '--json').stdout);
    expect([j.count, j.truncated, j.mappings.length]).toEqual([4, true, 4]);
    expect(run('--limit', String(all().length)).stderr).toBe('');
  });
});

describe('ByteSink blocks', () => {
  test('a block is taken again only after its reader released it, and its bytes are not overwritten before', () => {
    const held: Uint8Array[] = [];
    const releases: (() => void)[] = [];
    const sink = new ByteSink((b, release) => (held.push(b), releases.push(release), true));
    const chunk = new Uint8Array(40000);
    for (let i = 0; i < 4; i++) sink.bytes(chunk.fill(0x61 + i));
    // 160000 bytes: two full blocks written so far, none released.
    expect(held.map((b) => b.length)).toEqual([65536, 65536]);
    const first = Buffer.from(held[0]!);
    releases[1]!();
    sink.flush();
    sink.bytes(chunk.fill(0x7a));
    sink.flush();
    // The third block (28928 bytes) was a fresh one; the fourth reuses the released second.
    expect(held.map((b) => b.length)).toEqual([65536, 65536, 28928, 40000]);
    expect(new Set(held.slice(0, 3).map((b) => b.buffer)).size).toBe(3);
    // The released second block holds the new bytes; the first, still held, is intact.
    expect(held[3]!.buffer).toBe(held[1]!.buffer);
    expect(Buffer.from(held[3]!).equals(Buffer.alloc(40000, 0x7a))).toBe(true);
    expect(Buffer.from(held[0]!).equals(first)).toBe(true);
  });
});
