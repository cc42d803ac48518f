#!/bin/sh
# Validation before anything runs or is stored (issue 19 items 6 to 9):
# what the database would refuse is refused by the validator (exit 2, the
# JSON path, nothing stored, nothing spooled); names cannot inject a CI log
# command; bad options are found before the suite runs; durations and counts
# are bounded.  Real PostgreSQL (lib.sh), real child processes.
. tests/integration/lib.sh
T=$(test_tmpdir)
unset PERFGATE_DATABASE_URL PGHOST PGSERVICE
export PERFGATE_HOME="$T/home"
# Every command names its database; should one start the embedded cluster
# anyway (as the old code did), stop it.
cleanup() {
	[ -e "$T/home/pg" ] && "$PERFGATE" db stop >/dev/null 2>&1
	l=$(readlink "$T/home/pg" 2>/dev/null) && case "$l" in /var/lib/perfgate/clusters/?*) rm -rf "$l" ;; esac
}
trap cleanup EXIT
EX=examples/run-example.json
DB=$(new_db valid)
"$PERFGATE" db migrate --db "$DB" >/dev/null 2>&1
q() { psql_q "$DB" "$1"; }
eq() { # NAME GOT WANT
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1: got '$2', want '$3'"; fi
}
# no_log_command NAME FILE: no line of FILE starts a GitHub workflow command.
no_log_command() {
	if grep -q '^::' "$2"; then not_ok "$1: $(grep '^::' "$2" | head -c 200)"; else ok "$1"; fi
}
# mkrun N SED: a copy of the example with its own run_id, edited by SED.
mkrun() {
	sed -e "s/0d2e8f6b1c01/0d2e8f6b1c$(printf %02d "$1")/" -e "$2" "$EX" >"$T/run$1.json"
	echo "$T/run$1.json"
}

# ---- item 7: the database's limits are the validator's ----
expect_exit 2 "a short run id is refused" "$PERFGATE" push --db "$DB" "$(mkrun 1 's/"run_id": "[^"]*"/"run_id": "3f1c2a9e-7b4d"/')"
contains "the short run id is named" "$ERR" 'run_id: expected a UUID'
expect_exit 2 "2026-02-31 is refused" "$PERFGATE" push --db "$DB" "$(mkrun 2 's/"started_at": "2026-11-28/"started_at": "2026-02-31/')"
contains "the impossible date is named" "$ERR" "started_at: expected an RFC 3339 date-time"
expect_exit 2 "year 0 is refused" "$PERFGATE" push --db "$DB" "$(mkrun 3 's/"started_at": "2026-11-28/"started_at": "0000-11-28/')"
# summary_n N VALUE: run N whose first metric has no samples and summary.n VALUE.
summary_n() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
m = d["benchmarks"][0]["metrics"][0]
m["samples"] = []
m["summary"] = {"n": 0, "median": 1}
print(json.dumps(d).replace("\"n\": 0", "\"n\": " + sys.argv[2]))' "$(mkrun "$1" s/x/x/)" "$2" >"$T/n$1.json"
	echo "$T/n$1.json"
}
expect_exit 2 "summary.n above 2^31 is refused" "$PERFGATE" push --db "$DB" "$(summary_n 4 3000000000)"
contains "the count is named" "$ERR" "summary.n: expected at most 2147483647"
expect_exit 2 "summary.n 1e300 is refused" "$PERFGATE" push --db "$DB" "$(summary_n 5 1e300)"
expect_exit 2 "a PR number above 2^31 is refused" "$PERFGATE" push --db "$DB" \
	"$(mkrun 6 's/"provider": "[^"]*"/&, "pr": 99999999999/')"
LONG=$(head -c 3000 /dev/zero | tr '\0' x)
expect_exit 2 "a 3000-byte benchmark name is input (2), not infrastructure (4)" "$PERFGATE" push --db "$DB" \
	"$(mkrun 7 "s/\"gzip-9\"/\"$LONG\"/")"
contains "the long name is named" "$ERR" "is longer than 256 bytes (3000)"
printf '\377' >"$T/ff"
sed -e "s/0d2e8f6b1c01/0d2e8f6b1c08/" -e "s/\"gzip-9\"/\"gzip-$(cat "$T/ff")\"/" "$EX" >"$T/run8.json"
expect_exit 2 "invalid UTF-8 is refused" "$PERFGATE" push --db "$DB" "$T/run8.json"
contains "invalid UTF-8 is named with its line" "$ERR" "invalid UTF-8 at line"
eq "none of them was stored" "$(q "select count(*) from runs")" 0

# push good1 bad good2: all or nothing.
G1=$(mkrun 11 "s/x/x/")
G2=$(mkrun 12 "s/x/x/")
BAD=$(mkrun 13 's/"started_at": "2026-11-28/"started_at": "2026-02-30/')
expect_exit 2 "push good bad good exits 2" "$PERFGATE" push --db "$DB" "$G1" "$BAD" "$G2"
eq "push good bad good stored nothing" "$(q "select count(*) from runs")" 0
expect_exit 0 "push good good stores both" "$PERFGATE" push --db "$DB" "$G1" "$G2"
eq "two runs stored" "$(q "select count(*) from runs")" 2

