#!/bin/sh
# HTTP load engine against real loopback servers, well-behaved and not:
# every case ends with the right error classes and exit code, no crash and
# no hang (each perfgate run is bounded by `timeout`).
. tests/integration/lib.sh
T=$(test_tmpdir)
SRV=tests/servers/misbehave.py

python3 "$SRV" "$T/port" &
SRV_PID=$!
trap 'kill $SRV_PID 2>/dev/null; rm -rf "$T"' EXIT
i=0
while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
PORT=$(cat "$T/port")
U="http://127.0.0.1:$PORT"

# run NAME EXPECTED_EXIT BENCH_JSON: one benchmark named NAME in a suite;
# the run document is left in $T/NAME.out.json.
run() {
	_n=$1; _want=$2; _b=$3
	printf '{"suite": "http-it", "benchmarks": [{"name": "%s", %s}]}\n' "$_n" "$_b" >"$T/$_n.json"
	expect_exit "$_want" "$_n: exit $_want" timeout 60 "$PERFGATE" run -q --no-store --out "$T/$_n.out.json" "$T/$_n.json"
	cp "$ERR" "$T/$_n.err"
}

# q NAME PYTHON_EXPR: evaluate an expression over the run document's one
# benchmark `b` (metrics by name in `m`: first sample).
q() {
	python3 - "$T/$1.out.json" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
b = d["benchmarks"][0]
m = {x["name"]: x["samples"][0] for x in b["metrics"] if x["samples"]}
x = {x["name"]: x for x in b["metrics"]}
print(eval(sys.argv[2]))
PY
}

# is NAME LABEL PYTHON_EXPR: passes when the expression is True.
is() {
	_r=$(q "$1" "$3" 2>&1)
	if [ "$_r" = "True" ]; then ok "$1: $2"; else not_ok "$1: $2 (got: $_r)"; fi
}

errs() { # the sum of every error class
	echo 'sum(v for k, v in m.items() if k.startswith("errors."))'
}

# --- well-behaved ---
run ok 0 "\"http\": {\"url\": \"$U/ok\"}, \"load\": {\"mode\": \"concurrency\", \"concurrency\": 2, \"requests\": 50}"
is ok "50 requests, no errors" "m['error_rate'] == 0 and $(errs) == 0"
is ok "histogram holds exactly the 50 measured requests" "x['latency.p50']['histogram']['n'] == 50"
is ok "percentiles ordered" "0 < m['latency.p50'] <= m['latency.p99'] <= m['latency.max']"
is ok "service time <= latency" "m['service_time.max'] <= m['latency.max'] + 1e-9"
is ok "bytes counted" "m['bytes_out'] > 50 * 40 and m['bytes_in'] > 50 * 40"
is ok "a time series" "len(b['timeseries'][0]['throughput']) >= 1"
is ok "closed loop has no lateness" "'lateness.p99' not in m"
# The summary table (docs/run.md "Output"): each distribution in one row of
# its own table, the counters that stayed at 0 on one line; --all: every
# metric a row.
expect_exit 0 "ok: the summary table" timeout 60 "$PERFGATE" run -q --no-store "$T/ok.json"
cp "$OUT" "$T/ok.table"
if grep -Eq '^ok +latency +[0-9.]+ (µs|ms) +[0-9.]+ (µs|ms)' "$T/ok.table" && grep -Eq '^ +ttfb +[0-9.]' "$T/ok.table" &&
	grep -q '^benchmark distribution' "$T/ok.table"; then
	ok "ok: latency and ttfb are one row each, a column per statistic"
else
	not_ok "ok: latency and ttfb are one row each: $(cat "$T/ok.table")"
