/**
 * dom0's size in pages, from Xen 4.17's `dom0_mem=` option and the host's
 * available memory, as dom0_compute_nr_pages() decides it (without the paging
 * pass, which only shadow/PV-L1TF dom0s take).
 *
 * Grammar (Xen accepts the three items in any order, later ones win):
 *   dom0_mem = item { "," item }
 *   item     = [ "min:" | "max:" ] amount
 *   amount   = [ "-" ] ( size | pct "%" | size "+" pct "%" )
 * A size is read like Xen's parse_size_and_unit(): C integer syntax (0x hex,
 * leading-0 octal), then an optional unit B/K/M/G/T (either case); no unit
 * means KiB. A percentage must be below 100.
 */
import { InvalidInputError } from '../errors.js';

const U64 = (1n << 64n) - 1n;
const wrap = (x: bigint): bigint => x & U64;
const LONG_MAX = (1n << 63n) - 1n;
const PAGE_SHIFT = 12n;

/** One amount: Xen's struct memsize. */
export interface MemSize {
  /** Whole pages of the size part (bytes >> 12). */
  pages: bigint;
  /** Percentage of `avail`, 0..99. */
  percent: number;
  /** Leading "-": the amount is what remains of `avail` after subtracting. */
  minus: boolean;
}

export interface Dom0MemSpec {
  amount: MemSize;
  min: MemSize;
  max: MemSize;
}

const ZERO: MemSize = { pages: 0n, percent: 0, minus: false };
/** Xen's default for max: LONG_MAX pages, i.e. unlimited. */
const UNLIMITED: MemSize = { pages: LONG_MAX, percent: 0, minus: false };

export function defaultDom0Mem(): Dom0MemSpec {
  return { amount: { ...ZERO }, min: { ...ZERO }, max: { ...UNLIMITED } };
}

function bad(spec: string, part: string, rule: string): InvalidInputError {
  return new InvalidInputError(`dom0_mem '${spec}': '${part}' ${rule}`, { input: 'dom0_mem', value: spec, part });
}

const GRAMMAR = 'is not SIZE, PCT% or SIZE+PCT% (optionally after "-", "min:" or "max:")';

/** simple_strtoull(s, &end, 0): the digits at `pos`, in C's base-0 syntax. */
function readNumber(text: string, pos: number): { value: bigint; end: number } {
  let base = 10;
  let i = pos;
  if (text[i] === '0' && (text[i + 1] === 'x' || text[i + 1] === 'X') && /[0-9a-f]/i.test(text[i + 2] ?? '')) {
    base = 16;
    i += 2;
  } else if (text[i] === '0') {
    base = 8;
  }
  const digit = base === 16 ? /[0-9a-f]/i : base === 8 ? /[0-7]/ : /[0-9]/;
  let value = 0n;
  while (i < text.length && digit.test(text[i]!)) {
    value = value * BigInt(base) + BigInt(parseInt(text[i]!, 16));
    i++;
  }
  return { value, end: i };
}

const UNIT_SHIFT: Record<string, bigint> = { t: 40n, g: 30n, m: 20n, k: 10n, b: 0n };

/** Parse one amount starting at `pos`; returns it and where it ended (at "," or the end). */
function parseAmount(spec: string, pos: number, label: string): { size: MemSize; end: number } {
  const start = pos;
  const size: MemSize = { pages: 0n, percent: 0, minus: false };
  if (spec[pos] === '-') {
    size.minus = true;
    pos++;
  }
  let items = 0;
  for (;;) {
    const itemStart = pos;
    if (!/[0-9]/.test(spec[pos] ?? '')) {
      throw bad(spec, spec.slice(start, nextComma(spec, pos)) || (label === 'amount' ? '(empty)' : `${label}:`), GRAMMAR);
    }
    const { value, end } = readNumber(spec, pos);
    pos = end;
    const unit = (spec[pos] ?? '').toLowerCase();
    if (spec[pos] === '%') {
      if (value >= 100n) throw bad(spec, spec.slice(itemStart, pos + 1), 'is not a percentage below 100');
      size.percent = Number(value);
      pos++;
      items += 2; // a percentage must be the last item
    } else {
      if (items) throw bad(spec, spec.slice(start, nextComma(spec, pos)), 'has a size after the percentage (write SIZE+PCT%)');
      let bytes: bigint;
      if (unit in UNIT_SHIFT) {
        bytes = value << UNIT_SHIFT[unit]!;
        pos++;
      } else {
        bytes = value << 10n; // Xen's default unit is KiB
      }
      if (bytes > U64) throw bad(spec, spec.slice(itemStart, pos), 'does not fit in 64 bits');
      size.pages = bytes >> PAGE_SHIFT;
      items++;
    }
    if (spec[pos] === '+' && items < 2) {
      pos++;
      continue;
    }
    break;
  }
  if (pos < spec.length && spec[pos] !== ',') {
    throw bad(spec, spec.slice(start, nextComma(spec, pos)), GRAMMAR);
  }
  return { size, end: pos };
}

