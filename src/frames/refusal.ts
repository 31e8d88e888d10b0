// Kernel codes -> typed errors with a message that names the frame, the type and
// the rule. The kernels leave the facts of a refusal in the FR block.
import * as A from '../abi.js';
import { TypeViolationError, InvalidInputError, NotFoundError, MemwalkError } from '../errors.js';
import { hex } from '../util/numbers.js';
import { describeTypeInfo, typeName, NO_FRAME } from './frame-info.js';
import type { EngineContext } from '../core/context.js';

/** The rule behind each TE_* code, as named in messages and in `details.rule`. */
export const RULES: Readonly<Record<number, string>> = {
  [A.TE_BAD_TYPE]: 'bad-type',
  [A.TE_FRAME_RANGE]: 'frame-range',
  [A.TE_NOT_ALLOCATED]: 'not-allocated',
  [A.TE_FOREIGN]: 'foreign-frame',
  [A.TE_OUTSIDE_IMAGE]: 'outside-image',
  [A.TE_TYPE_MISMATCH]: 'type-mismatch',
  [A.TE_WRITABLE_PT]: 'writable-pagetable',
  [A.TE_DISALLOWED]: 'disallowed-flags',
  [A.TE_SUPERPAGE]: 'superpage',
  [A.TE_COUNT_OVERFLOW]: 'count-overflow',
  [A.TE_NOT_VALIDATED]: 'not-validated',
  [A.TE_PARTIAL]: 'partial',
  [A.TE_NO_TYPE_REF]: 'no-type-reference',
  [A.TE_PINNED]: 'pinned',
  [A.TE_NOT_PINNED]: 'not-pinned',
  [A.TE_LOCKED]: 'locked',
  [A.TE_NOT_LOCKED]: 'not-locked',
  [A.TE_IN_USE]: 'in-use',
  [A.TE_NOT_FREE]: 'not-free',
  [A.TE_NO_DOMAIN]: 'no-domain',
  [A.TE_DOMAIN_EXISTS]: 'domain-exists',
  [A.TE_NOT_ON_LIST]: 'not-on-list',
  [A.TE_NO_PAGE_REF]: 'no-page-reference',
};

export type TypeRule = string;

const WHY: Readonly<Record<number, string>> = {
  [A.TE_BAD_TYPE]: 'is not a type this operation accepts',
  [A.TE_FRAME_RANGE]: 'is beyond the frame table',
  [A.TE_NOT_ALLOCATED]: 'is not allocated to any domain',
  [A.TE_FOREIGN]: "belongs to another domain than the table's",
  [A.TE_OUTSIDE_IMAGE]: 'has no contents in the RAM image, so it cannot be validated as a table',
  [A.TE_TYPE_MISMATCH]: 'holds another type with references, so it cannot take this one',
  [A.TE_WRITABLE_PT]: 'holds a page-table type, so it cannot be mapped writable',
  [A.TE_DISALLOWED]: 'is targeted by an entry that sets flags a PV guest table may not use',
  [A.TE_SUPERPAGE]: 'is targeted by a superpage (PS) entry, which a PV guest may not use',
  [A.TE_COUNT_OVERFLOW]: 'has a full reference count',
  [A.TE_NOT_VALIDATED]: 'has type references but was never validated',
  [A.TE_PARTIAL]: 'has a preempted validation pending',
  [A.TE_NO_TYPE_REF]: 'holds no type reference to drop',
  [A.TE_PINNED]: 'is pinned (the pin holds that reference)',
  [A.TE_NOT_PINNED]: 'is not pinned',
  [A.TE_LOCKED]: 'is locked (page_lock holds that reference)',
  [A.TE_NOT_LOCKED]: 'is not locked',
  [A.TE_IN_USE]: 'still holds references beyond its allocation',
  [A.TE_NOT_FREE]: 'is already allocated',
  [A.TE_NOT_ON_LIST]: "is not on its owner's page list",
};

/** The FR block's description of the last refusal. */
export interface RefusalFacts {
  readonly code: number;
  readonly rule: string;
  readonly frame: number;
  readonly wanted: string;
  readonly found: number;
  readonly table: number | undefined;
  readonly entry: number | undefined;
  readonly tableType: string | undefined;
  readonly entryValue: bigint | undefined;
}

export function refusalFacts(ctx: EngineContext, code: number): RefusalFacts {
  const v = ctx.view;
  const g = (o: number) => v.getUint32(A.FR + o, true);
  const table = g(A.FR_ERR_TABLE);
  return {
    code,
    rule: RULES[code] ?? `code-${code}`,
    frame: g(A.FR_ERR_FRAME),
    wanted: typeName(g(A.FR_ERR_WANT)),
    found: g(A.FR_ERR_FOUND),
    table: table === NO_FRAME ? undefined : table,
    entry: table === NO_FRAME ? undefined : g(A.FR_ERR_ENTRY),
    tableType: table === NO_FRAME ? undefined : typeName(g(A.FR_ERR_LEVEL)),
    entryValue: table === NO_FRAME ? undefined : (BigInt(g(A.FR_ERR_EHI)) << 32n) | BigInt(g(A.FR_ERR_ELO)),
  };
}

/**
 * The error for type-system code `code` returned by `op` on `frame`: a
 * TypeViolationError naming the frame that refused, the type asked of it, what
 * it holds, the rule, and the table entry that led there.
 */
export function typeViolation(ctx: EngineContext, code: number, op: string, frame: number): MemwalkError {
  const f = refusalFacts(ctx, code);
  const where = f.table !== undefined ? ` (entry ${f.entry} = ${hex(f.entryValue!)} of ${f.tableType} table ${hex(f.table)})` : '';
  const holds =
    code === A.TE_FOREIGN
      ? `, owned by domain ${f.found - A.OWNER_BIAS}`
      : code === A.TE_NOT_ALLOCATED || code === A.TE_FRAME_RANGE || code === A.TE_DISALLOWED || code === A.TE_SUPERPAGE
        ? ''
        : ` (holds ${describeTypeInfo(f.found)})`;
  const wanted = f.wanted !== 'none' ? `, asked for type ${f.wanted}` : '';
  const message = `${op} of frame ${hex(frame)} refused [${f.rule}]: frame ${hex(f.frame)}${holds}${wanted} ${WHY[code] ?? ''}${where}`;
  return new TypeViolationError(message.trim(), {
    rule: f.rule,
    frame: f.frame,
    requested: frame,
    type: f.wanted,
    found: f.found,
    table: f.table,
    entry: f.entry,
    entryValue: f.entryValue,
  });
}

/** Error for a non-type-system code of a frame or list operation. */
export function frameError(code: number, op: string, subject: string): MemwalkError {
  const rule = RULES[code] ?? `code-${code}`;
  if (code === A.TE_NO_DOMAIN) return new NotFoundError(`${op}: ${subject}: no such domain [${rule}]`, { rule });
  return new InvalidInputError(`${op}: ${subject} ${WHY[code] ?? 'was refused'} [${rule}]`, { rule });
}
