// The numeric contract between the TypeScript layer and the kernels: where every
// block of the control area is, and the layout of every record. This file is
// imported by BOTH compilers (tsc and AssemblyScript), so it holds only
// `export const NAME = <integer expression over earlier names>`. The build
// compiles a hash of its name=value pairs into each kernel module, and the loader
// refuses a module built from another version (src/backends/abi-hash.ts).

// ---- Regions of the engine's memory below the I/O buffers -------------------------
// [0, CTRL_BASE): static data of the wasm modules (each module has its own slot).
export const MODULE_DATA_SLOT = 0x1000;
export const CTRL_BASE = 0x10000;
export const CTRL_BYTES = 0x10000;
// I/O buffers for batch calls follow the control area.
export const IO_BASE = 0x20000;
/** Most levels of any format. */
export const MAX_LEVELS = 5;

// ---- The control area: every block is NAME (base) and NAME_BYTES (size) -----------
// test/abi.test.ts checks that the blocks lie inside [CTRL_BASE, CTRL_BASE +
// CTRL_BYTES), do not overlap, and hold their records.

// Walk parameters: the format description and walk options, written by the TS
// layer before a paging call (src/paging/walk-fields.ts lists the fields).
export const WP = CTRL_BASE + 0x0000;
export const WP_BYTES = 0x800;
// Result of the last single call (translate, map/unmap/protect, relocate, ...).
export const RES = CTRL_BASE + 0x0800;
export const RES_BYTES = 0x100;
// Where the regions of the engine's memory are, written once at engine creation
// and read by each module's `init`.
export const LAYOUT = CTRL_BASE + 0x0900;
export const LAYOUT_BYTES = 0x100;
// Mapping enumerator state (enumStart / enumNext).
export const EN = CTRL_BASE + 0x1000;
export const EN_BYTES = 0x100;
// Contiguous-hint check state (contigCheckStart / contigCheckNext).
export const CK = CTRL_BASE + 0x1100;
export const CK_BYTES = 0x100;
// Results and refusal details of the frame kernels.
export const FR = CTRL_BASE + 0x1200;
export const FR_BYTES = 0x100;
// Per-instance scratch: SCRATCH_SLOTS slots of SCRATCH_STRIDE bytes. Slot 0 belongs
// to the engine's own kernel instances; scan workers over a shared memory take
// slots 1.. (setScratchSlot), so their batch walks never share state.
export const SCRATCH = CTRL_BASE + 0x2000;
export const SCRATCH_STRIDE = 0x500;
export const SCRATCH_SLOTS = 17;
export const SCRATCH_BYTES = SCRATCH_STRIDE * SCRATCH_SLOTS;

// ---- Inside one scratch slot ----------------------------------------------------
// Walk cache: per level, the table and the rights accumulators on entry to it.
export const WC_OFFSET = 0;
export const WC_BYTES = 0x100;
export const WC_STRIDE = 32;
export const WC_TABLE = 0; // u64
export const WC_AND = 8; // u64
export const WC_OR = 16; // u64
// Interleaved batch walk: per group member (BATCH_GROUP of them).
export const IG_OFFSET = 0x100;
export const IG_BYTES = 0x400;
export const IG_STRIDE = 64;
export const IG_TABLE = 0; // u64: table at the current level
export const IG_AND = 8; // u64: rights AND accumulator
export const IG_OR = 16; // u64: rights OR accumulator
export const IG_VA = 24; // u64
export const IG_ENTRY = 32; // u64: (free)
export const IG_INSIDE = 40; // u32: over a source, the wasm address of this level's entry found by the lookup pass (0: not in the image)

