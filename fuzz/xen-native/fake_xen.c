/*
 * StreamBench xen-native: a fake hypervisor layer for Xen's libxenguest restore code.
 *
 * Written for StreamBench (not derived from Xen's code). Xen's restore code (xg_sr_restore*.c, xg_sr_common*.c) is
 * compiled unmodified from Debian's source package and linked against this file instead of libxenctrl,
 * libxencall and libxenforeignmemory. Every libxenctrl/libxencall/libxenforeignmemory function the restore side
 * references is defined here and answered by a small in-process domain model:
 *
 *  - machine memory is one sparse memfd indexed by mfn (holes cost nothing); foreign mappings are real MAP_SHARED
 *    mmaps of its frames, so two mappings of a frame alias as they do under privcmd, and unmapping is munmap;
 *  - a domain owns pfns 0..FX_PFN_LIMIT-1; populating pfn p gives it mfn p + fx_mfn_base (default 0x1000, so pfn
 *    and mfn differ and a mix-up shows; 0 gives the identity); the p2m is a table, the m2p lives in the memfd (read
 *    by restore through xc_map_foreign_ranges on DOMID_XEN as on real Xen) with ~0 for frames no domain owns;
 *  - at most FX_MAX_PAGES frames may be populated (Xen's max_pages), pfns at or above FX_PFN_LIMIT are refused.
 *
 * docs/FUZZING.md ("Xen's own restore code") lists every function and the hypervisor behaviour it models.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "xg_private.h"
#include "xg_sr_common.h"

#include "fake_xen.h"

#define FX_PAGE 4096UL
#define FX_INVALID (~0UL)

struct fx_state fx;

static struct xc_interface_core fx_xch_storage;
static int fx_mem_fd = -1;
static uint64_t *fx_p2m;         /* pfn -> mfn + 1 (0: not populated) */
static xen_pfn_t *fx_m2p;        /* the m2p as the toolstack sees it (in the memfd) */
static xen_pfn_t *fx_populated;  /* pfns populated by this restore, in order */

static unsigned long fx_max_mfn_excl(void) { return fx.mfn_base + FX_PFN_LIMIT; }
static unsigned long fx_m2p_first_mfn(void) { return fx_max_mfn_excl() + 16; }
static size_t fx_m2p_bytes(void) { return M2P_SIZE(fx_max_mfn_excl()); }
static unsigned long fx_m2p_chunks(void) { return M2P_CHUNKS(fx_max_mfn_excl()); }

/* Every binary halts on the first UBSan report unless UBSAN_OPTIONS says otherwise. The checks are compiled
 * recoverable so that campaigns can suppress the known findings: XEN_NATIVE_UBSAN_SUPP names the suppressions file
 * (known-findings.supp). It is read here, not from UBSAN_OPTIONS, because afl-fuzz sets UBSAN_OPTIONS itself. */
const char *__ubsan_default_options(void);
__attribute__((no_sanitize("address", "undefined"), disable_sanitizer_instrumentation))
const char *__ubsan_default_options(void)
{
    /* Called during the sanitizers' start-up, before libc's environment, the interceptors and ASan's shadow memory
     * are ready: no instrumentation, raw syscalls and plain loops only (open, strlen or snprintf here crash). */
    static const char base[] = "halt_on_error=1:print_stacktrace=1";
    static const char key[] = "XEN_NATIVE_UBSAN_SUPP=";
    static char opts[1024], env[65536];
    size_t o = 0;
    for ( ; base[o]; o++ )
        opts[o] = base[o];
    opts[o] = 0;
    long fd = syscall(SYS_openat, AT_FDCWD, "/proc/self/environ", O_RDONLY);
    if ( fd < 0 )
        return opts;
    long n = syscall(SYS_read, fd, env, sizeof(env) - 1);
    syscall(SYS_close, fd);
    for ( long i = 0; n > 0 && i < n; )
    {
        long k = 0;
        while ( key[k] && i + k < n && env[i + k] == key[k] )
            k++;
        if ( !key[k] )
        {
            const char *add = ":suppressions=";
            for ( long a = 0; add[a] && o < sizeof(opts) - 1; a++ )
                opts[o++] = add[a];
            for ( long v = i + k; v < n && env[v] && o < sizeof(opts) - 1; v++ )
                opts[o++] = env[v];
            opts[o] = 0;
            break;
        }
        while ( i < n && env[i] )
            i++;
        i++;
    }
    return opts;
}

