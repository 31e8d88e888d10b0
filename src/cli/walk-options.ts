import { Option, type Command } from 'commander';
import { x86_64, x86_64_la57 } from '../paging/formats/x86.js';
import { x86_pae, x86_32 } from '../paging/formats/x86-legacy.js';
import { aarch64_4k, aarch64_16k, aarch64_64k } from '../paging/formats/aarch64.js';
import type { PagingFormat } from '../paging/format.js';
import type { PagingOptions } from '../engine/engine.js';
import type { LoadedImage } from './image-engine.js';
import { addImageOptions, pickVcpu } from './image-engine.js';
import { InvalidInputError } from '../errors.js';
import { hex, quote } from '../util/numbers.js';
import { address, bit, choice, integer } from './args.js';

/** Paging modes the CLI accepts, by the name users type. */
export const PAGING: Record<string, PagingFormat> = {
  '4': x86_64,
  '5': x86_64_la57,
  pae: x86_pae,
  '32': x86_32,
  aarch64_4k,
  aarch64_16k,
  aarch64_64k,
};

const MODE_OF_VCPU: Record<string, string | undefined> = { '4-level': '4', '5-level': '5', pae: 'pae', '32-bit': '32' };

export interface RootOptions {
  cr3?: string;
  paging?: string;
  cpu?: string;
}

/** -f/--image, --cr3, -p/--paging, -c/--cpu, --backend: where the tables are. */
export function addRootOptions(cmd: Command): Command {
  return addImageOptions(cmd)
    .option('--cr3 <addr>', "root table register (default: the vCPU's CR3 from a QEMU dump)")
    .option('-p, --paging <mode>', `paging mode: ${Object.keys(PAGING).join(', ')} (default: the vCPU's from a QEMU dump, else 4)`)
    .addOption(new Option('-c, --cpu <n>', 'vCPU of a QEMU dump whose CR3 and paging mode to use (default: 0)').conflicts('cr3'))
    .option('--backend <name>', 'wasm or reference', 'wasm');
}

export interface RootChoice {
  readonly cr3?: bigint;
  readonly paging?: string;
  readonly cpu?: number;
}

/** Read the root options before any file is opened, so a typo fails at once. */
export function parseRootOptions(o: RootOptions): RootChoice {
  return {
    ...(o.cr3 === undefined ? {} : { cr3: address(o.cr3, '--cr3') }),
    ...(o.paging === undefined ? {} : { paging: choice(o.paging, '--paging', Object.keys(PAGING)) }),
    ...(o.cpu === undefined ? {} : { cpu: integer(o.cpu, '--cpu', 0, 0xffff) }),
  };
}

/** Resolve the root and the format from the options and the image's vCPU state. */
export function resolveRoot(loaded: LoadedImage, o: RootChoice): { root: bigint; format: PagingFormat; paging: string } {
  const vcpu = pickVcpu(loaded, o.cpu);
  let paging = o.paging;
  if (paging === undefined) {
    if (vcpu && o.cr3 === undefined) {
      paging = MODE_OF_VCPU[vcpu.pagingMode];
      if (!paging) throw new InvalidInputError(`--cpu ${vcpu.index}: the vCPU's paging mode is ${vcpu.pagingMode}; give --paging (${Object.keys(PAGING).join(', ')}) and --cr3`, { input: '--paging' });
    } else paging = '4';
  }
  const format = PAGING[paging]!;
  let root: bigint;
  if (o.cr3 !== undefined) root = o.cr3;
  else if (vcpu) root = vcpu.cr3;
  else throw new InvalidInputError(`--cr3: required for ${loaded.dump.description.format} image ${quote(loaded.path)} (it has no vCPU state)`, { input: '--cr3' });
  assertRootInDump(loaded, root, format, o.cr3 === undefined && vcpu ? `cpu ${vcpu.index}'s CR3` : '--cr3');
  return { root, format, paging };
}

/** Refuse a root whose table is not in the dump, naming where it came from (`--cr3`, a vCPU). */
export function assertRootInDump(loaded: LoadedImage, root: bigint, format: PagingFormat, from: string): void {
  const p = format.params();
  const table = root & p.rootMask;
  const rootBytes = BigInt(2 ** p.levels[0]!.bits * p.entryBytes);
  if (loaded.dump.ranges.some((r) => table >= r.start && table + rootBytes <= r.end)) return;
  const d = loaded.dump.description;
  // A PV guest's CR3 is a machine address: in the default guest-frame view it lands nowhere.
  const hint = d.format === 'xen-dump-core' && d.details?.['guest'] === 'pv' && d.details['frames'] === 'guest' ? "; a PV guest's CR3 is a machine address: add --xen-frames machine" : ' (see memwalk info)';
  throw new InvalidInputError(`${from}: ${hex(root)} puts the root table at ${hex(table)}, in no physical range of ${quote(loaded.path)}${hint}`, { input: '--cr3' });
}

export interface AccessOptions {
  maxphyaddr?: string;
  nxe?: string;
  wp?: string;
  smep?: string;
  smap?: string;
}

/** The walk options of paging.md: MAXPHYADDR, NXE, CR0.WP, SMEP, SMAP. */
export const WALK_OPTION_NAMES = ['maxphyaddr', 'nxe', 'wp', 'smep', 'smap'] as const;

export function addWalkOptions(cmd: Command): Command {
  return cmd
    .option('--maxphyaddr <n>', 'physical address width (default: 52 on x86, 48 on Arm)')
    .option('--nxe <0|1>', 'EFER.NXE', '1')
    .option('--wp <0|1>', 'CR0.WP', '1')
    .option('--smep <0|1>', 'CR4.SMEP', '0')
    .option('--smap <0|1>', 'CR4.SMAP', '0');
}

/**
 * Refuse options the user gave that `reason` makes meaningless (commander's
 * conflicts cannot depend on another option's value).
 */
export function refuseGiven(cmd: Command, names: readonly string[], reason: string): void {
  for (const name of names) {
    if (cmd.getOptionValueSource(name) === 'cli') {
      const flag = cmd.options.find((opt) => opt.attributeName() === name)?.long ?? `--${name}`;
      throw new InvalidInputError(`${flag}: not used ${reason}`, { input: flag });
    }
  }
}

/** The walk flags, read before any file is opened. */
export function walkFlags(o: AccessOptions): Omit<PagingOptions, 'format'> {
  const maxPhyAddr = o.maxphyaddr === undefined ? undefined : integer(o.maxphyaddr, '--maxphyaddr', 32, 52);
  return {
    ...(maxPhyAddr === undefined ? {} : { maxPhyAddr }),
    nxe: bit(o.nxe ?? '1', '--nxe'),
    wp: bit(o.wp ?? '1', '--wp'),
    smep: bit(o.smep ?? '0', '--smep'),
    smap: bit(o.smap ?? '0', '--smap'),
  };
}
