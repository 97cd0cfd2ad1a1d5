/* Command line interface: asterisk/cli.h */
#ifndef MWIHUB_CLI_H
#define MWIHUB_CLI_H
#include "mwihub_common.h"

struct ast_module;

#ifndef MWIHUB_ABI_CHECK
#define AST_MAX_CMD_LEN 16
#define RESULT_SUCCESS 0
#define RESULT_SHOWUSAGE 1
#define RESULT_FAILURE 2

enum ast_cli_command {
	CLI_INIT = -2,
	CLI_GENERATE = -3,
	CLI_HANDLER = -4,
};

struct ast_cli_args {
	const int fd;
	const int argc;
	const char * const *argv;
	const char *line;
	const char *word;
	const int pos;
	const int n;
};

/* AST_LIST_ENTRY(ast_cli_entry) */
struct ast_cli_entry_list_link {
	struct ast_cli_entry *next;
};

/* Asterisk writes into registered entries (cmda, _full_cmd, inuse, ...): keep them writable. */
struct ast_cli_entry {
	const char * const cmda[AST_MAX_CMD_LEN];
	const char * const summary;
	const char * usage;
	int inuse;
	struct ast_module *module;
	char *_full_cmd;
	int cmdlen;
	int args;
	char *command;
	char *(*handler)(struct ast_cli_entry *e, int cmd, struct ast_cli_args *a);
	struct ast_cli_entry_list_link list;
};
#endif /* MWIHUB_ABI_CHECK */

void ast_cli(int fd, const char *fmt, ...);
int __ast_cli_register(struct ast_cli_entry *e, struct ast_module *mod);
int ast_cli_unregister(struct ast_cli_entry *e);

#endif
