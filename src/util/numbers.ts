import { InvalidInputError } from '../errors.js';

/**
 * The one number grammar of memwalk, for the CLI and for the library's string
 * options alike: `0x` then hex digits is hexadecimal, bare digits are decimal,
 * `_` may separate digits; where a size is meant a binary suffix may follow
 * (K, M, G, T, P, each also as KiB or KB: powers of 1024). Nothing else: no
 * sign, no spaces, no exponent, no fraction, no octal. Two spellings that would
 * be read other than their writer likely meant are refused rather than guessed:
 * hex digits without `0x` (`13702abc`) and a leading zero (`0400000`).
 */
export const NUMBER_RULE = 'Numbers: 0x... is hex, bare digits are decimal; sizes may end in K, M, G, T (KiB, MiB...: powers of 1024).';

export type NumberKind = 'address' | 'size' | 'count';

const SUFFIX: Record<string, bigint> = {
  '': 1n,
  K: 1n << 10n,
  M: 1n << 20n,
  G: 1n << 30n,
  T: 1n << 40n,
  P: 1n << 50n,
};

const GRAMMAR = /^(0x[0-9a-f]+(?:_[0-9a-f]+)*|[0-9]+(?:_[0-9]+)*)(?:([kmgtp])(?:i?b)?)?$/i;

/** `text` made safe for a one-line message: control and line-separator characters escaped. */
export function escapeText(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
    const code = c.charCodeAt(0);
    return named[c] ?? (code < 0x100 ? '\\x' + code.toString(16).padStart(2, '0') : '\\u' + code.toString(16));
  });
}

/** A value quoted for a one-line message: escaped, and cut when very long. */
export function quote(text: unknown): string {
  const s = typeof text === 'string' ? text : String(text);
  return `'${escapeText(s.length > 200 ? s.slice(0, 197) + '...' : s)}'`;
}

/**
 * Parse `text` by the grammar above as a `kind` of number: only a size takes a
 * suffix. Throws InvalidInputError naming `what` and the rule it broke.
 */
export function parseNumber(text: string, what: string, kind: NumberKind, bits = 64): bigint {
  const t = typeof text === 'string' ? text : String(text);
  const fail = (why: string): never => {
    throw new InvalidInputError(`${what}: ${quote(t)} ${why}`, { input: what, value: t });
  };
  const m = GRAMMAR.exec(t);
  if (!m) {
    if (/^[0-9a-f]+(?:_[0-9a-f]+)*$/i.test(t) && /[a-f]/i.test(t)) fail(`is not a number: hex needs 0x (0x${t.toLowerCase()})`);
    fail(`is not a number (${kind === 'size' ? '0x... hex, or decimal digits with an optional K, M, G or T' : '0x... hex or decimal digits'})`);
  }
  const digits = m![1]!;
  const suffix = (m![2] ?? '').toUpperCase();
  if (suffix && kind !== 'size') fail(`is not a number: size suffixes (K, M, G, T) are only for sizes (write ${kind === 'address' ? 'an address' : 'a count'} as 0x... hex or decimal digits)`);
  if (/^0[0-9]/.test(digits)) fail(`has a leading zero: write 0x${digits.replace(/^0+(?=.)/, '')} for hex, or drop the zeros for decimal`);
  const value = BigInt(digits.replace(/_/g, '')) * SUFFIX[suffix]!;
  if (value >= 1n << BigInt(bits)) fail(`does not fit in ${bits} bits`);
  return value;
}

/** An address (or any value where a suffix makes no sense): 0x hex or decimal. */
export function parseAddress(text: string, what: string, bits = 64): bigint {
  return parseNumber(text, what, 'address', bits);
}

/** A size in bytes: 0x hex or decimal, with an optional K/M/G/T/P suffix. */
export function parseSize(text: string, what: string, bits = 64): bigint {
  return parseNumber(text, what, 'size', bits);
}

/** A count (pages, processes, a seed, an index): 0x hex or decimal, at most `max`. */
export function parseInteger(text: string, what: string, max = Number.MAX_SAFE_INTEGER): number {
  const v = parseNumber(text, what, 'count');
  if (v > BigInt(max)) throw new InvalidInputError(`${what}: ${quote(text)} is larger than the maximum ${max}`, { input: what, value: text });
  return Number(v);
}

/** A size or address given as text (the library's string options): the grammar above, suffixes allowed. */
export function parseBig(text: string, what: string, bits = 64): bigint {
  return parseSize(text, what, bits);
}

/** Like parseBig, for values that must also be safe JavaScript integers (sizes in bytes, frame numbers). */
export function parseCount(text: string, what: string, max = Number.MAX_SAFE_INTEGER): number {
  const v = parseBig(text, what);
  if (v > BigInt(max)) {
    throw new InvalidInputError(`${what}: ${quote(text)} is larger than the maximum ${max}`, { input: what, value: text });
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
