#!/bin/sh
# The floor of a short history takes the machine's recorded spread between
# runs where the machine has one and it is wider than the metric's default
# (docs/statistics.md, "The floor of a short history"; issue 15): a machine
# whose series jumped by 50% between runs widens a one-run history's floor
# from the default's 45% to 86%; one whose series moved by 0.35% leaves the
# default in place (a short history never judges finer than the default).
# The record is real: runs stored in PostgreSQL by `perfgate run`, of
# another project on the same machine.  The benchmark is a real command
# that emits a time read from a file outside the repository (so that the
# tree stays clean), one value per run.  The judging gates take
# --no-confirm-base: a change read from outside the repository is, beside
# the base commit, the machine's, and this test is about the history's floor.
. tests/integration/lib.sh
T=$(test_tmpdir)
export GIT_CONFIG_NOSYSTEM=1 HOME=$T PERFGATE_HOME=$T/home NO_COLOR=1 VALUE=$T/value
R=$T/repo

git_repo "$R" || exit 1
cat >"$R/value.sh" <<'EOF'
printf '{"value": {"value": %s, "unit": "s"}}\n' "$(cat "$VALUE")" >"$PERFGATE_METRICS_FILE"
EOF
# Only the emitted time gates.
for p in other mine; do
	cat >"$R/$p.json" <<EOF
{
  "suite": "s", "project": "$p",
  "compare": {"gate": false, "metrics": {"value": {"gate": true}}},
  "benchmarks": [{"name": "v", "shell": "sh value.sh", "emits": "json", "repetitions": 6}]
}
EOF
done
git -C "$R" add -A && git -C "$R" commit -qm suite

# record DB A B: 21 stored runs of project "other", alternating A and B:
# 20 differences of log(B / A).
record() {
	_i=0
	while [ $_i -lt 21 ]; do
		if [ $((_i % 2)) -eq 0 ]; then echo "$2" >"$VALUE"; else echo "$3" >"$VALUE"; fi
		(cd "$R" && "$PERFGATE" run --db "$1" --quiet "$R/other.json" >/dev/null 2>"$T/record.err") ||
			{ not_ok "recording run $_i: $(tail -n 1 "$T/record.err")"; return 1; }
		_i=$((_i + 1))
	done
	ok "21 runs of another project recorded"
}

# judge NAME DB: one baseline run of "mine" at 0.100 s, then a gate of a
# change to 0.130 s (+30%), not stored; its JSON in $T/NAME.json.
judge() {
	echo 0.100 >"$VALUE"
	(cd "$R" && "$PERFGATE" gate --db "$2" --quiet "$R/mine.json" >/dev/null 2>&1)
	echo 0.130 >"$VALUE"
	(cd "$R" && "$PERFGATE" gate --db "$2" --quiet --no-store --no-confirm-base --json "$T/$1.json" "$R/mine.json" >"$T/$1.out" 2>&1)
	echo $?
}
row_is() { # NAME what python-condition-on-r
	if python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
r = [x for x in d["rows"] if x["metric"] == "value"][0]
sys.exit(0 if eval(sys.argv[2]) else 1)' "$T/$1.json" "$3" 2>/dev/null; then
		ok "$1: $2"
	else
		not_ok "$1: $2 ($(python3 -c '
import json, sys
r = [x for x in json.load(open(sys.argv[1]))["rows"] if x["metric"] == "value"][0]
print(r["verdict"], r["floor"], r.get("machine_prior"), r["why"])' "$T/$1.json" 2>&1 | tail -n 1))"
	fi
}

# expect NAME DB EXIT WHAT CONDITION: judge, then check the exit code and
# the row of the emitted time.
expect() {
	_rc=$(judge "$1" "$2")
	[ "$_rc" = "$3" ] && ok "$1: exit $3" || not_ok "$1: exit $_rc, want $3"
	row_is "$1" "$4" "$5"
}

