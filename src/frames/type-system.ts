// The PV type system over any backend (xen-mm.md §1): type references, pin,
// page_lock. Validation runs in the kernels; here the inputs are checked and a
// refusal becomes a TypeViolationError naming the frame, the type and the rule.
import * as A from '../abi.js';
import type { Engine } from '../engine/engine.js';
import { InvalidInputError } from '../errors.js';
import { typeCode, type FrameType, type TableType, checkFrameNumber } from './frame-info.js';
import { typeViolation } from './refusal.js';

/** Take a type reference of `type` on `frame` (Xen's get_page_type); validates tables. */
export function getType(engine: Engine, frame: number, type: FrameType): void {
  checkFrameNumber(engine, frame);
  const t = typeCode(type);
  if (t === A.PGT_NONE) throw new InvalidInputError(`type: 'none' cannot be taken as a type reference`, { input: 'type' });
  const rc = engine.backend.frames.getType(frame, t);
  if (rc !== A.TE_OK) throw typeViolation(engine, rc, `getType(${type})`, frame);
}

/** Drop a type reference; the last one of a table demotes it. */
export function putType(engine: Engine, frame: number): void {
  checkFrameNumber(engine, frame);
  const rc = engine.backend.frames.putType(frame);
  if (rc !== A.TE_OK) throw typeViolation(engine, rc, 'putType', frame);
}

/** Pin `frame` as a page table of `type` (MMUEXT_PIN_Ln_TABLE): validates it and keeps it. */
export function pin(engine: Engine, frame: number, type: TableType): void {
  checkFrameNumber(engine, frame);
  const t = typeCode(type);
  if (t < A.PGT_L1 || t > A.PGT_L4) {
    throw new InvalidInputError(`type: '${type}' cannot be pinned (only L1, L2, L3, L4)`, { input: 'type', value: type });
  }
  const rc = engine.backend.frames.pin(frame, t);
  if (rc !== A.TE_OK) throw typeViolation(engine, rc, `pin(${type})`, frame);
}

export function unpin(engine: Engine, frame: number): void {
  checkFrameNumber(engine, frame);
  const rc = engine.backend.frames.unpin(frame);
  if (rc !== A.TE_OK) throw typeViolation(engine, rc, 'unpin', frame);
}

/** page_lock: true when taken; false when refused (already locked, or not a validated frame with a type reference). */
export function pageLock(engine: Engine, frame: number): boolean {
  checkFrameNumber(engine, frame);
  return engine.backend.frames.pageLock(frame) === 1;
}

export function pageUnlock(engine: Engine, frame: number): void {
  checkFrameNumber(engine, frame);
  const rc = engine.backend.frames.pageUnlock(frame);
  if (rc !== A.TE_OK) throw typeViolation(engine, rc, 'pageUnlock', frame);
}
