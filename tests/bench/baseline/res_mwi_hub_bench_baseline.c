/*
 * res_mwi_hub_bench_baseline: the C baseline of `make bench`.
 *
 * Runs the same publish loop as res_mwi_hub's test build (`mwi test publish-loop`), calling
 * ast_mwi_publish_by_mailbox directly, so the benchmark can compare the cost per publish of
 * the Rust layer with what a plain C module pays. Test-only: never installed.
 *
 *   mwi baseline publish-loop <count> <mailboxes> [<first>]
 *     publishes <count> states; mailbox bench<first + i % mailboxes>@bench,
 *     new = i % 100, old = i % 7, urgent = i % 3; prints
 *     "published N failed F wall_ns W cpu_ns C" (cpu: CLOCK_THREAD_CPUTIME_ID of the CLI thread).
 *   mwi baseline publish-all-loop <count> <mailboxes> [<first>]
 *     the same states, straight on the all-mailboxes topic without per-mailbox states (what
 *     res_mwi_hub does for mailboxes no module watches).
 *
 * Compiled against the project's own declarations only (asterisk-headers/asterisk_api.h).
 * Licensed GPL-2.0-or-later, as the ASTERISK_GPL_KEY text below requires.
 */
#include <stdio.h>
#include <time.h>

#include "asterisk_api.h"

#define MODULE_NAME "res_mwi_hub_bench_baseline"

/* ASTERISK_GPL_KEY: the loader checks its MD5. Same text as GPL_KEY in src/host/module.rs. */
#define BASELINE_GPL_KEY \
	"This paragraph is copyright (c) 2006 by Digium, Inc. In order for your module to load, " \
	"it must return this key via a function called \"key\".  Any code which includes this " \
	"paragraph must be licensed under the GNU General Public License version 2 or later (at " \
	"your option).  In addition to Digium's general reservations of rights, Digium expressly " \
	"reserves the right to allow other parties to license this paragraph under different " \
	"terms. Any use of Digium, Inc. trademarks or logos (including \"Asterisk\" or " \
	"\"Digium\") without express written permission of Digium, Inc. is prohibited.\n"

/* Strict decimal u32, as parse_count in the Rust module: no sign, no blanks, no overflow. */
static int parse_count(const char *text, unsigned int *out)
{
	unsigned long long value = 0;

	if (!text || !*text) {
		return -1;
	}
	for (; *text; text++) {
		if (*text < '0' || *text > '9') {
			return -1;
		}
		value = value * 10 + (unsigned int) (*text - '0');
		if (value > 0xffffffffULL) {
			return -1;
		}
	}
	*out = (unsigned int) value;
	return 0;
}

static unsigned long long ns_of(clockid_t clock)
{
	struct timespec ts = { 0, 0 };

	clock_gettime(clock, &ts);
	return (unsigned long long) ts.tv_sec * 1000000000ULL + (unsigned long long) ts.tv_nsec;
}

/* Asterisk's own publish: through the mailbox's per-mailbox state (created on first use). */
static int publish_by_mailbox(const char *mailbox, int urgent, int new_msgs, int old_msgs)
{
	return ast_mwi_publish_by_mailbox(mailbox, "bench", urgent, new_msgs, old_msgs, NULL, NULL);
}

/* Straight on the all-mailboxes topic, no per-mailbox state: what res_mwi_hub does for
 * mailboxes no module watches (src/host/mwi.rs, publish_unwatched). */
static int publish_on_all_topic(const char *mailbox, int urgent, int new_msgs, int old_msgs)
{
	struct ast_mwi_state *state = ast_mwi_create(mailbox, "bench");
	struct stasis_message *msg;

	if (!state) {
		return -1;
	}
	state->urgent_msgs = urgent;
	state->new_msgs = new_msgs;
	state->old_msgs = old_msgs;
	state->eid = ast_eid_default;
	msg = stasis_message_create_full(ast_mwi_state_type(), state, &ast_eid_default);
	__ao2_ref(state, -1, "", __FILE__, __LINE__, __func__);
	if (!msg) {
		return -1;
	}
	stasis_publish(ast_mwi_topic_all(), msg);
	__ao2_ref(msg, -1, "", __FILE__, __LINE__, __func__);
	return 0;
}

