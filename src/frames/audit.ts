// The audit: a check of the whole frame table and every domain record, written
// in plain TS over the memory so it judges both backends' data the same way.
// Each violation names the frame (or domain), the field, what was expected and
// what was found.
import * as A from '../abi.js';
import type { EngineContext } from '../core/context.js';
import { NO_FRAME, typeName } from './frame-info.js';

export interface Violation {
  /** The frame concerned, or undefined for a domain-record field. */
  readonly frame: number | undefined;
  readonly domain: number | undefined;
  readonly field: string;
  readonly expected: string | number;
  readonly found: string | number;
}

export interface AuditOptions {
  /** Also recompute every reference count from pins, locks and validated tables (default false). */
  readonly references?: boolean;
  /** Violations kept in the report (default 100); `total` counts them all. */
  readonly maxViolations?: number;
}

export interface AuditReport {
  readonly ok: boolean;
  readonly total: number;
  readonly violations: readonly Violation[];
  readonly domains: number;
  readonly framesChecked: number;
}

const show = (f: number) => (f === NO_FRAME ? 'none' : f);

export function audit(ctx: EngineContext, options: AuditOptions = {}): AuditReport {
  const l = ctx.layout;
  const u = new Uint32Array(ctx.memory.buffer);
  const frames = l.frames;
  const ramFrames = Math.min(frames, Math.floor(l.ramBytes / 4096));
  const T = l.colType >>> 2, C = l.colCount >>> 2, O = l.colOwner >>> 2, N = l.colNext >>> 2, P = l.colPrev >>> 2;
  const L4N = l.l4Next >>> 2, L4P = l.l4Prev >>> 2;
  const max = options.maxViolations ?? 100;
  const violations: Violation[] = [];
  let total = 0;
  const bad = (frame: number | undefined, domain: number | undefined, field: string, expected: string | number, found: string | number) => {
    total++;
    if (violations.length < max) violations.push({ frame, domain, field, expected, found });
  };
  const rec = (d: number, o: number) => u[(l.domains + d * A.DOM_STRIDE + o) >>> 2]!;
  const live: number[] = [];
  for (let d = 0; d < A.DOM_MAX; d++) if (rec(d, A.DOM_FLAGS) & A.DF_IN_USE) live.push(d);

  // 1. Every list: links consistent, each frame once, owned by the list's domain.
  const seen = new Uint32Array(Math.ceil(frames / 32));
  const isSeen = (f: number) => (seen[f >>> 5]! >>> (f & 31)) & 1;
  for (const d of live) {
    const owner = d + A.OWNER_BIAS;
    let prev = NO_FRAME;
    let f = rec(d, A.DOM_HEAD);
    let steps = 0;
    while (f !== NO_FRAME) {
      if (f >= frames) {
        bad(prev === NO_FRAME ? undefined : prev, d, prev === NO_FRAME ? 'head' : 'next', `a frame below ${frames} or none`, f);
        break;
      }
      if (isSeen(f)) {
        bad(f, d, 'list', 'on one list once', `met again on domain ${d}'s list after ${steps} frames`);
        break;
      }
      seen[f >>> 5] = seen[f >>> 5]! | (1 << (f & 31));
      if (u[O + f] !== owner) bad(f, d, 'owner', d, u[O + f] === A.OWNER_NONE ? 'free' : u[O + f]! - A.OWNER_BIAS);
      if (u[P + f] !== prev) bad(f, d, 'prev', show(prev), show(u[P + f]!));
      prev = f;
      f = u[N + f]!;
      steps++;
    }
    if (rec(d, A.DOM_TAIL) !== prev) bad(undefined, d, 'tail', show(prev), show(rec(d, A.DOM_TAIL)));
    if (rec(d, A.DOM_COUNT) !== steps) bad(undefined, d, 'count', steps, rec(d, A.DOM_COUNT));
  }

  // 2. Every frame: ownership, list membership, the two metadata words.
  const owned = new Map<number, number>();
  const l4s = new Map<number, number>();
  for (const d of live) {
    owned.set(d, 0);
    l4s.set(d, 0);
  }
  for (let f = 0; f < frames; f++) {
    const o = u[O + f]!;
    const ti = u[T + f]!;
    const ci = u[C + f]!;
    if (o === A.OWNER_NONE) {
      if (ti !== 0) bad(f, undefined, 'type_info', 0, ti);
      if (ci !== 0) bad(f, undefined, 'count_info', 0, ci);
      continue;
    }
    const d = o - A.OWNER_BIAS;
    const n = owned.get(d);
    if (n === undefined) {
      bad(f, d, 'owner', 'a live domain', d);
      continue;
    }
    owned.set(d, n + 1);
    if (!isSeen(f)) bad(f, d, 'list', `on domain ${d}'s list`, 'on no list of its owner');
    if (!(ci & A.PGC_ALLOCATED) || (ci & A.PGC_COUNT_MASK) === 0) bad(f, d, 'count_info', 'allocated with a reference', ci);
    const cnt = ti & A.PGT_COUNT_MASK;
    const type = ti >>> A.PGT_TYPE_SHIFT;
    if (type > A.PGT_WRITABLE) bad(f, d, 'type_info.type', 'a type code 0..6', type);
    if (cnt === 0) {
      if (ti & (A.PGT_PINNED | A.PGT_LOCKED)) bad(f, d, 'type_info', 'no pin or lock without a type reference', ti);
      if (type >= A.PGT_L1 && type <= A.PGT_L4 && ti & A.PGT_VALIDATED) bad(f, d, 'type_info.validated', 'clear on a table without references', 'set');
      const undo = (ti & A.PGT_UNDO_MASK) >>> A.PGT_UNDO_SHIFT;
      if (undo !== ((ti >>> 28) & 0xf)) bad(f, d, 'type_info.undo', (ti >>> 28) & 0xf, undo);
    } else {
      const held = (ti & A.PGT_PINNED ? 1 : 0) + (ti & A.PGT_LOCKED ? 1 : 0);
      if (cnt < held) bad(f, d, 'type_info.count', `at least ${held} (pin/lock)`, cnt);
      if (type === A.PGT_L4 && ti & A.PGT_VALIDATED) {
        l4s.set(d, l4s.get(d)! + 1);
        if (f >= ramFrames) bad(f, d, 'type_info', 'a table inside the RAM image', 'an L4 outside it');
      }
    }
  }

  // 3. Domain counters and the L4 index.
  for (const d of live) {
    if (rec(d, A.DOM_TOT_PAGES) !== owned.get(d)) bad(undefined, d, 'tot_pages', owned.get(d)!, rec(d, A.DOM_TOT_PAGES));
    if (rec(d, A.DOM_NR_L4) !== l4s.get(d)) bad(undefined, d, 'nr_l4_pages', l4s.get(d)!, rec(d, A.DOM_NR_L4));
    let prev = NO_FRAME;
    let f = rec(d, A.DOM_L4_HEAD);
    let steps = 0;
    while (f !== NO_FRAME && steps <= ramFrames) {
      if (f >= ramFrames) {
        bad(prev === NO_FRAME ? undefined : prev, d, 'l4_index.next', `a frame of the image or none`, f);
        break;
      }
      const ti = u[T + f]!;
      if (u[O + f] !== d + A.OWNER_BIAS || ti >>> A.PGT_TYPE_SHIFT !== A.PGT_L4 || !(ti & A.PGT_VALIDATED)) {
        bad(f, d, 'l4_index', `a validated L4 of domain ${d}`, `${typeName(ti >>> A.PGT_TYPE_SHIFT)} of ${u[O + f] === A.OWNER_NONE ? 'nobody' : u[O + f]! - A.OWNER_BIAS}`);
      }
      if (u[L4P + f] !== prev) bad(f, d, 'l4_index.prev', show(prev), show(u[L4P + f]!));
      prev = f;
      f = u[L4N + f]!;
      steps++;
    }
    if (rec(d, A.DOM_L4_TAIL) !== prev) bad(undefined, d, 'l4_index.tail', show(prev), show(rec(d, A.DOM_L4_TAIL)));
    if (rec(d, A.DOM_L4_COUNT) !== steps) bad(undefined, d, 'l4_index.count', steps, rec(d, A.DOM_L4_COUNT));
    if (steps !== l4s.get(d)) bad(undefined, d, 'l4_index', `${l4s.get(d)} validated L4s`, steps);
  }

  if (options.references) checkReferences(ctx, u, bad);
  return { ok: total === 0, total, violations, domains: live.length, framesChecked: frames };
}

