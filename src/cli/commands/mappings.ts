import type { Command } from 'commander';
import { loadImage } from '../image-engine.js';
import { addRootOptions, addWalkOptions, resolveRoot, walkOptions, type RootOptions, type AccessOptions } from '../walk-options.js';
import { choice } from '../output.js';
import { parseCount, hex, hex16, sizeName } from '../../util/numbers.js';
import { infoMemLines, infoTlbLines } from '../../images/qemu-format.js';
import { InvalidInputError } from '../../errors.js';
import type { Mapping } from '../../paging/types.js';
import type { BackendName } from '../../backends/backend.js';

interface Options extends RootOptions, AccessOptions {
  image: string;
  backend: string;
  limit: string;
  format: string;
  json?: boolean;
}

const DEFAULT_LIMIT = 1_000_000;

function describe(m: Mapping): string {
  const r = m.rights;
  return `${hex16(m.va)}-${hex16(BigInt.asUintN(64, m.va + BigInt(m.size)))} -> ${hex16(m.pa)} ${sizeName(m.size).padStart(2)} ${r.write ? 'w' : '-'}${r.execute ? 'x' : '-'}${r.user ? 'u' : 's'}`;
}

/** Write a large output without holding it: lines are flushed in blocks, respecting back-pressure. */
async function writeLines(lines: Iterable<string>): Promise<void> {
  let block = '';
  for (const line of lines) {
    block += line + '\n';
    if (block.length > 1 << 16) {
      if (!process.stdout.write(block)) await new Promise((r) => process.stdout.once('drain', r));
      block = '';
    }
  }
  process.stdout.write(block);
}

export function register(program: Command): void {
  const cmd = program.command('mappings').description('list every leaf mapping of a page-table tree, every alias included, in address order');
  addRootOptions(cmd);
  addWalkOptions(cmd)
    .option('--limit <n>', `stop after n mappings (0 = no limit; default ${DEFAULT_LIMIT})`, String(DEFAULT_LIMIT))
    .option('--format <name>', "memwalk (default), qemu-tlb (QEMU 7.2's `info tlb`) or qemu-mem (`info mem`)", 'memwalk')
    .option('--json', 'print {"mappings":[...],"truncated":bool}')
    .action(async (o: Options) => {
      const outFormat = choice(o.format, '--format', ['memwalk', 'qemu-tlb', 'qemu-mem'] as const);
      const limit = parseCount(o.limit, '--limit');
      const loaded = await loadImage(o.image, choice(o.backend, '--backend', ['wasm', 'reference'] as const) as BackendName);
      const { root, format, paging } = resolveRoot(loaded, o);
      const e = loaded.engine;
      if (outFormat !== 'memwalk') {
        if (paging !== '4' && paging !== '5') throw new InvalidInputError(`--format ${outFormat}: QEMU's listing is reproduced for 4- and 5-level paging only`);
        // QEMU's monitor walk: table and frame bits 12..49, nothing checked but P.
        const all = e.mappingsIter(root, { format, ignoreReserved: true, maxPhyAddr: 50 });
        const la57 = paging === '5';
        await writeLines(outFormat === 'qemu-tlb' ? infoTlbLines(all, la57) : infoMemLines(all, la57));
        return;
      }
      const opts = walkOptions(o, format);
      let n = 0;
      let truncated = false;
      const it = e.mappingsIter(root, opts);
      const limited = function* (): Generator<Mapping> {
        for (const m of it) {
          if (limit && n === limit) {
            truncated = true;
            return;
          }
          n++;
          yield m;
        }
      };
      if (o.json) {
        process.stdout.write('{"mappings":[\n');
        let first = true;
        await writeLines(
          (function* () {
            for (const m of limited()) {
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
            for (const m of limited()) yield describe(m);
          })(),
        );
        // Mappings go to stdout; the limit note goes to stderr so pipes stay clean.
        if (truncated) process.stderr.write(`memwalk: listing stopped at the limit of ${limit} mappings; more exist (use --limit N, 0 for none)\n`);
      }
    });
}
