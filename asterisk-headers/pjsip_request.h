/* PJSIP, as res_mwi_hub touches it: the pjproject 2.17 structures of an incoming request (with
 * the config_site.h that Asterisk bundles: PJSIP_MAX_PKT_LEN 65535, PJSIP_MAX_MODULE 38,
 * PJ_INET6_ADDRSTRLEN 46), pjsip/sip_module.h, pjsip/sip_msg.h, pjsip/sip_transport.h,
 * pjsip/sip_util.h, and the res_pjsip service API (asterisk/res_pjsip.h).
 * Only fields we read are given real types; the rest are opaque pointers of the right size.
 * tests/conformance checks every offset here against Debian's pjproject headers. */
#ifndef MWIHUB_PJSIP_REQUEST_H
#define MWIHUB_PJSIP_REQUEST_H
#include "mwihub_common.h"

typedef struct pjsip_endpoint pjsip_endpoint;
typedef struct pjsip_tx_data pjsip_tx_data;
typedef struct pjsip_transaction pjsip_transaction;
typedef struct pjsip_event pjsip_event;
typedef struct pjsip_transport pjsip_transport;
typedef struct pj_pool_t pj_pool_t;
typedef struct pjsip_uri pjsip_uri;
typedef struct pjsip_rx_data pjsip_rx_data;
typedef struct pjsip_msg pjsip_msg;
typedef struct pjsip_msg_body pjsip_msg_body;
typedef struct pjsip_hdr pjsip_hdr;
struct pjsip_hdr_vptr;
struct ast_sip_endpoint;

typedef int pj_status_t;
typedef int pj_bool_t;
typedef long pj_ssize_t;
typedef unsigned int pj_uint32_t;

#ifndef MWIHUB_ABI_CHECK
/* pj/types.h: a length-counted string, not NUL-terminated. */
typedef struct pj_str_t {
	char *ptr;
	pj_ssize_t slen;
} pj_str_t;

typedef struct pj_time_val {
	long sec;
	long msec;
} pj_time_val;

/* pjsip/sip_module.h: pjsip writes prev/next/id while the module is registered. */
typedef struct pjsip_module {
	struct pjsip_module *prev;
	struct pjsip_module *next;
	pj_str_t name;
	int id;
	int priority;
	pj_status_t (*load)(pjsip_endpoint *endpt);
	pj_status_t (*start)(void);
	pj_status_t (*stop)(void);
	pj_status_t (*unload)(void);
	pj_bool_t (*on_rx_request)(pjsip_rx_data *rdata);
	pj_bool_t (*on_rx_response)(pjsip_rx_data *rdata);
	pj_status_t (*on_tx_request)(pjsip_tx_data *tdata);
	pj_status_t (*on_tx_response)(pjsip_tx_data *tdata);
	void (*on_tsx_state)(pjsip_transaction *tsx, pjsip_event *event);
} pjsip_module;

/* pjsip/sip_msg.h */
enum pjsip_method_e {
	PJSIP_INVITE_METHOD = 0,
	PJSIP_CANCEL_METHOD = 1,
	PJSIP_ACK_METHOD = 2,
	PJSIP_BYE_METHOD = 3,
	PJSIP_REGISTER_METHOD = 4,
	PJSIP_OPTIONS_METHOD = 5,
	PJSIP_OTHER_METHOD = 6,
};

enum pjsip_msg_type_e {
	PJSIP_REQUEST_MSG = 0,
	PJSIP_RESPONSE_MSG = 1,
};

typedef struct pjsip_method {
	enum pjsip_method_e id;
	pj_str_t name;
} pjsip_method;

/* PJSIP_DECL_HDR_MEMBER: the list links, type, name, short name and virtual table. */
struct pjsip_hdr {
	struct pjsip_hdr *prev;
	struct pjsip_hdr *next;
	int type;
	pj_str_t name;
	pj_str_t sname;
	struct pjsip_hdr_vptr *vptr;
};

/* Call-ID is a pjsip_generic_string_hdr (pjsip_cid_hdr). */
typedef struct pjsip_generic_string_hdr {
	struct pjsip_generic_string_hdr *prev;
	struct pjsip_generic_string_hdr *next;
	int type;
	pj_str_t name;
	pj_str_t sname;
	struct pjsip_hdr_vptr *vptr;
	pj_str_t hvalue;
} pjsip_generic_string_hdr;
typedef pjsip_generic_string_hdr pjsip_cid_hdr;

typedef struct pjsip_cseq_hdr {
	struct pjsip_cseq_hdr *prev;
	struct pjsip_cseq_hdr *next;
	int type;
	pj_str_t name;
	pj_str_t sname;
	struct pjsip_hdr_vptr *vptr;
	int cseq;
	pjsip_method method;
} pjsip_cseq_hdr;

typedef struct pjsip_param {
	struct pjsip_param *prev;
	struct pjsip_param *next;
	pj_str_t name;
	pj_str_t value;
} pjsip_param;

