// Where the kernel modules come from in a browser: bytes the page hands over
// (fetched or inlined in the bundle), compiled once. The browser bundle puts this
// file in place of kernel-files.ts.

const modules = new Map<string, WebAssembly.Module>();

/** Make the kernel module `file` (such as paging.wasm) available, from its bytes or compiled. */
export function provideKernel(file: string, module: WebAssembly.Module | Uint8Array<ArrayBuffer>): void {
  modules.set(file, module instanceof WebAssembly.Module ? module : new WebAssembly.Module(module));
}

export function kernelModule(file: string): { name: string; module: WebAssembly.Module } {
  const module = modules.get(file);
  if (!module) throw new Error(`memwalk: kernel module ${file} not loaded: call loadKernels() before opening a dump`);
  return { name: file, module };
}