// ---- Layout record (LAYOUT block) ------------------------------------------------
export const LY_RAM_BASE = 0; // u32: offset of physical address 0 in the memory
export const LY_FRAMES = 4; // u32: frames with metadata
export const LY_COL_TYPE = 8; // u32: frame columns (one u32 per frame each)
export const LY_COL_COUNT = 12;
export const LY_COL_OWNER = 16;
export const LY_COL_NEXT = 20;
export const LY_COL_PREV = 24;
export const LY_DOMAINS = 28; // u32: domain records
export const LY_L4_NEXT = 32; // u32: L4-index links (one u32 per frame of the RAM image)
export const LY_L4_PREV = 36;
export const LY_RAM_BYTES = 40; // u64: physical addresses [0, RAM_BYTES) have contents
// An engine over a source reads physical memory through its frame cache instead:
export const LY_CACHED = 48; // u32: 1 = physical memory is the frame cache (FM_* map below)
export const LY_MAP_BASE = 52; // u32: the frame map
export const LY_MAP_BITS = 56; // u32: log2 of its entries
export const LY_WRITE_INTENT = 60; // u32: 1 while a write operation runs: every frame it reads is made private first, so its dry run fails before anything is written
export const LY_SLOTS_BASE = 64; // u32: slot 0 of the frame cache (slots are 4 KiB apart)
export const LY_TAG_BASE = 68; // u32: the home tags (FT_* below)
export const LY_HOME_BITS = 72; // u32: log2 of the home slots (the largest power of two <= slots)

// ---- Walk parameters (WP block) --------------------------------------------------
export const WP_LEVELS = 0; // u32: number of levels (2..MAX_LEVELS)
export const WP_ENTRY_BYTES = 4; // u32: 4 or 8
export const WP_FLAGS = 8; // u32: WF_* below
export const WP_VA_BITS = 12; // u32: significant VA bits (48, 57, 32, ...)
export const WP_ROOT_MASK = 16; // u64: root register bits that hold the root table address
export const WP_MAX_LEAF = 24; // u32: map: smallest level index allowed to hold a leaf (largest leaf)
export const WP_GEN = 28; // u32: bumped on every rewrite, so a backend may cache what it parsed
// Rights masks shared by every table level (one RM_* record): the walk folds table
// entries into AND/OR accumulators and resolves their rights once, at the leaf.
export const WP_T_RIGHTS = 64;
export const WP_LEVEL_BASE = 128; // per-level records start here
export const WP_LEVEL_STRIDE = 320;

// Walk flags (WP_FLAGS)
export const WF_SIGN_EXTEND = 1; // VA must be sign-extended from bit VA_BITS-1 (x86, Arm); else zero-extended
export const WF_CHECK_RSVD = 2; // reserved-bit checks enabled (off = QEMU monitor semantics)
export const WF_WP = 4; // supervisor writes honour write protection (CR0.WP)
export const WF_SMEP = 8;
export const WF_SMAP = 16;
export const WF_NXE = 32; // only decides whether fetch faults report the I/D error-code bit

// A rights record: six u64 masks. A right holds when every *_ALLOW bit is set and
// no *_DENY bit is; execute is lost when any PXN/UXN bit is set.
export const RM_W_ALLOW = 0;
export const RM_W_DENY = 8;
export const RM_U_ALLOW = 16;
export const RM_U_DENY = 24;
export const RM_PXN = 32;
export const RM_UXN = 40;
export const RM_BYTES = 48;

