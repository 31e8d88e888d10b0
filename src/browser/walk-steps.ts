// The entries a walk of one address reads, level by level, as the explorer shows
// them under the `translate` line: which table, which index, which value, and
// whether the walk went on, stopped at a leaf, or stopped at an invalid entry.
import type { Engine, PagingOptions } from '../engine/engine.js';
import { hex } from '../util/numbers.js';

export interface WalkStep {
  readonly level: string;
  readonly index: number;
  readonly entryAddress: bigint;
  /** undefined when the entry is outside the dump's physical memory. */
  readonly value: bigint | undefined;
  readonly kind: 'table' | 'leaf' | 'invalid' | 'unreadable';
}

export function walkSteps(engine: Engine, root: bigint, va: bigint, options: PagingOptions): WalkStep[] {
  const p = engine.prepare(options);
  const steps: WalkStep[] = [];
  let table = root & p.rootMask;
  for (const l of p.levels) {
    const index = Number((va >> BigInt(l.shift)) & BigInt(2 ** l.bits - 1));
    const entryAddress = table + BigInt(index * p.entryBytes);
    let value: bigint;
    try {
      value = p.entryBytes === 8 ? engine.phys.read64(entryAddress) : BigInt(engine.phys.read32(entryAddress));
    } catch {
      steps.push({ level: l.name, index, entryAddress, value: undefined, kind: 'unreadable' });
      break;
    }
    const low = Number(value & 0xffffffffn);
    const valid = (low & l.validMask) === l.validValue;
    const leaf = valid && l.leafAllowed && (low & l.leafMask) === l.leafValue;
    steps.push({ level: l.name, index, entryAddress, value, kind: !valid ? 'invalid' : leaf ? 'leaf' : 'table' });
    if (!valid || leaf) break;
    table = value & l.tableAddr;
  }
  return steps;
}

/** One step as a line: `PML4[511] at 0x1ff8 = 0x2003 table`. */
export function describeStep(s: WalkStep): string {
  return `${s.level}[${s.index}] at ${hex(s.entryAddress)} = ${s.value === undefined ? '(outside the dump)' : hex(s.value)} ${s.kind}`;
}
