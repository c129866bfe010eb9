/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_pair_mod.c - module exports of ha_pair: parameters, start-up, script
 * and KEMI functions, statistics. */

#include <string.h>
#include <stdio.h>

#include "../../core/dprint.h"
#include "../../core/kemi.h"
#include "../../core/mod_fix.h"
#include "../../core/script_cb.h"
#include "../../core/socket_info.h"
#include "../../core/sr_module.h"
#include "../../core/timer_proc.h"
#include "../../core/cfg/cfg_struct.h"
#include "../../core/mem/shm_mem.h"
#include "../../core/parser/parse_uri.h"
#include "../../modules/tm/tm_load.h"

#include "ha_pair.h"
#include "ha_codes.h"
#include "ha_config.h"
#include "ha_dmq.h"
#include "ha_dmq_recv.h"
#include "ha_dmq_sec.h"
#include "ha_event.h"
#include "ha_failover.h"
#include "ha_fsm.h"
#include "ha_probe.h"
#include "ha_route.h"
#include "ha_rpc.h"
#include "ha_sched.h"
#include "ha_settings.h"
#include "ha_store.h"
#include "ha_table.h"
#include "ha_wait.h"

MODULE_VERSION

/* claim_retries' bound: a million tries are eight weeks at the default
 * oos-check, longer than a claim can mean anything; more is a typo */
#define HA_CLAIM_RETRIES_MAX 1000000


str _ha_pairs_file = STR_NULL;
int _ha_oos_check = HA_CHECK_DEFAULT_MS;
int _ha_oos_force = HA_FORCE_DEFAULT_MS;
str _ha_probe_from = STR_NULL;
str _ha_probe_socket = STR_NULL;
str _ha_alive_codes = STR_NULL;
int _ha_passive_switchover = 1;
int _ha_probe_standby = 0;
int _ha_claim_retries = HA_CLAIM_RETRIES_DEFAULT;
int _ha_dns_refresh = 60;

ha_codes_t _ha_alive;
struct socket_info *_ha_probe_sock = NULL;

stat_var *_ha_stat_switchovers = NULL;
stat_var *_ha_stat_probes_sent = NULL;
stat_var *_ha_stat_probes_unanswered = NULL;
stat_var *_ha_stat_probes_resent = NULL;
stat_var *_ha_stat_requests_routed = NULL;
stat_var *_ha_stat_requests_refused = NULL;
stat_var *_ha_stat_verify_probes = NULL;
stat_var *_ha_stat_verify_alive = NULL;
stat_var *_ha_stat_verify_silent = NULL;
stat_var *_ha_stat_waited = NULL;
stat_var *_ha_stat_waiting = NULL;
stat_var *_ha_stat_wait_timeouts = NULL;
stat_var *_ha_stat_wait_rejected = NULL;

static int mod_init(void);
static int child_init(int rank);
static void mod_destroy(void);
static int w_ha_route(struct sip_msg *msg, char *p1, char *p2);
static int w_ha_failover(struct sip_msg *msg, char *p1, char *p2);
static int fixup_ha_failover(void **param, int param_no);
static int fixup_ha_route(void **param, int param_no);
static int w_ha_wait(struct sip_msg *msg, char *p1, char *p2);
static int fixup_ha_wait(void **param, int param_no);

/* Statistic pairs_on_backup: how many pairs have their backup active now
 * (a gauge, read when asked: each pair's state under its lock). */
static counter_val_t ha_stat_pairs_on_backup(void)
{
	ha_table_t *t;
	counter_val_t n = 0;
	int i;

	t = ha_table_pin();
	if(t == NULL)
		return 0;
	for(i = 0; i < t->npairs; i++) {
		lock_get(&t->pairs[i].st->lock);
		if(t->pairs[i].st->fsm.active == HA_ROLE_BACKUP)
			n++;
		lock_release(&t->pairs[i].st->lock);
	}
	ha_table_unpin(t);
	return n;
}

