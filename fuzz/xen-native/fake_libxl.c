/*
 * StreamBench xen-native: the fake libxl around Xen's own, unmodified libxl_stream_read.c (harness (b)).
 *
 * Linked as-is from Debian's Xen 4.17 source (build.sh): libxl_stream_read.c (the code under test),
 * libxl_aoutils.c (the datacopier that reads records off the fd and writes the emulator context file),
 * libxl_dom_save.c (libxl__restore_emulator_xenstore_data), libxl_internal.c (the GC, allocators, logging) and
 * toollog's xtl_core.c. This file is the rest of libxl that those reach on the restore-stream path, each with the
 * behaviour libxl has (docs/FUZZING.md, "Harness (b)", lists them):
 *
 *  - a single-threaded event loop: libxl__ev_fd_register/modify/deregister keep a small table; fxl_run() polls it
 *    (the input is a memfd or a file, always ready) and dispatches one callback at a time, as libxl's poller does
 *    after the initiating call has returned. No callback ever runs inside the call that registered it, so
 *    libxl_stream_read.c's recursion guard sees what it sees under libxl.
 *  - ao/egc: one ao whose GC is libxl's real mini-GC (freed after every input); libxl__ao_inprogress_gc returns it;
 *    libxl__ao_abortable_register/deregister only mark the abortable (nothing aborts the ao from outside).
 *  - libxl__xc_domain_restore: instead of forking libxl-save-helper, queues Xen's xc_domain_restore() (the
 *    libxenguest restore code built against fake_xen.c) on the loop; the "helper" is in use until it returns, then
 *    libxl__xc_domain_restore_done() gets rc 0 and its retval/errno, as helper_done() passes them.
 *  - Remus: the libxc checkpoint callback does what libxl_remus.c's restore callback does
 *    (libxl__stream_read_start_checkpoint) and runs the loop until the stream's checkpoint_callback reports; its
 *    value (XGR_CHECKPOINT_SUCCESS/FAILOVER/ERROR) goes back to libxc, as remus_checkpoint_stream_done sends it.
 *  - libxl__save_helper_abort: the restore runs in-process and cannot be killed; the abort is remembered, later
 *    checkpoints answer XGR_CHECKPOINT_ERROR, and the completion then carries ERROR_FAIL (the killed helper's).
 *  - libxl__xs_printf (the xenstore writes of EMULATOR_XENSTORE_DATA): counted, not stored; libxl_get_stubdom_id: 0.
 *  - carefd: a box around the fd; close closes it.
 *  - legacy conversion (libxl__convert_legacy_stream): not run (it execs Xen's python convert-legacy-stream);
 *    the harness restores v2 streams only, so it returns ERROR_FAIL if reached.
 * Everything else libxl_internal.c, libxl_aoutils.c and libxl_dom_save.c refer to is in fake_libxl_stubs.c and
 * aborts, naming itself, if it is ever reached.
 */
#include "libxl_osdeps.h"
#include "libxl_internal.h"

#include <setjmp.h>
#include <sys/stat.h>

#include "fake_xen.h"
#include "fake_libxl.h"

static int verbose;
static libxl_ctx ctx;
static libxl__ao the_ao;
static libxl__egc the_egc;
static libxl_domain_config config;
static libxl__domain_create_state dcs;
static struct fxl_result *res;
static int initialised;
static void init_once(void);

void fxl_set_verbose(int level)
{
    verbose = level;
}

/*----- logging: libxl__log (libxl_internal.c) -> xtl_log (xtl_core.c) -> here -----*/

static void fxl_vmessage(struct xentoollog_logger *lg, xentoollog_level level, int errnoval, const char *context,
                         const char *format, va_list al)
{
    (void)lg;
    char buf[512];
    vsnprintf(buf, sizeof(buf), format, al);
    /* libxl prefixes its messages with __FILE__: keep the path from tools/ on (the source folder is the machine's). */
    const char *msg = strstr(buf, "/tools/libs/");
    msg = msg ? msg + 1 : buf;
    if ( level >= XTL_ERROR && res )
        snprintf(res->last_error, sizeof(res->last_error), "%s%s%s", msg, errnoval > 0 ? ": " : "",
                 errnoval > 0 ? strerror(errnoval) : "");
    if ( verbose >= 2 || (verbose >= 1 && level >= XTL_ERROR) )
        fprintf(stderr, "[%s] %s: %s\n", xtl_level_to_string(level), context ? context : "?", msg);
}

