// The ABI's blocks and records, checked by arithmetic; and the two mechanical
// checks of the boundary (the ABI hash at instantiation, the exports at build
// time) shown to refuse what they must.
import { describe, expect, test } from 'vitest';
import { readFileSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as A from '../src/abi.js';
import { abiHash } from '../src/backends/abi-hash.js';
import { ABI_HASH, instantiateChecked } from '../src/backends/wasm.js';
import { StaleBuildError } from '../src/errors.js';
// @ts-expect-error: a build script without typings
import { checkExports } from '../scripts/check-exports.mjs';

const abi = A as unknown as Record<string, number>;
const root = fileURLToPath(new URL('..', import.meta.url));

/** Every block of the control area: a base NAME with a NAME_BYTES beside it. */
const blocks = Object.keys(abi)
  .filter((k) => `${k}_BYTES` in abi && abi[k]! >= A.CTRL_BASE && abi[k]! < A.CTRL_BASE + A.CTRL_BYTES)
  .map((k) => ({ name: k, base: abi[k]!, bytes: abi[`${k}_BYTES`]! }))
  .sort((a, b) => a.base - b.base);

/** The end of the last field named PREFIX* (each u64 unless listed as u32 or i32). */
function fieldsEnd(prefix: string, exclude: readonly string[] = [], u32: readonly string[] = []): number {
  return Math.max(
    ...Object.keys(abi)
      .filter((k) => k.startsWith(prefix) && !k.endsWith('_BYTES') && !exclude.includes(k))
      .map((k) => abi[k]! + (u32.includes(k) ? 4 : 8)),
  );
}

describe('control area', () => {
  test('holds exactly the known blocks, inside the area, none overlapping', () => {
    expect(blocks.map((b) => b.name)).toEqual(['WP', 'RES', 'LAYOUT', 'EN', 'CK', 'FR', 'SCRATCH']);
    for (const b of blocks) {
      expect(b.base).toBeGreaterThanOrEqual(A.CTRL_BASE);
      expect(b.base + b.bytes).toBeLessThanOrEqual(A.CTRL_BASE + A.CTRL_BYTES);
    }
    for (let i = 1; i < blocks.length; i++) expect(blocks[i]!.base).toBeGreaterThanOrEqual(blocks[i - 1]!.base + blocks[i - 1]!.bytes);
    expect(A.CTRL_BASE + A.CTRL_BYTES).toBeLessThanOrEqual(A.IO_BASE);
  });

  test('each block holds its records', () => {
    expect(A.WP_LEVEL_BASE + A.MAX_LEVELS * A.WP_LEVEL_STRIDE).toBeLessThanOrEqual(A.WP_BYTES);
    expect(A.WP_T_RIGHTS + A.RM_BYTES).toBeLessThanOrEqual(A.WP_LEVEL_BASE);
    expect(fieldsEnd('LV_', [], ['LV_LEAF_STATUS', 'LV_CONTIG_ENTRIES'])).toBeLessThanOrEqual(A.WP_LEVEL_STRIDE);
    expect(A.LV_T_RIGHTS + A.RM_BYTES).toBeLessThanOrEqual(A.LV_L_RIGHTS);
    expect(A.LV_L_RIGHTS + A.RM_BYTES).toBeLessThanOrEqual(A.LV_TABLE_TEMPLATE);
    expect(fieldsEnd('RES_')).toBeLessThanOrEqual(A.RES_BYTES);
    expect(fieldsEnd('LY_', [], [])).toBeLessThanOrEqual(A.LAYOUT_BYTES);
    expect(fieldsEnd('FR_', [], [])).toBeLessThanOrEqual(A.FR_BYTES);
    const dfs = A.DFS_LEVEL_BASE + A.MAX_LEVELS * A.DFS_LEVEL_STRIDE;
    expect(dfs).toBeLessThanOrEqual(A.EN_BYTES);
    expect(dfs).toBeLessThanOrEqual(A.CK_BYTES);
    expect(A.DFS_DENY + 4).toBeLessThanOrEqual(A.DFS_LEVEL_STRIDE);
  });

  test('a scratch slot holds the walk cache and the interleaving state, apart', () => {
    expect(A.SCRATCH_BYTES).toBe(A.SCRATCH_SLOTS * A.SCRATCH_STRIDE);
    expect(A.MAX_LEVELS * A.WC_STRIDE).toBeLessThanOrEqual(A.WC_BYTES);
    expect(A.WC_OR + 8).toBeLessThanOrEqual(A.WC_STRIDE);
    expect(A.BATCH_GROUP * A.IG_STRIDE).toBeLessThanOrEqual(A.IG_BYTES);
    expect(A.IG_INSIDE + 4).toBeLessThanOrEqual(A.IG_STRIDE);
    const parts = [[A.WC_OFFSET, A.WC_BYTES], [A.IG_OFFSET, A.IG_BYTES]].sort((a, b) => a[0]! - b[0]!);
    expect(parts[0]![0]! + parts[0]![1]!).toBeLessThanOrEqual(parts[1]![0]!);
    expect(parts[1]![0]! + parts[1]![1]!).toBeLessThanOrEqual(A.SCRATCH_STRIDE);
  });

  test('no result field is shared by two calls', () => {
    const res = Object.keys(abi).filter((k) => k.startsWith('RES_') && k !== 'RES_BYTES');
    expect(new Set(res.map((k) => abi[k])).size).toBe(res.length);
  });
});

describe('ABI hash', () => {
  test('changes with any value, not with the order of the names', () => {
    const h = abiHash(abi);
    expect(h).toBe(ABI_HASH);
    expect(abiHash({ ...abi, RES_LEAVES: abi.RES_LEAVES! + 8 })).not.toBe(h);
    const reversed = Object.fromEntries(Object.entries(abi).reverse());
    expect(abiHash(reversed)).toBe(h);
  });

  test('the built modules carry the hash of src/abi.ts, and a module built from another ABI is refused', () => {
    const memory = new WebAssembly.Memory({ initial: 2, maximum: 65536 });
    const file = `${root}build/paging.wasm`;
    const module = new WebAssembly.Module(readFileSync(file));
    expect(instantiateChecked<{ abiHash(): number }>(file, module, memory).abiHash() >>> 0).toBe(abiHash(abi));
    const other = abiHash({ ...abi, SCRATCH_SLOTS: abi.SCRATCH_SLOTS! + 1 });
    let err: unknown;
    try {
      instantiateChecked(file, module, memory, other);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StaleBuildError);
    const msg = (err as Error).message;
    expect(msg).toContain(file);
    expect(msg).toContain(`0x${abiHash(abi).toString(16).padStart(8, '0')}`);
    expect(msg).toContain(`0x${other.toString(16).padStart(8, '0')}`);
    expect(msg).toContain('npm run build');
  });
});

describe('export check', () => {
  const dir = `${root}build/gen/check-test`;
  mkdirSync(dir, { recursive: true });
  const real = (name: string) => readFileSync(`${root}build/${name}.d.ts`, 'utf8');

  test('passes on the typings the build emitted', () => {
    copyFileSync(`${root}build/paging.d.ts`, `${dir}/paging.d.ts`);
    copyFileSync(`${root}build/frames.d.ts`, `${dir}/frames.d.ts`);
    copyFileSync(`${root}build/search.d.ts`, `${dir}/search.d.ts`);
    expect(checkExports(dir)).toEqual([]);
  });

  test('fails on a missing export and on a changed signature', () => {
    writeFileSync(`${dir}/paging.d.ts`, real('paging').replace(/export function enumNext\(/, 'export function enumNextRenamed('));
    copyFileSync(`${root}build/search.d.ts`, `${dir}/search.d.ts`);
    writeFileSync(`${dir}/frames.d.ts`, real('frames').replace(/export function pin\(f: number, /, 'export function pin(f: bigint, '));
    const problems: string[] = checkExports(dir);
    expect(problems.length).toBe(2);
    expect(problems.join('\n')).toMatch(/'enumNext'/);
    expect(problems.join('\n')).toMatch(/'pin'/);
  });
}, 60_000);
