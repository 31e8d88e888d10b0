// memwalk/address: questions about address spaces beyond one translation: reading
// and writing by virtual address, who maps a frame, where a pattern is, which
// address spaces a dump holds.
export {
  readVirtual, writeVirtual, readPhysical, MAX_VIRTUAL_BYTES,
  type VirtualRead, type VirtualWrite, type VirtualAccessOptions, type Hole,
} from './virtual-memory.js';
export { reverseLookup, type ReverseHit, type ReverseResult, type ReverseOptions } from './reverse.js';
export { discoverRoots, type AddressSpace, type Discovery, type DiscoverOptions } from './roots.js';
export { searchVirtual, searchPhysical, scanSpans, type Match, type SearchOptions, type SearchResult } from './search.js';
export { virtualSpans, physicalSpans, type Span } from './spans.js';
