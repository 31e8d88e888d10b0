// The CLI's share of the fuzzing: arbitrary argument vectors for every command
// (its real options and arguments mixed with hostile values and other commands'
// options) over files made by mutating valid images of every dump format (bit
// flips, truncation, spliced headers, overwritten fields). Shared by the property
// suite (test/fuzz-cli.test.ts) and the soak (scripts/fuzz.mjs), both over the
// built CLI in dist/.
//
// A case passes when the run exits 0, or exits 1 with exactly one stderr line
// `memwalk: ...` and no stack frames; it fails when it is killed (its time bound,
// its heap bound, a signal), exits any other way, or prints without bound.
import { Worker } from 'node:worker_threads';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Left out, with the reason. */
export const SKIPPED_COMMANDS = { demo: 'runs the benchmarks (minutes by design) and writes their reports' };

/** Options whose value sets how much work a run does: small values only (a large valid one is a long run, not a hang). */
const WORK = new Set(['--guest', '--ram', '--size', '--processes', '--prefilled', '--runs', '--nr-pages', '--avail', '--max-diffs', '--misses', '--dom0-mem', '--initrd-size', '--limit']);

/** The commands, their arguments and options, as the CLI registers them. */
export function describeCommands(program) {
  return program.commands
    .filter((c) => !Object.hasOwn(SKIPPED_COMMANDS, c.name()))
    .map((c) => ({
      name: c.name(),
      args: c.registeredArguments.map((a) => a.name()),
      options: c.options.map((o) => ({
        flag: o.long ?? o.short,
        short: o.short,
        takes: Boolean(o.required || o.optional),
        placeholder: /<([^>.]*)/.exec(o.flags)?.[1] ?? '',
      })),
      takesImage: c.options.some((o) => o.long === '--image'),
    }));
}

const NUMBERS = ['0', '1', '2', '5', '7', '64', '511', '4096', '0x0', '0x1000', '0x2000', '0x3008', '0x8000', '0xa000', '0x10000', '0x1fffff', '0xff8000000000', '0xffffff8000000000', '0xffffffffffffffff', '0xfffffffffffff000'];
const HOSTILE_NUMBERS = ['-1', '-0', '0x', '0x10000000000000000', '18446744073709551616', '1e3', '1.0', '1e0', 'NaN', 'Infinity', '2^64', '0o17', '0b101', '1_000', ' 0x1000', '0x1000 ', '0x1000\n', '9007199254740993', '99999999999999999999999'];
const SIZES = ['4K', '64K', '1M', '2M', '16M', '64M', '0', '1', '-4K', '1.5M', '1MB', '4k', '1T', '64G', '4G', '16E'];
const NAMES = [
  'x86_64', '4', '5', 'pae', '32', 'aarch64_4k', 'aarch64_16k', 'aarch64_64k', 'wasm', 'reference', 'memwalk', 'qemu-tlb', 'qemu-mem', 'qemu-gva2gpa',
  'raw', 'elf-core', 'kdump', 'kdump-flat', 'lime', 'xen-dump-core', 'guest', 'machine', 'r', 'w', 'x', 'walk', 'map', 'fixup', 'L4', 'random', 'sorted',
  '0..1M', '0x1000..0x3000', '0..0', '0x2000..0x1000', '0..0xffffffffffffffff', '0..16M:ram', 'constructor', '__proto__', 'toString', 'hasOwnProperty',
];
const HOSTILE = ['', ' ', '-', '--', '\n', 'a\nb', '\u001b[31mred', '%s%n', '${x}', "'", '"', '\\', '\u2028', 'é', '\u{1F600}', 'A'.repeat(5000), '--help', '-h', '--version', '=', '--json=1', '--limit=5', '-jj', '..', '../..', '/'];

/**
 * An argument vector for one of `commands`, over the case's files: `files.image`
 * (the mutated image), `files.other` (a valid image of another format), and paths
 * that are missing, a directory, empty, and the place --out may write.
 */