fi
lacks "ok: no row per percentile" "$T/ok.table" "latency.p50"
contains "ok: the zero counters on one line" "$T/ok.table" "ok: 0 in every repetition: error_rate, errors.refused"
expect_exit 0 "ok: the summary table with --all" timeout 60 "$PERFGATE" run -q --no-store --all "$T/ok.json"
if grep -Eq ' latency\.p50 ' "$OUT" && grep -Eq '^ +errors\.timeout +0 ' "$OUT" && ! grep -q distribution "$OUT" &&
	[ "$(wc -l <"$OUT")" -gt $((2 * $(wc -l <"$T/ok.table"))) ]; then
	ok "ok: --all gives every metric a row (over twice the lines)"
else
	not_ok "ok: --all gives every metric a row: $(cat "$OUT")"
fi

run json_ok 0 "\"http\": {\"url\": \"$U/json\", \"checks\": [{\"json\": \"\$.label\", \"equals\": \"cat\"}, {\"contains\": \"score\"}]}, \"load\": {\"concurrency\": 1, \"requests\": 5}"
is json_ok "checks pass" "m['errors.failed_check'] == 0"
run json_bad 3 "\"http\": {\"url\": \"$U/json\", \"checks\": [{\"json\": \"\$.label\", \"equals\": \"dog\"}]}, \"load\": {\"concurrency\": 1, \"requests\": 5}"
is json_bad "failed checks counted" "m['errors.failed_check'] == 5 and m['error_rate'] == 1"
contains "json_bad: says which check" "$T/json_bad.err" 'is "cat", expected "dog"'
run contains_bad 3 "\"http\": {\"url\": \"$U/ok\", \"checks\": [{\"contains\": \"nope\"}]}, \"load\": {\"concurrency\": 1, \"requests\": 3}"
is contains_bad "failed check" "m['errors.failed_check'] == 3"

# --- statuses ---
run s503 3 "\"http\": {\"url\": \"$U/status?code=503\"}, \"load\": {\"concurrency\": 2, \"requests\": 10}"
is s503 "5xx" "m['errors.5xx'] == 10 and $(errs) == 10"
run s404 3 "\"http\": {\"url\": \"$U/status?code=404\"}, \"load\": {\"concurrency\": 2, \"requests\": 10}"
is s404 "4xx" "m['errors.4xx'] == 10"
run s404ok 0 "\"http\": {\"url\": \"$U/status?code=404\", \"expect_status\": [404]}, \"load\": {\"concurrency\": 2, \"requests\": 10}"
is s404ok "expected status is a success" "$(errs) == 0"
run s302 3 "\"http\": {\"url\": \"$U/status?code=302\"}, \"load\": {\"concurrency\": 1, \"requests\": 3}"
is s302 "unexpected status" "m['errors.unexpected_status'] == 3"

# --- interim 1xx responses before the final one ---
# /early sends "103 Early Hints" at once and the 200 after 300 ms; /continue
# the same with an unasked "100 Continue"; /interim2 both interim responses
# and the 200 in one write.  The final status is what counts, the latency
# includes the wait after the interim response, and ttfb is the first byte
# of the response (the interim one's).  Keep-alive survives: 2 connections.
for e in native curl; do
	run "early_$e" 0 "\"http\": {\"url\": \"$U/early?ms=300\", \"checks\": [{\"contains\": \"final\"}]}, \"load\": {\"engine\": \"$e\", \"concurrency\": 2, \"requests\": 6}"
	is "early_$e" "103 then 200: 6 successes, no errors" "x['latency.p50']['histogram']['n'] == 6 and $(errs) == 0"
	is "early_$e" "latency includes the wait after the 103" "x['latency.p50']['histogram']['min'] >= 0.3e9"
	is "early_$e" "ttfb is the 103's first byte, well before the 200" "m['ttfb.p50'] < m['latency.p50'] - 0.2"
	is "early_$e" "interim responses counted, connections kept alive" "b['generator'][0]['interim_responses'] == 6 and b['generator'][0]['connections_opened'] == 2"
	run "continue_$e" 0 "\"http\": {\"url\": \"$U/continue?ms=300\"}, \"load\": {\"engine\": \"$e\", \"concurrency\": 1, \"requests\": 3}"
	is "continue_$e" "an unasked 100 Continue is skipped" "x['latency.p50']['histogram']['n'] == 3 and $(errs) == 0 and x['latency.p50']['histogram']['min'] >= 0.3e9 and b['generator'][0]['interim_responses'] == 3"
	run "interim2_$e" 0 "\"http\": {\"url\": \"$U/interim2\", \"checks\": [{\"contains\": \"final\"}]}, \"load\": {\"engine\": \"$e\", \"concurrency\": 2, \"requests\": 10}"
	is "interim2_$e" "100, 103 and 200 in one read: 10 successes" "x['latency.p50']['histogram']['n'] == 10 and $(errs) == 0 and b['generator'][0]['interim_responses'] == 20"
