// Property: whatever command line reaches the CLI, over whatever file (valid
// images of every dump format, damaged by bit flips, truncation, spliced headers
// and overwritten fields), it exits 0, or exits 1 with one stderr line and no stack
// frame: never killed, never past its time or heap bound. Over the built CLI
// (dist/), mostly in process (a worker thread per run, replaced when a run has to
// be killed) and a sample as child processes of the binary itself.
import { afterAll, beforeAll, expect, test } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProgram } from '../src/cli/main.js';
import { commands } from '../src/cli/commands/index.js';
import { baseImages } from './helpers/fuzz-images.js';
// @ts-expect-error: a plain ES module shared with the soak script
import { argvArb, mutationArb, mutate, cliFailure, describeCommands, cliFiles, CliRunner, runChild, BIN, MAIN_URL } from '../scripts/fuzz-cli.mjs';

const bases = baseImages();
const cmds = describeCommands(buildProgram(commands));
const dir = mkdtempSync(join(tmpdir(), 'memwalk-fuzz-cli-'));
const home = process.cwd();
let files: Record<string, string>;

// The cases run in a directory of their own: a relative path one writes to lands there.
beforeAll(async () => {
  files = await cliFiles(dir, bases);
  process.chdir(dir);
});
afterAll(() => {
  process.chdir(home);
  rmSync(dir, { recursive: true, force: true });
});

type Run = (argv: string[]) => Promise<unknown>;
async function property(run: Run, numRuns: number, seed: number) {
  await fc.assert(
    fc.asyncProperty(mutationArb(fc, Object.keys(bases)), argvArb(fc, cmds, files), async (m: unknown, argv: string[]) => {
      writeFileSync(files.image!, mutate(bases, m));
      const failure = cliFailure(await run(argv), argv);
      if (failure) throw new Error(`${JSON.stringify(argv)}: ${failure}`);
    }),
    { numRuns, seed },
  );
}

test('the seeds are what the CLI reads: each base image answers a walk', async () => {
  const runner = new CliRunner({ mainUrl: MAIN_URL });
  try {
    for (const [format, bytes] of Object.entries(bases)) {
      if (format === 'xen-dump-core') continue; // holds pages, no tables
      writeFileSync(files.image!, bytes);
      const r = (await runner.run(['translate', '--image', files.image, '--cr3', '0x1000', '0x2123'])) as { code: number; stdout: { text: string } };
      // VA 0x2000 -> frame 10 by the guest's PT (see test/helpers/fuzz-images.ts).
      expect([format, r.code, r.stdout.text.trim()]).toEqual([format, 0, '0000000000002123 -> 000000000000a123   4K wx supervisor']);
    }
  } finally {
    await runner.close();
  }
});

test('command lines run in process: exit 0, or exit 1 with one line', async () => {
  const runner = new CliRunner({ mainUrl: MAIN_URL, timeoutMs: 10_000, heapMb: 512 });
  try {
    await property((argv) => runner.run(argv), 1500, 20261207);
  } finally {
    await runner.close();
  }
}, 120_000);

test('a sample as child processes of the binary: the same, and never a signal', async () => {
  const inProcess = new CliRunner({ mainUrl: MAIN_URL });
  try {
    // A NUL cannot be in a process's arguments: such a case runs in process.
    await property((argv) => (argv.some((a) => a.includes('\0')) ? inProcess.run(argv) : runChild(BIN, argv, { timeoutMs: 20_000, heapMb: 512, cwd: dir })), 24, 20261208);
  } finally {
    await inProcess.close();
  }
}, 120_000);

test('the bounds are enforced: a run that never answers or never stops allocating is killed and reported', async () => {
  const spin = 'data:text/javascript,export async function main() { for (;;); }';
  const runner = new CliRunner({ mainUrl: spin, timeoutMs: 200 });
  try {
    const r = await runner.run(['x']);
    expect(cliFailure(r, ['x'])).toBe('no answer within 0.2 s');
    // The killed thread is replaced: the next run is bounded the same way.
    expect(cliFailure(await runner.run(['y']), ['y'])).toBe('no answer within 0.2 s');
  } finally {
    await runner.close();
  }
  const grow = 'data:text/javascript,export async function main() { const a = []; for (;;) a.push(new Array(1e5).fill(1)); }';
  const hungry = new CliRunner({ mainUrl: grow, heapMb: 32, timeoutMs: 60_000 });
  try {
    expect(cliFailure(await hungry.run(['z']), ['z'])).toBe('out of memory (heap bound)');
  } finally {
    await hungry.close();
  }
});

test('the contract as the checker reads it', () => {
  const out = (text: string) => ({ text, bytes: text.length });
  const run = (r: object) => ({ code: 1, stdout: out(''), stderr: out(''), ...r });
  expect(cliFailure(run({ code: 0, stdout: out('x\n') }), ['info'])).toBeUndefined();
  expect(cliFailure(run({ stderr: out('memwalk: --cr3: bad\n') }), ['translate'])).toBeUndefined();
  expect(cliFailure(run({ stderr: out('memwalk: bad\n    at f (/x/y.js:1:2)\n') }), ['translate'])).toBe(
    '2 stderr lines: "memwalk: bad\\n    at f (/x/y.js:1:2)"',
  );
  expect(cliFailure(run({ stderr: out('TypeError: x is not a function\n') }), ['translate'])).toMatch(/^stderr not a memwalk message/);
  expect(cliFailure(run({ code: 2, stderr: out('memwalk: internal error: x\n') }), ['translate'])).toBe('exit status 2');
  expect(cliFailure(run({ code: null, signal: 'SIGSEGV' }), ['translate'])).toBe('killed by SIGSEGV');
  expect(cliFailure(run({ code: 0 }), ['info'])).toBe('exit 0 and nothing printed');
  expect(cliFailure(run({ code: 0 }), ['mappings'])).toBeUndefined(); // an empty listing is an answer
});