static void fxl_progress(struct xentoollog_logger *lg, const char *context, const char *doing_what, int percent,
                         unsigned long done, unsigned long total)
{
    (void)lg; (void)context; (void)doing_what; (void)percent; (void)done; (void)total;
}

static void fxl_destroy(struct xentoollog_logger *lg)
{
    (void)lg;
}

static xentoollog_logger logger = { fxl_vmessage, fxl_progress, fxl_destroy };

/*----- ao, egc, abortables -----*/

libxl__gc *libxl__ao_inprogress_gc(libxl__ao *ao)
{
    assert(ao == &the_ao);
    return &ao->gc;
}

int libxl__ao_abortable_register(libxl__ao_abortable *abrt)
{
    abrt->registered = 1;
    return 0;
}

void libxl__ao_abortable_deregister(libxl__ao_abortable *abrt)
{
    abrt->registered = 0;
}

void libxl__event_disaster(libxl__gc *gc, const char *msg, int errnoval, libxl_event_type type, const char *file,
                           int line, const char *func)
{
    (void)gc; (void)type; (void)file; (void)line; (void)func;
    fprintf(stderr, "fake_libxl: libxl event disaster: %s (errno %d)\n", msg, errnoval);
    abort();
}

/*----- the event loop: libxl__ev_fd -----*/

#define FXL_MAX_EV 8
static libxl__ev_fd *evs[FXL_MAX_EV];
static int nevs;

int libxl__ev_fd_register(libxl__gc *gc, libxl__ev_fd *ev, libxl__ev_fd_callback *func, int fd, short events)
{
    (void)gc;
    if ( nevs == FXL_MAX_EV )
        return ERROR_FAIL;
    ev->fd = fd;
    ev->events = events;
    ev->func = func;
    evs[nevs++] = ev;
    return 0;
}

int libxl__ev_fd_modify(libxl__gc *gc, libxl__ev_fd *ev, short events)
{
    (void)gc;
    ev->events = events;
    return 0;
}

void libxl__ev_fd_deregister(libxl__gc *gc, libxl__ev_fd *ev)
{
    (void)gc;
    for ( int i = 0; i < nevs; i++ )
        if ( evs[i] == ev )
        {
            evs[i] = evs[--nevs];
            break;
        }
    libxl__ev_fd_init(ev);
}

static int ev_registered(const libxl__ev_fd *ev)
{
    for ( int i = 0; i < nevs; i++ )
        if ( evs[i] == ev )
            return 1;
    return 0;
}

static int pending_restore;   /* libxl__xc_domain_restore queued, not yet run */
static int helper_abort_rc;   /* libxl__save_helper_abort's rc while the in-process "helper" ran */
static void run_libxc(void);

/* Read events dispatched in a row on an fd at its end (see XL-6 in fxl_run). */
#define FXL_EOF_SPIN 1000
static int eof_reads;

static int at_eof(int fd)
{
    struct stat st;
    off_t pos = lseek(fd, 0, SEEK_CUR);
    if ( pos < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) )
        return 0;
    if ( pos < st.st_size )
    {
        eof_reads = 0;
        return 0;
    }
    return 1;
}

