/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_store.c - the shared-memory table of pairs of ha_pair. */

#include <string.h>
#include <time.h>
#include <unistd.h>
#include <stdlib.h>
#include <sys/random.h>

#include "../../core/dprint.h"
#include "../../core/mem/shm_mem.h"
#include "../../core/resolve.h"
#include "../../core/forward.h"
#include "../../core/socket_info.h"
#include "../../core/ip_addr.h"
#include "../../core/ut.h"
#include "../../core/atomic_ops.h"
#include "../../core/globals.h"

#include "ha_store.h"
#include "ha_pair.h"
#include "ha_hash.h"

ha_store_t *_ha_store = NULL;

int ha_store_init(void)
{
	_ha_store = shm_malloc(sizeof(*_ha_store));
	if(_ha_store == NULL)
		return -1;
	memset(_ha_store, 0, sizeof(*_ha_store));
	if(lock_init(&_ha_store->lock) == NULL) {
		shm_free(_ha_store);
		_ha_store = NULL;
		return -1;
	}
	return 0;
}

void ha_store_destroy(void)
{
	ha_table_t *t;

	if(_ha_store == NULL)
		return;
	while((t = _ha_store->retired) != NULL) {
		_ha_store->retired = t->next;
		ha_table_free(t);
	}
	ha_table_free(_ha_store->cur);
	if(_ha_store->pins != NULL)
		shm_free(_ha_store->pins);
	shm_free(_ha_store);
	_ha_store = NULL;
}

int ha_store_pins_init(int nprocs)
{
	ha_pin_t *pins;

	if(_ha_store == NULL || _ha_store->pins != NULL)
		return 0;
	if(nprocs <= 0)
		nprocs = 1;
	pins = shm_malloc(nprocs * sizeof(ha_pin_t));
	if(pins == NULL)
		return -1;
	memset(pins, 0, nprocs * sizeof(ha_pin_t));
	_ha_store->npins = nprocs;
	_ha_store->pins = pins;
	return 0;
}

/* How deep each of this process's slots is pinned (private memory: only
 * this process uses its slots). */
static int _ha_pin_depth[HA_PINS];

/* This process's slots, or NULL before they exist (only the main process
 * runs then, and nothing is freed). */
static inline ha_pin_t *pin_slots(void)
{
	if(_ha_store->pins == NULL || process_no < 0
			|| process_no >= _ha_store->npins)
		return NULL;
	return &_ha_store->pins[process_no];
}

/* Slot i of s holds t already: one level deeper. Returns 1, or 0 when no
 * slot holds it. */
static int pin_again(ha_pin_t *s, ha_table_t *t)
{
	int i;

	for(i = 0; i < HA_PINS; i++) {
		if(_ha_pin_depth[i] > 0 && s->t[i] == t) {
			_ha_pin_depth[i]++;
			return 1;
		}
	}
	return 0;
}

static int pin_free_slot(void)
{
	int i;

	for(i = 0; i < HA_PINS; i++)
		if(_ha_pin_depth[i] == 0)
			return i;
	LM_CRIT("more than %d tables pinned at a time by one process\n", HA_PINS);
	return -1;
}

ha_table_t *ha_table_pin(void)
{
	ha_pin_t *s;
	ha_table_t *t, *again;
	int i;

	if(_ha_store == NULL)
		return NULL;
	t = __atomic_load_n(&_ha_store->cur, __ATOMIC_SEQ_CST);
	s = pin_slots();
	if(s == NULL || t == NULL || pin_again(s, t))
		return t;
	i = pin_free_slot();
	if(i < 0)
		return NULL;
	/* publish, then check it is still the running table: a table replaced
	 * before the store is not used, one replaced after it is seen pinned
	 * by the reaper (both sides sequentially consistent: the swap comes
	 * before the reaper's look at the slots) */
	for(;;) {
		__atomic_store_n(&s->t[i], t, __ATOMIC_SEQ_CST);
		again = __atomic_load_n(&_ha_store->cur, __ATOMIC_SEQ_CST);
		if(again == t)
			break;
		t = again;
	}
	_ha_pin_depth[i] = 1;
	return t;
}

/* The table of generation gen, running or replaced, or NULL. With the
 * store's lock held. */
static ha_table_t *store_table_of_gen(unsigned int gen)
{
	ha_table_t *t;

	if(_ha_store->cur != NULL && _ha_store->cur->gen == gen)
		return _ha_store->cur;
	for(t = _ha_store->retired; t != NULL; t = t->next)
		if(t->gen == gen)
			return t;
	return NULL;
}

