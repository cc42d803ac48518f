#!/bin/sh
# Confirming against the base (docs/gate.md): a gate against the history
# that would fail on a regression measures the regressed benchmark again in
# this job, in pairs beside the baseline's newest commit, and the
# regression stands only when the pairs show it too.  `perfgate gate` does
# so by default for a benchmark that runs the repository's own files
# (core/treecode.h), `--confirm-base` for every one, `--no-confirm-base`
# for none.  The benchmark is a real command in a real git repository:
# it emits the value of a file in the tree it runs in (the code) times a
# factor read from a file outside the repository (the machine's speed in
# this job), plus a jitter of 0.00 to 0.96 that changes with every
# repetition, so what each side measures is known.
. tests/integration/lib.sh
T=$(test_tmpdir)
DB=$(new_db confirmbase)
export GIT_CONFIG_NOSYSTEM=1 HOME=$T PERFGATE_HOME=$T/home NO_COLOR=1 TMPDIR=$T/tmp COUNTER=$T/counter \
	MACHINE=$T/machine
mkdir -p "$TMPDIR"
R=$T/repo

git_repo "$R" || exit 1
cat >"$R/value.sh" <<'EOF'
[ -f NEEDS_BUILD ] && { [ -f BUILT ] || { echo "not built" >&2; exit 3; }; }
n=$(cat "$COUNTER" 2>/dev/null || echo 0); n=$((n+1)); echo "$n" >"$COUNTER"
awk -v v="$(cat value)" -v m="$(cat "$MACHINE")" -v n="$n" \
	'BEGIN { printf "{\"value\": %.3f}\n", v * m + (n * 40503 % 65536) * 0.97 / 65536 }' >"$PERFGATE_METRICS_FILE"
EOF
# Only the emitted value gates: the times of a shell script say nothing here.
cat >"$R/suite.json" <<'EOF'
{
  "suite": "confirm", "project": "confirm",
  "compare": {"gate": false, "metrics": {"value": {"gate": true}}},
  "benchmarks": [{"name": "v", "shell": "sh value.sh", "emits": "json", "repetitions": 6}]
}
EOF
echo BUILT >"$R/.gitignore"
echo 100 >"$R/value"
echo 1 >"$MACHINE"
git -C "$R" add -A && git -C "$R" commit -qm base
gate() { rm -f "$COUNTER"; "$PERFGATE" gate --db "$DB" "$@"; }
# baselines TAG SUITE: three baseline runs of SUITE, a commit each, the
# machine at its usual speed.
baselines() {
	for _i in 1 2 3; do
		echo "$1 $_i" >>"$R/notes"
		git -C "$R" add -A && git -C "$R" commit -qm "$1 $_i"
		expect_exit 0 "$1: baseline gate $_i passes" gate --quiet "$2"
	done
}
# slower_job TAG: a commit that changes no code, for a job whose machine is
# 30% slower.
slower_job() {
	echo 1.3 >"$MACHINE"
	echo "$1 4" >>"$R/notes"
	git -C "$R" add -A && git -C "$R" commit -qm "$1 4"
}

baselines main "$R/suite.json"
NEAREST=$(git -C "$R" rev-parse HEAD)
slower_job main
expect_exit 1 "with --no-confirm-base the slower machine fails the gate (+30% against the history)" \
	gate --no-store --no-confirm-base "$R/suite.json"
contains "... as a regression" "$OUT" "FAILED: 1 regression (v value)"
lacks "... no pairs ran" "$ERR" "v@head"
lacks "... and the report promises none" "$OUT" "beside the base:"
expect_exit 0 "by default it passes: 'sh value.sh' runs the repository's script, measured beside the base commit" \
	gate --no-store "$R/suite.json"
contains "... the pairs ran" "$ERR" "v@head: ok (7 repetitions"
contains "... and did not confirm the regression" "$OUT" "0 regressions against the history confirmed, 1 not"
contains "... the report says which benchmarks are measured beside the base when worse" "$OUT" \
	"beside the base: v is measured again beside the base commit in this job whenever the history sees it worse, or cannot see a change of 25% and the repetitions give the pairs, so a change under a row's floor, or one a faster job hides, is still caught when the pairs show it"