/* clang-format off */
static stat_export_t mod_stats[] = {
	{"switchovers", 0, &_ha_stat_switchovers},
	{"probes_sent", 0, &_ha_stat_probes_sent},
	{"probes_unanswered", 0, &_ha_stat_probes_unanswered},
	{"probes_resent", 0, &_ha_stat_probes_resent},
	{"requests_routed", 0, &_ha_stat_requests_routed},
	{"requests_refused", 0, &_ha_stat_requests_refused},
	{"verify_probes", 0, &_ha_stat_verify_probes},
	{"verify_alive", 0, &_ha_stat_verify_alive},
	{"verify_silent", 0, &_ha_stat_verify_silent},
	{"waited", 0, &_ha_stat_waited},
	{"waiting", STAT_NO_RESET, &_ha_stat_waiting},
	{"wait_timeouts", 0, &_ha_stat_wait_timeouts},
	{"wait_rejected", 0, &_ha_stat_wait_rejected},
	{"pairs_on_backup", STAT_IS_FUNC | STAT_NO_RESET,
		(stat_var **)ha_stat_pairs_on_backup},
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
	{"claim_retries", PARAM_INT, &_ha_claim_retries},
	{"event_callback", PARAM_STR, &_ha_event_callback},
	{"dns_refresh", PARAM_INT, &_ha_dns_refresh},
	{"max_wait", PARAM_INT, &_ha_max_wait},
	{"max_waiting", PARAM_INT, &_ha_wait_cap},
	{"retry_after", PARAM_INT, &_ha_retry_after},
	{"enable_dmq", PARAM_INT, &_ha_enable_dmq},
	{"sync_timeout", PARAM_INT, &_ha_sync_timeout},
	{"sync_interval", PARAM_INT, &_ha_sync_interval},
	{"pool_secret_file", PARAM_STR, &_ha_pool_secret_file},
	{"pool_time_window", PARAM_INT, &_ha_pool_time_window},
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
	ha_rpc_cmds,	 /* RPC method exports */
	mod_pvs,		 /* pseudo-variables exports */
	0,				 /* response handling function */
	mod_init,		 /* module init function */
	child_init,		 /* per-child init function */
	mod_destroy		 /* module destroy function */
};
/* clang-format on */

/* The listen socket probe_socket names, when it is set. */
static int probe_socket_init(void)
{
	if(_ha_probe_socket.len <= 0)
		return 0;
	_ha_probe_sock = lookup_local_socket(&_ha_probe_socket);
	if(_ha_probe_sock == NULL) {
		LM_ERR("probe_socket '%.*s' is not a listen socket of this "
			   "kamailio\n",
				_ha_probe_socket.len, _ha_probe_socket.s);
		return -1;
	}
	return 0;
}

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
 * by a reload fire theirs in the load itself (ha_pairs_load()). */
void ha_start_events(void)
{
	ha_table_t *t = ha_table_pin();
	int i;

	for(i = 0; t != NULL && i < t->npairs; i++)
		if(t->pairs[i].is_new)
			ha_start_event(&t->pairs[i]);
	ha_table_unpin(t);
}

/* The parameters not checked elsewhere: refused at start-up rather than
 * taken to mean something (a From that is no URI goes out in every probe;
 * an event_callback with no KEMI engine would be lost at each event). */
