/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_route.c - ha_route() (docs/ha_pair.md): which pair a request belongs to (the
 * named pair, the pair tag, the R-URI as a domain or a member's address,
 * $du, the only pair), a request from a pair member (passive switchover,
 * member_trust, X-Genesys-Route), and the active member as $du. */

#include <string.h>

#include "../../core/dprint.h"
#include "../../core/dset.h"
#include "../../core/forward.h"
#include "../../core/resolve.h"
#include "../../core/mem/mem.h"
#include "../../core/parser/parse_methods.h"
#include "../../core/parser/parse_to.h"
#include "../../core/parser/parse_uri.h"
#include "../../modules/rr/api.h"

#include "ha_route.h"
#include "ha_actions.h"
#include "ha_addr.h"
#include "ha_config.h"
#include "ha_dns.h"
#include "ha_fsm.h"
#include "ha_genesys_route.h"
#include "ha_msg.h"
#include "ha_pair.h"
#include "ha_sched.h"
#include "ha_store.h"
#include "ha_table.h"
#include "ha_time.h"

str _ha_passive_methods = STR_NULL;
str _ha_member_trust = STR_NULL;

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
static unsigned int _ha_passive_mask = 0;
static int _ha_rr_loaded = 0;
static struct rr_binds _ha_rrb;
static str _ha_tag_name = str_init("hapair");
/* the last request counted in requests_refused / requests_routed, and
 * whose X-Genesys-Route was removed (message ids are unique per process) */
static unsigned int _ha_refused_msg_id = 0;
static unsigned int _ha_routed_msg_id = 0;
static unsigned int _ha_genesys_route_msg_id = 0;
/* the pair ha_route() found for the request being routed, for ha_wait():
 * its table's generation and its index there (no copy of its name on
 * every request's path) */
static unsigned int _ha_found_msg_id = 0;
static unsigned int _ha_found_gen = 0;
static int _ha_found_idx = -1;

int ha_route_mod_init(void)
{
	int i;

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
	if(find_export("load_rr", 0, 0) != NULL) {
		if(load_rr_api(&_ha_rrb) < 0) {
			LM_ERR("cannot bind the rr module's API\n");
			return -1;
		}
		_ha_rr_loaded = 1;
	} else {
		LM_INFO("rr module not loaded: no pair tag in Record-Route\n");
	}
	return 0;
}

void ha_route_tag(struct sip_msg *msg, ha_pair_t *p)
{
	if(_ha_rr_loaded && _ha_rrb.add_rr_param(msg, &p->rr_param) < 0)
		LM_WARN("pair '%.*s': cannot add the pair tag to Record-Route\n",
				p->name.len, p->name.s);
}

