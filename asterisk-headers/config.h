/* Configuration files: asterisk/config.h, asterisk/utils.h (struct ast_flags) */
#ifndef MWIHUB_CONFIG_H
#define MWIHUB_CONFIG_H
#include "mwihub_common.h"

struct ast_config;
struct ast_comment;

#ifndef MWIHUB_ABI_CHECK
/* ast_config_load2 also returns these sentinels: (void *)0 missing, -1 unchanged, -2 invalid. */
enum {
	CONFIG_FLAG_WITHCOMMENTS = (1 << 0),
	CONFIG_FLAG_FILEUNCHANGED = (1 << 1),
	CONFIG_FLAG_NOCACHE = (1 << 2),
};

struct ast_flags {
	unsigned int flags;
};

struct ast_variable {
	const char *name;
	const char *value;
	struct ast_variable *next;
	const char *file;
	int lineno;
	int object;
	int blanklines;
	int inherited;
	struct ast_comment *precomments;
	struct ast_comment *sameline;
	struct ast_comment *trailing;
	char stuff[0];
};
#endif /* MWIHUB_ABI_CHECK */

struct ast_config *ast_config_load2(const char *filename, const char *who_asked, struct ast_flags flags);
struct ast_variable *ast_variable_browse(const struct ast_config *config, const char *category_name);
void ast_config_destroy(struct ast_config *cfg);

#endif
