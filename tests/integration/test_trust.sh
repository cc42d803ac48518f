#!/bin/sh
# Trust (issue 19, docs/security.md): files perfgate writes never follow a
# symlink someone else planted; who may make a baseline (a pushed or edited
# run document cannot); the spool holds only what perfgate wrote itself; a
# run that can be neither stored nor spooled is kept elsewhere and said so;
# a database role without write rights is named as such.
. tests/integration/lib.sh
T=$(test_tmpdir)
export PERFGATE_HOME="$T/home"
unset PERFGATE_DATABASE_URL PGHOST PGSERVICE
check_eq() { # NAME GOT WANT
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1: got '$2', expected '$3'"; fi
}

# ---- atomic writes never follow symlinks (item 2) ----
# A world-writable sticky folder, as /tmp: another user plants a symlink
# where the temporary file of `--out` will be (PATH.tmp.PID, the PID being
# the one the shell execs into) and another at the destination itself.
mkdir -p "$T/shared" && chmod 1777 "$T/shared"
cat >"$T/shared/suite.json" <<'JSON'
{"suite": "trust", "benchmarks": [{"name": "t", "command": ["true"], "repetitions": 3}]}
JSON
echo precious >"$T/victim"
echo precious >"$T/victim2"
ln -s "$T/victim2" "$T/shared/out.json"
(cd "$T/shared" && umask 022 && sh -c 'ln -s "$1" out.json.tmp.$$; exec "$0" run suite.json --no-store -q --out out.json' \
	"$PERFGATE" "$T/victim") >"$T/sym.out" 2>&1
check_eq "a planted temporary-file symlink's target is left alone" "$(cat "$T/victim")" "precious"
check_eq "a symlink at the destination is replaced, its target left alone" "$(cat "$T/victim2")" "precious"
[ -f "$T/shared/out.json" ] && [ ! -L "$T/shared/out.json" ] && ok "the run document is a plain file" \
	|| not_ok "out.json: $(ls -l "$T/shared/out.json")"
contains "the run document was written" "$T/shared/out.json" '"run_id"'
check_eq "the run document has the usual mode (0666 less the umask)" "$(stat -c %a "$T/shared/out.json")" "644"
check_eq "no temporary file is left behind" "$(ls "$T/shared" | grep -c 'out.json.tmp.[A-Za-z0-9]\{6\}$')" "0"

# The request records (--requests) are streamed, not renamed into place: a
# symlink another user planted there is not followed.
if id nobody >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
	python3 tests/servers/misbehave.py "$T/port" &
	SRV_PID=$!
	i=0; while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	printf '{"suite": "rq", "benchmarks": [{"name": "ok", "http": {"url": "http://127.0.0.1:%s/ok"}, "load": {"mode": "concurrency", "concurrency": 1, "duration": "1s"}}]}\n' \
		"$(cat "$T/port")" >"$T/shared/rq.json"
	echo precious >"$T/victim3"
	ln -s "$T/victim3" "$T/shared/req.jsonl" && chown -h nobody "$T/shared/req.jsonl"
	expect_exit 2 "--requests through another user's symlink is refused" \
		"$PERFGATE" run -q --no-store --requests "$T/shared/req.jsonl" "$T/shared/rq.json"
	contains "... saying why" "$ERR" "is a symlink of another user: not followed"
	check_eq "... and its target is left alone" "$(cat "$T/victim3")" "precious"
	kill "$SRV_PID" 2>/dev/null
	wait "$SRV_PID" 2>/dev/null
fi

# ---- who makes baselines (item 1) ----
# A suite whose gated metric is a number the command reads from a file
# outside the repository: deterministic, whatever the machine's load.
DB=$(new_db trust)
export GIT_CONFIG_NOSYSTEM=1 HOME=$T NO_COLOR=1
R=$T/repo
git_repo "$R" || exit 1
cat >"$R/suite.json" <<JSON
{"suite": "trust", "project": "trust",
 "compare": {"gate": false, "metrics": {"work": {"gate": true, "min_effect": "1%"}}},
 "benchmarks": [{"name": "b", "shell": "printf '{\"work\": %s}\\\\n' \"\$(cat $T/work)\" >\"\$PERFGATE_METRICS_FILE\"",
                 "emits": "json", "repetitions": 3}]}
