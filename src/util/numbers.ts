import { InvalidInputError } from '../errors.js';

const SUFFIX: Record<string, bigint> = {
  '': 1n,
  K: 1n << 10n,
  M: 1n << 20n,
  G: 1n << 30n,
  T: 1n << 40n,
  P: 1n << 50n,
};

/**
 * Parse an address or size as users write them: `0x8000_0000`, `4096`, `2G`,
 * `512M`, `8K`, `0x1000K`. Binary suffixes (K = 1024). Underscores separate digits.
 * Throws InvalidInputError naming `what` when the text is not such a number or
 * does not fit in `bits` bits.
 */
export function parseBig(text: string, what: string, bits = 64): bigint {
  const t = String(text).trim();
  const m = /^(0x[0-9a-f_]+|0b[01_]+|[0-9][0-9_]*)([kmgtp]i?b?)?$/i.exec(t);
  if (!m || /__|_$|^0x_|^_/i.test(m[1]!)) {
    throw new InvalidInputError(
      `${what}: '${text}' is not a number (expected decimal, 0x hex, or a size such as 2G, 512M, 8K)`,
      { input: what, value: text },
    );
  }
  const digits = m[1]!.replace(/_/g, '');
  const suffix = (m[2] ?? '').charAt(0).toUpperCase();
  const value = BigInt(digits) * SUFFIX[suffix]!;
  if (value >= 1n << BigInt(bits)) {
    throw new InvalidInputError(`${what}: '${text}' does not fit in ${bits} bits`, { input: what, value: text });
  }
  return value;
}

/** Like parseBig, for values that must also be safe JavaScript integers (counts, frame numbers). */
export function parseCount(text: string, what: string, max = Number.MAX_SAFE_INTEGER): number {
  const v = parseBig(text, what);
  if (v > BigInt(max)) {
    throw new InvalidInputError(`${what}: '${text}' is larger than the maximum ${max}`, { input: what, value: text });
  }
  return Number(v);
}

/** Lowercase hex with 0x prefix, the form every JSON output of memwalk uses. */
export function hex(v: bigint | number): string {
  return '0x' + BigInt(v).toString(16);
}

/** Zero-padded lowercase hex without prefix (C's %016lx). */
export function hex16(v: bigint | number, width = 16): string {
  return BigInt.asUintN(64, BigInt(v)).toString(16).padStart(width, '0');
}

/** Human size: 4096 -> "4K", 2097152 -> "2M". Exact binary units only, else bytes. */
export function sizeName(bytes: bigint | number): string {
  let b = BigInt(bytes);
  for (const [name, unit] of [['P', 1n << 50n], ['T', 1n << 40n], ['G', 1n << 30n], ['M', 1n << 20n], ['K', 1n << 10n]] as const) {
    if (b >= unit && b % unit === 0n) return `${b / unit}${name}`;
  }
  return `${b}`;
}

/** A hexadecimal value with or without 0x (`--cr3 13702000` and `--cr3 0x13702000` agree). */
export function parseHex(text: string, what: string, bits = 64): bigint {
  const t = String(text).trim();
  if (!/^(0x)?[0-9a-f]+(_[0-9a-f]+)*$/i.test(t)) {
    throw new InvalidInputError(`${what}: '${text}' is not a hexadecimal number`, { input: what, value: text });
  }
  return parseBig(t.toLowerCase().startsWith('0x') ? t : '0x' + t, what, bits);
}
