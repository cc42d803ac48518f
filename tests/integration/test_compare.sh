#!/bin/sh
# `perfgate compare` and `perfgate report` against a real PostgreSQL: baseline
# selection on a temporary git repository (main c1-c2-c3, a feature branch
# from c2, a shallow clone), with runs pushed as run documents whose samples
# are chosen so that a wrong baseline gives a different verdict:
#   R1 c1 main 1.0 s    R2 c2 main 1.0 s    R3 c3 main 2.0 s (not an ancestor of feature)
#   R4 f1 feature PR 3.0 s   R5 c2 main dirty 3.0 s   R6 c2 main fork 3.0 s
#   R7 c2 main, another machine 3.0 s    R8 c2 main, another configuration 3.0 s
. tests/integration/lib.sh
T=$(test_tmpdir)
DB=$(new_db compare)
export GIT_CONFIG_NOSYSTEM=1 HOME=$T

git init -q -b main "$T/repo"
(
	cd "$T/repo" && git config user.email t@example.com && git config user.name t &&
	for i in 1 2; do echo $i >f; git add f; git commit -qm c$i; done &&
	git checkout -qb feature && for i in 1 2; do echo f$i >g; git add g; git commit -qm f$i; done &&
	git checkout -q main && echo 3 >f && git commit -qam c3
) || not_ok "git repository setup"
git clone -q --depth 1 --branch main "file://$T/repo" "$T/shallow" 2>/dev/null
rev() { git -C "$T/repo" rev-parse "$1"; }
C1=$(rev main~2) C2=$(rev main~1) C3=$(rev main) F1=$(rev feature~1) F2=$(rev feature)

# mkrun ID COMMIT BRANCH PR DIRTY FORK MINUTE WALL [FINGERPRINT] [CONFIG]
mkrun() {
	python3 - "$@" <<'EOF'
import json, sys
a = sys.argv[1:]
rid, commit, branch, pr, dirty, fork, minute, wall = a[:8]
fp = a[8] if len(a) > 8 else "fp-test"
cfg = a[9] if len(a) > 9 else "c" * 64
wall = float(wall)
# 10 distinct samples within +-2% of wall
samples = [wall * (0.98 + 0.04 * ((i * 7) % 10) / 9 + 1e-6 * i) for i in range(10)]
doc = {
    "schema_version": 1, "run_id": rid, "project": "demo", "suite": "loop",
    "git": {"commit": commit, "branch": branch, "dirty": dirty == "1", "shallow": False,
            "commit_time": None, "subject": None, "parents": [], "remote": None},
    "ci": {"provider": "local", "job_url": None, "event": None,
           "pr": int(pr) if pr != "0" else None,
           "base_branch": "main" if pr != "0" else None, "fork": fork == "1"},
    "machine": {"fingerprint": fp}, "fingerprint": fp,
    "started_at": "2026-11-28T10:%02d:00Z" % int(minute), "finished_at": None,
    "partial": False, "tags": {},
    "benchmarks": [{"name": "loop", "kind": "command", "params": None, "config_hash": cfg,
                    "status": "ok",
                    "metrics": [{"name": "wall", "unit": "s", "direction": "lower", "samples": samples}]}],
}
print(json.dumps(doc))
EOF
}
id() { printf '00000000-0000-4000-8000-%012d' "$1"; }

mkrun "$(id 1)" "$C1" main 0 0 0 1 1.0 >"$T/r1.json"
mkrun "$(id 2)" "$C2" main 0 0 0 2 1.0 >"$T/r2.json"
mkrun "$(id 3)" "$C3" main 0 0 0 3 2.0 >"$T/r3.json"
mkrun "$(id 4)" "$F1" feature 5 0 0 4 3.0 >"$T/r4.json"
mkrun "$(id 5)" "$C2" main 0 1 0 5 3.0 >"$T/r5.json"
mkrun "$(id 6)" "$C2" main 6 0 1 6 3.0 >"$T/r6.json"
mkrun "$(id 7)" "$C2" main 0 0 0 7 3.0 fp-other >"$T/r7.json"
mkrun "$(id 8)" "$C2" main 0 0 0 8 3.0 fp-test "$(printf 'd%.0s' $(seq 64))" >"$T/r8.json"
expect_exit 0 "push the stored history" "$PERFGATE" push --baseline-eligible --db "$DB" "$T"/r[1-8].json

