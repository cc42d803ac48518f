#!/bin/sh
# Reports to the forge: `perfgate gate --comment` against a loopback server
# that speaks the GitHub and GitLab REST endpoints (tests/servers/forge_mock.py):
# one comment created then updated in place, 150 comments paged through, a 429
# retried, a 401 and a read-only fork token as warnings that leave the verdict
# alone (exit 4 only with --strict-report), the token in no output and no file;
# job summary and annotations against golden files.
. tests/integration/lib.sh
T=$(test_tmpdir)
TOKEN="ghp_perfgateTESTtoken0123456789"
RO_TOKEN="ghs_perfgateREADONLY0123456789"
ROOT=$(pwd)

python3 tests/servers/forge_mock.py --token "$TOKEN" --readonly-token "$RO_TOKEN" \
	--port-file "$T/port" --lifetime 150 >"$T/mock.log" 2>&1 &
MOCK=$!
i=0
while [ ! -s "$T/port" ] && [ $i -lt 250 ]; do sleep 0.02; i=$((i + 1)); done
PORT=$(cat "$T/port")
API="http://127.0.0.1:$PORT"
state() { curl -s "$API/_state" >"$T/state.json"; }
# count FORGE KEY MARKER-SUBSTRING: comments on one PR/MR whose body contains it
count() {
	python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(sum(1 for c in s[sys.argv[2]].get(sys.argv[3], []) if sys.argv[4] in c["body"]))' \
		"$T/state.json" "$1" "$2" "$3"
}

DB=$(new_db forge)
mkdir -p "$T/work"
cat >"$T/work/suite.json" <<'JSON'
{"suite": "forge-demo", "benchmarks": [{"name": "t", "command": ["true"], "repetitions": 3}]}
JSON
cat >"$T/event.json" <<'JSON'
{"pull_request": {"number": 7, "head": {"repo": {"full_name": "acme/infer"}}, "base": {"repo": {"full_name": "acme/infer"}}}}
JSON
cat >"$T/fork-event.json" <<'JSON'
{"pull_request": {"number": 8, "head": {"repo": {"full_name": "someone/infer"}}, "base": {"repo": {"full_name": "acme/infer"}}}}
JSON

# gh EXPECTED-EXIT NAME [gate options...]: a gate as a GitHub Actions pull-request job
gh() {
	_want=$1; _name=$2; shift 2
	( cd "$T/work" && env -i PATH="$PATH" HOME="$T" PERFGATE_HOME="$T/home" \
		GITHUB_ACTIONS=true GITHUB_REPOSITORY=acme/infer GITHUB_API_URL="$API" \
		GITHUB_EVENT_NAME=pull_request GITHUB_EVENT_PATH="${EVENT:-$T/event.json}" \
		GITHUB_TOKEN="${GH_TOKEN:-$TOKEN}" GITHUB_STEP_SUMMARY="$T/summary.md" \
		"$PERFGATE" gate suite.json --db "$DB" --no-confirm -q "$@" ) \
		>"$T/out.$_name" 2>"$T/err.$_name"
	_got=$?
	if [ "$_got" -eq "$_want" ]; then ok "github: $_name (exit $_got)"; else not_ok "github: $_name exit $_got, expected $_want: $(head -c 400 "$T/err.$_name")"; fi
}

gh 0 first-gate --comment
state
[ "$(count github 'acme/infer#7' 'perfgate:comment suite=forge-demo')" = 1 ] && ok "first gate creates one comment" || not_ok "first gate: $(cat "$T/state.json" | head -c 300)"
contains "the comment is reported" "$T/err.first-gate" "posted the forge-demo comment on pull request 7"

gh 0 second-gate --comment
state
[ "$(count github 'acme/infer#7' 'perfgate:comment suite=forge-demo')" = 1 ] && ok "second gate keeps one comment" || not_ok "second gate made another comment"
grep -q '"method": "PATCH", "path": "/repos/acme/infer/issues/comments/' "$T/state.json" && ok "second gate updates it in place (PATCH)" || not_ok "no PATCH in the log"
contains "the update is reported" "$T/err.second-gate" "updated the forge-demo comment on pull request 7"

