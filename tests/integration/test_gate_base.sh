#!/bin/sh
# `perfgate gate --base REF` (docs/gate.md, "Against a base commit"): the
# head's command benchmarks run beside the base commit's files in one job,
# interleaved, and the gate decides on the paired A/B rows, with no database.
# The benchmark is a real command in a real git repository; it emits a value
# read from a file of the tree it runs in plus a jitter of 0.00 to 0.96 that
# changes with every repetition (a counter outside the repository, hashed so
# that a pair's second half is not always one step above its first), so that
# what each side measures is known: every pair's ratio is about the ratio of
# the two files' values, and the samples spread as measured times do.
. tests/integration/lib.sh
T=$(test_tmpdir)
export GIT_CONFIG_NOSYSTEM=1 HOME=$T PERFGATE_HOME=$T/home NO_COLOR=1 TMPDIR=$T/tmp COUNTER=$T/counter
mkdir -p "$TMPDIR"
R=$T/repo
# Nothing may reach a database: a gate that tried would exit 4.
NODB=postgresql://127.0.0.1:1/nothing
no_tree_left() {
	if [ -z "$(ls "$TMPDIR")" ]; then ok "$1: the base tree is removed"; else not_ok "$1: left in \$TMPDIR: $(ls "$TMPDIR")"; fi
}

git_repo "$R" || exit 1
cat >"$R/value.sh" <<'EOF'
n=$(cat "$COUNTER" 2>/dev/null || echo 0); n=$((n+1)); echo "$n" >"$COUNTER"
printf '{"value": %s.%02d}\n' "$(cat value)" $((n * 40503 % 65536 * 97 / 65536)) >"$PERFGATE_METRICS_FILE"
EOF
# Only the emitted value gates: the times of a shell script say nothing here.
cat >"$R/suite.json" <<'EOF'
{
  "suite": "base", "project": "base",
  "compare": {"gate": false, "metrics": {"value": {"gate": true}}},
  "benchmarks": [{"name": "v", "shell": "sh value.sh", "emits": "json", "repetitions": 10}]
}
EOF
echo 100 >"$R/value"
git -C "$R" add -A && git -C "$R" commit -qm base
BASE=$(git -C "$R" rev-parse HEAD)
gate() { "$PERFGATE" gate --db "$NODB" "$@"; }

# +20% at the head: ten pairs that all agree, so the signed-rank p is
# 1/1024 (the normal approximation's, about 0.003, should two log-ratios
# tie); either is below alpha.
echo 120 >"$R/value"
git -C "$R" commit -qam slower
expect_exit 1 "+20% against the base commit fails the gate (no database reached)" \
	gate --base HEAD~1 "$R/suite.json" --json "$T/slow.json" --junit "$T/slow.xml"
contains "the text report names the pair" "$OUT" "v@head vs v@base"
contains "the text report says what the baseline is" "$OUT" "baseline: commit $(echo "$BASE" | cut -c1-10) ('HEAD~1'), measured in this job beside the head"
contains "the headline names the regression" "$OUT" "FAILED: 1 regression (v@head value)"
contains "the text report says what the paired rows can detect" "$OUT" \
	"detects: the smallest change each gated metric would catch 80% of the time at its alpha: "
check_py "JUnit: the gated pair is a failing test case (a CI's test view fails with the gate)" python3 -c '
import sys, xml.etree.ElementTree as ET
s = ET.parse(sys.argv[1]).getroot().find("testsuite")
assert s.get("tests") == "1" and s.get("failures") == "1", s.attrib
c = s.find("testcase")
assert c.get("classname") == "base.v@head" and c.get("name") == "value vs v@base", c.attrib
assert c.find("failure").get("type") == "regression", ET.tostring(c)' "$T/slow.xml"
contains "the progress says which commit is the base" "$ERR" "base: commit $(echo "$BASE" | cut -c1-10) (HEAD~1)"
check_py "the JSON: against_base names the commit, the paired row is a signed-rank regression of about +20%" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["against_base"] == {"ref": "HEAD~1", "commit": sys.argv[2], "merge_base": False}, d["against_base"]
assert d["counts"]["regression"] == 1 and not d["passed"], d["counts"]
r = [x for x in d["rows"] if x["metric"] == "value"][0]
assert r["benchmark"] == "v@head" and r["against"] == "v@base" and r["verdict"] == "regression", r
assert r["gate"] and r["fails"], r
assert abs(r["ratio"] - 1.2) < 0.01 and r["current"]["n"] == 10, r
assert "signed-rank on 10 pairs" in r["why"] and r["p"] < 0.01, r["why"]' "$T/slow.json" "$BASE"
if python3 -c 'import json, sys, jsonschema
jsonschema.validate(json.load(open(sys.argv[1])), json.load(open("schemas/compare.schema.json")), cls=jsonschema.Draft202012Validator)' "$T/slow.json" 2>"$T/schema.err"; then
	ok "the JSON report is valid against schemas/compare.schema.json"
