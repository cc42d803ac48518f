-- perfgate's store (DESIGN section 6).  Every value is in SI base units.

CREATE TABLE machines (
    fingerprint  text PRIMARY KEY,          -- hash of the hardware class
    facts        jsonb NOT NULL,            -- what the hash covers, plus unhashed state
    first_seen   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE runs (
    run_id       uuid PRIMARY KEY,
    project      text NOT NULL,
    suite        text NOT NULL,
    commit_sha   text,                      -- NULL outside a git repository
    branch       text,
    dirty        boolean NOT NULL DEFAULT false,
    shallow      boolean NOT NULL DEFAULT false,
    commit_time  timestamptz,
    subject      text,
    parents      text[] NOT NULL DEFAULT '{}',
    remote       text,
    ci_provider  text NOT NULL DEFAULT 'local',
    ci_event     text,
    ci_job_url   text,
    pr           integer,                   -- pull/merge request number
    base_branch  text,
    fork         boolean NOT NULL DEFAULT false,
    fingerprint  text REFERENCES machines (fingerprint),
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz,
    partial      boolean NOT NULL DEFAULT false,
    tags         jsonb NOT NULL DEFAULT '{}',
    document     jsonb NOT NULL,            -- the run document exactly as pushed
    stored_at    timestamptz NOT NULL DEFAULT now()
);

-- Baseline selection: same project, suite, machine, branch; newest first.
CREATE INDEX runs_baseline_idx ON runs (project, suite, fingerprint, branch, started_at DESC);
CREATE INDEX runs_commit_idx ON runs (commit_sha);

CREATE TABLE results (
    id           bigserial PRIMARY KEY,
    run_id       uuid NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    benchmark    text NOT NULL,
    kind         text NOT NULL,
    config_hash  text,
    params       jsonb NOT NULL DEFAULT '{}',
    status       text NOT NULL DEFAULT 'ok',
    metric       text NOT NULL,
    unit         text NOT NULL,
    direction    text NOT NULL CHECK (direction IN ('lower', 'higher')),
    n            integer NOT NULL,
    min          double precision,
    median       double precision,
    mean         double precision,
    max          double precision,
    stddev       double precision,
    ci_low       double precision,
    ci_high      double precision,
    samples      double precision[] NOT NULL,   -- one value per repetition
    extra        jsonb,                         -- histogram, percentiles, source of counts...
    UNIQUE (run_id, benchmark, metric)
);

-- History of one metric: benchmark, metric, then the run.
CREATE INDEX results_series_idx ON results (benchmark, metric, run_id);

CREATE TABLE verdicts (
    id           bigserial PRIMARY KEY,
    run_id       uuid NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    benchmark    text NOT NULL,
    metric       text NOT NULL,
    verdict      text NOT NULL,             -- regression, improvement, unchanged, ...
    baseline_runs uuid[] NOT NULL DEFAULT '{}',
    ratio        double precision,
    ratio_low    double precision,
    ratio_high   double precision,
    p_value      double precision,
    p_adjusted   double precision,
    details      jsonb,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX verdicts_run_idx ON verdicts (run_id);

CREATE TABLE change_points (
    id           bigserial PRIMARY KEY,
    project      text NOT NULL,
    suite        text NOT NULL,
    benchmark    text NOT NULL,
    metric       text NOT NULL,
    fingerprint  text,
    branch       text NOT NULL,
    run_id       uuid NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE, -- first run after the change
    commit_sha   text,
    mean_before  double precision,
    mean_after   double precision,
    p_value      double precision,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (project, suite, benchmark, metric, fingerprint, branch, run_id)
);
