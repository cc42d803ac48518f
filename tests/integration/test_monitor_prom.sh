#!/bin/sh
# Server metrics scraped during load (monitor.prometheus): a real load run
# against the loopback exporter tests/servers/prom_exporter.py, whose values
# follow its own scrape count, so every stored value can be worked out; a
# target that misbehaves is a warning and a missing metric, never a failed
# or hung run; a bad "prometheus" member is exit 2 at its JSON path; and
# `perfgate gate` gates on a server metric (pass, and fail with exit 1).
. tests/integration/lib.sh
T=$(test_tmpdir)
DB=$(new_db monprom)
export GIT_CONFIG_NOSYSTEM=1 HOME=$T PERFGATE_HOME=$T/home NO_COLOR=1

python3 tests/servers/prom_exporter.py "$T/port" &
SRV_PID=$!
trap 'kill $SRV_PID 2>/dev/null' EXIT
i=0
while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
PORT=$(cat "$T/port")
U="http://127.0.0.1:$PORT"
LOAD='"http": {"url": "'$U'/ok"}, "load": {"mode": "concurrency", "concurrency": 2, "duration": "1500ms"}'
DEMO='"name": "demo", "interval": "100ms", "metrics": {"g": "demo_gauge", "req": "demo_requests", "lat": "demo_latency_seconds", "rpc": "demo_rpc_seconds"}'

# run NAME EXPECTED_EXIT BENCH_JSON: one benchmark NAME; the run document
# is left in $T/NAME.out.json.
run() {
	_n=$1; _want=$2; _b=$3
	printf '{"suite": "monprom", "benchmarks": [{"name": "%s", %s}]}\n' "$_n" "$_b" >"$T/$_n.json"
	expect_exit "$_want" "$_n: exit $_want" timeout 60 "$PERFGATE" run -q --no-store --out "$T/$_n.out.json" "$T/$_n.json"
	cp "$ERR" "$T/$_n.err"
}

# is NAME LABEL PYTHON_EXPR: over the run document's benchmark `b`, its
# metrics' first samples `m`, its target record `t` and warnings `w`.
is() {
	_r=$(python3 - "$T/$1.out.json" "$3" <<'PY' 2>&1
import json, sys
d = json.load(open(sys.argv[1]))
b = d["benchmarks"][0]
m = {x["name"]: x["samples"][0] for x in b["metrics"] if x["samples"]}
t = (b.get("prometheus") or {"targets": [{}]})["targets"][0]
w = " | ".join(b.get("warnings", []))
print(eval(sys.argv[2]))
PY
)
	if [ "$_r" = "True" ]; then ok "$1: $2"; else not_ok "$1: $2 (got: $_r)"; fi
}

# --- values worked out from the exporter's scrape count k ---
run values 0 "$LOAD, \"monitor\": {\"system\": false, \"gpu\": false, \"prometheus\": {\"url\": \"$U/metrics?t=values\", $DEMO}}"
is values "the load ran" "m['throughput'] > 0"
is values "scraped at 100 ms through 1.5 s, none failed" "t['scrapes'] >= 5 and t['failed'] == 0 and t['bad_lines'] == 0"
is values "the gauge's max is the scrape count" "m['server.demo.g.max'] == t['scrapes']"
K=$(curl -s "$U/count?path=/metrics%3Ft%3Dvalues")
is values "and the exporter agrees it was scraped that often" "t['scrapes'] == $K"
is values "counter increase over resets: 11 per scrape" "m['server.demo.req.increase'] == 11 * (t['scrapes'] - 1)"
is values "histogram quantiles from the window's buckets" "m['server.demo.lat.p50'] == 0.5 and m['server.demo.lat.p90'] == 1.0"
is values "histogram mean" "abs(m['server.demo.lat.mean'] - 0.775) < 1e-9"
is values "summary quantiles and mean" "m['server.demo.rpc.p99'] == 0.9 and abs(m['server.demo.rpc.mean'] - 0.5) < 1e-9"
is values "the series found are recorded" "t['found'] == {'g': 'demo_gauge', 'req': 'demo_requests', 'lat': 'demo_latency_seconds', 'rpc': 'demo_rpc_seconds'} and t['missing'] == []"
is values "the per-scrape series" "len(b['server_metrics']['demo']['t']) == t['scrapes'] and b['server_metrics']['demo']['g'][-1] == t['scrapes']"
is values "no warning" "w == ''"