JSON
git -C "$R" add -A && git -C "$R" commit -qm one
unset GITHUB_ACTIONS GITLAB_CI GITHUB_EVENT_NAME GITHUB_REF GITHUB_EVENT_PATH CI_PIPELINE_SOURCE CI_MERGE_REQUEST_IID
eligible() { # RUN_ID: "t|" or "f|why"
	psql_q "$DB" "select baseline_eligible::text || '|' || coalesce(not_baseline, '') from runs where run_id = '$1'" | sed 's/^true/t/; s/^false/f/'
}
field() { # FILE PATH...: a member of a JSON document
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
for k in sys.argv[2:]: d=d[k]
print(d)' "$@"
}
# forge IN OUT [KEY=JSON...]: a copy of a run document with a new run id and members changed
forge() {
	python3 - "$@" <<'PY'
import json, sys, uuid
d = json.load(open(sys.argv[1]))
d["run_id"] = str(uuid.uuid4())
for kv in sys.argv[3:]:
    k, v = kv.split("=", 1)
    o = d
    *path, last = k.split(".")
    for p in path:
        o = o[p]
    o[last] = json.loads(v)
json.dump(d, open(sys.argv[2], "w"))
PY
}

echo 100 >"$T/work"
expect_exit 0 "a gate on main stores the first run" "$PERFGATE" gate "$R/suite.json" --db "$DB" -q --no-confirm --json "$T/g1.json"
RUN1=$(field "$T/g1.json" run_id)
check_eq "perfgate's own run on main is a baseline" "$(eligible "$RUN1")" "t|"

# A pull request's run, ten times the work, edited to look like a branch
# build that started in the future (the newest run for ever) and pushed.
echo 1000 >"$T/work"
expect_exit 0 "a pull request's run" env GITHUB_ACTIONS=true GITHUB_EVENT_NAME=pull_request \
	GITHUB_REF=refs/pull/5/merge "$PERFGATE" run "$R/suite.json" --no-store -q --out "$T/pr.json"
check_eq "... records its pull request" "$(field "$T/pr.json" ci pr)" "5"
forge "$T/pr.json" "$T/forged.json" ci.pr=null 'ci.event="push"' 'started_at="2099-01-01T00:00:00Z"'
expect_exit 0 "the forged document is pushed" "$PERFGATE" push --db "$DB" "$T/forged.json"
contains "... and stored as a pushed document, not a baseline" "$OUT" "not a baseline: a pushed run document"
check_eq "... its row says so" "$(eligible "$(field "$T/forged.json" run_id)")" \
	"f|a pushed run document (its git and CI context were not seen by perfgate)"
expect_exit 1 "the slowdown still fails the next gate (the forged run is no baseline)" \
	"$PERFGATE" gate "$R/suite.json" --db "$DB" -q --no-confirm --no-store --json "$T/g2.json"
check_eq "... compared with perfgate's own run, a regression" "$(python3 -c 'import json,sys; r=[x for x in json.load(open(sys.argv[1]))["rows"] if x["metric"] == "work"][0]; print(r["baseline"]["run_ids"][0], r["verdict"])' "$T/g2.json")" "$RUN1 regression"

expect_exit 0 "history shows the forged run" "$PERFGATE" history b/work --db "$DB"
contains "... and says why it is no baseline" "$OUT" "(not a baseline: a pushed run document)"
expect_exit 0 "history as JSON" "$PERFGATE" history b/work --db "$DB" --format json
contains "... says it too" "$OUT" "a pushed run document (its git and CI context were not seen by perfgate)"

