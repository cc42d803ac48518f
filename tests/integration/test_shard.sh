#!/bin/sh
# Shards of a distributed load test (docs/shards.md) against a loopback
# server and the embedded database under a private PERFGATE_HOME: four
# shard processes started together through the database's rendezvous,
# merged and gated; the merged numbers against the shards' own; a shard
# that comes late; a shard that never comes (exit 4, or --partial); a
# shard of another suite configuration refused; shards started at
# --start-at without a database, merged from their files; the shard's
# identity from GitLab's variables.
. tests/integration/lib.sh
# (Not T=$(test_tmpdir): the embedded cluster's cleanup needs a trap here.)
T=$(mktemp -d /tmp/perfgate-it.XXXXXX)
chmod 755 "$T"
SRV=tests/servers/misbehave.py
python3 "$SRV" "$T/port" &
SRV_PID=$!
cleanup() {
	kill $SRV_PID 2>/dev/null
	for p in $(cat "$T/pids" 2>/dev/null); do kill "$p" 2>/dev/null; done
	[ -e "$T/home/pg" ] && PERFGATE_HOME="$T/home" "$PERFGATE" db stop >/dev/null 2>&1
	l=$(readlink "$T/home/pg" 2>/dev/null) && case "$l" in /var/lib/perfgate/clusters/?*) rm -rf "$l" ;; esac
	rm -rf "$T"
}
trap cleanup EXIT
unset PERFGATE_DATABASE_URL PGHOST PGSERVICE PERFGATE_SHARD PERFGATE_SHARD_GROUP CI_NODE_INDEX CI_NODE_TOTAL \
	JOB_COMPLETION_INDEX PERFGATE_SHARDS GITHUB_RUN_ID CI_PIPELINE_ID
export PERFGATE_HOME="$T/home"
i=0
while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
U="http://127.0.0.1:$(cat "$T/port")"

# suite FILE LOAD_JSON: a suite of one HTTP benchmark and one command benchmark.
suite() {
	printf '{"suite": "shard-it", "benchmarks": [{"name": "ok", "http": {"url": "%s/ok"}, "load": %s}, {"name": "true", "command": ["true"], "repetitions": 3}]}\n' "$U" "$2" >"$1"
}
suite "$T/suite.json" '{"mode": "concurrency", "concurrency": 4, "duration": "2s"}'
suite "$T/other.json" '{"mode": "concurrency", "concurrency": 8, "duration": "2s"}'

# shard GROUP I N [ARGS...]: one shard in the background, its exit code in
# $T/GROUP.I.rc, its run document in $T/GROUP.I.json.
shard() {
	_g=$1; _i=$2; _n=$3; shift 3
	( timeout 120 "$PERFGATE" run -q --shard "$_i/$_n" --shard-group "$_g" --out "$T/$_g.$_i.json" "$@" \
		>"$T/$_g.$_i.out" 2>"$T/$_g.$_i.err"; echo $? >"$T/$_g.$_i.rc" ) &
	echo $! >>"$T/pids"
	SHARDS="$SHARDS $!"
}
# wait_shards: wait for the shards started so far (not for the server).
wait_shards() {
	wait $SHARDS
	SHARDS=""
}
SHARDS=""
rc_of() { cat "$T/$1.rc" 2>/dev/null || echo none; }
# py EXPR FILES...: a Python expression over the run documents d[0], d[1], ...
py() {
	_e=$1; shift
	python3 - "$_e" "$@" <<'PY'
import json, sys
d = [json.load(open(f)) for f in sys.argv[2:]]
def bench(doc, name="ok"):
    return [b for b in doc["benchmarks"] if b["name"] == name][0]
def metric(doc, name, bench_name="ok"):
    return [m for m in bench(doc, bench_name)["metrics"] if m["name"] == name][0]["samples"][0]
print(eval(sys.argv[1]))
PY
}
is() { # LABEL EXPR FILES...
	_l=$1; shift
	if [ "$(py "$@" 2>&1)" = True ]; then ok "$_l"; else not_ok "$_l: $(py "$@" 2>&1 | tail -n 1)"; fi
}

# ---- four shards through the database ----
expect_exit 0 "the embedded cluster starts" "$PERFGATE" db start
for i in 1 2 3 4; do shard g4 $i 4 --shard-timeout 60s "$T/suite.json"; done
wait_shards
for i in 1 2 3 4; do
	[ "$(rc_of g4.$i)" = 0 ] && ok "shard $i of 4 ran" || not_ok "shard $i of 4 exit $(rc_of g4.$i): $(head -c 300 "$T/g4.$i.err")"
done
is "the four shards were given one start" \
	"len({bench(x)['shard']['steps'][0]['start']['planned'] for x in d}) == 1" "$T"/g4.?.json
is "each shard started within 100 ms of it" \
	"all(abs(bench(x)['shard']['steps'][0]['start']['late']) < 0.1 for x in d)" "$T"/g4.?.json
is "each shard's clock offset was measured against the database" \
	"all(bench(x)['shard']['steps'][0]['start']['source'] == 'database' and bench(x)['shard']['steps'][0]['start']['uncertainty'] >= 0 for x in d)" "$T"/g4.?.json