# 150 other comments before ours on PR 9: found on the second page.
curl -s -X POST "$API/_seed" -d '{"github": {"acme/infer#9": 150}}' >/dev/null
printf '{"pull_request": {"number": 9}}' >"$T/event9.json"
EVENT="$T/event9.json" gh 0 paged-create --comment
EVENT="$T/event9.json" gh 0 paged-update --comment
state
[ "$(count github 'acme/infer#9' 'perfgate:comment suite=forge-demo')" = 1 ] && ok "150 comments paged through: still one perfgate comment" || not_ok "paging made a duplicate"
pages=$(python3 -c 'import json,sys; print(sum(1 for e in json.load(open(sys.argv[1]))["log"] if e["method"]=="GET" and "/issues/9/comments" in e["path"] and "page=2" in e["path"]))' "$T/state.json")
[ "$pages" -ge 2 ] && ok "the second page was asked for (Link rel=next)" || not_ok "second page fetched $pages times"

# A next-page link to another origin is not followed: the token stays with the API.
# A second server (another port: another origin) logs whatever reaches it.
python3 tests/servers/forge_mock.py --token other --port-file "$T/port2" --lifetime 150 >"$T/mock2.log" 2>&1 &
MOCK2=$!
i=0
while [ ! -s "$T/port2" ] && [ $i -lt 250 ]; do sleep 0.02; i=$((i + 1)); done
OTHER="http://127.0.0.1:$(cat "$T/port2")"
curl -s -X POST "$API/_seed" -d '{"github": {"acme/infer#11": 150}}' >/dev/null
curl -s -X POST "$API/_link" -d "{\"base\": \"$OTHER\"}" >/dev/null
printf '{"pull_request": {"number": 11}}' >"$T/event11.json"
EVENT="$T/event11.json" gh 0 foreign-link --comment
curl -s -X POST "$API/_link" -d '{"base": null}' >/dev/null
curl -s "$OTHER/_state" >"$T/state2.json"
python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["log"] == [] else 1)' "$T/state2.json" \
	&& ok "a next-page link to another origin is not followed (the other server saw no request)" \
	|| not_ok "the other origin was asked: $(head -c 300 "$T/state2.json")"
contains "the foreign link is a warning naming the host" "$T/err.foreign-link" "next-page link points outside $API (to host '127.0.0.1'); not followed"
kill "$MOCK2" 2>/dev/null
wait "$MOCK2" 2>/dev/null

# A 429 with Retry-After, then success.
curl -s -X POST "$API/_faults" -d '{"queue": [{"status": 429, "retry_after": 1}]}' >/dev/null
gh 0 after-429 --comment
state
python3 -c 'import json,sys; l=json.load(open(sys.argv[1]))["log"]; sys.exit(0 if any(e["status"]==429 for e in l) else 1)' "$T/state.json" && ok "a 429 was answered" || not_ok "no 429 in the log"
lacks "the 429 was retried: no warning about the comment" "$T/err.after-429" "could not post"
contains "the 429 was retried: the comment was updated" "$T/err.after-429" "updated the forge-demo comment on pull request 7"

# A refused token: a warning, the verdict (pass) stands; --strict-report makes it exit 4.
GH_TOKEN=not-the-token gh 0 bad-token --comment
contains "401 is a warning" "$T/err.bad-token" "warning: could not post the pull-request comment"
contains "401 says the token was refused" "$T/err.bad-token" "HTTP 401 (the token was refused)"
GH_TOKEN=not-the-token gh 4 bad-token-strict --comment --strict-report

