-- Shard groups (docs/shards.md): the shards of one load test meet here to
-- start together, and keep their run documents here, apart from the runs
-- table, so that a shard's share of the load is never a baseline or a
-- point of history; the merged run goes to runs like any other (its
-- document names the group).  Insert-only, like everything the writer
-- role of docs/ci.md may touch: a shard re-run (a retried pod) adds a
-- document, and the latest of each shard is the one merged.

CREATE TABLE shard_groups (
    group_id     text PRIMARY KEY,
    shards       integer NOT NULL CHECK (shards >= 1),
    config_hash  text NOT NULL,               -- core/shard.h shard_config_hash
    wait         interval NOT NULL,           -- how long a rendezvous waits for the others
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- The rendezvous: one row per shard and load step, stamped by the server's
-- clock, the one clock every shard reads.
CREATE TABLE shard_arrivals (
    group_id     text NOT NULL REFERENCES shard_groups (group_id) ON DELETE CASCADE,
    step         integer NOT NULL,
    shard        integer NOT NULL,            -- 0-based
    arrived_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (group_id, step, shard)
);

CREATE TABLE shard_runs (
    run_id       uuid PRIMARY KEY,
    group_id     text NOT NULL REFERENCES shard_groups (group_id) ON DELETE CASCADE,
    shard        integer NOT NULL,            -- 0-based
    config_hash  text NOT NULL,
    document     jsonb NOT NULL,
    stored_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX shard_runs_group_idx ON shard_runs (group_id, shard, stored_at DESC);
