// The explorer's worker: it holds the open dump (a File read in slices) and answers
// the page's questions, so a large dump never blocks the page. Long answers (the map
// of a space, the listing) are sent in parts, with pauses in which a click is served.
import { fileSource, type FileByteSource } from '../file-source.js';
import { loadKernels } from '../kernels.js';
import { walkSteps, describeStep } from '../walk-steps.js';
import { openDumpBytes, type Dump } from '../../engine/open-dump.js';
import { x86_64, x86_64_la57 } from '../../paging/formats/x86.js';
import { x86_pae, x86_32 } from '../../paging/formats/x86-legacy.js';
import { reverseLookup } from '../../address/reverse.js';
import { discoverRoots } from '../../address/roots.js';
import { infoTlbLines } from '../../images/qemu-format.js';
import { xxdLines } from '../../cli/hexdump.js';
import { describeTranslation, sizeAndRights } from '../../cli/output.js';
import { hex, hex16 } from '../../util/numbers.js';
import type { PagingFormat } from '../../paging/format.js';
import type { Mapping } from '../../paging/types.js';
import { RIGHT_EXECUTE, RIGHT_USER, RIGHT_WRITE, type Description, type Half, type Paging, type Reply, type Request, type Run, type SpaceChoice } from './protocol.js';

const FORMATS: Record<Paging, PagingFormat> = { '4': x86_64, '5': x86_64_la57, pae: x86_pae, '32': x86_32 };
const PAGING_OF_MODE: Record<string, Paging | undefined> = { '4-level': '4', '5-level': '5', pae: 'pae', '32-bit': '32' };
/** A frame cache of this size keeps memory bounded whatever the dump's size. */
const CACHE_BYTES = 128 * 2 ** 20;
/** Longest stretch of work between two pauses (ms): a click waits at most this. */
const SLICE_MS = 40;

let dump: Dump | undefined;
let source: FileByteSource | undefined;
/** The space being mapped; a newer request makes the older one stop. */
let currentSpace = 0;

const post = (r: Reply) => (self as unknown as Worker).postMessage(r);
const pause = () => new Promise((r) => setTimeout(r, 0));

/** The walk as the CLI's listing and map see it: QEMU's monitor checks only P (4/5-level). */
function walkOptions(c: SpaceChoice) {
  const format = FORMATS[c.paging];
  return c.paging === '4' || c.paging === '5' ? { format, ignoreReserved: true, maxPhyAddr: 50 } : { format };
}

/**
 * The source, saying now and then how much of the file it has read while the dump
 * is opened: opening a flattened kdump reads the whole file's index, which takes a
 * while on a large one.
 */
let opening = false;
function withProgress(s: FileByteSource): FileByteSource {
  let last = performance.now();
  return {
    name: s.name,
    size: s.size,
    get bytesRead() {
      return s.bytesRead;
    },
    read(offset, length, into) {
      const out = s.read(offset, length, into);
      if (opening && performance.now() - last > 100) {
        last = performance.now();
        post({ type: 'progress', what: `reading ${s.name}: ${s.bytesRead} bytes so far, at ${offset} of ${s.size}`, done: offset, total: s.size });
      }
      return out;
    },
    close: () => s.close(),
  };
}

async function open(file: File): Promise<void> {
  dump?.close();
  dump = undefined;
  post({ type: 'progress', what: 'loading the kernels', done: 0, total: 1 });
  await loadKernels();
  post({ type: 'progress', what: 'reading the headers', done: 0, total: 1 });
  source = withProgress(fileSource(file));
  opening = true;
  try {
    dump = openDumpBytes(source, { cacheBytes: CACHE_BYTES });
  } finally {
    opening = false;
  }
  const d = dump.description;
  const lines = [`format: ${d.format}${d.machine ? ` (${d.machine})` : ''}`, `file: ${file.name}, ${file.size} bytes`];
  if (d.compression?.length) lines.push(`compression: ${d.compression.join(', ')}`);
  const total = dump.ranges.reduce((s, r) => s + (r.end - r.start), 0n);
  lines.push(`physical ranges: ${dump.ranges.length}, ${total} bytes`);
  for (const r of dump.ranges.slice(0, 16)) lines.push(`  ${hex16(r.start)}-${hex16(r.end)}`);
  if (dump.ranges.length > 16) lines.push(`  ... ${dump.ranges.length - 16} more`);
  lines.push(`vCPUs: ${d.vcpus.length}`);
  for (const v of d.vcpus) lines.push(`  vCPU ${v.index}: ${v.pagingMode} paging, CR3 ${hex(v.cr3)}${v.root === null ? '' : `, root table ${hex(v.root)}`}`);
  for (const [k, v] of Object.entries(d.details ?? {})) lines.push(`${k}: ${String(v)}`);
  const description: Description = {
    name: file.name,
    fileSize: file.size,
    lines,
    vcpus: d.vcpus.map((v) => ({ index: v.index, mode: v.pagingMode, root: v.root === null ? null : v.cr3, paging: PAGING_OF_MODE[v.pagingMode] })),
  };
  post({ type: 'opened', description, bytesRead: source.bytesRead });
}

