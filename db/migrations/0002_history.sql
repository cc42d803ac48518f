-- History, change points and the views people query (docs/history.md).
-- Views have one row per run and metric; Grafana's PostgreSQL data source
-- and psql users should read these, not the tables, so that the tables can
-- change under them.

-- `perfgate history` reads one series in commit order without joining or
-- sorting: history_points holds one row per run and metric with what the
-- history shows, filled by a trigger on results (runs are inserted before
-- their results) and kept in order by history_points_order_idx.  At 100,000
-- runs a whole series is one ordered index scan, not a 100,000-row join and
-- sort.
CREATE TABLE history_points (
    run_id       uuid NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    benchmark    text NOT NULL,
    metric       text NOT NULL,
    project      text NOT NULL,
    suite        text NOT NULL,
    branch       text,
    fingerprint  text,
    t            timestamptz NOT NULL,      -- the series order: commit time, else start time
    started_at   timestamptz NOT NULL,      -- then the start time
    commit_sha   text,
    subject      text,
    unit         text NOT NULL,
    direction    text NOT NULL,
    n            integer NOT NULL,
    median       double precision,
    ci_low       double precision,
    ci_high      double precision,
    baseline     boolean NOT NULL,          -- can be a baseline: ok, branch run, no PR, fork, dirt or interruption
    verdict      text,                      -- the newest verdict of this metric of this run
    PRIMARY KEY (run_id, benchmark, metric)
);
CREATE INDEX history_points_order_idx ON history_points (benchmark, metric, t, started_at, run_id);

CREATE FUNCTION perfgate_history_points_add() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO history_points (run_id, benchmark, metric, project, suite, branch, fingerprint,
                                t, started_at, commit_sha, subject, unit, direction, n,
                                median, ci_low, ci_high, baseline)
    SELECT r.run_id, r.benchmark, r.metric, u.project, u.suite, u.branch, u.fingerprint,
           COALESCE(u.commit_time, u.started_at), u.started_at, u.commit_sha, u.subject,
           r.unit, r.direction, r.n, r.median, r.ci_low, r.ci_high,
           r.status = 'ok' AND u.branch IS NOT NULL AND COALESCE(u.pr, 0) = 0
               AND NOT u.fork AND NOT u.dirty AND NOT u.partial
      FROM new_results r JOIN runs u ON u.run_id = r.run_id
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER results_history_points AFTER INSERT ON results
    REFERENCING NEW TABLE AS new_results
    FOR EACH STATEMENT EXECUTE FUNCTION perfgate_history_points_add();

-- Runs stored before this migration.
INSERT INTO history_points (run_id, benchmark, metric, project, suite, branch, fingerprint,
                            t, started_at, commit_sha, subject, unit, direction, n,
                            median, ci_low, ci_high, baseline)
SELECT r.run_id, r.benchmark, r.metric, u.project, u.suite, u.branch, u.fingerprint,
       COALESCE(u.commit_time, u.started_at), u.started_at, u.commit_sha, u.subject,
       r.unit, r.direction, r.n, r.median, r.ci_low, r.ci_high,
       r.status = 'ok' AND u.branch IS NOT NULL AND COALESCE(u.pr, 0) = 0
           AND NOT u.fork AND NOT u.dirty AND NOT u.partial
  FROM results r JOIN runs u ON u.run_id = r.run_id;

-- The newest verdict of each run and metric follows into history_points.
CREATE FUNCTION perfgate_history_points_verdict() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    UPDATE history_points h SET verdict = v.verdict
      FROM (SELECT DISTINCT ON (run_id, benchmark, metric) run_id, benchmark, metric, verdict
              FROM new_verdicts ORDER BY run_id, benchmark, metric, id DESC) v
     WHERE h.run_id = v.run_id AND h.benchmark = v.benchmark AND h.metric = v.metric;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER verdicts_history_points AFTER INSERT ON verdicts
    REFERENCING NEW TABLE AS new_verdicts
    FOR EACH STATEMENT EXECUTE FUNCTION perfgate_history_points_verdict();

UPDATE history_points h SET verdict = v.verdict
  FROM (SELECT DISTINCT ON (run_id, benchmark, metric) run_id, benchmark, metric, verdict
          FROM verdicts ORDER BY run_id, benchmark, metric, created_at DESC, id DESC) v
 WHERE h.run_id = v.run_id AND h.benchmark = v.benchmark AND h.metric = v.metric;

-- The newest verdict of one metric of one run, for the views.
CREATE INDEX verdicts_series_idx ON verdicts (run_id, benchmark, metric, created_at);
-- Change points of one series, and the cascade when a run is deleted.
CREATE INDEX change_points_series_idx ON change_points (project, suite, benchmark, metric, branch);
CREATE INDEX change_points_run_idx ON change_points (run_id);

-- One row per run and metric: the trend of anything, with the newest
-- verdict and whether a change point starts at this run.
CREATE VIEW perfgate_history AS
SELECT u.run_id,
       u.project,
       u.suite,
       r.benchmark,
       r.metric,
       r.unit,
       r.direction,
       u.branch,
       u.fingerprint,
       u.commit_sha,
       u.subject,
       COALESCE(u.commit_time, u.started_at) AS "time",
       u.commit_time,
       u.started_at,
       u.pr,
       u.ci_provider,
       r.status,
       r.n,
       r.min,
       r.median,
       r.mean,
       r.max,
       r.stddev,
       r.ci_low,
       r.ci_high,
       (SELECT v.verdict FROM verdicts v
         WHERE v.run_id = r.run_id AND v.benchmark = r.benchmark AND v.metric = r.metric
         ORDER BY v.created_at DESC, v.id DESC LIMIT 1) AS verdict,
       EXISTS (SELECT 1 FROM change_points cp
                WHERE cp.run_id = r.run_id AND cp.benchmark = r.benchmark
                  AND cp.metric = r.metric AND cp.branch IS NOT DISTINCT FROM u.branch
                  AND cp.fingerprint IS NOT DISTINCT FROM u.fingerprint) AS change_point
  FROM results r
  JOIN runs u ON u.run_id = r.run_id;

-- Change points with the time and commit of the first run after each, and
-- the relative size of the change (positive: the value went up).
CREATE VIEW perfgate_change_points AS
SELECT cp.project,
       cp.suite,
       cp.benchmark,
       cp.metric,
       cp.branch,
       cp.fingerprint,
       cp.run_id,
       cp.commit_sha,
       u.subject,
       COALESCE(u.commit_time, u.started_at) AS "time",
       cp.mean_before,
       cp.mean_after,
       cp.mean_after / NULLIF(cp.mean_before, 0) - 1 AS magnitude,
       cp.p_value,
       cp.created_at
  FROM change_points cp
  JOIN runs u ON u.run_id = cp.run_id;

-- The newest run of every series: what `perfgate history --list` shows.
CREATE VIEW perfgate_latest AS
SELECT DISTINCT ON (project, suite, benchmark, metric, branch, fingerprint) *
  FROM perfgate_history
 ORDER BY project, suite, benchmark, metric, branch, fingerprint, "time" DESC, started_at DESC;
