/*
 * StreamBench xen-native harness (a)/(c): Xen's own xc_domain_restore() over a libxc stream, against the fake
 * hypervisor of fake_xen.c.
 *
 *   xen-native-libxc        plain stream (XC_STREAM_PLAIN), the guest type taken from the stream's domain header
 *   xen-native-checkpoint   checkpointed stream (XC_STREAM_REMUS): after each libxc CHECKPOINT the callback reads
 *                           the libxl checkpoint records (EMULATOR_*, up to CHECKPOINT_END) as libxl's checkpoint
 *                           callback does; the end of the input is a failover.
 *   xen-native-colo         the COLO secondary (XC_STREAM_COLO): as the checkpoint target, and after each checkpoint
 *                           restore resumes the guest (stream_complete, restore_results, postcopy), waits for the next
 *                           checkpoint (wait_checkpoint reads the libxl CHECKPOINT_STATE record that must say
 *                           CHECKPOINT_NEW, as libxl's COLO restore does), suspends it and writes its dirty pfn list
 *                           to the back channel (here /dev/null). A read that fails is a failover (libxl answers 2).
 *
 * Built with -fsanitize=fuzzer it is a libFuzzer target (LLVMFuzzerTestOneInput); with -DXEN_NATIVE_STANDALONE it
 * is a command-line tool for the good-stream test, triage and seeds:
 *   harness run [--checkpointed|--colo] [--as-fuzzer] [--dump FILE] STREAM...   restore each (xl, libxl or libxc file; the libxc part is
 *                                                         found by its image header); one result line each
 *   harness extract IN OUT                                 write the libxc part of IN (a fuzz seed)
 * The dump is, for every populated pfn in ascending order, u64 pfn (little-endian) then the 4096 bytes of the page.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "xenctrl.h"
#include "xenguest.h"

#include "fake_xen.h"

#ifndef XEN_NATIVE_CHECKPOINTED
#define XEN_NATIVE_CHECKPOINTED 0
#endif
#ifndef XEN_NATIVE_COLO
#define XEN_NATIVE_COLO 0
#endif

static int checkpointed = XEN_NATIVE_CHECKPOINTED || XEN_NATIVE_COLO;
static int colo = XEN_NATIVE_COLO;
/* 1: libxl records sit between the checkpoints (an xl/libxl stream); 0: a bare libxc checkpointed stream. */
static int libxl_framed = 1;
static unsigned long checkpoints;

/* libxl record framing: u32 type, u32 length, body, zero padding to 8. */
static int skip_exact(int fd, uint64_t n)
{
    char buf[4096];
    while ( n )
    {
        size_t chunk = n < sizeof(buf) ? (size_t)n : sizeof(buf);
        ssize_t r = read(fd, buf, chunk);
        if ( r <= 0 )
            return -1;
        n -= (uint64_t)r;
    }
    return 0;
}

/* The libxl side of a checkpoint, as libxl's checkpoint callback reads it: EMULATOR_XENSTORE_DATA and
 * EMULATOR_CONTEXT records (skipped here), then CHECKPOINT_END. End of input: failover. */
static int cb_checkpoint(void *data)
{
    int fd = *(int *)data;
    if ( !libxl_framed )
    {
        checkpoints++;
        return XGR_CHECKPOINT_SUCCESS;
    }
    for ( ;; )
    {
        uint32_t hdr[2];
        ssize_t r = read(fd, hdr, sizeof(hdr));
        if ( r != (ssize_t)sizeof(hdr) )
            return XGR_CHECKPOINT_FAILOVER;
        uint64_t body = ((uint64_t)hdr[1] + 7) & ~7ULL;
        switch ( hdr[0] )
        {
        case 2: /* EMULATOR_XENSTORE_DATA */
        case 3: /* EMULATOR_CONTEXT */
            if ( skip_exact(fd, body) )
                return XGR_CHECKPOINT_FAILOVER;
            continue;
        case 4: /* CHECKPOINT_END */
            if ( hdr[1] != 0 )
                return XGR_CHECKPOINT_ERROR;
            checkpoints++;
            return XGR_CHECKPOINT_SUCCESS;
        default:
            return XGR_CHECKPOINT_ERROR;
        }
    }
}

/* COLO (libxl_colo_restore.c): every callback answers 1 (done), 2 (failover: libxl's answer to a read that fails) or
 * 0 (error). Resume and suspend have nothing to do in the fake; waiting for a checkpoint reads one libxl record. */
static int cb_colo_ok(void *data)
{
    (void)data;
    return 1;
}

static void cb_colo_results(xen_pfn_t store_gfn, xen_pfn_t console_gfn, void *data)
{
    (void)store_gfn; (void)console_gfn; (void)data;
}

static int cb_colo_wait_checkpoint(void *data)
{
    int fd = *(int *)data;
    if ( !libxl_framed )
        return 1;
    uint32_t hdr[2], id;
    if ( read(fd, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr) )
        return 2;
    if ( hdr[0] != 5 /* CHECKPOINT_STATE */ || hdr[1] != sizeof(id) )
        return 0;   /* libxl takes any other record here as a stream error */
    uint64_t pad = 0;
    if ( read(fd, &id, sizeof(id)) != (ssize_t)sizeof(id) || read(fd, &pad, 4) != 4 )
        return 2;
    return id == 0 /* CHECKPOINT_NEW */ ? 1 : 0;
}

