#!/bin/sh
# perfgate push: storing run documents, idempotency by run_id, invalid
# documents rejected with their JSON path and nothing written, and the
# spool: push while the server is down (exit 4, spooled), restart,
# push --spooled, and every run is there exactly once.
. tests/integration/lib.sh
T=$(mktemp -d /tmp/perfgate-it.XXXXXX)
chmod 755 "$T"
cleanup() {
	[ -e "$T/home/pg" ] && PERFGATE_HOME="$T/home" "$PERFGATE" db stop >/dev/null 2>&1
	l=$(readlink "$T/home/pg" 2>/dev/null) && case "$l" in /var/lib/perfgate/clusters/?*) rm -rf "$l" ;; esac
	rm -rf "$T"
}
trap cleanup EXIT
unset PERFGATE_DATABASE_URL PGHOST PGSERVICE
export PERFGATE_HOME="$T/home"
EX=examples/run-example.json
RUN_ID=3f1c2a9e-7b4d-4c1e-9a55-0d2e8f6b1c01

# mkrun N: a copy of the example with its own run_id (last two digits N).
mkrun() {
	sed "s/0d2e8f6b1c01/0d2e8f6b1c$(printf %02d "$1")/" "$EX" >"$T/run$1.json"
	echo "$T/run$1.json"
}
q() { psql_q "$DB" "$1"; }
eq() { # NAME GOT WANT
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1: got '$2', want '$3'"; fi
}

DB=$(new_db push)
expect_exit 0 "push a run document" "$PERFGATE" push --db "$DB" "$EX"
contains "push says it stored the run" "$OUT" "stored run $RUN_ID"
eq "one runs row" "$(q "select count(*) from runs")" 1
# The example holds gzip-6 (wall, max_rss) and gzip-9 (wall): three results rows.
eq "one results row per benchmark and metric" "$(q "select count(*) from results")" 3
eq "samples stored per repetition" \
	"$(q "select array_to_string(samples, ' ') from results where benchmark='gzip-9' and metric='wall'")" \
	"0.2513 0.249 0.2532 0.2501 0.2498"
# Median of 0.1021 0.0998 0.1012 0.1005 0.1030 is 0.1012.
eq "summary median stored" "$(q "select median from results where benchmark='gzip-6' and metric='wall'")" 0.1012
eq "direction and unit stored" "$(q "select direction || ' ' || unit from results where metric='max_rss'")" "lower B"
eq "git columns stored" "$(q "select commit_sha || ' ' || branch || ' ' || parents[1] from runs")" \
	"8c3e1f0a9b2d4c6e8f0a1b3c5d7e9f1a2b4c6d8e main 1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"
eq "the machine row exists" "$(q "select count(*) from machines where fingerprint='3f1d2c9a8b7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c'")" 1
eq "the document is kept" "$(q "select document->'tags'->>'purpose' from runs")" example
eq "started_at stored as a timestamp" "$(q "select started_at = '2026-11-28T10:00:00Z'::timestamptz from runs")" t

expect_exit 0 "pushing the same run again exits 0" "$PERFGATE" push --db "$DB" "$EX"
contains "second push says already stored" "$OUT" "already stored"
eq "still one runs row" "$(q "select count(*) from runs")" 1
eq "still three results rows" "$(q "select count(*) from results")" 3

# Invalid documents: exit 2, the JSON path, nothing written (even the valid one before it).
R2=$(mkrun 2)
sed 's/0.0998/"fast"/' "$(mkrun 3)" >"$T/bad.json"
expect_exit 2 "an invalid document exits 2" "$PERFGATE" push --db "$DB" "$R2" "$T/bad.json"
contains "the error names the file" "$ERR" "bad.json"
contains "the error names the JSON path" "$ERR" "benchmarks[0].metrics[0].samples[1]"
eq "nothing written for an invalid push" "$(q "select count(*) from runs")" 1
printf '{"run_id": "x",' >"$T/broken.json"
expect_exit 2 "broken JSON exits 2" "$PERFGATE" push --db "$DB" "$T/broken.json"
expect_exit 2 "a missing file exits 2" "$PERFGATE" push --db "$DB" "$T/nonexistent.json"
contains "the missing file is named" "$ERR" "nonexistent.json"
expect_exit 2 "push without arguments exits 2" "$PERFGATE" push --db "$DB"
# A run_id that the store cannot take (not a UUID) is invalid input, not an outage.
sed 's/3f1c2a9e-7b4d-4c1e-9a55-0d2e8f6b1c01/abcdef12/' "$EX" >"$T/shortid.json"
expect_exit 2 "a run_id that is not a UUID exits 2" "$PERFGATE" push --db "$DB" "$T/shortid.json"
eq "and writes nothing" "$(q "select count(*) from runs")" 1