else
	not_ok "the JSON report is valid against schemas/compare.schema.json: $(tail -n 1 "$T/schema.err")"
fi
no_tree_left "after a failed gate"
sed 's/"repetitions": 10/"repetitions": 3/' "$R/suite.json" >"$T/suite-3.json"
cp "$T/suite-3.json" "$R/suite-3.json"
expect_exit 1 "+20% with 3 repetitions declared fails too: --base runs the 7 pairs the test needs" \
	gate --base HEAD~1 "$R/suite-3.json" --quiet
rm -f "$R/suite-3.json"
expect_exit 1 "markdown: the same verdict" gate --base HEAD~1 "$R/suite.json" --quiet --format markdown
contains "markdown: the failing pair" "$OUT" "v@head vs v@base"
contains "markdown: the gated section" "$OUT" ", same job, interleaved, gated)</summary>"
expect_exit 1 "HTML: the same verdict" gate --base HEAD~1 "$R/suite.json" --quiet --html "$T/slow.html"
contains "HTML: the gated section" "$T/slow.html" "<h2>Head against base</h2>"
lacks "HTML: no empty section per side" "$T/slow.html" 'id="b-v%40base"'
expect_exit 1 "--plots: the same verdict" gate --base HEAD~1 "$R/suite.json" --quiet --plots "$T/plots"
check "--plots: each metric's pairs, head beside base" test -s "$T/plots/v--value--head.png"
check "--plots: no one-point trend per side" test ! -e "$T/plots/v_base--value.png" -a ! -e "$T/plots/v_head--value.png"


# The head is the work tree, uncommitted changes included; the repository
# itself is not touched (its HEAD, index and files stay as they were).
echo 100 >"$R/value"
expect_exit 0 "an uncommitted return to the base's value passes" gate --base HEAD~1 "$R/suite.json" --quiet
check "HEAD is still the head commit" test "$(git -C "$R" rev-parse HEAD~1)" = "$BASE"
check "the work tree keeps its uncommitted change" test "$(cat "$R/value")" = 100
git -C "$R" checkout -q value

# A/A: a head that changes nothing measured passes.
echo notes >"$R/README"
git -C "$R" add README && git -C "$R" commit -qm "notes"
expect_exit 0 "an unchanged benchmark passes (A/A)" gate --base HEAD~1 "$R/suite.json" --quiet --json "$T/aa.json"
check_py "A/A: unchanged, counted as gated" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
r = [x for x in d["rows"] if x["metric"] == "value"][0]
assert r["verdict"] == "unchanged" and d["counts"]["unchanged"] >= 1 and d["passed"], (r["verdict"], d["counts"])' "$T/aa.json"