// Per-level record (level index 0 = the root table), offsets inside one stride.
export const LV_SHIFT = 0; // u32: VA bit of this level's index
export const LV_INDEX_MASK = 4; // u32: entries per table - 1
export const LV_VALID_MASK = 8; // u32: entry is valid when (entry & mask) == value
export const LV_VALID_VALUE = 12;
export const LV_LEAF_MASK = 16; // u32: a valid entry is a leaf when allowed and (entry & mask) == value
export const LV_LEAF_VALUE = 20;
export const LV_LEAF_ALLOWED = 24; // u32: 0/1
export const LV_ARCH_LEVEL = 28; // u32: the architecture's name for this level (x86 4..1, Arm 0..3)
export const LV_LEAF_EXT_SHIFT = 32; // u32: leaf address |= (entry & LEAF_EXT_MASK) << shift (PSE-36)
export const LV_TABLE_ADDR = 40; // u64: next-table address bits
export const LV_LEAF_ADDR = 48; // u64: leaf output address bits
export const LV_LEAF_EXT_MASK = 56; // u64
export const LV_RSVD_TABLE = 64; // u64: bits that must be 0 in a valid table entry
export const LV_RSVD_LEAF = 72; // u64: bits that must be 0 in a valid leaf entry
// Rights contributed by a table entry (restrictions on everything below): an RM_* record.
export const LV_T_RIGHTS = 80;
// ... and by a leaf entry.
export const LV_L_RIGHTS = 128;
// Templates for map: bits of a new table pointer, and leaf-kind bits of a leaf here.
export const LV_TABLE_TEMPLATE = 176; // u64
export const LV_LEAF_TEMPLATE = 184; // u64
export const LV_LEAF_REQUIRE = 192; // u64: bits that must all be set in a valid leaf, else K_ACCESS_FLAG (Arm AF)
export const LV_CONTIG_BIT = 200; // u64: the contiguous-hint bit of a leaf at this level (0: the level has none)
export const LV_CONTIG_ENTRIES = 208; // u32: entries in one contiguous group (a power of two; 0: no hint here)
// The walk's fast path: a valid table entry with nothing reserved is recognised by
// one masked compare, and folded into the rights accumulators:
// and &= e | AND_KEEP; or |= e & OR_KEEP.
export const LV_FAST_MASK = 216; // u64
export const LV_FAST_VALUE = 224; // u64 (a value outside the mask: never taken)
export const LV_AND_KEEP = 232; // u64
export const LV_OR_KEEP = 240; // u64
// The same for a leaf: a valid leaf, nothing reserved, required bits present,
// rights on the table bits, no split address: one compare, then the status word
// is LEAF_STATUS | rights.
export const LV_LFAST_MASK = 248; // u64
export const LV_LFAST_VALUE = 256; // u64
export const LV_LAND_KEEP = 264; // u64
export const LV_LOR_KEEP = 272; // u64
export const LV_LEAF_STATUS = 280; // u32: level index and page shift of a leaf here

// ---- Result of a single call (RES block) -----------------------------------------
// Each call writes its own fields; no field means two things.
export const RES_PA = 0; // u64 translate: output address (0 for a fault)
export const RES_ENTRY_ADDR = 8; // u64 translate: entry read last; map/unmap/protect/relocate: the entry in the way
export const RES_ENTRY_VALUE = 16; // u64 its value
export const RES_STATUS = 24; // u32 translate: status word
export const RES_VA = 32; // u64 map/unmap/protect: where a conflict was found; relocate: the l2_xenmap slot
export const RES_TABLES_NEEDED = 40; // u64 mapRange dry run: table pages the mapping needs
export const RES_LEAVES = 48; // u64 map/unmap/protect: leaves written, cleared or changed (or that would be, dry)
export const RES_PAGES_COVERED = 56; // u64 translateRuns: pages the runs written cover
export const RES_HINTS_CHANGED = 64; // u64 contigUpdate: entries whose hint bit changed
export const RES_ENTRIES_VISITED = 72; // u64 contigCheckNext: entries visited by this call
export const RES_RELOCATED = 80; // u64 relocate: entries relocated (or that would be, dry)
export const RES_TABLES_VISITED = 88; // u64 relocate: tables visited

// ---- Relocation of hypervisor tables (move_xen), see src/xen/relocate.ts ---------
export const RELOC_OK = 0;
export const RELOC_XENMAP_4K = 1; // a present non-leaf entry in l2_xenmap; RES_VA = slot
export const RELOC_OUTSIDE_IMAGE = 2; // a table to fix lies outside the image; RES_ENTRY_ADDR = it
export const RELOC_TOO_MANY = 3; // more tables than the scratch holds
// The caller's scratch: `cap` u64 table addresses, then `cap` stack records.
export const RELOC_SEEN_BYTES = 8;
export const RELOC_STACK_BYTES = 16;
export const RELOC_STACK_TABLE = 0; // u64
export const RELOC_STACK_LEVEL = 8; // u32

// ---- Batch strategies (translateBatch's `mode`) ----------------------------------
export const BATCH_NAIVE = 0; // every address walked from the root
export const BATCH_CACHED = 1; // reuse the upper tables of the previous address
export const BATCH_INTERLEAVED = 2; // groups of BATCH_GROUP addresses advance level by level
export const BATCH_GROUP = 16;

// ---- Access flags passed to translate kernels ----------------------------------
export const ACC_WRITE = 1;
export const ACC_USER = 2;
export const ACC_FETCH = 4;

