/*
 * memwalk's native baseline: the same kernels as assembly/paging over the same
 * RAM image, in plain C (cc -O2), so WASM and TS can be put next to what the
 * machine does without a VM.
 *
 * The walker is a plain x86-64 4-level walker (constants compiled in, no
 * table-driven level descriptions) that implements memwalk's semantics for the
 * default walk options (read access, supervisor, MAXPHYADDR 52, NXE=1, WP=1,
 * reserved-bit checks on) and writes memwalk's 16-byte batch records, so its
 * checksum must equal the engine's. The cached batch and the range kernel use
 * the same strategy as the engine's: restart below the deepest table shared
 * with the previous address; a range reads the rest of the leaf table in order.
 *
 * Usage: memwalk-native IMAGE ROOT REPEATS TASK...
 *   IMAGE   raw RAM image (physical address 0 at file offset 0)
 *   ROOT    physical address of the PML4 (hex)
 *   TASK    name=batch:FILE:MODE     u64 VAs in FILE; MODE 0 naive, 1 cached, 2 interleaved
 *           name=range:VA:PAGES      consecutive 4 KiB pages from VA (hex)
 *           name=runs:VA:PAGES       the same pages as run records (24 bytes, see translate_runs)
 *           name=list:MAX            enumerate every leaf, MAX records a call
 *           name=chase:NEXTFILE:FROM:MAX  follow a page list's next links (u32 column)
 *           name=census:TYPEFILE:OWNERFILE:KEY:DOM:FROM:TO  count frames by type/owner
 *           name=fixup:STRATEGY:TYPE:NEXT:PREV:OWNER:L4NEXT:L4LIST:SLOTS:DOM:HEAD:TAIL:COUNT:L4HEAD:RAMFRAMES
 *                                      the m2p-strict fix-up (faithful, counted, flat, indexed)
 *                                      over the frame columns and slot 256 of the RAM
 *                                      frames (SLOTS: u64 per frame; the task builds its
 *                                      own image from it: the page of every L4 frame)
 *           name=map:VA:PA:BYTES:POOL  map BYTES (hex) of 4 KiB leaves into fresh
 *                                      tables from frame POOL up (a private root
 *                                      at POOL), then unmap them, as the engine
 *                                      does (dry runs, undo journal); the checksum
 *                                      covers the tables as map left them
 *           name=relocate:FILE:BASE:DELTA:ROOT:XENMAP:RAMBYTES[:OFF:LEN[:N:STEP]]  move_xen's fix-up
 *                                      (assembly/paging/relocate.ts): FILE is the image
 *                                      at BASE (hex); before each run it is copied to
 *                                      BASE+DELTA (untimed), then a checking dry run and
 *                                      the real run fix the copy's tables (ROOT, XENMAP:
 *                                      addresses before the move) in a private RAM image
 *                                      of RAMBYTES; with OFF:LEN only the image's bytes
 *                                      [OFF, OFF+LEN) are copied again before each run; with
 *                                      N:STEP a run relocates N copies, the k-th moved by
 *                                      DELTA - k*STEP (its put-back part there); the hash
 *                                      then covers each copy's [OFF, OFF+LEN) in turn
 * Prints one JSON object per task: {"name","ms":[...],"checksum","count"}; for
 * chase and census the checksum is the result and the count (8 hex digits each);
 * for fixup it is the slot-256 hash of the guest's L4s (LIST order), frames
 * visited, L4s of the domain with the slot set, and the list's head and tail;
 * for relocate it is "ENTRIES:HASH", entries relocated and the hash of the
 * moved image after the fix-up (the workload's verify()).
 */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Status word and record layout: see src/abi.ts. */
enum { K_OK = 0, K_NOT_PRESENT = 1, K_PROTECTION = 2, K_RESERVED = 3, K_NON_CANONICAL = 4, K_OUTSIDE_IMAGE = 5 };
enum { ST_LEVEL_SHIFT = 4, ST_ERR_SHIFT = 8, ST_RIGHTS_SHIFT = 16, ST_PAGE_SHIFT = 24 };
enum { R_WRITE = 1, R_USER = 2, R_EXEC = 4, R_UEXEC = 8 };
enum { PF_P = 1, PF_RSVD = 8 };

#define P 1ull
#define RW 2ull
#define US 4ull
#define PS 0x80ull
#define XD (1ull << 63)
#define ADDR_MASK 0x000ffffffffff000ull /* bits 12..51 */

static uint8_t *ram;
static uint64_t ram_bytes;

/* Results of the last walk, as the engine's kernels keep them. */
static uint64_t w_pa, w_ea, w_entry;
static int w_end;
static uint64_t c_table[4];
static uint32_t c_deny[4];

static const int SHIFT[4] = {39, 30, 21, 12};

static inline uint64_t rd(uint64_t ea) { uint64_t v; memcpy(&v, ram + ea, 8); return v; }
static inline void wr(uint64_t ea, uint64_t v) { memcpy(ram + ea, &v, 8); }

static inline uint32_t deny_of(uint64_t e) {
  uint32_t d = 0;
  if (!(e & RW)) d |= R_WRITE;
  if (!(e & US)) d |= R_USER;
  if (e & XD) d |= R_EXEC | R_UEXEC;
  return d;
}

static inline uint32_t fault(uint32_t kind, int i, uint32_t ec) {
  w_end = i;
  return kind | ((uint32_t)i << ST_LEVEL_SHIFT) | (ec << ST_ERR_SHIFT);
}

/* Reserved bits of a leaf at level index i (1 GiB: 13..29, 2 MiB: 13..20, 4 KiB: none). */
static inline uint64_t rsvd_leaf(int i) {
  return i == 3 ? 0 : (((1ull << (SHIFT[i] - 13)) - 1) << 13);
}

static inline uint32_t leaf_status(uint64_t e, int i, uint64_t va, uint32_t deny) {
  if (e & rsvd_leaf(i)) return fault(K_RESERVED, i, PF_P | PF_RSVD);
  deny |= deny_of(e);
  uint64_t size = 1ull << SHIFT[i];
  w_pa = (e & ADDR_MASK & ~(size - 1)) | (va & (size - 1));
  uint32_t rights = ~deny & 0xf;
  /* A supervisor read is never refused with SMAP off. */
  w_end = i;
  return ((uint32_t)i << ST_LEVEL_SHIFT) | (rights << ST_RIGHTS_SHIFT) | ((uint32_t)SHIFT[i] << ST_PAGE_SHIFT);
}

static uint32_t walk_from(uint64_t va, int start, uint64_t table, uint32_t deny) {
  for (int i = start; i < 4; i++) {
    c_table[i] = table;
    c_deny[i] = deny;
    uint64_t ea = table + (((va >> SHIFT[i]) & 511) << 3);
    w_ea = ea;
    if (ea >= ram_bytes || ram_bytes - ea < 8) { w_entry = 0; return fault(K_OUTSIDE_IMAGE, i, 0); }
    uint64_t e = rd(ea);
    w_entry = e;
    if (!(e & P)) return fault(K_NOT_PRESENT, i, 0);
    if (i == 3 || (i > 0 && (e & PS))) return leaf_status(e, i, va, deny);
    if (i == 0 && (e & PS)) return fault(K_RESERVED, i, PF_P | PF_RSVD);
    deny |= deny_of(e);
    table = e & ADDR_MASK;
  }
  return fault(K_NOT_PRESENT, 3, 0);
}

static inline int canonical(uint64_t va) {
  int64_t top = (int64_t)va >> 47;
  return top == 0 || top == -1;
}

static inline uint32_t walk(uint64_t root, uint64_t va) {
  w_pa = 0;
  if (!canonical(va)) { w_ea = 0; w_entry = 0; return fault(K_NON_CANONICAL, 0, 0); }
  return walk_from(va, 0, root, 0);
}

static inline void emit(uint8_t *out, uint32_t st) {
  uint64_t a = (st & 0xf) == K_OK ? w_pa : w_ea;
  uint32_t lo = (uint32_t)w_entry;
  memcpy(out, &a, 8);
  memcpy(out + 8, &st, 4);
  memcpy(out + 12, &lo, 4);
}

static inline int restart_level(uint64_t va, uint64_t prev, int prev_end) {
  uint64_t diff = va ^ prev;
  for (int i = prev_end; i > 0; i--)
    if ((diff >> SHIFT[i - 1]) == 0) return i;
  return 0;
}

