import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { InvalidInputError, MalformedFileError } from '../src/errors.js';
import { dom0Layout, formatArrangement } from '../src/xen/dom0-layout.js';
import { detectCompression, readKernelImage } from '../src/xen/kernel-image.js';
import { buildBzImage, buildElf, concat, EM_X86_64, le32, linuxElf, linuxNotes, PF_R, PF_W, PF_X, SHT_STRTAB, SHT_SYMTAB, xtfElf, xtfNotes, type NoteSpec } from './fixtures/dom0/build-kernel.js';

const LINUX = {
  virtBase: 0xffffffff80000000n,
  kernelStart: 0xffffffff81000000n,
  kernelEnd: 0xffffffff83a2b000n,
  entry: 0xffffffff82a3e1c0n,
  p2mBase: 0x8000000000n,
  unmappedInitrd: true,
  compat: false,
};

function expectError(run: () => unknown, type: typeof MalformedFileError | typeof InvalidInputError, message: RegExp): void {
  let caught: unknown;
  try {
    run();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(type);
  const msg = (caught as Error).message;
  expect(msg).toMatch(message);
  expect(msg).not.toContain('\n');
}

describe('readKernelImage: ELF', () => {
  it('reads the XTF kernel of seed 001 (notes in an SHT_NOTE section, no VIRT_BASE)', () => {
    const k = readKernelImage(xtfElf(), 'xtf');
    expect(k).toMatchObject({ container: 'elf', compression: null, elfClass: 64, notesFrom: 'SHT_NOTE', virtBase: 0n, elfPaddrOffset: 0n, kernelStart: 0x100000n, kernelEnd: 0x112000n, entry: 0x100000n, p2mBase: null, unmappedInitrd: false, compat: false });
    expect(k.guestOs).toBe('XTF');
    expect(k.loader).toBe('generic');
    // The lines Xen printed for this kernel in seed 001.
    expect(k.messages).toEqual(expect.arrayContaining([
      'ELF: phdr: paddr=0x100000 memsz=0x12000',
      'ELF: memory: 0x100000 -> 0x112000',
      'ELF: note: GUEST_OS = "XTF"',
      'ELF: note: HYPERCALL_PAGE = 0x106000',
      'ELF: note: FEATURES = "!writable_page_tables|pae_pgdir_above_4gb"',
      'ELF: using notes from SHT_NOTE section',
      'ELF: VIRT_BASE unset, using 0',
      'ELF_PADDR_OFFSET unset, using 0',
      '    virt_base        = 0x0',
      '    virt_kend        = 0x112000',
      '    p2m_base         = 0xffffffffffffffff',
    ]));
  });

  it('feeds the layout: the seed printout from the kernel file', () => {
    const k = readKernelImage(xtfElf(), 'xtf');
    const lines = formatArrangement(dom0Layout({ ...k, nrPages: 241755n, allocBase: 0x3e800000n }), '4.15');
    expect(lines[1]).toBe(' Dom0 alloc.:   000000003e800000->000000003ec00000 (240731 pages to be allocated)');
    expect(lines[9]).toBe(' Page tables:   00000000002ec000->00000000002f1000');
  });

  it('reads a Linux-like kernel: PT_NOTE, VIRT_BASE, ENTRY, INIT_P2M, MOD_START_PFN; skips non-RWX PT_LOAD', () => {
    const k = readKernelImage(linuxElf(), 'vmlinux');
    expect(k).toMatchObject({ ...LINUX, notesFrom: 'PT_NOTE', pstart: 0x1000000n, pend: 0x3a2b000n });
    expect(k.loadSegments).toHaveLength(3);
  });

  it('skips a PT_NOTE with p_offset 0 and falls back to the SHT_NOTE section', () => {
    const elf = buildElf({ cls: 64, entry: 0x100000n, loads: [{ paddr: 0x100000n, memsz: 0x12000n }], notes: xtfNotes(), notesIn: 'both', zeroNoteOffset: true });
    expect(readKernelImage(elf, 'k').notesFrom).toBe('SHT_NOTE');
  });

  it('applies PADDR_OFFSET and accepts 4-byte numeric notes; other sizes read as 0', () => {
    const notes: NoteSpec[] = [
      { type: 6, desc: 'linux' },
      { type: 5, desc: 'xen-3.0' },
      { type: 3, desc: { u32: 0xc0000000 } },
      { type: 4, desc: { u32: 0xc0000000 } },
      { type: 9, desc: 'yes' },
      { type: 1, desc: new Uint8Array([1, 2, 3]) }, // 3 bytes: ENTRY reads as 0, then falls outside the kernel
    ];
    const elf = buildElf({ cls: 32, entry: 0xc0100000n, loads: [{ paddr: 0xc0100000n, memsz: 0x95f123n }], notes });
    expectError(() => readKernelImage(elf, 'k32'), InvalidInputError, /^k32: ELF start or entries are out of bounds .*entry 0x0\)/);
    const ok = readKernelImage(buildElf({ cls: 32, entry: 0xc0100000n, loads: [{ paddr: 0xc0100000n, memsz: 0x95f123n }], notes: notes.slice(0, 5) }), 'k32');
    expect(ok).toMatchObject({ compat: true, elfClass: 32, virtBase: 0xc0000000n, virtOffset: 0n, kernelStart: 0xc0100000n, kernelEnd: 0xc0a5f123n, entry: 0xc0100000n });
  });

  it('reads the legacy __xen_guest section (ELF_PADDR_OFFSET then defaults to VIRT_BASE)', () => {
    const text = new TextEncoder().encode('GUEST_OS=linux,XEN_VER=xen-3.0,VIRT_BASE=0xC0000000,PAE=yes[extended-cr3],LOADER=generic\0');
    const elf = buildElf({ cls: 32, entry: 0xc0100000n, loads: [{ paddr: 0xc0100000n, memsz: 0x200000n }], sections: [{ name: '__xen_guest', type: 1, data: text }] });
    const k = readKernelImage(elf, 'old');
    expect(k).toMatchObject({ notesFrom: '__xen_guest', compat: true, virtBase: 0xc0000000n, elfPaddrOffset: 0xc0000000n, kernelStart: 0xc0100000n, kernelEnd: 0xc0300000n });
  });

  it('extends virt_kend over the BSD symbol table when BSD_SYMTAB asks', () => {
    // 4 + (4 + 64) + 3 * 64 = 264; + 0x1234 -> 4928; + 0x567 -> 6312 (8-byte rounding): 0x112000 + 0x18a8.
    const notes = [...xtfNotes(), { type: 11, desc: 'yes' }];
    const elf = buildElf({
      cls: 64,
      entry: 0x100000n,
      loads: [{ paddr: 0x100000n, memsz: 0x12000n }],
      notes,
      sections: [
        { name: '.symtab', type: SHT_SYMTAB, data: new Uint8Array(0x1234), link: 2 },
        { name: '.strtab', type: SHT_STRTAB, data: new Uint8Array(0x567) },
      ],
    });
    const k = readKernelImage(elf, 'netbsd');
    expect(k.bsdSymtab).toEqual({ start: 0x112000n, end: 0x1138a8n });
    expect(k.kernelEnd).toBe(0x1138a8n);
    const bare = buildElf({ cls: 64, entry: 0x100000n, loads: [{ paddr: 0x100000n, memsz: 0x12000n }], notes });
    expectError(() => readKernelImage(bare, 'nosym'), MalformedFileError, /BSD_SYMTAB asks for the symbol table/);
  });
});

