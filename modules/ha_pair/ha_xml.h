/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_xml.h - the libxml2 side of loading a pairs file: reading it, parsing
 * it safely, validating it against the compiled-in schema, errors as
 * "file:line: reason" (pure: no Kamailio headers; used by ha_config.c). */

#ifndef _HA_XML_H_
#define _HA_XML_H_

#include <stddef.h>

#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "ha_config.h"
#include "ha_text.h"

/* What a load is doing, so that a libxml2 message gets the right prefix: a
 * syntax error, our own schema failing to compile, the file not matching
 * the schema, or our own rules (no prefix). */
typedef enum ha_phase
{
	HA_PH_PARSE = 0,
	HA_PH_SCHEMA,
	HA_PH_VALIDATE,
	HA_PH_BUILD,
	HA_PH_COUNT
} ha_phase_t;

/* State of one load of a pairs file, handed to the libxml2 callbacks. Only
 * the first error is kept: later ones are usually consequences of it. */
typedef struct ha_loading
{
	const char *name; /* path (or name) used in messages */
	char *err;
	size_t errlen;
	int failed;
	ha_phase_t phase;
} ha_loading_t;

/* libxml2's global error handlers, as they were before a load. */
typedef struct ha_xml_handlers
{
	xmlGenericErrorFunc generic;
	void *generic_ctx;
	xmlStructuredErrorFunc structured;
	void *structured_ctx;
} ha_xml_handlers_t;

/* Record the first error as "<name>:<line>: <reason>"; later ones are
 * dropped. Control characters are replaced so that the message stays one
 * line. Returns -1 so that callers can "return ha_xml_fail(...)". */
int ha_xml_fail(ha_loading_t *ld, int line, const char *fmt, ...)
		HA_PRINTF(3, 4);

/* ha_xml_fail() with "out of memory" (line 0). Returns -1. */
int ha_xml_oom(ha_loading_t *ld);

/* Start a load named name: clear err and *out. Returns 0, or -1 when there
 * is no place for the result. */
int ha_xml_load_begin(ha_loading_t *ld, const char *name, ha_cfg_t **out,
		char *err, size_t errlen);

/* Read a whole regular file of at most HA_FILE_MAX_BYTES into a new buffer.
 * Returns 0 with *buf (free() it) and *len > 0, or -1 with the error in ld
 * (line 0) and nothing allocated. */
int ha_xml_read_file(
		ha_loading_t *ld, const char *path, char **buf, size_t *len);

/* Route libxml2's global error handlers (some errors go there whatever a
 * context says) to ld until ha_xml_errors_restore(saved). */
void ha_xml_errors_to(ha_loading_t *ld, ha_xml_handlers_t *saved);
void ha_xml_errors_restore(const ha_xml_handlers_t *saved);

/* Parse buf into a tree (no DOCTYPE, no DTD, no entity, no network) and
 * validate it against the compiled-in schema. Returns the document
 * (xmlFreeDoc() it), or NULL with the error recorded in ld. */
xmlDocPtr ha_xml_load(ha_loading_t *ld, const char *buf, size_t len);

/* Line of node in the file (an attribute: its element's); 0 if unknown. */
int ha_xml_node_line(const xmlNode *node);

/* Is n the element name (no namespace)? */
int ha_xml_is_elem(const xmlNode *n, const char *name);

/* Value of the attribute name of node (no namespace). Returns 1 and a new
 * string in *val (xmlFree() it), 0 when the attribute is absent, -1 out of
 * memory. */
int ha_xml_attr(const xmlNode *node, const char *name, char **val);

#endif
