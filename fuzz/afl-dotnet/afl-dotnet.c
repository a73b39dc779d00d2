/*
 * afl-dotnet: the AFL++ entry of one .NET fuzz target in a ClusterFuzzLite/OSS-Fuzz $OUT (docs/FUZZING.md,
 * "ClusterFuzzLite"). ClusterFuzzLite finds fuzzers as executables carrying the LLVMFuzzerTestOneInput marker, and
 * afl-fuzz refuses a target that is a shell script or lacks the __AFL_SHM_ID marker; this small native file carries
 * both and replaces itself (execv) with the .NET runtime running the SharpFuzz host, which speaks AFL++'s fork-server
 * protocol itself (SharpFuzz's Fuzzer.OutOfProcess.Run on the inherited fds 198/199 and __AFL_SHM_ID).
 *
 * Built once per target by .clusterfuzzlite/build.sh with -DSB_TARGET="name" -DSB_COPY="folder": at run time it
 * finds, beside itself, dotnet/runtime/dotnet and dotnet/SB_COPY/StreamBench.Fuzz.Targets.SharpFuzz.dll, and sets
 * FUZZ_TARGET and DOTNET_ROOT. Arguments are passed on, so `NAME FILE...` runs each file once (how ClusterFuzzLite
 * reproduces a crash).
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef SB_TARGET
#error "build with -DSB_TARGET=\"name\""
#endif
#ifndef SB_COPY
#define SB_COPY SB_TARGET
#endif

/* The markers the tools look for in the file (kept: the program prints them in its usage line). */
static const char markers[] = "LLVMFuzzerTestOneInput __AFL_SHM_ID";

int main(int argc, char **argv)
{
    char self[PATH_MAX], dir[PATH_MAX], dotnet[PATH_MAX], root[PATH_MAX], dll[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        fprintf(stderr, "afl-dotnet (%s): cannot read /proc/self/exe: %s\n", SB_TARGET, strerror(errno));
        return 2;
    }
    self[n] = '\0';
    snprintf(dir, sizeof dir, "%s", dirname(self));
    if (snprintf(root, sizeof root, "%s/dotnet/runtime", dir) >= (int)sizeof root
        || snprintf(dotnet, sizeof dotnet, "%s/dotnet", root) >= (int)sizeof dotnet
        || snprintf(dll, sizeof dll, "%s/dotnet/%s/StreamBench.Fuzz.Targets.SharpFuzz.dll", dir, SB_COPY) >= (int)sizeof dll) {
        fprintf(stderr, "afl-dotnet (%s): path too long under %s\n", SB_TARGET, dir);
        return 2;
    }
    if (argc > 1 && strcmp(argv[1], "--help") == 0) {
        printf("%s: .NET fuzz target %s for afl-fuzz (%s)\nusage: %s [FILE...]\n", argv[0], SB_TARGET, markers, argv[0]);
        return 0;
    }
    setenv("DOTNET_ROOT", root, 1);
    setenv("FUZZ_TARGET", SB_TARGET, 1);
    unsetenv("FUZZ_LIBFUZZER");
    char **args = calloc((size_t)argc + 2, sizeof *args);
    if (args == NULL) return 2;
    args[0] = dotnet;
    args[1] = dll;
    for (int i = 1; i < argc; i++) args[i + 1] = argv[i];
    execv(dotnet, args);
    fprintf(stderr, "afl-dotnet (%s): cannot run %s: %s\n", SB_TARGET, dotnet, strerror(errno));
    return 2;
}
