#!/bin/sh
# `perfgate store export|import`: results on a git data branch, with a bare
# repository on the local disk as the remote (docs/ci.md).  Run documents
# come from tests/fixtures/datastore/gen_runs.py (run ids fixed by the run's
# number); what must be on the branch and in the database is computed here
# from those files, never from perfgate's output.
#
# Checked: only baseline runs are exported (no pull-request runs); a fresh
# embedded database filled from the branch has every run, its medians and
# its comparison; an incremental import stores only the new runs; damaged
# files are skipped with a warning naming each; four jobs pushing at once
# lose nothing; a job killed in the middle of its push leaves the branch as
# it was and the next push completes it; retention keeps summaries and drops
# old samples; 10,000 runs import into a fresh embedded database, then 10
# more incrementally.
. tests/integration/lib.sh
T=$(test_tmpdir)
PY=/usr/bin/python3
GEN=tests/fixtures/datastore/gen_runs.py
BRANCHER=tests/fixtures/datastore/make_branch.py
R=$T/remote.git
git init -q --bare "$R"

# A clone of the project in which a CI job would run perfgate.
clone() { # DIR
	git init -q "$1" && git -C "$1" remote add origin "$R"
}
# The run ids in the runs on the branch, sorted, one a line.
branch_ids() {
	git --git-dir="$R" ls-tree -r --name-only perfgate-data -- runs 2>/dev/null |
		sed -n 's|^runs/../\([0-9a-f-]\{36\}\)\.[0-9a-f]\{32\}\.json\.gz$|\1|p' | sort
}
# The run ids of run documents, sorted.
doc_ids() {
	$PY -c 'import json, sys; print("\n".join(sorted(json.load(open(f))["run_id"] for f in sys.argv[1:])))' "$@"
}
embedded() { # HOME_DIR: stop an embedded cluster this test started there
	PERFGATE_HOME=$1 "$PERFGATE" db stop >/dev/null 2>&1
}

$PY $GEN "$T/runs" 60 0 >/dev/null
$PY $GEN "$T/pr" 3 100 --pr >/dev/null
A=$(new_db store_a)
clone "$T/wa"