ha_table_t *ha_table_pin_gen(unsigned int gen)
{
	ha_pin_t *s;
	ha_table_t *t;
	int i;

	if(_ha_store == NULL)
		return NULL;
	lock_get(&_ha_store->lock);
	t = store_table_of_gen(gen);
	s = pin_slots();
	if(t != NULL && s != NULL && !pin_again(s, t)) {
		/* under the lock, which the reaper holds while it looks */
		i = pin_free_slot();
		if(i < 0) {
			t = NULL;
		} else {
			__atomic_store_n(&s->t[i], t, __ATOMIC_SEQ_CST);
			_ha_pin_depth[i] = 1;
		}
	}
	lock_release(&_ha_store->lock);
	return t;
}

void ha_table_unpin(ha_table_t *t)
{
	ha_pin_t *s;
	int i;

	if(t == NULL || _ha_store == NULL || (s = pin_slots()) == NULL)
		return;
	for(i = 0; i < HA_PINS; i++) {
		if(_ha_pin_depth[i] > 0 && s->t[i] == t) {
			if(--_ha_pin_depth[i] == 0)
				__atomic_store_n(&s->t[i], NULL, __ATOMIC_SEQ_CST);
			return;
		}
	}
}

/* Has any process pinned t? With the store's lock held. */
static int table_pinned(const ha_table_t *t)
{
	int p, i;

	for(p = 0; _ha_store->pins != NULL && p < _ha_store->npins; p++)
		for(i = 0; i < HA_PINS; i++)
			if(__atomic_load_n(&_ha_store->pins[p].t[i], __ATOMIC_SEQ_CST) == t)
				return 1;
	return 0;
}

int ha_store_reap(int64_t now_ms)
{
	ha_table_t **pt, *t;
	int kept = 0;

	if(_ha_store == NULL || _ha_store->retired == NULL)
		return 0;
	lock_get(&_ha_store->lock);
	pt = &_ha_store->retired;
	while((t = *pt) != NULL) {
		if(now_ms - t->retired_ms >= HA_RETIRE_GRACE_MS && !table_pinned(t)) {
			*pt = t->next;
			ha_table_free(t);
		} else {
			pt = &t->next;
			kept++;
		}
	}
	lock_release(&_ha_store->lock);
	return kept;
}

/* Make t the running table in old's place (the store's lock held). */
static void store_install(ha_table_t *t, ha_table_t *old, int64_t now)
{
	/* the table is whole before anyone can see it; and the swap comes
	 * before any later look at the pins (ha_table_pin()) */
	__atomic_store_n(&_ha_store->cur, t, __ATOMIC_SEQ_CST);
	if(old != NULL) {
		old->retired_ms = now;
		old->next = _ha_store->retired;
		_ha_store->retired = old;
	}
}

int ha_store_load(const char *path, const ha_cfg_defaults_t *defs,
		const ha_codes_t *alive, int probe_standby, ha_load_stats_t *ls,
		void (*started)(ha_pair_t *p), char *err, size_t errlen)
{
	ha_cfg_t *cfg = NULL;
	ha_member_t *res;
	ha_table_t *t, *old;
	ha_pair_t *p;
	int64_t now;
	int i;

	memset(ls, 0, sizeof(*ls));
	/* parsing and resolving with no lock held: a slow DNS answer holds up
	 * nothing but this load (the store's lock is taken by SIP workers for
	 * replies to probes of a replaced table) */
	if(ha_cfg_load(path, defs, &cfg, err, errlen) < 0)
		return -1;
	res = ha_cfg_resolve(cfg, err, errlen);
	if(res == NULL) {
		ha_cfg_free(cfg);
		return -1;
	}
	lock_get(&_ha_store->lock);
	old = _ha_store->cur;
	now = ha_now_ms();
	t = ha_table_build(cfg, res, alive, probe_standby, old, _ha_store->gen + 1,
			now, err, errlen);
	ha_cfg_free(cfg);
	free(res);
	if(t == NULL) {
		lock_release(&_ha_store->lock);
		return -1;
	}
	_ha_store->gen++;
	for(i = 0; i < t->npairs; i++) {
		p = &t->pairs[i];
		if(p->fresh) {
			/* under the lock and before the swap: no other load can
			 * install a table in between (where the pair is no longer
			 * fresh), and the prober cannot yet run it */
			if(started != NULL)
				started(p);
			ls->added++;
			continue;
		}
		ls->kept++;
		lock_get(&p->st->lock);
		ha_fsm_set_cfg(&p->st->fsm, &p->fc);
		lock_release(&p->st->lock);
	}
	ls->removed = (old ? old->npairs : 0) - ls->kept;
	ls->pairs = t->npairs;
	store_install(t, old, now);
	lock_release(&_ha_store->lock);
	return 0;
}

/* The running table's pairs as a configuration, to rebuild them with
 * fresh DNS answers. Returns NULL when out of memory. */