# run_ids FILE: the baseline run ids of the first row, comma-separated, by their last digit
run_ids() {
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["rows"][0]; print(",".join(x[-1] for x in r["baseline"]["run_ids"]))' "$1"
}
verdict() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["rows"][0]["verdict"])' "$1"
}
mode() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["baseline"]["mode"])' "$1"
}
check_eq() { # NAME GOT WANT
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1: got '$2', want '$3'"; fi
}

# A pull request from feature at f2: merge-base c2, so R2 then R1 (never R3..R8).
mkrun "$(id 20)" "$F2" feature 7 0 0 20 1.0 >"$T/pr-same.json"
expect_exit 0 "PR at the same speed passes" "$PERFGATE" compare --db "$DB" --repo "$T/repo" \
	--run-file "$T/pr-same.json" --format json --out "$T/c1.json"
check_eq "PR baseline: runs at the merge-base and its ancestors only" "$(run_ids "$T/c1.json")" "2,1"
check_eq "PR baseline mode is merge-base" "$(mode "$T/c1.json")" "merge-base"
check_eq "PR at the same speed is unchanged" "$(verdict "$T/c1.json")" "unchanged"
check "JSON report validates against schemas/compare.schema.json" python3 -c '
import json, sys, jsonschema
jsonschema.validate(json.load(open(sys.argv[1])), json.load(open("schemas/compare.schema.json")),
                    cls=jsonschema.Draft202012Validator)' "$T/c1.json"

mkrun "$(id 21)" "$F2" feature 7 0 0 21 2.0 >"$T/pr-slow.json"
expect_exit 1 "PR twice as slow fails" "$PERFGATE" compare --db "$DB" --repo "$T/repo" --run-file "$T/pr-slow.json"
contains "the text report says regression" "$OUT" "regression"
contains "the text report explains the baseline" "$OUT" "merge-base with 'main'"
contains "the text report names the baseline commits" "$OUT" "$(echo "$C2" | cut -c1-10)"

# On main at c3 (2.0 s like R3): the nearest ancestors c3, c2, c1; pooled, R1
# and R2 at 1.0 s make it a regression, while K=1 (R3 alone) does not.
mkrun "$(id 22)" "$C3" main 0 0 0 22 2.0 >"$T/main.json"
expect_exit 1 "main at c3 against c3, c2, c1" "$PERFGATE" compare --db "$DB" --repo "$T/repo" \
	--run-file "$T/main.json" --format json --out "$T/c2.json"
check_eq "main baseline: nearest ancestors first" "$(run_ids "$T/c2.json")" "3,2,1"
check_eq "main baseline mode is ancestors" "$(mode "$T/c2.json")" "ancestors"
expect_exit 0 "--baseline-runs 1 takes the nearest only" "$PERFGATE" compare --db "$DB" --repo "$T/repo" \
	--run-file "$T/main.json" --baseline-runs 1 --format json --out "$T/c3.json"
check_eq "K=1 baseline" "$(run_ids "$T/c3.json")" "3"
check_eq "K=1: unchanged against R3 alone" "$(verdict "$T/c3.json")" "unchanged"

# A shallow clone: the latest runs on main by time, with the fix in the report.
expect_exit 1 "shallow clone compares" "$PERFGATE" compare --db "$DB" --repo "$T/shallow" \
	--run-file "$T/main.json" --format json --out "$T/c4.json"
check_eq "shallow baseline: latest clean runs on main" "$(run_ids "$T/c4.json")" "3,2,1"
check_eq "shallow baseline mode is latest" "$(mode "$T/c4.json")" "latest"
contains "shallow clone note says how to fix it" "$T/c4.json" "fetch-depth: 0"

# Explicit baselines.
expect_exit 0 "--baseline RUN_ID" "$PERFGATE" compare --db "$DB" --repo "$T/repo" --run-file "$T/pr-slow.json" \
	--baseline "$(id 3)" --format json --out "$T/c5.json"
check_eq "explicit run is the only baseline" "$(run_ids "$T/c5.json")" "3"
expect_exit 1 "--baseline COMMIT (c1 prefix)" "$PERFGATE" compare --db "$DB" --repo "$T/repo" \
	--run-file "$T/pr-slow.json" --baseline "$(echo "$C1" | cut -c1-12)"
