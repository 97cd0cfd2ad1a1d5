/* Entity ids and Asterisk's allocator: asterisk/utils.h, asterisk/astmm.h */
#ifndef MWIHUB_UTILS_H
#define MWIHUB_UTILS_H
#include "mwihub_common.h"

#ifndef MWIHUB_ABI_CHECK
struct ast_eid {
	unsigned char eid[6];
} __attribute__((__packed__));
#endif /* MWIHUB_ABI_CHECK */

extern struct ast_eid ast_eid_default;
char *ast_eid_to_str(char *s, int maxlen, struct ast_eid *eid);

/* Strings handed to Asterisk that it frees with ast_free (CLI completions). */
char *__ast_strdup(const char *s, const char *file, int lineno, const char *func);
void __ast_free(void *ptr, const char *file, int lineno, const char *func);

#endif
