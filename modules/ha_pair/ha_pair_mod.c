/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_pair_mod.c - module exports of ha_pair: parameters, start-up, script
 * and KEMI functions, statistics. */

#include <string.h>
#include <stdio.h>

#include "../../core/sr_module.h"
#include "../../core/dprint.h"
#include "../../core/mod_fix.h"
#include "../../core/script_cb.h"
#include "../../core/timer_proc.h"
#include "../../core/socket_info.h"
#include "../../core/resolve.h"
#include "../../core/kemi.h"
#include "../../core/rpc_lookup.h"
#include "../../core/forward.h"
#include "../../core/data_lump.h"
#include "../../core/trim.h"
#include "../../core/dset.h"
#include "../../core/usr_avp.h"
#include "../../core/data_lump_rpl.h"
#include "../../core/mem/shm_mem.h"
#include "../../core/parser/parse_to.h"
#include "../../core/parser/parse_uri.h"
#include "../../core/parser/parse_methods.h"
#include "../../modules/rr/api.h"
#include "../../modules/tm/tm_load.h"

#include "ha_pair.h"
#include "ha_wait.h"
#include "ha_dmq.h"
#include "ha_msg.h"

MODULE_VERSION


str _ha_pairs_file = STR_NULL;
int _ha_oos_check = 5000;
int _ha_oos_force = 5000;
str _ha_probe_from = STR_NULL;
str _ha_probe_socket = STR_NULL;
str _ha_alive_codes = STR_NULL;
int _ha_passive_switchover = 1;
int _ha_probe_standby = 0;
int _ha_dns_refresh = 60;
str _ha_passive_methods = STR_NULL;
str _ha_member_trust = STR_NULL;

ha_codes_t _ha_alive;
struct socket_info *_ha_probe_sock = NULL;
static unsigned int _ha_passive_mask = 0;

/* member_trust: what a request from a member's address may do when it came
 * over UDP, where its source address proves nothing */
typedef enum ha_trust
{
	HA_TRUST_ANY = 0,	/* as over TCP/TLS (the original product) */
	HA_TRUST_TRANSPORT, /* nothing: handled as from anyone else */
	HA_TRUST_CONFIRM,	/* a passive switchover waits for a probe answer */
	HA_TRUST_COUNT
} ha_trust_t;
static const char *ha_trust_names[HA_TRUST_COUNT] = {
		[HA_TRUST_ANY] = "any",
		[HA_TRUST_TRANSPORT] = "transport",
		[HA_TRUST_CONFIRM] = "confirm",
};
static ha_trust_t _ha_trust = HA_TRUST_CONFIRM;
static int _ha_rr_loaded = 0;
static struct rr_binds _ha_rrb;
static str _ha_tag_name = str_init("hapair");
static str _ha_xgr_name = str_init("X-Genesys-Route");
static int _ha_tm_loaded = 0;
/* the last request counted in requests_refused / requests_routed (message
 * ids are unique per process) */
static unsigned int _ha_refused_msg_id = 0;
static unsigned int _ha_routed_msg_id = 0;
static unsigned int _ha_xgr_msg_id = 0;
struct tm_binds _ha_tmb;
/* the pair ha_route() found for the request being routed, for ha_wait() */
static unsigned int _ha_found_msg_id = 0;
static char _ha_found_pair[HA_NAME_MAX + 1];

stat_var *_ha_st_switchovers = NULL;
stat_var *_ha_st_probes_sent = NULL;
stat_var *_ha_st_probes_unanswered = NULL;
stat_var *_ha_st_requests_routed = NULL;
stat_var *_ha_st_requests_refused = NULL;
stat_var *_ha_st_verify_probes = NULL;
stat_var *_ha_st_verify_alive = NULL;
stat_var *_ha_st_verify_silent = NULL;
stat_var *_ha_st_waited = NULL;
stat_var *_ha_st_waiting = NULL;
stat_var *_ha_st_wait_timeouts = NULL;
stat_var *_ha_st_wait_rejected = NULL;

static int mod_init(void);
static int child_init(int rank);
static void mod_destroy(void);
static int w_ha_route(struct sip_msg *msg, char *p1, char *p2);
static int w_ha_failover(struct sip_msg *msg, char *p1, char *p2);
static int fixup_ha_failover(void **param, int param_no);
static int fixup_ha_route(void **param, int param_no);
static int w_ha_wait(struct sip_msg *msg, char *p1, char *p2);
static int fixup_ha_wait(void **param, int param_no);

/* clang-format off */
static stat_export_t mod_stats[] = {
	{"switchovers", 0, &_ha_st_switchovers},
	{"probes_sent", 0, &_ha_st_probes_sent},
	{"probes_unanswered", 0, &_ha_st_probes_unanswered},
	{"requests_routed", 0, &_ha_st_requests_routed},
	{"requests_refused", 0, &_ha_st_requests_refused},
	{"verify_probes", 0, &_ha_st_verify_probes},
	{"verify_alive", 0, &_ha_st_verify_alive},
	{"verify_silent", 0, &_ha_st_verify_silent},
	{"waited", 0, &_ha_st_waited},
	{"waiting", STAT_NO_RESET, &_ha_st_waiting},
	{"wait_timeouts", 0, &_ha_st_wait_timeouts},
	{"wait_rejected", 0, &_ha_st_wait_rejected},
	{0, 0, 0}
};

static cmd_export_t cmds[] = {
	{"ha_route", (cmd_function)w_ha_route, 0, 0, 0, REQUEST_ROUTE},
	{"ha_route", (cmd_function)w_ha_route, 1, fixup_ha_route,
		fixup_free_spve_null, REQUEST_ROUTE},
	{"ha_failover", (cmd_function)w_ha_failover, 0, fixup_ha_failover, 0,
		FAILURE_ROUTE},
	{"ha_wait", (cmd_function)w_ha_wait, 0, fixup_ha_wait, 0, REQUEST_ROUTE},
	{0, 0, 0, 0, 0, 0}
};

static param_export_t params[] = {
	{"pairs_file", PARAM_STR, &_ha_pairs_file},
	{"oos_check", PARAM_INT, &_ha_oos_check},
	{"oos_force", PARAM_INT, &_ha_oos_force},
	{"probe_from", PARAM_STR, &_ha_probe_from},
	{"probe_socket", PARAM_STR, &_ha_probe_socket},
	{"alive_codes", PARAM_STR, &_ha_alive_codes},
	{"passive_switchover", PARAM_INT, &_ha_passive_switchover},
	{"passive_methods", PARAM_STR, &_ha_passive_methods},
	{"member_trust", PARAM_STR, &_ha_member_trust},
	{"probe_standby", PARAM_INT, &_ha_probe_standby},
	{"event_callback", PARAM_STR, &_ha_event_callback},
	{"dns_refresh", PARAM_INT, &_ha_dns_refresh},
	{"max_wait", PARAM_INT, &_ha_max_wait},
	{"max_waiting", PARAM_INT, &_ha_wait_cap},
	{"retry_after", PARAM_INT, &_ha_retry_after},
	{"enable_dmq", PARAM_INT, &_ha_enable_dmq},
	{"sync_timeout", PARAM_INT, &_ha_sync_timeout},
	{"sync_interval", PARAM_INT, &_ha_sync_interval},
	{0, 0, 0}
};