static ha_cfg_t *cfg_of_table(const ha_table_t *t)
{
	ha_cfg_t *cfg;
	ha_cfg_pair_t *cp;
	const ha_pair_t *p;
	char e[HA_ERR_MAX];
	int i, j;

	cfg = calloc(1, sizeof(*cfg));
	if(cfg == NULL)
		return NULL;
	if(t->npairs > 0) {
		cfg->pairs = calloc(t->npairs, sizeof(ha_cfg_pair_t));
		if(cfg->pairs == NULL)
			goto error;
	}
	for(i = 0; i < t->npairs; i++) {
		p = &t->pairs[i];
		cp = &cfg->pairs[i];
		cfg->npairs++;
		memcpy(cp->name, p->name.s, p->name.len);
		cp->oos_check_ms = p->fc.oos_check_ms;
		cp->oos_force_ms = p->fc.oos_force_ms;
		for(j = 0; j < HA_ROLE_COUNT; j++) {
			cp->uri[j] = strndup(p->m[j].uri.s, p->m[j].uri.len);
			if(cp->uri[j] == NULL
					|| ha_uri_parse(cp->uri[j], &cp->parsed[j], e, sizeof(e))
							   < 0)
				goto error;
		}
		if(p->ndomains > 0) {
			cp->domains = calloc(p->ndomains, sizeof(char *));
			if(cp->domains == NULL)
				goto error;
			for(j = 0; j < p->ndomains; j++) {
				cp->domains[j] = strndup(p->domains[j].s, p->domains[j].len);
				if(cp->domains[j] == NULL)
					goto error;
				cp->ndomains++;
			}
		}
	}
	return cfg;
error:
	ha_cfg_free(cfg);
	return NULL;
}

/* Do two tables resolve every member to the same addresses? */
static int same_addresses(const ha_table_t *a, const ha_table_t *b)
{
	const ha_member_t *x, *y;
	int i, j;

	for(i = 0; i < a->npairs; i++) {
		for(j = 0; j < HA_ROLE_COUNT; j++) {
			x = &a->pairs[i].m[j];
			y = &b->pairs[i].m[j];
			if(x->naddrs != y->naddrs || x->port != y->port
					|| x->proto != y->proto
					|| memcmp(x->addrs, y->addrs, x->naddrs * sizeof(ha_addr_t))
							   != 0
					|| memcmp(x->aports, y->aports, x->naddrs * sizeof(int))
							   != 0
					|| memcmp(&x->dst, &y->dst, sizeof(x->dst)) != 0)
				return 0;
		}
	}
	return 1;
}

