// memwalk/images: physical-memory images and QEMU dumps, the ELF reader, and the
// formatters that print a listing the way QEMU's monitor does.
export {
  openImage, imageFromBuffer, DEFAULT_CHUNK_BYTES,
  type ImageKind, type MemoryImage, type LoadTarget, type LoadProgress, type LoadOptions, type LoadResult,
} from './loader.js';
export {
  parseQemuCore, readQemuCore, pagingState, fileOffsetOf,
  type PhysSegment, type PagingMode, type QemuVcpu, type QemuCore,
} from './qemu-core.js';
export {
  ElfFile, bufferSource, fileSource,
  type ByteSource, type ElfHeader, type ElfProgramHeader, type ElfSectionHeader, type ElfNote, type NoteContainer,
} from './elf.js';
export {
  addrCanonical, infoTlbLine, infoTlbLines, formatInfoTlb, infoMemLines, formatInfoMem, formatGva2gpa,
} from './qemu-format.js';
export { decodeXz, decodeLzmaAlone } from './xz.js';
