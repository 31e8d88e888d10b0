import { Option, type Command } from 'commander';
import { loadImage, type ImageOptions } from '../image-engine.js';
import { addRootOptions, addWalkOptions, parseRootOptions, refuseGiven, resolveRoot, walkFlags, WALK_OPTION_NAMES, type RootOptions, type AccessOptions } from '../walk-options.js';
import { address, choice, integer } from '../args.js';
import { stdoutSink, writeChunks } from '../output.js';
import { jsonBatch, jsonLines, lineBatch, memwalkLines } from '../mapping-bytes.js';
import { hex, quote } from '../../util/numbers.js';
import { infoMemBytes, infoTlbBytes } from '../../images/qemu-listing.js';
import { selectedBatches } from '../../paging/mapping-records.js';
import { InvalidInputError } from '../../errors.js';
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
      // The limit and the range are applied to the enumerator's records; no listing holds a mapping object.
      const sel = { limit, range };
      const counted = { count: 0, truncated: false };
      const limitNote = () => {
        // The listing goes to stdout; the limit note goes to stderr so pipes stay clean.
        if (counted.truncated) process.stderr.write(`memwalk: note: listing stopped at the limit of ${limit} mappings; more exist (use --limit N, 0 for none)\n`);
      };
      if (outFormat !== 'memwalk') {
        if (paging !== '4' && paging !== '5') throw new InvalidInputError(`--format ${outFormat}: QEMU's listing is reproduced for 4- and 5-level paging only`, { input: '--format' });
        // QEMU's monitor walk: table and frame bits 12..49, nothing checked but P.
        const monitor = { format, ignoreReserved: true, maxPhyAddr: 50 };
        const la57 = paging === '5';
        const listing = outFormat === 'qemu-tlb' ? infoTlbBytes : infoMemBytes;
        await writeChunks(listing(e, root, monitor, la57, sel, counted));
        limitNote();
        return;
      }
      const batches = selectedBatches(e, root, { format, ...flags }, sel, counted, o.json ? jsonBatch(e) : lineBatch(e));
      const { sink, pace } = stdoutSink();
      if (o.json) sink.text('{"mappings":[\n');
      let first = true;
      for (const b of batches) {
        if (o.json) jsonLines(e, b, sink, first);
        else memwalkLines(e, b, sink);
        first = false;
        if (sink.written && !(await pace())) return;
      }
      if (o.json) sink.text(`],"truncated":${counted.truncated},"count":${counted.count}}\n`);
      sink.flush();
      if (!o.json) limitNote();
    });
}
