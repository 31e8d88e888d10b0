// The large-guest builder: a 64-bit PV guest whose page list holds all its
// frames, with a real, validated L4..L1 tree per process. Table frames come from
// the RAM image (their contents are real); data frames are metadata only. The
// per-frame work (allocation, validation) runs in the kernels, so a 512 GiB guest
// (128M frames) builds in seconds.
import * as A from '../abi.js';
import type { Engine, EngineOptions } from '../engine/engine.js';
import { CapacityError, InvalidInputError } from '../errors.js';
import { hex, parseBig, sizeName } from '../util/numbers.js';
import { startProgress, type ProgressCallback } from '../util/progress.js';
import { computeLayout, MAX_MEMORY } from '../memory/layout.js';
import { allocate, patternFrame, type FramePattern } from '../frames/allocation.js';
import { pin } from '../frames/type-system.js';
import * as X86 from '../paging/formats/x86-bits.js';

export type GuestOrder = 'ascending' | 'random' | 'interleaved';
export const GUEST_ORDERS: readonly GuestOrder[] = ['ascending', 'random', 'interleaved'];

export interface GuestOptions {
  /** Guest memory: bytes, or a size such as '256G' (a multiple of 4 KiB). */
  readonly memory: number | bigint | string;
  /** Processes, each with its own L4 tree (default 16). */
  readonly processes?: number;
  /**
   * Order of the page list: frames in ascending order, in a seeded random order,
   * or ascending but interleaved with other domains' frames (every
   * `interleave.domains`-th chunk is the guest's).
   */
  readonly order?: GuestOrder;
  /** L4 tables whose RO_MPT slot is already set when the build ends (as after an earlier call; default 0). */
  readonly prefilledL4s?: number;
  readonly seed?: number;
  /** Domain id of the guest (default 1); interleaving companions take the next ids. */
  readonly domain?: number;
  /** First frame of the guest's pattern (default 0). */
  readonly firstFrame?: number;
  /** Data pages each process maps writable at 0x400000 (default 16). */
  readonly userPages?: number;
  /** Kernel pages mapped at 0xffffffff80000000 by one tree every process shares (default 512). */
  readonly kernelPages?: number;
  readonly interleave?: { readonly domains?: number; readonly chunk?: number };
  /** The domain's m2p-strict flag while its tables are pinned (default false: the restore case). */
  readonly m2pStrict?: boolean;
  readonly onProgress?: ProgressCallback;
}

export interface GuestProcess {
  readonly l4: number;
  readonly l3: number;
  readonly l2: number;
  readonly l1s: readonly number[];
  /** CR3 value (the L4's physical address) for translate(). */
  readonly cr3: bigint;
}

export interface Guest {
  readonly domain: number;
  readonly memoryBytes: number;
  readonly frames: number;
  readonly order: GuestOrder;
  readonly pattern: FramePattern;
  /** Page-table frames (all in the RAM image). */
  readonly tableFrames: number;
  readonly processes: readonly GuestProcess[];
  /** The shared kernel tree: L3, L2 and L1s. */
  readonly kernel: { readonly l3: number; readonly l2: number; readonly l1s: readonly number[] };
  /** L4 frames, by process. */
  readonly l4s: readonly number[];
  /** Processes whose L4 got the RO_MPT slot set after pinning. */
  readonly prefilled: readonly number[];
  readonly companions: readonly number[];
  readonly elapsedMs: number;
}

export const USER_VA = 0x400000n;
export const KERNEL_VA = 0xffffffff80000000n;
const TABLE_ENTRY = Number(X86.P | X86.RW | X86.US | X86.A);
const USER_LEAF = Number(X86.P | X86.RW | X86.US | X86.A | X86.D);
const KERNEL_LEAF = Number(X86.P | X86.RW | X86.A | X86.D);

