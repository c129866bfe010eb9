"""The fault matrix, end to end: real kamailio with the example config, real
sipp members, loopback and network namespaces. Every scenario is a test of
its own with its own bound, and a caller sends a request through the proxy
every 100 ms meanwhile, recording what it got and which member got it.
Results go to tests/e2e/logs/fault_matrix.txt (see docs/reliability.md).

Long variants run only with HA_LONG=1 (make test-long)."""

import os
import re
import signal
import time

import pytest

from conftest import Kamailio, Peer, pairs_xml
from faults import Caller, Netns, failed, report

LONG = os.environ.get("HA_LONG") == "1"
PRI, BAK = "sip:127.0.0.2:5060", "sip:127.0.0.3:5060"


def member(pair, role):
    return next(m for m in pair["members"] if m["role"] == role)


def one_pair(check_ms, force_ms, pri=PRI, bak=BAK, **attrs):
    a = {"oos-check": f"{check_ms}ms", "oos-force": f"{force_ms}ms"}
    a.update(attrs)
    return pairs_xml([("sipserver1", pri, bak, a)])


def start_udp_pair(procs, logdir, check_ms, force_ms):
    peers = {"primary": Peer(procs, logdir, "primary", "127.0.0.2"),
             "backup": Peer(procs, logdir, "backup", "127.0.0.3")}
    kam = Kamailio(procs, logdir, one_pair(check_ms, force_ms))
    assert kam.wait(lambda: all(m["state"] == "up" for m in
                                kam.show("sipserver1")["members"]), 5)
    return peers, kam


def wait_probe_sent(kam, role, timeout):
    """Wait until a new probe of `role` goes out; return when (monotonic)."""
    n = int(member(kam.show("sipserver1"), role)["probes_sent"])
    assert kam.wait(lambda: int(member(kam.show("sipserver1"), role)
                                ["probes_sent"]) > n, timeout, step=0.005)
    return time.monotonic()


# ---- a member that stops answering ---------------------------------------

def dead_primary(procs, logdir, how):
    C, F = 1000, 500
    peers, kam = start_udp_pair(procs, logdir, C, F)
    caller = Caller()
    time.sleep(1.0)
    t0 = time.monotonic()
    if how == "frozen":
        peers["primary"].freeze()
    else:
        peers["primary"].kill()
    took = kam.wait(lambda: kam.show("sipserver1")["active"] == "backup", 6,
                    step=0.01)
    time.sleep(2.5)  # what callers see after the switch
    caller.stop()
    recs = caller.records(peers)
    bound = (2 * C + F + 300) / 1000.0
    bad = failed(recs)
    report(logdir, f"primary {how}: switched in "
           f"{'-' if took is None else f'{took * 1000:.0f} ms'} (bound "
           f"{bound * 1000:.0f} ms = 2 x oos-check {C} + oos-force {F} + "
           f"300), reason {kam.show('sipserver1')['last_switchover_reason']}; caller: {caller.summary(peers)}; not 200: "
           f"{[(round(t - t0, 2), c) for _, t, c, _ in bad]}")
    assert took is not None and took <= bound, took
    p = kam.show("sipserver1")
    # with traffic, ha_failover() on the request's timeout (tm's fr_timer,
    # 1 s in the example config) may be first; either way one switchover
    assert p["switchovers"] == "1"
    assert p["last_switchover_reason"] in ("probe", "failover"), p
    # ha_failover() in the example config retries the requests that were
    # sent to the dead primary on the backup: every caller got its 200
    assert bad == [], bad
    # nothing sent once the switch was done went to the primary
    after = [r for r in recs if r[1] > t0 + took + 0.05]
    assert after and all(r[3] == ["backup"] for r in after), after[:3]
    return recs


def test_primary_frozen(procs, logdir):
    """SIGSTOP: probes and requests go unanswered."""
    dead_primary(procs, logdir, "frozen")


def test_primary_killed(procs, logdir):
    """SIGKILL: the member's UDP port is closed (ICMP port unreachable,
    which an unconnected UDP socket does not report: the deadline
    decides)."""
    dead_primary(procs, logdir, "killed")


# ---- a TCP member whose connects are refused ----------------------------

TCP_C, TCP_F = 3000, 1000

# the first SYN of each connection is lost, its retransmission (1 s later,
# the kernel's initial RTO) gets the reset of the closed port: a connect
# that fails about 1 s after it began
DELAY_RST = """
table ip hfdelay {
  set seen { type ipv4_addr . inet_service; flags timeout; }
  chain input {
    type filter hook input priority 0; policy accept;
    tcp dport 5062 tcp flags & (syn | ack) == syn ip saddr . tcp sport @seen counter accept
    tcp dport 5062 tcp flags & (syn | ack) == syn add @seen { ip saddr . tcp sport timeout 10s } counter drop
  }
}
"""


