/* StreamBench xen-native: the fake hypervisor's domain model (see fake_xen.c). */
#ifndef XEN_NATIVE_FAKE_XEN_H
#define XEN_NATIVE_FAKE_XEN_H

#include <stddef.h>
#include <stdint.h>

#define FX_DOMID 1u
#define FX_PFN_LIMIT (1UL << 20)    /* gfns 0..2^20-1: 4 GiB of guest-physical space */
#define FX_MAX_PAGES (1UL << 18)    /* max_pages: 1 GiB populated */
#define FX_MAX_VCPUS 8u
#define FX_MAX_XSAVE (64u * 1024u)
#define FX_MAX_VCPU_MSRS 64u

struct fx_state {
    unsigned long mfn_base;
    int verbose;
    int hvm;
    unsigned int guest_width;
    unsigned int max_vcpus;
    unsigned long nr_populated;
    unsigned long max_gpfn;
    unsigned long maps, pins, vcpus_set, params_set, errors;
    int hvm_context_loaded, gnttab_seeded, policy_set;
    uint64_t console_gfn, xenstore_gfn;
    char last_error[512];
    char hypervisor_note[256];   /* why the fake hypervisor refused a call, if it did */
};

extern struct fx_state fx;

struct xc_interface_core;
struct xc_interface_core *fx_init(void);
/* The toolstack's allocator as Xen's restore objects see it (build.sh compiles them with -Dmalloc=fx_malloc ...):
 * with XEN_NATIVE_ALLOC_CAP_MB=N (campaigns), a single allocation above N MiB fails as malloc does when dom0 has
 * not got the memory (NULL, ENOMEM), so an input that makes restore size a buffer by a huge untrusted pfn ends in
 * restore's own error path instead of a multi-GiB memset (finding XN-4). Unset (the default): no cap. */
void *fx_malloc(size_t size);
/* Whether SIZE is over that cap (and then errno is ENOMEM). */
int fx_over_cap(size_t size);
void *fx_calloc(size_t n, size_t size);
void *fx_realloc(void *p, size_t size);
void fx_reset(int hvm);
unsigned long fx_shinfo_mfn(void);
int fx_pfn_populated(uint64_t pfn);
int fx_read_pfn(uint64_t pfn, void *out);
/* The runners' helpers: a whole file read into malloc'ed memory (NULL on any failure), and the fake domain's memory
 * written as, for every populated pfn in ascending order, u64 pfn (little-endian) then its 4096 bytes (0 or -1). */
uint8_t *fx_load_file(const char *path, size_t *size);
int fx_dump_memory(const char *path);
/* The runners' `extract IN OUT`: writes IN from the first occurrence of IDENT (LEN bytes) to its end into OUT.
 * Returns the exit code: 0 done, 1 IDENT not in IN or IN unreadable (WHAT names it on stderr), 2 OUT not written. */
int fx_extract(const char *in, const char *out, const uint8_t *ident, size_t len, const char *what);

#endif
