/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_probe.h - the prober (ha_probe.c): its process, the
 * probes it sends and the answers it takes, and its schedule. */

#ifndef _HA_PROBE_H_
#define _HA_PROBE_H_

#include "../../core/parser/msg_parser.h"

#include "ha_table.h"

int ha_probe_mod_init(void);
int ha_probe_fork(void);
int ha_probe_reply_cb(struct sip_msg *msg, unsigned int flags, void *param);
#endif