static char *publish_loop(struct ast_cli_args *a, int (*publish)(const char *, int, int, int))
{
	unsigned int count, mailboxes, first = 0, i, failed = 0;
	unsigned long long wall0, cpu0, wall, cpu;
	char mailbox[32];

	if ((a->argc != 5 && a->argc != 6) || parse_count(a->argv[3], &count)
		|| parse_count(a->argv[4], &mailboxes) || (a->argc == 6 && parse_count(a->argv[5], &first))) {
		return (char *) RESULT_SHOWUSAGE;
	}
	if (mailboxes == 0) {
		mailboxes = 1;
	}

	wall0 = ns_of(CLOCK_MONOTONIC);
	cpu0 = ns_of(CLOCK_THREAD_CPUTIME_ID);
	for (i = 0; i < count; i++) {
		snprintf(mailbox, sizeof(mailbox), "bench%u", first + i % mailboxes);
		if (publish(mailbox, (int) (i % 3), (int) (i % 100), (int) (i % 7))) {
			failed++;
		}
	}
	cpu = ns_of(CLOCK_THREAD_CPUTIME_ID) - cpu0;
	wall = ns_of(CLOCK_MONOTONIC) - wall0;

	ast_cli(a->fd, "published %u failed %u wall_ns %llu cpu_ns %llu\n", count, failed, wall, cpu);
	return (char *) RESULT_SUCCESS;
}

static char *handle_publish_loop(struct ast_cli_entry *e, int cmd, struct ast_cli_args *a)
{
	switch (cmd) {
	case CLI_INIT:
		e->command = "mwi baseline publish-loop";
		e->usage =
			"Usage: mwi baseline publish-loop <count> <mailboxes> [<first>]\n"
			"       Bench baseline: publishes <count> states over <mailboxes> mailboxes\n"
			"       bench<first + i % mailboxes>@bench straight through\n"
			"       ast_mwi_publish_by_mailbox (first: 0 unless given).\n";
		return NULL;
	case CLI_GENERATE:
		return NULL;
	}
	return publish_loop(a, publish_by_mailbox);
}

static char *handle_publish_all_loop(struct ast_cli_entry *e, int cmd, struct ast_cli_args *a)
{
	switch (cmd) {
	case CLI_INIT:
		e->command = "mwi baseline publish-all-loop";
		e->usage =
			"Usage: mwi baseline publish-all-loop <count> <mailboxes> [<first>]\n"
			"       As publish-loop, but each state goes straight on the all-mailboxes\n"
			"       MWI topic (no per-mailbox state), as res_mwi_hub publishes unwatched ones.\n";
		return NULL;
	case CLI_GENERATE:
		return NULL;
	}
	return publish_loop(a, publish_on_all_topic);
}

/* Written by Asterisk once registered: must stay writable (not const). */
static struct ast_cli_entry cli_publish_loop = {
	.handler = handle_publish_loop,
	.summary = "Bench baseline: timed publish loop in C",
};

static struct ast_cli_entry cli_publish_all_loop = {
	.handler = handle_publish_all_loop,
	.summary = "Bench baseline: timed publish loop on the all-mailboxes topic",
};

static struct ast_module_info module_info;

static enum ast_module_load_result load_module(void)
{
	if (__ast_cli_register(&cli_publish_loop, module_info.self)) {
		return AST_MODULE_LOAD_FAILURE;
	}
	if (__ast_cli_register(&cli_publish_all_loop, module_info.self)) {
		ast_cli_unregister(&cli_publish_loop);
		return AST_MODULE_LOAD_FAILURE;
	}
	return AST_MODULE_LOAD_SUCCESS;
}

static int unload_module(void)
{
	return ast_cli_unregister(&cli_publish_loop) | ast_cli_unregister(&cli_publish_all_loop);
}

/* What AST_MODULE_INFO writes: writable info, registered from a constructor. */
static struct ast_module_info module_info = {
	.self = NULL,
	.load = load_module,
	.reload = NULL,
	.unload = unload_module,
	.name = MODULE_NAME,
	.description = "res_mwi_hub bench baseline (C publish loop)",
	.key = BASELINE_GPL_KEY,
	.flags = AST_MODFLAG_LOAD_ORDER,
	.buildopt_sum = "",
	.load_pri = AST_MODPRI_DEFAULT,
	.requires = NULL,
	.optional_modules = NULL,
	.enhances = NULL,
	.support_level = AST_MODULE_SUPPORT_EXTENDED,
};

static void __attribute__((constructor)) register_module(void)
{
	ast_module_register(&module_info);
}

static void __attribute__((destructor)) unregister_module(void)
{
	ast_module_unregister(&module_info);
}