/*
 * Interleaved batch (mode 2): groups of 16 addresses advance one level at a time,
 * so the group's table reads are independent and overlap in the memory system.
 * A member leaves the group at the first entry that is not a plain present table
 * pointer and is finished by walk_from at that level: the same records as mode 0.
 */
#define GROUP 16
static void translate_interleaved(uint64_t root, const uint64_t *in, uint8_t *out, uint32_t n) {
  for (uint32_t k = 0; k < n; k += GROUP) {
    uint32_t m = n - k < GROUP ? n - k : GROUP;
    uint64_t table[GROUP], va[GROUP];
    uint32_t deny[GROUP], active = 0;
    for (uint32_t g = 0; g < m; g++) {
      va[g] = in[k + g];
      if (!canonical(va[g])) { emit(out + (size_t)(k + g) * 16, walk(root, va[g])); continue; }
      table[g] = root;
      deny[g] = 0;
      active |= 1u << g;
    }
    for (int i = 0; i < 4 && active; i++) {
      uint32_t rest = active;
      while (rest) {
        uint32_t g = (uint32_t)__builtin_ctz(rest);
        rest &= rest - 1;
        uint64_t ea = table[g] + (((va[g] >> SHIFT[i]) & 511) << 3);
        if (ea < ram_bytes && ram_bytes - ea >= 8) {
          uint64_t e = rd(ea);
          /* A present table pointer: not a leaf here (PS clear above the last level), no reserved PS in the root. */
          if ((e & P) && i < 3 && !(e & PS)) {
            deny[g] |= deny_of(e);
            table[g] = e & ADDR_MASK;
            continue;
          }
        }
        w_pa = 0;
        emit(out + (size_t)(k + g) * 16, walk_from(va[g], i, table[g], deny[g]));
        active &= ~(1u << g);
      }
    }
  }
}

static void translate_batch(uint64_t root, const uint64_t *in, uint8_t *out, uint32_t n, int cached) {
  if (cached == 2) { translate_interleaved(root, in, out, n); return; }
  uint64_t prev = 0;
  int prev_end = -1;
  for (uint32_t k = 0; k < n; k++) {
    uint64_t va = in[k];
    uint32_t st;
    if (!canonical(va)) {
      st = walk(root, va);
      prev_end = -1;
    } else {
      if (cached) {
        int s = prev_end < 0 ? 0 : restart_level(va, prev, prev_end);
        st = s == 0 ? walk_from(va, 0, root, 0) : walk_from(va, s, c_table[s], c_deny[s]);
      } else {
        st = walk_from(va, 0, root, 0);
      }
      prev = va;
      prev_end = w_end;
    }
    emit(out + (size_t)k * 16, st);
  }
}

static void translate_range(uint64_t root, uint64_t va, uint32_t pages, uint8_t *out) {
  uint64_t prev = 0;
  int prev_end = -1;
  uint32_t k = 0;
  while (k < pages) {
    uint64_t cur = va + ((uint64_t)k << 12);
    if (!canonical(cur)) {
      emit(out + (size_t)k * 16, walk(root, cur));
      k++;
      prev_end = -1;
      continue;
    }
    int s = prev_end < 0 ? 0 : restart_level(cur, prev, prev_end);
    uint32_t st = s == 0 ? walk_from(cur, 0, root, 0) : walk_from(cur, s, c_table[s], c_deny[s]);
    emit(out + (size_t)k * 16, st);
    k++;
    int end = w_end;
    if (end < 3) {
      /* Same answer for the rest of this entry's span; only the offset moves. */
      int ss = SHIFT[end];
      uint64_t span_left = ((((cur >> ss) + 1) << ss) - cur) >> 12;
      int ok = (st & 0xf) == K_OK;
      uint64_t pa = w_pa;
      for (uint64_t m = 1; m < span_left && k < pages; m++, k++) {
        uint8_t *o = out + (size_t)k * 16;
        pa += 4096;
        uint64_t a = ok ? pa : w_ea;
        uint32_t lo = (uint32_t)w_entry;
        memcpy(o, &a, 8);
        memcpy(o + 8, &st, 4);
        memcpy(o + 12, &lo, 4);
      }
      prev = va + ((uint64_t)(k - 1) << 12);
      prev_end = end;
      continue;
    }
    uint64_t table = c_table[3];
    uint32_t deny = c_deny[3];
    uint32_t idx = (uint32_t)(cur >> 12) & 511;
    /* The engine's memo: in one leaf table a valid PTE's status depends only on its bits
     * outside the address (12..51), so an entry with the previous OK entry's key has its status. */
    const uint64_t PTE_ADDR = 0x000ffffffffff000ull;
    const uint64_t poff = va & 0xfff;
    int memo = 0;
    uint64_t memo_key = 0;
    uint32_t memo_st = 0;
    while (k < pages && idx < 511) {
      /* The engine's stretch loop: with the whole table in the image, while entries keep the
       * memo's key, four pages a step (one test of four keys, four records), then one at a time. */
      if (memo && table <= ram_bytes && ram_bytes - table >= 4096) {
        const uint64_t *t = (const uint64_t *)(ram + table) + idx + 1;
        uint32_t lim = pages - k < 511 - idx ? pages - k : 511 - idx, j = 0;
        uint8_t *o = out + (size_t)k * 16;
        for (; j + 4 <= lim; j += 4, o += 64) {
          uint64_t e0 = t[j], e1 = t[j + 1], e2 = t[j + 2], e3 = t[j + 3];
          if (((e0 & ~PTE_ADDR) ^ memo_key) | ((e1 & ~PTE_ADDR) ^ memo_key) | ((e2 & ~PTE_ADDR) ^ memo_key) | ((e3 & ~PTE_ADDR) ^ memo_key)) break;
          uint64_t e[4] = {e0, e1, e2, e3};
          for (int q = 0; q < 4; q++) {
            uint64_t a = (e[q] & PTE_ADDR) | poff;
            uint32_t lo = (uint32_t)e[q];
            memcpy(o + 16 * q, &a, 8);
            memcpy(o + 16 * q + 8, &memo_st, 4);
            memcpy(o + 16 * q + 12, &lo, 4);
          }
        }
        for (; j < lim; j++, o += 16) {
          uint64_t e = t[j];
          if ((e & ~PTE_ADDR) != memo_key) break;
          uint64_t a = (e & PTE_ADDR) | poff;
          uint32_t lo = (uint32_t)e;
          memcpy(o, &a, 8);
          memcpy(o + 8, &memo_st, 4);
          memcpy(o + 12, &lo, 4);
        }
        idx += j;
        k += j;
        cur += (uint64_t)j << 12;
        if (k >= pages || idx >= 511) break;
      }
      idx++;
      cur += 4096;
      uint64_t ea = table + ((uint64_t)idx << 3);
      uint32_t s2;
      if (ea >= ram_bytes || ram_bytes - ea < 8) {
        s2 = walk_from(cur, 3, table, deny);
        memo = 0;
      } else {
        uint64_t e = rd(ea);
        if (memo && (e & ~PTE_ADDR) == memo_key) {
          uint8_t *o = out + (size_t)k * 16;
          uint64_t a = (e & PTE_ADDR) | poff;
          uint32_t lo = (uint32_t)e;
          memcpy(o, &a, 8);
          memcpy(o + 8, &memo_st, 4);
          memcpy(o + 12, &lo, 4);
          k++;
          continue;
        }
        if (!(e & P)) { s2 = walk_from(cur, 3, table, deny); memo = 0; }
        else {
          w_ea = ea; w_entry = e; s2 = leaf_status(e, 3, cur, deny);
          memo = (s2 & 0xf) == K_OK;
          memo_key = e & ~PTE_ADDR;
          memo_st = s2;
        }
      }
      emit(out + (size_t)k * 16, s2);
      k++;
    }
    prev = cur;
    prev_end = 3;
  }
}

/* Run records (src/abi.ts RR_*): u64 first va, u64 first pa / entry address, u32 pages, u32 status.
   A page extends the run when its status is equal and its pa is the next page's (OK), or its entry
   address is first + ((va >> s) - (first va >> s)) * 8, s = shift of the status's level (fault). */
