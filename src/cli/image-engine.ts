// How every command that takes --image opens it: by content (or --image-format),
// as an engine whose physical memory is a bounded frame cache over the file, so a
// dump of any size opens at once and only the frames a question needs are read.
import type { Command } from 'commander';
import { openDump, type Dump } from '../engine/open-dump.js';
import type { Engine } from '../engine/engine.js';
import type { BackendName } from '../backends/backend.js';
import type { QemuVcpu } from '../memory/vcpu.js';
import { DUMP_FORMATS, type DumpFormat } from '../dumps/detect.js';
import { InvalidInputError } from '../errors.js';
import { quote } from '../util/numbers.js';
import { choice, inputFile, size } from './args.js';
import { MIN_CACHE_BYTES } from '../memory/layout.js';

export interface LoadedImage {
  readonly dump: Dump;
  readonly engine: Engine;
  /** The path as given (for messages). */
  readonly path: string;
}

export interface ImageOptions {
  image: string;
  imageFormat?: string;
  cache?: string;
  xenFrames?: string;
}

/** -f/--image with --image-format and --cache: the options every command reading a dump shares. */
export function addImageOptions(cmd: Command, what = 'a memory dump'): Command {
  return cmd
    .requiredOption('-f, --image <file>', `${what}: raw, ELF core (QEMU dump-guest-memory), kdump (flattened or plain), LiME or Xen dump-core, found by content`)
    .option('--image-format <name>', `read the file as this format whatever its content says: ${DUMP_FORMATS.join(', ')}`)
    .option('--cache <size>', 'bytes of frame cache: memory stays bounded by it whatever the dump\'s size (default 256M)')
    .option('--xen-frames <view>', 'Xen dump-core: number frames as the guest does (guest) or by machine frame (machine, PV guests, whose CR3 is a machine address)');
}

/** Open the dump named by the options (headers only: frames are read when needed). */
export function loadImage(o: ImageOptions, backend: BackendName = 'wasm'): LoadedImage {
  const path = inputFile(o.image, '--image');
  const format = o.imageFormat === undefined ? undefined : (choice(o.imageFormat, '--image-format', DUMP_FORMATS) as DumpFormat);
  const cacheBytes = o.cache === undefined ? undefined : size(o.cache, '--cache');
  if (cacheBytes !== undefined && (cacheBytes < MIN_CACHE_BYTES || cacheBytes % 4096n !== 0n || cacheBytes >= 1n << 32n)) {
    throw new InvalidInputError(`--cache: ${o.cache} must be a multiple of 4K from 64K to below 4G`, { input: '--cache', value: o.cache });
  }
  const xenFrames = o.xenFrames === undefined ? undefined : choice(o.xenFrames, '--xen-frames', ['guest', 'machine'] as const);
  const dump = openDump(path, {
    backend,
    ...(format ? { format } : {}),
    ...(cacheBytes === undefined ? {} : { cacheBytes }),
    ...(xenFrames ? { xenFrames } : {}),
  });
  return { dump, engine: dump.engine, path };
}

/** The vCPU asked for with --cpu (default 0), for dumps that have vCPUs. */
export function pickVcpu(loaded: LoadedImage, cpu: number | undefined): QemuVcpu | undefined {
  const { vcpus, format } = loaded.dump.description;
  if (vcpus.length === 0) {
    if (cpu !== undefined) throw new InvalidInputError(`--cpu: ${quote(loaded.path)} is a ${format} image without vCPU state; give --cr3 and --paging`, { input: '--cpu' });
    return undefined;
  }
  const n = cpu ?? 0;
  if (n >= vcpus.length) {
    throw new InvalidInputError(`--cpu: ${n} is not a vCPU of ${quote(loaded.path)} (it has ${vcpus.length}: 0..${vcpus.length - 1})`, { input: '--cpu' });
  }
  return vcpus[n];
}