/* pjsip/sip_msg.h: From and To; `tag` is the dialog tag (empty when absent). */
typedef struct pjsip_fromto_hdr {
	struct pjsip_fromto_hdr *prev;
	struct pjsip_fromto_hdr *next;
	int type;
	pj_str_t name;
	pj_str_t sname;
	struct pjsip_hdr_vptr *vptr;
	void *uri;
	pj_str_t tag;
	pjsip_param other_param;
} pjsip_fromto_hdr;

typedef struct pjsip_media_type {
	pj_str_t type;
	pj_str_t subtype;
	pjsip_param param;
} pjsip_media_type;

struct pjsip_msg_body {
	pjsip_media_type content_type;
	void *data;
	unsigned len;
	int (*print_body)(struct pjsip_msg_body *msg_body, char *buf, size_t size);
	void *(*clone_data)(pj_pool_t *pool, const void *data, unsigned len);
};

/* The first line: a request line or a status line (a union in pjproject, named here). */
struct pjsip_request_line {
	pjsip_method method;
	pjsip_uri *uri;
};

struct pjsip_status_line {
	int code;
	pj_str_t reason;
};

union mwihub_msg_line {
	struct pjsip_request_line req;
	struct pjsip_status_line status;
};

struct pjsip_msg {
	enum pjsip_msg_type_e type;
	union mwihub_msg_line line;
	pjsip_hdr hdr;
	pjsip_msg_body *body;
};

/* pj/ioqueue.h and pjsip/sip_transport.h */
typedef struct pj_ioqueue_op_key_t {
	void *internal__[32];
	void *activesock_data;
	void *user_data;
} pj_ioqueue_op_key_t;

typedef struct pjsip_rx_data_op_key {
	pj_ioqueue_op_key_t op_key;
	pjsip_rx_data *rdata;
} pjsip_rx_data_op_key;

typedef struct pjsip_parser_err_report {
	struct pjsip_parser_err_report *prev;
	struct pjsip_parser_err_report *next;
	int except_code;
	int line;
	int col;
	pj_str_t hname;
} pjsip_parser_err_report;

/* The four parts of pjsip_rx_data are anonymous structs in pjproject; named here so bindgen
 * and the conformance check can address them (checked as pjsip_rx_data.<part>.<field>). */
struct mwihub_rx_tp_info {
	pj_pool_t *pool;
	pjsip_transport *transport;
	void *tp_data;
	pjsip_rx_data_op_key op_key;
};

/* pj_sockaddr: a union of the IPv4 and IPv6 socket addresses (28 bytes, 4-aligned). */
struct mwihub_pj_sockaddr {
	uint32_t opaque[7];
};

struct mwihub_rx_pkt_info {
	pj_time_val timestamp;
	char packet[65535];
	pj_uint32_t zero;
	pj_ssize_t len;
	struct mwihub_pj_sockaddr src_addr;
	int src_addr_len;
	char src_name[46];
	int src_port;
};

struct mwihub_rx_msg_info {
	char *msg_buf;
	int len;
	pjsip_msg *msg;
	char *info;
	pjsip_cid_hdr *cid;
	pjsip_fromto_hdr *from;
	pjsip_fromto_hdr *to;
	void *via;
	pjsip_cseq_hdr *cseq;
	void *max_fwd;
	void *route;
	void *record_route;
	void *ctype;
	void *clen;
	void *require;
	void *supported;
	pjsip_parser_err_report parse_err;
};

struct mwihub_rx_endpt_info {
	void *mod_data[38];
};

struct pjsip_rx_data {
	struct mwihub_rx_tp_info tp_info;
	struct mwihub_rx_pkt_info pkt_info;
	struct mwihub_rx_msg_info msg_info;
	struct mwihub_rx_endpt_info endpt_info;
};
#endif /* MWIHUB_ABI_CHECK */

/* pjsip/sip_util.h: answers a request without a transaction. */
pj_status_t pjsip_endpt_respond_stateless(pjsip_endpoint *endpt, pjsip_rx_data *rdata, int st_code,
	const pj_str_t *st_text, const pjsip_hdr *hdr_list, const pjsip_msg_body *body);

/* asterisk/res_pjsip.h */
int ast_sip_register_service(pjsip_module *module);
void ast_sip_unregister_service(pjsip_module *module);
pjsip_endpoint *ast_sip_get_pjsip_endpoint(void);
struct ast_sorcery *ast_sip_get_sorcery(void);
/* A reference the caller releases; NULL when the request was not identified. */
struct ast_sip_endpoint *ast_pjsip_rdata_get_endpoint(pjsip_rx_data *rdata);
/* The value of the first header of that name, in the request's pool; NULL if absent. */
char *ast_sip_rdata_get_header_value(pjsip_rx_data *rdata, const pj_str_t str);

#endif
