#!/bin/sh
# Measuring more when unsure (docs/gate.md "Measuring more", issue 15): a
# gate whose first look is inconclusive runs the benchmark again, in rounds
# of half the budget, and decides on all the samples, each look at its share
# of alpha; the budget is honoured; the report states what each gated metric
# can detect.  The benchmark is a real command that emits a value read from a
# list in the commit, one line per repetition (a counter outside the
# repository says which), so that every look sees exactly the samples the
# test chose: the statistics of each look are worked out below.
. tests/integration/lib.sh
T=$(test_tmpdir)
DB=$(new_db more)
export GIT_CONFIG_NOSYSTEM=1 HOME=$T PERFGATE_HOME=$T/home NO_COLOR=1 COUNTER=$T/counter
R=$T/repo

git_repo "$R" || exit 1
cat >"$R/value.sh" <<'EOF'
[ -f delay ] && sleep "$(cat delay)"
n=$(cat "$COUNTER" 2>/dev/null || echo 0)
# late_delay: the repetitions after the first six (the first run's) sleep
[ -f late_delay ] && [ "$n" -ge 6 ] && sleep "$(cat late_delay)"
n=$((n+1)); echo "$n" >"$COUNTER"
v=$(sed -n "${n}p" values); [ -n "$v" ] || v=$(tail -n 1 values)
printf '{"value": %s}\n' "$v" >"$PERFGATE_METRICS_FILE"
EOF
# Only the emitted value gates (the times of a shell script say nothing here).
cat >"$R/suite.json" <<'EOF'
{
  "suite": "more", "project": "more",
  "compare": {"gate": false, "max_extra_time": "10m", "metrics": {"value": {"gate": true}}},
  "benchmarks": [{"name": "v", "shell": "sh value.sh", "emits": "json", "repetitions": 6}]
}
EOF
gate() { rm -f "$COUNTER"; "$PERFGATE" gate --db "$DB" --quiet "$@"; }

# Three baseline runs of six values about 100 (no spread between runs).
printf '100.1\n100.4\n99.8\n100.2\n99.9\n100.3\n' >"$R/values"
git -C "$R" add -A && git -C "$R" commit -qm base
for i in 1 2 3; do
	echo "$i" >>"$R/notes"
	git -C "$R" add -A && git -C "$R" commit -qm "main $i"
	expect_exit 0 "baseline gate $i passes" gate "$R/suite.json"
done

# A change with an unclear first look: 2 of 6 values as before, 4 about +13%.
# Against the 18 baseline values (three runs of the same six: ties, so the
# normal approximation) the one-sided Mann-Whitney p is 0.12 (SciPy,
# mannwhitneyu asymptotic) and the estimate +12%: inconclusive.  Each further
# value is higher still; after 3 more (9 values) p = 0.011, above the second
# look's level 0.0029 (alpha spending, t = 9/12): still undecided; after 3
# more (12) p = 0.0012, below the last look's 0.0071: a regression, decided
# on all 12 samples.
git -C "$R" checkout -qb slower
printf '99.5\n112\n113\n99.7\n114\n115\n116\n117\n118\n119\n120\n121\n' >"$R/values"
git -C "$R" commit -qam "slower"
expect_exit 1 "an inconclusive first look measures more and decides: regression" \
	gate "$R/suite.json" --no-store --json "$T/more.json"
contains "the report says it measured more over 3 looks" "$OUT" "measured more: 6 more repetitions of each undecided benchmark over 3 looks"
check_py "the JSON: 3 looks, 6 more repetitions, the regression decided on 12 samples at the last look's level" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["looks"] == 3 and d["confirm_repetitions"] == 6 and not d["budget_spent"], d
r = [x for x in d["rows"] if x["metric"] == "value"][0]
assert r["verdict"] == "regression" and r["current"]["n"] == 12, r
# the last look spends what the second (0.0029) left of 0.01
assert abs(r["level"] - (0.01 - 0.0029365)) < 1e-6, r["level"]' "$T/more.json"