# Vouching (push --baseline-eligible) still needs the document's own fields to agree.
forge "$T/pr.json" "$T/v1.json" ci.pr=null 'ci.event="push"' 'started_at="2099-01-01T00:00:00Z"'
expect_exit 0 "a vouched document from the future is stored" "$PERFGATE" push --db "$DB" --baseline-eligible "$T/v1.json"
contains "... with a warning" "$ERR" "can never be a baseline: a start time in the future"
check_eq "... not as a baseline" "$(eligible "$(field "$T/v1.json" run_id)")" "f|a start time in the future"
NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)
forge "$T/pr.json" "$T/v2.json" ci.pr=null "started_at=\"$NOW\""
expect_exit 0 "a vouched document of a pull_request event without a number" "$PERFGATE" push --db "$DB" --baseline-eligible "$T/v2.json"
check_eq "... is no baseline (the event disagrees)" "$(eligible "$(field "$T/v2.json" run_id)" | cut -c1-22)" "f|not a branch build ("
forge "$T/pr.json" "$T/v3.json" ci.pr=null 'ci.event="push"' "started_at=\"$NOW\""
expect_exit 0 "a vouched document whose fields agree" "$PERFGATE" push --db "$DB" --baseline-eligible "$T/v3.json"
check_eq "... may be a baseline" "$(eligible "$(field "$T/v3.json" run_id)")" "t|"

# Ambiguous CI contexts measured by perfgate itself: no baselines.
echo 100 >"$T/work"
expect_exit 0 "GITHUB_EVENT_NAME=pull_request without a number" env GITHUB_ACTIONS=true GITHUB_EVENT_NAME=pull_request \
	"$PERFGATE" gate "$R/suite.json" --db "$DB" -q --no-confirm --json "$T/g3.json"
check_eq "... is stored, never a baseline" "$(eligible "$(field "$T/g3.json" run_id)" | cut -c1-22)" "f|not a branch build ("
contains "... and the gate says so" "$ERR" "the run is stored but is never a baseline: not a branch build"
expect_exit 0 "GitLab merge_request_event without an MR id" env GITLAB_CI=true CI_PIPELINE_SOURCE=merge_request_event \
	"$PERFGATE" gate "$R/suite.json" --db "$DB" -q --no-confirm --json "$T/g4.json"
check_eq "... is stored, never a baseline" "$(eligible "$(field "$T/g4.json" run_id)" | cut -c1-22)" "f|not a branch build ("

# ---- the spool holds only what perfgate wrote (item 1) ----
DOWN="postgresql://127.0.0.1:1/none?connect_timeout=2"
expect_exit 4 "a branch run spools when the database is down" "$PERFGATE" gate "$R/suite.json" --db "$DOWN" -q --no-confirm --json "$T/s1.json"
S1=$(field "$T/s1.json" run_id)
[ -s "$PERFGATE_HOME/spool/$S1.json.sig" ] && ok "... signed" || not_ok "no signature beside the spooled run"
check_eq "the spool key is private" "$(stat -c %a "$PERFGATE_HOME/spool.key")" "600"
expect_exit 4 "a pull request's run spools too" env GITHUB_ACTIONS=true GITHUB_EVENT_NAME=pull_request GITHUB_REF=refs/pull/9/merge \
	"$PERFGATE" gate "$R/suite.json" --db "$DOWN" -q --no-confirm --json "$T/s2.json"
