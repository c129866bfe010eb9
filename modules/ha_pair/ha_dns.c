/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_dns.c - the members' addresses: each member of a configuration
 * resolved (an IP literal, or a host name through Kamailio's resolver, with
 * SRV and NAPTR per RFC 3263), the listen socket to probe it from checked,
 * and a request's source address matched against a member. Resolving may
 * wait on DNS: it runs with no lock held, outside SIP workers. */

#include <string.h>
#include <stdlib.h>

#include "../../core/ip_addr.h"
#include "../../core/resolve.h"
#include "../../core/socket_info.h"

#include "ha_dns.h"
#include "ha_addr.h"
#include "ha_config.h"
#include "ha_fsm.h"
#include "ha_pair.h"
#include "ha_table.h"
#include "ha_uri.h"

void ha_addr_from_ip(ha_addr_t *a, const struct ip_addr *ip)
{
	/* sizes known at compile time: no call on the request path */
	memset(a, 0, sizeof(*a));
	if(ip->af == AF_INET6) {
		a->af = 6;
		memcpy(a->ip, ip->u.addr, 16);
	} else {
		a->af = 4;
		memcpy(a->ip, ip->u.addr, 4);
	}
}

/* Kamailio's protocol of each transport: the one map between the two. */
static const int _ha_tr_proto[HA_TR_COUNT] = {
		[HA_TR_UDP] = PROTO_UDP,
		[HA_TR_TCP] = PROTO_TCP,
		[HA_TR_TLS] = PROTO_TLS,
};

static int proto_of(ha_transport_t tr)
{
	return _ha_tr_proto[tr];
}

ha_transport_t ha_proto_transport(int proto)
{
	int t;

	for(t = 0; t < HA_TR_COUNT; t++) {
		if(_ha_tr_proto[t] == proto)
			return (ha_transport_t)t;
	}
	return HA_TR_UDP;
}

/* Add ip on port to m's addresses (once). Returns 0, or -1 when m has
 * HA_MAX_ADDRS already: the member is refused rather than some of its
 * requests silently taken as from anyone else. */
static int member_add_addr(ha_member_t *m, const struct ip_addr *ip, int port)
{
	ha_addr_t a;
	int i;

	ha_addr_from_ip(&a, ip);
	for(i = 0; i < m->naddrs; i++)
		if(memcmp(&m->addrs[i], &a, sizeof(a)) == 0 && m->aports[i] == port)
			return 0;
	if(m->naddrs >= HA_MAX_ADDRS)
		return -1;
	m->aports[m->naddrs] = port;
	m->addrs[m->naddrs++] = a;
	return 0;
}

int ha_member_has(
		const ha_member_t *m, const ha_addr_t *ip, int port, int reliable)
{
	int i;

	for(i = 0; i < m->naddrs; i++)
		if(ha_addr_is_member(&m->addrs[i], 1, m->aports[i], ip, port, reliable))
			return 1;
	return 0;
}

/* The A and AAAA records of name, each on port, into m. Returns 0, or -1
 * when m has no room for them. */
static int member_add_host(ha_member_t *m, char *name, int port)
{
	static const int types[] = {T_A, T_AAAA};
	struct rdata *head, *rd;
	struct ip_addr ip;
	int i, rc = 0;

	for(i = 0; i < 2 && rc == 0; i++) {
		head = get_record(name, types[i], RES_ONLY_TYPE);
		for(rd = head; rd != NULL && rc == 0; rd = rd->next) {
			memset(&ip, 0, sizeof(ip));
			if(rd->type == T_A) {
				ip.af = AF_INET;
				ip.len = 4;
				memcpy(ip.u.addr, ((struct a_rdata *)rd->rdata)->ip, 4);
			} else if(rd->type == T_AAAA) {
				ip.af = AF_INET6;
				ip.len = 16;
				memcpy(ip.u.addr, ((struct aaaa_rdata *)rd->rdata)->ip6, 16);
			} else {
				continue;
			}
			rc = member_add_addr(m, &ip, port);
		}
		if(head != NULL)
			free_rdata_list(head);
	}
	return rc;
}

/* Every target of the SRV records named srv: their addresses, each on its
 * target's port. Returns 0, or -1 when m has no room for them. */
static int member_add_srv(ha_member_t *m, char *srv)
{
	struct rdata *head, *rd;
	struct srv_rdata *r;
	int rc = 0;

	head = get_record(srv, T_SRV, RES_ONLY_TYPE);
	for(rd = head; rd != NULL && rc == 0; rd = rd->next) {
		if(rd->type != T_SRV)
			continue;
		r = (struct srv_rdata *)rd->rdata;
		rc = member_add_host(m, r->name, r->port);
	}
	if(head != NULL)
		free_rdata_list(head);
	return rc;
}

/* A member with no port in its URI (RFC 3263): the resolver picked one
 * target to probe, but requests may come from any target of its SRV
 * records (those NAPTR records of its transport point to, and the
 * _sip._udp / _sip._tcp / _sips._tcp name of the host). Returns 0, or -1
 * when m has no room for them. */