// ---- Status word of a translation or mapping record -----------------------------
// bits 0..3 kind, 4..7 level index, 8..15 x86 error code, 16..19 rights, 24..31 page shift
export const ST_KIND_MASK = 0xf;
export const ST_LEVEL_SHIFT = 4;
export const ST_ERR_SHIFT = 8;
export const ST_RIGHTS_SHIFT = 16;
export const ST_PAGE_SHIFT = 24;

export const K_OK = 0;
export const K_NOT_PRESENT = 1;
export const K_PROTECTION = 2;
export const K_RESERVED = 3;
export const K_NON_CANONICAL = 4;
export const K_OUTSIDE_IMAGE = 5;
export const K_ACCESS_FLAG = 6; // a valid leaf lacks a required bit (Arm Access flag fault)

// Rights bits (in the status word), and the deny accumulator bits used while walking.
export const R_WRITE = 1;
export const R_USER = 2;
export const R_EXEC = 4;
export const R_UEXEC = 8;

// x86 page-fault error code bits
export const PF_P = 1;
export const PF_W = 2;
export const PF_U = 4;
export const PF_RSVD = 8;
export const PF_I = 16;

// ---- Batch records in the I/O region -------------------------------------------
// translateBatch input: u64 VAs. Output: 16-byte records.
export const BR_BYTES = 16;
export const BR_PA = 0; // u64: pa, or for a fault the address of the entry read last
export const BR_STATUS = 8; // u32
export const BR_ENTRY_LO = 12; // u32: low half of the last entry value (faults), for diagnostics

// Mapping records written by the enumerator: 32 bytes each.
export const MR_BYTES = 32;
export const MR_VA = 0; // u64 canonical VA
export const MR_PA = 8; // u64
export const MR_ENTRY = 16; // u64 raw leaf entry
export const MR_STATUS = 24; // u32 (kind 0, level, rights, page shift)

// ---- `info mem` merge state (formatMem): a block the caller keeps across batches ----
export const MS_START = 0; // u64: start of the open range, all ones when none is open
export const MS_CURSOR = 8; // u64: first address past the leaves seen so far
export const MS_PROT = 16; // u32: protection of the open range (1 r, 2 w, 4 u), 0 when none
export const MS_BYTES = 24;

// ---- Depth-first traversal state (EN and CK blocks) --------------------------------
export const DFS_DEPTH = 0; // i32: current level index, -1 when finished
export const DFS_LEVEL_BASE = 64;
export const DFS_LEVEL_STRIDE = 32;
export const DFS_TABLE = 0; // u64: table address at this level
export const DFS_VA = 8; // u64: VA of the table's first entry
export const DFS_INDEX = 16; // u32: next index to visit
export const DFS_DENY = 20; // u32: deny bits accumulated above this table

// ---- map/unmap/protect codes ----------------------------------------------------
export const MAP_OK = 0;
export const MAP_ALREADY_MAPPED = 1; // a valid leaf or table is where a leaf must go
export const MAP_INSIDE_LEAF = 2; // the range needs to descend where a large leaf is
export const MAP_OUTSIDE_IMAGE = 3; // a table lies outside the image
export const MAP_POOL_EMPTY = 4; // the table pool ran out (caller's count was wrong)
export const MAP_SPLITS_LEAF = 5; // unmap/protect covers only part of a large leaf
export const MAP_BAD_ENTRY = 6; // a valid entry with reserved bits set is in the way
export const MAP_PA_UNREPRESENTABLE = 7; // a leaf cannot hold this output address (above the format's reach)

// ---- Contiguous hint -------------------------------------------------------------
// One record per group whose hint is set but whose rules are broken.
export const CR_BYTES = 32;
export const CR_TABLE = 0; // u64: physical address of the table holding the group
export const CR_VA = 8; // u64: canonical VA of the group's first entry
export const CR_INDEX = 16; // u32: index of the group's first entry
export const CR_LEVEL = 20; // u32: level index
export const CR_RULES = 24; // u32: CG_* bits of every broken rule
export const CR_HINTED = 28; // u32: entries of the group that carry the hint

