/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_xml.c - the libxml2 side of loading a pairs file: the file read whole,
 * parsed with no DOCTYPE/DTD/entity/network, validated against the
 * compiled-in schema, the first error kept as "file:line: reason" (pure). */

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <libxml/globals.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>
#include <libxml/xmlversion.h>

#include "ha_xml.h"
#include "ha_config.h"
#include "ha_text.h"
#include "ha_xsd.h"

/* libxml2 2.12 made the structured error handler take a const pointer. */
#if LIBXML_VERSION >= 21200
#define HA_XML_ERROR_T const xmlError *
#else
#define HA_XML_ERROR_T xmlErrorPtr
#endif

static const char *_ha_phase_prefix[HA_PH_COUNT] = {
		[HA_PH_PARSE] = "XML: ",
		[HA_PH_SCHEMA] = "internal error: compiled-in schema: ",
		[HA_PH_VALIDATE] = "schema: ",
		[HA_PH_BUILD] = "",
};

/* Record the first error as "<name>:<line>: <reason>"; later ones are
 * dropped. Control characters are replaced so that the message stays one
 * line. Returns -1 so that callers can "return ha_xml_fail(...)". */
int ha_xml_fail(ha_loading_t *ld, int line, const char *fmt, ...)
{
	char reason[HA_ERR_MAX];
	va_list ap;
	size_t i;

	if(ld->failed)
		return -1;
	ld->failed = 1;
	if(ld->err == NULL || ld->errlen == 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	snprintf(ld->err, ld->errlen, "%s:%d: %s", ld->name, line < 0 ? 0 : line,
			reason);
	for(i = 0; ld->err[i] != '\0'; i++) {
		if((unsigned char)ld->err[i] < 0x20)
			ld->err[i] = ' ';
	}
	return -1;
}

int ha_xml_oom(ha_loading_t *ld)
{
	return ha_xml_fail(ld, 0, "out of memory");
}

/* Start a load named name: clear err and *out. Returns 0, or -1 when there
 * is no place for the result. */
int ha_xml_load_begin(ha_loading_t *ld, const char *name, ha_cfg_t **out,
		char *err, size_t errlen)
{
	memset(ld, 0, sizeof(*ld));
	ld->name = name;
	ld->err = err;
	ld->errlen = errlen;
	if(err != NULL && errlen > 0)
		err[0] = '\0';
	if(out == NULL)
		return ha_xml_fail(ld, 0, "internal error: no place for the result");
	*out = NULL;
	return 0;
}

int ha_xml_node_line(const xmlNode *node)
{
	long l;

	if(node == NULL)
		return 0;
	if(node->type == XML_ATTRIBUTE_NODE)
		node = node->parent;
	if(node == NULL)
		return 0;
	l = xmlGetLineNo(node);
	return (l < 0 || l > INT_MAX) ? 0 : (int)l;
}

/* Structured error handler for the parser, the schema compiler and the
 * validator: keeps the first error (warnings are ignored), prints nothing. */
static void ha_xml_error(void *data, HA_XML_ERROR_T e)
{
	ha_loading_t *ld = data;
	char msg[HA_ERR_MAX];
	size_t n;
	int line;

	if(ld == NULL || e == NULL || ld->failed || e->level < XML_ERR_ERROR)
		return;
	snprintf(msg, sizeof(msg), "%s", e->message ? e->message : "error");
	n = strlen(msg);
	while(n > 0 && ha_is_xml_space((unsigned char)msg[n - 1]))
		msg[--n] = '\0';
	line = e->line;
	if(line <= 0)
		line = ha_xml_node_line(e->node);
	ha_xml_fail(ld, line, "%s%s", _ha_phase_prefix[ld->phase], msg);
}

/* Generic error handler: libxml2 must not print anything. */
static void ha_xml_silent(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

/* SAX internalSubset callback, called for any <!DOCTYPE>, before the
 * internal subset is read and before any external subset could be loaded:
 * refusing here means no DTD and no entity is ever processed. */
static void ha_xml_doctype(void *ctx, const xmlChar *name,
		const xmlChar *external_id, const xmlChar *system_id)
{
	xmlParserCtxtPtr ctxt = ctx;
	ha_loading_t *ld = ctxt->_private;

	(void)name;
	(void)external_id;
	(void)system_id;
	ha_xml_fail(ld, ctxt->input ? ctxt->input->line : 0,
			"DOCTYPE not allowed (no DTD, no entities)");
	xmlStopParser(ctxt);
}

/* Parse buf into a tree. Returns the document, or NULL with the error
 * recorded in ld. */
static xmlDocPtr ha_xml_parse(ha_loading_t *ld, const char *buf, size_t len)
{
	xmlParserCtxtPtr ctxt;
	xmlDocPtr doc;

	ld->phase = HA_PH_PARSE;
	ctxt = xmlCreateMemoryParserCtxt(buf, (int)len);
	if(ctxt == NULL) {
		ha_xml_oom(ld);
		return NULL;
	}
	/* no NOENT, DTDLOAD, DTDATTR or DTDVALID: entities stay unexpanded and
	 * no DTD is read; NONET in case anything still tried to fetch */
	xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_BIG_LINES);
	ctxt->_private = ld;
	ctxt->linenumbers = 1;
	ctxt->sax->internalSubset = ha_xml_doctype;
	ctxt->sax->externalSubset = NULL;

	xmlParseDocument(ctxt);

	doc = ctxt->myDoc;
	ctxt->myDoc = NULL;
	if(!ctxt->wellFormed || ld->failed || doc == NULL) {
		ha_xml_fail(ld, ctxt->input ? ctxt->input->line : 0,
				"XML: not well-formed");
		if(doc != NULL)
			xmlFreeDoc(doc);
		doc = NULL;
	}
	xmlFreeParserCtxt(ctxt);
	return doc;
}

/* Validate doc against the compiled-in schema. Returns 0, or -1 with the
 * error recorded in ld. */
static int ha_xml_validate(ha_loading_t *ld, xmlDocPtr doc)
{
	xmlSchemaParserCtxtPtr pctxt;
	xmlSchemaValidCtxtPtr vctxt;
	xmlSchemaPtr schema;
	int rc;

	ld->phase = HA_PH_SCHEMA;
	pctxt = xmlSchemaNewMemParserCtxt(ha_xsd, (int)(sizeof(ha_xsd) - 1));
	if(pctxt == NULL)
		return ha_xml_oom(ld);
	xmlSchemaSetParserStructuredErrors(pctxt, ha_xml_error, ld);
	schema = xmlSchemaParse(pctxt);
	xmlSchemaFreeParserCtxt(pctxt);
	/* After an error (out of memory: the schema itself is known good)
	 * libxml2 2.9 may return a half-built schema. Never validate with it,
	 * and do not free it either: xmlSchemaFree() crashes on it. Leaking it
	 * once memory has already run out beats crashing Kamailio. */
	if(schema == NULL || ld->failed)
		return ha_xml_fail(ld, 0, "internal error: cannot compile the schema");

	ld->phase = HA_PH_VALIDATE;
	vctxt = xmlSchemaNewValidCtxt(schema);
	if(vctxt == NULL) {
		xmlSchemaFree(schema);
		return ha_xml_oom(ld);
	}
	xmlSchemaSetValidStructuredErrors(vctxt, ha_xml_error, ld);
	rc = xmlSchemaValidateDoc(vctxt, doc);
	xmlSchemaFreeValidCtxt(vctxt);
	xmlSchemaFree(schema);
	if(rc != 0 || ld->failed)
		return ha_xml_fail(ld, 0, "schema: validation failed");
	return 0;
}

int ha_xml_is_elem(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && n->ns == NULL
		   && xmlStrEqual(n->name, (const xmlChar *)name);
}

/* Value of the attribute name of node (no namespace). Returns 1 and a new
 * string in *val (xmlFree() it), 0 when the attribute is absent, -1 out of
 * memory. */
int ha_xml_attr(const xmlNode *node, const char *name, char **val)
{
	const xmlAttr *a;
	xmlChar *v;

	*val = NULL;
	for(a = node->properties; a != NULL; a = a->next) {
		if(a->ns == NULL && xmlStrEqual(a->name, (const xmlChar *)name))
			break;
	}
	if(a == NULL)
		return 0;
	v = a->children ? xmlNodeListGetString(node->doc, a->children, 1)
					: xmlStrdup((const xmlChar *)"");
	if(v == NULL)
		return -1;
	*val = (char *)v;
	return 1;
}

/* Read a whole regular file of at most HA_FILE_MAX_BYTES into a new buffer.
 * Returns 0 with *buf (free() it) and *len > 0, or -1 with the error in ld
 * (line 0) and nothing allocated. */
int ha_xml_read_file(
		ha_loading_t *ld, const char *path, char **buf, size_t *len)
{
	struct stat st;
	size_t want, got = 0;
	char *b;
	int fd;

	/* O_NONBLOCK: opening a FIFO must not hang; it is refused below */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if(fd < 0)
		return ha_xml_fail(ld, 0, "%s", strerror(errno));
	if(fstat(fd, &st) < 0) {
		ha_xml_fail(ld, 0, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	if(!S_ISREG(st.st_mode)) {
		close(fd);
		return ha_xml_fail(ld, 0, "not a regular file");
	}
	if(st.st_size > HA_FILE_MAX_BYTES) {
		close(fd);
		return ha_xml_fail(ld, 0, "file too large (more than %d bytes)",
				HA_FILE_MAX_BYTES);
	}
	if(st.st_size == 0) {
		close(fd);
		return ha_xml_fail(ld, 0, "empty file");
	}
	want = (size_t)st.st_size;
	b = malloc(want);
	if(b == NULL) {
		close(fd);
		return ha_xml_oom(ld);
	}
	while(got < want) {
		ssize_t r = read(fd, b + got, want - got);
		if(r < 0 && errno == EINTR)
			continue;
		if(r < 0) {
			ha_xml_fail(ld, 0, "%s", strerror(errno));
			free(b);
			close(fd);
			return -1;
		}
		if(r == 0)
			break; /* shrunk while we read: parse what is there */
		got += (size_t)r;
	}
	close(fd);
	if(got == 0) {
		free(b);
		return ha_xml_fail(ld, 0, "empty file");
	}
	*buf = b;
	*len = got;
	return 0;
}

void ha_xml_errors_to(ha_loading_t *ld, ha_xml_handlers_t *saved)
{
	xmlInitParser();
	saved->generic = xmlGenericError;
	saved->generic_ctx = xmlGenericErrorContext;
	saved->structured = xmlStructuredError;
	saved->structured_ctx = xmlStructuredErrorContext;
	xmlSetGenericErrorFunc(NULL, ha_xml_silent);
	xmlSetStructuredErrorFunc(ld, ha_xml_error);
}

void ha_xml_errors_restore(const ha_xml_handlers_t *saved)
{
	xmlSetStructuredErrorFunc(saved->structured_ctx, saved->structured);
	xmlSetGenericErrorFunc(saved->generic_ctx, saved->generic);
}

xmlDocPtr ha_xml_load(ha_loading_t *ld, const char *buf, size_t len)
{
	xmlDocPtr doc;

	doc = ha_xml_parse(ld, buf, len);
	if(doc != NULL && ha_xml_validate(ld, doc) < 0) {
		xmlFreeDoc(doc);
		doc = NULL;
	}
	return doc;
}
