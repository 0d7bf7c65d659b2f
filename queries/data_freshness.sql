-- One row: when data last changed, the data version, the newest import batch, and the as-of
-- day, data version and SQL the store's kept answers were computed for (dashboard/kept.py).
-- params: none
SELECT
    (SELECT CAST(value AS BIGINT) FROM meta WHERE key = 'data_version') AS data_version,
    (SELECT CAST(value AS TIMESTAMP) FROM meta WHERE key = 'data_changed_at') AS data_changed_at,
    (SELECT max(finished_at) FROM import_batches) AS last_import_at,
    (SELECT max(ts) FROM pain_ratings) AS last_pain_rating_at,
    (SELECT value FROM meta WHERE key = 'kept_as_of') AS kept_as_of,
    (SELECT value FROM meta WHERE key = 'kept_version') AS kept_version,
    (SELECT value FROM meta WHERE key = 'kept_code') AS kept_code
