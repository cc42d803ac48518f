#!/bin/sh
# perfgate's load engine measured side by side with wrk (issue 5 figures).
# Called by tests/perf/run.sh (`make bench`); runs alone too:
#   PERFGATE=build/perfgate sh tests/perf/http_bench.sh
# Every server is a private child on a loopback port, stopped at exit.
#
#   peak      closed loop against nginx returning a fixed 200, 1 thread,
#             50 connections: perfgate's throughput / wrk -t1 -c50's, rounds
#             alternated, medians compared (goal >= 1.0)
#   co        a server that stalls STALL_S once a second, constant arrivals
#             at CO_RATE/s: perfgate's latency p99 against the analytic value
#             STALL_S - 0.01 s (docs/performance.md derives it; goal within
#             10%), and wrk's closed-loop p99 on the same server beside it
#   poisson   Poisson arrivals at 10,000/s against nginx: lateness p99
#             (goal < 200 us), with the workers' SCHED_FIFO ("realtime",
#             the default) and without, alternated, medians of the rounds
#   memory    1,000,000 requests (closed loop, 50 connections): peak RSS of
#             perfgate (goal < 64 MiB)
# BENCH_QUICK=1 shortens every run (a smoke test of the script itself);
# HTTP_BENCH_ONLY=peak|co|poisson|memory runs one section; HTTP_BENCH_BUSY=N
# runs N CPU-bound loops beside the poisson section (a busy machine).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
root=$(cd "$here/../.." && pwd)
: "${PERFGATE:=$root/build/perfgate}"
T=$(mktemp -d /tmp/perfgate-httpbench.XXXXXX)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

if [ "${BENCH_QUICK:-0}" = 1 ]; then
	DUR=1; ROUNDS=1; CO_DUR=3; POISSON_DUR=2; POISSON_ROUNDS=1; MEM_REQ=50000
else
	DUR=3; ROUNDS=7; CO_DUR=10; POISSON_DUR=10; POISSON_ROUNDS=5; MEM_REQ=1000000
fi
CO_RATE=100
STALL_S=0.5

only() { [ -z "${HTTP_BENCH_ONLY:-}" ] || [ "$HTTP_BENCH_ONLY" = "$1" ]; }
# metric RUNJSON NAME: the first sample of a metric
metric() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); b=d["benchmarks"][0]
m={x["name"]: x["samples"][0] for x in b["metrics"] if x["samples"]}; print(m.get(sys.argv[2], "nan"))' "$1" "$2"
}
pg_run() { # NAME BENCH_JSON
	printf '{"suite": "http-bench", "benchmarks": [{"name": "%s", %s}]}\n' "$1" "$2" >"$T/$1.json"
	"$PERFGATE" run -q --no-store --out "$T/$1.out.json" "$T/$1.json" >/dev/null 2>"$T/$1.err" || true
}

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
	server { listen 127.0.0.1:$NGX_PORT backlog=4096; location / { return 200 "hello, world\n"; } }
}
NGX
nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" &
pids="$pids $!"
wait_port "$NGX_PORT" "http_bench: the server"
NGX="http://127.0.0.1:$NGX_PORT/"

if only peak; then
echo "== peak: closed loop, 1 thread, 50 connections, ${DUR}s x $ROUNDS rounds alternated, nginx fixed 200 =="
wrk_all=""; pg_all=""; wrk_eff=""; pg_eff=""
r=0
printf '{"suite": "http-bench", "benchmarks": [{"name": "peak", "http": {"url": "%s"}, "load": {"mode": "concurrency", "concurrency": 50, "threads": 1, "duration": "%ss"}}]}\n' "$NGX" "$DUR" >"$T/peak.json"
while [ $r -lt $ROUNDS ]; do
	wc=$(cpu_of "$T/wrk.out" wrk -t1 -c50 -d"${DUR}s" "$NGX")
	w=$(awk '/^Requests\/sec/ {print $2}' "$T/wrk.out")
	pc=$(cpu_of /dev/null "$PERFGATE" run -q --no-store --out "$T/peak.out.json" "$T/peak.json")
	p=$(metric "$T/peak.out.json" throughput)
	we=$(awk "BEGIN {printf \"%.0f\", $w * $DUR / $wc}"); pe=$(awk "BEGIN {printf \"%.0f\", $p * $DUR / $pc}")
	echo "  round $r: wrk ${w} req/s (${we} req per CPU-s), perfgate ${p} req/s (${pe} req per CPU-s)"
	wrk_all="$wrk_all $w"; pg_all="$pg_all $p"; wrk_eff="$wrk_eff $we"; pg_eff="$pg_eff $pe"
	r=$((r + 1))
done
wm=$(echo "$wrk_all" | median); pm=$(echo "$pg_all" | median)
wem=$(echo "$wrk_eff" | median); pem=$(echo "$pg_eff" | median)
echo "  median throughput: wrk $wm req/s, perfgate $pm req/s, perfgate/wrk $(awk "BEGIN {printf \"%.3f\", $pm / $wm}") (goal >= 1.0)"
echo "  median requests per CPU-second: wrk $wem, perfgate $pem, perfgate/wrk $(awk "BEGIN {printf \"%.3f\", $pem / $wem}") (perfgate records every latency in its histograms)"
fi