# A disturbance of the first measurement: 10 repetitions (the count is not
# part of the configuration, so the history is the same) about twice the
# baseline, then the values measured again are as before.  The pooled
# samples stay significant (p 0.0018 at 15 samples, below the second look's
# 0.0029; 0.0064 at 20, below the last look's 0.0071: SciPy, asymptotic),
# but the repetitions measured again, on their own, show no change: not
# replicated, inconclusive at every look, and the gate passes.
git -C "$R" checkout -q main
git -C "$R" checkout -qb blip
printf '200\n201\n202\n203\n204\n205\n206\n207\n208\n209\n100.05\n100.25\n99.85\n100.15\n99.95\n100.35\n100.0\n100.2\n99.9\n100.3\n' >"$R/values"
sed 's/"repetitions": 6/"repetitions": 10/' "$R/suite.json" >"$R/blip.json"
git -C "$R" add -A && git -C "$R" commit -qm "a disturbance"
expect_exit 0 "a regression that does not replicate when measured again does not fail the gate" \
	gate "$R/blip.json" --no-store --json "$T/blip.json"
check_py "it is inconclusive after 2 rounds, and says it did not replicate" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
r = [x for x in d["rows"] if x["metric"] == "value"][0]
assert r["verdict"] == "inconclusive" and r["current"]["n"] == 20 and d["looks"] == 3, (r, d["looks"])
assert "not replicated" in r["why"] and "the 10 measured again alone show" in r["why"] and "0.0%, inside the 5.0% floor" in r["why"], r["why"]' "$T/blip.json"
git -C "$R" checkout -q slower

# The same first look with --no-confirm: decided on 6 samples, inconclusive, passes.
expect_exit 0 "without measuring more the first look stands: inconclusive passes" \
	gate "$R/suite.json" --no-store --no-confirm --json "$T/once.json"
contains "it says so loudly" "$OUT" "inconclusive"

# The budget is honoured: at most 2 more repetitions (one round of 1, then
# 1), and values that stay unclear: the gate stops undecided and says so.
git -C "$R" checkout -q main
git -C "$R" checkout -qb unclear
printf '99.5\n112\n113\n99.7\n114\n115\n99.6\n99.4\n' >"$R/values"
sed 's/"max_extra_time": "10m"/"max_extra_time": "10m", "max_extra_repetitions": 2/' "$R/suite.json" >"$R/budget.json"
git -C "$R" add -A && git -C "$R" commit -qm "unclear"
expect_exit 0 "a change that stays unclear passes as inconclusive when the budget is spent" \
	gate "$R/budget.json" --no-store --json "$T/budget.json"
check_py "the budget of 2 extra repetitions is honoured (8 samples) and the report says it is spent" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["confirm_repetitions"] == 2 and d["budget_spent"], d
r = [x for x in d["rows"] if x["metric"] == "value"][0]
assert r["verdict"] == "inconclusive" and r["current"]["n"] == 8, r' "$T/budget.json"
contains "the text report says the budget is spent" "$OUT" "the budget is spent, still undecided"
# A time budget of nothing: no measuring more at all.
sed 's/"max_extra_time": "10m"/"max_extra_time": 0/' "$R/suite.json" >"$R/notime.json"
expect_exit 0 "max_extra_time 0: no measuring more" gate "$R/notime.json" --no-store --json "$T/notime.json"
check_py "nothing was re-measured" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["confirm_repetitions"] == 0 and d["looks"] == 1, d' "$T/notime.json"
# A time budget holds what fits: repetitions of 0.2 s (6 in the first run)
# and 0.5 s to measure more take a round of at most 2, where half the
# budget's repetitions (3) would take 0.6 s, and nothing after it.
echo 0.2 >"$R/delay"
sed 's/"max_extra_time": "10m"/"max_extra_time": "0.5s"/' "$R/suite.json" >"$R/time.json"
expect_exit 0 "a time budget of 0.5 s" gate "$R/time.json" --no-store --json "$T/time.json"
rm -f "$R/delay"
check_py "the rounds fit the time budget: 1 or 2 repetitions, then it is spent" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["confirm_repetitions"] in (1, 2) and d["budget_spent"] and d["looks"] == 2, d
assert d["extra_seconds"] < 0.6, d["extra_seconds"]' "$T/time.json"
# A round sized by the first run's pace stops at the budget's end when the
# machine slows down under it: the first run's repetitions take moments,
# the later ones 0.4 s each.  With 1 s to measure more, the first round
# (3 repetitions, planned at the first run's pace) stops after 2 at most:
# a third would end past the second.
echo 0.4 >"$R/late_delay"
sed 's/"max_extra_time": "10m"/"max_extra_time": "1s"/' "$R/suite.json" >"$R/late.json"
expect_exit 0 "a budget of 1 s while the repetitions slow down to 0.4 s" gate "$R/late.json" --no-store --json "$T/late.json"
rm -f "$R/late_delay"
check_py "the round stops at the budget: 1 or 2 repetitions of the 3 planned, then it is spent" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["confirm_repetitions"] in (1, 2) and d["budget_spent"] and d["looks"] == 2, d' "$T/late.json"

