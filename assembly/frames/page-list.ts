// Domain page lists: doubly linked through the next/prev columns, head, tail and
// count in the domain record. The operations only link and unlink: ownership is
// the allocator's business (see allocation.ts).
import {
  DOM_HEAD, DOM_TAIL, DOM_COUNT, FR_COUNT, FR_NEXT, TE_OK, TE_NO_DOMAIN, TE_FRAME_RANGE, TE_NOT_ON_LIST,
} from '../../src/abi';
import { FRAMES, COL_NEXT } from '../shared/layout';
import {
  NULL, nextOf, prevOf, setNext, setPrev, domGet, domSet, domainLive, fr,
} from './state';

// @ts-ignore: decorator
@inline export function linkTail(d: u32, f: u32): void {
  const t = domGet(d, DOM_TAIL);
  setNext(f, NULL);
  setPrev(f, t);
  if (t >= FRAMES) domSet(d, DOM_HEAD, f); // FRAME_NULL (or a broken record): f is the first
  else setNext(t, f);
  domSet(d, DOM_TAIL, f);
  domSet(d, DOM_COUNT, domGet(d, DOM_COUNT) + 1);
}

// @ts-ignore: decorator
@inline export function linkHead(d: u32, f: u32): void {
  const h = domGet(d, DOM_HEAD);
  setPrev(f, NULL);
  setNext(f, h);
  if (h >= FRAMES) domSet(d, DOM_TAIL, f);
  else setPrev(h, f);
  domSet(d, DOM_HEAD, f);
  domSet(d, DOM_COUNT, domGet(d, DOM_COUNT) + 1);
}

/** Unlink the head; NULL when the list is empty. */
// @ts-ignore: decorator
@inline export function unlinkHead(d: u32): u32 {
  const f = domGet(d, DOM_HEAD);
  if (f >= FRAMES) return NULL;
  const n = nextOf(f);
  domSet(d, DOM_HEAD, n);
  if (n >= FRAMES) domSet(d, DOM_TAIL, NULL);
  else setPrev(n, NULL);
  setNext(f, NULL);
  setPrev(f, NULL);
  domSet(d, DOM_COUNT, domGet(d, DOM_COUNT) - 1);
  return f;
}

/** Unlink `f` from `d`'s list; TE_NOT_ON_LIST (nothing changed) when its links say it is not there. */
export function unlink(d: u32, f: u32): u32 {
  const p = prevOf(f), n = nextOf(f);
  if ((p != NULL && p >= FRAMES) || (n != NULL && n >= FRAMES)) return TE_NOT_ON_LIST;
  if (p == NULL ? domGet(d, DOM_HEAD) != f : nextOf(p) != f) return TE_NOT_ON_LIST;
  if (n == NULL ? domGet(d, DOM_TAIL) != f : prevOf(n) != f) return TE_NOT_ON_LIST;
  if (p == NULL) domSet(d, DOM_HEAD, n);
  else setNext(p, n);
  if (n == NULL) domSet(d, DOM_TAIL, p);
  else setPrev(n, p);
  setNext(f, NULL);
  setPrev(f, NULL);
  domSet(d, DOM_COUNT, domGet(d, DOM_COUNT) - 1);
  return TE_OK;
}

export function listAddHead(d: u32, f: u32): u32 {
  if (!domainLive(d)) return TE_NO_DOMAIN;
  if (f >= FRAMES) return TE_FRAME_RANGE;
  linkHead(d, f);
  return TE_OK;
}

export function listAddTail(d: u32, f: u32): u32 {
  if (!domainLive(d)) return TE_NO_DOMAIN;
  if (f >= FRAMES) return TE_FRAME_RANGE;
  linkTail(d, f);
  return TE_OK;
}

/** Remove and return the head (FRAME_NULL when empty or no such domain). */
export function listRemoveHead(d: u32): u32 {
  if (!domainLive(d)) return NULL;
  return unlinkHead(d);
}

export function listRemove(d: u32, f: u32): u32 {
  if (!domainLive(d)) return TE_NO_DOMAIN;
  if (f >= FRAMES) return TE_FRAME_RANGE;
  return unlink(d, f);
}

/**
 * Copy up to `max` frames of a list, starting at frame `from`, to `out` (u32 each).
 * Returns the count; FR_NEXT = the frame to continue from (FRAME_NULL at the end).
 */
export function listIterate(from: u32, out: usize, max: u32): u32 {
  let f = from;
  let n: u32 = 0;
  while (f < FRAMES && n < max) {
    store<u32>(out + (<usize>n << 2), f);
    n++;
    f = nextOf(f);
  }
  fr(FR_NEXT, f < FRAMES ? f : NULL);
  fr(FR_COUNT, n);
  return n;
}

/**
 * Follow the links from `from` for at most `max` frames reading only the next
 * column; returns the sum of the frame numbers visited (mod 2^32), FR_COUNT = steps.
 */
export function listChase(from: u32, max: u32): u32 {
  const base = COL_NEXT;
  const frames = FRAMES; // FRAME_NULL is above every frame: one compare ends the walk
  let f = from;
  let n: u32 = 0;
  let sum: u32 = 0;
  while (f < frames && n < max) {
    const nx = load<u32>(base + (<usize>f << 2));
    sum += f;
    n++;
    f = nx;
  }
  fr(FR_COUNT, n);
  return sum;
}
