#!/bin/sh
# Capacity search (issue 19 item 14) against a rate limiter
# (tests/servers/misbehave.py /limit): N requests per second are answered
# at once, the rest get a fast 503.  The few answers are always fast, so
# only counting failed requests can find the limit:
#   - a step whose requests mostly fail is broken (it used to be "SLOs
#     held", and capacity came out as max_rate);
#   - when start_rate already breaks, the search halves down to min_rate,
#     then bisects (it used to report 0 after one step);
#   - when even min_rate breaks: "capacity below MIN/s", never a 0;
#   - a latency SLO of a plain run breaks when most requests failed.
# Every run is bounded by `timeout`; the limits are wide (the limiter counts
# by the server's whole seconds).
. tests/integration/lib.sh
T=$(test_tmpdir)
SRV=tests/servers/misbehave.py
export GIT_CONFIG_NOSYSTEM=1 HOME=$T PERFGATE_HOME=$T/home NO_COLOR=1

python3 "$SRV" "$T/port" &
SRV_PID=$!
trap 'kill $SRV_PID 2>/dev/null; rm -rf "$T"' EXIT
i=0
while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
U="http://127.0.0.1:$(cat "$T/port")"

# run NAME EXPECTED_EXIT URL_PATH LOAD_JSON [SLO_JSON]
run() {
	printf '{"suite": "capacity-it", "benchmarks": [{"name": "%s", "http": {"url": "%s%s"}, "load": %s, "slo": %s}]}\n' \
		"$1" "$U" "$3" "$4" "${5:-$P99}" >"$T/$1.json"
	expect_exit "$2" "$1: exit $2" timeout 120 "$PERFGATE" run --no-store --out "$T/$1.out.json" "$T/$1.json"
	cp "$ERR" "$T/$1.err"
	cp "$OUT" "$T/$1.stdout" 2>/dev/null || true
}
# py NAME FILE PYTHON: check with b (the benchmark), m (metric medians), steps
py() {
	_n=$1 _f=$2; shift 2
	if _o=$(python3 - "$_f" "$@" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
b = d["benchmarks"][0]
m = {x["name"]: x["samples"][len(x["samples"]) // 2] for x in b.get("metrics", []) if x.get("samples")}
steps = b.get("capacity_steps", [])
ok = eval(sys.argv[2])
if not ok:
    print("failed:", sys.argv[2], "metrics:", {k: v for k, v in m.items() if k in ("capacity", "error_rate")},
          "steps:", [(s["rate"], round(s["error_rate"], 2), s["slos_held"], s.get("why", "")[:60]) for s in steps],
          "error:", b.get("error"), "below:", b.get("capacity_below"))
    sys.exit(1)
PY
	); then ok "$_n"; else not_ok "$_n: $(echo "$_o" | tail -n 3)"; fi
}
P99='{"latency.p99": "< 300ms"}'
LOAD='"mode": "capacity", "step_duration": "2s", "precision": "25%", "connections": 4'

# 20 answers a second: steps above that fail most requests while the
# answers stay fast.  Capacity is found below 40/s, not at max_rate.  A
# step at 20/s itself may lose a request or two where the client's and the
# server's seconds do not line up: any step over the default max_failures
# (1%) must break, whatever its share.
run limit 0 "/limit?per_s=20&key=a" "{$LOAD, \"start_rate\": 10, \"max_rate\": 160}"
py "limit: capacity between 10 and 40/s, not max_rate" "$T/limit.out.json" "10 <= m['capacity'] < 40"
py "limit: the steps that failed requests broke, saying so" "$T/limit.out.json" \
	"all(not s['slos_held'] and 'went unanswered' in s['why'] for s in steps if s['error_rate'] > 0.01) and any(s['error_rate'] > 0.01 for s in steps)"

# start_rate breaks: the search goes down (40, 20, 10, 5...) and bisects.
run down 0 "/limit?per_s=5&key=b" "{$LOAD, \"start_rate\": 40, \"min_rate\": 1}"
py "down: the first step (40/s) broke" "$T/down.out.json" "steps[0]['rate'] == 40 and not steps[0]['slos_held']"
py "down: rates below start_rate tried, one held" "$T/down.out.json" "any(s['rate'] < 40 and s['slos_held'] for s in steps)"
py "down: capacity between 2 and 7/s" "$T/down.out.json" "2 <= m['capacity'] <= 7"

# Nothing holds down to min_rate: "below", not a capacity of 0.
run below 3 "/status?code=503" "{$LOAD, \"start_rate\": 8, \"min_rate\": 2}"
py "below: no capacity sample, capacity_below is min_rate" "$T/below.out.json" \
	"'capacity' not in m and b['extra']['capacity_below'] == 2 if 'extra' in b else b.get('capacity_below') == 2"
py "below: rates 8, 4, 2 tried" "$T/below.out.json" "[s['rate'] for s in steps] == [8, 4, 2]"
contains "below: the message says below MIN" "$T/below.err" "capacity below 2/s: no rate from start_rate 8/s down to min_rate 2/s held"

# max_failures: a limiter's 5% of failures pass when the suite allows 30%
# and no latency percentile is asked beyond what that leaves.
run tolerant 0 "/limit?per_s=20&key=c" "{$LOAD, \"start_rate\": 10, \"max_rate\": 20, \"max_failures\": \"30%\"}" \
	'{"latency.p50": "< 300ms"}'
py "tolerant: 20/s holds with max_failures 30%" "$T/tolerant.out.json" "m['capacity'] == 20"

# Judged as the gate judges them, a capacity search's SLOs are its
# criterion: they held at every step up to the capacity (the benchmark has
# no latency metric of its own to judge them on again).
expect_exit 0 "tolerant: its SLOs judged at capacity (exit 0)" timeout 60 "$PERFGATE" compare \
	--run-file "$T/tolerant.out.json" --baseline "file:$T/tolerant.out.json" --suite "$T/tolerant.json" --no-store
contains "tolerant: the SLO held up to the capacity" "$OUT" "latency.p50 < 300ms"
contains "tolerant: and says how it was judged" "$OUT" "held at every step up to the capacity (20/s)"

# A plain rate run: three requests of four fail; the answers are fast, but
# latency.p95 does not hold (a failed request is slower than any limit):
# the SLOs of the run judged as gate and compare judge them.
printf '{"suite": "capacity-it", "benchmarks": [{"name": "plain", "http": {"url": "%s/limit?per_s=5&key=d"}, "load": {"mode": "rate", "rate": 20, "duration": "2s"}, "slo": {"latency.p95": "< 300ms", "latency.p50": "< 300ms"}}]}\n' "$U" >"$T/plain.json"
expect_exit 0 "plain: ran" timeout 60 "$PERFGATE" run -q --no-store --out "$T/plain.out.json" "$T/plain.json"
py "plain: most requests failed, the answers were fast" "$T/plain.out.json" "m['error_rate'] > 0.5 and m['latency.p95'] < 0.3"
expect_exit 1 "plain: the latency SLOs break when most requests failed (exit 1)" timeout 60 "$PERFGATE" compare \
	--run-file "$T/plain.out.json" --baseline "file:$T/plain.out.json" --suite "$T/plain.json" --no-store
contains "plain: p95 says why" "$OUT" "VIOLATED plain latency.p95 < 300ms: too many failed requests ("
contains "plain: p50 too" "$OUT" "VIOLATED plain latency.p50 < 300ms: too many failed requests ("

# Bad capacity keys: every problem, exit 2, before running.
printf '{"suite": "c", "benchmarks": [{"name": "b", "http": {"url": "%s/ok"}, "load": {"mode": "capacity", "start_rate": 10, "min_rate": 20, "max_failures": "100%%"}, "slo": {"latency.p95": "< 1s"}}]}\n' "$U" >"$T/bad.json"
expect_exit 2 "bad capacity keys: exit 2" timeout 30 "$PERFGATE" run -q --no-store "$T/bad.json"
contains "bad: min_rate above start_rate" "$ERR" "benchmarks[0].load.min_rate: must be <= start_rate"
contains "bad: max_failures" "$ERR" "benchmarks[0].load.max_failures: expected a fraction in [0, 1)"

# The schema agrees.
python3 - "$T" <<'PY'
import json, os, sys, jsonschema
v = jsonschema.Draft202012Validator(json.load(open("schemas/suite.schema.json")))
for name, valid in [("down", 1), ("tolerant", 1), ("bad", 0)]:
    errs = list(v.iter_errors(json.load(open(os.path.join(sys.argv[1], name + ".json")))))
    print(("ok" if (not errs) == bool(valid) else "not ok") + " - schema %s %s%s" %
          ("accepts" if valid else "rejects", name, (": " + errs[0].message[:100]) if errs and valid else ""))
PY
