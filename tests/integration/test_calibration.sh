#!/bin/sh
# "calibration" on command benchmarks: a fixed command run beside every
# repetition, whose time divides out the machine's speed of the moment
# (docs/suite.md "Calibration").  The run document, the tracked raw times,
# a gate that fails on a real slowdown through the relative metrics, and a
# calibration that fails.
. tests/integration/lib.sh
T=$(test_tmpdir)
DB=$(new_db calibration)
export GIT_CONFIG_NOSYSTEM=1 HOME=$T PERFGATE_HOME=$T/home NO_COLOR=1
R=$T/repo

git_repo "$R" || exit 1
# The benchmark: a loop whose work is read from a file.  The calibration: the
# same loop at a fixed 10000 iterations.  The loops are long enough (tens of
# milliseconds) that they, not starting the shells, make most of the CPU time:
# with a few thousand iterations, three times the work showed as only +56% of
# user time, too close to the 40% floor for a test to rely on.
cat >"$R/loop.sh" <<'EOF2'
i=0; n=${1:-$(cat work)}; while [ $i -lt $n ]; do i=$((i+1)); done
EOF2
cat >"$R/suite.json" <<'EOF2'
{
  "suite": "calibration-test",
  "project": "calibration-test",
  "compare": {"min_effect": "40%"},
  "benchmarks": [
    {"name": "loop", "shell": "sh loop.sh", "calibration": ["sh", "loop.sh", "10000"], "repetitions": 8}
  ]
}
EOF2
echo 20000 >"$R/work"
git -C "$R" add -A && git -C "$R" commit -qm "loop at 20000"

expect_exit 0 "a run with a calibration" "$PERFGATE" run -q --no-store --out "$T/run.json" "$R/suite.json"
q() { python3 - "$T/run.json" "$1" <<'PY'
import json, statistics, sys
b = json.load(open(sys.argv[1]))["benchmarks"][0]
x = {m["name"]: m for m in b["metrics"]}
s = {k: v["samples"] for k, v in x.items()}
print(eval(sys.argv[2]))
PY
}
is() { _r=$(q "$2" 2>&1); if [ "$_r" = "True" ]; then ok "$1"; else not_ok "$1 (got: $_r)"; fi; }
is "wall_rel, cpu_rel and calibration_wall beside the raw times" \
	"all(len(s[k]) == 8 for k in ('wall', 'wall_rel', 'calibration_wall')) and len(s['cpu_rel']) >= 6"
is "wall_rel is each repetition's wall over its calibration's" \
	"all(abs(r - w / c) < 1e-9 * r for r, w, c in zip(s['wall_rel'], s['wall'], s['calibration_wall']))"
listed_hash() { "$PERFGATE" run --list "$1" 2>/dev/null | awk -F'\t' -v n="$2" '$1 == n { print $3 }'; }
h=$(listed_hash "$R/suite.json" loop)
is "a calibration command of one's own leaves the configuration hash as the suite declares it" \
	"len('$h') == 64 and b['config_hash'] == '$h'"
# The benchmark starts three processes (the shell of "shell", sh loop.sh and
# cat) around twice the loop; the calibration one, around the loop once: its
# cpu_rel is about 2 plus what starting the two extra processes costs.
is "twice the work takes more CPU than the calibration (cpu_rel median between 1.2 and 4)" \
	"1.2 < statistics.median(s['cpu_rel']) < 4"
is "the raw times are marked tracked, the relative ones are not" \
	"all(x[k].get('gate') is False for k in ('wall', 'user', 'sys', 'calibration_wall')) and all('gate' not in x[k] for k in ('wall_rel', 'cpu_rel'))"
# A shell loop's own peak memory is below perfgate's, which Linux reports for
# a child whose own is smaller: kept, not gated, and said why.
is "a small command's max_rss is perfgate's own peak: tracked, with the reason" \
	"x['max_rss'].get('gate') is False and \"perfgate's own peak memory\" in x['max_rss']['why']"

gate() { "$PERFGATE" gate --db "$DB" --quiet "$@"; }
for i in 1 2 3; do
	echo "# main $i" >>"$R/notes"
	git -C "$R" add -A && git -C "$R" commit -qm "main $i"
	expect_exit 0 "gate $i on main passes" gate "$R/suite.json" --json "$T/g$i.json"
