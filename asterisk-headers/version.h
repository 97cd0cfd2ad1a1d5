/* Version of the running Asterisk: asterisk/ast_version.h */
#ifndef MWIHUB_VERSION_H
#define MWIHUB_VERSION_H

const char *ast_get_version(void);

#endif
