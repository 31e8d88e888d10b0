/**
 * The browser bundles: they build (no Node built-in reached but the two file-system
 * modules the path-taking calls import), they stay within the budget docs/browser.md
 * states, and the ABI fingerprint is computed without node:crypto.
 */
import { describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { abiHash } from '../src/backends/abi-hash.js';
import { tempDir } from '../src/perf/dump-writers/sparse.js';
// @ts-expect-error: a plain ES module script without types
import { buildBrowser } from '../scripts/browser-build.mjs';

const KiB = 1024;

/** The budget table of docs/browser.md: file -> [minified, gzipped] bytes. */
function budgets(): Map<string, [number, number]> {
  const doc = readFileSync(new URL('../docs/browser.md', import.meta.url), 'utf8');
  const rows = [...doc.matchAll(/^\| `(?:[\w/]*\/)?([\w.]+\.js)` \|[^|]*\| (\d+) KiB \| (\d+) KiB \|$/gm)];
  return new Map(rows.map((m) => [m[1]!, [Number(m[2]) * KiB, Number(m[3]) * KiB]]));
}

describe('the browser bundles', () => {
  test('build, and stay within the budget of docs/browser.md', async () => {
    const out = tempDir();
    try {
      const { sizes, library } = await buildBrowser({ out: out.path('explorer'), library: out.path('memwalk.js') });
      const budget = budgets();
      expect([...budget.keys()].sort()).toEqual(['explorer.js', 'memwalk.js']);
      for (const [file, [plain, gzip]] of budget) {
        const got = sizes[file] as { bytes: number; gzip: number };
        expect(got.bytes, `${file} minified`).toBeLessThanOrEqual(plain);
        expect(got.gzip, `${file} gzipped`).toBeLessThanOrEqual(gzip);
        // A budget far above the size checks nothing: keep it within a third of it.
        expect(got.bytes, `${file}: budget ${plain} is loose`).toBeGreaterThan(plain * 0.66);
      }
      // The library carries no Node module: no require(), and the only dynamic
      // imports are loadRaw's and save's, which a browser never calls.
      const lib = readFileSync(library, 'utf8');
      expect(lib).not.toMatch(/\brequire\(/);
      expect(new Set(lib.match(/\bimport\("[^"]*"\)/g))).toEqual(new Set(['import("node:fs/promises")', 'import("../util/progress.js")']));
    } finally {
      out.cleanup();
    }
  });

  test('the ABI fingerprint is FNV-1a over the sorted name=value lines, numbers only', () => {
    // Expected values from an independent FNV-1a (Python, over the UTF-8 text "A=1\nB=2").
    expect(abiHash({ B: 2, A: 1, note: 'not a number' })).toBe(0x9c4b86ad);
    expect(abiHash({ A: 1, B: 3 })).not.toBe(0x9c4b86ad);
  });
});
