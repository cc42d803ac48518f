#!/bin/sh
# What benchmark commands can see and what they leave behind (issue 19,
# items 4 and 12), with real child processes:
# - perfgate's secrets (the database URL and password, forge and CI tokens)
#   reach no command, hook or calibration unless the suite's "pass_env"
#   names them; other variables still do;
# - a command that leaves a process running ("sleep N &", a setsid child,
#   one that outlives a timeout) has it killed when the run ends, and the
#   benchmark warns how many were killed.
# Every process this test starts sleeps for a duration unique to this test
# run, so that it can look for exactly its own leftovers (and stop only
# those, by PID).
. tests/integration/lib.sh
T=$(test_tmpdir)
cd "$T" || exit 1
unset PERFGATE_DATABASE_URL PGHOST PGSERVICE

# ---- secrets ----
cat >secrets.json <<'EOF'
{"suite": "secrets", "benchmarks": [
  {"name": "plain", "shell": "env > plain.env", "repetitions": 1,
   "setup": "env > setup.env", "prepare": "env > prepare.env", "cleanup": "env > cleanup.env",
   "calibration": "env > calibration.env"},
  {"name": "ingested", "shell": "env > ingest.env; echo '[]'", "ingest": "hyperfine", "repetitions": 1}
]}
EOF
export PERFGATE_GITHUB_TOKEN=tok-pg-github GITHUB_TOKEN=tok-github PERFGATE_GITLAB_TOKEN=tok-pg-gitlab \
	CI_JOB_TOKEN=tok-ci-job PGPASSWORD=pw-secret PERFGATE_DATA_TOKEN=tok-data \
	PERFGATE_SOMETHING_SECRET=s3cret S19_PLAIN_VARIABLE=still-here
"$PERFGATE" run secrets.json --no-store --out secrets.out.json >run.out 2>&1
for f in plain setup prepare cleanup calibration; do
	if [ -s "$f.env" ]; then
		ok "the $f command ran and wrote its environment"
	else
		not_ok "no $f.env: $(head -c 300 run.out)"
	fi
	lacks "no token reaches the $f command" "$f.env" "tok-"
	lacks "PGPASSWORD does not reach the $f command" "$f.env" "pw-secret"
	lacks "a PERFGATE_*SECRET* variable does not reach the $f command" "$f.env" "s3cret"
	contains "other variables still reach the $f command" "$f.env" "S19_PLAIN_VARIABLE=still-here"
done
cat >passed.json <<'EOF'
{"suite": "passed", "benchmarks": [
  {"name": "passed", "shell": "env > passed.env", "repetitions": 1, "pass_env": ["PGPASSWORD"]}
]}
EOF
expect_exit 0 "a benchmark with pass_env runs" "$PERFGATE" run passed.json --no-store
contains "pass_env lets a named secret through" passed.env "PGPASSWORD=pw-secret"
lacks "pass_env passes only what it names" passed.env "tok-"
if [ -s ingest.env ]; then
	lacks "no token reaches an ingest harness" ingest.env "tok-"
	lacks "PGPASSWORD does not reach an ingest harness" ingest.env "pw-secret"
else
	not_ok "the ingest harness wrote no environment: $(head -c 300 run.out)"
fi
# The database URL holds a password too; --no-store keeps it from being used.
PERFGATE_DATABASE_URL='postgresql://u:url-secret@127.0.0.1:1/x' "$PERFGATE" run secrets.json --no-store \
	>/dev/null 2>&1
lacks "PERFGATE_DATABASE_URL does not reach a command" plain.env "url-secret"
unset PERFGATE_GITHUB_TOKEN GITHUB_TOKEN PERFGATE_GITLAB_TOKEN CI_JOB_TOKEN PGPASSWORD PERFGATE_DATA_TOKEN \
	PERFGATE_SOMETHING_SECRET