expect_exit 1 "--baseline file:" "$PERFGATE" compare --run-file "$T/pr-slow.json" --baseline "file:$T/r1.json"
expect_exit 2 "--baseline with a bad spec" "$PERFGATE" compare --db "$DB" --run-file "$T/pr-slow.json" --baseline 'x y'
contains "bad spec message" "$ERR" "perfgate: --baseline 'x y': expected a run id (or a unique prefix of one), a commit, branch:NAME or file:RUN.json"
expect_exit 2 "--baseline with an unknown run" "$PERFGATE" compare --db "$DB" --run-file "$T/pr-slow.json" \
	--baseline "$(id 99)"

# A stored run: compared, the comparison stored, re-rendered by `report`.
expect_exit 0 "push the current run" "$PERFGATE" push --baseline-eligible --db "$DB" "$T/main.json"
expect_exit 1 "compare a stored RUN_ID" "$PERFGATE" compare --db "$DB" --repo "$T/repo" "$(id 22)" \
	--markdown "$T/c.md" --junit "$T/c.xml"
contains "--markdown file has the summary line" "$T/c.md" "perfgate: FAILED: 1 regression"
check "--junit file parses as XML" python3 -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])' "$T/c.xml"
check_eq "verdicts stored, one per metric" \
	"$(psql_q "$DB" "select count(*) from verdicts where run_id = '$(id 22)'")" "1"
check_eq "the stored verdict names its baseline runs" \
	"$(psql_q "$DB" "select array_length(baseline_runs, 1) from verdicts where run_id = '$(id 22)'")" "3"
expect_exit 0 "report RUN_ID re-renders" "$PERFGATE" report --db "$DB" "$(id 22)" --format junit --out "$T/r.xml"
check "report --format junit parses as XML" python3 -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])' "$T/r.xml"
expect_exit 0 "report RUN_ID as Markdown" "$PERFGATE" report --db "$DB" "$(id 22)" --format markdown
contains "report Markdown explains the baseline" "$OUT" "nearest ancestors of"
expect_exit 2 "report of a run never compared" "$PERFGATE" report --db "$DB" "$(id 1)"
contains "report says how to get a comparison" "$ERR" "perfgate compare"
expect_exit 2 "report with a bad format" "$PERFGATE" report --db "$DB" "$(id 22)" --format yaml
# A one-off comparison never overwrites the run's verdict (issue 19 item
# 21): against the run itself it passes, and report still shows the first.
expect_exit 0 "a one-off --baseline comparison of the stored run" "$PERFGATE" compare --db "$DB" --repo "$T/repo" \
	"$(id 22)" --baseline "$(id 22)"
contains "... says it is not stored" "$ERR" "not stored: the run's verdict (report, history) stays its gate's"
expect_exit 0 "report after the one-off" "$PERFGATE" report --db "$DB" "$(id 22)" --format json --out "$T/after.json"
check_eq "report still shows the verdict: a regression" \
	"$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["passed"], d["counts"]["regression"])' "$T/after.json")" "False 1"
check_eq "the stored verdict still names its 3 baseline runs" \
	"$(psql_q "$DB" "select array_length(baseline_runs, 1) from verdicts where run_id = '$(id 22)'")" "3"
expect_exit 1 "compare again, automatic baseline" "$PERFGATE" compare --db "$DB" --repo "$T/repo" "$(id 22)"
contains "... not stored either: the run has its verdict" "$ERR" "already has its verdict"
expect_exit 2 "compare needs a run" "$PERFGATE" compare --db "$DB"

# Run ids as `gate` prints them (the first 8 digits), git-style: a unique
# prefix works everywhere a run id does; an ambiguous one is said, with the
# runs it could be.  (Another machine class: these never join the baselines
# above.)
P1=11feadd8-0000-4000-8000-000000000001 P2=11fe0000-0000-4000-8000-000000000002
mkrun "$P1" "$C2" main 0 0 0 31 1.0 fp-prefix >"$T/p1.json"
mkrun "$P2" "$C2" main 0 0 0 32 1.0 fp-prefix >"$T/p2.json"
expect_exit 0 "push two runs whose ids share 4 digits" "$PERFGATE" push --baseline-eligible --db "$DB" "$T/p1.json" "$T/p2.json"
expect_exit 0 "compare a run by the 8 digits gate prints" "$PERFGATE" compare --db "$DB" --repo "$T/repo" 11feadd8
expect_exit 0 "report a run by the 8 digits gate prints" "$PERFGATE" report --db "$DB" 11feadd8 --format json --out "$T/p1-report.json"
check_eq "report by prefix: that run's comparison" \
	"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_id"])' "$T/p1-report.json")" "$P1"