interface Plan {
  readonly guestFrames: number;
  readonly processes: number;
  readonly userPages: number;
  readonly kernelPages: number;
  readonly userL1s: number;
  readonly kernelL1s: number;
  readonly tables: number;
  readonly mapped: number;
  readonly domains: number;
  readonly chunk: number;
  readonly pattern: FramePattern;
  /** Frames the engine needs: the highest pattern frame of any domain + 1. */
  readonly framesNeeded: number;
  /** RAM image bytes the tables need: the last table frame + 1, in bytes. */
  readonly ramNeeded: number;
}

function whole(v: number, what: string, min: number, max = 0xffffffff): number {
  if (!Number.isSafeInteger(v) || v < min || v > max) {
    throw new InvalidInputError(`${what}: ${v} must be a whole number from ${min} to ${max}`, { input: what, value: v });
  }
  return v;
}

/** Bytes of a size given as number, bigint or text ('256G'). */
export function sizeBytes(v: number | bigint | string, what: string): number {
  const b = typeof v === 'string' ? parseBig(v, what) : BigInt(v);
  if (b > BigInt(Number.MAX_SAFE_INTEGER) || b < 0n) throw new InvalidInputError(`${what}: ${v} is out of range`, { input: what });
  return Number(b);
}

/** Compute the guest's shape and what the engine needs, or refuse the options. */
export function planGuest(options: GuestOptions): Plan {
  const bytes = sizeBytes(options.memory, 'memory');
  if (bytes <= 0 || bytes % 4096 !== 0) {
    throw new InvalidInputError(`memory: ${options.memory} must be a positive multiple of 4 KiB`, { input: 'memory', value: options.memory });
  }
  const guestFrames = bytes / 4096;
  if (guestFrames > 2 ** 31) throw new CapacityError(`memory: ${options.memory} is more than 8 TiB (2^31 frames)`, { input: 'memory' });
  const order = options.order ?? 'ascending';
  if (!GUEST_ORDERS.includes(order)) {
    throw new InvalidInputError(`order: '${order}' is not one of ${GUEST_ORDERS.join(', ')}`, { input: 'order', value: order });
  }
  const processes = whole(options.processes ?? 16, 'processes', 1, 1 << 20);
  const userPages = whole(options.userPages ?? 16, 'userPages', 0, 512 * 512);
  const kernelPages = whole(options.kernelPages ?? 512, 'kernelPages', 0, 512 * 512);
  const userL1s = Math.ceil(userPages / 512);
  const kernelL1s = Math.ceil(kernelPages / 512);
  const tables = 2 + kernelL1s + processes * (3 + userL1s);
  const mapped = kernelPages + processes * userPages;
  if (tables + mapped > guestFrames) {
    throw new CapacityError(
      `processes: ${processes} processes need ${tables} table frames and ${mapped} mapped data frames, more than the guest's ${guestFrames} frames`,
      { input: 'processes', tables, mapped, guestFrames },
    );
  }
  const interleaved = order === 'interleaved';
  const domains = interleaved ? whole(options.interleave?.domains ?? 2, 'interleave.domains', 2, 64) : 1;
  const chunk = interleaved ? whole(options.interleave?.chunk ?? 1, 'interleave.chunk', 1, 1 << 20) : guestFrames;
  const first = whole(options.firstFrame ?? 0, 'firstFrame', 0);
  const pattern: FramePattern = interleaved ? { first, count: guestFrames, chunk, stride: chunk * domains } : { first, count: guestFrames };
  const framesNeeded = interleaved ? patternFrame({ ...pattern, first: first + (domains - 1) * chunk }, guestFrames - 1) + 1 : first + guestFrames;
  const ramNeeded = (patternFrame(pattern, tables - 1) + 1) * 4096;
  return { guestFrames, processes, userPages, kernelPages, userL1s, kernelL1s, tables, mapped, domains, chunk, pattern, framesNeeded, ramNeeded };
}

const WASM_PAGE = 65536;

/**
 * Engine options for a guest: enough frames for its pattern and a RAM image for
 * its tables. The image is `ramBytes` if given, else min(512 MiB, the guest) or,
 * for a guest whose frame table leaves less room, as much as fits.
 */