static size_t fx_alloc_cap;   /* 0: none */

int fx_over_cap(size_t size)
{
    if ( fx_alloc_cap && size > fx_alloc_cap )
    {
        errno = ENOMEM;
        return 1;
    }
    return 0;
}

void *fx_malloc(size_t size) { return fx_over_cap(size) ? NULL : malloc(size); }
void *fx_realloc(void *p, size_t size) { return fx_over_cap(size) ? NULL : realloc(p, size); }
void *fx_calloc(size_t n, size_t size)
{
    if ( size && n > (size_t)-1 / size )
        return calloc(n, size);   /* the library's own overflow answer */
    return fx_over_cap(n * size) ? NULL : calloc(n, size);
}

xc_interface *fx_init(void)
{
    if ( fx_mem_fd >= 0 )
        return &fx_xch_storage;
    const char *cap = getenv("XEN_NATIVE_ALLOC_CAP_MB");
    fx_alloc_cap = cap && *cap ? (size_t)strtoul(cap, NULL, 0) << 20 : 0;
    const char *base = getenv("XEN_NATIVE_MFN_BASE");
    fx.mfn_base = base ? strtoul(base, NULL, 0) : 0x1000;
    fx.verbose = getenv("XEN_NATIVE_VERBOSE") && *getenv("XEN_NATIVE_VERBOSE");
    fx_mem_fd = memfd_create("xen-native-machine", 0);
    if ( fx_mem_fd < 0 )
        abort();
    off_t size = (off_t)(fx_m2p_first_mfn() * FX_PAGE + fx_m2p_bytes());
    if ( ftruncate(fx_mem_fd, size) )
        abort();
    fx_m2p = mmap(NULL, fx_m2p_bytes(), PROT_READ | PROT_WRITE, MAP_SHARED, fx_mem_fd,
                  (off_t)(fx_m2p_first_mfn() * FX_PAGE));
    if ( fx_m2p == MAP_FAILED )
        abort();
    memset(fx_m2p, 0xff, fx_m2p_bytes());
    fx_p2m = calloc(FX_PFN_LIMIT, sizeof(*fx_p2m));
    fx_populated = calloc(FX_MAX_PAGES, sizeof(*fx_populated));
    if ( !fx_p2m || !fx_populated )
        abort();
    fx_xch_storage.error_handler = NULL;
    fx_xch_storage.xcall = (xencall_handle *)&fx;           /* opaque, never dereferenced */
    fx_xch_storage.fmem = (xenforeignmemory_handle *)&fx;
    return &fx_xch_storage;
}

/* A fresh domain: nothing populated, every frame zero, state cleared. */
void fx_reset(int hvm)
{
    for ( unsigned long i = 0; i < fx.nr_populated; i++ )
    {
        xen_pfn_t pfn = fx_populated[i];
        uint64_t mfn = fx_p2m[pfn] - 1;
        fx_m2p[mfn] = FX_INVALID;
        fx_p2m[pfn] = 0;
    }
    if ( fallocate(fx_mem_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
                   (off_t)(fx_max_mfn_excl() * FX_PAGE)) )
        abort();
    unsigned long mfn_base = fx.mfn_base;
    int verbose = fx.verbose;
    memset(&fx, 0, sizeof(fx));
    fx.mfn_base = mfn_base;
    fx.verbose = verbose;
    fx.hvm = hvm;
    fx.guest_width = 8;   /* a PV domain is created 64-bit; XEN_DOMCTL_set_address_size may change it */
    fx.max_vcpus = FX_MAX_VCPUS;
}

unsigned long fx_shinfo_mfn(void) { return fx.mfn_base ? fx.mfn_base - 1 : fx_max_mfn_excl() + 1; }

int fx_pfn_populated(xen_pfn_t pfn) { return pfn < FX_PFN_LIMIT && fx_p2m[pfn] != 0; }

/* Reads one populated page of the final domain (for the memory dump). */
int fx_read_pfn(xen_pfn_t pfn, void *out)
{
    if ( !fx_pfn_populated(pfn) )
        return -1;
    return pread(fx_mem_fd, out, FX_PAGE, (off_t)((fx_p2m[pfn] - 1) * FX_PAGE)) == (ssize_t)FX_PAGE ? 0 : -1;
}

