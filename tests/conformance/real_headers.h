/* The real Asterisk headers covering everything asterisk-headers/ declares. */
#include <asterisk.h>
#include <asterisk/module.h>
#include <asterisk/logger.h>
#include <asterisk/options.h>
#include <asterisk/astobj2.h>
#include <asterisk/utils.h>
#include <asterisk/stringfields.h>
#include <asterisk/stasis.h>
#include <asterisk/mwi.h>
#include <asterisk/cli.h>
#include <asterisk/ast_version.h>
#include <asterisk/manager.h>
#include <asterisk/config.h>
#include <asterisk/astdb.h>
#include <asterisk/paths.h>
#include <asterisk/app.h>
#include <stddef.h>