# --- a sweep: every step scraped, its metrics NAME@RATE/s ---
run sweep 0 "\"http\": {\"url\": \"$U/ok\"}, \"load\": {\"mode\": \"sweep\", \"rates\": [20, 40], \"duration\": \"1s\"}, \"monitor\": {\"system\": false, \"gpu\": false, \"prometheus\": {\"url\": \"$U/metrics?t=sweep\", $DEMO}}"
is sweep "each step has the server's metrics" "all(k in m for k in ('server.demo.g.max@20/s', 'server.demo.g.max@40/s', 'server.demo.req.increase@40/s', 'server.demo.lat.p50@20/s'))"
is sweep "the gauge (the scrape count) rose step by step; the last step's max is every scrape" "m['server.demo.g.max@20/s'] < m['server.demo.g.mean@40/s'] < m['server.demo.g.max@40/s'] == t['scrapes']"
is sweep "counter increase over resets, step by step (11 per scrape)" "m['server.demo.req.increase@20/s'] + m['server.demo.req.increase@40/s'] == 11 * (t['scrapes'] - 2)"
is sweep "no unsuffixed server metric, the per-scrape series laid end to end" "not any(k.startswith('server.') and '@' not in k for k in m) and len(b['server_metrics']['demo']['t']) == t['scrapes']"

# --- a capacity search: every step scraped, its figures in its record, the
# highest step that held gives the plain names ---
run cap 0 "\"http\": {\"url\": \"$U/ok\"}, \"load\": {\"mode\": \"capacity\", \"start_rate\": 10, \"max_rate\": 20, \"step_duration\": \"1s\", \"connections\": 2}, \"slo\": {\"latency.p99\": \"< 5s\"}, \"monitor\": {\"system\": false, \"gpu\": false, \"prometheus\": {\"url\": \"$U/metrics?t=cap\", $DEMO}}"
is cap "two steps, both held, capacity is max_rate" "len(b['capacity_steps']) == 2 and all(s['slos_held'] for s in b['capacity_steps']) and m['capacity'] == 20"
is cap "each step's record has the server's metrics" "all('server.demo.g.max' in s['monitor'] and 'server.demo.req.increase' in s['monitor'] for s in b['capacity_steps'])"
is cap "the gauge rose from step to step; the last step's max is every scrape" "b['capacity_steps'][0]['monitor']['server.demo.g.max'] < b['capacity_steps'][1]['monitor']['server.demo.g.max'] == t['scrapes']"
is cap "counter increase over resets, step by step (11 per scrape)" "sum(s['monitor']['server.demo.req.increase'] for s in b['capacity_steps']) == 11 * (t['scrapes'] - 2)"
is cap "the plain names are the held step's, one sample" "m['server.demo.g.max'] == b['capacity_steps'][1]['monitor']['server.demo.g.max'] and len([x for x in b['metrics'] if x['name'] == 'server.demo.g.max'][0]['samples']) == 1"
is cap "no NAME@RATE/s for capacity steps" "not any('@' in k for k in m)"

# --- a misbehaving target: a warning and the metric missing, the run valid ---
run slow 0 "$LOAD, \"monitor\": {\"system\": false, \"gpu\": false, \"prometheus\": {\"url\": \"$U/metrics?mode=slow&ms=5000\", \"timeout\": \"300ms\", $DEMO}}"
is slow "the load still ran" "m['throughput'] > 0 and b.get('status', 'ok') == 'ok'"
is slow "the server metrics are missing" "not any(k.startswith('server.') for k in m)"
is slow "a warning says why" "'no scrape succeeded' in w and 'no complete answer within 0.3s' in w"
run garbage 0 "$LOAD, \"monitor\": {\"system\": false, \"gpu\": false, \"prometheus\": {\"url\": \"$U/metrics?mode=malformed\", $DEMO}}"
is garbage "malformed lines skipped, the rest read" "'server.demo.g.max' in m and t['bad_lines'] > 0 and 'malformed lines were skipped' in w"
run refused 0 "$LOAD, \"monitor\": {\"system\": false, \"gpu\": false, \"prometheus\": {\"url\": \"http://127.0.0.1:1/metrics\", $DEMO}}"
is refused "a target nobody serves: a warning" "'no scrape succeeded' in w and m['throughput'] > 0"

