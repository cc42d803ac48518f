#!/bin/sh
# `perfgate run`: invalid suites, a run stored in PostgreSQL and read back
# with psql, a failing benchmark among passing ones, --out, --format json,
# Ctrl-C (partial --out, nothing stored), an unreachable database (spooled).
. tests/integration/lib.sh
T=$(test_tmpdir)
export PERFGATE_HOME="$T/home"
DB=$(new_db run)

# --- invalid input: exit 2, every problem listed -------------------------
cat >"$T/bad.json" <<'JSON'
{"suite": "bad", "benchmarks": [
  {"name": "a", "command": ["true"], "repetitions": "ten"},
  {"name": "b", "comand": ["true"]}
]}
JSON
expect_exit 2 "an invalid suite exits 2" "$PERFGATE" run --no-store "$T/bad.json"
contains "the problem count is given" "$ERR" "invalid suite '$T/bad.json' (3 problems):"
contains "a wrong type names its path" "$ERR" 'benchmarks[0].repetitions: expected an integer >= 1, got "ten"'
contains "an unknown key suggests the closest" "$ERR" 'benchmarks[1].comand: unknown key; did you mean "command"?'
contains "a missing kind is reported too" "$ERR" 'benchmarks[1]: expected one of "command", "shell", "http" or "journey"'
expect_exit 2 "a missing suite file exits 2" "$PERFGATE" run --no-store "$T/none.json"
contains "a missing suite names the file" "$ERR" "perfgate: cannot open suite '$T/none.json': No such file or directory"
expect_exit 2 "run without a suite exits 2" "$PERFGATE" run
expect_exit 2 "a malformed --tag exits 2" "$PERFGATE" run --no-store --tag novalue "$T/bad.json"
expect_exit 2 "--repetitions 0 exits 2" "$PERFGATE" run --no-store --repetitions 0 "$T/bad.json"

# --- a run stored and read back --------------------------------------------
cat >"$T/emit.sh" <<'SH'
printf '{"accuracy": {"value": 0.93, "direction": "higher"}, "tokens_per_s": 120}' > "$PERFGATE_METRICS_FILE"
SH
cat >"$T/good.json" <<'JSON'
{"suite": "it", "project": "perfgate-it",
 "defaults": {"repetitions": 3},
 "benchmarks": [
  {"name": "sleep-{ms}ms", "params": {"ms": [10, 20]}, "command": ["sleep", "0.0{ms}"], "warmup": 1},
  {"name": "emit", "command": ["sh", "emit.sh"], "emits": "json", "repetitions": 6}
]}
JSON
expect_exit 0 "a passing suite exits 0" "$PERFGATE" run --db "$DB" --tag pr=42 --out "$T/run.json" "$T/good.json"
contains "the table names each benchmark" "$OUT" "sleep-20ms"
contains "the table shows emitted metrics" "$OUT" "accuracy"
contains "the table gives the run id" "$OUT" "run "
RUN_ID=$(sed -n 's/^run \([0-9a-f-]*\)$/\1/p' "$OUT")
contains "without a terminal: one plain line per benchmark" "$ERR" "sleep-10ms: ok (3 repetitions"
lacks "without a terminal: no carriage returns" "$ERR" "$(printf '\r')"
[ -n "$RUN_ID" ] && ok "the run id is printed" || not_ok "the run id is printed"
got=$(psql_q "$DB" "select project || ' ' || suite || ' ' || (tags->>'pr') from runs where run_id = '$RUN_ID'")
[ "$got" = "perfgate-it it 42" ] && ok "the run is stored with project, suite, tags" || not_ok "stored run: '$got'"
got=$(psql_q "$DB" "select string_agg(benchmark || ':' || metric || ':' || n, ',' order by benchmark, metric) from results where run_id = '$RUN_ID' and metric in ('wall', 'accuracy')")
[ "$got" = "emit:accuracy:6,emit:wall:6,sleep-10ms:wall:3,sleep-20ms:wall:3" ] && ok "results per benchmark and metric with n" || not_ok "results: '$got'"
# The stored median is the median of the stored samples (computed by PostgreSQL).
got=$(psql_q "$DB" "select bool_and(abs(median - (select percentile_cont(0.5) within group (order by s) from unnest(samples) s)) < 1e-12) from results where run_id = '$RUN_ID'")
[ "$got" = "t" ] && ok "stored medians match the samples" || not_ok "medians: '$got'"
# sleep 0.02 cannot take less than 20 ms of wall time.
got=$(psql_q "$DB" "select min(s) >= 0.02 from results, unnest(samples) s where run_id = '$RUN_ID' and benchmark = 'sleep-20ms' and metric = 'wall'")
[ "$got" = "t" ] && ok "wall time of sleep 0.02 is at least 20 ms" || not_ok "sleep wall: '$got'"
got=$(psql_q "$DB" "select direction || ' ' || samples[1] from results where run_id = '$RUN_ID' and metric = 'accuracy'")
[ "$got" = "higher 0.93" ] && ok "emitted metric keeps direction and value" || not_ok "accuracy: '$got'"
got=$(psql_q "$DB" "select count(distinct config_hash) from results where run_id = '$RUN_ID'")
[ "$got" = "3" ] && ok "each expanded benchmark has its own config hash" || not_ok "hashes: '$got'"
got=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d['run_id'], len(d['benchmarks']), d['partial'])" "$T/run.json")
[ "$got" = "$RUN_ID 3 False" ] && ok "--out holds the same run" || not_ok "--out: '$got'"