static int mod_params_check(void)
{
	struct sip_uri u;

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
	if(_ha_dns_refresh < 0) {
		LM_ERR("dns_refresh %d: seconds, or 0 for never\n", _ha_dns_refresh);
		return -1;
	}
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
	if(_ha_claim_retries < 0 || _ha_claim_retries > HA_CLAIM_RETRIES_MAX) {
		LM_ERR("claim_retries %d: tries of a refused pool claim, 0 (never "
			   "retried) to %d\n",
				_ha_claim_retries, HA_CLAIM_RETRIES_MAX);
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

int ha_pairs_load(char *err, size_t errlen, ha_pairs_counts_t *ls, int events)
{
	ha_mod_defaults_t mod;

	/* every module parameter a pair's settings may fall back on: they go
	 * into the definitions kept with the table (ha_settings.h) */
	memset(&mod, 0, sizeof(mod));
	mod.timings.oos_check_ms = _ha_oos_check;
	mod.timings.oos_force_ms = _ha_oos_force;
	mod.fc.alive = _ha_alive;
	mod.fc.probe_standby = _ha_probe_standby;
	mod.fc.claim_retries = _ha_claim_retries;
	if(ha_store_load(_ha_pairs_file.s, &mod, ls, events ? ha_start_event : NULL,
			   err, errlen)
			< 0)
		return -1;
	ha_sched_wake_all();
	return 0;
}

/* The module's statistics, the reply callback of the probes, and the
 * APIs of tm (for waiting transactions) and rr (the pair tag). */
static int mod_bind(void)
{
	if(register_module_stats("ha_pair", mod_stats) != 0) {
		LM_ERR("cannot register statistics\n");
		return -1;
	}
	if(register_script_cb(ha_probe_reply_cb, PRE_SCRIPT_CB | ONREPLY_CB, 0)
			< 0) {
		LM_ERR("cannot register the reply callback\n");
		return -1;
	}
	if(ha_wait_mod_init() < 0)
		return -1;
	return ha_route_mod_init();
}

static int mod_init(void)
{
	ha_pairs_counts_t ls;
	char err[HA_ERR_MAX];

	if(mod_params_check() < 0 || probe_socket_init() < 0
			|| probe_from_init() < 0 || mod_bind() < 0)
		return -1;
	if(ha_store_init() < 0) {
		SHM_MEM_ERROR;
		return -1;
	}
	if(ha_pairs_load(err, sizeof(err), &ls, 0) < 0) {
		LM_ERR("%s\n", err);
		return -1;
	}
	LM_INFO("%d pairs from %.*s\n", ls.pairs, _ha_pairs_file.len,
			_ha_pairs_file.s);
	if(ha_probe_mod_init() < 0 || ha_event_mod_init(ls.pairs) < 0
			|| ha_dmq_mod_init(ha_dmq_handle) < 0)
		return -1;
	if(_ha_dns_refresh > 0 && register_basic_timers(1) < 0) {
		LM_ERR("cannot reserve the DNS refresh process\n");
		return -1;
	}
	ha_start_events();
	return 0;
}

static int child_init(int rank)
{
	if(rank == PROC_INIT && ha_store_pins_init(get_max_procs()) < 0) {
		SHM_MEM_ERROR;
		return -1;
	}
	/* Every other child takes the running configuration now, at its
	 * start. A SIP worker does that on its first request, under the cfg
	 * lock; Debian's 5.6 (built with SIG_DEBUG) does it again in each
	 * child's SIGTERM handler whenever the child's view is not the
	 * current one. A stop whose SIGTERM reaches a child inside its first
	 * update (a probe's reply waking an idle worker) left that child
	 * waiting on the lock it held itself, every child with no view yet
	 * behind it, and the main process waiting for them all until its
	 * 60 s kill (ser_kill_timeout): two CI runs saw it. A child with the
	 * current view takes no lock in its handler. No per-child callbacks
	 * here: the process's own loop registers for them later. */
	if(rank != PROC_INIT && rank != PROC_MAIN)
		cfg_update_no_cbs();
	if(rank == PROC_MAIN) {
		if(ha_probe_fork() < 0 || ha_event_fork() < 0 || ha_dmq_fork() < 0)
			return -1;
		if(_ha_tm_loaded && ha_wait_fork() < 0)
			return -1;
		if(_ha_dns_refresh > 0
				&& fork_basic_timer(PROC_TIMER, "ha_pair dns", 1 /* socks */,
						   ha_store_refresh_timer, NULL, _ha_dns_refresh)
						   < 0) {
			LM_ERR("cannot start the DNS refresh process\n");
			return -1;
		}
	}
	return 0;
}

/* In the main process, every other one ended (docs/design.md, Shutdown):
 * nothing here takes a lock (a child may have ended holding one). The
 * wait lists go first, so that the tables' free and the transactions tm
 * frees later (5.6) leave the records' pairs alone. */
static void mod_destroy(void)
{
	ha_wait_destroy();
	ha_store_destroy();
	ha_event_destroy();
	ha_dmq_destroy();
	ha_sched_destroy();
}

static int ki_ha_failover(struct sip_msg *msg)
{
	return ha_failover_request(msg);
}

static int w_ha_failover(struct sip_msg *msg, char *p1, char *p2)
{
	return ki_ha_failover(msg);
}

static int ki_ha_wait(struct sip_msg *msg)
{
	return ha_wait_request(msg);
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

static int ki_ha_route(struct sip_msg *msg)
{
	return ha_route_request(msg, NULL);
}

static int ki_ha_route_pair(struct sip_msg *msg, str *name)
{
	if(name == NULL || name->len <= 0) {
		LM_ERR("ha_route_pair: empty pair name\n");
		return -3;
	}
	return ha_route_request(msg, name);
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
