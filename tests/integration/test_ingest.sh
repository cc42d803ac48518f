#!/bin/sh
# perfgate ingest: output of the real harnesses produced now (hyperfine,
# Google Benchmark, pytest-benchmark, go test -bench; each skipped with a
# notice when not installed), every fixture through the command line, bad
# input (exit 2, one line, nothing stored), storing in PostgreSQL, and
# "ingest" benchmarks in a suite run by `perfgate run`.
#
# Expected values are read from the tools' own files with Python's json
# module, never from perfgate's output.
. tests/integration/lib.sh
T=$(test_tmpdir)
FIX=$(pwd)/tests/fixtures/ingest
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

# pyq FILE EXPR: evaluate a Python expression over the JSON document `d`.
pyq() {
	"$PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$1" "$2"
}

# close NAME A B: two Python lists of numbers, equal to 12 significant
# digits (the run document is written with 15).
close() {
	if "$PY" -c 'import sys, math
a, b = eval(sys.argv[1]), eval(sys.argv[2])
sys.exit(0 if len(a) == len(b) and all(math.isclose(x, y, rel_tol=1e-12) for x, y in zip(a, b)) else 1)' "$2" "$3"; then
		ok "$1"
	else
		not_ok "$1: '$2' != '$3'"
	fi
}

# same NAME A B: passes when the two strings are equal.
same() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1: '$2' != '$3'"; fi
}

skip() { echo "ok - $1 # SKIP $2"; }

# ---- real tools, run now ----

if command -v hyperfine >/dev/null 2>&1; then
	hyperfine -N --runs 4 --warmup 1 'true' --export-json "$T/hf.json" >/dev/null 2>&1
	expect_exit 0 "hyperfine output ingests" "$PERFGATE" ingest --no-store -q --out "$T/hf-run.json" "$T/hf.json"
	contains "auto detection names hyperfine" "$ERR" "looks like hyperfine output"
	close "hyperfine: every run is a sample" \
		"$(pyq "$T/hf-run.json" "[m['samples'] for m in d['benchmarks'][0]['metrics'] if m['name'] == 'wall'][0]")" \
		"$(pyq "$T/hf.json" "d['results'][0]['times']")"
else
	skip "hyperfine output ingests" "hyperfine not installed"
fi

if command -v g++ >/dev/null 2>&1 && [ -f /usr/include/benchmark/benchmark.h ]; then
	if g++ -O2 -o "$T/bm" "$FIX/gbench_source.cc" -lbenchmark -lpthread 2>"$T/gxx.err"; then
		"$T/bm" --benchmark_format=json --benchmark_repetitions=3 --benchmark_min_time=0.01 \
			>"$T/gb.json" 2>/dev/null
		expect_exit 0 "Google Benchmark output ingests" "$PERFGATE" ingest -f google-benchmark --no-store -q \
			--out "$T/gb-run.json" "$T/gb.json"
		same "Google Benchmark: repetitions are samples (ns -> s), aggregates are not" \
			"$(pyq "$T/gb-run.json" "[[round(v * 1e9, 6) for v in m['samples']] for b in d['benchmarks'] if b['name'] == 'BM_Empty' for m in b['metrics'] if m['name'] == 'real_time'][0]")" \
			"$(pyq "$T/gb.json" "[round(b['real_time'], 6) for b in d['benchmarks'] if b['run_name'] == 'BM_Empty' and b['run_type'] == 'iteration']")"
		"$T/bm" --benchmark_format=json --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
			--benchmark_min_time=0.01 >"$T/gba.json" 2>/dev/null
		expect_exit 0 "Google Benchmark aggregates-only output ingests" "$PERFGATE" ingest --no-store -q \
			--out "$T/gba-run.json" "$T/gba.json"
		same "Google Benchmark aggregates only: the median is the one sample" \
			"$(pyq "$T/gba-run.json" "[[round(v * 1e9, 6) for v in m['samples']] for b in d['benchmarks'] if b['name'] == 'BM_Empty' for m in b['metrics'] if m['name'] == 'cpu_time'][0]")" \
			"$(pyq "$T/gba.json" "[round(b['cpu_time'], 6) for b in d['benchmarks'] if b['run_name'] == 'BM_Empty' and b['aggregate_name'] == 'median']")"
	else
		not_ok "the Google Benchmark example builds: $(head -c 300 "$T/gxx.err")"
	fi
else
	skip "Google Benchmark output ingests" "g++ or libbenchmark-dev not installed"
fi

