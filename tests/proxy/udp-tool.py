"""udp-tool.py - the plain UDP ends of the proxy tests.

  udp-tool.py echo HOST PORT            echo service: replies "echo:DATA"; prints
                                        "listening" once bound; runs until killed
  udp-tool.py expect HOST SECS PORT=ok|refused ...
                                        one datagram to each PORT, each from a
                                        socket of its own, all at once; within
                                        SECS an "ok" port must echo, a "refused"
                                        one must not; prints one line per port
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


def expect(host, secs, specs):
    import selectors
    sel = selectors.DefaultSelector()
    for i, spec in enumerate(specs):
        port, outcome = spec.split("=")
        s = socket.socket(family(host), socket.SOCK_DGRAM)
        s.setblocking(False)
        msg = b"probe %d" % i
        s.sendto(msg, (host, int(port)))
        sel.register(s, selectors.EVENT_READ, (spec, msg))
    got = {}
    deadline = time.monotonic() + secs
    while len(got) < len(specs) and time.monotonic() < deadline:
        for key, _ in sel.select(max(0.0, deadline - time.monotonic())):
            spec, msg = key.data
            data, _ = key.fileobj.recvfrom(65536)
            if data == b"echo:" + msg:
                got[msg] = True
                sel.unregister(key.fileobj)
    status = 0
    for i, spec in enumerate(specs):
        echoed = got.get(b"probe %d" % i, False)
        ok = echoed == (spec.endswith("=ok"))
        print("%s %s: %s" % ("ok" if ok else "WRONG", spec, "echoed" if echoed else "no echo"))
        status |= 0 if ok else 1
    return status


def main():
    if sys.argv[1] == "expect":
        sys.exit(expect(sys.argv[2], float(sys.argv[3]), sys.argv[4:]))
    cmd, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    addr = (host, port)
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    if cmd == "echo":
        s.bind(addr)
        print("listening", flush=True)
        while True:
            data, peer = s.recvfrom(65536)
            s.sendto(b"echo:" + data, peer)
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
