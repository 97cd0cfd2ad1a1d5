/* PJSIP as an event-subscription client (outbound MWI subscriptions): pjproject's dialogs
 * (pjsip/sip_dialog.h), event subscriptions (pjsip-simple/evsub.h), events (pjsip/sip_event.h),
 * transmit buffers and transport selection (pjsip/sip_transport.h), and res_pjsip's transport,
 * outbound-authentication and serializer helpers (asterisk/res_pjsip.h).
 * pjproject 2.15.1 (Asterisk 21.12) and 2.17 (20.20, 22, 23) agree on every declaration and
 * layout here (read upstream); the conformance check compares them with Debian's 2.17.
 * pjsip_transaction is NOT declared: its layout differs between those releases. */
#ifndef MWIHUB_PJSIP_CLIENT_H
#define MWIHUB_PJSIP_CLIENT_H
#include "mwihub_common.h"
#include "pjsip_request.h"

typedef struct pjsip_dialog pjsip_dialog;
typedef struct pjsip_evsub pjsip_evsub;
/* pjsip's user agent is a pjsip module. */
typedef pjsip_module pjsip_user_agent;
typedef struct pjsip_tpmgr pjsip_tpmgr;
typedef struct pjsip_routing_hdr pjsip_route_hdr;
struct ast_taskprocessor;

#ifndef MWIHUB_ABI_CHECK
typedef unsigned long pj_size_t;

/* pjsip/sip_types.h */
typedef enum pjsip_transport_type_e {
	PJSIP_TRANSPORT_UNSPECIFIED = 0,
	PJSIP_TRANSPORT_UDP = 1,
	PJSIP_TRANSPORT_TCP = 2,
	PJSIP_TRANSPORT_TLS = 3,
	PJSIP_TRANSPORT_IPV6 = 128,
} pjsip_transport_type_e;

/* pjsip/sip_transport.h: filled by ast_sip_set_tpselector_from_transport_name; we only
 * zero it, pass it and unref it. */
typedef enum pjsip_tpselector_type {
	PJSIP_TPSELECTOR_NONE = 0,
} pjsip_tpselector_type;

typedef struct pjsip_tpselector {
	pjsip_tpselector_type type;
	pj_bool_t disable_connection_reuse;
	void *u;
} pjsip_tpselector;

/* pjsip/sip_event.h */
typedef enum pjsip_event_id_e {
	PJSIP_EVENT_UNKNOWN = 0,
	PJSIP_EVENT_TIMER = 1,
	PJSIP_EVENT_TX_MSG = 2,
	PJSIP_EVENT_RX_MSG = 3,
	PJSIP_EVENT_TRANSPORT_ERROR = 4,
	PJSIP_EVENT_TSX_STATE = 5,
} pjsip_event_id_e;

/* pjsip/sip_transaction.h */
typedef enum pjsip_tsx_state_e {
	PJSIP_TSX_STATE_NULL = 0,
	PJSIP_TSX_STATE_CALLING = 1,
	PJSIP_TSX_STATE_TRYING = 2,
	PJSIP_TSX_STATE_PROCEEDING = 3,
	PJSIP_TSX_STATE_COMPLETED = 4,
	PJSIP_TSX_STATE_CONFIRMED = 5,
	PJSIP_TSX_STATE_TERMINATED = 6,
} pjsip_tsx_state_e;

/* The tsx_state member of pjsip_event's body union (anonymous in pjproject; named here and
 * checked as pjsip_event.body.tsx_state.<field>). src is a union of pointers and a status. */
struct mwihub_event_tsx_state {
	void *src;
	pjsip_transaction *tsx;
	int prev_state;
	pjsip_event_id_e type;
};

/* The body union: tsx_state is the member we read; user (four pointers) is the largest. */
union mwihub_event_body {
	struct mwihub_event_tsx_state tsx_state;
	void *user[4];
};

struct pjsip_event {
	struct pjsip_event *prev;
	struct pjsip_event *next;
	pjsip_event_id_e type;
	union mwihub_event_body body;
};

