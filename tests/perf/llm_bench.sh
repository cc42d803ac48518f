#!/bin/sh
# The LLM-workload figures of issue 13 (docs/performance.md, "LLM
# workloads"), each measured on loopback servers this script starts and
# stops itself.  Called by tests/perf/run.sh (`make bench`); runs alone too:
#   PERFGATE=build/perfgate BUILD=build sh tests/perf/llm_bench.sh
#
#   exact     1,000 synthetic prompts, input lengths uniform from 16 to
#             8,192 tokens, fitted with the example server's tokenize
#             endpoint, sent to it: how many the server counted differently
#             (goal 0), tokenize calls per prompt
#   dataset   a 100,000-conversation ShareGPT-format file (written by
#             tests/perf/make_sharegpt.py, about 520 MiB) read by
#             core/http/dataset.c: seconds (goal < 2) and peak RSS / file
#             size (goal < 2), best of 3 runs
#   trace     a trace of 20,000 requests at 2,000/s (timestamps written at
#             1,000/s, replayed with time_scale 0.5) against nginx, with
#             per-request records: |t_send - scaled timestamp| at p99
#             (goal < 1 ms), from the records
#   records   5,000 requests/s for 10 s against nginx with --requests and
#             without, rounds alternated: lines written against requests
#             sent (goal: equal), and the process's CPU time with records
#             over without (goal <= 1.05), medians of the rounds; and the
#             cost of a record measured alone (tests/perf/records_cost.c)
#             against the CPU per request of the run without records
# BENCH_QUICK=1 shortens every run; LLM_BENCH_ONLY=exact|dataset|trace|records
# runs one section; LLM_BENCH_DATASET=FILE reuses a generated dataset.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
root=$(cd "$here/../.." && pwd)
: "${PERFGATE:=$root/build/perfgate}"
: "${BUILD:=build}"
T=$(mktemp -d /tmp/perfgate-llmbench.XXXXXX)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

if [ "${BENCH_QUICK:-0}" = 1 ]; then
	EXACT_N=100; CONV=10000; TRACE_N=4000; REC_DUR=3; REC_ROUNDS=1
else
	EXACT_N=1000; CONV=100000; TRACE_N=20000; REC_DUR=10; REC_ROUNDS=${LLM_BENCH_ROUNDS:-5}
fi