static pv_export_t mod_pvs[] = {
	{{"hapair", sizeof("hapair") - 1}, PVT_OTHER, ha_pv_get, 0,
		ha_pv_parse_name, 0, 0, 0},
	{{0, 0}, 0, 0, 0, 0, 0, 0, 0}
};

struct module_exports exports = {
	"ha_pair",		 /* module name */
	DEFAULT_DLFLAGS, /* dlopen flags */
	cmds,			 /* cmd (cfg function) exports */
	params,			 /* param exports */
	0,				 /* RPC method exports (registered in mod_init) */
	mod_pvs,		 /* pseudo-variables exports */
	0,				 /* response handling function */
	mod_init,		 /* module init function */
	child_init,		 /* per-child init function */
	mod_destroy		 /* module destroy function */
};
/* clang-format on */

/* The probes' From URI: the parameter, else sip:ha_pair@<first listen
 * address>. Returns 0, or -1 when there is none to be had. */
static int probe_from_init(void)
{
	static char buf[300];
	struct socket_info *si;
	int v6;

	if(_ha_probe_from.len > 0)
		return 0;
	si = _ha_probe_sock ? _ha_probe_sock : get_first_socket();
	if(si == NULL) {
		LM_ERR("no listen socket to take the probes' From from; set "
			   "probe_from\n");
		return -1;
	}
	v6 = si->address.af == AF_INET6;
	snprintf(buf, sizeof(buf), "sip:ha_pair@%s%.*s%s", v6 ? "[" : "",
			si->address_str.len, si->address_str.s, v6 ? "]" : "");
	_ha_probe_from.s = buf;
	_ha_probe_from.len = strlen(buf);
	return 0;
}

/* The start event of pair p: a switchover none -> primary, reason
 * start. */
static void ha_start_event(ha_pair_t *p)
{
	ha_action_t a = {.type = HA_ACT_SWITCH,
			.member = HA_ROLE_NONE,
			.old_role = HA_ROLE_NONE,
			.new_role = HA_ROLE_PRIMARY,
			.reason = HA_RSN_START};

	ha_event_push(p, &a);
}

/* At start-up only, once the event queue is made (one process, no reload
 * yet): every pair of the first table fires its start event. Pairs added
 * by a reload fire theirs in the load itself (ha_load()). */
void ha_start_events(void)
{
	ha_table_t *t = ha_table_pin();
	int i;

	for(i = 0; t != NULL && i < t->npairs; i++)
		if(t->pairs[i].fresh)
			ha_start_event(&t->pairs[i]);
	ha_table_unpin(t);
}

/* The parameters not checked elsewhere: refused at start-up rather than
 * taken to mean something (a From that is no URI goes out in every probe;
 * an event_callback with no KEMI engine would be lost at each event). */
static int mod_params_check(void)
{
	struct sip_uri u;

	if(_ha_probe_from.len > 0
			&& (parse_uri(_ha_probe_from.s, _ha_probe_from.len, &u) < 0
					|| (u.type != SIP_URI_T && u.type != SIPS_URI_T))) {
		LM_ERR("probe_from '%.*s': not a sip: or sips: URI\n",
				_ha_probe_from.len, _ha_probe_from.s);
		return -1;
	}
	if(_ha_passive_switchover != 0 && _ha_passive_switchover != 1) {
		LM_ERR("passive_switchover %d: 0 (off) or 1 (on)\n",
				_ha_passive_switchover);
		return -1;
	}
	if(_ha_probe_standby != 0 && _ha_probe_standby != 1) {
		LM_ERR("probe_standby %d: 0 (off) or 1 (on)\n", _ha_probe_standby);
		return -1;
	}
	if(_ha_event_callback.len > 0 && sr_kemi_eng_get() == NULL) {
		LM_ERR("event_callback '%.*s': no KEMI engine is loaded (cfgengine); "
			   "with a native script use event_route[hapair:...]\n",
				_ha_event_callback.len, _ha_event_callback.s);
		return -1;
	}
	return 0;
}

int ha_load(char *err, size_t errlen, ha_load_stats_t *ls, int events)
{
	ha_cfg_defaults_t defs;

	defs.oos_check_ms = _ha_oos_check;
	defs.oos_force_ms = _ha_oos_force;
	if(ha_store_load(_ha_pairs_file.s, &defs, &_ha_alive, _ha_probe_standby, ls,
			   events ? ha_start_event : NULL, err, errlen)
			< 0)
		return -1;
	if(_ha_prober != NULL)
		atomic_set(&_ha_prober->wake, 1);
	return 0;
}

