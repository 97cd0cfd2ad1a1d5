/* Asterisk's key/value database (astdb): asterisk/astdb.h, asterisk/paths.h */
#ifndef MWIHUB_ASTDB_H
#define MWIHUB_ASTDB_H
#include "mwihub_common.h"

#ifndef MWIHUB_ABI_CHECK
struct ast_db_entry {
	struct ast_db_entry *next;
	char *key;
	char data[0];
};
#endif /* MWIHUB_ABI_CHECK */

struct ast_db_entry *ast_db_gettree(const char *family, const char *keytree);
void ast_db_freetree(struct ast_db_entry *entry);
int ast_db_put(const char *family, const char *key, const char *value);

/* The astdb file (e.g. /var/lib/asterisk/astdb): our own database lives beside it. */
extern const char *ast_config_AST_DB;

#endif
