import type { Command } from 'commander';
import { createEngine } from '../../engine/engine.js';
import { aarch64_4k } from '../../paging/formats/aarch64.js';
import { x86_64 } from '../../paging/formats/x86.js';
import type { PagingFormat } from '../../paging/format.js';
import { setupDirectMap, freeRanges, type DirectMapReport, type MemRange, type ReservedRange } from '../../xen/direct-map.js';
import { CapacityError, InvalidInputError } from '../../errors.js';
import { hex, quote, sizeName } from '../../util/numbers.js';
import { address, choice, size } from '../args.js';
import { printJson, printLines } from '../output.js';

/** By the names `translate --paging` uses. */
const FORMATS: Record<string, PagingFormat> = { '4': x86_64, aarch64_4k };

/** The RAM image never grows beyond this: the engine's one memory is at most 4 GiB. */
const MAX_IMAGE = 3n << 30n;
const PAGE = 4096n;

interface Options {
  paging: string;
  bank?: string[];
  reserved?: string[];
  alignBanks?: string;
  base?: string;
  backend: string;
  json?: boolean;
}

/** START:SIZE (START an address, SIZE a size), for --bank. */
function parseBank(text: string): MemRange {
  const parts = text.split(':');
  if (parts.length !== 2) throw new InvalidInputError(`--bank: ${quote(text)} is not START:SIZE (for example 0x80000000:2G)`, { input: '--bank', value: text });
  return { start: address(parts[0]!, '--bank start'), size: size(parts[1]!, '--bank size') };
}

/** START:SIZE[:nomap], for --reserved. */
function parseReserved(text: string): ReservedRange {
  const parts = text.split(':');
  if (parts.length < 2 || parts.length > 3 || (parts.length === 3 && parts[2]!.toLowerCase() !== 'nomap')) {
    throw new InvalidInputError(`--reserved: ${quote(text)} is not START:SIZE or START:SIZE:nomap`, { input: '--reserved', value: text });
  }
  return { start: address(parts[0]!, '--reserved start'), size: size(parts[1]!, '--reserved size'), noMap: parts.length === 3 };
}

/**
 * Build the direct map in an engine whose RAM image reaches far enough into the
 * banks' free pages to hold the tables: start with room for 64 tables above the
 * lowest free page, and grow by what a failed attempt says is missing, up to the
 * largest image the engine can hold; then the bank's own error stands.
 */
function build(o: Options, format: PagingFormat, banks: MemRange[], reserved: ReservedRange[], base: bigint): { report: DirectMapReport; ramBytes: bigint } {
  const free = freeRanges(banks, reserved);
  const low = free[0]?.start;
  /** Free bank bytes in [lo, hi): what growing the image from lo to hi can add. */
  const freeIn = (lo: bigint, hi: bigint) =>
    free.reduce((n, f) => n + ((f.end < hi ? f.end : hi) > (f.start > lo ? f.start : lo) ? (f.end < hi ? f.end : hi) - (f.start > lo ? f.start : lo) : 0n), 0n);
  if (low === undefined) throw new InvalidInputError('--bank: every bank is covered by reserved regions: there is no free page to hold the tables', { input: '--bank' });
  if (low >= MAX_IMAGE) {
    throw new InvalidInputError(
      `--bank: the lowest free bank page is ${hex(low)}, above the ${sizeName(MAX_IMAGE)} RAM image the engine can hold, where the tables must live`,
      { input: '--bank' },
    );
  }
  const backend = choice(o.backend, '--backend', ['wasm', 'reference'] as const);
  let extra = 64n;
  for (;;) {
    const want = low + extra * PAGE;
    const ramBytes = want >= MAX_IMAGE ? MAX_IMAGE : ((want + 0xffffn) / 0x10000n) * 0x10000n;
    const engine = createEngine({ ramBytes, ioBytes: 1 << 20, backend });
    try {
      const report = setupDirectMap({ engine, format, banks, reserved, base, ...(o.alignBanks ? { alignBanksTo: '1G' as const } : {}) });
      return { report, ramBytes };
    } catch (err) {
      // Not enough free pages lie inside the image yet: grow it by what is missing.
      if (!(err instanceof CapacityError) || typeof err.details.missing !== 'number' || freeIn(ramBytes, MAX_IMAGE) === 0n) throw err;
      extra += BigInt(err.details.missing as number) + 16n;
    }
  }
}

