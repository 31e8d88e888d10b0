import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Backend, BackendContext, FrameKernels, PagingKernels } from './backend.js';

/** The kernel modules in build/, each compiled from assembly/<name>/index.ts. */
const MODULES = ['paging', 'frames'] as const;
type ModuleName = (typeof MODULES)[number];

const compiled = new Map<string, WebAssembly.Module>();

/** build/ next to the package root, from src/ (tests) or dist/src/ (built). */
function buildDir(): string {
  for (const rel of ['../../build/', '../../../build/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(dir + 'paging.wasm')) return dir;
  }
  throw new Error('memwalk: build/paging.wasm not found: run `npm run build` first');
}

/** A shared memory needs the module variant that imports a shared memory. */
function moduleFor(name: ModuleName, shared: boolean): WebAssembly.Module {
  const file = `${name}${shared ? '.shared' : ''}.wasm`;
  let m = compiled.get(file);
  if (!m) {
    m = new WebAssembly.Module(readFileSync(buildDir() + file));
    compiled.set(file, m);
  }
  return m;
}

/** Instantiate one kernel module over the engine's memory and give it the layout. */
export function instantiate(name: ModuleName, ctx: BackendContext): WebAssembly.Exports {
  const shared = typeof SharedArrayBuffer !== 'undefined' && ctx.memory.buffer instanceof SharedArrayBuffer;
  const instance = new WebAssembly.Instance(moduleFor(name, shared), { env: { memory: ctx.memory } });
  const l = ctx.layout;
  (instance.exports.init as CallableFunction)(
    l.ramBase, BigInt(l.ramBytes), l.frames, l.colType, l.colCount, l.colOwner, l.colNext, l.colPrev, l.domains,
  );
  return instance.exports;
}

export function createWasmBackend(ctx: BackendContext): Backend {
  const paging = instantiate('paging', ctx) as unknown as PagingKernels;
  const framesExports = instantiate('frames', ctx);
  (framesExports.initFrames as CallableFunction)(ctx.layout.l4Next, ctx.layout.l4Prev);
  const frames = framesExports as unknown as FrameKernels;
  return { name: 'wasm', paging, frames };
}
