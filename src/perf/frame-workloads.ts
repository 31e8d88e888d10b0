// The hypervisor-model workloads: page-list chase (in list order and in random
// order), the flat frame-table scan (census) and the m2p-strict fix-up
// strategies, over a PV guest built by buildGuest. Fix-ups change memory (slots
// filled, list rotated), so every run is followed by an untimed restore.
import * as A from '../abi.js';
import { createEngine, type Engine } from '../engine/engine.js';
import { buildGuest, guestEngineOptions, type Guest, type GuestOrder } from '../xen/guest-builder.js';
import { m2pFixup, STRATEGIES, type FixupStrategy, type FixupReport } from '../xen/m2p-fixup.js';
import { Checksum } from './checksum.js';
import { bytesName } from './paging-workloads.js';
import type { Workload } from './workload.js';

export interface GuestScenario {
  readonly engine: Engine;
  readonly guest: Guest;
  readonly order: GuestOrder;
  readonly bytes: number;
  readonly buildMs: number;
}

export interface GuestScenarioOptions {
  readonly bytes: number;
  readonly processes?: number;
  readonly order?: GuestOrder;
  readonly seed?: number;
  readonly shared?: boolean;
  readonly onProgress?: (done: number, total: number) => void;
}

export function buildGuestScenario(o: GuestScenarioOptions): GuestScenario {
  const t0 = performance.now();
  const go = { memory: o.bytes, processes: o.processes ?? 300, order: o.order ?? 'ascending', seed: o.seed ?? 3, onProgress: o.onProgress ?? (() => {}) };
  const engine = createEngine({ ...guestEngineOptions(go), ...(o.shared ? { shared: true } : {}) });
  const guest = buildGuest(engine, go);
  return { engine, guest, order: go.order, bytes: o.bytes, buildMs: performance.now() - t0 };
}

/** A fix-up's warm-up slice: the kernel stops at its second preemption check. */
const WARM_SLICE = { kind: 'every', checks: 2 } as const;
/**
 * Slices per warm-up call. The runner's warm-up stops after about 80 calls, too few
 * for V8 to optimise the TS around the kernels: the indexed run (tens of µs) then
 * spent most of its time in baseline code, which after the restore between runs
 * (192 MiB of columns rewritten, every cache cold) costs far more than optimised
 * code. A caller that runs the fix-up often finds it optimised: so does the bench.
 */
const WARM_REPEATS = 32;

/** The census key of validated L4 tables: type_info bits 28..31 = type * 2 + validated. */
export const L4_KEY = A.PGT_L4 * 2 + 1;

const hex8 = (v: number) => (v >>> 0).toString(16).padStart(8, '0');

export interface FrameWorkloadOptions {
  /** Directory for the native tasks' column files. */
  readonly fileDir?: string;
  readonly families?: readonly string[];
  /** Fix-up strategies to run (default all). */
  readonly strategies?: readonly FixupStrategy[];
  /** Label of the guest in task names (default "<size> guest, <order> list"). */
  readonly label?: string;
}

/** A copy of the state a fix-up changes, and its restore. */
function snapshot(e: Engine, l4s: readonly number[]): () => void {
  const l = e.layout;
  const cols = [l.colType, l.colNext, l.colPrev].map((at) => ({ at, data: new Uint32Array(e.memory.buffer, at, l.frames).slice() }));
  const doms = new Uint8Array(e.memory.buffer, l.domains, A.DOM_MAX * A.DOM_STRIDE).slice();
  const slots = l4s.map((f) => e.phys.read64(BigInt(f) * 4096n + BigInt(A.RO_MPT_SLOT * 8)));
  return () => {
    for (const c of cols) new Uint32Array(e.memory.buffer, c.at, l.frames).set(c.data);
    new Uint8Array(e.memory.buffer, l.domains, doms.length).set(doms);
    l4s.forEach((f, i) => e.phys.write64(BigInt(f) * 4096n + BigInt(A.RO_MPT_SLOT * 8), slots[i]!));
  };
}

/** The RO_MPT slot (two u32 words) of each of the first `ramFrames` frames of the RAM image. */
function slotWords(e: Engine, ramFrames: number): Uint32Array {
  const out = new Uint32Array(ramFrames * 2);
  const base = (e.layout.ramBase + A.RO_MPT_SLOT * 8) >>> 2;
  for (let f = 0; f < ramFrames; f++) {
    out[2 * f] = e.u32[base + f * 1024]!;
    out[2 * f + 1] = e.u32[base + f * 1024 + 1]!;
  }
  return out;
}