S2=$(field "$T/s2.json" run_id)
# Someone with access to the spool folder turns the pull request's run into
# a branch build, and drops a document of their own beside it.
python3 - "$PERFGATE_HOME/spool/$S2.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); d["ci"]["pr"] = None; d["ci"]["event"] = "push"
json.dump(d, open(sys.argv[1], "w"))
PY
forge "$T/v3.json" "$T/dropped.json"
S3=$(field "$T/dropped.json" run_id)
cp "$T/dropped.json" "$PERFGATE_HOME/spool/$S3.json"
expect_exit 0 "push --spooled stores all three" "$PERFGATE" push --spooled --db "$DB"
contains "the changed file is named" "$ERR" "$S2.json: its signature does not match"
contains "the unsigned file is named" "$ERR" "$S3.json: it is not signed"
check_eq "perfgate's own spooled run is a baseline" "$(eligible "$S1")" "t|"
check_eq "the changed one is not" "$(eligible "$S2" | cut -c1-3)" "f|a"
check_eq "the dropped one is not" "$(eligible "$S3" | cut -c1-3)" "f|a"
check_eq "the spool is empty, signatures included" "$(ls "$PERFGATE_HOME/spool" | wc -l)" "0"

# ---- a role that may only read (item 25) ----
# docs/ci.md's read-only role, for a pull-request job, without --no-store.
READER=trust_reader_$$
psql "$DB" -qAt -c "DROP ROLE IF EXISTS $READER" -c "CREATE ROLE $READER LOGIN" \
	-c "GRANT USAGE ON SCHEMA public TO $READER" -c "GRANT SELECT ON ALL TABLES IN SCHEMA public TO $READER" >/dev/null
RDB=$(echo "$DB" | sed "s/user=postgres/user=$READER/")
rm -rf "$PERFGATE_HOME/spool"
expect_exit 4 "a read-only role without --no-store" "$PERFGATE" gate "$R/suite.json" --db "$RDB" -q --no-confirm --json "$T/ro.json"
contains "... says the role may not write" "$ERR" "may only read"
contains "... and the fix" "$ERR" "--no-store"
lacks "... not an outage" "$ERR" "unreachable"
RO=$(field "$T/ro.json" run_id)
[ -s "$PERFGATE_HOME/spool/$RO.json" ] && ok "... the run is spooled for a writer" || not_ok "the run was not spooled"
contains "... and says where" "$ERR" "spool/$RO.json"
expect_exit 0 "the reader gates with --no-store" "$PERFGATE" gate "$R/suite.json" --db "$RDB" -q --no-confirm --no-store
expect_exit 4 "push with the read-only role" "$PERFGATE" push --db "$RDB" "$T/v3.json"
contains "... says the role may not write" "$ERR" "may only read"
lacks "... not an outage" "$ERR" "unreachable"
psql "$DB" -qAt -c "DROP OWNED BY $READER" -c "DROP ROLE $READER" >/dev/null 2>&1

# ---- a run that cannot be spooled is kept elsewhere, or said lost (item 13) ----
mkdir -p "$T/home2" "$T/fb"
: >"$T/home2/spool"    # the spool cannot be a folder: every write fails, root's too
expect_exit 4 "an unusable spool, the database down" env PERFGATE_HOME="$T/home2" TMPDIR="$T/fb" \
	"$PERFGATE" gate "$R/suite.json" --db "$DOWN" -q --no-confirm --json "$T/fb.json"
FB=$(field "$T/fb.json" run_id)
contains "... says the spool failed" "$ERR" "the run could not be spooled"
contains "... and where the run was kept instead" "$ERR" "kept in $T/fb/perfgate-run-$FB.json"
lacks "... never that it was spooled" "$ERR" "run spooled to"
expect_exit 0 "the kept run can be pushed" "$PERFGATE" push --db "$DB" "$T/fb/perfgate-run-$FB.json"
: >"$T/notadir"
mkdir -p "$T/gone"
# (An unusable $TMPDIR also fails the benchmark itself, root writes
# everywhere else: the run is invalid, exit 3 wins over 4.)
(cd "$T/gone" && rmdir "$T/gone" && env PERFGATE_HOME="$T/home2" TMPDIR="$T/notadir" \
	"$PERFGATE" gate "$R/suite.json" --db "$DOWN" -q --no-confirm) >"$T/lost.out" 2>"$T/lost.err"
check_eq "nowhere to keep it: the run fails" "$?" "3"
contains "... and it says the run was not kept" "$T/lost.err" "the run was NOT kept"
