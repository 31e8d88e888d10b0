// Both backends against the independent oracle (test/helpers/oracle-*.ts), for
// all seven paging formats, on random table images (valid trees, shared tables,
// cycles, reserved bits, tables outside the image) and random walk options:
// every walk (single, every batch strategy, ranges, runs), every listing, and
// map / unmap / protect on random requests, which must write the same bytes or
// give the same refusal.
import { afterAll, describe, test, expect } from 'vitest';
import fc from 'fast-check';
import {
  createEngine, x86_64, x86_64_la57, x86_pae, x86_32, aarch64_4k, aarch64_16k, aarch64_64k, BumpAllocator, MemwalkError, checkContiguous,
  type Engine, type Mapping, type PagingFormat, type TranslateResult,
} from '../src/index.js';
import { oracleFormat, type OracleFormat } from './helpers/oracle-formats.js';
import { indexOf, OracleMemory, oracleMappingList, oracleTranslate, type OracleWalkOptions } from './helpers/oracle-walk.js';
import { oracleContiguousCheck } from './helpers/oracle-contiguous.js';
import { isRefusal, oracleMap, oracleProtect, oracleUnmap, type MapOutcome, type Refusal, type RefusalKind } from './helpers/oracle-map.js';
import { editOptionsArbFor, editRequest, editShapesArb, formatImageArb, geometry, walkOptionsArbFor, type EditRequest } from './helpers/random-format-tables.js';

const FORMATS: PagingFormat[] = [x86_64, x86_64_la57, x86_pae, x86_32, aarch64_4k, aarch64_16k, aarch64_64k];
const BACKENDS = ['wasm', 'reference'] as const;
const WALK_RUNS = 32;
const EDIT_RUNS = 40;
const LIMIT = 2000;
/** Free table pages above each image, for the tables map makes. */
const SPARE = 24;

/** What a batch or range keeps of a result (no entry value; no entry address on success). */
function kept(r: TranslateResult) {
  return r.ok
    ? { ok: true, va: r.va, pa: r.pa, pageSize: r.pageSize, level: r.level, rights: r.rights }
    : { ok: false, va: r.va, kind: r.fault.kind, level: r.fault.level, entryAddress: r.fault.entryAddress, errorCode: r.fault.errorCode };
}

/**
 * Could page q's answer continue the run that holds page p (the next page)? The same
 * status, and the next output page, or for a fault the same entry until the
 * faulting level's span ends, then the next one.
 */
function continues(f: OracleFormat, p: TranslateResult, q: TranslateResult): boolean {
  const page = 1n << BigInt(f.levels[f.levels.length - 1]!.shift);
  if (p.ok || q.ok) {
    return p.ok && q.ok && p.level === q.level && p.pageSize === q.pageSize && JSON.stringify(p.rights) === JSON.stringify(q.rights) && q.pa === p.pa + page;
  }
  const a = p.fault, b = q.fault;
  if (a.kind !== b.kind || a.level !== b.level || a.errorCode !== b.errorCode) return false;
  if (a.kind === 'non-canonical') return true;
  const shift = BigInt(f.levels.find((l) => l.level === a.level)!.shift);
  const next = q.va >> shift !== p.va >> shift;
  return b.entryAddress === a.entryAddress + (next ? BigInt(f.entryBytes) : 0n);
}

/** Every field of a result (or of what a batch keeps of it) in one string: a cheap comparison. */
function resultKey(r: TranslateResult | ReturnType<typeof kept>): string {
  const x = r as Record<string, unknown>;
  const rights = x.rights as Record<string, boolean> | undefined;
  const fault = x.fault as Record<string, unknown> | undefined;
  const parts = [x.ok, x.va, x.pa, x.pageSize, x.level, x.entryAddress, x.entryValue, x.kind, x.errorCode];
  if (rights) parts.push(rights.write, rights.user, rights.execute, rights.userExecute);
  if (fault) parts.push(fault.kind, fault.level, fault.entryAddress, fault.entryValue, fault.errorCode);
  return parts.map(String).join(',');
}

function mappingKey(m: Mapping): string {
  const r = m.rights;
  return [m.va, m.pa, m.size, m.level, m.entry, r.write, r.user, r.execute, r.userExecute].map(String).join(',');
}

