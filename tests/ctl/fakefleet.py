#!/usr/bin/env python3
"""A stand-in netfaultd for what this kernel cannot do (it has no netem or flower, so a real
create is always a 503): creates succeed with 201, renews and deletes are counted, and a fault
with live-looking counters is served, so that netfaultctl's rollback, --hold loop and tables can
be proven. Every request is logged as one line "METHOD PATH BODY" to the log file.
Usage: fakefleet.py PORTFILE LOGFILE [--renew-404-after N]"""
import datetime
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port_file, log_file = sys.argv[1], sys.argv[2]
renew_404_after = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--renew-404-after" else -1
state = {"next": 0xA1, "faults": {}, "renews": 0, "packets": 1234567}


def stamp(offset=0):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset)
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def canned():
    return {"id": "f-00000000c0de", "name": "checkout-latency", "state": "active",
            "created_at": stamp(-60), "expires_at": stamp(540), "interfaces": ["eth0"],
            "spec": {"targets": ["10.0.1.10/32", "10.0.2.0/24", "aws:DYNAMODB"],
                     "delay": {"ms": 300, "jitter_ms": 30}, "loss": {"percent": 2},
                     "protocol": "tcp", "ports": [443], "direction": "egress"},
            "kernel": {}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode() if n else ""
        with open(log_file, "a") as f:
            f.write("%s %s %s\n" % (self.command, self.path, body.replace("\n", " ")))
        p = self.path
        if self.command == "POST" and p == "/v1/faults":
            spec = json.loads(body)
            fid = "f-%012x" % state["next"]
            state["next"] += 1
            fault = {"id": fid, "name": spec.get("name"), "state": "active", "created_at": stamp(),
                     "expires_at": stamp(spec.get("duration_s", 300)), "spec": spec,
                     "interfaces": ["eth0"], "kernel": {}}
            if "lease_s" in spec:
                fault["lease_expires_at"] = stamp(spec["lease_s"])
            state["faults"][fid] = fault
            return self.reply(201, fault)
        if self.command == "POST" and p.endswith("/renew"):
            fid = p.split("/")[3]
            state["renews"] += 1
            if fid not in state["faults"] or (0 <= renew_404_after < state["renews"]):
                return self.reply(404, {"error": {"code": "not_found", "message": "no fault " + fid, "field": None}})
            return self.reply(200, state["faults"][fid])
        if self.command == "DELETE" and p.startswith("/v1/faults/"):
            fault = state["faults"].pop(p.split("/")[3], None) or canned()
            fault["state"] = "reverted"
            return self.reply(200, fault)
        if self.command == "GET" and p == "/v1/faults":
            return self.reply(200, {"faults": [canned()]})
        if self.command == "GET" and p.startswith("/v1/faults/"):
            state["packets"] += 5000
            f = canned()
            f["counters"] = {"packets": state["packets"], "bytes": 3145728, "drops": 4200, "delivered": 1230367}
            return self.reply(200, f)
        return self.reply(404, {"error": {"code": "not_found", "message": "no route " + p, "field": None}})

    do_GET = do_POST = do_DELETE = handle_any


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os  # noqa: E402
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
