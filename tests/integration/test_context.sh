#!/bin/sh
# The context `perfgate run` stamps on a run document: git facts from a real
# temporary repository (normal, detached under GitHub Actions, dirty,
# outside any repository), the CI context (GitHub pull request, GitLab fork
# merge request), the remote's token removed everywhere, and the machine
# facts and fingerprint identical to `perfgate fingerprint --format json`.
. tests/integration/lib.sh
T=$(test_tmpdir)
NV=$(pwd)/tests/fixtures/nvidia-smi
export PERFGATE_NVIDIA_SMI=$NV/fake-nvidia-smi FAKE_NVIDIA_SMI_OUT=$NV/query_fingerprint_2gpu.csv
export GIT_CONFIG_NOSYSTEM=1 HOME=$T GIT_CEILING_DIRECTORIES=$T
export GIT_AUTHOR_NAME=T GIT_AUTHOR_EMAIL=t@example.com GIT_COMMITTER_NAME=T GIT_COMMITTER_EMAIL=t@example.com
for v in GITHUB_ACTIONS GITHUB_EVENT_NAME GITHUB_EVENT_PATH GITHUB_REF GITHUB_REF_NAME GITHUB_HEAD_REF \
	 GITHUB_BASE_REF GITHUB_SERVER_URL GITHUB_REPOSITORY GITHUB_RUN_ID GITHUB_RUN_ATTEMPT GITLAB_CI \
	 CI_JOB_URL CI_PIPELINE_SOURCE CI_MERGE_REQUEST_IID CI_MERGE_REQUEST_TARGET_BRANCH_NAME \
	 CI_MERGE_REQUEST_SOURCE_PROJECT_ID CI_MERGE_REQUEST_PROJECT_ID CI_COMMIT_REF_NAME CI_COMMIT_TAG \
	 CI_MERGE_REQUEST_SOURCE_BRANCH_NAME; do unset $v; done

R=$T/repo
mkdir -p "$R"
cat >"$R/suite.json" <<'JSON'
{"suite": "ctx", "benchmarks": [{"name": "true", "command": ["true"], "repetitions": 2}]}
JSON
(cd "$R" && git init -q -b main && git add suite.json && git commit -q -m "first: add suite" &&
	echo x >notes.txt && git add notes.txt && git commit -q -m "second" &&
	git remote add origin 'https://x-access-token:ghs_SECRET123@github.com/acme/app.git') >/dev/null 2>&1 \
	|| not_ok "could not build the test repository"
HEAD=$(git -C "$R" rev-parse HEAD)
PARENT=$(git -C "$R" rev-parse HEAD~1)

# field FILE EXPR: print a Python expression over the document `d`.
field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
# is NAME FILE EXPR WANT
is() {
	_got=$(field "$2" "$3" 2>&1)
	if [ "$_got" = "$4" ]; then ok "$1"; else not_ok "$1: got '$_got', expected '$4'"; fi
}

# 1. On a branch, locally.
expect_exit 0 "run in a repository" "$PERFGATE" run --no-store -q -o "$T/local.json" "$R/suite.json"
is "commit is HEAD" "$T/local.json" 'd["git"]["commit"]' "$HEAD"
is "branch is main" "$T/local.json" 'd["git"]["branch"]' "main"
is "parents" "$T/local.json" 'd["git"]["parents"]' "['$PARENT']"
is "subject" "$T/local.json" 'd["git"]["subject"]' "second"
is "not dirty (the run document itself is untracked)" "$T/local.json" 'd["git"]["dirty"]' "False"
is "remote without the token" "$T/local.json" 'd["git"]["remote"]' "https://github.com/acme/app.git"
is "provider local" "$T/local.json" 'd["ci"]["provider"]' "local"
lacks "the token is not in the document" "$T/local.json" "ghs_SECRET123"
lacks "the token is not on stderr" "$ERR" "ghs_SECRET123"
is "two GPUs from nvidia-smi" "$T/local.json" '[g["name"] for g in d["machine"]["gpus"]]' \
	"['NVIDIA A100-SXM4-80GB', 'NVIDIA A100-SXM4-80GB']"