/* The frame behind a foreign-mapping request for domain @dom: a gfn for HVM, an mfn the domain owns for PV. */
static int fx_frame_of(uint32_t dom, xen_pfn_t frame, unsigned long *mfn)
{
    if ( dom == FX_DOMID )
    {
        if ( fx.hvm )
        {
            if ( !fx_pfn_populated(frame) )
                return -EFAULT;
            *mfn = fx_p2m[frame] - 1;
            return 0;
        }
        if ( frame == fx_shinfo_mfn() )
        {
            *mfn = frame;
            return 0;
        }
        if ( frame >= fx.mfn_base && frame < fx_max_mfn_excl() && fx_m2p[frame] != FX_INVALID )
        {
            *mfn = frame;
            return 0;
        }
        return -EFAULT;
    }
    if ( dom == DOMID_XEN && frame >= fx_m2p_first_mfn() &&
         frame < fx_m2p_first_mfn() + fx_m2p_chunks() * (M2P_CHUNK_SIZE / FX_PAGE) )
    {
        if ( fx.hvm )
            return -EPERM;  /* restore of an HVM guest never maps the m2p */
        *mfn = frame;
        return 0;
    }
    return -ESRCH;
}

static void *fx_map(uint32_t dom, int prot, size_t pages, const xen_pfn_t *arr, int *err, int all_or_nothing)
{
    if ( pages == 0 || pages > FX_MAX_PAGES + 64 )
    {
        errno = EINVAL;
        return NULL;
    }
    uint8_t *area = mmap(NULL, pages * FX_PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if ( area == MAP_FAILED )
        return NULL;
    int failed = 0;
    /* A run of frames whose mfns follow each other is one mmap (restore maps batches of consecutive pfns, and
     * populate gives consecutive pfns consecutive mfns): the same mapping as page by page, fewer syscalls. */
    for ( size_t i = 0; i < pages; )
    {
        unsigned long mfn, next;
        int rc = fx_frame_of(dom, arr[i], &mfn);
        size_t run = 1;
        if ( rc == 0 )
            while ( i + run < pages && fx_frame_of(dom, arr[i + run], &next) == 0 && next == mfn + run )
                run++;
        if ( rc == 0 &&
             mmap(area + i * FX_PAGE, run * FX_PAGE, prot, MAP_SHARED | MAP_FIXED, fx_mem_fd,
                  (off_t)(mfn * FX_PAGE)) == MAP_FAILED )
            rc = -errno;
        for ( size_t k = 0; k < run; k++ )
            if ( err )
                err[i + k] = rc;
        if ( rc )
            failed = rc;
        i += run;
    }
    fx.maps++;
    if ( failed && all_or_nothing )
    {
        munmap(area, pages * FX_PAGE);
        errno = -failed;
        return NULL;
    }
    return area;
}

/* ---- libxenforeignmemory ---- */

void *xenforeignmemory_map(xenforeignmemory_handle *fmem, uint32_t dom, int prot, size_t pages,
                           const xen_pfn_t arr[], int err[])
{
    (void)fmem;
    return fx_map(dom, prot, pages, arr, err, err == NULL);
}

int xenforeignmemory_unmap(xenforeignmemory_handle *fmem, void *addr, size_t pages)
{
    (void)fmem;
    return munmap(addr, pages * FX_PAGE);
}

void *xc_map_foreign_pages(xc_interface *xch, uint32_t dom, int prot, const xen_pfn_t *arr, int num)
{
    (void)xch;
    if ( num <= 0 )
    {
        errno = EINVAL;
        return NULL;
    }
    return fx_map(dom, prot, (size_t)num, arr, NULL, 1);
}

void *xc_map_foreign_range(xc_interface *xch, uint32_t dom, int size, int prot, unsigned long mfn)
{
    (void)xch;
    if ( size <= 0 )
    {
        errno = EINVAL;
        return NULL;
    }
    size_t n = ((size_t)size + FX_PAGE - 1) / FX_PAGE;
    xen_pfn_t arr[16];
    if ( n > 16 )
    {
        errno = EINVAL;
        return NULL;
    }
    for ( size_t i = 0; i < n; i++ )
        arr[i] = mfn + i;
    return fx_map(dom, prot, n, arr, NULL, 1);
}

void *xc_map_foreign_ranges(xc_interface *xch, uint32_t dom, size_t size, int prot, size_t chunksize,
                            privcmd_mmap_entry_t entries[], int nentries)
{
    (void)xch;
    if ( nentries <= 0 || chunksize % FX_PAGE || size != chunksize * (size_t)nentries )
    {
        errno = EINVAL;
        return NULL;
    }
    size_t per = chunksize / FX_PAGE, n = per * (size_t)nentries;
    xen_pfn_t *arr = malloc(n * sizeof(*arr));
    if ( !arr )
        return NULL;
    for ( int c = 0; c < nentries; c++ )
        for ( size_t i = 0; i < per; i++ )
            arr[c * per + i] = entries[c].mfn + i;
    void *p = fx_map(dom, prot, n, arr, NULL, 1);
    free(arr);
    return p;
}

/* ---- libxenctrl: domain, memory ---- */

int xc_domain_getinfo(xc_interface *xch, uint32_t first_domid, unsigned int max_doms, xc_dominfo_t *info)
{
    (void)xch;
    if ( max_doms == 0 || first_domid > FX_DOMID )
        return 0;
    memset(info, 0, sizeof(*info));
    info->domid = FX_DOMID;
    info->hvm = fx.hvm;
    info->hap = fx.hvm;
    info->paused = 1;
    info->nr_pages = fx.nr_populated;
    info->max_memkb = FX_MAX_PAGES * 4;
    info->shared_info_frame = fx.hvm ? 0 : fx_shinfo_mfn();
    info->max_vcpu_id = fx.max_vcpus - 1;
    info->nr_online_vcpus = 1;
    return 1;
}

int xc_domain_nr_gpfns(xc_interface *xch, uint32_t domid, xen_pfn_t *gpfns)
{
    (void)xch;
    if ( domid != FX_DOMID )
        return errno = ESRCH, -1;
    *gpfns = fx.max_gpfn + 1;   /* XENMEM_maximum_gpfn + 1 */
    return 0;
}

int xc_domain_populate_physmap_exact(xc_interface *xch, uint32_t domid, unsigned long nr_extents,
                                     unsigned int extent_order, unsigned int mem_flags, xen_pfn_t *extent_start)
{
    (void)xch; (void)mem_flags;
    if ( domid != FX_DOMID || extent_order != 0 )
        return errno = EINVAL, -1;
    for ( unsigned long i = 0; i < nr_extents; i++ )
    {
        xen_pfn_t pfn = extent_start[i];
        if ( pfn >= FX_PFN_LIMIT )
            return errno = EINVAL, -1;      /* guest_physmap_add_page refuses the gfn */
        if ( fx_p2m[pfn] )
        {
            if ( !fx.hvm )
                return errno = EBUSY, -1;   /* a PV pfn that has a frame already */
            extent_start[i] = pfn;          /* HVM: the gfn is remapped to a fresh frame (the same one here) */
            continue;
        }
        if ( fx.nr_populated >= FX_MAX_PAGES )
            return errno = ENOMEM, -1;      /* over max_pages */
        unsigned long mfn = pfn + fx.mfn_base;
        fx_p2m[pfn] = mfn + 1;
        fx_m2p[mfn] = pfn;
        fx_populated[fx.nr_populated++] = pfn;
        if ( pfn > fx.max_gpfn )
            fx.max_gpfn = pfn;
        /* A translated guest's extent list is left alone; a PV one gets the mfn back. */
        extent_start[i] = fx.hvm ? pfn : mfn;
    }
    return 0;
}

int xc_maximum_ram_page(xc_interface *xch, unsigned long *max_mfn)
{
    (void)xch;
    *max_mfn = fx_max_mfn_excl();
    return 0;
}

int xc_machphys_mfn_list(xc_interface *xch, unsigned long max_extents, xen_pfn_t *extent_start)
{
    (void)xch;
    if ( max_extents > fx_m2p_chunks() )
        max_extents = fx_m2p_chunks();
    for ( unsigned long i = 0; i < max_extents; i++ )
        extent_start[i] = fx_m2p_first_mfn() + i * (M2P_CHUNK_SIZE / FX_PAGE);
    return 0;
}

long xc_memory_op(xc_interface *xch, unsigned int cmd, void *arg, size_t len)
{
    (void)xch; (void)len;
    if ( cmd == XENMEM_machphys_compat_mfn_list )
    {
        struct xen_machphys_mfn_list *l = arg;
        xen_pfn_t *out = l->extent_start.p;
        if ( l->max_extents < 1 )
            return errno = EINVAL, -1;
        out[0] = fx_m2p_first_mfn();
        l->nr_extents = 1;
        return 0;
    }
    return errno = ENOSYS, -1;
}

int xc_clear_domain_pages(xc_interface *xch, uint32_t domid, unsigned long dst_pfn, int num)
{
    size_t size = (size_t)num * FX_PAGE;
    void *p = xc_map_foreign_range(xch, domid, (int)size, PROT_WRITE, dst_pfn);
    if ( !p )
        return -1;
    memset(p, 0, size);
    munmap(p, size);
    return 0;
}

/* ---- vCPUs, pagetables, domctl ---- */

static int fx_pv_owns(unsigned long mfn)
{
    return !fx.hvm && mfn >= fx.mfn_base && mfn < fx_max_mfn_excl() && fx_m2p[mfn] != FX_INVALID;
}

int xc_vcpu_setcontext(xc_interface *xch, uint32_t domid, uint32_t vcpu, vcpu_guest_context_any_t *ctxt)
{
    (void)xch;
    if ( domid != FX_DOMID || vcpu >= fx.max_vcpus || !ctxt )
        return errno = EINVAL, -1;
    if ( !fx.hvm )
    {
        /* arch_set_info_guest: cr3 must name a frame of the domain (Xen then type-checks it as the top table). */
        unsigned long cr3 = fx.guest_width == 8 ? ctxt->x64.ctrlreg[3] : ctxt->x32.ctrlreg[3];
        unsigned long mfn = fx.guest_width == 8 ? cr3 >> 12 : ((cr3 >> 12) | (cr3 << 20)) & 0xffffffffUL;
        if ( !fx_pv_owns(mfn) )
            return errno = EINVAL, -1;
    }
    fx.vcpus_set++;
    return 0;
}

int xc_mmuext_op(xc_interface *xch, struct mmuext_op *op, unsigned int nr_ops, uint32_t dom)
{
    (void)xch;
    if ( dom != FX_DOMID || fx.hvm )
        return errno = EINVAL, -1;
    for ( unsigned int i = 0; i < nr_ops; i++ )
    {
        switch ( op[i].cmd )
        {
        case MMUEXT_PIN_L1_TABLE: case MMUEXT_PIN_L2_TABLE:
        case MMUEXT_PIN_L3_TABLE: case MMUEXT_PIN_L4_TABLE:
            if ( !fx_pv_owns(op[i].arg1.mfn) )
                return errno = EINVAL, -1;
            fx.pins++;
            break;
        default:
            return errno = ENOSYS, -1;
        }
    }
    return 0;
}

static int fx_domctl(struct xen_domctl *d)
{
    if ( d->domain != FX_DOMID )
        return errno = ESRCH, -1;
    switch ( d->cmd )
    {
    case XEN_DOMCTL_set_address_size:
        if ( fx.hvm || (d->u.address_size.size != 32 && d->u.address_size.size != 64) )
            return errno = EINVAL, -1;
        if ( fx.nr_populated && d->u.address_size.size / 8 != fx.guest_width )
            return errno = EINVAL, -1;   /* switch_compat refuses once the domain has memory */
        fx.guest_width = d->u.address_size.size / 8;
        return 0;
    case XEN_DOMCTL_set_ext_vcpucontext:
        if ( d->u.ext_vcpucontext.vcpu >= fx.max_vcpus ||
             d->u.ext_vcpucontext.size > sizeof(d->u.ext_vcpucontext) )
            return errno = EINVAL, -1;
        return 0;
    case XEN_DOMCTL_setvcpuextstate:
        if ( d->u.vcpuextstate.vcpu >= fx.max_vcpus )
            return errno = EINVAL, -1;
        if ( d->u.vcpuextstate.size < 2 * sizeof(uint64_t) || d->u.vcpuextstate.size > FX_MAX_XSAVE )
            return errno = EINVAL, -1;
        return 0;
    case XEN_DOMCTL_set_vcpu_msrs:
        if ( d->u.vcpu_msrs.vcpu >= fx.max_vcpus || d->u.vcpu_msrs.msr_count > FX_MAX_VCPU_MSRS )
            return errno = EINVAL, -1;
        return 0;
    default:
        return errno = ENOSYS, -1;
    }
}

int xc_domctl(xc_interface *xch, struct xen_domctl *domctl)
{
    (void)xch;
    return fx_domctl(domctl);
}

int xencall1(xencall_handle *xcall, unsigned int op, uint64_t arg1)
{
    (void)xcall;
    if ( op == __HYPERVISOR_domctl )
        return fx_domctl((struct xen_domctl *)(uintptr_t)arg1);
    return errno = ENOSYS, -1;
}

int xc_domain_get_guest_width(xc_interface *xch, uint32_t domid, unsigned int *guest_width)
{
    (void)xch;
    if ( domid != FX_DOMID )
        return errno = ESRCH, -1;
    *guest_width = fx.guest_width;
    return 0;
}

/* ---- HVM ---- */

int xc_hvm_param_set(xc_interface *handle, uint32_t dom, uint32_t param, uint64_t value)
{
    (void)handle; (void)value;
    if ( dom != FX_DOMID || !fx.hvm || param >= HVM_NR_PARAMS )
        return errno = EINVAL, -1;
    fx.params_set++;
    return 0;
}

/* hvm_load: a HEADER (magic, version) first, every descriptor inside the buffer, END last. */
/* The hypervisor's refusal, kept for the runner's report (Xen logs it on the console), then -EINVAL. */
static int fx_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fx_note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fx.hypervisor_note, sizeof(fx.hypervisor_note), fmt, ap);
    va_end(ap);
    if ( fx.verbose )
        fprintf(stderr, "[fake xen] %s\n", fx.hypervisor_note);
    errno = EINVAL;
    return -1;
}