if "$PY" -c 'import pytest_benchmark' >/dev/null 2>&1; then
	mkdir -p "$T/py" && cp "$FIX/pytest_source.py" "$T/py/test_pb.py"
	( cd "$T/py" && "$PY" -m pytest -q -p no:cacheprovider test_pb.py --benchmark-json="$T/pb.json" \
		--benchmark-save-data --benchmark-min-rounds=5 --benchmark-max-time=0.000001 >/dev/null 2>&1 )
	expect_exit 0 "pytest-benchmark output ingests" "$PERFGATE" ingest -f pytest-benchmark --no-store -q \
		--out "$T/pb-run.json" "$T/pb.json"
	close "pytest-benchmark: every round is a sample" \
		"$(pyq "$T/pb-run.json" "[b['metrics'][0]['samples'] for b in d['benchmarks'] if b['name'] == 'test_sorted'][0]")" \
		"$(pyq "$T/pb.json" "[b['stats']['data'] for b in d['benchmarks'] if b['name'] == 'test_sorted'][0]")"
else
	skip "pytest-benchmark output ingests" "python3-pytest-benchmark not installed"
fi

if command -v go >/dev/null 2>&1; then
	cp -r "$FIX/go_source" "$T/go"
	( cd "$T/go" && GOCACHE="$T/gocache" GOPATH="$T/gopath" GOFLAGS=-mod=mod GO111MODULE=on \
		go test -run '^$' -bench . -benchmem -count 2 -benchtime 200x >"$T/go.txt" 2>&1 )
	expect_exit 0 "go test -bench output ingests" "$PERFGATE" ingest --no-store -q --out "$T/go-run.json" "$T/go.txt"
	contains "auto detection names go" "$ERR" "looks like go output"
	same "go: each -count line is a sample (ns/op -> s)" \
		"$(pyq "$T/go-run.json" "[[round(v * 1e9, 3) for v in m['samples']] for b in d['benchmarks'] if b['name'] == 'BenchmarkJoin' for m in b['metrics'] if m['name'] == 'time'][0]")" \
		"$("$PY" -c 'import sys
print([float(l.split()[2]) for l in open(sys.argv[1]) if l.startswith("BenchmarkJoin")])' "$T/go.txt")"
else
	skip "go test -bench output ingests" "golang-go not installed (large; not in TEST_DEBS)"
fi

# ---- every fixture through the command line ----