/** expect(got).toEqual(want), through the keys first (vitest's deep equality is slow on thousands of results). */
function sameResults(got: Array<TranslateResult | ReturnType<typeof kept>>, want: typeof got): void {
  if (got.map(resultKey).join(';') !== want.map(resultKey).join(';')) expect(got).toEqual(want);
}

function sameList(got: { mappings: Mapping[]; truncated: boolean }, want: typeof got): void {
  if (got.truncated !== want.truncated || got.mappings.map(mappingKey).join(';') !== want.mappings.map(mappingKey).join(';')) expect(got).toEqual(want);
}

interface WalkCase {
  root: bigint;
  vas: bigint[];
  o: OracleWalkOptions;
  start: bigint;
  pages: number;
}

/** The oracle's answers for a case: every walk, every page of the range, the listing. */
function expectedWalks(mem: OracleMemory, f: OracleFormat, c: WalkCase) {
  const page = 1n << BigInt(f.levels[f.levels.length - 1]!.shift);
  const pageVas = Array.from({ length: c.pages }, (_, i) => BigInt.asUintN(64, c.start + BigInt(i) * page));
  return {
    singles: c.vas.map((va) => oracleTranslate(mem, f, c.root, va, c.o)),
    perPage: pageVas.map((va) => oracleTranslate(mem, f, c.root, va, c.o)),
    list: oracleMappingList(mem, f, c.root, c.o, LIMIT),
    violations: oracleContiguousCheck(mem, f, c.root, c.o),
  };
}

function checkWalks(e: Engine, f: OracleFormat, format: PagingFormat, c: WalkCase, want: ReturnType<typeof expectedWalks>) {
  const opts = { ...c.o, format };
  sameResults(c.vas.map((va) => e.translate(c.root, va, opts)), want.singles);
  for (const strategy of ['naive', 'cached', 'interleaved'] as const) {
    const b = e.translateBatch(c.root, c.vas, { ...opts, strategy });
    sameResults(c.vas.map((_, i) => kept(b.get(i))), want.singles.map(kept));
  }
  // Consecutive pages: translateRange, the same through runs, and the runs themselves.
  for (const viaRuns of [false, true]) {
    const r = e.translateRange(c.root, c.start, c.pages, { ...opts, viaRuns });
    sameResults(Array.from({ length: r.length }, (_, i) => kept(r.get(i))), want.perPage.map(kept));
  }
  const runs = e.translateRuns(c.root, c.start, c.pages, opts);
  expect(runs.totalPages).toBe(c.pages);
  // Maximal: no run could have taken the next run's first page.
  let at = 0;
  for (let i = 0; i + 1 < runs.length; i++) {
    at += runs.pages[i]!;
    expect(continues(f, want.perPage[at - 1]!, want.perPage[at]!)).toBe(false);
  }
  sameList(e.mappings(c.root, { ...opts, limit: LIMIT }), want.list);
  expect(checkContiguous(e, c.root, opts)).toEqual({ violations: want.violations, truncated: false });
}

/** The refusal an engine error stands for, in the oracle's terms. */
function refusalOf(err: unknown): Refusal {
  if (!(err instanceof MemwalkError)) throw err;
  const kinds: Array<[RegExp, RefusalKind]> = [
    [/already mapped/, 'already-mapped'],
    [/inside an existing large leaf/, 'inside-leaf'],
    [/covers only part/, 'splits-leaf'],
    [/cannot hold its physical address/, 'pa-unrepresentable'],
    [/reserved bits/, 'bad-entry'],
    [/more new tables than its dry run counted/, 'tables-changed'],
  ];
  let refused: RefusalKind | undefined;
  if (err.code === 'invalid-input') refused = 'invalid-input';
  else if (err.code === 'capacity') refused = 'capacity';
  else if (err.code === 'outside-image') refused = 'outside-image';
  else refused = kinds.find(([re]) => re.test(err.message))?.[1];
  if (!refused) throw err;
  const d = err.details as { va?: bigint; entryAddress?: bigint; entryValue?: bigint };
  return { refused, va: d.va, entryAddress: d.entryAddress, entryValue: d.entryValue };
}

