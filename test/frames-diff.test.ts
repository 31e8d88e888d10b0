// Differential property test: random sequences of frame operations run on a wasm
// engine and a reference engine; every call must return the same code and leave
// the same facts in the FR block, the final states must be identical byte for
// byte, and both audits clean.
import { test, expect } from 'vitest';
import fc from 'fast-check';
import { type Engine } from '../src/index.js';
import * as A from '../src/abi.js';
import { smallEngine, frameState, expectSameState, P, RW, US, A_, D, PS, G } from './helpers/frames-fixtures.js';

const RAM = 24;
const FRAMES = 48;

type Cmd =
  | { op: 'alloc'; dom: number; frames: number[] }
  | { op: 'pattern'; dom: number; first: number; count: number; chunk: number; stride: number; random: boolean; seed: number }
  | { op: 'free'; frame: number }
  | { op: 'write'; table: number; index: number; target: number; flags: number }
  | { op: 'table'; table: number; entries: { target: number; flags: number }[] }
  | { op: 'pin' | 'get'; frame: number; type: number }
  | { op: 'unpin' | 'put' | 'lock' | 'unlock' | 'fill' | 'zap'; frame: number }
  | { op: 'fix'; dom: number; strategy: number; checks: number }
  | { op: 'move'; dom: number; frame: number; head: boolean }
  | { op: 'strict'; dom: number; on: boolean }
  | { op: 'destroy'; dom: number }
  | { op: 'census'; key: number; dom: number; from: number; to: number };

/** Mostly domain 1's image frames (0..15), where tables can be built; sometimes anything. */
const frame = fc.oneof({ arbitrary: fc.integer({ min: 0, max: 15 }), weight: 4 }, { arbitrary: fc.integer({ min: 0, max: FRAMES + 2 }), weight: 1 });
const dom = fc.integer({ min: 1, max: 2 });
const flagsArb = fc.constantFrom(P | RW | US | A_, P | RW | US | A_, P | US | A_, P | US | A_, P | RW | US | A_ | D, P | RW | PS, P | RW | G, 0, P);

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('alloc' as const), dom, frames: fc.array(frame, { maxLength: 6 }) }), weight: 3 },
  {
    arbitrary: fc.record({
      op: fc.constant('pattern' as const),
      dom,
      first: fc.integer({ min: 0, max: FRAMES - 1 }),
      count: fc.integer({ min: 0, max: 12 }),
      chunk: fc.integer({ min: 1, max: 3 }),
      stride: fc.integer({ min: 3, max: 5 }),
      random: fc.boolean(),
      seed: fc.nat(),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ op: fc.constant('free' as const), frame }), weight: 1 },
  {
    arbitrary: fc.record({
      op: fc.constant('write' as const),
      table: fc.integer({ min: 0, max: RAM - 1 }),
      index: fc.constantFrom(0, 0, 1, 1, 2, 3, 255, 256, 300, 511),
      target: frame,
      flags: flagsArb,
    }),
    weight: 6,
  },
  {
    // A whole small table: entries 0..3 pointing mostly at domain 1's image frames.
    arbitrary: fc.record({
      op: fc.constant('table' as const),
      table: fc.integer({ min: 0, max: 15 }),
      entries: fc.array(fc.record({ target: fc.integer({ min: 0, max: 19 }), flags: flagsArb }), { minLength: 1, maxLength: 4 }),
    }),
    weight: 6,
  },
  { arbitrary: fc.record({ op: fc.constant('pin' as const), frame, type: fc.oneof({ arbitrary: fc.integer({ min: 1, max: 4 }), weight: 5 }, { arbitrary: fc.integer({ min: 0, max: 5 }), weight: 1 }) }), weight: 5 },
  { arbitrary: fc.record({ op: fc.constant('get' as const), frame, type: fc.integer({ min: 1, max: 7 }) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constantFrom('unpin' as const, 'put' as const, 'lock' as const, 'unlock' as const, 'fill' as const, 'zap' as const), frame }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant('fix' as const), dom, strategy: fc.integer({ min: 0, max: 3 }), checks: fc.integer({ min: 1, max: 3 }) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('move' as const), dom, frame, head: fc.boolean() }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('strict' as const), dom, on: fc.boolean() }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('destroy' as const), dom }), weight: 1 },
  {
    arbitrary: fc.record({
      op: fc.constant('census' as const),
      key: fc.integer({ min: 0, max: 15 }),
      dom: fc.constantFrom(-1, 1, 2, 5),
      from: fc.integer({ min: 0, max: FRAMES }),
      to: fc.integer({ min: 0, max: FRAMES + 5 }),
    }),
    weight: 1,
  },
);