# No record: the default prior for a time, 15%, a 45% floor; +30% passes.
expect none "$(new_db mp_none)" 0 "the default prior: a 45% floor, said so" \
	'r["verdict"] == "below-floor" and abs(r["floor"] - 0.45) < 1e-9 and r["short_history"] and not r["machine_prior"] and "a default spread" in r["why"]'

# A quiet machine: its runs moved 0.35% (log(1.005) / sqrt(2)), narrower
# than the default: the default's 45% floor stays, and +30% passes.
DB=$(new_db mp_quiet)
record "$DB" 0.100 0.1005
expect quiet "$DB" 0 "the quiet record does not narrow the default floor" \
	'r["verdict"] == "below-floor" and abs(r["floor"] - 0.45) < 1e-9 and not r["machine_prior"] and "a default spread" in r["why"]'

# A noisy machine: its runs jumped by 50% (log(1.5) / sqrt(2) = 28.7%): a
# floor of 3 x 28.7% = 86%, +30% passes, and the report says where the
# floor came from.
DB=$(new_db mp_noisy)
record "$DB" 0.100 0.150
expect noisy "$DB" 0 "the noisy record: a floor of 3 x 28.7%, from the machine" \
	'r["verdict"] == "below-floor" and abs(r["floor"] - 3 * 0.4054651081081644 / 2 ** 0.5) < 1e-6 and r["machine_prior"] and "the machine'"'"'s recorded spread" in r["why"]'
contains "text: the hint names the machine's spread" "$T/noisy.out" "the floor is 3 x 29% (the spread between runs this machine recorded for the metric"

# At every history length the floor clears the machine's recorded changes
# from one run to the next (their 95th percentile, the benchmark's own
# runs included): five runs of "mine" that agree exactly say nothing about
# a machine whose runs jump by 50%.  judge5 NAME DB: five baseline runs at
# 0.100 s, then a gate of 0.130 s (+30%), not stored.
judge5() {
	echo 0.100 >"$VALUE"
	for _k in 1 2 3 4 5; do
		(cd "$R" && "$PERFGATE" gate --db "$2" --quiet "$R/mine.json" >/dev/null 2>&1)
	done
	echo 0.130 >"$VALUE"
	(cd "$R" && "$PERFGATE" gate --db "$2" --quiet --no-store --no-confirm-base --json "$T/$1.json" "$R/mine.json" >"$T/$1.out" 2>&1)
	echo $?
}
expect5() {
	_rc=$(judge5 "$1" "$2")
	[ "$_rc" = "$3" ] && ok "$1: exit $3" || not_ok "$1: exit $_rc, want $3"
	row_is "$1" "$4" "$5"
}

# The noisy record: 20 changes of 50% and the history's own 4 of 0%: the
# 95th percentile (the 23rd of 24) is 50%, the floor; +30% passes.
DB=$(new_db mp_noisy5)
record "$DB" 0.100 0.150
expect5 noisy5 "$DB" 0 "a 5-run history on the noisy machine: the floor is its 50% changes" \
	'r["verdict"] == "below-floor" and abs(r["floor"] - 0.5) < 1e-9 and r["floor_source"] == "machine" and not r["short_history"] and "recorded changes from one run to the next" in r["why"]'
contains "text: the hint says how often the machine moved that much" "$T/noisy5.out" "5% of this machine's recorded changes from one run to the next are 50% or more"
contains "... and, for a command, names the gate that measures in one job" "$T/noisy5.out" \
	"gate the change beside its base commit in one job (perfgate gate --base REF), or gate on a quieter machine"

# The quiet record (changes of 0.5%) does not narrow the 5% floor, and
# +30% fails.
DB=$(new_db mp_quiet5)
record "$DB" 0.100 0.1005
expect5 quiet5 "$DB" 1 "a 5-run history on the quiet machine: +30% fails at the 5% floor" \
	'r["verdict"] == "regression" and abs(r["floor"] - 0.05) < 1e-9 and r["floor_source"] == "min_effect"'