static uint8_t *r_out;
static uint32_t r_n, r_k, r_cur, r_st, r_open;
static uint64_t r_v, r_in, r_base;
static int r_sh;
static void run_close(void) {
  uint8_t *o = r_out + (size_t)r_n * 24;
  uint64_t va = r_base + ((uint64_t)r_k << 12);
  uint32_t n = r_cur - r_k;
  memcpy(o, &va, 8);
  memcpy(o + 8, &r_v, 8);
  memcpy(o + 16, &n, 4);
  memcpy(o + 20, &r_st, 4);
  r_n++;
}
static inline uint64_t run_expect(uint32_t k) {
  if ((r_st & 0xf) == K_OK) return r_v + ((uint64_t)(k - r_k) << 12);
  if (r_sh >= 64) return r_v;
  return r_v + ((r_in + ((uint64_t)(k - r_k) << 12)) >> r_sh) * 8;
}
static void run_add(uint32_t k, uint32_t count, uint64_t v, uint32_t st) {
  if (r_open && k == r_cur && st == r_st && v == run_expect(k)) { r_cur = k + count; return; }
  if (r_open) run_close();
  r_open = 1; r_k = k; r_cur = k + count; r_v = v; r_st = st;
  if ((st & 0xf) == K_OK) return;
  if ((st & 0xf) == K_NON_CANONICAL) { r_sh = 64; return; }
  r_sh = SHIFT[(st >> ST_LEVEL_SHIFT) & 0xf];
  r_in = (r_base + ((uint64_t)k << 12)) & ((1ull << r_sh) - 1);
}
#define RUN_PAGE(k, st) run_add((k), 1, ((st) & 0xf) == K_OK ? w_pa : w_ea, (st))
static uint32_t translate_runs(uint64_t root, uint64_t va, uint32_t pages, uint8_t *out) {
  r_out = out; r_n = 0; r_open = 0; r_base = va;
  uint64_t prev = 0;
  int prev_end = -1;
  uint32_t k = 0;
  while (k < pages) {
    uint64_t cur = va + ((uint64_t)k << 12);
    if (!canonical(cur)) {
      { uint32_t s0 = walk(root, cur); RUN_PAGE(k, s0); }
      k++;
      prev_end = -1;
      continue;
    }
    int s = prev_end < 0 ? 0 : restart_level(cur, prev, prev_end);
    uint32_t st = s == 0 ? walk_from(cur, 0, root, 0) : walk_from(cur, s, c_table[s], c_deny[s]);
    RUN_PAGE(k, st);
    k++;
    int end = w_end;
    if (end < 3) {
      /* Same answer for the rest of this entry's span; only the offset moves. */
      int ss = SHIFT[end];
      uint64_t span_left = ((((cur >> ss) + 1) << ss) - cur) >> 12;
      int ok = (st & 0xf) == K_OK;
      uint64_t pa = w_pa;
      uint64_t left = pages - k, cnt = span_left - 1 < left ? span_left - 1 : left;
      if (cnt) { run_add(k, (uint32_t)cnt, ok ? pa + 4096 : w_ea, st); k += (uint32_t)cnt; }
      prev = va + ((uint64_t)(k - 1) << 12);
      prev_end = end;
      continue;
    }
    uint64_t table = c_table[3];
    uint32_t deny = c_deny[3];
    uint32_t idx = (uint32_t)(cur >> 12) & 511;
    while (k < pages && idx < 511) {
      idx++;
      cur += 4096;
      uint64_t ea = table + ((uint64_t)idx << 3);
      uint32_t s2;
      if (ea >= ram_bytes || ram_bytes - ea < 8) {
        s2 = walk_from(cur, 3, table, deny);
      } else {
        uint64_t e = rd(ea);
        if (!(e & P)) s2 = walk_from(cur, 3, table, deny);
        else { w_ea = ea; w_entry = e; s2 = leaf_status(e, 3, cur, deny); }
      }
      if ((s2 & 0xf) == K_OK && r_open && k == r_cur && s2 == r_st && w_pa == r_v + ((uint64_t)(k - r_k) << 12)) r_cur = k + 1;
      else RUN_PAGE(k, s2);
      k++;
    }
    prev = cur;
    prev_end = 3;
  
  }
  if (r_open) run_close();
  return r_n;
}

/* ---- mapping listing: depth-first over every slot, 32-byte records --------------- */
/* The engine's generated enumerator (build/gen/enum-specs.ts) in C: the same
   depth-first state, and the slots of one table scanned in an inner loop that steps
   a pointer and the VA, records written at a pointer up to the batch's end. */

struct en_slot { uint64_t table, va; uint32_t index, deny; };
static struct en_slot en[4];
static int en_depth;

static void enum_start(uint64_t root) {
  en_depth = 0;
  en[0].table = root & ADDR_MASK;
  en[0].va = 0;
  en[0].index = 0;
  en[0].deny = 0;
}

static uint32_t enum_next(uint8_t *out, uint32_t max) {
  int d = en_depth;
  uint8_t *r = out, *end = out + (size_t)max * 32;
  while (d >= 0 && r < end) {
    struct en_slot *s = &en[d];
    int next = d - 1; /* the parent unless full or descending */
    uint32_t idx = s->index, deny = s->deny;
    uint64_t va = s->va | ((uint64_t)idx << SHIFT[d]), step = 1ull << SHIFT[d];
    uint64_t ea = s->table + ((uint64_t)idx << 3);
    /* The rest of the table when it lies in the image; else it reads as zeros. */
    if (idx <= 511 && ea < ram_bytes && ram_bytes - ea >= (uint64_t)(512 - idx) * 8) {
      const uint8_t *p = ram + ea, *pend = ram + s->table + 4096;
      const uint64_t rsvd = rsvd_leaf(d), pamask = ADDR_MASK & ~(step - 1);
      const uint32_t status = ((uint32_t)d << ST_LEVEL_SHIFT) | ((uint32_t)SHIFT[d] << ST_PAGE_SHIFT);
      while (p < pend) {
        if (r >= end) { next = d; break; }
        uint64_t e;
        memcpy(&e, p, 8);
        uint64_t v = va;
        p += 8;
        va += step;
        if (!(e & P)) continue;
        if (d == 3 || (d > 0 && (e & PS))) {
          if (e & rsvd) continue;
          uint32_t rights = ~(deny | deny_of(e)) & 0xf;
          uint64_t cva = (uint64_t)(((int64_t)(v << 16)) >> 16), pa = e & pamask;
          uint32_t st = status | (rights << ST_RIGHTS_SHIFT), pad = 0;
          memcpy(r, &cva, 8);
          memcpy(r + 8, &pa, 8);
          memcpy(r + 16, &e, 8);
          memcpy(r + 24, &st, 4);
          memcpy(r + 28, &pad, 4);
          r += 32;
          continue;
        }
        if (d == 0 && (e & PS)) continue;
        struct en_slot *c = &en[d + 1];
        c->table = e & ADDR_MASK;
        c->va = v;
        c->index = 0;
        c->deny = deny | deny_of(e);
        next = d + 1;
        break;
      }
      idx = (uint32_t)((p - ram - s->table) >> 3);
    } else if (idx <= 511) {
      /* Slot by slot: the first one outside the image ends the table. */
      while (idx <= 511) {
        if (r >= end) { next = d; break; }
        ea = s->table + ((uint64_t)idx << 3);
        idx++;
        if (ea >= ram_bytes || ram_bytes - ea < 8) break;
        uint64_t e = rd(ea), v = va;
        va += step;
        if (!(e & P)) continue;
        if (d == 3 || (d > 0 && (e & PS))) {
          if (e & rsvd_leaf(d)) continue;
          uint32_t rights = ~(deny | deny_of(e)) & 0xf;
          uint64_t cva = (uint64_t)(((int64_t)(v << 16)) >> 16), pa = e & ADDR_MASK & ~(step - 1);
          uint32_t st = ((uint32_t)d << ST_LEVEL_SHIFT) | (rights << ST_RIGHTS_SHIFT) | ((uint32_t)SHIFT[d] << ST_PAGE_SHIFT), pad = 0;
          memcpy(r, &cva, 8);
          memcpy(r + 8, &pa, 8);
          memcpy(r + 16, &e, 8);
          memcpy(r + 24, &st, 4);
          memcpy(r + 28, &pad, 4);
          r += 32;
          continue;
        }
        if (d == 0 && (e & PS)) continue;
        struct en_slot *c = &en[d + 1];
        c->table = e & ADDR_MASK;
        c->va = v;
        c->index = 0;
        c->deny = deny | deny_of(e);
        next = d + 1;
        break;
      }
    }
    s->index = idx;
    d = next;
  }
  en_depth = d;
  return (uint32_t)((r - out) / 32);
}