done
run switching 3 "\"http\": {\"url\": \"$U/status?code=101\"}, \"load\": {\"concurrency\": 1, \"requests\": 2}"
is switching "101 is final, not interim: an unexpected status" "m['errors.unexpected_status'] == 2"

# --- misbehaving ---
run slow 3 "\"http\": {\"url\": \"$U/slow?ms=3000\"}, \"load\": {\"concurrency\": 2, \"requests\": 4, \"timeout\": \"300ms\"}"
is slow "timeouts" "m['errors.timeout'] == 4 and $(errs) == 4"
run stall 3 "\"http\": {\"url\": \"$U/stall\"}, \"load\": {\"concurrency\": 3, \"requests\": 6, \"timeout\": \"250ms\"}"
is stall "a stalled server times out" "m['errors.timeout'] == 6"
contains "stall: says no response" "$T/stall.err" "no response from"
run reset 3 "\"http\": {\"url\": \"$U/reset\"}, \"load\": {\"concurrency\": 2, \"requests\": 6, \"timeout\": \"5s\"}"
is reset "resets" "m['errors.reset'] == 6"
run close 3 "\"http\": {\"url\": \"$U/close\"}, \"load\": {\"concurrency\": 2, \"requests\": 6, \"timeout\": \"5s\"}"
is close "closed without a response is a reset" "m['errors.reset'] == 6"
run garbage 3 "\"http\": {\"url\": \"$U/garbage\"}, \"load\": {\"concurrency\": 2, \"requests\": 6, \"timeout\": \"5s\"}"
is garbage "bad responses" "m['errors.bad_response'] == 6"
run huge 0 "\"http\": {\"url\": \"$U/huge?mb=48\"}, \"load\": {\"concurrency\": 1, \"requests\": 2, \"timeout\": \"30s\"}"
is huge "a 48 MiB body is read whole" "m['bytes_in'] >= 2 * 48 * 2**20 and $(errs) == 0"
run huge_check 3 "\"http\": {\"url\": \"$U/huge?mb=16\", \"checks\": [{\"contains\": \"y\"}]}, \"load\": {\"concurrency\": 1, \"requests\": 1, \"timeout\": \"30s\"}"
is huge_check "a body too large to check fails its check" "m['errors.failed_check'] == 1"
# a port nobody listens on: bind one, close it, use it
DEAD=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
run absent 3 "\"http\": {\"url\": \"http://127.0.0.1:$DEAD/\"}, \"load\": {\"concurrency\": 2, \"requests\": 5, \"timeout\": \"2s\"}"
is absent "refused" "m['errors.refused'] == 5 and $(errs) == 5"
contains "absent: says refused" "$T/absent.err" "Connection refused"
# for a duration: connects fail as fast as they are tried, with no recursion
run absent_dur 3 "\"http\": {\"url\": \"http://127.0.0.1:$DEAD/\"}, \"load\": {\"concurrency\": 2, \"duration\": \"3s\"}"
is absent_dur "refused, every one" "m['errors.refused'] > 100 and m['errors.refused'] == $(errs)"

