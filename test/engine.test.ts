import { test, expect } from 'vitest';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEngine, computeLayout, CapacityError, InvalidInputError, OutsideImageError, FRAME_BYTES } from '../src/index.js';
import { testDir } from './helpers/temp-dir.js';

test('a request that cannot fit in 4 GiB is refused before allocating, saying what fits', () => {
  expect(() => createEngine({ ramBytes: '4G' })).toThrow(CapacityError);
  expect(() => createEngine({ ramBytes: '4G' })).toThrow(/asked for 4096 MiB of RAM image and 1048576 frames .*at most \d+(\.\d)? MiB of RAM fits/);
  // 128M frames (a 512 GiB guest) + 1 GiB of RAM: 2560 + 1024 MiB + buffers fits; + 2 GiB does not.
  expect(computeLayout(2 ** 30, 2 ** 27).totalBytes).toBeLessThanOrEqual(2 ** 32);
  expect(() => computeLayout(2 ** 31, 2 ** 27)).toThrow(/with 134217728 frames at most 1\d{3}(\.\d)? MiB of RAM fits/);
});

test('frame metadata is 20 bytes a frame, in five columns after the buffers', () => {
  const l = computeLayout(2 ** 20, 1000);
  expect(FRAME_BYTES).toBe(20);
  // Each column one 64 KiB page plus 192 bytes after the last (so no two share an offset within a
  // 4 KiB page); the image starts at the next page: 6 * 65536 - 4 * 65728 = 130304 after the last column.
  expect([l.colCount - l.colType, l.colPrev - l.colNext, l.ramBase - l.colPrev]).toEqual([65728, 65728, 130304]);
  expect(new Set([l.colType, l.colCount, l.colOwner, l.colNext, l.colPrev].map((a) => a % 4096)).size).toBe(5);
});

test('bad sizes name the input and the rule', () => {
  expect(() => createEngine({ ramBytes: 5000 })).toThrow(/ramBytes: 5000 must be a positive multiple of 4096/);
  expect(() => createEngine({ ramBytes: '1M', frames: 10 })).toThrow(/frames: 10 must be a whole number at least ramBytes\/4096 = 256/);
  expect(() => createEngine({ ramBytes: 'lots' })).toThrow(InvalidInputError);
  expect(() => createEngine({ ramBytes: '1M', backend: 'gpu' as never })).toThrow(/backend: 'gpu' is not one of wasm, reference/);
});

test('physical access is range-checked', () => {
  const e = createEngine({ ramBytes: '64K', ioBytes: 1 << 16 });
  e.phys.write64(0xfff8n, 0x1122334455667788n);
  expect(e.phys.read64(0xfff8n)).toBe(0x1122334455667788n);
  expect(e.phys.read32(0xfffcn)).toBe(0x11223344);
  expect(() => e.phys.read64(0xfffcn)).toThrow(OutsideImageError);
  expect(() => e.phys.write(0x10000n, new Uint8Array(1))).toThrow(/write: \[0x10000, 0x10001\) is outside the RAM image \[0x0, 0x10000\)/);
});

test('raw images load streamed and save back byte for byte; too large a file is refused first', async () => {
  const dir = testDir('memwalk-');
  const bytes = new Uint8Array(40000).map((_, i) => (i * 7) & 0xff);
  writeFileSync(join(dir, 'img.raw'), bytes);
  const e = createEngine({ ramBytes: '64K', ioBytes: 1 << 16 });
  let seen = 0;
  expect(await e.phys.loadRaw(join(dir, 'img.raw'), { onProgress: (d) => (seen = d) })).toBe(40000);
  expect(seen).toBe(40000);
  expect(e.phys.read(39999, 1)[0]).toBe((39999 * 7) & 0xff);
  await e.phys.save(join(dir, 'out.raw'), { length: 40000 });
  expect(Buffer.compare(readFileSync(join(dir, 'out.raw')), Buffer.from(bytes))).toBe(0);
  writeFileSync(join(dir, 'big.raw'), new Uint8Array(70000));
  await expect(e.phys.loadRaw(join(dir, 'big.raw'))).rejects.toThrow(/image of 70000 bytes at 0x0 does not fit the engine's RAM image of 65536 bytes/);
});
