-- The machine's recorded spread between runs (docs/statistics.md, "The floor
-- of a short history"): every gate asks for the consecutive baseline runs of
-- every series on its hardware fingerprint; this index serves that scan.
CREATE INDEX history_points_fingerprint_idx ON history_points (fingerprint, started_at);
