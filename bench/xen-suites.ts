// Workloads of the hypervisor-side kernels that need engines of their own: the
// direct map of RAM banks (seed 003), move_xen's relocation (seed 000), and the
// QEMU monitor listings of a real Linux dump's page tables (issue 6).
import { readFileSync } from 'node:fs';
import { brotliDecompressSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { createEngine, type Engine } from '../src/engine/engine.js';
import { setupDirectMap, type DirectMapOptions, type DirectMapReport } from '../src/xen/direct-map.js';
import { x86_64 } from '../src/paging/formats/x86.js';
import { aarch64_4k } from '../src/paging/formats/aarch64.js';
import { buildHypervisorTables } from '../src/xen/hypervisor-tables.js';
import { relocateHypervisorTables } from '../src/xen/relocate.js';
import { infoMemBytes, infoTlbBytes } from '../src/images/qemu-listing.js';
import { ByteSink } from '../src/cli/output.js';
import { jsonBatch, jsonLines, lineBatch, memwalkLines } from '../src/cli/mapping-bytes.js';
import { selectedBatches } from '../src/paging/mapping-records.js';
import { prepareWalk } from '../src/paging/prepare.js';
import { QEMU_BARE_WALK, RELOCATE_WHOLE, RELOCATE_COLD } from '../src/perf/targets.js';
import { Checksum, checksumOf } from '../src/perf/checksum.js';
import { runWorkloads } from '../src/perf/runner.js';
import { measureTurns, nativeTurns, pairTurns, type TurnsOut } from '../src/perf/turns.js';
import type { Workload } from '../src/perf/workload.js';
import type { ExtraRun, SuiteResult } from './suite.js';

const K = 1n << 10n, M = 1n << 20n, G = 1n << 30n, T = 1n << 40n;
/** The package root, from bench/ (ts) or dist/bench/ (built). */
const root = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../' : '../', import.meta.url));

/** Feed text to a checksum (which reads whole 32-bit words: pad to 4 bytes). */
function addText(c: Checksum, text: string): Checksum {
  const bytes = new TextEncoder().encode(text);
  const padded = new Uint8Array((bytes.length + 3) & ~3);
  padded.set(bytes);
  return c.array(padded);
}

/** The README's 1 TiB two-bank layout: 259 4 KiB, 1022 2 MiB and 1022 1 GiB leaves, 9 table pages. */
function directMapWorkload(name: string, layout: Omit<DirectMapOptions, 'engine'>): Workload {
  // The report is kept as returned and turned into text for the checksum, outside the timed run.
  let last: DirectMapReport | undefined;
  const text = () => JSON.stringify(last, (_k, v) => (typeof v === 'bigint' ? v.toString(16) : v));
  const map = (e: Engine) => {
    last = setupDirectMap({ engine: e, ...layout });
    return last.tablePages;
  };
  return {
    name,
    family: 'directmap',
    items: 1,
    unit: 'layouts',
    prepare: (e) => e.phys.fill(0, e.phys.size),
    // Only the table pages the last run wrote are cleared (as the relocation puts back only its tables):
    // clearing all 64 MiB before each run measured the cold caches it leaves, the same on both backends.
    reset: (e) => {
      for (const f of last?.tableFrames ?? []) e.phys.fill(f * 4096, 4096);
    },
    warm: (e) => {
      const r = setupDirectMap({ engine: e, ...layout }).tablePages;
      e.phys.fill(0, e.phys.size);
      return r;
    },
    run: map,
    // The report after every run; the tables themselves once more, untimed, across backends.
    checksum: () => addText(new Checksum(), text()).hex(),
    verify: (e) => {
      map(e);
      const sum = `${text().length}:${checksumOf(e.u32, e.layout.ramBase, 16 * 2 ** 20)}`;
      e.phys.fill(0, e.phys.size);
      return sum;
    },
  };
}

const banks = [
  { start: 1n * M, size: 768n * G - 1n * M },
  { start: 1n * T, size: 256n * G + 2n * M + 12n * K },
];
const reserved = [
  { start: 0n, size: 1n * M },
  { start: 2n * M, size: 4n * M },
  { start: 1n * G, size: 4n * M, noMap: true },
  { start: 768n * G, size: 1n * G },
];

/** Copies relocated per run in the judged row (a relocation takes about 1 µs). */
const RELOCATE_COPIES = 8;
/** Runs per warm-up call of the relocation rows. */
const WARM_REPEATS = 16;

/**
 * The relocation over a Xen-like table set (built into `engine` now, so the
 * native task's input exists before the run): the native task gets the 8 MiB
 * image as a file and prints `entries:hash`, what verify() computes. `cold`: one
 * relocation a run, the whole 8 MiB copy put back before it, as move_xen's memcpy
 * leaves it (the caches and TLBs then hold little of either program). Else a run
 * relocates RELOCATE_COPIES copies of the tables, each moved 2 MiB less than the
 * one before and its table pages (the bytes the fix-up reads and writes) put back
 * before the run: a relocation measured, not what a copy evicted, nor the time
 * between two samples. Both sides do the same; the hash covers the put-back parts.
 */
function relocateWorkload(engine: Engine, dir: string, cold: boolean): Workload {
  const base = 16n * M, delta = 32n * M, step = 2n * M;
  const imageBytes = 8 * 2 ** 20;
  const tables = buildHypervisorTables(engine, base);
  // The image is built once (the runs change only its copy); an 8 MiB buffer per
  // run would make garbage that the collector then reclaims during timed runs.
  const image = engine.phys.read(base, imageBytes);
  const first = Number(tables.tables.reduce((x, t) => (t < x ? t : x)) - base);
  const end = Number(tables.tables.reduce((x, t) => (t > x ? t : x)) - base) + 4096;
  const [off, len] = cold ? [0, imageBytes] : [first, end - first];
  const copies = cold ? 1 : RELOCATE_COPIES;
  const deltas = Array.from({ length: copies }, (_, k) => delta - BigInt(k) * step);
  const part = image.subarray(off, off + len);
  const options = deltas.map((d) => ({ root: tables.root, l2xenmap: tables.l2xenmap, delta: d }));
  let n = 0;
  const whole = (e: Engine) => e.phys.write(base + delta, image);
  const fresh = (e: Engine) => {
    for (const d of deltas) e.phys.write(base + d + BigInt(off), part);
  };
  const relocateAll = (e: Engine) => {
    let entries = 0;
    for (const o of options) entries += relocateHypervisorTables(e, o).entries;
    return entries;
  };
  whole(engine);
  fresh(engine);
  const file = `${dir}/relocate-image.bin`;
  const hexOf = (v: bigint) => v.toString(16);
  return {
    name: cold ? RELOCATE_COLD : RELOCATE_WHOLE,
    family: 'relocate',
    items: copies,
    unit: 'relocations',
    prepare: (e) => {
      whole(e);
      fresh(e);
    },
    reset: fresh,
    // The runner's warm-up stops after 60 calls once their times agree within 10 µs, which a call
    // of a few µs always does: each warm-up call repeats the run 16 times, so V8 has optimised the
    // TS around the kernel (a few thousand calls) as a caller relocating often finds it.
    warm: (e) => {
      let r = 0;
      for (let i = 0; i < WARM_REPEATS; i++) {
        r += relocateAll(e);
        fresh(e);
      }
      return r;
    },
    run: (e) => (n = relocateAll(e)),
    checksum: () => String(n),
    verify: (e) => {
      relocateAll(e);
      const c = new Checksum();
      for (const d of deltas) c.words(e.u32, e.layout.ramBase + Number(base + d) + off, len);
      fresh(e);
      return `${n}:${c.hex()}`;
    },
    native: {
      spec: `relocate:${file}:${[base, delta, tables.root, tables.l2xenmap, BigInt(engine.layout.ramBytes), BigInt(off), BigInt(len), BigInt(copies), step].map(hexOf).join(':')}`,
      files: [{ path: file, data: image }],
    },
  };
}

/** The page tables of the real 4-level Linux 6.1 dump captured from QEMU 7.2 (test/fixtures/qemu). */
async function qemuEngine(): Promise<{ engine: Engine; cr3: bigint; lines: number }> {
  const dir = root + 'test/fixtures/qemu/4level/';
  const meta = JSON.parse(readFileSync(dir + 'meta.json', 'utf8'));
  const { decodePages } = await import(root + 'scripts/qemu-e2e/monitor-walk.mjs');
  const engine = createEngine({ ramBytes: meta.mem * 2 ** 20 });
  for (const [pa, bytes] of decodePages(brotliDecompressSync(readFileSync(dir + 'tables.bin.br'))) as Map<bigint, Uint8Array>) {
    engine.phys.write(pa, bytes);
  }
  return { engine, cr3: BigInt(meta.vcpu0.cr3), lines: meta.lines.infoTlb };
}

/** The listing formats of the qemu family: QEMU's two and `memwalk mappings`' own (text lines, --json). */
type ListingKind = 'tlb' | 'mem' | 'text' | 'json';

/** `memwalk mappings` (text or --json) as the CLI writes it: the records' lines into the sink's blocks. */
function memwalkListing(e: Engine, cr3: bigint, monitor: { format: typeof x86_64 }, json: boolean, sink: ByteSink): void {
  const counted = { count: 0, truncated: false };
  if (json) sink.text('{"mappings":[\n');
  let first = true;
  for (const b of selectedBatches(e, cr3, monitor, {}, counted, json ? jsonBatch(e) : lineBatch(e))) {
    if (json) jsonLines(e, b, sink, first);
    else memwalkLines(e, b, sink);
    first = false;
  }
  if (json) sink.text(`],"truncated":${counted.truncated},"count":${counted.count}}\n`);
}

/** The row name of a listing format (targets.ts finds the rows by these). */
export function listingRowName(kind: ListingKind, lines: number): string {
  if (kind === 'text' || kind === 'json') return `list a real 512 MiB Linux dump as memwalk ${kind === 'json' ? 'JSON' : 'text'} lines (one vCPU)`;
  return `list a real 512 MiB Linux dump as QEMU's info ${kind} (one vCPU${kind === 'tlb' ? `, ${lines} lines` : ''})`;
}

/**
 * The listing as `memwalk mappings --format qemu-*` (or memwalk, --json) produces
 * it: the same byte chunks into the same 64 KiB blocks (the CLI hands each to
 * stdout; here each is hashed). `bare`: the enumerator's kernel calls alone over
 * the same tables, the walk every listing is made from.
 */
function qemuListingWorkload(kind: ListingKind | 'bare', cr3: bigint, lines: number): Workload {
  const monitor = { format: x86_64, ignoreReserved: true, maxPhyAddr: 50 };
  let sum = '';
  // Timed: the chunks copied into blocks, one word of each block hashed (the output
  // consumed, as stdout would take it, then released for reuse as stdout's write
  // callback does); the full checksum of every byte untimed, after.
  const list = (e: Engine, full = false) => {
    const c = new Checksum();
    let bytes = 0;
    // As stdout does, the consumer hands each block back once it has taken the bytes.
    const sink = new ByteSink((block, release) => {
      bytes += block.length;
      if (full) c.array(padded(block));
      else c.words(new Uint32Array(block.buffer, block.byteOffset, 1), 0, 4);
      release();
      return true;
    });
    if (kind === 'text' || kind === 'json') memwalkListing(e, cr3, monitor, kind === 'json', sink);
    else for (const chunk of (kind === 'tlb' ? infoTlbBytes : infoMemBytes)(e, cr3, monitor, false)) sink.bytes(chunk);
    sink.flush();
    sum = `${bytes}:${c.hex()}`;
    return bytes;
  };
  const bare = (e: Engine) => {
    prepareWalk(e, monitor);
    const k = e.backend.paging, at = e.layout.ioBase;
    const c = new Checksum();
    let n = 0, m: number;
    k.enumStart(cr3);
    while ((m = k.enumNext(at, 4096)) !== 0) {
      n += m;
      // The 28 meaningful bytes of each record (the last word is padding the kernels do not write).
      for (let i = 0; i < m; i++) c.words(e.u32, at + i * 32, 28);
    }
    return `${n}:${c.hex()}`;
  };
  const bareRun = (e: Engine) => {
    prepareWalk(e, monitor);
    const k = e.backend.paging, at = e.layout.ioBase;
    let n = 0, m: number;
    k.enumStart(cr3);
    while ((m = k.enumNext(at, 4096)) !== 0) n += m;
    sum = String(n);
    return n;
  };
  return {
    name: kind === 'bare' ? QEMU_BARE_WALK : listingRowName(kind, lines),
    family: 'qemu',
    items: lines,
    unit: 'leaves',
    prepare() {},
    warm: kind === 'bare' ? bareRun : (e) => list(e),
    run: kind === 'bare' ? bareRun : (e) => list(e),
    checksum: () => sum,
    verify: kind === 'bare' ? bare : (e) => (list(e, true), sum),
  };
}

/** A block padded to whole 32-bit words for the checksum. */
function padded(block: Uint8Array): Uint8Array {
  if ((block.length & 3) === 0) return block;
  const p = new Uint8Array((block.length + 3) & ~3);
  p.set(block);
  return p;
}

export const xenSuite: ExtraRun = async (args, native, timer, log) => {
  const families = args.only ?? ['directmap', 'relocate', 'qemu'];
  const want = (f: string) => families.some((x) => f.startsWith(x));
  const result: SuiteResult & TurnsOut = { tasks: [], mismatches: [], scenario: {}, turns: [] };
  const run = async (engine: Engine, ws: Workload[]) => {
    if (ws.length === 0) return;
    const r = await runWorkloads(engine, ws, { runs: args.runs, timer, log, native: { status: native, repeats: args.runs, root: 0n } });
    result.tasks.push(...r.tasks);
    result.mismatches.push(...r.mismatches);
  };
  if (want('directmap')) {
    await run(createEngine({ ramBytes: '64M', ioBytes: 1 << 20 }), [
      directMapWorkload('direct map, 1 TiB in two banks (x86_64)', { format: x86_64, banks, reserved }),
      directMapWorkload('direct map, 1 TiB in two banks (aarch64_4k, contiguous hint)', { format: aarch64_4k, banks, reserved }),
    ]);
  }
  if (want('relocate')) {
    const engine = createEngine({ ramBytes: '64M', ioBytes: 1 << 20 });
    const whole = relocateWorkload(engine, args.out, false);
    await run(engine, [whole, relocateWorkload(engine, args.out, true)]);
    // The judged row against C, in turns (a relocation is a few µs: measured minutes apart, it moved 2x).
    if (native.available) {
      log(`${whole.name}: WASM and C in turns`);
      await measureTurns(result, () => nativeTurns(whole, engine, { status: native, root: 0n }), log);
    }
  }
  if (want('qemu')) {
    const q = await qemuEngine();
    result.scenario['qemu dump'] = `page tables of a real 512 MiB Linux 6.1 guest (QEMU 7.2, 4-level), ${q.lines} info tlb lines`;
    const [bare, ...formats] = (['bare', 'tlb', 'mem', 'text', 'json'] as const).map((k) => qemuListingWorkload(k, q.cr3, q.lines));
    await run(q.engine, [bare!, ...formats]);
    // Each format against the bare walk, in turns in this process (the "<= 3x the bare walk" rows are judged on these).
    log('qemu: each listing and the bare walk in turns');
    for (const f of formats) await measureTurns(result, () => pairTurns(bare!, f, q.engine), log);
  }
  return result;
};