# Too few pairs for the paired test ever to reach alpha (3: p >= 1/8): --base
# runs the fewest that can (7: 1/128 <= 0.01), and says so.  Fewer would
# pass every change as insufficient data.
n_of() { python3 -c '
import json, sys
print([r for r in json.load(open(sys.argv[1]))["rows"] if r["metric"] == "value"][0]["current"]["n"])' "$1"; }
sed 's/"repetitions": 10/"repetitions": 3/' "$R/suite.json" >"$R/suite-few.json"
expect_exit 0 "3 pairs declared, A/A: passes" gate --base HEAD~1 "$R/suite-few.json" --quiet --no-confirm --json "$T/few.json"
contains "... saying that 3 pairs could not decide, and what it runs instead" "$ERR" \
	"benchmark 'v': 3 pairs can never show a change at alpha 0.01 (with every pair worse, p = 2^-3); --base runs 7 (set \"repetitions\": 7 or more)"
check "... 7 pairs, compared: unchanged" test "$(n_of "$T/few.json")" = 7
expect_exit 0 "--repetitions 3 on the command line: passes" \
	gate --base HEAD~1 "$R/suite.json" -n 3 --quiet --no-confirm --json "$T/few-n.json"
contains "... saying it runs 7" "$ERR" "--repetitions 3: too few pairs for the paired test at alpha 0.01; --base runs 7"
check "... 7 pairs" test "$(n_of "$T/few-n.json")" = 7
# An adaptive count: its minimum is raised, and its maximum with it.
python3 - "$R/suite.json" "$R/suite-adaptive.json" <<'PYEOF'
import json, sys
s = json.load(open(sys.argv[1]))
b = s["benchmarks"][0]
del b["repetitions"]
b["min_repetitions"] = 2
b["max_repetitions"] = 4
json.dump(s, open(sys.argv[2], "w"))
PYEOF
expect_exit 0 "an adaptive count of 2 to 4: passes" \
	gate --base HEAD~1 "$R/suite-adaptive.json" --quiet --no-confirm --json "$T/few-a.json"
contains "... naming min_repetitions" "$ERR" "--base runs 7 (set \"min_repetitions\": 7 or more)"
check "... 7 pairs" test "$(n_of "$T/few-a.json")" = 7
# Nothing gated, nothing raised: a tracked benchmark keeps its count.
sed 's/, "metrics": {"value": {"gate": true}}//' "$R/suite-few.json" >"$R/suite-tracked.json"
expect_exit 0 "a benchmark that gates nothing: passes" \
	gate --base HEAD~1 "$R/suite-tracked.json" --quiet --no-confirm --json "$T/few-t.json"
lacks "... with no word about pairs" "$ERR" "pairs can never"
check "... and its 3 repetitions" test "$(n_of "$T/few-t.json")" = 3
# A metric's own, smaller alpha (0.001) is beyond the benchmark's 7 pairs:
# the report names the key and the number that would reach it (10).
sed 's/"gate": true}/"gate": true, "alpha": 0.001}/; s/"repetitions": 10/"repetitions": 7/' "$R/suite.json" >"$R/suite-alpha.json"
expect_exit 0 "a metric at alpha 0.001 with 7 pairs: insufficient data, which passes" \
	gate --base HEAD~1 "$R/suite-alpha.json" --quiet --no-confirm
contains "... and the report says how many repetitions would do" "$OUT" \
	"set \"repetitions\": 10 in benchmark 'v' (now 7): with fewer pairs the paired test can never reach p <= 0.001"

# A branch compared with a REF that moved on: the merge-base is the base,
# so main's own later change (faster: 80) is not counted against the branch.
git -C "$R" checkout -qb feature
echo "feature" >>"$R/README"
git -C "$R" commit -qam "feature work"
git -C "$R" checkout -q main
echo 80 >"$R/value"
git -C "$R" commit -qam "main got faster"
git -C "$R" checkout -q feature
FORK=$(git -C "$R" merge-base main feature)
expect_exit 0 "against a moved-on main the branch is compared with the merge-base" \
	gate --base main "$R/suite.json" --json "$T/mb.json"
contains "the report says it is the merge-base" "$OUT" "(the merge-base of HEAD and 'main')"
check_py "the JSON: merge_base true, the fork point's commit" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["against_base"] == {"ref": "main", "commit": sys.argv[2], "merge_base": True}, d["against_base"]' "$T/mb.json" "$FORK"

# --base auto: the pull/merge request's target branch from the CI's
# variables, else the suite's baseline.branch; none known is exit 2.
expect_exit 0 "--base auto on GitHub: the pull request's target branch" \
	env GITHUB_ACTIONS=true GITHUB_BASE_REF=main "$PERFGATE" gate --db "$NODB" --base auto "$R/suite.json" --json "$T/auto.json"
check_py "the JSON: main's merge-base" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["against_base"] == {"ref": "main", "commit": sys.argv[2], "merge_base": True}, d["against_base"]' "$T/auto.json" "$FORK"
expect_exit 0 "--base auto on GitLab" \
	env GITLAB_CI=true CI_MERGE_REQUEST_TARGET_BRANCH_NAME=main "$PERFGATE" gate --db "$NODB" --base auto "$R/suite.json" --quiet
sed 's/"project": "base",/"project": "base", "baseline": {"branch": "main"},/' "$R/suite.json" >"$R/suite-branch.json"
expect_exit 0 "--base auto outside CI: the suite's baseline.branch" gate --base auto "$R/suite-branch.json" --json "$T/auto2.json"
check_py "... main" python3 -c '
import json, sys
assert json.load(open(sys.argv[1]))["against_base"]["ref"] == "main"' "$T/auto2.json"
expect_exit 2 "--base auto with nothing to go by" env -u GITHUB_ACTIONS -u GITLAB_CI "$PERFGATE" gate --db "$NODB" --base auto "$R/suite.json"
contains "... says what it looked for" "$ERR" "--base auto: no pull/merge request target"

# Benchmarks that need a build: gen/ is made by the build and not committed.
cat >"$R/suite-built.json" <<'EOF'
{
  "suite": "built", "project": "base",
  "compare": {"gate": false, "metrics": {"value": {"gate": true}}},
  "benchmarks": [{"name": "b", "shell": "sh gen/value.sh", "emits": "json", "repetitions": 10, "cwd": "."}]
}
EOF
echo gen/ >"$R/.gitignore"
git -C "$R" add -A && git -C "$R" commit -qm "a suite that needs a build"
expect_exit 3 "without --build the base tree lacks the built files: the run is invalid" \
	gate --base HEAD~1 "$R/suite-built.json" --quiet
contains "... and the failing benchmark is named" "$ERR" "b@base"
no_tree_left "after an invalid run"
BUILD='mkdir -p gen && cp value.sh gen/value.sh && pwd >gen/where'
expect_exit 0 "--build builds both trees, then the pair runs" \
	gate --base HEAD~1 --build "$BUILD" "$R/suite-built.json" --quiet
check "the build ran in the work tree too" test "$(cat "$R/gen/where")" = "$(cd "$R" && pwd -P)"
expect_exit 3 "a build that fails is exit 3, naming the tree, its status and its last line" \
	gate --base HEAD~1 --build 'echo compiling; echo "broken.c:1: error" >&2; exit 7' "$R/suite-built.json" --quiet
contains "... the message" "$ERR" "the build failed in the base tree (commit"
contains "... the status and the last line" "$ERR" "exit status 7: broken.c:1: error"
no_tree_left "after a failed build"

# Measuring more: each side reads its own list of values, a line per
# repetition (a counter per list).  The head's first 7 are +20% but one
# (90, the smallest change, rank 1): one-sided signed-rank p = 2/128 = 0.016,
# above alpha: inconclusive.  More pairs, all +20%, decide: 11 pairs give
# p = 2/2048, below the second look's level.
cat >"$R/seq.sh" <<'EOF'
c="$COUNTER.$(head -n 1 values)"; n=$(cat "$c" 2>/dev/null || echo 0); n=$((n+1)); echo "$n" >"$c"
v=$(sed -n "${n}p" values); [ -n "$v" ] || v=$(tail -n 1 values)
printf '{"value": %s}\n' "$v" >"$PERFGATE_METRICS_FILE"
EOF
sed 's/"repetitions": 10/"repetitions": 7/; s/value.sh/seq.sh/' "$R/suite.json" >"$R/suite-seq.json"
echo 100 >"$R/values"
git -C "$R" add -A && git -C "$R" commit -qm "a list of values"
printf '120.1\n120.2\n90\n120.3\n120.4\n120.5\n120.6\n120.7\n120.8\n120.9\n121.0\n121.1\n121.2\n121.3\n121.4\n' >"$R/values"
git -C "$R" commit -qam "slower again"
rm -f "$COUNTER".*
expect_exit 1 "an inconclusive first look measures more pairs and decides: regression" \
	gate --base HEAD~1 "$R/suite-seq.json" --quiet --json "$T/more.json"
check_py "the JSON: more than one look, more pairs, both sides measured alike" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
r = [x for x in d["rows"] if x["metric"] == "value"][0]
assert d["looks"] > 1 and d["confirm_repetitions"] > 0 and r["verdict"] == "regression", (d["looks"], r)
assert r["current"]["n"] == r["baseline"]["n"] > 7, r' "$T/more.json"
rm -f "$COUNTER".*
expect_exit 0 "with --no-confirm the first look stands: inconclusive passes" \
	gate --base HEAD~1 "$R/suite-seq.json" --quiet --no-confirm --json "$T/once.json"
check_py "... at p 2/128" python3 -c '
import json, sys
r = [x for x in json.load(open(sys.argv[1]))["rows"] if x["metric"] == "value"][0]
assert r["verdict"] == "inconclusive" and abs(r["p"] - 2 / 128) < 1e-9, r' "$T/once.json"
# Measuring more stops at its time budget's end, between pairs: the same
# lists, but every repetition after each side's first 7 sleeps 0.3 s.  With
# 1 s to measure more, the round planned at the first run's pace (4 pairs)
# stops after 1 pair: a second would end past the second.  Both sides keep
# the same number of repetitions, so the pairs stay whole, and the last
# look (8 pairs, p = 2/256, at the whole alpha left) decides.
sed 's/n=$((n+1)); echo "$n" >"$c"/n=$((n+1)); echo "$n" >"$c"; [ "$n" -gt 7 ] \&\& sleep 0.3/' "$R/seq.sh" >"$T/seq-late.sh"
sed "s|sh seq.sh|sh $T/seq-late.sh|; s|\"compare\": {|\"compare\": {\"max_extra_time\": \"1s\", |" "$R/suite-seq.json" >"$T/suite-late.json"
cp "$T/suite-late.json" "$R/suite-late.json"
rm -f "$COUNTER".*
expect_exit 1 "a round of pairs that slows down stops at the budget's end, and the last look decides" \
	gate --base HEAD~1 "$R/suite-late.json" --quiet --json "$T/late.json"
rm -f "$R/suite-late.json"
check_py "... after 1 pair of the 4 planned, the sides equal" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
r = [x for x in d["rows"] if x["metric"] == "value"][0]
assert d["confirm_repetitions"] == 1 and d["looks"] == 2, (d["confirm_repetitions"], d["looks"])
assert r["current"]["n"] == r["baseline"]["n"] == 8 and r["test"] == "signed-rank", r
assert r["verdict"] == "regression" and abs(r["p"] - 2 / 256) < 1e-9, r' "$T/late.json"
# Pairs without a difference: a value that does not move on 3 of 7 pairs
# (the base's is 100 throughout) leaves 4 that differ, whose smallest p is
# 1/16: insufficient data with the 7 pairs the test needs.  The report says
# why, rather than to add repetitions the benchmark already has.  (The
# first line, 100.0, gives the head's list a counter of its own.)
printf '100.0\n100\n100\n104\n103\n102\n101\n' >"$R/values"
rm -f "$COUNTER".*
expect_exit 0 "7 pairs, 3 without a difference: insufficient data, which passes" \
	gate --base HEAD~1 "$R/suite-seq.json" --quiet --no-confirm --json "$T/ties.json"
git -C "$R" checkout -q values
check_py "... a signed-rank row whose hint names the pairs without a difference" python3 -c '
import json, sys
r = [x for x in json.load(open(sys.argv[1]))["rows"] if x["metric"] == "value"][0]
assert r["verdict"] == "insufficient-data" and r["test"] == "signed-rank" and abs(r["p_min"] - 1 / 16) < 1e-9, r
assert r["hint"].startswith("too many of its 7 pairs show no difference at all"), r["hint"]
assert r["why"].startswith("7 pairs cannot reach p <= 0.01 (smallest possible p 0.0625, pairs without a difference left out)"), r["why"]' "$T/ties.json"
contains "... and the cause line counts pairs" "$OUT" \
	"7 pairs cannot reach p <= 0.01 (the smallest possible p is 0.06"
lacks "... never 'set repetitions' to what it has" "$OUT" 'set "repetitions": 7'

# An adaptive count keeps the sides in pairs: the base's repetitions nap
# 10 ms and 60 ms in turn (its median never gets precise), the head's 30 ms
# each (precise after its minimum of 7).  The head goes on with the base, to
# 12 each, and the comparison stays paired.
cat >"$T/nap.sh" <<'EOF'
c="$COUNTER.nap.$(head -n 1 naps)"; n=$(cat "$c" 2>/dev/null || echo 0); n=$((n+1)); echo "$n" >"$c"
sleep "$(sed -n "${n}p" naps)"
printf '{"value": 100}\n' >"$PERFGATE_METRICS_FILE"
EOF
printf '0.010\n0.06\n0.01\n0.06\n0.01\n0.06\n0.01\n0.06\n0.01\n0.06\n0.01\n0.06\n' >"$R/naps"
git -C "$R" add naps && git -C "$R" commit -qm "naps" && git -C "$R" commit -q --allow-empty -m "after the naps"
printf '0.030\n0.03\n0.03\n0.03\n0.03\n0.03\n0.03\n0.03\n0.03\n0.03\n0.03\n0.03\n' >"$R/naps"
printf '{"suite": "nap", "project": "base", "compare": {"gate": false, "metrics": {"value": {"gate": true}}}, "benchmarks": [{"name": "n", "shell": "sh %s/nap.sh", "emits": "json", "min_repetitions": 7, "max_repetitions": 12}]}\n' "$T" >"$R/suite-nap.json"
rm -f "$COUNTER".*
expect_exit 0 "adaptive counts under --base" gate --base HEAD~1 "$R/suite-nap.json" --quiet --no-confirm --json "$T/nap.json"
git -C "$R" checkout -q naps
rm -f "$R/suite-nap.json"
check_py "... both sides took 12, compared pair by pair" python3 -c '
import json, sys
r = [x for x in json.load(open(sys.argv[1]))["rows"] if x["metric"] == "wall"][0]
assert r["current"]["n"] == r["baseline"]["n"] == 12 and r["test"] == "signed-rank", (r["current"]["n"], r["baseline"]["n"], r["test"])' "$T/nap.json"
echo 150 >"$R/value"
git -C "$R" commit -qam "value.sh slower too"

# SLOs check the head only: the base (150) would break this one, the head does not.
git -C "$R" checkout -qb faster
echo 100 >"$R/value"
cat >"$R/suite-slo.json" <<'EOF'
{
  "suite": "slo", "project": "base",
  "compare": {"gate": false},
  "benchmarks": [{"name": "v", "shell": "sh value.sh", "emits": "json", "repetitions": 5,
                  "slo": {"value.median": "< 110"}}]
}
EOF
git -C "$R" add -A && git -C "$R" commit -qm "faster, with an SLO"
expect_exit 0 "an SLO the base would break but the head meets passes" \
	gate --base HEAD~1 "$R/suite-slo.json" --quiet --json "$T/slo.json"
check_py "one SLO, the head's" python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))["slos"]
assert len(s) == 1 and s[0]["benchmark"] == "v@head" and s[0]["ok"], s' "$T/slo.json"
git -C "$R" checkout -q feature

