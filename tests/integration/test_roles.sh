#!/bin/sh
# The database roles of docs/ci.md work as documented: the owner migrates,
# the writer (SELECT and INSERT only) stores runs and comparisons, the reader
# (SELECT only) gates a pull request with --no-store, and neither can change
# or remove a stored run.
. tests/integration/lib.sh
T=$(test_tmpdir)

DB=$(new_db roles)
ADMIN="$DB"
db_as() { # ROLE: the test database's URL for that role
	echo "$DB" | sed "s/user=postgres/user=$1/"
}
# The SQL exactly as docs/ci.md gives it, with the passwords and the
# database name adapted to this throwaway server (trust authentication).
dbname=$(echo "$DB" | sed 's|postgresql:///\([^?]*\)?.*|\1|')
sed -n '/^CREATE ROLE perfgate_owner/,/^```/p' docs/ci.md | grep -v '^```' |
	sed -e "s/ PASSWORD '\.\.\.'//" -e '/^CREATE DATABASE/d' -e '/^\\connect/d' \
	    -e "s/DATABASE perf /DATABASE \"$dbname\" /" >"$T/roles.sql"
psql "$ADMIN" -qAt -c "DROP ROLE IF EXISTS perfgate_owner" -c "DROP ROLE IF EXISTS perfgate_writer" \
	-c "DROP ROLE IF EXISTS perfgate_reader" >/dev/null 2>&1
psql "$ADMIN" -q -v ON_ERROR_STOP=1 -f "$T/roles.sql" >"$T/roles.out" 2>&1 &&
	ok "the roles SQL in docs/ci.md runs" || not_ok "roles SQL: $(head -c 300 "$T/roles.out")"
psql "$ADMIN" -qAt -c "ALTER DATABASE \"$dbname\" OWNER TO perfgate_owner" -c "GRANT ALL ON SCHEMA public TO perfgate_owner" >/dev/null

expect_exit 0 "the owner migrates" "$PERFGATE" db migrate --db "$(db_as perfgate_owner)"

mkdir -p "$T/w"
cat >"$T/w/suite.json" <<'JSON'
{"suite": "roles", "benchmarks": [{"name": "t", "command": ["true"], "repetitions": 3}]}
JSON
cd "$T/w" || exit 1
expect_exit 0 "the writer stores a run (gate on a baseline branch)" \
	"$PERFGATE" gate suite.json --db "$(db_as perfgate_writer)" --no-confirm -q
expect_exit 0 "the writer pushes a run document" \
	"$PERFGATE" run suite.json --db "$(db_as perfgate_writer)" -q --out "$T/run.json"
expect_exit 0 "the reader gates with --no-store" \
	"$PERFGATE" gate suite.json --db "$(db_as perfgate_reader)" --no-store --no-confirm -q
n=$(psql "$ADMIN" -qAt -c "select count(*) from runs")
[ "$n" = 2 ] && ok "two runs stored, none by the reader" || not_ok "runs stored: $n"
if psql "$(db_as perfgate_writer)" -qAt -c "DELETE FROM runs" >/dev/null 2>&1; then
	not_ok "the writer could delete runs"
else
	ok "the writer cannot delete runs"
fi
if psql "$(db_as perfgate_writer)" -qAt -c "UPDATE runs SET branch = 'main'" >/dev/null 2>&1; then
	not_ok "the writer could change runs"
else
	ok "the writer cannot change runs"
fi
if psql "$(db_as perfgate_reader)" -qAt -c "INSERT INTO machines (fingerprint, facts) VALUES ('x', '{}')" >/dev/null 2>&1; then
	not_ok "the reader could insert"
else
	ok "the reader cannot insert"
fi
expect_exit 0 "the reader reads history" "$PERFGATE" history t/wall --db "$(db_as perfgate_reader)"
psql "$ADMIN" -qAt -c "REASSIGN OWNED BY perfgate_owner TO postgres" -c "DROP OWNED BY perfgate_owner" \
	-c "DROP OWNED BY perfgate_writer" -c "DROP OWNED BY perfgate_reader" >/dev/null 2>&1
exit 0
