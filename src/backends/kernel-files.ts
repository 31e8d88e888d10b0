// Where the kernel modules come from in Node: build/ next to the package root.
// A browser bundle replaces this file with kernel-files.browser.ts (bytes fetched or
// inlined), so nothing else in the engine depends on a file system.
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** build/ next to the package root, from src/ (tests) or dist/src/ (built). */
function buildDir(): string {
  for (const rel of ['../../build/', '../../../build/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(dir + 'paging.wasm')) return dir;
  }
  throw new Error('memwalk: build/paging.wasm not found: run `npm run build` first');
}

/** The compiled module of `build/<file>` (such as paging.shared.wasm), and the path it names in messages. */
export function kernelModule(file: string): { name: string; module: WebAssembly.Module } {
  const path = buildDir() + file;
  return { name: path, module: new WebAssembly.Module(readFileSync(path)) };
}
