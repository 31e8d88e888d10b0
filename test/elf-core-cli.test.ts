import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { writeQemuCore, qemuCoreLayout } from './helpers/qemu-core-writer.js';
import type { CoreOptions } from './helpers/qemu-core-writer.js';
import { testDir } from './helpers/temp-dir.js';

const repo = path.resolve(import.meta.dirname, '..');
const cli = path.join(repo, 'dist/src/cli/main.js');

function memwalk(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, CI: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const opts: CoreOptions = {
  vcpus: [
    { cr3: 0x1bb2000n, cr4: 0x750ef0n },
    { cr3: 0x25f2005n, cr4: 0x770ee0n }, // PCIDE, PCID 5
  ],
  blocks: [
    { pa: 0n, data: 0x3000 },
    { pa: 0x100000n, data: 0x1000 },
  ],
};

let dir: string;
beforeAll(() => {
  if (!existsSync(cli)) spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: repo, stdio: 'ignore' });
  dir = testDir('memwalk-info-');
});

describe('memwalk info', () => {
  it('describes a QEMU core: segments, vCPUs, paging mode', () => {
    const file = path.join(dir, 'dump.elf');
    writeFileSync(file, writeQemuCore(opts));
    const L = qemuCoreLayout(opts);
    const r = memwalk('info', '--image', file);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        `image:     ${file}`,
        'format:    qemu-elf (QEMU dump-guest-memory ELF64 core, x86-64)',
        `file size: 0x${L.fileSize.toString(16)} (${L.fileSize} bytes)`,
        'physical:  up to 0x101000 (1028K)',
        'segments:  2',
        `       0x0..0x3000    12K  at file offset 0x${L.blockOffsets[0]!.toString(16)}`,
        `  0x100000..0x101000   4K  at file offset 0x${L.blockOffsets[1]!.toString(16)}`,
        'vCPUs:     2',
        '  cpu 0: CR0=0x80050033 CR3=0x1bb2000 CR4=0x750ef0 paging 4-level (root 0x1bb2000, long mode)',
        '  cpu 1: CR0=0x80050033 CR3=0x25f2005 CR4=0x770ee0 paging 4-level (root 0x25f2000, PCID 0x5, long mode)',
        '',
      ].join('\n'),
    );
  });

  it('--json gives the same facts with hex strings', () => {
    const file = path.join(dir, 'dump2.elf');
    writeFileSync(file, writeQemuCore(opts));
    const r = memwalk('info', '--image', file, '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({
      kind: 'qemu-elf',
      highestAddress: '0x101000',
      elf: { class: 64, machine: 62, pnXnum: false },
      segments: [
        { pa: '0x0', end: '0x3000', size: '0x3000' },
        { pa: '0x100000', end: '0x101000', size: '0x1000' },
      ],
    });
    expect(j.vcpus[1]).toMatchObject({ index: 1, pid: 2, cr3: '0x25f2005', cr4: '0x770ee0', pagingMode: '4-level', pcide: true, pcid: 5, root: '0x25f2000' });
  });

  it('prints the size of a raw image', () => {
    const file = path.join(dir, 'ram.bin');
    writeFileSync(file, new Uint8Array(2 << 20));
    const r = memwalk('info', '--image', file);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`image:     ${file}\nformat:    raw (file offset = physical address)\nsize:      0x200000 (2M): physical 0x0..0x200000\n`);
    const j = JSON.parse(memwalk('info', '--image', file, '--json').stdout);
    expect(j).toMatchObject({ kind: 'raw', fileSize: '0x200000', highestAddress: '0x200000', vcpus: [] });
  });

  it('fails with one line naming the file and offset for a malformed core', () => {
    const file = path.join(dir, 'bad.elf');
    writeFileSync(file, writeQemuCore(opts).subarray(0, 200));
    const r = memwalk('info', '--image', file);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`memwalk: ${file}: program header table (3 entries of 56 bytes) at offset 0xc0: needs 168 bytes (up to 0x168) but the file ends at 0xc8\n`);
  });

  it('fails with one line for a missing file', () => {
    const file = path.join(dir, 'nope.elf');
    const r = memwalk('info', '--image', file);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`memwalk: --image: '${file}': no such file\n`);
  });

  it('has --help', () => {
    const r = memwalk('info', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--image <file>');
  });
});
