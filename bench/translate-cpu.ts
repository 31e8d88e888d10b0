// The translate batches on one shared machine, measured so that load matters less:
// WASM resident, WASM over a source (warm frame cache) and the C baseline, run
// alternately round after round in one driver, each timed in CPU time (the C
// built from bench/native with its clock switched to the process's CPU clock).
// Prints min and median per row, WASM/C and source/resident.
//
//   node dist/bench/translate-cpu.js [ROUNDS] [row filter...]
//
// The quick bench's scenario by default (16 GiB of tables, 256K addresses);
// MEMWALK_CPU_GIB=64 MEMWALK_CPU_ADDRESSES=1048576 gives the full bench's.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildWalkScenario, GiB } from '../src/perf/scenario.js';
import { pagingInputs } from '../src/perf/paging-workloads.js';
import { packageRoot } from '../src/perf/native.js';
import { createEngine, type Engine } from '../src/engine/engine.js';
import { memorySource } from '../src/memory/memory-source.js';
import { x86_64 } from '../src/paging/formats/x86.js';
import { checksumOf } from '../src/perf/checksum.js';

const rounds = Number(process.argv[2] ?? 7);
const filters = process.argv.slice(3);
const n = Number(process.env.MEMWALK_CPU_ADDRESSES ?? 2 ** 18);
const dir = mkdtempSync(join(tmpdir(), 'memwalk-translate-cpu-'));
const scn = buildWalkScenario({ bytes: Number(process.env.MEMWALK_CPU_GIB ?? 16) * GiB });
const inputs = pagingInputs(scn, n);
const e = scn.engine;
e.prepare({ format: x86_64 });
const bytes = new Uint8Array(e.memory.buffer, e.layout.ramBase, e.layout.ramBytes).slice();
const p = createEngine({ source: memorySource(bytes, 'scenario'), cacheBytes: bytes.length + 16 * 2 ** 20, ioBytes: e.layout.ioBytes });
p.prepare({ format: x86_64 });
await e.phys.save(join(dir, 'image.bin'));
for (const k of ['random', 'consecutive'] as const) writeFileSync(join(dir, `${k}.bin`), new Uint8Array(inputs[k].buffer));
const csrc = readFileSync(join(packageRoot(), 'bench', 'native', 'memwalk-native.c'), 'utf8').replace('CLOCK_MONOTONIC', 'CLOCK_PROCESS_CPUTIME_ID');
writeFileSync(join(dir, 'native-cpu.c'), csrc);
const binary = join(dir, 'native-cpu');
const cc = spawnSync(process.env.MEMWALK_CC ?? 'cc', ['-O2', '-o', binary, join(dir, 'native-cpu.c')], { encoding: 'utf8' });
const native = cc.status === 0;
if (!native) console.log(`no C baseline: ${(cc.stderr || String(cc.error)).split('\n')[0]}`);

interface Row { name: string; input: 'random' | 'consecutive'; mode: number; w: number[]; s: number[]; c: number[]; sum?: string; bad?: string }
const rows: Row[] = [];
for (const input of ['random', 'consecutive'] as const) {
  for (const [mode, m] of [[0, 'naive'], [1, 'cached'], [2, 'interleaved']] as const) {
    const name = `${input} ${m}`;
    if (!filters.length || filters.some((f) => name.includes(f))) rows.push({ name, input, mode, w: [], s: [], c: [] });
  }
}
const run = (eng: Engine, r: Row, k: number): [number, string] => {
  const io = eng.layout.ioBase, out = io + n * 8;
  eng.big.set(inputs[r.input], io / 8);
  const t0 = process.cpuUsage();
  eng.backend.paging.translateBatch(scn.root, io, out, k, 0, r.mode);
  const t = process.cpuUsage(t0);
  return [(t.user + t.system) / 1000, checksumOf(eng.u32, out, k * 16)];
};
// Warm-up: many small calls (tier-up), a pause for background compilation, more calls.
for (const r of rows) for (const eng of [e, p]) { for (let i = 0; i < 80; i++) run(eng, r, 4096); run(eng, r, n); }
await new Promise((res) => setTimeout(res, 50));
for (const r of rows) for (const eng of [e, p]) for (let i = 0; i < 20; i++) run(eng, r, 4096);
const load0 = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
for (let k = 0; k < rounds; k++) {
  for (const r of rows) {
    const [tw, cw] = run(e, r, n);
    const [ts, cs] = run(p, r, n);
    r.w.push(tw);
    r.s.push(ts);
    if (cw !== cs) r.bad = `source ${cs} != resident ${cw}`;
    r.sum = cw;
  }
  if (!native) continue;
  const res = spawnSync(binary, [join(dir, 'image.bin'), scn.root.toString(16), '3', ...rows.map((r, i) => `t${i}=batch:${join(dir, r.input)}.bin:${r.mode}`)], { encoding: 'utf8' });
  const lines = res.stdout.trim().split('\n').slice(1).map((l) => JSON.parse(l) as { ms: number[]; checksum: string });
  lines.forEach((l, i) => {
    rows[i]!.c.push(...l.ms);
    if (l.checksum !== rows[i]!.sum) rows[i]!.bad = `C ${l.checksum} != WASM ${rows[i]!.sum}`;
  });
}
const min = (a: number[]) => Math.min(...a);
const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
const f = (a: number[]) => `${min(a).toFixed(2)} / ${med(a).toFixed(2)}`;
const x = (num: number[], den: number[]) => (num.length && den.length ? `${(min(num) / min(den)).toFixed(2)} (${(med(num) / med(den)).toFixed(2)})` : '-');
console.log(`load average ${load0} -> ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]}; CPU ms, min / median of ${rounds} rounds`);
console.log('| row | WASM | over a source | C | WASM/C | source/resident |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  console.log(`| ${r.name} | ${f(r.w)} | ${f(r.s)} | ${r.c.length ? f(r.c) : '-'} | ${x(r.c, r.w)} | ${x(r.w, r.s)} |${r.bad ? ` MISMATCH ${r.bad}` : ''}`);
}
if (rows.some((r) => r.bad)) process.exitCode = 1;
rmSync(dir, { recursive: true, force: true }); // the image and inputs are rebuilt every run
