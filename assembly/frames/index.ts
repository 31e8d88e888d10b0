// The frames module: frame metadata, domain page lists, the PV type system and
// the m2p-strict fix-ups (see the README). Its twin is src/backends/reference/frames.ts.
export { initLayout as init } from '../shared/layout';
export { initFrames } from './state';
export { domainCreate, domainFree } from './domain';
export { listAddHead, listAddTail, listRemoveHead, listRemove, listIterate, listChase } from './page-list';
export { allocClaim, allocLink, allocCheck, allocList, freeFrame } from './allocation';
export { getType, putType, pin, unpin, pageLock, pageUnlock } from './type-system';
export { fillRoMpt, zapRoMpt, census } from './ro-mpt';
export { fixFaithful, fixCounted, fixFlat, fixIndexed } from './m2p-fixup';
