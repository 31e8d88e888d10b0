// The reference twin of assembly/paging/relocate.ts (see there for the rules).
// Relocation touches a few hundred entries, so plain BigInt code is the right tool.
import * as A from '../../abi.js';
import { ReferenceWalkParams } from './params.js';

export class ReferenceRelocate extends ReferenceWalkParams {
  private lv(i: number, off: number): number {
    return A.WP + A.WP_LEVEL_BASE + i * A.WP_LEVEL_STRIDE + off;
  }

  private u32(i: number, off: number): number {
    return this.view.getUint32(this.lv(i, off), true);
  }

  private read(ea: bigint, eb: number): bigint {
    const o = this.phys.addr(Number(ea), eb);
    return eb === 8 ? this.view.getBigUint64(o, true) : BigInt(this.view.getUint32(o, true));
  }

  private write(ea: bigint, eb: number, v: bigint): void {
    const o = this.phys.writeAddr(Number(ea), eb);
    if (eb === 8) this.view.setBigUint64(o, BigInt.asUintN(64, v), true);
    else this.view.setUint32(o, Number(BigInt.asUintN(32, v)), true);
  }

  private valid(i: number, e: bigint): boolean {
    return this.isValid(i, Number(e & 0xffffffffn) | 0);
  }

  private leaf(i: number, e: bigint): boolean {
    return this.isLeaf(i, Number(e & 0xffffffffn) | 0);
  }

  private fail(code: number, va: bigint, ea: bigint, e: bigint): number {
    this.view.setBigUint64(A.RES + A.RES_VA, va, true);
    this.view.setBigUint64(A.RES + A.RES_ENTRY_ADDR, ea, true);
    this.view.setBigUint64(A.RES + A.RES_ENTRY_VALUE, e, true);
    return code;
  }

  relocate(rootIn: bigint, xenmap: bigint, delta: bigint, scratch: number, cap: number, dry: number): number {
    if (dry === A.RELOC_CHECKED) {
      const rc = this.relocate(rootIn, xenmap, delta, scratch, cap, A.RELOC_DRY);
      if (rc !== A.RELOC_OK) return rc;
      dry = A.RELOC_APPLY;
    }
    this.load();
    const v = this.view;
    const n = v.getUint32(A.WP + A.WP_LEVELS, true);
    const eb = v.getUint32(A.WP + A.WP_ENTRY_BYTES, true);
    const root = rootIn & v.getBigUint64(A.WP + A.WP_ROOT_MASK, true);
    const xl = n - 2;
    const entries = this.u32(xl, A.LV_INDEX_MASK) + 1;
    const inImage = (ea: bigint, bytes: number) => ea < 2n ** 62n && this.phys.addr(Number(ea), bytes) !== 0;
    if (!inImage(xenmap, entries * eb)) return this.fail(A.RELOC_OUTSIDE_IMAGE, 0n, xenmap, 0n);
    for (let s = 0; s < entries; s++) {
      const ea = xenmap + BigInt(s * eb);
      const e = this.read(ea, eb);
      if (this.valid(xl, e) && !this.leaf(xl, e)) return this.fail(A.RELOC_XENMAP_4K, BigInt(s), ea, e);
    }
    const seen = new Set<bigint>([root]);
    const stack: Array<[bigint, number]> = [[root, 0]];
    let count = 0n;
    while (stack.length) {
      const [t, i] = stack.pop()!;
      const m = this.u32(i, A.LV_INDEX_MASK) + 1;
      if (!inImage(t, m * eb)) return this.fail(A.RELOC_OUTSIDE_IMAGE, 0n, t, 0n);
      const tableAddr = v.getBigUint64(this.lv(i, A.LV_TABLE_ADDR), true);
      for (let s = 0; s < m; s++) {
        const ea = t + BigInt(s * eb);
        const e = this.read(ea, eb);
        if (!this.valid(i, e) || (i > 0 && this.leaf(i, e))) continue;
        const moved = BigInt.asUintN(64, e + delta);
        if (dry === A.RELOC_APPLY) this.write(ea, eb, moved);
        count++;
        if (i + 1 > xl) continue;
        const child = moved & tableAddr;
        if (seen.has(child)) continue;
        if (seen.size === cap || stack.length === cap) return this.fail(A.RELOC_TOO_MANY, 0n, child, 0n);
        seen.add(child);
        stack.push([child, i + 1]);
      }
    }
    for (let s = 0; s < entries; s++) {
      const ea = xenmap + BigInt(s * eb);
      const e = this.read(ea, eb);
      if (!this.valid(xl, e)) continue;
      if (dry === A.RELOC_APPLY) this.write(ea, eb, e + delta);
      count++;
    }
    v.setBigUint64(A.RES + A.RES_RELOCATED, count, true);
    v.setBigUint64(A.RES + A.RES_TABLES_VISITED, BigInt(seen.size), true);
    return A.RELOC_OK;
  }
}