// Rules of a contiguous group (16 entries with a 4 KiB granule).
export const CG_NOT_LEAF = 1; // an entry of the group is not a valid leaf of this level
export const CG_NOT_ALL = 2; // some entries carry the hint and others do not
export const CG_NOT_CONSECUTIVE = 4; // the outputs are not one run, entry after entry
export const CG_MISALIGNED = 8; // the run's output does not start on the group's size
export const CG_ATTRS_DIFFER = 16; // the entries' attributes (all bits but the address) differ

// ---- Run records (translateRuns): consecutive pages described as runs -------------
// A page extends the current run when its status word equals the run's and its pa
// (OK) is the previous page's + page size, or (fault) its entry address is
// RR_PA + ((va >> s) - (first va >> s)) * entry size, s = shift of the status's level
// (the same entry over a large span, the next entry after it); non-canonical: 0.
export const RR_BYTES = 24;
export const RR_VA = 0; // u64: va of the run's first page (the range's va plus whole pages)
export const RR_PA = 8; // u64: first page's pa (OK), else its entry address
export const RR_PAGES = 16; // u32: pages in the run
export const RR_STATUS = 20; // u32: status word of every page of the run

// ---- Domain records (region after the I/O buffers) -----------------------------
export const DOM_MAX = 1024;
export const DOM_STRIDE = 64;

// ---- Frame metadata (column-wise), see src/frames -------------------------------
// Five u32 columns, in this order after the domain records: type_info,
// count_info, owner, next, prev. 20 bytes per frame.
export const FRAME_COLUMNS = 5;
export const FRAME_NULL = -1; // list link meaning "none" (0xffffffff as u32)

// type_info (column colType, one u32 per frame):
//   bits 29..31 type (PGT_NONE..PGT_WRITABLE), 28 validated, 27 pinned, 26 partial,
//   25 locked, 21..24 undo, 0..20 type reference count. The undo field is a copy of
//   bits 28..31 (validated and type) as they were when the type count was last 0;
//   while the count is 0 it equals them. A validation that fails puts that state
//   back, so a refused operation changes nothing.
export const PGT_TYPE_SHIFT = 29;
export const PGT_NONE = 0;
export const PGT_L1 = 1;
export const PGT_L2 = 2;
export const PGT_L3 = 3;
export const PGT_L4 = 4;
export const PGT_SEG_DESC = 5;
export const PGT_WRITABLE = 6;
export const PGT_VALIDATED = 0x10000000;
export const PGT_PINNED = 0x08000000;
export const PGT_PARTIAL = 0x04000000;
export const PGT_LOCKED = 0x02000000;
export const PGT_UNDO_SHIFT = 21; // undo = ((type_info >>> 28) & 0xf) << PGT_UNDO_SHIFT
export const PGT_UNDO_MASK = 0x01e00000;
export const PGT_COUNT_MASK = 0x001fffff;
// count_info (column colCount): bit 30 allocated, bits 0..29 general reference count.
export const PGC_ALLOCATED = 0x40000000;
export const PGC_COUNT_MASK = 0x3fffffff;
// owner (column colOwner): domain id + OWNER_BIAS, or OWNER_NONE (0) for a free frame,
// so that a fresh (all-zero) memory is an empty frame table: every frame free, type
// none, no references. Links of a frame that is on no list are meaningless.
export const OWNER_NONE = 0;
export const OWNER_BIAS = 1;

// Domain record at layout.domains + id * DOM_STRIDE (u32 fields).
export const DOM_FLAGS = 0; // DF_* below
export const DOM_HEAD = 4; // page list: first frame (FRAME_NULL when empty)
export const DOM_TAIL = 8; // page list: last frame
export const DOM_COUNT = 12; // frames on the page list
export const DOM_TOT_PAGES = 16; // frames allocated to the domain
export const DOM_NR_L4 = 20; // nr_l4_pages: validated L4 tables
export const DOM_L4_HEAD = 24; // L4 index (links in layout.l4Next/l4Prev): first L4
export const DOM_L4_TAIL = 28;
export const DOM_L4_COUNT = 32; // frames in the L4 index
export const DOM_FIX_MODE = 36; // FIXM_*: a variant fix-up in progress (continuation state)
export const DOM_FIX_LEFT = 40; // counted: rotations left
export const DOM_FIX_CURSOR = 44; // flat: next frame to scan; indexed: next L4 to visit
export const DF_IN_USE = 1;
export const DF_M2P_STRICT = 2; // VM assist m2p-strict: new L4s get the RO_MPT slot filled
export const DF_PV64 = 4; // 64-bit PV guest
export const FIXM_NONE = 0;
export const FIXM_COUNTED = 2;
export const FIXM_FLAT = 3;
export const FIXM_INDEXED = 4;

