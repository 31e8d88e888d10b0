import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, openSync, writeSync, ftruncateSync, closeSync } from 'node:fs';
import path from 'node:path';
import { ElfFile, PT_NOTE } from '../src/images/elf.js';
import { imageFromBuffer, openImage } from '../src/images/loader.js';
import type { LoadTarget, MemoryImage } from '../src/images/loader.js';
import { pagingState } from '../src/images/qemu-core.js';
import { CapacityError, MalformedFileError, MemwalkError } from '../src/errors.js';
import { patternByte, qemuCoreLayout, writeQemuCore } from './helpers/qemu-core-writer.js';
import type { CoreOptions } from './helpers/qemu-core-writer.js';
import { testDir } from './helpers/temp-dir.js';

const MiB = 1 << 20;

/** A LoadTarget over a plain array that records every write. */
function memTarget(ramBytes: number) {
  const ram = new Uint8Array(ramBytes);
  const writes: { pa: bigint; length: number }[] = [];
  const target: LoadTarget = {
    ramBytes,
    write(pa, chunk) {
      writes.push({ pa, length: chunk.length });
      ram.set(chunk, Number(pa));
    },
  };
  return { ram, writes, target };
}

/** Run `fn` and return the MemwalkError it throws. */
function caught(fn: () => unknown): MemwalkError {
  try {
    fn();
  } catch (err) {
    if (err instanceof MemwalkError) return err;
    throw err;
  }
  throw new Error('expected an error');
}

const oneCpu: CoreOptions = {
  vcpus: [{ cr3: 0x13702000n, cr4: 0x6f0n }],
  blocks: [{ pa: 0n, data: 64 * 1024 }],
};