static int colo_back_fd = -1;

static int cb_static_data_done(unsigned int missing, void *data)
{
    (void)missing; (void)data;
    return 0;
}

/* The domain is created as the stream says (libxl creates it from the config before restoring). */
static int stream_is_hvm(const uint8_t *d, size_t n)
{
    uint32_t type = 0;
    if ( n >= 28 )
        memcpy(&type, d + 24, 4);
    return type == 2 /* DHDR_TYPE_X86_HVM */;
}

static int restore_fd(int fd, int hvm, int *fd_for_cb)
{
    xc_interface *xch = (xc_interface *)fx_init();
    fx_reset(hvm);
    checkpoints = 0;
    struct restore_callbacks cbs = {
        .static_data_done = cb_static_data_done,
        .checkpoint = cb_checkpoint,
        .data = fd_for_cb,
    };
    if ( colo )
    {
        cbs.suspend = cb_colo_ok;
        cbs.postcopy = cb_colo_ok;
        cbs.wait_checkpoint = cb_colo_wait_checkpoint;
        cbs.restore_results = cb_colo_results;
        if ( colo_back_fd < 0 && (colo_back_fd = open("/dev/null", O_WRONLY)) < 0 )
            abort();
    }
    unsigned long store_mfn = 0, console_gfn = 0;
    *fd_for_cb = fd;
    return xc_domain_restore(xch, fd, FX_DOMID, 1, &store_mfn, 0, 2, &console_gfn, 0,
                             colo ? XC_STREAM_COLO : checkpointed ? XC_STREAM_REMUS : XC_STREAM_PLAIN, &cbs,
                             colo ? colo_back_fd : -1);
}

static int input_fd = -1;

static int restore_buffer(const uint8_t *data, size_t size)
{
    if ( input_fd < 0 )
    {
        input_fd = memfd_create("xen-native-input", 0);
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
    int cbfd;
    return restore_fd(input_fd, stream_is_hvm(data, size), &cbfd);
}

#ifndef XEN_NATIVE_STANDALONE

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    restore_buffer(data, size);
    return 0;
}

#else

static const uint8_t libxc_ident[12] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 'X', 'E', 'N', 'F' };

static const uint8_t *find_libxc(const uint8_t *d, size_t n, size_t *off)
{
    const uint8_t *p = memmem(d, n, libxc_ident, sizeof(libxc_ident));
    if ( !p )
        return NULL;
    *off = (size_t)(p - d);
    return p;
}

int main(int argc, char **argv)
{
    if ( argc == 4 && !strcmp(argv[1], "extract") )
        return fx_extract(argv[2], argv[3], libxc_ident, sizeof(libxc_ident), "libxc image header");
    if ( argc < 3 || strcmp(argv[1], "run") )
    {
        fprintf(stderr, "usage: %s run [--checkpointed|--colo] [--as-fuzzer] [--dump FILE] STREAM...\n       %s extract IN OUT\n",
                argv[0], argv[0]);
        return 2;
    }
    const char *dump = NULL;
    int i = 2, bad = 0, as_fuzzer = 0;
    for ( ; i < argc && argv[i][0] == '-'; i++ )
    {
        if ( !strcmp(argv[i], "--checkpointed") )
            checkpointed = 1;
        else if ( !strcmp(argv[i], "--colo") )
            checkpointed = colo = 1;
        else if ( !strcmp(argv[i], "--as-fuzzer") )
            as_fuzzer = 1;   /* each file whole, libxl records between checkpoints: as the libFuzzer targets take it */
        else if ( !strcmp(argv[i], "--dump") && i + 1 < argc )
            dump = argv[++i];
        else
            return fprintf(stderr, "unknown option %s\n", argv[i]), 2;
    }
    for ( ; i < argc; i++ )
    {
        size_t n, off;
        uint8_t *d = fx_load_file(argv[i], &n);
        if ( !d )
        {
            fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
            return 2;
        }
        off = 0;
        const uint8_t *p = as_fuzzer ? d : find_libxc(d, n, &off);
        if ( !p )
        {
            printf("%s: rejected: no libxc image header\n", argv[i]);
            bad = 1;
            free(d);
            continue;
        }
        libxl_framed = as_fuzzer || off > 0;
        int rc = restore_buffer(p, n - off);
        if ( rc == 0 )
            printf("%s: ok: %s, %lu pages populated, %lu vcpu contexts, %lu pins, %lu hvm params, %s%lu checkpoints, "
                   "store gfn %#llx, console gfn %#llx\n",
                   argv[i], fx.hvm ? "hvm" : (fx.guest_width == 4 ? "pv32" : "pv64"), fx.nr_populated,
                   fx.vcpus_set, fx.pins, fx.params_set, fx.hvm_context_loaded ? "hvm context loaded, " : "",
                   checkpoints, (unsigned long long)fx.xenstore_gfn, (unsigned long long)fx.console_gfn);
        else
        {
            printf("%s: rejected: %s%s%s\n", argv[i], fx.last_error[0] ? fx.last_error : "(no message)",
                   fx.hypervisor_note[0] ? "; hypervisor: " : "", fx.hypervisor_note);
            bad = 1;
        }
        if ( rc == 0 && dump && fx_dump_memory(dump) )
            return fprintf(stderr, "%s: %s\n", dump, strerror(errno)), 2;
        free(d);
    }
    return bad;
}

#endif