/** Run one command through the kernels; returns what the caller sees (codes, frames). */
function run(e: Engine, c: Cmd): number[] {
  const k = e.backend.frames;
  switch (c.op) {
    case 'alloc': {
      const buf = new Uint32Array(e.memory.buffer, e.layout.ioBase, c.frames.length);
      buf.set(c.frames);
      return [k.allocList(c.dom, e.layout.ioBase, c.frames.length)];
    }
    case 'pattern': {
      const busy = k.allocCheck(c.first, c.chunk, c.stride, c.count);
      const last = c.first + Math.floor((c.count - 1) / c.chunk) * c.stride + ((c.count - 1) % c.chunk);
      if (busy !== -1 || c.count === 0 || last >= FRAMES) return [busy];
      const rc = k.allocClaim(c.dom, c.first, c.chunk, c.stride, 0, c.count);
      return [busy, rc, k.allocLink(c.dom, c.first, c.chunk, c.stride, c.count, 0, c.count, c.random ? A.ORDER_RANDOM : A.ORDER_ASCENDING, c.seed)];
    }
    case 'free':
      return [k.freeFrame(c.frame)];
    case 'write': {
      // Only a frame without type references may be rewritten (a validated table's entries are the hypervisor's to change).
      if ((e.frames.columns().typeInfo[c.table]! & A.PGT_COUNT_MASK) !== 0) return [-1];
      e.phys.write64(BigInt(c.table) * 4096n + BigInt(c.index) * 8n, (BigInt(c.target) << 12n) | BigInt(c.flags));
      return [0];
    }
    case 'table': {
      if ((e.frames.columns().typeInfo[c.table]! & A.PGT_COUNT_MASK) !== 0) return [-1];
      c.entries.forEach((x, i) => e.phys.write64(BigInt(c.table) * 4096n + BigInt(i) * 8n, (BigInt(x.target) << 12n) | BigInt(x.flags)));
      return [0];
    }
    case 'pin':
      return [k.pin(c.frame, c.type)];
    case 'get':
      return [k.getType(c.frame, c.type)];
    case 'unpin':
      return [k.unpin(c.frame)];
    case 'put':
      return [k.putType(c.frame)];
    case 'lock':
      return [k.pageLock(c.frame)];
    case 'unlock':
      return [k.pageUnlock(c.frame)];
    case 'fill':
      return [k.fillRoMpt(c.frame)];
    case 'zap':
      return [k.zapRoMpt(c.frame)];
    case 'fix': {
      const fn = [k.fixFaithful, k.fixCounted, k.fixFlat, k.fixIndexed][c.strategy]!;
      // A bounded number of calls: the faithful loop may never end on its own.
      const out: number[] = [];
      for (let i = 0; i < 6; i++) {
        const rc = fn.call(k, c.dom, c.checks);
        out.push(rc);
        if (rc !== A.FX_RESTART) break;
      }
      return out;
    }
    case 'move': {
      if (c.frame >= FRAMES) return [-2];
      const owner = e.frames.columns().owner[c.frame]!;
      if (owner !== c.dom + A.OWNER_BIAS) return [-3];
      const rc = k.listRemove(c.dom, c.frame);
      return [rc, rc === 0 ? (c.head ? k.listAddHead(c.dom, c.frame) : k.listAddTail(c.dom, c.frame)) : -4];
    }
    case 'strict': {
      if (!e.domains.has(c.dom)) return [-5];
      e.domains.get(c.dom).m2pStrict = c.on;
      return [0];
    }
    case 'census':
      return [k.census(c.key, c.dom, c.from, c.to)];
    case 'destroy': {
      const n = k.domainFree(c.dom);
      return [n, k.domainCreate(c.dom, A.DF_PV64 | (c.dom === 1 ? A.DF_M2P_STRICT : 0))];
    }
  }
}

const frBlock = (e: Engine) => new Uint32Array(e.memory.buffer, A.FR, A.FR_BYTES / 4).slice();

test('random frame operations: wasm and reference agree call by call, end identical, and audit clean', () => {
  fc.assert(
    fc.property(fc.array(cmdArb, { maxLength: 80 }), (cmds) => {
      const [w, r] = (['wasm', 'reference'] as const).map((b) => {
        const e = smallEngine(b, RAM, FRAMES);
        e.domains.create(1, { m2pStrict: true });
        e.domains.create(2);
        // Domain 1: image frames 0..15 and frames 24..31 beyond the image; domain 2: 16..19.
        e.frames.allocate(1, { first: 0, count: 16 });
        e.frames.allocate(1, { first: 24, count: 8 });
        e.frames.allocate(2, { first: 16, count: 4 });
        return e;
      }) as [Engine, Engine];
      for (const c of cmds) {
        const a = run(w, c);
        const b = run(r, c);
        expect(b, JSON.stringify(c)).toEqual(a);
        expect([...frBlock(r)], JSON.stringify(c)).toEqual([...frBlock(w)]);
      }
      expectSameState(frameState(w), frameState(r));
      const aw = w.frames.audit();
      expect(aw.violations).toEqual([]);
      expect(r.frames.audit()).toEqual(aw);
    }),
    { numRuns: 500 },
  );
});
