// The oracle's walker and lister: one slow BigInt walk over an OracleFormat,
// straight from the rules (no control block, no fused tests, no cache), and a
// depth-first listing of every leaf reachable from the root, one per path.
import type { AccessKind, Fault, FaultKind, Mapping, Rights, TranslateResult, WalkOptions } from '../../src/paging/types.js';
import type { Deny, OracleFormat, Resolved } from './oracle-formats.js';

/** A RAM image of its own: the oracle never reads the engine's memory. */
export class OracleMemory {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  private readonly end: bigint;
  /** While a change is tried: [offset, old bytes] of every write, to undo it. */
  private journal: Array<[number, Uint8Array]> | undefined;

  constructor(bytesOrSize: Uint8Array | number) {
    this.bytes = typeof bytesOrSize === 'number' ? new Uint8Array(bytesOrSize) : bytesOrSize;
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    this.end = BigInt(this.bytes.length);
  }

  get size(): number {
    return this.bytes.length;
  }

  /** The entry of `width` bytes at `pa`, or undefined when it is not all inside the image. */
  read(pa: bigint, width: 4 | 8): bigint | undefined {
    if (pa < 0n || pa > this.end - (width === 8 ? 8n : 4n)) return undefined;
    return width === 8 ? this.view.getBigUint64(Number(pa), true) : BigInt(this.view.getUint32(Number(pa), true));
  }

  write(pa: bigint, width: 4 | 8, v: bigint): void {
    if (this.read(pa, width) === undefined) throw new Error(`oracle: write at ${pa.toString(16)} is outside the image`);
    const at = Number(pa);
    this.journal?.push([at, this.bytes.slice(at, at + width)]);
    if (width === 8) this.view.setBigUint64(at, BigInt.asUintN(64, v), true);
    else this.view.setUint32(at, Number(BigInt.asUintN(32, v)), true);
  }

  zero(pa: bigint, len: number): void {
    const at = Number(pa);
    this.journal?.push([at, this.bytes.slice(at, at + len)]);
    this.bytes.fill(0, at, at + len);
  }

  /** Run `change`; when it returns a refusal (anything but undefined), undo every write it made. */
  attempt<T>(change: () => T | undefined): T | undefined {
    this.journal = [];
    try {
      const refused = change();
      if (refused !== undefined) for (const [at, old] of this.journal.reverse()) this.bytes.set(old, at);
      return refused;
    } finally {
      this.journal = undefined;
    }
  }

  /** A zeroed image of `size` bytes holding `writes` (entries of `width` bytes). */
  static fromWrites(size: number, width: 4 | 8, writes: Iterable<readonly [bigint, bigint]>): OracleMemory {
    const m = new OracleMemory(size);
    for (const [pa, v] of writes) m.write(pa, width, v);
    return m;
  }
}

export interface OracleWalkOptions extends WalkOptions {
  readonly access?: AccessKind;
  readonly user?: boolean;
}

function orDeny(a: Deny, b: Deny): Deny {
  return { write: a.write || b.write, user: a.user || b.user, exec: a.exec || b.exec, userExec: a.userExec || b.userExec };
}

const NOTHING_DENIED: Deny = { write: false, user: false, exec: false, userExec: false };

function rightsOf(d: Deny): Rights {
  return { write: !d.write, user: !d.user, execute: !d.exec, userExecute: !d.userExec };
}

/** Index of `va` in a table of level `i`. */
export function indexOf(f: OracleFormat, i: number, va: bigint): bigint {
  const l = f.levels[i]!;
  return (va >> BigInt(l.shift)) & ((1n << BigInt(l.indexBits)) - 1n);
}

/**
 * Does the access refuse these rights? A user access needs U, and W / user-X for
 * writes / fetches. A supervisor write needs W only with WP; a supervisor fetch
 * needs X and, with SMEP, a page that is not user-accessible; with SMAP (Arm:
 * PAN) a supervisor data access to a user-accessible page is refused.
 */
function refused(rights: Rights, access: AccessKind, user: boolean, r: Resolved): boolean {
  const write = access === 'write', fetch = access === 'execute';
  if (user) return !rights.user || (write && !rights.write) || (fetch && !rights.userExecute);
  if (write && !rights.write && r.wp) return true;
  if (fetch) return !rights.execute || (r.smep && rights.user);
  return r.smap && rights.user;
}

/** The page-fault error code bits of the access: W 2, U 4, I 16 (with NXE or SMEP). */
function accessCode(access: AccessKind, user: boolean, r: Resolved): number {
  return (access === 'write' ? 2 : 0) | (user ? 4 : 0) | (access === 'execute' && (r.nxe || r.smep) ? 16 : 0);
}

