import { Option, type Command } from 'commander';
import { loadImage } from '../image-engine.js';
import { addRootSetOptions, parseRootSet, resolveRootSet, type RootSetOptions } from '../root-set.js';
import { choice, integer } from '../args.js';
import { printJson, writeLines, note } from '../output.js';
import { hex, hex16, quote } from '../../util/numbers.js';
import { searchVirtual, searchPhysical, type Match } from '../../address/search.js';
import { kernelHalfKey, upperHalf } from '../../address/reverse.js';
import { rootList } from './reverse.js';
import { InvalidInputError } from '../../errors.js';
import type { BackendName } from '../../backends/backend.js';

interface Options extends RootSetOptions {
  image: string;
  string?: string;
  hex?: string;
  physical?: boolean;
  limit: string;
  json?: boolean;
}

/** The pattern of --string (UTF-8) or --hex (pairs of hex digits, spaces allowed). */
export function patternOf(o: { string?: string; hex?: string }): Uint8Array {
  if (o.string !== undefined) {
    if (o.string === '') throw new InvalidInputError('--string: the pattern is empty', { input: '--string' });
    return new TextEncoder().encode(o.string);
  }
  const text = (o.hex ?? '').replace(/\s+/g, '').replace(/^0x/i, '');
  if (!/^([0-9a-fA-F]{2})+$/.test(text)) throw new InvalidInputError(`--hex: ${quote(o.hex ?? '')} must be pairs of hex digits (such as 7f454c46)`, { input: '--hex' });
  return Uint8Array.from(Buffer.from(text, 'hex'));
}

export function register(program: Command): void {
  const cmd = program
    .command('search')
    .description('find a byte pattern in the memory an address space maps (or in physical memory), matches across pages included');
  addRootSetOptions(cmd, 'vCPU 0')
    .addOption(new Option('-s, --string <text>', 'the pattern as UTF-8 text').conflicts('hex'))
    .option('-x, --hex <bytes>', 'the pattern as hex bytes (such as 7f454c46)')
    .option('--physical', 'search physical memory (no tables walked)')
    .option('-n, --limit <n>', 'stop after n matches (0: no limit)', '1000')
    .option('-j, --json', 'print {"matches":[{"va","pa","roots"}],"truncated":bool}')
    .action(async (o: Options) => {
      if (o.string === undefined && o.hex === undefined) throw new InvalidInputError('search: give the pattern with --string TEXT or --hex BYTES', { input: '--string' });
      const pattern = patternOf(o);
      const limit = integer(o.limit, '--limit');
      const backend = choice(o.backend, '--backend', ['wasm', 'reference'] as const) as BackendName;
      const choiceOf = parseRootSet(o);
      const loaded = loadImage(o, backend);
      const e = loaded.engine;
      const found: { m: Match; roots: bigint[] }[] = [];
      let truncated = false;
      let named: ReturnType<typeof resolveRootSet>['roots'] = [];
      if (o.physical) {
        if (choiceOf.cr3.length || choiceOf.cpus || choiceOf.allRoots) throw new InvalidInputError('--physical: no root is walked; leave out --cr3, --cpu and --all-roots', { input: '--physical' });
        const r = searchPhysical(e, pattern, { limit });
        for (const m of r.matches) found.push({ m, roots: [] });
        truncated = r.truncated;
      } else {
        const set = resolveRootSet(loaded, choiceOf, false);
        named = set.roots;
        const upper = upperHalf(e, { format: set.format });
        // Roots with the same kernel half: that half is searched once, its matches name them all.
        const groups = new Map<string, bigint[]>();
        for (const { root } of set.roots) {
          const key = kernelHalfKey(e, root, { format: set.format });
          const group = key === undefined ? undefined : groups.get(key);
          // Each root's first `limit` matches hold every match of the first `limit` overall.
          const r = searchVirtual(e, root, pattern, { format: set.format, limit, ...(group ? { to: upper } : {}) });
          truncated ||= r.truncated;
          const mine = group ?? [root];
          if (group) group.push(root);
          else if (key !== undefined) groups.set(key, mine);
          for (const m of r.matches) found.push({ m, roots: upper !== undefined && m.va >= upper ? mine : [root] });
        }
        found.sort((a, b) => (a.m.va < b.m.va ? -1 : a.m.va > b.m.va ? 1 : a.roots[0]! < b.roots[0]! ? -1 : 1));
        if (limit && found.length > limit) {
          found.length = limit;
          truncated = true;
        }
      }
      if (truncated) note(`listing stopped at ${limit} matches; more exist (use --limit N, 0 for none)`);
      if (o.json) {
        printJson({ matches: found.map(({ m, roots }) => (o.physical ? { pa: hex(m.pa) } : { va: hex(m.va), pa: hex(m.pa), roots: roots.map(hex) })), truncated });
        return;
      }
      await writeLines(
        (function* () {
          for (const { m, roots } of found) yield o.physical ? `pa ${hex16(m.pa)}` : `${hex16(m.va)} pa ${hex16(m.pa)}  root ${rootList(roots, named)}`;
        })(),
      );
      if (found.length === 0) note('no match');
    });
}
