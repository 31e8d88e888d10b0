// Builds memwalk for browsers with esbuild: the library bundle (dist/browser/memwalk.js,
// kernels inlined) and the explorer page (a folder: index.html, explorer.js with its
// worker inside). Usage: node scripts/browser-build.mjs [--out DIR] [--no-minify]
// Prints where they went and their sizes as JSON; test/browser-bundle.test.ts checks
// the sizes against the budget of docs/browser.md.
import { build } from 'esbuild';
import { readFileSync, mkdirSync, copyFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const KERNELS = ['paging.wasm', 'frames.wasm', 'search.wasm'];

/** Node built-ins that only path-taking calls import; the bundle answers them with an error. */
export const FILE_SYSTEM_MODULES = ['node:fs', 'node:fs/promises'];

/** Modules with a browser twin beside them (`X.browser.ts` for `X.js`): where the kernels come from, how a zlib page is inflated. */
const BROWSER_TWINS = /\/(kernel-files|zlib-page)\.js$/;

/**
 * What makes the engine a browser bundle: the modules of BROWSER_TWINS are their twins;
 * the file-system modules (imported only by calls that take a path) become
 * src/browser/no-file-system.ts; a dynamic import (loadRaw's and save's) stays out of
 * the bundle; and any other Node built-in fails the build, so no browser path can
 * reach one.
 */
const browserPaths = {
  name: 'memwalk-browser',
  setup(b) {
    b.onResolve({ filter: BROWSER_TWINS }, (a) => ({ path: join(a.resolveDir, a.path.replace(/^.*\//, '').replace(/\.js$/, '.browser.ts')) }));
    b.onResolve({ filter: /.*/ }, (a) => {
      if (a.kind === 'dynamic-import') return { path: a.path, external: true };
      if (FILE_SYSTEM_MODULES.includes(a.path)) return { path: join(root, 'src/browser/no-file-system.ts') };
      if (a.path.startsWith('node:')) return { errors: [{ text: `${a.path} imported by ${a.importer.slice(root.length + 1)}: a browser has no Node built-ins` }] };
      return undefined;
    });
  },
};

/**
 * Build both bundles: the explorer into the folder `out` (default dist/explorer), the
 * library to `library` (default dist/browser/memwalk.js). Returns where they went and
 * each file's size, plain and gzipped.
 */
export async function buildBrowser({ out = join(root, 'dist/explorer'), library = join(root, 'dist/browser/memwalk.js'), minify = true } = {}) {
  const missing = KERNELS.filter((f) => !existsSync(join(root, 'build', f)));
  if (missing.length) throw new Error(`build/${missing[0]} not found: run \`npm run build\` first`);
  const inlineKernels = Object.fromEntries(KERNELS.map((f) => [f, readFileSync(join(root, 'build', f)).toString('base64')]));
  const explorerDir = resolve(out);
  const common = {
    bundle: true,
    platform: 'browser',
    target: ['chrome111', 'firefox111', 'safari16.4'],
    minify,
    legalComments: 'none',
    plugins: [browserPaths],
    define: { MEMWALK_INLINE_KERNELS: JSON.stringify(inlineKernels) },
    logLevel: 'warning',
  };

  async function bundle(options) {
    const result = await build({ ...common, write: false, ...options });
    return result.outputFiles[0].contents;
  }

  const sizes = {};
  const record = (name, bytes) => (sizes[name] = { bytes: bytes.length, gzip: gzipSync(bytes).length });

  // The library.
  const lib = await bundle({ entryPoints: [join(root, 'src/browser/index.ts')], format: 'esm' });
  mkdirSync(dirname(resolve(library)), { recursive: true });
  writeFileSync(library, lib);
  record('memwalk.js', lib);

  // The explorer: the worker is built first and carried by the page as text, so the
  // folder works from file:// as well as from a server (a blob worker needs no URL).
  const worker = await bundle({ entryPoints: [join(root, 'src/browser/explorer/worker.ts')], format: 'iife' });
  const page = await bundle({
    entryPoints: [join(root, 'src/browser/explorer/page.ts')],
    format: 'iife',
    define: { ...common.define, EXPLORER_WORKER_SOURCE: JSON.stringify(new TextDecoder().decode(worker)) },
  });
  mkdirSync(explorerDir, { recursive: true });
  writeFileSync(join(explorerDir, 'explorer.js'), page);
  copyFileSync(join(root, 'src/browser/explorer/index.html'), join(explorerDir, 'index.html'));
  record('explorer.js', page);

  return { explorer: explorerDir, library: resolve(library), sizes };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const outAt = args.indexOf('--out');
  const result = await buildBrowser({ ...(outAt >= 0 ? { out: args[outAt + 1] } : {}), minify: !args.includes('--no-minify') });
  process.stdout.write(JSON.stringify(result) + '\n');
}
