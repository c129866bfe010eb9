#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Write the seed corpus of fuzz_fsm (tests/fuzz/corpus/fsm/) in the input
format that fuzz_fsm.c decodes. Run once when that format changes:
    python3 tests/fuzz/fsm_seeds.py tests/fuzz/corpus/fsm
"""
import os
import struct
import sys

P, B = 0, 1
CODE = {200: 3, 404: 6, 503: 10, 180: 1, 100: 0}  # index in codes[]
TOK_CUR, TOK_LAST, TOK_OTHER, TOK_ZERO = 0, 1, 2, 3


def rng(v, lo):  # pick_range(): exact value v (>= lo)
    return struct.pack(">I", 0x800000 | (v - lo))[1:]


def cfg(check, force, standby=0, alive=0):
    return bytes([(alive << 1) | standby]) + rng(check, 50) + rng(force, 50)


def head(check=1000, force=500, standby=0, alive=0, rel_p=0, rel_b=0,
         t0=1000, seed=1):
    return (cfg(check, force, standby, alive) + bytes([rel_p | rel_b << 1]) +
            struct.pack(">I", t0) + struct.pack(">I", seed))


def advance(ms):
    return bytes([0]) + rng(ms, 0)


def late(ms):
    return bytes([1]) + rng(ms, 0)


def due():
    return bytes([2])


def reply(m, code=200, tok=TOK_CUR):
    return bytes([3, m, CODE[code], tok])


def send_failed(m, tok=TOK_CUR):
    return bytes([5, m, tok])


def conn_lost(m, tok=TOK_CUR):  # op 5 with the high bit: ha_fsm_conn_lost
    return bytes([12 * 11 + 5, m, tok])  # 137


def passive(m):
    return bytes([6, m])


def switch(m, reason=2):  # 0 probe, 1 passive, 2 failover, 3 manual
    return bytes([7, m, reason])


def failover(m):
    return bytes([8, m])


def hold(on):
    return bytes([9, on])


def peer(m, version, origin=0, answer=1, reply_to=0):
    """a pool peer's change (answer: given to the sync as its answer);
    origin: 0 sip:a, 1 sip:self, 2 sip:z"""
    return bytes([9, 0x80 | (0x40 if answer else 0) | reply_to, m, version,
                  origin])


def sync_begin(ms):
    return bytes([9, 0x60]) + rng(ms, 0)


def sync_done():
    return bytes([9, 0x40])


def probe_now():
    return bytes([10])


def reload(check, force, standby=0, alive=0):
    return bytes([11]) + cfg(check, force, standby, alive)


SEEDS = {
    "healthy": head() + (due() + reply(P) + reply(B) + advance(1000)) * 4,
    "primary_dead": head() + due() + reply(B) + advance(1000) + advance(600) +
    reply(B) + advance(3000),
    "both_dead_down_up": head() + advance(5000) + due() + reply(P) +
    advance(2000),
    "retransmit_late": head(check=5000) + late(1800) + due() + late(4000),
    "provisional": head() + reply(P, 180) + advance(900) + reply(P, 200),
    "alive_codes_503": head(alive=1) + reply(P, 503) + due() + reply(B) +
    advance(2000),
    "passive_hold": head() + passive(B) + due() + hold(1) + passive(P) +
    advance(3000) + hold(0) + passive(P),
    "manual_and_failover": head() + switch(B, 3) + due() + failover(B) +
    due() + failover(P) + reply(P) + failover(B) + advance(1000),
    "tcp_send_failures": head(rel_p=1, rel_b=1) + send_failed(P) +
    send_failed(B) + due() + send_failed(B) + due() + send_failed(P) +
    advance(2000),
    "tcp_conn_lost": head(rel_p=1, rel_b=1) + conn_lost(P) + reply(P) +
    conn_lost(B) + conn_lost(B) + due() + conn_lost(B) + reply(B) +
    conn_lost(P, TOK_LAST) + advance(2000) + conn_lost(P) + due() +
    conn_lost(P) + advance(2000),
    "split_brain": head(standby=1) +
    (reply(P) + reply(B) + advance(1000)) * 4,
    "stale_tokens": head() + reply(P) + reply(P, 200, TOK_LAST) +
    reply(B, 200, TOK_OTHER) + reply(P, 200, TOK_ZERO) + advance(1000),
    "reload_probe_now": head() + reload(50, 50, 1) + probe_now() + due() +
    reload(300000, 32000) + advance(60000) + probe_now() + due(),
    "held_failover": head() + hold(1) + failover(P) + advance(5000) +
    switch(B, 3) + failover(B) + hold(0) + failover(B) + advance(1000),
    "sync_adopted": head() + sync_begin(1000) + peer(B, 3, 2) + due() +
    reply(P) + reply(B) + advance(2000),
    "sync_refused_then_timeout": head() + sync_begin(3000) + due() + reply(P) +
    peer(B, 5, 0) + advance(2000) + advance(2000),
    "sync_done_and_stale": head() + sync_begin(1000) + peer(P, 0, 0) +
    sync_done() + advance(1500),
}

out = sys.argv[1] if len(sys.argv) > 1 else "corpus/fsm"
os.makedirs(out, exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
