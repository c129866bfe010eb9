/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha_probe.c - the prober process of ha_pair: sends OPTIONS, enforces
 * deadlines, and takes the replies out of the SIP workers' path. */

#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include "../../core/dprint.h"
#include "../../core/forward.h"
#include "../../core/timer_proc.h"
#include "../../core/sr_module.h"
#include "../../core/ip_addr.h"
#include "../../core/socket_info.h"
#include "../../core/mem/shm_mem.h"
#include "../../core/parser/parse_via.h"
#include "../../core/tcp_conn.h"

#include "ha_probe.h"
#include "ha_actions.h"
#include "ha_addr.h"
#include "ha_dns.h"
#include "ha_fsm.h"
#include "ha_pair.h"
#include "ha_sched.h"
#include "ha_store.h"
#include "ha_table.h"
#include "ha_time.h"
#include "ha_token.h"
#include "ha_uri.h"

/* probe_conn_alive() relies on tcpconn_get() having this form, as in 5.6
 * and 6.x (tcpconn_exists(), used before, is in no header and gained an
 * argument in 5.7.5): the build stops here, rather than calling it wrongly,
 * when the core's header declares another form. */
_Static_assert(__builtin_types_compatible_p(__typeof__(&tcpconn_get),
					   struct tcp_connection *(*)(int, struct ip_addr *, int,
							   union sockaddr_union *, ticks_t)),
		"core/tcp_conn.h: tcpconn_get() is not of the form of Kamailio "
		"5.6-6.x: check probe_conn_alive() against this core");

#define HA_PROBE_TICK_US 5000 /* prober wake-up, 5 ms */
/* At most this many probes (and retransmissions) leave per tick, 25,600 a
 * second: thousands of pairs probed at the same moment (they all start
 * together) would otherwise bring their replies back in one burst, larger
 * than the receive buffer of the proxy's SIP socket, and the kernel drops
 * the excess. Pairs over the budget go out on the next ticks; as each next
 * probe is due at its send time + oos-check, the spread stays. */
#define HA_PROBE_BURST 128
#define HA_PROBE_BUF 4096 /* two URIs of HA_URI_MAX, probe_from, headers */

static const char *proto_via(int proto)
{
	return ha_transports[ha_proto_transport(proto)].via;
}

/* Build the OPTIONS of probe token to member role of pair p, sent from
 * socket si. Returns its length, or -1 when buf is too small. The token
 * goes into the Via branch (what the reply echoes) and the Call-ID. */
static int probe_build(char *buf, int size, ha_pair_t *p, int role,
		uint32_t token, struct socket_info *si)
{
	ha_member_t *m = &p->m[role];
	str host = si->address_str;
	str port = si->port_no_str;
	int v6 = si->address.af == AF_INET6;
	ha_probe_id_t id = {p->gen, (uint32_t)p->index, (uint32_t)role, token};
	char ids[HA_PROBE_ID_SIZE];
	int n;

	if(si->useinfo.name.len > 0) {
		host = si->useinfo.name;
		port = si->useinfo.port_no_str;
		v6 = host.len > 0 && host.s[0] != '[' && memchr(host.s, ':', host.len);
	}
	ha_probe_id_write(ids, sizeof(ids), &id);
	n = snprintf(buf, size,
			"OPTIONS %.*s SIP/2.0\r\n"
			"Via: SIP/2.0/%s %s%.*s%s:%.*s;branch=" HA_BRANCH_PREFIX
			"%s;rport\r\n"
			"Max-Forwards: 70\r\n"
			"From: <%.*s>;tag=hap%x\r\n"
			"To: <%.*s>\r\n"
			"Call-ID: hap.%s@%.*s\r\n"
			"CSeq: 1 OPTIONS\r\n"
			"Accept: application/sdp\r\n"
			"User-Agent: kamailio ha_pair\r\n"
			"Content-Length: 0\r\n\r\n",
			m->uri.len, m->uri.s, proto_via(m->proto), v6 ? "[" : "", host.len,
			host.s, v6 ? "]" : "", port.len, port.s, ids, _ha_probe_from.len,
			_ha_probe_from.s, token, m->uri.len, m->uri.s, ids, host.len,
			host.s);
	if(n < 0 || n >= size)
		return -1;
	return n;
}

/* Send probe token to member role of p. Returns 0; -1 when it could not be
 * sent at all (no socket, too big: the caller counts it as not answered);
 * -2 when the transport refused it (over TCP/TLS: the connect, the TLS
 * handshake's start or the write failed, a lost connection to the
 * caller). */
