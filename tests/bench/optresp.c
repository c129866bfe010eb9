/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * optresp - a SIP server for the probing-at-scale benchmark.
 *
 * It answers every request (OPTIONS from ha_pair's prober or dispatcher's
 * pinger) with 200 OK and notes, per member, when each OPTIONS arrived. A
 * member is told apart by the user part of the request URI ("sip:m123@...")
 * or, without one, by the socket it arrived on. At the end (SIGTERM or SIGINT) it writes,
 * as JSON, how regular the probes were: the spacing of consecutive probes
 * to one member against the expected interval (a retransmission, the same
 * Call-ID again, is counted apart). SIGUSR1 starts the counts
 * afresh (the harness sends it when the start-up is over).
 *
 * Why not sipp: at 10,000-20,000 probes a second, sipp tracing each message
 * to a file takes most of a core on a 2-core machine and its timestamps
 * are those of the trace writer; this takes the arrival time from the
 * kernel (SO_TIMESTAMPNS) and answers from the same loop.
 *
 *   optresp -a 127.0.0.2 -p 5200 -n 4 -i 1000 -o stats.json
 *
 * Loopback addresses only: the bench never binds anything else.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SOCKS 64
#define MAX_MEMBERS 65536
#define HIST_MS 2000 /* deviation histogram, 1 ms bins */
#define BATCH 64
#define BUFSZ 4096

static volatile sig_atomic_t stop, reset;
static int64_t last_ns[MAX_MEMBERS];
static uint32_t probes_of[MAX_MEMBERS];
static uint32_t callid_of[MAX_MEMBERS]; /* hash of the last probe's Call-ID */
static uint64_t nrtx; /* retransmissions: a Call-ID seen just before */
static uint64_t hist[HIST_MS + 1];
static uint64_t nprobes, nintervals, nother, nbad;
static int64_t expected_ns;
static FILE *trace; /* OPTRESP_TRACE=file: one line per OPTIONS */

static void on_signal(int sig)
{
	if(sig == SIGUSR1)
		reset = 1;
	else
		stop = 1;
}

/* SIGUSR1: forget the counts so far (the start-up), keep the last arrival
 * of each member so that the next spacing is measured */
static void reset_counts(void)
{
	memset(hist, 0, sizeof(hist));
	memset(probes_of, 0, sizeof(probes_of));
	nprobes = nintervals = nother = nbad = nrtx = 0;
	reset = 0;
}

/* the member a request is for: digits after "sip:m" in the R-URI, or the
 * socket index when the R-URI has no such user part */
static int member_of(const char *buf, size_t len, int sock_idx)
{
	const char *sp = memchr(buf, ' ', len);
	const char *end = buf + len;
	long v = 0;
	int digits = 0;

	if(sp == NULL || end - sp < 7 || strncmp(sp + 1, "sip:m", 5) != 0)
		return sock_idx;
	for(sp += 6; sp < end && *sp >= '0' && *sp <= '9' && digits < 8; sp++) {
		v = v * 10 + (*sp - '0');
		digits++;
	}
	if(digits == 0 || sp >= end || *sp != '@')
		return sock_idx;
	return v < MAX_MEMBERS ? (int)v : -1;
}

static int hdr_is(
		const char *line, size_t len, const char *longn, const char *shortn)
{
	size_t l = strlen(longn), s = strlen(shortn);

	if(len > l && strncasecmp(line, longn, l) == 0
			&& (line[l] == ':' || line[l] == ' '))
		return 1;
	if(len > s && strncasecmp(line, shortn, s) == 0
			&& (line[s] == ':' || line[s] == ' '))
		return 1;
	return 0;
}

/* 200 OK for the request in buf: Via, From, To (with a tag), Call-ID and
 * CSeq copied. Returns its length, or -1 when the request is malformed. */
