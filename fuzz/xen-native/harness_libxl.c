/*
 * StreamBench xen-native harness (b): Xen's own libxl stream reader (libxl_stream_read.c, with libxl's datacopier
 * and emulator-xenstore code) over a libxl stream, its LIBXC_CONTEXT record handed to Xen's xc_domain_restore()
 * against the fake hypervisor of fake_xen.c, driven by the single-threaded event loop of fake_libxl.c.
 *
 * The input is a libxl stream from its header on (the part `xl restore` hands to libxl after xl's own header); an
 * input that does not start with the libxl header is a COLO back channel instead, read as a COLO primary reads it
 * (fxl_back_channel: CHECKPOINT_STATE records through libxl's reader, libxc's dirty pfn lists between); back
 * channels that reach the known findings XL-2..4 are not run under libFuzzer unless XEN_NATIVE_LIBXL_KNOWN is set
 * (each would end a libFuzzer job at once, the empty input first of all). The
 * guest type libxl would take from the domain config is taken from the libxc domain header (HVM and PVH streams as
 * HVM, so EMULATOR_* records are accepted); the stream is restored as a Remus stream (LIBXL_CHECKPOINTED_STREAM_REMUS,
 * `xl migrate-receive -r`) when its libxc part holds a CHECKPOINT record, else as a plain one. Both are deterministic
 * functions of the input, so every input replays.
 *
 * Built with -fsanitize=fuzzer it is the libFuzzer target xen-native-libxl (LLVMFuzzerTestOneInput); with
 * -DXEN_NATIVE_STANDALONE it is the command-line tool xen-native-libxl-run for the good-stream test, triage, seeds:
 *   harness run [--plain|--checkpointed|--back-channel] [-v|-vv] [--dump FILE] [--emulator FILE] STREAM...
 *       restore each (xl or libxl file: the libxl part is found by its header); one result line each; exit 1 if any
 *       was refused. --dump: the fake domain's memory as harness_libxc.c writes it; --emulator: keep the emulator
 *       context file libxl wrote (what QEMU would load); --back-channel: each file is a COLO back channel;
 *       --as-fuzzer: each file is taken as the libFuzzer target takes its input (a libxl stream if it starts with
 *       the libxl header, else a back channel; no search, no filter), for coverage.sh and triage
 *   harness extract IN OUT                                  write the libxl part of IN (a fuzz seed)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake_xen.h"
#include "fake_libxl.h"

/* libxl's stream header ident (libxl_sr_stream_format.h: RESTORE_STREAM_IDENT, big-endian "LibxlFmt") and
 * libxc's image header marker (xg_sr_stream_format.h: IHDR_MARKER then "XENF"). */
static const uint8_t libxl_ident[8] = { 'L', 'i', 'b', 'x', 'l', 'F', 'm', 't' };
static const uint8_t libxc_ident[12] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 'X', 'E', 'N', 'F' };

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The guest type and the checkpointing of the libxc part: its domain header (type 2 = HVM) and whether a libxc
 * CHECKPOINT record (type 0x0e) comes before the libxc END record. */
static void classify(const uint8_t *d, size_t n, int *hvm, int *remus)
{
    *hvm = 0;
    *remus = 0;
    const uint8_t *p = memmem(d, n, libxc_ident, sizeof(libxc_ident));
    if ( !p )
        return;
    size_t off = (size_t)(p - d), left = n - off;
    if ( left >= 28 )
        *hvm = le32(p + 24) == 2;
    size_t pos = 24 + 16;   /* image header, domain header */
    while ( pos + 8 <= left )
    {
        uint32_t type = le32(p + pos), len = le32(p + pos + 4);
        if ( type == 0x0e )
        {
            *remus = 1;
            return;
        }
        if ( type == 0 )
            return;
        uint64_t next = pos + 8 + (((uint64_t)len + 7) & ~7ULL);
        if ( next > left )
            return;
        pos = (size_t)next;
    }
}

static int input_fd = -1;
static struct fxl_result result;
static int last_remus;