for f in hyperfine.json:hyperfine gbench_repetitions.json:google-benchmark \
	gbench_aggregates_only.json:google-benchmark pytest_benchmark.json:pytest-benchmark \
	pytest_benchmark_nodata.json:pytest-benchmark go_bench.txt:go k6_summary_export.json:k6 \
	k6_handle_summary.json:k6 vllm_serving.json:vllm vllm_appended.json:vllm locust_stats.csv:locust \
	jmh.json:jmh catch2.xml:catch2; do
	file=${f%%:*}
	fmt=${f#*:}
	expect_exit 0 "fixture $file ingests as $fmt" "$PERFGATE" ingest -f "$fmt" --no-store -q --out "$T/fx.json" "$FIX/$file"
	same "fixture $file: source is $fmt" "$(pyq "$T/fx.json" "sorted(set(b['source'] for b in d['benchmarks']))")" "['$fmt']"
	expect_exit 0 "fixture $file is detected" "$PERFGATE" ingest --no-store -q "$FIX/$file"
	contains "fixture $file detected as $fmt" "$ERR" "looks like $fmt output"
done
expect_exit 0 "standard input is read with '-'" sh -c "'$PERFGATE' ingest -f go --no-store -q --out '$T/stdin.json' - <'$FIX/go_bench.txt'"
same "standard input: three Go benchmarks" "$(pyq "$T/stdin.json" "len(d['benchmarks'])")" "3"
expect_exit 0 "--name names a single-test benchmark" "$PERFGATE" ingest --no-store -q --name chat --out "$T/n.json" "$FIX/vllm_serving.json"
same "--name: the vllm benchmark is 'chat'" "$(pyq "$T/n.json" "d['benchmarks'][0]['name']")" "chat"
same "ttft.p99 in seconds" "$(pyq "$T/n.json" "[m['samples'] for m in d['benchmarks'][0]['metrics'] if m['name'] == 'ttft.p99'][0]")" \
	"$(pyq "$FIX/vllm_serving.json" "[d['p99_ttft_ms'] / 1000]")"

# ---- bad input: exit 2, one line, nothing stored ----

URL=$(new_db ingest)
printf '{"results": [{"command": "x", "times": [0.1, NaN]}]}' >"$T/nan.json"
printf '{"results": [{"command": "x", "times": [0.1, -0.5]}]}' >"$T/neg.json"
head -c 200 "$FIX/hyperfine.json" >"$T/trunc.json"
printf '{"benchmarks": [{"name": "a", "real_time": 1, "cpu_time": 1, "time_unit": "fortnights"}]}' >"$T/unit.json"
printf '{"results": []}' >"$T/empty.json"
printf 'BenchmarkX-8 100 12 ns/op\nBenchmarkX-8 100 twelve ns/op\n' >"$T/bad.txt"
printf 'hello\n' >"$T/unknown.txt"
for c in "nan.json:line 1 column 46: 'NaN' is not a number JSON allows" \
	"neg.json:results[0].times[1]: expected a value >= 0, got -0.5" \
	"trunc.json:unexpected end of input: the JSON document is truncated" \
	"unit.json:benchmarks[0].time_unit: unknown time unit 'fortnights'" \
	"empty.json:results: empty, no benchmark results" \
	"bad.txt:line 2: 'twelve' is not a number" \
	"unknown.txt:cannot tell which harness wrote it; name it with --format"; do
	file=${c%%:*}
	msg=${c#*:}
	expect_exit 2 "bad input $file exits 2" "$PERFGATE" ingest --db "$URL" "$T/$file"
	contains "bad input $file: the message names the file" "$ERR" "perfgate: cannot ingest '$T/$file': "
	contains "bad input $file: says what is wrong" "$ERR" "$msg"
	same "bad input $file: one line" "$(wc -l <"$ERR" | tr -d ' ')" "1"
done
expect_exit 2 "an unknown format exits 2" "$PERFGATE" ingest -f hyperfin --no-store "$FIX/hyperfine.json"
contains "an unknown format suggests the closest" "$ERR" "did you mean 'hyperfine'?"
same "bad input stored nothing" "$(psql_q "$URL" "select count(*) from runs" 2>/dev/null || echo 0)" "0"

# ---- storing ----

expect_exit 0 "ingest stores the run" "$PERFGATE" ingest --db "$URL" --suite micro --project demo -q "$FIX/go_bench.txt"
same "one run stored, suite and project as given" "$(psql_q "$URL" "select count(*), min(suite), min(project) from runs")" "1|micro|demo"
same "the samples are stored per repetition" \
	"$(psql_q "$URL" "select n, array_length(samples, 1), unit, direction from results where benchmark = 'BenchmarkJoin' and metric = 'time'")" \
	"3|3|s|lower"
same "stored sample in seconds" \
	"$(psql_q "$URL" "select round((samples[2] * 1e9)::numeric, 2) from results where benchmark = 'BenchmarkJoin' and metric = 'time'")" \
	"42.85"
same "results are kind ingest" "$(psql_q "$URL" "select distinct kind from results")" "ingest"

# ---- "ingest" in a suite ----

mkdir -p "$T/suite"
cat >"$T/suite/suite.json" <<EOF
{"suite": "harnesses", "project": "demo",
 "benchmarks": [
  {"name": "gb", "command": ["cat", "$FIX/gbench_repetitions.json"], "ingest": "google-benchmark"},
  {"name": "load", "shell": "cp '$FIX/k6_summary_export.json' summary.json",
   "ingest": {"format": "k6", "output": "summary.json"}, "repetitions": 3},
  {"name": "go", "command": ["cat", "$FIX/go_bench.txt"], "ingest": "auto"}
 ]}
EOF
expect_exit 0 "a suite with ingest benchmarks runs" "$PERFGATE" run --no-store -q --out "$T/suite-run.json" "$T/suite/suite.json"
same "harness benchmarks are named suite-benchmark/harness-name" \
	"$(pyq "$T/suite-run.json" "sorted(b['name'] for b in d['benchmarks'])")" \
	"['gb/BM_Empty', 'gb/BM_StringCopy/4096', 'gb/BM_StringCopy/64', 'go/BenchmarkJoin', 'go/BenchmarkRepeat/xn=4', 'go/BenchmarkRepeat/xn=4#01', 'load']"
same "a one-run format runs once per repetition" \
	"$(pyq "$T/suite-run.json" "[len(m['samples']) for b in d['benchmarks'] if b['name'] == 'load' for m in b['metrics'] if m['name'] == 'http_req_duration.p95'][0]")" "3"
same "a format with its own repetitions runs once" \
	"$(pyq "$T/suite-run.json" "[len(m['samples']) for b in d['benchmarks'] if b['name'] == 'go/BenchmarkJoin' for m in b['metrics'] if m['name'] == 'time'][0]")" "3"
same "every harness benchmark has the suite benchmark's config hash" \
	"$(pyq "$T/suite-run.json" "len(set(b['config_hash'] for b in d['benchmarks'] if b['name'].startswith('gb/')))")" "1"

cat >"$T/suite/bad.json" <<EOF
{"suite": "bad", "benchmarks": [
  {"name": "a", "command": ["true"], "ingest": "hyperfin"},
  {"name": "b", "command": ["true"], "ingest": {"format": "k6", "outptu": "x"}}]}
EOF
expect_exit 2 "a misspelled ingest format is a suite error" "$PERFGATE" run --no-store "$T/suite/bad.json"
contains "the misspelled format is named with a suggestion" "$ERR" "benchmarks[0].ingest: unknown ingest format 'hyperfin'; did you mean 'hyperfine'?"
contains "an unknown ingest key is named" "$ERR" "benchmarks[1].ingest.outptu"

cat >"$T/suite/fail.json" <<EOF
{"suite": "fail", "benchmarks": [
  {"name": "garbled", "command": ["echo", "{\"results\": [{\"command\": 1}]}"], "ingest": "hyperfine"},
  {"name": "dies", "shell": "exit 3", "ingest": "go"},
  {"name": "fine", "command": ["cat", "$FIX/go_bench.txt"], "ingest": "go"}]}
EOF
expect_exit 3 "harness output that does not parse fails the benchmark (exit 3)" "$PERFGATE" run --no-store --out "$T/fail-run.json" "$T/suite/fail.json"
same "the failures say why, the rest still ran" \
	"$(pyq "$T/fail-run.json" "[(b['name'], b['status'], b.get('error')) for b in d['benchmarks'] if b['status'] != 'ok'] + [len([b for b in d['benchmarks'] if b['status'] == 'ok'])]")" \
	"[('garbled', 'failed', 'run 1: the hyperfine output is not valid: results[0].command: expected a string, got a number'), ('dies', 'failed', 'measured run 1: exited with status 3'), 3]"

cat >"$T/suite/hooks.json" <<EOF2
{"suite": "hooks", "benchmarks": [
  {"name": "h", "setup": "echo set > setup.txt", "prepare": "echo p >> prep.txt", "conclude": "echo c >> conc.txt",
   "cleanup": "echo done > cleanup.txt", "shell": "cat '$FIX/k6_handle_summary.json'", "ingest": "k6", "repetitions": 2},
  {"name": "badsetup", "setup": "exit 7", "command": ["cat", "$FIX/go_bench.txt"], "ingest": "go"}]}
EOF2
expect_exit 3 "setup that fails fails its benchmark only" "$PERFGATE" run --no-store -q --out "$T/hooks-run.json" "$T/suite/hooks.json"
same "setup, prepare, conclude, cleanup run as for command benchmarks" \
	"$(cat "$T/suite/setup.txt" "$T/suite/cleanup.txt"; wc -l <"$T/suite/prep.txt" | tr -d ' '; wc -l <"$T/suite/conc.txt" | tr -d ' ')" \
	"$(printf 'set\ndone\n2\n2')"
same "the failed setup is named" "$(pyq "$T/hooks-run.json" "[b['error'] for b in d['benchmarks'] if b['name'] == 'badsetup'][0]")" "setup exited with status 7"
same "each harness benchmark names the suite benchmark that produces it" \
	"$(pyq "$T/suite-run.json" "sorted(set(b['suite_benchmark'] for b in d['benchmarks']))")" "['gb', 'go', 'load']"

# ---- several files: several runs ----
expect_exit 0 "several files are several runs" "$PERFGATE" ingest --no-store -q --out "$T/multi.json" \
	"$FIX/locust_stats.csv" "$FIX/locust_stats.csv" "$FIX/locust_stats.csv"
same "three Locust files give three samples per metric" \
	"$(pyq "$T/multi.json" "[len(m['samples']) for b in d['benchmarks'] if b['name'] == 'GET /' for m in b['metrics'] if m['name'] == 'throughput'][0]")" "3"
expect_exit 2 "a bad file among several exits 2 and names it" "$PERFGATE" ingest --no-store "$FIX/k6_summary_export.json" "$T/neg.json"
contains "the bad file is named" "$ERR" "cannot ingest '$T/neg.json': "