is "each shard kept one connection of the four" \
	"all(bench(x)['generator'][0]['connections_opened'] >= 1 and metric(x, 'throughput') > 0 for x in d)" "$T"/g4.?.json
is "only shard 1 ran the command benchmark" \
	"[any(b['name'] == 'true' for b in x['benchmarks']) for x in d] == [True, False, False, False]" "$T"/g4.?.json
expect_exit 0 "db status after the shards" "$PERFGATE" db status
contains "the shards' runs are not runs (never baselines)" "$OUT" "runs:     0"

expect_exit 0 "gate --shards 4 merges and gates" "$PERFGATE" gate -q --shards 4 --shard-group g4 \
	--run-out "$T/g4.merged.json" "$T/suite.json"
is "the merged run counts every shard's requests" \
	"[m for m in bench(d[0])['metrics'] if m['name'] == 'latency.p50'][0]['histogram']['n'] == sum(bench(x)['shard']['steps'][0]['result']['ok'] for x in d[1:])" \
	"$T/g4.merged.json" "$T"/g4.?.json
is "its throughput is the shards' summed" \
	"abs(metric(d[0], 'throughput') - sum(metric(x, 'throughput') for x in d[1:])) < 1e-6 * metric(d[0], 'throughput')" \
	"$T/g4.merged.json" "$T"/g4.?.json
is "its latency max is the largest shard's" \
	"metric(d[0], 'latency.max') == max(metric(x, 'latency.max') for x in d[1:])" "$T/g4.merged.json" "$T"/g4.?.json
is "its series adds the shards' interval by interval" \
	"sum(bench(d[0])['timeseries'][0]['sent']) == sum(sum(bench(x)['timeseries'][0]['sent']) for x in d[1:])" \
	"$T/g4.merged.json" "$T"/g4.?.json
is "each shard's facts are kept" \
	"[s['index'] for s in bench(d[0])['generator'][0]['shards']] == [1, 2, 3, 4] and d[0]['shards']['merged'] == [1, 2, 3, 4]" \
	"$T/g4.merged.json"
is "the command benchmark came from shard 1" "metric(d[0], 'wall', 'true') > 0" "$T/g4.merged.json"
if python3 -c 'import jsonschema; jsonschema.Draft202012Validator' 2>/dev/null; then
	is "a shard's run and the merged run are valid run documents (schemas/run.schema.json)" \
		"[__import__('jsonschema').Draft202012Validator(json.load(open('schemas/run.schema.json'))).is_valid(x) for x in d] == [True, True]" \
		"$T/g4.1.json" "$T/g4.merged.json"
fi
expect_exit 0 "db status after the gate" "$PERFGATE" db status
contains "the store keeps the merged run" "$OUT" "runs:     1"
# Assembled from the shards' documents, in this job's own context: it may be a
# baseline (docs/security.md).
got=$(psql "host=$(readlink -f "$T/home/pg") port=5432 user=perfgate dbname=postgres" -qAt \
	-c "select baseline_eligible from runs" 2>&1)
[ "$got" = t ] && ok "the merged run, in the merging job's context, may be a baseline" || not_ok "merged run eligible: $got"
expect_exit 0 "merge of the same group again" "$PERFGATE" merge -q --shard-group g4 --out "$T/g4.again.json"
contains "the same shards make the same run, stored once" "$OUT" "(stored before)"
is "with the same run id" "d[0]['run_id'] == d[1]['run_id']" "$T/g4.merged.json" "$T/g4.again.json"

# ---- a shard of another suite configuration ----
expect_exit 2 "a shard of another configuration is refused" "$PERFGATE" run -q --shard 2/4 --shard-group g4 \
	--no-store "$T/other.json"
contains "the refusal names the group and says why" "$ERR" "shard group 'g4' is a group of 4 shards running suite configuration"
expect_exit 2 "gate --shards with another suite refuses the shards" "$PERFGATE" gate -q --shards 4 --shard-group g4 \
	--no-store "$T/other.json"
contains "the gate's refusal names the configuration" "$ERR" "ran a different suite configuration"

# ---- a shard that comes late ----
for i in 1 2 3; do shard late $i 4 --shard-timeout 3s "$T/suite.json"; done
sleep 6
shard late 4 4 --shard-timeout 3s "$T/suite.json"
wait_shards
[ "$(rc_of late.4)" = 0 ] && ok "the late shard ran" || not_ok "late shard exit $(rc_of late.4): $(head -c 300 "$T/late.4.err")"
is "the others did not wait past the deadline for it" \
	"len({bench(x)['shard']['steps'][0]['start']['planned'] for x in d}) == 1 and bench(d[3])['shard']['steps'][0]['start']['late'] > 1" \
	"$T"/late.?.json
expect_exit 3 "the merged run of a late shard is invalid" "$PERFGATE" gate -q --shards 4 --shard-group late "$T/suite.json"
contains "the message names the late shard" "$ERR" "shard 4 of 4"
contains "and says it began after the agreed start" "$ERR" "after the agreed start"