int xc_domain_hvm_setcontext(xc_interface *xch, uint32_t domid, uint8_t *buf, uint32_t size)
{
    (void)xch;
    if ( domid != FX_DOMID || !fx.hvm )
        return errno = EINVAL, -1;
    uint32_t off = 0;
    int first = 1;
    for ( ;; )
    {
        struct hvm_save_descriptor desc;
        if ( off > size || size - off < sizeof(desc) )
            return fx_note("hvm_load: no room for a descriptor at offset %u of %u", off, size);
        memcpy(&desc, buf + off, sizeof(desc));
        off += sizeof(desc);
        if ( desc.length > size - off )
            return fx_note("hvm_load: descriptor type %u length %u at offset %u overruns %u", desc.typecode, desc.length, off, size);
        if ( first )
        {
            struct hvm_save_header hdr;
            if ( desc.typecode != 1 || desc.length != sizeof(hdr) )
                return fx_note("hvm_load: first descriptor type %u length %u, not a header", desc.typecode, desc.length);
            memcpy(&hdr, buf + off, sizeof(hdr));
            if ( hdr.magic != HVM_FILE_MAGIC || hdr.version != HVM_FILE_VERSION )
                return fx_note("hvm_load: header magic %#x version %u", hdr.magic, hdr.version);
            first = 0;
        }
        else if ( desc.typecode == 0 )
        {
            fx.hvm_context_loaded = 1;
            return 0;
        }
        off += desc.length;
    }
}

