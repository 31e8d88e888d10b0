import type { Layout } from '../memory/layout.js';
import type { FrameCache } from '../memory/frame-cache.js';

/**
 * The paging kernels, as numeric functions over the engine's memory. Both
 * backends implement exactly these signatures; everything above them (the
 * engine API, Xen models, CLI, benchmarks) never knows which one it has.
 * Walk parameters are read from the control block (see writeWalkParams).
 */
export interface PagingKernels {
  /** Translate one address; full result in the RES block. Returns the status word. */
  translate(root: bigint, va: bigint, access: number): number;
  /** `n` u64 addresses at `inPtr` -> 16-byte records at `outPtr`; `mode` is a BATCH_* strategy. */
  translateBatch(root: bigint, inPtr: number, outPtr: number, n: number, access: number, mode: number): void;
  /** `pages` consecutive base pages from `va` -> 16-byte records at `outPtr`. */
  translateRange(root: bigint, va: bigint, pages: number, outPtr: number, access: number): void;
  /**
   * The same walk as translateRange, written as at most `maxRuns` 24-byte RR_* run
   * records at `outPtr`. Returns the runs written; RES_PAGES_COVERED = pages covered.
   */
  translateRuns(root: bigint, va: bigint, pages: number, outPtr: number, maxRuns: number, access: number, maxEntries: number): number;
  enumStart(root: bigint): void;
  /** Up to `max` 32-byte mapping records at `outPtr`; 0 when the listing is complete. */
  enumNext(outPtr: number, max: number): number;
  /** `n` mapping records at `recPtr` as QEMU's `info tlb` lines (45 bytes each) at `outPtr`, sign-extended from bit `vaBits`-1; returns the bytes. */
  formatTlb(recPtr: number, n: number, outPtr: number, vaBits: number): number;
  /**
   * `n` mapping records at `recPtr` as QEMU's `info mem` lines (55 bytes each) at `outPtr`, the
   * ranges continued from the MS_* block at `state`; `n` = 0 closes the listing. Returns the
   * bytes, or -1 when a record starts below the end of the one before it.
   */
  formatMem(recPtr: number, n: number, outPtr: number, vaBits: number, state: number): number;
  /**
   * `n` mapping records at `recPtr` as memwalk's listing lines at `outPtr` (85 bytes of room a
   * line), each line's tail copied from the 32-byte slot (length, text) at `tails` for its page
   * shift * 16 + rights. Returns the bytes.
   */
  formatLines(recPtr: number, n: number, outPtr: number, tails: number): number;
  /**
   * `n` mapping records at `recPtr` as memwalk's JSON lines at `outPtr` (192 bytes of room a line,
   * plus 64), a comma before each but the listing's first (`first` != 0); the size, level and
   * rights text copied from the slot tables at `tables` (src/cli/mapping-bytes.ts). Returns the bytes.
   */
  formatJson(recPtr: number, n: number, outPtr: number, tables: number, first: number): number;
  mapRange(root: bigint, va: bigint, pa: bigint, size: bigint, leafBits: bigint, pool: number, poolCount: number, dry: number, journal: number, journalBytes: number): number;
  unmapRange(root: bigint, va: bigint, size: bigint, dry: number): number;
  protectRange(root: bigint, va: bigint, size: bigint, set: bigint, clear: bigint, dry: number, journal: number, journalBytes: number): number;
  /**
   * Contiguous hint over the groups touching [va, va+size): qualifying groups get
   * it (when `set` != 0), the others lose it. Returns groups hinted afterwards;
   * RES_HINTS_CHANGED = entries whose hint bit changed.
   */
  contigUpdate(root: bigint, va: bigint, size: bigint, set: number): number;
  contigCheckStart(root: bigint): void;
  /** Up to `max` 32-byte CR_* records, visiting at most `steps` entries (RES_ENTRIES_VISITED); done when the CK block's DFS_DEPTH = -1. */
  contigCheckNext(outPtr: number, max: number, steps: number): number;
  /**
   * move_xen's fix-up of tables already copied `delta` bytes away (`root`, `xenmap`:
   * their new addresses); a RELOC_* code. `scratch` holds `cap` tables (24 bytes each).
   */
  relocate(root: bigint, xenmap: bigint, delta: bigint, scratch: number, cap: number, dry: number): number;
}

/**
 * The frame kernels (assembly/frames, src/backends/reference/frames): frame
 * metadata columns, domain page lists, the PV type system and the m2p-strict
 * fix-ups. Frame numbers and domain ids are u32; FRAME_NULL (0xffffffff) is
 * "none". Codes are the TE_* / FX_* / FILL_* constants of src/abi.ts; details of a
 * refusal and per-call counters are in the FR block.
 */
