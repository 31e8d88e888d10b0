import { beforeAll, describe, expect, test } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { memwalk, expectUserError } from './helpers/cli.js';
import { testDir } from './helpers/temp-dir.js';

// What every command shares: --help, --version, and one line `memwalk: ...` with
// exit 1 for every usage error commander finds (unknown option, missing required
// option or argument, conflicting options, too many arguments, a value on a flag).

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const dir = testDir('memwalk-conv-');
const raw = join(dir, 'ram.raw');

beforeAll(() => {
  writeFileSync(raw, new Uint8Array(1 << 16));
});

interface Case {
  /** Arguments that satisfy the command's required options and arguments. */
  readonly ok: string[];
  /** A required option or argument left out, and the message commander gives for it. */
  readonly missing?: [string[], RegExp];
  /** Two options that cannot go together, and the message. */
  readonly conflict?: [string[], RegExp];
}

const CASES: Record<string, Case> = {
  translate: {
    ok: ['-f', raw, '--cr3', '0x1000', '0x0'],
    missing: [['0x0'], /^memwalk: required option '-f, --image <file>' not specified$/],
    conflict: [['-f', raw, '--format', 'qemu-gva2gpa', '--json', '0x0'], /^memwalk: option '-j, --json' cannot be used with option '--format <name>'$/],
  },
  mappings: {
    ok: ['-f', raw, '--cr3', '0x1000'],
    missing: [['--cr3', '0x1000'], /^memwalk: required option '-f, --image <file>' not specified$/],
    conflict: [['-f', raw, '--format', 'qemu-tlb', '--json'], /^memwalk: option '-j, --json' cannot be used with option '--format <name>'$/],
  },
  read: {
    ok: ['-f', raw, '--cr3', '0x1000', '0x0', '16'],
    missing: [['--cr3', '0x1000', '0x0', '16'], /^memwalk: required option '-f, --image <file>' not specified$/],
    conflict: [['-f', raw, '--cr3', '0x1000', '--raw', '--json', '0x0', '16'], /^memwalk: option '(--raw|-j, --json)' cannot be used with option '(-j, --json|--raw)'$/],
  },
  reverse: {
    ok: ['-f', raw, '--cr3', '0x1000', '0x0'],
    missing: [['-f', raw, '--cr3', '0x1000'], /^memwalk: missing required argument 'pa'$/],
  },
  roots: {
    ok: ['-f', raw, '--cr3', '0x1000'],
    missing: [['--cr3', '0x1000'], /^memwalk: required option '-f, --image <file>' not specified$/],
  },
  search: {
    ok: ['-f', raw, '--cr3', '0x1000', '--string', 'x'],
    missing: [['--string', 'x'], /^memwalk: required option '-f, --image <file>' not specified$/],
    conflict: [['-f', raw, '--cr3', '0x1000', '--string', 'a', '--hex', '61'], /^memwalk: option '(-s, --string <text>|-x, --hex <bytes>)' cannot be used with option '(-x, --hex <bytes>|-s, --string <text>)'$/],
  },
  info: {
    ok: ['-f', raw],
    missing: [[], /^memwalk: required option '-f, --image <file>' not specified$/],
  },
  'boot-params': {
    ok: ['-f', raw, '--at', '0x1000'],
    missing: [['-f', raw], /^memwalk: required option '--at <addr>' not specified$/],
  },
  compare: {
    ok: ['walk'],
    missing: [[], /^memwalk: missing required argument 'scenario'$/],
  },
  demo: { ok: ['--quick'] },
  scan: {
    ok: ['--guest', '4M'],
    missing: [[], /^memwalk: required option '-g, --guest <size>' not specified$/],
  },
  'direct-map': {
    ok: ['--paging', '4', '--bank', '0:1G'],
    missing: [['--bank', '0:1G'], /^memwalk: required option '-p, --paging <mode>' not specified$/],
  },
  'dom0-layout': {
    ok: ['--kernel-start', '0x100000', '--kernel-end', '0x112000', '--nr-pages', '241755'],
    missing: [['--kernel-start', '0x100000', '--nr-pages', '241755'], /^memwalk: --kernel-end: required unless --kernel FILE is given$/],
    conflict: [['--kernel', raw, '--kernel-start', '0x100000'], /^memwalk: option '-k, --kernel <file>' cannot be used with option '--kernel-start <addr>'$/],
  },
  'dom0-build': {
    ok: ['--kernel-start', '0x100000', '--kernel-end', '0x112000', '--nr-pages', '241755'],
    missing: [['--kernel-end', '0x112000', '--nr-pages', '241755'], /^memwalk: --kernel-start: required unless --kernel FILE is given$/],
    conflict: [['--kernel-start', '0x100000', '--kernel-end', '0x112000', '--nr-pages', '5', '--avail', '16G'], /^memwalk: option '--nr-pages <n>' cannot be used with option '--avail <n>'$/],
  },
};