/* ---- map / unmap with 4 KiB leaves, tables from a bump pool ------------------------ */
/* The engine's design, with x86-64's constants compiled in: map is a read-only dry run
   (conflicts, tables needed), then the real run, which notes in an undo journal what
   it overwrites in tables it did not create (runs of equal old values share a note)
   and whether each new table was all zero (else its bytes are saved before zeroing);
   unmap is a dry run, then the real run (no journal). */

enum { J_ENTRIES = 1, J_ZERO = 3, J_SAVED = 4 };
struct jrec { uint64_t addr, value; uint32_t kind, count; };
static uint64_t pool_next;
static uint64_t map_leaves, map_tables;
static uint8_t *journal, *j_at, *j_end;
static struct jrec *j_run;

static int j_new(uint32_t kind, uint64_t addr, uint64_t value, uint32_t count) {
  if (j_at + sizeof(struct jrec) > j_end) return 0;
  j_run = (struct jrec *)j_at;
  j_run->addr = addr; j_run->value = value; j_run->kind = kind; j_run->count = count;
  j_at += sizeof(struct jrec);
  return 1;
}

static inline int note_entry(uint64_t ea, uint64_t old) {
  if (j_run && j_run->kind == J_ENTRIES && j_run->value == old && j_run->addr + (uint64_t)j_run->count * 8 == ea) { j_run->count++; return 1; }
  return j_new(J_ENTRIES, ea, old, 1);
}

static int fresh_table(uint64_t t) {
  const uint64_t *w = (const uint64_t *)(ram + t);
  uint64_t acc = 0;
  for (int k = 0; k < 512; k++) acc |= w[k];
  if (!acc) {
    if (j_run && j_run->kind == J_ZERO && j_run->addr + j_run->count == t) { j_run->count += 4096; return 1; }
    return j_new(J_ZERO, t, 0, 4096);
  }
  if (j_at + 4096 + sizeof(struct jrec) > j_end) return 0;
  memcpy(j_at, ram + t, 4096);
  j_at += 4096;
  j_new(J_SAVED, t, 0, 4096);
  memset(ram + t, 0, 4096);
  return 1;
}

#define ABSENT (~0ull)
/* Returns 0, or 1 (already mapped), 2 (inside a large leaf), 3 (outside the image / pool empty), 8 (journal full). */
static int map_level(uint64_t table, int fresh, int i, uint64_t va, uint64_t pa, uint64_t bytes, uint64_t bits, int dry) {
  uint64_t span = 1ull << SHIFT[i];
  uint64_t idx = (va >> SHIFT[i]) & 511;
  for (uint64_t off = 0; off < bytes; idx++) {
    uint64_t room = span - ((va + off) & (span - 1)), left = bytes - off;
    uint64_t chunk = room < left ? room : left;
    if (i == 3) {
      /* A run of leaves, to the end of the range or of the table. */
      uint64_t n = left >> 12;
      if (512 - idx < n) n = 512 - idx;
      if (table != ABSENT) {
        if (table + 4096 > ram_bytes) return 3;
        for (uint64_t k = 0; k < n; k++) {
          uint64_t ea = table + ((idx + k) << 3), e = rd(ea);
          if (e & P) return 1;
          if (!dry) {
            if (!fresh && !note_entry(ea, e)) return 8;
            wr(ea, bits | ((pa + off + (k << 12)) & ADDR_MASK));
            map_leaves++;
          }
        }
      }
      off += n << 12;
      idx += n - 1;
      continue;
    }
    int r;
    if (table == ABSENT) {
      map_tables++;
      r = map_level(ABSENT, 1, i + 1, va + off, pa + off, chunk, bits, dry);
    } else {
      uint64_t ea = table + (idx << 3);
      if (ea + 8 > ram_bytes) return 3;
      uint64_t e = rd(ea);
      if (e & P) {
        if (i > 0 && (e & PS)) return 2;
        r = map_level(e & ADDR_MASK, 0, i + 1, va + off, pa + off, chunk, bits, dry);
      } else if (dry) {
        map_tables++;
        r = map_level(ABSENT, 1, i + 1, va + off, pa + off, chunk, bits, dry);
      } else {
        uint64_t t = pool_next;
        pool_next += 4096;
        if (t + 4096 > ram_bytes) return 3;
        if (!fresh_table(t)) return 8;
        if (!fresh && !note_entry(ea, e)) return 8;
        wr(ea, P | RW | US | t);
        r = map_level(t, 1, i + 1, va + off, pa + off, chunk, bits, dry);
      }
    }
    if (r) return r;
    off += chunk;
  }
  return 0;
}

static int map_4k(uint64_t root, uint64_t va, uint64_t pa, uint64_t bytes, uint64_t leaf_bits) {
  map_tables = 0;
  int rc = map_level(root, 0, 0, va, pa, bytes, leaf_bits, 1);
  if (rc) return rc;
  j_at = journal;
  j_run = NULL;
  return map_level(root, 0, 0, va, pa, bytes, leaf_bits, 0);
}

/* Returns 0, or 5 (the range splits a large leaf). */
static int unmap_level(uint64_t table, int i, uint64_t va, uint64_t bytes, int dry, uint64_t *cleared) {
  uint64_t span = 1ull << SHIFT[i];
  uint64_t idx = (va >> SHIFT[i]) & 511;
  if (table + 4096 > ram_bytes) return 0; /* a table outside the image maps nothing */
  for (uint64_t off = 0; off < bytes; idx++) {
    uint64_t room = span - ((va + off) & (span - 1)), left = bytes - off;
    uint64_t chunk = room < left ? room : left;
    if (i == 3) {
      uint64_t n = left >> 12;
      if (512 - idx < n) n = 512 - idx;
      for (uint64_t k = 0; k < n; k++) {
        uint64_t ea = table + ((idx + k) << 3);
        if (rd(ea) & P) {
          if (!dry) wr(ea, 0);
          (*cleared)++;
        }
      }
      off += n << 12;
      idx += n - 1;
      continue;
    }
    uint64_t e = rd(table + (idx << 3));
    off += chunk;
    if (!(e & P)) continue;
    if (i > 0 && (e & PS)) {
      if (chunk != span) return 5;
      if (!dry) wr(table + (idx << 3), 0);
      (*cleared)++;
      continue;
    }
    int r = unmap_level(e & ADDR_MASK, i + 1, va + off - chunk, chunk, dry, cleared);
    if (r) return r;
  }
  return 0;
}

static uint64_t unmap_4k(uint64_t root, uint64_t va, uint64_t bytes) {
  uint64_t dry = 0, cleared = 0;
  if (unmap_level(root, 0, va, bytes, 1, &dry)) return 0;
  unmap_level(root, 0, va, bytes, 0, &cleared);
  return cleared;
}

/* ---- checksum: the same two 32-bit lanes as src/perf/checksum.ts ------------------- */

struct sum { uint32_t a, b; };
static inline void sum_words(struct sum *s, const uint8_t *p, size_t bytes) {
  uint32_t a = s->a, b = s->b;
  for (size_t i = 0; i + 4 <= bytes; i += 4) {
    uint32_t w;
    memcpy(&w, p + i, 4);
    a = (a ^ w) * 16777619u;
    b = (b + w) * 0x85ebca6bu;
    b = (b << 13) | (b >> 19);
  }
  s->a = a;
  s->b = b;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void *read_file(const char *path, uint64_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) { fprintf(stderr, "memwalk-native: %s: cannot open\n", path); exit(1); }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  void *buf = malloc(n > 0 ? (size_t)n : 1);
  if (!buf || (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)) { fprintf(stderr, "memwalk-native: %s: read failed\n", path); exit(1); }
  fclose(f);
  *size = (uint64_t)n;
  return buf;
}

static int cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return a < b ? -1 : a > b;
}

static void print_result(const char *name, double *ms, int repeats, struct sum s, uint64_t count) {
  printf("{\"name\":\"%s\",\"ms\":[", name);
  for (int i = 0; i < repeats; i++) printf("%s%.6f", i ? "," : "", ms[i]);
  printf("],\"checksum\":\"%08x%08x\",\"count\":%llu}\n", s.a, s.b, (unsigned long long)count);
  fflush(stdout);
}


