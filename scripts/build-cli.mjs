// Builds the `memwalk` command (package.json "bin") as one CommonJS file with
// esbuild: dist/cli/memwalk.cjs. Why one file, and why CommonJS: loaded from
// dist/src/ the CLI is ~140 ES modules, and Node resolves, reads, compiles and links
// each one before running a line; that, not the walk, was most of a one-address
// `translate`. In one CommonJS file esbuild wraps every module in an init function
// that runs when first imported, and each `require` of a Node built-in sits inside
// its module's init, so a command initialises only what its own import graph reaches.
//
// Two more things are deferred until first used rather than first imported, here
// and not in the sources because the sources must also run as ES modules in a
// browser: the heavier Node built-ins (commander needs child_process only for
// subcommand executables, the xz reader crypto only for a checksum) and the
// decompression libraries (fflate builds its tables when loaded, whether or not a
// page is ever inflated). Each becomes an object of getters that loads the real
// module on the first property read.
//
// Usage: node scripts/build-cli.mjs [--out FILE]   (npm run build runs it)
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));

/** Loaded on first use: what costs start-up and most commands never touch. */
export const DEFERRED = [
  'node:child_process',
  'node:crypto',
  'node:zlib',
  'node:readline',
  'readline',
  'node:fs/promises',
  'node:timers/promises',
  'node:worker_threads',
  'fflate',
  'fzstd',
  'snappyjs',
  'cli-progress',
];

/** An object with one getter per export of `name`, each loading the module on first read. */
function deferredModule(name) {
  const keys = Object.keys(require(name)).filter((k) => k !== 'default' && k !== '__esModule');
  const getters = keys.map((k) => `  get ${JSON.stringify(k)}() { return load()[${JSON.stringify(k)}]; },`).join('\n');
  return `let real;\nconst load = () => (real ??= require(${JSON.stringify(name)}));\nmodule.exports = {\n${getters}\n};\n`;
}

const deferred = {
  name: 'memwalk-deferred',
  setup(b) {
    const filter = new RegExp(`^(${DEFERRED.map((d) => d.replace(/[/.]/g, '\\$&')).join('|')})$`);
    // The getters' own require of the module is the real one.
    b.onResolve({ filter }, (a) => (a.namespace === 'deferred' ? undefined : { path: a.path, namespace: 'deferred' }));
    b.onLoad({ filter: /.*/, namespace: 'deferred' }, (a) => ({ contents: deferredModule(a.path), loader: 'js', resolveDir: root }));
  },
};

/** Build the CLI bundle; returns its path. */
export async function buildCli({ out = join(root, 'dist/cli/memwalk.cjs') } = {}) {
  await build({
    entryPoints: [join(root, 'src/cli/main.ts')],
    outfile: out,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    plugins: [deferred],
    // import.meta.url in a CommonJS file: this file's own URL (kernels and package.json are found from it).
    define: { 'import.meta.url': '__memwalk_url' },
    banner: { js: "const __memwalk_url = require('node:url').pathToFileURL(__filename).href;" },
    legalComments: 'none',
    logLevel: 'warning',
  });
  chmodSync(out, 0o755);
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--out');
  const out = await buildCli(i > 0 ? { out: resolve(process.argv[i + 1]) } : {});
  console.log(`memwalk CLI: ${out.slice(root.length + 1)}`);
}