expect_exit 0 "with --confirm-base it passes: beside the base commit the head is no slower" \
	gate --no-store --confirm-base "$R/suite.json" --json "$T/machine.json" --html "$T/machine.html"
contains "the progress names the base commit, the baseline's nearest" "$ERR" \
	"1 benchmark regressed against the history, worse under its floor, or where it cannot see a change of 25%; measuring it again beside base commit $(echo "$NEAREST" | cut -c1-10) in this job"
contains "the pairs ran" "$ERR" "v@head: ok (7 repetitions"
contains "the report says the regression was not confirmed" "$OUT" \
	"measured again beside base commit $(echo "$NEAREST" | cut -c1-10) in this job ("
contains "... with what it took and what it found" "$OUT" \
	" s): 0 regressions against the history confirmed, 1 not; 0 more that the history passed shown by the pairs"
lacks "... on a line of its own, not as a warning" "$OUT" "warning: measured again"
if grep -q "<p>Measured again beside base commit $(echo "$NEAREST" | cut -c1-10) in this job (" "$T/machine.html"; then
	ok "... and in the HTML report"
else
	not_ok "... and in the HTML report: $(grep -o 'Measured again[^<]*' "$T/machine.html" | head -n 1)"
fi
contains "the row is inconclusive, with the cause" "$OUT" \
	"1 metric inconclusive (v value): worse than the history, but not beside the base commit measured in this job"
contains "the row's line gives both measurements" "$OUT" "+0."
contains "the headline passes it" "$OUT" "passed: 1 inconclusive"
contains "stderr says what it means" "$ERR" \
	"1 metric worse than the history, but not beside the base commit measured in this job: the machine changed between jobs, not the code (fails only with --strict)"
check_py "the JSON: inconclusive and unconfirmed, +30% against the history, about 0% beside the base" python3 -c '
import json, re, sys
d = json.load(open(sys.argv[1]))
assert d["passed"] and d["counts"]["inconclusive"] == 1 and d["counts"]["regression"] == 0, d["counts"]
r = [x for x in d["rows"] if x["metric"] == "value"][0]
assert r["verdict"] == "inconclusive" and r.get("unconfirmed") is True and not r["fails"], r
assert abs(r["ratio"] - 1.3) < 0.01, r["ratio"]
m = re.search(r"beside base commit (\w+): ([+-][0-9.]+)% \[([+-][0-9.]+)%, ([+-][0-9.]+)%\] \(unchanged\), not confirmed", r["why"])
assert m and sys.argv[2].startswith(m.group(1)), r["why"]
assert abs(float(m.group(2))) < 1 and float(m.group(3)) <= 0 <= float(m.group(4)), r["why"]
assert not any("confirmed" in n for n in d["notes"]), d["notes"]  # an outcome, not a warning
c = d["confirm_base"]
assert c["commit"] == sys.argv[2] and c["confirmed"] == 0 and c["unconfirmed"] == 1 and c["seconds"] > 0, c
assert d["confirms_base"] == ["v"], d.get("confirms_base")' "$T/machine.json" "$NEAREST"
if python3 -c 'import json, sys, jsonschema
jsonschema.validate(json.load(open(sys.argv[1])), json.load(open("schemas/compare.schema.json")), cls=jsonschema.Draft202012Validator)' "$T/machine.json" 2>"$T/schema.err"; then
	ok "the JSON report is valid against schemas/compare.schema.json"
else
	not_ok "the JSON report is valid against schemas/compare.schema.json: $(tail -n 1 "$T/schema.err")"
fi
expect_exit 1 "--strict fails an unconfirmed regression, as any inconclusive one" \
	gate --no-store --confirm-base --strict --quiet "$R/suite.json"
if [ -z "$(ls "$TMPDIR")" ]; then ok "the base tree is removed"; else not_ok "left in \$TMPDIR: $(ls "$TMPDIR")"; fi

# A real slowdown on a branch, the machine back to its usual speed: the
# pairs show it too, and the gate fails.
echo 1 >"$MACHINE"
git -C "$R" checkout -qb slower
echo 120 >"$R/value"
git -C "$R" commit -qam slower
expect_exit 1 "a +20% change fails with --confirm-base: confirmed beside the base" \
	gate --no-store --confirm-base "$R/suite.json" --json "$T/real.json"