int ha_store_refresh(char *err, size_t errlen)
{
	ha_cfg_t *cfg;
	ha_member_t *res;
	ha_table_t *t, *old;
	ha_codes_t any;
	unsigned int gen;
	int64_t now;
	int i, j, names = 0;

	/* a copy of the running table's pairs, under the lock */
	lock_get(&_ha_store->lock);
	old = _ha_store->cur;
	for(i = 0; old != NULL && i < old->npairs; i++)
		for(j = 0; j < HA_ROLE_COUNT; j++)
			names += old->pairs[i].m[j].by_name;
	if(names == 0) {
		lock_release(&_ha_store->lock);
		return 0;
	}
	gen = old->gen;
	cfg = cfg_of_table(old);
	lock_release(&_ha_store->lock);
	if(cfg == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* the DNS lookups, with no lock held */
	res = ha_cfg_resolve(cfg, err, errlen);
	if(res == NULL) {
		ha_cfg_free(cfg);
		return -1;
	}
	lock_get(&_ha_store->lock);
	old = _ha_store->cur;
	if(old == NULL || old->gen != gen) {
		/* a reload installed a table meanwhile, with names it resolved
		 * itself: this refresh is moot (the next one looks at it) */
		lock_release(&_ha_store->lock);
		ha_cfg_free(cfg);
		free(res);
		return 0;
	}
	now = ha_now_ms();
	ha_codes_parse(NULL, &any);
	t = ha_table_build(
			cfg, res, &any, 0, old, _ha_store->gen + 1, now, err, errlen);
	ha_cfg_free(cfg);
	free(res);
	if(t == NULL) {
		lock_release(&_ha_store->lock);
		return -1;
	}
	if(same_addresses(old, t)) {
		ha_table_free(t);
		lock_release(&_ha_store->lock);
		return 0;
	}
	for(i = 0; i < t->npairs; i++)
		t->pairs[i].fc = old->pairs[i].fc; /* all kept, as they were */
	_ha_store->gen++;
	store_install(t, old, now);
	lock_release(&_ha_store->lock);
	return 1;
}

int64_t ha_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ha_addr_from_ip(ha_addr_t *a, const struct ip_addr *ip)
{
	memset(a, 0, sizeof(*a));
	a->af = ip->af == AF_INET6 ? 6 : 4;
	memcpy(a->ip, ip->u.addr, a->af == 6 ? 16 : 4);
}

/* address index entries by port, address (ha_addr_t is memcmp-able:
 * zeroed before it is filled), then pair */
static int addr_ent_cmp(const void *a, const void *b)
{
	const ha_addr_ent_t *x = a, *y = b;
	int c;

	if(x->port != y->port)
		return x->port < y->port ? -1 : 1;
	c = memcmp(&x->addr, &y->addr, sizeof(x->addr));
	if(c != 0)
		return c;
	return x->pair < y->pair ? -1 : x->pair > y->pair;
}

static int addr_only_cmp(const void *a, const void *b)
{
	const ha_addr_ent_t *x = a, *y = b;

	return memcmp(&x->addr, &y->addr, sizeof(x->addr));
}

static unsigned int hash_addr(const ha_addr_t *a)
{
	return ha_fnv1a(a->ip, a->af == 6 ? 16 : 4, 0);
}

static int ha_shm_strdup(str *dst, const char *src)
{
	int len = strlen(src);

	dst->s = shm_malloc(len + 1);
	if(dst->s == NULL) {
		dst->len = 0;
		return -1;
	}
	memcpy(dst->s, src, len + 1);
	dst->len = len;
	return 0;
}

void ha_table_free(ha_table_t *t)
{
	int i, j;
	ha_pair_t *p;

	if(t == NULL)
		return;
	if(t->pairs) {
		for(i = 0; i < t->npairs; i++) {
			p = &t->pairs[i];
			if(p->name.s)
				shm_free(p->name.s);
			if(p->rr_param.s)
				shm_free(p->rr_param.s);
			for(j = 0; j < HA_ROLE_COUNT; j++) {
				if(p->m[j].uri.s)
					shm_free(p->m[j].uri.s);
				if(p->m[j].host.s)
					shm_free(p->m[j].host.s);
			}
			if(p->domains) {
				for(j = 0; j < p->ndomains; j++)
					if(p->domains[j].s)
						shm_free(p->domains[j].s);
				shm_free(p->domains);
			}
			if(p->st != NULL && --p->st->refs <= 0) {
				ha_wait_orphan(p->st);
				shm_free(p->st);
			}
		}
		shm_free(t->pairs);
	}
	if(t->due)
		shm_free((void *)t->due);
	if(t->name_buckets)
		shm_free(t->name_buckets);
	if(t->addr_buckets)
		shm_free(t->addr_buckets);
	if(t->addr_ents)
		shm_free(t->addr_ents);
	if(t->dom_buckets)
		shm_free(t->dom_buckets);
	if(t->dom_ents)
		shm_free(t->dom_ents);
	shm_free(t);
}

/* Kamailio's protocol of each transport: the one map between the two. */
static const int _ha_tr_proto[HA_TR_COUNT] = {
		[HA_TR_UDP] = PROTO_UDP,
		[HA_TR_TCP] = PROTO_TCP,
		[HA_TR_TLS] = PROTO_TLS,
};

static int proto_of(ha_transport_t tr)
{
	return _ha_tr_proto[tr];
}

ha_transport_t ha_proto_transport(int proto)
{
	int t;

	for(t = 0; t < HA_TR_COUNT; t++) {
		if(_ha_tr_proto[t] == proto)
			return (ha_transport_t)t;
	}
	return HA_TR_UDP;
}

/* Add ip on port to m's addresses (once). Returns 0, or -1 when m has
 * HA_MAX_ADDRS already: the member is refused rather than some of its
 * requests silently taken as from anyone else. */
static int member_add_addr(ha_member_t *m, const struct ip_addr *ip, int port)
{
	ha_addr_t a;
	int i;

	ha_addr_from_ip(&a, ip);
	for(i = 0; i < m->naddrs; i++)
		if(memcmp(&m->addrs[i], &a, sizeof(a)) == 0 && m->aports[i] == port)
			return 0;
	if(m->naddrs >= HA_MAX_ADDRS)
		return -1;
	m->aports[m->naddrs] = port;
	m->addrs[m->naddrs++] = a;
	return 0;
}

int ha_member_has(
		const ha_member_t *m, const ha_addr_t *ip, int port, int reliable)
{
	int i;

	for(i = 0; i < m->naddrs; i++)
		if(ha_addr_is_member(&m->addrs[i], 1, m->aports[i], ip, port, reliable))
			return 1;
	return 0;
}

/* The A and AAAA records of name, each on port, into m. Returns 0, or -1
 * when m has no room for them. */
static int member_add_host(ha_member_t *m, char *name, int port)
{
	static const int types[] = {T_A, T_AAAA};
	struct rdata *head, *rd;
	struct ip_addr ip;
	int i, rc = 0;

	for(i = 0; i < 2 && rc == 0; i++) {
		head = get_record(name, types[i], RES_ONLY_TYPE);
		for(rd = head; rd != NULL && rc == 0; rd = rd->next) {
			memset(&ip, 0, sizeof(ip));
			if(rd->type == T_A) {
				ip.af = AF_INET;
				ip.len = 4;
				memcpy(ip.u.addr, ((struct a_rdata *)rd->rdata)->ip, 4);
			} else if(rd->type == T_AAAA) {
				ip.af = AF_INET6;
				ip.len = 16;
				memcpy(ip.u.addr, ((struct aaaa_rdata *)rd->rdata)->ip6, 16);
			} else {
				continue;
			}
			rc = member_add_addr(m, &ip, port);
		}
		if(head != NULL)
			free_rdata_list(head);
	}
	return rc;
}

/* Every target of the SRV records named srv: their addresses, each on its
 * target's port. Returns 0, or -1 when m has no room for them. */
static int member_add_srv(ha_member_t *m, char *srv)
{
	struct rdata *head, *rd;
	struct srv_rdata *r;
	int rc = 0;

	head = get_record(srv, T_SRV, RES_ONLY_TYPE);
	for(rd = head; rd != NULL && rc == 0; rd = rd->next) {
		if(rd->type != T_SRV)
			continue;
		r = (struct srv_rdata *)rd->rdata;
		rc = member_add_host(m, r->name, r->port);
	}
	if(head != NULL)
		free_rdata_list(head);
	return rc;
}

/* A member with no port in its URI (RFC 3263): the resolver picked one
 * target to probe, but requests may come from any target of its SRV
 * records (those NAPTR records of its transport point to, and the
 * _sip._udp / _sip._tcp / _sips._tcp name of the host). Returns 0, or -1
 * when m has no room for them. */
static int member_add_targets(ha_member_t *m, const char *host)
{
	struct rdata *head, *rd;
	struct naptr_rdata *n;
	char name[MAX_DNS_NAME];
	int rc = 0;

	head = get_record((char *)host, T_NAPTR, RES_ONLY_TYPE);
	for(rd = head; rd != NULL && rc == 0; rd = rd->next) {
		if(rd->type != T_NAPTR)
			continue;
		n = (struct naptr_rdata *)rd->rdata;
		if(naptr_get_sip_proto(n) != m->proto || n->repl_len == 0)
			continue;
		rc = member_add_srv(m, n->repl);
	}
	if(head != NULL)
		free_rdata_list(head);
	if(rc == 0
			&& snprintf(name, sizeof(name), "%s%s",
					   ha_transports[ha_proto_transport(m->proto)].srv, host)
					   < (int)sizeof(name))
		rc = member_add_srv(m, name);
	return rc;
}

/* Resolve a member (m->proto set): an IP literal directly; a host name
 * through Kamailio's resolver, with SRV/NAPTR (RFC 3263) when the URI gives
 * no port. All the host's addresses are kept for recognising requests from
 * the member. May wait on DNS: never call it with a lock held. Returns 0,
 * or -1 with err filled. */
static int member_resolve(
		ha_member_t *m, const ha_uri_t *u, char *err, size_t errlen)
{
	str host = {(char *)u->host, strlen(u->host)};
	struct ip_addr *ip;
	struct ip_addr hip;
	struct hostent *he;
	/* no transport in the URI: RFC 3263 lets NAPTR records choose it
	 * (with dns_try_naptr; Kamailio skips NAPTR for a given transport) */
	char proto = u->transport_set || u->secure ? m->proto : 0;
	int i;

	ip = str2ip(&host);
	if(ip == NULL)
		ip = str2ip6(&host);
	m->by_name = ip == NULL;
	if(ip != NULL) {
		m->port = ha_uri_port(u);
		init_su(&m->dst, ip, m->port);
		return member_add_addr(m, ip, m->port);
	}
	if(sip_hostport2su(&m->dst, &host, (unsigned short)u->port, &proto) < 0) {
		snprintf(err, errlen, "cannot resolve host '%s'", u->host);
		return -1;
	}
	if(proto == PROTO_UDP || proto == PROTO_TCP || proto == PROTO_TLS)
		m->proto = proto; /* the transport NAPTR chose (UDP without) */
	m->port = su_getport(&m->dst);
	su2ip_addr(&hip, &m->dst);
	if(member_add_addr(m, &hip, m->port) < 0)
		goto full;
	he = resolvehost((char *)u->host);
	if(he != NULL) {
		for(i = 0; he->h_addr_list[i] != NULL; i++) {
			hostent2ip_addr(&hip, he, i);
			if(member_add_addr(m, &hip, m->port) < 0)
				goto full;
		}
	}
	/* and from DNS itself: the resolver's hostent (its DNS cache) has room
	 * for 10 addresses only */
	if(member_add_host(m, (char *)u->host, m->port) < 0)
		goto full;
	if(u->port == 0 && member_add_targets(m, u->host) < 0)
		goto full;
	return 0;
full:
	snprintf(err, errlen,
			"host '%s' resolves to more than %d addresses (the most a member "
			"can have)",
			u->host, HA_MAX_ADDRS);
	return -1;
}

/* Is there a listen socket to probe m from? Refusing a member that could
 * never be probed beats a pair that silently never works. */
static int member_check_socket(ha_member_t *m, char *err, size_t errlen)
{
	const char *tr = ha_transports[ha_proto_transport(m->proto)].name;
	struct socket_info **list, *si;

	if(_ha_probe_sock != NULL
			&& (_ha_probe_sock->proto != m->proto
					|| _ha_probe_sock->address.af != m->dst.s.sa_family)) {
		/* probes to it could not leave from probe_socket */
		snprintf(err, errlen,
				"probe_socket %.*s cannot probe a member over %s and IPv%d: "
				"all members must use its transport and address family (or "
				"leave probe_socket unset)",
				_ha_probe_sock->sock_str.len, _ha_probe_sock->sock_str.s, tr,
				m->dst.s.sa_family == AF_INET6 ? 6 : 4);
		return -1;
	}
	/* at start-up the sockets are not open yet (get_send_socket() cannot
	 * answer): look for one of the member's transport and family */
	list = get_sock_info_list(m->proto);
	for(si = list ? *list : NULL; si != NULL; si = si->next) {
		if(si->address.af == m->dst.s.sa_family)
			return 0;
	}
	snprintf(err, errlen,
			"no listen socket to probe it from (%s over IPv%d): add a "
			"listen=%s:...%s",
			tr, m->dst.s.sa_family == AF_INET6 ? 6 : 4, tr,
			m->proto == PROTO_UDP ? "" : " (and disable_tcp=no)");
	return -1;
}


ha_member_t *ha_cfg_resolve(const ha_cfg_t *cfg, char *err, size_t errlen)
{
	ha_member_t *res, *m;
	char merr[256];
	int i, j;

	res = calloc(cfg->npairs > 0 ? cfg->npairs * HA_ROLE_COUNT : 1,
			sizeof(ha_member_t));
	if(res == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for(i = 0; i < cfg->npairs; i++) {
		for(j = 0; j < HA_ROLE_COUNT; j++) {
			m = &res[i * HA_ROLE_COUNT + j];
			m->proto = proto_of(cfg->pairs[i].parsed[j].transport);
			if(member_resolve(m, &cfg->pairs[i].parsed[j], merr, sizeof(merr))
							< 0
					|| member_check_socket(m, merr, sizeof(merr)) < 0) {
				snprintf(err, errlen, "pair '%s' %s: %s", cfg->pairs[i].name,
						ha_role_name(j), merr);
				free(res);
				return NULL;
			}
		}
	}
	return res;
}

/* The first probe token of a new pair. A reply to a probe is accepted when
 * it echoes the token and comes from the member's address; over UDP the
 * address can be forged, so the token must not be guessable (it is what
 * protects member_trust "confirm"): random, from the kernel. Can't fail
 * (without getrandom() it falls back to a mix of time, pid and index). */
static uint32_t token_seed(int64_t now_ms, int i)
{
	uint32_t seed;

	if(getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == (ssize_t)sizeof(seed))
		return seed;
	return (uint32_t)(now_ms * 2654435761u) ^ ((uint32_t)i << 20)
		   ^ (uint32_t)getpid();
}
/* The pair of old with the same identity as cp (name and both member
 * URIs, as written), or NULL. */
static ha_pair_t *same_pair(const ha_table_t *old, const ha_cfg_pair_t *cp)
{
	str name = {(char *)cp->name, strlen(cp->name)};
	ha_pair_t *op;
	int j;

	op = old ? ha_table_by_name((ha_table_t *)old, &name) : NULL;
	if(op == NULL)
		return NULL;
	for(j = 0; j < HA_ROLE_COUNT; j++) {
		if(op->m[j].uri.len != (int)strlen(cp->uri[j])
				|| memcmp(op->m[j].uri.s, cp->uri[j], op->m[j].uri.len) != 0)
			return NULL;
	}
	return op;
}

ha_table_t *ha_table_build(const ha_cfg_t *cfg, const ha_member_t *res,
		const ha_codes_t *alive, int probe_standby, const ha_table_t *old,
		unsigned int gen, int64_t now_ms, char *err, size_t errlen)
{
	ha_table_t *t;
	ha_pair_t *p, *op;
	const ha_cfg_pair_t *cp;
	ha_fsm_cfg_t fc;
	ha_actions_t acts;
	int reliable[HA_ROLE_COUNT];
	char merr[256];
	unsigned int nb, h;
	int i, j, k, n;

	t = shm_malloc(sizeof(*t));
	if(t == NULL)
		goto oom;
	memset(t, 0, sizeof(*t));
	t->gen = gen;
	for(nb = 16; nb < (unsigned int)cfg->npairs * 2; nb <<= 1)
		;
	t->nbuckets = nb;
	t->name_buckets = shm_malloc(nb * sizeof(int));
	t->addr_buckets = shm_malloc(nb * sizeof(int));
	t->dom_buckets = shm_malloc(nb * sizeof(int));
	if(!t->name_buckets || !t->addr_buckets || !t->dom_buckets)
		goto oom;
	for(h = 0; h < nb; h++)
		t->name_buckets[h] = t->addr_buckets[h] = t->dom_buckets[h] = -1;
	if(cfg->npairs > 0) {
		t->pairs = shm_malloc(cfg->npairs * sizeof(ha_pair_t));
		if(t->pairs == NULL)
			goto oom;
		memset(t->pairs, 0, cfg->npairs * sizeof(ha_pair_t));
		/* all due at once: the prober runs every pair of a new table */
		t->due = shm_malloc(cfg->npairs * sizeof(int64_t));
		if(t->due == NULL)
			goto oom;
		memset((void *)t->due, 0, cfg->npairs * sizeof(int64_t));
	}
	t->npairs = cfg->npairs;

	n = 0; /* domains in all */
	for(i = 0; i < cfg->npairs; i++) {
		cp = &cfg->pairs[i];
		p = &t->pairs[i];
		p->index = i;
		p->due = &t->due[i];
		if(ha_shm_strdup(&p->name, cp->name) < 0)
			goto oom;
		snprintf(merr, sizeof(merr), ";hapair=%s", cp->name);
		if(ha_shm_strdup(&p->rr_param, merr) < 0)
			goto oom;
		for(j = 0; j < HA_ROLE_COUNT; j++) {
			/* the addresses as resolved (no URI strings in res) */
			p->m[j] = res[i * HA_ROLE_COUNT + j];
			p->m[j].uri.s = p->m[j].host.s = NULL;
			if(ha_shm_strdup(&p->m[j].uri, cp->uri[j]) < 0
					|| ha_shm_strdup(&p->m[j].host, cp->parsed[j].host) < 0)
				goto oom;
			reliable[j] = p->m[j].proto != PROTO_UDP;
		}
		if(cp->ndomains > 0) {
			p->domains = shm_malloc(cp->ndomains * sizeof(str));
			if(p->domains == NULL)
				goto oom;
			memset(p->domains, 0, cp->ndomains * sizeof(str));
			p->ndomains = cp->ndomains;
			for(j = 0; j < cp->ndomains; j++)
				if(ha_shm_strdup(&p->domains[j], cp->domains[j]) < 0)
					goto oom;
			n += cp->ndomains;
		}
		fc.oos_check_ms = cp->oos_check_ms;
		fc.oos_force_ms = cp->oos_force_ms;
		fc.probe_standby = probe_standby;
		fc.alive = *alive;
		if(cp->alive_codes && ha_codes_parse(cp->alive_codes, &fc.alive) < 0) {
			snprintf(err, errlen, "pair '%s': bad alive-codes '%s'", cp->name,
					cp->alive_codes);
			goto error;
		}
		p->fc = fc;
		p->trust = cp->member_trust;
		p->gen = gen;
		op = same_pair(old, cp);
		if(op != NULL) {
			/* same identity: same state (its new timings are applied when
			 * the table is installed) */
			p->st = op->st;
			p->st->refs++;
		} else {
			p->st = shm_malloc(sizeof(ha_pstate_t));
			if(p->st == NULL)
				goto oom;
			memset(p->st, 0, sizeof(ha_pstate_t));
			p->st->refs = 1;
			p->fresh = 1;
			if(lock_init(&p->st->lock) == NULL) {
				snprintf(err, errlen, "cannot init a lock");
				goto error;
			}
			ha_actions_reset(&acts);
			ha_fsm_init(&p->st->fsm, &fc, reliable, token_seed(now_ms, i),
					now_ms, &acts);
		}
		h = ha_fnv1a(p->name.s, p->name.len, 0) & (nb - 1);
		p->next_by_name = t->name_buckets[h];
		t->name_buckets[h] = i;
	}

	/* address index: every resolved address of every member */
	k = 0;
	for(i = 0; i < t->npairs; i++)
		for(j = 0; j < HA_ROLE_COUNT; j++)
			k += t->pairs[i].m[j].naddrs;
	t->addr_ents = shm_malloc((k + 1) * sizeof(ha_addr_ent_t));
	if(t->addr_ents == NULL)
		goto oom;
	for(i = 0; i < t->npairs; i++) {
		p = &t->pairs[i];
		for(j = 0; j < HA_ROLE_COUNT; j++) {
			for(k = 0; k < p->m[j].naddrs; k++) {
				ha_addr_ent_t *e = &t->addr_ents[t->naddr_ents];
				e->addr = p->m[j].addrs[k];
				e->port = p->m[j].aports[k];
				e->pair = i;
				e->role = j;
				h = hash_addr(&e->addr) & (nb - 1);
				e->next = t->addr_buckets[h];
				t->addr_buckets[h] = t->naddr_ents++;
			}
		}
	}
	/* pairs with a member at an address (and port) of another pair's: the
	 * only ones whose failed branches the address alone cannot place. On a
	 * sorted copy, as many pairs on one host are common. */
	if(t->naddr_ents > 1) {
		ha_addr_ent_t *srt = shm_malloc(t->naddr_ents * sizeof(*srt));
		int j;

		if(srt == NULL)
			goto oom;
		/* how many members one address has, whatever the port: what a
		 * lookup of a request over TCP/TLS may find */
		memcpy(srt, t->addr_ents, t->naddr_ents * sizeof(*srt));
		qsort(srt, t->naddr_ents, sizeof(*srt), addr_only_cmp);
		for(i = 0; i < t->naddr_ents; i = j) {
			for(j = i + 1;
					j < t->naddr_ents
					&& memcmp(&srt[j].addr, &srt[i].addr, sizeof(srt[i].addr))
							   == 0;
					j++)
				;
			if(j - i > t->max_per_addr)
				t->max_per_addr = j - i;
		}
		memcpy(srt, t->addr_ents, t->naddr_ents * sizeof(*srt));
		qsort(srt, t->naddr_ents, sizeof(*srt), addr_ent_cmp);
		for(i = 0; i < t->naddr_ents; i = j) {
			for(j = i + 1;
					j < t->naddr_ents && srt[j].port == srt[i].port
					&& memcmp(&srt[j].addr, &srt[i].addr, sizeof(srt[i].addr))
							   == 0;
					j++)
				;
			/* a run is sorted by pair: several pairs if its ends differ */
			if(srt[j - 1].pair != srt[i].pair)
				for(k = i; k < j; k++)
					t->pairs[srt[k].pair].shared = 1;
		}
		shm_free(srt);
	}
	if(t->naddr_ents == 1)
		t->max_per_addr = 1;
	t->dom_ents = shm_malloc((n + 1) * sizeof(ha_dom_ent_t));
	if(t->dom_ents == NULL)
		goto oom;
	for(i = 0; i < t->npairs; i++) {
		p = &t->pairs[i];
		for(j = 0; j < p->ndomains; j++) {
			ha_dom_ent_t *e = &t->dom_ents[t->ndom_ents];
			e->domain = p->domains[j];
			e->pair = i;
			h = ha_fnv1a(e->domain.s, e->domain.len, 1) & (nb - 1);
			e->next = t->dom_buckets[h];
			t->dom_buckets[h] = t->ndom_ents++;
		}
	}
	return t;

oom:
	snprintf(err, errlen, "out of shared memory");
error:
	ha_table_free(t);
	return NULL;
}

ha_pair_t *ha_table_by_name(ha_table_t *t, const str *name)
{
	int i;

	if(t == NULL || name == NULL || name->len <= 0)
		return NULL;
	i = t->name_buckets[ha_fnv1a(name->s, name->len, 0) & (t->nbuckets - 1)];
	for(; i >= 0; i = t->pairs[i].next_by_name) {
		if(t->pairs[i].name.len == name->len
				&& memcmp(t->pairs[i].name.s, name->s, name->len) == 0)
			return &t->pairs[i];
	}
	return NULL;
}

ha_pair_t *ha_table_by_domain(ha_table_t *t, const str *host)
{
	ha_dom_ent_t *e;
	int i;

	if(t == NULL || host == NULL || host->len <= 0)
		return NULL;
	i = t->dom_buckets[ha_fnv1a(host->s, host->len, 1) & (t->nbuckets - 1)];
	for(; i >= 0; i = e->next) {
		e = &t->dom_ents[i];
		if(e->domain.len == host->len
				&& strncasecmp(e->domain.s, host->s, host->len) == 0)
			return &t->pairs[e->pair];
	}
	return NULL;
}

int ha_table_by_addr(ha_table_t *t, const ha_addr_t *ip, int port, int reliable,
		ha_pair_t **pairs, int *roles, int max)
{
	ha_addr_ent_t *e;
	int i, n = 0;

	if(t == NULL)
		return 0;
	i = t->addr_buckets[hash_addr(ip) & (t->nbuckets - 1)];
	for(; i >= 0; i = e->next) {
		e = &t->addr_ents[i];
		if(!ha_addr_is_member(&e->addr, 1, e->port, ip, port, reliable))
			continue;
		if(n < max) {
			pairs[n] = &t->pairs[e->pair];
			roles[n] = e->role;
		}
		n++;
	}
	return n;
}