expect_exit 0 "report by a prefix with its dash, in capitals" "$PERFGATE" report --db "$DB" 11FEADD8-00
expect_exit 2 "report by an ambiguous prefix" "$PERFGATE" report --db "$DB" 11fe
contains "the ambiguity is said" "$ERR" "run id prefix '11fe' is ambiguous"
contains "... with the runs it could be" "$ERR" "$P1"
lacks "... never a raw SQL error" "$ERR" "invalid input syntax"
expect_exit 2 "compare by an ambiguous prefix" "$PERFGATE" compare --db "$DB" 11fe
contains "compare says so too" "$ERR" "is ambiguous"
expect_exit 2 "report of something that is not a run id" "$PERFGATE" report --db "$DB" nope
contains "... says what a run id looks like" "$ERR" "'nope' is not a run id"
expect_exit 2 "report of a prefix no run has" "$PERFGATE" report --db "$DB" 99990000
contains "... says there is no such run" "$ERR" "no run '99990000'"
expect_exit 0 "--baseline by run id prefix" "$PERFGATE" compare --db "$DB" --repo "$T/repo" --run-file "$T/pr-same.json" \
	--baseline 11feadd8 --format json --out "$T/p-base.json"
check_eq "--baseline prefix: that run is the baseline" \
	"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["rows"][0]["baseline"]["run_ids"])' "$T/p-base.json")" "['$P1']"
expect_exit 2 "--baseline by an ambiguous prefix" "$PERFGATE" compare --db "$DB" --run-file "$T/pr-same.json" --baseline 11fe
contains "--baseline: the ambiguity is said" "$ERR" "is ambiguous"
# (a command benchmark has no latency spectrum: the run was found, then refused for that)
expect_exit 2 "plot latency takes a prefix too" "$PERFGATE" plot latency --db "$DB" 11feadd8 --out "$T/p.svg"
contains "... and found the run" "$ERR" "no run has a 'latency' latency spectrum"

# A change point at R2 (c2) on main: runs started before it (R1) are no longer
# a baseline for that metric.
psql_q "$DB" "insert into change_points (project, suite, benchmark, metric, fingerprint, branch, run_id, commit_sha)
	values ('demo', 'loop', 'loop', 'wall', 'fp-test', 'main', '$(id 2)', '$C2')" >/dev/null
expect_exit 0 "PR after a change point compares" "$PERFGATE" compare --db "$DB" --repo "$T/repo" \
	--run-file "$T/pr-same.json" --format json --out "$T/c6.json"
check_eq "runs before the newest change point are not used" "$(run_ids "$T/c6.json")" "2"
contains "the explanation mentions the change point" "$T/c6.json" "change point"

# The golden JSON report and a gate's JSON validate against the schema too.
for f in tests/fixtures/reports/compare.json "$T/c6.json" "$T/c4.json"; do
	check "$(basename "$f") validates against schemas/compare.schema.json" python3 -c '
import json, sys, jsonschema
jsonschema.validate(json.load(open(sys.argv[1])), json.load(open("schemas/compare.schema.json")),
                    cls=jsonschema.Draft202012Validator)' "$f"
done
check "the schema rejects an unknown verdict" python3 -c '
import json, sys, jsonschema
d = json.load(open(sys.argv[1])); d["rows"][0]["verdict"] = "regresion"
try:
    jsonschema.validate(d, json.load(open("schemas/compare.schema.json")), cls=jsonschema.Draft202012Validator)
except jsonschema.ValidationError:
    sys.exit(0)
sys.exit(1)' tests/fixtures/reports/compare.json

# The compact text report and --verbose/--all, the Markdown links (issue 18),
# on a stored comparison of one HTTP benchmark (43 metrics, one baseline run:
# the unit test test_report writes it).
H=tests/fixtures/reports/insufficient.json
expect_exit 0 "report --file: compact text" "$PERFGATE" report --file "$H"
check "compact text: at most 24 lines" test "$(wc -l <"$OUT")" -le 24
contains "compact text: the latency family in one row" "$OUT" "api-0      latency  1.00 ms +0.0%  2.00 ms +0.0%"
lacks "compact text: no row per percentile" "$OUT" "latency.p99.9"
lacks "compact text: no zero error counters" "$OUT" "errors.refused"
check_eq "compact text: one hint for the one cause" "$(grep -c 'cannot reach p' "$OUT")" "1"
check_eq "compact text: the headline last" "$(tail -n 1 "$OUT")" \
	"FAILED: 1 of 2 SLOs violated (api-0 latency.p95 < 1ms); not failing: 34 not testable (too few samples)"
