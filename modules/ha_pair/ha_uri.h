/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_uri.h - member URIs of ha_pair: the transports (one table: names,
 * default ports, SRV prefixes), URI and host parsing (pure). */

#ifndef _HA_URI_H_
#define _HA_URI_H_

#include <stddef.h>

/* a member URI: longer ones are refused (events carry it whole) */
#define HA_URI_MAX 512

typedef enum ha_transport
{
	HA_TR_UDP = 0,
	HA_TR_TCP,
	HA_TR_TLS,
	HA_TR_COUNT
} ha_transport_t;

/* What each transport is called and where it goes by default: the one
 * definition the parser, the resolver and the prober all read. */
typedef struct ha_transport_info
{
	const char *name; /* "udp": the transport= parameter, messages */
	const char *via;  /* "UDP": the transport of a Via header */
	const char *srv;  /* "_sip._udp.": SRV name prefix (RFC 3263) */
	int port;		  /* default port (5060, TLS 5061) */
} ha_transport_info_t;

extern const ha_transport_info_t ha_transports[HA_TR_COUNT];

/* A member URI taken apart. host is the bare host (no brackets for IPv6);
 * port is 0 when the URI gives none (then SRV/NAPTR or the default port
 * applies); transport is UDP unless the URI says otherwise (sips: TLS). */
typedef struct ha_uri
{
	char host[256];
	int port;
	ha_transport_t transport;
	int transport_set; /* the URI names a transport itself */
	int is_ipv6;	   /* host is an IPv6 literal */
	int is_ip;		   /* host is an IPv4 or IPv6 literal */
	int secure;		   /* sips: scheme */
} ha_uri_t;

/* Take a member URI apart: sip: or sips:, an optional user part, a host
 * (IPv4, [IPv6] or a host name), an optional port 1..65535 and parameters of
 * which only transport=udp|tcp|tls is interpreted. Returns 0, or -1 with a
 * reason in err (u unchanged). */
int ha_uri_parse(const char *s, ha_uri_t *u, char *err, size_t errlen);

/* The port u goes to without DNS: its own, else its transport's default. */
int ha_uri_port(const ha_uri_t *u);

/* Do two member URIs name the same place? Same transport, same port (an IP
 * literal without a port means the default port of its transport) and the
 * same host (IPv6 compared as addresses, names without regard to case). */
int ha_uri_same(const ha_uri_t *a, const ha_uri_t *b);

/* Check the host text h[0..n): "[IPv6]", a dotted quad or a host name.
 * On success 0 is returned and u->host, u->is_ip, u->is_ipv6 are set; on
 * failure -1 with the reason in err and u unchanged. */
int ha_host_parse(
		const char *h, size_t n, ha_uri_t *u, char *err, size_t errlen);

#endif