test('every command of `memwalk --help` is covered here', () => {
  const r = memwalk('--help');
  expect(r.code).toBe(0);
  const listed = [...r.stdout.split('\nCommands:\n')[1]!.matchAll(/^ {2}([a-z0-9-]+)\b/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
  expect(listed.sort()).toEqual(Object.keys(CASES).sort());
});

test('memwalk --version and -V print the package version', () => {
  for (const flag of ['--version', '-V']) {
    const r = memwalk(flag);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, `${VERSION}\n`, '']);
  }
});

test('memwalk with no command prints the usage and fails', () => {
  const r = memwalk();
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/^Usage: memwalk /);
});

test('an unknown command is one line', () => {
  expectUserError(memwalk('transalte'), /^memwalk: unknown command 'transalte' \(did you mean translate\?\)$/);
});

describe.each(Object.entries(CASES))('memwalk %s', (name, c) => {
  test('--help: exit 0, the number rule, required options marked, each default said once', () => {
    const r = memwalk(name, '--help');
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toMatch(new RegExp(`^Usage: memwalk ${name} `));
    expect(r.stdout).toMatch(/^Numbers: 0x\.\.\. is hex, bare digits are decimal; sizes may end in K, M, G, T/m);
    // Commander wraps descriptions: join each option's lines before looking at it.
    const options = r.stdout.split('\nOptions:\n')[1]!.split(/\n(?=\s{2}-)/);
    for (const o of options) expect(o.match(/default/gi)?.length ?? 0, o).toBeLessThanOrEqual(1);
    const required = options.filter((o) => /\(required\)/.test(o.replace(/\s+/g, ' ')));
    const expected = { translate: 1, mappings: 1, info: 1, 'boot-params': 2, scan: 1, 'direct-map': 2, read: 1, reverse: 1, roots: 1, search: 1 }[name] ?? 0;
    expect(required.length).toBe(expected);
  });

  test('--version: exit 0, the version', () => {
    const r = memwalk(name, '--version');
    expect([r.code, r.stdout, r.stderr]).toEqual([0, `${VERSION}\n`, '']);
  });

  test('an unknown option: one line, exit 1', () => {
    expectUserError(memwalk(name, ...c.ok, '--frobnicate'), /^memwalk: unknown option '--frobnicate'$/);
  });

  test.runIf(c.missing !== undefined)('a missing required option or argument: one line, exit 1', () => {
    const [args, message] = c.missing!;
    expectUserError(memwalk(name, ...args), message);
  });

  test.runIf(c.conflict !== undefined)('conflicting options: one line, exit 1', () => {
    const [args, message] = c.conflict!;
    expectUserError(memwalk(name, ...args), message);
  });
});

describe('usage errors stay on one line', () => {
  test('a near miss gets a suggestion on the same line', () => {
    expectUserError(memwalk('mappings', '-f', raw, '--lmit', '5'), /^memwalk: unknown option '--lmit' \(did you mean --limit\?\)$/);
  });

  test.each(['info', 'scan', 'dom0-layout'])('%s: a value on a flag that takes none', (name) => {
    expectUserError(memwalk(name, ...CASES[name]!.ok, '--json=yes'), /^memwalk: option '--json' takes no value \(got --json=yes\)$/);
  });

  test('too many arguments', () => {
    expectUserError(memwalk('info', '-f', raw, 'extra'), /^memwalk: too many arguments for 'info'\. Expected 0 arguments but got 1\.$/);
  });

  test('an option without its value', () => {
    expectUserError(memwalk('mappings', '-f', raw, '--limit'), /^memwalk: option '-n, --limit <n>' argument missing$/);
  });

  test('values with newlines and control characters are escaped, not echoed raw', () => {
    expectUserError(memwalk('translate', '-f', raw, '--cr3', '0x1000', '0x1\nrm -rf'), /^memwalk: VA: '0x1\\nrm -rf' is not a number/);
    expectUserError(memwalk('info', '-f', raw, '--a\nb'), /^memwalk: unknown option '--a\\nb'$/);
    expectUserError(memwalk('scan', '--guest', '4M\u001b[31m'), /^memwalk: --guest: '4M\\x1b\[31m' is not a number/);
    expectUserError(memwalk('info', '-f', join(dir, 'no\nsuch')), /^memwalk: --image: '.*no\\nsuch': no such file$/);
  });

  test('walk options that QEMU formats ignore are refused with them', () => {
    expectUserError(memwalk('mappings', '-f', raw, '--cr3', '0x1000', '--format', 'qemu-mem', '--nxe', '0'), /^memwalk: --nxe: not used with --format qemu-mem/);
    expectUserError(memwalk('translate', '-f', raw, '--cr3', '0x1000', '--format', 'qemu-gva2gpa', '--user', '0x0'), /^memwalk: --user: not used with --format qemu-gva2gpa/);
  });

  test('--format means the output format: direct-map takes its paging mode as --paging', () => {
    expectUserError(memwalk('direct-map', '--paging', '4', '--format', 'x86_64', '--bank', '0:1G'), /^memwalk: unknown option '--format'$/);
  });
});