export function guestEngineOptions(options: GuestOptions & { ramBytes?: number | bigint | string; backend?: EngineOptions['backend'] }): EngineOptions {
  const plan = planGuest(options);
  const frames = plan.framesNeeded;
  const minRam = Math.ceil(plan.ramNeeded / WASM_PAGE) * WASM_PAGE;
  if (!fits(minRam, frames)) {
    // How many frames fit beside the smallest image the tables need.
    let framesFit = 0;
    try {
      computeLayout(minRam, frames);
    } catch (e) {
      framesFit = Number((e as CapacityError).details?.framesFit ?? 0);
    }
    throw new CapacityError(
      `memory: a guest of ${sizeName(plan.guestFrames * 4096)} needs ${frames} frames of metadata (20 B each); one engine (4 GiB) holds at most ` +
        `${framesFit} frames beside the page tables' image, a guest of about ${Math.floor((framesFit * 4096) / 2 ** 30)} GiB` +
        (plan.domains > 1 ? ` shared by ${plan.domains} interleaved domains` : ''),
      { input: 'memory', frames, framesFit },
    );
  }
  let ram: number;
  if (options.ramBytes !== undefined) {
    ram = sizeBytes(options.ramBytes, 'ramBytes');
  } else {
    ram = Math.min(512 * 2 ** 20, Math.floor((frames * 4096) / WASM_PAGE) * WASM_PAGE);
    // Shrink to what fits beside the frame table, but never below what the tables need.
    while (ram > minRam && !fits(ram, frames)) ram -= 16 * 2 ** 20;
    ram = Math.max(ram, minRam);
  }
  if (ram < plan.ramNeeded) {
    throw new CapacityError(`ramBytes: ${ram} bytes of RAM image cannot hold the guest's page tables: they reach frame ${hex(plan.ramNeeded / 4096 - 1)}`, {
      input: 'ramBytes',
      needed: plan.ramNeeded,
    });
  }
  return { ramBytes: ram, frames: Math.max(frames, Math.ceil(ram / 4096)), backend: options.backend };
}

function fits(ram: number, frames: number): boolean {
  try {
    return computeLayout(ram, Math.max(frames, ram / 4096)).totalBytes <= MAX_MEMORY;
  } catch {
    return false;
  }
}

/**
 * Build the guest in `engine`: create its domain (and, interleaved, its companions),
 * allocate every frame in the requested order, write and pin each process's
 * L4..L1 tree (validated by the type system), and prefill some RO_MPT slots.
 * Shows a progress bar on a terminal unless `onProgress` is given.
 */
