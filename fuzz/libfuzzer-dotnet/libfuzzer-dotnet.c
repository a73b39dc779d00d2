// libfuzzer-dotnet: a native libFuzzer driver for .NET fuzz targets that call SharpFuzz.Fuzzer.LibFuzzer.Run.
//
// libFuzzer runs in this process; the .NET target runs in a child process started once (and again only if this
// process is restarted). Written from the protocol of SharpFuzz 2.3.0's Fuzzer.LibFuzzer.Run (docs/FUZZING.md,
// "libFuzzer mode"):
//   - this driver creates one System V shared memory segment: the 65536-byte coverage map SharpFuzz's probes write
//     (SharpFuzz.Common.Trace.SharedMem), followed by the input bytes;
//   - two pipes: control (driver -> target: the input size, int32 little-endian) and status (target -> driver: int32,
//     0 = the action returned, anything else = an exception escaped; SharpFuzz prints it to stderr and stops);
//   - the child gets __LIBFUZZER_SHM_ID, __LIBFUZZER_CONTROL_PIPE_ID and __LIBFUZZER_STATUS_PIPE_ID (the pipe ends as
//     file descriptor numbers) and says hello with one status word (0) once the map is attached.
// After each input the map is copied into counters libFuzzer treats as an instrumented module (register_map), so
// libFuzzer's cov and ft are the .NET target's edges (plus this driver's few own edges). A reported exception or a dead
// child becomes abort(): libFuzzer writes crash-<sha1> as for a native crash. libFuzzer's -timeout kills this process;
// the child dies with it (PR_SET_PDEATHSIG).
//
// Usage: libfuzzer-dotnet --target_path=PROGRAM [--target_arg=ARG]... [libFuzzer flags] [corpus dirs or files]
//   PROGRAM is an executable (a .NET apphost, or `dotnet`, with --target_arg=Host.dll). libFuzzer ignores flags that
//   start with "--". The environment is inherited (FUZZ_TARGET, FUZZ_LIBFUZZER=1 for the StreamBench host).
//   LIBFUZZER_DOTNET_TARGET / LIBFUZZER_DOTNET_ARGS (space-separated) stand in for the flags.
// Build: clang -O2 -fsanitize=fuzzer libfuzzer-dotnet.c -o libfuzzer-dotnet (fuzz/libfuzzer-dotnet/build.sh).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAP_SIZE 65536u            // SharpFuzz's map (Fuzzer.MapSize)
#define MAX_INPUT (1u << 20)       // larger inputs are cut (libFuzzer's -max_len is far below by default)
#define MAX_ARGS 64

// The map, seen by libFuzzer as a second instrumented module: 65536 inline 8-bit counters with a PC table of made-up
// PCs (one per map slot, no function entries), so libFuzzer's cov counts the .NET edges as well as its ft does. (The
// __libfuzzer_extra_counters section would feed ft only; cov would then count this driver's own few edges.)
__attribute__((aligned(4096))) static uint8_t counters[MAP_SIZE];
static uintptr_t pc_table[2 * MAP_SIZE];
void __sanitizer_cov_8bit_counters_init(uint8_t *start, uint8_t *stop);
void __sanitizer_cov_pcs_init(const uintptr_t *start, const uintptr_t *stop);

__attribute__((constructor)) static void register_map(void) {
  for (uintptr_t i = 0; i < MAP_SIZE; i++) { pc_table[2 * i] = 0x10000000u + i; pc_table[2 * i + 1] = 0; }
  __sanitizer_cov_8bit_counters_init(counters, counters + MAP_SIZE);
  __sanitizer_cov_pcs_init(pc_table, pc_table + 2 * MAP_SIZE);
}

static uint8_t *shm;
static int ctl_fd = -1, st_fd = -1;
static pid_t child = -1;
static const char *target_path;
static char *target_argv[MAX_ARGS + 2];

static void die(const char *what) {
  fprintf(stderr, "libfuzzer-dotnet: %s\n", what);
  exit(1);
}