int xc_dom_gnttab_seed(xc_interface *xch, uint32_t guest_domid, bool is_hvm, xen_pfn_t console_gfn,
                       xen_pfn_t xenstore_gfn, uint32_t console_domid, uint32_t xenstore_domid)
{
    (void)xch; (void)console_domid; (void)xenstore_domid; (void)is_hvm;
    if ( guest_domid != FX_DOMID )
        return errno = ESRCH, -1;
    fx.console_gfn = console_gfn;
    fx.xenstore_gfn = xenstore_gfn;
    fx.gnttab_seeded = 1;
    return 0;
}

/* ---- TSC, CPU policy, log-dirty ---- */

int xc_domain_set_tsc_info(xc_interface *xch, uint32_t domid, uint32_t tsc_mode, uint64_t elapsed_nsec,
                           uint32_t gtsc_khz, uint32_t incarnation)
{
    (void)xch; (void)elapsed_nsec; (void)gtsc_khz; (void)incarnation;
    if ( domid != FX_DOMID || tsc_mode > 3 )
        return errno = EINVAL, -1;
    return 0;
}

int xc_domain_get_tsc_info(xc_interface *xch, uint32_t domid, uint32_t *tsc_mode, uint64_t *elapsed_nsec,
                           uint32_t *gtsc_khz, uint32_t *incarnation)
{
    (void)xch; (void)domid; (void)tsc_mode; (void)elapsed_nsec; (void)gtsc_khz; (void)incarnation;
    return errno = ENOSYS, -1;  /* save side only */
}

