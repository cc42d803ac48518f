#!/bin/sh
# Journey benchmarks (issue 16) against a loopback service that accepts a
# step only with the values an earlier step's answer carried
# (tests/servers/journey_server.py counts what it checked): values pass
# between steps, per-step and per-journey metrics, missing captures fail
# the journey with their own class at their step, when/repeat/until,
# closed-loop users, ramp, spike, sweep and capacity search over journeys,
# SLOs per step and per journey, a dependency that dies
# mid-run is contained, and bad journey objects are refused with their
# JSON paths.  Every perfgate run is bounded by `timeout`.
. tests/integration/lib.sh
T=$(test_tmpdir)
SRV=tests/servers/journey_server.py
export GIT_CONFIG_NOSYSTEM=1 HOME=$T PERFGATE_HOME=$T/home NO_COLOR=1

start_server() { # PORTFILE: starts one, sets SRV_PID
	python3 "$SRV" "$1" &
	SRV_PID=$!
	i=0
	while [ ! -s "$1" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
}
start_server "$T/port"
MAIN_PID=$SRV_PID
trap 'kill $MAIN_PID ${DEP_PID:-} 2>/dev/null; rm -rf "$T"' EXIT
P=$(cat "$T/port")
U="http://127.0.0.1:$P"

# run NAME EXPECTED_EXIT BENCH_JSON [perfgate verb and options]
run() {
	_n=$1; _want=$2; _b=$3
	printf '{"suite": "journey-it", "benchmarks": [{"name": "%s", %s}]}\n' "$_n" "$_b" >"$T/$_n.json"
	expect_exit "$_want" "$_n: exit $_want" timeout 90 "$PERFGATE" run -q --no-store --out "$T/$_n.out.json" "$T/$_n.json"
	cp "$ERR" "$T/$_n.err"
}

# is NAME LABEL PYTHON_EXPR over the run document's benchmark b, metrics m
is() {
	_r=$(python3 - "$T/$1.out.json" "$3" <<'PY' 2>&1
import json, sys
d = json.load(open(sys.argv[1]))
b = d["benchmarks"][0]
m = {x["name"]: x["samples"][0] for x in b["metrics"] if x["samples"]}
print(eval(sys.argv[2]))
PY
)
	if [ "$_r" = "True" ]; then ok "$1: $2"; else not_ok "$1: $2 (got: $_r)"; fi
}

stats() { curl -s "$U/stats"; }
stat() { stats | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

LOGIN="{\"name\": \"login\", \"http\": {\"url\": \"$U/login\", \"body\": {\"user\": \"u{journey}\"}}, \"capture\": {\"token\": {\"json\": \"\$.token\"}, \"session\": {\"header\": \"X-Session\"}}}"
SEARCH="{\"name\": \"search\", \"http\": {\"url\": \"$U/search\", \"headers\": {\"Authorization\": \"Bearer {token}\"}, \"body\": {\"q\": \"{q}\"}}, \"capture\": {\"doc\": {\"json\": \"\$.hits[0].id\"}}}"
FETCH="{\"name\": \"fetch\", \"http\": {\"url\": \"$U/doc/{doc}?session={session}\", \"checks\": [{\"json\": \"\$.ok\", \"equals\": true}]}}"
printf '{"q": "alpha"}\n{"q": "beta"}\n{"q": "gamma beta"}\n' >"$T/questions.jsonl"

# --- three steps, values passed on, the server checks them ---
before=$(stat docs_ok)
run three 0 "\"journey\": {\"dataset\": \"questions.jsonl\", \"steps\": [$LOGIN, $SEARCH, $FETCH]}, \"load\": {\"mode\": \"rate\", \"rate\": 40, \"duration\": \"2s\", \"warmup\": \"250ms\"}"
after=$(stat docs_ok)
rej=$(stat rejected)
is three "80 measured journeys, every one succeeded" "m['journey.offered_rate'] == 40 and m['journey.error_rate'] == 0"
is three "each step sent once per journey" "m['requests[login]'] == m['requests[search]'] == m['requests[fetch]'] == 80"
if [ $((after - before)) -ge 80 ] && [ "$rej" = 0 ]; then ok "three: the server accepted every fetch ($((after - before))) and rejected none"; else not_ok "three: server accepted $((after - before)), rejected $rej"; fi
is three "per-step and journey metrics" "all(k in m for k in ['latency.p95[login]', 'latency.p95[search]', 'ttfb.p50[fetch]', 'journey.latency.p95', 'journey.throughput', 'journey.lateness.p99', 'errors.capture[search]', 'journey.failed[fetch]'])"
is three "a journey lasts at least its three steps" "m['journey.latency.p50'] >= m['latency.p50[login]'] and m['journey.latency.max'] >= m['latency.max[fetch]']"
q=$(stats | python3 -c "import json,sys; q=json.load(sys.stdin)['queries']; print(sorted(q) == ['alpha', 'beta', 'gamma beta'] and max(q.values()) - min(q.values()) <= 1)")
if [ "$q" = True ]; then ok "three: journeys took the dataset's rows in turn"; else not_ok "three: queries seen: $(stats)"; fi
is three "journeys counted once: 3 requests each" "m['journey.requests'] == 3"

# --- a value that is not there: its own class, at its step; later steps not sent ---
NOCAP="{\"name\": \"search\", \"http\": {\"url\": \"$U/search\", \"headers\": {\"Authorization\": \"Bearer {token}\"}, \"body\": {\"q\": \"x\"}}, \"capture\": {\"doc\": {\"json\": \"\$.hits[0].nothing\"}}}"
run nocap 3 "\"journey\": {\"steps\": [$LOGIN, $NOCAP, $FETCH]}, \"load\": {\"concurrency\": 2, \"duration\": \"1s\"}"
is nocap "every journey failed at search with class capture" "m['journey.error_rate'] == 1 and m['errors.capture[search]'] == m['journey.failed[search]'] > 0 and m['journey.failed[login]'] == 0"
is nocap "the next step was never sent" "m['requests[fetch]'] == 0 and m['error_rate[search]'] == 1"
contains "nocap: the failure names the step, the class and the path" "$T/nocap.err" 'all'
contains "nocap: ... the step" "$T/nocap.err" 'at search: capture'
contains "nocap: ... the missing value" "$T/nocap.err" 'no $.hits[0].nothing in the response'

# --- a wrong value: the server refuses, the step's class says so ---
BADTOK="{\"name\": \"search\", \"http\": {\"url\": \"$U/search\", \"headers\": {\"Authorization\": \"Bearer x{token}\"}, \"body\": {\"q\": \"x\"}}}"
run badtok 3 "\"journey\": {\"steps\": [$LOGIN, $BADTOK]}, \"load\": {\"concurrency\": 1, \"duration\": \"1s\"}"
is badtok "a token not passed on as issued is refused (4xx at search)" "m['errors.4xx[search]'] > 0 and m['errors.4xx[search]'] == m['journey.failed[search]']"

# --- when, repeat, until ---
WHEN_SKIP="{\"name\": \"fetch\", \"when\": {\"var\": \"doc\", \"exists\": true}, \"http\": {\"url\": \"$U/doc/{doc}?session={session}\"}}"
OPT="{\"name\": \"search\", \"http\": {\"url\": \"$U/search\", \"headers\": {\"Authorization\": \"Bearer {token}\"}, \"body\": {\"q\": \"x\"}}, \"capture\": {\"doc\": {\"json\": \"\$.nope\", \"optional\": true}}}"
run when 0 "\"journey\": {\"steps\": [$LOGIN, $OPT, $WHEN_SKIP]}, \"load\": {\"concurrency\": 1, \"duration\": \"1s\"}"
is when "an optional capture that found nothing skips the conditional step" "m['skipped[fetch]'] > 0 and m['requests[fetch]'] == 0 and m['journey.error_rate'] == 0"
REP="{\"name\": \"fetch\", \"http\": {\"url\": \"$U/doc/{doc}?session={session}&n={iteration}\"}, \"repeat\": 3}"
run repeat 0 "\"journey\": {\"dataset\": \"questions.jsonl\", \"steps\": [$LOGIN, $SEARCH, $REP]}, \"load\": {\"concurrency\": 1, \"duration\": \"1s\"}"
is repeat "a repeated step runs three times per journey" "m['requests[fetch]'] == 3 * m['requests[search]'] and m['journey.error_rate'] == 0"
UNTIL="{\"name\": \"poll\", \"http\": {\"url\": \"$U/ok\"}, \"capture\": {\"state\": {\"json\": \"\$.ok\"}}, \"repeat\": {\"until\": {\"var\": \"state\", \"equals\": false}, \"max\": 2}}"
run until 3 "\"journey\": {\"steps\": [$UNTIL]}, \"load\": {\"concurrency\": 1, \"duration\": \"1s\"}"
is until "until never met: the journey fails at its step with class until after max runs" "m['errors.until[poll]'] == m['journey.failed[poll]'] > 0 and m['requests[poll]'] == 2 * m['journey.failed[poll]']"

# --- think times count in the journey's duration, not its latency ---
# (a second of thinking: the bounds below are the think time itself, which
# two loopback requests stay far under even on a loaded machine)
THINK="{\"name\": \"ok2\", \"http\": {\"url\": \"$U/ok\"}, \"think\": \"1s\"}"
run think 0 "\"journey\": {\"steps\": [{\"name\": \"ok1\", \"http\": {\"url\": \"$U/ok\"}}, $THINK]}, \"load\": {\"mode\": \"rate\", \"rate\": 10, \"duration\": \"1s\"}"
is think "journey latency leaves the 1 s think time out" "m['journey.latency.p50'] < 1 and m['journey.latency.p50'] >= m['latency.p50[ok1]']"
is think "open loop: the second step is due 1 s after the first ended (its lateness is small)" "m['lateness.p50[ok2]'] < 1"

# --- SLOs per step and per journey (perfgate gate) ---
mkdir -p "$T/repo"
git init -q -b main "$T/repo"
printf '{"suite": "journey-slo", "benchmarks": [{"name": "j", "journey": {"dataset": "q.jsonl", "steps": [%s, %s]}, "load": {"concurrency": 1, "duration": "1s"}, "slo": {"latency.p95[search]": "< 30s", "journey.error_rate": "< 1%%"%s}}]}\n' "$LOGIN" "$SEARCH" "" >"$T/repo/good.json"
sed 's/"journey.error_rate": "< 1%"/"journey.error_rate": "< 1%", "journey.latency.p50": "< 1ns"/' "$T/repo/good.json" >"$T/repo/bad.json"
printf '{"q": "x"}\n' >"$T/repo/q.jsonl"
( cd "$T/repo" && git add . && git -c user.name=t -c user.email=t@e commit -qm s )
expect_exit 0 "slo: per-step and journey SLOs that hold pass the gate" timeout 90 "$PERFGATE" gate --no-store "$T/repo/good.json"
expect_exit 1 "slo: a journey SLO that breaks fails the gate" timeout 90 "$PERFGATE" gate --no-store "$T/repo/bad.json"
contains "slo: the broken SLO is named" "$OUT" "journey.latency.p50"

# --- closed-loop users ---
run users 0 "\"journey\": {\"dataset\": \"questions.jsonl\", \"steps\": [$LOGIN, $SEARCH]}, \"load\": {\"mode\": \"concurrency\", \"concurrency\": 3, \"duration\": \"1s\"}"
is users "closed-loop users run journeys back to back, no journey lateness" "m['journey.throughput'] > 0 and 'journey.lateness.p99' not in m and m['journey.error_rate'] == 0"

# --- the other load models start journeys: ramp, spike, sweep, capacity ---
# (counts and structure only: the rates are journeys per second, every
# figure of a step's record is the journeys', not the steps' requests)
run ramp 0 "\"journey\": {\"dataset\": \"questions.jsonl\", \"steps\": [$LOGIN, $SEARCH]}, \"load\": {\"mode\": \"ramp\", \"stages\": [{\"duration\": \"1s\", \"rate\": 10}, {\"duration\": \"1s\", \"rate\": 40}]}"
is ramp "journeys ran, every one through both steps" "m['journey.error_rate'] == 0 and m['requests[login]'] == m['requests[search]'] > 0 and m['journey.requests'] == 2"
is ramp "journey metrics present" "all(k in m for k in ['journey.latency.p95', 'journey.lateness.p99', 'journey.throughput', 'latency.p95[search]'])"
is ramp "the requests sent per second rose (10 then 50 due)" "b['timeseries'][0]['sent'][1] > 2 * b['timeseries'][0]['sent'][0] > 0"
is ramp "the journeys started per second rose (5 then 25 due), each counted once" "b['timeseries'][0]['journeys'][1] > 2 * b['timeseries'][0]['journeys'][0] > 0 and sum(b['timeseries'][0]['journeys']) == m['requests[login]'] and len(b['timeseries'][0]['journey_throughput']) == len(b['timeseries'][0]['sent'])"
run uramp 0 "\"journey\": {\"dataset\": \"questions.jsonl\", \"steps\": [$LOGIN, $SEARCH]}, \"load\": {\"mode\": \"ramp\", \"stages\": [{\"duration\": \"1s\", \"concurrency\": 1}, {\"duration\": \"1s\", \"concurrency\": 4}]}"
is uramp "closed-loop users ramped from 1 to 4: more journeys in flight in the second second" "m['journey.error_rate'] == 0 and m['journey.throughput'] > 0 and 'journey.lateness.p99' not in m and b['timeseries'][0]['inflight'][1] > b['timeseries'][0]['inflight'][0] >= 1"
run spike 0 "\"journey\": {\"dataset\": \"questions.jsonl\", \"steps\": [$LOGIN, $SEARCH]}, \"load\": {\"mode\": \"spike\", \"rate\": 10, \"spike\": {\"factor\": 4, \"at\": \"250ms\", \"duration\": \"500ms\"}, \"duration\": \"2s\"}"
is spike "journeys ran through the spike, recovery measured" "m['journey.error_rate'] == 0 and m['requests[login]'] == m['requests[search]'] > 0 and 'recovery_time' in m and 'journey.latency.p95' in m"
is spike "more journeys in the spike's second than in the next" "b['timeseries'][0]['sent'][0] > b['timeseries'][0]['sent'][1] > 0"
run sweep 0 "\"journey\": {\"dataset\": \"questions.jsonl\", \"steps\": [$LOGIN, $SEARCH]}, \"load\": {\"mode\": \"sweep\", \"rates\": [10, 30], \"duration\": \"1s\"}"
is sweep "per-rate journey and step metrics" "all(k + '@%d/s' % r in m for r in (10, 30) for k in ['journey.latency.p95', 'journey.error_rate', 'journey.throughput', 'latency.p95[search]', 'requests[login]'])"
is sweep "one record per rate, with the journeys' figures" "[x['rate'] for x in b['sweep']] == [10, 30] and all(x['throughput'] == m['journey.throughput@%g/s' % x['rate']] and x['requests'] == 2 * m['requests[login]@%g/s' % x['rate']] and x['error_rate'] == 0 for x in b['sweep'])"
CAPSLO='"slo": {"journey.latency.p95": "< 10s", "journey.error_rate": "< 1%"}'
run capacity 0 "\"journey\": {\"dataset\": \"questions.jsonl\", \"steps\": [$LOGIN, $SEARCH]}, \"load\": {\"mode\": \"capacity\", \"start_rate\": 10, \"max_rate\": 40, \"step_duration\": \"1s\", \"precision\": 0.5}, $CAPSLO"
is capacity "a capacity in journeys/s: the highest step that held" "m['capacity'] == max(x['rate'] for x in b['capacity_steps'] if x['slos_held'])"
is capacity "capacity_steps carry the journeys' figures" "len(b['capacity_steps']) >= 2 and all(x['requests'] > 0 and x['error_rate'] == 0 and x['throughput'] <= 1.5 * x['rate'] for x in b['capacity_steps'])"
# journeys that fail at a capture (their requests all answered) do not hold
run capfail 3 "\"journey\": {\"steps\": [$LOGIN, $NOCAP]}, \"load\": {\"mode\": \"capacity\", \"start_rate\": 10, \"min_rate\": 5, \"step_duration\": \"1s\"}, \"slo\": {\"latency.p95[login]\": \"< 10s\"}"
is capfail "no rate held: the journeys did not complete" "'capacity' not in m and b['capacity_below'] == 5 and all(not x['slos_held'] and 'journeys did not complete' in x['why'] for x in b['capacity_steps'])"
contains "capfail: says so" "$T/capfail.err" "capacity below 5/s"

# --- a dependency that dies mid-run is contained ---
# It dies once it has answered ten journeys (counted by the server, not
# timed: a loaded machine can take seconds to start perfgate), well before
# the 60 journeys of the run have been sent.
start_server "$T/dep.port"
DEP_PID=$SRV_PID
D="http://127.0.0.1:$(cat "$T/dep.port")"
(
	i=0
	while [ $i -lt 1200 ]; do
		n=$(curl -s "$D/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["logins"])' 2>/dev/null)
		[ "${n:-0}" -ge 10 ] && break
		sleep 0.05
		i=$((i + 1))
	done
	kill "$DEP_PID"
) &
DEP="{\"name\": \"dep\", \"http\": {\"url\": \"$D/login\", \"body\": {\"user\": \"u\"}}}"
run dies 0 "\"journey\": {\"steps\": [{\"name\": \"first\", \"http\": {\"url\": \"$U/ok\"}}, $DEP]}, \"load\": {\"mode\": \"rate\", \"rate\": 20, \"duration\": \"3s\", \"timeout\": \"1s\"}"
is dies "journeys before the death succeeded, after it failed at the dead step" "0 < m['journey.error_rate'] < 1 and m['journey.failed[dep]'] > 0 and m['journey.failed[first]'] == 0"
is dies "the failures are classified (refused or reset), none unexplained" "m['errors.refused[dep]'] + m['errors.reset[dep]'] + m['errors.timeout[dep]'] == m['journey.failed[dep]']"
is dies "the healthy step stayed healthy" "m['error_rate[first]'] == 0"

# --- bad journey objects: every problem with its JSON path, exit 2 ---
printf '{"suite": "bad", "benchmarks": [{"name": "b", "journey": {"steps": [{"name": "a", "http": {"url": "%s/x/{nope}"}, "capture": {"v": {"regex": "("}}}, {"name": "a", "htp": {}}], "datset": "q"}, "faults": {"proxy": {"listen": 1}, "schedule": [{"kind": "error"}]}}]}\n' "$U" >"$T/bad.json"
expect_exit 2 "bad: refused with exit 2" timeout 30 "$PERFGATE" run -q --no-store "$T/bad.json"
for want in 'benchmarks[0].journey.datset: unknown key; did you mean "dataset"?' \
	'benchmarks[0].journey.steps[0].http.url: {nope} is not a variable here' \
	'benchmarks[0].journey.steps[0].capture.v.regex: not a POSIX extended regular expression' \
	'benchmarks[0].journey.steps[1].name: "a" is the name of steps[0] too' \
	'benchmarks[0].journey.steps[1].htp: unknown key; did you mean "http"?' \
	'benchmarks[0].faults.proxy.upstream: required' \
	'benchmarks[0].faults.schedule[0].status: expected an HTTP status'; do
	contains "bad: $want" "$ERR" "$want"
done
printf '{"suite": "bad2", "benchmarks": [{"name": "b", "journey": {"steps": [{"name": "a", "http": {"url": "%s/ok"}}]}, "http": {"url": "%s/ok"}}]}\n' "$U" "$U" >"$T/bad2.json"
expect_exit 2 "bad2: http and journey together are refused" timeout 30 "$PERFGATE" run -q --no-store "$T/bad2.json"
contains "bad2: says why" "$ERR" '"http" and "journey" exclude each other'

# --- schemas/suite.schema.json agrees: every suite above that ran is valid, the bad ones are not
python3 - "$T" <<'PY'
import json, os, sys, jsonschema
v = jsonschema.Draft202012Validator(json.load(open("schemas/suite.schema.json")))
for name in ["three", "nocap", "badtok", "when", "repeat", "until", "think", "users", "ramp", "uramp", "spike", "sweep", "capacity",
             "capfail", "dies", "bad", "bad2"]:
    errs = list(v.iter_errors(json.load(open(os.path.join(sys.argv[1], name + ".json")))))
    want_errs = name in ("bad", "bad2")
    print(("ok" if bool(errs) == want_errs else "not ok") + " - schema %s %s%s" %
          ("rejects" if want_errs else "accepts", name, (": " + errs[0].message[:100]) if errs and not want_errs else ""))
PY