/* ---- the m2p-strict fix-up (assembly/frames/m2p-fixup.ts), run to completion -------- */

#define FNULL 0xffffffffu
#define T_L4 4u
#define T_VALID_L4 ((T_L4 << 1) | 1u)
#define T_LOCKED 0x02000000u
#define T_VALIDATED 0x10000000u
#define T_COUNT_MASK 0x001fffffu
#define RO_MPT_ENTRY ((0xfffffull << 32) | 0x1025ull)
#define SLOT_OFF (256u * 8u)
#define CHECK_EVERY 256u
#define NEVER_SLICE 4096u /* checks per kernel call with preemption `never` (src/xen/m2p-fixup.ts) */

enum { V_LOCKED = 0, V_FILLED = 1, V_ALREADY = 2, V_NOLOCK = 3, V_NOLOCK_L4 = 4 };

struct fx {
  uint32_t *type, *next, *prev;
  const uint32_t *owner, *l4next;
  uint32_t frames, ram_frames, dom, head, tail, count, l4head;
  uint32_t visited, filled, already, lock_failed, l4_lock_failed;
};

/* page_lock f; if an L4 table, fill its RO_MPT slot; page_unlock. */
static inline uint32_t fx_visit(struct fx *c, uint32_t f) {
  uint32_t x = c->type[f];
  uint32_t cnt = x & T_COUNT_MASK;
  if ((x & (T_LOCKED | T_VALIDATED)) != T_VALIDATED || cnt == 0 || cnt == T_COUNT_MASK)
    return x >> 28 == T_VALID_L4 ? V_NOLOCK_L4 : V_NOLOCK;
  ((volatile uint32_t *)c->type)[f] = (x + 1) | T_LOCKED; /* the lock: kept as a real store */
  uint32_t v = V_LOCKED;
  if (x >> 29 == T_L4 && f < c->ram_frames) {
    uint64_t ea = ((uint64_t)f << 12) + SLOT_OFF;
    if (rd(ea) != 0) v = V_ALREADY;
    else { wr(ea, RO_MPT_ENTRY); v = V_FILLED; }
  }
  c->type[f] = x; /* page_unlock */
  return v;
}

static inline void fx_count(struct fx *c, uint32_t v) {
  if (v == V_LOCKED) return;
  if (v == V_FILLED) c->filled++;
  else if (v == V_ALREADY) c->already++;
  else {
    c->lock_failed++;
    if (v == V_NOLOCK_L4) c->l4_lock_failed++;
  }
}

/* Head to tail rotation until the first L4 already set; stopped as `stuck` at a call
   boundary once past twice the list's length, as src/xen/m2p-fixup.ts does. */
static void fx_faithful(struct fx *c) {
  uint32_t head = c->head, tail = c->tail, frames = c->frames;
  if (head >= frames || tail >= frames) return;
  uint64_t bound = 2ull * c->count + 2ull * CHECK_EVERY;
  uint64_t i = 0;
  uint32_t checks = 0;
  uint32_t *next = c->next, *prev = c->prev;
  for (;;) {
    uint32_t f = head;
    uint32_t n = next[f];
    uint32_t v = fx_visit(c, f);
    if (n < frames) {
      prev[n] = FNULL;
      next[tail] = f;
      prev[f] = tail;
      next[f] = FNULL;
      tail = f;
      head = n;
    }
    i++;
    if (v != V_LOCKED) {
      fx_count(c, v);
      if (v == V_ALREADY) break;
    }
    if ((i & 0xff) == 0) {
      checks++;
      if (checks % NEVER_SLICE == 0 && i > bound) break;
    }
  }
  c->head = head;
  c->tail = tail;
  c->visited = (uint32_t)i;
}

static void fx_counted(struct fx *c) {
  uint32_t head = c->head, tail = c->tail, frames = c->frames, left = c->count, i = 0;
  uint32_t *next = c->next, *prev = c->prev;
  if (tail >= frames) left = 0;
  while (left > 0 && head < frames) {
    uint32_t f = head;
    uint32_t n = next[f];
    uint32_t v = fx_visit(c, f);
    if (n < frames) {
      prev[n] = FNULL;
      next[tail] = f;
      prev[f] = tail;
      next[f] = FNULL;
      tail = f;
      head = n;
    }
    fx_count(c, v);
    left--;
    i++;
  }
  c->head = head;
  c->tail = tail;
  c->visited = i;
}

static void fx_flat(struct fx *c) {
  const uint32_t *col = c->type, *own = c->owner;
  uint32_t frames = c->frames, owner = c->dom + 1, f = 0;
  uint32_t end16 = frames - (frames & 15);
  /* Sixteen frames per step, one branch: most steps hold no match. */
  for (; f < end16; f += 16) {
    uint32_t m = 0;
    for (int j = 0; j < 16; j++) m |= (col[f + j] >> 28) == T_VALID_L4;
    if (m)
      for (uint32_t g = f; g < f + 16; g++)
        if (col[g] >> 28 == T_VALID_L4 && own[g] == owner) fx_count(c, fx_visit(c, g));
  }
  for (; f < frames; f++)
    if (col[f] >> 28 == T_VALID_L4 && own[f] == owner) fx_count(c, fx_visit(c, f));
  c->visited = frames;
}

static void fx_indexed(struct fx *c) {
  uint32_t cur = c->l4head, i = 0;
  while (cur < c->ram_frames) {
    uint32_t f = cur;
    cur = c->l4next[f];
    i++;
    fx_count(c, fx_visit(c, f));
  }
  c->visited = i;
}

/* The report's census (src/xen/m2p-fixup.ts, l4Status): the domain's validated L4s among the RAM image's
   frames and how many have the RO_MPT slot set; sixteen frames per step, one branch, as the kernel's census. */
static inline void fx_census_one(const struct fx *c, uint32_t f, uint32_t *n, uint32_t *filled) {
  if (c->type[f] >> 28 != T_VALID_L4 || c->owner[f] != c->dom + 1) return;
  (*n)++;
  if (rd(((uint64_t)f << 12) + SLOT_OFF) != 0) (*filled)++;
}

static void fx_census(const struct fx *c, uint32_t *total, uint32_t *set) {
  const uint32_t *col = c->type;
  uint32_t to = c->ram_frames, n = 0, filled = 0, f = 0;
  uint32_t end16 = to - (to & 15);
  for (; f < end16; f += 16) {
    uint32_t m = 0;
    for (int j = 0; j < 16; j++) m |= (col[f + j] >> 28) == T_VALID_L4;
    if (m)
      for (uint32_t g = f; g < f + 16; g++) fx_census_one(c, g, &n, &filled);
  }
  for (; f < to; f++) fx_census_one(c, f, &n, &filled);
  *total = n;
  *set = filled;
}

static void print_result_str(const char *name, double *ms, int repeats, const char *checksum, uint64_t count) {
  printf("{\"name\":\"%s\",\"ms\":[", name);
  for (int i = 0; i < repeats; i++) printf("%s%.6f", i ? "," : "", ms[i]);
  printf("],\"checksum\":\"%s\",\"count\":%llu}\n", checksum, (unsigned long long)count);
  fflush(stdout);
}

/* ---- relocate: move_xen's fix-up (assembly/paging/relocate.ts, x86-64 4-level) ---- */

static inline int rl_in_image(uint64_t ea, uint64_t bytes) { return ea < ram_bytes && bytes <= ram_bytes - ea; }

/* Is any of the eight entries at ea present? One branch for eight, as the kernel does. */
static inline int rl_any8(uint64_t ea) {
  uint64_t m = rd(ea) | rd(ea + 8) | rd(ea + 16) | rd(ea + 24) | rd(ea + 32) | rd(ea + 40) | rd(ea + 48) | rd(ea + 56);
  return (m & P) != 0;
}

/* Each table fixed once, at the first level it is met; l2_xenmap (level 2) must hold 2 MiB leaves only.
   Dry run: checks and counts only. Returns 0, or 1 (4 KiB table in l2_xenmap), 2 (outside), 3 (too many). */