export function frameWorkloads(scn: GuestScenario, options: FrameWorkloadOptions = {}): Workload[] {
  const e0 = scn.engine;
  const g = scn.guest;
  const dom = g.domain;
  const frames = e0.layout.frames;
  const dir = options.fileDir ?? '.';
  const label = options.label ?? `${bytesName(scn.bytes)} guest, ${scn.order === 'random' ? 'random' : 'list'} order`;
  const want = (f: string) => !options.families || options.families.some((x) => f.startsWith(x));
  const out: Workload[] = [];
  const col = (e: Engine, at: number) => new Uint32Array(e.memory.buffer, at, frames);
  const head = () => e0.view.getUint32(e0.layout.domains + dom * A.DOM_STRIDE + A.DOM_HEAD, true);

  if (want('chase')) {
    let sum = 0, steps = 0;
    out.push({
      name: `chase page list (${label}, ${g.frames} frames)`,
      family: 'chase',
      items: g.frames,
      unit: 'frames',
      prepare() {},
      warm(e) {
        return e.backend.frames.listChase(head(), 4096);
      },
      run(e) {
        sum = e.backend.frames.listChase(head(), g.frames + 1) >>> 0;
        steps = e.view.getUint32(A.FR + A.FR_COUNT, true);
        return sum;
      },
      checksum: () => hex8(sum) + hex8(steps),
      native: {
        spec: `chase:${dir}/next-${scn.order}.bin:${head()}:${g.frames + 1}`,
        files: [{ path: `${dir}/next-${scn.order}.bin`, data: col(e0, e0.layout.colNext) }],
      },
    });
  }
  if (want('scan')) {
    let n = 0;
    out.push({
      name: `flat frame-table scan: L4s of the guest (${bytesName(frames * 4096)} of frames)`,
      family: 'scan',
      items: frames,
      unit: 'frames',
      prepare() {},
      warm(e) {
        return e.backend.frames.census(L4_KEY, dom, 0, Math.min(frames, 65536));
      },
      run(e) {
        n = e.backend.frames.census(L4_KEY, dom, 0, frames) >>> 0;
        return n;
      },
      checksum: () => hex8(n) + hex8(frames),
      native: {
        spec: `census:${dir}/type-${scn.order}.bin:${dir}/owner-${scn.order}.bin:${L4_KEY}:${dom}:0:${frames}`,
        files: [
          { path: `${dir}/type-${scn.order}.bin`, data: col(e0, e0.layout.colType) },
          { path: `${dir}/owner-${scn.order}.bin`, data: col(e0, e0.layout.colOwner) },
        ],
      },
    });
  }
  if (want('fixup')) {
    let restore: (() => void) | undefined;
    const domAt = e0.layout.domains + dom * A.DOM_STRIDE;
    const domField = (e: Engine, field: number) => e.view.getUint32(domAt + field, true);
    const ramFrames = Math.min(frames, Math.floor(e0.layout.ramBytes / 4096));
    // The native task's inputs: the columns the kernels read and write, the L4 index, the guest's L4s (checksum order).
    const fx = (n: string) => `${dir}/fixup-${n}-${scn.order}.bin`;
    const fixFiles = [
      { path: `${dir}/type-${scn.order}.bin`, data: col(e0, e0.layout.colType) },
      { path: `${dir}/next-${scn.order}.bin`, data: col(e0, e0.layout.colNext) },
      { path: fx('prev'), data: col(e0, e0.layout.colPrev) },
      { path: `${dir}/owner-${scn.order}.bin`, data: col(e0, e0.layout.colOwner) },
      { path: fx('l4next'), data: new Uint32Array(e0.memory.buffer, e0.layout.l4Next, ramFrames) },
      { path: fx('l4list'), data: Uint32Array.from(g.l4s) },
      // Slot 256 (RO_MPT) of every frame of the RAM image, as u32 pairs: the native program gets no image here.
      { path: fx('slots'), data: slotWords(e0, ramFrames) },
    ];
    const domArgs = [dom, domField(e0, A.DOM_HEAD), domField(e0, A.DOM_TAIL), domField(e0, A.DOM_COUNT), domField(e0, A.DOM_L4_HEAD), ramFrames];
    for (const strategy of options.strategies ?? STRATEGIES) {
      let report: FixupReport | undefined;
      let last = '';
      // The guest's L4 slots, frames visited, the domain's L4s with the slot set, the list's head
      // and tail (what the native task prints too), once per run.
      const summarise = (e: Engine) => {
        if (report) {
          const s = new Checksum();
          for (const f of g.l4s) s.words(e.u32, e.layout.ramBase + f * 4096 + A.RO_MPT_SLOT * 8, 8);
          last = `${s.hex()}:${report.framesVisited}:${report.l4Filled}:${domField(e, A.DOM_HEAD)}:${domField(e, A.DOM_TAIL)}`;
          report = undefined;
        }
        return last;
      };
      out.push({
        name: `m2p-strict fix-up, ${strategy} (${label}, ${g.l4s.length} L4s)`,
        family: 'fixup',
        items: g.frames,
        unit: 'guest frames',
        prepare(e) {
          // Both backends share the memory: take the snapshot once, restore before each backend.
          if (!restore) restore = snapshot(e, g.l4s);
          else restore();
        },
        warm(e) {
          // The whole operation's path (the loop, its report and census) cut after two preemption
          // intervals (512 frames), so the TS around the kernels is compiled as the measured runs
          // find it, not only the kernel; prepare() restores afterwards.
          let n = 0;
          for (let i = 0; i < WARM_REPEATS; i++) n += m2pFixup(e, dom, { strategy, preempt: WARM_SLICE, maxContinuations: 0 }).framesVisited;
          return n;
        },
        // The whole operation: the loop and the report's census (the native task times both too).
        run(e) {
          report = m2pFixup(e, dom, { strategy });
          return report.framesVisited;
        },
        // Untimed: the output is read from memory before the restore, whichever comes first.
        reset(e) {
          summarise(e);
          restore!();
        },
        checksum: (e) => summarise(e),
        native: {
          spec: `fixup:${strategy}:${fixFiles.map((f) => f.path).join(':')}:${domArgs.join(':')}`,
          files: fixFiles,
        },
      });
    }
  }
  return out;
}
