// Giving frames to a domain and taking them back. A free frame has owner
// OWNER_NONE; an allocated one has its owner, count_info = allocated | 1 (the
// allocation reference) and sits on its owner's page list. Every call is all or
// nothing: a frame that is not free makes it undo what it did and report that frame.
import {
  OWNER_NONE, OWNER_BIAS, PGC_ALLOCATED, PGT_COUNT_MASK, PGT_PINNED, PGT_LOCKED, PGT_PARTIAL,
  DOM_TOT_PAGES, DOM_TAIL, DOM_HEAD, DOM_COUNT, ORDER_RANDOM, FR_ERR_FRAME,
  TE_OK, TE_NO_DOMAIN, TE_FRAME_RANGE, TE_NOT_FREE, TE_NOT_ALLOCATED, TE_IN_USE, TE_NOT_ON_LIST,
} from '../../src/abi';
import { FRAMES, COL_NEXT, COL_PREV, COL_OWNER } from '../shared/layout';
import {
  NULL, ownerOf, setOwner, setCountInfo, setTypeInfo, typeInfo, countInfo, domGet, domSet, domainLive, fr,
} from './state';
import { linkTail, unlink } from './page-list';
import { permSetup, perm } from './permutation';

/** Element k of a pattern: frame first + (k / chunk) * stride + k % chunk. */
// @ts-ignore: decorator
@inline function patternFrame(first: u32, chunk: u32, stride: u32, k: u32): u32 {
  return chunk == 1 ? first + k * stride : first + (k / chunk) * stride + (k % chunk);
}

/**
 * Claim pattern elements [kFrom, kTo) for `d` (owner, count_info = allocated | 1,
 * type none) in ascending order: the first half of an allocation, sequential in
 * memory. The frames join no list yet (allocLink does that). All or nothing.
 */
export function allocClaim(d: u32, first: u32, chunk: u32, stride: u32, kFrom: u32, kTo: u32): u32 {
  if (!domainLive(d)) return TE_NO_DOMAIN;
  if (chunk == 0) chunk = 1;
  const o = d + OWNER_BIAS;
  const none = OWNER_NONE;
  const frames = FRAMES;
  for (let k = kFrom; k < kTo; k++) {
    const f = patternFrame(first, chunk, stride, k);
    if (f >= frames || ownerOf(f) != none) {
      for (let b = kFrom; b < k; b++) {
        const g = patternFrame(first, chunk, stride, b);
        setOwner(g, none);
        setCountInfo(g, 0);
      }
      fr(FR_ERR_FRAME, f);
      return f >= frames ? TE_FRAME_RANGE : TE_NOT_FREE;
    }
    setOwner(f, o);
    setCountInfo(f, PGC_ALLOCATED | 1);
    setTypeInfo(f, 0);
  }
  domSet(d, DOM_TOT_PAGES, domGet(d, DOM_TOT_PAGES) + (kTo - kFrom));
  return TE_OK;
}

/**
 * Append list positions [jFrom, jTo) of a claimed pattern of `count` elements to
 * `d`'s page list: position j holds element j (ORDER_ASCENDING) or element perm(j)
 * of the seeded permutation (ORDER_RANDOM). Only the two link columns are written.
 */
export function allocLink(d: u32, first: u32, chunk: u32, stride: u32, count: u32, jFrom: u32, jTo: u32, order: u32, seed: u32): u32 {
  if (!domainLive(d)) return TE_NO_DOMAIN;
  if (jFrom >= jTo) return TE_OK;
  if (chunk == 0) chunk = 1;
  const random = order == ORDER_RANDOM;
  if (random) permSetup(count, seed);
  const next = COL_NEXT, prev = COL_PREV;
  let t = domGet(d, DOM_TAIL);
  let f = patternFrame(first, chunk, stride, random ? perm(jFrom) : jFrom);
  if (t == NULL) domSet(d, DOM_HEAD, f);
  else store<u32>(next + (<usize>t << 2), f);
  for (let j = jFrom; j < jTo; j++) {
    const j1 = j + 1;
    const nf = j1 < jTo ? patternFrame(first, chunk, stride, random ? perm(j1) : j1) : NULL;
    store<u32>(prev + (<usize>f << 2), t);
    store<u32>(next + (<usize>f << 2), nf);
    t = f;
    f = nf;
  }
  domSet(d, DOM_TAIL, t);
  domSet(d, DOM_COUNT, domGet(d, DOM_COUNT) + (jTo - jFrom));
  return TE_OK;
}

/** The first frame of a pattern (ascending k) that is not free, or FRAME_NULL. */
export function allocCheck(first: u32, chunk: u32, stride: u32, count: u32): u32 {
  if (chunk == 0) chunk = 1;
  const frames = FRAMES;
  const col = COL_OWNER;
  for (let k: u32 = 0; k < count; k++) {
    const f = patternFrame(first, chunk, stride, k);
    if (f >= frames || load<u32>(col + (<usize>f << 2)) != OWNER_NONE) return f;
  }
  return NULL;
}

/**
 * Allocate the `n` frames listed (u32 each) at `ptr` to `d`, in that order: first
 * claim them all (a frame not free, or listed twice, undoes the claims), then
 * link them, so a refusal leaves every column as it was.
 */
export function allocList(d: u32, ptr: usize, n: u32): u32 {
  if (!domainLive(d)) return TE_NO_DOMAIN;
  const o = d + OWNER_BIAS;
  for (let i: u32 = 0; i < n; i++) {
    const f = load<u32>(ptr + (<usize>i << 2));
    if (f >= FRAMES || ownerOf(f) != OWNER_NONE) {
      for (let b: u32 = 0; b < i; b++) {
        const g = load<u32>(ptr + (<usize>b << 2));
        setOwner(g, OWNER_NONE);
        setCountInfo(g, 0);
      }
      fr(FR_ERR_FRAME, f);
      return f >= FRAMES ? TE_FRAME_RANGE : TE_NOT_FREE;
    }
    setOwner(f, o);
    setCountInfo(f, PGC_ALLOCATED | 1);
    setTypeInfo(f, 0);
  }
  for (let i: u32 = 0; i < n; i++) linkTail(d, load<u32>(ptr + (<usize>i << 2)));
  domSet(d, DOM_TOT_PAGES, domGet(d, DOM_TOT_PAGES) + n);
  return TE_OK;
}

/**
 * Free one frame: it must hold only its allocation reference (no type reference,
 * not pinned or locked) and be on its owner's list.
 */
export function freeFrame(f: u32): u32 {
  fr(FR_ERR_FRAME, f);
  if (f >= FRAMES) return TE_FRAME_RANGE;
  const o = ownerOf(f);
  if (o == OWNER_NONE) return TE_NOT_ALLOCATED;
  const d = o - OWNER_BIAS;
  if (!domainLive(d)) return TE_NO_DOMAIN;
  if ((typeInfo(f) & (PGT_COUNT_MASK | PGT_PINNED | PGT_LOCKED | PGT_PARTIAL)) != 0) return TE_IN_USE;
  if (countInfo(f) != (PGC_ALLOCATED | 1)) return TE_IN_USE;
  const rc = unlink(d, f);
  if (rc != TE_OK) return TE_NOT_ON_LIST;
  setOwner(f, OWNER_NONE);
  setCountInfo(f, 0);
  setTypeInfo(f, 0);
  domSet(d, DOM_TOT_PAGES, domGet(d, DOM_TOT_PAGES) - 1);
  return TE_OK;
}