export function argvArb(fc, commands, files) {
  const paths = fc.constantFrom(files.image, files.image, files.image, files.other, files.missing, files.dir, files.empty);
  const outs = fc.constantFrom(files.out, files.dir, files.missing + '/x', '');
  const free = fc.string({ maxLength: 12 }).filter((s) => !/^-/.test(s)); // free text, never an option of its own
  const anyValue = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...NUMBERS) },
    { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_NUMBERS) },
    { weight: 2, arbitrary: fc.constantFrom(...SIZES) },
    { weight: 3, arbitrary: fc.constantFrom(...NAMES) },
    { weight: 2, arbitrary: fc.constantFrom(...HOSTILE) },
    { weight: 1, arbitrary: free },
    { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((v) => `0x${v.toString(16)}`) },
  );
  const small = fc.oneof(fc.constantFrom('0', '1', '2', '3', '8', '16', '16M', '32M', '64M', '4K', '1M'), fc.constantFrom(...HOSTILE_NUMBERS, ...HOSTILE, '1T', '64G', '4G'));
  const valueFor = (o) => {
    if (o.flag === '--out') return outs;
    if (o.placeholder === 'file') return paths;
    if (o.placeholder === 'dir') return fc.constantFrom(files.dir, files.missing, files.image);
    if (WORK.has(o.flag)) return small;
    return anyValue;
  };
  const optionArb = (c) =>
    fc.constantFrom(...c.options).chain((o) => {
      const name = fc.constantFrom(o.flag, o.short ?? o.flag);
      if (!o.takes) return fc.oneof({ weight: 9, arbitrary: name.map((n) => [n]) }, { weight: 1, arbitrary: fc.tuple(name, anyValue).map(([n, v]) => [`${n}=${v}`]) });
      return fc.oneof(
        { weight: 8, arbitrary: fc.tuple(name, valueFor(o)).map(([n, v]) => [n, v]) },
        { weight: 1, arbitrary: fc.tuple(fc.constant(o.flag), valueFor(o)).map(([n, v]) => [`${n}=${v}`]) },
        { weight: 1, arbitrary: name.map((n) => [n]) }, // its value missing
      );
    });
  const foreign = fc.constantFrom(...new Set(commands.flatMap((c) => c.options.map((o) => o.flag)).filter((f) => f !== '--out' && f !== '-o'))).map((f) => [f]);
  return fc.constantFrom(...commands).chain((c) => {
    const piece = fc.oneof(
      { weight: 6, arbitrary: optionArb(c) },
      { weight: 3, arbitrary: anyValue.map((v) => [v]) },
      { weight: 1, arbitrary: foreign },
    );
    return fc.tuple(fc.boolean(), fc.boolean(), fc.array(piece, { maxLength: 6 })).map(([withImage, withRoot, pieces]) => {
      const argv = [c.name];
      if (c.takesImage && withImage) argv.push('--image', files.image);
      if (c.options.some((o) => o.flag === '--cr3') && withRoot) argv.push('--cr3', '0x1000');
      for (const p of pieces) argv.push(...p);
      return argv;
    });
  });
}

const EDGE64 = [0n, 1n, 4096n, 0x7fffffffn, 0xffffffffn, 1n << 52n, 1n << 63n, (1n << 64n) - 1n];

/** How to damage an image: its format, and up to four edits. */
export function mutationArb(fc, formats) {
  const at = fc.oneof(fc.nat({ max: 255 }), fc.nat({ max: 8191 }), fc.nat());
  const edit = fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('flip'), at, bit: fc.nat({ max: 7 }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('set64'), at, value: fc.constantFrom(...EDGE64) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate'), to: fc.oneof(fc.nat({ max: 4096 }), fc.nat()) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('splice'), from: fc.constantFrom(...formats), src: fc.nat({ max: 4095 }), at, length: fc.integer({ min: 1, max: 1024 }) }) },
  );
  return fc.record({
    format: fc.constantFrom(...formats),
    edits: fc.oneof({ weight: 1, arbitrary: fc.constant([]) }, { weight: 4, arbitrary: fc.array(edit, { minLength: 1, maxLength: 4 }) }),
  });
}

/** The bytes of `m` applied to a copy of its base image. */
export function mutate(bases, m) {
  let b = bases[m.format].slice();
  for (const e of m.edits) {
    if (b.length === 0) break;
    const at = e.at === undefined ? 0 : e.at % b.length;
    if (e.kind === 'flip') b[at] ^= 1 << e.bit;
    else if (e.kind === 'set64') {
      for (let i = 0; i < 8 && at + i < b.length; i++) b[at + i] = Number((e.value >> BigInt(8 * i)) & 0xffn);
    } else if (e.kind === 'truncate') b = b.slice(0, e.to % (b.length + 1));
    else if (e.kind === 'splice') {
      const from = bases[e.from];
      const piece = from.subarray(e.src % from.length, (e.src % from.length) + e.length);
      b.set(piece.subarray(0, b.length - at), at);
    }
  }
  return b;
}

/** Commands whose answer is a list, which may be empty (no line printed). */
const LISTINGS = new Set(['mappings', 'search', 'reverse', 'roots']);

/** Output beyond this is a listing without bound. */
export const MAX_OUTPUT = 64 * 2 ** 20;

/** Why the run of `argv` broke the CLI's contract, or undefined when it kept it. */
export function cliFailure(r, argv) {
  if (r.timedOut) return `no answer within ${r.boundSeconds} s`;
  if (r.oom) return 'out of memory (heap bound)';
  if (r.signal) return `killed by ${r.signal}`;
  if (r.internal) return `internal error: ${r.internal}`;
  if (r.stdout.bytes > MAX_OUTPUT) return `more than ${MAX_OUTPUT} bytes of output`;
  const writes = argv.some((a) => /^(-o|--out)\b/.test(a));
  if (r.code === 0) return r.stdout.bytes > 0 || writes || LISTINGS.has(argv[0]) ? undefined : 'exit 0 and nothing printed';
  if (r.code !== 1) return `exit status ${r.code}`;
  // compare's own answer, documented in docs/cli.md: the backends differ, the report on stdout.
  if (argv[0] === 'compare' && r.stderr.bytes === 0 && r.stdout.bytes > 0) return undefined;
  const text = r.stderr.text.replace(/\n$/, '');
  if (text.includes('\n')) return `${text.split('\n').length} stderr lines: ${JSON.stringify(text.slice(0, 300))}`;
  if (!text.startsWith('memwalk: ')) return `stderr not a memwalk message: ${JSON.stringify(text.slice(0, 300))}`;
  if (/\bat .*:\d+:\d+\)?$/.test(text)) return `stack frame on stderr: ${JSON.stringify(text.slice(0, 300))}`;
  return undefined;
}