# ---- a shard that never comes ----
for i in 1 2 3; do shard miss $i 4 --shard-timeout 2s "$T/suite.json"; done
wait_shards
expect_exit 4 "a missing shard: exit 4 after the timeout" "$PERFGATE" gate -q --shards 4 --shard-group miss \
	--shard-timeout 2s "$T/suite.json"
contains "the message names the missing shard" "$ERR" "shard 4 of 4 of group 'miss' did not arrive within 2s"
expect_exit 0 "--partial merges the shards that came" "$PERFGATE" merge -q --shard-group miss --shard-timeout 1s \
	--partial --no-store --out "$T/miss.merged.json"
contains "and says so" "$ERR" "merged 3 of 4 shards of group 'miss': shard 4 missing"
is "the partial run is marked" \
	"d[0]['shards']['missing'] == [4] and any('merged from 3 of 4 shards' in w for w in bench(d[0])['warnings'])" \
	"$T/miss.merged.json"
is "under a configuration of its own (never a baseline for the whole)" \
	"bench(d[0])['config_hash'] != bench(d[1])['config_hash']" "$T/miss.merged.json" "$T/miss.1.json"

# ---- without a database: --start-at, files ----
suite "$T/rate.json" '{"mode": "rate", "rate": 40, "arrival": "constant", "duration": "2s"}'
at=$(( $(date +%s) + 3 ))
for i in 1 2; do shard files $i 2 --no-store --start-at "$at" "$T/rate.json"; done
wait_shards
[ "$(rc_of files.1)$(rc_of files.2)" = 00 ] && ok "two shards started at --start-at" || not_ok "exit $(rc_of files.1) $(rc_of files.2): $(head -c 300 "$T/files.1.err")"
is "both began at the time given" \
	"all(bench(x)['shard']['steps'][0]['start']['planned'] == $at and abs(bench(x)['shard']['steps'][0]['start']['late']) < 0.1 for x in d)" \
	"$T"/files.?.json
is "each sent half of the rate" "all(19 <= metric(x, 'offered_rate') <= 21 for x in d)" "$T"/files.?.json
expect_exit 0 "merge of the files" "$PERFGATE" merge -q --no-store --out "$T/files.merged.json" "$T"/files.?.json
is "the merged rate is the declared one" "39 <= metric(d[0], 'offered_rate') <= 41" "$T/files.merged.json"
expect_exit 4 "a missing file's shard: exit 4" "$PERFGATE" merge -q --no-store "$T/files.1.json"
contains "naming it" "$ERR" "shard 2 of 2 of group 'files' missing"
expect_exit 2 "a file of another group is refused" "$PERFGATE" merge -q --no-store "$T/files.1.json" "$T/g4.2.json"
expect_exit 2 "a run that is no shard's is refused" "$PERFGATE" merge -q --no-store "$T/g4.merged.json"
expect_exit 0 "gate --shards over files" "$PERFGATE" gate -q --no-store --shards 2 "$T/rate.json" "$T"/files.?.json

# ---- who a shard is, from GitLab's variables ----
at=$(( $(date +%s) + 3 ))
for i in 1 2; do
	( CI_NODE_INDEX=$i CI_NODE_TOTAL=2 CI_PIPELINE_ID=77 timeout 60 "$PERFGATE" run -q --no-store --start-at "$at" \
		--out "$T/gl.$i.json" "$T/suite.json" >/dev/null 2>"$T/gl.$i.err"; echo $? >"$T/gl.$i.rc" ) &
	SHARDS="$SHARDS $!"
done
wait_shards
is "CI_NODE_INDEX/CI_NODE_TOTAL make shards of the pipeline's group" \
	"[(x['shard']['index'], x['shard']['count'], x['shard']['group']) for x in d] == [(1, 2, 'gitlab-77/shard-it'), (2, 2, 'gitlab-77/shard-it')]" \
	"$T/gl.1.json" "$T/gl.2.json"
expect_exit 0 "--shard off ignores them" env CI_NODE_INDEX=1 CI_NODE_TOTAL=2 "$PERFGATE" run -q --no-store --shard off \
	--out "$T/off.json" "$T/suite.json"
is "an ordinary run" "'shard' not in d[0]" "$T/off.json"
printf '{"suite": "cap", "benchmarks": [{"name": "cap", "http": {"url": "%s/ok"}, "load": {"mode": "capacity", "start_rate": 10, "step_duration": "1s"}, "slo": {"latency.p99": "< 1s"}}, {"name": "few", "http": {"url": "%s/ok"}, "load": {"concurrency": 1, "duration": "1s"}}]}\n' "$U" "$U" >"$T/cap.json"
expect_exit 2 "what cannot be split is refused before anything runs" env CI_NODE_INDEX=1 CI_NODE_TOTAL=2 \
	"$PERFGATE" run -q --no-store --start-at "$at" "$T/cap.json"
contains "a capacity search" "$ERR" "cap.load: a capacity search cannot be sharded"
contains "a concurrency below the shards" "$ERR" "few.load.concurrency: 1 cannot be split over 2 shards"
