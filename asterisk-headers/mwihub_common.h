/* Shared by every header here: fixed-width types and the ABI-check switch. */
#ifndef MWIHUB_COMMON_H
#define MWIHUB_COMMON_H
#include <stddef.h>
#include <stdint.h>
#endif
