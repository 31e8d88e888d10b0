// Loading the kernel modules in a browser: from the bytes the bundle inlines, from
// a URL (fetched and compiled off the main thread's budget), or from bytes given.
import { provideKernel } from '../backends/kernel-files.browser.js';

/** The modules an engine over a dump uses (shared-memory variants are for Node's workers). */
export const KERNEL_FILES = ['paging.wasm', 'frames.wasm', 'search.wasm'] as const;

// Set by the bundler (scripts/browser-build.mjs) to the modules' bytes in base64.
declare const MEMWALK_INLINE_KERNELS: Record<string, string> | undefined;

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/**
 * Make the kernels available before opening a dump: with no argument, the ones the
 * bundle carries; with a URL, `<url>/paging.wasm` and the others, fetched; with an
 * object, the bytes of each file by name.
 */
export async function loadKernels(from?: string | URL | Record<string, Uint8Array<ArrayBuffer>>): Promise<void> {
  for (const file of KERNEL_FILES) {
    let bytes: Uint8Array<ArrayBuffer> | undefined;
    if (from === undefined) {
      const inline = typeof MEMWALK_INLINE_KERNELS === 'undefined' ? undefined : MEMWALK_INLINE_KERNELS[file];
      if (inline === undefined) throw new Error('memwalk: this bundle carries no kernels: pass loadKernels() the URL of a folder holding build/*.wasm');
      bytes = fromBase64(inline);
    } else if (typeof from === 'string' || from instanceof URL) {
      const url = new URL(file, String(from).endsWith('/') ? from : `${String(from)}/`);
      const response = await fetch(url);
      if (!response.ok) throw new Error(`memwalk: ${url}: ${response.status} ${response.statusText}`);
      provideKernel(file, await WebAssembly.compile(await response.arrayBuffer()));
      continue;
    } else {
      bytes = from[file];
      if (!bytes) throw new Error(`memwalk: loadKernels: no bytes for ${file}`);
    }
    provideKernel(file, await WebAssembly.compile(bytes));
  }
}
