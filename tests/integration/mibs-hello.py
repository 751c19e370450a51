#!/usr/bin/env python3
"""mibs-hello.py: send cookie-less DTLS 1.2 ClientHellos to a loopback server
and count the HelloVerifyRequests that come back (RFC 6347 section 4.2.1).

usage: mibs-hello.py HOST PORT COUNT [TIMEOUT_SECONDS]

Each ClientHello goes out from its own fresh UDP socket (a new source
port, like COUNT different clients), carries an empty cookie, and waits
for one reply.  Prints "sent=N hvr=M other=K" and exits 0 when every hello
was answered by a HelloVerifyRequest, 1 otherwise.  Only loopback
addresses are accepted: tests never send traffic anywhere else.
"""
import ipaddress
import os
import socket
import struct
import sys

DTLS_1_0 = 0xFEFF  # record-layer version of a first ClientHello
DTLS_1_2 = 0xFEFD
HANDSHAKE = 22
CLIENT_HELLO = 1
HELLO_VERIFY_REQUEST = 3


def extension(ext_type, body):
    return struct.pack("!HH", ext_type, len(body)) + body


def client_hello():
    suites = [0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8]
    exts = b"".join([
        # supported_groups: x25519, secp256r1, secp384r1
        extension(0x000A, struct.pack("!H", 6) + struct.pack("!HHH", 0x001D, 0x0017, 0x0018)),
        # ec_point_formats: uncompressed
        extension(0x000B, b"\x01\x00"),
        # signature_algorithms
        extension(0x000D, struct.pack("!H", 8) + struct.pack("!HHHH", 0x0403, 0x0804, 0x0401, 0x0503)),
        # extended_master_secret
        extension(0x0017, b""),
        # renegotiation_info (empty: initial handshake)
        extension(0xFF01, b"\x00"),
    ])
    body = (struct.pack("!H", DTLS_1_2) + os.urandom(32)
            + b"\x00"                      # session_id: empty
            + b"\x00"                      # cookie: empty
            + struct.pack("!H", 2 * len(suites)) + b"".join(struct.pack("!H", s) for s in suites)
            + b"\x01\x00"                  # compression: null
            + struct.pack("!H", len(exts)) + exts)
    length = len(body)
    handshake = (struct.pack("!B", CLIENT_HELLO) + length.to_bytes(3, "big")
                 + struct.pack("!H", 0)                     # message_seq
                 + (0).to_bytes(3, "big") + length.to_bytes(3, "big")  # fragment
                 + body)
    record = (struct.pack("!BHH", HANDSHAKE, DTLS_1_0, 0)   # type, version, epoch 0
              + (0).to_bytes(6, "big")                      # sequence number
              + struct.pack("!H", len(handshake)) + handshake)
    return record


def is_hello_verify_request(dgram):
    # record header (13) + handshake header (12): type at offset 13
    return len(dgram) >= 25 and dgram[0] == HANDSHAKE and dgram[13] == HELLO_VERIFY_REQUEST


def main(argv):
    if len(argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        return 2
    host, port, count = argv[1], int(argv[2]), int(argv[3])
    timeout = float(argv[4]) if len(argv) == 5 else 5.0
    addr = ipaddress.ip_address(host)
    if not addr.is_loopback:
        print("mibs-hello.py: refusing non-loopback address %s" % host, file=sys.stderr)
        return 2
    family = socket.AF_INET6 if addr.version == 6 else socket.AF_INET
    hvr = other = 0
    for _ in range(count):
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            s.settimeout(timeout)
            s.sendto(client_hello(), (host, port))
            try:
                reply = s.recv(65535)
            except socket.timeout:
                continue
            if is_hello_verify_request(reply):
                hvr += 1
            else:
                other += 1
    print("sent=%d hvr=%d other=%d" % (count, hvr, other))
    return 0 if hvr == count else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