static int mod_init(void)
{
	ha_load_stats_t ls;
	char err[HA_ERR_MAX];
	int i;

	if(_ha_pairs_file.len <= 0) {
		LM_ERR("the pairs_file parameter is required\n");
		return -1;
	}
	if(_ha_oos_check < HA_CHECK_MIN_MS || _ha_oos_check > HA_CHECK_MAX_MS) {
		LM_ERR("oos_check %d ms out of range (%d ms to %d s)\n", _ha_oos_check,
				HA_CHECK_MIN_MS, HA_CHECK_MAX_MS / 1000);
		return -1;
	}
	if(_ha_oos_force < HA_FORCE_MIN_MS || _ha_oos_force > HA_FORCE_MAX_MS) {
		LM_ERR("oos_force %d ms out of range (%d ms to %d s)\n", _ha_oos_force,
				HA_FORCE_MIN_MS, HA_FORCE_MAX_MS / 1000);
		return -1;
	}
	if(ha_codes_parse(_ha_alive_codes.s, &_ha_alive) < 0) {
		LM_ERR("bad alive_codes '%.*s': a list of codes (e.g. 404) or classes "
			   "(e.g. 2xx)\n",
				_ha_alive_codes.len, _ha_alive_codes.s);
		return -1;
	}
	if(_ha_passive_methods.len > 0) {
		if(parse_methods(&_ha_passive_methods, &_ha_passive_mask) < 0) {
			LM_ERR("bad passive_methods '%.*s'\n", _ha_passive_methods.len,
					_ha_passive_methods.s);
			return -1;
		}
	} else {
		_ha_passive_mask =
				~(unsigned int)(METHOD_OPTIONS | METHOD_ACK | METHOD_CANCEL);
	}
	if(_ha_member_trust.len > 0) {
		for(i = 0; i < HA_TRUST_COUNT; i++) {
			if(_ha_member_trust.len == (int)strlen(ha_trust_names[i])
					&& strncasecmp(_ha_member_trust.s, ha_trust_names[i],
							   _ha_member_trust.len)
							   == 0)
				break;
		}
		if(i == HA_TRUST_COUNT) {
			LM_ERR("bad member_trust '%.*s': any, transport or confirm\n",
					_ha_member_trust.len, _ha_member_trust.s);
			return -1;
		}
		_ha_trust = (ha_trust_t)i;
	}
	if(_ha_probe_socket.len > 0) {
		_ha_probe_sock = lookup_local_socket(&_ha_probe_socket);
		if(_ha_probe_sock == NULL) {
			LM_ERR("probe_socket '%.*s' is not a listen socket of this "
				   "kamailio\n",
					_ha_probe_socket.len, _ha_probe_socket.s);
			return -1;
		}
	}
	if(probe_from_init() < 0)
		return -1;
	if(mod_params_check() < 0)
		return -1;

	if(register_module_stats("ha_pair", mod_stats) != 0) {
		LM_ERR("cannot register statistics\n");
		return -1;
	}
	if(rpc_register_array(ha_rpc_cmds) != 0) {
		LM_ERR("cannot register RPC commands\n");
		return -1;
	}
	/* the flag of a callback type is the bit (type - 1) */
	if(register_script_cb(ha_probe_reply_cb,
			   PRE_SCRIPT_CB | (1u << (ONREPLY_CB_TYPE - 1)), 0)
			< 0) {
		LM_ERR("cannot register the reply callback\n");
		return -1;
	}
	if(find_export("load_tm", NO_SCRIPT, 0) != NULL) {
		if(load_tm_api(&_ha_tmb) < 0) {
			LM_ERR("cannot bind the tm module's API\n");
			return -1;
		}
		_ha_tm_loaded = 1;
		if(ha_wait_mod_init() < 0)
			return -1;
	}
	if(find_export("load_rr", 0, 0) != NULL) {
		if(load_rr_api(&_ha_rrb) < 0) {
			LM_ERR("cannot bind the rr module's API\n");
			return -1;
		}
		_ha_rr_loaded = 1;
	} else {
		LM_INFO("rr module not loaded: no pair tag in Record-Route\n");
	}

	if(ha_store_init() < 0) {
		SHM_MEM_ERROR;
		return -1;
	}
	if(ha_load(err, sizeof(err), &ls, 0) < 0) {
		LM_ERR("%s\n", err);
		return -1;
	}
	LM_INFO("%d pairs from %.*s\n", ls.pairs, _ha_pairs_file.len,
			_ha_pairs_file.s);
	if(ha_probe_mod_init() < 0)
		return -1;
	if(ha_event_mod_init(ls.pairs) < 0)
		return -1;
	if(ha_dmq_mod_init() < 0)
		return -1;
	if(_ha_dns_refresh < 0) {
		LM_ERR("dns_refresh %d: seconds, or 0 for never\n", _ha_dns_refresh);
		return -1;
	}
	if(_ha_dns_refresh > 0 && register_basic_timers(1) < 0) {
		LM_ERR("cannot reserve the DNS refresh process\n");
		return -1;
	}
	ha_start_events();
	return 0;
}

/* Every dns_refresh seconds, in a process of its own (a slow DNS answer
 * delays nothing else): resolve member host names again, and swap in new
 * addresses when they changed. */
static void ha_dns_timer(unsigned int ticks, void *param)
{
	char err[HA_ERR_MAX];
	int rc;

	(void)ticks;
	(void)param;
	rc = ha_store_refresh(err, sizeof(err));
	if(rc < 0) {
		LM_WARN("re-resolving member host names failed, the addresses stay: "
				"%s\n",
				err);
	} else if(rc > 0) {
		LM_NOTICE("member host names resolve to new addresses: now in use\n");
		if(_ha_prober != NULL)
			atomic_set(&_ha_prober->wake, 1);
	}
}

static int child_init(int rank)
{
	if(rank == PROC_INIT && ha_store_pins_init(get_max_procs()) < 0) {
		SHM_MEM_ERROR;
		return -1;
	}
	if(rank == PROC_MAIN) {
		if(ha_probe_fork() < 0 || ha_event_fork() < 0 || ha_dmq_fork() < 0)
			return -1;
		if(_ha_tm_loaded && ha_wait_fork() < 0)
			return -1;
		if(_ha_dns_refresh > 0
				&& fork_basic_timer(PROC_TIMER, "ha_pair dns", 1 /* socks */,
						   ha_dns_timer, NULL, _ha_dns_refresh)
						   < 0) {
			LM_ERR("cannot start the DNS refresh process\n");
			return -1;
		}
	}
	return 0;
}

static void mod_destroy(void)
{
	ha_store_destroy();
	ha_event_destroy();
	ha_dmq_destroy();
	ha_wait_destroy();
	if(_ha_prober) {
		shm_free(_ha_prober);
		_ha_prober = NULL;
	}
}

/* The pair named by the hapair parameter of the proxy's own Route (after
 * loose_route()), or NULL. */
static ha_pair_t *pair_by_tag(struct sip_msg *msg, ha_table_t *t)
{
	str val = STR_NULL;

	if(!_ha_rr_loaded || _ha_rrb.get_route_param(msg, &_ha_tag_name, &val) != 0
			|| val.len <= 0)
		return NULL;
	return ha_table_by_name(t, &val);
}

/* The pair whose member has the address (host:port) of a parsed URI, or
 * NULL. */
static ha_pair_t *pair_by_parsed_uri(ha_table_t *t, struct sip_uri *pu)
{
	struct ip_addr *ip;
	ha_addr_t a;
	ha_pair_t *p[1];
	int roles[1];

	ip = str2ip(&pu->host);
	if(ip == NULL)
		ip = str2ip6(&pu->host);
	if(ip == NULL)
		return NULL;
	ha_addr_from_ip(&a, ip);
	if(ha_table_by_addr(t, &a, GET_URI_PORT(pu), 0, p, roles, 1) < 1)
		return NULL;
	return p[0];
}

/* The pair whose member has the address of uri (host:port), or NULL. */
static ha_pair_t *pair_by_member_uri(ha_table_t *t, str *uri)
{
	struct sip_uri pu;

	if(uri->len <= 0 || parse_uri(uri->s, uri->len, &pu) < 0)
		return NULL;
	return pair_by_parsed_uri(t, &pu);
}

/* Find the pair of a request that did not come from a member (SPEC 3):
 * the pair tag, the R-URI host as a <domain> or a member address, $du as a
 * member address (in-dialog), the only pair. */
static ha_pair_t *pair_of_request(struct sip_msg *msg, ha_table_t *t)
{
	ha_pair_t *p;

	if(t->npairs == 1)
		return &t->pairs[0]; /* every way below leads to it */
	p = pair_by_tag(msg, t);
	if(p)
		return p;
	if(parse_sip_msg_uri(msg) >= 0) {
		p = ha_table_by_domain(t, &msg->parsed_uri.host);
		if(p)
			return p;
		p = pair_by_parsed_uri(t, &msg->parsed_uri);
		if(p)
			return p;
	}
	if(msg->dst_uri.len > 0) {
		p = pair_by_member_uri(t, &msg->dst_uri);
		if(p)
			return p;
	}
	if(t->npairs == 1)
		return &t->pairs[0];
	return NULL;
}

