// The formatJson kernel on both backends, on records written by hand, through the
// CLI's jsonLines (which fills the kernel's size, level and rights slots). The
// expected lines are typed by hand: lowercase hex without leading zeros ("0x0" for
// zero), the size in decimal as JSON prints a double (2^63 is 9223372036854776000),
// the level as the format numbers it, the rights object in the order write, user,
// execute; a comma before every line but the listing's first.
import { describe, test, expect } from 'vitest';
import { createEngine } from '../src/index.js';
import * as A from '../src/abi.js';
import { ByteSink } from '../src/cli/output.js';
import { jsonBatch, jsonLines } from '../src/cli/mapping-bytes.js';
import type { RecordBatch } from '../src/paging/mapping-records.js';

/** A record: VA, PA, entry, level index, page shift, rights (R_* bits). */
type Rec = [bigint, bigint, bigint, number, number, number];

const recs: Rec[] = [
  [0n, 0n, 0n, 0, 12, 0],
  [0x1000n, 0xabc000n, 0x8000000000abc067n, 0, 12, A.R_WRITE | A.R_USER],
  [0x100000000n, 0x200000n, 0x2000e3n, 1, 21, A.R_WRITE | A.R_EXEC],
  [0xffffffffc0000000n, 0xfffffc0000000n, 0xffffffffffffffffn, 2, 30, A.R_USER | A.R_EXEC],
  [0xffff800000000000n, 0x40000000n, 0x400000e3n, 3, 63, A.R_WRITE | A.R_USER | A.R_EXEC],
  [0x7fffffffn, 0xfn, 0x10n, 0, 0, A.R_UEXEC],
];

const want = [
  '{"va":"0x0","pa":"0x0","size":4096,"level":1,"entry":"0x0","rights":{"write":false,"user":false,"execute":false}}',
  ',{"va":"0x1000","pa":"0xabc000","size":4096,"level":1,"entry":"0x8000000000abc067","rights":{"write":true,"user":true,"execute":false}}',
  ',{"va":"0x100000000","pa":"0x200000","size":2097152,"level":2,"entry":"0x2000e3","rights":{"write":true,"user":false,"execute":true}}',
  ',{"va":"0xffffffffc0000000","pa":"0xfffffc0000000","size":1073741824,"level":3,"entry":"0xffffffffffffffff","rights":{"write":false,"user":true,"execute":true}}',
  ',{"va":"0xffff800000000000","pa":"0x40000000","size":9223372036854776000,"level":4,"entry":"0x400000e3","rights":{"write":true,"user":true,"execute":true}}',
  ',{"va":"0x7fffffff","pa":"0xf","size":1,"level":1,"entry":"0x10","rights":{"write":false,"user":false,"execute":false}}',
].map((l) => l + '\n');

describe.each(['wasm', 'reference'] as const)('formatJson on the %s backend', (backend) => {
  const e0 = createEngine({ ramBytes: 1 << 20, ioBytes: 1 << 16 });
  const e = backend === 'wasm' ? e0 : e0.withBackend('reference');
  const io = e.layout.ioBase;
  const dv = new DataView(e.u32.buffer);
  const params = { levels: [1, 2, 3, 4].map((archLevel) => ({ archLevel })) } as unknown as RecordBatch['params'];

  /** The bytes of `rs` in batches of `per`, the first batch holding the listing's first line when `first`. */
  function run(rs: Rec[], per: number, first = true): string {
    const out: Buffer[] = [];
    const sink = new ByteSink((b) => out.push(Buffer.from(b)) > 0);
    // Garbage where the text goes, so a byte the kernel fails to write shows.
    new Uint8Array(e.u32.buffer, io, e.layout.ioBytes).fill(0x3f);
    for (let i = 0; i < rs.length; i += per) {
      const part = rs.slice(i, i + per);
      part.forEach(([va, pa, entry, level, shift, rights], k) => {
        const r = io + k * A.MR_BYTES;
        dv.setBigUint64(r + A.MR_VA, va, true);
        dv.setBigUint64(r + A.MR_PA, pa, true);
        dv.setBigUint64(r + A.MR_ENTRY, entry, true);
        dv.setUint32(r + A.MR_STATUS, (level << A.ST_LEVEL_SHIFT) | (rights << A.ST_RIGHTS_SHIFT) | (shift << A.ST_PAGE_SHIFT), true);
      });
      jsonLines(e, { at: io, count: part.length, params }, sink, first && i === 0);
    }
    sink.flush();
    return Buffer.concat(out).toString('latin1');
  }

  test('hand-typed lines, in one batch and one record at a time', () => {
    expect(run(recs, recs.length)).toBe(want.join(''));
    expect(run(recs, 1)).toBe(want.join(''));
    expect(run(recs, 4)).toBe(want.join(''));
  });

  test('a batch without the listing\'s first line starts every line with a comma', () => {
    expect(run(recs.slice(0, 2), 2, false)).toBe(',' + want[0] + want[1]);
  });

  test('every line parses as the JSON it was typed as', () => {
    const doc = JSON.parse('[' + run(recs, 3) + ']');
    expect(doc[2]).toEqual({ va: '0x100000000', pa: '0x200000', size: 2 ** 21, level: 2, entry: '0x2000e3', rights: { write: true, user: false, execute: true } });
  });

  test('a full jsonBatch of the longest lines fits beside its records in the I/O buffer', () => {
    const longest: Rec = [0xffffffffffffffffn, 0xffffffffffffffffn, 0xffffffffffffffffn, 3, 63, A.R_USER];
    const line = ',{"va":"0xffffffffffffffff","pa":"0xffffffffffffffff","size":9223372036854776000,"level":4,"entry":"0xffffffffffffffff","rights":{"write":false,"user":true,"execute":false}}\n';
    const n = jsonBatch(e);
    expect(n * (A.MR_BYTES + line.length)).toBeGreaterThan(e.layout.ioBytes / 2);
    expect(run(Array(n).fill(longest), n, false)).toBe(line.repeat(n));
  });
});