export function buildGuest(engine: Engine, options: GuestOptions): Guest {
  const t0 = performance.now();
  const plan = planGuest(options);
  const dom = whole(options.domain ?? 1, 'domain', 0, A.DOM_MAX - plan.domains);
  const order = options.order ?? 'ascending';
  const imageFrames = Math.min(engine.layout.frames, Math.floor(engine.layout.ramBytes / 4096));
  if (plan.framesNeeded > engine.layout.frames) {
    throw new CapacityError(
      `buildGuest: the guest needs frames up to ${hex(plan.framesNeeded - 1)} but the engine has ${engine.layout.frames} frames ` +
        `(create it with guestEngineOptions(...))`,
      { needed: plan.framesNeeded, frames: engine.layout.frames },
    );
  }
  if (plan.ramNeeded > imageFrames * 4096) {
    throw new CapacityError(
      `buildGuest: the guest's ${plan.tables} page tables reach frame ${hex(plan.ramNeeded / 4096 - 1)}, beyond the RAM image ` +
        `(${imageFrames} frames)`,
      { needed: plan.ramNeeded, ramBytes: engine.layout.ramBytes },
    );
  }
  const prefill = whole(options.prefilledL4s ?? 0, 'prefilledL4s', 0, plan.processes);
  const seed = (options.seed ?? 1) >>> 0;
  const total = plan.guestFrames * plan.domains + plan.tables;
  const bar = options.onProgress ? undefined : startProgress('building guest', total, 'frames');
  const progress = (done: number) => {
    options.onProgress?.(done, total);
    bar?.update(done);
  };
  try {
    // Domains and frames.
    const companions: number[] = [];
    engine.domains.create(dom, { m2pStrict: options.m2pStrict ?? false, pv64: true });
    allocate(engine, dom, {
      ...plan.pattern,
      order: order === 'random' ? 'random' : 'ascending',
      seed,
      onProgress: (d) => progress(d),
    });
    for (let j = 1; j < plan.domains; j++) {
      const id = dom + j;
      engine.domains.create(id, { pv64: true });
      companions.push(id);
      allocate(engine, id, { ...plan.pattern, first: plan.pattern.first + j * plan.chunk, onProgress: (d) => progress(j * plan.guestFrames + d) });
    }
    // Page tables: pattern elements [0, tables) are the table frames, the next
    // `mapped` elements the data frames the tables map.
    const frameOf = (k: number) => patternFrame(plan.pattern, k);
    let k = 0;
    const K3 = frameOf(k++);
    const K2 = frameOf(k++);
    const K1: number[] = [];
    for (let i = 0; i < plan.kernelL1s; i++) K1.push(frameOf(k++));
    const procs: GuestProcess[] = [];
    for (let p = 0; p < plan.processes; p++) {
      const l4 = frameOf(k++), l3 = frameOf(k++), l2 = frameOf(k++);
      const l1s: number[] = [];
      for (let i = 0; i < plan.userL1s; i++) l1s.push(frameOf(k++));
      procs.push({ l4, l3, l2, l1s, cr3: BigInt(l4) * 4096n });
    }
    let data = plan.tables;
    const u = new Uint32Array(engine.memory.buffer);
    const ram = engine.layout.ramBase >>> 2;
    const put = (table: number, index: number, frame: number, flags: number) => {
      const w = ram + table * 1024 + index * 2;
      u[w] = ((frame % 1048576) * 4096 + flags) >>> 0;
      u[w + 1] = Math.floor(frame / 1048576);
    };
    const clear = (table: number) => u.fill(0, ram + table * 1024, ram + table * 1024 + 1024);
    for (const t of [K3, K2, ...K1]) clear(t);
    put(K3, 510, K2, TABLE_ENTRY);
    K1.forEach((l1, j) => put(K2, j, l1, TABLE_ENTRY));
    for (let i = 0; i < plan.kernelPages; i++) put(K1[i >>> 9]!, i & 511, frameOf(data++), KERNEL_LEAF);
    for (const p of procs) {
      for (const t of [p.l4, p.l3, p.l2, ...p.l1s]) clear(t);
      put(p.l4, 0, p.l3, TABLE_ENTRY);
      put(p.l4, 511, K3, TABLE_ENTRY);
      put(p.l3, 0, p.l2, TABLE_ENTRY);
      p.l1s.forEach((l1, j) => put(p.l2, 2 + j, l1, TABLE_ENTRY));
      for (let i = 0; i < plan.userPages; i++) put(p.l1s[i >>> 9]!, i & 511, frameOf(data++), USER_LEAF);
    }
    // Pin every L4: the type system validates each tree down to the data frames.
    const base = plan.guestFrames * plan.domains;
    procs.forEach((p, i) => {
      pin(engine, p.l4, 'L4');
      if ((i & 63) === 63) progress(base + (i + 1) * (3 + plan.userL1s));
    });
    // Some L4s already carry the RO_MPT entry (an earlier set-context call).
    const prefilled: number[] = [];
    for (let i = 0; i < prefill; i++) {
      const p = Math.floor((i * plan.processes) / prefill);
      engine.backend.frames.fillRoMpt(procs[p]!.l4);
      prefilled.push(p);
    }
    progress(total);
    return {
      domain: dom,
      memoryBytes: plan.guestFrames * 4096,
      frames: plan.guestFrames,
      order,
      pattern: plan.pattern,
      tableFrames: plan.tables,
      processes: procs,
      kernel: { l3: K3, l2: K2, l1s: K1 },
      l4s: procs.map((p) => p.l4),
      prefilled,
      companions,
      elapsedMs: performance.now() - t0,
    };
  } finally {
    bar?.stop();
  }
}
