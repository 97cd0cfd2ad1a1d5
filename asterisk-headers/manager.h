/* Asterisk Manager Interface actions: asterisk/manager.h */
#ifndef MWIHUB_MANAGER_H
#define MWIHUB_MANAGER_H
#include "mwihub_common.h"

struct ast_module;
struct mansession;
struct message;

#ifndef MWIHUB_ABI_CHECK
#define EVENT_FLAG_SYSTEM (1 << 0)
#define EVENT_FLAG_CALL (1 << 1)
#define EVENT_FLAG_REPORTING (1 << 9)
#endif /* MWIHUB_ABI_CHECK */

int ast_manager_register2(const char *action, int authority,
	int (*func)(struct mansession *s, const struct message *m),
	struct ast_module *module, const char *synopsis, const char *description);
int ast_manager_unregister(const char *action);

const char *astman_get_header(const struct message *m, char *var);
void astman_send_error(struct mansession *s, const struct message *m, char *error);
void astman_send_ack(struct mansession *s, const struct message *m, char *msg);
void astman_send_listack(struct mansession *s, const struct message *m, char *msg, char *listflag);
void astman_send_list_complete_start(struct mansession *s, const struct message *m, const char *event_name, int count);
void astman_send_list_complete_end(struct mansession *s);
void astman_append(struct mansession *s, const char *fmt, ...);
/* Raises an AMI event (what the manager_event macro calls); same on 20, 21, 22 and 23. */
struct ast_channel;
int __ast_manager_event_multichan(int category, const char *event, int chancount, struct ast_channel **chans,
	const char *file, int line, const char *func, const char *contents, ...);

#endif