/* Take an X-Genesys-Route value apart: a sip: or sips: URI, bare or in <>,
 * whose host is an IP address (IPv4, or IPv6 in brackets), with or without
 * a user part, a port and parameters (;lr, ;transport= in any case, others),
 * as RFC 3261 allows. A host name is malformed: no DNS on the request path.
 * Headers (?...) are malformed: the value is a next hop, not a request to
 * build. The URI is used as it is as $du (a user part there is harmless:
 * only host, port and transport choose the next hop). Returns 0 with the URI
 * in *uri (pointing into the message), or -1 when it is malformed. */
static int xgr_parse(str *body, str *uri)
{
	struct sip_uri pu;
	str v = *body;

	trim(&v);
	if(v.len >= 2 && v.s[0] == '<') {
		if(v.s[v.len - 1] != '>')
			return -1;
		v.s++;
		v.len -= 2;
		trim(&v);
	}
	/* parse_uri() makes sip:...;user=phone a TEL_URI_T: the scheme is
	 * looked at here */
	if(v.len <= 5 || memchr(v.s, '>', v.len) != NULL
			|| (strncasecmp(v.s, "sip:", 4) != 0
					&& strncasecmp(v.s, "sips:", 5) != 0)
			|| parse_uri(v.s, v.len, &pu) < 0 || pu.headers.len > 0
			|| pu.host.len <= 0)
		return -1;
	if(str2ip(&pu.host) == NULL && str2ip6(&pu.host) == NULL)
		return -1;
	/* udp, tcp, tls in any case (parse_uri ignores it); sctp, ws and others
	 * are no transport of a pair member */
	if(pu.transport_val.len > 0 && pu.proto != PROTO_UDP
			&& pu.proto != PROTO_TCP && pu.proto != PROTO_TLS)
		return -1;
	*uri = v;
	return 0;
}

/* Whether a header name X-Genesys-Route starts at p. */
static inline int xgr_name_at(char *p, char *end)
{
	if((*p | 0x20) != 'x' || end - p <= _ha_xgr_name.len
			|| strncasecmp(p, _ha_xgr_name.s, _ha_xgr_name.len) != 0)
		return 0;
	for(p += _ha_xgr_name.len; p < end && (*p == ' ' || *p == '\t'); p++)
		;
	return p < end && *p == ':';
}

/* Whether msg carries an X-Genesys-Route: the headers parsed so far are
 * looked up in their list, the rest by the first letters of each raw line
 * (folded lines start with white space, so only names are looked at; the
 * scan stops at the empty line). Far cheaper than parsing every header,
 * which most requests, without one, never need. */
static int xgr_present(struct sip_msg *msg)
{
	struct hdr_field *hf;
	char *p, *end = msg->buf + msg->len, *nl;

	for(hf = msg->headers; hf != NULL; hf = hf->next)
		if(hf->type == HDR_OTHER_T && hf->name.len == _ha_xgr_name.len
				&& strncasecmp(hf->name.s, _ha_xgr_name.s, hf->name.len) == 0)
			return 1;
	if(msg->eoh != NULL)
		return 0; /* every header is in the list */
	p = msg->unparsed;
	if(p == NULL || p <= msg->buf) {
		/* nothing parsed yet: the first line is not a header */
		p = memchr(msg->buf, '\n', msg->len);
		if(p == NULL)
			return 0;
		p++;
	}
	for(;;) {
		if(p >= end || *p == '\r' || *p == '\n')
			return 0; /* the end of the headers */
		if(xgr_name_at(p, end))
			return 1;
		nl = memchr(p, '\n', end - p);
		if(nl == NULL)
			return 0;
		p = nl + 1;
	}
}

/* Remove every X-Genesys-Route header of msg. When uri is not NULL, the
 * first one's URI goes there. Returns 1 when that URI is valid, 0 when
 * there is no such header, -1 on a malformed value or a parse error (it is
 * removed all the same). */
static int xgr_take(struct sip_msg *msg, str *uri)
{
	struct hdr_field *hf;
	int rc = 0;

	if(!xgr_present(msg))
		return 0;
	if(parse_headers(msg, HDR_EOH_F, 0) < 0) {
		LM_ERR("cannot parse the headers\n");
		return -1;
	}
	for(hf = msg->headers; hf != NULL; hf = hf->next) {
		if(hf->type != HDR_OTHER_T || hf->name.len != _ha_xgr_name.len
				|| strncasecmp(hf->name.s, _ha_xgr_name.s, hf->name.len) != 0)
			continue;
		if(del_lump(msg, hf->name.s - msg->buf, hf->len, 0) == NULL)
			LM_ERR("cannot remove X-Genesys-Route\n");
		if(uri == NULL || rc != 0)
			continue;
		if(xgr_parse(&hf->body, uri) == 0) {
			rc = 1;
		} else {
			LM_WARN("malformed X-Genesys-Route '%.*s' from %s:%d: removed, "
					"ignored\n",
					hf->body.len > 128 ? 128 : hf->body.len, hf->body.s,
					ip_addr2a(&msg->rcv.src_ip), msg->rcv.src_port);
			rc = -1;
		}
	}
	return rc;
}

/* The member_trust that applies to pair p: its own (pairs file), else the
 * module parameter. Can't fail. */
static ha_trust_t pair_trust(const ha_pair_t *p)
{
	static const ha_trust_t of_cfg[HA_CFG_TRUST_COUNT] = {
			[HA_CFG_TRUST_ANY] = HA_TRUST_ANY,
			[HA_CFG_TRUST_TRANSPORT] = HA_TRUST_TRANSPORT,
			[HA_CFG_TRUST_CONFIRM] = HA_TRUST_CONFIRM,
	};

	if(p->trust <= HA_CFG_TRUST_DEFAULT || p->trust >= HA_CFG_TRUST_COUNT)
		return _ha_trust;
	return of_cfg[p->trust];
}

/* A UDP request from the address of the *nf pair members fp/froles: drop
 * those of pairs whose member_trust is "transport" (for them it is a request
 * from anyone). Returns how many remain in *nf, 0 when none. */
static int trust_udp(ha_pair_t **fp, int *froles, int *nf)
{
	int i, n = *nf, kept = 0;

	for(i = 0; i < n; i++) {
		if(pair_trust(fp[i]) == HA_TRUST_TRANSPORT)
			continue;
		fp[kept] = fp[i];
		froles[kept] = froles[i];
		kept++;
	}
	*nf = kept;
	return *nf;
}

