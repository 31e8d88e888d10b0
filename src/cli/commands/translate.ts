import type { Command } from 'commander';
import { loadImage } from '../image-engine.js';
import { addRootOptions, addWalkOptions, resolveRoot, walkOptions, type RootOptions, type AccessOptions } from '../walk-options.js';
import { choice, printJson } from '../output.js';
import { parseBig, hex, hex16, sizeName } from '../../util/numbers.js';
import { formatGva2gpa } from '../../images/qemu-format.js';
import type { TranslateResult, AccessKind } from '../../paging/types.js';
import type { BackendName } from '../../backends/backend.js';

interface Options extends RootOptions, AccessOptions {
  image: string;
  backend: string;
  access: string;
  user?: boolean;
  json?: boolean;
  format: string;
}

const ACCESS: Record<string, AccessKind> = { r: 'read', w: 'write', x: 'execute' };

/** One line of memwalk's own format. */
export function describeTranslation(r: TranslateResult): string {
  if (r.ok) {
    const rt = r.rights;
    return `${hex16(r.va)} -> ${hex16(r.pa)}  ${sizeName(r.pageSize).padEnd(2)} ${rt.write ? 'w' : '-'}${rt.execute ? 'x' : '-'} ${rt.user ? 'user' : 'supervisor'}`;
  }
  const f = r.fault;
  return `${hex16(r.va)} fault ${f.kind} at level ${f.level} (entry ${hex(f.entryAddress)} = ${hex(f.entryValue)}), error code ${hex(f.errorCode)}`;
}

/** The --json form: one object per address. */
export function translationJson(r: TranslateResult): object {
  if (r.ok) {
    return { va: hex(r.va), pa: hex(r.pa), pageSize: r.pageSize, level: r.level, rights: { write: r.rights.write, user: r.rights.user, execute: r.rights.execute } };
  }
  const f = r.fault;
  return { va: hex(r.va), fault: { kind: f.kind, level: f.level, errorCode: f.errorCode, entryAddress: hex(f.entryAddress), entryValue: hex(f.entryValue) } };
}

export function register(program: Command): void {
  const cmd = program
    .command('translate')
    .description('translate virtual addresses through the page tables of a memory image')
    .argument('<va...>', 'virtual addresses (0x hex or decimal)');
  addRootOptions(cmd);
  addWalkOptions(cmd)
    .option('--access <r|w|x>', 'kind of access to check', 'r')
    .option('--user', 'a user-mode access (default supervisor)')
    .option('--format <name>', "output: memwalk (default) or qemu-gva2gpa (QEMU monitor's gva2gpa, one line per address)", 'memwalk')
    .option('--json', 'print a JSON array, one object per address')
    .action(async (vaTexts: string[], o: Options) => {
      const vas = vaTexts.map((t) => parseBig(t, `VA '${t}'`));
      const outFormat = choice(o.format, '--format', ['memwalk', 'qemu-gva2gpa'] as const);
      const loaded = await loadImage(o.image, choice(o.backend, '--backend', ['wasm', 'reference'] as const) as BackendName);
      const { root, format } = resolveRoot(loaded, o);
      const e = loaded.engine;
      if (outFormat === 'qemu-gva2gpa') {
        // QEMU's debug walk: table bits 12..51, no reserved, rights or NX checks.
        for (const va of vas) process.stdout.write(formatGva2gpa(e.translate(root, va, { format, ignoreReserved: true })) + '\n');
        return;
      }
      const opts = { ...walkOptions(o, format), access: ACCESS[choice(o.access, '--access', ['r', 'w', 'x'] as const)]!, user: Boolean(o.user) };
      const results = vas.map((va) => e.translate(root, va, opts));
      if (o.json) printJson(results.map(translationJson));
      else for (const r of results) process.stdout.write(describeTranslation(r) + '\n');
    });
}
