// Undo of a refused map or protect: the real run of those kernels notes what each
// write replaced in a journal (record layout in src/abi.ts, "Undo journal"; why a
// journal at all: the header of assembly/paging/map.ts). Replayed last record
// first, it puts every byte back, whatever order the run wrote them in: a note
// restores what was there when it was taken, and any later write to the same
// bytes has its own note, replayed before it.
import * as A from '../abi.js';
import type { EngineContext } from '../core/context.js';

/** Replay the `bytes` of journal at `start` backwards; `mask`: the protect mask (JK_RIGHTS notes). */
export function undo(ctx: EngineContext, start: number, bytes: number, entryBytes: number, mask = 0n): void {
  const v = ctx.view, phys = ctx.phys;
  let end = start + bytes;
  while (end > start) {
    const r = end - A.JR_BYTES;
    const addr = v.getBigUint64(r + A.JR_ADDR, true);
    const value = v.getBigUint64(r + A.JR_VALUE, true);
    const n = v.getUint32(r + A.JR_COUNT, true);
    end = r;
    switch (v.getUint32(r + A.JR_KIND, true)) {
      case A.JK_ENTRIES:
        for (let k = 0; k < n; k++) writeEntry(ctx, addr + BigInt(k * entryBytes), entryBytes, value);
        break;
      case A.JK_RIGHTS:
        for (let k = 0; k < n; k++) {
          const at = addr + BigInt(k * entryBytes);
          const e = entryBytes === 8 ? phys.read64(at) : BigInt(phys.read32(at));
          writeEntry(ctx, at, entryBytes, (e & ~mask) | value);
        }
        break;
      case A.JK_ZERO:
        phys.fill(addr, n, 0);
        break;
      case A.JK_SAVED:
        end -= (n + 7) & ~7;
        phys.write(addr, new Uint8Array(ctx.memory.buffer, end, n));
        break;
      default:
        throw new Error(`undo: journal record of unknown kind at ${r}`);
    }
  }
}

function writeEntry(ctx: EngineContext, at: bigint, entryBytes: number, value: bigint): void {
  if (entryBytes === 8) ctx.phys.write64(at, value);
  else ctx.phys.write32(at, Number(BigInt.asUintN(32, value)));
}
