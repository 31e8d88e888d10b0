import { deflateSync } from 'node:zlib';
import snappy from 'snappyjs';
import { describe, expect, it } from 'vitest';
import { lzo1xDecompress } from '../src/dumps/lzo1x.js';
import { decompressPage, snappyOutputLength } from '../src/dumps/page-codecs.js';
import { inflatePage } from '../src/dumps/zlib-page.js';
import { inflatePage as inflatePageInBrowser } from '../src/dumps/zlib-page.browser.js';
import { CODEC_PAGES, fixture } from './helpers/dump-writers/codec-pages.js';

const names = Object.keys(CODEC_PAGES);

describe('page decompressors against real tools', () => {
  it('the TS pages are the ones the fixture script compressed (lzo1x_999 round trip of the run page is tiny)', () => {
    // The run page is 4096 x 0x41 with one 0x42: any tool compresses it to a few dozen bytes.
    expect(fixture('run', 'lzo1x_999').length).toBeLessThan(64);
  });

  for (const name of names) {
    for (const codec of ['lzo1x_1', 'lzo1x_999'] as const) {
      it(`LZO1X: ${name} compressed by python-lzo (${codec})`, () => {
        const out = new Uint8Array(4096);
        expect(lzo1xDecompress(fixture(name, codec), out)).toBe(4096);
        expect(Buffer.compare(out, CODEC_PAGES[name]!)).toBe(0);
        expect(decompressPage('lzo', fixture(name, codec), out.fill(0))).toBeUndefined();
        expect(Buffer.compare(out, CODEC_PAGES[name]!)).toBe(0);
      });
    }
    for (const codec of ['zstd1', 'zstd19'] as const) {
      it(`zstd: ${name} compressed by the zstd CLI (${codec})`, () => {
        const out = new Uint8Array(4096);
        expect(decompressPage('zstd', fixture(name, codec), out)).toBeUndefined();
        expect(Buffer.compare(out, CODEC_PAGES[name]!)).toBe(0);
      });
    }
    it(`zlib and snappy: ${name} compressed by node:zlib and snappyjs`, () => {
      const out = new Uint8Array(4096);
      expect(decompressPage('zlib', new Uint8Array(deflateSync(CODEC_PAGES[name]!)), out)).toBeUndefined();
      expect(Buffer.compare(out, CODEC_PAGES[name]!)).toBe(0);
      expect(decompressPage('snappy', snappy.compress(CODEC_PAGES[name]!), out.fill(0))).toBeUndefined();
      expect(Buffer.compare(out, CODEC_PAGES[name]!)).toBe(0);
    });
  }

  it('LZO1X refuses truncation, trailing bytes, a back-reference before the start and output overrun', () => {
    const good = fixture('text', 'lzo1x_1');
    const out = new Uint8Array(4096);
    expect(() => lzo1xDecompress(good.subarray(0, good.length - 1), out)).toThrow(/input ends/);
    expect(() => lzo1xDecompress(Uint8Array.from([...good, 0]), out)).toThrow(/end marker/);
    // 0x12 = literal run of 1 byte; then instruction 0x40 0x05: 3 bytes from distance 41 with only 1 written.
    expect(() => lzo1xDecompress(Uint8Array.of(0x12, 0x61, 0x40, 0x05, 0x11, 0, 0), out)).toThrow(/reaches back/);
    expect(() => lzo1xDecompress(good, new Uint8Array(100))).toThrow(/exceed/);
    // A page that decodes to less than 4096 bytes: a valid stream of 5 literals.
    const short = Uint8Array.of(17 + 5, 1, 2, 3, 4, 5, 0x11, 0, 0);
    expect(lzo1xDecompress(short, out)).toBe(5);
    expect(decompressPage('lzo', short, out)).toMatch(/decodes to 5 bytes, not 4096/);
  });

  // Node's zlib in Node, fflate in a browser bundle: the same pages, the same refusals.
  for (const [where, inflate] of [['node:zlib', inflatePage], ['fflate (browser)', inflatePageInBrowser]] as const) {
    it(`zlib (${where}): real zlib streams, then a wrong Adler-32, a cut stream, a short or long one, bytes after the end are refused`, () => {
      const out = new Uint8Array(4096);
      for (const name of names) {
        out.fill(0xee);
        expect(inflate(new Uint8Array(deflateSync(CODEC_PAGES[name]!, { level: 9 })), out), name).toBeUndefined();
        expect(Buffer.compare(out, CODEC_PAGES[name]!), name).toBe(0);
      }
      const page = CODEC_PAGES['text']!;
      const z = new Uint8Array(deflateSync(page));
      const bad = z.slice();
      bad[bad.length - 1]! ^= 1;
      expect(inflate(bad, out)).toMatch(/Adler-32/);
      expect(inflate(z.subarray(0, z.length - 8), out)).toMatch(/corrupt/);
      expect(inflate(new Uint8Array(deflateSync(page.subarray(0, 4000))), out)).toMatch(/decodes to 4000 bytes, not 4096/);
      const long = new Uint8Array(5000);
      long.set(page);
      expect(inflate(new Uint8Array(deflateSync(long)), out)).toMatch(/decodes to more than 4096 bytes/);
      expect(inflate(Uint8Array.from([...z, 0, 0, 0, 0]), out)).toMatch(where === 'node:zlib' ? /ends after \d+ of its \d+ bytes/ : /Adler-32/);
    });
  }

  it('zlib through decompressPage: a wrong Adler-32 is refused', () => {
    const z = new Uint8Array(deflateSync(CODEC_PAGES['text']!));
    z[z.length - 1]! ^= 1;
    expect(decompressPage('zlib', z, new Uint8Array(4096))).toMatch(/Adler-32/);
  });

  it('snappy: a preamble that disagrees with the tags, a cut tag, a wrong length are refused', () => {
    const s = snappy.compress(CODEC_PAGES['text']!);
    expect(snappyOutputLength(s)).toBe(4096);
    const out = new Uint8Array(4096);
    // Preamble 4096 = 0x80 0x20; make it 4095: the tags now produce more than declared.
    const longer = s.slice();
    expect([longer[0], longer[1]]).toEqual([0x80, 0x20]);
    longer[0] = 0xff;
    longer[1] = 0x1f;
    expect(decompressPage('snappy', longer, out)).toMatch(/more than the 4095/);
    expect(decompressPage('snappy', s.subarray(0, s.length - 3), out)).toMatch(/snappy/);
    expect(decompressPage('snappy', snappy.compress(new Uint8Array(100)), out)).toMatch(/100 bytes, not 4096/);
  });

  it('zstd: a corrupt frame header and a truncated frame are refused', () => {
    const z = fixture('text', 'zstd1');
    const out = new Uint8Array(4096);
    const bad = z.slice();
    bad[0]! ^= 0xff;
    expect(decompressPage('zstd', bad, out)).toMatch(/zstd data is corrupt/);
    expect(decompressPage('zstd', z.subarray(0, z.length - 4), out)).toMatch(/zstd/);
  });
});
