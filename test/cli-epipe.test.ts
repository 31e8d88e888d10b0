import { beforeAll, describe, expect, test } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEngine, BumpAllocator } from '../src/index.js';
import { testDir } from './helpers/temp-dir.js';

// A reader that goes away (`memwalk mappings ... | head`) must end memwalk
// quietly: exit status 0, nothing on stderr, no "Error: write EPIPE".

const BIN = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
const dir = testDir('memwalk-epipe-');
const img = join(dir, 'many.raw');
/** 64 MiB of 4 KiB pages: 16384 mappings, about 1.4 MB of listing, far beyond a pipe's buffer. */
const PAGES = 16384;

beforeAll(async () => {
  const e = createEngine({ ramBytes: '1M', ioBytes: 1 << 20 });
  e.map(0x1000n, 0x10000000n, 0n, BigInt(PAGES) * 4096n, { write: true }, new BumpAllocator(2, 200), { largestLeaf: 4096 });
  await e.phys.save(img);
});

/** Run memwalk, read its first chunk of stdout, then close the pipe; resolve with the exit status and stderr. */
function readFirstChunkThenClose(args: string[]): Promise<{ code: number | null; signal: string | null; first: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let first = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout.setEncoding('utf8').once('data', (d: string) => {
      first = d;
      child.stdout.destroy();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, first, stderr }));
  });
}

describe('a reader that closes early', () => {
  test('the whole listing is longer than a pipe holds (so the test can fail)', () => {
    const r = spawnSync(process.execPath, [BIN, 'mappings', '-f', img, '--cr3', '0x1000'], { encoding: 'utf8', maxBuffer: 1 << 26 });
    expect(r.status).toBe(0);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(PAGES);
    expect(r.stdout.length).toBeGreaterThan(16 * 65536);
  });

  test.each([
    ['mappings', ['mappings', '-f', img, '--cr3', '0x1000']],
    ['mappings --json', ['mappings', '-f', img, '--cr3', '0x1000', '--json']],
    ['mappings --format qemu-tlb', ['mappings', '-f', img, '--cr3', '0x1000', '--format', 'qemu-tlb']],
    ['translate of many addresses', ['translate', '-f', img, '--cr3', '0x1000', ...Array.from({ length: 4000 }, (_, i) => `0x${(0x10000000 + i * 4096).toString(16)}`)]],
  ])('%s: exit 0, nothing on stderr', async (_name, args) => {
    const r = await readFirstChunkThenClose(args);
    expect(r.first.length).toBeGreaterThan(0);
    expect(r.stderr).toBe('');
    expect([r.code, r.signal]).toEqual([0, null]);
  });

  test('`memwalk mappings ... | head -n 1` in a shell with pipefail succeeds', () => {
    const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${BIN}" mappings -f "${img}" --cr3 0x1000 | head -n 1`], { encoding: 'utf8' });
    expect(r.stdout).toBe('0000000010000000-0000000010001000 -> 0000000000000000   4K wx supervisor\n');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
