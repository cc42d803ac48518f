-- Comparisons made by `perfgate compare` and `perfgate gate` (docs/gate.md):
-- the whole comparison as schemas/compare.schema.json describes it, so that
-- `perfgate report RUN_ID` re-renders it exactly.  The per-metric verdicts
-- also go into the verdicts table (0001) for queries and dashboards.

CREATE TABLE comparisons (
    id           bigserial PRIMARY KEY,
    run_id       uuid NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    passed       boolean NOT NULL,
    result       jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX comparisons_run_idx ON comparisons (run_id, created_at DESC);
