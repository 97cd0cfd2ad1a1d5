/* Message bus: asterisk/stasis.h */
#ifndef MWIHUB_STASIS_H
#define MWIHUB_STASIS_H
#include "mwihub_common.h"
#include "utils.h"
#include "astobj2.h"

struct stasis_topic;
struct stasis_message;
struct stasis_message_type;
struct stasis_subscription;
struct stasis_cache;

#ifndef MWIHUB_ABI_CHECK
enum stasis_subscription_message_filter {
	STASIS_SUBSCRIPTION_FILTER_NONE = 0,
	STASIS_SUBSCRIPTION_FILTER_FORCED_NONE,
	STASIS_SUBSCRIPTION_FILTER_SELECTIVE,
};

typedef void (*stasis_subscription_cb)(void *data, struct stasis_subscription *sub, struct stasis_message *message);
#endif /* MWIHUB_ABI_CHECK */

struct stasis_message_type *stasis_message_type(const struct stasis_message *msg);
void *stasis_message_data(const struct stasis_message *msg);
const struct ast_eid *stasis_message_eid(const struct stasis_message *msg);

struct stasis_subscription *__stasis_subscribe(struct stasis_topic *topic,
	stasis_subscription_cb callback, void *data, const char *file, int lineno, const char *func);
struct stasis_subscription *stasis_unsubscribe_and_join(struct stasis_subscription *subscription);
int stasis_subscription_final_message(struct stasis_subscription *sub, struct stasis_message *msg);
int stasis_subscription_accept_message_type(struct stasis_subscription *subscription,
	const struct stasis_message_type *type);
int stasis_subscription_set_filter(struct stasis_subscription *subscription,
	enum stasis_subscription_message_filter filter);

/* Publishing a message of our own (the unwatched-mailbox path of src/host/mwi.rs). */
struct stasis_message *stasis_message_create_full(struct stasis_message_type *type, void *data,
	const struct ast_eid *eid);
void stasis_publish(struct stasis_topic *topic, struct stasis_message *message);
/* The message that makes a stasis cache drop its entry for message's id. */
struct stasis_message *stasis_cache_clear_create(struct stasis_message *message);

struct stasis_message *stasis_cache_get(struct stasis_cache *cache, struct stasis_message_type *type, const char *id);
struct ao2_container *stasis_cache_dump_all(struct stasis_cache *cache, struct stasis_message_type *type);

#endif
