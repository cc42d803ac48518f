#!/bin/sh
# Fault injection (issue 16): perfgate's proxy in front of a loopback
# service, one run per fault kind; each shows its effect during the fault,
# its end after it (the phases before/during/after, recovery measured), and
# the proxy's counters; then faults on a journey's dependency, a proxy port
# already taken (exit 3) and bad faults objects (exit 2, JSON paths).  No
# check rests on how fast a loaded machine answers: the injected delays give
# lower bounds during a fault, and the bounds before and after it are the
# injected effect itself (a request that took less than the fault adds
# cannot have gone through it), never a fraction of it: a tenth of a 300 ms
# slow close (30 ms on top of 30 ms) was exceeded by ordinary requests under
# a load of 10-12.  Every run is bounded by `timeout`.
. tests/integration/lib.sh
T=$(test_tmpdir)
SRV=tests/servers/journey_server.py
export GIT_CONFIG_NOSYSTEM=1 HOME=$T PERFGATE_HOME=$T/home NO_COLOR=1

python3 "$SRV" "$T/port" &
SRV_PID=$!
trap 'kill $SRV_PID ${HOLD_PID:-} 2>/dev/null; rm -rf "$T"' EXIT
i=0
while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
P=$(cat "$T/port")
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# fault NAME EXIT PATH FAULT_JSON [LOAD_EXTRA]: a 4 s window at 20 requests/s
# through a fresh proxy, the fault from 1 s for 1.5 s.  Recovery: a window
# back within 11x the pre-fault p95 (requests of about a millisecond on a
# shared, loaded machine jitter by several times from one window of 20 to
# the next; the injected effects are hundreds of milliseconds, still far
# above 11 ms).  A send counts as late only after 100 ms (VALIDITY): these
# runs test the faults, not the generator's timeliness (test_validity's);
# with the default 1 ms, on the shared 2-core machine under the other
# engineers' load, at least 10 of a latency run's 85 sends were over 1 ms
# late and the run was invalid (exit 3: "the load generator fell behind").
VALIDITY='"validity": {"late_after": "100ms"}'
fault() {
	_n=$1; _want=$2; _path=$3; _f=$4; _extra=${5:-}
	_pp=$(free_port)
	printf '{"suite": "faults-it", %s, "benchmarks": [{"name": "%s", "http": {"url": "http://127.0.0.1:%s%s"}, "load": {"mode": "rate", "rate": 20, "duration": "4s", "warmup": "250ms"%s}, "faults": {"proxy": {"listen": "127.0.0.1:%s", "upstream": "127.0.0.1:%s"}, "schedule": [%s], "recovery": {"latency_tolerance": "1000%%"}}}]}\n' \
		"$VALIDITY" "$_n" "$_pp" "$_path" "$_extra" "$_pp" "$P" "$_f" >"$T/$_n.json"
	expect_exit "$_want" "$_n: exit $_want" timeout 90 "$PERFGATE" run -q --no-store --out "$T/$_n.out.json" ${RUN_EXTRA:-} "$T/$_n.json"
	cp "$ERR" "$T/$_n.err"
}

# is NAME LABEL PYTHON_EXPR over benchmark b, metrics m, proxy counters px
is() {
	_r=$(python3 - "$T/$1.out.json" "$3" <<'PY' 2>&1
import json, sys
d = json.load(open(sys.argv[1]))
b = d["benchmarks"][0]
m = {x["name"]: x["samples"][0] for x in b["metrics"] if x["samples"]}
px = b["faults"][0]["proxies"][0] if b.get("faults") else {}
print(eval(sys.argv[2]))
PY
)
	if [ "$_r" = "True" ]; then ok "$1: $2"; else not_ok "$1: $2 (got: $_r)"; fi
}
WIN='{"kind": "%s", "at": "1s", "duration": "1.5s"%s}'
win() { printf "$WIN" "$1" "${2:-}"; }

