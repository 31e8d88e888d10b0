// Batches over a source (a frame cache holding every table) against the same batches
// on resident tables, run in turns in one process (turns.ts): source, resident, source, ...
// Their ratio is the engine's cost of indirection. Measured as two separate tasks a
// minute apart, it moved between 0.58x and 1.33x from one full bench run to the next
// (the C baseline's own times moved 2x between those runs: the machine's state, not
// the code); taken round by round, both sides see the same moment.
import { createEngine, type Engine } from '../engine/engine.js';
import { memorySource } from '../memory/memory-source.js';
import { x86_64 } from '../paging/formats/x86.js';
import { BATCH_CACHED, BATCH_INTERLEAVED, BATCH_NAIVE, BR_BYTES } from '../abi.js';
import { inTurns } from './turns.js';
import { pagingInputs } from './paging-workloads.js';
import type { WalkScenario } from './scenario.js';

export interface PagedPair {
  /** The batch, as the translate rows name it: `random (naive)`, ... */
  readonly row: string;
  readonly residentMs: number;
  readonly sourceMs: number;
  /** The median of the rounds' resident time / source time (above 1: the source is faster). */
  readonly ratio: number;
  readonly rounds: number;
}

const ROWS = [
  ['random (interleaved)', 'random', BATCH_INTERLEAVED],
  ['random (naive)', 'random', BATCH_NAIVE],
  ['consecutive pages (cached)', 'consecutive', BATCH_CACHED],
] as const;

/** `rounds` measured turns of each batch (after one untimed) on the WASM backend. */
export async function pagedPairs(scn: WalkScenario, n: number, rounds = 9): Promise<PagedPair[]> {
  const resident = scn.engine;
  resident.prepare({ format: x86_64 });
  const bytes = new Uint8Array(resident.memory.buffer, resident.layout.ramBase, resident.layout.ramBytes).slice();
  const source = createEngine({ source: memorySource(bytes, 'scenario'), cacheBytes: bytes.length + 16 * 2 ** 20, ioBytes: resident.layout.ioBytes });
  source.prepare({ format: x86_64 });
  const inputs = pagingInputs(scn, n);
  const out: PagedPair[] = [];
  for (const [row, field, mode] of ROWS) {
    const side = (e: Engine, label: string) => ({
      label,
      round() {
        const inPtr = e.layout.ioBase;
        const t0 = performance.now();
        e.backend.paging.translateBatch(scn.root, inPtr, inPtr + n * 8, n, 0, mode);
        return performance.now() - t0;
      },
    });
    for (const e of [resident, source]) e.big.set(inputs[field], e.layout.ioBase / 8);
    // The source first in each round: the ratio is then resident time / source time.
    const t = await inTurns(row, side(source, 'source'), side(resident, 'resident'), rounds);
    const records = (e: Engine) => new Uint8Array(e.memory.buffer, e.layout.ioBase + n * 8, n * BR_BYTES);
    if (Buffer.compare(records(resident), records(source)) !== 0) throw new Error(`paged pairs: ${row}: the source's records differ from the resident ones`);
    out.push({ row, residentMs: t.bMs, sourceMs: t.aMs, ratio: t.ratio, rounds });
  }
  return out;
}