static void load_input(const uint8_t *data, size_t size)
{
    if ( input_fd < 0 )
    {
        input_fd = memfd_create("xen-native-libxl-input", 0);
        if ( input_fd < 0 )
            abort();
    }
    if ( ftruncate(input_fd, 0) || lseek(input_fd, 0, SEEK_SET) != 0 )
        abort();
    size_t done = 0;
    while ( done < size )
    {
        ssize_t w = write(input_fd, data + done, size - done);
        if ( w <= 0 )
            abort();
        done += (size_t)w;
    }
    lseek(input_fd, 0, SEEK_SET);
}

static int back_channel_buffer(const uint8_t *data, size_t size)
{
    load_input(data, size);
    fx_init();   /* the allocation cap (campaign mode) applies to libxl's reads of the back channel too */
    return fxl_back_channel(input_fd, &result);
}

static int restore_buffer(const uint8_t *data, size_t size, int force_mode)
{
    load_input(data, size);
    int hvm, remus;
    classify(data, size, &hvm, &remus);
    if ( force_mode >= 0 )
        remus = force_mode;
    last_remus = remus;
    fx_init();
    fx_reset(hvm);
    return fxl_restore(input_fd, hvm, remus ? FXL_REMUS : FXL_PLAIN, &result);
}

#ifndef XEN_NATIVE_STANDALONE

/* Whether a back channel reaches one of the known findings XL-2..4 (docs/FUZZING.md), following the records as
 * fxl_back_channel() will: libxl reads a header (zero-padded at the end of the input), END is XL-3, EMULATOR_* and
 * LIBXC_CONTEXT are XL-4, an empty CHECKPOINT_STATE is XL-2; another type, a truncated body or an unexpected state
 * ends the channel; after SVM_SUSPENDED comes libxc's dirty pfn list; the primary stops at the end of the input. */
