// Accessors for the walk-parameter block (the format description written by the
// TS layer). Loads from a few hundred bytes that stay in L1 for a whole batch.
import {
  WP, WP_LEVELS, WP_ENTRY_BYTES, WP_FLAGS, WP_VA_BITS, WP_ROOT_MASK, WP_LEVEL_BASE, WP_LEVEL_STRIDE,
  WF_SIGN_EXTEND, LV_SHIFT,
} from '../../src/abi';
import { RAM_BYTES, phys } from '../shared/layout';

// @ts-ignore: decorator
@inline export function levels(): i32 { return <i32>load<u32>(WP + WP_LEVELS); }
// @ts-ignore: decorator
@inline export function entryBytes(): u32 { return load<u32>(WP + WP_ENTRY_BYTES); }
// @ts-ignore: decorator
@inline export function walkFlags(): u32 { return load<u32>(WP + WP_FLAGS); }
// @ts-ignore: decorator
@inline export function rootMask(): u64 { return load<u64>(WP + WP_ROOT_MASK); }
// @ts-ignore: decorator
@inline export function lv(i: i32): usize { return <usize>(WP + WP_LEVEL_BASE + i * WP_LEVEL_STRIDE); }
// @ts-ignore: decorator
@inline export function shiftOf(i: i32): u64 { return <u64>load<u32>(lv(i) + LV_SHIFT); }

/** Does `va` have the required form (sign- or zero-extended from VA_BITS)? */
export function canonical(va: u64): bool {
  const bits = <u64>load<u32>(WP + WP_VA_BITS);
  if (bits >= 64) return true;
  if (walkFlags() & WF_SIGN_EXTEND) {
    const top = <i64>va >> <i64>(bits - 1);
    return top == 0 || top == -1;
  }
  return (va >> bits) == 0;
}

/** Sign-extend a VA built from table indices into its canonical form. */
export function canonicalize(va: u64): u64 {
  const bits = <u64>load<u32>(WP + WP_VA_BITS);
  if (bits >= 64 || !(walkFlags() & WF_SIGN_EXTEND)) return va;
  return <u64>((<i64>(va << (64 - bits))) >> <i64>(64 - bits));
}

/** Read an entry; the caller has checked `ea + eb <= RAM_BYTES`. */
// @ts-ignore: decorator
@inline export function readEntry(ea: u64, eb: u32): u64 {
  return eb == 8 ? load<u64>(phys(ea)) : <u64>load<u32>(phys(ea));
}

// @ts-ignore: decorator
@inline export function writeEntry(ea: u64, eb: u32, v: u64): void {
  if (eb == 8) store<u64>(phys(ea), v);
  else store<u32>(phys(ea), <u32>v);
}

// @ts-ignore: decorator
@inline export function inImage(ea: u64, bytes: u64): bool {
  return ea < RAM_BYTES && bytes <= RAM_BYTES - ea;
}