# A benchmark new in the change: the base commit's suite does not have it,
# nor its script.  It is not compared, the report says why, and the run
# stays valid; one that fails on both sides still makes the run invalid.
cat >"$R/suite-new.json" <<'EOF'
{
  "suite": "new", "project": "base",
  "compare": {"gate": false, "metrics": {"value": {"gate": true}}},
  "benchmarks": [{"name": "v", "shell": "sh value.sh", "emits": "json", "repetitions": 10}]
}
EOF
git -C "$R" add -A && git -C "$R" commit -qm "a suite"
cat >"$R/suite-new.json" <<'EOF'
{
  "suite": "new", "project": "base",
  "compare": {"gate": false, "metrics": {"value": {"gate": true}}},
  "benchmarks": [{"name": "v", "shell": "sh value.sh", "emits": "json", "repetitions": 10},
                 {"name": "fresh", "shell": "sh fresh.sh", "repetitions": 3}]
}
EOF
echo 'true' >"$R/fresh.sh"
git -C "$R" add -A && git -C "$R" commit -qm "a new benchmark and its script"
expect_exit 0 "a benchmark new in the change does not make the run invalid" \
	gate --base HEAD~1 "$R/suite-new.json" --json "$T/new.json"
contains "the report says it was not compared, and why" "$OUT" \
	"benchmark 'fresh' failed on the base commit (repetition 1: exited with status 2): not compared; the base commit's suite lacks it or defines it otherwise"
