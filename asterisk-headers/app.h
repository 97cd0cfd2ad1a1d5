/* The voicemail provider role: asterisk/app.h */
#ifndef MWIHUB_APP_H
#define MWIHUB_APP_H
#include "mwihub_common.h"

struct ast_module;

#ifndef MWIHUB_ABI_CHECK
#define VM_MODULE_VERSION 2

typedef int (ast_has_voicemail_fn)(const char *mailboxes, const char *folder);
typedef int (ast_inboxcount_fn)(const char *mailboxes, int *newmsgs, int *oldmsgs);
typedef int (ast_inboxcount2_fn)(const char *mailboxes, int *urgentmsgs, int *newmsgs, int *oldmsgs);
typedef int (ast_messagecount_fn)(const char *mailbox_id, const char *folder);

/* Only the counting functions are provided; the message-handling ones stay NULL, which
 * Asterisk reports as "not supported by the provider". */
struct ast_vm_functions {
	unsigned int module_version;
	const char *module_name;
	struct ast_module *module;
	ast_has_voicemail_fn *has_voicemail;
	ast_inboxcount_fn *inboxcount;
	ast_inboxcount2_fn *inboxcount2;
	ast_messagecount_fn *messagecount;
	void *copy_recording_to_vm;
	void *index_to_foldername;
	void *mailbox_snapshot_create;
	void *mailbox_snapshot_destroy;
	void *msg_move;
	void *msg_remove;
	void *msg_forward;
	void *msg_play;
};
#endif /* MWIHUB_ABI_CHECK */

int ast_vm_is_registered(void);
int __ast_vm_register(const struct ast_vm_functions *vm_table, struct ast_module *module);
void ast_vm_unregister(const char *module_name);

#endif
