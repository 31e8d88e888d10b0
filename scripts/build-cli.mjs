// Builds the `memwalk` command (package.json "bin") with esbuild: dist/cli/memwalk.cjs,
// a small loader, and dist/cli/memwalk-cli.cjs, all of src/cli in one CommonJS file,
// with V8's code cache for it (memwalk-cli.cjs.cache).
//
// Why one file, and why CommonJS: loaded from dist/src/ the CLI is ~140 ES modules,
// and Node resolves, reads, compiles and links each one before running a line; that,
// not the walk, was most of a one-address `translate`. In one CommonJS file esbuild
// wraps every module in an init function that runs when the module is first
// imported, and each `require` of a Node built-in sits inside its module's init, so
// a command initialises only what its own import graph reaches.
//
// Two more things are deferred until first used rather than first imported, here
// and not in the sources because the sources must also run as ES modules in a
// browser: the heavier Node built-ins (commander needs child_process only for
// subcommand executables, the xz reader crypto only for a checksum) and the
// decompression libraries (fflate builds its tables when loaded, whether or not a
// page is ever inflated). Each becomes an object of getters that loads the real
// module on the first property read.
//
// The code cache: compiling the bundle was the largest cost left. Node 20 has no
// compile cache of its own, so the loader compiles the bundle with vm.Script and the
// bytecode this build saved after running `memwalk --help` and two translates once;
// V8 checks the cache against its version, flags and the source, and when it refuses
// it (another Node) compiles as usual. A Node without vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER
// (before 20.12) cannot give a vm script import(), so it loads the bundle plainly.
//
// Usage: node scripts/build-cli.mjs [--out DIR]   (npm run build runs it)
import { build } from 'esbuild';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import vm from 'node:vm';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));

/**
 * Loaded on first use: what costs start-up and most commands never touch. Name
 * imported -> what the getters load (fflate's browser build has the same synchronous
 * functions, without the worker_threads its Node build loads for the asynchronous ones).
 */
export const DEFERRED = {
  'node:child_process': 'node:child_process',
  'node:crypto': 'node:crypto',
  'node:zlib': 'node:zlib',
  'node:os': 'node:os',
  'node:readline': 'node:readline',
  readline: 'node:readline',
  'node:fs/promises': 'node:fs/promises',
  'node:timers/promises': 'node:timers/promises',
  'node:worker_threads': 'node:worker_threads',
  fflate: 'fflate/browser',
  fzstd: 'fzstd',
  snappyjs: 'snappyjs',
  'cli-progress': 'cli-progress',
};

/** An object with one getter per export of `name`, each loading the module on first read. */
function deferredModule(name) {
  const real = DEFERRED[name];
  const keys = Object.keys(require(real)).filter((k) => k !== 'default' && k !== '__esModule');
  const getters = keys.map((k) => `  get ${JSON.stringify(k)}() { return load()[${JSON.stringify(k)}]; },`).join('\n');
  return `let real;\nconst load = () => (real ??= require(${JSON.stringify(real)}));\nmodule.exports = {\n${getters}\n};\n`;
}

const deferred = {
  name: 'memwalk-deferred',
  setup(b) {
    const filter = new RegExp(`^(${Object.keys(DEFERRED).map((d) => d.replace(/[/.]/g, '\\$&')).join('|')})$`);
    // The getters' own require of the module is the real one.
    b.onResolve({ filter }, (a) => (a.namespace === 'deferred' ? undefined : { path: a.path, namespace: 'deferred' }));
    b.onLoad({ filter: /.*/, namespace: 'deferred' }, (a) => ({ contents: deferredModule(a.path), loader: 'js', resolveDir: root }));
  },
};

/** The bundle as a function of Node's CommonJS arguments; the loader compiles exactly this text. */
const WRAP_HEAD = '(function (exports, require, module, __filename, __dirname) {';
const WRAP_TAIL = '\n})';

