// The numeric contract between the TypeScript layer and the kernels: control-block
// offsets and record layouts. This file is imported by BOTH compilers (tsc and
// AssemblyScript), so it may only contain `export const NAME = <small integer>`:
// nothing here can drift between the two sides.

// ---- Fixed low regions of the engine's memory ------------------------------------
// [0, CTRL_BASE): static data of the wasm modules (each module has its own slot).
export const MODULE_DATA_SLOT = 0x1000;
export const CTRL_BASE = 0x10000;
export const CTRL_BYTES = 0x10000;
// I/O buffers for batch calls follow the control block.
export const IO_BASE = 0x20000;

// ---- Walk parameters: the format description and walk options -------------------
// Written by the TS layer before a paging call; read by both backends.
export const WP = 0x10000; // = CTRL_BASE
export const WP_LEVELS = 0; // u32: number of levels (2..5)
export const WP_ENTRY_BYTES = 4; // u32: 4 or 8
export const WP_FLAGS = 8; // u32: WF_* below
export const WP_VA_BITS = 12; // u32: significant VA bits (48, 57, 32, ...)
export const WP_ROOT_MASK = 16; // u64: root register bits that hold the root table address
export const WP_MAX_LEAF = 24; // u32: map: smallest level index allowed to hold a leaf (largest leaf)
export const WP_GEN = 28; // u32: bumped on every rewrite, so a backend may cache what it parsed
export const WP_LEVEL_BASE = 64; // per-level records start here
export const WP_LEVEL_STRIDE = 256;

// Walk flags (WP_FLAGS)
export const WF_SIGN_EXTEND = 1; // VA must be sign-extended from bit VA_BITS-1 (x86, Arm); else zero-extended
export const WF_CHECK_RSVD = 2; // reserved-bit checks enabled (off = QEMU monitor semantics)
export const WF_WP = 4; // supervisor writes honour write protection (CR0.WP)
export const WF_SMEP = 8;
export const WF_SMAP = 16;
export const WF_NXE = 32; // only decides whether fetch faults report the I/D error-code bit

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
// Rights contributed by a table entry (restrictions on everything below) ...
export const LV_T_W_ALLOW = 80; // u64: all these bits set, else no write
export const LV_T_W_DENY = 88; // u64: any of these set, no write
export const LV_T_U_ALLOW = 96;
export const LV_T_U_DENY = 104;
export const LV_T_PXN = 112; // u64: any set: no privileged execute
export const LV_T_UXN = 120; // u64: any set: no user execute
// ... and by a leaf entry.
export const LV_L_W_ALLOW = 128;
export const LV_L_W_DENY = 136;
export const LV_L_U_ALLOW = 144;
export const LV_L_U_DENY = 152;
export const LV_L_PXN = 160;
export const LV_L_UXN = 168;
// Templates for map: bits of a new table pointer, and leaf-kind bits of a leaf here.
export const LV_TABLE_TEMPLATE = 176; // u64
export const LV_LEAF_TEMPLATE = 184; // u64

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

// ---- Single-translation result block -------------------------------------------
export const RES = 0x10800; // = CTRL_BASE + 0x800
export const RES_PA = 0; // u64: output address (or, for a fault, 0)
export const RES_ENTRY_ADDR = 8; // u64: physical address of the entry read last
export const RES_ENTRY_VALUE = 16; // u64
export const RES_STATUS = 24; // u32
export const RES_COUNT = 32; // u64: map/unmap/protect: tables needed, leaves written, ...
export const RES_VA = 40; // u64: map/unmap/protect: where a conflict was found

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

// ---- Mapping enumerator state ---------------------------------------------------
export const EN = 0x11000; // = CTRL_BASE + 0x1000
export const EN_DEPTH = 0; // i32: current level index, -1 when finished
export const EN_LEVEL_BASE = 64;
export const EN_LEVEL_STRIDE = 32;
export const EN_TABLE = 0; // u64: table address at this level
export const EN_VA = 8; // u64: VA of the table's first entry
export const EN_INDEX = 16; // u32: next index to visit
export const EN_DENY = 20; // u32: deny bits accumulated above this table

// ---- map/unmap/protect codes ----------------------------------------------------
export const MAP_OK = 0;
export const MAP_ALREADY_MAPPED = 1; // a valid leaf or table is where a leaf must go
export const MAP_INSIDE_LEAF = 2; // the range needs to descend where a large leaf is
export const MAP_OUTSIDE_IMAGE = 3; // a table lies outside the image
export const MAP_POOL_EMPTY = 4; // the table pool ran out (caller's count was wrong)
export const MAP_SPLITS_LEAF = 5; // unmap/protect covers only part of a large leaf
export const MAP_BAD_ENTRY = 6; // a valid entry with reserved bits set is in the way

// ---- Domain records (region after the I/O buffers) -----------------------------
export const DOM_MAX = 1024;
export const DOM_STRIDE = 64;

// ---- Frame metadata (column-wise), see src/frames -------------------------------
// Five u32 columns, in this order after the domain records: type_info,
// count_info, owner, next, prev. 20 bytes per frame.
export const FRAME_COLUMNS = 5;
export const FRAME_NULL = -1; // list link meaning "none" (0xffffffff as u32)
