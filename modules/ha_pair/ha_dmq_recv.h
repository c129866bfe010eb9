/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_dmq_recv.h - the handler of the pool's messages (ha_dmq_recv.c). */

#ifndef _HA_DMQ_RECV_H_
#define _HA_DMQ_RECV_H_

#include "../../core/parser/msg_parser.h"
#include "../../modules/dmq/bind_dmq.h"

/* dmq's peer callback for ha_pair's KDMQ requests, in a dmq worker
 * (given to ha_dmq_mod_init()): refuses a source that is no node of the
 * pool (403), takes a change, a state, a batch or a sync request. Returns
 * 0. */
int ha_dmq_handle(struct sip_msg *msg, peer_reponse_t *resp, dmq_node_t *node);

#endif
