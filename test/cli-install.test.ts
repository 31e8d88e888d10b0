import { beforeAll, describe, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testDir } from './helpers/temp-dir.js';

// memwalk as a user gets it: packed (what `npm publish` would upload) and
// installed into a fresh project, then its bin and its import used from there.
// The dependencies come from npm's cache when it has them (--prefer-offline).

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Run a command without blocking the test worker (npm can take minutes), killed
 * after `timeoutMs`.
 */
function run(cmd: string, args: string[], cwd: string, timeoutMs: number): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd,
      timeout: timeoutMs,
      env: { ...process.env, CI: '1', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** A fresh ESM project with memwalk installed from `spec`. */
async function project(spec: string, timeoutMs: number): Promise<string> {
  const dir = testDir('memwalk-user-');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'memwalk-user', version: '1.0.0', private: true, type: 'module' }));
  const r = await run(NPM, ['install', '--prefer-offline', '--no-audit', '--no-fund', spec], dir, timeoutMs);
  expect(r.status, r.stderr).toBe(0);
  return dir;
}

/** What every install must give: the bin, the import, and a walk through a raw image. */
async function checkInstalled(dir: string): Promise<void> {
  const bin = join(dir, 'node_modules', '.bin', 'memwalk');
  const v = await run(bin, ['--version'], dir, 30_000);
  expect([v.status, v.stdout]).toEqual([0, `${VERSION}\n`]);
  // A raw image holding one 4 KiB mapping: VA 0x400000 -> 0x9000, built with the installed library itself.
  const script = [
    "import { createEngine, BumpAllocator } from 'memwalk';",
    "const e = createEngine({ ramBytes: '1M', ioBytes: 1 << 20 });",
    'e.map(0x1000n, 0x400000n, 0x9000n, 0x1000n, { write: true }, new BumpAllocator(2, 200), { largestLeaf: 4096 });',
    "await e.phys.save('tables.raw');",
  ].join('\n');
  writeFileSync(join(dir, 'make.mjs'), script);
  const m = await run(process.execPath, ['make.mjs'], dir, 30_000);
  expect(m.status, m.stderr).toBe(0);
  const t = await run(bin, ['translate', '-f', 'tables.raw', '--cr3', '0x1000', '0x400123'], dir, 30_000);
  expect([t.status, t.stdout, t.stderr]).toEqual([0, '0000000000400123 -> 0000000000009123   4K wx supervisor\n', '']);
}

describe('installed from the packed tarball', () => {
  let dir: string;
  let files: string[];

  beforeAll(async () => {
    // The suite's build (pretest) is what gets packed; --ignore-scripts keeps `prepare` from building again.
    const out = testDir('memwalk-pack-');
    const p = await run(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', out], ROOT, 60_000);
    expect(p.status, p.stderr).toBe(0);
    const info = (JSON.parse(p.stdout) as { filename: string; files: { path: string }[] }[])[0]!;
    files = info.files.map((f) => f.path);
    dir = await project(join(out, info.filename), 120_000);
  }, 200_000);

  test('the tarball holds the built library, the kernels and the licence, and nothing of the work tree', () => {
    for (const f of ['package.json', 'LICENSE', 'README.md', 'dist/src/index.js', 'dist/src/cli/main.js', 'dist/cli/memwalk.cjs', 'build/paging.wasm', 'build/frames.wasm']) expect(files).toContain(f);
    expect(files.filter((f) => /^(src|test|bench|assembly|scripts|docs)\/|^dist\/(bench|test)\/|\.wat$|\.bin$/.test(f))).toEqual([]);
  });

  test('the bin and the import work', async () => {
    await checkInstalled(dir);
  }, 60_000);

  test('the demo runs from the installed package, writes nothing into the project, and says what to try next', async () => {
    const before = readdirSync(dir).sort();
    const bin = join(dir, 'node_modules', '.bin', 'memwalk');
    const r = await run(bin, ['demo', '--quick', '--runs', '1'], dir, 120_000);
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(before);
    expect(existsSync(join(dir, 'node_modules', 'memwalk', 'bench'))).toBe(false);
    expect(r.stdout).not.toMatch(/native|issue|target|M\/s/i);
    const tail = r.stdout.trimEnd().split('\n').slice(-4);
    expect(tail[0]).toMatch(/^Next, on a memory dump of your own/);
    expect(tail.slice(1).map((l) => l.trim().split(/\s+/).slice(0, 3).join(' '))).toEqual(['npx memwalk info', 'npx memwalk translate', 'npx memwalk mappings']);
  }, 150_000);
});

// npm builds a git dependency from source (its devDependencies, AssemblyScript, tsc) before
// installing it: several minutes on this 2-core machine, beyond the default suite's budget.
// Run it with MEMWALK_SLOW_TESTS=1.
describe.skipIf(process.env.MEMWALK_SLOW_TESTS !== '1')('installed from a git+file:// URL (slow: builds from source; MEMWALK_SLOW_TESTS=1)', () => {
  test('prepare builds dist/ and build/, and the bin and the import work', async () => {
    const base = testDir('memwalk-git-');
    const clone = join(base, 'memwalk');
    mkdirSync(clone);
    // A clone of the committed tree: what a user's `npm install github:...` fetches.
    const c = await run('git', ['clone', '--quiet', '--no-local', ROOT, clone], base, 120_000);
    expect(c.status, c.stderr).toBe(0);
    const dir = await project(`git+file://${clone}`, 900_000);
    for (const f of ['dist/src/cli/main.js', 'build/paging.wasm', 'LICENSE']) expect(existsSync(join(dir, 'node_modules', 'memwalk', f)), f).toBe(true);
    await checkInstalled(dir);
  }, 1_000_000);
});