int xc_set_domain_cpu_policy(xc_interface *xch, uint32_t domid, uint32_t nr_leaves, xen_cpuid_leaf_t *leaves,
                             uint32_t nr_msrs, xen_msr_entry_t *msrs, uint32_t *err_leaf_p,
                             uint32_t *err_subleaf_p, uint32_t *err_msr_p)
{
    (void)xch; (void)leaves; (void)msrs;
    if ( err_leaf_p ) *err_leaf_p = ~0u;
    if ( err_subleaf_p ) *err_subleaf_p = ~0u;
    if ( err_msr_p ) *err_msr_p = ~0u;
    if ( domid != FX_DOMID )
        return errno = ESRCH, -1;
    /* x86_cpuid_copy_from_buffer / x86_msr_copy_from_buffer refuse more than the serialised maxima. */
    if ( nr_leaves > CPUID_MAX_SERIALISED_LEAVES || nr_msrs > MSR_MAX_SERIALISED_ENTRIES )
        return errno = E2BIG, -1;
    fx.policy_set = 1;
    return 0;
}

/* Save side only (write_x86_cpu_policy_records); never reached by restore. */
xc_cpu_policy_t *xc_cpu_policy_init(void) { return NULL; }
void xc_cpu_policy_destroy(xc_cpu_policy_t *policy) { (void)policy; }
int xc_cpu_policy_get_size(xc_interface *xch, uint32_t *nr_leaves, uint32_t *nr_msrs)
{ (void)xch; (void)nr_leaves; (void)nr_msrs; return errno = ENOSYS, -1; }
int xc_cpu_policy_get_domain(xc_interface *xch, uint32_t domid, xc_cpu_policy_t *policy)
{ (void)xch; (void)domid; (void)policy; return errno = ENOSYS, -1; }
int xc_cpu_policy_serialise(xc_interface *xch, const xc_cpu_policy_t *policy, xen_cpuid_leaf_t *leaves,
                            uint32_t *nr_leaves, xen_msr_entry_t *msrs, uint32_t *nr_msrs)
{ (void)xch; (void)policy; (void)leaves; (void)nr_leaves; (void)msrs; (void)nr_msrs; return errno = ENOSYS, -1; }