/* A request from a member (the pair's outbound traffic): apply passive
 * switchover where SPEC 2 says so. named is the pair the script names, or
 * NULL (then the pair tag, if any, names it). */
static void from_member(struct sip_msg *msg, ha_table_t *t, ha_pair_t **fp,
		int *froles, int nf, ha_pair_t *named, int indialog)
{
	ha_pair_t *p = NULL;
	ha_actions_t acts;
	int i, role = -1, rc = 0;

	if(!_ha_passive_switchover || indialog
			|| !(msg->first_line.u.request.method_value & _ha_passive_mask))
		return;
	if(named == NULL)
		named = pair_by_tag(msg, t);
	for(i = 0; i < nf; i++) {
		if(named != NULL && fp[i] != named)
			continue;
		if(p != NULL && (fp[i] != p || froles[i] != role)) {
			LM_DBG("request from an address of several pairs or members: no "
				   "passive switchover\n");
			return;
		}
		p = fp[i];
		role = froles[i];
	}
	if(p == NULL)
		return;
	ha_actions_reset(&acts);
	lock_get(&p->st->lock);
	if(pair_trust(p) == HA_TRUST_CONFIRM && msg->rcv.proto == PROTO_UDP) {
		/* the prober probes the member now; it becomes active when it
		 * answers (see ha_fsm_claim()) */
		rc = ha_fsm_claim(&p->st->fsm, (ha_role_t)role, ha_now_ms());
	} else {
		ha_fsm_passive(&p->st->fsm, (ha_role_t)role, ha_now_ms(), &acts);
	}
	ha_pair_touched(p);
	lock_release(&p->st->lock);
	/* once per claim, so at most once per probe: forged requests cannot
	 * flood the log */
	if(rc == 1)
		LM_INFO("pair '%.*s': a %.*s from the %s (%s:%d, UDP) says it is "
				"active: probing it to confirm\n",
				p->name.len, p->name.s, msg->first_line.u.request.method.len,
				msg->first_line.u.request.method.s,
				ha_role_name((ha_role_t)role), ip_addr2a(&msg->rcv.src_ip),
				msg->rcv.src_port);
	ha_actions_run(p, &acts);
}

/* The pair ha_route() sent a request to, remembered in an AVP: tm keeps
 * a request's AVPs with its transaction, so ha_failover() finds the pair
 * of the request even when the failed member belongs to several pairs. */
static str _ha_route_avp = str_init("ha_pair_routed");

static void route_remember(ha_pair_t *p)
{
	int_str name, val;

	name.s = _ha_route_avp;
	val.s = p->name;
	if(add_avp(AVP_NAME_STR | AVP_VAL_STR, name, val) < 0)
		LM_WARN("pair '%.*s': cannot remember the pair of the request: "
				"ha_failover() will go by the member's address\n",
				p->name.len, p->name.s);
}

static ha_pair_t *route_remembered(ha_table_t *t)
{
	int_str name, val;

	name.s = _ha_route_avp;
	if(search_first_avp(AVP_NAME_STR | AVP_VAL_STR, name, &val, 0) == NULL)
		return NULL;
	return ha_table_by_name(t, &val.s);
}

/* What the picked (failed) branch of a failure_route's transaction says. */
typedef struct ha_failed
{
	struct cell *t;
	int branch;
	int blind;	  /* the branch of a suspended wait (its bound, a CANCEL) */
	int evidence; /* a failure that may say the member is down */
	ha_pair_t *p; /* the pair of the member it went to, or NULL */
	ha_role_t role;
} ha_failed_t;

/* Look at the picked branch of the current transaction: which pair member
 * it went to, found from its destination address within the pair
 * ha_route() chose for the request (or, without one, the only pair that
 * has a member at that address), and whether its failure is evidence
 * about the member: a local timeout (408), a 503, or a transport error
 * (a local 477 or 500); not a request this proxy could not send over UDP
 * (its size: no datagram left, the member never saw it). Returns 0, or -1
 * when there is no failed branch to look at. */
static int failed_branch(ha_table_t *tbl, ha_failed_t *fb)
{
	struct cell *t;
	struct ip_addr ip;
	ha_addr_t a;
	ha_pair_t *pairs[2], *routed;
	int roles[2];
	int b, code, local, n, i, port;

	memset(fb, 0, sizeof(*fb));
	fb->role = HA_ROLE_NONE;
	t = _ha_tmb.t_gett();
	if(t == NULL || t == T_UNDEFINED)
		return -1;
	/* the branch that failed now: the newest one (branches are added one
	 * after the other, each retry after the previous one ended). Not tm's
	 * picked branch: it picks the best reply of all branches, and after a
	 * wait the wait's branch (a 500 tm sets when it continues) would win
	 * over a member's 503. */
	b = (int)t->nr_of_outgoings - 1;
	if(b < 0)
		return -1;
	fb->t = t;
	fb->branch = b;
	if((t->uac[b].flags & TM_UAC_FLAG_BLIND)
			|| t->uac[b].request.buffer == NULL) {
		fb->blind = 1;
		return 0;
	}
	code = t->uac[b].last_received;
	local = t->uac[b].reply == FAKED_REPLY || t->uac[b].reply == NULL;
	fb->evidence = code == 503
				   || (local && (code == 408 || code == 477 || code == 500));
	su2ip_addr(&ip, &t->uac[b].request.dst.to);
	ha_addr_from_ip(&a, &ip);
	port = su_getport(&t->uac[b].request.dst.to);
	routed = route_remembered(tbl);
	if(routed != NULL) {
		for(i = 0; i < HA_ROLE_COUNT; i++) {
			if(ha_member_has(&routed->m[i], &a, port, 0)) {
				fb->p = routed;
				fb->role = (ha_role_t)i;
				break;
			}
		}
	} else {
		n = ha_table_by_addr(tbl, &a, port, 0, pairs, roles, 2);
		if(n == 1) {
			fb->p = pairs[0];
			fb->role = (ha_role_t)roles[0];
		} else if(n > 1) {
			LM_DBG("the failed branch went to a member of %d pairs, and no "
				   "ha_route() said which: nothing to do\n",
					n);
		}
	}
	/* tm could not send it at all (908): over UDP that is this proxy's own
	 * failure (too big for a datagram, no route: the member never saw it),
	 * over TCP/TLS a refused connection, the member's */
	if(fb->p != NULL && fb->evidence && fb->p->m[fb->role].proto == PROTO_UDP
			&& local && t->uac[b].icode == 908)
		fb->evidence = 0;
	return 0;
}

/* What the failed branch b of t brought: its status, reason phrase and
 * Retry-After (the reply is there while the failure route runs). */