describe('ELF reader', () => {
  it('reads the header of a QEMU core, tolerating e_ehsize = 8', () => {
    const bytes = writeQemuCore(oneCpu);
    const elf = ElfFile.fromBuffer(bytes, 'core.elf');
    expect(elf.header).toMatchObject({ elfClass: 2, type: 4, machine: 62, ehsize: 8, phentsize: 56, phnum: 2, shnum: 2, shstrndx: 1 });
    expect(elf.header.phoff).toBe(192n);
    expect(elf.header.shoff).toBe(64n);
    const phs = elf.programHeaders();
    expect(phs.map((p) => p.type)).toEqual([4, 1]);
    expect(phs[1]!.offset).toBe(BigInt(qemuCoreLayout(oneCpu).memoryOffset));
    const shs = elf.sectionHeaders();
    expect(shs).toHaveLength(2);
    expect(elf.sectionName(shs[1]!)).toBe('.shstrtab');
  });

  it('iterates notes with 4-byte padding: NT_PRSTATUS first, then QEMU', () => {
    const opts: CoreOptions = { ...oneCpu, vcpus: [{ cr3: 0x1000n, cr4: 0x20n }, { cr3: 0x2000n, cr4: 0x20n }] };
    const elf = ElfFile.fromBuffer(writeQemuCore(opts), 'core.elf');
    const note = elf.programHeaders().find((p) => p.type === PT_NOTE)!;
    const notes = [...elf.notes(note)];
    expect(notes.map((n) => [n.name, n.type, n.desc.length])).toEqual([
      ['CORE', 1, 336],
      ['CORE', 1, 336],
      ['QEMU', 0, 440],
      ['QEMU', 0, 440],
    ]);
    const L = qemuCoreLayout(opts);
    expect(notes.map((n) => n.offset)).toEqual([...L.prstatusNotes, ...L.qemuNotes]);
    expect(notes[2]!.descOffset).toBe(L.qemuNotes[0]! + 20);
  });

  it('pads odd name and descriptor sizes to 4 bytes', () => {
    // Two hand-made notes: name "Xen" (namesz 4), desc 5 bytes; name "GNU" desc 0.
    const b = new Uint8Array(12 + 4 + 8 + 12 + 4);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, 4, true);
    dv.setUint32(4, 5, true);
    dv.setUint32(8, 6, true);
    b.set([0x58, 0x65, 0x6e, 0], 12);
    b.set([1, 2, 3, 4, 5], 16);
    dv.setUint32(24, 4, true);
    dv.setUint32(28, 0, true);
    dv.setUint32(32, 7, true);
    b.set([0x47, 0x4e, 0x55, 0], 36);
    // Wrap them in a minimal ELF64 so we can use the reader.
    const core = writeQemuCore({ vcpus: [], blocks: [] });
    const file = new Uint8Array(core.length + b.length);
    file.set(core);
    file.set(b, core.length);
    const elf = ElfFile.fromBuffer(file, 'notes.elf');
    const notes = [...elf.notes({ offset: BigInt(core.length), size: BigInt(b.length) })];
    expect(notes.map((n) => [n.name, n.type, Array.from(n.desc)])).toEqual([
      ['Xen', 6, [1, 2, 3, 4, 5]],
      ['GNU', 7, []],
    ]);
  });

  it('rejects a wrong magic and a wrong class with the offset', () => {
    const bytes = writeQemuCore(oneCpu);
    const bad = bytes.slice();
    bad[1] = 0x46;
    let e = caught(() => ElfFile.fromBuffer(bad, 'x.elf'));
    expect(e).toBeInstanceOf(MalformedFileError);
    expect(e.message).toBe('x.elf: ELF identification at offset 0x0: bad magic 7f 46 4c 46 (expected 7f 45 4c 46)');
    expect(e.details).toMatchObject({ file: 'x.elf', offset: 0n });

    const cls = bytes.slice();
    cls[4] = 3;
    e = caught(() => imageFromBuffer(cls, 'y.elf'));
    expect(e.message).toBe('y.elf: ELF identification at offset 0x4: EI_CLASS is 3 (expected 1 for ELF32 or 2 for ELF64)');
    expect(e.details).toMatchObject({ file: 'y.elf', offset: 4n });

    const be = bytes.slice();
    be[5] = 2;
    e = caught(() => imageFromBuffer(be, 'z.elf'));
    expect(e.message).toBe('z.elf: ELF identification at offset 0x5: EI_DATA is 2 (only 1, little-endian, is supported)');
  });

  it('rejects a truncated header', () => {
    const bytes = writeQemuCore(oneCpu).slice(0, 40);
    const e = caught(() => imageFromBuffer(bytes, 'short.elf'));
    expect(e).toBeInstanceOf(MalformedFileError);
    expect(e.message).toBe('short.elf: ELF64 header at offset 0x0: needs 64 bytes (up to 0x40) but the file ends at 0x28');
    expect(e.message).not.toContain('\n');
    const tiny = caught(() => imageFromBuffer(Uint8Array.of(0x7f, 0x45, 0x4c, 0x46, 2), 'tiny.elf'));
    expect(tiny.message).toBe('tiny.elf: ELF identification at offset 0x0: needs 16 bytes but the file has only 5');
  });

  it('rejects a truncated program header table', () => {
    const L = qemuCoreLayout(oneCpu);
    const bytes = writeQemuCore(oneCpu).slice(0, L.phoff + 56 + 20);
    const e = caught(() => imageFromBuffer(bytes, 'ph.elf'));
    expect(e.message).toBe(
      `ph.elf: program header table (2 entries of 56 bytes) at offset 0xc0: needs 112 bytes (up to 0x130) but the file ends at 0x10c`,
    );
    expect(e.details).toMatchObject({ offset: 0xc0n });
  });

  it('rejects a program header entry size smaller than the standard one', () => {
    const bytes = writeQemuCore(oneCpu);
    new DataView(bytes.buffer).setUint16(54, 32, true);
    const e = caught(() => imageFromBuffer(bytes, 'ent.elf'));
    expect(e.message).toBe('ent.elf: ELF64 header at offset 0x36: e_phentsize is 32, smaller than the 56-byte program header');
  });

  it('resolves PN_XNUM through section header 0', () => {
    const opts: CoreOptions = { ...oneCpu, pnXnum: true, blocks: [{ pa: 0n, data: 4096 }, { pa: 0x10000n, data: 4096 }] };
    const bytes = writeQemuCore(opts);
    const elf = ElfFile.fromBuffer(bytes, 'xnum.elf');
    expect(elf.header.rawPhnum).toBe(0xffff);
    expect(elf.header.phnum).toBe(3);
    const img = imageFromBuffer(bytes, 'xnum.elf');
    expect(img.core!.pnXnum).toBe(true);
    expect(img.segments.map((s) => s.pa)).toEqual([0n, 0x10000n]);
  });

  it('reads a core with more than 65535 program headers (PN_XNUM for real)', () => {
    const n = 70_000;
    const blocks = Array.from({ length: n }, (_, i) => ({ pa: BigInt(i) * 0x1000n, data: 16 }));
    const bytes = writeQemuCore({ vcpus: [{ cr3: 0x1000n, cr4: 0x20n }], blocks, pnXnum: true });
    const img = imageFromBuffer(bytes, 'many.elf');
    expect(img.segments).toHaveLength(n);
    expect(img.segments[n - 1]).toMatchObject({ pa: BigInt(n - 1) * 0x1000n, size: 16n });
    expect(img.highestAddress).toBe(BigInt(n - 1) * 0x1000n + 16n);
    expect(img.fileOffsetOf(0x5000n + 3n)).toBe(img.segments[5]!.fileOffset + 3n);
    expect(img.fileOffsetOf(0x5010n)).toBeUndefined();
  });

  it('rejects PN_XNUM without a section header table', () => {
    const bytes = writeQemuCore({ ...oneCpu, pnXnum: true });
    new DataView(bytes.buffer).setBigUint64(40, 0n, true); // e_shoff = 0
    const e = caught(() => imageFromBuffer(bytes, 'nosh.elf'));
    expect(e.message).toBe('nosh.elf: ELF64 header at offset 0x38: e_phnum is PN_XNUM (0xffff) but there is no section header 0 holding the real count');
  });
});

