/* Message Waiting Indication state: asterisk/mwi.h, asterisk/stringfields.h */
#ifndef MWIHUB_MWI_H
#define MWIHUB_MWI_H
#include "mwihub_common.h"
#include "utils.h"
#include "stasis.h"

struct ast_channel_snapshot;
struct ast_string_field_pool;
struct ast_mwi_subscriber;
struct ast_mwi_publisher;

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

/* Told when a module (res_pjsip_mwi, app_voicemail, ...) starts or stops watching a mailbox.
 * Asterisk keeps the pointer until ast_mwi_remove_observer. */
struct ast_mwi_observer {
	void (*on_subscribe)(const char *mailbox, struct ast_mwi_subscriber *sub);
	void (*on_unsubscribe)(const char *mailbox, struct ast_mwi_subscriber *sub);
};

typedef int (*on_mwi_state)(struct ast_mwi_state *mwi_state, void *data);
#endif /* MWIHUB_ABI_CHECK */

/* Note the order: urgent first. This is the only publish path that carries urgent counts.
 * channel_id may be NULL; eid NULL means this server. */
int ast_mwi_publish_by_mailbox(const char *mailbox, const char *context, int urgent_msgs,
	int new_msgs, int old_msgs, const char *channel_id, struct ast_eid *eid);
int ast_delete_mwi_state_full(const char *mailbox, const char *context, struct ast_eid *eid);
/* A publisher for one mailbox id (an ao2 object; releasing the last reference removes it).
 * Publishing through it skips the MWI core's lookup of the id among all states. */
struct ast_mwi_publisher *ast_mwi_add_publisher(const char *mailbox);
int ast_mwi_publish(struct ast_mwi_publisher *publisher, int urgent_msgs,
	int new_msgs, int old_msgs, const char *channel_id, struct ast_eid *eid);
/* A new state object (counts 0, refcount 1, ours): context NULL keeps mailbox verbatim as id. */
struct ast_mwi_state *ast_mwi_create(const char *mailbox, const char *context);
struct stasis_topic *ast_mwi_topic_all(void);
struct stasis_cache *ast_mwi_state_cache(void);
struct stasis_message_type *ast_mwi_state_type(void);
int ast_mwi_add_observer(struct ast_mwi_observer *observer);
void ast_mwi_remove_observer(struct ast_mwi_observer *observer);
/* Calls handler for every mailbox that has at least one subscriber; non-zero stops. */
void ast_mwi_state_callback_subscribed(on_mwi_state handler, void *data);

#endif