/** The facts a refusal must share: where, and the entry in the way (a new table has no address yet). */
function refusalView(r: Refusal) {
  if (r.refused === 'invalid-input' || r.refused === 'capacity') return { refused: r.refused };
  if (r.refused === 'pa-unrepresentable') return { refused: r.refused, va: r.va };
  return { refused: r.refused, va: r.va, entryAddress: r.entryAddress, entryValue: r.entryValue };
}

type Outcome = { leaves: number; tableFrames: number[]; contiguousRuns: number } | { count: number } | ReturnType<typeof refusalView>;

function viewOf(x: MapOutcome | number | Refusal): Outcome {
  if (isRefusal(x)) return refusalView(x);
  return typeof x === 'number' ? { count: x } : { leaves: x.leaves, tableFrames: x.tableFrames, contiguousRuns: x.contiguousRuns };
}

function runOracle(mem: OracleMemory, f: OracleFormat, root: bigint, q: EditRequest, o: OracleWalkOptions, alloc: BumpAllocator): MapOutcome | number | Refusal {
  if (q.op === 'map') return oracleMap(mem, f, root, q.va, q.pa, q.size, q.flags, alloc, { ...o, largestLeaf: q.largestLeaf, contiguousHint: q.contiguousHint });
  if (q.op === 'unmap') return oracleUnmap(mem, f, root, q.va, q.size, o);
  return oracleProtect(mem, f, root, q.va, q.size, q.flags, o);
}

function runEngine(e: Engine, format: PagingFormat, root: bigint, q: EditRequest, o: OracleWalkOptions, alloc: BumpAllocator): Outcome {
  const opts = { ...o, format };
  try {
    if (q.op === 'map') return viewOf(e.map(root, q.va, q.pa, q.size, q.flags, alloc, { ...opts, largestLeaf: q.largestLeaf, contiguousHint: q.contiguousHint }));
    if (q.op === 'unmap') return viewOf(e.unmap(root, q.va, q.size, opts));
    return viewOf(e.protect(root, q.va, q.size, q.flags, opts));
  } catch (err) {
    return refusalView(refusalOf(err));
  }
}

/** The first byte where two images differ, with the 8-byte words around it. */
function firstDifference(got: Uint8Array, want: Uint8Array) {
  if (Buffer.compare(got, want) === 0) return undefined;
  for (let i = 0; i < want.length; i++) {
    if (got[i] !== want[i]) {
      const at = i - (i % 8);
      const word = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset + at, 8).getBigUint64(0, true).toString(16);
      return { at: at.toString(16), got: word(got), want: word(want) };
    }
  }
  return undefined;
}

/** Set ORACLE_STATS=1 to see how often each outcome came up (the generators' reach). */
const STATS: Record<string, number> = {};
const tally = (key: string) => void (STATS[key] = (STATS[key] ?? 0) + 1);
afterAll(() => {
  if (process.env.ORACLE_STATS) console.log(Object.entries(STATS).sort().map(([k, n]) => `${k} ${n}`).join('\n'));
});

const outcomeName = (op: string, x: Outcome) =>
  `${op}: ${'refused' in x ? x.refused : 'leaves' in x ? `${x.leaves ? 'done' : 'nothing'}${x.contiguousRuns ? ', hinted' : ''}` : x.count ? 'done' : 'nothing'}`;

