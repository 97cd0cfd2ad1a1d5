/* XML documentation: asterisk/xmldoc.h (the same on 20, 21, 22 and 23). Only in Asterisk built
 * with XML documentation (AST_XML_DOCS), so looked up at run time, never linked: a module image
 * that binds every symbol at load still loads into a build without it. */
#ifndef MWIHUB_XMLDOC_H
#define MWIHUB_XMLDOC_H
#include "mwihub_common.h"

/* Allocated with ast_malloc (free with __ast_free); NULL when nothing is documented. */
char *ast_xmldoc_build_synopsis(const char *type, const char *name, const char *module);

#endif
