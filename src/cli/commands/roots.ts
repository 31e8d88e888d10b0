import type { Command } from 'commander';
import { loadImage } from '../image-engine.js';
import { addRootSetOptions, discoverWithProgress, parseRootSet, resolveRootSet, type RootSetOptions } from '../root-set.js';
import { choice } from '../args.js';
import { printJson, printLines } from '../output.js';
import { hex, hex16, sizeName } from '../../util/numbers.js';
import type { BackendName } from '../../backends/backend.js';

interface Options extends RootSetOptions {
  image: string;
  json?: boolean;
}

/** Bytes for a table column: exact when a whole unit (4K, 2M, 1G), else to a tenth (6.4G). */
export function bytesName(b: bigint): string {
  const exact = sizeName(b);
  if (/^\d{1,4}[KMGTP]?$/.test(exact)) return exact;
  for (const [name, unit] of [['T', 2 ** 40], ['G', 2 ** 30], ['M', 2 ** 20], ['K', 2 ** 10]] as const) {
    if (Number(b) >= unit) return `${(Number(b) / unit).toFixed(1)}${name}`;
  }
  return exact;
}

export function register(program: Command): void {
  const cmd = program
    .command('roots')
    .description("find every top-level page table in the dump that shares the kernel half of a vCPU's root (x86-64), PTI user/kernel copies paired, with what each maps");
  addRootSetOptions(cmd, 'every vCPU')
    .option('-j, --json', 'print {"frames","spaces":[{"root","userRoot","known","differing","userBytes","kernelBytes",...}]}')
    .action(async (o: Options) => {
      const backend = choice(o.backend, '--backend', ['wasm', 'reference'] as const) as BackendName;
      const choiceOf = parseRootSet({ ...o, allRoots: false });
      const loaded = loadImage(o, backend);
      const { roots, format } = resolveRootSet(loaded, choiceOf, true);
      const d = discoverWithProgress(loaded, roots.map((r) => r.root), format, choiceOf.misses);
      const label = (known: readonly bigint[]) => known.map((k) => roots.find((r) => r.root === k)!.label).join(',') || '-';
      if (o.json) {
        printJson({
          frames: d.frames,
          spaces: d.spaces.map((s) => ({
            root: hex(s.root),
            userRoot: s.userRoot === undefined ? null : hex(s.userRoot),
            known: s.known.map((k) => ({ root: hex(k), as: label([k]) })),
            differing: s.differing,
            userBytes: Number(s.userBytes),
            kernelBytes: Number(s.kernelBytes),
            userMappings: s.userMappings,
            kernelMappings: s.kernelMappings,
          })),
        });
        return;
      }
      const lines = [`${'root'.padEnd(18)} ${'PTI user copy'.padEnd(18)} ${'known as'.padEnd(10)} ${'user'.padStart(8)} ${'kernel'.padStart(8)} ${'leaves'.padStart(16)}  differs`];
      for (const s of d.spaces) {
        lines.push(
          `${hex16(s.root).padEnd(18)} ${(s.userRoot === undefined ? '-' : hex16(s.userRoot)).padEnd(18)} ${label(s.known).padEnd(10)} ` +
            `${bytesName(s.userBytes).padStart(8)} ${bytesName(s.kernelBytes).padStart(8)} ${`${s.userMappings}+${s.kernelMappings}`.padStart(16)}  ${s.differing}`,
        );
      }
      lines.push(`${d.spaces.length} address spaces (${d.spaces.filter((s) => s.userRoot !== undefined).length} PTI pairs) in ${d.frames} frames scanned`);
      printLines(lines);
    });
}
