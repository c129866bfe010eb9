# SPDX-License-Identifier: GPL-2.0-or-later
"""UDP datagrams on loopback as a forger on the pool's network sends and
sees them: sent from any address and port (a raw IPv4 socket with the
header written here, IP_HDRINCL: the port may be one a kamailio holds), and
read off the wire (a packet socket on lo). Root only, loopback only."""

import socket
import struct
import threading
import time

ETH_P_ALL = 0x0003
ETH_HLEN = 14  # lo's frames carry an Ethernet header of zeros


def _checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def send_from(src, dst, payload):
    """Send payload (bytes or str) from src (ip, port) to dst (ip, port),
    IPv4 on loopback, whoever holds src."""
    if isinstance(payload, str):
        payload = payload.encode()
    sip, dip = socket.inet_aton(src[0]), socket.inet_aton(dst[0])
    ulen = 8 + len(payload)
    pseudo = struct.pack("!4s4sBBH", sip, dip, 0, socket.IPPROTO_UDP, ulen)
    udp = struct.pack("!HHHH", src[1], dst[1], ulen, 0)
    csum = _checksum(pseudo + udp + payload) or 0xFFFF
    udp = struct.pack("!HHHH", src[1], dst[1], ulen, csum)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, 0, 0x4000, 64,
                     socket.IPPROTO_UDP, 0, sip, dip)
    ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    try:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
        s.sendto(ip + udp + payload, (dst[0], 0))
    finally:
        s.close()


class Sniffer:
    """Every UDP datagram on lo to one of ports, while it runs: a list of
    (src, dst, payload bytes), src and dst as (ip, port)."""

    def __init__(self, ports):
        self.ports = set(ports)
        self.seen = []
        self.lock = threading.Lock()
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                               socket.htons(ETH_P_ALL))
        self.s.bind(("lo", 0))
        self.s.settimeout(0.05)
        self.running = True
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while self.running:
            try:
                frame, addr = self.s.recvfrom(70000)
            except socket.timeout:
                continue
            except OSError:
                return
            # each datagram is seen twice on lo (out and in): keep one
            if addr[2] == socket.PACKET_OUTGOING:
                continue
            ip = frame[ETH_HLEN:]
            if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != socket.IPPROTO_UDP:
                continue
            ihl = (ip[0] & 0x0F) * 4
            sport, dport, ulen = struct.unpack("!HHH", ip[ihl:ihl + 6])
            if dport not in self.ports:
                continue
            src = (socket.inet_ntoa(ip[12:16]), sport)
            dst = (socket.inet_ntoa(ip[16:20]), dport)
            with self.lock:
                self.seen.append((src, dst, ip[ihl + 8:ihl + ulen]))

    def find(self, pred, timeout=3.0):
        """The first datagram (src, dst, payload) pred takes, waiting up
        to timeout s; None."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                for d in self.seen:
                    if pred(*d):
                        return d
            if time.monotonic() > deadline:
                return None
            time.sleep(0.02)

    def close(self):
        self.running = False
        self.s.close()
        self.t.join(2)