# --- streams ---
run sse_usage 0 "\"http\": {\"url\": \"$U/sse?n=6&usage=1\", \"stream\": \"sse\"}, \"load\": {\"concurrency\": 2, \"requests\": 8}"
is sse_usage "token metrics from usage, one token per event: itl" "m['output_tokens'] == 6 and 'itl.p50' in m and 'ttft.p50' in m and 'tpot.p50' in m and b['tokens']['source'] == 'usage'"
is sse_usage "ttft <= latency" "m['ttft.max'] <= m['latency.max']"
is sse_usage "5 gaps per request" "x['itl.p50']['histogram']['n'] == 8 * 5"
run sse_events 0 "\"http\": {\"url\": \"$U/sse?n=4\", \"stream\": \"sse\"}, \"load\": {\"concurrency\": 1, \"requests\": 3}"
is sse_events "counted events: inter-chunk, named so" "m['output_tokens'] == 4 and 'inter_chunk.p50' in m and 'itl.p50' not in m and b['tokens']['source'] == 'events'"
run chat 0 "\"http\": {\"url\": \"$U/chat?n=3\", \"stream\": \"sse\", \"request_slo\": {\"ttft\": \"< 10s\"}}, \"load\": {\"concurrency\": 1, \"requests\": 3}"
is chat "chat deltas; goodput counts requests meeting the request SLO" "m['output_tokens'] == 3 and m['goodput'] > 0"
run chat_slo 0 "\"http\": {\"url\": \"$U/chat?n=3\", \"stream\": \"sse\", \"request_slo\": {\"ttft\": \"< 1ns\"}}, \"load\": {\"concurrency\": 1, \"requests\": 3}"
is chat_slo "no request meets an impossible request SLO" "m['goodput'] == 0 and m['throughput'] > 0"
run forever 3 "\"http\": {\"url\": \"$U/sse_forever\", \"stream\": \"sse\"}, \"load\": {\"concurrency\": 1, \"requests\": 2, \"timeout\": \"400ms\"}"
is forever "a stream that never ends times out" "m['errors.timeout'] == 2"
run cut 3 "\"http\": {\"url\": \"$U/sse_cut\", \"stream\": \"sse\"}, \"load\": {\"concurrency\": 1, \"requests\": 3, \"timeout\": \"5s\"}"
is cut "a stream cut mid-event is incomplete" "m['errors.incomplete_stream'] == 3"
run nodone 3 "\"http\": {\"url\": \"$U/sse_nodone\", \"stream\": \"sse\"}, \"load\": {\"concurrency\": 1, \"requests\": 3, \"timeout\": \"5s\"}"
is nodone "a stream without [DONE] is incomplete" "m['errors.incomplete_stream'] == 3"

# --- requests: auth, dataset ---
API_TOKEN=sekrit-123; export API_TOKEN
run auth 0 "\"http\": {\"url\": \"$U/auth\", \"auth_env\": \"API_TOKEN\"}, \"load\": {\"concurrency\": 1, \"requests\": 3}"
is auth "the server saw the token" "$(errs) == 0"
lacks "auth: the token is nowhere in the run document" "$T/auth.out.json" "sekrit"
unset API_TOKEN
run noauth 2 "\"http\": {\"url\": \"$U/auth\", \"auth_env\": \"API_TOKEN\"}, \"load\": {\"concurrency\": 1, \"requests\": 3}"
contains "noauth: names the variable" "$T/noauth.err" "API_TOKEN is not set"
printf '{"animal": "cat"}\n{"animal": "dog"}\n' >"$T/rows.jsonl"
run dataset 0 "\"http\": {\"url\": \"$U/echo\", \"body\": {\"prompt\": \"a {animal}\"}, \"dataset\": \"rows.jsonl\", \"checks\": [{\"contains\": \"a cat\"}]}, \"load\": {\"concurrency\": 1, \"requests\": 4}"
is dataset "rows alternate: half the bodies hold each row (the others fail the check)" "m['errors.failed_check'] == 2"