describe('QEMU ELF core', () => {
  it('reads segments and vCPU 0 (the spec example: CR3 0x13702000, CR4 0x6f0)', () => {
    const img = imageFromBuffer(writeQemuCore(oneCpu), 'dump.elf');
    expect(img.kind).toBe('qemu-elf');
    expect(img.segments).toEqual([{ pa: 0n, fileOffset: BigInt(qemuCoreLayout(oneCpu).memoryOffset), size: 65536n }]);
    expect(img.highestAddress).toBe(65536n);
    expect(img.vcpus).toHaveLength(1);
    expect(img.vcpus[0]).toMatchObject({
      index: 0,
      pid: 1,
      cr0: 0x80050033n,
      cr3: 0x13702000n,
      cr4: 0x6f0n,
      pagingMode: '4-level',
      longMode: true,
      cs64: true,
      la57: false,
      pcide: false,
      root: 0x13702000n,
      stateSize: 440,
    });
  });

  it('matches the offsets of spec §4 (ii) for N = 1: CR3 at note_offset + 356 + 436', () => {
    const bytes = writeQemuCore(oneCpu);
    const L = qemuCoreLayout(oneCpu);
    const dv = new DataView(bytes.buffer);
    expect(dv.getBigUint64(L.noteOffset + 356 + 436, true)).toBe(0x13702000n);
    expect(dv.getBigUint64(L.noteOffset + 356 + 444, true)).toBe(0x6f0n);
  });

  it('gives each of several vCPUs its own CR3, paging mode and pid; masks PCIDs', () => {
    const opts: CoreOptions = {
      vcpus: [
        { cr3: 0x1bb2000n, cr4: 0x750ef0n },
        { cr3: 0x8000000025f2005n, cr4: 0x770ef0n }, // PCIDE (bit 17) on, PCID 5, bit 59 set
        { cr3: 0x2756000n, cr4: 0x751ef0n }, // LA57
        { cr3: 0x3000n, cr4: 0n, cr0: 0x11n, csFlags: 0x00cf9b00 }, // paging off (AP not started)
      ],
      blocks: [{ pa: 0n, data: 8192 }],
    };
    const img = imageFromBuffer(writeQemuCore(opts), 'smp.elf');
    expect(img.vcpus.map((c) => [c.index, c.pid, c.pagingMode, c.root, c.pcid])).toEqual([
      [0, 1, '4-level', 0x1bb2000n, undefined],
      [1, 2, '4-level', 0x25f2000n, 5],
      [2, 3, '5-level', 0x2756000n, undefined],
      [3, 4, 'disabled', null, undefined],
    ]);
    expect(img.vcpus[1]!.cr3).toBe(0x8000000025f2005n); // raw value kept
    expect(img.vcpus[3]!.longMode).toBe(false);
  });

  it('derives the paging mode from CR0.PG, CR4.PAE, long mode and CR4.LA57', () => {
    expect(pagingState(0x11n, 0x1000n, 0x20n, false)).toEqual({ pagingMode: 'disabled', root: null });
    expect(pagingState(0x80000011n, 0x12345678n, 0n, false)).toEqual({ pagingMode: '32-bit', root: 0x12345000n });
    expect(pagingState(0x80000011n, 0x12345678n, 0x20n, false)).toEqual({ pagingMode: 'pae', root: 0x12345660n });
    expect(pagingState(0x80000011n, 0x12345678n, 0x20n, true)).toEqual({ pagingMode: '4-level', root: 0x12345000n });
    expect(pagingState(0x80000011n, 0x12345678n, 0x1020n, true)).toEqual({ pagingMode: '5-level', root: 0x12345000n });
    expect(pagingState(0x80000011n, 0x1234567fn, 0x21020n, true)).toEqual({ pagingMode: '5-level', root: 0x12345000n, pcid: 0x67f });
  });

  it('reads an i386 core (EM_386, ELF32): pr_pid at 24, PAE paging without long mode', () => {
    const opts: CoreOptions = {
      machine: 3,
      elfClass: 32,
      vcpus: [
        { cr3: 0x1234020n, cr4: 0x20n, csFlags: 0x00cf9b00 },
        { cr3: 0x5000n, cr4: 0n, csFlags: 0x00cf9b00 },
      ],
      blocks: [{ pa: 0x1000n, data: 4096 }],
    };
    const img = imageFromBuffer(writeQemuCore(opts), 'i386.elf');
    expect(img.core).toMatchObject({ elfClass: 32, machine: 3 });
    expect(img.vcpus.map((c) => [c.pid, c.pagingMode, c.root, c.longMode])).toEqual([
      [1, 'pae', 0x1234020n, false],
      [2, '32-bit', 0x5000n, false],
    ]);
    expect(img.segments[0]).toMatchObject({ pa: 0x1000n, size: 4096n });
  });

  it('rejects a PT_LOAD that points past the end of the file', () => {
    const L = qemuCoreLayout(oneCpu);
    const bytes = writeQemuCore(oneCpu);
    new DataView(bytes.buffer).setBigUint64(L.loadHeaders[0]! + 32, 0x100000n, true); // p_filesz 1 MiB
    const e = caught(() => imageFromBuffer(bytes, 'load.elf'));
    expect(e).toBeInstanceOf(MalformedFileError);
    expect(e.message).toBe(
      `load.elf: program header 1 (PT_LOAD, guest-physical 0x0) at offset 0xf8: its 0x100000 bytes at file offset 0x${L.memoryOffset.toString(16)} run past the end of the file (size 0x${bytes.length.toString(16)})`,
    );
    expect(e.details).toMatchObject({ file: 'load.elf', offset: BigInt(L.loadHeaders[0]!) });
  });

  it('rejects overlapping PT_LOAD segments', () => {
    const opts: CoreOptions = { ...oneCpu, blocks: [{ pa: 0n, data: 8192 }, { pa: 0x1000n, data: 4096 }] };
    const e = caught(() => imageFromBuffer(writeQemuCore(opts), 'ov.elf'));
    expect(e.message).toBe('ov.elf: program header 2 (PT_LOAD) at offset 0x130: guest-physical range 0x1000..0x2000 overlaps program header 1 (0x0..0x2000)');
  });

  it('rejects a note whose size runs past its PT_NOTE segment', () => {
    const L = qemuCoreLayout(oneCpu);
    const bytes = writeQemuCore(oneCpu);
    new DataView(bytes.buffer).setUint32(L.qemuNotes[0]! + 4, 0x10000, true); // n_descsz
    const e = caught(() => imageFromBuffer(bytes, 'note.elf'));
    expect(e).toBeInstanceOf(MalformedFileError);
    const end = L.noteOffset + L.noteSize;
    expect(e.message).toBe(
      `note.elf: note 1 at offset 0x${L.qemuNotes[0]!.toString(16)}: n_namesz 5 and n_descsz 65536 (padded to 4 bytes) need up to 0x${(L.qemuNotes[0]! + 20 + 0x10000).toString(16)} but the PT_NOTE segment (program header 0) ends at 0x${end.toString(16)}`,
    );
    expect(e.details).toMatchObject({ offset: BigInt(L.qemuNotes[0]!) });
  });

  it('rejects a PT_NOTE segment that runs past the end of the file', () => {
    const L = qemuCoreLayout(oneCpu);
    const bytes = writeQemuCore(oneCpu);
    new DataView(bytes.buffer).setBigUint64(L.phoff + 32, BigInt(bytes.length), true);
    const e = caught(() => imageFromBuffer(bytes, 'pn.elf'));
    const need = bytes.length;
    expect(e.message).toBe(
      `pn.elf: PT_NOTE segment (program header 0) data at offset 0x130: needs ${need} bytes (up to 0x${(0x130 + need).toString(16)}) but the file ends at 0x${need.toString(16)}`,
    );
    expect(e.details).toMatchObject({ offset: BigInt(L.noteOffset) });
  });

  it('rejects a QEMUCPUState too small to hold CR4, and an unknown version', () => {
    const small = caught(() => imageFromBuffer(writeQemuCore({ ...oneCpu, vcpus: [{ cr3: 0n, cr4: 0n, stateSize: 424 }] }), 's.elf'));
    const L = qemuCoreLayout(oneCpu);
    expect(small.message).toBe(`s.elf: QEMU note of vCPU 0 at offset 0x${(L.qemuNotes[0]! + 24).toString(16)}: QEMUCPUState size 424 is too small to hold CR4 (needs 432)`);
    const big = caught(() => imageFromBuffer(writeQemuCore({ ...oneCpu, vcpus: [{ cr3: 0n, cr4: 0n, stateSize: 999 }] }), 'b.elf'));
    expect(big.message).toContain("QEMUCPUState size 999 is larger than the note's n_descsz 440");
    const ver = caught(() => imageFromBuffer(writeQemuCore({ ...oneCpu, vcpus: [{ cr3: 0n, cr4: 0n, stateVersion: 2 }] }), 'v.elf'));
    expect(ver.message).toBe(`v.elf: QEMU note of vCPU 0 at offset 0x${(L.qemuNotes[0]! + 20).toString(16)}: QEMUCPUState version is 2, only version 1 is known`);
  });

  it('rejects ELF files that are not x86 cores', () => {
    const bytes = writeQemuCore(oneCpu);
    const exec = bytes.slice();
    new DataView(exec.buffer).setUint16(16, 2, true);
    expect(caught(() => imageFromBuffer(exec, 'a.out')).message).toBe('a.out: ELF64 header at offset 0x10: e_type is 2, not 4 (ET_CORE): not a QEMU dump-guest-memory core');
    const arm = bytes.slice();
    new DataView(arm.buffer).setUint16(18, 183, true);
    expect(caught(() => imageFromBuffer(arm, 'arm.elf')).message).toBe(
      'arm.elf: ELF64 header at offset 0x12: e_machine is 183: only x86 guests (62 = x86-64, 3 = i386) are supported',
    );
  });
});