# --- latency ---
fault latency 0 /ok "$(win latency ', "latency": "200ms"')"
is latency "during: every request 200 ms slower" "m['during.latency.p50'] >= 0.2 and m['during.error_rate'] == 0"
is latency "before and after: not" "m['before.latency.p50'] < 0.2 and m['after.latency.p50'] < 0.2"
is latency "recovery measured, nothing lost" "'recovery_time' in m and m['recovery_time'] < 1.5 and m['requests_lost'] == 0"
is latency "the phases hold the window's requests" "m['before.requests'] + m['during.requests'] + m['after.requests'] == 80"
is latency "the proxy delayed what it says it did" "px['faults'][0]['acted_on'] >= 30 and abs(px['faults'][0]['delay_total'] - 0.2 * px['faults'][0]['acted_on']) < 1e-6"
is latency "the proxy's overhead is reported, tracked, not gated" "0 < m['proxy.overhead.p50'] < 0.1 and [x for x in b['metrics'] if x['name'] == 'proxy.overhead.p50'][0].get('gate') is False"
is latency "the overall latency p99 carries the fault" "m['latency.p99'] >= 0.2"

# --- error responses, for a share of the requests ---
fault error 0 /ok "$(win error ', "status": 503, "share": "50%"')"
is error "during: about half answered 503 by the proxy" "0.15 < m['during.error_rate'] < 0.85 and m['errors.5xx'] > 0"
is error "before and after: no error" "m['before.error_rate'] == 0 and m['after.error_rate'] == 0"
is error "the lost requests are the 503s" "m['requests_lost'] == m['errors.5xx'] and m['recovery_time'] < 1.5"

# --- resets ---
fault reset 0 /ok "$(win reset)"
is reset "during: connections reset" "m['during.error_rate'] > 0.9 and m['errors.reset'] > 0"
is reset "after: none" "m['after.error_rate'] == 0 and m['before.error_rate'] == 0"

# --- blackhole: no answer; closed after 300 ms ---
fault blackhole 0 /ok "$(win blackhole ', "close_after": "300ms"')" ', "timeout": "2s"'
is blackhole "during: requests get no answer" "m['during.error_rate'] > 0.5 and m['errors.reset'] + m['errors.timeout'] > 0"
is blackhole "after: answered again" "m['after.error_rate'] == 0 and 'recovery_time' in m"

# --- bandwidth: 10,000-byte responses at 20 KB/s ---
fault bandwidth 0 '/bytes?n=10000' "$(win bandwidth ', "bandwidth": "20KB"')"
is bandwidth "during: a response takes at least (10,000 - 2,000 burst) / 20,000 s" "m['during.latency.p50'] >= 0.4"
is bandwidth "before and after: not held back" "m['before.latency.p50'] < 0.4 and m['after.latency.p50'] < 0.4"
is bandwidth "the proxy held bytes back" "px['faults'][0]['bytes_held'] > 0"

# --- slow close: a response delimited by the close ends 300 ms later ---
# Judged per request (--requests records, times from the step's start; the
# window opens after the 250 ms warmup, the fault from 1.25 s to 2.75 s).
# The proxy delays a close that it passes on while the fault is active, so:
# a request due in the fault's first 1.2 s ends 300 ms after it was due,
# either delayed or because its answer came after the fault (past 2.75 s);
# a request due after the fault cannot be delayed, and its server sends the
# answer and the close in one segment, so its body's first byte and the end
# of its connection arrive together.  Neither check rests on how fast the
# loaded machine lets the server answer (the after phase's latency p50 under
# 300 ms did: a thread per connection under a load of 10-20).
RUN_EXTRA="--requests $T/slow_close.jsonl"
fault slow_close 0 /close "$(win slow_close ', "delay": "300ms"')"
RUN_EXTRA=
is slow_close "during: each response ends with the delayed close" "m['during.latency.p50'] >= 0.3"
recs() { # LABEL PYTHON_EXPR over the measured records r (seconds from the window's start)
	_r=$(python3 - "$T/slow_close.jsonl" "$T/slow_close.out.json" "$2" <<'PY' 2>&1
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
r = [{k: (x[k] / 1e9 - 0.25 if k.startswith("t_") and x[k] is not None else x[k]) for k in x} for x in r if not x["warmup"]]
b = json.load(open(sys.argv[2]))["benchmarks"][0]
m = {x["name"]: x["samples"][0] for x in b["metrics"] if x["samples"]}
print(eval(sys.argv[3]))
PY
)
	if [ "$_r" = "True" ]; then ok "slow_close: $1"; else not_ok "slow_close: $1 (got: $_r)"; fi
}
recs "every request due in the fault's first 1.2 s ends 300 ms after it was due" \
	"(lambda d: len(d) >= 23 and min(x['t_end'] - x['t_sched'] for x in d) >= 0.3 or [(x['t_sched'], x['t_end']) for x in d])([x for x in r if 1 <= x['t_sched'] < 2.2 - 1e-9])"
