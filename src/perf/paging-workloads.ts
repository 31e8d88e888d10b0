// The paging workloads: batch translation (random, sorted, consecutive; naive
// and cached), the range kernel, the mapping listing and map/unmap, over the
// tables of a WalkScenario. Kernel-level tasks call the backend's kernels on
// inputs already in the I/O buffer (what the native C program does too);
// `api` tasks go through the engine's public calls, conversions included.
import * as A from '../abi.js';
import { createEngine, type Engine } from '../engine/engine.js';
import { memorySource } from '../memory/memory-source.js';
import { BumpAllocator } from '../paging/allocator.js';
import { x86_64 } from '../paging/formats/x86.js';
import { checksumOf, Checksum } from './checksum.js';
import { consecutivePages, randomAddresses, sortedCopy, PAGE, type WalkScenario } from './scenario.js';
import type { Workload } from './workload.js';

/** 1048576 -> '1M', 65536 -> '64K', 1000 -> '1000'. */
export function count(n: number): string {
  if (n >= 2 ** 20 && n % 2 ** 20 === 0) return `${n / 2 ** 20}M`;
  if (n >= 2 ** 10 && n % 2 ** 10 === 0) return `${n / 2 ** 10}K`;
  return String(n);
}

export function bytesName(n: number): string {
  for (const [u, s] of [['TiB', 2 ** 40], ['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const) {
    if (n >= s && n % s === 0) return `${n / s} ${u}`;
  }
  return `${n} B`;
}

export interface PagingWorkloadOptions {
  /** Addresses per batch and pages per range (default 1M). */
  readonly n?: number;
  /** Bytes that map/unmap maps into fresh tables (default 4 GiB). */
  readonly mapBytes?: number;
  /** Directory for the native task's input files (VA lists). */
  readonly fileDir?: string;
  /** Which workloads (default all); names are matched by prefix of the family. */
  readonly families?: readonly string[];
  /** Start of the consecutive run, in pages above the scenario's VA (default 12345). */
  readonly seqOffsetPages?: number;
  /** Mappings per enumNext call (default 4096). */
  readonly listBatch?: number;
}

/** Records of one 16-byte batch output checksummed. */
const recordsSum = (e: Engine, at: number, n: number) => checksumOf(e.u32, at, n * A.BR_BYTES);

export interface PagingInputs {
  readonly random: BigUint64Array;
  readonly sorted: BigUint64Array;
  readonly consecutive: BigUint64Array;
  readonly seqVa: bigint;
}

export function pagingInputs(scn: WalkScenario, n: number, seqOffsetPages = 12345): PagingInputs {
  const random = randomAddresses(scn.va, scn.bytes, n);
  const maxOffset = Math.max(0, Math.floor(scn.bytes / PAGE) - n);
  const seqVa = scn.va + BigInt(Math.min(seqOffsetPages, maxOffset)) * BigInt(PAGE);
  return { random, sorted: sortedCopy(random), consecutive: consecutivePages(seqVa, n), seqVa };
}

export function pagingWorkloads(scn: WalkScenario, options: PagingWorkloadOptions = {}): Workload[] {
  const n = options.n ?? 2 ** 20;
  const engine0 = scn.engine;
  const io = engine0.layout.ioBase;
  const inPtr = io;
  const outPtr = io + n * 8;
  if (n * (8 + A.BR_BYTES) > engine0.layout.ioBytes) throw new Error(`paging workloads: ${n} addresses do not fit the I/O buffer`);
  const inputs = pagingInputs(scn, n, options.seqOffsetPages);
  const dir = options.fileDir ?? '.';
  const root = scn.root;
  const N = count(n);
  const warmN = Math.min(n, 4096);
  const out: Workload[] = [];
  const want = (family: string) => !options.families || options.families.some((f) => family.startsWith(f));

  const MODES = { naive: A.BATCH_NAIVE, cached: A.BATCH_CACHED, interleaved: A.BATCH_INTERLEAVED } as const;
  const batch = (label: string, file: string, vas: BigUint64Array, modeName: keyof typeof MODES, family = 'translate'): Workload => {
    const mode = MODES[modeName];
    return {
      name: `translate ${N} ${label} (${modeName})`,
      family,
      items: n,
      unit: 'addresses',
      prepare(e) {
        e.prepare({ format: x86_64 });
        e.big.set(vas, inPtr / 8);
      },
      warm(e) {
        e.backend.paging.translateBatch(root, inPtr, outPtr, warmN, 0, mode);
        return e.u32[outPtr / 4 + 2]!;
      },
      run(e) {
        e.backend.paging.translateBatch(root, inPtr, outPtr, n, 0, mode);
        return e.u32[(outPtr + (n - 1) * A.BR_BYTES) / 4 + 2]!;
      },
      checksum: (e) => recordsSum(e, outPtr, n),
      native: { spec: `batch:${dir}/vas-${file}.bin:${mode}`, files: [{ path: `${dir}/vas-${file}.bin`, data: vas }] },
    };
  };

  if (want('translate')) {
    for (const m of ['naive', 'cached', 'interleaved'] as const) out.push(batch('random', 'random', inputs.random, m));
    out.push(batch('random sorted by VA', 'sorted', inputs.sorted, 'cached'));
    for (const m of ['naive', 'cached', 'interleaved'] as const) out.push(batch('consecutive pages', 'consecutive', inputs.consecutive, m));
  }
  if (want('range')) {
    out.push({
      name: `translateRange ${N} pages`,
      family: 'range',
      items: n,
      unit: 'pages',
      prepare(e) {
        e.prepare({ format: x86_64 });
      },
      warm(e) {
        e.backend.paging.translateRange(root, inputs.seqVa, warmN, outPtr, 0);
        return e.u32[outPtr / 4 + 2]!;
      },
      run(e) {
        e.backend.paging.translateRange(root, inputs.seqVa, n, outPtr, 0);
        return e.u32[(outPtr + (n - 1) * A.BR_BYTES) / 4 + 2]!;
      },
      checksum: (e) => recordsSum(e, outPtr, n),
      native: { spec: `range:${inputs.seqVa.toString(16)}:${n}` },
    });
    // The same pages as run records (RR_*): one 24-byte record per run of pages.
    let runs = 0;
    const maxRuns = Math.floor((n * A.BR_BYTES) / A.RR_BYTES); // what the output buffer holds
    out.push({
      name: `translateRuns ${N} pages`,
      family: 'range',
      items: n,
      unit: 'pages',
      prepare(e) {
        e.prepare({ format: x86_64 });
      },
      // Warmed at full size: the run sink is called once per leaf table, so 4096 pages
      // (8 calls a warm-up call) left it in Liftoff until the measured runs tiered it up.
      // A full-size call costs a few ms; the warm-up's 60 calls stay well under a second.
      warm(e) {
        return e.backend.paging.translateRuns(root, inputs.seqVa, n, outPtr, maxRuns, 0, 0xffffffff) >>> 0;
      },
      run(e) {
        runs = e.backend.paging.translateRuns(root, inputs.seqVa, n, outPtr, maxRuns, 0, 0xffffffff) >>> 0;
        return runs;
      },
      checksum: (e) => checksumOf(e.u32, outPtr, runs * A.RR_BYTES),
      native: { spec: `runs:${inputs.seqVa.toString(16)}:${n}` },
    });
  }
  if (want('paged')) out.push(...pagedWorkloads(scn, inputs, n, N, warmN));
  if (want('sort')) {
    // What sorting a random batch costs the caller (plain JS, the same for every backend).
    let sorted = inputs.random;
    out.push({
      name: `sort ${N} random VAs (JS, caller side)`,
      family: 'sort',
      items: n,
      unit: 'addresses',
      backends: ['reference'],
      prepare() {},
      warm() {
        return Number(inputs.random.slice(0, 1024).sort()[0]! & 0xffffn);
      },
      run() {
        sorted = inputs.random.slice().sort();
        return Number(sorted[0]! & 0xffffn);
      },
      checksum: () => new Checksum().array(sorted).hex(),
    });
  }
  if (want('list')) {
    const max = options.listBatch ?? 4096;
    let last = '';
    const listRun = (e: Engine, full: boolean): [number, string] => {
      const k = e.backend.paging;
      const u32 = e.u32;
      const sum = full ? new Checksum() : undefined;
      k.enumStart(root);
      let c = 0, x = 0, m: number;
      while ((m = k.enumNext(outPtr, max)) !== 0) {
        c += m;
        x = (x ^ u32[outPtr / 4]! ^ u32[(outPtr + (m - 1) * A.MR_BYTES) / 4 + 1]!) | 0;
        // The 28 meaningful bytes of each record (the last word is padding the kernels do not write).
        if (sum) for (let i = 0; i < m; i++) sum.words(u32, outPtr + i * A.MR_BYTES, A.MR_STATUS + 4);
      }
      return [c ^ x, sum ? sum.hex() : `${c}:${(x >>> 0).toString(16)}`];
    };
    const leaves = Math.floor(scn.bytes / scn.leafSize);
    out.push({
      name: `list mappings (${bytesName(scn.bytes)}, ${count(leaves)} leaves)`,
      family: 'list',
      items: leaves,
      unit: 'mappings',
      prepare(e) {
        e.prepare({ format: x86_64 });
      },
      warm(e) {
        const k = e.backend.paging;
        k.enumStart(root);
        return k.enumNext(outPtr, Math.min(max, 512));
      },
      run(e) {
        const [v, s] = listRun(e, false);
        last = s;
        return v;
      },
      checksum: () => last,
      verify: (e) => listRun(e, true)[1],
      native: { spec: `list:${max}` },
    });
  }
  if (want('map')) {
    const mapBytes = options.mapBytes ?? 4 * 2 ** 30;
    const mroot = scn.nextFreeFrame;
    const rootPa = BigInt(mroot) * BigInt(PAGE);
    const va = 0xffff_c900_0000_0000n;
    let tables = 0;
    let lastCount = 0;
    const end = engine0.layout.ramBytes / PAGE;
    const doMap = (e: Engine, bytes: number) => {
      const alloc = new BumpAllocator(mroot + 1, end);
      const r = e.map(rootPa, va, 0n, BigInt(bytes), { write: true, execute: false, global: true }, alloc, { format: x86_64, largestLeaf: PAGE });
      tables = r.tableFrames.length;
      return r.leaves;
    };
    const clear = (e: Engine) => e.phys.fill(rootPa, PAGE, 0);
    out.push({
      name: `map+unmap ${bytesName(mapBytes)} of 4 KiB pages (fresh tables)`,
      family: 'map',
      items: mapBytes / PAGE,
      unit: 'pages',
      prepare: clear,
      warm(e) {
        const l = doMap(e, 2 ** 21);
        const u = e.unmap(rootPa, va, 2n ** 21n);
        clear(e);
        return l + u;
      },
      run(e) {
        const l = doMap(e, mapBytes);
        const u = e.unmap(rootPa, va, BigInt(mapBytes));
        lastCount = l + u;
        return lastCount;
      },
      reset: clear,
      checksum: () => String(lastCount),
      verify(e) {
        clear(e);
        doMap(e, mapBytes);
        const s = checksumOf(e.u32, e.layout.ramBase + mroot * PAGE, (tables + 1) * PAGE);
        e.unmap(rootPa, va, BigInt(mapBytes));
        clear(e);
        return s;
      },
      native: { spec: `map:${va.toString(16)}:0:${mapBytes.toString(16)}:${mroot}` },
    });
    if ((mroot + 1 + Math.ceil(mapBytes / 2 ** 21) + 8) > end) throw new Error('paging workloads: no room for the map tables; build the scenario with more spare RAM');
  }
  if (want('api')) {
    let result: ReturnType<Engine['translateBatch']> | undefined;
    out.push({
      name: `api translateBatch ${N} random (BigInt in/out)`,
      family: 'api',
      items: n,
      unit: 'addresses',
      prepare(e) {
        e.prepare({ format: x86_64 });
      },
      warm(e) {
        return e.translateBatch(root, inputs.random.subarray(0, warmN), { format: x86_64 }).status[0]!;
      },
      run(e) {
        result = e.translateBatch(root, inputs.random, { format: x86_64 });
        return result.status[n - 1]!;
      },
      checksum: () => (result ? new Checksum().array(result.addr).array(result.status).hex() : ''),
    });
    const singles = Math.min(n, 10_000);
    let sum = 0;
    out.push({
      name: `api translate ${count(singles)} single calls`,
      family: 'api',
      items: singles,
      unit: 'addresses',
      prepare(e) {
        e.prepare({ format: x86_64 });
      },
      warm(e) {
        let s = 0;
        for (let i = 0; i < 100; i++) {
          const r = e.translate(root, inputs.random[i]!, { format: x86_64 });
          if (r.ok) s = (s + Number(r.pa & 0xffffffn)) | 0;
        }
        return s;
      },
      run(e) {
        let s = 0;
        for (let i = 0; i < singles; i++) {
          const r = e.translate(root, inputs.random[i]!, { format: x86_64 });
          if (r.ok) s = (s + Number(r.pa & 0xffffffn)) | 0;
        }
        sum = s;
        return s;
      },
      checksum: () => String(sum),
    });
  }
  return out;
}

/** The batch modes of the paged family: [input label, inputs field, mode]. */
const PAGED = [
  ['random', 'random', A.BATCH_INTERLEAVED, 'interleaved'],
  ['random', 'random', A.BATCH_NAIVE, 'naive'],
  ['consecutive pages', 'consecutive', A.BATCH_CACHED, 'cached'],
] as const;

/**
 * The same batches on an engine over a source: the scenario's RAM image as a
 * memorySource, read through a frame cache large enough to hold every table
 * (a warm cache: the first run faults the frames in, the measured runs find
 * them). Each row's resident twin is the translate row of the same name.
 */
function pagedWorkloads(scn: WalkScenario, inputs: PagingInputs, n: number, N: string, warmN: number): Workload[] {
  const resident = scn.engine;
  const bytes = new Uint8Array(resident.memory.buffer, resident.layout.ramBase, resident.layout.ramBytes).slice();
  let paged: Engine | undefined;
  const engineFor = (e: Engine): Engine => {
    paged ??= createEngine({ source: memorySource(bytes, 'scenario'), cacheBytes: bytes.length + 16 * 2 ** 20, ioBytes: resident.layout.ioBytes });
    return e.backend.name === paged.backend.name ? paged : paged.withBackend(e.backend.name);
  };
  const root = scn.root;
  return PAGED.map(([label, field, mode, modeName]): Workload => {
    const vas = inputs[field];
    const at = (e: Engine) => ({ inPtr: e.layout.ioBase, outPtr: e.layout.ioBase + n * 8 });
    return {
      name: `translate ${N} ${label} over a source, warm cache (${modeName})`,
      family: 'paged',
      items: n,
      unit: 'addresses',
      backends: ['wasm', 'reference'],
      prepare(e) {
        const p = engineFor(e);
        p.prepare({ format: x86_64 });
        p.big.set(vas, at(p).inPtr / 8);
        // Fault every frame the batch reads in, untimed: the cache is warm for warm-up and the runs.
        p.backend.paging.translateBatch(root, at(p).inPtr, at(p).outPtr, n, 0, mode);
      },
      warm(e) {
        const p = engineFor(e);
        p.backend.paging.translateBatch(root, at(p).inPtr, at(p).outPtr, warmN, 0, mode);
        return p.u32[at(p).outPtr / 4 + 2]!;
      },
      run(e) {
        const p = engineFor(e);
        p.backend.paging.translateBatch(root, at(p).inPtr, at(p).outPtr, n, 0, mode);
        return p.u32[(at(p).outPtr + (n - 1) * A.BR_BYTES) / 4 + 2]!;
      },
      checksum: (e) => recordsSum(engineFor(e), at(engineFor(e)).outPtr, n),
    };
  });
}
