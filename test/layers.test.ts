// The import rule of docs/design.md, checked on the source: every file of src/
// and bench/ belongs to one layer, imports only from its own layer or a lower
// one, and no files import each other in a circle (type-only and dynamic
// imports count: a circle of types is still a circle to a reader).
import { test, expect } from 'vitest';
import { readFileSync, readdirSync, existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * The layers, lowest first. A path ending in '/' is a folder, else one file;
 * a file belongs to the layer of its longest matching entry.
 */
export const LAYERS: readonly { readonly name: string; readonly paths: readonly string[] }[] = [
  {
    name: 'core',
    paths: ['src/abi.ts', 'src/errors.ts', 'src/util/', 'src/memory/', 'src/backends/', 'src/core/'],
  },
  { name: 'models', paths: ['src/paging/', 'src/frames/', 'src/dumps/', 'src/images/'] },
  { name: 'facade', paths: ['src/engine/', 'src/address/'] },
  { name: 'xen', paths: ['src/xen/'] },
  { name: 'top', paths: ['src/cli/', 'src/perf/', 'src/compare/', 'src/parallel/', 'src/index.ts', 'src/browser/', 'bench/'] },
];

/** The layer index of a file (0 = lowest), or -1 when no entry names it. */
export function layerOf(file: string, layers = LAYERS): number {
  let best = -1;
  let bestLength = 0;
  layers.forEach((layer, i) => {
    for (const p of layer.paths) {
      const hit = p.endsWith('/') ? file.startsWith(p) : file === p;
      if (hit && p.length > bestLength) [best, bestLength] = [i, p.length];
    }
  });
  return best;
}

export type ImportGraph = ReadonlyMap<string, readonly string[]>;

/** Every circle of the graph: each group of files that reach one another, sorted. */
export function findCircles(graph: ImportGraph): string[][] {
  // Tarjan's algorithm; a group of two or more files, or a file importing itself, is a circle.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      if (group.length > 1 || (graph.get(v) ?? []).includes(v)) circles.push(group.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return circles;
}

/** Every import from a lower layer into a higher one, and every file no layer names. */
export function findLayerBreaks(graph: ImportGraph, layers = LAYERS): string[] {
  const breaks: string[] = [];
  for (const [from, targets] of graph) {
    const own = layerOf(from, layers);
    if (own < 0) {
      breaks.push(`${from} is in no layer`);
      continue;
    }
    for (const to of targets) {
      const theirs = layerOf(to, layers);
      if (theirs > own) breaks.push(`${from} (${layers[own]!.name}) imports ${to} (${layers[theirs]!.name})`);
    }
  }
  return breaks.sort();
}

function sourceFiles(dir: string): string[] {
  if (!existsSync(root + dir)) return [];
  return readdirSync(root + dir, { recursive: true, encoding: 'utf8' })
    .map((f) => `${dir}/${f.split('\\').join('/')}`)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && statSync(root + f).isFile())
    .sort();
}

/** The relative imports of every .ts file of src/ and bench/, as repository paths. */
function readGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of [...sourceFiles('src'), ...sourceFiles('bench')]) {
    const found = ts.preProcessFile(readFileSync(root + file, 'utf8'), true, true).importedFiles;
    const targets = new Set<string>();
    for (const { fileName } of found) {
      if (!fileName.startsWith('.')) continue; // a package, not a file of ours
      const resolved = new URL(fileName, `file:///${file}`).pathname.slice(1);
      const ts = resolved.replace(/\.js$/, '.ts');
      const target = existsSync(root + ts) && statSync(root + ts).isFile() ? ts : `${resolved}/index.ts`;
      if (existsSync(root + target)) targets.add(target);
    }
    graph.set(file, [...targets].sort());
  }
  return graph;
}

test('the checks find a planted circle and a planted upward import', () => {
  const layers = [
    { name: 'low', paths: ['low/'] },
    { name: 'high', paths: ['high/', 'low/special.ts'] },
  ];
  const graph = new Map([
    ['low/a.ts', ['low/b.ts']],
    ['low/b.ts', ['low/c.ts']],
    ['low/c.ts', ['low/a.ts', 'high/x.ts']],
    ['low/special.ts', ['high/x.ts']],
    ['high/x.ts', ['low/a.ts', 'high/x.ts']],
    ['other/y.ts', []],
  ]);
  expect(findCircles(graph)).toEqual([['high/x.ts', 'low/a.ts', 'low/b.ts', 'low/c.ts']]);
  expect(findCircles(new Map([['a.ts', ['a.ts']]]))).toEqual([['a.ts']]);
  expect(findCircles(new Map([['a.ts', ['b.ts']], ['b.ts', []]]))).toEqual([]);
  // low/special.ts belongs to the higher layer by its longer entry, so it may import high/.
  expect(findLayerBreaks(graph, layers)).toEqual(['low/c.ts (low) imports high/x.ts (high)', 'other/y.ts is in no layer']);
});

test('the import reader sees the files and their imports', () => {
  const graph = readGraph();
  expect(graph.size).toBeGreaterThan(80);
  // Checked by hand: the CLI entry point imports its commands; the wasm backend imports
  // the backend interface only as a type; every index of the package is a file of ours.
  expect(graph.get('src/cli/main.ts')).toContain('src/cli/commands/index.ts');
  expect(graph.get('src/backends/wasm.ts')).toContain('src/backends/backend.ts');
  expect(graph.get('src/index.ts')).toContain('src/engine/engine.ts');
});

test('no import circle in src/ or bench/', () => {
  const circles = findCircles(readGraph()).map((c) => c.join(' -> '));
  expect(circles).toEqual([]);
});

test('no file imports from a layer above its own', () => {
  expect(findLayerBreaks(readGraph())).toEqual([]);
});