static int build_reply(const char *buf, size_t len, char *out, size_t outsz)
{
	const char *p = memchr(buf, '\n', len), *end = buf + len;
	size_t n = 0;
	int w, have_to = 0;

	if(p == NULL)
		return -1;
	w = snprintf(out, outsz, "SIP/2.0 200 OK\r\n");
	n = (size_t)w;
	for(p++; p < end;) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t ll;

		if(eol == NULL)
			eol = end;
		ll = (size_t)(eol - p);
		if(ll > 0 && p[ll - 1] == '\r')
			ll--;
		if(ll == 0)
			break; /* end of headers */
		if(hdr_is(p, ll, "Via", "v") || hdr_is(p, ll, "From", "f")
				|| hdr_is(p, ll, "Call-ID", "i")
				|| hdr_is(p, ll, "CSeq", "CSeq")) {
			if(n + ll + 2 >= outsz)
				return -1;
			memcpy(out + n, p, ll);
			n += ll;
			out[n++] = '\r';
			out[n++] = '\n';
		} else if(hdr_is(p, ll, "To", "t")) {
			if(n + ll + 16 >= outsz)
				return -1;
			memcpy(out + n, p, ll);
			n += ll;
			if(memmem(p, ll, ";tag=", 5) == NULL) {
				memcpy(out + n, ";tag=optresp", 12);
				n += 12;
			}
			out[n++] = '\r';
			out[n++] = '\n';
			have_to = 1;
		}
		p = eol + 1;
	}
	if(!have_to)
		return -1;
	w = snprintf(out + n, outsz - n, "Content-Length: 0\r\n\r\n");
	if(w < 0 || (size_t)w >= outsz - n)
		return -1;
	return (int)(n + (size_t)w);
}