contains "... as it happened too" "$ERR" "benchmark 'fresh@base' failed on the base commit"
check_py "the JSON: no failed benchmark, the note, the other pair compared" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["failed_benchmarks"] == [] and d["passed"], d["failed_benchmarks"]
assert any("new or changed in this change" in n for n in d["notes"]), d["notes"]
assert any(x["benchmark"] == "v@head" and x["metric"] == "value" for x in d["rows"]), d["rows"]' "$T/new.json"

# Changed in the change: the base commit's suite has it, with another
# command (a script the change adds).  Not compared either.
sed 's/fresh.sh/fresher.sh/' "$R/suite-new.json" >"$T/changed.json" && cp "$T/changed.json" "$R/suite-new.json"
echo 'true' >"$R/fresher.sh"
git -C "$R" add -A && git -C "$R" commit -qm "the benchmark runs a new script"
expect_exit 0 "a benchmark whose command changed, failing on the base: not compared, the run valid" \
	gate --base HEAD~1 "$R/suite-new.json" --quiet
contains "... said" "$OUT" "benchmark 'fresh' failed on the base commit (repetition 1: exited with status 2): not compared"

# Defined alike on both sides, yet failing on the base: its data is an
# ignored file, which the base tree (the commit's files) lacks.  Passing it
# as "new" would pass every change silently: the run is invalid, and the
# report says what the base tree holds and what to do.
printf 'data.txt\n' >"$R/.gitignore"
cat >"$R/suite-ignored.json" <<'EOF'
{"suite": "ignored", "project": "base", "benchmarks": [{"name": "data", "shell": "cat data.txt", "repetitions": 7}]}
EOF
echo 12345 >"$R/data.txt"
git -C "$R" add -A && git -C "$R" commit -qm "a benchmark that reads an ignored file"
git -C "$R" commit -q --allow-empty -m "a change"
expect_exit 3 "a benchmark the base commit defines alike that fails there: the run is invalid (exit 3)" \
	gate --base HEAD~1 "$R/suite-ignored.json" --json "$T/ignored.json"