# --- a bearer token reaches the server and nothing else ---
PERFGATE_IT_TOKEN=sekrit-prom run token 0 "$LOAD, \"monitor\": {\"system\": false, \"gpu\": false, \"prometheus\": {\"url\": \"$U/metrics?mode=auth\", \"token_env\": \"PERFGATE_IT_TOKEN\", $DEMO}}"
is token "authorised scrapes" "t['failed'] == 0 and 'server.demo.g.max' in m"
lacks "the token is not in the run document" "$T/token.out.json" "sekrit"
lacks "nor in the output" "$T/token.err" "sekrit"
# as with http.auth_env: the benchmark cannot run (exit 2), the variable named
run notoken 2 "$LOAD, \"monitor\": {\"prometheus\": {\"url\": \"$U/metrics?mode=auth\", \"token_env\": \"PERFGATE_IT_NO_SUCH_TOKEN\", $DEMO}}"
contains "an unset token variable is named" "$T/notoken.err" "token_env: the environment variable 'PERFGATE_IT_NO_SUCH_TOKEN' is not set"

# --- a bad member: exit 2 at its JSON path ---
run badcfg 2 "$LOAD, \"monitor\": {\"prometheus\": {\"url\": \"$U/metrics\", \"preset\": \"vllmm\"}}"
contains "the JSON path of the mistake" "$T/badcfg.err" "monitor.prometheus.preset: expected one of \"vllm\", \"sglang\", \"tgi\", \"triton\""

# --- the gate on a server metric ---
R=$T/repo
git_repo "$R" || exit 1
suite() { # FILE SLO_EXPR
	printf '{"suite": "monprom-gate", "project": "monprom", "benchmarks": [{"name": "srv", %s, "monitor": {"system": false, "gpu": false, "prometheus": {"url": "%s/metrics?t=%s", %s}}, "slo": {"server.demo.g.max": "%s"}}]}\n' \
		"$LOAD" "$U" "$1" "$DEMO" "$2" >"$R/$1.json"
}
suite pass "< 1000"
suite fail "< 2"
git -C "$R" add -A && git -C "$R" commit -qm suites
expect_exit 0 "gate passes on server.demo.g.max < 1000" "$PERFGATE" gate --db "$DB" --quiet "$R/pass.json"
expect_exit 1 "gate fails on server.demo.g.max < 2" "$PERFGATE" gate --db "$DB" --quiet "$R/fail.json"
contains "and says which server metric broke its SLO" "$OUT" "server.demo.g.max"

# --- the example streaming server's own /metrics, read by the vllm preset,
# gated on: 4 streams at once against a server that decodes 2 at a time
python3 examples/servers/completions_server.py --port 0 --port-file "$T/cs.port" --max-running 2 \
	--token-ms 20 --lifetime 120 >"$T/cs.log" 2>&1 &
