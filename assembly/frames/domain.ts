// Domain records: create and destroy. A destroyed domain gives every frame it
// owns back to the free pool, whatever references they hold (the model's
// relinquish: no other domain can hold references to them).
import {
  DOM_MAX, DOM_FLAGS, DOM_HEAD, DOM_TAIL, DOM_COUNT, DOM_TOT_PAGES, DOM_L4_HEAD, DOM_L4_TAIL,
  DOM_STRIDE, DF_IN_USE, OWNER_NONE, OWNER_BIAS, TE_OK, TE_NO_DOMAIN, TE_DOMAIN_EXISTS,
} from '../../src/abi';
import { FRAMES, COL_OWNER } from '../shared/layout';
import {
  NULL, domGet, domSet, domainLive, nextOf, setNext, setPrev, setOwner, setCountInfo, setTypeInfo,
  l4NextOf, setL4Next, setL4Prev, RAM_FRAMES,
} from './state';

function clearRecord(d: u32): void {
  for (let o: u32 = 0; o < <u32>DOM_STRIDE; o += 4) domSet(d, o, 0);
  domSet(d, DOM_HEAD, NULL);
  domSet(d, DOM_TAIL, NULL);
  domSet(d, DOM_L4_HEAD, NULL);
  domSet(d, DOM_L4_TAIL, NULL);
}

/** Create domain `d` with DF_* `flags` (DF_IN_USE is implied). */
export function domainCreate(d: u32, flags: u32): u32 {
  if (d >= <u32>DOM_MAX) return TE_NO_DOMAIN;
  if (domainLive(d)) return TE_DOMAIN_EXISTS;
  clearRecord(d);
  domSet(d, DOM_FLAGS, flags | DF_IN_USE);
  return TE_OK;
}

// @ts-ignore: decorator
@inline function release(f: u32): void {
  setOwner(f, OWNER_NONE);
  setCountInfo(f, 0);
  setTypeInfo(f, 0);
  setNext(f, NULL);
  setPrev(f, NULL);
}

/**
 * Destroy domain `d`: every frame it owns becomes free (type none, no references),
 * its L4 index is emptied and its record cleared. Returns the frames released
 * (0 when there is no such domain).
 */
export function domainFree(d: u32): u32 {
  if (!domainLive(d)) return 0;
  // The L4 index first (its links live beside the frame columns).
  let x = domGet(d, DOM_L4_HEAD);
  let guard: u32 = 0;
  while (x < RAM_FRAMES && guard < RAM_FRAMES) {
    const n = l4NextOf(x);
    setL4Next(x, NULL);
    setL4Prev(x, NULL);
    x = n;
    guard++;
  }
  const owner = d + OWNER_BIAS;
  let released: u32 = 0;
  const col = COL_OWNER;
  const frames = FRAMES;
  if (<u64>domGet(d, DOM_TOT_PAGES) * 4 >= <u64>frames) {
    // A large domain: one sequential pass over the owner column beats chasing its list.
    for (let g: u32 = 0; g < frames; g++) {
      if (load<u32>(col + (<usize>g << 2)) == owner) {
        release(g);
        released++;
      }
    }
  } else {
    let f = domGet(d, DOM_HEAD);
    let steps: u32 = 0;
    const listed = domGet(d, DOM_COUNT);
    while (f < frames && steps <= listed) {
      const n = nextOf(f);
      if (load<u32>(col + (<usize>f << 2)) == owner) {
        release(f);
        released++;
      }
      f = n;
      steps++;
    }
    // Frames the domain owns but that are not on its list (a list was edited by hand).
    if (released != domGet(d, DOM_TOT_PAGES)) {
      for (let g: u32 = 0; g < frames; g++) {
        if (load<u32>(col + (<usize>g << 2)) == owner) {
          release(g);
          released++;
        }
      }
    }
  }
  clearRecord(d);
  return released;
}