static int relocate_run(uint64_t root, uint64_t xenmap, uint64_t delta, uint64_t *seen, uint64_t *stk, int *stk_lv,
                        uint32_t cap, int dry, uint64_t *count_out) {
  const int xl = 2;
  root &= ADDR_MASK;
  if (!rl_in_image(xenmap, 512 * 8)) return 2;
  for (uint32_t g = 0; g < 512; g += 8) {
    if (!rl_any8(xenmap + g * 8)) continue;
    for (uint32_t s = g; s < g + 8; s++) {
      uint64_t e = rd(xenmap + s * 8);
      if ((e & P) && !(e & PS)) return 1;
    }
  }
  uint32_t n_seen = 1, top = 1;
  seen[0] = root;
  stk[0] = root;
  stk_lv[0] = 0;
  uint64_t count = 0;
  while (top > 0) {
    top--;
    uint64_t t = stk[top];
    int i = stk_lv[top];
    if (!rl_in_image(t, 512 * 8)) return 2;
    for (uint32_t g = 0; g < 512; g += 8) {
      if (!rl_any8(t + g * 8)) continue;
      for (uint32_t s = g; s < g + 8; s++) {
        uint64_t ea = t + s * 8;
        uint64_t e = rd(ea);
        if (!(e & P) || (i > 0 && (e & PS))) continue;
        uint64_t moved = e + delta;
        if (!dry) wr(ea, moved);
        count++;
        if (i + 1 > xl) continue;
        uint64_t child = moved & ADDR_MASK;
        int known = 0;
        for (uint32_t k = 0; k < n_seen; k++)
          if (seen[k] == child) { known = 1; break; }
        if (known) continue;
        if (n_seen == cap || top == cap) return 3;
        seen[n_seen++] = child;
        stk[top] = child;
        stk_lv[top] = i + 1;
        top++;
      }
    }
  }
  for (uint32_t g = 0; g < 512; g += 8) {
    if (!rl_any8(xenmap + g * 8)) continue;
    for (uint32_t s = g; s < g + 8; s++) {
      uint64_t ea = xenmap + s * 8;
      uint64_t e = rd(ea);
      if (!(e & P)) continue;
      if (!dry) wr(ea, e + delta);
      count++;
    }
  }
  *count_out = count;
  return 0;
}

/* ---- address spaces: the copy a virtual read makes, and memmem over translated pages -- */

void *memmem(const void *hay, size_t hn, const void *needle, size_t nn); /* glibc; not declared under _POSIX_C_SOURCE */

/* 64 bytes of every 64 KiB (src/perf/address-workloads.ts: sampledSum). */
static void sum_sampled(struct sum *s, const uint8_t *p, uint64_t bytes) {
  for (uint64_t o = 0; o + 64 <= bytes; o += 65536) sum_words(s, p + o, 64);
}

/* memcpy of image [pa, pa+bytes) into one buffer, reused by every run (its pages touched by the untimed first). */
static void task_memcpy(uint64_t pa, uint64_t bytes, double *ms, int repeats, struct sum *s) {
  if (pa > ram_bytes || bytes > ram_bytes - pa) { fprintf(stderr, "memwalk-native: memcpy: outside the image\n"); exit(1); }
  uint8_t *dst = malloc(bytes ? bytes : 1);
  if (!dst) { fprintf(stderr, "memwalk-native: memcpy: cannot allocate\n"); exit(1); }
  for (int r = -1; r < repeats; r++) {
    double t0 = now_ms();
    memcpy(dst, ram + pa, bytes);
    double dt = now_ms() - t0;
    if (r >= 0) ms[r] = dt;
  }
  sum_sampled(s, dst, bytes);
  free(dst);
}

/* Timed together: the C walker's runs over [va, va + pages pages) under `root`, then memmem over each
   mapped run (matches across runs are not looked for). The checksum is over the match VAs, in order. */