/* pjsip-simple/evsub.h */
typedef enum pjsip_evsub_state {
	PJSIP_EVSUB_STATE_NULL = 0,
	PJSIP_EVSUB_STATE_SENT = 1,
	PJSIP_EVSUB_STATE_ACCEPTED = 2,
	PJSIP_EVSUB_STATE_PENDING = 3,
	PJSIP_EVSUB_STATE_ACTIVE = 4,
	PJSIP_EVSUB_STATE_TERMINATED = 5,
} pjsip_evsub_state;

enum pjsip_evsub_option {
	PJSIP_EVSUB_NO_EVENT_ID = 1,
};

/* Copied by pjsip_evsub_create_uac: the struct need not outlive the call. */
typedef struct pjsip_evsub_user {
	void (*on_evsub_state)(pjsip_evsub *sub, pjsip_event *event);
	void (*on_tsx_state)(pjsip_evsub *sub, pjsip_transaction *tsx, pjsip_event *event);
	void (*on_rx_refresh)(pjsip_evsub *sub, pjsip_rx_data *rdata, int *p_st_code, pj_str_t **p_st_text,
		pjsip_hdr *res_hdr, pjsip_msg_body **p_body);
	void (*on_rx_notify)(pjsip_evsub *sub, pjsip_rx_data *rdata, int *p_st_code, pj_str_t **p_st_text,
		pjsip_hdr *res_hdr, pjsip_msg_body **p_body);
	void (*on_client_refresh)(pjsip_evsub *sub);
	void (*on_server_timeout)(pjsip_evsub *sub);
} pjsip_evsub_user;

/* asterisk/res_pjsip.h: AST_VECTOR(ast_sip_auth_vector, const char *) */
/* asterisk/res_pjsip.h: a way to name the endpoint of a request nothing else identified. */
struct ast_sip_endpoint_identifier {
	struct ast_sip_endpoint *(*identify_endpoint)(pjsip_rx_data *rdata);
};

struct ast_sip_auth_vector {
	const char **elems;
	size_t max;
	size_t current;
};
#endif /* MWIHUB_ABI_CHECK */

/* pjsip/sip_ua.h, pjsip/sip_dialog.h */
pjsip_user_agent *pjsip_ua_instance(void);
pj_status_t pjsip_dlg_create_uac(pjsip_user_agent *ua, const pj_str_t *local_uri, const pj_str_t *local_contact,
	const pj_str_t *remote_uri, const pj_str_t *target, pjsip_dialog **p_dlg);
pj_status_t pjsip_dlg_set_transport(pjsip_dialog *dlg, const pjsip_tpselector *sel);
pj_status_t pjsip_dlg_set_route_set(pjsip_dialog *dlg, const pjsip_route_hdr *route_set);
pj_status_t pjsip_dlg_inc_session(pjsip_dialog *dlg, pjsip_module *mod);
pj_status_t pjsip_dlg_dec_session(pjsip_dialog *dlg, pjsip_module *mod);
void pjsip_dlg_inc_lock(pjsip_dialog *dlg);
void pjsip_dlg_dec_lock(pjsip_dialog *dlg);

/* pjsip-simple/evsub.h */
pj_status_t pjsip_evsub_create_uac(pjsip_dialog *dlg, const pjsip_evsub_user *user_cb, const pj_str_t *event,
	unsigned option, pjsip_evsub **p_evsub);
pj_status_t pjsip_evsub_initiate(pjsip_evsub *sub, const pjsip_method *method, pj_uint32_t expires,
	pjsip_tx_data **p_tdata);
pj_status_t pjsip_evsub_send_request(pjsip_evsub *sub, pjsip_tx_data *tdata);
pj_status_t pjsip_evsub_terminate(pjsip_evsub *sub, pj_bool_t notify);
pjsip_evsub_state pjsip_evsub_get_state(const pjsip_evsub *sub);
void pjsip_evsub_set_mod_data(pjsip_evsub *sub, unsigned mod_id, void *data);
void *pjsip_evsub_get_mod_data(const pjsip_evsub *sub, unsigned mod_id);
pj_status_t pjsip_evsub_add_ref(pjsip_evsub *sub);
pj_status_t pjsip_evsub_dec_ref(pjsip_evsub *sub);