static void member_failure(struct cell *t, int b, ha_mfail_t *mf)
{
	struct sip_msg *rpl;
	struct hdr_field *hf;
	str v;

	rpl = t->uac[b].reply;
	memset(mf, 0, sizeof(*mf));
	mf->code = t->uac[b].last_received;
	if(mf->code < 300 || mf->code > 699)
		mf->code = 408;
	snprintf(mf->reason, sizeof(mf->reason), "%s",
			mf->code == 408 ? "Request Timeout" : "Service Unavailable");
	if(rpl == NULL || rpl == FAKED_REPLY)
		return;
	v = rpl->first_line.u.reply.reason;
	if(v.len > 0 && v.len < (int)sizeof(mf->reason)) {
		memcpy(mf->reason, v.s, v.len);
		mf->reason[v.len] = '\0';
	}
	if(parse_headers(rpl, HDR_EOH_F, 0) < 0)
		return;
	for(hf = rpl->headers; hf != NULL; hf = hf->next) {
		if(hf->type != HDR_RETRY_AFTER_T)
			continue;
		v = hf->body;
		trim(&v);
		if(v.len > 0 && v.len < (int)sizeof(mf->retry_after)) {
			memcpy(mf->retry_after, v.s, v.len);
			mf->retry_after[v.len] = '\0';
		}
		break;
	}
}

/* Answer the caller with the failure a member brought. */
static int reply_member_failure(struct sip_msg *msg, const ha_mfail_t *mf)
{
	char ra[80];
	int n;

	if(mf->code < 300)
		return ha_reply_503(msg);
	if(mf->retry_after[0] != '\0') {
		n = snprintf(ra, sizeof(ra), "Retry-After: %s\r\n", mf->retry_after);
		if(add_lump_rpl(msg, ra, n, LUMP_RPL_HDR) == NULL)
			LM_WARN("cannot copy Retry-After into the reply\n");
	}
	return _ha_tmb.t_reply(msg, mf->code, (char *)mf->reason);
}

/* ha_failover() called in the failure route a verdict continued into. */
static int failover_verdict(
		struct sip_msg *msg, ha_table_t *t, const ha_cont_t *c)
{
	ha_pair_t *p;
	str name;

	switch(c->verdict) {
		case HA_WV_RETRY:
			name.s = (char *)c->pair;
			name.len = strlen(c->pair);
			p = ha_table_by_name(t, &name);
			if(p == NULL || c->retry == HA_ROLE_NONE)
				break;
			if(set_dst_uri(msg, &p->m[c->retry].uri) < 0) {
				LM_ERR("cannot set the destination URI\n");
				return -3;
			}
			ruri_mark_new(); /* the R-URI makes a new branch for t_relay() */
			/* the transaction's own timers again for the new branch */
			_ha_tmb.set_fr(msg, c->fr_inv_ms, c->fr_ms);
			update_stat(_ha_st_requests_routed, 1);
			return 1;
		case HA_WV_ANSWERED:
			LM_DBG("pair '%s': the member answered: its failure stands\n",
					c->pair);
			reply_member_failure(msg, &c->fail);
			return 0;
		default:
			break;
	}
	ha_reply_503(msg);
	return 0;
}

/* ha_failover(): SPEC 3. In a failure_route. Returns 1 with $du set to the
 * member to retry on; 0 when the transaction waits for a verdict (it is
 * suspended: the script ends here, and tm runs this failure route again
 * with the verdict) or when it answered the caller itself; -1 when the
 * failure is none of its business (not a pair member, not a member's
 * failure, canceled); -2 when there is no member to retry on (held); -3
 * on an internal error. */
static int ha_failover_helper(struct sip_msg *msg, ha_table_t *tbl)
{
	const ha_cont_t *c;
	uint64_t verifies;
	ha_mfail_t mf;
	ha_failed_t fb;
	ha_verdict_t v;
	ha_waitpoint_t wp;
	ha_role_t retry = HA_ROLE_NONE;
	str pair;
	int rc, route, held;

	c = ha_cont_get();
	if(c != NULL) {
		struct cell *t = _ha_tmb.t_gett();
		if(t != NULL && t != T_UNDEFINED && t->hash_index == c->tindex
				&& t->label == c->tlabel)
			return failover_verdict(msg, tbl, c);
	}
	if(failed_branch(tbl, &fb) < 0) {
		LM_ERR("ha_failover: no failed branch to look at\n");
		return -3;
	}
	if(fb.blind) {
		/* a transaction that waited: its bound passed, or it was canceled */
		if(ha_wait_pair_avp(&pair) == NULL)
			return -1;
		if(fb.t->flags & T_CANCELED) {
			ha_wait_take(fb.t, &pair, 0);
			return -1;
		}
		ha_wait_take(fb.t, &pair, 1);
		update_stat(_ha_st_wait_timeouts, 1);
		/* DBG: in an outage this happens to every waiting transaction;
		 * wait_timeouts counts them */
		LM_DBG("pair '%.*s': no member answered within the bound: 503\n",
				pair.len, pair.s);
		ha_reply_503(msg);
		return 0;
	}
	if(fb.p == NULL || !fb.evidence)
		return -1; /* not a member, or no evidence about one */
	if(fb.t->flags & T_CANCELED)
		return -1;

	lock_get(&fb.p->st->lock);
	held = fb.p->st->fsm.held;
	wp.since_ms = ha_now_ms();
	wp.force_runs = fb.p->st->fsm.force_runs;
	verifies = fb.p->st->fsm.verifies;
	rc = ha_fsm_verify(&fb.p->st->fsm, fb.role, wp.since_ms);
	verifies = fb.p->st->fsm.verifies - verifies;
	/* a transaction that failed on a member that is not the active one
	 * (or while the pair hunts) waits for the active member */
	wp.failed = rc > 0 ? fb.role : HA_ROLE_NONE;
	v = ha_fsm_wait_verdict(&fb.p->st->fsm, &wp, &retry);
	if(rc > 0)
		ha_pair_touched(fb.p);
	lock_release(&fb.p->st->lock);
	if(verifies > 0)
		update_stat(_ha_st_verify_probes, (int)verifies);
	if(held)
		return -2; /* pinned: nowhere else to go, the failure stands */

	if(v == HA_WV_RETRY) {
		if(set_dst_uri(msg, &fb.p->m[retry].uri) < 0) {
			LM_ERR("cannot set the destination URI\n");
			return -3;
		}
		ruri_mark_new();
		LM_INFO("pair '%.*s': %s failed a transaction, retrying on %s\n",
				fb.p->name.len, fb.p->name.s, ha_role_name(fb.role),
				ha_role_name(retry));
		return 1;
	}
	member_failure(fb.t, fb.branch, &mf);
	if(v == HA_WV_ANSWERED) {
		/* a probe of the member was answered in this very millisecond: it
		 * is alive, the failure stands. Answered here, as after a wait: tm
		 * relaying the member's 503 itself would turn it into a 500 (its
		 * remap_503_500) */
		LM_DBG("pair '%.*s': the member answered: its failure stands\n",
				fb.p->name.len, fb.p->name.s);
		reply_member_failure(msg, &mf);
		return 0;
	}
	if(v != HA_WV_WAIT)
		return -2;

	route = fb.t->uac[fb.branch].on_failure;
	rc = ha_wait_suspend(msg, fb.p, wp.failed, &mf, route);
	if(rc == 0) {
		LM_DBG("pair '%.*s': %s failed a transaction: it waits for the "
			   "verdict\n",
				fb.p->name.len, fb.p->name.s, ha_role_name(fb.role));
		return 0;
	}
	if(rc == -2) {
		/* too many wait on the pair: no verdict for this one */
		ha_reply_503(msg);
		return 0;
	}
	return -2;
}

