import { Option, type Command } from 'commander';
import { loadImage, type ImageOptions } from '../image-engine.js';
import { addRootOptions, addWalkOptions, parseRootOptions, refuseGiven, resolveRoot, walkFlags, WALK_OPTION_NAMES, type RootOptions, type AccessOptions } from '../walk-options.js';
import { address, choice, integer } from '../args.js';
import { sizeAndRights, writeLines } from '../output.js';
import { hex, hex16, quote } from '../../util/numbers.js';
import { infoMemLines, infoTlbLines } from '../../images/qemu-format.js';
import { InvalidInputError } from '../../errors.js';
import type { Mapping } from '../../paging/types.js';
import type { BackendName } from '../../backends/backend.js';

interface Options extends RootOptions, ImageOptions, AccessOptions {
  image: string;
  backend: string;
  limit: string;
  range?: string;
  format: string;
  json?: boolean;
}

const DEFAULT_LIMIT = 1_000_000;

function describe(m: Mapping): string {
  return `${hex16(m.va)}-${hex16(BigInt.asUintN(64, m.va + BigInt(m.size)))} -> ${hex16(m.pa)} ${sizeAndRights(m.size, m.rights)}`;
}

/** `START..END`: a range of virtual addresses, START below END. */
export function vaRange(text: string): { start: bigint; end: bigint } {
  const parts = text.split('..');
  if (parts.length !== 2) throw new InvalidInputError(`--range: ${quote(text)} must be START..END (such as 0x400000..0x800000)`, { input: '--range' });
  const start = address(parts[0]!, '--range start');
  const end = address(parts[1]!, '--range end');
  if (end <= start) throw new InvalidInputError(`--range: the end ${hex(end)} must be above the start ${hex(start)}`, { input: '--range' });
  return { start, end };
}

export function register(program: Command): void {
  const cmd = program.command('mappings').description('list every leaf mapping of a page-table tree, every alias included, in address order');
  addRootOptions(cmd);
  addWalkOptions(cmd)
    .option('-n, --limit <n>', 'stop after n mappings (0: no limit)', String(DEFAULT_LIMIT))
    .option('-r, --range <va..va>', 'only leaves that overlap [start, end) (such as 0xffffffff80000000..0xffffffffc0000000)')
    .option('--format <name>', "output: memwalk, qemu-tlb (QEMU 7.2's `info tlb`) or qemu-mem (`info mem`)", 'memwalk')
    .addOption(new Option('-j, --json', 'print {"mappings":[...],"truncated":bool,"count":n}').conflicts('format'))
    .action(async (o: Options) => {
      const outFormat = choice(o.format, '--format', ['memwalk', 'qemu-tlb', 'qemu-mem'] as const);
      if (outFormat !== 'memwalk') refuseGiven(cmd, WALK_OPTION_NAMES, `with --format ${outFormat} (QEMU's listing checks only the present bit)`);
      const limit = integer(o.limit, '--limit');
      const range = o.range === undefined ? undefined : vaRange(o.range);
      const backend = choice(o.backend, '--backend', ['wasm', 'reference'] as const) as BackendName;
      const rootChoice = parseRootOptions(o);
      const flags = walkFlags(o);
      const loaded = loadImage(o, backend);
      const { root, format, paging } = resolveRoot(loaded, rootChoice);
      const e = loaded.engine;
      let n = 0;
      let truncated = false;
      const limited = function* (it: Iterable<Mapping>): Generator<Mapping> {
        for (const m of it) {
          if (range) {
            // Leaves come in ascending address order: skip those before the range, stop after it.
            if (m.va >= range.end) return;
            if (m.va + BigInt(m.size) <= range.start) continue;
          }
          if (limit && n === limit) {
            truncated = true;
            return;
          }
          n++;
          yield m;
        }
      };
      const limitNote = () => {
        // The listing goes to stdout; the limit note goes to stderr so pipes stay clean.
        if (truncated) process.stderr.write(`memwalk: note: listing stopped at the limit of ${limit} mappings; more exist (use --limit N, 0 for none)\n`);
      };
      if (outFormat !== 'memwalk') {
        if (paging !== '4' && paging !== '5') throw new InvalidInputError(`--format ${outFormat}: QEMU's listing is reproduced for 4- and 5-level paging only`, { input: '--format' });
        // QEMU's monitor walk: table and frame bits 12..49, nothing checked but P.
        const all = limited(e.mappingsIter(root, { format, ignoreReserved: true, maxPhyAddr: 50 }));
        const la57 = paging === '5';
        await writeLines(outFormat === 'qemu-tlb' ? infoTlbLines(all, la57) : infoMemLines(all, la57));
        limitNote();
        return;
      }
      const it = e.mappingsIter(root, { format, ...flags });
      if (o.json) {
        process.stdout.write('{"mappings":[\n');
        let first = true;
        await writeLines(
          (function* () {
            for (const m of limited(it)) {
              const r = m.rights;
              yield (first ? '' : ',') + JSON.stringify({ va: hex(m.va), pa: hex(m.pa), size: m.size, level: m.level, entry: hex(m.entry), rights: { write: r.write, user: r.user, execute: r.execute } });
              first = false;
            }
          })(),
        );
        process.stdout.write(`],"truncated":${truncated},"count":${n}}\n`);
      } else {
        await writeLines(
          (function* () {
            for (const m of limited(it)) yield describe(m);
          })(),
        );
        limitNote();
      }
    });
}
