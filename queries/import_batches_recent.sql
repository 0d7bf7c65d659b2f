-- One row per applied import batch, newest first: when, what, how many rows.
-- params: $limit
SELECT
    finished_at,
    rows_accepted,
    rows_rejected,
    source,
    via,
    files,
    batch_id
FROM import_batches
ORDER BY finished_at DESC
LIMIT $limit