static int ki_ha_failover(struct sip_msg *msg)
{
	ha_table_t *t;
	int rc;

	if(!_ha_tm_loaded || !(get_route_type() & (FAILURE_ROUTE))) {
		LM_ERR("ha_failover() works in a failure_route, with tm\n");
		return -3;
	}
	t = ha_table_pin(); /* every pair and member it looks at is in t */
	rc = ha_failover_helper(msg, t);
	ha_table_unpin(t);
	return rc;
}

static int w_ha_failover(struct sip_msg *msg, char *p1, char *p2)
{
	return ki_ha_failover(msg);
}

/* ha_wait(): in a request_route after ha_route() returned -2, the request
 * waits (its transaction suspended, no worker held) until the pair has an
 * active member, then tm runs the failure route armed with t_on_failure(),
 * where ha_failover() sets $du to that member (1); at the bound, or over
 * the pair's cap, ha_failover() / ha_wait() answer 503 themselves. Returns
 * 0 when it waits (the script ends), 1 when the pair has an active member
 * already ($du set), -1 for an ACK or CANCEL (they never wait), -2 when it
 * cannot wait (the cap: the caller is answered 503 by the script), -3 on
 * an error (no ha_route() before, no failure route armed). */
static int ha_wait_helper(struct sip_msg *msg, ha_table_t *tbl)
{
	struct cell *t;
	ha_pair_t *p;
	ha_role_t active;
	str name;
	int rc;

	if(!_ha_tm_loaded) {
		LM_ERR("ha_wait() needs tm\n");
		return -3;
	}
	if(msg->first_line.type != SIP_REQUEST
			|| msg->first_line.u.request.method_value
					   & (METHOD_ACK | METHOD_CANCEL))
		return -1; /* no transaction of its own to suspend */
	if(msg->id != _ha_found_msg_id) {
		LM_ERR("ha_wait(): call ha_route() for the request first\n");
		return -3;
	}
	name.s = _ha_found_pair;
	name.len = strlen(_ha_found_pair);
	p = ha_table_by_name(tbl, &name);
	if(p == NULL)
		return -2;
	lock_get(&p->st->lock);
	active = ha_fsm_routable(&p->st->fsm);
	lock_release(&p->st->lock);
	if(active != HA_ROLE_NONE) {
		if(set_dst_uri(msg, &p->m[active].uri) < 0)
			return -3;
		return 1;
	}
	t = _ha_tmb.t_gett();
	if(t == NULL || t == T_UNDEFINED) {
		if(_ha_tmb.t_newtran(msg) < 0) {
			LM_ERR("pair '%.*s': cannot create the transaction\n", name.len,
					name.s);
			return -3;
		}
		t = _ha_tmb.t_gett();
		if(t == NULL || t == T_UNDEFINED)
			return -3;
	}
	if(t->on_failure == 0) {
		LM_ERR("ha_wait(): arm the failure route that calls ha_failover() "
			   "first (t_on_failure)\n");
		return -3;
	}
	if(get_to(msg)->tag_value.len == 0 && _ha_rr_loaded
			&& _ha_rrb.add_rr_param(msg, &p->rr_param) < 0)
		LM_WARN("pair '%.*s': cannot add the pair tag to Record-Route\n",
				p->name.len, p->name.s);
	rc = ha_wait_suspend(msg, p, HA_ROLE_NONE, NULL, t->on_failure);
	if(rc == 0)
		return 0;
	if(rc == 1)
		return 0; /* canceled meanwhile: tm answers it */
	return -2;
}

static int ki_ha_wait(struct sip_msg *msg)
{
	ha_table_t *t = ha_table_pin();
	int rc;

	rc = ha_wait_helper(msg, t);
	ha_table_unpin(t);
	return rc;
}

static int w_ha_wait(struct sip_msg *msg, char *p1, char *p2)
{
	return ki_ha_wait(msg);
}

/* ha_wait() needs tm: say so at start-up. */
static int fixup_ha_wait(void **param, int param_no)
{
	if(find_export("load_tm", NO_SCRIPT, 0) == NULL) {
		LM_ERR("ha_wait: needs the tm module (loadmodule \"tm.so\")\n");
		return -1;
	}
	return 0;
}

/* ha_route() and ha_route(pair): SPEC 3. name is NULL without argument. */
/* Room for the members one source address has in the running table (all
 * of them: none is left out), in this process's memory, grown when a
 * reload adds more. Returns 0, or -1 when out of memory. */
static ha_pair_t **_ha_fp = NULL;
static int *_ha_froles = NULL;
static int _ha_fmax = 0;

static int from_room(int n)
{
	ha_pair_t **fp;
	int *fr;

	if(n <= _ha_fmax)
		return 0;
	fp = pkg_malloc(n * sizeof(*fp));
	fr = pkg_malloc(n * sizeof(*fr));
	if(fp == NULL || fr == NULL) {
		if(fp)
			pkg_free(fp);
		if(fr)
			pkg_free(fr);
		PKG_MEM_ERROR;
		return -1;
	}
	if(_ha_fp)
		pkg_free(_ha_fp);
	if(_ha_froles)
		pkg_free(_ha_froles);
	_ha_fp = fp;
	_ha_froles = fr;
	_ha_fmax = n;
	return 0;
}