# --- open loop ---
# A loaded machine may make the generator late: then the run is invalid
# (exit 3), which is accepted only with the message that says so.
printf '{"suite": "http-it", "benchmarks": [{"name": "rate", "http": {"url": "%s/ok"}, "load": {"mode": "rate", "rate": 40, "duration": "1s", "max_inflight": 64}}]}\n' "$U" >"$T/rate.json"
timeout 60 "$PERFGATE" run -q --no-store --out "$T/rate.out.json" "$T/rate.json" >/dev/null 2>"$T/rate.err"
rc=$?
if [ $rc -eq 0 ] || { [ $rc -eq 3 ] && grep -q "fell behind\|saturated its CPU" "$T/rate.err"; }; then
	ok "rate: exit 0, or 3 for a late generator ($rc)"
else
	not_ok "rate: exit $rc: $(head -c 300 "$T/rate.err")"
fi
is rate "40 requests scheduled in 1 s" "38 <= m['offered_rate'] <= 42 and b['generator'][0]['requests'] in (40, 41)"
is rate "lateness measured" "'lateness.p99' in m"

# --- invalid suites: exit 2 with the JSON path ---
run typo 2 "\"http\": {\"url\": \"$U/ok\"}, \"load\": {\"mod\": \"rate\", \"rate\": 5, \"duration\": \"1s\"}"
contains "typo: suggests the key" "$T/typo.err" 'load.mod: unknown key; did you mean "mode"?'
run badrate 2 "\"http\": {\"url\": \"$U/ok\"}, \"load\": {\"mode\": \"rate\", \"rate\": -5, \"duration\": \"1s\"}"
contains "badrate: names the path" "$T/badrate.err" "benchmarks[0].load.rate: must be a number > 0"
run badurl 2 "\"http\": {\"url\": \"ftp://x/\"}"
contains "badurl: names the path" "$T/badurl.err" "benchmarks[0].http.url: expected an http:// or https:// URL"

# --- the monitor hook: the server's CPU and RSS beside the load ---
run monitored 0 "\"http\": {\"url\": \"$U/ok\"}, \"load\": {\"concurrency\": 1, \"requests\": 20}, \"monitor\": {\"pid\": $SRV_PID, \"gpu\": false}"
is monitored "server resources sampled during the load" "'server.rss.max' in m and m['server.rss.max'] > 0"

# --- the curl engine: the same cases give the same classes ---
C='"engine": "curl"'
run c_ok 0 "\"http\": {\"url\": \"$U/ok\"}, \"load\": {$C, \"concurrency\": 2, \"requests\": 40}"
is c_ok "curl: 40 requests recorded, no errors" "x['latency.p50']['histogram']['n'] == 40 and $(errs) == 0 and b['generator'][0]['engine'] == 'curl'"
is c_ok "curl: service time <= latency, ttfb <= latency" "m['service_time.max'] <= m['latency.max'] + 1e-9 and m['ttfb.p50'] <= m['latency.p50'] + 1e-9"
run c_503 3 "\"http\": {\"url\": \"$U/status?code=503\"}, \"load\": {$C, \"concurrency\": 2, \"requests\": 6}"
is c_503 "curl: 5xx" "m['errors.5xx'] == 6"
run c_absent 3 "\"http\": {\"url\": \"http://127.0.0.1:$DEAD/\"}, \"load\": {$C, \"concurrency\": 1, \"requests\": 3, \"timeout\": \"2s\"}"
is c_absent "curl: refused" "m['errors.refused'] == 3"
run c_stall 3 "\"http\": {\"url\": \"$U/stall\"}, \"load\": {$C, \"concurrency\": 2, \"requests\": 4, \"timeout\": \"300ms\"}"
is c_stall "curl: timeout" "m['errors.timeout'] == 4"
run c_reset 3 "\"http\": {\"url\": \"$U/reset\"}, \"load\": {$C, \"concurrency\": 1, \"requests\": 3}"
is c_reset "curl: reset" "m['errors.reset'] == 3"
run c_garbage 3 "\"http\": {\"url\": \"$U/garbage\"}, \"load\": {$C, \"concurrency\": 1, \"requests\": 3}"
is c_garbage "curl: bad response" "m['errors.bad_response'] == 3"
run c_sse 0 "\"http\": {\"url\": \"$U/sse?n=6&usage=1\", \"stream\": \"sse\"}, \"load\": {$C, \"concurrency\": 2, \"requests\": 6}"
is c_sse "curl: stream metrics as native" "m['output_tokens'] == 6 and x['itl.p50']['histogram']['n'] == 6 * 5 and b['tokens']['source'] == 'usage'"
run c_cut 3 "\"http\": {\"url\": \"$U/sse_cut\", \"stream\": \"sse\"}, \"load\": {$C, \"concurrency\": 1, \"requests\": 2}"
is c_cut "curl: cut stream incomplete" "m['errors.incomplete_stream'] == 2"
run c_check 3 "\"http\": {\"url\": \"$U/json\", \"checks\": [{\"json\": \"\$.label\", \"equals\": \"dog\"}]}, \"load\": {$C, \"concurrency\": 1, \"requests\": 2}"
is c_check "curl: failed check" "m['errors.failed_check'] == 2"

