#!/bin/sh
# `make bench`: perfgate's own benchmarks, side by side with hyperfine and wrk.
set -eu
build=${BUILD:-build}

# --- statistics (issue 4): compare cost and gate accuracy on recorded series
echo "== compare cost: 10 vs 1,000 metrics"
"$build/perf/compare_cost"
sh tests/perf/gate_accuracy.sh "$build"
echo "== gitinfo_ancestors on 50,000 commits (baseline selection)"
sh tests/perf/bench_gitinfo.sh "$build"

# --- command benchmarks (issue 3): overhead and accuracy against hyperfine
echo "== command benchmarks: true x2000 and sleep 0.05 against hyperfine"
sh tests/perf/bench_command.sh

# --- the HTTP load engine against wrk (issue 5)
sh "$(dirname "$0")/http_bench.sh"

# --- LLM workloads (issue 13): exact lengths, a 100,000-conversation dataset,
# trace replay at 2,000/s, per-request records at 5,000/s
echo "== LLM workloads: exact lengths, dataset load, trace replay, per-request records"
PERFGATE=${PERFGATE:-$build/perfgate} BUILD="$build" sh tests/perf/llm_bench.sh

# --- the fault proxy (issue 16): its overhead against direct, and a 50 ms fault's accuracy
echo "== fault proxy: overhead at 2,000 requests/s and a fixed 50 ms fault"
sh tests/perf/proxy_bench.sh "$build" || true

echo "== journeys: 1,000 journeys/s of 3 steps against nginx"
sh tests/perf/journey_bench.sh || true

# --- history (issue 6): change points over 10,000 runs, history over 100,000
echo "== change points: 10,000-point series; precision and recall on synthetic series"
"$build/perf/changepoint_bench"
echo "== history of one metric over 100,000 stored runs"
PERFGATE=${PERFGATE:-$build/perfgate} sh tests/perf/history_bulk.sh
echo "== the data branch: 10,000 runs into a fresh embedded database, then 10 more"
PERFGATE=${PERFGATE:-$build/perfgate} sh tests/perf/store_bench.sh
echo "== the history site: 100 series of 1,000 runs from scratch, then after one new run"
PERFGATE=${PERFGATE:-$build/perfgate} sh tests/perf/site_bench.sh
echo "== the HTML report of a gate of 200 metrics (gnuplot pictures included)"
"$build/perf/html_report_cost"
echo "== noise-proof metrics: wall against instruction counts"
sh tests/perf/bench_counts.sh

# --- server metrics (issue 14): the Prometheus parser on a large server's exposition
echo "== Prometheus exposition parser: 10,000 series"
"$build/perf/prom_parse_bench"

# --- server metrics (issue 14): what scraping costs the generator
PERFGATE=${PERFGATE:-$build/perfgate} sh tests/perf/prom_overhead.sh

# --- shards and the engine's scaling (issue 17)
echo "== shards: 4 merged against one process (exactness), 64 shards' merge cost"
PERFGATE=${PERFGATE:-$build/perfgate} sh tests/perf/shard_exact.sh "$build" || true
PERFGATE=${PERFGATE:-$build/perfgate} sh tests/perf/shard_merge_cost.sh "$build"
echo "== the engine with 1 and 2 threads against wrk (THREADS=\"1 4 8 16\" on a many-core machine)"
PERFGATE=${PERFGATE:-$build/perfgate} sh tests/perf/http_scaling.sh "$build"
