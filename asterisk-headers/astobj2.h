/* Reference-counted objects and containers: asterisk/astobj2.h */
#ifndef MWIHUB_ASTOBJ2_H
#define MWIHUB_ASTOBJ2_H
#include "mwihub_common.h"

struct ao2_container;

#ifndef MWIHUB_ABI_CHECK
/* Returned by value from ao2_iterator_init: the layout must match exactly. */
struct ao2_iterator {
	struct ao2_container *c;
	void *last_node;
	int complete;
	int flags;
};
#endif /* MWIHUB_ABI_CHECK */

int __ao2_ref(void *o, int delta, const char *tag, const char *file, int line, const char *func);
int ao2_container_count(struct ao2_container *c);
struct ao2_iterator ao2_iterator_init(struct ao2_container *c, int flags);
void *__ao2_iterator_next(struct ao2_iterator *iter, const char *tag, const char *file, int line, const char *func);
void ao2_iterator_destroy(struct ao2_iterator *iter);

#endif
