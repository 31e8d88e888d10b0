/**
 * The pages of make-codec-fixtures.py, built the same way here, with the
 * compressed forms real tools made of them (test/fixtures/dump-codecs.json).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { patternFrame } from '../../../src/perf/dump-writers/sparse.js';

function xorshift(seed: number): Uint8Array {
  const b = new Uint8Array(4096);
  let x = seed >>> 0;
  for (let i = 0; i < 4096; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

function pageTable(): Uint8Array {
  const b = new Uint8Array(4096);
  const dv = new DataView(b.buffer);
  for (let i = 0; i < 512; i += 3) dv.setBigUint64(i * 8, BigInt(0x1000 * (i + 7)) | 0x63n, true);
  return b;
}

function run(): Uint8Array {
  const b = new Uint8Array(4096).fill(0x41);
  b[2000] = 0x42;
  return b;
}

function text(): Uint8Array {
  let s = '';
  for (let i = 0; i < 400; i++) s += `memwalk reads kdump pages ${i}. `;
  return new TextEncoder().encode(s.slice(0, 4096));
}

export const CODEC_PAGES: Record<string, Uint8Array> = {
  'pattern-1': patternFrame(1),
  'pattern-3ffff': patternFrame(0x3ffff),
  random: xorshift(0x12345678),
  'page-table': pageTable(),
  run: run(),
  text: text(),
};

export type FixtureCodec = 'lzo1x_1' | 'lzo1x_999' | 'zstd1' | 'zstd19';

const fixtures = JSON.parse(readFileSync(fileURLToPath(new URL('../../fixtures/dump-codecs.json', import.meta.url)), 'utf8')) as Record<string, Record<FixtureCodec, string>>;

export function fixture(page: string, codec: FixtureCodec): Uint8Array {
  return new Uint8Array(Buffer.from(fixtures[page]![codec], 'base64'));
}

/** A compressor that only knows the fixture pages: the real tool's output for them. */
export function fixtureCompressor(codec: FixtureCodec): (page: Uint8Array) => Uint8Array {
  return (page) => {
    for (const [name, p] of Object.entries(CODEC_PAGES)) {
      if (p.length === page.length && p.every((b, i) => b === page[i])) return fixture(name, codec);
    }
    throw new Error('test writer: page has no fixture');
  };
}
