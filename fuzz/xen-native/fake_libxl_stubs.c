/*
 * StreamBench xen-native: what Xen's libxl_internal.c, libxl_aoutils.c and libxl_dom_save.c refer to but the
 * restore-stream path never calls (xenstore, child processes, QMP, timers, the save side, domain configuration
 * files). Each aborts, naming itself, so a path that does reach one is seen at once (docs/FUZZING.md, "Harness (b)").
 * This file deliberately includes no libxl header: the stubs only need to resolve the symbol; none reads its
 * arguments or returns.
 */
#include <stdio.h>
#include <stdlib.h>

static void unreached(const char *what)
{
    fprintf(stderr, "fake_libxl: %s reached: it is not on the restore-stream path the fake models\n", what);
    abort();
}

#define STUB(name) void name(void); void name(void) { unreached(#name); }

/* libxl_internal.c */
STUB(libxl__arch_update_domain_config)
STUB(libxl__domid_history_path)
STUB(libxl__ev_child_fork)
STUB(libxl__ev_child_kill_deregister)
STUB(libxl__userdata_path)
STUB(libxl__userdata_retrieve)
STUB(libxl__userdata_store)
STUB(libxl__xs_libxl_path)
STUB(libxl__xs_read)
STUB(libxl_device_model_version_from_string)
STUB(libxl_domain_config_from_json)
STUB(libxl_domain_config_to_json)
STUB(libxl_domain_info)
STUB(libxl_fd_set_cloexec)
STUB(libxl_report_child_exitstatus)
STUB(libxl_uuid_copy)
/* libxl_device.c's table of device types, which libxl__update_domain_configuration walks (never called here): empty. */
void *device_type_tbl[1];
/* libxl_aoutils.c */
STUB(libxl__ev_time_deregister)
STUB(libxl__ev_time_register_rel)
STUB(libxl__ev_xswatch_deregister)
STUB(libxl__ev_xswatch_register)
STUB(libxl__exec)
STUB(libxl__recvmsg_fds)
STUB(libxl__sendmsg_fds)
STUB(libxl__xs_read_checked)
/* libxl_dom_save.c */
STUB(libxl__colo_save_teardown)
STUB(libxl__domain_suspend_callback)
STUB(libxl__domain_suspend_init)
STUB(libxl__ev_evtchn_cancel)
STUB(libxl__ev_qmp_dispose)
STUB(libxl__ev_qmp_init)
STUB(libxl__ev_qmp_send)
STUB(libxl__qmp_param_add_bool)
STUB(libxl__remus_teardown)
STUB(libxl__stream_write_start)
STUB(libxl__xc_domain_saverestore_async_callback_done)
STUB(libxl__xs_directory)
STUB(libxl__xs_rm_checked)
STUB(libxl__xs_transaction_abort)
STUB(libxl__xs_transaction_commit)
STUB(libxl__xs_transaction_start)
STUB(libxl__xs_write_checked)
STUB(libxl_defbool_val)
STUB(xc_domain_getvnuma)
STUB(xc_suspend_evtchn_release)
