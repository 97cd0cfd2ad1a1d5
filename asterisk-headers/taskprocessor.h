/* Taskprocessor queues and Asterisk's overload alert: asterisk/taskprocessor.h.
 * Same declarations on branches 20, 21, 22 and 23 (read upstream). Stasis names each
 * subscription's queue "stasis/<m|p>:<topic>-<%08x of ast_taskprocessor_seq_num()>" on all four. */
#ifndef MWIHUB_TASKPROCESSOR_H
#define MWIHUB_TASKPROCESSOR_H
#include "mwihub_common.h"

struct ast_taskprocessor;

#ifndef MWIHUB_ABI_CHECK
enum ast_tps_options {
	TPS_REF_DEFAULT = 0,
	TPS_REF_IF_EXISTS = (1 << 0),
};
#endif /* MWIHUB_ABI_CHECK */

/* A reference to the named taskprocessor; with TPS_REF_IF_EXISTS NULL when there is none. */
struct ast_taskprocessor *ast_taskprocessor_get(const char *name, enum ast_tps_options create);
void *ast_taskprocessor_unreference(struct ast_taskprocessor *tps);
/* Takes the next sequence number (it increments the counter). */
unsigned int ast_taskprocessor_seq_num(void);
/* Tasks waiting in the queue. */
long ast_taskprocessor_size(struct ast_taskprocessor *tps);
/* How many taskprocessors are over their high-water mark now; while it is not 0, res_pjsip
 * (taskprocessor_overload_trigger = global) drops every new incoming request. */
unsigned int ast_taskprocessor_alert_get(void);
/* Non-zero when the calling thread is running a task of `tps` (same on 20, 21, 22 and 23). */
int ast_taskprocessor_is_task(struct ast_taskprocessor *tps);

#endif
