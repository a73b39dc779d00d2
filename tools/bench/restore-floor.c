// restore-floor: the least work a restore from a pipe must do, in C, to measure the floor under the restore row of
// docs/BENCHMARKS.md ("Side by side"). It reads the stream from stdin in 1 MiB reads and owns RESIDENT pages (every
// other page of the stream, as half of compare.sh's HVM save is zero pages) in fresh anonymous memory with huge
// pages. No parsing, no checks. Modes:
//   0  read only (what `cat f | cat > /dev/null`'s reader does)
//   1  + copy each owned page into fresh memory (populated by the faults of the copy)
//   2  + populate that memory ahead with MADV_POPULATE_WRITE on a second thread (as the page store's slab threads do)
//   3  2 + SHA-256 of the owned pages after the stream (as the digest was before it was hashed while pages arrive)
// Build: cc -O2 -o restore-floor tools/bench/restore-floor.c -lcrypto -lpthread   (libssl-dev)
// Use:   cat STREAM | /usr/bin/time ./restore-floor MODE RESIDENT_PAGES
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <pthread.h>
#include <openssl/sha.h>
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
static char *mem; static size_t memsz;
static void *pop(void *a) { (void)a; for (size_t o = 0; o < memsz; o += 8 << 20) madvise(mem + o, 8 << 20, MADV_POPULATE_WRITE); return 0; }
int main(int argc, char **argv) {
  int mode = atoi(argv[1]); size_t resident = strtoull(argv[2], 0, 0) * 4096;
  memsz = resident; mem = mmap(0, memsz + (2 << 20), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  mem = (char *)(((size_t)mem + (2 << 20) - 1) & ~((size_t)(2 << 20) - 1));
  madvise(mem, memsz, MADV_HUGEPAGE);
  pthread_t t; if (mode >= 2) pthread_create(&t, 0, pop, 0);
  static char buf[1 << 20]; size_t at = 0, total = 0, page = 0; ssize_t n;
  while ((n = read(0, buf, sizeof buf)) > 0) {
    total += n;
    if (mode >= 1) for (ssize_t o = 0; o + 4096 <= n; o += 4096, page++) if ((page & 1) && at + 4096 <= memsz) { memcpy(mem + at, buf + o, 4096); at += 4096; }
  }
  if (mode >= 2) pthread_join(t, 0);
  unsigned char h[32]; if (mode >= 3) SHA256((unsigned char *)mem, at, h);
  fprintf(stderr, "read %zu, owned %zu\n", total, at);
  return 0;
}