def tcp_pairs(member_ip):
    """Two pairs with the same TCP primary: 'watched' gets no traffic (its
    switch comes from its own probe's failed connect), 'used' gets the
    caller's requests (its switch may come from ha_failover() on a
    request's transport error first)."""
    tcp = f"sip:{member_ip}:5062;transport=tcp"
    t = f'oos-check="{TCP_C}ms" oos-force="{TCP_F}ms"'
    return (f'<ha_pairs>\n'
            f'  <pair name="watched" {t}>\n'
            f'    <primary uri="{tcp}"/>\n'
            f'    <backup uri="sip:127.0.0.3:5060"/>\n'
            f'  </pair>\n'
            f'  <pair name="used" {t}>\n'
            f'    <primary uri="{tcp}"/>\n'
            f'    <backup uri="sip:127.0.0.4:5060"/>\n'
            f'    <domain>used.example.com</domain>\n'
            f'  </pair>\n'
            f'</ha_pairs>\n')


@pytest.fixture
def veth():
    ns = Netns(f"faults{os.getpid() % 100000}")
    yield ns
    ns.close()


@pytest.mark.parametrize("path", ["loopback", "veth", "veth-delayed-rst"])
def test_tcp_primary_refusing(procs, logdir, path, request):
    """The TCP primary's process dies; every new connect to it is refused.
    On loopback the refusal is known when connect() returns; over a veth
    into a namespace connect() says EINPROGRESS and the reset comes later
    to tcp_main (and with the first SYN lost, 1 s later). Either way the
    probe counts as unanswered when the failure is learnt, not at its
    deadline (oos-check 3 s)."""
    if path == "loopback":
        ns, ip, listen_tcp = None, "127.0.0.2", "tcp:127.0.0.1:5060"
    else:
        ns = request.getfixturevalue("veth")
        ip, listen_tcp = Netns.THERE_IP, f"tcp:{Netns.HERE_IP}:5060"
    pri = Peer(procs, logdir, "primary", ip, port=5062, transport="t1",
               netns=ns and ns.name)
    peers = {"primary": pri,
             "watched-backup": Peer(procs, logdir, "wb", "127.0.0.3"),
             "used-backup": Peer(procs, logdir, "ub", "127.0.0.4")}
    kam = Kamailio(procs, logdir, tcp_pairs(ip),
                   defines={"WITH_TCP": None, "LISTEN_TCP": listen_tcp})
    for name in ("watched", "used"):
        assert kam.wait(lambda: kam.show(name)["members"][0]["state"] == "up",
                        5), kam.show(name)
    caller = Caller(ruri="sip:fm@used.example.com")
    time.sleep(1.0)

    # right after the watched pair's probe: its next one is oos-check away
    def sent():
        return int(kam.show("watched")["members"][0]["probes_sent"])
    n = sent()
    assert kam.wait(lambda: sent() > n, TCP_C / 1000.0 + 1, step=0.005)
    if path == "veth-delayed-rst":
        ns.run("nft", "-f", "-", input=DELAY_RST)
    t_kill = time.monotonic()
    pri.kill()
    # when the watched pair's next probe goes out, and when it switches
    n = sent()
    assert kam.wait(lambda: sent() > n, TCP_C / 1000.0 + 1, step=0.005)
    t_probe = time.monotonic()
    took = kam.wait(lambda: kam.show("watched")["active"] == "backup",
                    2 * TCP_C / 1000.0, step=0.005)
    used = kam.show("used")
    time.sleep(1.0)
    caller.stop()
    recs = caller.records(peers)
    bad = failed(recs)
    nft = ns.run("nft", "list", "ruleset") if path == "veth-delayed-rst" \
        else ""
    report(logdir, f"tcp primary refusing ({path}): watched pair switched "
           f"{'-' if took is None else f'{took * 1000:.0f} ms'} after its "
           f"probe went out ({(t_probe - t_kill) * 1000:.0f} ms after the "
           f"kill; oos-check {TCP_C}); used pair: "
           f"{used['active']} by {used['last_switchover_reason']}; caller: "
           f"{caller.summary(peers)}; not 200: {len(bad)}")
    assert took is not None, kam.show("watched")
    w = kam.show("watched")
    assert (w["active"], w["last_switchover_reason"]) == ("backup", "probe")
    # detection from the failed connect: well under oos-check
    bound = 1.5 if path == "veth-delayed-rst" else 0.3
    assert took <= bound, took
    if path == "veth-delayed-rst":
        # the connect really did fail late: after the lost first SYN
        assert took >= 0.8, took
        assert re.search(r"counter packets [1-9]\d* .* drop", nft), nft
    # the used pair follows too; its callers got their 200 from the backup
    assert used["active"] == "backup", used
    assert bad == [], bad[:5]