contains "... 1 confirmed" "$OUT" " s): 1 regression against the history confirmed, 0 not"
contains "... the headline fails it" "$OUT" "FAILED: 1 regression (v value)"
check_py "the JSON: a regression of +20% against both" python3 -c '
import json, re, sys
d = json.load(open(sys.argv[1]))
assert not d["passed"] and d["counts"]["regression"] == 1, d["counts"]
r = [x for x in d["rows"] if x["metric"] == "value"][0]
assert r["verdict"] == "regression" and "unconfirmed" not in r and r["fails"], r
m = re.search(r"in this job beside base commit \w+: ([+-][0-9.]+)% .*\(regression\), confirmed", r["why"])
assert m and abs(float(m.group(1)) - 20) < 1, r["why"]
assert d["confirm_base"]["confirmed"] == 1 and d["confirm_base"]["unconfirmed"] == 0, d["confirm_base"]' "$T/real.json"

# The history is not measured again where nothing regressed.
git -C "$R" checkout -q main
expect_exit 0 "an unchanged commit on the usual machine passes without measuring the base" \
	gate --no-store --confirm-base "$R/suite.json"
lacks "... no pairs ran" "$ERR" "v@base"

# What the base tree lacks is built with --build, as with --base; without
# it the base side fails and the regression stands, said.  BUILT is what
# the build makes: ignored by git, so the work tree (built before the gate,
# as CI does) has it and the base tree does not.
git -C "$R" checkout -q main
touch "$R/NEEDS_BUILD" "$R/BUILT"
git -C "$R" add NEEDS_BUILD && git -C "$R" commit -qm "needs a build"
expect_exit 0 "the baseline gate of a commit that needs a build" gate --quiet "$R/suite.json"
git -C "$R" checkout -qb slower-built
echo 120 >"$R/value"
git -C "$R" commit -qam "slower, built"
expect_exit 1 "without --build the base side fails: the regression stands" \
	gate --no-store --confirm-base "$R/suite.json"
contains "... said on stderr" "$ERR" "a benchmark failed beside the base commit; its verdicts against the history stand"
contains "... and in the report" "$OUT" "its verdicts against the history stand, unconfirmed"
contains "... the regression fails the gate" "$OUT" "FAILED: 1 regression (v value)"
expect_exit 1 "with --build both trees are built and the pairs confirm it" \
	gate --no-store --confirm-base --build 'touch BUILT' "$R/suite.json"
contains "... confirmed" "$OUT" "1 regression against the history confirmed, 0 not"

# A baseline commit the clone lacks (a shallow checkout): the regression
# stands, and the report says why.
gate --no-store --quiet --run-out "$T/run.json" "$R/suite.json" >/dev/null 2>&1
python3 -c '
import json, sys, uuid
d = json.load(open(sys.argv[1]))
d["git"]["commit"] = "0123456789abcdef0123456789abcdef01234567"
d["run_id"] = str(uuid.uuid4())
for b in d["benchmarks"]:
    for m in b["metrics"]:
        if m["name"] == "value":
            m["samples"] = [x / 1.2 for x in m["samples"]]
json.dump(d, open(sys.argv[2], "w"))' "$T/run.json" "$T/old.json" || not_ok "the old run could not be written"
expect_exit 1 "a base commit the clone lacks: the regression stands" \
	gate --no-store --confirm-base --baseline "file:$T/old.json" "$R/suite.json"
contains "... said" "$ERR" "the benchmarks could not be measured beside the base commit ("
contains "... naming the commit" "$ERR" "0123456789"
contains "... and what to do" "$ERR" "a shallow clone lacks it: fetch the history (GitHub: fetch-depth: 0, GitLab: GIT_DEPTH: 0)"
contains "... and in the report" "$OUT" "could not be measured beside the base commit in this job ("
# A baseline that names no commit (measured outside git): nothing to
# measure beside; the regression stands, said.
python3 -c '
import json, sys, uuid
d = json.load(open(sys.argv[1]))
d["git"] = {}
d["run_id"] = str(uuid.uuid4())
json.dump(d, open(sys.argv[2], "w"))' "$T/old.json" "$T/nocommit.json" || not_ok "the run without a commit could not be written"
expect_exit 1 "a baseline without a commit: the regression stands" \
	gate --no-store --confirm-base --baseline "file:$T/nocommit.json" "$R/suite.json"
