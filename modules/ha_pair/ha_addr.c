/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_addr.c - whether a packet's source is a member's (pure). */

#include <string.h>

#include "ha_addr.h"

int ha_addr_is_member(const ha_addr_t *addrs, int n, int port,
		const ha_addr_t *src, int src_port, int reliable)
{
	int i;

	if(!reliable && src_port != port)
		return 0;
	for(i = 0; i < n; i++) {
		if(addrs[i].af == src->af
				&& memcmp(addrs[i].ip, src->ip, src->af == 6 ? 16 : 4) == 0)
			return 1;
	}
	return 0;
}
