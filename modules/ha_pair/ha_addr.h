/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_addr.h - a network address as the pure layer has it, and whether a
 * packet's source is a member's (ha_addr.c; pure, no Kamailio headers). */

#ifndef _HA_ADDR_H_
#define _HA_ADDR_H_

#include <stdint.h>

/* A network address, protocol-neutral and comparable with memcmp. */
typedef struct ha_addr
{
	uint8_t af; /* 4 or 6 */
	uint8_t ip[16];
} ha_addr_t;

/* Does a packet from src (IP, port), received over a connection-oriented
 * transport when reliable != 0, come from a member that has the addresses
 * addrs[0..n) and the port port? The source port must match unless the
 * transport is connection-oriented (TCP/TLS/WS use ephemeral ports). */
int ha_addr_is_member(const ha_addr_t *addrs, int n, int port,
		const ha_addr_t *src, int src_port, int reliable);

#endif
