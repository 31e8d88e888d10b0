// The m2p-strict restore fix-up and the variants beside it. Each
// kernel runs until it is done or until its `maxChecks`-th preemption check
// (one every FX_CHECK_EVERY frames), where it returns FX_RESTART: the TS layer
// turns that into a real preemption (every:K, a time budget) or just calls again
// (never), which continues exactly where the call stopped. Per-call counters go
// to the FR block.
import {
  PGT_L4, PGT_TYPE_SHIFT, OWNER_BIAS, DOM_HEAD, DOM_TAIL, DOM_COUNT, DOM_L4_HEAD, DOM_FIX_MODE, DOM_FIX_LEFT, DOM_FIX_CURSOR,
  FIXM_NONE, FIXM_COUNTED, FIXM_FLAT, FIXM_INDEXED, FX_DONE, FX_RESTART, FX_EMPTY, FX_CHECK_EVERY, TE_NO_DOMAIN,
  FR_VISITED, FR_FILLED, FR_ALREADY, FR_LOCK_FAILED, FR_L4_LOCK_FAILED, FR_CHECKS, PGT_COUNT_MASK, PGT_LOCKED, PGT_VALIDATED,
} from '../../src/abi';
import { FRAMES, COL_TYPE, COL_OWNER, COL_NEXT, COL_PREV } from '../shared/layout';
import { NULL, RAM_FRAMES, typeInfo, setTypeInfo, domGet, domSet, domainLive, l4NextOf, nextOf, setNext, setPrev, fr } from './state';
import { fillSlot, anyOf16 } from './ro-mpt';

/** type_info bits 28..31 of a validated L4 table. */
const VALID_L4: u32 = (PGT_L4 << 1) | 1;

let visited: u32 = 0;
let filled: u32 = 0;
let already: u32 = 0;
let lockFailed: u32 = 0;
let l4LockFailed: u32 = 0;
let checks: u32 = 0;

// @ts-ignore: decorator
@inline function start(): void {
  visited = 0;
  filled = 0;
  already = 0;
  lockFailed = 0;
  l4LockFailed = 0;
  checks = 0;
}

function finish(code: u32): u32 {
  fr(FR_VISITED, visited);
  fr(FR_FILLED, filled);
  fr(FR_ALREADY, already);
  fr(FR_LOCK_FAILED, lockFailed);
  fr(FR_L4_LOCK_FAILED, l4LockFailed);
  fr(FR_CHECKS, checks);
  return code;
}

// What visiting one frame did (see visit()).
const V_LOCKED: u32 = 0; // locked and unlocked, not an L4
const V_FILLED: u32 = 1; // an L4 whose slot was empty: filled
const V_ALREADY: u32 = 2; // an L4 whose slot was already set
const V_NOLOCK: u32 = 3; // page_lock refused
const V_NOLOCK_L4: u32 = 4; // page_lock refused a validated L4

/**
 * page_lock test without the lock: validated, not locked, count in [1, max).
 * One subtract and compare for the three conditions: with the count 0 or at its
 * maximum, the locked bit set or the validated bit clear, the masked word minus
 * (validated + 1) falls outside [0, max - 1) (unsigned).
 */
// @ts-ignore: decorator
@inline function lockable(x: u32): bool {
  return (x & (PGT_LOCKED | PGT_VALIDATED | PGT_COUNT_MASK)) - (PGT_VALIDATED + 1) < <u32>(PGT_COUNT_MASK - 1);
}

/** page_lock `f`; if it is an L4 table fill its RO_MPT slot; page_unlock. */
// @ts-ignore: decorator
@inline function visit(f: u32): u32 {
  const x = typeInfo(f);
  if (!lockable(x)) {
    return x >>> 28 == VALID_L4 ? V_NOLOCK_L4 : V_NOLOCK;
  }
  setTypeInfo(f, (x + 1) | PGT_LOCKED);
  let v = V_LOCKED;
  if (x >>> PGT_TYPE_SHIFT == PGT_L4 && f < RAM_FRAMES) v = fillSlot(f) ? V_FILLED : V_ALREADY;
  setTypeInfo(f, x); // page_unlock: the lock's reference and bit go
  return v;
}

/** Count a visit that did more than lock and unlock (rare: not lockable, or an L4). */
// @ts-ignore: decorator
@inline function count(v: u32): void {
  if (v == V_LOCKED) return;
  if (v == V_FILLED) filled++;
  else if (v == V_ALREADY) already++;
  else {
    lockFailed++;
    if (v == V_NOLOCK_L4) l4LockFailed++;
  }
}

