// The soak's per-case time bound for calls that run in the soak's own thread (the
// library cases): this thread watches a counter the soak bumps at each case, and
// when one case has run past its bound it prints the case (seed, path, call) and
// kills the process; a synchronous loop that never returns cannot stop itself.
import { workerData } from 'node:worker_threads';
import { writeSync } from 'node:fs';

const { state, text, boundMs } = workerData;
const words = new Int32Array(state); // [case number, busy, always 0: a place to sleep on]
let seen = -1;
let since = Date.now();
for (;;) {
  Atomics.wait(words, 2, 0, 200);
  const n = Atomics.load(words, 0);
  if (n !== seen) {
    seen = n;
    since = Date.now();
  } else if (Atomics.load(words, 1) === 1 && Date.now() - since > boundMs) {
    const bytes = new Uint8Array(text);
    const end = bytes.indexOf(0);
    const what = Buffer.from(bytes.subarray(0, end < 0 ? bytes.length : end)).toString('utf8');
    writeSync(2, `fuzz: FAILURE: a case ran past its bound of ${boundMs / 1000} s: ${what}\n`);
    process.kill(process.pid, 'SIGKILL');
  }
}
