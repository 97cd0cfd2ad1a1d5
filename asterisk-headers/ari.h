/* ARI REST resources: asterisk/ari.h, asterisk/http.h, asterisk/json.h (the same on 20, 21, 22
 * and 23). res_ari is optional: its functions (ast_ari_*) are looked up at run time, never
 * linked, so a module image that binds every symbol at load still loads without it. */
#ifndef MWIHUB_ARI_H
#define MWIHUB_ARI_H
#include "mwihub_common.h"

struct ast_tcptls_session_instance;
struct ast_variable;
struct ast_json;
struct ast_json_error;
struct ast_ari_response;
struct ast_websocket_server;

#ifndef MWIHUB_ABI_CHECK
enum ast_http_method {
	AST_HTTP_UNKNOWN = -1,
	AST_HTTP_GET = 0,
	AST_HTTP_POST,
	AST_HTTP_HEAD,
	AST_HTTP_PUT,
	AST_HTTP_DELETE,
	AST_HTTP_OPTIONS,
	AST_HTTP_MAX_METHOD,
};

enum ast_json_encoding_format {
	AST_JSON_COMPACT,
	AST_JSON_PRETTY,
	AST_JSON_SORTED,
};

typedef void (*stasis_rest_callback)(
	struct ast_tcptls_session_instance *ser,
	struct ast_variable *get_params, struct ast_variable *path_vars,
	struct ast_variable *headers, struct ast_json *body,
	struct ast_ari_response *response);

/* One path segment. Asterisk's has an anonymous union of ws_server and is_websocket where
 * ws_server is: both are unused by plain REST resources (left zero). */
struct stasis_rest_handlers {
	const char *path_segment;
	int is_wildcard;
	stasis_rest_callback callbacks[AST_HTTP_MAX_METHOD];
	struct ast_websocket_server *ws_server;
	size_t num_children;
	struct stasis_rest_handlers *children[];
};
#endif /* MWIHUB_ABI_CHECK */

/* res_ari (run-time lookup only). */
int ast_ari_add_handler(struct stasis_rest_handlers *handler);
int ast_ari_remove_handler(struct stasis_rest_handlers *handler);
void ast_ari_response_ok(struct ast_ari_response *response, struct ast_json *message);
void ast_ari_response_no_content(struct ast_ari_response *response);
void ast_ari_response_error(struct ast_ari_response *response, int response_code,
	const char *response_text, const char *message_fmt, ...);

/* The core's JSON (linked as usual). */
char *ast_json_dump_string_format(struct ast_json *root, enum ast_json_encoding_format format);
struct ast_json *ast_json_load_string(const char *input, struct ast_json_error *error);
void ast_json_free(void *p);
void ast_json_unref(struct ast_json *value);

#endif