long long xc_logdirty_control(xc_interface *xch, uint32_t domid, unsigned int sop,
                              xc_hypercall_buffer_t *dirty_bitmap, unsigned long pages, unsigned int mode,
                              xc_shadow_op_stats_t *stats)
{
    (void)xch; (void)mode;
    if ( domid != FX_DOMID )
        return errno = ESRCH, -1;
    /* A DECLARE_HYPERCALL_BUFFER_SHADOW buffer (COLO's dirty bitmap) points at the real one. */
    if ( dirty_bitmap && dirty_bitmap->param_shadow )
        dirty_bitmap = dirty_bitmap->param_shadow;
    if ( dirty_bitmap && dirty_bitmap->hbuf )
        memset(dirty_bitmap->hbuf, 0, (pages + 7) / 8);  /* nothing dirtied: the fake guest never runs */
    if ( stats )
        memset(stats, 0, sizeof(*stats));
    /* libxenctrl's wrapper returns the domctl's page count for CLEAN and PEEK, 0 for the other operations. */
    return sop == XEN_DOMCTL_SHADOW_OP_CLEAN || sop == XEN_DOMCTL_SHADOW_OP_PEEK ? (long long)pages : 0;
}

/* ---- hypercall buffers (no bouncing needed: the fake hypervisor reads process memory) ---- */

void *xc__hypercall_buffer_alloc(xc_interface *xch, xc_hypercall_buffer_t *b, size_t size)
{
    (void)xch;
    b->hbuf = malloc(size ? size : 1);
    return b->hbuf;
}

void xc__hypercall_buffer_free(xc_interface *xch, xc_hypercall_buffer_t *b)
{
    (void)xch;
    free(b->hbuf);
    b->hbuf = NULL;
}

void *xc__hypercall_buffer_alloc_pages(xc_interface *xch, xc_hypercall_buffer_t *b, int nr_pages)
{
    (void)xch;
    b->hbuf = nr_pages > 0 ? calloc((size_t)nr_pages, FX_PAGE) : NULL;
    return b->hbuf;
}