/* Runs events until *flag is set. Returns -1 when nothing is left to wait for (libxl would wait forever). */
static int fxl_run(const int *flag)
{
    while ( !*flag )
    {
        if ( pending_restore )
        {
            run_libxc();
            continue;
        }
        if ( nevs == 0 )
            return -1;
        struct pollfd p[FXL_MAX_EV];
        libxl__ev_fd *snap[FXL_MAX_EV];
        int n = nevs;
        for ( int i = 0; i < n; i++ )
        {
            snap[i] = evs[i];
            p[i].fd = evs[i]->fd;
            p[i].events = evs[i]->events;
            p[i].revents = 0;
        }
        int r = poll(p, (nfds_t)n, 0);
        if ( r < 0 && errno == EINTR )
            continue;
        if ( r <= 0 )
            return -1;   /* a memfd or file never blocks: nothing ready means a stall */
        for ( int i = 0; i < n; i++ )
        {
            if ( !p[i].revents || !ev_registered(snap[i]) )
                continue;
            res->events++;
            if ( (snap[i]->events & POLLIN) && at_eof(snap[i]->fd) && ++eof_reads > FXL_EOF_SPIN )
            {
                /* Finding XL-6 (docs/FUZZING.md): in a Remus checkpoint libxl takes each EOF as a zeroed record
                 * header and buffers it, for ever. Reported at once instead of as a libFuzzer timeout. */
                fprintf(stderr, "fake_libxl: libxl read the end of the input %d times in a row: it spins at EOF "
                        "(finding XL-6)\n", eof_reads);
                abort();
            }
            snap[i]->func(&the_egc, snap[i], snap[i]->fd, snap[i]->events, p[i].revents);
            break;   /* one at a time: the callback may have changed the table */
        }
    }
    return 0;
}

/*----- libxl's allocator (fake_libxl.h): campaign mode's cap -----*/

static jmp_buf over_cap_jmp;
static int over_cap_armed;   /* a run is in libxl's own code (not inside the in-process libxc) */
static size_t over_cap_size;

static void over_cap_check(size_t size)
{
    if ( over_cap_armed && fx_over_cap(size) )
    {
        over_cap_armed = 0;
        over_cap_size = size;
        longjmp(over_cap_jmp, 1);
    }
}

void *fxl_malloc(size_t size)
{
    over_cap_check(size);
    return fx_malloc(size);
}

void *fxl_calloc(size_t n, size_t size)
{
    if ( !size || n <= (size_t)-1 / size )
        over_cap_check(n * size);
    return fx_calloc(n, size);
}

void *fxl_realloc(void *p, size_t size)
{
    over_cap_check(size);
    return fx_realloc(p, size);
}

static void free_records(libxl__stream_read_state *stream)
{
    libxl__sr_record_buf *rec;
    while ( (rec = XEN_STAILQ_FIRST(&stream->record_queue)) )
    {
        XEN_STAILQ_REMOVE_HEAD(&stream->record_queue, entry);
        free(rec->body);
        free(rec);
    }
    if ( stream->incoming_record )
    {
        free(stream->incoming_record->body);
        free(stream->incoming_record);
        stream->incoming_record = NULL;
    }
}

/* After the jump: what the stream's own completion would have freed (NOGC records), and the run's result. */
static void over_cap_landed(libxl__stream_read_state *stream)
{
    free_records(stream);
    nevs = 0;
    pending_restore = 0;
    res->rc = ERROR_NOMEM;
    res->completed = 0;
    res->over_cap = over_cap_size;
    snprintf(res->last_error, sizeof(res->last_error),
             "fake_libxl: libxl allocated %zu bytes, over XEN_NATIVE_ALLOC_CAP_MB: xl would die here "
             "(libxl__alloc_failed; finding XL-5); the run ends", over_cap_size);
}

/*----- carefd -----*/

struct libxl__carefd {
    int fd;
};

void libxl__carefd_begin(void)
{
}

void libxl__carefd_unlock(void)
{
}

libxl__carefd *libxl__carefd_record(libxl_ctx *c, int fd)
{
    libxl__carefd *cf = libxl__zalloc(&c->nogc_gc, sizeof(*cf));
    cf->fd = fd;
    return cf;
}

libxl__carefd *libxl__carefd_opened(libxl_ctx *c, int fd)
{
    return fd >= 0 ? libxl__carefd_record(c, fd) : NULL;
}

int libxl__carefd_close(libxl__carefd *cf)
{
    if ( !cf )
        return 0;
    int r = cf->fd >= 0 ? close(cf->fd) : 0;
    free(cf);
    return r;
}

int libxl__carefd_fd(const libxl__carefd *cf)
{
    return cf ? cf->fd : -1;
}

/*----- the save helper (libxl_save_callout.c) and the legacy converter (libxl_convert_callout.c) -----*/

void libxl__save_helper_init(libxl__save_helper_state *shs)
{
    libxl__ao_abortable_init(&shs->abrt);
    libxl__ev_fd_init(&shs->readable);
    libxl__ev_child_init(&shs->child);
}