/**
 * Runs the CLI's main() in a worker thread, one argument vector at a time, each
 * within `timeoutMs` and the thread within `heapMb` of heap: a run that exceeds
 * either is killed with its thread (reported as such) and the next run gets a
 * fresh one.
 */
export class CliRunner {
  constructor({ mainUrl, timeoutMs = 10_000, heapMb = 512 }) {
    this.mainUrl = mainUrl;
    this.timeoutMs = timeoutMs;
    this.heapMb = heapMb;
    this.worker = undefined;
  }

  async start() {
    const w = new Worker(new URL('./fuzz-cli-worker.mjs', import.meta.url), {
      workerData: { mainUrl: this.mainUrl },
      resourceLimits: { maxOldGenerationSizeMb: this.heapMb },
      stdout: true,
      stderr: true,
    });
    // Anything the run writes past the capture (it should be nothing) is dropped, not echoed.
    w.stdout.resume();
    w.stderr.resume();
    await new Promise((ok, fail) => {
      w.once('message', ok);
      w.once('error', fail);
    });
    this.worker = w;
  }

  async run(argv) {
    if (!this.worker) await this.start();
    const w = this.worker;
    const bound = { boundSeconds: this.timeoutMs / 1000 };
    return new Promise((resolve) => {
      let timer;
      const done = (r, kill) => {
        clearTimeout(timer);
        w.removeAllListeners('message');
        w.removeAllListeners('error');
        w.removeAllListeners('exit');
        if (kill) {
          this.worker = undefined;
          void w.terminate();
        }
        resolve({ ...bound, ...r });
      };
      const empty = { text: '', bytes: 0 };
      timer = setTimeout(() => done({ timedOut: true, stdout: empty, stderr: empty }, true), this.timeoutMs);
      w.on('message', (m) => done(m, false));
      w.on('error', (e) => done({ oom: e?.code === 'ERR_WORKER_OUT_OF_MEMORY', internal: e?.code === 'ERR_WORKER_OUT_OF_MEMORY' ? undefined : String(e), stdout: empty, stderr: empty }, true));
      w.on('exit', (code) => done({ internal: `the thread exited (${code})`, stdout: empty, stderr: empty }, true));
      w.postMessage(argv);
    });
  }

  async close() {
    await this.worker?.terminate();
    this.worker = undefined;
  }
}

/**
 * Run the built binary as a child process, as a user would: killed after
 * `timeoutMs`, its heap bounded by `heapMb` (V8 aborts past it: an out-of-memory
 * failure). Same result shape as CliRunner.run.
 */
export function runChild(bin, argv, { timeoutMs = 20_000, heapMb = 512, cwd } = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [`--max-old-space-size=${heapMb}`, bin, ...argv], { cwd, env: { ...process.env, CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = { text: '', bytes: 0 };
    const err = { text: '', bytes: 0 };
    const sink = (into) => (chunk) => {
      into.bytes += chunk.length;
      if (into.text.length < 4096) into.text += chunk.toString('utf8').slice(0, 4096 - into.text.length);
    };
    child.stdout.on('data', sink(out));
    child.stderr.on('data', sink(err));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const oom = /heap limit|heap out of memory/i.test(err.text);
      resolve({ boundSeconds: timeoutMs / 1000, code, signal: timedOut ? undefined : signal, timedOut, oom, stdout: out, stderr: err });
    });
  });
}

/** The path of the built binary. */
export const BIN = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
export const MAIN_URL = new URL('../dist/src/cli/main.js', import.meta.url).href;

/** The files of a campaign in `dir`: the case's image (rewritten per case) and the fixed others. */
export async function cliFiles(dir, bases) {
  const { writeFileSync, mkdirSync } = await import('node:fs');
  const { join } = await import('node:path');
  const files = {
    image: join(dir, 'image'),
    other: join(dir, 'other.elf'),
    missing: join(dir, 'missing'),
    dir: join(dir, 'a-directory'),
    empty: join(dir, 'empty'),
    out: join(dir, 'out.bin'),
  };
  writeFileSync(files.image, bases.raw);
  writeFileSync(files.other, bases['elf-core']);
  writeFileSync(files.empty, new Uint8Array(0));
  mkdirSync(files.dir, { recursive: true });
  return files;
}
