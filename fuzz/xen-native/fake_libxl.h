/* StreamBench xen-native: the fake libxl around Xen's own libxl_stream_read.c (see fake_libxl.c). */
#ifndef XEN_NATIVE_FAKE_LIBXL_H
#define XEN_NATIVE_FAKE_LIBXL_H

#include <stddef.h>
#include <stdint.h>

/* Where libxl_stream_read.c writes the emulator context (XEN_LIB_DIR "/qemu-resume.<domid>"); build.sh passes the
 * same directory as XEN_LIB_DIR when it compiles Xen's libxl files. */
#define FXL_SCRATCH_DIR "/tmp/streambench-xen-native-libxl"

enum fxl_mode { FXL_PLAIN = 0, FXL_REMUS = 1 };

struct fxl_result {
    int rc;                          /* the stream's completion rc (libxl's ERROR_*; 0 = restored) */
    int completed;                   /* the completion callback ran */
    int libxc_started, libxc_retval; /* libxl__xc_domain_restore ran; xc_domain_restore's return */
    unsigned long checkpoints;       /* libxc checkpoints libxl acknowledged with XGR_CHECKPOINT_SUCCESS */
    unsigned long xenstore_keys;     /* keys libxl__restore_emulator_xenstore_data wrote */
    unsigned long events;            /* fd events the loop dispatched */
    unsigned long states;            /* back channel: CHECKPOINT_STATE records the reader reported */
    unsigned long dirty_lists;       /* back channel: libxc CHECKPOINT_DIRTY_PFN_LIST records read */
    size_t over_cap;                 /* campaign mode: the allocation over the cap that ended the run (XL-5) */
    char last_error[512];            /* the last message libxl logged at ERROR or worse */
};

/* Restores the libxl stream on fd (positioned at the libxl stream header) into the fake domain of fake_xen.c, which
 * the caller has reset (fx_reset) for the guest type. Runs libxl's state machine to its completion callback. */
int fxl_restore(int fd, int hvm, enum fxl_mode mode, struct fxl_result *out);

/* A COLO primary reading its secondary's back channel on fd, as libxl_colo_save.c does: the reader started with
 * back_channel set (no domain-create state), then libxl__stream_read_checkpoint_state() for one CHECKPOINT_STATE
 * record after another; after CHECKPOINT_SVM_SUSPENDED, the libxc save side's CHECKPOINT_DIRTY_PFN_LIST record.
 * Ends at the first failure or at the end of the input. Returns the last rc (0: the channel ended cleanly). */
int fxl_back_channel(int fd, struct fxl_result *out);

/* libxl's allocator as Xen's libxl objects see it (build.sh compiles them with -Dmalloc=fxl_malloc ...). Without
 * XEN_NATIVE_ALLOC_CAP_MB (the default, strict mode) it is malloc. With the cap (campaigns), an allocation over it
 * is where xl would die (libxl__alloc_failed: log and _exit; finding XL-5, a record header's length sizes the
 * body's buffer): while libxl's own code runs, the input's run ends there, its records are freed and the result says
 * so (rc ERROR_NOMEM, completed 0, over_cap set), and the next input runs in the same process; inside the in-process
 * libxc (whose callbacks call back into libxl) it returns NULL and libxl__alloc_failed does what it does. */
void *fxl_malloc(size_t size);
void *fxl_calloc(size_t n, size_t size);
void *fxl_realloc(void *p, size_t size);

/* libxl's verbosity: 0 errors are only captured (last_error), 1 printed to stderr, 2 with debug messages. */
void fxl_set_verbose(int level);

#endif
