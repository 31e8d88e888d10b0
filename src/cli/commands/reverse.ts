import type { Command } from 'commander';
import { loadImage } from '../image-engine.js';
import { addRootSetOptions, parseRootSet, resolveRootSet, type NamedRoot, type RootSetOptions } from '../root-set.js';
import { address, choice, integer } from '../args.js';
import { printJson, writeLines, sizeAndRights, note } from '../output.js';
import { hex, hex16 } from '../../util/numbers.js';
import { reverseLookup } from '../../address/reverse.js';
import type { BackendName } from '../../backends/backend.js';

interface Options extends RootSetOptions {
  image: string;
  limit: string;
  json?: boolean;
}

/** Roots as a short list: `0x1000 (cpu0)`, or the first two and how many more. */
export function rootList(roots: readonly bigint[], named: readonly NamedRoot[]): string {
  const name = (r: bigint) => {
    const n = named.find((x) => x.root === r);
    return n && n.label !== 'found' ? `${hex(r)} (${n.label})` : hex(r);
  };
  if (roots.length <= 3) return roots.map(name).join(', ');
  return `${roots.slice(0, 2).map(name).join(', ')} and ${roots.length - 2} more`;
}

export function register(program: Command): void {
  const cmd = program
    .command('reverse')
    .description('list every virtual address that maps each physical address, under every vCPU\'s root (and --cr3 roots, --all-roots)')
    .argument('<pa...>', 'physical addresses');
  addRootSetOptions(cmd, 'every vCPU')
    .option('-n, --limit <n>', 'virtual addresses listed per physical address (0: no limit)', '10000')
    .option('-j, --json', 'print [{"pa","hits":[{"va","size","level","rights","roots"}]}]')
    .action(async (paTexts: string[], o: Options) => {
      const pas = paTexts.map((t) => address(t, 'PA'));
      const limit = integer(o.limit, '--limit');
      const backend = choice(o.backend, '--backend', ['wasm', 'reference'] as const) as BackendName;
      const choiceOf = parseRootSet(o);
      const loaded = loadImage(o, backend);
      const { roots, format } = resolveRootSet(loaded, choiceOf, true);
      const { results, truncated } = reverseLookup(loaded.engine, roots.map((r) => r.root), pas, { format, limit });
      if (truncated.length) note(`listing stopped at ${limit} virtual addresses for ${truncated.map(hex).join(', ')}; more exist (use --limit N, 0 for none)`);
      if (o.json) {
        printJson(
          results.map((r) => ({
            pa: hex(r.pa),
            hits: r.hits.map((h) => ({ va: hex(h.va), size: h.size, level: h.level, rights: { write: h.rights.write, user: h.rights.user, execute: h.rights.execute }, roots: h.roots.map(hex) })),
          })),
        );
        return;
      }
      await writeLines(
        (function* () {
          for (const r of results) {
            if (r.hits.length === 0) yield `${hex16(r.pa)} <- nothing: no virtual address maps it under ${rootList(roots.map((x) => x.root), roots)}`;
            for (const h of r.hits) yield `${hex16(r.pa)} <- ${hex16(h.va)} ${sizeAndRights(h.size, h.rights)}  root ${rootList(h.roots, roots)}`;
          }
        })(),
      );
    });
}