function halvesOf(c: SpaceChoice): Half[] {
  const p = dump!.engine.prepare({ format: FORMATS[c.paging] });
  if (!p.signExtend) return [{ name: 'all', start: 0n, bytes: 1n << BigInt(p.vaBits) }];
  const half = 1n << BigInt(p.vaBits - 1);
  return [
    { name: 'lower half (user)', start: 0n, bytes: half },
    { name: 'upper half (kernel)', start: (1n << 64n) - half, bytes: half },
  ];
}

const rightsBits = (m: Mapping) => (m.rights.write ? RIGHT_WRITE : 0) | (m.rights.user ? RIGHT_USER : 0) | (m.rights.execute ? RIGHT_EXECUTE : 0);

/** The leaves of a space as runs, sent in parts as they are found. */
async function space(id: number, c: SpaceChoice): Promise<void> {
  currentSpace = id;
  post({ type: 'halves', id, halves: halvesOf(c) });
  const it = dump!.engine.mappingsIter(c.root, walkOptions(c));
  // The last run may still grow: every part sent keeps it back.
  const runs: [bigint, bigint, number, number][] = [];
  let last: [bigint, bigint, number, number] | undefined;
  let mappings = 0;
  let sliceStart = performance.now();
  for (const m of it) {
    mappings++;
    const end = m.va + BigInt(m.size);
    const r = rightsBits(m);
    if (last && last[1] === m.va && last[2] === m.size && last[3] === r) last[1] = end;
    else runs.push((last = [m.va, end, m.size, r]));
    if ((mappings & 255) === 0 && performance.now() - sliceStart > SLICE_MS) {
      post({ type: 'runs', id, runs: runs.splice(0, runs.length - 1), mappings, done: false, bytesRead: source!.bytesRead });
      await pause();
      if (currentSpace !== id) return;
      sliceStart = performance.now();
    }
  }
  post({ type: 'runs', id, runs, mappings, done: true, bytesRead: source!.bytesRead });
}

/** The `translate` line of the CLI (memwalk's own format). */
function inspect(va: bigint, roots: readonly bigint[], c: SpaceChoice): void {
  const e = dump!.engine;
  const format = FORMATS[c.paging];
  const t = e.translate(c.root, va, { format });
  const walk = [describeTranslation(t), ...walkSteps(e, c.root, va, { format }).map(describeStep)];
  let hexdump: string[] = [];
  let reverse: string[] = [];
  if (t.ok) {
    const page = t.pa & ~0xfffn;
    try {
      hexdump = [`physical page ${hex(page)} (virtual ${hex(va & ~0xfffn)}):`, ...xxdLines(va & ~0xfffn, e.phys.read(page, 4096))];
    } catch (err) {
      hexdump = [(err as Error).message];
    }
    const { results, truncated } = reverseLookup(e, roots.length ? roots : [c.root], [page], { ...walkOptions(c), limit: 64 });
    reverse = [`virtual addresses that map physical ${hex(page)}:`];
    for (const h of results[0]?.hits ?? []) reverse.push(`${hex16(h.va)} ${sizeAndRights(h.size, h.rights)} under ${h.roots.map(hex).join(', ')}`);
    if (truncated.length) reverse.push('... (first 64 shown)');
  }
  post({ type: 'inspected', va, walk, hexdump, reverse });
}

/** The listing of `mappings --format qemu-tlb --limit 0`, in parts. */
async function listing(c: SpaceChoice): Promise<void> {
  if (c.paging !== '4' && c.paging !== '5') throw new Error("QEMU's listing is reproduced for 4- and 5-level paging only");
  const lines = infoTlbLines(dump!.engine.mappingsIter(c.root, walkOptions(c)), c.paging === '5');
  let part: string[] = [];
  let n = 0;
  for (const line of lines) {
    part.push(line, '\n');
    if (++n % 20000 === 0) {
      post({ type: 'listing-part', text: part.join('') });
      part = [];
      post({ type: 'progress', what: 'listing', done: n, total: 0 });
      await pause();
    }
  }
  post({ type: 'listing-part', text: part.join('') });
  post({ type: 'listing-done', lines: n });
}

function discover(c: SpaceChoice): void {
  const known = dump!.description.vcpus.flatMap((v) => (PAGING_OF_MODE[v.pagingMode] === c.paging ? [v.cr3] : []));
  const { spaces } = discoverRoots(dump!.engine, known.length ? known : [c.root], {
    format: FORMATS[c.paging],
    onProgress: (done, total) => post({ type: 'progress', what: 'looking for address spaces', done, total }),
  });
  post({
    type: 'discovered',
    spaces: spaces.map((s) => ({
      root: s.root,
      label: `${hex(s.root)}${s.known.length ? ' (vCPU)' : ''}: ${s.userMappings} user + ${s.kernelMappings} kernel leaves`,
    })),
  });
}

self.onmessage = async (event: MessageEvent<Request>) => {
  const q = event.data;
  try {
    if (q.type === 'open') await open(q.file);
    else if (!dump) throw new Error('no dump is open');
    else if (q.type === 'space') await space(q.id, q);
    else if (q.type === 'inspect') inspect(q.va, q.roots, q);
    else if (q.type === 'listing') await listing(q);
    else if (q.type === 'discover') discover(q);
  } catch (err) {
    post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  }
};
