import * as A from '../abi.js';
import { StaleBuildError } from '../errors.js';
import { abiHash, hashHex } from './abi-hash.js';
import { writeLayoutRecord } from './layout-record.js';
import { kernelModule } from './kernel-files.js';
import type { Backend, BackendContext, FramesModuleExports, PagingModuleExports, SearchModuleExports } from './backend.js';

/** The kernel modules in build/, each compiled from assembly/<name>/index.ts. */
interface ModuleExports {
  paging: PagingModuleExports;
  frames: FramesModuleExports;
  search: SearchModuleExports;
}
type ModuleName = keyof ModuleExports;

/** The hash of the abi module this code runs with; every module must carry the same. */
export const ABI_HASH = abiHash(A);

const compiled = new Map<string, { name: string; module: WebAssembly.Module }>();

/** A shared memory needs the module variant that imports a shared memory. */
function moduleFor(name: ModuleName, shared: boolean): { file: string; module: WebAssembly.Module } {
  const key = `${name}${shared ? '.shared' : ''}.wasm`;
  let m = compiled.get(key);
  if (!m) {
    m = kernelModule(key);
    compiled.set(key, m);
  }
  return { file: m.name, module: m.module };
}

/**
 * Instantiate the kernel module compiled to `file` over `memory`, refusing it
 * when it was built against another ABI than `expected` (default: this code's).
 */
export function instantiateChecked<T extends { abiHash(): number }>(
  file: string,
  module: WebAssembly.Module,
  memory: WebAssembly.Memory,
  expected = ABI_HASH,
  fetchFrame: (pfn: number, write: number) => number = noFrameCache,
): T {
  const exports = new WebAssembly.Instance(module, { env: { memory, fetchFrame } }).exports as unknown as T;
  const got = typeof exports.abiHash === 'function' ? exports.abiHash() >>> 0 : undefined;
  if (got !== expected) {
    throw new StaleBuildError(
      `${file}: built against ABI ${got === undefined ? '(none)' : hashHex(got)}, but src/abi.ts is ${hashHex(expected)}: run \`npm run build\``,
      { file, moduleHash: got, abiHash: expected },
    );
  }
  return exports;
}

/** A resident engine has no frame cache: its kernels never fault a frame in. */
function noFrameCache(): number {
  throw new Error('memwalk: a kernel of a resident engine asked for a frame (the layout record says it is cached)');
}

/** Instantiate one kernel module over the engine's memory and let it read the layout. */
export function instantiate<N extends ModuleName>(name: N, ctx: BackendContext): ModuleExports[N] {
  const shared = typeof SharedArrayBuffer !== 'undefined' && ctx.memory.buffer instanceof SharedArrayBuffer;
  const { file, module } = moduleFor(name, shared);
  const cache = ctx.cache;
  const fetch = cache ? (pfn: number, write: number) => cache.fetch(pfn, write !== 0) : noFrameCache;
  const exports = instantiateChecked<ModuleExports[N]>(file, module, ctx.memory, ABI_HASH, fetch);
  exports.init();
  return exports;
}

/**
 * The engine's kernels. Paging is instantiated now (every engine walks); frames and
 * search when first used, so a command that never scans or searches (a one-address
 * translate) compiles neither. Each then becomes a plain property, as fast to reach
 * as before.
 */
export function createWasmBackend(ctx: BackendContext): Backend {
  writeLayoutRecord(ctx.memory, ctx.layout);
  return {
    name: 'wasm',
    paging: instantiate('paging', ctx),
    get frames() {
      return settle(this, 'frames', instantiate('frames', ctx));
    },
    get search() {
      return settle(this, 'search', instantiate('search', ctx));
    },
  };
}

/** Replace a first-use getter of `backend` by the value it made. */
function settle<K extends 'frames' | 'search'>(backend: Backend, key: K, value: Backend[K]): Backend[K] {
  Object.defineProperty(backend, key, { value, enumerable: true });
  return value;
}

/** Scratch slot of the engine's own instances; scan workers take the ones after it. */
export const ENGINE_SCRATCH_SLOT = 0;
/** Scan workers one engine can have, each with its own scratch slot. */
export const MAX_SCAN_WORKERS = A.SCRATCH_SLOTS - 1;
