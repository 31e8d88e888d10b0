// The roots a command that looks at several address spaces works over (reverse,
// search, roots): the vCPUs' CR3s, roots given with --cr3 (repeatable), and with
// --all-roots every root `memwalk roots` finds. One paging format for all of them.
import { Option, type Command } from 'commander';
import { addImageOptions, pickVcpu, type LoadedImage } from './image-engine.js';
import { PAGING, assertRootInDump } from './walk-options.js';
import { address, choice, integer } from './args.js';
import { InvalidInputError } from '../errors.js';
import { quote } from '../util/numbers.js';
import type { PagingFormat } from '../paging/format.js';
import { discoverRoots } from '../address/roots.js';
import { startProgress } from '../util/progress.js';

const MODE_OF_VCPU: Record<string, string | undefined> = { '4-level': '4', '5-level': '5', pae: 'pae', '32-bit': '32' };

export interface RootSetOptions {
  cr3?: string[];
  cpu?: string[];
  paging?: string;
  allRoots?: boolean;
  misses?: string;
  backend: string;
}

export interface NamedRoot {
  readonly root: bigint;
  /** How the user knows it: cpu0, --cr3, found. */
  readonly label: string;
}

const collect = (v: string, all: string[] | undefined) => [...(all ?? []), v];

/** --cr3 (repeatable), --cpu (repeatable), -p/--paging, --all-roots, --misses, --backend. */
export function addRootSetOptions(cmd: Command, defaults: string): Command {
  return addImageOptions(cmd)
    .option('--cr3 <addr>', 'a root table (repeatable)', collect)
    .option('-c, --cpu <n>', `a vCPU whose CR3 to use (repeatable; default: ${defaults})`, collect)
    .option('-p, --paging <mode>', `paging mode: ${Object.keys(PAGING).join(', ')} (default: vCPU 0's, else 4)`)
    .addOption(new Option('--all-roots', 'also every root that shares the kernel half of a vCPU\'s (see memwalk roots)'))
    .option('--misses <n>', 'with --all-roots: kernel-half entries a root may differ in (default 2)')
    .option('--backend <name>', 'wasm or reference', 'wasm');
}

export interface RootSetChoice {
  readonly cr3: readonly bigint[];
  readonly cpus?: readonly number[];
  readonly paging?: string;
  readonly allRoots: boolean;
  readonly misses: number;
}

/** Read the options before any file is opened. */
export function parseRootSet(o: RootSetOptions): RootSetChoice {
  return {
    cr3: (o.cr3 ?? []).map((t) => address(t, '--cr3')),
    ...(o.cpu === undefined ? {} : { cpus: o.cpu.map((t) => integer(t, '--cpu', 0, 0xffff)) }),
    ...(o.paging === undefined ? {} : { paging: choice(o.paging, '--paging', Object.keys(PAGING)) }),
    allRoots: Boolean(o.allRoots),
    misses: o.misses === undefined ? 2 : integer(o.misses, '--misses', 0, 255),
  };
}

/**
 * The roots: the vCPUs asked for (`everyVcpu`: all of them by default, else vCPU 0),
 * the --cr3 roots, and with --all-roots the discovered ones. The paging format is
 * --paging, else vCPU 0's.
 */
export function resolveRootSet(loaded: LoadedImage, o: RootSetChoice, everyVcpu: boolean): { roots: NamedRoot[]; format: PagingFormat; paging: string } {
  const vcpus = loaded.dump.vcpus;
  const wanted = o.cpus ?? (o.cr3.length ? [] : everyVcpu ? vcpus.map((v) => v.index) : vcpus.length ? [0] : []);
  const picked = wanted.map((n) => pickVcpu(loaded, n)!);
  let paging = o.paging;
  if (paging === undefined) {
    const v = picked[0] ?? vcpus[0];
    paging = v ? MODE_OF_VCPU[v.pagingMode] : '4';
    if (!paging) throw new InvalidInputError(`--paging: vCPU ${v!.index}'s paging mode is ${v!.pagingMode}; give --paging and --cr3`, { input: '--paging' });
  }
  const format = PAGING[paging]!;
  const roots: NamedRoot[] = [];
  const add = (root: bigint, label: string) => {
    if (!roots.some((r) => r.root === root)) roots.push({ root, label });
  };
  for (const v of picked) {
    if (v.root === null) throw new InvalidInputError(`--cpu ${v.index}: the vCPU has paging disabled`, { input: '--cpu' });
    add(v.cr3, `cpu${v.index}`);
  }
  for (const r of o.cr3) add(r, '--cr3');
  if (roots.length === 0) throw new InvalidInputError(`--cr3: required for ${quote(loaded.path)} (it has no vCPU state)`, { input: '--cr3' });
  for (const r of roots) assertRootInDump(loaded, r.root, format, r.label === '--cr3' ? '--cr3' : `cpu ${r.label.slice(3)}'s CR3`);
  if (o.allRoots) {
    const found = discoverWithProgress(loaded, roots.map((r) => r.root), format, o.misses);
    for (const s of found.spaces) add(s.root, 'found');
  }
  return { roots, format, paging };
}

/** discoverRoots with a progress bar on stderr (the scan reads every frame of the dump). */
export function discoverWithProgress(loaded: LoadedImage, known: readonly bigint[], format: PagingFormat, misses: number) {
  let bar: ReturnType<typeof startProgress> | undefined;
  try {
    return discoverRoots(loaded.engine, known, {
      format,
      misses,
      onProgress: (done, total) => {
        bar ??= startProgress('scanning frames for root tables', total, 'frames');
        bar.update(done);
      },
    });
  } finally {
    bar?.stop();
  }
}
