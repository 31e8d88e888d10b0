// Accessors for the walk-parameter block (the format description written by the
// TS layer). Loads from a few hundred bytes that stay in L1 for a whole batch.
import {
  WP, WP_LEVELS, WP_ENTRY_BYTES, WP_FLAGS, WP_VA_BITS, WP_ROOT_MASK, WP_LEVEL_BASE, WP_LEVEL_STRIDE,
  WF_SIGN_EXTEND, LV_SHIFT, LV_VALID_MASK, LV_VALID_VALUE, LV_LEAF_ALLOWED, LV_LEAF_MASK, LV_LEAF_VALUE,
} from '../../src/abi';

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

/** The entry at wasm address `a` (from physAddr), `eb` bytes wide. */
// @ts-ignore: decorator
@inline export function loadEntry(a: usize, eb: u32): u64 {
  return eb == 8 ? load<u64>(a) : <u64>load<u32>(a);
}

/** Store an entry at wasm address `a` (from physWriteAddr). */
// @ts-ignore: decorator
@inline export function storeEntry(a: usize, eb: u32, v: u64): void {
  if (eb == 8) store<u64>(a, v);
  else store<u32>(a, <u32>v);
}

// @ts-ignore: decorator
@inline export function isValid(L: usize, e: u64): bool {
  return (<u32>e & load<u32>(L + LV_VALID_MASK)) == load<u32>(L + LV_VALID_VALUE);
}

/** Is the valid entry `e` a leaf at level record `L`? */
// @ts-ignore: decorator
@inline export function isLeaf(L: usize, e: u64): bool {
  return load<u32>(L + LV_LEAF_ALLOWED) != 0 && (<u32>e & load<u32>(L + LV_LEAF_MASK)) == load<u32>(L + LV_LEAF_VALUE);
}