done
is_g() { _r=$(python3 - "$T/$1" "$3" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
rows = {r["metric"]: r for r in d["rows"] if not r.get("against")}
print(eval(sys.argv[2]))
PY
2>&1); if [ "$_r" = "True" ]; then ok "$2"; else not_ok "$2 (got: $_r)"; fi; }
is_g g3.json "wall, user and sys are compared but not gated; wall_rel and cpu_rel gate" \
	"all(rows[k]['gate'] is False for k in ('wall', 'user', 'sys', 'calibration_wall')) and rows['wall_rel']['gate'] and rows['cpu_rel']['gate']"
is_g g3.json "a computing command beside a computing calibration gets no hint that the calibration waits" \
	"'computed for only' not in (rows['wall_rel'].get('hint') or '')"

# A changed configuration (here the calibration: perfgate's probe in place of
# the user's loop) starts the benchmark's history again, and the report says
# why there is no baseline rather than calling it a first run.
is_g g3.json "an unchanged configuration gets no such note" \
	"not any('configuration differs' in n for n in d['notes'])"
python3 - "$R/suite.json" "$R/auto.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["benchmarks"][0]["calibration"] = "auto"
json.dump(s, open(sys.argv[2], "w"))
PY
expect_exit 0 "a gate after the calibration changed passes (no baseline)" \
	gate "$R/auto.json" --no-store --no-confirm --json "$T/changed.json"
is_g changed.json "it says the configuration differs from the newest stored run's, so there is no baseline" \
	"any(\"benchmark 'loop': its configuration differs\" in n and 'no baseline' in n for n in d['notes']) and rows['wall_rel']['verdict'] == 'no-baseline'"
# Stored, that run is the newest; the old configuration back again still finds
# its older runs, so it has a baseline and no note.
expect_exit 0 "the changed configuration stored" gate "$R/auto.json" --no-confirm
# What is checked here is which runs it compares with, not the verdict: an
# unchanged loop beside the other tests of `make test -j2` on a 2-core CI
# machine once came out past the 40% floor (exit 1).  Any other exit fails.
gate "$R/suite.json" --no-store --no-confirm --json "$T/back.json" >"$T/back.out" 2>&1
rc=$?
case $rc in
0|1) ok "the old configuration back gates (exit $rc)" ;;
*) not_ok "the old configuration back gates (exit $rc, expected 0 or 1): $(tail -n 1 "$T/back.out")" ;;
esac
is_g back.json "it has its baseline again, and no note about a changed configuration" \
	"rows['wall_rel']['verdict'] != 'no-baseline' and not any('configuration differs' in n for n in d['notes'])"

# A command that waits (a sleep) beside perfgate's probe, which computes: the
# probe's noise would be divided into a time that had none, and the wall_rel
# row says so, with what to do.
printf '{"suite": "nap", "project": "nap", "benchmarks": [{"name": "nap", "shell": "sleep 0.03", "repetitions": 3, "calibration": "auto"}]}\n' >"$R/nap.json"
expect_exit 0 "a sleeping command with calibration auto: a baseline" gate "$R/nap.json"
expect_exit 0 "and a gate against it" gate "$R/nap.json" --no-store --no-confirm --json "$T/nap.json"
is_g nap.json "its wall_rel row says the command waits and the calibration computes, and to remove it" \
	"'computed for only' in rows['wall_rel']['hint'] and 'remove \"calibration\"' in rows['wall_rel']['hint']"
is_g nap.json "on the wall_rel row only" "'computed for only' not in (rows['cpu_rel'].get('hint') or '')"
is_g nap.json "marked as shown whatever the row detects" "rows['wall_rel'].get('hint_always') is True"
contains "the text report says it on a line of its own" "$OUT" "  benchmark 'nap' computed for only"
if python3 -c 'import json, sys, jsonschema
jsonschema.validate(json.load(open(sys.argv[1])), json.load(open("schemas/compare.schema.json")), cls=jsonschema.Draft202012Validator)' "$T/nap.json" 2>"$T/schema.err"; then
	ok "the JSON report with hint_always is valid against schemas/compare.schema.json"
else
	not_ok "the JSON report with hint_always is valid against schemas/compare.schema.json: $(tail -n 1 "$T/schema.err")"
fi

# Ten times the work: the relative metrics regress, and fail the gate.  (Three
# times was not enough under `make test -j2`: the tests beside this one moved
# the calibration's speed by 60% between two states, and +53% of cpu_rel came
# out not significant.)
echo 200000 >"$R/work"
git -C "$R" add -A && git -C "$R" commit -qm "ten times the work"
git -C "$R" checkout -q -b slower
expect_exit 1 "ten times the work fails the gate through the relative metrics" \
	gate "$R/suite.json" --no-store --no-confirm --json "$T/slow.json"