describe('readKernelImage: bzImage and compressed payloads', () => {
  it('unwraps a bzImage with a gzip payload', () => {
    const k = readKernelImage(buildBzImage(gzipSync(linuxElf())), 'bzImage');
    expect(k).toMatchObject({ ...LINUX, container: 'bzImage', compression: 'gzip' });
  });

  it('unwraps a bzImage whose payload is a plain ELF, and a gzip file without a bzImage', () => {
    expect(readKernelImage(buildBzImage(linuxElf(), { setupSects: 27 }), 'bz')).toMatchObject({ ...LINUX, container: 'bzImage', compression: null });
    expect(readKernelImage(gzipSync(linuxElf()), 'vmlinux.gz')).toMatchObject({ ...LINUX, container: 'compressed', compression: 'gzip' });
  });

  it('detects the compressions Xen and Linux know by their magic', () => {
    const m = (...b: number[]) => detectCompression(new Uint8Array([...b, 0, 0, 0, 0]));
    expect(m(0x1f, 0x8b)).toBe('gzip');
    expect(m(0x42, 0x5a, 0x68)).toBe('bzip2');
    expect(m(0x5d, 0, 0)).toBe('lzma');
    expect(m(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0)).toBe('xz');
    expect(m(0x89, 0x4c, 0x5a, 0x4f)).toBe('lzo');
    expect(m(0x02, 0x21, 0x4c, 0x18)).toBe('lz4');
    expect(m(0x28, 0xb5, 0x2f, 0xfd)).toBe('zstd');
    expect(m(0x7f, 0x45)).toBe(null);
  });

  it.each([
    ['bzip2', [0x42, 0x5a, 0x68, 0x39]],
    ['lz4', [0x02, 0x21, 0x4c, 0x18]],
    ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
    ['lzo', [0x89, 0x4c, 0x5a, 0x4f]],
  ])('names an unsupported %s payload in one line with its offset', (name, magic) => {
    const bz = buildBzImage(new Uint8Array([...magic, 1, 2, 3, 4, 5, 6, 7, 8]));
    // payload at (4 + 1) * 512 + 0x3b4 = 0xdb4
    expectError(() => readKernelImage(bz, 'bzImage'), MalformedFileError, new RegExp(`^bzImage: payload at offset 0xdb4: unsupported payload compression ${name} `));
  });

  it('reports an unknown payload compression', () => {
    expectError(() => readKernelImage(buildBzImage(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])), 'bzImage'), MalformedFileError, /^bzImage: bzImage payload at offset 0xdb4: unknown payload compression \(first bytes 01 02 03 04 05 06;/);
    expectError(() => readKernelImage(new Uint8Array([9, 9, 9, 9]), 'blob'), MalformedFileError, /^blob: kernel at offset 0x0: unknown payload compression/);
  });

  it('reports a truncated bzImage', () => {
    const bz = buildBzImage(gzipSync(linuxElf()));
    expectError(() => readKernelImage(bz.subarray(0, bz.length - 100), 'bzImage'), MalformedFileError, /^bzImage: bzImage payload at offset 0xdb4: truncated, payload_length 0x[0-9a-f]+ needs up to 0x[0-9a-f]+ but the file ends at 0x[0-9a-f]+$/);
    expectError(() => readKernelImage(bz.subarray(0, 0x220), 'bzImage'), MalformedFileError, /^bzImage: bzImage setup header at offset 0x1f1: truncated/);
    expectError(() => readKernelImage(buildBzImage(linuxElf(), { version: 0x207 }), 'old'), MalformedFileError, /^old: bzImage boot protocol at offset 0x206 is v2\.07, Xen needs at least v2\.08/);
  });

  it('reports a corrupt gzip payload and a payload that is not an ELF', () => {
    const gz = gzipSync(linuxElf());
    gz[gz.length - 20] ^= 0xff;
    expectError(() => readKernelImage(buildBzImage(gz), 'bzImage'), MalformedFileError, /^bzImage: gzip payload at offset 0xdb4: /);
    expectError(() => readKernelImage(buildBzImage(gzipSync(new Uint8Array(100))), 'bzImage'), MalformedFileError, /decompresses to 100 bytes that are not an ELF image/);
  });
});

