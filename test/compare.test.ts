// compareBackends and `memwalk compare`: equal runs pass, an injected difference
// is found and reported (exit 1), bad input is one line with exit 1.
import { describe, test, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareBackends, scenarioNames } from '../src/compare/compare.js';
import { diffResults } from '../src/compare/diff.js';
import { InvalidInputError } from '../src/errors.js';

const cli = join(fileURLToPath(new URL('..', import.meta.url)), 'dist', 'src', 'cli', 'main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

describe('compareBackends', () => {
  test('the scenarios are listed', () => {
    expect(scenarioNames()).toEqual(expect.arrayContaining(['walk', 'map', 'guest', 'fixup']));
  });

  test('walk: both backends agree on every result', () => {
    const r = compareBackends('walk', { size: 800, seed: 3 });
    expect(r.equal).toBe(true);
    expect(r.differences).toEqual([]);
    expect(r.compared).toBeGreaterThan(10_000);
    expect(r.engines).toBe(1);
    expect(r.timing.wasmMs).toBeGreaterThan(0);
  });

  test('map: two engines built identically end identical', () => {
    const r = compareBackends('map', { size: 80, seed: 2 });
    expect(r.equal).toBe(true);
    expect(r.engines).toBe(2);
  });

  test('guest and fixup on a small guest', () => {
    expect(compareBackends('guest', { size: 1 }).equal).toBe(true);
    expect(compareBackends('fixup', { size: 1 }).equal).toBe(true);
  });

  test('an injected difference is found, with its path and both values', () => {
    const r = compareBackends('walk', {
      size: 300,
      tamper: (res) => {
        const t = res.translations as { naive: { status: Uint32Array } };
        t.naive.status[17] = t.naive.status[17]! ^ 0x10;
      },
    });
    expect(r.equal).toBe(false);
    expect(r.differing).toBe(1);
    expect(r.differences[0]!.path).toBe('translations.naive.status[17]');
  });

  test('an unknown scenario is a user error naming the choices', () => {
    expect(() => compareBackends('nope')).toThrow(InvalidInputError);
    expect(() => compareBackends('nope')).toThrow(/walk, map/);
  });

  test('diffResults walks typed arrays, arrays and objects', () => {
    const d = diffResults({ a: new Uint32Array([1, 2]), b: [{ x: 1n }] }, { a: new Uint32Array([1, 3]), b: [{ x: 2n }] });
    expect(d.differing).toBe(2);
    expect(d.differences.map((x) => x.path)).toEqual(['a[1]', 'b[0].x']);
  });
});

describe('memwalk compare (CLI)', () => {
  test('equal runs exit 0', () => {
    const r = run('compare', 'walk', '--size', '300');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('result:     identical');
  });

  test('an injected difference exits 1 and prints it', () => {
    const r = run('compare', 'walk', '--size', '300', '--inject-difference');
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/1 value differs/);
  });

  test('--json prints one document', () => {
    const r = run('compare', 'map', '--size', '40', '--json');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).equal).toBe(true);
  });

  test('bad input: one line, exit 1, no stack trace', () => {
    const r = run('compare', 'nope');
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain("scenario: 'nope' is not one of");
  });
});
