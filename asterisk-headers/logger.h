/* Logging: asterisk/logger.h, asterisk/options.h */
#ifndef MWIHUB_LOGGER_H
#define MWIHUB_LOGGER_H
#include "mwihub_common.h"

#ifndef MWIHUB_ABI_CHECK
#define __LOG_DEBUG 0
#define __LOG_NOTICE 2
#define __LOG_WARNING 3
#define __LOG_ERROR 4
#define __LOG_VERBOSE 5

/* Bits of ast_options.flags (asterisk/options.h): set once any `core set debug N <module>` is
 * in force; set once Asterisk is fully booted. */
#define AST_OPT_FLAG_DEBUG_MODULE (1 << 23)
#define AST_OPT_FLAG_FULLY_BOOTED (1 << 9)

struct ast_flags64 {
	uint64_t flags;
};
#endif /* MWIHUB_ABI_CHECK */

void ast_log(int level, const char *file, int line, const char *function, const char *fmt, ...);
void __ast_verbose(const char *file, int line, const char *func, int level, const char *fmt, ...);
unsigned int ast_debug_get_by_module(const char *module);

extern int option_debug;
extern int ast_verb_sys_level;
extern struct ast_flags64 ast_options;

#endif
