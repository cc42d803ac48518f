-- Views over the server's own metrics and the efficiency metrics
-- (docs/monitor.md), for psql and Grafana (docs/grafana-dashboard.json).
-- Numbered 0006: 0005 is the trust model's (issue 19); migrations are
-- applied by number, whichever is stored first.

-- perfgate_history's rows of metrics scraped from a server
-- (server.TARGET.METRIC[.STAT]), the name taken apart.
CREATE VIEW perfgate_server_metrics AS
SELECT h.*,
       substring(h.metric FROM '^server\.([^.]+)\.') AS target,
       split_part(substring(h.metric FROM '^server\.[^.]+\.(.*)$'), '.', 1) AS server_metric,
       NULLIF(substring(substring(h.metric FROM '^server\.[^.]+\.(.*)$') FROM '^[^.]+\.(.*)$'), '') AS stat
  FROM perfgate_history h
 WHERE h.metric LIKE 'server.%';

-- One row per run and benchmark: the work done, its energy and its cost,
-- side by side (medians over the run's repetitions; NULL where the run has
-- no such metric).
CREATE VIEW perfgate_efficiency AS
SELECT run_id, project, suite, benchmark, branch, fingerprint, commit_sha, subject, "time", started_at,
       max(median) FILTER (WHERE metric = 'throughput') AS throughput,
       max(median) FILTER (WHERE metric = 'output_token_rate') AS output_token_rate,
       max(median) FILTER (WHERE metric = 'energy') AS energy,
       max(median) FILTER (WHERE metric = 'energy_per_request') AS energy_per_request,
       max(median) FILTER (WHERE metric = 'energy_per_output_token') AS energy_per_output_token,
       max(median) FILTER (WHERE metric = 'output_tokens_per_joule') AS output_tokens_per_joule,
       max(median) FILTER (WHERE metric = 'cost_per_1k_requests') AS cost_per_1k_requests,
       max(median) FILTER (WHERE metric = 'cost_per_1m_output_tokens') AS cost_per_1m_output_tokens,
       max(unit) FILTER (WHERE metric IN ('cost_per_1k_requests', 'cost_per_1m_output_tokens')) AS currency
  FROM perfgate_history
 WHERE metric IN ('throughput', 'output_token_rate', 'energy', 'energy_per_request', 'energy_per_output_token',
                  'output_tokens_per_joule', 'cost_per_1k_requests', 'cost_per_1m_output_tokens')
 GROUP BY run_id, project, suite, benchmark, branch, fingerprint, commit_sha, subject, "time", started_at
HAVING count(*) FILTER (WHERE metric NOT IN ('throughput', 'output_token_rate')) > 0;
