// The frames module: frame metadata, domain page lists, the PV type system and
// the m2p-strict fix-ups. Its twin is src/backends/reference/frames.ts.
export { init } from './state';
export { abiHash } from '../../build/gen/abi-hash';
export { domainCreate, domainFree } from './domain';
export { listAddHead, listAddTail, listRemoveHead, listRemove, listIterate, listChase } from './page-list';
export { allocClaim, allocLink, allocCheck, allocList, freeFrame } from './allocation';
export { getType, putType, pin, unpin, pageLock, pageUnlock } from './type-system';
export { fillRoMpt, zapRoMpt, census } from './ro-mpt';
export { fixFaithful, fixCounted, fixFlat, fixIndexed } from './m2p-fixup';