/* libxl kills the helper; its death reaches libxl__xc_domain_restore_done as a failure (helper_failed). */
void libxl__save_helper_abort(libxl__egc *egc, libxl__save_helper_state *shs)
{
    (void)egc;
    if ( libxl__save_helper_inuse(shs) && !helper_abort_rc )
        helper_abort_rc = ERROR_FAIL;
}

void libxl__conversion_helper_init(libxl__conversion_helper_state *chs)
{
    assert(chs->ao);
    chs->v2_carefd = NULL;
    chs->rc = 0;
    libxl__ao_abortable_init(&chs->abrt);
    libxl__ev_child_init(&chs->child);
}

int libxl__convert_legacy_stream(libxl__egc *egc, libxl__conversion_helper_state *chs)
{
    (void)egc; (void)chs;
    return ERROR_FAIL;
}

void libxl__conversion_helper_abort(libxl__egc *egc, libxl__conversion_helper_state *chs, int rc)
{
    (void)egc; (void)chs; (void)rc;
}

/*----- libxc: xc_domain_restore in-process, the Remus checkpoint callback -----*/

static int checkpoint_reported, checkpoint_ret;

static void remus_checkpoint_stream_done(libxl__egc *egc, libxl__stream_read_state *stream, int rc)
{
    (void)egc; (void)stream;
    checkpoint_ret = rc;
    checkpoint_reported = 1;
}

static int cb_checkpoint(void *data)
{
    (void)data;
    if ( helper_abort_rc || !libxl__stream_read_inuse(&dcs.srs) )
        return XGR_CHECKPOINT_ERROR;
    checkpoint_reported = 0;
    libxl__stream_read_start_checkpoint(&the_egc, &dcs.srs);
    if ( fxl_run(&checkpoint_reported) )
    {
        snprintf(res->last_error, sizeof(res->last_error), "fake_libxl: the checkpoint stalled (no event pending)");
        return XGR_CHECKPOINT_ERROR;
    }
    if ( checkpoint_ret == XGR_CHECKPOINT_SUCCESS )
        res->checkpoints++;
    return checkpoint_ret;
}

static int cb_static_data_done(unsigned int missing, void *data)
{
    (void)missing; (void)data;
    return 0;
}

static void cb_restore_results(xen_pfn_t store_gfn, xen_pfn_t console_gfn, void *data)
{
    (void)store_gfn; (void)console_gfn; (void)data;
}

void libxl__xc_domain_restore(libxl__egc *egc, libxl__domain_create_state *d, libxl__save_helper_state *shs)
{
    (void)egc;
    STATE_AO_GC(d->ao);   /* the real one's first action (libxl_save_callout.c) */
    (void)gc;
    assert(d == &dcs && ao == &the_ao);
    shs->ao = d->ao;
    shs->domid = d->guest_domid;
    shs->caller_state = d;
    shs->completion_callback = libxl__xc_domain_restore_done;
    shs->child.pid = 1;   /* the "helper" is running */
    pending_restore = 1;
}

static void run_libxc(void)
{
    libxl__save_helper_state *shs = &dcs.srs.shs;
    pending_restore = 0;
    res->libxc_started = 1;
    struct restore_callbacks cbs = {
        .static_data_done = cb_static_data_done,
        .restore_results = cb_restore_results,
        .checkpoint = dcs.restore_params.checkpointed_stream == LIBXL_CHECKPOINTED_STREAM_REMUS ? cb_checkpoint
                                                                                                   : NULL,
        .data = shs,
    };
    unsigned long store_mfn = 0, console_mfn = 0;
    shs->egc = &the_egc;
    int armed = over_cap_armed;   /* libxc and the libxl callbacks it calls: no jump out of xc_domain_restore */
    over_cap_armed = 0;
    int r = xc_domain_restore((xc_interface *)fx_init(), dcs.libxc_fd, FX_DOMID, 1, &store_mfn, 0, 2, &console_mfn,
                              0, dcs.restore_params.checkpointed_stream == LIBXL_CHECKPOINTED_STREAM_REMUS
                                     ? XC_STREAM_REMUS : XC_STREAM_PLAIN,
                              &cbs, -1);
    int errnoval = errno;
    over_cap_armed = armed;
    shs->egc = NULL;
    res->libxc_retval = r;
    libxl__ev_child_init(&shs->child);   /* the "helper" has exited */
    int rc = helper_abort_rc;
    helper_abort_rc = 0;
    shs->completion_callback(&the_egc, shs->caller_state, rc, r, r ? errnoval : 0);
}