CS_PID=$!
trap 'kill $SRV_PID $CS_PID 2>/dev/null' EXIT
i=0
while [ ! -s "$T/cs.port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
CS="http://127.0.0.1:$(cat "$T/cs.port")"
CHAT='"http": {"url": "'$CS'/v1/completions", "method": "POST", "body": {"prompt": "the gate compares the new build with the old one and fails the change", "max_tokens": 16, "stream": true}, "stream": "sse"}, "load": {"mode": "concurrency", "concurrency": 4, "duration": "2s"}, "monitor": {"system": false, "gpu": false, "prometheus": {"url": "'$CS'/metrics", "preset": "vllm", "interval": "100ms"}}'
run example 0 "$CHAT"
is example "the vllm preset found the example server's metrics" "t['found']['kv_cache_usage'] == 'vllm:kv_cache_usage_perc' and t['found']['prefix_cache_hit_rate'] == 'vllm:prefix_cache_hits'"
is example "every metric of the preset found, no warning" "t['missing'] == [] and w == ''"
is example "2 decoding and 2 waiting at most" "m['server.vllm.num_requests_running.max'] == 2 and m['server.vllm.num_requests_waiting.max'] == 2"
is example "their wait is in the queue-time histogram" "m['server.vllm.queue_time.p99'] > 0 and m['server.vllm.queue_time.rate'] > 0"
is example "the KV cache holds the running requests' tokens" "0 < m['server.vllm.kv_cache_usage.max'] < 1"
is example "the prompt repeats: its full blocks hit the prefix cache" "0 < m['server.vllm.prefix_cache_hit_rate'] < 1"
is example "the server's token counter against perfgate's count" "abs(m['server.vllm.generation_tokens.rate'] / m['output_token_rate'] - 1) < 0.5"
printf '{"suite": "monprom-example", "project": "monprom", "benchmarks": [{"name": "chat", %s, "slo": {"server.vllm.num_requests_waiting.max": "%s"}}]}\n' "$CHAT" "< 1" >"$R/wait.json"
git -C "$R" add -A && git -C "$R" commit -qm "waiting SLO"
expect_exit 1 "gate fails on the example server's waiting requests" "$PERFGATE" gate --db "$DB" --quiet "$R/wait.json"
contains "naming the server metric" "$OUT" "server.vllm.num_requests_waiting.max"

# an SLO on a server metric the target never gave: the gate fails and says why
printf '{"suite": "monprom-down", "project": "monprom", "benchmarks": [{"name": "srv", %s, "monitor": {"system": false, "gpu": false, "prometheus": {"url": "http://127.0.0.1:1/metrics", %s}}, "slo": {"server.demo.g.max": "< 1000"}}]}\n' "$LOAD" "$DEMO" >"$R/down.json"
git -C "$R" add -A && git -C "$R" commit -qm "down"
expect_exit 1 "an SLO on a server metric never measured fails the gate" "$PERFGATE" gate --db "$DB" --quiet "$R/down.json"
contains "with the reason" "$OUT" "server.demo.g.max < 1000: not measured (no scrape of target 'demo' succeeded)"

# a sweep step's server metric gates too
printf '{"suite": "monprom-sweep", "project": "monprom", "benchmarks": [{"name": "sw", "http": {"url": "%s/ok"}, "load": {"mode": "sweep", "rates": [20, 40], "duration": "1s"}, "monitor": {"system": false, "gpu": false, "prometheus": {"url": "%s/metrics?t=sweepgate", %s}}, "slo": {"server.demo.g.max@40/s": "< 2"}}]}\n' "$U" "$U" "$DEMO" >"$R/sweep.json"
git -C "$R" add -A && git -C "$R" commit -qm "sweep"
expect_exit 1 "gate fails on a sweep step's server metric" "$PERFGATE" gate --db "$DB" --quiet "$R/sweep.json"
contains "naming it" "$OUT" "server.demo.g.max@40/s"

# a capacity search's server metric gates at the capacity found
printf '{"suite": "monprom-cap", "project": "monprom", "benchmarks": [{"name": "cap", "http": {"url": "%s/ok"}, "load": {"mode": "capacity", "start_rate": 10, "max_rate": 20, "step_duration": "1s"}, "monitor": {"system": false, "gpu": false, "prometheus": {"url": "%s/metrics?t=capgate", %s}}, "slo": {"latency.p99": "< 5s", "server.demo.g.max": "< 2"}}]}\n' "$U" "$U" "$DEMO" >"$R/cap.json"
git -C "$R" add -A && git -C "$R" commit -qm "capacity"
expect_exit 1 "gate fails on a server metric at capacity" "$PERFGATE" gate --db "$DB" --quiet "$R/cap.json"
contains "naming it" "$OUT" "server.demo.g.max < 2"
lacks "the metric was measured at capacity" "$OUT" "not measured"

# --- the SQL view over stored server metrics, the names taken apart
V=$(psql_q "$DB" "SELECT DISTINCT target || ' ' || server_metric || ' ' || coalesce(stat, '-') FROM perfgate_server_metrics WHERE metric IN ('server.demo.g.max', 'server.vllm.queue_time.p99', 'server.vllm.prefix_cache_hit_rate') ORDER BY 1" | tr '\n' ',')
if [ "$V" = "demo g max,vllm prefix_cache_hit_rate -,vllm queue_time p99," ]; then ok "perfgate_server_metrics: target, metric, stat"; else not_ok "perfgate_server_metrics: got '$V'"; fi
