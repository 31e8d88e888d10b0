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
 *           name=map:VA:PA:BYTES:POOL  map BYTES (hex) of 4 KiB leaves into fresh
 *                                      tables from frame POOL up (a private root
 *                                      at POOL), then unmap them; the checksum
 *                                      covers the tables as map left them
 * Prints one JSON object per task: {"name","ms":[...],"checksum","count"}; for
 * chase and census the checksum is the result and the count (8 hex digits each).
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
  uint32_t count = 0;
  while (d >= 0 && count < max) {
    struct en_slot *s = &en[d];
    uint32_t idx = s->index;
    if (idx > 511) { d--; continue; }
    s->index = idx + 1;
    uint64_t ea = s->table + ((uint64_t)idx << 3);
    if (ea >= ram_bytes || ram_bytes - ea < 8) { d--; continue; }
    uint64_t e = rd(ea);
    if (!(e & P)) continue;
    uint64_t va = s->va | ((uint64_t)idx << SHIFT[d]);
    if (d == 3 || (d > 0 && (e & PS))) {
      if (e & rsvd_leaf(d)) continue;
      uint32_t rights = ~(s->deny | deny_of(e)) & 0xf;
      uint8_t *o = out + (size_t)count * 32;
      uint64_t cva = (uint64_t)(((int64_t)(va << 16)) >> 16);
      uint64_t pa = e & ADDR_MASK & ~((1ull << SHIFT[d]) - 1);
      uint32_t st = ((uint32_t)d << ST_LEVEL_SHIFT) | (rights << ST_RIGHTS_SHIFT) | ((uint32_t)SHIFT[d] << ST_PAGE_SHIFT);
      uint32_t pad = 0;
      memcpy(o, &cva, 8);
      memcpy(o + 8, &pa, 8);
      memcpy(o + 16, &e, 8);
      memcpy(o + 24, &st, 4);
      memcpy(o + 28, &pad, 4);
      count++;
      continue;
    }
    if (d == 0 && (e & PS)) continue;
    if (d + 1 >= 4) continue;
    struct en_slot *c = &en[d + 1];
    c->table = e & ADDR_MASK;
    c->va = va;
    c->index = 0;
    c->deny = s->deny | deny_of(e);
    d++;
  }
  en_depth = d;
  return count;
}

/* ---- map / unmap with 4 KiB leaves, tables from a bump pool ------------------------ */

static uint64_t pool_next;
static uint64_t map_leaves;

static int map_4k(uint64_t root, uint64_t va, uint64_t pa, uint64_t bytes, uint64_t leaf_bits) {
  uint64_t end = va + bytes;
  while (va < end) {
    uint64_t table = root;
    for (int i = 0; i < 3; i++) {
      uint64_t ea = table + (((va >> SHIFT[i]) & 511) << 3);
      uint64_t e = rd(ea);
      if (!(e & P)) {
        uint64_t t = pool_next;
        pool_next += 4096;
        if (t + 4096 > ram_bytes) return 3;
        memset(ram + t, 0, 4096);
        e = P | RW | US | t;
        wr(ea, e);
      } else if (i > 0 && (e & PS)) {
        return 2;
      }
      table = e & ADDR_MASK;
    }
    /* Fill the rest of this leaf table in one run. */
    uint64_t idx = (va >> 12) & 511;
    for (; idx < 512 && va < end; idx++, va += 4096, pa += 4096) {
      uint64_t ea = table + (idx << 3);
      if (rd(ea) & P) return 1;
      wr(ea, leaf_bits | (pa & ADDR_MASK));
      map_leaves++;
    }
  }
  return 0;
}

static uint64_t unmap_4k(uint64_t root, uint64_t va, uint64_t bytes) {
  uint64_t end = va + bytes, cleared = 0;
  while (va < end) {
    uint64_t table = root;
    int i = 0;
    for (; i < 3; i++) {
      uint64_t e = rd(table + (((va >> SHIFT[i]) & 511) << 3));
      if (!(e & P) || (i > 0 && (e & PS))) break;
      table = e & ADDR_MASK;
    }
    if (i < 3) { va = ((va >> SHIFT[i]) + 1) << SHIFT[i]; continue; }
    uint64_t idx = (va >> 12) & 511;
    for (; idx < 512 && va < end; idx++, va += 4096) {
      uint64_t ea = table + (idx << 3);
      if (rd(ea) & P) { wr(ea, 0); cleared++; }
    }
  }
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
    } else {
      fprintf(stderr, "memwalk-native: unknown task kind in '%s'\n", argv[t]);
      return 1;
    }
    qsort(ms, (size_t)repeats, sizeof(double), cmp_double);
    print_result(name, ms, repeats, s, count);
  }
  return 0;
}
