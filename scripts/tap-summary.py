#!/usr/bin/env python3
"""Counts every TAP result of every meson test (unit tests, the API script and each lab
scenario report many results each) and prints them, failures in full, then one closing line:
'N passed, M failed' (', K skipped' when any were skipped)."""
import json
import re
import sys

passed = failed = skipped = 0
failures = []
for line in open(sys.argv[1]):
    t = json.loads(line)
    out = t.get("stdout") or ""
    results = re.findall(r"^(not ok|ok)\b(.*)$", out, re.M)
    if not results:
        # A test that printed no TAP (crash, timeout): one failure unless meson says it passed.
        if t.get("result") in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif t.get("result") == "SKIP":
            skipped += 1
        else:
            failed += 1
            failures.append("%s: %s" % (t["name"], t.get("result")))
        continue
    for status, rest in results:
        if re.search(r"#\s*SKIP", rest, re.I):
            skipped += 1
        elif status == "ok":
            passed += 1
        else:
            failed += 1
            failures.append("%s: not ok%s" % (t["name"], rest))
    if t.get("result") not in ("OK", "SKIP", "EXPECTEDFAIL") and not any(s == "not ok" for s, _ in results):
        failed += 1
        failures.append("%s: %s (exit status)" % (t["name"], t.get("result")))
for f in failures:
    print("FAILED " + f)
line = "%d passed, %d failed" % (passed, failed)
if skipped:
    line += ", %d skipped" % skipped
print(line)