contains "... the report says the base commit's suite defines it the same way" "$OUT" \
	"benchmark 'data' failed on the base commit (repetition 1: exited with status 1) while its head ran, and the base commit's suite defines it the same way: not compared; the base tree holds the commit's files and the submodules checked out in the work tree only (no ignored or untracked file, nothing built unless --build builds it)"
contains "... and stderr too" "$ERR" "and the base commit's suite defines it the same way: the base tree holds"
check_py "... the JSON names the failed base side" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["failed_benchmarks"] == ["data@base"] and not d["passed"], (d["failed_benchmarks"], d["passed"])' "$T/ignored.json"
# A base commit whose suite file does not load says nothing of how it
# defined the benchmark: counted as changed, as when it has none.
echo '{"suite": "broken", ' >"$R/suite-fixed.json"
git -C "$R" add -A && git -C "$R" commit -qm "a suite file that does not parse"
cp "$R/suite-ignored.json" "$R/suite-fixed.json"
git -C "$R" add -A && git -C "$R" commit -qm "the suite file mended"
expect_exit 0 "a base suite file that does not load: the benchmark failing on the base counts as changed" \
	gate --base HEAD~1 "$R/suite-fixed.json" --quiet
contains "... and is said so" "$OUT" "not compared; the base commit's suite lacks it or defines it otherwise"
expect_exit 0 "--bench NAME runs both sides of that benchmark only" \
	gate --base HEAD~1 --bench v "$R/suite-new.json" --json "$T/only.json"
