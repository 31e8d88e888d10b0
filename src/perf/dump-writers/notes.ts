/**
 * ELF notes as QEMU writes them (shared/spec/qemu-elf-core.md §4): one
 * NT_PRSTATUS note per vCPU (pr_pid = index + 1), then one "QEMU" note per vCPU
 * holding a 440-byte QEMUCPUState, with CR0 at +392, CR3 at +416, CR4 at +424.
 */
import { Bytes } from './sparse.js';

export interface NoteVcpu {
  cr0: bigint;
  cr3: bigint;
  cr4: bigint;
  /** CS descriptor flags (default 0x00af9b00: L set, 64-bit code). */
  csFlags?: number;
}

function note(name: string, type: number, desc: Uint8Array): Uint8Array {
  const nameLen = name.length + 1;
  const namePad = Math.ceil(nameLen / 4) * 4;
  const descPad = Math.ceil(desc.length / 4) * 4;
  const b = new Bytes(12 + namePad + descPad);
  b.u32(0, nameLen).u32(4, desc.length).u32(8, type).text(12, name);
  b.buf.set(desc, 12 + namePad);
  return b.buf;
}

export function qemuNotes(vcpus: readonly NoteVcpu[]): Uint8Array {
  const parts: Uint8Array[] = [];
  vcpus.forEach((_, k) => parts.push(note('CORE', 1, new Bytes(336).u32(32, k + 1).buf)));
  for (const v of vcpus) {
    const s = new Bytes(440).u32(0, 1).u32(4, 440);
    s.u32(152 + 8, v.csFlags ?? 0x00af9b00);
    s.u64(392, v.cr0).u64(416, v.cr3).u64(424, v.cr4);
    parts.push(note('QEMU', 0, s.buf));
  }
  return concat(parts);
}

/** Any note, for other formats (Xen's). */
export function elfNote(name: string, type: number, desc: Uint8Array): Uint8Array {
  return note(name, type, desc);
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