static int64_t ts_ns(struct msghdr *mh)
{
	struct cmsghdr *c;
	struct timespec ts;

	for(c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if(c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS) {
			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
		}
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* FNV-1a of the Call-ID header's value (0 when there is none) */
static uint32_t callid_hash(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *eol;
	uint32_t h = 2166136261u;

	while(p < end && (eol = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		p = eol + 1;
		if(hdr_is(p, (size_t)(end - p), "Call-ID", "i")) {
			for(p = memchr(p, ':', (size_t)(end - p));
					p != NULL && p < end && *p != '\r' && *p != '\n'; p++)
				h = (h ^ (uint8_t)*p) * 16777619u;
			return h ? h : 1;
		}
	}
	return 0;
}

static void note_probe(int m, uint32_t cid, int64_t now)
{
	int64_t d;

	if(m >= 0 && cid != 0 && callid_of[m] == cid) {
		nrtx++; /* the same probe again: not on the schedule */
		return;
	}
	if(m >= 0)
		callid_of[m] = cid;
	nprobes++;
	if(trace != NULL)
		fprintf(trace, "%d %lld\n", m, (long long)now);
	if(m < 0) {
		nbad++;
		return;
	}
	probes_of[m]++;
	if(last_ns[m] != 0) {
		d = now - last_ns[m] - expected_ns;
		if(d < 0)
			d = -d;
		d /= 1000000;
		hist[d > HIST_MS ? HIST_MS : d]++;
		nintervals++;
	}
	last_ns[m] = now;
}

static uint64_t pct(double q)
{
	uint64_t want = (uint64_t)(q * (double)nintervals), acc = 0;

	if(want >= nintervals && nintervals > 0)
		want = nintervals - 1;
	int i;

	for(i = 0; i <= HIST_MS; i++) {
		acc += hist[i];
		if(acc > want)
			return (uint64_t)i;
	}
	return HIST_MS;
}

static int write_stats(const char *path)
{
	FILE *f = fopen(path, "w");
	uint64_t w1 = 0, w10 = 0, w100 = 0;
	uint32_t mn = UINT32_MAX, mx = 0, members = 0;
	int i;

	if(f == NULL) {
		perror(path);
		return -1;
	}
	for(i = 0; i <= HIST_MS; i++) {
		if(i <= 1)
			w1 += hist[i];
		if(i <= 10)
			w10 += hist[i];
		if(i <= 100)
			w100 += hist[i];
	}
	for(i = 0; i < MAX_MEMBERS; i++) {
		if(probes_of[i] == 0)
			continue;
		members++;
		mn = probes_of[i] < mn ? probes_of[i] : mn;
		mx = probes_of[i] > mx ? probes_of[i] : mx;
	}
	fprintf(f,
			"{\"probes\": %llu, \"retransmissions\": %llu, \"other\": %llu, "
			"\"unknown_member\": %llu, "
			"\"members\": %u, \"min_per_member\": %u, "
			"\"max_per_member\": %u, \"intervals\": %llu, "
			"\"within_1ms\": %llu, \"within_10ms\": %llu, "
			"\"within_100ms\": %llu, \"dev_p50_ms\": %llu, "
			"\"dev_p99_ms\": %llu, \"dev_max_ms\": %llu}\n",
			(unsigned long long)nprobes, (unsigned long long)nrtx,
			(unsigned long long)nother, (unsigned long long)nbad, members,
			members ? mn : 0, mx, (unsigned long long)nintervals,
			(unsigned long long)w1, (unsigned long long)w10,
			(unsigned long long)w100, (unsigned long long)pct(0.5),
			(unsigned long long)pct(0.99), (unsigned long long)pct(1.0));
	return fclose(f);
}

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.2", *out = NULL;
	int port = 5200, nsocks = 1, interval_ms = 1000, opt, i, ep;
	int socks[MAX_SOCKS];
	struct epoll_event ev, evs[MAX_SOCKS];
	static char bufs[BATCH][BUFSZ], ctl[BATCH][256], reply[BUFSZ];
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in from[BATCH];
	struct sigaction sa;

	while((opt = getopt(argc, argv, "a:p:n:i:o:")) != -1) {
		switch(opt) {
			case 'a':
				addr = optarg;
				break;
			case 'p':
				port = atoi(optarg);
				break;
			case 'n':
				nsocks = atoi(optarg);
				break;
			case 'i':
				interval_ms = atoi(optarg);
				break;
			case 'o':
				out = optarg;
				break;
			default:
				fprintf(stderr,
						"usage: %s -a ip -p port -n nports -i ms -o "
						"stats.json\n",
						argv[0]);
				return 2;
		}
	}
	if(out == NULL || nsocks < 1 || nsocks > MAX_SOCKS || interval_ms <= 0
			|| strncmp(addr, "127.", 4) != 0) {
		fprintf(stderr,
				"optresp: need -o, 1..%d ports, a positive interval "
				"and a 127.x address\n",
				MAX_SOCKS);
		return 2;
	}
	expected_ns = (int64_t)interval_ms * 1000000LL;
	if(getenv("OPTRESP_TRACE") != NULL)
		trace = fopen(getenv("OPTRESP_TRACE"), "w");
	ep = epoll_create1(0);
	if(ep < 0) {
		perror("epoll_create1");
		return 1;
	}
	for(i = 0; i < nsocks; i++) {
		struct sockaddr_in sin;
		int one = 1, rcv = 8 << 20;

		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)(port + i));
		if(inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
			fprintf(stderr, "optresp: bad address %s\n", addr);
			return 2;
		}
		socks[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		if(socks[i] < 0
				|| setsockopt(socks[i], SOL_SOCKET, SO_TIMESTAMPNS, &one,
						   sizeof(one))
						   < 0
				|| bind(socks[i], (struct sockaddr *)&sin, sizeof(sin)) < 0) {
			fprintf(stderr, "optresp: %s:%d: %s\n", addr, port + i,
					strerror(errno));
			return 1;
		}
		setsockopt(socks[i], SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
		ev.events = EPOLLIN;
		ev.data.u32 = (uint32_t)i;
		if(epoll_ctl(ep, EPOLL_CTL_ADD, socks[i], &ev) < 0) {
			perror("epoll_ctl");
			return 1;
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	printf("optresp: listening on %s:%d-%d\n", addr, port, port + nsocks - 1);
	fflush(stdout);

	while(!stop) {
		int nev = epoll_wait(ep, evs, MAX_SOCKS, 200);

		if(reset)
			reset_counts();
		for(i = 0; i < nev; i++) {
			int s = (int)evs[i].data.u32, k, got;

			for(k = 0; k < BATCH; k++) {
				iov[k].iov_base = bufs[k];
				iov[k].iov_len = BUFSZ - 1;
				memset(&mm[k].msg_hdr, 0, sizeof(mm[k].msg_hdr));
				mm[k].msg_hdr.msg_iov = &iov[k];
				mm[k].msg_hdr.msg_iovlen = 1;
				mm[k].msg_hdr.msg_name = &from[k];
				mm[k].msg_hdr.msg_namelen = sizeof(from[k]);
				mm[k].msg_hdr.msg_control = ctl[k];
				mm[k].msg_hdr.msg_controllen = sizeof(ctl[k]);
			}
			got = recvmmsg(socks[s], mm, BATCH, 0, NULL);
			for(k = 0; k < got; k++) {
				size_t len = mm[k].msg_len;
				int rl;

				if(len < 8 || strncmp(bufs[k], "SIP/2.0", 7) == 0)
					continue; /* a reply or noise: nothing to answer */
				if(strncmp(bufs[k], "OPTIONS ", 8) == 0)
					note_probe(member_of(bufs[k], len, s),
							callid_hash(bufs[k], len), ts_ns(&mm[k].msg_hdr));
				else
					nother++;
				rl = build_reply(bufs[k], len, reply, sizeof(reply));
				if(rl > 0)
					sendto(socks[s], reply, (size_t)rl, 0,
							(struct sockaddr *)&from[k],
							mm[k].msg_hdr.msg_namelen);
			}
		}
	}
	if(trace != NULL)
		fclose(trace);
	return write_stats(out) == 0 ? 0 : 1;
}