// @ts-ignore: decorator
@inline const ORDINARY_MAX: u32 = 0xffff;

/**
 * The hot loop of the faithful and counted kernels: visit and rotate (head to
 * tail) up to `max` (at most ORDINARY_MAX) frames of `d`'s list, stopping
 * before the first L4-typed frame, which the caller visits with visitHead (a
 * slot to fill, or an L4 that page_lock refused). Returns the frames done and
 * adds the refused ones to lockFailed; the list's ends stay in the domain record.
 * A function of its own that calls nothing, with few live values: V8 saves no
 * register across a call, so any call in the loop put the loop's values on the
 * stack, and with more values than its 12 registers it kept the frame counter
 * there, a store and reload every frame.
 */
function rotateOrdinary(d: u32, max: u32): u32 {
  let head = domGet(d, DOM_HEAD);
  let tail = domGet(d, DOM_TAIL);
  const types = COL_TYPE, nexts = COL_NEXT, prevs = COL_PREV, frames = FRAMES;
  // Frames left to do in bits 0..15, frames locked (not refused) from bit 16: one register for both.
  let c = max;
  while ((c & ORDINARY_MAX) != 0) {
    const f = head;
    const at = <usize>f << 2;
    const x = load<u32>(types + at);
    if (x >>> PGT_TYPE_SHIFT == PGT_L4) break;
    const n = load<u32>(nexts + at);
    if (lockable(x)) {
      store<u32>(types + at, (x + 1) | PGT_LOCKED); // page_lock
      store<u32>(types + at, x); // page_unlock
      c += 1 << 16;
    }
    if (n < frames) {
      store<u32>(prevs + (<usize>n << 2), NULL);
      store<u32>(nexts + (<usize>tail << 2), f);
      store<u32>(prevs + at, tail);
      store<u32>(nexts + at, NULL);
      tail = f;
      head = n;
    }
    c--;
  }
  domSet(d, DOM_HEAD, head);
  domSet(d, DOM_TAIL, tail);
  const done = max - (c & ORDINARY_MAX);
  lockFailed += done - (c >>> 16);
  return done;
}

/** Visit the head of `d`'s list and rotate it to the tail (one step of the seed's loop). */
function visitHead(d: u32): u32 {
  const f = domGet(d, DOM_HEAD);
  const n = nextOf(f);
  const v = visit(f);
  if (n < FRAMES) {
    const tail = domGet(d, DOM_TAIL);
    setPrev(n, NULL);
    setNext(tail, f);
    setPrev(f, tail);
    setNext(f, NULL);
    domSet(d, DOM_TAIL, f);
    domSet(d, DOM_HEAD, n);
  }
  count(v);
  return v;
}

/**
 * The seed's loop: remove the head, lock, fill if L4 (done at the first slot
 * already set), unlock, add at the tail; a preemption check every 256 frames.
 * No cursor: the rotation is the continuation. Removing the head and adding it
 * at the tail is done as one rotation (the list's length does not change), which
 * leaves exactly the links the two list operations would. Runs of frames that
 * are not L4 tables go through rotateOrdinary, up to the next check.
 */
export function fixFaithful(d: u32, maxChecks: u32): u32 {
  start();
  if (!domainLive(d)) return finish(TE_NO_DOMAIN);
  // An empty list (or a record whose ends are not frames) has nothing to rotate.
  if (domGet(d, DOM_HEAD) >= FRAMES || domGet(d, DOM_TAIL) >= FRAMES) return finish(FX_EMPTY);
  if (maxChecks == 0) maxChecks = 1;
  let i: u32 = 0;
  let code = FX_RESTART;
  while (true) {
    const want = <u32>FX_CHECK_EVERY - (i & (FX_CHECK_EVERY - 1));
    const k = rotateOrdinary(d, want);
    i += k;
    if (k < want) {
      i++;
      if (visitHead(d) == V_ALREADY) {
        code = FX_DONE;
        break;
      }
    }
    if ((i & (FX_CHECK_EVERY - 1)) == 0) {
      checks++;
      if (checks >= maxChecks) break;
    }
  }
  visited += i;
  return finish(code);
}

/**
 * Start run `mode` of a resumable fix-up, or continue the one in progress: a new
 * run puts `from` in its state `field` (rounds left, or a cursor). Returns the state.
 */