expect_exit 0 "report --verbose" "$PERFGATE" report --file "$H" --verbose
check_eq "--verbose: every metric a row" "$(grep -c '^~ api-0 ' "$OUT")" "43"
check_eq "--verbose: still one hint" "$(grep -c 'cannot reach p' "$OUT")" "1"
expect_exit 0 "report --format text --all" "$PERFGATE" report --file "$H" --format text --all
check_eq "--all: every metric a row" "$(grep -c '^~ api-0 ' "$OUT")" "43"
expect_exit 0 "report --format json: unchanged" "$PERFGATE" report --file "$H" --format json --out "$T/h.json"
check "the JSON report is the stored one" cmp "$H" "$T/h.json"
expect_exit 0 "Markdown with links" "$PERFGATE" report --file "$H" --format markdown \
	--report-url "https://ci.example/runs/9#artifacts" --site-url "https://perf.example/"
contains "Markdown: the HTML report linked" "$OUT" "[Full report (HTML)](https://ci.example/runs/9#artifacts)"
contains "Markdown: the site linked" "$OUT" "[history](https://perf.example/)"
expect_exit 0 "Markdown links from the environment" env PERFGATE_REPORT_URL=https://env.example/report \
	PERFGATE_SITE_URL=https://env.example/site "$PERFGATE" report --file "$H" --format markdown
contains "Markdown: PERFGATE_REPORT_URL" "$OUT" "[Full report (HTML)](https://env.example/report)"
contains "Markdown: PERFGATE_SITE_URL" "$OUT" "[history](https://env.example/site)"
expect_exit 0 "--markdown FILE has the links too" "$PERFGATE" report --file "$H" --report-url https://x.example/r \
	--markdown "$T/h.md"
contains "--markdown FILE: the link" "$T/h.md" "(https://x.example/r)"

# A failing SQL statement is the database's failure, never the user's input:
# exit 4.  Real failures, not mocks: roles that may connect but not read
# what compare needs (the run itself; the change points the baseline respects;
# the machine's recorded spread between runs).
ROLE_A=perfgate_noruns_$$ ROLE_B=perfgate_nocp_$$ ROLE_C=perfgate_nohist_$$
dbname=$(echo "$DB" | sed 's|postgresql:///\([^?]*\)?.*|\1|')
psql_q "$DB" "CREATE ROLE $ROLE_A LOGIN; CREATE ROLE $ROLE_B LOGIN; CREATE ROLE $ROLE_C LOGIN;
	GRANT CONNECT ON DATABASE \"$dbname\" TO $ROLE_A, $ROLE_B, $ROLE_C;
	GRANT USAGE ON SCHEMA public TO $ROLE_A, $ROLE_B, $ROLE_C;
	GRANT SELECT ON schema_migrations TO $ROLE_A, $ROLE_B, $ROLE_C;
	GRANT SELECT ON runs, history_points TO $ROLE_B;
	GRANT SELECT ON runs, change_points TO $ROLE_C" >/dev/null
expect_exit 4 "a failed query loading the run exits 4" \
	"$PERFGATE" compare --db "$(echo "$DB" | sed "s/user=postgres/user=$ROLE_A/")" "$(id 1)"
contains "the server's reason is shown" "$ERR" "permission denied for table runs"
expect_exit 4 "a failed query choosing the baseline exits 4" \
	"$PERFGATE" compare --db "$(echo "$DB" | sed "s/user=postgres/user=$ROLE_B/")" --repo "$T/repo" \
	--run-file "$T/pr-same.json"
contains "the failing table is named" "$ERR" "permission denied for table change_points"
expect_exit 4 "a failed query reading the machine's spread exits 4" \
	"$PERFGATE" compare --db "$(echo "$DB" | sed "s/user=postgres/user=$ROLE_C/")" --repo "$T/repo" \
	--run-file "$T/pr-same.json"
contains "...naming history_points" "$ERR" "permission denied for table history_points"
psql_q "$DB" "DROP OWNED BY $ROLE_A, $ROLE_B, $ROLE_C; DROP ROLE $ROLE_A; DROP ROLE $ROLE_B; DROP ROLE $ROLE_C" >/dev/null
