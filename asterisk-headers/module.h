/* Module registration: asterisk/module.h */
#ifndef MWIHUB_MODULE_H
#define MWIHUB_MODULE_H
#include "mwihub_common.h"

struct ast_module;

#ifndef MWIHUB_ABI_CHECK
enum ast_module_load_result {
	AST_MODULE_LOAD_SUCCESS = 0,
	AST_MODULE_LOAD_DECLINE = 1,
	AST_MODULE_LOAD_SKIP = 2,
	AST_MODULE_LOAD_PRIORITY = 3,
	AST_MODULE_LOAD_FAILURE = -1,
};

enum ast_module_flags {
	AST_MODFLAG_DEFAULT = 0,
	AST_MODFLAG_GLOBAL_SYMBOLS = (1 << 0),
	AST_MODFLAG_LOAD_ORDER = (1 << 1),
};

enum ast_module_load_priority {
	AST_MODPRI_REALTIME_DEPEND = 10,
	AST_MODPRI_CORE = 40,
	AST_MODPRI_CHANNEL_DEPEND = 60,
	AST_MODPRI_CHANNEL_DRIVER = 70,
	AST_MODPRI_APP_DEPEND = 80,
	AST_MODPRI_DEFAULT = 128,
};

enum ast_module_support_level {
	AST_MODULE_SUPPORT_UNKNOWN,
	AST_MODULE_SUPPORT_CORE,
	AST_MODULE_SUPPORT_EXTENDED,
	AST_MODULE_SUPPORT_DEPRECATED,
};

/* Written by the loader (self) and read by it: must live in writable memory. */
struct ast_module_info {
	struct ast_module *self;
	enum ast_module_load_result (*load)(void);
	int (*reload)(void);
	int (*unload)(void);
	const char *name;
	const char *description;
	const char *key;
	unsigned int flags;
	const char buildopt_sum[33];
	unsigned char load_pri;
	const char *requires;
	const char *optional_modules;
	const char *enhances;
	void *reserved1;
	void *reserved2;
	void *reserved3;
	void *reserved4;
	enum ast_module_support_level support_level;
};
#endif /* MWIHUB_ABI_CHECK */

void ast_module_register(const struct ast_module_info *);
void ast_module_unregister(const struct ast_module_info *);
/* Where modules are loaded from (asterisk.conf's astmoddir); set before modules load. */
extern const char *ast_config_AST_MODULE_DIR;
/* Calls modentry for every module in the loader's list, under the list's lock (a recursive
 * mutex: a loader callback of ours may call it); status is "Running" or "Not Running". */
int ast_update_module_list_data(int (*modentry)(const char *module, const char *description,
                                                int usecnt, const char *status, const char *like,
                                                enum ast_module_support_level support_level,
                                                void *data),
                                const char *like, void *data);

#endif