static int ha_route_table(struct sip_msg *msg, ha_table_t *t, str *name)
{
	ha_pair_t *p = NULL, **fp;
	int *froles;
	ha_addr_t src;
	ha_role_t active;
	str xgr;
	int nf, indialog;

	if(t == NULL || msg->first_line.type != SIP_REQUEST)
		return -3;
	if(parse_headers(msg, HDR_TO_F, 0) < 0 || msg->to == NULL
			|| get_to(msg) == NULL) {
		LM_ERR("cannot parse the To header\n");
		return -3;
	}
	indialog = get_to(msg)->tag_value.len > 0;

	if(name != NULL) {
		p = ha_table_by_name(t, name);
		if(p == NULL) {
			LM_DBG("no pair '%.*s'\n", name->len, name->s);
			return -1;
		}
	}

	if(from_room(t->max_per_addr) < 0)
		return -3;
	fp = _ha_fp;
	froles = _ha_froles;
	ha_addr_from_ip(&src, &msg->rcv.src_ip);
	nf = ha_table_by_addr(t, &src, msg->rcv.src_port,
			msg->rcv.proto != PROTO_UDP, fp, froles, _ha_fmax);
	if(nf > 0 && msg->rcv.proto == PROTO_UDP && !trust_udp(fp, froles, &nf)) {
		/* anyone can send a datagram with a member's source address: only
		 * a connection (its handshake) shows that the member sent it.
		 * DBG: forged requests must not be able to flood the log */
		LM_DBG("request from a member's address over UDP: member_trust "
			   "transport handles it as from anyone else\n");
		nf = 0;
	}
	if(nf > 0) {
		from_member(msg, t, fp, froles, nf, p, indialog);
		/* the pair says where this request goes */
		if(xgr_take(msg, &xgr) == 1 && set_dst_uri(msg, &xgr) < 0) {
			LM_ERR("cannot set the destination URI\n");
			return -3;
		}
		return 2;
	}
	/* only members may steer the proxy (once per request: the script may
	 * ask again, e.g. after a brief wait during a hunt) */
	if(ha_msg_first(&_ha_xgr_msg_id, msg)) {
		xgr_take(msg, NULL);
	}

	if(p == NULL)
		p = pair_of_request(msg, t);
	if(p == NULL)
		return -1;
	if(ha_msg_first(&_ha_found_msg_id, msg)) {
		memcpy(_ha_found_pair, p->name.s, p->name.len);
		_ha_found_pair[p->name.len] = '\0';
	}

	lock_get(&p->st->lock);
	active = ha_fsm_routable(&p->st->fsm);
	lock_release(&p->st->lock);
	if(active == HA_ROLE_NONE) {
		/* once per request, even when the script asks again (e.g. after a
		 * brief wait during a hunt) */
		if(ha_msg_first(&_ha_refused_msg_id, msg)) {
			update_stat(_ha_st_requests_refused, 1);
		}
		return -2;
	}
	if(set_dst_uri(msg, &p->m[active].uri) < 0) {
		LM_ERR("cannot set the destination URI\n");
		return -3;
	}
	if(p->shared)
		route_remember(p); /* costs a shared-memory AVP: only when needed */
	if(!indialog && _ha_rr_loaded
			&& _ha_rrb.add_rr_param(msg, &p->rr_param) < 0)
		LM_WARN("pair '%.*s': cannot add the pair tag to Record-Route\n",
				p->name.len, p->name.s);
	if(ha_msg_first(&_ha_routed_msg_id, msg)) {
		update_stat(_ha_st_requests_routed, 1);
	}
	return 1;
}

static int ha_route_helper(struct sip_msg *msg, str *name)
{
	ha_table_t *t = ha_table_pin(); /* every pair it looks at is in t */
	int rc;

	rc = ha_route_table(msg, t, name);
	ha_table_unpin(t);
	return rc;
}

static int ki_ha_route(struct sip_msg *msg)
{
	return ha_route_helper(msg, NULL);
}

static int ki_ha_route_pair(struct sip_msg *msg, str *name)
{
	if(name == NULL || name->len <= 0) {
		LM_ERR("ha_route_pair: empty pair name\n");
		return -3;
	}
	return ha_route_helper(msg, name);
}

static int w_ha_route(struct sip_msg *msg, char *p1, char *p2)
{
	str name;

	if(p1 == NULL)
		return ki_ha_route(msg);
	if(fixup_get_svalue(msg, (gparam_t *)p1, &name) < 0) {
		LM_ERR("ha_route: cannot get the pair name\n");
		return -3;
	}
	return ki_ha_route_pair(msg, &name);
}

/* ha_route(pair): a constant name must be a valid name of a configured
 * pair; a variable is checked per request. */
static int fixup_ha_route(void **param, int param_no)
{
	ha_table_t *t;
	ha_pair_t *p;
	gparam_t *gp;

	if(fixup_spve_null(param, param_no) < 0) {
		LM_ERR("ha_route: bad argument '%s'\n", (char *)*param);
		return -1;
	}
	gp = (gparam_t *)*param;
	if(gp->type == GPARAM_TYPE_STR) {
		if(!ha_name_valid(gp->v.str.s)) {
			LM_ERR("ha_route: '%.*s' is not a pair name (1 to %d letters, "
				   "digits, '-', '_' or '.')\n",
					gp->v.str.len, gp->v.str.s, HA_NAME_MAX);
			return -1;
		}
		/* at start-up: one process, the first table */
		t = ha_table_pin();
		p = ha_table_by_name(t, &gp->v.str);
		ha_table_unpin(t);
		if(p == NULL) {
			LM_ERR("ha_route: no pair '%.*s' in %.*s\n", gp->v.str.len,
					gp->v.str.s, _ha_pairs_file.len, _ha_pairs_file.s);
			return -1;
		}
	}
	return 0;
}

/* ha_failover() needs tm: say so at start-up, not on the first failure. */
static int fixup_ha_failover(void **param, int param_no)
{
	if(find_export("load_tm", NO_SCRIPT, 0) == NULL) {
		LM_ERR("ha_failover: needs the tm module (loadmodule \"tm.so\")\n");
		return -1;
	}
	return 0;
}

/* clang-format off */
static sr_kemi_t sr_kemi_ha_pair_exports[] = {
	{ str_init("ha_pair"), str_init("ha_route"),
		SR_KEMIP_INT, ki_ha_route,
		{ SR_KEMIP_NONE, SR_KEMIP_NONE, SR_KEMIP_NONE,
			SR_KEMIP_NONE, SR_KEMIP_NONE, SR_KEMIP_NONE }
	},
	{ str_init("ha_pair"), str_init("ha_route_pair"),
		SR_KEMIP_INT, ki_ha_route_pair,
		{ SR_KEMIP_STR, SR_KEMIP_NONE, SR_KEMIP_NONE,
			SR_KEMIP_NONE, SR_KEMIP_NONE, SR_KEMIP_NONE }
	},
	{ str_init("ha_pair"), str_init("ha_failover"),
		SR_KEMIP_INT, ki_ha_failover,
		{ SR_KEMIP_NONE, SR_KEMIP_NONE, SR_KEMIP_NONE,
			SR_KEMIP_NONE, SR_KEMIP_NONE, SR_KEMIP_NONE }
	},
	{ str_init("ha_pair"), str_init("ha_wait"),
		SR_KEMIP_INT, ki_ha_wait,
		{ SR_KEMIP_NONE, SR_KEMIP_NONE, SR_KEMIP_NONE,
			SR_KEMIP_NONE, SR_KEMIP_NONE, SR_KEMIP_NONE }
	},
	{ {0, 0}, {0, 0}, 0, NULL, { 0, 0, 0, 0, 0, 0 } }
};
/* clang-format on */

int mod_register(char *path, int *dlflags, void *p1, void *p2)
{
	if(sr_kemi_modules_add(sr_kemi_ha_pair_exports) < 0) {
		LM_ERR("cannot register the KEMI functions\n");
		return -1;
	}
	return 0;
}
