#!/usr/bin/env python3
"""dtls-probe.py: hostile datagrams for the agent tests (loopback only).

usage: dtls-probe.py garbage HOST PORT COUNT
       dtls-probe.py hellos  HOST PORT COUNT

garbage: COUNT datagrams of random bytes and truncated/bogus DTLS record
headers, from one socket.  Prints how many replies came back.
hellos: COUNT well-formed DTLS 1.2 ClientHellos without a cookie, each from
a fresh source port (a spoofing flood as seen by the server), and counts
the HelloVerifyRequests that come back (RFC 6347 4.2.1: the stateless
cookie exchange).  Exit status 0 unless the arguments are wrong.
"""
import os
import random
import socket
import struct
import sys


def client_hello():
    random_bytes = os.urandom(32)
    suites = [0xC02B, 0xC02C, 0xC02F, 0xC030]
    exts = b""
    # supported_groups: secp256r1, x25519
    groups = struct.pack("!HHH", 4, 0x0017, 0x001D)
    exts += struct.pack("!HH", 10, len(groups)) + groups
    # ec_point_formats: uncompressed
    exts += struct.pack("!HHBB", 11, 2, 1, 0)
    # signature_algorithms: ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256, rsa_pkcs1_sha256
    sigs = struct.pack("!HHHH", 6, 0x0403, 0x0804, 0x0401)
    exts += struct.pack("!HH", 13, len(sigs)) + sigs
    body = b"\xfe\xfd" + random_bytes
    body += b"\x00"  # session id
    body += b"\x00"  # cookie: none
    body += struct.pack("!H", 2 * len(suites)) + b"".join(struct.pack("!H", s) for s in suites)
    body += b"\x01\x00"  # compression: null
    body += struct.pack("!H", len(exts)) + exts
    hs = struct.pack("!B", 1) + len(body).to_bytes(3, "big") + struct.pack("!H", 0)
    hs += (0).to_bytes(3, "big") + len(body).to_bytes(3, "big") + body
    rec = struct.pack("!BHH", 22, 0xFEFD, 0) + (0).to_bytes(6, "big") + struct.pack("!H", len(hs)) + hs
    return rec


def is_hvr(data):
    # record: type 22, handshake type 3 (hello_verify_request)
    return len(data) > 13 and data[0] == 22 and data[13] == 3


def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def garbage(host, port, count):
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    s.settimeout(0.01)
    rng = random.Random(6353)
    for i in range(count):
        kind = i % 4
        if kind == 0:
            d = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 1400)))
        elif kind == 1:
            d = bytes([22, 0xFE, 0xFD]) + bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 20)))
        elif kind == 2:  # header claiming more than is there
            d = struct.pack("!BHH", 23, 0xFEFD, 1) + (5).to_bytes(6, "big") + struct.pack("!H", 999) + b"x"
        else:  # a ClientHello cut short
            d = client_hello()[: rng.randint(1, 60)]
        s.sendto(d, (host, port))
    replies = 0
    try:
        while True:
            s.recvfrom(65536)
            replies += 1
    except socket.timeout:
        pass
    print("garbage: sent %d, replies %d" % (count, replies))


def hellos(host, port, count):
    hvr = 0
    socks = []
    for i in range(count):
        s = socket.socket(family(host), socket.SOCK_DGRAM)
        s.setblocking(False)
        s.sendto(client_hello(), (host, port))
        socks.append(s)
        if len(socks) >= 64:
            hvr += drain(socks)
            socks = []
    hvr += drain(socks)
    print("hellos: sent %d, hello_verify_requests %d" % (count, hvr))


def drain(socks):
    import select
    got = 0
    pending = list(socks)
    deadline = 2.0
    while pending:
        r, _, _ = select.select(pending, [], [], deadline)
        if not r:
            break
        deadline = 0.5
        for s in r:
            try:
                data = s.recv(65536)
                if is_hvr(data):
                    got += 1
            except OSError:
                pass
            pending.remove(s)
    for s in socks:
        s.close()
    return got


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in ("garbage", "hellos"):
        print(__doc__, file=sys.stderr)
        return 2
    host, port, count = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    if host not in ("127.0.0.1", "::1"):
        print("loopback only", file=sys.stderr)
        return 2
    (garbage if sys.argv[1] == "garbage" else hellos)(host, port, count)
    return 0


if __name__ == "__main__":
    sys.exit(main())
