-- One row: when data last changed, the data version, and the newest import batch.
-- params: none
SELECT
    (SELECT CAST(value AS BIGINT) FROM meta WHERE key = 'data_version') AS data_version,
    (SELECT CAST(value AS TIMESTAMP) FROM meta WHERE key = 'data_changed_at') AS data_changed_at,
    (SELECT max(finished_at) FROM import_batches) AS last_import_at,
    (SELECT max(ts) FROM pain_ratings) AS last_pain_rating_at
