// The build's check of the wasm/TypeScript boundary: the typings asc emits for
// each kernel module must match, export for export and signature for signature,
// the interfaces the TS layer calls them through (src/backends/backend.ts).
// Both directions are checked, so a missing export, an extra parameter or a
// different type all fail.
import { writeFileSync, mkdirSync } from 'node:fs';
import { join, relative, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Kernel module name -> the interface of src/backends/backend.ts its exports must match. */
export const MODULE_INTERFACES = { paging: 'PagingModuleExports', frames: 'FramesModuleExports', search: 'SearchModuleExports' };

const spec = (from, to) => {
  const r = relative(from, to).split('\\').join('/');
  return r.startsWith('.') ? r : `./${r}`;
};

/**
 * Type-check the typings `<dir>/<module>.d.ts` against the interfaces. Returns the
 * problems found, one line each (empty when the boundary holds).
 */
export function checkExports(dir, modules = MODULE_INTERFACES) {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'check-exports.ts');
  const backend = spec(dir, join(root, 'src/backends/backend.js'));
  const lines = [
    `import type * as B from '${backend}';`,
    'type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;',
    'type Check<I, M> = { [K in keyof I]: K extends keyof M ? Same<I[K], M[K]> : false };',
    'type AllTrue<T> = { [K in keyof T]: true };',
    // asc's typings declare the exports as what `instantiate` resolves to.
    'type Exports<M> = M extends { instantiate(...args: never[]): Promise<infer E> } ? E : M;',
  ];
  for (const [name, iface] of Object.entries(modules)) {
    lines.push(`import type * as ${name}Module from './${name}.js';`);
    lines.push(
      `export const ${name}Exports: AllTrue<Check<B.${iface}, Exports<typeof ${name}Module>>> = null as unknown as Check<B.${iface}, Exports<typeof ${name}Module>>;`,
    );
  }
  writeFileSync(file, lines.join('\n') + '\n');
  const program = ts.createProgram([file], {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: [],
    lib: ['lib.es2022.d.ts'],
  });
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file === undefined || d.file.fileName === file || d.file.fileName.startsWith(dir))
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' ').replace(/\s+/g, ' '));
}
