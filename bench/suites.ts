// Suites over engines other than the walk scenario's: the hypervisor model
// (page-list chase in list and random order, the flat frame-table scan, the
// m2p-strict fix-up strategies) over PV guests built by buildGuest.

import type { NativeStatus } from '../src/perf/native.js';
import { runWorkloads, type Timer } from '../src/perf/runner.js';
import { buildGuestScenario, frameWorkloads } from '../src/perf/frame-workloads.js';
import { bytesName } from '../src/perf/paging-workloads.js';
import { startProgress } from '../src/util/progress.js';
import { GiB } from '../src/perf/scenario.js';
import { measureTurns, nativeTurns, type TurnsOut } from '../src/perf/turns.js';
import type { ExtraRun, SuiteArgs, SuiteResult } from './suite.js';
import { xenSuite } from './xen-suites.js';
import { addressSuite } from './address-suites.js';

/** Guests: 64 GiB with its page list in frame order, 16 GiB in random order (a random chase of 64 GiB takes ~6 s a run). */
async function guests(args: SuiteArgs, native: NativeStatus, timer: Timer, log: (s: string) => void): Promise<SuiteResult> {
  const families = args.only ?? ['chase', 'scan', 'fixup'];
  const want = ['chase', 'scan', 'fixup'].filter((f) => families.some((x) => f.startsWith(x)));
  const result: SuiteResult & TurnsOut = { tasks: [], mismatches: [], scenario: {}, turns: [] };
  if (want.length === 0) return result;
  const shapes = args.quick
    ? [{ bytes: 4 * GiB, order: 'ascending' as const }, { bytes: 1 * GiB, order: 'random' as const }]
    : [{ bytes: 64 * GiB, order: 'ascending' as const }, { bytes: 16 * GiB, order: 'random' as const }];
  for (const shape of shapes) {
    const scn = buildGuestScenario({ bytes: shape.bytes, order: shape.order, processes: 300 });
    log(`built a ${bytesName(shape.bytes)} PV guest (${shape.order} page list, 300 processes, ${scn.guest.tableFrames} table frames) in ${scn.buildMs.toFixed(0)} ms`);
    result.scenario[`guest ${shape.order}`] = `${bytesName(shape.bytes)}, 300 processes, ${scn.guest.frames} frames, built in ${Math.round(scn.buildMs)} ms`;
    const ws = frameWorkloads(scn, { fileDir: args.out, families: want });
    const bar = startProgress(`guest ${shape.order}`, ws.length * 3);
    const r = await runWorkloads(scn.engine, ws, {
      runs: args.runs,
      timer,
      native: { status: native, repeats: args.runs, root: 0n },
      onProgress: (d) => bar.update(d),
      log,
    });
    bar.stop();
    result.tasks.push(...r.tasks);
    result.mismatches.push(...r.mismatches);
    // The indexed fix-up's whole operation against C, in turns (its target is judged on these).
    if (native.available) {
      for (const w of ws.filter((x) => x.name.startsWith('m2p-strict fix-up, indexed ('))) {
        log(`${w.name}: WASM and C in turns`);
        await measureTurns(result, () => nativeTurns(w, scn.engine, { status: native, root: 0n }), log);
      }
    }
  }
  return result;
}

export const extraRuns: ExtraRun[] = [guests, xenSuite, addressSuite];

