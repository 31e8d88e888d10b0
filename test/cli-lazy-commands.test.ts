// A command line that starts with a command's name loads that command's file alone
// (start-up time); every command must have its entry, or it silently loads all.
// The bin is the bundle of the same sources (scripts/build-cli.mjs): same table, and
// the Node built-ins it defers stay unloaded by a command that does not use them.
import { test, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildProgram, COMMAND_FILES } from '../src/cli/main.js';
import { commands } from '../src/cli/commands/index.js';
import { testDir } from './helpers/temp-dir.js';

const BUNDLE = fileURLToPath(new URL('../dist/cli/memwalk-cli.cjs', import.meta.url));
const BIN = fileURLToPath(new URL('../dist/cli/memwalk.cjs', import.meta.url));

test('every command has a file of its own in the lazy table, and that file registers exactly it', async () => {
  const all = buildProgram(commands).commands.map((c) => c.name()).sort();
  expect(Object.keys(COMMAND_FILES).sort()).toEqual(all);
  for (const name of all) {
    const { register } = await COMMAND_FILES[name]!();
    expect(buildProgram([register]).commands.map((c) => c.name())).toEqual([name]);
  }
});

test('the bundled bin has the same commands in its lazy table, and runs in strict mode as the ES modules do', () => {
  expect(readFileSync(BUNDLE, 'utf8').startsWith("'use strict';")).toBe(true);
  const bundled = createRequire(import.meta.url)(BUNDLE) as { COMMAND_FILES: Record<string, unknown> };
  expect(Object.keys(bundled.COMMAND_FILES).sort()).toEqual(Object.keys(COMMAND_FILES).sort());
});

test('a one-address translate through the bin loads none of the deferred built-ins', () => {
  const dir = testDir('memwalk-lazy-');
  // x86-64 tables by hand: PML4 0x1000 -> PDPT 0x2000 -> PD 0x3000, entry 2 a 2 MiB page at 0x200000.
  const image = Buffer.alloc(0x4000);
  image.writeBigUInt64LE(0x2003n, 0x1000);
  image.writeBigUInt64LE(0x3003n, 0x2000);
  image.writeBigUInt64LE(0x200083n, 0x3000 + 2 * 8);
  writeFileSync(join(dir, 'tables.raw'), image);
  // Preloaded: writes the built-ins the process loaded, at its exit.
  writeFileSync(join(dir, 'loaded.cjs'), `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(join(dir, 'loaded.json'))}, JSON.stringify(process.moduleLoadList)));\n`);
  const r = spawnSync(process.execPath, ['-r', join(dir, 'loaded.cjs'), BIN, 'translate', '-f', join(dir, 'tables.raw'), '--cr3', '0x1000', '0x400123'], { encoding: 'utf8' });
  expect([r.status, r.stdout, r.stderr]).toEqual([0, '0000000000400123 -> 0000000000200123   2M wx supervisor\n', '']);
  const loaded = JSON.parse(readFileSync(join(dir, 'loaded.json'), 'utf8')) as string[];
  expect(loaded).toContain('NativeModule fs');
  for (const m of ['child_process', 'crypto', 'zlib', 'worker_threads', 'readline', 'fs/promises', 'timers/promises']) {
    expect(loaded, m).not.toContain(`NativeModule ${m}`);
  }
});