check_py "... v's pair, and nothing of fresh" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert {x["benchmark"] for x in d["rows"]} == {"v@head"}, {x["benchmark"] for x in d["rows"]}
assert not any("fresh" in n for n in d["notes"]), d["notes"]' "$T/only.json"
expect_exit 0 "--bench twice: both benchmarks, each on both sides" \
	gate --base HEAD~1 --bench v --bench fresh "$R/suite-new.json" --json "$T/two.json"
check_py "... both pairs compared" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert {x["benchmark"] for x in d["rows"]} == {"v@head", "fresh@head"}, {x["benchmark"] for x in d["rows"]}' "$T/two.json"
sed 's/fresher.sh/missing.sh/' "$R/suite-new.json" >"$R/suite-broken.json"
expect_exit 3 "a benchmark that fails on both sides makes the run invalid" \
	gate --base HEAD~1 "$R/suite-broken.json" --quiet
contains "... both sides named in the headline" "$OUT" "run invalid: 2 benchmarks failed ('fresh@base', 'fresh@head')"

# A submodule: the base tree has it at the commit the base pins, from its
# checkout in the work tree.  The head moves it on (value 100 -> 120).
L=$T/lib
git_repo "$L"
echo 100 >"$L/value" && git -C "$L" add value && git -C "$L" commit -qm "lib at 100"
git -C "$R" -c protocol.file.allow=always submodule add -q "$L" lib
cat >"$R/suite-sub.json" <<'EOF'
{
  "suite": "sub", "project": "base",
  "compare": {"gate": false, "metrics": {"value": {"gate": true}}},
  "benchmarks": [{"name": "libv", "shell": "sh ../value.sh", "cwd": "lib", "emits": "json", "repetitions": 10}]
}
EOF
git -C "$R" add -A && git -C "$R" commit -qm "a submodule and a benchmark in it"
git -C "$R/lib" config user.email t@example.com && git -C "$R/lib" config user.name t
echo 120 >"$R/lib/value" && git -C "$R/lib" commit -qam "lib at 120" && git -C "$R" commit -qam "the submodule moves on" ||
	not_ok "the submodule moved on"
expect_exit 1 "a benchmark in a submodule: the base tree has the base's submodule commit, and +20% fails" \
	gate --base HEAD~1 "$R/suite-sub.json" --quiet --json "$T/sub.json"
check_py "... compared pair by pair, about +20%" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
r = [x for x in d["rows"] if x["metric"] == "value"][0]
assert r["benchmark"] == "libv@head" and r["verdict"] == "regression" and abs(r["ratio"] - 1.2) < 0.01, r' "$T/sub.json"
lacks "... with no word about submodules" "$ERR" "submodule"
# Not checked out in the work tree: said, and the benchmark fails on both sides.
git -C "$R" submodule deinit -q -f lib
expect_exit 3 "a submodule that is not checked out: the run is invalid" gate --base HEAD~1 "$R/suite-sub.json" --quiet
contains "... and the warning names it" "$ERR" \
	"the base tree: submodule 'lib' is not checked out in the work tree (git submodule update --init): not written"
git -C "$R" rm -q -f lib && git -C "$R" commit -qm "no submodule"

# A load test without a "server" is not run (the gate without --base
# compares it with its history; test_gate_base_http.sh runs one with).
cat >"$R/suite-mixed.json" <<'EOF'
{
  "suite": "mixed", "project": "base",
  "compare": {"gate": false, "metrics": {"value": {"gate": true}}},
  "benchmarks": [
    {"name": "v", "shell": "sh value.sh", "emits": "json", "repetitions": 10},
    {"name": "api", "http": {"url": "http://127.0.0.1:1/"}, "load": {"duration": "1s"}}
  ]
}
EOF
expect_exit 0 "a suite with a load test: the commands are compared" gate --base HEAD "$R/suite-mixed.json" --quiet
contains "the load test is named as not run, with what would run it" "$ERR" \
	"benchmark 'api' is not run: --base starts a load test's target on each side only when the benchmark declares it as its \"server\""