/* pjsip/sip_transport.h, pjsip/sip_endpoint.h, pjsip/sip_parser.h, pj/pool.h */
void pjsip_tx_data_add_ref(pjsip_tx_data *tdata);
pj_status_t pjsip_tx_data_dec_ref(pjsip_tx_data *tdata);
pjsip_tpmgr *pjsip_endpt_get_tpmgr(pjsip_endpoint *endpt);
pj_status_t pjsip_tpmgr_find_local_addr(pjsip_tpmgr *tpmgr, pj_pool_t *pool, pjsip_transport_type_e type,
	const pjsip_tpselector *sel, pj_str_t *ip_addr, int *port);
pj_pool_t *pjsip_endpt_create_pool(pjsip_endpoint *endpt, const char *pool_name, pj_size_t initial,
	pj_size_t increment);
void pjsip_endpt_release_pool(pjsip_endpoint *endpt, pj_pool_t *pool);
/* Any header, typed or not, by name; and its text as sent ("Name: value"), or -1 if longer
 * than len. Typed headers (Expires, Min-Expires, Retry-After, Subscription-State) are not
 * generic string headers: ast_sip_rdata_get_header_value misreads them. */
void *pjsip_msg_find_hdr_by_name(const pjsip_msg *msg, const pj_str_t *name, const void *start);
int pjsip_hdr_print_on(void *hdr, char *buf, pj_size_t len);
void *pjsip_parse_hdr(pj_pool_t *pool, const pj_str_t *hname, char *line, pj_size_t size, int *parsed_len);

/* asterisk/res_pjsip.h */
int ast_sip_set_tpselector_from_transport_name(const char *transport_name, pjsip_tpselector *selector);
void ast_sip_tpselector_unref(pjsip_tpselector *selector);
int ast_sip_auth_vector_init(struct ast_sip_auth_vector *vector, const char *auth_names);
void ast_sip_auth_vector_destroy(struct ast_sip_auth_vector *vector);
int ast_sip_create_request_with_auth(const struct ast_sip_auth_vector *auths, pjsip_rx_data *challenge,
	pjsip_tx_data *tdata, pjsip_tx_data **new_request);
struct ast_taskprocessor *ast_sip_create_serializer(const char *name);
void ast_sip_dialog_set_serializer(pjsip_dialog *dlg, struct ast_taskprocessor *serializer);
/* The association keeps the endpoint pointer without a reference: the caller holds one while
 * it is set. The artificial endpoint is res_pjsip's stand-in for "no endpoint" (a reference). */
void ast_sip_dialog_set_endpoint(pjsip_dialog *dlg, struct ast_sip_endpoint *endpoint);
struct ast_sip_endpoint *ast_sip_get_artificial_endpoint(void);
/* Identifiers named outside the endpoint_identifier_order setting run after the named ones;
 * res_pjsip keeps the name pointer (a static string of ours) until unregistered. */
int ast_sip_register_endpoint_identifier_with_name(struct ast_sip_endpoint_identifier *identifier,
	const char *name);
void ast_sip_unregister_endpoint_identifier(struct ast_sip_endpoint_identifier *identifier);
/* pjsip/sip_ua_layer.h: the dialog of (Call-ID, local tag, remote tag); an empty remote tag
 * finds a dialog that has not yet learnt the server's tag (no answer processed yet). */
pjsip_dialog *pjsip_ua_find_dialog(const pj_str_t *call_id, const pj_str_t *local_tag,
	const pj_str_t *remote_tag, pj_bool_t lock_dialog);
/* The plain names: exported by res_pjsip on every release (macros over __ast_sip_push_task*
 * since 20.18, 22.8 and 23.2, which older releases lack). */
#ifdef MWIHUB_ABI_CHECK
#undef ast_sip_push_task
#undef ast_sip_push_task_wait_serializer
#endif
int ast_sip_push_task(struct ast_taskprocessor *serializer, int (*sip_task)(void *), void *task_data);
int ast_sip_push_task_wait_serializer(struct ast_taskprocessor *serializer, int (*sip_task)(void *), void *task_data);

#endif