only() { [ -z "${LLM_BENCH_ONLY:-}" ] || [ "$LLM_BENCH_ONLY" = "$1" ]; }
suite() { # NAME BENCH_JSON
	printf '{"suite": "llm-bench", "benchmarks": [{"name": "%s", %s}]}\n' "$1" "$2" >"$T/$1.json"
}
# cpu_run NAME [perfgate args]: run perfgate on $T/NAME.json; prints the
# process's CPU seconds (user + system, its threads together)
cpu_run() {
	python3 - "$PERFGATE" "$@" <<'PY'
import resource, subprocess, sys
perfgate, name = sys.argv[1], sys.argv[2]
subprocess.run([perfgate, "run", "-q", "--no-store"] + sys.argv[3:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.3f" % (r.ru_utime + r.ru_stime))
PY
}

start_nginx() {
	NGX_PORT=$(free_port)
	mkdir -p "$T/nginx"
	cat >"$T/nginx/nginx.conf" <<NGX
worker_processes 1;
daemon off;
error_log $T/nginx/error.log;
pid $T/nginx/nginx.pid;
events { worker_connections 8192; }
http {
	access_log off;
	keepalive_requests 1000000;
	server { listen 127.0.0.1:$NGX_PORT backlog=4096; location / { return 200 "{}\n"; } }
}
NGX
	nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" &
	pids="$pids $!"
	wait_port "$NGX_PORT" "llm_bench: the server" 200
	NGX="http://127.0.0.1:$NGX_PORT"
}

if only exact; then
	echo "== exact: $EXACT_N synthetic prompts, 16 to 8,192 tokens, fitted with the example server's /tokenize =="
	python3 "$root/examples/servers/completions_server.py" --port 0 --port-file "$T/llm.port" --lifetime 3600 \
		--token-ms 0 --prefill-ms-per-token 0 >"$T/llm.log" 2>&1 &
	pids="$pids $!"
	i=0; while [ ! -s "$T/llm.port" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
	U="http://127.0.0.1:$(cat "$T/llm.port")"
	suite exact "\"http\": {\"url\": \"$U/v1/chat/completions\", \"stream\": \"sse\",
	  \"body\": {\"model\": \"bigram-example\", \"stream\": true, \"stream_options\": {\"include_usage\": true}}},
	  \"prompts\": {\"input_tokens\": {\"dist\": \"uniform\", \"min\": 16, \"max\": 8192}, \"output_tokens\": 1,
	              \"count\": $EXACT_N, \"seed\": 13, \"tokenize\": \"/tokenize\"},
	  \"load\": {\"mode\": \"concurrency\", \"concurrency\": 4, \"requests\": $EXACT_N}"
	t0=$(date +%s.%N)
	"$PERFGATE" run -q --no-store --out "$T/exact.out.json" "$T/exact.json" >/dev/null 2>"$T/exact.err" || true
	t1=$(date +%s.%N)
	python3 - "$T/exact.out.json" "$t0" "$t1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
b = d["benchmarks"][0]
m = {x["name"]: x["samples"][0] for x in b["metrics"] if x["samples"]}
p = b["prompts"]
n = b["generator"][0]["requests"]
print("requests %d  fitted %d  not fitted %d  input length mismatches %d  tokenize calls %d (%.2f a prompt)  "
      "mean input %.0f tokens  whole run %.1f s"
      % (n, p["fitted"], p["not_fitted"], m["input_length_mismatches"], p["tokenize_calls"],
         p["tokenize_calls"] / max(p["fitted"] + p["not_fitted"], 1), m["input_tokens"], float(sys.argv[3]) - float(sys.argv[2])))
PY
fi

if only dataset; then
	DS=${LLM_BENCH_DATASET:-$T/sharegpt.json}
	echo "== dataset: $CONV ShareGPT conversations read by core/http/dataset.c, best of 3 =="
	[ -s "$DS" ] || python3 "$here/make_sharegpt.py" "$DS" "$CONV" 1
	for r in 1 2 3; do "$BUILD/perf/dataset_load" "$DS" sharegpt; done >"$T/dataset.out"
	cat "$T/dataset.out"
	sort -k4 -g "$T/dataset.out" | head -1 | sed 's/^/best: /'
fi

if only trace || only records; then
	start_nginx
fi

if only trace; then
	echo "== trace: $TRACE_N requests at 2,000/s (timestamps at 1,000/s, time_scale 0.5) against nginx =="
	python3 - "$T/trace.csv" "$TRACE_N" <<'PY'
import random, sys
rng = random.Random(7)
t = 0.0
with open(sys.argv[1], "w") as f:
    f.write("timestamp,input_length,output_length\n")
    for i in range(int(sys.argv[2])):
        f.write("%.6f,%d,%d\n" % (t, rng.randint(8, 64), rng.randint(1, 32)))
        t += rng.expovariate(1000.0)
PY
	suite trace "\"http\": {\"url\": \"$NGX/v1/completions\", \"body\": {\"model\": \"m\"}},
	  \"prompts\": {\"tokenize\": false},
	  \"load\": {\"mode\": \"trace\", \"trace\": {\"path\": \"$T/trace.csv\", \"time_unit\": \"s\", \"time_scale\": 0.5},
	           \"connections\": 256, \"warmup\": \"1s\"}"
	"$PERFGATE" run -q --no-store --requests "$T/trace.jsonl" --out "$T/trace.out.json" "$T/trace.json" \
		>/dev/null 2>"$T/trace.err" || true
	python3 - "$T/trace.jsonl" "$T/trace.csv" "$T/trace.out.json" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
rows = open(sys.argv[2]).read().split("\n")[1:]
want = sorted(round(float(r.split(",")[0]) * 0.5 * 1e9) for r in rows if r)
sched = sorted(r["t_sched"] for r in recs)
off = sorted(abs(r["t_send"] - r["t_sched"]) for r in recs if r["t_send"] is not None and not r["warmup"])
p99 = off[max(0, -(-99 * len(off) // 100) - 1)]
d = json.load(open(sys.argv[3]))
g = d["benchmarks"][0]["generator"][0]
print("entries %d  records %d  t_sched = scaled timestamp: %s  |t_send - t_sched| p50 %.1f us  p99 %.1f us  max %.1f us  "
      "late over 1 ms %.2f%%  (generator: %s)"
      % (len(want), len(recs), "all" if all(abs(a - b) <= 1 for a, b in zip(sched, want)) else "NOT all",
         off[len(off) // 2] / 1e3, p99 / 1e3, off[-1] / 1e3, 100 * g["late_fraction"], g["sched_policy"]))
PY
fi

if only records; then
	echo "== records: 5,000/s for ${REC_DUR}s against nginx, with --requests and without, $REC_ROUNDS rounds alternated =="
	suite rec "\"http\": {\"url\": \"$NGX/\"}, \"load\": {\"mode\": \"rate\", \"rate\": 5000, \"duration\": \"${REC_DUR}s\",
	  \"warmup\": \"0.5s\", \"connections\": 256}"
	with=""; without=""
	for r in $(seq "$REC_ROUNDS"); do
		c=$(cpu_run rec --out "$T/rec.plain.json" "$T/rec.json"); without="$without $c"
		rm -f "$T/rec.jsonl"
		c=$(cpu_run rec --requests "$T/rec.jsonl" --out "$T/rec.with.json" "$T/rec.json"); with="$with $c"
		python3 - "$T/rec.jsonl" "$T/rec.with.json" <<'PY'
import json, sys
lines = sum(1 for _ in open(sys.argv[1]))
g = json.load(open(sys.argv[2]))["benchmarks"][0]["generator"][0]
sent = g["requests"] + g["warmup_requests"]
print("  round: %d lines for %d requests (%s), worker CPU %.1f%%" % (lines, sent, "equal" if lines == sent else "DIFFERENT", 100 * g["cpu_util_max"]))
PY
	done
	w=$(echo "$with" | median); wo=$(echo "$without" | median)
	echo "process CPU seconds: with records$with (median $w), without$without (median $wo); ratio $(python3 -c "print('%.3f' % ($w / $wo))")"
	# The same cost measured alone (a load run's CPU varies by more than it),
	# against the run's CPU per request without records.
	"$BUILD/perf/records_cost" "$T/cost.jsonl" 1000000 >"$T/cost.out"
	python3 - "$T/cost.out" "$wo" "$T/rec.plain.json" <<'PY'
import json, sys
us = float(open(sys.argv[1]).read().split("cpu_us_per_record ")[1])
g = json.load(open(sys.argv[3]))["benchmarks"][0]["generator"][0]
n = g["requests"] + g["warmup_requests"]
per_req = float(sys.argv[2]) * 1e6 / n
print("a record costs %.2f us of CPU (formatting and writing, measured alone over 1,000,000); the run without records "
      "used %.1f us a request: records add %.1f%%" % (us, per_req, 100 * us / per_req))
PY
fi
