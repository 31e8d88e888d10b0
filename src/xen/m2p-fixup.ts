// The m2p-strict restore fix-up (seed 004, xen-mm.md §2) and its variants, over
// any backend. One *call* is one hypercall invocation: it runs the kernel until
// done or until a preemption check reports pending (the preemption policy), and
// then returns "restart"; calling again continues where the last call stopped
// (the faithful loop through its rotated list, the variants through the cursor
// in the domain record). `m2pFixup` repeats calls until done and reports the run;
// `setVcpuContext` is the hypercall with the v1 or v2 gate around the loop.
import * as A from '../abi.js';
import type { Engine } from '../engine/engine.js';
import type { FrameKernels } from '../backends/backend.js';
import { InvalidInputError, NotFoundError } from '../errors.js';
import type { ProgressCallback } from '../util/progress.js';
import { NEVER, type PreemptPolicy } from './preemption.js';
import { checkDomainId } from '../frames/domains.js';

export type FixupStrategy = 'faithful' | 'counted' | 'flat' | 'indexed';
export const STRATEGIES: readonly FixupStrategy[] = ['faithful', 'counted', 'flat', 'indexed'];

export interface FixupOptions {
  readonly strategy?: FixupStrategy;
  readonly preempt?: PreemptPolicy;
  /** Called between kernel slices with frames visited so far. */
  readonly onProgress?: (framesVisited: number) => void;
}

/** What one call did. */
export interface FixupCall {
  readonly result: 'done' | 'restart' | 'empty' | 'stuck';
  readonly framesVisited: number;
  /** RO_MPT slots this call filled. */
  readonly filled: number;
  /** L4s met with the slot already set (the faithful loop stops at the first). */
  readonly alreadySet: number;
  /** Frames page_lock refused (skipped), and how many of them were L4 tables. */
  readonly lockFailed: number;
  readonly l4LockFailed: number;
  readonly preemptionChecks: number;
  readonly kernelCalls: number;
  readonly elapsedMs: number;
}

/** A run to completion. */
export interface FixupReport {
  readonly strategy: FixupStrategy;
  readonly framesVisited: number;
  /** The domain's L4 tables (census of the type column) and how many end with the slot set. */
  readonly l4Total: number;
  readonly l4Filled: number;
  readonly allFilled: boolean;
  /** Slots this run filled; L4s it met already set. */
  readonly l4FilledByRun: number;
  readonly l4AlreadySet: number;
  readonly lockFailed: number;
  readonly l4LockFailed: number;
  /** Calls that returned restart (each one a hypercall continuation). */
  readonly continuations: number;
  readonly calls: number;
  readonly kernelCalls: number;
  readonly preemptionChecks: number;
  /** True when the faithful loop could never end (no lockable L4 on the list) and was stopped. */
  readonly stuck: boolean;
  readonly elapsedMs: number;
}

/** Checks per kernel slice when nothing preempts: 1M frames, so progress can move. */
const NEVER_SLICE = 4096;

/**
 * One slice of the kernel of `strategy`. A switch rather than a bound kernel:
 * the whole indexed run is a few tens of microseconds, and every allocation and
 * extra JS function on its path showed in it.
 */
function runKernel(k: FrameKernels, strategy: FixupStrategy, dom: number, maxChecks: number): number {
  switch (strategy) {
    case 'faithful':
      return k.fixFaithful(dom, maxChecks);
    case 'counted':
      return k.fixCounted(dom, maxChecks);
    case 'flat':
      return k.fixFlat(dom, maxChecks);
    default:
      return k.fixIndexed(dom, maxChecks);
  }
}

function checkStrategy(strategy: FixupStrategy): void {
  if (!STRATEGIES.includes(strategy)) {
    throw new InvalidInputError(`strategy: '${strategy as string}' is not one of ${STRATEGIES.join(', ')}`, { input: 'strategy', value: strategy });
  }
}

function listLength(engine: Engine, dom: number): number {
  return engine.view.getUint32(engine.layout.domains + dom * A.DOM_STRIDE + A.DOM_COUNT, true);
}

/** Counters summed over kernel slices, calls and continuations. */
interface Totals {
  visited: number;
  filled: number;
  already: number;
  lockFailed: number;
  l4LockFailed: number;
  checks: number;
  kernelCalls: number;
  calls: number;
  continuations: number;
}

function emptyTotals(): Totals {
  return { visited: 0, filled: 0, already: 0, lockFailed: 0, l4LockFailed: 0, checks: 0, kernelCalls: 0, calls: 0, continuations: 0 };
}

/**
 * One call (see fixupCall), its counters added to `t`. `before` = frames the
 * run visited before this call, so onProgress counts from the run's start.
 */
