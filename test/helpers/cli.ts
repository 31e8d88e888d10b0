import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// The package's bin: the one-file bundle of src/cli (scripts/build-cli.mjs), as installed.
const BIN = fileURLToPath(new URL('../../dist/cli/memwalk.cjs', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the built `memwalk` binary with plain node, as a user would. */
export function memwalk(...args: string[]): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, CI: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A user error: exit 1, exactly one line on stderr, no stack trace. */
export function expectUserError(r: CliResult, pattern: RegExp): void {
  if (r.code !== 1) throw new Error(`expected exit 1, got ${r.code}: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  if (lines.length !== 1) throw new Error(`expected one line on stderr, got:\n${r.stderr}`);
  if (/\n\s+at /.test(r.stderr)) throw new Error(`stack trace on stderr:\n${r.stderr}`);
  if (!pattern.test(lines[0]!)) throw new Error(`stderr '${lines[0]}' does not match ${pattern}`);
}
