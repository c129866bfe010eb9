/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_time.h - the module's one clock (pure). */

#ifndef _HA_TIME_H_
#define _HA_TIME_H_

#include <stdint.h>
#include <time.h>

/* Monotonic clock, in milliseconds (Kamailio's ticks are 1/16 s: every
 * deadline of ha_pair is taken from this instead). Can't fail. */
static inline int64_t ha_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