static int probe_send(ha_pair_t *p, int role, uint32_t token)
{
	static char buf[HA_PROBE_BUF];
	ha_member_t *m = &p->m[role];
	struct dest_info dst;
	int len;

	init_dest_info(&dst);
	dst.proto = m->proto;
	dst.to = m->dst;
	dst.send_sock = _ha_probe_sock;
	if(dst.send_sock == NULL || dst.send_sock->proto != m->proto
			|| dst.send_sock->address.af != m->dst.s.sa_family)
		dst.send_sock = get_send_socket(0, &dst.to, dst.proto);
	if(dst.send_sock == NULL) {
		LM_ERR("pair '%.*s': no socket to send a %s probe to %.*s\n",
				p->name.len, p->name.s, proto_via(m->proto), m->uri.len,
				m->uri.s);
		return -1;
	}
	len = probe_build(buf, sizeof(buf), p, role, token, dst.send_sock);
	if(len < 0) {
		LM_ERR("pair '%.*s': probe does not fit %d bytes\n", p->name.len,
				p->name.s, HA_PROBE_BUF);
		return -1;
	}
	if(msg_send(&dst, buf, len) < 0) {
		/* DBG: while no member answers this happens every 50 ms; the state
		 * changes are what gets logged */
		LM_DBG("pair '%.*s': probe to %.*s could not be sent\n", p->name.len,
				p->name.s, m->uri.len, m->uri.s);
		return -2;
	}
	return 0;
}

/* Count the probe token to member role of p as not answered, now. */
static void probe_failed_now(ha_pair_t *p, int role, uint32_t token)
{
	ha_actions_t acts;

	ha_actions_reset(&acts);
	lock_get(&p->st->lock);
	ha_fsm_send_failed(&p->st->fsm, role, token, ha_now_ms(), &acts);
	/* what the failure makes due is sent by a later tick */
	ha_sched_update(p);
	lock_release(&p->st->lock);
	ha_actions_run(p, &acts);
}

static void probe_send_acts(ha_pair_t *p, const ha_actions_t *acts, int *sent);

/* The connection of the TCP/TLS probe token to member role of p failed
 * before an answer: its state machine decides (ha_fsm_conn_lost()): sent
 * once more now, on a new connection (tcp_main no longer has the lost
 * one), or counted as not answered. Adds the resend to *sent. */
static void probe_conn_lost(ha_pair_t *p, int role, uint32_t token, int *sent)
{
	ha_actions_t acts;
	int rc;

	ha_actions_reset(&acts);
	lock_get(&p->st->lock);
	rc = ha_fsm_conn_lost(&p->st->fsm, role, token, ha_now_ms(), &acts);
	ha_sched_update(p);
	lock_release(&p->st->lock);
	if(rc == 1)
		LM_DBG("pair '%.*s': connection to %.*s lost before the answer, "
			   "probe sent once more\n",
				p->name.len, p->name.s, p->m[role].uri.len, p->m[role].uri.s);
	ha_actions_run(p, &acts);
	/* the resend (its own loss ends in a count: no deeper) */
	probe_send_acts(p, &acts, sent);
}

/* Send the probes of acts (SENDs), adding them to *sent: a probe that
 * cannot be sent counts as not answered, one whose TCP/TLS connection
 * failed goes to probe_conn_lost(). */
static void probe_send_acts(ha_pair_t *p, const ha_actions_t *acts, int *sent)
{
	const ha_action_t *a;
	int i, rc;

	for(i = 0; i < acts->n; i++) {
		a = &acts->a[i];
		if(a->type != HA_ACT_SEND)
			continue;
		(*sent)++;
		if(!a->retransmit)
			update_stat(_ha_stat_probes_sent, 1);
		rc = probe_send(p, a->member, a->token);
		if(rc == -2 && p->m[a->member].proto != PROTO_UDP)
			probe_conn_lost(p, a->member, a->token, sent);
		else if(rc < 0)
			probe_failed_now(p, a->member, a->token);
	}
}

/* Is the connection a TCP/TLS probe to m went out on still there? A
 * connect that fails after msg_send() returned (asynchronous connect, the
 * normal case on a real network), a failed TLS handshake, or a connection
 * closed or reset, makes tcp_main drop the connection: nobody tells the
 * sender, so the prober looks. With tcp_async (the default) the sending
 * process puts a new connection into tcp_main's table itself, before its
 * connect, and it stays there through the connect and the handshake until
 * it fails or closes (lookups skip one marked bad); with tcp_async=no
 * tcp_main puts it there when it takes it over, a moment after the
 * send. */