# Mistakes: exit 2, one line each.
expect_exit 2 "an unknown REF" gate --base nosuch "$R/suite.json"
contains "... named" "$ERR" "--base nosuch: unknown git revision 'nosuch'"
expect_exit 2 "--build with --shards (nothing measured here)" gate --build make --shards 2 "$R/suite.json"
contains "... said" "$ERR" "which a merged run of shards never does"
expect_exit 2 "--base with --baseline" gate --base main --baseline branch:main "$R/suite.json"
contains "... said" "$ERR" "it takes no --baseline"
cat >"$R/suite-var.json" <<'EOF'
{"suite": "var", "benchmarks": [{"name": "x", "command": ["true"], "variants": [{"name": "a"}, {"name": "b"}]}]}
EOF
expect_exit 2 "a benchmark with variants" gate --base HEAD "$R/suite-var.json"
contains "... said" "$ERR" "benchmark 'x' declares variants"
cat >"$R/suite-out.json" <<EOF
{"suite": "out", "benchmarks": [{"name": "x", "command": ["true"], "cwd": "$T"}]}
EOF
expect_exit 2 "a benchmark that runs outside the work tree" gate --base HEAD "$R/suite-out.json"
contains "... said" "$ERR" "outside the repository's work tree"
cat >"$R/suite-nocwd.json" <<'EOF'
{"suite": "nocwd", "benchmarks": [{"name": "x", "command": ["true"], "cwd": "no-such-folder"}]}
EOF
expect_exit 2 "a benchmark whose working folder does not exist" gate --base HEAD "$R/suite-nocwd.json"
contains "... names it" "$ERR" "benchmark 'x': its working folder $R/no-such-folder: No such file or directory"
mkdir -p "$T/nogit"
cp "$R/suite.json" "$R/value.sh" "$R/value" "$T/nogit/"
expect_exit 2 "a suite outside any git repository" gate --base main "$T/nogit/suite.json"
contains "... said" "$ERR" "is not inside a git repository"
expect_exit 3 "a base tree that cannot be written is a run that could not be made" \
	env TMPDIR="$T/no/such/folder" "$PERFGATE" gate --db "$NODB" --base main "$R/suite.json"
contains "... and says where" "$ERR" "cannot make a folder for the base tree ($T/no/such/folder/perfgate-base-"
no_tree_left "after every mistake"

# A later look decides only what was undecided (docs/statistics.md,
# "Measuring more when unsure", item 4).  Each repetition emits the next
# value of its side's list (a counter per benchmark and tree, outside the
# repository), so every pair is known.  x: 8 pairs +30%, 2 pairs -1% and
# -2% (the smallest ranks): p = 5/1024, adjusted 0.0098 <= 0.01, a
# regression at the first look.  y: 7 pairs +20%, 3 pairs -3%: p =
# 14/1024, inconclusive, so y is measured more and x is not.  The later
# look tests at a smaller share of alpha: re-deciding x there would turn
# its regression into "inconclusive".
R2=$T/repo2
git_repo "$R2" || exit 1
printf '%s\n' 'f=$COUNTER.$1.$(cat side); n=$(($(cat "$f" 2>/dev/null || echo 0) + 1)); echo "$n" >"$f"' \
	'printf "{\"value\": %s}\n" "$(sed -n "${n}p" "$1.values")" >"$PERFGATE_METRICS_FILE"' >"$R2/list.sh"
printf '%s\n' '{"suite": "looks", "project": "looks",' \
	' "compare": {"gate": false, "metrics": {"value": {"gate": true}}},' \
	' "benchmarks": [{"name": "x", "shell": "sh list.sh x", "emits": "json", "repetitions": 10},' \
	'                {"name": "y", "shell": "sh list.sh y", "emits": "json", "repetitions": 10}]}' >"$R2/suite.json"
values='
import sys
side, repo = sys.argv[1], sys.argv[2]
base = [100.5 + i for i in range(20)]
up = [1 + 0.002 * i for i in range(20)]  # no two pairs tie: the exact test
x = [1.30 * u for u in up]
x[4], x[9] = 0.99, 0.98
y = [1.20 * u for u in up]
y[2], y[6], y[7] = 0.97, 0.969, 0.968
open(repo + "/side", "w").write(side + "\n")
for name, r in (("x", x), ("y", y)):
    k = r if side == "head" else [1.0] * 20
    open(repo + "/" + name + ".values", "w").write("".join("%.4f\n" % (b * f) for b, f in zip(base, k)))
'
python3 -c "$values" base "$R2"
git -C "$R2" add -A && git -C "$R2" commit -qm base
python3 -c "$values" head "$R2"
git -C "$R2" add -A && git -C "$R2" commit -qm head
rm -f "$COUNTER.x.base" "$COUNTER.x.head" "$COUNTER.y.base" "$COUNTER.y.head"
expect_exit 1 "x flagged at the first look, y measured more" gate --base HEAD~1 "$R2/suite.json" --quiet \
	--json "$T/looks.json"
check_py "... x keeps its first-look regression (p 5/1024 on 10 pairs); y decided later on more" python3 -c '
import json, sys
rows = {r["benchmark"]: r for r in json.load(open(sys.argv[1]))["rows"] if r["metric"] == "value"}
x, y = rows["x@head"], rows["y@head"]
assert x["verdict"] == "regression" and x["current"]["n"] == 10 and abs(x["p"] - 5 / 1024) < 1e-9, x["why"]
assert y["current"]["n"] > 10 and y["verdict"] == "regression" and y["level"] < 0.01, (y["current"]["n"], y["why"])' \
	"$T/looks.json"
no_tree_left "after the looks"
