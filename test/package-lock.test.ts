import { expect, test } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testDir } from './helpers/temp-dir.js';

// The lockfile must suit npm 10 and npm 11 alike: `npm ci` accepts it, and
// `npm install` leaves it as it is.

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, Record<string, unknown>> };

test('every optional platform package a dependency names has its own entry (npm 11 ci refuses a lock without them)', () => {
  const missing: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    for (const dep of Object.keys((entry.optionalDependencies as Record<string, string> | undefined) ?? {})) {
      const nested = `${path ? path + '/' : ''}node_modules/${dep}`;
      if (!lock.packages[nested] && !lock.packages[`node_modules/${dep}`]) missing.push(`${path || '(root)'} -> ${dep}`);
    }
  }
  expect(missing).toEqual([]);
});

test('no entry carries a libc field (npm 10 drops them, so its `npm install` would rewrite the lock)', () => {
  expect(Object.entries(lock.packages).filter(([, e]) => 'libc' in e).map(([p]) => p)).toEqual([]);
});

test('package.json and the lock agree: `npm ci --dry-run` accepts them', async () => {
  const dir = testDir('memwalk-lock-');
  copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  copyFileSync(join(ROOT, 'package-lock.json'), join(dir, 'package-lock.json'));
  // Rejects (failing the test) when npm exits non-zero; async so the test worker is never blocked.
  await promisify(execFile)(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['ci', '--dry-run', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], {
    cwd: dir,
    timeout: 60_000,
  });
}, 70_000);