cat >badpass.json <<'EOF'
{"suite": "badpass", "benchmarks": [
  {"name": "a", "command": ["true"], "pass_env": "PGPASSWORD"},
  {"name": "b", "command": ["true"], "pass_env": ["A=B", 3]}
]}
EOF
expect_exit 2 "pass_env that is not a list of names is invalid" "$PERFGATE" run badpass.json --no-store
contains "pass_env as a string is named" "$ERR" "benchmarks[0].pass_env: expected a list of variable names"
contains "a pass_env name with '=' is named" "$ERR" 'benchmarks[1].pass_env[0]: invalid variable name "A=B"'
contains "a pass_env item that is not a string is named" "$ERR" "benchmarks[1].pass_env[1]"

expect_exit 0 "--help of a verb with --db" "$PERFGATE" push --help
contains "the help says how to keep a password out of ps" "$OUT" "PGPASSFILE"
expect_exit 2 "a password in --db" "$PERFGATE" push --db 'postgresql://u:db-secret@127.0.0.1:1/x' nosuchfile.json
contains "a password in --db is warned about" "$ERR" "visible to every user of this machine"
lacks "the warning does not print the password" "$ERR" "db-secret"

# ---- orphans ----
# Durations unique to this run: no other process on the machine sleeps for them.
base=$(( 100000 + $$ % 50000 ))
s1=$base.1 s2=$base.2 s3=$base.3 s4=$base.4 s5=$base.5
leftovers() { # SECONDS: PIDs of this test's `sleep SECONDS` processes
	for p in /proc/[0-9]*; do
		[ "$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)" = "sleep $1 " ] && echo "${p#/proc/}"
	done
}
stop_mine() { # kill only this test's sleepers, by PID
	for s in "$s1" "$s2" "$s3" "$s4" "$s5"; do
		for p in $(leftovers "$s"); do kill "$p" 2>/dev/null; done
	done
}
trap stop_mine EXIT
# The timed-out command gets 2 s to start its setsid child: with 0.5 s, one
# loaded sanitized run of the whole suite counted no process killed there,
# as if the timeout's kill of the group came before setsid left it.
cat >orphans.json <<EOF
{"suite": "orphans", "benchmarks": [
  {"name": "background", "shell": "sleep $s1 & exit 0", "repetitions": 3},
  {"name": "setsid", "shell": "setsid sleep $s2 & sleep 0.05; exit 0", "repetitions": 2},
  {"name": "timeout", "shell": "setsid sleep $s3 & sleep 30", "timeout": "2s", "repetitions": 1},
  {"name": "daemon", "setup": "sleep $s4 >/dev/null 2>&1 & echo \$! > daemon.pid",
   "shell": "kill -0 \$(cat daemon.pid)", "cleanup": "kill \$(cat daemon.pid)", "repetitions": 2},
  {"name": "harness", "ingest": "hyperfine", "repetitions": 2,
   "shell": "sleep $s5 >/dev/null 2>&1 & echo '{\\"results\\": [{\\"command\\": \\"h\\", \\"mean\\": 0.1, \\"times\\": [0.1, 0.1]}]}'"}
]}
EOF
expect_exit 3 "a suite whose commands leave processes behind runs (one times out)" \
	"$PERFGATE" run orphans.json --no-store --out orphans.out.json
for s in "$s1" "$s2" "$s3" "$s5"; do
	n=$(leftovers "$s" | wc -l)
	if [ "$n" -eq 0 ]; then ok "nothing left of 'sleep $s'"; else not_ok "$n of 'sleep $s' still running"; fi
done
contains "the background benchmark warns how many it killed" orphans.out.json "killed 3 processes"
contains "the setsid benchmark warns how many it killed" orphans.out.json "killed 2 processes"
contains "the setsid child of a timed-out command is killed and counted" orphans.out.json "killed 1 process "
contains "an ingest harness's leftovers are counted" orphans.out.json "killed 2 processes that the harness"
python3 - orphans.out.json <<'EOF' && ok "the setup hook's daemon lives through the runs" || not_ok "daemon benchmark did not pass"
import json, sys
d = json.load(open(sys.argv[1]))
b = [b for b in d["benchmarks"] if b["name"] == "daemon"][0]
sys.exit(0 if b.get("status", "ok") == "ok" and len(b["metrics"][0]["samples"]) == 2 else 1)
EOF
n=$(leftovers "$s4" | wc -l)
if [ "$n" -eq 0 ]; then ok "the cleanup hook stopped the setup's daemon"; else not_ok "setup's daemon still running"; fi