static uint64_t task_memmem(uint64_t root, uint64_t va, uint32_t pages, const uint8_t *pat, size_t n, double *ms, int repeats, struct sum *s) {
  uint8_t *runs = malloc((size_t)pages * 24 + 24);
  size_t cap = 1 << 12, nh = 0;
  uint64_t *hits = malloc(cap * 8);
  if (!runs || !hits) { fprintf(stderr, "memwalk-native: memmem: cannot allocate\n"); exit(1); }
  for (int r = -1; r < repeats; r++) {
    double t0 = now_ms();
    uint32_t nr = translate_runs(root, va, pages, runs);
    nh = 0;
    for (uint32_t i = 0; i < nr; i++) {
      const uint8_t *o = runs + (size_t)i * 24;
      uint64_t rva, rpa;
      uint32_t rp, st;
      memcpy(&rva, o, 8); memcpy(&rpa, o + 8, 8); memcpy(&rp, o + 16, 4); memcpy(&st, o + 20, 4);
      uint64_t len = (uint64_t)rp << 12;
      if ((st & 0xf) != K_OK || rpa > ram_bytes || len > ram_bytes - rpa) continue;
      const uint8_t *base = ram + rpa, *end = base + len, *p = base;
      while ((p = memmem(p, (size_t)(end - p), pat, n)) != NULL) {
        if (nh == cap) { cap *= 2; hits = realloc(hits, cap * 8); if (!hits) exit(1); }
        hits[nh++] = rva + (uint64_t)(p - base);
        p++;
      }
    }
    double dt = now_ms() - t0;
    if (r >= 0) ms[r] = dt;
  }
  sum_words(s, (const uint8_t *)hits, nh * 8);
  free(runs);
  free(hits);
  return nh;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: memwalk-native IMAGE ROOT REPEATS TASK...\n");
    return 1;
  }
  ram = read_file(argv[1], &ram_bytes);
  uint64_t root = strtoull(argv[2], NULL, 16) & ADDR_MASK;
  int repeats = atoi(argv[3]);
  if (repeats < 1) repeats = 1;
  double *ms = calloc((size_t)repeats, sizeof(double));
  printf("{\"walker\":\"plain x86-64 4-level (C, constants compiled in)\",\"imageBytes\":%llu}\n", (unsigned long long)ram_bytes);
  for (int t = 4; t < argc; t++) {
    char spec[1024];
    strncpy(spec, argv[t], sizeof spec - 1);
    spec[sizeof spec - 1] = 0;
    char *eq = strchr(spec, '=');
    if (!eq) { fprintf(stderr, "memwalk-native: bad task '%s'\n", argv[t]); return 1; }
    *eq = 0;
    const char *name = spec;
    char *kind = strtok(eq + 1, ":");
    struct sum s = {2166136261u, 0x9747b28cu};
    uint64_t count = 0;
    if (kind && strcmp(kind, "batch") == 0) {
      const char *file = strtok(NULL, ":");
      int cached = atoi(strtok(NULL, ":"));
      uint64_t bytes;
      uint64_t *vas = read_file(file, &bytes);
      uint32_t n = (uint32_t)(bytes / 8);
      uint8_t *out = malloc((size_t)n * 16 + 16);
      translate_batch(root, vas, out, n, cached); /* warm-up */
      for (int r = 0; r < repeats; r++) {
        double t0 = now_ms();
        translate_batch(root, vas, out, n, cached);
        ms[r] = now_ms() - t0;
      }
      sum_words(&s, out, (size_t)n * 16);
      count = n;
      free(out);
      free(vas);
    } else if (kind && strcmp(kind, "range") == 0) {
      uint64_t va = strtoull(strtok(NULL, ":"), NULL, 16);
      uint32_t pages = (uint32_t)strtoul(strtok(NULL, ":"), NULL, 10);
      uint8_t *out = malloc((size_t)pages * 16 + 16);
      translate_range(root, va, pages, out);
      for (int r = 0; r < repeats; r++) {
        double t0 = now_ms();
        translate_range(root, va, pages, out);
        ms[r] = now_ms() - t0;
      }
      sum_words(&s, out, (size_t)pages * 16);
      count = pages;
      free(out);
    } else if (kind && strcmp(kind, "runs") == 0) {
      uint64_t va = strtoull(strtok(NULL, ":"), NULL, 16);
      uint32_t pages = (uint32_t)strtoul(strtok(NULL, ":"), NULL, 10);
      uint8_t *out = malloc((size_t)pages * 24 + 24);
      uint32_t n = translate_runs(root, va, pages, out);
      for (int r = 0; r < repeats; r++) {
        double t0 = now_ms();
        n = translate_runs(root, va, pages, out);
        ms[r] = now_ms() - t0;
      }
      sum_words(&s, out, (size_t)n * 24);
      count = n;
      free(out);
    } else if (kind && strcmp(kind, "list") == 0) {
      uint32_t max = (uint32_t)strtoul(strtok(NULL, ":"), NULL, 10);
      uint8_t *out = malloc((size_t)max * 32);
      for (int r = -1; r < repeats; r++) {
        struct sum rs = {2166136261u, 0x9747b28cu};
        uint64_t c = 0;
        double t0 = now_ms();
        enum_start(root);
        uint32_t n;
        /* Timed: the kernel and one word per batch (results consumed); the full checksum after. */
        while ((n = enum_next(out, max)) != 0) {
          c += n;
          if (r == repeats - 1)
            for (uint32_t i = 0; i < n; i++) sum_words(&rs, out + (size_t)i * 32, 28); /* the padding word is not output */
        }
        double dt = now_ms() - t0;
        if (r >= 0) ms[r] = dt;
        if (r == repeats - 1) { s = rs; count = c; }
      }
      free(out);
    } else if (kind && strcmp(kind, "map") == 0) {
      uint64_t va = strtoull(strtok(NULL, ":"), NULL, 16);
      uint64_t pa = strtoull(strtok(NULL, ":"), NULL, 16);
      uint64_t bytes = strtoull(strtok(NULL, ":"), NULL, 16);
      uint64_t pool = strtoull(strtok(NULL, ":"), NULL, 10) * 4096;
      uint64_t bits = P | RW | XD | 0x100; /* write, no execute, global */
      /* A private root so the walk image is left as it was. */
      uint64_t myroot = pool;
      /* The engine's journal lives in its I/O buffer, allocated once. */
      size_t jbytes = 1u << 20;
      journal = malloc(jbytes);
      if (!journal) { fprintf(stderr, "memwalk-native: out of memory\n"); return 1; }
      j_end = journal + jbytes;
      for (int r = -1; r < repeats; r++) {
        memset(ram + myroot, 0, 4096);
        pool_next = pool + 4096;
        map_leaves = 0;
        double t0 = now_ms();
        int rc = map_4k(myroot, va, pa, bytes, bits);
        double dt = now_ms() - t0;
        if (rc) { fprintf(stderr, "memwalk-native: map failed (%d)\n", rc); return 1; }
        if (r == repeats - 1) sum_words(&s, ram + pool, (size_t)(pool_next - pool)); /* untimed */
        t0 = now_ms();
        uint64_t cleared = unmap_4k(myroot, va, bytes);
        dt += now_ms() - t0;
        if (r >= 0) ms[r] = dt;
        count = map_leaves + cleared;
      }
    } else if (kind && strcmp(kind, "chase") == 0) {
      /* Follow a page list through the next-link column (u32 per frame, FRAME_NULL = ~0). */
      const char *file = strtok(NULL, ":");
      uint32_t from = (uint32_t)strtoul(strtok(NULL, ":"), NULL, 10);
      uint32_t max = (uint32_t)strtoul(strtok(NULL, ":"), NULL, 10);
      uint64_t bytes;
      uint32_t *next = read_file(file, &bytes);
      uint32_t frames = (uint32_t)(bytes / 4), sum = 0, n = 0;
      for (int r = -1; r < repeats; r++) {
        double t0 = now_ms();
        uint32_t f = from, sm = 0, c = 0;
        while (f < frames && c < max) { sm += f; c++; f = next[f]; }
        double dt = now_ms() - t0;
        if (r >= 0) ms[r] = dt;
        sum = sm;
        n = c;
      }
      s.a = sum;
      s.b = n;
      count = n;
      free(next);
    } else if (kind && strcmp(kind, "census") == 0) {
      /* Frames of [from, to) whose type_info bits 28..31 (type, validated) equal KEY and, unless DOM is ~0,
         whose owner is DOM + 1 (the kernel also counts L4s with RO_MPT set, from the image; not done here). */
      const char *tfile = strtok(NULL, ":");
      const char *ofile = strtok(NULL, ":");
      uint32_t type = (uint32_t)strtoul(strtok(NULL, ":"), NULL, 10);
      uint32_t dom = (uint32_t)strtoul(strtok(NULL, ":"), NULL, 10);
      uint32_t from = (uint32_t)strtoul(strtok(NULL, ":"), NULL, 10);
      uint32_t to = (uint32_t)strtoul(strtok(NULL, ":"), NULL, 10);
      uint64_t tb, ob;
      uint32_t *ti = read_file(tfile, &tb), *ow = read_file(ofile, &ob);
      if (to > tb / 4) to = (uint32_t)(tb / 4);
      if (from > to) from = to;
      uint32_t n = 0;
      for (int r = -1; r < repeats; r++) {
        double t0 = now_ms();
        uint32_t c = 0;
        for (uint32_t f = from; f < to; f++)
          if (ti[f] >> 28 == type && (dom == 0xffffffffu || ow[f] == dom + 1)) c++;
        double dt = now_ms() - t0;
        if (r >= 0) ms[r] = dt;
        n = c;
      }
      s.a = n;
      s.b = to - from;
      count = n;
      free(ti);
      free(ow);
    } else if (kind && strcmp(kind, "fixup") == 0) {
      const char *strategy = strtok(NULL, ":");
      const char *files[7];
      for (int k = 0; k < 7; k++) files[k] = strtok(NULL, ":");
      uint32_t arg[6];
      for (int k = 0; k < 6; k++) arg[k] = (uint32_t)strtoul(strtok(NULL, ":"), NULL, 10);
      int mode = strcmp(strategy, "faithful") == 0 ? 0 : strcmp(strategy, "counted") == 0 ? 1
               : strcmp(strategy, "flat") == 0 ? 2 : strcmp(strategy, "indexed") == 0 ? 3 : -1;
      if (mode < 0) { fprintf(stderr, "memwalk-native: unknown fix-up strategy '%s'\n", strategy); return 1; }
      uint64_t tb, nb, pb, ob, lb, qb;
      uint32_t *type0 = read_file(files[0], &tb), *next0 = read_file(files[1], &nb), *prev0 = read_file(files[2], &pb);
      uint32_t *own = read_file(files[3], &ob), *l4next = read_file(files[4], &lb), *l4list = read_file(files[5], &qb);
      uint64_t sb;
      uint64_t *slots = read_file(files[6], &sb);
      uint32_t frames = (uint32_t)(tb / 4), nl4 = (uint32_t)(qb / 4);
      if (nb / 4 != frames || pb / 4 != frames || ob / 4 != frames) { fprintf(stderr, "memwalk-native: fixup: column sizes differ\n"); return 1; }
      uint32_t ram_frames = arg[5];
      if (ram_frames > frames) ram_frames = frames;
      if (ram_frames > lb / 4) ram_frames = (uint32_t)(lb / 4);
      if (ram_frames > sb / 8) ram_frames = (uint32_t)(sb / 8);
      /* The task's own RAM image (zero pages, untouched but for the L4 frames' slots, written below),
         so the slot accesses have the engine's stride: frame f's slot at f * 4096 + 2048. */
      uint8_t *ram_saved = ram;
      uint64_t ram_bytes_saved = ram_bytes;
      ram_bytes = (uint64_t)ram_frames << 12;
      ram = calloc(ram_bytes ? ram_bytes : 1, 1);
      if (!ram) { fprintf(stderr, "memwalk-native: fixup: cannot allocate the image\n"); return 1; }
      /* The columns placed as the engine places them (src/engine/layout.ts): one block, type, count, owner,
         next, prev, each 64 KiB pages plus 192 bytes after the one before, so no two share an offset within
         a 4 KiB page. Separate mallocs left it to the allocator: page-aligned mmap chunks for the first task
         of a run (4 KiB aliasing between the columns, twice the time), heap chunks for later ones. */
      size_t stride = (((size_t)frames * 4 + 0xffff) & ~(size_t)0xffff) + 192;
      uint8_t *cols = aligned_alloc(65536, (5 * stride + 0xffff) & ~(size_t)0xffff);
      if (!cols) { fprintf(stderr, "memwalk-native: fixup: cannot allocate the columns\n"); return 1; }
      uint32_t *type = (uint32_t *)cols, *next = (uint32_t *)(cols + 3 * stride), *prev = (uint32_t *)(cols + 4 * stride);
      /* Slots the run may fill: those of every L4-typed frame of the image. Saved once, put back after each run. */
      uint32_t nt = 0;
      for (uint32_t f = 0; f < ram_frames; f++) if (type0[f] >> 29 == T_L4) nt++;
      uint32_t *tf = malloc((size_t)nt * 4 + 4);
      uint64_t *tslot = malloc((size_t)nt * 8 + 8);
      nt = 0;
      for (uint32_t f = 0; f < ram_frames; f++)
        if (type0[f] >> 29 == T_L4) { tf[nt] = f; tslot[nt] = slots[f]; nt++; }
      for (uint32_t k = 0; k < nl4; k++)
        if (l4list[k] < ram_frames) wr(((uint64_t)l4list[k] << 12) + SLOT_OFF, slots[l4list[k]]);
      struct fx c;
      char sumtext[96];
      for (int r = -1; r < repeats; r++) {
        for (uint32_t k = 0; k < nt; k++) wr(((uint64_t)tf[k] << 12) + SLOT_OFF, tslot[k]); /* the slots as they were */
        memcpy(type, type0, (size_t)frames * 4);
        memcpy(next, next0, (size_t)frames * 4);
        memcpy(prev, prev0, (size_t)frames * 4);
        memset(&c, 0, sizeof c);
        c.type = type; c.next = next; c.prev = prev; c.owner = own; c.l4next = l4next;
        c.frames = frames; c.ram_frames = ram_frames; c.dom = arg[0];
        c.head = arg[1]; c.tail = arg[2]; c.count = arg[3]; c.l4head = arg[4];
        /* The whole operation, as m2pFixup runs it: the loop, then the report's census. */
        uint32_t total = 0, set = 0;
        double t0 = now_ms();
        if (mode == 0) fx_faithful(&c);
        else if (mode == 1) fx_counted(&c);
        else if (mode == 2) fx_flat(&c);
        else fx_indexed(&c);
        fx_census(&c, &total, &set);
        double dt = now_ms() - t0;
        if (r >= 0) ms[r] = dt;
        if (r == repeats - 1) {
          /* Untimed: the guest's L4 slots, frames visited, the domain's L4s with the slot set, head and tail. */
          struct sum h = {2166136261u, 0x9747b28cu};
          for (uint32_t k = 0; k < nl4; k++) {
            uint64_t ea = ((uint64_t)l4list[k] << 12) + SLOT_OFF;
            if (ea + 8 <= ram_bytes) sum_words(&h, ram + ea, 8);
          }
          (void)total;
          snprintf(sumtext, sizeof sumtext, "%08x%08x:%u:%u:%u:%u", h.a, h.b, c.visited, set, c.head, c.tail);
          count = c.visited;
        }
      }
      free(cols); free(tf); free(tslot);
      free(type0); free(next0); free(prev0); free(own); free(l4next); free(l4list); free(slots);
      free(ram);
      ram = ram_saved;
      ram_bytes = ram_bytes_saved;
      qsort(ms, (size_t)repeats, sizeof(double), cmp_double);
      print_result_str(name, ms, repeats, sumtext, count);
      continue;
    } else if (kind && strcmp(kind, "relocate") == 0) {
      const char *file = strtok(NULL, ":");
      uint64_t base = strtoull(strtok(NULL, ":"), NULL, 16);
      uint64_t delta = strtoull(strtok(NULL, ":"), NULL, 16);
      uint64_t troot = strtoull(strtok(NULL, ":"), NULL, 16);
      uint64_t xenmap = strtoull(strtok(NULL, ":"), NULL, 16);
      uint64_t rbytes = strtoull(strtok(NULL, ":"), NULL, 16);
      const char *roff_s = strtok(NULL, ":"), *rlen_s = roff_s ? strtok(NULL, ":") : NULL;
      const char *n_s = rlen_s ? strtok(NULL, ":") : NULL, *step_s = n_s ? strtok(NULL, ":") : NULL;
      uint64_t len;
      uint8_t *img = read_file(file, &len);
      /* The part of each copy put back before each run (default: all of it); N copies, the k-th at
         BASE + DELTA - k * STEP, each relocated once per run (default one). */
      uint64_t roff = roff_s ? strtoull(roff_s, NULL, 16) : 0, rlen = rlen_s ? strtoull(rlen_s, NULL, 16) : len;
      uint64_t ncopies = n_s ? strtoull(n_s, NULL, 16) : 1, step = step_s ? strtoull(step_s, NULL, 16) : 0;
      if (roff > len || rlen > len - roff) { fprintf(stderr, "memwalk-native: relocate: reset range outside the image\n"); return 1; }
      if (ncopies < 1 || ncopies > 64 || (ncopies - 1) * step > delta) { fprintf(stderr, "memwalk-native: relocate: bad copies\n"); return 1; }
      uint64_t to = base + delta;
      if (base + len > rbytes || to + len > rbytes) { fprintf(stderr, "memwalk-native: relocate: image outside the RAM image\n"); return 1; }
      uint8_t *ram_saved = ram;
      uint64_t ram_bytes_saved = ram_bytes;
      ram_bytes = rbytes;
      ram = calloc(ram_bytes, 1);
      if (!ram) { fprintf(stderr, "memwalk-native: relocate: cannot allocate the image\n"); return 1; }
      memcpy(ram + base, img, len);
      const uint32_t cap = 4096;
      uint64_t *seen = malloc(cap * 8), *stk = malloc(cap * 8);
      int *stk_lv = malloc(cap * sizeof(int));
      char sumtext[64];
      memcpy(ram + to, img, len); /* move_xen's memcpy */
      for (int r = -1; r < repeats; r++) {
        for (uint64_t k = 0; k < ncopies; k++) /* each copy (or its tables) in place before each run, untimed */
          memcpy(ram + to - k * step + roff, img + roff, rlen);
        uint64_t n = 0, total = 0;
        int rc = 0;
        double t0 = now_ms();
        for (uint64_t k = 0; k < ncopies && rc == 0; k++) {
          uint64_t d = delta - k * step;
          rc = relocate_run(troot + d, xenmap + d, d, seen, stk, stk_lv, cap, 1, &n);
          if (rc == 0) rc = relocate_run(troot + d, xenmap + d, d, seen, stk, stk_lv, cap, 0, &n);
          total += n;
        }
        double dt = now_ms() - t0;
        if (rc) { fprintf(stderr, "memwalk-native: relocate: failed (%d)\n", rc); return 1; }
        if (r >= 0) ms[r] = dt;
        count = total;
      }
      /* Untimed: entries relocated and the copies' put-back parts as the last run left them. */
      for (uint64_t k = 0; k < ncopies; k++) sum_words(&s, ram + to - k * step + roff, (size_t)rlen);
      snprintf(sumtext, sizeof sumtext, "%llu:%08x%08x", (unsigned long long)count, s.a, s.b);
      free(seen); free(stk); free(stk_lv); free(img);
      free(ram);
      ram = ram_saved;
      ram_bytes = ram_bytes_saved;
      qsort(ms, (size_t)repeats, sizeof(double), cmp_double);
      print_result_str(name, ms, repeats, sumtext, count);
      continue;
    } else if (kind && strcmp(kind, "memcpy") == 0) {
      uint64_t pa = strtoull(strtok(NULL, ":"), NULL, 16);
      uint64_t bytes = strtoull(strtok(NULL, ":"), NULL, 16);
      task_memcpy(pa, bytes, ms, repeats, &s);
      count = bytes >> 20;
    } else if (kind && strcmp(kind, "memmem") == 0) {
      uint64_t va = strtoull(strtok(NULL, ":"), NULL, 16);
      uint32_t pages = (uint32_t)strtoul(strtok(NULL, ":"), NULL, 10);
      const char *hexpat = strtok(NULL, ":");
      uint64_t sroot = strtoull(strtok(NULL, ":"), NULL, 16) & ADDR_MASK;
      uint8_t pat[256];
      size_t n = strlen(hexpat) / 2;
      if (n == 0 || n > sizeof pat) { fprintf(stderr, "memwalk-native: memmem: bad pattern\n"); return 1; }
      for (size_t i = 0; i < n; i++) { char b[3] = {hexpat[2 * i], hexpat[2 * i + 1], 0}; pat[i] = (uint8_t)strtoul(b, NULL, 16); }
      task_memmem(sroot, va, pages, pat, n, ms, repeats, &s);
      count = (uint64_t)pages >> 8; /* MiB */
    } else {
      fprintf(stderr, "memwalk-native: unknown task kind in '%s'\n", argv[t]);
      return 1;
    }
    qsort(ms, (size_t)repeats, sizeof(double), cmp_double);
    print_result(name, ms, repeats, s, count);
  }
  return 0;
}