/*----- libxl_dom_save.c's xenstore and stubdom needs -----*/

int libxl__xs_printf(libxl__gc *gc, xs_transaction_t t, const char *path, const char *fmt, ...)
{
    (void)gc; (void)t; (void)fmt;
    assert(path);
    res->xenstore_keys++;
    return 0;
}

int libxl_get_stubdom_id(libxl_ctx *c, int guest_domid)
{
    (void)c; (void)guest_domid;
    return 0;
}

/* libxl_utils.c's, which libxl__logv asks. */
int libxl_domid_valid_guest(uint32_t domid)
{
    return domid > 0 && domid < DOMID_FIRST_RESERVED;
}

/*----- the COLO primary's back channel (libxl_colo_save.c) -----*/

static libxl__stream_read_state back;
static int state_reported, state_rc;

/* colo_common_read_stream_done: rc < 0 is a failure, else the CHECKPOINT_STATE id. */
static void back_state_done(libxl__egc *egc, libxl__stream_read_state *stream, int rc)
{
    (void)egc; (void)stream;
    state_rc = rc;
    state_reported = 1;
}

/* What xg_sr_save.c's colo_merge_secondary_dirty_bitmap asks of the record it reads off the back channel: type
 * CHECKPOINT_DIRTY_PFN_LIST, a length that is a multiple of 8 (the pfns are not looked at here). */
static int read_dirty_pfn_list(int fd)
{
    uint32_t hdr[2];
    if ( read(fd, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr) )
        return snprintf(res->last_error, sizeof(res->last_error), "fake libxc: no dirty pfn list record"), -1;
    if ( hdr[0] != 0x0000000fU || hdr[1] % 8 )
        return snprintf(res->last_error, sizeof(res->last_error), "fake libxc: record 0x%08x length %u is not a "
                        "dirty pfn list", hdr[0], hdr[1]), -1;
    char buf[4096];
    for ( uint32_t left = hdr[1]; left; )
    {
        ssize_t r = read(fd, buf, left < sizeof(buf) ? left : sizeof(buf));
        if ( r <= 0 )
            return snprintf(res->last_error, sizeof(res->last_error), "fake libxc: dirty pfn list truncated"), -1;
        left -= (uint32_t)r;
    }
    res->dirty_lists++;
    return 0;
}

/* One run's fresh state: the result, the ao and its gc, the egc. */
static void begin_run(struct fxl_result *out)
{
    init_once();
    memset(out, 0, sizeof(*out));
    res = out;
    memset(&the_ao, 0, sizeof(the_ao));
    LIBXL_INIT_GC(the_ao.gc, &ctx);
    LIBXL_INIT_EGC(the_egc, &ctx);
}

int fxl_back_channel(int fd, struct fxl_result *out)
{
    begin_run(out);
    memset(&back, 0, sizeof(back));
    back.ao = &the_ao;
    back.fd = fd;
    back.back_channel = true;
    back.checkpoint_callback = back_state_done;
    eof_reads = 0;
    nevs = 0;
    pending_restore = 0;

    volatile int rc = 0;
    if ( setjmp(over_cap_jmp) )
    {
        over_cap_landed(&back);
        rc = ERROR_NOMEM;
        goto out;
    }
    over_cap_armed = 1;
    libxl__stream_read_start(&the_egc, &back);
    while ( libxl__stream_read_inuse(&back) )
    {
        state_reported = 0;
        libxl__stream_read_checkpoint_state(&the_egc, &back);
        if ( fxl_run(&state_reported) )
        {
            snprintf(out->last_error, sizeof(out->last_error), "fake_libxl: the back channel stalled");
            rc = ERROR_FAIL;
            break;
        }
        if ( state_rc < 0 )
        {
            rc = state_rc;   /* COLO: "reading data fails", the checkpoint fails and COLO tears down */
            break;
        }
        out->states++;
        if ( state_rc == CHECKPOINT_SVM_SUSPENDED )
        {
            if ( read_dirty_pfn_list(fd) )
            {
                rc = ERROR_FAIL;
                break;
            }
        }
        else if ( state_rc != CHECKPOINT_SVM_READY && state_rc != CHECKPOINT_SVM_RESUMED )
        {
            snprintf(out->last_error, sizeof(out->last_error), "fake COLO: unexpected checkpoint state %d", state_rc);
            rc = ERROR_FAIL;
            break;
        }
        /* the channel's end: libxl took EOF as the record's end; nothing more to read */
        off_t pos = lseek(fd, 0, SEEK_CUR), end = lseek(fd, 0, SEEK_END);
        lseek(fd, pos, SEEK_SET);
        if ( pos >= end )
            break;
    }
    /* COLO's teardown (libxl__colo_save_teardown) aborts the stream. */
    if ( libxl__stream_read_inuse(&back) )
        libxl__stream_read_abort(&the_egc, &back, rc ? rc : ERROR_FAIL);
    over_cap_armed = 0;
    out->rc = rc;
    out->completed = 1;
out:
    nevs = 0;
    libxl__free_all(&the_ao.gc);
    libxl__free_all(&the_egc.gc);
    res = NULL;
    return rc;
}