contains "... said" "$ERR" "the benchmarks could not be measured beside the base commit (the baseline's runs name no commit)"
lacks "... no pairs ran" "$ERR" "@head"

# A/B variants (as an ingested harness's results) are not what --base can
# run: their regressions stand, said, and no pairs run.
git -C "$R" checkout -q main
cat >"$R/suite-var.json" <<'EOF'
{
  "suite": "confirm-var", "project": "confirm",
  "compare": {"gate": false, "metrics": {"value": {"gate": true}}},
  "benchmarks": [{"name": "w", "shell": "sh value.sh", "emits": "json", "repetitions": 6,
                  "variants": [{"name": "a"}, {"name": "b"}]}]
}
EOF
baselines variants "$R/suite-var.json"
slower_job variants
expect_exit 1 "variants that regressed against the history: the regressions stand" \
	gate --no-store --confirm-base "$R/suite-var.json"
contains "... said" "$OUT" "2 regressed benchmarks not measured beside the base commit (--base runs neither an ingested harness's results nor A/B variants): their verdicts against the history stand"
lacks "... no pairs ran" "$ERR" "@head"
echo 1 >"$MACHINE"

# A change the history's floor hides.  With one baseline run the spread
# between runs is not known, so the floor is a prior's (docs/statistics.md,
# "The floor of a short history"), and +10% is significant but under it: a
# plain gate passes it as below-floor.  --confirm-base measures such a row
# beside the base too, and the pairs show the regression.
git -C "$R" checkout -q main
sed 's/"project": "confirm"/"project": "confirm-short"/' "$R/suite.json" >"$R/suite-short.json"
git -C "$R" rm -q NEEDS_BUILD
git -C "$R" add -A && git -C "$R" commit -qm "short"
expect_exit 0 "a history of one run" gate --quiet "$R/suite-short.json"
git -C "$R" checkout -qb short-slower
echo 110 >"$R/value"
git -C "$R" commit -qam "+10%"
expect_exit 0 "+10% under the floor of a 1-run history: the history alone passes it" \
	gate --no-store --no-confirm-base --json "$T/short-plain.json" "$R/suite-short.json"
check_py "... as below-floor, significant and worse by more than min_effect" python3 -c '
import json, sys
r = [x for x in json.load(open(sys.argv[1]))["rows"] if x["metric"] == "value"][0]
assert r["verdict"] == "below-floor" and r["p_adjusted"] <= 0.01 and 1.08 < r["ratio"] < 1.12 and r["floor"] > 0.1, r' \
	"$T/short-plain.json"
expect_exit 1 "by default the pairs show it: a regression" \
	gate --no-store --json "$T/short.json" "$R/suite-short.json"
contains "... its line says how" "$OUT" "% floor; measured again in this job beside base commit"
check_py "... the JSON: a regression, counted as revealed" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
r = [x for x in d["rows"] if x["metric"] == "value"][0]
assert r["verdict"] == "regression" and "the spread between runs hid it" in r["why"], r["why"]
c = d["confirm_base"]
assert c["revealed"] == 1 and c["confirmed"] == 0 and c["unconfirmed"] == 0, c' "$T/short.json"
git -C "$R" checkout -q main
echo 1.1 >"$MACHINE"
echo short >>"$R/notes"
git -C "$R" add -A && git -C "$R" commit -qm "short, unchanged"
expect_exit 0 "a machine 10% slower, the code unchanged: under the floor, nothing beside the base: passes" \
	gate --no-store --confirm-base --json "$T/short-aa.json" "$R/suite-short.json"
check_py "... the row stays below-floor; the pairs were measured and showed nothing" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
r = [x for x in d["rows"] if x["metric"] == "value"][0]
assert r["verdict"] == "below-floor", r
c = d["confirm_base"]
assert c["revealed"] == 0 and c["seconds"] > 0, c' "$T/short-aa.json"
echo 1 >"$MACHINE"

