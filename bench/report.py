#!/usr/bin/env python3
"""report.py: turn bench/run.sh's raw samples into tables and a results JSON.

    report.py --raw RAW.jsonl --out OUT.json --meta KEY=VALUE ...

RAW.jsonl has one object per line: "b" (benchmark), "impl", optional keys that identify the
measurement ("n", "path", "state", ...), "unit", and "v" (one sample) or "vs" (many). Samples of
the same measurement are pooled; each measurement gets its raw samples, count, median, p99
(nearest rank), min and max. Ratios and the issue-6 targets are derived from the medians.
"""
import argparse
import json
import math
import os
import shutil
import subprocess
import sys

SAMPLE_KEYS = {"v", "vs", "sent", "recv", "bytes", "non2xx", "socket_errors"}


def pct(sorted_vals, p):
    """nearest-rank percentile"""
    if not sorted_vals:
        return None
    k = max(1, math.ceil(p / 100.0 * len(sorted_vals)))
    return sorted_vals[k - 1]


def median(vals):
    s = sorted(vals)
    n = len(s)
    if n == 0:
        return None
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def key_of(rec):
    return tuple(sorted((k, v) for k, v in rec.items() if k not in SAMPLE_KEYS))


def kname(key):
    d = dict(key)
    parts = [d.get("b"), d.get("impl")]
    for k, v in key:
        if k not in ("b", "impl", "unit"):
            parts.append("%s=%s" % (k, v))
    return "/".join(str(p) for p in parts)


def r3(x):
    return None if x is None else round(x, 3)


