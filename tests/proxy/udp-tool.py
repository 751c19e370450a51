"""udp-tool.py - the plain UDP ends of the proxy tests.

  udp-tool.py echo HOST PORT            echo service: replies "echo:DATA"; prints
                                        "listening" once bound; runs until killed
  udp-tool.py ping HOST PORT MSG [SECS] one datagram from a new socket; exit 0
                                        when "echo:MSG" comes back within SECS
  udp-tool.py hold HOST PORT GOFILE     one socket: ping, print "first ok", wait
                                        for GOFILE (at most 20 s), ping again
                                        from the same socket, print "second ok"
"""
import os
import socket
import sys
import time


def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def exchange(s, addr, msg, secs):
    s.settimeout(secs)
    s.sendto(msg, addr)
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        try:
            data, _ = s.recvfrom(65536)
        except socket.timeout:
            return False
        if data == b"echo:" + msg:
            return True
    return False


def main():
    cmd, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    addr = (host, port)
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    if cmd == "echo":
        s.bind(addr)
        print("listening", flush=True)
        while True:
            data, peer = s.recvfrom(65536)
            s.sendto(b"echo:" + data, peer)
    if cmd == "ping":
        secs = float(sys.argv[5]) if len(sys.argv) > 5 else 3.0
        sys.exit(0 if exchange(s, addr, sys.argv[4].encode(), secs) else 1)
    if cmd == "hold":
        if not exchange(s, addr, b"first", 5):
            print("first failed", flush=True)
            sys.exit(1)
        print("first ok", flush=True)
        deadline = time.monotonic() + 20
        while not os.path.exists(sys.argv[4]) and time.monotonic() < deadline:
            time.sleep(0.05)
        ok = exchange(s, addr, b"second", 5)
        print("second ok" if ok else "second failed", flush=True)
        sys.exit(0 if ok else 1)
    sys.exit(2)


main()