# ---- export: baseline runs only ----
expect_exit 0 "push 30 runs on main and 3 pull-request runs" "$PERFGATE" push --baseline-eligible -q --db "$A" \
	$(ls "$T"/runs/run-0000[0-2]*.json) "$T"/pr/*.json
FIRST_ID=$(doc_ids "$T/runs/run-000020.json")
"$PERFGATE" compare --db "$A" "$FIRST_ID" --format json >/dev/null 2>&1
check "a stored comparison of run 20, to carry along" "$PERFGATE" report --db "$A" "$FIRST_ID" --format json
expect_exit 0 "export to the data branch" "$PERFGATE" store export --repo "$T/wa" --db "$A"
contains "export says how many" "$OUT" "exported 30 runs to 'perfgate-data'"
doc_ids $(ls "$T"/runs/run-0000[0-2]*.json) >"$T/want30"
branch_ids >"$T/got"
check "the branch holds exactly the 30 runs on main" cmp -s "$T/want30" "$T/got"
check "no pull-request run on the branch" sh -c "! grep -qF -f '$T/got' <<EOF
$(doc_ids "$T"/pr/*.json)
EOF"
check "the branch explains itself (README.md)" sh -c "git --git-dir='$R' show perfgate-data:README.md | grep -q 'perfgate store import'"
expect_exit 0 "export again: nothing new" "$PERFGATE" store export --repo "$T/wa" --db "$A"
contains "a second export adds nothing" "$OUT" "exported 0 runs"
check "... and makes no commit" test "$(git --git-dir="$R" rev-list --count perfgate-data)" -eq 1

# ---- import into a fresh embedded database ----
H1=$T/home1
clone "$T/wb"
expect_exit 0 "import into a fresh embedded database" env PERFGATE_HOME="$H1" "$PERFGATE" store import --repo "$T/wb"
contains "30 runs imported" "$OUT" "imported 30 runs"
expect_exit 0 "history of the imported runs" env PERFGATE_HOME="$H1" "$PERFGATE" history parse/wall --branch main --limit 0 --format json
check "every imported run has its run id and the median of its samples" $PY - "$OUT" $(ls "$T"/runs/run-0000[0-2]*.json) <<'EOF'
import json, statistics, sys
got = {r["run_id"]: r for r in json.load(open(sys.argv[1]))}
docs = [json.load(open(f)) for f in sys.argv[2:]]
assert len(got) == len(docs) == 30, (len(got), len(docs))
for d in docs:
    s = [m for m in d["benchmarks"][0]["metrics"] if m["name"] == "wall"][0]["samples"]
    assert abs(got[d["run_id"]]["median"] - statistics.median(s)) < 1e-12, d["run_id"]
EOF
expect_exit 0 "the comparison came along" env PERFGATE_HOME="$H1" "$PERFGATE" report "$FIRST_ID" --format json
cp "$OUT" "$T/report-imported.json"
expect_exit 0 "the same comparison from the first database" "$PERFGATE" report --db "$A" "$FIRST_ID" --format json
check "... and it is the same comparison" $PY -c "
import json, sys
a, b = json.load(open('$OUT')), json.load(open('$T/report-imported.json'))
assert a == b and a['run_id'] == '$FIRST_ID', 'differ'"

# ---- incremental import ----
expect_exit 0 "push 10 more runs" "$PERFGATE" push --baseline-eligible -q --db "$A" $(ls "$T"/runs/run-00003*.json)
expect_exit 0 "export them" "$PERFGATE" store export --repo "$T/wa" --db "$A"
contains "10 exported" "$OUT" "exported 10 runs"
expect_exit 0 "incremental import" env PERFGATE_HOME="$H1" "$PERFGATE" store import --repo "$T/wb"
contains "only the 10 new runs are stored" "$OUT" "imported 10 runs"
contains "... and the 30 known ones are recognised" "$OUT" "30 already stored"

# ---- damaged files are skipped, each named ----
GOOD=$(git --git-dir="$R" ls-tree -r --name-only perfgate-data -- runs | head -1)
GOOD_ID=$(echo "$GOOD" | sed 's|runs/../\(.\{36\}\).*|\1|')
git --git-dir="$R" show "perfgate-data:$GOOD" >"$T/good.gz"
$PY - "$T/good.gz" "$T/bad" <<'EOF'
import gzip, hashlib, json, os, sys, uuid
good = gzip.decompress(open(sys.argv[1], "rb").read())
out = sys.argv[2]
os.makedirs(out, exist_ok=True)
def name(rid, text):
    return "%s.%s.json.gz" % (rid, hashlib.sha256(text).hexdigest()[:32])
# 1. the content changed after it was named (one digit of a sample)
rid = "0bad0000-0000-4000-8000-000000000001"
doc = json.loads(good); doc["run"]["run_id"] = rid
text = json.dumps(doc).encode()
open(os.path.join(out, name(rid, text)), "wb").write(gzip.compress(text.replace(b"0.0", b"0.9", 1)))
# 2. a truncated file
rid = "0bad0000-0000-4000-8000-000000000002"
doc["run"]["run_id"] = rid; text = json.dumps(doc).encode()
open(os.path.join(out, name(rid, text)), "wb").write(gzip.compress(text)[:40])
# 3. not gzip at all
rid = "0bad0000-0000-4000-8000-000000000003"
open(os.path.join(out, name(rid, b"x")), "wb").write(b"x")
# 4. valid gzip and hash, but not a run document
rid = "0bad0000-0000-4000-8000-000000000004"
text = json.dumps({"format": "perfgate-run", "version": 1, "run": {"run_id": rid}}).encode()
open(os.path.join(out, name(rid, text)), "wb").write(gzip.compress(text))
EOF
(
	cd "$T/bad" && git --git-dir="$R" read-tree perfgate-data &&
	for f in *; do
		blob=$(git --git-dir="$R" hash-object -w "$f")
		git --git-dir="$R" update-index --add --cacheinfo 100644 "$blob" "runs/0b/$f"
	done &&
	blob=$(echo "notes" | git --git-dir="$R" hash-object -w --stdin) &&
	git --git-dir="$R" update-index --add --cacheinfo 100644 "$blob" "runs/0b/notes.txt" &&
	tree=$(git --git-dir="$R" write-tree) &&
	c=$(echo "damage" | git --git-dir="$R" commit-tree "$tree" -p perfgate-data) &&
	git --git-dir="$R" update-ref refs/heads/perfgate-data "$c"
) && rm -f "$R/index"
H2=$T/home2
expect_exit 0 "import with damaged files on the branch" env PERFGATE_HOME="$H2" "$PERFGATE" store import --repo "$T/wb"
contains "the good runs are imported" "$OUT" "imported 40 runs"
for k in 1 2 3 4; do
	contains "damaged file $k is named" "$ERR" "skipped runs/0b/0bad0000-0000-4000-8000-00000000000$k."
done
contains "the changed file is called damaged" "$ERR" "does not match the hash in its name"
contains "the odd file is named" "$ERR" "skipped runs/0b/notes.txt: not a run file"
expect_exit 0 "export onto a branch with damaged files still works" "$PERFGATE" store export --repo "$T/wa" --db "$A"

# ---- four jobs pushing at once lose nothing ----
# Each job has its own database and clone, as CI jobs do; two rounds, with
# five new runs per job in each.
$PY $GEN "$T/conc" 40 300 >/dev/null
for j in 1 2 3 4; do
	eval "D$j=\$(new_db store_j$j)"
	clone "$T/wj$j"
done
for round in 0 1; do
	for j in 1 2 3 4; do
		eval "db=\$D$j"
		"$PERFGATE" push --baseline-eligible -q --db "$db" "$T"/conc/run-0003$((round * 2 + (j - 1) / 2))[$(((j - 1) % 2 * 5))-$(((j - 1) % 2 * 5 + 4))].json ||
			not_ok "job $j stores its runs of round $round"
	done
	for j in 1 2 3 4; do
		eval "db=\$D$j"
		"$PERFGATE" store export --repo "$T/wj$j" --db "$db" >"$T/job$j.$round.out" 2>&1 &
		echo $! >"$T/job$j.pid"
	done
	fails=0
	for j in 1 2 3 4; do
		wait "$(cat "$T/job$j.pid")" || fails=$((fails + 1))
	done
	check "round $round: the four concurrent exports succeed" test $fails -eq 0
done
echo "# $(cat "$T"/job*.out | grep -c 'other jobs pushed first') of 8 exports lost a race and retried"
doc_ids $(ls "$T"/runs/run-0000[0-3]*.json) "$T"/conc/*.json >"$T/want80"
branch_ids | grep -v '^0bad' >"$T/got"
check "after concurrent pushes the branch holds all 80 runs" cmp -s "$T/want80" "$T/got"

# ---- a job killed in the middle of its push ----
F=$(new_db store_f)
$PY $GEN "$T/more" 40 200 >/dev/null
expect_exit 0 "a job stores 40 more runs" "$PERFGATE" push --baseline-eligible -q --db "$F" "$T"/more/*.json
clone "$T/wk"
TIP=$(git --git-dir="$R" rev-parse perfgate-data)
# The remote's pre-receive hook holds the push in flight until we kill it.
cat >"$R/hooks/pre-receive" <<EOF
#!/bin/sh
touch "$T/pushing"
sleep 30
EOF
chmod +x "$R/hooks/pre-receive"
"$PERFGATE" store export --repo "$T/wk" --db "$F" >"$T/killed.out" 2>&1 &
echo $! >"$T/killed.pid"
n=0
while [ ! -f "$T/pushing" ] && [ $n -lt 600 ]; do sleep 0.1; n=$((n + 1)); done
# A cancelled CI job loses its whole process tree: perfgate, git push,
# receive-pack and the hook, each by its pid.
tree_pids() {
	echo "$1"
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do tree_pids "$c"; done
}
check "the push was in flight" test -f "$T/pushing"
for p in $(tree_pids "$(cat "$T/killed.pid")"); do kill -9 "$p" 2>/dev/null; done
wait "$(cat "$T/killed.pid")" 2>/dev/null
rm -f "$R/hooks/pre-receive"
check "the killed push left the branch where it was" test "$(git --git-dir="$R" rev-parse perfgate-data)" = "$TIP"
check "the remote repository is consistent (git fsck)" git --git-dir="$R" fsck --no-dangling --no-progress
H3=$T/home3
clone "$T/wc"
expect_exit 0 "the branch imports cleanly after the kill" env PERFGATE_HOME="$H3" "$PERFGATE" store import --repo "$T/wc"
contains "... every run on it" "$OUT" "imported 80 runs"
expect_exit 0 "the next export completes the killed job's work" "$PERFGATE" store export --repo "$T/wk" --db "$F"
contains "all 40 of its runs" "$OUT" "exported 40 runs"
expect_exit 0 "incremental import of those" env PERFGATE_HOME="$H3" "$PERFGATE" store import --repo "$T/wc"
contains "the 40 arrive" "$OUT" "imported 40 runs"

# ---- retention: old runs keep their summaries, lose their samples ----
G=$(new_db store_g)
R2=$T/remote2.git
git init -q --bare "$R2"
expect_exit 0 "40 runs to keep" "$PERFGATE" push --baseline-eligible -q --db "$G" $(ls "$T"/runs/run-0000[0-3]*.json)
clone "$T/wr"
git -C "$T/wr" remote set-url origin "$R2"
expect_exit 0 "export with --keep-samples 5" "$PERFGATE" store export --repo "$T/wr" --db "$G" --keep-samples 5
contains "35 rewritten without samples" "$OUT" "35 older runs kept without raw samples"
check "the branch has 40 run files, one per run" test "$(git --git-dir="$R2" ls-tree -r --name-only perfgate-data -- runs | wc -l)" -eq 40
expect_exit 0 "export again: retention is done" "$PERFGATE" store export --repo "$T/wr" --db "$G" --keep-samples 5
contains "nothing more to rewrite" "$OUT" "exported 0 runs"
H=$(new_db store_h)
clone "$T/wr2"
git -C "$T/wr2" remote set-url origin "$R2"
expect_exit 0 "import the pruned branch" "$PERFGATE" store import --repo "$T/wr2" --db "$H"
expect_exit 0 "history after retention" "$PERFGATE" history --db "$H" parse/wall --branch main --limit 0 --format json
check "all 40 medians and intervals are kept" $PY - "$OUT" $(ls "$T"/runs/run-0000[0-3]*.json) <<'EOF'
import json, statistics, sys
got = {r["run_id"]: r for r in json.load(open(sys.argv[1]))}
docs = [json.load(open(f)) for f in sys.argv[2:]]
assert len(got) == 40, len(got)
for d in docs:
    s = [m for m in d["benchmarks"][0]["metrics"] if m["name"] == "wall"][0]["samples"]
    r = got[d["run_id"]]
    assert abs(r["median"] - statistics.median(s)) < 1e-12 and r["ci_low"] is not None and r["n"] == 10, r
EOF
NEWEST5=$($PY -c 'import json, sys; print(",".join("\x27%s\x27" % d["run_id"] for d in sorted((json.load(open(f)) for f in sys.argv[1:]), key=lambda d: d["started_at"])[-5:]))' $(ls "$T"/runs/run-0000[0-3]*.json))
check "the newest 5 runs keep their raw samples" test "$(psql_q "$H" "select count(*) from results where cardinality(samples) = 10 and run_id::text in ($NEWEST5)")" = 20
check "the 35 older runs keep none" test "$(psql_q "$H" "select count(*) from results where cardinality(samples) = 0")" = 140
embedded "$H1"; embedded "$H2"; embedded "$H3"

[ -n "${STORE_QUICK:-}" ] && exit 0
# ---- 10,000 runs into a fresh embedded database, then 10 more ----
R3=$T/remote3.git
git init -q --bare "$R3"
$PY $GEN "$T/big" 10000 1000 >/dev/null
$PY $BRANCHER "$R3" perfgate-data "$T/big" --per-commit 1 || not_ok "write 10,000 runs on a branch"
clone "$T/w10k"
git -C "$T/w10k" remote set-url origin "$R3"
H5=$T/home5
expect_exit 0 "import 10,000 runs into a fresh embedded database" env PERFGATE_HOME="$H5" "$PERFGATE" store import --repo "$T/w10k"
contains "10,000 imported" "$OUT" "imported 10000 runs"
$PY $GEN "$T/big2" 10 20000 >/dev/null
$PY $BRANCHER "$R3" perfgate-data "$T/big2" || not_ok "add 10 runs to the branch"
expect_exit 0 "incremental import of 10" env PERFGATE_HOME="$H5" "$PERFGATE" store import --repo "$T/w10k"
contains "10 imported" "$OUT" "imported 10 runs"
contains "10,000 recognised" "$OUT" "10000 already stored"
expect_exit 0 "history count" env PERFGATE_HOME="$H5" "$PERFGATE" history render/wall --branch main --limit 0 --format csv
check "all 10,010 runs are in the history" test "$(($(wc -l <"$OUT") - 1))" -eq 10010
embedded "$H5"
