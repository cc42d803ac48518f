-- Baseline eligibility decided when a run is stored (issue 19, docs/security.md).
--
-- Whether a run may ever be a baseline is decided by perfgate when it stores
-- the run, from what it established itself (a run it measured, a spool file
-- it signed, or a document a writer vouched for with push --baseline-eligible),
-- and kept here; baseline selection and change points read only this column,
-- never the fields a run document claims.  not_baseline says why a run is not
-- one ("a pushed run document", "a pull or merge request run", ...).
ALTER TABLE runs ADD COLUMN baseline_eligible boolean NOT NULL DEFAULT false;
ALTER TABLE runs ADD COLUMN not_baseline text;

-- Runs stored before this migration keep the rule they were stored under:
-- a branch build on a branch, no pull request, not a fork, a clean tree, a
-- whole run; now also a CI event that is a branch build and a start time not
-- in the future.  (perfgate did not know then who wrote their documents:
-- docs/security.md says how to find runs pushed before.)
UPDATE runs SET
    baseline_eligible = branch IS NOT NULL AND coalesce(pr, 0) = 0 AND NOT fork AND NOT dirty
        AND NOT partial AND started_at <= now() + interval '5 minutes'
        AND (ci_provider = 'local'
             OR (ci_provider = 'github' AND ci_event IN ('push', 'schedule', 'workflow_dispatch'))
             OR (ci_provider = 'gitlab' AND ci_event IN ('push', 'schedule', 'web', 'api', 'trigger',
                                                         'pipeline', 'parent_pipeline'))),
    not_baseline = CASE
        WHEN coalesce(pr, 0) <> 0 THEN 'a pull or merge request run'
        WHEN fork THEN 'a run from a fork'
        WHEN dirty THEN 'a dirty tree (uncommitted changes)'
        WHEN partial THEN 'a partial run'
        WHEN branch IS NULL THEN 'no branch'
        WHEN started_at > now() + interval '5 minutes' THEN 'a start time in the future'
        WHEN ci_provider NOT IN ('local', 'github', 'gitlab') OR ci_event IS NULL
             OR ci_event NOT IN ('push', 'schedule', 'workflow_dispatch', 'web', 'api', 'trigger',
                                 'pipeline', 'parent_pipeline')
            THEN 'not a branch build (its CI event is not a push, schedule or manual run)'
    END;
UPDATE runs SET not_baseline = 'not a branch build (its CI event is not a push, schedule or manual run)'
 WHERE NOT baseline_eligible AND not_baseline IS NULL;

-- The history's baseline flag (the series change points are found in)
-- follows the same decision.
CREATE OR REPLACE FUNCTION perfgate_history_points_add() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public AS $fn$
BEGIN
    INSERT INTO history_points (run_id, benchmark, metric, project, suite, branch, fingerprint,
                                t, started_at, commit_sha, subject, unit, direction, n,
                                median, ci_low, ci_high, baseline)
    SELECT r.run_id, r.benchmark, r.metric, u.project, u.suite, u.branch, u.fingerprint,
           COALESCE(u.commit_time, u.started_at), u.started_at, u.commit_sha, u.subject,
           r.unit, r.direction, r.n, r.median, r.ci_low, r.ci_high,
           r.status = 'ok' AND u.baseline_eligible AND u.branch IS NOT NULL
               AND COALESCE(u.pr, 0) = 0 AND NOT u.fork AND NOT u.dirty AND NOT u.partial
      FROM new_results r JOIN runs u ON u.run_id = r.run_id
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$fn$;

UPDATE history_points h SET baseline = false
  FROM runs u
 WHERE u.run_id = h.run_id AND h.baseline AND NOT u.baseline_eligible;

-- Baseline selection: the eligible runs of a series, newest first.
CREATE INDEX runs_eligible_idx ON runs (project, suite, fingerprint, branch, started_at DESC)
    WHERE baseline_eligible;