// x86-64 PV L4 slots: 256..271 belong to the hypervisor; 256 is RO_MPT, filled with
// the idle table's entry (a read-only, user-visible table above every frame).
export const L4_XEN_FIRST = 256;
export const L4_XEN_LAST = 271;
export const RO_MPT_SLOT = 256;
export const RO_MPT_LO = 0x1025; // P | US | A, address 0xfffff00001000
export const RO_MPT_HI = 0xfffff;
// Entry bits a guest table may not set: all levels bits 52..62 (high half mask);
// L2..L4 also D and G (low half); PS is a superpage in L2/L3 and disallowed in L4.
export const DIS_HI = 0x7ff00000;
export const DIS_TABLE_LO = 0x140;
export const PTE_PS = 0x80;
export const PTE_RW = 2;

// Frame kernel results (FR block, u32 fields).
export const FR_VISITED = 0; // frames visited (fix-ups, scans)
export const FR_FILLED = 4; // RO_MPT slots filled; census: L4s with the slot set
export const FR_ALREADY = 8; // L4s whose slot was already set
export const FR_LOCK_FAILED = 12; // frames page_lock refused
export const FR_L4_LOCK_FAILED = 16; // ... of which L4 tables
export const FR_CHECKS = 20; // preemption checks made
export const FR_COUNT = 24; // chase/iterate: frames walked
export const FR_NEXT = 28; // iterate: frame to continue from (FRAME_NULL at the end)
export const FR_ERR_FRAME = 32; // type system: the frame that refused
export const FR_ERR_WANT = 36; // the type asked of it
export const FR_ERR_FOUND = 40; // its type_info (or count_info) when it refused
export const FR_ERR_TABLE = 44; // the table whose entry led there (FRAME_NULL: none)
export const FR_ERR_ENTRY = 48; // i32: that entry's index (-1: none)
export const FR_ERR_LEVEL = 52; // that table's type
export const FR_ANOMALY = 56; // demotions that met a target without a reference
export const FR_ERR_ELO = 60; // the entry's low half
export const FR_ERR_EHI = 64; // the entry's high half

// Type-system and frame-operation codes (0 = done).
export const TE_OK = 0;
export const TE_BAD_TYPE = 1; // not a type this operation accepts
export const TE_FRAME_RANGE = 2; // frame number beyond the frame table
export const TE_NOT_ALLOCATED = 3; // the frame is free
export const TE_FOREIGN = 4; // an entry targets a frame of another domain
export const TE_OUTSIDE_IMAGE = 5; // a table's contents are not in the RAM image
export const TE_TYPE_MISMATCH = 6; // type count > 0 with a different type
export const TE_WRITABLE_PT = 7; // writable mapping of a frame holding a page-table type
export const TE_DISALLOWED = 8; // entry sets flags a guest table may not use
export const TE_SUPERPAGE = 9; // PS in an L2/L3 entry of a PV guest
export const TE_COUNT_OVERFLOW = 10;
export const TE_NOT_VALIDATED = 11; // type count > 0 but not validated
export const TE_PARTIAL = 12; // a preempted validation is pending
export const TE_NO_TYPE_REF = 13; // put without a type reference
export const TE_PINNED = 14; // already pinned
export const TE_NOT_PINNED = 15;
export const TE_LOCKED = 16; // page_lock held
export const TE_NOT_LOCKED = 17;
export const TE_IN_USE = 18; // free: references beyond the allocation remain
export const TE_NOT_FREE = 19; // allocate: the frame is owned
export const TE_NO_DOMAIN = 20;
export const TE_DOMAIN_EXISTS = 21;
export const TE_NOT_ON_LIST = 22;
export const TE_NO_PAGE_REF = 23; // put_page without a general reference