function enterFix(d: u32, mode: u32, field: u32, from: u32): u32 {
  if (domGet(d, DOM_FIX_MODE) != mode) {
    domSet(d, DOM_FIX_MODE, mode);
    domSet(d, field, from);
  }
  return domGet(d, field);
}

/** Stop for preemption: the next call continues from `at`. */
function restartFix(d: u32, field: u32, at: u32): u32 {
  domSet(d, field, at);
  return finish(FX_RESTART);
}

/** The run is complete: clear its state (`idle` is the field's resting value). */
function doneFix(d: u32, field: u32, idle: u32): u32 {
  domSet(d, DOM_FIX_MODE, FIXM_NONE);
  domSet(d, field, idle);
  return finish(FX_DONE);
}

/** Rotate the list exactly once round (its length when the run began), filling every L4. */
export function fixCounted(d: u32, maxChecks: u32): u32 {
  start();
  if (!domainLive(d)) return finish(TE_NO_DOMAIN);
  if (maxChecks == 0) maxChecks = 1;
  let left = enterFix(d, FIXM_COUNTED, DOM_FIX_LEFT, domGet(d, DOM_COUNT));
  let i: u32 = 0;
  let code = FX_DONE;
  if (domGet(d, DOM_TAIL) >= FRAMES) left = 0;
  // The head stays a frame once it is one: a rotation only moves it to a frame.
  if (domGet(d, DOM_HEAD) >= FRAMES) left = 0;
  while (left > 0) {
    const room = <u32>FX_CHECK_EVERY - (i & (FX_CHECK_EVERY - 1));
    const want = left < room ? left : room;
    const k = rotateOrdinary(d, want);
    i += k;
    left -= k;
    if (k < want) {
      visitHead(d);
      i++;
      left--;
    }
    if ((i & (FX_CHECK_EVERY - 1)) == 0 && left > 0) {
      checks++;
      if (checks >= maxChecks) {
        code = FX_RESTART;
        break;
      }
    }
  }
  visited += i;
  return code == FX_RESTART ? restartFix(d, DOM_FIX_LEFT, left) : doneFix(d, DOM_FIX_LEFT, 0);
}

/** Scan the type column of the whole frame table for the domain's L4 tables. */
export function fixFlat(d: u32, maxChecks: u32): u32 {
  start();
  if (!domainLive(d)) return finish(TE_NO_DOMAIN);
  if (maxChecks == 0) maxChecks = 1;
  let f = enterFix(d, FIXM_FLAT, DOM_FIX_CURSOR, 0);
  const frames = FRAMES;
  const col = COL_TYPE;
  const owner = d + OWNER_BIAS;
  const k = i32x4.splat(VALID_L4);
  while (f < frames) {
    const end = frames - f > 256 ? f + 256 : frames;
    visited += end - f;
    // Sixteen frames at a time while the block allows, then one by one.
    const end16 = end - ((end - f) & 15);
    for (; f < end16; f += 16) {
      if (anyOf16(col + (<usize>f << 2), k)) {
        for (let g = f; g < f + 16; g++) {
          if (load<u32>(col + (<usize>g << 2)) >>> 28 == VALID_L4 && load<u32>(COL_OWNER + (<usize>g << 2)) == owner) count(visit(g));
        }
      }
    }
    for (; f < end; f++) {
      if (load<u32>(col + (<usize>f << 2)) >>> 28 == VALID_L4 && load<u32>(COL_OWNER + (<usize>f << 2)) == owner) count(visit(f));
    }
    if (f < frames) {
      checks++;
      if (checks >= maxChecks) return restartFix(d, DOM_FIX_CURSOR, f);
    }
  }
  return doneFix(d, DOM_FIX_CURSOR, 0);
}

/** Visit the domain's L4 index (kept by promote/demote) only. */
export function fixIndexed(d: u32, maxChecks: u32): u32 {
  start();
  if (!domainLive(d)) return finish(TE_NO_DOMAIN);
  if (maxChecks == 0) maxChecks = 1;
  let c = enterFix(d, FIXM_INDEXED, DOM_FIX_CURSOR, domGet(d, DOM_L4_HEAD));
  let i: u32 = 0;
  while (c < RAM_FRAMES) {
    const f = c;
    c = l4NextOf(f);
    visited++;
    count(visit(f));
    if ((++i & 0xff) == 0 && c < RAM_FRAMES) {
      checks++;
      if (checks >= maxChecks) return restartFix(d, DOM_FIX_CURSOR, c);
    }
  }
  return doneFix(d, DOM_FIX_CURSOR, NULL);
}
