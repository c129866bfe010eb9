/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_dmq_sec.c - the pool's keys and the checks every pool message passes
 * before it is read: dmq authenticates nothing (it trusts a source address
 * and a From URI that anyone on the pool's network can forge over UDP), so
 * ha_pair signs what it sends (ha_seal.c) and drops what is not signed by
 * a pool key, not sent by the node its source address is, not for this
 * proxy, out of time, or seen before. */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../core/dprint.h"
#include "../../core/ip_addr.h"
#include "../../core/counters.h"
#include "../../core/locking.h"
#include "../../core/mem/shm_mem.h"
#include "../../core/parser/parse_uri.h"

#include "ha_dmq_sec.h"
#include "ha_dmq.h"
#include "ha_dmq_int.h"
#include "ha_fsm.h"
#include "ha_seal.h"
#include "ha_text.h"
#include "ha_time.h"

#define HA_SEC_ORIGINS 32		/* replay windows (nodes of the pool) */
#define HA_SEC_LOGS 32			/* rejection log limits kept */
#define HA_SEC_LOG_MS 60000		/* one log line per source and reason */
#define HA_SEC_FILE_MAX 65536	/* a key file, at most */
#define HA_TIME_WINDOW_MAX 3600 /* pool_time_window, s, at most */

str _ha_pool_secret_file = STR_NULL;
int _ha_pool_time_window = 30;

/* Why a message was dropped: each has its statistic and log text. */
typedef enum ha_reject
{
	HA_REJ_UNSIGNED = 0,
	HA_REJ_MALFORMED,
	HA_REJ_KEY,
	HA_REJ_MAC,
	HA_REJ_ORIGIN,
	HA_REJ_TO,
	HA_REJ_TIME,
	HA_REJ_REPLAY,
	HA_REJ_COUNT
} ha_reject_t;

static const char *_ha_reject_text[HA_REJ_COUNT] = {
		[HA_REJ_UNSIGNED] = "not signed (a proxy without pool keys, or "
							"an older ha_pair)",
		[HA_REJ_MALFORMED] = "malformed",
		[HA_REJ_KEY] = "signed with a key this proxy has not",
		[HA_REJ_MAC] = "a bad signature",
		[HA_REJ_ORIGIN] = "signed by another node than its source address",
		[HA_REJ_TO] = "for another node",
		[HA_REJ_TIME] = "sent too far from this proxy's clock "
						"(pool_time_window)",
		[HA_REJ_REPLAY] = "a replay (seen before, or from an older boot)",
};

/* A pool node's replay window, and the boot whose sync it answered. */
typedef struct ha_sec_origin
{
	char origin[HA_ORIGIN_MAX]; /* "": free */
	ha_replay_t win;
	uint64_t sync_boot;
	int64_t used_ms;
} ha_sec_origin_t;

/* When a rejection was last logged for a source. */
typedef struct ha_sec_log
{
	struct ip_addr ip;
	int reason;
	int64_t at_ms;
} ha_sec_log_t;

/* Shared by every process, guarded by lock. */
typedef struct ha_sec
{
	gen_lock_t lock;
	ha_keyring_t ring;
	uint64_t seq; /* the last counter this boot sent */
	ha_sec_origin_t o[HA_SEC_ORIGINS];
	ha_sec_log_t log[HA_SEC_LOGS];
} ha_sec_t;

static ha_sec_t *_ha_sec = NULL;
/* when this proxy started (ms since the epoch): its boot id */
static uint64_t _ha_boot_ms = 0;

static stat_var *_ha_stat_rejected = NULL;
static stat_var *_ha_stat_rej[HA_REJ_COUNT];
static stat_var *_ha_stat_duplicates = NULL;

static stat_export_t ha_sec_stats[] = {{"peer_rejected", 0, &_ha_stat_rejected},
		{"peer_rejected_unsigned", 0, &_ha_stat_rej[HA_REJ_UNSIGNED]},
		{"peer_rejected_malformed", 0, &_ha_stat_rej[HA_REJ_MALFORMED]},
		{"peer_rejected_key", 0, &_ha_stat_rej[HA_REJ_KEY]},
		{"peer_rejected_mac", 0, &_ha_stat_rej[HA_REJ_MAC]},
		{"peer_rejected_origin", 0, &_ha_stat_rej[HA_REJ_ORIGIN]},
		{"peer_rejected_to", 0, &_ha_stat_rej[HA_REJ_TO]},
		{"peer_rejected_time", 0, &_ha_stat_rej[HA_REJ_TIME]},
		{"peer_rejected_replay", 0, &_ha_stat_rej[HA_REJ_REPLAY]},
		{"peer_duplicates", 0, &_ha_stat_duplicates}, {0, 0, 0}};

/* The wall clock in ms since the epoch (send times and boot ids; deadlines
 * use the monotonic ha_now_ms()). */
static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ha_dmq_keys_read(ha_keyring_t *kr, char *err, size_t errlen)
{
	static const char *what[] = {"", "no key in it",
			"a key shorter than 32 characters",
			"a key longer than 256 characters",
			"a key with a space or control character in it", "more than 8 keys",
			"the same key twice"};
	char *buf = NULL;
	struct stat sb;
	ssize_t n;
	size_t len = 0;
	int fd, rc, line = 0;

	fd = open(_ha_pool_secret_file.s, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if(fd < 0) {
		snprintf(err, errlen,
				"pool_secret_file %s: %s (make one with: "
				"openssl rand -hex 32 > FILE; chmod 600 FILE)",
				_ha_pool_secret_file.s, strerror(errno));
		return -1;
	}
	if(fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "pool_secret_file %s: not a regular file",
				_ha_pool_secret_file.s);
		goto error;
	}
	if(sb.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(err, errlen,
				"pool_secret_file %s: mode %04o lets others "
				"than its owner read it (chmod 600 %s)",
				_ha_pool_secret_file.s, (unsigned)(sb.st_mode & 07777),
				_ha_pool_secret_file.s);
		goto error;
	}
	if(sb.st_size > HA_SEC_FILE_MAX) {
		snprintf(err, errlen, "pool_secret_file %s: over %d bytes",
				_ha_pool_secret_file.s, HA_SEC_FILE_MAX);
		goto error;
	}
	buf = pkg_malloc(HA_SEC_FILE_MAX);
	if(buf == NULL) {
		snprintf(err, errlen, "out of memory reading pool_secret_file");
		goto error;
	}
	while(len < HA_SEC_FILE_MAX
			&& (n = read(fd, buf + len, HA_SEC_FILE_MAX - len)) != 0) {
		if(n < 0) {
			if(errno == EINTR)
				continue;
			snprintf(err, errlen, "pool_secret_file %s: %s",
					_ha_pool_secret_file.s, strerror(errno));
			goto error;
		}
		len += (size_t)n;
	}
	rc = ha_keyring_parse(buf, len, kr, &line);
	if(rc < 0) {
		rc = -rc < (int)(sizeof(what) / sizeof(what[0])) ? -rc : 1;
		snprintf(err, errlen,
				"pool_secret_file %s:%d: %s (one key a line, "
				"32 to 256 characters: openssl rand -hex 32)",
				_ha_pool_secret_file.s, line, what[rc]);
		goto error;
	}
	memset(buf, 0, len);
	pkg_free(buf);
	close(fd);
	return 0;

error:
	if(buf != NULL) {
		memset(buf, 0, len);
		pkg_free(buf);
	}
	close(fd);
	return -1;
}

void ha_dmq_keys_set(ha_keyring_t *kr)
{
	int i;

	lock_get(&_ha_sec->lock);
	ha_keyring_wipe(&_ha_sec->ring);
	_ha_sec->ring = *kr;
	lock_release(&_ha_sec->lock);
	/* ids name keys without telling them */
	for(i = 0; i < kr->n; i++)
		LM_INFO("pool key %d of %d: id %s%s\n", i + 1, kr->n, kr->key[i].id,
				i == 0 ? " (signs)" : "");
	ha_keyring_wipe(kr);
}

/* A copy of the pool's keys, for one message (the caller wipes it). */
static void keys_get(ha_keyring_t *kr)
{
	lock_get(&_ha_sec->lock);
	*kr = _ha_sec->ring;
	lock_release(&_ha_sec->lock);
}

int ha_dmq_seal(const char *to, const char *msg, int len, char *out, int size)
{
	ha_keyring_t kr;
	ha_seal_hdr_t h;
	int n;

	memset(&h, 0, sizeof(h));
	snprintf(h.origin, sizeof(h.origin), "%s", _ha_dmq_self);
	snprintf(h.to, sizeof(h.to), "%s", to[0] != '\0' ? to : "*");
	h.boot = _ha_boot_ms;
	h.ts = wall_ms();
	lock_get(&_ha_sec->lock);
	h.seq = ++_ha_sec->seq;
	kr = _ha_sec->ring;
	lock_release(&_ha_sec->lock);
	n = ha_seal(&kr, &h, msg, (size_t)len, out, (size_t)size);
	ha_keyring_wipe(&kr);
	if(n < 0)
		LM_ERR("a pool message of %d bytes cannot be signed (no room, or "
			   "no key)\n",
				len);
	return n;
}

/* Count a rejection for reason r and log it, at most once a minute per
 * source address and reason (anyone can send these: the log must not be
 * theirs to fill). */
static void reject(struct sip_msg *msg, ha_reject_t r, const char *origin)
{
	char q[HA_PRINTABLE_SIZE(HA_ORIGIN_MAX)];
	int64_t now = ha_now_ms();
	int i, slot = 0, log = 1;

	update_stat(_ha_stat_rejected, 1);
	update_stat(_ha_stat_rej[r], 1);
	lock_get(&_ha_sec->lock);
	for(i = 0; i < HA_SEC_LOGS; i++) {
		if(_ha_sec->log[i].at_ms != 0 && _ha_sec->log[i].reason == (int)r
				&& ip_addr_cmp(&_ha_sec->log[i].ip, &msg->rcv.src_ip)) {
			slot = i;
			log = now - _ha_sec->log[i].at_ms >= HA_SEC_LOG_MS;
			break;
		}
		if(_ha_sec->log[i].at_ms < _ha_sec->log[slot].at_ms)
			slot = i; /* the oldest, to take over */
	}
	if(log) {
		_ha_sec->log[slot].ip = msg->rcv.src_ip;
		_ha_sec->log[slot].reason = r;
		_ha_sec->log[slot].at_ms = now;
	}
	lock_release(&_ha_sec->lock);
	if(!log)
		return;
	/* a signed origin is a peer's text: its control bytes stay out */
	HA_PR(origin != NULL ? origin : "", q);
	LM_WARN("a pool message from %s:%d%s%s dropped: %s (counted in "
			"peer_rejected_*; logged once a minute per source and "
			"reason)\n",
			ip_addr2a(&msg->rcv.src_ip), msg->rcv.src_port,
			q[0] != '\0' ? ", signed as " : "", q, _ha_reject_text[r]);
}

void ha_dmq_reject_content(struct sip_msg *msg)
{
	reject(msg, HA_REJ_MALFORMED, NULL);
}

/* Is origin (a DMQ address) a node of the pool whose address is msg's
 * source? Host, port and transport are compared as dmq compares nodes;
 * under dmq's node list lock (a node is freed by any process). */
static int origin_is_source(struct sip_msg *msg, const char *origin)
{
	dmq_node_list_t *list = *_ha_dmq_nodes;
	char buf[HA_ORIGIN_MAX];
	struct sip_uri u;
	dmq_node_t *n;
	int found = 0, port, proto;

	snprintf(buf, sizeof(buf), "%s", origin);
	if(parse_uri(buf, strlen(buf), &u) < 0)
		return 0;
	port = u.port_no != 0 ? u.port_no : SIP_PORT;
	proto = u.proto != PROTO_NONE ? u.proto : PROTO_UDP;
	lock_get(&list->lock);
	for(n = list->nodes; n != NULL && !found; n = n->next) {
		found = !n->local && ip_addr_cmp(&msg->rcv.src_ip, &n->ip_address)
				&& n->uri.host.len == u.host.len
				&& strncasecmp(n->uri.host.s, u.host.s, u.host.len) == 0
				&& (n->uri.port_no != 0 ? n->uri.port_no : SIP_PORT) == port
				&& (n->uri.proto != PROTO_NONE ? n->uri.proto : PROTO_UDP)
						   == proto;
	}
	lock_release(&list->lock);
	return found;
}

/* origin's slot (made, or the least recently used one taken over, when it
 * has none). _ha_sec->lock held. Can't fail. */
static ha_sec_origin_t *origin_slot(const char *origin, int64_t now)
{
	ha_sec_origin_t *o, *lru = &_ha_sec->o[0];
	int i;

	for(i = 0; i < HA_SEC_ORIGINS; i++) {
		o = &_ha_sec->o[i];
		if(o->origin[0] != '\0' && strcmp(o->origin, origin) == 0) {
			o->used_ms = now;
			return o;
		}
		if(o->used_ms < lru->used_ms)
			lru = o;
	}
	/* a node taken over loses its window: its next messages are new to
	 * this proxy, as after a restart of this proxy (the time window still
	 * bounds what can be replayed then) */
	memset(lru, 0, sizeof(*lru));
	snprintf(lru->origin, sizeof(lru->origin), "%s", origin);
	lru->used_ms = now;
	return lru;
}

ha_dmq_open_rc_t ha_dmq_open(
		struct sip_msg *msg, const char *body, int len, ha_dmq_opened_t *o)
{
	static const ha_reject_t of_unseal[HA_UNSEAL_RC_COUNT] = {
			[HA_UNSEAL_UNSIGNED] = HA_REJ_UNSIGNED,
			[HA_UNSEAL_MALFORMED] = HA_REJ_MALFORMED,
			[HA_UNSEAL_KEY] = HA_REJ_KEY,
			[HA_UNSEAL_MAC] = HA_REJ_MAC,
	};
	ha_keyring_t kr;
	ha_unseal_rc_t rc;
	ha_replay_verdict_t v;
	ha_reject_t r;

	memset(o, 0, sizeof(*o));
	o->code = 403;
	keys_get(&kr);
	rc = ha_unseal(&kr, body, (size_t)len, &o->h, &o->msg, &o->len);
	ha_keyring_wipe(&kr);
	if(rc != HA_UNSEAL_OK) {
		if(rc == HA_UNSEAL_MALFORMED)
			o->code = 400;
		reject(msg, of_unseal[rc], NULL);
		return HA_OPEN_BAD;
	}
	if(!origin_is_source(msg, o->h.origin)) {
		r = HA_REJ_ORIGIN;
	} else if(strcmp(o->h.to, "*") != 0 && strcmp(o->h.to, _ha_dmq_self) != 0) {
		r = HA_REJ_TO;
	} else if(ha_seal_out_of_time(o->h.ts, wall_ms(),
					  (int64_t)_ha_pool_time_window * 1000)) {
		r = HA_REJ_TIME;
	} else {
		lock_get(&_ha_sec->lock);
		v = ha_replay_take(&origin_slot(o->h.origin, ha_now_ms())->win,
				o->h.boot, o->h.seq);
		lock_release(&_ha_sec->lock);
		if(v == HA_RPL_NEW)
			return HA_OPEN_OK;
		if(v == HA_RPL_DUP) {
			/* tm resends a request whose 200 was lost: 200 again */
			update_stat(_ha_stat_duplicates, 1);
			return HA_OPEN_DUP;
		}
		r = HA_REJ_REPLAY;
	}
	reject(msg, r, o->h.origin);
	return HA_OPEN_BAD;
}

int ha_dmq_sync_first(const char *origin, uint64_t boot)
{
	ha_sec_origin_t *o;
	int first;

	lock_get(&_ha_sec->lock);
	o = origin_slot(origin, ha_now_ms());
	first = o->sync_boot != boot;
	o->sync_boot = boot;
	lock_release(&_ha_sec->lock);
	return first;
}

int ha_dmq_sec_mod_init(void)
{
	ha_keyring_t kr;
	char err[512];

	if(register_module_stats("ha_pair", ha_sec_stats) != 0) {
		LM_ERR("cannot register the pool's rejection statistics\n");
		return -1;
	}
	if(_ha_pool_time_window < 1 || _ha_pool_time_window > HA_TIME_WINDOW_MAX) {
		LM_ERR("pool_time_window %d s: 1 to %d\n", _ha_pool_time_window,
				HA_TIME_WINDOW_MAX);
		return -1;
	}
	if(!_ha_enable_dmq)
		return 0;
	if(_ha_pool_secret_file.s == NULL || _ha_pool_secret_file.len <= 0) {
		LM_ERR("enable_dmq is 1 but pool_secret_file is not set: the pool's "
			   "messages are signed with a key every proxy of the pool "
			   "shares. Make one (openssl rand -hex 32 > "
			   "/etc/kamailio/ha_pair.keys; chmod 600 "
			   "/etc/kamailio/ha_pair.keys), copy it to every proxy and "
			   "set modparam(\"ha_pair\", \"pool_secret_file\", "
			   "\"/etc/kamailio/ha_pair.keys\")\n");
		return -1;
	}
	if(ha_dmq_keys_read(&kr, err, sizeof(err)) < 0) {
		LM_ERR("%s\n", err);
		return -1;
	}
	_ha_sec = shm_malloc(sizeof(*_ha_sec));
	if(_ha_sec == NULL) {
		ha_keyring_wipe(&kr);
		SHM_MEM_ERROR;
		return -1;
	}
	memset(_ha_sec, 0, sizeof(*_ha_sec));
	if(lock_init(&_ha_sec->lock) == NULL) {
		LM_ERR("cannot init the pool keys' lock\n");
		ha_keyring_wipe(&kr);
		shm_free(_ha_sec);
		_ha_sec = NULL;
		return -1;
	}
	_ha_boot_ms = (uint64_t)wall_ms();
	ha_dmq_keys_set(&kr);
	return 0;
}

void ha_dmq_sec_destroy(void)
{
	if(_ha_sec == NULL)
		return;
	ha_keyring_wipe(&_ha_sec->ring);
	lock_destroy(&_ha_sec->lock);
	shm_free(_ha_sec);
	_ha_sec = NULL;
}