# A fork's read-only token: the gate result and a notice.
EVENT="$T/fork-event.json" GH_TOKEN="$RO_TOKEN" gh 0 fork --comment
contains "fork: notice that commenting was skipped" "$T/err.fork" "comment skipped, the gate result stands"
contains "fork: says it is a fork" "$T/err.fork" "(it comes from a fork)"

# Job summary: the Markdown report appended once per gate.
n=$(grep -c 'perfgate:comment' "$T/summary.md" || true)
[ -s "$T/summary.md" ] && ok "job summary written" || not_ok "no job summary"
[ "$n" = 0 ] && ok "the job summary carries no comment marker" || not_ok "marker in the summary"

# GitLab: a merge-request note created, then updated.
gl() {
	_name=$1; shift
	( cd "$T/work" && env -i PATH="$PATH" HOME="$T" PERFGATE_HOME="$T/home" \
		GITLAB_CI=true CI_API_V4_URL="$API/api/v4" CI_PROJECT_ID=42 CI_MERGE_REQUEST_IID=5 \
		CI_PIPELINE_SOURCE=merge_request_event PERFGATE_GITLAB_TOKEN="$TOKEN" \
		"$PERFGATE" gate suite.json --db "$DB" --no-confirm -q "$@" ) \
		>"$T/out.$_name" 2>"$T/err.$_name"
	[ $? -eq 0 ] && ok "gitlab: $_name" || not_ok "gitlab: $_name: $(head -c 300 "$T/err.$_name")"
}
gl gl-first --comment --metrics "$T/metrics.txt"
gl gl-second --comment
state
[ "$(count gitlab '42!5' 'perfgate:comment suite=forge-demo')" = 1 ] && ok "gitlab: one note after two gates" || not_ok "gitlab: note count wrong"
grep -q '"method": "PUT", "path": "/api/v4/projects/42/merge_requests/5/notes/' "$T/state.json" && ok "gitlab: updated in place (PUT)" || not_ok "gitlab: no PUT"
contains "gitlab: metrics report" "$T/metrics.txt" 'perfgate_median{suite="forge-demo",benchmark="t",metric="wall",unit="s"}'
tail -n 1 "$T/metrics.txt" | grep -qx '# EOF' && ok "gitlab: metrics report ends with # EOF" || not_ok "no # EOF"

# Golden files: annotations and job summary of a known comparison.
( env -i PATH="$PATH" GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY="$T/golden-summary.md" \
	"$PERFGATE" report --file "$ROOT/tests/fixtures/reports/compare.json" ) >"$T/golden-out" 2>&1
grep '^::' "$T/golden-out" >"$T/annotations"
if cmp -s "$T/annotations" tests/fixtures/forge/annotations.golden; then ok "annotations match the golden file"; else not_ok "annotations differ: $(diff "$T/annotations" tests/fixtures/forge/annotations.golden | head -5)"; fi
if cmp -s "$T/golden-summary.md" tests/fixtures/reports/compare.md; then ok "job summary is the Markdown report (golden)"; else not_ok "job summary differs from tests/fixtures/reports/compare.md"; fi

# The token appears in no output and no file.
if grep -rqF -e "$TOKEN" -e "$RO_TOKEN" "$T" --exclude=mock.log 2>/dev/null; then
	not_ok "a token leaked: $(grep -rlF -e "$TOKEN" -e "$RO_TOKEN" "$T" | head -3)"
else
	ok "no token in any output or file"
fi
if grep -rqF -e "$TOKEN" "$T/home" 2>/dev/null; then not_ok "token in PERFGATE_HOME"; else ok "no token under PERFGATE_HOME"; fi
psql "$DB" -qAt -c "select count(*) from runs where document::text like '%$TOKEN%'" >"$T/leak" 2>&1
[ "$(cat "$T/leak")" = 0 ] && ok "no token in the database" || not_ok "token in the database: $(cat "$T/leak")"

kill "$MOCK" 2>/dev/null
wait "$MOCK" 2>/dev/null
exit 0