# A spool file the database will never take is quarantined, not retried forever.
mkdir -p "$PERFGATE_HOME/spool"
cp "$(mkrun 14 's/"run_id": "[^"]*"/"run_id": "not-a-run"/')" "$PERFGATE_HOME/spool/bad.json"
expect_exit 2 "push --spooled of an invalid spool file exits 2" "$PERFGATE" push --db "$DB" --spooled
contains "it says where the file went" "$ERR" "quarantine"
check "the file is in the quarantine folder" test -f "$PERFGATE_HOME/spool/quarantine/bad.json"
check "the file left the spool" test ! -e "$PERFGATE_HOME/spool/bad.json"
expect_exit 0 "the next push --spooled has nothing to do" "$PERFGATE" push --db "$DB" --spooled
contains "nothing spooled" "$OUT" "nothing spooled"

# run: a name the database would refuse that only the run itself makes (a
# harness's 256-byte benchmark name under the suite's "g/") is not stored and
# not spooled, but kept in quarantine.
python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
d["benchmarks"][0]["name"] = "x" * 256
d["benchmarks"][0]["run_name"] = "x" * 256
json.dump(d, open(sys.argv[2], "w"))' tests/fixtures/ingest/gbench_plain.json "$T/gbench-long.json"
cat >"$T/ingest.json" <<EOF
{"suite": "ing", "benchmarks": [{"name": "g", "command": ["cat", "$T/gbench-long.json"], "ingest": "gbench",
  "repetitions": 1}]}
EOF
rm -rf "$PERFGATE_HOME/spool"
expect_exit 2 "run with a name the database refuses exits 2" "$PERFGATE" run --db "$DB" "$T/ingest.json"
contains "it says the run was not spooled" "$ERR" "not spooled"
contains "it names the problem" "$ERR" "is longer than 256 bytes (258)"
contains "it says where the run is kept" "$ERR" "spool/quarantine/"
eq "the spool is empty" "$(ls "$PERFGATE_HOME/spool" 2>/dev/null | grep -c '\.json$')" 0
eq "one run in quarantine" "$(ls "$PERFGATE_HOME/spool/quarantine" | grep -c '\.json$')" 1
eq "the ingest run was not stored" "$(q "select count(*) from runs where suite='ing'")" 0

# A harness's counter with a newline in its name fails that benchmark when
# its output is read (an invalid run, exit 3), and starts no log command.
python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
for b in d["benchmarks"]:
    if "foo" in b:
        b["foo\n::error::forged"] = b.pop("foo")
json.dump(d, open(sys.argv[2], "w"))' tests/fixtures/ingest/gbench_plain.json "$T/gbench.json"
cat >"$T/ingest-nl.json" <<EOF
{"suite": "ing", "benchmarks": [{"name": "g", "command": ["cat", "$T/gbench.json"], "ingest": "gbench",
  "repetitions": 1}]}
EOF
expect_exit 3 "a harness's metric name with a newline fails the benchmark" "$PERFGATE" run --no-store "$T/ingest-nl.json"
contains "the harness's name is named" "$ERR" "contains a control character (U+000A)"
no_log_command "the harness's name starts no log command on stdout" "$OUT"
no_log_command "the harness's name starts no log command on stderr" "$ERR"

# A command's own metrics file with such a name fails that repetition at once
# (an invalid run, exit 3), naming the metric.
cat >"$T/emit.json" <<'EOF'
{"suite": "emit", "benchmarks": [{"name": "e", "emits": "json", "repetitions": 2,
  "shell": "printf '{\"ok\\\\n::error::forged\": 1}' > \"$PERFGATE_METRICS_FILE\""}]}
EOF
expect_exit 3 "an emitted metric name with a newline fails the repetition" "$PERFGATE" run --no-store "$T/emit.json"
contains "the emitted name is named" "$ERR" 'the metrics file: "ok\n::error::forged": the name contains a control character'
no_log_command "the emitted name starts no log command" "$ERR"

# ---- item 6: names ----
printf '{"suite": "s", "benchmarks": [{"name": "a\\n::error::forged", "command": ["true"]}]}' >"$T/nl.json"
expect_exit 2 "a newline in a benchmark name is refused" "$PERFGATE" run --no-store "$T/nl.json"
contains "the control character is named" "$ERR" "benchmarks[0].name: contains a control character (U+000A)"
no_log_command "the refused name starts no log command" "$ERR"
printf '{"suite": "s", "benchmarks": [{"name": "a\\u0000b", "command": ["true"]}]}' >"$T/nul.json"
expect_exit 2 "a NUL in a suite is refused, not cut short" "$PERFGATE" run --no-store "$T/nul.json"
contains "the NUL is named" "$ERR" 'a NUL character (\u0000) at line 1'
expect_exit 2 "a NUL in a run document is refused" "$PERFGATE" push --db "$DB" "$(mkrun 15 's/"gzip-9"/"gzip\\u00009"/')"
expect_exit 2 "a run id with a newline is refused" "$PERFGATE" push --db "$DB" \
	"$(mkrun 16 's/"run_id": "[^"]*"/"run_id": "x\\n::error::forged"/')"
no_log_command "the quoted run id starts no log command" "$ERR"
contains "the quoted run id is escaped" "$ERR" 'x\n::error::forged'

# ---- item 8: options checked before the suite runs ----
cat >"$T/marker.json" <<EOF
{"suite": "m", "benchmarks": [{"name": "m", "repetitions": 1, "shell": "touch $T/ran"}]}
EOF
expect_exit 2 "--db does not swallow the next option" "$PERFGATE" run --db --no-store "$T/marker.json"
contains "it says --db needs a value" "$ERR" "option '--db' needs a value (URL), got the option '--no-store'"
expect_exit 2 "sslmode=bogus is input (2)" "$PERFGATE" run --db "$DB&sslmode=bogus" "$T/marker.json"
contains "sslmode named" "$ERR" "sslmode 'bogus'"
expect_exit 2 "port=99999 is input (2)" "$PERFGATE" gate --db "postgresql://u@localhost:99999/x" "$T/marker.json"
contains "port named" "$ERR" "port '99999'"
expect_exit 2 "--out in a missing folder is refused" "$PERFGATE" run --no-store --out "$T/nope/run.json" "$T/marker.json"
contains "the folder is named" "$ERR" "the folder '$T/nope' does not exist"
expect_exit 2 "gate --json in a missing folder is refused" "$PERFGATE" gate --no-store --json "$T/nope/r.json" "$T/marker.json"
expect_exit 2 "gate --baseline that is no spec is refused" "$PERFGATE" gate --no-store --baseline "main~1" "$T/marker.json"
expect_exit 2 "gate --baseline file: of a missing file is refused" "$PERFGATE" gate --no-store --baseline "file:$T/none.json" "$T/marker.json"
expect_exit 2 "--baseline-runs 0 is refused" "$PERFGATE" gate --no-store --baseline-runs 0 "$T/marker.json"
expect_exit 2 "--confirm-repetitions 0 is refused" "$PERFGATE" gate --no-store --confirm-repetitions 0 "$T/marker.json"
expect_exit 2 "compare --baseline-runs 0 is refused" "$PERFGATE" compare --db "$DB" --baseline-runs 0 --run-file "$EX"
check "none of the refused commands ran the suite" test ! -e "$T/ran"
{ cat "$T/marker.json"; echo '{"more": 1}'; } >"$T/trailing.json"
expect_exit 2 "text after a suite's JSON is refused" "$PERFGATE" run --no-store "$T/trailing.json"
contains "the trailing text is placed" "$ERR" "text after the JSON document at line"
{ cat "$G1"; echo 'garbage'; } >"$T/trailing-run.json"
expect_exit 2 "text after a run document is refused" "$PERFGATE" push --db "$DB" "$T/trailing-run.json"

# ---- item 9: durations and counts bounded ----
for t in '"1e308h"' '1e308' '"0x10s"' '"inf"'; do
	printf '{"suite": "s", "benchmarks": [{"name": "a", "command": ["true"], "timeout": %s}]}' "$t" >"$T/d.json"
	expect_exit 2 "timeout $t is refused" "$PERFGATE" run --no-store "$T/d.json"
	contains "timeout $t is named" "$ERR" "benchmarks[0].timeout: expected a duration"
done
printf '{"suite": "s", "benchmarks": [{"name": "a", "command": ["true"], "repetitions": 1e12}]}' >"$T/c.json"
# (timeout: unbounded, the old code ran `true` a trillion times)
expect_exit 2 "repetitions 1e12 is refused" timeout 30 "$PERFGATE" run --no-store "$T/c.json"
contains "the count's range is named" "$ERR" "expected an integer from 1 to 2147483647"
expect_exit 2 "--repetitions past 2^31 is refused" timeout 30 "$PERFGATE" run --no-store -n 99999999999 "$T/marker.json"
check "still nothing ran" test ! -e "$T/ran"

# A command's stderr need not be UTF-8: its tail and the failure are stored
# with the bad bytes replaced, not refused (nor quarantined).
cat >"$T/stderr.json" <<'EOF2'
{"suite": "stderr", "benchmarks": [{"name": "s", "repetitions": 1, "shell": "printf 'bad \\377 byte\\n' >&2; exit 1"}]}
EOF2
rm -rf "$PERFGATE_HOME/spool"
expect_exit 3 "a failing command with non-UTF-8 stderr is an invalid run (3), not input (2)" \
	"$PERFGATE" run --db "$DB" "$T/stderr.json"
eq "that run was stored" "$(q "select count(*) from runs where suite='stderr'")" 1
eq "its stderr tail is UTF-8 in the document" \
	"$(q "select document->'benchmarks'->0->>'stderr_tail' from runs where suite='stderr'")" "bad ? byte"
check "nothing quarantined for it" test ! -d "$PERFGATE_HOME/spool/quarantine"
