# SPDX-License-Identifier: GPL-2.0-or-later
"""The pool's signed envelope, as the tests write and read it: what
modules/ha_pair/ha_seal.h describes, made here independently with
Python's hmac (so a test that signs with the pool key checks the module's
construction too). TEST_KEY is the key every pool of the tests shares
unless a test writes its own file."""

import hashlib
import hmac
import os
import time

TEST_KEY = "3f1c0a5e9b7d2c4e6a8f0b1d3c5e7a9b1d3f5a7c9e0b2d4f6a8c0e2b4d6f8a0c"
CT = "application/x-ha-pair-signed"


def write_keys(path, *keys):
    """Write keys (one a line) to path, readable by its owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("".join(k + "\n" for k in keys))
    os.chmod(path, 0o600)
    return path


def key_id(key):
    return hashlib.sha256(b"ha_pair key id\n" + key.encode()).hexdigest()[:8]


def seal(msg, key=TEST_KEY, origin="sip:127.0.0.1:5060", boot=None, seq=1,
         ts=None, to="*"):
    """msg (a peer message, str) in its envelope, signed with key."""
    now = int(time.time() * 1000)
    boot = now if boot is None else boot
    ts = now if ts is None else ts
    payload = f"origin={origin} boot={boot} seq={seq} ts={ts} to={to}\n{msg}"
    mac = hmac.new(key.encode(), payload.encode(), hashlib.sha256).hexdigest()
    return f"HAP2 {key_id(key)} {mac}\n{payload}"


def opened(body):
    """(fields of the second line as a dict, message) of an envelope, with
    its MAC checked against TEST_KEY; None when it is not one."""
    head, sep, payload = body.partition("\n")
    parts = head.split(" ")
    if not sep or len(parts) != 3 or parts[0] != "HAP2":
        return None
    mac = hmac.new(TEST_KEY.encode(), payload.encode(),
                   hashlib.sha256).hexdigest()
    if not hmac.compare_digest(mac, parts[2]):
        return None
    line, _, msg = payload.partition("\n")
    return dict(f.split("=", 1) for f in line.split(" ")), msg


def kdmq_request(to_ip, body, src, cid, from_ip=None, ct=CT):
    """A KDMQ request for ha_pair to the proxy at to_ip:5060, as sent from
    src (ip, port) by the node at from_ip (src's address when None), with
    body."""
    from_ip = from_ip or src[0]
    return (f"KDMQ sip:ha_pair@{to_ip}:5060 SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {src[0]}:{src[1]};branch=z9hG4bK{cid};"
            f"rport\r\n"
            f"From: <sip:ha_pair@{from_ip}:5060>;tag={cid}\r\n"
            f"To: <sip:ha_pair@{to_ip}:5060>\r\n"
            f"Call-ID: {cid}\r\n"
            f"CSeq: 1 KDMQ\r\n"
            f"Max-Forwards: 1\r\n"
            f"Content-Type: {ct}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n{body}")
