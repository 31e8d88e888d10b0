import { openImage, type MemoryImage, type QemuVcpu } from '../images/loader.js';
import { computeLayout } from '../engine/layout.js';
import { createEngine, type Engine } from '../engine/engine.js';
import type { BackendName } from '../backends/backend.js';
import { CapacityError, InvalidInputError } from '../errors.js';
import { hex, quote, sizeName } from '../util/numbers.js';
import { startProgress } from '../util/progress.js';
import { inputFile } from './args.js';

/** Segments may be left out only when they are this small: firmware ROMs, not RAM. */
const MAX_SKIPPED = 16n << 20n;

export interface LoadedImage {
  readonly image: MemoryImage;
  readonly engine: Engine;
  /** What was not loaded because it lies beyond the engine's memory (BIOS ROM below 4 GiB). */
  readonly skipped: readonly { pa: bigint; size: bigint }[];
}

const fits = (ram: bigint) => {
  try {
    computeLayout(Number(ram), Number(ram / 4096n));
    return true;
  } catch (e) {
    if (e instanceof CapacityError) return false;
    throw e;
  }
};

const pageUp = (v: bigint) => ((v + 4095n) / 4096n) * 4096n;

/**
 * Open a raw image or a QEMU ELF core and stream it into a new engine whose RAM
 * image covers it. Small segments beyond what fits in 4 GiB (the BIOS ROM of a
 * `pc` machine sits just below 4 GiB) are left out and read as zero: page tables
 * never live there, and `info` lists every segment. Anything larger is refused
 * before any allocation, with the sizes.
 */
export async function loadImage(path: string, backend: BackendName = 'wasm'): Promise<LoadedImage> {
  const image = openImage(inputFile(path, '--image'));
  let ram = pageUp(image.highestAddress);
  const kept = [...image.segments];
  while (!fits(ram) && kept.length > 1) {
    kept.pop();
    ram = pageUp(kept.at(-1)!.pa + kept.at(-1)!.size);
  }
  const skipped = image.segments.slice(kept.length).map((s) => ({ pa: s.pa, size: s.size }));
  const skippedBytes = skipped.reduce((a, s) => a + s.size, 0n);
  if (!fits(ram) || skippedBytes > MAX_SKIPPED) {
    throw new CapacityError(
      `${path}: the image reaches physical address ${hex(image.highestAddress)} (${sizeName(image.highestAddress)}); ` +
        `the engine's 4 GiB memory holds a RAM image of about 3.8 GiB at most: dumps larger than that are not supported yet`,
      { file: path, highestAddress: image.highestAddress },
    );
  }
  const engine = createEngine({ ramBytes: ram, backend });
  const bar = startProgress('loading image', Number(image.segments.reduce((a, s) => a + s.size, 0n) - skippedBytes), 'bytes');
  await image.loadInto(
    { ramBytes: ram, write: (pa, chunk) => engine.phys.write(pa, chunk) },
    (done) => bar.update(done),
    { clip: skipped.length > 0 },
  );
  bar.stop();
  return { image, engine, skipped };
}

/** The vCPU asked for with --cpu (default 0), for images that have vCPUs. */
export function pickVcpu(image: MemoryImage, cpu: number | undefined): QemuVcpu | undefined {
  if (image.vcpus.length === 0) {
    if (cpu !== undefined) throw new InvalidInputError(`--cpu: ${quote(image.path)} is a ${image.kind} image without vCPU state; give --cr3 and --paging`, { input: '--cpu' });
    return undefined;
  }
  const n = cpu ?? 0;
  if (n >= image.vcpus.length) {
    throw new InvalidInputError(`--cpu: ${n} is not a vCPU of ${quote(image.path)} (it has ${image.vcpus.length}: 0..${image.vcpus.length - 1})`, { input: '--cpu' });
  }
  return image.vcpus[n];
}
