// The benchmark harness without timing: outputs are checksummed equal on every
// backend (wasm, reference, native C when a compiler is present), and the report
// has the shape the lead and the docs rely on. Small images only.
import { describe, test, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildWalkScenario, GiB } from '../src/perf/scenario.js';
import { pagingWorkloads } from '../src/perf/paging-workloads.js';
import { buildGuestScenario, frameWorkloads } from '../src/perf/frame-workloads.js';
import { runWorkloads } from '../src/perf/runner.js';
import { ensureNative } from '../src/perf/native.js';
import { commitInfo, machineInfo, ratios, writeReport, type Report } from '../src/perf/report.js';
import { speedTargets } from '../src/perf/targets.js';
import { checksumOf, Checksum } from '../src/perf/checksum.js';
import { stats } from '../src/perf/measure.js';
import { testDir } from './helpers/temp-dir.js';

const native = ensureNative();
const quickWarm = { minCalls: 3, maxMs: 50 };
const dir = testDir('memwalk-bench-');

describe('benchmark harness', () => {
  const scn = buildWalkScenario({ bytes: 1 * GiB, spareBytes: 8 * 2 ** 20 });
  const n = 4096;
  const workloads = pagingWorkloads(scn, { n, fileDir: dir, mapBytes: 64 * 2 ** 20, families: ['translate', 'range', 'list', 'map', 'api'] });

  test('every paging workload gives the same output on wasm and reference, run after run', async () => {
    const r = await runWorkloads(scn.engine, workloads, { runs: 2, backends: ['wasm', 'reference'], warm: quickWarm });
    expect(r.mismatches).toEqual([]);
    const names = new Set(r.tasks.map((t) => t.name));
    for (const name of names) {
      const sums = r.tasks.filter((t) => t.name === name).map((t) => t.checksum);
      expect(sums).toHaveLength(2);
      expect(new Set(sums).size).toBe(1);
    }
  });

  test.runIf(native.available)('the native C program computes the same checksums as the engine', async () => {
    const r = await runWorkloads(scn.engine, workloads, { runs: 1, warm: quickWarm, native: { status: native, imagePath: join(dir, 'image.bin'), repeats: 1, root: scn.root } });
    expect(r.nativeError).toBeUndefined();
    expect(r.mismatches).toEqual([]);
    const nativeTasks = r.tasks.filter((t) => t.backend === 'native');
    expect(nativeTasks.length).toBe(workloads.filter((w) => w.native).length);
    for (const t of nativeTasks) {
      const wasm = r.tasks.find((x) => x.name === t.name && x.backend === 'wasm')!;
      expect(t.checksum, t.name).toBe(wasm.checksum);
    }
  });

  test.skipIf(native.available)(`native baseline skipped: ${native.reason ?? ''}`, () => {
    expect(native.available).toBe(false);
  });

  test('frame workloads (chase, scan, fix-ups) agree across backends and the native chase/scan', async () => {
    const g = buildGuestScenario({ bytes: 256 * 2 ** 20, order: 'random', processes: 12 });
    const ws = frameWorkloads(g, { fileDir: dir });
    const r = await runWorkloads(g.engine, ws, { runs: 2, warm: quickWarm, ...(native.available ? { native: { status: native, repeats: 1, root: 0n } } : {}) });
    expect(r.mismatches).toEqual([]);
    expect(r.tasks.filter((t) => t.backend === 'wasm')).toHaveLength(ws.length);
  });

  test('a run whose output differs between backends is reported, not timed', async () => {
    const w = workloads[0]!;
    const broken = { ...w, name: 'broken', checksum: (e: Parameters<typeof w.checksum>[0]) => (e.backend.name === 'wasm' ? 'a' : 'b') };
    const r = await runWorkloads(scn.engine, [broken], { runs: 1, backends: ['wasm', 'reference'], warm: quickWarm });
    expect(r.mismatches.length).toBe(1);
    expect(r.tasks).toEqual([]);
  });

  test('the report JSON has the required shape', async () => {
    const r = await runWorkloads(scn.engine, workloads.slice(0, 2), { runs: 3, backends: ['wasm', 'reference'], warm: quickWarm });
    const report: Report = {
      kind: 'bench',
      machine: machineInfo(),
      commit: commitInfo(process.cwd()),
      date: new Date().toISOString(),
      scenario: { test: true },
      native: { available: false, reason: 'test' },
      tasks: r.tasks,
      ratios: ratios(r.tasks),
      targets: speedTargets(r.tasks, n),
      notes: [],
    };
    const { json, md } = writeReport(report, dir, 'latest');
    const j = JSON.parse(readFileSync(json, 'utf8'));
    expect(typeof j.machine.cpu).toBe('string');
    expect(j.machine.node).toBe(process.version);
    expect(typeof j.commit).toBe('string');
    expect(Array.isArray(j.tasks)).toBe(true);
    for (const t of j.tasks) {
      expect(typeof t.name).toBe('string');
      expect(['wasm', 'reference', 'native']).toContain(t.backend);
      expect(typeof t.medianMs).toBe('number');
      expect(Array.isArray(t.samples)).toBe(true);
      expect(t.samples.length).toBe(t.runs);
    }
    // The same task name for the same work on every backend.
    for (const name of new Set(j.tasks.map((t: { name: string }) => t.name))) {
      expect(j.tasks.filter((t: { name: string }) => t.name === name).map((t: { backend: string }) => t.backend).sort()).toEqual(['reference', 'wasm']);
    }
    expect(readFileSync(md, 'utf8')).toContain('| operation | WASM ms | TS ms | native ms | WASM/TS | WASM/native |');
  });
});

describe('checksum and statistics', () => {
  test('checksum is the two-lane word hash the C program uses', () => {
    const u = new Uint32Array([1, 2, 3, 0xffffffff]);
    expect(checksumOf(u, 0, 16)).toBe(new Checksum().array(u).hex());
    expect(checksumOf(u, 0, 16)).not.toBe(checksumOf(u, 0, 12));
    expect(new Checksum().hex()).toBe('811c9dc59747b28c');
  });

  test('stats: median and median absolute deviation', () => {
    const s = stats([1, 2, 3, 4, 100]);
    expect(s.medianMs).toBe(3);
    expect(s.madMs).toBe(1);
    expect(s.minMs).toBe(1);
    expect(s.maxMs).toBe(100);
  });
});