export function register(program: Command): void {
  program
    .command('direct-map')
    .description('map RAM banks into a hypervisor direct map (Xen\'s xenheap / directmap) with the largest leaves, and report the leaves, contiguous runs and table pages')
    .requiredOption('-p, --paging <mode>', `paging mode: 4 (x86-64 4-level) or aarch64_4k`)
    .requiredOption('--bank <range...>', 'a RAM bank, START:SIZE (for example 0x80000000:2G); repeat for more banks')
    .option('--reserved <region...>', 'a reserved region START:SIZE or START:SIZE:nomap, inside or outside the banks: never given to the boot allocator; with :nomap not mapped either')
    .option('--align-banks <size>', 'round every bank out to this size first, as the old setup_xenheap_mappings did (only 1G)')
    .option('--base <addr>', 'virtual address of physical address 0 (default: 0, virtual = physical)')
    .option('--backend <name>', 'wasm or reference', 'wasm')
    .option('-j, --json', 'print one JSON document')
    .action((o: Options) => {
      const format = FORMATS[choice(o.paging, '--paging', Object.keys(FORMATS))]!;
      const banks = (o.bank ?? []).map(parseBank);
      const reserved = (o.reserved ?? []).map(parseReserved);
      if (o.alignBanks !== undefined && size(o.alignBanks, '--align-banks') !== 1n << 30n) {
        throw new InvalidInputError(`--align-banks: ${quote(o.alignBanks)} is not supported (only 1G, the pre-rework rounding)`, { input: '--align-banks' });
      }
      const base = o.base === undefined ? 0n : address(o.base, '--base');
      let result: { report: DirectMapReport; ramBytes: bigint };
      try {
        result = build(o, format, banks, reserved, base);
      } catch (err) {
        // Name the option the user typed.
        if (err instanceof InvalidInputError && err.details.input === 'banks') throw new InvalidInputError(`--bank: ${err.message.replace(/^banks: /, '')}`, err.details as Record<string, unknown>);
        if (err instanceof InvalidInputError && err.details.input === 'base') throw new InvalidInputError(`--base: ${err.message.replace(/^base: /, '')}`, err.details as Record<string, unknown>);
        throw err;
      }
      const r = result.report;
      if (o.json) {
        printJson({
          format: r.format,
          base: r.base,
          root: r.root,
          leaves: r.leaves,
          contiguousRuns: r.contiguousRuns,
          tablePages: r.tablePages,
          tablePagesByBank: r.tablePagesByBank,
          mapped: r.mapped,
          aliased: r.aliased,
          freePages: r.freePages,
          ramImageBytes: result.ramBytes,
        });
        return;
      }
      printLines([
        `direct map (${r.format}) at base ${hex(r.base)}, root table at ${hex(r.root)}`,
        ...banks.map((b, i) => `  bank ${i}: [${hex(b.start)}, ${hex(b.start + b.size)}), ${r.tablePagesByBank[i]} table page(s) taken from it`),
        `mapped:  ${r.mapped.map((s) => `[${hex(s.start)}, ${hex(s.end)})`).join(' ')}`,
        `leaves:  ${Object.entries(r.leaves).map(([k, n]) => `${k} ${n}`).join(', ')}`,
        `contiguous runs: ${r.contiguousRuns}`,
        `table pages: ${r.tablePages}`,
        r.aliased.length
          ? `aliased (mapped but not usable RAM):\n${r.aliased.map((a) => `  [${hex(a.start)}, ${hex(a.end)}) ${a.kind}`).join('\n')}`
          : 'aliased: none',
      ]);
    });
}