static int probe_conn_alive(ha_member_t *m)
{
	struct ip_addr ip;
	struct tcp_connection *c;

	su2ip_addr(&ip, &m->dst);
	/* tcpconn_get()/tcpconn_put() are declared by core/tcp_conn.h with the
	 * same signature in 5.6 and 6.x (tcpconn_exists() is in no header and
	 * took a sixth argument from 5.7.5). NULL local address: any; timeout
	 * 0: the connection's lifetime is left alone. The reference it takes
	 * is given back at once: only the connection's presence matters. */
	c = tcpconn_get(0, &ip, su_getport(&m->dst), NULL, 0);
	if(c == NULL)
		return 0;
	tcpconn_put(c);
	return 1;
}

/* Run pair p at now: its state machine's tick, the sends it asks for, the
 * connection check of its TCP/TLS probes in flight. Adds the probes sent to
 * *sent. Returns when p is due next. */
static int64_t prober_run_pair(ha_pair_t *p, int64_t now, int *sent)
{
	ha_actions_t acts;
	uint32_t conn_tok[HA_ROLE_COUNT] = {0, 0};
	int i;

	ha_actions_reset(&acts);
	lock_get(&p->st->lock);
	ha_fsm_tick(&p->st->fsm, now, &acts);
	for(i = 0; i < HA_ROLE_COUNT; i++) {
		/* only probes last sent by an earlier tick: their connection had
		 * time to be hashed, and a send below is checked next tick */
		if(p->m[i].proto != PROTO_UDP && p->st->fsm.m[i].probe.token != 0
				&& p->st->fsm.m[i].probe.tx_ms < now)
			conn_tok[i] = p->st->fsm.m[i].probe.token;
	}
	p->st->run_at_ms = ha_sched_pair_due(p);
	__atomic_store_n(p->run_at_slot, p->st->run_at_ms, __ATOMIC_SEQ_CST);
	lock_release(&p->st->lock);
	ha_actions_run(p, &acts);

	probe_send_acts(p, &acts, sent);
	for(i = 0; i < HA_ROLE_COUNT; i++) {
		if(conn_tok[i] != 0 && !probe_conn_alive(&p->m[i])) {
			LM_DBG("pair '%.*s': connection to %.*s gone before the answer\n",
					p->name.len, p->name.s, p->m[i].uri.len, p->m[i].uri.s);
			probe_conn_lost(p, i, conn_tok[i], sent);
		}
	}

	/* a failure above refreshed it (ha_sched_update()) */
	return p->st->run_at_ms;
}

/* The prober's tick, every HA_PROBE_TICK_US: runs every pair that is due
 * (or all of them when another process raised the wake flag), up to
 * HA_PROBE_BURST probes; the pairs left over come first next tick. */
static void ha_prober_tick(unsigned int ticks, void *param)
{
	static int64_t last_reap = 0;
	static int first = 0; /* where the next tick starts */
	ha_table_t *t;
	ha_pair_t *p;
	int64_t now, due, next = INT64_MAX;
	int i, k, woken, sent = 0, deferred = -1;

	(void)ticks;
	(void)param;
	now = ha_now_ms();
	if(now - last_reap >= HA_REAP_EVERY_MS) {
		/* tables replaced by a reload, once nobody can be using them */
		last_reap = now;
		ha_store_reap(now);
	}
	woken = atomic_get(&_ha_prober->wake);
	if(!woken
			&& now < __atomic_load_n(&_ha_prober->wake_at_ms, __ATOMIC_SEQ_CST))
		return;
	t = ha_table_pin();
	if(t == NULL)
		return;
	/* take the flag: one raised from here on runs the next tick */
	woken = atomic_get_and_set(&_ha_prober->wake, 0);
	/* "never" before reading any due time (see ha_sched_lower()) */
	__atomic_store_n(&_ha_prober->wake_at_ms, INT64_MAX, __ATOMIC_SEQ_CST);
	if(first >= t->npairs)
		first = 0; /* a reload made the table smaller */
	for(k = 0, i = first; k < t->npairs; k++, i++) {
		if(i == t->npairs)
			i = 0;
		due = __atomic_load_n(&t->run_at[i], __ATOMIC_SEQ_CST);
		if(woken || due <= now) {
			p = &t->pairs[i];
			if(sent >= HA_PROBE_BURST) {
				/* over the budget: first in line next tick */
				if(deferred < 0)
					deferred = i;
				due = now;
			} else {
				due = prober_run_pair(p, now, &sent);
			}
		}
		if(due < next)
			next = due;
	}
	first = deferred >= 0 ? deferred : first;
	if(woken && deferred >= 0)
		atomic_set(&_ha_prober->wake, 1); /* the rest of the run: next tick */
	ha_table_unpin(t);
	/* lower, never store: a process may have lowered it during the scan */
	ha_sched_lower(next);
}