static int member_add_targets(ha_member_t *m, const char *host)
{
	struct rdata *head, *rd;
	struct naptr_rdata *n;
	char name[MAX_DNS_NAME];
	int rc = 0;

	head = get_record((char *)host, T_NAPTR, RES_ONLY_TYPE);
	for(rd = head; rd != NULL && rc == 0; rd = rd->next) {
		if(rd->type != T_NAPTR)
			continue;
		n = (struct naptr_rdata *)rd->rdata;
		if(naptr_get_sip_proto(n) != m->proto || n->repl_len == 0)
			continue;
		rc = member_add_srv(m, n->repl);
	}
	if(head != NULL)
		free_rdata_list(head);
	if(rc == 0
			&& snprintf(name, sizeof(name), "%s%s",
					   ha_transports[ha_proto_transport(m->proto)].srv, host)
					   < (int)sizeof(name))
		rc = member_add_srv(m, name);
	return rc;
}

/* Resolve a member (m->proto set): an IP literal directly; a host name
 * through Kamailio's resolver, with SRV/NAPTR (RFC 3263) when the URI gives
 * no port. All the host's addresses are kept for recognising requests from
 * the member. May wait on DNS: never call it with a lock held. Returns 0,
 * or -1 with err filled. */
static int member_resolve(
		ha_member_t *m, const ha_uri_t *u, char *err, size_t errlen)
{
	str host = {(char *)u->host, strlen(u->host)};
	struct ip_addr *ip;
	struct ip_addr hip;
	struct hostent *he;
	/* no transport in the URI: RFC 3263 lets NAPTR records choose it
	 * (with dns_try_naptr; Kamailio skips NAPTR for a given transport) */
	char proto = u->transport_set || u->secure ? m->proto : 0;
	int i;

	ip = str2ip(&host);
	if(ip == NULL)
		ip = str2ip6(&host);
	m->by_name = ip == NULL;
	if(ip != NULL) {
		m->port = ha_uri_port(u);
		init_su(&m->dst, ip, m->port);
		return member_add_addr(m, ip, m->port);
	}
	if(sip_hostport2su(&m->dst, &host, (unsigned short)u->port, &proto) < 0) {
		snprintf(err, errlen, "cannot resolve host '%s'", u->host);
		return -1;
	}
	if(proto == PROTO_UDP || proto == PROTO_TCP || proto == PROTO_TLS)
		m->proto = proto; /* the transport NAPTR chose (UDP without) */
	m->port = su_getport(&m->dst);
	su2ip_addr(&hip, &m->dst);
	if(member_add_addr(m, &hip, m->port) < 0)
		goto full;
	he = resolvehost((char *)u->host);
	if(he != NULL) {
		for(i = 0; he->h_addr_list[i] != NULL; i++) {
			hostent2ip_addr(&hip, he, i);
			if(member_add_addr(m, &hip, m->port) < 0)
				goto full;
		}
	}
	/* and from DNS itself: the resolver's hostent (its DNS cache) has room
	 * for 10 addresses only */
	if(member_add_host(m, (char *)u->host, m->port) < 0)
		goto full;
	if(u->port == 0 && member_add_targets(m, u->host) < 0)
		goto full;
	return 0;
full:
	snprintf(err, errlen,
			"host '%s' resolves to more than %d addresses (the most a member "
			"can have)",
			u->host, HA_MAX_ADDRS);
	return -1;
}

/* Is there a listen socket to probe m from? Refusing a member that could
 * never be probed beats a pair that silently never works. */
static int member_check_socket(ha_member_t *m, char *err, size_t errlen)
{
	const char *tr = ha_transports[ha_proto_transport(m->proto)].name;
	struct socket_info **list, *si;

	if(_ha_probe_sock != NULL
			&& (_ha_probe_sock->proto != m->proto
					|| _ha_probe_sock->address.af != m->dst.s.sa_family)) {
		/* probes to it could not leave from probe_socket */
		snprintf(err, errlen,
				"probe_socket %.*s cannot probe a member over %s and IPv%d: "
				"all members must use its transport and address family (or "
				"leave probe_socket unset)",
				_ha_probe_sock->sock_str.len, _ha_probe_sock->sock_str.s, tr,
				m->dst.s.sa_family == AF_INET6 ? 6 : 4);
		return -1;
	}
	/* at start-up the sockets are not open yet (get_send_socket() cannot
	 * answer): look for one of the member's transport and family */
	list = get_sock_info_list(m->proto);
	for(si = list ? *list : NULL; si != NULL; si = si->next) {
		if(si->address.af == m->dst.s.sa_family)
			return 0;
	}
	snprintf(err, errlen,
			"no listen socket to probe it from (%s over IPv%d): add a "
			"listen=%s:...%s",
			tr, m->dst.s.sa_family == AF_INET6 ? 6 : 4, tr,
			m->proto == PROTO_UDP ? "" : " (and disable_tcp=no)");
	return -1;
}


ha_member_t *ha_dns_resolve(const ha_cfg_t *cfg, char *err, size_t errlen)
{
	ha_member_t *res, *m;
	char merr[256];
	int i, j;

	res = calloc(cfg->npairs > 0 ? cfg->npairs * HA_ROLE_COUNT : 1,
			sizeof(ha_member_t));
	if(res == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for(i = 0; i < cfg->npairs; i++) {
		for(j = 0; j < HA_ROLE_COUNT; j++) {
			m = &res[i * HA_ROLE_COUNT + j];
			m->proto = proto_of(cfg->pairs[i].parsed[j].transport);
			if(member_resolve(m, &cfg->pairs[i].parsed[j], merr, sizeof(merr))
							< 0
					|| member_check_socket(m, merr, sizeof(merr)) < 0) {
				snprintf(err, errlen, "pair '%s' %s: %s", cfg->pairs[i].name,
						ha_role_name(j), merr);
				free(res);
				return NULL;
			}
		}
	}
	return res;
}