describe('readKernelImage: kernels Xen refuses', () => {
  const load = [{ paddr: 0x100000n, memsz: 0x12000n, flags: PF_R | PF_W | PF_X }];

  it('an ELF without Xen notes', () => {
    const gnuOnly = buildElf({ cls: 64, entry: 0x100000n, loads: load, notes: [{ name: 'GNU', type: 3, desc: new Uint8Array(20) }] });
    expectError(() => readKernelImage(gnuOnly, 'vmlinux'), MalformedFileError, /^vmlinux: ELF header at offset 0x0: no Xen ELF notes \(no note named "Xen" in 1 PT_NOTE\/SHT_NOTE area\(s\)\) and no __xen_guest section: not a Xen PV kernel$/);
    const none = buildElf({ cls: 64, entry: 0x100000n, loads: load });
    expectError(() => readKernelImage(gzipSync(none), 'vmlinux.gz'), MalformedFileError, /^vmlinux\.gz \(decompressed gzip payload\): ELF header at offset 0x0: no Xen ELF notes/);
  });

  it('wrong loader, Xen version, machine, PAE or features', () => {
    const with_ = (notes: NoteSpec[], extra: Partial<Parameters<typeof buildElf>[0]> = {}) => buildElf({ cls: 64, entry: 0x100000n, loads: load, notes, ...extra });
    expectError(() => readKernelImage(with_([{ type: 6, desc: 'netbsd' }, { type: 5, desc: 'xen-3.0' }]), 'k'), InvalidInputError, /generic loader or Linux \(LOADER "", GUEST_OS "netbsd"\)/);
    expectError(() => readKernelImage(with_([{ type: 6, desc: 'linux' }]), 'k'), InvalidInputError, /built for Xen v3\.0 \(XEN_VERSION ""\)/);
    expectError(() => readKernelImage(with_(xtfNotes(), { machine: 3 }), 'k'), InvalidInputError, /Mismatch between Xen and DOM0 kernel \(64-bit ELF for machine 3/);
    const noPae = xtfNotes().filter((n) => n.type !== 9);
    expectError(() => readKernelImage(buildElf({ cls: 32, entry: 0x100000n, loads: load, notes: noPae }), 'k'), InvalidInputError, /32-bit ELF needs EM_386 and a PAE_MODE note/);
    const noDom0 = linuxNotes().map((n) => (n.type === 17 ? { type: 17, desc: { u32: 1 } } : n));
    expectError(() => readKernelImage(with_(noDom0, { entry: 0xffffffff82a3e1c0n, loads: [{ paddr: 0x1000000n, memsz: 0x2000000n }] }), 'k'), InvalidInputError, /Kernel does not support Dom0 operation/);
    expectError(() => readKernelImage(with_([...xtfNotes(), { type: 4, desc: { u64: 0n } }]), 'k'), InvalidInputError, /ELF_PADDR_OFFSET is set but VIRT_BASE is not/);
    // Compat: HV_START_LOW rounded up to 2 MiB must not pass 0xf5800000 (Linux PAE uses exactly that).
    const hv = (v: number) => buildElf({ cls: 32, entry: 0x100000n, loads: load, notes: [...xtfNotes(), { type: 12, desc: { u32: v } }] });
    expect(readKernelImage(hv(0xf5800000), 'k').hvStartLow).toBe(0xf5800000n);
    expectError(() => readKernelImage(hv(0xf5800001), 'k'), InvalidInputError, /Dom0 expects too high a hypervisor start address/);
  });

  it('no loadable segment, a truncated ELF', () => {
    const noLoad = buildElf({ cls: 64, entry: 0x100000n, loads: [{ paddr: 0x100000n, memsz: 0x1000n, flags: 0 }], notes: xtfNotes() });
    expectError(() => readKernelImage(noLoad, 'k'), MalformedFileError, /no loadable PT_LOAD segment/);
    const elf = xtfElf();
    expectError(() => readKernelImage(elf.subarray(0, 100), 'cut'), MalformedFileError, /^cut: /);
  });

  it('uses the machine constant the reader expects', () => {
    expect(EM_X86_64).toBe(62);
    expect(concat([le32(1), le32(2)])).toEqual(new Uint8Array([1, 0, 0, 0, 2, 0, 0, 0]));
  });
});