int ha_route_found(const struct sip_msg *msg, ha_table_t *t, ha_pair_t **p)
{
	ha_table_t *old;

	if(msg->id != _ha_found_msg_id || _ha_found_idx < 0)
		return -1;
	*p = NULL;
	if(t == NULL)
		return 0;
	if(t->gen == _ha_found_gen) {
		if(_ha_found_idx < t->npairs)
			*p = &t->pairs[_ha_found_idx];
		return 0;
	}
	/* a reload between ha_route() and ha_wait(): the pair of the same name
	 * in the running table, while the replaced one is kept */
	old = ha_table_pin_gen(_ha_found_gen);
	if(old != NULL && _ha_found_idx < old->npairs)
		*p = ha_table_by_name(t, &old->pairs[_ha_found_idx].name);
	ha_table_unpin(old);
	return 0;
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

/* Find the pair of a request that did not come from a member (docs/ha_pair.md,
 * ha_route()):
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
	if(msg->dst_uri.len > 0)
		return pair_by_member_uri(t, &msg->dst_uri);
	return NULL;
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

	ha_cfg_trust_t t = p->set.member_trust;

	if(t <= HA_CFG_TRUST_DEFAULT || t >= HA_CFG_TRUST_COUNT)
		return _ha_trust;
	return of_cfg[t];
}

const char *ha_pair_trust_name(const ha_pair_t *p)
{
	return ha_trust_names[pair_trust(p)];
}

/* A UDP request from the address of the *nfrom pair members
 * from_pairs/from_roles: drop those of pairs whose member_trust is
 * "transport" (for them it is a request from anyone). Returns how many
 * remain in *nfrom, 0 when none. */
static int trust_udp(ha_pair_t **from_pairs, int *from_roles, int *nfrom)
{
	int i, n = *nfrom, kept = 0;

	for(i = 0; i < n; i++) {
		if(pair_trust(from_pairs[i]) == HA_TRUST_TRANSPORT)
			continue;
		from_pairs[kept] = from_pairs[i];
		from_roles[kept] = from_roles[i];
		kept++;
	}
	*nfrom = kept;
	return *nfrom;
}

/* A request from a member (the pair's outbound traffic): apply passive
 * switchover where docs/ha_pair.md says so (How it
 * decides, passive switchover). named is the pair the script names, or
 * NULL (then the pair tag, if any, names it). */
static void from_member(struct sip_msg *msg, ha_table_t *t,
		ha_pair_t **from_pairs, int *from_roles, int nfrom, ha_pair_t *named,
		int indialog)
{
	ha_pair_t *p = NULL;
	ha_actions_t acts;
	int i, role = -1, rc = 0;

	if(!_ha_passive_switchover || indialog
			|| !(msg->first_line.u.request.method_value & _ha_passive_mask))
		return;
	if(named == NULL)
		named = pair_by_tag(msg, t);
	for(i = 0; i < nfrom; i++) {
		if(named != NULL && from_pairs[i] != named)
			continue;
		if(p != NULL && (from_pairs[i] != p || from_roles[i] != role)) {
			LM_DBG("request from an address of several pairs or members: no "
				   "passive switchover\n");
			return;
		}
		p = from_pairs[i];
		role = from_roles[i];
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
	ha_sched_update(p);
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
	if(ha_msg_name_set(&_ha_route_avp, &p->name) < 0)
		LM_WARN("pair '%.*s': cannot remember the pair of the request: "
				"ha_failover() will go by the member's address\n",
				p->name.len, p->name.s);
}

ha_pair_t *ha_route_remembered(ha_table_t *t)
{
	str name;

	if(ha_msg_name_get(&_ha_route_avp, &name) == NULL)
		return NULL;
	return ha_table_by_name(t, &name);
}

/* Room for the members one source address has in the running table (all
 * of them: none is left out), in this process's memory, grown when a
 * reload adds more. Returns 0, or -1 when out of memory. */
static ha_pair_t **_ha_from_pairs = NULL;
static int *_ha_from_roles = NULL;
static int _ha_from_max = 0;

static int from_room(int n)
{
	ha_pair_t **from_pairs;
	int *fr;

	if(n <= _ha_from_max)
		return 0;
	from_pairs = pkg_malloc(n * sizeof(*from_pairs));
	fr = pkg_malloc(n * sizeof(*fr));
	if(from_pairs == NULL || fr == NULL) {
		if(from_pairs)
			pkg_free(from_pairs);
		if(fr)
			pkg_free(fr);
		PKG_MEM_ERROR;
		return -1;
	}
	if(_ha_from_pairs)
		pkg_free(_ha_from_pairs);
	if(_ha_from_roles)
		pkg_free(_ha_from_roles);
	_ha_from_pairs = from_pairs;
	_ha_from_roles = fr;
	_ha_from_max = n;
	return 0;
}

/* A request from the members from_pairs/from_roles (nfrom of them; p: the
 * pair the script named, or NULL): passive switchover where
 * docs/ha_pair.md says so, and the next hop its X-Genesys-Route names. Returns 2, or -3 on an
 * error. */
static int route_from_member(struct sip_msg *msg, ha_table_t *t,
		ha_pair_t **from_pairs, int *from_roles, int nfrom, ha_pair_t *p,
		int indialog)
{
	str next_hop;

	from_member(msg, t, from_pairs, from_roles, nfrom, p, indialog);
	/* the pair says where this request goes */
	if(ha_genesys_route_take(msg, &next_hop) == 1
			&& set_dst_uri(msg, &next_hop) < 0) {
		LM_ERR("cannot set the destination URI\n");
		return -3;
	}
	return 2;
}

/* The members the source of msg is (over UDP, only of pairs whose
 * member_trust lets a datagram speak for them), into _ha_from_pairs and
 * _ha_from_roles. Returns how many, or -1 when out of memory. */
static int request_members(struct sip_msg *msg, ha_table_t *t)
{
	ha_addr_t src;
	int nfrom;

	if(from_room(t->max_per_addr) < 0)
		return -1;
	ha_addr_from_ip(&src, &msg->rcv.src_ip);
	nfrom = ha_table_by_addr(t, &src, msg->rcv.src_port,
			msg->rcv.proto != PROTO_UDP, _ha_from_pairs, _ha_from_roles,
			_ha_from_max);
	if(nfrom > 0 && msg->rcv.proto == PROTO_UDP
			&& !trust_udp(_ha_from_pairs, _ha_from_roles, &nfrom)) {
		/* anyone can send a datagram with a member's source address: only
		 * a connection (its handshake) shows that the member sent it.
		 * DBG: forged requests must not be able to flood the log */
		LM_DBG("request from a member's address over UDP: member_trust "
			   "transport handles it as from anyone else\n");
		nfrom = 0;
	}
	return nfrom;
}

/* $du to pair p's active member (docs/ha_pair.md, ha_route(): 1), or -2 when it has none right
 * now, -3 on an error. */
static int route_to_active(
		struct sip_msg *msg, ha_table_t *t, ha_pair_t *p, int indialog)
{
	ha_role_t active;

	if(ha_msg_first(&_ha_found_msg_id, msg)) {
		_ha_found_gen = t->gen;
		_ha_found_idx = (int)(p - t->pairs);
	}
	lock_get(&p->st->lock);
	active = ha_fsm_routable(&p->st->fsm);
	lock_release(&p->st->lock);
	if(active == HA_ROLE_NONE) {
		if(ha_msg_first(&_ha_refused_msg_id, msg))
			update_stat(_ha_stat_requests_refused, 1);
		return -2;
	}
	if(set_dst_uri(msg, &p->m[active].uri) < 0) {
		LM_ERR("cannot set the destination URI\n");
		return -3;
	}
	if(p->addr_shared)
		route_remember(p); /* costs a shared-memory AVP: only when needed */
	if(!indialog)
		ha_route_tag(msg, p);
	if(ha_msg_first(&_ha_routed_msg_id, msg))
		update_stat(_ha_stat_requests_routed, 1);
	return 1;
}

/* ha_route() and ha_route(pair) with table t pinned. name is NULL without
 * argument. */
static int route_request(struct sip_msg *msg, ha_table_t *t, str *name)
{
	ha_pair_t *p = NULL;
	int nfrom, indialog;

	if(t == NULL || msg->first_line.type != SIP_REQUEST)
		return -3;
	/* the To header: parsed already on most requests (a parsed To header
	 * has its body parsed too) */
	if((msg->to == NULL
			   && (parse_headers(msg, HDR_TO_F, 0) < 0 || msg->to == NULL))
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
	nfrom = request_members(msg, t);
	if(nfrom < 0)
		return -3;
	if(nfrom > 0)
		return route_from_member(
				msg, t, _ha_from_pairs, _ha_from_roles, nfrom, p, indialog);
	/* only members may steer the proxy */
	if(ha_msg_first(&_ha_genesys_route_msg_id, msg))
		ha_genesys_route_take(msg, NULL);
	if(p == NULL)
		p = pair_of_request(msg, t);
	if(p == NULL)
		return -1;
	return route_to_active(msg, t, p, indialog);
}

int ha_route_request(struct sip_msg *msg, str *name)
{
	ha_table_t *t = ha_table_pin(); /* every pair it looks at is in t */
	int rc;

	rc = route_request(msg, t, name);
	ha_table_unpin(t);
	return rc;
}
