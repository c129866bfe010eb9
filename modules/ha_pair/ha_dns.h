/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_dns.h - the members' addresses (ha_dns.c): a configuration's members
 * resolved (may wait on DNS: never in a SIP worker, never under a lock),
 * and a source address matched against a member. */

#ifndef _HA_DNS_H_
#define _HA_DNS_H_

#include "../../core/ip_addr.h"

#include "ha_table.h"

/* The transport (ha_transports[]) of a Kamailio protocol (PROTO_UDP, ...);
 * UDP for any other. Can't fail. */
ha_transport_t ha_proto_transport(int proto);

/* Resolve every member of cfg (host names through DNS) and check there is
 * a listen socket to probe each from. It may wait on DNS: call it with no
 * lock held. Returns cfg->npairs * HA_ROLE_COUNT members in private memory
 * (pair i's member of role j at i * HA_ROLE_COUNT + j; addresses, port,
 * protocol, no strings), for the caller to free(); or NULL with err filled
 * ("pair 'x' primary: ..."). */
ha_member_t *ha_dns_resolve(const ha_cfg_t *cfg, char *err, size_t errlen);

/* Is ip (on port, any port when reliable) one of m's addresses? */
int ha_member_has(
		const ha_member_t *m, const ha_addr_t *ip, int port, int reliable);

/* Convert a Kamailio ip_addr to the pure layer's address. */
void ha_addr_from_ip(ha_addr_t *a, const struct ip_addr *ip);

#endif
