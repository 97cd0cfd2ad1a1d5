/* Message Waiting Indication state: asterisk/mwi.h, asterisk/stringfields.h */
#ifndef MWIHUB_MWI_H
#define MWIHUB_MWI_H
#include "mwihub_common.h"
#include "utils.h"
#include "stasis.h"

struct ast_channel_snapshot;
struct ast_string_field_pool;

#ifndef MWIHUB_ABI_CHECK
/* AST_VECTOR(ast_string_field_vector, const char **) */
struct ast_string_field_vector {
	const char ***elems;
	size_t max;
	size_t current;
};

struct ast_string_field_mgr {
	const char *last_alloc;
	struct ast_string_field_pool *embedded_pool;
	struct ast_string_field_vector string_fields;
};

/* Payload of every ast_mwi_state_type() message; owned by the message. */
struct ast_mwi_state {
	struct ast_string_field_pool *__field_mgr_pool;
	const char *uniqueid;
	struct ast_string_field_mgr __field_mgr;
	int new_msgs;
	int old_msgs;
	struct ast_channel_snapshot *snapshot;
	struct ast_eid eid;
	int urgent_msgs;
};
#endif /* MWIHUB_ABI_CHECK */

/* Note the order: urgent first. This is the only publish path that carries urgent counts.
 * channel_id may be NULL; eid NULL means this server. */
int ast_mwi_publish_by_mailbox(const char *mailbox, const char *context, int urgent_msgs,
	int new_msgs, int old_msgs, const char *channel_id, struct ast_eid *eid);
int ast_delete_mwi_state_full(const char *mailbox, const char *context, struct ast_eid *eid);
struct stasis_topic *ast_mwi_topic_all(void);
struct stasis_cache *ast_mwi_state_cache(void);
struct stasis_message_type *ast_mwi_state_type(void);

#endif