int ha_probe_mod_init(void)
{
	if(ha_sched_init() < 0)
		return -1;
	/* reserve the prober process */
	if(register_basic_timers(1) < 0) {
		LM_ERR("cannot reserve the prober process\n");
		return -1;
	}
	return 0;
}

int ha_probe_fork(void)
{
	if(fork_basic_utimer(PROC_TIMER, "ha_pair prober", 1 /* socks */,
			   ha_prober_tick, NULL, HA_PROBE_TICK_US)
			< 0) {
		LM_ERR("cannot start the prober process\n");
		return -1;
	}
	return 0;
}

/* A reply to probe token of member role of pair idx of table t: checked
 * against the member's address, then given to the pair's state machine. */
static void probe_reply(struct sip_msg *msg, ha_table_t *t, unsigned int idx,
		unsigned int role, uint32_t token)
{
	ha_pair_t *p;
	ha_member_t *m;
	ha_addr_t src;
	ha_actions_t acts;
	int rc;

	if(idx >= (unsigned int)t->npairs) {
		LM_DBG("reply to a probe of no pair, dropped\n");
		return;
	}
	p = &t->pairs[idx];
	m = &p->m[role];
	ha_addr_from_ip(&src, &msg->rcv.src_ip);
	if(!ha_addr_is_member(m->addrs, m->naddrs, m->port, &src, msg->rcv.src_port,
			   msg->rcv.proto != PROTO_UDP)) {
		/* DBG: forged replies must not be able to flood the log */
		LM_DBG("pair '%.*s': reply to a probe of %.*s from another address "
			   "(%s:%d), ignored\n",
				p->name.len, p->name.s, m->uri.len, m->uri.s,
				ip_addr2a(&msg->rcv.src_ip), msg->rcv.src_port);
		return;
	}
	ha_actions_reset(&acts);
	lock_get(&p->st->lock);
	rc = ha_fsm_reply(&p->st->fsm, (ha_role_t)role, token,
			msg->first_line.u.reply.statuscode, ha_now_ms(), &acts);
	if(rc == 0)
		ha_sched_update(p);
	lock_release(&p->st->lock);
	if(rc < 0)
		LM_DBG("pair '%.*s': late or stale reply from %.*s ignored\n",
				p->name.len, p->name.s, m->uri.len, m->uri.s);
	ha_actions_run(p, &acts);
}

/* Pre-script callback for replies: a reply to one of our probes is handled
 * here and dropped (returns 0) before any onreply_route or tm can see it;
 * every other reply goes on (returns 1). */
int ha_probe_reply_cb(struct sip_msg *msg, unsigned int flags, void *param)
{
	ha_table_t *t;
	struct via_param *br;
	ha_probe_id_t id;

	(void)flags;
	(void)param;
	if(msg->first_line.type != SIP_REPLY || msg->via1 == NULL)
		return 1;
	br = msg->via1->branch;
	/* every reply goes by here: the bytes that tell a probe's branch from
	 * others ("hap." after the magic cookie) are looked at first */
	if(br == NULL || br->value.len <= (int)HA_BRANCH_PREFIX_LEN
			|| br->value.s[HA_BRANCH_COOKIE_LEN] != 'h'
			|| memcmp(br->value.s, HA_BRANCH_PREFIX, HA_BRANCH_PREFIX_LEN) != 0)
		return 1;
	if(ha_probe_id_read(br->value.s + HA_BRANCH_PREFIX_LEN,
			   (size_t)br->value.len - HA_BRANCH_PREFIX_LEN,
			   &id) < 0
			|| id.role >= HA_ROLE_COUNT) {
		LM_DBG("malformed probe branch, dropped\n");
		return 0;
	}
	t = ha_table_pin();
	if(t != NULL && t->gen != id.gen) {
		/* a probe sent before a reload: its table is kept a while (and
		 * its pair's state may live on in the running table) */
		ha_table_unpin(t);
		t = ha_table_pin_gen(id.gen);
	}
	if(t != NULL)
		probe_reply(msg, t, id.pair, id.role, id.token);
	else
		LM_DBG("reply to a probe of a table no longer kept, dropped\n");
	ha_table_unpin(t);
	return 0;
}