function invoke(engine: Engine, dom: number, strategy: FixupStrategy, preempt: PreemptPolicy, onProgress: ((n: number) => void) | undefined, t: Totals, before: number): FixupCall['result'] {
  const k = engine.backend.frames;
  const v = engine.view;
  const slice = preempt.kind === 'never' ? NEVER_SLICE : preempt.kind === 'every' ? preempt.checks : 1;
  const limit = 2 * listLength(engine, dom) + 2 * A.FX_CHECK_EVERY;
  const t0 = preempt.kind === 'budget' ? performance.now() : 0;
  let visited = 0;
  t.calls++;
  for (;;) {
    const rc = runKernel(k, strategy, dom, slice);
    t.kernelCalls++;
    const n = v.getUint32(A.FR + A.FR_VISITED, true);
    visited += n;
    t.visited += n;
    t.filled += v.getUint32(A.FR + A.FR_FILLED, true);
    t.already += v.getUint32(A.FR + A.FR_ALREADY, true);
    t.lockFailed += v.getUint32(A.FR + A.FR_LOCK_FAILED, true);
    t.l4LockFailed += v.getUint32(A.FR + A.FR_L4_LOCK_FAILED, true);
    t.checks += v.getUint32(A.FR + A.FR_CHECKS, true);
    if (rc === A.FX_DONE) return 'done';
    if (rc === A.FX_EMPTY) return 'empty';
    if (rc !== A.FX_RESTART) throw new NotFoundError(`m2p fix-up: domain ${dom} does not exist`, { input: 'domain', value: dom });
    onProgress?.(before + visited);
    // The kernel stopped at a preemption check. Is a preemption pending?
    if (preempt.kind === 'every') return 'restart';
    if (preempt.kind === 'budget' && performance.now() - t0 >= preempt.ms) return 'restart';
    if (strategy === 'faithful' && visited > limit) return 'stuck';
  }
}

/**
 * One invocation of the fix-up loop on domain `dom`. With `never` it runs to the
 * end (in slices); with `every:K` the K-th preemption check stops it; with a
 * budget it stops at the first check after the budget is spent. The faithful loop
 * is stopped as `stuck` once it has gone twice round its list without meeting an
 * L4 it could lock: the hypervisor's loop would spin until preempted.
 */
export function fixupCall(engine: Engine, dom: number, options: FixupOptions = {}): FixupCall {
  checkDomainId(dom);
  const strategy = options.strategy ?? 'faithful';
  checkStrategy(strategy);
  const t = emptyTotals();
  const t0 = performance.now();
  const result = invoke(engine, dom, strategy, options.preempt ?? NEVER, options.onProgress, t, 0);
  return {
    result,
    framesVisited: t.visited,
    filled: t.filled,
    alreadySet: t.already,
    lockFailed: t.lockFailed,
    l4LockFailed: t.l4LockFailed,
    preemptionChecks: t.checks,
    kernelCalls: t.kernelCalls,
    elapsedMs: performance.now() - t0,
  };
}

/** Validated L4 tables of `dom` and how many have the RO_MPT slot set (a scan of the image's frames: only they can be tables). */
export function l4Status(engine: Engine, dom: number): { total: number; filled: number } {
  const image = Math.min(engine.layout.frames, Math.floor(engine.layout.ramBytes / 4096));
  const total = engine.backend.frames.census(A.PGT_L4 * 2 + 1, dom, 0, image) >>> 0;
  return { total, filled: engine.view.getUint32(A.FR + A.FR_FILLED, true) };
}

export interface RunOptions extends FixupOptions {
  /** Give up after this many continuations (default: unlimited for the variants, a bound for faithful). */
  readonly maxContinuations?: number;
}

function addCall(t: Totals, c: FixupCall): void {
  t.visited += c.framesVisited;
  t.filled += c.filled;
  t.already += c.alreadySet;
  t.lockFailed += c.lockFailed;
  t.l4LockFailed += c.l4LockFailed;
  t.checks += c.preemptionChecks;
  t.kernelCalls += c.kernelCalls;
  t.calls++;
}

function report(engine: Engine, dom: number, strategy: FixupStrategy, t: Totals, stuck: boolean, elapsedMs: number): FixupReport {
  const s = l4Status(engine, dom);
  return {
    strategy,
    framesVisited: t.visited,
    l4Total: s.total,
    l4Filled: s.filled,
    allFilled: s.filled === s.total,
    l4FilledByRun: t.filled,
    l4AlreadySet: t.already,
    lockFailed: t.lockFailed,
    l4LockFailed: t.l4LockFailed,
    continuations: t.continuations,
    calls: t.calls,
    kernelCalls: t.kernelCalls,
    preemptionChecks: t.checks,
    stuck,
    elapsedMs,
  };
}

/**
 * Run the fix-up on `dom` to completion, calling again after every restart (each
 * restart is a continuation), whatever the domain's flags: the loop alone, as the
 * benchmark times it. See setVcpuContext for the hypercall with its gate.
 */
