/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_rpc.h - the RPC commands ha_pair.* (ha_rpc.c). */

#ifndef _HA_RPC_H_
#define _HA_RPC_H_

#include "../../core/rpc.h"

extern rpc_export_t ha_rpc_cmds[];

#endif
