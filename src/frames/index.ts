// memwalk/frames: frame metadata, domains, page lists, the type system, allocation and audit.
export { FrameTable, type FrameColumns, type CensusResult } from './frame-table.js';
export {
  FRAME_TYPES, NO_FRAME, typeCode, typeName, decodeTypeInfo, describeTypeInfo, encodeTypeInfo,
  type FrameType, type TableType, type FrameInfo,
} from './frame-info.js';
export { PageList, type ChaseResult } from './page-list.js';
export { getType, putType, pin, unpin, pageLock, pageUnlock } from './type-system.js';
export {
  allocate, allocateFrames, freeFrame, patternFrame,
  type AllocateOptions, type AllocationOrder, type FramePattern,
} from './allocation.js';
export { audit, type AuditReport, type AuditOptions, type Violation } from './audit.js';
export { RULES as TYPE_RULES, refusalFacts, type TypeRule, type RefusalFacts } from './refusal.js';
export { Domain, Domains, type DomainOptions, type DomainRecord } from './domains.js';