# --- a failing benchmark among passing ones --------------------------------
cat >"$T/fail.json" <<'JSON'
{"suite": "it-fail", "benchmarks": [
  {"name": "first", "command": ["true"], "repetitions": 2},
  {"name": "broken", "shell": "echo 'disk full' >&2; exit 5", "repetitions": 2},
  {"name": "last", "command": ["true"], "repetitions": 2}
]}
JSON
expect_exit 3 "a failing benchmark exits 3" "$PERFGATE" run --db "$DB" "$T/fail.json"
contains "the failure is reported" "$ERR" "perfgate: benchmark 'broken' failed: repetition 1: exited with status 5"
contains "the report shows the failing command's stderr" "$OUT" "| disk full"
got=$(psql_q "$DB" "select string_agg(distinct benchmark || '=' || status, ',' order by benchmark || '=' || status) from results r join runs u using (run_id) where u.suite = 'it-fail'")
[ "$got" = "broken=failed,first=ok,last=ok" ] && ok "the passing benchmarks are stored, the failed one marked" || not_ok "stored: '$got'"

# --- --format json, --bench ------------------------------------------------
expect_exit 0 "--format json" "$PERFGATE" run --no-store --format json --bench 'sleep-1*' "$T/good.json"
got=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print([b['name'] for b in d['benchmarks']])" "$OUT")
[ "$got" = "['sleep-10ms']" ] && ok "--bench selects by glob and json goes to stdout" || not_ok "json: '$got'"
expect_exit 0 "--bench twice selects either" "$PERFGATE" run --no-store --format json --bench 'sleep-2*' -b emit -n 1 "$T/good.json"
got=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print([b['name'] for b in d['benchmarks']])" "$OUT")
[ "$got" = "['sleep-20ms', 'emit']" ] && ok "--bench is repeatable" || not_ok "two --bench: '$got'"
expect_exit 2 "--bench matching nothing exits 2" "$PERFGATE" run --no-store --bench 'zzz*' "$T/good.json"
contains "--bench matching nothing says so" "$ERR" "no benchmark of suite 'it' matches 'zzz*'"

# --- Ctrl-C: children killed, finished benchmarks to --out, nothing stored --
cat >"$T/long.json" <<JSON
{"suite": "it-int", "benchmarks": [
  {"name": "quick", "command": ["true"], "repetitions": 2},
  {"name": "slow", "shell": "echo \$\$ > $T/slow.pid; exec sleep 60", "repetitions": 2}
]}
JSON
"$PERFGATE" run --db "$DB" --out "$T/partial.json" "$T/long.json" >"$T/int.out" 2>"$T/int.err" &
pid=$!
i=0
while [ ! -s "$T/slow.pid" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
kill -INT $pid
wait $pid
rc=$?
[ $rc -eq 3 ] && ok "Ctrl-C exits 3" || not_ok "Ctrl-C exit $rc: $(cat "$T/int.err")"
got=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d['partial'], [b['name'] for b in d['benchmarks']])" "$T/partial.json" 2>&1)
[ "$got" = "True ['quick']" ] && ok "--out has the finished benchmarks, marked partial" || not_ok "partial: '$got'"
got=$(psql_q "$DB" "select count(*) from runs where suite = 'it-int'")
[ "$got" = "0" ] && ok "an interrupted run is not stored" || not_ok "stored interrupted runs: '$got'"
spid=$(cat "$T/slow.pid")
if kill -0 "$spid" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$spid/status" 2>/dev/null; then
	not_ok "the interrupted command was killed"
	kill -9 "$spid"
else
	ok "the interrupted command was killed"
fi