static int back_channel_reaches_known(const uint8_t *d, size_t n)
{
    for ( size_t pos = 0, first = 1; first || pos < n; first = 0 )
    {
        uint8_t h[8] = { 0 };
        memcpy(h, d + pos, n - pos < 8 ? n - pos : 8);
        uint32_t type = le32(h), len = le32(h + 4);
        if ( type == 0 || (type >= 1 && type <= 3) || (type == 5 && len == 0) )
            return 1;
        if ( type != 5 )
            return 0;
        uint64_t next = pos + 8 + (((uint64_t)len + 7) & ~7ULL);
        if ( next > n )
            return 0;
        uint32_t id = le32(d + pos + 8);
        pos = (size_t)next;
        if ( id == 1 )
        {
            if ( pos + 8 > n || le32(d + pos) != 0x0f || le32(d + pos + 4) % 8 || pos + 8 + le32(d + pos + 4) > n )
                return 0;
            pos += 8 + le32(d + pos + 4);
        }
        else if ( id != 2 && id != 3 )
            return 0;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int run_known = -1;
    if ( run_known < 0 )
        run_known = getenv("XEN_NATIVE_LIBXL_KNOWN") != NULL;
    if ( size >= sizeof(libxl_ident) && !memcmp(data, libxl_ident, sizeof(libxl_ident)) )
        restore_buffer(data, size, -1);
    else if ( run_known || !back_channel_reaches_known(data, size) )
        back_channel_buffer(data, size);
    return 0;
}

#else

static const uint8_t *find_libxl(const uint8_t *d, size_t n, size_t *off)
{
    const uint8_t *p = memmem(d, n, libxl_ident, sizeof(libxl_ident));
    if ( !p )
        return NULL;
    *off = (size_t)(p - d);
    return p;
}

int main(int argc, char **argv)
{
    if ( argc == 4 && !strcmp(argv[1], "extract") )
        return fx_extract(argv[2], argv[3], libxl_ident, sizeof(libxl_ident), "libxl stream header");
    if ( argc < 3 || strcmp(argv[1], "run") )
    {
        fprintf(stderr, "usage: %s run [--plain|--checkpointed|--back-channel|--as-fuzzer] [-v|-vv] [--dump FILE] "
                        "[--emulator FILE] "
                        "STREAM...\n"
                        "       %s extract IN OUT\n",
                argv[0], argv[0]);
        return 2;
    }
    int i = 2, bad = 0, force_mode = -1, back = 0, as_fuzzer = 0;
    const char *dump = NULL, *emu_out = NULL;
    for ( ; i < argc && argv[i][0] == '-'; i++ )
    {
        if ( !strcmp(argv[i], "--checkpointed") )
            force_mode = 1;
        else if ( !strcmp(argv[i], "--plain") )
            force_mode = 0;
        else if ( !strcmp(argv[i], "--back-channel") )
            back = 1;
        else if ( !strcmp(argv[i], "--as-fuzzer") )
            as_fuzzer = 1;
        else if ( !strcmp(argv[i], "-v") )
            fxl_set_verbose(1);
        else if ( !strcmp(argv[i], "-vv") )
            fxl_set_verbose(2);
        else if ( !strcmp(argv[i], "--dump") && i + 1 < argc )
            dump = argv[++i];
        else if ( !strcmp(argv[i], "--emulator") && i + 1 < argc )
            emu_out = argv[++i];
        else
            return fprintf(stderr, "unknown option %s\n", argv[i]), 2;
    }
    char emu[256];
    snprintf(emu, sizeof(emu), "%s/qemu-resume.%u", FXL_SCRATCH_DIR, FX_DOMID);
    for ( ; i < argc; i++ )
    {
        size_t n, off;
        uint8_t *d = fx_load_file(argv[i], &n);
        if ( !d )
        {
            fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
            return 2;
        }
        if ( as_fuzzer && n >= sizeof(libxl_ident) && !memcmp(d, libxl_ident, sizeof(libxl_ident)) )
            ;   /* a libxl stream from its first byte: restored below */
        else if ( back || as_fuzzer )
        {
            int rc = back_channel_buffer(d, n);
            printf("%s: %s: back channel, %lu checkpoint states, %lu dirty pfn lists%s%s\n", argv[i],
                   rc ? "rejected" : "ok", result.states, result.dirty_lists, rc ? ": " : "",
                   rc ? (result.last_error[0] ? result.last_error : "(no message)") : "");
            bad |= rc != 0;
            free(d);
            continue;
        }
        const uint8_t *p = find_libxl(d, n, &off);
        if ( !p )
        {
            printf("%s: rejected: no libxl stream header\n", argv[i]);
            bad = 1;
            free(d);
            continue;
        }
        unlink(emu);
        int rc = restore_buffer(p, n - off, force_mode);
        struct stat st;
        long long emu_bytes = stat(emu, &st) ? -1 : (long long)st.st_size;
        if ( rc == 0 && result.completed )
            printf("%s: ok: %s %s stream, libxc %s, %lu pages populated, %lu checkpoints, %lu emulator xenstore keys, "
                   "emulator context %lld bytes, %lu fd events\n",
                   argv[i], last_remus ? "remus" : "plain", fx.hvm ? "hvm" : "pv",
                   result.libxc_started ? "restored" : "not reached", fx.nr_populated, result.checkpoints,
                   result.xenstore_keys, emu_bytes < 0 ? 0 : emu_bytes, result.events);
        else
        {
            printf("%s: rejected: %s stream, rc %d: %s%s%s%s%s\n", argv[i], last_remus ? "remus" : "plain", rc,
                   result.last_error[0] ? result.last_error : "(no message)",
                   result.libxc_started && result.libxc_retval ? "; libxc: " : "",
                   result.libxc_started && result.libxc_retval ? (fx.last_error[0] ? fx.last_error : "failed") : "",
                   fx.hypervisor_note[0] ? "; hypervisor: " : "", fx.hypervisor_note);
            bad = 1;
        }
        if ( rc == 0 && dump && fx_dump_memory(dump) )
            return fprintf(stderr, "%s: %s\n", dump, strerror(errno)), 2;
        if ( emu_out && emu_bytes >= 0 && rename(emu, emu_out) )
            return fprintf(stderr, "%s: %s\n", emu_out, strerror(errno)), 2;
        free(d);
    }
    unlink(emu);
    return bad;
}

#endif
