/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_genesys_route.c - X-Genesys-Route: the next hop a pair member names
 * for its own outbound request (SPEC 3). Honoured only on requests from a
 * member; removed from every request; a malformed value is logged and
 * ignored. */

#include <string.h>

#include "../../core/data_lump.h"
#include "../../core/dprint.h"
#include "../../core/resolve.h"
#include "../../core/trim.h"
#include "../../core/parser/parse_uri.h"

#include "ha_genesys_route.h"

static str _ha_genesys_route_hdr = str_init("X-Genesys-Route");

/* Take an X-Genesys-Route value apart: a sip: or sips: URI, bare or in <>,
 * whose host is an IP address (IPv4, or IPv6 in brackets), with or without
 * a user part, a port and parameters (;lr, ;transport= in any case, others),
 * as RFC 3261 allows. A host name is malformed: no DNS on the request path.
 * Headers (?...) are malformed: the value is a next hop, not a request to
 * build. The URI is used as it is as $du (a user part there is harmless:
 * only host, port and transport choose the next hop). Returns 0 with the URI
 * in *uri (pointing into the message), or -1 when it is malformed. */
static int genesys_route_parse(str *body, str *uri)
{
	struct sip_uri pu;
	str v = *body;

	trim(&v);
	if(v.len >= 2 && v.s[0] == '<') {
		if(v.s[v.len - 1] != '>')
			return -1;
		v.s++;
		v.len -= 2;
		trim(&v);
	}
	/* parse_uri() makes sip:...;user=phone a TEL_URI_T: the scheme is
	 * looked at here */
	if(v.len <= 5 || memchr(v.s, '>', v.len) != NULL
			|| (strncasecmp(v.s, "sip:", 4) != 0
					&& strncasecmp(v.s, "sips:", 5) != 0)
			|| parse_uri(v.s, v.len, &pu) < 0 || pu.headers.len > 0
			|| pu.host.len <= 0)
		return -1;
	if(str2ip(&pu.host) == NULL && str2ip6(&pu.host) == NULL)
		return -1;
	/* udp, tcp, tls in any case (parse_uri ignores it); sctp, ws and others
	 * are no transport of a pair member */
	if(pu.transport_val.len > 0 && pu.proto != PROTO_UDP
			&& pu.proto != PROTO_TCP && pu.proto != PROTO_TLS)
		return -1;
	*uri = v;
	return 0;
}

/* Whether a header name X-Genesys-Route starts at p. */
static inline int genesys_route_name_at(char *p, char *end)
{
	if((*p | 0x20) != 'x' || end - p <= _ha_genesys_route_hdr.len
			|| strncasecmp(
					   p, _ha_genesys_route_hdr.s, _ha_genesys_route_hdr.len)
					   != 0)
		return 0;
	for(p += _ha_genesys_route_hdr.len; p < end && (*p == ' ' || *p == '\t');
			p++)
		;
	return p < end && *p == ':';
}

/* Whether msg carries an X-Genesys-Route: the headers parsed so far are
 * looked up in their list, the rest by the first letters of each raw line
 * (folded lines start with white space, so only names are looked at; the
 * scan stops at the empty line). Far cheaper than parsing every header,
 * which most requests, without one, never need. */
static int genesys_route_present(struct sip_msg *msg)
{
	struct hdr_field *hf;
	char *p, *end = msg->buf + msg->len, *nl;

	for(hf = msg->headers; hf != NULL; hf = hf->next)
		if(hf->type == HDR_OTHER_T && hf->name.len == _ha_genesys_route_hdr.len
				&& strncasecmp(
						   hf->name.s, _ha_genesys_route_hdr.s, hf->name.len)
						   == 0)
			return 1;
	if(msg->eoh != NULL)
		return 0; /* every header is in the list */
	p = msg->unparsed;
	if(p == NULL || p <= msg->buf) {
		/* nothing parsed yet: the first line is not a header */
		p = memchr(msg->buf, '\n', msg->len);
		if(p == NULL)
			return 0;
		p++;
	}
	for(;;) {
		if(p >= end || *p == '\r' || *p == '\n')
			return 0; /* the end of the headers */
		if(genesys_route_name_at(p, end))
			return 1;
		nl = memchr(p, '\n', end - p);
		if(nl == NULL)
			return 0;
		p = nl + 1;
	}
}

int ha_genesys_route_take(struct sip_msg *msg, str *uri)
{
	struct hdr_field *hf;
	int rc = 0;

	if(!genesys_route_present(msg))
		return 0;
	if(parse_headers(msg, HDR_EOH_F, 0) < 0) {
		LM_ERR("cannot parse the headers\n");
		return -1;
	}
	for(hf = msg->headers; hf != NULL; hf = hf->next) {
		if(hf->type != HDR_OTHER_T || hf->name.len != _ha_genesys_route_hdr.len
				|| strncasecmp(
						   hf->name.s, _ha_genesys_route_hdr.s, hf->name.len)
						   != 0)
			continue;
		if(del_lump(msg, hf->name.s - msg->buf, hf->len, 0) == NULL)
			LM_ERR("cannot remove X-Genesys-Route\n");
		if(uri == NULL || rc != 0)
			continue;
		if(genesys_route_parse(&hf->body, uri) == 0) {
			rc = 1;
		} else {
			LM_WARN("malformed X-Genesys-Route '%.*s' from %s:%d: removed, "
					"ignored\n",
					hf->body.len > 128 ? 128 : hf->body.len, hf->body.s,
					ip_addr2a(&msg->rcv.src_ip), msg->rcv.src_port);
			rc = -1;
		}
	}
	return rc;
}
