#!/bin/sh
# The history figure (issue 6): `perfgate history` of one metric over
# 100,000 stored runs returns in under 100 ms.
#
# Bulk-loads RUNS runs (default 100,000; each with 2 benchmarks x 2 metrics,
# so 4 x RUNS result rows) into a fresh database with SQL generate_series,
# ANALYZEs, then times `perfgate history` end to end (process start,
# connection, query, output) as the median of 11 runs for: the default
# (newest 100 runs, table) and the whole series (--limit 0, CSV, RUNS rows).
# Also prints the plan (EXPLAIN ANALYZE) of the whole-series query.
#
# Usage: tests/perf/history_bulk.sh [URL]   (an empty database; migrations
#        are applied by perfgate).  Without URL, a throwaway PostgreSQL server
#        is started (tests/integration/lib.sh) and stopped at the end.
#        PERFGATE names the binary.
set -eu
if [ $# -ge 1 ]; then
	URL=$1
else
	. tests/integration/lib.sh
	PGTMP=$(mktemp -d /tmp/perfgate-bench-pg.XXXXXX)
	chmod 755 "$PGTMP"
	pg_start "$PGTMP/pg" || { echo "history_bulk: cannot start PostgreSQL" >&2; exit 1; }
	trap 'pg_stop; rm -rf "$PGTMP"' EXIT
	URL=$(new_db bench)
fi
RUNS=${RUNS:-100000}
PERFGATE=${PERFGATE:-build/perfgate}

"$PERFGATE" db migrate --db "$URL" >/dev/null
t0=$(date +%s%N)
psql "$URL" -q -v ON_ERROR_STOP=1 <<SQL
INSERT INTO machines (fingerprint, facts) VALUES ('bulk0000fingerprint', '{}');
INSERT INTO runs (run_id, project, suite, commit_sha, branch, commit_time, subject,
                  fingerprint, started_at, document)
SELECT md5('run' || g)::uuid, 'bulk', 'demo', md5('commit' || g), 'main',
       timestamptz '2020-01-01' + g * interval '10 minutes', 'commit number ' || g,
       'bulk0000fingerprint', timestamptz '2020-01-01' + g * interval '10 minutes' + interval '1 minute',
       '{}'::jsonb
  FROM generate_series(1, $RUNS) g;
INSERT INTO results (run_id, benchmark, kind, metric, unit, direction, n, min, median, mean, max,
                     stddev, ci_low, ci_high, samples)
SELECT md5('run' || g)::uuid, b, 'command', m, CASE m WHEN 'wall' THEN 's' ELSE 'B' END, 'lower', 10,
       v * 0.98, v, v, v * 1.02, v * 0.01, v * 0.99, v * 1.01, ARRAY[v, v, v]
  FROM generate_series(1, $RUNS) g,
       (VALUES ('gzip-6'), ('gzip-9')) AS bb(b),
       (VALUES ('wall'), ('max_rss')) AS mm(m),
       LATERAL (SELECT (CASE m WHEN 'wall' THEN 0.012 ELSE 2e6 END)
                       * (1 + 0.2 * (g > $RUNS / 2)::int + 0.01 * sin(g)) AS v) AS vv;
VACUUM ANALYZE;
SQL
t1=$(date +%s%N)
echo "bulk load of $RUNS runs ($((RUNS * 4)) result rows): $(( (t1 - t0) / 1000000 )) ms"

median_ms() { # command...: median wall time of 11 runs, in ms
	i=0
	: >/tmp/perfgate-history-times.$$
	while [ $i -lt 11 ]; do
		a=$(date +%s%N)
		"$@" >/dev/null
		b=$(date +%s%N)
		echo $(( (b - a) / 1000 )) >>/tmp/perfgate-history-times.$$
		i=$((i + 1))
	done
	sort -n /tmp/perfgate-history-times.$$ | sed -n 6p | awk '{ printf "%.1f", $1 / 1000 }'
	rm -f /tmp/perfgate-history-times.$$
}

rows=$("$PERFGATE" history --db "$URL" gzip-6/wall --limit 0 --format csv | wc -l)
echo "history gzip-6/wall --limit 0 returns $((rows - 1)) rows"
echo "perfgate history gzip-6/wall (newest 100, table):   $(median_ms "$PERFGATE" history --db "$URL" gzip-6/wall) ms (median of 11)"
echo "perfgate history gzip-6/wall --limit 0 --format csv: $(median_ms "$PERFGATE" history --db "$URL" gzip-6/wall --limit 0 --format csv) ms (median of 11)"
echo "perfgate history gzip-6/wall --limit 0 --format json: $(median_ms "$PERFGATE" history --db "$URL" gzip-6/wall --limit 0 --format json) ms (median of 11)"
echo "perfgate history gzip-6/wall --explain-analyze (newest 100, server side):"
"$PERFGATE" history --db "$URL" gzip-6/wall --explain-analyze | grep -E "Index|Execution Time" | sed 's/^/  /'
# The same rows fetched by psql, for the ratio: what any client pays.
Q="SELECT run_id, commit_sha, subject, extract(epoch FROM t)::float8, branch, fingerprint, project,
 suite, median, ci_low, ci_high, n, unit, direction, verdict FROM history_points
 WHERE benchmark = 'gzip-6' AND metric = 'wall'
 ORDER BY benchmark DESC, metric DESC, t DESC, started_at DESC, run_id DESC"
echo "psql, the same 100 newest rows:                     $(median_ms psql "$URL" -qAt -c "$Q LIMIT 100") ms (median of 11)"
echo "psql, the same $RUNS rows:                        $(median_ms psql "$URL" -qAt -c "$Q") ms (median of 11)"
echo "psql -c 'SELECT 1' (connection alone):              $(median_ms psql "$URL" -qAt -c "SELECT 1") ms (median of 11)"
echo "perfgate history --list:                            $(median_ms "$PERFGATE" history --db "$URL" --list) ms (median of 11)"
echo "1-minute load average at the end: $(cut -d' ' -f1 /proc/loadavg) on $(nproc) cores"
echo "plan of the whole-series query:"
"$PERFGATE" history --db "$URL" gzip-6/wall --limit 0 --explain-analyze | sed 's/^/  /'