# --- https (curl engine, chosen by auto) against a private CA ---
if command -v openssl >/dev/null 2>&1; then
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 1 \
		-subj /CN=127.0.0.1 -addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1
	python3 "$SRV" "$T/tport" --tls "$T/cert.pem" "$T/key.pem" &
	TLS_PID=$!
	trap 'kill $SRV_PID $TLS_PID 2>/dev/null; rm -rf "$T"' EXIT
	i=0
	while [ ! -s "$T/tport" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	S="https://127.0.0.1:$(cat "$T/tport")"
	run tls 0 "\"http\": {\"url\": \"$S/json\", \"ca_file\": \"$T/cert.pem\", \"checks\": [{\"json\": \"\$.label\", \"equals\": \"cat\"}]}, \"load\": {\"concurrency\": 1, \"requests\": 5}"
	is tls "https through curl, verified against the CA" "$(errs) == 0 and b['generator'][0]['engine'] == 'curl'"
	run tls_unknown 3 "\"http\": {\"url\": \"$S/json\"}, \"load\": {\"concurrency\": 1, \"requests\": 2}"
	is tls_unknown "an unverifiable certificate cannot connect" "m['errors.refused'] == 2"
	run tls_native 2 "\"http\": {\"url\": \"$S/json\"}, \"load\": {\"engine\": \"native\", \"concurrency\": 1, \"requests\": 2}"
	contains "tls_native: says to use curl" "$T/tls_native.err" "the native engine speaks plain http:// only"
else
	not_ok "openssl is needed for the https test (TEST_DEBS)"
fi

# --- schemas/suite.schema.json agrees with perfgate's validator on every suite above
python3 - "$T" <<'PY' >"$T/schema.out" 2>&1
import glob, json, os, sys
import jsonschema
schema = json.load(open("schemas/suite.schema.json"))
v = jsonschema.Draft202012Validator(schema)
rejected_by_perfgate = {"typo", "badrate", "badurl"}
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    name = os.path.basename(f)[:-5]
    if name.endswith(".out") or name in ("noauth",):
        continue
    try:
        doc = json.load(open(f))
    except ValueError:
        continue
    if "benchmarks" not in doc:
        continue
    errs = list(v.iter_errors(doc))
    if name in rejected_by_perfgate:
        print(("ok" if errs else "not ok") + " - schema rejects %s too" % name)
    else:
        print(("not ok" if errs else "ok") + " - schema accepts %s%s" % (name, (": " + errs[0].message) if errs else ""))
PY
cat "$T/schema.out"
