// The PV type system over any backend (xen-mm.md §1): type references, pin,
// page_lock. Validation runs in the kernels; here the inputs are checked and a
// refusal becomes a TypeViolationError naming the frame, the type and the rule.
import * as A from '../abi.js';
import type { EngineContext } from '../core/context.js';
import { InvalidInputError } from '../errors.js';
import { typeCode, type FrameType, type TableType, checkFrameNumber } from './frame-info.js';
import { typeViolation } from './refusal.js';

/** Take a type reference of `type` on `frame` (Xen's get_page_type); validates tables. */
export function getType(ctx: EngineContext, frame: number, type: FrameType): void {
  checkFrameNumber(ctx, frame);
  const t = typeCode(type);
  if (t === A.PGT_NONE) throw new InvalidInputError(`type: 'none' cannot be taken as a type reference`, { input: 'type' });
  const rc = ctx.backend.frames.getType(frame, t);
  if (rc !== A.TE_OK) throw typeViolation(ctx, rc, `getType(${type})`, frame);
}

/** Drop a type reference; the last one of a table demotes it. */
export function putType(ctx: EngineContext, frame: number): void {
  checkFrameNumber(ctx, frame);
  const rc = ctx.backend.frames.putType(frame);
  if (rc !== A.TE_OK) throw typeViolation(ctx, rc, 'putType', frame);
}

/** Pin `frame` as a page table of `type` (MMUEXT_PIN_Ln_TABLE): validates it and keeps it. */
export function pin(ctx: EngineContext, frame: number, type: TableType): void {
  checkFrameNumber(ctx, frame);
  const t = typeCode(type);
  if (t < A.PGT_L1 || t > A.PGT_L4) {
    throw new InvalidInputError(`type: '${type}' cannot be pinned (only L1, L2, L3, L4)`, { input: 'type', value: type });
  }
  const rc = ctx.backend.frames.pin(frame, t);
  if (rc !== A.TE_OK) throw typeViolation(ctx, rc, `pin(${type})`, frame);
}

export function unpin(ctx: EngineContext, frame: number): void {
  checkFrameNumber(ctx, frame);
  const rc = ctx.backend.frames.unpin(frame);
  if (rc !== A.TE_OK) throw typeViolation(ctx, rc, 'unpin', frame);
}

/** page_lock: true when taken; false when refused (already locked, or not a validated frame with a type reference). */
export function pageLock(ctx: EngineContext, frame: number): boolean {
  checkFrameNumber(ctx, frame);
  return ctx.backend.frames.pageLock(frame) === 1;
}

export function pageUnlock(ctx: EngineContext, frame: number): void {
  checkFrameNumber(ctx, frame);
  const rc = ctx.backend.frames.pageUnlock(frame);
  if (rc !== A.TE_OK) throw typeViolation(ctx, rc, 'pageUnlock', frame);
}
