#!/bin/sh
# Journeys at 1,000 journeys/s of 3 steps (issue 16): constant arrivals of
# journeys against nginx on a loopback port, each journey three requests
# (the first's JSON answer captured and passed into the second's path, the
# third after it); the goal is the open-loop bound of a valid run: journey
# lateness p99 (first send - intended start) under 1 ms, and no more than
# 1% of all the steps' sends over 1 ms late.  Beside it, alternated in the
# same rounds, a single-request benchmark at the same request rate (3 x the
# journey rate) against the same server: the lateness a machine this busy
# gives any open-loop run, so that what the journeys add shows.  ROUNDS
# rounds of DUR seconds, medians.  Called by tests/perf/run.sh (`make bench`); runs alone too:
#   PERFGATE=build/perfgate sh tests/perf/journey_bench.sh
# BENCH_QUICK=1: one short round.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
root=$(cd "$here/../.." && pwd)
: "${PERFGATE:=$root/build/perfgate}"
T=$(mktemp -d /tmp/perfgate-journeybench.XXXXXX)
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
if [ "${BENCH_QUICK:-0}" = 1 ]; then DUR=2; ROUNDS=1; else DUR=10; ROUNDS=3; fi
RATE=${JOURNEY_RATE:-1000}

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
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
	default_type application/json;
	server {
		listen 127.0.0.1:$PORT backlog=4096;
		location = /login { return 200 '{"id": "u42"}'; }
		location /items/ { return 200 '{"ok": true}'; }
		location / { return 200 '{"done": true}'; }
	}
}
NGX
nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" &
pid=$!
wait_port "$PORT" "journey_bench: nginx"
U="http://127.0.0.1:$PORT"
cat >"$T/suite.json" <<EOF2
{"suite": "journey-bench", "benchmarks": [{"name": "three-steps",
 "journey": {"steps": [
   {"name": "login", "http": {"url": "$U/login", "method": "POST", "body": {"user": "{journey}"}},
    "capture": {"id": {"json": "\$.id"}}},
   {"name": "item", "http": {"url": "$U/items/{id}"}},
   {"name": "done", "http": {"url": "$U/done"}}]},
 "load": {"mode": "rate", "rate": $RATE, "arrival": "constant", "duration": "${DUR}s", "warmup": "1s",
          "connections": 64}}]}
EOF2
cat >"$T/plain.json" <<EOF2
{"suite": "journey-bench", "benchmarks": [{"name": "plain",
 "http": {"url": "$U/done"},
 "load": {"mode": "rate", "rate": $((RATE * 3)), "arrival": "constant", "duration": "${DUR}s", "warmup": "1s",
          "connections": 64}}]}
EOF2
echo "== journeys: $RATE journeys/s of 3 steps (the first's answer captured into the second's path), ${DUR}s x $ROUNDS rounds, nginx"
m() { python3 -c 'import json,sys; b=json.load(open(sys.argv[1]))["benchmarks"][0]
m={x["name"]: x["samples"][0] for x in b["metrics"] if x["samples"]}
g=b.get("generator",[{}])[0]
v={"late_fraction": g.get("late_fraction", float("nan")), "cpu": g.get("cpu_util_max", float("nan")), "status": b.get("status", "ok")}
v.update(m)
print(v.get(sys.argv[2], "nan"))' "$@"; }
lat=""; late=""; plat=""; r=0
while [ $r -lt "$ROUNDS" ]; do
	"$PERFGATE" run -q --no-store --out "$T/plain.out.json" "$T/plain.json" >/dev/null 2>"$T/err" || true
	pl=$(m "$T/plain.out.json" lateness.p99)
	echo "  round $r: single requests at $((RATE * 3))/s: lateness p99 $pl s, sends over 1 ms late $(m "$T/plain.out.json" late_fraction)"
	plat="$plat $pl"
	"$PERFGATE" run -q --no-store --out "$T/out.json" "$T/suite.json" >/dev/null 2>"$T/err" || true
	jl=$(m "$T/out.json" journey.lateness.p99); lf=$(m "$T/out.json" late_fraction)
	echo "  round $r: journey lateness p50 $(m "$T/out.json" journey.lateness.p50) s, p99 $jl s; sends over 1 ms late $lf;" \
	     "journeys $(m "$T/out.json" journey.throughput)/s, error rate $(m "$T/out.json" journey.error_rate);" \
	     "journey latency p50 $(m "$T/out.json" journey.latency.p50) s, p99 $(m "$T/out.json" journey.latency.p99) s;" \
	     "busiest worker $(m "$T/out.json" cpu) of a CPU; status $(m "$T/out.json" status)"
	lat="$lat $jl"; late="$late $lf"
	r=$((r + 1))
done
ml=$(echo "$lat" | median); mf=$(echo "$late" | median); mp=$(echo "$plat" | median)
echo "  median lateness p99 of single requests at the same request rate: $mp s"
echo "  median journey lateness p99 $ml s (goal < 0.001 s: $(awk "BEGIN {print ($ml < 0.001) ? \"met\" : \"MISSED\"}")); median late fraction $mf (bound 0.01: $(awk "BEGIN {print ($mf <= 0.01) ? \"met\" : \"MISSED\"}"))"
