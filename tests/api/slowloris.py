#!/usr/bin/env python3
"""Slow clients for tests/api/test-connections.sh: opens N connections to HOST:PORT, sends a partial
request on each and then one more header byte per connection every INTERVAL seconds; a connection
the server closes is opened again. Runs for SECONDS, then prints how many connections the server
closed (dropped) and how many were open at the end.
    slowloris.py HOST PORT N SECONDS [INTERVAL]"""
import errno, socket, sys, time

host, port, n, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
interval = float(sys.argv[5]) if len(sys.argv) > 5 else 1.0
socks, dropped = [], 0


def opened():
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect((host, port))
    except BlockingIOError:
        pass
    except OSError:
        s.close()
        return None
    return [s, False]  # [socket, partial request sent]


def step(c):
    """One more byte (or the request's start); False when the server has closed the connection."""
    s = c[0]
    try:
        if not c[1]:
            s.send(b"GET /healthz HTTP/1.1\r\nHost: nf\r\n")
            c[1] = True
        else:
            s.send(b"X")
        try:
            if s.recv(4096, socket.MSG_DONTWAIT) == b"":
                return False
        except BlockingIOError:
            pass
        return True
    except OSError as e:
        return e.errno in (errno.EAGAIN, errno.ENOTCONN)


end = time.time() + seconds
while len(socks) < n and time.time() < end:
    c = opened()
    if c:
        socks.append(c)
while time.time() < end:
    time.sleep(interval)
    for i, c in enumerate(socks):
        if not step(c):
            dropped += 1
            c[0].close()
            socks[i] = opened() or c
print(f"dropped={dropped} open={len(socks)}", flush=True)
