import { describe, expect, it } from 'vitest';
import { expectUserError, memwalk } from './helpers/cli.js';

// Seed 001's XTF kernel (dom0-layout.md section 6); the default --alloc-base 0
// puts the page-table area [0x2ec000, 0x2f1000) on frames 0x2ec..0x2f0.
const XTF = ['--kernel-start', '0x100000', '--kernel-end', '0x112000', '--nr-pages', '241755'];

describe('memwalk dom0-build', () => {
  it('builds seed 001 and prints the arrangement and a summary', () => {
    const r = memwalk('dom0-build', ...XTF);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    // The seed's block in the 4.17 shape, allocation at 0.
    expect(lines.slice(0, 10)).toEqual([
      'PHYSICAL MEMORY ARRANGEMENT:',
      ' Dom0 alloc.:   0000000000000000->0000000000400000 (240731 pages to be allocated)',
      'VIRTUAL MEMORY ARRANGEMENT:',
      ' Loaded kernel: 0000000000100000->0000000000112000',
      ' Phys-Mach map: 0000000000112000->00000000002ea2d8',
      ' Start info:    00000000002eb000->00000000002eb4b8',
      ' Page tables:   00000000002ec000->00000000002f1000',
      ' Boot stack:    00000000002f1000->00000000002f2000',
      ' TOTAL:         0000000000000000->0000000000400000',
      ' ENTRY ADDRESS: 0000000000100000',
    ]);
    expect(r.stdout).toContain('Page tables: 5 pages at 0x2ec000 (frames [0x2ec, 0x2f1)): L4 1, L3 1, L2 1, L1 2; root L4 at frame 0x2ec (cr3 0x2ec000)');
    expect(r.stdout).toContain('Walk: 1024 of 1024 pages map where the layout puts them; 5 of 5 page-table pages refuse writes (protection), 1019 other pages are writable');
    expect(r.stdout).not.toContain('Checks before marking');
  });

  it('--check prints every page-table page, the count question, the violations and the marking', () => {
    const r = memwalk('dom0-build', ...XTF, '--check');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Page-table count: the layout reserves 5, the tables need 5: exact');
    expect(r.stdout).toContain('Checks before marking (type L1..L4; no flags; type count 0):');
    for (const [i, level] of ['L4', 'L1', 'L2', 'L3', 'L1'].entries()) {
      const f = (0x2ec + i).toString(16);
      expect(r.stdout).toContain(`  page   ${i}  frame 0x${f}  va 0x${f}000  ${level}  ok`);
    }
    expect(r.stdout).toContain('Violations: none');
    expect(r.stdout).toContain('Marked read-only: 5 pages (5 L1 entries lost R/W; count_info allocated + 3; type validated, type count 1)');
  });

  it('--inject breaks pages before the checks, which name frame, address and bits', () => {
    const r = memwalk('dom0-build', ...XTF, '--check', '--inject', 'count:1', '--inject', 'type:2', '--inject', 'locked:4');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('  page   1  frame 0x2ed  va 0x2ed000  L1  FAILED type-count (type count 1, bits 0x1)');
    expect(r.stdout).toContain('  page   2  frame 0x2ee  va 0x2ee000  L2  FAILED not-page-table-type (writable, bits 0xc0000000)');
    expect(r.stdout).toContain('  page   4  frame 0x2f0  va 0x2f0000  L1  FAILED flags-set (locked, bits 0x2000000)');
    expect(r.stdout).toContain('Violations: 3');
    const plain = memwalk('dom0-build', ...XTF, '--inject', 'count:1');
    expect(plain.stdout).toContain('Violations: 1 page-table page check(s) failed before marking (see --check)');
  });

  it('--json gives the same report on both backends', () => {
    const w = memwalk('dom0-build', ...XTF, '--json', '--pin-root', '--inject', 'pinned:3');
    const ref = memwalk('dom0-build', ...XTF, '--json', '--pin-root', '--inject', 'pinned:3', '--backend', 'reference');
    expect(w.code).toBe(0);
    expect(ref.code).toBe(0);
    const a = JSON.parse(w.stdout), b = JSON.parse(ref.stdout);
    expect(a.backend).toBe('wasm');
    expect(b.backend).toBe('reference');
    expect({ ...a, backend: '' }).toEqual({ ...b, backend: '' });
    expect(a.root).toEqual({ frame: 0x2ec, level: 'L4', cr3: '0x2ec000' });
    expect(a.tables.map((t: { level: string }) => t.level)).toEqual(['L4', 'L1', 'L2', 'L3', 'L1']);
    expect(a.pageTableCount).toEqual({ layout: 5, needed: 5, exact: true, surplus: 0 });
    expect(a.violations).toEqual([
      {
        rule: 'flags-set',
        index: 3,
        frame: 0x2ef,
        va: '0x2ef000',
        typeInfo: '0x68c00000', // L3 (3 << 29) | pinned (1 << 27) | undo = type L3, not validated (6 << 21)
        bits: '0x8000000',
        found: 'pinned',
        message: 'page-table page 3 (frame 0x2ef, va 0x2ef000): flag pinned set (bits 0x8000000); none may be set before marking [flags-set]',
      },
    ]);
    expect(a.marked).toEqual({ pages: 5, l1EntriesCleared: 5, countInfo: '0x40000003', rootPinned: true });
    expect(a.walk.ok).toBe(true);
    expect(a.ok).toBe(false);
  });

  it('builds a compat guest and a Linux-like layout near the top', () => {
    const c = memwalk('dom0-build', ...XTF, '--compat', '--check');
    expect(c.code).toBe(0);
    // Compat at 0: p2m of 4-byte entries ends at 0x1fe16c, the area is [0x200000, +7 pages).
    expect(c.stdout).toContain('Page tables: 7 pages at 0x200000 (frames [0x200, 0x207)): L4 0, L3 1, L2 4, L1 2; root L3 at frame 0x200 (cr3 0x200000), walk as x86_pae');
    expect(c.stdout).toContain('exact');
    const l = memwalk(
      'dom0-build', '--virt-base', '0xffffffff80000000', '--kernel-start', '0xffffffff81000000', '--kernel-end', '0xffffffff83a2b000',
      '--p2m-base', '0x8000000000', '--unmapped-initrd', '--initrd-size', String(30 * 1024 * 1024 + 123), '--initrd-addr', '0x2000000',
      '--nr-pages', '384000', '--alloc-base', '0x4000000', '--json',
    );
    expect(l.stderr).toBe('');
    const j = JSON.parse(l.stdout);
    expect(j.pageTableCount).toEqual({ layout: 33, needed: 33, exact: true, surplus: 0 });
    expect(j.allocation).toEqual({ first: 0x4000, frames: 16384, order: 14, initrd: { first: 0x2000, frames: 7681 }, totPages: 24065 });
    expect(j.walk).toMatchObject({ pages: 15360, mapped: 15360, readOnlyTables: 33, ok: true });
  });

  it('refuses bad input with one line and exit 1', () => {
    expectUserError(memwalk('dom0-build', ...XTF, '--backend', 'fast'), /^memwalk: --backend: 'fast' is not one of wasm, reference$/);
    expectUserError(memwalk('dom0-build', ...XTF, '--inject', 'bogus:1'), /--inject: 'bogus' is not one of type, count/);
    expectUserError(memwalk('dom0-build', ...XTF, '--inject', 'count'), /--inject: 'count' is not KIND:PAGE/);
    expectUserError(memwalk('dom0-build', ...XTF, '--inject', 'count:5'), /inject: page 5 is not a page of the 5-page page-table area/);
    expectUserError(memwalk('dom0-build', ...XTF, '--alloc-base', '0x123000'), /alloc-base: 0x123000 is not aligned/);
    expectUserError(memwalk('dom0-build', '--kernel-end', '0x112000', '--nr-pages', '241755'), /--kernel-start: required/);
    expectUserError(memwalk('dom0-build', ...XTF, '--domain', '100000'), /domain: 100000 is not a domain id/);
    expectUserError(memwalk('dom0-build', ...XTF, '--initrd-size', '0x10000', '--initrd-addr', '0x100000'), /initrd-addr: the initrd's frames \[0x100, 0x110\) overlap dom0's allocation/);
    expectUserError(memwalk('dom0-build', ...XTF, '--virt-base', '0xf5000000', '--kernel-start', '0xf5000000', '--kernel-end', '0xf5700000', '--compat'), /Xen private area/);
  });

  it('--help names the options', () => {
    const r = memwalk('dom0-build', '--help');
    expect(r.code).toBe(0);
    for (const o of ['--check', '--backend <name>', '--inject <kind:page>', '--pin-root', '--json', '--kernel <file>', '--nr-pages <n>']) expect(r.stdout).toContain(o);
  });

  it('leaves memwalk dom0-layout as it was (shared options)', () => {
    const r = memwalk('dom0-layout', ...XTF, '--alloc-base', '0x3e800000', '--print', '4.15');
    expect(r.code).toBe(0);
    // Seed 001's printout.
    expect(r.stdout.trimEnd().split('\n')).toEqual([
      'PHYSICAL MEMORY ARRANGEMENT:',
      ' Dom0 alloc.:   000000003e800000->000000003ec00000 (240731 pages to be allocated)',
      'VIRTUAL MEMORY ARRANGEMENT:',
      ' Loaded kernel: 0000000000100000->0000000000112000',
      ' Init. ramdisk: 0000000000112000->0000000000112000',
      ' Phys-Mach map: 0000000000112000->00000000002ea2d8',
      ' Start info:    00000000002eb000->00000000002eb4b8',
      ' Xenstore ring: 0000000000000000->0000000000000000',
      ' Console ring:  0000000000000000->0000000000000000',
      ' Page tables:   00000000002ec000->00000000002f1000',
      ' Boot stack:    00000000002f1000->00000000002f2000',
      ' TOTAL:         0000000000000000->0000000000400000',
      ' ENTRY ADDRESS: 0000000000100000',
    ]);
    const h = memwalk('dom0-layout', '--help');
    for (const o of ['--kernel <file>', '--virt-base <addr>', '--pv-shim', '--print <version>', '--verbose', '--json']) expect(h.stdout).toContain(o);
    expect(h.stdout).not.toContain('--inject');
  });
});