# The record is of each benchmark as it is configured now: the 50% jumps of
# the other project's benchmark under its old configuration (say, an older
# calibration probe) are not what it shows under its new one, which moves
# 0.5%, and the change across the reconfiguration is not the machine's.
# With the old configuration's changes counted the floor would be 50% and
# +30% would pass; with the new configuration's alone it is the 5% floor.
DB=$(new_db mp_reconfigured)
record "$DB" 0.100 0.150
python3 - "$R/other.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["benchmarks"][0]["env"] = {"RECONFIGURED": "1"}
json.dump(s, open(sys.argv[1], "w"))
PY
git -C "$R" add -A && git -C "$R" commit -qm "other: a new configuration"
record "$DB" 0.100 0.1005
expect5 reconfigured "$DB" 1 "only the newest configuration's changes count: +30% fails at the 5% floor" \
	'r["verdict"] == "regression" and abs(r["floor"] - 0.05) < 1e-9 and r["floor_source"] == "min_effect"'

# Changes are between consecutive runs of one branch: a branch's one run of
# three times the work (a change under test, as `make demo` makes) between
# main's runs is not the machine moving.  Counted across branches, the
# record would hold twenty changes of 110% and +30% would pass; on main
# alone its changes are 0.5%, and +30% fails at the 5% floor.
DB=$(new_db mp_branches)
_i=0
while [ $_i -lt 21 ]; do
	if [ $((_i % 2)) -eq 0 ]; then
		[ $((_i % 4)) -eq 0 ] && echo 0.100 >"$VALUE" || echo 0.1005 >"$VALUE"
		(cd "$R" && "$PERFGATE" run --db "$DB" --quiet "$R/other.json" >/dev/null 2>"$T/record.err") ||
			not_ok "recording main run $_i: $(tail -n 1 "$T/record.err")"
	else
		git -C "$R" checkout -qb "slower-$_i"
		echo 0.300 >"$VALUE"
		(cd "$R" && "$PERFGATE" run --db "$DB" --quiet "$R/other.json" >/dev/null 2>"$T/record.err") ||
			not_ok "recording branch run $_i: $(tail -n 1 "$T/record.err")"
		git -C "$R" checkout -q main
	fi
	_i=$((_i + 1))
done
expect5 branches "$DB" 1 "a branch's runs between main's are not the machine's changes: +30% fails at the 5% floor" \
	'r["verdict"] == "regression" and abs(r["floor"] - 0.05) < 1e-9 and r["floor_source"] == "min_effect"'

# Migration 0009 on a database written before it: the points already stored
# get their configuration hash from their results.  The state before it is
# made from a migrated database by dropping the column and the migration's
# record (the stored data is the same: 0008's points had no hash), and the
# next perfgate to connect applies 0009 again.
DB=$(new_db mp_backfill)
record "$DB" 0.100 0.1005
psql_q "$DB" "ALTER TABLE history_points DROP COLUMN config_hash; DELETE FROM schema_migrations WHERE version = 9" >/dev/null
check "before: no configuration hash in history_points" \
	test "$(psql_q "$DB" "SELECT count(*) FROM information_schema.columns WHERE table_name = 'history_points' AND column_name = 'config_hash'")" = 0
(cd "$R" && "$PERFGATE" run --db "$DB" --quiet "$R/other.json" >/dev/null 2>"$T/backfill.err") ||
	not_ok "the run that migrates: $(tail -n 1 "$T/backfill.err")"
check "0009 is applied again" test "$(psql_q "$DB" "SELECT count(*) FROM schema_migrations WHERE version = 9")" = 1
check "every stored point has its result's hash (22 runs, none missed)" test "$(psql_q "$DB" "
SELECT count(*) FILTER (WHERE h.config_hash = r.config_hash) || '/' || count(*) || '/' || count(DISTINCT h.run_id)
  FROM history_points h JOIN results r USING (run_id, benchmark, metric)")" = \
	"$(psql_q "$DB" "SELECT count(*) || '/' || count(*) || '/22' FROM history_points")"
check "... and the hash is the suite's, not empty" test "$(psql_q "$DB" "SELECT count(*) FROM history_points WHERE config_hash IS NULL OR config_hash = ''")" = 0
