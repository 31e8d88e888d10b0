/*
 * Runs as init's child in the xl-dump-core scenario's domU: plants one known
 * 4 KiB page in user memory, prints where it is (virtual address, and the
 * guest's own pfn from /proc/self/pagemap), then keeps the vCPU busy in user
 * mode so that, when the domain is paused, its CR3 is this process's tables.
 * The pattern is reproduced by xl-check.mjs: byte i is (i * 7 + 0x5a) & 0xff,
 * except the first 32 bytes, which are the ASCII marker below.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static const char marker[32] = "MEMWALK-XLDUMP-PLANTED-PAGE-4K!!";

int main(void) {
  unsigned char *page = mmap((void *)0x5a5a000000, 4096, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (page == MAP_FAILED) { perror("planter: mmap"); return 1; }
  for (int i = 0; i < 4096; i++) page[i] = (unsigned char)((i * 7 + 0x5a) & 0xff);
  memcpy(page, marker, sizeof marker);
  if (mlock(page, 4096) != 0) perror("planter: mlock");
  uint64_t entry = 0;
  int fd = open("/proc/self/pagemap", O_RDONLY);
  if (fd < 0 || pread(fd, &entry, 8, (off_t)((uintptr_t)page / 4096) * 8) != 8) {
    perror("planter: pagemap");
    return 1;
  }
  close(fd);
  if (!(entry >> 63)) { fprintf(stderr, "planter: page not present in pagemap\n"); return 1; }
  printf("XLDUMP-PLANTED va=0x%lx pfn=0x%llx pid=%d\n", (unsigned long)(uintptr_t)page,
         (unsigned long long)(entry & ((1ULL << 55) - 1)), (int)getpid());
  fflush(stdout);
  volatile unsigned long spin = 0;
  for (;;) spin++;
}
