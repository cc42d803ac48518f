-- Least-privilege roles (docs/ci.md): baseline jobs connect as a writer that
-- may SELECT and INSERT but never UPDATE or DELETE, so no CI job can change
-- or remove a stored run.  What perfgate maintains beside the runs (the
-- history_points table the triggers keep, the change points recomputed after
-- a push) is changed through these functions, which run with the rights of
-- the role that applied the migrations, and touch only that derived data.

ALTER FUNCTION perfgate_history_points_add() SECURITY DEFINER SET search_path = public;
ALTER FUNCTION perfgate_history_points_verdict() SECURITY DEFINER SET search_path = public;

-- Forget the stored change points of one series at the given runs (the
-- stretch a new analysis replaces).
CREATE FUNCTION perfgate_changepoints_clear(p_project text, p_suite text, p_benchmark text,
                                            p_metric text, p_fingerprint text, p_branch text,
                                            p_runs uuid[])
RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = public AS $fn$
    DELETE FROM change_points
     WHERE project = p_project AND suite = p_suite AND benchmark = p_benchmark
       AND metric = p_metric AND fingerprint IS NOT DISTINCT FROM p_fingerprint
       AND branch = p_branch AND run_id = ANY (p_runs);
$fn$;