# The report states what each gated metric can detect, in every format.
contains "text: the detectable effect of the gated metric" "$OUT" "detects: the smallest change each gated metric would catch 80% of the time"
contains "text: ... naming it" "$OUT" "% in v/value"
expect_exit 0 "markdown report" gate "$R/notime.json" --no-store --format markdown --junit "$T/r.xml"
contains "markdown: what this gate can catch" "$OUT" "**What this gate can catch** (80% of the time, at its alpha): changes of"
contains "junit: the detectable effect on the test case" "$T/r.xml" "detects changes of"
check_py "json: a detectable effect on the gated row" python3 -c '
import json, sys
r = [x for x in json.load(open(sys.argv[1]))["rows"] if x["metric"] == "value"][0]
assert 0 < r["detectable_effect"] < 1 and r["floor"] == 0.05, r' "$T/notime.json"
git -C "$R" checkout -q main

# Interleaved A/B variants measure more too (docs/gate.md "Measuring more"):
# an A/B row of a gated metric that is inconclusive runs both variants
# again, pair by pair.  Each variant emits from its own list (its own
# counter), so pair i is line i of both.  B is 20% above A in every pair
# (20.0%, 20.2%, ... no two alike) but the third, where it is 1% below (the
# smallest of the 7 log-ratios):
# the one-sided exact signed-rank p is 2/128 = 0.0156 > 0.01, inconclusive.
# 4 more pairs (a round of half the 7-repetition budget), every one 20%
# above: 11 pairs, p = 2/2048 = 0.00098, under the second look's share of
# alpha: a regression, flagged (A/B rows never fail the gate).
git -C "$R" checkout -qb ab
cat >"$R/ab.sh" <<'SH'
c="$COUNTER.$1"; n=$(cat "$c" 2>/dev/null || echo 0); n=$((n+1)); echo "$n" >"$c"
v=$(sed -n "${n}p" "values.$1"); [ -n "$v" ] || v=$(tail -n 1 "values.$1")
printf '{"value": %s}\n' "$v" >"$PERFGATE_METRICS_FILE"
SH
python3 -c '
import sys
a = [100 + 0.1 * i for i in range(14)]
b = [x * (0.99 if i == 2 else 1.2 + 0.002 * i) for i, x in enumerate(a)]
for name, v in (("a", a), ("b", b)):
    open(sys.argv[1] + "/values." + name, "w").write("".join("%.4f\n" % x for x in v))
' "$R"
cat >"$R/ab.json" <<'JSON'
{
  "suite": "ab", "project": "more-ab",
  "compare": {"gate": false, "max_extra_time": "10m", "metrics": {"value": {"gate": true}}},
  "benchmarks": [{"name": "x", "shell": "sh ab.sh a", "emits": "json", "repetitions": 7,
                  "variants": [{"name": "a"}, {"name": "b", "shell": "sh ab.sh b"}], "reference": "a"}]
}
JSON
git -C "$R" add -A && git -C "$R" commit -qm "A/B"
abgate() { rm -f "$COUNTER.a" "$COUNTER.b"; "$PERFGATE" gate --db "$DB" --quiet "$@"; }
expect_exit 0 "an inconclusive A/B row measures both variants more (flagged, not failed)" \
	abgate "$R/ab.json" --no-store --json "$T/ab.json"
check_py "the A/B row: a regression on 11 pairs at the second look" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
r = [x for x in d["rows"] if x["metric"] == "value" and x.get("against")][0]
assert d["looks"] == 2 and d["confirm_repetitions"] == 4, (d["looks"], d["confirm_repetitions"])
assert r["verdict"] == "regression" and r["current"]["n"] == 11 and r["test"] == "signed-rank", r
assert abs(r["p"] - 2 / 2048) < 1e-9 and r["level"] < 0.01, (r["p"], r["level"])' "$T/ab.json"
expect_exit 0 "the same A/B run without measuring more" abgate "$R/ab.json" --no-store --no-confirm --json "$T/ab1.json"
check_py "... is inconclusive on 7 pairs (p 2/128)" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
r = [x for x in d["rows"] if x["metric"] == "value" and x.get("against")][0]
assert d["looks"] == 1 and r["verdict"] == "inconclusive" and r["current"]["n"] == 7, r
assert abs(r["p"] - 2 / 128) < 1e-9, r["p"]' "$T/ab1.json"
git -C "$R" checkout -q main