/** One walk of `va` from the root register value `root`. */
export function oracleTranslate(mem: OracleMemory, f: OracleFormat, root: bigint, va: bigint, o: OracleWalkOptions = {}): TranslateResult {
  const r = f.resolve(o);
  const access = o.access ?? 'read';
  const user = o.user ?? false;
  va = BigInt.asUintN(64, va);
  const code = accessCode(access, user, r);
  const fault = (kind: FaultKind, i: number, entryAddress: bigint, entryValue: bigint, errorCode: number): TranslateResult => {
    const fa: Fault = { kind, level: f.levels[i]!.level, entryAddress, entryValue, errorCode };
    return { ok: false, va, fault: fa };
  };
  // A non-canonical address is a #GP, not a page fault: no error code.
  if (!f.inRange(va)) return fault('non-canonical', 0, 0n, 0n, 0);
  let table = f.rootTable(BigInt.asUintN(64, root), r);
  let deny = NOTHING_DENIED;
  for (let i = 0; i < f.levels.length; i++) {
    const ea = table + indexOf(f, i, va) * BigInt(f.entryBytes);
    const e = mem.read(ea, f.entryBytes);
    // A table outside the image is reported, never read (as a non-present entry would be).
    if (e === undefined) return fault('outside-image', i, ea, 0n, code);
    const kind = f.kind(i, e);
    if (kind === 'invalid') return fault('not-present', i, ea, e, code);
    if (r.checkReserved && f.reserved(i, kind, e, r)) return fault('reserved-bit', i, ea, e, code | 1 | 8);
    if (kind === 'table') {
      deny = orDeny(deny, f.deny(i, 'table', e, r));
      table = f.tableAddress(i, e, r);
      continue;
    }
    // Arm's Access flag fault comes before any permission fault.
    if (f.accessFlagFault(i, e, r)) return fault('access-flag', i, ea, e, code | 1);
    const rights = rightsOf(orDeny(deny, f.deny(i, 'leaf', e, r)));
    if (refused(rights, access, user, r)) return fault('protection', i, ea, e, code | 1);
    const l = f.levels[i]!;
    const size = 1n << BigInt(l.shift);
    return {
      ok: true,
      va,
      pa: f.leafAddress(i, e, r) + (va & (size - 1n)),
      pageSize: Number(size),
      level: l.level,
      rights,
      entryAddress: ea,
      entryValue: e,
    };
  }
  throw new Error(`oracle: ${f.name} has a valid non-leaf entry at its last level`);
}

/**
 * Every leaf reachable from the root, depth first in ascending index order, one
 * Mapping per path (a shared or self-referencing table is listed once per path
 * to it). Leaves and tables with reserved bits are skipped (unless
 * ignoreReserved); a leaf without Arm's AF is still a mapping.
 */
export function* oracleMappings(mem: OracleMemory, f: OracleFormat, root: bigint, o: WalkOptions = {}): Generator<Mapping> {
  const r = f.resolve(o);
  const eb = BigInt(f.entryBytes);
  function* visit(i: number, table: bigint, vaBase: bigint, deny: Deny): Generator<Mapping> {
    const l = f.levels[i]!;
    for (let idx = 0n; idx < 1n << BigInt(l.indexBits); idx++) {
      const e = mem.read(table + idx * eb, f.entryBytes);
      // Entries only move further out: the rest of this table is outside the image too.
      if (e === undefined) return;
      const kind = f.kind(i, e);
      if (kind === 'invalid') continue;
      if (r.checkReserved && f.reserved(i, kind, e, r)) continue;
      const va = vaBase | (idx << BigInt(l.shift));
      if (kind === 'leaf') {
        yield {
          va: f.canonical(va),
          pa: f.leafAddress(i, e, r),
          size: 2 ** l.shift,
          level: l.level,
          entry: e,
          rights: rightsOf(orDeny(deny, f.deny(i, 'leaf', e, r))),
        };
      } else if (i + 1 < f.levels.length) {
        yield* visit(i + 1, f.tableAddress(i, e, r), va, orDeny(deny, f.deny(i, 'table', e, r)));
      }
    }
  }
  yield* visit(0, f.rootTable(BigInt.asUintN(64, root), r), 0n, NOTHING_DENIED);
}

/** The first `limit` mappings, and whether more were left. */
export function oracleMappingList(mem: OracleMemory, f: OracleFormat, root: bigint, o: WalkOptions = {}, limit = 1_000_000): { mappings: Mapping[]; truncated: boolean } {
  const mappings: Mapping[] = [];
  for (const m of oracleMappings(mem, f, root, o)) {
    if (mappings.length === limit) return { mappings, truncated: true };
    mappings.push(m);
  }
  return { mappings, truncated: false };
}
