#!/bin/sh
# Every ```json example in docs/*.md and the README is valid JSON as pasted,
# and every one that is a suite is accepted by schemas/suite.schema.json and
# by perfgate itself (`run --list`: validated, nothing run) (issue 19 item
# 28: docs/history.md's change-point suite held `[ ... ]`, docs/ingest.md's
# benchmarks were a bare list).  JSON lines belong in ```jsonl blocks.
. tests/integration/lib.sh
T=$(test_tmpdir)
export PERFGATE_HOME=$T/home

python3 - "$T" docs/*.md README.md <<'PY'
import json, re, sys, jsonschema
out, paths = sys.argv[1], sys.argv[2:]
v = jsonschema.Draft202012Validator(json.load(open("schemas/suite.schema.json")))
n = 0
for path in paths:
    text = open(path).read()
    for i, block in enumerate(re.findall(r"```json\n(.*?)```", text, re.S)):
        where = "%s, json example %d (line %d)" % (path, i + 1, text[:text.index(block)].count("\n") + 1)
        try:
            d = json.loads(block)
        except ValueError as e:
            print("not ok - %s: not valid JSON as pasted: %s" % (where, e))
            continue
        print("ok - %s is JSON" % where)
        if isinstance(d, dict) and "benchmarks" in d and "run_id" not in d:
            errs = list(v.iter_errors(d))
            print(("ok - %s: the suite schema accepts it" % where) if not errs else
                  "not ok - %s: the suite schema rejects it: %s" % (where, errs[0].message[:120]))
            n += 1
            json.dump(d, open("%s/suite-%d.json" % (out, n), "w"))
print("ok - %d suite examples found" % n if n >= 5 else "not ok - only %d suite examples found" % n)
PY
for f in "$T"/suite-*.json; do
	[ -e "$f" ] || continue
	expect_exit 0 "perfgate accepts $(basename "$f")" timeout 30 "$PERFGATE" run --list "$f"
done

# `make demo` keeps its runs apart from the user's (DEMO_HOME) and says so
# when PERFGATE_HOME is set (issue 19 item 28: it was silently ignored).  A
# perfgate that fails at once stops the demo after its first lines.
PERFGATE=false PERFGATE_HOME="$T/mine" DEMO_HOME="$T/demo" sh examples/demo.sh >"$T/demo.out" 2>&1
contains "demo: says it does not use PERFGATE_HOME" "$T/demo.out" "not your PERFGATE_HOME ($T/mine); set DEMO_HOME to choose"
check "demo: its own home was used" test -d "$T/demo"
check "demo: the user's home was not touched" test ! -e "$T/mine"
