// An engine's scratch (the I/O buffer, the walk parameters and the result block
// of its control area) serves one call at a time. A synchronous call holds it for
// its own duration, which nothing can interrupt; a parallel call (src/parallel)
// hands it to worker threads across awaits, so it takes a lease: parallel calls on
// one engine take their turns, and a synchronous call made while worker threads
// use the scratch is refused with an EngineBusyError instead of overwriting it.
import { EngineBusyError } from '../errors.js';

/** What is using each memory's scratch on worker threads right now. */
const busy = new WeakMap<WebAssembly.Memory, string>();
/** How many memories are busy: the check costs one compare when none is (walks call it every time). */
let busyCount = 0;
/** The end of the last lease granted on each memory: the next one starts after it. */
const turns = new WeakMap<WebAssembly.Memory, Promise<void>>();

/** Refuse `what` while worker threads use the scratch of this engine's memory. */
export function assertScratchFree(ctx: { readonly memory: WebAssembly.Memory }, what: string): void {
  if (busyCount === 0) return;
  const by = busy.get(ctx.memory);
  if (by !== undefined) {
    throw new EngineBusyError(`${what}: refused while ${by} runs on worker threads over the engine's I/O buffer and walk parameters; await it first`, { busyWith: by });
  }
}

/**
 * Run `body` in its turn on `memory`'s scratch. Its synchronous parts run as any
 * call does; `hold(p)` marks the scratch busy while it awaits `p` (the workers).
 */
export async function withScratchLease<T>(
  memory: WebAssembly.Memory,
  holder: string,
  body: (hold: <R>(p: Promise<R>) => Promise<R>) => Promise<T>,
): Promise<T> {
  const before = turns.get(memory) ?? Promise.resolve();
  let done!: () => void;
  const mine = new Promise<void>((resolve) => (done = resolve));
  turns.set(memory, before.then(() => mine));
  await before;
  const hold = async <R>(p: Promise<R>): Promise<R> => {
    busy.set(memory, holder);
    busyCount++;
    try {
      return await p;
    } finally {
      busy.delete(memory);
      busyCount--;
    }
  };
  try {
    return await body(hold);
  } finally {
    done();
  }
}