/**
 * Recompute the references each frame should hold: 1 for the allocation, 1 per
 * pin, 1 type reference per lock, and those taken by the present guest entries of
 * every validated table with references (L2..L4 entries: general + type of the
 * next level; L1 entries: general, + writable type when RW).
 */
function checkReferences(
  ctx: EngineContext,
  u: Uint32Array,
  bad: (frame: number | undefined, domain: number | undefined, field: string, expected: string | number, found: string | number) => void,
): void {
  const l = ctx.layout;
  const frames = l.frames;
  const ramFrames = Math.min(frames, Math.floor(l.ramBytes / 4096));
  const T = l.colType >>> 2, C = l.colCount >>> 2, O = l.colOwner >>> 2;
  const ram = l.ramBase >>> 2;
  const gen = new Map<number, number>();
  const typ = new Map<number, number>();
  const add = (m: Map<number, number>, f: number) => m.set(f, (m.get(f) ?? 0) + 1);
  for (let f = 0; f < frames; f++) {
    const ti = u[T + f]!;
    if (u[O + f] === A.OWNER_NONE) continue;
    if (ti & A.PGT_PINNED) {
      add(gen, f);
      add(typ, f);
    }
    if (ti & A.PGT_LOCKED) add(typ, f);
    const t = ti >>> A.PGT_TYPE_SHIFT;
    if (t < A.PGT_L1 || t > A.PGT_L4 || !(ti & A.PGT_VALIDATED) || (ti & A.PGT_COUNT_MASK) === 0 || f >= ramFrames) continue;
    for (let i = 0; i < 512; i++) {
      if (t === A.PGT_L4 && i >= A.L4_XEN_FIRST && i <= A.L4_XEN_LAST) continue;
      const lo = u[ram + f * 1024 + i * 2]!;
      if (!(lo & 1)) continue;
      const tg = (lo >>> 12) + (u[ram + f * 1024 + i * 2 + 1]! & 0xfffff) * 1048576;
      if (tg >= frames) continue;
      add(gen, tg);
      if (t !== A.PGT_L1 || lo & A.PTE_RW) add(typ, tg);
    }
  }
  for (let f = 0; f < frames; f++) {
    if (u[O + f] === A.OWNER_NONE) continue;
    const d = u[O + f]! - A.OWNER_BIAS;
    const g = 1 + (gen.get(f) ?? 0);
    const t = typ.get(f) ?? 0;
    if ((u[C + f]! & A.PGC_COUNT_MASK) !== g) bad(f, d, 'count_info.count', g, u[C + f]! & A.PGC_COUNT_MASK);
    if ((u[T + f]! & A.PGT_COUNT_MASK) !== t) bad(f, d, 'type_info.count', t, u[T + f]! & A.PGT_COUNT_MASK);
  }
}