export function m2pFixup(engine: Engine, dom: number, options: RunOptions = {}): FixupReport {
  checkDomainId(dom);
  const strategy = options.strategy ?? 'faithful';
  checkStrategy(strategy);
  const preempt = options.preempt ?? NEVER;
  const t = emptyTotals();
  // The faithful loop ends within two rounds of its list, however it is sliced.
  const bound = 2 * listLength(engine, dom) + 2 * A.FX_CHECK_EVERY;
  let stuck = false;
  const t0 = performance.now();
  for (;;) {
    const result = invoke(engine, dom, strategy, preempt, options.onProgress, t, t.visited);
    if (result === 'restart') {
      t.continuations++;
      if (options.maxContinuations !== undefined && t.continuations > options.maxContinuations) {
        stuck = true;
        break;
      }
      if (strategy === 'faithful' && t.visited > bound) {
        stuck = true;
        break;
      }
      continue;
    }
    stuck = result === 'stuck';
    break;
  }
  return report(engine, dom, strategy, t, stuck, performance.now() - t0);
}

export interface SetContextOptions extends FixupOptions {
  /** The VM-assist flags the context carries: m2p-strict on or off. */
  readonly m2pStrict: boolean;
  /** vCPU whose context is set (the fix-up concerns vCPU 0 only; default 0). */
  readonly vcpu?: number;
  /** Set by another domain (the toolstack restoring a guest; default true) or by the guest itself. */
  readonly byToolstack?: boolean;
  /**
   * 'v1': the first patch: assign the flag, then run the loop whenever the domain
   * is m2p-strict with L4s. 'v2': run the loop only when the flag changes from
   * clear to set, and assign it once the loop is done (default 'v2').
   */
  readonly gate?: 'v1' | 'v2';
}

export interface SetContextResult {
  /** 'restart': the caller must call again (a continuation). */
  readonly rc: 'ok' | 'restart';
  /** Whether the fix-up loop ran. */
  readonly entered: boolean;
  readonly call: FixupCall | undefined;
}

/** arch_set_info_guest's part that concerns m2p-strict, on domain `dom`. */
export function setVcpuContext(engine: Engine, dom: number, options: SetContextOptions): SetContextResult {
  checkDomainId(dom);
  const at = engine.layout.domains + dom * A.DOM_STRIDE;
  const flags = engine.view.getUint32(at + A.DOM_FLAGS, true);
  if (!(flags & A.DF_IN_USE)) throw new NotFoundError(`setVcpuContext: domain ${dom} does not exist`, { input: 'domain', value: dom });
  const setFlag = () => {
    const f = engine.view.getUint32(at + A.DOM_FLAGS, true);
    engine.view.setUint32(at + A.DOM_FLAGS, options.m2pStrict ? f | A.DF_M2P_STRICT : f & ~A.DF_M2P_STRICT, true);
  };
  if ((options.vcpu ?? 0) !== 0) return { rc: 'ok', entered: false, call: undefined };
  const gate = options.gate ?? 'v2';
  const other = options.byToolstack ?? true;
  const pv64 = (flags & A.DF_PV64) !== 0;
  const nrL4 = engine.view.getUint32(at + A.DOM_NR_L4, true);
  const wasStrict = (flags & A.DF_M2P_STRICT) !== 0;
  if (gate === 'v1') setFlag();
  const enter = other && pv64 && nrL4 > 0 && options.m2pStrict && (gate === 'v1' || !wasStrict);
  if (!enter) {
    if (gate === 'v2') setFlag();
    return { rc: 'ok', entered: false, call: undefined };
  }
  const call = fixupCall(engine, dom, options);
  if (call.result === 'restart' || call.result === 'stuck') return { rc: 'restart', entered: true, call };
  if (gate === 'v2') setFlag();
  return { rc: 'ok', entered: true, call };
}

/**
 * The toolstack's side: set the context and, while the hypercall returns
 * restart, call it again. Returns the run's report (continuations = restarts).
 */
export function restoreVcpuContext(engine: Engine, dom: number, options: SetContextOptions & { maxContinuations?: number }): FixupReport & { entered: boolean } {
  const strategy = options.strategy ?? 'faithful';
  const t = emptyTotals();
  let entered = false;
  let stuck = false;
  const bound = 2 * listLength(engine, dom) + 2 * A.FX_CHECK_EVERY;
  const t0 = performance.now();
  for (;;) {
    const r = setVcpuContext(engine, dom, options);
    if (r.call) {
      entered = true;
      addCall(t, r.call);
    }
    if (r.rc === 'ok') break;
    if (r.call?.result === 'stuck') {
      stuck = true;
      break;
    }
    t.continuations++;
    if ((options.maxContinuations !== undefined && t.continuations > options.maxContinuations) || (strategy === 'faithful' && t.visited > bound)) {
      stuck = true;
      break;
    }
  }
  return { ...report(engine, dom, strategy, t, stuck, performance.now() - t0), entered };
}