export interface FrameKernels {
  domainCreate(dom: number, flags: number): number;
  /** Frames released. */
  domainFree(dom: number): number;
  listAddHead(dom: number, frame: number): number;
  listAddTail(dom: number, frame: number): number;
  /** The removed head, or FRAME_NULL (as u32). */
  listRemoveHead(dom: number): number;
  listRemove(dom: number, frame: number): number;
  /** Up to `max` frames from `from` to `outPtr`; FR_NEXT = where to continue. */
  listIterate(from: number, outPtr: number, max: number): number;
  /** Sum (mod 2^32) of the frames met following next links from `from`; FR_COUNT = steps. */
  listChase(from: number, max: number): number;
  /** Claim pattern elements [kFrom, kTo) for `dom` (owner, count_info, type), ascending; all or nothing. */
  allocClaim(dom: number, first: number, chunk: number, stride: number, kFrom: number, kTo: number): number;
  /** Append list positions [jFrom, jTo) of a claimed pattern to `dom`'s list (ORDER_RANDOM: element perm(j)). */
  allocLink(dom: number, first: number, chunk: number, stride: number, count: number, jFrom: number, jTo: number, order: number, seed: number): number;
  /** First frame of the pattern that is not free, or FRAME_NULL. */
  allocCheck(first: number, chunk: number, stride: number, count: number): number;
  allocList(dom: number, ptr: number, n: number): number;
  freeFrame(frame: number): number;
  getType(frame: number, type: number): number;
  putType(frame: number): number;
  pin(frame: number, type: number): number;
  unpin(frame: number): number;
  /** 1 when locked, 0 when page_lock refuses. */
  pageLock(frame: number): number;
  pageUnlock(frame: number): number;
  fillRoMpt(frame: number): number;
  zapRoMpt(frame: number): number;
  /**
   * Frames of [from, to) whose type_info bits 28..31 equal `key` (type * 2 + validated),
   * owned by `dom` (FRAME_NULL: any); FR_FILLED = L4s with RO_MPT set.
   */
  census(key: number, dom: number, from: number, to: number): number;
  fixFaithful(dom: number, maxChecks: number): number;
  fixCounted(dom: number, maxChecks: number): number;
  fixFlat(dom: number, maxChecks: number): number;
  fixIndexed(dom: number, maxChecks: number): number;
}

/**
 * The search kernels (assembly/search, src/backends/reference/search): scans of
 * physical memory laid out as SP_* span records, writing HIT_* records. Both
 * return the hits written; `max` hits means there may be more (call again from
 * after the last one).
 */
export interface SearchKernels {
  /**
   * Matches of the `n`-byte pattern at `pattern` that start in spans [from, starts)
   * (offset >= `fromOffset` in span `from`); a match may run on into the next spans,
   * up to `count`, while their logical starts follow on.
   */
  searchPattern(spans: number, count: number, starts: number, pattern: number, n: number, from: number, fromOffset: bigint, out: number, max: number): number;
  /**
   * Frames of the (frame-aligned) spans whose `entries` u64 at byte `at` equal the
   * non-zero ones at `ref`, with at most `misses` differing.
   */
  matchFrames(spans: number, count: number, at: number, ref: number, entries: number, misses: number, from: number, fromOffset: bigint, out: number, max: number): number;
}

export type BackendName = 'wasm' | 'reference';

/** What every compiled kernel module exports besides its kernels. */
export interface KernelModuleExports {
  /** Read the LAYOUT block of the control area (written before instantiation). */
  init(): void;
  /** The ABI hash the module was compiled against (see src/backends/abi-hash.ts). */
  abiHash(): number;
}

/** The exports of build/paging.wasm, checked against its typings by the build. */
export interface PagingModuleExports extends PagingKernels, KernelModuleExports {
  /** Use scratch slot `slot` for the batch walks' state; 1 when there is no such slot. */
  setScratchSlot(slot: number): number;
}

/** The exports of build/frames.wasm. */
export interface FramesModuleExports extends FrameKernels, KernelModuleExports {}

/** The exports of build/search.wasm. */
export interface SearchModuleExports extends SearchKernels, KernelModuleExports {}

/** A set of kernels bound to one engine memory. */
export interface Backend {
  readonly name: BackendName;
  readonly paging: PagingKernels;
  readonly frames: FrameKernels;
  readonly search: SearchKernels;
}

/** What a backend factory receives: the memory and where its regions are. */
export interface BackendContext {
  readonly memory: WebAssembly.Memory;
  readonly layout: Layout;
  /** Engines over a source: the frame cache the kernels fault frames in through. */
  readonly cache?: FrameCache;
}