# A change a faster job hides.  A history that cannot see a change of 25%
# (a detectable effect over it: runs that differ widely with the machine,
# as on a noisy runner, or a history too short to know its spread) passes
# any change its spread holds, and a job on a faster machine hides one
# that would be over the floor: the history sees it no worse.  Where pairs
# beside the base would see the change, the gate measures them by default,
# whatever the history's verdict (compare_row_blind).  Three baseline
# runs, at 1, 1.5 and 0.7 times the usual time, hold the floor over 25%.
# Its 7 repetitions give the 7 pairs the paired test needs at alpha 0.01,
# so the pairs cost no more than twice the benchmark's own run.
git -C "$R" checkout -q main
sed 's/"project": "confirm"/"project": "confirm-wide"/; s/"repetitions": 6/"repetitions": 7/' "$R/suite.json" \
	>"$R/suite-wide.json"
for speed in 1 1.5 0.7; do
	echo "$speed" >"$MACHINE"
	echo "wide $speed" >>"$R/notes"
	git -C "$R" add -A && git -C "$R" commit -qm "wide $speed"
	expect_exit 0 "a baseline run at $speed times the usual time" \
		"$PERFGATE" run --quiet --db "$DB" "$R/suite-wide.json"
done
git -C "$R" checkout -qb wide-slower
echo 115 >"$R/value"
git -C "$R" commit -qam "+15%, wide"
echo 0.8 >"$MACHINE"
expect_exit 0 "+15% in a job on a machine 20% faster: the history alone sees it no worse, and passes it" \
	gate --no-store --no-confirm-base --json "$T/wide-plain.json" "$R/suite-wide.json"
check_py "... its runs' spread holds the detectable effect over 25%" python3 -c '
import json, sys
r = [x for x in json.load(open(sys.argv[1]))["rows"] if x["metric"] == "value"][0]
assert r["verdict"] != "regression" and r["ratio"] < 1 and r["detectable_effect"] > 0.25 and r["floor"] > 0.25, r
assert "history too short" not in r["why"], r["why"]' "$T/wide-plain.json"
expect_exit 1 "by default the pairs beside the base see it: a regression" \
	gate --no-store --json "$T/wide.json" "$R/suite-wide.json"
contains "... the pairs ran" "$ERR" "v@head: ok"
contains "... the progress says why" "$ERR" "where it cannot see a change of 25%; measuring it again beside base commit"
contains "... the report counts it" "$OUT" "1 more that the history passed shown by the pairs"
check_py "... the JSON: a regression of +15% beside the base, counted as revealed" python3 -c '
import json, re, sys
d = json.load(open(sys.argv[1]))
r = [x for x in d["rows"] if x["metric"] == "value"][0]
m = re.search(r"against the history, which cannot see a change under [0-9]+% here \(the spread between runs\); "
              r"measured again in this job beside base commit \w+: ([+-][0-9.]+)% .*\(regression\), confirmed", r["why"])
assert r["verdict"] == "regression" and r["fails"] and m and abs(float(m.group(1)) - 15) < 1, r["why"]
assert r["detectable_effect"] < 0.25, r["detectable_effect"]
c = d["confirm_base"]
assert c["revealed"] == 1 and c["cleared"] == 0 and c["confirmed"] == 0 and c["unconfirmed"] == 0, c' "$T/wide.json"
expect_exit 0 "with 6 repetitions the 7 pairs would cost over twice its run: not measured beside the base" \
	gate --no-store --repetitions 6 "$R/suite-wide.json"
lacks "... no pairs ran" "$ERR" "v@head"
contains "... said, with the setting that would have it measured" "$OUT" \
	"warning: benchmark 'v' cannot see a change of 25% against its history, and was not measured beside the base commit: the 7 pairs that takes would cost over twice its own run; give --repetitions 7 to have it measured"
git -C "$R" checkout -q main
echo wide >>"$R/notes"
git -C "$R" add -A && git -C "$R" commit -qm "wide, unchanged"
expect_exit 0 "the code unchanged on the faster machine: the pairs show nothing, and it passes" \
	gate --no-store --json "$T/wide-aa.json" "$R/suite-wide.json"