"$PERFGATE" fingerprint --format json >"$T/fp.json" 2>/dev/null
is "fingerprint equals perfgate fingerprint's" "$T/local.json" \
	'd["machine"]["fingerprint"] == json.load(open("'"$T/fp.json"'"))["fingerprint"]' "True"
is "the run id is a UUID" "$T/local.json" \
	'__import__("re").fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", d["run_id"]) is not None' "True"

# 2. Dirty: a tracked file changed.
echo y >>"$R/notes.txt"
expect_exit 0 "run in a dirty tree" "$PERFGATE" run --no-store -q -o "$T/dirty.json" "$R/suite.json"
is "dirty when a tracked file changed" "$T/dirty.json" 'd["git"]["dirty"]' "True"
git -C "$R" checkout -q -- notes.txt

# 3. Detached HEAD in a GitHub Actions pull request.
git -C "$R" checkout -q --detach HEAD~1
cat >"$T/event.json" <<'JSON'
{"pull_request": {"number": 31, "head": {"ref": "topic", "repo": {"full_name": "fork/app"}},
 "base": {"ref": "main", "repo": {"full_name": "acme/app"}}}}
JSON
GITHUB_ACTIONS=true GITHUB_EVENT_NAME=pull_request GITHUB_EVENT_PATH=$T/event.json \
GITHUB_REF=refs/pull/31/merge GITHUB_HEAD_REF=topic GITHUB_BASE_REF=main \
GITHUB_SERVER_URL=https://github.com GITHUB_REPOSITORY=acme/app GITHUB_RUN_ID=99 \
	expect_exit 0 "run detached under GitHub Actions" "$PERFGATE" run --no-store -q -o "$T/gh.json" "$R/suite.json"
is "detached commit" "$T/gh.json" 'd["git"]["commit"]' "$PARENT"
is "branch from GITHUB_HEAD_REF" "$T/gh.json" 'd["git"]["branch"]' "topic"
is "github provider, event, PR, base, fork, job URL" "$T/gh.json" \
	'(d["ci"]["provider"], d["ci"]["event"], d["ci"]["pr"], d["ci"]["base_branch"], d["ci"]["fork"], d["ci"]["job_url"])' \
	"('github', 'pull_request', 31, 'main', True, 'https://github.com/acme/app/actions/runs/99')"
git -C "$R" checkout -q main

# 4. GitLab merge request from a fork.
GITLAB_CI=true CI_JOB_URL=https://gitlab.example.com/acme/app/-/jobs/7 CI_PIPELINE_SOURCE=merge_request_event \
CI_MERGE_REQUEST_IID=5 CI_MERGE_REQUEST_TARGET_BRANCH_NAME=main CI_MERGE_REQUEST_SOURCE_PROJECT_ID=2 \
CI_MERGE_REQUEST_PROJECT_ID=1 \
	expect_exit 0 "run under GitLab CI" "$PERFGATE" run --no-store -q -o "$T/gl.json" "$R/suite.json"
is "gitlab provider, event, MR, base, fork" "$T/gl.json" \
	'(d["ci"]["provider"], d["ci"]["event"], d["ci"]["pr"], d["ci"]["base_branch"], d["ci"]["fork"])' \
	"('gitlab', 'merge_request_event', 5, 'main', True)"

# 5. Outside any repository: stored without a commit, with a notice that
# says what that means (not "stored", which --no-store made untrue).
mkdir -p "$T/plain"
cp "$R/suite.json" "$T/plain/suite.json"
expect_exit 0 "run outside a repository" "$PERFGATE" run --no-store -q -o "$T/plain.json" "$T/plain/suite.json"
is "no commit outside a repository" "$T/plain.json" 'd["git"]["commit"]' "None"
contains "notice outside a repository" "$ERR" "is not inside a git repository: the run has no commit, so no baseline is chosen for it and it never becomes one"

# 6. A failing nvidia-smi is a notice, not a failure.
FAKE_NVIDIA_SMI_RC=9 FAKE_NVIDIA_SMI_OUT=$NV/driver_failure.txt \
	expect_exit 0 "run with a failing nvidia-smi" "$PERFGATE" run --no-store -q -o "$T/nogpu.json" "$R/suite.json"
contains "failing nvidia-smi is mentioned" "$ERR" "no GPU facts:"
is "no GPUs recorded" "$T/nogpu.json" 'len(d["machine"]["gpus"])' "0"