function nextComma(spec: string, pos: number): number {
  const c = spec.indexOf(',', pos);
  return c < 0 ? spec.length : c;
}

/** Parse a `dom0_mem=` value; throws InvalidInputError naming the bad part. */
export function parseDom0Mem(spec: string): Dom0MemSpec {
  const out = defaultDom0Mem();
  if (spec.length === 0) throw new InvalidInputError(`dom0_mem: the value is empty`, { input: 'dom0_mem', value: spec });
  let pos = 0;
  for (;;) {
    let target: keyof Dom0MemSpec = 'amount';
    if (spec.startsWith('min:', pos)) {
      target = 'min';
      pos += 4;
    } else if (spec.startsWith('max:', pos)) {
      target = 'max';
      pos += 4;
    }
    const { size, end } = parseAmount(spec, pos, target);
    out[target] = size;
    pos = end;
    if (pos >= spec.length) return out;
    pos++; // the ","
    if (pos >= spec.length) throw new InvalidInputError(`dom0_mem '${spec}': ends with a comma`, { input: 'dom0_mem', value: spec });
  }
}

/** Xen's get_memsize(): an amount in pages for a host with `avail` pages (64-bit wrapping). */
export function memSizePages(size: MemSize, avail: bigint): bigint {
  const pages = wrap(size.pages + (BigInt(size.percent) * avail & U64) / 100n);
  return size.minus ? wrap(avail - pages) : pages;
}

/** Xen's memsize_gt_zero(): a positive absolute size (a percentage alone does not count). */
export function memSizePositive(size: MemSize): boolean {
  return !size.minus && size.pages !== 0n;
}

/** What the legacy-kernel clipping needs to know about the kernel. */
export interface Dom0MemKernel {
  virtBase: bigint;
  kernelEnd: bigint;
  unmappedInitrd: boolean;
  /** The kernel has an INIT_P2M note (even a compat kernel, whose base Xen ignores only later). */
  hasInitP2m: boolean;
  compat: boolean;
  initrdLength: bigint;
}

export interface NrPagesResult {
  nrPages: bigint;
  /** d->max_pages: max clamped to 2^32 - 1. */
  maxPages: bigint;
  /** Set when Xen prints "Dom0 memory clipped to N pages". */
  clipped: boolean;
  messages: string[];
}

/**
 * dom0_compute_nr_pages(): the default keeps back 1/16 of `avail` (at most
 * 128 MiB), then min/max/avail clamp it, then legacy kernels (no INIT_P2M) are
 * clipped so the initial mapping leaves as much virtual space free as it uses.
 */
export function computeNrPages(spec: Dom0MemSpec, avail: bigint, kernel: Dom0MemKernel): NrPagesResult {
  let nr = memSizePages(spec.amount, avail);
  const minPages = memSizePages(spec.min, avail);
  const maxPages = memSizePages(spec.max, avail);
  if (nr === 0n) {
    const keep = avail / 16n < 32768n ? avail / 16n : 32768n;
    nr = wrap(avail - keep);
  }
  if (nr < minPages) nr = minPages;
  if (nr > maxPages) nr = maxPages;
  if (nr > avail) nr = avail;

  const messages: string[] = [];
  let clipped = false;
  if (!kernel.hasInitP2m && !memSizePositive(spec.amount) && (!memSizePositive(spec.min) || nr > minPages)) {
    const entry = kernel.compat ? 4n : 8n;
    const pup = (x: bigint) => wrap(x + 4095n) & ~4095n;
    const vstart = kernel.virtBase;
    let vend = pup(kernel.kernelEnd);
    if (!kernel.unmappedInitrd) vend = wrap(vend + pup(kernel.initrdLength));
    let end = wrap(vend + nr * entry);
    if (end > vstart) end = wrap(end + end - vstart);
    if (end <= vstart || (kernel.compat && end > 1n << 32n)) {
      const limit = kernel.compat ? 1n << 32n : 0n;
      nr = wrap(limit - vend) / (2n * entry);
      if (memSizePositive(spec.min) && nr < minPages) nr = minPages;
      clipped = true;
      messages.push(`Dom0 memory clipped to ${nr} pages`);
    }
  }
  return { nrPages: nr, maxPages: maxPages < 0xffffffffn ? maxPages : 0xffffffffn, clipped, messages };
}