/*----- the restore -----*/

static void stream_done(libxl__egc *egc, libxl__stream_read_state *stream, int rc)
{
    (void)egc; (void)stream;
    res->rc = rc;
    res->completed = 1;
}

static void init_once(void)
{
    if ( initialised )
        return;
    initialised = 1;
    ctx.lg = &logger;
    LIBXL_INIT_GC(ctx.nogc_gc, &ctx);
    ctx.nogc_gc.alloc_maxsize = -1;
    if ( mkdir(FXL_SCRATCH_DIR, 0700) && errno != EEXIST )
        fprintf(stderr, "fake_libxl: mkdir %s: %s (emulator records will fail to open)\n", FXL_SCRATCH_DIR,
                strerror(errno));
}

int fxl_restore(int fd, int hvm, enum fxl_mode mode, struct fxl_result *out)
{
    begin_run(out);
    memset(&config, 0, sizeof(config));
    config.b_info.type = hvm ? LIBXL_DOMAIN_TYPE_HVM : LIBXL_DOMAIN_TYPE_PV;
    memset(&dcs, 0, sizeof(dcs));
    dcs.ao = &the_ao;
    dcs.guest_config = &config;
    dcs.guest_domid = FX_DOMID;
    dcs.restore_fd = dcs.libxc_fd = fd;
    dcs.send_back_fd = -1;
    dcs.restore_params.stream_version = 2;
    dcs.restore_params.checkpointed_stream =
        mode == FXL_REMUS ? LIBXL_CHECKPOINTED_STREAM_REMUS : LIBXL_CHECKPOINTED_STREAM_NONE;
    dcs.srs.ao = &the_ao;
    dcs.srs.dcs = &dcs;
    dcs.srs.fd = fd;
    dcs.srs.legacy = false;
    dcs.srs.back_channel = false;
    dcs.srs.completion_callback = stream_done;
    if ( mode == FXL_REMUS )
        dcs.srs.checkpoint_callback = remus_checkpoint_stream_done;
    nevs = 0;
    pending_restore = 0;
    helper_abort_rc = 0;
    eof_reads = 0;

    volatile int stalled = 0;
    if ( setjmp(over_cap_jmp) )
        over_cap_landed(&dcs.srs);
    else
    {
        over_cap_armed = 1;
        libxl__stream_read_start(&the_egc, &dcs.srs);
        stalled = fxl_run(&out->completed);
        over_cap_armed = 0;
    }
    if ( stalled && !out->completed )
    {
        snprintf(out->last_error, sizeof(out->last_error),
                 "fake_libxl: the stream stalled: no completion and no event pending");
        out->rc = ERROR_FAIL;
    }
    /* Nothing may stay registered once the stream has completed. */
    if ( out->completed && nevs )
    {
        fprintf(stderr, "fake_libxl: %d fd events still registered after the completion callback\n", nevs);
        abort();
    }
    nevs = 0;
    libxl__free_all(&the_ao.gc);
    libxl__free_all(&the_egc.gc);
    res = NULL;
    return out->rc;
}