is_g slow.json "cpu_rel is a regression" "rows['cpu_rel']['verdict'] == 'regression' or rows['cpu_rel']['why']"

# The suite's own settings win over the mark: gate user time (a CPU-bound
# loop's is steady enough), not the relative ones.
python3 - "$R/suite.json" "$R/wall.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["compare"] = {"min_effect": "40%", "gate": False, "metrics": {"user": {"gate": True}}}
json.dump(s, open(sys.argv[2], "w"))
PY
expect_exit 1 "gating user time by name overrides the calibration's default" \
	gate "$R/wall.json" --no-store --no-confirm --json "$T/wall.json"
is_g wall.json "user time gates and regresses; the relative metrics are tracked" \
	"rows['user']['gate'] and rows['user']['verdict'] == 'regression' and rows['cpu_rel']['gate'] is False and rows['wall']['gate'] is False"

# A calibration that fails fails the benchmark with what happened.
sed 's/"10000"\]/"10000"], "env": {"BROKEN": "1"}/; s/"calibration": \["sh", "loop.sh", "10000"\]/"calibration": "echo calibration broke >\&2; exit 3"/' \
	"$R/suite.json" >"$R/broken.json"
expect_exit 3 "a failing calibration fails the run" "$PERFGATE" run -q --no-store "$R/broken.json"
contains "the error names the calibration and its status" "$ERR" "calibration beside repetition 1: exited with status 3"
contains "its stderr is shown" "$OUT" "calibration broke"

# A calibration that hangs is stopped by the benchmark's timeout.
printf '{"suite": "x", "benchmarks": [{"name": "c", "shell": "true", "timeout": "0.5s", "calibration": "sleep 30"}]}\n' >"$T/hang.json"
expect_exit 3 "a hanging calibration fails the run" timeout 20 "$PERFGATE" run -q --no-store "$T/hang.json"
contains "the error says it timed out" "$ERR" "calibration beside repetition 1: timed out after 0.5s"

# "auto": perfgate's own probe beside every repetition, no set-up.
printf '{"suite": "x", "benchmarks": [{"name": "a", "shell": "sh %s/loop.sh 3000", "repetitions": 4, "calibration": "auto"}]}\n' "$R" >"$T/auto.json"
expect_exit 0 "a run with calibration auto" "$PERFGATE" run -q --no-store --out "$T/run.json" "$T/auto.json"
is "auto: wall_rel, cpu_rel and calibration_wall beside every repetition, the raw times tracked" \
	"all(len(s[k]) == 4 for k in ('wall', 'wall_rel', 'cpu_rel', 'calibration_wall')) and x['wall'].get('gate') is False and 'probe' in x['calibration_wall']['why']"
is "auto: the probe took CPU time (cpu_rel is the loop's CPU over the probe's, finite and > 0)" \
	"all(0 < v < 100 for v in s['cpu_rel'])"
expect_exit 0 "perfgate probe runs on its own and exits 0" "$PERFGATE" probe --verbose
contains "it says which probe it is" "$OUT" "probe version 2"
# The probe's version is part of the configuration: a new probe starts new
# histories rather than comparing its times with the old probe's.
h=$(listed_hash "$T/auto.json" a)
is "auto: the probe's version goes into the configuration hash (the run's is not the suite's)" \
	"len('$h') == 64 and len(b['config_hash']) == 64 and b['config_hash'] != '$h'"
expect_exit 2 "perfgate probe refuses a bad count" "$PERFGATE" probe --iterations 0

# Only command benchmarks take a calibration.
printf '{"suite": "x", "benchmarks": [{"name": "h", "http": {"url": "http://127.0.0.1:9/"}, "calibration": "true"}]}\n' >"$T/http.json"
expect_exit 2 "a calibration on an HTTP benchmark is refused" "$PERFGATE" run -q --no-store "$T/http.json"
contains "with its place in the suite" "$ERR" "benchmarks[0].calibration: only for command benchmarks"
printf '{"suite": "x", "benchmarks": [{"name": "c", "shell": "true", "calibration": 5}]}\n' >"$T/num.json"
expect_exit 2 "a calibration that is not a command is refused" "$PERFGATE" run -q --no-store "$T/num.json"
contains "saying what was expected" "$ERR" "benchmarks[0].calibration: expected a shell command or an array of strings"
