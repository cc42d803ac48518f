#!/bin/sh
# Input that would exhaust memory or time (issue 19, items 10 and 11):
# - unbounded reads: `push /dev/zero`, `ingest` of an endless stdin, a suite,
#   a report file, all stop at a documented limit with a one-line error
#   (exit 2); a command that writes 200 MB to stderr gets its last lines
#   reported without perfgate reading them all;
# - quadratic paths: a 10 MB unknown key, 100,000 unknown keys, a run
#   document of 20,000 benchmarks; each must finish within a CPU-time
#   limit (ulimit -t: the process's own CPU seconds, not wall time on a
#   loaded machine) far above what it needs and far below what the
#   quadratic code took (60 s, 55 s, tens of seconds).
. tests/integration/lib.sh
T=$(test_tmpdir)
cd "$T" || exit 1
unset PERFGATE_DATABASE_URL PGHOST PGSERVICE
URL=$(new_db limits)

# ---- unbounded reads ----
expect_exit 2 "push /dev/zero is refused" "$PERFGATE" push --db "$URL" /dev/zero
contains "push names the file and the limit" "$ERR" "cannot read '/dev/zero': it is larger than 256 MiB"
expect_exit 2 "ingest of an endless stdin is refused" sh -c "\"$PERFGATE\" ingest --format hyperfine - </dev/zero"
contains "ingest names standard input and the limit" "$ERR" "'standard input': it is larger than 256 MiB"
expect_exit 2 "a suite that never ends is refused" "$PERFGATE" run /dev/zero --no-store
contains "the suite's limit is named" "$ERR" "larger than 16 MiB"
[ "$(wc -l <"$ERR")" -eq 1 ] && ok "the refusal is one line" || not_ok "$(wc -l <"$ERR") lines: $(head -c 300 "$ERR")"
# A regular file is refused by its size, without reading it: a sparse 300 MB file.
truncate -s 300M sparse.json
expect_exit 2 "a run document over the limit is refused" "$PERFGATE" report --file sparse.json
contains "report --file names the limit" "$ERR" "larger than 256 MiB"

cat >noisy.json <<'EOF'
{"suite": "noisy", "benchmarks": [
  {"name": "noisy", "shell": "head -c 200000000 /dev/zero | tr '\\0' 'x' >&2; echo; echo the-last-line >&2; exit 3",
   "repetitions": 1}
]}
EOF
expect_exit 3 "a command that fails after 200 MB of stderr" sh -c \
	"exec \"$PERFGATE\" run noisy.json --no-store --out noisy.out.json"
contains "its last stderr line is reported" noisy.out.json "the-last-line"
size=$(wc -c <noisy.out.json)
[ "$size" -lt 200000 ] && ok "the run document keeps a tail, not the 200 MB ($size bytes)" \
	|| not_ok "run document is $size bytes"

# ---- quadratic paths ----
python3 - <<'EOF'
import json
open("bigkey.json", "w").write('{"suite": "k", "benchmarks": [{"name": "a", "command": ["true"], "%s": 1}]}'
                               % ("x" * 10_000_000))
b = {"name": "a", "command": ["true"]}
for i in range(100000):
    b["unknown_%d" % i] = 1
json.dump({"suite": "k", "benchmarks": [b]}, open("manykeys.json", "w"))
d = {"schema_version": 1, "run_id": "5b1e7a52-0d8f-4c3b-9d1e-2f6a7c8b9d01", "suite": "wide",
     "project": "limits", "started_at": "2026-12-05T07:00:00Z", "finished_at": "2026-12-05T07:01:00Z",
     "git": {"commit": "0" * 40, "branch": "main", "dirty": False},
     "benchmarks": [{"name": "b%05d" % i, "kind": "command", "status": "ok",
                     "metrics": [{"name": "wall", "unit": "s", "direction": "lower",
                                  "samples": [0.1, 0.1, 0.1]}]} for i in range(20000)]}
json.dump(d, open("wide.json", "w"))
d["benchmarks"].append(dict(d["benchmarks"][7]))
json.dump(d, open("wide-dup.json", "w"))
EOF
expect_exit 2 "a 10 MB unknown key is reported within 20 CPU seconds" sh -c \
	"ulimit -t 20; exec \"$PERFGATE\" run bigkey.json --no-store"
contains "the unknown key is named" "$ERR" "benchmarks[0].xxxxxxxx"
expect_exit 2 "100,000 unknown keys are reported within 20 CPU seconds" sh -c \
	"ulimit -t 20; exec \"$PERFGATE\" run manykeys.json --no-store"
lines=$(wc -l <"$ERR")
[ "$lines" -le 52 ] && ok "the problem list is cut short ($lines lines)" || not_ok "$lines lines of problems"
contains "the rest is counted" "$ERR" "... and 99950 more problems"
expect_exit 2 "a repeated benchmark among 20,000 is found within 20 CPU seconds" sh -c \
	"ulimit -t 20; exec \"$PERFGATE\" push --db \"$URL\" wide-dup.json"
contains "the repeated benchmark is named where it repeats" "$ERR" 'benchmarks[20000].name: benchmark "b00007" appears twice'
commits() { psql_q "$URL" "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"; }
before=$(commits)
expect_exit 0 "a run of 20,000 benchmarks is stored within 20 CPU seconds" sh -c \
	"ulimit -t 20; exec \"$PERFGATE\" push --baseline-eligible --db \"$URL\" wide.json"
# Its 20,000 new series have one point each: nothing to analyse for change
# points, and no transaction (six round trips) each to find that out.
sleep 1 # the statistics reach pg_stat_database when a backend ends or idles
after=$(commits)
[ $((after - before)) -lt 100 ] && ok "storing 20,000 benchmarks takes a few transactions ($((after - before)))" \
	|| not_ok "storing 20,000 benchmarks took $((after - before)) transactions"
# The change-point analysis was skipped only where it could find nothing:
# a series with enough history still gets its change point.
python3 - <<'EOF'
import json, uuid
for i in range(12):
    v = 0.1 if i < 6 else 0.2
    d = {"schema_version": 1, "run_id": str(uuid.UUID(int=i + 1)), "suite": "step", "project": "limits",
         "started_at": "2026-12-05T07:%02d:00Z" % i, "finished_at": "2026-12-05T07:%02d:30Z" % i,
         "git": {"commit": "%040x" % (i + 1), "branch": "main", "dirty": False,
                 "commit_time": "2026-12-05T06:%02d:00Z" % i},
         "benchmarks": [{"name": "step", "kind": "command", "status": "ok",
                         "metrics": [{"name": "wall", "unit": "s", "direction": "lower",
                                      "samples": [v, v * 1.001, v * 0.999, v]}]}]}
    json.dump(d, open("step%02d.json" % i, "w"))
EOF
for f in step*.json; do "$PERFGATE" push --baseline-eligible --db "$URL" "$f" >/dev/null 2>&1 || not_ok "push $f"; done
n=$(psql_q "$URL" "SELECT count(*) FROM change_points WHERE benchmark = 'step'")
[ "$n" -eq 1 ] && ok "a step in a stored series is still a change point" || not_ok "$n change points for 'step'"
