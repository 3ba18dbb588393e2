#!/usr/bin/env python3
"""Checks the ECS task definitions in container/ecs/ (TAP lines without numbers and without a
plan: test-taskdef.sh numbers them and runs this once per Python that has botocore).

    taskdef_check.py SRC_DIR NETFAULTD_BINARY

1. Each file is the input of `aws ecs register-task-definition --cli-input-json`: botocore's own
   ParamValidator checks it against the RegisterTaskDefinition input shape of the ECS service
   model that this botocore carries (types, required members, unknown members, enums, ranges).
   A member that this model predates (listed in NEWER_THAN_MODEL) is taken out first and named.
2. What the sidecar must be (issue 13): not essential, NET_ADMIN and nothing else, no
   initProcessEnabled (netfaultd must be PID 1 for its guardian), JSON logs through awslogs,
   the shell-less health check, a stop timeout, the state directory on a volume, an image tagged
   with the daemon's version, NETFAULTD_* names the daemon knows; the loopback variant listens on
   127.0.0.1, the ENI variant requires bearer tokens."""
import glob
import json
import os
import subprocess
import sys

import botocore
import botocore.session
from botocore.validate import ParamValidator

# Members ECS added after some botocore models still in use (Debian 12 has 1.29.27).
NEWER_THAN_MODEL = {"restartPolicy": "ECS container restart policy, 2024"}

src, binary = sys.argv[1], sys.argv[2]
tag = "botocore %s" % botocore.__version__
lines = []


def ok(cond, desc, diag=None):
    lines.append(("ok - " if cond else "not ok - ") + desc)
    if not cond and diag:
        for d in str(diag).splitlines():
            lines.append("# " + d)
    return cond


help_text = subprocess.run([binary, "--help"], capture_output=True, text=True).stdout
version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.split()[-1]
model = botocore.session.get_session().get_service_model("ecs")
shape = model.operation_model("RegisterTaskDefinition").input_shape
container_members = shape.members["containerDefinitions"].member.members

# The validator is not vacuous: a definition with an unknown member and a wrong type is refused.
bad = {"family": "x", "containerDefinitions": [{"name": "x", "image": "x", "essential": "no", "initProcess": True}]}
rep = ParamValidator().validate(bad, shape).generate_report()
ok("essential" in rep and "initProcess" in rep,
   "%s refuses a definition with a wrong type and an unknown member (the check has teeth)" % tag, rep)

files = sorted(glob.glob(os.path.join(src, "container", "ecs", "*.json")))
ok(len(files) >= 2, "container/ecs holds the loopback and the ENI task definitions (%d files)" % len(files))
readme = open(os.path.join(src, "container", "README.md")).read() if os.path.exists(
    os.path.join(src, "container", "README.md")) else ""

for path in files:
    name = os.path.relpath(path, src)
    try:
        td = json.load(open(path))
    except ValueError as e:
        ok(False, "%s is JSON" % name, e)
        continue
    params = json.loads(json.dumps(td))
    dropped = []
    for c in params.get("containerDefinitions", []):
        for m in NEWER_THAN_MODEL:
            if m in c and m not in container_members:
                del c[m]
                dropped.append(m)
    report = ParamValidator().validate(params, shape)
    note = ""
    if dropped:
        note = " (without %s: this model predates it, %s)" % (
            ", ".join(sorted(set(dropped))), "; ".join(NEWER_THAN_MODEL[m] for m in sorted(set(dropped))))
    ok(not report.has_errors(),
       "%s validates against RegisterTaskDefinition's input shape (%s, ECS API %s)%s" % (
           name, tag, model.api_version, note), report.generate_report())

    ok(td.get("networkMode") == "awsvpc", "%s: networkMode awsvpc (the sidecar shares the task's namespace)" % name)
    ok(td.get("requiresCompatibilities") == ["EC2"],
       "%s: EC2 launch type only (Fargate grants no NET_ADMIN)" % name, td.get("requiresCompatibilities"))
    by_name = {c.get("name"): c for c in td.get("containerDefinitions", [])}
    nf = by_name.get("netfaultd")
    if not ok(nf is not None, "%s: has a container named netfaultd" % name):
        continue
    others = [c for n, c in by_name.items() if n != "netfaultd"]
    ok(others and all(c.get("essential", True) for c in others) and
       not any(d.get("containerName") == "netfaultd" for c in others for d in c.get("dependsOn", [])),
       "%s: the application container is essential and does not depend on netfaultd" % name)
    ok(nf.get("essential") is False, "%s: netfaultd is not essential (its failure never stops the app)" % name)
    lp = nf.get("linuxParameters", {})
    caps = lp.get("capabilities", {})
    ok(caps.get("add") == ["NET_ADMIN"] and caps.get("drop") == ["ALL"],
       "%s: capabilities add exactly NET_ADMIN and drop ALL the others" % name, caps)
    ok(not lp.get("initProcessEnabled") and not nf.get("privileged"),
       "%s: no initProcessEnabled, not privileged (netfaultd is PID 1: its guardian)" % name)
    ok("entryPoint" not in nf and "command" not in nf,
       "%s: the image's entry point runs as is (PID 1)" % name)
    log = nf.get("logConfiguration", {})
    env = {e["name"]: e["value"] for e in nf.get("environment", [])}
    ok(log.get("logDriver") == "awslogs" and env.get("NETFAULTD_LOG_FORMAT") == "json",
       "%s: JSON log lines through the awslogs driver" % name)
    ok(nf.get("healthCheck", {}).get("command") == ["CMD", "/usr/sbin/netfaultd", "--health"],
       "%s: health check is the shell-less ['CMD', '/usr/sbin/netfaultd', '--health']" % name,
       nf.get("healthCheck"))
    ok(isinstance(nf.get("stopTimeout"), int) and 2 <= nf["stopTimeout"] <= 30,
       "%s: a stop timeout (%s s) within ECS's default 30 s" % (name, nf.get("stopTimeout")))
    state = env.get("NETFAULTD_STATE_DIR", "/run/netfaultd")
    vols = {v["name"] for v in td.get("volumes", [])}
    ok(any(m.get("containerPath") == state and m.get("sourceVolume") in vols for m in nf.get("mountPoints", [])),
       "%s: the state directory %s is a task volume" % (name, state))
    ok(nf.get("image", "").endswith(":" + version),
       "%s: the sidecar image is tagged with the daemon's version %s" % (name, version), nf.get("image"))
    unknown = [k for k in env if k.startswith("NETFAULTD_") and k not in help_text]
    ok(env and not unknown, "%s: every NETFAULTD_* variable is one netfaultd --help names" % name, unknown)
    listen = env.get("NETFAULTD_LISTEN", "127.0.0.1:9700")
    if listen.startswith("127.0.0.1:"):
        ok(not any(p.get("containerPort") == 9700 for p in nf.get("portMappings", [])),
           "%s: API on loopback (%s), no port mapping: only the task's containers reach it" % (name, listen))
    else:
        warn = nf.get("dockerLabels", {}).get("netfaultd.warning", "")
        tokens = env.get("NETFAULTD_AUTH_TOKEN_FILE", "")
        ok(tokens and any(tokens.startswith(m.get("containerPath", "?") + "/") and m.get("sourceVolume") in vols and
                          m.get("readOnly") for m in nf.get("mountPoints", [])),
           "%s: listens on the task ENI (%s) with bearer tokens from a read-only volume (%s)" % (name, listen, tokens))
        ok("bearer token" in warn and "bearer token" in readme.lower(),
           "%s: the label and the README say how the ENI listener is secured" % name)

print("\n".join(lines))
