// The walk-parameter block is one field list (src/backends/walk-fields.ts): every
// WP_*/LV_* offset of the abi is a field of it exactly once, without overlap;
// writeWalkParams writes every byte of every field, for every format; the
// reference kernels' parser reads every field of every level.
import { describe, test, expect } from 'vitest';
import * as A from '../src/abi.js';
import { WALK_FIELDS, LEVEL_FIELDS, type WalkField } from '../src/backends/walk-fields.js';
import { writeWalkParams } from '../src/paging/format.js';
import { ReferenceWalkParams } from '../src/backends/reference/params.js';
import { createEngine, x86_64, x86_64_la57, x86_pae, x86_32, aarch64_4k, aarch64_16k, aarch64_64k } from '../src/index.js';

const abi = A as unknown as Record<string, number>;
// Offsets that are not fields: the block's size, its generation counter (bumped
// after a rewrite), where the level records start and their stride, and the bases
// of the rights records (each of whose six masks is a field).
const NOT_FIELDS = ['WP_BYTES', 'WP_GEN', 'WP_LEVEL_BASE', 'WP_LEVEL_STRIDE', 'WP_T_RIGHTS', 'LV_T_RIGHTS', 'LV_L_RIGHTS'];
const FORMATS = { x86_64, x86_64_la57, x86_pae, x86_32, aarch64_4k, aarch64_16k, aarch64_64k };

function checkLayout(fields: readonly WalkField[], prefix: string, end: number) {
  const named = Object.keys(abi).filter((k) => k.startsWith(prefix) && !NOT_FIELDS.includes(k));
  expect(named.length).toBeGreaterThan(0);
  for (const k of named) expect(fields.filter((f) => f.at === abi[k]).length, `${k} is one field`).toBe(1);
  const sorted = [...fields].sort((a, b) => a.at - b.at);
  for (let i = 0; i < sorted.length; i++) {
    const f = sorted[i]!;
    expect(f.at % f.width, `${f.name} aligned`).toBe(0);
    expect(f.at + f.width, `${f.name} inside the record`).toBeLessThanOrEqual(end);
    if (i > 0) expect(sorted[i - 1]!.at + sorted[i - 1]!.width, `${sorted[i - 1]!.name} overlaps ${f.name}`).toBeLessThanOrEqual(f.at);
  }
  expect(new Set(fields.map((f) => f.name)).size).toBe(fields.length);
}

describe('walk-parameter fields', () => {
  test('every WP_* and LV_* offset is one field, without overlap', () => {
    checkLayout(WALK_FIELDS, 'WP_', A.WP_LEVEL_BASE);
    checkLayout(LEVEL_FIELDS, 'LV_', A.WP_LEVEL_STRIDE);
    // The rights records: six u64 masks each.
    expect(WALK_FIELDS.filter((f) => f.at >= A.WP_T_RIGHTS && f.at < A.WP_T_RIGHTS + A.RM_BYTES)).toHaveLength(6);
    expect(LEVEL_FIELDS.filter((f) => f.at >= A.LV_L_RIGHTS && f.at < A.LV_L_RIGHTS + A.RM_BYTES)).toHaveLength(6);
  });

  test.each(Object.entries(FORMATS))('writeWalkParams writes every byte of every field (%s)', (_name, format) => {
    const p = format.params({});
    // Written twice over memory filled with 0x00 and with 0xff: a byte the writer
    // skipped keeps its fill, so it differs between the two.
    const images = [0x00, 0xff].map((fill) => {
      const bytes = new Uint8Array(A.WP + A.WP_BYTES).fill(fill);
      writeWalkParams(new DataView(bytes.buffer), p, 1);
      return bytes;
    });
    const check = (f: WalkField, base: number) => {
      for (let b = 0; b < f.width; b++) expect(images[0]![base + f.at + b], `${f.name} byte ${b} at ${base}`).toBe(images[1]![base + f.at + b]);
    };
    for (const f of WALK_FIELDS) check(f, A.WP);
    for (let i = 0; i < p.levels.length; i++) for (const f of LEVEL_FIELDS) check(f, A.WP + A.WP_LEVEL_BASE + i * A.WP_LEVEL_STRIDE);
  });

  test('the reference parser reads every field of every level', () => {
    const e = createEngine({ ramBytes: 1 << 20 });
    const reads = new Set<number>();
    class Probe extends ReferenceWalkParams {
      parse() {
        const v = this.view;
        // Every read of the block goes through the view: record the offsets.
        Object.defineProperty(this, 'view', {
          value: new Proxy(v, {
            get(t, key) {
              const x = Reflect.get(t, key) as unknown;
              if (typeof x !== 'function') return x;
              return (at: number, ...rest: unknown[]) => {
                reads.add(at);
                return (x as (...a: unknown[]) => unknown).call(t, at, ...rest);
              };
            },
          }),
        });
        this.load();
      }
    }
    const probe = new Probe({ memory: e.memory, layout: e.layout });
    for (const format of [x86_64_la57, aarch64_4k]) {
      reads.clear();
      e.prepare({ format });
      probe.parse();
      const p = format.params({});
      const missed: string[] = [];
      const words = (f: WalkField, base: number) => (f.width === 8 ? [base + f.at, base + f.at + 4] : [base + f.at]);
      for (const f of WALK_FIELDS) if (!words(f, A.WP).every((w) => reads.has(w))) missed.push(f.name);
      for (let i = 0; i < p.levels.length; i++) {
        const base = A.WP + A.WP_LEVEL_BASE + i * A.WP_LEVEL_STRIDE;
        for (const f of LEVEL_FIELDS) if (!words(f, base).every((w) => reads.has(w))) missed.push(`${f.name}[${i}]`);
      }
      expect(missed).toEqual([]);
    }
  });
});