/** The bin: the bundle compiled with the code cache when this Node allows, else required plainly. */
const LOADER = `#!/usr/bin/env node
// memwalk's command line: dist/cli/memwalk-cli.cjs (all of src/cli, one file) compiled
// with the V8 code cache saved next to it at build time (scripts/build-cli.mjs).
'use strict';
const { readFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { join } = require('node:path');
const vm = require('node:vm');
const file = join(__dirname, 'memwalk-cli.cjs');
const importer = vm.constants && vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER;
let cli;
if (importer) {
  let cachedData;
  try {
    cachedData = readFileSync(file + '.cache');
  } catch {}
  const source = ${JSON.stringify(WRAP_HEAD)} + readFileSync(file, 'utf8') + ${JSON.stringify(WRAP_TAIL)};
  const script = new vm.Script(source, { filename: file, cachedData, importModuleDynamically: importer });
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, createRequire(file), mod, file, __dirname);
  cli = mod.exports;
} else {
  cli = require(file);
}
cli.run();
`;

/**
 * What the code cache is made after: `--help` (every command's options), and a
 * one-address `translate` on a small ELF core and kdump (the engine, the dump readers,
 * the walk), written by the benchmark's dump writers into a temporary folder.
 */
async function warmUps() {
  const { BENCH_DUMP_VA, topTables, writeElfDump, writeKdumpDump } = await import(pathToFileURL(join(root, 'dist/src/perf/dump-files.js')).href);
  const dir = mkdtempSync(join(tmpdir(), 'memwalk-cli-cache-'));
  const ram = 64 * 2 ** 20;
  const tables = topTables(ram, 1024);
  writeElfDump(join(dir, 'small.elf'), ram, tables);
  writeKdumpDump(join(dir, 'small.kdump'), ram, tables);
  const cr3 = '0x' + (BigInt(tables.rootPfn) * 4096n).toString(16);
  const va = '0x' + (BENCH_DUMP_VA + 0x1234n).toString(16);
  return {
    runs: [['--help'], ...['small.elf', 'small.kdump'].map((f) => ['translate', '--image', join(dir, f), '--cr3', cr3, va])],
    done: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Compile the bundle as the loader does, run the warm-ups in it (stdout muted), and save V8's code cache. */
async function writeCodeCache(file) {
  const source = WRAP_HEAD + readFileSync(file, 'utf8') + WRAP_TAIL;
  const script = new vm.Script(source, { filename: file, importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER });
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, createRequire(file), mod, file, dirname(file));
  const { runs, done } = await warmUps();
  const write = process.stdout.write;
  process.stdout.write = () => true;
  try {
    for (const argv of runs) if ((await mod.exports.main(argv)) !== 0) throw new Error(`memwalk ${argv.join(' ')} failed in the bundle`);
  } finally {
    process.stdout.write = write;
    done();
  }
  writeFileSync(file + '.cache', script.createCachedData());
}

/** Build the CLI into `dir` (default dist/cli): the loader, the bundle and its code cache. Returns the loader's path. */
export async function buildCli({ dir = join(root, 'dist/cli') } = {}) {
  const bundle = join(dir, 'memwalk-cli.cjs');
  mkdirSync(dir, { recursive: true });
  rmSync(bundle + '.cache', { force: true });
  const result = await build({
    entryPoints: [join(root, 'src/cli/main.ts')],
    outfile: bundle,
    write: false,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    minify: true,
    // Error classes name themselves from their constructor (src/errors.ts).
    keepNames: true,
    plugins: [deferred],
    // import.meta.url in a CommonJS file: this file's own URL (kernels and package.json are found from it).
    // 'use strict' first: the sources are ES modules, strict throughout, and a directive after the
    // banner's statement would be an ordinary string.
    define: { 'import.meta.url': '__memwalk_url' },
    banner: { js: "'use strict';\nconst __memwalk_url = require('node:url').pathToFileURL(__filename).href;" },
    legalComments: 'none',
    logLevel: 'warning',
  });
  // The loader runs it: main.ts's #! line would be a syntax error inside the function wrapper.
  writeFileSync(bundle, result.outputFiles[0].text.replace(/^#!.*\n/, ''));
  if (vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER) await writeCodeCache(bundle);
  const bin = join(dir, 'memwalk.cjs');
  writeFileSync(bin, LOADER);
  chmodSync(bin, 0o755);
  return bin;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--out');
  const bin = await buildCli(i > 0 ? { dir: resolve(process.argv[i + 1]) } : {});
  console.log(`memwalk CLI: ${relative(process.cwd(), bin)}`);
}