# Interleaved: no benchmark has finished when the run is interrupted.
rm -f "$T/slow.pid"
sed 's/"suite": "it-int",/"suite": "it-int", "order": "interleaved",/' "$T/long.json" >"$T/long-il.json"
"$PERFGATE" run --db "$DB" --out "$T/partial-il.json" "$T/long-il.json" >"$T/int.out" 2>"$T/int.err" &
pid=$!
i=0
while [ ! -s "$T/slow.pid" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
kill -INT $pid
wait $pid
rc=$?
[ $rc -eq 3 ] && ok "Ctrl-C of an interleaved run exits 3" || not_ok "interleaved Ctrl-C exit $rc: $(cat "$T/int.err")"
got=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d['partial'], len(d['benchmarks']))" "$T/partial-il.json" 2>&1)
[ "$got" = "True 0" ] && ok "an interrupted interleaved run keeps no half-measured benchmark" || not_ok "interleaved partial: '$got'"
contains "the interruption is reported" "$T/int.err" "perfgate: interrupted: 0 of 2 benchmarks finished"

# --- database unreachable: exit 4, run spooled -----------------------------
expect_exit 4 "an unreachable database exits 4" "$PERFGATE" run --db "postgresql:///x?host=$T/nosocket&port=1" --bench first "$T/fail.json"
contains "the run is spooled" "$ERR" "run spooled to"
if grep -q '^run ' "$OUT"; then not_ok "a spooled run prints no stored run id"; else ok "a spooled run prints no stored run id"; fi
ls "$PERFGATE_HOME"/spool/*.json >/dev/null 2>&1 && ok "the spool holds the run" || not_ok "no spooled run in $PERFGATE_HOME/spool"

# --- the suite schema and perfgate agree on the example suites ------------
if python3 -c 'import jsonschema; jsonschema.Draft202012Validator' 2>/dev/null; then
	for f in examples/*.json; do
		python3 - "$f" <<'PY' || continue
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if isinstance(d, dict) and "suite" in d and "run_id" not in d else 1)
PY
		expect_exit 0 "perfgate accepts $f" "$PERFGATE" run --list "$f"
		got=$(python3 - "$f" <<'PY'
import json, sys, jsonschema
schema = json.load(open("schemas/suite.schema.json"))
jsonschema.Draft202012Validator.check_schema(schema)
errs = list(jsonschema.Draft202012Validator(schema).iter_errors(json.load(open(sys.argv[1]))))
print("; ".join("%s: %s" % ("/".join(map(str, e.absolute_path)), e.message[:120]) for e in errs) or "valid")
PY
)
		[ "$got" = valid ] && ok "schemas/suite.schema.json accepts $f" || not_ok "schema rejects $f: $got"
	done
	# The suites in docs/suite.md are valid too.
	python3 - "$T" <<'PY'
import json, re, sys
for i, block in enumerate(re.findall(r"```json\n(.*?)```", open("docs/suite.md").read(), re.S)):
    d = json.loads(block)
    if isinstance(d, dict) and "suite" in d and "benchmarks" in d:
        json.dump(d, open("%s/doc-suite-%d.json" % (sys.argv[1], i), "w"))
PY
	for f in "$T"/doc-suite-*.json; do
		[ -e "$f" ] || { not_ok "docs/suite.md has no suite example"; break; }
		expect_exit 0 "perfgate accepts the suite in docs/suite.md ($(basename "$f"))" "$PERFGATE" run --list "$f"
		got=$(python3 -c "import json,sys,jsonschema; print(len(list(jsonschema.Draft202012Validator(json.load(open('schemas/suite.schema.json'))).iter_errors(json.load(open(sys.argv[1]))))))" "$f")
		[ "$got" = 0 ] && ok "the schema accepts the suite in docs/suite.md" || not_ok "schema: $got errors in $f"
	done
	# ... and both reject a malformed one.
	got=$(python3 - "$T/bad.json" <<'PY'
import json, sys, jsonschema
schema = json.load(open("schemas/suite.schema.json"))
print(len(list(jsonschema.Draft202012Validator(schema).iter_errors(json.load(open(sys.argv[1]))))) > 0)
PY
)
	[ "$got" = True ] && ok "the schema rejects the malformed suite too" || not_ok "the schema accepts bad.json"
else
	not_ok "python3-jsonschema with draft 2020-12 is needed (Debian package python3-jsonschema)"
fi
got=$("$PERFGATE" run --list examples/quickstart.json | cut -f1 | tr '\n' ' ')
[ "$got" = "gzip-1 gzip-9 sort-numeric awk-sum gzip-instructions " ] && ok "--list names the expanded benchmarks" || not_ok "--list: '$got'"

# --- progress on a terminal: redrawn in place with \r --------------------
if command -v script >/dev/null 2>&1; then
	script -qec "'$PERFGATE' run --no-store --bench first '$T/fail.json'" /dev/null >"$T/tty.out" 2>&1
	contains "on a terminal, progress shows repetition i of n" "$T/tty.out" "first  repetition 2/2"
	if grep -qF "$(printf '\r\033[Kfirst  repetition 1/2')" "$T/tty.out"; then ok "on a terminal, progress is redrawn with a carriage return"; else not_ok "no carriage return animation"; fi
	expect_exit 0 "--quiet on a terminal" script -qec "'$PERFGATE' run --no-store -q --bench first '$T/fail.json'" /dev/null
	lacks "--quiet draws no progress" "$OUT" "repetition 1/2"
fi

# --- --warmup and --repetitions override the suite -------------------------
expect_exit 0 "--warmup and --repetitions" "$PERFGATE" run --no-store --format json -w 2 -n 4 --bench 'sleep-10ms' "$T/good.json"
got=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d['benchmarks'][0]['metrics'][0]['summary']['n'])" "$OUT")
[ "$got" = "4" ] && ok "--repetitions 4 gives 4 samples" || not_ok "--repetitions: n = '$got'"

# --- context: the git commit is stamped, the project comes from the remote --
mkdir -p "$T/repo/bench"
(
	cd "$T/repo" && git init -q -b main . && git config user.email t@example.com && git config user.name t &&
	git remote add origin https://example.com/acme/shop.git &&
	printf '{"suite": "ctx", "benchmarks": [{"name": "t", "command": ["true"], "repetitions": 1}]}' >bench/suite.json &&
	git add . && git commit -qm "first"
) >/dev/null 2>&1
expect_exit 0 "a suite inside a git repository" "$PERFGATE" run --no-store --format json "$T/repo/bench/suite.json"
got=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d['project'], d['git']['branch'], len(d['git']['commit']))" "$OUT")
[ "$got" = "shop main 40" ] && ok "project from the remote, branch and commit from the suite's repository" || not_ok "context: '$got'"

# --- DESIGN section 3's sketch is a valid suite (every module's validator) --
expect_exit 0 "DESIGN's example suite validates" "$PERFGATE" run --list tests/fixtures/suites/design.json
got=$(cut -f1,2 "$OUT" | tr '\t\n' ': ')
[ "$got" = "gzip-1:command gzip-6:command gzip-9:command classify:http chat:http micro:ingest " ] && ok "DESIGN's suite expands as documented" || not_ok "design: '$got'"

# --- A/B variants run interleaved, as in a gate, unless the suite says ----
cat >"$T/ab.json" <<'JSON'
{"suite": "ab", "benchmarks": [{"name": "ab", "shell": "true", "repetitions": 3, "reference": "a",
  "variants": [{"name": "a"}, {"name": "b", "shell": "true"}]}]}
JSON
expect_exit 0 "a suite with variants runs" "$PERFGATE" run --no-store --out "$T/ab-run.json" "$T/ab.json"
check "its variants ran interleaved (pairs, as a gate runs them)" python3 -c '
import json, sys
assert all(b.get("interleaved") for b in json.load(open(sys.argv[1]))["benchmarks"])' "$T/ab-run.json"
python3 -c 'import json, sys; s = json.load(open(sys.argv[1])); s["order"] = "sequential"; json.dump(s, open(sys.argv[2], "w"))' \
	"$T/ab.json" "$T/ab-seq.json"
expect_exit 0 "... and one that says \"order\": \"sequential\"" "$PERFGATE" run --no-store --out "$T/ab-seq-run.json" "$T/ab-seq.json"
check "runs them one after the other" python3 -c '
import json, sys
assert not any(b.get("interleaved") for b in json.load(open(sys.argv[1]))["benchmarks"])' "$T/ab-seq-run.json"

# --- interleaved rounds run in the suite's order every time ---------------
# Each variant appends its name to a log as it runs, warmups included: the
# warmups once each, then a b c in every round, so that no variant runs
# twice in a row (core/run.c, run_interleaved).
cat >"$T/order.json" <<JSON
{"suite": "order", "benchmarks": [{"name": "o", "shell": "printf %s \"\$V\" >>'$T/order.log'", "repetitions": 4,
  "warmup": 1, "reference": "a",
  "variants": [{"name": "a", "env": {"V": "a"}}, {"name": "b", "env": {"V": "b"}}, {"name": "c", "env": {"V": "c"}}]}]}
JSON
rm -f "$T/order.log"
expect_exit 0 "an interleaved suite of three variants runs" "$PERFGATE" run --no-store --out "$T/order-run.json" "$T/order.json"
got=$(cat "$T/order.log")
[ "$got" = "abc""abcabcabcabc" ] && ok "its rounds run in the suite's order, no variant twice in a row" ||
	not_ok "the order of the runs: '$got'"