void xc__hypercall_buffer_free_pages(xc_interface *xch, xc_hypercall_buffer_t *b, int nr_pages)
{
    (void)xch; (void)nr_pages;
    free(b->hbuf);
    b->hbuf = NULL;
}

int xc__hypercall_bounce_pre(xc_interface *xch, xc_hypercall_buffer_t *b)
{
    (void)xch;
    b->hbuf = b->ubuf;
    return 0;
}

void xc__hypercall_bounce_post(xc_interface *xch, xc_hypercall_buffer_t *b)
{
    (void)xch;
    b->hbuf = NULL;
}

/* ---- libxenctrl's private helpers (xc_private.c's roles) ---- */

void xc_reportv(xc_interface *xch, xentoollog_logger *lg, xentoollog_level level, int code, const char *fmt,
                va_list args)
{
    (void)xch; (void)lg;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, args);
    if ( level >= XTL_ERROR )
    {
        if ( !fx.errors )  /* the first error is the cause; "Restore failed" follows it */
            snprintf(fx.last_error, sizeof(fx.last_error), "%s", msg);
        fx.errors++;
    }
    if ( fx.verbose )
        fprintf(stderr, "[xc %d%s] %s\n", (int)level, code ? " error" : "", msg);
}

void xc_report(xc_interface *xch, xentoollog_logger *lg, xentoollog_level level, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    xc_reportv(xch, lg, level, code, fmt, ap);
    va_end(ap);
}

void xc_report_error(xc_interface *xch, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    xc_reportv(xch, NULL, XTL_ERROR, code, fmt, ap);
    va_end(ap);
}

const char *xc_strerror(xc_interface *xch, int errcode)
{
    (void)xch;
    return strerror(errcode);
}

/* read_exact: read all of @size or fail; a clean end of file before any byte is errno 0. */
int read_exact(int fd, void *data, size_t size)
{
    size_t done = 0;
    while ( done < size )
    {
        ssize_t n = read(fd, (char *)data + done, size - done);
        if ( n == 0 )
        {
            errno = 0;
            return -1;
        }
        if ( n < 0 )
        {
            if ( errno == EINTR )
                continue;
            return -1;
        }
        done += (size_t)n;
    }
    return 0;
}

int writev_exact(int fd, const struct iovec *iov, int iovcnt)
{
    for ( int i = 0; i < iovcnt; i++ )
    {
        size_t done = 0;
        while ( done < iov[i].iov_len )
        {
            ssize_t n = write(fd, (const char *)iov[i].iov_base + done, iov[i].iov_len - done);
            if ( n < 0 && errno == EINTR )
                continue;
            if ( n <= 0 )
                return -1;
            done += (size_t)n;
        }
    }
    return 0;
}

uint8_t *fx_load_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if ( !f )
        return NULL;
    size_t cap = 1 << 20, n = 0;
    uint8_t *buf = malloc(cap);
    while ( buf )
    {
        if ( n == cap )
        {
            uint8_t *grown = realloc(buf, cap * 2);
            if ( !grown )
            {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        if ( r == 0 )
            break;
        n += r;
    }
    fclose(f);
    *size = n;
    return buf;
}

int fx_extract(const char *in, const char *out, const uint8_t *ident, size_t len, const char *what)
{
    size_t n = 0;
    uint8_t *d = fx_load_file(in, &n);
    const uint8_t *p = d ? memmem(d, n, ident, len) : NULL;
    if ( !p )
    {
        fprintf(stderr, "%s: no %s\n", in, what);
        free(d);
        return 1;
    }
    size_t off = (size_t)(p - d);
    FILE *f = fopen(out, "wb");
    int bad = !f || fwrite(p, 1, n - off, f) != n - off;
    if ( f && fclose(f) )
        bad = 1;
    free(d);
    return bad ? 2 : 0;
}

int fx_dump_memory(const char *path)
{
    FILE *f = fopen(path, "wb");
    if ( !f )
        return -1;
    static uint8_t page[4096];
    for ( uint64_t pfn = 0; pfn < FX_PFN_LIMIT; pfn++ )
    {
        if ( !fx_pfn_populated(pfn) )
            continue;
        if ( fx_read_pfn(pfn, page) || fwrite(&pfn, 8, 1, f) != 1 || fwrite(page, 4096, 1, f) != 1 )
        {
            fclose(f);
            return -1;
        }
    }
    return fclose(f);
}
