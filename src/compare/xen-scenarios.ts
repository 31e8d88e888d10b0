// Compare scenarios over the hypervisor model: a PV guest built by buildGuest
// ('guest') and the m2p-strict fix-up strategies run on it ('fixup'). Both
// change memory, so each backend gets its own, identically built engine.
import { createEngine } from '../engine/engine.js';
import { buildGuest, guestEngineOptions, type GuestOptions } from '../xen/guest-builder.js';
import { m2pFixup, STRATEGIES } from '../xen/m2p-fixup.js';
import { FRAME_TYPES } from '../frames/frame-info.js';
import type { Engine } from '../engine/engine.js';
import type { CompareScenario, ScenarioOptions, ScenarioResults } from './scenarios.js';
import { registerScenario } from './scenarios.js';

function guestOptions(options: ScenarioOptions, extra: Partial<GuestOptions> = {}): GuestOptions {
  const gib = options.size ?? 1;
  return { memory: `${gib}G`, processes: 24, order: 'random', seed: options.seed ?? 1, onProgress: () => {}, ...extra };
}

function guestState(engine: Engine, dom: number, l4s: readonly number[]): ScenarioResults {
  const d = engine.domains.get(dom);
  return {
    domain: d.record(),
    pageList: d.list.frames(),
    census: Object.fromEntries(FRAME_TYPES.map((t) => [t, engine.frames.census(t, { domain: dom }).count])),
    roMpt: l4s.map((f) => engine.frames.roMpt(f)),
    columns: engine.frames.snapshot(),
  };
}

function guestScenario(options: ScenarioOptions): CompareScenario {
  const go = guestOptions(options);
  return {
    name: 'guest',
    description: `a ${String(go.memory)} 64-bit PV guest with ${go.processes} processes (random page-list order) built on each backend: every metadata column, the domain record, the page list, census by type, and translations through every process's tables`,
    mutates: true,
    build(backend) {
      return createEngine(guestEngineOptions({ ...go, backend }));
    },
    run(engine) {
      const g = buildGuest(engine, go);
      const vas = [0x400000n, 0x400000n + 4096n * 7n, 0xffffffff80000000n, 0xffffffff80000000n + 4096n * 100n, 0x1234_5000n];
      const translations = g.processes.map((p) => vas.map((va) => engine.translate(p.cr3, va)));
      const { elapsedMs: _t, ...guest } = g;
      return { guest, translations, ...guestState(engine, g.domain, g.l4s) };
    },
  };
}

function fixupScenario(options: ScenarioOptions): CompareScenario {
  const go = guestOptions(options, { prefilledL4s: 3 });
  return {
    name: 'fixup',
    description: `the m2p-strict fix-up, each strategy (${STRATEGIES.join(', ')}) on a fresh ${String(go.memory)} guest with 3 L4s already filled: reports, RO_MPT slots, page-list order, metadata columns`,
    mutates: true,
    build(backend) {
      return createEngine(guestEngineOptions({ ...go, backend }));
    },
    run(engine) {
      const out: ScenarioResults = {};
      for (const strategy of STRATEGIES) {
        // A fresh guest per strategy: clear the previous one's domain and rebuild.
        for (const id of engine.domains.ids()) engine.domains.destroy(id);
        const g = buildGuest(engine, go);
        const { elapsedMs: _t, ...report } = m2pFixup(engine, g.domain, { strategy });
        out[strategy] = { report, ...guestState(engine, g.domain, g.l4s) };
      }
      return out;
    },
  };
}

registerScenario('guest', guestScenario);
registerScenario('fixup', fixupScenario);
