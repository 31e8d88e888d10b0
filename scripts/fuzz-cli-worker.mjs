// One thread that runs the built CLI's main() in process, one argument vector per
// message, with stdout and stderr captured. The parent (scripts/fuzz-cli.mjs)
// bounds each run's time and the thread's heap, and replaces the thread when it
// has to kill it.
import { parentPort, workerData } from 'node:worker_threads';

const { main } = await import(workerData.mainUrl);

/** Output kept: the first bytes (to check and show) and the total. */
const KEEP = 4096;
let out = { text: '', bytes: 0 };
let err = { text: '', bytes: 0 };
const capture = (sink) => (chunk, enc, cb) => {
  const s = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
  const into = sink();
  into.bytes += Buffer.byteLength(s);
  if (into.text.length < KEEP) into.text += s.slice(0, KEEP - into.text.length);
  if (typeof enc === 'function') enc();
  else if (typeof cb === 'function') cb();
  return true;
};
process.stdout.write = capture(() => out);
process.stderr.write = capture(() => err);

parentPort.on('message', async (argv) => {
  out = { text: '', bytes: 0 };
  err = { text: '', bytes: 0 };
  process.exitCode = undefined;
  let code;
  let internal;
  try {
    code = await main(argv);
  } catch (e) {
    // What the binary would print as `memwalk: internal error` with exit status 2.
    code = 2;
    internal = `${e?.constructor?.name}: ${e?.message}`;
  }
  parentPort.postMessage({ code, stdout: out, stderr: err, internal });
});
parentPort.postMessage('ready');