// Fix-up kernels: codes, and the frames between preemption checks.
export const FX_DONE = 0;
export const FX_RESTART = 1;
export const FX_EMPTY = 2; // the page list is empty
export const FX_CHECK_EVERY = 256;
// fillRoMpt codes
export const FILL_ALREADY = 0;
export const FILL_DONE = 1;
export const FILL_OUTSIDE = 2;
// Allocation orders
export const ORDER_ASCENDING = 0;
export const ORDER_RANDOM = 1;

// ---- Frame map of an engine over a source (see src/memory/frame-cache.ts) ----------
// Open addressing, linear probing; written only by the TS frame cache, read by the
// kernels of both backends. Entry: u64 key (frame number + 1; 0 = empty), u32 slot
// address in the engine's memory (0 = the source has no such frame), u32 flags.
export const FM_ENTRY_BYTES = 16;
export const FM_KEY_LO = 0;
export const FM_KEY_HI = 4;
export const FM_ADDR = 8;
export const FM_FLAGS = 12;
export const FM_PRIVATE = 1; // written in the engine: pinned, never evicted
// Fibonacci hashing: home = ((lo ^ hi * MIX) * MULT) >>> (32 - bits), 32-bit products.
export const FM_HASH_MULT = -1640531535; // 0x9e3779b1 as i32
export const FM_HASH_MIX = -2048144789; // 0x85ebca6b as i32
// Home tags: frame pfn's home slot is pfn & (2^HOME_BITS - 1), and its tag (a u32,
// written only by the TS frame cache) is (pfn >> HOME_BITS) + 1 while the frame sits
// in that slot, else 0; a frame whose tag would not fit in 32 bits never goes home.
// A reader that finds its tag knows the slot without the map; every cached frame is
// in the map all the same. Four bytes, not eight: half the tag lines and pages that
// a walk's random table reads touch beside the tables themselves.
export const FT_BYTES = 4;

// ---- Search kernels (assembly/search, src/backends/reference/search.ts) ------------
// A scan runs over spans: stretches of physical memory in the order of a logical
// address (a virtual address, or the physical one). A match may continue into the
// next span when its logical start follows on. Span record: u64 logical start,
// u64 physical start, u64 length (below 2^32).
export const SP_BYTES = 24;
export const SP_LOGICAL = 0;
export const SP_PA = 8;
export const SP_LENGTH = 16;
// Hit record: u32 span index, u32 offset in the span.
export const HIT_BYTES = 8;
export const HIT_SPAN = 0;
export const HIT_OFFSET = 4;
// Longest pattern (bytes) and most table entries a root scan compares.
export const SEARCH_MAX_PATTERN = 4096;

// ---- Undo journal of map and protect (see assembly/paging/map.ts) ------------------
// The real run of map and protect notes in the caller's journal (in the I/O buffer,
// after map's table pool) what each write replaced; a refused run is undone by
// replaying the records last to first (src/paging/undo.ts).
export const RES_JOURNAL_BYTES = 96; // u64 map/protect real run: bytes of journal written
export const MAP_JOURNAL_FULL = 8; // the journal ran out of room (the run is undone, then refused)
// A record: 24 bytes. A JK_SAVED record's COUNT bytes of saved contents come just
// before it, padded to 8 bytes, so the journal can be read backwards.
export const JR_BYTES = 24;
export const JR_ADDR = 0; // u64 physical address of the first byte or entry
export const JR_VALUE = 8; // u64
export const JR_KIND = 16; // u32 JK_* below
export const JR_COUNT = 20; // u32
export const JK_ENTRIES = 1; // COUNT consecutive entries at ADDR all held VALUE
export const JK_RIGHTS = 2; // COUNT consecutive leaves at ADDR had VALUE in the protect mask's bits
export const JK_ZERO = 3; // COUNT bytes at ADDR (new tables) were all zero
export const JK_SAVED = 4; // COUNT bytes at ADDR (a new table) held the saved bytes before this record

// ---- relocate's `dry` argument ------------------------------------------------------
export const RELOC_APPLY = 0; // write as it goes (the caller has checked already)
export const RELOC_DRY = 1; // check and count, write nothing
export const RELOC_CHECKED = 2; // check everything, then apply if all is well: one call

// ---- translateRuns' budget of table entries (its `maxEntries` argument) --------------
export const RES_ENTRIES_READ = 104; // u64 translateRuns: table entries read by this call (at most maxEntries)
