// The messages between the explorer page and its worker. Addresses travel as
// bigints (structured clone keeps them); a run is a stretch of consecutive leaves
// of one page size and one set of rights.

/** Paging as the CLI's --paging names it. */
export type Paging = '4' | '5' | 'pae' | '32';

export interface SpaceChoice {
  readonly root: bigint;
  readonly paging: Paging;
}

export type Request =
  | { readonly type: 'open'; readonly file: File }
  | ({ readonly type: 'space'; readonly id: number } & SpaceChoice)
  | ({ readonly type: 'inspect'; readonly va: bigint; readonly roots: readonly bigint[] } & SpaceChoice)
  | ({ readonly type: 'listing' } & SpaceChoice)
  | ({ readonly type: 'discover' } & SpaceChoice);

/** [start, end) of virtual addresses, leaf size in bytes, rights as bits: 1 write, 2 user, 4 execute. */
export type Run = readonly [start: bigint, end: bigint, size: number, rights: number];

export const RIGHT_WRITE = 1;
export const RIGHT_USER = 2;
export const RIGHT_EXECUTE = 4;

/** One canonical half of an address space (or the whole of a 32-bit one). */
export interface Half {
  readonly name: string;
  readonly start: bigint;
  readonly bytes: bigint;
}

export interface Description {
  readonly name: string;
  readonly fileSize: number;
  readonly lines: readonly string[];
  readonly vcpus: readonly { readonly index: number; readonly mode: string; readonly root: bigint | null; readonly paging?: Paging }[];
}

export type Reply =
  | { readonly type: 'progress'; readonly what: string; readonly done: number; readonly total: number }
  | { readonly type: 'opened'; readonly description: Description; readonly bytesRead: number }
  | { readonly type: 'halves'; readonly id: number; readonly halves: readonly Half[] }
  | { readonly type: 'runs'; readonly id: number; readonly runs: readonly Run[]; readonly mappings: number; readonly done: boolean; readonly bytesRead: number }
  | { readonly type: 'inspected'; readonly va: bigint; readonly walk: readonly string[]; readonly hexdump: readonly string[]; readonly reverse: readonly string[] }
  | { readonly type: 'listing-part'; readonly text: string }
  | { readonly type: 'listing-done'; readonly lines: number }
  | { readonly type: 'discovered'; readonly spaces: readonly { readonly root: bigint; readonly label: string }[] }
  | { readonly type: 'error'; readonly message: string };
