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

/* asterisk/config_options.h (in declaration order there). */
enum aco_option_type {
	OPT_ACL_T = 0,
	OPT_BOOL_T = 1,
	OPT_BOOLFLAG_T = 2,
	OPT_CHAR_ARRAY_T = 3,
	OPT_CODEC_T = 4,
	OPT_CUSTOM_T = 5,
	OPT_DOUBLE_T = 6,
	OPT_INT_T = 7,
	OPT_NOOP_T = 8,
};

enum ast_sorcery_retrieve_flags {
	AST_RETRIEVE_FLAG_DEFAULT = 0,
	AST_RETRIEVE_FLAG_MULTIPLE = (1 << 0),
	AST_RETRIEVE_FLAG_ALL = (1 << 1),
};

enum ast_sorcery_apply_result {
	AST_SORCERY_APPLY_FAIL = -1,
	AST_SORCERY_APPLY_SUCCESS = 0,
	AST_SORCERY_APPLY_DUPLICATE = 1,
	AST_SORCERY_APPLY_DEFAULT_UNNECESSARY = 2,
};

/* What a SORCERY_OBJECT(details) first member is: one pointer sorcery fills. */
struct ast_sorcery_object_details {
	struct ast_sorcery_object *object;
};

struct ast_sorcery_observer {
	void (*created)(const void *object);
	void (*updated)(const void *object);
	void (*deleted)(const void *object);
	void (*loaded)(const char *object_type);
};
#endif

struct aco_option;
struct ast_sorcery_object;
typedef int (*aco_option_handler)(const struct aco_option *opt, struct ast_variable *var, void *obj);
typedef void *(*aco_type_item_alloc)(const char *category);
typedef int (*sorcery_apply_handler)(const struct ast_sorcery *sorcery, void *obj);
typedef struct ast_variable *(*sorcery_transform_handler)(struct ast_variable *set);
typedef int (*sorcery_field_handler)(const void *obj, const intptr_t *args, char **buf);
typedef int (*sorcery_fields_handler)(const void *obj, struct ast_variable **fields);
typedef void (*ao2_destructor_fn)(void *vdoomed);

/* Registering an object type of our own in a sorcery instance (res_pjsip's: pjsip.conf). */
enum ast_sorcery_apply_result __ast_sorcery_apply_default(struct ast_sorcery *sorcery, const char *type, const char *module,
	const char *name, const char *data);
int __ast_sorcery_object_register(struct ast_sorcery *sorcery, const char *type, unsigned int hidden,
	unsigned int reloadable, aco_type_item_alloc alloc, sorcery_transform_handler transform,
	sorcery_apply_handler apply);
int __ast_sorcery_object_field_register(struct ast_sorcery *sorcery, const char *type, const char *name,
	const char *default_val, enum aco_option_type opt_type, aco_option_handler config_handler,
	sorcery_field_handler sorcery_handler, sorcery_fields_handler multiple_handler, unsigned int flags,
	unsigned int no_doc, unsigned int alias, size_t argc, ...);
int ast_sorcery_object_unregister(struct ast_sorcery *sorcery, const char *type);
void *ast_sorcery_generic_alloc(size_t size, ao2_destructor_fn destructor);
/* A new object of a registered type with its defaults applied, stored nowhere (a reference). */
void *ast_sorcery_alloc(const struct ast_sorcery *sorcery, const char *type, const char *id);
void ast_sorcery_load_object(const struct ast_sorcery *sorcery, const char *type);
void ast_sorcery_reload_object(const struct ast_sorcery *sorcery, const char *type);
int ast_sorcery_observer_add(const struct ast_sorcery *sorcery, const char *type,
	const struct ast_sorcery_observer *callbacks);
void ast_sorcery_observer_remove(const struct ast_sorcery *sorcery, const char *type,
	const struct ast_sorcery_observer *callbacks);
/* References the caller releases. */
void *ast_sorcery_retrieve_by_id(const struct ast_sorcery *sorcery, const char *type, const char *id);
void *ast_sorcery_retrieve_by_fields(const struct ast_sorcery *sorcery, const char *type, unsigned int flags,
	struct ast_variable *fields);

/* Every field of `object` as name/value text, as pjsip.conf would spell it; the caller frees
 * the list with ast_variables_destroy. */
struct ast_variable *ast_sorcery_objectset_create2(const struct ast_sorcery *sorcery, const void *object,
	enum ast_sorcery_field_handler_flags flags);
const char *ast_sorcery_object_get_id(const void *object);
void ast_variables_destroy(struct ast_variable *var);

#endif