if only co; then
echo "== co: stall ${STALL_S}s once a second, constant ${CO_RATE}/s for ${CO_DUR}s =="
CO_PORT_FILE="$T/co.port"
python3 "$root/tests/servers/misbehave.py" "$CO_PORT_FILE" --stall-period 1 --stall-length "$STALL_S" &
pids="$pids $!"
i=0; while [ ! -s "$CO_PORT_FILE" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
CO="http://127.0.0.1:$(cat "$CO_PORT_FILE")/costall"
pg_run co "\"http\": {\"url\": \"$CO\"}, \"load\": {\"mode\": \"rate\", \"rate\": $CO_RATE, \"arrival\": \"constant\", \"duration\": \"${CO_DUR}s\", \"timeout\": \"5s\"}"
p99=$(metric "$T/co.out.json" latency.p99)
svc=$(metric "$T/co.out.json" service_time.p50)
analytic=$(awk "BEGIN {print $STALL_S - 0.01 + $svc}")
echo "  perfgate latency p99 $p99 s; analytic $(awk "BEGIN {printf \"%.4f\", $analytic}") s (stall - 0.01 s + median service $svc s); ratio $(awk "BEGIN {printf \"%.3f\", $p99 / $analytic}") (goal within 10%)"
p90=$(metric "$T/co.out.json" latency.p90)
echo "  perfgate latency p90 $p90 s; analytic $(awk "BEGIN {printf \"%.4f\", $STALL_S - 0.1 + $svc}") s (stall - 0.1 s + service)"
wrk -t1 -c10 -d"${CO_DUR}s" --latency "$CO" >"$T/wrk-co.out"
echo "  wrk -t1 -c10 (closed loop, same server): p50 $(awk '$1 == "50%" {print $2}' "$T/wrk-co.out"), p90 $(awk '$1 == "90%" {print $2}' "$T/wrk-co.out"), p99 $(awk '$1 == "99%" {print $2}' "$T/wrk-co.out")"
fi

if only poisson; then
echo "== poisson: 10,000/s for ${POISSON_DUR}s against nginx, realtime (SCHED_FIFO) on and off alternated, $POISSON_ROUNDS rounds =="
# A pre-opened pool of 2000 connections, so that a moment when nginx is
# descheduled does not exhaust the connections: lateness is then the
# generator's own.  "realtime": true is the default (the workers ask for
# SCHED_FIFO); false runs them under the normal policy: same build, same
# minute, order alternated, medians of the rounds compared.
poisson_run() { # NAME REALTIME
	pg_run "$1" "\"http\": {\"url\": \"$NGX\"}, \"load\": {\"mode\": \"rate\", \"rate\": 10000, \"arrival\": \"poisson\", \"duration\": \"${POISSON_DUR}s\", \"warmup\": \"1s\", \"connections\": 2000, \"max_inflight\": 2000, \"realtime\": $2}"
	python3 -c 'import json,sys; b=json.load(open(sys.argv[1]))["benchmarks"][0]; g=b["generator"][0]
m={x["name"]: x["samples"][0] for x in b["metrics"] if x["samples"]}
print("%.1f %.1f %.2f %.0f %s %.0f" % (m["lateness.p50"]*1e6, m["lateness.p99"]*1e6, g["late_fraction"]*100, g["cpu_util_max"]*100, g["sched_policy"], m["achieved_rate"]))' "$T/$1.out.json"
}
# HTTP_BENCH_BUSY=N: N CPU-bound shell loops run beside (other work on the
# machine, as on a shared CI runner), stopped after this section.
busy=""
b=0
while [ $b -lt "${HTTP_BENCH_BUSY:-0}" ]; do
	sh -c 'while :; do :; done' &
	busy="$busy $!"; pids="$pids $!"
	b=$((b + 1))
done
[ -z "$busy" ] || echo "  with ${HTTP_BENCH_BUSY} CPU-bound loop(s) running beside"
on_p50=""; on_p99=""; on_late=""; off_p50=""; off_p99=""; off_late=""
r=0
while [ $r -lt "$POISSON_ROUNDS" ]; do
	if [ $((r % 2)) -eq 0 ]; then order="true false"; else order="false true"; fi
	for rt in $order; do
		set -- $(poisson_run "poisson_$rt" "$rt")
		echo "  round $r realtime=$rt: lateness p50 $1 us, p99 $2 us, $3% of sends over 1 ms late, busiest thread $4% of a CPU, policy $5, achieved $6/s"
		if [ "$rt" = true ]; then on_p50="$on_p50 $1"; on_p99="$on_p99 $2"; on_late="$on_late $3"
		else off_p50="$off_p50 $1"; off_p99="$off_p99 $2"; off_late="$off_late $3"; fi
	done
	r=$((r + 1))
done
echo "  median realtime=true:  lateness p50 $(echo "$on_p50" | median) us, p99 $(echo "$on_p99" | median) us (goal p99 < 200 us), $(echo "$on_late" | median)% over 1 ms"
echo "  median realtime=false: lateness p50 $(echo "$off_p50" | median) us, p99 $(echo "$off_p99" | median) us, $(echo "$off_late" | median)% over 1 ms"
for p in $busy; do kill "$p" 2>/dev/null || true; done
fi

if only memory; then
echo "== memory: $MEM_REQ requests, closed loop, 50 connections =="
printf '{"suite": "http-bench", "benchmarks": [{"name": "mem", "http": {"url": "%s"}, "load": {"mode": "concurrency", "concurrency": 50, "requests": %s, "timeout": "10s"}}]}\n' "$NGX" "$MEM_REQ" >"$T/mem.json"
python3 - "$PERFGATE" "$T/mem.json" "$T/mem.out.json" <<'PY'
import resource, subprocess, sys
subprocess.run([sys.argv[1], "run", "-q", "--no-store", "--out", sys.argv[3], sys.argv[2]],
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
print("  peak RSS %.1f MiB (goal < 64 MiB)" % rss)
PY
echo "  requests recorded in the latency histogram: $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); b=d["benchmarks"][0]; print([x for x in b["metrics"] if x["name"]=="latency.p50"][0]["histogram"]["n"])' "$T/mem.out.json")"
fi
