// Structural diff of two backends' results: typed arrays and arrays element by
// element, objects key by key, everything else by value. Reports the first
// differences with their path, and how many there were in all.
import { hex } from '../util/numbers.js';

export interface Difference {
  /** Where: `translations.pa[1234]`, `listing[7].entry`, `report.framesVisited`. */
  readonly path: string;
  readonly wasm: string;
  readonly reference: string;
}

export interface DiffResult {
  readonly differences: Difference[];
  /** Values compared and values that differed, over everything (not only the first reported). */
  readonly compared: number;
  readonly differing: number;
}

type Typed = Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array | BigUint64Array | BigInt64Array;

const isTyped = (v: unknown): v is Typed => ArrayBuffer.isView(v) && !(v instanceof DataView);

function show(v: unknown): string {
  if (typeof v === 'bigint') return hex(v);
  if (typeof v === 'number') return Number.isInteger(v) && v > 0xffff ? `${v} (0x${v.toString(16)})` : String(v);
  if (v === undefined) return 'missing';
  const s = JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? hex(x) : x));
  return s.length > 120 ? s.slice(0, 117) + '...' : s;
}

/** Diff `a` (wasm) against `b` (reference), keeping the first `max` differences. */
export function diffResults(a: unknown, b: unknown, max = 10): DiffResult {
  const differences: Difference[] = [];
  let compared = 0;
  let differing = 0;
  const note = (path: string, x: unknown, y: unknown) => {
    differing++;
    if (differences.length < max) differences.push({ path, wasm: show(x), reference: show(y) });
  };
  const walk = (path: string, x: unknown, y: unknown): void => {
    if (isTyped(x) && isTyped(y)) {
      const n = Math.max(x.length, y.length);
      if (x.length !== y.length) note(`${path}.length`, x.length, y.length);
      for (let i = 0; i < n; i++) {
        compared++;
        if (x[i] !== y[i]) note(`${path}[${i}]`, x[i], y[i]);
      }
      return;
    }
    if (Array.isArray(x) && Array.isArray(y)) {
      if (x.length !== y.length) note(`${path}.length`, x.length, y.length);
      const n = Math.max(x.length, y.length);
      for (let i = 0; i < n; i++) walk(`${path}[${i}]`, x[i], y[i]);
      return;
    }
    if (x && y && typeof x === 'object' && typeof y === 'object' && !isTyped(x) && !isTyped(y)) {
      const keys = new Set([...Object.keys(x), ...Object.keys(y)]);
      for (const k of keys) walk(path ? `${path}.${k}` : k, (x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k]);
      return;
    }
    compared++;
    if (!Object.is(x, y)) note(path, x, y);
  };
  walk('', a, b);
  return { differences, compared, differing };
}
