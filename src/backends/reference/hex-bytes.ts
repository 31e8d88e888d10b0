// Hex digits written as ASCII bytes, for the reference twins of the listing
// formatters (the kernels share assembly/paging/qemu-tlb.ts's hex8).

/** The ASCII codes of '0'..'9', 'a'..'f'. */
export const HEX_DIGITS: readonly number[] = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

/** The 8 hex digits of the u32 `v` into u8[o..o+8). */
export function writeHex8(u8: Uint8Array, o: number, v: number): void {
  for (let k = 0; k < 8; k++) u8[o + k] = HEX_DIGITS[(v >>> (28 - 4 * k)) & 0xf]!;
}