contains "... the pairs ran" "$ERR" "v@head: ok"
contains "... the report says the row was cleared beside the base" "$OUT" \
	"0 more that the history passed shown by the pairs; 1 row the history cannot judge (a detectable effect over 25%) clear beside the base"
check_py "... the JSON: the row keeps its verdict, says what the pairs showed, and takes their detectable effect" python3 -c '
import json, re, sys
d = json.load(open(sys.argv[1]))
r = [x for x in d["rows"] if x["metric"] == "value"][0]
m = re.search(r"; the history cannot see a change under [0-9]+% here, so measured again in this job beside base "
              r"commit \w+: ([+-][0-9.]+)% \[[^]]*\] \((unchanged|below-floor|improvement)\)$", r["why"])
assert r["verdict"] != "regression" and not r["fails"] and m and abs(float(m.group(1))) < 1, r["why"]
assert r["detectable_effect"] < 0.25, r["detectable_effect"]
c = d["confirm_base"]
assert c["cleared"] == 1 and c["revealed"] == 0 and c["seconds"] > 0, c' "$T/wide-aa.json"
expect_exit 0 "with --no-confirm-base nothing is measured beside the base" \
	gate --no-store --no-confirm-base "$R/suite-wide.json"
lacks "... no pairs ran" "$ERR" "v@head"
echo 1 >"$MACHINE"

# By default only a benchmark that runs the repository's own files is
# measured beside the base.  One that names its script by an absolute path
# would run the head's script on both sides, and one whose program is a
# build's output finds nothing in the base tree unless --build makes it:
# their regressions stand, and the report says why.
git -C "$R" checkout -q main
cat >"$R/suite-abs.json" <<JSON
{
  "suite": "confirm-abs", "project": "confirm-abs",
  "compare": {"gate": false, "metrics": {"value": {"gate": true}}},
  "benchmarks": [{"name": "abs", "shell": "sh $R/value.sh", "emits": "json", "repetitions": 6},
                 {"name": "built", "shell": "./run-built", "emits": "json", "repetitions": 6}]
}
JSON
printf 'exec sh value.sh\n' >"$R/run-built" && chmod +x "$R/run-built"
echo run-built >>"$R/.gitignore"
baselines "absolute and built" "$R/suite-abs.json"
slower_job "absolute and built"
expect_exit 1 "a slower machine: by default neither is measured beside the base, both regressions stand" \
	gate --no-store "$R/suite-abs.json"
contains "... the absolute path said" "$OUT" \
	"benchmark 'abs' was not measured beside the base commit: it names $R/value.sh, in the work tree, by its absolute path: both sides would run the head's files; --confirm-base measures it anyway"
contains "... the build's output said" "$OUT" \
	"benchmark 'built' was not measured beside the base commit: run-built is not in the commit (a build's output?): --build CMD builds both trees"
contains "... both fail" "$OUT" "FAILED: 2 regressions"
lacks "... no pairs ran" "$ERR" "@head"
lacks "... the report names neither as measured beside the base" "$OUT" "beside the base:"
expect_exit 1 "with --build making run-built, that one is measured beside the base and passes; the other stands" \
	gate --no-store --build "printf 'exec sh value.sh\\n' >run-built && chmod +x run-built" "$R/suite-abs.json"
contains "... the pairs ran for it" "$ERR" "built@head: ok"
lacks "... not for the other" "$ERR" "abs@head"
contains "... the other fails alone" "$OUT" "FAILED: 1 regression (abs value)"
contains "... the report names the one measured beside the base" "$OUT" "beside the base: built is measured again"
echo 1 >"$MACHINE"

# Mistakes: exit 2, one line each.
expect_exit 2 "--confirm-base with --base" gate --confirm-base --base main "$R/suite.json"
contains "... said" "$ERR" "--base measures the base commit in every gate already"
expect_exit 2 "--build with --no-confirm-base" gate --no-confirm-base --build make "$R/suite.json"
contains "... said" "$ERR" "which --no-confirm-base turns off"
expect_exit 2 "--confirm-base with --no-confirm-base" gate --confirm-base --no-confirm-base "$R/suite.json"
contains "... said" "$ERR" "contradict each other"