static int write_all(int fd, const void *p, size_t n) {
  const uint8_t *b = p;
  while (n > 0) {
    ssize_t w = write(fd, b, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    b += w; n -= (size_t)w;
  }
  return 0;
}

static int read_all(int fd, void *p, size_t n) {
  uint8_t *b = p;
  while (n > 0) {
    ssize_t r = read(fd, b, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    b += r; n -= (size_t)r;
  }
  return 0;
}

static void add_arg(int *argc, const char *a) {
  if (*argc >= MAX_ARGS) die("too many --target_arg");
  target_argv[(*argc)++] = strdup(a);
}

static void parse_args(int argc, char **argv) {
  int n = 1;  // target_argv[0] is the path
  for (int i = 1; i < argc; i++) {
    if (strncmp(argv[i], "--target_path=", 14) == 0) target_path = argv[i] + 14;
    else if (strncmp(argv[i], "--target_arg=", 13) == 0) add_arg(&n, argv[i] + 13);
  }
  if (!target_path) target_path = getenv("LIBFUZZER_DOTNET_TARGET");
  if (n == 1 && getenv("LIBFUZZER_DOTNET_ARGS")) {
    char *copy = strdup(getenv("LIBFUZZER_DOTNET_ARGS")), *save = NULL;
    for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) add_arg(&n, t);
  }
  if (!target_path || !*target_path)
    die("no target: pass --target_path=PROGRAM [--target_arg=ARG]... (or set LIBFUZZER_DOTNET_TARGET)");
  target_argv[0] = (char *)target_path;
  target_argv[n] = NULL;
}

static void report_child_death(void) {
  int status = 0;
  if (child > 0 && waitpid(child, &status, 0) == child) {
    if (WIFSIGNALED(status))
      fprintf(stderr, "libfuzzer-dotnet: the .NET target (pid %d) died with signal %d\n", (int)child, WTERMSIG(status));
    else if (WIFEXITED(status))
      fprintf(stderr, "libfuzzer-dotnet: the .NET target (pid %d) exited with code %d\n", (int)child, WEXITSTATUS(status));
  } else {
    fprintf(stderr, "libfuzzer-dotnet: lost the .NET target (pid %d)\n", (int)child);
  }
  child = -1;
}

static void start_target(void) {
  int shm_id = shmget(IPC_PRIVATE, MAP_SIZE + MAX_INPUT, IPC_CREAT | IPC_EXCL | 0600);
  if (shm_id < 0) die("shmget failed");
  shm = shmat(shm_id, NULL, 0);
  if (shm == (void *)-1) { shmctl(shm_id, IPC_RMID, NULL); die("shmat failed"); }
  int ctl[2], st[2];
  if (pipe(ctl) != 0 || pipe(st) != 0) die("pipe failed");
  // Our ends must not leak into the child: it would then never see end-of-file on the control pipe.
  fcntl(ctl[1], F_SETFD, FD_CLOEXEC);
  fcntl(st[0], F_SETFD, FD_CLOEXEC);
  pid_t parent = getpid();
  child = fork();
  if (child < 0) die("fork failed");
  if (child == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    char buf[32];
    snprintf(buf, sizeof buf, "%d", shm_id); setenv("__LIBFUZZER_SHM_ID", buf, 1);
    snprintf(buf, sizeof buf, "%d", ctl[0]); setenv("__LIBFUZZER_CONTROL_PIPE_ID", buf, 1);
    snprintf(buf, sizeof buf, "%d", st[1]); setenv("__LIBFUZZER_STATUS_PIPE_ID", buf, 1);
    execv(target_path, target_argv);
    fprintf(stderr, "libfuzzer-dotnet: cannot execute %s: %s\n", target_path, strerror(errno));
    _exit(127);
  }
  close(ctl[0]); close(st[1]);
  ctl_fd = ctl[1]; st_fd = st[0];
  signal(SIGPIPE, SIG_IGN);
  int32_t hello;
  int ok = read_all(st_fd, &hello, sizeof hello) == 0;
  // Attached by both (or the child is gone): the segment goes away with the last detach, never leaks.
  shmctl(shm_id, IPC_RMID, NULL);
  if (!ok) { report_child_death(); die("the .NET target did not start (does it call SharpFuzz.Fuzzer.LibFuzzer.Run?)"); }
  if (hello != 0) die("the .NET target sent an unexpected hello");
  fprintf(stderr, "libfuzzer-dotnet: started %s (pid %d), map %u bytes\n", target_path, (int)child, MAP_SIZE);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  parse_args(*argc, *argv);
  start_target();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (child < 0) die("the .NET target is not running");
  if (size > MAX_INPUT) size = MAX_INPUT;
  memset(shm, 0, MAP_SIZE);
  if (size) memcpy(shm + MAP_SIZE, data, size);
  int32_t n = (int32_t)size, status;
  if (write_all(ctl_fd, &n, sizeof n) != 0 || read_all(st_fd, &status, sizeof status) != 0) {
    // Stack overflow, Environment.FailFast, a native crash: the process is gone without a status.
    report_child_death();
    abort();
  }
  if (status != 0) {
    fprintf(stderr, "libfuzzer-dotnet: the .NET target reported a crash (status %d; its exception is above)\n", (int)status);
    abort();
  }
  memcpy(counters, shm, MAP_SIZE);
  return 0;
}
