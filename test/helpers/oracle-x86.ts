// An independent x86-64 walker written straight from shared/spec/paging.md with
// BigInt and no shared code: the third opinion in the differential tests, so a
// misunderstanding shared by both backends still shows.
import type { TranslateResult, WalkOptions, AccessKind } from '../../src/paging/types.js';

export interface OracleOptions extends WalkOptions {
  depth: 4 | 5;
  access?: AccessKind;
  user?: boolean;
}

const bits = (lo: number, hi: number) => ((1n << BigInt(hi - lo + 1)) - 1n) << BigInt(lo);

export function oracleTranslate(read64: (pa: bigint) => bigint | undefined, cr3: bigint, va: bigint, o: OracleOptions): TranslateResult {
  const maxPhy = o.maxPhyAddr ?? 52;
  const nxe = o.nxe ?? true;
  const wp = o.wp ?? true;
  const checkRsvd = !o.ignoreReserved;
  const access = o.access ?? 'read';
  const user = o.user ?? false;
  const write = access === 'write', fetch = access === 'execute';
  const ec = (write ? 2 : 0) | (user ? 4 : 0) | (fetch && (nxe || o.smep) ? 16 : 0);
  const vaBits = o.depth === 5 ? 57 : 48;
  const top = va >> BigInt(vaBits - 1);
  if (top !== 0n && top !== (1n << BigInt(65 - vaBits)) - 1n) {
    return { ok: false, va, fault: { kind: 'non-canonical', level: o.depth === 5 ? 5 : 4, entryAddress: 0n, entryValue: 0n, errorCode: 0 } };
  }
  const addrMask = bits(12, maxPhy - 1);
  const highRsvd = bits(maxPhy, 51) | (nxe ? 0n : 1n << 63n);
  let table = cr3 & addrMask;
  let w = true, u = true, x = true;
  for (let level = o.depth; level >= 1; level--) {
    const shift = 12 + 9 * (level - 1);
    const idx = (va >> BigInt(shift)) & 511n;
    const ea = table + idx * 8n;
    const e = read64(ea);
    if (e === undefined) {
      return { ok: false, va, fault: { kind: 'outside-image', level, entryAddress: ea, entryValue: 0n, errorCode: ec } };
    }
    if ((e & 1n) === 0n) return { ok: false, va, fault: { kind: 'not-present', level, entryAddress: ea, entryValue: e, errorCode: ec } };
    const ps = (e & 0x80n) !== 0n;
    const leaf = level === 1 || (ps && level <= 3);
    let rsvd = highRsvd;
    if (!leaf && level >= 4) rsvd |= 0x80n; // PS in PML4/PML5
    if (leaf && level > 1) rsvd |= bits(13, shift - 1);
    const rsvdFault = () => ({ ok: false as const, va, fault: { kind: 'reserved-bit' as const, level, entryAddress: ea, entryValue: e, errorCode: ec | 1 | 8 } });
    if (checkRsvd && (e & rsvd) !== 0n) return rsvdFault();
    w &&= (e & 2n) !== 0n;
    u &&= (e & 4n) !== 0n;
    if (nxe && (e >> 63n) === 1n) x = false;
    if (leaf) {
      const size = 1n << BigInt(shift);
      const pa = (e & bits(shift, maxPhy - 1)) | (va & (size - 1n));
      // Supervisor: R/W only binds with CR0.WP; SMEP stops fetches from user pages,
      // SMAP stops data accesses to them. User: needs U, and W / X for writes / fetches.
      const refused = user
        ? !u || (write && !w) || (fetch && !x)
        : (write && !w && wp) || (fetch && (!x || (!!o.smep && u))) || (!fetch && !!o.smap && u);
      if (refused) return { ok: false, va, fault: { kind: 'protection', level, entryAddress: ea, entryValue: e, errorCode: ec | 1 } };
      return {
        ok: true, va, pa, pageSize: Number(size), level,
        rights: { write: w, user: u, execute: x, userExecute: x },
        entryAddress: ea, entryValue: e,
      };
    }
    table = e & addrMask;
  }
  throw new Error('unreachable');
}
