-- The machine's record of run-to-run changes (docs/statistics.md, "The
-- machine's record of run-to-run changes") is of each benchmark as it is
-- configured now.  A change of configuration (a new command, a new
-- calibration probe) is not a change of the machine's speed, and the
-- changes a benchmark showed under an older configuration (an older probe's
-- wider ones) are not what it shows now.  history_points keeps each point's
-- configuration hash so that the record can tell them apart.
ALTER TABLE history_points ADD COLUMN config_hash text;

UPDATE history_points h SET config_hash = r.config_hash
  FROM results r
 WHERE r.run_id = h.run_id AND r.benchmark = h.benchmark AND r.metric = h.metric;

-- 0007's function, with the configuration hash.
CREATE OR REPLACE FUNCTION perfgate_history_points_add() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public AS $fn$
BEGIN
    INSERT INTO history_points (run_id, benchmark, metric, project, suite, branch, fingerprint,
                                t, started_at, commit_sha, subject, unit, direction, n,
                                median, ci_low, ci_high, baseline, config_hash)
    SELECT r.run_id, r.benchmark, r.metric, u.project, u.suite, u.branch, u.fingerprint,
           COALESCE(u.commit_time, u.started_at), u.started_at, u.commit_sha, u.subject,
           r.unit, r.direction, r.n, r.median, r.ci_low, r.ci_high,
           r.status = 'ok' AND u.baseline_eligible AND u.branch IS NOT NULL
               AND COALESCE(u.pr, 0) = 0 AND NOT u.fork AND NOT u.dirty AND NOT u.partial,
           r.config_hash
      FROM new_results r JOIN runs u ON u.run_id = r.run_id
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$fn$;