recs "after: every response ends with its first byte (no delayed close)" \
	"(lambda a: len(a) == m['after.requests'] == 30 and max(x['t_end'] - x['t_first_byte'] for x in a) < 0.3 or [(x['t_sched'], x['t_first_byte'], x['t_end']) for x in a])([x for x in r if x['t_sched'] >= 2.5])"

# --- faults in front of a journey's dependency ---
PJ=$(free_port)
cat >"$T/jfault.json" <<EOF
{"suite": "faults-it", $VALIDITY, "benchmarks": [{"name": "jfault",
 "journey": {"steps": [
   {"name": "login", "http": {"url": "http://127.0.0.1:$P/login", "body": {"user": "u"}}, "capture": {"token": {"json": "\$.token"}}},
   {"name": "search", "http": {"url": "http://127.0.0.1:$PJ/search", "headers": {"Authorization": "Bearer {token}"}, "body": {"q": "x"}}}]},
 "load": {"mode": "rate", "rate": 20, "duration": "4s"},
 "faults": {"proxy": {"listen": "127.0.0.1:$PJ", "upstream": "127.0.0.1:$P"},
            "schedule": [{"kind": "error", "status": 500, "at": "1s", "duration": "1.5s"}],
            "recovery": {"latency_tolerance": "1000%"}}}]}
EOF
expect_exit 0 "jfault: exit 0" timeout 90 "$PERFGATE" run -q --no-store --out "$T/jfault.out.json" "$T/jfault.json"
is jfault "the phases are journeys': during, every journey fails at search" "m['during.error_rate'] == 1 and m['journey.failed[search]'] == m['errors.5xx[search]'] > 0"
is jfault "the step before the dependency never failed" "m['journey.failed[login]'] == 0 and m['error_rate[login]'] == 0"
is jfault "before and after the fault, journeys succeed" "(m['before.error_rate'], m['after.error_rate']) == (0, 0)"
is jfault "the recovery is measured on journeys; lost: the journeys started in the fault" "m['recovery_time'] < 1.5 and 0 < m['requests_lost'] <= m['journey.failed[search]'] and m['requests_lost'] == m['during.requests']"