describe('image loader', () => {
  const holes: CoreOptions = {
    vcpus: [{ cr3: 0x1000n, cr4: 0x20n }],
    blocks: [
      { pa: 0n, data: 3 * 4096 + 100 },
      { pa: 0x10000n, data: 5000 },
    ],
  };

  it('streams segments chunk by chunk and leaves holes untouched', async () => {
    const img = imageFromBuffer(writeQemuCore(holes), 'holes.elf');
    expect(img.highestAddress).toBe(0x10000n + 5000n);
    const { ram, writes, target } = memTarget(0x20000);
    ram.fill(0xee, 3 * 4096 + 100, 0x10000); // a hole must keep what the target had
    const progress: number[][] = [];
    const res = await img.loadInto(target, (d, t) => progress.push([d, t]), { chunkBytes: 4096 });
    expect(res).toEqual({ bytesCopied: BigInt(3 * 4096 + 100 + 5000), skipped: [] });
    expect(writes.map((w) => [w.pa, w.length])).toEqual([
      [0n, 4096],
      [0x1000n, 4096],
      [0x2000n, 4096],
      [0x3000n, 100],
      [0x10000n, 4096],
      [0x11000n, 904],
    ]);
    expect(progress.at(-1)).toEqual([3 * 4096 + 100 + 5000, 3 * 4096 + 100 + 5000]);
    expect(progress.map((p) => p[0])).toEqual([...progress.map((p) => p[0])].sort((a, b) => a - b));
    for (const pa of [0, 1, 4095, 0x3000 + 99, 0x10000, 0x10000 + 4999]) expect(ram[pa]).toBe(patternByte(BigInt(pa)));
    expect(ram[0x3000 + 100]).toBe(0xee);
    expect(ram[0xffff]).toBe(0xee);
    expect(ram[0x10000 + 5000]).toBe(0);
  });

  it('refuses an image that does not fit the target before writing anything', async () => {
    const img = imageFromBuffer(writeQemuCore(holes), 'big.elf');
    const { writes, target } = memTarget(0x10000);
    const err = await img.loadInto(target).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CapacityError);
    expect((err as Error).message).toBe(
      'big.elf: the image needs a RAM image of 0x11388 bytes (70536; highest segment 0x10000..0x11388) but the target holds 0x10000 bytes (64K)',
    );
    expect(writes).toHaveLength(0);
  });

  it('with clip, loads what fits and reports the rest', async () => {
    const img = imageFromBuffer(writeQemuCore(holes), 'clip.elf');
    const { writes, target, ram } = memTarget(0x10800);
    const res = await img.loadInto(target, undefined, { clip: true });
    expect(res.bytesCopied).toBe(BigInt(3 * 4096 + 100 + 0x800));
    expect(res.skipped).toEqual([{ pa: 0x10800n, fileOffset: img.segments[1]!.fileOffset + 0x800n, size: BigInt(5000 - 0x800) }]);
    expect(writes.at(-1)).toEqual({ pa: 0x10000n, length: 0x800 });
    expect(ram[0x107ff]).toBe(patternByte(0x107ffn));
  });

  it('opens raw images: file offset = physical address', async () => {
    const dir = testDir('memwalk-raw-');
    const file = path.join(dir, 'ram.bin');
    const data = new Uint8Array(3 * MiB + 123).map((_, i) => (i * 13) & 0xff);
    data[0] = 0; // not the ELF magic
    writeFileSync(file, data);
    const img = openImage(file);
    expect(img).toMatchObject({ kind: 'raw', path: file, fileSize: BigInt(data.length), highestAddress: BigInt(data.length), vcpus: [] });
    expect(img.segments).toEqual([{ pa: 0n, fileOffset: 0n, size: BigInt(data.length) }]);
    const { ram, writes, target } = memTarget(4 * MiB);
    await img.loadInto(target, undefined, { chunkBytes: MiB });
    expect(writes.map((w) => w.length)).toEqual([MiB, MiB, MiB, 123]);
    expect(Buffer.compare(Buffer.from(ram.subarray(0, data.length)), Buffer.from(data))).toBe(0);
    writeFileSync(path.join(dir, 'empty.bin'), new Uint8Array(0));
    expect(caught(() => openImage(path.join(dir, 'empty.bin'))).message).toBe(`${path.join(dir, 'empty.bin')}: the image file is empty (offset 0x0): nothing to load`);
  });

  it('opens a QEMU core from a file and loads it', async () => {
    const dir = testDir('memwalk-core-');
    const file = path.join(dir, 'dump.elf');
    writeFileSync(file, writeQemuCore(holes));
    const img: MemoryImage = openImage(file);
    expect(img.kind).toBe('qemu-elf');
    const { ram, target } = memTarget(0x20000);
    await img.loadInto(target);
    expect(ram[0x10000 + 17]).toBe(patternByte(0x10000n + 17n));
  });

  it('reports a file truncated after it was opened', async () => {
    const dir = testDir('memwalk-trunc-');
    const file = path.join(dir, 'dump.elf');
    const bytes = writeQemuCore(holes);
    writeFileSync(file, bytes);
    const img = openImage(file);
    writeFileSync(file, bytes.subarray(0, qemuCoreLayout(holes).blockOffsets[1]! + 10));
    const err = await img.loadInto(memTarget(0x20000).target).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MalformedFileError);
    expect((err as Error).message).toMatch(/dump\.elf: file ended at offset 0x[0-9a-f]+ while reading/);
  });
});