def write_plots(derived, stem, meta):
    """SVG charts with gnuplot (Debian's gnuplot-nox; scripts/deps.sh bench): apply time and
    untargeted RTT against the number of CIDRs. Returns [(path, title)]; none without gnuplot."""
    gp = shutil.which("gnuplot")
    if not gp:
        sys.stderr.write("report.py: no gnuplot (scripts/deps.sh bench installs gnuplot-nox): no charts\n")
        return []
    made = []
    sub = "%s, commit %s%s" % ((meta.get("date") or "?")[:10], meta.get("commit", "?"),
                               ", quick run" if meta.get("quick") == "1" else "")
    head = ("set terminal svg size 900,460 dynamic enhanced font 'Sans,12' background rgb 'white'\n"
            "set logscale xy\nset grid xtics ytics mxtics mytics lc rgb '#dddddd'\nset key outside right top vertical box\n"
            "set format x '%.0s%c'\nset xlabel 'target CIDRs (/32s)'\n")

    def plot(name, title, ylabel, series, yfmt="%g"):
        series = [(label, pts, style) for label, pts, style in series if pts]
        if not series:
            return
        path = "%s-%s.svg" % (stem, name)
        script = head + "set output '%s'\nset title \"%s\\n{/*0.8 %s}\"\nset ylabel '%s'\nset format y '%s'\n" % (
            path, title, sub, ylabel, yfmt)
        script += "plot " + ", ".join("'-' using 1:2 with linespoints %s title '%s'" % (style, label)
                                      for label, pts, style in series) + "\n"
        for _, pts, _ in series:
            script += "".join("%g %g\n" % (x, y) for x, y in pts) + "e\n"
        r = subprocess.run([gp], input=script, text=True, capture_output=True)
        if r.returncode != 0 or not os.path.exists(path):
            sys.stderr.write("report.py: gnuplot failed for %s: %s\n" % (name, r.stderr.strip()[:500]))
            return
        made.append((path, title))

    ap = derived.get("apply", [])

    def pts(key, rows, scale=1.0):
        return [(d["n"], d[key] * scale) for d in rows if d.get(key) is not None and d[key] > 0]
    per_rule = [(d["n"], d["tc_per_rule_ms"]) for d in ap if d.get("tc_per_rule_ms") and not d.get("tc_per_rule_extrapolated")]
    per_rule_x = [(d["n"], d["tc_per_rule_ms"]) for d in ap if d.get("tc_per_rule_ms")]
    plot("apply", "Apply: POST /v1/faults to 201 vs tc (guest kernel, median ms)", "ms (log)", [
        ("netfaultd", pts("netfaultd_ms", ap), "lw 2 pt 7 lc rgb '#1f77b4'"),
        ("netfaultd warm", pts("netfaultd_warm_ms", ap), "lw 1 pt 6 lc rgb '#9ecae1'"),
        ("tc -batch, our shape (flower)", pts("tc_batch_ms", ap), "lw 2 pt 5 lc rgb '#ff7f0e'"),
        ("tc -batch, u32 chain", pts("tc_batch_u32_ms", ap), "lw 2 pt 9 lc rgb '#2ca02c'"),
        ("tc per rule" + (" (largest size extrapolated)" if len(per_rule_x) > len(per_rule) else ""), per_rule_x,
         "lw 2 pt 13 lc rgb '#d62728'"),
    ], yfmt="%.0s%c")
    dp = derived.get("datapath", [])
    none = next((d["none_rtt_ms"] for d in dp if d.get("none_rtt_ms")), None)
    plot("rtt", "Untargeted traffic: ping RTT with N non-matching CIDRs (guest, median ms)", "RTT ms (log)", [
        ("netfaultd (flower)", pts("netfaultd_rtt_ms", dp), "lw 2 pt 7 lc rgb '#1f77b4'"),
        ("u32 chain", pts("u32_rtt_ms", dp), "lw 2 pt 9 lc rgb '#2ca02c'"),
        ("no fault", [(d["n"], none) for d in dp] if none else [], "lw 1 pt 1 lc rgb '#7f7f7f'"),
    ])
    return made


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--meta", nargs="*", default=[])
    a = ap.parse_args()

    meta = {}
    for kv in a.meta:
        k, _, v = kv.partition("=")
        meta[k] = v

    groups = {}
    extras = {}
    with open(a.raw) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                sys.stderr.write("report.py: skipping a malformed line: %s\n" % line[:200])
                continue
            k = key_of(rec)
            vals = groups.setdefault(k, [])
            if "v" in rec:
                vals.append(float(rec["v"]))
            if "vs" in rec:
                vals.extend(float(x) for x in rec["vs"])
            ex = {kk: rec[kk] for kk in ("sent", "recv", "bytes", "non2xx", "socket_errors") if kk in rec}
            if ex:
                extras.setdefault(k, []).append(ex)

    meas = {}
    for k, vals in groups.items():
        s = sorted(vals)
        d = dict(k)
        m = dict(d)
        m.update(samples=vals, count=len(vals), median=r3(median(vals)), p99=r3(pct(s, 99)),
                 min=r3(s[0]) if s else None, max=r3(s[-1]) if s else None)
        if k in extras:
            m["details"] = extras[k]
        meas[kname(k)] = m

    def get(b, impl, **kw):
        for m in meas.values():
            if m.get("b") == b and m.get("impl") == impl and all(m.get(x) == y for x, y in kw.items()):
                return m
        return None

    def med(b, impl, **kw):
        m = get(b, impl, **kw)
        return None if m is None else m["median"]

    def div(x, y):
        return None if x is None or y in (None, 0) else x / y

    derived = {}
    out_lines = []
    P = out_lines.append

    def fmt(x, nd=1):
        if x is None:
            return "-"
        if isinstance(x, str):
            return x
        if abs(x) >= 100 or nd == 0:
            return "{:,.0f}".format(x)
        return ("{:.%df}" % nd).format(x)

    def table(title, head, rows):
        P("")
        P("### " + title)
        P("")
        P("| " + " | ".join(head) + " |")
        P("|" + "|".join("---" for _ in head) + "|")
        for r in rows:
            P("| " + " | ".join(r) + " |")

    # ---- apply / revert
    sizes = sorted({m["n"] for m in meas.values() if m.get("b") == "apply"})
    for b in ("apply", "revert"):
        rows = []
        for n in sizes:
            nf = get(b, "netfaultd", n=n)
            nw = get(b, "netfaultd-warm", n=n)
            dr = get("dry_run", "netfaultd", n=n) if b == "apply" else None
            dg = get("dry_run_guest", "netfaultd", n=n) if b == "apply" else None
            ba = get(b, "tc-batch", n=n)
            bu = get(b, "tc-batch-u32", n=n)
            pr = get(b, "tc-per-rule", n=n)
            pr_med = pr["median"] if pr else None
            extrap = False
            if pr_med is None:
                # one process per rule scales linearly: extrapolate from the largest measured size
                measured = sorted(m["n"] for m in meas.values() if m.get("b") == b and m.get("impl") == "tc-per-rule")
                if measured:
                    mx = measured[-1]
                    base = med(b, "tc-per-rule", n=mx)
                    if base is not None and mx > 0:
                        pr_med = base * n / mx
                        extrap = True
            nfm = nf["median"] if nf else None
            d = {"n": n, "netfaultd_ms": nfm, "netfaultd_p99_ms": nf["p99"] if nf else None,
                 "netfaultd_warm_ms": nw["median"] if nw else None, "host_dry_run_ms": dr["median"] if dr else None,
                 "guest_dry_run_ms": dg["median"] if dg else None,
                 "tc_batch_ms": ba["median"] if ba else None, "tc_per_rule_ms": r3(pr_med),
                 "tc_batch_u32_ms": bu["median"] if bu else None,
                 "u32_batch_over_netfaultd": r3(div(bu["median"] if bu else None, nfm)),
                 "tc_per_rule_extrapolated": extrap,
                 "batch_over_netfaultd": r3(div(ba["median"] if ba else None, nfm)),
                 "per_rule_over_netfaultd": r3(div(pr_med, nfm))}
            derived.setdefault(b, []).append(d)
            rows.append(["{:,}".format(n), fmt(nfm), fmt(d["netfaultd_p99_ms"]), fmt(d["netfaultd_warm_ms"])]
                        + ([fmt(d["guest_dry_run_ms"]), fmt(d["host_dry_run_ms"])] if b == "apply" else []) + [
                         fmt(d["tc_batch_ms"]), fmt(d["tc_batch_u32_ms"]), fmt(pr_med) + (" (extrapolated)" if extrap else ""),
                         fmt(d["batch_over_netfaultd"], 2) + "x", fmt(d["u32_batch_over_netfaultd"], 2) + "x",
                         fmt(d["per_rule_over_netfaultd"], 1) + "x"])
        # marginal cost per 1,000 rules between the smallest and the largest size (takes out
        # the fixed costs: process start-up for tc, ifb/netem creation and HTTP for netfaultd)
        if len(sizes) >= 2:
            lo, hi = sizes[0], sizes[-1]
            marg = {}
            for impl in ("netfaultd", "netfaultd-warm", "tc-batch", "tc-batch-u32"):
                t_lo, t_hi = med(b, impl, n=lo), med(b, impl, n=hi)
                if t_lo is not None and t_hi is not None:
                    marg[impl] = r3((t_hi - t_lo) / (hi - lo) * 1000)
            derived[b + "_marginal_ms_per_1000_rules"] = dict(marg, sizes=[lo, hi])
            if marg:
                rows.append(["per +1,000 rules"] + [fmt(marg.get("netfaultd")), "", fmt(marg.get("netfaultd-warm"))]
                            + (["", ""] if b == "apply" else []) + [fmt(marg.get("tc-batch")), fmt(marg.get("tc-batch-u32")),
                                                                     "", "", "", ""])
        if rows:
            table("%s (guest, ms, median of samples)" % ("Apply: POST to 201 / tc until done" if b == "apply" else "Revert: DELETE to 200 / tc until gone"),
                  ["CIDRs", "netfaultd", "netfaultd p99", "netfaultd warm"] + (["guest dry run", "host dry run"] if b == "apply" else []) + ["tc -batch", "tc -batch u32", "tc per rule", "tc -batch / netfaultd", "u32 batch / netfaultd", "per rule / netfaultd"], rows)

    # ---- datapath
    base_t = med("dp_tput", "none", n=0)
    base_r = med("dp_rtt", "none", n=0)
    dsizes = sorted({m["n"] for m in meas.values() if m.get("b") == "dp_tput" and m.get("n")})
    rows = []
    if base_t is not None:
        rows.append(["0 (no fault)", fmt(base_t / 1000), "1.00", fmt(base_r, 2), "1.00", "", "", "", ""])
    for n in dsizes:
        nt, ut = med("dp_tput", "netfaultd", n=n), med("dp_tput", "u32-chain", n=n)
        nr, ur = med("dp_rtt", "netfaultd", n=n), med("dp_rtt", "u32-chain", n=n)
        d = {"n": n, "netfaultd_kbit": nt, "u32_kbit": ut, "none_kbit": base_t,
             "netfaultd_tput_ratio": r3(div(nt, base_t)), "u32_tput_ratio": r3(div(ut, base_t)),
             "netfaultd_rtt_ms": nr, "u32_rtt_ms": ur, "none_rtt_ms": base_r,
             "netfaultd_rtt_ratio": r3(div(nr, base_r)), "u32_rtt_ratio": r3(div(ur, base_r))}
        derived.setdefault("datapath", []).append(d)
        rows.append(["{:,}".format(n), fmt(None if nt is None else nt / 1000), fmt(d["netfaultd_tput_ratio"], 2),
                     fmt(nr, 2), fmt(d["netfaultd_rtt_ratio"], 2),
                     fmt(None if ut is None else ut / 1000), fmt(d["u32_tput_ratio"], 2), fmt(ur, 2), fmt(d["u32_rtt_ratio"], 2)])
    if rows:
        table("Datapath, untargeted traffic (guest; iperf3 Mbit/s and ping RTT ms, medians; ratio to no fault)",
              ["CIDRs", "netfaultd Mbit/s", "ratio", "netfaultd RTT", "ratio", "u32 chain Mbit/s", "ratio", "u32 RTT", "ratio"], rows)
    tt0, tt1 = med("dp_targeted_tput", "none", n=1), med("dp_targeted_tput", "netfaultd-0ms", n=1)
    tr0, tr1 = med("dp_targeted_rtt", "none", n=1), med("dp_targeted_rtt", "netfaultd-0ms", n=1)
    if tt0 is not None or tr0 is not None:
        derived["targeted"] = {"none_kbit": tt0, "fault_kbit": tt1, "tput_ratio": r3(div(tt1, tt0)),
                               "none_rtt_ms": tr0, "fault_rtt_ms": tr1, "rtt_ratio": r3(div(tr1, tr0))}
        table("Datapath, targeted traffic through a 0 ms delay fault (guest)",
              ["", "no fault", "0 ms fault", "ratio"],
              [["iperf3 Mbit/s", fmt(None if tt0 is None else tt0 / 1000), fmt(None if tt1 is None else tt1 / 1000), fmt(derived["targeted"]["tput_ratio"], 2)],
               ["ping RTT ms", fmt(tr0, 2), fmt(tr1, 2), fmt(derived["targeted"]["rtt_ratio"], 2)]])

    # ---- fidelity
    rows = []
    for m in sorted((m for m in meas.values() if m.get("b") == "fid_delay_err"), key=lambda m: m["n"]):
        det = m.get("details", [{}])[0]
        d = {"requested_ms": m["n"], "median_err_ms": m["median"], "p99_err_ms": m["p99"], "min_err_ms": m["min"],
             "packets": m["count"], "sent": det.get("sent")}
        derived.setdefault("fidelity_delay", []).append(d)
        rows.append([str(m["n"]), fmt(m["median"] + m["n"] if m["median"] is not None else None, 2),
                     "%+.2f" % m["median"], "%+.2f" % m["p99"], "%d/%s" % (m["count"], det.get("sent", "?"))])
    if rows:
        table("Fidelity: delay (guest; ping RTT minus the no-fault median; error = measured - requested, ms)",
              ["requested ms", "measured median", "median error", "p99 error", "replies/sent"], rows)
    rows = []
    for m in sorted((m for m in meas.values() if m.get("b") == "fid_loss"), key=lambda m: m["n"]):
        for det, v in zip(m.get("details", []), m["samples"]):
            sent = det.get("sent", 0)
            p = m["n"] / 100.0
            sd = 100 * math.sqrt(p * (1 - p) / sent) if sent else None
            within = None if sd is None or m["impl"] == "none" else abs(v - m["n"]) <= 3 * sd
            d = {"requested_pct": m["n"] if m["impl"] != "none" else 0, "measured_pct": v, "sent": sent,
                 "recv": det.get("recv"), "three_sigma_pct": r3(3 * sd) if sd is not None else None, "within_3_sigma": within}
            derived.setdefault("fidelity_loss", []).append(d)
            rows.append([str(d["requested_pct"]), "%.2f" % v, str(sent),
                         "±%.2f" % (3 * sd) if sd else "-", {True: "yes", False: "NO", None: "-"}[within]])
    if rows:
        table("Fidelity: loss (guest; UDP datagrams, egress loss)", ["requested %", "measured %", "datagrams", "3 sigma", "within"], rows)

    # ---- footprint
    rows = []
    for m in sorted((m for m in meas.values() if m.get("b") in ("rss_host", "rss_guest", "rss_container")),
                    key=lambda m: (m["b"], m["impl"])):
        rows.append([m["b"].replace("rss_", ""), m["impl"], m["state"], fmt(m["median"] / 1024, 2)])
    for b, label in (("binary_size", "binary (as built)"), ("binary_size_stripped", "binary (stripped)"),
                     ("image_size", "container image (uncompressed)")):
        m = get(b, "netfaultd")
        if m:
            rows.append(["host", "netfaultd", label, fmt(m["median"] / 1024 / 1024, 2)])
    if rows:
        table("Footprint (RSS and size in MiB)", ["where", "process", "state", "MiB"], rows)
    rows = []
    m = get("startup", "netfaultd")
    if m:
        rows.append(["start-up to a served /healthz (host)", "%s ms (p99 %s, n=%d)" % (fmt(m["median"], 1), fmt(m["p99"], 1), m["count"])])
    m = get("container_startup", "netfaultd")
    if m:
        rows.append(["podman run of the image to a served /healthz (host)",
                     "%s ms (p99 %s, n=%d)" % (fmt(m["median"], 1), fmt(m["p99"], 1), m["count"])])
    for m in meas.values():
        if m.get("b") == "fp_create_many":
            rows.append(["create %s faults of %s CIDRs, one after another (guest)" % (m["faults"], m["cidrs"]), "%s ms total" % fmt(m["median"])])
        if m.get("b") == "fp_create_each":
            rows.append(["one of those creates (guest)", "median %s ms, p99 %s ms" % (fmt(m["median"]), fmt(m["p99"]))])
        if m.get("b") == "fp_list_many":
            rows.append(["GET /v1/faults with %s faults (guest)" % m["faults"], "%s ms" % fmt(m["median"])])
        if m.get("b") == "fp_delete_all":
            rows.append(["DELETE /v1/faults with %s faults (guest)" % m["faults"], "%s ms" % fmt(m["median"])])
        if m.get("b") == "fp_cycles":
            rows.append(["%s create+delete cycles, 1 CIDR (guest)" % m["cycles"], "%s ms total, %s ms per cycle" % (fmt(m["median"]), fmt(m["median"] / m["cycles"], 1))])
    if rows:
        table("Start-up and bulk operations", ["what", "time"], rows)

    # ---- GET /metrics with live faults (issue 14)
    rows = []
    sizes = sorted({m["faults"] for m in meas.values() if m.get("b") == "metrics_scrape"})
    for n in sizes:
        cold, cached = get("metrics_scrape", "netfaultd", faults=n, cache="cold"), get("metrics_scrape", "netfaultd", faults=n, cache="cached")
        reads = med("metrics_reads", "netfaultd", faults=n)
        body = (cold or cached or {}).get("details", [{}])[0].get("bytes")
        d = {"faults": n, "cold_ms": cold and cold["median"], "cold_p99_ms": cold and cold["p99"],
             "cached_ms": cached and cached["median"], "cached_p99_ms": cached and cached["p99"], "bytes": body,
             "counter_reads_per_cold_scrape": reads}
        derived.setdefault("metrics_scrape", []).append(d)
        rows.append([fmt(n, 0), fmt(d["cold_ms"], 1), fmt(d["cold_p99_ms"], 1), fmt(d["cached_ms"], 1), fmt(d["cached_p99_ms"], 1),
                     fmt(body, 0) if body is not None else "-", fmt(reads, 0) if reads is not None else "-",
                     "%d" % cold["count"] if cold else "-"])
    ms = {d["faults"]: d for d in derived.get("metrics_scrape", [])}
    if 0 in ms and max(ms) > 0 and ms[0]["cold_ms"] is not None and ms[max(ms)]["cold_ms"] is not None:
        top = max(ms)
        derived["metrics_scrape_per_fault_ms"] = {
            "cold": (ms[top]["cold_ms"] - ms[0]["cold_ms"]) / top,
            "cached": None if ms[top]["cached_ms"] is None or ms[0]["cached_ms"] is None else (ms[top]["cached_ms"] - ms[0]["cached_ms"]) / top,
            "between": [0, top]}
    if rows:
        table("GET /metrics with live faults (guest; curl time_total, ms; cold = the kernel's counters of every fault read, cached = within the 1 s cache)",
              ["faults", "cold", "cold p99", "cached", "cached p99", "body bytes", "counter reads / cold scrape", "rounds"], rows)
        pf = derived.get("metrics_scrape_per_fault_ms")
        if pf:
            P("")
            P("Per additional fault (0 to %d faults): %.3f ms cold, %s ms cached." % (
                pf["between"][1], pf["cold"], "-" if pf["cached"] is None else "%.3f" % pf["cached"]))

    # ---- API
    rows = []
    for impl, over in (("netfaultd", "HTTP"), ("netfaultd-tls", "HTTPS")):
        for path in ("/healthz", "/v1/faults"):
            rps = get("api_rps", impl, path=path)
            if rps:
                p50, p99 = med("api_p50", impl, path=path), med("api_p99", impl, path=path)
                plain = get("api_rps", "netfaultd", path=path)
                derived.setdefault("api", []).append({"path": path, "transport": over, "rps": rps["median"], "p50_ms": p50,
                                                      "p99_ms": p99})
                ratio = "" if impl == "netfaultd" or not plain else fmt(div(rps["median"], plain["median"]), 2) + "x of HTTP"
                rows.append(["GET " + path + " (" + over + ")", fmt(rps["median"], 0), fmt(p50, 3), fmt(p99, 3),
                             "%d x" % rps["count"], ratio])
    if rows:
        table("API (host, loopback, wrk -t1 -c16, medians of runs; TLS side by side, keep-alive)",
              ["request", "req/s", "p50 ms", "p99 ms", "runs", "TLS vs plain"], rows)

    # ---- exclusions (issue 11, row 3): the old and the new code, measured side by side
    rows = []
    for stage, label in (("protected", "protected addresses held by the targets"), ("subtract", "targets minus exclusions"),
                         ("total", "total (one fault's effective set)")):
        o, nw = get("exclusions", "old", stage=stage), get("exclusions", "new", stage=stage)
        if o and nw:
            derived.setdefault("exclusions", []).append({"stage": stage, "old_ms": o["median"], "new_ms": nw["median"],
                                                         "old_over_new": div(o["median"], nw["median"])})
            rows.append([label, fmt(o["median"], 2), fmt(nw["median"], 2), fmt(nw["p99"], 2),
                         fmt(div(o["median"], nw["median"]), 0) + "x" if div(o["median"], nw["median"]) else "-"])
    if rows:
        table("Exclusions: 10,000 random /32 targets minus 10,000 random /32 excludes (host, one core, ms, median of runs)",
              ["stage", "old", "new", "new p99", "old / new"], rows)

    # ---- guards (issue 16): the probe engine's cost to the event loop, natively
    rows = []
    for probes in sorted({m["probes"] for m in meas.values() if m.get("b") == "guard_loop"}):
        lp, rate, cpu, okr = (get(b, "netfaultd", probes=probes) for b in ("guard_loop", "guard_rate", "guard_cpu", "guard_ok"))
        derived.setdefault("guards", []).append({
            "probes": probes, "loop_late_median_ms": lp and lp["median"], "loop_late_p99_ms": lp and lp["p99"],
            "loop_late_max_ms": lp and lp["max"], "probes_per_s": rate and rate["median"],
            "cpu_us_per_probe": cpu and cpu["median"], "passing": okr and okr["median"]})
        rows.append([str(probes), fmt(lp and lp["median"], 2), fmt(lp and lp["p99"], 2), fmt(lp and lp["max"], 2),
                     fmt(rate and rate["median"], 0), fmt(cpu and cpu["median"], 1), fmt(okr and okr["median"] * 100, 1)])
    if rows:
        table("Guards: a 5 ms timer's lateness on the loop while probes run every 100 ms against an 80 ms endpoint "
              "(host, release build; 0 = baseline)",
              ["probes", "late median ms", "p99", "max", "probes/s", "CPU µs/probe", "passing %"], rows)

    # ---- event-loop stalls (issue 17): the probe's longest GET /healthz during each load
    rows = []
    for m in sorted((m for m in meas.values() if m.get("b") == "loop_stall"), key=lambda m: m["during"]):
        w = m["during"]
        req = get("stall_request", "netfaultd", during=w)
        d = {"during": w, "faults": m.get("faults"), "cidrs": m.get("cidrs"), "max_stall_ms": m["median"],
             "probe_p99_ms": med("loop_probe_p99", "netfaultd", during=w),
             "probe_median_ms": med("loop_probe_median", "netfaultd", during=w),
             "request_ms": req["median"] if req else None,
             "bytes": req["details"][0].get("bytes") if req and req.get("details") else None}
        derived.setdefault("loop_stall", []).append(d)
        rows.append([w, "%sx%s" % (m.get("faults"), m.get("cidrs")), fmt(d["max_stall_ms"], 1), fmt(d["probe_p99_ms"], 1),
                     fmt(d["probe_median_ms"], 2), fmt(d["request_ms"], 1), fmt(d["bytes"], 0)])
    if rows:
        table("Event-loop stalls (guest; GET /healthz every ms on a kept-alive connection while another client asks; ms)",
              ["while", "faults x CIDRs", "longest probe", "probe p99", "probe median", "request (median)", "reply bytes"], rows)

    # ---- fixed cost of one fault (issue 17): apply + revert kernel work of a 1-CIDR fault
    fx = {st_: get("fault_fixed_cost", "netfaultd", stage=st_) for st_ in ("apply", "revert", "total")}
    if fx["total"]:
        http = get("fault_fixed_cost_http", "netfaultd")
        derived["fault_fixed_cost"] = {"cycles": fx["total"].get("cycles"), "apply_ms": fx["apply"]["median"] if fx["apply"] else None,
                                       "revert_ms": fx["revert"]["median"] if fx["revert"] else None, "total_ms": fx["total"]["median"],
                                       "with_http_ms": http["median"] if http else None}
        d = derived["fault_fixed_cost"]
        rows = [["the fault alone on eth0 (its hook created and deleted with it)", fmt(d["apply_ms"], 2), fmt(d["revert_ms"], 2),
                 fmt(d["total_ms"], 2), fmt(d["with_http_ms"], 1)]]
        # beside another fault that keeps eth0's clsact and guard filters (bench-stall, since the ifb pool)
        fk = {st_: get("fault_fixed_cost", "netfaultd-hook-kept", stage=st_) for st_ in ("apply", "revert", "total")}
        if fk["total"]:
            d["hook_kept"] = {"apply_ms": fk["apply"]["median"] if fk["apply"] else None,
                              "revert_ms": fk["revert"]["median"] if fk["revert"] else None, "total_ms": fk["total"]["median"]}
            k = d["hook_kept"]
            rows.append(["beside another fault (eth0's hook kept)", fmt(k["apply_ms"], 2), fmt(k["revert_ms"], 2), fmt(k["total_ms"], 2), "-"])
        table("Fixed cost of one fault (guest; create + delete of a 1-CIDR fault, mean of %s cycles; ms)" % d["cycles"],
              ["case", "apply (kernel work)", "revert (kernel work)", "apply + revert", "POST + DELETE over HTTP (median)"], rows)

    # ---- GET /v1/faults render (issue 17): one fault (the work between two turns of the loop,
    # now that the list is streamed) against the whole list (what one turn did before)
    one, whole = get("list_render", "netfaultd", what="one-fault"), get("list_render", "netfaultd", what="whole-list")
    if one and whole:
        derived["list_render"] = {"faults": whole.get("faults"), "cidrs": whole.get("cidrs"), "one_fault_us": one["median"],
                                  "whole_list_us": whole["median"]}
        table("GET /v1/faults rendering, %s faults of %s CIDRs (host, in-process, us, median of runs)" % (whole.get("faults"), whole.get("cidrs")),
              ["one fault (one chunk: the longest of the list)", "whole list (one reply, before streaming)"],
              [[fmt(one["median"], 1), fmt(whole["median"], 0)]])

    # ---- host planning per CIDR (issue 17): parse, validate, scope, plan, encode; no kernel
    rows = []
    stages = ("parse", "validate", "scope", "plan", "encode", "total")
    for impl, order in (("netfaultd", "in order"), ("netfaultd-shuffled", "shuffled")):
        for n in sorted({m["n"] for m in meas.values() if m.get("b") == "plan_host" and m.get("impl") == impl}):
            st = {s_: med("plan_host", impl, stage=s_, n=n) for s_ in stages}
            per = med("plan_host_per_cidr", impl, n=n)
            derived.setdefault("plan_host", []).append(dict({"n": n, "order": order, "us_per_cidr": per},
                                                            **{s_ + "_us": st[s_] for s_ in stages}))
            rows.append(["{:,}".format(n), order] + [fmt(st[s_]) for s_ in stages] + [fmt(per, 3)])
    if rows:
        table("Host planning: validate + plan + encode of /32 CIDRs (host, in-process, us, median of runs)",
              ["CIDRs", "order"] + list(stages) + ["us per CIDR"], rows)

    # ---- targets
    targets = []
    for d in derived.get("plan_host", []):
        if d["us_per_cidr"] is not None:
            targets.append({"target": "host planning of %s CIDRs (%s) <= 1 us per CIDR" % ("{:,}".format(d["n"]), d["order"]),
                            "measured": "%.3f us" % d["us_per_cidr"], "want": "<= 1 us", "holds": d["us_per_cidr"] <= 1.0})

    def target(name, value, ok, want):
        targets.append({"target": name, "measured": value, "want": want, "holds": ok})

    ap1 = next((d for d in derived.get("apply", []) if d["n"] == 1000), None)
    if ap1 and ap1["netfaultd_ms"] is not None:
        target("apply 1,000 CIDRs no slower than tc -batch", "%.1f ms vs %.1f ms" % (ap1["netfaultd_ms"], ap1["tc_batch_ms"] or float("nan")),
               ap1["tc_batch_ms"] is not None and ap1["netfaultd_ms"] <= ap1["tc_batch_ms"], "netfaultd <= tc -batch")
        if ap1["per_rule_over_netfaultd"] is not None:
            target("apply 1,000 CIDRs >= 100x faster than one tc per rule", "%.0fx%s" % (ap1["per_rule_over_netfaultd"], " (extrapolated)" if ap1["tc_per_rule_extrapolated"] else ""),
                   ap1["per_rule_over_netfaultd"] >= 100, ">= 100x")
    ap10 = next((d for d in derived.get("apply", []) if d["n"] == 10000), None)
    if ap10 and ap10["netfaultd_ms"] is not None:
        target("apply 10,000 CIDRs < 250 ms", "%.1f ms (p99 %.1f; warm %s)" % (ap10["netfaultd_ms"], ap10["netfaultd_p99_ms"], fmt(ap10["netfaultd_warm_ms"])), ap10["netfaultd_ms"] < 250, "< 250 ms")
    dp10 = next((d for d in derived.get("datapath", []) if d["n"] == 10000), None)
    if dp10 and dp10["netfaultd_tput_ratio"] is not None:
        target("untargeted throughput with 10,000 CIDRs >= 90% of no fault", "%.0f%%" % (100 * dp10["netfaultd_tput_ratio"]), dp10["netfaultd_tput_ratio"] >= 0.9, ">= 90%")
    for b, where in (("rss_host", "host"), ("rss_guest", "guest")):
        m = get(b, "netfaultd", state="idle")
        if m:
            target("RSS <= 8 MB idle (%s, daemon process)" % where, "%.2f MiB" % (m["median"] / 1024), m["median"] <= 8 * 1024, "<= 8 MiB")
    api = next((d for d in derived.get("api", []) if d["path"] == "/healthz" and d.get("transport", "HTTP") == "HTTP"), None)
    if api:
        target("/healthz >= 30,000 req/s", "%.0f req/s" % api["rps"], api["rps"] >= 30000, ">= 30,000")
    if ap1 and ap1.get("tc_batch_u32_ms") is not None and ap1["netfaultd_ms"] is not None:
        target("apply 1,000 CIDRs <= tc -batch of a u32 chain", "%.1f ms vs %.1f ms" % (ap1["netfaultd_ms"], ap1["tc_batch_u32_ms"]),
               ap1["netfaultd_ms"] <= ap1["tc_batch_u32_ms"], "netfaultd <= u32 tc -batch")
    if ap10 and ap10.get("tc_batch_u32_ms") is not None and ap10["netfaultd_ms"] is not None:
        target("apply 10,000 CIDRs <= tc -batch of a u32 chain", "%.1f ms vs %.1f ms" % (ap10["netfaultd_ms"], ap10["tc_batch_u32_ms"]),
               ap10["netfaultd_ms"] <= ap10["tc_batch_u32_ms"], "netfaultd <= u32 tc -batch")
    for d in (ap1, ap10):
        if d and d.get("batch_over_netfaultd") is not None:
            target("apply %s CIDRs >= 2x faster than tc -batch of our shape" % "{:,}".format(d["n"]), "%.2fx" % d["batch_over_netfaultd"],
                   d["batch_over_netfaultd"] >= 2, ">= 2x")
    fc = derived.get("fault_fixed_cost")
    if fc and fc.get("total_ms") is not None:
        target("per-fault fixed cost (create + delete of 1 CIDR, no HTTP) <= 5 ms", "%.1f ms" % fc["total_ms"],
               fc["total_ms"] <= 5, "<= 5 ms")
        if fc.get("hook_kept") and fc["hook_kept"].get("total_ms") is not None:
            target("per-fault fixed cost beside another fault on the interface <= 5 ms", "%.1f ms" % fc["hook_kept"]["total_ms"],
                   fc["hook_kept"]["total_ms"] <= 5, "<= 5 ms")
    for d in derived.get("loop_stall", []):
        if d["during"] != "idle" and d["max_stall_ms"] is not None:
            target("longest loop stall during %s at %sx%s <= 10 ms" % (d["during"], d["faults"], d["cidrs"]),
                   "%.1f ms (probe; idle %s)" % (d["max_stall_ms"], fmt(next((x["max_stall_ms"] for x in derived["loop_stall"] if x["during"] == "idle"), None), 1)),
                   d["max_stall_ms"] <= 10, "<= 10 ms")
    if targets:
        table("Targets (issues 6 and 17)", ["target", "measured", "holds"], [[t["target"], t["measured"], "yes" if t["holds"] else "**NO**"] for t in targets])

    plots = write_plots(derived, a.out[:-5], meta)
    if plots:
        P("")
        P("### Charts")
        P("")
        for path, title in plots:
            P("![%s](%s)" % (title, os.path.basename(path)))

    result = {"meta": meta, "measurements": meas, "derived": derived, "targets": targets}
    with open(a.out, "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
        f.write("\n")
    hdr = "## netfaultd benchmarks: %s, commit %s%s, host kernel %s, guest kernel %s" % (
        meta.get("date", "?"), meta.get("commit", "?"), " (dirty)" if meta.get("commit_dirty") == "true" else "",
        meta.get("host_kernel", "?"), meta.get("guest_kernel", "?") or "-")
    print(hdr)
    print("\n".join(out_lines))
    with open(a.out[:-5] + ".md", "w") as f:
        f.write(hdr + "\n" + "\n".join(out_lines) + "\n")


if __name__ == "__main__":
    main()