describe.each(FORMATS.map((f) => [f.name, f] as const))('%s: both backends equal the oracle', (_name, format) => {
  const f = oracleFormat(format.name);
  const g = geometry(format, 8, SPARE);
  const engines = BACKENDS.map((backend) => createEngine({ ramBytes: g.ramBytes, ioBytes: 1 << 20, backend }));
  const page = 1n << BigInt(f.levels[f.levels.length - 1]!.shift);
  const leafTable = page << BigInt(f.levels[f.levels.length - 1]!.indexBits);

  test('every single-bit change of every entry on a valid walk: translate, mappings, contiguous check', () => {
    // Exhaustive where random images are thin: one bit of one entry (reserved, rights, type, address bits).
    const optionSets: OracleWalkOptions[] =
      f.name.startsWith('aarch64')
        ? [{}, { access: 'write', user: true }, { access: 'execute' }, { access: 'execute', user: true }, { smap: true }, { maxPhyAddr: 40, hardwareAccessFlag: true }, { ignoreReserved: true }]
        : [{}, { access: 'write', user: true }, { access: 'execute', smep: true }, { smap: true, wp: false }, { maxPhyAddr: 36, nxe: false }, { ignoreReserved: true, access: 'execute', user: true }];
    const root = BigInt(g.tableBytes);
    f.levels.forEach((leafLevel, li) => {
      if (!leafLevel.leaf) return;
      const span = 1n << BigInt(leafLevel.shift);
      // Index 5 (or the last) at every level, and an offset inside the page.
      const va = f.canonical(f.levels.reduce((v, l) => v | (BigInt(Math.min(5, 2 ** l.indexBits - 1)) << BigInt(l.shift)), 0x123n));
      // With a contiguous hint, the whole hinted group around it (so each flip breaks one of its rules).
      const group = span * BigInt(f.contiguous?.entries[leafLevel.level] ?? 1);
      const base = va - (va % group);
      const mem = new OracleMemory(g.ramBytes);
      const r = f.resolve({});
      const high = (1n << 35n) + (group > span ? 0n : 5n * span);
      const pa = f.newLeaf(li, high, 0n, r) === undefined ? 5n * span : high;
      const done = oracleMap(mem, f, root, base, pa, group, { write: true, user: true }, new BumpAllocator(g.spareFrame, g.ramBytes / 4096), { largestLeaf: Number(span) });
      expect(isRefusal(done)).toBe(false);
      for (const e of engines) e.phys.write(0, mem.bytes);
      // The entries the walk reads, root to leaf.
      const path: bigint[] = [];
      let table = f.rootTable(root, r);
      for (let i = 0; i <= li; i++) {
        path.push(table + indexOf(f, i, va) * BigInt(f.entryBytes));
        table = f.tableAddress(i, mem.read(path[i]!, f.entryBytes)!, r);
      }
      const put = (ea: bigint, v: bigint) => {
        mem.write(ea, f.entryBytes, v);
        for (const e of engines) f.entryBytes === 8 ? e.phys.write64(ea, v) : e.phys.write32(ea, Number(v));
      };
      // Options outermost: the engine resolves a format once per set of options.
      optionSets.forEach((o, k) => {
        // Listings with and without the reserved-bit checks (the only options that change which leaves are listed).
        const listing = k === 0 || k === optionSets.length - 1;
        // Table entries on the deepest path only; every leaf size's own entry.
        for (const ea of li === f.levels.length - 1 ? path : path.slice(-1)) {
          const entry = mem.read(ea, f.entryBytes)!;
          for (let b = 0n; b < BigInt(8 * f.entryBytes); b++) {
            put(ea, entry ^ (1n << b));
            const want = oracleTranslate(mem, f, root, va, o);
            const list = listing ? oracleMappingList(mem, f, root, o, 300) : undefined;
            const violations = listing && f.contiguous ? oracleContiguousCheck(mem, f, root, o) : undefined;
            for (const e of engines) {
              sameResults([e.translate(root, va, { ...o, format })], [want]);
              if (list) sameList(e.mappings(root, { ...o, format, limit: 300 }), list);
              if (violations) expect(checkContiguous(e, root, { ...o, format })).toEqual({ violations, truncated: false });
            }
          }
          put(ea, entry);
        }
      });
    });
  });

  test(`translate (single, naive, cached, interleaved), translateRange, translateRuns, mappings (${WALK_RUNS} images)`, () => {
    const range = fc.record({
      anchor: fc.nat(),
      pages: fc.integer({ min: 1, max: 48 }),
      from: fc.constantFrom('page', 'page', 'page', 'table-end', 'table-end', 'half-end', 'top'),
      back: fc.integer({ min: 0, max: 8 }),
    });
    // Where the low (canonical) half ends: the range then runs into non-canonical addresses.
    const halfEnd = 1n << BigInt(g.params.vaBits - (g.params.signExtend ? 1 : 0));
    // Valid trees among the garbage: a few ranges the oracle maps first, and addresses in them.
    const maps = editShapesArb(format).map((ss) => ss.map((s) => ({ ...s, op: 'map' as const, damage: 'none' as const })));
    fc.assert(
      fc.property(formatImageArb(format, g), walkOptionsArbFor(format), range, maps, (img, o, rg, shapes) => {
        const mem = OracleMemory.fromWrites(g.ramBytes, f.entryBytes, img.writes);
        const alloc = new BumpAllocator(g.spareFrame, g.ramBytes / 4096);
        const mapped: EditRequest[] = [];
        for (const s of shapes) {
          const q = editRequest(format, img, s, mapped);
          const done = oracleMap(mem, f, img.root, q.va, q.pa, q.size, q.flags, alloc, { largestLeaf: q.largestLeaf, contiguousHint: q.contiguousHint });
          if (!isRefusal(done)) mapped.push(q);
        }
        const inside = mapped.flatMap((q) => [q.va, q.va + q.size - 1n, q.va + ((q.size / 2n) & ~(page - 1n)) + 0x2a8n]);
        const vas = [...img.vas, ...inside];
        const anchor = vas[rg.anchor % vas.length]!;
        // From the anchor's page, or a few pages before its leaf table ends (the walk then crosses
        // tables), before the low half ends, or before the top of the 64-bit space (it wraps).
        const back = BigInt(rg.back) * page;
        const start = {
          page: anchor - (anchor % page),
          'table-end': anchor - (anchor % leafTable) + leafTable - back,
          'half-end': halfEnd - back,
          top: (1n << 64n) - back,
        }[rg.from];
        const c: WalkCase = { root: img.root, vas, o, start: BigInt.asUintN(64, start), pages: rg.pages };
        const want = expectedWalks(mem, f, c);
        for (const w of want.singles) tally(`walk: ${w.ok ? `leaf at level ${w.level}` : w.fault.kind}`);
        tally(`mappings: ${want.list.truncated ? 'truncated' : want.list.mappings.length ? 'some' : 'none'}`);
        for (const v of want.violations) tally(`contiguous check: ${v.rules.join(' ')}`);
        for (const e of engines) {
          e.phys.write(0, mem.bytes);
          checkWalks(e, f, format, c, want);
        }
      }),
      { numRuns: WALK_RUNS },
    );
  });

  test(`map, unmap, protect: the same bytes written or the same refusal (${EDIT_RUNS} images)`, () => {
    const fpt = f.tableBytes / 4096;
    const end = g.ramBytes / 4096;
    // Mostly room for every table; sometimes only a few, so that the allocator runs short.
    const capacity = fc.oneof({ weight: 4, arbitrary: fc.constant(end) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 }).map((k) => g.spareFrame + k * fpt) });
    fc.assert(
      fc.property(formatImageArb(format, g), editOptionsArbFor(format), editShapesArb(format), capacity, (img, o, shapes, last) => {
        const mem = OracleMemory.fromWrites(g.ramBytes, f.entryBytes, img.writes);
        for (const e of engines) e.phys.write(0, mem.bytes);
        const oracleAlloc = new BumpAllocator(g.spareFrame, last);
        const allocs = engines.map(() => new BumpAllocator(g.spareFrame, last));
        const done: EditRequest[] = [];
        for (const s of shapes) {
          const q = editRequest(format, img, s, done);
          const raw = runOracle(mem, f, img.root, q, o, oracleAlloc);
          const want = viewOf(raw);
          tally(outcomeName(q.op, want) + (isRefusal(raw) && raw.midway ? ' (midway)' : ''));
          if (!isRefusal(raw)) done.push(q);
          engines.forEach((e, k) => {
            expect(runEngine(e, format, img.root, q, o, allocs[k]!)).toEqual(want);
            // A refusal midway too leaves the image as it was (the engine undoes its real run).
            expect(firstDifference(new Uint8Array(e.memory.buffer, e.phys.memoryOffset, g.ramBytes), mem.bytes)).toBeUndefined();
          });
        }
      }),
      { numRuns: EDIT_RUNS },
    );
  });
});