expect_exit 0 "several files in one push" "$PERFGATE" push --db "$DB" "$R2" "$(mkrun 4)"
eq "three runs now" "$(q "select count(*) from runs")" 3

# The spool: the embedded cluster reached through an explicit URL, so that
# stopping it makes the database unreachable (no start on demand).
check "start a private server" "$PERFGATE" db start
SOCK=$(cd "$T/home/pg" && pwd -P)
URL="postgresql:///postgres?host=$SOCK&user=perfgate"
expect_exit 0 "push run 5 while the server is up" "$PERFGATE" push --db "$URL" "$(mkrun 5)"
check "stop the server" "$PERFGATE" db stop
expect_exit 4 "push while the server is down exits 4" "$PERFGATE" push --db "$URL" "$(mkrun 5)" "$(mkrun 6)" "$(mkrun 7)"
contains "the message says the database is unreachable" "$ERR" "database unreachable"
contains "the message says where the run went" "$ERR" "$T/home/spool/3f1c2a9e-7b4d-4c1e-9a55-0d2e8f6b1c06.json"
n=$(ls "$T/home/spool" | grep -c '\.json$')
eq "three runs spooled" "$n" 3
expect_exit 4 "push --spooled while still down exits 4" "$PERFGATE" push --spooled --db "$URL"
eq "the spool is kept while down" "$(ls "$T/home/spool" | grep -c '\.json$')" 3
check "restart the server" "$PERFGATE" db start
expect_exit 0 "status while runs are spooled" "$PERFGATE" db status --db "$URL"
contains "status counts the spooled runs" "$OUT" "spooled:  3 runs in $T/home/spool"
expect_exit 0 "push --spooled uploads" "$PERFGATE" push --spooled --db "$URL"
contains "run 6 stored from the spool" "$OUT" "stored run 3f1c2a9e-7b4d-4c1e-9a55-0d2e8f6b1c06"
contains "run 5 was already there" "$OUT" "run 3f1c2a9e-7b4d-4c1e-9a55-0d2e8f6b1c05 already stored"
eq "the spool is empty" "$(ls "$T/home/spool" | grep -c '\.json$')" 0
expect_exit 0 "status after the upload" "$PERFGATE" db status --db "$URL"
lacks "status shows no spooled runs any more" "$OUT" "spooled:"
eq "every run exactly once" \
	"$(psql_q "$URL" "select count(*), count(distinct run_id) from runs where run_id::text like '3f1c2a9e-7b4d-4c1e-9a55-0d2e8f6b1c0_'")" \
	"3|3"
eq "results of spooled runs stored" \
	"$(psql_q "$URL" "select count(*) from results where run_id = '3f1c2a9e-7b4d-4c1e-9a55-0d2e8f6b1c07'")" 3
expect_exit 0 "push --spooled with nothing spooled" "$PERFGATE" push --spooled --db "$URL"
contains "says nothing is spooled" "$OUT" "nothing spooled"
# A damaged spool file is reported, moved to the spool's quarantine (else
# every later push --spooled fails on it), and does not stop the others.
mkdir -p "$T/home/spool"
printf 'not json' >"$T/home/spool/damaged.json"
cp "$(mkrun 8)" "$T/home/spool/3f1c2a9e-7b4d-4c1e-9a55-0d2e8f6b1c08.json"
expect_exit 2 "a damaged spool file exits 2" "$PERFGATE" push --spooled --db "$URL"
contains "the damaged file is named" "$ERR" "damaged.json"
[ -f "$T/home/spool/quarantine/damaged.json" ] && ok "the damaged file is kept in the quarantine" || not_ok "damaged file not in the quarantine"
[ -f "$T/home/spool/damaged.json" ] && not_ok "the damaged file is still in the spool" || ok "the damaged file left the spool"
eq "the good spooled run was stored" \
	"$(psql_q "$URL" "select count(*) from runs where run_id = '3f1c2a9e-7b4d-4c1e-9a55-0d2e8f6b1c08'")" 1