describe('real QEMU 7.2 dumps (fixture headers)', () => {
  for (const variant of ['4level', 'la57']) {
    const dir = path.join(import.meta.dirname, 'fixtures/qemu', variant);
    const meta = JSON.parse(readFileSync(path.join(dir, 'meta.json'), 'utf8'));
    const head = readFileSync(path.join(dir, 'dump-head.bin'));

    it(`${variant}: parses QEMU's own headers and notes (sparse file of the real size)`, () => {
      const tmp = testDir('memwalk-real-');
      const file = path.join(tmp, 'dump.elf');
      const fd = openSync(file, 'w');
      writeSync(fd, head, 0, head.length, 0);
      ftruncateSync(fd, meta.dumpBytes);
      closeSync(fd);
      const img = openImage(file);
      expect(img.segments.map((s) => ({ pa: '0x' + s.pa.toString(16), fileOffset: '0x' + s.fileOffset.toString(16), size: '0x' + s.size.toString(16) }))).toEqual(meta.segments);
      expect(img.highestAddress).toBe(0x100000000n);
      expect(img.vcpus).toHaveLength(meta.smp);
      const regs = readFileSync(path.join(dir, 'registers.txt'), 'utf8');
      const reg = (name: string) => BigInt('0x' + new RegExp(`${name}=([0-9a-f]+)`).exec(regs)![1]!);
      const c = img.vcpus[0]!;
      expect([c.cr0, c.cr3, c.cr4]).toEqual([reg('CR0'), reg('CR3'), reg('CR4')]);
      expect(c.rip).toBe(reg('RIP'));
      expect(c.pagingMode).toBe(variant === 'la57' ? '5-level' : '4-level');
      expect(img.vcpus.map((v) => v.pid)).toEqual(img.vcpus.map((v) => v.index + 1));
    });

    it(`${variant}: the test writer reproduces QEMU's layout and header bytes`, () => {
      const elf = ElfFile.fromBuffer(head, 'head');
      const notes = [...elf.notes(elf.programHeaders()[0]!)];
      const qemuNotes = notes.filter((n) => n.name === 'QEMU');
      const le64 = (b: Uint8Array, o: number) => new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(o, true);
      const opts: CoreOptions = {
        headOnly: true,
        vcpus: qemuNotes.map((n) => ({ cr0: le64(n.desc, 392), cr2: le64(n.desc, 408), cr3: le64(n.desc, 416), cr4: le64(n.desc, 424) })),
        blocks: meta.segments.map((s: { pa: string; size: string }) => ({ pa: BigInt(s.pa), data: Number(BigInt(s.size)) })),
      };
      const mine = writeQemuCore(opts);
      const L = qemuCoreLayout(opts);
      expect(mine.length).toBe(head.length);
      expect(L.fileSize).toBe(meta.dumpBytes);
      // ELF header, section headers and program headers: identical bytes.
      expect(Buffer.from(mine.subarray(0, L.noteOffset)).equals(head.subarray(0, L.noteOffset))).toBe(true);
      // Notes: same positions, headers and names.
      expect(notes.map((n) => n.offset)).toEqual([...L.prstatusNotes, ...L.qemuNotes]);
      for (const n of notes) expect(Buffer.from(mine.subarray(n.offset, n.offset + 20)).equals(head.subarray(n.offset, n.offset + 20))).toBe(true);
    });
  }
});