# --- the proxy's port is taken: the run cannot run (exit 3) ---
python3 -c "
import socket, time, sys
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)
open(sys.argv[1], 'w').write(str(s.getsockname()[1])); time.sleep(120)" "$T/held" &
HOLD_PID=$!
i=0
while [ ! -s "$T/held" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
printf '{"suite": "faults-it", "benchmarks": [{"name": "busy", "http": {"url": "http://127.0.0.1:%s/ok"}, "load": {"rate": 5, "duration": "1s"}, "faults": {"proxy": {"listen": %s, "upstream": "127.0.0.1:%s"}, "schedule": [{"kind": "reset"}]}}]}\n' "$(cat "$T/held")" "$(cat "$T/held")" "$P" >"$T/busy.json"
expect_exit 3 "busy: a proxy port in use fails the run" timeout 30 "$PERFGATE" run -q --no-store "$T/busy.json"
contains "busy: says which and why" "$ERR" "cannot listen on 127.0.0.1:$(cat "$T/held")"
kill "$HOLD_PID" 2>/dev/null

# --- bad faults objects: every problem at its JSON path, exit 2 ---
bad() { # NAME LOAD FAULTS EXPECTED...
	_n=$1; _l=$2; _f=$3; shift 3
	printf '{"suite": "faults-bad", "benchmarks": [{"name": "%s", "http": {"url": "http://127.0.0.1:%s/ok"}, "load": %s, "faults": %s}]}\n' "$_n" "$P" "$_l" "$_f" >"$T/$_n.json"
	expect_exit 2 "$_n: exit 2" timeout 30 "$PERFGATE" run -q --no-store "$T/$_n.json"
	for _w in "$@"; do contains "$_n: $_w" "$ERR" "$_w"; done
}
PX='"proxy": {"listen": 9, "upstream": "127.0.0.1:9"}'
bad late '{"rate": 5, "duration": "10s"}' "{$PX, \"schedule\": [{\"kind\": \"reset\", \"at\": \"8s\", \"duration\": \"5s\"}, {\"kind\": \"reset\", \"at\": \"12s\"}]}" \
	'benchmarks[0].faults.schedule[0].duration: the fault would end at 13s, after the measured window (10s)' \
	'benchmarks[0].faults.schedule[1].at: 12s is not inside the measured window (10s)'
bad sweep '{"rates": [5, 10], "duration": "1s"}' "{$PX, \"schedule\": [{\"kind\": \"reset\"}]}" \
	'benchmarks[0].faults: needs one measured step: load mode rate, concurrency or ramp, not sweep'
bad requests '{"concurrency": 1, "requests": 10}' "{$PX, \"schedule\": [{\"kind\": \"reset\"}]}" \
	'benchmarks[0].faults: needs a measured window in time (load.duration), not load.requests'
bad kinds '{"rate": 5, "duration": "10s"}' "{$PX, \"shedule\": [], \"schedule\": [{\"kind\": \"latency\", \"latency\": \"1s\", \"status\": 3}, {\"kind\": \"bandwidth\"}, {\"kind\": \"error\", \"status\": 503, \"share\": 2}]}" \
	'benchmarks[0].faults.shedule: unknown key; did you mean "schedule"?' \
	'benchmarks[0].faults.schedule[0].status: not a key of a latency fault' \
	'benchmarks[0].faults.schedule[1].bandwidth: required for a bandwidth fault' \
	'benchmarks[0].faults.schedule[2].share: expected a fraction in (0, 1] or a percentage'
printf '{"suite": "faults-bad", "benchmarks": [{"name": "cmd", "shell": "true", "faults": {}}]}\n' >"$T/cmd.json"
expect_exit 2 "cmd: faults on a command benchmark are refused" timeout 30 "$PERFGATE" run -q --no-store "$T/cmd.json"
contains "cmd: says why" "$ERR" 'benchmarks[0].faults: only for "http" and "journey" benchmarks'

# --- schemas/suite.schema.json agrees on the suites above
python3 - "$T" <<'PY'
import json, os, sys, jsonschema
v = jsonschema.Draft202012Validator(json.load(open("schemas/suite.schema.json")))
for name, valid in [("latency", 1), ("error", 1), ("reset", 1), ("blackhole", 1), ("bandwidth", 1), ("slow_close", 1),
                    ("jfault", 1), ("busy", 1), ("kinds", 0), ("cmd", 0)]:
    errs = list(v.iter_errors(json.load(open(os.path.join(sys.argv[1], name + ".json")))))
    print(("ok" if (not errs) == bool(valid) else "not ok") + " - schema %s %s%s" %
          ("accepts" if valid else "rejects", name, (": " + errs[0].message[:100]) if errs and valid else ""))
PY
