/*
 * res_mwi_hub_bench_baseline: the C baseline of `make bench`.
 *
 * Runs the same publish loop as res_mwi_hub's test build (`mwi test publish-loop`), calling
 * ast_mwi_publish_by_mailbox directly, so the benchmark can compare the cost per publish of
 * the Rust layer with what a plain C module pays. Test-only: never installed.
 *
 *   mwi baseline publish-loop <count> <mailboxes>
 *     publishes <count> states; mailbox bench<i % mailboxes>@bench,
 *     new = i % 100, old = i % 7, urgent = i % 3; prints
 *     "published N failed F wall_ns W cpu_ns C" (cpu: CLOCK_THREAD_CPUTIME_ID of the CLI thread).
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

static char *handle_publish_loop(struct ast_cli_entry *e, int cmd, struct ast_cli_args *a)
{
	unsigned int count, mailboxes, first = 0, i, failed = 0;
	unsigned long long wall0, cpu0, wall, cpu;
	char mailbox[32];

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
		if (ast_mwi_publish_by_mailbox(mailbox, "bench", (int) (i % 3), (int) (i % 100),
				(int) (i % 7), NULL, NULL)) {
			failed++;
		}
	}
	cpu = ns_of(CLOCK_THREAD_CPUTIME_ID) - cpu0;
	wall = ns_of(CLOCK_MONOTONIC) - wall0;

	ast_cli(a->fd, "published %u failed %u wall_ns %llu cpu_ns %llu\n", count, failed, wall, cpu);
	return (char *) RESULT_SUCCESS;
}

/* Written by Asterisk once registered: must stay writable (not const). */
static struct ast_cli_entry cli_publish_loop = {
	.handler = handle_publish_loop,
	.summary = "Bench baseline: timed publish loop in C",
};

static struct ast_module_info module_info;

static enum ast_module_load_result load_module(void)
{
	if (__ast_cli_register(&cli_publish_loop, module_info.self)) {
		return AST_MODULE_LOAD_FAILURE;
	}
	return AST_MODULE_LOAD_SUCCESS;
}

static int unload_module(void)
{
	return ast_cli_unregister(&cli_publish_loop);
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
