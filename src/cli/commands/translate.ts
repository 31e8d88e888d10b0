import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { loadImage, type ImageOptions } from '../image-engine.js';
import { addRootOptions, addWalkOptions, parseRootOptions, refuseGiven, resolveRoot, walkFlags, WALK_OPTION_NAMES, type RootOptions, type AccessOptions } from '../walk-options.js';
import { address, choice } from '../args.js';
import { describeTranslation, printJson, printLines } from '../output.js';
import { hex } from '../../util/numbers.js';
import { formatGva2gpa } from '../../images/qemu-format.js';
import type { TranslateResult, AccessKind } from '../../paging/types.js';
import type { BackendName } from '../../backends/backend.js';

interface Options extends RootOptions, ImageOptions, AccessOptions {
  image: string;
  backend: string;
  access: string;
  user?: boolean;
  json?: boolean;
  format: string;
}

const ACCESS: Record<string, AccessKind> = { r: 'read', w: 'write', x: 'execute' };

/** The --json form: one object per address. */
export function translationJson(r: TranslateResult): object {
  if (r.ok) {
    return { va: hex(r.va), pa: hex(r.pa), pageSize: r.pageSize, level: r.level, rights: { write: r.rights.write, user: r.rights.user, execute: r.rights.execute } };
  }
  const f = r.fault;
  return { va: hex(r.va), fault: { kind: f.kind, level: f.level, errorCode: f.errorCode, entryAddress: hex(f.entryAddress), entryValue: hex(f.entryValue) } };
}

/** Addresses on stdin, one a line; a bad one is named by its line number. */
export function stdinAddresses(): bigint[] {
  const text = readFileSync(0, 'utf8');
  const vas: bigint[] = [];
  text.split('\n').forEach((line, i) => {
    const t = line.replace(/#.*/, '').trim();
    if (t) vas.push(address(t, `stdin line ${i + 1}`));
  });
  return vas;
}

export function register(program: Command): void {
  const cmd = program
    .command('translate')
    .description('translate virtual addresses through the page tables of a memory image')
    .argument('<va...>', 'virtual addresses, or - to read them from stdin (one a line)');
  addRootOptions(cmd);
  addWalkOptions(cmd)
    .option('-a, --access <r|w|x>', 'kind of access to check', 'r')
    .option('-u, --user', 'a user-mode access (default: supervisor)')
    .option('--format <name>', "output: memwalk, or qemu-gva2gpa (the QEMU monitor's gva2gpa, one line per address)", 'memwalk')
    .addOption(new Option('-j, --json', 'print a JSON array, one object per address').conflicts('format'))
    .action(async (vaTexts: string[], o: Options) => {
      // `-`: the addresses come from stdin, one a line (blank lines and # comments skipped).
      const vas = vaTexts.length === 1 && vaTexts[0] === '-' ? stdinAddresses() : vaTexts.map((t) => address(t, 'VA'));
      const outFormat = choice(o.format, '--format', ['memwalk', 'qemu-gva2gpa'] as const);
      if (outFormat === 'qemu-gva2gpa') refuseGiven(cmd, [...WALK_OPTION_NAMES, 'access', 'user'], "with --format qemu-gva2gpa (QEMU's walk checks no rights)");
      const access = ACCESS[choice(o.access, '--access', ['r', 'w', 'x'] as const)]!;
      const backend = choice(o.backend, '--backend', ['wasm', 'reference'] as const) as BackendName;
      const rootChoice = parseRootOptions(o);
      const flags = walkFlags(o);
      const loaded = loadImage(o, backend);
      const { root, format } = resolveRoot(loaded, rootChoice);
      const e = loaded.engine;
      if (outFormat === 'qemu-gva2gpa') {
        // QEMU's debug walk: table bits 12..51, no reserved, rights or NX checks.
        printLines(vas.map((va) => formatGva2gpa(e.translate(root, va, { format, ignoreReserved: true }))));
        return;
      }
      const opts = { format, ...flags, access, user: Boolean(o.user) };
      const results = vas.map((va) => e.translate(root, va, opts));
      if (o.json) printJson(results.map(translationJson));
      else printLines(results.map(describeTranslation));
    });
}
