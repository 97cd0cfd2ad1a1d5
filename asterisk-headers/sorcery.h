/* Sorcery objects, read by field name: asterisk/sorcery.h, asterisk/config.h */
#ifndef MWIHUB_SORCERY_H
#define MWIHUB_SORCERY_H
#include "mwihub_common.h"
#include "config.h"

struct ast_sorcery;

#ifndef MWIHUB_ABI_CHECK
enum ast_sorcery_field_handler_flags {
	AST_HANDLER_PREFER_STRING = 0,
	AST_HANDLER_PREFER_LIST = 1,
	AST_HANDLER_ONLY_STRING = 2,
	AST_HANDLER_ONLY_LIST = 3,
};
#endif

/* Every field of `object` as name/value text, as pjsip.conf would spell it; the caller frees
 * the list with ast_variables_destroy. */
struct ast_variable *ast_sorcery_objectset_create2(const struct ast_sorcery *sorcery, const void *object,
	enum ast_sorcery_field_handler_flags flags);
const char *ast_sorcery_object_get_id(const void *object);
void ast_variables_destroy(struct ast_variable *var);

#endif
