#!/usr/bin/env python3
"""A DNS responder for tests/api/test-pending.sh that answers late or never:
    slowdns.py ADDRESS PORT
A and AAAA queries for "slow*" names are answered after 2 seconds (A 10.0.3.1, AAAA none);
"silent*" names are never answered; any other name gets NXDOMAIN at once."""
import socket, struct, sys, threading

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind((sys.argv[1], int(sys.argv[2])))
print("ready", flush=True)


def reply(q, addr, name, qtype):
    qid, flags = struct.unpack("!HH", q[:4])
    end = 12
    while q[end]:
        end += q[end] + 1
    question = q[12:end + 5]
    answers = b""
    rcode = 3  # NXDOMAIN
    if name.startswith("slow"):
        rcode = 0
        if qtype == 1:
            answers = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 30, 4) + socket.inet_aton("10.0.3.1")
    hdr = struct.pack("!HHHHHH", qid, 0x8180 | (flags & 0x0100) | rcode, 1, 1 if answers else 0, 0, 0)
    sock.sendto(hdr + question + answers, addr)


while True:
    q, addr = sock.recvfrom(512)
    labels, i = [], 12
    while q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode())
        i += q[i] + 1
    name, qtype = ".".join(labels).lower(), struct.unpack("!H", q[i + 1:i + 3])[0]
    if name.startswith("silent"):
        continue
    delay = 2.0 if name.startswith("slow") else 0.0
    threading.Timer(delay, reply, (q, addr, name, qtype)).start()
