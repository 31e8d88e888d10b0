// Types for monitor-walk.mjs (used by the TypeScript tests).
import type { Mapping, TranslateResult } from '../../src/paging/types.js';

export type ReadU64 = (pa: bigint) => bigint;
export function monitorMappings(read: ReadU64, cr3: bigint, la57: boolean, onTable?: (pa: bigint) => void): Generator<Mapping>;
export function monitorTranslate(read: ReadU64, cr3: bigint, la57: boolean, va: bigint): TranslateResult;
export function pageReader(pages: Map<bigint, Uint8Array>): ReadU64;
export function encodePages(pages: Map<bigint, Uint8Array>): Uint8Array;
export function decodePages(bytes: Uint8Array): Map<bigint, Uint8Array>;
