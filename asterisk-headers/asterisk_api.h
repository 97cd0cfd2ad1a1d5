/* Everything res_mwi_hub declares of Asterisk: the input of bindgen (build.rs). */
#ifndef MWIHUB_ASTERISK_API_H
#define MWIHUB_ASTERISK_API_H
#include "module.h"
#include "logger.h"
#include "astobj2.h"
#include "utils.h"
#include "stasis.h"
#include "mwi.h"
#include "cli.h"
#include "version.h"
#include "manager.h"
#include "config.h"
#include "astdb.h"
#include "app.h"
#include "pjsip_request.h"
#include "pjsip_client.h"
#include "sorcery.h"
#include "taskprocessor.h"
#include "ari.h"
#include "xmldoc.h"
#endif
